/*
 * handler_inbox.c - GET /v1/inbox (role coordinator): the cases routed
 * to the caller's regions, paged, and long-polled.
 *
 *   ?state=open|taken|closed|all  ?priority=urgent|high|normal
 *   ?limit=1..200  ?cursor=C      keyset pages (C from next_cursor)
 *   ?wait=S&after=A               long-poll: answer as soon as a case
 *                                 newer than A (from "after" of an
 *                                 earlier answer) is in the caller's
 *                                 inbox, or with an empty page after
 *                                 S seconds (at most longpoll_max_wait)
 *
 * A waiting request costs no database work.  One LISTEN connection per
 * daemon (db.c) hands every NOTIFY nrm_inbox '<region>' to
 * nrm_inbox_notify(), which re-queries only the waiters whose regions
 * include it.  After the LISTEN connection (re)connects, and every
 * longpoll_recheck seconds as a backstop, every waiter re-queries, so a
 * notification lost while the connection was down costs latency, never
 * a case.
 */
#include "auth.h"
#include "crypto.h"
#include "daemon.h"
#include "dbapi.h"
#include "inbox.h"
#include "log.h"
#include "routes.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/http.h>

#define INBOX_LIMIT_MAX 200
#define INBOX_LIMIT_DEFAULT 50

struct inbox_waiter {
	TAILQ_ENTRY(inbox_waiter) link;
	struct nrm_inbox *ib;
	struct nrm_req *r;
	struct event timer;
	bool long_poll; /* waits for a newer case */
	bool waiting; /* in the list of waiters: may be woken */
	bool querying; /* a query is out */
	bool again; /* woken while querying: query once more */
	bool expired; /* the wait ran out while querying */
	char state[8];
	char priority[8];
	char after_key[512]; /* JSON sort key or "" */
	char since[24]; /* watermark or "" */
	char limit[8];
};

TAILQ_HEAD(inbox_list, inbox_waiter);

struct nrm_inbox {
	struct nrm_daemon *d;
	struct inbox_list waiters;
	int n_waiting;
	struct event recheck;
	struct event reap;
	uint64_t wakeups;
};

static void inbox_query(struct inbox_waiter *w);

static void
inbox_waiter_free(struct inbox_waiter *w)
{
	if (w->waiting) {
		TAILQ_REMOVE(&w->ib->waiters, w, link);
		w->ib->n_waiting--;
		w->waiting = false;
	}
	if (event_initialized(&w->timer))
		event_del(&w->timer);
	free(w);
}

/*
 * The cursor and the watermark travel sealed (nrm_token_seal with the
 * daemon's token key): the keyset key and the watermark hold inbox_seq
 * values, which come from one national sequence, and the difference of
 * two would count the cases that entered other regions' inboxes in
 * between.  Sealed, they are opaque and cannot be forged.
 */
#define INBOX_CURSOR_LABEL "nrm.inbox.cursor"
#define INBOX_AFTER_LABEL "nrm.inbox.after"
#define INBOX_CURSOR_PLAIN 400 /* cursors are padded to this length */
#define INBOX_AFTER_PLAIN 20 /* watermarks to this many digits */
#define INBOX_TOKEN_MAX NRM_TOKEN_SEALED_MAX(INBOX_CURSOR_PLAIN)

/* Seal the watermark `since` (decimal) as the "after" of an answer. */
static void
inbox_seal_after(
    struct nrm_daemon *d, const char *since, char *out, size_t outsz)
{
	char fixed[INBOX_AFTER_PLAIN + 1];

	/* Fixed width: the token's length must not tell the count's size. */
	snprintf(fixed, sizeof(fixed), "%0*lld", INBOX_AFTER_PLAIN,
	    strtoll(since, NULL, 10));
	if (nrm_token_seal(d->token_key, INBOX_AFTER_LABEL, fixed,
		INBOX_AFTER_PLAIN, out, outsz) != NRM_OK)
		snprintf(out, outsz, "%s", ""); /* never: OpenSSL failed */
}

