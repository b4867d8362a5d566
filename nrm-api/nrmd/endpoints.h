/*
 * endpoints.h - the table of every HTTP endpoint nrmd serves (method,
 * path pattern, handler, who may call it: the auth column http.c
 * applies before the handler), and the handlers' entry points.  A
 * handler is called only for a caller its row lets through.  `nrmd
 * --list-routes` prints the table; a test checks it against
 * nrm-api/openapi.yaml.
 */
#ifndef NRM_ENDPOINTS_H
#define NRM_ENDPOINTS_H

#include "http.h"

struct nrm_waiter;
struct nrm_waiters;

/* The table, for nrm_http_start(); *n receives its length. */
const struct nrm_endpoint *nrm_endpoints(size_t *n);

/* Print "METHOD /pattern" lines. */
void nrm_endpoints_print(void *stream);

/* Handlers (one file each per resource). */
void nrm_h_healthz(struct nrm_req *r);
void nrm_h_readyz(struct nrm_req *r);
void nrm_h_metrics(struct nrm_req *r);
void nrm_h_signal_create(struct nrm_req *r);
void nrm_h_signal_get(struct nrm_req *r);
void nrm_h_signal_list(struct nrm_req *r);
/* POST /v1/signals/{id}/followups {"text"} (Idempotency-Key) */
void nrm_h_followup_add(struct nrm_req *r);
void nrm_h_inbox(struct nrm_req *r);
/* The inbox's callbacks for the waiter registry (waiters.h). */
void nrm_h_inbox_requery(
    struct nrm_waiters *reg, struct nrm_waiter **ws, int n);
void nrm_h_inbox_answer_empty(struct nrm_waiter *w);
bool nrm_h_inbox_same(const struct nrm_waiter *a, const struct nrm_waiter *b);
/* POST /v1/cases/{id}/take, decline, transfer (and its accept, refuse),
 * close, reopen. */
void nrm_h_case_act(struct nrm_req *r);
/* POST /v1/cases/{id}/handover {"person"}, merge {"into", "reason"},
 * contact {"at", "mode"}. */
void nrm_h_case_handover(struct nrm_req *r);
void nrm_h_case_merge(struct nrm_req *r);
void nrm_h_case_contact(struct nrm_req *r);
void nrm_h_case_find(struct nrm_req *r);
void nrm_h_ident_record(struct nrm_req *r);
void nrm_h_ident_list(struct nrm_req *r);
void nrm_h_ident_queue(struct nrm_req *r);
void nrm_h_case_share(struct nrm_req *r);
/* GET /v1/overview: counts and coverage per region (handlers/overview.c). */
void nrm_h_overview(struct nrm_req *r);
void nrm_h_invest_create(struct nrm_req *r);
void nrm_h_invest_patch(struct nrm_req *r);
void nrm_h_audit_search(struct nrm_req *r);
void nrm_h_audit_verify(struct nrm_req *r);
void nrm_h_audit_checkpoints(struct nrm_req *r);
void nrm_h_audit_reviews(struct nrm_req *r);
void nrm_h_audit_review(struct nrm_req *r);
void nrm_h_routing_config(struct nrm_req *r);
void nrm_h_routing_explain(struct nrm_req *r);
/* GET /v1/statistics: one suppressed table (handlers/statistics.c). */
void nrm_h_statistics(struct nrm_req *r);
/* handlers/privacy.c: the privacy officer (issue 15) */
void nrm_h_privacy_export(struct nrm_req *r);
void nrm_h_privacy_search(struct nrm_req *r);
void nrm_h_privacy_rectify(struct nrm_req *r);
void nrm_h_privacy_erase(struct nrm_req *r);
/* GET /v1/indicators, /v1/indicators/{id} (handlers/indicators.c). */
void nrm_h_indicator_list(struct nrm_req *r);
void nrm_h_indicator_get(struct nrm_req *r);
/* POST, GET /v1/publications, GET /v1/publications/{id}
 * (handlers/publications.c). */
void nrm_h_publication_post(struct nrm_req *r);
void nrm_h_publication_list(struct nrm_req *r);
void nrm_h_publication_get(struct nrm_req *r);
void nrm_h_admin_reload(struct nrm_req *r);
/* GET /v1/admin/persons and GET /v1/admin/keys (handlers/people.c). */
void nrm_h_person_list(struct nrm_req *r);
/* POST /v1/admin/persons and POST /v1/admin/keys. */
void nrm_h_key_revoke(struct nrm_req *r);
void nrm_h_person_create(struct nrm_req *r);
/* POST /v1/admin/persons/{id}/disable, enable, reset. */
void nrm_h_person_act(struct nrm_req *r);
void nrm_h_enrol(struct nrm_req *r);
void nrm_h_session_create(struct nrm_req *r);
/* GET /v1/session (who am I) and DELETE /v1/session (log out). */
void nrm_h_session(struct nrm_req *r);
/* GET /v1/openapi.yaml and .json: the API document (handlers/web.c). */
void nrm_h_openapi(struct nrm_req *r);
/* The console's files: http's fallback for GET/HEAD (handlers/web.c). */
void nrm_h_static(struct nrm_req *r);

#endif /* NRM_ENDPOINTS_H */
