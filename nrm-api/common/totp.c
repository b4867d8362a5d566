/*
 * totp.c - RFC 6238 TOTP on OpenSSL 3's HMAC, RFC 4648 base32, the
 * otpauth:// key URI and recovery codes (see totp.h).
 */
#include "totp.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"

static const char totp_b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Crockford's base32 alphabet in lower case: no i, l, o or u. */
static const char totp_rc_alpha[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* Where a URI is being written: out[size], `len` used, `ok` false once
 * anything did not fit. */
struct totp_buf {
	char *out;
	size_t size, len;
	bool ok;
};

int
nrm_totp_secret_new(unsigned char *secret)
{
	return nrm_random_bytes(secret, NRM_TOTP_SECRET_LEN);
}

int
nrm_base32_encode(const void *in, size_t n, char *out, size_t outsz)
{
	const unsigned char *p = in;
	uint32_t bits = 0;
	int nbits = 0;
	size_t len = 0;

	if (n > INT32_MAX / 2 || outsz < NRM_BASE32_LEN(n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		bits = (bits << 8) | p[i];
		nbits += 8;
		while (nbits >= 5) {
			nbits -= 5;
			out[len++] = totp_b32[(bits >> nbits) & 31];
		}
	}
	if (nbits > 0)
		out[len++] = totp_b32[(bits << (5 - nbits)) & 31];
	out[len] = '\0';
	return (int)len;
}

/* The value of base32 character c, or -1. */
static int
totp_b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int
nrm_base32_decode(const char *in, size_t n, unsigned char *out, size_t outsz)
{
	/* padding RFC 4648 prescribes after n % 8 characters, -1: invalid */
	static const int pad_for[8] = {0, -1, 6, -1, 4, 3, -1, 1};
	uint32_t bits = 0;
	int nbits = 0;
	size_t len = 0, pad = 0;

	if (n > INT32_MAX)
		return -1;
	while (pad < n && in[n - pad - 1] == '=')
		pad++;
	n -= pad;
	if (pad_for[n % 8] < 0 || (pad > 0 && (size_t)pad_for[n % 8] != pad))
		return -1;
	if (n * 5 / 8 > outsz)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = totp_b32_value(in[i]);

		if (v < 0)
			return -1;
		bits = (bits << 5) | (uint32_t)v;
		nbits += 5;
		if (nbits >= 8) {
			nbits -= 8;
			out[len++] = (unsigned char)(bits >> nbits);
		}
	}
	/* the leftover bits are padding: zero in a canonical encoding */
	if ((bits & ((1u << nbits) - 1)) != 0)
		return -1;
	return (int)len;
}

int
nrm_hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits,
    uint32_t *code)
{
	static const uint32_t mod[] = {1000000, 10000000, 100000000};
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	unsigned off;
	uint32_t bin;

	if (digits < 6 || digits > 8 || keylen > INT32_MAX)
		return NRM_ERR;
	for (int i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	if (HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof(msg), mac,
		&maclen) == NULL ||
	    maclen != 20)
		return NRM_ERR;
	/* dynamic truncation, RFC 4226 5.3 */
	off = mac[19] & 0xf;
	bin = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
	    (uint32_t)mac[off + 2] << 8 | (uint32_t)mac[off + 3];
	*code = bin % mod[digits - 6];
	OPENSSL_cleanse(mac, sizeof(mac));
	return NRM_OK;
}

int64_t
nrm_totp_step(int64_t now)
{
	return now / NRM_TOTP_PERIOD;
}

int
nrm_totp_parse_code(const char *s, size_t len, uint32_t *code)
{
	uint32_t v = 0;
	int digits = 0;

	if (len > 16)
		return NRM_ERR;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ')
			continue;
		if (s[i] < '0' || s[i] > '9' || ++digits > NRM_TOTP_DIGITS)
			return NRM_ERR;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (digits != NRM_TOTP_DIGITS)
		return NRM_ERR;
	*code = v;
	return NRM_OK;
}

bool
nrm_totp_step_fresh(int64_t step, int64_t last_step)
{
	return step > last_step;
}

int
nrm_totp_verify(const unsigned char *secret, size_t secretlen, const char *s,
    size_t len, int64_t now, int64_t last_step, int64_t *step)
{
	int64_t cur, found = -1;
	uint32_t code, cand;

	if (now < 0 || nrm_totp_parse_code(s, len, &code) != NRM_OK)
		return NRM_ERR;
	cur = nrm_totp_step(now);
	/* every step in the window is computed and compared alike */
	for (int64_t d = -NRM_TOTP_DRIFT; d <= NRM_TOTP_DRIFT; d++) {
		int64_t at = cur + d;
		bool same;

		if (at < 0)
			continue;
		if (nrm_hotp(secret, secretlen, (uint64_t)at, NRM_TOTP_DIGITS,
			&cand) != NRM_OK)
			return NRM_ERR;
		same = CRYPTO_memcmp(&cand, &code, sizeof(code)) == 0;
		if (same && nrm_totp_step_fresh(at, last_step))
			found = at;
	}
	OPENSSL_cleanse(&cand, sizeof(cand));
	OPENSSL_cleanse(&code, sizeof(code));
	if (found < 0)
		return NRM_ERR;
	*step = found;
	return NRM_OK;
}

