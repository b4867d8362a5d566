/*
 * keys.c - API key administration for nrmctl (see keys.h).
 */
#include "keys.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"

static const char *const key_roles[] = {
    "reporter",
    "coordinator",
    "assessor",
    "investigator",
    "auditor",
    "analyst",
    "admin",
};

static const char *const key_kinds[] = {
    "police",
    "kmar",
    "labour_inspectorate",
    "care_agency",
    "ngo",
    "municipality",
    "national_centre",
    "assessment_body",
    "other",
};

static void key_seterr(char *errbuf, size_t errlen, const char *fmt, ...)
    NRM_PRINTF(3, 4);

static void
key_seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* The primary message of a failed result (or connection), one line. */
static void
key_pgerr(const PGresult *res, PGconn *conn, char *out, size_t outlen)
{
	const char *msg = NULL;

	if (res != NULL)
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (msg == NULL)
		msg = PQerrorMessage(conn);
	snprintf(out, outlen, "%s", msg);
	out[strcspn(out, "\n")] = '\0';
}

static bool
key_in(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

bool
nrm_key_role_valid(const char *role)
{
	return role != NULL &&
	    key_in(role, key_roles, NRM_ARRAY_LEN(key_roles));
}

bool
nrm_key_kind_valid(const char *kind)
{
	return kind != NULL &&
	    key_in(kind, key_kinds, NRM_ARRAY_LEN(key_kinds));
}

/* "VR13", "NATIONAL": upper-case letters and digits, 1..15. */
bool
nrm_key_region_code_valid(const char *code)
{
	size_t n = 0;

	if (code == NULL)
		return false;
	for (const char *p = code; *p != '\0'; p++, n++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return false;
	return n >= 1 && n <= 15;
}

static int
key_exec(PGconn *conn, const char *sql, char *errbuf, size_t errlen,
    const char *what)
{
	PGresult *res;
	char why[512];
	int rc = NRM_OK;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		key_pgerr(res, conn, why, sizeof(why));
		key_seterr(errbuf, errlen, "could not %s: %s", what, why);
		rc = NRM_ERR;
	}
	PQclear(res);
	return rc;
}

static void
key_rollback(PGconn *conn)
{
	PGresult *res;

	if (PQtransactionStatus(conn) == PQTRANS_IDLE)
		return;
	res = PQexec(conn, "ROLLBACK");
	PQclear(res);
}

/* Check the spec before any query; build the regions array literal. */
static int
key_check_spec(const struct nrm_key_spec *spec, char *regions, size_t rlen,
    char *errbuf, size_t errlen)
{
	size_t off = 0;

	if (!nrm_key_role_valid(spec->role)) {
		key_seterr(errbuf, errlen,
		    "could not create key: unknown role "
		    "(reporter, coordinator, assessor, investigator, auditor, "
		    "analyst, admin)");
		return NRM_ERR;
	}
	if (!nrm_key_kind_valid(spec->agency_kind)) {
		key_seterr(errbuf, errlen,
		    "could not create key: unknown "
		    "agency kind (police, kmar, labour_inspectorate, "
		    "care_agency, ngo, municipality, national_centre, "
		    "assessment_body, other)");
		return NRM_ERR;
	}
	if (spec->agency == NULL || spec->agency[0] == '\0' ||
	    strlen(spec->agency) > 200 ||
	    isspace((unsigned char)spec->agency[0]) ||
	    isspace((unsigned char)spec->agency[strlen(spec->agency) - 1])) {
		key_seterr(errbuf, errlen,
		    "could not create key: the agency "
		    "name must be 1 to 200 characters without surrounding "
		    "spaces");
		return NRM_ERR;
	}
	if (spec->label != NULL &&
	    (spec->label[0] == '\0' || strlen(spec->label) > 200)) {
		key_seterr(errbuf, errlen,
		    "could not create key: the label "
		    "must be 1 to 200 characters");
		return NRM_ERR;
	}
	if (strcmp(spec->role, "coordinator") == 0 && spec->n_regions == 0) {
		key_seterr(errbuf, errlen,
		    "could not create key: a "
		    "coordinator key needs at least one --region");
		return NRM_ERR;
	}
	if (strcmp(spec->role, "coordinator") != 0 && spec->n_regions > 0) {
		key_seterr(errbuf, errlen,
		    "could not create key: only "
		    "coordinator keys take --region");
		return NRM_ERR;
	}
	regions[0] = '\0';
	if (spec->n_regions == 0)
		return NRM_OK;
	for (int i = 0; i < spec->n_regions; i++) {
		int n;

		if (!nrm_key_region_code_valid(spec->regions[i])) {
			key_seterr(errbuf, errlen,
			    "could not create key: "
			    "region codes are upper-case letters and digits "
			    "(VR13, NATIONAL)");
			return NRM_ERR;
		}
		n = snprintf(regions + off, rlen - off, "%s%s",
		    i == 0 ? "{" : ",", spec->regions[i]);
		if (n < 0 || (size_t)n >= rlen - off)
			goto toolong;
		off += (size_t)n;
	}
	if (off + 2 > rlen)
		goto toolong;
	regions[off] = '}';
	regions[off + 1] = '\0';
	return NRM_OK;
toolong:
	key_seterr(errbuf, errlen, "could not create key: too many regions");
	return NRM_ERR;
}

int
nrm_key_create(PGconn *conn, const struct nrm_key_spec *spec,
    char token[NRM_TOKEN_LEN + 1], char key_id[NRM_UUID_LEN + 1], char *errbuf,
    size_t errlen)
{
	char regions[NRM_KEY_MAX_REGIONS * 17 + 4];
	unsigned char hash[NRM_SHA256_LEN];
	char why[512];
	const char *p[5];
	int lens[5];
	int fmts[5];
	PGresult *res = NULL;
	char agency_id[NRM_UUID_LEN + 1];
	int rc = NRM_ERR;

	token[0] = '\0';
	if (key_check_spec(spec, regions, sizeof(regions), errbuf, errlen) !=
	    NRM_OK)
		return NRM_ERR;
	if (nrm_token_new(token, NRM_TOKEN_LEN + 1) != NRM_OK) {
		key_seterr(errbuf, errlen,
		    "could not create key: the random "
		    "number generator failed");
		return NRM_ERR;
	}
	nrm_sha256(token, NRM_TOKEN_LEN, hash);

	if (key_exec(conn, "BEGIN", errbuf, errlen, "create key") != NRM_OK)
		goto cleanup;

	p[0] = spec->agency;
	p[1] = spec->agency_kind;
	res = PQexecParams(conn,
	    "INSERT INTO auth.agency (name, kind) VALUES ($1, $2) "
	    "ON CONFLICT (name) DO NOTHING",
	    2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		key_pgerr(res, conn, why, sizeof(why));
		key_seterr(errbuf, errlen, "could not create agency: %s", why);
		goto cleanup;
	}
	PQclear(res);
	res = PQexecParams(conn,
	    "SELECT id, kind FROM auth.agency WHERE name = $1", 1, NULL, p,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		key_pgerr(res, conn, why, sizeof(why));
		key_seterr(errbuf, errlen, "could not find agency: %s", why);
		goto cleanup;
	}
	if (strcmp(PQgetvalue(res, 0, 1), spec->agency_kind) != 0) {
		key_seterr(errbuf, errlen,
		    "could not create key: agency "
		    "\"%s\" exists with kind %s, not %s",
		    spec->agency, PQgetvalue(res, 0, 1), spec->agency_kind);
		goto cleanup;
	}
	snprintf(agency_id, sizeof(agency_id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);

	p[0] = (const char *)hash;
	lens[0] = NRM_SHA256_LEN;
	fmts[0] = 1;
	p[1] = agency_id;
	p[2] = spec->role;
	p[3] = spec->n_regions > 0 ? regions : NULL;
	p[4] = spec->label;
	for (int i = 1; i < 5; i++) {
		lens[i] = 0;
		fmts[i] = 0;
	}
	res = PQexecParams(conn,
	    "INSERT INTO auth.api_key (token_hash, agency_id, role, regions, "
	    "label) VALUES ($1, $2::uuid, $3, $4::text[], $5) RETURNING id",
	    5, NULL, p, lens, fmts, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		key_pgerr(res, conn, why, sizeof(why));
		key_seterr(errbuf, errlen, "could not create key: %s", why);
		goto cleanup;
	}
	snprintf(key_id, NRM_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);

	p[0] = key_id;
	res = PQexecParams(conn,
	    "INSERT INTO audit.event (action, object_type, object_id, "
	    "purpose, outcome) "
	    "VALUES ('key.create', 'api_key', $1, 'nrmctl', 'allowed')",
	    1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		key_pgerr(res, conn, why, sizeof(why));
		key_seterr(
		    errbuf, errlen, "could not audit key creation: %s", why);
		goto cleanup;
	}
	PQclear(res);
	res = NULL;
	if (key_exec(conn, "COMMIT", errbuf, errlen, "commit key") != NRM_OK)
		goto cleanup;
	rc = NRM_OK;
cleanup:
	PQclear(res);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (rc != NRM_OK) {
		key_rollback(conn);
		OPENSSL_cleanse(token, NRM_TOKEN_LEN + 1);
		token[0] = '\0';
	}
	return rc;
}

int
nrm_key_list(PGconn *conn, FILE *out, char *errbuf, size_t errlen)
{
	static const char *const head[] = {
	    "id",
	    "role",
	    "agency",
	    "kind",
	    "regions",
	    "created",
	    "revoked",
	    "label",
	};
	enum {
		NCOL = NRM_ARRAY_LEN(head)
	};
	PGresult *res;
	char why[512];
	int width[NCOL];
	int rows;

	res = PQexec(conn,
	    "SELECT k.id, k.role, a.name, a.kind, "
	    "coalesce(pg_catalog.array_to_string(k.regions, ','), '-'), "
	    "pg_catalog.to_char(k.created_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	    "coalesce(pg_catalog.to_char(k.revoked_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-'), "
	    "coalesce(k.label, '-') "
	    "FROM auth.api_key k JOIN auth.agency a ON a.id = k.agency_id "
	    "ORDER BY k.created_at, k.id");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		key_pgerr(res, conn, why, sizeof(why));
		key_seterr(errbuf, errlen, "could not list keys: %s", why);
		PQclear(res);
		return NRM_ERR;
	}
	rows = PQntuples(res);
	for (int c = 0; c < NCOL; c++) {
		width[c] = (int)strlen(head[c]);
		for (int r = 0; r < rows; r++) {
			int w = PQgetlength(res, r, c);

			if (w > width[c])
				width[c] = w;
		}
	}
	for (int c = 0; c < NCOL; c++)
		fprintf(out, "%-*s%s", c == NCOL - 1 ? 0 : width[c], head[c],
		    c == NCOL - 1 ? "\n" : "  ");
	for (int r = 0; r < rows; r++)
		for (int c = 0; c < NCOL; c++)
			fprintf(out, "%-*s%s", c == NCOL - 1 ? 0 : width[c],
			    PQgetvalue(res, r, c), c == NCOL - 1 ? "\n" : "  ");
	PQclear(res);
	return NRM_OK;
}

int
nrm_key_revoke(
    PGconn *conn, const char *id, bool *already, char *errbuf, size_t errlen)
{
	PGresult *res = NULL;
	char why[512];
	const char *p[1];
	int rc = NRM_ERR;

	*already = false;
	if (!nrm_uuid_valid(id)) {
		key_seterr(errbuf, errlen,
		    "could not revoke key: not a key id "
		    "(see nrmctl key list)");
		return NRM_ERR;
	}
	if (key_exec(conn, "BEGIN", errbuf, errlen, "revoke key") != NRM_OK)
		goto cleanup;
	p[0] = id;
	res = PQexecParams(conn,
	    "SELECT revoked_at IS NOT NULL FROM auth.api_key "
	    "WHERE id = $1::uuid FOR UPDATE",
	    1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		key_pgerr(res, conn, why, sizeof(why));
		key_seterr(errbuf, errlen, "could not revoke key: %s", why);
		goto cleanup;
	}
	if (PQntuples(res) == 0) {
		key_seterr(errbuf, errlen,
		    "could not revoke key %s: no such "
		    "key",
		    id);
		goto cleanup;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		*already = true;
		rc = NRM_OK;
		goto cleanup;
	}
	PQclear(res);
	res = PQexecParams(conn,
	    "UPDATE auth.api_key SET revoked_at = now() WHERE id = $1::uuid", 1,
	    NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		key_pgerr(res, conn, why, sizeof(why));
		key_seterr(errbuf, errlen, "could not revoke key: %s", why);
		goto cleanup;
	}
	PQclear(res);
	res = PQexecParams(conn,
	    "INSERT INTO audit.event (action, object_type, object_id, "
	    "purpose, outcome) "
	    "VALUES ('key.revoke', 'api_key', $1, 'nrmctl', 'allowed')",
	    1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		key_pgerr(res, conn, why, sizeof(why));
		key_seterr(
		    errbuf, errlen, "could not audit key revocation: %s", why);
		goto cleanup;
	}
	PQclear(res);
	res = NULL;
	if (key_exec(conn, "COMMIT", errbuf, errlen, "commit revocation") !=
	    NRM_OK)
		goto cleanup;
	rc = NRM_OK;
cleanup:
	PQclear(res);
	key_rollback(conn);
	return rc;
}
