/*
 * test_geo.c - table-driven tests of the municipality -> region map
 * (nrm-core/geo.c): the real config/municipalities.csv (tests run from
 * the repository root) and a table of malformed files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nrm/geo.h"
#include "unit.h"

#define GEO_CSV_PATH "config/municipalities.csv"
#define HEADER \
	"municipality_code,municipality_name,safety_region_code," \
	"safety_region_name\n"

/* Read a whole file into a malloc'd buffer; fails the test if absent. */
static char *
read_file(const char *path, size_t *len)
{
	char *buf = unit_read(path, len);

	if (buf == NULL)
		fail_msg("could not read %s (run from the repo root)", path);
	return buf;
}

static int
setup_real(void **state)
{
	struct nrm_error err;
	struct nrm_geo *geo = NULL;
	size_t len;
	char *text = read_file(GEO_CSV_PATH, &len);
	int rc = nrm_geo_parse_csv(&geo, text, len, &err);

	free(text);
	if (rc != NRM_OK) {
		print_error(
		    "%s: %s: %s\n", GEO_CSV_PATH, err.field, err.detail);
		return -1;
	}
	*state = geo;
	return 0;
}

static int
teardown_real(void **state)
{
	nrm_geo_free(*state);
	return 0;
}

struct lookup_case {
	const char *code;
	const char *muni_name; /* NULL: code must not resolve */
	const char *region;
	const char *region_name;
};

static const struct lookup_case lookup_cases[] = {
    {"GM0363", "Amsterdam", "VR13", "Amsterdam-Amstelland"},
    {"GM0014", "Groningen", "VR01", "Groningen"},
    {"GM0599", "Rotterdam", "VR17", "Rotterdam-Rijnmond"},
    {"GM0518", "'s-Gravenhage", "VR15", "Haaglanden"},
    {"GM0344", "Utrecht", "VR09", "Utrecht"},
    {"GM0034", "Almere", "VR25", "Flevoland"},
    {"GM0820", "Nuenen, Gerwen en Nederwetten", "VR22", "Brabant-Zuidoost"},
    {"GM0080", "Leeuwarden", "VR02", "Frysl\xC3\xA2n"},
    {"GM1900",
	"S\xC3\xBA"
	"dwest-Frysl\xC3\xA2n",
	"VR02", "Frysl\xC3\xA2n"},
    {"GM0000", NULL, NULL, NULL},
    {"GM9999", NULL, NULL, NULL},
    {"GM036", NULL, NULL, NULL},
    {"GM03630", NULL, NULL, NULL},
    {"gm0363", NULL, NULL, NULL},
    {"XX0363", NULL, NULL, NULL},
    {"GM036a", NULL, NULL, NULL},
    {"", NULL, NULL, NULL},
};

/*
 * Whether p was found as wanted (fails the test otherwise); false when
 * there is nothing more to check.
 */
static bool
found_as_wanted(const void *p, bool want, const char *code)
{
	if (!want) {
		if (p != NULL)
			fail_msg("%s: resolved, want NULL", code);
		return false;
	}
	if (p == NULL)
		fail_msg("%s: not found", code);
	return true;
}

static void
test_real_lookup(void **state)
{
	const struct nrm_geo *geo = *state;

	UNIT_EACH (struct lookup_case, c, lookup_cases) {
		const struct nrm_municipality *m =
		    nrm_geo_municipality(geo, c->code);

		if (!found_as_wanted(m, c->muni_name != NULL, c->code))
			continue;
		assert_string_equal(m->code, c->code);
		assert_string_equal(m->name, c->muni_name);
		assert_string_equal(m->region->code, c->region);
		assert_string_equal(m->region->name, c->region_name);
		assert_ptr_equal(nrm_geo_region(geo, c->region), m->region);
	}
	assert_null(nrm_geo_municipality(geo, NULL));
}

struct region_case {
	const char *code;
	int n_municipalities; /* -1: must not resolve */
};

static const struct region_case region_cases[] = {
    {"VR01", 10},
    {"VR02", 18},
    {"VR09", 26},
    {"VR13", 6},
    {"VR25", 6},
    {NRM_REGION_NATIONAL, 0},
    {"VR26", -1},
    {"VR1", -1},
    {"vr13", -1},
    {"", -1},
    {"AN-EXTREMELY-LONG-REGION-CODE", -1},
};

