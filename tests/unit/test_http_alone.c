/*
 * test_http_alone.c - the HTTP edge, authentication and the api.* call
 * path (http.c, auth.c, dbapi.c) linked WITHOUT the daemon: a real
 * evhttp server on the loopback, a pool that can never connect, and a
 * test endpoint table.  Proves the modules stand alone and checks what
 * they promise: the request-exec helper answers 503 problem+json with
 * Retry-After when the pool is not ready, dispatch answers 404/405, and
 * draining closes connections and calls the idle callback once quiet;
 * the session cookie stands in for a bearer token, and its unsafe
 * requests need X-CSRF-Token and Origin before anything reaches the
 * database; a session cookie is never set on the plain listener; a reply
 * made outside evhttp's callback is written before nrm_req_reply returns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "auth.h"
#include "db.h"
#include "dbapi.h"
#include "http.h"
#include "log.h"
#include "session.h"

/* A token of the right shape ("nrm_" + 43 base64url characters). */
#define TEST_TOKEN \
	"nrm_" \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
/* A session cookie value of the right shape, and the public origin. */
#define TEST_SESSION "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM"
#define TEST_ORIGIN "https://nrm.test"

struct test_env {
	struct event_base *base;
	struct nrm_app app;
	int port;
	int idle_calls;
	struct nrm_req *held; /* a request /hold or /later has not answered */
	bool written_at_once; /* test_release_now's finding */
	const char *extra[8]; /* name, value, ... added by test_request */
};

static struct test_env *env;

/* --- the endpoints ----------------------------------------------------- */

/* Reached only past its row's auth column. */
static void
test_authed(struct nrm_req *r)
{
	nrm_req_json(r, 200, "{\"reached\":true}", NULL);
}

/* An api.* call straight through the exec helper. */
static void
test_h_call(struct nrm_req *r)
{
	struct nrm_dbapi_call call;

	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, "x");
	nrm_dbapi_send(r, NRM_STMT_CASE_GET, &call, NULL);
}

/* Answered later, by test_release (a reply in flight while draining). */
static void
test_h_hold(struct nrm_req *r)
{
	env->held = r;
	nrm_http_drain(r->app->http);
}

/* Answered later, from a timer, as a database answer is (no drain). */
static void
test_h_later(struct nrm_req *r)
{
	env->held = r;
}

/* Tries to set a session cookie: 200 {"set":true|false}. */
static void
test_h_cookie(struct nrm_req *r)
{
	bool set = nrm_auth_set_session_cookie(r, TEST_SESSION, 60) == NRM_OK;

	nrm_req_json(r, 200, set ? "{\"set\":true}" : "{\"set\":false}", NULL);
}

/* Needs a principal: the cache is empty, so the gate asks the database;
 * the other rows are open (NRM_AUTH_OPEN, 0). */
#define TEST_ROLE \
	.auth = NRM_AUTH_ROLE, .roles = NRM_ROLE_ADMIN, .action = "test.read", \
	.object_type = "test"

static const struct nrm_endpoint test_endpoints[] = {
    {.method = "GET", .pattern = "/auth", .handler = test_authed, TEST_ROLE},
    {.method = "GET", .pattern = "/sess", .handler = test_authed, TEST_ROLE},
    {.method = "POST", .pattern = "/sess", .handler = test_authed, TEST_ROLE},
    {.method = "DELETE", .pattern = "/sess", .handler = test_authed, TEST_ROLE},
    {.method = "POST", .pattern = "/cookie", .handler = test_h_cookie},
    {.method = "POST", .pattern = "/call", .handler = test_h_call},
    {.method = "GET", .pattern = "/hold", .handler = test_h_hold},
    {.method = "GET", .pattern = "/later", .handler = test_h_later},
    {.method = "GET",
	.pattern = "/things/{id}",
	.handler = test_authed,
	TEST_ROLE},
};

/* --- a client on the same loop ----------------------------------------- */

struct test_reply {
	int status;
	char ctype[64];
	char retry_after[16];
	char connection[16];
	char allow[64];
	char set_cookie[200];
	char body[1024];
};

static void
test_copy_header(struct evkeyvalq *h, const char *name, char *buf, size_t n)
{
	const char *v = evhttp_find_header(h, name);

	snprintf(buf, n, "%s", v != NULL ? v : "");
}

