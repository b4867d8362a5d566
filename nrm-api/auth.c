/*
 * auth.c - bearer-token parsing and hashing (see auth.h).
 */
#include "auth.h"
#include "crypto.h"

#include <string.h>
#include <strings.h>

int
nrm_auth_bearer(struct nrm_req *r)
{
	const char *h = nrm_req_header(r, "Authorization");
	const char *tok;

	if (h == NULL) {
		nrm_req_fail(r, NRM_E_UNAUTHENTICATED, "Authorization",
		    "a bearer token is required");
		return NRM_ERR;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		nrm_req_fail(r, NRM_E_UNAUTHENTICATED, "Authorization",
		    "the Authorization scheme must be Bearer");
		return NRM_ERR;
	}
	tok = h + 7;
	while (*tok == ' ')
		tok++;
	if (!nrm_token_well_formed(tok, strlen(tok))) {
		nrm_req_fail(r, NRM_E_UNAUTHENTICATED, "Authorization",
		    "the bearer token is not valid");
		return NRM_ERR;
	}
	nrm_sha256(tok, strlen(tok), r->token_hash);
	r->has_token = true;
	return NRM_OK;
}
