/*
 * password.c - password policy (cracklib), Argon2id hashing and
 * verification (libargon2), the raw tag the database verifies a login
 * by, and the rehash predicates (see password.h).
 */
#include "password.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <argon2.h>
#include <crack.h>
#include <openssl/crypto.h>

#include "crypto.h"
#include "nrm/utf8.h"

/* What a stored PHC string says about itself. */
struct pw_phc {
	uint32_t v, m, t, p;
	size_t saltlen, taglen;
};

/* cracklib refuses anything shorter than this as "too short". */
#define PW_STEM_MIN 6
/* A login at least this long may not appear inside the password. */
#define PW_LOGIN_MIN 4

/* Parse a decimal without leading zeros, at most `max`; NULL if none. */
static const char *
pw_num(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9' || (*s == '0' && s[1] >= '0' && s[1] <= '9'))
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return NULL;
	}
	*out = (uint32_t)v;
	return s;
}

/* Skip the literal `lit` at s; NULL when s does not start with it. */
static const char *
pw_lit(const char *s, const char *lit)
{
	size_t n = strlen(lit);

	return s != NULL && strncmp(s, lit, n) == 0 ? s + n : NULL;
}

/*
 * Skip a run of unpadded standard base64 at s and store its decoded
 * length in *len (between 8 and 64 bytes); NULL when malformed.
 */
static const char *
pw_b64(const char *s, size_t *len)
{
	size_t n = 0;

	if (s == NULL)
		return NULL;
	while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
	    (s[n] >= '0' && s[n] <= '9') || s[n] == '+' || s[n] == '/')
		n++;
	if (n % 4 == 1)
		return NULL;
	*len = n * 3 / 4;
	return *len >= 8 && *len <= 64 ? s + n : NULL;
}

/* Parse `$argon2id$v=V$m=M,t=T,p=P$salt$tag` within the module's limits. */
static int
pw_phc_parse(const char *s, struct pw_phc *phc)
{
	const struct {
		const char *lit;
		uint32_t max;
		uint32_t *val;
	} nums[] = {
	    {"$argon2id$v=", UINT32_MAX, &phc->v},
	    {"$m=", NRM_ARGON2_M_KIB_MAX, &phc->m},
	    {",t=", NRM_ARGON2_T_COST_MAX, &phc->t},
	    {",p=", NRM_ARGON2_LANES_MAX, &phc->p},
	};

	for (size_t i = 0; i < NRM_ARRAY_LEN(nums) && s != NULL; i++) {
		s = pw_lit(s, nums[i].lit);
		if (s != NULL)
			s = pw_num(s, nums[i].max, nums[i].val);
	}
	s = pw_b64(pw_lit(s, "$"), &phc->saltlen);
	s = pw_b64(pw_lit(s, "$"), &phc->taglen);
	if (s == NULL || *s != '\0' || phc->v != ARGON2_VERSION_13 ||
	    phc->t < 1 || phc->p < 1 || phc->m < 8 * phc->p)
		return NRM_ERR;
	return NRM_OK;
}

static bool
pw_strippable(unsigned char c)
{
	/* ASCII digits, space and punctuation: what people append to a word */
	return (c >= ' ' && c <= '@') || (c >= '[' && c <= '`') ||
	    (c >= '{' && c <= '~');
}

int
nrm_password_dict_ready(const char *dict, struct nrm_error *err)
{
	static const char *const ext[] = {".pwd", ".pwi"};
	char path[PATH_MAX];

	if (dict == NULL)
		dict = GetDefaultCracklibDict();
	for (size_t i = 0; i < NRM_ARRAY_LEN(ext); i++) {
		int n = snprintf(path, sizeof(path), "%s%s", dict, ext[i]);

		if (n < 0 || (size_t)n >= sizeof(path) ||
		    access(path, R_OK) != 0)
			return nrm_error_set(err, NRM_E_INTERNAL, "password",
			    "could not read the password dictionary");
	}
	return NRM_OK;
}

