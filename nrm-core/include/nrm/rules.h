/*
 * rules.h - the compiled form of a routing configuration, shared by
 * rules.c (which loads and compiles it) and route.c (which runs it).
 * Internal to nrm-core: callers include route.h only.
 *
 * The hot path of a decision touches three arrays: slots (one per
 * location: slot 0 is "location unknown", slot 1 + k is the k-th
 * municipality of the map), cands (per slot, the indices of the rules
 * that can match at that location, in rule order; slots with equal
 * lists share one copy), and conds (each rule's remaining conditions as
 * bit masks and two integers).  A decision looks up its slot, walks the
 * slot's list and stops at the first rule whose masks accept the
 * signal's facts.  Everything else (ids, texts, regions) is cold data
 * read once per decision.
 */
#ifndef NRM_RULES_H
#define NRM_RULES_H

#include "nrm/route.h"

#define RULES_MAX 10000 /* rules in one configuration */
#define RULES_CODES 10000 /* municipality numbers GM0000..GM9999 */
#define RULES_NAT_WORDS 11 /* 26 * 26 nationality codes, in bits */

/* The signal's boolean facts, as bits of a facts word. */
#define RULES_F_MINOR 1u
#define RULES_F_DANGER 2u
#define RULES_F_SHELTER 4u

#define RULES_KINDS_ANY ((1u << NRM_AGENCY_COUNT) - 1)
#define RULES_GENDERS 6 /* enum nrm_gender values */
#define RULES_GENDERS_ANY ((1u << RULES_GENDERS) - 1)

/*
 * A rule's conditions other than location.  A signal passes when
 * (facts & fmask) == fval, its exploitation and control bits meet expl
 * and ctrl (0 meaning no condition), its reporter kind's and gender's
 * bits are in kinds and genders, its age (-1 when unknown) lies in
 * age_min..age_max, and, when nat >= 0, its nationality's bit is set
 * in nat_pool[nat ...].
 */
struct rules_cond {
	uint32_t fmask, fval;
	uint32_t expl, ctrl;
	uint32_t kinds, genders;
	int32_t age_min, age_max;
	int32_t nat;
};

enum rules_target {
	RULES_TO_LOCATION = 0,
	RULES_TO_REGION,
	RULES_TO_NATIONAL,
};

/* A rule's identity, action and explanation pieces. */
struct rules_rule {
	char id[64];
	char *description;
	enum rules_target target;
	int region; /* RULES_TO_REGION: index into regions */
	enum nrm_priority priority;
	int64_t take_within, first_contact_within;
	int n_labels;
	char labels[NRM_ROUTE_LABELS_MAX][NRM_ROUTE_LABEL_SIZE];
	char *head; /* "rule x matched: minor; exploitation sexual" */
	size_t head_len;
	char *tail; /* "; priority urgent, take within PT1H, ..." */
	size_t tail_len;
};

/* A region (or the national desk, last) with its resolved fallback. */
struct rules_region {
	struct nrm_routing_region pub; /* strings point into this struct */
	char *name, *office_name, *office_contact;
	int fallback; /* index; -1 for the national desk */
	int effective; /* index of the first active region on the path */
	int n_path; /* 0 when active, else the path incl. both ends */
	int path[NRM_ROUTE_HOPS_MAX];
	char *route_text; /* "VR13 X (inactive) -> fallback VR09 Y" */
	size_t route_len;
};

/* A municipality of the map, in the map's (code) order. */
struct rules_muni {
	int region; /* index into regions */
	char *loc_text; /* "location GM0363 Amsterdam -> " */
	size_t loc_len;
};

struct rules_slot {
	uint32_t off; /* into cands */
	uint32_t n;
};

struct nrm_router {
	char version[NRM_ROUTE_VERSION_SIZE];
	struct nrm_geo *geo;
	struct rules_region *regions; /* configuration order, national last */
	int n_regions;
	struct rules_muni *munis;
	int n_munis;
	int16_t slot_of[RULES_CODES]; /* GM number -> slot, 0 when absent */
	struct rules_slot *slots;
	int n_slots;
	uint16_t *cands;
	struct rules_cond *conds;
	struct rules_rule *rules;
	int n_rules;
	uint64_t *nat_pool;
	bool uses_age; /* some rule has an age condition */
	bool uses_nat; /* some rule has a nationality condition */
	char **warnings;
	int n_warnings;
};

/*
 * A growing string (rules.c): the explanation pieces of a load and the
 * coverage report (route.c).  Start from {0}.
 */
struct ld_buf {
	char *p;
	size_t n, cap;
	bool oom;
};

/* Append printf-style text; on OOM the buffer is marked and later appends do nothing. */
void nrm_ld_buf_add(struct ld_buf *b, const char *fmt, ...) NRM_PRINTF(2, 3);

/* Take the text, cut to max bytes ("..." when cut); NULL on OOM. */
char *nrm_ld_buf_take(struct ld_buf *b, size_t max, size_t *len);

#endif /* NRM_RULES_H */
