/*
 * handlers/inbox.c - GET /v1/inbox (role coordinator): the cases routed
 * to the caller's regions, paged, and long-polled.
 *
 *   ?state=open|taken|closed|transfer_pending|all (transfer_pending:
 *                                 also those pending to the caller's
 *                                 regions)  ?priority=urgent|high|normal
 *   ?limit=1..200  ?cursor=C      keyset pages (C from next_cursor)
 *   ?wait=S&after=A               long-poll: answer as soon as a case
 *                                 newer than A (from "after" of an
 *                                 earlier answer) is in the caller's
 *                                 inbox, or with an empty page after
 *                                 S seconds (at most longpoll_max_wait)
 *
 * A waiting request costs no database work: it sits in the waiter
 * registry (waiters.c), which wakes it on a NOTIFY for one of its
 * regions, when the LISTEN connection comes back, and on the
 * longpoll_recheck backstop (jobs.c).  This file is the inbox's part:
 * what a waiter asks, its query (batched by question) and its answers.
 */
#include "auth.h"
#include "crypto.h"
#include "dbapi.h"
#include "endpoints.h"
#include "log.h"
#include "util.h"
#include "waiters.h"
#include "guard.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define INBOX_LIMIT_MAX 200
#define INBOX_LIMIT_DEFAULT 50

/*
 * The cursor and the watermark travel sealed (nrm_token_seal with the
 * daemon's token key): the keyset key holds inbox_seq values, which come
 * from one national sequence, and the watermark transaction ids and one
 * such value (care.inbox_mark, docs/inbox.md); the difference of two
 * would count what happened in other regions in between.  Sealed, they
 * are opaque and cannot be forged.  The watermark is text of digits,
 * ':' and ',' that only the database reads.
 */
#define INBOX_CURSOR_LABEL "nrm.inbox.cursor"
#define INBOX_AFTER_LABEL "nrm.inbox.after"
#define INBOX_CURSOR_PLAIN 400 /* cursors are padded to this length */
#define INBOX_AFTER_PLAIN 240 /* watermarks are padded to this length */
#define INBOX_AFTER_CHARS "0123456789:,"
#define INBOX_MARK_NONE "1:1::0" /* care.inbox_mark of no entries */
#define INBOX_TOKEN_MAX NRM_TOKEN_SEALED_MAX(INBOX_CURSOR_PLAIN)

struct inbox_waiter {
	struct nrm_waiter w; /* the registry's part */
	char state[24];
	char priority[8];
	char after_key[512]; /* JSON sort key or "" */
	char since[INBOX_AFTER_PLAIN + 1]; /* watermark or "" */
	char limit[8];
	char mine[8]; /* "true": only the cases the caller holds */
};

static struct inbox_waiter *
inbox_of(struct nrm_waiter *w)
{
	return nrm_container_of(w, struct inbox_waiter, w);
}

static void
inbox_waiter_free(struct inbox_waiter *iw)
{
	nrm_waiter_remove(&iw->w);
	free(iw);
}

/* Seal the watermark `since` (text) as the "after" of an answer. */
static void
inbox_seal_after(
    const struct nrm_app *app, const char *since, char *out, size_t outsz)
{
	char fixed[INBOX_AFTER_PLAIN];
	size_t len = strlen(since);

	/*
	 * Fixed width, padded with spaces: the token's length must not tell
	 * the watermark's.  care.inbox_mark never writes a longer one.
	 */
	if (len > sizeof(fixed))
		len = 0;
	memset(fixed, ' ', sizeof(fixed));
	memcpy(fixed, since, len);
	if (nrm_token_seal(app->token_key, INBOX_AFTER_LABEL, fixed,
		sizeof(fixed), out, outsz) != NRM_OK)
		snprintf(out, outsz, "%s", ""); /* never: OpenSSL failed */
}

