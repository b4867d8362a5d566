/*
 * waiters.c - the long-poll waiter registry (see waiters.h).
 */
#include "waiters.h"
#include "hist.h"
#include "http.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#define WAITERS_REAP_S 2
#define WAITERS_TALLY_SLOTS 1024 /* a power of two */

TAILQ_HEAD(waiters_list, nrm_waiter);

/*
 * How many waiters one key, or one client address, has: kept as waiters
 * come and go, so the caps on long-polls cost a lookup, not a walk over
 * every waiter (10,000 long-polls opened from one address were 10^8
 * string comparisons).
 */
struct waiters_tally {
	struct waiters_tally *next; /* hash chain */
	int n;
	char name[];
};

struct nrm_waiters {
	struct event_base *base;
	nrm_waiters_requery_cb requery;
	nrm_waiters_answer_cb answer;
	nrm_waiters_same_cb same;
	struct waiters_list list;
	int n_waiting;
	struct waiters_list queue; /* waiting for a query slot (qlink) */
	int n_queued;
	int inflight; /* groups with a query out */
	int max_inflight;
	bool pumping; /* in waiters_pump: do not re-enter */
	struct event reap;
	uint64_t wakeups;
	struct nrm_hist wake;
	struct waiters_tally *by_key[WAITERS_TALLY_SLOTS];
	struct waiters_tally *by_addr[WAITERS_TALLY_SLOTS];
};

static size_t
waiters_tally_slot(const char *name)
{
	return nrm_fnv1a64(NRM_FNV1A64_BASIS, name, strlen(name)) &
	    (WAITERS_TALLY_SLOTS - 1);
}

/* The link that holds name's tally in slots, or the chain's end. */
static struct waiters_tally **
waiters_tally_link(struct waiters_tally **slots, const char *name)
{
	struct waiters_tally **pp = &slots[waiters_tally_slot(name)];

	while (*pp != NULL && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	return pp;
}

static int
waiters_tally_get(struct waiters_tally *const *slots, const char *name)
{
	const struct waiters_tally *t = slots[waiters_tally_slot(name)];

	while (t != NULL && strcmp(t->name, name) != 0)
		t = t->next;
	return t != NULL ? t->n : 0;
}

/* Count one more (delta 1) or one less (-1) of name; none left: freed. */
static void
waiters_tally_add(struct waiters_tally **slots, const char *name, int delta)
{
	struct waiters_tally **pp = waiters_tally_link(slots, name);
	struct waiters_tally *t = *pp;

	if (t == NULL) {
		size_t len = strlen(name) + 1;

		if (delta < 0)
			return; /* never: every remove follows an add */
		t = nrm_xcalloc(1, sizeof(*t) + len);
		memcpy(t->name, name, len);
		*pp = t;
	}
	t->n += delta;
	if (t->n <= 0) {
		*pp = t->next;
		free(t);
	}
}

static void
waiters_tally_free(struct waiters_tally **slots)
{
	for (int i = 0; i < WAITERS_TALLY_SLOTS; i++)
		while (slots[i] != NULL) {
			struct waiters_tally *t = slots[i];

			slots[i] = t->next;
			free(t);
		}
}

/* w comes into (delta 1) or leaves (-1) the list of waiters. */
static void
waiters_tally(struct nrm_waiter *w, int delta)
{
	waiters_tally_add(w->reg->by_key, w->r->principal.key_id, delta);
	waiters_tally_add(w->reg->by_addr, w->r->client_addr, delta);
}

void
nrm_waiter_init(
    struct nrm_waiters *reg, struct nrm_waiter *w, struct nrm_req *r)
{
	w->reg = reg;
	w->r = r;
}

static void
waiters_unqueue(struct nrm_waiter *w)
{
	if (w->queued) {
		TAILQ_REMOVE(&w->reg->queue, w, qlink);
		w->reg->n_queued--;
		w->queued = false;
	}
}

void
nrm_waiter_remove(struct nrm_waiter *w)
{
	waiters_unqueue(w);
	if (w->waiting) {
		TAILQ_REMOVE(&w->reg->list, w, link);
		w->reg->n_waiting--;
		w->waiting = false;
		waiters_tally(w, -1);
	}
	if (event_initialized(&w->timer))
		event_del(&w->timer);
}

static void
waiters_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct nrm_waiter *w = arg;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	if (w->querying) {
		w->expired = true; /* the answer in flight is the last */
		return;
	}
	w->reg->answer(w);
}

