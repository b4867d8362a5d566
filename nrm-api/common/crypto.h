/*
 * crypto.h - the few cryptographic operations nrm needs, all OpenSSL 3.
 *
 * API tokens: "nrm_" + base64url(32 random bytes) (256 bits of entropy);
 * only SHA-256(token) is ever stored.  Pseudonyms: HMAC-SHA-256 with the
 * deployment key over the normalised subject (see nrm-core/signal.h).
 */
#ifndef NRM_CRYPTO_H
#define NRM_CRYPTO_H

#include "nrm/nrm.h"

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
 * Decode `len` hex characters (either case) into out[len / 2]; NRM_ERR
 * on an odd length or any other character (out is then undefined).
 */
int nrm_unhex(const char *hex, size_t len, unsigned char *out) NRM_MUSTCHECK;

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

/*
 * Ed25519, for the signed formats (audit checkpoints and anchors,
 * publications), which each give the signature their own text form:
 * sign msg[0..len) with the private `key` into sig (NRM_ERR on any
 * failure, sig then undefined), and whether sig[0..siglen) is a valid
 * signature of msg[0..len) under `key`.
 */
#define NRM_ED25519_SIG_LEN 64
struct evp_pkey_st; /* OpenSSL's EVP_PKEY */
int nrm_ed25519_sign(struct evp_pkey_st *key, const void *msg, size_t len,
    unsigned char sig[NRM_ED25519_SIG_LEN]) NRM_MUSTCHECK;
bool nrm_ed25519_verify(struct evp_pkey_st *key, const void *msg, size_t len,
    const unsigned char *sig, size_t siglen);

/* Constant-time equality of two equal-length buffers. */
bool nrm_ct_equal(const void *a, const void *b, size_t n);

/*
 * HKDF-SHA-256 (RFC 5869) of `ikm` with no salt and `info` into `outlen`
 * bytes: keys for one purpose derived from a deployment secret, so that
 * one secret never serves two purposes directly.
 */
int nrm_hkdf_sha256(const unsigned char *ikm, size_t ikmlen, const char *info,
    unsigned char *out, size_t outlen) NRM_MUSTCHECK;

/*
 * Opaque tokens (inbox cursors and watermarks): what the server hands a
 * client to give back later, which the client must neither read nor
 * forge.  base64url(nonce[12] || AES-256-GCM(in) || tag[16]) with `label`
 * as additional data, so a token of one kind is never accepted as
 * another.  `key` is NRM_TOKEN_KEY_LEN bytes: the AES key, then an HMAC
 * key.  The nonce is HMAC-SHA-256(hmac key, label || 0 || in), cut to
 * 12 bytes: a synthetic IV, so the same plaintext always gives the same
 * token (a client may compare two watermarks for equality and learns
 * nothing else) and two different plaintexts share a nonce only through
 * an HMAC collision.  NRM_TOKEN_SEALED_MAX(n) is the room `out` needs
 * (with the NUL) for n bytes of plaintext.
 */
#define NRM_TOKEN_KEY_LEN 64
#define NRM_TOKEN_SEALED_MAX(n) (((12 + (n) + 16) * 4) / 3 + 4)

/* Seal n bytes (at most 512); returns NRM_ERR only if OpenSSL fails. */
int nrm_token_seal(const unsigned char *key, const char *label, const void *in,
    size_t n, char *out, size_t outsz) NRM_MUSTCHECK;

/*
 * Open a token sealed with the same key and label into out (outsz
 * bytes); returns the plaintext length, or -1 when the token is not one
 * of ours (malformed, another label, another key, changed, too long).
 */
int nrm_token_open(const unsigned char *key, const char *label, const char *tok,
    unsigned char *out, size_t outsz) NRM_MUSTCHECK;

#endif /* NRM_CRYPTO_H */
