/*
 * workers.h - a small pool of POSIX threads for the work that would block
 * nrmd's event loop: Argon2id hashing and verification (~40-50 ms of CPU
 * each), the dummy verification of an unknown login, and cracklib's
 * dictionary check (file reads).  The loop hands a job over and goes on
 * serving; the job's done callback runs back on the loop thread.
 *
 * Threads: a fixed number, started by nrm_workers_new() and joined by
 * nrm_workers_free().  They block every signal (signals stay with the
 * loop, where libevent handles them) and touch no libevent object: all
 * they share with the loop is the pool's mutex-protected queues and an
 * eventfd.  Default: one less than the online cores (one on this 2-core
 * machine), at most NRM_WORKERS_THREADS_AUTO_MAX.  The work is CPU-bound
 * and single-threaded (Argon2 with p = 1), so threads beyond the cores
 * add memory (19 MiB per running hash) and latency, never throughput, and
 * the core left over serves the loop (and PostgreSQL beside it): measured
 * with 8 verifications queued on this machine under a load of 4, the
 * loop's longest stall was 11-12 ms with one worker, 15-16 ms with two,
 * against 35-60 ms for one verification on the loop.  One worker still
 * verifies about 25 passwords a second, far above the logins of a few
 * hundred staff; a bigger machine gets more.
 *
 * Queue: bounded by queue_max jobs waiting to start (running ones not
 * counted).  When it is full, or the pool is stopped, submission fails at
 * once (counted as rejected) and the caller answers 503 with Retry-After;
 * nothing waits unbounded.  Jobs start in submission order.
 *
 * Completion: a worker appends the finished job to the pool's done list
 * and, when the list was empty, writes the eventfd; the pool's persistent
 * read event on the loop drains it and runs the done callbacks of every
 * job on the list.  (Not evthread_use_pthreads() + event_active(): that
 * is process-wide, must come before event_base_new(), and makes every
 * event operation of the daemon take a lock, to serve one channel.)
 *
 * Job lifetime and ownership (cf. the request lifetime in http.h):
 * - nrm_workers_submit() either fails, and then nothing is kept: done is
 *   never called and arg stays the caller's; or succeeds, and then the
 *   pool calls done(arg, rc, gone) exactly once, on the loop thread,
 *   from the pool's event (never inside submit or cancel), after which
 *   the job handle is freed.
 * - Between submit and done, arg is the job's: `work` reads and writes it
 *   on a worker thread, so the loop must not touch it.  Whatever arg holds
 *   (a copy of the password, the stored hash, room for the result) is
 *   freed by done, in every case.  Put nothing in arg that the loop may
 *   free meanwhile, except a pointer that done follows only when !gone.
 * - The handle *job (optional) is valid from submit until done returns.
 *   Its holder (say a request) passes it to nrm_workers_cancel() when the
 *   client goes away, and forgets it when done runs; both happen on the
 *   loop thread, so there is no race between them.  Cancelling from
 *   inside the job's own done callback (a reply that frees the request,
 *   whose free cancels what it holds) does nothing.
 * - Cancel: a job that has not started never runs; one that is running
 *   runs to its end (a hash cannot be interrupted).  Either way done
 *   runs later with gone true and must only free arg: the canceller may
 *   already have freed what it owned.
 * - gone is also true when nrm_workers_free() ends the pool with the job
 *   undelivered.  When gone is false, the work ran and rc is what it
 *   returned; when the work did not run, rc is NRM_ERR and gone true.
 *
 * Threads: nrm_workers_new(), _submit(), _cancel(), _stop(), _quiet(),
 * _stats() and _free() are for the loop thread (the one that called
 * nrm_workers_new() and runs the event base); `work` may call none of
 * them.
 *
 * cracklib keeps static state and is not thread-safe: every call into it
 * (nrm_password_check(), nrm_password_dict_ready() of common/password.h),
 * from a worker or any other thread, is made between
 * nrm_workers_cracklib_lock() and nrm_workers_cracklib_unlock(), one
 * process-wide mutex.  libargon2 and OpenSSL's RNG are thread-safe:
 * hashing and verifying run unlocked, in parallel.
 */
