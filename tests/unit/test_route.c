/*
 * test_route.c - the routing rule engine at work (nrm-core/route.c over
 * configurations compiled by nrm-core/rules.c): the default
 * configuration in config/routing/, every one of its municipalities,
 * and the table-driven case files (every .json file in
 * tests/unit/routing-cases/, format in README.md there).  Tests run from the
 * repository root.
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

#include "nrm/duration.h"
#include "nrm/route.h"
#include "unit.h"

#define RT_DEFAULT_DIR "config/routing"
#define RT_CASES_DIR "tests/unit/routing-cases"
/* 2025-06-01T00:00:00Z: "now" for every parsed signal. */
#define RT_NOW 1748736000LL
#define H 3600

static struct nrm_router *dflt;

static int
setup(void **state)
{
	struct unit_cfg c = {0};
	struct nrm_diag d;
	char *text;

	(void)state;
	nrm_diag_init(&d);
	unit_cfg_dir(&c, RT_DEFAULT_DIR, NULL);
	if (unit_cfg_load(&dflt, &c, "test-version", &d) != NRM_OK) {
		text = nrm_diag_text(&d);
		print_error("default configuration refused (run from the "
			    "repo root):\n%s",
		    text != NULL ? text : "");
		free(text);
		nrm_diag_free(&d);
		unit_cfg_free(&c);
		return -1;
	}
	nrm_diag_free(&d);
	unit_cfg_free(&c);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nrm_router_free(dflt);
	return 0;
}

/* The default loads without errors or warnings; counts as shipped. */
static void
test_default_clean(void **state)
{
	struct unit_cfg c = {0};
	struct nrm_router *r = NULL;
	struct nrm_diag d;
	const struct nrm_routing_region *g;
	int i, total = 0;

	(void)state;
	nrm_diag_init(&d);
	unit_cfg_dir(&c, RT_DEFAULT_DIR, NULL);
	assert_int_equal(unit_cfg_load(&r, &c, "test-version", &d), NRM_OK);
	assert_int_equal(nrm_diag_errors(&d), 0);
	assert_int_equal(nrm_diag_warnings(&d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(nrm_router_n_warnings(r), 0);
	assert_int_equal(nrm_geo_n_municipalities(nrm_router_geo(r)), 342);
	assert_int_equal(nrm_router_n_regions(r), 26);
	assert_int_equal(nrm_router_n_rules(r), 11);
	assert_string_equal(nrm_router_version(r), "test-version");
	for (i = 0; i < nrm_router_n_regions(r); i++) {
		g = nrm_router_region_at(r, i);
		assert_non_null(g);
		assert_true(g->active);
		assert_non_null(g->office_name);
		assert_non_null(g->office_contact);
		assert_string_equal(g->effective, g->code);
		total += g->n_municipalities;
		if (i < 25) {
			char code[16];

			snprintf(code, sizeof(code), "VR%02d", i + 1);
			assert_string_equal(g->code, code);
			assert_string_equal(g->fallback, NRM_REGION_NATIONAL);
			assert_true(g->n_municipalities > 0);
		}
	}
	assert_int_equal(total, 342);
	g = nrm_router_region(r, NRM_REGION_NATIONAL);
	assert_non_null(g);
	assert_null(g->fallback);
	assert_int_equal(g->n_municipalities, 0);
	assert_null(nrm_router_region(r, "VR26"));
	assert_null(nrm_router_region_at(r, 26));
	nrm_router_free(r);
	nrm_diag_free(&d);
	unit_cfg_free(&c);
}

/* A plain adult signal at municipality `code` (no personal data). */
static void
rt_plain(struct nrm_signal *s, const char *code)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->municipality, sizeof(s->municipality), "%s", code);
	s->observed_at = RT_NOW - 86400;
	s->subject.age_estimate = 30;
	s->subject.minor_flag = -1;
	s->exploitation = NRM_EXPL_SEXUAL;
	s->consent = NRM_CONSENT_GIVEN;
}

/*
 * Every municipality of the reference map (config/municipalities.csv,
 * which the default routing map copies) routes to its safety region for
 * a plain adult signal, through the catch-all, without hops.
 */