static void
test_real_regions(void **state)
{
	const struct nrm_geo *geo = *state;

	UNIT_EACH (struct region_case, c, region_cases) {
		const struct nrm_region *r = nrm_geo_region(geo, c->code);

		if (!found_as_wanted(r, c->n_municipalities >= 0, c->code))
			continue;
		assert_string_equal(r->code, c->code);
		if (r->n_municipalities != c->n_municipalities)
			fail_msg("%s: %d municipalities, want %d", c->code,
			    r->n_municipalities, c->n_municipalities);
	}
	assert_null(nrm_geo_region(geo, NULL));
}

/* Counts, iteration order, and every municipality has a real region. */
static void
test_real_counts(void **state)
{
	const struct nrm_geo *geo = *state;
	const struct nrm_region *r, *prev_r = NULL;
	const struct nrm_municipality *m, *prev_m = NULL;
	int i, sum = 0;

	assert_int_equal(nrm_geo_n_municipalities(geo), 342);
	assert_int_equal(nrm_geo_n_regions(geo), 25 + 1);
	for (i = 0; i < nrm_geo_n_regions(geo); i++) {
		r = nrm_geo_region_at(geo, i);
		assert_non_null(r);
		assert_non_null(r->name);
		if (prev_r != NULL && i < nrm_geo_n_regions(geo) - 1)
			assert_true(strcmp(prev_r->code, r->code) < 0);
		sum += r->n_municipalities;
		prev_r = r;
	}
	assert_string_equal(prev_r->code, NRM_REGION_NATIONAL);
	assert_int_equal(sum, 342);
	for (i = 0; i < nrm_geo_n_municipalities(geo); i++) {
		m = nrm_geo_municipality_at(geo, i);
		assert_non_null(m);
		assert_ptr_equal(nrm_geo_municipality(geo, m->code), m);
		assert_string_not_equal(m->region->code, NRM_REGION_NATIONAL);
		if (prev_m != NULL)
			assert_true(strcmp(prev_m->code, m->code) < 0);
		prev_m = m;
	}
	assert_null(nrm_geo_region_at(geo, -1));
	assert_null(nrm_geo_region_at(geo, 26));
	assert_null(nrm_geo_municipality_at(geo, 342));
}

struct csv_case {
	const char *name;
	const char *text;
	size_t len; /* 0: strlen(text) */
	int rc;
	const char *field; /* expected err.field on NRM_ERR */
	const char *detail; /* substring of err.detail on NRM_ERR */
	int n_munis; /* expected on NRM_OK */
};

