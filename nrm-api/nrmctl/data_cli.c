/*
 * data_cli.c - nrmctl data encrypt: seal the personal data stored in
 * plaintext before 0017 and key the idempotency hashes stored before
 * 0020 (see kek_cli.h, docs/data-protection.md "Rows from before").
 */
#include "kek_cli.h"
#include "crypto.h"
#include "ctl_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define DATA_AAD_MAX 160
#define DATA_SUBJECT_COLS 6

const char nrm_ctl_usage_data[] =
    "usage: nrmctl data encrypt --kek FILE [--old-keks FILES]\n"
    "                           [--pseudonym-key FILE] [--batch N]\n"
    "                           [--pause-ms MS]\n";

const char nrm_ctl_usage_data_encrypt[] =
    "usage: nrmctl data encrypt --kek FILE [--old-keks FILES]\n"
    "                           [--pseudonym-key FILE] [--batch N]\n"
    "                           [--pause-ms MS]\n"
    "\n"
    "Seal the personal data stored in plaintext before migration 0017\n"
    "(subjects, reporters' references, identification rationales) and\n"
    "0025 (investigation records' police and prosecution references) as\n"
    "nrmd seals new data: a data key per signal (per record) wrapped by\n"
    "the current KEK, AES-256-GCM bound to table, column and row; the\n"
    "plaintext\n"
    "columns are cleared.  With --pseudonym-key (nrmd's\n"
    "pseudonym_key_file), also key the idempotency hashes stored before\n"
    "0020.  In batches of N rows, one transaction each, with a progress\n"
    "line on stderr; run it again after an interruption, it goes on with\n"
    "what is left (and does nothing once nothing is).  nrmd warns at\n"
    "start-up while rows are left.\n"
    "\n"
    "options:\n"
    "  --kek FILE            nrmd's data_kek_file (the current KEK)\n"
    "  --old-keks FILES      nrmd's data_kek_old_files\n"
    "  --pseudonym-key FILE  nrmd's pseudonym_key_file\n"
    "  --batch N             rows per transaction (1..10000, default 500)\n"
    "  --pause-ms MS         pause between batches (0..60000, default 0)\n"
    "  --pkcs11-uri URI, --pkcs11-pin-file FILE, --pkcs11-module LIB\n"
    "                        nrmd's data_kek_pkcs11_* keys\n";

static const char *const data_subject_cols[DATA_SUBJECT_COLS] = {
    "given_name", "family_name", "birth_date", "phone", "address", "narrative"};

/* base64 of `text` sealed under dk with AAD table/col/row (NULL: none). */
static int
data_seal(const struct nrm_data_key *dk, const char *table, const char *col,
    const char *row, const char *text, char **out)
{
	char aad[DATA_AAD_MAX];

	*out = NULL;
	if (text == NULL)
		return NRM_OK;
	snprintf(aad, sizeof(aad), "%s/%s/%s", table, col, row);
	*out = nrm_field_seal_b64(dk, aad, text);
	return *out != NULL ? NRM_OK : NRM_ERR;
}

/* A new data key of a signal (care.data_key) or of an investigation
 * record (invest.data_key): $1 id, $2 the row, $3 KEK id, $4 wrapped. */
#define DATA_KEY_CARE \
	"INSERT INTO care.data_key (id, signal_id, kek_id, wrapped) " \
	"VALUES ($1, $2, $3, decode($4, 'base64'))"
#define DATA_KEY_INVEST \
	"INSERT INTO invest.data_key (id, record_id, kek_id, wrapped) " \
	"VALUES ($1, $2, $3, decode($4, 'base64'))"

/*
 * The data key of row `sig` (a signal, or an investigation record with
 * insert_sql DATA_KEY_INVEST): its own (unwrapped from kek_id/wrapped
 * when it has one), or a new one stored now by insert_sql.
 */
