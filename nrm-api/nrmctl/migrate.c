/*
 * migrate.c - apply nrm's numbered SQL migrations (see migrate.h).
 *
 * Synchronous libpq: this runs in the admin tool, never in the daemon.
 */
#include "migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto.h"
#include "log.h"

/* pg_advisory_lock(key1, key2): "nrm" and the migrate lock number. */
#define MIG_LOCK_SQL "SELECT pg_catalog.pg_advisory_lock(7238253, 1)"
#define MIG_UNLOCK_SQL "SELECT pg_catalog.pg_advisory_unlock(7238253, 1)"
#define MIG_MAX_FILES 9999
#define MIG_MAX_SIZE (64u * 1024u * 1024u)
#define MIG_REPEATABLE_DIR "api"
#define MIG_RELEASED_FILE "released.sha256"

struct mig_file {
	int version; /* 0 for a repeatable file */
	char name[256]; /* "0001_foundation.sql", "10_common.sql" */
	char checksum[2 * NRM_SHA256_LEN + 1];
	char *sql; /* file contents, NUL-terminated */
};

struct mig_set {
	struct mig_file *files;
	size_t n;
	size_t cap;
};

static const char mig_bootstrap_sql[] =
    "DO $bootstrap$\n"
    "BEGIN\n"
    "\tIF pg_catalog.to_regclass('nrm.schema_version') IS NULL THEN\n"
    "\t\tCREATE SCHEMA IF NOT EXISTS nrm;\n"
    "\t\tCOMMENT ON SCHEMA nrm IS 'nrm bookkeeping: schema_version.';\n"
    "\t\tCREATE TABLE nrm.schema_version (\n"
    "\t\t\tversion integer NOT NULL,\n"
    "\t\t\tname text NOT NULL,\n"
    "\t\t\tchecksum text NOT NULL,\n"
    "\t\t\tapplied_at timestamptz NOT NULL DEFAULT now(),\n"
    "\t\t\tCONSTRAINT schema_version_pkey PRIMARY KEY (version),\n"
    "\t\t\tCONSTRAINT schema_version_version_check\n"
    "\t\t\t    CHECK (version BETWEEN 1 AND 9999),\n"
    "\t\t\tCONSTRAINT schema_version_name_key UNIQUE (name),\n"
    "\t\t\tCONSTRAINT schema_version_checksum_check\n"
    "\t\t\t    CHECK (checksum ~ '^[0-9a-f]{64}$')\n"
    "\t\t);\n"
    "\t\tCOMMENT ON TABLE nrm.schema_version IS\n"
    "\t\t    'Applied migrations: version, file name, SHA-256 of the "
    "file, when.  Written by nrmctl migrate only.  No personal data.';\n"
    "\tEND IF;\n"
    "\tIF pg_catalog.to_regclass('nrm.schema_repeatable') IS NULL THEN\n"
    "\t\tCREATE TABLE nrm.schema_repeatable (\n"
    "\t\t\tname text NOT NULL,\n"
    "\t\t\tchecksum text NOT NULL,\n"
    "\t\t\tapplied_at timestamptz NOT NULL DEFAULT now(),\n"
    "\t\t\tCONSTRAINT schema_repeatable_pkey PRIMARY KEY (name),\n"
    "\t\t\tCONSTRAINT schema_repeatable_name_check\n"
    "\t\t\t    CHECK (name ~ '^[a-z0-9_]+[.]sql$'),\n"
    "\t\t\tCONSTRAINT schema_repeatable_checksum_check\n"
    "\t\t\t    CHECK (checksum ~ '^[0-9a-f]{64}$')\n"
    "\t\t);\n"
    "\t\tCOMMENT ON TABLE nrm.schema_repeatable IS\n"
    "\t\t    'Repeatable files (sql/api/*.sql) as last applied: file "
    "name, SHA-256 of the file, when.  Written by nrmctl migrate only.  "
    "No personal data.';\n"
    "\tEND IF;\n"
    "END\n"
    "$bootstrap$";

