/*
 * test_totp.c - nrm-api/common/totp.c: HOTP and TOTP against the RFC
 * 4226 and RFC 6238 test vectors (8 digits, and their 6-digit
 * truncation), the drift window, replay refusal, typed-code parsing,
 * base32 against RFC 4648 section 10 and round trips, the otpauth:// URI
 * and the recovery codes (shape, normalisation, hash).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include "crypto.h"
#include "totp.h"

/* The RFC 4226 / RFC 6238 SHA-1 seed: ASCII "1234567890" twice. */
static const unsigned char seed[20] = "12345678901234567890";

static void
test_hotp_rfc4226(void **state)
{
	/* RFC 4226 Appendix D, counters 0..9 */
	static const uint32_t want[] = {755224, 287082, 359152, 969429, 338314,
	    254676, 287922, 162583, 399871, 520489};
	uint32_t code;

	(void)state;
	for (size_t i = 0; i < NRM_ARRAY_LEN(want); i++) {
		assert_int_equal(
		    nrm_hotp(seed, sizeof(seed), i, 6, &code), NRM_OK);
		assert_int_equal(code, want[i]);
	}
	assert_int_equal(nrm_hotp(seed, sizeof(seed), 0, 5, &code), NRM_ERR);
	assert_int_equal(nrm_hotp(seed, sizeof(seed), 0, 9, &code), NRM_ERR);
}

static void
test_totp_rfc6238(void **state)
{
	/* RFC 6238 Appendix B, SHA-1 rows */
	static const struct {
		int64_t t;
		uint32_t code8;
	} rows[] = {
	    {59, 94287082},
	    {1111111109, 7081804},
	    {1111111111, 14050471},
	    {1234567890, 89005924},
	    {2000000000, 69279037},
	    {20000000000, 65353130},
	};
	uint32_t code;
	char typed[8];
	int64_t step;

	(void)state;
	for (size_t i = 0; i < NRM_ARRAY_LEN(rows); i++) {
		int64_t at = nrm_totp_step(rows[i].t);

		assert_int_equal(
		    nrm_hotp(seed, sizeof(seed), (uint64_t)at, 8, &code),
		    NRM_OK);
		assert_int_equal(code, rows[i].code8);
		/* 6 digits: the same truncation, modulo 10^6 */
		assert_int_equal(
		    nrm_hotp(seed, sizeof(seed), (uint64_t)at, 6, &code),
		    NRM_OK);
		assert_int_equal(code, rows[i].code8 % 1000000);
		/* and what a person types is accepted at that time */
		snprintf(typed, sizeof(typed), "%06u",
		    (unsigned)(rows[i].code8 % 1000000));
		assert_int_equal(nrm_totp_verify(seed, sizeof(seed), typed, 6,
				     rows[i].t, NRM_TOTP_NO_STEP, &step),
		    NRM_OK);
		assert_int_equal(step, at);
	}
	/* a leading zero is a digit: 1111111109 gives "081804" */
	assert_int_equal(nrm_totp_verify(seed, sizeof(seed), "081804", 6,
			     1111111109, NRM_TOTP_NO_STEP, &step),
	    NRM_OK);
	assert_int_equal(nrm_totp_verify(seed, sizeof(seed), "81804", 5,
			     1111111109, NRM_TOTP_NO_STEP, &step),
	    NRM_ERR);
}

/* The typed code of step `at`. */
static void
code_of(int64_t at, char typed[8])
{
	uint32_t code;

	assert_int_equal(
	    nrm_hotp(seed, sizeof(seed), (uint64_t)at, 6, &code), NRM_OK);
	snprintf(typed, 8, "%06u", (unsigned)code);
}

