/*
 * http.c - the server side of the HTTP edge: evhttp servers and their
 * listeners, connection accounting, request objects from arrival to the
 * one reply that frees them (nrm_req_reply), dispatch to the endpoint
 * table, draining and stats (see http.h for the request lifetime).  The
 * handlers' helpers for reading and answering a request are in req.c.
 */
#include "http.h"
#include "auth.h"
#include "conn.h"
#include "crypto.h"
#include "db.h"
#include "framing.h"
#include "guard.h"
#include "hist.h"
#include "log.h"
#include "problem.h"
#include "tls.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <event2/http_struct.h> /* the request's HTTP version */
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

struct nrm_http {
	struct nrm_app *app;
	const struct nrm_endpoint *table;
	size_t n_endpoints;
	nrm_http_idle_cb idle_cb;
	void *idle_arg;
	nrm_handler_cb fallback; /* GET/HEAD of a path no endpoint has */
	struct nrm_conns *conns;
	struct evhttp *plain;
	struct evhttp *tls;
	struct evconnlistener *lev_plain;
	struct evconnlistener *lev_tls;
	SSL_CTX *ssl_ctx;
	int inflight;
	int writing; /* replies handed to evhttp, not yet fully sent */
	int in_evhttp; /* inside evhttp's own callback (http_gencb) */
	bool draining; /* listeners closed, replies say Connection: close */
	uint64_t requests;
	uint64_t responses[6]; /* by status class, [0] unused */
	uint64_t framing_refused; /* heads the strict edge refused */
	uint64_t parser_refused; /* requests libevent refused itself */
	/* durations by [route][class]: route n_endpoints is "other" (no
	 * endpoint: 404, 405, the console's files, a refused head) */
	struct nrm_hist *durations;
	uint64_t seq;
	char boot[9]; /* per-process prefix of request ids */
};

static const char *
http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

static const char *
http_method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	}
	return "UNKNOWN";
}

/* --- connection accounting ------------------------------------------ */

static void
http_listeners_set(struct nrm_http *h, bool on)
{
	struct evconnlistener *ls[] = {h->lev_plain, h->lev_tls};

	for (size_t i = 0; i < NRM_ARRAY_LEN(ls); i++) {
		if (ls[i] == NULL)
			continue;
		if (on)
			evconnlistener_enable(ls[i]);
		else
			evconnlistener_disable(ls[i]);
	}
}

static bool
http_quiet(struct nrm_http *h)
{
	return h->inflight == 0 && h->writing == 0 &&
	    nrm_conns_arriving(h->conns) == 0;
}

/* Something finished: when draining and quiet, tell the idle callback. */
static void
http_check_idle(struct nrm_http *h)
{
	if (h->draining && h->idle_cb != NULL && http_quiet(h))
		h->idle_cb(h->idle_arg);
}

/* A request began or stopped arriving. */
static void
http_conns_changed(void *arg)
{
	http_check_idle(arg);
}

/* The evhttp bufferevent of a request's connection, or NULL. */
static struct bufferevent *
http_req_bev(struct evhttp_request *ev)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);

	return evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
}

static struct bufferevent *
http_bev_plain(struct event_base *base, void *arg)
{
	struct nrm_http *h = arg;

	return nrm_conns_wrap(
	    h->conns, bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE));
}

static struct bufferevent *
http_bev_tls(struct event_base *base, void *arg)
{
	struct nrm_http *h = arg;
	SSL *ssl = SSL_new(h->ssl_ctx);

	if (ssl == NULL)
		return NULL;
	return nrm_conns_wrap(h->conns,
	    bufferevent_openssl_socket_new(base, -1, ssl,
		BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE));
}

/*
 * The answer that replaces libevent's own error page (conn.h): the same
 * status as problem+json, with a request id and the headers every reply
 * carries, closing the connection.  libevent does not say which part of
 * the request was at fault, so no field is named.
 */
