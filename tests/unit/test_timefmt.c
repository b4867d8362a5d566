/*
 * test_timefmt.c - table-driven tests of RFC 3339 parsing and
 * formatting, calendar dates and ages (nrm-core/timefmt.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "nrm/timefmt.h"
#include "unit.h"

struct parse_case {
	const char *name;
	const char *text;
	int rc;
	int64_t t; /* expected unix seconds when rc == NRM_OK */
	int offset; /* expected offset, seconds east */
};

static const struct parse_case parse_cases[] = {
    {"offset +01:00", "2026-11-28T22:15:00+01:00", NRM_OK, 1795900500, 3600},
    {"same instant in Z", "2026-11-28T21:15:00Z", NRM_OK, 1795900500, 0},
    {"lower-case t and z", "2026-11-28t21:15:00z", NRM_OK, 1795900500, 0},
    {"fraction truncated", "2026-11-28T21:15:00.999999999Z", NRM_OK, 1795900500,
	0},
    {"negative half-hour offset", "2000-02-29T12:00:00-05:30", NRM_OK,
	951845400, -19800},
    {"epoch", "1970-01-01T00:00:00Z", NRM_OK, 0, 0},
    {"leap day 2024", "2024-02-29T23:59:59+00:00", NRM_OK, 1709251199, 0},
    {"-00:00 offset", "1970-01-01T00:00:00-00:00", NRM_OK, 0, 0},
    {"new year across offset", "2026-01-01T00:30:00+01:00", NRM_OK, 1767223800,
	3600},
    {"max year", "9999-12-31T23:59:59Z", NRM_OK, 253402300799LL, 0},
    {"year one", "0001-01-01T00:00:00Z", NRM_OK, -62135596800LL, 0},
    {"2023-02-29 not a leap year", "2023-02-29T00:00:00Z", NRM_ERR, 0, 0},
    {"1900-02-29 century not leap", "1900-02-29T00:00:00Z", NRM_ERR, 0, 0},
    {"month 13", "2026-13-01T00:00:00Z", NRM_ERR, 0, 0},
    {"month 00", "2026-00-01T00:00:00Z", NRM_ERR, 0, 0},
    {"day 00", "2026-01-00T00:00:00Z", NRM_ERR, 0, 0},
    {"april 31", "2026-04-31T00:00:00Z", NRM_ERR, 0, 0},
    {"year 0000", "0000-01-01T00:00:00Z", NRM_ERR, 0, 0},
    {"hour 24", "2026-01-01T24:00:00Z", NRM_ERR, 0, 0},
    {"minute 60", "2026-01-01T23:60:00Z", NRM_ERR, 0, 0},
    {"leap second refused", "2016-12-31T23:59:60Z", NRM_ERR, 0, 0},
    {"no offset", "2026-11-28T22:15:00", NRM_ERR, 0, 0},
    {"space separator", "2026-11-28 22:15:00Z", NRM_ERR, 0, 0},
    {"offset hour 24", "2026-11-28T22:15:00+24:00", NRM_ERR, 0, 0},
    {"offset minute 60", "2026-11-28T22:15:00+01:60", NRM_ERR, 0, 0},
    {"offset without colon", "2026-11-28T22:15:00+0100", NRM_ERR, 0, 0},
    {"offset too short", "2026-11-28T22:15:00+01", NRM_ERR, 0, 0},
    {"trailing text", "2026-11-28T22:15:00Zx", NRM_ERR, 0, 0},
    {"empty fraction", "2026-11-28T22:15:00.Z", NRM_ERR, 0, 0},
    {"ten-digit fraction", "2026-11-28T22:15:00.1234567890Z", NRM_ERR, 0, 0},
    {"short year", "226-11-28T22:15:00Z", NRM_ERR, 0, 0},
    {"signed year", "+2026-11-28T22:15:00Z", NRM_ERR, 0, 0},
    {"date only", "2026-11-28", NRM_ERR, 0, 0},
    {"word", "yesterday", NRM_ERR, 0, 0},
    {"empty", "", NRM_ERR, 0, 0},
    {"digits with sign inside", "2026-1+-28T22:15:00Z", NRM_ERR, 0, 0},
};

