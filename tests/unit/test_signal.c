/*
 * test_signal.c - table-driven tests of intake body validation and the
 * derived minor / notification facts (nrm-core/signal.c); the encodings
 * are tested in test_signal_codec.c.  Uses the real
 * config/municipalities.csv (tests run from the repository root).
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

/*
 * Accepted bodies and what they must derive.
 */
struct ok_case {
	const char *name;
	const char *body;
	bool minor;
	bool notification_only;
	const char *municipality;
};

static const struct ok_case ok_cases[] = {
    {"full adult with consent", FULL_ADULT, false, false, "GM0363"},
    {"minimal adult", WITH(""), false, false, ""},
    {"minor by birth date", SUBJ("\"birth_date\":\"2009-04-01\""), true, false,
	""},
    {"day before 18th birthday is a minor",
	SUBJ("\"birth_date\":\"2008-11-29\""), true, false, ""},
    {"18th birthday is an adult", SUBJ("\"birth_date\":\"2008-11-28\""), false,
	false, ""},
    {"age on the local date: 00:30+01:00 is already 29 November",
	BODY("\"2026-11-29T00:30:00+01:00\"", "{\"birth_date\":\"2008-11-29\"}",
	    E, C, ""),
	false, false, ""},
    {"same instant in Z is still 28 November: minor",
	BODY("\"2026-11-28T23:30:00Z\"", "{\"birth_date\":\"2008-11-29\"}", E,
	    C, ""),
	true, false, ""},
    {"born on the day observed", SUBJ("\"birth_date\":\"2026-11-28\""), true,
	false, ""},
    {"minor by age_estimate", SUBJ("\"age_estimate\":16"), true, false, ""},
    {"age_estimate 16.0 is an integer", SUBJ("\"age_estimate\":16.0"), true,
	false, ""},
    {"age_estimate 18 is adult", SUBJ("\"age_estimate\":18"), false, false, ""},
    {"age_estimate 0", SUBJ("\"age_estimate\":0"), true, false, ""},
    {"age_estimate 120", SUBJ("\"age_estimate\":120"), false, false, ""},
    {"minor flag", SUBJ("\"minor\":true"), true, false, ""},
    {"minor:false loses to a minor birth date",
	SUBJ("\"minor\":false,\"birth_date\":\"2010-01-01\""), true, false, ""},
    {"not_required_minor for a minor",
	SUBJ_CONSENT("\"minor\":true", "not_required_minor"), true, false, ""},
    {"minor who refuses keeps personal data",
	SUBJ_CONSENT("\"given_name\":\"Kid\",\"age_estimate\":15", "refused"),
	true, false, ""},
    {"notification: adult refused",
	SUBJ_CONSENT("\"age_estimate\":30,\"gender\":\"male\","
		     "\"nationality\":\"RO\",\"languages\":[\"ro\"]",
	    "refused"),
	false, true, ""},
    {"notification: adult unable", SUBJ_CONSENT("", "unable"), false, true, ""},
    {"notification: empty contact is no contact",
	SUBJ_CONSENT("\"contact\":{\"phone\":null}", "unable"), false, true,
	""},
    {"location null", WITH(",\"location\":null"), false, false, ""},
    {"location empty object", WITH(",\"location\":{}"), false, false, ""},
    {"municipality_code null",
	WITH(",\"location\":{\"municipality_code\":null}"), false, false, ""},
    {"municipality GM0014",
	WITH(",\"location\":{\"municipality_code\":"
	     "\"GM0014\"}"),
	false, false, "GM0014"},
    {"null optionals",
	WITH(",\"reporter_reference\":null,\"narrative\":null,"
	     "\"control_means\":null,\"urgency\":null"),
	false, false, ""},
    {"null subject members",
	SUBJ("\"given_name\":null,\"family_name\":null,"
	     "\"birth_date\":null,\"age_estimate\":null,\"minor\":null,"
	     "\"gender\":null,\"nationality\":null,\"languages\":null,"
	     "\"contact\":null"),
	false, false, ""},
    {"empty arrays and objects", WITH(",\"control_means\":[],\"urgency\":{}"),
	false, false, ""},
    {"unicode escapes in names",
	SUBJ("\"given_name\":\"Jos\\u00e9\",\"family_name\":"
	     "\"\\ud83d\\ude00\""),
	false, false, ""},
    {"every exploitation type",
	BODY(O, S,
	    "[\"sexual\",\"labour\",\"criminal\",\"begging\","
	    "\"forced_marriage\",\"illegal_adoption\",\"surrogacy\","
	    "\"organ_removal\",\"other\"]",
	    C, ""),
	false, false, ""},
    {"observed exactly at now + skew",
	BODY("\"2026-11-29T12:05:00Z\"", S, E, C, ""), false, false, ""},
    {"observed at 2000-01-01T00:00:00Z",
	BODY("\"2000-01-01T00:00:00Z\"", S, E, C, ""), false, false, ""},
    {"whitespace around everything",
	" \r\n\t{ \"observed_at\" : " O " , \"subject\" : { } ,\n"
	"\"exploitation\" : [ \"sexual\" ] , \"consent\" : " C " }\n ",
	false, false, ""},
    {"ten languages",
	SUBJ("\"languages\":[\"aa\",\"ab\",\"ac\",\"ad\",\"ae\",\"af\","
	     "\"ag\",\"ah\",\"ai\",\"aj\"]"),
	false, false, ""},
};

