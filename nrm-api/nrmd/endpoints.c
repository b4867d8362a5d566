/*
 * endpoints.c - the endpoint table (see endpoints.h); http.c matches
 * requests against it.
 */
#include "endpoints.h"
#include "handlers/panel.h"
#include "handlers/carework.h"

#include <stdio.h>
#include <string.h>

static const struct nrm_endpoint endpoints[] = {
    {"GET", "/healthz", nrm_h_healthz},
    {"GET", "/readyz", nrm_h_readyz},
    {"GET", "/metrics", nrm_h_metrics},
    {"POST", "/v1/signals", nrm_h_signal_create},
    {"GET", "/v1/signals", nrm_h_signal_list},
    {"GET", "/v1/signals/{id}", nrm_h_signal_get},
    {"POST", "/v1/signals/{id}/followups", nrm_h_followup_add},
    {"GET", "/v1/inbox", nrm_h_inbox},
    {"GET", "/v1/cases", nrm_h_case_find},
    {"GET", "/v1/cases/{id}", nrm_h_case_get},
    {"POST", "/v1/cases/{id}/take", nrm_h_case_act},
    {"POST", "/v1/cases/{id}/decline", nrm_h_case_act},
    {"POST", "/v1/cases/{id}/transfer", nrm_h_case_act},
    {"POST", "/v1/cases/{id}/transfer/accept", nrm_h_case_act},
    {"POST", "/v1/cases/{id}/transfer/refuse", nrm_h_case_act},
    {"POST", "/v1/cases/{id}/close", nrm_h_case_act},
    {"POST", "/v1/cases/{id}/reopen", nrm_h_case_act},
    {"POST", "/v1/cases/{id}/contact", nrm_h_case_act},
    {"POST", "/v1/cases/{id}/identification", nrm_h_ident_record},
    {"GET", "/v1/cases/{id}/identification", nrm_h_ident_list},
    {"GET", "/v1/identifications", nrm_h_ident_queue},
    {"POST", "/v1/cases/{id}/panel", nrm_h_panel_assign},
    {"GET", "/v1/cases/{id}/panel", nrm_h_panel_get},
    {"POST", "/v1/cases/{id}/panel/recusal", nrm_h_panel_recusal},
    {"POST", "/v1/cases/{id}/panel/vote", nrm_h_panel_vote},
    {"GET", "/v1/panels/pending", nrm_h_panel_pending},
    {"POST", "/v1/cases/{id}/share", nrm_h_case_share},
    {"POST", "/v1/cases/{id}/handover", nrm_h_case_act},
    {"GET", "/v1/cases/{id}/colleagues", nrm_h_case_colleagues},
    {"GET", "/v1/cases/{id}/share-targets", nrm_h_case_share_targets},
    {"POST", "/v1/cases/{id}/notes", nrm_h_note_add},
    {"GET", "/v1/cases/{id}/notes", nrm_h_note_list},
    {"POST", "/v1/cases/{id}/support", nrm_h_support_post},
    {"GET", "/v1/cases/{id}/support", nrm_h_support_list},
    {"GET", "/v1/referrals", nrm_h_referral_list},
    {"POST", "/v1/referrals/{id}/accept", nrm_h_referral_answer},
    {"POST", "/v1/referrals/{id}/refuse", nrm_h_referral_answer},
    {"GET", "/v1/cases/{id}/related", nrm_h_case_related},
    {"POST", "/v1/cases/{id}/merge", nrm_h_case_act},
    {"GET", "/v1/cases/{id}/followups", nrm_h_followup_list},
    {"POST", "/v1/investigations", nrm_h_invest_create},
    {"GET", "/v1/investigations/{id}", nrm_h_invest_get},
    {"PATCH", "/v1/investigations/{id}", nrm_h_invest_patch},
    {"GET", "/v1/audit", nrm_h_audit_search},
    {"GET", "/v1/audit/verify", nrm_h_audit_verify},
    {"GET", "/v1/audit/checkpoints", nrm_h_audit_checkpoints},
    {"GET", "/v1/audit/reviews", nrm_h_audit_reviews},
    {"POST", "/v1/audit/reviews/{id}", nrm_h_audit_review},
    {"GET", "/v1/overview", nrm_h_overview},
    {"GET", "/v1/routing/config", nrm_h_routing_config},
    {"POST", "/v1/routing/explain", nrm_h_routing_explain},
    {"GET", "/v1/statistics", nrm_h_statistics},
    {"GET", "/v1/privacy/subjects", nrm_h_privacy_export},
    {"POST", "/v1/privacy/subjects", nrm_h_privacy_search},
    {"POST", "/v1/privacy/cases/{id}/rectify", nrm_h_privacy_rectify},
    {"POST", "/v1/privacy/cases/{id}/erase", nrm_h_privacy_erase},
    {"GET", "/v1/indicators", nrm_h_indicator_list},
    {"GET", "/v1/indicators/{id}", nrm_h_indicator_get},
    {"POST", "/v1/publications", nrm_h_publication_post},
    {"GET", "/v1/publications", nrm_h_publication_list},
    {"GET", "/v1/publications/{id}", nrm_h_publication_get},
    {"POST", "/v1/admin/reload", nrm_h_admin_reload},
    {"GET", "/v1/admin/persons", nrm_h_person_list},
    {"POST", "/v1/admin/persons", nrm_h_person_create},
    {"GET", "/v1/admin/persons/{id}", nrm_h_person_act},
    {"POST", "/v1/admin/persons/{id}/disable", nrm_h_person_act},
    {"POST", "/v1/admin/persons/{id}/enable", nrm_h_person_act},
    {"POST", "/v1/admin/persons/{id}/reset", nrm_h_person_act},
    {"GET", "/v1/admin/keys", nrm_h_person_list},
    {"POST", "/v1/admin/keys", nrm_h_key_create},
    {"POST", "/v1/admin/keys/{id}/revoke", nrm_h_key_revoke},
    {"POST", "/v1/enrol", nrm_h_enrol},
    {"POST", "/v1/session", nrm_h_session_create},
    {"GET", "/v1/session", nrm_h_session},
    {"DELETE", "/v1/session", nrm_h_session},
    {"GET", "/v1/openapi.yaml", nrm_h_openapi},
    {"GET", "/v1/openapi.json", nrm_h_openapi},
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
