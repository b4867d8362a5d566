/*
 * test_json.c - the strict JSON reader (nrm-core/json.c), table-driven:
 * every refusal with its code, field and detail, the byte offset of a
 * fault, the one definition of blank, paths, member matching, the
 * text and boolean helpers and where a member's value stands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nrm/json.h"
#include "unit.h"

#define MAL NRM_E_MALFORMED
#define VAL NRM_E_VALIDATION

struct parse_case {
	const char *name;
	const char *text;
	size_t len; /* 0: strlen(text) */
	enum nrm_errcode code; /* NRM_E_NONE: accepted */
	const char *field;
	const char *detail; /* must occur in err.detail */
	size_t at; /* byte offset of the fault, for MALFORMED */
};

static const struct parse_case parse_cases[] = {
    {"object", "{\"a\":1}", 0, NRM_E_NONE, "", NULL, 0},
    {"white space around", " \t\r\n{}\n ", 0, NRM_E_NONE, "", NULL, 0},
    {"scalar", "true", 0, NRM_E_NONE, "", NULL, 0},
    {"escapes", "\"\\u00e9\\n\\ud83d\\ude00\"", 0, NRM_E_NONE, "", NULL, 0},
    {"same key in two objects", "{\"a\":{\"k\":1},\"b\":{\"k\":1}}", 0,
	NRM_E_NONE, "", NULL, 0},
    {"empty", "", 0, MAL, "", "malformed JSON", 0},
    {"only blanks", "  ", 0, MAL, "", "end of input", 2},
    {"trailing word", "{} x", 0, MAL, "", "after the JSON value", 3},
    {"two values", "{}{}", 0, MAL, "", "after the JSON value", 2},
    {"trailing comma", "{\"a\":1,}", 0, MAL, "", "expected a key", 7},
    {"single quotes", "{'a':1}", 0, MAL, "", "expected a key", 1},
    {"leading zero", "[01]", 0, MAL, "", "bad number", 2},
    {"bare minus", "-", 0, MAL, "", "bad number", 1},
    {"NaN", "NaN", 0, MAL, "", "unexpected character", 0},
    {"True", "True", 0, MAL, "", "unexpected character", 0},
    {"long number",
	"1.000000000000000000000000000000000000000000000000000000000000000", 0,
	MAL, "", "number longer", 0},
    {"raw tab", "\"a\tb\"", 0, MAL, "", "control character", 2},
    {"nul escape", "[\"ab\\u0000\"]", 0, MAL, "", "\\u0000 is not allowed", 4},
    {"lone high surrogate", "\"\\ud800\"", 0, MAL, "", "surrogate", 1},
    {"lone low surrogate", "\"\\udc00\"", 0, MAL, "", "surrogate", 1},
    {"bad escape", "\"\\x41\"", 0, MAL, "", "bad escape", 1},
    {"bad hex", "\"\\u12G4\"", 0, MAL, "", "bad \\u escape", 5},
    {"unterminated", "\"abc", 0, MAL, "", "unterminated", 4},
    {"invalid UTF-8", "[\"a\xC3\x28\"]", 0, MAL, "", "UTF-8", 3},
    {"overlong UTF-8", "\"\xC0\xAF\"", 0, MAL, "", "UTF-8", 1},
    {"NUL byte", "{\"a\":\"\0\"}", 9, MAL, "", "NUL", 6},
    {"too deep",
	"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 0,
	MAL, "", "nested too deeply", 32},
    {"duplicate at top", "{\"a\":1,\"b\":2,\"a\":3}", 0, VAL, "a",
	"duplicate key", 0},
    {"duplicate after null", "{\"a\":null,\"a\":1}", 0, VAL, "a", "duplicate",
	0},
    {"duplicate nested", "{\"x\":[{},{\"y\":{\"k\":1,\"k\":2}}]}", 0, VAL,
	"x[1].y.k", "duplicate key", 0},
    {"duplicate through escapes", "{\"ab\":1,\"a\\u0062\":2}", 0, VAL, "ab",
	"duplicate", 0},
    {"first duplicate in document order", "{\"b\":1,\"a\":1,\"a\":2,\"b\":2}",
	0, VAL, "a", "duplicate", 0},
    {"duplicate key not shown", "{\"J. Doe\":1,\"J. Doe\":2}", 0, VAL, "",
	"name not shown", 0},
};

