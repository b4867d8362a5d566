/*
 * audit_cli.h - nrmctl's audit commands: verify the audit hash chain on
 * the client (and signed checkpoints against it), export events as JSON
 * lines for off-site archiving, create an Ed25519 checkpoint key, and
 * sign the current chain head as a checkpoint.
 *
 * The chain (sql/0005_audit.sql, docs/audit.md): link `pos` seals one
 * audit event with hash = SHA-256(prev_hash || canonical(event)), where
 * prev_hash is the hash of link pos - 1, or for link 1 the genesis value
 * SHA-256("nrm-audit-chain-v1"), or after a purge the retention anchor.
 * canonical() is re-implemented here (nrm_audit_canonical) from the raw
 * columns and cross-checked against the database's audit.canonical() on
 * every link, so a database whose function was replaced is caught too.
 *
 * A checkpoint is one JSON line {"pos", "hash", "at", "sig"}: sig is the
 * base64 Ed25519 signature of the bytes
 * "nrm-audit-checkpoint\n<pos>\n<hash hex>\n<at>" (nrm_audit_cp_message),
 * made outside the database by nrmd (or nrmctl audit checkpoint).
 *
 * Synchronous libpq, admin tool only.  The functions read in one
 * REPEATABLE READ READ ONLY transaction (one snapshot) and leave `conn`
 * idle; verify and export first append their own audit event
 * (audit.verify / audit.export, principal null, purpose audit) in a
 * transaction of its own, so the connecting role needs INSERT on
 * audit.event besides SELECT on the audit tables: run them as the owner.
 * On NRM_ERR, errbuf holds "could not ...: reason" (no prefix, no
 * newline).  Results go to `out`.
 */
#ifndef NRM_AUDIT_CLI_H
#define NRM_AUDIT_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "nrm/nrm.h"

#define NRM_AUDIT_GENESIS_INPUT "nrm-audit-chain-v1"
#define NRM_AUDIT_CANON_TAG "nrm.audit.event.v1"
#define NRM_AUDIT_CP_TAG "nrm-audit-checkpoint"
#define NRM_AUDIT_FIELDS 13 /* columns of audit.event */

/* nrm_audit_verify's outcomes besides NRM_ERR. */
#define NRM_AUDIT_INTACT 0
#define NRM_AUDIT_BROKEN 1

/*
 * The canonical bytes of one event, from its 13 columns as text in table
 * order (id, at, api_key_id, agency_id, role, action, object_type,
 * object_id, purpose, outcome, reason, request_id, client_addr; `at` as
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ" in UTC, client_addr as abbrev(inet)),
 * NULL for SQL NULL: the tag and each field as a 4-byte big-endian
 * length and its bytes, 0xffffffff for NULL.  *out is malloc'd; the
 * caller frees it.
 */
int nrm_audit_canonical(const char *const fields[NRM_AUDIT_FIELDS],
    unsigned char **out, size_t *outlen) NRM_MUSTCHECK;

/* The genesis prev_hash: SHA-256 of NRM_AUDIT_GENESIS_INPUT. */
void nrm_audit_genesis(unsigned char out[32]);

/*
 * The signed bytes of a checkpoint into buf (NUL-terminated; the NUL is
 * not signed): "nrm-audit-checkpoint\n<pos>\n<hash_hex>\n<at>".  Returns
 * the length, or -1 when buf is too small or `at` holds a newline.
 */
int nrm_audit_cp_message(
    int64_t pos, const char *hash_hex, const char *at, char *buf, size_t bufsz);

/*
 * Recompute the whole chain from the newest retention anchor (or
 * genesis) and print "intact, N events, head H" and a detail line, or
 * the first problem, "broken at position P (event E): expected X, found
 * Y (reason)" (see docs/audit.md for every form).  With checkpoints_path
 * (then pubkey_path, a PEM Ed25519 public key, is required) every
 * checkpoint's signature is checked and its (pos, hash) compared with
 * the recomputed chain.  Returns NRM_AUDIT_INTACT, NRM_AUDIT_BROKEN, or
 * NRM_ERR (could not tell: connection, file, key).
 */
int nrm_audit_verify(PGconn *conn, const char *checkpoints_path,
    const char *pubkey_path, FILE *out, char *errbuf,
    size_t errlen) NRM_MUSTCHECK;

/*
 * Write one JSON line per chain link whose event has from <= at < to
 * (RFC 3339 times, parsed by PostgreSQL), as the contiguous position
 * range from the first to the last such link, each line
 * {"pos", "prev_hash", "hash", "event": {13 columns as canonical text,
 * id as a number}}; every link is re-hashed on the way and a break
 * stops the export with NRM_ERR.  With checkpoints_path the range is
 * extended to the first checkpoint at or after its last position (the
 * covering checkpoint), whose hash must match, and that checkpoint is
 * written last as {"checkpoint": {...}}; pubkey_path (optional here)
 * also checks its signature.  Unsealed events in the window are not
 * exported (counted on stderr).
 */
int nrm_audit_export(PGconn *conn, const char *from, const char *to,
    const char *checkpoints_path, const char *pubkey_path, FILE *out,
    char *errbuf, size_t errlen) NRM_MUSTCHECK;

/*
 * Create a new Ed25519 private key as PKCS#8 PEM in a new file
 * `out_path` (mode 0600; an existing file is never overwritten) and
 * print its public key PEM to `pub_out`.
 */
int nrm_audit_keygen(const char *out_path, FILE *pub_out, char *errbuf,
    size_t errlen) NRM_MUSTCHECK;

/*
 * Sign the current chain head (api.audit_head()) with the Ed25519
 * private key in key_path, "at" now (UTC, seconds), and write the
 * checkpoint line to `out`.
 */
int nrm_audit_checkpoint(PGconn *conn, const char *key_path, FILE *out,
    char *errbuf, size_t errlen) NRM_MUSTCHECK;

#endif /* NRM_AUDIT_CLI_H */
