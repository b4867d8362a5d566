/*
 * audit_export.c - nrmctl audit export: a window of the chain as JSON
 * lines, re-hashed on the way, ending with its covering checkpoint (see
 * audit_cli.h, docs/audit.md).
 */
#include "audit_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit_link.h"
#include "ctl_db.h"

struct exp_state {
	FILE *out;
	const struct nrm_audit_cp *cover; /* NULL without checkpoints */
	bool cover_seen;
	int64_t next_pos; /* -1 before the first link */
	unsigned char prev[32];
	int64_t n;
};

/* Print `o` as one line and free it; NRM_ERR when it cannot. */
static int
exp_print(FILE *out, cJSON *o)
{
	char *text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
	int rc = NRM_ERR;

	if (text != NULL && fprintf(out, "%s\n", text) >= 0)
		rc = NRM_OK;
	free(text);
	cJSON_Delete(o);
	return rc;
}

/* One link as a JSON line. */
static int
exp_link_line(FILE *out, const struct nrm_audit_link *l)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *e = cJSON_CreateObject();
	char pos[24];

	if (o == NULL || e == NULL) {
		cJSON_Delete(o);
		cJSON_Delete(e);
		return NRM_ERR;
	}
	snprintf(pos, sizeof(pos), "%" PRId64, l->pos);
	cJSON_AddItemToObject(o, "pos", cJSON_CreateRaw(pos));
	cJSON_AddStringToObject(o, "prev_hash", l->prev_hex);
	cJSON_AddStringToObject(o, "hash", l->hash_hex);
	/* id is digits (with an optional '-'): a JSON number as is. */
	cJSON_AddItemToObject(e, "id", cJSON_CreateRaw(l->fields[0]));
	for (int i = 1; i < NRM_AUDIT_FIELDS; i++) {
		/* person_id only when set: as in the canonical bytes */
		if (i == NRM_AUDIT_FIELDS - 1 && l->fields[i] == NULL)
			continue;
		if (l->fields[i] == NULL)
			cJSON_AddNullToObject(e, nrm_audit_field_names[i]);
		else
			cJSON_AddStringToObject(
			    e, nrm_audit_field_names[i], l->fields[i]);
	}
	cJSON_AddItemToObject(o, "event", e);
	return exp_print(out, o);
}

/* The covering checkpoint, {"checkpoint": {...}}. */
static int
exp_cp_line(FILE *out, const struct nrm_audit_cp *cp)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *c = nrm_audit_cp_json(cp);

	if (o == NULL || c == NULL) {
		cJSON_Delete(o);
		cJSON_Delete(c);
		return NRM_ERR;
	}
	cJSON_AddItemToObject(o, "checkpoint", c);
	return exp_print(out, o);
}

/* The window's first and last link positions and its unsealed events. */
static int
exp_range(PGconn *conn, const char *from, const char *to, int64_t *lo,
    int64_t *hi, int64_t *unsealed, struct nrm_error *err)
{
	const char *p[2] = {from, to};
	PGresult *res;
	int rc = NRM_OK;

	if (nrm_ctl_query(conn,
		"SELECT pg_catalog.min(c.pos), pg_catalog.max(c.pos), "
		"(SELECT pg_catalog.count(*) FROM audit.unsealed u "
		"JOIN audit.event x ON x.id = u.event_id "
		"WHERE x.at >= $1::timestamptz AND x.at < $2::timestamptz) "
		"FROM audit.chain c JOIN audit.event e ON e.id = c.event_id "
		"WHERE e.at >= $1::timestamptz AND e.at < $2::timestamptz",
		2, p, 1, &res, err, "export") != NRM_OK)
		return NRM_ERR;
	if (PQgetisnull(res, 0, 0))
		*lo = *hi = -1;
	if (nrm_audit_parse_i64(PQgetvalue(res, 0, 2), unsealed) != NRM_OK ||
	    (!PQgetisnull(res, 0, 0) &&
		(nrm_audit_parse_i64(PQgetvalue(res, 0, 0), lo) != NRM_OK ||
		    nrm_audit_parse_i64(PQgetvalue(res, 0, 1), hi) != NRM_OK)))
		rc = nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not export: unexpected row");
	PQclear(res);
	return rc;
}

