/*
 * conn.h - client connections under evhttp: a deadline for each request
 * to arrive whole, "request in progress" tracking for the drain, and the
 * bound on open connections.
 *
 * libevent 2.1 has no hook for a server connection opening or closing,
 * and its timeouts are inactivity timeouts: a client trickling a header
 * line a second never trips them.  So every connection's bufferevent
 * gets a callback on its input buffer (arg = the bufferevent, nothing
 * allocated): the first bytes of a request open an entry, keyed by the
 * socket, with a deadline; a whole request (evhttp calls the handler)
 * closes it.  At the deadline the socket is shut down and evhttp frees
 * the connection.  Entries identify their socket by descriptor AND inode,
 * so a descriptor reused by a new connection is never touched.
 *
 * The bound on open connections is the process's descriptor limit,
 * set from max_connections at start-up; when accept() runs out the
 * listeners pause briefly instead of spinning (as PgBouncer does).
 *
 * New connections (issue 14).  evhttp hands nrmd a connection's
 * bufferevent before its socket is set, so nrm_conns_wrap() takes a
 * reference and looks at the connection on the next loop turn, when
 * the socket is known (the reference keeps the bufferevent, and so the
 * descriptor, alive until then): a socket at or above the descriptor
 * limit less fd_reserve is closed at once and the listeners pause (so a
 * connection flood leaves descriptors for database reconnects and
 * reloads); a client address with conn_max_per_address connections open
 * already gets its new one closed; every other connection must send the
 * first bytes of a request (over TLS: finish the handshake and send
 * them) within handshake_timeout seconds, else it is shut down.  Open
 * connections are tracked in a table by descriptor, each entry checked
 * by inode like the arrival entries, so nothing needs a close hook.
 *
 * No bufferevent is wrapped or replaced: evhttp's own write-completion
 * and close logic stay intact (replies on "Connection: close" and
 * HTTP/1.0 requests are delivered whole).
 *
 * libevent 2.1 answers a few requests itself, before any callback of
 * ours sees them (evhttp_send_error: a malformed request line or head, a
 * body over its limit, an Expect it does not know, a method it does not
 * allow), with a text/html page and Connection: close, and it has no
 * error callback to shape that answer (evhttp_set_errorcb is 2.2).  The
 * same output hook recognises such a page, whole, in the connection's
 * output buffer, before any of it is sent (evhttp enables writing only
 * after the last byte is added), and replaces it with the answer the
 * own-answer callback writes.  Only a page identical to libevent's
 * template is replaced, so nothing nrmd sends itself can match.
 */
#ifndef NRM_CONN_H
#define NRM_CONN_H

#include "nrm/nrm.h"

struct bufferevent;
struct evconnlistener;
struct event_base;
struct nrm_conns;

struct evbuffer;

/* Called when the number of requests in progress changes. */
typedef void (*nrm_conns_changed_cb)(void *arg);

struct nrm_conns *nrm_conns_new(
    struct event_base *base, nrm_conns_changed_cb changed, void *arg);
void nrm_conns_free(struct nrm_conns *cs);

/* The deadline for a request to arrive whole, in seconds. */
void nrm_conns_set_timeout(struct nrm_conns *cs, int client_timeout_s);

/*
 * The limits on new connections (see above): connections per client
 * address, seconds to the first request bytes, descriptors kept free.
 */
void nrm_conns_set_guards(
    struct nrm_conns *cs, int max_per_address, int handshake_s, int fd_reserve);

/*
 * Set the descriptor limit to what is open now (listeners, the pool,
 * logs: call it once they exist) plus max_connections clients plus
 * `headroom` (files a reload reads).  Returns the number of client
 * connections the limit allows (less than asked when the hard limit is
 * lower).
 */
int nrm_conns_limit(int max_connections, int headroom);

/* Descriptors open in this process now; -1 if unknown. */
int nrm_conns_open_fds(void);

/* Watch a listener: pause it briefly when accept() runs out. */
void nrm_conns_watch_listener(struct nrm_conns *cs, struct evconnlistener *lev);

/*
 * Replaces a libevent error page (see above): append to `out` the whole
 * response (status line, headers and body, saying Connection: close)
 * for HTTP/1.`minor`, `status` and libevent's `reason` phrase.
 */
typedef void (*nrm_conns_own_answer_cb)(
    void *arg, int minor, int status, const char *reason, struct evbuffer *out);

/* Register the own-answer callback (the set's `arg` is passed). */
void nrm_conns_set_own_answer(struct nrm_conns *cs, nrm_conns_own_answer_cb cb);

/* Install the input and output hooks on a fresh bufferevent; returns it. */
struct bufferevent *nrm_conns_wrap(
    struct nrm_conns *cs, struct bufferevent *bev);

/* A whole request arrived on `bev`: its deadline is over. */
void nrm_conns_request_begin(struct nrm_conns *cs, struct bufferevent *bev);

/*
 * Requests partly received (their bytes are in, the handler not run);
 * entries of connections that have closed since are dropped first.
 */
int nrm_conns_arriving(struct nrm_conns *cs);

/* Times accept() ran out of descriptors. */
uint64_t nrm_conns_accept_pauses(const struct nrm_conns *cs);

/* Connections closed by the guards on new connections (see above). */
struct nrm_conns_refusals {
	uint64_t fd_reserve; /* into the descriptor reserve */
	uint64_t per_address; /* over conn_max_per_address */
	uint64_t handshake; /* no request bytes within handshake_timeout */
};
void nrm_conns_refusals(
    const struct nrm_conns *cs, struct nrm_conns_refusals *out);

#endif /* NRM_CONN_H */
