/*
 * routing.h - loading a routing configuration directory for nrmd and
 * nrmctl: read regions.json, municipalities.csv and rules.json, hash
 * them into the rule-set version, and compile them with nrm-core's
 * router (nrm-core/route.h).
 */
#ifndef NRM_ROUTING_H
#define NRM_ROUTING_H

#include "nrm/diag.h"
#include "nrm/route.h"

/*
 * Load DIR.  The version is the hex SHA-256 over the three files (each
 * preceded by its name and length, so no two different sets hash
 * alike).  On failure returns NRM_ERR with the reasons in diag (an
 * unreadable file is an error there too) and *out NULL.
 */
int nrm_routing_load_dir(const char *dir, struct nrm_router **out,
    struct nrm_diag *diag) NRM_MUSTCHECK;

/*
 * The same, also handing over the text of municipalities.csv in *csv
 * (malloc'd, NUL-terminated; the caller frees it) so that a candidate
 * configuration can later be compiled against the same map.
 */
int nrm_routing_load_dir_csv(const char *dir, struct nrm_router **out,
    char **csv, struct nrm_diag *diag) NRM_MUSTCHECK;

/*
 * Compile a candidate configuration from texts (POST /v1/routing/explain).
 * The version is "candidate-" and the first 16 hex digits of the hash.
 */
int nrm_routing_load_texts(const char *regions, size_t regions_len,
    const char *csv, size_t csv_len, const char *rules, size_t rules_len,
    struct nrm_router **out, struct nrm_diag *diag) NRM_MUSTCHECK;

/* Called for each region nrm_routing_unstaffed() finds. */
typedef void (*nrm_routing_unstaffed_cb)(
    const struct nrm_routing_region *reg, void *arg);

/*
 * The regions of the configuration (the national desk included) that
 * have a coordinator office but whose code is among codes[0..n), the
 * regions the database knows no coordinator key or person for
 * (api.coverage_uncovered's "unstaffed"): cb for each, in configuration
 * order; the number of them.  nrmd logs them at start and reload,
 * nrmctl config check --database-url prints them.
 */
int nrm_routing_unstaffed(const struct nrm_router *rt, const char *const *codes,
    int n, nrm_routing_unstaffed_cb cb, void *arg);

/* The first error of diag as one line, for a log or an nrm_error. */
const char *nrm_routing_first_error(const struct nrm_diag *diag);

#endif /* NRM_ROUTING_H */
