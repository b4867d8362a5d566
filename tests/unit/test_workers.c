/*
 * test_workers.c - nrm-api/nrmd/workers.c alone (no daemon): done
 * callbacks on the loop thread and work on another, 1,000 jobs each done
 * exactly once, a full queue refusing at once, drain, cancellation of a
 * queued and of a running job and from a job's own done, shutdown with
 * jobs in flight, cracklib under its mutex, and real Argon2id
 * verifications through the pool while a 5 ms timer measures how long
 * the loop is kept from running, beside the same verification called on
 * the loop.  Under valgrind, which runs one thread at a time, pass
 * --fair-sched=yes, or a hashing worker keeps the loop thread from
 * running for the whole hash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include "unit.h"

#include <event2/event.h>

#include "password.h"
#include "workers.h"

#define TW_DEADLINE_MS 120000 /* a hung test fails instead of hanging */
#define TW_MANY 1000

/* What every test shares: the loop, its thread, and a gate that holds
 * work functions until it opens. */
static struct {
	struct event_base *base;
	pthread_t loop;
	int dones; /* done callbacks run */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool gate_open;
} tw;

struct tjob {
	int idx;
	bool gated; /* wait for the gate before returning */
	bool ran; /* set by the work function */
	pthread_t worker;
	int *runs; /* per-job counters, when counted */
	int *done_calls;
	int *request; /* what the holder frees on cancel */
	bool want_gone;
};

static int64_t
tw_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
tw_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void
tw_gate(bool open)
{
	pthread_mutex_lock(&tw.mu);
	tw.gate_open = open;
	pthread_cond_broadcast(&tw.cv);
	pthread_mutex_unlock(&tw.mu);
}

static void
tw_gate_wait(void)
{
	pthread_mutex_lock(&tw.mu);
	while (!tw.gate_open)
		pthread_cond_wait(&tw.cv, &tw.mu);
	pthread_mutex_unlock(&tw.mu);
}

static int
tw_setup(void **state)
{
	NRM_UNUSED(state);
	memset(&tw, 0, sizeof(tw));
	tw.base = event_base_new();
	tw.loop = pthread_self();
	pthread_mutex_init(&tw.mu, NULL);
	pthread_cond_init(&tw.cv, NULL);
	return tw.base != NULL ? 0 : -1;
}

static int
tw_teardown(void **state)
{
	NRM_UNUSED(state);
	event_base_free(tw.base);
	pthread_cond_destroy(&tw.cv);
	pthread_mutex_destroy(&tw.mu);
	return 0;
}

static void
tw_tick(evutil_socket_t fd, short what, void *arg)
{
	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	NRM_UNUSED(arg);
}

/* Run the loop until `n` done callbacks have run in all; a 50 ms timer
 * bounds each turn so the deadline is checked. */
static void
tw_run_until(int n)
{
	struct timeval tv = {0, 50000};
	struct event *tick = event_new(tw.base, -1, EV_PERSIST, tw_tick, NULL);
	int64_t end = tw_now_us() + (int64_t)TW_DEADLINE_MS * 1000;

	assert_non_null(tick);
	assert_int_equal(event_add(tick, &tv), 0);
	while (tw.dones < n) {
		if (tw_now_us() > end)
			fail_msg("%d of %d done callbacks after %d ms",
			    tw.dones, n, TW_DEADLINE_MS);
		event_base_loop(tw.base, EVLOOP_ONCE);
	}
	event_free(tick);
}

static struct nrm_workers *
tw_pool(int threads, int queue_max)
{
	struct nrm_workers *w = NULL;
	struct nrm_error err;

	nrm_error_clear(&err);
	if (nrm_workers_new(&w, tw.base, threads, queue_max, &err) != NRM_OK)
		fail_msg("nrm_workers_new: %s", err.detail);
	return w;
}

