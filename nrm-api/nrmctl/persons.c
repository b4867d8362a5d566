/*
 * persons.c - personal account administration for nrmctl (see
 * persons.h).
 */
#include "persons.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "ctl_db.h"
#include "totp.h"

/* The bytea input "\x<hex>" of SHA-256(code). */
#define PERSON_HASH_TEXT_LEN (2 + 2 * NRM_SHA256_LEN + 1)

/*
 * A fresh enrolment code into code and the bytea text of its SHA-256
 * into hash_text.
 */
static int
person_code_new(char code[NRM_PERSON_CODE_LEN + 1],
    char hash_text[PERSON_HASH_TEXT_LEN], struct nrm_error *err)
{
	unsigned char hash[NRM_SHA256_LEN];

	if (nrm_enrolment_code_new(code, hash) != NRM_OK)
		return nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not make an enrolment code: the random number "
		    "generator failed");
	nrm_ctl_bytea(hash, sizeof(hash), hash_text);
	OPENSSL_cleanse(hash, sizeof(hash));
	return NRM_OK;
}

/* The end of a change (nrm_ctl_secret_done): the code is the secret. */
static int
person_done(PGconn *conn, PGresult *res, char hash_text[PERSON_HASH_TEXT_LEN],
    char code[NRM_PERSON_CODE_LEN + 1], int rc)
{
	return nrm_ctl_secret_done(conn, res, hash_text, PERSON_HASH_TEXT_LEN,
	    code, NRM_PERSON_CODE_LEN + 1, rc);
}

/* The database's verdict on the fields, as a validation error. */
static int
person_check(PGconn *conn, const char *const p[5], struct nrm_error *err)
{
	PGresult *res;
	int rc = NRM_OK;

	if (nrm_ctl_query(conn,
		"SELECT r->>'field', r->>'detail' FROM (SELECT "
		"auth.person_problem($1, $2, $3::uuid, $4, $5::text[]) r) x",
		5, p, 1, &res, err, "create person") != NRM_OK)
		return NRM_ERR;
	if (!PQgetisnull(res, 0, 0))
		rc = nrm_error_set(err, NRM_E_VALIDATION, PQgetvalue(res, 0, 0),
		    "could not create person: %s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return rc;
}

int
nrm_person_create(PGconn *conn, const struct nrm_person_spec *spec,
    char code[NRM_PERSON_CODE_LEN + 1], char id[NRM_UUID_LEN + 1],
    struct nrm_error *err)
{
	char regions[NRM_KEY_REGIONS_TEXT_LEN];
	char hash_text[PERSON_HASH_TEXT_LEN];
	char valid[16];
	const char *p[7];
	PGresult *res = NULL;
	char agency_id[NRM_UUID_LEN + 1];
	int rc = NRM_ERR;

	code[0] = '\0';
	if (nrm_key_regions_text(spec->regions, spec->n_regions, regions,
		sizeof(regions), "person", err) != NRM_OK ||
	    person_code_new(code, hash_text, err) != NRM_OK)
		goto out;
	if (nrm_ctl_begin(conn, err, "create person") != NRM_OK)
		goto out;
	p[0] = spec->agency;
	if (nrm_ctl_query(conn,
		"SELECT id FROM auth.agency WHERE name = $1 OR id::text = $1",
		1, p, -1, &res, err, "find agency") != NRM_OK)
		goto out;
	if (PQntuples(res) != 1) {
		nrm_error_set(err, NRM_E_VALIDATION, "agency",
		    "could not create person: no agency with this name or "
		    "id (nrmctl key list shows them)");
		goto out;
	}
	snprintf(agency_id, sizeof(agency_id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	snprintf(valid, sizeof(valid), "%d", spec->valid_s);
	p[0] = spec->login;
	p[1] = spec->display_name;
	p[2] = agency_id;
	p[3] = spec->role;
	p[4] = spec->n_regions > 0 ? regions : NULL;
	p[5] = hash_text;
	p[6] = valid;
	if (person_check(conn, p, err) != NRM_OK ||
	    nrm_ctl_query(conn,
		"SELECT auth.person_insert($1, $2, $3::uuid, $4, $5::text[], "
		"NULL, NULL, $6::bytea, $7::integer)->>'id'",
		7, p, 1, &res, err, "create person") != NRM_OK)
		goto out;
	if (PQgetisnull(res, 0, 0)) {
		nrm_error_set(err, NRM_E_CONFLICT, "login",
		    "could not create person: the login \"%s\" is taken",
		    spec->login);
		goto out;
	}
	snprintf(id, NRM_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	if (nrm_ctl_audit_commit(conn, "person.create", "person", id,
		"person creation", err) != NRM_OK)
		goto out;
	rc = NRM_OK;
out:
	return person_done(conn, res, hash_text, code, rc);
}

int
nrm_person_list(PGconn *conn, FILE *out, struct nrm_error *err)
{
	static const char *const head[] = {
	    "login",
	    "role",
	    "agency",
	    "regions",
	    "status",
	    "enrolled",
	    "created",
	    "name",
	};

	return nrm_ctl_list(conn, out,
	    "SELECT p.login, p.role, a.name, "
	    "coalesce(pg_catalog.array_to_string(p.regions, ','), '-'), "
	    "p.status, CASE WHEN c.person_id IS NULL THEN 'no' "
	    "ELSE 'yes' END, "
	    "pg_catalog.to_char(p.created_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), p.display_name "
	    "FROM auth.person p JOIN auth.agency a ON a.id = p.agency_id "
	    "LEFT JOIN auth.person_credential c ON c.person_id = p.id "
	    "ORDER BY p.login COLLATE \"C\"",
	    head, (int)NRM_ARRAY_LEN(head), err, "list persons");
}

int
nrm_person_change(PGconn *conn, const char *login, const char *op, int valid_s,
    char code[NRM_PERSON_CODE_LEN + 1], struct nrm_error *err)
{
	char hash_text[PERSON_HASH_TEXT_LEN] = "";
	char valid[16];
	char action[32];
	char id[NRM_UUID_LEN + 1];
	const char *p[4];
	PGresult *res = NULL;
	bool reset = strcmp(op, "reset") == 0;
	int rc = NRM_ERR;

	code[0] = '\0';
	if (reset && person_code_new(code, hash_text, err) != NRM_OK)
		goto out;
	p[0] = login;
	if (nrm_ctl_begin(conn, err, "%s person", op) != NRM_OK ||
	    nrm_ctl_query(conn,
		"SELECT id FROM auth.person WHERE login = $1 FOR UPDATE", 1, p,
		-1, &res, err, "%s person", op) != NRM_OK)
		goto out;
	if (PQntuples(res) != 1) {
		nrm_error_set(err, NRM_E_NOT_FOUND, "login",
		    "could not %s person: no person with this login (see "
		    "nrmctl person list)",
		    op);
		goto out;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	snprintf(valid, sizeof(valid), "%d", valid_s);
	p[0] = id;
	p[1] = op;
	p[2] = reset ? hash_text : NULL;
	p[3] = reset ? valid : NULL;
	snprintf(action, sizeof(action), "person.%s", op);
	if (nrm_ctl_query(conn,
		"SELECT auth.person_change($1::uuid, $2, $3::bytea, "
		"$4::integer)",
		4, p, 1, NULL, err, "%s person", op) != NRM_OK ||
	    nrm_ctl_audit_commit(conn, action, "person", id, action, err) !=
		NRM_OK)
		goto out;
	rc = NRM_OK;
out:
	return person_done(conn, res, hash_text, code, rc);
}
