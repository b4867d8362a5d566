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

/* Answer with file f (GET or HEAD). */
static void
web_send(struct nrm_req *r, const struct nrm_webfile *f)
{
	bool gz = f->gz != NULL &&
	    nrm_webroot_accepts_gzip(nrm_req_header(r, "Accept-Encoding"));
	const unsigned char *body = gz ? f->gz : f->data;
	size_t len = gz ? f->gz_len : f->len;

	r->cache_control = "no-cache";
	nrm_req_add_header(r, "ETag", gz ? f->etag_gz : f->etag);
	if (f->gz != NULL)
		nrm_req_add_header(r, "Vary", "Accept-Encoding");
	if (nrm_webroot_etag_match(
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
