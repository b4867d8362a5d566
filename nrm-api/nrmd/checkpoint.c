/*
 * checkpoint.c - signed checkpoints of the audit chain (see
 * checkpoint.h).
 */
#include "checkpoint.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "nrm/timefmt.h"

struct nrm_checkpoints {
	EVP_PKEY *key;
	char *path;
	int fd;
	cJSON *list; /* array of checkpoint objects */
	int64_t last_pos;
	char last_hash[65];
};

size_t
nrm_checkpoint_message(
    int64_t pos, const char *hash_hex, const char *at, char *buf, size_t n)
{
	int len = snprintf(buf, n, "nrm-audit-checkpoint\n%lld\n%s\n%s",
	    (long long)pos, hash_hex, at);

	return len < 0 ? 0 : (size_t)len;
}

static int
cp_load_file(struct nrm_checkpoints *cp, struct nrm_error *err)
{
	char *text = NULL, *line, *next;
	size_t len;

	if (access(cp->path, F_OK) != 0)
		return NRM_OK;
	if (nrm_read_file(cp->path, 64 << 20, &text, &len,
		"audit_checkpoint_file", err) != NRM_OK)
		return NRM_ERR;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		cJSON *o;
		const cJSON *pos, *hash;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (*line == '\0')
			continue;
		o = cJSON_Parse(line);
		pos = cJSON_GetObjectItemCaseSensitive(o, "pos");
		hash = cJSON_GetObjectItemCaseSensitive(o, "hash");
		if (!cJSON_IsNumber(pos) || !cJSON_IsString(hash)) {
			cJSON_Delete(o);
			free(text);
			return nrm_error_set(err, NRM_E_VALIDATION,
			    "audit_checkpoint_file",
			    "%s holds a line that is not a checkpoint",
			    cp->path);
		}
		cp->last_pos = (int64_t)pos->valuedouble;
		snprintf(cp->last_hash, sizeof(cp->last_hash), "%s",
		    hash->valuestring);
		cJSON_AddItemToArray(cp->list, o);
	}
	free(text);
	return NRM_OK;
}

int
nrm_checkpoints_open(struct nrm_checkpoints **out, const char *key_file,
    const char *path, struct nrm_error *err)
{
	struct nrm_checkpoints *cp = nrm_xcalloc(1, sizeof(*cp));
	FILE *f;

	*out = NULL;
	cp->fd = -1;
	cp->list = cJSON_CreateArray();
	cp->path = nrm_xstrdup(path);
	f = fopen(key_file, "r");
	if (f == NULL) {
		nrm_error_set(err, NRM_E_VALIDATION, "audit_signing_key_file",
		    "could not open %s: %s", key_file, strerror(errno));
		goto fail;
	}
	cp->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (cp->key == NULL || EVP_PKEY_id(cp->key) != EVP_PKEY_ED25519) {
		nrm_error_set(err, NRM_E_VALIDATION, "audit_signing_key_file",
		    "%s must hold an Ed25519 private key (PEM); make one "
		    "with nrmctl audit keygen",
		    key_file);
		goto fail;
	}
	if (cp_load_file(cp, err) != NRM_OK)
		goto fail;
	cp->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (cp->fd < 0) {
		nrm_error_set(err, NRM_E_VALIDATION, "audit_checkpoint_file",
		    "could not open %s: %s", path, strerror(errno));
		goto fail;
	}
	*out = cp;
	return NRM_OK;
fail:
	nrm_checkpoints_free(cp);
	return NRM_ERR;
}

void
nrm_checkpoints_free(struct nrm_checkpoints *cp)
{
	if (cp == NULL)
		return;
	if (cp->fd >= 0)
		close(cp->fd);
	EVP_PKEY_free(cp->key);
	cJSON_Delete(cp->list);
	free(cp->path);
	free(cp);
}

int
nrm_checkpoints_add(
    struct nrm_checkpoints *cp, int64_t pos, const char *hash_hex, int64_t at)
{
	char ts[40], msg[256], *line = NULL;
	unsigned char sig[64];
	char sig64[128];
	size_t siglen = sizeof(sig), mlen;
	EVP_MD_CTX *ctx = NULL;
	cJSON *o = NULL;
	int rc = NRM_ERR;

	if (pos == cp->last_pos && strcmp(hash_hex, cp->last_hash) == 0)
		return NRM_OK;
	if (nrm_time_format(at, ts, sizeof(ts)) != NRM_OK)
		return NRM_ERR;
	mlen = nrm_checkpoint_message(pos, hash_hex, ts, msg, sizeof(msg));
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, cp->key) != 1 ||
	    EVP_DigestSign(
		ctx, sig, &siglen, (const unsigned char *)msg, mlen) != 1)
		goto out;
	EVP_EncodeBlock((unsigned char *)sig64, sig, (int)siglen);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "pos", (double)pos);
	cJSON_AddStringToObject(o, "hash", hash_hex);
	cJSON_AddStringToObject(o, "at", ts);
	cJSON_AddStringToObject(o, "sig", sig64);
	line = cJSON_PrintUnformatted(o);
	if (line == NULL)
		goto out;
	{
		size_t n = strlen(line);

		line[n] = '\n';
		if (write(cp->fd, line, n + 1) != (ssize_t)(n + 1) ||
		    fdatasync(cp->fd) != 0) {
			nrm_error("could not append an audit checkpoint "
				  "errno=%d",
			    errno);
			goto out;
		}
	}
	cJSON_AddItemToArray(cp->list, o);
	o = NULL;
	cp->last_pos = pos;
	snprintf(cp->last_hash, sizeof(cp->last_hash), "%s", hash_hex);
	rc = NRM_OK;
out:
	free(line);
	cJSON_Delete(o);
	EVP_MD_CTX_free(ctx);
	return rc;
}

char *
nrm_checkpoints_json(const struct nrm_checkpoints *cp)
{
	return cJSON_PrintUnformatted(cp->list);
}

int
nrm_checkpoints_count(const struct nrm_checkpoints *cp)
{
	return cJSON_GetArraySize(cp->list);
}

char *
nrm_checkpoints_public_pem(const struct nrm_checkpoints *cp)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (b == NULL)
		return NULL;
	if (PEM_write_bio_PUBKEY(b, cp->key) == 1) {
		n = BIO_get_mem_data(b, &data);
		out = nrm_xmalloc((size_t)n + 1);
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}
