/*
 * routes.h - the table of every route nrmd serves.  `nrmd --list-routes`
 * prints it; a test checks it against nrm-api/openapi.yaml.
 */
#ifndef NRM_ROUTES_H
#define NRM_ROUTES_H

#include "http.h"

struct nrm_route {
	const char *method; /* "GET", "POST", ... */
	const char *pattern; /* "/v1/signals/{id}" */
	nrm_handler_fn fn;
};

/*
 * Find the route for `method` and `path`.  Returns it and copies a
 * "{id}" segment into param; NULL with *path_known set when the path
 * exists for other methods (405; `allow` lists them), NULL otherwise
 * (404).
 */
const struct nrm_route *nrm_route_find(const char *method, const char *path,
    char *param, size_t paramsz, bool *path_known, char *allow, size_t allowsz);

/* Print "METHOD /pattern" lines. */
void nrm_routes_print(void *stream);

/* Handlers (one file each per resource). */
void nrm_h_healthz(struct nrm_req *r);
void nrm_h_readyz(struct nrm_req *r);
void nrm_h_metrics(struct nrm_req *r);
void nrm_h_signal_create(struct nrm_req *r);
void nrm_h_signal_get(struct nrm_req *r);
void nrm_h_inbox(struct nrm_req *r);
void nrm_h_case_get(struct nrm_req *r);
void nrm_h_case_take(struct nrm_req *r);
void nrm_h_case_decline(struct nrm_req *r);
void nrm_h_case_transfer(struct nrm_req *r);
void nrm_h_case_close(struct nrm_req *r);
void nrm_h_case_reopen(struct nrm_req *r);
void nrm_h_ident_record(struct nrm_req *r);
void nrm_h_ident_list(struct nrm_req *r);
void nrm_h_case_share(struct nrm_req *r);
void nrm_h_invest_create(struct nrm_req *r);
void nrm_h_invest_get(struct nrm_req *r);
void nrm_h_invest_patch(struct nrm_req *r);
void nrm_h_audit_search(struct nrm_req *r);
void nrm_h_audit_verify(struct nrm_req *r);
void nrm_h_audit_checkpoints(struct nrm_req *r);
void nrm_h_audit_reviews(struct nrm_req *r);
void nrm_h_audit_review(struct nrm_req *r);
void nrm_h_routing_config(struct nrm_req *r);
void nrm_h_routing_explain(struct nrm_req *r);
void nrm_h_admin_reload(struct nrm_req *r);

#endif /* NRM_ROUTES_H */
