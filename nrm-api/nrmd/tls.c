/*
 * tls.c - the server TLS context (see tls.h).
 */
#include "tls.h"

#include <openssl/err.h>

/* The first queued OpenSSL error as text, and clear the queue. */
static const char *
tls_last_error(char *buf, size_t n)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, n, "unknown error");
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

SSL_CTX *
nrm_tls_ctx_new(
    const char *cert_file, const char *key_file, struct nrm_error *err)
{
	SSL_CTX *ctx;
	char ebuf[256];

	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, "tls",
		    "could not create TLS context: %s",
		    tls_last_error(ebuf, sizeof(ebuf)));
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		nrm_error_set(err, NRM_E_INTERNAL, "tls",
		    "could not configure TLS: %s",
		    tls_last_error(ebuf, sizeof(ebuf)));
		goto out;
	}
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
		SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		nrm_error_set(err, NRM_E_INTERNAL, "tls_cert_file",
		    "could not load certificate %s: %s", cert_file,
		    tls_last_error(ebuf, sizeof(ebuf)));
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		nrm_error_set(err, NRM_E_INTERNAL, "tls_key_file",
		    "could not load private key %s: %s", key_file,
		    tls_last_error(ebuf, sizeof(ebuf)));
		goto out;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		nrm_error_set(err, NRM_E_INTERNAL, "tls_key_file",
		    "private key %s does not match the certificate", key_file);
		goto out;
	}
	return ctx;
out:
	SSL_CTX_free(ctx);
	return NULL;
}
