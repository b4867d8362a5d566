/*
 * signal.h - the signal model: strict validation of an intake body and
 * its canonical encodings for storage.
 *
 * A signal is what a reporter submits about a possible victim.  This
 * module turns the raw request body into a struct nrm_signal, rejecting
 * anything that is not exactly the documented shape (unknown or duplicate
 * keys, wrong types, invalid UTF-8, impossible dates, out-of-range
 * lengths), and derives the two facts every later step depends on:
 * whether the subject is a minor and whether the signal may only be kept
 * as an anonymous notification (adult without consent).
 *
 * Pure: no I/O, no clock (the caller passes `now`), no globals.  The
 * body is read by the strict reader (json.h); of cJSON only the tag
 * struct cJSON appears here, for a body already read that way.
 */
#ifndef NRM_SIGNAL_H
#define NRM_SIGNAL_H

#include "nrm/nrm.h"
#include "nrm/geo.h"

/* A readable reference's normal form "XXXX-XXXX-C": 11 characters. */
#define NRM_REFERENCE_LEN 11

/*
 * A readable reference as typed (any case; spaces and hyphens anywhere
 * are ignored: "k7qm 4txr9") in its normal form "K7QM-4TXR-9" into
 * out[NRM_REFERENCE_LEN + 1]: 8 characters of the alphabet
 * 23456789ABCDEFGHJKMNPQRSTUVWXYZ (no 0/O, 1/I/L) and a check character
 * (the sum of position x value, weights 1..8, modulo 31: the value
 * (31 - sum % 31) % 31), as the database draws them (0021,
 * care.new_reference).  Returns NRM_OK, else NRM_REF_MALFORMED (not 9
 * characters of the alphabet) or NRM_REF_CHECK (the check character
 * does not match: a mistyped reference); out is then "".
 */
enum {
	NRM_REF_MALFORMED = 1,
	NRM_REF_CHECK = 2
};
int nrm_reference_normal(const char *in, char *out) NRM_MUSTCHECK;

/* Exploitation types (bit flags), names as on the wire. */
enum nrm_exploitation {
	NRM_EXPL_SEXUAL = 1u << 0,
	NRM_EXPL_LABOUR = 1u << 1,
	NRM_EXPL_CRIMINAL = 1u << 2,
	NRM_EXPL_BEGGING = 1u << 3,
	NRM_EXPL_FORCED_MARRIAGE = 1u << 4,
	NRM_EXPL_ILLEGAL_ADOPTION = 1u << 5,
	NRM_EXPL_SURROGACY = 1u << 6,
	NRM_EXPL_ORGAN_REMOVAL = 1u << 7,
	NRM_EXPL_OTHER = 1u << 8,
};
#define NRM_EXPL_COUNT 9

/* Means of control (HTCDS-style), bit flags, names as on the wire. */
enum nrm_control {
	NRM_CTRL_DEBT_BONDAGE = 1u << 0,
	NRM_CTRL_DOCUMENTS_WITHHELD = 1u << 1,
	NRM_CTRL_THREATS = 1u << 2,
	NRM_CTRL_THREATS_AGAINST_FAMILY = 1u << 3,
	NRM_CTRL_PHYSICAL_VIOLENCE = 1u << 4,
	NRM_CTRL_SEXUAL_VIOLENCE = 1u << 5,
	NRM_CTRL_PSYCHOLOGICAL_ABUSE = 1u << 6,
	NRM_CTRL_ISOLATION = 1u << 7,
	NRM_CTRL_RESTRICTED_MOVEMENT = 1u << 8,
	NRM_CTRL_WAGES_WITHHELD = 1u << 9,
	NRM_CTRL_SUBSTANCE_DEPENDENCY = 1u << 10,
	NRM_CTRL_DECEPTION = 1u << 11,
	NRM_CTRL_ABUSE_OF_VULNERABILITY = 1u << 12,
	NRM_CTRL_EXCESSIVE_HOURS = 1u << 13,
	NRM_CTRL_LOVERBOY = 1u << 14,
	NRM_CTRL_OTHER = 1u << 15,
};
#define NRM_CTRL_COUNT 16

enum nrm_consent {
	NRM_CONSENT_GIVEN = 0,
	NRM_CONSENT_REFUSED,
	NRM_CONSENT_UNABLE,
	NRM_CONSENT_NOT_REQUIRED_MINOR,
};

enum nrm_gender {
	NRM_GENDER_UNSPECIFIED = 0, /* field absent */
	NRM_GENDER_FEMALE,
	NRM_GENDER_MALE,
	NRM_GENDER_NON_BINARY,
	NRM_GENDER_OTHER,
	NRM_GENDER_UNKNOWN,
};

/* Limits of an intake body; nrm_signal_limits_default() fills them. */
struct nrm_signal_limits {
	size_t name_max; /* bytes, given_name / family_name: 200 */
	size_t phone_max; /* bytes: 40 */
	size_t address_max; /* bytes: 500 */
	size_t reference_max; /* bytes, reporter_reference: 100 */
	size_t narrative_max; /* bytes: 8000 */
	size_t languages_max; /* items: 10 */
	int64_t clock_skew; /* seconds observed_at may lie ahead of now: 300 */
};

void nrm_signal_limits_default(struct nrm_signal_limits *lim);

/* A calendar date (no time zone). */
struct nrm_date {
	int year, month, day;
};

