/*
 * req.c - the request object's helpers for handlers: reading its headers,
 * parameters, query and body, and answering it (JSON, problem+json),
 * all through nrm_req_reply() (http.c), which sends and frees it.
 */
#include "http.h"
#include "log.h"
#include "problem.h"
#include "util.h"

#include "nrm/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

void
nrm_req_add_header(struct nrm_req *r, const char *name, const char *value)
{
	if (r->ev != NULL)
		evhttp_add_header(
		    evhttp_request_get_output_headers(r->ev), name, value);
}

void
nrm_req_json(
    struct nrm_req *r, int status, const char *json, const char *location)
{
	if (location != NULL)
		nrm_req_add_header(r, "Location", location);
	nrm_req_reply(r, status, "application/json", json, strlen(json));
}

void
nrm_req_json_obj(struct nrm_req *r, int status, const cJSON *o)
{
	char *out = cJSON_PrintUnformatted(o);

	if (out != NULL)
		nrm_req_json(r, status, out, NULL);
	else
		nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
	free(out);
}

void
nrm_req_problem_ext(struct nrm_req *r, const struct nrm_error *err,
    const char *key, const char *json)
{
	int status = nrm_problem_status(err->code);
	char *body = NULL;

	if (json != NULL)
		body = nrm_problem_json_ext(err, r->id, key, json);
	if (body == NULL)
		body = nrm_problem_json(err, r->id);
	if (status == 401)
		nrm_req_add_header(
		    r, "WWW-Authenticate", "Bearer realm=\"nrm\"");
	/*
	 * 503, and 409 retry_later (an earlier request with the same
	 * Idempotency-Key still holds its lock): the client retries the
	 * same request after this many seconds and learns the outcome.
	 */
	if (status == 503 || err->code == NRM_E_RETRY_LATER) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%d", r->app->cfg.retry_after);
		nrm_req_add_header(r, "Retry-After", ra);
	}
	if (status >= 500 || status == 401 || status == 403)
		nrm_info("request failed req=%s code=%s", r->id,
		    nrm_errcode_name(err->code));
	nrm_req_reply(r, status, "application/problem+json",
	    body != NULL ? body : "{}", body != NULL ? strlen(body) : 2);
	free(body);
}

void
nrm_req_problem(struct nrm_req *r, const struct nrm_error *err)
{
	nrm_req_problem_ext(r, err, NULL, NULL);
}

void
nrm_req_fail(struct nrm_req *r, enum nrm_errcode code, const char *field,
    const char *fmt, ...)
{
	struct nrm_error err;
	va_list ap;

	nrm_error_clear(&err);
	err.code = code;
	snprintf(
	    err.field, sizeof(err.field), "%s", field != NULL ? field : "");
	va_start(ap, fmt);
	vsnprintf(err.detail, sizeof(err.detail), fmt, ap);
	va_end(ap);
	nrm_req_problem(r, &err);
}

bool
nrm_req_tls(const struct nrm_req *r)
{
	return r->tls;
}

const char *
nrm_req_header(const struct nrm_req *r, const char *name)
{
	return evhttp_find_header(
	    evhttp_request_get_input_headers(r->ev), name);
}

const char *
nrm_req_uuid_param(const struct nrm_req *r)
{
	return nrm_uuid_valid(r->param) ? r->param : NRM_NIL_UUID;
}

int
nrm_req_if_match(struct nrm_req *r, const char *what, char *buf, size_t n)
{
	const char *h = nrm_req_header(r, "If-Match");
	char tmp[32];
	char *end;
	long v;
	size_t len;

	buf[0] = '\0';
	if (h == NULL || strcmp(h, "*") == 0)
		return NRM_OK;
	if (strncmp(h, "W/", 2) == 0)
		h += 2;
	len = strlen(h);
	if (len >= 2 && h[0] == '"' && h[len - 1] == '"') {
		h++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(tmp))
		goto out;
	memcpy(tmp, h, len);
	tmp[len] = '\0';
	errno = 0;
	v = strtol(tmp, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 2147483647)
		goto out;
	snprintf(buf, n, "%ld", v);
	return NRM_OK;
out:
	nrm_req_fail(r, NRM_E_BAD_REQUEST, "If-Match",
	    "If-Match must be %s (\"N\")", what);
	return NRM_ERR;
}

/* A header holding a code or absent (see nrm_req_purpose). */
static int
req_code_header(
    struct nrm_req *r, const char *name, const char *field, const char **out)
{
	const char *v = nrm_req_header(r, name);
	size_t n;

