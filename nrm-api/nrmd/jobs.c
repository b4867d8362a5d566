/*
 * jobs.c - the periodic jobs and their timers (see jobs.h).
 */
#include "jobs.h"
#include "checkpoint.h"
#include "coverage.h"
#include "db.h"
#include "guard.h"
#include "http.h"
#include "log.h"
#include "routing.h"
#include "util.h"
#include "waiters.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#define JOBS_SEAL_BATCH 5000 /* audit events sealed per call */
#define JOBS_SCHEMA_S 5
/* a tick that found the pool not ready runs again this soon (seconds) */
#define JOBS_DEFER_S 1
/* the plaintext job looks every 5 s until it has an answer, then hourly */
#define JOBS_PLAINTEXT_S 5
#define JOBS_PLAINTEXT_EVERY_S 3600

struct nrm_jobs;

struct jobs_job {
	struct nrm_jobs *jobs;
	enum nrm_job id;
	struct event ev;
	int armed_s; /* the interval the timer was last armed with */
	bool pending; /* its query is out */
	bool deferred; /* this tick found the pool not ready */
};

struct nrm_jobs {
	struct nrm_app *app;
	struct jobs_job job[NRM_JOB__COUNT];
	struct nrm_jobs_stats st; /* what nrm_jobs_stats() reports */
	int64_t plaintext_next; /* unix s of the next plaintext count */
};

/* The table: name, the config key of the interval (or a fixed one), the
 * delay of the first tick in milliseconds, and what a tick does. */
static void jobs_seal(struct jobs_job *j);
static void jobs_checkpoint(struct jobs_job *j);
static void jobs_sweep(struct jobs_job *j);
static void jobs_recheck(struct jobs_job *j);
static void jobs_schema(struct jobs_job *j);
static void jobs_coverage(struct jobs_job *j);
static void jobs_rejects(struct jobs_job *j);
static void jobs_plaintext(struct jobs_job *j);
static void jobs_retention(struct jobs_job *j);

#define JOBS_KEY(k) offsetof(struct nrm_config, k)
#define JOBS_FIXED ((size_t)-1)

static const struct {
	const char *name;
	size_t interval_key;
	int fixed_s;
	int first_ms;
	void (*run)(struct jobs_job *j);
} jobs_table[NRM_JOB__COUNT] = {
    [NRM_JOB_SEAL] = {"seal", JOBS_KEY(audit_seal_interval), 0, 1000,
	jobs_seal},
    [NRM_JOB_CHECKPOINT] = {"checkpoint", JOBS_KEY(audit_checkpoint_interval),
	0, 2000, jobs_checkpoint},
    [NRM_JOB_SWEEP] = {"sweep", JOBS_KEY(sweep_interval), 0, 1000, jobs_sweep},
    [NRM_JOB_RECHECK] = {"recheck", JOBS_KEY(longpoll_recheck), 0, -1,
	jobs_recheck},
    [NRM_JOB_SCHEMA] = {"schema", JOBS_FIXED, JOBS_SCHEMA_S, 200, jobs_schema},
    [NRM_JOB_COVERAGE] = {"coverage", JOBS_KEY(coverage_refresh), 0, 500,
	jobs_coverage},
    [NRM_JOB_REJECTS] = {"rejects", JOBS_KEY(reject_cache_ttl), 0, -1,
	jobs_rejects},
    [NRM_JOB_PLAINTEXT] = {"plaintext", JOBS_FIXED, JOBS_PLAINTEXT_S, 700,
	jobs_plaintext},
    [NRM_JOB_RETENTION] = {"retention", JOBS_KEY(retention_interval), 0, 1500,
	jobs_retention},
};

const char *
nrm_job_name(enum nrm_job job)
{
	return job < NRM_JOB__COUNT ? jobs_table[job].name : "unknown";
}

