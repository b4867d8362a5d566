/*
 * auditchain.h - the audit hash chain's formats, once for nrmd and
 * nrmctl: the canonical bytes of an event, the genesis value, and the
 * signed checkpoint (its message, its JSON line, its parser, Ed25519
 * PEM keys, signing and verifying; OpenSSL 3).
 *
 * The chain (sql/0005_audit.sql, docs/audit.md): link `pos` seals one
 * audit event with hash = SHA-256(prev_hash || canonical(event)), where
 * prev_hash is the hash of link pos - 1, or for link 1 the genesis value
 * SHA-256("nrm-audit-chain-v1"), or after a purge the retention anchor.
 *
 * A checkpoint is one JSON line, exactly the members
 *
 *   {"seq":N,"prev":"<64 hex>","pos":P,"hash":"<64 lowercase hex>",
 *    "at":"<time>","sig":"<base64>"}
 *
 * where sig is the Ed25519 signature of the bytes
 * "nrm-audit-checkpoint-v2\n<N>\n<prev>\n<P>\n<hash>\n<at>" (the
 * message): N numbers the lines of a checkpoint series (1, 2, ... across
 * rotated files), prev is the SHA-256 (hex) of the previous line's bytes
 * as written (no newline; 64 zeros before the first line).  The old
 * format (issue 6), {"pos","hash","at","sig"} signed as
 * "nrm-audit-checkpoint\n<P>\n<hash>\n<at>", is still read: a series
 * may start with old lines, up to its first numbered one
 * (nrm_audit_cps_check).  The format is
 * strict on both sides, writer and reader: P an integer 0..2^53, `at`
 * 1..64 bytes of printable ASCII (no newline, no control byte, nothing
 * the message could not carry unambiguously), no duplicate, missing or
 * unknown member, nothing after the object.  A signature that does not
 * decode or verify is not a parse error: the line is read and its
 * signature reported as bad.
 *
 * Nothing here logs; errors go to the caller's struct nrm_error as
 * "could not ...: reason" (no prefix, no newline), field = the `field`
 * the caller passed (a config key, or NULL).
 */
#ifndef NRM_AUDITCHAIN_H
#define NRM_AUDITCHAIN_H

#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "nrm/nrm.h"

#define NRM_AUDIT_GENESIS_INPUT "nrm-audit-chain-v1"
#define NRM_AUDIT_CANON_TAG "nrm.audit.event.v1"
#define NRM_AUDIT_CANON_TAG_PERSON "nrm.audit.event.v2" /* with person_id */
#define NRM_AUDIT_CP_TAG "nrm-audit-checkpoint"
#define NRM_AUDIT_CP2_TAG "nrm-audit-checkpoint-v2" /* numbered, chained */
#define NRM_AUDIT_ANCHOR_TAG "nrm-audit-anchor"
#define NRM_AUDIT_FIELDS 14 /* columns of audit.event */
#define NRM_AUDIT_HEX_LEN 64 /* a SHA-256 in lowercase hex */
#define NRM_AUDIT_AT_MAX 64
#define NRM_AUDIT_SIG_LEN 64 /* an Ed25519 signature */
#define NRM_AUDIT_SIG_B64_MAX 128 /* the longest "sig" the format takes */
#define NRM_AUDIT_CP_MSG_MAX 384 /* room for any valid message + NUL */
#define NRM_AUDIT_CP_LINE_MAX 4096 /* a longer line is refused */
#define NRM_AUDIT_POS_MAX 9007199254740992LL /* 2^53: exact in JSON */

/* One checkpoint, as signed and as written. */
struct nrm_audit_cp {
	int64_t seq; /* its number in the series, 1...; 0: the old format */
	char prev[NRM_AUDIT_HEX_LEN + 1]; /* SHA-256 of the line before */
	char self[NRM_AUDIT_HEX_LEN + 1]; /* SHA-256 of its own line, read */
	int64_t pos;
	char hash[NRM_AUDIT_HEX_LEN + 1];
	char at[NRM_AUDIT_AT_MAX + 1];
	char sig[NRM_AUDIT_SIG_B64_MAX + 1]; /* base64, as read or made */
	int line; /* its line in the file it was read from, else 0 */
	int part; /* that file: 0 the current one, k its k-th rotated part */
	bool sig_bad; /* checked against a key and does not verify */
};

