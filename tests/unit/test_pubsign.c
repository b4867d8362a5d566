/*
 * test_pubsign.c - a publication's canonical JSON, hash and signature
 * (nrm-api/common/pubsign.c), table-driven: members sorted, no
 * whitespace, escapes, integers as integers; the same content in another
 * member order or spacing hashes the same, a changed value does not;
 * an Ed25519 signature made with a generated key verifies, and fails for
 * another hash, a changed signature or another key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "pubsign.h"

static const struct {
	const char *in, *canon;
} canon_cases[] = {
    {"{\"b\": 1, \"a\": [true, false, null]}",
	"{\"a\":[true,false,null],\"b\":1}"},
    {"{\"z\": {\"y\": 2, \"x\": 1}, \"aa\": \"s\"}",
	"{\"aa\":\"s\",\"z\":{\"x\":1,\"y\":2}}"},
    {"[\"q\\\"b\\\\s\\n\\u0001\", \"gee\\u00ebscaleerd\"]",
	"[\"q\\\"b\\\\s\\u000a\\u0001\",\"gee\xc3\xabscaleerd\"]"},
    {"[12, -3, 1.5, 9007199254740993]", "[12,-3,1.5,9007199254740992]"},
    {"{}", "{}"},
};

static void
test_canonical(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(canon_cases) / sizeof(canon_cases[0]);
	     i++) {
		cJSON *v = cJSON_Parse(canon_cases[i].in);
		char *c;

		assert_non_null(v);
		c = nrm_pub_canonical(v, NULL);
		assert_non_null(c);
		assert_string_equal(c, canon_cases[i].canon);
		free(c);
		cJSON_Delete(v);
	}
}

static void
hash_of(const char *text, char hex[NRM_PUB_HEX_LEN + 1])
{
	cJSON *v = cJSON_Parse(text);

	assert_non_null(v);
	assert_int_equal(nrm_pub_hash(v, hex), NRM_OK);
	cJSON_Delete(v);
}

static void
test_hash(void **state)
{
	char a[NRM_PUB_HEX_LEN + 1], b[NRM_PUB_HEX_LEN + 1];
	char c[NRM_PUB_HEX_LEN + 1];

	(void)state;
	hash_of("{\"period\": \"2026-Q3\", \"cells\": [{\"value\": 12}]}", a);
	hash_of("{\"cells\":[{\"value\":12}],\"period\":\"2026-Q3\"}", b);
	hash_of("{\"cells\":[{\"value\":13}],\"period\":\"2026-Q3\"}", c);
	assert_int_equal(strlen(a), NRM_PUB_HEX_LEN);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
}

static void
test_sign_verify(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char hex[NRM_PUB_HEX_LEN + 1], hex2[NRM_PUB_HEX_LEN + 1];
	char sig[NRM_PUB_SIG_B64_LEN + 1];

	(void)state;
	assert_non_null(key);
	assert_non_null(other);
	hash_of("{\"a\": 1}", hex);
	hash_of("{\"a\": 2}", hex2);
	assert_int_equal(nrm_pub_sign(key, hex, sig), NRM_OK);
	assert_int_equal(strlen(sig), NRM_PUB_SIG_B64_LEN);
	assert_true(nrm_pub_verify(key, hex, sig));
	assert_false(nrm_pub_verify(key, hex2, sig));
	assert_false(nrm_pub_verify(other, hex, sig));
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	assert_false(nrm_pub_verify(key, hex, sig));
	assert_false(nrm_pub_verify(key, hex, "short"));
	assert_int_equal(nrm_pub_sign(key, "abc", sig), NRM_ERR);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_canonical),
    cmocka_unit_test(test_hash), cmocka_unit_test(test_sign_verify))