static void
test_ok_table(void **state)
{
	(void)state;
	UNIT_EACH (struct ok_case, c, ok_cases) {
		struct nrm_signal s;
		struct nrm_error err;
		char *facts, *subject, *canon;

		if (parse(&s, c->body, strlen(c->body), &err) != NRM_OK)
			fail_msg("%s: refused: %s: %s", c->name, err.field,
			    err.detail);
		if (s.minor != c->minor)
			fail_msg("%s: minor=%d", c->name, s.minor);
		if (s.notification_only != c->notification_only)
			fail_msg("%s: notification_only=%d", c->name,
			    s.notification_only);
		if (strcmp(s.municipality, c->municipality) != 0)
			fail_msg(
			    "%s: municipality %s", c->name, s.municipality);
		assert_int_not_equal(s.exploitation, 0);
		facts = nrm_signal_facts_json(&s);
		subject = nrm_signal_subject_json(&s);
		canon = nrm_signal_canonical_json(&s);
		assert_non_null(facts);
		assert_non_null(subject);
		assert_non_null(canon);
		if (s.notification_only)
			assert_string_equal(subject, "null");
		free(facts);
		free(subject);
		free(canon);
		nrm_signal_free(&s);
	}
}

/* Every field of the full adult lands where it should. */
static void
test_full_adult_fields(void **state)
{
	struct nrm_signal s;
	struct nrm_error err;

	(void)state;
	assert_int_equal(
	    parse(&s, ok_cases[0].body, strlen(ok_cases[0].body), &err),
	    NRM_OK);
	assert_int_equal(s.observed_at, 1795900500);
	assert_string_equal(s.observed_at_text, "2026-11-28T21:15:00Z");
	assert_string_equal(s.municipality, "GM0363");
	assert_string_equal(s.reporter_reference, "PL-2026-1234");
	assert_string_equal(s.subject.given_name, "Ada");
	assert_string_equal(s.subject.family_name, "Ok");
	assert_true(s.subject.has_birth_date);
	assert_int_equal(s.subject.birth_date.year, 1990);
	assert_int_equal(s.subject.birth_date.month, 5);
	assert_int_equal(s.subject.birth_date.day, 17);
	assert_int_equal(s.subject.age_estimate, 36);
	assert_int_equal(s.subject.minor_flag, 0);
	assert_int_equal(s.subject.gender, NRM_GENDER_FEMALE);
	assert_string_equal(s.subject.nationality, "NG");
	assert_int_equal(s.subject.n_languages, 2);
	assert_string_equal(s.subject.languages[0], "en");
	assert_string_equal(s.subject.languages[1], "yo");
	assert_string_equal(s.subject.phone, "+31 (0)6-1234 5678");
	assert_string_equal(s.subject.address, "Damrak 1\nAmsterdam");
	assert_int_equal(s.exploitation, NRM_EXPL_SEXUAL | NRM_EXPL_LABOUR);
	assert_int_equal(s.control, NRM_CTRL_DEBT_BONDAGE | NRM_CTRL_LOVERBOY);
	assert_false(s.immediate_danger);
	assert_true(s.needs_shelter);
	assert_int_equal(s.consent, NRM_CONSENT_GIVEN);
	assert_string_equal(s.narrative, "Line one.\r\nLine two.");
	nrm_signal_free(&s);
}

/*
 * Refused bodies: the code and the exact field.  `detail` (optional)
 * must occur in err.detail.
 */
struct bad_case {
	const char *name;
	const char *body;
	size_t len; /* 0: strlen(body) */
	enum nrm_errcode code;
	const char *field;
	const char *detail;
};

#define MAL NRM_E_MALFORMED
#define VAL NRM_E_VALIDATION

