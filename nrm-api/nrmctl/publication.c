/*
 * publication.c - nrmctl publication verify: check a publication of the
 * indicators register against its content hash and its Ed25519
 * signature (docs/indicators.md, "Publications"; pubsign.h).
 */
#include "publication.h"
#include "auditchain.h"
#include "ctl_db.h"
#include "pubsign.h"
#include "util.h"

#include "nrm/json.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define PUB_FILE_MAX (64u << 20)

/* The publication's JSON text from the database (owner), by id. */
static int
pub_fetch(PGconn *conn, const char *id, char **out, struct nrm_error *err)
{
	PGresult *res = NULL;
	const char *params[1] = {id};

	if (!nrm_uuid_valid(id))
		return nrm_error_set(err, NRM_E_VALIDATION, "id",
		    "could not read publication: the id is not a uuid");
	if (nrm_ctl_query(conn,
		"SELECT stats.publication_json(p)::text "
		"FROM stats.publication p WHERE p.id = $1::uuid",
		1, params, 1, &res, err, "could not read publication %s",
		id) != NRM_OK)
		return NRM_ERR;
	*out = nrm_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return NRM_OK;
}

int
nrm_publication_verify(PGconn *conn, const char *file, const char *id,
    const char *pubkey_path, FILE *out, struct nrm_error *err)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *pub = NULL;
	const cJSON *content, *rev, *crev;
	const char *sha, *sig, *period, *cperiod;
	char hex[NRM_PUB_HEX_LEN + 1];
	EVP_PKEY *key = NULL;
	int rc = NRM_ERR;

	if (file != NULL) {
		if (nrm_read_file(
			file, PUB_FILE_MAX, &text, &len, "file", err) != NRM_OK)
			goto out;
	} else if (pub_fetch(conn, id, &text, err) != NRM_OK) {
		goto out;
	}
	key = nrm_audit_key_load(pubkey_path, false, "public-key", err);
	if (key == NULL)
		goto out;
	pub = cJSON_Parse(text);
	content = cJSON_GetObjectItemCaseSensitive(pub, "content");
	sha = nrm_json_str(pub, "content_sha256");
	sig = nrm_json_str(pub, "signature");
	period = nrm_json_str(pub, "period");
	cperiod = nrm_json_str(content, "period");
	rev = cJSON_GetObjectItemCaseSensitive(pub, "revision");
	crev = cJSON_GetObjectItemCaseSensitive(content, "revision");
	if (!cJSON_IsObject(content) || sha == NULL || sig == NULL) {
		fprintf(out,
		    "not a publication: content, content_sha256 and "
		    "signature are required\n");
		rc = NRM_CTL_PUB_BAD;
		goto out;
	}
	if (nrm_pub_hash(content, hex) != NRM_OK) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL, "out of memory");
		goto out;
	}
	rc = NRM_CTL_PUB_BAD;
	if (strcmp(hex, sha) != 0) {
		fprintf(out,
		    "content hash mismatch: content_sha256 says %.64s, the "
		    "content hashes to %s\n",
		    sha, hex);
	} else if (!nrm_pub_verify(key, hex, sig)) {
		fprintf(out,
		    "bad signature: the signature does not verify "
		    "with this public key\n");
	} else if (period == NULL || cperiod == NULL ||
	    strcmp(period, cperiod) != 0 || !cJSON_IsNumber(rev) ||
	    !cJSON_IsNumber(crev) || rev->valuedouble != crev->valuedouble) {
		fprintf(out,
		    "period or revision differ from the signed "
		    "content\n");
	} else {
		fprintf(out,
		    "verified: period %s revision %.0f, content sha256 "
		    "%s, signature good\n",
		    cperiod, crev->valuedouble, hex);
		rc = NRM_OK;
	}
out:
	EVP_PKEY_free(key);
	cJSON_Delete(pub);
	free(text);
	return rc;
}
