/*
 * route.c - running a compiled routing configuration (see route.h and
 * rules.h): the decision, its JSON, the coverage report, and the
 * accessors.  Loading and compiling live in rules*.c (rules_ld.h).
 *
 * A decision costs one slot lookup, a walk over that slot's candidate
 * list (only the rules that can match at that location, in rule order)
 * with a handful of mask tests per candidate, and a few memcpy calls
 * that assemble the explanation from pieces precomputed at load.  No
 * allocation, no formatting on the hot path.
 */
#include "nrm/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nrm/duration.h"
#include "nrm/json.h"
#include "nrm/rules.h"
#include "nrm/timefmt.h"
#include "nrm/utf8.h"

const char *const nrm_priority_names[NRM_PRIO_COUNT] = {
    [NRM_PRIO_URGENT] = "urgent",
    [NRM_PRIO_HIGH] = "high",
    [NRM_PRIO_NORMAL] = "normal",
};

const char *const nrm_agency_kind_names[NRM_AGENCY_COUNT] = {
    [NRM_AGENCY_POLICE] = "police",
    [NRM_AGENCY_KMAR] = "kmar",
    [NRM_AGENCY_LABOUR_INSPECTORATE] = "labour_inspectorate",
    [NRM_AGENCY_CARE_AGENCY] = "care_agency",
    [NRM_AGENCY_NGO] = "ngo",
    [NRM_AGENCY_MUNICIPALITY] = "municipality",
    [NRM_AGENCY_NATIONAL_CENTRE] = "national_centre",
    [NRM_AGENCY_ASSESSMENT_BODY] = "assessment_body",
    [NRM_AGENCY_OTHER] = "other",
};

const char *
nrm_priority_name(enum nrm_priority p)
{
	return nrm_name_at(nrm_priority_names, NRM_PRIO_COUNT, (int)p);
}

const char *
nrm_agency_kind_name(enum nrm_agency_kind k)
{
	return nrm_name_at(nrm_agency_kind_names, NRM_AGENCY_COUNT, (int)k);
}

int
nrm_agency_kind_parse(const char *name, enum nrm_agency_kind *out)
{
	int k = name != NULL
	    ? nrm_name_index(nrm_agency_kind_names, NRM_AGENCY_COUNT, name)
	    : -1;

	if (k < 0)
		return NRM_ERR;
	*out = (enum nrm_agency_kind)k;
	return NRM_OK;
}

const struct nrm_geo *
nrm_router_geo(const struct nrm_router *r)
{
	return r->geo;
}

const char *
nrm_router_version(const struct nrm_router *r)
{
	return r->version;
}

int
nrm_router_n_rules(const struct nrm_router *r)
{
	return r->n_rules;
}

int
nrm_router_n_warnings(const struct nrm_router *r)
{
	return r->n_warnings;
}

const char *
nrm_router_warning_at(const struct nrm_router *r, int i)
{
	if (i < 0 || i >= r->n_warnings)
		return NULL;
	return r->warnings[i];
}

int
nrm_router_n_regions(const struct nrm_router *r)
{
	return r->n_regions;
}

const struct nrm_routing_region *
nrm_router_region_at(const struct nrm_router *r, int i)
{
	if (i < 0 || i >= r->n_regions)
		return NULL;
	return &r->regions[i].pub;
}

