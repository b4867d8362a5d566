/*
 * crypto.c - tokens, hashes and HMAC on OpenSSL 3 (see crypto.h).
 */
#include "crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

int
nrm_random_bytes(unsigned char *buf, size_t n)
{
	if (n > INT32_MAX || RAND_bytes(buf, (int)n) != 1)
		return NRM_ERR;
	return NRM_OK;
}

int
nrm_token_new(char *buf, size_t bufsz)
{
	unsigned char raw[32];
	unsigned char enc[64];
	int n;

	if (bufsz < NRM_TOKEN_LEN + 1)
		return NRM_ERR;
	if (nrm_random_bytes(raw, sizeof(raw)) != NRM_OK)
		return NRM_ERR;
	/* EVP_EncodeBlock is standard base64; map it to base64url, no pad. */
	n = EVP_EncodeBlock(enc, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	if (n != 44)
		return NRM_ERR;
	memcpy(buf, NRM_TOKEN_PREFIX, 4);
	for (int i = 0; i < 43; i++) {
		char c = (char)enc[i];
		buf[4 + i] = c == '+' ? '-' : c == '/' ? '_' : c;
	}
	buf[NRM_TOKEN_LEN] = '\0';
	OPENSSL_cleanse(enc, sizeof(enc));
	return NRM_OK;
}

bool
nrm_token_well_formed(const char *tok, size_t len)
{
	unsigned bad = 0;

	if (len != NRM_TOKEN_LEN)
		return false;
	bad |= (unsigned)CRYPTO_memcmp(tok, NRM_TOKEN_PREFIX, 4);
	for (size_t i = 4; i < len; i++) {
		unsigned char c = (unsigned char)tok[i];
		unsigned ok = (c >= 'A' && c <= 'Z') | (c >= 'a' && c <= 'z') |
		    (c >= '0' && c <= '9') | (c == '-') | (c == '_');
		bad |= ok ^ 1u;
	}
	return bad == 0;
}

void
nrm_sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int outlen = 32;

	EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL);
}

int
nrm_hmac_sha256(const unsigned char *key, size_t keylen, const void *data,
    size_t len, unsigned char out[32])
{
	unsigned int outlen = 32;

	if (keylen > INT32_MAX)
		return NRM_ERR;
	if (HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) ==
	    NULL)
		return NRM_ERR;
	return outlen == 32 ? NRM_OK : NRM_ERR;
}

void
nrm_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* Hex digit value, or -1. */
static int
crypto_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
nrm_unhex(const char *hex, size_t len, unsigned char *out)
{
	if (len % 2 != 0)
		return NRM_ERR;
	for (size_t i = 0; i < len; i += 2) {
		int hi = crypto_hexval(hex[i]), lo = crypto_hexval(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return NRM_ERR;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return NRM_OK;
}

bool
nrm_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

size_t
nrm_b64url_encode(const void *in, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);

	while (len > 0 && out[len - 1] == '=')
		len--;
	for (int i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	out[len] = '\0';
	return (size_t)len;
}

int
nrm_b64url_decode(const char *in, size_t n, unsigned char *out)
{
	char *tmp;
	size_t m = n, pad;
	int len;

	if (n > 65536)
		return -1;
	pad = (4 - n % 4) % 4;
	if (pad == 3)
		return -1;
	tmp = malloc(n + pad + 1);
	if (tmp == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9'))) {
			free(tmp);
			return -1;
		}
		tmp[i] = c;
	}
	while (m < n + pad)
		tmp[m++] = '=';
	len = EVP_DecodeBlock(out, (unsigned char *)tmp, (int)m);
	free(tmp);
	if (len < 0)
		return -1;
	return len - (int)pad;
}

int
nrm_hkdf_sha256(const unsigned char *ikm, size_t ikmlen, const char *info,
    unsigned char *out, size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[4];
	int rc = NRM_ERR;

	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_KDF_PARAM_DIGEST, (char *)(uintptr_t) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)ikm, ikmlen);
	params[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)info, strlen(info));
	params[3] = OSSL_PARAM_construct_end();
	if (ctx != NULL && EVP_KDF_derive(ctx, out, outlen, params) == 1)
		rc = NRM_OK;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

