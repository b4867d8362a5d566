/*
 * main.c - nrmd's command line: parse options, then hand over to the
 * daemon lifecycle in daemon.c.
 */
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "endpoints.h"
#include "tls.h"
#include "webroot.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
main_usage(FILE *f)
{
	fprintf(f,
	    "usage: nrmd [--config FILE] [--check-config] [--list-routes]\n"
	    "            [--help] [--version]\n"
	    "\n"
	    "nrmd is the national referral mechanism case router: it takes\n"
	    "signals of possible victims of human trafficking over HTTP(S),\n"
	    "routes each to a regional care coordinator and stores it in\n"
	    "PostgreSQL.\n"
	    "\n"
	    "  -c, --config FILE   configuration file (default "
	    "config/nrmd.conf)\n"
	    "      --check-config  load and validate the configuration and\n"
	    "                      everything it names, then exit 0 or 1\n"
	    "      --list-routes   print the served routes, one per line\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       print the version\n"
	    "\n"
	    "people (docs/people.md): an admin creates a person with\n"
	    "POST /v1/admin/persons (a one-time enrolment code); the person\n"
	    "sets a password and TOTP with POST /v1/enrol and logs in with\n"
	    "POST /v1/session on the TLS listener only (a __Host- session\n"
	    "cookie; unsafe requests then need X-CSRF-Token and Origin).\n"
	    "Failed logins answer 401 later and later from the\n"
	    "login_backoff_after-th in a row (per login and per address),\n"
	    "and lock the login after login_lock_after in the window.\n"
	    "\n"
	    "console (docs/console.md): the files of web_root (make web),\n"
	    "read into memory, served on the TLS listener at /; the API\n"
	    "document at /v1/openapi.yaml and .json on both listeners.\n"
	    "\n"
	    "signals: SIGTERM/SIGINT finish in-flight requests and exit;\n"
	    "SIGHUP reloads the configuration (a bad one is refused).\n"
	    "\n");
	nrm_config_describe(f);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'k'},
	    {"list-routes", no_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = "config/nrmd.conf";
	bool check = false;
	struct nrm_daemon d;
	struct nrm_error err;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'r':
			nrm_endpoints_print(stdout);
			return 0;
		case 'h':
			main_usage(stdout);
			return 0;
		case 'V':
			printf("nrmd %s (schema %d)\n", NRM_VERSION,
			    NRM_SCHEMA_VERSION);
			return 0;
		default:
			main_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "nrmd: unexpected argument %s\n", argv[optind]);
		return 2;
	}
#ifdef NRM_BENCH_NOSEAL
	/* a benchmark's nrmd that stores personal data unencrypted */
	if (getenv("NRM_BENCH_NOSEAL") == NULL ||
	    strcmp(getenv("NRM_BENCH_NOSEAL"), "1") != 0) {
		fprintf(stderr,
		    "nrmd: this is the bench-noseal build, which "
		    "stores personal data unencrypted (make "
		    "bench-seal); it runs only with "
		    "NRM_BENCH_NOSEAL=1, never in production\n");
		return 1;
	}
	fprintf(stderr,
	    "nrmd: bench-noseal build: personal data are NOT "
	    "encrypted\n");
#endif
	nrm_error_clear(&err);
	if (check) {
		struct nrm_config cfg;
		struct nrm_router *router;
		struct nrm_indicators *indicators;
		struct nrm_diag diag;
		unsigned char key[32];
		char *text;

		if (nrm_config_load(&cfg, config_path, &err) != NRM_OK)
			goto out;
		nrm_diag_init(&diag);
		rc = nrm_daemon_load_assets(
		    &cfg, &router, NULL, &indicators, key, &diag, &err);
		text = nrm_diag_text(&diag);
		if (text != NULL && (diag.n_errors > 0 || diag.n_warnings > 0))
			fputs(text, stderr);
		free(text);
		nrm_diag_free(&diag);
		explicit_bzero(key, sizeof(key));
		if (rc != NRM_OK) {
			nrm_config_free(&cfg);
			goto out;
		}
		if (cfg.listen_tls[0] != '\0') {
			SSL_CTX *ctx = nrm_tls_ctx_new(&cfg, &err);

			if (ctx == NULL) {
				nrm_router_free(router);
				nrm_indicators_free(indicators);
				nrm_config_free(&cfg);
				goto out;
			}
			SSL_CTX_free(ctx);
		}
		if (cfg.web_root[0] != '\0') {
			struct nrm_webroot *web;

			if (nrm_webroot_load(&web, cfg.web_root, &err) !=
			    NRM_OK) {
				nrm_router_free(router);
				nrm_indicators_free(indicators);
				nrm_config_free(&cfg);
				goto out;
			}
			nrm_webroot_free(web);
		}
		printf("configuration ok: %s (routing %.12s: %d rules, %d "
		       "municipalities, %d regions; %d indicators)\n",
		    config_path, nrm_router_version(router),
		    nrm_router_n_rules(router),
		    nrm_geo_n_municipalities(nrm_router_geo(router)),
		    nrm_router_n_regions(router),
		    nrm_indicators_count(indicators));
		nrm_router_free(router);
		nrm_indicators_free(indicators);
		nrm_config_free(&cfg);
		return 0;
	}
	if (nrm_daemon_init(&d, config_path, &err) != NRM_OK) {
		nrm_daemon_free(&d);
		goto out;
	}
	rc = nrm_daemon_run(&d);
	nrm_daemon_free(&d);
	return rc;
out:
	fprintf(stderr, "nrmd: %s%s%s\n", err.field[0] != '\0' ? err.field : "",
	    err.field[0] != '\0' ? ": " : "", err.detail);
	return 1;
}
