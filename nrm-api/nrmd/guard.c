/*
 * guard.c - address and key buckets, the rejected-token cache at the
 * request edge (see guard.h).
 */
#include "guard.h"
#include "flood.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nrm_guard {
	struct nrm_buckets *by_address;
	struct nrm_buckets *by_key;
	struct nrm_rejects *rejects;
	struct nrm_guard_stats st;
};

struct nrm_guard *
nrm_guard_new(void)
{
	struct nrm_guard *g = nrm_xcalloc(1, sizeof(*g));

	g->by_address = nrm_buckets_new();
	g->by_key = nrm_buckets_new();
	g->rejects = nrm_rejects_new();
	return g;
}

void
nrm_guard_free(struct nrm_guard *g)
{
	if (g == NULL)
		return;
	nrm_buckets_free(g->by_address);
	nrm_buckets_free(g->by_key);
	nrm_rejects_free(g->rejects);
	free(g);
}

/* 429 with Retry-After: the whole seconds until a token (at least 1). */
static void
guard_refuse(struct nrm_req *r, int64_t wait_ms, const char *what)
{
	char ra[24];

	snprintf(ra, sizeof(ra), "%lld", (long long)((wait_ms + 999) / 1000));
	nrm_req_add_header(r, "Retry-After", ra);
	nrm_req_fail(r, NRM_E_RATE_LIMITED, "",
	    "too many requests from this %s; retry after %s s", what, ra);
}

/*
 * Take a token from name's bucket in b at rate/burst: NRM_OK, or count
 * the refusal in *limited and answer 429 naming `what`.
 */
static int
guard_take(struct nrm_req *r, struct nrm_buckets *b, const void *name,
    size_t len, int rate, int burst, int64_t now, uint64_t *limited,
    const char *what)
{
	int64_t wait = nrm_buckets_take(b, name, len, (double)rate, burst, now);

	if (wait == 0)
		return NRM_OK;
	(*limited)++;
	guard_refuse(r, wait, what);
	return NRM_ERR;
}

int
nrm_guard_address(struct nrm_req *r)
{
	struct nrm_guard *g = r->app->guard;
	const struct nrm_config *c = &r->app->cfg;

	if (g == NULL)
		return NRM_OK;
	return guard_take(r, g->by_address, r->client_addr,
	    strlen(r->client_addr), c->rate_limit_address,
	    c->rate_burst_address, nrm_mono_ms(), &g->st.limited_address,
	    "address");
}

int
nrm_guard_token(struct nrm_req *r)
{
	struct nrm_guard *g = r->app->guard;
	const struct nrm_config *c = &r->app->cfg;
	int64_t now = nrm_mono_ms();

	if (g == NULL)
		return NRM_OK;
	if (nrm_rejects_hit(g->rejects, r->token_hash,
		(int64_t)c->reject_cache_ttl * 1000, now)) {
		g->st.rejects_cached++;
		nrm_req_fail(r, NRM_E_UNAUTHENTICATED, "",
		    "missing, unknown or revoked API token");
		return NRM_ERR;
	}
	return guard_take(r, g->by_key, r->token_hash, sizeof(r->token_hash),
	    c->rate_limit_key, c->rate_burst_key, now, &g->st.limited_key,
	    "key");
}

int
nrm_guard_longpoll(struct nrm_req *r, int by_key, int by_addr)
{
	struct nrm_guard *g = r->app->guard;
	const struct nrm_config *c = &r->app->cfg;
	bool key = by_key >= c->longpoll_max_per_key;

	if (!key && by_addr < c->longpoll_max_per_address)
		return NRM_OK;
	if (g != NULL) {
		if (key)
			g->st.longpoll_key++;
		else
			g->st.longpoll_address++;
	}
	nrm_info("long-poll refused req=%s by=%s waiting=%d", r->id,
	    key ? "key" : "address", key ? by_key : by_addr);
	guard_refuse(r, (int64_t)c->retry_after * 1000,
	    key ? "key's long-polls" : "address's long-polls");
	return NRM_ERR;
}

void
nrm_guard_rejected(struct nrm_req *r)
{
	struct nrm_guard *g = r->app->guard;

	if (g == NULL || !r->has_token)
		return;
	nrm_rejects_add(g->rejects, r->token_hash, nrm_mono_ms());
	g->st.rejects_stored++;
}

void
nrm_guard_keys_changed(struct nrm_guard *g)
{
	if (g != NULL)
		nrm_rejects_clear(g->rejects);
}

uint64_t
nrm_guard_take_burst(struct nrm_guard *g)
{
	return g != NULL ? nrm_rejects_take_hits(g->rejects) : 0;
}

void
nrm_guard_burst_audited(struct nrm_guard *g)
{
	if (g != NULL)
		g->st.bursts_audited++;
}

void
nrm_guard_stats(const struct nrm_guard *g, struct nrm_guard_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (g != NULL)
		*out = g->st;
}