static void
test_drift_window(void **state)
{
	static const unsigned char other[20] = "x2345678901234567890";
	const int64_t now = 1111111111, cur = now / 30;
	/* {offset in steps, accepted} */
	static const struct {
		int off;
		bool ok;
	} rows[] = {{-3, false}, {-2, false}, {-1, true}, {0, true}, {1, true},
	    {2, false}, {3, false}};
	char typed[8];
	int64_t step;

	(void)state;
	for (size_t i = 0; i < NRM_ARRAY_LEN(rows); i++) {
		int rc;

		code_of(cur + rows[i].off, typed);
		step = -42;
		rc = nrm_totp_verify(
		    seed, sizeof(seed), typed, 6, now, NRM_TOTP_NO_STEP, &step);
		if (rc != (rows[i].ok ? NRM_OK : NRM_ERR))
			fail_msg("offset %d: rc %d", rows[i].off, rc);
		assert_int_equal(step, rows[i].ok ? cur + rows[i].off : -42);
	}
	/* the window moves with the clock: the first and last second */
	code_of(cur, typed);
	assert_int_equal(nrm_totp_verify(seed, sizeof(seed), typed, 6,
			     cur * 30 + 30 + 29, NRM_TOTP_NO_STEP, &step),
	    NRM_OK);
	assert_int_equal(nrm_totp_verify(seed, sizeof(seed), typed, 6,
			     cur * 30 + 60, NRM_TOTP_NO_STEP, &step),
	    NRM_ERR);
	assert_int_equal(nrm_totp_verify(seed, sizeof(seed), typed, 6,
			     cur * 30 - 30, NRM_TOTP_NO_STEP, &step),
	    NRM_OK);
	assert_int_equal(nrm_totp_verify(seed, sizeof(seed), typed, 6,
			     cur * 30 - 31, NRM_TOTP_NO_STEP, &step),
	    NRM_ERR);
	/* another secret, the same code: refused */
	assert_int_equal(nrm_totp_verify(other, sizeof(other), typed, 6, now,
			     NRM_TOTP_NO_STEP, &step),
	    NRM_ERR);
	/* no time before the epoch */
	assert_int_equal(nrm_totp_verify(seed, sizeof(seed), typed, 6, -1,
			     NRM_TOTP_NO_STEP, &step),
	    NRM_ERR);
}

static void
test_replay(void **state)
{
	const int64_t now = 1234567890, cur = now / 30;
	char typed[8], older[8];
	int64_t step, used;

	(void)state;
	assert_true(nrm_totp_step_fresh(0, NRM_TOTP_NO_STEP));
	assert_true(nrm_totp_step_fresh(cur, cur - 1));
	assert_false(nrm_totp_step_fresh(cur, cur));
	assert_false(nrm_totp_step_fresh(cur - 1, cur));

	code_of(cur, typed);
	assert_int_equal(nrm_totp_verify(seed, sizeof(seed), typed, 6, now,
			     NRM_TOTP_NO_STEP, &used),
	    NRM_OK);
	assert_int_equal(used, cur);
	/* the same code again, in the same step or the next: refused */
	assert_int_equal(
	    nrm_totp_verify(seed, sizeof(seed), typed, 6, now, used, &step),
	    NRM_ERR);
	assert_int_equal(nrm_totp_verify(seed, sizeof(seed), typed, 6, now + 30,
			     used, &step),
	    NRM_ERR);
	/* an older code still in the window: refused after a newer one */
	code_of(cur - 1, older);
	assert_int_equal(
	    nrm_totp_verify(seed, sizeof(seed), older, 6, now, used, &step),
	    NRM_ERR);
	assert_int_equal(
	    nrm_totp_verify(seed, sizeof(seed), older, 6, now, cur - 2, &step),
	    NRM_OK);
	assert_int_equal(step, cur - 1);
	/* the next step's code is fresh */
	code_of(cur + 1, typed);
	assert_int_equal(
	    nrm_totp_verify(seed, sizeof(seed), typed, 6, now, used, &step),
	    NRM_OK);
	assert_int_equal(step, cur + 1);
}