static const struct csv_case csv_cases[] = {
    {"minimal", HEADER "GM0001,A,R1,Region one\n", 0, NRM_OK, NULL, NULL, 1},
    {"no final newline", HEADER "GM0001,A,R1,Region one", 0, NRM_OK, NULL, NULL,
	1},
    {"CRLF line ends",
	"municipality_code,municipality_name,safety_region_code,"
	"safety_region_name\r\nGM0001,A,R1,X\r\nGM0002,B,R1,X\r\n",
	0, NRM_OK, NULL, NULL, 2},
    {"byte order mark", "\xEF\xBB\xBF" HEADER "GM0001,A,R1,X\n", 0, NRM_OK,
	NULL, NULL, 1},
    {"blank lines skipped", HEADER "\nGM0001,A,R1,X\n\n\nGM0002,B,R2,Y\n\n", 0,
	NRM_OK, NULL, NULL, 2},
    {"quoted fields with comma and quote",
	HEADER "\"GM0001\",\"A, \"\"the\"\" town\",R1,\"X, Y\"\n", 0, NRM_OK,
	NULL, NULL, 1},
    {"empty file", "", 0, NRM_ERR, "line 1", "empty", 0},
    {"wrong header", "code,name,region,region_name\nGM0001,A,R1,X\n", 0,
	NRM_ERR, "line 1", "wrong header", 0},
    {"header only", HEADER, 0, NRM_ERR, "line 2", "no municipalities", 0},
    {"malformed code", HEADER "GM0001,A,R1,X\nGM36,B,R1,X\n", 0, NRM_ERR,
	"line 3", "municipality code", 0},
    {"lower-case code", HEADER "gm0001,A,R1,X\n", 0, NRM_ERR, "line 2",
	"municipality code", 0},
    {"duplicate municipality", HEADER "GM0001,A,R1,X\nGM0001,B,R1,X\n", 0,
	NRM_ERR, "line 3", "duplicate", 0},
    {"region with two names", HEADER "GM0001,A,R1,X\nGM0002,B,R1,Y\n", 0,
	NRM_ERR, "line 3", "two names", 0},
    {"three fields", HEADER "GM0001,A,R1\n", 0, NRM_ERR, "line 2", "4 fields",
	0},
    {"five fields", HEADER "GM0001,A,R1,X,extra\n", 0, NRM_ERR, "line 2",
	"4 fields", 0},
    {"unterminated quote", HEADER "GM0001,\"A,R1,X\n", 0, NRM_ERR, "line 2",
	"unterminated", 0},
    {"text after closing quote", HEADER "GM0001,\"A\"b,R1,X\n", 0, NRM_ERR,
	"line 2", "after a closing quote", 0},
    {"quote in unquoted field", HEADER "GM0001,A\"b,R1,X\n", 0, NRM_ERR,
	"line 2", "quote inside", 0},
    {"empty municipality name", HEADER "GM0001,,R1,X\n", 0, NRM_ERR, "line 2",
	"municipality name", 0},
    {"line break in a name", HEADER "GM0001,\"A\nB\",R1,X\n", 0, NRM_ERR,
	"line 2", "municipality name", 0},
    {"empty region name", HEADER "GM0001,A,R1,\n", 0, NRM_ERR, "line 2",
	"region name", 0},
    {"region code NATIONAL", HEADER "GM0001,A,NATIONAL,X\n", 0, NRM_ERR,
	"line 2", "region code", 0},
    {"region code with space", HEADER "GM0001,A,R 1,X\n", 0, NRM_ERR, "line 2",
	"region code", 0},
    {"invalid UTF-8 on line 3", HEADER "GM0001,A,R1,X\nGM0002,\xC3(,R1,X\n", 0,
	NRM_ERR, "line 3", "UTF-8", 0},
    {"bare carriage return", HEADER "GM0001,A,R1,X\rGM0002,B,R1,X\n", 0,
	NRM_ERR, "line 2", "carriage return", 0},
    {"line number after quoted line break",
	HEADER "GM0001,A,R1,\"X\"\n\"GM0002\",\"B\",R1,X\nbad\n", 0, NRM_ERR,
	"line 4", "4 fields", 0},
};

static void
test_csv_table(void **state)
{
	(void)state;
	UNIT_EACH (struct csv_case, c, csv_cases) {
		struct nrm_geo *geo = (struct nrm_geo *)1;
		struct nrm_error err;
		size_t len = c->len ? c->len : strlen(c->text);
		int rc;

		nrm_error_clear(&err);
		rc = nrm_geo_parse_csv(&geo, c->text, len, &err);
		if (rc != c->rc)
			fail_msg("%s: rc=%d, want %d (%s: %s)", c->name, rc,
			    c->rc, err.field, err.detail);
		if (rc == NRM_OK) {
			assert_int_equal(
			    nrm_geo_n_municipalities(geo), c->n_munis);
			assert_non_null(
			    nrm_geo_region(geo, NRM_REGION_NATIONAL));
			nrm_geo_free(geo);
			continue;
		}
		if (geo != NULL)
			fail_msg("%s: *out not NULL on error", c->name);
		unit_expect_error(
		    c->name, &err, NRM_E_VALIDATION, c->field, c->detail);
	}
}

/* Quoted names keep their text: commas and doubled quotes. */
static void
test_csv_quoting(void **state)
{
	static const char text[] =
	    HEADER "GM0001,\"A, \"\"the\"\" town\",R1,\"X, Y\"\n";
	struct nrm_geo *geo = NULL;
	struct nrm_error err;
	const struct nrm_municipality *m;

	(void)state;
	assert_int_equal(
	    nrm_geo_parse_csv(&geo, text, sizeof(text) - 1, &err), NRM_OK);
	m = nrm_geo_municipality(geo, "GM0001");
	assert_non_null(m);
	assert_string_equal(m->name, "A, \"the\" town");
	assert_string_equal(m->region->name, "X, Y");
	nrm_geo_free(geo);
}

UNIT_MAIN(NULL, NULL,
    cmocka_unit_test_setup_teardown(
	test_real_lookup, setup_real, teardown_real),
    cmocka_unit_test_setup_teardown(
	test_real_regions, setup_real, teardown_real),
    cmocka_unit_test_setup_teardown(
	test_real_counts, setup_real, teardown_real),
    cmocka_unit_test(test_csv_table), cmocka_unit_test(test_csv_quoting))
