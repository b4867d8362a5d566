/*
 * test_statvocab.c - table-driven tests of the statistics vocabulary
 * (nrm-core/statvocab.c): names, allowed breakdowns, the `by` list and
 * the period parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "nrm/statvocab.h"
#include "unit.h"

/* The brief's names, each exactly once, with its kind. */
static const struct {
	const char *name;
	enum nrm_stat_kind kind;
	bool auditor;
} measure_names[] = {
    {"signals", NRM_STAT_COUNT, false},
    {"anonymous_notifications", NRM_STAT_COUNT, false},
    {"cases", NRM_STAT_COUNT, false},
    {"cases_taken_in_time", NRM_STAT_COUNT, false},
    {"time_to_take", NRM_STAT_DURATION, false},
    {"escalations", NRM_STAT_COUNT, false},
    {"first_contact_escalations", NRM_STAT_COUNT, false},
    {"transfers", NRM_STAT_COUNT, false},
    {"closures", NRM_STAT_COUNT, false},
    {"identification_decisions", NRM_STAT_COUNT, false},
    {"time_initial_to_conclusive", NRM_STAT_DURATION, false},
    {"repeat_signals", NRM_STAT_COUNT, false},
    {"notifications_became_case", NRM_STAT_COUNT, false},
    {"emergency_reads", NRM_STAT_COUNT, true},
    {"panel_decisions", NRM_STAT_COUNT, false},
    {"time_to_panel_decision", NRM_STAT_DURATION, false},
};

static void
test_measures(void **state)
{
	(void)state;
	assert_int_equal(nrm_stat_measure_count, NRM_ARRAY_LEN(measure_names));
	for (size_t i = 0; i < NRM_ARRAY_LEN(measure_names); i++) {
		const struct nrm_stat_measure *m =
		    nrm_stat_measure_find(measure_names[i].name);

		if (m == NULL)
			fail_msg("%s: not found", measure_names[i].name);
		assert_ptr_equal(m, &nrm_stat_measures[i]);
		assert_int_equal(m->kind, measure_names[i].kind);
		assert_int_equal(m->auditor, measure_names[i].auditor);
		assert_true(m->dims != 0);
	}
	assert_null(nrm_stat_measure_find("Signals"));
	assert_null(nrm_stat_measure_find("signals "));
	assert_null(nrm_stat_measure_find(""));
	assert_null(nrm_stat_measure_find(NULL));
}

static void
test_dims(void **state)
{
	static const char *const names[] = {"region", "exploitation",
	    "reporter_kind", "minor", "age_band", "gender", "nationality_group",
	    "priority", "outcome", "reason", "stage", "verdict",
	    "investigation", "model", "dissent"};

	(void)state;
	assert_int_equal(NRM_ARRAY_LEN(names), NRM_STAT_DIM__COUNT);
	for (size_t i = 0; i < NRM_ARRAY_LEN(names); i++)
		assert_int_equal(nrm_stat_dim_find(names[i]), (int)i);
	assert_int_equal(nrm_stat_dim_find("regions"), -1);
	assert_int_equal(nrm_stat_dim_find("Region"), -1);
	assert_int_equal(nrm_stat_dim_find(""), -1);
	assert_int_equal(nrm_stat_dim_find(NULL), -1);
}

struct allow_case {
	const char *measure;
	const char *dim;
	bool allowed;
};

static const struct allow_case allow_cases[] = {
    {"signals", "region", true},
    {"signals", "reporter_kind", true},
    {"signals", "priority", false},
    {"anonymous_notifications", "minor", false},
    {"anonymous_notifications", "gender", true},
    {"cases", "priority", true},
    {"cases", "outcome", false},
    {"cases_taken_in_time", "priority", true},
    {"time_to_take", "region", true},
    {"time_to_take", "gender", false},
    {"escalations", "region", true},
    {"transfers", "reason", false},
    {"closures", "reason", true},
    {"closures", "stage", false},
    {"identification_decisions", "stage", true},
    {"identification_decisions", "outcome", true},
    {"identification_decisions", "reporter_kind", false},
    {"time_initial_to_conclusive", "outcome", true},
    {"time_initial_to_conclusive", "stage", false},
    {"repeat_signals", "minor", true},
    {"notifications_became_case", "minor", false},
    {"notifications_became_case", "reporter_kind", true},
    {"notifications_became_case", "priority", false},
    {"repeat_signals", "gender", false},
    {"emergency_reads", "verdict", true},
    {"identification_decisions", "investigation", true},
    {"time_initial_to_conclusive", "investigation", false},
    {"signals", "investigation", false},
    {"emergency_reads", "investigation", false},
    {"emergency_reads", "region", true},
    {"emergency_reads", "gender", false},
    {"signals", "verdict", false},
    {"panel_decisions", "dissent", true},
    {"panel_decisions", "model", true},
    {"panel_decisions", "stage", false},
    {"time_to_panel_decision", "model", true},
    {"time_to_panel_decision", "dissent", false},
    {"identification_decisions", "dissent", false},
    {"signals", "model", false},
};

