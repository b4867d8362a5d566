/*
 * utf8.c - strict UTF-8 validation and decoding (see utf8.h).
 */
#include "nrm/utf8.h"

#include <string.h>

/*
 * Decode one sequence at s[*pos].  Table 3-7 of the Unicode standard
 * ("well-formed UTF-8 byte sequences") spells out exactly which second
 * bytes are allowed after each lead byte; following it rejects overlongs
 * (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points
 * above U+10FFFF (F4 90..BF, F5..FF) without further checks.
 */
int32_t
nrm_utf8_next(const char *s, size_t len, size_t *pos)
{
	const unsigned char *p = (const unsigned char *)s + *pos;
	size_t left = len - *pos;
	unsigned char lo = 0x80, hi = 0xBF;
	int32_t cp;
	size_t n, i;

	if (*pos >= len)
		return -1;
	if (p[0] < 0x80) {
		*pos += 1;
		return p[0];
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 2;
		cp = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3;
		cp = p[0] & 0x0F;
		if (p[0] == 0xE0)
			lo = 0xA0;
		else if (p[0] == 0xED)
			hi = 0x9F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4;
		cp = p[0] & 0x07;
		if (p[0] == 0xF0)
			lo = 0x90;
		else if (p[0] == 0xF4)
			hi = 0x8F;
	} else {
		return -1;
	}
	if (left < n)
		return -1;
	if (p[1] < lo || p[1] > hi)
		return -1;
	for (i = 1; i < n; i++) {
		if (i > 1 && (p[i] < 0x80 || p[i] > 0xBF))
			return -1;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	*pos += n;
	return cp;
}

/*
 * Validate the whole buffer; an ASCII fast path keeps the common case
 * cheap.
 */
bool
nrm_utf8_valid(const char *s, size_t len)
{
	size_t pos = 0;
	int32_t cp;

	while (pos < len) {
		unsigned char c = (unsigned char)s[pos];

		if (c > 0 && c < 0x80) {
			pos++;
			continue;
		}
		cp = nrm_utf8_next(s, len, &pos);
		if (cp <= 0)
			return false;
	}
	return true;
}

/*
 * Step back over up to three continuation bytes at the end to the lead
 * byte; keep the tail when the lead byte's sequence is complete, else
 * cut before the lead byte.
 */
size_t
nrm_utf8_trim(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = len, tail, need;
	unsigned char lead;

	while (i > 0 && len - i < 3 && (p[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return 0;
	lead = p[i - 1];
	tail = len - i;
	if (lead < 0x80)
		return tail == 0 ? len : i;
	if (lead >= 0xF0)
		need = 3;
	else if (lead >= 0xE0)
		need = 2;
	else if (lead >= 0xC0)
		need = 1;
	else
		return i - 1; /* a fourth continuation byte: not valid anyway */
	return tail >= need ? len : i - 1;
}

bool
nrm_ascii_word(const char *s, size_t max, const char *extra)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i >= max)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || strchr(extra, c) != NULL))
			return false;
	}
	return i > 0;
}
