/*
 * workers.c - the worker pool that keeps blocking work off nrmd's event
 * loop: threads, a bounded queue, an eventfd back to the loop, cancellation
 * and shutdown (see workers.h).
 */
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

/* Where a job is; changed under the pool's mutex. */
enum wk_state {
	WK_QUEUED, /* on the queue, waiting for a worker */
	WK_RUNNING, /* a worker runs its work function */
	WK_DONE, /* on the done list (or being delivered) */
};

struct nrm_work_job {
	struct nrm_work_job *prev, *next; /* queue or done list */
	nrm_work_cb work;
	nrm_work_done_cb done;
	void *arg;
	enum wk_state state;
	int rc; /* what work returned, once ran */
	bool ran;
	bool cancelled; /* loop thread only */
	bool delivering; /* its done callback runs: loop thread only */
};

struct wk_list {
	struct nrm_work_job *head, *tail;
};

struct nrm_workers {
	struct event ev; /* read side of efd, on the loop */
	int efd;
	int nthreads; /* started */
	int queue_max;
	bool accepting; /* loop thread only */
	bool ev_added;
	size_t pending; /* submitted, done not yet called: loop only */
	uint64_t rejected, cancelled; /* loop thread only */

	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv; /* a job queued, or stopping */
	struct wk_list queue, done;
	int nqueued, nrunning;
	uint64_t completed;
	bool stopping; /* workers exit instead of taking a job */
	bool signalled; /* efd written since the loop last took the list */

	pthread_t threads[]; /* nthreads of them */
};

/* The one mutex around cracklib, whose state is static. */
static pthread_mutex_t wk_cracklib_mu = PTHREAD_MUTEX_INITIALIZER;

static void
wk_list_push(struct wk_list *l, struct nrm_work_job *job)
{
	job->next = NULL;
	job->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = job;
	else
		l->head = job;
	l->tail = job;
}

static void
wk_list_unlink(struct wk_list *l, struct nrm_work_job *job)
{
	if (job->prev != NULL)
		job->prev->next = job->next;
	else
		l->head = job->next;
	if (job->next != NULL)
		job->next->prev = job->prev;
	else
		l->tail = job->prev;
	job->prev = job->next = NULL;
}

/* Wake the loop: one counter increment on the eventfd.  It cannot block
 * (EFD_NONBLOCK) and cannot fill up (one write per batch). */
static void
wk_signal(struct nrm_workers *w)
{
	uint64_t one = 1;
	ssize_t n;

	do
		n = write(w->efd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
}

/* Under w->mu: put a job on the done list and wake the loop if the list
 * was not already announced. */
static void
wk_finish(struct nrm_workers *w, struct nrm_work_job *job)
{
	job->state = WK_DONE;
	wk_list_push(&w->done, job);
	if (!w->signalled) {
		w->signalled = true;
		wk_signal(w);
	}
}

static void *
wk_main(void *p)
{
	struct nrm_workers *w = p;
	struct nrm_work_job *job;
	int rc;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stopping && w->queue.head == NULL)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stopping)
			break;
		job = w->queue.head;
		wk_list_unlink(&w->queue, job);
		job->state = WK_RUNNING;
		w->nqueued--;
		w->nrunning++;
		pthread_mutex_unlock(&w->mu);

		rc = job->work(job->arg);

		pthread_mutex_lock(&w->mu);
		job->rc = rc;
		job->ran = true;
		w->nrunning--;
		w->completed++;
		wk_finish(w, job);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Call the done callbacks of a list taken off the pool, and free the
 * jobs.  `gone_all` at shutdown. */
static void
wk_deliver(struct nrm_workers *w, struct nrm_work_job *job, bool gone_all)
{
	while (job != NULL) {
		struct nrm_work_job *next = job->next;
		bool gone = gone_all || job->cancelled || !job->ran;

		w->pending--;
		job->delivering = true;
		job->done(job->arg, job->ran ? job->rc : NRM_ERR, gone);
		free(job);
		job = next;
	}
}

/* The loop side of the eventfd: take the whole done list at once. */
static void
wk_on_done(evutil_socket_t fd, short what, void *p)
{
	struct nrm_workers *w = p;
	struct nrm_work_job *batch;
	uint64_t count;

	NRM_UNUSED(what);
	if (read(fd, &count, sizeof(count)) < 0) {
		/* EAGAIN: a write we already answered; nothing else can
		 * fail on an eventfd read of 8 bytes */
	}
	pthread_mutex_lock(&w->mu);
	batch = w->done.head;
	w->done.head = w->done.tail = NULL;
	w->signalled = false;
	pthread_mutex_unlock(&w->mu);
	wk_deliver(w, batch, false);
}

/* Stop and join the started threads, deliver what is left as gone, and
 * free the pool. */
