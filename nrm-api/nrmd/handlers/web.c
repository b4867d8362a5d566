/*
 * handlers/web.c - the console's files (GET/HEAD of any path no API
 * endpoint has, TLS listener only) and the API document (GET
 * /v1/openapi.yaml and .json, both listeners, no credential), all from
 * the in-memory tree of webroot.h: content type, strong ETag and 304,
 * Cache-Control: no-cache, the precompressed .gz when Accept-Encoding
 * allows it.  No path is ever built from the URL: it is looked up as is.
 */
#include "endpoints.h"
#include "http.h"
#include "webroot.h"

#include <event2/http.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

/*
 * True when Accept-Encoding admits gzip: "gzip" or "x-gzip" (or "*" when
 * gzip is not named) with a q-value above zero.
 */
static bool
web_accepts_gzip(const char *ae)
{
	int gzip = -1, star = -1; /* -1 unnamed, 0 refused, 1 admitted */

	while (ae != NULL && *ae != '\0') {
		const char *end = strchr(ae, ',');
		size_t n = end != NULL ? (size_t)(end - ae) : strlen(ae);
		char tok[64];
		char *q, *name;
		size_t k;
		int ok = 1;

		if (n < sizeof(tok)) {
			memcpy(tok, ae, n);
			tok[n] = '\0';
			name = tok + strspn(tok, " \t");
			k = strcspn(name, " \t;");
			q = strstr(name + k, "q=");
			if (q != NULL) {
				/* q=0, q=0.0, q=0.00, q=0.000 refuse */
				q += 2;
				ok = !(q[0] == '0' &&
				    (strchr(" \t;", q[1]) != NULL ||
					(q[1] == '.' &&
					    strspn(q + 2, "0") ==
						strcspn(q + 2, " \t;"))));
			}
			name[k] = '\0';
			if (strcasecmp(name, "gzip") == 0 ||
			    strcasecmp(name, "x-gzip") == 0)
				gzip = gzip == 1 ? 1 : ok;
			else if (strcmp(name, "*") == 0)
				star = ok;
		}
		ae = end != NULL ? end + 1 : NULL;
	}
	return gzip == 1 || (gzip == -1 && star == 1);
}

/*
 * True when If-None-Match names `a` or `b` (weak comparison: a W/ prefix
 * is ignored) or is "*".
 */
static bool
web_none_match(const char *inm, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (inm != NULL && *inm != '\0') {
		const char *end;
		size_t n;

		inm += strspn(inm, " \t,");
		if (*inm == '*')
			return true;
		if (strncmp(inm, "W/", 2) == 0)
			inm += 2;
		if (*inm != '"')
			return false;
		end = strchr(inm + 1, '"');
		if (end == NULL)
			return false;
		n = (size_t)(end - inm) + 1;
		if ((n == la && memcmp(inm, a, n) == 0) ||
		    (n == lb && memcmp(inm, b, n) == 0))
			return true;
		inm = end + 1;
	}
	return false;
}

/* Answer with file f (GET or HEAD). */
static void
web_send(struct nrm_req *r, const struct nrm_webfile *f)
{
	bool gz = f->gz != NULL &&
	    web_accepts_gzip(nrm_req_header(r, "Accept-Encoding"));
	const unsigned char *body = gz ? f->gz : f->data;
	size_t len = gz ? f->gz_len : f->len;

	r->cache_control = "no-cache";
	nrm_req_add_header(r, "ETag", gz ? f->etag_gz : f->etag);
	if (f->gz != NULL)
		nrm_req_add_header(r, "Vary", "Accept-Encoding");
	if (web_none_match(
		nrm_req_header(r, "If-None-Match"), f->etag, f->etag_gz)) {
		nrm_req_reply(r, 304, NULL, NULL, 0);
		return;
	}
	if (gz)
		nrm_req_add_header(r, "Content-Encoding", "gzip");
	nrm_req_reply(r, 200, f->ctype, (const char *)body, len);
}

/* A path the API owns: never a console file. */
static bool
web_api_path(const char *path)
{
	static const char *const api[] = {
	    "/v1", "/metrics", "/healthz", "/readyz"};

	for (size_t i = 0; i < NRM_ARRAY_LEN(api); i++) {
		size_t n = strlen(api[i]);

		if (strncmp(path, api[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '/'))
			return true;
	}
	return false;
}

void
nrm_h_static(struct nrm_req *r)
{
	/*
	 * The request target as sent, up to the query: the parsed URI would
	 * read "//x" as an authority, and nothing here decodes it.
	 */
	const char *uri = evhttp_request_get_uri(r->ev);
	size_t n = uri != NULL ? strcspn(uri, "?#") : 0;
	const struct nrm_webfile *f = NULL;
	char path[1024];

	if (n > 0 && n < sizeof(path) && uri[0] == '/') {
		memcpy(path, uri, n);
		path[n] = '\0';
	} else {
		path[0] = '\0';
	}
	/* The console needs the session cookie, which is TLS only. */
	if (path[0] == '/' && nrm_req_tls(r) && !web_api_path(path))
		f = nrm_webroot_find(
		    r->app->web, strcmp(path, "/") == 0 ? "/index.html" : path);
	if (f == NULL) {
		nrm_req_fail(r, NRM_E_NOT_FOUND, "", "no such resource");
		return;
	}
	web_send(r, f);
}

void
nrm_h_openapi(struct nrm_req *r)
{
	const struct nrm_webfile *f = NULL;
	const char *pattern = r->endpoint->pattern;

	/* "/v1/openapi.yaml" is "/openapi.yaml" in the tree */
	f = nrm_webroot_find(r->app->web, pattern + strlen("/v1"));
	if (f == NULL) {
		nrm_req_fail(r, NRM_E_NOT_FOUND, "",
		    "no API document (web_root is empty or unbuilt)");
		return;
	}
	web_send(r, f);
}
