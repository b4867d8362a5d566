/*
 * session.h - the session edge (issue 11): the __Host-nrm_session
 * cookie, its CSRF token and its Set-Cookie header.  Pure functions over
 * strings and keys (OpenSSL through crypto.h, no libevent, no database),
 * so that they are unit-tested alone; auth.c applies them to requests.
 *
 * Token: 32 random bytes from OpenSSL's RNG as base64url without padding
 * (43 characters, 256 bits).  Only SHA-256(token) leaves nrmd (to the
 * database, as p_token_hash, exactly like a bearer token's hash); the
 * token is never logged.
 *
 * CSRF token: base64url(HMAC-SHA-256(csrf_key, token)), with csrf_key =
 * HKDF(pseudonym key, "nrm csrf v1") (app.h).  It is derived, not
 * stored: the server recomputes it from the cookie on every unsafe
 * request, so there is no table to keep, and it cannot be computed
 * without the key, so a page on another origin that makes the browser
 * send the cookie cannot supply it.  It is as secret as the cookie.
 */
#ifndef NRM_SESSION_H
#define NRM_SESSION_H

#include "nrm/nrm.h"

#define NRM_SESSION_COOKIE "__Host-nrm_session"
#define NRM_SESSION_TOKEN_LEN 43 /* base64url of 32 bytes */
#define NRM_SESSION_CSRF_LEN 43 /* base64url of an HMAC-SHA-256 */
#define NRM_SESSION_CSRF_HEADER "X-CSRF-Token"
/* Room for a Set-Cookie value with the longest Max-Age. */
#define NRM_SESSION_SET_COOKIE_MAX 160

/*
 * Find the session cookie in a Cookie header value (`header` may be
 * NULL).  Strict: the header is "name=value" pairs separated by ";" and
 * optional spaces; only the pair named exactly NRM_SESSION_COOKIE
 * counts, and its value must be the canonical base64url of 32 bytes.
 * True, with the value in tok, when there is exactly one such pair and
 * it is well formed; false (tok "") when it is absent, malformed or
 * given twice, or when the header is not a list of pairs: a malformed
 * cookie is treated as absent.  Other cookies are ignored.
 */
bool nrm_session_cookie_parse(
    const char *header, char tok[NRM_SESSION_TOKEN_LEN + 1]);

/*
 * A fresh session: token, SHA-256(token) and the CSRF token.  NRM_ERR
 * when the RNG or the HMAC fails (nothing is then usable).
 */
int nrm_session_new(const unsigned char csrf_key[32],
    char tok[NRM_SESSION_TOKEN_LEN + 1], unsigned char hash[32],
    char csrf[NRM_SESSION_CSRF_LEN + 1]) NRM_MUSTCHECK;

/* The CSRF token of a session token.  NRM_ERR when the HMAC fails. */
int nrm_session_csrf(const unsigned char csrf_key[32], const char *tok,
    char csrf[NRM_SESSION_CSRF_LEN + 1]) NRM_MUSTCHECK;

/* POST, PUT, PATCH and DELETE (and any method not known to be safe). */
bool nrm_session_method_unsafe(const char *method);

/*
 * May a request authenticated by the session token `tok` use `method`?
 * Safe methods always may.  An unsafe one needs `csrf_header` (the
 * X-CSRF-Token value, NULL when absent) equal, in constant time, to the
 * token's CSRF token, and then `origin_header` (NULL when absent) equal
 * to `origin` (the configured public origin; "" matches nothing).
 * NRM_OK, or NRM_ERR with *field set to the header at fault
 * (NRM_SESSION_CSRF_HEADER or "Origin"); the CSRF token is checked first.
 */
int nrm_session_check_method(const unsigned char csrf_key[32], const char *tok,
    const char *method, const char *csrf_header, const char *origin_header,
    const char *origin, const char **field) NRM_MUSTCHECK;

/*
 * The Set-Cookie value that gives the browser `tok` for max_age_s
 * seconds: NRM_SESSION_COOKIE=tok; Secure; HttpOnly; SameSite=Strict;
 * Path=/; Max-Age=N (no Domain: a __Host- cookie).  buf has room for
 * NRM_SESSION_SET_COOKIE_MAX bytes.
 */
void nrm_session_set_cookie(
    char buf[NRM_SESSION_SET_COOKIE_MAX], const char *tok, int max_age_s);

/* The Set-Cookie value that removes it (empty value, Max-Age=0). */
void nrm_session_clear_cookie(char buf[NRM_SESSION_SET_COOKIE_MAX]);

#endif /* NRM_SESSION_H */
