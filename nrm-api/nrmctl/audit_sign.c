/*
 * audit_sign.c - nrmctl audit keygen, checkpoint and purge: make the
 * Ed25519 checkpoint key, sign the chain head, purge and sign the
 * retention anchor (see audit_cli.h).
 */
#include "audit_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auditchain.h"
#include "ctl_db.h"

int
nrm_audit_keygen(const char *out_path, FILE *pub_out, struct nrm_error *err)
{
	EVP_PKEY *pkey = NULL;
	FILE *f = NULL;
	int fd = -1;
	int rc = NRM_ERR;

	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not generate an Ed25519 key");
		goto out;
	}
	fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		nrm_error_set(err, NRM_E_VALIDATION, "out",
		    "could not create %s: %s", out_path, strerror(errno));
		goto out;
	}
	/* The umask may have taken bits away, never added: make it 0600. */
	if (fchmod(fd, 0600) != 0) {
		nrm_error_set(err, NRM_E_INTERNAL, "out",
		    "could not chmod %s: %s", out_path, strerror(errno));
		goto out;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, "out",
		    "could not open %s: %s", out_path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0) {
		nrm_error_set(
		    err, NRM_E_INTERNAL, "out", "could not write %s", out_path);
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		nrm_error_set(err, NRM_E_INTERNAL, "out",
		    "could not write %s: %s", out_path, strerror(errno));
		goto out;
	}
	f = NULL;
	if (PEM_write_PUBKEY(pub_out, pkey) != 1 || fflush(pub_out) != 0) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not print the public key");
		goto out;
	}
	rc = NRM_OK;
out:
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	EVP_PKEY_free(pkey);
	return rc;
}

/* The chain head, api.audit_head(), into cp's pos and hash. */
static int
sign_head(PGconn *conn, struct nrm_audit_cp *cp, struct nrm_error *err)
{
	PGresult *res;
	cJSON *head;
	const cJSON *pos, *hash;
	int rc = NRM_OK;

	if (nrm_ctl_query(conn, "SELECT api.audit_head()::text", 0, NULL, 1,
		&res, err, "read the chain head") != NRM_OK)
		return NRM_ERR;
	head = cJSON_Parse(PQgetvalue(res, 0, 0));
	pos = cJSON_GetObjectItemCaseSensitive(head, "pos");
	hash = cJSON_GetObjectItemCaseSensitive(head, "hash");
	if (cJSON_IsNumber(pos) && cJSON_IsString(hash) &&
	    nrm_audit_hash_hex_valid(hash->valuestring)) {
		cp->pos = (int64_t)pos->valuedouble;
		snprintf(cp->hash, sizeof(cp->hash), "%s", hash->valuestring);
	} else {
		rc = nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not read the chain head: unexpected answer");
	}
	cJSON_Delete(head);
	PQclear(res);
	return rc;
}

/*
 * The numbered line's place in cps_path's series: the file opened for
 * appending and locked (*fd), its next seq and prev into *cp.
 */
static int
cp_series_open(const char *cps_path, int *fd, struct nrm_audit_cp *cp,
    struct nrm_error *err)
{
	struct nrm_audit_cps all = {NULL, 0, 0};
	int parts = 0;

