/*
 * timefmt.c - RFC 3339 timestamps and calendar dates (see timefmt.h).
 *
 * The day arithmetic is Howard Hinnant's days_from_civil /
 * civil_from_days, exact for the whole proleptic Gregorian calendar.
 */
#include "nrm/timefmt.h"

#include <stdio.h>

static bool
tf_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
tf_days_in_month(int y, int m)
{
	static const int mdays[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && tf_leap(y))
		return 29;
	return mdays[m - 1];
}

/* Read exactly n ASCII digits at s into *v; false on any non-digit. */
static bool
tf_digits(const char *s, int n, int *v)
{
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

bool
nrm_date_valid(int year, int month, int day)
{
	if (year < 1 || year > 9999 || month < 1 || month > 12)
		return false;
	return day >= 1 && day <= tf_days_in_month(year, month);
}

int64_t
nrm_days_from_civil(int year, int month, int day)
{
	int64_t y = (int64_t)year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (month + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void
nrm_civil_from_days(int64_t days, int *year, int *month, int *day)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);

	*year = (int)y;
	*month = (int)m;
	*day = (int)d;
}

int
nrm_date_parse(const char *s, size_t len, int *year, int *month, int *day)
{
	int y, m, d;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return NRM_ERR;
	if (!tf_digits(s, 4, &y) || !tf_digits(s + 5, 2, &m) ||
	    !tf_digits(s + 8, 2, &d))
		return NRM_ERR;
	if (!nrm_date_valid(y, m, d))
		return NRM_ERR;
	*year = y;
	*month = m;
	*day = d;
	return NRM_OK;
}

int
nrm_date_format(int year, int month, int day, char *buf, size_t bufsz)
{
	if (bufsz < NRM_DATE_TEXT_SIZE || !nrm_date_valid(year, month, day))
		return NRM_ERR;
	snprintf(buf, bufsz, "%04d-%02d-%02d", year, month, day);
	return NRM_OK;
}

/*
 * Parse the fixed-width head "YYYY-MM-DDTHH:MM:SS" (19 bytes), then an
 * optional fraction, then the zone designator, which must end the text.
 */
int
nrm_time_parse(const char *s, size_t len, int64_t *t, int *offset)
{
	int y, mo, d, h, mi, sec, oh, om, off = 0;
	size_t i;

	if (len < 20)
		return NRM_ERR;
	if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return NRM_ERR;
	if (!tf_digits(s, 4, &y) || !tf_digits(s + 5, 2, &mo) ||
	    !tf_digits(s + 8, 2, &d) || !tf_digits(s + 11, 2, &h) ||
	    !tf_digits(s + 14, 2, &mi) || !tf_digits(s + 17, 2, &sec))
		return NRM_ERR;
	if (!nrm_date_valid(y, mo, d) || h > 23 || mi > 59 || sec > 59)
		return NRM_ERR;
	i = 19;
	if (s[i] == '.') {
		size_t start = ++i;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || i - start > 9)
			return NRM_ERR;
	}
	if (i >= len)
		return NRM_ERR;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		if (len - i != 6 || s[i + 3] != ':')
			return NRM_ERR;
		if (!tf_digits(s + i + 1, 2, &oh) ||
		    !tf_digits(s + i + 4, 2, &om))
			return NRM_ERR;
		if (oh > 23 || om > 59)
			return NRM_ERR;
		off = (oh * 60 + om) * 60;
		if (s[i] == '-')
			off = -off;
		i += 6;
	} else {
		return NRM_ERR;
	}
	if (i != len)
		return NRM_ERR;
	*t = nrm_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    off;
	if (offset != NULL)
		*offset = off;
	return NRM_OK;
}

int
nrm_time_format(int64_t t, char *buf, size_t bufsz)
{
	int64_t days, rem;
	int y, m, d;

	if (bufsz < NRM_TIME_TEXT_SIZE)
		return NRM_ERR;
	/* Bound t first so the arithmetic below cannot overflow. */
	if (t < -62135596800LL || t > 253402300799LL)
		return NRM_ERR;
	days = t / 86400;
	rem = t % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	nrm_civil_from_days(days, &y, &m, &d);
	snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
	    (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	return NRM_OK;
}

int
nrm_age_years(int by, int bm, int bd, int y, int m, int d)
{
	int age = y - by;

	if (m < bm || (m == bm && d < bd))
		age--;
	return age;
}
