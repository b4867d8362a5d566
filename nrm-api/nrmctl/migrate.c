/*
 * migrate.c - apply nrm's numbered SQL migrations and its repeatable
 * files (see migrate.h); every statement goes through ctl_db.
 *
 * Synchronous libpq: this runs in the admin tool, never in the daemon.
 */
#include "migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto.h"
#include "ctl_db.h"
#include "log.h"

/* pg_advisory_lock(key1, key2): "nrm" and the migrate lock number. */
#define MIG_LOCK_SQL "SELECT pg_catalog.pg_advisory_lock(7238253, 1)"
#define MIG_UNLOCK_SQL "SELECT pg_catalog.pg_advisory_unlock(7238253, 1)"
#define MIG_MAX_FILES 9999
#define MIG_MAX_SIZE (64u * 1024u * 1024u)
#define MIG_REPEATABLE_DIR "api"
#define MIG_RELEASED_FILE "released.sha256"
#define MIG_SHOWN_MAX 120

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

/*
 * `path` as errors show it: whole when it has at most MIG_SHOWN_MAX
 * bytes, else "..." and its tail from a '/' (written to `buf`), so that
 * an error about a file under a long directory still names the file
 * and says why: struct nrm_error holds 255 bytes.
 */
static const char *
mig_shown(const char *path, char buf[MIG_SHOWN_MAX + 1])
{
	size_t n = strlen(path);
	const char *tail;

	if (n <= MIG_SHOWN_MAX)
		return path;
	tail = path + n - (MIG_SHOWN_MAX - 3);
	if (strchr(tail, '/') != NULL)
		tail = strchr(tail, '/');
	snprintf(buf, MIG_SHOWN_MAX + 1, "...%s", tail);
	return buf;
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
mig_read_file(const char *dir, struct mig_file *f, struct nrm_error *err)
{
	char path[4096];
	char sbuf[MIG_SHOWN_MAX + 1];
	const char *shown;
	unsigned char digest[NRM_SHA256_LEN];
	FILE *fp = NULL;
	char *buf = NULL;
	size_t cap = 0;
	size_t len = 0;
	int rc = NRM_ERR;

	snprintf(path, sizeof(path), "%s/%s", dir, f->name);
	shown = mig_shown(path, sbuf);
	fp = fopen(path, "rb");
	if (fp == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not open %s: %s", shown, strerror(errno));
		goto out;
	}
	for (;;) {
		size_t got;

		if (len + 65536 + 1 > cap) {
			char *nb;

			cap = cap == 0 ? 131072 : cap * 2;
			if (cap > MIG_MAX_SIZE) {
				nrm_error_set(err, NRM_E_INTERNAL, NULL,
				    "could not read %s: file too large", shown);
				goto out;
			}
			nb = realloc(buf, cap);
			if (nb == NULL) {
				nrm_error_set(err, NRM_E_INTERNAL, NULL,
				    "could not read %s: out of memory", shown);
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
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not read %s: %s", shown, strerror(errno));
		goto out;
	}
	if (buf == NULL || len == 0) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not read %s: file is empty", shown);
		goto out;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not use %s: it contains a "
		    "NUL byte",
		    shown);
		goto out;
	}
	if (mig_has_txn_control(buf)) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not use %s: migrations must "
		    "not contain BEGIN, COMMIT or ROLLBACK (nrmctl wraps each "
		    "file in one transaction)",
		    shown);
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
mig_scan(const char *dir, bool repeatable, struct mig_set *set,
    struct nrm_error *err)
{
	char sbuf[MIG_SHOWN_MAX + 1];
	char pbuf[MIG_SHOWN_MAX + 1];
	char path[4096];
	const char *shown = mig_shown(dir, sbuf);
	DIR *d;
	struct dirent *de;
	int rc = NRM_ERR;

	d = opendir(dir);
	if (d == NULL && repeatable && errno == ENOENT)
		return NRM_OK;
	if (d == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not open directory %s: %s", shown, strerror(errno));
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
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (repeatable ? !mig_repeatable_name(de->d_name) : v < 0) {
			nrm_error_set(err, NRM_E_INTERNAL, NULL,
			    "could not use %s: %s is named %s with name "
			    "in [a-z0-9_]",
			    mig_shown(path, pbuf),
			    repeatable ? "a repeatable file" : "a migration",
			    repeatable ? "name.sql" : "NNNN_name.sql");
			goto out;
		}
		f = mig_set_add(set);
		if (f == NULL) {
			nrm_error_set(err, NRM_E_INTERNAL, NULL,
			    "could not scan %s: too many files or out of "
			    "memory",
			    shown);
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
			nrm_error_set(err, NRM_E_INTERNAL, NULL,
			    "could not use %s: two "
			    "migrations have version %d (%s, %s)",
			    shown, set->files[i].version,
			    set->files[i - 1].name, set->files[i].name);
		else
			nrm_error_set(err, NRM_E_INTERNAL, NULL,
			    "could not use %s: "
			    "migration version %04d is missing from the "
			    "sequence (next file is %s)",
			    shown, (int)i + 1, set->files[i].name);
		goto out;
	}
	for (size_t i = 0; i < set->n; i++)
		if (mig_read_file(dir, &set->files[i], err) != NRM_OK)
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
mig_read_released(const char *dir, char **rel, struct nrm_error *err)
{
	char path[4096];
	char sbuf[MIG_SHOWN_MAX + 1];
	const char *shown;
	char line[512];
	FILE *fp;
	char *buf = NULL;
	size_t len = 0;
	int lineno = 0;
	int rc = NRM_ERR;

	*rel = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, MIG_RELEASED_FILE);
	shown = mig_shown(path, sbuf);
	fp = fopen(path, "r");
	if (fp == NULL && errno == ENOENT)
		return NRM_OK;
	if (fp == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not open %s: %s", shown, strerror(errno));
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
			nrm_error_set(err, NRM_E_INTERNAL, NULL,
			    "could not read %s: line %d is not \"SHA256  "
			    "NNNN_name.sql\"",
			    shown, lineno);
			goto out;
		}
		nb = realloc(buf, len + n + 2);
		if (nb == NULL) {
			nrm_error_set(err, NRM_E_INTERNAL, NULL,
			    "could not read %s: out of memory", shown);
			goto out;
		}
		buf = nb;
		len += (size_t)sprintf(
		    buf + len, "%s %.*s\n", name, 2 * NRM_SHA256_LEN, line);
	}
	if (ferror(fp)) {
		nrm_error_set(
		    err, NRM_E_INTERNAL, NULL, "could not read %s", shown);
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

/* The rows of a bookkeeping query; NULL (err set) on failure. */
static PGresult *
mig_read(
    PGconn *conn, const char *table, const char *sql, struct nrm_error *err)
{
	PGresult *res;

	if (nrm_ctl_query(
		conn, sql, 0, NULL, -1, &res, err, "read %s", table) != NRM_OK)
		return NULL;
	return res;
}

/*
 * Compare what the database recorded with the files: every applied
 * version must have its file, unchanged or changed from a released
 * checksum (`rel`).  *n_applied is how many are.
 */
static int
mig_check_applied(PGconn *conn, const struct mig_set *set, const char *rel,
    int *n_applied, struct nrm_error *err)
{
	PGresult *res;
	int rc = NRM_ERR;
	int rows;

	res = mig_read(conn, "nrm.schema_version",
	    "SELECT version, name, checksum "
	    "FROM nrm.schema_version ORDER BY version",
	    err);
	if (res == NULL)
		return NRM_ERR;
	rows = PQntuples(res);
	for (int i = 0; i < rows; i++) {
		int v = atoi(PQgetvalue(res, i, 0));
		const char *name = PQgetvalue(res, i, 1);
		const char *sum = PQgetvalue(res, i, 2);
		const struct mig_file *f;

		if (v != i + 1) {
			nrm_error_set(err, NRM_E_INTERNAL, NULL,
			    "could not migrate: the "
			    "database records version %d but not version %d",
			    v, i + 1);
			goto out;
		}
		if ((size_t)i >= set->n) {
			nrm_error_set(err, NRM_E_INTERNAL, NULL,
			    "could not migrate: applied "
			    "migration %s is missing from the directory (the "
			    "database is newer than these files)",
			    name);
			goto out;
		}
		f = &set->files[i];
		if (strcmp(f->name, name) != 0) {
			nrm_error_set(err, NRM_E_INTERNAL, NULL,
			    "could not migrate: version "
			    "%d was applied as %s but the file is now %s",
			    v, name, f->name);
			goto out;
		}
		if (strcmp(f->checksum, sum) != 0 &&
		    !mig_is_released(rel, name, sum)) {
			nrm_error_set(err, NRM_E_INTERNAL, NULL,
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
    struct nrm_error *err)
{
	PGresult *res;
	int rows;

	res = mig_read(conn, "nrm.schema_repeatable",
	    "SELECT name, checksum FROM nrm.schema_repeatable "
	    "ORDER BY name COLLATE \"C\"",
	    err);
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
mig_run(PGconn *conn, const char *label, const struct mig_file *f,
    struct nrm_error *err)
{
	if (nrm_ctl_exec_script(
		conn, f->sql, err, "apply %s%s", label, f->name) != NRM_OK)
		return NRM_ERR;
	if (PQtransactionStatus(conn) != PQTRANS_INTRANS)
		return nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not apply %s%s: it ended the transaction nrmctl "
		    "opened",
		    label, f->name);
	return NRM_OK;
}

/* Record a run's SQL row; `sql` takes name, checksum[, version]. */
static int
mig_record(PGconn *conn, const char *sql, const struct mig_file *f,
    struct nrm_error *err)
{
	char vbuf[16];
	const char *params[3];

	snprintf(vbuf, sizeof(vbuf), "%d", f->version);
	params[0] = f->name;
	params[1] = f->checksum;
	params[2] = vbuf;
	return nrm_ctl_query(conn, sql, f->version > 0 ? 3 : 2, params, -1,
	    NULL, err, "record %s", f->name);
}

/*
 * One transaction: the numbered migration `f` (NULL: none) with its
 * record, then, when `rep` is not NULL, every repeatable file in name
 * order and nrm.schema_repeatable rewritten to list them.
 */
static int
mig_apply(PGconn *conn, const struct mig_file *f, const struct mig_set *rep,
    struct nrm_error *err)
{
	int rc = NRM_ERR;

	if (nrm_ctl_begin(conn, err, "begin") != NRM_OK)
		goto out;
	if (f != NULL &&
	    (mig_run(conn, "", f, err) != NRM_OK ||
		mig_record(conn,
		    "INSERT INTO nrm.schema_version (name, checksum, version) "
		    "VALUES ($1, $2, $3::integer)",
		    f, err) != NRM_OK))
		goto out;
	if (rep != NULL) {
		if (nrm_ctl_exec(conn, "DELETE FROM nrm.schema_repeatable", err,
			"clear nrm.schema_repeatable") != NRM_OK)
			goto out;
		for (size_t i = 0; i < rep->n; i++)
			if (mig_run(conn, MIG_REPEATABLE_DIR "/",
				&rep->files[i], err) != NRM_OK ||
			    mig_record(conn,
				"INSERT INTO nrm.schema_repeatable "
				"(name, checksum) VALUES ($1, $2)",
				&rep->files[i], err) != NRM_OK)
				goto out;
	}
	if (nrm_ctl_commit(conn, err, "commit %s",
		f != NULL ? f->name : "the repeatable files") != NRM_OK)
		goto out;
	rc = NRM_OK;
out:
	if (rc != NRM_OK)
		nrm_ctl_rollback(conn);
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
nrm_migrate(PGconn *conn, const char *dir, FILE *out, struct nrm_error *err)
{
	struct mig_set set = {0};
	struct mig_set rep = {0};
	char repdir[4096];
	char *rel = NULL;
	struct nrm_error ignored;
	bool locked = false;
	bool rep_current = false;
	int n_applied = 0;
	int rc = NRM_ERR;

	/* Read and check every file before touching the database. */
	snprintf(repdir, sizeof(repdir), "%s/%s", dir, MIG_REPEATABLE_DIR);
	if (mig_scan(dir, false, &set, err) != NRM_OK ||
	    mig_scan(repdir, true, &rep, err) != NRM_OK ||
	    mig_read_released(dir, &rel, err) != NRM_OK)
		goto out;
	if (nrm_ctl_exec(conn,
		"SET client_min_messages = warning; "
		"SET statement_timeout = 0; SET lock_timeout = 0",
		err, "configure session") != NRM_OK)
		goto out;
	nrm_debug("waiting for the migration lock");
	if (nrm_ctl_exec(conn, MIG_LOCK_SQL, err, "take migration lock") !=
	    NRM_OK)
		goto out;
	locked = true;
	mig_warn_owner(conn);
	if (nrm_ctl_exec(conn, mig_bootstrap_sql, err,
		"create nrm.schema_version") != NRM_OK)
		goto out;
	if (mig_check_applied(conn, &set, rel, &n_applied, err) != NRM_OK ||
	    mig_repeatable_current(conn, &rep, &rep_current, err) != NRM_OK)
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
		if (mig_apply(conn, f, last ? &rep : NULL, err) != NRM_OK)
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
		nrm_ctl_rollback(conn);
		if (nrm_ctl_exec(conn, MIG_UNLOCK_SQL, &ignored,
			"release the migration lock") != NRM_OK)
			nrm_warn("could not release the migration lock");
	}
	free(rel);
	mig_set_free(&rep);
	mig_set_free(&set);
	return rc;
}