	*fd = open(cps_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (*fd < 0)
		return nrm_error_set(err, NRM_E_VALIDATION, "checkpoints",
		    "could not open %s: %s", cps_path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
		return nrm_error_set(err, NRM_E_VALIDATION, "checkpoints",
		    "%s is in use (a running nrmd signs its checkpoints "
		    "itself): one writer per checkpoint file",
		    cps_path);
	if (nrm_audit_cps_tail(cps_path, &all, &parts, &cp->seq, cp->prev,
		"checkpoints", err) != NRM_OK)
		return NRM_ERR;
	nrm_audit_cps_free(&all);
	return NRM_OK;
}

int
nrm_audit_checkpoint(PGconn *conn, const char *key_path, const char *cps_path,
    FILE *out, struct nrm_error *err)
{
	EVP_PKEY *pkey = NULL;
	struct nrm_audit_cp cp;
	char *line = NULL;
	time_t now;
	struct tm tm;
	size_t n;
	int fd = -1, rc = NRM_ERR;

	memset(&cp, 0, sizeof(cp));
	pkey = nrm_audit_key_load(key_path, true, "key", err);
	if (pkey == NULL ||
	    (cps_path != NULL &&
		cp_series_open(cps_path, &fd, &cp, err) != NRM_OK) ||
	    sign_head(conn, &cp, err) != NRM_OK)
		goto out;
	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(cp.at, sizeof(cp.at), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 ||
	    nrm_audit_cp_sign(pkey, &cp) != NRM_OK) {
		nrm_error_set(
		    err, NRM_E_INTERNAL, NULL, "could not sign the checkpoint");
		goto out;
	}
	line = nrm_audit_cp_line(&cp);
	if (line == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL, "out of memory");
		goto out;
	}
	n = strlen(line);
	line[n] = '\n';
	if (fd >= 0 &&
	    (write(fd, line, n + 1) != (ssize_t)(n + 1) || fsync(fd) != 0)) {
		nrm_error_set(err, NRM_E_INTERNAL, "checkpoints",
		    "could not append to %s: %s", cps_path, strerror(errno));
		goto out;
	}
	if (fwrite(line, 1, n + 1, out) != n + 1 || fflush(out) != 0) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not write the checkpoint: %s", strerror(errno));
		goto out;
	}
	rc = NRM_OK;
out:
	if (fd >= 0)
		close(fd);
	free(line);
	EVP_PKEY_free(pkey);
	return rc;
}

/* "now" as the anchor's signed_at: UTC, seconds, RFC 3339. */
static int
sign_now(char *buf, size_t bufsz)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NRM_ERR;
	return NRM_OK;
}

int
nrm_audit_purge(PGconn *conn, const char *before, const char *key_path,
    FILE *out, struct nrm_error *err)
{
	EVP_PKEY *pkey = NULL;
	PGresult *res = NULL;
	cJSON *ans = NULL;
	const cJSON *purged, *pos, *hash;
	char at[NRM_AUDIT_AT_MAX + 1];
	char sig[NRM_AUDIT_SIG_B64_MAX + 1];
	char pos_s[24];
	const char *p[3] = {pos_s, at, sig};
	const char *b[1] = {before};
	int rc = NRM_ERR;

	pkey = nrm_audit_key_load(key_path, true, "key", err);
	if (pkey == NULL ||
	    nrm_ctl_begin(conn, err, "begin the purge") != NRM_OK)
		goto out;
	if (nrm_ctl_query(conn,
		"SELECT audit.purge_before($1::timestamptz)::text", 1, b, 1,
		&res, err, "purge") != NRM_OK)
		goto out;
	ans = cJSON_Parse(PQgetvalue(res, 0, 0));
	purged = cJSON_GetObjectItemCaseSensitive(ans, "purged");
	pos = cJSON_GetObjectItemCaseSensitive(ans, "purged_through_pos");
	hash = cJSON_GetObjectItemCaseSensitive(ans, "anchor_hash");
	if (!cJSON_IsNumber(purged) || !cJSON_IsNumber(pos)) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not purge: unexpected answer");
		goto out;
	}
	/* Something purged: a new anchor, signed before it is committed. */
	if (purged->valuedouble > 0) {
		snprintf(pos_s, sizeof(pos_s), "%" PRId64,
		    (int64_t)pos->valuedouble);
		if (!cJSON_IsString(hash) ||
		    sign_now(at, sizeof(at)) != NRM_OK ||
		    nrm_audit_anchor_sign(pkey, (int64_t)pos->valuedouble,
			hash->valuestring, at, sig) != NRM_OK) {
			nrm_error_set(err, NRM_E_INTERNAL, NULL,
			    "could not sign the retention anchor");
			goto out;
		}
		if (nrm_ctl_query(conn,
			"INSERT INTO audit.anchor_signature "
			"(purged_through_pos, signed_at, sig) "
			"VALUES ($1::bigint, $2, $3)",
			3, p, -1, NULL, err,
			"record the anchor's signature") != NRM_OK)
			goto out;
		cJSON_AddStringToObject(ans, "signed_at", at);
	}
	if (nrm_ctl_commit(conn, err, "commit the purge") != NRM_OK)
		goto out;
	{
		char *text = cJSON_PrintUnformatted(ans);

		if (text != NULL)
			fprintf(out, "%s\n", text);
		free(text);
	}
	fflush(out);
	rc = NRM_OK;
out:
	if (rc != NRM_OK)
		nrm_ctl_rollback(conn);
	cJSON_Delete(ans);
	PQclear(res);
	EVP_PKEY_free(pkey);
	return rc;
}