/* Reshape the api.inbox body for the client: sealed cursors. */
static char *
inbox_page(const struct nrm_app *app, cJSON *body)
{
	cJSON *next = cJSON_DetachItemFromObjectCaseSensitive(body, "next_key");
	cJSON *wm = cJSON_GetObjectItemCaseSensitive(body, "watermark");
	char tok[INBOX_TOKEN_MAX];
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
			if (nrm_token_seal(app->token_key, INBOX_CURSOR_LABEL,
				plain, sizeof(plain), tok,
				sizeof(tok)) == NRM_OK)
				cJSON_ReplaceItemInObjectCaseSensitive(body,
				    "next_cursor", cJSON_CreateString(tok));
		}
		free(txt);
	}
	cJSON_Delete(next);
	inbox_seal_after(app,
	    cJSON_IsString(wm) ? wm->valuestring : INBOX_MARK_NONE, tok,
	    sizeof(tok));
	cJSON_DeleteItemFromObjectCaseSensitive(body, "watermark");
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
inbox_answer(struct inbox_waiter *iw)
{
	struct nrm_req *r = iw->w.r;
	char tok[INBOX_TOKEN_MAX], empty[INBOX_TOKEN_MAX + 64];

	inbox_seal_after(r->app,
	    iw->since[0] != '\0' ? iw->since : INBOX_MARK_NONE, tok,
	    sizeof(tok));
	snprintf(empty, sizeof(empty),
	    "{\"items\":[],\"next_cursor\":null,\"after\":\"%s\"}", tok);
	inbox_waiter_free(iw);
	nrm_req_json(r, 200, empty, NULL);
}

void
nrm_h_inbox_answer_empty(struct nrm_waiter *w)
{
	inbox_answer(inbox_of(w));
}

/*
 * One query answers a batch of waiters that ask the same question (same
 * key, filters, cursor and watermark): a thousand long-polls of one
 * coordinator woken by one case cost one query, not a thousand.
 */
struct inbox_batch {
	int n;
	struct inbox_waiter *w[];
};

/* The same client certificate (mutual TLS), or neither has one. */
static bool
inbox_same_cert(const struct nrm_req *a, const struct nrm_req *b)
{
	unsigned char ha[32], hb[32];
	bool ca = nrm_req_client_cert(a, ha) == NRM_OK;
	bool cb = nrm_req_client_cert(b, hb) == NRM_OK;

	return ca == cb && (!ca || memcmp(ha, hb, sizeof(ha)) == 0);
}

static bool
inbox_same(const struct inbox_waiter *a, const struct inbox_waiter *b)
{
	return memcmp(a->w.r->token_hash, b->w.r->token_hash, 32) == 0 &&
	    inbox_same_cert(a->w.r, b->w.r) &&
	    strcmp(a->state, b->state) == 0 &&
	    strcmp(a->priority, b->priority) == 0 &&
	    strcmp(a->after_key, b->after_key) == 0 &&
	    strcmp(a->since, b->since) == 0 &&
	    strcmp(a->limit, b->limit) == 0 && strcmp(a->mine, b->mine) == 0;
}

/* Answer a waiter with a page already rendered, and free it. */
static void
inbox_answer_text(struct inbox_waiter *iw, const char *page)
{
	struct nrm_req *r = iw->w.r;

	inbox_waiter_free(iw);
	nrm_req_json(r, 200, page, NULL);
}

/*
 * Hand one waiter its share of a batch's answer.  `page` is the body
 * rendered once for the whole batch (its waiters asked the same).
 */
static void
inbox_deliver(
    struct inbox_waiter *iw, const char *page, bool has_items, bool *requery)
{
	struct nrm_waiter *w = &iw->w;

	w->querying = false;
	nrm_waiter_answered(w, has_items);
	if (w->r->gone) {
		inbox_answer(iw); /* frees; writes nothing */
		return;
	}
	if (has_items || !w->long_poll || w->expired ||
	    nrm_http_draining(w->r->app->http)) {
		inbox_answer_text(iw, page);
		return;
	}
	/* Woken while the query was out: what woke it may be newer. */
	if (w->again) {
		w->again = false;
		*requery = true;
	}
}

static void inbox_query_many(struct inbox_waiter **ws, int n, bool initial);