static void
test_parse_table(void **state)
{
	(void)state;
	UNIT_EACH (struct parse_case, c, parse_cases) {
		size_t len = c->len ? c->len : strlen(c->text);
		struct nrm_error err;
		cJSON *root = (cJSON *)1;
		size_t at = 99;
		int rc;

		nrm_error_clear(&err);
		rc = nrm_json_parse(&root, c->text, len, &at, &err);
		if (c->code == NRM_E_NONE) {
			if (rc != NRM_OK || root == NULL)
				fail_msg(
				    "%s: refused (%s)", c->name, err.detail);
			cJSON_Delete(root);
			continue;
		}
		if (rc != NRM_ERR || root != NULL)
			fail_msg("%s: accepted", c->name);
		if (err.code != c->code)
			fail_msg(
			    "%s: code %s", c->name, nrm_errcode_name(err.code));
		if (strcmp(err.field, c->field) != 0)
			fail_msg("%s: field \"%s\", want \"%s\"", c->name,
			    err.field, c->field);
		if (strstr(err.detail, c->detail) == NULL)
			fail_msg("%s: detail \"%s\" lacks \"%s\"", c->name,
			    err.detail, c->detail);
		if (c->code == MAL && at != c->at)
			fail_msg("%s: at %zu, want %zu", c->name, at, c->at);
	}
}

/* Many keys: the duplicate check stays correct (and fast). */
static void
test_many_keys(void **state)
{
	size_t cap = 20000 * 12 + 16, n = 0;
	char *buf = malloc(cap);
	struct nrm_error err;
	cJSON *root;
	int i;

	(void)state;
	assert_non_null(buf);
	buf[n++] = '{';
	for (i = 0; i < 20000; i++)
		n += (size_t)snprintf(
		    buf + n, cap - n, "%s\"k%d\":1", i > 0 ? "," : "", i);
	buf[n++] = '}';
	assert_int_equal(nrm_json_parse(&root, buf, n, NULL, &err), NRM_OK);
	cJSON_Delete(root);
	/* the same key again at the end */
	n--;
	n += (size_t)snprintf(buf + n, cap - n, ",\"k7\":2}");
	assert_int_equal(nrm_json_parse(&root, buf, n, NULL, &err), NRM_ERR);
	assert_string_equal(err.field, "k7");
	free(buf);
}

static void
test_blank(void **state)
{
	static const struct {
		const char *s;
		bool blank;
	} cases[] = {
	    {"", true},
	    {" ", true},
	    {"\t", true},
	    {"\r\n", true},
	    {" \t\r\n ", true},
	    {"a", false},
	    {" a ", false},
	    {"\xC2\xA0", false}, /* no-break space is text */
	    {"\v", false},
	    {"\f", false},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NRM_ARRAY_LEN(cases); i++)
		if (nrm_json_blank(cases[i].s) != cases[i].blank)
			fail_msg(
			    "blank(\"%s\") != %d", cases[i].s, cases[i].blank);
}

static void
test_control(void **state)
{
	static const struct {
		const char *s;
		bool lines, control;
	} cases[] = {
	    {"abc", false, false},
	    {"a\nb", false, true},
	    {"a\nb", true, false},
	    {"a\r\nb", true, false},
	    {"a\tb", true, true},
	    {"a\x7f", true, true},
	    {"a\xC2\x85", true, true}, /* C1 NEL */
	    {"a\xC2\xA0", true, false},
	    {"caf\xC3\xA9", false, false},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NRM_ARRAY_LEN(cases); i++)
		if (nrm_json_has_control(cases[i].s, cases[i].lines) !=
		    cases[i].control)
			fail_msg("control case %zu", i);
}

