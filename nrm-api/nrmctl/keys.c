/*
 * keys.c - API key administration for nrmctl (see keys.h).
 */
#include "keys.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ctl_db.h"
#include "log.h"
#include "nrm/role.h"
#include "nrm/route.h"

bool
nrm_key_role_valid(const char *role)
{
	return nrm_role_parse(role) != 0;
}

bool
nrm_key_kind_valid(const char *kind)
{
	enum nrm_agency_kind k;

	return nrm_agency_kind_parse(kind, &k) == NRM_OK;
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

/* Check the spec before any query; build the regions array literal. */
static int
key_check_spec(const struct nrm_key_spec *spec, char *regions, size_t rlen,
    struct nrm_error *err)
{
	if (!nrm_key_role_valid(spec->role))
		return nrm_error_set(err, NRM_E_VALIDATION, "role",
		    "could not create key: unknown role "
		    "(reporter, coordinator, assessor, investigator, auditor, "
		    "analyst, admin, chain_director, privacy_officer)");
	if (!nrm_key_kind_valid(spec->agency_kind))
		return nrm_error_set(err, NRM_E_VALIDATION, "agency-kind",
		    "could not create key: unknown "
		    "agency kind (police, kmar, labour_inspectorate, "
		    "care_agency, ngo, municipality, national_centre, "
		    "assessment_body, other)");
	if (spec->agency == NULL || spec->agency[0] == '\0' ||
	    strlen(spec->agency) > 200 ||
	    isspace((unsigned char)spec->agency[0]) ||
	    isspace((unsigned char)spec->agency[strlen(spec->agency) - 1]))
		return nrm_error_set(err, NRM_E_VALIDATION, "agency",
		    "could not create key: the agency "
		    "name must be 1 to 200 characters without surrounding "
		    "spaces");
	if (spec->label != NULL &&
	    (spec->label[0] == '\0' || strlen(spec->label) > 200))
		return nrm_error_set(err, NRM_E_VALIDATION, "label",
		    "could not create key: the label "
		    "must be 1 to 200 characters");
	if (strcmp(spec->role, "coordinator") == 0 && spec->n_regions == 0)
		return nrm_error_set(err, NRM_E_VALIDATION, "region",
		    "could not create key: a "
		    "coordinator key needs at least one --region");
	if (strcmp(spec->role, "coordinator") != 0 && spec->n_regions > 0)
		return nrm_error_set(err, NRM_E_VALIDATION, "region",
		    "could not create key: only "
		    "coordinator keys take --region");
	return nrm_key_regions_text(
	    spec->regions, spec->n_regions, regions, rlen, "key", err);
}

int
nrm_key_regions_text(const char *const *codes, int n_codes, char *buf,
    size_t len, const char *what, struct nrm_error *err)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < n_codes; i++) {
		int n;

		if (!nrm_key_region_code_valid(codes[i]))
			return nrm_error_set(err, NRM_E_VALIDATION, "region",
			    "could not create %s: "
			    "region codes are upper-case letters and digits "
			    "(VR13, NATIONAL)",
			    what);
		n = snprintf(
		    buf + off, len - off, "%s%s", i == 0 ? "{" : ",", codes[i]);
		if (n < 0 || (size_t)n + 2 > len - off)
			return nrm_error_set(err, NRM_E_VALIDATION, "region",
			    "could not create %s: too many regions", what);
		off += (size_t)n;
	}
	if (n_codes > 0) {
		buf[off] = '}';
		buf[off + 1] = '\0';
	}
	return NRM_OK;
}

