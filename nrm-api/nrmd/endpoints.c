/*
 * endpoints.c - the endpoint table (see endpoints.h); http.c matches
 * requests against it.
 */
#include "endpoints.h"
#include "handlers/carework.h"
#include "handlers/idread.h"
#include "handlers/panel.h"

#include "nrm/role.h"

#include <stdio.h>
#include <string.h>

/* The roles, named as the authorization matrix's columns
 * (docs/authorization.md). */
#define REP NRM_ROLE_REPORTER
#define CRD NRM_ROLE_COORDINATOR
#define ASR NRM_ROLE_ASSESSOR
#define INV NRM_ROLE_INVESTIGATOR
#define AUD NRM_ROLE_AUDITOR
#define ANA NRM_ROLE_ANALYST
#define ADM NRM_ROLE_ADMIN
#define CHD NRM_ROLE_CHAIN_DIRECTOR
#define PRV NRM_ROLE_PRIVACY_OFFICER

/* The auth column (http.h): who may call, audited as what on what. */
#define OPEN NRM_AUTH_OPEN, 0, NULL, NULL
#define TOKEN NRM_AUTH_TOKEN, 0, NULL, NULL
#define ROLE(roles, action, object) NRM_AUTH_ROLE, roles, action, object
#define RECORD(roles, action, object) NRM_AUTH_RECORD, roles, action, object

/* The reads of one object by the route's {id} (handlers/idread.h). */

/* The full case, personal data and history: an audited read; the
 * subject's values come sealed and are opened before the reply. */
static const struct nrm_id_read rd_case = {
    NRM_STMT_CASE_GET, NRM_ID_READ_PURPOSE};
/* The panel as the caller may see it: visible votes carry their
 * rationale sealed. */
static const struct nrm_id_read rd_panel = {
    NRM_STMT_PANEL_GET, NRM_ID_READ_SEALED};
/* Whom a handover may go to. */
static const struct nrm_id_read rd_colleagues = {
    NRM_STMT_CASE_COLLEAGUES, NRM_ID_READ_PLAIN};
/* Whom a share may go to. */
static const struct nrm_id_read rd_share_targets = {
    NRM_STMT_CASE_SHARE_TARGETS, NRM_ID_READ_PLAIN};
/* The case's notes: an audited read, each text sealed. */
static const struct nrm_id_read rd_notes = {
    NRM_STMT_NOTE_LIST, NRM_ID_READ_PURPOSE};
/* The support plan. */
static const struct nrm_id_read rd_support = {
    NRM_STMT_SUPPORT_LIST, NRM_ID_READ_PLAIN};
/* The caller's other cases of the same pseudonym (dates, regions). */
static const struct nrm_id_read rd_related = {
    NRM_STMT_CASE_RELATED, NRM_ID_READ_PLAIN};
/* The reporter's follow-ups (POST /v1/signals/{id}/followups,
 * handlers/signals.c): an audited read, each text sealed. */
static const struct nrm_id_read rd_followups = {
    NRM_STMT_FOLLOWUP_LIST, NRM_ID_READ_PURPOSE};
/* An investigation: its references come sealed. */
static const struct nrm_id_read rd_investigation = {
    NRM_STMT_INVEST_GET, NRM_ID_READ_SEALED};
/* One person account. */
static const struct nrm_id_read rd_person = {
    NRM_STMT_PERSON_GET, NRM_ID_READ_PLAIN};

/*
 * Each row: method, pattern, handler, its parameters, and who may call
 * it.  OPEN rows authenticate in their handler when they need to (the
 * metrics token, the login's password); TOKEN rows leave the role to
 * their api.* function.  support: .create or .update, the body decides
 * and the database audits which; a denial at the edge names the first.
 */
