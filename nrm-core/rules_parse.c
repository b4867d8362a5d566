/*
 * rules_parse.c - phase 4 of a routing load (see rules_ld.h):
 * rules.json, each rule's conditions ("when") and action ("then").
 */
#include "nrm/rules_ld.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrm/duration.h"
#include "nrm/json.h"
#include "nrm/utf8.h"

/* ------------------------------------------------------------------ */
/* Phase 4: rules.json                                                 */

/* Indexed by enum nrm_gender; "unspecified" is an absent gender. */
const char *const nrm_ld_gender_names[RULES_GENDERS] = {
    "unspecified",
    "female",
    "male",
    "non_binary",
    "other",
    "unknown",
};

/*
 * The common shape of list conditions: a non-empty array of at most
 * `max` strings.  Reports and returns NRM_ERR otherwise.
 */
static int
ld_string_list(struct ld *L, const char *path, const cJSON *v, int max)
{
	const cJSON *x;
	char sub[LD_PATH_MAX];
	int n, i = 0, rc = NRM_OK;

	if (!cJSON_IsArray(v)) {
		nrm_ld_error(L, LD_RULES, path, "must be an array of strings");
		return NRM_ERR;
	}
	n = cJSON_GetArraySize(v);
	if (n == 0 || n > max) {
		nrm_ld_error(
		    L, LD_RULES, path, "must list 1 to %d values", max);
		return NRM_ERR;
	}
	cJSON_ArrayForEach (x, v) {
		if (!cJSON_IsString(x)) {
			nrm_json_path_index(sub, path, i);
			nrm_ld_error(L, LD_RULES, sub, "must be a string");
			rc = NRM_ERR;
		}
		i++;
	}
	return rc;
}

/*
 * A list of names from names[0..n) into a bit mask (bit k for
 * names[k]); unknown and repeated names are errors.
 */
static int
ld_name_list(struct ld *L, const char *path, const cJSON *v,
    const char *const *names, int n, const char *what, uint32_t *mask)
{
	const cJSON *x;
	char sub[LD_PATH_MAX], expected[512], shown[LD_SHOWN_MAX + 4];
	size_t e = 0;
	int i = 0, k, rc = NRM_OK;

	*mask = 0;
	if (ld_string_list(L, path, v, n) != NRM_OK)
		return NRM_ERR;
	cJSON_ArrayForEach (x, v) {
		nrm_json_path_index(sub, path, i++);
		k = nrm_name_index(names, (size_t)n, x->valuestring);
		if (k < 0) {
			if (e == 0) {
				for (k = 0; k < n; k++)
					e += (size_t)snprintf(expected + e,
					    sizeof(expected) - e, "%s%s",
					    k > 0 ? ", " : "", names[k]);
			}
			nrm_ld_error(L, LD_RULES, sub,
			    "unknown %s \"%s\" (expected one of %s)", what,
			    nrm_ld_shown(x->valuestring, shown), expected);
			rc = NRM_ERR;
		} else if ((*mask & (1u << k)) != 0) {
			nrm_ld_error(
			    L, LD_RULES, sub, "duplicate value %s", names[k]);
			rc = NRM_ERR;
		} else {
			*mask |= 1u << k;
		}
	}
	return rc;
}

/* when.age: {"min": n, "max": n}, whole years 0..120, min <= max. */
static void
ld_age(struct ld *L, const char *path, const cJSON *v, struct rules_cond *c,
    struct ld_rule *lr)
{
	static const char *const keys[] = {"min", "max"};
	const cJSON *f[2];
	char sub[LD_PATH_MAX];
	int32_t val[2] = {0, LD_AGE_MAX};
	int k;
	bool ok = true;

