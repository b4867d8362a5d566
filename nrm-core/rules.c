/*
 * rules.c - loading a routing configuration (see route.h, rules.h):
 * parse regions.json, municipalities.csv and rules.json, check all that
 * issue 3 lists (and report every problem, not just the first), compile
 * the rules into masks and per-location candidate lists, and analyse
 * the rule set for rules that can never match.
 *
 * The load runs in phases; each later phase runs only as far as the
 * earlier ones make meaningful (no "unknown region" errors when
 * regions.json did not even parse):
 *   1. regions.json   regions, offices, national desk (ld_regions)
 *   2. fallbacks: existence, cycles, path length (ld_fallbacks)
 *   3. municipalities.csv through nrm_geo_parse_csv, then every
 *      municipality's region checked against regions.json (ld_munis)
 *   4. rules.json     rules, conditions, actions (ld_rules)
 *   5. only without errors: location sets, shadowing analysis,
 *      candidate index, explanation texts (ld_compile)
 */
#include "nrm/rules.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nrm/duration.h"
#include "nrm/json.h"
#include "nrm/utf8.h"

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
#define LD_SHOWN_MAX 40 /* bytes of a bad value shown in a message */
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

/* A growing string for explanation pieces. */
struct ld_buf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void ld_buf_add(struct ld_buf *b, const char *fmt, ...) NRM_PRINTF(2, 3);

/*
 * Append printf-style text; on OOM the buffer is marked and later
 * appends do nothing (ld_buf_take then fails).
 */
static void
ld_buf_add(struct ld_buf *b, const char *fmt, ...)
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
static char *
ld_buf_take(struct ld_buf *b, size_t max, size_t *len)
{
	char *p;

	if (b->p == NULL && !b->oom)
		ld_buf_add(b, "%s", "");
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
static int
ld_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	return (int)(n > max ? nrm_utf8_trim(s, max) : n);
}

static void ld_error(struct ld *L, const char *file, const char *path,
    const char *fmt, ...) NRM_PRINTF(4, 5);
static void ld_warn(struct ld *L, const char *file, const char *path,
    const char *fmt, ...) NRM_PRINTF(4, 5);

/*
 * Report an error of this load (see nrm_diag_add for file and path).
 */
static void
ld_error(struct ld *L, const char *file, const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nrm_diag_add(L->diag, NRM_DIAG_ERROR, file, path, "%s", msg);
}

/*
 * Report a warning of this load.
 */
static void
ld_warn(struct ld *L, const char *file, const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nrm_diag_add(L->diag, NRM_DIAG_WARNING, file, path, "%s", msg);
}

/*
 * A configuration value shown in a message: at most LD_SHOWN_MAX bytes,
 * printable ASCII kept, anything else as '?'.  Configuration text holds
 * no personal data, but a message should stay one readable line.
 */
static const char *
ld_shown(const char *s, char buf[LD_SHOWN_MAX + 4])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < LD_SHOWN_MAX; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7F) ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* Line and column (1-based, columns in bytes) of text[off]. */
static void
ld_line_col(const char *text, size_t off, int *line, int *col)
{
	size_t i, bol = 0;

	*line = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			bol = i + 1;
		}
	}
	*col = (int)(off - bol) + 1;
}

/*
 * Parse one JSON file with the strict reader (json.h).  Reports the
 * problem (a fault in the bytes with its line and column, a duplicate
 * key at its path) and returns NULL on failure.
 */
static cJSON *
ld_json(struct ld *L, const char *file, const char *text, size_t len)
{
	struct nrm_error err;
	char where[48];
	cJSON *root;
	size_t at = 0;
	int line, col;

	if (text == NULL || len == 0) {
		ld_error(L, file, NULL, "empty file");
		return NULL;
	}
	if (nrm_json_parse(&root, text, len, &at, &err) == NRM_OK)
		return root;
	if (err.code != NRM_E_MALFORMED) {
		ld_error(L, file, err.field, "%s", err.detail);
		return NULL;
	}
	ld_line_col(text, at, &line, &col);
	if (strstr(err.detail, "UTF-8") != NULL)
		snprintf(where, sizeof(where), "line %d", line);
	else
		snprintf(where, sizeof(where), "line %d, column %d", line, col);
	ld_error(L, file, where, "%s", err.detail);
	return NULL;
}

/* Where the member helpers report: this load and one file. */
struct ld_at {
	struct ld *L;
	const char *file;
};

static void
ld_report(void *arg, const struct nrm_error *err)
{
	const struct ld_at *at = arg;

	ld_error(at->L, at->file, err->field, "%s", err->detail);
}

/*
 * Match the members of object `obj` (at `path`) against names[0..n)
 * (nrm_json_members, every fault reported).  Returns the number of
 * errors reported.
 */
static int
ld_members(struct ld *L, const char *file, const char *path, const cJSON *obj,
    const char *const *names, int n, uint32_t required, const cJSON **found)
{
	struct ld_at at = {L, file};

	return nrm_json_members(
	    obj, path, names, n, required, found, ld_report, &at, NULL);
}

