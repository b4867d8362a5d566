/*
 * rules_ld.h - the routing loader's private state, shared by the files
 * of one load (internal to nrm-core; callers include route.h):
 *
 *   rules.c          the load's driver, reporting and JSON helpers
 *   rules_regions.c  phases 1-3: regions.json, fallbacks, the CSV
 *   rules_parse.c    phase 4: rules.json (conditions and actions)
 *   rules_compile.c  phase 5: location sets, analysis, index, texts
 *
 * Contract: a struct ld lives for one nrm_router_load() call; every
 * helper reports what it finds through nrm_ld_error/nrm_ld_warn into
 * L->diag and never stops at the first fault, so a load lists all.
 */
#ifndef NRM_RULES_LD_H
#define NRM_RULES_LD_H

#include <cjson/cJSON.h>

#include "nrm/diag.h"
#include "nrm/rules.h"

#define LD_REGIONS "regions.json"
#define LD_MUNIS "municipalities.csv"
#define LD_RULES "rules.json"

#define LD_PATH_MAX NRM_JSON_PATH_MAX
#define LD_REGIONS_MAX 1000
#define LD_NAME_MAX 100 /* region and national desk names, bytes */
#define LD_OFFICE_MAX 200 /* office name and contact, bytes */
#define LD_DESCRIPTION_MAX 1000
#define LD_ID_MAX 63
#define LD_LABEL_MAX (NRM_ROUTE_LABEL_SIZE - 1)
#define LD_AGE_MAX 120
#define LD_SHOWN_MAX NRM_DIAG_SHOWN_MAX /* bytes of a value in a message */
#define LD_TEXT_NAME_MAX 80 /* bytes of a name inside explanations */
#define LD_HEAD_MAX 400
#define LD_ROUTE_TEXT_MAX 400
#define LD_LIST_SHOWN 5 /* list items spelt out in explanations */

/* Where a rule may match, before it becomes candidate lists. */
enum ld_loc {
	LD_LOC_ALL = 0, /* no location condition */
	LD_LOC_KNOWN, /* every municipality, not the unknown location */
	LD_LOC_UNKNOWN, /* only the unknown location */
	LD_LOC_SET, /* the municipalities in bits */
	LD_LOC_EMPTY, /* nowhere: the rule can never match */
};

/* What the loader keeps per rule besides the compiled parts. */
struct ld_rule {
	bool has_conds; /* "when" has at least one condition */
	int loc_known; /* -1 no condition, 0 false, 1 true */
	int *munis; /* slots of the municipality condition */
	int n_munis;
	bool has_munis;
	int *regions; /* region indices of the region condition */
	int n_regions;
	bool has_regions;
	uint64_t nat[RULES_NAT_WORDS];
	bool has_nat;
	bool has_expl, has_ctrl, has_kinds, has_genders, has_age;
	enum ld_loc loc;
	uint64_t *bits; /* LD_LOC_SET: one bit per slot */
	bool dead; /* never matches: left out of the index */
};

struct ld {
	struct nrm_diag *diag;
	struct nrm_router *r;
	const struct nrm_routing_src *src;
	int n_json_regions; /* regions[] entries; national desk at this index */
	char (*fb_code)[16]; /* per region: its fallback as written */
	bool *fb_set;
	bool *has_office;
	int *first_line; /* per region: first CSV line naming it, or 0 */
	bool regions_ok; /* regions.json parsed as an object */
	bool munis_ok; /* the municipality map parsed */
	struct ld_rule *lr; /* per rule */
	int n_slots;
	int slot_words;
};

/* Gender names by enum nrm_gender, "unspecified" first (rules_parse.c). */
extern const char *const nrm_ld_gender_names[RULES_GENDERS];

/* A JSON boolean into *out; reported and NRM_ERR otherwise. */
int nrm_ld_bool(struct ld *L, const char *file, const char *path,
    const cJSON *v, bool *out);

/* A region code: 1..15 of [A-Za-z0-9_-]. */
bool nrm_ld_code_ok(const char *s);

/* Phase 5 (rules_compile.c): locations, analysis, index, texts. */
void nrm_ld_compile(struct ld *L);

/* The first `max` bytes of s, cut on a character boundary. */
int nrm_ld_cut(const char *s, size_t max);

/* Phase 2 (rules_regions.c): fallbacks, cycles, path lengths. */
void nrm_ld_fallbacks(struct ld *L, int errors_before);

/* Parse one file with the strict reader; reported, NULL on failure. */
cJSON *nrm_ld_json(
    struct ld *L, const char *file, const char *text, size_t len);

/* Members of obj against names[0..n), every fault reported; the count. */
int nrm_ld_members(struct ld *L, const char *file, const char *path,
    const cJSON *obj, const char *const *names, int n, uint32_t required,
    const cJSON **found);

/* "GM" and four digits: the number, else -1. */
int nrm_ld_muni_num(const char *s);

/* Phase 3 (rules_regions.c): municipalities.csv. */
void nrm_ld_munis(struct ld *L);

/* Index of the region with this code, the national desk's, or -1. */
int nrm_ld_region_find(const struct ld *L, const char *code);

/* Phase 1 (rules_regions.c): regions.json. */
void nrm_ld_regions(struct ld *L);

/* Phase 4 (rules_parse.c): rules.json. */
void nrm_ld_rules(struct ld *L);

/* A configuration value shown in a message (at most LD_SHOWN_MAX bytes). */
const char *nrm_ld_shown(const char *s, char buf[LD_SHOWN_MAX + 4]);

/* A free-text value (nrm_json_text) into *out; reported, NRM_ERR otherwise. */
int nrm_ld_text(struct ld *L, const char *file, const char *path,
    const cJSON *v, size_t max, char **out);

/* Report an error or a warning of this load (see nrm_diag_add). */
void nrm_ld_report(struct ld *L, enum nrm_diag_severity sev, const char *file,
    const char *path, const char *fmt, ...) NRM_PRINTF(5, 6);
#define nrm_ld_error(L, file, path, ...) \
	nrm_ld_report((L), NRM_DIAG_ERROR, (file), (path), __VA_ARGS__)
#define nrm_ld_warn(L, file, path, ...) \
	nrm_ld_report((L), NRM_DIAG_WARNING, (file), (path), __VA_ARGS__)

#endif /* NRM_RULES_LD_H */
