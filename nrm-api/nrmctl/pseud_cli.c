/*
 * pseud_cli.c - nrmctl keys pseudonyms: re-key every subject's pseudonym
 * under the current pseudonym key (issue 15, docs/operations.md
 * "Rotating the pseudonym key").  The names and birth date are opened
 * with the KEK (they are stored sealed), normalised as nrmd does
 * (nrm_signal_pseudonym_input) and HMAC'd; the previous key's pseudonym
 * (pseudonym_prev) is cleared.  Batches as kek_cli.h describes.
 */
#include "kek_cli.h"
#include "crypto.h"
#include "ctl_db.h"

#include "nrm/signal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define PS_AAD_MAX 160

const char nrm_ctl_usage_keys_pseudonyms[] =
    "usage: nrmctl keys pseudonyms --pseudonym-key FILE --kek FILE\n"
    "                              [--old-keks FILES] [--batch N]\n"
    "                              [--pause-ms MS]\n"
    "\n"
    "Re-key the pseudonym of every subject under the pseudonym key FILE\n"
    "(nrmd's new pseudonym_key_file), opening its sealed names and birth\n"
    "date with the KEK, and clear the pseudonyms under the previous key\n"
    "that nrmd stored beside new ones while it held pseudonym_key_old_file.\n"
    "In batches of N subjects, one transaction each, with a progress line;\n"
    "interrupted, run it again.  A subject whose data key was destroyed\n"
    "(erased) loses its pseudonym: it could no longer be re-keyed.\n"
    "Refused while rows stored in plaintext are left (nrmctl data\n"
    "encrypt first).\n"
    "\n"
    "options:\n"
    "  --pseudonym-key FILE  the new pseudonym key (64 hex characters)\n"
    "  --kek FILE            nrmd's data_kek_file\n"
    "  --old-keks FILES      nrmd's data_kek_old_files\n"
    "  --batch N             subjects per transaction (default 500)\n"
    "  --pause-ms MS         pause between batches (default 0)\n";

/* Open column `col` of signal `sig` (base64 in v, NULL: none). */
static char *
ps_open(const struct nrm_data_key *dk, const char *col, const char *sig,
    const char *v, bool *bad)
{
	char aad[PS_AAD_MAX];
	enum nrm_fc_result r;
	char *out;

	if (v == NULL)
		return NULL;
	snprintf(aad, sizeof(aad), "care.subject/%s/%s", col, sig);
	out = nrm_field_open_b64(dk, aad, v, &r);
	if (out == NULL)
		*bad = true;
	return out;
}

static const char *
ps_val(const PGresult *res, int i, int c)
{
	return PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c);
}

/*
 * The new pseudonym of row i (signal, data key id, kek id, wrapped,
 * given, family, birth date) into out[32]: NRM_OK, or NRM_ERR when it
 * cannot be made (*gone when the data key is destroyed or the subject
 * holds no family name or birth date).
 */
static int
ps_make(const struct nrm_kek_set *set, const struct nrm_kek *pk,
    const PGresult *res, int i, unsigned char out[32], bool *gone,
    struct nrm_error *err)
{
	const char *sig = PQgetvalue(res, i, 0);
	unsigned char raw[NRM_FC_KEY_ID_LEN], *w;
	struct nrm_data_key dk;
	struct nrm_signal s;
	char *bd = NULL, pin[1024];
	size_t n, pin_len;
	bool bad = false;
	int rc = NRM_ERR;

	*gone = false;
	memset(&s, 0, sizeof(s));
	memset(&dk, 0, sizeof(dk));
	if (ps_val(res, i, 1) == NULL || ps_val(res, i, 3) == NULL) {
		*gone = true;
		return NRM_OK;
	}
	w = nrm_b64_decode(PQgetvalue(res, i, 3), &n);
	if (w == NULL ||
	    nrm_fc_uuid_parse(PQgetvalue(res, i, 1), raw) != NRM_OK ||
	    nrm_kek_set_unwrap(set, PQgetvalue(res, i, 2), raw, w, n, &dk) !=
		NRM_FC_OK) {
		free(w);
		return nrm_error_set(err, NRM_E_VALIDATION, "kek",
		    "could not open the data key of subject %s (KEK %s)", sig,
		    PQgetvalue(res, i, 2));
	}
	free(w);
	s.subject.given_name =
	    ps_open(&dk, "given_name", sig, ps_val(res, i, 4), &bad);
	s.subject.family_name =
	    ps_open(&dk, "family_name", sig, ps_val(res, i, 5), &bad);
	bd = ps_open(&dk, "birth_date", sig, ps_val(res, i, 6), &bad);
	if (bad) {
		nrm_error_set(err, NRM_E_INTERNAL, "",
		    "could not open the names of subject %s", sig);
		goto out;
	}
	s.subject.has_birth_date = bd != NULL &&
	    sscanf(bd, "%4d-%2d-%2d", &s.subject.birth_date.year,
		&s.subject.birth_date.month, &s.subject.birth_date.day) == 3;
	pin_len = nrm_signal_pseudonym_input(&s, pin, sizeof(pin));
	if (pin_len == 0) {
		*gone = true;
		rc = NRM_OK;
		goto out;
	}
	rc = nrm_hmac_sha256(pk->key, sizeof(pk->key), pin, pin_len, out);
	if (rc != NRM_OK)
		nrm_error_set(err, NRM_E_INTERNAL, "", "could not hash");
out:
	OPENSSL_cleanse(pin, sizeof(pin));
	if (s.subject.given_name != NULL)
		OPENSSL_cleanse(
		    s.subject.given_name, strlen(s.subject.given_name));
	if (s.subject.family_name != NULL)
		OPENSSL_cleanse(
		    s.subject.family_name, strlen(s.subject.family_name));
	free(s.subject.given_name);
	free(s.subject.family_name);
	free(bd);
	nrm_data_key_clear(&dk);
	return rc;
}

