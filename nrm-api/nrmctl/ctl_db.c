/*
 * ctl_db.c - nrmctl's database helper (see ctl_db.h).
 */
#include "ctl_db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"
#include "pgnotice.h"

#include <openssl/crypto.h>

#define DB_WHY_MAX 512

/* libpq's notices as log lines without their text (pgnotice.h). */
static void
db_notice(void *arg, const PGresult *res)
{
	NRM_UNUSED(arg);
	nrm_pg_notice_log(res, "nrmctl", -1, NULL, 0);
}

int
nrm_ctl_connect(const char *url, PGconn **out, struct nrm_error *err)
{
	static const char *const keys[] = {
	    "dbname",
	    "fallback_application_name",
	    "client_encoding",
	    NULL,
	};
	const char *vals[4];
	PGconn *conn;
	char msg[DB_WHY_MAX];
	size_t n;

	*out = NULL;
	if (url == NULL)
		url = getenv("NRM_DATABASE_URL");
	if (url == NULL || url[0] == '\0')
		return nrm_error_set(err, NRM_E_UNAVAILABLE, NULL,
		    "could not connect to the database: NRM_DATABASE_URL "
		    "is not set (or pass --database-url)");
	vals[0] = url;
	vals[1] = "nrmctl";
	vals[2] = "UTF8";
	vals[3] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL)
		return nrm_error_set(err, NRM_E_UNAVAILABLE, NULL,
		    "could not connect to the database: out of memory");
	if (PQstatus(conn) != CONNECTION_OK) {
		/* libpq's message may span lines: join them. */
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		for (char *p = msg; *p != '\0'; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		PQfinish(conn);
		return nrm_error_set(err, NRM_E_UNAVAILABLE, NULL,
		    "could not connect to the database: %s", msg);
	}
	PQsetNoticeReceiver(conn, db_notice, NULL);
	nrm_debug("connected user=%s db=%s server_version=%d", PQuser(conn),
	    PQdb(conn), PQserverVersion(conn));
	*out = conn;
	return NRM_OK;
}

/*
 * The primary message of a failed result (or the connection's), one
 * line; with `script`, the script's line the statement position points
 * at, or else the first line of the context.
 */
static void
db_reason(const PGresult *res, PGconn *conn, const char *script, char *out,
    size_t outlen)
{
	const char *msg = NULL;
	const char *pos;
	const char *ctx;
	long line = 0;
	size_t n;

	if (res != NULL)
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (msg == NULL)
		msg = PQerrorMessage(conn);
	snprintf(out, outlen, "%s", msg);
	out[strcspn(out, "\n")] = '\0';
	if (res == NULL || script == NULL)
		return;
	pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	if (pos != NULL) {
		/* The position counts characters (UTF-8) from 1. */
		long want = strtol(pos, NULL, 10);
		long chars = 0;

		line = 1;
		for (const char *p = script; *p != '\0'; p++) {
			if (((unsigned char)*p & 0xc0) == 0x80)
				continue;
			if (++chars >= want)
				break;
			if (*p == '\n')
				line++;
		}
	}
	ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
	n = strlen(out);
	if (line > 0 && n < outlen)
		snprintf(out + n, outlen - n, " (line %ld)", line);
	else if (ctx != NULL && n < outlen)
		snprintf(out + n, outlen - n, " (%.*s)",
		    (int)strcspn(ctx, "\n"), ctx);
}

static int
db_verror(const PGresult *res, PGconn *conn, const char *script,
    struct nrm_error *err, const char *what, va_list ap)
{
	char w[DB_WHY_MAX];
	char why[DB_WHY_MAX];

	vsnprintf(w, sizeof(w), what, ap);
	db_reason(res, conn, script, why, sizeof(why));
	return nrm_error_set(
	    err, NRM_E_INTERNAL, NULL, "could not %s: %s", w, why);
}

int
nrm_ctl_db_error(const PGresult *res, PGconn *conn, struct nrm_error *err,
    const char *what, ...)
{
	va_list ap;

	va_start(ap, what);
	db_verror(res, conn, NULL, err, what, ap);
	va_end(ap);
	return NRM_ERR;
}

