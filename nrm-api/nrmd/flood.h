/*
 * flood.h - what keeps a flood from reaching the database: token
 * buckets by client address and by key, and the cache of rejected
 * tokens.  Fixed-size tables, no I/O; the caller passes the time.
 *
 * Buckets.  nrm_buckets_take() takes one token from the bucket of a
 * name (an address as text, or a token hash), refilled at `rate` tokens
 * a second up to `burst`.  The table has NRM_FLOOD_SLOTS entries, found
 * by 64 bits of HMAC-SHA-256 under a key drawn at start (a client
 * cannot craft names that collide), probing NRM_FLOOD_PROBE slots from
 * the home slot.  A new name takes an empty slot, else the probed one
 * with the most tokens after refill (the least drained): a bucket a
 * client has emptied is the last to go, so churning other names does
 * not refill it unless those names are drained too, which costs their
 * own requests.  Eviction only ever gives a name a full bucket: it can
 * let a flood through faster, never refuse an honest client.
 *
 * Rejected tokens.  nrm_rejects_add() remembers the hash of a token the
 * database refused as unknown or revoked; nrm_rejects_hit() says whether
 * a hash was refused (or tried again) less than ttl_ms ago, and counts the hit.  Only refusals
 * are held, so a valid key is never refused from here and a revocation
 * is never delayed by it.  NRM_REJECT_SLOTS entries, set by the hash's
 * own bytes (a SHA-256: the client cannot aim at a slot without
 * brute-forcing it) with NRM_FLOOD_PROBE probing; a full probe replaces
 * the oldest entry.
 */
#ifndef NRM_FLOOD_H
#define NRM_FLOOD_H

#include "nrm/nrm.h"

#include <stddef.h>

#define NRM_FLOOD_SLOTS 16384
#define NRM_REJECT_SLOTS 8192
#define NRM_FLOOD_PROBE 8

struct nrm_buckets;
struct nrm_rejects;

struct nrm_buckets *nrm_buckets_new(void);
void nrm_buckets_free(struct nrm_buckets *b);

/*
 * Take one token for `name` (len bytes) at now_ms.  0: allowed.  Else
 * the whole milliseconds until a token is there (at least 1): refused,
 * nothing taken.  rate <= 0 or burst <= 0 means no limit (always 0).
 */
int64_t nrm_buckets_take(struct nrm_buckets *b, const void *name, size_t len,
    double rate, int burst, int64_t now_ms);

/* Names in the table now (for tests and /metrics). */
size_t nrm_buckets_used(const struct nrm_buckets *b);

struct nrm_rejects *nrm_rejects_new(void);
void nrm_rejects_free(struct nrm_rejects *c);

/* The database refused this token hash at now_ms. */
void nrm_rejects_add(
    struct nrm_rejects *c, const unsigned char hash[32], int64_t now_ms);

/*
 * True when hash was refused, or hit, less than ttl_ms before now_ms;
 * counts the hit and restarts its ttl_ms (a token tried over and over
 * stays cached for as long as it is tried, and is looked up once).
 * ttl_ms <= 0: the cache is off (always false).
 */
bool nrm_rejects_hit(struct nrm_rejects *c, const unsigned char hash[32],
    int64_t ttl_ms, int64_t now_ms);

/* Forget every entry (a key was created: its hash may be cached). */
void nrm_rejects_clear(struct nrm_rejects *c);

/* Hits since the last call, and the count reset (the burst summary). */
uint64_t nrm_rejects_take_hits(struct nrm_rejects *c);

/* Hits since start (never reset: /metrics). */
uint64_t nrm_rejects_hits_total(const struct nrm_rejects *c);

#endif /* NRM_FLOOD_H */