static void
test_parse_code(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint32_t code;
	} rows[] = {
	    {"123456", NRM_OK, 123456},
	    {"000000", NRM_OK, 0},
	    {"012345", NRM_OK, 12345},
	    {"123 456", NRM_OK, 123456},
	    {" 123456 ", NRM_OK, 123456},
	    {"", NRM_ERR, 0},
	    {"      ", NRM_ERR, 0},
	    {"12345", NRM_ERR, 0},
	    {"1234567", NRM_ERR, 0},
	    {"12345a", NRM_ERR, 0},
	    {"-12345", NRM_ERR, 0},
	    {"+123456", NRM_ERR, 0},
	    {"123-456", NRM_ERR, 0},
	    {"123\t456", NRM_ERR, 0},
	    {"\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94\xef\xbc\x95"
	     "\xef\xbc\x96", /* fullwidth digits */
		NRM_ERR, 0},
	    {"123456           ", NRM_ERR, 0}, /* 17 bytes */
	    {"99999999999999999", NRM_ERR, 0},
	};
	uint32_t code;

	(void)state;
	for (size_t i = 0; i < NRM_ARRAY_LEN(rows); i++) {
		code = 4711;
		if (nrm_totp_parse_code(rows[i].s, strlen(rows[i].s), &code) !=
		    rows[i].rc)
			fail_msg("row %zu '%s'", i, rows[i].s);
		assert_int_equal(
		    code, rows[i].rc == NRM_OK ? rows[i].code : 4711);
	}
}

/* RFC 4648 section 10; the encoder writes them without the padding. */
static const char *const b32_vectors[][2] = {{"", ""}, {"f", "MY======"},
    {"fo", "MZXQ===="}, {"foo", "MZXW6==="}, {"foob", "MZXW6YQ="},
    {"fooba", "MZXW6YTB"}, {"foobar", "MZXW6YTBOI======"}};

static void
test_base32_rfc4648(void **state)
{
	char out[32], lower[32];
	unsigned char raw[16];
	int n;

	(void)state;
	for (size_t i = 0; i < NRM_ARRAY_LEN(b32_vectors); i++) {
		const char *in = b32_vectors[i][0], *padded = b32_vectors[i][1];
		size_t len = strlen(in), unpadded = strcspn(padded, "=");

		n = nrm_base32_encode(in, len, out, sizeof(out));
		assert_int_equal(n, (int)unpadded);
		assert_memory_equal(out, padded, unpadded);
		/* decodes without padding, with it, and in lower case */
		assert_int_equal(
		    nrm_base32_decode(out, (size_t)n, raw, sizeof(raw)),
		    (int)len);
		assert_memory_equal(raw, in, len);
		assert_int_equal(
		    nrm_base32_decode(padded, strlen(padded), raw, sizeof(raw)),
		    (int)len);
		assert_memory_equal(raw, in, len);
		for (int k = 0; k <= n; k++)
			lower[k] = (char)(out[k] >= 'A' && out[k] <= 'Z'
				? out[k] - 'A' + 'a'
				: out[k]);
		assert_int_equal(
		    nrm_base32_decode(lower, (size_t)n, raw, sizeof(raw)),
		    (int)len);
		assert_memory_equal(raw, in, len);
	}
	/* the RFC 6238 seed as an authenticator app receives it */
	n = nrm_base32_encode(seed, sizeof(seed), out, sizeof(out) + 0);
	assert_int_equal(n, -1); /* 32 characters + NUL do not fit in 32 */
}

static void
test_base32_refusals(void **state)
{
	static const char *const bad[] = {
	    "M",
	    "MYA",
	    "MZXW6Y", /* lengths 1, 3, 6 (mod 8) */
	    "MZ",
	    "MZXR", /* unused bits not zero */
	    "MY=====",
	    "MY=======",
	    "MZXW6YQ==",
	    "=",
	    "MY=A====",
	    "M1",
	    "MY0",
	    "MY 8",
	    "MY\xc3\xa9",
	    "MY\n",
	};
	unsigned char raw[16];

	(void)state;
	for (size_t i = 0; i < NRM_ARRAY_LEN(bad); i++)
		if (nrm_base32_decode(
			bad[i], strlen(bad[i]), raw, sizeof(raw)) != -1)
			fail_msg("'%s' decoded", bad[i]);
	/* out too small: 6 bytes do not fit in 5 */
	assert_int_equal(nrm_base32_decode("MZXW6YTBOI", 10, raw, 5), -1);
	assert_int_equal(nrm_base32_decode("MZXW6YTBOI", 10, raw, 6), 6);
}

