/*
 * db.c - the asynchronous libpq connection pool (see db.h).
 *
 * Each connection is a small state machine driven by one socket event
 * and one timer embedded in it:
 *
 *   DOWN --backoff timer--> CONNECTING --PQconnectPoll ok--> PREPARING
 *   PREPARING --all statements sent and answered--> IDLE <--> BUSY
 *   any state --socket error / bad connection--> DOWN
 *
 * Queries wait when every connection is busy, in one FIFO per class
 * (db_class): the periodic jobs first, then intake, then everything
 * else, so that an intake is never queued behind reads, and a flood of
 * reads cannot delay the audit sealer, the checkpoint signer or the
 * escalation sweeper.  Besides the pool_size request connections there
 * is one reserved connection (index pool_size) that runs only the jobs'
 * queries (and any query while it is the only connection up).  A query
 * owns its copied parameters and a timer; it is freed after its
 * callback (or when it completes after being detached).
 */
#include "db.h"
#include "hist.h"
#include "log.h"
#include "pgnotice.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#define DB_BACKOFF_MIN_MS 100

/*
 * The prepared statements, each named after the api.* function it
 * calls.  A request's call (DB_REQ) passes token_hash, request_id and
 * client as $1..$3 (see dbapi.h), then its own parameters.
 */
/* clang-format off */
#define DB_API(fn, args) {#fn, "SELECT api." #fn "(" args ")"}
/* clang-format on */
#define DB_REQ(fn, args) DB_API(fn, "$1, $2, $3, " args)

