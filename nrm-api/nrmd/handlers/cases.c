/*
 * handler_cases.c - one case and its lifecycle (role coordinator; the
 * read also assessor):
 *
 *   GET  /v1/cases/{id}             the full case, personal data and
 *                                   history (an audited read); ETag
 *   POST /v1/cases/{id}/take        open -> taken by the caller
 *   POST /v1/cases/{id}/decline     {"reason"}
 *   POST /v1/cases/{id}/transfer    {"target_region", "reason"}
 *   POST /v1/cases/{id}/close       {"reason"}
 *   POST /v1/cases/{id}/reopen      {"reason"}
 *
 * Each is one api.* call.  If-Match (the ETag of GET) makes a change a
 * compare-and-set on the case version (412 when stale); without it the
 * state table alone decides (409 with the current state when the
 * transition is not allowed).  The legal transitions live in one table
 * in the database (docs/case-lifecycle.md).
 */
#include "auth.h"
#include "dbapi.h"
#include "endpoints.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static void
case_get_authed(struct nrm_req *r)
{
	struct nrm_dbapi_call call;
	const char *purpose, *reason;

	if (nrm_req_code_header(r, "NRM-Purpose", "purpose", &purpose) !=
		NRM_OK ||
	    nrm_req_code_header(r, "NRM-Reason", "reason", &reason) != NRM_OK)
		return;
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, nrm_req_uuid_param(r));
	nrm_dbapi_text(&call, purpose);
	nrm_dbapi_text(&call, reason);
	nrm_dbapi_send(r, NRM_STMT_CASE_GET, &call, NULL);
}

void
nrm_h_case_get(struct nrm_req *r)
{
	nrm_auth_require(r, NRM_ROLE_COORDINATOR | NRM_ROLE_ASSESSOR,
	    "case.read", "case", case_get_authed);
}

/*
 * Read the action's JSON body: an object with only the keys in `allowed`
 * (NULL-terminated), each a string; missing keys are NULL.  An empty
 * body is an empty object.  Replies and returns NRM_ERR on any fault.
 */
static int
case_body(struct nrm_req *r, const char *const *allowed, cJSON **out)
{
	cJSON *root, *it;

	*out = NULL;
	if (r->body_len == 0 && nrm_req_header(r, "Content-Type") == NULL) {
		*out = cJSON_CreateObject();
		return NRM_OK;
	}
	if (nrm_req_read_body(r, true) != NRM_OK)
		return NRM_ERR;
	if (r->body_len == 0) {
		*out = cJSON_CreateObject();
		return NRM_OK;
	}
	root = cJSON_ParseWithLength(r->body, r->body_len);
	if (root == NULL || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		nrm_req_fail(
		    r, NRM_E_MALFORMED, "", "the body must be a JSON object");
		return NRM_ERR;
	}
	cJSON_ArrayForEach (it, root) {
		bool ok = false;

		for (int i = 0; allowed[i] != NULL; i++)
			if (strcmp(it->string, allowed[i]) == 0)
				ok = true;
		if (!ok) {
			cJSON_Delete(root);
			nrm_req_fail(r, NRM_E_VALIDATION, "",
			    "unknown field (name not shown)");
			return NRM_ERR;
		}
		if (!cJSON_IsString(it)) {
			char field[64];

			snprintf(field, sizeof(field), "%.60s", it->string);
			cJSON_Delete(root);
			nrm_req_fail(
			    r, NRM_E_VALIDATION, field, "must be a string");
			return NRM_ERR;
		}
	}
	*out = root;
	return NRM_OK;
}

static const char *
case_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

enum case_action {
	CASE_TAKE,
	CASE_DECLINE,
	CASE_TRANSFER,
	CASE_CLOSE,
	CASE_REOPEN,
};