	if (!cJSON_IsObject(v)) {
		nrm_ld_error(L, LD_RULES, path,
		    "must be an object {\"min\": years, \"max\": years}");
		return;
	}
	if (nrm_ld_members(L, LD_RULES, path, v, keys, 2, 0u, f) > 0)
		ok = false;
	if (f[0] == NULL && f[1] == NULL) {
		nrm_ld_error(L, LD_RULES, path, "needs min, max or both");
		return;
	}
	for (k = 0; k < 2; k++) {
		double d;

		if (f[k] == NULL)
			continue;
		nrm_json_path(sub, path, keys[k]);
		d = f[k]->valuedouble;
		if (!cJSON_IsNumber(f[k]) || !(d >= 0 && d <= LD_AGE_MAX) ||
		    d != (double)(int32_t)d) {
			nrm_ld_error(L, LD_RULES, sub,
			    "must be a whole number of years from 0 to %d",
			    LD_AGE_MAX);
			ok = false;
			continue;
		}
		val[k] = (int32_t)d;
	}
	if (!ok)
		return;
	if (val[0] > val[1]) {
		nrm_ld_error(L, LD_RULES, path, "min %d is above max %d",
		    val[0], val[1]);
		return;
	}
	c->age_min = val[0];
	c->age_max = val[1];
	lr->has_age = true;
}

/*
 * A list of at most max strings at `path`, and room for as many ints
 * (calloc'd, the caller's), or NULL after reporting why not.
 */
static int *
ld_slot_list(struct ld *L, const char *path, const cJSON *v, int max)
{
	int *slots;

	if (ld_string_list(L, path, v, max) != NRM_OK)
		return NULL;
	slots = calloc((size_t)cJSON_GetArraySize(v), sizeof(int));
	if (slots == NULL)
		nrm_ld_error(L, NULL, NULL, "out of memory");
	return slots;
}

/* when.municipality: codes of the map, into lr->munis (slots). */
static void
ld_when_munis(
    struct ld *L, const char *path, const cJSON *v, struct ld_rule *lr)
{
	const cJSON *x;
	char sub[LD_PATH_MAX], shown[LD_SHOWN_MAX + 4];
	uint64_t seen[RULES_CODES / 64 + 1] = {0};
	int i = 0;

	lr->munis = ld_slot_list(L, path, v, RULES_CODES);
	if (lr->munis == NULL)
		return;
	cJSON_ArrayForEach (x, v) {
		int num = nrm_ld_muni_num(x->valuestring);

		nrm_json_path_index(sub, path, i++);
		if (num < 0) {
			nrm_ld_error(L, LD_RULES, sub,
			    "\"%s\" is not a municipality code (GM and 4 "
			    "digits)",
			    nrm_ld_shown(x->valuestring, shown));
		} else if ((seen[num / 64] >> (num % 64) & 1) != 0) {
			nrm_ld_error(L, LD_RULES, sub, "duplicate value %s",
			    x->valuestring);
		} else if (L->munis_ok && L->r->slot_of[num] == 0) {
			nrm_ld_error(L, LD_RULES, sub,
			    "unknown municipality %s", x->valuestring);
		} else {
			seen[num / 64] |= 1ull << (num % 64);
			if (L->munis_ok)
				lr->munis[lr->n_munis++] = L->r->slot_of[num];
		}
	}
	lr->has_munis = true;
}

/* when.region: region codes (not the national desk), into lr->regions. */
static void
ld_when_regions(
    struct ld *L, const char *path, const cJSON *v, struct ld_rule *lr)
{
	const cJSON *x;
	char sub[LD_PATH_MAX], shown[LD_SHOWN_MAX + 4];
	int i = 0, k, g;

	lr->regions = ld_slot_list(L, path, v, LD_REGIONS_MAX);
	if (lr->regions == NULL)
		return;
	cJSON_ArrayForEach (x, v) {
		nrm_json_path_index(sub, path, i++);
		if (strcmp(x->valuestring, NRM_REGION_NATIONAL) == 0) {
			nrm_ld_error(L, LD_RULES, sub,
			    "the national desk has no municipalities (use "
			    "\"location_known\": false for unknown "
			    "locations)");
			continue;
		}
		if (!nrm_ld_code_ok(x->valuestring)) {
			nrm_ld_error(L, LD_RULES, sub,
			    "\"%s\" is not a region code",
			    nrm_ld_shown(x->valuestring, shown));
			continue;
		}
		if (!L->regions_ok)
			continue;
		g = nrm_ld_region_find(L, x->valuestring);
		if (g < 0) {
			nrm_ld_error(L, LD_RULES, sub, "unknown region %s",
			    x->valuestring);
			continue;
		}
		for (k = 0; k < lr->n_regions && lr->regions[k] != g; k++)
			;
		if (k < lr->n_regions) {
			nrm_ld_error(L, LD_RULES, sub, "duplicate value %s",
			    x->valuestring);
			continue;
		}
		lr->regions[lr->n_regions++] = g;
	}
	lr->has_regions = true;
}

