/*
 * signal.c - strict validation of an intake body and the canonical
 * encodings of a signal (see signal.h).
 *
 * The body goes through three gates, cheapest first:
 *   1. strict UTF-8 without NUL bytes over the raw bytes (utf8.c);
 *   2. a strict RFC 8259 syntax check (sig_lex_*), because cJSON is
 *      lenient: it accepts control characters in strings, leading zeros
 *      and "\u0000" (which would silently truncate a string); this gate
 *      also bounds the nesting depth;
 *   3. cJSON builds the tree, and the schema walk (sig_parse_*) checks
 *      every key and value, reporting the JSON path of the first fault.
 *
 * Validation decisions beyond the wire format (the HTTP layer and the
 * API documentation rely on these):
 *   - JSON null for an optional field means absent; for a required field
 *     (observed_at, subject, exploitation, consent) it means missing.
 *   - An unknown key is reported at its path ("subject.nickname") when
 *     the key is 1..64 of [A-Za-z0-9_-]; any other key is reported at
 *     the enclosing object's path, without echoing the key.
 *   - Free text (names, reference, phone, address, narrative) must not
 *     be blank (only spaces, tabs, CR, LF) and must not contain control
 *     characters (U+0000..U+001F, U+007F..U+009F); address and narrative
 *     may contain line breaks (CR, LF).
 *   - nationality: two upper-case ASCII letters; languages: two
 *     lower-case ASCII letters.  Shape only, not checked against the ISO
 *     lists (so user-assigned codes such as XK are accepted).
 *   - phone: 3..phone_max bytes of digits, spaces, + - ( ), at least 3
 *     of them digits.
 *   - age_estimate: a JSON number with an integral value 0..120 (16.0
 *     is 16; 16.5 and 1e300 are refused).
 *   - The subject's age is taken on the calendar date of observed_at in
 *     the offset it was written in (what the reporter saw on the
 *     calendar); birth_date may not be after that date.
 *   - Nesting deeper than SIG_MAX_DEPTH (32) and number literals longer
 *     than SIG_NUMBER_MAX (63 bytes) are MALFORMED.
 */
#include "nrm/signal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nrm/timefmt.h"
#include "nrm/utf8.h"

#define SIG_MAX_DEPTH 32
#define SIG_NUMBER_MAX 63
#define SIG_PATH_MAX 128
#define SIG_KEY_SHOWN_MAX 64
#define SIG_LANG_SLOTS 10
#define SIG_AGE_MAX 120
#define SIG_ADULT_AGE 18
#define SIG_PHONE_MIN 3
/* 2000-01-01T00:00:00Z: nothing observed earlier is a live signal. */
#define SIG_OBSERVED_MIN 946684800LL

#define SIG_FAIL(c, path, ...) \
	nrm_error_set((c)->err, NRM_E_VALIDATION, (path), __VA_ARGS__)

const char *const nrm_exploitation_names[NRM_EXPL_COUNT] = {
    "sexual",
    "labour",
    "criminal",
    "begging",
    "forced_marriage",
    "illegal_adoption",
    "surrogacy",
    "organ_removal",
    "other",
};

const char *const nrm_control_names[NRM_CTRL_COUNT] = {
    "debt_bondage",
    "documents_withheld",
    "threats",
    "threats_against_family",
    "physical_violence",
    "sexual_violence",
    "psychological_abuse",
    "isolation",
    "restricted_movement",
    "wages_withheld",
    "substance_dependency",
    "deception",
    "abuse_of_vulnerability",
    "excessive_hours",
    "loverboy",
    "other",
};

static const char *const sig_consent_names[] = {
    [NRM_CONSENT_GIVEN] = "given",
    [NRM_CONSENT_REFUSED] = "refused",
    [NRM_CONSENT_UNABLE] = "unable",
    [NRM_CONSENT_NOT_REQUIRED_MINOR] = "not_required_minor",
};

static const char *const sig_gender_names[] = {
    [NRM_GENDER_UNSPECIFIED] = NULL,
    [NRM_GENDER_FEMALE] = "female",
    [NRM_GENDER_MALE] = "male",
    [NRM_GENDER_NON_BINARY] = "non_binary",
    [NRM_GENDER_OTHER] = "other",
    [NRM_GENDER_UNKNOWN] = "unknown",
};

void
nrm_signal_limits_default(struct nrm_signal_limits *lim)
{
	lim->name_max = 200;
	lim->phone_max = 40;
	lim->address_max = 500;
	lim->reference_max = 100;
	lim->narrative_max = 8000;
	lim->languages_max = 10;
	lim->clock_skew = 300;
}

/* The index i of a single bit 1u << i below count, or -1. */
static int
sig_bit_index(uint32_t bit, int count)
{
	int i;

	for (i = 0; i < count; i++) {
		if (bit == 1u << i)
			return i;
	}
	return -1;
}

const char *
nrm_exploitation_name(uint32_t bit)
{
	int i = sig_bit_index(bit, NRM_EXPL_COUNT);

	return i < 0 ? NULL : nrm_exploitation_names[i];
}

