/*
 * test_config.c - table-driven tests of nrmd's configuration parser
 * (nrm-api/nrmd/config.c): defaults, file syntax, ranges, unknown keys,
 * environment overrides and the reload merge.
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

#include "config.h"

static char cfg_path[64];

static void
write_config(const char *text)
{
	FILE *f;

	snprintf(cfg_path, sizeof(cfg_path), "/tmp/nrm-test-config.%d",
	    (int)getpid());
	f = fopen(cfg_path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

struct bad_case {
	const char *name;
	const char *text;
	const char *field; /* key the error must name */
};

static const struct bad_case bad_cases[] = {
    {"unknown key", "listen = 127.0.0.1:1\nlisten_port = 3\n", "listen_port"},
    {"int not a number", "db_pool_size = four\n", "db_pool_size"},
    {"int trailing garbage", "db_pool_size = 4x\n", "db_pool_size"},
    {"int below range", "db_pool_size = 0\n", "db_pool_size"},
    {"int above range", "db_pool_size = 65\n", "db_pool_size"},
    {"body size too small", "max_body_size = 10\n", "max_body_size"},
    {"bool not a bool", "allow_remote_plain = maybe\n", "allow_remote_plain"},
    {"duplicate key", "log_level = info\nlog_level = debug\n", "log_level"},
    {"bad log level", "log_level = loud\n", "log_level"},
    {"listen without port", "listen = 127.0.0.1\n", "listen"},
    {"listen port zero", "listen = 127.0.0.1:0\n", "listen"},
    {"plain on a public address", "listen = 0.0.0.0:8080\n", "listen"},
    {"tls listen malformed", "listen_tls = nonsense\n", "listen_tls"},
    {"tls without cert", "tls_cert_file = \"\"\n", "tls_cert_file"},
    {"client cert required without a CA", "tls_client_cert_required = true\n",
	"tls_client_cert_required"},
    {"client cert required not a bool", "tls_client_cert_required = yes\n",
	"tls_client_cert_required"},
    {"unterminated quote", "database_url = \"abc\n", "database_url"},
    {"empty database url", "database_url = \"\"\n", "database_url"},
    {"no equals sign", "listen\n", ""},
    {"origin with a path", "public_origin = https://a.example/\n",
	"public_origin"},
    {"origin without scheme", "public_origin = a.example\n", "public_origin"},
    {"origin of another scheme", "public_origin = ftp://a.example\n",
	"public_origin"},
    {"origin with user info", "public_origin = https://u@a.example\n",
	"public_origin"},
    {"origin with an empty port", "public_origin = https://a.example:\n",
	"public_origin"},
    {"origin with a long port", "public_origin = https://a:123456\n",
	"public_origin"},
    {"origin with an open bracket", "public_origin = https://[::1\n",
	"public_origin"},
    {"idle longer than the lifetime",
	"session_idle_timeout = 600\nsession_lifetime = 300\n",
	"session_idle_timeout"},
    {"no worker queue", "worker_queue = 0\n", "worker_queue"},
    {"too many workers", "worker_threads = 65\n", "worker_threads"},
};

/* The origin a session's unsafe requests must send. */
static void
test_public_origin(void **state)
{
	static const char *const good[] = {"https://nrm.example.org",
	    "http://localhost:8080", "https://[::1]:8443", "https://10.0.0.1"};
	struct nrm_config cfg;
	struct nrm_error err;
	char buf[300], text[200];

	(void)state;
	write_config("listen_tls = 127.0.0.1:9443\n");
	assert_int_equal(nrm_config_load(&cfg, cfg_path, &err), NRM_OK);
	assert_string_equal(cfg.public_origin, "");
	assert_string_equal(nrm_config_origin(&cfg, buf, sizeof(buf)),
	    "https://127.0.0.1:9443");
	nrm_config_free(&cfg);
	write_config("listen_tls = \"\"\n");
	assert_int_equal(nrm_config_load(&cfg, cfg_path, &err), NRM_OK);
	assert_string_equal(nrm_config_origin(&cfg, buf, sizeof(buf)), "");
	nrm_config_free(&cfg);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "public_origin = %s\n", good[i]);
		write_config(text);
		if (nrm_config_load(&cfg, cfg_path, &err) != NRM_OK)
			fail_msg("%s refused: %s", good[i], err.detail);
		assert_string_equal(
		    nrm_config_origin(&cfg, buf, sizeof(buf)), good[i]);
		nrm_config_free(&cfg);
	}
}