/* The checkpoints of a file, in file order. */
struct nrm_audit_cps {
	struct nrm_audit_cp *v;
	size_t n;
	size_t cap;
};

/*
 * The canonical bytes of one event, from its 14 columns as text in table
 * order (id, at, api_key_id, agency_id, role, action, object_type,
 * object_id, purpose, outcome, reason, request_id, client_addr,
 * person_id; `at` as "YYYY-MM-DDTHH:MM:SS.ffffffZ" in UTC, client_addr
 * as abbrev(inet)), NULL for SQL NULL: the tag and each field as a
 * 4-byte big-endian length and its bytes, 0xffffffff for NULL.  Without
 * a person (person_id NULL) the tag is NRM_AUDIT_CANON_TAG and the
 * first 13 fields follow (the bytes of every event sealed before
 * persons existed); with one, NRM_AUDIT_CANON_TAG_PERSON and all 14.
 * *out is malloc'd; the caller frees it.  NRM_ERR only when out of
 * memory or a field is longer than 4 GiB - 2.
 */
int nrm_audit_canonical(const char *const fields[NRM_AUDIT_FIELDS],
    unsigned char **out, size_t *outlen) NRM_MUSTCHECK;

/* The genesis prev_hash: SHA-256 of NRM_AUDIT_GENESIS_INPUT. */
void nrm_audit_genesis(unsigned char out[32]);

/* True for exactly 64 lowercase hex digits. */
bool nrm_audit_hash_hex_valid(const char *s);

/* True for a time string the message can carry (see above). */
bool nrm_audit_at_valid(const char *at);

/*
 * The signed bytes of a checkpoint into buf (NUL-terminated; the NUL is
 * not signed).  Returns the length, or -1 when pos, hash_hex or `at` is
 * outside the format or buf is too small (NRM_AUDIT_CP_MSG_MAX always
 * suffices).
 */
int nrm_audit_cp_message(
    int64_t pos, const char *hash_hex, const char *at, char *buf, size_t bufsz);

/*
 * Parse one line (no newline) into *cp (line = 0, sig_bad = false).
 * NRM_ERR with *why a static phrase ("\"hash\" is not 64 lowercase hex
 * digits") when it is not a checkpoint.
 */
int nrm_audit_cp_parse(
    const char *text, struct nrm_audit_cp *cp, const char **why) NRM_MUSTCHECK;

/*
 * The checkpoint as a new JSON object {"pos","hash","at","sig"} (pos a
 * number written exactly), or NULL when out of memory.  The line format
 * is this object printed unformatted.
 */
cJSON *nrm_audit_cp_json(const struct nrm_audit_cp *cp);

/* The checkpoint's line, malloc'd, without a newline; NULL on OOM. */
char *nrm_audit_cp_line(const struct nrm_audit_cp *cp);

/*
 * Check the series `cps` in file order (before any sorting): old-format
 * lines only before the first numbered one; each numbered line's seq is
 * its place in the series (1-based) and its prev the `self` of the line
 * before (64 zeros for the first); positions never go backwards.
 * NRM_OK, or NRM_ERR with *bad the index of the first line at fault and
 * *why a static phrase naming the reason ("checkpoint sequence": a
 * line missing, reordered or spliced; "checkpoint chain": prev does not
 * match; "old-format line after a numbered one"; "head moved
 * backwards").
 */
/* The SHA-256 (lowercase hex) of a line's bytes: a next line's prev. */
void nrm_audit_line_hash(const char *line, size_t len, char out[65]);

int nrm_audit_cps_check(const struct nrm_audit_cps *cps, size_t *bad,
    const char **why) NRM_MUSTCHECK;

/*
 * Read every checkpoint of the file `path` (blank lines and a trailing
 * CR skipped), in file order, with its line number and the SHA-256 of
 * its bytes (`self`); with `pubkey`,
 * check each signature into sig_bad.  Appends to *cps (zeroed, or from
 * an earlier load); on NRM_ERR *cps is freed.  The messages: "could not
 * open checkpoints P: reason", "could not read checkpoints P: line N:
 * reason".
 */
int nrm_audit_cps_load(const char *path, EVP_PKEY *pubkey,
    struct nrm_audit_cps *cps, const char *field,
    struct nrm_error *err) NRM_MUSTCHECK;

/*
 * The whole series of `path`: its rotated parts path.000001,
 * path.000002, ... (oldest first, as nrmd rotates; the numbers run
 * without a gap from 1), then path itself; each line's `part` says
 * which file (0: path).  A missing path is an empty current file.
 * *parts is the number of rotated parts.  Otherwise as
 * nrm_audit_cps_load.
 */
