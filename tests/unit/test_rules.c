/*
 * test_rules.c - loading and checking routing configurations
 * (nrm-core/rules*.c), their diagnostics (diag.c), ISO 8601 deadlines
 * (duration.c) and the coverage report (route.c): every directory of
 * tests/unit/broken-configs/ must be refused with the messages its
 * `expect` file lists.  Tests run from the repository root.
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
#include "nrm/duration.h"
#include "nrm/route.h"
#include "unit.h"

#define TR_BROKEN_DIR "tests/unit/broken-configs"
#define TR_DEFAULT_DIR "config/routing"

/* A small valid configuration as literals, for focused tests. */
static const char tr_regions[] =
    "{\"national\":{\"name\":\"National desk\",\"office\":{\"name\":"
    "\"LCM\",\"contact\":\"+31 88 000 0000\"}},\"regions\":["
    "{\"code\":\"A\",\"name\":\"Alpha\",\"active\":false,\"office\":"
    "{\"name\":\"Office A\",\"contact\":\"a@example.org\"},\"fallback\":"
    "\"B\"},"
    "{\"code\":\"B\",\"name\":\"B\xC3\xA8ta\",\"active\":true,\"office\":"
    "{\"name\":\"Office B\",\"contact\":\"b@example.org\"}},"
    "{\"code\":\"C\",\"name\":\"Gamma\",\"active\":false,\"fallback\":"
    "\"NATIONAL\"}]}";
static const char tr_csv[] =
    "municipality_code,municipality_name,safety_region_code,"
    "safety_region_name\n"
    "GM0001,One,A,Alpha\nGM0002,Two,B,B\xC3\xA8ta\nGM0003,Three,C,Gamma\n"
    "GM0004,Four,C,Gamma\n";
static const char tr_rules[] =
    "{\"rules\":[{\"id\":\"all\",\"then\":{\"route\":\"location\","
    "\"priority\":\"normal\",\"take_within\":\"P1D\","
    "\"first_contact_within\":\"P3D\"}}]}";

static int
tr_load_small(struct nrm_router **r, struct nrm_diag *d, const char *rules)
{
	struct nrm_routing_src src = {tr_regions, strlen(tr_regions), tr_csv,
	    strlen(tr_csv), rules, strlen(rules), "v-small"};

	return nrm_router_load(r, &src, d);
}

/* ------------------------------------------------------------------ */

/* base/ itself is valid, so each broken directory is broken by itself. */
static void
test_broken_base_is_valid(void **state)
{
	struct unit_cfg c = {0};
	struct nrm_router *r = NULL;
	struct nrm_diag d;

	(void)state;
	nrm_diag_init(&d);
	unit_cfg_dir(&c, TR_BROKEN_DIR "/base", NULL);
	assert_int_equal(unit_cfg_load(&r, &c, "v1", &d), NRM_OK);
	assert_int_equal(nrm_diag_errors(&d), 0);
	assert_int_equal(nrm_diag_warnings(&d), 0);
	nrm_router_free(r);
	nrm_diag_free(&d);
	unit_cfg_free(&c);
}

/*
 * One broken directory: refused, no router, and every expected line
 * found in the rendered diagnostics.  Returns the lines checked.
 */
