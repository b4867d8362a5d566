/*
 * tls.h - the server TLS context (OpenSSL 3) and its policy, and the
 * client certificate of a connection.
 *
 * Policy (docs/security.md, "Transport and build"): TLS 1.3, and TLS 1.2
 * with ECDHE key exchange and AEAD suites only (AES-GCM, ChaCha20-
 * Poly1305), so every session is forward secret; the server's order of
 * preference; no renegotiation, no compression, no session tickets (a
 * ticket key that lives as long as the process would undo forward
 * secrecy).  The certificate chain and key come from PEM files and must
 * match; the key file must be readable by its owner only (keyfile.h).
 *
 * Mutual TLS: with tls_client_ca_file set, the server asks for a client
 * certificate and verifies it against that CA file (expiry included);
 * with tls_client_cert_required it refuses a handshake without one.  A
 * certificate that does not verify always fails the handshake.
 *
 * A context is immutable once made; SIGHUP makes a new one and the HTTP
 * edge swaps it (connections already open keep the old one, which
 * OpenSSL frees with its last connection).
 */
#ifndef NRM_TLS_H
#define NRM_TLS_H

#include "config.h"
#include "nrm/nrm.h"

#include <openssl/ssl.h>

/* The TLS 1.2 cipher list and the TLS 1.3 suites the server accepts. */
#define NRM_TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define NRM_TLS13_SUITES \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
	"TLS_CHACHA20_POLY1305_SHA256"

/*
 * A new server context from cfg's tls_* keys, or NULL with *err naming
 * the key at fault (tls_cert_file, tls_key_file, tls_client_ca_file).
 */
SSL_CTX *nrm_tls_ctx_new(const struct nrm_config *cfg, struct nrm_error *err);

/*
 * The SHA-256 of the DER of the connection's client certificate, when
 * the client sent one and it verified: NRM_OK; else NRM_ERR.
 */
int nrm_tls_peer_sha256(SSL *ssl, unsigned char out[32]) NRM_MUSTCHECK;

#endif /* NRM_TLS_H */
