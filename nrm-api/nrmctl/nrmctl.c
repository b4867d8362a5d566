/*
 * nrmctl.c - the admin tool: migrate the database and manage API keys.
 *
 *   nrmctl [--database-url URL] migrate [--dir DIR]
 *   nrmctl [--database-url URL] key create --role ROLE --agency NAME
 *          --agency-kind KIND [--region CODE ...] [--label TEXT]
 *   nrmctl [--database-url URL] key list
 *   nrmctl [--database-url URL] key revoke ID
 *   nrmctl [--database-url URL] key bind --cert FILE ID
 *   nrmctl [--database-url URL] audit verify [--checkpoints FILE
 *          --public-key PEM]
 *   nrmctl [--database-url URL] audit export --from TIME --to TIME
 *          [--checkpoints FILE [--public-key PEM]]
 *   nrmctl audit keygen --out FILE
 *   nrmctl [--database-url URL] audit checkpoint --key FILE
 *   nrmctl [--database-url URL] config check [DIR]
 *   nrmctl indicators check [FILE]
 *   nrmctl [--database-url URL] keys rotate --kek FILE --old-keks FILES
 *          [--batch N] [--pause-ms MS]
 *   nrmctl [--database-url URL] keys retire KEK_ID
 *   nrmctl [--database-url URL] keys status
 *   nrmctl [--database-url URL] data encrypt --kek FILE [...]
 *   nrmctl [--database-url URL] retention status [--next N]
 *
 * This file is the command line: global options, finding the command,
 * parsing its options from its row in ctl_cmds.c, connecting, the exit
 * status.
 * The database URL comes from --database-url or NRM_DATABASE_URL; run
 * migrations and key commands as the owner role (nrm_owner).  Results go
 * to stdout (a new token alone on its line), details and errors to
 * stderr as "nrmctl: could not X: reason"; the exit status is 0 on
 * success, 1 on failure, 2 on a usage error.  Synchronous libpq is fine
 * here: this is a command-line tool, not the daemon.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ctl_cmds.h"
#include "ctl_db.h"
#include "log.h"
#include "nrm/nrm.h"

#define CTL_VERSION "0.1.0"
#define CTL_PARSED (-1) /* ctl_parse: go on */

enum {
	CTL_OPT_DATABASE_URL = 256,
};

static const char ctl_usage_main[] =
    "usage: nrmctl [--database-url URL] [-v] COMMAND [ARGS]\n"
    "\n"
    "Administer an nrm database.\n"
    "\n"
    "commands:\n"
    "  migrate      apply pending SQL migrations\n"
    "  key create   create an API key and print its token\n"
    "  key list     list API keys (never their tokens)\n"
    "  key revoke   revoke an API key\n"
    "  key bind     bind an API key to a client certificate (mTLS)\n"
    "  audit verify recompute the audit hash chain (and checkpoints)\n"
    "  audit export export audit events as JSON lines for archiving\n"
    "  audit keygen create an Ed25519 key for signed checkpoints\n"
    "  audit checkpoint\n"
    "               sign the current chain head as a checkpoint\n"
    "  config check check a routing configuration directory and print\n"
    "               its coverage report (no database needed; with\n"
    "               --database-url, offices with no coordinator)\n"
    "  indicators check\n"
    "               check the indicators register (no database needed)\n"
    "  publication verify\n"
    "               check a publication's content hash and signature\n"
    "  keys rotate  re-wrap every data key under the current KEK\n"
    "  keys retire  retire an old KEK no data key uses any more\n"
    "  keys status  data keys per KEK, retired KEKs\n"
    "  keys pseudonyms\n"
    "               re-key every pseudonym under the new pseudonym key\n"
    "  data encrypt seal the personal data stored in plaintext before\n"
    "               0017 (and key old idempotency hashes)\n"
    "  retention status\n"
    "               what the retention schedule makes due, and when\n"
    "\n"
    "options:\n"
    "  --database-url URL  PostgreSQL URL (default: $NRM_DATABASE_URL)\n"
    "  -v, --verbose       log progress to stderr\n"
    "  -h, --help          show this help; COMMAND --help for a command\n"
    "  -V, --version       show the version\n";

static const char *ctl_database_url;

/* "nrmctl: <message>" on stderr. */
static void
ctl_verr(const char *fmt, va_list ap)
{
	fputs("nrmctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void ctl_err(const char *fmt, ...) NRM_PRINTF(1, 2);

static void
ctl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_verr(fmt, ap);
	va_end(ap);
}

static int ctl_usage_error(const char *usage, const char *fmt, ...)
    NRM_PRINTF(2, 3);

/* Report a usage error, show the usage; returns the usage exit status. */
static int
ctl_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_verr(fmt, ap);
	va_end(ap);
	fputs(usage, stderr);
	return NRM_CTL_EXIT_USAGE;
}

static bool
ctl_is_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

/* Store one option's value where its row says. */
static int
ctl_set(const struct nrm_ctl_cmd *c, const struct nrm_ctl_opt *o,
    struct nrm_ctl_args *a, const char *value)
{
	if (!o->regions) {
		*(const char **)(void *)((char *)a + o->off) = value;
		return CTL_PARSED;
	}
	if (a->spec.n_regions == NRM_KEY_MAX_REGIONS)
		return ctl_usage_error(c->usage, "%s", "too many regions");
	a->spec.regions[a->spec.n_regions++] = value;
	return CTL_PARSED;
}

/*
 * Parse the options of command `c` (argv[0] is its name) into *a: --help
 * is every command's, --database-url every one's that talks to the
 * database; then its argument, its required options, its checks.
 * Returns CTL_PARSED, or the exit status to return at once: 0 after
 * printing the usage for -h/--help, NRM_CTL_EXIT_USAGE after a usage
 * error.
 */