const char *
nrm_control_name(uint32_t bit)
{
	int i = sig_bit_index(bit, NRM_CTRL_COUNT);

	return i < 0 ? NULL : nrm_control_names[i];
}

const char *
nrm_consent_name(enum nrm_consent c)
{
	if ((int)c < 0 || (size_t)c >= NRM_ARRAY_LEN(sig_consent_names))
		return NULL;
	return sig_consent_names[c];
}

/* NULL for NRM_GENDER_UNSPECIFIED, which has no wire name. */
const char *
nrm_gender_name(enum nrm_gender g)
{
	if ((int)g < 0 || (size_t)g >= NRM_ARRAY_LEN(sig_gender_names))
		return NULL;
	return sig_gender_names[g];
}

/* Index of s in names[0..n), or -1. */
static int
sig_lookup(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++) {
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return i;
	}
	return -1;
}

/*
 * Strict JSON syntax check (RFC 8259).  Recursion is bounded by
 * SIG_MAX_DEPTH.  On failure lx->why says what was wrong and lx->p
 * points near the offending byte.
 */
struct sig_lex {
	const char *p, *end;
	const char *why;
};

static void
sig_lex_ws(struct sig_lex *lx)
{
	while (lx->p < lx->end &&
	    (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' ||
		*lx->p == '\r'))
		lx->p++;
}

static bool
sig_lex_fail(struct sig_lex *lx, const char *why)
{
	lx->why = why;
	return false;
}

