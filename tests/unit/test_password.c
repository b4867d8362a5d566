/*
 * test_password.c - nrm-api/common/password.c: the policy (length in
 * code points, UTF-8, maximum, cracklib with the word inside digits and
 * symbols, the person's login) as a table, Argon2id hashing into a PHC
 * string that carries its parameters, verification, the rehash
 * predicate, the raw tag the database verifies a login by (the tag of
 * a stored PHC string, so stored hashes keep working), and error
 * messages that never hold the password.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include <argon2.h>
#include <openssl/evp.h>

#include "password.h"

/* Passwords grouped by verdict: the refusal message's text (NULL:
 * accepted) and the login they are checked for. */
static const struct {
	const char *detail, *login;
	const char *pw[8];
} pw_groups[] = {
    /* length in code points, not bytes: 11 refused, 12 accepted */
    {"at least 12 characters", NULL,
	{"Vgh7-kq2-Lz", "Grüße-Kölne", "東京大阪札幌京都神戸奈"}},
    {NULL, NULL, {"Vgh7-kq2-Lzw", "Grüße-Kölner"}},
    {"UTF-8", NULL,
	{"correct\xc3\x28horse battery", "overlong \xc0\xaf slash here",
	    "surrogate \xed\xa0\x80 inside", "cut \xe6\x9d short words"}},
    /* the dictionary; the last three only for the word inside */
    {"too easy to guess", NULL,
	{"computers123", "international1", "dragon123456", "123456789012",
	    "aaaaaaaaaaaa", "password1234", "1234password", "Sunshine2024!"}},
    /* the person's own login */
    {"too easy to guess", "jvandermeer", {"jvandermeer!!", "jvandermeer2024"}},
    /* a login ending in digits: stripping the digits around a word must
     * not hide it (e2e logins are "p" and 12 hex digits) */
    {"too easy to guess", "p3fa9c2b81d00",
	{"p3fa9c2b81d002024!!", "!P3FA9C2B81D00x", "my-p3fa9c2b81d00-pw"}},
    {NULL, "jvandermeer",
	{"correct horse battery staple", "vier blauwe paarden lopen",
	    "Tr0ub4dor&3xq", "zeven blauwe paarden!"}},
};

/* Check one password; NULL want: accepted. */
static void
policy_expect(const char *pw, size_t len, const char *login, const char *want)
{
	struct nrm_error err;
	int rc;

	nrm_error_clear(&err);
	rc = nrm_password_check(pw, len, login, "Jan van der Meer", NULL, &err);
	if (rc != (want == NULL ? NRM_OK : NRM_ERR))
		fail_msg("'%s': rc %d (%s)", pw, rc, err.detail);
	if (want == NULL)
		return;
	assert_int_equal(err.code, NRM_E_VALIDATION);
	assert_string_equal(err.field, "password");
	if (strstr(err.detail, want) == NULL)
		fail_msg("'%s': detail '%s'", pw, err.detail);
	/* the message never holds the password or its word */
	assert_null(strstr(err.detail, pw));
	assert_null(strstr(err.detail, "password1234"));
	assert_null(strstr(err.detail, "computers"));
}

static void
test_policy_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NRM_ARRAY_LEN(pw_groups); i++)
		for (size_t k = 0; k < 8 && pw_groups[i].pw[k] != NULL; k++)
			policy_expect(pw_groups[i].pw[k],
			    strlen(pw_groups[i].pw[k]), pw_groups[i].login,
			    pw_groups[i].detail);
	/* a NUL byte inside: not UTF-8 as nrm reads it */
	policy_expect("nul\0inside the passphrase", 25, NULL, "UTF-8");
}

static void
test_policy_maximum(void **state)
{
	static char pw[NRM_PASSWORD_MAX_BYTES + 2];
	struct nrm_error err;

	(void)state;
	/* varied enough for cracklib, one byte over the maximum */
	for (size_t i = 0; i < sizeof(pw) - 1; i++)
		pw[i] = "Kq7-vLm2 zPw9!xRt"[i % 17];
	assert_int_equal(nrm_password_check(pw, NRM_PASSWORD_MAX_BYTES + 1,
			     NULL, NULL, NULL, &err),
	    NRM_ERR);
	assert_int_equal(err.code, NRM_E_VALIDATION);
	assert_string_equal(err.field, "password");
	assert_non_null(strstr(err.detail, "at most 1024 bytes"));
	nrm_error_clear(&err);
	assert_int_equal(nrm_password_check(pw, NRM_PASSWORD_MAX_BYTES, NULL,
			     NULL, NULL, &err),
	    NRM_OK);
}

static void
test_dictionary_missing(void **state)
{
	struct nrm_error err;

	(void)state;
	assert_int_equal(nrm_password_dict_ready(NULL, &err), NRM_OK);
	assert_int_equal(
	    nrm_password_dict_ready("/nonexistent/cracklib_dict", &err),
	    NRM_ERR);
	assert_int_equal(err.code, NRM_E_INTERNAL);
	/* not "too easy": the dictionary, not the password, is at fault */
	nrm_error_clear(&err);
	assert_int_equal(nrm_password_check("correct horse battery staple", 28,
			     NULL, NULL, "/nonexistent/cracklib_dict", &err),
	    NRM_ERR);
	assert_int_equal(err.code, NRM_E_INTERNAL);
	assert_string_equal(err.field, "password");
}

