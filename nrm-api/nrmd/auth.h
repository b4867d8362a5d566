/*
 * auth.h - authentication and role checks at the HTTP edge.
 *
 * The edge checks the bearer token's shape and hashes it; the token is
 * never logged or stored, only SHA-256(token).  Who the caller is comes
 * from the database (api.authorize), and is cached per token hash for
 * auth_cache_ttl seconds so that a steady stream of requests costs one
 * database round trip each, not two.  The live auth_cache_ttl decides
 * whether an entry is still good, so a reload that shortens it (or sets
 * 0) applies to entries already cached.
 *
 * The cache only decides what happens BEFORE the database call (401/403
 * before validation, the reporter's agency kind for routing).  Every
 * api.* function authenticates again inside its own transaction, so a
 * revoked key never reads or writes anything after revocation; at most
 * it still gets a validation answer for auth_cache_ttl seconds.  A 401
 * from the database evicts the entry.
 *
 * Requests that miss the cache for a token whose lookup is already out
 * wait for that lookup instead of sending their own (so a thousand
 * long-polls opened at once with one key cost one api.authorize, not a
 * thousand queued queries): when it answers with the principal, each
 * follower whose role may act goes on with it; any other follower asks
 * the database itself (a denial is audited per request).
 */
#ifndef NRM_AUTH_H
#define NRM_AUTH_H

#include "http.h"
#include "principal.h"

struct nrm_auth_cache;

struct nrm_auth_cache *nrm_auth_cache_new(void);
void nrm_auth_cache_free(struct nrm_auth_cache *c);
void nrm_auth_cache_evict(
    struct nrm_auth_cache *c, const unsigned char token_hash[32]);

/* Drop every entry of the key key_id (a key revoked over HTTP). */
void nrm_auth_cache_evict_key(struct nrm_auth_cache *c, const char *key_id);

/*
 * The caller's token into r->token_hash: "Authorization: Bearer <token>"
 * when the header is present (a malformed one is 401, even with a
 * cookie); else the __Host-nrm_session cookie (session.h), hashed the
 * same way, with r->by_cookie set: every api.* function then finds the
 * session by its hash as it finds a key.  A cookie-authenticated unsafe
 * method (POST, PUT, PATCH, DELETE) must carry X-CSRF-Token and the
 * public Origin, else 403 naming the header, before the database: such
 * a refusal names nobody verifiable and is not audited (like a
 * malformed bearer token).  No credential at all (or a malformed cookie,
 * treated as absent) is 401 on field Authorization.  On failure it has
 * replied and returns NRM_ERR.  The cookie value is never logged.
 */
int nrm_auth_token(struct nrm_req *r) NRM_MUSTCHECK;

/*
 * Add the Set-Cookie header that starts a session (session.h) for
 * max_age_s seconds, or, with tok NULL, the one that removes it.
 * NRM_ERR, and nothing added, on the plain listener: a session cookie
 * is set only over TLS.
 */
int nrm_auth_set_session_cookie(
    struct nrm_req *r, const char *tok, int max_age_s) NRM_MUSTCHECK;

/* Continue a request once r->principal is set. */
typedef void (*nrm_auth_cb)(struct nrm_req *r);

/*
 * The router's gate (http.c calls it for every request that found its
 * endpoint): apply r->endpoint's auth column (http.h), then call the endpoint's
 * handler.  OPEN calls it at once; TOKEN after nrm_auth_token().  ROLE
 * establishes r->principal for a caller whose role is in `roles`: it
 * parses the credential, uses the cache or asks api.authorize (which
 * audits a denial).  RECORD always asks the database (api.record), which
 * also writes an allowed audit event.  On failure it replies
 * 401/403/429/503 itself and the handler is not called.  `action` and
 * `object_type` name the attempted action and its object in the audit
 * event; the object id is the route's {id} when it is well formed (a
 * uuid or a decimal number: never free text from the path), else none.
 */
void nrm_auth_gate(struct nrm_req *r);

/*
 * What RECORD does, on its own: for a handler that finds, after its
 * gate, that only the database may answer (an unknown object: 401 or
 * 404, never from the principal cache).  Writes an allowed audit event
 * for `action` on (object_type, object_id), then calls cont(r).
 */
void nrm_auth_record(struct nrm_req *r, unsigned roles, const char *action,
    const char *object_type, const char *object_id, nrm_auth_cb cont);

#endif /* NRM_AUTH_H */