static const struct bad_case bad_cases[] = {
    /* Not JSON, not UTF-8. */
    {"empty body", "", 0, MAL, "", "JSON"},
    {"truncated object", "{\"observed_at\":", 0, MAL, "", NULL},
    {"trailing comma", "{\"a\":1,}", 0, MAL, "", NULL},
    {"text after the value", WITH("") " x", 0, MAL, "", "after"},
    {"two values", "{} {}", 0, MAL, "", NULL},
    {"single quotes", "{'observed_at':1}", 0, MAL, "", NULL},
    {"leading zero", SUBJ("\"age_estimate\":016"), 0, MAL, "", "number"},
    {"number of 64 characters",
	SUBJ("\"age_estimate\":1."
	     "00000000000000000000000000000000000000000000000000000000000000"),
	0, MAL, "", "number longer"},
    {"number of 63 characters parses: 1.5 is no age",
	SUBJ("\"age_estimate\":1."
	     "5000000000000000000000000000000000000000000000000000000000000"),
	0, VAL, "subject.age_estimate", NULL},
    {"bare minus", SUBJ("\"age_estimate\":-"), 0, MAL, "", "number"},
    {"raw tab in a string", SUBJ("\"given_name\":\"A\tB\""), 0, MAL, "",
	"control"},
    {"\\u0000 in a string", SUBJ("\"given_name\":\"A\\u0000B\""), 0, MAL, "",
	"u0000"},
    {"lone high surrogate", SUBJ("\"given_name\":\"\\ud800\""), 0, MAL, "",
	"surrogate"},
    {"lone low surrogate", SUBJ("\"given_name\":\"\\udc00x\""), 0, MAL, "",
	"surrogate"},
    {"bad escape", SUBJ("\"given_name\":\"\\x41\""), 0, MAL, "", "escape"},
    {"invalid UTF-8 in a string", SUBJ("\"given_name\":\"\xC3\x28\""), 0, MAL,
	"", "UTF-8"},
    {"overlong UTF-8 in a string", SUBJ("\"given_name\":\"\xC0\xAF\""), 0, MAL,
	"", "UTF-8"},
    {"surrogate in UTF-8", SUBJ("\"given_name\":\"\xED\xA0\x80\""), 0, MAL, "",
	"UTF-8"},
    {"NUL byte in the body", "{\"a\":\"\0\"}", 9, MAL, "", "NUL"},
    {"True is not true", SUBJ("\"minor\":True"), 0, MAL, "", NULL},
    /* Shape of the top level. */
    {"top level array", "[]", 0, VAL, "", "object"},
    {"top level string", "\"x\"", 0, VAL, "", "object"},
    {"top level null", "null", 0, VAL, "", "object"},
    {"top level number", "42", 0, VAL, "", "object"},
    {"unknown field at top", WITH(",\"nickname\":\"x\""), 0, VAL, "nickname",
	"unknown key"},
    {"unknown field in subject", SUBJ("\"nickname\":\"x\""), 0, VAL,
	"subject.nickname", "unknown key"},
    {"unknown field in contact", SUBJ("\"contact\":{\"email\":\"a@b\"}"), 0,
	VAL, "subject.contact.email", "unknown key"},
    {"unknown field in location", WITH(",\"location\":{\"city\":\"A\"}"), 0,
	VAL, "location.city", "unknown key"},
    {"unknown field in urgency", WITH(",\"urgency\":{\"tonight\":true}"), 0,
	VAL, "urgency.tonight", "unknown key"},
    {"unknown key not echoed at top", WITH(",\"J. Doe\":1"), 0, VAL, "",
	"not shown"},
    {"unknown key not echoed nested", SUBJ("\"na\\u00efve\":1"), 0, VAL,
	"subject", "not shown"},
    {"case matters in keys", WITH(",\"Narrative\":\"x\""), 0, VAL, "Narrative",
	"unknown key"},
    {"duplicate key at top", WITH(",\"consent\":\"given\""), 0, VAL, "consent",
	"duplicate"},
    {"duplicate key in subject",
	SUBJ("\"given_name\":\"A\",\"given_name\":\"B\""), 0, VAL,
	"subject.given_name", "duplicate"},
    {"duplicate key after a null", SUBJ("\"minor\":null,\"minor\":true"), 0,
	VAL, "subject.minor", "duplicate"},
    {"duplicate key in contact",
	SUBJ("\"contact\":{\"phone\":\"112\",\"phone\":\"112\"}"), 0, VAL,
	"subject.contact.phone", "duplicate"},
    /* Required fields. */
    {"observed_at missing",
	"{\"subject\":{},\"exploitation\":[\"sexual\"],\"consent\":"
	"\"given\"}",
	0, VAL, "observed_at", "required"},
    {"observed_at null", BODY("null", S, E, C, ""), 0, VAL, "observed_at",
	"required"},
    {"subject missing",
	"{\"observed_at\":" O ",\"exploitation\":[\"sexual\"],"
	"\"consent\":\"given\"}",
	0, VAL, "subject", "required"},
    {"subject null", BODY(O, "null", E, C, ""), 0, VAL, "subject", "required"},
    {"exploitation missing",
	"{\"observed_at\":" O ",\"subject\":{},\"consent\":\"given\"}", 0, VAL,
	"exploitation", "required"},
    {"exploitation null", BODY(O, S, "null", C, ""), 0, VAL, "exploitation",
	"required"},
    {"consent missing",
	"{\"observed_at\":" O ",\"subject\":{},"
	"\"exploitation\":[\"sexual\"]}",
	0, VAL, "consent", "required"},
    {"consent null", BODY(O, S, E, "null", ""), 0, VAL, "consent", "required"},
    /* Wrong types, every field. */
    {"observed_at number", BODY("1795900500", S, E, C, ""), 0, VAL,
	"observed_at", "string"},
    {"location string", WITH(",\"location\":\"GM0363\""), 0, VAL, "location",
	"object"},
    {"municipality_code number",
	WITH(",\"location\":{\"municipality_code\":363}"), 0, VAL,
	"location.municipality_code", "string"},
    {"reporter_reference number", WITH(",\"reporter_reference\":5"), 0, VAL,
	"reporter_reference", "string"},
    {"subject array", BODY(O, "[]", E, C, ""), 0, VAL, "subject", "object"},
    {"subject string", BODY(O, "\"x\"", E, C, ""), 0, VAL, "subject", "object"},
    {"given_name number", SUBJ("\"given_name\":5"), 0, VAL,
	"subject.given_name", "string"},
    {"family_name array", SUBJ("\"family_name\":[]"), 0, VAL,
	"subject.family_name", "string"},
    {"birth_date number", SUBJ("\"birth_date\":20090401"), 0, VAL,
	"subject.birth_date", "date"},
    {"age_estimate string", SUBJ("\"age_estimate\":\"16\""), 0, VAL,
	"subject.age_estimate", "integer"},
    {"age_estimate bool", SUBJ("\"age_estimate\":true"), 0, VAL,
	"subject.age_estimate", "integer"},
    {"minor string", SUBJ("\"minor\":\"yes\""), 0, VAL, "subject.minor",
	"true or false"},
    {"minor number", SUBJ("\"minor\":1"), 0, VAL, "subject.minor",
	"true or false"},
    {"gender number", SUBJ("\"gender\":1"), 0, VAL, "subject.gender", "one of"},
    {"gender unknown value", SUBJ("\"gender\":\"f\""), 0, VAL, "subject.gender",
	"one of"},
    {"gender upper case", SUBJ("\"gender\":\"Female\""), 0, VAL,
	"subject.gender", "one of"},
    {"nationality number", SUBJ("\"nationality\":31"), 0, VAL,
	"subject.nationality", "3166"},
    {"languages string", SUBJ("\"languages\":\"en\""), 0, VAL,
	"subject.languages", "array"},
    {"languages item number", SUBJ("\"languages\":[1]"), 0, VAL,
	"subject.languages[0]", "639"},
    {"contact string", SUBJ("\"contact\":\"x\""), 0, VAL, "subject.contact",
	"object"},
    {"phone number", SUBJ("\"contact\":{\"phone\":31612345678}"), 0, VAL,
	"subject.contact.phone", "string"},
    {"address number", SUBJ("\"contact\":{\"address\":5}"), 0, VAL,
	"subject.contact.address", "string"},
    {"exploitation string", BODY(O, S, "\"sexual\"", C, ""), 0, VAL,
	"exploitation", "array"},
    {"exploitation object", BODY(O, S, "{}", C, ""), 0, VAL, "exploitation",
	"array"},
    {"exploitation item number", BODY(O, S, "[\"sexual\",1]", C, ""), 0, VAL,
	"exploitation[1]", "string"},
    {"control_means string", WITH(",\"control_means\":\"threats\""), 0, VAL,
	"control_means", "array"},
    {"control_means item null", WITH(",\"control_means\":[null]"), 0, VAL,
	"control_means[0]", "string"},
    {"urgency bool", WITH(",\"urgency\":true"), 0, VAL, "urgency", "object"},
    {"immediate_danger string",
	WITH(",\"urgency\":{\"immediate_danger\":\"no\"}"), 0, VAL,
	"urgency.immediate_danger", "true or false"},
    {"needs_shelter number", WITH(",\"urgency\":{\"needs_shelter\":1}"), 0, VAL,
	"urgency.needs_shelter", "true or false"},
    {"consent bool", BODY(O, S, E, "true", ""), 0, VAL, "consent", "one of"},
    /* cites_reference (later consent): wrong type, malformed, mistyped */
    {"cites_reference number", WITH(",\"cites_reference\":5"), 0, VAL,
	"cites_reference", "string"},
    {"cites_reference array", WITH(",\"cites_reference\":[\"K7QM-4TXR-U\"]"), 0,
	VAL, "cites_reference", "string"},
    {"cites_reference too short", WITH(",\"cites_reference\":\"K7QM-4TXR\""), 0,
	VAL, "cites_reference", "like 4HJW-P2XB-4"},
    {"cites_reference too long", WITH(",\"cites_reference\":\"K7QM-4TXR-UU\""),
	0, VAL, "cites_reference", "like 4HJW-P2XB-4"},
    {"cites_reference letter O", WITH(",\"cites_reference\":\"K7QO-4TXR-U\""),
	0, VAL, "cites_reference", "like 4HJW-P2XB-4"},
    {"cites_reference empty", WITH(",\"cites_reference\":\"\""), 0, VAL,
	"cites_reference", "like 4HJW-P2XB-4"},
    {"cites_reference check character wrong",
	WITH(",\"cites_reference\":\"K7QM-4TXR-V\""), 0, VAL, "cites_reference",
	"check character"},
    {"cites_reference two characters swapped",
	WITH(",\"cites_reference\":\"K7QM-4TRX-U\""), 0, VAL, "cites_reference",
	"check character"},
    {"narrative number", WITH(",\"narrative\":5"), 0, VAL, "narrative",
	"string"},
    {"narrative object", WITH(",\"narrative\":{}"), 0, VAL, "narrative",
	"string"},
    /* Dates and times. */
    {"observed_at 2023-02-29", BODY("\"2023-02-29T10:00:00Z\"", S, E, C, ""), 0,
	VAL, "observed_at", "RFC 3339"},
    {"observed_at month 13", BODY("\"2026-13-01T10:00:00Z\"", S, E, C, ""), 0,
	VAL, "observed_at", "RFC 3339"},
    {"observed_at yesterday", BODY("\"yesterday\"", S, E, C, ""), 0, VAL,
	"observed_at", "RFC 3339"},
    {"observed_at without offset", BODY("\"2026-11-27T10:00:00\"", S, E, C, ""),
	0, VAL, "observed_at", "RFC 3339"},
    {"observed_at beyond clock skew",
	BODY("\"2026-11-29T12:05:01Z\"", S, E, C, ""), 0, VAL, "observed_at",
	"future"},
    {"observed_at next year", BODY("\"2027-01-01T00:00:00Z\"", S, E, C, ""), 0,
	VAL, "observed_at", "future"},
    {"observed_at before 2000", BODY("\"1999-12-31T23:59:59Z\"", S, E, C, ""),
	0, VAL, "observed_at", "2000"},
    {"birth_date 2023-02-29", SUBJ("\"birth_date\":\"2023-02-29\""), 0, VAL,
	"subject.birth_date", "date"},
    {"birth_date month 13", SUBJ("\"birth_date\":\"2009-13-01\""), 0, VAL,
	"subject.birth_date", "date"},
    {"birth_date yesterday", SUBJ("\"birth_date\":\"yesterday\""), 0, VAL,
	"subject.birth_date", "date"},
    {"birth_date with time", SUBJ("\"birth_date\":\"2009-04-01T00:00:00Z\""), 0,
	VAL, "subject.birth_date", "date"},
    {"birth_date after observed_at", SUBJ("\"birth_date\":\"2026-11-29\""), 0,
	VAL, "subject.birth_date", "after"},
    {"birth_date after the local date of observed_at",
	BODY("\"2026-11-28T23:30:00-01:00\"", "{\"birth_date\":\"2026-11-29\"}",
	    E, C, ""),
	0, VAL, "subject.birth_date", "after"},
    {"birth_date before 1900", SUBJ("\"birth_date\":\"1899-12-31\""), 0, VAL,
	"subject.birth_date", "1900"},
    /* Location. */
    {"unknown municipality",
	WITH(",\"location\":{\"municipality_code\":\"GM9999\"}"), 0, VAL,
	"location.municipality_code", "unknown"},
    {"municipality without GM",
	WITH(",\"location\":{\"municipality_code\":\"0363\"}"), 0, VAL,
	"location.municipality_code", "GM and 4 digits"},
    {"municipality lower case",
	WITH(",\"location\":{\"municipality_code\":\"gm0363\"}"), 0, VAL,
	"location.municipality_code", "GM and 4 digits"},
    {"municipality three digits",
	WITH(",\"location\":{\"municipality_code\":\"GM363\"}"), 0, VAL,
	"location.municipality_code", "GM and 4 digits"},
    {"municipality five digits",
	WITH(",\"location\":{\"municipality_code\":\"GM03630\"}"), 0, VAL,
	"location.municipality_code", "GM and 4 digits"},
    {"municipality empty", WITH(",\"location\":{\"municipality_code\":\"\"}"),
	0, VAL, "location.municipality_code", "GM and 4 digits"},
    /* Exploitation and control means. */
    {"empty exploitation", BODY(O, S, "[]", C, ""), 0, VAL, "exploitation",
	"at least one"},
    {"unknown exploitation", BODY(O, S, "[\"sexual\",\"slavery\"]", C, ""), 0,
	VAL, "exploitation[1]", "one of sexual"},
    {"exploitation upper case", BODY(O, S, "[\"Sexual\"]", C, ""), 0, VAL,
	"exploitation[0]", "one of sexual"},
    {"duplicate exploitation",
	BODY(O, S, "[\"sexual\",\"labour\",\"sexual\"]", C, ""), 0, VAL,
	"exploitation[2]", "duplicate"},
    {"unknown control means", WITH(",\"control_means\":[\"blackmail\"]"), 0,
	VAL, "control_means[0]", "unknown"},
    {"duplicate control means",
	WITH(",\"control_means\":[\"threats\",\"threats\"]"), 0, VAL,
	"control_means[1]", "duplicate"},
    /* Free text. */
    {"empty given_name", SUBJ("\"given_name\":\"\""), 0, VAL,
	"subject.given_name", "1 to 200"},
    {"blank family_name", SUBJ("\"family_name\":\"   \""), 0, VAL,
	"subject.family_name", "blank"},
    {"newline in given_name", SUBJ("\"given_name\":\"A\\nB\""), 0, VAL,
	"subject.given_name", "control"},
    {"C1 control in given_name", SUBJ("\"given_name\":\"A\\u0085B\""), 0, VAL,
	"subject.given_name", "control"},
    {"DEL in reporter_reference", WITH(",\"reporter_reference\":\"A\x7F\""), 0,
	VAL, "reporter_reference", "control"},
    {"bell in narrative", WITH(",\"narrative\":\"A\\u0007B\""), 0, VAL,
	"narrative", "control"},
    {"tab in narrative", WITH(",\"narrative\":\"A\\tB\""), 0, VAL, "narrative",
	"control"},
    {"blank narrative", WITH(",\"narrative\":\" \\n \""), 0, VAL, "narrative",
	"blank"},
    {"empty reporter_reference", WITH(",\"reporter_reference\":\"\""), 0, VAL,
	"reporter_reference", "1 to 100"},
    {"empty address", SUBJ("\"contact\":{\"address\":\"\"}"), 0, VAL,
	"subject.contact.address", "1 to 500"},
    {"phone with letters", SUBJ("\"contact\":{\"phone\":\"call me\"}"), 0, VAL,
	"subject.contact.phone", "digits"},
    {"phone with a dot", SUBJ("\"contact\":{\"phone\":\"06.12345678\"}"), 0,
	VAL, "subject.contact.phone", "digits"},
    {"phone too short", SUBJ("\"contact\":{\"phone\":\"12\"}"), 0, VAL,
	"subject.contact.phone", "digits"},
    {"phone without digits", SUBJ("\"contact\":{\"phone\":\"+-()+\"}"), 0, VAL,
	"subject.contact.phone", "digits"},
    /* Codes and numbers. */
    {"nationality three letters", SUBJ("\"nationality\":\"NLD\""), 0, VAL,
	"subject.nationality", "two upper-case"},
    {"nationality lower case", SUBJ("\"nationality\":\"nl\""), 0, VAL,
	"subject.nationality", "two upper-case"},
    {"nationality with digit", SUBJ("\"nationality\":\"N1\""), 0, VAL,
	"subject.nationality", "two upper-case"},
    {"nationality empty", SUBJ("\"nationality\":\"\""), 0, VAL,
	"subject.nationality", "two upper-case"},
    {"nationality non-ASCII", SUBJ("\"nationality\":\"\xC3\x89S\""), 0, VAL,
	"subject.nationality", "two upper-case"},
    {"language upper case", SUBJ("\"languages\":[\"en\",\"NL\"]"), 0, VAL,
	"subject.languages[1]", "two lower-case"},
    {"language three letters", SUBJ("\"languages\":[\"eng\"]"), 0, VAL,
	"subject.languages[0]", "two lower-case"},
    {"language one letter", SUBJ("\"languages\":[\"e\"]"), 0, VAL,
	"subject.languages[0]", "two lower-case"},
    {"duplicate language", SUBJ("\"languages\":[\"en\",\"nl\",\"en\"]"), 0, VAL,
	"subject.languages[2]", "duplicate"},
    {"eleven languages",
	SUBJ("\"languages\":[\"aa\",\"ab\",\"ac\",\"ad\",\"ae\",\"af\","
	     "\"ag\",\"ah\",\"ai\",\"aj\",\"ak\"]"),
	0, VAL, "subject.languages", "at most 10"},
    {"age_estimate 12.5", SUBJ("\"age_estimate\":12.5"), 0, VAL,
	"subject.age_estimate", "integer"},
    {"age_estimate 16.5", SUBJ("\"age_estimate\":16.5"), 0, VAL,
	"subject.age_estimate", "integer"},
    {"age_estimate -1", SUBJ("\"age_estimate\":-1"), 0, VAL,
	"subject.age_estimate", "0 to 120"},
    {"age_estimate 121", SUBJ("\"age_estimate\":121"), 0, VAL,
	"subject.age_estimate", "0 to 120"},
    {"age_estimate 1e300", SUBJ("\"age_estimate\":1e300"), 0, VAL,
	"subject.age_estimate", "integer"},
    {"age_estimate 1e400 (infinite)", SUBJ("\"age_estimate\":1e400"), 0, VAL,
	"subject.age_estimate", "integer"},
    /* Consent and the anonymous notification. */
    {"consent unknown", BODY(O, S, E, "\"yes\"", ""), 0, VAL, "consent",
	"one of"},
    {"not_required_minor for an adult",
	SUBJ_CONSENT("\"age_estimate\":30", "not_required_minor"), 0, VAL,
	"consent", "minor"},
    {"not_required_minor with no age", SUBJ_CONSENT("", "not_required_minor"),
	0, VAL, "consent", "minor"},
    {"notification with given_name",
	SUBJ_CONSENT("\"given_name\":\"A\"", "refused"), 0, VAL,
	"subject.given_name", "anonymous notification"},
    {"notification with family_name",
	SUBJ_CONSENT("\"family_name\":\"B\"", "unable"), 0, VAL,
	"subject.family_name", "anonymous notification"},
    {"notification with adult birth_date",
	SUBJ_CONSENT("\"birth_date\":\"1990-01-01\"", "refused"), 0, VAL,
	"subject.birth_date", "anonymous notification"},
    {"notification with phone",
	SUBJ_CONSENT("\"contact\":{\"phone\":\"112\"}", "refused"), 0, VAL,
	"subject.contact", "anonymous notification"},
    {"notification with address",
	SUBJ_CONSENT("\"contact\":{\"address\":\"A\"}", "unable"), 0, VAL,
	"subject.contact", "anonymous notification"},
    {"notification with narrative",
	BODY(O, S, E, "\"refused\"", ",\"narrative\":\"x\""), 0, VAL,
	"narrative", "anonymous notification"},
};

