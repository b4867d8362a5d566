/*
 * geo.c - the municipality -> care region map, parsed from CSV text (see
 * geo.h).
 *
 * Layout: municipalities live in one array sorted by code; a direct
 * index of 10000 slots (one per possible GMnnnn) maps a code to its
 * array position.  Regions live in one array sorted by code with the
 * national desk last; municipalities point into it, so it is never
 * reallocated once those pointers are set.
 */
#include "nrm/geo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrm/utf8.h"

#define GEO_CODES 10000
#define GEO_NATIONAL_NAME "national desk"
#define GEO_HEADER \
	"municipality_code,municipality_name,safety_region_code," \
	"safety_region_name"

struct nrm_geo {
	struct nrm_region *regions; /* sorted by code, national desk last */
	int n_regions;
	struct nrm_municipality *munis; /* sorted by code */
	int n_munis;
	int16_t index[GEO_CODES]; /* GMnnnn -> munis[] position, or -1 */
};

/* One parsed data row before regions are final. */
struct geo_row {
	char code[8];
	char *name;
	int region; /* index into the builder's regions */
};

/* What the parser accumulates. */
struct geo_builder {
	struct geo_row *rows;
	int n_rows, cap_rows;
	struct nrm_region *regions;
	int n_regions, cap_regions;
};

/* A CSV cursor over the whole text. */
struct geo_csv {
	const char *p, *end;
	int line; /* physical line of the cursor, 1-based */
};

#define GEO_FIELDS 4

/*
 * Parse one RFC 4180 field at the cursor into a malloc'd string
 * (*out).  A quoted field may hold commas, doubled quotes and line
 * breaks.  Leaves the cursor on the delimiter (',', '\r', '\n') or at
 * the end.  Returns NRM_ERR with *detail set on a malformed field or on
 * allocation failure.
 */
static int
geo_csv_field(struct geo_csv *c, char **out, const char **detail)
{
	const char *start;
	char *buf;
	size_t n = 0;

	if (c->p < c->end && *c->p == '"') {
		const char *q = ++c->p;
		size_t cap = 0;

		/* First pass: find the closing quote and the length. */
		while (q < c->end) {
			if (*q == '"') {
				if (q + 1 < c->end && q[1] == '"') {
					q += 2;
					cap++;
					continue;
				}
				break;
			}
			q++;
			cap++;
		}
		if (q >= c->end) {
			*detail = "unterminated quoted field";
			return NRM_ERR;
		}
		buf = malloc(cap + 1);
		if (buf == NULL) {
			*detail = "out of memory";
			return NRM_ERR;
		}
		while (c->p < q) {
			if (*c->p == '\n')
				c->line++;
			buf[n++] = *c->p;
			c->p += *c->p == '"' ? 2 : 1;
		}
		buf[n] = '\0';
		c->p = q + 1;
		if (c->p < c->end && *c->p != ',' && *c->p != '\r' &&
		    *c->p != '\n') {
			free(buf);
			*detail = "text after a closing quote";
			return NRM_ERR;
		}
		*out = buf;
		return NRM_OK;
	}
	start = c->p;
	while (
	    c->p < c->end && *c->p != ',' && *c->p != '\r' && *c->p != '\n') {
		if (*c->p == '"') {
			*detail = "quote inside an unquoted field";
			return NRM_ERR;
		}
		c->p++;
	}
	n = (size_t)(c->p - start);
	buf = malloc(n + 1);
	if (buf == NULL) {
		*detail = "out of memory";
		return NRM_ERR;
	}
	memcpy(buf, start, n);
	buf[n] = '\0';
	*out = buf;
	return NRM_OK;
}

/*
 * Parse one record of exactly GEO_FIELDS fields and its line end (LF,
 * CRLF or end of text) into f[] (malloc'd strings the caller frees,
 * NULL-initialised by the caller).  On error sets *detail.
 */