static int
ctl_parse(const char *group, const struct nrm_ctl_cmd *c, int argc, char **argv,
    struct nrm_ctl_args *a)
{
	struct option lo[NRM_CTL_OPTS_MAX + 3];
	char prog[64];
	int n = 0, ch, rc;
	const char *why;

	if (ctl_is_help(argc, argv)) {
		fputs(c->usage, stdout);
		return 0;
	}
	for (; n < NRM_CTL_OPTS_MAX && c->opts[n].name != NULL; n++)
		lo[n] = (struct option){
		    c->opts[n].name, required_argument, NULL, n};
	if (c->db || c->db_optional)
		lo[n++] = (struct option){"database-url", required_argument,
		    NULL, CTL_OPT_DATABASE_URL};
	lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
	lo[n] = (struct option){NULL, 0, NULL, 0};
	/* getopt names the command in its messages */
	snprintf(prog, sizeof(prog), "nrmctl %s%s%s",
	    group != NULL ? group : "", group != NULL ? " " : "", c->name);
	argv[0] = prog;
	optind = 0; /* GNU getopt: full re-initialisation */
	while ((ch = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		if (ch == CTL_OPT_DATABASE_URL) {
			ctl_database_url = optarg;
		} else if (ch >= 0 && ch < NRM_CTL_OPTS_MAX &&
		    c->opts[ch].name != NULL) {
			rc = ctl_set(c, &c->opts[ch], a, optarg);
			if (rc != CTL_PARSED)
				return rc;
		} else {
			fputs(c->usage, stderr);
			return NRM_CTL_EXIT_USAGE;
		}
	}
	if (c->arg != NULL && argc - optind != 1)
		return ctl_usage_error(c->usage, "%s", c->arg);
	if (c->arg != NULL || (c->arg_optional && optind < argc))
		a->arg = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(
		    c->usage, "unexpected argument: %s", argv[optind]);
	for (const struct nrm_ctl_opt *o = c->opts;
	     o < c->opts + NRM_CTL_OPTS_MAX && o->name != NULL; o++)
		if (o->required &&
		    *(const char *const *)(const void *)((const char *)a +
			o->off) == NULL)
			return ctl_usage_error(
			    c->usage, "missing --%s", o->name);
	why = c->check_cb != NULL ? c->check_cb(a) : NULL;
	if (why != NULL)
		return ctl_usage_error(c->usage, "%s", why);
	return CTL_PARSED;
}

/*
 * Run command `c`: parse, connect when it talks to the database, run,
 * disconnect; report an error as "nrmctl: could not ...".  Returns the
 * exit status.
 */
static int
ctl_run(const char *group, const struct nrm_ctl_cmd *c, int argc, char **argv)
{
	struct nrm_ctl_args a;
	struct nrm_error err;
	PGconn *conn = NULL;
	int rc;

	memset(&a, 0, sizeof(a));
	nrm_error_clear(&err);
	rc = ctl_parse(group, c, argc, argv, &a);
	if (rc != CTL_PARSED)
		return rc;
	if ((c->db || (c->db_optional && ctl_database_url != NULL) ||
		(c->db_if_id && a.id != NULL)) &&
	    nrm_ctl_connect(ctl_database_url, &conn, &err) != NRM_OK) {
		ctl_err("%s", err.detail);
		return NRM_CTL_EXIT_FAIL;
	}
	rc = c->run_cb(conn, &a, &err);
	PQfinish(conn);
	if (rc == NRM_ERR) {
		ctl_err("%s", err.detail);
		return NRM_CTL_EXIT_FAIL;
	}
	return rc;
}

/*
 * Run the subcommand argv[1] of group `g`; -h/--help prints its usage;
 * anything else is a usage error that lists its commands.
 */
static int
ctl_dispatch(const struct nrm_ctl_group *g, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage_error(
		    g->usage, "missing %s command (%s)", g->name, g->names);
	for (const struct nrm_ctl_cmd *c = g->cmds; c->name != NULL; c++)
		if (strcmp(argv[1], c->name) == 0)
			return ctl_run(g->name, c, argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(g->usage, stdout);
		return 0;
	}
	return ctl_usage_error(
	    g->usage, "unknown %s command: %s", g->name, argv[1]);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"database-url", required_argument, NULL, CTL_OPT_DATABASE_URL},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	nrm_log_threshold = NRM_LOG_WARN;
	/* "+": stop at the command; its options are parsed by it. */
	while ((c = getopt_long(argc, argv, "+vhV", opts, NULL)) != -1) {
		switch (c) {
		case CTL_OPT_DATABASE_URL:
			ctl_database_url = optarg;
			break;
		case 'v':
			nrm_log_threshold = NRM_LOG_DEBUG;
			break;
		case 'h':
			fputs(ctl_usage_main, stdout);
			return 0;
		case 'V':
			puts("nrmctl " CTL_VERSION);
			return 0;
		default:
			fputs(ctl_usage_main, stderr);
			return NRM_CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return ctl_usage_error(ctl_usage_main, "missing %s", "command");
	argc -= optind;
	argv += optind;
	for (const struct nrm_ctl_cmd *k = nrm_ctl_cmds; k->name != NULL; k++)
		if (strcmp(argv[0], k->name) == 0)
			return ctl_run(NULL, k, argc, argv);
	for (const struct nrm_ctl_group *const *g = nrm_ctl_groups; *g != NULL;
	     g++)
		if (strcmp(argv[0], (*g)->name) == 0)
			return ctl_dispatch(*g, argc, argv);
	if (strcmp(argv[0], "help") == 0) {
		fputs(ctl_usage_main, stdout);
		return 0;
	}
	return ctl_usage_error(ctl_usage_main, "unknown command: %s", argv[0]);
}
