/*
 * handlers/health.c - /healthz (the process is up), /readyz (the
 * database answers and its schema, numbered migrations and repeatable
 * files, is the one this build expects) and
 * /metrics (Prometheus text; counts only, never personal data; for
 * loopback clients, or with the metrics_token_file token).
 */
#include "checkpoint.h"
#include "crypto.h"
#include "db.h"
#include "endpoints.h"
#include "http.h"
#include "jobs.h"
#include "log.h"
#include "util.h"
#include "waiters.h"
#include "workers.h"

#include "schema_version.h" /* generated: NRM_SCHEMA_VERSION */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
nrm_h_healthz(struct nrm_req *r)
{
	nrm_req_json(r, 200, "{\"status\":\"ok\"}", NULL);
}

/*
 * The repeatable files (sql/api) the database recorded differ from the
 * build's: logged once per distinct database checksum, not per probe.
 */
static void
health_log_checksum(const char *have)
{
	static char logged[72];

	if (strcmp(logged, have) == 0)
		return;
	snprintf(logged, sizeof(logged), "%s", have);
	nrm_warn("database api functions differ from this build "
		 "what=\"sql/api repeatable files\" checksum=%.12s "
		 "needed=%.12s; run nrmctl migrate",
	    have, NRM_SCHEMA_CHECKSUM);
}

static void
health_ready_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct nrm_req *r = arg;
	char body[96];
	const char *sum;
	int v;

	r->q = NULL;
	if (outcome != NRM_DB_OK || PQntuples(res) != 1 ||
	    PQnfields(res) != 2 || PQgetisnull(res, 0, 0)) {
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    outcome == NRM_DB_ERROR
			? "the database schema is missing or older than "
			  "nrmd; run nrmctl migrate"
			: "the database is unavailable");
		return;
	}
	v = atoi(PQgetvalue(res, 0, 0));
	sum = PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1);
	nrm_db_schema_seen(r->app->db, v);
	if (v < NRM_SCHEMA_VERSION) {
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    "the database schema is at version %d, nrmd needs %d; "
		    "run nrmctl migrate",
		    v, NRM_SCHEMA_VERSION);
		return;
	}
	/*
	 * At the build's version the api functions must be the build's
	 * too.  A newer schema (migrated ahead of a rolling upgrade) has
	 * newer functions by design and stays ready, as before.
	 */
	if (v == NRM_SCHEMA_VERSION && strcmp(sum, NRM_SCHEMA_CHECKSUM) != 0) {
		health_log_checksum(sum);
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    "the database's api functions (sql/api) are not the ones "
		    "nrmd was built with; run nrmctl migrate");
		return;
	}
	snprintf(body, sizeof(body),
	    "{\"status\":\"ready\",\"schema_version\":%d}", v);
	nrm_req_json(r, 200, body, NULL);
}

void
nrm_h_readyz(struct nrm_req *r)
{
	if (nrm_http_draining(r->app->http)) {
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "", "nrmd is shutting down");
		return;
	}
	r->q = nrm_db_exec(r->app->db, NRM_STMT_SCHEMA_VERSION, 0, NULL, NULL,
	    NULL, health_ready_done, r);
	if (r->q == NULL)
		nrm_req_fail(
		    r, NRM_E_UNAVAILABLE, "", "the database is unavailable");
}

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

/*
 * The audit checkpoint signer's refusals (issue 14): a head that moved
 * backwards is never signed.  Appends to buf; returns what it wrote.
 */
static int
metrics_audit_checkpoints(char *buf, size_t size, const struct nrm_app *app)
{
	return snprintf(buf, size,
	    "# HELP nrm_audit_checkpoint_refused_total Chain heads not "
	    "signed.\n"
	    "# TYPE nrm_audit_checkpoint_refused_total counter\n"
	    "nrm_audit_checkpoint_refused_total{reason=\"head_moved_"
	    "backwards\"}"
	    " %llu\n",
	    (unsigned long long)nrm_checkpoints_refused_backwards(
		app->checkpoints));
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
	char buf[12288];
	int n = 0;

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
#define M(name, type, help, fmt, val) \
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, \
	    "# HELP " name " " help "\n# TYPE " name " " type "\n" name \
	    " " fmt "\n", \
	    val)
	M("nrm_http_requests_total", "counter", "Requests received.", "%llu",
	    (unsigned long long)hs.requests);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n,
	    "# HELP nrm_http_responses_total Responses by status class.\n"
	    "# TYPE nrm_http_responses_total counter\n");
	for (int c = 1; c <= 5; c++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
		    "nrm_http_responses_total{class=\"%dxx\"} %llu\n", c,
		    (unsigned long long)hs.responses[c]);
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
	n += snprintf(buf + n, sizeof(buf) - (size_t)n,
	    "# HELP nrm_worker_jobs_total Worker jobs by outcome (completed: "
	    "ran to their end; cancelled: their request went away; "
	    "rejected: queue full or draining).\n"
	    "# TYPE nrm_worker_jobs_total counter\n"
	    "nrm_worker_jobs_total{outcome=\"completed\"} %llu\n"
	    "nrm_worker_jobs_total{outcome=\"cancelled\"} %llu\n"
	    "nrm_worker_jobs_total{outcome=\"rejected\"} %llu\n",
	    (unsigned long long)wk.completed, (unsigned long long)wk.cancelled,
	    (unsigned long long)wk.rejected);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n,
	    "# HELP nrm_job_ticks_total Ticks of each periodic job.\n"
	    "# TYPE nrm_job_ticks_total counter\n");
	for (int j = 0; j < NRM_JOB__COUNT; j++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
		    "nrm_job_ticks_total{job=\"%s\"} %llu\n",
		    nrm_job_name((enum nrm_job)j),
		    (unsigned long long)js.ticks[j]);
	if (n < (int)sizeof(buf))
		n += metrics_audit_checkpoints(
		    buf + n, sizeof(buf) - (size_t)n, app);
	if (n >= (int)sizeof(buf))
		n = (int)sizeof(buf) - 1;
	nrm_req_reply(r, 200, "text/plain; version=0.0.4", buf, (size_t)n);
}
