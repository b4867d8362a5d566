/*
 * signal_codec.c - the canonical encodings of a validated signal and
 * the pseudonym input (see signal.h); validation is signal.c.
 */
#include "nrm/signal.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nrm/json.h"
#include "nrm/timefmt.h"
#include "nrm/utf8.h"

/*
 * Encoders.  Each helper adds one member to `o` and returns false on
 * allocation failure, so a whole encoder is one chain of &&.  cJSON
 * keeps members in insertion order, which fixes the key order.
 */
static bool
sig_put_str(cJSON *o, const char *k, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return cJSON_AddNullToObject(o, k) != NULL;
	return cJSON_AddStringToObject(o, k, v) != NULL;
}

/*
 * "cites_reference" only when the signal cites one: the encodings of a
 * signal without one stay as they were before it existed (the stored
 * idempotency fingerprints of earlier requests still match).
 */
static bool
sig_put_cites(cJSON *o, const struct nrm_signal *s)
{
	return s->cites_reference[0] == '\0' ||
	    cJSON_AddStringToObject(o, "cites_reference", s->cites_reference) !=
	    NULL;
}

static bool
sig_put_bool(cJSON *o, const char *k, bool v)
{
	return cJSON_AddBoolToObject(o, k, v) != NULL;
}

static bool
sig_put_int(cJSON *o, const char *k, int v, bool present)
{
	if (!present)
		return cJSON_AddNullToObject(o, k) != NULL;
	return cJSON_AddNumberToObject(o, k, v) != NULL;
}

static bool
sig_put_bits(
    cJSON *o, const char *k, uint32_t bits, const char *const *names, int n)
{
	cJSON *a = cJSON_AddArrayToObject(o, k);
	int i;

	if (a == NULL)
		return false;
	for (i = 0; i < n; i++) {
		cJSON *item;

		if (!(bits & (1u << i)))
			continue;
		item = cJSON_CreateString(names[i]);
		if (item == NULL)
			return false;
		cJSON_AddItemToArray(a, item);
	}
	return true;
}

static bool
sig_put_languages(cJSON *o, const struct nrm_subject *sub)
{
	cJSON *a = cJSON_AddArrayToObject(o, "languages");
	int i;

	if (a == NULL)
		return false;
	for (i = 0; i < sub->n_languages; i++) {
		cJSON *item = cJSON_CreateString(sub->languages[i]);

		if (item == NULL)
			return false;
		cJSON_AddItemToArray(a, item);
	}
	return true;
}

static bool
sig_put_birth_date(cJSON *o, const struct nrm_subject *sub, bool always)
{
	char buf[NRM_DATE_TEXT_SIZE];

	if (!sub->has_birth_date)
		return !always ||
		    cJSON_AddNullToObject(o, "birth_date") != NULL;
	if (nrm_date_format(sub->birth_date.year, sub->birth_date.month,
		sub->birth_date.day, buf, sizeof(buf)) != NRM_OK)
		return false;
	return cJSON_AddStringToObject(o, "birth_date", buf) != NULL;
}

/*
 * The members both the facts and the canonical encoding carry, in this
 * order: exploitation, control_means, immediate_danger, needs_shelter,
 * consent.
 */
static bool
sig_put_case_facts(cJSON *o, const struct nrm_signal *s)
{
	bool ok = true;

	ok = ok &&
	    sig_put_bits(o, "exploitation", s->exploitation,
		nrm_exploitation_names, NRM_EXPL_COUNT);
	ok = ok &&
	    sig_put_bits(o, "control_means", s->control, nrm_control_names,
		NRM_CTRL_COUNT);
	ok = ok && sig_put_bool(o, "immediate_danger", s->immediate_danger);
	ok = ok && sig_put_bool(o, "needs_shelter", s->needs_shelter);
	ok = ok && sig_put_str(o, "consent", nrm_consent_name(s->consent));
	return ok;
}

char *
nrm_signal_facts_json(const struct nrm_signal *s)
{
	const struct nrm_subject *sub = &s->subject;
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;

	ok = ok && sig_put_str(o, "observed_at", s->observed_at_text);
	ok = ok && sig_put_str(o, "municipality_code", s->municipality);
	ok = ok && sig_put_str(o, "reporter_reference", s->reporter_reference);
	ok = ok && sig_put_bool(o, "minor", s->minor);
	ok = ok &&
	    sig_put_int(
		o, "age_estimate", sub->age_estimate, sub->age_estimate >= 0);
	ok = ok && sig_put_str(o, "gender", nrm_gender_name(sub->gender));
	ok = ok && sig_put_str(o, "nationality", sub->nationality);
	ok = ok && sig_put_languages(o, sub);
	ok = ok && sig_put_case_facts(o, s);
	ok = ok && sig_put_bool(o, "notification_only", s->notification_only);
	ok = ok && sig_put_cites(o, s);
	return nrm_json_print_take(o, ok);
}

