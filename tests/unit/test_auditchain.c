/*
 * test_auditchain.c - the audit chain's shared formats
 * (nrm-api/common/auditchain.c), table-driven: the checkpoint message
 * and what it refuses, checkpoint lines that parse and round-trip and
 * those that do not, the canonical event bytes, and Ed25519 signing and
 * verifying with a generated key (a tampered checkpoint fails); and
 * nrmd's checkpoint file (nrm-api/nrmd/checkpoint.c) on top of them:
 * what it appends is what the shared parser reads and verifies, and a
 * file the parser refuses is refused at start-up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auditchain.h"
#include "checkpoint.h"
#include "crypto.h"

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SIG88 \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AAAAAAAAAAAAAAAAAAAAAA=="

static void
test_message(void **state)
{
	static const struct {
		int64_t pos;
		const char *hash;
		const char *at;
		const char *want; /* NULL: refused */
	} cases[] = {
	    {42, H64, "2030-01-01T00:00:00Z",
		"nrm-audit-checkpoint\n42\n" H64 "\n2030-01-01T00:00:00Z"},
	    {0, H64, "x", "nrm-audit-checkpoint\n0\n" H64 "\nx"},
	    {NRM_AUDIT_POS_MAX, H64, "t",
		"nrm-audit-checkpoint\n9007199254740992\n" H64 "\nt"},
	    /* a newline would let one message stand for another */
	    {42, H64, "2030-01-01\n00:00:00Z", NULL},
	    {42, H64, "2030-01-01T00:00:00Z\n", NULL},
	    {42, H64, "2030-01-01\r00:00:00Z", NULL},
	    {42, H64, "2030\t01", NULL},
	    {42, H64, "2030-01-01T00:00:00\xc3\xa9", NULL},
	    {42, H64, "", NULL},
	    {42, H64,
		"0123456789012345678901234567890123456789012345678901234567890"
		"1234",
		NULL},
	    {-1, H64, "t", NULL},
	    {NRM_AUDIT_POS_MAX + 1, H64, "t", NULL},
	    {42, "0123", "t", NULL},
	    {42,
		"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789ab"
		"cdef",
		"t", NULL},
	    {42, H64 "0", "t", NULL},
	};
	char buf[NRM_AUDIT_CP_MSG_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = nrm_audit_cp_message(
		    cases[i].pos, cases[i].hash, cases[i].at, buf, sizeof(buf));

		if (cases[i].want == NULL) {
			if (n != -1)
				fail_msg("case %zu accepted: %s", i, buf);
			continue;
		}
		assert_int_equal(n, (int)strlen(cases[i].want));
		assert_string_equal(buf, cases[i].want);
	}
	/* too small a buffer is refused, never cut */
	assert_int_equal(nrm_audit_cp_message(42, H64, "t", buf, 20), -1);
}

static void
test_parse_ok_and_round_trip(void **state)
{
	static const char *const lines[] = {
	    "{\"pos\":42,\"hash\":\"" H64 "\",\"at\":\"2030-01-01T00:00:00Z\","
	    "\"sig\":\"" SIG88 "\"}",
	    /* as the openssl test writes it: spaces, another order */
	    "{\"sig\": \"" SIG88 "\", \"at\": \"t\", \"hash\": \"" H64 "\", "
	    "\"pos\": 0}",
	    "  {\"pos\":9007199254740992,\"hash\":\"" H64 "\",\"at\":\"t\","
	    "\"sig\":\"abc\"}  ",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct nrm_audit_cp cp, again;
		const char *why = NULL;
		char *line;

		assert_int_equal(
		    nrm_audit_cp_parse(lines[i], &cp, &why), NRM_OK);
		assert_string_equal(cp.hash, H64);
		line = nrm_audit_cp_line(&cp);
		assert_non_null(line);
		assert_int_equal(
		    nrm_audit_cp_parse(line, &again, &why), NRM_OK);
		assert_int_equal(again.pos, cp.pos);
		assert_string_equal(again.hash, cp.hash);
		assert_string_equal(again.at, cp.at);
		assert_string_equal(again.sig, cp.sig);
		/* the line format: these members, this order, no spaces */
		assert_int_equal(strncmp(line, "{\"pos\":", 7), 0);
		assert_non_null(
		    strstr(line, ",\"hash\":\"" H64 "\",\"at\":\""));
		assert_null(strchr(line, ' '));
		assert_null(strchr(line, '\n'));
		free(line);
	}
}

