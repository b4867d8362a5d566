/*
 * audit_link.c - the chain as nrmctl reads it: session, anchor, links,
 * checkpoints file (see audit_link.h).
 */
#include "audit_link.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "ctl_db.h"

/*
 * The columns every link query selects, in this order: the link (pos,
 * event_id, prev_hash hex, hash hex, whether the event row exists), the
 * 14 event columns as canonical text, and the database's own canonical
 * bytes (hex) for the cross-check.
 */
#define LINK_COLUMNS \
	"c.pos, c.event_id, pg_catalog.encode(c.prev_hash, 'hex'), " \
	"pg_catalog.encode(c.hash, 'hex'), e.id IS NOT NULL, " \
	"e.id::text, pg_catalog.to_char(e.at AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), e.api_key_id::text, " \
	"e.agency_id::text, e.role, e.action, e.object_type, e.object_id, " \
	"e.purpose, e.outcome, e.reason, e.request_id, " \
	"pg_catalog.abbrev(e.client_addr), e.person_id::text, " \
	"CASE WHEN e.id IS NOT NULL " \
	"THEN pg_catalog.encode(audit.canonical(e), 'hex') END "
#define LINK_COL_POS 0
#define LINK_COL_EVENT 1
#define LINK_COL_PREV 2
#define LINK_COL_HASH 3
#define LINK_COL_PRESENT 4
#define LINK_COL_FIELDS 5
#define LINK_COL_DBCANON (LINK_COL_FIELDS + NRM_AUDIT_FIELDS)
#define LINK_NCOLS (LINK_COL_DBCANON + 1)

const char *const nrm_audit_field_names[NRM_AUDIT_FIELDS] = {
    "id",
    "at",
    "api_key_id",
    "agency_id",
    "role",
    "action",
    "object_type",
    "object_id",
    "purpose",
    "outcome",
    "reason",
    "request_id",
    "client_addr",
    "person_id",
};

int
nrm_audit_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || s[0] == '\0')
		return NRM_ERR;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return NRM_ERR;
	*out = (int64_t)v;
	return NRM_OK;
}

int
nrm_audit_link_session(PGconn *conn, const char *action, struct nrm_error *err)
{
	const char *p[1] = {action};

	if (nrm_ctl_query(conn, "SELECT audit.record_cli($1)", 1, p, -1, NULL,
		err,
		"record the audit event %s (run as the owner or a member of "
		"nrm_audit_reader)",
		action) != NRM_OK)
		return NRM_ERR;
	/* Times without a zone (--from, --to) are UTC. */
	if (nrm_ctl_exec(conn,
		"SET search_path = pg_catalog, pg_temp; SET TimeZone = 'UTC'",
		err, "set up the session") != NRM_OK)
		return NRM_ERR;
	return nrm_ctl_exec(conn,
	    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err,
	    "begin a read-only transaction");
}

int
nrm_audit_link_anchor(
    PGconn *conn, struct nrm_audit_anchor *a, struct nrm_error *err)
{
	PGresult *res;
	int rc = NRM_OK;

	memset(a, 0, sizeof(*a));
	if (nrm_ctl_query(conn,
		"SELECT r.purged_through_pos, "
		"pg_catalog.encode(r.anchor_hash, 'hex'), s.signed_at, s.sig "
		"FROM audit.retention r LEFT JOIN audit.anchor_signature s "
		"ON s.purged_through_pos = r.purged_through_pos "
		"ORDER BY r.purged_through_pos DESC LIMIT 1",
		0, NULL, -1, &res, err, "read the anchor") != NRM_OK)
		return NRM_ERR;
	if (PQntuples(res) == 0) {
		nrm_audit_genesis(a->hash);
	} else if (nrm_audit_parse_i64(PQgetvalue(res, 0, 0), &a->pos) !=
		NRM_OK ||
	    PQgetlength(res, 0, 1) != NRM_AUDIT_HEX_LEN ||
	    nrm_unhex(PQgetvalue(res, 0, 1), NRM_AUDIT_HEX_LEN, a->hash) !=
		NRM_OK ||
	    PQgetlength(res, 0, 2) > NRM_AUDIT_AT_MAX ||
	    PQgetlength(res, 0, 3) > NRM_AUDIT_SIG_B64_MAX) {
		rc = nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not read the anchor: unexpected row");
	} else if (!PQgetisnull(res, 0, 3)) {
		a->has_sig = true;
		snprintf(a->signed_at, sizeof(a->signed_at), "%s",
		    PQgetvalue(res, 0, 2));
		snprintf(a->sig, sizeof(a->sig), "%s", PQgetvalue(res, 0, 3));
	}
	nrm_hex(a->hash, 32, a->hash_hex);
	PQclear(res);
	return rc;
}

/* Re-hash a present link and compare with the database's encoding. */
static int
link_rehash(const PGresult *res, struct nrm_audit_link *l)
{
	unsigned char *canon = NULL;
	unsigned char *buf = NULL;
	size_t clen = 0;
	const char *db;
	unsigned char *dbc = NULL;
	size_t dblen;
	int rc = NRM_ERR;

	if (nrm_audit_canonical(l->fields, &canon, &clen) != NRM_OK)
		goto out;
	db = PQgetvalue(res, 0, LINK_COL_DBCANON);
	dblen = (size_t)PQgetlength(res, 0, LINK_COL_DBCANON);
	dbc = malloc(dblen / 2 + 1);
	if (dbc == NULL || nrm_unhex(db, dblen, dbc) != NRM_OK)
		goto out;
	l->canon_differs = dblen / 2 != clen || memcmp(dbc, canon, clen) != 0;
	buf = malloc(32 + clen);
	if (buf == NULL)
		goto out;
	memcpy(buf, l->prev, 32);
	memcpy(buf + 32, canon, clen);
	nrm_sha256(buf, 32 + clen, l->rehash);
	rc = NRM_OK;
out:
	free(buf);
	free(canon);
	free(dbc);
	return rc;
}

