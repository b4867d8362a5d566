/*
 * duration.h - ISO 8601 durations of fixed length, for routing deadlines.
 *
 * Accepted (upper-case designators, whole numbers only):
 *   PnW                      weeks, alone (ISO 8601 does not mix W)
 *   PnD, PTnH, PTnM, PTnS    and any ordered combination of them:
 *   P[nD][T[nH][nM][nS]]     at least one component; T needs one after it
 * Months and years are refused: they have no fixed length (a month is 28
 * to 31 days), so a deadline written with them would mean different
 * things on different dates.  Fractions ("PT0.5H") and negative or zero
 * totals are refused too.  A total above NRM_DURATION_MAX (366 days) is
 * refused: no routing deadline is that long, and the bound keeps every
 * sum far from overflow.  Pure: no I/O, no allocation.
 */
#ifndef NRM_DURATION_H
#define NRM_DURATION_H

#include "nrm/nrm.h"

#define NRM_DURATION_MAX (366LL * 86400)
/* Room for nrm_duration_format() of any accepted duration. */
#define NRM_DURATION_TEXT_SIZE 32

/*
 * Parse s[0..len) into whole seconds (*seconds).  On NRM_ERR *seconds is
 * untouched and *why (if not NULL) points at a static lowercase reason
 * ("months and years have no fixed length; use days (P30D) or weeks
 * (P4W)").
 */
int nrm_duration_parse(const char *s, size_t len, int64_t *seconds,
    const char **why) NRM_MUSTCHECK;

/*
 * Write seconds (0..NRM_DURATION_MAX) in the canonical day-time form:
 * "P1DT2H", "PT30M", "P14D", "PT0S".  Weeks come out as days.  Returns
 * NRM_ERR when out of range or bufsz < NRM_DURATION_TEXT_SIZE.
 */
int nrm_duration_format(int64_t seconds, char *buf, size_t bufsz) NRM_MUSTCHECK;

#endif /* NRM_DURATION_H */