static bool
sig_lex_hex4(struct sig_lex *lx, unsigned *v)
{
	unsigned x = 0;
	int i;

	if (lx->end - lx->p < 4)
		return sig_lex_fail(lx, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		char ch = lx->p[i];

		x <<= 4;
		if (ch >= '0' && ch <= '9')
			x |= (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			x |= (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			x |= (unsigned)(ch - 'A' + 10);
		else
			return sig_lex_fail(lx, "bad \\u escape");
	}
	lx->p += 4;
	*v = x;
	return true;
}

/* A string; lx->p is on the opening quote. */
static bool
sig_lex_string(struct sig_lex *lx)
{
	unsigned u, lo;

	lx->p++;
	while (lx->p < lx->end) {
		unsigned char ch = (unsigned char)*lx->p++;

		if (ch == '"')
			return true;
		if (ch < 0x20)
			return sig_lex_fail(lx,
			    "unescaped control character "
			    "in a string");
		if (ch != '\\')
			continue;
		if (lx->p >= lx->end)
			break;
		switch (*lx->p++) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			break;
		case 'u':
			if (!sig_lex_hex4(lx, &u))
				return false;
			if (u == 0)
				return sig_lex_fail(lx, "\\u0000 in a string");
			if (u >= 0xDC00 && u <= 0xDFFF)
				return sig_lex_fail(lx, "unpaired surrogate");
			if (u < 0xD800 || u > 0xDBFF)
				break;
			if (lx->end - lx->p < 2 || lx->p[0] != '\\' ||
			    lx->p[1] != 'u')
				return sig_lex_fail(lx, "unpaired surrogate");
			lx->p += 2;
			if (!sig_lex_hex4(lx, &lo))
				return false;
			if (lo < 0xDC00 || lo > 0xDFFF)
				return sig_lex_fail(lx, "unpaired surrogate");
			break;
		default:
			return sig_lex_fail(lx, "bad escape in a string");
		}
	}
	return sig_lex_fail(lx, "unterminated string");
}

static bool
sig_lex_digits(struct sig_lex *lx)
{
	const char *start = lx->p;

	while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9')
		lx->p++;
	return lx->p > start;
}

/*
 * -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?, at most
 * SIG_NUMBER_MAX bytes: some cJSON releases read a number through a
 * 64-byte buffer and fail on longer ones.
 */
static bool
sig_lex_number(struct sig_lex *lx)
{
	const char *start = lx->p;

	if (lx->p < lx->end && *lx->p == '-')
		lx->p++;
	if (lx->p < lx->end && *lx->p == '0')
		lx->p++;
	else if (!sig_lex_digits(lx))
		return sig_lex_fail(lx, "bad number");
	if (lx->p < lx->end && *lx->p == '.') {
		lx->p++;
		if (!sig_lex_digits(lx))
			return sig_lex_fail(lx, "bad number");
	}
	if (lx->p < lx->end && (*lx->p == 'e' || *lx->p == 'E')) {
		lx->p++;
		if (lx->p < lx->end && (*lx->p == '+' || *lx->p == '-'))
			lx->p++;
		if (!sig_lex_digits(lx))
			return sig_lex_fail(lx, "bad number");
	}
	if (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9')
		return sig_lex_fail(lx, "bad number");
	if (lx->p - start > SIG_NUMBER_MAX)
		return sig_lex_fail(lx, "number longer than 63 characters");
	return true;
}

static bool
sig_lex_word(struct sig_lex *lx, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(lx->end - lx->p) < n || memcmp(lx->p, w, n) != 0)
		return sig_lex_fail(lx, "unexpected character");
	lx->p += n;
	return true;
}

static bool sig_lex_value(struct sig_lex *lx, int depth);

/* An object or array; lx->p is on '{' or '['. */
static bool
sig_lex_container(struct sig_lex *lx, int depth)
{
	bool object = *lx->p == '{';
	char close = object ? '}' : ']';

	lx->p++;
	sig_lex_ws(lx);
	if (lx->p < lx->end && *lx->p == close) {
		lx->p++;
		return true;
	}
	for (;;) {
		if (object) {
			sig_lex_ws(lx);
			if (lx->p >= lx->end || *lx->p != '"')
				return sig_lex_fail(lx, "expected a key");
			if (!sig_lex_string(lx))
				return false;
			sig_lex_ws(lx);
			if (lx->p >= lx->end || *lx->p != ':')
				return sig_lex_fail(lx, "expected ':'");
			lx->p++;
		}
		if (!sig_lex_value(lx, depth + 1))
			return false;
		sig_lex_ws(lx);
		if (lx->p < lx->end && *lx->p == ',') {
			lx->p++;
			continue;
		}
		if (lx->p < lx->end && *lx->p == close) {
			lx->p++;
			return true;
		}
		return sig_lex_fail(
		    lx, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool
sig_lex_value(struct sig_lex *lx, int depth)
{
	if (depth > SIG_MAX_DEPTH)
		return sig_lex_fail(lx, "nested too deeply");
	sig_lex_ws(lx);
	if (lx->p >= lx->end)
		return sig_lex_fail(lx, "unexpected end of input");
	switch (*lx->p) {
	case '{':
	case '[':
		return sig_lex_container(lx, depth);
	case '"':
		return sig_lex_string(lx);
	case 't':
		return sig_lex_word(lx, "true");
	case 'f':
		return sig_lex_word(lx, "false");
	case 'n':
		return sig_lex_word(lx, "null");
	default:
		if (*lx->p == '-' || (*lx->p >= '0' && *lx->p <= '9'))
			return sig_lex_number(lx);
		return sig_lex_fail(lx, "unexpected character");
	}
}

/*
 * Check that body[0..len) is exactly one JSON value with optional
 * whitespace around it.  Fills *err (MALFORMED, with the byte offset)
 * on failure.
 */
static int
sig_lex_check(const char *body, size_t len, struct nrm_error *err)
{
	struct sig_lex lx = {body, body + len, NULL};

	if (sig_lex_value(&lx, 1)) {
		sig_lex_ws(&lx);
		if (lx.p == lx.end)
			return NRM_OK;
		lx.why = "text after the JSON value";
	}
	return nrm_error_set(err, NRM_E_MALFORMED, "",
	    "body is not valid JSON: %s near byte %zu", lx.why,
	    (size_t)(lx.p - body));
}

/* What the schema walk needs. */
struct sig_ctx {
	struct nrm_signal *s;
	const struct nrm_signal_limits *lim;
	const struct nrm_geo *geo;
	struct nrm_error *err;
	size_t languages_max;
	int obs_year, obs_month, obs_day; /* date of observed_at, local */
};

/* "parent.key", or "key" at the top level. */
static void
sig_path(char *buf, const char *parent, const char *key)
{
	if (parent[0] == '\0')
		snprintf(buf, SIG_PATH_MAX, "%s", key);
	else
		snprintf(buf, SIG_PATH_MAX, "%s.%s", parent, key);
}

/* "parent[i]". */
static void
sig_path_index(char *buf, const char *parent, int i)
{
	snprintf(buf, SIG_PATH_MAX, "%s[%d]", parent, i);
}

/* A key safe to echo in err->field: 1..64 of [A-Za-z0-9_-]. */
static bool
sig_key_showable(const char *k)
{
	size_t i;

	for (i = 0; k[i] != '\0'; i++) {
		char ch = k[i];

		if (i >= SIG_KEY_SHOWN_MAX)
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return i > 0;
}

/*
 * Match the members of object `obj` (at `path`) against keys[0..n):
 * slot[i] receives the member named keys[i], or NULL when it is absent
 * or JSON null.  Refuses unknown and duplicate keys.
 */
static int
sig_members(struct sig_ctx *c, const cJSON *obj, const char *path,
    const char *const *keys, int n, const cJSON **slot)
{
	char sub[SIG_PATH_MAX];
	bool seen[16] = {false};
	const cJSON *m;
	int i;

	for (i = 0; i < n; i++)
		slot[i] = NULL;
	for (m = obj->child; m != NULL; m = m->next) {
		i = sig_lookup(keys, n, m->string);
		if (i < 0) {
			if (!sig_key_showable(m->string))
				return SIG_FAIL(
				    c, path, "unknown field (name not shown)");
			sig_path(sub, path, m->string);
			return SIG_FAIL(c, sub, "unknown field");
		}
		if (seen[i]) {
			sig_path(sub, path, keys[i]);
			return SIG_FAIL(c, sub, "duplicate field");
		}
		seen[i] = true;
		slot[i] = cJSON_IsNull(m) ? NULL : m;
	}
	return NRM_OK;
}

/* Only spaces, tabs, CR and LF. */
static bool
sig_blank(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	}
	return true;
}

/*
 * A control character: U+0000..U+001F, U+007F..U+009F; CR and LF are
 * allowed when `lines` is true.  s is valid UTF-8.
 */
static bool
sig_has_control(const char *s, bool lines)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p < 0x20) {
			if (lines && (*p == '\n' || *p == '\r'))
				continue;
			return true;
		}
		if (*p == 0x7F)
			return true;
		if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
			return true;
	}
	return false;
}

/*
 * A free-text string member: 1..max bytes, not blank, no control
 * characters (line breaks allowed when `lines`).  *out receives a
 * malloc'd copy, or stays NULL when v is NULL (absent).
 */
static int
sig_text(struct sig_ctx *c, const cJSON *v, const char *path, size_t max,
    bool lines, char **out)
{
	size_t n;

	if (v == NULL)
		return NRM_OK;
	if (!cJSON_IsString(v))
		return SIG_FAIL(c, path, "must be a string");
	n = strlen(v->valuestring);
	if (n < 1 || n > max)
		return SIG_FAIL(c, path, "must be 1 to %zu bytes", max);
	if (sig_blank(v->valuestring))
		return SIG_FAIL(c, path, "must not be blank");
	if (sig_has_control(v->valuestring, lines))
		return SIG_FAIL(c, path,
		    lines ? "must not contain control characters other than "
			    "line breaks"
			  : "must not contain control characters");
	*out = strdup(v->valuestring);
	if (*out == NULL)
		return nrm_error_set(
		    c->err, NRM_E_INTERNAL, "", "out of memory");
	return NRM_OK;
}

/* An optional boolean member; *out untouched when absent. */
static int
sig_bool(struct sig_ctx *c, const cJSON *v, const char *path, bool *out)
{
	if (v == NULL)
		return NRM_OK;
	if (!cJSON_IsBool(v))
		return SIG_FAIL(c, path, "must be true or false");
	*out = cJSON_IsTrue(v);
	return NRM_OK;
}

/*
 * A set of names (exploitation types or means of control) as an array
 * of strings, no duplicates, into bits.  `what` names an item in the
 * error detail; `unknown` is the whole detail for an unknown name.
 */
static int
sig_name_set(struct sig_ctx *c, const cJSON *v, const char *path,
    const char *const *names, int n, const char *what, const char *unknown,
    uint32_t *out)
{
	char sub[SIG_PATH_MAX];
	const cJSON *item;
	uint32_t bits = 0;
	int i = 0, k;

	if (!cJSON_IsArray(v))
		return SIG_FAIL(c, path, "must be an array of strings");
	cJSON_ArrayForEach (item, v) {
		sig_path_index(sub, path, i);
		if (!cJSON_IsString(item))
			return SIG_FAIL(c, sub, "must be a string");
		k = sig_lookup(names, n, item->valuestring);
		if (k < 0)
			return SIG_FAIL(c, sub, "%s", unknown);
		if (bits & (1u << k))
			return SIG_FAIL(c, sub, "duplicate %s", what);
		bits |= 1u << k;
		i++;
	}
	*out = bits;
	return NRM_OK;
}

enum {
	SIG_K_OBSERVED_AT,
	SIG_K_LOCATION,
	SIG_K_REPORTER_REFERENCE,
	SIG_K_SUBJECT,
	SIG_K_EXPLOITATION,
	SIG_K_CONTROL_MEANS,
	SIG_K_URGENCY,
	SIG_K_CONSENT,
	SIG_K_NARRATIVE,
	SIG_K__TOP
};

static const char *const sig_top_keys[SIG_K__TOP] = {
    [SIG_K_OBSERVED_AT] = "observed_at",
    [SIG_K_LOCATION] = "location",
    [SIG_K_REPORTER_REFERENCE] = "reporter_reference",
    [SIG_K_SUBJECT] = "subject",
    [SIG_K_EXPLOITATION] = "exploitation",
    [SIG_K_CONTROL_MEANS] = "control_means",
    [SIG_K_URGENCY] = "urgency",
    [SIG_K_CONSENT] = "consent",
    [SIG_K_NARRATIVE] = "narrative",
};

enum {
	SIG_S_GIVEN_NAME,
	SIG_S_FAMILY_NAME,
	SIG_S_BIRTH_DATE,
	SIG_S_AGE_ESTIMATE,
	SIG_S_MINOR,
	SIG_S_GENDER,
	SIG_S_NATIONALITY,
	SIG_S_LANGUAGES,
	SIG_S_CONTACT,
	SIG_S__COUNT
};

static const char *const sig_subject_keys[SIG_S__COUNT] = {
    [SIG_S_GIVEN_NAME] = "given_name",
    [SIG_S_FAMILY_NAME] = "family_name",
    [SIG_S_BIRTH_DATE] = "birth_date",
    [SIG_S_AGE_ESTIMATE] = "age_estimate",
    [SIG_S_MINOR] = "minor",
    [SIG_S_GENDER] = "gender",
    [SIG_S_NATIONALITY] = "nationality",
    [SIG_S_LANGUAGES] = "languages",
    [SIG_S_CONTACT] = "contact",
};

static const char *const sig_contact_keys[] = {"phone", "address"};
static const char *const sig_location_keys[] = {"municipality_code"};
static const char *const sig_urgency_keys[] = {
    "immediate_danger",
    "needs_shelter",
};

/* observed_at: RFC 3339, 2000-01-01 .. now + clock_skew. */
static int
sig_parse_observed_at(struct sig_ctx *c, const cJSON *v, int64_t now)
{
	const char *path = "observed_at";
	int64_t t;
	int off;

	if (v == NULL)
		return SIG_FAIL(c, path, "is required");
	if (!cJSON_IsString(v))
		return SIG_FAIL(c, path, "must be a string");
	if (nrm_time_parse(v->valuestring, strlen(v->valuestring), &t, &off) !=
	    NRM_OK)
		return SIG_FAIL(c, path,
		    "must be an RFC 3339 timestamp with a UTC offset, like "
		    "2026-11-28T22:15:00+01:00");
	if (t < SIG_OBSERVED_MIN)
		return SIG_FAIL(
		    c, path, "must not be before 2000-01-01T00:00:00Z");
	if (t > now + c->lim->clock_skew)
		return SIG_FAIL(c, path,
		    "must not lie in the future (more than %lld seconds "
		    "ahead of the server clock)",
		    (long long)c->lim->clock_skew);
	if (nrm_time_format(t, c->s->observed_at_text,
		sizeof(c->s->observed_at_text)) != NRM_OK)
		return SIG_FAIL(c, path, "must be a year up to 9999");
	c->s->observed_at = t;
	/* The calendar date where it was observed: floor division. */
	t += off;
	nrm_civil_from_days(t / 86400 - (t % 86400 < 0), &c->obs_year,
	    &c->obs_month, &c->obs_day);
	return NRM_OK;
}

/* location: {"municipality_code": "GMnnnn" | null} | null. */
static int
sig_parse_location(struct sig_ctx *c, const cJSON *v)
{
	const char *path = "location.municipality_code";
	const cJSON *slot[1];
	const char *code;
	int i;

	if (v == NULL)
		return NRM_OK;
	if (!cJSON_IsObject(v))
		return SIG_FAIL(c, "location", "must be an object");
	if (sig_members(c, v, "location", sig_location_keys, 1, slot) != NRM_OK)
		return NRM_ERR;
	if (slot[0] == NULL)
		return NRM_OK;
	if (!cJSON_IsString(slot[0]))
		return SIG_FAIL(c, path, "must be a string");
	code = slot[0]->valuestring;
	for (i = 0; code[i] != '\0' && i < 7; i++) {
		if (i < 2 ? code[i] != "GM"[i] : code[i] < '0' || code[i] > '9')
			break;
	}
	if (i != 6 || code[6] != '\0')
		return SIG_FAIL(
		    c, path, "must be a municipality code: GM and 4 digits");
	if (nrm_geo_municipality(c->geo, code) == NULL)
		return SIG_FAIL(c, path, "unknown municipality code");
	memcpy(c->s->municipality, code, 7);
	return NRM_OK;
}

/* Two ASCII letters, upper or lower case as asked; into out[3]. */
static bool
sig_code2(const cJSON *v, bool upper, char out[3])
{
	const char *s;
	char lo = upper ? 'A' : 'a', hi = upper ? 'Z' : 'z';

	if (!cJSON_IsString(v))
		return false;
	s = v->valuestring;
	if (s[0] < lo || s[0] > hi || s[1] < lo || s[1] > hi || s[2] != '\0')
		return false;
	memcpy(out, s, 3);
	return true;
}

static int
sig_parse_languages(struct sig_ctx *c, const cJSON *v)
{
	const char *path = "subject.languages";
	struct nrm_subject *sub = &c->s->subject;
	char ipath[SIG_PATH_MAX];
	const cJSON *item;
	int i = 0, k;

	if (v == NULL)
		return NRM_OK;
	if (!cJSON_IsArray(v))
		return SIG_FAIL(c, path, "must be an array of strings");
	if ((size_t)cJSON_GetArraySize(v) > c->languages_max)
		return SIG_FAIL(c, path, "must list at most %zu languages",
		    c->languages_max);
	cJSON_ArrayForEach (item, v) {
		sig_path_index(ipath, path, i);
		if (!sig_code2(item, false, sub->languages[i]))
			return SIG_FAIL(c, ipath,
			    "must be an ISO 639-1 code: two lower-case "
			    "letters a-z");
		for (k = 0; k < i; k++) {
			if (strcmp(sub->languages[k], sub->languages[i]) == 0)
				return SIG_FAIL(c, ipath, "duplicate language");
		}
		i++;
		sub->n_languages = i;
	}
	return NRM_OK;
}

/* Digits, spaces, + - ( ); at least SIG_PHONE_MIN digits. */
static bool
sig_phone_ok(const char *s)
{
	int digits = 0;

	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			digits++;
		else if (*s != ' ' && *s != '+' && *s != '-' && *s != '(' &&
		    *s != ')')
			return false;
	}
	return digits >= SIG_PHONE_MIN;
}

