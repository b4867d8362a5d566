/*
 * kekset.c - the current and the older key-encryption keys (see
 * kekset.h).
 */
#include "kekset.h"
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define KS_PATH_MAX 4096

void
nrm_kek_set_clear(struct nrm_kek_set *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

const struct nrm_kek *
nrm_kek_set_current(const struct nrm_kek_set *s)
{
	return s->n > 0 ? &s->keks[0] : NULL;
}

const struct nrm_kek *
nrm_kek_set_find(const struct nrm_kek_set *s, const char *id_hex)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->keks[i].id_hex, id_hex) == 0)
			return &s->keks[i];
	return NULL;
}

int
nrm_kek_set_add(struct nrm_kek_set *s, const struct nrm_kek *k)
{
	if (s->n >= NRM_KEK_SET_MAX || nrm_kek_set_find(s, k->id_hex) != NULL)
		return NRM_ERR;
	s->keks[s->n++] = *k;
	return NRM_OK;
}

/* A KEK file wrapped by a token key: read it (owner-only), unwrap it. */
static int
ks_load_wrapped(struct nrm_kek *k, const char *path,
    const struct nrm_kek_token *tok, char *why, size_t whysz)
{
	unsigned char buf[NRM_KEK_WRAPPED_MAX + 1], key[NRM_FC_KEY_LEN];
	ssize_t n;
	int rc = NRM_ERR;

	n = nrm_keyfile_read(path, buf, sizeof(buf), why, whysz);
	if (n < 0)
		goto out;
	if (n == 0 || n > NRM_KEK_WRAPPED_MAX) {
		snprintf(why, whysz, "not a wrapped KEK (%zd bytes)", n);
		goto out;
	}
	if (nrm_kek_token_unwrap(tok, buf, (size_t)n, key, why, whysz) !=
	    NRM_OK)
		goto out;
	nrm_kek_set(k, key);
	rc = NRM_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* Load one file into the set; `why` names it. */
static int
ks_load_one(struct nrm_kek_set *s, const char *path,
    const struct nrm_kek_token *tok, char *why, size_t whysz)
{
	struct nrm_kek k;
	char r[200];
	int rc = NRM_ERR;

	memset(&k, 0, sizeof(k));
	if ((nrm_kek_token_on(tok)
		    ? ks_load_wrapped(&k, path, tok, r, sizeof(r))
		    : nrm_kek_load(&k, path, r, sizeof(r))) != NRM_OK) {
		snprintf(why, whysz, "%s: %s", path, r);
		goto out;
	}
	if (s->n >= NRM_KEK_SET_MAX) {
		snprintf(why, whysz, "%s: more than %d key-encryption keys",
		    path, NRM_KEK_SET_MAX);
		goto out;
	}
	if (nrm_kek_set_find(s, k.id_hex) != NULL) {
		snprintf(
		    why, whysz, "%s: key %s is named twice", path, k.id_hex);
		goto out;
	}
	s->keks[s->n++] = k;
	rc = NRM_OK;
out:
	nrm_kek_clear(&k);
	return rc;
}

int
nrm_kek_set_load(struct nrm_kek_set *s, const char *current, const char *old,
    const struct nrm_kek_token *tok, char *why, size_t whysz)
{
	char path[KS_PATH_MAX];
	const char *p = old != NULL ? old : "";
	size_t len;

	memset(s, 0, sizeof(*s));
	if (ks_load_one(s, current, tok, why, whysz) != NRM_OK)
		goto fail;
	while (*p != '\0') {
		len = strcspn(p, ", \t\n");
		if (len == 0) {
			p++;
			continue;
		}
		if (len >= sizeof(path)) {
			snprintf(why, whysz, "a path is too long");
			goto fail;
		}
		memcpy(path, p, len);
		path[len] = '\0';
		p += len;
		if (ks_load_one(s, path, tok, why, whysz) != NRM_OK)
			goto fail;
	}
	return NRM_OK;
fail:
	nrm_kek_set_clear(s);
	return NRM_ERR;
}

enum nrm_fc_result
nrm_kek_set_unwrap(const struct nrm_kek_set *s, const char *kek_id_hex,
    const unsigned char id[NRM_FC_KEY_ID_LEN], const unsigned char *wrapped,
    size_t n, struct nrm_data_key *dk)
{
	const struct nrm_kek *k = nrm_kek_set_find(s, kek_id_hex);

	if (k == NULL)
		return NRM_FC_FAILED;
	return nrm_data_key_unwrap(k, id, wrapped, n, dk);
}

void
nrm_kek_set_ids(const struct nrm_kek_set *s, char *buf, size_t sz)
{
	size_t used = 0;

	if (sz == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < s->n && used < sz; i++) {
		int w = snprintf(buf + used, sz - used, "%s%s", i ? "," : "",
		    s->keks[i].id_hex);

		if (w < 0)
			break;
		used += (size_t)w;
	}
}