static void
test_allows(void **state)
{
	(void)state;
	UNIT_EACH (struct allow_case, c, allow_cases) {
		const struct nrm_stat_measure *m =
		    nrm_stat_measure_find(c->measure);

		assert_non_null(m);
		if (nrm_stat_measure_allows(m, nrm_stat_dim_find(c->dim)) !=
		    c->allowed)
			fail_msg("%s by %s: want %s", c->measure, c->dim,
			    c->allowed ? "allowed" : "refused");
	}
	/* Only the reason-bearing measure has reason, and so on. */
	for (size_t i = 0; i < nrm_stat_measure_count; i++) {
		const struct nrm_stat_measure *m = &nrm_stat_measures[i];

		assert_false(nrm_stat_measure_allows(m, -1));
		assert_false(nrm_stat_measure_allows(m, NRM_STAT_DIM__COUNT));
		assert_int_equal(
		    nrm_stat_measure_allows(m, NRM_STAT_DIM_VERDICT),
		    strcmp(m->name, "emergency_reads") == 0);
	}
	assert_false(nrm_stat_measure_allows(NULL, 0));
}

struct by_case {
	const char *name;
	const char *measure;
	const char *text;
	int rc;
	int n;
	int dims[NRM_STAT_BY_MAX];
	const char *detail;
};

static const struct by_case by_cases[] = {
    {"absent", "signals", NULL, NRM_OK, 0, {0, 0}, NULL},
    {"empty", "signals", "", NRM_OK, 0, {0, 0}, NULL},
    {"one", "signals", "region", NRM_OK, 1, {NRM_STAT_DIM_REGION, 0}, NULL},
    {"two in order", "closures", "reason,region", NRM_OK, 2,
	{NRM_STAT_DIM_REASON, NRM_STAT_DIM_REGION}, NULL},
    {"three", "signals", "region,gender,minor", NRM_ERR, 0, {0, 0}, "at most"},
    {"twice", "signals", "region,region", NRM_ERR, 0, {0, 0}, "twice"},
    {"unknown", "signals", "colour", NRM_ERR, 0, {0, 0}, "unknown"},
    {"not allowed", "signals", "priority", NRM_ERR, 0, {0, 0}, "not available"},
    {"trailing comma", "signals", "region,", NRM_ERR, 0, {0, 0}, NULL},
    {"leading comma", "signals", ",region", NRM_ERR, 0, {0, 0}, NULL},
    {"space", "signals", "region, gender", NRM_ERR, 0, {0, 0}, "unknown"},
    {"very long", "signals", "regionregionregionregionregionregionregion",
	NRM_ERR, 0, {0, 0}, NULL},
};

static void
test_by(void **state)
{
	(void)state;
	UNIT_EACH (struct by_case, c, by_cases) {
		struct nrm_error err;
		int dims[NRM_STAT_BY_MAX] = {-1, -1};
		int n = -1;
		int rc;

		nrm_error_clear(&err);
		rc = nrm_stat_by_parse(
		    nrm_stat_measure_find(c->measure), c->text, dims, &n, &err);
		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d", c->name, rc, c->rc);
		if (rc == NRM_ERR) {
			unit_expect_error(
			    c->name, &err, NRM_E_BAD_REQUEST, "by", c->detail);
			continue;
		}
		assert_int_equal(n, c->n);
		for (int i = 0; i < n; i++)
			assert_int_equal(dims[i], c->dims[i]);
	}
}

struct period_case {
	const char *text;
	int rc;
	enum nrm_stat_period_kind kind;
	int year;
	int number;
};

