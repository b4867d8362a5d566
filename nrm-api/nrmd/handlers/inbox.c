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
#include "nrm/json.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
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

static const struct inbox_waiter *
inbox_of_const(const struct nrm_waiter *w)
{
	return nrm_container_of_const(w, struct inbox_waiter, w);
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

/*
 * Answer waiter iw, whose query failed (`outcome`, `res`) or was never
 * sent, and free it.  A request that does not wait gets the 503 (or
 * 500) a failed query always gave; a long-poll gets what is true of it:
 * nothing newer than its watermark has been found, ask again (an empty
 * page with its own "after"), never a 503 for a query it did not ask
 * for.  The one place that choice is made.
 */
static void
inbox_fail(
    struct inbox_waiter *iw, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct nrm_req *r = iw->w.r;

	iw->w.querying = false;
	if (iw->w.long_poll || r->gone) {
		inbox_answer(iw);
		return;
	}
	inbox_waiter_free(iw);
	nrm_dbapi_fail(r, outcome, res);
}

/*
 * The registry's `answer`: a long-poll gets its empty page; a read that
 * does not wait and was not sent in time (or the daemon is stopping)
 * gets the 503 a query that timed out in the pool's queue gets.
 */
void
nrm_h_inbox_answer_empty(struct nrm_waiter *w)
{
	inbox_fail(inbox_of(w), NRM_DB_TIMEOUT, NULL);
}

/*
 * One query answers a batch of waiters that ask the same question (same
 * filters and cursor): a thousand long-polls of one coordinator woken by
 * one case cost one query, not a thousand.  The registry forms the
 * batches from its queue (waiters.h), reads that do not wait as well as
 * long-polls; a read alone in the queue is a batch of one.
 */
struct inbox_batch {
	int n;
	/*
	 * api.inbox_many's element of each waiter: waiters of one key (and
	 * client certificate) with one watermark share one, as one query
	 * answered them before the fan-out (one read, one audit event).
	 */
	int *elem;
	int n_elem;
	struct inbox_waiter *w[];
};

/*
 * Long-polls with the same filters share one api.inbox_many call, whoever
 * asks and whatever their watermark: the database authenticates and
 * audits each and renders one page per scope (sql/api/31_inbox_fanout).
 */
static bool
inbox_same(const struct inbox_waiter *a, const struct inbox_waiter *b)
{
	return strcmp(a->state, b->state) == 0 &&
	    strcmp(a->priority, b->priority) == 0 &&
	    strcmp(a->after_key, b->after_key) == 0 &&
	    strcmp(a->limit, b->limit) == 0 && strcmp(a->mine, b->mine) == 0;
}

bool
nrm_h_inbox_same(const struct nrm_waiter *a, const struct nrm_waiter *b)
{
	return inbox_same(inbox_of_const(a), inbox_of_const(b));
}

/* s and its terminating NUL hashed on from h. */
#define INBOX_HASH_STR(h, s) nrm_fnv1a64((h), (s), strlen(s) + 1)

/* The hash of what inbox_same compares (the registry's `question`). */
static uint64_t
inbox_question(const struct inbox_waiter *iw)
{
	uint64_t h = NRM_FNV1A64_BASIS;

	h = INBOX_HASH_STR(h, iw->state);
	h = INBOX_HASH_STR(h, iw->priority);
	h = INBOX_HASH_STR(h, iw->after_key);
	h = INBOX_HASH_STR(h, iw->limit);
	return INBOX_HASH_STR(h, iw->mine);
}

/*
 * The hash of who reads (the registry's `reader`): what inbox_same_reader
 * compares but the client certificate (waiters that differ only in it
 * count once toward a group's cap, and are still sent apart).
 */
static uint64_t
inbox_reader(const struct inbox_waiter *iw)
{
	uint64_t h = nrm_fnv1a64(NRM_FNV1A64_BASIS, iw->w.r->token_hash, 32);

	return INBOX_HASH_STR(h, iw->since);
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
inbox_deliver(struct inbox_waiter *iw, const char *page, bool has_items)
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
		nrm_waiter_enqueue(w);
	}
}

/* The batch's query failed: each waiter as inbox_fail says. */
static void
inbox_batch_failed(
    struct inbox_batch *b, enum nrm_db_outcome outcome, const PGresult *res)
{
	for (int i = 0; i < b->n; i++)
		inbox_fail(b->w[i], outcome, res);
}

/*
 * A waiter whose page an answer lacks (never: api.inbox_many names one
 * for every element): a long-poll asks again, a read that does not wait
 * gets a 500 (inbox_fail), never an empty page that would say its inbox
 * is empty.
 */