static void
http_own_answer(
    void *arg, int minor, int status, const char *reason, struct evbuffer *out)
{
	struct nrm_http *h = arg;
	struct nrm_error err;
	char id[32], *body;

	nrm_error_clear(&err);
	err.code = status == 413 ? NRM_E_TOO_LARGE
	    : status == 501      ? NRM_E_METHOD
				 : NRM_E_BAD_REQUEST;
	snprintf(err.detail, sizeof(err.detail), "%s",
	    status == 413       ? "the body is larger than the limit"
		: status == 417 ? "the only expectation accepted is "
				  "100-continue"
		: status == 501 ? "this method is not implemented"
				: "the request line or a header is malformed");
	snprintf(
	    id, sizeof(id), "%s-%06llu", h->boot, (unsigned long long)++h->seq);
	body = nrm_problem_json_status(&err, id, status,
	    nrm_problem_status(err.code) == status ? nrm_problem_title(err.code)
						   : reason);
	if (body == NULL)
		return; /* libevent's page goes out as it is */
	h->parser_refused++;
	h->responses[status / 100]++;
	nrm_info(
	    "request refused by the HTTP parser req=%s status=%d", id, status);
	evbuffer_add_printf(out,
	    "HTTP/1.%d %d %s\r\nContent-Type: application/problem+json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n"
	    "X-Request-Id: %s\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Security-Policy: " NRM_HTTP_CSP "\r\n"
	    "Referrer-Policy: no-referrer\r\n\r\n%s",
	    minor, status, reason, strlen(body), id, body);
	free(body);
}

/* --- requests ---------------------------------------------------------- */

static void
http_req_closed(struct evhttp_connection *evcon, void *arg)
{
	struct nrm_req *r = arg;

	NRM_UNUSED(evcon);
	r->gone = true;
	nrm_debug("client went away req=%s", r->id);
}

/* evhttp finished sending a reply. */
static void
http_reply_sent(struct evhttp_request *ev, void *arg)
{
	struct nrm_http *h = arg;

	NRM_UNUSED(ev);
	h->writing--;
	http_check_idle(h);
}

/*
 * Write a reply to its socket now, as the loop's next turn would, and
 * let evhttp finish it.  A socket bufferevent only writes when epoll
 * says the socket is writable: one epoll_ctl to ask, a loop turn, a
 * second epoll_ctl to stop asking, per reply.  A long-poll wake-up
 * answers a thousand waiters in one callback, so the first answer left
 * only after the last was built (docs/performance.md).  Written here,
 * each leaves as it is built, and the ask and its withdrawal cancel out
 * in the loop's change list (daemon.c) before any syscall.
 *
 * What is not written now (a full socket, an error) is left exactly as
 * it was: the bufferevent's own write event, still pending, takes it up.
 * Only for a plain socket, and never inside evhttp's own callback
 * (http_gencb), where evhttp does not expect the request it is handing
 * over to be finished, and its connection perhaps freed, before the
 * callback returns.
 */
static void
http_write_now(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);
	int n;

	if (bufferevent_getfd(bev) < 0 ||
	    (bufferevent_get_enabled(bev) & EV_WRITE) == 0 ||
	    evbuffer_get_length(out) == 0)
		return;
	/* the socket bufferevent keeps its output frozen at the front */
	evbuffer_unfreeze(out, 1);
	n = evbuffer_write(out, bufferevent_getfd(bev));
	evbuffer_freeze(out, 1);
	/* as the bufferevent's write callback: drained, so tell evhttp */
	if (n > 0 && evbuffer_get_length(out) == 0)
		bufferevent_trigger(bev, EV_WRITE, 0);
}

/* Release everything the request owns: the one place it is freed. */
static void
http_req_free(struct nrm_req *r)
{
	struct nrm_http *h = r->app->http;

	nrm_db_detach(r->q);
	free(r->body);
	free(r);
	h->inflight--;
	http_check_idle(h);
}