/* Upsert the agency; its id into agency_id (its kind must match). */
static int
key_agency(PGconn *conn, const struct nrm_key_spec *spec,
    char agency_id[NRM_UUID_LEN + 1], struct nrm_error *err)
{
	const char *p[2] = {spec->agency, spec->agency_kind};
	PGresult *res;
	int rc = NRM_OK;

	if (nrm_ctl_query(conn,
		"INSERT INTO auth.agency (name, kind) VALUES ($1, $2) "
		"ON CONFLICT (name) DO NOTHING",
		2, p, -1, NULL, err, "create agency") != NRM_OK ||
	    nrm_ctl_query(conn,
		"SELECT id, kind FROM auth.agency WHERE name = $1", 1, p, 1,
		&res, err, "find agency") != NRM_OK)
		return NRM_ERR;
	if (strcmp(PQgetvalue(res, 0, 1), spec->agency_kind) != 0)
		rc = nrm_error_set(err, NRM_E_CONFLICT, "agency-kind",
		    "could not create key: agency "
		    "\"%s\" exists with kind %s, not %s",
		    spec->agency, PQgetvalue(res, 0, 1), spec->agency_kind);
	else
		snprintf(
		    agency_id, NRM_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

int
nrm_key_create(PGconn *conn, const struct nrm_key_spec *spec,
    char token[NRM_TOKEN_LEN + 1], char key_id[NRM_UUID_LEN + 1],
    struct nrm_error *err)
{
	char regions[NRM_KEY_REGIONS_TEXT_LEN];
	unsigned char hash[NRM_SHA256_LEN];
	char hash_text[2 + 2 * NRM_SHA256_LEN + 1]; /* bytea input */
	const char *p[5];
	PGresult *res = NULL;
	char agency_id[NRM_UUID_LEN + 1];
	int rc = NRM_ERR;

	token[0] = '\0';
	if (key_check_spec(spec, regions, sizeof(regions), err) != NRM_OK)
		return NRM_ERR;
	if (nrm_token_new(token, NRM_TOKEN_LEN + 1) != NRM_OK)
		return nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not create key: the random "
		    "number generator failed");
	nrm_sha256(token, NRM_TOKEN_LEN, hash);
	nrm_ctl_bytea(hash, sizeof(hash), hash_text);
	OPENSSL_cleanse(hash, sizeof(hash));

	if (nrm_ctl_begin(conn, err, "create key") != NRM_OK ||
	    key_agency(conn, spec, agency_id, err) != NRM_OK)
		goto out;
	p[0] = hash_text;
	p[1] = agency_id;
	p[2] = spec->role;
	p[3] = spec->n_regions > 0 ? regions : NULL;
	p[4] = spec->label;
	if (nrm_ctl_query(conn,
		"INSERT INTO auth.api_key (token_hash, agency_id, role, "
		"regions, label) VALUES ($1, $2::uuid, $3, $4::text[], $5) "
		"RETURNING id",
		5, p, 1, &res, err, "create key") != NRM_OK)
		goto out;
	snprintf(key_id, NRM_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	if (nrm_ctl_audit_commit(conn, "key.create", "api_key", key_id,
		"key creation", err) != NRM_OK)
		goto out;
	rc = NRM_OK;
out:
	return nrm_ctl_secret_done(conn, res, hash_text, sizeof(hash_text),
	    token, NRM_TOKEN_LEN + 1, rc);
}

int
nrm_key_list(PGconn *conn, FILE *out, struct nrm_error *err)
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

	return nrm_ctl_list(conn, out,
	    "SELECT k.id, k.role, a.name, a.kind, "
	    "coalesce(pg_catalog.array_to_string(k.regions, ','), '-'), "
	    "pg_catalog.to_char(k.created_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	    "coalesce(pg_catalog.to_char(k.revoked_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-'), "
	    "coalesce(k.label, '-') "
	    "FROM auth.api_key k JOIN auth.agency a ON a.id = k.agency_id "
	    "ORDER BY k.created_at, k.id",
	    head, (int)NRM_ARRAY_LEN(head), err, "list keys");
}

/* NRM_OK when id is a key id in text form, else why `verb` could not. */
static int
key_id_check(const char *id, const char *verb, struct nrm_error *err)
{
	if (nrm_uuid_valid(id))
		return NRM_OK;
	return nrm_error_set(err, NRM_E_VALIDATION, "id",
	    "could not %s key: not a key id (see nrmctl key list)", verb);
}

/*
 * Begin `verb`'s transaction and run `sql` on the key p[0] (n
 * parameters): NRM_OK with its row in *res; NRM_ERR with err set when
 * the query failed or matched no key ("could not VERB key ID:
 * MISSING").
 */
static int
key_row(PGconn *conn, const char *verb, const char *sql, int n,
    const char *const *p, const char *missing, PGresult **res,
    struct nrm_error *err)
{
	if (nrm_ctl_begin(conn, err, "%s key", verb) != NRM_OK ||
	    nrm_ctl_query(conn, sql, n, p, -1, res, err, "%s key", verb) !=
		NRM_OK)
		return NRM_ERR;
	if (PQntuples(*res) == 0)
		return nrm_error_set(err, NRM_E_NOT_FOUND, "id",
		    "could not %s key %s: %s", verb, p[0], missing);
	return NRM_OK;
}

int
nrm_key_revoke(
    PGconn *conn, const char *id, bool *already, struct nrm_error *err)
{
	PGresult *res = NULL;
	const char *p[1] = {id};
	int rc = NRM_ERR;

	*already = false;
	if (key_id_check(id, "revoke", err) != NRM_OK)
		return NRM_ERR;
	if (key_row(conn, "revoke",
		"SELECT revoked_at IS NOT NULL FROM auth.api_key "
		"WHERE id = $1::uuid FOR UPDATE",
		1, p, "no such key", &res, err) != NRM_OK)
		goto out;
	if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		*already = true;
		rc = NRM_OK;
		goto out;
	}
	if (nrm_ctl_query(conn,
		"UPDATE auth.api_key SET revoked_at = now() "
		"WHERE id = $1::uuid",
		1, p, -1, NULL, err, "revoke key") != NRM_OK ||
	    nrm_ctl_audit_commit(conn, "key.revoke", "api_key", id,
		"key revocation", err) != NRM_OK)
		goto out;
	rc = NRM_OK;
out:
	return nrm_ctl_done(conn, res, rc);
}

/* The SHA-256 of the DER of the first certificate of a PEM file. */
static int
key_cert_sha256(const char *path, unsigned char out[32], struct nrm_error *err)
{
	FILE *f = fopen(path, "r");
	X509 *cert;
	unsigned int n = 0;
	int rc;

	if (f == NULL)
		return nrm_error_set(err, NRM_E_VALIDATION, "cert",
		    "could not open certificate %s", path);
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	rc = cert != NULL && X509_digest(cert, EVP_sha256(), out, &n) == 1 &&
		n == 32
	    ? NRM_OK
	    : nrm_error_set(err, NRM_E_VALIDATION, "cert",
		  "could not read %s: not a PEM certificate", path);
	X509_free(cert);
	return rc;
}

int
nrm_key_bind(PGconn *conn, const char *id, const char *cert_file,
    char sha256_hex[65], struct nrm_error *err)
{
	unsigned char h[32];
	char bytea[2 + 64 + 1] = "\\x";
	const char *p[2] = {id, bytea};
	PGresult *res = NULL;
	int rc = NRM_ERR;

	if (key_id_check(id, "bind", err) != NRM_OK ||
	    key_cert_sha256(cert_file, h, err) != NRM_OK)
		return NRM_ERR;
	nrm_hex(h, sizeof(h), sha256_hex);
	memcpy(bytea + 2, sha256_hex, 65);
	if (key_row(conn, "bind",
		"UPDATE auth.api_key SET cert_sha256 = $2::bytea "
		"WHERE id = $1::uuid AND revoked_at IS NULL RETURNING id",
		2, p, "no such key, or revoked", &res, err) != NRM_OK)
		goto out;
	if (nrm_ctl_audit_commit(conn, "key.bind", "api_key", id,
		"key bound to a client certificate", err) != NRM_OK)
		goto out;
	rc = NRM_OK;
out:
	return nrm_ctl_done(conn, res, rc);
}
