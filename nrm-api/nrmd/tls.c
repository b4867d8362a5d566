/*
 * tls.c - the server TLS context, its policy and the client certificate
 * (see tls.h).
 */
#include "tls.h"
#include "keyfile.h"

#include <openssl/err.h>
#include <openssl/x509.h>

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

/* Protocols, suites and options: the policy of tls.h. */
static int
tls_policy(SSL_CTX *ctx, struct nrm_error *err)
{
	char ebuf[256];

	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, NRM_TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, NRM_TLS13_SUITES) != 1)
		return nrm_error_set(err, NRM_E_INTERNAL, "tls",
		    "could not configure TLS: %s",
		    tls_last_error(ebuf, sizeof(ebuf)));
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
		SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	return NRM_OK;
}

/* Ask for (or require) a client certificate from the CA file. */
static int
tls_client_ca(SSL_CTX *ctx, const struct nrm_config *cfg, struct nrm_error *err)
{
	STACK_OF(X509_NAME) * names;
	char ebuf[256];
	int mode = SSL_VERIFY_PEER;

	if (cfg->tls_client_ca_file[0] == '\0')
		return NRM_OK;
	if (SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca_file, NULL) !=
	    1)
		return nrm_error_set(err, NRM_E_VALIDATION,
		    "tls_client_ca_file", "could not load client CA %s: %s",
		    cfg->tls_client_ca_file,
		    tls_last_error(ebuf, sizeof(ebuf)));
	names = SSL_load_client_CA_file(cfg->tls_client_ca_file);
	if (names == NULL)
		return nrm_error_set(err, NRM_E_VALIDATION,
		    "tls_client_ca_file", "no CA certificate in %s",
		    cfg->tls_client_ca_file);
	SSL_CTX_set_client_CA_list(ctx, names);
	if (cfg->tls_client_cert_required)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, NULL);
	/* resumed sessions keep their verified client certificate */
	if (SSL_CTX_set_session_id_context(
		ctx, (const unsigned char *)"nrmd", 4) != 1)
		return nrm_error_set(err, NRM_E_INTERNAL, "tls",
		    "could not set the session id context");
	return NRM_OK;
}

SSL_CTX *
nrm_tls_ctx_new(const struct nrm_config *cfg, struct nrm_error *err)
{
	SSL_CTX *ctx;
	char ebuf[256];

	if (nrm_keyfile_check(cfg->tls_key_file, "tls_key_file", err) != NRM_OK)
		return NULL;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, "tls",
		    "could not create TLS context: %s",
		    tls_last_error(ebuf, sizeof(ebuf)));
		return NULL;
	}
	if (tls_policy(ctx, err) != NRM_OK)
		goto out;
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert_file) != 1) {
		nrm_error_set(err, NRM_E_VALIDATION, "tls_cert_file",
		    "could not load certificate %s: %s", cfg->tls_cert_file,
		    tls_last_error(ebuf, sizeof(ebuf)));
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(
		ctx, cfg->tls_key_file, SSL_FILETYPE_PEM) != 1) {
		nrm_error_set(err, NRM_E_VALIDATION, "tls_key_file",
		    "could not load private key %s: %s", cfg->tls_key_file,
		    tls_last_error(ebuf, sizeof(ebuf)));
		goto out;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		nrm_error_set(err, NRM_E_VALIDATION, "tls_key_file",
		    "private key %s does not match the certificate",
		    cfg->tls_key_file);
		goto out;
	}
	if (tls_client_ca(ctx, cfg, err) != NRM_OK)
		goto out;
	return ctx;
out:
	SSL_CTX_free(ctx);
	return NULL;
}

int
nrm_tls_peer_sha256(SSL *ssl, unsigned char out[32])
{
	X509 *cert;
	unsigned int n = 0;

	if (ssl == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return NRM_ERR;
	cert = SSL_get0_peer_certificate(ssl);
	if (cert == NULL || X509_digest(cert, EVP_sha256(), out, &n) != 1 ||
	    n != 32)
		return NRM_ERR;
	return NRM_OK;
}