static void
test_base32_round_trip(void **state)
{
	unsigned char in[64], back[64];
	char enc[NRM_BASE32_LEN(64)];

	(void)state;
	srand(4711);
	for (size_t len = 0; len <= sizeof(in); len++) {
		int n;

		for (size_t i = 0; i < len; i++)
			in[i] = (unsigned char)rand();
		n = nrm_base32_encode(in, len, enc, NRM_BASE32_LEN(len));
		assert_int_equal(n, (int)(len * 8 + 4) / 5);
		assert_int_equal(
		    nrm_base32_decode(enc, (size_t)n, back, sizeof(back)),
		    (int)len);
		assert_memory_equal(in, back, len);
		/* one byte less room is refused, not overrun */
		assert_int_equal(
		    nrm_base32_encode(in, len, enc, NRM_BASE32_LEN(len) - 1),
		    -1);
	}
}

static void
test_secret_and_uri(void **state)
{
	unsigned char s1[NRM_TOTP_SECRET_LEN], s2[NRM_TOTP_SECRET_LEN];
	char uri[512];

	(void)state;
	assert_int_equal(nrm_totp_secret_new(s1), NRM_OK);
	assert_int_equal(nrm_totp_secret_new(s2), NRM_OK);
	assert_memory_not_equal(s1, s2, sizeof(s1));

	assert_int_equal(nrm_totp_uri("NRM Nederland", "j.de.vries@example.nl",
			     seed, uri, sizeof(uri)),
	    NRM_OK);
	assert_string_equal(uri,
	    "otpauth://totp/NRM%20Nederland:j.de.vries%40example.nl"
	    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=NRM%20Nederland"
	    "&algorithm=SHA1&digits=6&period=30");
	/* what could end the label or a parameter is encoded, and UTF-8 */
	assert_int_equal(
	    nrm_totp_uri("a&b=c", "zoë:x/y?z#1%~_.-", seed, uri, sizeof(uri)),
	    NRM_OK);
	assert_string_equal(uri,
	    "otpauth://totp/a%26b%3Dc:zo%C3%AB%3Ax%2Fy%3Fz%231%25~_.-"
	    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=a%26b%3Dc"
	    "&algorithm=SHA1&digits=6&period=30");
	/* too small a buffer: refused and wiped, never cut short */
	assert_int_equal(nrm_totp_uri("NRM", "jdv", seed, uri, 60), NRM_ERR);
	assert_null(strstr(uri, "GEZDGNBV"));
	assert_int_equal(nrm_totp_uri("NRM", "jdv", seed, uri, 0), NRM_ERR);
}

static void
test_recovery_codes_new(void **state)
{
	char codes[NRM_RECOVERY_CODES][NRM_RECOVERY_CODE_LEN + 1];
	char norm[NRM_RECOVERY_CODE_CHARS + 1];

	(void)state;
	assert_int_equal(
	    nrm_recovery_codes_new(codes, NRM_RECOVERY_CODES), NRM_OK);
	for (size_t i = 0; i < NRM_RECOVERY_CODES; i++) {
		const char *c = codes[i];

		assert_int_equal(strlen(c), NRM_RECOVERY_CODE_LEN);
		assert_true(c[4] == '-' && c[9] == '-' && c[14] == '-');
		for (size_t k = 0; k < NRM_RECOVERY_CODE_LEN; k++)
			if (k % 5 != 4 &&
			    strchr("0123456789abcdefghjkmnpqrstvwxyz", c[k]) ==
				NULL)
				fail_msg("code %zu: '%c'", i, c[k]);
		assert_int_equal(
		    nrm_recovery_code_normalise(c, NRM_RECOVERY_CODE_LEN, norm),
		    NRM_OK);
		assert_int_equal(strlen(norm), NRM_RECOVERY_CODE_CHARS);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(codes[i], codes[j]);
	}
}

