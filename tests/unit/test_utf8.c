/*
 * test_utf8.c - table-driven tests of strict UTF-8 validation, decoding
 * and boundary-safe truncation (nrm-core/utf8.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nrm/nrm.h"
#include "nrm/utf8.h"
#include "unit.h"

struct valid_case {
	const char *name;
	const char *bytes;
	size_t len;
	bool valid;
};

#define B(s) s, sizeof(s) - 1

static const struct valid_case valid_cases[] = {
    {"empty", B(""), true},
    {"ascii", B("hello, world"), true},
    {"two-byte e-acute", B("Jos\xC3\xA9"), true},
    {"three-byte euro", B("\xE2\x82\xAC"), true},
    {"four-byte emoji", B("\xF0\x9F\x98\x80"), true},
    {"last code point U+10FFFF", B("\xF4\x8F\xBF\xBF"), true},
    {"U+D7FF before surrogates", B("\xED\x9F\xBF"), true},
    {"U+E000 after surrogates", B("\xEE\x80\x80"), true},
    {"U+0080 smallest two-byte", B("\xC2\x80"), true},
    {"U+0800 smallest three-byte", B("\xE0\xA0\x80"), true},
    {"U+10000 smallest four-byte", B("\xF0\x90\x80\x80"), true},
    {"above U+10FFFF", B("\xF4\x90\x80\x80"), false},
    {"lead F5", B("\xF5\x80\x80\x80"), false},
    {"lead FF", B("\xFF"), false},
    {"lead FE", B("\xFE"), false},
    {"overlong slash C0 AF", B("\xC0\xAF"), false},
    {"overlong C1 BF", B("\xC1\xBF"), false},
    {"overlong three-byte", B("\xE0\x80\xAF"), false},
    {"overlong three-byte U+07FF", B("\xE0\x9F\xBF"), false},
    {"overlong four-byte", B("\xF0\x80\x80\xAF"), false},
    {"overlong four-byte U+FFFF", B("\xF0\x8F\xBF\xBF"), false},
    {"high surrogate D800", B("\xED\xA0\x80"), false},
    {"low surrogate DFFF", B("\xED\xBF\xBF"), false},
    {"NUL byte inside", "ab\0cd", 5, false},
    {"NUL byte alone", "\0", 1, false},
    {"truncated two-byte at end", B("ab\xC3"), false},
    {"truncated three-byte at end", B("\xE2\x82"), false},
    {"truncated four-byte at end", B("\xF0\x9F\x98"), false},
    {"lone continuation byte", B("\x80"), false},
    {"continuation missing", B("\xC3\x28"), false},
    {"bad third byte", B("\xE2\x82\x28"), false},
    {"bad fourth byte", B("\xF0\x9F\x98\x28"), false},
    {"CESU-8 surrogate pair", B("\xED\xA0\xBD\xED\xB8\x80"), false},
};

static void
test_valid(void **state)
{
	(void)state;
	UNIT_EACH (struct valid_case, c, valid_cases) {
		bool got = nrm_utf8_valid(c->bytes, c->len);

		if (got != c->valid)
			fail_msg(
			    "%s: valid=%d, want %d", c->name, got, c->valid);
	}
}

struct next_case {
	const char *name;
	const char *bytes;
	size_t len;
	int32_t cp; /* expected code point or -1 */
	size_t advance; /* expected new position */
};

static const struct next_case next_cases[] = {
    {"ascii A", B("A"), 0x41, 1},
    {"NUL decodes as 0", "\0", 1, 0, 1},
    {"e-acute", B("\xC3\xA9"), 0xE9, 2},
    {"ij ligature", B("\xC4\xB3"), 0x133, 2},
    {"euro", B("\xE2\x82\xAC"), 0x20AC, 3},
    {"emoji", B("\xF0\x9F\x98\x80"), 0x1F600, 4},
    {"max", B("\xF4\x8F\xBF\xBF"), 0x10FFFF, 4},
    {"surrogate", B("\xED\xA0\x80"), -1, 0},
    {"overlong", B("\xC0\x80"), -1, 0},
    {"truncated", B("\xE2\x82"), -1, 0},
};