/* Reshape the api.inbox body for the client: sealed cursors. */
static char *
inbox_page(struct nrm_daemon *d, cJSON *body)
{
	cJSON *next = cJSON_DetachItemFromObjectCaseSensitive(body, "next_key");
	cJSON *wm = cJSON_GetObjectItemCaseSensitive(body, "watermark");
	char since[32], tok[INBOX_TOKEN_MAX];
	char *out;

	cJSON_AddNullToObject(body, "next_cursor");
	if (cJSON_IsObject(next)) {
		char *txt = cJSON_PrintUnformatted(next);

		char plain[INBOX_CURSOR_PLAIN];
		size_t len = txt != NULL ? strlen(txt) : 0;

		/* Padded with spaces (JSON white space) to a fixed length. */
		if (txt != NULL && len <= INBOX_CURSOR_PLAIN) {
			memset(plain, ' ', sizeof(plain));
			memcpy(plain, txt, len);
			if (nrm_token_seal(d->token_key, INBOX_CURSOR_LABEL,
				plain, sizeof(plain), tok,
				sizeof(tok)) == NRM_OK)
				cJSON_ReplaceItemInObjectCaseSensitive(body,
				    "next_cursor", cJSON_CreateString(tok));
		}
		free(txt);
	}
	cJSON_Delete(next);
	snprintf(since, sizeof(since), "%.0f",
	    cJSON_IsNumber(wm) ? wm->valuedouble : 0.0);
	cJSON_DeleteItemFromObjectCaseSensitive(body, "watermark");
	inbox_seal_after(d, since, tok, sizeof(tok));
	cJSON_AddStringToObject(body, "after", tok);
	out = cJSON_PrintUnformatted(body);
	return out;
}

/*
 * Answer the waiter's request with an empty page (its wait ran out, the
 * daemon is stopping, or its client left) and free it.  Pages with
 * items are rendered once per batch (inbox_done).
 */
static void
inbox_answer(struct inbox_waiter *w)
{
	struct nrm_req *r = w->r;
	char tok[INBOX_TOKEN_MAX], empty[INBOX_TOKEN_MAX + 64];

	inbox_seal_after(
	    r->d, w->since[0] != '\0' ? w->since : "0", tok, sizeof(tok));
	snprintf(empty, sizeof(empty),
	    "{\"items\":[],\"next_cursor\":null,\"after\":\"%s\"}", tok);
	inbox_waiter_free(w);
	nrm_req_json(r, 200, empty, NULL);
}

/* Register the waiter for wake-ups until its wait runs out. */
static void
inbox_wait(struct inbox_waiter *w)
{
	if (w->waiting)
		return;
	TAILQ_INSERT_TAIL(&w->ib->waiters, w, link);
	w->ib->n_waiting++;
	w->waiting = true;
}

static void
inbox_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct inbox_waiter *w = arg;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	if (w->querying) {
		w->expired = true; /* the answer in flight is the last */
		return;
	}
	inbox_answer(w);
}

/*
 * One query answers a batch of waiters that ask the same question (same
 * key, filters, cursor and watermark): a thousand long-polls of one
 * coordinator woken by one case cost one query, not a thousand.
 */
struct inbox_batch {
	struct nrm_inbox *ib;
	int n;
	struct inbox_waiter *w[];
};

static bool
inbox_same(const struct inbox_waiter *a, const struct inbox_waiter *b)
{
	return memcmp(a->r->token_hash, b->r->token_hash, 32) == 0 &&
	    strcmp(a->state, b->state) == 0 &&
	    strcmp(a->priority, b->priority) == 0 &&
	    strcmp(a->after_key, b->after_key) == 0 &&
	    strcmp(a->since, b->since) == 0 && strcmp(a->limit, b->limit) == 0;
}

/* Answer a waiter with a page already rendered, and free it. */
static void
inbox_answer_text(struct inbox_waiter *w, const char *page)
{
	struct nrm_req *r = w->r;

	inbox_waiter_free(w);
	nrm_req_json(r, 200, page, NULL);
}

/*
 * Hand one waiter its share of a batch's answer.  `page` is the body
 * rendered once for the whole batch (its waiters asked the same).
 */
static void
inbox_deliver(
    struct inbox_waiter *w, const char *page, bool has_items, bool *requery)
{
	w->querying = false;
	if (w->r->gone) {
		inbox_answer(w); /* frees; writes nothing */
		return;
	}
	if (has_items || !w->long_poll || w->expired || w->ib->d->draining) {
		inbox_answer_text(w, page);
		return;
	}
	/* Woken while the query was out: what woke it may be newer. */
	if (w->again) {
		w->again = false;
		*requery = true;
	}
}

static void inbox_query_many(
    struct nrm_inbox *ib, struct inbox_waiter **ws, int n, bool initial);