/* Wait (on the loop thread, outside the loop) until `running` jobs run. */
static void
tw_wait_running(struct nrm_workers *w, int running)
{
	struct nrm_workers_stats st;
	int64_t end = tw_now_us() + (int64_t)TW_DEADLINE_MS * 1000;

	for (;;) {
		nrm_workers_stats(w, &st);
		if (st.running == running)
			return;
		if (tw_now_us() > end)
			fail_msg(
			    "%d jobs running, want %d", st.running, running);
		tw_sleep_ms(1);
	}
}

static int
tw_work(void *p)
{
	struct tjob *j = p;

	j->worker = pthread_self();
	if (j->gated)
		tw_gate_wait();
	if (j->runs != NULL)
		j->runs[j->idx]++;
	j->ran = true;
	return j->idx;
}

/* The done callback of jobs the test keeps (arg on the test's stack). */
static void
tw_done(void *p, int rc, bool gone)
{
	struct tjob *j = p;

	if (!pthread_equal(pthread_self(), tw.loop))
		fail_msg("job %d: done callback off the loop thread", j->idx);
	if (j->done_calls != NULL)
		j->done_calls[j->idx]++;
	assert_int_equal(gone, j->want_gone);
	if (!gone) {
		assert_true(j->ran);
		assert_int_equal(rc, j->idx);
		if (pthread_equal(j->worker, tw.loop))
			fail_msg("job %d: work ran on the loop thread", j->idx);
	}
	tw.dones++;
}

static void
tw_submit(struct nrm_workers *w, struct tjob *j, int want)
{
	assert_int_equal(
	    nrm_workers_submit(w, tw_work, tw_done, j, NULL), want);
}

/* Number jobs[from..to) and submit them, each expected to be taken. */
static void
tw_submit_range(struct nrm_workers *w, struct tjob *jobs, int from, int to)
{
	for (int i = from; i < to; i++) {
		jobs[i].idx = i;
		tw_submit(w, &jobs[i], NRM_OK);
	}
}

/* The done callback of a job owning its malloc'd arg, whose holder may
 * have freed `request` after cancelling: when gone, free arg only. */
static void
tw_done_owned(void *p, int rc, bool gone)
{
	struct tjob *j = p;

	assert_true(pthread_equal(pthread_self(), tw.loop));
	assert_int_equal(gone, j->want_gone);
	if (!gone) {
		assert_int_equal(rc, j->idx);
		(*j->request)++; /* the holder is still there */
	} else if (!j->ran) {
		assert_int_equal(rc, NRM_ERR);
	}
	if (j->done_calls != NULL)
		j->done_calls[j->idx]++;
	free(j);
	tw.dones++;
}

static void
test_done_on_loop_thread(void **state)
{
	struct nrm_workers *w = tw_pool(0, 0);
	struct tjob jobs[8];
	struct nrm_workers_stats st;

	NRM_UNUSED(state);
	memset(jobs, 0, sizeof(jobs));
	tw_submit_range(w, jobs, 0, 8);
	assert_false(nrm_workers_quiet(w));
	tw_run_until(8);
	assert_true(nrm_workers_quiet(w));
	nrm_workers_stats(w, &st);
	assert_int_equal(st.completed, 8);
	assert_int_equal(st.queued + st.running, 0);
	assert_int_equal(st.rejected + st.cancelled, 0);
	nrm_workers_free(w);
	assert_int_equal(tw.dones, 8); /* free delivered nothing twice */
}

static void
test_many_jobs_once_each(void **state)
{
	struct nrm_workers *w = tw_pool(2, TW_MANY);
	struct tjob *jobs = calloc(TW_MANY, sizeof(*jobs));
	int *runs = calloc(TW_MANY, sizeof(int));
	int *done_calls = calloc(TW_MANY, sizeof(int));
	struct nrm_workers_stats st;

	NRM_UNUSED(state);
	assert_non_null(jobs);
	assert_non_null(runs);
	assert_non_null(done_calls);
	for (int i = 0; i < TW_MANY; i++) {
		jobs[i].runs = runs;
		jobs[i].done_calls = done_calls;
	}
	tw_submit_range(w, jobs, 0, TW_MANY);
	tw_run_until(TW_MANY);
	for (int i = 0; i < TW_MANY; i++)
		if (runs[i] != 1 || done_calls[i] != 1)
			fail_msg("job %d: ran %d times, done %d times", i,
			    runs[i], done_calls[i]);
	nrm_workers_stats(w, &st);
	assert_int_equal(st.completed, TW_MANY);
	assert_int_equal(st.queued + st.running, 0);
	nrm_workers_free(w);
	assert_int_equal(tw.dones, TW_MANY);
	free(jobs);
	free(runs);
	free(done_calls);
}

