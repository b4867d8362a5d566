/*
 * test_indicators.c - loading the indicators register
 * (nrm-core/indicators.c): the shipped config/indicators.json loads and
 * holds what issue 13 asks for; each kind of fault is refused with its
 * path and message, and a register with many faults names every one of
 * them, not just the first.  Tests run from the repository root.
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

#include "nrm/diag.h"
#include "nrm/indicators.h"
#include "unit.h"

#define TI_FILE "config/indicators.json"

/* A valid entry, with the parts a case changes as arguments. */
#define TI_TXT "{\"nl\":\"tekst\",\"en\":\"text\"}"
#define TI_WHEN "{\"frequency\":\"quarter\",\"publish_days_after_close\":30}"
#define TI_ENTRY_W(id, measure, by, unit, title, when, extra) \
	"{\"id\":" id ",\"title\":" title ",\"definition\":" TI_TXT \
	",\"measure\":" measure ",\"by\":" by ",\"unit\":" unit \
	",\"how\":" TI_TXT ",\"when\":" when \
	",\"by_whom\":\"CoMensha\",\"goal\":" TI_TXT extra "}"
#define TI_ENTRY(id, measure, by, unit) \
	TI_ENTRY_W(id, measure, by, unit, TI_TXT, TI_WHEN, "")
#define TI_OK(id) TI_ENTRY(id, "\"signals\"", "[\"region\"]", "\"count\"")
#define TI_REG(entries) "{\"indicators\":[" entries "]}"

/* A refusal: the register and every message it must give, in order. */
struct ti_case {
	const char *name;
	const char *json;
	const char *want[8]; /* "path: message" parts, up to a NULL */
};