static const struct {
	const char *name;
	const char *sql;
} db_stmts[NRM_STMT__COUNT] = {
    [NRM_STMT_SCHEMA_VERSION] = {"schema_version",
	"SELECT api.schema_version(), api.schema_checksum()"},
    [NRM_STMT_INTAKE] = DB_REQ(intake, "$4, $5, $6, $7, $8, $9"),
    [NRM_STMT_SIGNAL_RECEIPT] = DB_REQ(signal_receipt, "$4"),
    [NRM_STMT_AUTHORIZE] = DB_REQ(authorize, "$4, $5, $6, $7"),
    [NRM_STMT_RECORD] = DB_REQ(record, "$4, $5, $6, $7"),
    [NRM_STMT_INBOX] = DB_REQ(
	inbox, "$4, $5, $6::jsonb, $7::bigint, $8::integer, $9::boolean"),
    [NRM_STMT_CASE_GET] = DB_REQ(case_get, "$4::uuid, $5, $6"),
    [NRM_STMT_CASE_TAKE] = DB_REQ(case_take, "$4::uuid, $5::integer"),
    [NRM_STMT_CASE_DECLINE] =
	DB_REQ(case_decline, "$4::uuid, $5::integer, $6, $7::integer"),
    [NRM_STMT_CASE_TRANSFER] = DB_REQ(case_transfer,
	"$4::uuid, $5::integer, $6, $7, $8::integer, $9::integer"),
    [NRM_STMT_CASE_CLOSE] = DB_REQ(case_close, "$4::uuid, $5::integer, $6"),
    [NRM_STMT_CASE_REOPEN] = DB_REQ(
	case_reopen, "$4::uuid, $5::integer, $6, $7::integer, $8::integer"),
    [NRM_STMT_IDENT_RECORD] = DB_REQ(ident_record, "$4::uuid, $5::jsonb, $6"),
    [NRM_STMT_IDENT_LIST] = DB_REQ(ident_list, "$4::uuid, $5, $6, $7"),
    [NRM_STMT_CASE_SHARE] =
	DB_REQ(case_share, "$4::uuid, $5::uuid, $6::boolean"),
    [NRM_STMT_INVEST_CREATE] = DB_REQ(invest_create, "$4::jsonb"),
    [NRM_STMT_INVEST_GET] = DB_REQ(invest_get, "$4::uuid"),
    [NRM_STMT_INVEST_PATCH] =
	DB_REQ(invest_patch, "$4::uuid, $5::integer, $6::jsonb"),
    [NRM_STMT_ESCALATE] = DB_API(escalate_overdue, "$1::integer"),
    [NRM_STMT_AUDIT_SEAL] = DB_API(audit_seal, "$1::integer"),
    [NRM_STMT_AUDIT_HEAD] = DB_API(audit_head, ""),
    [NRM_STMT_AUDIT_SEARCH] =
	DB_REQ(audit_search, "$4::jsonb, $5::bigint, $6::integer"),
    [NRM_STMT_AUDIT_VERIFY] = DB_REQ(audit_verify, "$4::jsonb"),
    [NRM_STMT_AUDIT_REVIEWS] =
	DB_REQ(audit_reviews, "$4, $5::bigint, $6::integer"),
    [NRM_STMT_AUDIT_REVIEW] = DB_REQ(audit_review, "$4::bigint, $5"),
    /* People (issue 11): enrolment and login carry no token (dbapi.h). */
    [NRM_STMT_PERSON_CREATE] = DB_REQ(
	person_create, "$4, $5, $6::uuid, $7, $8::text[], $9, $10::integer"),
    [NRM_STMT_PERSON_LIST] = DB_REQ(person_list, "$4, $5::integer"),
    [NRM_STMT_PERSON_GET] = DB_REQ(person_get, "$4::uuid"),
    [NRM_STMT_PERSON_DISABLE] = DB_REQ(person_disable, "$4::uuid"),
    [NRM_STMT_PERSON_ENABLE] = DB_REQ(person_enable, "$4::uuid"),
    [NRM_STMT_PERSON_RESET] = DB_REQ(person_reset, "$4::uuid, $5, $6::integer"),
    [NRM_STMT_KEY_CREATE] =
	DB_REQ(key_create, "$4, $5::uuid, $6, $7::text[], $8"),
    [NRM_STMT_KEY_LIST] = DB_REQ(key_list, "$4::uuid, $5::integer"),
    [NRM_STMT_KEY_REVOKE] = DB_REQ(key_revoke, "$4::uuid"),
    [NRM_STMT_ENROL_LOOKUP] = DB_API(enrol_lookup, "$1, $2, $3"),
    [NRM_STMT_ENROL] = DB_API(enrol, "$1, $2, $3, $4, $5, $6::bytea[]"),
    [NRM_STMT_LOGIN_LOOKUP] = DB_API(login_lookup, "$1, $2, $3"),
    [NRM_STMT_LOGIN_FINISH] = DB_API(login_finish,
	"$1, $2, $3, $4::uuid, $5::boolean, $6::bigint, $7, $8, "
	"$9::integer, $10::integer, $11::integer, $12::integer, "
	"$13::integer, $14"),
    [NRM_STMT_SESSION_GET] = DB_API(session_get, "$1, $2, $3"),
    [NRM_STMT_SESSION_END] = DB_API(session_end, "$1, $2, $3"),
    [NRM_STMT_CASE_HANDOVER] = DB_REQ(case_handover, "$4::uuid, $5, $6::uuid"),
    [NRM_STMT_IDENT_QUEUE] =
	DB_REQ(ident_queue, "$4, $5::uuid, $6::integer, $7"),
    [NRM_STMT_SIGNAL_LIST] = DB_REQ(signal_list, "$4::uuid, $5::integer"),
    [NRM_STMT_CASE_COLLEAGUES] = DB_REQ(case_colleagues, "$4::uuid"),
    [NRM_STMT_CASE_SHARE_TARGETS] = DB_REQ(case_share_targets, "$4::uuid"),
    [NRM_STMT_STATISTICS] = DB_REQ(statistics, "$4, $5, $6"),
    [NRM_STMT_OVERVIEW] = DB_REQ(overview, "$4::integer"),
    [NRM_STMT_COVERAGE] = DB_API(coverage_uncovered, "$1::integer"),
    [NRM_STMT_PUB_PREPARE] = DB_REQ(publication_prepare, "$4, $5::jsonb"),
    [NRM_STMT_PUB_CREATE] =
	DB_REQ(publication_create, "$4, $5::jsonb, $6::jsonb, $7, $8"),
    [NRM_STMT_PUB_LIST] = DB_API(publication_list, "$1, $2, $3"),
    [NRM_STMT_PUB_GET] = DB_REQ(publication_get, "$4, $5::boolean"),
    [NRM_STMT_AUTH_REJECTIONS] =
	DB_API(auth_rejections, "$1::integer, $2::integer"),
    [NRM_STMT_DATA_UNREADABLE] = DB_REQ(data_unreadable, "$4, $5, $6"),
};

