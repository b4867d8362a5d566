/*
 * kekhsm.c - unwrapping the KEK inside a PKCS#11 token through OpenSSL's
 * pkcs11 engine (see kekhsm.h).  The ENGINE API is deprecated in OpenSSL
 * 3 but is what libp11 0.4.12 (Debian 12) offers; the pkcs11-provider is
 * not packaged there.  This file alone uses it.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "kekhsm.h"
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#define HSM_PIN_MAX 256

bool
nrm_kek_token_on(const struct nrm_kek_token *t)
{
	return t != NULL && t->uri != NULL && t->uri[0] != '\0';
}

/* Read the PIN file (owner-only) into pin[HSM_PIN_MAX], one line. */
static int
hsm_pin(const char *path, char *pin, char *why, size_t whysz)
{
	char r[160];
	ssize_t n;

	if (path == NULL || path[0] == '\0') {
		snprintf(why, whysz, "data_kek_pkcs11_pin_file is not set");
		return NRM_ERR;
	}
	n = nrm_keyfile_read(path, pin, HSM_PIN_MAX - 1, r, sizeof(r));
	if (n < 0) {
		snprintf(why, whysz, "%s: %s", path, r);
		return NRM_ERR;
	}
	pin[n] = '\0';
	pin[strcspn(pin, "\r\n")] = '\0';
	if (pin[0] == '\0') {
		snprintf(why, whysz, "%s: empty", path);
		return NRM_ERR;
	}
	return NRM_OK;
}

/* The pkcs11 engine, set up with the module and PIN, initialised. */
static ENGINE *
hsm_engine(
    const struct nrm_kek_token *t, const char *pin, char *why, size_t whysz)
{
	ENGINE *e;

	ENGINE_load_builtin_engines();
	e = ENGINE_by_id("pkcs11");
	if (e == NULL) {
		snprintf(why, whysz,
		    "OpenSSL's pkcs11 engine is not installed "
		    "(libengine-pkcs11-openssl)");
		return NULL;
	}
	if (t->module != NULL && t->module[0] != '\0' &&
	    ENGINE_ctrl_cmd_string(e, "MODULE_PATH", t->module, 0) != 1) {
		snprintf(why, whysz, "the pkcs11 engine refused module %s",
		    t->module);
		goto fail;
	}
	if (ENGINE_ctrl_cmd_string(e, "PIN", pin, 0) != 1 ||
	    ENGINE_init(e) != 1) {
		snprintf(why, whysz, "could not initialise the pkcs11 engine");
		goto fail;
	}
	return e;
fail:
	ENGINE_free(e);
	return NULL;
}

int
nrm_kek_token_unwrap(const struct nrm_kek_token *t, const unsigned char *in,
    size_t n, unsigned char key[32], char *why, size_t whysz)
{
	char pin[HSM_PIN_MAX];
	unsigned char out[NRM_KEK_WRAPPED_MAX];
	size_t outlen = sizeof(out);
	ENGINE *e = NULL;
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int rc = NRM_ERR;

	memset(pin, 0, sizeof(pin));
	if (hsm_pin(t->pin_file, pin, why, whysz) != NRM_OK)
		goto out;
	e = hsm_engine(t, pin, why, whysz);
	if (e == NULL)
		goto out;
	pk = ENGINE_load_private_key(e, t->uri, NULL, NULL);
	if (pk == NULL) {
		snprintf(why, whysz,
		    "could not load the key of data_kek_pkcs11_uri from the "
		    "token (wrong URI, token or PIN)");
		goto out;
	}
	ctx = EVP_PKEY_CTX_new(pk, e);
	if (ctx == NULL || EVP_PKEY_decrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1) {
		snprintf(why, whysz,
		    "the token's key cannot decrypt RSA-OAEP (SHA-256)");
		goto out;
	}
	if (EVP_PKEY_decrypt(ctx, out, &outlen, in, n) != 1) {
		snprintf(why, whysz,
		    "the token could not decrypt the KEK file (not wrapped "
		    "by this key with RSA-OAEP SHA-256?)");
		goto out;
	}
	if (outlen != 32) {
		snprintf(why, whysz,
		    "the KEK file decrypts to %zu bytes, not 32", outlen);
		goto out;
	}
	memcpy(key, out, 32);
	rc = NRM_OK;
out:
	OPENSSL_cleanse(pin, sizeof(pin));
	OPENSSL_cleanse(out, sizeof(out));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	if (e != NULL) {
		ENGINE_finish(e);
		ENGINE_free(e);
	}
	return rc;
}
