/*
 * rules_regions.c - phases 1 to 3 of a routing load (see rules_ld.h):
 * regions.json, the fallback chains, municipalities.csv.
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
/* Phase 1: regions.json                                               */

/* An office object {name, contact} into *name / *contact. */
static int
ld_office(
    struct ld *L, const char *path, const cJSON *v, char **name, char **contact)
{
	static const char *const keys[] = {"name", "contact"};
	const cJSON *f[2];
	char sub[LD_PATH_MAX];
	int rc = NRM_OK;

	if (!cJSON_IsObject(v)) {
		nrm_ld_error(L, LD_REGIONS, path,
		    "must be an object {\"name\": ..., \"contact\": ...}");
		return NRM_ERR;
	}
	if (nrm_ld_members(L, LD_REGIONS, path, v, keys, 2, 3u, f) > 0)
		rc = NRM_ERR;
	if (f[0] != NULL) {
		nrm_json_path(sub, path, "name");
		if (nrm_ld_text(L, LD_REGIONS, sub, f[0], LD_OFFICE_MAX,
			name) != NRM_OK)
			rc = NRM_ERR;
	}
	if (f[1] != NULL) {
		nrm_json_path(sub, path, "contact");
		if (nrm_ld_text(L, LD_REGIONS, sub, f[1], LD_OFFICE_MAX,
			contact) != NRM_OK)
			rc = NRM_ERR;
	}
	return rc;
}

/* The national desk: {"name": ..., "office": {...}}. */
static void
ld_national(struct ld *L, const cJSON *v)
{
	static const char *const keys[] = {"name", "office"};
	struct rules_region *g = &L->r->regions[L->n_json_regions];
	const cJSON *f[2];

	if (v == NULL)
		return;
	if (!cJSON_IsObject(v)) {
		nrm_ld_error(L, LD_REGIONS, "national",
		    "must be an object {\"name\": ..., \"office\": ...}");
		return;
	}
	nrm_ld_members(L, LD_REGIONS, "national", v, keys, 2, 3u, f);
	if (f[0] != NULL) {
		free(g->name);
		g->name = NULL;
		(void)nrm_ld_text(L, LD_REGIONS, "national.name", f[0],
		    LD_NAME_MAX, &g->name);
	}
	if (f[1] != NULL)
		(void)ld_office(L, "national.office", f[1], &g->office_name,
		    &g->office_contact);
}

/* One entry of regions[]: code, name, active, office, fallback. */
static void
ld_region(struct ld *L, int i, const cJSON *v)
{
	static const char *const keys[] = {
	    "code", "name", "active", "office", "fallback"};
	struct rules_region *g = &L->r->regions[i];
	const cJSON *f[5];
	char path[LD_PATH_MAX], sub[LD_PATH_MAX], shown[LD_SHOWN_MAX + 4];
	int k;

	nrm_json_path_index(path, "regions", i);
	g->fallback = -1;
	if (!cJSON_IsObject(v)) {
		nrm_ld_error(L, LD_REGIONS, path, "must be an object");
		return;
	}
	nrm_ld_members(L, LD_REGIONS, path, v, keys, 5, 7u, f);
	if (f[0] != NULL) {
		nrm_json_path(sub, path, "code");
		if (!cJSON_IsString(f[0])) {
			nrm_ld_error(L, LD_REGIONS, sub, "must be a string");
		} else if (strcmp(f[0]->valuestring, NRM_REGION_NATIONAL) ==
		    0) {
			nrm_ld_error(L, LD_REGIONS, sub,
			    "NATIONAL is the national desk; describe it "
			    "under \"national\"");
		} else if (!nrm_ld_code_ok(f[0]->valuestring)) {
			nrm_ld_error(L, LD_REGIONS, sub,
			    "\"%s\" is not a region code (1 to 15 of A-Z a-z "
			    "0-9 _ -)",
			    nrm_ld_shown(f[0]->valuestring, shown));
		} else {
			k = nrm_ld_region_find(L, f[0]->valuestring);
			if (k >= 0 && k < i)
				nrm_ld_error(L, LD_REGIONS, sub,
				    "duplicate region %s (also regions[%d])",
				    f[0]->valuestring, k);
			else
				snprintf(g->pub.code, sizeof(g->pub.code), "%s",
				    f[0]->valuestring);
		}
	}
	if (f[1] != NULL) {
		nrm_json_path(sub, path, "name");
		(void)nrm_ld_text(
		    L, LD_REGIONS, sub, f[1], LD_NAME_MAX, &g->name);
	}
	if (f[2] != NULL) {
		nrm_json_path(sub, path, "active");
		(void)nrm_ld_bool(L, LD_REGIONS, sub, f[2], &g->pub.active);
	}
	if (f[3] != NULL) {
		nrm_json_path(sub, path, "office");
		/* A bad office is its own error, not also "no office". */
		(void)ld_office(
		    L, sub, f[3], &g->office_name, &g->office_contact);
		L->has_office[i] = true;
	}
	if (f[4] != NULL) {
		nrm_json_path(sub, path, "fallback");
		if (!cJSON_IsString(f[4]))
			nrm_ld_error(L, LD_REGIONS, sub, "must be a string");
		else if (!nrm_ld_code_ok(f[4]->valuestring))
			nrm_ld_error(L, LD_REGIONS, sub,
			    "\"%s\" is not a region code",
			    nrm_ld_shown(f[4]->valuestring, shown));
		else {
			snprintf(L->fb_code[i], sizeof(L->fb_code[i]), "%s",
			    f[4]->valuestring);
			L->fb_set[i] = true;
		}
	}
}

