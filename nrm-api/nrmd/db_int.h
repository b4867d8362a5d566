/*
 * db_int.h - the internals the pool's files share (db.c, the
 * connections; db_queue.c, the queries; db_stmt.c, the statement
 * table).  Not for use outside the pool: everyone else includes db.h.
 *
 * Contract: a connection and its query in flight point at each other
 * (db_conn.q, nrm_dbq.conn) only while the connection is BUSY; a query
 * is on exactly one of db->queue[] while QUEUED.
 */
#ifndef NRM_DB_INT_H
#define NRM_DB_INT_H

#include "db.h"
#include "hist.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event_struct.h>

#define DB_BACKOFF_MIN_MS 100

/* One prepared statement: its name on the server and its SQL. */
struct nrm_db_stmt {
	const char *name;
	const char *sql;
};

/* The statement table (db_stmt.c). */
extern const struct nrm_db_stmt nrm_db_stmts[NRM_STMT__COUNT];

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

/* The words of a connection's prepared-statement bitset. */
#define DB_PREP_WORDS ((NRM_STMT__COUNT + 63) / 64)

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
	/* a bit per statement (db_prep_*): more than 64 since issue 18 */
	uint64_t prepared[DB_PREP_WORDS];
	bool want_write; /* PQflush said 1 */
	bool is_listener; /* the LISTEN connection, not in the pool */
	struct nrm_dbq *q; /* in flight */
	char sqlstate[6]; /* of the last notice (the FATAL before a loss) */
	/*
	 * The query in flight's commit stopped waiting for the synchronous
	 * standby (a cancel or statement_timeout in SyncRepWaitForLSN): it
	 * committed on this server only and is not acknowledged.
	 */
	bool unreplicated;
};

/* Whether statement `stmt` is prepared on connection c. */
static inline bool
db_prep_has(const struct db_conn *c, int stmt)
{
	return (c->prepared[stmt / 64] >> (stmt % 64)) & 1u;
}

static inline void
db_prep_set(struct db_conn *c, int stmt)
{
	c->prepared[stmt / 64] |= UINT64_C(1) << (stmt % 64);
}

/* How many statements are prepared on c. */
static inline int
db_prep_count(const struct db_conn *c)
{
	int n = 0;

	for (int i = 0; i < DB_PREP_WORDS; i++)
		n += __builtin_popcountll(c->prepared[i]);
	return n;
}

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
	enum nrm_db_sync sync_mode;
	int sync_seen; /* 1 synchronous, 0 not, -1 unknown */
	char primary[128]; /* host:port of the last server connected to */
};

/* Connections (db.c). */

/*
 * Tear the connection down, fail its query, and schedule a reconnect
 * after the backoff.
 */
void nrm_db_conn_down(struct db_conn *c, const char *why);

/* Send `q` on idle connection `c`. */
void nrm_db_send(struct db_conn *c, struct nrm_dbq *q);

/* Queries (db_queue.c). */

/* Deliver the outcome (unless detached) and free the query. */
void nrm_db_query_finish(struct nrm_dbq *q, enum nrm_db_outcome outcome);

/* Finish the connection's query in flight (if any) with `outcome`. */
void nrm_db_conn_fail_query(struct db_conn *c, enum nrm_db_outcome outcome);

/* Fail every waiting query: there is no database to wait for. */
void nrm_db_fail_queued(struct nrm_db *db);

/* Hand waiting queries to idle connections, the reserved one first. */
void nrm_db_dispatch(struct nrm_db *db);

#endif /* NRM_DB_INT_H */