/* when.nationality: ISO 3166-1 alpha-2 shapes, into a bit set. */
static void
ld_when_nat(struct ld *L, const char *path, const cJSON *v, struct ld_rule *lr)
{
	const cJSON *x;
	char sub[LD_PATH_MAX], shown[LD_SHOWN_MAX + 4];
	int i = 0;

	if (ld_string_list(L, path, v, 26 * 26) != NRM_OK)
		return;
	cJSON_ArrayForEach (x, v) {
		const char *s = x->valuestring;
		int idx;

		nrm_json_path_index(sub, path, i++);
		if (!(s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
			s[1] <= 'Z' && s[2] == '\0')) {
			nrm_ld_error(L, LD_RULES, sub,
			    "\"%s\" is not a nationality (two upper-case "
			    "letters, ISO 3166-1 alpha-2)",
			    nrm_ld_shown(s, shown));
			continue;
		}
		idx = (s[0] - 'A') * 26 + (s[1] - 'A');
		if ((lr->nat[idx / 64] >> (idx % 64) & 1) != 0) {
			nrm_ld_error(L, LD_RULES, sub, "duplicate value %s", s);
			continue;
		}
		lr->nat[idx / 64] |= 1ull << (idx % 64);
	}
	lr->has_nat = true;
}

enum {
	LD_W_MINOR = 0,
	LD_W_AGE,
	LD_W_EXPL,
	LD_W_CTRL,
	LD_W_DANGER,
	LD_W_SHELTER,
	LD_W_KIND,
	LD_W_MUNI,
	LD_W_REGION,
	LD_W_KNOWN,
	LD_W_NAT,
	LD_W_GENDER,
	LD_W__COUNT
};

/* A boolean condition on a facts bit. */
static void
ld_when_flag(struct ld *L, const char *path, const cJSON *v, uint32_t bit,
    struct rules_cond *c)
{
	bool b;

	if (nrm_ld_bool(L, LD_RULES, path, v, &b) != NRM_OK)
		return;
	c->fmask |= bit;
	if (b)
		c->fval |= bit;
}

/* A when.<list> of names: its mask into *mask and *has set, if valid. */
static void
ld_when_names(struct ld *L, const char *path, const cJSON *v,
    const char *const *names, int n, const char *what, uint32_t *mask,
    bool *has)
{
	uint32_t m;

	if (ld_name_list(L, path, v, names, n, what, &m) == NRM_OK) {
		*mask = m;
		*has = true;
	}
}

/* rules[i].when: every condition (see docs/routing.md). */
static void
ld_when(struct ld *L, const char *path, const cJSON *v, struct rules_cond *c,
    struct ld_rule *lr)
{
	static const char *const keys[LD_W__COUNT] = {
	    [LD_W_MINOR] = "minor",
	    [LD_W_AGE] = "age",
	    [LD_W_EXPL] = "exploitation",
	    [LD_W_CTRL] = "control_means",
	    [LD_W_DANGER] = "immediate_danger",
	    [LD_W_SHELTER] = "needs_shelter",
	    [LD_W_KIND] = "reporter_kind",
	    [LD_W_MUNI] = "municipality",
	    [LD_W_REGION] = "region",
	    [LD_W_KNOWN] = "location_known",
	    [LD_W_NAT] = "nationality",
	    [LD_W_GENDER] = "gender",
	};
	const cJSON *f[LD_W__COUNT];
	char sub[LD_PATH_MAX];
	uint32_t mask;
	int k;
	bool b;