static void
test_parse_errors(void **state)
{
	static const struct {
		const char *line;
		const char *why;
	} cases[] = {
	    {"", "not a JSON object"},
	    {"[1]", "not a JSON object"},
	    {"{\"pos\":1,\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":\"a\"} x",
		"not a JSON object"},
	    {"{\"pos\":1,\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":\"a\"}{}",
		"not a JSON object"},
	    {"{\"pos\":1,\"pos\":2,\"hash\":\"" H64 "\",\"at\":\"t\","
	     "\"sig\":\"a\"}",
		"a member appears twice"},
	    {"{\"pos\":1,\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":\"a\","
	     "\"note\":1}",
		"unknown member (pos, hash, at, sig only)"},
	    {"{\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":\"a\"}",
		"\"pos\" is not an integer >= 0"},
	    {"{\"pos\":-1,\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":\"a\"}",
		"\"pos\" is not an integer >= 0"},
	    {"{\"pos\":1.5,\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":\"a\"}",
		"\"pos\" is not an integer >= 0"},
	    {"{\"pos\":\"1\",\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":\"a\"}",
		"\"pos\" is not an integer >= 0"},
	    {"{\"pos\":1e300,\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":\"a\"}",
		"\"pos\" is not an integer >= 0"},
	    {"{\"pos\":1,\"hash\":\"ABC\",\"at\":\"t\",\"sig\":\"a\"}",
		"\"hash\" is not 64 lowercase hex digits"},
	    {"{\"pos\":1,\"hash\":7,\"at\":\"t\",\"sig\":\"a\"}",
		"\"hash\" is not 64 lowercase hex digits"},
	    {"{\"pos\":1,\"hash\":\"" H64 "\",\"at\":\"a\\nb\",\"sig\":\"a\"}",
		"\"at\" is not a time string"},
	    {"{\"pos\":1,\"hash\":\"" H64 "\",\"at\":\"\",\"sig\":\"a\"}",
		"\"at\" is not a time string"},
	    {"{\"pos\":1,\"hash\":\"" H64
	     "\",\"at\":\"\\u00e9\",\"sig\":\"a\"}",
		"\"at\" is not a time string"},
	    {"{\"pos\":1,\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":\"\"}",
		"\"sig\" is not a base64 string"},
	    {"{\"pos\":1,\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":null}",
		"\"sig\" is not a base64 string"},
	    {"{\"pos\":1,\"hash\":\"" H64
	     "\",\"at\":\"t\",\"sig\":\"" SIG88 SIG88 "\"}",
		"\"sig\" is not a base64 string"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nrm_audit_cp cp;
		const char *why = NULL;

		if (nrm_audit_cp_parse(cases[i].line, &cp, &why) != NRM_ERR)
			fail_msg("case %zu accepted: %s", i, cases[i].line);
		assert_string_equal(why, cases[i].why);
	}
}

