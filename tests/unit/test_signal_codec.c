/*
 * test_signal_codec.c - the canonical encodings of a signal, the facts
 * that hold no personal data, the subject JSON, the pseudonym input and
 * the wire names (nrm-core/signal_codec.c, signal.c).  Validation is
 * tested in test_signal.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "nrm/signal.h"
#include "unit.h"
#include "signal_bodies.h"

static void
test_canonical_equal(void **state)
{
	static const char a[] =
	    "{\"observed_at\":\"2026-11-28T22:15:00+01:00\","
	    "\"location\":{\"municipality_code\":\"GM0363\"},"
	    "\"subject\":{\"given_name\":\"Ada\",\"family_name\":\"Ok\","
	    "\"languages\":[\"en\",\"nl\"]},"
	    "\"exploitation\":[\"labour\",\"sexual\"],"
	    "\"urgency\":{\"needs_shelter\":true},\"consent\":\"given\"}";
	static const char b[] =
	    "{ \"consent\" : \"given\",\n\t\"urgency\" : "
	    "{ \"needs_shelter\" : true },\n"
	    "  \"exploitation\" : [ \"labour\", \"sexual\" ],\n"
	    "  \"subject\" : { \"languages\" : [ \"en\", \"nl\" ], "
	    "\"family_name\" : \"Ok\", \"given_name\" : \"Ada\" },\n"
	    "  \"location\" : { \"municipality_code\" : \"GM0363\" },\n"
	    "  \"observed_at\" : \"2026-11-28T22:15:00+01:00\" }\n";
	static const char c[] =
	    "{\"observed_at\":\"2026-11-28T22:15:00+01:00\","
	    "\"location\":{\"municipality_code\":\"GM0363\"},"
	    "\"subject\":{\"given_name\":\"Ada\",\"family_name\":\"Ok\","
	    "\"languages\":[\"en\",\"nl\"]},"
	    "\"exploitation\":[\"labour\",\"sexual\"],"
	    "\"urgency\":{\"needs_shelter\":false},\"consent\":\"given\"}";
	/* a and b: one signal written two ways; c: another signal. */
	const char *const body[3] = {a, b, c};
	const size_t len[3] = {sizeof(a) - 1, sizeof(b) - 1, sizeof(c) - 1};
	struct nrm_signal s[3];
	struct nrm_error err;
	char *j[3];
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(parse(&s[i], body[i], len[i], &err), NRM_OK);
		j[i] = nrm_signal_canonical_json(&s[i]);
		assert_non_null(j[i]);
	}
	assert_string_equal(j[0], j[1]);
	assert_string_not_equal(j[0], j[2]);
	assert_string_equal(j[0],
	    "{\"observed_at\":\"2026-11-28T21:15:00Z\","
	    "\"municipality_code\":\"GM0363\",\"reporter_reference\":null,"
	    "\"subject\":{\"given_name\":\"Ada\",\"family_name\":\"Ok\","
	    "\"birth_date\":null,\"age_estimate\":null,\"minor\":null,"
	    "\"gender\":null,\"nationality\":null,"
	    "\"languages\":[\"en\",\"nl\"],\"phone\":null,\"address\":null},"
	    "\"exploitation\":[\"sexual\",\"labour\"],\"control_means\":[],"
	    "\"immediate_danger\":false,\"needs_shelter\":true,"
	    "\"consent\":\"given\",\"narrative\":null,\"minor\":false,"
	    "\"notification_only\":false}");
	for (i = 0; i < 3; i++) {
		free(j[i]);
		nrm_signal_free(&s[i]);
	}
}

/* The facts hold exactly the documented keys and no personal value. */
static void
test_facts_not_personal(void **state)
{
	static const char *const keys[] = {
	    "observed_at",
	    "municipality_code",
	    "reporter_reference",
	    "minor",
	    "age_estimate",
	    "gender",
	    "nationality",
	    "languages",
	    "exploitation",
	    "control_means",
	    "immediate_danger",
	    "needs_shelter",
	    "consent",
	    "notification_only",
	};
	static const char *const personal[] = {
	    "Ada",
	    "\"Ok\"",
	    "1990-05-17",
	    "1234 5678",
	    "Damrak",
	    "Line one",
	    "given_name",
	    "family_name",
	    "birth_date",
	    "phone",
	    "address",
	    "narrative",
	};
	struct nrm_signal s;
	struct nrm_error err;
	cJSON *root, *m;
	char *facts;
	size_t i, n = 0;

	(void)state;
	assert_int_equal(
	    parse(&s, FULL_ADULT, strlen(FULL_ADULT), &err), NRM_OK);
	facts = nrm_signal_facts_json(&s);
	assert_non_null(facts);
	for (i = 0; i < sizeof(personal) / sizeof(personal[0]); i++) {
		if (strstr(facts, personal[i]) != NULL)
			fail_msg("facts hold %s: %s", personal[i], facts);
	}
	root = cJSON_Parse(facts);
	assert_non_null(root);
	cJSON_ArrayForEach (m, root) {
		assert_string_equal(m->string, keys[n]);
		n++;
	}
	assert_int_equal(n, sizeof(keys) / sizeof(keys[0]));
	assert_string_equal(facts,
	    "{\"observed_at\":\"2026-11-28T21:15:00Z\","
	    "\"municipality_code\":\"GM0363\","
	    "\"reporter_reference\":\"PL-2026-1234\",\"minor\":false,"
	    "\"age_estimate\":36,\"gender\":\"female\",\"nationality\":\"NG\","
	    "\"languages\":[\"en\",\"yo\"],"
	    "\"exploitation\":[\"sexual\",\"labour\"],"
	    "\"control_means\":[\"debt_bondage\",\"loverboy\"],"
	    "\"immediate_danger\":false,\"needs_shelter\":true,"
	    "\"consent\":\"given\",\"notification_only\":false}");
	cJSON_Delete(root);
	free(facts);
	nrm_signal_free(&s);
}