static void
test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct nrm_config cfg;
		struct nrm_error err;

		write_config(bad_cases[i].text);
		nrm_error_clear(&err);
		if (nrm_config_load(&cfg, cfg_path, &err) == NRM_OK) {
			nrm_config_free(&cfg);
			fail_msg("case '%s' was accepted", bad_cases[i].name);
		}
		if (strcmp(err.field, bad_cases[i].field) != 0)
			fail_msg("case '%s': field '%s', want '%s' (%s)",
			    bad_cases[i].name, err.field, bad_cases[i].field,
			    err.detail);
	}
}

static void
test_defaults_and_file(void **state)
{
	struct nrm_config cfg;
	struct nrm_error err;

	(void)state;
	write_config("# comment\n\nlisten = 127.0.0.2:9000  # trailing\n"
		     "db_pool_size = 8\nallow_remote_plain = off\n"
		     "database_url = \"host=/tmp port=5 # not a comment\"\n");
	assert_int_equal(nrm_config_load(&cfg, cfg_path, &err), NRM_OK);
	assert_string_equal(cfg.listen, "127.0.0.2:9000");
	assert_int_equal(cfg.db_pool_size, 8);
	assert_false(cfg.allow_remote_plain);
	assert_string_equal(
	    cfg.database_url, "host=/tmp port=5 # not a comment");
	/* Defaults for what the file leaves out. */
	assert_int_equal(cfg.max_body_size, 65536);
	assert_int_equal(cfg.client_timeout, 30);
	assert_string_equal(cfg.listen_tls, "127.0.0.1:8443");
	nrm_config_free(&cfg);
}

static void
test_remote_plain_allowed(void **state)
{
	struct nrm_config cfg;
	struct nrm_error err;

	(void)state;
	write_config("listen = 0.0.0.0:8080\nallow_remote_plain = true\n");
	assert_int_equal(nrm_config_load(&cfg, cfg_path, &err), NRM_OK);
	nrm_config_free(&cfg);
	write_config("listen = [::1]:8080\n");
	assert_int_equal(nrm_config_load(&cfg, cfg_path, &err), NRM_OK);
	nrm_config_free(&cfg);
}

static void
test_environment_wins(void **state)
{
	struct nrm_config cfg;
	struct nrm_error err;

	(void)state;
	write_config("listen = 127.0.0.1:1000\n");
	setenv("NRM_LISTEN", "127.0.0.1:2000", 1);
	setenv("NRM_DATABASE_URL", "postgresql:///other", 1);
	assert_int_equal(nrm_config_load(&cfg, cfg_path, &err), NRM_OK);
	assert_string_equal(cfg.listen, "127.0.0.1:2000");
	assert_string_equal(cfg.database_url, "postgresql:///other");
	nrm_config_free(&cfg);
	setenv("NRM_DB_POOL_SIZE", "999", 1);
	assert_int_equal(nrm_config_load(&cfg, cfg_path, &err), NRM_ERR);
	assert_string_equal(err.field, "db_pool_size");
	assert_non_null(strstr(err.detail, "NRM_DB_POOL_SIZE"));
	unsetenv("NRM_DB_POOL_SIZE");
	unsetenv("NRM_LISTEN");
	unsetenv("NRM_DATABASE_URL");
}

