/*
 * handlers/people.c - administration of personal accounts (role admin;
 * issue 11, docs/people.md):
 *
 *   GET  /v1/admin/persons               ?after=<login> &limit=1..200
 *   POST /v1/admin/persons               {"login", "display_name",
 *                                         "agency_id", "role", "regions"}
 *   GET  /v1/admin/persons/{id}
 *   POST /v1/admin/persons/{id}/disable  ends every session
 *   POST /v1/admin/persons/{id}/enable
 *   POST /v1/admin/persons/{id}/reset    new enrolment code, ends every
 *                                        session
 *   GET  /v1/admin/keys                  ?after=<key id> &limit=1..200
 *   POST /v1/admin/keys                  {"label", "agency_id", "role",
 *                                         "regions"}
 *   POST /v1/admin/keys/{id}/revoke      also drops the key from the
 *                                        principal cache
 *
 * Create and reset make the one-time enrolment code here, from OpenSSL's
 * RNG (totp.h, as nrmctl does), send only its SHA-256 to the database
 * and return the code once in the answer as "enrolment_code".  A key's
 * token is made the same way by crypto.h's nrm_token_new (nrmctl's
 * generator) and returned once as "token".  Each is one api.* call,
 * audited there with the acting key or person.
 */
#include "auth.h"
#include "crypto.h"
#include "dbapi.h"
#include "guard.h"
#include "endpoints.h"
#include "totp.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define PERSON_LIMIT_MAX 200
#define PERSON_REGIONS_MAX 32
#define PERSON_CODE_MAX \
	(NRM_TOKEN_LEN > NRM_ENROLMENT_CODE_LEN ? NRM_TOKEN_LEN \
						: NRM_ENROLMENT_CODE_LEN)

/* The code or token of a create or reset, until the answer carries it. */
struct person_code {
	const char *member; /* "enrolment_code" or "token" */
	char code[PERSON_CODE_MAX + 1];
	unsigned char hash[32];
};

/* The answer, with the code added to its body when it succeeded. */
static void
person_coded(struct nrm_req *r, void *arg, const char *text)
{
	struct person_code *pc = arg;
	cJSON *root, *body, *st;
	char *out;

	if (text == NULL)
		goto out;
	root = cJSON_Parse(text);
	st = cJSON_GetObjectItemCaseSensitive(root, "status");
	body = cJSON_GetObjectItemCaseSensitive(root, "body");
	if (!cJSON_IsNumber(st) || st->valueint >= 300 ||
	    !cJSON_IsObject(body)) {
		cJSON_Delete(root);
		nrm_dbapi_answer(r, text, NULL);
		goto out;
	}
	cJSON_AddStringToObject(body, pc->member, pc->code);
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	nrm_dbapi_answer(r, out != NULL ? out : "{}", NULL);
	if (out != NULL)
		OPENSSL_cleanse(out, strlen(out));
	free(out);
out:
	OPENSSL_cleanse(pc, sizeof(*pc));
	free(pc);
}

/* A fresh code, or NULL after replying 500. */
static struct person_code *
person_code_new(struct nrm_req *r)
{
	struct person_code *pc = nrm_xcalloc(1, sizeof(*pc));

	pc->member = "enrolment_code";
	if (nrm_enrolment_code_new(pc->code, pc->hash) == NRM_OK)
		return pc;
	free(pc);
	nrm_req_fail(r, NRM_E_INTERNAL, "", "could not make an enrolment code");
	return NULL;
}

/* A fresh API key token and its SHA-256, or NULL after replying 500. */
static struct person_code *
person_token_new(struct nrm_req *r)
{
	struct person_code *pc = nrm_xcalloc(1, sizeof(*pc));

	pc->member = "token";
	if (nrm_token_new(pc->code, sizeof(pc->code)) == NRM_OK) {
		nrm_sha256(pc->code, strlen(pc->code), pc->hash);
		return pc;
	}
	free(pc);
	nrm_req_fail(r, NRM_E_INTERNAL, "", "could not make a token");
	return NULL;
}