static void
wk_destroy(struct nrm_workers *w)
{
	struct nrm_work_job *job;

	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	while (w->queue.head != NULL) {
		job = w->queue.head;
		wk_list_unlink(&w->queue, job);
		w->nqueued--;
		wk_finish(w, job);
	}
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	/* no thread left: the lists are the loop's alone */
	job = w->done.head;
	w->done.head = w->done.tail = NULL;
	wk_deliver(w, job, true);
	if (w->ev_added)
		event_del(&w->ev);
	if (w->efd >= 0)
		close(w->efd);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int
nrm_workers_default_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus <= 1)
		return 1;
	return cpus - 1 < NRM_WORKERS_THREADS_AUTO_MAX
	    ? (int)cpus - 1
	    : NRM_WORKERS_THREADS_AUTO_MAX;
}

int
nrm_workers_new(struct nrm_workers **out, struct event_base *base, int threads,
    int queue_max, struct nrm_error *err)
{
	struct nrm_workers *w = NULL;
	sigset_t all, old;
	int rc = NRM_ERR, e = 0;

	*out = NULL;
	if (threads == 0)
		threads = nrm_workers_default_threads();
	if (queue_max == 0)
		queue_max = NRM_WORKERS_QUEUE_DEFAULT;
	if (threads < 1 || threads > NRM_WORKERS_THREADS_MAX || queue_max < 1 ||
	    queue_max > NRM_WORKERS_QUEUE_MAX)
		return nrm_error_set(err, NRM_E_INTERNAL, "workers",
		    "worker threads must be 1 to %d, the queue 1 to %d",
		    NRM_WORKERS_THREADS_MAX, NRM_WORKERS_QUEUE_MAX);
	w = calloc(1, sizeof(*w) + (size_t)threads * sizeof(pthread_t));
	if (w == NULL)
		return nrm_error_set(
		    err, NRM_E_INTERNAL, "workers", "out of memory");
	w->queue_max = queue_max;
	w->accepting = true;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		nrm_error_set(err, NRM_E_INTERNAL, "workers",
		    "could not make an eventfd: %s", strerror(errno));
		goto out;
	}
	event_assign(&w->ev, base, w->efd, EV_READ | EV_PERSIST, wk_on_done, w);
	if (event_add(&w->ev, NULL) != 0) {
		nrm_error_set(err, NRM_E_INTERNAL, "workers",
		    "could not watch the eventfd");
		goto out;
	}
	w->ev_added = true;
	/* the threads inherit a full signal mask: signals go to the loop */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; w->nthreads < threads; w->nthreads++) {
		e = pthread_create(&w->threads[w->nthreads], NULL, wk_main, w);
		if (e != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w->nthreads < threads) {
		nrm_error_set(err, NRM_E_INTERNAL, "workers",
		    "could not start a worker thread: %s", strerror(e));
		goto out;
	}
	*out = w;
	w = NULL;
	rc = NRM_OK;
out:
	if (w != NULL)
		wk_destroy(w);
	return rc;
}

int
nrm_workers_submit(struct nrm_workers *w, nrm_work_cb work,
    nrm_work_done_cb done, void *arg, struct nrm_work_job **job)
{
	struct nrm_work_job *j;
	bool full;

	if (job != NULL)
		*job = NULL;
	pthread_mutex_lock(&w->mu);
	full = w->nqueued >= w->queue_max;
	pthread_mutex_unlock(&w->mu);
	if (!w->accepting || full) {
		w->rejected++;
		return NRM_ERR;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		w->rejected++;
		return NRM_ERR;
	}
	j->work = work;
	j->done = done;
	j->arg = arg;
	j->state = WK_QUEUED;
	w->pending++;
	/* only the loop adds to the queue: it cannot have filled meanwhile */
	pthread_mutex_lock(&w->mu);
	wk_list_push(&w->queue, j);
	w->nqueued++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (job != NULL)
		*job = j;
	return NRM_OK;
}

void
nrm_workers_cancel(struct nrm_workers *w, struct nrm_work_job *job)
{
	if (job == NULL || job->cancelled || job->delivering)
		return;
	job->cancelled = true;
	w->cancelled++;
	pthread_mutex_lock(&w->mu);
	if (job->state == WK_QUEUED) {
		/* never started: deliver from the event, not from here */
		wk_list_unlink(&w->queue, job);
		w->nqueued--;
		wk_finish(w, job);
	}
	/* running: it finishes and is delivered gone; done: the same */
	pthread_mutex_unlock(&w->mu);
}

void
nrm_workers_stop(struct nrm_workers *w)
{
	w->accepting = false;
}

bool
nrm_workers_quiet(struct nrm_workers *w)
{
	return w->pending == 0;
}

void
nrm_workers_stats(struct nrm_workers *w, struct nrm_workers_stats *out)
{
	pthread_mutex_lock(&w->mu);
	out->queued = w->nqueued;
	out->running = w->nrunning;
	out->completed = w->completed;
	pthread_mutex_unlock(&w->mu);
	out->rejected = w->rejected;
	out->cancelled = w->cancelled;
}

void
nrm_workers_free(struct nrm_workers *w)
{
	if (w == NULL)
		return;
	w->accepting = false;
	wk_destroy(w);
}

void
nrm_workers_cracklib_lock(void)
{
	pthread_mutex_lock(&wk_cracklib_mu);
}

void
nrm_workers_cracklib_unlock(void)
{
	pthread_mutex_unlock(&wk_cracklib_mu);
}
