/*
 * webroot.c - load the console's static tree into memory and find files
 * in it by URL path (see webroot.h).
 */
#include "webroot.h"
#include "crypto.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct nrm_webroot {
	struct nrm_webfile *files; /* sorted by path once loaded */
	int n, cap;
	size_t bytes;
};

static const struct {
	const char *ext;
	const char *ctype;
} webroot_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".json", "application/json"},
    {".yaml", "application/yaml"},
    {".woff2", "font/woff2"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
};

const char *
nrm_webroot_ctype(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < NRM_ARRAY_LEN(webroot_types); i++) {
		size_t e = strlen(webroot_types[i].ext);

		if (n > e && strcmp(name + n - e, webroot_types[i].ext) == 0)
			return webroot_types[i].ctype;
	}
	return NULL;
}

/* A name the table may hold: [A-Za-z0-9._-], not starting with '.'. */
static bool
webroot_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < 128 && name[0] != '.' &&
	    strspn(name,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789._-") == n;
}

static bool
webroot_is_gz(const char *name)
{
	size_t n = strlen(name);

	return n > 3 && strcmp(name + n - 3, ".gz") == 0;
}

/* A regular file (not a link) at `path`: its size, or -1. */
static long long
webroot_regular(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return -1;
	return (long long)st.st_size;
}

static int
webroot_add(struct nrm_webroot *w, const char *fspath, const char *url,
    const char *ctype, struct nrm_error *err)
{
	struct nrm_webfile *f;
	char gzpath[4096];
	unsigned char md[32];
	char hex[65];
	char *buf = NULL;
	size_t len = 0;
	int rc = NRM_ERR;

	if (w->n >= NRM_WEBROOT_MAX_FILES) {
		nrm_error_set(err, NRM_E_VALIDATION, "web_root",
		    "web_root holds more than %d files", NRM_WEBROOT_MAX_FILES);
		goto out;
	}
	f = nrm_grow(w->files, &w->cap, w->n, sizeof(*f), 64);
	if (f == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, "web_root", "out of memory");
		goto out;
	}
	w->files = f;
	f = &w->files[w->n];
	memset(f, 0, sizeof(*f));
	if (nrm_read_file(fspath, NRM_WEBROOT_MAX_FILE, &buf, &len, "web_root",
		err) != NRM_OK)
		goto out;
	f->path = nrm_xstrdup(url);
	f->data = (unsigned char *)buf;
	f->len = len;
	f->ctype = ctype;
	w->n++; /* from here on nrm_webroot_free() releases f */
	w->bytes += len;
	nrm_sha256(f->data, f->len, md);
	nrm_hex(md, sizeof(md), hex);
	snprintf(f->etag, sizeof(f->etag), "\"%s\"", hex);
	snprintf(f->etag_gz, sizeof(f->etag_gz), "\"%s-gz\"", hex);
	if ((size_t)snprintf(gzpath, sizeof(gzpath), "%s.gz", fspath) <
		sizeof(gzpath) &&
	    webroot_regular(gzpath) >= 0) {
		buf = NULL;
		if (nrm_read_file(gzpath, NRM_WEBROOT_MAX_FILE, &buf, &len,
			"web_root", err) != NRM_OK)
			goto out;
		f->gz = (unsigned char *)buf;
		f->gz_len = len;
		w->bytes += len;
	}
	if (w->bytes > NRM_WEBROOT_MAX_TOTAL) {
		nrm_error_set(err, NRM_E_VALIDATION, "web_root",
		    "web_root holds more than %u bytes", NRM_WEBROOT_MAX_TOTAL);
		goto out;
	}
	rc = NRM_OK;
out:
	return rc;
}

/* Load the directory `fsdir`, whose URL prefix is `url` ("" for root). */
static int
webroot_walk(struct nrm_webroot *w, const char *fsdir, const char *url,
    int depth, struct nrm_error *err)
{
	DIR *d;
	struct dirent *de;
	int rc = NRM_ERR;

	d = opendir(fsdir);
	if (d == NULL) {
		nrm_error_set(err, NRM_E_VALIDATION, "web_root",
		    "could not read the directory %s (make web builds it; an "
		    "empty web_root serves no console)",
		    fsdir);
		return NRM_ERR;
	}
	while ((de = readdir(d)) != NULL) {
		char fspath[4096], sub[1024];
		const char *ctype;
		struct stat st;

		if (!webroot_name_ok(de->d_name)) {
			if (de->d_name[0] != '.')
				nrm_debug("web_root skips a file name");
			continue;
		}
		if ((size_t)snprintf(fspath, sizeof(fspath), "%s/%s", fsdir,
			de->d_name) >= sizeof(fspath) ||
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", url,
			de->d_name) >= sizeof(sub))
			continue;
		if (lstat(fspath, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth >= NRM_WEBROOT_MAX_DEPTH)
				continue;
			if (webroot_walk(w, fspath, sub, depth + 1, err) !=
			    NRM_OK)
				goto out;
			continue;
		}
		ctype = nrm_webroot_ctype(de->d_name);
		if (!S_ISREG(st.st_mode) || webroot_is_gz(de->d_name) ||
		    ctype == NULL)
			continue;
		if (webroot_add(w, fspath, sub, ctype, err) != NRM_OK)
			goto out;
	}
	rc = NRM_OK;
out:
	closedir(d);
	return rc;
}

static int
webroot_cmp(const void *a, const void *b)
{
	const struct nrm_webfile *x = a, *y = b;

	return strcmp(x->path, y->path);
}

int
nrm_webroot_load(
    struct nrm_webroot **out, const char *dir, struct nrm_error *err)
{
	struct nrm_webroot *w = nrm_xcalloc(1, sizeof(*w));
	char root[4096];
	size_t n = strlen(dir);

	*out = NULL;
	/* "build/web/" and "build/web" are the same root */
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(root)) {
		nrm_error_set(err, NRM_E_VALIDATION, "web_root",
		    "web_root is not a directory path");
		nrm_webroot_free(w);
		return NRM_ERR;
	}
	memcpy(root, dir, n);
	root[n] = '\0';
	if (webroot_walk(w, root, "", 0, err) != NRM_OK) {
		nrm_webroot_free(w);
		return NRM_ERR;
	}
	if (w->n > 0)
		qsort(w->files, (size_t)w->n, sizeof(*w->files), webroot_cmp);
	*out = w;
	return NRM_OK;
}

const struct nrm_webfile *
nrm_webroot_find(const struct nrm_webroot *w, const char *path)
{
	struct nrm_webfile key;

	if (w == NULL || w->n == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.path = (char *)(uintptr_t)path;
	return bsearch(
	    &key, w->files, (size_t)w->n, sizeof(*w->files), webroot_cmp);
}

size_t
nrm_webroot_count(const struct nrm_webroot *w)
{
	return w != NULL ? (size_t)w->n : 0;
}

size_t
nrm_webroot_bytes(const struct nrm_webroot *w)
{
	return w != NULL ? w->bytes : 0;
}

/*
 * True when Accept-Encoding admits gzip: "gzip" or "x-gzip" (or "*" when
 * gzip is not named) with a q-value above zero.
 */
bool
nrm_webroot_accepts_gzip(const char *ae)
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
bool
nrm_webroot_etag_match(const char *inm, const char *a, const char *b)
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

void
nrm_webroot_free(struct nrm_webroot *w)
{
	if (w == NULL)
		return;
	for (int i = 0; i < w->n; i++) {
		free(w->files[i].path);
		free(w->files[i].data);
		free(w->files[i].gz);
	}
	free(w->files);
	free(w);
}