/* The job's interval in the live config, in seconds. */
static int
jobs_interval(const struct jobs_job *j)
{
	size_t key = jobs_table[j->id].interval_key;

	if (key == JOBS_FIXED)
		return jobs_table[j->id].fixed_s;
	return *(
	    const int *)(const void *)((const char *)&j->jobs->app->cfg + key);
}

static void
jobs_arm_ms(struct jobs_job *j, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_add(&j->ev, &tv);
}

static void
jobs_arm(struct jobs_job *j)
{
	j->armed_s = jobs_interval(j);
	jobs_arm_ms(j, j->armed_s * 1000);
}

static bool
jobs_draining(const struct nrm_jobs *jobs)
{
	return jobs->app->http != NULL && nrm_http_draining(jobs->app->http);
}

static void
jobs_tick(evutil_socket_t fd, short what, void *arg)
{
	struct jobs_job *j = arg;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	j->jobs->st.ticks[j->id]++;
	j->deferred = false;
	jobs_table[j->id].run(j);
	if (j->deferred && jobs_interval(j) > JOBS_DEFER_S) {
		/* the pool was not ready (start-up, a reconnect): try again
		 * soon rather than a whole interval later */
		j->armed_s = jobs_interval(j);
		jobs_arm_ms(j, JOBS_DEFER_S * 1000);
	} else {
		jobs_arm(j); /* from the live config */
	}
}

/*
 * Send the job's query unless one is out (or, when `ready`, the pool is
 * not ready); `done` must clear j->pending.
 */
static void
jobs_send(struct jobs_job *j, enum nrm_stmt stmt, int n,
    const char *const *values, bool ready, nrm_db_cb done)
{
	struct nrm_db *db = j->jobs->app->db;

	if (j->pending)
		return;
	if (ready && !nrm_db_ready(db)) {
		j->deferred = true;
		return;
	}
	/* the jobs' class: the reserved connection (db.h) */
	if (nrm_db_exec_job(db, stmt, n, values, done, j) != NULL)
		j->pending = true;
}

/* jobs_send() with one integer parameter, unless the daemon drains. */
static void
jobs_send_int(struct jobs_job *j, enum nrm_stmt stmt, int value, nrm_db_cb done)
{
	char text[16];
	const char *v[1] = {text};

	if (jobs_draining(j->jobs))
		return;
	snprintf(text, sizeof(text), "%d", value);
	jobs_send(j, stmt, 1, v, true, done);
}

/*
 * The jsonb answer of a job's query, parsed; NULL (after a warning
 * unless the pool was only unavailable) when the query failed.
 */
static cJSON *
jobs_answer(
    const struct jobs_job *j, enum nrm_db_outcome outcome, const PGresult *res)
{
	const char *st;

	if (outcome == NRM_DB_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0))
		return cJSON_Parse(PQgetvalue(res, 0, 0));
	if (outcome == NRM_DB_UNAVAILABLE)
		return NULL;
	st = outcome == NRM_DB_ERROR ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
				     : NULL;
	nrm_warn("periodic job failed job=%s outcome=%d sqlstate=%s",
	    jobs_table[j->id].name, (int)outcome, st != NULL ? st : "-");
	return NULL;
}

/*
 * A job's query is back: clear its pending flag and return the number
 * member `key` of the answer, or -1.
 */
static double
jobs_done(struct jobs_job *j, enum nrm_db_outcome outcome, const PGresult *res,
    const char *key)
{
	cJSON *o = jobs_answer(j, outcome, res);
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
	double v = cJSON_IsNumber(n) ? n->valuedouble : -1;

	j->pending = false;
	cJSON_Delete(o);
	return v;
}

/* --- seal ------------------------------------------------------------ */