static int
tr_broken(const char *name)
{
	struct unit_cfg c = {0};
	struct nrm_router *r = (struct nrm_router *)&c;
	struct nrm_diag d;
	char dir[512], path[600], *expect, *text, *line, *save = NULL;
	size_t len;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/%s", TR_BROKEN_DIR, name);
	snprintf(path, sizeof(path), "%s/expect", dir);
	expect = unit_read(path, &len);
	if (expect == NULL)
		fail_msg("%s: no expect file", name);
	nrm_diag_init(&d);
	unit_cfg_dir(&c, dir, TR_BROKEN_DIR "/base");
	if (unit_cfg_load(&r, &c, "v1", &d) != NRM_ERR)
		fail_msg("%s: configuration accepted", name);
	assert_null(r);
	assert_true(nrm_diag_errors(&d) > 0);
	text = nrm_diag_text(&d);
	assert_non_null(text);
	for (line = strtok_r(expect, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (strstr(text, line) == NULL)
			fail_msg("%s: missing\n  %s\nin\n%s", name, line, text);
		n++;
	}
	if (n == 0)
		fail_msg("%s: empty expect file", name);
	free(text);
	free(expect);
	nrm_diag_free(&d);
	unit_cfg_free(&c);
	return n;
}

/* A broken configuration directory: not hidden, not the shared base. */
static bool
tr_is_broken_dir(const char *name)
{
	return name[0] != '.' && strcmp(name, "base") != 0 &&
	    strchr(name, '.') == NULL;
}

static void
test_broken_configs(void **state)
{
	int n, lines;

	(void)state;
	lines = unit_each_entry(TR_BROKEN_DIR, tr_is_broken_dir, tr_broken, &n);
	print_message(
	    "[          ] %d broken configurations, %d messages\n", n, lines);
	assert_true(n >= 20);
}

/* A refused reload leaves the running router untouched and working. */
static void
test_refused_reload_keeps_old(void **state)
{
	struct unit_cfg c = {0}, bad = {0};
	struct nrm_router *live = NULL, *candidate = NULL;
	struct nrm_diag d;
	struct nrm_signal s;
	struct nrm_decision dec;

	(void)state;
	nrm_diag_init(&d);
	unit_cfg_dir(&c, TR_DEFAULT_DIR, NULL);
	assert_int_equal(unit_cfg_load(&live, &c, "v1", &d), NRM_OK);
	unit_cfg_dir(
	    &bad, TR_BROKEN_DIR "/02-fallback-cycle", TR_BROKEN_DIR "/base");
	assert_int_equal(unit_cfg_load(&candidate, &bad, "v1", &d), NRM_ERR);
	assert_null(candidate);
	memset(&s, 0, sizeof(s));
	snprintf(s.municipality, sizeof(s.municipality), "GM0363");
	s.exploitation = NRM_EXPL_SEXUAL;
	s.subject.age_estimate = 30;
	nrm_route(live, &s, NRM_AGENCY_POLICE, &dec);
	assert_string_equal(dec.region, "VR13");
	assert_string_equal(dec.ruleset_version, "v1");
	nrm_router_free(live);
	nrm_diag_free(&d);
	unit_cfg_free(&c);
	unit_cfg_free(&bad);
}

/* Missing texts and bad versions are errors, not crashes. */
static void
test_load_edges(void **state)
{
	struct nrm_routing_src src;
	struct nrm_router *r = NULL;
	struct nrm_diag d;
	char *text;
	char long_version[80];

	(void)state;
	nrm_diag_init(&d);
	memset(&src, 0, sizeof(src));
	src.version = "v";
	assert_int_equal(nrm_router_load(&r, &src, &d), NRM_ERR);
	assert_null(r);
	text = nrm_diag_text(&d);
	assert_non_null(strstr(text, "error: regions.json: empty file\n"));
	assert_non_null(
	    strstr(text, "error: municipalities.csv line 1: empty file\n"));
	assert_non_null(strstr(text, "error: rules.json: empty file\n"));
	free(text);
	nrm_diag_free(&d);

	src = (struct nrm_routing_src){tr_regions, strlen(tr_regions), tr_csv,
	    strlen(tr_csv), tr_rules, strlen(tr_rules), NULL};
	assert_int_equal(nrm_router_load(&r, &src, &d), NRM_ERR);
	src.version = "has space";
	assert_int_equal(nrm_router_load(&r, &src, &d), NRM_ERR);
	memset(long_version, 'a', sizeof(long_version) - 1);
	long_version[sizeof(long_version) - 1] = '\0';
	src.version = long_version;
	assert_int_equal(nrm_router_load(&r, &src, &d), NRM_ERR);
	assert_int_equal(nrm_diag_errors(&d), 3);
	assert_string_equal(d.entries[0].text,
	    "version: must be 1 to 71 printable ASCII characters");
	long_version[71] = '\0';
	assert_int_equal(nrm_router_load(&r, &src, &d), NRM_OK);
	assert_string_equal(nrm_router_version(r), long_version);
	nrm_router_free(r);
	nrm_router_free(NULL);
	nrm_diag_free(&d);
}

/* ------------------------------------------------------------------ */

struct tr_dur_case {
	const char *text;
	int64_t seconds; /* -1: refused */
	const char *why; /* substring of the reason, when refused */
};

static const struct tr_dur_case tr_durs[] = {
    {"PT1H", 3600, NULL},
    {"PT4H", 14400, NULL},
    {"PT30M", 1800, NULL},
    {"PT45S", 45, NULL},
    {"P1D", 86400, NULL},
    {"P3D", 259200, NULL},
    {"P2W", 1209600, NULL},
    {"P1DT2H3M4S", 93784, NULL},
    {"PT0H30M", 1800, NULL},
    {"P0DT1S", 1, NULL},
    {"PT90M", 5400, NULL},
    {"P366D", 366 * 86400, NULL},
    {"P52W", 52 * 7 * 86400, NULL},
    {"PT8784H", 366 * 86400, NULL},
    {"P1M", -1, "months and years"},
    {"P1Y", -1, "months and years"},
    {"P1Y2D", -1, "months and years"},
    {"P367D", -1, "longer than 366 days"},
    {"P53W", -1, "longer than 366 days"},
    {"PT999999999S", -1, "longer than 366 days"},
    {"PT1234567890S", -1, "number too long"},
    {"PT0S", -1, "longer than zero"},
    {"P0D", -1, "longer than zero"},
    {"P", -1, "not an ISO 8601 duration"},
    {"", -1, "not an ISO 8601 duration"},
    {"1H", -1, "not an ISO 8601 duration"},
    {"pt1h", -1, "not an ISO 8601 duration"},
    {"PT1h", -1, "unknown designator"},
    {"PT", -1, "T must be followed"},
    {"P1DT", -1, "T must be followed"},
    {"P1H", -1, "after T"},
    {"PT1D", -1, "before T"},
    {"PT1W", -1, "weeks"},
    {"P1W1D", -1, "weeks"},
    {"P1D1W", -1, "weeks"},
    {"PT1M1H", -1, "out of order"},
    {"PT1H1H", -1, "out of order"},
    {"P1DT1H1D", -1, "before T"},
    {"PTT1H", -1, "T appears twice"},
    {"PT1.5H", -1, "fractions"},
    {"PT1,5H", -1, "fractions"},
    {"PT1", -1, "without a designator"},
    {"PTH", -1, "expected a number"},
    {"P-1D", -1, "expected a number"},
    {"P1D ", -1, "expected a number"},
};

static void
test_durations(void **state)
{
	(void)state;
	UNIT_EACH (struct tr_dur_case, c, tr_durs) {
		const char *why = NULL;
		int64_t secs = -7;
		int rc =
		    nrm_duration_parse(c->text, strlen(c->text), &secs, &why);

		if (c->seconds >= 0) {
			if (rc != NRM_OK || secs != c->seconds)
				fail_msg("\"%s\": rc %d, %lld (%s)", c->text,
				    rc, (long long)secs, why ? why : "");
			continue;
		}
		if (rc != NRM_ERR || secs != -7)
			fail_msg("\"%s\": accepted as %lld", c->text,
			    (long long)secs);
		if (why == NULL || strstr(why, c->why) == NULL)
			fail_msg("\"%s\": reason \"%s\", want \"%s\"", c->text,
			    why ? why : "(null)", c->why);
	}
	/* The reason pointer may be NULL; len bounds the text. */
	{
		int64_t secs = 0;

		assert_int_equal(
		    nrm_duration_parse("PT1HXYZ", 4, &secs, NULL), NRM_OK);
		assert_int_equal(secs, 3600);
	}
}

struct tr_fmt_case {
	int64_t seconds;
	const char *text;
};

static const struct tr_fmt_case tr_fmts[] = {
    {0, "PT0S"},
    {1, "PT1S"},
    {60, "PT1M"},
    {3600, "PT1H"},
    {5400, "PT1H30M"},
    {86400, "P1D"},
    {93784, "P1DT2H3M4S"},
    {1209600, "P14D"},
    {366 * 86400, "P366D"},
};

static void
test_duration_format(void **state)
{
	char buf[NRM_DURATION_TEXT_SIZE];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tr_fmts) / sizeof(tr_fmts[0]); i++) {
		int64_t back = -1;

		assert_int_equal(
		    nrm_duration_format(tr_fmts[i].seconds, buf, sizeof(buf)),
		    NRM_OK);
		assert_string_equal(buf, tr_fmts[i].text);
		if (tr_fmts[i].seconds > 0) {
			assert_int_equal(
			    nrm_duration_parse(buf, strlen(buf), &back, NULL),
			    NRM_OK);
			assert_int_equal(back, tr_fmts[i].seconds);
		}
	}
	assert_int_equal(nrm_duration_format(-1, buf, sizeof(buf)), NRM_ERR);
	assert_int_equal(
	    nrm_duration_format(NRM_DURATION_MAX + 1, buf, sizeof(buf)),
	    NRM_ERR);
	assert_int_equal(nrm_duration_format(60, buf, 8), NRM_ERR);
}

