/*
 * auth.h - bearer-token authentication at the HTTP edge.
 *
 * The edge only checks the token's shape and hashes it; whether the key
 * exists, is revoked, and has the right role is decided in the same
 * database transaction as the work itself (docs/sql-api.md), so that
 * revocation takes effect on the very next request and a denial is
 * audited.  The token is never logged or stored; only SHA-256(token).
 */
#ifndef NRM_AUTH_H
#define NRM_AUTH_H

#include "http.h"

/*
 * Parse "Authorization: Bearer <token>" into r->token_hash.  On a
 * missing or malformed header it replies 401 and returns NRM_ERR.
 */
int nrm_auth_bearer(struct nrm_req *r) NRM_MUSTCHECK;

#endif /* NRM_AUTH_H */