void
nrm_waiters_count(const struct nrm_waiters *reg, const char *key_id,
    const char *addr, int *by_key, int *by_addr)
{
	*by_key = waiters_tally_get(reg->by_key, key_id);
	*by_addr = waiters_tally_get(reg->by_addr, addr);
}

void
nrm_waiter_deadline(struct nrm_waiter *w, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_assign(&w->timer, w->reg->base, -1, 0, waiters_timeout, w);
	event_add(&w->timer, &tv);
}

void
nrm_waiter_wait(struct nrm_waiter *w, int wait_s)
{
	struct timeval tv = {wait_s, 0};

	if (w->waiting)
		return;
	w->long_poll = true;
	event_assign(&w->timer, w->reg->base, -1, 0, waiters_timeout, w);
	event_add(&w->timer, &tv);
	TAILQ_INSERT_TAIL(&w->reg->list, w, link);
	w->reg->n_waiting++;
	w->waiting = true;
	waiters_tally(w, 1);
}

/*
 * Whether reader is among the group's first n readers; if not, and there
 * is room, it is added.  False: a new reader and the group is full.
 */
static bool
waiters_reader_fits(uint64_t *readers, int *n, uint64_t reader)
{
	for (int i = 0; i < *n; i++)
		if (readers[i] == reader)
			return true;
	if (*n == NRM_WAITERS_GROUP_MAX)
		return false;
	readers[(*n)++] = reader;
	return true;
}

/*
 * Send queries while fewer than max_inflight groups have one out: the
 * first waiter of the queue and every queued waiter that may share its
 * query (of at most NRM_WAITERS_GROUP_MAX readers) make one group.
 * Re-entered from a requery that finishes at once, it returns: the outer
 * loop goes on.
 */
static void
waiters_pump(struct nrm_waiters *reg)
{
	if (reg->pumping)
		return;
	reg->pumping = true;
	while (reg->inflight < reg->max_inflight && reg->n_queued > 0) {
		struct nrm_waiter *first = TAILQ_FIRST(&reg->queue);
		struct nrm_waiter **ws, *w, *next;
		uint64_t readers[NRM_WAITERS_GROUP_MAX];
		int n = 0, n_readers = 0;

		ws = nrm_xcalloc((size_t)reg->n_queued, sizeof(*ws));
		for (w = first; w != NULL; w = next) {
			next = TAILQ_NEXT(w, qlink);
			if (w != first &&
			    (w->question != first->question ||
				!reg->same(first, w)))
				continue;
			if (!waiters_reader_fits(
				readers, &n_readers, w->reader))
				continue;
			waiters_unqueue(w);
			w->querying = true;
			ws[n++] = w;
		}
		reg->inflight++;
		reg->requery(reg, ws, n);
		free(ws);
	}
	reg->pumping = false;
}

/* Put w at the end of the queue unless it is queued or querying. */
static void
waiters_queue(struct nrm_waiter *w)
{
	if (!w->queued && !w->querying) {
		TAILQ_INSERT_TAIL(&w->reg->queue, w, qlink);
		w->reg->n_queued++;
		w->queued = true;
	}
}

void
nrm_waiter_enqueue(struct nrm_waiter *w)
{
	waiters_queue(w);
	waiters_pump(w->reg);
}

void
nrm_waiters_query_done(struct nrm_waiters *reg)
{
	reg->inflight--;
	waiters_pump(reg);
}

static bool
waiters_in_scope(const struct nrm_waiter *w, const char *region)
{
	const struct nrm_principal *p = &w->r->principal;

	for (int i = 0; i < p->n_regions; i++)
		if (strcmp(p->regions[i], region) == 0)
			return true;
	return false;
}

void
nrm_waiters_notify(struct nrm_waiters *reg, const char *region)
{
	struct nrm_waiter *w;
	int64_t now;

	if (reg->n_waiting == 0)
		return;
	/*
	 * Waiters stay in the list while they query; one that is woken
	 * during its query queries once more afterwards, so no wake-up is
	 * lost.  The others join the queue, drained at the bound's pace.
	 */
	now = nrm_mono_us();
	TAILQ_FOREACH(w, &reg->list, link)
	{
		if (region != NULL && !waiters_in_scope(w, region))
			continue;
		reg->wakeups++;
		if (w->woken_us == 0)
			w->woken_us = now;
		if (w->querying)
			w->again = true;
		else
			waiters_queue(w);
	}
	waiters_pump(reg);
}

