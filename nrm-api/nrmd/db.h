/*
 * db.h - a pool of asynchronous libpq connections on the daemon's event
 * loop.
 *
 * Nothing here blocks: connections are made with PQconnectStartParams /
 * PQconnectPoll, run non-blocking (PQsetnonblocking), prepare every
 * statement of the statement table when they connect, and are
 * re-established with exponential backoff (100 ms doubling up to
 * reconnect_max) when they break.
 *
 * Capacity is reserved for what must not starve (issue 14): besides
 * the pool_size request connections one more connection is opened that
 * runs only the periodic jobs' queries (nrm_db_exec_job: schema check,
 * audit seal and head, escalation sweep, rejected-token summary), and
 * waiting queries are served by class: the jobs' first, then
 * NRM_STMT_INTAKE, then every other query, each class in arrival order
 * and each with its own queue_max.  So a flood of reads delays neither the jobs nor an
 * intake (which waits only for a request connection to come free).
 * When the reserved connection is the only one up it runs anything.
 *
 * Every query carries a timer; the
 * server also enforces statement_timeout.  A query is one statement in
 * its own implicit transaction, and its callback runs only after
 * PQgetResult has been drained to NULL, so NRM_DB_OK means the server
 * has committed (a failure at commit arrives as an error result).
 *
 * Callback contract: the callback runs exactly once per query from the
 * event loop (never from inside nrm_db_exec()), unless the query was
 * detached first.  `res` is valid only during the callback (the pool
 * clears it afterwards); it is non-NULL for NRM_DB_OK and for
 * NRM_DB_ERROR (SQLSTATE via PQresultErrorField), NULL otherwise.
 */
#ifndef NRM_DB_H
#define NRM_DB_H

#include "nrm/nrm.h"

#include <libpq-fe.h>

struct event_base;
struct nrm_db;
struct nrm_dbq;
struct nrm_hist;

