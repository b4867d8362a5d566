/*
 * backoff.h - progressive backoff of failed logins (issue 11,
 * docs/people.md "Backoff"): counts the consecutive failed logins of a
 * login name and of a client address, in this process, and says how
 * long the next 401 is held back.
 *
 * Pure: no libevent, no database; the caller passes the time and holds
 * the answer (handlers/login.c, with an evtimer).  Keys are the login as
 * typed and the address as text, each kept only as 64 bits of
 * HMAC-SHA-256 (crypto.h) under a random per-table key, one key for
 * logins and one for addresses, in a fixed table of
 * NRM_BACKOFF_SLOTS entries: a full table forgets the entry seen least
 * recently, a count not touched for `forget_s` seconds starts again
 * from zero, and a successful login clears both of its counts.  Unknown
 * and known logins are counted alike (the table never learns whether a
 * login exists).  Not thread-safe: the loop's thread only.
 */
#ifndef NRM_BACKOFF_H
#define NRM_BACKOFF_H

#include "nrm/nrm.h"

#include <stdint.h>

#define NRM_BACKOFF_SLOTS 4096

struct nrm_backoff;

/* A new, empty table; aborts when out of memory (as nrm_xcalloc). */
struct nrm_backoff *nrm_backoff_new(void);

void nrm_backoff_free(struct nrm_backoff *b);

/*
 * Count one failure of `login` and of `addr` (either may be NULL or "")
 * at `now_s`; returns the larger of the two consecutive counts, this
 * failure included (1 for a first failure).
 */
unsigned nrm_backoff_fail(struct nrm_backoff *b, const char *login,
    const char *addr, int64_t now_s, int forget_s);

/* A login succeeded: both counts start again from zero. */
void nrm_backoff_clear(
    struct nrm_backoff *b, const char *login, const char *addr);

/*
 * The delay in milliseconds for the k-th consecutive failure:
 * 0 below `after`, else min(max_ms, base_ms * 2^(k - after)); 0 when
 * base_ms or max_ms is 0.
 */
int64_t nrm_backoff_delay_ms(unsigned k, int after, int base_ms, int max_ms);

#endif /* NRM_BACKOFF_H */