#ifndef NRM_WORKERS_H
#define NRM_WORKERS_H

#include "nrm/nrm.h"

struct event_base;
struct nrm_work_job;
struct nrm_workers;

#define NRM_WORKERS_THREADS_AUTO_MAX 8 /* default on a big machine */
#define NRM_WORKERS_THREADS_MAX 64
/* 1 thread x ~40 ms: a full queue is about 1.3 s of waiting, beyond which
 * a 503 with Retry-After serves a person better than a login that hangs. */
#define NRM_WORKERS_QUEUE_DEFAULT 32
#define NRM_WORKERS_QUEUE_MAX 65536

/* Run on a worker thread with the job's arg; returns NRM_OK or NRM_ERR
 * (or any int the done callback understands). */
typedef int (*nrm_work_cb)(void *arg);

/* Run on the loop thread once per submitted job; see the header comment
 * for rc and gone.  Owns arg. */
typedef void (*nrm_work_done_cb)(void *arg, int rc, bool gone);

/* Counters for /metrics: gauges (queued, running) and totals. */
struct nrm_workers_stats {
	int queued; /* waiting to start */
	int running; /* on a worker thread now */
	uint64_t rejected; /* submissions refused: queue full or stopped */
	uint64_t completed; /* work functions that ran to their end */
	uint64_t cancelled; /* jobs cancelled before their done callback */
};

/* Online cores less one, between 1 and NRM_WORKERS_THREADS_AUTO_MAX. */
int nrm_workers_default_threads(void);

/*
 * A pool of `threads` workers (0: nrm_workers_default_threads()) with room
 * for `queue_max` waiting jobs (0: NRM_WORKERS_QUEUE_DEFAULT) whose done
 * callbacks run on `base`, from the calling thread.  NRM_ERR (err set,
 * nothing left behind) when a value is out of range or a thread, the
 * eventfd or the event cannot be made.
 */
int nrm_workers_new(struct nrm_workers **out, struct event_base *base,
    int threads, int queue_max, struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Queue `work` on arg, then `done` on the loop.  NRM_OK, and *job (when
 * job is not NULL) the handle for nrm_workers_cancel(); NRM_ERR at once
 * when the queue is full, the pool is stopped or memory runs out: done
 * will not be called and arg is still the caller's.
 */
int nrm_workers_submit(struct nrm_workers *w, nrm_work_cb work,
    nrm_work_done_cb done, void *arg, struct nrm_work_job **job) NRM_MUSTCHECK;

/*
 * The holder of `job` is going away: do not start the work if it has not
 * started, and call done with gone true.  Only until done returns;
 * repeating it, or calling it from the job's own done, does nothing more.
 */
void nrm_workers_cancel(struct nrm_workers *w, struct nrm_work_job *job);

/*
 * Drain: refuse new jobs from now on; queued and running ones go on and
 * are delivered as usual.
 */
void nrm_workers_stop(struct nrm_workers *w);

/* True when no job is queued, running, or waiting for its done callback:
 * a draining daemon may free the pool. */
bool nrm_workers_quiet(struct nrm_workers *w);

void nrm_workers_stats(struct nrm_workers *w, struct nrm_workers_stats *out);

/*
 * End the pool (w may be NULL): refuse new jobs, cancel the ones not
 * started, wait for the running ones to finish (at most one job's time),
 * join the threads, call done(arg, rc, true) for every job not yet
 * delivered, then free everything.  Blocks; called on the loop thread,
 * when the loop no longer serves requests (after nrm_workers_quiet(), or
 * at exit), never from a done callback, and before event_base_free().
 */
void nrm_workers_free(struct nrm_workers *w);

/* The process-wide cracklib mutex (see above); never fails. */
void nrm_workers_cracklib_lock(void);
void nrm_workers_cracklib_unlock(void);

#endif /* NRM_WORKERS_H */
