/*
 * waiters.h - the registry of long-poll waiters (GET /v1/inbox?wait=):
 * requests parked until something they wait for may have changed, their
 * wait timers, wake-ups by region, and the reaping of waiters whose
 * client has gone.
 *
 * Reads that do not wait (a page) pass through the same queue: a read
 * whose question a queued group already asks joins it, so reads that
 * arrive while every query slot is busy share one query when one frees
 * (handlers/inbox.c keeps each its own reader, so each is authenticated
 * and audited).  One that is not answered in time is handed to `answer`
 * (nrm_waiter_deadline).
 *
 * The registry knows nothing of what a waiter asks: the handler embeds a
 * struct nrm_waiter in its own waiter, sets its `question` (waiters with
 * equal questions and `same` true may share one query) and registers
 * three callbacks.  `requery` is handed one group of waiters that the
 * registry has marked `querying`: it must send one query for them, and
 * call nrm_waiters_query_done() exactly once when that query is over
 * (from its callback, or at once when it could not be sent, after
 * answering the waiters).  `answer` must answer one waiter with an empty
 * page (a read that does not wait: with the 503 of a query not answered
 * in time), remove it and free it; it runs when the wait ran out, when
 * the daemon stops and when the client has gone (the reply then writes
 * nothing).
 *
 * A wake-up never turns into a storm: waiters that need a query wait in
 * the registry's queue (FIFO, no timer but their own wait), and at most
 * `max_inflight` groups have a query out; the queue is drained as their
 * answers come.  So the pool never holds more of the long-polls' queries
 * than it can run, and none times out behind the long-polls' own backlog.
 *
 * A waiter that is woken while its query is out gets `again` set: its
 * handler queries once more when the answer comes, so no wake-up is
 * lost.  One whose wait runs out meanwhile gets `expired`: the answer in
 * flight is its last.
 */
#ifndef NRM_WAITERS_H
#define NRM_WAITERS_H

#include "nrm/nrm.h"

#include <sys/queue.h>

#include <event2/event_struct.h>

struct event_base;
struct nrm_req;
struct nrm_waiters;
struct nrm_hist;

struct nrm_waiter {
	TAILQ_ENTRY(nrm_waiter) link;
	TAILQ_ENTRY(nrm_waiter) qlink; /* in the queue for a query */
	struct nrm_waiters *reg;
	struct nrm_req *r;
	struct event timer;
	bool long_poll; /* registered: waits for a wake-up */
	bool waiting; /* in the list of waiters: may be woken */
	bool queued; /* in the queue for a query */
	bool querying; /* a query is out (or it is being sent) */
	bool again; /* woken while querying: query once more */
	bool expired; /* the wait ran out while querying */
	int64_t woken_us; /* first wake-up not yet answered, or 0 */
	uint64_t question; /* the handler's hash of what it asks */
	uint64_t reader; /* the handler's hash of who reads (see below) */
};

typedef void (*nrm_waiters_requery_cb)(
    struct nrm_waiters *reg, struct nrm_waiter **ws, int n);
typedef void (*nrm_waiters_answer_cb)(struct nrm_waiter *w);
/* Whether a and b (equal questions) may share one query. */
typedef bool (*nrm_waiters_same_cb)(
    const struct nrm_waiter *a, const struct nrm_waiter *b);

/*
 * The most readers one query serves.  Waiters of a group with equal
 * `reader` hashes count once: the handler reads once for them (one
 * coordinator's thousand long-polls are one group and one read, answered
 * from one query).  A collision only makes a group larger, never wrong.
 */
#define NRM_WAITERS_GROUP_MAX 128

/*
 * The query slots (`max_inflight`) for a pool of db_pool_size request
 * connections: half of them, at least one.  With the default pool
 * (2 x cores + 1) that is one a core.
 */
int nrm_waiters_slots(int db_pool_size);

struct nrm_waiters *nrm_waiters_new(struct event_base *base,
    nrm_waiters_requery_cb requery, nrm_waiters_answer_cb answer,
    nrm_waiters_same_cb same, int max_inflight);

/*
 * Queue w for a query (its first, or after a wake-up) unless it is
 * queued or querying already, and send what the bound allows.
 */
void nrm_waiter_enqueue(struct nrm_waiter *w);

/* One group's query is over (see requery above): send the next. */
void nrm_waiters_query_done(struct nrm_waiters *reg);

/* Answer every waiter (see nrm_waiters_release_all), then free. */
void nrm_waiters_free(struct nrm_waiters *reg);

/* Prepare `w` (zeroed by the caller) for request r; not yet waiting. */
void nrm_waiter_init(
    struct nrm_waiters *reg, struct nrm_waiter *w, struct nrm_req *r);

/*
 * Register w for wake-ups for at most wait_s seconds: from now on no
 * wake-up is missed.
 */
void nrm_waiter_wait(struct nrm_waiter *w, int wait_s);

/*
 * For a read that does not wait: if it is still queued (not querying)
 * after ms milliseconds, it is handed to `answer`; querying, it is marked
 * `expired` (its query's own timeout applies).  Not a long-poll: never
 * woken, not counted in the caps.
 */
void nrm_waiter_deadline(struct nrm_waiter *w, int ms);

/*
 * Take w out of the registry and its queue and stop its timer (before
 * freeing it).
 */
void nrm_waiter_remove(struct nrm_waiter *w);

/*
 * Wake the waiters whose principal's regions include `region` (NULL:
 * every waiter).
 */
void nrm_waiters_notify(struct nrm_waiters *reg, const char *region);

/*
 * The backstop: answer waiters whose client has gone, then wake every
 * waiter (a notification lost while the LISTEN connection was down costs
 * latency, never a case).
 */
void nrm_waiters_recheck(struct nrm_waiters *reg);

/*
 * The waiters registered now whose principal is key_id (*by_key) and
 * whose client is addr (*by_addr): for the caps on long-polls.
 */
void nrm_waiters_count(const struct nrm_waiters *reg, const char *key_id,
    const char *addr, int *by_key, int *by_addr);

/* Answer every waiter now with an empty page (the daemon is stopping). */
void nrm_waiters_release_all(struct nrm_waiters *reg);

/* What /metrics reports of the long-polls. */
/*
 * The handler answered w's query after a wake-up: with `has_items`, the
 * time since that wake-up is the long-poll's wake-up latency (counted in
 * the histogram); without, the wake-up is forgotten (the waiter waits on)
 * unless it was woken again while the query was out: the next query
 * answers that wake-up and counts it.
 */
void nrm_waiter_answered(struct nrm_waiter *w, bool has_items);

struct nrm_waiters_stats {
	int waiting; /* registered now */
	int queued; /* waiting for a query slot */
	int inflight; /* groups with a query out */
	uint64_t wakeups; /* notifications and re-checks, per waiter */
	/* seconds from a wake-up to the answer with cases (the registry's) */
	const struct nrm_hist *wake;
};
void nrm_waiters_stats(
    const struct nrm_waiters *reg, struct nrm_waiters_stats *out);

#endif /* NRM_WAITERS_H */
