/*
 * payload.c - the api.intake() arguments nrmd derives from one request
 * body, for the pgbench side of `make bench`.
 *
 *   payload BODY.json MUNICIPALITIES.csv PSEUDONYM.key OUTDIR
 *
 * Runs the same nrm-core code as nrmd's intake handler
 * (nrm-api/handler_signals.c): nrm_signal_parse() with the default
 * limits, nrm_route() with the foundation router, the facts / subject /
 * canonical / decision JSON encodings, SHA-256 of the canonical JSON
 * (the request hash) and HMAC-SHA-256 of the pseudonym input with the
 * deployment key.  Writes one file per parameter into OUTDIR, without a
 * trailing newline:
 *
 *   facts.json subject.json route.json   ($6 $7 $9, text)
 *   request_hash.hex pseudonym.hex       ($5 $8, "\x..." bytea literals)
 *
 * Benchmark tooling only: the body is synthetic test data.
 */
#include "crypto.h"
#include "geo.h"
#include "route.h"
#include "signal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = (cap + 4096) * 2;
			buf = realloc(buf, cap);
			if (buf == NULL) {
				fputs("payload: out of memory\n", stderr);
				exit(1);
			}
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		perror(path);
		exit(1);
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
put(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* "\x" + 64 hex digits: a bytea literal in PostgreSQL's hex format. */
static void
put_bytea(const char *dir, const char *name, const unsigned char b[32])
{
	char hex[65], lit[70];

	nrm_hex(b, 32, hex);
	snprintf(lit, sizeof(lit), "\\x%s", hex);
	put(dir, name, lit);
}

static void
parse_key(const char *text, unsigned char key[32])
{
	const char *p = text;

	while (isspace((unsigned char)*p))
		p++;
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)p[i])) {
			fputs("payload: the key file must hold 64 hex "
			      "characters\n",
			    stderr);
			exit(1);
		}
	for (int i = 0; i < 32; i++) {
		char h[3] = { p[2 * i], p[2 * i + 1], '\0' };

		key[i] = (unsigned char)strtoul(h, NULL, 16);
	}
}

int
main(int argc, char **argv)
{
	struct nrm_signal_limits lim;
	struct nrm_geo *geo;
	struct nrm_router *router;
	struct nrm_signal s;
	struct nrm_decision dec;
	struct nrm_error err;
	unsigned char key[32], req_hash[32], pseud[32];
	char *body, *csv, *keytext, *facts, *subject, *canon, *route;
	char pin[1024];
	size_t body_len, csv_len, key_len, pin_len;

	if (argc != 5) {
		fputs("usage: payload BODY.json MUNICIPALITIES.csv "
		      "PSEUDONYM.key OUTDIR\n",
		    stderr);
		return 2;
	}
	body = slurp(argv[1], &body_len);
	csv = slurp(argv[2], &csv_len);
	keytext = slurp(argv[3], &key_len);
	parse_key(keytext, key);

	nrm_error_clear(&err);
	if (nrm_geo_parse_csv(&geo, csv, csv_len, &err) != NRM_OK ||
	    nrm_router_new_foundation(&router, geo, &err) != NRM_OK) {
		fprintf(stderr, "payload: %s: %s %s\n", argv[2], err.field,
		    err.detail);
		return 1;
	}
	nrm_signal_limits_default(&lim);
	if (nrm_signal_parse(&s, body, body_len, &lim, geo,
	    (int64_t)time(NULL), &err) != NRM_OK) {
		fprintf(stderr, "payload: %s is not a valid signal: %s %s\n",
		    argv[1], err.field, err.detail);
		return 1;
	}
	if (s.notification_only) {
		/* nrmd would send SQL NULL for $7 and $8; keep it simple. */
		fputs("payload: use a body that creates a case\n", stderr);
		return 1;
	}
	nrm_route(router, &s, &dec);
	facts = nrm_signal_facts_json(&s);
	subject = nrm_signal_subject_json(&s);
	canon = nrm_signal_canonical_json(&s);
	route = nrm_decision_json(&dec);
	if (facts == NULL || subject == NULL || canon == NULL ||
	    route == NULL) {
		fputs("payload: out of memory\n", stderr);
		return 1;
	}
	nrm_sha256(canon, strlen(canon), req_hash);
	pin_len = nrm_signal_pseudonym_input(&s, pin, sizeof(pin));
	if (pin_len == 0) {
		fputs("payload: use a body with a family name and a birth "
		      "date (so nrmd sends a pseudonym)\n",
		    stderr);
		return 1;
	}
	if (nrm_hmac_sha256(key, sizeof(key), pin, pin_len, pseud) !=
	    NRM_OK) {
		fputs("payload: HMAC failed\n", stderr);
		return 1;
	}

	put(argv[4], "facts.json", facts);
	put(argv[4], "subject.json", subject);
	put(argv[4], "route.json", route);
	put_bytea(argv[4], "request_hash.hex", req_hash);
	put_bytea(argv[4], "pseudonym.hex", pseud);

	free(facts);
	free(subject);
	free(canon);
	free(route);
	nrm_signal_free(&s);
	nrm_router_free(router);
	nrm_geo_free(geo);
	free(body);
	free(csv);
	free(keytext);
	return 0;
}