/* Add k: v only when v is set. */
static bool
sig_put_opt(cJSON *o, const char *k, const char *v)
{
	if (v == NULL)
		return true;
	return cJSON_AddStringToObject(o, k, v) != NULL;
}

char *
nrm_signal_subject_json(const struct nrm_signal *s)
{
	const struct nrm_subject *sub = &s->subject;
	cJSON *o;
	bool ok;

	if (s->notification_only)
		return strdup("null");
	o = cJSON_CreateObject();
	ok = o != NULL;
	ok = ok && sig_put_opt(o, "given_name", sub->given_name);
	ok = ok && sig_put_opt(o, "family_name", sub->family_name);
	ok = ok && sig_put_birth_date(o, sub, false);
	ok = ok && sig_put_opt(o, "phone", sub->phone);
	ok = ok && sig_put_opt(o, "address", sub->address);
	ok = ok && sig_put_opt(o, "narrative", s->narrative);
	return nrm_json_print_take(o, ok);
}

/*
 * Every field, absent ones as null, in one fixed order, plus the two
 * derived facts (which depend on the offset observed_at was written in,
 * a detail the UTC timestamp alone does not keep).
 */
char *
nrm_signal_canonical_json(const struct nrm_signal *s)
{
	const struct nrm_subject *sub = &s->subject;
	cJSON *o = cJSON_CreateObject();
	cJSON *so = NULL;
	bool ok = o != NULL;

	ok = ok && sig_put_str(o, "observed_at", s->observed_at_text);
	ok = ok && sig_put_str(o, "municipality_code", s->municipality);
	ok = ok && sig_put_str(o, "reporter_reference", s->reporter_reference);
	if (ok) {
		so = cJSON_AddObjectToObject(o, "subject");
		ok = so != NULL;
	}
	ok = ok && sig_put_str(so, "given_name", sub->given_name);
	ok = ok && sig_put_str(so, "family_name", sub->family_name);
	ok = ok && sig_put_birth_date(so, sub, true);
	ok = ok &&
	    sig_put_int(
		so, "age_estimate", sub->age_estimate, sub->age_estimate >= 0);
	if (ok && sub->minor_flag < 0)
		ok = cJSON_AddNullToObject(so, "minor") != NULL;
	else
		ok = ok && sig_put_bool(so, "minor", sub->minor_flag == 1);
	ok = ok && sig_put_str(so, "gender", nrm_gender_name(sub->gender));
	ok = ok && sig_put_str(so, "nationality", sub->nationality);
	ok = ok && sig_put_languages(so, sub);
	ok = ok && sig_put_str(so, "phone", sub->phone);
	ok = ok && sig_put_str(so, "address", sub->address);
	ok = ok && sig_put_case_facts(o, s);
	ok = ok && sig_put_str(o, "narrative", s->narrative);
	ok = ok && sig_put_bool(o, "minor", s->minor);
	ok = ok && sig_put_bool(o, "notification_only", s->notification_only);
	ok = ok && sig_put_cites(o, s);
	return nrm_json_print_take(o, ok);
}

/*
 * Pseudonym normalisation.  Folding table for U+00C0..U+017F: ranges of
 * code points and the ASCII they fold to.  Code points in that block
 * that are not letters (U+00D7, U+00F7) are not listed and are kept.
 */
struct sig_fold {
	uint16_t first, last;
	const char *to;
};