	if (!cJSON_IsObject(v)) {
		nrm_ld_error(
		    L, LD_RULES, path, "must be an object of conditions");
		lr->has_conds = true;
		return;
	}
	nrm_ld_members(L, LD_RULES, path, v, keys, LD_W__COUNT, 0u, f);
	for (k = 0; k < LD_W__COUNT; k++) {
		if (f[k] != NULL)
			lr->has_conds = true;
	}
	/* Any member, even an unknown or null one, means "has conditions". */
	if (v->child != NULL)
		lr->has_conds = true;
#define LD_SUB(k) (nrm_json_path(sub, path, keys[k]), sub)
	if (f[LD_W_MINOR] != NULL)
		ld_when_flag(
		    L, LD_SUB(LD_W_MINOR), f[LD_W_MINOR], RULES_F_MINOR, c);
	if (f[LD_W_AGE] != NULL)
		ld_age(L, LD_SUB(LD_W_AGE), f[LD_W_AGE], c, lr);
	if (f[LD_W_EXPL] != NULL &&
	    ld_name_list(L, LD_SUB(LD_W_EXPL), f[LD_W_EXPL],
		nrm_exploitation_names, NRM_EXPL_COUNT, "exploitation type",
		&mask) == NRM_OK) {
		/* A signal always has some type: all of them is no test. */
		c->expl = mask == (1u << NRM_EXPL_COUNT) - 1 ? 0 : mask;
		lr->has_expl = true;
	}
	if (f[LD_W_CTRL] != NULL)
		ld_when_names(L, LD_SUB(LD_W_CTRL), f[LD_W_CTRL],
		    nrm_control_names, NRM_CTRL_COUNT, "control means",
		    &c->ctrl, &lr->has_ctrl);
	if (f[LD_W_DANGER] != NULL)
		ld_when_flag(
		    L, LD_SUB(LD_W_DANGER), f[LD_W_DANGER], RULES_F_DANGER, c);
	if (f[LD_W_SHELTER] != NULL)
		ld_when_flag(L, LD_SUB(LD_W_SHELTER), f[LD_W_SHELTER],
		    RULES_F_SHELTER, c);
	if (f[LD_W_KIND] != NULL)
		ld_when_names(L, LD_SUB(LD_W_KIND), f[LD_W_KIND],
		    nrm_agency_kind_names, NRM_AGENCY_COUNT, "reporter kind",
		    &c->kinds, &lr->has_kinds);
	if (f[LD_W_MUNI] != NULL)
		ld_when_munis(L, LD_SUB(LD_W_MUNI), f[LD_W_MUNI], lr);
	if (f[LD_W_REGION] != NULL)
		ld_when_regions(L, LD_SUB(LD_W_REGION), f[LD_W_REGION], lr);
	if (f[LD_W_KNOWN] != NULL &&
	    nrm_ld_bool(L, LD_RULES, LD_SUB(LD_W_KNOWN), f[LD_W_KNOWN], &b) ==
		NRM_OK)
		lr->loc_known = b ? 1 : 0;
	if (f[LD_W_NAT] != NULL)
		ld_when_nat(L, LD_SUB(LD_W_NAT), f[LD_W_NAT], lr);
	if (f[LD_W_GENDER] != NULL)
		ld_when_names(L, LD_SUB(LD_W_GENDER), f[LD_W_GENDER],
		    nrm_ld_gender_names, RULES_GENDERS, "gender", &c->genders,
		    &lr->has_genders);
#undef LD_SUB
}

/* A deadline: an ISO 8601 duration string (duration.h). */
static int
ld_deadline(struct ld *L, const char *path, const cJSON *v, int64_t *out)
{
	char shown[LD_SHOWN_MAX + 4];
	const char *why = NULL;

	if (!cJSON_IsString(v)) {
		nrm_ld_error(L, LD_RULES, path,
		    "must be an ISO 8601 duration string such as \"PT4H\"");
		return NRM_ERR;
	}
	if (nrm_duration_parse(
		v->valuestring, strlen(v->valuestring), out, &why) != NRM_OK) {
		nrm_ld_error(L, LD_RULES, path, "\"%s\": %s",
		    nrm_ld_shown(v->valuestring, shown), why);
		return NRM_ERR;
	}
	return NRM_OK;
}

/* A label: 1..32 of [A-Za-z0-9._:-]. */
static bool
ld_label_ok(const char *s)
{
	return nrm_ascii_word(s, LD_LABEL_MAX, "._:-");
}

/*
 * then.labels: at most NRM_ROUTE_LABELS_MAX unique labels.
 */