static void
test_full_queue_refuses_at_once(void **state)
{
	struct nrm_workers *w = tw_pool(1, 2);
	struct tjob jobs[5];
	struct nrm_workers_stats st;
	int64_t t0, took;

	NRM_UNUSED(state);
	memset(jobs, 0, sizeof(jobs));
	jobs[0].gated = true;
	tw_submit_range(w, jobs, 0, 1);
	tw_wait_running(w, 1);
	/* the running job does not count: two wait */
	tw_submit_range(w, jobs, 1, 3);
	jobs[3].idx = 3;
	t0 = tw_now_us();
	tw_submit(w, &jobs[3], NRM_ERR);
	took = tw_now_us() - t0;
	if (took > 20000) /* no waiting: microseconds, even under valgrind */
		fail_msg("a refusal took %lld us", (long long)took);
	nrm_workers_stats(w, &st);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.queued, 2);
	assert_int_equal(st.running, 1);
	tw_gate(true);
	tw_run_until(3);
	/* room again; the refused job's done never ran (tw_done fails on
	 * its unset `ran` if it does) */
	tw_submit_range(w, jobs, 4, 5);
	tw_run_until(4);
	assert_false(jobs[3].ran);
	nrm_workers_free(w);
	assert_int_equal(tw.dones, 4);
}

static void
test_stop_drains(void **state)
{
	struct nrm_workers *w = tw_pool(1, 8);
	struct tjob jobs[4];

	NRM_UNUSED(state);
	memset(jobs, 0, sizeof(jobs));
	tw_submit_range(w, jobs, 0, 3);
	nrm_workers_stop(w);
	jobs[3].idx = 3;
	tw_submit(w, &jobs[3], NRM_ERR);
	assert_false(nrm_workers_quiet(w));
	tw_run_until(3); /* queued jobs still run and are delivered */
	assert_true(nrm_workers_quiet(w));
	for (int i = 0; i < 3; i++)
		assert_true(jobs[i].ran);
	assert_false(jobs[3].ran);
	nrm_workers_free(w);
}

static struct tjob *
tw_owned(int idx, int *request, int *done_calls)
{
	struct tjob *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	j->idx = idx;
	j->request = request;
	j->done_calls = done_calls;
	return j;
}

static void
test_cancel_queued_and_running(void **state)
{
	struct nrm_workers *w = tw_pool(1, 4);
	int *req_a = calloc(1, sizeof(int)), *req_b = calloc(1, sizeof(int));
	int done_calls[3] = {0};
	struct tjob *a = tw_owned(0, req_a, done_calls);
	struct tjob *b = tw_owned(1, req_b, done_calls);
	struct tjob *c = tw_owned(2, NULL, done_calls);
	struct nrm_work_job *ja = NULL, *jb = NULL;
	struct nrm_workers_stats st;
	int req_c = 0;

	NRM_UNUSED(state);
	assert_non_null(req_a);
	assert_non_null(req_b);
	c->request = &req_c;
	a->gated = true;
	a->want_gone = b->want_gone = true;
	assert_int_equal(
	    nrm_workers_submit(w, tw_work, tw_done_owned, a, &ja), NRM_OK);
	tw_wait_running(w, 1);
	assert_int_equal(
	    nrm_workers_submit(w, tw_work, tw_done_owned, b, &jb), NRM_OK);
	assert_int_equal(
	    nrm_workers_submit(w, tw_work, tw_done_owned, c, NULL), NRM_OK);
	assert_non_null(ja);
	assert_non_null(jb);

	/* b's client goes away while b waits: its holder cancels, then
	 * frees what it owned; b is delivered gone without running, and
	 * without waiting for the worker, which is still held by a */
	nrm_workers_cancel(w, jb);
	nrm_workers_cancel(w, jb); /* harmless twice */
	free(req_b);
	assert_int_equal(done_calls[1], 0); /* not from inside cancel */
	tw_run_until(1);
	assert_int_equal(done_calls[1], 1);
	nrm_workers_stats(w, &st);
	assert_int_equal(st.queued, 1); /* c */
	assert_int_equal(st.running, 1); /* a */

	/* a's client goes away while a runs: the work finishes, done is
	 * told it is gone and only frees */
	nrm_workers_cancel(w, ja);
	free(req_a);
	tw_gate(true);
	tw_run_until(3);
	assert_int_equal(done_calls[0], 1);
	assert_int_equal(done_calls[2], 1);
	assert_int_equal(req_c, 1); /* c, not cancelled, reached its holder */
	nrm_workers_stats(w, &st);
	assert_int_equal(st.cancelled, 2);
	assert_int_equal(st.completed, 2); /* a and c; b never ran */
	assert_true(nrm_workers_quiet(w));
	nrm_workers_free(w);
}

