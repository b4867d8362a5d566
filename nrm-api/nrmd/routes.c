/*
 * routes.c - the route table and path matching (see routes.h).
 */
#include "routes.h"

#include <stdio.h>
#include <string.h>

static const struct nrm_route routes[] = {
    {"GET", "/healthz", nrm_h_healthz},
    {"GET", "/readyz", nrm_h_readyz},
    {"GET", "/metrics", nrm_h_metrics},
    {"POST", "/v1/signals", nrm_h_signal_create},
    {"GET", "/v1/signals/{id}", nrm_h_signal_get},
    {"GET", "/v1/inbox", nrm_h_inbox},
    {"GET", "/v1/cases/{id}", nrm_h_case_get},
    {"POST", "/v1/cases/{id}/take", nrm_h_case_take},
    {"POST", "/v1/cases/{id}/decline", nrm_h_case_decline},
    {"POST", "/v1/cases/{id}/transfer", nrm_h_case_transfer},
    {"POST", "/v1/cases/{id}/close", nrm_h_case_close},
    {"POST", "/v1/cases/{id}/reopen", nrm_h_case_reopen},
    {"POST", "/v1/cases/{id}/identification", nrm_h_ident_record},
    {"GET", "/v1/cases/{id}/identification", nrm_h_ident_list},
    {"POST", "/v1/cases/{id}/share", nrm_h_case_share},
    {"POST", "/v1/investigations", nrm_h_invest_create},
    {"GET", "/v1/investigations/{id}", nrm_h_invest_get},
    {"PATCH", "/v1/investigations/{id}", nrm_h_invest_patch},
    {"GET", "/v1/audit", nrm_h_audit_search},
    {"GET", "/v1/audit/verify", nrm_h_audit_verify},
    {"GET", "/v1/audit/checkpoints", nrm_h_audit_checkpoints},
    {"GET", "/v1/audit/reviews", nrm_h_audit_reviews},
    {"POST", "/v1/audit/reviews/{id}", nrm_h_audit_review},
    {"GET", "/v1/routing/config", nrm_h_routing_config},
    {"POST", "/v1/routing/explain", nrm_h_routing_explain},
    {"POST", "/v1/admin/reload", nrm_h_admin_reload},
};

/* Match one pattern; "{id}" takes one non-empty segment. */
static bool
route_match(const char *pattern, const char *path, char *param, size_t paramsz)
{
	const char *p = pattern, *s = path;

	while (*p != '\0') {
		if (strncmp(p, "{id}", 4) == 0) {
			size_t n = strcspn(s, "/");

			if (n == 0 || n >= paramsz)
				return false;
			memcpy(param, s, n);
			param[n] = '\0';
			p += 4;
			s += n;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *s == '\0';
}

const struct nrm_route *
nrm_route_find(const char *method, const char *path, char *param,
    size_t paramsz, bool *path_known, char *allow, size_t allowsz)
{
	size_t used = 0;

	*path_known = false;
	if (allowsz > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < NRM_ARRAY_LEN(routes); i++) {
		char tmp[80];

		if (!route_match(routes[i].pattern, path, tmp, sizeof(tmp)))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			snprintf(param, paramsz, "%s", tmp);
			return &routes[i];
		}
		*path_known = true;
		if (used + strlen(routes[i].method) + 3 < allowsz)
			used += (size_t)snprintf(allow + used, allowsz - used,
			    "%s%s", used > 0 ? ", " : "", routes[i].method);
	}
	return NULL;
}

void
nrm_routes_print(void *stream)
{
	for (size_t i = 0; i < NRM_ARRAY_LEN(routes); i++)
		fprintf(stream, "%s %s\n", routes[i].method, routes[i].pattern);
}