static void
ld_labels(
    struct ld *L, const char *path, const cJSON *v, struct rules_rule *rule)
{
	const cJSON *x;
	char sub[LD_PATH_MAX], shown[LD_SHOWN_MAX + 4];
	int i = 0, k;

	if (!cJSON_IsArray(v)) {
		nrm_ld_error(L, LD_RULES, path, "must be an array of strings");
		return;
	}
	if (cJSON_GetArraySize(v) > NRM_ROUTE_LABELS_MAX) {
		nrm_ld_error(L, LD_RULES, path, "at most %d labels",
		    NRM_ROUTE_LABELS_MAX);
		return;
	}
	cJSON_ArrayForEach (x, v) {
		nrm_json_path_index(sub, path, i++);
		if (!cJSON_IsString(x) || !ld_label_ok(x->valuestring)) {
			nrm_ld_error(L, LD_RULES, sub,
			    "%s%s%s is not a label (1 to %d of A-Z a-z 0-9 . _ "
			    ": -)",
			    cJSON_IsString(x) ? "\"" : "",
			    cJSON_IsString(x)
				? nrm_ld_shown(x->valuestring, shown)
				: "value",
			    cJSON_IsString(x) ? "\"" : "", LD_LABEL_MAX);
			continue;
		}
		for (k = 0; k < rule->n_labels; k++) {
			if (strcmp(rule->labels[k], x->valuestring) == 0)
				break;
		}
		if (k < rule->n_labels) {
			nrm_ld_error(L, LD_RULES, sub, "duplicate label %s",
			    x->valuestring);
			continue;
		}
		snprintf(rule->labels[rule->n_labels++], NRM_ROUTE_LABEL_SIZE,
		    "%s", x->valuestring);
	}
}

/* rules[i].then: route, region, priority, deadlines, labels. */
static int
ld_then(struct ld *L, const char *path, const cJSON *v, struct rules_rule *rule)
{
	static const char *const keys[] = {"route", "region", "priority",
	    "take_within", "first_contact_within", "labels"};
	const cJSON *f[6];
	char sub[LD_PATH_MAX], shown[LD_SHOWN_MAX + 4];
	int errors = L->diag->n_errors, k;
	bool route_ok = false, take_ok, contact_ok;

	if (!cJSON_IsObject(v)) {
		nrm_ld_error(
		    L, LD_RULES, path, "must be an object (the action)");
		return NRM_ERR;
	}
	nrm_ld_members(L, LD_RULES, path, v, keys, 6, 0x1Du, f);
	if (f[0] != NULL) {
		nrm_json_path(sub, path, "route");
		if (cJSON_IsString(f[0]) &&
		    strcmp(f[0]->valuestring, "location") == 0) {
			rule->target = RULES_TO_LOCATION;
			route_ok = true;
		} else if (cJSON_IsString(f[0]) &&
		    strcmp(f[0]->valuestring, "region") == 0) {
			rule->target = RULES_TO_REGION;
			route_ok = true;
		} else if (cJSON_IsString(f[0]) &&
		    strcmp(f[0]->valuestring, "national") == 0) {
			rule->target = RULES_TO_NATIONAL;
			route_ok = true;
		} else {
			nrm_ld_error(L, LD_RULES, sub,
			    "must be \"location\", \"region\" or "
			    "\"national\"");
		}
	}
	nrm_json_path(sub, path, "region");
	if (route_ok && rule->target == RULES_TO_REGION && f[1] == NULL) {
		nrm_ld_error(L, LD_RULES, path,
		    "missing key region (\"route\": \"region\" needs one)");
	} else if (route_ok && rule->target != RULES_TO_REGION &&
	    f[1] != NULL) {
		nrm_ld_error(L, LD_RULES, sub,
		    "only allowed with \"route\": \"region\"");
	} else if (f[1] != NULL && !cJSON_IsString(f[1])) {
		nrm_ld_error(L, LD_RULES, sub, "must be a region code string");
	} else if (f[1] != NULL &&
	    strcmp(f[1]->valuestring, NRM_REGION_NATIONAL) == 0) {
		nrm_ld_error(L, LD_RULES, sub,
		    "use \"route\": \"national\" for the national desk");
	} else if (f[1] != NULL && !nrm_ld_code_ok(f[1]->valuestring)) {
		nrm_ld_error(L, LD_RULES, sub, "\"%s\" is not a region code",
		    nrm_ld_shown(f[1]->valuestring, shown));
	} else if (f[1] != NULL && L->regions_ok) {
		rule->region = nrm_ld_region_find(L, f[1]->valuestring);
		if (rule->region < 0)
			nrm_ld_error(L, LD_RULES, sub, "unknown region %s",
			    f[1]->valuestring);
	}
	if (f[2] != NULL) {
		nrm_json_path(sub, path, "priority");
		k = cJSON_IsString(f[2])
		    ? nrm_name_index(
			  nrm_priority_names, NRM_PRIO_COUNT, f[2]->valuestring)
		    : -1;
		if (k < 0)
			nrm_ld_error(L, LD_RULES, sub,
			    "must be \"urgent\", \"high\" or \"normal\"");
		else
			rule->priority = (enum nrm_priority)k;
	}
	nrm_json_path(sub, path, "take_within");
	take_ok = f[3] != NULL &&
	    ld_deadline(L, sub, f[3], &rule->take_within) == NRM_OK;
	nrm_json_path(sub, path, "first_contact_within");
	contact_ok = f[4] != NULL &&
	    ld_deadline(L, sub, f[4], &rule->first_contact_within) == NRM_OK;
	if (take_ok && contact_ok &&
	    rule->first_contact_within < rule->take_within)
		nrm_ld_warn(L, LD_RULES, sub,
		    "first contact is due (%s) before the case must be taken "
		    "(%s)",
		    f[4]->valuestring, f[3]->valuestring);
	if (f[5] != NULL) {
		nrm_json_path(sub, path, "labels");
		ld_labels(L, sub, f[5], rule);
	}
	return L->diag->n_errors > errors ? NRM_ERR : NRM_OK;
}