/* PostgreSQL's 2 x cores + 1, from one core up, at most 64. */
static void
test_pool_default_formula(void **state)
{
	static const struct {
		long cpus;
		int pool;
	} cases[] = {{-1, 3}, {0, 3}, {1, 3}, {2, 5}, {4, 9}, {8, 17}, {31, 63},
	    {32, 64}, {33, 64}, {1024, 64}, {2147483647L, 64}};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (nrm_config_pool_default(cases[i].cpus) != cases[i].pool)
			fail_msg("%ld CPUs: pool %d, want %d", cases[i].cpus,
			    nrm_config_pool_default(cases[i].cpus),
			    cases[i].pool);
}

/*
 * Without db_pool_size the pool follows this machine's online CPUs; a
 * value in the file wins over that, the environment over both.
 */
static void
test_pool_default_follows_cores(void **state)
{
	struct nrm_config cfg;
	struct nrm_error err;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cpus < 1 ? 3 : cpus > 31 ? 64 : 2 * (int)cpus + 1;

	(void)state;
	write_config("listen = 127.0.0.1:1000\n");
	assert_int_equal(nrm_config_load(&cfg, cfg_path, &err), NRM_OK);
	assert_int_equal(cfg.db_pool_size, want);
	nrm_config_free(&cfg);
	/* an explicit value wins, even one the formula gives nowhere */
	write_config("listen = 127.0.0.1:1000\ndb_pool_size = 2\n");
	assert_int_equal(nrm_config_load(&cfg, cfg_path, &err), NRM_OK);
	assert_int_equal(cfg.db_pool_size, 2);
	nrm_config_free(&cfg);
	setenv("NRM_DB_POOL_SIZE", "64", 1);
	assert_int_equal(nrm_config_load(&cfg, cfg_path, &err), NRM_OK);
	assert_int_equal(cfg.db_pool_size, 64);
	nrm_config_free(&cfg);
	unsetenv("NRM_DB_POOL_SIZE");
}

static void
test_reload_merge(void **state)
{
	struct nrm_config run, fresh;
	struct nrm_error err;
	char changed[128];

	(void)state;
	/* An explicit pool: its default follows the machine's cores. */
	write_config("listen = 127.0.0.1:1000\nlog_level = info\n"
		     "db_pool_size = 4\n");
	assert_int_equal(nrm_config_load(&run, cfg_path, &err), NRM_OK);
	write_config("listen = 127.0.0.1:3000\nlog_level = debug\n"
		     "db_pool_size = 9\n");
	assert_int_equal(nrm_config_load(&fresh, cfg_path, &err), NRM_OK);
	nrm_config_merge_reload(&fresh, &run, changed, sizeof(changed));
	/* Not reloadable: the running values stay and are reported. */
	assert_string_equal(fresh.listen, "127.0.0.1:1000");
	assert_int_equal(fresh.db_pool_size, 4);
	assert_non_null(strstr(changed, "listen"));
	assert_non_null(strstr(changed, "db_pool_size"));
	/* Reloadable: the new value is taken. */
	assert_string_equal(fresh.log_level, "debug");
	assert_null(strstr(changed, "log_level"));
	nrm_config_free(&run);
	nrm_config_free(&fresh);
}

static void
test_missing_file(void **state)
{
	struct nrm_config cfg;
	struct nrm_error err;

	(void)state;
	assert_int_equal(
	    nrm_config_load(&cfg, "/nonexistent/nrmd.conf", &err), NRM_ERR);
	assert_string_equal(err.field, "config");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_public_origin),
	    cmocka_unit_test(test_defaults_and_file),
	    cmocka_unit_test(test_remote_plain_allowed),
	    cmocka_unit_test(test_environment_wins),
	    cmocka_unit_test(test_pool_default_formula),
	    cmocka_unit_test(test_pool_default_follows_cores),
	    cmocka_unit_test(test_reload_merge),
	    cmocka_unit_test(test_missing_file),
	};
	int rc;

	unsetenv("NRM_LISTEN");
	unsetenv("NRM_DATABASE_URL");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(cfg_path);
	return rc;
}