static void
jobs_seal_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct jobs_job *j = arg;
	struct nrm_jobs *jobs = j->jobs;
	cJSON *o = jobs_answer(j, outcome, res);
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "sealed");
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "unsealed");
	double n = cJSON_IsNumber(s) ? s->valuedouble : -1;

	j->pending = false;
	if (n > 0)
		jobs->st.audit_sealed += (uint64_t)n;
	/*
	 * The queue this seal left behind ("busy": another daemon seals,
	 * and this one learns nothing).  Seal lag: how long it has not been
	 * left empty.
	 */
	if (cJSON_IsNumber(u)) {
		jobs->st.audit_unsealed = (int64_t)u->valuedouble;
		if (jobs->st.audit_unsealed == 0)
			jobs->st.seal_behind_since = 0;
		else if (jobs->st.seal_behind_since == 0)
			jobs->st.seal_behind_since = (int64_t)time(NULL);
	}
	cJSON_Delete(o);
	/* A full batch: more are waiting, seal on at once. */
	if (n >= JOBS_SEAL_BATCH)
		jobs_seal(j);
}

static void
jobs_seal(struct jobs_job *j)
{
	jobs_send_int(j, NRM_STMT_AUDIT_SEAL, JOBS_SEAL_BATCH, jobs_seal_done);
}

/* --- checkpoint ------------------------------------------------------ */

static void
jobs_checkpoint_done(
    void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct jobs_job *j = arg;
	struct nrm_checkpoints *cp = j->jobs->app->checkpoints;
	cJSON *o = jobs_answer(j, outcome, res);
	const cJSON *hash = cJSON_GetObjectItemCaseSensitive(o, "hash");
	const cJSON *pos_n = cJSON_GetObjectItemCaseSensitive(o, "pos");
	double pos = cJSON_IsNumber(pos_n) ? pos_n->valuedouble : -1;

	j->pending = false;
	if (cp != NULL && cJSON_IsString(hash) && pos > 0) {
		/* written, or skipped: the head is covered either way */
		if (nrm_checkpoints_add(cp, (int64_t)pos, hash->valuestring,
			(int64_t)time(NULL)) == NRM_OK)
			j->jobs->st.checkpoint_ok_at = (int64_t)time(NULL);
		else
			nrm_error("could not write an audit checkpoint");
	}
	cJSON_Delete(o);
}

static void
jobs_checkpoint(struct jobs_job *j)
{
	if (j->jobs->app->checkpoints != NULL)
		jobs_send(j, NRM_STMT_AUDIT_HEAD, 0, NULL, true,
		    jobs_checkpoint_done);
}

/* --- sweep ----------------------------------------------------------- */

static void
jobs_sweep_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct jobs_job *j = arg;
	double n = jobs_done(j, outcome, res, "escalated");

	if (n > 0) {
		j->jobs->st.escalations += (uint64_t)n;
		nrm_info("escalated overdue cases to the national desk "
			 "count=%d",
		    (int)n);
	}
}

/* At most 100 cases a sweep. */
static void
jobs_sweep(struct jobs_job *j)
{
	jobs_send_int(j, NRM_STMT_ESCALATE, 100, jobs_sweep_done);
}

/* --- long-poll recheck ----------------------------------------------- */

static void
jobs_recheck(struct jobs_job *j)
{
	if (j->jobs->app->waiters != NULL)
		nrm_waiters_recheck(j->jobs->app->waiters);
}

/* --- rejected-token bursts ------------------------------------------- */

static void
jobs_rejects_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct jobs_job *j = arg;

	if (jobs_done(j, outcome, res, "recorded") > 0)
		nrm_guard_burst_audited(j->jobs->app->guard);
}

/*
 * One audit event for the refusals answered from the cache in the
 * window that just closed.  The count is taken (reset) only when the
 * query goes out; while the pool is down the refusals add up to the
 * next window's event.
 */
static void
jobs_rejects(struct jobs_job *j)
{
	struct nrm_app *app = j->jobs->app;
	char count[24], window[24];
	const char *v[2] = {count, window};
	uint64_t n;

	if (j->pending || !nrm_db_ready(app->db))
		return;
	n = nrm_guard_take_burst(app->guard);
	if (n == 0)
		return;
	snprintf(count, sizeof(count), "%llu",
	    (unsigned long long)(n > 2147483647u ? 2147483647u : n));
	snprintf(window, sizeof(window), "%d", j->armed_s);
	nrm_warn("refused unknown tokens from the cache count=%s window_s=%s",
	    count, window);
	jobs_send(j, NRM_STMT_AUTH_REJECTIONS, 2, v, true, jobs_rejects_done);
}

