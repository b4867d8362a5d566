/*
 * db.c - the asynchronous libpq connection pool's connections (see db.h;
 * the statement table is db_stmt.c, the queries and their queues
 * db_queue.c, the shared internals db_int.h).
 *
 * Each connection is a small state machine driven by one socket event
 * and one timer embedded in it:
 *
 *   DOWN --backoff timer--> CONNECTING --PQconnectPoll ok--> PREPARING
 *   PREPARING --all statements sent and answered--> IDLE <--> BUSY
 *   any state --socket error / bad connection--> DOWN
 *
 * Besides the pool_size request connections there is one reserved
 * connection (index pool_size) that runs only the jobs' queries (and any
 * query while it is the only connection up), and, once nrm_db_listen()
 * has been called, the LISTEN connection outside the pool.
 */
#include "db_int.h"
#include "log.h"
#include "pgnotice.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

static void db_conn_start(struct db_conn *c);
static void db_conn_io(evutil_socket_t fd, short what, void *arg);
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
		nrm_db_conn_down(c, "connect timed out");
}

/*
 * Tear the connection down, fail its query, and schedule a reconnect
 * after the backoff.  When the last connection goes, queued queries
 * fail too: nothing waits for a database that is not there.
 */
void
nrm_db_conn_down(struct db_conn *c, const char *why)
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
	memset(c->prepared, 0, sizeof(c->prepared));
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
	nrm_db_conn_fail_query(c, NRM_DB_UNAVAILABLE);
	if (db->n_up == 0 && !c->is_listener)
		nrm_db_fail_queued(db);
	/* Capped again here: reconnect_max may have been lowered since. */
	if (c->backoff_ms > db->reconnect_max_ms)
		c->backoff_ms = db->reconnect_max_ms;
	db_timer_restart(c, c->backoff_ms, db_backoff_fire);
	c->backoff_ms *= 2;
	if (c->backoff_ms > db->reconnect_max_ms)
		c->backoff_ms = db->reconnect_max_ms;
}

/*
 * A notice of connection arg: logged without its text (pgnotice.h).
 * The WARNING a commit gives when it stops waiting for the synchronous
 * standby ("canceling wait for synchronous replication": a cancel or
 * the statement_timeout) is recognised by the server function that
 * raises it, which no translation changes: that commit is on this
 * server only, and a failover now would lose it.
 */
static void
db_notice(void *arg, const PGresult *res)
{
	struct db_conn *c = arg;
	const char *fn = PQresultErrorField(res, PG_DIAG_SOURCE_FUNCTION);

	nrm_pg_notice_log(res, c->is_listener ? "nrmd-listen" : "nrmd",
	    c->index, c->sqlstate, sizeof(c->sqlstate));
	if (fn != NULL && strcmp(fn, "SyncRepWaitForLSN") == 0)
		c->unreplicated = true;
}

/*
 * The server a connection reached (host or socket directory, and
 * port): with a multi-host conninfo and target_session_attrs=read-write
 * it is the primary; another one than last time is a switch (a
 * failover, or a switchover).  The first connection to reach the new
 * primary counts it; the others then agree.
 */
static void
db_note_server(struct db_conn *c)
{
	struct nrm_db *db = c->db;
	const char *host = PQhost(c->pg);
	const char *port = PQport(c->pg);
	char id[sizeof(db->primary)];

	snprintf(id, sizeof(id), "%s:%s", host != NULL ? host : "",
	    port != NULL ? port : "");
	if (strcmp(id, db->primary) == 0)
		return;
	if (db->primary[0] != '\0') {
		db->stats.primary_switches++;
		nrm_warn(
		    "database server changed from=%s to=%s", db->primary, id);
	}
	snprintf(db->primary, sizeof(db->primary), "%s", id);
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
		nrm_db_conn_down(c, "could not start connection");
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
			nrm_db_conn_down(c, "could not set non-blocking");
			return;
		}
		c->state = DB_PREPARING;
		c->prep_next = 0;
		db_prepare_next(c);
		return;
	case PGRES_POLLING_FAILED:
	default:
		nrm_db_conn_down(c, "could not connect");
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
	db_note_server(c);
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
	    db_prep_count(c), NRM_STMT__COUNT);
	db_conn_wait(c, EV_READ); /* notice a server-side close while idle */
	nrm_db_dispatch(db);
}