static void
inbox_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct inbox_batch *b = arg;
	struct nrm_req *lead = b->w[0]->r;
	cJSON *root = NULL, *st, *body, *items;
	bool has_items;
	int status;

	lead->q = NULL;
	if (outcome != NRM_DB_OK || PQntuples(res) != 1 ||
	    PQgetisnull(res, 0, 0)) {
		for (int i = 0; i < b->n; i++) {
			struct nrm_req *r = b->w[i]->r;

			inbox_waiter_free(b->w[i]);
			nrm_dbapi_fail(r, outcome, res);
		}
		free(b);
		return;
	}
	root = cJSON_Parse(PQgetvalue(res, 0, 0));
	st = cJSON_GetObjectItemCaseSensitive(root, "status");
	status = cJSON_IsNumber(st) ? st->valueint : 500;
	if (status != 200) {
		cJSON *prob = cJSON_GetObjectItemCaseSensitive(root, "problem");
		cJSON *field = cJSON_GetObjectItemCaseSensitive(prob, "field");
		char *text;

		/*
		 * The database names its arguments: p_after_key is the
		 * client's cursor, p_since the client's after.
		 */
		if (cJSON_IsString(field) &&
		    strcmp(field->valuestring, "after") == 0)
			cJSON_SetValuestring(field, "cursor");
		else if (cJSON_IsString(field) &&
		    strcmp(field->valuestring, "since") == 0)
			cJSON_SetValuestring(field, "after");
		text = cJSON_PrintUnformatted(root);
		cJSON_Delete(root);
		if (status == 401)
			nrm_auth_cache_evict(
			    lead->d->auth_cache, lead->token_hash);
		for (int i = 0; i < b->n; i++) {
			struct nrm_req *r = b->w[i]->r;

			inbox_waiter_free(b->w[i]);
			nrm_dbapi_answer(r, text != NULL ? text : "{}", NULL);
		}
		free(text);
		free(b);
		return;
	}
	body = cJSON_GetObjectItemCaseSensitive(root, "body");
	items = cJSON_GetObjectItemCaseSensitive(body, "items");
	has_items = cJSON_GetArraySize(items) > 0;
	{
		struct inbox_waiter **again =
		    nrm_xcalloc((size_t)b->n, sizeof(*again));
		int n_again = 0;
		char *page = inbox_page(lead->d, body); /* once per batch */

		for (int i = 0; i < b->n; i++) {
			bool requery = false;
			struct inbox_waiter *w = b->w[i];

			inbox_deliver(
			    w, page != NULL ? page : "{}", has_items, &requery);
			if (requery)
				again[n_again++] = w;
		}
		free(page);
		cJSON_Delete(root);
		if (n_again > 0)
			inbox_query_many(b->ib, again, n_again, false);
		free(again);
	}
	free(b);
}

/*
 * Query for these waiters (none querying), one query per group that asks
 * the same.  `initial`: a request's first query, answered 503 when the
 * database cannot take it; a re-check that cannot be sent just waits
 * for the next wake-up or the backstop.
 */
static void
inbox_query_many(
    struct nrm_inbox *ib, struct inbox_waiter **ws, int n, bool initial)
{
	for (int i = 0; i < n; i++) {
		struct inbox_waiter *w = ws[i];
		struct inbox_batch *b;
		struct nrm_dbapi_call call;
		struct nrm_req *r;
		int m = 0;

		if (w == NULL)
			continue;
		if (w->r->gone) {
			ws[i] = NULL;
			inbox_answer(w); /* frees; writes nothing */
			continue;
		}
		b = nrm_xmalloc(sizeof(*b) + (size_t)n * sizeof(b->w[0]));
		b->ib = ib;
		for (int j = i; j < n; j++) {
			if (ws[j] != NULL && !ws[j]->r->gone &&
			    inbox_same(w, ws[j])) {
				b->w[m++] = ws[j];
				ws[j] = NULL;
			}
		}
		b->n = m;
		r = w->r;
		nrm_dbapi_begin(&call, r);
		nrm_dbapi_text(&call, w->state);
		nrm_dbapi_text(
		    &call, w->priority[0] != '\0' ? w->priority : NULL);
		nrm_dbapi_text(
		    &call, w->after_key[0] != '\0' ? w->after_key : NULL);
		nrm_dbapi_text(&call, w->since[0] != '\0' ? w->since : NULL);
		nrm_dbapi_text(&call, w->limit);
		r->q = nrm_db_exec(r->d->db, NRM_STMT_INBOX, call.n,
		    call.values, call.lengths, call.formats, inbox_done, b);
		if (r->q == NULL) {
			for (int k = 0; k < m; k++) {
				struct inbox_waiter *x = b->w[k];

				if (initial || !x->long_poll) {
					struct nrm_req *xr = x->r;

					inbox_waiter_free(x);
					nrm_req_fail(xr, NRM_E_UNAVAILABLE, "",
					    "the database is unavailable; "
					    "retry later");
				} else {
					x->again =
					    false; /* the backstop retries */
				}
			}
			free(b);
			continue;
		}
		for (int k = 0; k < m; k++)
			b->w[k]->querying = true;
	}
}