static void
test_canonical(void **state)
{
	const char *fields[NRM_AUDIT_FIELDS] = {"7", "2030-01-01T00:00:00Z"};
	unsigned char *c = NULL;
	unsigned char g[32];
	char hex[65];
	size_t n = 0;

	(void)state;
	assert_int_equal(nrm_audit_canonical(fields, &c, &n), NRM_OK);
	/* tag, "7", the time, then 11 NULLs */
	assert_int_equal(n, 4 + 18 + 4 + 1 + 4 + 20 + 11 * 4);
	assert_memory_equal(c,
	    "\0\0\0\x12nrm.audit.event.v1\0\0\0\x01"
	    "7",
	    27);
	assert_memory_equal(c + n - 4, "\xff\xff\xff\xff", 4);
	free(c);
	/* with a person: tag v2, and person_id as a 14th field */
	fields[NRM_AUDIT_FIELDS - 1] = "p";
	assert_int_equal(nrm_audit_canonical(fields, &c, &n), NRM_OK);
	assert_int_equal(n, 4 + 18 + 4 + 1 + 4 + 20 + 11 * 4 + 4 + 1);
	assert_memory_equal(c, "\0\0\0\x12nrm.audit.event.v2", 22);
	assert_memory_equal(c + n - 5, "\0\0\0\x01p", 5);
	free(c);
	nrm_audit_genesis(g);
	nrm_hex(g, 32, hex);
	/* sha256("nrm-audit-chain-v1"), as audit.genesis() */
	nrm_sha256("nrm-audit-chain-v1", 18, g);
	{
		char want[65];

		nrm_hex(g, 32, want);
		assert_string_equal(hex, want);
	}
}

