/*
 * test_webroot.c - the console's in-memory tree alone (webroot.c with
 * crypto.c, util.c, log.c and OpenSSL; no daemon, no libevent): what the
 * loader keeps and leaves out of a real directory, the table's keys,
 * ETags and gzip twins, the content types, and the Accept-Encoding and
 * If-None-Match readers.  The same served by nrmd: tests/e2e/
 * test_console_edge.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"

#include "webroot.h"

static char dir[64];

static void
put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
wr_setup(void **state)
{
	char path[256], target[256];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/nrm-webroot-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/js", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/.git", dir);
	mkdir(path, 0755);
	put("index.html", "<!doctype html>");
	put("js/a.js", "export {};");
	put("js/a.js.gz", "not really gzip");
	put("lone.txt.gz", "a twin without its file");
	put(".hidden.js", "x");
	put(".git/config.json", "{}");
	put("odd name.js", "x");
	put("tool.exe", "MZ");
	put("README", "no extension");
	put("secret.txt", "inside, but reached through a link too");
	snprintf(target, sizeof(target), "%s/secret.txt", dir);
	snprintf(path, sizeof(path), "%s/link.txt", dir);
	if (symlink(target, path) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/up", dir);
	if (symlink("/etc", path) != 0)
		return -1;
	return 0;
}

static int
wr_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_load_keeps_plain_files_of_known_types(void **state)
{
	struct nrm_webroot *w = NULL;
	struct nrm_error err;
	const struct nrm_webfile *f;

	(void)state;
	nrm_error_clear(&err);
	assert_int_equal(nrm_webroot_load(&w, dir, &err), NRM_OK);
	/* index.html, js/a.js, secret.txt: nothing else */
	assert_int_equal(nrm_webroot_count(w), 3);
	f = nrm_webroot_find(w, "/index.html");
	assert_non_null(f);
	assert_int_equal(f->len, strlen("<!doctype html>"));
	assert_memory_equal(f->data, "<!doctype html>", f->len);
	assert_string_equal(f->ctype, "text/html; charset=utf-8");
	assert_null(f->gz);
	/* SHA-256("<!doctype html>"), as sha256sum prints it */
	assert_string_equal(f->etag,
	    "\"fe26c59e91ac8de694b2531dc3bdc1b7faf471d3d7e4e00870af60f5f228"
	    "97cb\"");
	assert_string_equal(f->etag_gz,
	    "\"fe26c59e91ac8de694b2531dc3bdc1b7faf471d3d7e4e00870af60f5f228"
	    "97cb-gz\"");
	f = nrm_webroot_find(w, "/js/a.js");
	assert_non_null(f);
	assert_string_equal(f->ctype, "text/javascript; charset=utf-8");
	assert_non_null(f->gz);
	/* the ETag is SHA-256 of the bytes: printf 'export {};' | sha256sum */
	assert_string_equal(f->etag,
	    "\"2e29cd9a98755c46896f7a2d56524db2d6d96b248e36db46de14c30bf47c"
	    "8d05\"");
	assert_int_equal(f->gz_len, strlen("not really gzip"));
	assert_non_null(nrm_webroot_find(w, "/secret.txt"));
	/* left out */
	const char *absent[] = {"/", "", "/js", "/js/", "/js/a.js.gz",
	    "/lone.txt", "/lone.txt.gz", "/.hidden.js", "/.git/config.json",
	    "/odd name.js", "/tool.exe", "/README", "/link.txt", "/up/passwd",
	    "/index.html/", "//index.html", "/INDEX.HTML", "/./index.html",
	    "/js/../index.html", "/%69ndex.html"};
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		assert_null(nrm_webroot_find(w, absent[i]));
	nrm_webroot_free(w);
}

