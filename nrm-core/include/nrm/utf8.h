/*
 * utf8.h - strict UTF-8 validation and decoding.
 *
 * "Strict" means RFC 3629 exactly: no overlong forms, no UTF-16
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, and, in addition,
 * no NUL byte (a NUL would silently truncate C strings downstream).
 * Pure: no I/O, no allocation.
 */
#ifndef NRM_UTF8_H
#define NRM_UTF8_H

#include "nrm/nrm.h"

/* True when s[0..len) is strict UTF-8 without NUL bytes. */
bool nrm_utf8_valid(const char *s, size_t len);

/*
 * Decode the code point at s[*pos] (pos < len) and advance *pos past it.
 * Returns the code point, or -1 (and leaves *pos unchanged) when the
 * bytes there are not a strict UTF-8 sequence.  NUL decodes as 0.
 */
int32_t nrm_utf8_next(const char *s, size_t len, size_t *pos);

/*
 * The length of the longest prefix of s[0..len) that does not end inside
 * a multi-byte sequence, for truncating valid UTF-8 without breaking a
 * character.  Assumes s is otherwise valid UTF-8.
 */
size_t nrm_utf8_trim(const char *s, size_t len);

/*
 * A word: 1..max bytes of ASCII letters, digits and the characters in
 * `extra` (ids, codes, labels, keys shown in paths).
 */
bool nrm_ascii_word(const char *s, size_t max, const char *extra);

#endif /* NRM_UTF8_H */