/* Strings that may legitimately appear in both a body and a detail. */
static const char *const shared_words[] = {
    "observed_at",
    "location",
    "municipality_code",
    "reporter_reference",
    "subject",
    "given_name",
    "family_name",
    "birth_date",
    "age_estimate",
    "minor",
    "gender",
    "nationality",
    "languages",
    "contact",
    "phone",
    "address",
    "exploitation",
    "control_means",
    "urgency",
    "immediate_danger",
    "needs_shelter",
    "consent",
    "narrative",
    "sexual",
    "labour",
    "given",
    "refused",
    "unable",
    "not_required_minor",
    "female",
    "male",
    "non_binary",
    "other",
    "unknown",
    "2026-11-28T22:15:00+01:00",
};

/*
 * Fail if err->detail contains any string of the body (3 bytes or
 * longer) other than the shared words: details must never quote input.
 */
static void
assert_no_echo(
    const char *name, const char *body, size_t len, const char *detail)
{
	char tok[256];
	size_t i = 0, k, n;
	bool shared;

	while (i < len) {
		if (body[i] != '"') {
			i++;
			continue;
		}
		n = 0;
		for (i++; i < len && body[i] != '"'; i++) {
			if (body[i] == '\\')
				i++;
			else if (n < sizeof(tok) - 1)
				tok[n++] = body[i];
		}
		i++;
		tok[n] = '\0';
		if (n < 3)
			continue;
		shared = false;
		for (k = 0; k < sizeof(shared_words) / sizeof(shared_words[0]);
		     k++)
			shared = shared || strcmp(tok, shared_words[k]) == 0;
		if (!shared && strstr(detail, tok) != NULL)
			fail_msg("%s: detail \"%s\" quotes input \"%s\"", name,
			    detail, tok);
	}
}

