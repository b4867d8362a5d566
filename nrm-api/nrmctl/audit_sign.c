/*
 * audit_sign.c - nrmctl audit keygen and audit checkpoint: make the
 * Ed25519 checkpoint key, sign the chain head (see audit_cli.h).
 */
#include "audit_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int
nrm_audit_checkpoint(
    PGconn *conn, const char *key_path, FILE *out, struct nrm_error *err)
{
	EVP_PKEY *pkey = NULL;
	struct nrm_audit_cp cp;
	char *line = NULL;
	time_t now;
	struct tm tm;
	int rc = NRM_ERR;

	memset(&cp, 0, sizeof(cp));
	pkey = nrm_audit_key_load(key_path, true, "key", err);
	if (pkey == NULL || sign_head(conn, &cp, err) != NRM_OK)
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
	if (line == NULL || fprintf(out, "%s\n", line) < 0 ||
	    fflush(out) != 0) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not write the checkpoint: %s", strerror(errno));
		goto out;
	}
	rc = NRM_OK;
out:
	free(line);
	EVP_PKEY_free(pkey);
	return rc;
}