static void
test_every_municipality(void **state)
{
	struct nrm_geo *ref = NULL;
	struct nrm_error err;
	size_t len = 0;
	char *csv = unit_read("config/municipalities.csv", &len);
	char want[256];
	int i, n;

	(void)state;
	assert_non_null(csv);
	assert_int_equal(nrm_geo_parse_csv(&ref, csv, len, &err), NRM_OK);
	n = nrm_geo_n_municipalities(ref);
	assert_int_equal(n, 342);
	assert_int_equal(nrm_geo_n_municipalities(nrm_router_geo(dflt)), n);
	for (i = 0; i < n; i++) {
		const struct nrm_municipality *m =
		    nrm_geo_municipality_at(ref, i);
		struct nrm_signal s;
		struct nrm_decision d;

		rt_plain(&s, m->code);
		nrm_route(dflt, &s, NRM_AGENCY_POLICE, &d);
		if (strcmp(d.region, m->region->code) != 0)
			fail_msg("%s: routed to %s, want %s", m->code, d.region,
			    m->region->code);
		assert_string_equal(d.rule_id, "default");
		assert_int_equal(d.priority, NRM_PRIO_NORMAL);
		assert_int_equal(d.n_hops, 0);
		assert_int_equal(d.n_labels, 0);
		assert_int_equal(d.take_within, 24 * H);
		assert_int_equal(d.first_contact_within, 72 * H);
		snprintf(want, sizeof(want), "; location %s %s -> %s %s;",
		    m->code, m->name, m->region->code, m->region->name);
		if (strstr(d.explanation, want) == NULL)
			fail_msg(
			    "%s: explanation \"%s\"", m->code, d.explanation);
	}
	nrm_geo_free(ref);
	free(csv);
}

/* The decision JSON: documented keys in order, exact content. */
static void
test_decision_json(void **state)
{
	static const char *const keys[] = {
	    "region",
	    "priority",
	    "rule_id",
	    "ruleset_version",
	    "take_within",
	    "first_contact_within",
	    "labels",
	    "hops",
	    "explanation",
	};
	struct nrm_signal s;
	struct nrm_decision d;
	cJSON *root, *m;
	char *json;
	size_t n = 0;

	(void)state;
	rt_plain(&s, "GM0363");
	s.minor = true;
	nrm_route(dflt, &s, NRM_AGENCY_POLICE, &d);
	json = nrm_decision_json(&d);
	assert_non_null(json);
	assert_string_equal(json,
	    "{\"region\":\"VR13\",\"priority\":\"urgent\",\"rule_id\":"
	    "\"minor\",\"ruleset_version\":\"test-version\","
	    "\"take_within\":3600,\"first_contact_within\":14400,"
	    "\"labels\":[\"minor\"],\"hops\":[],\"explanation\":\"rule minor "
	    "matched: minor; location GM0363 Amsterdam -> VR13 "
	    "Amsterdam-Amstelland; priority urgent, take within PT1H, first "
	    "contact within PT4H\"}");
	root = cJSON_Parse(json);
	assert_non_null(root);
	cJSON_ArrayForEach (m, root) {
		assert_true(n < sizeof(keys) / sizeof(keys[0]));
		assert_string_equal(m->string, keys[n]);
		n++;
	}
	assert_int_equal(n, sizeof(keys) / sizeof(keys[0]));
	cJSON_Delete(root);
	free(json);
}

/* An uncovered region's decision goes to the national desk, saying so;
 * one already there stays as it was. */
static void
test_reroute_uncovered(void **state)
{
	struct nrm_signal s;
	struct nrm_decision d, before;
	char *json;

	(void)state;
	rt_plain(&s, "GM0363");
	s.minor = true;
	nrm_route(dflt, &s, NRM_AGENCY_POLICE, &d);
	nrm_decision_reroute_uncovered(&d);
	json = nrm_decision_json(&d);
	assert_non_null(json);
	assert_string_equal(json,
	    "{\"region\":\"NATIONAL\",\"priority\":\"urgent\",\"rule_id\":"
	    "\"minor\",\"ruleset_version\":\"test-version\","
	    "\"take_within\":3600,\"first_contact_within\":14400,"
	    "\"labels\":[\"minor\"],\"hops\":[\"VR13\",\"NATIONAL\"],"
	    "\"explanation\":\"rule minor matched: minor; location GM0363 "
	    "Amsterdam -> VR13 Amsterdam-Amstelland; priority urgent, take "
	    "within PT1H, first contact within PT4H; VR13 is uncovered (no "
	    "active coordinator who acted recently) -> national desk\"}");
	free(json);
	before = d;
	nrm_decision_reroute_uncovered(&d);
	assert_memory_equal(&d, &before, sizeof(d));
}

