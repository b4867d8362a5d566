/*
 * duration.c - ISO 8601 durations of fixed length (see duration.h).
 *
 * A small hand-written scanner: P, then either one week component or
 * the day part and the time part, each component a run of 1..9 digits
 * followed by its designator, designators in the order D, H, M, S.
 */
#include "nrm/duration.h"

#include <stdio.h>

#define DUR_DIGITS_MAX 9

/*
 * Read one component at s[*i]: digits then a designator.  On success
 * stores the number and the designator and advances *i.  Returns NRM_ERR
 * with *why set on anything else.
 */
static int
dur_component(const char *s, size_t len, size_t *i, int64_t *num,
    char *designator, const char **why)
{
	size_t start = *i;
	int64_t n = 0;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		if (*i - start == DUR_DIGITS_MAX) {
			*why = "number too long";
			return NRM_ERR;
		}
		n = n * 10 + (s[*i] - '0');
		(*i)++;
	}
	if (*i == start) {
		*why = "expected a number";
		return NRM_ERR;
	}
	if (*i < len && (s[*i] == '.' || s[*i] == ',')) {
		*why = "fractions are not supported; use a smaller unit";
		return NRM_ERR;
	}
	if (*i >= len) {
		*why = "number without a designator";
		return NRM_ERR;
	}
	*num = n;
	*designator = s[*i];
	(*i)++;
	return NRM_OK;
}

/*
 * The scan: `order` is the rank of the last designator read, so a
 * designator must rank higher than its predecessor (D < T < H < M < S).
 */
int
nrm_duration_parse(
    const char *s, size_t len, int64_t *seconds, const char **why)
{
	const char *dummy;
	int64_t total = 0, n;
	size_t i = 1;
	bool in_time = false, any = false, time_any = false;
	int order = 0;
	char d;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || len < 2 || s[0] != 'P') {
		*why = "not an ISO 8601 duration (expected P...)";
		return NRM_ERR;
	}
	while (i < len) {
		int rank;
		int64_t unit;

		if (s[i] == 'T') {
			if (in_time) {
				*why = "T appears twice";
				return NRM_ERR;
			}
			in_time = true;
			i++;
			continue;
		}
		if (dur_component(s, len, &i, &n, &d, why) != NRM_OK)
			return NRM_ERR;
		if (d == 'Y' || (d == 'M' && !in_time)) {
			*why = "months and years have no fixed length; use "
			       "days (P30D) or weeks (P4W)";
			return NRM_ERR;
		}
		if (d == 'W') {
			if (in_time || any || i != len) {
				*why = "weeks (PnW) cannot be combined with "
				       "other components";
				return NRM_ERR;
			}
			rank = 1;
			unit = 7 * 86400;
		} else if (d == 'D' && !in_time) {
			rank = 2;
			unit = 86400;
		} else if (d == 'H' && in_time) {
			rank = 3;
			unit = 3600;
		} else if (d == 'M' && in_time) {
			rank = 4;
			unit = 60;
		} else if (d == 'S' && in_time) {
			rank = 5;
			unit = 1;
		} else if (d == 'D' || d == 'W') {
			*why = "days and weeks go before T";
			return NRM_ERR;
		} else if (d == 'H' || d == 'S') {
			*why = "hours, minutes and seconds go after T";
			return NRM_ERR;
		} else {
			*why = "unknown designator (expected W, D, H, M or "
			       "S, upper case)";
			return NRM_ERR;
		}
		if (rank <= order) {
			*why = "components out of order or repeated";
			return NRM_ERR;
		}
		order = rank;
		any = true;
		time_any = time_any || in_time;
		/* n < 10^9 and unit <= 7 days: no overflow before the cap. */
		total += n * unit;
		if (total > NRM_DURATION_MAX) {
			*why = "longer than 366 days";
			return NRM_ERR;
		}
	}
	if (in_time && !time_any) {
		*why = "T must be followed by hours, minutes or seconds";
		return NRM_ERR;
	}
	if (!any) {
		*why = "no components";
		return NRM_ERR;
	}
	if (total == 0) {
		*why = "must be longer than zero";
		return NRM_ERR;
	}
	*seconds = total;
	return NRM_OK;
}

int
nrm_duration_format(int64_t seconds, char *buf, size_t bufsz)
{
	int64_t d, h, m, sec;
	size_t n;

	if (seconds < 0 || seconds > NRM_DURATION_MAX ||
	    bufsz < NRM_DURATION_TEXT_SIZE)
		return NRM_ERR;
	if (seconds == 0) {
		snprintf(buf, bufsz, "PT0S");
		return NRM_OK;
	}
	d = seconds / 86400;
	h = seconds % 86400 / 3600;
	m = seconds % 3600 / 60;
	sec = seconds % 60;
	n = (size_t)snprintf(buf, bufsz, "P");
	if (d > 0)
		n +=
		    (size_t)snprintf(buf + n, bufsz - n, "%lldD", (long long)d);
	if (h > 0 || m > 0 || sec > 0)
		n += (size_t)snprintf(buf + n, bufsz - n, "T");
	if (h > 0)
		n +=
		    (size_t)snprintf(buf + n, bufsz - n, "%lldH", (long long)h);
	if (m > 0)
		n +=
		    (size_t)snprintf(buf + n, bufsz - n, "%lldM", (long long)m);
	if (sec > 0)
		snprintf(buf + n, bufsz - n, "%lldS", (long long)sec);
	return NRM_OK;
}