static void
test_hash_round_trip(void **state)
{
	static const char pw[] = "correct horse battery staple";
	char h1[NRM_PASSWORD_HASH_MAX], h2[NRM_PASSWORD_HASH_MAX];
	char prefix[64];
	struct nrm_error err;
	bool match;

	(void)state;
	assert_int_equal(
	    nrm_password_hash(pw, sizeof(pw) - 1, h1, sizeof(h1), &err),
	    NRM_OK);
	/* the PHC string carries algorithm, version and parameters */
	snprintf(prefix, sizeof(prefix), "$argon2id$v=19$m=%d,t=%d,p=%d$",
	    NRM_ARGON2_M_KIB, NRM_ARGON2_T_COST, NRM_ARGON2_LANES);
	assert_string_equal(prefix, "$argon2id$v=19$m=19456,t=2,p=1$");
	assert_memory_equal(h1, prefix, strlen(prefix));
	/* salt 16 bytes (22 base64), tag 32 bytes (43 base64) */
	assert_int_equal(strlen(h1), strlen(prefix) + 22 + 1 + 43);
	assert_null(strstr(h1, pw));
	assert_int_equal(
	    nrm_password_verify(h1, pw, sizeof(pw) - 1, &match), NRM_OK);
	assert_true(match);
	/* a fresh salt every time */
	assert_int_equal(
	    nrm_password_hash(pw, sizeof(pw) - 1, h2, sizeof(h2), &err),
	    NRM_OK);
	assert_string_not_equal(h1, h2);
	assert_int_equal(
	    nrm_password_verify(h2, pw, sizeof(pw) - 1, &match), NRM_OK);
	assert_true(match);
	assert_false(nrm_password_needs_rehash(h1));
	/* too small a buffer is an error, not a truncated hash */
	assert_int_equal(
	    nrm_password_hash(pw, sizeof(pw) - 1, h2, 64, &err), NRM_ERR);
	assert_int_equal(err.code, NRM_E_INTERNAL);
}

/* Decode unpadded standard base64 (a PHC field) into out; its length. */
static int
b64_field(const char *s, size_t n, unsigned char *out)
{
	char buf[128];
	size_t pad = (4 - n % 4) % 4;
	int len;

	assert_true(n + pad < sizeof(buf));
	memcpy(buf, s, n);
	memset(buf + n, '=', pad);
	buf[n + pad] = '\0';
	len = EVP_DecodeBlock(out, (const unsigned char *)buf, (int)(n + pad));
	assert_true(len >= 0);
	return len - (int)pad;
}

static void
test_derive_matches_phc(void **state)
{
	static const char pw[] = "correct horse battery staple";
	char h[NRM_PASSWORD_HASH_MAX];
	unsigned char tag[NRM_ARGON2_TAG_MAX], want[96];
	struct nrm_argon2 a, b;
	struct nrm_error err;
	const char *salt, *t;

	(void)state;
	assert_int_equal(
	    nrm_password_hash(pw, sizeof(pw) - 1, h, sizeof(h), &err), NRM_OK);
	/* $argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag> */
	salt = strrchr(h, '$');
	t = salt + 1;
	while (salt[-1] != '$')
		salt--;
	memset(&a, 0, sizeof(a));
	a.m_kib = NRM_ARGON2_M_KIB;
	a.t_cost = NRM_ARGON2_T_COST;
	a.lanes = NRM_ARGON2_LANES;
	a.saltlen = (size_t)b64_field(salt, (size_t)(t - 1 - salt), a.salt);
	assert_int_equal(a.saltlen, NRM_ARGON2_SALT_LEN);
	a.taglen = (size_t)b64_field(t, strlen(t), want);
	assert_int_equal(a.taglen, NRM_ARGON2_TAG_LEN);
	/* the stored hash's tag is the raw tag of its salt and parameters */
	assert_int_equal(
	    nrm_password_derive(pw, sizeof(pw) - 1, &a, tag, &err), NRM_OK);
	assert_memory_equal(tag, want, a.taglen);
	assert_false(nrm_password_outdated(&a));
	/* another password, another tag */
	assert_int_equal(
	    nrm_password_derive(pw, sizeof(pw) - 2, &a, tag, &err), NRM_OK);
	assert_memory_not_equal(tag, want, a.taglen);
	/* a new credential: current parameters, a fresh salt */
	assert_int_equal(
	    nrm_password_new(pw, sizeof(pw) - 1, &b, tag, &err), NRM_OK);
	assert_int_equal(b.m_kib, NRM_ARGON2_M_KIB);
	assert_int_equal(b.saltlen, NRM_ARGON2_SALT_LEN);
	assert_int_equal(b.taglen, NRM_ARGON2_TAG_LEN);
	assert_memory_not_equal(b.salt, a.salt, a.saltlen);
	/* weaker parameters are outdated; out of range ones refused */
	b.t_cost = 1;
	assert_true(nrm_password_outdated(&b));
	b.taglen = NRM_ARGON2_TAG_MAX + 1;
	assert_int_equal(
	    nrm_password_derive(pw, sizeof(pw) - 1, &b, tag, &err), NRM_ERR);
	assert_int_equal(err.code, NRM_E_INTERNAL);
	b.taglen = NRM_ARGON2_TAG_LEN;
	b.m_kib = NRM_ARGON2_M_KIB_MAX + 1;
	assert_int_equal(
	    nrm_password_derive(pw, sizeof(pw) - 1, &b, tag, &err), NRM_ERR);
}