/* The statements nrmd prepares on every connection. */
enum nrm_stmt {
	NRM_STMT_SCHEMA_VERSION = 0,
	NRM_STMT_INTAKE,
	NRM_STMT_SIGNAL_RECEIPT,
	NRM_STMT_AUTHORIZE,
	NRM_STMT_RECORD,
	NRM_STMT_INBOX,
	NRM_STMT_CASE_GET,
	NRM_STMT_CASE_TAKE,
	NRM_STMT_CASE_DECLINE,
	NRM_STMT_CASE_TRANSFER,
	NRM_STMT_CASE_CLOSE,
	NRM_STMT_CASE_REOPEN,
	NRM_STMT_IDENT_RECORD,
	NRM_STMT_IDENT_LIST,
	NRM_STMT_CASE_SHARE,
	NRM_STMT_INVEST_CREATE,
	NRM_STMT_INVEST_GET,
	NRM_STMT_INVEST_PATCH,
	NRM_STMT_ESCALATE,
	NRM_STMT_AUDIT_SEAL,
	NRM_STMT_AUDIT_HEAD,
	NRM_STMT_AUDIT_SEARCH,
	NRM_STMT_AUDIT_VERIFY,
	NRM_STMT_AUDIT_REVIEWS,
	NRM_STMT_AUDIT_REVIEW,
	NRM_STMT_PERSON_CREATE,
	NRM_STMT_PERSON_LIST,
	NRM_STMT_PERSON_GET,
	NRM_STMT_PERSON_DISABLE,
	NRM_STMT_PERSON_ENABLE,
	NRM_STMT_PERSON_RESET,
	NRM_STMT_KEY_CREATE,
	NRM_STMT_KEY_LIST,
	NRM_STMT_KEY_REVOKE,
	NRM_STMT_ENROL_LOOKUP,
	NRM_STMT_ENROL,
	NRM_STMT_LOGIN_BEGIN,
	NRM_STMT_LOGIN_FINISH,
	NRM_STMT_SESSION_GET,
	NRM_STMT_SESSION_END,
	NRM_STMT_CASE_HANDOVER,
	NRM_STMT_IDENT_QUEUE,
	NRM_STMT_SIGNAL_LIST,
	NRM_STMT_CASE_COLLEAGUES,
	NRM_STMT_CASE_SHARE_TARGETS,
	NRM_STMT_STATISTICS,
	NRM_STMT_OVERVIEW,
	NRM_STMT_COVERAGE,
	NRM_STMT_PUB_PREPARE,
	NRM_STMT_PUB_CREATE,
	NRM_STMT_PUB_LIST,
	NRM_STMT_PUB_GET,
	NRM_STMT_AUTH_REJECTIONS,
	NRM_STMT_DATA_UNREADABLE,
	NRM_STMT_PLAINTEXT_LEFT,
	NRM_STMT_RETENTION,
	NRM_STMT_PRIVACY_EXPORT,
	NRM_STMT_PRIVACY_RECTIFY_PREPARE,
	NRM_STMT_PRIVACY_RECTIFY,
	NRM_STMT_PRIVACY_ERASE,
	NRM_STMT_PANEL_ASSIGN,
	NRM_STMT_PANEL_GET,
	NRM_STMT_PANEL_RECUSE,
	NRM_STMT_PANEL_VOTE,
	NRM_STMT_PANEL_PENDING,
	NRM_STMT_CASE_CONTACT,
	NRM_STMT_CASE_TRANSFER_ACCEPT,
	NRM_STMT_CASE_TRANSFER_REFUSE,
	NRM_STMT_CASE_FIND,
	NRM_STMT_NOTE_ADD,
	NRM_STMT_NOTE_LIST,
	NRM_STMT_SUPPORT_POST,
	NRM_STMT_SUPPORT_LIST,
	NRM_STMT_REFERRAL_LIST,
	NRM_STMT_REFERRAL_ANSWER,
	NRM_STMT_CASE_RELATED,
	NRM_STMT_INBOX_MANY,
	NRM_STMT_INVEST_SEAL_KEY,
	NRM_STMT_CASE_MERGE,
	NRM_STMT_SIGNAL_FOLLOWUP,
	NRM_STMT_FOLLOWUP_LIST,
	NRM_STMT__COUNT /* a bit each per connection (db_int.h) */
};

enum nrm_db_outcome {
	NRM_DB_OK = 0,
	NRM_DB_ERROR, /* the server answered with an error */
	NRM_DB_UNAVAILABLE, /* no connection, or it broke mid-query */
	NRM_DB_TIMEOUT, /* the query outlived query_timeout */
};

typedef void (*nrm_db_cb)(
    void *arg, enum nrm_db_outcome outcome, const PGresult *res);

/*
 * What nrmd demands of the database's replication (db_synchronous):
 * nothing; a warning while commits are not synchronously replicated;
 * or not ready (/readyz 503, the jobs paused) until they are.
 */
enum nrm_db_sync {
	NRM_DB_SYNC_OFF = 0,
	NRM_DB_SYNC_WARN,
	NRM_DB_SYNC_REQUIRE,
};

struct nrm_db_opts {
	const char *conninfo;
	int pool_size;
	int connect_timeout_ms;
	int query_timeout_ms;
	int reconnect_max_ms;
	int queue_max; /* queries of one class waiting for a connection */
	int schema_needed; /* the schema version this build needs */
	enum nrm_db_sync sync_mode;
};

int nrm_db_new(struct nrm_db **out, struct event_base *base,
    const struct nrm_db_opts *opts) NRM_MUSTCHECK;

/* Close every connection; queued queries get NRM_DB_UNAVAILABLE. */
void nrm_db_free(struct nrm_db *db);

/* Apply reloadable options (timeouts, backoff). */
void nrm_db_set_timeouts(struct nrm_db *db, int connect_timeout_ms,
    int query_timeout_ms, int reconnect_max_ms);