/* Run and check; on failure set err from `what` (with the script). */
static int
db_run(PGconn *conn, const char *sql, int n, const char *const *params,
    int rows, bool script, PGresult **out, struct nrm_error *err,
    const char *what, va_list ap)
{
	PGresult *res;
	ExecStatusType st;

	if (out != NULL)
		*out = NULL;
	if (n > 0)
		res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	else
		res = PQexec(conn, sql);
	st = PQresultStatus(res);
	if ((st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) ||
	    (rows >= 0 && PQntuples(res) != rows)) {
		db_verror(res, conn, script ? sql : NULL, err, what, ap);
		PQclear(res);
		return NRM_ERR;
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return NRM_OK;
}

int
nrm_ctl_query(PGconn *conn, const char *sql, int n, const char *const *params,
    int rows, PGresult **res, struct nrm_error *err, const char *what, ...)
{
	va_list ap;
	int rc;

	va_start(ap, what);
	rc = db_run(conn, sql, n, params, rows, false, res, err, what, ap);
	va_end(ap);
	return rc;
}

int
nrm_ctl_exec_script(
    PGconn *conn, const char *sql, struct nrm_error *err, const char *what, ...)
{
	va_list ap;
	int rc;

	va_start(ap, what);
	rc = db_run(conn, sql, 0, NULL, -1, true, NULL, err, what, ap);
	va_end(ap);
	return rc;
}

void
nrm_ctl_rollback(PGconn *conn)
{
	PGresult *res;

	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	if (PQstatus(conn) == CONNECTION_OK &&
	    PQtransactionStatus(conn) != PQTRANS_IDLE) {
		res = PQexec(conn, "ROLLBACK");
		PQclear(res);
	}
}

int
nrm_ctl_done(PGconn *conn, PGresult *res, int rc)
{
	PQclear(res);
	nrm_ctl_rollback(conn);
	return rc;
}

int
nrm_ctl_secret_done(PGconn *conn, PGresult *res, char *hash_text, size_t hlen,
    char *secret, size_t slen, int rc)
{
	OPENSSL_cleanse(hash_text, hlen);
	if (rc != NRM_OK) {
		OPENSSL_cleanse(secret, slen);
		secret[0] = '\0';
	}
	return nrm_ctl_done(conn, res, rc);
}

void
nrm_ctl_bytea(const unsigned char *hash, size_t n, char *out)
{
	memcpy(out, "\\x", 2);
	nrm_hex(hash, n, out + 2);
}

int
nrm_ctl_audit_commit(PGconn *conn, const char *action, const char *object_type,
    const char *object_id, const char *change, struct nrm_error *err)
{
	const char *p[3] = {action, object_type, object_id};

	if (nrm_ctl_query(conn,
		"INSERT INTO audit.event (action, object_type, object_id, "
		"purpose, outcome) "
		"VALUES ($1, $2, $3, 'nrmctl', 'allowed')",
		3, p, -1, NULL, err, "audit %s", change) != NRM_OK)
		return NRM_ERR;
	return nrm_ctl_commit(conn, err, "commit %s", change);
}

int
nrm_ctl_list(PGconn *conn, FILE *out, const char *sql, const char *const *head,
    int ncol, struct nrm_error *err, const char *what)
{
	PGresult *res;
	int rows;
	int width[16];

	if (nrm_ctl_query(conn, sql, 0, NULL, -1, &res, err, "%s", what) !=
	    NRM_OK)
		return NRM_ERR;
	rows = PQntuples(res);

	if (ncol > (int)NRM_ARRAY_LEN(width))
		ncol = (int)NRM_ARRAY_LEN(width);
	for (int c = 0; c < ncol; c++) {
		width[c] = (int)strlen(head[c]);
		for (int r = 0; r < rows; r++) {
			int w = PQgetlength(res, r, c);

			if (w > width[c])
				width[c] = w;
		}
	}
	for (int c = 0; c < ncol; c++)
		fprintf(out, "%-*s%s", c == ncol - 1 ? 0 : width[c], head[c],
		    c == ncol - 1 ? "\n" : "  ");
	for (int r = 0; r < rows; r++)
		for (int c = 0; c < ncol; c++)
			fprintf(out, "%-*s%s", c == ncol - 1 ? 0 : width[c],
			    PQgetvalue(res, r, c), c == ncol - 1 ? "\n" : "  ");
	PQclear(res);
	return NRM_OK;
}