enum db_conn_state {
	DB_DOWN = 0,
	DB_CONNECTING,
	DB_PREPARING,
	DB_IDLE,
	DB_BUSY,
};

struct db_conn;

enum db_query_state {
	DBQ_QUEUED = 0,
	DBQ_SENT,
};

struct nrm_dbq {
	TAILQ_ENTRY(nrm_dbq) link;
	struct nrm_db *db;
	struct db_conn *conn; /* while SENT */
	enum db_query_state state;
	enum nrm_stmt stmt;
	int nparams;
	char **values;
	int *lengths;
	int *formats;
	nrm_db_cb cb; /* NULL once detached */
	void *arg;
	struct event timer;
	PGresult *result; /* first result */
	bool failed; /* an error result arrived */
	int64_t queued_us; /* when it was queued (the wait histogram) */
	int cls; /* enum db_class: its queue */
};

TAILQ_HEAD(db_queue, nrm_dbq);

/* Who waits first for a connection (the order of the queues). */
enum db_class {
	DB_CLASS_JOB = 0, /* the periodic jobs: seal, checkpoint, sweep */
	DB_CLASS_INTAKE, /* POST /v1/signals */
	DB_CLASS_OTHER, /* every other request */
	DB_CLASS__COUNT
};

struct db_conn {
	struct nrm_db *db;
	int index;
	enum db_conn_state state;
	PGconn *pg;
	int fd; /* socket the event is registered on */
	short ev_what; /* and for what */
	struct event io;
	struct event timer; /* backoff or connect timeout */
	int backoff_ms;
	int prep_next; /* next statement to prepare */
	uint64_t prepared; /* bit per statement */
	bool want_write; /* PQflush said 1 */
	bool is_listener; /* the LISTEN connection, not in the pool */
	struct nrm_dbq *q; /* in flight */
	char sqlstate[6]; /* of the last notice (the FATAL before a loss) */
};

struct nrm_db {
	struct event_base *base;
	char *conninfo;
	int pool_size;
	int connect_timeout_ms;
	int query_timeout_ms;
	int reconnect_max_ms;
	int queue_max; /* per class */
	int n_conns; /* pool_size + the reserved one */
	struct db_conn *conns;
	struct db_queue queue[DB_CLASS__COUNT];
	int queued_class[DB_CLASS__COUNT];
	int queued;
	int n_up;
	struct nrm_db_stats stats;
	struct nrm_hist queue_wait;
	struct db_conn *listener; /* NULL until nrm_db_listen() */
	char listen_sql[96];
	nrm_db_notify_cb notify;
	void *notify_arg;
	bool listening;
	int schema_needed;
	int schema_seen; /* -1 unknown */
};

static void db_conn_start(struct db_conn *c);
static void db_conn_down(struct db_conn *c, const char *why);
static void db_conn_io(evutil_socket_t fd, short what, void *arg);
static void db_dispatch(struct nrm_db *db);
static void db_prepare_next(struct db_conn *c);

/*
 * Wait on the socket for `what` (EV_READ and/or EV_WRITE).  The event is
 * persistent; it is re-registered only when the socket or the flags
 * change (libpq may replace the socket while connecting).
 */
