/*
 * handler_tracks.c - the two separated tracks of issue 5
 * (docs/separation.md): victim identification on the care side and the
 * criminal investigation, plus the consented share between them.
 *
 *   POST  /v1/cases/{id}/identification  coordinator, assessor: one
 *                                        entry -> api.ident_record
 *   GET   /v1/cases/{id}/identification  coordinator, assessor: the
 *                                        history -> api.ident_list
 *   GET   /v1/identifications            assessor: the queue of cases
 *                                        awaiting a decision,
 *                                        ?awaiting= &limit= &cursor=
 *                                        -> api.ident_queue
 *   POST  /v1/cases/{id}/share           coordinator: {"agency_id",
 *                                        "consent"} -> api.case_share
 *   POST  /v1/investigations             investigator -> invest_create
 *   GET   /v1/investigations/{id}        investigator -> invest_get
 *   PATCH /v1/investigations/{id}        investigator, If-Match ->
 *                                        api.invest_patch
 *
 * Each is one api.* call; the database validates the entries and
 * enforces the separation (roles, row-level security).  The
 * identification handlers pass only the configured jurisdiction
 * profile; nothing here reads or forwards investigation data, and the
 * reverse.  Bodies are never logged (they hold personal data).
 */
#include "auth.h"
#include "dbapi.h"
#include "endpoints.h"
#include "sealed.h"
#include "util.h"

#include "nrm/json.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/*
 * Read a JSON object body and print it back compactly for a jsonb
 * parameter (the caller frees *text).  Replies and returns NRM_ERR on
 * any fault.
 */
static int
track_body_text(struct nrm_req *r, char **text)
{
	cJSON *root;

	*text = NULL;
	if (nrm_req_body_object(r, false, NULL, -1, NULL, &root) != NRM_OK)
		return NRM_ERR;
	*text = nrm_json_print_take(root, true);
	if (*text == NULL) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
		return NRM_ERR;
	}
	return NRM_OK;
}

static void
ident_record_authed(struct nrm_req *r)
{
	struct nrm_dbapi_call call;
	const char *id = nrm_req_uuid_param(r);
	char *entry;

	if (nrm_sealed_body(r, "rationale", "ident.decision",
		NRM_SEALED_RATIONALE_MAX,
		"stage, outcome, deciding_body, rationale, decided_on, "
		"reflection_start, reflection_end, recovery_start, "
		"recovery_end",
		&entry) != NRM_OK)
		return;
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, id);
	nrm_dbapi_text(&call, entry);
	nrm_dbapi_text(&call, r->app->cfg.jurisdiction_profile);
	/* The parameters are copied by the pool before entry goes. */
	nrm_sealed_send(r, NRM_STMT_IDENT_RECORD, &call, "case", id);
	free(entry);
}

void
nrm_h_ident_record(struct nrm_req *r)
{
	nrm_auth_require(r, NRM_ROLE_COORDINATOR | NRM_ROLE_ASSESSOR,
	    "identification.create", "case", ident_record_authed);
}

static void
ident_list_authed(struct nrm_req *r)
{
	/* each entry's rationale comes sealed: opened before the reply */
	nrm_sealed_case_read(
	    r, NRM_STMT_IDENT_LIST, r->app->cfg.jurisdiction_profile);
}

void
nrm_h_ident_list(struct nrm_req *r)
{
	nrm_auth_require(r, NRM_ROLE_COORDINATOR | NRM_ROLE_ASSESSOR,
	    "identification.read", "case", ident_list_authed);
}

/*
 * ?awaiting= (initial|conclusive|any, checked by the database), ?limit=
 * (1 to 3 digits; the range is the database's), ?cursor= (a case id,
 * next_cursor of the previous page); any other parameter is a 400
 * naming it.
 */
static void
ident_queue_authed(struct nrm_req *r)
{
	static const char *const known[] = {"awaiting", "limit", "cursor"};
	struct evkeyvalq q;

	if (nrm_req_page_query(r, &q, known, NRM_ARRAY_LEN(known)) != NRM_OK)
		return;
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_IDENT_QUEUE,
	    evhttp_find_header(&q, "awaiting"),
	    evhttp_find_header(&q, "cursor"), evhttp_find_header(&q, "limit"),
	    r->app->cfg.jurisdiction_profile);
	evhttp_clear_headers(&q);
}

void
nrm_h_ident_queue(struct nrm_req *r)
{
	nrm_auth_require(r, NRM_ROLE_ASSESSOR, "identification.queue",
	    "identification", ident_queue_authed);
}

/* A JSON boolean as a text parameter: "true", "false", NULL when absent. */
static const char *
track_bool_text(const cJSON *v)
{
	if (v == NULL)
		return NULL;
	return cJSON_IsTrue(v) ? "true" : "false";
}

/*
 * {"agency_id": uuid, "consent": bool}: only these keys; a missing
 * consent is passed as NULL (the database answers 422 "consent").
 */
static void
case_share_authed(struct nrm_req *r)
{
	static const char *const keys[] = {"agency_id", "consent"};
	const cJSON *slot[2], *agency, *consent;
	cJSON *body;

	if (nrm_req_body_object(r, false, keys, 2, slot, &body) != NRM_OK)
		return;
	agency = slot[0];
	consent = slot[1];
	if (!cJSON_IsString(agency) || !nrm_uuid_valid(agency->valuestring)) {
		cJSON_Delete(body);
		nrm_req_fail(r, NRM_E_VALIDATION, "agency_id",
		    "must be the id (UUID) of an investigating agency");
		return;
	}
	if (consent != NULL && !cJSON_IsBool(consent)) {
		cJSON_Delete(body);
		nrm_req_fail(r, NRM_E_VALIDATION, "consent",
		    "must be true (the victim's recorded consent)");
		return;
	}
	/* The parameters are copied by the pool before body goes. */
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_CASE_SHARE, nrm_req_uuid_param(r),
	    agency->valuestring, track_bool_text(consent));
	cJSON_Delete(body);
}

void
nrm_h_case_share(struct nrm_req *r)
{
	nrm_auth_require(
	    r, NRM_ROLE_COORDINATOR, "case.share", "case", case_share_authed);
}

static void
invest_create_authed(struct nrm_req *r)
{
	char *text;

	if (track_body_text(r, &text) != NRM_OK)
		return;
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_INVEST_CREATE, text);
	free(text);
}

void
nrm_h_invest_create(struct nrm_req *r)
{
	nrm_auth_require(r, NRM_ROLE_INVESTIGATOR, "investigation.create",
	    "investigation", invest_create_authed);
}

static void
invest_get_authed(struct nrm_req *r)
{
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_INVEST_GET, nrm_req_uuid_param(r));
}

void
nrm_h_invest_get(struct nrm_req *r)
{
	nrm_auth_require(r, NRM_ROLE_INVESTIGATOR, "investigation.read",
	    "investigation", invest_get_authed);
}

static void
invest_patch_authed(struct nrm_req *r)
{
	char ifm[16];
	char *text;

	if (nrm_req_if_match(
		r, "the version of the record", ifm, sizeof(ifm)) != NRM_OK)
		return;
	if (track_body_text(r, &text) != NRM_OK)
		return;
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_INVEST_PATCH, nrm_req_uuid_param(r),
	    ifm[0] != '\0' ? ifm : NULL, text);
	free(text);
}

void
nrm_h_invest_patch(struct nrm_req *r)
{
	nrm_auth_require(r, NRM_ROLE_INVESTIGATOR, "investigation.update",
	    "investigation", invest_patch_authed);
}