/* A job whose done callback cancels it, as a reply freeing its request
 * would: nothing happens, nothing is counted, nothing is freed twice. */
struct tw_self {
	struct nrm_workers *w;
	struct nrm_work_job *job;
};

static int
tw_self_work(void *p)
{
	NRM_UNUSED(p);
	return NRM_OK;
}

static void
tw_self_done(void *p, int rc, bool gone)
{
	struct tw_self *s = p;

	assert_int_equal(rc, NRM_OK);
	assert_false(gone);
	nrm_workers_cancel(s->w, s->job);
	free(s);
	tw.dones++;
}

static void
test_cancel_inside_done(void **state)
{
	struct nrm_workers *w = tw_pool(1, 4);
	struct tw_self *s = calloc(1, sizeof(*s));
	struct nrm_workers_stats st;

	NRM_UNUSED(state);
	assert_non_null(s);
	s->w = w;
	assert_int_equal(
	    nrm_workers_submit(w, tw_self_work, tw_self_done, s, &s->job),
	    NRM_OK);
	tw_run_until(1);
	nrm_workers_stats(w, &st);
	assert_int_equal(st.cancelled, 0);
	assert_int_equal(st.completed, 1);
	nrm_workers_free(w);
	assert_int_equal(tw.dones, 1);
}

struct tw_opener {
	int delay_ms;
};

static void *
tw_open_later(void *p)
{
	const struct tw_opener *o = p;

	tw_sleep_ms(o->delay_ms);
	tw_gate(true);
	return NULL;
}

static void
test_free_with_jobs_in_flight(void **state)
{
	struct nrm_workers *w = tw_pool(2, 8);
	struct tjob jobs[6];
	int done_calls[6] = {0};
	struct tw_opener o = {200};
	pthread_t opener;

	NRM_UNUSED(state);
	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < 6; i++) {
		jobs[i].gated = true;
		jobs[i].want_gone = true;
		jobs[i].done_calls = done_calls;
	}
	tw_submit_range(w, jobs, 0, 6);
	tw_wait_running(w, 2);
	/* the gate opens while free waits in join: the two running jobs
	 * finish, the four queued never start, all six are delivered gone
	 * from free, on this thread, once */
	assert_int_equal(pthread_create(&opener, NULL, tw_open_later, &o), 0);
	nrm_workers_free(w);
	assert_int_equal(pthread_join(opener, NULL), 0);
	assert_int_equal(tw.dones, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(done_calls[i], 1);
		assert_int_equal(jobs[i].ran, i < 2);
	}
}

/* A dictionary check through the pool, under the cracklib mutex. */
struct tw_check {
	const char *pw;
	bool want_ok, got_ok;
};

static int
tw_check_work(void *p)
{
	struct tw_check *c = p;
	struct nrm_error err;
	int rc;

	nrm_error_clear(&err);
	nrm_workers_cracklib_lock();
	rc = nrm_password_check(
	    c->pw, strlen(c->pw), "jvandermeer", NULL, NULL, &err);
	nrm_workers_cracklib_unlock();
	c->got_ok = rc == NRM_OK;
	return rc;
}

