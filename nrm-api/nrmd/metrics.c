/*
 * metrics.c - GET /metrics: the Prometheus text exposition (format
 * 0.0.4) of what every module counts.  Counts only, never personal data;
 * for loopback clients, or with the metrics_token_file token.
 */
#include "checkpoint.h"
#include "conn.h"
#include "crypto.h"
#include "db.h"
#include "hist.h"
#include "endpoints.h"
#include "guard.h"
#include "http.h"
#include "jobs.h"
#include "log.h"
#include "metrics.h"
#include "util.h"
#include "waiters.h"
#include "workers.h"

#include "schema_version.h" /* generated: NRM_SCHEMA_VERSION */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

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

static double metrics_start; /* unix seconds, with fractions */

void
nrm_metrics_started(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	metrics_start = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One family's HELP and TYPE lines. */
static void
metrics_head(
    struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * One histogram series (cumulative buckets, +Inf, _sum, _count);
 * `labels` is "" or `k="v",...` without braces.
 */
static void
metrics_hist(struct evbuffer *b, const char *name, const char *labels,
    const struct nrm_hist *h, const struct nrm_buckets *bk)
{
	const char *sep = labels[0] != '\0' ? "," : "";
	uint64_t cum = 0;

	for (int i = 0; i < bk->n; i++) {
		cum += h->bucket[i];
		evbuffer_add_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name,
		    labels, sep, bk->le[i], (unsigned long long)cum);
	}
	cum += h->bucket[bk->n];
	evbuffer_add_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
	    labels, sep, (unsigned long long)cum);
	if (labels[0] == '\0')
		evbuffer_add_printf(b, "%s_sum %.6f\n%s_count %llu\n", name,
		    h->sum, name, (unsigned long long)h->count);
	else
		evbuffer_add_printf(b, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n",
		    name, labels, h->sum, name, labels,
		    (unsigned long long)h->count);
}

/*
 * Request durations by route pattern (never the raw path: no ids) and
 * status class; only the series that have seen a request.
 */
static void
metrics_durations(struct evbuffer *b, const struct nrm_http_stats *hs)
{
	metrics_head(b, "nrm_http_request_duration_seconds", "histogram",
	    "Time from a request's arrival to its reply, by method, route "
	    "pattern (route=\"other\": no endpoint) and status class.");
	for (size_t i = 0; i <= hs->n_endpoints; i++) {
		for (int c = 1; c <= 5; c++) {
			const struct nrm_hist *h =
			    &hs->durations[i * 5 + c - 1];
			char labels[160];

			if (h->count == 0)
				continue;
			snprintf(labels, sizeof(labels),
			    "method=\"%s\",route=\"%s\",class=\"%dxx\"",
			    i < hs->n_endpoints ? hs->table[i].method : "any",
			    i < hs->n_endpoints ? hs->table[i].pattern
						: "other",
			    c);
			metrics_hist(b, "nrm_http_request_duration_seconds",
			    labels, h, &nrm_buckets_request);
		}
	}
}