static void
db_conn_wait(struct db_conn *c, short what)
{
	int fd = PQsocket(c->pg);

	if (fd == c->fd && what == c->ev_what && event_initialized(&c->io) &&
	    event_pending(&c->io, EV_READ | EV_WRITE, NULL))
		return;
	if (event_initialized(&c->io))
		event_del(&c->io);
	c->fd = fd;
	c->ev_what = what;
	if (fd < 0)
		return;
	event_assign(&c->io, c->db->base, fd, what | EV_PERSIST, db_conn_io, c);
	event_add(&c->io, NULL);
}

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
static void
db_query_finish(struct nrm_dbq *q, enum nrm_db_outcome outcome)
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
static void
db_conn_fail_query(struct db_conn *c, enum nrm_db_outcome outcome)
{
	struct nrm_dbq *q = c->q;

	if (q != NULL) {
		c->q = NULL;
		db_query_finish(q, outcome);
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
static void
db_fail_queued(struct nrm_db *db)
{
	struct nrm_dbq *q;

	for (int k = 0; k < DB_CLASS__COUNT; k++) {
		while ((q = TAILQ_FIRST(&db->queue[k])) != NULL) {
			db_unqueue(q);
			db_query_finish(q, NRM_DB_UNAVAILABLE);
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
		db_query_finish(q, NRM_DB_TIMEOUT);
		return;
	}
	/*
	 * In flight: PQcancel would block, so give up on the connection.
	 * The server's statement_timeout normally fires first; this is the
	 * backstop.
	 */
	{
		struct db_conn *c = q->conn;

		db_conn_fail_query(c, NRM_DB_TIMEOUT);
		db_conn_down(c, "query timed out");
	}
}

static void
db_timer_restart(struct db_conn *c, int ms, event_callback_fn fn)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (event_initialized(&c->timer))
		event_del(&c->timer);
	event_assign(&c->timer, c->db->base, -1, 0, fn, c);
	event_add(&c->timer, &tv);
}

static void
db_backoff_fire(evutil_socket_t fd, short what, void *arg)
{
	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	db_conn_start(arg);
}

static void
db_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	if (c->state == DB_CONNECTING || c->state == DB_PREPARING)
		db_conn_down(c, "connect timed out");
}

/*
 * Tear the connection down, fail its query, and schedule a reconnect
 * after the backoff.  When the last connection goes, queued queries
 * fail too: nothing waits for a database that is not there.
 */
static void
db_conn_down(struct db_conn *c, const char *why)
{
	struct nrm_db *db = c->db;
	bool was_up = c->state == DB_IDLE || c->state == DB_BUSY;
	char msg[160] = "";

	if (c->pg != NULL && !was_up) {
		const char *e = PQerrorMessage(c->pg);

		/*
		 * A connect that failed: libpq's first line names the host
		 * and what went wrong ("Connection refused"), which the
		 * operator needs.  A lost connection is logged with the
		 * SQLSTATE of the server's last notice instead of its text.
		 */
		snprintf(msg, sizeof(msg), "%s", e != NULL ? e : "");
		msg[strcspn(msg, "\n")] = '\0';
	}
	if (event_initialized(&c->io))
		event_del(&c->io);
	if (event_initialized(&c->timer))
		event_del(&c->timer);
	if (c->pg != NULL) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->fd = -1;
	c->ev_what = 0;
	c->state = DB_DOWN;
	c->prepared = 0;
	c->want_write = false;
	if (c->is_listener) {
		if (db->listening)
			nrm_warn("listen connection lost reason=\"%s\" "
				 "sqlstate=%s",
			    why, c->sqlstate[0] != '\0' ? c->sqlstate : "-");
		db->listening = false;
	} else if (was_up) {
		db->n_up--;
		nrm_warn("database connection lost conn=%d reason=\"%s\" "
			 "sqlstate=%s",
		    c->index, why, c->sqlstate[0] != '\0' ? c->sqlstate : "-");
	} else {
		nrm_debug("database connect failed conn=%d reason=\"%s\" "
			  "detail=\"%s\"",
		    c->index, why, msg);
	}
	db_conn_fail_query(c, NRM_DB_UNAVAILABLE);
	if (db->n_up == 0 && !c->is_listener)
		db_fail_queued(db);
	/* Capped again here: reconnect_max may have been lowered since. */
	if (c->backoff_ms > db->reconnect_max_ms)
		c->backoff_ms = db->reconnect_max_ms;
	db_timer_restart(c, c->backoff_ms, db_backoff_fire);
	c->backoff_ms *= 2;
	if (c->backoff_ms > db->reconnect_max_ms)
		c->backoff_ms = db->reconnect_max_ms;
}

/* A notice of connection arg: logged without its text (pgnotice.h). */
static void
db_notice(void *arg, const PGresult *res)
{
	struct db_conn *c = arg;

	nrm_pg_notice_log(res, c->is_listener ? "nrmd-listen" : "nrmd",
	    c->index, c->sqlstate, sizeof(c->sqlstate));
}

/* Begin a non-blocking connect. */
static void
db_conn_start(struct db_conn *c)
{
	struct nrm_db *db = c->db;
	char opts[96];
	const char *keys[] = {"dbname", "options", "application_name", NULL};
	const char *vals[] = {db->conninfo, opts, "nrmd", NULL};

	snprintf(opts, sizeof(opts), "-c statement_timeout=%d",
	    db->query_timeout_ms);
	c->state = DB_CONNECTING;
	c->sqlstate[0] = '\0';
	c->pg = PQconnectStartParams(keys, vals, 1);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
		db_conn_down(c, "could not start connection");
		return;
	}
	PQsetNoticeReceiver(c->pg, db_notice, c);
	db->stats.reconnects++;
	db_timer_restart(c, db->connect_timeout_ms, db_connect_timeout);
	/* A fresh connection first waits until its socket is writable. */
	db_conn_wait(c, EV_WRITE);
}

