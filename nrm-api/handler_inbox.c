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

/* Reshape the api.inbox body for the client: opaque cursors. */
static char *
inbox_page(cJSON *body)
{
	cJSON *next = cJSON_DetachItemFromObjectCaseSensitive(body, "next_key");
	cJSON *wm = cJSON_GetObjectItemCaseSensitive(body, "watermark");
	char after[32];
	char *out;

	if (cJSON_IsObject(next)) {
		char *txt = cJSON_PrintUnformatted(next);
		char enc[1024];

		if (txt != NULL && strlen(txt) < 700) {
			nrm_b64url_encode(txt, strlen(txt), enc);
			cJSON_AddStringToObject(body, "next_cursor", enc);
		} else {
			cJSON_AddNullToObject(body, "next_cursor");
		}
		free(txt);
	} else {
		cJSON_AddNullToObject(body, "next_cursor");
	}
	cJSON_Delete(next);
	snprintf(after, sizeof(after), "%.0f",
	    cJSON_IsNumber(wm) ? wm->valuedouble : 0.0);
	cJSON_DeleteItemFromObjectCaseSensitive(body, "watermark");
	cJSON_AddStringToObject(body, "after", after);
	out = cJSON_PrintUnformatted(body);
	return out;
}

/* Answer the waiter's request with this page (or empty) and free it. */
static void
inbox_answer(struct inbox_waiter *w, cJSON *body)
{
	struct nrm_req *r = w->r;
	char *out;

	if (body == NULL) {
		char empty[96];

		snprintf(empty, sizeof(empty),
		    "{\"items\":[],\"next_cursor\":null,\"after\":\"%s\"}",
		    w->since[0] != '\0' ? w->since : "0");
		inbox_waiter_free(w);
		nrm_req_json(r, 200, empty, NULL);
		return;
	}
	out = inbox_page(body);
	inbox_waiter_free(w);
	nrm_req_json(r, 200, out != NULL ? out : "{}", NULL);
	free(out);
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
	inbox_answer(w, NULL);
}

static void
inbox_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct inbox_waiter *w = arg;
	struct nrm_req *r = w->r;
	cJSON *root, *st, *body, *items;
	bool has_items, long_poll;

	r->q = NULL;
	w->querying = false;
	if (outcome != NRM_DB_OK || PQntuples(res) != 1 ||
	    PQgetisnull(res, 0, 0)) {
		inbox_waiter_free(w);
		nrm_dbapi_fail(r, outcome, res);
		return;
	}
	root = cJSON_Parse(PQgetvalue(res, 0, 0));
	st = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (!cJSON_IsNumber(st) || st->valueint != 200) {
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
		int status = cJSON_IsNumber(st) ? st->valueint : 500;

		text = cJSON_PrintUnformatted(root);
		cJSON_Delete(root); /* st and field go with it */
		inbox_waiter_free(w);
		if (status == 401)
			nrm_auth_cache_evict(r->d->auth_cache, r->token_hash);
		nrm_dbapi_answer(r, text != NULL ? text : "{}", NULL);
		free(text);
		return;
	}
	body = cJSON_GetObjectItemCaseSensitive(root, "body");
	items = cJSON_GetObjectItemCaseSensitive(body, "items");
	has_items = cJSON_GetArraySize(items) > 0;
	long_poll = w->long_poll && !w->expired;
	if (has_items || !long_poll || r->d->draining) {
		inbox_answer(w, body);
		cJSON_Delete(root);
		return;
	}
	cJSON_Delete(root);
	/* Woken while the query was out: what woke it may be newer. */
	if (w->again) {
		w->again = false;
		inbox_query(w);
	}
}

static void
inbox_query(struct inbox_waiter *w)
{
	struct nrm_req *r = w->r;
	struct nrm_dbapi_call call;

	if (r->gone) {
		inbox_answer(w, NULL); /* frees the request; writes nothing */
		return;
	}
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, w->state);
	nrm_dbapi_text(&call, w->priority[0] != '\0' ? w->priority : NULL);
	nrm_dbapi_text(&call, w->after_key[0] != '\0' ? w->after_key : NULL);
	nrm_dbapi_text(&call, w->since[0] != '\0' ? w->since : NULL);
	nrm_dbapi_text(&call, w->limit);
	r->q = nrm_db_exec(r->d->db, NRM_STMT_INBOX, call.n, call.values,
	    call.lengths, call.formats, inbox_done, w);
	if (r->q == NULL) {
		inbox_waiter_free(w);
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    "the database is unavailable; retry later");
		return;
	}
	w->querying = true;
}

/* Wake one waiter: query now, or once more after the query in flight. */
static void
inbox_wake(struct inbox_waiter *w)
{
	w->ib->wakeups++;
	if (w->querying) {
		w->again = true;
		return;
	}
	inbox_query(w);
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
	struct inbox_waiter *w, *next;

	/*
	 * Waiters stay in the list while they query (a wake-up during a
	 * query is not lost: it queries again).  Waking may answer and free
	 * only the waiter itself, so keep `next` first.
	 */
	for (w = TAILQ_FIRST(&ib->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, link);
		if (region != NULL && !inbox_in_scope(w, region))
			continue;
		inbox_wake(w);
	}
}

void
nrm_inbox_release_all(struct nrm_inbox *ib)
{
	struct inbox_waiter *w;

	while ((w = TAILQ_FIRST(&ib->waiters)) != NULL)
		inbox_answer(w, NULL);
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
	nrm_inbox_notify(arg, NULL);
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
	return ib;
}

void
nrm_inbox_free(struct nrm_inbox *ib)
{
	if (ib == NULL)
		return;
	event_del(&ib->recheck);
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
	char cursor[1024], wait[16], after[32];
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
		unsigned char dec[800];
		int n = nrm_b64url_decode(cursor, strlen(cursor), dec);
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
		memcpy(w->after_key, dec, (size_t)n);
		w->after_key[n] = '\0';
	}
	if (after[0] != '\0') {
		if (!inbox_digits(after, 18)) {
			nrm_req_fail(r, NRM_E_BAD_REQUEST, "after",
			    "after is not one this server gave");
			goto replied;
		}
		snprintf(w->since, sizeof(w->since), "%.18s", after);
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
	nrm_auth_require(r, NRM_ROLE_COORDINATOR, "inbox.list", inbox_authed);
}
