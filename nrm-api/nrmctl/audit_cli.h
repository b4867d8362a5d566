/*
 * audit_cli.h - nrmctl's audit commands: verify the audit hash chain on
 * the client (and signed checkpoints against it), export events as JSON
 * lines for off-site archiving, create an Ed25519 checkpoint key, and
 * sign the current chain head as a checkpoint.  audit_verify.c,
 * audit_export.c and audit_sign.c implement them; what verify and export
 * share is audit_link.h's, the chain's formats (canonical encoding,
 * checkpoint message and line, keys) are nrm-api/common/auditchain.h's,
 * the same code nrmd signs its checkpoints with.
 *
 * canonical() is re-implemented in C (nrm_audit_canonical) from the raw
 * columns and cross-checked against the database's audit.canonical() on
 * every link, so a database whose function was replaced is caught too.
 *
 * Synchronous libpq, admin tool only.  The functions read in one
 * REPEATABLE READ READ ONLY transaction (one snapshot) and leave `conn`
 * idle; verify and export first append their own audit event
 * (audit.verify / audit.export, principal null, purpose audit) through
 * audit.record_cli, in a transaction of its own: run them as the owner
 * or as a login in nrm_audit_reader (SELECT on the audit tables and that
 * function, nothing else; 0014).
 * On NRM_ERR, err->detail holds "could not ...: reason" (no prefix, no
 * newline).  Results go to `out`.
 */
#ifndef NRM_AUDIT_CLI_H
#define NRM_AUDIT_CLI_H

#include <stdio.h>

#include <libpq-fe.h>

#include "nrm/nrm.h"

/* nrm_audit_verify's outcomes besides NRM_ERR. */
#define NRM_AUDIT_INTACT 0
#define NRM_AUDIT_BROKEN 1

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
    const char *pubkey_path, FILE *out, struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Write one JSON line per chain link whose event has from <= at < to
 * (RFC 3339 times, parsed by PostgreSQL), as the contiguous position
 * range from the first to the last such link, each line
 * {"pos", "prev_hash", "hash", "event": {the 13 columns as canonical
 * text, and person_id when not NULL,
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
    struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Create a new Ed25519 private key as PKCS#8 PEM in a new file
 * `out_path` (mode 0600; an existing file is never overwritten) and
 * print its public key PEM to `pub_out`.
 */
int nrm_audit_keygen(
    const char *out_path, FILE *pub_out, struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Sign the current chain head (api.audit_head()) with the Ed25519
 * private key in key_path, "at" now (UTC, seconds).  With cps_path
 * (not NULL): under an exclusive flock(2) of that file (refused while
 * nrmd holds it), check its series (nrm_audit_cps_tail), append the
 * next numbered, chained line (fsync'd) and print it to `out`.  Without
 * it: print an unnumbered line to `out` (the first format, valid only
 * before a file's numbered lines begin).
 */
int nrm_audit_checkpoint(PGconn *conn, const char *key_path,
    const char *cps_path, FILE *out, struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Purge the audit events older than `before` (audit.purge_before, which
 * refuses a boundary younger than audit.retention_policy.min_age) and,
 * in the same transaction, sign the anchor it leaves with the Ed25519
 * private key in key_path (audit.anchor_signature).  Prints the purge's
 * answer with the signature's "signed_at" to `out`.  Run as the owner.
 */
int nrm_audit_purge(PGconn *conn, const char *before, const char *key_path,
    FILE *out, struct nrm_error *err) NRM_MUSTCHECK;

#endif /* NRM_AUDIT_CLI_H */
