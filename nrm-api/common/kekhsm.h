/*
 * kekhsm.h - a key-encryption key kept under a PKCS#11 token (issue 15,
 * docs/security.md "The KEK in a PKCS#11 token").
 *
 * The token holds an RSA key pair that never leaves it; the KEK file
 * holds the KEK encrypted to that key (RSA-OAEP with SHA-256 and MGF1
 * SHA-256, made with the public key, e.g. by `openssl pkeyutl`).  nrmd
 * and nrmctl decrypt it inside the token through OpenSSL's pkcs11 engine
 * (libp11), at start-up and on reload, so the KEK is never on disk in
 * clear: whoever copies the files (or a backup) without the token and
 * its PIN has nothing.  The unwrapped KEK does live in the process's
 * memory while it runs, as with a KEK file: the token guards the KEK at
 * rest, not against someone who can read nrmd's memory.
 *
 * The PIN comes from a file that only its owner may read (mode & 077
 * refused).  Nothing here logs; the reasons given never hold the PIN or
 * key material.
 */
#ifndef NRM_KEKHSM_H
#define NRM_KEKHSM_H

#include "nrm/nrm.h"

#include <stddef.h>

/* Where the KEK's wrapping key is (every member may be NULL or ""). */
struct nrm_kek_token {
	const char *uri; /* pkcs11: URI of the RSA private key; "" = off */
	const char *pin_file; /* the token user's PIN */
	const char *module; /* the PKCS#11 module; "" = libp11's default */
};

/* Whether the KEK files are wrapped by a token key. */
bool nrm_kek_token_on(const struct nrm_kek_token *t);

/* The largest wrapped KEK file (an RSA-8192 ciphertext). */
#define NRM_KEK_WRAPPED_MAX 1024

/*
 * Decrypt the wrapped KEK `in` (n bytes) inside the token into key[32].
 * NRM_ERR with `why` when the PIN file is unsafe or unreadable, the
 * engine, module, token or key cannot be reached, the PIN is refused,
 * or the plaintext is not 32 bytes.
 */
int nrm_kek_token_unwrap(const struct nrm_kek_token *t, const unsigned char *in,
    size_t n, unsigned char key[32], char *why, size_t whysz) NRM_MUSTCHECK;

#endif /* NRM_KEKHSM_H */
