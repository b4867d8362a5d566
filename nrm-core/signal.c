/*
 * signal.c - strict validation of an intake body (see signal.h); the
 * canonical encodings live in signal_codec.c.
 *
 * The body goes through the one strict reader (json.c: UTF-8, RFC 8259
 * syntax, nesting depth, duplicate keys), then the schema walk
 * (sig_parse_*) checks every key and value, reporting the JSON path of
 * the first fault.
 *
 * Validation decisions beyond the wire format (the HTTP layer and the
 * API documentation rely on these):
 *   - JSON null for an optional field means absent; for a required field
 *     (observed_at, subject, exploitation, consent) it means missing.
 *   - An unknown key is reported at its path ("subject.nickname") when
 *     the key is 1..64 of [A-Za-z0-9_-]; any other key is reported at
 *     the enclosing object's path, without echoing the key (json.h).
 *   - Free text (names, reference, phone, address, narrative) must not
 *     be blank (nrm_json_blank) and must not contain control characters
 *     (U+0000..U+001F, U+007F..U+009F); address and narrative may
 *     contain line breaks (CR, LF).
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
 *   - cites_reference: a readable reference (nrm_reference_normal),
 *     stored in its normal form; a malformed one and one whose check
 *     character does not match are refused with different details.
 *     Whether it names a signal is the database's, never told.
 */
#include "nrm/signal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrm/json.h"
#include "nrm/timefmt.h"

#define SIG_PATH_MAX NRM_JSON_PATH_MAX
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
	return nrm_name_at(nrm_exploitation_names, NRM_EXPL_COUNT,
	    sig_bit_index(bit, NRM_EXPL_COUNT));
}

const char *
nrm_control_name(uint32_t bit)
{
	return nrm_name_at(nrm_control_names, NRM_CTRL_COUNT,
	    sig_bit_index(bit, NRM_CTRL_COUNT));
}

const char *
nrm_consent_name(enum nrm_consent c)
{
	return nrm_name_at(
	    sig_consent_names, NRM_ARRAY_LEN(sig_consent_names), (int)c);
}

