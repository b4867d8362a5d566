/*
 * handler_cases.c - one case and its lifecycle (role coordinator; the
 * read also assessor):
 *
 *   GET  /v1/cases?reference=R      the case item of a readable
 *                                   reference (also assessor)
 *   GET  /v1/cases/{id}             the full case, personal data and
 *                                   history (an audited read); ETag
 *   POST /v1/cases/{id}/take        open -> taken by the caller
 *   POST /v1/cases/{id}/decline     {"reason"}
 *   POST /v1/cases/{id}/transfer    {"target_region", "reason"}: pending
 *                                   until the receiving region answers
 *   POST /v1/cases/{id}/transfer/accept   (receiving region)
 *   POST /v1/cases/{id}/transfer/refuse   {"reason"} (receiving region)
 *   POST /v1/cases/{id}/close       {"reason"}
 *   POST /v1/cases/{id}/reopen      {"reason"}
 *   POST /v1/cases/{id}/contact     {"at", "mode"}: the holder records
 *                                   a contact (or a failed attempt)
 *   POST /v1/cases/{id}/merge       {"into", "reason"}: this duplicate
 *                                   signal's case merged into the case
 *                                   of the same person it repeats
 *   POST /v1/cases/{id}/handover    {"person"}: from the person who
 *                                   holds it to an active coordinator
 *                                   person of the case's region
 *   GET  /v1/cases/{id}/colleagues  whom a handover may go to (id and
 *                                   display name of the region's other
 *                                   active coordinator persons)
 *   GET  /v1/cases/{id}/share-targets  the agencies POST .../share
 *                                   accepts (id, name, kind)
 *
 * Each is one api.* call.  If-Match (the ETag of GET) makes a change a
 * compare-and-set on the case version (412 when stale); without it the
 * state table alone decides (409 with the current state when the
 * transition is not allowed).  The legal transitions live in one table
 * in the database (docs/case-lifecycle.md).
 */
#include "dbapi.h"
#include "endpoints.h"
#include "sealed.h"
#include "util.h"

#include "nrm/json.h"
#include "nrm/timefmt.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/*
 * ?reference=R and nothing else; the database checks its form (400
 * naming reference) and the caller's scope (404).
 */
void
nrm_h_case_find(struct nrm_req *r)
{
	struct evkeyvalq q;
	struct evkeyval *kv;
	const char *ref;

	if (nrm_req_query(r, &q) != NRM_OK) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "", "malformed query");
		return;
	}
	TAILQ_FOREACH(kv, &q, next)
	{
		if (strcmp(kv->key, "reference") != 0 ||
		    evhttp_find_header(&q, kv->key) != kv->value) {
			nrm_req_fail(r, NRM_E_BAD_REQUEST, "reference",
			    "the only parameter is reference, once");
			goto out;
		}
	}
	ref = evhttp_find_header(&q, "reference");
	if (ref == NULL || strlen(ref) > 64)
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "reference",
		    "reference must be a case reference");
	else
		NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_CASE_FIND, ref);
out:
	evhttp_clear_headers(&q);
}

/*
 * Read the action's JSON body: an object with only the keys in
 * keys[0..n), each a string; slot[i] is member keys[i] or NULL (absent
 * or null).  An empty body is an empty object.  Replies and returns
 * NRM_ERR on any fault.
 */
static int
case_body(struct nrm_req *r, const char *const *keys, int n, const cJSON **slot,
    cJSON **out)
{
	int i;

	if (nrm_req_body_object(r, true, keys, n, slot, out) != NRM_OK)
		return NRM_ERR;
	for (i = 0; i < n; i++) {
		if (slot[i] != NULL && !cJSON_IsString(slot[i])) {
			cJSON_Delete(*out);
			*out = NULL;
			nrm_req_fail(
			    r, NRM_E_VALIDATION, keys[i], "must be a string");
			return NRM_ERR;
		}
	}
	return NRM_OK;
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
	CASE_ACCEPT,
	CASE_REFUSE,
};

/* The actions nrm_h_case_act() serves: the last segment of the route,
 * its api.* function (the endpoint's row names the audited action). */
static const struct case_action_def {
	const char *segment;
	enum nrm_stmt stmt;
} case_actions[] = {
    [CASE_TAKE] = {"take", NRM_STMT_CASE_TAKE},
    [CASE_DECLINE] = {"decline", NRM_STMT_CASE_DECLINE},
    [CASE_TRANSFER] = {"transfer", NRM_STMT_CASE_TRANSFER},
    [CASE_CLOSE] = {"close", NRM_STMT_CASE_CLOSE},
    [CASE_REOPEN] = {"reopen", NRM_STMT_CASE_REOPEN},
    [CASE_ACCEPT] = {"accept", NRM_STMT_CASE_TRANSFER_ACCEPT},
    [CASE_REFUSE] = {"refuse", NRM_STMT_CASE_TRANSFER_REFUSE},
};

