/*
 * audit_verify.c - nrmctl audit verify: recompute the chain here and
 * check signed checkpoints against it (see audit_cli.h, docs/audit.md).
 */
#include "audit_cli.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit_link.h"
#include "crypto.h"
#include "ctl_db.h"

struct ver_state {
	int64_t next_pos; /* the position the next link must have */
	unsigned char prev[32]; /* the hash it must continue from */
	int64_t links;
	bool broken;
	char report[768];
	const struct nrm_audit_cps *cps;
	size_t cp_next; /* first checkpoint not yet compared */
	const struct nrm_audit_cp *cp_bad; /* first that disagrees */
	char cp_found[NRM_AUDIT_HEX_LEN + 1];
	int64_t cp_checked;
	int64_t cp_skipped;
};

static void ver_break(struct ver_state *v, const char *fmt, ...)
    NRM_PRINTF(2, 3);

static void
ver_break(struct ver_state *v, const char *fmt, ...)
{
	va_list ap;

	if (v->broken)
		return;
	v->broken = true;
	va_start(ap, fmt);
	vsnprintf(v->report, sizeof(v->report), fmt, ap);
	va_end(ap);
}

/* Compare checkpoints at position `pos` (hash hex) and skip earlier ones. */
static void
ver_cps_at(struct ver_state *v, int64_t pos, const char *hash_hex)
{
	const struct nrm_audit_cps *cps = v->cps;

	while (v->cp_next < cps->n && cps->v[v->cp_next].pos <= pos) {
		const struct nrm_audit_cp *cp = &cps->v[v->cp_next++];

		if (cp->pos < pos) {
			/* A position the chain does not have (a gap). */
			if (v->cp_bad == NULL) {
				v->cp_bad = cp;
				snprintf(
				    v->cp_found, sizeof(v->cp_found), "none");
			}
			continue;
		}
		v->cp_checked++;
		if (strcmp(cp->hash, hash_hex) != 0 && v->cp_bad == NULL) {
			v->cp_bad = cp;
			snprintf(
			    v->cp_found, sizeof(v->cp_found), "%s", hash_hex);
		}
	}
}

/*
 * Check one link against the chain so far (the order of checks is the
 * one of audit.verify_chain, so both name the same first break); after
 * a break the rest is read without decoding.
 */
static int
ver_link_cb(const struct nrm_audit_link *l, void *arg, struct nrm_error *err)
{
	struct ver_state *v = arg;
	char want[NRM_AUDIT_HEX_LEN + 1];
	char now[NRM_AUDIT_HEX_LEN + 1];

	NRM_UNUSED(err);
	nrm_hex(v->prev, 32, want);
	if (l->pos != v->next_pos)
		ver_break(v,
		    "broken at position %" PRId64 " (event unknown): "
		    "expected %s, found none (missing event)",
		    v->next_pos, l->prev_hex);
	else if (memcmp(l->prev, v->prev, 32) != 0)
		ver_break(v,
		    "broken at position %" PRId64 " (event %s): "
		    "expected %s, found %s (order)",
		    l->pos, l->event_id, want, l->prev_hex);
	else if (!l->present)
		ver_break(v,
		    "broken at position %" PRId64 " (event %s): "
		    "expected %s, found none (missing event)",
		    l->pos, l->event_id, l->hash_hex);
	else if (l->canon_differs)
		ver_break(v,
		    "broken at position %" PRId64 " (event %s): the "
		    "database's audit.canonical() differs from nrmctl's "
		    "encoding (canonical mismatch)",
		    l->pos, l->event_id);
	else if (memcmp(l->rehash, l->hash, 32) != 0) {
		nrm_hex(l->rehash, 32, now);
		ver_break(v,
		    "broken at position %" PRId64 " (event %s): "
		    "expected %s, found %s (hash mismatch)",
		    l->pos, l->event_id, l->hash_hex, now);
	}
	if (v->broken)
		return 1;
	memcpy(v->prev, l->hash, 32);
	v->next_pos = l->pos + 1;
	v->links++;
	ver_cps_at(v, l->pos, l->hash_hex);
	return NRM_OK;
}