static int
data_key_of(PGconn *conn, const struct nrm_kek_set *set, const char *insert_sql,
    const char *sig, const char *key_id, const char *kek_id,
    const char *wrapped, struct nrm_data_key *dk, struct nrm_error *err)
{
	const struct nrm_kek *cur = nrm_kek_set_current(set);
	unsigned char raw[NRM_FC_KEY_ID_LEN], w[NRM_FC_WRAPPED_LEN];
	char id[NRM_FC_UUID_STR];
	unsigned char *old;
	const char *p[4];
	size_t n;
	char *b64;
	int rc;

	if (key_id != NULL && wrapped != NULL) {
		old = nrm_b64_decode(wrapped, &n);
		if (old == NULL || nrm_fc_uuid_parse(key_id, raw) != NRM_OK ||
		    nrm_kek_set_unwrap(set, kek_id, raw, old, n, dk) !=
			NRM_FC_OK) {
			free(old);
			return nrm_error_set(err, NRM_E_VALIDATION, "old-keks",
			    "could not open data key %s (KEK %s)", key_id,
			    kek_id);
		}
		free(old);
		return NRM_OK;
	}
	if (nrm_data_key_new(dk) != NRM_OK ||
	    nrm_data_key_wrap(cur, dk, w) != NRM_OK ||
	    (b64 = nrm_b64_encode(w, sizeof(w))) == NULL)
		return nrm_error_set(
		    err, NRM_E_INTERNAL, "", "could not make a data key");
	nrm_fc_uuid_str(dk->id, id);
	p[0] = id;
	p[1] = sig;
	p[2] = cur->id_hex;
	p[3] = b64;
	rc = nrm_ctl_query(conn, insert_sql, 4, p, -1, NULL, err,
	    "store a data key of %s", sig);
	free(b64);
	return rc;
}

static const char *
data_val(const PGresult *res, int i, int c)
{
	return PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c);
}

/* Seal one signal's row (res columns: see data_signals). */
static int
data_signal_one(PGconn *conn, const struct nrm_kek_set *set,
    const PGresult *res, int i, struct nrm_error *err)
{
	const char *sig = PQgetvalue(res, i, 0);
	char *ct[1 + DATA_SUBJECT_COLS] = {NULL};
	const char *p[2 + DATA_SUBJECT_COLS];
	struct nrm_data_key dk;
	char key[NRM_FC_UUID_STR];
	int rc = NRM_ERR;

	memset(&dk, 0, sizeof(dk));
	if (data_key_of(conn, set, DATA_KEY_CARE, sig, data_val(res, i, 1),
		data_val(res, i, 2), data_val(res, i, 3), &dk, err) != NRM_OK)
		goto out;
	nrm_fc_uuid_str(dk.id, key);
	if (data_seal(&dk, "intake.signal", "reporter_reference", sig,
		data_val(res, i, 4), &ct[0]) != NRM_OK)
		goto seal_failed;
	for (int c = 0; c < DATA_SUBJECT_COLS; c++)
		if (data_seal(&dk, "care.subject", data_subject_cols[c], sig,
			data_val(res, i, 5 + c), &ct[1 + c]) != NRM_OK)
			goto seal_failed;
	p[0] = sig;
	p[1] = key;
	p[2] = ct[0];
	if (nrm_ctl_query(conn,
		"UPDATE intake.signal SET data_key_id = $2, "
		"reporter_reference_ct = COALESCE(decode($3, 'base64'), "
		"reporter_reference_ct), reporter_reference = NULL "
		"WHERE id = $1",
		3, p, -1, NULL, err, "seal signal %s", sig) != NRM_OK)
		goto out;
	for (int c = 0; c < DATA_SUBJECT_COLS; c++)
		p[2 + c] = ct[1 + c];
	if (nrm_ctl_query(conn,
		"UPDATE care.subject SET data_key_id = $2, "
		"given_name_ct = COALESCE(decode($3, 'base64'), "
		"given_name_ct), "
		"family_name_ct = COALESCE(decode($4, 'base64'), "
		"family_name_ct), "
		"birth_date_ct = COALESCE(decode($5, 'base64'), "
		"birth_date_ct), "
		"phone_ct = COALESCE(decode($6, 'base64'), phone_ct), "
		"address_ct = COALESCE(decode($7, 'base64'), address_ct), "
		"narrative_ct = COALESCE(decode($8, 'base64'), narrative_ct), "
		"given_name = NULL, family_name = NULL, birth_date = NULL, "
		"phone = NULL, address = NULL, narrative = NULL "
		"WHERE signal_id = $1",
		2 + DATA_SUBJECT_COLS, p, -1, NULL, err,
		"seal the subject of signal %s", sig) != NRM_OK)
		goto out;
	rc = NRM_OK;
	goto out;
seal_failed:
	nrm_error_set(err, NRM_E_INTERNAL, "", "could not seal signal %s", sig);
out:
	for (size_t c = 0; c < NRM_ARRAY_LEN(ct); c++)
		free(ct[c]);
	nrm_data_key_clear(&dk);
	return rc;
}

