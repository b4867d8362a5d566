/*
 * coverage.h - the live coverage nrmd keeps in memory (issue 20): the
 * regions the database reports uncovered (no active coordinator, or none
 * who acted within coverage_silent_after) and unstaffed (no coordinator
 * key or person at all), and per region the counts of cases past their
 * take and first-contact deadlines (/metrics' nrm_cases_overdue), refreshed by the coverage job (jobs.c) every
 * coverage_refresh seconds and at once after a reload.
 *
 * Contract: plain data on the loop's thread; intake reads it without a
 * database round trip, so what it says is at most coverage_refresh
 * seconds (plus one query) old.  Until the first refresh it is unknown
 * and no region counts as uncovered.  Codes only, never a person.
 */
#ifndef NRM_COVERAGE_H
#define NRM_COVERAGE_H

#include "nrm/nrm.h"

#define NRM_COVERAGE_MAX 128 /* regions of ref.region, at most */
#define NRM_COVERAGE_CODE 16 /* a region code and its NUL */

struct nrm_coverage {
	bool known; /* a refresh has succeeded */
	bool warn; /* log the unstaffed offices at the next refresh */
	int64_t refreshed_at; /* unix seconds of the last refresh */
	int n_uncovered;
	int n_unstaffed;
	char uncovered[NRM_COVERAGE_MAX][NRM_COVERAGE_CODE];
	char unstaffed[NRM_COVERAGE_MAX][NRM_COVERAGE_CODE];
	int n_overdue; /* regions in overdue; 0 if the answer had none */
	struct nrm_coverage_overdue {
		char region[NRM_COVERAGE_CODE];
		int take; /* open cases past their take deadline */
		int first_contact; /* past their first-contact deadline */
	} overdue[NRM_COVERAGE_MAX];
};

/*
 * Take api.coverage_uncovered's answer, {"uncovered": [codes],
 * "unstaffed": [codes], "overdue": [{"region": code, "take": n,
 * "first_contact": n}]}, as the state at `now` ("overdue" may be absent:
 * then no region's counts are known).  *changed says whether the
 * unstaffed list differs from the one before.  NRM_ERR, and the state
 * unchanged, when the text is not that shape.
 */
int nrm_coverage_take(struct nrm_coverage *c, const char *json, int64_t now,
    bool *changed) NRM_MUSTCHECK;

/* Whether `region` was uncovered at the last refresh (false if unknown). */
bool nrm_coverage_uncovered(const struct nrm_coverage *c, const char *region);

#endif /* NRM_COVERAGE_H */