struct rt_name_case {
	int value;
	const char *name;
};

static void
test_names(void **state)
{
	static const struct rt_name_case prio[] = {
	    {NRM_PRIO_URGENT, "urgent"},
	    {NRM_PRIO_HIGH, "high"},
	    {NRM_PRIO_NORMAL, "normal"},
	    {3, NULL},
	    {-1, NULL},
	};
	static const struct rt_name_case kinds[] = {
	    {NRM_AGENCY_POLICE, "police"},
	    {NRM_AGENCY_KMAR, "kmar"},
	    {NRM_AGENCY_LABOUR_INSPECTORATE, "labour_inspectorate"},
	    {NRM_AGENCY_CARE_AGENCY, "care_agency"},
	    {NRM_AGENCY_NGO, "ngo"},
	    {NRM_AGENCY_MUNICIPALITY, "municipality"},
	    {NRM_AGENCY_NATIONAL_CENTRE, "national_centre"},
	    {NRM_AGENCY_ASSESSMENT_BODY, "assessment_body"},
	    {NRM_AGENCY_OTHER, "other"},
	    {NRM_AGENCY_COUNT, NULL},
	    {-1, NULL},
	};
	enum nrm_agency_kind k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(prio) / sizeof(prio[0]); i++) {
		const char *got =
		    nrm_priority_name((enum nrm_priority)prio[i].value);

		if (prio[i].name == NULL)
			assert_null(got);
		else
			assert_string_equal(got, prio[i].name);
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *got =
		    nrm_agency_kind_name((enum nrm_agency_kind)kinds[i].value);

		if (kinds[i].name == NULL) {
			assert_null(got);
			continue;
		}
		assert_string_equal(got, kinds[i].name);
		assert_int_equal(
		    nrm_agency_kind_parse(kinds[i].name, &k), NRM_OK);
		assert_int_equal((int)k, kinds[i].value);
	}
	assert_int_equal(nrm_agency_kind_parse("Police", &k), NRM_ERR);
	assert_int_equal(nrm_agency_kind_parse("", &k), NRM_ERR);
	assert_int_equal(nrm_agency_kind_parse(NULL, &k), NRM_ERR);
}

/*
 * An out-of-range reporter kind counts as "other"; a municipality the
 * router does not know is an unknown location and said so.
 */
static void
test_odd_inputs(void **state)
{
	struct nrm_signal s;
	struct nrm_decision d;

	(void)state;
	rt_plain(&s, "GM0363");
	s.exploitation = NRM_EXPL_LABOUR;
	nrm_route(dflt, &s, (enum nrm_agency_kind)99, &d);
	assert_string_equal(d.rule_id, "default");
	nrm_route(dflt, &s, NRM_AGENCY_LABOUR_INSPECTORATE, &d);
	assert_string_equal(d.rule_id, "labour-inspectorate-labour");
	rt_plain(&s, "GM9999");
	s.minor = true;
	nrm_route(dflt, &s, NRM_AGENCY_POLICE, &d);
	assert_string_equal(d.rule_id, "minor");
	assert_string_equal(d.region, NRM_REGION_NATIONAL);
	assert_non_null(strstr(d.explanation,
	    "; location GM9999 not in the map -> NATIONAL Landelijk "
	    "Co\xC3\xB6rdinatiepunt Mensenhandel;"));
	rt_plain(&s, "GM9999");
	nrm_route(dflt, &s, NRM_AGENCY_POLICE, &d);
	assert_string_equal(d.rule_id, "location-unknown");
	assert_string_equal(d.region, NRM_REGION_NATIONAL);
	rt_plain(&s, "XX");
	s.minor = true;
	nrm_route(dflt, &s, NRM_AGENCY_POLICE, &d);
	assert_string_equal(d.region, NRM_REGION_NATIONAL);
	assert_non_null(strstr(d.explanation, "not in the map"));
}

/* ------------------------------------------------------------------ */
/* Case files                                                          */

/*
 * Deep-merge `over` into `base` (both objects): objects merge key by
 * key, a null removes the key, anything else replaces it.
 */