/* ------------------------------------------------------------------ */

static void
test_diag(void **state)
{
	struct nrm_diag d;
	char *text, *json;
	cJSON *root, *entries, *e;
	int i;

	(void)state;
	nrm_diag_init(&d);
	text = nrm_diag_text(&d);
	assert_string_equal(text, "0 errors, 0 warnings\n");
	free(text);
	nrm_diag_add(&d, NRM_DIAG_ERROR, "rules.json", "rules[3].then.region",
	    "unknown region %s", "VR99");
	nrm_diag_add(&d, NRM_DIAG_ERROR, "municipalities.csv", "line 12",
	    "GM0363 maps to unknown region VR77");
	nrm_diag_add(&d, NRM_DIAG_WARNING, "regions.json", NULL,
	    "fallback cycle VR01 -> VR02 -> VR01");
	nrm_diag_add(&d, NRM_DIAG_WARNING, NULL, "version", "bad");
	nrm_diag_add(&d, NRM_DIAG_ERROR, NULL, NULL, "out of memory");
	assert_int_equal(nrm_diag_errors(&d), 3);
	assert_int_equal(nrm_diag_warnings(&d), 2);
	text = nrm_diag_text(&d);
	assert_string_equal(text,
	    "error: rules.json: rules[3].then.region: unknown region VR99\n"
	    "error: municipalities.csv line 12: GM0363 maps to unknown "
	    "region VR77\n"
	    "warning: regions.json: fallback cycle VR01 -> VR02 -> VR01\n"
	    "warning: version: bad\n"
	    "error: out of memory\n"
	    "3 errors, 2 warnings\n");
	free(text);
	json = nrm_diag_json(&d);
	assert_non_null(json);
	root = cJSON_Parse(json);
	assert_non_null(root);
	assert_int_equal(cJSON_GetObjectItem(root, "errors")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItem(root, "warnings")->valueint, 2);
	entries = cJSON_GetObjectItem(root, "entries");
	assert_int_equal(cJSON_GetArraySize(entries), 5);
	e = cJSON_GetArrayItem(entries, 1);
	assert_string_equal(
	    cJSON_GetObjectItem(e, "severity")->valuestring, "error");
	assert_string_equal(
	    cJSON_GetObjectItem(e, "file")->valuestring, "municipalities.csv");
	assert_string_equal(
	    cJSON_GetObjectItem(e, "path")->valuestring, "line 12");
	assert_string_equal(cJSON_GetObjectItem(e, "message")->valuestring,
	    "GM0363 maps to unknown region VR77");
	cJSON_Delete(root);
	free(json);
	/* Beyond NRM_DIAG_KEEP entries are counted, not stored. */
	for (i = 0; i < NRM_DIAG_KEEP + 10; i++)
		nrm_diag_add(&d, NRM_DIAG_ERROR, "f", "p", "e%d", i);
	assert_int_equal(d.n, NRM_DIAG_KEEP);
	assert_int_equal(nrm_diag_errors(&d), 3 + NRM_DIAG_KEEP + 10);
	assert_int_equal(d.n_dropped, 15);
	text = nrm_diag_text(&d);
	assert_non_null(strstr(text, "(15 more not shown)\n"));
	free(text);
	nrm_diag_free(&d);
	assert_int_equal(d.n, 0);
	assert_int_equal(nrm_diag_errors(&d), 0);
}