static void mig_seterr(char *errbuf, size_t errlen, const char *fmt, ...)
    NRM_PRINTF(3, 4);

static void
mig_seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/*
 * The primary message of a failed result, one line, plus the line in
 * `sql` its statement position points at (when there is one).
 */
static void
mig_pgerr(const PGresult *res, PGconn *conn, const char *sql, char *out,
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
	n = strcspn(out, "\n");
	out[n] = '\0';
	if (res == NULL || sql == NULL)
		return;
	pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	if (pos != NULL) {
		/* The position counts characters (UTF-8) from 1. */
		long want = strtol(pos, NULL, 10);
		long chars = 0;

		line = 1;
		for (const char *p = sql; *p != '\0'; p++) {
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

/* Run a command that returns no rows we need; NRM_ERR on failure. */
static int
mig_exec(PGconn *conn, const char *sql, char *why, size_t whylen)
{
	PGresult *res;
	ExecStatusType st;
	int rc = NRM_OK;

	res = PQexec(conn, sql);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		mig_pgerr(res, conn, NULL, why, whylen);
		rc = NRM_ERR;
	}
	PQclear(res);
	return rc;
}

static void
mig_rollback(PGconn *conn)
{
	PGresult *res;

	if (PQtransactionStatus(conn) == PQTRANS_IDLE)
		return;
	res = PQexec(conn, "ROLLBACK");
	PQclear(res);
}

static void
mig_set_free(struct mig_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->files[i].sql);
	free(set->files);
	set->files = NULL;
	set->n = set->cap = 0;
}

/* "NNNN_[a-z0-9_]+.sql" -> version; -1 when the name does not fit. */
static int
mig_parse_name(const char *name)
{
	size_t len = strlen(name);
	int version = 0;

	if (len < 10 || len > 200 || strcmp(name + len - 4, ".sql") != 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)name[i]))
			return -1;
		version = version * 10 + (name[i] - '0');
	}
	if (name[4] != '_')
		return -1;
	for (size_t i = 5; i < len - 4; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || isdigit(c) || c == '_'))
			return -1;
	}
	return version > 0 ? version : -1;
}

/*
 * True when a line of `sql` is only a transaction-control statement:
 * "BEGIN;", "COMMIT;", "ROLLBACK;", "START TRANSACTION ...;" (any case).
 * PL/pgSQL's BEGIN is never followed by a semicolon and its "END;"
 * closes a block, so function bodies do not match.
 */
static bool
mig_has_txn_control(const char *sql)
{
	static const char *const words[] = {"begin", "commit", "rollback"};
	const char *p = sql;

	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		const char *s = p;
		const char *e = eol != NULL ? eol : p + strlen(p);

		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e - s >= 18 &&
		    strncasecmp(s, "start transaction", 17) == 0 &&
		    e[-1] == ';')
			return true;
		for (size_t i = 0; i < NRM_ARRAY_LEN(words); i++) {
			size_t wl = strlen(words[i]);
			const char *t = s + wl;

			if ((size_t)(e - s) <= wl ||
			    strncasecmp(s, words[i], wl) != 0)
				continue;
			while (t < e && isspace((unsigned char)*t))
				t++;
			if (t + 1 == e && *t == ';')
				return true;
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return false;
}

