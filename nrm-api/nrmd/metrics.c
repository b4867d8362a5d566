/*
 * metrics.c - GET /metrics: the Prometheus text exposition (format
 * 0.0.4) of what every module counts.  Counts only, never personal data;
 * for loopback clients, or with the metrics_token_file token.
 */
#include "crypto.h"
#include "db.h"
#include "endpoints.h"
#include "http.h"
#include "jobs.h"
#include "log.h"
#include "metrics.h"
#include "util.h"
#include "waiters.h"
#include "workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

/*
 * Who may read /metrics: with metrics_token_file set, whoever presents
 * that bearer token (compared as SHA-256, in constant time); without,
 * loopback clients only (a Prometheus agent on the host).  The counts
 * are operational, but a national intake rate is nobody's business
 * outside operations.
 */
static bool
metrics_allowed(struct nrm_req *r)
{
	const char *h;
	unsigned char hash[32];

	if (!r->app->metrics_token)
		return nrm_host_is_loopback(r->client_addr);
	h = nrm_req_header(r, "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	nrm_sha256(h + 7, strlen(h + 7), hash);
	return nrm_ct_equal(hash, r->app->metrics_token_hash, sizeof(hash));
}

/* Reply with the text in buf, and free it. */
static void
metrics_reply(struct nrm_req *r, struct evbuffer *buf)
{
	size_t len = evbuffer_get_length(buf);
	const char *text = (const char *)evbuffer_pullup(buf, -1);

	if (text == NULL && len > 0)
		nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
	else
		nrm_req_reply(r, 200, "text/plain; version=0.0.4",
		    text != NULL ? text : "", len);
	evbuffer_free(buf);
}

void
nrm_h_metrics(struct nrm_req *r)
{
	struct nrm_app *app = r->app;
	struct nrm_db_stats st;
	struct nrm_http_stats hs;
	struct nrm_jobs_stats js;
	struct nrm_waiters_stats ws;
	struct nrm_workers_stats wk;
	struct evbuffer *buf;

	if (!metrics_allowed(r)) {
		if (app->metrics_token)
			nrm_req_fail(r, NRM_E_UNAUTHENTICATED, "",
			    "/metrics needs the metrics token");
		else
			nrm_req_fail(r, NRM_E_FORBIDDEN, "",
			    "/metrics answers loopback clients only "
			    "(or set metrics_token_file)");
		return;
	}

	nrm_db_stats(app->db, &st);
	nrm_http_stats(app->http, &hs);
	nrm_jobs_stats(app->jobs, &js);
	nrm_waiters_stats(app->waiters, &ws);
	nrm_workers_stats(app->workers, &wk);
	buf = evbuffer_new();
	if (buf == NULL) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
		return;
	}
#define M(name, type, help, fmt, val) \
	evbuffer_add_printf(buf, \
	    "# HELP " name " " help "\n# TYPE " name " " type "\n" name \
	    " " fmt "\n", \
	    val)
	M("nrm_http_requests_total", "counter", "Requests received.", "%llu",
	    (unsigned long long)hs.requests);
	evbuffer_add_printf(buf,
	    "# HELP nrm_http_responses_total Responses by status class.\n"
	    "# TYPE nrm_http_responses_total counter\n");
	for (int c = 1; c <= 5; c++)
		evbuffer_add_printf(buf,
		    "nrm_http_responses_total{class=\"%dxx\"} %llu\n", c,
		    (unsigned long long)hs.responses[c]);
	evbuffer_add_printf(buf,
	    "# HELP nrm_http_edge_refused_total Requests refused before any "
	    "handler, the connection closed (by: nrmd's framing checks or "
	    "libevent's parser).\n"
	    "# TYPE nrm_http_edge_refused_total counter\n"
	    "nrm_http_edge_refused_total{by=\"nrmd\"} %llu\n"
	    "nrm_http_edge_refused_total{by=\"libevent\"} %llu\n",
	    (unsigned long long)hs.framing_refused,
	    (unsigned long long)hs.parser_refused);
	M("nrm_signals_created_total", "counter",
	    "Signals answered 201 (first answers and replays).", "%llu",
	    (unsigned long long)app->counters.signals_created);
	M("nrm_http_requests_arriving", "gauge", "Requests partly received.",
	    "%d", hs.arriving);
	M("nrm_http_accept_pauses_total", "counter",
	    "Times accept paused at the connection limit.", "%llu",
	    (unsigned long long)hs.accept_pauses);
	M("nrm_http_inflight", "gauge", "Requests not yet answered.", "%d",
	    hs.inflight);
	M("nrm_db_connections_up", "gauge", "Usable database connections.",
	    "%d", nrm_db_n_up(app->db));
	M("nrm_db_queries_total", "counter", "Queries sent.", "%llu",
	    (unsigned long long)st.queries);
	M("nrm_db_errors_total", "counter", "Queries answered with an error.",
	    "%llu", (unsigned long long)st.errors);
	M("nrm_db_timeouts_total", "counter", "Queries that timed out.", "%llu",
	    (unsigned long long)st.timeouts);
	M("nrm_db_unavailable_total", "counter",
	    "Queries refused for want of a connection.", "%llu",
	    (unsigned long long)st.unavailable);
	M("nrm_db_connects_total", "counter", "Connection attempts.", "%llu",
	    (unsigned long long)st.reconnects);
	M("nrm_inbox_longpolls_waiting", "gauge",
	    "GET /v1/inbox long-polls waiting.", "%d", ws.waiting);
	M("nrm_inbox_wakeups_total", "counter",
	    "Long-poll wake-ups (notifications and re-checks).", "%llu",
	    (unsigned long long)ws.wakeups);
	M("nrm_cases_escalated_total", "counter",
	    "Overdue cases this daemon escalated to the national desk.", "%llu",
	    (unsigned long long)js.escalations);
	M("nrm_db_listening", "gauge", "The LISTEN connection is up.", "%d",
	    nrm_db_listening(app->db) ? 1 : 0);
	M("nrm_config_reloads_total", "counter", "Successful reloads.", "%llu",
	    (unsigned long long)app->counters.reloads);
	M("nrm_config_reload_failures_total", "counter", "Refused reloads.",
	    "%llu", (unsigned long long)app->counters.reload_failures);
	M("nrm_schema_version", "gauge", "Schema version last seen.", "%d",
	    nrm_db_schema(app->db));
	M("nrm_audit_sealed_total", "counter",
	    "Audit events this daemon sealed into the chain.", "%llu",
	    (unsigned long long)js.audit_sealed);
	M("nrm_login_failures_total", "counter",
	    "Logins refused (POST /v1/session answered 401).", "%llu",
	    (unsigned long long)app->counters.login_failures);
	M("nrm_login_locks_total", "counter",
	    "Refused logins that locked the login or the client address.",
	    "%llu", (unsigned long long)app->counters.login_locks);
	M("nrm_login_backoff_total", "counter",
	    "Refused logins whose answer was held back (backoff).", "%llu",
	    (unsigned long long)app->counters.login_backoffs);
	M("nrm_sessions_created_total", "counter",
	    "Sessions started (POST /v1/session answered 201).", "%llu",
	    (unsigned long long)app->counters.sessions_created);
	M("nrm_worker_queue_depth", "gauge",
	    "Worker jobs waiting for a thread.", "%d", wk.queued);
	M("nrm_worker_running", "gauge", "Worker jobs running now.", "%d",
	    wk.running);
#undef M
	evbuffer_add_printf(buf,
	    "# HELP nrm_worker_jobs_total Worker jobs by outcome (completed: "
	    "ran to their end; cancelled: their request went away; "
	    "rejected: queue full or draining).\n"
	    "# TYPE nrm_worker_jobs_total counter\n"
	    "nrm_worker_jobs_total{outcome=\"completed\"} %llu\n"
	    "nrm_worker_jobs_total{outcome=\"cancelled\"} %llu\n"
	    "nrm_worker_jobs_total{outcome=\"rejected\"} %llu\n",
	    (unsigned long long)wk.completed, (unsigned long long)wk.cancelled,
	    (unsigned long long)wk.rejected);
	evbuffer_add_printf(buf,
	    "# HELP nrm_job_ticks_total Ticks of each periodic job.\n"
	    "# TYPE nrm_job_ticks_total counter\n");
	for (int j = 0; j < NRM_JOB__COUNT; j++)
		evbuffer_add_printf(buf,
		    "nrm_job_ticks_total{job=\"%s\"} %llu\n",
		    nrm_job_name((enum nrm_job)j),
		    (unsigned long long)js.ticks[j]);
	metrics_reply(r, buf);
}