static int
geo_csv_record(struct geo_csv *c, char *f[GEO_FIELDS], const char **detail)
{
	int i;

	for (i = 0; i < GEO_FIELDS; i++) {
		if (geo_csv_field(c, &f[i], detail) != NRM_OK)
			return NRM_ERR;
		if (i < GEO_FIELDS - 1) {
			if (c->p >= c->end || *c->p != ',') {
				*detail = "expected 4 fields";
				return NRM_ERR;
			}
			c->p++;
		}
	}
	if (c->p < c->end && *c->p == ',') {
		*detail = "expected 4 fields";
		return NRM_ERR;
	}
	if (c->p < c->end && *c->p == '\r')
		c->p++;
	if (c->p < c->end) {
		if (*c->p != '\n') {
			*detail = "carriage return without line feed";
			return NRM_ERR;
		}
		c->p++;
		c->line++;
	}
	return NRM_OK;
}

/* "GM" followed by exactly four digits; the number in *num. */
static bool
geo_code_num(const char *code, int *num)
{
	int i, n = 0;

	if (code == NULL || code[0] != 'G' || code[1] != 'M')
		return false;
	for (i = 2; i < 6; i++) {
		if (code[i] < '0' || code[i] > '9')
			return false;
		n = n * 10 + (code[i] - '0');
	}
	if (code[6] != '\0')
		return false;
	*num = n;
	return true;
}

/* A region code: 1..15 of [A-Za-z0-9_-], and not the national desk. */
static bool
geo_region_code_ok(const char *code)
{
	return nrm_ascii_word(
		   code, sizeof(((struct nrm_region *)0)->code) - 1, "_-") &&
	    strcmp(code, NRM_REGION_NATIONAL) != 0;
}

/* A name: non-empty, no control characters (UTF-8 checked earlier). */
static bool
geo_name_ok(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7F)
			return false;
	}
	return true;
}

/*
 * Find or add region (code, name) in the builder; *name is taken (set
 * to NULL) when a new region is added.  Returns the region's index, or
 * -1 with *detail set on a name conflict or allocation failure.
 */
static int
geo_region_intern(
    struct geo_builder *b, const char *code, char **name, const char **detail)
{
	struct nrm_region *r;
	int i;

	for (i = 0; i < b->n_regions; i++) {
		if (strcmp(b->regions[i].code, code) != 0)
			continue;
		if (strcmp(b->regions[i].name, *name) != 0) {
			*detail = "region code appears with two names";
			return -1;
		}
		return i;
	}
	r = nrm_grow(b->regions, &b->cap_regions, b->n_regions, sizeof(*r), 32);
	if (r == NULL) {
		*detail = "out of memory";
		return -1;
	}
	b->regions = r;
	i = b->n_regions++;
	memset(&b->regions[i], 0, sizeof(b->regions[i]));
	snprintf(b->regions[i].code, sizeof(b->regions[i].code), "%s", code);
	b->regions[i].name = *name;
	*name = NULL;
	return i;
}

static int
geo_region_cmp(const void *a, const void *b)
{
	const struct nrm_region *ra = a, *rb = b;

	return strcmp(ra->code, rb->code);
}

/*
 * Turn the builder into the final map: sort regions, append the
 * national desk, place municipalities in code order and point them at
 * their regions.  Consumes the builder's strings on success.
 */
static int
geo_finish(struct geo_builder *b, struct nrm_geo *geo)
{
	int map[GEO_CODES];
	int *where = NULL;
	int i, n, k, rc = NRM_ERR;

	geo->regions = calloc((size_t)b->n_regions + 1, sizeof(*geo->regions));
	geo->munis = calloc((size_t)b->n_rows, sizeof(*geo->munis));
	where = calloc((size_t)b->n_regions + 1, sizeof(*where));
	if (geo->regions == NULL || geo->munis == NULL || where == NULL)
		goto out;

	/* Sort regions; where[old index] = new index. */
	for (i = 0; i < b->n_regions; i++)
		b->regions[i].n_municipalities = i; /* remember old index */
	qsort(b->regions, (size_t)b->n_regions, sizeof(*b->regions),
	    geo_region_cmp);
	for (i = 0; i < b->n_regions; i++) {
		where[b->regions[i].n_municipalities] = i;
		geo->regions[i] = b->regions[i];
		geo->regions[i].n_municipalities = 0;
		b->regions[i].name = NULL;
	}
	geo->n_regions = b->n_regions + 1;
	snprintf(geo->regions[b->n_regions].code,
	    sizeof(geo->regions[b->n_regions].code), "%s", NRM_REGION_NATIONAL);
	geo->regions[b->n_regions].name = strdup(GEO_NATIONAL_NAME);
	if (geo->regions[b->n_regions].name == NULL)
		goto out;

	/* Municipalities in code order via the direct map. */
	for (i = 0; i < GEO_CODES; i++)
		map[i] = -1;
	for (i = 0; i < b->n_rows; i++) {
		geo_code_num(b->rows[i].code, &n);
		map[n] = i;
	}
	k = 0;
	for (n = 0; n < GEO_CODES; n++) {
		struct geo_row *row;
		struct nrm_region *reg;

		geo->index[n] = -1;
		if (map[n] < 0)
			continue;
		row = &b->rows[map[n]];
		reg = &geo->regions[where[row->region]];
		memcpy(geo->munis[k].code, row->code, sizeof(row->code));
		geo->munis[k].name = row->name;
		row->name = NULL;
		geo->munis[k].region = reg;
		reg->n_municipalities++;
		geo->index[n] = (int16_t)k;
		k++;
	}
	geo->n_munis = k;
	rc = NRM_OK;
out:
	free(where);
	return rc;
}