/*
 * The possible victim.  Strings are NUL-terminated, owned by the
 * struct nrm_signal, NULL when absent.  PERSONAL DATA: never log.
 */
struct nrm_subject {
	char *given_name;
	char *family_name;
	bool has_birth_date;
	struct nrm_date birth_date;
	int age_estimate; /* -1 when absent, else 0..120 */
	int minor_flag; /* -1 absent, 0 false, 1 true (as sent) */
	enum nrm_gender gender;
	char nationality[3]; /* ISO 3166-1 alpha-2 upper case, "" absent */
	char languages[10][3]; /* ISO 639-1 lower case */
	int n_languages;
	char *phone;
	char *address;
};

struct nrm_signal {
	int64_t observed_at; /* unix seconds, UTC */
	char observed_at_text[40]; /* canonical RFC 3339 UTC, "...Z" */
	char municipality[8]; /* "GM0363" or "" when location unknown */
	char *reporter_reference;
	struct nrm_subject subject;
	uint32_t exploitation; /* enum nrm_exploitation bits, never 0 */
	uint32_t control; /* enum nrm_control bits */
	bool immediate_danger;
	bool needs_shelter;
	enum nrm_consent consent;
	char *narrative; /* PERSONAL DATA */
	/*
	 * cites_reference: the readable reference of an earlier signal (an
	 * anonymous notification's receipt) in its normal form
	 * "XXXX-XXXX-C", "" when absent.  Not personal data.
	 */
	char cites_reference[NRM_REFERENCE_LEN + 1];

	/* Derived by nrm_signal_parse(). */
	bool minor; /* any indication of under 18 */
	bool notification_only; /* adult, consent refused or unable */
};

/*
 * Parse and validate an intake body.
 *
 * `body`/`len` need not be NUL-terminated.  `geo` decides whether
 * location.municipality_code exists; `now` is unix seconds (observed_at
 * may not lie more than lim->clock_skew ahead of it).  On success fills
 * *out (which the caller releases with nrm_signal_free()) and returns
 * NRM_OK.  On failure returns NRM_ERR with *err set: NRM_E_MALFORMED for
 * invalid UTF-8 or JSON that does not parse, NRM_E_VALIDATION with the
 * JSON path in err->field otherwise; *out is then already released.
 * The error detail never quotes input.
 */
int nrm_signal_parse(struct nrm_signal *out, const char *body, size_t len,
    const struct nrm_signal_limits *lim, const struct nrm_geo *geo, int64_t now,
    struct nrm_error *err) NRM_MUSTCHECK;

/*
 * The same validation over a tree that nrm_json_parse() produced (for a
 * signal inside a larger body, such as a routing explanation): fields
 * are named relative to `root`.  Same results as nrm_signal_parse().
 */
struct cJSON;
int nrm_signal_from_json(struct nrm_signal *out, const struct cJSON *root,
    const struct nrm_signal_limits *lim, const struct nrm_geo *geo, int64_t now,
    struct nrm_error *err) NRM_MUSTCHECK;

/* Release what a parsed signal owns; safe on a zeroed struct. */
void nrm_signal_free(struct nrm_signal *s);

/*
 * Canonical encodings, malloc'd NUL-terminated compact JSON (caller
 * frees), NULL on allocation failure.
 *
 * nrm_signal_facts_json(): only non-identifying facts, stored with the
 * signal and used for statistics: observed_at, municipality_code (or
 * null), reporter_reference, minor, age_estimate, gender, nationality,
 * languages, exploitation, control_means, immediate_danger,
 * needs_shelter, consent, notification_only, and cites_reference when
 * the signal cites one (so also in the canonical encoding: a signal
 * without one encodes as before it existed).
 *
 * nrm_signal_subject_json(): the personal data (given_name, family_name,
 * birth_date, phone, address, narrative), keys present only when sent;
 * returns the string "null" for a notification-only signal.
 *
 * nrm_signal_canonical_json(): everything, keys in a fixed order, for
 * the idempotency hash: equal signals encode to equal bytes.
 */
char *nrm_signal_facts_json(const struct nrm_signal *s);
char *nrm_signal_subject_json(const struct nrm_signal *s);
char *nrm_signal_canonical_json(const struct nrm_signal *s);

/*
 * Normalised pseudonym input: lower-cased, accent-folded (Latin-1
 * supplement and Latin Extended-A letters to ASCII), whitespace
 * collapsed "given|family|YYYY-MM-DD" into buf.  Returns the length
 * written, or 0 when the subject lacks a family name or a birth date
 * (no pseudonym is made then).  The caller HMACs it with the
 * deployment's key; this module never sees the key.
 */
size_t nrm_signal_pseudonym_input(
    const struct nrm_signal *s, char *buf, size_t bufsz);

/*
 * The wire names of exploitation types and means of control, indexed by
 * bit position (name i is the bit 1u << i): the one list the validator,
 * the codecs and the routing rules all read.
 */
extern const char *const nrm_exploitation_names[NRM_EXPL_COUNT];
extern const char *const nrm_control_names[NRM_CTRL_COUNT];

/* Wire names, for codecs and explanations; NULL when out of range. */
const char *nrm_exploitation_name(uint32_t bit);
const char *nrm_control_name(uint32_t bit);
const char *nrm_consent_name(enum nrm_consent c);
const char *nrm_gender_name(enum nrm_gender g);

#endif /* NRM_SIGNAL_H */