/* PQconnectPoll step. */
static void
db_conn_poll(struct db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		db_conn_wait(c, EV_READ);
		return;
	case PGRES_POLLING_WRITING:
		db_conn_wait(c, EV_WRITE);
		return;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(c->pg, 1) != 0) {
			db_conn_down(c, "could not set non-blocking");
			return;
		}
		c->state = DB_PREPARING;
		c->prep_next = 0;
		db_prepare_next(c);
		return;
	case PGRES_POLLING_FAILED:
	default:
		db_conn_down(c, "could not connect");
		return;
	}
}

/* Send everything libpq buffered; wait for write when it could not. */
static int
db_conn_flush(struct db_conn *c)
{
	int rc = PQflush(c->pg);

	if (rc < 0)
		return NRM_ERR;
	c->want_write = rc == 1;
	db_conn_wait(c, c->want_write ? EV_READ | EV_WRITE : EV_READ);
	return NRM_OK;
}

static void
db_conn_ready(struct db_conn *c)
{
	struct nrm_db *db = c->db;

	if (event_initialized(&c->timer))
		event_del(&c->timer);
	c->state = DB_IDLE;
	c->backoff_ms = DB_BACKOFF_MIN_MS;
	if (c->is_listener) {
		db->listening = true;
		db->stats.listen_connects++;
		nrm_info("listen connection up");
		db_conn_wait(c, EV_READ);
		/* Anything sent while we were not listening is lost: say so. */
		if (db->notify != NULL)
			db->notify(db->notify_arg, NULL);
		return;
	}
	db->n_up++;
	nrm_info("database connection up conn=%d prepared=%d/%d", c->index,
	    __builtin_popcountll(c->prepared), NRM_STMT__COUNT);
	db_conn_wait(c, EV_READ); /* notice a server-side close while idle */
	db_dispatch(db);
}

static void
db_prepare_next(struct db_conn *c)
{
	if (c->is_listener && c->prep_next == 0) {
		/* The listener prepares nothing: it only LISTENs. */
		c->prep_next = NRM_STMT__COUNT;
		if (!PQsendQuery(c->pg, c->db->listen_sql)) {
			db_conn_down(c, "could not send LISTEN");
			return;
		}
		if (db_conn_flush(c) != NRM_OK)
			db_conn_down(c, "could not flush LISTEN");
		return;
	}
	if (c->prep_next >= NRM_STMT__COUNT) {
		db_conn_ready(c);
		return;
	}
	if (!PQsendPrepare(c->pg, db_stmts[c->prep_next].name,
		db_stmts[c->prep_next].sql, 0, NULL)) {
		db_conn_down(c, "could not send prepare");
		return;
	}
	if (db_conn_flush(c) != NRM_OK)
		db_conn_down(c, "could not flush prepare");
}

/*
 * Read what arrived.  Returns true when the current command has been
 * drained to its final NULL result.
 */
static bool
db_conn_drain(struct db_conn *c, PGresult **first, bool *failed)
{
	if (!PQconsumeInput(c->pg))
		return false;
	while (!PQisBusy(c->pg)) {
		PGresult *res = PQgetResult(c->pg);
		ExecStatusType st;

		if (res == NULL)
			return true;
		st = PQresultStatus(res);
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			if (!*failed) {
				/* An error supersedes an earlier success. */
				PQclear(*first);
				*first = res;
				*failed = true;
				continue;
			}
		} else if (*first == NULL) {
			*first = res;
			continue;
		}
		PQclear(res);
	}
	return false;
}

/*
 * One socket event on a connection with a command out (preparing, or a
 * query): flush what libpq still holds when the socket is writable, then
 * read.  True when the command has been drained to its end; false when
 * it has not yet, or when the link failed (then it is taken down).
 */