static void
case_act(struct nrm_req *r, enum case_action act)
{
	static const char *const none[] = {NULL};
	static const char *const reason[] = {"reason", NULL};
	static const char *const transfer[] = {"target_region", "reason", NULL};
	const struct nrm_config *cfg = &r->app->cfg;
	struct nrm_dbapi_call call;
	char ifm[16], n1[16], n2[16], n3[16];
	cJSON *body = NULL;
	enum nrm_stmt stmt = NRM_STMT_CASE_TAKE;

	if (nrm_req_if_match(r, "the ETag of the case", ifm, sizeof(ifm)) !=
	    NRM_OK)
		return;
	if (case_body(r,
		act == CASE_TAKE           ? none
		    : act == CASE_TRANSFER ? transfer
					   : reason,
		&body) != NRM_OK)
		return;
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, nrm_req_uuid_param(r));
	nrm_dbapi_text(&call, ifm[0] != '\0' ? ifm : NULL);
	switch (act) {
	case CASE_TAKE:
		stmt = NRM_STMT_CASE_TAKE;
		break;
	case CASE_DECLINE:
		stmt = NRM_STMT_CASE_DECLINE;
		nrm_dbapi_text(&call, case_str(body, "reason"));
		snprintf(n1, sizeof(n1), "%d", cfg->decline_limit);
		nrm_dbapi_text(&call, n1);
		break;
	case CASE_TRANSFER:
		stmt = NRM_STMT_CASE_TRANSFER;
		nrm_dbapi_text(&call, case_str(body, "target_region"));
		nrm_dbapi_text(&call, case_str(body, "reason"));
		break;
	case CASE_CLOSE:
		stmt = NRM_STMT_CASE_CLOSE;
		nrm_dbapi_text(&call, case_str(body, "reason"));
		break;
	case CASE_REOPEN:
		stmt = NRM_STMT_CASE_REOPEN;
		nrm_dbapi_text(&call, case_str(body, "reason"));
		break;
	}
	/* A transferred or reopened case's deadlines (live config). */
	if (act == CASE_TRANSFER || act == CASE_REOPEN) {
		snprintf(n2, sizeof(n2), "%d", cfg->transfer_take_within);
		snprintf(
		    n3, sizeof(n3), "%d", cfg->transfer_first_contact_within);
		nrm_dbapi_text(&call, n2);
		nrm_dbapi_text(&call, n3);
	}
	/* The parameters are copied by the pool before body goes. */
	nrm_dbapi_send(r, stmt, &call, NULL);
	cJSON_Delete(body);
}

static void
case_take_authed(struct nrm_req *r)
{
	case_act(r, CASE_TAKE);
}

static void
case_decline_authed(struct nrm_req *r)
{
	case_act(r, CASE_DECLINE);
}

static void
case_transfer_authed(struct nrm_req *r)
{
	case_act(r, CASE_TRANSFER);
}

static void
case_close_authed(struct nrm_req *r)
{
	case_act(r, CASE_CLOSE);
}

static void
case_reopen_authed(struct nrm_req *r)
{
	case_act(r, CASE_REOPEN);
}

void
nrm_h_case_take(struct nrm_req *r)
{
	nrm_auth_require(
	    r, NRM_ROLE_COORDINATOR, "case.take", "case", case_take_authed);
}

void
nrm_h_case_decline(struct nrm_req *r)
{
	nrm_auth_require(r, NRM_ROLE_COORDINATOR, "case.decline", "case",
	    case_decline_authed);
}

void
nrm_h_case_transfer(struct nrm_req *r)
{
	nrm_auth_require(r, NRM_ROLE_COORDINATOR, "case.transfer", "case",
	    case_transfer_authed);
}

void
nrm_h_case_close(struct nrm_req *r)
{
	nrm_auth_require(
	    r, NRM_ROLE_COORDINATOR, "case.close", "case", case_close_authed);
}

void
nrm_h_case_reopen(struct nrm_req *r)
{
	nrm_auth_require(
	    r, NRM_ROLE_COORDINATOR, "case.reopen", "case", case_reopen_authed);
}