/* The pool, the audit jobs, the long-polls, the process. */
static void
metrics_more(struct evbuffer *b, const struct nrm_db_stats *st,
    const struct nrm_jobs_stats *js, const struct nrm_waiters_stats *ws)
{
	struct rlimit rl;
	int64_t now = (int64_t)time(NULL);
	int fds = nrm_conns_open_fds();

	metrics_head(b, "nrm_db_queue_wait_seconds", "histogram",
	    "Time each query sent waited for a pool connection.");
	metrics_hist(b, "nrm_db_queue_wait_seconds", "", st->queue_wait,
	    &nrm_buckets_queue);
	if (js->audit_unsealed >= 0) {
		metrics_head(b, "nrm_audit_unsealed_events", "gauge",
		    "Audit events waiting to be sealed, as the last seal "
		    "left them.");
		evbuffer_add_printf(b, "nrm_audit_unsealed_events %lld\n",
		    (long long)js->audit_unsealed);
		metrics_head(b, "nrm_audit_seal_lag_seconds", "gauge",
		    "Seconds the seal job has left events unsealed without "
		    "a pause (0: the last seal emptied the queue).");
		evbuffer_add_printf(b, "nrm_audit_seal_lag_seconds %lld\n",
		    (long long)(js->seal_behind_since != 0
			    ? now - js->seal_behind_since
			    : 0));
	}
	if (js->checkpoint_ok_at != 0) {
		metrics_head(b, "nrm_audit_checkpoint_age_seconds", "gauge",
		    "Seconds since the chain head was last covered by a "
		    "signed checkpoint (or since start-up).");
		evbuffer_add_printf(b,
		    "nrm_audit_checkpoint_age_seconds %lld\n",
		    (long long)(now - js->checkpoint_ok_at));
	}
	metrics_head(b, "nrm_inbox_wakeup_latency_seconds", "histogram",
	    "Time from a long-poll's wake-up (NOTIFY or re-check) to its "
	    "answer with cases.");
	metrics_hist(b, "nrm_inbox_wakeup_latency_seconds", "", ws->wake,
	    &nrm_buckets_wake);
	metrics_head(b, "nrm_build_info", "gauge",
	    "The build: nrmd's version and the schema version it needs.");
	evbuffer_add_printf(b,
	    "nrm_build_info{version=\"%s\",schema_version=\"%d\"} 1\n",
	    NRM_VERSION, NRM_SCHEMA_VERSION);
	metrics_head(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch in seconds.");
	evbuffer_add_printf(
	    b, "process_start_time_seconds %.3f\n", metrics_start);
	if (fds >= 0) {
		metrics_head(b, "process_open_fds", "gauge",
		    "Number of open file descriptors.");
		evbuffer_add_printf(b, "process_open_fds %d\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY) {
		metrics_head(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		evbuffer_add_printf(b, "process_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
	}
}

/*
 * The live coverage (issue 20): nrm_regions_uncovered, the regions with
 * no active coordinator or none who acted within coverage_silent_after,
 * and nrm_cases_overdue, per region the cases past their take and
 * first-contact deadlines (GET /v1/overview's numbers), as of the last
 * refresh (coverage_refresh); absent until the first.
 */
static void
metrics_coverage(struct evbuffer *b, const struct nrm_app *app)
{
	if (!app->coverage.known)
		return;
	metrics_head(b, "nrm_regions_uncovered", "gauge",
	    "Regions without an active coordinator who acted within "
	    "coverage_silent_after.");
	evbuffer_add_printf(
	    b, "nrm_regions_uncovered %d\n", app->coverage.n_uncovered);
	if (app->coverage.n_overdue == 0)
		return;
	metrics_head(b, "nrm_cases_overdue", "gauge",
	    "Cases past their take deadline (open) or first-contact "
	    "deadline (not closed), per region.");
	for (int i = 0; i < app->coverage.n_overdue; i++) {
		const struct nrm_coverage_overdue *o =
		    &app->coverage.overdue[i];

		evbuffer_add_printf(b,
		    "nrm_cases_overdue{region=\"%s\",deadline=\"take\"} %d\n"
		    "nrm_cases_overdue{region=\"%s\",deadline=\"first_"
		    "contact\"}"
		    " %d\n",
		    o->region, o->take, o->region, o->first_contact);
	}
}

/*
 * The audit checkpoint signer's refusals (issue 14): a head that moved
 * backwards is never signed.
 */
static void
metrics_audit_checkpoints(struct evbuffer *b, const struct nrm_app *app)
{
	metrics_head(b, "nrm_audit_checkpoint_refused_total", "counter",
	    "Chain heads not signed.");
	evbuffer_add_printf(b,
	    "nrm_audit_checkpoint_refused_total{reason=\"head_moved_"
	    "backwards\"} %llu\n",
	    (unsigned long long)nrm_checkpoints_refused_backwards(
		app->checkpoints));
}

/*
 * A family of one unlabelled series: a counter (printed %llu) or a
 * gauge (an int, printed as such).
 */
struct metrics_line {
	const char *name, *help;
	bool gauge;
	unsigned long long count; /* a counter's value */
	long long level; /* a gauge's value */
};
/* A row of a table of them: {COUNTER(...)} or {GAUGE(...)}. */
#define COUNTER(name, help, v) name, help, false, (unsigned long long)(v), 0
#define GAUGE(name, help, v) name, help, true, 0, (long long)(v)

static void
metrics_lines(struct evbuffer *b, const struct metrics_line *l, size_t n)
{
	for (size_t i = 0; i < n; i++, l++) {
		metrics_head(
		    b, l->name, l->gauge ? "gauge" : "counter", l->help);
		if (l->gauge)
			evbuffer_add_printf(b, "%s %lld\n", l->name, l->level);
		else
			evbuffer_add_printf(b, "%s %llu\n", l->name, l->count);
	}
}

/* A counter family with two series, by="a" and by="b". */
static void
metrics_by2(struct evbuffer *b, const char *name, const char *help,
    const char *a, uint64_t va, const char *bn, uint64_t vb)
{
	evbuffer_add_printf(b,
	    "# HELP %s %s\n# TYPE %s counter\n%s{by=\"%s\"} %llu\n"
	    "%s{by=\"%s\"} %llu\n",
	    name, help, name, name, a, (unsigned long long)va, name, bn,
	    (unsigned long long)vb);
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
	struct nrm_guard_stats gs;
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
	nrm_guard_stats(app->guard, &gs);
	{
		/* The families of one unlabelled series, in this order. */
		const struct metrics_line lines[] = {
		    {COUNTER("nrm_http_requests_total", "Requests received.",
			hs.requests)},
		    {COUNTER("nrm_decrypt_failures_total",
			"Reads in which a sealed personal-data value did not "
			"open (tampered, misplaced, key missing).",
			app->counters.decrypt_failures)},
		    {COUNTER("nrm_signals_created_total",
			"Signals answered 201 (first answers and replays).",
			app->counters.signals_created)},
		    {GAUGE("nrm_http_requests_arriving",
			"Requests partly received.", hs.arriving)},
		    {COUNTER("nrm_http_accept_pauses_total",
			"Times accept paused at the connection limit.",
			hs.accept_pauses)},
		    {GAUGE("nrm_http_inflight", "Requests not yet answered.",
			hs.inflight)},
		    {GAUGE("nrm_db_connections_up",
			"Usable database connections.", nrm_db_n_up(app->db))},
		    {COUNTER(
			"nrm_db_queries_total", "Queries sent.", st.queries)},
		    {COUNTER("nrm_db_errors_total",
			"Queries answered with an error.", st.errors)},
		    {COUNTER("nrm_db_timeouts_total", "Queries that timed out.",
			st.timeouts)},
		    {COUNTER("nrm_db_unavailable_total",
			"Queries refused for want of a connection.",
			st.unavailable)},
		    {COUNTER("nrm_db_connects_total", "Connection attempts.",
			st.reconnects)},
		    {GAUGE("nrm_inbox_longpolls_waiting",
			"GET /v1/inbox long-polls waiting.", ws.waiting)},
		    {GAUGE("nrm_inbox_longpolls_queued",
			"Inbox reads and long-polls waiting for their turn to "
			"query.",
			ws.queued)},
		    {COUNTER("nrm_inbox_wakeups_total",
			"Long-poll wake-ups (notifications and re-checks).",
			ws.wakeups)},
		    {COUNTER("nrm_cases_escalated_total",
			"Overdue cases this daemon escalated to the national "
			"desk.",
			js.escalations)},
		    {COUNTER("nrm_retention_erased_total",
			"Signals whose personal data this daemon's retention "
			"job erased.",
			js.retention_erased)},
		    {GAUGE("nrm_db_listening", "The LISTEN connection is up.",
			nrm_db_listening(app->db) ? 1 : 0)},
		    {COUNTER("nrm_config_reloads_total", "Successful reloads.",
			app->counters.reloads)},
		    {COUNTER("nrm_config_reload_failures_total",
			"Refused reloads.", app->counters.reload_failures)},
		    {GAUGE("nrm_schema_version", "Schema version last seen.",
			nrm_db_schema(app->db))},
		    {COUNTER("nrm_audit_sealed_total",
			"Audit events this daemon sealed into the chain.",
			js.audit_sealed)},
		    {COUNTER("nrm_login_failures_total",
			"Logins refused (POST /v1/session answered 401).",
			app->counters.login_failures)},
		    {COUNTER("nrm_login_locks_total",
			"Refused logins that locked the login or the client "
			"address.",
			app->counters.login_locks)},
		    {COUNTER("nrm_login_backoff_total",
			"Refused logins whose answer was held back (backoff).",
			app->counters.login_backoffs)},
		    {COUNTER("nrm_sessions_created_total",
			"Sessions started (POST /v1/session answered 201).",
			app->counters.sessions_created)},
		    {COUNTER("nrm_auth_rejects_cached_total",
			"Refused tokens answered 401 from the rejected-token "
			"cache, with no database work.",
			gs.rejects_cached)},
		    {COUNTER("nrm_auth_rejects_stored_total",
			"Token refusals of the database remembered by the "
			"cache.",
			gs.rejects_stored)},
		    {COUNTER("nrm_auth_reject_bursts_audited_total",
			"Audit events summing refusals answered from the "
			"cache.",
			gs.bursts_audited)},
		    {GAUGE("nrm_worker_queue_depth",
			"Worker jobs waiting for a thread.", wk.queued)},
		    {GAUGE("nrm_worker_running", "Worker jobs running now.",
			wk.running)},
		    {GAUGE("nrm_db_pool_size",
			"Pool request connections (db_pool_size; by default 2 "
			"x online CPUs + 1).",
			st.pool_size)},
		    {GAUGE("nrm_db_connections_busy",
			"Pool connections with a query out.", st.busy)},
		    {GAUGE("nrm_db_queue_length",
			"Queries waiting for a pool connection.", st.queued)},
		    {COUNTER("nrm_db_listen_connects_total",
			"Times the LISTEN connection came up (1 + "
			"reconnects).",
			st.listen_connects)},
		    {COUNTER("nrm_db_primary_switches_total",
			"Times a connection came up on another database "
			"server than the last one (a failover or switchover "
			"followed).",
			st.primary_switches)},
		    {COUNTER("nrm_db_unreplicated_commits_total",
			"Commits the synchronous standby did not confirm, "
			"answered as unavailable.",
			st.unreplicated)},
		};

		metrics_lines(buf, lines, NRM_ARRAY_LEN(lines));
	}
	evbuffer_add_printf(buf,
	    "# HELP nrm_http_responses_total Responses by status class.\n"
	    "# TYPE nrm_http_responses_total counter\n");
	for (int c = 1; c <= 5; c++)
		evbuffer_add_printf(buf,
		    "nrm_http_responses_total{class=\"%dxx\"} %llu\n", c,
		    (unsigned long long)hs.responses[c]);
	metrics_by2(buf, "nrm_http_edge_refused_total",
	    "Requests refused before any handler, the connection closed "
	    "(by: nrmd's framing checks or libevent's parser).",
	    "nrmd", hs.framing_refused, "libevent", hs.parser_refused);
	evbuffer_add_printf(buf,
	    "# HELP nrm_http_connections_refused_total New connections "
	    "closed (by: fd_reserve, per_address cap, handshake "
	    "deadline).\n"
	    "# TYPE nrm_http_connections_refused_total counter\n"
	    "nrm_http_connections_refused_total{by=\"fd_reserve\"} %llu\n"
	    "nrm_http_connections_refused_total{by=\"per_address\"} "
	    "%llu\n"
	    "nrm_http_connections_refused_total{by=\"handshake\"} %llu\n",
	    (unsigned long long)hs.conn_fd_reserve,
	    (unsigned long long)hs.conn_per_address,
	    (unsigned long long)hs.conn_handshake);
	metrics_by2(buf, "nrm_ratelimited_total",
	    "Requests refused 429 by a rate limit (by: the client "
	    "address's or the token's bucket).",
	    "address", gs.limited_address, "key", gs.limited_key);
	metrics_by2(buf, "nrm_longpoll_refused_total",
	    "Long-polls refused 429 at the cap per key or per client "
	    "address.",
	    "address", gs.longpoll_address, "key", gs.longpoll_key);
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
	metrics_durations(buf, &hs);
	metrics_more(buf, &st, &js, &ws);
	metrics_coverage(buf, app);
	metrics_audit_checkpoints(buf, app);
	metrics_reply(r, buf);
}
