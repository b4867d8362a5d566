/*
 * route.h - the routing rule engine: which region gets a signal, at what
 * priority, with which deadlines, and why.
 *
 * A router is compiled from one routing configuration (three texts the
 * caller reads from a configuration directory, see docs/routing.md):
 *   regions.json        care regions, their coordinator offices, active
 *                       flags and fallbacks, and the national desk;
 *   municipalities.csv  every municipality to its care region (the
 *                       format of config/municipalities.csv);
 *   rules.json          ordered rules, first match wins, the last one a
 *                       catch-all without conditions.
 * nrm_router_load() checks everything at once and reports every problem
 * in a struct nrm_diag; a configuration with any error yields no router.
 *
 * A router is immutable once loaded: any number of threads may call
 * nrm_route() and the report functions on it at the same time.  A
 * reload loads a new router and swaps the pointer; the old one is freed
 * once no request uses it any more.  Pure: no I/O, no clock, no
 * globals.  Decisions and explanations never contain personal data:
 * only codes and names from the configuration.
 */
#ifndef NRM_ROUTE_H
#define NRM_ROUTE_H

#include "nrm/nrm.h"
#include "nrm/diag.h"
#include "nrm/geo.h"
#include "nrm/signal.h"

enum nrm_priority {
	NRM_PRIO_URGENT = 0,
	NRM_PRIO_HIGH,
	NRM_PRIO_NORMAL,
};
#define NRM_PRIO_COUNT 3

/* The kind of the reporting agency (of the principal that submits). */
enum nrm_agency_kind {
	NRM_AGENCY_POLICE = 0,
	NRM_AGENCY_KMAR,
	NRM_AGENCY_LABOUR_INSPECTORATE,
	NRM_AGENCY_CARE_AGENCY,
	NRM_AGENCY_NGO,
	NRM_AGENCY_MUNICIPALITY,
	NRM_AGENCY_NATIONAL_CENTRE,
	NRM_AGENCY_ASSESSMENT_BODY,
	NRM_AGENCY_OTHER,
};
#define NRM_AGENCY_COUNT 9

#define NRM_ROUTE_HOPS_MAX 16 /* regions on a fallback path */
#define NRM_ROUTE_LABELS_MAX 8 /* labels of one rule */
#define NRM_ROUTE_LABEL_SIZE 33 /* a label and its NUL */
#define NRM_ROUTE_VERSION_SIZE 72 /* a version and its NUL */

/*
 * A decision, self-contained (it stays valid after its router is
 * freed).  Strings are NUL-terminated UTF-8.  nrm_route() writes the
 * first n_labels labels, the first n_hops hops and the explanation up
 * to its NUL; bytes beyond those are left as they were (use the counts,
 * or nrm_decision_json()).
 *
 * hops: empty when the target region was active; otherwise the path of
 * region codes from the inactive target through each fallback to the
 * region that got the signal, both ends included ("VR13", "VR09").
 * region is always hops[n_hops - 1] when n_hops > 0.
 */
struct nrm_decision {
	char region[16]; /* region code or NRM_REGION_NATIONAL */
	enum nrm_priority priority;
	char rule_id[64];
	char ruleset_version[NRM_ROUTE_VERSION_SIZE];
	int64_t take_within; /* seconds */
	int64_t first_contact_within; /* seconds */
	int n_labels;
	char labels[NRM_ROUTE_LABELS_MAX][NRM_ROUTE_LABEL_SIZE];
	int n_hops;
	char hops[NRM_ROUTE_HOPS_MAX][16];
	char explanation[1024]; /* readable; codes and config names only */
};

/*
 * What a configuration is made of.  The caller reads the three files of
 * a configuration directory and computes `version`, the content hash of
 * the three (hex SHA-256), which every decision carries.  The texts need
 * not be NUL-terminated; nothing here is kept after the call.
 */
struct nrm_routing_src {
	const char *regions_json;
	size_t regions_len;
	const char *municipalities_csv;
	size_t municipalities_len;
	const char *rules_json;
	size_t rules_len;
	const char *version; /* NUL-terminated, 1..71 printable ASCII */
};

/* One region as the configuration describes it (and the national desk). */
struct nrm_routing_region {
	char code[16];
	const char *name;
	bool active;
	const char *office_name; /* NULL when the region has no office */
	const char *office_contact; /* NULL when the region has no office */
	const char *fallback; /* code; NULL for the national desk only */
	const char *effective; /* code of the region its signals end at */
	int n_municipalities;
};

struct nrm_router;