static const struct nrm_endpoint endpoints[] = {
    {"GET", "/healthz", nrm_h_healthz, NULL, OPEN},
    {"GET", "/readyz", nrm_h_readyz, NULL, OPEN},
    {"GET", "/metrics", nrm_h_metrics, NULL, OPEN},
    {"POST", "/v1/signals", nrm_h_signal_create, NULL,
	ROLE(REP, "signal.create", "signal")},
    {"GET", "/v1/signals", nrm_h_signal_list, NULL,
	ROLE(REP, "signal.list", "signal")},
    {"GET", "/v1/signals/{id}", nrm_h_signal_get, NULL, TOKEN},
    {"POST", "/v1/signals/{id}/followups", nrm_h_followup_add, NULL,
	ROLE(REP, "signal.followup.create", "signal")},
    {"GET", "/v1/inbox", nrm_h_inbox, NULL, ROLE(CRD, "inbox.list", "inbox")},
    {"GET", "/v1/cases", nrm_h_case_find, NULL,
	ROLE(CRD | ASR, "case.find", "case")},
    {"GET", "/v1/cases/{id}", nrm_h_id_read, &rd_case,
	ROLE(CRD | ASR, "case.read", "case")},
    {"POST", "/v1/cases/{id}/take", nrm_h_case_act, NULL,
	ROLE(CRD, "case.take", "case")},
    {"POST", "/v1/cases/{id}/decline", nrm_h_case_act, NULL,
	ROLE(CRD, "case.decline", "case")},
    {"POST", "/v1/cases/{id}/transfer", nrm_h_case_act, NULL,
	ROLE(CRD, "case.transfer", "case")},
    {"POST", "/v1/cases/{id}/transfer/accept", nrm_h_case_act, NULL,
	ROLE(CRD, "case.transfer_accept", "case")},
    {"POST", "/v1/cases/{id}/transfer/refuse", nrm_h_case_act, NULL,
	ROLE(CRD, "case.transfer_refuse", "case")},
    {"POST", "/v1/cases/{id}/close", nrm_h_case_act, NULL,
	ROLE(CRD, "case.close", "case")},
    {"POST", "/v1/cases/{id}/reopen", nrm_h_case_act, NULL,
	ROLE(CRD, "case.reopen", "case")},
    {"POST", "/v1/cases/{id}/contact", nrm_h_case_contact, NULL,
	ROLE(CRD, "case.contact", "case")},
    {"POST", "/v1/cases/{id}/identification", nrm_h_ident_record, NULL,
	ROLE(CRD | ASR, "identification.create", "case")},
    {"GET", "/v1/cases/{id}/identification", nrm_h_ident_list, NULL,
	ROLE(CRD | ASR, "identification.read", "case")},
    {"GET", "/v1/identifications", nrm_h_ident_queue, NULL,
	ROLE(ASR, "identification.queue", "identification")},
    {"POST", "/v1/cases/{id}/panel", nrm_h_panel_assign, NULL,
	ROLE(ASR, "panel.create", "case")},
    {"GET", "/v1/cases/{id}/panel", nrm_h_id_read, &rd_panel,
	ROLE(ASR, "panel.read", "case")},
    {"POST", "/v1/cases/{id}/panel/recusal", nrm_h_panel_recusal, NULL,
	ROLE(ASR, "panel.recuse", "case")},
    {"POST", "/v1/cases/{id}/panel/vote", nrm_h_panel_vote, NULL,
	ROLE(ASR, "panel.vote", "case")},
    {"GET", "/v1/panels/pending", nrm_h_panel_pending, NULL,
	ROLE(ASR, "panel.pending", "panel")},
    {"POST", "/v1/cases/{id}/share", nrm_h_case_share, NULL,
	ROLE(CRD, "case.share", "case")},
    {"POST", "/v1/cases/{id}/handover", nrm_h_case_handover, NULL,
	ROLE(CRD, "case.handover", "case")},
    {"GET", "/v1/cases/{id}/colleagues", nrm_h_id_read, &rd_colleagues,
	ROLE(CRD, "case.colleagues", "case")},
    {"GET", "/v1/cases/{id}/share-targets", nrm_h_id_read, &rd_share_targets,
	ROLE(CRD, "case.share_targets", "case")},
    {"POST", "/v1/cases/{id}/notes", nrm_h_note_add, NULL,
	ROLE(CRD, "case.note.create", "case")},
    {"GET", "/v1/cases/{id}/notes", nrm_h_id_read, &rd_notes,
	ROLE(CRD, "case.note.read", "case")},
    {"POST", "/v1/cases/{id}/support", nrm_h_support_post, NULL,
	ROLE(CRD, "case.support.create", "case")},
    {"GET", "/v1/cases/{id}/support", nrm_h_id_read, &rd_support,
	ROLE(CRD, "case.support.read", "case")},
    {"GET", "/v1/referrals", nrm_h_referral_list, NULL,
	ROLE(CRD, "referral.list", "referral")},
    {"POST", "/v1/referrals/{id}/accept", nrm_h_referral_answer, NULL,
	ROLE(CRD, "referral.accept", "referral")},
    {"POST", "/v1/referrals/{id}/refuse", nrm_h_referral_answer, NULL,
	ROLE(CRD, "referral.refuse", "referral")},
    {"GET", "/v1/cases/{id}/related", nrm_h_id_read, &rd_related,
	ROLE(CRD, "case.related", "case")},
    {"POST", "/v1/cases/{id}/merge", nrm_h_case_merge, NULL,
	ROLE(CRD, "case.merge", "case")},
    {"GET", "/v1/cases/{id}/followups", nrm_h_id_read, &rd_followups,
	ROLE(CRD, "case.followup.read", "case")},
    {"POST", "/v1/investigations", nrm_h_invest_create, NULL,
	ROLE(INV, "investigation.create", "investigation")},
    {"GET", "/v1/investigations/{id}", nrm_h_id_read, &rd_investigation,
	ROLE(INV, "investigation.read", "investigation")},
    {"PATCH", "/v1/investigations/{id}", nrm_h_invest_patch, NULL,
	ROLE(INV, "investigation.update", "investigation")},
    {"GET", "/v1/audit", nrm_h_audit_search, NULL,
	ROLE(AUD, "audit.search", "audit")},
    {"GET", "/v1/audit/verify", nrm_h_audit_verify, NULL,
	ROLE(AUD, "audit.verify", "audit")},
    {"GET", "/v1/audit/checkpoints", nrm_h_audit_checkpoints, NULL,
	RECORD(AUD, "audit.checkpoints.read", "audit")},
    {"GET", "/v1/audit/reviews", nrm_h_audit_reviews, NULL,
	ROLE(AUD, "audit.reviews", "audit")},
    {"POST", "/v1/audit/reviews/{id}", nrm_h_audit_review, NULL,
	ROLE(AUD, "audit.review", "audit_event")},
    {"GET", "/v1/overview", nrm_h_overview, NULL,
	ROLE(CHD | CRD, "overview.read", "overview")},
    {"GET", "/v1/routing/config", nrm_h_routing_config, NULL,
	RECORD(ADM | ANA, "routing.config.read", "routing")},
    {"POST", "/v1/routing/explain", nrm_h_routing_explain, NULL,
	RECORD(ADM | CRD | ANA, "routing.explain", "routing")},
    {"GET", "/v1/statistics", nrm_h_statistics, NULL,
	ROLE(ANA | AUD, "statistics.read", "statistics")},
    {"GET", "/v1/privacy/subjects", nrm_h_privacy_export, NULL,
	ROLE(PRV, "privacy.export", "case")},
    {"POST", "/v1/privacy/subjects", nrm_h_privacy_search, NULL,
	ROLE(PRV, "privacy.export", "subject")},
    {"POST", "/v1/privacy/cases/{id}/rectify", nrm_h_privacy_rectify, NULL,
	ROLE(PRV, "privacy.rectify", "case")},
    {"POST", "/v1/privacy/cases/{id}/erase", nrm_h_privacy_erase, NULL,
	ROLE(PRV, "privacy.erase", "case")},
    {"GET", "/v1/indicators", nrm_h_indicator_list, NULL,
	RECORD(ANA | AUD, "indicators.read", "indicators")},
    {"GET", "/v1/indicators/{id}", nrm_h_indicator_get, NULL,
	ROLE(ANA | AUD, "indicators.read", "indicators")},
    {"POST", "/v1/publications", nrm_h_publication_post, NULL,
	ROLE(ANA, "publication.create", "publication")},
    {"GET", "/v1/publications", nrm_h_publication_list, NULL,
	ROLE(ANA, "publication.list", "publication")},
    {"GET", "/v1/publications/{id}", nrm_h_publication_get, NULL,
	ROLE(ANA, "publication.read", "publication")},
    {"POST", "/v1/admin/reload", nrm_h_admin_reload, NULL,
	RECORD(ADM, "config.reload", "config")},
    {"GET", "/v1/admin/persons", nrm_h_person_list, NULL,
	ROLE(ADM, "person.list", "person")},
    {"POST", "/v1/admin/persons", nrm_h_person_create, NULL,
	ROLE(ADM, "person.create", "person")},
    {"GET", "/v1/admin/persons/{id}", nrm_h_id_read, &rd_person,
	ROLE(ADM, "person.read", "person")},
    {"POST", "/v1/admin/persons/{id}/disable", nrm_h_person_act, NULL,
	ROLE(ADM, "person.disable", "person")},
    {"POST", "/v1/admin/persons/{id}/enable", nrm_h_person_act, NULL,
	ROLE(ADM, "person.enable", "person")},
    {"POST", "/v1/admin/persons/{id}/reset", nrm_h_person_act, NULL,
	ROLE(ADM, "person.reset", "person")},
    {"GET", "/v1/admin/keys", nrm_h_person_list, NULL,
	ROLE(ADM, "key.list", "api_key")},
    {"POST", "/v1/admin/keys", nrm_h_person_create, NULL,
	ROLE(ADM, "key.create", "api_key")},
    {"POST", "/v1/admin/keys/{id}/revoke", nrm_h_key_revoke, NULL,
	ROLE(ADM, "key.revoke", "api_key")},
    {"POST", "/v1/enrol", nrm_h_enrol, NULL, OPEN},
    {"POST", "/v1/session", nrm_h_session_create, NULL, OPEN},
    {"GET", "/v1/session", nrm_h_session, NULL, TOKEN},
    {"DELETE", "/v1/session", nrm_h_session, NULL, TOKEN},
    {"GET", "/v1/openapi.yaml", nrm_h_openapi, NULL, OPEN},
    {"GET", "/v1/openapi.json", nrm_h_openapi, NULL, OPEN},
};

const struct nrm_endpoint *
nrm_endpoints(size_t *n)
{
	*n = NRM_ARRAY_LEN(endpoints);
	return endpoints;
}

void
nrm_endpoints_print(void *stream)
{
	for (size_t i = 0; i < NRM_ARRAY_LEN(endpoints); i++)
		fprintf(stream, "%s %s\n", endpoints[i].method,
		    endpoints[i].pattern);
}
