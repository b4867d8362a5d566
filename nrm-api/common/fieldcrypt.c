/*
 * fieldcrypt.c - the envelope of personal data at rest: KEK, data keys,
 * sealed values (see fieldcrypt.h and docs/data-protection.md).
 */
#include "fieldcrypt.h"
#include "crypto.h"
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define FC_NONCE 12
#define FC_TAG 16
#define FC_KEK_FILE_MAX 66 /* 64 hex characters and a newline */

const char *
nrm_fc_result_name(enum nrm_fc_result r)
{
	switch (r) {
	case NRM_FC_OK:
		return "ok";
	case NRM_FC_MALFORMED:
		return "malformed";
	case NRM_FC_MISPLACED:
		return "misplaced";
	case NRM_FC_TAMPERED:
		return "tampered";
	case NRM_FC_FAILED:
		break;
	}
	return "failed";
}

void
nrm_kek_set(struct nrm_kek *k, const unsigned char key[NRM_FC_KEY_LEN])
{
	unsigned char h[NRM_SHA256_LEN];

	memcpy(k->key, key, NRM_FC_KEY_LEN);
	nrm_sha256(key, NRM_FC_KEY_LEN, h);
	memcpy(k->id, h, NRM_FC_KEK_ID_LEN);
	nrm_hex(k->id, NRM_FC_KEK_ID_LEN, k->id_hex);
}

void
nrm_kek_clear(struct nrm_kek *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

int
nrm_kek_load(struct nrm_kek *k, const char *path, char *why, size_t whysz)
{
	char buf[FC_KEK_FILE_MAX + 1];
	unsigned char key[NRM_FC_KEY_LEN];
	ssize_t n;
	int rc = NRM_ERR;

	n = nrm_keyfile_read(path, buf, sizeof(buf), why, whysz);
	if (n < 0)
		goto out;
	if (n == 2 * NRM_FC_KEY_LEN + 1 && buf[n - 1] == '\n')
		n--;
	if (n != 2 * NRM_FC_KEY_LEN ||
	    nrm_unhex(buf, 2 * NRM_FC_KEY_LEN, key) != NRM_OK) {
		snprintf(why, whysz,
		    "not 64 hex characters (32 random bytes) and an optional "
		    "newline");
		goto out;
	}
	nrm_kek_set(k, key);
	rc = NRM_OK;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* 16 random bytes with the version and variant bits of a UUID v4. */
static int
fc_uuid_random(unsigned char id[NRM_FC_KEY_ID_LEN])
{
	if (nrm_random_bytes(id, NRM_FC_KEY_ID_LEN) != NRM_OK)
		return NRM_ERR;
	id[6] = (unsigned char)((id[6] & 0x0f) | 0x40);
	id[8] = (unsigned char)((id[8] & 0x3f) | 0x80);
	return NRM_OK;
}

int
nrm_data_key_new(struct nrm_data_key *dk)
{
	if (fc_uuid_random(dk->id) != NRM_OK ||
	    nrm_random_bytes(dk->key, sizeof(dk->key)) != NRM_OK)
		return NRM_ERR;
	return NRM_OK;
}

void
nrm_data_key_clear(struct nrm_data_key *dk)
{
	OPENSSL_cleanse(dk, sizeof(*dk));
}

/*
 * AES-256-GCM of n bytes: encrypt (enc) in -> out and write the tag, or
 * decrypt and verify it.  NRM_FC_TAMPERED when the tag does not verify.
 */
static enum nrm_fc_result
fc_gcm(bool enc, const unsigned char *key, const unsigned char *nonce,
    const void *aad, size_t aadlen, const unsigned char *in, size_t n,
    unsigned char *out, unsigned char *tag)
{
#ifdef NRM_BENCH_NOSEAL
	/*
	 * The bench-noseal build (make bench-seal, docs/data-protection.md
	 * "Cost"): the same byte layout, the text copied as it is and a zero
	 * tag, so that a benchmark can weigh what AES-GCM costs.  Never
	 * installed; its nrmd refuses to start without NRM_BENCH_NOSEAL=1.
	 */
	(void)key;
	(void)nonce;
	(void)aad;
	(void)aadlen;
	if (n > 0)
		memmove(out, in, n);
	if (enc)
		memset(tag, 0, FC_TAG);
	return NRM_FC_OK;
#else
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	enum nrm_fc_result r = NRM_FC_FAILED;
	int len;

	if (ctx == NULL || n > INT32_MAX || aadlen > INT32_MAX)
		goto out;
	if (EVP_CipherInit_ex(
		ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc ? 1 : 0) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1)
		goto out;
	if (n > 0 && EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1)
		goto out;
	if (!enc &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, FC_TAG, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + n, &len) != 1) {
		r = enc ? NRM_FC_FAILED : NRM_FC_TAMPERED;
		goto out;
	}
	if (enc &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, FC_TAG, tag) != 1)
		goto out;
	r = NRM_FC_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
#endif
}