/*
 * Parse, check and compile a configuration.  `diag` must have been
 * initialised with nrm_diag_init(); every error and warning found is
 * appended to it (the caller prints them and frees it).  Returns NRM_OK
 * and a new router in *out (free it with nrm_router_free()) when there
 * is no error; warnings do not fail a load.  Returns NRM_ERR with *out
 * NULL and at least one error in diag otherwise (out of memory is an
 * error too).
 */
int nrm_router_load(struct nrm_router **out, const struct nrm_routing_src *src,
    struct nrm_diag *diag) NRM_MUSTCHECK;

/* Release a router; NULL is allowed. */
void nrm_router_free(struct nrm_router *r);

/*
 * The municipality map the router was built from, owned by the router
 * (valid while it lives): pass it to nrm_signal_parse() so a signal is
 * validated against the same map it is routed by.
 */
const struct nrm_geo *nrm_router_geo(const struct nrm_router *r);

/* The version string given at load (src->version). */
const char *nrm_router_version(const struct nrm_router *r);

int nrm_router_n_rules(const struct nrm_router *r);

/* Warnings found at load, rendered as in nrm_diag (no severity). */
int nrm_router_n_warnings(const struct nrm_router *r);
const char *nrm_router_warning_at(const struct nrm_router *r, int i);

/* Regions in configuration order, the national desk last; or NULL. */
int nrm_router_n_regions(const struct nrm_router *r);
const struct nrm_routing_region *nrm_router_region_at(
    const struct nrm_router *r, int i);
/* The region with this code (NRM_REGION_NATIONAL included), or NULL. */
const struct nrm_routing_region *nrm_router_region(
    const struct nrm_router *r, const char *code);

/*
 * Decide.  Never fails and never allocates; every field of *out is
 * set (see struct nrm_decision for the lists).  `s` is a signal that
 * nrm_signal_parse() accepted, against nrm_router_geo(r) or another
 * map: a municipality this router does not know is treated as an
 * unknown location and said so.  `reporter` is the kind of the
 * submitting agency; a value out of range counts as NRM_AGENCY_OTHER.
 * The first rule whose conditions all hold decides; route "location"
 * with an unknown location goes to the national desk; an inactive
 * region hands over to its fallback, and so on, which the decision
 * records in hops and the explanation.
 */
void nrm_route(const struct nrm_router *r, const struct nrm_signal *s,
    enum nrm_agency_kind reporter, struct nrm_decision *out);

/*
 * Send decision d, made by nrm_route(), to the national desk because its
 * region is uncovered (nrmd's route_uncovered_to_national, issue 20):
 * region becomes NRM_REGION_NATIONAL, hops gain the region (when empty)
 * and the desk, and the explanation ends with "; <code> is uncovered (no
 * active coordinator who acted recently) -> national desk" (cut like
 * any piece when it does not fit).  Priority, rule and deadlines stay.
 * Nothing changes for a decision already at the national desk.
 */
void nrm_decision_reroute_uncovered(struct nrm_decision *d);

/* "urgent", "high", "normal"; NULL when out of range. */
const char *nrm_priority_name(enum nrm_priority p);

/*
 * The wire names of priorities and agency kinds, indexed by the enums:
 * the one list the codecs, the rules loader and nrmctl read.
 */
extern const char *const nrm_priority_names[NRM_PRIO_COUNT];
extern const char *const nrm_agency_kind_names[NRM_AGENCY_COUNT];

/* "police", "kmar", ...; NULL when out of range. */
const char *nrm_agency_kind_name(enum nrm_agency_kind k);

/* The kind named `name` (wire name, exact); NRM_ERR when unknown. */
int nrm_agency_kind_parse(
    const char *name, enum nrm_agency_kind *out) NRM_MUSTCHECK;

/*
 * malloc'd compact JSON of a decision (caller frees), NULL on OOM.
 * Keys, in order: region, priority, rule_id, ruleset_version,
 * take_within, first_contact_within (integer seconds), labels (array of
 * strings), hops (array of region codes), explanation.
 */
char *nrm_decision_json(const struct nrm_decision *d);

/*
 * The coverage report, malloc'd (caller frees), NULL on OOM.
 *
 * JSON: {"version":..., "rules":N, "municipalities":N,
 *   "regions":[{"code","name","active","office":{"name","contact"} or
 *   null,"fallback": code or null,"municipalities":N,"effective":code,
 *   "hops":[codes, as in a decision routed to this region]}, ...
 *   national desk last], "warnings":[text, ...]}
 *
 * Text: a table a person reads (code, active, municipalities, fallback,
 * effective target, name, office), then the warnings, for
 * `nrmctl config check`.
 */
char *nrm_router_coverage_json(const struct nrm_router *r);
char *nrm_router_coverage_text(const struct nrm_router *r);

#endif /* NRM_ROUTE_H */