static void
inbox_query(struct inbox_waiter *w)
{
	struct inbox_waiter *one[1] = {w};

	inbox_query_many(w->ib, one, 1, true);
}

static bool
inbox_in_scope(const struct inbox_waiter *w, const char *region)
{
	const struct nrm_principal *p = &w->r->principal;

	for (int i = 0; i < p->n_regions; i++)
		if (strcmp(p->regions[i], region) == 0)
			return true;
	return false;
}

void
nrm_inbox_notify(struct nrm_inbox *ib, const char *region)
{
	struct inbox_waiter *w, **ws;
	int n = 0;

	if (ib->n_waiting == 0)
		return;
	/*
	 * Waiters stay in the list while they query; one that is woken
	 * during its query queries once more afterwards, so no wake-up is
	 * lost.  The others are batched by question.
	 */
	ws = nrm_xcalloc((size_t)ib->n_waiting, sizeof(*ws));
	TAILQ_FOREACH(w, &ib->waiters, link)
	{
		if (region != NULL && !inbox_in_scope(w, region))
			continue;
		ib->wakeups++;
		if (w->querying)
			w->again = true;
		else if (n < ib->n_waiting)
			ws[n++] = w;
	}
	inbox_query_many(ib, ws, n, false);
	free(ws);
}

/*
 * Answer waiters whose client has gone: libevent does not read from a
 * connection whose request is pending, so a closed long-poll is only
 * seen by looking.  A peek that reads 0 bytes is an orderly close.
 */
static void
inbox_reap(struct nrm_inbox *ib)
{
	struct inbox_waiter *w, *next;

	for (w = TAILQ_FIRST(&ib->waiters); w != NULL; w = next) {
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
			inbox_answer(w);
		}
	}
}

void
nrm_inbox_release_all(struct nrm_inbox *ib)
{
	struct inbox_waiter *w, *next;

	for (w = TAILQ_FIRST(&ib->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, link);
		if (w->querying)
			w->expired = true; /* its answer comes with the query */
		else
			inbox_answer(w);
	}
}

int
nrm_inbox_n_waiting(const struct nrm_inbox *ib)
{
	return ib->n_waiting;
}

uint64_t
nrm_inbox_wakeups(const struct nrm_inbox *ib)
{
	return ib->wakeups;
}

static void
inbox_recheck(evutil_socket_t fd, short what, void *arg)
{
	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	inbox_reap(arg);
	nrm_inbox_notify(arg, NULL);
}

static void
inbox_reap_tick(evutil_socket_t fd, short what, void *arg)
{
	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	inbox_reap(arg);
}

struct nrm_inbox *
nrm_inbox_new(struct nrm_daemon *d)
{
	struct nrm_inbox *ib = nrm_xcalloc(1, sizeof(*ib));
	struct timeval tv = {d->cfg.longpoll_recheck, 0};

	ib->d = d;
	TAILQ_INIT(&ib->waiters);
	event_assign(&ib->recheck, d->base, -1, EV_PERSIST, inbox_recheck, ib);
	event_add(&ib->recheck, &tv);
	{
		struct timeval two = {2, 0};

		event_assign(
		    &ib->reap, d->base, -1, EV_PERSIST, inbox_reap_tick, ib);
		event_add(&ib->reap, &two);
	}
	return ib;
}

void
nrm_inbox_free(struct nrm_inbox *ib)
{
	if (ib == NULL)
		return;
	event_del(&ib->recheck);
	event_del(&ib->reap);
	nrm_inbox_release_all(ib);
	free(ib);
}

/* Copy query parameter `name` into buf; NRM_ERR (replied) when too long. */
static int
inbox_param(struct nrm_req *r, struct evkeyvalq *q, const char *name, char *buf,
    size_t n)
{
	const char *v = evhttp_find_header(q, name);

	buf[0] = '\0';
	if (v == NULL)
		return NRM_OK;
	if (strlen(v) >= n) {
		nrm_req_fail(
		    r, NRM_E_BAD_REQUEST, name, "%s is too long", name);
		return NRM_ERR;
	}
	memcpy(buf, v, strlen(v) + 1);
	return NRM_OK;
}