/* The coverage report of a configuration with fallbacks. */
static void
test_coverage(void **state)
{
	struct nrm_router *r = NULL;
	struct nrm_diag d;
	char *json, *text;
	cJSON *root, *regions, *g, *hops;
	const struct nrm_routing_region *reg;

	(void)state;
	nrm_diag_init(&d);
	assert_int_equal(tr_load_small(&r, &d, tr_rules), NRM_OK);
	assert_int_equal(nrm_diag_warnings(&d), 0);
	reg = nrm_router_region(r, "A");
	assert_non_null(reg);
	assert_false(reg->active);
	assert_string_equal(reg->fallback, "B");
	assert_string_equal(reg->effective, "B");
	assert_int_equal(reg->n_municipalities, 1);
	reg = nrm_router_region(r, "C");
	assert_null(reg->office_name);
	assert_string_equal(reg->effective, NRM_REGION_NATIONAL);
	assert_int_equal(reg->n_municipalities, 2);

	json = nrm_router_coverage_json(r);
	assert_non_null(json);
	assert_string_equal(json,
	    "{\"version\":\"v-small\",\"rules\":1,\"municipalities\":4,"
	    "\"regions\":["
	    "{\"code\":\"A\",\"name\":\"Alpha\",\"active\":false,\"office\":"
	    "{\"name\":\"Office A\",\"contact\":\"a@example.org\"},"
	    "\"fallback\":\"B\",\"municipalities\":1,\"effective\":\"B\","
	    "\"hops\":[\"A\",\"B\"]},"
	    "{\"code\":\"B\",\"name\":\"B\xC3\xA8ta\",\"active\":true,"
	    "\"office\":{\"name\":\"Office B\",\"contact\":\"b@example.org\"},"
	    "\"fallback\":\"NATIONAL\",\"municipalities\":1,\"effective\":"
	    "\"B\",\"hops\":[]},"
	    "{\"code\":\"C\",\"name\":\"Gamma\",\"active\":false,\"office\":"
	    "null,\"fallback\":\"NATIONAL\",\"municipalities\":2,"
	    "\"effective\":\"NATIONAL\",\"hops\":[\"C\",\"NATIONAL\"]},"
	    "{\"code\":\"NATIONAL\",\"name\":\"National desk\",\"active\":"
	    "true,\"office\":{\"name\":\"LCM\",\"contact\":\"+31 88 000 "
	    "0000\"},\"fallback\":null,\"municipalities\":0,\"effective\":"
	    "\"NATIONAL\",\"hops\":[]}],\"warnings\":[]}");
	root = cJSON_Parse(json);
	regions = cJSON_GetObjectItem(root, "regions");
	g = cJSON_GetArrayItem(regions, 0);
	hops = cJSON_GetObjectItem(g, "hops");
	assert_int_equal(cJSON_GetArraySize(hops), 2);
	cJSON_Delete(root);
	free(json);

	text = nrm_router_coverage_text(r);
	assert_non_null(text);
	assert_string_equal(text,
	    "routing configuration v-small\n"
	    "1 rules, 4 municipalities, 3 regions and the national desk\n"
	    "\n"
	    "CODE      NAME           ACTIVE  MUNIS  FALLBACK  ROUTES TO  "
	    "OFFICE\n"
	    "A         Alpha          no          1  B         B          "
	    "Office A, a@example.org\n"
	    "B         B\xC3\xA8ta           yes         1  NATIONAL  B     "
	    "     Office B, b@example.org\n"
	    "C         Gamma          no          2  NATIONAL  NATIONAL   "
	    "(no office)\n"
	    "NATIONAL  National desk  yes         0  -         NATIONAL   "
	    "LCM, +31 88 000 0000\n"
	    "\n"
	    "warnings: none\n");
	free(text);
	nrm_router_free(r);
	nrm_diag_free(&d);
}