int
nrm_password_check(const char *pw, size_t len, const char *login,
    const char *display_name, const char *dict, struct nrm_error *err)
{
	const char *why;
	size_t pos = 0, chars = 0, lead = 0, end = len;
	char *copy;

	if (len > NRM_PASSWORD_MAX_BYTES)
		return nrm_error_set(err, NRM_E_VALIDATION, "password",
		    "must be at most %d bytes", NRM_PASSWORD_MAX_BYTES);
	if (!nrm_utf8_valid(pw, len))
		return nrm_error_set(err, NRM_E_VALIDATION, "password",
		    "must be UTF-8 without NUL characters");
	while (pos < len && nrm_utf8_next(pw, len, &pos) >= 0)
		chars++;
	if (chars < NRM_PASSWORD_MIN_CHARS)
		return nrm_error_set(err, NRM_E_VALIDATION, "password",
		    "must be at least %d characters", NRM_PASSWORD_MIN_CHARS);
	if (dict == NULL)
		dict = GetDefaultCracklibDict();
	if (nrm_password_dict_ready(dict, err) != NRM_OK)
		return NRM_ERR;
	copy = malloc(len + 1);
	if (copy == NULL)
		return nrm_error_set(err, NRM_E_INTERNAL, "password",
		    "could not check the password: out of memory");
	memcpy(copy, pw, len);
	copy[len] = '\0';
	/* cracklib compares mangled forms of the whole password with the
	 * login; digits stripped around a word can hide a login that ends
	 * in digits, so containing it is refused outright */
	why = login != NULL && strlen(login) >= PW_LOGIN_MIN &&
		strcasestr(copy, login) != NULL
	    ? "it contains your login"
	    : FascistCheckUser(copy, dict, login, display_name);
	/* a word with digits or symbols around it: check the word too */
	while (lead < len && pw_strippable((unsigned char)pw[lead]))
		lead++;
	while (end > lead && pw_strippable((unsigned char)pw[end - 1]))
		end--;
	if (why == NULL && end - lead >= PW_STEM_MIN && end - lead < len) {
		memmove(copy, copy + lead, end - lead);
		copy[end - lead] = '\0';
		why = FascistCheckUser(copy, dict, login, display_name);
	}
	OPENSSL_cleanse(copy, len + 1);
	free(copy);
	if (why != NULL)
		/* cracklib's reasons are fixed texts, never the password */
		return nrm_error_set(err, NRM_E_VALIDATION, "password",
		    "is too easy to guess: %s", why);
	return NRM_OK;
}

int
nrm_password_hash(
    const char *pw, size_t len, char *out, size_t outsz, struct nrm_error *err)
{
	unsigned char salt[NRM_ARGON2_SALT_LEN];
	int rc;

	if (len > NRM_PASSWORD_MAX_BYTES)
		return nrm_error_set(err, NRM_E_VALIDATION, "password",
		    "must be at most %d bytes", NRM_PASSWORD_MAX_BYTES);
	if (outsz < argon2_encodedlen(NRM_ARGON2_T_COST, NRM_ARGON2_M_KIB,
			NRM_ARGON2_LANES, NRM_ARGON2_SALT_LEN,
			NRM_ARGON2_TAG_LEN, Argon2_id))
		return nrm_error_set(err, NRM_E_INTERNAL, "password",
		    "could not hash the password: buffer too small");
	if (nrm_random_bytes(salt, sizeof(salt)) != NRM_OK)
		return nrm_error_set(err, NRM_E_INTERNAL, "password",
		    "could not hash the password: no random salt");
	rc = argon2id_hash_encoded(NRM_ARGON2_T_COST, NRM_ARGON2_M_KIB,
	    NRM_ARGON2_LANES, len > 0 ? pw : "", len, salt, sizeof(salt),
	    NRM_ARGON2_TAG_LEN, out, outsz);
	OPENSSL_cleanse(salt, sizeof(salt));
	if (rc != ARGON2_OK)
		return nrm_error_set(err, NRM_E_INTERNAL, "password",
		    "could not hash the password: %s",
		    argon2_error_message(rc));
	return NRM_OK;
}

