/*
 * guard.h - the flood guards at the request edge (docs/security.md,
 * "Floods and guessing"; docs/operations.md, "Limits").
 *
 *   address   every request for an API endpoint takes a token from its
 *             client address's bucket (rate_limit_address per second,
 *             rate_burst_address): beyond it, 429 with Retry-After
 *             before anything else is done
 *   key       every request that carries a well-formed token takes one
 *             from the bucket of the token's hash (rate_limit_key,
 *             rate_burst_key): 429 beyond, before the database
 *   rejected  a token the database refused as unknown or revoked (its
 *             401) is remembered by hash for reject_cache_ttl seconds;
 *             meanwhile it is refused (401) at the edge, with no
 *             database work and no audit row.  The first refusal is
 *             audited by the database as always; the refusals answered
 *             from the cache are counted and, once per reject_cache_ttl
 *             (the jobs' "rejects" tick), summarised in ONE audit event
 *             with their number (api.auth_rejections), never the tokens.
 *
 * Only refusals are cached: a valid key is never refused from here, and
 * revocation takes effect as before (the database decides every call).
 * A key created over HTTP clears the cache; one made by nrmctl works at
 * the latest reject_cache_ttl seconds after its token was last refused
 * (only someone who tried that very token beforehand can meet this).
 *
 * Every limit is read from the live config at each request, so a reload
 * applies at once.  The tables are fixed-size (flood.h): memory does not
 * grow with the number of addresses or tokens.
 */
#ifndef NRM_GUARD_H
#define NRM_GUARD_H

#include "http.h"

struct nrm_guard;

struct nrm_guard *nrm_guard_new(void);
void nrm_guard_free(struct nrm_guard *g);

/* The address bucket; NRM_ERR when it has replied 429. */
int nrm_guard_address(struct nrm_req *r) NRM_MUSTCHECK;

/*
 * After r->token_hash is set: the rejected-token cache (401 from the
 * cache) and the key bucket (429).  NRM_ERR when it has replied.
 */
int nrm_guard_token(struct nrm_req *r) NRM_MUSTCHECK;

/*
 * The caps on long-polls: with by_key waiters of r's key and by_addr of
 * its address registered already, NRM_ERR (after 429 with Retry-After =
 * retry_after) when one more would pass longpoll_max_per_key or
 * longpoll_max_per_address.
 */
int nrm_guard_longpoll(
    struct nrm_req *r, int by_key, int by_addr) NRM_MUSTCHECK;

/* The database answered r's token 401: remember its hash. */
void nrm_guard_rejected(struct nrm_req *r);

/* A key was created: forget every cached refusal. */
void nrm_guard_keys_changed(struct nrm_guard *g);

/* Refusals answered from the cache since the last call (reset). */
uint64_t nrm_guard_take_burst(struct nrm_guard *g);

struct nrm_guard_stats {
	uint64_t limited_address, limited_key; /* 429s */
	uint64_t longpoll_key, longpoll_address; /* long-polls refused 429 */
	uint64_t rejects_cached; /* 401s answered from the cache */
	uint64_t rejects_stored; /* database 401s remembered */
	uint64_t bursts_audited; /* summary audit events written */
};
void nrm_guard_stats(const struct nrm_guard *g, struct nrm_guard_stats *out);

/* One summary audit event was written. */
void nrm_guard_burst_audited(struct nrm_guard *g);

#endif /* NRM_GUARD_H */