static const struct ti_case ti_cases[] = {
    {"unknown key in an entry",
	TI_REG(TI_ENTRY_W("\"a\"", "\"signals\"", "[]", "\"count\"", TI_TXT,
	    TI_WHEN, ",\"colour\":\"red\"")),
	{"indicators.json: indicators[0].colour: unknown key (expected one "
	 "of id, title,"}},
    {"unknown key at the top", "{\"indicators\":[" TI_OK("\"a\"") "],\"x\":1}",
	{"indicators.json: x: unknown key"}},
    {"unknown key in when",
	TI_REG(TI_ENTRY_W("\"a\"", "\"signals\"", "[]", "\"count\"", TI_TXT,
	    "{\"frequency\":\"year\",\"publish_days_after_close\":1,"
	    "\"day\":2}",
	    "")),
	{"indicators[0].when.day: unknown key"}},
    {"unknown measure",
	TI_REG(TI_ENTRY("\"a\"", "\"victims\"", "[]", "\"count\"")),
	{"indicators[0].measure: unknown measure \"victims\" (expected one of "
	 "signals, anonymous_notifications,"}},
    {"unknown dimension",
	TI_REG(TI_ENTRY("\"a\"", "\"signals\"", "[\"city\"]", "\"count\"")),
	{"indicators[0].by[0]: unknown dimension \"city\" (expected one of "
	 "region,"}},
    {"dimension the measure does not allow",
	TI_REG(TI_ENTRY(
	    "\"a\"", "\"time_to_take\"", "[\"gender\"]", "\"seconds\"")),
	{"indicators[0].by[0]: measure time_to_take cannot be broken down by "
	 "gender (allowed: region, exploitation, reporter_kind, minor, "
	 "priority)"}},
    {"more than two dimensions",
	TI_REG(TI_ENTRY("\"a\"", "\"signals\"",
	    "[\"region\",\"minor\",\"gender\"]", "\"count\"")),
	{"indicators[0].by: at most 2 dimensions (3 given)"}},
    {"a dimension twice",
	TI_REG(TI_ENTRY(
	    "\"a\"", "\"signals\"", "[\"minor\",\"minor\"]", "\"count\"")),
	{"indicators[0].by[1]: duplicate dimension minor"}},
    {"duplicate ids",
	TI_REG(TI_OK("\"a\"") "," TI_OK("\"b\"") "," TI_OK("\"a\"") "," TI_OK(
	    "\"b\"")),
	{"indicators[2].id: duplicate id a (also indicators[0])",
	    "indicators[3].id: duplicate id b (also indicators[1])"}},
    {"missing Dutch and English texts",
	TI_REG(TI_ENTRY_W("\"a\"", "\"signals\"", "[]", "\"count\"",
	    "{\"en\":\"Signals\"}", TI_WHEN, "")),
	{"indicators[0].title: missing key nl"}},
    {"a blank text and a missing language",
	TI_REG(TI_ENTRY_W("\"a\"", "\"signals\"", "[]", "\"count\"",
	    "{\"nl\":\"  \"}", TI_WHEN, "")),
	{"indicators[0].title: missing key en", "indicators[0].title.nl: "}},
    {"a line break in a title",
	TI_REG(TI_ENTRY_W("\"a\"", "\"signals\"", "[]", "\"count\"",
	    "{\"nl\":\"Twee\\nregels\",\"en\":\"Two lines\"}", TI_WHEN, "")),
	{"indicators[0].title.nl: "}},
    {"a text that is not an object",
	TI_REG(TI_ENTRY_W("\"a\"", "\"signals\"", "[]", "\"count\"",
	    "\"Signals\"", TI_WHEN, "")),
	{"indicators[0].title: must be an object {\"nl\": text, \"en\": "
	 "text}"}},
    {"bad ids",
	TI_REG(
	    TI_OK("\"Signals\"") "," TI_OK("\"a__b\"") "," TI_OK("\"_a\"") "," TI_OK(
		"\"a_\"") "," TI_OK("7") "," TI_OK("\"9a\"") "," TI_OK("\"a-"
								       "b\"")),
	{"indicators[0].id: \"Signals\" is not an indicator id (lower_snake",
	    "indicators[1].id: \"a__b\" is not", "indicators[2].id: \"_a\"",
	    "indicators[3].id: \"a_\"", "indicators[4].id: value is not",
	    "indicators[5].id: \"9a\"", "indicators[6].id: \"a-b\""}},
    {"unit against the measure's kind",
	TI_REG(TI_ENTRY("\"a\"", "\"time_to_take\"", "[]",
	    "\"count\"") "," TI_ENTRY("\"b\"", "\"signals\"", "[]",
	    "\"seconds\"") "," TI_ENTRY("\"c\"", "\"signals\"", "[]",
	    "\"percent\"")),
	{"indicators[0].unit: must be \"seconds\" for the duration measure "
	 "time_to_take",
	    "indicators[1].unit: must be \"count\" for the count measure "
	    "signals",
	    "indicators[2].unit: must be \"count\" or \"seconds\""}},
    {"a bad schedule",
	TI_REG(TI_ENTRY_W("\"a\"", "\"signals\"", "[]", "\"count\"", TI_TXT,
	    "{\"frequency\":\"week\",\"publish_days_after_close\":400}", "")),
	{"indicators[0].when.frequency: must be \"month\", \"quarter\" or "
	 "\"year\"",
	    "indicators[0].when.publish_days_after_close: must be a whole "
	    "number of days from 0 to 366"}},
    {"a missing member",
	"{\"indicators\":[{\"id\":\"a\",\"title\":" TI_TXT
	",\"definition\":" TI_TXT ",\"measure\":\"signals\",\"unit\":"
	"\"count\",\"how\":" TI_TXT ",\"when\":" TI_WHEN ",\"goal\":" TI_TXT
	"}]}",
	{"indicators[0]: missing key by_whom"}},
    {"no indicators", "{\"indicators\":[]}",
	{"indicators: must be an array of 1 to 200 indicators"}},
    {"not an object", "[]",
	{"indicators.json: must be a JSON object {\"indicators\": [...]}"}},
    {"malformed JSON", "{\"indicators\":\n  [}",
	{"indicators.json line 2, column 4: malformed JSON"}},
    {"a duplicate key",
	TI_REG(TI_ENTRY_W("\"a\"", "\"signals\"", "[]", "\"count\"", TI_TXT,
	    TI_WHEN, ",\"id\":\"b\"")),
	{"indicators[0].id: duplicate key"}},
    {"every problem at once",
	TI_REG(TI_ENTRY("\"A\"", "\"victims\"", "[\"city\"]",
	    "\"count\"") "," TI_ENTRY("\"b\"", "\"time_to_take\"",
	    "[\"gender\",\"region\",\"minor\"]",
	    "\"count\"") "," TI_ENTRY_W("\"b\"", "\"signals\"", "[]",
	    "\"count\"", "{\"nl\":\"x\"}", TI_WHEN, ",\"colour\":1")),
	{"indicators[0].id: \"A\" is not an indicator id",
	    "indicators[0].measure: unknown measure \"victims\"",
	    "indicators[0].by[0]: unknown dimension \"city\"",
	    "indicators[1].by: at most 2 dimensions",
	    "indicators[1].unit: must be \"seconds\"",
	    "indicators[2].colour: unknown key",
	    "indicators[2].title: missing key en",
	    "indicators[2].id: duplicate id b (also indicators[1])"}},
};

/* Each case is refused with exactly its messages, in order. */
static void
test_refusals(void **state)
{
	(void)state;
	UNIT_EACH (struct ti_case, c, ti_cases) {
		struct nrm_indicators *r = (struct nrm_indicators *)1;
		struct nrm_diag d;
		int n = 0, k;

		nrm_diag_init(&d);
		if (nrm_indicators_load(&r, c->json, strlen(c->json), &d) !=
		    NRM_ERR)
			fail_msg("%s: loaded", c->name);
		assert_null(r);
		while (n < 8 && c->want[n] != NULL)
			n++;
		if (nrm_diag_errors(&d) != n || d.n != n) {
			char *text = nrm_diag_text(&d);

			fail_msg("%s: %d errors, want %d:\n%s", c->name,
			    nrm_diag_errors(&d), n, text);
		}
		for (k = 0; k < n; k++) {
			if (strstr(d.entries[k].text, c->want[k]) == NULL)
				fail_msg("%s: entry %d \"%s\" lacks \"%s\"",
				    c->name, k, d.entries[k].text, c->want[k]);
		}
		nrm_diag_free(&d);
	}
}

