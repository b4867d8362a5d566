/*
 * rules.c - loading a routing configuration (see route.h, rules.h,
 * rules_ld.h), its driver and shared helpers:
 * parse regions.json, municipalities.csv and rules.json, check all that
 * issue 3 lists (and report every problem, not just the first), compile
 * the rules into masks and per-location candidate lists, and analyse
 * the rule set for rules that can never match.
 *
 * The load runs in phases; each later phase runs only as far as the
 * earlier ones make meaningful (no "unknown region" errors when
 * regions.json did not even parse):
 *   1. regions.json   regions, offices, national desk (nrm_ld_regions)
 *   2. fallbacks: existence, cycles, path length (nrm_ld_fallbacks)
 *   3. municipalities.csv through nrm_geo_parse_csv, then every
 *      municipality's region checked against regions.json (nrm_ld_munis)
 *   4. rules.json     rules, conditions, actions (nrm_ld_rules)
 *   5. only without errors: location sets, shadowing analysis,
 *      candidate index, explanation texts (nrm_ld_compile)
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

/*
 * Append printf-style text; on OOM the buffer is marked and later
 * appends do nothing (nrm_ld_buf_take then fails).
 */
void
nrm_ld_buf_add(struct ld_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->n;

		va_start(ap, fmt);
		n = vsnprintf(b->p != NULL ? b->p + b->n : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->n += (size_t)n;
			return;
		}
		{
			size_t cap = (b->cap + (size_t)n + 1) * 2;
			char *p = realloc(b->p, cap);

			if (p == NULL) {
				b->oom = true;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

/*
 * Take the buffer's text, cut to at most max bytes on a character
 * boundary (with "..." when cut).  Returns NULL on OOM (buffer freed).
 */
char *
nrm_ld_buf_take(struct ld_buf *b, size_t max, size_t *len)
{
	char *p;

	if (b->p == NULL && !b->oom)
		nrm_ld_buf_add(b, "%s", "");
	if (b->oom) {
		free(b->p);
		return NULL;
	}
	if (b->n > max) {
		b->n = nrm_utf8_trim(b->p, max - 3);
		memcpy(b->p + b->n, "...", 4);
		b->n += 3;
	}
	p = b->p;
	*len = b->n;
	b->p = NULL;
	b->n = 0;
	b->cap = 0;
	return p;
}

/* The first `max` bytes of s, cut on a character boundary. */
int
nrm_ld_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	return (int)(n > max ? nrm_utf8_trim(s, max) : n);
}

/*
 * Report an error or a warning of this load (see nrm_diag_add for file
 * and path); nrm_ld_error and nrm_ld_warn are this with a severity.
 */
void
nrm_ld_report(struct ld *L, enum nrm_diag_severity sev, const char *file,
    const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nrm_diag_add(L->diag, sev, file, path, "%s", msg);
}

/*
 * A configuration value shown in a message: at most LD_SHOWN_MAX bytes,
 * printable ASCII kept, anything else as '?'.  Configuration text holds
 * no personal data, but a message should stay one readable line.
 */
const char *
nrm_ld_shown(const char *s, char buf[LD_SHOWN_MAX + 4])
{
	return nrm_diag_shown(s, buf);
}

/*
 * Parse one JSON file with the strict reader (json.h), reported into
 * this load's diagnostics (nrm_diag_parse_json).
 */
cJSON *
nrm_ld_json(struct ld *L, const char *file, const char *text, size_t len)
{
	return nrm_diag_parse_json(L->diag, file, text, len);
}

/*
 * Match the members of object `obj` (at `path`) against names[0..n)
 * (nrm_json_members, every fault reported).  Returns the number of
 * errors reported.
 */
int
nrm_ld_members(struct ld *L, const char *file, const char *path,
    const cJSON *obj, const char *const *names, int n, uint32_t required,
    const cJSON **found)
{
	return nrm_diag_members(
	    L->diag, file, path, obj, names, n, required, found);
}

/*
 * A free-text value (nrm_json_text: 1..max bytes, not blank, no control
 * characters): a malloc'd copy in *out.  NRM_ERR, reported, otherwise.
 */
int
nrm_ld_text(struct ld *L, const char *file, const char *path, const cJSON *v,
    size_t max, char **out)
{
	return nrm_diag_text_value(L->diag, file, path, v, max, false, out);
}

/*
 * A JSON boolean into *out; reported and NRM_ERR otherwise.
 */
int
nrm_ld_bool(
    struct ld *L, const char *file, const char *path, const cJSON *v, bool *out)
{
	struct nrm_error err;

	if (nrm_json_bool(v, path, out, &err) == NRM_OK)
		return NRM_OK;
	nrm_ld_error(L, file, err.field, "%s", err.detail);
	return NRM_ERR;
}

/* A region code: 1..15 of [A-Za-z0-9_-] (the rule of geo.c). */
bool
nrm_ld_code_ok(const char *s)
{
	return nrm_ascii_word(s, 15, "_-");
}

/* "GM" and four digits: the number, else -1. */
int
nrm_ld_muni_num(const char *s)
{
	int i, n = 0;

	if (s[0] != 'G' || s[1] != 'M')
		return -1;
	for (i = 2; i < 6; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return s[6] == '\0' ? n : -1;
}

/* Index of the region with this code, the national desk's, or -1. */
int
nrm_ld_region_find(const struct ld *L, const char *code)
{
	int i;

	if (strcmp(code, NRM_REGION_NATIONAL) == 0)
		return L->n_json_regions;
	if (code[0] == '\0')
		return -1;
	for (i = 0; i < L->n_json_regions; i++) {
		if (strcmp(L->r->regions[i].pub.code, code) == 0)
			return i;
	}
	return -1;
}

/* Keep the warnings of this load (entries from `first` on). */
static int
ld_keep_warnings(struct ld *L, int first)
{
	struct nrm_router *r = L->r;
	int i, n = 0;

	for (i = first; i < L->diag->n; i++)
		n += L->diag->entries[i].severity == NRM_DIAG_WARNING;
	if (n == 0)
		return NRM_OK;
	r->warnings = calloc((size_t)n, sizeof(*r->warnings));
	if (r->warnings == NULL)
		return NRM_ERR;
	for (i = first; i < L->diag->n; i++) {
		if (L->diag->entries[i].severity != NRM_DIAG_WARNING)
			continue;
		r->warnings[r->n_warnings] = strdup(L->diag->entries[i].text);
		if (r->warnings[r->n_warnings] == NULL)
			return NRM_ERR;
		r->n_warnings++;
	}
	return NRM_OK;
}

/*
 * Release what only the loader needed (not the router).
 */
static void
ld_free(struct ld *L)
{
	int i;

	if (L->lr != NULL) {
		for (i = 0; i < L->r->n_rules; i++) {
			free(L->lr[i].munis);
			free(L->lr[i].regions);
			free(L->lr[i].bits);
		}
	}
	free(L->lr);
	free(L->fb_code);
	free(L->fb_set);
	free(L->has_office);
	free(L->first_line);
}

/* The version: 1..71 printable ASCII characters, no spaces. */
static bool
ld_version_ok(const char *v)
{
	size_t i;

	if (v == NULL || v[0] == '\0')
		return false;
	for (i = 0; v[i] != '\0'; i++) {
		if (i >= NRM_ROUTE_VERSION_SIZE - 1 || v[i] <= 0x20 ||
		    v[i] >= 0x7F)
			return false;
	}
	return true;
}

/* Fill the public view of each region (pointers into the router). */
static void
ld_publish(struct ld *L)
{
	struct nrm_router *r = L->r;
	int i;

	for (i = 0; i < r->n_regions; i++) {
		struct rules_region *g = &r->regions[i];

		g->pub.name = g->name;
		g->pub.office_name = g->office_name;
		g->pub.office_contact = g->office_contact;
		g->pub.fallback =
		    g->fallback >= 0 ? r->regions[g->fallback].pub.code : NULL;
		g->pub.effective = r->regions[g->effective].pub.code;
	}
}

/*
 * See route.h.  Phases as described atop this file; any error frees
 * the half-built router and leaves *out NULL.
 */
int
nrm_router_load(struct nrm_router **out, const struct nrm_routing_src *src,
    struct nrm_diag *diag)
{
	struct ld L;
	int errors = diag->n_errors, first = diag->n, errors_before;

	*out = NULL;
	memset(&L, 0, sizeof(L));
	L.diag = diag;
	L.src = src;
	if (!ld_version_ok(src->version)) {
		nrm_ld_error(&L, NULL, "version",
		    "must be 1 to %d printable ASCII characters",
		    NRM_ROUTE_VERSION_SIZE - 1);
		return NRM_ERR;
	}
	L.r = calloc(1, sizeof(*L.r));
	if (L.r == NULL) {
		nrm_ld_error(&L, NULL, NULL, "out of memory");
		return NRM_ERR;
	}
	snprintf(L.r->version, sizeof(L.r->version), "%s", src->version);
	errors_before = diag->n_errors;
	nrm_ld_regions(&L);
	if (L.r->regions == NULL)
		goto fail;
	if (L.regions_ok)
		nrm_ld_fallbacks(&L, errors_before);
	nrm_ld_munis(&L);
	nrm_ld_rules(&L);
	if (diag->n_errors > errors || !L.munis_ok || L.r->n_rules == 0)
		goto fail;
	nrm_ld_compile(&L);
	if (diag->n_errors > errors)
		goto fail;
	ld_publish(&L);
	if (ld_keep_warnings(&L, first) != NRM_OK) {
		nrm_ld_error(&L, NULL, NULL, "out of memory");
		goto fail;
	}
	ld_free(&L);
	*out = L.r;
	return NRM_OK;
fail:
	ld_free(&L);
	nrm_router_free(L.r);
	if (diag->n_errors == errors)
		nrm_ld_error(&L, NULL, NULL, "configuration refused");
	return NRM_ERR;
}

/*
 * Everything the router owns, the map included.
 */
void
nrm_router_free(struct nrm_router *r)
{
	int i;

	if (r == NULL)
		return;
	if (r->regions != NULL) {
		for (i = 0; i < r->n_regions; i++) {
			free(r->regions[i].name);
			free(r->regions[i].office_name);
			free(r->regions[i].office_contact);
			free(r->regions[i].route_text);
		}
	}
	if (r->rules != NULL) {
		for (i = 0; i < r->n_rules; i++) {
			free(r->rules[i].description);
			free(r->rules[i].head);
			free(r->rules[i].tail);
		}
	}
	if (r->munis != NULL) {
		for (i = 0; i < r->n_munis; i++)
			free(r->munis[i].loc_text);
	}
	for (i = 0; i < r->n_warnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r->regions);
	free(r->rules);
	free(r->conds);
	free(r->munis);
	free(r->slots);
	free(r->cands);
	free(r->nat_pool);
	nrm_geo_free(r->geo);
	free(r);
}