static void
test_verify_refusals(void **state)
{
	static const char pw[] = "correct horse battery staple";
	static const char *const wrong[] = {"correct horse battery stapl",
	    "correct horse battery staplE", "correct horse battery staple ", "",
	    "Correct horse battery staple"};
	static char huge[NRM_PASSWORD_MAX_BYTES + 1];
	char h[NRM_PASSWORD_HASH_MAX];
	struct nrm_error err;
	bool match;

	(void)state;
	assert_int_equal(
	    nrm_password_hash(pw, sizeof(pw) - 1, h, sizeof(h), &err), NRM_OK);
	for (size_t i = 0; i < NRM_ARRAY_LEN(wrong); i++) {
		match = true;
		assert_int_equal(
		    nrm_password_verify(h, wrong[i], strlen(wrong[i]), &match),
		    NRM_OK);
		assert_false(match);
	}
	/* over the maximum: not hashed, not a match */
	memset(huge, 'x', sizeof(huge));
	match = true;
	assert_int_equal(
	    nrm_password_verify(h, huge, sizeof(huge), &match), NRM_OK);
	assert_false(match);
	assert_int_equal(
	    nrm_password_hash(huge, sizeof(huge), h, sizeof(h), &err), NRM_ERR);
	assert_int_equal(err.code, NRM_E_VALIDATION);
}

/* Stored strings that are not an Argon2id hash this module will run. */
static const char *const bad_hashes[] = {
    "",
    "plain text",
    "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    /* memory over the limit: a tampered row must not allocate 2 GiB */
    "$argon2id$v=19$m=2097152,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "$argon2id$v=19$m=19456,t=99,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "$argon2id$v=19$m=019456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$",
    "$argon2id$v=19$m=19456,t=2,p=1$c2Fs$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "$argon2id$v=19$m=19456,t=2$c2FsdHNhbHRzYWx0c2FsdA$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
};

static void
test_verify_bad_stored(void **state)
{
	bool match;

	(void)state;
	for (size_t i = 0; i < NRM_ARRAY_LEN(bad_hashes); i++) {
		match = true;
		if (nrm_password_verify(bad_hashes[i], "x", 1, &match) !=
		    NRM_ERR)
			fail_msg("bad hash %zu verified", i);
		assert_false(match);
		assert_true(nrm_password_needs_rehash(bad_hashes[i]));
	}
	assert_true(nrm_password_needs_rehash(NULL));
}

static void
test_needs_rehash(void **state)
{
	static const char pw[] = "vier blauwe paarden lopen";
	static const unsigned char salt[16] = "0123456789abcdef";
	/* {t, m, p, saltlen, taglen, weaker than now} */
	static const struct {
		uint32_t t, m, p;
		size_t saltlen, taglen;
		bool rehash;
	} rows[] = {
	    {1, 19456, 1, 16, 32, true}, /* fewer passes */
	    {2, 4096, 1, 16, 32, true}, /* less memory */
	    {2, 19456, 1, 8, 32, true}, /* short salt */
	    {2, 19456, 1, 16, 16, true}, /* short tag */
	    {2, 19456, 1, 16, 32, false}, /* the current ones */
	    {3, 19456, 1, 16, 32, false}, /* stronger */
	    {2, 24576, 2, 16, 32, false},
	};
	char h[NRM_PASSWORD_HASH_MAX];
	bool match;

	(void)state;
	for (size_t i = 0; i < NRM_ARRAY_LEN(rows); i++) {
		assert_int_equal(
		    argon2id_hash_encoded(rows[i].t, rows[i].m, rows[i].p, pw,
			sizeof(pw) - 1, salt, rows[i].saltlen, rows[i].taglen,
			h, sizeof(h)),
		    ARGON2_OK);
		if (nrm_password_needs_rehash(h) != rows[i].rehash)
			fail_msg("row %zu: %s", i, h);
		/* an old hash keeps verifying after the constants rise */
		match = false;
		assert_int_equal(
		    nrm_password_verify(h, pw, sizeof(pw) - 1, &match), NRM_OK);
		assert_true(match);
	}
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_policy_table),
    cmocka_unit_test(test_policy_maximum),
    cmocka_unit_test(test_dictionary_missing),
    cmocka_unit_test(test_hash_round_trip),
    cmocka_unit_test(test_derive_matches_phc),
    cmocka_unit_test(test_verify_refusals),
    cmocka_unit_test(test_verify_bad_stored),
    cmocka_unit_test(test_needs_rehash))
