/*
 * carework.h - the care work of a case (issue 18): case notes, the
 * support plan and the referrals a provider agency answers
 * (docs/case-lifecycle.md, "Notes" and "Support plan and referrals").
 *
 * Each handler checks the role at the edge (coordinator) and makes one
 * api.* call; the database decides scope, holder and state.  A note's
 * text leaves nrmd sealed and comes back sealed (sealed.h); no handler
 * logs a body.
 */
#ifndef NRM_CAREWORK_H
#define NRM_CAREWORK_H

#include "http.h"

/* POST /v1/cases/{id}/notes  {"text", "corrects"} -> api.case_note_add */
void nrm_h_note_add(struct nrm_req *r);
/* POST /v1/cases/{id}/support  add an item, or {"item", "status", ...} */
void nrm_h_support_post(struct nrm_req *r);
/* GET /v1/referrals?status= -> api.referral_list */
void nrm_h_referral_list(struct nrm_req *r);
/* POST /v1/referrals/{id}/accept and /refuse {"reason"} */
void nrm_h_referral_answer(struct nrm_req *r);

/*
 * The reads by the case id (GET .../notes, .../followups, .../support,
 * .../related) are rows of the endpoint table served by idread.h.
 */

#endif /* NRM_CAREWORK_H */
