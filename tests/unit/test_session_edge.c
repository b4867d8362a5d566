/*
 * test_session_edge.c - the session edge alone (session.c with crypto.c
 * and OpenSSL, no daemon, no libevent): parsing the Cookie header, the
 * CSRF token and the rules for unsafe methods, the Set-Cookie values.
 * The same rules applied to live requests are in test_http_alone.c and
 * tests/e2e/test_session_edge.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include "crypto.h"
#include "session.h"

/* b64url(bytes 100..131) and, with key bytes 0..31, its CSRF token as
 * Python's hmac computes it (a known answer, not our own code twice). */
#define TOK "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM"
#define TOK_CSRF "QJLhaNqPEfmjmPeXXd_mDV6I_za2mxtOcfwpkoM8lR8"
#define TOK2 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define ORIGIN "https://nrm.example.org"

static unsigned char key[32];

static int
se_setup(void **state)
{
	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)i;
	return 0;
}

static void
se_parse_ok(const char *header, const char *want)
{
	char tok[NRM_SESSION_TOKEN_LEN + 1] = "x";

	if (!nrm_session_cookie_parse(header, tok))
		fail_msg("refused: %s", header);
	if (strcmp(tok, want) != 0)
		fail_msg("%s: got %s", header, tok);
}

static void
se_parse_absent(const char *header)
{
	char tok[NRM_SESSION_TOKEN_LEN + 1] = "x";

	if (nrm_session_cookie_parse(header, tok))
		fail_msg("accepted: %s", header ? header : "(null)");
	assert_string_equal(tok, "");
}

static void
test_cookie_valid(void **state)
{
	(void)state;
	se_parse_ok("__Host-nrm_session=" TOK, TOK);
	se_parse_ok("__Host-nrm_session=" TOK2, TOK2);
	se_parse_ok("a=1; __Host-nrm_session=" TOK "; b=2", TOK);
	se_parse_ok("a=1;__Host-nrm_session=" TOK, TOK);
	se_parse_ok("  __Host-nrm_session=" TOK "  ", TOK);
	/* other cookies of any shape are not ours to judge */
	se_parse_ok("theme=\"dark\"; nameless; __Host-nrm_session=" TOK, TOK);
	se_parse_ok("__Host-nrm_session2=x; __Host-nrm_session=" TOK, TOK);
}