/* Read one file into f->sql and compute its checksum. */
static int
mig_read_file(const char *dir, struct mig_file *f, char *errbuf, size_t errlen)
{
	char path[4096];
	unsigned char digest[NRM_SHA256_LEN];
	FILE *fp = NULL;
	char *buf = NULL;
	size_t cap = 0;
	size_t len = 0;
	int rc = NRM_ERR;

	snprintf(path, sizeof(path), "%s/%s", dir, f->name);
	fp = fopen(path, "rb");
	if (fp == NULL) {
		mig_seterr(errbuf, errlen, "could not open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	for (;;) {
		size_t got;

		if (len + 65536 + 1 > cap) {
			char *nb;

			cap = cap == 0 ? 131072 : cap * 2;
			if (cap > MIG_MAX_SIZE) {
				mig_seterr(errbuf, errlen,
				    "could not read %s: file too large", path);
				goto out;
			}
			nb = realloc(buf, cap);
			if (nb == NULL) {
				mig_seterr(errbuf, errlen,
				    "could not read %s: out of memory", path);
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len - 1, fp);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		mig_seterr(errbuf, errlen, "could not read %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (buf == NULL || len == 0) {
		mig_seterr(
		    errbuf, errlen, "could not read %s: file is empty", path);
		goto out;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		mig_seterr(errbuf, errlen,
		    "could not use %s: it contains a "
		    "NUL byte",
		    path);
		goto out;
	}
	if (mig_has_txn_control(buf)) {
		mig_seterr(errbuf, errlen,
		    "could not use %s: migrations must "
		    "not contain BEGIN, COMMIT or ROLLBACK (nrmctl wraps each "
		    "file in one transaction)",
		    path);
		goto out;
	}
	nrm_sha256(buf, len, digest);
	nrm_hex(digest, sizeof(digest), f->checksum);
	f->sql = buf;
	buf = NULL;
	rc = NRM_OK;
out:
	free(buf);
	if (fp != NULL)
		fclose(fp);
	return rc;
}

static int
mig_cmp(const void *a, const void *b)
{
	const struct mig_file *fa = a;
	const struct mig_file *fb = b;

	if (fa->version != fb->version)
		return (fa->version > fb->version) -
		    (fa->version < fb->version);
	return strcmp(fa->name, fb->name);
}

/* A new zeroed slot at the end of `set`; NULL when out of room. */
static struct mig_file *
mig_set_add(struct mig_set *set)
{
	struct mig_file *f;

	if (set->n == set->cap) {
		size_t ncap = set->cap == 0 ? 16 : set->cap * 2;
		struct mig_file *nf;

		if (ncap > MIG_MAX_FILES)
			return NULL;
		nf = realloc(set->files, ncap * sizeof(*nf));
		if (nf == NULL)
			return NULL;
		set->files = nf;
		set->cap = ncap;
	}
	f = &set->files[set->n++];
	memset(f, 0, sizeof(*f));
	return f;
}

/* "[a-z0-9_]+.sql": the name of a repeatable file. */
static bool
mig_repeatable_name(const char *name)
{
	size_t len = strlen(name);

	if (len < 5 || len > 200 || strcmp(name + len - 4, ".sql") != 0)
		return false;
	for (size_t i = 0; i < len - 4; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || isdigit(c) || c == '_'))
			return false;
	}
	return true;
}

/*
 * List, read and check the *.sql files of `dir`: the numbered migrations
 * (repeatable false) or the repeatable files (true; a missing directory
 * is an empty set).
 */
static int
mig_scan(const char *dir, bool repeatable, struct mig_set *set, char *errbuf,
    size_t errlen)
{
	DIR *d;
	struct dirent *de;
	int rc = NRM_ERR;

	d = opendir(dir);
	if (d == NULL && repeatable && errno == ENOENT)
		return NRM_OK;
	if (d == NULL) {
		mig_seterr(errbuf, errlen, "could not open directory %s: %s",
		    dir, strerror(errno));
		return NRM_ERR;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		struct mig_file *f;
		int v = 0;

		if (len < 4 || strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		if (!repeatable)
			v = mig_parse_name(de->d_name);
		if (repeatable ? !mig_repeatable_name(de->d_name) : v < 0) {
			mig_seterr(errbuf, errlen,
			    "could not use %s/%s: %s is named %s with name "
			    "in [a-z0-9_]",
			    dir, de->d_name,
			    repeatable ? "a repeatable file" : "a migration",
			    repeatable ? "name.sql" : "NNNN_name.sql");
			goto out;
		}
		f = mig_set_add(set);
		if (f == NULL) {
			mig_seterr(errbuf, errlen,
			    "could not scan %s: too many files or out of "
			    "memory",
			    dir);
			goto out;
		}
		f->version = v;
		snprintf(f->name, sizeof(f->name), "%s", de->d_name);
	}
	qsort(set->files, set->n, sizeof(set->files[0]), mig_cmp);
	for (size_t i = 0; i < set->n && !repeatable; i++) {
		if (set->files[i].version == (int)i + 1)
			continue;
		if (i > 0 && set->files[i].version == set->files[i - 1].version)
			mig_seterr(errbuf, errlen,
			    "could not use %s: two "
			    "migrations have version %d (%s, %s)",
			    dir, set->files[i].version, set->files[i - 1].name,
			    set->files[i].name);
		else
			mig_seterr(errbuf, errlen,
			    "could not use %s: "
			    "migration version %04d is missing from the "
			    "sequence (next file is %s)",
			    dir, (int)i + 1, set->files[i].name);
		goto out;
	}
	for (size_t i = 0; i < set->n; i++)
		if (mig_read_file(dir, &set->files[i], errbuf, errlen) !=
		    NRM_OK)
			goto out;
	rc = NRM_OK;
out:
	closedir(d);
	return rc;
}

/*
 * Read DIR/released.sha256 (sha256sum's format: "HEX  NAME" a line; '#'
 * comments and blank lines allowed) into `rel`, one string of
 * "NAME HEX\n" lines.  A missing file is an empty list.
 */
static int
mig_read_released(const char *dir, char **rel, char *errbuf, size_t errlen)
{
	char path[4096];
	char line[512];
	FILE *fp;
	char *buf = NULL;
	size_t len = 0;
	int lineno = 0;
	int rc = NRM_ERR;

	*rel = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, MIG_RELEASED_FILE);
	fp = fopen(path, "r");
	if (fp == NULL && errno == ENOENT)
		return NRM_OK;
	if (fp == NULL) {
		mig_seterr(errbuf, errlen, "could not open %s: %s", path,
		    strerror(errno));
		return NRM_ERR;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t n = strcspn(line, "\r\n");
		const char *name = line + 2 * NRM_SHA256_LEN + 2;
		char *nb;
		bool hex = true;

		lineno++;
		line[n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		for (size_t i = 0; i < 2 * NRM_SHA256_LEN && i < n; i++)
			if (!isxdigit((unsigned char)line[i]) ||
			    isupper((unsigned char)line[i]))
				hex = false;
		if (n < 2 * NRM_SHA256_LEN + 3 || !hex ||
		    line[2 * NRM_SHA256_LEN] != ' ' ||
		    (name[-1] != ' ' && name[-1] != '*') ||
		    mig_parse_name(name) < 0) {
			mig_seterr(errbuf, errlen,
			    "could not read %s: line %d is not \"SHA256  "
			    "NNNN_name.sql\"",
			    path, lineno);
			goto out;
		}
		nb = realloc(buf, len + n + 2);
		if (nb == NULL) {
			mig_seterr(errbuf, errlen,
			    "could not read %s: out of memory", path);
			goto out;
		}
		buf = nb;
		len += (size_t)sprintf(
		    buf + len, "%s %.*s\n", name, 2 * NRM_SHA256_LEN, line);
	}
	if (ferror(fp)) {
		mig_seterr(errbuf, errlen, "could not read %s", path);
		goto out;
	}
	*rel = buf;
	buf = NULL;
	rc = NRM_OK;
out:
	free(buf);
	fclose(fp);
	return rc;
}

/* True when `rel` lists `name` as released with checksum `sum`. */
static bool
mig_is_released(const char *rel, const char *name, const char *sum)
{
	char want[512];

	if (rel == NULL)
		return false;
	snprintf(want, sizeof(want), "%s %s\n", name, sum);
	if (strncmp(rel, want, strlen(want)) == 0)
		return true;
	snprintf(want, sizeof(want), "\n%s %s\n", name, sum);
	return strstr(rel, want) != NULL;
}

/* The rows of a bookkeeping query; NULL (errbuf set) on failure. */
static PGresult *
mig_read(PGconn *conn, const char *table, const char *sql, char *errbuf,
    size_t errlen)
{
	PGresult *res = PQexec(conn, sql);
	char why[512];

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	mig_pgerr(res, conn, NULL, why, sizeof(why));
	mig_seterr(errbuf, errlen, "could not read %s: %s", table, why);
	PQclear(res);
	return NULL;
}

/*
 * Compare what the database recorded with the files: every applied
 * version must have its file, unchanged or changed from a released
 * checksum (`rel`).  *n_applied is how many are.
 */
static int
mig_check_applied(PGconn *conn, const struct mig_set *set, const char *rel,
    int *n_applied, char *errbuf, size_t errlen)
{
	PGresult *res;
	int rc = NRM_ERR;
	int rows;

	res = mig_read(conn, "nrm.schema_version",
	    "SELECT version, name, checksum "
	    "FROM nrm.schema_version ORDER BY version",
	    errbuf, errlen);
	if (res == NULL)
		return NRM_ERR;
	rows = PQntuples(res);
	for (int i = 0; i < rows; i++) {
		int v = atoi(PQgetvalue(res, i, 0));
		const char *name = PQgetvalue(res, i, 1);
		const char *sum = PQgetvalue(res, i, 2);
		const struct mig_file *f;

		if (v != i + 1) {
			mig_seterr(errbuf, errlen,
			    "could not migrate: the "
			    "database records version %d but not version %d",
			    v, i + 1);
			goto out;
		}
		if ((size_t)i >= set->n) {
			mig_seterr(errbuf, errlen,
			    "could not migrate: applied "
			    "migration %s is missing from the directory (the "
			    "database is newer than these files)",
			    name);
			goto out;
		}
		f = &set->files[i];
		if (strcmp(f->name, name) != 0) {
			mig_seterr(errbuf, errlen,
			    "could not migrate: version "
			    "%d was applied as %s but the file is now %s",
			    v, name, f->name);
			goto out;
		}
		if (strcmp(f->checksum, sum) != 0 &&
		    !mig_is_released(rel, name, sum)) {
			mig_seterr(errbuf, errlen,
			    "could not migrate: applied "
			    "migration %s has changed since it was applied "
			    "(checksum %.12s..., file %.12s...) and the "
			    "applied checksum is not in %s; migrations "
			    "are forward-only: add a new one",
			    name, sum, f->checksum, MIG_RELEASED_FILE);
			goto out;
		}
	}
	*n_applied = rows;
	rc = NRM_OK;
out:
	PQclear(res);
	return rc;
}

/*
 * True when nrm.schema_repeatable records exactly the files of `rep`
 * (names and checksums, in name order).
 */
static int
mig_repeatable_current(PGconn *conn, const struct mig_set *rep, bool *current,
    char *errbuf, size_t errlen)
{
	PGresult *res;
	int rows;

	res = mig_read(conn, "nrm.schema_repeatable",
	    "SELECT name, checksum FROM nrm.schema_repeatable "
	    "ORDER BY name COLLATE \"C\"",
	    errbuf, errlen);
	if (res == NULL)
		return NRM_ERR;
	rows = PQntuples(res);
	*current = (size_t)rows == rep->n;
	for (int i = 0; i < rows && *current; i++)
		*current =
		    strcmp(PQgetvalue(res, i, 0), rep->files[i].name) == 0 &&
		    strcmp(PQgetvalue(res, i, 1), rep->files[i].checksum) == 0;
	PQclear(res);
	return NRM_OK;
}

static double
mig_ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Run one file's SQL inside the open transaction. */
static int
mig_run(PGconn *conn, const char *label, const struct mig_file *f, char *errbuf,
    size_t errlen)
{
	PGresult *res;
	char why[1024];
	int rc = NRM_OK;

	res = PQexec(conn, f->sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		mig_pgerr(res, conn, f->sql, why, sizeof(why));
		mig_seterr(errbuf, errlen, "could not apply %s%s: %s", label,
		    f->name, why);
		rc = NRM_ERR;
	} else if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
		mig_seterr(errbuf, errlen,
		    "could not apply %s%s: it ended the "
		    "transaction nrmctl opened",
		    label, f->name);
		rc = NRM_ERR;
	}
	PQclear(res);
	return rc;
}

/* Record a run's SQL row; `sql` takes name, checksum[, version]. */
static int
mig_record(PGconn *conn, const char *sql, const struct mig_file *f,
    char *errbuf, size_t errlen)
{
	PGresult *res;
	char why[512];
	char vbuf[16];
	const char *params[3];
	int rc = NRM_OK;

	snprintf(vbuf, sizeof(vbuf), "%d", f->version);
	params[0] = f->name;
	params[1] = f->checksum;
	params[2] = vbuf;
	res = PQexecParams(
	    conn, sql, f->version > 0 ? 3 : 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		mig_pgerr(res, conn, NULL, why, sizeof(why));
		mig_seterr(
		    errbuf, errlen, "could not record %s: %s", f->name, why);
		rc = NRM_ERR;
	}
	PQclear(res);
	return rc;
}

/*
 * One transaction: the numbered migration `f` (NULL: none) with its
 * record, then, when `rep` is not NULL, every repeatable file in name
 * order and nrm.schema_repeatable rewritten to list them.
 */
static int
mig_apply(PGconn *conn, const struct mig_file *f, const struct mig_set *rep,
    char *errbuf, size_t errlen)
{
	char why[1024];
	int rc = NRM_ERR;

	if (mig_exec(conn, "BEGIN", why, sizeof(why)) != NRM_OK) {
		mig_seterr(errbuf, errlen, "could not begin: %s", why);
		goto out;
	}
	if (f != NULL &&
	    (mig_run(conn, "", f, errbuf, errlen) != NRM_OK ||
		mig_record(conn,
		    "INSERT INTO nrm.schema_version (name, checksum, version) "
		    "VALUES ($1, $2, $3::integer)",
		    f, errbuf, errlen) != NRM_OK))
		goto out;
	if (rep != NULL) {
		if (mig_exec(conn, "DELETE FROM nrm.schema_repeatable", why,
			sizeof(why)) != NRM_OK) {
			mig_seterr(errbuf, errlen,
			    "could not clear nrm.schema_repeatable: %s", why);
			goto out;
		}
		for (size_t i = 0; i < rep->n; i++)
			if (mig_run(conn, MIG_REPEATABLE_DIR "/",
				&rep->files[i], errbuf, errlen) != NRM_OK ||
			    mig_record(conn,
				"INSERT INTO nrm.schema_repeatable "
				"(name, checksum) VALUES ($1, $2)",
				&rep->files[i], errbuf, errlen) != NRM_OK)
				goto out;
	}
	if (mig_exec(conn, "COMMIT", why, sizeof(why)) != NRM_OK) {
		mig_seterr(errbuf, errlen, "could not commit %s: %s",
		    f != NULL ? f->name : "the repeatable files", why);
		goto out;
	}
	rc = NRM_OK;
out:
	if (rc != NRM_OK)
		mig_rollback(conn);
	return rc;
}

/* Warn when the objects would not belong to the database's owner. */
static void
mig_warn_owner(PGconn *conn)
{
	PGresult *res;

	res = PQexec(conn,
	    "SELECT current_user, "
	    "pg_catalog.pg_get_userbyid(d.datdba) "
	    "FROM pg_catalog.pg_database d "
	    "WHERE d.datname = pg_catalog.current_database()");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1)) != 0)
		nrm_warn("migrating as a role that does not own the database "
			 "user=%s owner=%s",
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
}