	*out = v;
	if (v == NULL)
		return NRM_OK;
	n = strlen(v);
	if (n >= 1 && n <= 64 && v[0] >= 'a' && v[0] <= 'z' &&
	    strspn(v, "abcdefghijklmnopqrstuvwxyz_") == n)
		return NRM_OK;
	nrm_req_fail(r, NRM_E_BAD_REQUEST, field,
	    "%s must be a lowercase code (a-z and _, at most 64)", name);
	return NRM_ERR;
}

int
nrm_req_purpose(struct nrm_req *r, const char **purpose, const char **reason)
{
	if (req_code_header(r, "NRM-Purpose", "purpose", purpose) != NRM_OK)
		return NRM_ERR;
	return req_code_header(r, "NRM-Reason", "reason", reason);
}

int
nrm_req_read_body(struct nrm_req *r, bool json)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
	size_t len = evbuffer_get_length(in);

	if (json) {
		const char *ct = nrm_req_header(r, "Content-Type");
		size_t n = strlen("application/json");

		if (ct == NULL || strncasecmp(ct, "application/json", n) != 0 ||
		    (ct[n] != '\0' && ct[n] != ';' && ct[n] != ' ')) {
			nrm_req_fail(r, NRM_E_MEDIA_TYPE, "Content-Type",
			    "the body must be application/json");
			return NRM_ERR;
		}
	}
	if (len > (size_t)r->app->cfg.max_body_size) {
		nrm_req_fail(r, NRM_E_TOO_LARGE, "",
		    "the body is larger than %d bytes",
		    r->app->cfg.max_body_size);
		return NRM_ERR;
	}
	r->body = nrm_xmalloc(len + 1);
	if (evbuffer_remove(in, r->body, len) != (int)len) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "could not read the body");
		return NRM_ERR;
	}
	r->body[len] = '\0';
	r->body_len = len;
	return NRM_OK;
}

int
nrm_req_body_object(struct nrm_req *r, bool empty_ok, const char *const *keys,
    int n, const cJSON **slot, cJSON **out)
{
	struct nrm_error err;

	*out = NULL;
	if ((!empty_ok || nrm_req_header(r, "Content-Type") != NULL) &&
	    nrm_req_read_body(r, true) != NRM_OK)
		return NRM_ERR;
	nrm_error_clear(&err);
	if (nrm_json_parse_object(out, r->body, r->body_len, empty_ok, keys, n,
		slot, &err) != NRM_OK) {
		nrm_req_problem(r, &err);
		return NRM_ERR;
	}
	return NRM_OK;
}

int
nrm_req_print_take(struct nrm_req *r, cJSON *root, char **out)
{
	*out = nrm_json_print_take(root, true);
	if (*out == NULL) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
		return NRM_ERR;
	}
	return NRM_OK;
}

int
nrm_req_body_text(struct nrm_req *r, char **out)
{
	cJSON *root;

	*out = NULL;
	if (nrm_req_body_object(r, false, NULL, -1, NULL, &root) != NRM_OK)
		return NRM_ERR;
	return nrm_req_print_take(r, root, out);
}

int
nrm_req_query(const struct nrm_req *r, struct evkeyvalq *out)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(r->ev);
	const char *q = u != NULL ? evhttp_uri_get_query(u) : NULL;

	TAILQ_INIT(out);
	if (q == NULL)
		return NRM_OK;
	return evhttp_parse_query_str(q, out) == 0 ? NRM_OK : NRM_ERR;
}

int
nrm_req_page_query(struct nrm_req *r, struct evkeyvalq *out,
    const char *const *known, size_t n)
{
	struct evkeyval *kv;
	const char *limit, *cursor;
	char field[64];
	size_t len;
	int rc = NRM_ERR;

	if (nrm_req_query(r, out) != NRM_OK) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "", "malformed query");
		goto out;
	}
	TAILQ_FOREACH(kv, out, next)
	{
		size_t i = 0;

		while (i < n && strcmp(kv->key, known[i]))
			i++;
		if (i == n) {
			snprintf(field, sizeof(field), "%.60s", kv->key);
			nrm_req_fail(r, NRM_E_BAD_REQUEST, field,
			    "unknown query parameter");
			goto out;
		}
	}
	limit = evhttp_find_header(out, "limit");
	cursor = evhttp_find_header(out, "cursor");
	len = limit != NULL ? strlen(limit) : 0;
	if (limit != NULL &&
	    (len < 1 || len > 3 || strspn(limit, "0123456789") != len)) {
		nrm_req_fail(
		    r, NRM_E_BAD_REQUEST, "limit", "limit must be 1 to 200");
		goto out;
	}
	if (cursor != NULL && !nrm_uuid_valid(cursor)) {
		nrm_req_fail(
		    r, NRM_E_BAD_REQUEST, "cursor", "the cursor is not valid");
		goto out;
	}
	rc = NRM_OK;
out:
	if (rc != NRM_OK)
		evhttp_clear_headers(out);
	return rc;
}