static void
inbox_unanswered(struct inbox_waiter *iw)
{
	nrm_error("inbox answer without a page req=%s", iw->w.r->id);
	inbox_fail(iw, NRM_DB_ERROR, NULL);
}

/*
 * The refusal `root` (an api.inbox answer, not 200) as the text to answer
 * with: the database's argument names turned into the client's.
 */
static char *
inbox_refusal_text(cJSON *root)
{
	cJSON *prob = cJSON_GetObjectItemCaseSensitive(root, "problem");
	cJSON *field = cJSON_GetObjectItemCaseSensitive(prob, "field");

	/*
	 * The database names its arguments: p_after_key is the client's
	 * cursor, p_since the client's after.
	 */
	if (cJSON_IsString(field) && strcmp(field->valuestring, "after") == 0)
		cJSON_SetValuestring(field, "cursor");
	else if (cJSON_IsString(field) &&
	    strcmp(field->valuestring, "since") == 0)
		cJSON_SetValuestring(field, "after");
	return cJSON_PrintUnformatted(root);
}

/* Answer waiter iw with the refusal text (a 401 leaves the cache). */
static void
inbox_refuse(struct inbox_waiter *iw, const char *text, int status)
{
	struct nrm_req *r = iw->w.r;

	iw->w.querying = false;
	if (status == 401)
		nrm_auth_cache_evict(r->app->auth_cache, r->token_hash);
	inbox_waiter_free(iw);
	nrm_dbapi_answer(r, text != NULL ? text : "{}", NULL);
}

/* The status of an api.* answer (500 when it has none). */
static int
inbox_status(const cJSON *root)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");

	return cJSON_IsNumber(st) ? st->valueint : 500;
}

/* Where an api.inbox answer holds the page's items. */
static const char *const inbox_items_path[] = {"body", "items"};

/* Whether the JSON array text[0..n) is [] (white space aside). */
static bool
inbox_array_empty(const char *text, size_t n)
{
	size_t i = 1;

	while (i < n &&
	    (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' ||
		text[i] == '\n'))
		i++;
	return i < n && text[i] == ']';
}

/* text[0..len) with its bytes [s, e) replaced by with[0..n), NUL-ended. */
static char *
inbox_splice(const char *text, size_t len, size_t s, size_t e, const char *with,
    size_t n)
{
	char *out = nrm_xmalloc(len - (e - s) + n + 1);

	memcpy(out, text, s);
	memcpy(out + s, with, n);
	memcpy(out + s + n, text + e, len - e);
	out[len - (e - s) + n] = '\0';
	return out;
}

/*
 * The page `page` (inbox_page's text, its "items" empty) with items[0..n)
 * put in place of its empty items; frees `page`.  NULL when page is NULL
 * or holds no items member (never: inbox_page writes one).
 */
static char *
inbox_items_put(char *page, const char *items, size_t n)
{
	static const char *const path[] = {"items"};
	size_t len, s, e;
	char *out = NULL;

	if (page == NULL)
		return NULL;
	len = strlen(page);
	if (nrm_json_member_span(page, len, path, 1, &s, &e) == NRM_OK)
		out = inbox_splice(page, len, s, e, items, n);
	free(page);
	return out;
}

/*
 * One api.inbox answer, text[0..len), as the client gets it: *status
 * its status (500 when it has none), *out the page (200: its items
 * passed through, the envelope reshaped by inbox_page) or the refusal's
 * text (the caller frees it), *has_items whether the page has items.
 * NRM_ERR (nothing in *out) when the text is not such an answer.
 *
 * The items, most of the page, pass through as the database wrote them:
 * only the envelope around them is parsed and reshaped (parsing and
 * printing the items was 60% of nrmd's CPU for a page;
 * docs/performance.md).
 */
static int
inbox_render(const struct nrm_app *app, const char *text, size_t len,
    char **out, int *status, bool *has_items)
{
	cJSON *root, *body;
	char *shell = NULL;
	size_t is = 0, ie = 0;
	bool through = nrm_json_member_span(
			   text, len, inbox_items_path, 2, &is, &ie) == NRM_OK;

	*out = NULL;
	*has_items = false;
	if (through)
		shell = inbox_splice(text, len, is, ie, "[]", 2);
	root = through ? cJSON_Parse(shell) : cJSON_ParseWithLength(text, len);
	free(shell);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return NRM_ERR;
	}
	*status = inbox_status(root);
	if (*status != 200) {
		*out = inbox_refusal_text(root);
	} else {
		body = cJSON_GetObjectItemCaseSensitive(root, "body");
		*has_items = through
		    ? !inbox_array_empty(text + is, ie - is)
		    : cJSON_GetArraySize(
			  cJSON_GetObjectItemCaseSensitive(body, "items")) > 0;
		*out = inbox_page(app, body);
		if (through)
			*out = inbox_items_put(*out, text + is, ie - is);
	}
	cJSON_Delete(root);
	return *out != NULL ? NRM_OK : NRM_ERR;
}