static void
totp_put(struct totp_buf *b, const char *s, size_t n)
{
	if (!b->ok || n >= b->size - b->len) {
		b->ok = false;
		return;
	}
	memcpy(b->out + b->len, s, n);
	b->len += n;
	b->out[b->len] = '\0';
}

/* Append s percent-encoded: all but RFC 3986 unreserved characters. */
static void
totp_put_pct(struct totp_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char enc[3] = {'%', hex[c >> 4], hex[c & 15]};

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			totp_put(b, s, 1);
		else
			totp_put(b, enc, 3);
	}
}

int
nrm_totp_uri(const char *issuer, const char *login, const unsigned char *secret,
    char *out, size_t outsz)
{
	struct totp_buf b = {out, outsz, 0, outsz > 0};
	char b32[NRM_BASE32_LEN(NRM_TOTP_SECRET_LEN)];
	int n;

	n = nrm_base32_encode(secret, NRM_TOTP_SECRET_LEN, b32, sizeof(b32));
	totp_put(&b, "otpauth://totp/", 15);
	totp_put_pct(&b, issuer);
	totp_put(&b, ":", 1);
	totp_put_pct(&b, login);
	totp_put(&b, "?secret=", 8);
	totp_put(&b, b32, n > 0 ? (size_t)n : 0);
	totp_put(&b, "&issuer=", 8);
	totp_put_pct(&b, issuer);
	totp_put(&b, "&algorithm=SHA1&digits=6&period=30", 34);
	OPENSSL_cleanse(b32, sizeof(b32));
	if (n != NRM_TOTP_SECRET_B32_LEN || !b.ok) {
		if (outsz > 0)
			OPENSSL_cleanse(out, outsz);
		return NRM_ERR;
	}
	return NRM_OK;
}

int
nrm_recovery_codes_new(char codes[][NRM_RECOVERY_CODE_LEN + 1], size_t n)
{
	unsigned char raw[NRM_RECOVERY_CODE_CHARS];

	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		if (nrm_random_bytes(raw, sizeof(raw)) != NRM_OK)
			return NRM_ERR;
		for (size_t j = 0; j < sizeof(raw); j++) {
			if (j > 0 && j % 4 == 0)
				codes[i][k++] = '-';
			/* 32 letters: the low 5 bits of a byte, no bias */
			codes[i][k++] = totp_rc_alpha[raw[j] & 31];
		}
		codes[i][k] = '\0';
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	return NRM_OK;
}

int
nrm_recovery_code_normalise(const char *s, size_t len, char *out)
{
	size_t k = 0;

	if (len > 64)
		return NRM_ERR;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == 'i' || c == 'l')
			c = '1';
		else if (c == 'o')
			c = '0';
		if (c == '\0' || strchr(totp_rc_alpha, c) == NULL ||
		    k == NRM_RECOVERY_CODE_CHARS)
			return NRM_ERR;
		out[k++] = c;
	}
	out[k] = '\0';
	return k == NRM_RECOVERY_CODE_CHARS ? NRM_OK : NRM_ERR;
}

int
nrm_recovery_code_hash(const char *s, size_t len, unsigned char *out)
{
	char norm[NRM_RECOVERY_CODE_CHARS + 1];
	int rc = NRM_ERR;

	if (nrm_recovery_code_normalise(s, len, norm) != NRM_OK)
		goto out;
	nrm_sha256(norm, NRM_RECOVERY_CODE_CHARS, out);
	rc = NRM_OK;
out:
	OPENSSL_cleanse(norm, sizeof(norm));
	return rc;
}

int
nrm_enrolment_code_new(
    char code[NRM_ENROLMENT_CODE_LEN + 1], unsigned char hash[32])
{
	unsigned char raw[NRM_ENROLMENT_CODE_BYTES];
	bool made = nrm_random_bytes(raw, sizeof(raw)) == NRM_OK &&
	    nrm_base32_encode(raw, sizeof(raw), code,
		NRM_ENROLMENT_CODE_LEN + 1) == NRM_ENROLMENT_CODE_LEN;

	OPENSSL_cleanse(raw, sizeof(raw));
	if (made)
		nrm_sha256(code, NRM_ENROLMENT_CODE_LEN, hash);
	return made ? NRM_OK : NRM_ERR;
}

int
nrm_enrolment_code_hash(const char *s, size_t len, unsigned char hash[32])
{
	char up[NRM_ENROLMENT_CODE_LEN];

	if (len != NRM_ENROLMENT_CODE_LEN)
		return NRM_ERR;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) {
			OPENSSL_cleanse(up, sizeof(up));
			return NRM_ERR;
		}
		up[i] = c;
	}
	nrm_sha256(up, sizeof(up), hash);
	OPENSSL_cleanse(up, sizeof(up));
	return NRM_OK;
}