static int
sig_parse_contact(struct sig_ctx *c, const cJSON *v)
{
	const char *path = "subject.contact";
	struct nrm_subject *sub = &c->s->subject;
	const cJSON *slot[2];

	if (v == NULL)
		return NRM_OK;
	if (!cJSON_IsObject(v))
		return SIG_FAIL(c, path, "must be an object");
	if (sig_members(c, v, path, sig_contact_keys, 2, slot) != NRM_OK)
		return NRM_ERR;
	if (slot[0] != NULL) {
		const char *ppath = "subject.contact.phone";
		size_t n;

		if (!cJSON_IsString(slot[0]))
			return SIG_FAIL(c, ppath, "must be a string");
		n = strlen(slot[0]->valuestring);
		if (n < SIG_PHONE_MIN || n > c->lim->phone_max ||
		    !sig_phone_ok(slot[0]->valuestring))
			return SIG_FAIL(c, ppath,
			    "must be %d to %zu bytes of digits, spaces and "
			    "+ - ( ), with at least %d digits",
			    SIG_PHONE_MIN, c->lim->phone_max, SIG_PHONE_MIN);
		sub->phone = strdup(slot[0]->valuestring);
		if (sub->phone == NULL)
			return nrm_error_set(
			    c->err, NRM_E_INTERNAL, "", "out of memory");
	}
	return sig_text(c, slot[1], "subject.contact.address",
	    c->lim->address_max, true, &sub->address);
}