/* Re-key row i of a batch. */
static int
ps_one(PGconn *conn, const struct nrm_kek_set *set, const struct nrm_kek *pk,
    const PGresult *res, int i, struct nrm_error *err)
{
	unsigned char p[32];
	char hex[65];
	const char *v[3] = {PQgetvalue(res, i, 0), pk->id_hex, hex};
	bool gone;

	if (ps_val(res, i, 7) != NULL &&
	    strcmp(PQgetvalue(res, i, 7), pk->id_hex) == 0)
		return nrm_ctl_query(conn,
		    "UPDATE care.subject SET pseudonym_prev = NULL "
		    "WHERE signal_id = $1",
		    1, v, -1, NULL, err, "clear a previous pseudonym");
	if (ps_make(set, pk, res, i, p, &gone, err) != NRM_OK)
		return NRM_ERR;
	if (gone)
		return nrm_ctl_query(conn,
		    "UPDATE care.subject SET pseudonym = NULL, "
		    "pseudonym_prev = NULL, pseudonym_key_id = NULL "
		    "WHERE signal_id = $1",
		    1, v, -1, NULL, err, "drop a pseudonym");
	nrm_hex(p, sizeof(p), hex);
	return nrm_ctl_query(conn,
	    "UPDATE care.subject SET pseudonym = decode($3, 'hex'), "
	    "pseudonym_key_id = $2, pseudonym_prev = NULL "
	    "WHERE signal_id = $1",
	    3, v, -1, NULL, err, "store a pseudonym");
}

#define PS_WHERE \
	"sub.pseudonym IS NOT NULL AND (sub.pseudonym_key_id IS DISTINCT " \
	"FROM $1 OR sub.pseudonym_prev IS NOT NULL)"

int
nrm_ctl_keys_pseudonyms_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	struct nrm_kek_set set;
	struct nrm_kek pk;
	char why[160], lim[16];
	const char *p[2] = {NULL, lim};
	PGresult *res;
	long total, done = 0;
	int n, rc = NRM_ERR;

	memset(&pk, 0, sizeof(pk));
	if (nrm_ctl_load_keks(a, &set, err) != NRM_OK)
		return NRM_ERR;
	if (nrm_kek_load(&pk, a->pseudonym_key, why, sizeof(why)) != NRM_OK) {
		nrm_error_set(err, NRM_E_VALIDATION, "pseudonym-key",
		    "could not load %s: %s", a->pseudonym_key, why);
		goto out;
	}
	p[0] = pk.id_hex;
	snprintf(lim, sizeof(lim), "%d", nrm_ctl_batch(a));
	if (nrm_ctl_query(conn,
		"SELECT (care.plaintext_left()->>'subjects')::bigint, "
		"(SELECT count(*) FROM care.subject sub WHERE " PS_WHERE ")",
		1, p, 1, &res, err, "count the subjects") != NRM_OK)
		goto out;
	if (atol(PQgetvalue(res, 0, 0)) > 0) {
		PQclear(res);
		nrm_error_set(err, NRM_E_CONFLICT, "",
		    "could not re-key: subjects stored in plaintext are "
		    "left (run nrmctl data encrypt first)");
		goto out;
	}
	total = atol(PQgetvalue(res, 0, 1));
	PQclear(res);
	fprintf(stderr, "keys pseudonyms: %ld subjects to re-key under %s\n",
	    total, pk.id_hex);
	for (;;) {
		if (nrm_ctl_begin(conn, err, "begin a batch") != NRM_OK)
			goto out;
		if (nrm_ctl_query(conn,
			"SELECT sub.signal_id, k.id, k.kek_id, "
			"care.b64(k.wrapped), care.b64(sub.given_name_ct), "
			"care.b64(sub.family_name_ct), "
			"care.b64(sub.birth_date_ct), sub.pseudonym_key_id "
			"FROM care.subject sub LEFT JOIN care.data_key k "
			"ON k.id = sub.data_key_id WHERE " PS_WHERE
			" ORDER BY sub.signal_id LIMIT $2 "
			"FOR UPDATE OF sub SKIP LOCKED",
			2, p, -1, &res, err, "read a batch") != NRM_OK)
			goto fail;
		n = PQntuples(res);
		for (int i = 0; i < n; i++)
			if (ps_one(conn, &set, &pk, res, i, err) != NRM_OK) {
				PQclear(res);
				goto fail;
			}
		PQclear(res);
		if (nrm_ctl_commit(conn, err, "commit a batch") != NRM_OK)
			goto fail;
		if (n == 0)
			break;
		done += n;
		fprintf(stderr, "keys pseudonyms: %ld of %ld re-keyed\n", done,
		    total > done ? total : done);
		nrm_ctl_pause(a);
	}
	printf("every pseudonym is under %s\n", pk.id_hex);
	rc = NRM_OK;
	goto out;
fail:
	nrm_ctl_rollback(conn);
out:
	nrm_kek_clear(&pk);
	nrm_kek_set_clear(&set);
	return rc;
}