/*
 * Run a prepared statement.  `values`/`lengths`/`formats` are copied
 * (formats: 0 text, 1 binary; NULL = all text).  Returns the query
 * handle; NULL when no connection is up or the queue is full (the
 * callback is then not called: answer 503).
 */
struct nrm_dbq *nrm_db_exec(struct nrm_db *db, enum nrm_stmt stmt, int nparams,
    const char *const *values, const int *lengths, const int *formats,
    nrm_db_cb cb, void *arg);

/*
 * The same for a periodic job (jobs.h), all parameters text: its query
 * waits in the jobs' class and may run on the reserved connection.
 */
struct nrm_dbq *nrm_db_exec_job(struct nrm_db *db, enum nrm_stmt stmt,
    int nparams, const char *const *values, nrm_db_cb cb, void *arg);

/*
 * The caller is no longer interested (its client went away): the
 * callback will not run.  A query already sent still completes on the
 * server; its result is discarded.
 */
void nrm_db_detach(struct nrm_dbq *q);

/*
 * A notification arrived on the LISTEN connection (payload), or, with
 * payload NULL, the connection was (re)established: notifications sent
 * while it was down are lost, so listeners must re-check what they wait
 * for.
 */
typedef void (*nrm_db_notify_cb)(void *arg, const char *payload);

/*
 * Open one more connection, outside the pool, that LISTENs on `channel`
 * (lower-case letters and '_') and hands every notification to fn.  It
 * reconnects with the same backoff as the pool.  Once per pool.
 */
int nrm_db_listen(struct nrm_db *db, const char *channel, nrm_db_notify_cb fn,
    void *arg) NRM_MUSTCHECK;

/* True while the LISTEN connection is up. */
bool nrm_db_listening(const struct nrm_db *db);

/* Connections currently usable (idle or busy), the reserved one too. */
int nrm_db_n_up(const struct nrm_db *db);

/*
 * Ready for application queries: a connection is up and the schema last
 * seen is at least opts.schema_needed.  Whoever reads the schema version
 * (NRM_STMT_SCHEMA_VERSION) reports it with nrm_db_schema_seen();
 * a negative version means "could not tell" and changes nothing.
 */
bool nrm_db_ready(const struct nrm_db *db);
void nrm_db_schema_seen(struct nrm_db *db, int version);

/*
 * The server's replication settings, as read with the schema version
 * (its 3rd and 4th columns): synchronous when synchronous_commit is on
 * or remote_apply and synchronous_standby_names names a standby.  Logs
 * a change of state per the sync mode; with NRM_DB_SYNC_REQUIRE an
 * unsynchronous server makes nrm_db_ready() false.
 */
bool nrm_db_sync_settings_ok(const char *commit, const char *standby_names);
void nrm_db_sync_seen(struct nrm_db *db, bool synchronous);
void nrm_db_set_sync_mode(struct nrm_db *db, enum nrm_db_sync mode);

/*
 * True when the server last read does not meet the sync mode's demand
 * (NRM_DB_SYNC_REQUIRE and not synchronous).
 */
bool nrm_db_sync_refused(const struct nrm_db *db);

/* The schema version last seen, -1 when unknown. */
int nrm_db_schema(const struct nrm_db *db);

/* Counters for metrics. */
struct nrm_db_stats {
	uint64_t queries, errors, timeouts, unavailable, reconnects;
	uint64_t listen_connects; /* times the LISTEN connection came up */
	/* a connection came up on another server than the last one did */
	uint64_t primary_switches;
	/* commits the server did not confirm as replicated: answered 503 */
	uint64_t unreplicated;
	int pool_size; /* connections configured */
	int busy; /* connections with a query out */
	int queued; /* queries waiting for a connection */
	/* seconds each sent query waited in the queue (the pool's memory) */
	const struct nrm_hist *queue_wait;
};
void nrm_db_stats(const struct nrm_db *db, struct nrm_db_stats *out);

#endif /* NRM_DB_H */
