/*
 * pubsign.h - the signed content of a publication of the indicators
 * register (docs/indicators.md, "Publications"), once for nrmd (which
 * signs) and nrmctl (which verifies).
 *
 * content_sha256 is the SHA-256, in lowercase hex, of the canonical JSON
 * of the publication's "content" object: no whitespace; object members
 * sorted by name (bytewise); strings with only '"', '\\' and the bytes
 * below 0x20 escaped (\uXXXX, lowercase hex), every other byte as is
 * (UTF-8); a number that is an integer of magnitude below 2^53 as that
 * integer, any other number with "%.17g".  The signature is the Ed25519
 * signature, in standard base64 with padding, of the bytes
 * "nrm-publication-v1\n" followed by content_sha256, made with the audit
 * signing key (audit_signing_key_file).
 *
 * Nothing here logs or keeps state; OpenSSL 3.
 */
#ifndef NRM_PUBSIGN_H
#define NRM_PUBSIGN_H

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "nrm/nrm.h"

#define NRM_PUB_TAG "nrm-publication-v1"
#define NRM_PUB_HEX_LEN 64
#define NRM_PUB_SIG_B64_LEN 88 /* 64 bytes in base64 with padding */

/* The canonical JSON of v, malloc'd (NUL-terminated); NULL on OOM. */
char *nrm_pub_canonical(const cJSON *v, size_t *len);

/* content_sha256 of `content` into hex[65]; NRM_ERR on OOM. */
int nrm_pub_hash(
    const cJSON *content, char hex[NRM_PUB_HEX_LEN + 1]) NRM_MUSTCHECK;

/* Sign the hash into sig[NRM_PUB_SIG_B64_LEN + 1]; NRM_ERR on failure. */
int nrm_pub_sign(EVP_PKEY *key, const char *hex,
    char sig[NRM_PUB_SIG_B64_LEN + 1]) NRM_MUSTCHECK;

/* True when sig_b64 is a valid signature of the hash under `key`. */
bool nrm_pub_verify(EVP_PKEY *key, const char *hex, const char *sig_b64);

#endif /* NRM_PUBSIGN_H */