static void
rt_merge(cJSON *base, const cJSON *over)
{
	const cJSON *m;

	cJSON_ArrayForEach (m, over) {
		cJSON *old = cJSON_GetObjectItemCaseSensitive(base, m->string);

		if (cJSON_IsNull(m)) {
			cJSON_DeleteItemFromObjectCaseSensitive(
			    base, m->string);
		} else if (old != NULL && cJSON_IsObject(old) &&
		    cJSON_IsObject(m)) {
			rt_merge(old, m);
		} else {
			cJSON *copy = cJSON_Duplicate(m, true);

			assert_non_null(copy);
			if (old != NULL)
				cJSON_ReplaceItemInObjectCaseSensitive(
				    base, m->string, copy);
			else
				cJSON_AddItemToObject(base, m->string, copy);
		}
	}
}

/* A duration in an expectation: ISO 8601 text or seconds. */
static int64_t
rt_seconds(const cJSON *v, const char *what)
{
	int64_t secs = -1;

	if (cJSON_IsNumber(v))
		return (int64_t)v->valuedouble;
	if (!cJSON_IsString(v) ||
	    nrm_duration_parse(
		v->valuestring, strlen(v->valuestring), &secs, NULL) != NRM_OK)
		fail_msg("%s: bad duration in the case file", what);
	return secs;
}

/* Compare a decision's string array with a JSON array of strings. */
static void
rt_expect_list(
    const char *what, const cJSON *want, int n, const char *got, size_t stride)
{
	const cJSON *x;
	int i = 0;

	if (!cJSON_IsArray(want))
		fail_msg("%s: expectation must be an array", what);
	if (cJSON_GetArraySize(want) != n)
		fail_msg(
		    "%s: %d items, want %d", what, n, cJSON_GetArraySize(want));
	cJSON_ArrayForEach (x, want) {
		if (strcmp(got + (size_t)i * stride, x->valuestring) != 0)
			fail_msg("%s[%d]: %s, want %s", what, i,
			    got + (size_t)i * stride, x->valuestring);
		i++;
	}
}

/* Check a decision against a case's "expect" object. */
static void
rt_expect(const char *name, const struct nrm_decision *d, const cJSON *e)
{
	const cJSON *m;
	char what[640];

	cJSON_ArrayForEach (m, e) {
		if (snprintf(what, sizeof(what), "%s: %s", name, m->string) >=
		    (int)sizeof(what))
			fail_msg("%s: key too long", name);
		if (strcmp(m->string, "region") == 0) {
			if (strcmp(d->region, m->valuestring) != 0)
				fail_msg("%s: %s, want %s (%s)", what,
				    d->region, m->valuestring, d->explanation);
		} else if (strcmp(m->string, "rule_id") == 0) {
			if (strcmp(d->rule_id, m->valuestring) != 0)
				fail_msg("%s: %s, want %s (%s)", what,
				    d->rule_id, m->valuestring, d->explanation);
		} else if (strcmp(m->string, "priority") == 0) {
			if (strcmp(nrm_priority_name(d->priority),
				m->valuestring) != 0)
				fail_msg("%s: %s, want %s", what,
				    nrm_priority_name(d->priority),
				    m->valuestring);
		} else if (strcmp(m->string, "take_within") == 0) {
			if (d->take_within != rt_seconds(m, what))
				fail_msg("%s: %lld", what,
				    (long long)d->take_within);
		} else if (strcmp(m->string, "first_contact_within") == 0) {
			if (d->first_contact_within != rt_seconds(m, what))
				fail_msg("%s: %lld", what,
				    (long long)d->first_contact_within);
		} else if (strcmp(m->string, "hops") == 0) {
			rt_expect_list(
			    what, m, d->n_hops, d->hops[0], sizeof(d->hops[0]));
		} else if (strcmp(m->string, "labels") == 0) {
			rt_expect_list(what, m, d->n_labels, d->labels[0],
			    sizeof(d->labels[0]));
		} else if (strcmp(m->string, "explanation") == 0) {
			if (strcmp(d->explanation, m->valuestring) != 0)
				fail_msg("%s:\n  got  %s\n  want %s", what,
				    d->explanation, m->valuestring);
		} else if (strcmp(m->string, "explanation_contains") == 0) {
			const cJSON *x;

			cJSON_ArrayForEach (x, m) {
				if (strstr(d->explanation, x->valuestring) ==
				    NULL)
					fail_msg("%s: \"%s\" not in \"%s\"",
					    what, x->valuestring,
					    d->explanation);
			}
		} else {
			fail_msg("%s: unknown expectation", what);
		}
	}
}