/* "nrm-data-key/<uuid>/<kek id hex>" */
static int
fc_wrap_aad(
    const struct nrm_kek *k, const unsigned char id[16], char *aad, size_t sz)
{
	char u[NRM_FC_UUID_STR];

	nrm_fc_uuid_str(id, u);
	return snprintf(aad, sz, "nrm-data-key/%s/%s", u, k->id_hex);
}

int
nrm_data_key_wrap(const struct nrm_kek *k, const struct nrm_data_key *dk,
    unsigned char out[NRM_FC_WRAPPED_LEN])
{
	char aad[80];
	int alen = fc_wrap_aad(k, dk->id, aad, sizeof(aad));

	if (nrm_random_bytes(out, FC_NONCE) != NRM_OK)
		return NRM_ERR;
	if (fc_gcm(true, k->key, out, aad, (size_t)alen, dk->key,
		NRM_FC_KEY_LEN, out + FC_NONCE,
		out + FC_NONCE + NRM_FC_KEY_LEN) != NRM_FC_OK)
		return NRM_ERR;
	return NRM_OK;
}

enum nrm_fc_result
nrm_data_key_unwrap(const struct nrm_kek *k,
    const unsigned char id[NRM_FC_KEY_ID_LEN], const unsigned char *wrapped,
    size_t n, struct nrm_data_key *dk)
{
	unsigned char tag[FC_TAG];
	char aad[80];
	int alen;
	enum nrm_fc_result r;

	if (n != NRM_FC_WRAPPED_LEN)
		return NRM_FC_MALFORMED;
	alen = fc_wrap_aad(k, id, aad, sizeof(aad));
	memcpy(tag, wrapped + FC_NONCE + NRM_FC_KEY_LEN, FC_TAG);
	memcpy(dk->id, id, NRM_FC_KEY_ID_LEN);
	/* fc_gcm writes n + 0 bytes: the key, nothing after it */
	r = fc_gcm(false, k->key, wrapped, aad, (size_t)alen,
	    wrapped + FC_NONCE, NRM_FC_KEY_LEN, dk->key, tag);
	if (r != NRM_FC_OK)
		nrm_data_key_clear(dk);
	return r;
}

long
nrm_field_seal(const struct nrm_data_key *dk, const char *aad, const void *in,
    size_t n, unsigned char *out, size_t outsz)
{
	unsigned char *nonce = out + 1 + NRM_FC_KEY_ID_LEN;

	if (n > NRM_FC_VALUE_MAX || outsz < n + NRM_FC_OVERHEAD)
		return -1;
	out[0] = NRM_FC_VERSION;
	memcpy(out + 1, dk->id, NRM_FC_KEY_ID_LEN);
	if (nrm_random_bytes(nonce, FC_NONCE) != NRM_OK)
		return -1;
	if (fc_gcm(true, dk->key, nonce, aad, strlen(aad), in, n,
		nonce + FC_NONCE, nonce + FC_NONCE + n) != NRM_FC_OK)
		return -1;
	return (long)(n + NRM_FC_OVERHEAD);
}

enum nrm_fc_result
nrm_field_open(const struct nrm_data_key *dk, const char *aad,
    const unsigned char *in, size_t n, unsigned char *out, size_t outsz,
    size_t *outlen)
{
	const unsigned char *nonce = in + 1 + NRM_FC_KEY_ID_LEN;
	unsigned char tag[FC_TAG];
	size_t m;
	enum nrm_fc_result r;

	*outlen = 0;
	if (n < NRM_FC_OVERHEAD || in[0] != NRM_FC_VERSION)
		return NRM_FC_MALFORMED;
	m = n - NRM_FC_OVERHEAD;
	if (m > NRM_FC_VALUE_MAX || outsz < m)
		return NRM_FC_MALFORMED;
	if (CRYPTO_memcmp(in + 1, dk->id, NRM_FC_KEY_ID_LEN) != 0)
		return NRM_FC_MISPLACED;
	memcpy(tag, in + n - FC_TAG, FC_TAG);
	r = fc_gcm(false, dk->key, nonce, aad, strlen(aad), nonce + FC_NONCE, m,
	    out, tag);
	if (r != NRM_FC_OK) {
		OPENSSL_cleanse(out, m);
		return r;
	}
	*outlen = m;
	return NRM_FC_OK;
}

