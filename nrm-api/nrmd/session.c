/*
 * session.c - the session cookie, its CSRF token and its Set-Cookie
 * header (see session.h).
 */
#include "session.h"
#include "crypto.h"

#include <stdio.h>
#include <string.h>

/* 43 base64url characters that decode to 32 bytes and encode back to
 * themselves (no stray bits in the last character). */
static bool
session_token_canonical(const char *v, size_t n)
{
	unsigned char raw[48];
	char back[NRM_SESSION_TOKEN_LEN + 4];
	bool ok;

	if (n != NRM_SESSION_TOKEN_LEN)
		return false;
	if (nrm_b64url_decode(v, n, raw) != 32)
		return false;
	ok = nrm_b64url_encode(raw, 32, back) == n && memcmp(back, v, n) == 0;
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(back, sizeof(back));
	return ok;
}

bool
nrm_session_cookie_parse(
    const char *header, char tok[NRM_SESSION_TOKEN_LEN + 1])
{
	static const char name[] = NRM_SESSION_COOKIE "=";
	const char *p = header;
	const char *found = NULL;
	size_t found_len = 0;
	int seen = 0;

	tok[0] = '\0';
	if (header == NULL)
		return false;
	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ";");
		if (n >= sizeof(name) - 1 &&
		    memcmp(p, name, sizeof(name) - 1) == 0) {
			seen++;
			found = p + sizeof(name) - 1;
			found_len = n - (sizeof(name) - 1);
			/* trailing white space before ';' or the end */
			while (found_len > 0 &&
			    (found[found_len - 1] == ' ' ||
				found[found_len - 1] == '\t'))
				found_len--;
		}
		p += n;
		if (*p == ';')
			p++;
	}
	if (seen != 1 || !session_token_canonical(found, found_len))
		return false;
	memcpy(tok, found, NRM_SESSION_TOKEN_LEN);
	tok[NRM_SESSION_TOKEN_LEN] = '\0';
	return true;
}

int
nrm_session_csrf(const unsigned char csrf_key[32], const char *tok,
    char csrf[NRM_SESSION_CSRF_LEN + 1])
{
	unsigned char mac[32];
	char b64[NRM_SESSION_CSRF_LEN + 4];

	csrf[0] = '\0';
	if (nrm_hmac_sha256(csrf_key, 32, tok, strlen(tok), mac) != NRM_OK)
		return NRM_ERR;
	nrm_b64url_encode(mac, sizeof(mac), b64);
	memcpy(csrf, b64, NRM_SESSION_CSRF_LEN + 1);
	explicit_bzero(mac, sizeof(mac));
	explicit_bzero(b64, sizeof(b64));
	return NRM_OK;
}

int
nrm_session_new(const unsigned char csrf_key[32],
    char tok[NRM_SESSION_TOKEN_LEN + 1], unsigned char hash[32],
    char csrf[NRM_SESSION_CSRF_LEN + 1])
{
	unsigned char raw[32];
	char b64[NRM_SESSION_TOKEN_LEN + 4];
	int rc = NRM_ERR;

	tok[0] = '\0';
	if (nrm_random_bytes(raw, sizeof(raw)) != NRM_OK)
		goto out;
	nrm_b64url_encode(raw, sizeof(raw), b64);
	memcpy(tok, b64, NRM_SESSION_TOKEN_LEN + 1);
	nrm_sha256(tok, NRM_SESSION_TOKEN_LEN, hash);
	if (nrm_session_csrf(csrf_key, tok, csrf) != NRM_OK) {
		explicit_bzero(tok, NRM_SESSION_TOKEN_LEN + 1);
		goto out;
	}
	rc = NRM_OK;
out:
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(b64, sizeof(b64));
	return rc;
}

bool
nrm_session_method_unsafe(const char *method)
{
	static const char *const safe[] = {"GET", "HEAD", "OPTIONS"};

	for (size_t i = 0; i < NRM_ARRAY_LEN(safe); i++)
		if (strcmp(method, safe[i]) == 0)
			return false;
	return true;
}

int
nrm_session_check_method(const unsigned char csrf_key[32], const char *tok,
    const char *method, const char *csrf_header, const char *origin_header,
    const char *origin, const char **field)
{
	char want[NRM_SESSION_CSRF_LEN + 1];
	bool ok;

	*field = "";
	if (!nrm_session_method_unsafe(method))
		return NRM_OK;
	*field = NRM_SESSION_CSRF_HEADER;
	if (csrf_header == NULL ||
	    strlen(csrf_header) != NRM_SESSION_CSRF_LEN ||
	    nrm_session_csrf(csrf_key, tok, want) != NRM_OK)
		return NRM_ERR;
	ok = nrm_ct_equal(want, csrf_header, NRM_SESSION_CSRF_LEN);
	explicit_bzero(want, sizeof(want));
	if (!ok)
		return NRM_ERR;
	*field = "Origin";
	if (origin_header == NULL || origin[0] == '\0' ||
	    strcmp(origin_header, origin) != 0)
		return NRM_ERR;
	*field = "";
	return NRM_OK;
}

void
nrm_session_set_cookie(
    char buf[NRM_SESSION_SET_COOKIE_MAX], const char *tok, int max_age_s)
{
	snprintf(buf, NRM_SESSION_SET_COOKIE_MAX,
	    "%s=%.*s; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d",
	    NRM_SESSION_COOKIE, NRM_SESSION_TOKEN_LEN, tok,
	    max_age_s > 0 ? max_age_s : 0);
}

void
nrm_session_clear_cookie(char buf[NRM_SESSION_SET_COOKIE_MAX])
{
	snprintf(buf, NRM_SESSION_SET_COOKIE_MAX,
	    "%s=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
	    NRM_SESSION_COOKIE);
}