/* Check a link against the one before and the covering checkpoint. */
static int
exp_link_cb(const struct nrm_audit_link *l, void *arg, struct nrm_error *err)
{
	struct exp_state *x = arg;

	if ((x->next_pos >= 0 &&
		(l->pos != x->next_pos || memcmp(l->prev, x->prev, 32) != 0)) ||
	    !l->present || l->canon_differs ||
	    memcmp(l->rehash, l->hash, 32) != 0)
		return nrm_error_set(err, NRM_E_CONFLICT, NULL,
		    "could not export: the chain is broken at "
		    "position %" PRId64 " (run nrmctl audit verify)",
		    x->next_pos >= 0 && l->pos != x->next_pos ? x->next_pos
							      : l->pos);
	if (exp_link_line(x->out, l) != NRM_OK)
		return nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not write the export: %s", strerror(errno));
	if (x->cover != NULL && l->pos == x->cover->pos) {
		if (strcmp(x->cover->hash, l->hash_hex) != 0)
			return nrm_error_set(err, NRM_E_CONFLICT, NULL,
			    "could not export: the covering checkpoint "
			    "(line %d) does not match the chain at "
			    "position %" PRId64,
			    x->cover->line, x->cover->pos);
		x->cover_seen = true;
	}
	memcpy(x->prev, l->hash, 32);
	x->next_pos = l->pos + 1;
	x->n++;
	return NRM_OK;
}

/* The first checkpoint at or after `hi`, whose signature is not bad. */
static int
exp_cover(const struct nrm_audit_cps *cps, const char *path, int64_t hi,
    const struct nrm_audit_cp **cover, struct nrm_error *err)
{
	*cover = NULL;
	for (size_t i = 0; i < cps->n && *cover == NULL; i++)
		if (cps->v[i].pos >= hi)
			*cover = &cps->v[i];
	if (*cover == NULL)
		return nrm_error_set(err, NRM_E_CONFLICT, NULL,
		    "could not export: no checkpoint in %s covers "
		    "position %" PRId64 " yet; export again after the "
		    "next checkpoint",
		    path, hi);
	if ((*cover)->sig_bad)
		return nrm_error_set(err, NRM_E_CONFLICT, NULL,
		    "could not export: the covering checkpoint (line "
		    "%d) has a signature that does not verify",
		    (*cover)->line);
	return NRM_OK;
}

int
nrm_audit_export(PGconn *conn, const char *from, const char *to,
    const char *checkpoints_path, const char *pubkey_path, FILE *out,
    struct nrm_error *err)
{
	struct nrm_audit_cps cps = {NULL, 0, 0};
	struct exp_state x = {.out = out, .next_pos = -1};
	int64_t lo, hi, end, unsealed;
	int rc = NRM_ERR;

	if (checkpoints_path != NULL &&
	    nrm_audit_link_checkpoints(
		checkpoints_path, pubkey_path, &cps, NULL, err) != NRM_OK)
		goto out;
	if (nrm_audit_link_session(conn, "audit.export", err) != NRM_OK ||
	    exp_range(conn, from, to, &lo, &hi, &unsealed, err) != NRM_OK)
		goto out;
	if (unsealed > 0)
		fprintf(stderr,
		    "nrmctl: %" PRId64 " event(s) in the window are not sealed "
		    "yet and are not exported; export again later\n",
		    unsealed);
	if (lo < 0) {
		fprintf(stderr, "nrmctl: no sealed events in the window\n");
		rc = NRM_OK;
		goto out;
	}
	end = hi;
	if (checkpoints_path != NULL) {
		if (exp_cover(&cps, checkpoints_path, hi, &x.cover, err) !=
		    NRM_OK)
			goto out;
		end = x.cover->pos;
	}
	if (nrm_audit_link_each(conn, lo, end, exp_link_cb, &x, err) != NRM_OK)
		goto out;
	if (x.next_pos != end + 1) {
		nrm_error_set(err, NRM_E_CONFLICT, NULL,
		    "could not export: the chain ends at position %" PRId64
		    ", before %" PRId64,
		    x.next_pos - 1, end);
		goto out;
	}
	if (x.cover != NULL &&
	    (!x.cover_seen || exp_cp_line(out, x.cover) != NRM_OK)) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not write the covering checkpoint");
		goto out;
	}
	if (fflush(out) != 0) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not write the export: %s", strerror(errno));
		goto out;
	}
	fprintf(stderr,
	    "nrmctl: exported %" PRId64 " events, positions %" PRId64
	    " to %" PRId64 "%s\n",
	    x.n, lo, end,
	    x.cover != NULL ? ", with the covering checkpoint" : "");
	rc = NRM_OK;
out:
	nrm_ctl_rollback(conn);
	nrm_audit_cps_free(&cps);
	return rc;
}
