/*
 * totp.h - the second factor: RFC 6238 time-based one-time passwords,
 * the base32 and otpauth:// forms an authenticator app reads, and the
 * one-time recovery codes given at enrolment.
 *
 * TOTP: HMAC-SHA-1 (OpenSSL 3) over the 30-second time step since the
 * Unix epoch, dynamic truncation to 6 decimal digits (RFC 4226 5.3), a
 * 160-bit random secret.  A code is accepted for the current step and one
 * step either side (clock drift), and only for a step later than the last
 * one accepted for that person: the caller stores the step
 * nrm_totp_verify() returns and passes it back next time, so a code is
 * refused the second time it is used (replay).
 *
 * Recovery codes: NRM_RECOVERY_CODES codes of 16 characters (80 bits)
 * from a 32-letter alphabet without i, l, o and u, shown as
 * xxxx-xxxx-xxxx-xxxx.  A typed code is normalised (case folded, dashes
 * and spaces dropped, i and l read as 1, o as 0) and only SHA-256 of the
 * normalised form is stored; 80 bits keep an unsalted hash out of reach.
 *
 * Pure apart from the random number generator; no allocation.  Buffers
 * this module fills with a secret are the caller's to wipe; its own
 * copies are wiped.  Code comparisons are constant-time.
 */
#ifndef NRM_TOTP_H
#define NRM_TOTP_H

#include "nrm/nrm.h"

#define NRM_TOTP_SECRET_LEN 20 /* bytes: 160 bits, RFC 4226 4 R6 */
#define NRM_TOTP_SECRET_B32_LEN 32 /* base32 characters of the secret */
#define NRM_TOTP_DIGITS 6
#define NRM_TOTP_PERIOD 30 /* seconds */
#define NRM_TOTP_DRIFT 1 /* steps accepted either side */
#define NRM_TOTP_NO_STEP (-1) /* last step before any code was used */

#define NRM_RECOVERY_CODES 10
#define NRM_RECOVERY_CODE_CHARS 16 /* 80 bits, normalised length */
#define NRM_RECOVERY_CODE_LEN 19 /* as shown: four groups of four */

/* Room needed for the base32 (no padding) of n bytes, NUL included. */
#define NRM_BASE32_LEN(n) (((n)*8 + 4) / 5 + 1)

/* Fill secret[NRM_TOTP_SECRET_LEN] with random bytes; NRM_ERR if the RNG
 * fails. */
int nrm_totp_secret_new(unsigned char *secret) NRM_MUSTCHECK;

/*
 * RFC 4648 base32 (A-Z, 2-7) of n bytes into out[outsz], without
 * padding, NUL-terminated.  Returns the length, or -1 when out is
 * smaller than NRM_BASE32_LEN(n).
 */
int nrm_base32_encode(const void *in, size_t n, char *out, size_t outsz);

/*
 * Decode base32 in[0..n) (either case; padding optional, but when
 * present exactly what RFC 4648 prescribes; unused trailing bits zero)
 * into out[outsz].  Returns the length, or -1 when malformed or out is
 * too small.
 */
int nrm_base32_decode(
    const char *in, size_t n, unsigned char *out, size_t outsz) NRM_MUSTCHECK;

/*
 * HOTP (RFC 4226) of `counter` with `digits` (6 to 8) digits into *code.
 * TOTP is HOTP of the time step.  NRM_ERR only if OpenSSL fails or
 * digits is out of range.
 */
int nrm_hotp(const unsigned char *key, size_t keylen, uint64_t counter,
    int digits, uint32_t *code) NRM_MUSTCHECK;

/* The time step of Unix time `now` (seconds, >= 0): now / 30. */
int64_t nrm_totp_step(int64_t now);

/*
 * Parse a code as typed: exactly NRM_TOTP_DIGITS ASCII digits, spaces
 * allowed anywhere ("123 456"), at most 16 bytes.  NRM_ERR otherwise.
 */
int nrm_totp_parse_code(
    const char *s, size_t len, uint32_t *code) NRM_MUSTCHECK;

/* True when `step` may be accepted after `last_step` (NRM_TOTP_NO_STEP
 * before any): only a later step, never the same or an earlier one. */
bool nrm_totp_step_fresh(int64_t step, int64_t last_step);

/*
 * Verify the typed code `s` (len bytes) for the secret at Unix time `now`:
 * NRM_OK and the matched step in *step when it is the code of a step
 * within NRM_TOTP_DRIFT of now's and fresh after `last_step`.  NRM_ERR
 * for a malformed, wrong, expired or replayed code.  The caller stores
 * *step as the person's new last step.
 */
int nrm_totp_verify(const unsigned char *secret, size_t secretlen,
    const char *s, size_t len, int64_t now, int64_t last_step,
    int64_t *step) NRM_MUSTCHECK;

/*
 * The key URI an authenticator app scans:
 *   otpauth://totp/ISSUER:LOGIN?secret=B32&issuer=ISSUER&algorithm=SHA1
 *   &digits=6&period=30
 * with issuer and login percent-encoded (all but RFC 3986 unreserved
 * characters).  NRM_ERR when out[outsz] is too small.
 */
int nrm_totp_uri(const char *issuer, const char *login,
    const unsigned char *secret, char *out, size_t outsz) NRM_MUSTCHECK;

/* Fill codes[i] with NRM_RECOVERY_CODES fresh codes as shown to people
 * (xxxx-xxxx-xxxx-xxxx, NUL-terminated). */
int nrm_recovery_codes_new(
    char codes[][NRM_RECOVERY_CODE_LEN + 1], size_t n) NRM_MUSTCHECK;

/*
 * Normalise a typed recovery code into out[NRM_RECOVERY_CODE_CHARS + 1]:
 * lower case, without dashes and spaces, i and l as 1, o as 0.  NRM_ERR
 * when what is left is not 16 characters of the alphabet (input is
 * bounded at 64 bytes).
 */
int nrm_recovery_code_normalise(
    const char *s, size_t len, char *out) NRM_MUSTCHECK;

/* SHA-256 of the normalised code into out[32], what is stored and
 * looked up; NRM_ERR when the code does not normalise. */
int nrm_recovery_code_hash(
    const char *s, size_t len, unsigned char *out) NRM_MUSTCHECK;

/*
 * Enrolment codes (nrmctl person create|reset and the admin endpoints):
 * NRM_ENROLMENT_CODE_BYTES random bytes from OpenSSL's RNG as RFC 4648
 * base32 (NRM_ENROLMENT_CODE_LEN characters, upper case); only SHA-256
 * over those characters is stored.  A typed code is read in either case.
 */
#define NRM_ENROLMENT_CODE_BYTES 20
#define NRM_ENROLMENT_CODE_LEN 32

/* A fresh code into code[] and SHA-256 of it into hash[32]; NRM_ERR when
 * the RNG fails. */
int nrm_enrolment_code_new(char code[NRM_ENROLMENT_CODE_LEN + 1],
    unsigned char hash[32]) NRM_MUSTCHECK;

/* SHA-256 of a typed code (upper-cased) into hash[32]; NRM_ERR when it is
 * not NRM_ENROLMENT_CODE_LEN base32 characters. */
int nrm_enrolment_code_hash(
    const char *s, size_t len, unsigned char hash[32]) NRM_MUSTCHECK;

#endif /* NRM_TOTP_H */