static void
inbox_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct inbox_batch *b = arg;
	struct nrm_req *lead = b->w[0]->w.r;
	cJSON *root = NULL, *st, *body, *items;
	bool has_items;
	int status;

	lead->q = NULL;
	if (outcome != NRM_DB_OK || PQntuples(res) != 1 ||
	    PQgetisnull(res, 0, 0)) {
		for (int i = 0; i < b->n; i++) {
			struct nrm_req *r = b->w[i]->w.r;

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
			    lead->app->auth_cache, lead->token_hash);
		for (int i = 0; i < b->n; i++) {
			struct nrm_req *r = b->w[i]->w.r;

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
		char *page = inbox_page(lead->app, body); /* once per batch */

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
			inbox_query_many(again, n_again, false);
		free(again);
	}
	free(b);
}

/*
 * Query for these waiters (none querying), one query per group that asks
 * the same.  `initial`: a request's first query (one waiter), answered
 * 503 when the database cannot take it; a re-check that cannot be sent
 * just waits for the next wake-up or the backstop.
 */
static void
inbox_query_many(struct inbox_waiter **ws, int n, bool initial)
{
	for (int i = 0; i < n; i++) {
		struct inbox_waiter *iw = ws[i];
		struct inbox_batch *b;
		struct nrm_dbapi_call call;
		struct nrm_req *r;
		int m = 0;

		if (iw == NULL)
			continue;
		if (iw->w.r->gone) {
			ws[i] = NULL;
			inbox_answer(iw); /* frees; writes nothing */
			continue;
		}
		b = nrm_xmalloc(sizeof(*b) + (size_t)n * sizeof(b->w[0]));
		for (int j = i; j < n; j++) {
			if (ws[j] != NULL && !ws[j]->w.r->gone &&
			    inbox_same(iw, ws[j])) {
				b->w[m++] = ws[j];
				ws[j] = NULL;
			}
		}
		b->n = m;
		r = iw->w.r;
		nrm_dbapi_begin(&call, r);
		nrm_dbapi_text(&call, iw->state);
		nrm_dbapi_text(
		    &call, iw->priority[0] != '\0' ? iw->priority : NULL);
		nrm_dbapi_text(
		    &call, iw->after_key[0] != '\0' ? iw->after_key : NULL);
		nrm_dbapi_text(&call, iw->since[0] != '\0' ? iw->since : NULL);
		nrm_dbapi_text(&call, iw->limit);
		nrm_dbapi_text(&call, iw->mine);
		if (initial) {
			/* On failure it has replied 503 to r. */
			if (nrm_dbapi_exec(r, NRM_STMT_INBOX, &call, inbox_done,
				b) != NRM_OK) {
				inbox_waiter_free(iw);
				free(b);
				continue;
			}
		} else {
			r->q = nrm_db_exec(r->app->db, NRM_STMT_INBOX, call.n,
			    call.values, call.lengths, call.formats, inbox_done,
			    b);
			if (r->q == NULL) {
				for (int k = 0; k < m; k++)
					b->w[k]->w.again = false; /* backstop */
				free(b);
				continue;
			}
		}
		for (int k = 0; k < m; k++)
			b->w[k]->w.querying = true;
	}
}