/* --- retention ------------------------------------------------------ */

static void
jobs_retention_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct jobs_job *j = arg;
	double n = jobs_done(j, outcome, res, "erased");

	if (n <= 0)
		return;
	j->jobs->st.retention_erased += (uint64_t)n;
	nrm_info("erased personal data on schedule count=%d", (int)n);
	/* A full batch: more are due, erase on at once. */
	if (n >= j->jobs->app->cfg.retention_batch)
		jobs_retention(j);
}

/* The schedule of the live config; the database records it as well. */
static void
jobs_retention(struct jobs_job *j)
{
	const struct nrm_config *cfg = &j->jobs->app->cfg;
	char close[16], anon[16], batch[16];
	const char *v[4] = {close, NULL, anon, batch};
	struct nrm_error err;
	char *by;

	if (jobs_draining(j->jobs))
		return;
	nrm_error_clear(&err);
	/* checked when the config was loaded: cannot fail but for memory */
	by = nrm_config_retention_json(cfg->retention_by_reason, &err);
	if (by == NULL)
		return;
	snprintf(close, sizeof(close), "%d", cfg->retention_after_close);
	snprintf(anon, sizeof(anon), "%d", cfg->retention_anonymous);
	snprintf(batch, sizeof(batch), "%d", cfg->retention_batch);
	v[1] = by;
	jobs_send(j, NRM_STMT_RETENTION, 4, v, true, jobs_retention_done);
	free(by);
}

/* --- schema ---------------------------------------------------------- */

static void
jobs_schema_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct jobs_job *j = arg;
	int v = -1;

	j->pending = false;
	if (outcome == NRM_DB_OK && PQntuples(res) == 1 &&
	    PQnfields(res) == 4 && !PQgetisnull(res, 0, 0)) {
		v = atoi(PQgetvalue(res, 0, 0));
		nrm_db_sync_seen(j->jobs->app->db,
		    nrm_db_sync_settings_ok(
			PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3)));
	} else if (outcome == NRM_DB_ERROR)
		v = 0; /* no schema at all */
	nrm_db_schema_seen(j->jobs->app->db, v);
}

static void
jobs_schema(struct jobs_job *j)
{
	if (!jobs_draining(j->jobs))
		jobs_send(j, NRM_STMT_SCHEMA_VERSION, 0, NULL, false,
		    jobs_schema_done);
}

/* --- coverage -------------------------------------------------------- */

static void
jobs_unstaffed_warn(const struct nrm_routing_region *reg, void *arg)
{
	NRM_UNUSED(arg);
	nrm_warn("region has a coordinator office but no coordinator key or "
		 "person region=%s office=\"%s\"",
	    reg->code, reg->office_name);
}

static void
jobs_coverage_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct jobs_job *j = arg;
	struct nrm_app *app = j->jobs->app;
	struct nrm_coverage *c = &app->coverage;
	const char *codes[NRM_COVERAGE_MAX];
	bool changed = false;

	j->pending = false;
	if (outcome != NRM_DB_OK || PQntuples(res) != 1 ||
	    PQgetisnull(res, 0, 0)) {
		cJSON_Delete(jobs_answer(j, outcome, res)); /* logs why */
		return;
	}
	if (nrm_coverage_take(c, PQgetvalue(res, 0, 0), (int64_t)time(NULL),
		&changed) != NRM_OK) {
		nrm_warn("periodic job failed job=coverage: malformed answer");
		return;
	}
	if (!changed && !c->warn)
		return;
	for (int i = 0; i < c->n_unstaffed; i++)
		codes[i] = c->unstaffed[i];
	nrm_routing_unstaffed(
	    app->router, codes, c->n_unstaffed, jobs_unstaffed_warn, NULL);
	c->warn = false;
}