/*
 * Allocate the region table (entries + the national desk) and the
 * loader's per-region arrays; NRM_ERR on OOM.
 */
static int
ld_regions_alloc(struct ld *L, int n)
{
	struct nrm_router *r = L->r;

	r->regions = calloc((size_t)n + 1, sizeof(*r->regions));
	L->fb_code = calloc((size_t)n + 1, sizeof(*L->fb_code));
	L->fb_set = calloc((size_t)n + 1, sizeof(*L->fb_set));
	L->has_office = calloc((size_t)n + 1, sizeof(*L->has_office));
	L->first_line = calloc((size_t)n + 1, sizeof(*L->first_line));
	if (r->regions == NULL || L->fb_code == NULL || L->fb_set == NULL ||
	    L->has_office == NULL || L->first_line == NULL)
		return NRM_ERR;
	r->n_regions = n + 1;
	L->n_json_regions = n;
	snprintf(r->regions[n].pub.code, sizeof(r->regions[n].pub.code), "%s",
	    NRM_REGION_NATIONAL);
	r->regions[n].pub.active = true;
	r->regions[n].fallback = -1;
	return NRM_OK;
}

/*
 * Phase 1: parse regions.json into the region table (always allocated,
 * with the national desk last, unless memory runs out); sets
 * L->regions_ok when the file parsed as an object.
 */
void
nrm_ld_regions(struct ld *L)
{
	static const char *const keys[] = {
	    "description", "national", "regions"};
	const struct nrm_routing_src *src = L->src;
	const cJSON *f[3], *v;
	cJSON *root;
	char *desc = NULL;
	int n = 0, i;

	root = nrm_ld_json(L, LD_REGIONS, src->regions_json, src->regions_len);
	if (root != NULL && !cJSON_IsObject(root)) {
		nrm_ld_error(L, LD_REGIONS, NULL,
		    "must be a JSON object with \"national\" and "
		    "\"regions\"");
		cJSON_Delete(root);
		root = NULL;
	}
	if (root != NULL) {
		nrm_ld_members(L, LD_REGIONS, "", root, keys, 3, 6u, f);
		if (f[0] != NULL) {
			(void)nrm_ld_text(L, LD_REGIONS, "description", f[0],
			    LD_DESCRIPTION_MAX, &desc);
			free(desc);
		}
		if (f[2] != NULL && !cJSON_IsArray(f[2])) {
			nrm_ld_error(
			    L, LD_REGIONS, "regions", "must be an array");
			f[2] = NULL;
		}
		if (f[2] != NULL)
			n = cJSON_GetArraySize(f[2]);
		if (n > LD_REGIONS_MAX) {
			nrm_ld_error(L, LD_REGIONS, "regions",
			    "too many regions (at most %d)", LD_REGIONS_MAX);
			n = 0;
			f[2] = NULL;
		}
	}
	if (ld_regions_alloc(L, n) != NRM_OK) {
		nrm_ld_error(L, NULL, NULL, "out of memory");
		goto out;
	}
	if (root == NULL)
		goto out;
	ld_national(L, f[1]);
	i = 0;
	if (f[2] != NULL) {
		cJSON_ArrayForEach (v, f[2]) {
			ld_region(L, i, v);
			i++;
		}
	}
	L->regions_ok = true;
out:
	/* A missing name still needs a text for reports. */
	if (L->r->regions != NULL && L->r->regions[n].name == NULL)
		L->r->regions[n].name = strdup("national desk");
	cJSON_Delete(root);
}