const struct nrm_routing_region *
nrm_router_region(const struct nrm_router *r, const char *code)
{
	int i;

	if (code == NULL)
		return NULL;
	for (i = 0; i < r->n_regions; i++) {
		if (strcmp(r->regions[i].pub.code, code) == 0)
			return &r->regions[i].pub;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The decision                                                        */

/* The facts of a signal that rules test, each in the form rules.h uses. */
struct route_facts {
	uint32_t flags;
	uint32_t expl, ctrl;
	uint32_t kind, gender; /* one bit each */
	int32_t age; /* -1 unknown */
	int32_t nat; /* 0..675, -1 unknown */
};

/*
 * The subject's age in whole years: from the birth date on the UTC
 * calendar date of observed_at when there is one, else the estimate,
 * else -1.
 */
static int32_t
route_age(const struct nrm_signal *s)
{
	const struct nrm_subject *sub = &s->subject;
	int64_t t = s->observed_at;
	int y, m, d, age;

	if (sub->has_birth_date) {
		nrm_civil_from_days(t / 86400 - (t % 86400 < 0), &y, &m, &d);
		age = nrm_age_years(sub->birth_date.year, sub->birth_date.month,
		    sub->birth_date.day, y, m, d);
		return age >= 0 ? age : -1;
	}
	return sub->age_estimate >= 0 ? sub->age_estimate : -1;
}

/*
 * Gather the facts of s (and the reporter) that rules test.
 */
static void
route_facts(const struct nrm_router *r, const struct nrm_signal *s,
    enum nrm_agency_kind reporter, struct route_facts *f)
{
	const char *n = s->subject.nationality;
	int g = (int)s->subject.gender;

	f->flags = (s->minor ? RULES_F_MINOR : 0) |
	    (s->immediate_danger ? RULES_F_DANGER : 0) |
	    (s->needs_shelter ? RULES_F_SHELTER : 0);
	f->expl = s->exploitation;
	f->ctrl = s->control;
	if ((int)reporter < 0 || (int)reporter >= NRM_AGENCY_COUNT)
		reporter = NRM_AGENCY_OTHER;
	f->kind = 1u << reporter;
	f->gender = 1u << (g >= 0 && g < RULES_GENDERS ? g : 0);
	f->age = r->uses_age ? route_age(s) : -1;
	f->nat = -1;
	if (r->uses_nat && n[0] >= 'A' && n[0] <= 'Z' && n[1] >= 'A' &&
	    n[1] <= 'Z' && n[2] == '\0')
		f->nat = (n[0] - 'A') * 26 + (n[1] - 'A');
}

/*
 * Whether the signal's facts pass every mask of one rule (see
 * struct rules_cond).
 */
static bool
route_cond_holds(const struct nrm_router *r, const struct rules_cond *c,
    const struct route_facts *f)
{
	if ((f->flags & c->fmask) != c->fval)
		return false;
	if (c->expl != 0 && (f->expl & c->expl) == 0)
		return false;
	if (c->ctrl != 0 && (f->ctrl & c->ctrl) == 0)
		return false;
	if ((c->kinds & f->kind) == 0 || (c->genders & f->gender) == 0)
		return false;
	if (f->age < c->age_min || f->age > c->age_max)
		return false;
	if (c->nat >= 0 &&
	    (f->nat < 0 ||
		((r->nat_pool[c->nat + f->nat / 64] >> (f->nat % 64)) & 1) ==
		    0))
		return false;
	return true;
}

/*
 * The slot of a signal's location: 0 when unknown or not in the map.
 * *missing is 1 for a GMnnnn code the map lacks, 2 for any other text
 * (never from nrm_signal_parse()), 0 otherwise.
 */
static int
route_slot(const struct nrm_router *r, const char *code, int *missing)
{
	int i, num = 0;

	*missing = 0;
	if (code[0] == '\0')
		return 0;
	if (code[0] != 'G' || code[1] != 'M' || strnlen(code, 7) != 6) {
		*missing = 2;
		return 0;
	}
	for (i = 2; i < 6; i++) {
		if (code[i] < '0' || code[i] > '9') {
			*missing = 2;
			return 0;
		}
		num = num * 10 + (code[i] - '0');
	}
	*missing = r->slot_of[num] == 0;
	return r->slot_of[num];
}

/* An explanation under construction; stops at the first cut piece. */
struct route_text {
	char *buf;
	size_t n, cap;
	bool full;
};

/*
 * Append s[0..len); a piece that does not fit is cut on a character
 * boundary and ends the text.
 */
static void
route_put(struct route_text *t, const char *s, size_t len)
{
	if (t->full)
		return;
	if (t->n + len >= t->cap) {
		len = nrm_utf8_trim(s, t->cap - 1 - t->n);
		t->full = true;
	}
	memcpy(t->buf + t->n, s, len);
	t->n += len;
	t->buf[t->n] = '\0';
}

/*
 * Append a NUL-terminated piece.
 */
static void
route_puts(struct route_text *t, const char *s)
{
	route_put(t, s, strlen(s));
}

/* Copy a region code (at most 15 bytes) into a 16-byte field. */
static void
route_code(char dst[16], const char *code)
{
	size_t n = strnlen(code, 15);

	memcpy(dst, code, n);
	dst[n] = '\0';
}

/*
 * See route.h.  Slot, first matching candidate, then the decision and
 * its explanation from the pieces made at load.
 */
void
nrm_route(const struct nrm_router *r, const struct nrm_signal *s,
    enum nrm_agency_kind reporter, struct nrm_decision *out)
{
	struct route_text t = {
	    out->explanation, 0, sizeof(out->explanation), false};
	const struct rules_rule *rule = NULL;
	const struct rules_region *g;
	const struct rules_slot *slot;
	struct route_facts f;
	int si, i, target, missing;
	uint32_t k;

	/* The fixed fields; lists and text are written up to their ends. */
	memset(out, 0, offsetof(struct nrm_decision, labels));
	out->n_hops = 0;
	out->explanation[0] = '\0';
	route_facts(r, s, reporter, &f);
	si = route_slot(r, s->municipality, &missing);
	slot = &r->slots[si];
	for (k = 0; k < slot->n; k++) {
		int ri = r->cands[slot->off + k];

		if (route_cond_holds(r, &r->conds[ri], &f)) {
			rule = &r->rules[ri];
			break;
		}
	}
	memcpy(out->ruleset_version, r->version, sizeof(out->ruleset_version));
	target = r->n_regions - 1; /* the national desk */
	if (rule == NULL) {
		/* Unreachable: the load guarantees a live catch-all. */
		out->priority = NRM_PRIO_URGENT;
		route_code(out->region, NRM_REGION_NATIONAL);
		route_puts(&t, "no rule matched -> national desk");
		return;
	}
	memcpy(out->rule_id, rule->id, sizeof(out->rule_id));
	out->priority = rule->priority;
	out->take_within = rule->take_within;
	out->first_contact_within = rule->first_contact_within;
	out->n_labels = rule->n_labels;
	for (i = 0; i < rule->n_labels; i++)
		memcpy(out->labels[i], rule->labels[i], NRM_ROUTE_LABEL_SIZE);
	route_put(&t, rule->head, rule->head_len);
	switch (rule->target) {
	case RULES_TO_LOCATION:
		if (si > 0) {
			target = r->munis[si - 1].region;
			route_put(&t, r->munis[si - 1].loc_text,
			    r->munis[si - 1].loc_len);
		} else if (missing == 1) {
			route_puts(&t, "; location ");
			route_put(&t, s->municipality, 6);
			route_puts(&t, " not in the map -> ");
		} else if (missing == 2) {
			route_puts(&t, "; location not in the map -> ");
		} else {
			route_puts(&t, "; location unknown -> ");
		}
		break;
	case RULES_TO_REGION:
		target = rule->region;
		route_puts(&t, "; routed to ");
		break;
	case RULES_TO_NATIONAL:
		route_puts(&t, "; routed to ");
		break;
	}
	g = &r->regions[target];
	route_put(&t, g->route_text, g->route_len);
	route_put(&t, rule->tail, rule->tail_len);
	route_code(out->region, r->regions[g->effective].pub.code);
	out->n_hops = g->n_path;
	for (i = 0; i < g->n_path; i++)
		route_code(out->hops[i], r->regions[g->path[i]].pub.code);
}

void
nrm_decision_reroute_uncovered(struct nrm_decision *d)
{
	struct route_text t = {d->explanation, strlen(d->explanation),
	    sizeof(d->explanation), false};
	char from[16];

	if (strcmp(d->region, NRM_REGION_NATIONAL) == 0)
		return;
	route_code(from, d->region);
	if (d->n_hops == 0) {
		route_code(d->hops[0], from);
		d->n_hops = 1;
	}
	if (d->n_hops == NRM_ROUTE_HOPS_MAX)
		d->n_hops--; /* the last hop gives way to the desk */
	route_code(d->hops[d->n_hops++], NRM_REGION_NATIONAL);
	route_code(d->region, NRM_REGION_NATIONAL);
	route_puts(&t, "; ");
	route_puts(&t, from);
	route_puts(&t,
	    " is uncovered (no active coordinator who acted "
	    "recently) -> national desk");
}

char *
nrm_decision_json(const struct nrm_decision *d)
{
	cJSON *o = cJSON_CreateObject(), *a;
	const char *prio = nrm_priority_name(d->priority);
	bool ok = o != NULL;
	int i;

	ok = ok && cJSON_AddStringToObject(o, "region", d->region) != NULL;
	ok = ok &&
	    cJSON_AddStringToObject(o, "priority", prio != NULL ? prio : "") !=
		NULL;
	ok = ok && cJSON_AddStringToObject(o, "rule_id", d->rule_id) != NULL;
	ok = ok &&
	    cJSON_AddStringToObject(o, "ruleset_version", d->ruleset_version) !=
		NULL;
	ok = ok &&
	    cJSON_AddNumberToObject(o, "take_within", (double)d->take_within) !=
		NULL;
	ok = ok &&
	    cJSON_AddNumberToObject(o, "first_contact_within",
		(double)d->first_contact_within) != NULL;
	a = ok ? cJSON_AddArrayToObject(o, "labels") : NULL;
	ok = a != NULL;
	for (i = 0; ok && i < d->n_labels && i < NRM_ROUTE_LABELS_MAX; i++)
		ok = cJSON_AddItemToArray(a, cJSON_CreateString(d->labels[i]));
	a = ok ? cJSON_AddArrayToObject(o, "hops") : NULL;
	ok = a != NULL;
	for (i = 0; ok && i < d->n_hops && i < NRM_ROUTE_HOPS_MAX; i++)
		ok = cJSON_AddItemToArray(a, cJSON_CreateString(d->hops[i]));
	ok = ok &&
	    cJSON_AddStringToObject(o, "explanation", d->explanation) != NULL;
	return nrm_json_print_take(o, ok);
}

/* ------------------------------------------------------------------ */
/* The coverage report                                                 */

char *
nrm_router_coverage_json(const struct nrm_router *r)
{
	cJSON *o = cJSON_CreateObject(), *regions, *w;
	bool ok = o != NULL;
	int i, k;

	ok = ok && cJSON_AddStringToObject(o, "version", r->version) != NULL;
	ok = ok && cJSON_AddNumberToObject(o, "rules", r->n_rules) != NULL;
	ok = ok &&
	    cJSON_AddNumberToObject(o, "municipalities", r->n_munis) != NULL;
	regions = ok ? cJSON_AddArrayToObject(o, "regions") : NULL;
	ok = regions != NULL;
	for (i = 0; ok && i < r->n_regions; i++) {
		const struct rules_region *g = &r->regions[i];
		cJSON *x = cJSON_CreateObject(), *office = NULL, *hops;

		ok = x != NULL && cJSON_AddItemToArray(regions, x);
		if (!ok) {
			cJSON_Delete(x);
			break;
		}
		ok = cJSON_AddStringToObject(x, "code", g->pub.code) != NULL &&
		    cJSON_AddStringToObject(x, "name", g->pub.name) != NULL &&
		    cJSON_AddBoolToObject(x, "active", g->pub.active) != NULL;
		if (ok && g->pub.office_name != NULL) {
			office = cJSON_AddObjectToObject(x, "office");
			ok = office != NULL &&
			    cJSON_AddStringToObject(
				office, "name", g->pub.office_name) != NULL &&
			    cJSON_AddStringToObject(office, "contact",
				g->pub.office_contact) != NULL;
		} else if (ok) {
			ok = cJSON_AddNullToObject(x, "office") != NULL;
		}
		if (ok && g->pub.fallback != NULL)
			ok = cJSON_AddStringToObject(
				 x, "fallback", g->pub.fallback) != NULL;
		else if (ok)
			ok = cJSON_AddNullToObject(x, "fallback") != NULL;
		ok = ok &&
		    cJSON_AddNumberToObject(
			x, "municipalities", g->pub.n_municipalities) != NULL &&
		    cJSON_AddStringToObject(x, "effective", g->pub.effective) !=
			NULL;
		hops = ok ? cJSON_AddArrayToObject(x, "hops") : NULL;
		ok = hops != NULL;
		for (k = 0; ok && k < g->n_path; k++)
			ok = cJSON_AddItemToArray(hops,
			    cJSON_CreateString(
				r->regions[g->path[k]].pub.code));
	}
	w = ok ? cJSON_AddArrayToObject(o, "warnings") : NULL;
	ok = w != NULL;
	for (i = 0; ok && i < r->n_warnings; i++)
		ok =
		    cJSON_AddItemToArray(w, cJSON_CreateString(r->warnings[i]));
	return nrm_json_print_take(o, ok);
}

/* Characters (code points) in a UTF-8 string, for column alignment. */
static int
route_width(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/*
 * The table: one line per region, columns padded to their widest cell
 * (names counted in characters, not bytes), then the warnings.
 */
char *
nrm_router_coverage_text(const struct nrm_router *r)
{
	struct ld_buf b = {0};
	size_t len;
	int i, w_code = 4, w_name = 4, w_fb = 8, w_eff, pad;

	for (i = 0; i < r->n_regions; i++) {
		const struct nrm_routing_region *g = &r->regions[i].pub;
		int wn = route_width(g->name);

		if ((int)strlen(g->code) > w_code)
			w_code = (int)strlen(g->code);
		if (wn > w_name)
			w_name = wn;
		if (g->fallback != NULL && (int)strlen(g->fallback) > w_fb)
			w_fb = (int)strlen(g->fallback);
	}
	w_eff = w_code < 9 ? 9 : w_code;
	nrm_ld_buf_add(&b,
	    "routing configuration %s\n%d rules, %d municipalities, %d "
	    "regions and the national desk\n\n",
	    r->version, r->n_rules, r->n_munis, r->n_regions - 1);
	nrm_ld_buf_add(&b, "%-*s  %-*s  %-6s  %5s  %-*s  %-*s  %s\n", w_code,
	    "CODE", w_name, "NAME", "ACTIVE", "MUNIS", w_fb, "FALLBACK", w_eff,
	    "ROUTES TO", "OFFICE");
	for (i = 0; i < r->n_regions; i++) {
		const struct nrm_routing_region *g = &r->regions[i].pub;

		pad = w_name - route_width(g->name);
		nrm_ld_buf_add(&b, "%-*s  %s%*s  %-6s  %5d  %-*s  %-*s  ",
		    w_code, g->code, g->name, pad, "", g->active ? "yes" : "no",
		    g->n_municipalities, w_fb,
		    g->fallback != NULL ? g->fallback : "-", w_eff,
		    g->effective);
		if (g->office_name != NULL)
			nrm_ld_buf_add(
			    &b, "%s, %s\n", g->office_name, g->office_contact);
		else
			nrm_ld_buf_add(&b, "(no office)\n");
	}
	if (r->n_warnings == 0) {
		nrm_ld_buf_add(&b, "\nwarnings: none\n");
	} else {
		nrm_ld_buf_add(&b, "\nwarnings (%d):\n", r->n_warnings);
		for (i = 0; i < r->n_warnings; i++)
			nrm_ld_buf_add(&b, "  %s\n", r->warnings[i]);
	}
	return nrm_ld_buf_take(&b, SIZE_MAX, &len);
}