/* Warnings are kept by the router and shown in both reports. */
static void
test_coverage_warnings(void **state)
{
	static const char rules[] =
	    "{\"rules\":[{\"id\":\"a\",\"then\":{\"route\":\"national\","
	    "\"priority\":\"high\",\"take_within\":\"PT4H\","
	    "\"first_contact_within\":\"P1D\"}},{\"id\":\"b\",\"then\":{"
	    "\"route\":\"location\",\"priority\":\"normal\",\"take_within\":"
	    "\"P1D\",\"first_contact_within\":\"P3D\"}}]}";
	struct nrm_router *r = NULL;
	struct nrm_diag d;
	char *json, *text;

	(void)state;
	nrm_diag_init(&d);
	assert_int_equal(tr_load_small(&r, &d, rules), NRM_OK);
	assert_int_equal(nrm_diag_warnings(&d), 1);
	assert_int_equal(nrm_router_n_warnings(r), 1);
	assert_string_equal(nrm_router_warning_at(r, 0),
	    "rules.json: rules[1] (id b) is shadowed by rules[0] (id a) and "
	    "can never match");
	assert_null(nrm_router_warning_at(r, 1));
	json = nrm_router_coverage_json(r);
	assert_non_null(strstr(json,
	    "\"warnings\":[\"rules.json: rules[1] (id b) is shadowed by "
	    "rules[0] (id a) and can never match\"]}"));
	text = nrm_router_coverage_text(r);
	assert_non_null(strstr(text,
	    "\nwarnings (1):\n  rules.json: rules[1] (id b) is shadowed"));
	free(json);
	free(text);
	nrm_router_free(r);
	nrm_diag_free(&d);
}