static int
sig_parse_subject(struct sig_ctx *c, const cJSON *v)
{
	struct nrm_subject *sub = &c->s->subject;
	const cJSON *slot[SIG_S__COUNT], *x;
	const char *path;
	int y, m, d, k;

	if (v == NULL)
		return SIG_FAIL(c, "subject", "is required");
	if (!cJSON_IsObject(v))
		return SIG_FAIL(c, "subject", "must be an object");
	if (sig_members(c, v, "subject", sig_subject_keys, SIG_S__COUNT,
		slot) != NRM_OK)
		return NRM_ERR;

	if (sig_text(c, slot[SIG_S_GIVEN_NAME], "subject.given_name",
		c->lim->name_max, false, &sub->given_name) != NRM_OK)
		return NRM_ERR;
	if (sig_text(c, slot[SIG_S_FAMILY_NAME], "subject.family_name",
		c->lim->name_max, false, &sub->family_name) != NRM_OK)
		return NRM_ERR;

	x = slot[SIG_S_BIRTH_DATE];
	path = "subject.birth_date";
	if (x != NULL) {
		if (!cJSON_IsString(x) ||
		    nrm_date_parse(x->valuestring, strlen(x->valuestring), &y,
			&m, &d) != NRM_OK)
			return SIG_FAIL(
			    c, path, "must be a calendar date YYYY-MM-DD");
		if (y < 1900)
			return SIG_FAIL(
			    c, path, "must not be before 1900-01-01");
		if (nrm_days_from_civil(y, m, d) >
		    nrm_days_from_civil(c->obs_year, c->obs_month, c->obs_day))
			return SIG_FAIL(c, path,
			    "must not be after the date of observed_at");
		sub->has_birth_date = true;
		sub->birth_date.year = y;
		sub->birth_date.month = m;
		sub->birth_date.day = d;
	}

	x = slot[SIG_S_AGE_ESTIMATE];
	if (x != NULL) {
		double a = x->valuedouble;

		if (!cJSON_IsNumber(x) || !(a >= 0 && a <= SIG_AGE_MAX) ||
		    (double)(int)a != a)
			return SIG_FAIL(c, "subject.age_estimate",
			    "must be an integer from 0 to %d", SIG_AGE_MAX);
		sub->age_estimate = (int)a;
	}

	x = slot[SIG_S_MINOR];
	if (x != NULL) {
		if (!cJSON_IsBool(x))
			return SIG_FAIL(
			    c, "subject.minor", "must be true or false");
		sub->minor_flag = cJSON_IsTrue(x) ? 1 : 0;
	}

	x = slot[SIG_S_GENDER];
	if (x != NULL) {
		k = cJSON_IsString(x)
		    ? sig_lookup(sig_gender_names,
			  (int)NRM_ARRAY_LEN(sig_gender_names), x->valuestring)
		    : -1;
		if (k <= 0)
			return SIG_FAIL(c, "subject.gender",
			    "must be one of female, male, non_binary, other, "
			    "unknown");
		sub->gender = (enum nrm_gender)k;
	}

	x = slot[SIG_S_NATIONALITY];
	if (x != NULL && !sig_code2(x, true, sub->nationality))
		return SIG_FAIL(c, "subject.nationality",
		    "must be an ISO 3166-1 alpha-2 code: two upper-case "
		    "letters A-Z");

	if (sig_parse_languages(c, slot[SIG_S_LANGUAGES]) != NRM_OK)
		return NRM_ERR;
	return sig_parse_contact(c, slot[SIG_S_CONTACT]);
}