int nrm_audit_cps_load_series(const char *path, EVP_PKEY *pubkey,
    struct nrm_audit_cps *cps, int *parts, const char *field,
    struct nrm_error *err) NRM_MUSTCHECK;

/*
 * The series of `path` read as one that will be appended to: loaded
 * (nrm_audit_cps_load_series, no signature check) and checked
 * (nrm_audit_cps_check), with the number of its next line (n + 1) and
 * the `prev` that line must carry (the last line's `self`; 64 zeros
 * for an empty series).  nrmd and `nrmctl audit checkpoint --checkpoints`
 * both append through this, so neither ever continues a broken series.
 * On NRM_ERR *err names `field` and says which line (and part) is at
 * fault, and *all is freed.
 */
int nrm_audit_cps_tail(const char *path, struct nrm_audit_cps *all, int *parts,
    int64_t *next_seq, char prev[NRM_AUDIT_HEX_LEN + 1], const char *field,
    struct nrm_error *err) NRM_MUSTCHECK;

/* The name of rotated part k of `path` (k >= 1) into buf. */
void nrm_audit_cps_part_name(const char *path, int k, char *buf, size_t bufsz);

/* Append a copy of *cp (aborts when out of memory, as nrm_xmalloc). */
void nrm_audit_cps_push(
    struct nrm_audit_cps *cps, const struct nrm_audit_cp *cp);

void nrm_audit_cps_free(struct nrm_audit_cps *cps);

/*
 * Load an Ed25519 key from a PEM file: the private key (PKCS#8, "BEGIN
 * PRIVATE KEY") when `private_key`, else the public key ("BEGIN PUBLIC
 * KEY").  NULL with err "could not open [public ]key P: reason" or
 * "could not read [public ]key P: not a PEM Ed25519 ... key".  The
 * caller frees the key with EVP_PKEY_free().
 */
EVP_PKEY *nrm_audit_key_load(const char *path, bool private_key,
    const char *field, struct nrm_error *err);

/*
 * Sign cp's (pos, hash, at) with the private key into cp->sig.  NRM_ERR
 * when a field is outside the format or OpenSSL fails.
 */
int nrm_audit_cp_sign(EVP_PKEY *key, struct nrm_audit_cp *cp) NRM_MUSTCHECK;

/*
 * True when cp->sig is the base64 (standard alphabet, padding optional)
 * of a valid Ed25519 signature of cp's message under `key` (a public
 * key, or a private key's public half).
 */
bool nrm_audit_cp_verify(EVP_PKEY *key, const struct nrm_audit_cp *cp);

/*
 * A retention anchor's signature (audit.anchor_signature, 0014): the
 * same key, the same message shape with its own tag, so a checkpoint's
 * signature can never pass for an anchor's or the other way round:
 * "nrm-audit-anchor\n<purged_through_pos>\n<anchor hash>\n<at>".
 * nrmctl audit purge signs; both verifiers check.
 */
int nrm_audit_anchor_message(
    int64_t pos, const char *hash_hex, const char *at, char *buf, size_t bufsz);

int nrm_audit_anchor_sign(EVP_PKEY *key, int64_t pos, const char *hash_hex,
    const char *at, char sig[NRM_AUDIT_SIG_B64_MAX + 1]) NRM_MUSTCHECK;

/* True when sig (base64) verifies for the anchor (pos, hash_hex, at). */
bool nrm_audit_anchor_verify(EVP_PKEY *key, int64_t pos, const char *hash_hex,
    const char *at, const char *sig);

/*
 * The verifiers' one rule for an anchor (pos > 0) whose signature is
 * (at, sig), both NULL when it has none, that skips `skipped` signed
 * checkpoints or verified positions: NULL when it may be trusted, else
 * the reason: "bad anchor signature" (a signature that does not verify:
 * always a break) or "unsigned anchor" (no signature and something
 * skipped; an unsigned anchor that skips nothing hides nothing a
 * signature vouched for, e.g. one made before 0014 on a log without
 * checkpoints).
 */
const char *nrm_audit_anchor_problem(EVP_PKEY *key, int64_t pos,
    const char *hash_hex, const char *at, const char *sig, int64_t skipped);

#endif /* NRM_AUDITCHAIN_H */