static void
test_paths(void **state)
{
	static const struct {
		const char *parent, *key;
		bool shown;
		const char *want;
	} cases[] = {
	    {"", "reason", true, "reason"},
	    {"subject", "given_name", true, "subject.given_name"},
	    {"a[2]", "b-c_D9", true, "a[2].b-c_D9"},
	    {"subject", "J. Doe", false, "subject"},
	    {"", "", false, ""},
	    {"x", "caf\xC3\xA9", false, "x"},
	    {"",
		"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
		"kk",
		true,
		"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
		"k"
		"k"},
	    {"",
		"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
		"kk"
		"k",
		false, ""},
	};
	char buf[NRM_JSON_PATH_MAX], big[300];
	size_t i;

	(void)state;
	for (i = 0; i < NRM_ARRAY_LEN(cases); i++) {
		bool shown = nrm_json_path(buf, cases[i].parent, cases[i].key);

		if (shown != cases[i].shown || strcmp(buf, cases[i].want) != 0)
			fail_msg("path case %zu: \"%s\" %d", i, buf, shown);
	}
	nrm_json_path_index(buf, "exploitation", 2);
	assert_string_equal(buf, "exploitation[2]");
	/* an over-long path is cut, never overrun */
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	nrm_json_path_index(buf, big, 7);
	assert_int_equal(strlen(buf), NRM_JSON_PATH_MAX - 1);
}

/* Collects reported faults for the members test. */
struct collect {
	int n;
	char fields[8][NRM_JSON_PATH_MAX];
	char details[8][256];
};

static void
collect_cb(void *arg, const struct nrm_error *err)
{
	struct collect *c = arg;

	if (c->n < 8) {
		snprintf(
		    c->fields[c->n], sizeof(c->fields[0]), "%s", err->field);
		snprintf(
		    c->details[c->n], sizeof(c->details[0]), "%s", err->detail);
	}
	c->n++;
}

static void
test_members(void **state)
{
	static const char *const keys[] = {"a", "b", "c"};
	const char *text = "{\"a\":1,\"x\":2,\"b\":null,\"J. D\":3}";
	const cJSON *slot[3];
	struct nrm_error err;
	struct collect col;
	cJSON *root;

	(void)state;
	assert_int_equal(
	    nrm_json_parse(&root, text, strlen(text), NULL, &err), NRM_OK);
	/* first fault only */
	assert_int_equal(
	    nrm_json_members(root, "o", keys, 3, 0, slot, NULL, NULL, &err), 1);
	assert_int_equal(err.code, NRM_E_VALIDATION);
	assert_string_equal(err.field, "o.x");
	assert_non_null(strstr(err.detail, "expected one of a, b, c"));
	/* every fault: two unknown keys and the missing required c; b is
	 * null but required, so it is kept for the caller's type check */
	memset(&col, 0, sizeof(col));
	assert_int_equal(nrm_json_members(root, "o", keys, 3, 6u, slot,
			     collect_cb, &col, NULL),
	    3);
	assert_int_equal(col.n, 3);
	assert_string_equal(col.fields[0], "o.x");
	assert_string_equal(col.fields[1], "o");
	assert_non_null(strstr(col.details[1], "name not shown"));
	assert_string_equal(col.fields[2], "o");
	assert_string_equal(col.details[2], "missing key c");
	assert_non_null(slot[0]);
	assert_non_null(slot[1]);
	assert_true(cJSON_IsNull(slot[1]));
	assert_null(slot[2]);
	/* not required: a null is absent */
	memset(&col, 0, sizeof(col));
	(void)nrm_json_members(
	    root, "", keys, 3, 0, slot, collect_cb, &col, NULL);
	assert_null(slot[1]);
	cJSON_Delete(root);
}

static void
test_parse_object(void **state)
{
	static const char *const keys[] = {"reason"};
	static const struct {
		const char *text;
		bool empty_ok;
		int n;
		enum nrm_errcode code;
		const char *field;
	} cases[] = {
	    {"{\"reason\":\"x\"}", false, 1, NRM_E_NONE, ""},
	    {"", true, 1, NRM_E_NONE, ""},
	    {"", false, 1, MAL, ""},
	    {"[]", false, 1, MAL, ""},
	    {"{\"note\":1}", false, 1, VAL, "note"},
	    {"{\"note\":1}", false, 0, VAL, "note"},
	    {"{\"note\":1}", false, -1, NRM_E_NONE, ""},
	    {"{\"reason\":\"a\",\"reason\":\"b\"}", false, 1, VAL, "reason"},
	    {"{\"reason\":\"a\"} {}", false, 1, MAL, ""},
	};
	const cJSON *slot[1];
	struct nrm_error err;
	cJSON *root;
	size_t i;

	(void)state;
	for (i = 0; i < NRM_ARRAY_LEN(cases); i++) {
		int rc;

		nrm_error_clear(&err);
		rc = nrm_json_parse_object(&root, cases[i].text,
		    strlen(cases[i].text), cases[i].empty_ok, keys, cases[i].n,
		    slot, &err);
		if (cases[i].code == NRM_E_NONE) {
			if (rc != NRM_OK)
				fail_msg("object case %zu refused: %s", i,
				    err.detail);
			assert_true(cJSON_IsObject(root));
			cJSON_Delete(root);
			continue;
		}
		if (rc != NRM_ERR || root != NULL)
			fail_msg("object case %zu accepted", i);
		if (err.code != cases[i].code ||
		    strcmp(err.field, cases[i].field) != 0)
			fail_msg("object case %zu: %s %s", i,
			    nrm_errcode_name(err.code), err.field);
	}
}

