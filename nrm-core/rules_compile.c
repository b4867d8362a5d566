/*
 * rules_compile.c - phase 5 of a routing load (see rules_ld.h), only
 * for a configuration without errors: location sets, the shadowing
 * analysis, the per-location candidate index and explanation texts.
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
/* Phase 5: compile and analyse                                        */

/*
 * Bit i of a bit set.
 */
static bool
ld_bit(const uint64_t *bits, int i)
{
	return (bits[i / 64] >> (i % 64) & 1) != 0;
}

/* Whether rule location `lr` includes slot s (0 = unknown location). */
static bool
ld_loc_has(const struct ld_rule *lr, int s)
{
	switch (lr->loc) {
	case LD_LOC_ALL:
		return true;
	case LD_LOC_KNOWN:
		return s > 0;
	case LD_LOC_UNKNOWN:
		return s == 0;
	case LD_LOC_SET:
		return ld_bit(lr->bits, s);
	case LD_LOC_EMPTY:
		break;
	}
	return false;
}

/*
 * Turn each rule's location conditions into one of the enum ld_loc
 * forms.  A municipality list and a region list intersect; either with
 * "location_known": false selects nothing.  A set holding every
 * municipality becomes LD_LOC_KNOWN.  Returns NRM_ERR on OOM.
 */
static int
ld_locations(struct ld *L)
{
	struct nrm_router *r = L->r;
	bool *in_region = NULL;
	int i, k, s, count;

	in_region = calloc((size_t)r->n_regions, sizeof(*in_region));
	if (in_region == NULL)
		return NRM_ERR;
	for (i = 0; i < r->n_rules; i++) {
		struct ld_rule *lr = &L->lr[i];

		if (!lr->has_munis && !lr->has_regions) {
			lr->loc = lr->loc_known < 0 ? LD_LOC_ALL
			    : lr->loc_known         ? LD_LOC_KNOWN
						    : LD_LOC_UNKNOWN;
			continue;
		}
		lr->bits = calloc((size_t)L->slot_words, sizeof(uint64_t));
		if (lr->bits == NULL) {
			free(in_region);
			return NRM_ERR;
		}
		memset(in_region, 0, (size_t)r->n_regions * sizeof(bool));
		for (k = 0; k < lr->n_regions; k++)
			in_region[lr->regions[k]] = true;
		count = 0;
		if (lr->has_munis) {
			for (k = 0; k < lr->n_munis; k++) {
				s = lr->munis[k];
				if (lr->has_regions &&
				    !in_region[r->munis[s - 1].region])
					continue;
				lr->bits[s / 64] |= 1ull << (s % 64);
				count++;
			}
		} else {
			for (s = 1; s < L->n_slots; s++) {
				if (!in_region[r->munis[s - 1].region])
					continue;
				lr->bits[s / 64] |= 1ull << (s % 64);
				count++;
			}
		}
		if (lr->loc_known == 0 || count == 0) {
			lr->loc = LD_LOC_EMPTY;
		} else if (count == r->n_munis) {
			lr->loc = LD_LOC_KNOWN;
		} else {
			lr->loc = LD_LOC_SET;
			continue;
		}
		free(lr->bits);
		lr->bits = NULL;
	}
	free(in_region);
	return NRM_OK;
}

/* Every location of rule b is a location of rule a. */
static bool
ld_loc_covers(
    const struct ld *L, const struct ld_rule *a, const struct ld_rule *b)
{
	int w;

	switch (a->loc) {
	case LD_LOC_ALL:
		return true;
	case LD_LOC_KNOWN:
		return b->loc == LD_LOC_KNOWN || b->loc == LD_LOC_SET;
	case LD_LOC_UNKNOWN:
		return b->loc == LD_LOC_UNKNOWN;
	case LD_LOC_SET:
		if (b->loc != LD_LOC_SET)
			return false;
		for (w = 0; w < L->slot_words; w++) {
			if ((b->bits[w] & ~a->bits[w]) != 0)
				return false;
		}
		return true;
	case LD_LOC_EMPTY:
		break;
	}
	return false;
}

