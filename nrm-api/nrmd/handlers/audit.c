/*
 * handlers/audit.c - the audit log for auditors:
 *
 *   GET /v1/audit              search: ?principal= &person= &agency= &object_type=
 *                              &object_id= &action= &purpose= &outcome=
 *                              &from= &to= (RFC 3339) &limit=1..200
 *                              &cursor= (next_after of the last page);
 *                              newest first; the search is audited
 *   GET /v1/audit/verify       recompute the chain in the database and
 *                              check this daemon's signed checkpoints
 *   GET /v1/audit/checkpoints  the signed checkpoints and the public key
 *   GET /v1/audit/reviews      events flagged for review (emergency
 *                              reads): ?state=pending|reviewed|all
 *                              &limit=1..200 &cursor=; oldest first
 *   POST /v1/audit/reviews/{event_id}
 *                              {"verdict": "justified"|"unjustified"},
 *                              once per event
 *
 * Sealing the chain and signing its head are periodic jobs (jobs.c).
 */
#include "checkpoint.h"
#include "dbapi.h"
#include "log.h"
#include "endpoints.h"
#include "util.h"

#include "nrm/json.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/* GET /v1/audit's parameters; all but the last two are filters. */
static const char *const audit_search_params[] = {
    "principal",
    "person",
    "agency",
    "object_type",
    "object_id",
    "action",
    "purpose",
    "outcome",
    "from",
    "to",
    "limit",
    "cursor",
    NULL,
};
#define AUDIT_N_FILTERS 10

static const char *const audit_reviews_params[] = {
    "state",
    "limit",
    "cursor",
    NULL,
};

/*
 * A paging parameter: absent, or 1..maxlen decimal digits.  Replies 400
 * naming it and returns NRM_ERR otherwise.
 */
static int
audit_digits(struct nrm_req *r, const char *name, const char *v, size_t maxlen)
{
	size_t n;

	if (v == NULL)
		return NRM_OK;
	n = strlen(v);
	if (n >= 1 && n <= maxlen && strspn(v, "0123456789") == n)
		return NRM_OK;
	nrm_req_fail(r, NRM_E_BAD_REQUEST, name, "%s is not valid", name);
	return NRM_ERR;
}

/* The index of `key` in the NULL-terminated `names`, or -1. */
static int
audit_param_index(const char *const *names, const char *key)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(key, names[i]) == 0)
			return i;
	return -1;
}

/*
 * Read the query string into *q: only the parameters in `known`, and
 * `limit` and `cursor` (when given) digits.  NRM_ERR after replying 400
 * naming the parameter (q already cleared); else the caller clears q.
 */
static int
audit_query(struct nrm_req *r, const char *const *known, struct evkeyvalq *q)
{
	struct evkeyval *kv;

	if (nrm_req_query(r, q) != NRM_OK) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "", "malformed query");
		return NRM_ERR;
	}
	TAILQ_FOREACH(kv, q, next)
	{
		if (audit_param_index(known, kv->key) < 0) {
			char field[64];

			snprintf(field, sizeof(field), "%.60s", kv->key);
			evhttp_clear_headers(q);
			nrm_req_fail(r, NRM_E_BAD_REQUEST, field,
			    "unknown query parameter");
			return NRM_ERR;
		}
	}
	if (audit_digits(r, "limit", evhttp_find_header(q, "limit"), 3) !=
		NRM_OK ||
	    audit_digits(r, "cursor", evhttp_find_header(q, "cursor"), 18) !=
		NRM_OK) {
		evhttp_clear_headers(q);
		return NRM_ERR;
	}
	return NRM_OK;
}

void
nrm_h_audit_search(struct nrm_req *r)
{
	struct evkeyvalq q;
	cJSON *filters;
	const char *limit, *cursor;
	char *ftext = NULL;
	struct evkeyval *kv;

	if (audit_query(r, audit_search_params, &q) != NRM_OK)
		return;
	filters = cJSON_CreateObject();
	TAILQ_FOREACH(kv, &q, next)
	{
		int i = audit_param_index(audit_search_params, kv->key);

		if (i >= 0 && i < AUDIT_N_FILTERS)
			cJSON_AddStringToObject(filters, kv->key, kv->value);
	}
	limit = evhttp_find_header(&q, "limit");
	cursor = evhttp_find_header(&q, "cursor");
	ftext = cJSON_PrintUnformatted(filters);
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_AUDIT_SEARCH, ftext, cursor,
	    limit != NULL ? limit : "50");
	evhttp_clear_headers(&q);
	free(ftext);
	cJSON_Delete(filters);
}

