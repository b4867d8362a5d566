/*
 * dbapi.c - api.* calls and their answers (see dbapi.h).
 */
#include "dbapi.h"
#include "guard.h"
#include "log.h"
#include "problem.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dbapi_ctx {
	struct nrm_req *r;
	nrm_dbapi_answer_cb hook;
	nrm_dbapi_text_cb text_cb; /* nrm_dbapi_exec_text() */
	void *arg;
};

void
nrm_dbapi_begin(struct nrm_dbapi_call *c, const struct nrm_req *r)
{
	size_t n = sizeof(r->token_hash);

	memset(c, 0, sizeof(*c));
	memcpy(c->credential, r->token_hash, n);
	if (nrm_req_client_cert(r, c->credential + n) == NRM_OK)
		n += 32;
	nrm_dbapi_bytes(c, c->credential, n);
	nrm_dbapi_text(c, r->id);
	nrm_dbapi_text(c, r->client_addr[0] != '\0' ? r->client_addr : NULL);
}

void
nrm_dbapi_begin_anon(struct nrm_dbapi_call *c, const struct nrm_req *r)
{
	memset(c, 0, sizeof(*c));
	nrm_dbapi_text(c, r->id);
	nrm_dbapi_text(c, r->client_addr[0] != '\0' ? r->client_addr : NULL);
}

void
nrm_dbapi_text(struct nrm_dbapi_call *c, const char *v)
{
	if (c->n >= NRM_DBAPI_MAX_PARAMS)
		return;
	c->values[c->n] = v;
	c->lengths[c->n] = 0;
	c->formats[c->n] = 0;
	c->n++;
}

void
nrm_dbapi_bytes(struct nrm_dbapi_call *c, const void *v, size_t n)
{
	if (c->n >= NRM_DBAPI_MAX_PARAMS)
		return;
	c->values[c->n] = v;
	c->lengths[c->n] = (int)n;
	c->formats[c->n] = 1;
	c->n++;
}

void
nrm_dbapi_fail(
    struct nrm_req *r, enum nrm_db_outcome outcome, const PGresult *res)
{
	const char *state = NULL;

	switch (outcome) {
	case NRM_DB_UNAVAILABLE:
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    "the database is unavailable; retry later");
		return;
	case NRM_DB_TIMEOUT:
		nrm_req_fail(r, NRM_E_TIMEOUT, "",
		    "the database did not answer in time; retry later");
		return;
	case NRM_DB_ERROR:
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		break;
	case NRM_DB_OK:
		break;
	}
	if (state == NULL)
		state = "XX000";
	if (strcmp(state, "57014") == 0 || strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0 || strncmp(state, "08", 2) == 0 ||
	    strcmp(state, "57P01") == 0 || strcmp(state, "57P03") == 0 ||
	    strcmp(state, "53300") == 0) {
		nrm_warn("database error req=%s sqlstate=%s", r->id, state);
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    "the database could not complete the request; retry "
		    "later");
		return;
	}
	/* 42883 undefined function / 3F000 schema: not migrated yet. */
	if (strcmp(state, "42883") == 0 || strcmp(state, "3F000") == 0 ||
	    strcmp(state, "42P01") == 0) {
		nrm_warn(
		    "database schema missing req=%s sqlstate=%s", r->id, state);
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    "the database schema is not ready");
		return;
	}
	{
		const char *cons =
		    PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

		nrm_error("database error req=%s sqlstate=%s constraint=%s",
		    r->id, state, cons != NULL ? cons : "-");
	}
	nrm_req_fail(r, NRM_E_INTERNAL, "", "the request could not be stored");
}

cJSON *
nrm_dbapi_answer_member(struct nrm_req *r, const char *text, int status,
    const char *name, cJSON **root)
{
	cJSON *st, *member;

	*root = cJSON_Parse(text);
	st = cJSON_GetObjectItemCaseSensitive(*root, "status");
	member = cJSON_GetObjectItemCaseSensitive(*root, name);
	if (cJSON_IsNumber(st) && st->valueint == status &&
	    cJSON_IsObject(member))
		return member;
	cJSON_Delete(*root);
	*root = NULL;
	nrm_dbapi_answer(r, text, NULL);
	return NULL;
}

