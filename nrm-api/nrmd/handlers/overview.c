/*
 * handlers/overview.c - the central information point (issue 20):
 *
 *   GET /v1/overview  (chain_director, coordinator) live counts and
 *                     coverage per region and for the national desk ->
 *                     api.overview; the chain director and the national
 *                     desk see every row, a coordinator its regions'
 *
 * Counts only: the answer never holds a case id or personal data (the
 * database's care.overview_* functions count, nothing else).  The one
 * argument nrmd adds is coverage_silent_after, the silence after which
 * a region's coordinators no longer count as covering it.
 */
#include "dbapi.h"
#include "endpoints.h"
#include "util.h"

#include <stdio.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/* No query parameter is known: any one is a 400 naming it. */
void
nrm_h_overview(struct nrm_req *r)
{
	struct evkeyvalq q;
	char silent[16];

	if (nrm_req_page_query(r, &q, NULL, 0) != NRM_OK)
		return;
	evhttp_clear_headers(&q);
	snprintf(
	    silent, sizeof(silent), "%d", r->app->cfg.coverage_silent_after);
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_OVERVIEW, silent);
}