static void
test_bad_table(void **state)
{
	(void)state;
	UNIT_EACH (struct bad_case, c, bad_cases) {
		size_t len = c->len ? c->len : strlen(c->body);
		struct nrm_signal s;
		struct nrm_error err;
		int rc = parse(&s, c->body, len, &err);

		if (rc != NRM_ERR)
			fail_msg("%s: accepted", c->name);
		unit_expect_error(c->name, &err, c->code, c->field, c->detail);
		assert_no_echo(c->name, c->body, len, err.detail);
		/* *out is released: freeing again is harmless, all NULL. */
		assert_null(s.subject.given_name);
		assert_null(s.narrative);
		nrm_signal_free(&s);
	}
}

/*
 * Length limits: a string of exactly the limit passes, one byte more is
 * refused at the field.  fmt has one %s for the string.
 */
struct len_case {
	const char *field;
	const char *fmt;
	size_t max;
	char fill;
};

static const struct len_case len_cases[] = {
    {"subject.given_name", SUBJ("\"given_name\":\"%s\""), 200, 'a'},
    {"subject.family_name", SUBJ("\"family_name\":\"%s\""), 200, 'b'},
    {"reporter_reference", WITH(",\"reporter_reference\":\"%s\""), 100, 'R'},
    {"narrative", WITH(",\"narrative\":\"%s\""), 8000, 'n'},
    {"subject.contact.phone", SUBJ("\"contact\":{\"phone\":\"%s\"}"), 40, '1'},
    {"subject.contact.address", SUBJ("\"contact\":{\"address\":\"%s\"}"), 500,
	'd'},
};

