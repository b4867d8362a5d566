/*
 * test_framing.c - the strict edge's head checks alone (framing.c, no
 * libevent): a table of heads as libevent 2.1 hands them over (names
 * keep white space before the colon, values are trimmed) and the answer
 * each gets.  The same heads over a raw socket are in
 * tests/e2e/test_http_edge.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <cmocka.h>

#include "unit.h"

#include <event2/keyvalq_struct.h>

#include "framing.h"

#define MAX_BODY 65536

struct head_case {
	const char *what;
	int minor; /* HTTP/1.minor; 10 + minor: a HEAD request */
	const char *headers[6][2];
	int status; /* 0: accepted */
	const char *field;
};

static const struct head_case cases[] = {
    {"plain GET", 1, {{"Host", "t"}}, 0, NULL},
    {"POST with a length", 1, {{"Host", "t"}, {"Content-Length", "12"}}, 0,
	NULL},
    {"chunked", 1, {{"Host", "t"}, {"transfer-encoding", "Chunked"}}, 0, NULL},
    {"HTTP/1.0 without Host", 0, {{"X-A", "b"}}, 0, NULL},
    {"length at the limit", 1, {{"Host", "t"}, {"Content-Length", "65536"}}, 0,
	NULL},
    {"no Host", 1, {{"Content-Length", "0"}}, 400, "Host"},
    {"two Hosts", 1, {{"Host", "a"}, {"Host", "b"}}, 400, "Host"},
    {"two differing lengths", 1,
	{{"Host", "t"}, {"Content-Length", "0"}, {"Content-Length", "40"}}, 400,
	"Content-Length"},
    {"two equal lengths", 1,
	{{"Host", "t"}, {"Content-Length", "5"}, {"Content-Length", "5"}}, 400,
	"Content-Length"},
    {"plus sign", 1, {{"Host", "t"}, {"Content-Length", "+0"}}, 400,
	"Content-Length"},
    {"minus sign", 1, {{"Host", "t"}, {"Content-Length", "-0"}}, 400,
	"Content-Length"},
    {"leading tab", 1, {{"Host", "t"}, {"Content-Length", "\t5"}}, 400,
	"Content-Length"},
    {"hex", 1, {{"Host", "t"}, {"Content-Length", "0x10"}}, 400,
	"Content-Length"},
    {"inner space", 1, {{"Host", "t"}, {"Content-Length", "5 5"}}, 400,
	"Content-Length"},
    {"empty length", 1, {{"Host", "t"}, {"Content-Length", ""}}, 400,
	"Content-Length"},
    {"twenty digits", 1,
	{{"Host", "t"}, {"Content-Length", "99999999999999999999"}}, 400,
	"Content-Length"},
    {"over the limit", 1, {{"Host", "t"}, {"Content-Length", "65537"}}, 413,
	"Content-Length"},
    {"space before the colon", 1,
	{{"Host", "t"}, {"Transfer-Encoding ", "chunked"}}, 400,
	"Transfer-Encoding"},
    {"tab before the colon", 1, {{"Host", "t"}, {"X-A\t", "1"}}, 400, "X-A"},
    {"space inside a name", 1, {{"Host", "t"}, {"X A", "1"}}, 400, "XA"},
    {"non-token name", 1, {{"Host", "t"}, {"X\"A", "1"}}, 400, "header"},
    {"length and coding", 1,
	{{"Host", "t"}, {"Content-Length", "3"},
	    {"Transfer-Encoding", "chunked"}},
	400, "Transfer-Encoding"},
    {"gzip, chunked", 1,
	{{"Host", "t"}, {"Transfer-Encoding", "gzip, chunked"}}, 400,
	"Transfer-Encoding"},
    {"chunked twice", 1,
	{{"Host", "t"}, {"Transfer-Encoding", "chunked"},
	    {"Transfer-Encoding", "chunked"}},
	400, "Transfer-Encoding"},
    {"unknown coding", 1, {{"Host", "t"}, {"Transfer-Encoding", "x"}}, 400,
	"Transfer-Encoding"},
    {"coding on HTTP/1.0", 0, {{"Transfer-Encoding", "chunked"}}, 400,
	"Transfer-Encoding"},
    {"HEAD", 11, {{"Host", "t"}}, 0, NULL},
    {"HEAD with length 0", 11, {{"Host", "t"}, {"Content-Length", "0"}}, 0,
	NULL},
    {"HEAD with a body", 11, {{"Host", "t"}, {"Content-Length", "40"}}, 400,
	"Content-Length"},
    {"HEAD chunked", 11, {{"Host", "t"}, {"Transfer-Encoding", "chunked"}}, 400,
	"Transfer-Encoding"},
};

static void
test_heads(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct head_case *c = &cases[i];
		struct evkeyvalq q;
		struct evkeyval kv[6];
		struct nrm_framing_error err;
		int rc;

		TAILQ_INIT(&q);
		for (int j = 0; j < 6 && c->headers[j][0] != NULL; j++) {
			kv[j].key = (char *)(uintptr_t)c->headers[j][0];
			kv[j].value = (char *)(uintptr_t)c->headers[j][1];
			TAILQ_INSERT_TAIL(&q, &kv[j], next);
		}
		rc = nrm_framing_check(
		    &q, 1, c->minor % 10, c->minor < 10, MAX_BODY, &err);
		printf("# %s\n", c->what);
		if (c->status == 0) {
			assert_int_equal(rc, NRM_OK);
			continue;
		}
		assert_int_equal(rc, NRM_ERR);
		assert_int_equal(err.status, c->status);
		assert_string_equal(err.field, c->field);
		assert_true(err.detail[0] != '\0');
	}
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_heads))