static int
sig_parse_urgency(struct sig_ctx *c, const cJSON *v)
{
	const cJSON *slot[2];

	if (v == NULL)
		return NRM_OK;
	if (!cJSON_IsObject(v))
		return SIG_FAIL(c, "urgency", "must be an object");
	if (sig_members(c, v, "urgency", sig_urgency_keys, 2, slot) != NRM_OK)
		return NRM_ERR;
	if (sig_bool(c, slot[0], "urgency.immediate_danger",
		&c->s->immediate_danger) != NRM_OK)
		return NRM_ERR;
	return sig_bool(
	    c, slot[1], "urgency.needs_shelter", &c->s->needs_shelter);
}

static int
sig_parse_consent(struct sig_ctx *c, const cJSON *v)
{
	int k;

	if (v == NULL)
		return SIG_FAIL(c, "consent", "is required");
	k = cJSON_IsString(v)
	    ? sig_lookup(sig_consent_names,
		  (int)NRM_ARRAY_LEN(sig_consent_names), v->valuestring)
	    : -1;
	if (k < 0)
		return SIG_FAIL(c, "consent",
		    "must be one of given, refused, unable, "
		    "not_required_minor");
	c->s->consent = (enum nrm_consent)k;
	return NRM_OK;
}

/*
 * Derive minor and notification_only, then apply the rules that tie
 * fields together: not_required_minor needs a minor; an anonymous
 * notification carries no identifying data.
 */