/* Copy fmt to out with its one "%s" replaced by val. */
static void
fill_template(char *out, const char *fmt, const char *val)
{
	const char *hole = strstr(fmt, "%s");
	size_t pre = (size_t)(hole - fmt);

	memcpy(out, fmt, pre);
	strcpy(out + pre, val);
	strcat(out, hole + 2);
}

static void
test_length_limits(void **state)
{
	size_t extra;

	(void)state;
	UNIT_EACH (struct len_case, c, len_cases) {

		for (extra = 0; extra <= 1; extra++) {
			size_t n = c->max + extra;
			char *val = malloc(n + 1);
			char *body = malloc(strlen(c->fmt) + n + 1);
			struct nrm_signal s;
			struct nrm_error err;
			int rc;

			assert_non_null(val);
			assert_non_null(body);
			memset(val, c->fill, n);
			val[n] = '\0';
			fill_template(body, c->fmt, val);
			rc = parse(&s, body, strlen(body), &err);
			if (extra == 0 && rc != NRM_OK)
				fail_msg("%s at %zu bytes refused: %s",
				    c->field, n, err.detail);
			if (extra == 1 && rc == NRM_OK)
				fail_msg(
				    "%s at %zu bytes accepted", c->field, n);
			if (extra == 1 && strcmp(err.field, c->field) != 0)
				fail_msg("%s: field %s", c->field, err.field);
			nrm_signal_free(&s);
			free(val);
			free(body);
		}
	}
}