/* Seal one identification entry (id, its case's signal, rationale). */
static int
data_decision_one(PGconn *conn, const struct nrm_kek_set *set,
    const PGresult *res, int i, struct nrm_error *err)
{
	const char *id = PQgetvalue(res, i, 0), *sig = PQgetvalue(res, i, 1);
	struct nrm_data_key dk;
	char key[NRM_FC_UUID_STR];
	char *ct = NULL;
	const char *p[3];
	int rc = NRM_ERR;

	memset(&dk, 0, sizeof(dk));
	/* an entry's own data key, of its case's signal (0017) */
	if (data_key_of(conn, set, DATA_KEY_CARE, sig, NULL, NULL, NULL, &dk,
		err) != NRM_OK)
		goto out;
	if (data_seal(&dk, "ident.decision", "rationale", id,
		PQgetvalue(res, i, 2), &ct) != NRM_OK) {
		nrm_error_set(
		    err, NRM_E_INTERNAL, "", "could not seal entry %s", id);
		goto out;
	}
	nrm_fc_uuid_str(dk.id, key);
	p[0] = id;
	p[1] = key;
	p[2] = ct;
	rc = nrm_ctl_query(conn,
	    "UPDATE ident.decision SET data_key_id = $2, "
	    "rationale_ct = decode($3, 'base64'), rationale = NULL "
	    "WHERE id = $1",
	    3, p, -1, NULL, err, "seal entry %s", id);
out:
	free(ct);
	nrm_data_key_clear(&dk);
	return rc;
}

/* Seal one investigation record's references (res columns: see the
 * "investigation references" pass). */
static int
data_invest_one(PGconn *conn, const struct nrm_kek_set *set,
    const PGresult *res, int i, struct nrm_error *err)
{
	const char *id = PQgetvalue(res, i, 0);
	struct nrm_data_key dk;
	char key[NRM_FC_UUID_STR];
	char *ct[2] = {NULL, NULL};
	const char *p[4];
	int rc = NRM_ERR;

	memset(&dk, 0, sizeof(dk));
	if (data_key_of(conn, set, DATA_KEY_INVEST, id, data_val(res, i, 1),
		data_val(res, i, 2), data_val(res, i, 3), &dk, err) != NRM_OK)
		goto out;
	if (data_seal(&dk, "invest.record", "police_reference", id,
		data_val(res, i, 4), &ct[0]) != NRM_OK ||
	    data_seal(&dk, "invest.record", "prosecution_reference", id,
		data_val(res, i, 5), &ct[1]) != NRM_OK) {
		nrm_error_set(err, NRM_E_INTERNAL, "",
		    "could not seal investigation record %s", id);
		goto out;
	}
	nrm_fc_uuid_str(dk.id, key);
	p[0] = id;
	p[1] = key;
	p[2] = ct[0];
	p[3] = ct[1];
	rc = nrm_ctl_query(conn,
	    "UPDATE invest.record SET data_key_id = $2, "
	    "police_reference_ct = COALESCE(decode($3, 'base64'), "
	    "police_reference_ct), "
	    "prosecution_reference_ct = COALESCE(decode($4, 'base64'), "
	    "prosecution_reference_ct), "
	    "police_reference = NULL, prosecution_reference = NULL "
	    "WHERE id = $1",
	    4, p, -1, NULL, err, "seal investigation record %s", id);
out:
	free(ct[0]);
	free(ct[1]);
	nrm_data_key_clear(&dk);
	return rc;
}

