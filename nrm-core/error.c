/*
 * error.c - the domain error, the stable names of error codes, the
 * name-table lookups and the array growth (see nrm.h).
 */
#include "nrm/nrm.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrm/utf8.h"

/* Indexed by enum nrm_errcode: the enum suffix in lower case. */
static const char *const err_names[NRM_E__COUNT] = {
    [NRM_E_NONE] = "none",
    [NRM_E_MALFORMED] = "malformed",
    [NRM_E_BAD_REQUEST] = "bad_request",
    [NRM_E_UNAUTHENTICATED] = "unauthenticated",
    [NRM_E_FORBIDDEN] = "forbidden",
    [NRM_E_NOT_FOUND] = "not_found",
    [NRM_E_METHOD] = "method",
    [NRM_E_CONFLICT] = "conflict",
    [NRM_E_PRECONDITION] = "precondition",
    [NRM_E_TOO_LARGE] = "too_large",
    [NRM_E_MEDIA_TYPE] = "media_type",
    [NRM_E_VALIDATION] = "validation",
    [NRM_E_IDEMPOTENCY] = "idempotency",
    [NRM_E_INTERNAL] = "internal",
    [NRM_E_UNAVAILABLE] = "unavailable",
    [NRM_E_TIMEOUT] = "timeout",
    [NRM_E_RETRY_LATER] = "retry_later",
    [NRM_E_RATE_LIMITED] = "rate_limited",
};

/* Copy src into dst[dstsz], cutting at a character boundary. */
static void
err_copy(char *dst, size_t dstsz, const char *src)
{
	size_t n = strlen(src);

	if (n >= dstsz)
		n = nrm_utf8_trim(src, dstsz - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * Fill *err.  A NULL err is allowed (the caller only wants NRM_ERR); a
 * NULL field or fmt leaves that part empty.  Over-long text is cut at a
 * UTF-8 character boundary so the result stays valid UTF-8.
 */
int
nrm_error_set(struct nrm_error *err, enum nrm_errcode code, const char *field,
    const char *fmt, ...)
{
	char buf[sizeof(err->detail) + 8];
	va_list ap;
	int n;

	if (err == NULL)
		return NRM_ERR;
	err->code = code;
	err_copy(err->field, sizeof(err->field), field != NULL ? field : "");
	buf[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		n = vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		if (n < 0)
			buf[0] = '\0';
	}
	err_copy(err->detail, sizeof(err->detail), buf);
	return NRM_ERR;
}

void
nrm_error_clear(struct nrm_error *err)
{
	if (err == NULL)
		return;
	err->code = NRM_E_NONE;
	err->field[0] = '\0';
	err->detail[0] = '\0';
}

const char *
nrm_errcode_name(enum nrm_errcode code)
{
	const char *name = nrm_name_at(err_names, NRM_E__COUNT, (int)code);

	return name != NULL ? name : "internal";
}

const char *
nrm_name_at(const char *const *names, size_t n, int i)
{
	return i < 0 || (size_t)i >= n ? NULL : names[i];
}

int
nrm_name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	}
	return -1;
}

static int
err_name_ref_cmp(const void *a, const void *b)
{
	const struct nrm_name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

void
nrm_name_refs_sort(struct nrm_name_ref *refs, size_t n)
{
	qsort(refs, n, sizeof(*refs), err_name_ref_cmp);
}

void *
nrm_grow(void *v, int *cap, int n, size_t size, int first)
{
	int ncap = *cap > 0 ? *cap : first;
	void *p;

	if (n < *cap)
		return v;
	if (*cap > 0) {
		if (*cap > INT_MAX / 2)
			return NULL;
		ncap = *cap * 2;
	}
	if ((size_t)ncap > SIZE_MAX / size)
		return NULL;
	p = realloc(v, (size_t)ncap * size);
	if (p != NULL)
		*cap = ncap;
	return p;
}
