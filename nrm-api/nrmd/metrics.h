/*
 * metrics.h - GET /metrics (the handler is declared in endpoints.h):
 * the Prometheus text of the counters, gauges and histograms the other
 * modules keep.  Each module owns its numbers and reports them through
 * its *_stats() function; this module only formats them.  Every family
 * is listed with its type and buckets in docs/operations.md, and a test
 * compares that list with what /metrics serves.
 */
#ifndef NRM_METRICS_H
#define NRM_METRICS_H

#include "nrm/nrm.h"

/* Note the process's start (process_start_time_seconds); call once. */
void nrm_metrics_started(void);

#endif /* NRM_METRICS_H */