/*
 * Hand waiter iw the page or refusal `text` with `status`, rendered once
 * for every waiter it serves.
 */
static void
inbox_hand(
    struct inbox_waiter *iw, const char *text, int status, bool has_items)
{
	if (status != 200)
		inbox_refuse(iw, text, status);
	else
		inbox_deliver(iw, text, has_items);
}

static void
inbox_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct inbox_batch *b = arg;
	struct nrm_waiters *reg = b->w[0]->w.reg;
	char *text = NULL;
	int status;
	bool has_items;

	b->w[0]->w.r->q = NULL;
	if (outcome != NRM_DB_OK || PQntuples(res) != 1 ||
	    PQgetisnull(res, 0, 0) ||
	    inbox_render(b->w[0]->w.r->app, PQgetvalue(res, 0, 0),
		(size_t)PQgetlength(res, 0, 0), &text, &status,
		&has_items) != NRM_OK) {
		inbox_batch_failed(
		    b, outcome == NRM_DB_OK ? NRM_DB_ERROR : outcome, res);
	} else {
		for (int i = 0; i < b->n; i++)
			inbox_hand(b->w[i], text, status, has_items);
	}
	free(text);
	free(b);
	nrm_waiters_query_done(reg);
}

/* Where api.inbox_many's answer holds its pages, and their index. */
static const char *const inbox_pages_path[] = {"pages"};
static const char *const inbox_of_path[] = {"of"};

/*
 * api.inbox_many's answer for a group: {"pages": [answer], "of": [index
 * per element]}.  Each page is rendered once (inbox_render: its items
 * pass through, as a lone read's) and handed to every waiter whose
 * element's index names it.
 */
static void
inbox_many_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct inbox_batch *b = arg;
	struct nrm_waiters *reg = b->w[0]->w.reg;
	const char *text = NULL;
	size_t len = 0, ps = 0, pe = 0, os = 0, oe = 0;
	size_t *starts = nrm_xcalloc((size_t)b->n_elem + 1, sizeof(size_t));
	size_t *ends = nrm_xcalloc((size_t)b->n_elem + 1, sizeof(size_t));
	char **page = NULL;
	int *status = NULL;
	bool *items = NULL;
	cJSON *of = NULL;
	int n_pages = 0;

	b->w[0]->w.r->q = NULL;
	if (outcome == NRM_DB_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0)) {
		text = PQgetvalue(res, 0, 0);
		len = (size_t)PQgetlength(res, 0, 0);
	}
	if (text == NULL || b->elem == NULL ||
	    nrm_json_member_span(text, len, inbox_pages_path, 1, &ps, &pe) !=
		NRM_OK ||
	    nrm_json_element_spans(text + ps, pe - ps, starts, ends, b->n_elem,
		&n_pages) != NRM_OK ||
	    nrm_json_member_span(text, len, inbox_of_path, 1, &os, &oe) !=
		NRM_OK ||
	    (of = cJSON_ParseWithLength(text + os, oe - os)) == NULL ||
	    cJSON_GetArraySize(of) != b->n_elem) {
		inbox_batch_failed(
		    b, outcome == NRM_DB_OK ? NRM_DB_ERROR : outcome, res);
		goto out;
	}
	page = nrm_xcalloc((size_t)n_pages + 1, sizeof(*page));
	status = nrm_xcalloc((size_t)n_pages + 1, sizeof(*status));
	items = nrm_xcalloc((size_t)n_pages + 1, sizeof(*items));
	for (int k = 0; k < n_pages; k++)
		(void)inbox_render(b->w[0]->w.r->app, text + ps + starts[k],
		    ends[k] - starts[k], &page[k], &status[k], &items[k]);
	for (int i = 0; i < b->n; i++) {
		const cJSON *o = cJSON_GetArrayItem(of, b->elem[i]);
		int k = cJSON_IsNumber(o) ? o->valueint : -1;

		if (k >= 0 && k < n_pages && page[k] != NULL)
			inbox_hand(b->w[i], page[k], status[k], items[k]);
		else
			inbox_unanswered(b->w[i]);
	}
	for (int k = 0; k < n_pages; k++)
		free(page[k]);