static const struct period_case period_cases[] = {
    {"2026-Q4", NRM_OK, NRM_STAT_PERIOD_QUARTER, 2026, 4},
    {"2026-Q1", NRM_OK, NRM_STAT_PERIOD_QUARTER, 2026, 1},
    {"2026-11", NRM_OK, NRM_STAT_PERIOD_MONTH, 2026, 11},
    {"2026-01", NRM_OK, NRM_STAT_PERIOD_MONTH, 2026, 1},
    {"2026-12", NRM_OK, NRM_STAT_PERIOD_MONTH, 2026, 12},
    {"2026", NRM_OK, NRM_STAT_PERIOD_YEAR, 2026, 0},
    {"2000", NRM_OK, NRM_STAT_PERIOD_YEAR, 2000, 0},
    {"9999-Q4", NRM_OK, NRM_STAT_PERIOD_QUARTER, 9999, 4},
    {"2026-13", NRM_ERR, 0, 0, 0},
    {"2026-00", NRM_ERR, 0, 0, 0},
    {"2026-Q5", NRM_ERR, 0, 0, 0},
    {"2026-Q0", NRM_ERR, 0, 0, 0},
    {"2026-q4", NRM_ERR, 0, 0, 0},
    {" 2026", NRM_ERR, 0, 0, 0},
    {"2026 ", NRM_ERR, 0, 0, 0},
    {"2026-1", NRM_ERR, 0, 0, 0},
    {"2026-011", NRM_ERR, 0, 0, 0},
    {"1999", NRM_ERR, 0, 0, 0},
    {"0999", NRM_ERR, 0, 0, 0},
    {"10000", NRM_ERR, 0, 0, 0},
    {"2026-11-01", NRM_ERR, 0, 0, 0},
    {"2026-11/2026-12", NRM_ERR, 0, 0, 0},
    {"2026-W48", NRM_ERR, 0, 0, 0},
    {"2026/11", NRM_ERR, 0, 0, 0},
    {"+202", NRM_ERR, 0, 0, 0},
    {"2026-+1", NRM_ERR, 0, 0, 0},
    {"", NRM_ERR, 0, 0, 0},
};

static void
test_period(void **state)
{
	(void)state;
	UNIT_EACH (struct period_case, c, period_cases) {
		struct nrm_stat_period p = {NRM_STAT_PERIOD_MONTH, -7, -7};
		char buf[16];
		int rc = nrm_stat_period_parse(c->text, &p);

		if (rc != c->rc)
			fail_msg("\"%s\": rc %d, want %d", c->text, rc, c->rc);
		if (rc == NRM_ERR) {
			/* Untouched on failure. */
			assert_int_equal(p.year, -7);
			continue;
		}
		if (p.kind != c->kind || p.year != c->year ||
		    p.number != c->number)
			fail_msg("\"%s\": %d %d %d", c->text, p.kind, p.year,
			    p.number);
		/* The canonical text is the text parsed. */
		assert_int_equal(
		    nrm_stat_period_format(&p, buf, sizeof(buf)), NRM_OK);
		assert_string_equal(buf, c->text);
	}
	assert_int_equal(
	    nrm_stat_period_parse(
		NULL, &(struct nrm_stat_period){NRM_STAT_PERIOD_YEAR, 0, 0}),
	    NRM_ERR);
}

static void
test_period_format(void **state)
{
	struct nrm_stat_period p = {NRM_STAT_PERIOD_QUARTER, 2026, 4};
	char small[7];
	char buf[16];

	(void)state;
	assert_int_equal(
	    nrm_stat_period_format(&p, small, sizeof(small)), NRM_ERR);
	p.number = 5;
	assert_int_equal(nrm_stat_period_format(&p, buf, sizeof(buf)), NRM_ERR);
	p = (struct nrm_stat_period){NRM_STAT_PERIOD_MONTH, 2026, 13};
	assert_int_equal(nrm_stat_period_format(&p, buf, sizeof(buf)), NRM_ERR);
	p = (struct nrm_stat_period){NRM_STAT_PERIOD_YEAR, 1999, 0};
	assert_int_equal(nrm_stat_period_format(&p, buf, sizeof(buf)), NRM_ERR);
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_measures),
    cmocka_unit_test(test_dims), cmocka_unit_test(test_allows),
    cmocka_unit_test(test_by), cmocka_unit_test(test_period),
    cmocka_unit_test(test_period_format))