/*
 * The database's verdict, and this daemon's on the retention anchor's
 * signature (the database has no Ed25519): a 200 body whose anchor may
 * not be trusted is rewritten to intact false before the reply.
 */
static void
audit_verify_answered(struct nrm_req *r, void *arg, const char *text)
{
	cJSON *root;
	cJSON *body;
	const cJSON *status;
	char *out = NULL;

	NRM_UNUSED(arg);
	r->app->audit_verifying = false;
	if (text == NULL)
		return;
	root = cJSON_Parse(text);
	status = cJSON_GetObjectItemCaseSensitive(root, "status");
	body = cJSON_GetObjectItemCaseSensitive(root, "body");
	if (r->app->checkpoints != NULL && cJSON_IsNumber(status) &&
	    status->valueint == 200 && cJSON_IsObject(body)) {
		if (nrm_checkpoints_judge_anchor(r->app->checkpoints, body) !=
		    NRM_OK) {
			cJSON_Delete(root);
			nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
			return;
		}
		out = cJSON_PrintUnformatted(root);
	}
	nrm_dbapi_answer(r, out != NULL ? out : text, NULL);
	free(out);
	cJSON_Delete(root);
}

void
nrm_h_audit_verify(struct nrm_req *r)
{
	struct nrm_dbapi_call call;
	char *cps = r->app->checkpoints != NULL
	    ? nrm_checkpoints_json(
		  r->app->checkpoints, NRM_CHECKPOINTS_VERIFY_MAX)
	    : NULL;
	char ra[16];

	/*
	 * One verification at a time per daemon: it is the one long query
	 * of the API, and concurrent ones would take the pool from intake.
	 */
	if (r->app->audit_verifying) {
		free(cps);
		snprintf(ra, sizeof(ra), "%d", r->app->cfg.retry_after);
		nrm_req_add_header(r, "Retry-After", ra);
		nrm_req_fail(r, NRM_E_CONFLICT, "",
		    "another audit verification is running; retry later");
		return;
	}
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, cps);
	r->app->audit_verifying = true;
	if (nrm_dbapi_exec_text(r, NRM_STMT_AUDIT_VERIFY, &call,
		audit_verify_answered, NULL) != NRM_OK)
		r->app->audit_verifying = false; /* replied 503 */
	free(cps);
}

void
nrm_h_audit_checkpoints(struct nrm_req *r)
{
	struct nrm_checkpoints *cp = r->app->checkpoints;
	cJSON *o = cJSON_CreateObject();
	char *list = cp != NULL ? nrm_checkpoints_json(cp, 0) : NULL;
	char *pem = cp != NULL ? nrm_checkpoints_public_pem(cp) : NULL;

	cJSON_AddBoolToObject(o, "enabled", cp != NULL);
	if (pem != NULL)
		cJSON_AddStringToObject(o, "public_key", pem);
	else
		cJSON_AddNullToObject(o, "public_key");
	cJSON_AddItemToObject(o, "checkpoints",
	    list != NULL ? cJSON_Parse(list) : cJSON_CreateArray());
	nrm_req_json_obj(r, 200, o);
	free(list);
	free(pem);
	cJSON_Delete(o);
}

/* --- the review queue -------------------------------------------------- */

void
nrm_h_audit_reviews(struct nrm_req *r)
{
	struct evkeyvalq q;
	const char *state, *limit, *cursor;

	if (audit_query(r, audit_reviews_params, &q) != NRM_OK)
		return;
	state = evhttp_find_header(&q, "state");
	limit = evhttp_find_header(&q, "limit");
	cursor = evhttp_find_header(&q, "cursor");
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_AUDIT_REVIEWS,
	    state != NULL ? state : "pending", cursor,
	    limit != NULL ? limit : "50");
	evhttp_clear_headers(&q);
}

void
nrm_h_audit_review(struct nrm_req *r)
{
	static const char *const keys[] = {"verdict"};
	const cJSON *slot[1];
	cJSON *root;
	const char *verdict;
	/* A malformed event id is looked up as 0: the same 404. */
	const char *id = strlen(r->param) >= 1 && strlen(r->param) <= 18 &&
		strspn(r->param, "0123456789") == strlen(r->param)
	    ? r->param
	    : "0";

	if (nrm_req_body_object(r, false, keys, 1, slot, &root) != NRM_OK)
		return;
	if (slot[0] != NULL && !cJSON_IsString(slot[0])) {
		cJSON_Delete(root);
		nrm_req_fail(
		    r, NRM_E_VALIDATION, "verdict", "verdict must be a string");
		return;
	}
	verdict = slot[0] != NULL ? slot[0]->valuestring : NULL;
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_AUDIT_REVIEW, id, verdict);
	cJSON_Delete(root);
}