/* Send the call; the answer goes through person_coded. */
static void
person_send_coded(struct nrm_req *r, enum nrm_stmt stmt,
    struct nrm_dbapi_call *call, struct person_code *pc)
{
	char valid[16];

	snprintf(valid, sizeof(valid), "%d", r->app->cfg.enrolment_valid);
	nrm_dbapi_bytes(call, pc->hash, sizeof(pc->hash));
	if (stmt != NRM_STMT_KEY_CREATE)
		nrm_dbapi_text(call, valid);
	else /* its token hash may have been refused a moment ago */
		nrm_guard_keys_changed(r->app->guard);
	if (nrm_dbapi_exec_text(r, stmt, call, person_coded, pc) != NRM_OK) {
		OPENSSL_cleanse(pc, sizeof(*pc));
		free(pc);
	}
}

/*
 * The regions member as a text[] literal "{VR13,VR01}" into buf[n]
 * (NULL: absent or null).  Codes are upper-case letters and digits, so
 * nothing needs quoting.  NRM_ERR when it is not such a list (replied).
 */
static int
person_regions(
    struct nrm_req *r, const cJSON *v, char *buf, size_t n, const char **out)
{
	size_t off = 0;
	int i = 0;
	const cJSON *e;

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return NRM_OK;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > PERSON_REGIONS_MAX)
		goto bad;
	buf[off++] = '{';
	cJSON_ArrayForEach (e, v) {
		const char *s = cJSON_GetStringValue(e);
		size_t len = s != NULL ? strlen(s) : 0;

		if (len == 0 || len > 16 ||
		    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != len ||
		    off + len + 3 > n)
			goto bad;
		if (i++ > 0)
			buf[off++] = ',';
		memcpy(buf + off, s, len);
		off += len;
	}
	buf[off++] = '}';
	buf[off] = '\0';
	*out = buf;
	return NRM_OK;
bad:
	nrm_req_fail(r, NRM_E_VALIDATION, "regions",
	    "regions must be a list of region codes (VR13, NATIONAL)");
	return NRM_ERR;
}

/*
 * Create a person (POST /v1/admin/persons: login, display_name,
 * agency_id, role, regions) or a key (POST /v1/admin/keys: label,
 * agency_id, role, regions): the string members first, the last three
 * of all always agency_id, role, regions.
 */
void
nrm_h_person_create(struct nrm_req *r)
{
	static const char *const person_keys[] = {
	    "login", "display_name", "agency_id", "role", "regions"};
	static const char *const key_keys[] = {
	    "label", "agency_id", "role", "regions"};
	bool is_key = strcmp(r->endpoint->pattern, "/v1/admin/keys") == 0;
	const char *const *keys = is_key ? key_keys : person_keys;
	int n = is_key ? 4 : 5;
	const cJSON *slot[5] = {NULL, NULL, NULL, NULL, NULL};
	char regions[PERSON_REGIONS_MAX * 18 + 3];
	const char *rtext;
	struct nrm_dbapi_call call;
	struct person_code *pc;
	cJSON *body = NULL;

	if (nrm_req_body_object(r, false, keys, (size_t)n, slot, &body) !=
	    NRM_OK)
		return;
	for (int i = 0; i < n - 1; i++) {
		if (slot[i] != NULL && !cJSON_IsNull(slot[i]) &&
		    !cJSON_IsString(slot[i])) {
			nrm_req_fail(r, NRM_E_VALIDATION, keys[i],
			    "%s must be a string", keys[i]);
			goto out;
		}
	}
	if (cJSON_IsString(slot[n - 3]) &&
	    !nrm_uuid_valid(slot[n - 3]->valuestring)) {
		nrm_req_fail(r, NRM_E_VALIDATION, "agency_id",
		    "agency_id must be an agency id");
		goto out;
	}
	if (person_regions(r, slot[n - 1], regions, sizeof(regions), &rtext) !=
	    NRM_OK)
		goto out;
	if ((pc = is_key ? person_token_new(r) : person_code_new(r)) == NULL)
		goto out;
	nrm_dbapi_begin(&call, r);
	for (int i = 0; i < n - 1; i++)
		nrm_dbapi_text(&call, cJSON_GetStringValue(slot[i]));
	nrm_dbapi_text(&call, rtext);
	person_send_coded(r,
	    is_key ? NRM_STMT_KEY_CREATE : NRM_STMT_PERSON_CREATE, &call, pc);
out:
	cJSON_Delete(body);
}