static void
test_text_and_bool(void **state)
{
	static const struct {
		const char *json;
		size_t max;
		bool lines;
		const char *detail; /* NULL: accepted */
	} cases[] = {
	    {"\"Ilva\"", 10, false, NULL},
	    {"\"a\\nb\"", 10, true, NULL},
	    {"\"a\\nb\"", 10, false, "control"},
	    {"\"\"", 10, false, "1 to 10 bytes"},
	    {"\"abcdefghijk\"", 10, false, "1 to 10 bytes"},
	    {"\" \\t\\r\\n\"", 10, true, "blank"},
	    {"\"\\t\"", 10, false, "blank"},
	    {"3", 10, false, "must be a string"},
	    {"null", 10, false, "must be a string"},
	};
	struct nrm_error err;
	cJSON *v;
	char *out;
	bool b = false;
	size_t i;

	(void)state;
	for (i = 0; i < NRM_ARRAY_LEN(cases); i++) {
		int rc;

		assert_int_equal(nrm_json_parse(&v, cases[i].json,
				     strlen(cases[i].json), NULL, &err),
		    NRM_OK);
		out = NULL;
		rc = nrm_json_text(
		    v, "t", cases[i].max, cases[i].lines, &out, &err);
		if (cases[i].detail == NULL) {
			if (rc != NRM_OK || out == NULL)
				fail_msg("text case %zu refused", i);
		} else if (rc != NRM_ERR || out != NULL ||
		    strstr(err.detail, cases[i].detail) == NULL ||
		    strcmp(err.field, "t") != 0) {
			fail_msg("text case %zu: %s", i, err.detail);
		}
		free(out);
		cJSON_Delete(v);
	}
	out = NULL;
	assert_int_equal(
	    nrm_json_text(NULL, "t", 5, false, &out, &err), NRM_OK);
	assert_null(out);
	assert_int_equal(nrm_json_bool(NULL, "b", &b, &err), NRM_OK);
	assert_false(b);
	assert_int_equal(nrm_json_parse(&v, "true", 4, NULL, &err), NRM_OK);
	assert_int_equal(nrm_json_bool(v, "b", &b, &err), NRM_OK);
	assert_true(b);
	cJSON_Delete(v);
	assert_int_equal(nrm_json_parse(&v, "1", 1, NULL, &err), NRM_OK);
	assert_int_equal(nrm_json_bool(v, "b", &b, &err), NRM_ERR);
	assert_string_equal(err.field, "b");
	cJSON_Delete(v);
}

/* nrm_json_str: a string member, or NULL for anything else. */
static void
test_str(void **state)
{
	static const char doc[] =
	    "{\"s\":\"Ilva\",\"e\":\"\",\"n\":3,\"z\":null,\"o\":{}}";
	struct nrm_error err;
	cJSON *v;

	(void)state;
	assert_int_equal(
	    nrm_json_parse(&v, doc, strlen(doc), NULL, &err), NRM_OK);
	assert_string_equal(nrm_json_str(v, "s"), "Ilva");
	assert_string_equal(nrm_json_str(v, "e"), "");
	assert_null(nrm_json_str(v, "S")); /* names are case-sensitive */
	assert_null(nrm_json_str(v, "n"));
	assert_null(nrm_json_str(v, "z"));
	assert_null(nrm_json_str(v, "o"));
	assert_null(nrm_json_str(v, "absent"));
	assert_null(nrm_json_str(NULL, "s"));
	cJSON_Delete(v);
}