/* Build the configuration a case file describes. */
static void
rt_case_config(const char *file, const cJSON *cfg, struct unit_cfg *c)
{
	const cJSON *dir = cJSON_GetObjectItemCaseSensitive(cfg, "dir");
	const cJSON *v;

	unit_cfg_dir(
	    c, cJSON_IsString(dir) ? dir->valuestring : RT_DEFAULT_DIR, NULL);
	v = cJSON_GetObjectItemCaseSensitive(cfg, "regions");
	if (v != NULL)
		unit_cfg_set(c, 0, cJSON_Print(v));
	v = cJSON_GetObjectItemCaseSensitive(cfg, "rules");
	if (v != NULL)
		unit_cfg_set(c, 2, cJSON_Print(v));
	v = cJSON_GetObjectItemCaseSensitive(cfg, "municipalities");
	if (v != NULL) {
		const cJSON *line;
		size_t n = 0;
		char *csv;

		cJSON_ArrayForEach (line, v)
			n += strlen(line->valuestring) + 1;
		csv = calloc(1, n + 1);
		assert_non_null(csv);
		n = 0;
		cJSON_ArrayForEach (line, v) {
			n +=
			    (size_t)sprintf(csv + n, "%s\n", line->valuestring);
		}
		unit_cfg_set(c, 1, csv);
	}
	for (int i = 0; i < 3; i++) {
		if (c->text[i] == NULL)
			fail_msg("%s: configuration lacks %s", file,
			    unit_cfg_files[i]);
	}
}

/* Warnings of the load must be exactly those the file expects. */
static void
rt_case_warnings(const char *file, const struct nrm_diag *d, const cJSON *w)
{
	const cJSON *x;
	int i = 0;

	if (nrm_diag_warnings(d) != (w != NULL ? cJSON_GetArraySize(w) : 0)) {
		char *text = nrm_diag_text(d);

		fail_msg("%s: %d warnings, want %d:\n%s", file,
		    nrm_diag_warnings(d), w != NULL ? cJSON_GetArraySize(w) : 0,
		    text);
	}
	cJSON_ArrayForEach (x, w) {
		if (strstr(d->entries[i].text, x->valuestring) == NULL)
			fail_msg("%s: warning %d is \"%s\", want \"%s\"", file,
			    i, d->entries[i].text, x->valuestring);
		i++;
	}
}

/* Run one case file; returns the number of cases run. */
static int
rt_case_file(const char *file)
{
	struct nrm_signal_limits lim;
	struct nrm_router *r = NULL;
	struct unit_cfg c = {0};
	struct nrm_diag d;
	const cJSON *cases, *cs, *base;
	cJSON *root;
	size_t len;
	char *text = unit_read(file, &len);
	int n = 0;

	assert_non_null(text);
	root = cJSON_Parse(text);
	if (root == NULL)
		fail_msg("%s: not JSON", file);
	nrm_diag_init(&d);
	rt_case_config(
	    file, cJSON_GetObjectItemCaseSensitive(root, "config"), &c);
	if (unit_cfg_load(&r, &c, "test-version", &d) != NRM_OK) {
		char *dt = nrm_diag_text(&d);

		fail_msg("%s: configuration refused:\n%s", file, dt);
	}
	rt_case_warnings(file, &d,
	    cJSON_GetObjectItemCaseSensitive(root, "expect_warnings"));
	nrm_signal_limits_default(&lim);
	base = cJSON_GetObjectItemCaseSensitive(root, "signal");
	cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
	assert_true(cJSON_IsArray(cases));
	cJSON_ArrayForEach (cs, cases) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(cs, "name");
		const cJSON *kind =
		    cJSON_GetObjectItemCaseSensitive(cs, "reporter_kind");
		const cJSON *over =
		    cJSON_GetObjectItemCaseSensitive(cs, "signal");
		cJSON *body = cJSON_Duplicate(base, true);
		enum nrm_agency_kind k = NRM_AGENCY_POLICE;
		struct nrm_signal s;
		struct nrm_decision dec;
		struct nrm_error err;
		char name[512], *bt;

		if (snprintf(name, sizeof(name), "%s: %s", file,
			cJSON_IsString(nm) ? nm->valuestring : "?") >=
		    (int)sizeof(name))
			fail_msg("%s: case name too long", file);
		assert_non_null(body);
		if (over != NULL)
			rt_merge(body, over);
		if (cJSON_IsString(kind) &&
		    nrm_agency_kind_parse(kind->valuestring, &k) != NRM_OK)
			fail_msg("%s: bad reporter_kind", name);
		bt = cJSON_PrintUnformatted(body);
		if (nrm_signal_parse(&s, bt, strlen(bt), &lim,
			nrm_router_geo(r), RT_NOW, &err) != NRM_OK)
			fail_msg("%s: signal refused: %s: %s", name, err.field,
			    err.detail);
		memset(&dec, 0x5A, sizeof(dec));
		nrm_route(r, &s, k, &dec);
		rt_expect(
		    name, &dec, cJSON_GetObjectItemCaseSensitive(cs, "expect"));
		/* Never personal data in an explanation. */
		if (strstr(dec.explanation, "Secret") != NULL)
			fail_msg("%s: personal data in the explanation", name);
		/* hops end where the signal went. */
		if (dec.n_hops > 0)
			assert_string_equal(
			    dec.hops[dec.n_hops - 1], dec.region);
		nrm_signal_free(&s);
		free(bt);
		cJSON_Delete(body);
		n++;
	}
	nrm_router_free(r);
	nrm_diag_free(&d);
	unit_cfg_free(&c);
	cJSON_Delete(root);
	free(text);
	return n;
}