char *
nrm_b64_encode(const void *in, size_t n)
{
	char *out;

	if (n > INT32_MAX / 2)
		return NULL;
	out = malloc(4 * ((n + 2) / 3) + 1);
	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

static bool
fc_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

unsigned char *
nrm_b64_decode(const char *in, size_t *outlen)
{
	size_t n = strlen(in), pad = 0;
	unsigned char *out;
	int len;

	*outlen = 0;
	if (n % 4 != 0 || n > INT32_MAX / 2)
		return NULL;
	/* EVP_DecodeBlock skips blanks and accepts '=' anywhere: check */
	while (pad < 2 && pad < n && in[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!fc_b64_char(in[i]))
			return NULL;
	out = malloc(n / 4 * 3 + 1);
	if (out == NULL)
		return NULL;
	len = n == 0 ? 0
		     : EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	if (len < (int)pad) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)len - pad;
	return out;
}

char *
nrm_field_seal_b64(
    const struct nrm_data_key *dk, const char *aad, const char *text)
{
	size_t n = strlen(text);
	unsigned char *buf;
	char *b64 = NULL;
	long m;

	if (n > NRM_FC_VALUE_MAX)
		return NULL;
	buf = malloc(n + NRM_FC_OVERHEAD);
	if (buf == NULL)
		return NULL;
	m = nrm_field_seal(dk, aad, text, n, buf, n + NRM_FC_OVERHEAD);
	if (m > 0)
		b64 = nrm_b64_encode(buf, (size_t)m);
	free(buf);
	return b64;
}

char *
nrm_field_open_b64(const struct nrm_data_key *dk, const char *aad,
    const char *b64, enum nrm_fc_result *res)
{
	unsigned char *raw;
	char *out = NULL;
	size_t n, m = 0;

	raw = nrm_b64_decode(b64, &n);
	if (raw == NULL) {
		*res = NRM_FC_MALFORMED;
		return NULL;
	}
	out = malloc(n + 1);
	if (out == NULL) {
		*res = NRM_FC_FAILED;
		goto out;
	}
	*res = nrm_field_open(dk, aad, raw, n, (unsigned char *)out, n, &m);
	if (*res == NRM_FC_OK && memchr(out, '\0', m) != NULL) {
		OPENSSL_cleanse(out, m);
		*res = NRM_FC_MALFORMED;
	}
	if (*res != NRM_FC_OK) {
		free(out);
		out = NULL;
		goto out;
	}
	out[m] = '\0';
out:
	free(raw);
	return out;
}

void
nrm_fc_uuid_str(
    const unsigned char id[NRM_FC_KEY_ID_LEN], char out[NRM_FC_UUID_STR])
{
	char hex[2 * NRM_FC_KEY_ID_LEN + 1];

	nrm_hex(id, NRM_FC_KEY_ID_LEN, hex);
	snprintf(out, NRM_FC_UUID_STR, "%.8s-%.4s-%.4s-%.4s-%.12s", hex,
	    hex + 8, hex + 12, hex + 16, hex + 20);
}

int
nrm_fc_uuid_parse(const char *s, unsigned char id[NRM_FC_KEY_ID_LEN])
{
	char hex[2 * NRM_FC_KEY_ID_LEN];
	size_t j = 0;

	if (strlen(s) != NRM_FC_UUID_STR - 1)
		return NRM_ERR;
	for (size_t i = 0; s[i] != '\0'; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return NRM_ERR;
			continue;
		}
		hex[j++] = s[i];
	}
	return nrm_unhex(hex, 2 * NRM_FC_KEY_ID_LEN, id);
}

int
nrm_fc_uuid_new(char out[NRM_FC_UUID_STR])
{
	unsigned char id[NRM_FC_KEY_ID_LEN];

	if (fc_uuid_random(id) != NRM_OK)
		return NRM_ERR;
	nrm_fc_uuid_str(id, out);
	return NRM_OK;
}