static bool
db_conn_step(struct db_conn *c, short what, PGresult **first, bool *failed)
{
	if ((what & EV_WRITE) && c->want_write && db_conn_flush(c) != NRM_OK) {
		db_conn_down(c, "could not flush");
		return false;
	}
	if (!(what & EV_READ))
		return false;
	if (db_conn_drain(c, first, failed))
		return true;
	if (PQstatus(c->pg) == CONNECTION_BAD)
		db_conn_down(c, "connection broke");
	return false;
}

static void
db_conn_io(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	NRM_UNUSED(fd);
	switch (c->state) {
	case DB_CONNECTING:
		db_conn_poll(c);
		return;
	case DB_PREPARING: {
		PGresult *res = NULL;
		bool failed = false;

		if (!db_conn_step(c, what, &res, &failed)) {
			PQclear(res);
			return;
		}
		if (c->is_listener && failed) {
			PQclear(res);
			db_conn_down(c, "LISTEN failed");
			return;
		}
		if (!failed && c->prep_next < NRM_STMT__COUNT)
			c->prepared |= UINT64_C(1) << c->prep_next;
		else if (failed)
			nrm_debug("statement not prepared stmt=%s "
				  "reason=\"schema not migrated?\"",
			    db_stmts[c->prep_next].name);
		PQclear(res);
		c->prep_next++;
		db_prepare_next(c);
		return;
	}
	case DB_IDLE: {
		PGnotify *n;
		PGresult *res;

		/*
		 * Only a close or a FATAL (the server shutting down, the
		 * backend terminated) arrives on an idle link: either way the
		 * connection is done, before a query is sent on it.
		 */
		if (!PQconsumeInput(c->pg) ||
		    PQstatus(c->pg) == CONNECTION_BAD) {
			db_conn_down(c, "server closed the connection");
			return;
		}
		while ((n = PQnotifies(c->pg)) != NULL) {
			if (c->is_listener && c->db->notify != NULL)
				c->db->notify(c->db->notify_arg, n->extra);
			PQfreemem(n);
		}
		if (PQisBusy(c->pg))
			return;
		res = PQgetResult(c->pg);
		if (res != NULL) {
			PQclear(res);
			db_conn_down(c, "error on an idle connection");
		}
		return;
	}
	case DB_BUSY: {
		struct nrm_dbq *q = c->q;

		if (!db_conn_step(c, what, &q->result, &q->failed))
			return;
		c->q = NULL;
		c->state = DB_IDLE;
		db_query_finish(q, q->failed ? NRM_DB_ERROR : NRM_DB_OK);
		if (c->state == DB_IDLE)
			db_dispatch(c->db);
		return;
	}
	case DB_DOWN:
		return;
	}
}

