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

/* The reads of one object by the route's {id} (handlers/idread.h). */
#define RD_COORD NRM_ROLE_COORDINATOR

/* The full case, personal data and history: an audited read; the
 * subject's values come sealed and are opened before the reply. */
static const struct nrm_id_read rd_case = {RD_COORD | NRM_ROLE_ASSESSOR,
    "case.read", "case", NRM_STMT_CASE_GET, NRM_ID_READ_PURPOSE};
/* The panel as the caller may see it: visible votes carry their
 * rationale sealed. */
static const struct nrm_id_read rd_panel = {NRM_ROLE_ASSESSOR, "panel.read",
    "case", NRM_STMT_PANEL_GET, NRM_ID_READ_SEALED};
/* Whom a handover may go to. */
static const struct nrm_id_read rd_colleagues = {RD_COORD, "case.colleagues",
    "case", NRM_STMT_CASE_COLLEAGUES, NRM_ID_READ_PLAIN};
/* Whom a share may go to. */
static const struct nrm_id_read rd_share_targets = {RD_COORD,
    "case.share_targets", "case", NRM_STMT_CASE_SHARE_TARGETS,
    NRM_ID_READ_PLAIN};
/* The case's notes: an audited read, each text sealed. */
static const struct nrm_id_read rd_notes = {RD_COORD, "case.note.read", "case",
    NRM_STMT_NOTE_LIST, NRM_ID_READ_PURPOSE};
/* The support plan. */
static const struct nrm_id_read rd_support = {RD_COORD, "case.support.read",
    "case", NRM_STMT_SUPPORT_LIST, NRM_ID_READ_PLAIN};
/* The caller's other cases of the same pseudonym (dates, regions). */
static const struct nrm_id_read rd_related = {
    RD_COORD, "case.related", "case", NRM_STMT_CASE_RELATED, NRM_ID_READ_PLAIN};
/* The reporter's follow-ups (POST /v1/signals/{id}/followups,
 * handlers/signals.c): an audited read, each text sealed. */
static const struct nrm_id_read rd_followups = {RD_COORD, "case.followup.read",
    "case", NRM_STMT_FOLLOWUP_LIST, NRM_ID_READ_PURPOSE};
/* An investigation: its references come sealed. */
static const struct nrm_id_read rd_investigation = {NRM_ROLE_INVESTIGATOR,
    "investigation.read", "investigation", NRM_STMT_INVEST_GET,
    NRM_ID_READ_SEALED};