static void
test_client_done(struct evhttp_request *req, void *arg)
{
	struct test_reply *rep = arg;

	if (req != NULL) {
		struct evkeyvalq *h = evhttp_request_get_input_headers(req);
		struct evbuffer *b = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(b);

		rep->status = evhttp_request_get_response_code(req);
		test_copy_header(
		    h, "Content-Type", rep->ctype, sizeof(rep->ctype));
		test_copy_header(h, "Retry-After", rep->retry_after,
		    sizeof(rep->retry_after));
		test_copy_header(
		    h, "Connection", rep->connection, sizeof(rep->connection));
		test_copy_header(h, "Allow", rep->allow, sizeof(rep->allow));
		test_copy_header(
		    h, "Set-Cookie", rep->set_cookie, sizeof(rep->set_cookie));
		if (len >= sizeof(rep->body))
			len = sizeof(rep->body) - 1;
		evbuffer_remove(b, rep->body, len);
		rep->body[len] = '\0';
	}
	event_base_loopbreak(env->base);
}

/* Answer the held request from the loop, once the client has sent it. */
static void
test_release(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	assert_non_null(env->held);
	assert_int_equal(env->idle_calls, 0); /* a reply is still owed */
	nrm_req_json(env->held, 200, "{\"held\":true}", NULL);
	env->held = NULL;
}

/*
 * Answer the held request from the loop (outside evhttp's callback) and
 * note whether the reply was written and the request finished before
 * nrm_req_json returned (http.c, http_write_now).
 */
static void
test_release_now(evutil_socket_t fd, short what, void *arg)
{
	struct nrm_http_stats st;

	(void)fd;
	(void)what;
	(void)arg;
	assert_non_null(env->held);
	nrm_req_json(env->held, 200, "{\"later\":true}", NULL);
	env->held = NULL;
	nrm_http_stats(env->app.http, &st);
	env->written_at_once = st.writing == 0 && st.inflight == 0;
}

static void
test_request(enum evhttp_cmd_type cmd, const char *path, bool token,
    struct test_reply *rep)
{
	struct evhttp_connection *c;
	struct evhttp_request *req;
	struct evkeyvalq *h;

