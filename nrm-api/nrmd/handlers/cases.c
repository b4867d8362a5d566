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

#include "nrm/json.h"

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
 * Read the action's JSON body with the strict reader: an object with
 * only the keys in keys[0..n), each a string; slot[i] is member keys[i]
 * or NULL (absent or null).  An empty body is an empty object.  Replies
 * and returns NRM_ERR on any fault.
 */
static int
case_body(struct nrm_req *r, const char *const *keys, int n, const cJSON **slot,
    cJSON **out)
{
	struct nrm_error err;
	int i;

	*out = NULL;
	if ((r->body_len != 0 || nrm_req_header(r, "Content-Type") != NULL) &&
	    nrm_req_read_body(r, true) != NRM_OK)
		return NRM_ERR;
	nrm_error_clear(&err);
	if (nrm_json_parse_object(
		out, r->body, r->body_len, true, keys, n, slot, &err) != NRM_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (slot[i] != NULL && !cJSON_IsString(slot[i])) {
			nrm_error_set(&err, NRM_E_VALIDATION, keys[i],
			    "must be a string");
			cJSON_Delete(*out);
			*out = NULL;
			goto out;
		}
	}
	return NRM_OK;
out:
	nrm_req_problem(r, &err);
	return NRM_ERR;
}

/* The string member in slot, or NULL. */
static const char *
case_str(const cJSON *v)
{
	return v != NULL ? v->valuestring : NULL;
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
	/* target_region first: take and the others read a prefix. */
	static const char *const keys[] = {"target_region", "reason"};
	const struct nrm_config *cfg = &r->app->cfg;
	struct nrm_dbapi_call call;
	char ifm[16], n1[16], n2[16], n3[16];
	const cJSON *slot[2] = {NULL, NULL};
	cJSON *body = NULL;
	enum nrm_stmt stmt = NRM_STMT_CASE_TAKE;
	int rc;

	if (nrm_req_if_match(r, "the ETag of the case", ifm, sizeof(ifm)) !=
	    NRM_OK)
		return;
	if (act == CASE_TRANSFER)
		rc = case_body(r, keys, 2, slot, &body);
	else
		rc = case_body(
		    r, keys + 1, act == CASE_TAKE ? 0 : 1, slot + 1, &body);
	if (rc != NRM_OK)
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
		nrm_dbapi_text(&call, case_str(slot[1]));
		snprintf(n1, sizeof(n1), "%d", cfg->decline_limit);
		nrm_dbapi_text(&call, n1);
		break;
	case CASE_TRANSFER:
		stmt = NRM_STMT_CASE_TRANSFER;
		nrm_dbapi_text(&call, case_str(slot[0]));
		nrm_dbapi_text(&call, case_str(slot[1]));
		snprintf(n2, sizeof(n2), "%d", cfg->transfer_take_within);
		snprintf(
		    n3, sizeof(n3), "%d", cfg->transfer_first_contact_within);
		nrm_dbapi_text(&call, n2);
		nrm_dbapi_text(&call, n3);
		break;
	case CASE_CLOSE:
		stmt = NRM_STMT_CASE_CLOSE;
		nrm_dbapi_text(&call, case_str(slot[1]));
		break;
	case CASE_REOPEN:
		stmt = NRM_STMT_CASE_REOPEN;
		nrm_dbapi_text(&call, case_str(slot[1]));
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
