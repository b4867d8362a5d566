/*
 * fieldcrypt.h - field-level encryption of personal data (issue 15,
 * docs/data-protection.md): a key-encryption key (KEK) wraps one random
 * data key per signal; each value is AES-256-GCM under its data key with
 * associated data naming its table, column and row.  OpenSSL 3 EVP only.
 *
 * Formats (all fixed here, read by nothing else):
 *   wrapped data key = nonce[12] | AES-256-GCM(KEK, data key)[32] | tag[16]
 *                      with AAD "nrm-data-key/<key id uuid>/<kek id hex>"
 *   value            = 0x01 | data key id[16] | nonce[12] | ciphertext |
 *                      tag[16], AAD given by the caller
 *                      ("care.subject/given_name/<signal uuid>")
 * Nonces are random.  Every key buffer is cleansed by the _clear calls.
 * Nothing here logs, and no function ever reads past the lengths given.
 */
#ifndef NRM_FIELDCRYPT_H
#define NRM_FIELDCRYPT_H

#include "nrm/nrm.h"

#include <stddef.h>

#define NRM_FC_KEY_LEN 32
#define NRM_FC_KEY_ID_LEN 16
#define NRM_FC_KEK_ID_LEN 8
#define NRM_FC_KEK_ID_HEX (2 * NRM_FC_KEK_ID_LEN + 1)
#define NRM_FC_UUID_STR 37
#define NRM_FC_WRAPPED_LEN (12 + NRM_FC_KEY_LEN + 16)
#define NRM_FC_VERSION 0x01
#define NRM_FC_OVERHEAD (1 + NRM_FC_KEY_ID_LEN + 12 + 16)
/* The largest plaintext a value may hold (the narrative is 8000 bytes). */
#define NRM_FC_VALUE_MAX 16384

/* The KEK and its id (first 8 bytes of SHA-256 of the key). */
struct nrm_kek {
	unsigned char key[NRM_FC_KEY_LEN];
	unsigned char id[NRM_FC_KEK_ID_LEN];
	char id_hex[NRM_FC_KEK_ID_HEX];
};

/* A data key and its id (a random UUID v4, the care.data_key row). */
struct nrm_data_key {
	unsigned char id[NRM_FC_KEY_ID_LEN];
	unsigned char key[NRM_FC_KEY_LEN];
};

/* Why a value did not open. */
enum nrm_fc_result {
	NRM_FC_OK = 0,
	NRM_FC_MALFORMED, /* too short, unknown version, not base64 */
	NRM_FC_MISPLACED, /* sealed under another data key than the row's */
	NRM_FC_TAMPERED, /* the tag does not verify: changed, other AAD */
	NRM_FC_FAILED /* OpenSSL failed or out of memory */
};

/* The reason word of a result ("tampered", "misplaced", ...). */
const char *nrm_fc_result_name(enum nrm_fc_result r);

/* Set a KEK from 32 bytes and compute its id. */
void nrm_kek_set(struct nrm_kek *k, const unsigned char key[NRM_FC_KEY_LEN]);

/*
 * Load the KEK from `path`: 64 hex characters, optionally followed by
 * one newline.  Refused (NRM_ERR, `why` says what, without key
 * material) when the file cannot be read, is not a regular file, is
 * readable or writable by group or others (mode & 077), or is not
 * exactly that shape.
 */
int nrm_kek_load(
    struct nrm_kek *k, const char *path, char *why, size_t whysz) NRM_MUSTCHECK;

void nrm_kek_clear(struct nrm_kek *k);

/* A fresh random data key with a fresh UUID v4 id. */
int nrm_data_key_new(struct nrm_data_key *dk) NRM_MUSTCHECK;

void nrm_data_key_clear(struct nrm_data_key *dk);

/* Wrap dk under k into out[NRM_FC_WRAPPED_LEN]. */
int nrm_data_key_wrap(const struct nrm_kek *k, const struct nrm_data_key *dk,
    unsigned char out[NRM_FC_WRAPPED_LEN]) NRM_MUSTCHECK;

/*
 * Unwrap `wrapped` (n bytes) of the data key `id` under k into dk.
 * NRM_FC_TAMPERED when it does not verify (another KEK, another id,
 * changed), NRM_FC_MALFORMED when the length is wrong.
 */
enum nrm_fc_result nrm_data_key_unwrap(const struct nrm_kek *k,
    const unsigned char id[NRM_FC_KEY_ID_LEN], const unsigned char *wrapped,
    size_t n, struct nrm_data_key *dk) NRM_MUSTCHECK;

/*
 * Seal n bytes (at most NRM_FC_VALUE_MAX) under dk with `aad` into out
 * (room for n + NRM_FC_OVERHEAD); returns the length, or -1.
 */
long nrm_field_seal(const struct nrm_data_key *dk, const char *aad,
    const void *in, size_t n, unsigned char *out, size_t outsz) NRM_MUSTCHECK;

/*
 * Open a sealed value `in` (n bytes) under dk with `aad` into out
 * (room for n bytes suffices); *outlen is the plaintext length.
 */
enum nrm_fc_result nrm_field_open(const struct nrm_data_key *dk,
    const char *aad, const unsigned char *in, size_t n, unsigned char *out,
    size_t outsz, size_t *outlen) NRM_MUSTCHECK;

/*
 * The text forms the database sees: seal the NUL-terminated `text` into
 * a malloc'd standard base64 string (NULL on failure); open a base64
 * value into a malloc'd NUL-terminated plaintext (*res says why not).
 * A plaintext holding a NUL byte does not open as text (MALFORMED).
 */
char *nrm_field_seal_b64(
    const struct nrm_data_key *dk, const char *aad, const char *text);
char *nrm_field_open_b64(const struct nrm_data_key *dk, const char *aad,
    const char *b64, enum nrm_fc_result *res);

/*
 * Standard base64 (with padding) of n bytes into a malloc'd string, and
 * back into a malloc'd buffer (*outlen bytes; NULL when not base64).
 */
char *nrm_b64_encode(const void *in, size_t n);
unsigned char *nrm_b64_decode(const char *in, size_t *outlen);

/* A 16-byte id as a UUID string, and back (NRM_ERR when not a UUID). */
void nrm_fc_uuid_str(
    const unsigned char id[NRM_FC_KEY_ID_LEN], char out[NRM_FC_UUID_STR]);
int nrm_fc_uuid_parse(
    const char *s, unsigned char id[NRM_FC_KEY_ID_LEN]) NRM_MUSTCHECK;

/* A random UUID v4 as a string (the signal ids nrmd makes). */
int nrm_fc_uuid_new(char out[NRM_FC_UUID_STR]) NRM_MUSTCHECK;

#endif /* NRM_FIELDCRYPT_H */