static void
test_recovery_normalise(void **state)
{
	static const struct {
		const char *typed, *norm; /* norm NULL: refused */
	} rows[] = {
	    {"abcd-efgh-jkmn-pqrs", "abcdefghjkmnpqrs"},
	    {"ABCD-EFGH-JKMN-PQRS", "abcdefghjkmnpqrs"},
	    {"abcd efgh jkmn pqrs", "abcdefghjkmnpqrs"},
	    {" abcdefghjkmnpqrs ", "abcdefghjkmnpqrs"},
	    {"--ab-cd--efgh jkmn-pqrs-", "abcdefghjkmnpqrs"},
	    /* the letters people mistake for digits */
	    {"ILOo-iloO-tvwx-yz00", "11001100tvwxyz00"},
	    {"abcd-efgh-jkmn-pqr", NULL}, /* 15 */
	    {"abcd-efgh-jkmn-pqrst", NULL}, /* 17 */
	    {"abcd-efgh-jkmn-pqru", NULL}, /* u is not in the alphabet */
	    {"abcd_efgh_jkmn_pqrs", NULL},
	    {"abcd-efgh-jkmn-pqr\xc3\xa9", NULL},
	    {"abcd\tefgh-jkmn-pqrs", NULL},
	    {"", NULL},
	    /* over 64 bytes */
	    {"abcd-efgh-jkmn-pqrs-abcd-efgh-jkmn-pqrs-abcd-efgh-jkmn-pqrs-abcd-"
	     "e",
		NULL},
	};
	char norm[NRM_RECOVERY_CODE_CHARS + 1];

	(void)state;
	for (size_t i = 0; i < NRM_ARRAY_LEN(rows); i++) {
		int rc = nrm_recovery_code_normalise(
		    rows[i].typed, strlen(rows[i].typed), norm);

		if (rc != (rows[i].norm != NULL ? NRM_OK : NRM_ERR))
			fail_msg("row %zu: rc %d", i, rc);
		if (rows[i].norm != NULL)
			assert_string_equal(norm, rows[i].norm);
	}
}

static void
test_recovery_hash(void **state)
{
	unsigned char a[32], b[32], want[32];

	(void)state;
	nrm_sha256("abcdefghjkmnpqrs", 16, want);
	assert_int_equal(
	    nrm_recovery_code_hash("ABCD-EFGH-JKMN-PQRS", 19, a), NRM_OK);
	assert_int_equal(
	    nrm_recovery_code_hash(" abcd efgh jkmn pqrs", 20, b), NRM_OK);
	assert_memory_equal(a, want, 32);
	assert_memory_equal(b, want, 32);
	assert_int_equal(
	    nrm_recovery_code_hash("abcd-efgh-jkmn-pqrt", 19, b), NRM_OK);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(
	    nrm_recovery_code_hash("abcd-efgh-jkmn", 14, b), NRM_ERR);
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_hotp_rfc4226),
    cmocka_unit_test(test_totp_rfc6238), cmocka_unit_test(test_drift_window),
    cmocka_unit_test(test_replay), cmocka_unit_test(test_parse_code),
    cmocka_unit_test(test_base32_rfc4648),
    cmocka_unit_test(test_base32_refusals),
    cmocka_unit_test(test_base32_round_trip),
    cmocka_unit_test(test_secret_and_uri),
    cmocka_unit_test(test_recovery_codes_new),
    cmocka_unit_test(test_recovery_normalise),
    cmocka_unit_test(test_recovery_hash))