/* An id: 1..63 of [A-Za-z0-9._-]. */
static bool
ld_id_ok(const char *s)
{
	return nrm_ascii_word(s, LD_ID_MAX, "._-");
}

/* rules[i]: id, description, when, then. */
static void
ld_rule(struct ld *L, int i, const cJSON *v)
{
	static const char *const keys[] = {"id", "description", "when", "then"};
	struct rules_rule *rule = &L->r->rules[i];
	struct rules_cond *c = &L->r->conds[i];
	struct ld_rule *lr = &L->lr[i];
	const cJSON *f[4];
	char path[LD_PATH_MAX], sub[LD_PATH_MAX], shown[LD_SHOWN_MAX + 4];

	c->kinds = RULES_KINDS_ANY;
	c->genders = RULES_GENDERS_ANY;
	c->age_min = -1;
	c->age_max = INT32_MAX;
	c->nat = -1;
	lr->loc_known = -1;
	rule->region = -1;
	nrm_json_path_index(path, "rules", i);
	if (!cJSON_IsObject(v)) {
		nrm_ld_error(L, LD_RULES, path, "must be an object");
		lr->has_conds = true;
		return;
	}
	nrm_ld_members(L, LD_RULES, path, v, keys, 4, 9u, f);
	if (f[0] != NULL) {
		nrm_json_path(sub, path, "id");
		if (!cJSON_IsString(f[0]) || !ld_id_ok(f[0]->valuestring)) {
			nrm_ld_error(L, LD_RULES, sub,
			    "%s%s%s is not a rule id (1 to %d of A-Z a-z 0-9 . "
			    "_ -)",
			    cJSON_IsString(f[0]) ? "\"" : "",
			    cJSON_IsString(f[0])
				? nrm_ld_shown(f[0]->valuestring, shown)
				: "value",
			    cJSON_IsString(f[0]) ? "\"" : "", LD_ID_MAX);
		} else {
			snprintf(rule->id, sizeof(rule->id), "%s",
			    f[0]->valuestring);
		}
	}
	if (f[1] != NULL) {
		nrm_json_path(sub, path, "description");
		(void)nrm_ld_text(L, LD_RULES, sub, f[1], LD_DESCRIPTION_MAX,
		    &rule->description);
	}
	if (f[2] != NULL) {
		nrm_json_path(sub, path, "when");
		ld_when(L, sub, f[2], c, lr);
	}
	if (f[3] != NULL) {
		nrm_json_path(sub, path, "then");
		(void)ld_then(L, sub, f[3], rule);
	}
}