static const struct sig_fold sig_folds[] = {
    {0x00C0, 0x00C5, "a"},
    {0x00C6, 0x00C6, "ae"},
    {0x00C7, 0x00C7, "c"},
    {0x00C8, 0x00CB, "e"},
    {0x00CC, 0x00CF, "i"},
    {0x00D0, 0x00D0, "d"},
    {0x00D1, 0x00D1, "n"},
    {0x00D2, 0x00D6, "o"},
    {0x00D8, 0x00D8, "o"},
    {0x00D9, 0x00DC, "u"},
    {0x00DD, 0x00DD, "y"},
    {0x00DE, 0x00DE, "th"},
    {0x00DF, 0x00DF, "ss"},
    {0x00E0, 0x00E5, "a"},
    {0x00E6, 0x00E6, "ae"},
    {0x00E7, 0x00E7, "c"},
    {0x00E8, 0x00EB, "e"},
    {0x00EC, 0x00EF, "i"},
    {0x00F0, 0x00F0, "d"},
    {0x00F1, 0x00F1, "n"},
    {0x00F2, 0x00F6, "o"},
    {0x00F8, 0x00F8, "o"},
    {0x00F9, 0x00FC, "u"},
    {0x00FD, 0x00FD, "y"},
    {0x00FE, 0x00FE, "th"},
    {0x00FF, 0x00FF, "y"},
    {0x0100, 0x0105, "a"},
    {0x0106, 0x010D, "c"},
    {0x010E, 0x0111, "d"},
    {0x0112, 0x011B, "e"},
    {0x011C, 0x0123, "g"},
    {0x0124, 0x0127, "h"},
    {0x0128, 0x0131, "i"},
    {0x0132, 0x0133, "ij"},
    {0x0134, 0x0135, "j"},
    {0x0136, 0x0138, "k"},
    {0x0139, 0x0142, "l"},
    {0x0143, 0x014B, "n"},
    {0x014C, 0x0151, "o"},
    {0x0152, 0x0153, "oe"},
    {0x0154, 0x0159, "r"},
    {0x015A, 0x0161, "s"},
    {0x0162, 0x0167, "t"},
    {0x0168, 0x0173, "u"},
    {0x0174, 0x0175, "w"},
    {0x0176, 0x0178, "y"},
    {0x0179, 0x017E, "z"},
    {0x017F, 0x017F, "s"},
};

static const char *
sig_fold_lookup(int32_t cp)
{
	size_t i;

	for (i = 0; i < NRM_ARRAY_LEN(sig_folds); i++) {
		if (cp >= sig_folds[i].first && cp <= sig_folds[i].last)
			return sig_folds[i].to;
	}
	return NULL;
}

/*
 * Append the normalised form of `s` to buf at *n (bufsz total, one byte
 * kept for the NUL): ASCII lower case, folded accents, runs of
 * whitespace (ASCII and U+00A0) as one space, trimmed; anything else
 * copied as is.  False when buf is too small.
 */
static bool
sig_norm_append(const char *s, char *buf, size_t bufsz, size_t *n)
{
	size_t len = strlen(s), pos = 0, start = *n;
	bool space = false;

	while (pos < len) {
		size_t at = pos;
		int32_t cp = nrm_utf8_next(s, len, &pos);
		const char *to = NULL;
		char one[2] = {0, 0};
		size_t k;

		if (cp < 0) {
			pos = at + 1; /* cannot happen: input is validated */
			continue;
		}
		if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
		    cp == 0xA0) {
			space = *n > start;
			continue;
		}
		if (cp < 0x80) {
			one[0] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
			to = one;
		} else {
			to = sig_fold_lookup(cp);
		}
		if (space) {
			if (*n + 1 >= bufsz)
				return false;
			buf[(*n)++] = ' ';
			space = false;
		}
		if (to != NULL) {
			k = strlen(to);
			if (*n + k >= bufsz)
				return false;
			memcpy(buf + *n, to, k);
		} else {
			k = pos - at;
			if (*n + k >= bufsz)
				return false;
			memcpy(buf + *n, s + at, k);
		}
		*n += k;
	}
	return true;
}

/*
 * "given|family|YYYY-MM-DD", each name normalised; 0 (and buf "" when
 * bufsz > 0) when there is no family name, no birth date, the family
 * name normalises to nothing, or buf is too small.
 */
size_t
nrm_signal_pseudonym_input(const struct nrm_signal *s, char *buf, size_t bufsz)
{
	const struct nrm_subject *sub = &s->subject;
	char date[NRM_DATE_TEXT_SIZE];
	size_t n = 0, fam;

	if (bufsz == 0)
		return 0;
	buf[0] = '\0';
	if (sub->family_name == NULL || !sub->has_birth_date)
		return 0;
	if (nrm_date_format(sub->birth_date.year, sub->birth_date.month,
		sub->birth_date.day, date, sizeof(date)) != NRM_OK)
		return 0;
	if (sub->given_name != NULL &&
	    !sig_norm_append(sub->given_name, buf, bufsz, &n))
		goto small;
	if (n + 1 >= bufsz)
		goto small;
	buf[n++] = '|';
	fam = n;
	if (!sig_norm_append(sub->family_name, buf, bufsz, &n) || n == fam)
		goto small;
	if (n + 1 + strlen(date) >= bufsz)
		goto small;
	buf[n++] = '|';
	memcpy(buf + n, date, strlen(date));
	n += strlen(date);
	buf[n] = '\0';
	return n;
small:
	buf[0] = '\0';
	return 0;
}