int
nrm_migrate(
    PGconn *conn, const char *dir, FILE *out, char *errbuf, size_t errlen)
{
	struct mig_set set = {0};
	struct mig_set rep = {0};
	char repdir[4096];
	char *rel = NULL;
	char why[512];
	bool locked = false;
	bool rep_current = false;
	int n_applied = 0;
	int rc = NRM_ERR;

	/* Read and check every file before touching the database. */
	snprintf(repdir, sizeof(repdir), "%s/%s", dir, MIG_REPEATABLE_DIR);
	if (mig_scan(dir, false, &set, errbuf, errlen) != NRM_OK ||
	    mig_scan(repdir, true, &rep, errbuf, errlen) != NRM_OK ||
	    mig_read_released(dir, &rel, errbuf, errlen) != NRM_OK)
		goto out;
	if (mig_exec(conn,
		"SET client_min_messages = warning; "
		"SET statement_timeout = 0; SET lock_timeout = 0",
		why, sizeof(why)) != NRM_OK) {
		mig_seterr(
		    errbuf, errlen, "could not configure session: %s", why);
		goto out;
	}
	nrm_debug("waiting for the migration lock");
	if (mig_exec(conn, MIG_LOCK_SQL, why, sizeof(why)) != NRM_OK) {
		mig_seterr(
		    errbuf, errlen, "could not take migration lock: %s", why);
		goto out;
	}
	locked = true;
	mig_warn_owner(conn);
	if (mig_exec(conn, mig_bootstrap_sql, why, sizeof(why)) != NRM_OK) {
		mig_seterr(errbuf, errlen,
		    "could not create nrm.schema_version: %s", why);
		goto out;
	}
	if (mig_check_applied(conn, &set, rel, &n_applied, errbuf, errlen) !=
		NRM_OK ||
	    mig_repeatable_current(conn, &rep, &rep_current, errbuf, errlen) !=
		NRM_OK)
		goto out;
	if ((size_t)n_applied == set.n && rep_current) {
		fprintf(out, "schema is current at version %d\n", n_applied);
		rc = NRM_OK;
		goto out;
	}
	/*
	 * Each numbered migration in a transaction of its own; the last
	 * one's also applies every repeatable file (or a transaction of
	 * their own does, when only they changed).
	 */
	for (size_t i = (size_t)n_applied; i < set.n || i == set.n; i++) {
		const struct mig_file *f = i < set.n ? &set.files[i] : NULL;
		bool last = i + 1 >= set.n;
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (mig_apply(conn, f, last ? &rep : NULL, errbuf, errlen) !=
		    NRM_OK)
			goto out;
		if (f != NULL)
			fprintf(out, "applied %s (version %d) in %.0f ms\n",
			    f->name, f->version, mig_ms_since(&t0));
		for (size_t k = 0; last && k < rep.n; k++)
			fprintf(out, "applied %s/%s (repeatable)\n",
			    MIG_REPEATABLE_DIR, rep.files[k].name);
		fflush(out);
		if (last)
			break;
	}
	fprintf(out, "schema is now at version %d\n",
	    set.n > 0 ? set.files[set.n - 1].version : 0);
	rc = NRM_OK;
out:
	if (locked && PQstatus(conn) == CONNECTION_OK) {
		mig_rollback(conn);
		if (mig_exec(conn, MIG_UNLOCK_SQL, why, sizeof(why)) != NRM_OK)
			nrm_warn("could not release the migration lock");
	}
	free(rel);
	mig_set_free(&rep);
	mig_set_free(&set);
	return rc;
}