/* A 2-byte character cut by the limit still counts bytes, not chars. */
static void
test_length_counts_bytes(void **state)
{
	char body[1024], val[256];
	struct nrm_signal s;
	struct nrm_error err;
	int i;

	(void)state;
	for (i = 0; i < 101; i++)
		memcpy(val + 2 * i, "\xC3\xA9", 2); /* 101 x e-acute: 202 B */
	val[202] = '\0';
	snprintf(body, sizeof(body), SUBJ("\"given_name\":\"%s\""), val);
	assert_int_equal(parse(&s, body, strlen(body), &err), NRM_ERR);
	assert_string_equal(err.field, "subject.given_name");
}

/* Nesting beyond the limit is malformed; no deep recursion anywhere. */
static void
test_deep_nesting(void **state)
{
	size_t depth = 100000, i;
	char *body = malloc(2 * depth + 64);
	struct nrm_signal s;
	struct nrm_error err;
	size_t n = 0;

	(void)state;
	assert_non_null(body);
	n += (size_t)sprintf(body, "{\"narrative\":");
	for (i = 0; i < depth; i++)
		body[n++] = '[';
	for (i = 0; i < depth; i++)
		body[n++] = ']';
	body[n++] = '}';
	assert_int_equal(parse(&s, body, n, &err), NRM_ERR);
	assert_int_equal(err.code, NRM_E_MALFORMED);
	assert_non_null(strstr(err.detail, "nested"));
	free(body);
}

