/*
 * timefmt.h - RFC 3339 timestamps and calendar dates, without the C
 * library's time zone machinery (no TZ, no locale, no mktime).
 *
 * Accepted timestamp shape (RFC 3339 section 5.6, strictly):
 *   YYYY-MM-DD "T" HH:MM:SS [ "." 1*9DIGIT ] ( "Z" / ("+" / "-") HH:MM )
 * "t" and "z" are accepted in lower case as RFC 3339 allows.  Months,
 * days (leap years included), hours 00..23, minutes and seconds 00..59
 * and offsets up to +-23:59 are checked; a leap second (:60) is refused
 * because unix time cannot represent it; fractions are truncated to
 * whole seconds.  Years 0001..9999.
 *
 * Dates are proleptic Gregorian.  Pure: no I/O, no clock.
 */
#ifndef NRM_TIMEFMT_H
#define NRM_TIMEFMT_H

#include "nrm/nrm.h"

/* Buffer size for nrm_time_format(): "YYYY-MM-DDTHH:MM:SSZ" + NUL. */
#define NRM_TIME_TEXT_SIZE 21
/* Buffer size for nrm_date_format(): "YYYY-MM-DD" + NUL. */
#define NRM_DATE_TEXT_SIZE 11

/*
 * Parse an RFC 3339 timestamp in s[0..len).  On success stores the
 * instant as unix seconds in *t and, if offset is not NULL, the offset
 * from UTC it was written in (seconds east, "Z" = 0), and returns
 * NRM_OK; otherwise returns NRM_ERR and leaves the outputs untouched.
 */
int nrm_time_parse(
    const char *s, size_t len, int64_t *t, int *offset) NRM_MUSTCHECK;

/*
 * Write t as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into buf[bufsz].  Returns
 * NRM_ERR when bufsz < NRM_TIME_TEXT_SIZE or the year falls outside
 * 0001..9999.
 */
int nrm_time_format(int64_t t, char *buf, size_t bufsz) NRM_MUSTCHECK;

/*
 * Parse exactly "YYYY-MM-DD" (a valid calendar date, year 0001..9999)
 * in s[0..len).  NRM_ERR, outputs untouched, otherwise.
 */
int nrm_date_parse(
    const char *s, size_t len, int *year, int *month, int *day) NRM_MUSTCHECK;

/* Write "YYYY-MM-DD"; NRM_ERR when bufsz is too small or year > 9999. */
int nrm_date_format(
    int year, int month, int day, char *buf, size_t bufsz) NRM_MUSTCHECK;

/* True when year-month-day is a real date (year 1..9999). */
bool nrm_date_valid(int year, int month, int day);

/* Days since 1970-01-01 of a proleptic Gregorian date (may be < 0). */
int64_t nrm_days_from_civil(int year, int month, int day);

/* The date of day number `days` since 1970-01-01. */
void nrm_civil_from_days(int64_t days, int *year, int *month, int *day);

/*
 * Age in whole years on date (y, m, d) of someone born on (by, bm, bd):
 * the number of birthdays passed.  Someone born on 29 February has a
 * birthday on 1 March in common years.  Negative when born after the
 * date.
 */
int nrm_age_years(int by, int bm, int bd, int y, int m, int d);

#endif /* NRM_TIMEFMT_H */