static void
geo_builder_free(struct geo_builder *b)
{
	int i;

	for (i = 0; i < b->n_rows; i++)
		free(b->rows[i].name);
	free(b->rows);
	for (i = 0; i < b->n_regions; i++)
		free(b->regions[i].name);
	free(b->regions);
}

/*
 * Check one data record (fields f[0..3]) and add it to the builder,
 * taking f[1] and f[3] when used.  *seen marks municipality codes
 * already present.
 */
static int
geo_add_row(
    struct geo_builder *b, char *f[GEO_FIELDS], bool *seen, const char **detail)
{
	struct geo_row *row;
	int num, region;

	if (!geo_code_num(f[0], &num)) {
		*detail = "malformed municipality code (expected GM and 4 "
			  "digits)";
		return NRM_ERR;
	}
	if (seen[num]) {
		*detail = "duplicate municipality code";
		return NRM_ERR;
	}
	if (!geo_name_ok(f[1])) {
		*detail = "empty or invalid municipality name";
		return NRM_ERR;
	}
	if (!geo_region_code_ok(f[2])) {
		*detail = "malformed region code (1 to 15 of A-Z a-z 0-9 _ -, "
			  "not NATIONAL)";
		return NRM_ERR;
	}
	if (!geo_name_ok(f[3])) {
		*detail = "empty or invalid region name";
		return NRM_ERR;
	}
	region = geo_region_intern(b, f[2], &f[3], detail);
	if (region < 0)
		return NRM_ERR;
	row = nrm_grow(b->rows, &b->cap_rows, b->n_rows, sizeof(*row), 512);
	if (row == NULL) {
		*detail = "out of memory";
		return NRM_ERR;
	}
	b->rows = row;
	row = &b->rows[b->n_rows++];
	memcpy(row->code, f[0], 7);
	row->name = f[1];
	f[1] = NULL;
	row->region = region;
	seen[num] = true;
	return NRM_OK;
}

/* The line holding the first byte that is not strict UTF-8. */
static int
geo_bad_utf8_line(const char *text, size_t len)
{
	size_t pos = 0;
	int line = 1;

	while (pos < len) {
		if (text[pos] == '\n')
			line++;
		if (nrm_utf8_next(text, len, &pos) <= 0)
			break;
	}
	return line;
}

/*
 * Parse the text: a UTF-8 byte order mark is skipped, the header must
 * match exactly, blank lines are skipped, every other line is one
 * record.  Errors name the physical line where the record starts.
 */
int
nrm_geo_parse_csv(
    struct nrm_geo **out, const char *text, size_t len, struct nrm_error *err)
{
	struct geo_builder b = {0};
	struct geo_csv c = {text, text + len, 1};
	struct nrm_geo *geo = NULL;
	char *f[GEO_FIELDS] = {NULL};
	bool *seen = NULL;
	const char *detail = NULL;
	char where[32];
	int i, rc = NRM_ERR, line = 1;