/* A register needs only the members it must have: "by" may be absent. */
static void
test_minimal(void **state)
{
	static const char json[] =
	    "{\"indicators\":[{\"id\":\"anon\",\"title\":" TI_TXT
	    ",\"definition\":" TI_TXT
	    ",\"measure\":\"anonymous_notifications\","
	    "\"unit\":\"count\",\"how\":" TI_TXT ",\"when\":" TI_WHEN
	    ",\"by_whom\":\"CoMensha\",\"goal\":" TI_TXT "}]}";
	const struct nrm_indicator *it;
	struct nrm_indicators *r = NULL;
	struct nrm_diag d;
	cJSON *list;

	(void)state;
	nrm_diag_init(&d);
	assert_int_equal(nrm_indicators_load(&r, json, strlen(json), &d), 0);
	assert_int_equal(nrm_indicators_count(r), 1);
	it = nrm_indicators_find(r, "anon");
	assert_non_null(it);
	assert_int_equal(it->n_by, 0);
	assert_string_equal(it->by_text, "");
	assert_null(nrm_indicators_find(r, "anonymous"));
	assert_null(nrm_indicators_find(r, NULL));
	assert_null(nrm_indicators_at(r, 1));
	list = cJSON_Parse(nrm_indicators_list_json(r));
	assert_non_null(list);
	assert_string_equal(
	    cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(list, "items"), 0),
		"unit")
		->valuestring,
	    "count");
	assert_int_equal(
	    cJSON_GetArraySize(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(list, "items"), 0),
		"by")),
	    0);
	cJSON_Delete(list);
	nrm_indicators_free(r);
	nrm_diag_free(&d);
}

/* What issue 13 asks the shipped register to hold, id by id. */
static const struct {
	const char *id, *measure, *by;
} ti_required[] = {
    {"signals_by_reporter_kind", "signals", "reporter_kind"},
    {"share_of_minors", "signals", "minor"},
    {"anonymous_notifications", "anonymous_notifications", ""},
    {"cases_taken_in_time", "cases_taken_in_time", "region"},
    {"time_to_take", "time_to_take", "priority"},
    {"escalations_by_region", "escalations", "region"},
    {"national_desk_cases", "cases", "region"},
    {"identification_decoupled", "identification_decisions",
	"outcome,investigation"},
    {"time_initial_to_conclusive", "time_initial_to_conclusive", "outcome"},
    {"repeat_signals", "repeat_signals", "minor"},
    {"emergency_reads_by_verdict", "emergency_reads", "verdict"},
};

/* config/indicators.json loads; at least 15; the required ones are in. */
static void
test_shipped(void **state)
{
	struct nrm_indicators *r = NULL;
	struct nrm_diag d;
	cJSON *list, *items, *x;
	size_t len;
	char *text = unit_read(TI_FILE, &len);
	int i;

	(void)state;
	assert_non_null(text);
	nrm_diag_init(&d);
	if (nrm_indicators_load(&r, text, len, &d) != NRM_OK)
		fail_msg("%s refused:\n%s", TI_FILE, nrm_diag_text(&d));
	assert_int_equal(nrm_diag_warnings(&d), 0);
	assert_true(nrm_indicators_count(r) >= 15);
	for (i = 0; i < (int)NRM_ARRAY_LEN(ti_required); i++) {
		const struct nrm_indicator *it =
		    nrm_indicators_find(r, ti_required[i].id);

		if (it == NULL)
			fail_msg("no indicator %s", ti_required[i].id);
		assert_string_equal(it->measure->name, ti_required[i].measure);
		assert_string_equal(it->by_text, ti_required[i].by);
	}
	list = cJSON_Parse(nrm_indicators_list_json(r));
	assert_non_null(list);
	items = cJSON_GetObjectItem(list, "items");
	assert_int_equal(cJSON_GetArraySize(items), nrm_indicators_count(r));
	i = 0;
	cJSON_ArrayForEach (x, items) {
		const struct nrm_indicator *it = nrm_indicators_at(r, i++);

		assert_string_equal(
		    cJSON_GetObjectItem(x, "id")->valuestring, it->id);
		assert_non_null(
		    cJSON_GetObjectItem(cJSON_GetObjectItem(x, "title"), "nl"));
		assert_non_null(
		    cJSON_GetObjectItem(cJSON_GetObjectItem(x, "goal"), "en"));
		assert_non_null(cJSON_GetObjectItem(
		    cJSON_GetObjectItem(x, "when"), "frequency"));
		assert_non_null(cJSON_GetObjectItem(x, "by_whom"));
		assert_non_null(strstr(it->json, "\"how\":{\"nl\":"));
	}
	cJSON_Delete(list);
	nrm_indicators_free(r);
	nrm_diag_free(&d);
	free(text);
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_refusals),
    cmocka_unit_test(test_minimal), cmocka_unit_test(test_shipped))