void
nrm_h_inbox_requery(struct nrm_waiters *reg, struct nrm_waiter **ws, int n)
{
	struct inbox_waiter **iws = nrm_xcalloc((size_t)n, sizeof(*iws));

	NRM_UNUSED(reg);
	for (int i = 0; i < n; i++)
		iws[i] = inbox_of(ws[i]);
	inbox_query_many(iws, n, false);
	free(iws);
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
	struct nrm_app *app = r->app;
	struct evkeyvalq q;
	struct inbox_waiter *w;
	char cursor[1024], wait[16], after[INBOX_TOKEN_MAX];
	long wait_s = 0;

	if (nrm_req_query(r, &q) != NRM_OK) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "", "malformed query");
		return;
	}
	w = nrm_xcalloc(1, sizeof(*w));
	nrm_waiter_init(app->waiters, &w->w, r);
	if (inbox_param(r, &q, "state", w->state, sizeof(w->state)) ||
	    inbox_param(r, &q, "priority", w->priority, sizeof(w->priority)) ||
	    inbox_param(r, &q, "limit", w->limit, sizeof(w->limit)) ||
	    inbox_param(r, &q, "cursor", cursor, sizeof(cursor)) ||
	    inbox_param(r, &q, "wait", wait, sizeof(wait)) ||
	    inbox_param(r, &q, "after", after, sizeof(after)) ||
	    inbox_param(r, &q, "mine", w->mine, sizeof(w->mine)))
		goto out;
	if (w->mine[0] == '\0')
		snprintf(w->mine, sizeof(w->mine), "false");
	else if (strcmp(w->mine, "true") != 0 &&
	    strcmp(w->mine, "false") != 0) {
		nrm_req_fail(
		    r, NRM_E_BAD_REQUEST, "mine", "mine must be true or false");
		goto out;
	}
	if (w->state[0] == '\0')
		snprintf(w->state, sizeof(w->state), "open");
	if (w->limit[0] == '\0')
		snprintf(w->limit, sizeof(w->limit), "%d", INBOX_LIMIT_DEFAULT);
	else if (!inbox_digits(w->limit, 3) || atoi(w->limit) < 1 ||
	    atoi(w->limit) > INBOX_LIMIT_MAX) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "limit",
		    "limit must be 1 to %d", INBOX_LIMIT_MAX);
		goto out;
	}
	if (cursor[0] != '\0') {
		unsigned char dec[512];
		int n = nrm_token_open(app->token_key, INBOX_CURSOR_LABEL,
		    cursor, dec, sizeof(dec));
		cJSON *k;

		k = n > 0 ? cJSON_ParseWithLength((const char *)dec, (size_t)n)
			  : NULL;
		if (k == NULL || !cJSON_IsObject(k) ||
		    (size_t)n >= sizeof(w->after_key)) {
			cJSON_Delete(k);
			nrm_req_fail(r, NRM_E_BAD_REQUEST, "cursor",
			    "cursor is not one this server gave");
			goto out;
		}
		cJSON_Delete(k);
		while (n > 0 && dec[n - 1] == ' ') /* the padding */
			n--;
		memcpy(w->after_key, dec, (size_t)n);
		w->after_key[n] = '\0';
	}
	if (after[0] != '\0') {
		unsigned char dec[INBOX_AFTER_PLAIN + 1];
		int n = nrm_token_open(app->token_key, INBOX_AFTER_LABEL, after,
		    dec, sizeof(dec) - 1);
		size_t len = n > 0 ? (size_t)n : 0;

		/* without the padding: equal watermarks, equal questions */
		while (len > 0 && dec[len - 1] == ' ')
			len--;
		dec[len] = '\0';
		if (n != INBOX_AFTER_PLAIN || len == 0 ||
		    strspn((const char *)dec, INBOX_AFTER_CHARS) != len) {
			nrm_req_fail(r, NRM_E_BAD_REQUEST, "after",
			    "after is not one this server gave");
			goto out;
		}
		memcpy(w->since, dec, len + 1);
	}
	if (wait[0] != '\0') {
		if (!inbox_digits(wait, 6)) {
			nrm_req_fail(r, NRM_E_BAD_REQUEST, "wait",
			    "wait must be 0 to %d seconds",
			    app->cfg.longpoll_max_wait);
			goto out;
		}
		wait_s = atol(wait);
		if (wait_s > app->cfg.longpoll_max_wait)
			wait_s = app->cfg.longpoll_max_wait;
	}
	evhttp_clear_headers(&q);
	if (wait_s > 0 && w->since[0] != '\0' &&
	    !nrm_http_draining(app->http)) {
		int by_key, by_addr;

		/* one key or address cannot hold every connection */
		nrm_waiters_count(app->waiters, r->principal.key_id,
		    r->client_addr, &by_key, &by_addr);
		if (nrm_guard_longpoll(r, by_key, by_addr) != NRM_OK) {
			free(w);
			return;
		}
		nrm_waiter_wait(&w->w, (int)wait_s); /* no wake-up is missed */
	}
	{
		struct inbox_waiter *one[1] = {w};

		inbox_query_many(one, 1, true);
	}
	return;
out:
	evhttp_clear_headers(&q);
	free(w);
}

void
nrm_h_inbox(struct nrm_req *r)
{
	nrm_auth_require(
	    r, NRM_ROLE_COORDINATOR, "inbox.list", "inbox", inbox_authed);
}
