/*
 * kek_cli.c - nrmctl keys rotate, retire and status: the key-encryption
 * keys of personal data at rest (see kek_cli.h).
 */
#include "kek_cli.h"
#include "ctl_db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#define KEK_BATCH_DEFAULT 500
#define KEK_SQL_MAX 256
#define KEK_BATCH_MAX 10000
#define KEK_PAUSE_MAX 60000

const char nrm_ctl_usage_keys[] =
    "usage: nrmctl keys rotate --kek FILE --old-keks FILES [--batch N]\n"
    "                          [--pause-ms MS]\n"
    "       nrmctl keys retire KEK_ID\n"
    "       nrmctl keys status\n"
    "       nrmctl keys pseudonyms --pseudonym-key FILE --kek FILE\n"
    "\n"
    "The key-encryption keys (KEKs) of personal data at rest and the\n"
    "pseudonym key.  (API keys are `nrmctl key`.)\n";

const char nrm_ctl_usage_keys_rotate[] =
    "usage: nrmctl keys rotate --kek FILE --old-keks FILES [--batch N]\n"
    "                          [--pause-ms MS] [--pkcs11-uri URI\n"
    "                          --pkcs11-pin-file FILE\n"
    "                          [--pkcs11-module LIB]]\n"
    "\n"
    "Re-wrap every data key (care.data_key, invest.data_key) that an older\n"
    "KEK wraps under the current KEK, in batches of N (one transaction\n"
    "each), printing a progress line to stderr after each.  Interrupted,\n"
    "it is simply run again: it goes on with the keys still wrapped by an\n"
    "older KEK.  First\n"
    "make the new KEK nrmd's data_kek_file and the old ones its\n"
    "data_kek_old_files, and reload nrmd (SIGHUP), so that it wraps new\n"
    "keys under the new KEK and still reads the old ones.  Exits 1 when\n"
    "data keys are left under other KEKs (nrmd not reloaded yet).\n"
    "\n"
    "options:\n"
    "  --kek FILE        the new current KEK (64 hex characters, mode 600)\n"
    "  --old-keks FILES  the older KEKs, comma-separated\n"
    "  --batch N         data keys per transaction (1..10000, default 500)\n"
    "  --pause-ms MS     pause between batches, to spare a busy database\n"
    "                    (0..60000, default 0)\n"
    "  --pkcs11-uri URI, --pkcs11-pin-file FILE, --pkcs11-module LIB\n"
    "                    nrmd's data_kek_pkcs11_* keys: the KEK files are\n"
    "                    wrapped by that token key (docs/security.md)\n";

const char nrm_ctl_usage_keys_retire[] =
    "usage: nrmctl keys retire KEK_ID\n"
    "\n"
    "Record the KEK KEK_ID (16 hex characters, as `keys status` and nrmd's\n"
    "log name it) as retired, once no data key is wrapped by it any more\n"
    "(refused otherwise: run `keys rotate` first).  Then remove its file\n"
    "from data_kek_old_files and reload nrmd; the database refuses any\n"
    "data key wrapped by a retired KEK.  Audited (kek.retire).\n";

const char nrm_ctl_usage_keys_status[] =
    "usage: nrmctl keys status\n"
    "\n"
    "Print the number of live data keys per KEK id and the retired KEKs.\n";

/* The tables of data keys, each of care.data_key's shape (0017, 0025). */
static const char *const kek_tables[] = {"care.data_key", "invest.data_key"};

const char *
nrm_ctl_batch_check(const struct nrm_ctl_args *a)
{
	char *end;
	long v;

	if (a->batch != NULL) {
		errno = 0;
		v = strtol(a->batch, &end, 10);
		if (errno != 0 || *end != '\0' || v < 1 || v > KEK_BATCH_MAX)
			return "--batch must be 1 to 10000";
	}
	if (a->pause_ms != NULL) {
		errno = 0;
		v = strtol(a->pause_ms, &end, 10);
		if (errno != 0 || *end != '\0' || v < 0 || v > KEK_PAUSE_MAX)
			return "--pause-ms must be 0 to 60000";
	}
	return NULL;
}

int
nrm_ctl_batch(const struct nrm_ctl_args *a)
{
	return a->batch != NULL ? atoi(a->batch) : KEK_BATCH_DEFAULT;
}

