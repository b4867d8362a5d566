/*
 * password.h - personal passwords: the policy a new password must meet,
 * the raw Argon2id tag the database verifies a login by (0024), the PHC
 * string form (stored before 0024: a PHC string's tag is the raw tag of
 * its salt and parameters, which tests hold the two to), and the
 * predicates that let the parameters be raised later.
 *
 * Hashing: Argon2id (Debian's libargon2), version 0x13, with the
 * parameters below, which meet OWASP's Password Storage Cheat Sheet
 * minimum for Argon2id (m = 19 MiB, t = 2, p = 1), a 16-byte random salt
 * and a 32-byte tag.  nrmd sends the tag (nrm_password_derive) with the
 * salt and parameters the database keeps; the database keeps only the
 * tag's SHA-256.  nrm_password_outdated() tells the login to send a
 * rehash with the current parameters.
 *
 * Policy (nrm_password_check): at most NRM_PASSWORD_MAX_BYTES bytes
 * (bounds the hashing cost of what a client sends), strict UTF-8 without
 * NUL (nrm/utf8.h), at least NRM_PASSWORD_MIN_CHARS Unicode code points,
 * and not refused by cracklib's FascistCheckUser() against the cracklib
 * dictionary, the person's login and display name; the part between
 * leading and trailing runs of ASCII digits, spaces and punctuation is
 * checked too, since cracklib alone accepts "password1234".  The password is hashed as the
 * bytes sent: no Unicode normalisation.
 *
 * Errors: a struct nrm_error with field "password" (NRM_E_VALIDATION for
 * a policy refusal, NRM_E_INTERNAL when the dictionary or the hash fails);
 * a message never holds the password or any part of it.  Buffers this
 * module copies a password into are wiped (OPENSSL_cleanse) before they
 * are freed; the caller wipes its own.  Comparisons of secrets are
 * constant-time (libargon2 compares tags so).  Not thread-safe: cracklib
 * keeps static state.  Checking and hashing block (dictionary reads, ~20
 * MiB of memory-hard work): callers on an event loop budget for that.
 */
#ifndef NRM_PASSWORD_H
#define NRM_PASSWORD_H

#include "nrm/nrm.h"

#define NRM_PASSWORD_MIN_CHARS 12 /* Unicode code points */
#define NRM_PASSWORD_MAX_BYTES 1024

#define NRM_ARGON2_M_KIB 19456 /* memory: 19 MiB */
#define NRM_ARGON2_T_COST 2 /* passes */
#define NRM_ARGON2_LANES 1 /* parallelism */
#define NRM_ARGON2_SALT_LEN 16
#define NRM_ARGON2_TAG_LEN 32

/* Limits on a stored hash this module will run (a tampered or foreign
 * string must not make a login allocate gigabytes). */
#define NRM_ARGON2_M_KIB_MAX (1024 * 1024)
#define NRM_ARGON2_T_COST_MAX 16
#define NRM_ARGON2_LANES_MAX 16

/* Room for an encoded hash with the current parameters, NUL included. */
#define NRM_PASSWORD_HASH_MAX 128

/*
 * Check `pw` (len bytes, need not be NUL-terminated) against the policy.
 * `login` and `display_name` (NUL-terminated, either may be NULL) are what
 * the password must not be based on.  `dict` is the cracklib dictionary
 * path prefix, NULL for the library default (GetDefaultCracklibDict(),
 * /var/cache/cracklib/cracklib_dict on Debian).  NRM_OK when acceptable.
 */
int nrm_password_check(const char *pw, size_t len, const char *login,
    const char *display_name, const char *dict,
    struct nrm_error *err) NRM_MUSTCHECK;

/*
 * NRM_OK when the cracklib dictionary `dict` (NULL: the default) can be
 * read, for a check at start-up: cracklib would otherwise refuse every
 * password later with "error loading dictionary".
 */
int nrm_password_dict_ready(
    const char *dict, struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Hash `pw` (len bytes, at most NRM_PASSWORD_MAX_BYTES) with a fresh salt
 * and the current parameters into out[outsz] (NRM_PASSWORD_HASH_MAX
 * suffices), NUL-terminated.  Does not apply the policy.
 */
int nrm_password_hash(const char *pw, size_t len, char *out, size_t outsz,
    struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Verify `pw` against the stored PHC string `encoded`.  NRM_OK with
 * *match set (false for a wrong password, also one over the maximum
 * length, which is not hashed); NRM_ERR with *match false when `encoded`
 * is not an Argon2id hash within the limits above or libargon2 fails.
 */
int nrm_password_verify(
    const char *encoded, const char *pw, size_t len, bool *match) NRM_MUSTCHECK;

/*
 * True when `encoded` should be replaced by a new hash of the same
 * password: not an Argon2id v=19 string this module can read, or any of
 * its memory, passes, parallelism, salt or tag length below the current
 * constants.
 */
bool nrm_password_needs_rehash(const char *encoded);

/*
 * The login as the database decides it (0024, docs/people.md): the
 * database keeps a password's Argon2id parameters, salt and the SHA-256
 * of its tag; nrmd derives the raw tag of the password typed with the
 * parameters and salt the database gives (api.login_begin) and sends
 * it, and the database compares.  A stored PHC string's tag is the raw
 * tag of the same inputs, so hashes stored before keep working.
 */
#define NRM_ARGON2_SALT_MAX 64
#define NRM_ARGON2_TAG_MAX 64

/* One password's Argon2id parameters and salt (nothing secret). */
struct nrm_argon2 {
	uint32_t m_kib, t_cost, lanes;
	size_t saltlen, taglen;
	unsigned char salt[NRM_ARGON2_SALT_MAX];
};

/*
 * Derive the raw Argon2id tag (a->taglen bytes) of `pw` (len bytes, at
 * most NRM_PASSWORD_MAX_BYTES) with a's parameters and salt into tag,
 * with libargon2's argon2id_hash_raw.  NRM_ERR (err set, tag wiped)
 * when a is outside this module's limits (those of a PHC string it
 * reads) or libargon2 fails.
 */
int nrm_password_derive(const char *pw, size_t len, const struct nrm_argon2 *a,
    unsigned char *tag, struct nrm_error *err) NRM_MUSTCHECK;

/*
 * A fresh random salt and the current parameters into *a, and the tag
 * of `pw` with them (NRM_ARGON2_TAG_LEN bytes) into tag: what enrolment
 * and a rehash store.  Does not apply the policy.
 */
int nrm_password_new(const char *pw, size_t len, struct nrm_argon2 *a,
    unsigned char *tag, struct nrm_error *err) NRM_MUSTCHECK;

/* True when any of a's parameters or lengths is below the current one. */
bool nrm_password_outdated(const struct nrm_argon2 *a);

#endif /* NRM_PASSWORD_H */
