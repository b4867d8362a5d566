/*
 * framing.c - the strict edge's checks of a request head (see
 * framing.h).
 */
#include "framing.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h>

/* RFC 9110 §5.6.2 token characters. */
static const char framing_tchar[] = "!#$%&'*+-.^_`|~0123456789"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz";

static int framing_fail(struct nrm_framing_error *err, int status,
    const char *field, const char *fmt, ...) NRM_PRINTF(4, 5);

static int
framing_fail(struct nrm_framing_error *err, int status, const char *field,
    const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	snprintf(err->field, sizeof(err->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return NRM_ERR;
}

/*
 * A header name with white space or another non-token character in it
 * (libevent keeps "Name :" as "Name ").  The field named in the answer
 * is the name without its white space when that is a token, so no
 * client byte other than token characters is echoed.
 */
static int
framing_name(const char *key, struct nrm_framing_error *err)
{
	char name[40];
	size_t n = 0;

	if (key[0] != '\0' && strspn(key, framing_tchar) == strlen(key))
		return NRM_OK;
	for (const char *p = key; *p != '\0' && n + 1 < sizeof(name); p++)
		if (*p != ' ' && *p != '\t')
			name[n++] = *p;
	name[n] = '\0';
	if (n == 0 || strspn(name, framing_tchar) != n)
		snprintf(name, sizeof(name), "header");
	return framing_fail(err, 400, name,
	    "a header name must be a token with no white space before the "
	    "colon");
}

int
nrm_framing_check(const struct evkeyvalq *headers, int major, int minor,
    bool reads_body, long long max_body, struct nrm_framing_error *err)
{
	const struct evkeyval *kv;
	const char *cl = NULL, *te = NULL;
	int n_cl = 0, n_te = 0, n_host = 0;
	long long len = 0;

	memset(err, 0, sizeof(*err));
	TAILQ_FOREACH(kv, headers, next)
	{
		if (framing_name(kv->key, err) != NRM_OK)
			return NRM_ERR;
		if (strcasecmp(kv->key, "Content-Length") == 0) {
			n_cl++;
			cl = kv->value;
		} else if (strcasecmp(kv->key, "Transfer-Encoding") == 0) {
			n_te++;
			te = kv->value;
		} else if (strcasecmp(kv->key, "Host") == 0) {
			n_host++;
		}
	}
	if (major == 1 && minor >= 1 && n_host == 0)
		return framing_fail(err, 400, "Host",
		    "an HTTP/1.1 request must carry a Host header");
	if (n_host > 1)
		return framing_fail(
		    err, 400, "Host", "a request carries one Host header");
	if (n_cl > 1)
		return framing_fail(err, 400, "Content-Length",
		    "a request carries at most one Content-Length header");
	if (n_te > 0 && n_cl > 0)
		return framing_fail(err, 400, "Transfer-Encoding",
		    "a request carries Content-Length or Transfer-Encoding, "
		    "not both");
	if (n_te > 1 || (te != NULL && strcasecmp(te, "chunked") != 0))
		return framing_fail(err, 400, "Transfer-Encoding",
		    "the only transfer coding accepted is chunked, alone");
	if (te != NULL && !(major == 1 && minor >= 1))
		return framing_fail(err, 400, "Transfer-Encoding",
		    "Transfer-Encoding needs HTTP/1.1");
	if (te != NULL && !reads_body)
		return framing_fail(err, 400, "Transfer-Encoding",
		    "this method carries no body");
	if (cl == NULL)
		return NRM_OK;
	/* the value without the white space around it (RFC 9110 §5.5) */
	if (cl[0] == '\0' || strspn(cl, "0123456789") != strlen(cl) ||
	    strlen(cl) > 15)
		return framing_fail(err, 400, "Content-Length",
		    "Content-Length must be decimal digits only");
	for (const char *p = cl; *p != '\0'; p++)
		len = len * 10 + (*p - '0');
	if (len > 0 && !reads_body)
		return framing_fail(
		    err, 400, "Content-Length", "this method carries no body");
	if (len > max_body)
		return framing_fail(err, 413, "Content-Length",
		    "the body is larger than %lld bytes", max_body);
	return NRM_OK;
}