static bool
inbox_digits(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, "0123456789") == n;
}

static void
inbox_authed(struct nrm_req *r)
{
	struct nrm_daemon *d = r->d;
	struct evkeyvalq q;
	struct inbox_waiter *w;
	char cursor[1024], wait[16], after[INBOX_TOKEN_MAX];
	long wait_s = 0;

	if (nrm_req_query(r, &q) != NRM_OK) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "", "malformed query");
		return;
	}
	w = nrm_xcalloc(1, sizeof(*w));
	w->ib = d->inbox;
	w->r = r;
	if (inbox_param(r, &q, "state", w->state, sizeof(w->state)) ||
	    inbox_param(r, &q, "priority", w->priority, sizeof(w->priority)) ||
	    inbox_param(r, &q, "limit", w->limit, sizeof(w->limit)) ||
	    inbox_param(r, &q, "cursor", cursor, sizeof(cursor)) ||
	    inbox_param(r, &q, "wait", wait, sizeof(wait)) ||
	    inbox_param(r, &q, "after", after, sizeof(after)))
		goto replied;
	if (w->state[0] == '\0')
		snprintf(w->state, sizeof(w->state), "open");
	if (w->limit[0] == '\0')
		snprintf(w->limit, sizeof(w->limit), "%d", INBOX_LIMIT_DEFAULT);
	else if (!inbox_digits(w->limit, 3) || atoi(w->limit) < 1 ||
	    atoi(w->limit) > INBOX_LIMIT_MAX) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "limit",
		    "limit must be 1 to %d", INBOX_LIMIT_MAX);
		goto replied;
	}
	if (cursor[0] != '\0') {
		unsigned char dec[512];
		int n = nrm_token_open(
		    d->token_key, INBOX_CURSOR_LABEL, cursor, dec, sizeof(dec));
		cJSON *k;

		k = n > 0 ? cJSON_ParseWithLength((const char *)dec, (size_t)n)
			  : NULL;
		if (k == NULL || !cJSON_IsObject(k) ||
		    (size_t)n >= sizeof(w->after_key)) {
			cJSON_Delete(k);
			nrm_req_fail(r, NRM_E_BAD_REQUEST, "cursor",
			    "cursor is not one this server gave");
			goto replied;
		}
		cJSON_Delete(k);
		while (n > 0 && dec[n - 1] == ' ') /* the padding */
			n--;
		memcpy(w->after_key, dec, (size_t)n);
		w->after_key[n] = '\0';
	}
	if (after[0] != '\0') {
		unsigned char dec[32];
		int n = nrm_token_open(d->token_key, INBOX_AFTER_LABEL, after,
		    dec, sizeof(dec) - 1);

		if (n > 0)
			dec[n] = '\0';
		if (n != INBOX_AFTER_PLAIN ||
		    !inbox_digits((const char *)dec, INBOX_AFTER_PLAIN)) {
			nrm_req_fail(r, NRM_E_BAD_REQUEST, "after",
			    "after is not one this server gave");
			goto replied;
		}
		/* without the padding: equal watermarks, equal questions */
		snprintf(w->since, sizeof(w->since), "%lld",
		    strtoll((const char *)dec, NULL, 10));
	}
	if (wait[0] != '\0') {
		if (!inbox_digits(wait, 6)) {
			nrm_req_fail(r, NRM_E_BAD_REQUEST, "wait",
			    "wait must be 0 to %d seconds",
			    d->cfg.longpoll_max_wait);
			goto replied;
		}
		wait_s = atol(wait);
		if (wait_s > d->cfg.longpoll_max_wait)
			wait_s = d->cfg.longpoll_max_wait;
	}
	evhttp_clear_headers(&q);
	if (!nrm_daemon_db_ready(d)) {
		free(w);
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    "the database is unavailable; retry later");
		return;
	}
	if (wait_s > 0 && w->since[0] != '\0' && !d->draining) {
		struct timeval tv = {wait_s, 0};

		w->long_poll = true;
		event_assign(&w->timer, d->base, -1, 0, inbox_timeout, w);
		event_add(&w->timer, &tv);
		inbox_wait(w); /* from now on no wake-up is missed */
	}
	inbox_query(w);
	return;
replied:
	evhttp_clear_headers(&q);
	free(w);
}

void
nrm_h_inbox(struct nrm_req *r)
{
	nrm_auth_require(
	    r, NRM_ROLE_COORDINATOR, "inbox.list", "inbox", inbox_authed);
}