void
nrm_ctl_pause(const struct nrm_ctl_args *a)
{
	int ms = a->pause_ms != NULL ? atoi(a->pause_ms) : 0;
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
nrm_ctl_load_keks(const struct nrm_ctl_args *a, struct nrm_kek_set *set,
    struct nrm_error *err)
{
	struct nrm_kek_token tok = {
	    a->pkcs11_uri, a->pkcs11_pin_file, a->pkcs11_module};
	char why[200];

	if (nrm_kek_set_load(
		set, a->kek, a->old_keks, &tok, why, sizeof(why)) != NRM_OK)
		return nrm_error_set(err, NRM_E_VALIDATION, "kek",
		    "could not load the key-encryption keys: %s", why);
	return NRM_OK;
}

/* Whether `id` is in care.kek_retired (-1 on error). */
static int
kek_retired(PGconn *conn, const char *id, struct nrm_error *err)
{
	PGresult *res;
	int n;

	if (nrm_ctl_query(conn,
		"SELECT 1 FROM care.kek_retired WHERE kek_id = $1", 1, &id, -1,
		&res, err, "read the retired keys") != NRM_OK)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	return n > 0;
}

/* Data keys wrapped by another KEK than `cur` (-1 on error). */
static long
kek_left(PGconn *conn, const char *cur, struct nrm_error *err)
{
	PGresult *res;
	long n;

	if (nrm_ctl_query(conn,
		"SELECT (SELECT count(*) FROM care.data_key "
		"WHERE wrapped IS NOT NULL AND kek_id <> $1) + "
		"(SELECT count(*) FROM invest.data_key "
		"WHERE wrapped IS NOT NULL AND kek_id <> $1)",
		1, &cur, 1, &res, err, "count the data keys") != NRM_OK)
		return -1;
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* Re-wrap one data key of `table` (row i of res: id, kek_id, base64
 * wrapped). */
static int
kek_rewrap_one(PGconn *conn, const char *table, const struct nrm_kek_set *set,
    const PGresult *res, int i, struct nrm_error *err)
{
	char sql[KEK_SQL_MAX];
	const char *id = PQgetvalue(res, i, 0), *kid = PQgetvalue(res, i, 1);
	const struct nrm_kek *cur = nrm_kek_set_current(set);
	unsigned char raw_id[NRM_FC_KEY_ID_LEN], w[NRM_FC_WRAPPED_LEN];
	struct nrm_data_key dk;
	unsigned char *old;
	char *b64 = NULL;
	const char *p[4];
	size_t n;
	enum nrm_fc_result r;
	int rc = NRM_ERR;

	if (nrm_kek_set_find(set, kid) == NULL)
		return nrm_error_set(err, NRM_E_VALIDATION, "old-keks",
		    "could not re-wrap data key %s: its KEK %s is not among "
		    "--kek and --old-keks",
		    id, kid);
	old = nrm_b64_decode(PQgetvalue(res, i, 2), &n);
	if (nrm_fc_uuid_parse(id, raw_id) != NRM_OK || old == NULL) {
		free(old);
		return nrm_error_set(err, NRM_E_INTERNAL, "",
		    "could not re-wrap data key %s: malformed", id);
	}
	r = nrm_kek_set_unwrap(set, kid, raw_id, old, n, &dk);
	free(old);
	if (r != NRM_FC_OK)
		return nrm_error_set(err, NRM_E_INTERNAL, "",
		    "could not unwrap data key %s with KEK %s: %s", id, kid,
		    nrm_fc_result_name(r));
	if (nrm_data_key_wrap(cur, &dk, w) != NRM_OK ||
	    (b64 = nrm_b64_encode(w, sizeof(w))) == NULL) {
		nrm_error_set(
		    err, NRM_E_INTERNAL, "", "could not wrap data key %s", id);
		goto out;
	}
	p[0] = id;
	p[1] = kid;
	p[2] = cur->id_hex;
	p[3] = b64;
	snprintf(sql, sizeof(sql),
	    "UPDATE %s SET kek_id = $3, wrapped = decode($4, 'base64') "
	    "WHERE id = $1 AND kek_id = $2 AND wrapped IS NOT NULL",
	    table);
	rc = nrm_ctl_query(
	    conn, sql, 4, p, -1, NULL, err, "store data key %s", id);
out:
	nrm_data_key_clear(&dk);
	free(b64);
	return rc;
}

/* One batch of `table`: lock up to `batch` keys, re-wrap, commit.
 * Returns how many (0: nothing left that is not locked), or -1. */
static long
kek_batch(PGconn *conn, const char *table, const struct nrm_kek_set *set,
    int batch, struct nrm_error *err)
{
	const char *cur = nrm_kek_set_current(set)->id_hex;
	char lim[16], sql[KEK_SQL_MAX];
	const char *p[2] = {cur, lim};
	PGresult *res;
	long n;

	snprintf(lim, sizeof(lim), "%d", batch);
	snprintf(sql, sizeof(sql),
	    "SELECT id, kek_id, care.b64(wrapped) FROM %s "
	    "WHERE wrapped IS NOT NULL AND kek_id <> $1 ORDER BY id "
	    "LIMIT $2 FOR UPDATE SKIP LOCKED",
	    table);
	if (nrm_ctl_begin(conn, err, "begin a batch") != NRM_OK)
		return -1;
	if (nrm_ctl_query(conn, sql, 2, p, -1, &res, err,
		"read a batch of data keys") != NRM_OK)
		goto fail;
	n = PQntuples(res);
	for (int i = 0; i < n; i++)
		if (kek_rewrap_one(conn, table, set, res, i, err) != NRM_OK) {
			PQclear(res);
			goto fail;
		}
	PQclear(res);
	if (nrm_ctl_commit(conn, err, "commit a batch") != NRM_OK)
		goto fail;
	return n;
fail:
	nrm_ctl_rollback(conn);
	return -1;
}

int
nrm_ctl_keys_rotate_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	struct nrm_kek_set set;
	const char *cur;
	long total, done = 0, n, left;
	int rc = NRM_ERR, retired;

	if (nrm_ctl_load_keks(a, &set, err) != NRM_OK)
		return NRM_ERR;
	cur = set.keks[0].id_hex;
	retired = kek_retired(conn, cur, err);
	if (retired != 0) {
		if (retired > 0)
			nrm_error_set(err, NRM_E_VALIDATION, "kek",
			    "could not rotate: KEK %s is retired", cur);
		goto out;
	}
	total = kek_left(conn, cur, err);
	if (total < 0)
		goto out;
	fprintf(stderr, "keys rotate: %ld data keys to re-wrap under %s\n",
	    total, cur);
	for (size_t t = 0; t < NRM_ARRAY_LEN(kek_tables); t++)
		for (;;) {
			n = kek_batch(
			    conn, kek_tables[t], &set, nrm_ctl_batch(a), err);
			if (n < 0)
				goto out;
			if (n == 0)
				break;
			done += n;
			fprintf(stderr, "keys rotate: %ld of %ld re-wrapped\n",
			    done, total > done ? total : done);
			nrm_ctl_pause(a);
		}
	left = kek_left(conn, cur, err);
	if (left < 0)
		goto out;
	if (left > 0) {
		fprintf(stderr,
		    "keys rotate: %ld data keys are still wrapped by other "
		    "KEKs (locked, or nrmd still wraps under an old KEK: "
		    "reload it and run this again)\n",
		    left);
		rc = NRM_CTL_EXIT_FAIL;
		goto out;
	}
	printf("every data key is wrapped by %s\n", cur);
	rc = NRM_OK;
out:
	nrm_kek_set_clear(&set);
	return rc;
}

static bool
kek_id_ok(const char *s)
{
	if (strlen(s) != 2 * NRM_FC_KEK_ID_LEN)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int
nrm_ctl_keys_retire_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	const char *id = a->arg;
	PGresult *res;
	long n;

	if (!kek_id_ok(id))
		return nrm_error_set(err, NRM_E_VALIDATION, "kek_id",
		    "could not retire %s: a KEK id is 16 lower-case hex "
		    "characters",
		    id);
	if (nrm_ctl_begin(conn, err, "begin") != NRM_OK)
		return NRM_ERR;
	/* no new key under it while we look: the rows' locks */
	if (nrm_ctl_query(conn,
		"SELECT (SELECT count(*) FROM (SELECT 1 FROM care.data_key "
		"WHERE kek_id = $1 AND wrapped IS NOT NULL FOR UPDATE) k) + "
		"(SELECT count(*) FROM (SELECT 1 FROM invest.data_key "
		"WHERE kek_id = $1 AND wrapped IS NOT NULL FOR UPDATE) k)",
		1, &id, 1, &res, err, "count the data keys of %s",
		id) != NRM_OK)
		goto fail;
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (n > 0) {
		nrm_error_set(err, NRM_E_CONFLICT, "kek_id",
		    "could not retire %s: %ld data keys are still wrapped by "
		    "it (run nrmctl keys rotate first)",
		    id, n);
		goto fail;
	}
	if (nrm_ctl_query(conn,
		"INSERT INTO care.kek_retired (kek_id) VALUES ($1) "
		"ON CONFLICT (kek_id) DO NOTHING",
		1, &id, -1, NULL, err, "retire %s", id) != NRM_OK)
		goto fail;
	if (nrm_ctl_audit_commit(
		conn, "kek.retire", "kek", id, "the retirement", err) != NRM_OK)
		goto fail;
	printf("retired %s\n", id);
	return NRM_OK;
fail:
	nrm_ctl_rollback(conn);
	return NRM_ERR;
}

int
nrm_ctl_keys_status_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	static const char *const head[] = {"kek_id", "data_keys", "retired"};

	NRM_UNUSED(a);
	return nrm_ctl_list(conn, stdout,
	    "SELECT k.kek_id, count(d.id)::text, "
	    "COALESCE(to_char(r.retired_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') "
	    "FROM (SELECT kek_id FROM care.data_key UNION "
	    "SELECT kek_id FROM invest.data_key UNION "
	    "SELECT kek_id FROM care.kek_retired) k "
	    "LEFT JOIN (SELECT id, kek_id FROM care.data_key "
	    "WHERE wrapped IS NOT NULL UNION ALL SELECT id, kek_id "
	    "FROM invest.data_key WHERE wrapped IS NOT NULL) d "
	    "ON d.kek_id = k.kek_id "
	    "LEFT JOIN care.kek_retired r ON r.kek_id = k.kek_id "
	    "GROUP BY k.kek_id, r.retired_at ORDER BY k.kek_id",
	    head, 3, err, "list the KEKs");
}