static void
jobs_coverage(struct jobs_job *j)
{
	jobs_send_int(j, NRM_STMT_COVERAGE,
	    j->jobs->app->cfg.coverage_silent_after, jobs_coverage_done);
}

/* --- plaintext ------------------------------------------------------- */

static long
jobs_count(const cJSON *o, const char *key)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(n) ? (long)n->valuedouble : -1;
}

static void
jobs_plaintext_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct jobs_job *j = arg;
	cJSON *o = jobs_answer(j, outcome, res);
	long sub, sig, dec, idem, inv;

	j->pending = false;
	if (o == NULL)
		return;
	j->jobs->plaintext_next = (int64_t)time(NULL) + JOBS_PLAINTEXT_EVERY_S;
	sub = jobs_count(o, "subjects");
	sig = jobs_count(o, "signals");
	dec = jobs_count(o, "decisions");
	idem = jobs_count(o, "idempotency");
	inv = jobs_count(o, "investigations");
	cJSON_Delete(o);
	/* counts only: never a value */
	if (sub != 0 || sig != 0 || dec != 0 || idem != 0 || inv != 0)
		nrm_warn("personal data stored in plaintext before 0017 is "
			 "left, run nrmctl data encrypt subjects=%ld "
			 "signals=%ld decisions=%ld unkeyed_idempotency=%ld "
			 "investigations=%ld",
		    sub, sig, dec, idem, inv);
}

static void
jobs_plaintext(struct jobs_job *j)
{
	if (!jobs_draining(j->jobs) &&
	    (int64_t)time(NULL) >= j->jobs->plaintext_next)
		jobs_send(j, NRM_STMT_PLAINTEXT_LEFT, 0, NULL, true,
		    jobs_plaintext_done);
}

/* --- the timers ------------------------------------------------------ */

struct nrm_jobs *
nrm_jobs_start(struct nrm_app *app)
{
	struct nrm_jobs *jobs = nrm_xcalloc(1, sizeof(*jobs));

	jobs->app = app;
	jobs->st.audit_unsealed = -1;
	/* the age of the first checkpoint counts from start-up */
	if (app->checkpoints != NULL)
		jobs->st.checkpoint_ok_at = (int64_t)time(NULL);
	app->coverage.warn = true;
	for (int i = 0; i < NRM_JOB__COUNT; i++) {
		struct jobs_job *j = &jobs->job[i];

		j->jobs = jobs;
		j->id = (enum nrm_job)i;
		event_assign(&j->ev, app->base, -1, 0, jobs_tick, j);
		if (jobs_table[i].first_ms < 0) {
			jobs_arm(j);
		} else {
			j->armed_s = jobs_interval(j);
			jobs_arm_ms(j, jobs_table[i].first_ms);
		}
	}
	return jobs;
}

void
nrm_jobs_reload(struct nrm_jobs *jobs)
{
	for (int i = 0; i < NRM_JOB__COUNT; i++) {
		struct jobs_job *j = &jobs->job[i];

		if (jobs_interval(j) == j->armed_s)
			continue;
		event_del(&j->ev);
		jobs_arm(j);
		nrm_info("job interval changed job=%s interval_s=%d",
		    jobs_table[i].name, j->armed_s);
	}
	/* The coverage at once: its silence may have changed, the routing
	 * offices too; warn about unstaffed offices again. */
	jobs->app->coverage.warn = true;
	event_del(&jobs->job[NRM_JOB_COVERAGE].ev);
	jobs_arm_ms(&jobs->job[NRM_JOB_COVERAGE], 100);
}

void
nrm_jobs_stats(const struct nrm_jobs *jobs, struct nrm_jobs_stats *out)
{
	*out = jobs->st;
}

void
nrm_jobs_free(struct nrm_jobs *jobs)
{
	if (jobs == NULL)
		return;
	for (int i = 0; i < NRM_JOB__COUNT; i++)
		event_del(&jobs->job[i].ev);
	free(jobs);
}