/*
 * Rule i matches every signal that rule j matches: each condition of i
 * is at most as narrow as j's, dimension by dimension.  Sound (it never
 * claims a cover that does not hold), not complete (two earlier rules
 * that cover j only together are not found).
 */
static bool
ld_covers(const struct ld *L, int i, int j)
{
	const struct rules_cond *a = &L->r->conds[i], *b = &L->r->conds[j];
	const struct ld_rule *la = &L->lr[i], *lb = &L->lr[j];
	int w;

	if ((a->fmask & ~b->fmask) != 0 || ((a->fval ^ b->fval) & a->fmask))
		return false;
	if (a->expl != 0 && (b->expl == 0 || (b->expl & ~a->expl) != 0))
		return false;
	if (a->ctrl != 0 && (b->ctrl == 0 || (b->ctrl & ~a->ctrl) != 0))
		return false;
	if ((b->kinds & ~a->kinds) != 0 || (b->genders & ~a->genders) != 0)
		return false;
	if (a->age_min > b->age_min || a->age_max < b->age_max)
		return false;
	if (la->has_nat) {
		if (!lb->has_nat)
			return false;
		for (w = 0; w < RULES_NAT_WORDS; w++) {
			if ((lb->nat[w] & ~la->nat[w]) != 0)
				return false;
		}
	}
	return ld_loc_covers(L, la, lb);
}

/*
 * Warnings about the rule set: rules that can never match (empty
 * location, or shadowed by an earlier rule that matches all they
 * match), and regions nothing leads to.  Marks dead rules.
 */
static void
ld_analyse(struct ld *L)
{
	struct nrm_router *r = L->r;
	bool *used;
	int i, j, k;

	for (j = 0; j < r->n_rules; j++) {
		struct ld_rule *lb = &L->lr[j];

		if (lb->loc == LD_LOC_EMPTY) {
			lb->dead = true;
			nrm_ld_warn(L, LD_RULES, NULL,
			    "rules[%d] (id %s) can never match: %s", j,
			    r->rules[j].id,
			    lb->loc_known == 0
				? "\"location_known\": false excludes its "
				  "municipality and region conditions"
				: "no municipality of the map meets its "
				  "municipality and region conditions");
			continue;
		}
		for (i = 0; i < j; i++) {
			if (L->lr[i].dead || !ld_covers(L, i, j))
				continue;
			lb->dead = true;
			nrm_ld_warn(L, LD_RULES, NULL,
			    "rules[%d] (id %s) is shadowed by rules[%d] (id "
			    "%s) and can never match",
			    j, r->rules[j].id, i, r->rules[i].id);
			break;
		}
	}
	used = calloc((size_t)r->n_regions, sizeof(*used));
	if (used == NULL)
		return;
	for (i = 0; i < r->n_regions; i++) {
		if (r->regions[i].fallback >= 0 && i != r->regions[i].fallback)
			used[r->regions[i].fallback] = true;
	}
	for (j = 0; j < r->n_rules; j++) {
		if (r->rules[j].target == RULES_TO_REGION)
			used[r->rules[j].region] = true;
		for (k = 0; k < L->lr[j].n_regions; k++)
			used[L->lr[j].regions[k]] = true;
	}
	for (i = 0; i < L->n_json_regions; i++) {
		char path[LD_PATH_MAX];

		if (used[i] || r->regions[i].pub.n_municipalities > 0)
			continue;
		nrm_json_path_index(path, "regions", i);
		nrm_ld_warn(L, LD_REGIONS, path,
		    "region %s has no municipalities and no rule or "
		    "fallback leads to it",
		    r->regions[i].pub.code);
	}
	free(used);
}

/*
 * Build each slot's candidate list (the live rules whose location
 * includes the slot, in rule order), storing equal lists once: a hash
 * table maps list contents to their place in the pool.
 */