/* ------------------------------------------------------------------ */
/* Phase 3: municipalities.csv                                         */

/*
 * Check one data record of the CSV (which nrm_geo_parse_csv accepted)
 * that starts on `line` with municipality code `code`.
 */
static void
ld_muni_record(struct ld *L, int line, const char *code)
{
	struct nrm_router *r = L->r;
	const struct nrm_municipality *m;
	char where[32];
	int num = nrm_ld_muni_num(code), k, g;

	if (num < 0 || r->slot_of[num] == 0)
		return;
	k = r->slot_of[num] - 1;
	m = nrm_geo_municipality_at(r->geo, k);
	g = nrm_ld_region_find(L, m->region->code);
	snprintf(where, sizeof(where), "line %d", line);
	if (g < 0 || g == L->n_json_regions) {
		nrm_ld_error(L, LD_MUNIS, where, "%s maps to unknown region %s",
		    m->code, m->region->code);
		return;
	}
	r->munis[k].region = g;
	r->regions[g].pub.n_municipalities++;
	if (L->first_line[g] == 0) {
		L->first_line[g] = line;
		if (r->regions[g].name != NULL &&
		    strcmp(r->regions[g].name, m->region->name) != 0)
			nrm_ld_warn(L, LD_MUNIS, where,
			    "region %s is named \"%.*s\" here but \"%s\" in "
			    "regions.json (regions.json is used)",
			    m->region->code, nrm_ld_cut(m->region->name, 100),
			    m->region->name, r->regions[g].name);
	}
}

/*
 * Walk the records of the CSV text (already accepted by geo, so well
 * formed) and call ld_muni_record() with each data record's first line
 * and first field.  Quoted fields may span lines.
 */
static void
ld_csv_scan(struct ld *L, const char *text, size_t len)
{
	size_t i = 0;
	int line = 1, record = 0;

	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len) {
		char code[16];
		size_t n = 0;
		int start = line;
		bool quoted = false;

		if (text[i] == '\n' ||
		    (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')) {
			i += text[i] == '\r' ? 2 : 1;
			line++;
			continue;
		}
		/* The first field, unquoted into code[]. */
		if (text[i] == '"') {
			quoted = true;
			i++;
		}
		while (i < len) {
			if (quoted && text[i] == '"') {
				if (i + 1 < len && text[i + 1] == '"') {
					i++;
				} else {
					quoted = false;
					i++;
					continue;
				}
			} else if (!quoted &&
			    (text[i] == ',' || text[i] == '\n' ||
				text[i] == '\r')) {
				break;
			}
			if (text[i] == '\n')
				line++;
			if (n < sizeof(code) - 1)
				code[n++] = text[i];
			i++;
		}
		code[n] = '\0';
		/* The rest of the record, up to an unquoted line feed. */
		quoted = false;
		while (i < len && (quoted || text[i] != '\n')) {
			if (text[i] == '"')
				quoted = !quoted;
			if (text[i] == '\n')
				line++;
			i++;
		}
		if (i < len) {
			i++;
			line++;
		}
		if (record++ > 0)
			ld_muni_record(L, start, code);
	}
}

/*
 * Phase 3: parse the map (geo owns the format checks), index it by code
 * number, then, if regions.json parsed, check every record's region.
 */
void
nrm_ld_munis(struct ld *L)
{
	const struct nrm_routing_src *src = L->src;
	struct nrm_router *r = L->r;
	struct nrm_error err;
	int k, n;

	if (nrm_geo_parse_csv(&r->geo, src->municipalities_csv,
		src->municipalities_len, &err) != NRM_OK) {
		if (err.code == NRM_E_INTERNAL)
			nrm_ld_error(L, NULL, NULL, "out of memory");
		else
			nrm_ld_error(L, LD_MUNIS, err.field, "%s", err.detail);
		return;
	}
	n = nrm_geo_n_municipalities(r->geo);
	r->munis = calloc((size_t)n, sizeof(*r->munis));
	if (r->munis == NULL) {
		nrm_ld_error(L, NULL, NULL, "out of memory");
		return;
	}
	r->n_munis = n;
	for (k = 0; k < n; k++) {
		const struct nrm_municipality *m =
		    nrm_geo_municipality_at(r->geo, k);

		r->munis[k].region = -1;
		r->slot_of[nrm_ld_muni_num(m->code)] = (int16_t)(k + 1);
	}
	L->n_slots = n + 1;
	L->slot_words = (L->n_slots + 63) / 64;
	L->munis_ok = true;
	if (L->regions_ok)
		ld_csv_scan(
		    L, src->municipalities_csv, src->municipalities_len);
}