/* Send `q` on idle connection `c`. */
static void
db_send(struct db_conn *c, struct nrm_dbq *q)
{
	int ok;

	q->state = DBQ_SENT;
	q->conn = c;
	c->q = q;
	c->state = DB_BUSY;
	c->db->stats.queries++;
	nrm_hist_observe(&c->db->queue_wait, &nrm_buckets_queue,
	    (double)(nrm_mono_us() - q->queued_us) / 1e6);
	if (c->prepared & (UINT64_C(1) << q->stmt))
		ok = PQsendQueryPrepared(c->pg, db_stmts[q->stmt].name,
		    q->nparams, (const char *const *)q->values, q->lengths,
		    q->formats, 0);
	else
		ok = PQsendQueryParams(c->pg, db_stmts[q->stmt].sql, q->nparams,
		    NULL, (const char *const *)q->values, q->lengths,
		    q->formats, 0);
	if (!ok || db_conn_flush(c) != NRM_OK)
		db_conn_down(c, "could not send query");
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

static void
db_dispatch(struct nrm_db *db)
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
		db_send(c, q);
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
	db_dispatch(db);
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

int
nrm_db_new(struct nrm_db **out, struct event_base *base,
    const struct nrm_db_opts *opts)
{
	struct nrm_db *db;

	db = nrm_xcalloc(1, sizeof(*db));
	db->base = base;
	db->conninfo = nrm_xstrdup(opts->conninfo);
	db->pool_size = opts->pool_size;
	db->queue_max = opts->queue_max > 0 ? opts->queue_max : 1024;
	db->schema_needed = opts->schema_needed;
	db->schema_seen = -1;
	for (int k = 0; k < DB_CLASS__COUNT; k++)
		TAILQ_INIT(&db->queue[k]);
	nrm_db_set_timeouts(db, opts->connect_timeout_ms,
	    opts->query_timeout_ms, opts->reconnect_max_ms);
	db->n_conns = db->pool_size + 1; /* the reserved one */
	db->conns = nrm_xcalloc((size_t)db->n_conns, sizeof(*db->conns));
	for (int i = 0; i < db->n_conns; i++) {
		struct db_conn *c = &db->conns[i];

		c->db = db;
		c->index = i;
		c->fd = -1;
		c->backoff_ms = DB_BACKOFF_MIN_MS;
		db_conn_start(c);
	}
	*out = db;
	return NRM_OK;
}

void
nrm_db_set_timeouts(struct nrm_db *db, int connect_timeout_ms,
    int query_timeout_ms, int reconnect_max_ms)
{
	db->connect_timeout_ms = connect_timeout_ms;
	db->query_timeout_ms = query_timeout_ms;
	db->reconnect_max_ms = reconnect_max_ms < DB_BACKOFF_MIN_MS
	    ? DB_BACKOFF_MIN_MS
	    : reconnect_max_ms;
}

/* Stop the connection's events and close it (at the end only). */
static void
db_conn_close(struct db_conn *c)
{
	if (event_initialized(&c->io))
		event_del(&c->io);
	if (event_initialized(&c->timer))
		event_del(&c->timer);
	if (c->pg != NULL)
		PQfinish(c->pg);
}

void
nrm_db_free(struct nrm_db *db)
{
	if (db == NULL)
		return;
	db_fail_queued(db);
	for (int i = 0; i < db->n_conns; i++) {
		struct db_conn *c = &db->conns[i];

		db_conn_fail_query(c, NRM_DB_UNAVAILABLE);
		db_conn_close(c);
	}
	if (db->listener != NULL) {
		db_conn_close(db->listener);
		free(db->listener);
	}
	free(db->conns);
	free(db->conninfo);
	free(db);
}

int
nrm_db_listen(
    struct nrm_db *db, const char *channel, nrm_db_notify_cb fn, void *arg)
{
	struct db_conn *c;

	if (db->listener != NULL || channel[0] == '\0' ||
	    strspn(channel, "abcdefghijklmnopqrstuvwxyz_") != strlen(channel) ||
	    strlen(channel) > 63)
		return NRM_ERR;
	snprintf(db->listen_sql, sizeof(db->listen_sql), "LISTEN %s", channel);
	db->notify = fn;
	db->notify_arg = arg;
	c = nrm_xcalloc(1, sizeof(*c));
	c->db = db;
	c->index = -1;
	c->fd = -1;
	c->is_listener = true;
	c->backoff_ms = DB_BACKOFF_MIN_MS;
	db->listener = c;
	db_conn_start(c);
	return NRM_OK;
}

bool
nrm_db_listening(const struct nrm_db *db)
{
	return db->listening;
}

int
nrm_db_n_up(const struct nrm_db *db)
{
	return db->n_up;
}

bool
nrm_db_ready(const struct nrm_db *db)
{
	return db->n_up > 0 && db->schema_seen >= db->schema_needed;
}

void
nrm_db_schema_seen(struct nrm_db *db, int version)
{
	if (version < 0)
		return; /* unknown: keep the last answer */
	if (version != db->schema_seen) {
		if (version < db->schema_needed)
			nrm_warn("database schema is behind version=%d "
				 "needed=%d",
			    version, db->schema_needed);
		else
			nrm_info("database schema version=%d", version);
	}
	db->schema_seen = version;
}

int
nrm_db_schema(const struct nrm_db *db)
{
	return db->schema_seen;
}

void
nrm_db_stats(const struct nrm_db *db, struct nrm_db_stats *out)
{
	*out = db->stats;
	out->pool_size = db->pool_size;
	out->busy = 0;
	for (int i = 0; i < db->pool_size; i++)
		if (db->conns[i].state == DB_BUSY)
			out->busy++;
	out->queued = db->queued;
	out->queue_wait = &db->queue_wait;
}