/* Events neither chained nor queued, and the queue length. */
static int
ver_unchained(PGconn *conn, int64_t *n, char *first, size_t firstsz,
    int64_t *unsealed, struct nrm_error *err)
{
	PGresult *res;
	int rc = NRM_OK;

	if (nrm_ctl_query(conn,
		"SELECT pg_catalog.count(*), pg_catalog.min(e.id)::text, "
		"(SELECT pg_catalog.count(*) FROM audit.unsealed) "
		"FROM audit.event e "
		"WHERE NOT EXISTS (SELECT 1 FROM audit.chain c "
		"WHERE c.event_id = e.id) "
		"AND NOT EXISTS (SELECT 1 FROM audit.unsealed u "
		"WHERE u.event_id = e.id)",
		0, NULL, 1, &res, err, "look for unchained events") != NRM_OK)
		return NRM_ERR;
	if (nrm_audit_parse_i64(PQgetvalue(res, 0, 0), n) != NRM_OK ||
	    nrm_audit_parse_i64(PQgetvalue(res, 0, 2), unsealed) != NRM_OK)
		rc = nrm_ctl_db_error(
		    res, conn, err, "look for unchained events");
	snprintf(first, firstsz, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return rc;
}

/* The anchor's problem (auditchain.h's rule), when there is a key. */
static const char *
ver_anchor(const struct nrm_audit_anchor *a, EVP_PKEY *pkey, int64_t skipped)
{
	if (pkey == NULL)
		return NULL;
	return nrm_audit_anchor_problem(pkey, a->pos, a->hash_hex,
	    a->has_sig ? a->signed_at : NULL, a->has_sig ? a->sig : NULL,
	    skipped);
}

/* The verdict: the first problem found, or the intact report. */
static int
ver_report(const struct ver_state *v, const struct nrm_audit_anchor *anchor,
    const char *anchor_bad, int64_t unchained, const char *first_unchained,
    int64_t unsealed, const char *pubkey_path, FILE *out)
{
	int64_t anchor_pos = anchor->pos;
	const struct nrm_audit_cps *cps = v->cps;
	const struct nrm_audit_cp *sig_bad = NULL;
	char head_hex[NRM_AUDIT_HEX_LEN + 1];

	for (size_t i = 0; i < cps->n && sig_bad == NULL; i++)
		if (cps->v[i].sig_bad)
			sig_bad = &cps->v[i];
	if (sig_bad != NULL) {
		fprintf(out,
		    "broken: the checkpoint on line %d (position %" PRId64
		    ") has a signature that does not verify with %s (bad "
		    "signature)\n",
		    sig_bad->line, sig_bad->pos, pubkey_path);
		return NRM_AUDIT_BROKEN;
	}
	if (anchor_bad != NULL) {
		fprintf(out,
		    "broken at position %" PRId64 ": the retention anchor %s, "
		    "%" PRId64 " checkpoint(s) before it skipped (%s)\n",
		    anchor_pos,
		    anchor->has_sig ? "has a signature that does not verify"
				    : "is not signed",
		    v->cp_skipped, anchor_bad);
		return NRM_AUDIT_BROKEN;
	}
	if (v->broken) {
		fprintf(out, "%s\n", v->report);
		return NRM_AUDIT_BROKEN;
	}
	if (unchained > 0) {
		fprintf(out,
		    "broken: event %s is neither chained nor queued for "
		    "sealing, %" PRId64 " such event(s) (unchained event)\n",
		    first_unchained, unchained);
		return NRM_AUDIT_BROKEN;
	}
	if (v->cp_bad != NULL) {
		fprintf(out,
		    "broken at position %" PRId64 ": the checkpoint on line %d "
		    "expected %s, found %s (checkpoint mismatch)\n",
		    v->cp_bad->pos, v->cp_bad->line, v->cp_bad->hash,
		    v->cp_found);
		return NRM_AUDIT_BROKEN;
	}
	if (v->cp_next < cps->n) {
		const struct nrm_audit_cp *cp = &cps->v[v->cp_next];

		fprintf(out,
		    "broken at position %" PRId64 ": the checkpoint on line %d "
		    "expected %s, found none: the chain ends at position "
		    "%" PRId64 " (beyond head)\n",
		    cp->pos, cp->line, cp->hash, v->next_pos - 1);
		return NRM_AUDIT_BROKEN;
	}
	nrm_hex(v->prev, 32, head_hex);
	fprintf(
	    out, "intact, %" PRId64 " events, head %s\n", v->links, head_hex);
	fprintf(out, "head position %" PRId64 ", ", v->next_pos - 1);
	if (anchor_pos > 0)
		fprintf(out,
		    "verified from the retention anchor at position %" PRId64
		    " (%s)",
		    anchor_pos,
		    pubkey_path == NULL ? "signature not checked"
			: anchor->has_sig
			? "signed"
			: "not signed, no checkpoint skipped");
	else
		fputs("verified from genesis", out);
	fprintf(out, "; %" PRId64 " event(s) waiting to be sealed", unsealed);
	if (pubkey_path != NULL)
		fprintf(out,
		    "; %" PRId64 " checkpoint(s) verified, %" PRId64
		    " before the anchor skipped",
		    v->cp_checked, v->cp_skipped);
	fputc('\n', out);
	return NRM_AUDIT_INTACT;
}

int
nrm_audit_verify(PGconn *conn, const char *checkpoints_path,
    const char *pubkey_path, FILE *out, struct nrm_error *err)
{
	struct nrm_audit_cps cps = {NULL, 0, 0};
	struct ver_state v;
	struct nrm_audit_anchor anchor;
	struct nrm_audit_series_break series = {0, 0, 0, NULL};
	EVP_PKEY *pkey = NULL;
	int64_t unchained = 0, unsealed = 0;
	char first_unchained[32];
	int rc = NRM_ERR;

	memset(&v, 0, sizeof(v));
	v.cps = &cps;
	if (checkpoints_path != NULL) {
		if (pubkey_path == NULL) {
			nrm_error_set(err, NRM_E_BAD_REQUEST, "public-key",
			    "could not check checkpoints: no public key");
			goto out;
		}
		if (nrm_audit_link_checkpoints(checkpoints_path, pubkey_path,
			&cps, &series, err) != NRM_OK)
			goto out;
		pkey = nrm_audit_key_load(pubkey_path, false, NULL, err);
		if (pkey == NULL)
			goto out;
	}
	if (nrm_audit_link_session(conn, "audit.verify", err) != NRM_OK ||
	    nrm_audit_link_anchor(conn, &anchor, err) != NRM_OK)
		goto out;
	v.next_pos = anchor.pos + 1;
	memcpy(v.prev, anchor.hash, 32);

	/* Checkpoints at or before the anchor: the anchor or purged. */
	while (v.cp_next < cps.n && cps.v[v.cp_next].pos < anchor.pos) {
		v.cp_next++;
		v.cp_skipped++;
	}
	ver_cps_at(&v, anchor.pos, anchor.hash_hex);

	if (nrm_audit_link_each(
		conn, anchor.pos + 1, -1, ver_link_cb, &v, err) != NRM_OK ||
	    ver_unchained(conn, &unchained, first_unchained,
		sizeof(first_unchained), &unsealed, err) != NRM_OK)
		goto out;
	nrm_ctl_rollback(conn);
	if (series.line > 0) {
		char part[32] = "";

		if (series.part > 0)
			snprintf(
			    part, sizeof(part), " of part %06d", series.part);
		fprintf(out,
		    "broken: the checkpoint on line %d%s (number %" PRId64
		    ") does not continue the series: a line was removed, "
		    "reordered or spliced in (%s)\n",
		    series.line, part, series.seq, series.why);
		rc = NRM_AUDIT_BROKEN;
	} else {
		rc = ver_report(&v, &anchor,
		    ver_anchor(&anchor, pkey, v.cp_skipped), unchained,
		    first_unchained, unsealed,
		    checkpoints_path != NULL ? pubkey_path : NULL, out);
	}
	fflush(out);
out:
	nrm_ctl_rollback(conn);
	nrm_audit_cps_free(&cps);
	EVP_PKEY_free(pkey);
	return rc;
}