/* The custom-limits body is refused under `limits` at `now`, on `field`. */
static void
custom_refused(
    const struct nrm_signal_limits *limits, int64_t now, const char *field)
{
	static const char body[] = SUBJ("\"given_name\":\"Abcdef\","
					"\"languages\":[\"en\",\"nl\"]");
	struct nrm_signal s;
	struct nrm_error err;

	assert_int_equal(nrm_signal_parse(&s, body, sizeof(body) - 1, limits,
			     geo, now, &err),
	    NRM_ERR);
	assert_string_equal(err.field, field);
}

/* Limits are honoured as configured, not as defaults. */
static void
test_custom_limits(void **state)
{
	struct nrm_signal_limits small;

	(void)state;
	nrm_signal_limits_default(&small);
	small.name_max = 5;
	custom_refused(&small, NOW, "subject.given_name");
	nrm_signal_limits_default(&small);
	small.languages_max = 1;
	custom_refused(&small, NOW, "subject.languages");
	nrm_signal_limits_default(&small);
	small.clock_skew = 0;
	custom_refused(&small, 1795900499, "observed_at");
}

/* A cited reference is kept in its normal form and encoded. */
static void
test_cites_reference(void **state)
{
	static const char *const typed[] = {
	    "K7QM-4TXR-U", "k7qm 4txr u", "K7QM4TXRU", " k7-qm4t-xr-u "};
	char out[NRM_REFERENCE_LEN + 1];
	struct nrm_signal s;
	struct nrm_error err;
	const char *body;
	char *facts, *canon;

	(void)state;
	for (size_t i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
		assert_int_equal(nrm_reference_normal(typed[i], out), NRM_OK);
		assert_string_equal(out, "K7QM-4TXR-U");
	}
	assert_int_equal(nrm_reference_normal("2222-2222-2", out), NRM_OK);
	assert_int_equal(nrm_reference_normal("ZZZZ-ZZZZ-7", out), NRM_OK);
	assert_int_equal(
	    nrm_reference_normal("ZZZZ-ZZZZ-8", out), NRM_REF_CHECK);
	assert_string_equal(out, "");
	assert_int_equal(
	    nrm_reference_normal("K7QM-4TXR-U1", out), NRM_REF_MALFORMED);
	assert_int_equal(
	    nrm_reference_normal("K7QM.4TXR-U", out), NRM_REF_MALFORMED);
	body = WITH(",\"cites_reference\":\"k7qm 4txr-u\"");
	assert_int_equal(parse(&s, body, strlen(body), &err), NRM_OK);
	assert_string_equal(s.cites_reference, "K7QM-4TXR-U");
	facts = nrm_signal_facts_json(&s);
	canon = nrm_signal_canonical_json(&s);
	assert_non_null(strstr(facts, "\"cites_reference\":\"K7QM-4TXR-U\""));
	assert_non_null(strstr(canon, "\"cites_reference\":\"K7QM-4TXR-U\""));
	free(facts);
	free(canon);
	nrm_signal_free(&s);
	/* null is absent: no citation, nothing in the encodings */
	body = WITH(",\"cites_reference\":null");
	assert_int_equal(parse(&s, body, strlen(body), &err), NRM_OK);
	assert_string_equal(s.cites_reference, "");
	facts = nrm_signal_facts_json(&s);
	canon = nrm_signal_canonical_json(&s);
	assert_null(strstr(facts, "cites_reference"));
	assert_null(strstr(canon, "cites_reference"));
	free(facts);
	free(canon);
	nrm_signal_free(&s);
}

/* Two bodies differing only in key order and whitespace. */

UNIT_MAIN(setup, teardown, cmocka_unit_test(test_ok_table),
    cmocka_unit_test(test_full_adult_fields), cmocka_unit_test(test_bad_table),
    cmocka_unit_test(test_length_limits),
    cmocka_unit_test(test_length_counts_bytes),
    cmocka_unit_test(test_deep_nesting), cmocka_unit_test(test_custom_limits),
    cmocka_unit_test(test_cites_reference))
