/*
 * nrm.h - definitions shared by every nrm module: result codes, the
 * domain error that travels from validation to the HTTP edge, and the
 * small helpers every file needs.
 *
 * Contract: nothing here does I/O.  A function that can fail returns
 * NRM_OK or NRM_ERR and, when it takes a struct nrm_error *, fills it on
 * NRM_ERR.  The mapping from enum nrm_errcode to an HTTP status and an
 * RFC 9457 problem type lives in exactly one place: nrm-api/problem.c.
 */
#ifndef NRM_NRM_H
#define NRM_NRM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NRM_OK 0
#define NRM_ERR (-1)

#define NRM_MUSTCHECK __attribute__((warn_unused_result))
#define NRM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define NRM_UNUSED(x) ((void)(x))
#define NRM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The object that embeds `ptr` as its `member` (libevent structs). */
#define nrm_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))
/* The same for a const `ptr`: a const object. */
#define nrm_container_of_const(ptr, type, member) \
	((const type *)(const void *)((const char *)(ptr)-offsetof( \
	    type, member)))

/*
 * FNV-1a (64 bits) over n bytes at p, continuing from h (start with
 * NRM_FNV1A64_BASIS): the one hash of in-memory tables and grouping
 * keys.  Not for anything an adversary may choose to collide.
 */
#define NRM_FNV1A64_BASIS UINT64_C(0xcbf29ce484222325)
static inline uint64_t
nrm_fnv1a64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * UINT64_C(0x100000001b3);
	return h;
}

/* Kinds of failure a request can meet; each maps to one HTTP status. */
enum nrm_errcode {
	NRM_E_NONE = 0,
	NRM_E_MALFORMED, /* 400: body is not JSON / not UTF-8 */
	NRM_E_BAD_REQUEST, /* 400: bad header or query parameter */
	NRM_E_UNAUTHENTICATED, /* 401 */
	NRM_E_FORBIDDEN, /* 403 */
	NRM_E_NOT_FOUND, /* 404 */
	NRM_E_METHOD, /* 405 */
	NRM_E_CONFLICT, /* 409: state conflict */
	NRM_E_PRECONDITION, /* 412 */
	NRM_E_TOO_LARGE, /* 413 */
	NRM_E_MEDIA_TYPE, /* 415 */
	NRM_E_VALIDATION, /* 422: well-formed but invalid field */
	NRM_E_IDEMPOTENCY, /* 422: same key, different body */
	NRM_E_INTERNAL, /* 500 */
	NRM_E_UNAVAILABLE, /* 503: database down, shutting down */
	NRM_E_TIMEOUT, /* 503: a query took too long */
	NRM_E_RETRY_LATER, /* 409: same Idempotency-Key in flight: retry */
	NRM_E_RATE_LIMITED, /* 429: a rate limit (guard.h): Retry-After */
	NRM_E__COUNT
};

/*
 * A domain error.  `field` is a JSON path ("subject.birth_date",
 * "exploitation[2]") or a header/parameter name, empty when no single
 * field is at fault.  `detail` is for people; it never holds a value the
 * client sent (it could be personal data), only what was expected.
 */
struct nrm_error {
	enum nrm_errcode code;
	char field[128];
	char detail[256];
};

/* Fill *err (if not NULL); always returns NRM_ERR for `return` chaining. */
int nrm_error_set(struct nrm_error *err, enum nrm_errcode code,
    const char *field, const char *fmt, ...) NRM_PRINTF(4, 5);

/* Reset to NRM_E_NONE with empty strings. */
void nrm_error_clear(struct nrm_error *err);

/* Stable lowercase name of a code ("validation"), used in problem types. */
const char *nrm_errcode_name(enum nrm_errcode code);

/*
 * Name tables: an enum's wire names indexed by its values (NULL for a
 * value without a name).  These two lookups serve every name getter
 * and parser.
 */

/* names[i], or NULL when i is outside [0, n). */
const char *nrm_name_at(const char *const *names, size_t n, int i);

/* Index of s in names[0..n) (NULL entries skipped), or -1. */
int nrm_name_index(const char *const *names, size_t n, const char *s);

/* A name and where it stands, for finding a name given twice. */
struct nrm_name_ref {
	const char *name;
	int index;
};

/* Sort refs[0..n) by name, equal names in index order. */
void nrm_name_refs_sort(struct nrm_name_ref *refs, size_t n);

/*
 * Room for one more element in the array `v` of *cap elements of `size`
 * bytes, n of them used: v itself while n < *cap, else v reallocated to
 * twice *cap elements (`first` when *cap is 0) with *cap updated.  NULL
 * when memory runs out; v is then unchanged and still the caller's.
 */
void *nrm_grow(void *v, int *cap, int n, size_t size, int first) NRM_MUSTCHECK;

#endif /* NRM_NRM_H */