static void
db_prepare_next(struct db_conn *c)
{
	if (c->is_listener && c->prep_next == 0) {
		/* The listener prepares nothing: it only LISTENs. */
		c->prep_next = NRM_STMT__COUNT;
		if (!PQsendQuery(c->pg, c->db->listen_sql)) {
			nrm_db_conn_down(c, "could not send LISTEN");
			return;
		}
		if (db_conn_flush(c) != NRM_OK)
			nrm_db_conn_down(c, "could not flush LISTEN");
		return;
	}
	if (c->prep_next >= NRM_STMT__COUNT) {
		db_conn_ready(c);
		return;
	}
	if (!PQsendPrepare(c->pg, nrm_db_stmts[c->prep_next].name,
		nrm_db_stmts[c->prep_next].sql, 0, NULL)) {
		nrm_db_conn_down(c, "could not send prepare");
		return;
	}
	if (db_conn_flush(c) != NRM_OK)
		nrm_db_conn_down(c, "could not flush prepare");
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
		nrm_db_conn_down(c, "could not flush");
		return false;
	}
	if (!(what & EV_READ))
		return false;
	if (db_conn_drain(c, first, failed))
		return true;
	if (PQstatus(c->pg) == CONNECTION_BAD)
		nrm_db_conn_down(c, "connection broke");
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
			nrm_db_conn_down(c, "LISTEN failed");
			return;
		}
		if (!failed && c->prep_next < NRM_STMT__COUNT)
			db_prep_set(c, c->prep_next);
		else if (failed)
			nrm_debug("statement not prepared stmt=%s "
				  "reason=\"schema not migrated?\"",
			    nrm_db_stmts[c->prep_next].name);
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
			nrm_db_conn_down(c, "server closed the connection");
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
			nrm_db_conn_down(c, "error on an idle connection");
		}
		return;
	}
	case DB_BUSY: {
		struct nrm_dbq *q = c->q;

		if (!db_conn_step(c, what, &q->result, &q->failed))
			return;
		c->q = NULL;
		c->state = DB_IDLE;
		if (c->unreplicated && !q->failed) {
			/*
			 * Committed here but not confirmed by the standby:
			 * not acknowledged (503); a retry with the same
			 * Idempotency-Key finds it, or re-creates it on the
			 * new primary when a failover lost it.
			 */
			c->db->stats.unreplicated++;
			nrm_warn("commit not confirmed by the synchronous "
				 "standby conn=%d stmt=%s; answered as "
				 "unavailable",
			    c->index, nrm_db_stmts[q->stmt].name);
			nrm_db_query_finish(q, NRM_DB_UNAVAILABLE);
		} else {
			nrm_db_query_finish(
			    q, q->failed ? NRM_DB_ERROR : NRM_DB_OK);
		}
		if (c->state == DB_IDLE)
			nrm_db_dispatch(c->db);
		return;
	}
	case DB_DOWN:
		return;
	}
}

/* Send `q` on idle connection `c`. */
void
nrm_db_send(struct db_conn *c, struct nrm_dbq *q)
{
	int ok;

	q->state = DBQ_SENT;
	q->conn = c;
	c->q = q;
	c->state = DB_BUSY;
	c->unreplicated = false;
	c->db->stats.queries++;
	nrm_hist_observe(&c->db->queue_wait, &nrm_buckets_queue,
	    (double)(nrm_mono_us() - q->queued_us) / 1e6);
	if (db_prep_has(c, (int)q->stmt))
		ok = PQsendQueryPrepared(c->pg, nrm_db_stmts[q->stmt].name,
		    q->nparams, (const char *const *)q->values, q->lengths,
		    q->formats, 0);
	else
		ok = PQsendQueryParams(c->pg, nrm_db_stmts[q->stmt].sql,
		    q->nparams, NULL, (const char *const *)q->values,
		    q->lengths, q->formats, 0);
	if (!ok || db_conn_flush(c) != NRM_OK)
		nrm_db_conn_down(c, "could not send query");
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
	db->sync_mode = opts->sync_mode;
	db->sync_seen = -1;
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
	nrm_db_fail_queued(db);
	for (int i = 0; i < db->n_conns; i++) {
		struct db_conn *c = &db->conns[i];

		nrm_db_conn_fail_query(c, NRM_DB_UNAVAILABLE);
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
	return db->n_up > 0 && db->schema_seen >= db->schema_needed &&
	    !nrm_db_sync_refused(db);
}

bool
nrm_db_sync_settings_ok(const char *commit, const char *standby_names)
{
	return (strcmp(commit, "on") == 0 ||
		   strcmp(commit, "remote_apply") == 0) &&
	    standby_names[strspn(standby_names, " \t")] != '\0';
}

void
nrm_db_set_sync_mode(struct nrm_db *db, enum nrm_db_sync mode)
{
	db->sync_mode = mode;
}

void
nrm_db_sync_seen(struct nrm_db *db, bool synchronous)
{
	int now = synchronous ? 1 : 0;

	if (now != db->sync_seen && db->sync_mode != NRM_DB_SYNC_OFF) {
		if (synchronous)
			nrm_info("database commits are replicated "
				 "synchronously");
		else
			nrm_warn("database commits are not replicated "
				 "synchronously (synchronous_standby_names is "
				 "empty or synchronous_commit is off)%s",
			    db->sync_mode == NRM_DB_SYNC_REQUIRE
				? "; not ready (db_synchronous = require)"
				: "");
	}
	db->sync_seen = now;
}

bool
nrm_db_sync_refused(const struct nrm_db *db)
{
	return db->sync_mode == NRM_DB_SYNC_REQUIRE && db->sync_seen != 1;
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
