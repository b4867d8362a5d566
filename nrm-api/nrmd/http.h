/*
 * http.h - the HTTP edge: evhttp servers (plain and TLS) on the daemon's
 * loop, request objects, dispatch to the endpoint table's handlers, and
 * replies.  http.c is the server and sends the one reply that frees a
 * request (nrm_req_reply); req.c has the helpers a handler reads and
 * answers its request with (the nrm_req_* functions built on it).
 *
 * Request lifetime: http creates a struct nrm_req for every request that
 * reaches the application and frees it in exactly one place, when the
 * reply is sent (nrm_req_reply() and the helpers below all end there).
 * A handler either replies before returning or starts one database query
 * whose callback replies.  If the client goes away meanwhile, the
 * connection's close callback marks the request gone; the reply then
 * only releases it (libevent frees the detached evhttp_request, see
 * libevent#997), and nothing is written.
 *
 * Client limits: header and body sizes, read/write inactivity timeouts,
 * a deadline for each request to arrive whole, and the number of open
 * connections (see conn.h).  They are read from the application's live
 * config (app.h) when the servers start and on nrm_http_apply_limits().
 *
 * Draining: after nrm_http_drain() the listeners are closed; requests
 * that already arrived are still served (their replies say Connection:
 * close).  http owns its counters and its draining flag and knows
 * nothing of the daemon: whenever it is draining and has become quiet
 * (nothing left to answer, to send or arriving) it calls the idle
 * callback, possibly more than once.
 */
#ifndef NRM_HTTP_H
#define NRM_HTTP_H

#include "app.h"
#include "nrm/nrm.h"
#include "principal.h"

struct cJSON;

struct evhttp_request;
struct evkeyvalq;
struct nrm_dbq;
struct nrm_endpoint;
struct nrm_hist;
struct ssl_ctx_st; /* OpenSSL's SSL_CTX */

struct nrm_req {
	struct nrm_app *app;
	struct evhttp_request *ev;
	const struct nrm_endpoint *endpoint;
	bool gone; /* client closed before the reply */
	char id[32]; /* request id, sent as X-Request-Id */
	char param[80]; /* the {id} segment of the path, if any */
	char client_addr[64];
	int64_t started_ms;
	int64_t started_us; /* for the duration histogram */
	struct nrm_dbq *q; /* pending database query, if any */
	unsigned char token_hash[32];
	bool has_token;
	bool by_cookie; /* token_hash is of the session cookie (session.h) */
	bool tls; /* arrived on the TLS listener */
	bool close; /* the reply says Connection: close (framing.h) */
	const char *cache_control; /* NULL: "no-store" (see nrm_req_reply) */
	struct nrm_principal principal; /* set by the auth column */
	char *body; /* NUL-terminated copy of the request body */
	size_t body_len;
	int status;
};

/*
 * A handler: it replies before it returns, or starts one database query
 * whose callback replies (see the request lifetime above).
 */
typedef void (*nrm_handler_cb)(struct nrm_req *r);

/*
 * Who may call an endpoint: its auth column, applied by the router
 * (nrm_auth_gate(), auth.h) after the flood guard and before the
 * handler, so that every request is authenticated, then authorized,
 * and only then has its body read.
 */
enum nrm_auth_kind {
	/* anyone: the handler authenticates itself, if at all */
	NRM_AUTH_OPEN,
	/* a well-formed credential (nrm_auth_token); the handler's one
	 * api.* call authenticates it and decides what it may see */
	NRM_AUTH_TOKEN,
	/* a principal of one of `roles` (cache or api.authorize, which
	 * audits a denial of `action` on the route's object) */
	NRM_AUTH_ROLE,
	/* the same, always asked of the database (api.record), which also
	 * audits the allowed `action`: for endpoints that store nothing */
	NRM_AUTH_RECORD,
};

/*
 * One HTTP endpoint: a method on a path pattern, who may call it, and
 * its handler, which finds its own parameters, when it takes any, in
 * `arg` (r->endpoint).  The handler runs only for a caller its auth
 * column let through, with r->principal set for ROLE and RECORD.
 */
struct nrm_endpoint {
	const char *method; /* "GET", "POST", ... */
	const char *pattern; /* "/v1/signals/{id}": {id} is one segment */
	nrm_handler_cb handler;
	const void *arg; /* the handler's parameters, or NULL */
	/* the auth column; the last three for ROLE and RECORD only */
	enum nrm_auth_kind auth;
	unsigned roles; /* mask of enum nrm_role */
	const char *action; /* audited as: "case.take" */
	const char *object_type; /* the route's object: "case" */
};