#define TOKEN_NONCE 12
#define TOKEN_TAG 16
#define TOKEN_PLAIN_MAX 512

int
nrm_token_seal(const unsigned char *key, const char *label, const void *in,
    size_t n, char *out, size_t outsz)
{
	unsigned char buf[TOKEN_NONCE + TOKEN_PLAIN_MAX + TOKEN_TAG];
	unsigned char siv[64 + 1 + TOKEN_PLAIN_MAX], mac[32];
	size_t ll = strlen(label);
	EVP_CIPHER_CTX *ctx;
	int len, rc = NRM_ERR;

	if (n > TOKEN_PLAIN_MAX || ll > 64 || outsz < NRM_TOKEN_SEALED_MAX(n))
		return NRM_ERR;
	/* The synthetic IV: HMAC over the label, a 0 and the plaintext. */
	memcpy(siv, label, ll);
	siv[ll] = 0;
	memcpy(siv + ll + 1, in, n);
	if (nrm_hmac_sha256(key + 32, 32, siv, ll + 1 + n, mac) != NRM_OK)
		return NRM_ERR;
	memcpy(buf, mac, TOKEN_NONCE);
	ctx = EVP_CIPHER_CTX_new();
	if (ctx != NULL &&
	    EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key, buf, NULL) == 1 &&
	    EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)label,
		(int)strlen(label)) == 1 &&
	    EVP_EncryptUpdate(ctx, buf + TOKEN_NONCE, &len, in, (int)n) == 1 &&
	    EVP_EncryptFinal_ex(ctx, buf + TOKEN_NONCE + n, &len) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TOKEN_TAG,
		buf + TOKEN_NONCE + n) == 1) {
		nrm_b64url_encode(buf, TOKEN_NONCE + n + TOKEN_TAG, out);
		rc = NRM_OK;
	}
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
nrm_token_open(const unsigned char *key, const char *label, const char *tok,
    unsigned char *out, size_t outsz)
{
	unsigned char buf[TOKEN_NONCE + TOKEN_PLAIN_MAX + TOKEN_TAG + 8];
	size_t tl = strlen(tok);
	EVP_CIPHER_CTX *ctx;
	int n, len, rc = -1;

	if (tl > NRM_TOKEN_SEALED_MAX(TOKEN_PLAIN_MAX))
		return -1;
	n = nrm_b64url_decode(tok, tl, buf);
	if (n < TOKEN_NONCE + TOKEN_TAG ||
	    (size_t)(n - TOKEN_NONCE - TOKEN_TAG) > outsz)
		return -1;
	n -= TOKEN_NONCE + TOKEN_TAG;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx != NULL &&
	    EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key, buf, NULL) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)label,
		(int)strlen(label)) == 1 &&
	    EVP_DecryptUpdate(ctx, out, &len, buf + TOKEN_NONCE, n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TOKEN_TAG,
		buf + TOKEN_NONCE + n) == 1 &&
	    EVP_DecryptFinal_ex(ctx, out + n, &len) == 1)
		rc = n;
	EVP_CIPHER_CTX_free(ctx);
	if (rc < 0)
		OPENSSL_cleanse(out, outsz);
	return rc;
}

int
nrm_ed25519_sign(struct evp_pkey_st *key, const void *msg, size_t len,
    unsigned char sig[NRM_ED25519_SIG_LEN])
{
	size_t siglen = NRM_ED25519_SIG_LEN;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = NRM_ERR;

	if (ctx != NULL &&
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 &&
	    siglen == NRM_ED25519_SIG_LEN)
		rc = NRM_OK;
	EVP_MD_CTX_free(ctx);
	return rc;
}

bool
nrm_ed25519_verify(struct evp_pkey_st *key, const void *msg, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;

	EVP_MD_CTX_free(ctx);
	return ok;
}