int
nrm_password_verify(
    const char *encoded, const char *pw, size_t len, bool *match)
{
	struct pw_phc phc;
	int rc;

	*match = false;
	if (encoded == NULL || pw_phc_parse(encoded, &phc) != NRM_OK)
		return NRM_ERR;
	if (len > NRM_PASSWORD_MAX_BYTES)
		return NRM_OK;
	/* libargon2 compares the tags in constant time */
	rc = argon2id_verify(encoded, len > 0 ? pw : "", len);
	if (rc == ARGON2_OK)
		*match = true;
	else if (rc != ARGON2_VERIFY_MISMATCH)
		return NRM_ERR;
	return NRM_OK;
}

bool
nrm_password_needs_rehash(const char *encoded)
{
	struct pw_phc phc;

	if (encoded == NULL || pw_phc_parse(encoded, &phc) != NRM_OK)
		return true;
	return phc.m < NRM_ARGON2_M_KIB || phc.t < NRM_ARGON2_T_COST ||
	    phc.p < NRM_ARGON2_LANES || phc.saltlen < NRM_ARGON2_SALT_LEN ||
	    phc.taglen < NRM_ARGON2_TAG_LEN;
}

int
nrm_password_derive(const char *pw, size_t len, const struct nrm_argon2 *a,
    unsigned char *tag, struct nrm_error *err)
{
	int rc;

	if (len > NRM_PASSWORD_MAX_BYTES)
		return nrm_error_set(err, NRM_E_VALIDATION, "password",
		    "must be at most %d bytes", NRM_PASSWORD_MAX_BYTES);
	if (a->t_cost < 1 || a->t_cost > NRM_ARGON2_T_COST_MAX ||
	    a->lanes < 1 || a->lanes > NRM_ARGON2_LANES_MAX ||
	    a->m_kib < 8 * a->lanes || a->m_kib > NRM_ARGON2_M_KIB_MAX ||
	    a->saltlen < 8 || a->saltlen > NRM_ARGON2_SALT_MAX ||
	    a->taglen < 4 || a->taglen > NRM_ARGON2_TAG_MAX)
		return nrm_error_set(err, NRM_E_INTERNAL, "password",
		    "could not hash the password: parameters out of range");
	rc = argon2id_hash_raw(a->t_cost, a->m_kib, a->lanes, len > 0 ? pw : "",
	    len, a->salt, a->saltlen, tag, a->taglen);
	if (rc != ARGON2_OK) {
		OPENSSL_cleanse(tag, a->taglen);
		return nrm_error_set(err, NRM_E_INTERNAL, "password",
		    "could not hash the password: %s",
		    argon2_error_message(rc));
	}
	return NRM_OK;
}

int
nrm_password_new(const char *pw, size_t len, struct nrm_argon2 *a,
    unsigned char *tag, struct nrm_error *err)
{
	memset(a, 0, sizeof(*a));
	a->m_kib = NRM_ARGON2_M_KIB;
	a->t_cost = NRM_ARGON2_T_COST;
	a->lanes = NRM_ARGON2_LANES;
	a->saltlen = NRM_ARGON2_SALT_LEN;
	a->taglen = NRM_ARGON2_TAG_LEN;
	if (nrm_random_bytes(a->salt, a->saltlen) != NRM_OK)
		return nrm_error_set(err, NRM_E_INTERNAL, "password",
		    "could not hash the password: no random salt");
	return nrm_password_derive(pw, len, a, tag, err);
}

bool
nrm_password_outdated(const struct nrm_argon2 *a)
{
	return a->m_kib < NRM_ARGON2_M_KIB || a->t_cost < NRM_ARGON2_T_COST ||
	    a->lanes < NRM_ARGON2_LANES || a->saltlen < NRM_ARGON2_SALT_LEN ||
	    a->taglen < NRM_ARGON2_TAG_LEN;
}