out:
	free(page);
	free(status);
	free(items);
	free(starts);
	free(ends);
	cJSON_Delete(of);
	free(b->elem);
	free(b);
	nrm_waiters_query_done(reg);
}

/*
 * Long-polls of the same key, client certificate and watermark: one
 * read.  A read that does not wait is always its own (one audit event
 * per request).
 */
static bool
inbox_same_reader(const struct inbox_waiter *a, const struct inbox_waiter *b)
{
	return a->w.long_poll && b->w.long_poll &&
	    memcmp(a->w.r->token_hash, b->w.r->token_hash, 32) == 0 &&
	    nrm_req_same_cert(a->w.r, b->w.r) &&
	    strcmp(a->since, b->since) == 0;
}

/* Append s to a PostgreSQL array literal as one quoted element. */
static void
inbox_elem(struct evbuffer *buf, const char *s)
{
	evbuffer_add_printf(
	    buf, "%s\"", evbuffer_get_length(buf) > 1 ? "," : "");
	for (; *s != '\0'; s++)
		evbuffer_add_printf(
		    buf, "%s%c", *s == '"' || *s == '\\' ? "\\" : "", *s);
	evbuffer_add(buf, "\"", 1);
}

/* As inbox_elem, with NULL for an empty s. */
static void
inbox_elem_or_null(struct evbuffer *buf, const char *s)
{
	if (s[0] == '\0')
		evbuffer_add_printf(
		    buf, "%sNULL", evbuffer_get_length(buf) > 1 ? "," : "");
	else
		inbox_elem(buf, s);
}

/* An array literal's text (NUL-terminated, the caller frees). */
static char *
inbox_array(struct evbuffer *buf)
{
	size_t n;
	char *s;

	evbuffer_add(buf, "}", 1);
	n = evbuffer_get_length(buf);
	s = nrm_xmalloc(n + 1);
	evbuffer_remove(buf, s, n);
	s[n] = '\0';
	evbuffer_add(buf, "{", 1);
	return s;
}

/*
 * Each waiter's element of api.inbox_many (b->elem, b->n_elem); returns
 * first[e], the waiter element e is sent as (each waiter is compared with
 * each element's first, not with every waiter).  The caller frees it.
 */
static int *
inbox_elements(struct inbox_batch *b)
{
	int *first = nrm_xcalloc((size_t)b->n, sizeof(*first));

	b->elem = nrm_xcalloc((size_t)b->n, sizeof(*b->elem));
	b->n_elem = 0;
	for (int i = 0; i < b->n; i++) {
		int e = 0;

		while (e < b->n_elem &&
		    !inbox_same_reader(b->w[i], b->w[first[e]]))
			e++;
		if (e == b->n_elem)
			first[b->n_elem++] = i;
		b->elem[i] = e;
	}
	return first;
}

/*
 * One api.inbox_many call for the group b (same filters): the arrays of
 * its elements' credentials, request ids, clients and watermarks (first:
 * from inbox_elements).
 */
static struct nrm_dbq *
inbox_send_many(struct inbox_batch *b, const int *first)
{
	struct inbox_waiter *iw = b->w[0];
	struct nrm_app *app = iw->w.r->app;
	struct evbuffer *buf = evbuffer_new();
	char *arr[4];
	const char *values[9];
	struct nrm_dbq *q = NULL;

	if (buf == NULL || app->db == NULL || !nrm_db_ready(app->db))
		goto out;
	for (int a = 0; a < 4; a++) {
		evbuffer_add(buf, "{", 1);
		for (int e = 0; e < b->n_elem; e++) {
			struct nrm_dbapi_call c;
			char hex[2 * 64 + 3] = "\\x";
			struct nrm_req *r = b->w[first[e]]->w.r;

			switch (a) {
			case 0: /* the credential, as nrm_dbapi_begin has it */
				nrm_dbapi_begin(&c, r);
				for (int k = 0; k < c.lengths[0]; k++)
					snprintf(hex + 2 + 2 * k, 3, "%02x",
					    c.credential[k]);
				inbox_elem(buf, hex);
				break;
			case 1:
				inbox_elem(buf, r->id);
				break;
			case 2:
				inbox_elem_or_null(buf, r->client_addr);
				break;
			default: /* a read that does not wait may have none */
				inbox_elem_or_null(buf, b->w[first[e]]->since);
				break;
			}
		}
		arr[a] = inbox_array(buf);
		evbuffer_drain(buf, evbuffer_get_length(buf));
	}
	values[0] = arr[0];
	values[1] = arr[1];
	values[2] = arr[2];
	values[3] = arr[3];
	values[4] = iw->state;
	values[5] = iw->priority[0] != '\0' ? iw->priority : NULL;
	values[6] = iw->after_key[0] != '\0' ? iw->after_key : NULL;
	values[7] = iw->limit;
	values[8] = iw->mine;
	q = nrm_db_exec(app->db, NRM_STMT_INBOX_MANY, 9, values, NULL, NULL,
	    inbox_many_done, b);
	for (int a = 0; a < 4; a++)
		free(arr[a]);
out:
	if (buf != NULL)
		evbuffer_free(buf);
	return q;
}

