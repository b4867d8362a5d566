/*
 * test_crypto.c - the key derivation and the opaque tokens of
 * nrm-api/common/crypto.c: HKDF against RFC 5869, and sealed tokens that
 * round-trip, are deterministic, and refuse any change, another label
 * and another key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "crypto.h"

static unsigned char key[NRM_TOKEN_KEY_LEN];
static unsigned char key2[NRM_TOKEN_KEY_LEN];

/* nrm_unhex: the inverse of nrm_hex, either case; odd lengths and any
 * other character refused. */
static void
test_unhex(void **state)
{
	const unsigned char want[4] = {0x00, 0xab, 0xCD, 0xff};
	unsigned char out[4];
	char hex[9];

	(void)state;
	nrm_hex(want, sizeof(want), hex);
	assert_int_equal(nrm_unhex(hex, 8, out), NRM_OK);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(nrm_unhex("00ABcdFF", 8, out), NRM_OK);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(nrm_unhex("00abc", 5, out), NRM_ERR);
	assert_int_equal(nrm_unhex("00abcg", 6, out), NRM_ERR);
	assert_int_equal(nrm_unhex("0 ab", 4, out), NRM_ERR);
	assert_int_equal(nrm_unhex("", 0, out), NRM_OK);
}

static void
test_hkdf_rfc5869_case3(void **state)
{
	/* RFC 5869 A.3: SHA-256, IKM 22 x 0x0b, no salt, no info, L 42. */
	unsigned char ikm[22], okm[42];
	char hex[85];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	assert_int_equal(
	    nrm_hkdf_sha256(ikm, sizeof(ikm), "", okm, sizeof(okm)), NRM_OK);
	nrm_hex(okm, sizeof(okm), hex);
	assert_string_equal(hex,
	    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	    "9d201395faa4b61a96c8");
}

static void
test_token_round_trip(void **state)
{
	char tok[NRM_TOKEN_SEALED_MAX(64)], tok2[NRM_TOKEN_SEALED_MAX(64)];
	unsigned char out[64];
	int n;

	(void)state;
	assert_int_equal(
	    nrm_token_seal(key, "a", "4711", 4, tok, sizeof(tok)), NRM_OK);
	assert_null(strstr(tok, "4711"));
	assert_int_equal(strspn(tok,
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
			     "wxyz0123456789-_"),
	    strlen(tok));
	n = nrm_token_open(key, "a", tok, out, sizeof(out));
	assert_int_equal(n, 4);
	assert_memory_equal(out, "4711", 4);
	/* deterministic: the same watermark, the same token */
	assert_int_equal(
	    nrm_token_seal(key, "a", "4711", 4, tok2, sizeof(tok2)), NRM_OK);
	assert_string_equal(tok, tok2);
	/* a neighbour looks nothing alike */
	assert_int_equal(
	    nrm_token_seal(key, "a", "4712", 4, tok2, sizeof(tok2)), NRM_OK);
	assert_string_not_equal(tok, tok2);
	assert_int_not_equal(memcmp(tok, tok2, 16), 0);
}

static void
test_token_refusals(void **state)
{
	char tok[NRM_TOKEN_SEALED_MAX(64)], bad[NRM_TOKEN_SEALED_MAX(64)];
	unsigned char out[64];

	(void)state;
	assert_int_equal(
	    nrm_token_seal(key, "nrm.inbox.after", "12", 2, tok, sizeof(tok)),
	    NRM_OK);
	/* another label, another key */
	assert_int_equal(
	    nrm_token_open(key, "nrm.inbox.cursor", tok, out, sizeof(out)), -1);
	assert_int_equal(
	    nrm_token_open(key2, "nrm.inbox.after", tok, out, sizeof(out)), -1);
	/* every single changed character */
	for (size_t i = 0; i < strlen(tok); i++) {
		snprintf(bad, sizeof(bad), "%s", tok);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_int_equal(nrm_token_open(key, "nrm.inbox.after", bad,
				     out, sizeof(out)),
		    -1);
	}
	/* cut short, empty, not base64url, made up, too long for out */
	snprintf(bad, sizeof(bad), "%.*s", (int)strlen(tok) - 1, tok);
	assert_int_equal(
	    nrm_token_open(key, "nrm.inbox.after", bad, out, sizeof(out)), -1);
	assert_int_equal(
	    nrm_token_open(key, "nrm.inbox.after", "", out, sizeof(out)), -1);
	assert_int_equal(
	    nrm_token_open(key, "nrm.inbox.after", "12!", out, sizeof(out)),
	    -1);
	assert_int_equal(
	    nrm_token_open(key, "nrm.inbox.after",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", out, sizeof(out)),
	    -1);
	assert_int_equal(
	    nrm_token_open(key, "nrm.inbox.after", tok, out, 1), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unhex),
	    cmocka_unit_test(test_hkdf_rfc5869_case3),
	    cmocka_unit_test(test_token_round_trip),
	    cmocka_unit_test(test_token_refusals),
	};

	for (size_t i = 0; i < sizeof(key); i++) {
		key[i] = (unsigned char)i;
		key2[i] = (unsigned char)(i + 1);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