static void
test_cookie_malformed_is_absent(void **state)
{
	(void)state;
	se_parse_absent(NULL);
	se_parse_absent("");
	se_parse_absent("a=1; b=2");
	se_parse_absent("__Host-nrm_session=");
	se_parse_absent("__Host-nrm_session=" TOK "A"); /* 44 characters */
	se_parse_absent("__Host-nrm_session="
			"ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgo");
	/* standard base64 alphabet, padding, quotes, a space inside */
	se_parse_absent(
	    "__Host-nrm_session=ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM");
	se_parse_absent("__Host-nrm_session=" TOK "=");
	se_parse_absent("__Host-nrm_session=\"" TOK "\"");
	se_parse_absent(
	    "__Host-nrm_session=ZGVmZ2hpamtsbW5vcHFy c3R1dnd4eXp7fH1-f4CBgoM");
	/* stray bits in the last character: not the canonical encoding */
	se_parse_absent("__Host-nrm_session="
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB");
	/* the name is exact and case-sensitive; no prefix variants */
	se_parse_absent("__host-nrm_session=" TOK);
	se_parse_absent("nrm_session=" TOK);
	se_parse_absent("__Host-nrm_session =" TOK);
	se_parse_absent("x__Host-nrm_session=" TOK);
}

static void
test_cookie_duplicates_are_absent(void **state)
{
	(void)state;
	se_parse_absent("__Host-nrm_session=" TOK "; __Host-nrm_session=" TOK);
	se_parse_absent("__Host-nrm_session=" TOK "; __Host-nrm_session=" TOK2);
	se_parse_absent("__Host-nrm_session=bad; __Host-nrm_session=" TOK);
}

static void
test_csrf_known_answer(void **state)
{
	char csrf[NRM_SESSION_CSRF_LEN + 1];

	(void)state;
	assert_int_equal(nrm_session_csrf(key, TOK, csrf), NRM_OK);
	assert_string_equal(csrf, TOK_CSRF);
}

static void
test_new_session(void **state)
{
	char tok[NRM_SESSION_TOKEN_LEN + 1], tok2[NRM_SESSION_TOKEN_LEN + 1];
	char csrf[NRM_SESSION_CSRF_LEN + 1], csrf2[NRM_SESSION_CSRF_LEN + 1];
	char cookie[100];
	unsigned char hash[32], want[32];

	(void)state;
	assert_int_equal(nrm_session_new(key, tok, hash, csrf), NRM_OK);
	assert_int_equal(strlen(tok), NRM_SESSION_TOKEN_LEN);
	/* the cookie parser takes what we make */
	snprintf(cookie, sizeof(cookie), "%s=%s", NRM_SESSION_COOKIE, tok);
	se_parse_ok(cookie, tok);
	nrm_sha256(tok, strlen(tok), want);
	assert_memory_equal(hash, want, 32);
	assert_int_equal(nrm_session_csrf(key, tok, csrf2), NRM_OK);
	assert_string_equal(csrf, csrf2);
	assert_int_equal(nrm_session_new(key, tok2, hash, csrf2), NRM_OK);
	assert_string_not_equal(tok, tok2);
	assert_string_not_equal(csrf, csrf2);
}

/* NRM_OK, or the header named. */
static const char *
se_check(const char *method, const char *csrf, const char *origin)
{
	const char *field = "unset";

	if (nrm_session_check_method(
		key, TOK, method, csrf, origin, ORIGIN, &field) == NRM_OK) {
		assert_string_equal(field, "");
		return "ok";
	}
	return field;
}

static void
test_csrf_rules(void **state)
{
	static const char *const unsafe[] = {"POST", "PUT", "PATCH", "DELETE"};

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		const char *m = unsafe[i];

		assert_true(nrm_session_method_unsafe(m));
		assert_string_equal(se_check(m, TOK_CSRF, ORIGIN), "ok");
		assert_string_equal(
		    se_check(m, NULL, ORIGIN), NRM_SESSION_CSRF_HEADER);
		assert_string_equal(
		    se_check(m, "", ORIGIN), NRM_SESSION_CSRF_HEADER);
		/* one character off, shorter, longer, another session's */
		assert_string_equal(
		    se_check(m, "QJLhaNqPEfmjmPeXXd_mDV6I_za2mxtOcfwpkoM8lR9",
			ORIGIN),
		    NRM_SESSION_CSRF_HEADER);
		assert_string_equal(
		    se_check(m, "QJLhaNqPEfmjmPeXXd_mDV6I_za2mxtOcfwpkoM8lR",
			ORIGIN),
		    NRM_SESSION_CSRF_HEADER);
		assert_string_equal(
		    se_check(m, TOK_CSRF "x", ORIGIN), NRM_SESSION_CSRF_HEADER);
		assert_string_equal(
		    se_check(m, TOK, ORIGIN), NRM_SESSION_CSRF_HEADER);
		/* the CSRF token is checked first */
		assert_string_equal(se_check(m, NULL, "https://evil.example"),
		    NRM_SESSION_CSRF_HEADER);
		assert_string_equal(se_check(m, TOK_CSRF, NULL), "Origin");
		assert_string_equal(
		    se_check(m, TOK_CSRF, "https://evil.example"), "Origin");
		assert_string_equal(se_check(m, TOK_CSRF, "null"), "Origin");
		assert_string_equal(
		    se_check(m, TOK_CSRF, ORIGIN "/"), "Origin");
		assert_string_equal(
		    se_check(m, TOK_CSRF, "http://nrm.example.org"), "Origin");
		assert_string_equal(
		    se_check(m, TOK_CSRF, "https://nrm.example.org:443"),
		    "Origin");
	}
	/* an unknown method is not known to be safe */
	assert_true(nrm_session_method_unsafe("PROPFIND"));
}

static void
test_safe_methods_unaffected(void **state)
{
	(void)state;
	assert_false(nrm_session_method_unsafe("GET"));
	assert_false(nrm_session_method_unsafe("HEAD"));
	assert_false(nrm_session_method_unsafe("OPTIONS"));
	assert_string_equal(se_check("GET", NULL, NULL), "ok");
	assert_string_equal(se_check("HEAD", "wrong", "https://evil"), "ok");
}

static void
test_no_origin_configured_matches_nothing(void **state)
{
	const char *field;

	(void)state;
	assert_int_equal(nrm_session_check_method(
			     key, TOK, "POST", TOK_CSRF, "", "", &field),
	    NRM_ERR);
	assert_string_equal(field, "Origin");
}

static void
test_set_cookie(void **state)
{
	char v[NRM_SESSION_SET_COOKIE_MAX];

	(void)state;
	nrm_session_set_cookie(v, TOK, 36000);
	assert_string_equal(v,
	    "__Host-nrm_session=" TOK
	    "; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=36000");
	/* the longest Max-Age fits */
	nrm_session_set_cookie(v, TOK, 2147483647);
	assert_non_null(strstr(v, "; Max-Age=2147483647"));
	assert_null(strstr(v, "Domain"));
	nrm_session_set_cookie(v, TOK, -5);
	assert_non_null(strstr(v, "; Max-Age=0"));
	nrm_session_clear_cookie(v);
	assert_string_equal(v,
	    "__Host-nrm_session=; Secure; HttpOnly; SameSite=Strict; "
	    "Path=/; Max-Age=0");
}

UNIT_MAIN(se_setup, NULL, cmocka_unit_test(test_cookie_valid),
    cmocka_unit_test(test_cookie_malformed_is_absent),
    cmocka_unit_test(test_cookie_duplicates_are_absent),
    cmocka_unit_test(test_csrf_known_answer),
    cmocka_unit_test(test_new_session), cmocka_unit_test(test_csrf_rules),
    cmocka_unit_test(test_safe_methods_unaffected),
    cmocka_unit_test(test_no_origin_configured_matches_nothing),
    cmocka_unit_test(test_set_cookie))
