/*
 * checkpoint.h - signed checkpoints of the audit chain, kept outside the
 * database.
 *
 * Every audit_checkpoint_interval seconds nrmd reads the chain head
 * (position and hash) from the database, signs it with its Ed25519 key
 * and appends one JSON line to audit_checkpoint_file:
 *
 *   {"seq":N,"prev":"<hex>","pos":P,"hash":"<hex>","at":"<RFC 3339>",
 *    "sig":"<base64>"}
 *
 * numbered and chained to the line before (prev = SHA-256 of its
 * bytes), so a line removed, reordered or spliced in is found; the
 * signature covers "nrm-audit-checkpoint-v2\n<N>\n<prev>\n<P>\n<hex>\n<at>".
 * A file that starts with lines of the old format (issue 6) carries on
 * with numbered lines after them.  A head lower than the last one
 * signed is never signed: logged and counted
 * (nrm_audit_checkpoint_refused_total{reason="head_moved_backwards"}).
 * The format (and its strict parser) is nrm-api/common/auditchain.h's,
 * shared with nrmctl, so a line nrmd writes is one nrmctl verifies and a
 * file nrmctl would refuse is refused here at start-up too.
 * Someone who rewrites the whole chain consistently inside the database
 * cannot forge these lines without the key, so `nrmctl audit verify
 * --checkpoints FILE --public-key PEM` catches the rewrite.
 *
 * nrmd holds an exclusive flock(2) on the file for its lifetime (taken
 * before the file is read; a second writer, another nrmd or `nrmctl
 * audit checkpoint --checkpoints`, is refused instead of forking the
 * series).  The file (and its rotated parts, to check the series) is
 * read once at start-up (blocking I/O is fine then); later
 * lines are appended and fsync'd from the loop (a few hundred bytes per
 * interval); GET /v1/audit/checkpoints is served from memory.
 */
#ifndef NRM_CHECKPOINT_H
#define NRM_CHECKPOINT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "nrm/nrm.h"

struct nrm_checkpoints;

/*
 * Load the private key (PEM, Ed25519) and the existing file (created if
 * missing; every line must be a checkpoint, see auditchain.h).  *err
 * names the key or file at fault.
 */
int nrm_checkpoints_open(struct nrm_checkpoints **out, const char *key_file,
    const char *path, struct nrm_error *err) NRM_MUSTCHECK;

void nrm_checkpoints_free(struct nrm_checkpoints *cp);

/*
 * The signing key the checkpoints were opened with, borrowed (valid
 * until nrm_checkpoints_free): publications are signed with it too, so
 * the key file is read once.  NULL when cp is NULL.
 */
struct evp_pkey_st *nrm_checkpoints_key(const struct nrm_checkpoints *cp);

/*
 * Rotate the file after `lines` lines (0: never; audit_checkpoint_
 * rotate_lines): it becomes FILE.NNNNNN (000001, 000002, ...) and a new
 * FILE continues the series.  The list in memory (GET
 * /v1/audit/checkpoints, GET /v1/audit/verify) is the current file's
 * (until its first line: the previous part's last).
 */
void nrm_checkpoints_set_rotation(struct nrm_checkpoints *cp, int lines);

/*
 * Sign (pos, hash_hex) at unix time `at` and append it.  Skipped (NRM_OK)
 * when the head has not moved since the last checkpoint, or moved
 * backwards (then logged and counted).
 */
int nrm_checkpoints_add(struct nrm_checkpoints *cp, int64_t pos,
    const char *hash_hex, int64_t at) NRM_MUSTCHECK;

/*
 * The checkpoints in memory as a JSON array text (malloc'd; caller
 * frees): the newest `newest` of them, all for 0.  GET /v1/audit/verify
 * sends the newest NRM_CHECKPOINTS_VERIFY_MAX: each hash covers the
 * whole chain before it, so the newest vouch for the older ones.
 */
#define NRM_CHECKPOINTS_VERIFY_MAX 1000
char *nrm_checkpoints_json(const struct nrm_checkpoints *cp, size_t newest);

/* The public key as PEM text (malloc'd; caller frees), for docs/tests. */
char *nrm_checkpoints_public_pem(const struct nrm_checkpoints *cp);

int nrm_checkpoints_count(const struct nrm_checkpoints *cp);

/* Heads refused because they moved backwards (0 for NULL). */
uint64_t nrm_checkpoints_refused_backwards(const struct nrm_checkpoints *cp);

/*
 * The verdict of GET /v1/audit/verify's body (api.audit_verify's, a
 * cJSON object) on its retention anchor's signature, checked with this
 * daemon's key (auditchain.h's nrm_audit_anchor_problem): when the
 * anchor may not be trusted, "intact" becomes false and "first_broken"
 * names the anchor and the reason; "anchor"."signature" says "valid",
 * "invalid" or "missing".  Likewise the checkpoint an incremental
 * verification started from ("verified_from", reason "bad verified
 * checkpoint signature").  NRM_ERR only when out of memory.
 */
int nrm_checkpoints_judge_anchor(
    const struct nrm_checkpoints *cp, cJSON *body) NRM_MUSTCHECK;

#endif /* NRM_CHECKPOINT_H */