/* Write `key`'s PEM (private or public) to a temporary file. */
static void
write_pem(EVP_PKEY *key, bool priv, char *path)
{
	FILE *f;
	int fd;

	strcpy(path, "/tmp/test_auditchain.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	if (priv)
		assert_int_equal(
		    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	else
		assert_int_equal(PEM_write_PUBKEY(f, key), 1);
	fclose(f);
}

/*
 * The setting of the tests of nrmd's checkpoint file: a generated
 * Ed25519 key in two PEM files (private, public) and a fresh directory
 * for the file `path` (dir/cp.jsonl); the teardown removes them all (a
 * test removes what else it writes there).
 */
struct ac_files {
	EVP_PKEY *gen;
	char key_path[64], pub_path[64];
	char dir[32];
	char path[64];
};

static int
ac_files_setup(void **state)
{
	struct ac_files *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->gen = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(fx->gen);
	strcpy(fx->dir, "/tmp/test_auditchain.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/cp.jsonl", fx->dir);
	write_pem(fx->gen, true, fx->key_path);
	write_pem(fx->gen, false, fx->pub_path);
	*state = fx;
	return 0;
}

static int
ac_files_teardown(void **state)
{
	struct ac_files *fx = *state;

	EVP_PKEY_free(fx->gen);
	unlink(fx->path);
	unlink(fx->key_path);
	unlink(fx->pub_path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void
test_sign_verify(void **state)
{
	EVP_PKEY *gen = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *priv, *pub;
	char priv_path[64], pub_path[64];
	struct nrm_audit_cp cp, t, bad[6];
	struct nrm_error err;

	(void)state;
	assert_non_null(gen);
	assert_non_null(other);
	write_pem(gen, true, priv_path);
	write_pem(gen, false, pub_path);
	priv = nrm_audit_key_load(priv_path, true, "k", &err);
	pub = nrm_audit_key_load(pub_path, false, NULL, &err);
	assert_non_null(priv);
	assert_non_null(pub);
	/* a public key is not a private one, and the other way round */
	assert_null(nrm_audit_key_load(pub_path, true, "k", &err));
	assert_string_equal(err.field, "k");
	assert_non_null(strstr(err.detail, "not a PEM Ed25519 private key"));
	assert_null(nrm_audit_key_load(priv_path, false, NULL, &err));
	assert_non_null(strstr(err.detail, "not a PEM Ed25519 public key"));
	assert_null(nrm_audit_key_load("/nonexistent/k.pem", true, NULL, &err));
	assert_int_equal(strncmp(err.detail, "could not open key ", 19), 0);

	memset(&cp, 0, sizeof(cp));
	cp.pos = 150;
	strcpy(cp.hash, H64);
	strcpy(cp.at, "2030-01-01T00:00:00Z");
	assert_int_equal(nrm_audit_cp_sign(priv, &cp), NRM_OK);
	assert_int_equal(strlen(cp.sig), 88);
	assert_true(nrm_audit_cp_verify(pub, &cp));
	assert_true(nrm_audit_cp_verify(priv, &cp));
	assert_false(nrm_audit_cp_verify(other, &cp));
	/* unpadded base64 is the same signature */
	t = cp;
	t.sig[86] = '\0';
	assert_true(nrm_audit_cp_verify(pub, &t));
	/* every tampered part fails */
	for (size_t i = 0; i < NRM_ARRAY_LEN(bad); i++)
		bad[i] = cp;
	bad[0].pos = 151;
	bad[1].hash[0] = '1';
	bad[2].at[3] = '1';
	bad[3].sig[10] = cp.sig[10] == 'A' ? 'B' : 'A';
	bad[4].sig[40] = '!';
	bad[5].sig[20] = '\0';
	for (size_t i = 0; i < NRM_ARRAY_LEN(bad); i++)
		if (nrm_audit_cp_verify(pub, &bad[i]))
			fail_msg("tampered checkpoint %zu verifies", i);
	/* what the message cannot carry is never signed */
	t = cp;
	strcpy(t.at, "2030-01-01\n00:00:00Z");
	assert_int_equal(nrm_audit_cp_sign(priv, &t), NRM_ERR);

	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(gen);
	EVP_PKEY_free(other);
	unlink(priv_path);
	unlink(pub_path);
}

static void
test_cps_load(void **state)
{
	static const struct {
		const char *text;
		int n; /* checkpoints read, -1: refused */
		const char *detail; /* the refusal names line and reason */
	} cases[] = {
	    {"", 0, NULL},
	    {"\n  \n\t\n", 0, NULL},
	    {"{\"pos\":1,\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":\"a\"}\r\n"
	     "\n"
	     "{\"pos\":2,\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":\"a\"}",
		2, NULL},
	    {"{\"pos\":1,\"hash\":\"" H64 "\",\"at\":\"t\",\"sig\":\"a\"}\n"
	     "\n"
	     "{\"pos\":2,\"hash\":\"" H64 "\"}\n",
		-1, ": line 3: \"at\" is not a time string"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nrm_audit_cps cps = {NULL, 0, 0};
		struct nrm_error err;
		char path[] = "/tmp/test_auditchain.XXXXXX";
		int fd = mkstemp(path);
		int rc;

		assert_true(fd >= 0);
		assert_int_equal(
		    write(fd, cases[i].text, strlen(cases[i].text)),
		    (ssize_t)strlen(cases[i].text));
		close(fd);
		rc = nrm_audit_cps_load(path, NULL, &cps, "f", &err);
		if (cases[i].n < 0) {
			assert_int_equal(rc, NRM_ERR);
			assert_string_equal(err.field, "f");
			assert_non_null(strstr(err.detail, cases[i].detail));
			assert_null(cps.v);
		} else {
			assert_int_equal(rc, NRM_OK);
			assert_int_equal(cps.n, (size_t)cases[i].n);
			if (cps.n == 2) {
				assert_int_equal(cps.v[0].line, 1);
				assert_int_equal(cps.v[1].line, 3);
				assert_int_equal(cps.v[1].pos, 2);
			}
		}
		nrm_audit_cps_free(&cps);
		unlink(path);
	}
}

static void
test_nrmd_checkpoints(void **state)
{
	struct ac_files *fx = *state;
	const char *key_path = fx->key_path, *pub_path = fx->pub_path;
	const char *path = fx->path;
	struct nrm_checkpoints *cps = NULL;
	struct nrm_audit_cps read = {NULL, 0, 0};
	struct nrm_error err;
	EVP_PKEY *pub;
	char *json;
	FILE *f;

	pub = nrm_audit_key_load(pub_path, false, NULL, &err);
	assert_non_null(pub);

	/* a missing file is created; the same head is signed once */
	assert_int_equal(
	    nrm_checkpoints_open(&cps, key_path, path, &err), NRM_OK);
	assert_int_equal(nrm_checkpoints_add(cps, 7, H64, 1893456000), NRM_OK);
	assert_int_equal(nrm_checkpoints_add(cps, 7, H64, 1893456060), NRM_OK);
	assert_int_equal(nrm_checkpoints_count(cps), 1);
	json = nrm_checkpoints_json(cps, 0);
	assert_non_null(json);
	/* numbered and chained (issue 14): the first line's prev is zeros */
	assert_non_null(strstr(json,
	    "[{\"seq\":1,\"prev\":\"" Z64 "\",\"pos\":7,\"hash\":\"" H64
	    "\",\"at\":\"2030-01-01T00:00:00Z\""));
	free(json);
	/* a head lower than the last signed: not signed, counted */
	assert_int_equal(nrm_checkpoints_add(cps, 6, H64, 1893456000), NRM_OK);
	assert_int_equal(nrm_checkpoints_count(cps), 1);
	assert_int_equal(nrm_checkpoints_refused_backwards(cps), 1);
	/* a hash the format cannot carry is never signed */
	assert_int_equal(
	    nrm_checkpoints_add(cps, 8, "0123", 1893456000), NRM_ERR);
	nrm_checkpoints_free(cps);

	/* what nrmd wrote, the shared reader reads and verifies */
	assert_int_equal(
	    nrm_audit_cps_load(path, pub, &read, NULL, &err), NRM_OK);
	assert_int_equal(read.n, 1);
	assert_int_equal(read.v[0].pos, 7);
	assert_false(read.v[0].sig_bad);
	nrm_audit_cps_free(&read);

	/* reopened, it carries on: line 2 continues line 1 */
	assert_int_equal(
	    nrm_checkpoints_open(&cps, key_path, path, &err), NRM_OK);
	assert_int_equal(nrm_checkpoints_count(cps), 1);
	assert_int_equal(nrm_checkpoints_add(cps, 9, H64, 1893456000), NRM_OK);
	nrm_checkpoints_free(cps);
	assert_int_equal(
	    nrm_audit_cps_load(path, pub, &read, NULL, &err), NRM_OK);
	assert_int_equal(read.n, 2);
	assert_int_equal(read.v[1].seq, 2);
	assert_string_equal(read.v[1].prev, read.v[0].self);
	assert_false(read.v[1].sig_bad);
	nrm_audit_cps_free(&read);
	/* a refused line stops the start-up */
	f = fopen(path, "a");
	assert_non_null(f);
	fprintf(f,
	    "{\"pos\":8,\"pos\":9,\"hash\":\"" H64 "\",\"at\":\"t\","
	    "\"sig\":\"a\"}\n");
	fclose(f);
	cps = NULL;
	assert_int_equal(
	    nrm_checkpoints_open(&cps, key_path, path, &err), NRM_ERR);
	assert_null(cps);
	assert_string_equal(err.field, "audit_checkpoint_file");
	assert_non_null(strstr(err.detail, "line 3: a member appears twice"));
	/* a public key is no signing key */
	assert_int_equal(
	    nrm_checkpoints_open(&cps, pub_path, path, &err), NRM_ERR);
	assert_string_equal(err.field, "audit_signing_key_file");
	assert_non_null(
	    strstr(err.detail, "make one with nrmctl audit keygen"));

	EVP_PKEY_free(pub);
}

/*
 * Old-format lines first (issue 6 files): read, and nrmd carries on with
 * numbered lines after them; a series out of order is refused at
 * start-up, and by nrm_audit_cps_check for every verifier.
 */
static void
test_series_compat(void **state)
{
	struct ac_files *fx = *state;
	EVP_PKEY *gen = fx->gen;
	const char *key_path = fx->key_path, *path = fx->path;
	struct nrm_checkpoints *cps = NULL;
	struct nrm_audit_cps read = {NULL, 0, 0};
	struct nrm_audit_cp old;
	struct nrm_error err;
	const char *why = NULL;
	size_t bad = 0;
	char *line;
	FILE *f;

	memset(&old, 0, sizeof(old));
	old.pos = 3;
	memcpy(old.hash, H64, sizeof(old.hash));
	snprintf(old.at, sizeof(old.at), "2029-01-01T00:00:00Z");
	assert_int_equal(nrm_audit_cp_sign(gen, &old), NRM_OK);
	line = nrm_audit_cp_line(&old);
	assert_non_null(line);
	assert_null(strstr(line, "seq"));
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", line);
	fclose(f);
	free(line);

	assert_int_equal(
	    nrm_checkpoints_open(&cps, key_path, path, &err), NRM_OK);
	assert_int_equal(nrm_checkpoints_add(cps, 5, H64, 1893456000), NRM_OK);
	assert_int_equal(nrm_checkpoints_add(cps, 8, H64, 1893456060), NRM_OK);
	nrm_checkpoints_free(cps);
	assert_int_equal(
	    nrm_audit_cps_load(path, gen, &read, NULL, &err), NRM_OK);
	assert_int_equal(read.n, 3);
	assert_int_equal(read.v[0].seq, 0);
	assert_int_equal(read.v[1].seq, 2);
	assert_string_equal(read.v[1].prev, read.v[0].self);
	assert_int_equal(read.v[2].seq, 3);
	for (size_t i = 0; i < read.n; i++)
		assert_false(read.v[i].sig_bad);
	assert_int_equal(nrm_audit_cps_check(&read, &bad, &why), NRM_OK);

	/* swapped: the sequence breaks at the first line out of place */
	{
		struct nrm_audit_cp t = read.v[1];

		read.v[1] = read.v[2];
		read.v[2] = t;
	}
	assert_int_equal(nrm_audit_cps_check(&read, &bad, &why), NRM_ERR);
	assert_int_equal(bad, 1);
	assert_string_equal(why, "checkpoint sequence");
	/* an old line after a numbered one */
	read.v[2] = read.v[0];
	read.v[1].seq = 2;
	assert_int_equal(nrm_audit_cps_check(&read, &bad, &why), NRM_ERR);
	/* seq 2 with line 3's prev: the chain breaks first */
	assert_string_equal(why, "checkpoint chain");
	nrm_audit_cps_free(&read);

	/* nrmd refuses to start on a file whose lines were reordered */
	f = fopen(path, "r");
	assert_non_null(f);
	{
		char l[3][1024];

		for (int i = 0; i < 3; i++)
			assert_non_null(fgets(l[i], sizeof(l[i]), f));
		fclose(f);
		f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, "%s%s%s", l[0], l[2], l[1]);
		fclose(f);
	}
	assert_int_equal(
	    nrm_checkpoints_open(&cps, key_path, path, &err), NRM_ERR);
	assert_non_null(strstr(err.detail, "line 2: checkpoint sequence"));
}

/* Rotation: full files become parts; the series runs on across them. */
static void
test_rotation(void **state)
{
	struct ac_files *fx = *state;
	EVP_PKEY *gen = fx->gen;
	const char *key_path = fx->key_path, *path = fx->path;
	struct nrm_checkpoints *cps = NULL;
	struct nrm_audit_cps read = {NULL, 0, 0};
	char part[160];
	struct nrm_error err;
	const char *why = NULL;
	size_t bad = 0;
	int parts = 0;

	assert_int_equal(
	    nrm_checkpoints_open(&cps, key_path, path, &err), NRM_OK);
	nrm_checkpoints_set_rotation(cps, 2);
	for (int i = 1; i <= 5; i++)
		assert_int_equal(
		    nrm_checkpoints_add(cps, i, H64, 1893456000), NRM_OK);
	/* in memory: the current file only (1 line: seq 5) */
	assert_int_equal(nrm_checkpoints_count(cps), 1);
	assert_int_equal(nrm_checkpoints_add(cps, 6, H64, 1893456000), NRM_OK);
	/* rotated at 2: the new file is empty, its part's last line stays */
	assert_int_equal(nrm_checkpoints_count(cps), 1);
	nrm_checkpoints_free(cps);
	nrm_audit_cps_part_name(path, 3, part, sizeof(part));
	assert_int_equal(access(part, F_OK), 0);
	nrm_audit_cps_part_name(path, 4, part, sizeof(part));
	assert_int_not_equal(access(part, F_OK), 0);

	assert_int_equal(
	    nrm_audit_cps_load_series(path, gen, &read, &parts, NULL, &err),
	    NRM_OK);
	assert_int_equal(parts, 3);
	assert_int_equal(read.n, 6);
	for (size_t i = 0; i < read.n; i++) {
		assert_int_equal(read.v[i].seq, (int64_t)i + 1);
		assert_int_equal(read.v[i].part, (int)i / 2 + 1);
		assert_false(read.v[i].sig_bad);
	}
	assert_int_equal(nrm_audit_cps_check(&read, &bad, &why), NRM_OK);
	nrm_audit_cps_free(&read);

	/* reopened, the series carries on at 7 */
	assert_int_equal(
	    nrm_checkpoints_open(&cps, key_path, path, &err), NRM_OK);
	assert_int_equal(nrm_checkpoints_count(cps), 1);
	assert_int_equal(nrm_checkpoints_add(cps, 7, H64, 1893456000), NRM_OK);
	assert_int_equal(nrm_checkpoints_count(cps), 1);
	nrm_checkpoints_free(cps);
	assert_int_equal(
	    nrm_audit_cps_load_series(path, gen, &read, &parts, NULL, &err),
	    NRM_OK);
	assert_int_equal(read.n, 7);
	assert_int_equal(read.v[6].seq, 7);
	assert_int_equal(read.v[6].part, 0);
	assert_int_equal(nrm_audit_cps_check(&read, &bad, &why), NRM_OK);
	nrm_audit_cps_free(&read);

	/* a part removed: the series no longer holds, nrmd will not start */
	nrm_audit_cps_part_name(path, 1, part, sizeof(part));
	assert_int_equal(unlink(part), 0);
	nrm_audit_cps_part_name(path, 2, part, sizeof(part));
	{
		char first[160];

		nrm_audit_cps_part_name(path, 1, first, sizeof(first));
		assert_int_equal(rename(part, first), 0);
	}
	assert_int_equal(
	    nrm_checkpoints_open(&cps, key_path, path, &err), NRM_ERR);
	assert_non_null(strstr(err.detail, "checkpoint sequence"));
	/* a gap between parts: refused too, never silently cut short */
	nrm_audit_cps_part_name(path, 1, part, sizeof(part));
	assert_int_equal(unlink(part), 0);
	assert_int_equal(
	    nrm_audit_cps_load_series(path, gen, &read, &parts, NULL, &err),
	    NRM_ERR);
	assert_non_null(strstr(err.detail, "part 000001 of 3 is missing"));

	for (int k = 1; k <= 3; k++) {
		nrm_audit_cps_part_name(path, k, part, sizeof(part));
		unlink(part);
	}
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_message),
    cmocka_unit_test(test_parse_ok_and_round_trip),
    cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_canonical),
    cmocka_unit_test(test_sign_verify), cmocka_unit_test(test_cps_load),
    cmocka_unit_test_setup_teardown(
	test_nrmd_checkpoints, ac_files_setup, ac_files_teardown),
    cmocka_unit_test_setup_teardown(
	test_series_compat, ac_files_setup, ac_files_teardown),
    cmocka_unit_test_setup_teardown(
	test_rotation, ac_files_setup, ac_files_teardown))