static void
test_next(void **state)
{
	(void)state;
	UNIT_EACH (struct next_case, c, next_cases) {
		size_t pos = 0;
		int32_t cp = nrm_utf8_next(c->bytes, c->len, &pos);

		if (cp != c->cp || pos != c->advance)
			fail_msg("%s: cp=%d pos=%zu, want %d %zu", c->name,
			    (int)cp, pos, (int)c->cp, c->advance);
	}
}

struct trim_case {
	const char *name;
	const char *bytes;
	size_t len; /* prefix length asked for */
	size_t want; /* longest boundary-safe prefix */
};

static const struct trim_case trim_cases[] = {
    {"empty", "", 0, 0},
    {"ascii whole", "abc", 3, 3},
    {"complete two-byte", "a\xC3\xA9", 3, 3},
    {"cut inside two-byte", "a\xC3\xA9", 2, 1},
    {"complete three-byte", "a\xE2\x82\xAC", 4, 4},
    {"cut after first of three", "a\xE2\x82\xAC", 2, 1},
    {"cut after second of three", "a\xE2\x82\xAC", 3, 1},
    {"complete four-byte", "\xF0\x9F\x98\x80", 4, 4},
    {"cut inside four-byte", "x\xF0\x9F\x98\x80", 4, 1},
    {"only a lead byte", "\xC3\xA9", 1, 0},
};

static void
test_trim(void **state)
{
	(void)state;
	UNIT_EACH (struct trim_case, c, trim_cases) {
		size_t got = nrm_utf8_trim(c->bytes, c->len);

		if (got != c->want)
			fail_msg(
			    "%s: trim=%zu, want %zu", c->name, got, c->want);
	}
}

/* nrm_error_set() cuts over-long text without breaking a character. */
static void
test_error_truncation(void **state)
{
	struct nrm_error err;
	char longf[300];
	int i;

	(void)state;
	for (i = 0; i < 149; i++)
		memcpy(longf + 2 * i, "\xC3\xA9", 2);
	longf[298] = '\0';
	assert_int_equal(
	    nrm_error_set(&err, NRM_E_VALIDATION, longf, "x%sy", longf),
	    NRM_ERR);
	assert_int_equal(err.code, NRM_E_VALIDATION);
	assert_true(strlen(err.field) < sizeof(err.field));
	assert_true(nrm_utf8_valid(err.field, strlen(err.field)));
	assert_int_equal(strlen(err.field), 126);
	assert_true(nrm_utf8_valid(err.detail, strlen(err.detail)));
	assert_int_equal(strlen(err.detail), 255);
	assert_int_equal(err.detail[0], 'x');
	assert_int_equal(
	    nrm_error_set(NULL, NRM_E_INTERNAL, "f", "d"), NRM_ERR);
	nrm_error_clear(&err);
	assert_int_equal(err.code, NRM_E_NONE);
	assert_string_equal(err.field, "");
	assert_string_equal(err.detail, "");
}

struct errname_case {
	int code;
	const char *name;
};

/* The names docs/sql-api.md and the problem types rely on. */
static const struct errname_case errname_cases[] = {
    {NRM_E_NONE, "none"},
    {NRM_E_MALFORMED, "malformed"},
    {NRM_E_UNAUTHENTICATED, "unauthenticated"},
    {NRM_E_FORBIDDEN, "forbidden"},
    {NRM_E_NOT_FOUND, "not_found"},
    {NRM_E_CONFLICT, "conflict"},
    {NRM_E_VALIDATION, "validation"},
    {NRM_E_IDEMPOTENCY, "idempotency"},
    {NRM_E_TIMEOUT, "timeout"},
    {NRM_E__COUNT, "internal"},
    {-1, "internal"},
};

static void
test_errcode_names(void **state)
{
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < sizeof(errname_cases) / sizeof(errname_cases[0]); i++)
		assert_string_equal(
		    nrm_errcode_name((enum nrm_errcode)errname_cases[i].code),
		    errname_cases[i].name);
	for (k = 0; k < NRM_E__COUNT; k++)
		assert_non_null(nrm_errcode_name((enum nrm_errcode)k));
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_valid), cmocka_unit_test(test_next),
    cmocka_unit_test(test_trim), cmocka_unit_test(test_error_truncation),
    cmocka_unit_test(test_errcode_names))
