/*
 * panel.h - the identification panel's routes (issue 19,
 * docs/separation.md "Who decides"): referral, the panel as the caller
 * may see it, recusal and vote by a member in their own session, and
 * the inbox of pending decisions.
 *
 * Each handler replies or starts one api.* call (sql/api/55_panel.sql),
 * which checks the body, the caller and the rules; only the assessor
 * role gets that far.  A vote's rationale leaves nrmd sealed (AAD
 * "ident.panel_vote/rationale/<vote id>") and comes back sealed; both
 * answers are opened before the reply.  Nothing here reads or forwards
 * investigation data, and no body is logged.
 */
#ifndef NRM_HANDLERS_PANEL_H
#define NRM_HANDLERS_PANEL_H

#include "http.h"

/* POST /v1/cases/{id}/panel {"members", "chair", "second_reviewer"} */
void nrm_h_panel_assign(struct nrm_req *r);

/* GET /v1/cases/{id}/panel: a row of the endpoint table (idread.h) */

/* POST /v1/cases/{id}/panel/recusal {"reason"} */
void nrm_h_panel_recusal(struct nrm_req *r);

/* POST /v1/cases/{id}/panel/vote {"outcome", "reason", "rationale"} */
void nrm_h_panel_vote(struct nrm_req *r);

/* GET /v1/panels/pending */
void nrm_h_panel_pending(struct nrm_req *r);

#endif /* NRM_HANDLERS_PANEL_H */