/* Decode a row; NRM_ERR when the database sent something malformed. */
static int
link_read(const PGresult *res, struct nrm_audit_link *l)
{
	memset(l, 0, sizeof(*l));
	if (PQnfields(res) != LINK_NCOLS ||
	    nrm_audit_parse_i64(PQgetvalue(res, 0, LINK_COL_POS), &l->pos) !=
		NRM_OK ||
	    PQgetlength(res, 0, LINK_COL_PREV) != NRM_AUDIT_HEX_LEN ||
	    PQgetlength(res, 0, LINK_COL_HASH) != NRM_AUDIT_HEX_LEN)
		return NRM_ERR;
	l->event_id = PQgetvalue(res, 0, LINK_COL_EVENT);
	l->prev_hex = PQgetvalue(res, 0, LINK_COL_PREV);
	l->hash_hex = PQgetvalue(res, 0, LINK_COL_HASH);
	if (nrm_unhex(l->prev_hex, NRM_AUDIT_HEX_LEN, l->prev) != NRM_OK ||
	    nrm_unhex(l->hash_hex, NRM_AUDIT_HEX_LEN, l->hash) != NRM_OK)
		return NRM_ERR;
	l->present = strcmp(PQgetvalue(res, 0, LINK_COL_PRESENT), "t") == 0;
	for (int i = 0; i < NRM_AUDIT_FIELDS; i++)
		l->fields[i] = PQgetisnull(res, 0, LINK_COL_FIELDS + i)
		    ? NULL
		    : PQgetvalue(res, 0, LINK_COL_FIELDS + i);
	return l->present ? link_rehash(res, l) : NRM_OK;
}

int
nrm_audit_link_each(PGconn *conn, int64_t lo, int64_t hi, nrm_audit_link_cb cb,
    void *arg, struct nrm_error *err)
{
	char los[24], his[24];
	const char *p[2] = {los, his};
	PGresult *res = NULL;
	bool skip = false;
	int rc = NRM_ERR;

	snprintf(los, sizeof(los), "%" PRId64, lo);
	snprintf(his, sizeof(his), "%" PRId64, hi);
	if (!PQsendQueryParams(conn,
		"SELECT " LINK_COLUMNS
		"FROM audit.chain c LEFT JOIN audit.event e "
		"ON e.id = c.event_id "
		"WHERE c.pos >= $1::bigint "
		"AND ($2::bigint < 0 OR c.pos <= $2::bigint) "
		"ORDER BY c.pos",
		2, NULL, p, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(conn))
		return nrm_ctl_db_error(NULL, conn, err, "read the chain");
	while ((res = PQgetResult(conn)) != NULL) {
		struct nrm_audit_link l;
		int r;

		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			PQclear(res);
			continue;
		}
		if (PQresultStatus(res) != PGRES_SINGLE_TUPLE) {
			nrm_ctl_db_error(res, conn, err, "read the chain");
			goto out;
		}
		if (!skip) {
			if (link_read(res, &l) != NRM_OK) {
				nrm_error_set(err, NRM_E_INTERNAL, NULL,
				    "could not read the chain: malformed row");
				goto out;
			}
			r = cb(&l, arg, err);
			if (r == NRM_ERR)
				goto out;
			skip = r != NRM_OK;
		}
		PQclear(res);
	}
	rc = NRM_OK;
out:
	PQclear(res);
	return rc;
}

static int
link_cp_cmp(const void *a, const void *b)
{
	const struct nrm_audit_cp *x = a;
	const struct nrm_audit_cp *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	if (x->part != y->part) /* rotated parts (1, 2, ...) before 0 */
		return (x->part == 0 ? INT32_MAX : x->part) <
			(y->part == 0 ? INT32_MAX : y->part)
		    ? -1
		    : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

int
nrm_audit_link_checkpoints(const char *path, const char *pubkey_path,
    struct nrm_audit_cps *cps, struct nrm_audit_series_break *brk,
    struct nrm_error *err)
{
	EVP_PKEY *pkey = NULL;
	size_t bad = 0;
	const char *why = NULL;
	int parts = 0;
	int rc = NRM_ERR;

	if (pubkey_path != NULL) {
		pkey = nrm_audit_key_load(pubkey_path, false, NULL, err);
		if (pkey == NULL)
			return NRM_ERR;
	}
	if (nrm_audit_cps_load_series(path, pkey, cps, &parts, NULL, err) !=
	    NRM_OK)
		goto out;
	if (parts == 0 && access(path, F_OK) != 0) {
		nrm_error_set(err, NRM_E_VALIDATION, NULL,
		    "could not open checkpoints %s: %s", path,
		    strerror(ENOENT));
		nrm_audit_cps_free(cps);
		goto out;
	}
	if (brk != NULL)
		memset(brk, 0, sizeof(*brk));
	if (nrm_audit_cps_check(cps, &bad, &why) != NRM_OK) {
		if (brk == NULL) {
			nrm_error_set(err, NRM_E_VALIDATION, NULL,
			    "could not read checkpoints %s: line %d: %s", path,
			    cps->v[bad].line, why);
			nrm_audit_cps_free(cps);
			goto out;
		}
		brk->line = cps->v[bad].line;
		brk->part = cps->v[bad].part;
		brk->seq = cps->v[bad].seq;
		brk->why = why;
	}
	if (cps->n > 0)
		qsort(cps->v, cps->n, sizeof(*cps->v), link_cp_cmp);
	rc = NRM_OK;
out:
	EVP_PKEY_free(pkey);
	return rc;
}