/* A revocation answered 200: no request of the key passes the cache. */
static void
key_revoked(struct nrm_req *r, int status)
{
	if (status == 200)
		nrm_auth_cache_evict_key(r->app->auth_cache, r->param);
}

void
nrm_h_key_revoke(struct nrm_req *r)
{
	struct nrm_dbapi_call call;

	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, nrm_req_uuid_param(r));
	nrm_dbapi_send(r, NRM_STMT_KEY_REVOKE, &call, key_revoked);
}

void
nrm_h_person_list(struct nrm_req *r)
{
	bool is_key = strcmp(r->endpoint->pattern, "/v1/admin/keys") == 0;
	struct evkeyvalq q;
	const char *after, *limit;
	struct evkeyval *kv;

	if (nrm_req_query(r, &q) != NRM_OK) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "", "malformed query");
		return;
	}
	TAILQ_FOREACH(kv, &q, next)
	{
		if (strcmp(kv->key, "after") != 0 &&
		    strcmp(kv->key, "limit") != 0) {
			nrm_req_fail(r, NRM_E_BAD_REQUEST, kv->key,
			    "unknown parameter (after, limit)");
			goto out;
		}
	}
	after = evhttp_find_header(&q, "after");
	limit = evhttp_find_header(&q, "limit");
	if (after != NULL &&
	    (is_key ? !nrm_uuid_valid(after) : strlen(after) > 64)) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "after",
		    is_key ? "after must be a key id" : "after is too long");
		goto out;
	}
	if (limit != NULL &&
	    (strlen(limit) == 0 || strlen(limit) > 3 ||
		strspn(limit, "0123456789") != strlen(limit) ||
		atoi(limit) < 1 || atoi(limit) > PERSON_LIMIT_MAX)) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "limit",
		    "limit must be 1 to %d", PERSON_LIMIT_MAX);
		goto out;
	}
	NRM_DBAPI_SEND_TEXTS(r,
	    is_key ? NRM_STMT_KEY_LIST : NRM_STMT_PERSON_LIST, after,
	    limit != NULL ? limit : "50");
out:
	evhttp_clear_headers(&q);
}

/* The actions on one person, by the last segment of the route (its
 * read is an id read, handlers/idread.h). */
static const struct person_act {
	const char *segment; /* of the endpoint's pattern */
	enum nrm_stmt stmt;
} person_acts[] = {
    {"disable", NRM_STMT_PERSON_DISABLE},
    {"enable", NRM_STMT_PERSON_ENABLE},
    {"reset", NRM_STMT_PERSON_RESET},
};

static const struct person_act *
person_act_of(const struct nrm_req *r)
{
	const char *seg = strrchr(r->endpoint->pattern, '/') + 1;

	for (size_t i = 0; i + 1 < NRM_ARRAY_LEN(person_acts); i++)
		if (strcmp(seg, person_acts[i].segment) == 0)
			return &person_acts[i];
	return &person_acts[NRM_ARRAY_LEN(person_acts) - 1];
}

void
nrm_h_person_act(struct nrm_req *r)
{
	const struct person_act *a = person_act_of(r);
	struct nrm_dbapi_call call;
	struct person_code *pc;

	if (a->stmt != NRM_STMT_PERSON_RESET) {
		NRM_DBAPI_SEND_TEXTS(r, a->stmt, nrm_req_uuid_param(r));
		return;
	}
	if ((pc = person_code_new(r)) == NULL)
		return;
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, nrm_req_uuid_param(r));
	person_send_coded(r, NRM_STMT_PERSON_RESET, &call, pc);
}