	memset(rep, 0, sizeof(*rep));
	c = evhttp_connection_base_new(
	    env->base, NULL, "127.0.0.1", (ev_uint16_t)env->port);
	assert_non_null(c);
	req = evhttp_request_new(test_client_done, rep);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", "localhost");
	if (token)
		evhttp_add_header(h, "Authorization", "Bearer " TEST_TOKEN);
	for (size_t i = 0; i + 1 < 8 && env->extra[i] != NULL; i += 2)
		evhttp_add_header(h, env->extra[i], env->extra[i + 1]);
	if (cmd == EVHTTP_REQ_POST) {
		evhttp_add_header(h, "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(req), "{}", 2);
	}
	assert_int_equal(evhttp_make_request(c, req, cmd, path), 0);
	event_base_dispatch(env->base);
	evhttp_connection_free(c);
}

/* --- set-up ------------------------------------------------------------ */

static void
test_idle(void *arg)
{
	(void)arg;
	env->idle_calls++;
}

/* A free loopback port (bound, read, released). */
static int
test_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port;

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int
test_setup(void **state)
{
	struct nrm_config *cfg;
	struct nrm_db_opts dbo;
	struct nrm_error err;
	char listen[32];

	(void)state;
	env = calloc(1, sizeof(*env));
	env->base = event_base_new();
	env->app.base = env->base;
	env->port = test_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", env->port);
	cfg = &env->app.cfg;
	cfg->listen = strdup(listen);
	cfg->listen_tls = strdup("");
	cfg->client_timeout = 5;
	cfg->max_body_size = 4096;
	cfg->max_header_size = 8192;
	cfg->retry_after = 7;
	cfg->auth_cache_ttl = 10;
	cfg->public_origin = strdup(TEST_ORIGIN);
	for (int i = 0; i < 32; i++)
		env->app.csrf_key[i] = (unsigned char)(i * 7);
	/* A pool that can never connect: never ready. */
	memset(&dbo, 0, sizeof(dbo));
	dbo.conninfo = "host=/nonexistent/nrm-test dbname=nrm";
	dbo.pool_size = 1;
	dbo.connect_timeout_ms = 1000;
	dbo.query_timeout_ms = 1000;
	dbo.reconnect_max_ms = 1000;
	dbo.schema_needed = 1;
	assert_int_equal(nrm_db_new(&env->app.db, env->base, &dbo), NRM_OK);
	env->app.auth_cache = nrm_auth_cache_new();
	nrm_error_clear(&err);
	assert_int_equal(
	    nrm_http_start(&env->app.http, &env->app, test_endpoints,
		sizeof(test_endpoints) / sizeof(test_endpoints[0]), &err),
	    NRM_OK);
	nrm_http_set_idle_cb(env->app.http, test_idle, NULL);
	return 0;
}

static int
test_teardown(void **state)
{
	(void)state;
	nrm_db_free(env->app.db);
	nrm_http_free(env->app.http);
	nrm_auth_cache_free(env->app.auth_cache);
	free(env->app.cfg.listen);
	free(env->app.cfg.listen_tls);
	free(env->app.cfg.public_origin);
	event_base_free(env->base);
	free(env);
	env = NULL;
	return 0;
}

/* --- the tests --------------------------------------------------------- */

/* A request answered with problem+json `status` (and this Retry-After). */
static void
test_problem(enum evhttp_cmd_type cmd, const char *path, bool token, int status,
    const char *retry_after, struct test_reply *rep)
{
	test_request(cmd, path, token, rep);
	assert_int_equal(rep->status, status);
	assert_string_equal(rep->ctype, "application/problem+json");
	assert_string_equal(rep->retry_after, retry_after);
}

static void
test_not_ready_is_503(void **state)
{
	struct test_reply rep;

	(void)state;
	assert_false(nrm_db_ready(env->app.db));
	/* Through auth (api.authorize) and through a plain api.* call. */
	test_problem(EVHTTP_REQ_GET, "/auth", true, 503, "7", &rep);
	assert_non_null(strstr(rep.body, "\"status\":503"));
	assert_null(strstr(rep.body, "reached")); /* never continued */
	test_problem(EVHTTP_REQ_POST, "/call", true, 503, "7", &rep);
}

static void
test_auth_before_database(void **state)
{
	struct test_reply rep;

	(void)state;
	/* No token: 401 at the edge, the pool is never asked. */
	test_problem(EVHTTP_REQ_GET, "/auth", false, 401, "", &rep);
}

/* The extra headers of the next requests (NULL-terminated pairs). */
static void
test_headers(const char *n1, const char *v1, const char *n2, const char *v2,
    const char *n3, const char *v3)
{
	const char *v[] = {n1, v1, n2, v2, n3, v3, NULL, NULL};

	memcpy(env->extra, v, sizeof(v));
}

static void
test_session_cookie(void **state)
{
	struct test_reply rep;
	char csrf[NRM_SESSION_CSRF_LEN + 1];
	const char *cookie = NRM_SESSION_COOKIE "=" TEST_SESSION;

	(void)state;
	assert_int_equal(
	    nrm_session_csrf(env->app.csrf_key, TEST_SESSION, csrf), NRM_OK);
	/* A safe method: the cookie is the credential, the pool is asked. */
	test_headers("Cookie", cookie, NULL, NULL, NULL, NULL);
	test_problem(EVHTTP_REQ_GET, "/sess", false, 503, "7", &rep);
	/* A malformed cookie is absent: 401 at the edge. */
	test_headers(
	    "Cookie", NRM_SESSION_COOKIE "=short", NULL, NULL, NULL, NULL);
	test_problem(EVHTTP_REQ_GET, "/sess", false, 401, "", &rep);
	assert_non_null(strstr(rep.body, "\"field\":\"Authorization\""));
	/* Unsafe without the CSRF token: 403 naming it, before the pool. */
	test_headers("Cookie", cookie, "Origin", TEST_ORIGIN, NULL, NULL);
	test_problem(EVHTTP_REQ_POST, "/sess", false, 403, "", &rep);
	assert_non_null(strstr(rep.body, "\"field\":\"X-CSRF-Token\""));
	assert_null(strstr(rep.body, TEST_SESSION));
	test_headers("Cookie", cookie, "X-CSRF-Token", TEST_SESSION, "Origin",
	    TEST_ORIGIN);
	test_problem(EVHTTP_REQ_DELETE, "/sess", false, 403, "", &rep);
	assert_non_null(strstr(rep.body, "\"field\":\"X-CSRF-Token\""));
	/* The right token from another origin, or none: 403 naming Origin. */
	test_headers("Cookie", cookie, "X-CSRF-Token", csrf, "Origin",
	    "https://evil.test");
	test_problem(EVHTTP_REQ_POST, "/sess", false, 403, "", &rep);
	assert_non_null(strstr(rep.body, "\"field\":\"Origin\""));
	assert_null(strstr(rep.body, csrf));
	test_headers("Cookie", cookie, "X-CSRF-Token", csrf, NULL, NULL);
	test_problem(EVHTTP_REQ_POST, "/sess", false, 403, "", &rep);
	assert_non_null(strstr(rep.body, "\"field\":\"Origin\""));
	/* Both right: past the edge, to the pool. */
	test_headers(
	    "Cookie", cookie, "X-CSRF-Token", csrf, "Origin", TEST_ORIGIN);
	test_problem(EVHTTP_REQ_POST, "/sess", false, 503, "7", &rep);
	/* A bearer token wins over the cookie, and needs neither header. */
	test_headers("Cookie", cookie, NULL, NULL, NULL, NULL);
	test_problem(EVHTTP_REQ_POST, "/sess", true, 503, "7", &rep);
	test_headers(NULL, NULL, NULL, NULL, NULL, NULL);
	test_problem(EVHTTP_REQ_DELETE, "/sess", true, 503, "7", &rep);
	/* The plain listener never sets a session cookie. */
	test_request(EVHTTP_REQ_POST, "/cookie", false, &rep);
	assert_int_equal(rep.status, 200);
	assert_string_equal(rep.body, "{\"set\":false}");
	assert_string_equal(rep.set_cookie, "");
}

static void
test_dispatch(void **state)
{
	struct test_reply rep;

	(void)state;
	test_request(EVHTTP_REQ_GET, "/nothing", true, &rep);
	assert_int_equal(rep.status, 404);
	test_request(EVHTTP_REQ_POST, "/auth", true, &rep);
	assert_int_equal(rep.status, 405);
	assert_string_equal(rep.allow, "GET");
	test_request(EVHTTP_REQ_GET, "/things/abc", true, &rep);
	assert_int_equal(rep.status, 503); /* matched {id}, then the pool */
}

static void
test_drain(void **state)
{
	struct test_reply rep;
	struct nrm_http_stats st;
	struct timeval soon = {0, 100000};

	(void)state;
	assert_false(nrm_http_draining(env->app.http));
	/* /hold drains while its own reply is owed; answered at 100 ms. */
	event_base_once(env->base, -1, EV_TIMEOUT, test_release, NULL, &soon);
	test_request(EVHTTP_REQ_GET, "/hold", false, &rep);
	assert_true(nrm_http_draining(env->app.http));
	assert_int_equal(rep.status, 200);
	assert_string_equal(rep.connection, "close");
	/* Quiet once the reply is out: the idle callback ran. */
	{
		struct timeval tick = {0, 50000};

		event_base_loopexit(env->base, &tick);
		event_base_dispatch(env->base);
	}
	assert_true(env->idle_calls >= 1);
	nrm_http_stats(env->app.http, &st);
	assert_int_equal(st.inflight, 0);
	assert_true(st.requests >= 1);
	assert_true(st.responses[2] >= 1);
}

/*
 * A reply made outside evhttp's own callback (a database answer, a
 * timer, a long-poll wake-up) is in the socket, and its request
 * finished, when nrm_req_reply returns: it does not wait for the loop
 * to report the socket writable (issue 16: a wake-up answering a
 * thousand waiters sent none before it had built them all).
 */
static void
test_reply_written_at_once(void **state)
{
	struct test_reply rep;
	struct timeval soon = {0, 50000};

	(void)state;
	event_base_once(
	    env->base, -1, EV_TIMEOUT, test_release_now, NULL, &soon);
	test_request(EVHTTP_REQ_GET, "/later", false, &rep);
	assert_int_equal(rep.status, 200);
	assert_true(env->written_at_once);
	assert_false(nrm_http_draining(env->app.http));
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_not_ready_is_503),
	    T(test_auth_before_database),
	    T(test_session_cookie),
	    T(test_dispatch),
	    T(test_drain),
	    T(test_reply_written_at_once),
	};
#undef T

	nrm_log_threshold = NRM_LOG_WARN;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