/* Reply from {"status","body","location","problem"}. */
void
nrm_dbapi_answer(struct nrm_req *r, const char *text, nrm_dbapi_answer_cb hook)
{
	cJSON *root = cJSON_Parse(text);
	cJSON *st, *body, *loc, *prob;
	int status;

	if (root == NULL || !cJSON_IsObject(root)) {
		nrm_error("unexpected api answer req=%s", r->id);
		cJSON_Delete(root);
		nrm_req_fail(r, NRM_E_INTERNAL, "", "unexpected answer");
		return;
	}
	st = cJSON_GetObjectItemCaseSensitive(root, "status");
	status = cJSON_IsNumber(st) ? st->valueint : 500;
	if (hook != NULL)
		hook(r, status);
	prob = cJSON_GetObjectItemCaseSensitive(root, "problem");
	/* unknown, revoked or expired: refused at the edge for a while; a
	 * valid key refused for want of its client certificate is not */
	if (status == 401 && r->has_token &&
	    !cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(prob, "certificate_required")))
		nrm_guard_rejected(r);
	if (status >= 400 || cJSON_IsObject(prob)) {
		struct nrm_error err;
		cJSON *code = cJSON_GetObjectItemCaseSensitive(prob, "code");
		cJSON *detail =
		    cJSON_GetObjectItemCaseSensitive(prob, "detail");
		cJSON *field = cJSON_GetObjectItemCaseSensitive(prob, "field");
		char *extra = NULL;

		nrm_error_clear(&err);
		err.code = cJSON_IsString(code)
		    ? nrm_problem_code_by_name(code->valuestring)
		    : NRM_E_INTERNAL;
		if (cJSON_IsString(detail))
			snprintf(err.detail, sizeof(err.detail), "%s",
			    detail->valuestring);
		if (cJSON_IsString(field))
			snprintf(err.field, sizeof(err.field), "%s",
			    field->valuestring);
		/* Extension members (a case's state, holder, version). */
		cJSON_DeleteItemFromObjectCaseSensitive(prob, "code");
		cJSON_DeleteItemFromObjectCaseSensitive(prob, "detail");
		cJSON_DeleteItemFromObjectCaseSensitive(prob, "field");
		if (cJSON_IsObject(prob) && prob->child != NULL)
			extra = cJSON_PrintUnformatted(prob);
		cJSON_Delete(root);
		nrm_req_problem_ext(r, &err, NULL, extra);
		free(extra);
		return;
	}
	body = cJSON_GetObjectItemCaseSensitive(root, "body");
	loc = cJSON_GetObjectItemCaseSensitive(root, "location");
	{
		/* A versioned resource: its version is the ETag. */
		cJSON *ver = cJSON_GetObjectItemCaseSensitive(body, "version");

		if (cJSON_IsNumber(ver)) {
			char etag[32];

			snprintf(etag, sizeof(etag), "\"%d\"", ver->valueint);
			nrm_req_add_header(r, "ETag", etag);
		}
	}
	{
		char *json = body != NULL ? cJSON_PrintUnformatted(body) : NULL;

		nrm_req_json(r, status, json != NULL ? json : "{}",
		    cJSON_IsString(loc) ? loc->valuestring : NULL);
		free(json);
	}
	cJSON_Delete(root);
}

static void
dbapi_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct dbapi_ctx *ctx = arg;
	const char *text = NULL;

	ctx->r->q = NULL;
	if (outcome != NRM_DB_OK) {
		nrm_dbapi_fail(ctx->r, outcome, res);
	} else if (PQntuples(res) != 1 || PQnfields(res) != 1 ||
	    PQgetisnull(res, 0, 0)) {
		nrm_error("unexpected api result shape req=%s", ctx->r->id);
		nrm_req_fail(ctx->r, NRM_E_INTERNAL, "", "unexpected answer");
	} else {
		text = PQgetvalue(res, 0, 0);
	}
	/* text stays valid until this returns (res is the pool's). */
	if (ctx->text_cb != NULL)
		ctx->text_cb(ctx->r, ctx->arg, text);
	else if (text != NULL)
		nrm_dbapi_answer(ctx->r, text, ctx->hook);
	free(ctx);
}

int
nrm_dbapi_exec(struct nrm_req *r, enum nrm_stmt stmt,
    const struct nrm_dbapi_call *c, nrm_db_cb cb, void *arg)
{
	struct nrm_db *db = r->app->db;

	r->q = NULL;
	if (db != NULL && nrm_db_ready(db))
		r->q = nrm_db_exec(
		    db, stmt, c->n, c->values, c->lengths, c->formats, cb, arg);
	if (r->q != NULL)
		return NRM_OK;
	nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
	    "the database is unavailable; retry later");
	return NRM_ERR;
}

void
nrm_dbapi_send(struct nrm_req *r, enum nrm_stmt stmt,
    const struct nrm_dbapi_call *c, nrm_dbapi_answer_cb hook)
{
	struct dbapi_ctx *ctx = nrm_xcalloc(1, sizeof(*ctx));

	ctx->r = r;
	ctx->hook = hook;
	if (nrm_dbapi_exec(r, stmt, c, dbapi_done, ctx) != NRM_OK)
		free(ctx);
}

int
nrm_dbapi_exec_text(struct nrm_req *r, enum nrm_stmt stmt,
    const struct nrm_dbapi_call *c, nrm_dbapi_text_cb cb, void *arg)
{
	struct dbapi_ctx *ctx = nrm_xcalloc(1, sizeof(*ctx));

	ctx->r = r;
	ctx->text_cb = cb;
	ctx->arg = arg;
	if (nrm_dbapi_exec(r, stmt, c, dbapi_done, ctx) == NRM_OK)
		return NRM_OK;
	free(ctx);
	return NRM_ERR;
}

void
nrm_dbapi_send_texts(
    struct nrm_req *r, enum nrm_stmt stmt, const char *const *texts, size_t n)
{
	struct nrm_dbapi_call call;

	nrm_dbapi_begin(&call, r);
	for (size_t i = 0; i < n; i++)
		nrm_dbapi_text(&call, texts[i]);
	nrm_dbapi_send(r, stmt, &call, NULL);
}