static void
tw_check_done(void *p, int rc, bool gone)
{
	struct tw_check *c = p;

	assert_false(gone);
	assert_int_equal(rc == NRM_OK, c->got_ok);
	tw.dones++;
}

static void
test_cracklib_through_pool(void **state)
{
	static const char *const pws[] = {"password1234",
	    "correct horse battery staple", "jvandermeer2024",
	    "vier blauwe paarden lopen"};
	struct nrm_workers *w = tw_pool(2, 32);
	struct tw_check checks[16];

	NRM_UNUSED(state);
	for (int i = 0; i < 16; i++) {
		checks[i].pw = pws[i % 4];
		checks[i].want_ok = i % 2 == 1;
		checks[i].got_ok = !checks[i].want_ok;
		assert_int_equal(nrm_workers_submit(w, tw_check_work,
				     tw_check_done, &checks[i], NULL),
		    NRM_OK);
	}
	tw_run_until(16);
	for (int i = 0; i < 16; i++)
		if (checks[i].got_ok != checks[i].want_ok)
			fail_msg("'%s': accepted %d", checks[i].pw,
			    checks[i].got_ok);
	nrm_workers_free(w);
}

/*
 * Argon2id on the loop versus through the pool.  A 5 ms timer records
 * the longest gap between its ticks; after a few ticks it either verifies
 * once on the loop or hands TW_VERIFY_JOBS verifications (real and
 * dummy) to the pool, and the phase ends a few ticks after the last one.
 */
#define TW_VERIFY_JOBS 8
#define TW_TICK_US 5000
#define TW_ROUNDS 5

struct tw_verify {
	const char *encoded;
	const char *pw;
	bool dummy, want;
	bool match;
	int rc;
};

static struct {
	struct event *tick;
	struct nrm_workers *w; /* NULL: verify on the loop */
	struct tw_verify v[TW_VERIFY_JOBS];
	int ticks, started_at, ended_at;
	int64_t last_us, max_gap_us;
} tv;

static int
tw_verify_work(void *p)
{
	struct tw_verify *v = p;

	v->match = false;
	if (v->dummy) {
		/* an unknown login's work since 0024: a derive with
		 * parameters and a salt, which matches nothing */
		struct nrm_argon2 a;
		unsigned char tag[NRM_ARGON2_TAG_MAX];
		struct nrm_error err;

		return nrm_password_new(v->pw, strlen(v->pw), &a, tag, &err);
	}
	return nrm_password_verify(v->encoded, v->pw, strlen(v->pw), &v->match);
}

static void
tw_verify_done(void *p, int rc, bool gone)
{
	struct tw_verify *v = p;

	assert_true(pthread_equal(pthread_self(), tw.loop));
	assert_false(gone);
	v->rc = rc;
	tw.dones++;
}

static void
tw_verify_tick(evutil_socket_t fd, short what, void *arg)
{
	int64_t now = tw_now_us();
	int n = tv.w != NULL ? TW_VERIFY_JOBS : 1;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	NRM_UNUSED(arg);
	tv.ticks++;
	if (tv.started_at > 0 && tv.ended_at == 0 &&
	    now - tv.last_us > tv.max_gap_us)
		tv.max_gap_us = now - tv.last_us;
	tv.last_us = now;
	if (tv.ticks == 4) {
		tv.started_at = tv.ticks;
		tw.dones = 0;
		for (int i = 0; i < n; i++) {
			if (tv.w == NULL) {
				tv.v[i].rc = tw_verify_work(&tv.v[i]);
				tw.dones++;
			} else if (nrm_workers_submit(tv.w, tw_verify_work,
				       tw_verify_done, &tv.v[i],
				       NULL) != NRM_OK)
				fail_msg("verification %d refused", i);
		}
	} else if (tv.started_at > 0 && tv.ended_at == 0 && tw.dones == n) {
		tv.ended_at = tv.ticks;
	} else if (tv.ended_at > 0 && tv.ticks >= tv.ended_at + 2) {
		event_base_loopbreak(tw.base);
	}
}