/* Called when http is draining and has become quiet (see above). */
typedef void (*nrm_http_idle_cb)(void *arg);

struct nrm_http;

/*
 * Listen on app->cfg.listen (and listen_tls when set) on app->base and
 * dispatch every request to the endpoint of `table` (n entries, which
 * must outlive the servers) that matches it: 405 with Allow when the
 * path exists for other methods, 404 otherwise.
 */
int nrm_http_start(struct nrm_http **out, struct nrm_app *app,
    const struct nrm_endpoint *table, size_t n,
    struct nrm_error *err) NRM_MUSTCHECK;

/*
 * The handler of GET and HEAD requests whose path no endpoint has (the
 * console's files, handlers/web.c); it replies, 404 included.  Without
 * one (the default) such requests are answered 404.
 */
void nrm_http_set_fallback(struct nrm_http *h, nrm_handler_cb cb);

/* Register the idle callback (replaces any earlier one). */
void nrm_http_set_idle_cb(struct nrm_http *h, nrm_http_idle_cb cb, void *arg);

/* Apply the reloadable limits of the live config. */
void nrm_http_apply_limits(struct nrm_http *h);

/*
 * Stop accepting connections and mark replies Connection: close; calls
 * the idle callback at once when already quiet.
 */
void nrm_http_drain(struct nrm_http *h);

/* True after nrm_http_drain(). */
bool nrm_http_draining(const struct nrm_http *h);

/* What /metrics reports of the edge. */
struct nrm_http_stats {
	uint64_t requests; /* received */
	uint64_t framing_refused; /* heads the strict edge refused */
	uint64_t parser_refused; /* refused by libevent itself (conn.h) */
	uint64_t responses[6]; /* by status class 1xx..5xx, [0] unused */
	uint64_t accept_pauses; /* accept() ran out of descriptors */
	/* new connections closed by conn.h's guards */
	uint64_t conn_fd_reserve, conn_per_address, conn_handshake;
	int inflight; /* not yet answered */
	int writing; /* answered, the reply not yet all in the socket */
	int arriving; /* partly received (handler not yet run) */
	/* request durations, [route * 5 + class - 1]: route i < n_endpoints
	 * is table[i], route n_endpoints "other"; http's own memory */
	const struct nrm_endpoint *table;
	size_t n_endpoints;
	const struct nrm_hist *durations;
};
void nrm_http_stats(struct nrm_http *h, struct nrm_http_stats *out);

void nrm_http_free(struct nrm_http *h);

/*
 * Send a reply with this body and free the request.  Every reply carries
 * X-Request-Id, Cache-Control (r->cache_control, else no-store) and the
 * security headers of NRM_HTTP_CSP, nosniff and Referrer-Policy:
 * no-referrer; a reply on the TLS listener also Strict-Transport-Security
 * (NRM_HTTP_HSTS), one on the plain listener never.  A HEAD request's
 * reply carries the Content-Length of `body` and not the body itself.
 */
#define NRM_HTTP_CSP \
	"default-src 'self'; object-src 'none'; frame-ancestors 'none'; " \
	"base-uri 'none'; form-action 'self'"
#define NRM_HTTP_HSTS "max-age=31536000"

void nrm_req_reply(struct nrm_req *r, int status, const char *ctype,
    const char *body, size_t len);

/* Reply with a JSON text (status 2xx); `location` may be NULL. */
void nrm_req_json(
    struct nrm_req *r, int status, const char *json, const char *location);

/*
 * Reply `status` with the compact JSON of o, or 500 when it cannot be
 * printed (out of memory); o stays the caller's.
 */
void nrm_req_json_obj(struct nrm_req *r, int status, const struct cJSON *o);

/* Reply with the problem+json of `err`. */
void nrm_req_problem(struct nrm_req *r, const struct nrm_error *err);

/*
 * The same, with an extension member `key` holding the JSON text `json`,
 * or with `key` NULL, the members of the JSON object `json` merged in.
 */
void nrm_req_problem_ext(struct nrm_req *r, const struct nrm_error *err,
    const char *key, const char *json);

/* Build an error and reply with it. */
void nrm_req_fail(struct nrm_req *r, enum nrm_errcode code, const char *field,
    const char *fmt, ...) NRM_PRINTF(4, 5);