/* Key one idempotency row (api_key_id, idem_key, hex request_hash). */
static int
data_idem_one(PGconn *conn, const unsigned char *idem_key, const PGresult *res,
    int i, struct nrm_error *err)
{
	unsigned char plain[32], keyed[32];
	char hex[65];
	const char *p[3] = {PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), hex};

	if (strlen(PQgetvalue(res, i, 2)) != 64 ||
	    nrm_unhex(PQgetvalue(res, i, 2), 64, plain) != NRM_OK ||
	    nrm_hmac_sha256(idem_key, 32, plain, sizeof(plain), keyed) !=
		NRM_OK)
		return nrm_error_set(
		    err, NRM_E_INTERNAL, "", "could not key a request hash");
	nrm_hex(keyed, sizeof(keyed), hex);
	return nrm_ctl_query(conn,
	    "UPDATE intake.idempotency SET request_hash = decode($3, 'hex'), "
	    "request_keyed = true "
	    "WHERE api_key_id = $1 AND idem_key = $2 AND NOT request_keyed",
	    3, p, -1, NULL, err, "key a request hash");
}

/* One kind of row to seal: its batch query and what one row takes. */
struct data_pass {
	const char *name; /* in progress lines */
	const char *count_sql;
	const char *batch_sql; /* $1: the batch size */
	int kind; /* 0 signal, 1 decision, 2 idempotency, 3 investigation */
};

static const struct data_pass data_passes[] = {
    {"signals",
	"SELECT count(*) FROM intake.signal s "
	"LEFT JOIN care.subject sub ON sub.signal_id = s.id "
	"WHERE s.reporter_reference IS NOT NULL OR num_nonnulls("
	"sub.given_name, sub.family_name, sub.birth_date, sub.phone, "
	"sub.address, sub.narrative) > 0",
	"SELECT s.id, s.data_key_id, k.kek_id, care.b64(k.wrapped), "
	"s.reporter_reference, sub.given_name, sub.family_name, "
	"to_char(sub.birth_date, 'YYYY-MM-DD'), sub.phone, sub.address, "
	"sub.narrative FROM intake.signal s "
	"LEFT JOIN care.subject sub ON sub.signal_id = s.id "
	"LEFT JOIN care.data_key k ON k.id = s.data_key_id "
	"WHERE s.reporter_reference IS NOT NULL OR num_nonnulls("
	"sub.given_name, sub.family_name, sub.birth_date, sub.phone, "
	"sub.address, sub.narrative) > 0 "
	"ORDER BY s.id LIMIT $1 FOR UPDATE OF s SKIP LOCKED",
	0},
    {"rationales",
	"SELECT count(*) FROM ident.decision WHERE rationale IS NOT NULL",
	"SELECT d.id, c.signal_id, d.rationale FROM ident.decision d "
	"JOIN care.\"case\" c ON c.id = d.case_id "
	"WHERE d.rationale IS NOT NULL ORDER BY d.id LIMIT $1 "
	"FOR UPDATE OF d SKIP LOCKED",
	1},
    {"investigation references",
	"SELECT count(*) FROM invest.record "
	"WHERE num_nonnulls(police_reference, prosecution_reference) > 0",
	"SELECT r.id, r.data_key_id, k.kek_id, care.b64(k.wrapped), "
	"r.police_reference, r.prosecution_reference FROM invest.record r "
	"LEFT JOIN invest.data_key k ON k.id = r.data_key_id "
	"WHERE num_nonnulls(r.police_reference, r.prosecution_reference) > 0 "
	"ORDER BY r.id LIMIT $1 FOR UPDATE OF r SKIP LOCKED",
	3},
    {"idempotency hashes",
	"SELECT count(*) FROM intake.idempotency WHERE NOT request_keyed",
	"SELECT api_key_id, idem_key, encode(request_hash, 'hex') "
	"FROM intake.idempotency WHERE NOT request_keyed "
	"ORDER BY api_key_id, idem_key LIMIT $1 FOR UPDATE SKIP LOCKED",
	2},
};