static void
test_parse(void **state)
{
	(void)state;
	UNIT_EACH (struct parse_case, c, parse_cases) {
		int64_t t = 12345;
		int off = 777;
		int rc = nrm_time_parse(c->text, strlen(c->text), &t, &off);

		if (rc != c->rc)
			fail_msg("%s: rc=%d, want %d", c->name, rc, c->rc);
		if (rc == NRM_OK && (t != c->t || off != c->offset))
			fail_msg("%s: t=%lld off=%d, want %lld %d", c->name,
			    (long long)t, off, (long long)c->t, c->offset);
		if (rc != NRM_OK && (t != 12345 || off != 777))
			fail_msg("%s: outputs touched on error", c->name);
	}
}

struct format_case {
	const char *name;
	int64_t t;
	int rc;
	const char *text;
};

static const struct format_case format_cases[] = {
    {"epoch", 0, NRM_OK, "1970-01-01T00:00:00Z"},
    {"one second before epoch", -1, NRM_OK, "1969-12-31T23:59:59Z"},
    {"example", 1795900500, NRM_OK, "2026-11-28T21:15:00Z"},
    {"leap day", 951782400, NRM_OK, "2000-02-29T00:00:00Z"},
    {"last second of 9999", 253402300799LL, NRM_OK, "9999-12-31T23:59:59Z"},
    {"first second of year one", -62135596800LL, NRM_OK,
	"0001-01-01T00:00:00Z"},
    {"year 10000", 253402300800LL, NRM_ERR, NULL},
    {"before year one", -62135596801LL, NRM_ERR, NULL},
    {"huge", INT64_MAX, NRM_ERR, NULL},
    {"hugely negative", INT64_MIN, NRM_ERR, NULL},
};

static void
test_format(void **state)
{
	char buf[NRM_TIME_TEXT_SIZE];

	(void)state;
	UNIT_EACH (struct format_case, c, format_cases) {
		int rc = nrm_time_format(c->t, buf, sizeof(buf));

		if (rc != c->rc)
			fail_msg("%s: rc=%d, want %d", c->name, rc, c->rc);
		if (rc == NRM_OK && strcmp(buf, c->text) != 0)
			fail_msg("%s: %s, want %s", c->name, buf, c->text);
	}
	/* A buffer one byte short is refused. */
	assert_int_equal(nrm_time_format(0, buf, sizeof(buf) - 1), NRM_ERR);
}

/* format then parse gives the same instant, across a wide range. */
static void
test_round_trip(void **state)
{
	char buf[NRM_TIME_TEXT_SIZE];
	int64_t t, back;
	int off;

	(void)state;
	for (t = -62135596800LL; t <= 253402300799LL; t += 86399 * 367 + 7) {
		assert_int_equal(nrm_time_format(t, buf, sizeof(buf)), NRM_OK);
		assert_int_equal(
		    nrm_time_parse(buf, strlen(buf), &back, &off), NRM_OK);
		if (back != t)
			fail_msg("round trip of %lld gave %lld (%s)",
			    (long long)t, (long long)back, buf);
	}
}

struct date_case {
	const char *name;
	const char *text;
	int rc;
	int y, m, d;
};

