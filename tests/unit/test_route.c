/*
 * test_route.c - table-driven tests of the foundation router
 * (nrm-core/route.c) over the real config/municipalities.csv (tests run
 * from the repository root).
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

#include "route.h"

#define GEO_CSV_PATH "config/municipalities.csv"
#define H 3600

static struct nrm_geo *geo;
static struct nrm_router *router;

static int
setup(void **state)
{
	struct nrm_error err;
	FILE *f = fopen(GEO_CSV_PATH, "rb");
	char buf[65536];
	size_t n;

	(void)state;
	if (f == NULL) {
		print_error("could not open %s (run from the repo root)\n",
		    GEO_CSV_PATH);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (nrm_geo_parse_csv(&geo, buf, n, &err) != NRM_OK ||
	    nrm_router_new_foundation(&router, geo, &err) != NRM_OK) {
		print_error("%s: %s\n", err.field, err.detail);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nrm_router_free(router);
	nrm_geo_free(geo);
	return 0;
}

struct route_case {
	const char *name;
	const char *municipality;
	bool minor, danger, shelter;
	const char *region;
	enum nrm_priority prio;
	const char *rule_id;
	int64_t take, contact;
	const char *explanation;
};

static const struct route_case route_cases[] = {
    {"Amsterdam minor", "GM0363", true, false, false, "VR13", NRM_PRIO_URGENT,
	"foundation.municipality", 1 * H, 4 * H,
	"municipality GM0363 (Amsterdam) is in region VR13 "
	"(Amsterdam-Amstelland); priority urgent: subject is a minor"},
    {"Groningen adult, nothing urgent", "GM0014", false, false, false, "VR01",
	NRM_PRIO_NORMAL, "foundation.municipality", 24 * H, 72 * H,
	"municipality GM0014 (Groningen) is in region VR01 (Groningen); "
	"priority normal: no urgency indicated"},
    {"Leeuwarden needs shelter", "GM0080", false, false, true, "VR02",
	NRM_PRIO_HIGH, "foundation.municipality", 4 * H, 24 * H,
	"municipality GM0080 (Leeuwarden) is in region VR02 "
	"(Frysl\xC3\xA2n); priority high: needs shelter"},
    {"immediate danger beats shelter", "GM0599", false, true, true, "VR17",
	NRM_PRIO_URGENT, "foundation.municipality", 1 * H, 4 * H,
	"municipality GM0599 (Rotterdam) is in region VR17 "
	"(Rotterdam-Rijnmond); priority urgent: immediate danger"},
    {"danger and minor", "GM0820", true, true, false, "VR22", NRM_PRIO_URGENT,
	"foundation.municipality", 1 * H, 4 * H,
	"municipality GM0820 (Nuenen, Gerwen en Nederwetten) is in region "
	"VR22 (Brabant-Zuidoost); priority urgent: immediate danger and "
	"subject is a minor"},
    {"minor beats shelter", "GM0344", true, false, true, "VR09",
	NRM_PRIO_URGENT, "foundation.municipality", 1 * H, 4 * H, NULL},
    {"location unknown", "", false, false, false, NRM_REGION_NATIONAL,
	NRM_PRIO_NORMAL, "foundation.national", 24 * H, 72 * H,
	"location unknown: national desk; priority normal: no urgency "
	"indicated"},
    {"location unknown, minor", "", true, false, false, NRM_REGION_NATIONAL,
	NRM_PRIO_URGENT, "foundation.national", 1 * H, 4 * H,
	"location unknown: national desk; priority urgent: subject is a "
	"minor"},
    {"municipality not in the map", "GM9999", false, false, true,
	NRM_REGION_NATIONAL, NRM_PRIO_HIGH, "foundation.national", 4 * H,
	24 * H,
	"municipality GM9999 is not in the map: national desk; priority "
	"high: needs shelter"},
};

/* A parsed-looking signal; personal fields carry a marker. */
static void
make_signal(struct nrm_signal *s, const struct route_case *c)
{
	static char secret[] = "SECRET-NAME";

	memset(s, 0, sizeof(*s));
	snprintf(
	    s->municipality, sizeof(s->municipality), "%s", c->municipality);
	s->minor = c->minor;
	s->immediate_danger = c->danger;
	s->needs_shelter = c->shelter;
	s->exploitation = NRM_EXPL_SEXUAL;
	s->subject.given_name = secret;
	s->subject.family_name = secret;
	s->narrative = secret;
	s->subject.age_estimate = -1;
	s->subject.minor_flag = -1;
}