/* NULL for NRM_GENDER_UNSPECIFIED, which has no wire name. */
const char *
nrm_gender_name(enum nrm_gender g)
{
	return nrm_name_at(
	    sig_gender_names, NRM_ARRAY_LEN(sig_gender_names), (int)g);
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

/*
 * The object at `path` (the body itself when path is ""): its members
 * into slot[]; anything but an object, or a fault among its members, is
 * the first fault in c->err.
 */
static int
sig_members(struct sig_ctx *c, const cJSON *obj, const char *path,
    const char *const *keys, int n, const cJSON **slot)
{
	if (!cJSON_IsObject(obj))
		return path[0] == '\0'
		    ? SIG_FAIL(c, "", "body must be a JSON object")
		    : SIG_FAIL(c, path, "must be an object");
	if (nrm_json_members(obj, path, keys, n, 0, slot, NULL, NULL, c->err) !=
	    0)
		return NRM_ERR;
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
		nrm_json_path_index(sub, path, i);
		if (!cJSON_IsString(item))
			return SIG_FAIL(c, sub, "must be a string");
		k = nrm_name_index(names, n, item->valuestring);
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
	SIG_K_CITES_REFERENCE,
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
    [SIG_K_CITES_REFERENCE] = "cites_reference",
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

static const char sig_ref_alpha[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
#define SIG_REF_BODY 8

int
nrm_reference_normal(const char *in, char *out)
{
	char t[SIG_REF_BODY + 1];
	const char *p;
	int n = 0, sum = 0;

	out[0] = '\0';
	for (; *in != '\0'; in++) {
		char ch = *in;

		if (ch == ' ' || ch == '-')
			continue;
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		p = ch != '\0' ? strchr(sig_ref_alpha, ch) : NULL;
		if (p == NULL || n == SIG_REF_BODY + 1)
			return NRM_REF_MALFORMED;
		t[n++] = ch;
		if (n <= SIG_REF_BODY)
			sum += n * (int)(p - sig_ref_alpha);
	}
	if (n != SIG_REF_BODY + 1)
		return NRM_REF_MALFORMED;
	if (t[SIG_REF_BODY] != sig_ref_alpha[(31 - sum % 31) % 31])
		return NRM_REF_CHECK;
	snprintf(out, NRM_REFERENCE_LEN + 1, "%.4s-%.4s-%c", t, t + 4,
	    t[SIG_REF_BODY]);
	return NRM_OK;
}

/* cites_reference: a string, a well-formed reference, absent or null. */
static int
sig_parse_cites(struct sig_ctx *c, const cJSON *v)
{
	const char *path = "cites_reference";
	int rc;

	if (v == NULL)
		return NRM_OK;
	if (!cJSON_IsString(v))
		return SIG_FAIL(c, path, "must be a string");
	rc = nrm_reference_normal(v->valuestring, c->s->cites_reference);
	if (rc == NRM_REF_CHECK)
		return SIG_FAIL(c, path,
		    "the check character does not match: the reference is "
		    "mistyped");
	if (rc != NRM_OK)
		return SIG_FAIL(c, path,
		    "must be a reference from a receipt, like 4HJW-P2XB-4 "
		    "(8 characters and a check character)");
	return NRM_OK;
}

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
		nrm_json_path_index(ipath, path, i);
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
	return nrm_json_text(slot[1], "subject.contact.address",
	    c->lim->address_max, true, &sub->address, c->err);
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
	if (sig_members(c, v, "subject", sig_subject_keys, SIG_S__COUNT,
		slot) != NRM_OK)
		return NRM_ERR;

	if (nrm_json_text(slot[SIG_S_GIVEN_NAME], "subject.given_name",
		c->lim->name_max, false, &sub->given_name, c->err) != NRM_OK)
		return NRM_ERR;
	if (nrm_json_text(slot[SIG_S_FAMILY_NAME], "subject.family_name",
		c->lim->name_max, false, &sub->family_name, c->err) != NRM_OK)
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
		    ? nrm_name_index(sig_gender_names,
			  NRM_ARRAY_LEN(sig_gender_names), x->valuestring)
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
	if (sig_members(c, v, "urgency", sig_urgency_keys, 2, slot) != NRM_OK)
		return NRM_ERR;
	if (nrm_json_bool(slot[0], "urgency.immediate_danger",
		&c->s->immediate_danger, c->err) != NRM_OK)
		return NRM_ERR;
	return nrm_json_bool(
	    slot[1], "urgency.needs_shelter", &c->s->needs_shelter, c->err);
}

static int
sig_parse_consent(struct sig_ctx *c, const cJSON *v)
{
	int k;

	if (v == NULL)
		return SIG_FAIL(c, "consent", "is required");
	k = cJSON_IsString(v)
	    ? nrm_name_index(sig_consent_names,
		  NRM_ARRAY_LEN(sig_consent_names), v->valuestring)
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

	if (sig_members(c, root, "", sig_top_keys, SIG_K__TOP, slot) != NRM_OK)
		return NRM_ERR;
	if (sig_parse_observed_at(c, slot[SIG_K_OBSERVED_AT], now) != NRM_OK)
		return NRM_ERR;
	if (sig_parse_location(c, slot[SIG_K_LOCATION]) != NRM_OK)
		return NRM_ERR;
	if (nrm_json_text(slot[SIG_K_REPORTER_REFERENCE], "reporter_reference",
		c->lim->reference_max, false, &c->s->reporter_reference,
		c->err) != NRM_OK)
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
	if (nrm_json_text(slot[SIG_K_NARRATIVE], "narrative",
		c->lim->narrative_max, true, &c->s->narrative,
		c->err) != NRM_OK)
		return NRM_ERR;
	if (sig_parse_cites(c, slot[SIG_K_CITES_REFERENCE]) != NRM_OK)
		return NRM_ERR;
	return sig_derive(c);
}

/*
 * The schema walk and the derived rules over a tree from
 * nrm_json_parse().
 */
int
nrm_signal_from_json(struct nrm_signal *out, const cJSON *root,
    const struct nrm_signal_limits *lim, const struct nrm_geo *geo, int64_t now,
    struct nrm_error *err)
{
	struct nrm_signal_limits deflim;
	struct sig_ctx c;

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
	if (sig_parse_tree(&c, root, now) == NRM_OK)
		return NRM_OK;
	nrm_signal_free(out);
	return NRM_ERR;
}

/* The strict reader, then the walk. */
int
nrm_signal_parse(struct nrm_signal *out, const char *body, size_t len,
    const struct nrm_signal_limits *lim, const struct nrm_geo *geo, int64_t now,
    struct nrm_error *err)
{
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	nrm_error_clear(err);
	if (nrm_json_parse(&root, body, len, NULL, err) != NRM_OK)
		return NRM_ERR;
	rc = nrm_signal_from_json(out, root, lim, geo, now, err);
	cJSON_Delete(root);
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