static const struct date_case date_cases[] = {
    {"plain", "2009-04-01", NRM_OK, 2009, 4, 1},
    {"leap day 2000", "2000-02-29", NRM_OK, 2000, 2, 29},
    {"leap day 2024", "2024-02-29", NRM_OK, 2024, 2, 29},
    {"2023-02-29", "2023-02-29", NRM_ERR, 0, 0, 0},
    {"2100-02-29", "2100-02-29", NRM_ERR, 0, 0, 0},
    {"month 13", "2009-13-01", NRM_ERR, 0, 0, 0},
    {"june 31", "2009-06-31", NRM_ERR, 0, 0, 0},
    {"day 0", "2009-06-00", NRM_ERR, 0, 0, 0},
    {"single-digit month", "2009-4-01", NRM_ERR, 0, 0, 0},
    {"with time", "2009-04-01T00:00:00Z", NRM_ERR, 0, 0, 0},
    {"slashes", "2009/04/01", NRM_ERR, 0, 0, 0},
    {"word", "yesterday", NRM_ERR, 0, 0, 0},
    {"empty", "", NRM_ERR, 0, 0, 0},
};

static void
test_date(void **state)
{
	char buf[NRM_DATE_TEXT_SIZE];

	(void)state;
	UNIT_EACH (struct date_case, c, date_cases) {
		int y = -1, m = -1, d = -1;
		int rc = nrm_date_parse(c->text, strlen(c->text), &y, &m, &d);

		if (rc != c->rc)
			fail_msg("%s: rc=%d, want %d", c->name, rc, c->rc);
		if (rc != NRM_OK)
			continue;
		if (y != c->y || m != c->m || d != c->d)
			fail_msg("%s: %d-%d-%d", c->name, y, m, d);
		assert_int_equal(
		    nrm_date_format(y, m, d, buf, sizeof(buf)), NRM_OK);
		assert_string_equal(buf, c->text);
	}
	assert_int_equal(
	    nrm_date_format(2023, 2, 29, buf, sizeof(buf)), NRM_ERR);
}

struct days_case {
	int y, m, d;
	int64_t days;
};

static const struct days_case days_cases[] = {
    {1970, 1, 1, 0},
    {1969, 12, 31, -1},
    {2000, 3, 1, 11017},
    {2026, 11, 28, 20785},
    {1900, 1, 1, -25567},
    {1, 1, 1, -719162},
};

static void
test_days(void **state)
{
	(void)state;
	UNIT_EACH (struct days_case, c, days_cases) {
		int y, m, d;

		assert_int_equal(
		    nrm_days_from_civil(c->y, c->m, c->d), c->days);
		nrm_civil_from_days(c->days, &y, &m, &d);
		assert_int_equal(y, c->y);
		assert_int_equal(m, c->m);
		assert_int_equal(d, c->d);
	}
}

struct age_case {
	const char *name;
	int by, bm, bd, y, m, d;
	int age;
};

static const struct age_case age_cases[] = {
    {"day before 18th birthday", 2008, 11, 29, 2026, 11, 28, 17},
    {"on 18th birthday", 2008, 11, 28, 2026, 11, 28, 18},
    {"day after 18th birthday", 2008, 11, 27, 2026, 11, 28, 18},
    {"earlier month", 2009, 4, 1, 2026, 3, 31, 16},
    {"later month", 2009, 4, 1, 2026, 5, 1, 17},
    {"born 29 Feb, 28 Feb of common year", 2008, 2, 29, 2026, 2, 28, 17},
    {"born 29 Feb, 1 Mar of common year", 2008, 2, 29, 2026, 3, 1, 18},
    {"born 29 Feb, 29 Feb of leap year", 2008, 2, 29, 2028, 2, 29, 20},
    {"newborn", 2026, 11, 28, 2026, 11, 28, 0},
    {"born after the date", 2026, 11, 29, 2026, 11, 28, -1},
};

static void
test_age(void **state)
{
	(void)state;
	UNIT_EACH (struct age_case, c, age_cases) {
		int got = nrm_age_years(c->by, c->bm, c->bd, c->y, c->m, c->d);

		if (got != c->age)
			fail_msg("%s: age=%d, want %d", c->name, got, c->age);
	}
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_parse),
    cmocka_unit_test(test_format), cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_date), cmocka_unit_test(test_days),
    cmocka_unit_test(test_age))