/* nrm_json_member_span: where a member's value stands, or a refusal. */
static void
test_member_span(void **state)
{
	static const char *const body_items[] = {"body", "items"};
	static const char *const top_b[] = {"b"};
	static const struct {
		const char *text;
		const char *const *path;
		int n;
		const char *value; /* NULL: refused */
	} cases[] = {
	    {"{\"body\": {\"items\": [{\"a\": \"]}\"}], \"x\": 1}, "
	     "\"status\": 200}",
		body_items, 2, "[{\"a\": \"]}\"}]"},
	    {"{\"status\":200,\"body\":{\"n\":[1,{\"items\":2}],\"items\":[]}}",
		body_items, 2, "[]"},
	    {"{\"a\":\"b\\\"\",\"b\":true}", top_b, 1, "true"},
	    {"{\"a\":1,\"b\":-2.5e3,\"c\":", top_b, 1, "-2.5e3"},
	    {"{\"b\":{} , \"b\":1}", top_b, 1, "{}"},
	    {"{\"a\":1}", top_b, 1, NULL},
	    {"{\"\\u0062\":1}", top_b, 1, NULL},
	    {"{\"body\":[],\"items\":1}", body_items, 2, NULL},
	    {"[{\"b\":1}]", top_b, 1, NULL},
	    {"{\"a\":tru,\"b\":1}", top_b, 1, NULL},
	    {"{\"a\":\"unterminated", top_b, 1, NULL},
	    {"", top_b, 1, NULL},
	    {"{\"b\":1}", top_b, 0, NULL},
	};
	size_t i, s, e;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = nrm_json_member_span(cases[i].text,
		    strlen(cases[i].text), cases[i].path, cases[i].n, &s, &e);

		if (cases[i].value == NULL) {
			assert_int_equal(rc, NRM_ERR);
			continue;
		}
		assert_int_equal(rc, NRM_OK);
		assert_int_equal(e - s, strlen(cases[i].value));
		assert_memory_equal(cases[i].text + s, cases[i].value, e - s);
	}
}

static void
test_element_spans(void **state)
{
	static const struct {
		const char *text;
		int max;
		int n; /* -1: refused */
		const char *elems[3];
	} cases[] = {
	    {"[{\"status\": 200, \"body\": {\"items\": [1, 2]}}, "
	     "{\"status\": 401} ]",
		3, 2,
		{"{\"status\": 200, \"body\": {\"items\": [1, 2]}}",
		    "{\"status\": 401}"}},
	    {" [ ] ", 3, 0, {NULL}},
	    {"[\"a,]\",-1.5e2,null]", 3, 3, {"\"a,]\"", "-1.5e2", "null"}},
	    {"[1,2,3]", 2, -1, {NULL}},
	    {"[1,]", 3, -1, {NULL}},
	    {"[1 2]", 3, -1, {NULL}},
	    {"[1] x", 3, -1, {NULL}},
	    {"{\"a\":1}", 3, -1, {NULL}},
	    {"[[1]", 3, -1, {NULL}},
	    {"", 3, -1, {NULL}},
	};
	size_t s[3], e[3];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = -7;
		int rc = nrm_json_element_spans(cases[i].text,
		    strlen(cases[i].text), s, e, cases[i].max, &n);

		if (cases[i].n < 0) {
			assert_int_equal(rc, NRM_ERR);
			continue;
		}
		assert_int_equal(rc, NRM_OK);
		assert_int_equal(n, cases[i].n);
		for (int k = 0; k < n; k++) {
			assert_int_equal(
			    e[k] - s[k], strlen(cases[i].elems[k]));
			assert_memory_equal(cases[i].text + s[k],
			    cases[i].elems[k], e[k] - s[k]);
		}
	}
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_parse_table),
    cmocka_unit_test(test_many_keys), cmocka_unit_test(test_blank),
    cmocka_unit_test(test_control), cmocka_unit_test(test_paths),
    cmocka_unit_test(test_members), cmocka_unit_test(test_parse_object),
    cmocka_unit_test(test_text_and_bool), cmocka_unit_test(test_str),
    cmocka_unit_test(test_member_span), cmocka_unit_test(test_element_spans))