/* One phase; returns the longest gap between ticks while it hashed. */
static int64_t
tw_verify_phase(struct nrm_workers *w)
{
	struct timeval every = {0, TW_TICK_US};

	tv.w = w;
	tv.ticks = tv.started_at = tv.ended_at = 0;
	tv.max_gap_us = 0;
	tv.last_us = tw_now_us();
	tv.tick = event_new(tw.base, -1, EV_PERSIST, tw_verify_tick, NULL);
	assert_non_null(tv.tick);
	assert_int_equal(event_add(tv.tick, &every), 0);
	assert_int_equal(event_base_dispatch(tw.base), 0);
	event_free(tv.tick);
	for (int i = 0; i < (w != NULL ? TW_VERIFY_JOBS : 1); i++) {
		assert_int_equal(tv.v[i].rc, NRM_OK);
		assert_int_equal(tv.v[i].match, tv.v[i].want);
	}
	return tv.max_gap_us;
}

static void
test_argon2_off_the_loop(void **state)
{
	static const char pw[] = "correct horse battery staple";
	char encoded[NRM_PASSWORD_HASH_MAX];
	struct nrm_workers *w = tw_pool(0, TW_VERIFY_JOBS);
	struct nrm_error err;
	int64_t direct = INT64_MAX, pooled = INT64_MAX, gap;

	NRM_UNUSED(state);
	nrm_error_clear(&err);
	assert_int_equal(
	    nrm_password_hash(pw, strlen(pw), encoded, sizeof(encoded), &err),
	    NRM_OK);
	for (int i = 0; i < TW_VERIFY_JOBS; i++) {
		tv.v[i].encoded = encoded;
		tv.v[i].pw = i % 3 == 1 ? "wrong horse battery staple" : pw;
		tv.v[i].dummy = i % 4 == 3;
		tv.v[i].want = !tv.v[i].dummy && i % 3 != 1;
	}
	/* the best of a few rounds each: a real block shows in every round,
	 * another process taking the core only in some */
	for (int r = 0; r < TW_ROUNDS; r++) {
		gap = tw_verify_phase(NULL);
		direct = gap < direct ? gap : direct;
		gap = tw_verify_phase(w);
		pooled = gap < pooled ? gap : pooled;
	}
	print_message("longest loop gap: %lld us with one verification on "
		      "the loop, %lld us with %d through the pool\n",
	    (long long)direct, (long long)pooled, TW_VERIFY_JOBS);
	/* one hash on the loop stalls it for the hash's time; eight in the
	 * pool must stall it far less than one does */
	if (pooled * 2 >= direct)
		fail_msg("the pool blocked the loop %lld us, a direct call "
			 "%lld us (under valgrind, run with --fair-sched=yes: "
			 "its default lock lets one thread run for long)",
		    (long long)pooled, (long long)direct);
	nrm_workers_free(w);
}

UNIT_MAIN(NULL, NULL,
    cmocka_unit_test_setup_teardown(
	test_done_on_loop_thread, tw_setup, tw_teardown),
    cmocka_unit_test_setup_teardown(
	test_many_jobs_once_each, tw_setup, tw_teardown),
    cmocka_unit_test_setup_teardown(
	test_full_queue_refuses_at_once, tw_setup, tw_teardown),
    cmocka_unit_test_setup_teardown(test_stop_drains, tw_setup, tw_teardown),
    cmocka_unit_test_setup_teardown(
	test_cancel_queued_and_running, tw_setup, tw_teardown),
    cmocka_unit_test_setup_teardown(
	test_cancel_inside_done, tw_setup, tw_teardown),
    cmocka_unit_test_setup_teardown(
	test_free_with_jobs_in_flight, tw_setup, tw_teardown),
    cmocka_unit_test_setup_teardown(
	test_cracklib_through_pool, tw_setup, tw_teardown),
    cmocka_unit_test_setup_teardown(
	test_argon2_off_the_loop, tw_setup, tw_teardown))