/*
 * Shadowing is found dimension by dimension: a table of (earlier rule,
 * later rule, shadowed?) over every kind of condition.
 */
struct tr_shadow_case {
	const char *first, *second;
	bool shadowed;
};

static const struct tr_shadow_case tr_shadows[] = {
    {"{}", "{\"minor\":true}", true},
    {"{\"minor\":true}", "{\"minor\":true,\"needs_shelter\":true}", true},
    {"{\"minor\":true}", "{\"minor\":false}", false},
    {"{\"minor\":true,\"needs_shelter\":true}", "{\"minor\":true}", false},
    {"{\"exploitation\":[\"sexual\",\"labour\"]}",
	"{\"exploitation\":[\"labour\"]}", true},
    {"{\"exploitation\":[\"labour\"]}",
	"{\"exploitation\":[\"sexual\",\"labour\"]}", false},
    {"{\"exploitation\":[\"sexual\",\"labour\",\"criminal\",\"begging\","
     "\"forced_marriage\",\"illegal_adoption\",\"surrogacy\","
     "\"organ_removal\",\"other\"]}",
	"{\"needs_shelter\":false}", true},
    {"{\"control_means\":[\"threats\"]}", "{\"needs_shelter\":true}", false},
    {"{\"control_means\":[\"threats\",\"isolation\"]}",
	"{\"control_means\":[\"isolation\"]}", true},
    {"{\"reporter_kind\":[\"police\",\"kmar\"]}",
	"{\"reporter_kind\":[\"kmar\"]}", true},
    {"{\"reporter_kind\":[\"police\"]}", "{\"reporter_kind\":[\"kmar\"]}",
	false},
    {"{\"age\":{\"max\":17}}", "{\"age\":{\"min\":3,\"max\":12}}", true},
    {"{\"age\":{\"max\":17}}", "{\"age\":{\"min\":3,\"max\":18}}", false},
    {"{\"age\":{\"min\":0}}", "{\"minor\":true}", false},
    {"{\"nationality\":[\"NG\",\"RO\"]}", "{\"nationality\":[\"RO\"]}", true},
    {"{\"nationality\":[\"NG\"]}", "{\"nationality\":[\"RO\"]}", false},
    {"{\"nationality\":[\"NG\"]}", "{\"minor\":true}", false},
    {"{\"gender\":[\"female\",\"male\"]}", "{\"gender\":[\"male\"]}", true},
    {"{\"gender\":[\"female\"]}", "{}", false},
    {"{\"location_known\":true}", "{\"municipality\":[\"GM0001\"]}", true},
    {"{\"location_known\":true}", "{\"location_known\":false}", false},
    {"{\"location_known\":false}",
	"{\"location_known\":false,"
	"\"minor\":true}",
	true},
    {"{\"region\":[\"C\"]}", "{\"municipality\":[\"GM0004\"]}", true},
    {"{\"region\":[\"C\"]}", "{\"municipality\":[\"GM0001\"]}", false},
    {"{\"municipality\":[\"GM0003\",\"GM0004\"]}", "{\"region\":[\"C\"]}",
	true},
    {"{\"municipality\":[\"GM0001\",\"GM0002\",\"GM0003\",\"GM0004\"]}",
	"{\"location_known\":true}", true},
    {"{\"municipality\":[\"GM0003\"]}", "{\"location_known\":true}", false},
};

