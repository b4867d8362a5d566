/*
 * test_coverage.c - the live coverage nrmd keeps (coverage.c, alone): an
 * answer of api.coverage_uncovered is taken whole or not at all, the
 * unstaffed list's change is reported, a region is uncovered only once
 * a refresh said so, the per-region overdue counts are taken or refused
 * with the rest.  The refresh job and the reroute are in
 * tests/e2e/test_overview.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include "coverage.h"

static void
test_take_and_ask(void **state)
{
	struct nrm_coverage c;
	bool changed = false;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_false(nrm_coverage_uncovered(&c, "VR02")); /* unknown */
	assert_int_equal(nrm_coverage_take(&c,
			     "{\"uncovered\": [\"VR02\", \"NATIONAL\"], "
			     "\"unstaffed\": [\"VR02\"]}",
			     100, &changed),
	    NRM_OK);
	assert_true(changed);
	assert_true(c.known);
	assert_int_equal(c.refreshed_at, 100);
	assert_true(nrm_coverage_uncovered(&c, "VR02"));
	assert_true(nrm_coverage_uncovered(&c, "NATIONAL"));
	assert_false(nrm_coverage_uncovered(&c, "VR13"));
	assert_false(nrm_coverage_uncovered(&c, "VR0"));
	/* the same unstaffed list: no change reported */
	assert_int_equal(nrm_coverage_take(&c,
			     "{\"uncovered\": [], \"unstaffed\": [\"VR02\"]}",
			     200, &changed),
	    NRM_OK);
	assert_false(changed);
	assert_false(nrm_coverage_uncovered(&c, "VR02"));
	assert_int_equal(
	    nrm_coverage_take(
		&c, "{\"uncovered\": [], \"unstaffed\": []}", 300, &changed),
	    NRM_OK);
	assert_true(changed);
}

static void
test_malformed_keeps_the_state(void **state)
{
	static const char *const bad[] = {
	    NULL,
	    "",
	    "[]",
	    "{\"uncovered\": [\"VR02\"]}",
	    "{\"uncovered\": \"VR02\", \"unstaffed\": []}",
	    "{\"uncovered\": [1], \"unstaffed\": []}",
	    "{\"uncovered\": [\"VR0123456789012345\"], \"unstaffed\": []}",
	};
	struct nrm_coverage c;
	bool changed;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(
	    nrm_coverage_take(&c,
		"{\"uncovered\": [\"VR05\"], \"unstaffed\": []}", 1, &changed),
	    NRM_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    nrm_coverage_take(&c, bad[i], 2, &changed), NRM_ERR);
		assert_true(nrm_coverage_uncovered(&c, "VR05"));
		assert_int_equal(c.refreshed_at, 1);
	}
}

static void
test_overdue(void **state)
{
	static const char *const bad[] = {
	    "{\"uncovered\": [], \"unstaffed\": [], \"overdue\": {}}",
	    "{\"uncovered\": [], \"unstaffed\": [], \"overdue\": "
	    "[{\"region\": \"VR13\", \"take\": 1}]}",
	    "{\"uncovered\": [], \"unstaffed\": [], \"overdue\": "
	    "[{\"region\": \"VR13\", \"take\": -1, "
	    "\"first_contact\": 0}]}",
	    "{\"uncovered\": [], \"unstaffed\": [], \"overdue\": "
	    "[{\"region\": \"VR13\", \"take\": 1.5, "
	    "\"first_contact\": 0}]}",
	    "{\"uncovered\": [], \"unstaffed\": [], \"overdue\": "
	    "[{\"region\": 13, \"take\": 1, \"first_contact\": 0}]}",
	    "{\"uncovered\": [], \"unstaffed\": [], \"overdue\": "
	    "[{\"take\": 1, \"first_contact\": 0}]}",
	};
	struct nrm_coverage c;
	bool changed;

	(void)state;
	memset(&c, 0, sizeof(c));
	/* absent: no region's counts known */
	assert_int_equal(
	    nrm_coverage_take(
		&c, "{\"uncovered\": [], \"unstaffed\": []}", 1, &changed),
	    NRM_OK);
	assert_int_equal(c.n_overdue, 0);
	assert_int_equal(nrm_coverage_take(&c,
			     "{\"uncovered\": [], \"unstaffed\": [], "
			     "\"overdue\": [{\"region\": \"VR01\", "
			     "\"take\": 0, \"first_contact\": 4}, "
			     "{\"region\": \"VR13\", \"take\": 2, "
			     "\"first_contact\": 0}]}",
			     2, &changed),
	    NRM_OK);
	assert_int_equal(c.n_overdue, 2);
	assert_string_equal(c.overdue[0].region, "VR01");
	assert_int_equal(c.overdue[0].take, 0);
	assert_int_equal(c.overdue[0].first_contact, 4);
	assert_string_equal(c.overdue[1].region, "VR13");
	assert_int_equal(c.overdue[1].take, 2);
	assert_int_equal(c.overdue[1].first_contact, 0);
	/* a malformed entry: the whole answer refused, the counts kept */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    nrm_coverage_take(&c, bad[i], 3, &changed), NRM_ERR);
		assert_int_equal(c.n_overdue, 2);
		assert_int_equal(c.overdue[1].take, 2);
		assert_int_equal(c.refreshed_at, 2);
	}
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_take_and_ask),
    cmocka_unit_test(test_malformed_keeps_the_state),
    cmocka_unit_test(test_overdue))