/* Send the batch's query (its waiters ask the same); NULL: not sent. */
static struct nrm_dbq *
inbox_send(struct inbox_batch *b)
{
	struct inbox_waiter *iw = b->w[0];
	struct nrm_req *r = iw->w.r;
	struct nrm_dbapi_call call;

	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, iw->state);
	nrm_dbapi_text(&call, iw->priority[0] != '\0' ? iw->priority : NULL);
	nrm_dbapi_text(&call, iw->after_key[0] != '\0' ? iw->after_key : NULL);
	nrm_dbapi_text(&call, iw->since[0] != '\0' ? iw->since : NULL);
	nrm_dbapi_text(&call, iw->limit);
	nrm_dbapi_text(&call, iw->mine);
	if (r->app->db == NULL || !nrm_db_ready(r->app->db))
		return NULL;
	return nrm_db_exec(r->app->db, NRM_STMT_INBOX, call.n, call.values,
	    call.lengths, call.formats, inbox_done, b);
}

/*
 * The registry's requery: one query for the group ws (all querying, all
 * asking the same).  When it cannot be sent the waiters are answered
 * at once (inbox_batch_failed) and the slot given back.
 */
void
nrm_h_inbox_requery(struct nrm_waiters *reg, struct nrm_waiter **ws, int n)
{
	struct inbox_batch *b;
	int *first;
	int m = 0;

	b = nrm_xmalloc(sizeof(*b) + (size_t)n * sizeof(b->w[0]));
	b->elem = NULL;
	for (int i = 0; i < n; i++) {
		struct inbox_waiter *iw = inbox_of(ws[i]);

		if (iw->w.r->gone) {
			iw->w.querying = false;
			inbox_answer(iw); /* frees; writes nothing */
			continue;
		}
		b->w[m++] = iw;
	}
	b->n = m;
	if (m == 0) {
		free(b);
		nrm_waiters_query_done(reg);
		return;
	}
	/*
	 * One reader (a lone read, or one coordinator's long-polls with one
	 * watermark): its api.inbox.  More: one api.inbox_many, which
	 * authenticates and audits each.  Both answers' pages are rendered
	 * alike (inbox_render).
	 */
	first = inbox_elements(b);
	if (b->n_elem == 1) {
		free(b->elem);
		b->elem = NULL;
		b->w[0]->w.r->q = inbox_send(b);
	} else {
		b->w[0]->w.r->q = inbox_send_many(b, first);
	}
	free(first);
	if (b->w[0]->w.r->q == NULL) {
		inbox_batch_failed(b, NRM_DB_UNAVAILABLE, NULL);
		free(b->elem);
		free(b);
		nrm_waiters_query_done(reg);
	}
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

void
nrm_h_inbox(struct nrm_req *r)
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
		w->w.question = inbox_question(w);
		w->w.reader = inbox_reader(w);
		if (app->db == NULL || !nrm_db_ready(app->db)) {
			inbox_waiter_free(w);
			nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
			    "the database is unavailable; retry later");
			return;
		}
		nrm_waiter_enqueue(&w->w); /* its first query, in turn */
		return;
	}
	/*
	 * A read that does not wait takes its turn in the registry's queue
	 * (its own reader: authenticated and audited on its own): while
	 * every slot is busy, reads of the same question queue together and
	 * share one query, and one page per scope (docs/performance.md,
	 * "Reads of one question share a query").  Sent after it arrived,
	 * that query sees every commit the client saw acknowledged.
	 */
	if (app->db == NULL || !nrm_db_ready(app->db)) {
		free(w);
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    "the database is unavailable; retry later");
		return;
	}
	w->w.question = inbox_question(w);
	w->w.reader = nrm_fnv1a64(NRM_FNV1A64_BASIS, r->id, strlen(r->id));
	nrm_waiter_deadline(&w->w, app->cfg.db_query_timeout * 1000 + 1000);
	nrm_waiter_enqueue(&w->w);
	return;
out:
	evhttp_clear_headers(&q);
	free(w);
}