static int
ld_index(struct ld *L)
{
	struct nrm_router *r = L->r;
	uint16_t *tmp = NULL;
	int32_t *table = NULL; /* slot whose list is stored, or -1 */
	uint32_t tsize = 16, used = 0, mask;
	size_t cap = 0;
	int s, i, rc = NRM_ERR;

	while (tsize < (uint32_t)L->n_slots * 2)
		tsize *= 2;
	mask = tsize - 1;
	r->slots = calloc((size_t)L->n_slots, sizeof(*r->slots));
	tmp = calloc((size_t)r->n_rules, sizeof(*tmp));
	table = malloc(tsize * sizeof(*table));
	if (r->slots == NULL || tmp == NULL || table == NULL)
		goto out;
	r->n_slots = L->n_slots;
	memset(table, 0xFF, tsize * sizeof(*table));
	for (s = 0; s < L->n_slots; s++) {
		uint32_t n = 0, h, pos;

		for (i = 0; i < r->n_rules; i++) {
			if (!L->lr[i].dead && ld_loc_has(&L->lr[i], s))
				tmp[n++] = (uint16_t)i;
		}
		h = (uint32_t)nrm_fnv1a64(
		    NRM_FNV1A64_BASIS, tmp, n * sizeof(*tmp));
		for (pos = h & mask; table[pos] >= 0; pos = (pos + 1) & mask) {
			const struct rules_slot *o = &r->slots[table[pos]];

			if (o->n == n && n > 0 &&
			    memcmp(r->cands + o->off, tmp, n * sizeof(*tmp)) ==
				0)
				break;
		}
		if (table[pos] >= 0) {
			r->slots[s] = r->slots[table[pos]];
			continue;
		}
		if (used + n > cap) {
			size_t ncap = (cap + n) * 2;
			uint16_t *p = realloc(r->cands, ncap * sizeof(*p));

			if (p == NULL)
				goto out;
			r->cands = p;
			cap = ncap;
		}
		memcpy(r->cands + used, tmp, n * sizeof(*tmp));
		r->slots[s].off = used;
		r->slots[s].n = n;
		used += n;
		table[pos] = s;
	}
	rc = NRM_OK;
out:
	free(tmp);
	free(table);
	return rc;
}

/* Append "name a, b, c" or "name any of a, b" for a name mask. */
static void
ld_text_mask(struct ld_buf *b, const char *what, uint32_t mask,
    const char *const *names, int n)
{
	int k, count = 0;

	for (k = 0; k < n; k++)
		count += (mask >> k) & 1;
	nrm_ld_buf_add(b, "; %s%s", what, count > 1 ? " any of " : " ");
	count = 0;
	for (k = 0; k < n; k++) {
		if ((mask >> k) & 1)
			nrm_ld_buf_add(
			    b, "%s%s", count++ > 0 ? ", " : "", names[k]);
	}
}

