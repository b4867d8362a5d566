/*
 * hist.h - Prometheus histograms kept in memory: fixed upper bounds per
 * family (the buckets docs/operations.md lists), a count per bucket, the
 * count and the sum.  Single-threaded (the loop's); no allocation.
 * metrics.c writes them out (cumulative, with +Inf, _sum and _count).
 */
#ifndef NRM_HIST_H
#define NRM_HIST_H

#include "nrm/nrm.h"

#define NRM_HIST_MAX 16 /* bounds per family, +Inf not counted */

/* A family's upper bounds in seconds, ascending. */
struct nrm_buckets {
	const double *le;
	int n; /* at most NRM_HIST_MAX */
};

struct nrm_hist {
	uint64_t bucket[NRM_HIST_MAX + 1]; /* per bucket, [n] is +Inf */
	uint64_t count;
	double sum;
};

/* Request durations: 5 ms .. 60 s (long-polls wait up to 60 s). */
extern const struct nrm_buckets nrm_buckets_request;
/* Time a query waited for a pool connection: 1 ms .. 5 s. */
extern const struct nrm_buckets nrm_buckets_queue;
/* NOTIFY to long-poll answer: 1 ms .. 5 s. */
extern const struct nrm_buckets nrm_buckets_wake;

/* Count one observation of v seconds. */
void nrm_hist_observe(
    struct nrm_hist *h, const struct nrm_buckets *b, double v);

#endif /* NRM_HIST_H */
