/*
 * route.h - the routing decision: which region gets a signal, at what
 * priority, with which deadlines, and why.
 *
 * This is the seam the rule engine (issue 3) fills.  The foundation
 * implementation routes by municipality to its safety region, to the
 * national desk when the location is unknown, and sets priority from
 * the urgency flags and the minor flag.  Callers depend only on this
 * header.  Pure: no I/O; a router is immutable once built and shared
 * read-only.
 */
#ifndef NRM_ROUTE_H
#define NRM_ROUTE_H

#include "nrm.h"
#include "geo.h"
#include "signal.h"

enum nrm_priority {
	NRM_PRIO_URGENT = 0,
	NRM_PRIO_HIGH,
	NRM_PRIO_NORMAL,
};

struct nrm_decision {
	char region[16];        /* region code or NRM_REGION_NATIONAL */
	enum nrm_priority priority;
	char rule_id[64];
	char ruleset_version[72]; /* content hash of the rule set */
	int64_t take_within;    /* seconds */
	int64_t first_contact_within; /* seconds */
	char explanation[512];  /* readable, never quotes personal data */
};

struct nrm_router;

/* A router over `geo` (borrowed: must outlive the router). */
int nrm_router_new_foundation(struct nrm_router **out,
    const struct nrm_geo *geo, struct nrm_error *err) NRM_MUSTCHECK;
void nrm_router_free(struct nrm_router *r);

/* Decide; never fails for a signal that nrm_signal_parse() accepted. */
void nrm_route(const struct nrm_router *r, const struct nrm_signal *s,
    struct nrm_decision *out);

const char *nrm_priority_name(enum nrm_priority p);

/* malloc'd compact JSON of a decision (caller frees), NULL on OOM. */
char *nrm_decision_json(const struct nrm_decision *d);

#endif /* NRM_ROUTE_H */