static void
test_trailing_slash_and_missing_root(void **state)
{
	struct nrm_webroot *w = NULL;
	struct nrm_error err;
	char root[80];

	(void)state;
	snprintf(root, sizeof(root), "%s//", dir);
	nrm_error_clear(&err);
	assert_int_equal(nrm_webroot_load(&w, root, &err), NRM_OK);
	assert_non_null(nrm_webroot_find(w, "/index.html"));
	nrm_webroot_free(w);
	w = NULL;
	snprintf(root, sizeof(root), "%s/absent", dir);
	assert_int_equal(nrm_webroot_load(&w, root, &err), NRM_ERR);
	assert_null(w);
	assert_string_equal(err.field, "web_root");
	nrm_error_clear(&err);
	assert_int_equal(nrm_webroot_load(&w, "", &err), NRM_ERR);
	assert_string_equal(err.field, "web_root");
}

static void
test_content_types(void **state)
{
	static const char *const table[][2] = {
	    {"a.html", "text/html; charset=utf-8"},
	    {"a.js", "text/javascript; charset=utf-8"},
	    {"a.mjs", "text/javascript; charset=utf-8"},
	    {"a.css", "text/css; charset=utf-8"},
	    {"a.svg", "image/svg+xml"},
	    {"a.json", "application/json"},
	    {"a.yaml", "application/yaml"},
	    {"a.woff2", "font/woff2"},
	    {"a.png", "image/png"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		assert_string_equal(
		    nrm_webroot_ctype(table[i][0]), table[i][1]);
	assert_null(nrm_webroot_ctype("a.exe"));
	assert_null(nrm_webroot_ctype("a.gz"));
	assert_null(nrm_webroot_ctype(".js"));
	assert_null(nrm_webroot_ctype("js"));
	assert_null(nrm_webroot_ctype("a.HTML"));
}

static void
test_accept_encoding(void **state)
{
	static const struct {
		const char *ae;
		bool gzip;
	} table[] = {
	    {"gzip", true},
	    {"GZip", true},
	    {"x-gzip", true},
	    {"gzip, deflate, br", true},
	    {"br;q=1.0, gzip;q=0.8", true},
	    {"gzip;q=0.001", true},
	    {"gzip ; q=1", true},
	    {"*", true},
	    {"*;q=0.5", true},
	    {"identity", false},
	    {"deflate, br", false},
	    {"gzip;q=0", false},
	    {"gzip;q=0.0", false},
	    {"gzip;q=0.000", false},
	    {"gzip;q=0 ", false},
	    {"*, gzip;q=0", false},
	    {"gzip;q=0, *", false},
	    {"*;q=0", false},
	    {"gzipx", false},
	    {"", false},
	    {NULL, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (nrm_webroot_accepts_gzip(table[i].ae) != table[i].gzip)
			fail_msg("Accept-Encoding %s", table[i].ae);
	}
}

static void
test_if_none_match(void **state)
{
	static const struct {
		const char *inm;
		bool match;
	} table[] = {
	    {"\"abc\"", true}, {"W/\"abc\"", true}, {"\"abc-gz\"", true},
	    {"\"x\", \"abc\"", true}, {"\"x\",W/\"abc-gz\"", true}, {"*", true},
	    {"\"ab\"", false}, {"\"abcd\"", false}, {"abc", false},
	    {"\"abc", false}, {"", false}, {NULL, false},
	    {"\"x\", abc, \"abc\"", false}, /* breaks at the bare tag */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (nrm_webroot_etag_match(table[i].inm, "\"abc\"",
			"\"abc-gz\"") != table[i].match)
			fail_msg("If-None-Match %s", table[i].inm);
	}
}

UNIT_MAIN(wr_setup, wr_teardown,
    cmocka_unit_test(test_load_keeps_plain_files_of_known_types),
    cmocka_unit_test(test_trailing_slash_and_missing_root),
    cmocka_unit_test(test_content_types),
    cmocka_unit_test(test_accept_encoding),
    cmocka_unit_test(test_if_none_match))
