/*
 * dbapi.h - calling the database's api.* functions from a handler and
 * turning their jsonb answer into the HTTP reply.
 *
 * Every api.* function takes (token_hash, request_id, client_addr, ...)
 * first and answers {"status": N, "body": {...}, "location": "...",
 * "problem": {"code", "detail", "field"}} (docs/sql-api.md).
 */
#ifndef NRM_DBAPI_H
#define NRM_DBAPI_H

#include "db.h"
#include "http.h"

#define NRM_DBAPI_MAX_PARAMS 16

/*
 * Parameters of one call; the first three are filled by _begin().  The
 * first is the caller's credential: SHA-256(token), followed, when the
 * request's TLS connection presented a client certificate that
 * verified, by that certificate's SHA-256 (64 bytes; mutual TLS, see
 * api.authenticate): every api.* call authenticates with both, so no
 * route can skip a key's certificate binding.
 */
struct nrm_dbapi_call {
	unsigned char credential[64];
	int n;
	const char *values[NRM_DBAPI_MAX_PARAMS];
	int lengths[NRM_DBAPI_MAX_PARAMS];
	int formats[NRM_DBAPI_MAX_PARAMS];
};

void nrm_dbapi_begin(struct nrm_dbapi_call *c, const struct nrm_req *r);

/*
 * The same for the functions that take no token (api.enrol_lookup,
 * api.enrol, api.login_begin, api.login_finish): request id and client
 * address only.
 */
void nrm_dbapi_begin_anon(struct nrm_dbapi_call *c, const struct nrm_req *r);

/* Append a text parameter (NULL = SQL NULL). */
void nrm_dbapi_text(struct nrm_dbapi_call *c, const char *v);

/* Append a binary bytea parameter (NULL = SQL NULL). */
void nrm_dbapi_bytes(struct nrm_dbapi_call *c, const void *v, size_t n);

/*
 * The one way a request reaches the database.  When the pool is ready
 * (nrm_db_ready()) and takes the query, r->q is the query, cb(arg, ...)
 * runs later from the loop (it must set r->q to NULL and reply), and
 * NRM_OK is returned.  Otherwise it replies 503 (with Retry-After) and
 * returns NRM_ERR: cb is not called and `arg` is still the caller's to
 * free.  The parameters are copied.
 */
int nrm_dbapi_exec(struct nrm_req *r, enum nrm_stmt stmt,
    const struct nrm_dbapi_call *c, nrm_db_cb cb, void *arg) NRM_MUSTCHECK;

/*
 * Called with the parsed answer before the reply is sent: for metrics.
 * May be NULL.
 */
typedef void (*nrm_dbapi_answer_cb)(struct nrm_req *r, int status);

/* Send the call (nrm_dbapi_exec); the reply is made from the answer. */
void nrm_dbapi_send(struct nrm_req *r, enum nrm_stmt stmt,
    const struct nrm_dbapi_call *c, nrm_dbapi_answer_cb hook);

/*
 * Send the request's call with the text parameters texts[0..n) (NULL =
 * SQL NULL) after the first three; the reply is made from the answer.
 */
void nrm_dbapi_send_texts(
    struct nrm_req *r, enum nrm_stmt stmt, const char *const *texts, size_t n);

/* nrm_dbapi_send_texts() of the text arguments that follow stmt. */
#define NRM_DBAPI_SEND_TEXTS(r, stmt, ...) \
	nrm_dbapi_send_texts((r), (stmt), (const char *const[]){__VA_ARGS__}, \
	    sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/*
 * Called with the api.* answer text of a call sent by nrm_dbapi_exec_text:
 * exactly once, with text NULL when the query failed and the reply has
 * been made (then only free arg).  r->q is already NULL.
 */
typedef void (*nrm_dbapi_text_cb)(
    struct nrm_req *r, void *arg, const char *text);

/*
 * nrm_dbapi_exec() whose callback gets the answer text (for handlers
 * that look into the answer before replying).  NRM_ERR: replied 503, cb
 * not called, arg still the caller's.
 */
int nrm_dbapi_exec_text(struct nrm_req *r, enum nrm_stmt stmt,
    const struct nrm_dbapi_call *c, nrm_dbapi_text_cb cb,
    void *arg) NRM_MUSTCHECK;

/* Reply from an api.* answer text (see the top of this file). */
void nrm_dbapi_answer(
    struct nrm_req *r, const char *text, nrm_dbapi_answer_cb hook);

/*
 * For a handler that works on an answer before replying: the member
 * `name` (an object) of the answer `text` when its status is `status`,
 * with the parsed answer in *root (the caller deletes it); else NULL,
 * *root NULL, and the reply made from the text (nrm_dbapi_answer: a
 * refusal or problem passed on as it is).
 */
cJSON *nrm_dbapi_answer_member(struct nrm_req *r, const char *text, int status,
    const char *name, cJSON **root);

/*
 * Map a failed query to a reply: 503 (with Retry-After) for
 * unavailability, timeouts, serialization failures and a connection
 * lost; 500 otherwise.  Logs the SQLSTATE only, never the message
 * (it may quote data).
 */
void nrm_dbapi_fail(
    struct nrm_req *r, enum nrm_db_outcome outcome, const PGresult *res);

#endif /* NRM_DBAPI_H */