/* The conditions part of a rule's explanation. */
static void
ld_text_conds(struct ld *L, int i, struct ld_buf *b)
{
	struct nrm_router *r = L->r;
	const struct rules_cond *c = &r->conds[i];
	const struct ld_rule *lr = &L->lr[i];
	int k;

	if (!lr->has_conds) {
		nrm_ld_buf_add(b, "; no conditions (catch-all)");
		return;
	}
	if (c->fmask & RULES_F_MINOR)
		nrm_ld_buf_add(b, "; %s",
		    c->fval & RULES_F_MINOR ? "minor" : "not a minor");
	if (lr->has_age) {
		if (c->age_min == c->age_max)
			nrm_ld_buf_add(b, "; age %d", c->age_min);
		else
			nrm_ld_buf_add(
			    b, "; age %d to %d", c->age_min, c->age_max);
	}
	if (lr->has_expl)
		ld_text_mask(b, "exploitation",
		    c->expl != 0 ? c->expl : (1u << NRM_EXPL_COUNT) - 1,
		    nrm_exploitation_names, NRM_EXPL_COUNT);
	if (lr->has_ctrl)
		ld_text_mask(b, "control means", c->ctrl, nrm_control_names,
		    NRM_CTRL_COUNT);
	if (c->fmask & RULES_F_DANGER)
		nrm_ld_buf_add(b, "; %s",
		    c->fval & RULES_F_DANGER ? "immediate danger"
					     : "no immediate danger");
	if (c->fmask & RULES_F_SHELTER)
		nrm_ld_buf_add(b, "; %s",
		    c->fval & RULES_F_SHELTER ? "needs shelter"
					      : "no shelter needed");
	if (lr->has_kinds)
		ld_text_mask(b, "reporter", c->kinds, nrm_agency_kind_names,
		    NRM_AGENCY_COUNT);
	if (lr->loc_known >= 0)
		nrm_ld_buf_add(
		    b, "; location %s", lr->loc_known ? "known" : "unknown");
	if (lr->has_munis) {
		nrm_ld_buf_add(
		    b, "; municipality%s", lr->n_munis > 1 ? " one of" : "");
		for (k = 0; k < lr->n_munis && k < LD_LIST_SHOWN; k++) {
			const struct nrm_municipality *m =
			    nrm_geo_municipality_at(r->geo, lr->munis[k] - 1);

			nrm_ld_buf_add(b, "%s %s %.*s", k > 0 ? "," : "",
			    m->code, nrm_ld_cut(m->name, LD_TEXT_NAME_MAX),
			    m->name);
		}
		if (lr->n_munis > LD_LIST_SHOWN)
			nrm_ld_buf_add(
			    b, " and %d more", lr->n_munis - LD_LIST_SHOWN);
	}
	if (lr->has_regions) {
		nrm_ld_buf_add(
		    b, "; region%s", lr->n_regions > 1 ? " one of" : "");
		for (k = 0; k < lr->n_regions && k < LD_LIST_SHOWN; k++)
			nrm_ld_buf_add(b, "%s %s", k > 0 ? "," : "",
			    r->regions[lr->regions[k]].pub.code);
		if (lr->n_regions > LD_LIST_SHOWN)
			nrm_ld_buf_add(
			    b, " and %d more", lr->n_regions - LD_LIST_SHOWN);
	}
	if (lr->has_nat) {
		int shown = 0, total = 0, idx;

		for (idx = 0; idx < 26 * 26; idx++)
			total += ld_bit(lr->nat, idx);
		nrm_ld_buf_add(
		    b, "; nationality%s", total > 1 ? " one of" : "");
		for (idx = 0; idx < 26 * 26 && shown < LD_LIST_SHOWN; idx++) {
			if (!ld_bit(lr->nat, idx))
				continue;
			nrm_ld_buf_add(b, "%s %c%c", shown++ > 0 ? "," : "",
			    'A' + idx / 26, 'A' + idx % 26);
		}
		if (total > LD_LIST_SHOWN)
			nrm_ld_buf_add(
			    b, " and %d more", total - LD_LIST_SHOWN);
	}
	if (lr->has_genders)
		ld_text_mask(b, "gender", c->genders, nrm_ld_gender_names,
		    RULES_GENDERS);
}

/* "CODE name" of region g, the name cut for explanations. */
static void
ld_text_region(struct ld_buf *b, const struct rules_region *g)
{
	nrm_ld_buf_add(b, "%s %.*s", g->pub.code,
	    nrm_ld_cut(g->name, LD_TEXT_NAME_MAX), g->name);
}

/*
 * The explanation pieces: per rule a head ("rule x matched: ...") and
 * a tail ("; priority ..."), per region its route text with hops, per
 * municipality its location text.
 */