/*
 * A free-text value (nrm_json_text: 1..max bytes, not blank, no control
 * characters): a malloc'd copy in *out.  NRM_ERR, reported, otherwise.
 */
static int
ld_text(struct ld *L, const char *file, const char *path, const cJSON *v,
    size_t max, char **out)
{
	struct nrm_error err;

	*out = NULL;
	if (nrm_json_text(v, path, max, false, out, &err) == NRM_OK)
		return NRM_OK;
	ld_error(L, file, err.field, "%s", err.detail);
	return NRM_ERR;
}

/*
 * A JSON boolean into *out; reported and NRM_ERR otherwise.
 */
static int
ld_bool(
    struct ld *L, const char *file, const char *path, const cJSON *v, bool *out)
{
	struct nrm_error err;

	if (nrm_json_bool(v, path, out, &err) == NRM_OK)
		return NRM_OK;
	ld_error(L, file, err.field, "%s", err.detail);
	return NRM_ERR;
}

/* A region code: 1..15 of [A-Za-z0-9_-] (the rule of geo.c). */
static bool
ld_code_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 15)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* "GM" and four digits: the number, else -1. */
static int
ld_muni_num(const char *s)
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
static int
ld_region_find(const struct ld *L, const char *code)
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
		ld_error(L, LD_REGIONS, path,
		    "must be an object {\"name\": ..., \"contact\": ...}");
		return NRM_ERR;
	}
	if (ld_members(L, LD_REGIONS, path, v, keys, 2, 3u, f) > 0)
		rc = NRM_ERR;
	if (f[0] != NULL) {
		nrm_json_path(sub, path, "name");
		if (ld_text(L, LD_REGIONS, sub, f[0], LD_OFFICE_MAX, name) !=
		    NRM_OK)
			rc = NRM_ERR;
	}
	if (f[1] != NULL) {
		nrm_json_path(sub, path, "contact");
		if (ld_text(L, LD_REGIONS, sub, f[1], LD_OFFICE_MAX, contact) !=
		    NRM_OK)
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
		ld_error(L, LD_REGIONS, "national",
		    "must be an object {\"name\": ..., \"office\": ...}");
		return;
	}
	ld_members(L, LD_REGIONS, "national", v, keys, 2, 3u, f);
	if (f[0] != NULL) {
		free(g->name);
		g->name = NULL;
		(void)ld_text(L, LD_REGIONS, "national.name", f[0], LD_NAME_MAX,
		    &g->name);
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
		ld_error(L, LD_REGIONS, path, "must be an object");
		return;
	}
	ld_members(L, LD_REGIONS, path, v, keys, 5, 7u, f);
	if (f[0] != NULL) {
		nrm_json_path(sub, path, "code");
		if (!cJSON_IsString(f[0])) {
			ld_error(L, LD_REGIONS, sub, "must be a string");
		} else if (strcmp(f[0]->valuestring, NRM_REGION_NATIONAL) ==
		    0) {
			ld_error(L, LD_REGIONS, sub,
			    "NATIONAL is the national desk; describe it "
			    "under \"national\"");
		} else if (!ld_code_ok(f[0]->valuestring)) {
			ld_error(L, LD_REGIONS, sub,
			    "\"%s\" is not a region code (1 to 15 of A-Z a-z "
			    "0-9 _ -)",
			    ld_shown(f[0]->valuestring, shown));
		} else {
			k = ld_region_find(L, f[0]->valuestring);
			if (k >= 0 && k < i)
				ld_error(L, LD_REGIONS, sub,
				    "duplicate region %s (also regions[%d])",
				    f[0]->valuestring, k);
			else
				snprintf(g->pub.code, sizeof(g->pub.code), "%s",
				    f[0]->valuestring);
		}
	}
	if (f[1] != NULL) {
		nrm_json_path(sub, path, "name");
		(void)ld_text(L, LD_REGIONS, sub, f[1], LD_NAME_MAX, &g->name);
	}
	if (f[2] != NULL) {
		nrm_json_path(sub, path, "active");
		(void)ld_bool(L, LD_REGIONS, sub, f[2], &g->pub.active);
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
			ld_error(L, LD_REGIONS, sub, "must be a string");
		else if (!ld_code_ok(f[4]->valuestring))
			ld_error(L, LD_REGIONS, sub,
			    "\"%s\" is not a region code",
			    ld_shown(f[4]->valuestring, shown));
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
static void
ld_regions(struct ld *L)
{
	static const char *const keys[] = {
	    "description", "national", "regions"};
	const struct nrm_routing_src *src = L->src;
	const cJSON *f[3], *v;
	cJSON *root;
	char *desc = NULL;
	int n = 0, i;

	root = ld_json(L, LD_REGIONS, src->regions_json, src->regions_len);
	if (root != NULL && !cJSON_IsObject(root)) {
		ld_error(L, LD_REGIONS, NULL,
		    "must be a JSON object with \"national\" and "
		    "\"regions\"");
		cJSON_Delete(root);
		root = NULL;
	}
	if (root != NULL) {
		ld_members(L, LD_REGIONS, "", root, keys, 3, 6u, f);
		if (f[0] != NULL) {
			(void)ld_text(L, LD_REGIONS, "description", f[0],
			    LD_DESCRIPTION_MAX, &desc);
			free(desc);
		}
		if (f[2] != NULL && !cJSON_IsArray(f[2])) {
			ld_error(L, LD_REGIONS, "regions", "must be an array");
			f[2] = NULL;
		}
		if (f[2] != NULL)
			n = cJSON_GetArraySize(f[2]);
		if (n > LD_REGIONS_MAX) {
			ld_error(L, LD_REGIONS, "regions",
			    "too many regions (at most %d)", LD_REGIONS_MAX);
			n = 0;
			f[2] = NULL;
		}
	}
	if (ld_regions_alloc(L, n) != NRM_OK) {
		ld_error(L, NULL, NULL, "out of memory");
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
	int num = ld_muni_num(code), k, g;

	if (num < 0 || r->slot_of[num] == 0)
		return;
	k = r->slot_of[num] - 1;
	m = nrm_geo_municipality_at(r->geo, k);
	g = ld_region_find(L, m->region->code);
	snprintf(where, sizeof(where), "line %d", line);
	if (g < 0 || g == L->n_json_regions) {
		ld_error(L, LD_MUNIS, where, "%s maps to unknown region %s",
		    m->code, m->region->code);
		return;
	}
	r->munis[k].region = g;
	r->regions[g].pub.n_municipalities++;
	if (L->first_line[g] == 0) {
		L->first_line[g] = line;
		if (r->regions[g].name != NULL &&
		    strcmp(r->regions[g].name, m->region->name) != 0)
			ld_warn(L, LD_MUNIS, where,
			    "region %s is named \"%.*s\" here but \"%s\" in "
			    "regions.json (regions.json is used)",
			    m->region->code, ld_cut(m->region->name, 100),
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
static void
ld_munis(struct ld *L)
{
	const struct nrm_routing_src *src = L->src;
	struct nrm_router *r = L->r;
	struct nrm_error err;
	int k, n;

	if (nrm_geo_parse_csv(&r->geo, src->municipalities_csv,
		src->municipalities_len, &err) != NRM_OK) {
		if (err.code == NRM_E_INTERNAL)
			ld_error(L, NULL, NULL, "out of memory");
		else
			ld_error(L, LD_MUNIS, err.field, "%s", err.detail);
		return;
	}
	n = nrm_geo_n_municipalities(r->geo);
	r->munis = calloc((size_t)n, sizeof(*r->munis));
	if (r->munis == NULL) {
		ld_error(L, NULL, NULL, "out of memory");
		return;
	}
	r->n_munis = n;
	for (k = 0; k < n; k++) {
		const struct nrm_municipality *m =
		    nrm_geo_municipality_at(r->geo, k);

		r->munis[k].region = -1;
		r->slot_of[ld_muni_num(m->code)] = (int16_t)(k + 1);
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
		ld_buf_add(&b, "%s -> ", L->r->regions[stack[k]].pub.code);
	ld_buf_add(&b, "%s", L->r->regions[stack[from]].pub.code);
	text = ld_buf_take(&b, 900, &len);
	ld_error(L, LD_REGIONS, NULL, "fallback cycle %s",
	    text != NULL ? text : "(out of memory)");
	free(text);
}

/*
 * Resolve each fallback to an index; check office-or-fallback; find
 * cycles (depth-first along the single fallback edge of each region);
 * then, if all that holds, compute each region's path to the first
 * active region.
 */
static void
ld_fallbacks(struct ld *L, int errors_before)
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
			g->fallback = ld_region_find(L, L->fb_code[i]);
			if (g->fallback < 0) {
				nrm_json_path(sub, path, "fallback");
				ld_error(L, LD_REGIONS, sub,
				    "unknown region %s", L->fb_code[i]);
			}
		} else {
			g->fallback = nat;
		}
		if (g->pub.active && !L->has_office[i])
			ld_error(L, LD_REGIONS, path,
			    "active region %s has no coordinator office",
			    g->pub.code);
		else if (!L->has_office[i] && !L->fb_set[i])
			ld_error(L, LD_REGIONS, path,
			    "region %s has neither a coordinator office nor "
			    "an explicit fallback",
			    g->pub.code);
	}
	state = calloc((size_t)nat + 1, sizeof(*state));
	stack = calloc((size_t)nat + 1, sizeof(*stack));
	if (state == NULL || stack == NULL) {
		ld_error(L, NULL, NULL, "out of memory");
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
				ld_error(L, LD_REGIONS, path,
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

/* ------------------------------------------------------------------ */
/* Phase 4: rules.json                                                 */

/* Indexed by enum nrm_agency_kind. */
static const char *const ld_kind_names[NRM_AGENCY_COUNT] = {
    "police",
    "kmar",
    "labour_inspectorate",
    "care_agency",
    "ngo",
    "municipality",
    "national_centre",
    "assessment_body",
    "other",
};

/* Indexed by enum nrm_gender; "unspecified" is an absent gender. */
static const char *const ld_gender_names[RULES_GENDERS] = {
    "unspecified",
    "female",
    "male",
    "non_binary",
    "other",
    "unknown",
};

static const char *const ld_prio_names[] = {"urgent", "high", "normal"};

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
		ld_error(L, LD_RULES, path, "must be an array of strings");
		return NRM_ERR;
	}
	n = cJSON_GetArraySize(v);
	if (n == 0 || n > max) {
		ld_error(L, LD_RULES, path, "must list 1 to %d values", max);
		return NRM_ERR;
	}
	cJSON_ArrayForEach (x, v) {
		if (!cJSON_IsString(x)) {
			nrm_json_path_index(sub, path, i);
			ld_error(L, LD_RULES, sub, "must be a string");
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
		for (k = 0; k < n; k++) {
			if (strcmp(x->valuestring, names[k]) == 0)
				break;
		}
		if (k == n) {
			if (e == 0) {
				for (k = 0; k < n; k++)
					e += (size_t)snprintf(expected + e,
					    sizeof(expected) - e, "%s%s",
					    k > 0 ? ", " : "", names[k]);
			}
			ld_error(L, LD_RULES, sub,
			    "unknown %s \"%s\" (expected one of %s)", what,
			    ld_shown(x->valuestring, shown), expected);
			rc = NRM_ERR;
		} else if ((*mask & (1u << k)) != 0) {
			ld_error(
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
		ld_error(L, LD_RULES, path,
		    "must be an object {\"min\": years, \"max\": years}");
		return;
	}
	if (ld_members(L, LD_RULES, path, v, keys, 2, 0u, f) > 0)
		ok = false;
	if (f[0] == NULL && f[1] == NULL) {
		ld_error(L, LD_RULES, path, "needs min, max or both");
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
			ld_error(L, LD_RULES, sub,
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
		ld_error(L, LD_RULES, path, "min %d is above max %d", val[0],
		    val[1]);
		return;
	}
	c->age_min = val[0];
	c->age_max = val[1];
	lr->has_age = true;
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

	if (ld_string_list(L, path, v, RULES_CODES) != NRM_OK)
		return;
	lr->munis = calloc((size_t)cJSON_GetArraySize(v), sizeof(int));
	if (lr->munis == NULL) {
		ld_error(L, NULL, NULL, "out of memory");
		return;
	}
	cJSON_ArrayForEach (x, v) {
		int num = ld_muni_num(x->valuestring);

		nrm_json_path_index(sub, path, i++);
		if (num < 0) {
			ld_error(L, LD_RULES, sub,
			    "\"%s\" is not a municipality code (GM and 4 "
			    "digits)",
			    ld_shown(x->valuestring, shown));
		} else if ((seen[num / 64] >> (num % 64) & 1) != 0) {
			ld_error(L, LD_RULES, sub, "duplicate value %s",
			    x->valuestring);
		} else if (L->munis_ok && L->r->slot_of[num] == 0) {
			ld_error(L, LD_RULES, sub, "unknown municipality %s",
			    x->valuestring);
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

	if (ld_string_list(L, path, v, LD_REGIONS_MAX) != NRM_OK)
		return;
	lr->regions = calloc((size_t)cJSON_GetArraySize(v), sizeof(int));
	if (lr->regions == NULL) {
		ld_error(L, NULL, NULL, "out of memory");
		return;
	}
	cJSON_ArrayForEach (x, v) {
		nrm_json_path_index(sub, path, i++);
		if (strcmp(x->valuestring, NRM_REGION_NATIONAL) == 0) {
			ld_error(L, LD_RULES, sub,
			    "the national desk has no municipalities (use "
			    "\"location_known\": false for unknown "
			    "locations)");
			continue;
		}
		if (!ld_code_ok(x->valuestring)) {
			ld_error(L, LD_RULES, sub,
			    "\"%s\" is not a region code",
			    ld_shown(x->valuestring, shown));
			continue;
		}
		if (!L->regions_ok)
			continue;
		g = ld_region_find(L, x->valuestring);
		if (g < 0) {
			ld_error(L, LD_RULES, sub, "unknown region %s",
			    x->valuestring);
			continue;
		}
		for (k = 0; k < lr->n_regions && lr->regions[k] != g; k++)
			;
		if (k < lr->n_regions) {
			ld_error(L, LD_RULES, sub, "duplicate value %s",
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
			ld_error(L, LD_RULES, sub,
			    "\"%s\" is not a nationality (two upper-case "
			    "letters, ISO 3166-1 alpha-2)",
			    ld_shown(s, shown));
			continue;
		}
		idx = (s[0] - 'A') * 26 + (s[1] - 'A');
		if ((lr->nat[idx / 64] >> (idx % 64) & 1) != 0) {
			ld_error(L, LD_RULES, sub, "duplicate value %s", s);
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

	if (ld_bool(L, LD_RULES, path, v, &b) != NRM_OK)
		return;
	c->fmask |= bit;
	if (b)
		c->fval |= bit;
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
		ld_error(L, LD_RULES, path, "must be an object of conditions");
		lr->has_conds = true;
		return;
	}
	ld_members(L, LD_RULES, path, v, keys, LD_W__COUNT, 0u, f);
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
	if (f[LD_W_CTRL] != NULL &&
	    ld_name_list(L, LD_SUB(LD_W_CTRL), f[LD_W_CTRL], nrm_control_names,
		NRM_CTRL_COUNT, "control means", &mask) == NRM_OK) {
		c->ctrl = mask;
		lr->has_ctrl = true;
	}
	if (f[LD_W_DANGER] != NULL)
		ld_when_flag(
		    L, LD_SUB(LD_W_DANGER), f[LD_W_DANGER], RULES_F_DANGER, c);
	if (f[LD_W_SHELTER] != NULL)
		ld_when_flag(L, LD_SUB(LD_W_SHELTER), f[LD_W_SHELTER],
		    RULES_F_SHELTER, c);
	if (f[LD_W_KIND] != NULL &&
	    ld_name_list(L, LD_SUB(LD_W_KIND), f[LD_W_KIND], ld_kind_names,
		NRM_AGENCY_COUNT, "reporter kind", &mask) == NRM_OK) {
		c->kinds = mask;
		lr->has_kinds = true;
	}
	if (f[LD_W_MUNI] != NULL)
		ld_when_munis(L, LD_SUB(LD_W_MUNI), f[LD_W_MUNI], lr);
	if (f[LD_W_REGION] != NULL)
		ld_when_regions(L, LD_SUB(LD_W_REGION), f[LD_W_REGION], lr);
	if (f[LD_W_KNOWN] != NULL &&
	    ld_bool(L, LD_RULES, LD_SUB(LD_W_KNOWN), f[LD_W_KNOWN], &b) ==
		NRM_OK)
		lr->loc_known = b ? 1 : 0;
	if (f[LD_W_NAT] != NULL)
		ld_when_nat(L, LD_SUB(LD_W_NAT), f[LD_W_NAT], lr);
	if (f[LD_W_GENDER] != NULL &&
	    ld_name_list(L, LD_SUB(LD_W_GENDER), f[LD_W_GENDER],
		ld_gender_names, RULES_GENDERS, "gender", &mask) == NRM_OK) {
		c->genders = mask;
		lr->has_genders = true;
	}
#undef LD_SUB
}

/* A deadline: an ISO 8601 duration string (duration.h). */
static int
ld_deadline(struct ld *L, const char *path, const cJSON *v, int64_t *out)
{
	char shown[LD_SHOWN_MAX + 4];
	const char *why = NULL;

	if (!cJSON_IsString(v)) {
		ld_error(L, LD_RULES, path,
		    "must be an ISO 8601 duration string such as \"PT4H\"");
		return NRM_ERR;
	}
	if (nrm_duration_parse(
		v->valuestring, strlen(v->valuestring), out, &why) != NRM_OK) {
		ld_error(L, LD_RULES, path, "\"%s\": %s",
		    ld_shown(v->valuestring, shown), why);
		return NRM_ERR;
	}
	return NRM_OK;
}

/* A label: 1..32 of [A-Za-z0-9._:-]. */
static bool
ld_label_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > LD_LABEL_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == ':' || c == '-'))
			return false;
	}
	return true;
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
		ld_error(L, LD_RULES, path, "must be an array of strings");
		return;
	}
	if (cJSON_GetArraySize(v) > NRM_ROUTE_LABELS_MAX) {
		ld_error(L, LD_RULES, path, "at most %d labels",
		    NRM_ROUTE_LABELS_MAX);
		return;
	}
	cJSON_ArrayForEach (x, v) {
		nrm_json_path_index(sub, path, i++);
		if (!cJSON_IsString(x) || !ld_label_ok(x->valuestring)) {
			ld_error(L, LD_RULES, sub,
			    "%s%s%s is not a label (1 to %d of A-Z a-z 0-9 . _ "
			    ": -)",
			    cJSON_IsString(x) ? "\"" : "",
			    cJSON_IsString(x) ? ld_shown(x->valuestring, shown)
					      : "value",
			    cJSON_IsString(x) ? "\"" : "", LD_LABEL_MAX);
			continue;
		}
		for (k = 0; k < rule->n_labels; k++) {
			if (strcmp(rule->labels[k], x->valuestring) == 0)
				break;
		}
		if (k < rule->n_labels) {
			ld_error(L, LD_RULES, sub, "duplicate label %s",
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
		ld_error(L, LD_RULES, path, "must be an object (the action)");
		return NRM_ERR;
	}
	ld_members(L, LD_RULES, path, v, keys, 6, 0x1Du, f);
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
			ld_error(L, LD_RULES, sub,
			    "must be \"location\", \"region\" or "
			    "\"national\"");
		}
	}
	nrm_json_path(sub, path, "region");
	if (route_ok && rule->target == RULES_TO_REGION && f[1] == NULL) {
		ld_error(L, LD_RULES, path,
		    "missing key region (\"route\": \"region\" needs one)");
	} else if (route_ok && rule->target != RULES_TO_REGION &&
	    f[1] != NULL) {
		ld_error(L, LD_RULES, sub,
		    "only allowed with \"route\": \"region\"");
	} else if (f[1] != NULL && !cJSON_IsString(f[1])) {
		ld_error(L, LD_RULES, sub, "must be a region code string");
	} else if (f[1] != NULL &&
	    strcmp(f[1]->valuestring, NRM_REGION_NATIONAL) == 0) {
		ld_error(L, LD_RULES, sub,
		    "use \"route\": \"national\" for the national desk");
	} else if (f[1] != NULL && !ld_code_ok(f[1]->valuestring)) {
		ld_error(L, LD_RULES, sub, "\"%s\" is not a region code",
		    ld_shown(f[1]->valuestring, shown));
	} else if (f[1] != NULL && L->regions_ok) {
		rule->region = ld_region_find(L, f[1]->valuestring);
		if (rule->region < 0)
			ld_error(L, LD_RULES, sub, "unknown region %s",
			    f[1]->valuestring);
	}
	if (f[2] != NULL) {
		nrm_json_path(sub, path, "priority");
		for (k = 0; k < 3 && cJSON_IsString(f[2]); k++) {
			if (strcmp(f[2]->valuestring, ld_prio_names[k]) == 0)
				break;
		}
		if (!cJSON_IsString(f[2]) || k == 3)
			ld_error(L, LD_RULES, sub,
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
		ld_warn(L, LD_RULES, sub,
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
	size_t i, n = strlen(s);

	if (n == 0 || n > LD_ID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == '-'))
			return false;
	}
	return true;
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
		ld_error(L, LD_RULES, path, "must be an object");
		lr->has_conds = true;
		return;
	}
	ld_members(L, LD_RULES, path, v, keys, 4, 9u, f);
	if (f[0] != NULL) {
		nrm_json_path(sub, path, "id");
		if (!cJSON_IsString(f[0]) || !ld_id_ok(f[0]->valuestring)) {
			ld_error(L, LD_RULES, sub,
			    "%s%s%s is not a rule id (1 to %d of A-Z a-z 0-9 . "
			    "_ -)",
			    cJSON_IsString(f[0]) ? "\"" : "",
			    cJSON_IsString(f[0])
				? ld_shown(f[0]->valuestring, shown)
				: "value",
			    cJSON_IsString(f[0]) ? "\"" : "", LD_ID_MAX);
		} else {
			snprintf(rule->id, sizeof(rule->id), "%s",
			    f[0]->valuestring);
		}
	}
	if (f[1] != NULL) {
		nrm_json_path(sub, path, "description");
		(void)ld_text(L, LD_RULES, sub, f[1], LD_DESCRIPTION_MAX,
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

/* Sort context for the duplicate-id check (qsort has no argument). */
struct ld_id_ref {
	const char *id;
	int index;
};

/*
 * By id, then by rule index.
 */
static int
ld_id_ref_cmp(const void *a, const void *b)
{
	const struct ld_id_ref *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

/* Rule ids are unique: sort (id, index) pairs, compare neighbours. */
static void
ld_unique_ids(struct ld *L)
{
	struct nrm_router *r = L->r;
	struct ld_id_ref *refs;
	char path[LD_PATH_MAX];
	int i, n = 0;

	refs = calloc((size_t)r->n_rules + 1, sizeof(*refs));
	if (refs == NULL) {
		ld_error(L, NULL, NULL, "out of memory");
		return;
	}
	for (i = 0; i < r->n_rules; i++) {
		if (r->rules[i].id[0] != '\0') {
			refs[n].id = r->rules[i].id;
			refs[n].index = i;
			n++;
		}
	}
	qsort(refs, (size_t)n, sizeof(*refs), ld_id_ref_cmp);
	for (i = 1; i < n; i++) {
		int first = i - 1;

		if (strcmp(refs[i].id, refs[i - 1].id) != 0)
			continue;
		while (first > 0 && strcmp(refs[first - 1].id, refs[i].id) == 0)
			first--;
		snprintf(path, sizeof(path), "rules[%d].id", refs[i].index);
		ld_error(L, LD_RULES, path, "duplicate id %s (also rules[%d])",
		    refs[i].id, refs[first].index);
	}
	free(refs);
}

/*
 * Phase 4: parse rules.json: every rule, unique ids, the final
 * catch-all.
 */
static void
ld_rules(struct ld *L)
{
	static const char *const keys[] = {"description", "rules"};
	const struct nrm_routing_src *src = L->src;
	struct nrm_router *r = L->r;
	const cJSON *f[2], *v;
	cJSON *root;
	char *desc = NULL;
	int n, i;

	root = ld_json(L, LD_RULES, src->rules_json, src->rules_len);
	if (root == NULL)
		return;
	if (!cJSON_IsObject(root)) {
		ld_error(L, LD_RULES, NULL,
		    "must be a JSON object {\"rules\": [...]}");
		goto out;
	}
	ld_members(L, LD_RULES, "", root, keys, 2, 2u, f);
	if (f[0] != NULL) {
		(void)ld_text(L, LD_RULES, "description", f[0],
		    LD_DESCRIPTION_MAX, &desc);
		free(desc);
	}
	if (f[1] == NULL)
		goto out;
	if (!cJSON_IsArray(f[1])) {
		ld_error(L, LD_RULES, "rules", "must be an array of rules");
		goto out;
	}
	n = cJSON_GetArraySize(f[1]);
	if (n == 0) {
		ld_error(L, LD_RULES, NULL,
		    "no final catch-all rule (a rule with no conditions): "
		    "the rule list is empty");
		goto out;
	}
	if (n > RULES_MAX) {
		ld_error(L, LD_RULES, "rules", "too many rules (at most %d)",
		    RULES_MAX);
		goto out;
	}
	r->rules = calloc((size_t)n, sizeof(*r->rules));
	r->conds = calloc((size_t)n, sizeof(*r->conds));
	L->lr = calloc((size_t)n, sizeof(*L->lr));
	if (r->rules == NULL || r->conds == NULL || L->lr == NULL) {
		ld_error(L, NULL, NULL, "out of memory");
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
			ld_error(L, LD_RULES, NULL,
			    "no final catch-all rule (a rule with no "
			    "conditions): the last rule, rules[%d] (id %s), "
			    "has conditions",
			    n - 1, r->rules[n - 1].id);
		else
			ld_error(L, LD_RULES, NULL,
			    "no final catch-all rule (a rule with no "
			    "conditions): the last rule, rules[%d], has "
			    "conditions",
			    n - 1);
	}
out:
	cJSON_Delete(root);
}

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
			ld_warn(L, LD_RULES, NULL,
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
			ld_warn(L, LD_RULES, NULL,
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
		ld_warn(L, LD_REGIONS, path,
		    "region %s has no municipalities and no rule or "
		    "fallback leads to it",
		    r->regions[i].pub.code);
	}
	free(used);
}

/* FNV-1a over a candidate list. */
static uint32_t
ld_hash(const uint16_t *a, uint32_t n)
{
	uint32_t h = 2166136261u, i;

	for (i = 0; i < n; i++) {
		h = (h ^ (a[i] & 0xFF)) * 16777619u;
		h = (h ^ (uint32_t)(a[i] >> 8)) * 16777619u;
	}
	return h;
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
		h = ld_hash(tmp, n);
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
	ld_buf_add(b, "; %s%s", what, count > 1 ? " any of " : " ");
	count = 0;
	for (k = 0; k < n; k++) {
		if ((mask >> k) & 1)
			ld_buf_add(
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
		ld_buf_add(b, "; no conditions (catch-all)");
		return;
	}
	if (c->fmask & RULES_F_MINOR)
		ld_buf_add(b, "; %s",
		    c->fval & RULES_F_MINOR ? "minor" : "not a minor");
	if (lr->has_age) {
		if (c->age_min == c->age_max)
			ld_buf_add(b, "; age %d", c->age_min);
		else
			ld_buf_add(b, "; age %d to %d", c->age_min, c->age_max);
	}
	if (lr->has_expl)
		ld_text_mask(b, "exploitation",
		    c->expl != 0 ? c->expl : (1u << NRM_EXPL_COUNT) - 1,
		    nrm_exploitation_names, NRM_EXPL_COUNT);
	if (lr->has_ctrl)
		ld_text_mask(b, "control means", c->ctrl, nrm_control_names,
		    NRM_CTRL_COUNT);
	if (c->fmask & RULES_F_DANGER)
		ld_buf_add(b, "; %s",
		    c->fval & RULES_F_DANGER ? "immediate danger"
					     : "no immediate danger");
	if (c->fmask & RULES_F_SHELTER)
		ld_buf_add(b, "; %s",
		    c->fval & RULES_F_SHELTER ? "needs shelter"
					      : "no shelter needed");
	if (lr->has_kinds)
		ld_text_mask(
		    b, "reporter", c->kinds, ld_kind_names, NRM_AGENCY_COUNT);
	if (lr->loc_known >= 0)
		ld_buf_add(
		    b, "; location %s", lr->loc_known ? "known" : "unknown");
	if (lr->has_munis) {
		ld_buf_add(
		    b, "; municipality%s", lr->n_munis > 1 ? " one of" : "");
		for (k = 0; k < lr->n_munis && k < LD_LIST_SHOWN; k++) {
			const struct nrm_municipality *m =
			    nrm_geo_municipality_at(r->geo, lr->munis[k] - 1);

			ld_buf_add(b, "%s %s %.*s", k > 0 ? "," : "", m->code,
			    ld_cut(m->name, LD_TEXT_NAME_MAX), m->name);
		}
		if (lr->n_munis > LD_LIST_SHOWN)
			ld_buf_add(
			    b, " and %d more", lr->n_munis - LD_LIST_SHOWN);
	}
	if (lr->has_regions) {
		ld_buf_add(b, "; region%s", lr->n_regions > 1 ? " one of" : "");
		for (k = 0; k < lr->n_regions && k < LD_LIST_SHOWN; k++)
			ld_buf_add(b, "%s %s", k > 0 ? "," : "",
			    r->regions[lr->regions[k]].pub.code);
		if (lr->n_regions > LD_LIST_SHOWN)
			ld_buf_add(
			    b, " and %d more", lr->n_regions - LD_LIST_SHOWN);
	}
	if (lr->has_nat) {
		int shown = 0, total = 0, idx;

		for (idx = 0; idx < 26 * 26; idx++)
			total += ld_bit(lr->nat, idx);
		ld_buf_add(b, "; nationality%s", total > 1 ? " one of" : "");
		for (idx = 0; idx < 26 * 26 && shown < LD_LIST_SHOWN; idx++) {
			if (!ld_bit(lr->nat, idx))
				continue;
			ld_buf_add(b, "%s %c%c", shown++ > 0 ? "," : "",
			    'A' + idx / 26, 'A' + idx % 26);
		}
		if (total > LD_LIST_SHOWN)
			ld_buf_add(b, " and %d more", total - LD_LIST_SHOWN);
	}
	if (lr->has_genders)
		ld_text_mask(
		    b, "gender", c->genders, ld_gender_names, RULES_GENDERS);
}

/* "CODE name" of region g, the name cut for explanations. */
static void
ld_text_region(struct ld_buf *b, const struct rules_region *g)
{
	ld_buf_add(b, "%s %.*s", g->pub.code, ld_cut(g->name, LD_TEXT_NAME_MAX),
	    g->name);
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

		ld_buf_add(&b, "rule %s matched", rule->id);
		ld_text_conds(L, i, &b);
		/* "rule x matched; minor" -> "rule x matched: minor". */
		if (b.p != NULL && !b.oom) {
			char *semi =
			    b.p + strlen("rule  matched") + strlen(rule->id);

			semi[0] = ':';
		}
		rule->head = ld_buf_take(&b, LD_HEAD_MAX, &rule->head_len);
		if (rule->head == NULL)
			return NRM_ERR;
		if (nrm_duration_format(
			rule->take_within, take, sizeof(take)) != NRM_OK ||
		    nrm_duration_format(rule->first_contact_within, contact,
			sizeof(contact)) != NRM_OK)
			return NRM_ERR;
		ld_buf_add(&b,
		    "; priority %s, take within %s, first contact within %s",
		    ld_prio_names[rule->priority], take, contact);
		rule->tail = ld_buf_take(&b, 200, &rule->tail_len);
		if (rule->tail == NULL)
			return NRM_ERR;
	}
	for (i = 0; i < r->n_regions; i++) {
		struct rules_region *g = &r->regions[i];
		struct ld_buf b = {0};

		ld_text_region(&b, g);
		for (k = 1; k < g->n_path; k++) {
			ld_buf_add(&b, " (inactive) -> fallback ");
			ld_text_region(&b, &r->regions[g->path[k]]);
		}
		g->route_text =
		    ld_buf_take(&b, LD_ROUTE_TEXT_MAX, &g->route_len);
		if (g->route_text == NULL)
			return NRM_ERR;
	}
	for (k = 0; k < r->n_munis; k++) {
		const struct nrm_municipality *m =
		    nrm_geo_municipality_at(r->geo, k);
		struct ld_buf b = {0};

		ld_buf_add(&b, "; location %s %.*s -> ", m->code,
		    ld_cut(m->name, LD_TEXT_NAME_MAX), m->name);
		r->munis[k].loc_text =
		    ld_buf_take(&b, 200, &r->munis[k].loc_len);
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
static void
ld_compile(struct ld *L)
{
	if (ld_locations(L) != NRM_OK)
		goto oom;
	ld_analyse(L);
	if (ld_index(L) != NRM_OK || ld_texts(L) != NRM_OK ||
	    ld_nat_pool(L) != NRM_OK)
		goto oom;
	return;
oom:
	ld_error(L, NULL, NULL, "out of memory");
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
		ld_error(&L, NULL, "version",
		    "must be 1 to %d printable ASCII characters",
		    NRM_ROUTE_VERSION_SIZE - 1);
		return NRM_ERR;
	}
	L.r = calloc(1, sizeof(*L.r));
	if (L.r == NULL) {
		ld_error(&L, NULL, NULL, "out of memory");
		return NRM_ERR;
	}
	snprintf(L.r->version, sizeof(L.r->version), "%s", src->version);
	errors_before = diag->n_errors;
	ld_regions(&L);
	if (L.r->regions == NULL)
		goto fail;
	if (L.regions_ok)
		ld_fallbacks(&L, errors_before);
	ld_munis(&L);
	ld_rules(&L);
	if (diag->n_errors > errors || !L.munis_ok || L.r->n_rules == 0)
		goto fail;
	ld_compile(&L);
	if (diag->n_errors > errors)
		goto fail;
	ld_publish(&L);
	if (ld_keep_warnings(&L, first) != NRM_OK) {
		ld_error(&L, NULL, NULL, "out of memory");
		goto fail;
	}
	ld_free(&L);
	*out = L.r;
	return NRM_OK;
fail:
	ld_free(&L);
	nrm_router_free(L.r);
	if (diag->n_errors == errors)
		ld_error(&L, NULL, NULL, "configuration refused");
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
