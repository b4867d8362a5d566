/*
 * ctl_db.h - nrmctl's one database helper: connect, run a statement
 * (with or without parameters, or a whole script), transactions, and the
 * error of a failed result in a struct nrm_error.
 *
 * Synchronous libpq: nrmctl is a command-line tool, not the daemon.
 * Every error is "could not <what>: <reason>" in err->detail (no prefix,
 * no newline; <what> is the caller's printf format, <reason> the
 * server's primary message, one line), at most 255 bytes as struct
 * nrm_error holds it (a longer one is cut at a character boundary).
 * No function logs or prints; server notices go to the debug log.
 */
#ifndef NRM_CTL_DB_H
#define NRM_CTL_DB_H

#include <stdio.h>

#include <libpq-fe.h>

#include "nrm/nrm.h"

/*
 * Connect to `url` (NULL: $NRM_DATABASE_URL) as application "nrmctl",
 * client encoding UTF8.  On NRM_ERR *out is NULL and err says "could not
 * connect to the database: ...".  The caller PQfinish()es *out.
 */
int nrm_ctl_connect(
    const char *url, PGconn **out, struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Run `sql` with n text parameters (n 0: no parameters, and `sql` may
 * hold several statements), accepting a command or rows; with rows >= 0
 * exactly that many rows (else the error, reason the server's message
 * or empty).  On NRM_OK the result goes to *res when res is not NULL
 * (the caller PQclear()s it), else it is cleared; on NRM_ERR *res is
 * NULL and err is set from `what`.
 */
int nrm_ctl_query(PGconn *conn, const char *sql, int n,
    const char *const *params, int rows, PGresult **res, struct nrm_error *err,
    const char *what, ...) NRM_PRINTF(8, 9) NRM_MUSTCHECK;

/* nrm_ctl_query() without parameters and without a result. */
#define nrm_ctl_exec(conn, sql, err, ...) \
	nrm_ctl_query((conn), (sql), 0, NULL, -1, NULL, (err), __VA_ARGS__)

/*
 * Run a script of statements (a migration file): as nrm_ctl_exec(), but
 * the reason ends with the script's line the error points at, " (line
 * N)", or else the first line of the error's context.
 */
int nrm_ctl_exec_script(PGconn *conn, const char *sql, struct nrm_error *err,
    const char *what, ...) NRM_PRINTF(4, 5) NRM_MUSTCHECK;

/*
 * Set err from a result the caller found wrong (NULL: the connection's
 * error): "could not <what>: <primary message>".  Returns NRM_ERR.
 */
int nrm_ctl_db_error(const PGresult *res, PGconn *conn, struct nrm_error *err,
    const char *what, ...) NRM_PRINTF(4, 5);

/* BEGIN and COMMIT, as nrm_ctl_exec(): "could not <what>: reason". */
#define nrm_ctl_begin(conn, err, ...) \
	nrm_ctl_exec((conn), "BEGIN", (err), __VA_ARGS__)
#define nrm_ctl_commit(conn, err, ...) \
	nrm_ctl_exec((conn), "COMMIT", (err), __VA_ARGS__)

/*
 * Leave `conn` idle: drain pending results, roll back an open or failed
 * transaction.  Safe to call in any state.
 */
void nrm_ctl_rollback(PGconn *conn);

/*
 * The end of a change: PQclear(res) (NULL is fine), leave `conn` idle
 * (nrm_ctl_rollback), return rc.  With `secret`: wipe hash_text[hlen]
 * (the bytea text of its hash) and, when rc is not NRM_OK, the secret
 * itself (a key's token, an enrolment code: secret[slen], left "").
 */
int nrm_ctl_done(PGconn *conn, PGresult *res, int rc);
int nrm_ctl_secret_done(PGconn *conn, PGresult *res, char *hash_text,
    size_t hlen, char *secret, size_t slen, int rc);

/* The bytea input text "\x<hex>" of hash[n] into out[2 + 2n + 1]. */
void nrm_ctl_bytea(const unsigned char *hash, size_t n, char *out);

/*
 * Audit one change nrmctl made as the operator (action key.create,
 * person.reset, ...: api_key_id and person_id NULL, purpose nrmctl,
 * outcome allowed) on object_type/object_id, in the caller's
 * transaction, and commit it; `change` names it in errors ("key
 * creation").
 */
int nrm_ctl_audit_commit(PGconn *conn, const char *action,
    const char *object_type, const char *object_id, const char *change,
    struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Run the listing query `sql` (no parameters, ncol text columns) and
 * print every row as an aligned table to `out`, under the column names
 * head[0..ncol).  `what` names the listing in errors ("list keys").
 */
int nrm_ctl_list(PGconn *conn, FILE *out, const char *sql,
    const char *const *head, int ncol, struct nrm_error *err,
    const char *what) NRM_MUSTCHECK;

#endif /* NRM_CTL_DB_H */