static int
ld_texts(struct ld *L)
{
	struct nrm_router *r = L->r;
	char take[NRM_DURATION_TEXT_SIZE], contact[NRM_DURATION_TEXT_SIZE];
	int i, k;

	for (i = 0; i < r->n_rules; i++) {
		struct rules_rule *rule = &r->rules[i];
		struct ld_buf b = {0};

		nrm_ld_buf_add(&b, "rule %s matched", rule->id);
		ld_text_conds(L, i, &b);
		/* "rule x matched; minor" -> "rule x matched: minor". */
		if (b.p != NULL && !b.oom) {
			char *semi =
			    b.p + strlen("rule  matched") + strlen(rule->id);

			semi[0] = ':';
		}
		rule->head = nrm_ld_buf_take(&b, LD_HEAD_MAX, &rule->head_len);
		if (rule->head == NULL)
			return NRM_ERR;
		if (nrm_duration_format(
			rule->take_within, take, sizeof(take)) != NRM_OK ||
		    nrm_duration_format(rule->first_contact_within, contact,
			sizeof(contact)) != NRM_OK)
			return NRM_ERR;
		nrm_ld_buf_add(&b,
		    "; priority %s, take within %s, first contact within %s",
		    nrm_priority_names[rule->priority], take, contact);
		rule->tail = nrm_ld_buf_take(&b, 200, &rule->tail_len);
		if (rule->tail == NULL)
			return NRM_ERR;
	}
	for (i = 0; i < r->n_regions; i++) {
		struct rules_region *g = &r->regions[i];
		struct ld_buf b = {0};

		ld_text_region(&b, g);
		for (k = 1; k < g->n_path; k++) {
			nrm_ld_buf_add(&b, " (inactive) -> fallback ");
			ld_text_region(&b, &r->regions[g->path[k]]);
		}
		g->route_text =
		    nrm_ld_buf_take(&b, LD_ROUTE_TEXT_MAX, &g->route_len);
		if (g->route_text == NULL)
			return NRM_ERR;
	}
	for (k = 0; k < r->n_munis; k++) {
		const struct nrm_municipality *m =
		    nrm_geo_municipality_at(r->geo, k);
		struct ld_buf b = {0};

		nrm_ld_buf_add(&b, "; location %s %.*s -> ", m->code,
		    nrm_ld_cut(m->name, LD_TEXT_NAME_MAX), m->name);
		r->munis[k].loc_text =
		    nrm_ld_buf_take(&b, 200, &r->munis[k].loc_len);
		if (r->munis[k].loc_text == NULL)
			return NRM_ERR;
	}
	return NRM_OK;
}

/* Pool the nationality sets; note which facts the rules need. */
static int
ld_nat_pool(struct ld *L)
{
	struct nrm_router *r = L->r;
	int i, n = 0;

	for (i = 0; i < r->n_rules; i++) {
		n += L->lr[i].has_nat;
		if (L->lr[i].has_age)
			r->uses_age = true;
	}
	if (n == 0)
		return NRM_OK;
	r->uses_nat = true;
	r->nat_pool = calloc((size_t)n * RULES_NAT_WORDS, sizeof(uint64_t));
	if (r->nat_pool == NULL)
		return NRM_ERR;
	n = 0;
	for (i = 0; i < r->n_rules; i++) {
		if (!L->lr[i].has_nat)
			continue;
		memcpy(r->nat_pool + n, L->lr[i].nat, sizeof(L->lr[i].nat));
		r->conds[i].nat = n;
		n += RULES_NAT_WORDS;
	}
	return NRM_OK;
}

/*
 * Phase 5, only for a configuration without errors: locations,
 * analysis, index, texts; OOM is reported as an error.
 */
void
nrm_ld_compile(struct ld *L)
{
	if (ld_locations(L) != NRM_OK)
		goto oom;
	ld_analyse(L);
	if (ld_index(L) != NRM_OK || ld_texts(L) != NRM_OK ||
	    ld_nat_pool(L) != NRM_OK)
		goto oom;
	return;
oom:
	nrm_ld_error(L, NULL, NULL, "out of memory");
}