static int
sig_derive(struct sig_ctx *c)
{
	struct nrm_signal *s = c->s;
	struct nrm_subject *sub = &s->subject;
	const char *why = "must be absent: an adult who has not given "
			  "consent is recorded as an anonymous notification";

	s->minor = sub->minor_flag == 1 ||
	    (sub->age_estimate >= 0 && sub->age_estimate < SIG_ADULT_AGE);
	if (sub->has_birth_date &&
	    nrm_age_years(sub->birth_date.year, sub->birth_date.month,
		sub->birth_date.day, c->obs_year, c->obs_month,
		c->obs_day) < SIG_ADULT_AGE)
		s->minor = true;
	if (s->consent == NRM_CONSENT_NOT_REQUIRED_MINOR && !s->minor)
		return SIG_FAIL(c, "consent",
		    "not_required_minor applies only when the subject is a "
		    "minor (by birth_date, age_estimate or minor)");
	s->notification_only = !s->minor &&
	    (s->consent == NRM_CONSENT_REFUSED ||
		s->consent == NRM_CONSENT_UNABLE);
	if (!s->notification_only)
		return NRM_OK;
	if (sub->given_name != NULL)
		return SIG_FAIL(c, "subject.given_name", "%s", why);
	if (sub->family_name != NULL)
		return SIG_FAIL(c, "subject.family_name", "%s", why);
	if (sub->has_birth_date)
		return SIG_FAIL(c, "subject.birth_date", "%s", why);
	if (sub->phone != NULL || sub->address != NULL)
		return SIG_FAIL(c, "subject.contact", "%s", why);
	if (s->narrative != NULL)
		return SIG_FAIL(c, "narrative", "%s", why);
	return NRM_OK;
}

/* The schema walk over the top-level object, in a fixed order. */
static int
sig_parse_tree(struct sig_ctx *c, const cJSON *root, int64_t now)
{
	const cJSON *slot[SIG_K__TOP];
	const cJSON *x;

	if (!cJSON_IsObject(root))
		return SIG_FAIL(c, "", "body must be a JSON object");
	if (sig_members(c, root, "", sig_top_keys, SIG_K__TOP, slot) != NRM_OK)
		return NRM_ERR;
	if (sig_parse_observed_at(c, slot[SIG_K_OBSERVED_AT], now) != NRM_OK)
		return NRM_ERR;
	if (sig_parse_location(c, slot[SIG_K_LOCATION]) != NRM_OK)
		return NRM_ERR;
	if (sig_text(c, slot[SIG_K_REPORTER_REFERENCE], "reporter_reference",
		c->lim->reference_max, false,
		&c->s->reporter_reference) != NRM_OK)
		return NRM_ERR;
	if (sig_parse_subject(c, slot[SIG_K_SUBJECT]) != NRM_OK)
		return NRM_ERR;
	x = slot[SIG_K_EXPLOITATION];
	if (x == NULL)
		return SIG_FAIL(c, "exploitation", "is required");
	if (sig_name_set(c, x, "exploitation", nrm_exploitation_names,
		NRM_EXPL_COUNT, "exploitation type",
		"must be one of sexual, labour, criminal, begging, "
		"forced_marriage, illegal_adoption, surrogacy, "
		"organ_removal, other",
		&c->s->exploitation) != NRM_OK)
		return NRM_ERR;
	if (c->s->exploitation == 0)
		return SIG_FAIL(c, "exploitation",
		    "must list at least one exploitation type");
	x = slot[SIG_K_CONTROL_MEANS];
	if (x != NULL &&
	    sig_name_set(c, x, "control_means", nrm_control_names,
		NRM_CTRL_COUNT, "means of control",
		"unknown means of control (the API documentation lists "
		"them)",
		&c->s->control) != NRM_OK)
		return NRM_ERR;
	if (sig_parse_urgency(c, slot[SIG_K_URGENCY]) != NRM_OK)
		return NRM_ERR;
	if (sig_parse_consent(c, slot[SIG_K_CONSENT]) != NRM_OK)
		return NRM_ERR;
	if (sig_text(c, slot[SIG_K_NARRATIVE], "narrative",
		c->lim->narrative_max, true, &c->s->narrative) != NRM_OK)
		return NRM_ERR;
	return sig_derive(c);
}