void
nrm_req_reply(struct nrm_req *r, int status, const char *ctype,
    const char *body, size_t len)
{
	struct nrm_http *h = r->app->http;
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(r->ev);
	struct evhttp_connection *evcon = NULL;
	struct bufferevent *bev = NULL;
	struct evbuffer *buf;
	/* evhttp would send a HEAD reply's body: send its length only */
	bool head = evhttp_request_get_command(r->ev) == EVHTTP_REQ_HEAD;
	char clen[24];

	r->status = status;
	if (status >= 100 && status < 600) {
		size_t route = r->endpoint != NULL
		    ? (size_t)(r->endpoint - h->table)
		    : h->n_endpoints;

		h->responses[status / 100]++;
		nrm_hist_observe(&h->durations[route * 5 + status / 100 - 1],
		    &nrm_buckets_request,
		    (double)(nrm_mono_us() - r->started_us) / 1e6);
	}
	nrm_info("request done req=%s method=%s route=%s status=%d ms=%lld%s",
	    r->id, http_method_name(evhttp_request_get_command(r->ev)),
	    r->endpoint != NULL ? r->endpoint->pattern : "-", status,
	    (long long)(nrm_mono_ms() - r->started_ms),
	    r->gone ? " client=gone" : "");
	if (!r->gone) {
		evcon = evhttp_request_get_connection(r->ev);
		if (evcon != NULL) {
			evhttp_connection_set_closecb(evcon, NULL, NULL);
			bev = evhttp_connection_get_bufferevent(evcon);
		}
		evhttp_add_header(hdr, "X-Request-Id", r->id);
		evhttp_add_header(hdr, "Cache-Control",
		    r->cache_control != NULL ? r->cache_control : "no-store");
		evhttp_add_header(hdr, "X-Content-Type-Options", "nosniff");
		evhttp_add_header(hdr, "Content-Security-Policy", NRM_HTTP_CSP);
		evhttp_add_header(hdr, "Referrer-Policy", "no-referrer");
		if (r->tls)
			evhttp_add_header(
			    hdr, "Strict-Transport-Security", NRM_HTTP_HSTS);
		if (ctype != NULL)
			evhttp_add_header(hdr, "Content-Type", ctype);
		if (head && status != 304) {
			snprintf(clen, sizeof(clen), "%zu", len);
			evhttp_add_header(hdr, "Content-Length", clen);
		}
		if (h->draining || r->close)
			evhttp_add_header(hdr, "Connection", "close");
		h->writing++;
		evhttp_request_set_on_complete_cb(r->ev, http_reply_sent, h);
	}
	buf = evbuffer_new();
	if (buf != NULL && body != NULL && !head)
		evbuffer_add(buf, body, len);
	/* For a detached request (client gone) this only frees it. */
	evhttp_send_reply(r->ev, status, http_reason(status), buf);
	/*
	 * An OpenSSL bufferevent only moves output that was added while
	 * writing was enabled; evhttp adds the reply first and enables
	 * writing after, so push it through (the connection is still alive:
	 * evhttp frees it only after the write completes, from the loop).
	 * A plain socket's reply is written now (http_write_now).
	 */
	if (bev != NULL && r->tls)
		bufferevent_flush(bev, EV_WRITE, BEV_NORMAL);
	else if (bev != NULL && h->in_evhttp == 0)
		http_write_now(bev); /* may free the connection, and bev */
	if (buf != NULL)
		evbuffer_free(buf);
	r->ev = NULL;
	http_req_free(r);
}

int
nrm_req_client_cert(const struct nrm_req *r, unsigned char sha256[32])
{
	struct bufferevent *bev;

	if (!r->tls || r->ev == NULL)
		return NRM_ERR;
	bev = http_req_bev(r->ev);
	return nrm_tls_peer_sha256(
	    bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL, sha256);
}

bool
nrm_req_same_cert(const struct nrm_req *a, const struct nrm_req *b)
{
	unsigned char ha[32], hb[32];
	bool ca = nrm_req_client_cert(a, ha) == NRM_OK;
	bool cb = nrm_req_client_cert(b, hb) == NRM_OK;

	return ca == cb && (!ca || memcmp(ha, hb, sizeof(ha)) == 0);
}

bool
nrm_http_tls_swap(struct nrm_http *h, SSL_CTX *ctx)
{
	if (h->ssl_ctx == NULL) {
		SSL_CTX_free(ctx);
		return false;
	}
	SSL_CTX_free(h->ssl_ctx); /* open connections hold a reference */
	h->ssl_ctx = ctx;
	return true;
}