static bool
rt_is_case_file(const char *name)
{
	size_t len = strlen(name);

	return len >= 6 && strcmp(name + len - 5, ".json") == 0;
}

static int
rt_case_entry(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", RT_CASES_DIR, name);
	return rt_case_file(path);
}

/* Every *.json in the cases directory, in name order. */
static void
test_case_files(void **state)
{
	int n, cases;

	(void)state;
	cases =
	    unit_each_entry(RT_CASES_DIR, rt_is_case_file, rt_case_entry, &n);
	assert_true(n >= 5);
	print_message(
	    "[          ] %d case files, %d routing cases\n", n, cases);
	assert_true(cases >= 80);
}

/*
 * Very long names (from a hostile or careless map) are cut on a
 * character boundary; the explanation stays valid UTF-8 and bounded.
 */
static void
test_long_names(void **state)
{
	static const char rules[] =
	    "{\"rules\":[{\"id\":\"all\",\"then\":{\"route\":\"location\","
	    "\"priority\":\"normal\",\"take_within\":\"P1D\","
	    "\"first_contact_within\":\"P3D\"}}]}";
	char csv[4096], regions[1024], name[1200];
	struct nrm_router *r = NULL;
	struct nrm_routing_src src;
	struct nrm_diag d;
	struct nrm_signal s;
	struct nrm_decision dec;
	int i;

	(void)state;
	for (i = 0; i < 599; i++)
		memcpy(name + 2 * i, "\xC3\xA2", 2);
	name[1198] = '\0';
	snprintf(csv, sizeof(csv),
	    "municipality_code,municipality_name,safety_region_code,"
	    "safety_region_name\nGM0001,%s,R1,R\n",
	    name);
	snprintf(regions, sizeof(regions),
	    "{\"national\":{\"name\":\"N\",\"office\":{\"name\":\"n\","
	    "\"contact\":\"c\"}},\"regions\":[{\"code\":\"R1\",\"name\":"
	    "\"R\",\"active\":true,\"office\":{\"name\":\"o\",\"contact\":"
	    "\"c\"}}]}");
	src = (struct nrm_routing_src){regions, strlen(regions), csv,
	    strlen(csv), rules, strlen(rules), "v"};
	nrm_diag_init(&d);
	assert_int_equal(nrm_router_load(&r, &src, &d), NRM_OK);
	rt_plain(&s, "GM0001");
	nrm_route(r, &s, NRM_AGENCY_NGO, &dec);
	assert_string_equal(dec.region, "R1");
	assert_true(strlen(dec.explanation) < sizeof(dec.explanation));
	assert_non_null(strstr(dec.explanation, " -> R1 R;"));
	assert_non_null(strstr(dec.explanation, "; priority normal"));
	for (i = 0; dec.explanation[i] != '\0'; i++) {
		if ((unsigned char)dec.explanation[i] == 0xC3)
			assert_int_equal(
			    (unsigned char)dec.explanation[i + 1], 0xA2);
	}
	nrm_router_free(r);
	nrm_diag_free(&d);
}

UNIT_MAIN(setup, teardown, cmocka_unit_test(test_default_clean),
    cmocka_unit_test(test_every_municipality),
    cmocka_unit_test(test_decision_json),
    cmocka_unit_test(test_reroute_uncovered), cmocka_unit_test(test_names),
    cmocka_unit_test(test_odd_inputs), cmocka_unit_test(test_case_files),
    cmocka_unit_test(test_long_names))