static void
test_shadowing(void **state)
{
	char rules[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tr_shadows) / sizeof(tr_shadows[0]); i++) {
		struct nrm_router *r = NULL;
		struct nrm_diag d;
		bool found;

		snprintf(rules, sizeof(rules),
		    "{\"rules\":[{\"id\":\"first\",\"when\":%s,\"then\":{"
		    "\"route\":\"national\",\"priority\":\"high\","
		    "\"take_within\":\"PT4H\",\"first_contact_within\":"
		    "\"P1D\"}},{\"id\":\"second\",\"when\":%s,\"then\":{"
		    "\"route\":\"location\",\"priority\":\"high\","
		    "\"take_within\":\"PT4H\",\"first_contact_within\":"
		    "\"P1D\"}},{\"id\":\"last\",\"then\":{\"route\":"
		    "\"location\",\"priority\":\"normal\",\"take_within\":"
		    "\"P1D\",\"first_contact_within\":\"P3D\"}}]}",
		    tr_shadows[i].first, tr_shadows[i].second);
		nrm_diag_init(&d);
		if (tr_load_small(&r, &d, rules) != NRM_OK) {
			char *t = nrm_diag_text(&d);

			fail_msg("case %zu refused:\n%s", i, t);
		}
		found = d.n > 0 &&
		    strstr(d.entries[0].text,
			"rules[1] (id second) is shadowed by rules[0] (id "
			"first)") != NULL;
		if (found != tr_shadows[i].shadowed)
			fail_msg("case %zu (%s then %s): shadowed %d, want %d",
			    i, tr_shadows[i].first, tr_shadows[i].second, found,
			    tr_shadows[i].shadowed);
		nrm_router_free(r);
		nrm_diag_free(&d);
	}
}

/*
 * A diag that already holds entries: the load adds its own, and the
 * router keeps only the warnings of its own load.
 */
static void
test_diag_shared(void **state)
{
	struct nrm_router *r = NULL;
	struct nrm_diag d;

	(void)state;
	nrm_diag_init(&d);
	nrm_diag_add(&d, NRM_DIAG_WARNING, "x", NULL, "earlier");
	assert_int_equal(tr_load_small(&r, &d, tr_rules), NRM_OK);
	assert_int_equal(nrm_router_n_warnings(r), 0);
	assert_int_equal(nrm_diag_warnings(&d), 1);
	nrm_router_free(r);
	nrm_diag_free(&d);
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_broken_base_is_valid),
    cmocka_unit_test(test_broken_configs),
    cmocka_unit_test(test_refused_reload_keeps_old),
    cmocka_unit_test(test_load_edges), cmocka_unit_test(test_durations),
    cmocka_unit_test(test_duration_format), cmocka_unit_test(test_diag),
    cmocka_unit_test(test_coverage), cmocka_unit_test(test_coverage_warnings),
    cmocka_unit_test(test_shadowing), cmocka_unit_test(test_diag_shared))