static const struct nrm_endpoint endpoints[] = {
    {"GET", "/healthz", nrm_h_healthz, NULL},
    {"GET", "/readyz", nrm_h_readyz, NULL},
    {"GET", "/metrics", nrm_h_metrics, NULL},
    {"POST", "/v1/signals", nrm_h_signal_create, NULL},
    {"GET", "/v1/signals", nrm_h_signal_list, NULL},
    {"GET", "/v1/signals/{id}", nrm_h_signal_get, NULL},
    {"POST", "/v1/signals/{id}/followups", nrm_h_followup_add, NULL},
    {"GET", "/v1/inbox", nrm_h_inbox, NULL},
    {"GET", "/v1/cases", nrm_h_case_find, NULL},
    {"GET", "/v1/cases/{id}", nrm_h_id_read, &rd_case},
    {"POST", "/v1/cases/{id}/take", nrm_h_case_act, NULL},
    {"POST", "/v1/cases/{id}/decline", nrm_h_case_act, NULL},
    {"POST", "/v1/cases/{id}/transfer", nrm_h_case_act, NULL},
    {"POST", "/v1/cases/{id}/transfer/accept", nrm_h_case_act, NULL},
    {"POST", "/v1/cases/{id}/transfer/refuse", nrm_h_case_act, NULL},
    {"POST", "/v1/cases/{id}/close", nrm_h_case_act, NULL},
    {"POST", "/v1/cases/{id}/reopen", nrm_h_case_act, NULL},
    {"POST", "/v1/cases/{id}/contact", nrm_h_case_act, NULL},
    {"POST", "/v1/cases/{id}/identification", nrm_h_ident_record, NULL},
    {"GET", "/v1/cases/{id}/identification", nrm_h_ident_list, NULL},
    {"GET", "/v1/identifications", nrm_h_ident_queue, NULL},
    {"POST", "/v1/cases/{id}/panel", nrm_h_panel_assign, NULL},
    {"GET", "/v1/cases/{id}/panel", nrm_h_id_read, &rd_panel},
    {"POST", "/v1/cases/{id}/panel/recusal", nrm_h_panel_recusal, NULL},
    {"POST", "/v1/cases/{id}/panel/vote", nrm_h_panel_vote, NULL},
    {"GET", "/v1/panels/pending", nrm_h_panel_pending, NULL},
    {"POST", "/v1/cases/{id}/share", nrm_h_case_share, NULL},
    {"POST", "/v1/cases/{id}/handover", nrm_h_case_act, NULL},
    {"GET", "/v1/cases/{id}/colleagues", nrm_h_id_read, &rd_colleagues},
    {"GET", "/v1/cases/{id}/share-targets", nrm_h_id_read, &rd_share_targets},
    {"POST", "/v1/cases/{id}/notes", nrm_h_note_add, NULL},
    {"GET", "/v1/cases/{id}/notes", nrm_h_id_read, &rd_notes},
    {"POST", "/v1/cases/{id}/support", nrm_h_support_post, NULL},
    {"GET", "/v1/cases/{id}/support", nrm_h_id_read, &rd_support},
    {"GET", "/v1/referrals", nrm_h_referral_list, NULL},
    {"POST", "/v1/referrals/{id}/accept", nrm_h_referral_answer, NULL},
    {"POST", "/v1/referrals/{id}/refuse", nrm_h_referral_answer, NULL},
    {"GET", "/v1/cases/{id}/related", nrm_h_id_read, &rd_related},
    {"POST", "/v1/cases/{id}/merge", nrm_h_case_act, NULL},
    {"GET", "/v1/cases/{id}/followups", nrm_h_id_read, &rd_followups},
    {"POST", "/v1/investigations", nrm_h_invest_create, NULL},
    {"GET", "/v1/investigations/{id}", nrm_h_id_read, &rd_investigation},
    {"PATCH", "/v1/investigations/{id}", nrm_h_invest_patch, NULL},
    {"GET", "/v1/audit", nrm_h_audit_search, NULL},
    {"GET", "/v1/audit/verify", nrm_h_audit_verify, NULL},
    {"GET", "/v1/audit/checkpoints", nrm_h_audit_checkpoints, NULL},
    {"GET", "/v1/audit/reviews", nrm_h_audit_reviews, NULL},
    {"POST", "/v1/audit/reviews/{id}", nrm_h_audit_review, NULL},
    {"GET", "/v1/overview", nrm_h_overview, NULL},
    {"GET", "/v1/routing/config", nrm_h_routing_config, NULL},
    {"POST", "/v1/routing/explain", nrm_h_routing_explain, NULL},
    {"GET", "/v1/statistics", nrm_h_statistics, NULL},
    {"GET", "/v1/privacy/subjects", nrm_h_privacy_export, NULL},
    {"POST", "/v1/privacy/subjects", nrm_h_privacy_search, NULL},
    {"POST", "/v1/privacy/cases/{id}/rectify", nrm_h_privacy_rectify, NULL},
    {"POST", "/v1/privacy/cases/{id}/erase", nrm_h_privacy_erase, NULL},
    {"GET", "/v1/indicators", nrm_h_indicator_list, NULL},
    {"GET", "/v1/indicators/{id}", nrm_h_indicator_get, NULL},
    {"POST", "/v1/publications", nrm_h_publication_post, NULL},
    {"GET", "/v1/publications", nrm_h_publication_list, NULL},
    {"GET", "/v1/publications/{id}", nrm_h_publication_get, NULL},
    {"POST", "/v1/admin/reload", nrm_h_admin_reload, NULL},
    {"GET", "/v1/admin/persons", nrm_h_person_list, NULL},
    {"POST", "/v1/admin/persons", nrm_h_person_create, NULL},
    {"GET", "/v1/admin/persons/{id}", nrm_h_person_act, NULL},
    {"POST", "/v1/admin/persons/{id}/disable", nrm_h_person_act, NULL},
    {"POST", "/v1/admin/persons/{id}/enable", nrm_h_person_act, NULL},
    {"POST", "/v1/admin/persons/{id}/reset", nrm_h_person_act, NULL},
    {"GET", "/v1/admin/keys", nrm_h_person_list, NULL},
    {"POST", "/v1/admin/keys", nrm_h_key_create, NULL},
    {"POST", "/v1/admin/keys/{id}/revoke", nrm_h_key_revoke, NULL},
    {"POST", "/v1/enrol", nrm_h_enrol, NULL},
    {"POST", "/v1/session", nrm_h_session_create, NULL},
    {"GET", "/v1/session", nrm_h_session, NULL},
    {"DELETE", "/v1/session", nrm_h_session, NULL},
    {"GET", "/v1/openapi.yaml", nrm_h_openapi, NULL},
    {"GET", "/v1/openapi.json", nrm_h_openapi, NULL},
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
