/*
 * carework.c - the care work of a case (see carework.h):
 *
 *   POST /v1/cases/{id}/notes        coordinator: {"text", "corrects"};
 *                                    the text is sealed here
 *   GET  /v1/cases/{id}/notes        coordinator: an audited read, the
 *                                    texts opened here
 *   POST /v1/cases/{id}/support      coordinator (the holder): a new
 *                                    item, or an item's status
 *   GET  /v1/cases/{id}/support      coordinator: the plan
 *   GET  /v1/referrals               coordinator: the referrals to the
 *                                    caller's agency (?status=)
 *   POST /v1/referrals/{id}/accept   coordinator of the provider
 *   POST /v1/referrals/{id}/refuse   agency: {"reason"} (refuse only)
 *   GET  /v1/cases/{id}/related      coordinator: the caller's other
 *                                    cases of the same pseudonym (dates
 *                                    and regions only)
 *   GET  /v1/cases/{id}/followups    coordinator: an audited read of the
 *                                    reporter's follow-ups, opened here
 */
#include "carework.h"
#include "dbapi.h"
#include "sealed.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/* The longest note (bytes of UTF-8). */
#define CW_NOTE_MAX 8000

void
nrm_h_note_add(struct nrm_req *r)
{
	struct nrm_dbapi_call call;
	const char *id = nrm_req_uuid_param(r);
	char *note;

	if (nrm_sealed_body(r, "text", "care.case_note", CW_NOTE_MAX,
		"text, corrects", &note) != NRM_OK)
		return;
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, id);
	nrm_dbapi_text(&call, note);
	/* The parameters are copied by the pool before note goes. */
	nrm_sealed_send(r, NRM_STMT_NOTE_ADD, &call, "case", id);
	free(note);
}

/* The body after the route's id: the database judges its keys. */
void
nrm_h_support_post(struct nrm_req *r)
{
	char *text;

	if (nrm_req_body_text(r, &text) != NRM_OK)
		return;
	NRM_DBAPI_SEND_TEXTS(
	    r, NRM_STMT_SUPPORT_POST, nrm_req_uuid_param(r), text);
	free(text);
}

void
nrm_h_referral_list(struct nrm_req *r)
{
	struct evkeyvalq q;
	struct evkeyval *kv;

	if (nrm_req_query(r, &q) != NRM_OK) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "", "malformed query");
		return;
	}
	TAILQ_FOREACH(kv, &q, next)
	if (strcmp(kv->key, "status") != 0) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, kv->key,
		    "unknown parameter; known: status");
		evhttp_clear_headers(&q);
		return;
	}
	NRM_DBAPI_SEND_TEXTS(
	    r, NRM_STMT_REFERRAL_LIST, evhttp_find_header(&q, "status"));
	evhttp_clear_headers(&q);
}

/* "accept" or "refuse": the last segment of the route. */
static const char *
cw_answer_of(const struct nrm_req *r)
{
	return strrchr(r->endpoint->pattern, '/') + 1;
}

void
nrm_h_referral_answer(struct nrm_req *r)
{
	static const char *const keys[] = {"reason"};
	const cJSON *slot[1] = {NULL};
	cJSON *body = NULL;

	if (nrm_req_body_object(r, true, keys, 1, slot, &body) != NRM_OK)
		return;
	if (slot[0] != NULL && !cJSON_IsString(slot[0]))
		nrm_req_fail(r, NRM_E_VALIDATION, "reason",
		    "reason must be a string (a code)");
	else
		NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_REFERRAL_ANSWER,
		    nrm_req_uuid_param(r), cw_answer_of(r),
		    slot[0] != NULL ? slot[0]->valuestring : NULL);
	cJSON_Delete(body);
}
