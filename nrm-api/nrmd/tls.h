/*
 * tls.h - the server TLS context (OpenSSL 3): TLS 1.2 and 1.3 only,
 * certificate chain and key from PEM files, checked to match.
 */
#ifndef NRM_TLS_H
#define NRM_TLS_H

#include "nrm/nrm.h"

#include <openssl/ssl.h>

/* A new server context, or NULL with *err naming the file at fault. */
SSL_CTX *nrm_tls_ctx_new(
    const char *cert_file, const char *key_file, struct nrm_error *err);

#endif /* NRM_TLS_H */
