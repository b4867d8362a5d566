/*
 * jobs.h - nrmd's periodic jobs, each on its own timer:
 *
 *   seal        every audit_seal_interval: api.audit_seal() chains what
 *               was written since (one sealer at a time across daemons);
 *               a full batch seals on at once
 *   checkpoint  every audit_checkpoint_interval: sign the chain head and
 *               append it to audit_checkpoint_file (when checkpoints are
 *               on)
 *   sweep       every sweep_interval: escalate overdue cases (every
 *               daemon does it; the database makes each escalation
 *               happen once)
 *   recheck     every longpoll_recheck: the long-poll backstop (reap the
 *               waiters whose client left, wake every waiter)
 *   schema      every 5 s: read the schema version for the pool's
 *               readiness (nrm_db_schema_seen)
 *   coverage    every coverage_refresh, and at once after a reload:
 *               api.coverage_uncovered into app->coverage (coverage.h:
 *               the uncovered regions and the overdue counts), warning about regions with an office but no coordinator
 *               key or person at start, after a reload and when that
 *               list changes
 *   rejects     every reject_cache_ttl: one audit event summing the
 *               refusals answered from the rejected-token cache since
 *               the last tick (guard.h), when there were any
 *   plaintext   at start-up and then hourly: api.data_plaintext_left,
 *               a warning with the counts of rows still holding
 *               personal data in plaintext (stored before 0017) while
 *               any are left (`nrmctl data encrypt` seals them)
 *   retention   every retention_interval: api.retention_run() erases up
 *               to retention_batch signals whose personal data the
 *               schedule (retention_after_close, retention_by_reason,
 *               retention_anonymous) makes due, one audit event each
 *               (one daemon at a time); a full batch runs on at once
 *
 * Every job re-arms from the application's LIVE config after each tick,
 * and nrm_jobs_reload() re-arms at once a job whose interval changed, so
 * a SIGHUP changes every interval.  A job never has more than one query
 * out; the database jobs skip a tick while the pool is not ready (the
 * schema job excepted) and stop once http drains.
 */
#ifndef NRM_JOBS_H
#define NRM_JOBS_H

#include "app.h"

enum nrm_job {
	NRM_JOB_SEAL = 0,
	NRM_JOB_CHECKPOINT,
	NRM_JOB_SWEEP,
	NRM_JOB_RECHECK,
	NRM_JOB_SCHEMA,
	NRM_JOB_COVERAGE,
	NRM_JOB_REJECTS,
	NRM_JOB_PLAINTEXT,
	NRM_JOB_RETENTION,
	NRM_JOB__COUNT
};

struct nrm_jobs;

/* Arm every job on app->base; app must outlive the jobs. */
struct nrm_jobs *nrm_jobs_start(struct nrm_app *app);

/* Re-arm, from now, each job whose configured interval changed. */
void nrm_jobs_reload(struct nrm_jobs *jobs);

void nrm_jobs_free(struct nrm_jobs *jobs);

/* What /metrics reports of the jobs. */
struct nrm_jobs_stats {
	uint64_t ticks[NRM_JOB__COUNT];
	uint64_t escalations; /* cases this daemon escalated */
	uint64_t audit_sealed; /* audit events this daemon sealed */
	uint64_t retention_erased; /* signals this daemon's job erased */
	int64_t audit_unsealed; /* queue left by the last seal; -1 unknown */
	int64_t seal_behind_since; /* unix s, 0: the last seal emptied it */
	int64_t checkpoint_ok_at; /* unix s the head was last covered by a
				     signed checkpoint; 0 never (or off) */
};
void nrm_jobs_stats(const struct nrm_jobs *jobs, struct nrm_jobs_stats *out);

/* "seal", "checkpoint", ... */
const char *nrm_job_name(enum nrm_job job);

#endif /* NRM_JOBS_H */