	*out = NULL;
	snprintf(where, sizeof(where), "line 1");
	if (text == NULL || len == 0) {
		nrm_error_set(err, NRM_E_VALIDATION, where, "empty file");
		goto out;
	}
	if (!nrm_utf8_valid(text, len)) {
		line = geo_bad_utf8_line(text, len);
		detail = "not valid UTF-8 (or a NUL byte)";
		goto bad;
	}
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		c.p += 3;
	if (geo_csv_record(&c, f, &detail) != NRM_OK)
		goto bad;
	if (strcmp(f[0], "municipality_code") != 0 ||
	    strcmp(f[1], "municipality_name") != 0 ||
	    strcmp(f[2], "safety_region_code") != 0 ||
	    strcmp(f[3], "safety_region_name") != 0) {
		detail = "wrong header (expected " GEO_HEADER ")";
		goto bad;
	}
	seen = calloc(GEO_CODES, sizeof(*seen));
	if (seen == NULL) {
		detail = "out of memory";
		goto bad;
	}
	while (c.p < c.end) {
		for (i = 0; i < GEO_FIELDS; i++) {
			free(f[i]);
			f[i] = NULL;
		}
		line = c.line;
		if (*c.p == '\n' ||
		    (*c.p == '\r' && c.p + 1 < c.end && c.p[1] == '\n')) {
			c.p += *c.p == '\r' ? 2 : 1;
			c.line++;
			continue;
		}
		if (geo_csv_record(&c, f, &detail) != NRM_OK)
			goto bad;
		if (geo_add_row(&b, f, seen, &detail) != NRM_OK)
			goto bad;
	}
	if (b.n_rows == 0) {
		line = c.line;
		detail = "no municipalities";
		goto bad;
	}
	geo = calloc(1, sizeof(*geo));
	if (geo == NULL || geo_finish(&b, geo) != NRM_OK) {
		nrm_error_set(err, NRM_E_INTERNAL, "", "out of memory");
		goto out;
	}
	*out = geo;
	geo = NULL;
	rc = NRM_OK;
	goto out;
bad:
	snprintf(where, sizeof(where), "line %d", line);
	nrm_error_set(err, NRM_E_VALIDATION, where, "%s", detail);
out:
	for (i = 0; i < GEO_FIELDS; i++)
		free(f[i]);
	free(seen);
	nrm_geo_free(geo);
	geo_builder_free(&b);
	return rc;
}

void
nrm_geo_free(struct nrm_geo *geo)
{
	int i;

	if (geo == NULL)
		return;
	if (geo->regions != NULL) {
		for (i = 0; i < geo->n_regions; i++)
			free(geo->regions[i].name);
	}
	if (geo->munis != NULL) {
		for (i = 0; i < geo->n_munis; i++)
			free(geo->munis[i].name);
	}
	free(geo->regions);
	free(geo->munis);
	free(geo);
}

const struct nrm_municipality *
nrm_geo_municipality(const struct nrm_geo *geo, const char *code)
{
	int num;

	if (geo == NULL || !geo_code_num(code, &num) || geo->index[num] < 0)
		return NULL;
	return &geo->munis[geo->index[num]];
}

const struct nrm_region *
nrm_geo_region(const struct nrm_geo *geo, const char *code)
{
	struct nrm_region key;
	size_t n;

	if (geo == NULL || code == NULL)
		return NULL;
	n = strlen(code);
	if (n >= sizeof(key.code))
		return NULL;
	if (strcmp(code, NRM_REGION_NATIONAL) == 0)
		return &geo->regions[geo->n_regions - 1];
	memcpy(key.code, code, n + 1);
	return bsearch(&key, geo->regions, (size_t)geo->n_regions - 1,
	    sizeof(*geo->regions), geo_region_cmp);
}

int
nrm_geo_n_regions(const struct nrm_geo *geo)
{
	return geo != NULL ? geo->n_regions : 0;
}

const struct nrm_region *
nrm_geo_region_at(const struct nrm_geo *geo, int i)
{
	if (geo == NULL || i < 0 || i >= geo->n_regions)
		return NULL;
	return &geo->regions[i];
}

int
nrm_geo_n_municipalities(const struct nrm_geo *geo)
{
	return geo != NULL ? geo->n_munis : 0;
}

const struct nrm_municipality *
nrm_geo_municipality_at(const struct nrm_geo *geo, int i)
{
	if (geo == NULL || i < 0 || i >= geo->n_munis)
		return NULL;
	return &geo->munis[i];
}