/*
 * Answer waiters whose client has gone: libevent does not read from a
 * connection whose request is pending, so a closed long-poll is only
 * seen by looking.  A peek that reads 0 bytes is an orderly close.
 */
static void
waiters_reap(struct nrm_waiters *reg)
{
	struct nrm_waiter *w, *next;

	for (w = TAILQ_FIRST(&reg->list); w != NULL; w = next) {
		struct evhttp_connection *evcon;
		struct bufferevent *bev;
		char c;
		int fd;
		ssize_t got;

		next = TAILQ_NEXT(w, link);
		if (w->querying || w->r->gone || w->r->ev == NULL)
			continue;
		evcon = evhttp_request_get_connection(w->r->ev);
		bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon)
				    : NULL;
		fd = bev != NULL ? (int)bufferevent_getfd(bev) : -1;
		if (fd < 0)
			continue;
		got = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (got == 0 ||
		    (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			errno != EINTR)) {
			/*
			 * Not r->gone: that means evhttp already dropped the
			 * connection.  Here it is alive, and the reply must
			 * detach its close callback; what it writes goes
			 * nowhere.
			 */
			reg->answer(w);
		}
	}
}

void
nrm_waiters_recheck(struct nrm_waiters *reg)
{
	waiters_reap(reg);
	nrm_waiters_notify(reg, NULL);
}

void
nrm_waiters_release_all(struct nrm_waiters *reg)
{
	struct nrm_waiter *w, *next;

	for (w = TAILQ_FIRST(&reg->list); w != NULL; w = next) {
		next = TAILQ_NEXT(w, link);
		if (w->querying)
			w->expired = true; /* its answer comes with the query */
		else
			reg->answer(w);
	}
}

void
nrm_waiters_stats(const struct nrm_waiters *reg, struct nrm_waiters_stats *out)
{
	out->waiting = reg->n_waiting;
	out->queued = reg->n_queued;
	out->inflight = reg->inflight;
	out->wakeups = reg->wakeups;
	out->wake = &reg->wake;
}

void
nrm_waiter_answered(struct nrm_waiter *w, bool has_items)
{
	if (w->woken_us != 0 && has_items)
		nrm_hist_observe(&w->reg->wake, &nrm_buckets_wake,
		    (double)(nrm_mono_us() - w->woken_us) / 1e6);
	/*
	 * An empty answer forgets the wake-up, unless one came while the
	 * query was out (again): the query may have been sent before that
	 * commit, and the next one answers it.
	 */
	if (has_items || !w->again)
		w->woken_us = 0;
}

static void
waiters_reap_tick(evutil_socket_t fd, short what, void *arg)
{
	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	waiters_reap(arg);
}

int
nrm_waiters_slots(int db_pool_size)
{
	return db_pool_size / 2 > 1 ? db_pool_size / 2 : 1;
}

struct nrm_waiters *
nrm_waiters_new(struct event_base *base, nrm_waiters_requery_cb requery,
    nrm_waiters_answer_cb answer, nrm_waiters_same_cb same, int max_inflight)
{
	struct nrm_waiters *reg = nrm_xcalloc(1, sizeof(*reg));
	struct timeval tv = {WAITERS_REAP_S, 0};

	reg->base = base;
	reg->requery = requery;
	reg->answer = answer;
	reg->same = same;
	reg->max_inflight = max_inflight > 0 ? max_inflight : 1;
	TAILQ_INIT(&reg->list);
	TAILQ_INIT(&reg->queue);
	event_assign(&reg->reap, base, -1, EV_PERSIST, waiters_reap_tick, reg);
	event_add(&reg->reap, &tv);
	return reg;
}

void
nrm_waiters_free(struct nrm_waiters *reg)
{
	if (reg == NULL)
		return;
	event_del(&reg->reap);
	nrm_waiters_release_all(reg);
	/* reads that do not wait, still queued (never after a drain) */
	while (!TAILQ_EMPTY(&reg->queue))
		reg->answer(TAILQ_FIRST(&reg->queue));
	waiters_tally_free(reg->by_key);
	waiters_tally_free(reg->by_addr);
	free(reg);
}
