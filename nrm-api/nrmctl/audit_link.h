/*
 * audit_link.h - what nrmctl's audit verify and export share: the
 * session they read in, the audit event they record, the retention
 * anchor, the checkpoints file, and the chain streamed link by link and
 * re-hashed on the way.
 *
 * Synchronous libpq.  Errors go to err as "could not ...: reason".
 */
#ifndef NRM_AUDIT_LINK_H
#define NRM_AUDIT_LINK_H

#include <stdint.h>

#include <libpq-fe.h>

#include "auditchain.h"
#include "nrm/nrm.h"

/* A link row, checked; the pointers live as long as the callback. */
struct nrm_audit_link {
	int64_t pos;
	const char *event_id; /* text, "" when the link has none */
	const char *prev_hex;
	const char *hash_hex;
	unsigned char prev[32];
	unsigned char hash[32];
	unsigned char rehash[32]; /* of the event as it is now */
	bool present;
	bool canon_differs; /* the database's audit.canonical() disagrees */
	const char *fields[NRM_AUDIT_FIELDS]; /* NULL for SQL NULL */
};

/* The event columns' names, in table order (export's JSON keys). */
extern const char *const nrm_audit_field_names[NRM_AUDIT_FIELDS];

/*
 * Called for each link in position order.  Returns NRM_OK to go on, 1 to
 * read the rest without decoding it, NRM_ERR (err set) to stop.
 */
typedef int (*nrm_audit_link_cb)(
    const struct nrm_audit_link *l, void *arg, struct nrm_error *err);

/*
 * Record `action` (audit.verify, audit.export) as an audit event of its
 * own, committed; then open the one REPEATABLE READ READ ONLY snapshot
 * everything after reads in (session in UTC, a safe search_path).
 */
int nrm_audit_link_session(
    PGconn *conn, const char *action, struct nrm_error *err) NRM_MUSTCHECK;

/* The retention anchor verification starts from, and its signature. */
struct nrm_audit_anchor {
	int64_t pos; /* 0: no purge, hash = genesis */
	unsigned char hash[32];
	char hash_hex[NRM_AUDIT_HEX_LEN + 1];
	bool has_sig; /* audit.anchor_signature holds a row for it */
	char signed_at[NRM_AUDIT_AT_MAX + 1];
	char sig[NRM_AUDIT_SIG_B64_MAX + 1];
};

/* The newest anchor: (0, genesis, no signature) without a purge. */
int nrm_audit_link_anchor(PGconn *conn, struct nrm_audit_anchor *a,
    struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Stream the links with lo <= pos <= hi (hi < 0: no bound) to `cb`,
 * each re-hashed and its canonical bytes compared with the database's.
 */
int nrm_audit_link_each(PGconn *conn, int64_t lo, int64_t hi,
    nrm_audit_link_cb cb, void *arg, struct nrm_error *err) NRM_MUSTCHECK;

/* Where a checkpoint series does not hold together (line 0: it does). */
struct nrm_audit_series_break {
	int line;
	int part; /* 0: the file named; k: its rotated part k */
	int64_t seq; /* that line's number, 0 for the old format */
	const char *why; /* nrm_audit_cps_check's reason */
};

/*
 * The checkpoints of `path` and its rotated parts (path.000001, ...,
 * oldest first: nrm_audit_cps_load_series) sorted by position (then
 * file order), each
 * signature checked when the public key file `pubkey_path` is given;
 * the series is checked first, in file order (nrm_audit_cps_check):
 * with `brk` its first break is reported there, without one it is an
 * error ("could not read checkpoints P: line N: reason").
 */
int nrm_audit_link_checkpoints(const char *path, const char *pubkey_path,
    struct nrm_audit_cps *cps, struct nrm_audit_series_break *brk,
    struct nrm_error *err) NRM_MUSTCHECK;

/* A decimal integer (optional '-') that fits int64_t. */
int nrm_audit_parse_i64(const char *s, int64_t *out) NRM_MUSTCHECK;

#endif /* NRM_AUDIT_LINK_H */