/* The action of the request's route (the table holds only these). */
static enum case_action
case_action_of(const struct nrm_req *r)
{
	const char *seg = strrchr(r->endpoint->pattern, '/') + 1;
	size_t i = 0;

	while (i + 1 < NRM_ARRAY_LEN(case_actions) &&
	    strcmp(seg, case_actions[i].segment) != 0)
		i++;
	return (enum case_action)i;
}

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
	int rc;

	if (nrm_req_if_match(r, "the ETag of the case", ifm, sizeof(ifm)) !=
	    NRM_OK)
		return;
	if (act == CASE_TRANSFER)
		rc = case_body(r, keys, 2, slot, &body);
	else
		rc = case_body(r, keys + 1,
		    act == CASE_TAKE || act == CASE_ACCEPT ? 0 : 1, slot + 1,
		    &body);
	if (rc != NRM_OK)
		return;
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, nrm_req_uuid_param(r));
	nrm_dbapi_text(&call, ifm[0] != '\0' ? ifm : NULL);
	if (act == CASE_TRANSFER)
		nrm_dbapi_text(&call, case_str(slot[0]));
	if (act != CASE_TAKE && act != CASE_ACCEPT)
		nrm_dbapi_text(&call, case_str(slot[1]));
	if (act == CASE_DECLINE) {
		snprintf(n1, sizeof(n1), "%d", cfg->decline_limit);
		nrm_dbapi_text(&call, n1);
	} else if (act == CASE_TRANSFER || act == CASE_REOPEN) {
		/* A transferred or reopened case gets fresh deadlines. */
		snprintf(n1, sizeof(n1), "%d", cfg->transfer_take_within);
		snprintf(
		    n2, sizeof(n2), "%d", cfg->transfer_first_contact_within);
		nrm_dbapi_text(&call, n1);
		nrm_dbapi_text(&call, n2);
	}
	if (act == CASE_TRANSFER) {
		/* The receiving region's time to answer it. */
		snprintf(n3, sizeof(n3), "%d", cfg->transfer_answer_within);
		nrm_dbapi_text(&call, n3);
	}
	/* The parameters are copied by the pool before body goes. */
	nrm_dbapi_send(r, case_actions[act].stmt, &call, NULL);
	cJSON_Delete(body);
}

/*
 * A body whose first member names a case or person by id (422 naming it,
 * with `what`, when it is none) and whose others are strings the
 * database checks: handover {"person"}, merge {"into", "reason"}.  Sends
 * the route's id, If-Match and the members, in order, to `stmt`.
 */
static void
case_by_id(struct nrm_req *r, const char *const *keys, int n, const char *what,
    enum nrm_stmt stmt)
{
	struct nrm_dbapi_call call;
	const cJSON *slot[2] = {NULL, NULL};
	cJSON *body = NULL;
	const char *id;
	char ifm[16];
	int i;

	if (nrm_req_if_match(r, "the ETag of the case", ifm, sizeof(ifm)) !=
		NRM_OK ||
	    case_body(r, keys, n, slot, &body) != NRM_OK)
		return;
	id = case_str(slot[0]);
	if (id == NULL || !nrm_uuid_valid(id)) {
		nrm_req_fail(r, NRM_E_VALIDATION, keys[0], "%s", what);
		goto out;
	}
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, nrm_req_uuid_param(r));
	nrm_dbapi_text(&call, ifm[0] != '\0' ? ifm : NULL);
	for (i = 0; i < n; i++)
		nrm_dbapi_text(&call, case_str(slot[i]));
	/* The parameters are copied by the pool before body goes. */
	nrm_dbapi_send(r, stmt, &call, NULL);
out:
	cJSON_Delete(body);
}

void
nrm_h_case_handover(struct nrm_req *r)
{
	static const char *const keys[] = {"person"};

	case_by_id(r, keys, 1, "person must be the id of a coordinator person",
	    NRM_STMT_CASE_HANDOVER);
}

/* {"into", "reason"}: into the case this one repeats, reason a code. */
void
nrm_h_case_merge(struct nrm_req *r)
{
	static const char *const keys[] = {"into", "reason"};

	case_by_id(r, keys, 2,
	    "into must be the id of the case this one repeats",
	    NRM_STMT_CASE_MERGE);
}

/*
 * {"at", "mode"}: at an RFC 3339 timestamp (normalized to UTC seconds
 * here), mode a code the database checks (422 naming the field).
 */
void
nrm_h_case_contact(struct nrm_req *r)
{
	static const char *const keys[] = {"at", "mode"};
	const cJSON *slot[2] = {NULL, NULL};
	cJSON *body = NULL;
	const char *at;
	char ifm[16], utc[NRM_TIME_TEXT_SIZE];
	int64_t t;

	if (nrm_req_if_match(r, "the ETag of the case", ifm, sizeof(ifm)) !=
		NRM_OK ||
	    case_body(r, keys, 2, slot, &body) != NRM_OK)
		return;
	at = case_str(slot[0]);
	if (at == NULL || nrm_time_parse(at, strlen(at), &t, NULL) != NRM_OK ||
	    nrm_time_format(t, utc, sizeof(utc)) != NRM_OK)
		nrm_req_fail(r, NRM_E_VALIDATION, "at",
		    "at must be an RFC 3339 timestamp");
	else
		NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_CASE_CONTACT,
		    nrm_req_uuid_param(r), ifm[0] != '\0' ? ifm : NULL, utc,
		    case_str(slot[1]));
	cJSON_Delete(body);
}

void
nrm_h_case_act(struct nrm_req *r)
{
	case_act(r, case_action_of(r));
}
