/*
 * hist.c - in-memory Prometheus histograms (see hist.h).
 */
#include "hist.h"

static const double hist_request[] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
static const double hist_queue[] = {
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

const struct nrm_buckets nrm_buckets_request = {
    hist_request, (int)NRM_ARRAY_LEN(hist_request)};
const struct nrm_buckets nrm_buckets_queue = {
    hist_queue, (int)NRM_ARRAY_LEN(hist_queue)};
const struct nrm_buckets nrm_buckets_wake = {
    hist_queue, (int)NRM_ARRAY_LEN(hist_queue)};

void
nrm_hist_observe(struct nrm_hist *h, const struct nrm_buckets *b, double v)
{
	int i = 0;

	if (v < 0)
		v = 0;
	while (i < b->n && v > b->le[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum += v;
}
