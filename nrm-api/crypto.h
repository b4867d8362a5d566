/*
 * crypto.h - the few cryptographic operations nrm needs, all OpenSSL 3.
 *
 * API tokens: "nrm_" + base64url(32 random bytes) (256 bits of entropy);
 * only SHA-256(token) is ever stored.  Pseudonyms: HMAC-SHA-256 with the
 * deployment key over the normalised subject (see nrm-core/signal.h).
 */
#ifndef NRM_CRYPTO_H
#define NRM_CRYPTO_H

#include "nrm.h"

#define NRM_TOKEN_PREFIX "nrm_"
#define NRM_TOKEN_LEN 47 /* "nrm_" + 43 base64url characters */
#define NRM_SHA256_LEN 32

/* Fill buf[NRM_TOKEN_LEN + 1] with a fresh token.  NRM_ERR if the RNG fails. */
int nrm_token_new(char *buf, size_t bufsz) NRM_MUSTCHECK;

/*
 * True when `tok` (len bytes) has the token shape: the prefix and 43
 * base64url characters.  Runs in time independent of where it differs.
 */
bool nrm_token_well_formed(const char *tok, size_t len);

void nrm_sha256(const void *data, size_t len, unsigned char out[32]);

int nrm_hmac_sha256(const unsigned char *key, size_t keylen, const void *data,
    size_t len, unsigned char out[32]) NRM_MUSTCHECK;

/* Lower-case hex of `n` bytes into out[2n+1]. */
void nrm_hex(const unsigned char *in, size_t n, char *out);

/*
 * base64url without padding of `n` bytes into out (room for 4n/3 + 4),
 * NUL-terminated; returns the length.
 */
size_t nrm_b64url_encode(const void *in, size_t n, char *out);

/*
 * Decode base64url (no padding) into out (room for 3n/4 + 3); returns
 * the length, or -1 on a character outside the alphabet.
 */
int nrm_b64url_decode(
    const char *in, size_t n, unsigned char *out) NRM_MUSTCHECK;

/* Fill buf with n random bytes; NRM_ERR if the RNG fails. */
int nrm_random_bytes(unsigned char *buf, size_t n) NRM_MUSTCHECK;

/* Constant-time equality of two equal-length buffers. */
bool nrm_ct_equal(const void *a, const void *b, size_t n);

#endif /* NRM_CRYPTO_H */