/* Rule ids are unique: sort (id, index) pairs, compare neighbours. */
static void
ld_unique_ids(struct ld *L)
{
	struct nrm_router *r = L->r;
	struct nrm_name_ref *refs;
	char path[LD_PATH_MAX];
	int i, n = 0;

	refs = calloc((size_t)r->n_rules + 1, sizeof(*refs));
	if (refs == NULL) {
		nrm_ld_error(L, NULL, NULL, "out of memory");
		return;
	}
	for (i = 0; i < r->n_rules; i++) {
		if (r->rules[i].id[0] != '\0') {
			refs[n].name = r->rules[i].id;
			refs[n].index = i;
			n++;
		}
	}
	nrm_name_refs_sort(refs, (size_t)n);
	for (i = 1; i < n; i++) {
		int first = i - 1;

		if (strcmp(refs[i].name, refs[i - 1].name) != 0)
			continue;
		while (first > 0 &&
		    strcmp(refs[first - 1].name, refs[i].name) == 0)
			first--;
		snprintf(path, sizeof(path), "rules[%d].id", refs[i].index);
		nrm_ld_error(L, LD_RULES, path,
		    "duplicate id %s (also rules[%d])", refs[i].name,
		    refs[first].index);
	}
	free(refs);
}

/*
 * Phase 4: parse rules.json: every rule, unique ids, the final
 * catch-all.
 */
void
nrm_ld_rules(struct ld *L)
{
	static const char *const keys[] = {"description", "rules"};
	const struct nrm_routing_src *src = L->src;
	struct nrm_router *r = L->r;
	const cJSON *f[2], *v;
	cJSON *root;
	char *desc = NULL;
	int n, i;

	root = nrm_ld_json(L, LD_RULES, src->rules_json, src->rules_len);
	if (root == NULL)
		return;
	if (!cJSON_IsObject(root)) {
		nrm_ld_error(L, LD_RULES, NULL,
		    "must be a JSON object {\"rules\": [...]}");
		goto out;
	}
	nrm_ld_members(L, LD_RULES, "", root, keys, 2, 2u, f);
	if (f[0] != NULL) {
		(void)nrm_ld_text(L, LD_RULES, "description", f[0],
		    LD_DESCRIPTION_MAX, &desc);
		free(desc);
	}
	if (f[1] == NULL)
		goto out;
	if (!cJSON_IsArray(f[1])) {
		nrm_ld_error(L, LD_RULES, "rules", "must be an array of rules");
		goto out;
	}
	n = cJSON_GetArraySize(f[1]);
	if (n == 0) {
		nrm_ld_error(L, LD_RULES, NULL,
		    "no final catch-all rule (a rule with no conditions): "
		    "the rule list is empty");
		goto out;
	}
	if (n > RULES_MAX) {
		nrm_ld_error(L, LD_RULES, "rules",
		    "too many rules (at most %d)", RULES_MAX);
		goto out;
	}
	r->rules = calloc((size_t)n, sizeof(*r->rules));
	r->conds = calloc((size_t)n, sizeof(*r->conds));
	L->lr = calloc((size_t)n, sizeof(*L->lr));
	if (r->rules == NULL || r->conds == NULL || L->lr == NULL) {
		nrm_ld_error(L, NULL, NULL, "out of memory");
		goto out;
	}
	r->n_rules = n;
	i = 0;
	cJSON_ArrayForEach (v, f[1]) {
		ld_rule(L, i, v);
		i++;
	}
	ld_unique_ids(L);
	if (L->lr[n - 1].has_conds) {
		if (r->rules[n - 1].id[0] != '\0')
			nrm_ld_error(L, LD_RULES, NULL,
			    "no final catch-all rule (a rule with no "
			    "conditions): the last rule, rules[%d] (id %s), "
			    "has conditions",
			    n - 1, r->rules[n - 1].id);
		else
			nrm_ld_error(L, LD_RULES, NULL,
			    "no final catch-all rule (a rule with no "
			    "conditions): the last rule, rules[%d], has "
			    "conditions",
			    n - 1);
	}
out:
	cJSON_Delete(root);
}