/*
 * The route's {id} when it is a uuid, else the nil uuid: a malformed id
 * is looked up like an unknown one and gets the same 404.
 */
const char *nrm_req_uuid_param(const struct nrm_req *r);

/*
 * If-Match: absent or "*" -> no precondition (buf ""); "N", W/"N" or N
 * (1..2^31-1) -> that version in buf.  Anything else is answered 400 on
 * field If-Match ("If-Match must be <what> (\"N\")") and NRM_ERR
 * returned.
 */
int nrm_req_if_match(
    struct nrm_req *r, const char *what, char *buf, size_t n) NRM_MUSTCHECK;

/*
 * True when the request arrived on the TLS listener: the only one on
 * which a session cookie may be set (a __Host- cookie is Secure).
 */
bool nrm_req_tls(const struct nrm_req *r);

/*
 * The SHA-256 of the client certificate the request's TLS connection
 * presented and that verified against tls_client_ca_file: NRM_OK; else
 * (plain listener, no certificate) NRM_ERR.
 */
int nrm_req_client_cert(
    const struct nrm_req *r, unsigned char sha256[32]) NRM_MUSTCHECK;

/* a and b presented the same client certificate, or neither has one. */
bool nrm_req_same_cert(const struct nrm_req *a, const struct nrm_req *b);

/*
 * Serve new TLS connections with `ctx` (taken; reload): true when
 * swapped, false (ctx freed) when there is no TLS listener.
 * Connections already open keep the context they started with.
 */
bool nrm_http_tls_swap(struct nrm_http *h, struct ssl_ctx_st *ctx);

/* A request header, or NULL. */
const char *nrm_req_header(const struct nrm_req *r, const char *name);

/*
 * The NRM-Purpose and NRM-Reason headers of an audited read, each a code
 * (a lowercase letter, then up to 63 of a-z and _) or NULL when absent.
 * Anything else is answered 400 naming field "purpose" or "reason", and
 * NRM_ERR returned.  The database decides which codes are known.
 */
int nrm_req_purpose(
    struct nrm_req *r, const char **purpose, const char **reason) NRM_MUSTCHECK;

/* Add a response header (before replying). */
void nrm_req_add_header(struct nrm_req *r, const char *name, const char *value);

/*
 * Read the body (enforcing max_body_size: 413) and, when `json`, the
 * content type (415).  On failure it has already replied: return.
 */
int nrm_req_read_body(struct nrm_req *r, bool json) NRM_MUSTCHECK;

/*
 * Read the body as one JSON object with the strict reader
 * (nrm_json_parse_object: with keys, only keys[0..n) may occur and
 * slot[] receives them; n < 0 lets any key through).  When `empty_ok`,
 * a request without Content-Type has the empty body {}.  The caller
 * deletes *out.  On failure it has already replied: return.
 */
int nrm_req_body_object(struct nrm_req *r, bool empty_ok,
    const char *const *keys, int n, const struct cJSON **slot,
    struct cJSON **out) NRM_MUSTCHECK;

/*
 * A request body made ready for an api.* call: `root` printed compactly
 * into *out (malloc'd: the caller frees it) and deleted.  Out of memory:
 * replied 500, NRM_ERR.
 */
int nrm_req_print_take(
    struct nrm_req *r, struct cJSON *root, char **out) NRM_MUSTCHECK;

/*
 * The request's JSON object body, any keys let through (the database
 * names the unknown ones), printed (nrm_req_print_take).  On failure it
 * has already replied: return.
 */
int nrm_req_body_text(struct nrm_req *r, char **out) NRM_MUSTCHECK;

/* Query-string parameters of the request URI (caller frees with evhttp_clear_headers). */
int nrm_req_query(const struct nrm_req *r, struct evkeyvalq *out) NRM_MUSTCHECK;

/*
 * The query of a keyset-paged list: only the parameters known[0..n)
 * may occur (else 400 naming the first other one); "limit", when
 * present, is 1 to 3 digits (its range is the database's) and "cursor"
 * a UUID (else 400 naming it).  On NRM_OK *out holds the parameters
 * (caller frees with evhttp_clear_headers); on failure it has already
 * replied and freed them: return.
 */
int nrm_req_page_query(struct nrm_req *r, struct evkeyvalq *out,
    const char *const *known, size_t n) NRM_MUSTCHECK;

#endif /* NRM_HTTP_H */
