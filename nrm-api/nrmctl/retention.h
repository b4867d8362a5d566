/*
 * retention.h - nrmctl retention status: what the retention schedule
 * makes due, and when (issue 15, docs/data-protection.md "Retention").
 *
 * The schedule is the one nrmd's retention job last ran with (it records
 * it in care.retention_schedule at every run), so the status needs no
 * copy of nrmd's config.  Run as the owner.  Ids, counts and times only:
 * never a value of a case.
 */
#ifndef NRM_CTL_RETENTION_H
#define NRM_CTL_RETENTION_H

#include <stdio.h>

#include <libpq-fe.h>

#include "nrm/nrm.h"

/* Exit status when no retention run is recorded yet (nothing known). */
#define NRM_CTL_RETENTION_UNKNOWN 1

extern const char nrm_ctl_usage_retention[];

/*
 * Print the status to `out`: the schedule, the signals due now, the next
 * `next` (1..1000, text; NULL: 10) to come due, the erasures so far.
 * NRM_OK; NRM_CTL_RETENTION_UNKNOWN (after saying so) before nrmd's
 * first run; NRM_ERR with err set when it could not ask.
 */
int nrm_retention_status(PGconn *conn, const char *next, FILE *out,
    struct nrm_error *err) NRM_MUSTCHECK;

#endif /* NRM_CTL_RETENTION_H */