static void
test_route_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++) {
		const struct route_case *c = &route_cases[i];
		struct nrm_signal s;
		struct nrm_decision d;

		make_signal(&s, c);
		memset(&d, 0x5A, sizeof(d));
		nrm_route(router, &s, &d);
		if (strcmp(d.region, c->region) != 0)
			fail_msg("%s: region %s", c->name, d.region);
		if (d.priority != c->prio)
			fail_msg("%s: priority %s", c->name,
			    nrm_priority_name(d.priority));
		if (strcmp(d.rule_id, c->rule_id) != 0)
			fail_msg("%s: rule %s", c->name, d.rule_id);
		assert_string_equal(d.ruleset_version, "foundation-1");
		if (d.take_within != c->take ||
		    d.first_contact_within != c->contact)
			fail_msg("%s: deadlines %lld/%lld", c->name,
			    (long long)d.take_within,
			    (long long)d.first_contact_within);
		if (c->explanation != NULL &&
		    strcmp(d.explanation, c->explanation) != 0)
			fail_msg(
			    "%s: explanation \"%s\"", c->name, d.explanation);
		if (strstr(d.explanation, "SECRET") != NULL)
			fail_msg("%s: personal data in explanation", c->name);
	}
}

/* The JSON carries exactly the documented keys, seconds as integers. */
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
	    "explanation",
	};
	struct nrm_signal s;
	struct nrm_decision d;
	cJSON *root, *m;
	char *json;
	size_t n = 0;

	(void)state;
	make_signal(&s, &route_cases[0]);
	nrm_route(router, &s, &d);
	json = nrm_decision_json(&d);
	assert_non_null(json);
	assert_string_equal(json,
	    "{\"region\":\"VR13\",\"priority\":\"urgent\","
	    "\"rule_id\":\"foundation.municipality\","
	    "\"ruleset_version\":\"foundation-1\",\"take_within\":3600,"
	    "\"first_contact_within\":14400,\"explanation\":\"municipality "
	    "GM0363 (Amsterdam) is in region VR13 (Amsterdam-Amstelland); "
	    "priority urgent: subject is a minor\"}");
	root = cJSON_Parse(json);
	assert_non_null(root);
	cJSON_ArrayForEach(m, root)
	{
		assert_string_equal(m->string, keys[n]);
		n++;
	}
	assert_int_equal(n, sizeof(keys) / sizeof(keys[0]));
	cJSON_Delete(root);
	free(json);
}

struct prio_name_case {
	int prio;
	const char *name;
};

static const struct prio_name_case prio_names[] = {
    {NRM_PRIO_URGENT, "urgent"},
    {NRM_PRIO_HIGH, "high"},
    {NRM_PRIO_NORMAL, "normal"},
    {3, NULL},
    {-1, NULL},
};

static void
test_priority_names(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(prio_names) / sizeof(prio_names[0]); i++) {
		const char *got =
		    nrm_priority_name((enum nrm_priority)prio_names[i].prio);

		if (prio_names[i].name == NULL)
			assert_null(got);
		else
			assert_string_equal(got, prio_names[i].name);
	}
}

/* Long reference names are cut at a character boundary. */
static void
test_long_names(void **state)
{
	char csv[4096], name[1200];
	struct nrm_geo *g = NULL;
	struct nrm_router *r = NULL;
	struct nrm_error err;
	struct nrm_signal s;
	struct nrm_decision d;
	struct route_case c = {
	    "long", "GM0001", false, false, false, NULL, 0, NULL, 0, 0, NULL};
	int i;

	(void)state;
	for (i = 0; i < 599; i++)
		memcpy(name + 2 * i, "\xC3\xA2", 2);
	name[1198] = '\0';
	snprintf(csv, sizeof(csv),
	    "municipality_code,municipality_name,safety_region_code,"
	    "safety_region_name\nGM0001,%s,R1,%s\n",
	    name, name);
	assert_int_equal(nrm_geo_parse_csv(&g, csv, strlen(csv), &err), NRM_OK);
	assert_int_equal(nrm_router_new_foundation(&r, g, &err), NRM_OK);
	make_signal(&s, &c);
	nrm_route(r, &s, &d);
	assert_string_equal(d.region, "R1");
	assert_true(strlen(d.explanation) < sizeof(d.explanation));
	assert_non_null(strstr(d.explanation,
	    "; priority normal: no urgency "
	    "indicated"));
	/* No broken sequence: every lead byte C3 is followed by A2. */
	for (i = 0; d.explanation[i] != '\0'; i++) {
		if ((unsigned char)d.explanation[i] == 0xC3)
			assert_int_equal(
			    (unsigned char)d.explanation[i + 1], 0xA2);
	}
	nrm_router_free(r);
	nrm_geo_free(g);
	assert_int_equal(nrm_router_new_foundation(&r, NULL, &err), NRM_ERR);
	assert_null(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_route_table),
	    cmocka_unit_test(test_decision_json),
	    cmocka_unit_test(test_priority_names),
	    cmocka_unit_test(test_long_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