struct subject_case {
	const char *name;
	const char *body;
	const char *json;
};

static const struct subject_case subject_cases[] = {
    {"full adult", NULL,
	"{\"given_name\":\"Ada\",\"family_name\":\"Ok\","
	"\"birth_date\":\"1990-05-17\",\"phone\":\"+31 (0)6-1234 5678\","
	"\"address\":\"Damrak 1\\nAmsterdam\","
	"\"narrative\":\"Line one.\\r\\nLine two.\"}"},
    {"nothing personal sent", WITH(""), "{}"},
    {"notification refused",
	SUBJ_CONSENT("\"age_estimate\":30,\"gender\":\"male\"", "refused"),
	"null"},
    {"notification unable", SUBJ_CONSENT("", "unable"), "null"},
    {"minor without consent keeps data",
	SUBJ_CONSENT("\"family_name\":\"Kid\",\"minor\":true", "refused"),
	"{\"family_name\":\"Kid\"}"},
};

static void
test_subject_json(void **state)
{
	(void)state;
	UNIT_EACH (struct subject_case, c, subject_cases) {
		const char *body = c->body ? c->body : FULL_ADULT;
		struct nrm_signal s;
		struct nrm_error err;
		char *json;

		if (parse(&s, body, strlen(body), &err) != NRM_OK)
			fail_msg("%s: refused: %s", c->name, err.field);
		json = nrm_signal_subject_json(&s);
		assert_non_null(json);
		if (strcmp(json, c->json) != 0)
			fail_msg("%s: %s, want %s", c->name, json, c->json);
		free(json);
		nrm_signal_free(&s);
	}
}

struct pseudo_case {
	const char *name;
	const char *given; /* NULL: absent */
	const char *family; /* NULL: absent */
	bool has_birth_date;
	size_t bufsz;
	const char *want; /* "" means 0 is returned */
};

static const struct pseudo_case pseudo_cases[] = {
    {"collapse, trim, fold, lower", "  Jos\xC3\xA9  ", " DE   Vries ", true,
	256, "jose|de vries|1990-05-17"},
    {"same person, other spelling", "JOSE", "de vries", true, 256,
	"jose|de vries|1990-05-17"},
    {"whole name in family", NULL, "  Jos\xC3\xA9   DE Vries ", true, 256,
	"|jose de vries|1990-05-17"},
    {"Dutch ij ligature", "\xC4\xB2sbrand", "Smit", true, 256,
	"ijsbrand|smit|1990-05-17"},
    {"Polish l-stroke, German sharp s", "\xC5\x81ukasz",
	"Stra\xC3\x9F"
	"e",
	true, 256, "lukasz|strasse|1990-05-17"},
    {"Nordic o-slash and ae", "\xC3\x98rsted",
	"\xC3\x86"
	"sir",
	true, 256, "orsted|aesir|1990-05-17"},
    {"Turkish dotless i and cedilla", "I\xC5\x9F\xC4\xB1k",
	"\xC3\x87"
	"elik",
	true, 256, "isik|celik|1990-05-17"},
    {"no-break space and tab are whitespace", "Ana\xC2\xA0Maria", "van\tDam",
	true, 256, "ana maria|van dam|1990-05-17"},
    {"multiplication sign is kept",
	"A\xC3\x97"
	"B",
	"C", true, 256,
	"a\xC3\x97"
	"b|c|1990-05-17"},
    {"Cyrillic passes through", "\xD0\x90\xD0\xBD\xD0\xBD\xD0\xB0", "Ivanova",
	true, 256,
	"\xD0\x90\xD0\xBD\xD0\xBD\xD0\xB0|ivanova|"
	"1990-05-17"},
    {"no family name", "Ada", NULL, true, 256, ""},
    {"no birth date", "Ada", "Ok", false, 256, ""},
    {"family only whitespace", "Ada", "\xC2\xA0 ", true, 256, ""},
    {"buffer too small", "Ada", "Ok", true, 10, ""},
    {"buffer exactly big enough", "Ada", "Ok", true, 18, "ada|ok|1990-05-17"},
};