/* ------------------------------------------------------------------ */
/* Phase 2: fallbacks                                                  */

/* Report the cycle that starts at stack[from] and returns to it. */
static void
ld_cycle(struct ld *L, const int *stack, int from, int to)
{
	struct ld_buf b = {0};
	size_t len;
	char *text;
	int k;

	for (k = from; k < to; k++)
		nrm_ld_buf_add(&b, "%s -> ", L->r->regions[stack[k]].pub.code);
	nrm_ld_buf_add(&b, "%s", L->r->regions[stack[from]].pub.code);
	text = nrm_ld_buf_take(&b, 900, &len);
	nrm_ld_error(L, LD_REGIONS, NULL, "fallback cycle %s",
	    text != NULL ? text : "(out of memory)");
	free(text);
}

/*
 * Resolve each fallback to an index; check office-or-fallback; find
 * cycles (depth-first along the single fallback edge of each region);
 * then, if all that holds, compute each region's path to the first
 * active region.
 */
void
nrm_ld_fallbacks(struct ld *L, int errors_before)
{
	struct nrm_router *r = L->r;
	int nat = L->n_json_regions, i, k, top;
	char path[LD_PATH_MAX], sub[LD_PATH_MAX];
	int *state = NULL, *stack = NULL;

	for (i = 0; i < nat; i++) {
		struct rules_region *g = &r->regions[i];

		nrm_json_path_index(path, "regions", i);
		if (g->pub.code[0] == '\0')
			continue;
		if (L->fb_set[i]) {
			g->fallback = nrm_ld_region_find(L, L->fb_code[i]);
			if (g->fallback < 0) {
				nrm_json_path(sub, path, "fallback");
				nrm_ld_error(L, LD_REGIONS, sub,
				    "unknown region %s", L->fb_code[i]);
			}
		} else {
			g->fallback = nat;
		}
		if (g->pub.active && !L->has_office[i])
			nrm_ld_error(L, LD_REGIONS, path,
			    "active region %s has no coordinator office",
			    g->pub.code);
		else if (!L->has_office[i] && !L->fb_set[i])
			nrm_ld_error(L, LD_REGIONS, path,
			    "region %s has neither a coordinator office nor "
			    "an explicit fallback",
			    g->pub.code);
	}
	state = calloc((size_t)nat + 1, sizeof(*state));
	stack = calloc((size_t)nat + 1, sizeof(*stack));
	if (state == NULL || stack == NULL) {
		nrm_ld_error(L, NULL, NULL, "out of memory");
		goto out;
	}
	/* state: 0 unvisited, 1 on the current walk, 2 done. */
	for (i = 0; i < nat; i++) {
		int j = i;

		top = 0;
		while (j >= 0 && j < nat && state[j] == 0 &&
		    r->regions[j].pub.code[0] != '\0') {
			state[j] = 1;
			stack[top++] = j;
			j = r->regions[j].fallback;
		}
		if (j >= 0 && j < nat && state[j] == 1) {
			for (k = 0; stack[k] != j; k++)
				;
			ld_cycle(L, stack, k, top);
		}
		for (k = 0; k < top; k++)
			state[stack[k]] = 2;
	}
	if (L->diag->n_errors > errors_before)
		goto out;
	for (i = 0; i <= nat; i++) {
		struct rules_region *g = &r->regions[i];
		int j;

		g->effective = i;
		if (g->pub.active)
			continue;
		g->path[0] = i;
		g->n_path = 1;
		for (j = g->fallback;; j = r->regions[j].fallback) {
			if (g->n_path == NRM_ROUTE_HOPS_MAX) {
				nrm_json_path_index(path, "regions", i);
				nrm_ld_error(L, LD_REGIONS, path,
				    "the fallback path from %s passes more "
				    "than %d inactive regions",
				    g->pub.code, NRM_ROUTE_HOPS_MAX - 1);
				break;
			}
			g->path[g->n_path++] = j;
			if (r->regions[j].pub.active) {
				g->effective = j;
				break;
			}
		}
	}
out:
	free(state);
	free(stack);
}