/* Match one pattern; "{id}" takes one non-empty segment. */
static bool
http_match(const char *pattern, const char *path, char *param, size_t paramsz)
{
	const char *p = pattern, *s = path;

	while (*p != '\0') {
		if (strncmp(p, "{id}", 4) == 0) {
			size_t n = strcspn(s, "/");

			if (n == 0 || n >= paramsz)
				return false;
			memcpy(param, s, n);
			param[n] = '\0';
			p += 4;
			s += n;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *s == '\0';
}

/*
 * The endpoint for `method` and `path`, with a "{id}" segment copied into
 * param; NULL with *path_known set when the path exists for other
 * methods (405; `allow` lists them), NULL otherwise (404).
 */
static const struct nrm_endpoint *
http_find(const struct nrm_http *h, const char *method, const char *path,
    char *param, size_t paramsz, bool *path_known, char *allow, size_t allowsz)
{
	size_t used = 0;

	*path_known = false;
	if (allowsz > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < h->n_endpoints; i++) {
		const struct nrm_endpoint *e = &h->table[i];
		char tmp[80] = ""; /* a pattern without {id} writes none */

		if (!http_match(e->pattern, path, tmp, sizeof(tmp)))
			continue;
		if (strcmp(e->method, method) == 0) {
			snprintf(param, paramsz, "%s", tmp);
			return e;
		}
		*path_known = true;
		if (used + strlen(e->method) + 3 < allowsz)
			used += (size_t)snprintf(allow + used, allowsz - used,
			    "%s%s", used > 0 ? ", " : "", e->method);
	}
	return NULL;
}

static void
http_serve(struct evhttp_request *ev, void *arg)
{
	struct nrm_http *h = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	const char *method = http_method_name(evhttp_request_get_command(ev));
	struct nrm_req *r;
	struct nrm_framing_error fe;
	char allow[64];
	bool known;

	r = nrm_xcalloc(1, sizeof(*r));
	r->app = h->app;
	r->ev = ev;
	r->started_ms = nrm_mono_ms();
	r->started_us = nrm_mono_us();
	snprintf(r->id, sizeof(r->id), "%s-%06llu", h->boot,
	    (unsigned long long)++h->seq);
	h->inflight++;
	h->requests++;
	/* After inflight++: a drain must not see a gap between the two. */
	if (http_req_bev(ev) != NULL) {
		nrm_conns_request_begin(h->conns, http_req_bev(ev));
		/* NULL for a socket bufferevent: the plain listener */
		r->tls = bufferevent_openssl_get_ssl(http_req_bev(ev)) != NULL;
	}
	if (evcon != NULL) {
		char *addr = NULL;
		ev_uint16_t port = 0;

		evhttp_connection_get_peer(evcon, &addr, &port);
		snprintf(r->client_addr, sizeof(r->client_addr), "%s",
		    addr != NULL ? addr : "");
		evhttp_connection_set_closecb(evcon, http_req_closed, r);
	}
	/*
	 * The strict edge (framing.h): a faulty head is refused before any
	 * handler, and the connection closed, so no byte after it is read
	 * as a request.
	 */
	if (nrm_framing_check(evhttp_request_get_input_headers(ev), ev->major,
		ev->minor, evhttp_request_get_command(ev) != EVHTTP_REQ_HEAD,
		h->app->cfg.max_body_size, &fe) != NRM_OK) {
		h->framing_refused++;
		r->close = true;
		nrm_req_fail(r,
		    fe.status == 413 ? NRM_E_TOO_LARGE : NRM_E_BAD_REQUEST,
		    fe.field, "%s", fe.detail);
		return;
	}
	/*
	 * While draining, a request that arrives whole is still served: it
	 * was in flight when the stop began (listeners are closed, so no
	 * new connection brings one), and its reply says Connection: close.
	 */
	if (path == NULL || *path == '\0')
		path = "/";
	r->endpoint = http_find(h, method, path, r->param, sizeof(r->param),
	    &known, allow, sizeof(allow));
	if (r->endpoint == NULL) {
		if (known) {
			nrm_req_add_header(r, "Allow", allow);
			nrm_req_fail(r, NRM_E_METHOD, "",
			    "this resource allows %s", allow);
		} else if (h->fallback != NULL &&
		    (strcmp(method, "GET") == 0 ||
			strcmp(method, "HEAD") == 0)) {
			h->fallback(r);
		} else {
			nrm_req_fail(
			    r, NRM_E_NOT_FOUND, "", "no such resource");
		}
		return;
	}
	/* A flood is refused here, before any work (guard.h). */
	if (nrm_guard_address(r) != NRM_OK)
		return;
	/* The endpoint's auth column, then its handler (auth.h). */
	nrm_auth_gate(r);
}

/* evhttp's callback for every request (http_write_now: in_evhttp). */
static void
http_gencb(struct evhttp_request *ev, void *arg)
{
	struct nrm_http *h = arg;

	h->in_evhttp++;
	http_serve(ev, arg);
	h->in_evhttp--;
}

/* --- servers ----------------------------------------------------------- */

static void
http_limits(struct nrm_http *h, struct evhttp *s)
{
	const struct nrm_config *c = &h->app->cfg;
	ev_ssize_t body = c->max_body_size;

	if (s == NULL)
		return;
	evhttp_set_max_headers_size(s, c->max_header_size);
	/*
	 * Bodies up to four times the limit are read so that the handler
	 * answers 413 naming the field.  Beyond that (a declared length or
	 * a chunked stream) evhttp refuses by itself and closes, and its
	 * page is replaced by problem+json (conn.h); reading more would let
	 * a client make us buffer what it likes.
	 */
	evhttp_set_max_body_size(s, body * 4);
	evhttp_set_timeout(s, c->client_timeout);
}

void
nrm_http_apply_limits(struct nrm_http *h)
{
	const struct nrm_config *c = &h->app->cfg;

	nrm_conns_set_timeout(h->conns, c->client_timeout);
	nrm_conns_set_guards(h->conns, c->conn_max_per_address,
	    c->handshake_timeout, c->fd_reserve);
	http_limits(h, h->plain);
	http_limits(h, h->tls);
}

static int
http_bind(struct nrm_http *h, struct evhttp *s, const char *hostport,
    const char *key, struct evconnlistener **lev, struct nrm_error *err)
{
	char host[256];
	int port;
	struct evhttp_bound_socket *bs;
	int one = 1;

	if (nrm_parse_hostport(hostport, host, sizeof(host), &port) != NRM_OK)
		return nrm_error_set(
		    err, NRM_E_INTERNAL, key, "%s must be host:port", key);
	bs = evhttp_bind_socket_with_handle(s, host, (ev_uint16_t)port);
	if (bs == NULL)
		return nrm_error_set(err, NRM_E_INTERNAL, key,
		    "could not listen on %s", hostport);
	*lev = evhttp_bound_socket_get_listener(bs);
	/*
	 * evhttp listens with a backlog of 128.  When every console's
	 * long-poll reconnects at once (a restart), the kernel drops the
	 * connections beyond it, and one whose handshake or first request
	 * bytes were dropped waits for its client's retransmission (seconds,
	 * doubling), which handshake_timeout may end.  Room for
	 * max_connections, as PostgreSQL sizes its own (the kernel caps it
	 * at net.core.somaxconn).
	 */
	if (listen(evconnlistener_get_fd(*lev), h->app->cfg.max_connections) !=
	    0)
		nrm_warn(
		    "could not widen the listen backlog addr=%s backlog=%d",
		    hostport, h->app->cfg.max_connections);
	/*
	 * No Nagle: a TLS answer leaves as several records (bufferevent_
	 * openssl writes them one by one), and the second waited for the
	 * client's delayed ACK of the first, about 40 ms on every HTTPS
	 * answer.  Accepted sockets inherit the option (Linux).
	 */
	if (setsockopt(evconnlistener_get_fd(*lev), IPPROTO_TCP, TCP_NODELAY,
		&one, sizeof(one)) != 0)
		nrm_warn("could not set TCP_NODELAY addr=%s", hostport);
	nrm_conns_watch_listener(h->conns, *lev);
	evhttp_set_allowed_methods(s,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
		EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
		EVHTTP_REQ_PATCH);
	evhttp_set_gencb(s, http_gencb, h);
	http_limits(h, s);
	nrm_info(
	    "listening addr=%s tls=%s", hostport, s == h->tls ? "yes" : "no");
	return NRM_OK;
}

int
nrm_http_start(struct nrm_http **out, struct nrm_app *app,
    const struct nrm_endpoint *table, size_t n, struct nrm_error *err)
{
	const struct nrm_config *c = &app->cfg;
	struct nrm_http *h;
	unsigned char rnd[4];
	int rc = NRM_ERR;

	h = nrm_xcalloc(1, sizeof(*h));
	h->app = app;
	h->table = table;
	h->n_endpoints = n;
	h->durations = nrm_xcalloc((n + 1) * 5, sizeof(*h->durations));
	h->conns = nrm_conns_new(app->base, http_conns_changed, h);
	nrm_conns_set_own_answer(h->conns, http_own_answer);
	nrm_conns_set_timeout(h->conns, c->client_timeout);
	nrm_conns_set_guards(h->conns, c->conn_max_per_address,
	    c->handshake_timeout, c->fd_reserve);
	if (nrm_random_bytes(rnd, sizeof(rnd)) != NRM_OK) {
		nrm_error_set(err, NRM_E_INTERNAL, "", "no randomness");
		goto out;
	}
	nrm_hex(rnd, sizeof(rnd), h->boot);
	h->plain = evhttp_new(app->base);
	if (h->plain == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, "", "evhttp_new failed");
		goto out;
	}
	evhttp_set_bevcb(h->plain, http_bev_plain, h);
	if (http_bind(h, h->plain, c->listen, "listen", &h->lev_plain, err) !=
	    NRM_OK)
		goto out;
	if (c->listen_tls[0] != '\0') {
		h->ssl_ctx = nrm_tls_ctx_new(c, err);
		if (h->ssl_ctx == NULL)
			goto out;
		h->tls = evhttp_new(app->base);
		if (h->tls == NULL) {
			nrm_error_set(
			    err, NRM_E_INTERNAL, "", "evhttp_new failed");
			goto out;
		}
		evhttp_set_bevcb(h->tls, http_bev_tls, h);
		if (http_bind(h, h->tls, c->listen_tls, "listen_tls",
			&h->lev_tls, err) != NRM_OK)
			goto out;
	}
	rc = NRM_OK;
out:
	if (rc != NRM_OK) {
		nrm_http_free(h);
		h = NULL;
	}
	*out = h;
	return rc;
}

void
nrm_http_set_fallback(struct nrm_http *h, nrm_handler_cb cb)
{
	h->fallback = cb;
}

void
nrm_http_set_idle_cb(struct nrm_http *h, nrm_http_idle_cb cb, void *arg)
{
	h->idle_cb = cb;
	h->idle_arg = arg;
}

void
nrm_http_drain(struct nrm_http *h)
{
	h->draining = true;
	http_listeners_set(h, false);
	http_check_idle(h);
}

bool
nrm_http_draining(const struct nrm_http *h)
{
	return h->draining;
}

void
nrm_http_stats(struct nrm_http *h, struct nrm_http_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->requests = h->requests;
	out->framing_refused = h->framing_refused;
	out->parser_refused = h->parser_refused;
	out->table = h->table;
	out->n_endpoints = h->n_endpoints;
	out->durations = h->durations;
	memcpy(out->responses, h->responses, sizeof(out->responses));
	out->accept_pauses = nrm_conns_accept_pauses(h->conns);
	out->inflight = h->inflight;
	out->writing = h->writing;
	out->arriving = nrm_conns_arriving(h->conns);
	{
		struct nrm_conns_refusals cr;

		nrm_conns_refusals(h->conns, &cr);
		out->conn_fd_reserve = cr.fd_reserve;
		out->conn_per_address = cr.per_address;
		out->conn_handshake = cr.handshake;
	}
}

void
nrm_http_free(struct nrm_http *h)
{
	if (h == NULL)
		return;
	if (h->plain != NULL)
		evhttp_free(h->plain);
	if (h->tls != NULL)
		evhttp_free(h->tls);
	nrm_conns_free(h->conns);
	if (h->ssl_ctx != NULL)
		SSL_CTX_free(h->ssl_ctx);
	free(h->durations);
	free(h);
}