static void
test_pseudonym(void **state)
{
	(void)state;
	UNIT_EACH (struct pseudo_case, c, pseudo_cases) {
		struct nrm_signal s;
		char buf[256];
		size_t n;

		memset(&s, 0, sizeof(s));
		s.subject.given_name = (char *)(uintptr_t)c->given;
		s.subject.family_name = (char *)(uintptr_t)c->family;
		s.subject.has_birth_date = c->has_birth_date;
		s.subject.birth_date.year = 1990;
		s.subject.birth_date.month = 5;
		s.subject.birth_date.day = 17;
		memset(buf, 'X', sizeof(buf));
		n = nrm_signal_pseudonym_input(&s, buf, c->bufsz);
		if (n != strlen(c->want) || strcmp(buf, c->want) != 0)
			fail_msg("%s: \"%s\" (%zu), want \"%s\"", c->name,
			    n ? buf : "", n, c->want);
	}
}

/* Parsed input goes through the same normalisation. */
static void
test_pseudonym_from_body(void **state)
{
	static const char body[] =
	    SUBJ("\"given_name\":\"  Jos\\u00e9 \",\"family_name\":"
		 "\"DE   Vries \",\"birth_date\":\"1990-05-17\"");
	struct nrm_signal s;
	struct nrm_error err;
	char buf[512];

	(void)state;
	assert_int_equal(parse(&s, body, sizeof(body) - 1, &err), NRM_OK);
	assert_int_equal(nrm_signal_pseudonym_input(&s, buf, sizeof(buf)),
	    strlen("jose|de vries|1990-05-17"));
	assert_string_equal(buf, "jose|de vries|1990-05-17");
	nrm_signal_free(&s);
}

struct name_case {
	uint32_t bit;
	const char *expl;
	const char *ctrl;
};

static const struct name_case name_cases[] = {
    {NRM_EXPL_SEXUAL, "sexual", "debt_bondage"},
    {NRM_EXPL_FORCED_MARRIAGE, "forced_marriage", "physical_violence"},
    {NRM_EXPL_OTHER, "other", "restricted_movement"},
    {NRM_CTRL_LOVERBOY, NULL, "loverboy"},
    {NRM_CTRL_OTHER, NULL, "other"},
    {0, NULL, NULL},
    {3, NULL, NULL},
    {1u << 31, NULL, NULL},
};

static void
test_names(void **state)
{
	(void)state;
	UNIT_EACH (struct name_case, c, name_cases) {
		const char *e = nrm_exploitation_name(c->bit);
		const char *k = nrm_control_name(c->bit);

		if ((e == NULL) != (c->expl == NULL) ||
		    (e != NULL && strcmp(e, c->expl) != 0))
			fail_msg("exploitation %#x: %s", c->bit, e);
		if ((k == NULL) != (c->ctrl == NULL) ||
		    (k != NULL && strcmp(k, c->ctrl) != 0))
			fail_msg("control %#x: %s", c->bit, k);
	}
	assert_string_equal(nrm_consent_name(NRM_CONSENT_NOT_REQUIRED_MINOR),
	    "not_required_minor");
	assert_null(nrm_consent_name((enum nrm_consent)4));
	assert_string_equal(
	    nrm_gender_name(NRM_GENDER_NON_BINARY), "non_binary");
	assert_null(nrm_gender_name(NRM_GENDER_UNSPECIFIED));
	assert_null(nrm_gender_name((enum nrm_gender)99));
}

/* Every control means name on the wire parses to its bit. */
static void
test_every_control_means(void **state)
{
	char body[512];
	struct nrm_signal s;
	struct nrm_error err;
	int i;

	(void)state;
	for (i = 0; i < NRM_CTRL_COUNT; i++) {
		uint32_t bit = 1u << i;

		snprintf(body, sizeof(body),
		    WITH(",\"control_means\":[\"%s\"]"), nrm_control_name(bit));
		assert_int_equal(parse(&s, body, strlen(body), &err), NRM_OK);
		assert_int_equal(s.control, bit);
		nrm_signal_free(&s);
	}
}

UNIT_MAIN(setup, teardown, cmocka_unit_test(test_canonical_equal),
    cmocka_unit_test(test_facts_not_personal),
    cmocka_unit_test(test_subject_json), cmocka_unit_test(test_pseudonym),
    cmocka_unit_test(test_pseudonym_from_body), cmocka_unit_test(test_names),
    cmocka_unit_test(test_every_control_means))
