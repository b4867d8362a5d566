/*
 * fuzz_totp.c - libFuzzer target for what totp.c reads from people and
 * storage: the base32 decoder, the typed-code parser, TOTP verification,
 * the recovery-code normaliser and the otpauth:// URI writer.  Any input
 * must be refused or handled without a crash, a leak or undefined
 * behaviour, and what is accepted must be canonical:
 *   - a decoded base32 string re-encodes to itself (upper case, no
 *     padding) and decodes again to the same bytes;
 *   - a parsed code has six digits and is below 10^6;
 *   - a normalised recovery code is 16 characters of the alphabet and
 *     normalises to itself;
 *   - a URI holds only unreserved characters, '%' escapes and the fixed
 *     punctuation of the format.
 *
 *   make fuzz && build/fuzz/bin/fuzz_totp -max_total_time=120
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "totp.h"

/* A broken property is a crash libFuzzer reports with its input. */
#define FZ_CHECK(cond) ((cond) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_base32(const char *s, size_t size)
{
	unsigned char raw[256], again[256];
	char enc[NRM_BASE32_LEN(256)];
	size_t k = 0;
	int n, m;

	n = nrm_base32_decode(s, size, raw, sizeof(raw));
	if (n < 0)
		return;
	m = nrm_base32_encode(raw, (size_t)n, enc, sizeof(enc));
	FZ_CHECK(m >= 0);
	for (size_t i = 0; i < size && s[i] != '='; i++, k++) {
		char c = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];

		FZ_CHECK((size_t)m > k && enc[k] == c);
	}
	FZ_CHECK((size_t)m == k);
	FZ_CHECK(nrm_base32_decode(enc, (size_t)m, again, sizeof(again)) == n);
	FZ_CHECK(memcmp(raw, again, (size_t)n) == 0);
}

static void
fuzz_codes(const char *s, size_t size)
{
	static const unsigned char secret[NRM_TOTP_SECRET_LEN] = {7, 1, 1};
	char norm[NRM_RECOVERY_CODE_CHARS + 1],
	    again[NRM_RECOVERY_CODE_CHARS + 1];
	uint32_t code;
	int64_t step = -42;
	int digits = 0;

	if (nrm_totp_parse_code(s, size, &code) == NRM_OK) {
		for (size_t i = 0; i < size; i++)
			digits += s[i] >= '0' && s[i] <= '9';
		FZ_CHECK(digits == NRM_TOTP_DIGITS && code < 1000000);
	}
	if (nrm_totp_verify(secret, sizeof(secret), s, size, 1700000000,
		NRM_TOTP_NO_STEP, &step) == NRM_OK)
		FZ_CHECK(
		    step >= 1700000000 / 30 - 1 && step <= 1700000000 / 30 + 1);
	else
		FZ_CHECK(step == -42);
	if (nrm_recovery_code_normalise(s, size, norm) == NRM_OK) {
		FZ_CHECK(strlen(norm) == NRM_RECOVERY_CODE_CHARS);
		FZ_CHECK(strspn(norm, "0123456789abcdefghjkmnpqrstvwxyz") ==
		    NRM_RECOVERY_CODE_CHARS);
		FZ_CHECK(nrm_recovery_code_normalise(
			     norm, NRM_RECOVERY_CODE_CHARS, again) == NRM_OK);
		FZ_CHECK(strcmp(norm, again) == 0);
	}
}

static void
fuzz_uri(const char *s)
{
	static const unsigned char secret[NRM_TOTP_SECRET_LEN] = {1, 2, 3};
	char uri[4096];

	if (nrm_totp_uri("NRM", s, secret, uri, sizeof(uri)) != NRM_OK)
		return;
	FZ_CHECK(strncmp(uri, "otpauth://totp/NRM:", 19) == 0);
	FZ_CHECK(strspn(uri,
		     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
		     "uvwxyz0123456789-._~%:/?&=") == strlen(uri));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 1024)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_base32(s, size);
	fuzz_codes(s, size);
	fuzz_uri(s);
	free(s);
	return 0;
}