/* Run one pass to its end; returns NRM_OK or NRM_ERR. */
static int
data_pass_run(PGconn *conn, const struct nrm_ctl_args *a,
    const struct data_pass *ps, const struct nrm_kek_set *set,
    const unsigned char *idem_key, struct nrm_error *err)
{
	char lim[16];
	const char *p[1] = {lim};
	PGresult *res;
	long total, done = 0;
	int n, rc;

	snprintf(lim, sizeof(lim), "%d", nrm_ctl_batch(a));
	if (nrm_ctl_query(conn, ps->count_sql, 0, NULL, 1, &res, err,
		"count the %s", ps->name) != NRM_OK)
		return NRM_ERR;
	total = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	fprintf(stderr, "data encrypt: %ld %s to do\n", total, ps->name);
	for (;;) {
		if (nrm_ctl_begin(conn, err, "begin a batch") != NRM_OK)
			return NRM_ERR;
		if (nrm_ctl_query(conn, ps->batch_sql, 1, p, -1, &res, err,
			"read a batch of %s", ps->name) != NRM_OK)
			goto fail;
		n = PQntuples(res);
		rc = NRM_OK;
		for (int i = 0; i < n && rc == NRM_OK; i++)
			rc = ps->kind == 0
			    ? data_signal_one(conn, set, res, i, err)
			    : ps->kind == 1
			    ? data_decision_one(conn, set, res, i, err)
			    : ps->kind == 3
			    ? data_invest_one(conn, set, res, i, err)
			    : data_idem_one(conn, idem_key, res, i, err);
		PQclear(res);
		if (rc != NRM_OK ||
		    nrm_ctl_commit(conn, err, "commit a batch") != NRM_OK)
			goto fail;
		if (n == 0)
			return NRM_OK;
		done += n;
		fprintf(stderr, "data encrypt: %ld of %ld %s done\n", done,
		    total > done ? total : done, ps->name);
		nrm_ctl_pause(a);
	}
fail:
	nrm_ctl_rollback(conn);
	return NRM_ERR;
}

int
nrm_ctl_data_encrypt_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	struct nrm_kek_set set;
	struct nrm_kek pk;
	unsigned char idem_key[32];
	char why[160];
	PGresult *res;
	int rc = NRM_ERR;

	memset(&pk, 0, sizeof(pk));
	if (nrm_ctl_load_keks(a, &set, err) != NRM_OK)
		return NRM_ERR;
	if (a->pseudonym_key != NULL) {
		/* the pseudonym key file has the KEK file's shape */
		if (nrm_kek_load(&pk, a->pseudonym_key, why, sizeof(why)) !=
		    NRM_OK) {
			nrm_error_set(err, NRM_E_VALIDATION, "pseudonym-key",
			    "could not load %s: %s", a->pseudonym_key, why);
			goto out;
		}
		if (nrm_hkdf_sha256(pk.key, sizeof(pk.key),
			"nrm idempotency v1", idem_key,
			sizeof(idem_key)) != NRM_OK) {
			nrm_error_set(err, NRM_E_INTERNAL, "",
			    "could not derive the idempotency key");
			goto out;
		}
	}
	for (size_t i = 0; i < NRM_ARRAY_LEN(data_passes); i++) {
		if (data_passes[i].kind == 2 && a->pseudonym_key == NULL)
			continue;
		if (data_pass_run(conn, a, &data_passes[i], &set, idem_key,
			err) != NRM_OK)
			goto out;
	}
	if (nrm_ctl_query(conn, "SELECT care.plaintext_left()::text", 0, NULL,
		1, &res, err, "count what is left") != NRM_OK)
		goto out;
	printf("plaintext left: %s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	rc = NRM_OK;
out:
	OPENSSL_cleanse(idem_key, sizeof(idem_key));
	nrm_kek_clear(&pk);
	nrm_kek_set_clear(&set);
	return rc;
}
