/*
 * nrmctl.c - the admin tool: migrate the database and manage API keys.
 *
 *   nrmctl [--database-url URL] migrate [--dir DIR]
 *   nrmctl [--database-url URL] key create --role ROLE --agency NAME
 *          --agency-kind KIND [--region CODE ...] [--label TEXT]
 *   nrmctl [--database-url URL] key list
 *   nrmctl [--database-url URL] key revoke ID
 *
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
#include <openssl/crypto.h>

#include "crypto.h"
#include "keys.h"
#include "log.h"
#include "routing.h"
#include "migrate.h"
#include "nrm.h"

#define CTL_VERSION "0.1.0"
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2

enum {
	CTL_OPT_DATABASE_URL = 256,
	CTL_OPT_DIR,
	CTL_OPT_ROLE,
	CTL_OPT_AGENCY,
	CTL_OPT_AGENCY_KIND,
	CTL_OPT_REGION,
	CTL_OPT_LABEL,
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
    "  config check check a routing configuration directory and print\n"
    "               its coverage report (no database needed)\n"
    "\n"
    "options:\n"
    "  --database-url URL  PostgreSQL URL (default: $NRM_DATABASE_URL)\n"
    "  -v, --verbose       log progress to stderr\n"
    "  -h, --help          show this help; COMMAND --help for a command\n"
    "  -V, --version       show the version\n";

static const char ctl_usage_migrate[] =
    "usage: nrmctl migrate [--dir DIR]\n"
    "\n"
    "Apply each DIR/NNNN_name.sql not yet recorded in nrm.schema_version,\n"
    "in version order, each in one transaction with its record.  Refuses\n"
    "when an applied file changed or a version is missing.  Concurrent\n"
    "runs wait for each other.\n"
    "\n"
    "options:\n"
    "  --dir DIR   migration directory (default: sql)\n";

static const char ctl_usage_key[] =
    "usage: nrmctl key create --role ROLE --agency NAME --agency-kind KIND\n"
    "                         [--region CODE ...] [--label TEXT]\n"
    "       nrmctl key list\n"
    "       nrmctl key revoke ID\n";

static const char ctl_usage_key_create[] =
    "usage: nrmctl key create --role ROLE --agency NAME --agency-kind KIND\n"
    "                         [--region CODE ...] [--label TEXT]\n"
    "\n"
    "Create an API key.  The token is printed ALONE on stdout, once: it\n"
    "is not stored (only its SHA-256 is).  Details go to stderr.  The\n"
    "agency is created on first use.\n"
    "\n"
    "  --role ROLE         reporter, coordinator, assessor, investigator,\n"
    "                      auditor, analyst, admin\n"
    "  --agency NAME       the agency the key belongs to\n"
    "  --agency-kind KIND  police, kmar, labour_inspectorate, care_agency,\n"
    "                      ngo, municipality, national_centre,\n"
    "                      assessment_body, other\n"
    "  --region CODE       a region of a coordinator key (VR13, NATIONAL);\n"
    "                      repeat for several; coordinators need one\n"
    "  --label TEXT        a note to recognise the key by\n";

static const char ctl_usage_key_list[] =
    "usage: nrmctl key list\n"
    "\n"
    "List every API key: id, role, agency, kind, regions, created,\n"
    "revoked, label.  Token hashes are never shown.\n";

static const char ctl_usage_key_revoke[] =
    "usage: nrmctl key revoke ID\n"
    "\n"
    "Revoke the API key with this id (see nrmctl key list).  A revoked\n"
    "key is refused from the next request on.  Revoking twice is a\n"
    "no-op.\n";

static const char *ctl_database_url;

static const char ctl_usage_config[] =
    "usage: nrmctl config check [DIR]\n"
    "\n"
    "Load the routing configuration in DIR (default config/routing:\n"
    "regions.json, municipalities.csv, rules.json) exactly as nrmd does,\n"
    "print the coverage report (per region: municipalities, active,\n"
    "office, fallback, effective target) and every warning and error.\n"
    "Exit 0 when it loads, 1 on any error.  Needs no database.\n";

static void ctl_err(const char *fmt, ...) NRM_PRINTF(1, 2);

/* "nrmctl: <message>" on stderr. */
static void
ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("nrmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int ctl_usage_error(const char *usage, const char *fmt, ...)
    NRM_PRINTF(2, 3);

/* Report a usage error, show the usage; returns the usage exit status. */
static int
ctl_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fputs("nrmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage, stderr);
	return CTL_EXIT_USAGE;
}

/* Keep libpq's NOTICE lines off the terminal unless verbose. */
static void
ctl_notice(void *arg, const char *message)
{
	NRM_UNUSED(arg);
	nrm_debug(
	    "server notice msg=%.*s", (int)strcspn(message, "\n"), message);
}

/* Connect with the configured URL; NULL (after a message) on failure. */
static PGconn *
ctl_connect(void)
{
	static const char *const keys[] = {
	    "dbname",
	    "fallback_application_name",
	    "client_encoding",
	    NULL,
	};
	const char *vals[4];
	const char *url = ctl_database_url;
	PGconn *conn;
	char msg[512];
	size_t n;

	if (url == NULL)
		url = getenv("NRM_DATABASE_URL");
	if (url == NULL || url[0] == '\0') {
		ctl_err("could not connect to the database: NRM_DATABASE_URL "
			"is not set (or pass --database-url)");
		return NULL;
	}
	vals[0] = url;
	vals[1] = "nrmctl";
	vals[2] = "UTF8";
	vals[3] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL) {
		ctl_err("could not connect to the database: out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		/* libpq's message may span lines: join them. */
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		for (char *p = msg; *p != '\0'; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		ctl_err("could not connect to the database: %s", msg);
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, ctl_notice, NULL);
	nrm_debug("connected user=%s db=%s server_version=%d", PQuser(conn),
	    PQdb(conn), PQserverVersion(conn));
	return conn;
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

static int
ctl_migrate(int argc, char **argv)
{
	static char name_migrate[] = "nrmctl migrate";
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, CTL_OPT_DIR},
	    {"database-url", required_argument, NULL, CTL_OPT_DATABASE_URL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = "sql";
	char errbuf[1024];
	PGconn *conn;
	int c;
	int rc;

	if (ctl_is_help(argc, argv)) {
		fputs(ctl_usage_migrate, stdout);
		return 0;
	}
	argv[0] = name_migrate; /* getopt names it in its messages */
	optind = 0; /* GNU getopt: full re-initialisation */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case CTL_OPT_DIR:
			dir = optarg;
			break;
		case CTL_OPT_DATABASE_URL:
			ctl_database_url = optarg;
			break;
		default:
			fputs(ctl_usage_migrate, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ctl_usage_error(
		    ctl_usage_migrate, "unexpected argument: %s", argv[optind]);
	conn = ctl_connect();
	if (conn == NULL)
		return CTL_EXIT_FAIL;
	rc = nrm_migrate(conn, dir, stdout, errbuf, sizeof(errbuf));
	if (rc != NRM_OK)
		ctl_err("%s", errbuf);
	PQfinish(conn);
	return rc == NRM_OK ? 0 : CTL_EXIT_FAIL;
}

static int
ctl_key_create(int argc, char **argv)
{
	static char name_key_create[] = "nrmctl key create";
	static const struct option opts[] = {
	    {"role", required_argument, NULL, CTL_OPT_ROLE},
	    {"agency", required_argument, NULL, CTL_OPT_AGENCY},
	    {"agency-kind", required_argument, NULL, CTL_OPT_AGENCY_KIND},
	    {"region", required_argument, NULL, CTL_OPT_REGION},
	    {"label", required_argument, NULL, CTL_OPT_LABEL},
	    {"database-url", required_argument, NULL, CTL_OPT_DATABASE_URL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct nrm_key_spec spec;
	char token[NRM_TOKEN_LEN + 1];
	char key_id[NRM_UUID_LEN + 1];
	char errbuf[1024];
	PGconn *conn;
	int c;
	int rc;

	if (ctl_is_help(argc, argv)) {
		fputs(ctl_usage_key_create, stdout);
		return 0;
	}
	memset(&spec, 0, sizeof(spec));
	argv[0] = name_key_create; /* getopt names it in its messages */
	optind = 0; /* GNU getopt: full re-initialisation */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case CTL_OPT_ROLE:
			spec.role = optarg;
			break;
		case CTL_OPT_AGENCY:
			spec.agency = optarg;
			break;
		case CTL_OPT_AGENCY_KIND:
			spec.agency_kind = optarg;
			break;
		case CTL_OPT_REGION:
			if (spec.n_regions == NRM_KEY_MAX_REGIONS)
				return ctl_usage_error(
				    ctl_usage_key_create, "too many regions");
			spec.regions[spec.n_regions++] = optarg;
			break;
		case CTL_OPT_LABEL:
			spec.label = optarg;
			break;
		case CTL_OPT_DATABASE_URL:
			ctl_database_url = optarg;
			break;
		default:
			fputs(ctl_usage_key_create, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ctl_usage_error(ctl_usage_key_create,
		    "unexpected argument: %s", argv[optind]);
	if (spec.role == NULL)
		return ctl_usage_error(
		    ctl_usage_key_create, "missing %s", "--role");
	if (spec.agency == NULL)
		return ctl_usage_error(
		    ctl_usage_key_create, "missing %s", "--agency");
	if (spec.agency_kind == NULL)
		return ctl_usage_error(
		    ctl_usage_key_create, "missing %s", "--agency-kind");
	conn = ctl_connect();
	if (conn == NULL)
		return CTL_EXIT_FAIL;
	rc = nrm_key_create(conn, &spec, token, key_id, errbuf, sizeof(errbuf));
	PQfinish(conn);
	if (rc != NRM_OK) {
		ctl_err("%s", errbuf);
		return CTL_EXIT_FAIL;
	}
	fprintf(stderr,
	    "nrmctl: created key %s role=%s agency=\"%s\" "
	    "kind=%s",
	    key_id, spec.role, spec.agency, spec.agency_kind);
	for (int i = 0; i < spec.n_regions; i++)
		fprintf(stderr, "%s%s", i == 0 ? " regions=" : ",",
		    spec.regions[i]);
	fputs(
	    "\nnrmctl: the token below is shown once; store it now\n", stderr);
	printf("%s\n", token);
	fflush(stdout);
	OPENSSL_cleanse(token, sizeof(token));
	return 0;
}

static int
ctl_key_list(int argc, char **argv)
{
	static char name_key_list[] = "nrmctl key list";
	static const struct option opts[] = {
	    {"database-url", required_argument, NULL, CTL_OPT_DATABASE_URL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char errbuf[1024];
	PGconn *conn;
	int c;
	int rc;

	if (ctl_is_help(argc, argv)) {
		fputs(ctl_usage_key_list, stdout);
		return 0;
	}
	argv[0] = name_key_list; /* getopt names it in its messages */
	optind = 0; /* GNU getopt: full re-initialisation */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c != CTL_OPT_DATABASE_URL) {
			fputs(ctl_usage_key_list, stderr);
			return CTL_EXIT_USAGE;
		}
		ctl_database_url = optarg;
	}
	if (optind < argc)
		return ctl_usage_error(ctl_usage_key_list,
		    "unexpected argument: %s", argv[optind]);
	conn = ctl_connect();
	if (conn == NULL)
		return CTL_EXIT_FAIL;
	rc = nrm_key_list(conn, stdout, errbuf, sizeof(errbuf));
	if (rc != NRM_OK)
		ctl_err("%s", errbuf);
	PQfinish(conn);
	return rc == NRM_OK ? 0 : CTL_EXIT_FAIL;
}

static int
ctl_key_revoke(int argc, char **argv)
{
	static char name_key_revoke[] = "nrmctl key revoke";
	static const struct option opts[] = {
	    {"database-url", required_argument, NULL, CTL_OPT_DATABASE_URL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char errbuf[1024];
	PGconn *conn;
	bool already;
	int c;
	int rc;

	if (ctl_is_help(argc, argv)) {
		fputs(ctl_usage_key_revoke, stdout);
		return 0;
	}
	argv[0] = name_key_revoke; /* getopt names it in its messages */
	optind = 0; /* GNU getopt: full re-initialisation */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c != CTL_OPT_DATABASE_URL) {
			fputs(ctl_usage_key_revoke, stderr);
			return CTL_EXIT_USAGE;
		}
		ctl_database_url = optarg;
	}
	if (argc - optind != 1)
		return ctl_usage_error(
		    ctl_usage_key_revoke, "expected exactly one key id");
	conn = ctl_connect();
	if (conn == NULL)
		return CTL_EXIT_FAIL;
	rc = nrm_key_revoke(
	    conn, argv[optind], &already, errbuf, sizeof(errbuf));
	PQfinish(conn);
	if (rc != NRM_OK) {
		ctl_err("%s", errbuf);
		return CTL_EXIT_FAIL;
	}
	if (already)
		fprintf(stderr, "nrmctl: key %s was already revoked\n",
		    argv[optind]);
	else
		fprintf(stderr, "nrmctl: revoked key %s\n", argv[optind]);
	return 0;
}

static int
ctl_key(int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage_error(ctl_usage_key, "missing %s",
		    "key command (create, list, revoke)");
	if (strcmp(argv[1], "create") == 0)
		return ctl_key_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return ctl_key_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "revoke") == 0)
		return ctl_key_revoke(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(ctl_usage_key, stdout);
		return 0;
	}
	return ctl_usage_error(
	    ctl_usage_key, "unknown key command: %s", argv[1]);
}

static int
ctl_config(int argc, char **argv)
{
	const char *dir = "config/routing";
	struct nrm_router *router = NULL;
	struct nrm_diag diag;
	char *text;
	int rc;

	if (argc < 2 || ctl_is_help(argc, argv)) {
		fputs(ctl_usage_config, argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "check") != 0)
		return ctl_usage_error(
		    ctl_usage_config, "unknown config command: %s", argv[1]);
	if (argc > 3)
		return ctl_usage_error(
		    ctl_usage_config, "unexpected argument: %s", argv[3]);
	if (argc == 3)
		dir = argv[2];
	nrm_diag_init(&diag);
	rc = nrm_routing_load_dir(dir, &router, &diag);
	if (rc == NRM_OK) {
		text = nrm_router_coverage_text(router);
		if (text != NULL)
			fputs(text, stdout);
		free(text);
		printf("routing configuration %s: version %s\n", dir,
		    nrm_router_version(router));
	}
	text = nrm_diag_text(&diag);
	if (text != NULL)
		fputs(text, rc == NRM_OK ? stdout : stderr);
	free(text);
	if (rc != NRM_OK)
		fprintf(stderr, "nrmctl: %s refused: %d error(s)\n", dir,
		    nrm_diag_errors(&diag));
	nrm_diag_free(&diag);
	nrm_router_free(router);
	return rc == NRM_OK ? 0 : 1;
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
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return ctl_usage_error(ctl_usage_main, "missing %s", "command");
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "migrate") == 0)
		return ctl_migrate(argc, argv);
	if (strcmp(argv[0], "key") == 0)
		return ctl_key(argc, argv);
	if (strcmp(argv[0], "config") == 0)
		return ctl_config(argc, argv);
	if (strcmp(argv[0], "help") == 0) {
		fputs(ctl_usage_main, stdout);
		return 0;
	}
	return ctl_usage_error(ctl_usage_main, "unknown command: %s", argv[0]);
}
