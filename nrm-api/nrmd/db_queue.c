/*
 * db_queue.c - the pool's queries (see db.h): their copied parameters
 * and timers, the waiting queues by class, and which idle connection
 * runs which query.
 *
 * Queries wait when every connection is busy, in one FIFO per class
 * (db_class): the periodic jobs first, then intake, then everything
 * else, so that an intake is never queued behind reads, and a flood of
 * reads cannot delay the audit sealer, the checkpoint signer or the
 * escalation sweeper.  The reserved connection (index pool_size) runs
 * only the jobs' queries, unless it is the only connection up.  A query
 * owns its copied parameters and a timer; it is freed after its
 * callback (or when it completes after being detached).
 */
#include "db_int.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

static void
db_query_free(struct nrm_dbq *q)
{
	if (event_initialized(&q->timer))
		event_del(&q->timer);
	for (int i = 0; i < q->nparams; i++)
		free(q->values[i]);
	free(q->values);
	free(q->lengths);
	free(q->formats);
	PQclear(q->result);
	free(q);
}

/* Deliver the outcome (unless detached) and free the query. */
void
nrm_db_query_finish(struct nrm_dbq *q, enum nrm_db_outcome outcome)
{
	switch (outcome) {
	case NRM_DB_OK:
		break;
	case NRM_DB_ERROR:
		q->db->stats.errors++;
		break;
	case NRM_DB_UNAVAILABLE:
		q->db->stats.unavailable++;
		break;
	case NRM_DB_TIMEOUT:
		q->db->stats.timeouts++;
		break;
	}
	if (q->cb != NULL)
		q->cb(q->arg, outcome,
		    outcome == NRM_DB_OK || outcome == NRM_DB_ERROR ? q->result
								    : NULL);
	db_query_free(q);
}

/* Finish the connection's query in flight (if any) with `outcome`. */
void
nrm_db_conn_fail_query(struct db_conn *c, enum nrm_db_outcome outcome)
{
	struct nrm_dbq *q = c->q;

	if (q != NULL) {
		c->q = NULL;
		nrm_db_query_finish(q, outcome);
	}
}

/* Take a waiting query off the queue. */
static void
db_unqueue(struct nrm_dbq *q)
{
	enum db_class k = (enum db_class)q->cls;

	TAILQ_REMOVE(&q->db->queue[k], q, link);
	q->db->queued_class[k]--;
	q->db->queued--;
}

/* Fail every waiting query: there is no database to wait for. */
void
nrm_db_fail_queued(struct nrm_db *db)
{
	struct nrm_dbq *q;

	for (int k = 0; k < DB_CLASS__COUNT; k++) {
		while ((q = TAILQ_FIRST(&db->queue[k])) != NULL) {
			db_unqueue(q);
			nrm_db_query_finish(q, NRM_DB_UNAVAILABLE);
		}
	}
}

static void
db_query_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct nrm_dbq *q = arg;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	if (q->state == DBQ_QUEUED) {
		db_unqueue(q);
		nrm_db_query_finish(q, NRM_DB_TIMEOUT);
		return;
	}
	/*
	 * In flight: PQcancel would block, so give up on the connection.
	 * The server's statement_timeout normally fires first; this is the
	 * backstop.
	 */
	{
		struct db_conn *c = q->conn;

		nrm_db_conn_fail_query(c, NRM_DB_TIMEOUT);
		nrm_db_conn_down(c, "query timed out");
	}
}

/*
 * The next query connection c may run: the first of the highest class
 * waiting; the reserved connection runs the jobs' only, unless it is
 * the only connection up.
 */
static struct nrm_dbq *
db_next_for(const struct db_conn *c)
{
	const struct nrm_db *db = c->db;
	int last = c->index == db->pool_size && db->n_up > 1 ? DB_CLASS_JOB
							     : DB_CLASS_OTHER;

	for (int k = 0; k <= last; k++)
		if (!TAILQ_EMPTY(&db->queue[k]))
			return TAILQ_FIRST(&db->queue[k]);
	return NULL;
}

void
nrm_db_dispatch(struct nrm_db *db)
{
	/* the reserved connection first: the jobs' queries take it */
	for (int n = 0; n < db->n_conns && db->queued > 0; n++) {
		struct db_conn *c =
		    &db->conns[(db->pool_size + n) % db->n_conns];
		struct nrm_dbq *q;

		if (c->state != DB_IDLE)
			continue;
		q = db_next_for(c);
		if (q == NULL)
			continue;
		db_unqueue(q);
		nrm_db_send(c, q);
	}
}

static struct nrm_dbq *
db_exec(struct nrm_db *db, enum db_class k, enum nrm_stmt stmt, int nparams,
    const char *const *values, const int *lengths, const int *formats,
    nrm_db_cb cb, void *arg)
{
	struct nrm_dbq *q;
	struct timeval tv;

	if (db->n_up == 0 || db->queued_class[k] >= db->queue_max) {
		db->stats.unavailable++;
		return NULL;
	}
	q = nrm_xcalloc(1, sizeof(*q));
	q->db = db;
	q->cls = (int)k;
	q->stmt = stmt;
	q->nparams = nparams;
	q->values = nrm_xcalloc((size_t)nparams, sizeof(char *));
	q->lengths = nrm_xcalloc((size_t)nparams, sizeof(int));
	q->formats = nrm_xcalloc((size_t)nparams, sizeof(int));
	for (int i = 0; i < nparams; i++) {
		int bin = formats != NULL && formats[i] == 1;
		size_t n;

		q->formats[i] = bin;
		if (values[i] == NULL)
			continue;
		n = bin ? (size_t)lengths[i] : strlen(values[i]);
		q->values[i] = nrm_xmalloc(n + 1);
		memcpy(q->values[i], values[i], n);
		q->values[i][n] = '\0';
		q->lengths[i] = (int)n;
	}
	q->cb = cb;
	q->arg = arg;
	event_assign(&q->timer, db->base, -1, 0, db_query_timeout, q);
	/* Client-side backstop: a little after the server's timeout. */
	tv.tv_sec = (db->query_timeout_ms + 1000) / 1000;
	tv.tv_usec = ((db->query_timeout_ms + 1000) % 1000) * 1000;
	event_add(&q->timer, &tv);
	q->state = DBQ_QUEUED;
	q->queued_us = nrm_mono_us();
	TAILQ_INSERT_TAIL(&db->queue[k], q, link);
	db->queued_class[k]++;
	db->queued++;
	nrm_db_dispatch(db);
	return q;
}

struct nrm_dbq *
nrm_db_exec(struct nrm_db *db, enum nrm_stmt stmt, int nparams,
    const char *const *values, const int *lengths, const int *formats,
    nrm_db_cb cb, void *arg)
{
	return db_exec(db,
	    stmt == NRM_STMT_INTAKE ? DB_CLASS_INTAKE : DB_CLASS_OTHER, stmt,
	    nparams, values, lengths, formats, cb, arg);
}

struct nrm_dbq *
nrm_db_exec_job(struct nrm_db *db, enum nrm_stmt stmt, int nparams,
    const char *const *values, nrm_db_cb cb, void *arg)
{
	return db_exec(
	    db, DB_CLASS_JOB, stmt, nparams, values, NULL, NULL, cb, arg);
}

void
nrm_db_detach(struct nrm_dbq *q)
{
	if (q == NULL)
		return;
	q->cb = NULL;
	if (q->state == DBQ_QUEUED) {
		db_unqueue(q);
		db_query_free(q);
	}
}
