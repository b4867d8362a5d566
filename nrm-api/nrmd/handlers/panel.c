/*
 * panel.c - the identification panel's routes (see panel.h).
 *
 *   POST /v1/cases/{id}/panel          assessor -> api.panel_assign
 *   GET  /v1/cases/{id}/panel          assessor -> api.panel_get
 *   POST /v1/cases/{id}/panel/recusal  assessor (a member's session)
 *                                      -> api.panel_recuse
 *   POST /v1/cases/{id}/panel/vote     assessor (a member's session)
 *                                      -> api.panel_vote
 *   GET  /v1/panels/pending            assessor -> api.panel_pending
 *
 * Whether the caller is a person (a session) and a member is the
 * database's to say: an API key of the assessor role gets its 403 there.
 */
#include "panel.h"
#include "dbapi.h"
#include "sealed.h"
#include "util.h"

#include <stdlib.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/*
 * Send the JSON object body of the request as the jsonb parameter after
 * the case id; `seal`: the vote's rationale is sealed first, and the
 * answer, which holds sealed rationales, is opened.
 */
static void
panel_send_body(
    struct nrm_req *r, enum nrm_stmt stmt, bool seal, const char *profile)
{
	struct nrm_dbapi_call call;
	const char *id = nrm_req_uuid_param(r);
	char *text;

	if (seal ? nrm_sealed_body(r, "rationale", "ident.panel_vote",
		       NRM_SEALED_RATIONALE_MAX, "outcome, reason, rationale",
		       &text) != NRM_OK
		 : nrm_req_body_text(r, &text) != NRM_OK)
		return;
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, id);
	nrm_dbapi_text(&call, text);
	if (profile != NULL)
		nrm_dbapi_text(&call, profile);
	/* The parameters are copied by the pool before text goes. */
	nrm_sealed_send(r, stmt, &call, "case", id);
	free(text);
}

void
nrm_h_panel_assign(struct nrm_req *r)
{
	panel_send_body(
	    r, NRM_STMT_PANEL_ASSIGN, false, r->app->cfg.jurisdiction_profile);
}

void
nrm_h_panel_recusal(struct nrm_req *r)
{
	panel_send_body(r, NRM_STMT_PANEL_RECUSE, false, NULL);
}

void
nrm_h_panel_vote(struct nrm_req *r)
{
	panel_send_body(r, NRM_STMT_PANEL_VOTE, true, NULL);
}

/* No query parameter: any is a 400 naming it. */
void
nrm_h_panel_pending(struct nrm_req *r)
{
	struct nrm_dbapi_call call;
	struct evkeyvalq q;

	if (nrm_req_page_query(r, &q, NULL, 0) != NRM_OK)
		return;
	evhttp_clear_headers(&q);
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_send(r, NRM_STMT_PANEL_PENDING, &call, NULL);
}