/*
 * The three gates, then the derived rules.  cJSON gets its own
 * NUL-terminated copy so it can never read past the body.
 */
int
nrm_signal_parse(struct nrm_signal *out, const char *body, size_t len,
    const struct nrm_signal_limits *lim, const struct nrm_geo *geo, int64_t now,
    struct nrm_error *err)
{
	struct nrm_signal_limits deflim;
	struct sig_ctx c;
	cJSON *root = NULL;
	char *copy = NULL;
	int rc = NRM_ERR;

	memset(out, 0, sizeof(*out));
	out->subject.age_estimate = -1;
	out->subject.minor_flag = -1;
	nrm_error_clear(err);
	if (lim == NULL) {
		nrm_signal_limits_default(&deflim);
		lim = &deflim;
	}
	memset(&c, 0, sizeof(c));
	c.s = out;
	c.lim = lim;
	c.geo = geo;
	c.err = err;
	c.languages_max = lim->languages_max < SIG_LANG_SLOTS
	    ? lim->languages_max
	    : SIG_LANG_SLOTS;

	if (body == NULL)
		len = 0;
	if (!nrm_utf8_valid(body, len)) {
		nrm_error_set(err, NRM_E_MALFORMED, "",
		    "body is not valid UTF-8 (or holds a NUL byte)");
		goto out;
	}
	if (sig_lex_check(body, len, err) != NRM_OK)
		goto out;
	copy = malloc(len + 1);
	if (copy == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, "", "out of memory");
		goto out;
	}
	memcpy(copy, body, len);
	copy[len] = '\0';
	root = cJSON_ParseWithLength(copy, len);
	if (root == NULL) {
		/* The syntax gate passed, so this is memory. */
		nrm_error_set(
		    err, NRM_E_INTERNAL, "", "could not parse the body");
		goto out;
	}
	rc = sig_parse_tree(&c, root, now);
out:
	cJSON_Delete(root);
	free(copy);
	if (rc != NRM_OK)
		nrm_signal_free(out);
	return rc;
}

void
nrm_signal_free(struct nrm_signal *s)
{
	if (s == NULL)
		return;
	free(s->reporter_reference);
	free(s->subject.given_name);
	free(s->subject.family_name);
	free(s->subject.phone);
	free(s->subject.address);
	free(s->narrative);
	s->reporter_reference = NULL;
	s->subject.given_name = NULL;
	s->subject.family_name = NULL;
	s->subject.phone = NULL;
	s->subject.address = NULL;
	s->narrative = NULL;
}

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

/* Print compactly and release the tree; NULL on failure. */
static char *
sig_print(cJSON *o, bool ok)
{
	char *text = NULL;

	if (o != NULL && ok)
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
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
	ok = ok &&
	    sig_put_bits(o, "exploitation", s->exploitation,
		nrm_exploitation_names, NRM_EXPL_COUNT);
	ok = ok &&
	    sig_put_bits(o, "control_means", s->control, nrm_control_names,
		NRM_CTRL_COUNT);
	ok = ok && sig_put_bool(o, "immediate_danger", s->immediate_danger);
	ok = ok && sig_put_bool(o, "needs_shelter", s->needs_shelter);
	ok = ok && sig_put_str(o, "consent", nrm_consent_name(s->consent));
	ok = ok && sig_put_bool(o, "notification_only", s->notification_only);
	return sig_print(o, ok);
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
	return sig_print(o, ok);
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
	ok = ok &&
	    sig_put_bits(o, "exploitation", s->exploitation,
		nrm_exploitation_names, NRM_EXPL_COUNT);
	ok = ok &&
	    sig_put_bits(o, "control_means", s->control, nrm_control_names,
		NRM_CTRL_COUNT);
	ok = ok && sig_put_bool(o, "immediate_danger", s->immediate_danger);
	ok = ok && sig_put_bool(o, "needs_shelter", s->needs_shelter);
	ok = ok && sig_put_str(o, "consent", nrm_consent_name(s->consent));
	ok = ok && sig_put_str(o, "narrative", s->narrative);
	ok = ok && sig_put_bool(o, "minor", s->minor);
	ok = ok && sig_put_bool(o, "notification_only", s->notification_only);
	return sig_print(o, ok);
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
