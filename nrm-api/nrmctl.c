/*
 * nrmctl.c - the admin tool: migrate the database and manage API keys.
 *
 *   nrmctl [--database-url URL] migrate [--dir DIR]
 *   nrmctl [--database-url URL] key create --role ROLE --agency NAME
 *          --agency-kind KIND [--region CODE ...] [--label TEXT]
 *   nrmctl [--database-url URL] key list
 *   nrmctl [--database-url URL] key revoke ID
 *   nrmctl [--database-url URL] audit verify [--checkpoints FILE
 *          --public-key PEM]
 *   nrmctl [--database-url URL] audit export --from TIME --to TIME
 *          [--checkpoints FILE [--public-key PEM]]
 *   nrmctl audit keygen --out FILE
 *   nrmctl [--database-url URL] audit checkpoint --key FILE
 *
 * The database URL comes from --database-url or NRM_DATABASE_URL; run
 * migrations and key commands as the owner role (nrm_owner).  Results go
 * to stdout (a new token alone on its line), details and errors to
 * stderr as "nrmctl: could not X: reason"; the exit status is 0 on
 * success, 1 on failure, 2 on a usage error.  Synchronous libpq is fine
 * here: this is a command-line tool, not the daemon.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "audit_cli.h"
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
	CTL_OPT_CHECKPOINTS,
	CTL_OPT_PUBLIC_KEY,
	CTL_OPT_FROM,
	CTL_OPT_TO,
	CTL_OPT_OUT,
	CTL_OPT_KEY,
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
    "  audit verify recompute the audit hash chain (and checkpoints)\n"
    "  audit export export audit events as JSON lines for archiving\n"
    "  audit keygen create an Ed25519 key for signed checkpoints\n"
    "  audit checkpoint\n"
    "               sign the current chain head as a checkpoint\n"
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

static const char ctl_usage_audit[] =
    "usage: nrmctl audit verify [--checkpoints FILE --public-key PEM]\n"
    "       nrmctl audit export --from TIME --to TIME\n"
    "                           [--checkpoints FILE [--public-key PEM]]\n"
    "       nrmctl audit keygen --out FILE\n"
    "       nrmctl audit checkpoint --key FILE\n"
    "\n"
    "The audit log is hash-chained in the database (docs/audit.md).\n"
    "verify and export read it as the connecting role (run them as the\n"
    "owner) and record their own audit event.\n";

static const char ctl_usage_audit_verify[] =
    "usage: nrmctl audit verify [--checkpoints FILE --public-key PEM]\n"
    "\n"
    "Recompute every link of the audit chain here, from the retention\n"
    "anchor (or the genesis value), with nrmctl's own implementation of\n"
    "the canonical encoding, cross-checked against the database's.\n"
    "Prints \"intact, N events, head H\" and exits 0, or prints the first\n"
    "problem, e.g. \"broken at position P (event E): expected X, found\n"
    "Y (hash mismatch)\", and exits 1.  Reasons: hash mismatch, missing\n"
    "event, order, canonical mismatch, unchained event, bad signature,\n"
    "checkpoint mismatch, beyond head.\n"
    "\n"
    "  --checkpoints FILE  JSON lines {\"pos\",\"hash\",\"at\",\"sig\"} as\n"
    "                      nrmd writes them: every signature must verify\n"
    "                      and every (pos, hash) must match the chain;\n"
    "                      this is what catches a chain rewritten\n"
    "                      consistently inside the database\n"
    "  --public-key PEM    the Ed25519 public key of the checkpoints\n"
    "                      (required with --checkpoints)\n";

static const char ctl_usage_audit_export[] =
    "usage: nrmctl audit export --from TIME --to TIME\n"
    "                           [--checkpoints FILE [--public-key PEM]]\n"
    "\n"
    "Write the sealed audit events with FROM <= at < TO (RFC 3339 times)\n"
    "to stdout as JSON lines "
    "{\"pos\",\"prev_hash\",\"hash\",\"event\":{...}},\n"
    "as the contiguous range of chain positions from the first to the\n"
    "last of them (so a few events just outside the window may come\n"
    "along), re-hashing every link on the way.  With --checkpoints the\n"
    "range runs on to the covering checkpoint (the first at or after its\n"
    "last position), which must match the chain and is written last as\n"
    "{\"checkpoint\":{...}}; with --public-key its signature is checked.\n"
    "Events not sealed yet are not exported (counted on stderr).\n";

static const char ctl_usage_audit_keygen[] =
    "usage: nrmctl audit keygen --out FILE\n"
    "\n"
    "Create a new Ed25519 private key for nrmd's audit checkpoints as\n"
    "PEM in FILE (mode 0600; an existing file is never overwritten) and\n"
    "print its public key (PEM) on stdout: keep that for\n"
    "nrmctl audit verify --public-key.  Needs no database.\n";

static const char ctl_usage_audit_checkpoint[] =
    "usage: nrmctl audit checkpoint --key FILE\n"
    "\n"
    "Sign the current chain head (api.audit_head()) with the Ed25519\n"
    "private key in FILE and print the checkpoint line, exactly as nrmd\n"
    "writes them (append it to a checkpoints file kept outside the\n"
    "database).  Seals nothing: the head is what nrmd's sealer reached.\n";

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
ctl_audit_verify(int argc, char **argv)
{
	static char name_audit_verify[] = "nrmctl audit verify";
	static const struct option opts[] = {
	    {"checkpoints", required_argument, NULL, CTL_OPT_CHECKPOINTS},
	    {"public-key", required_argument, NULL, CTL_OPT_PUBLIC_KEY},
	    {"database-url", required_argument, NULL, CTL_OPT_DATABASE_URL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *checkpoints = NULL;
	const char *public_key = NULL;
	char errbuf[1024];
	PGconn *conn;
	int c;
	int rc;

	if (ctl_is_help(argc, argv)) {
		fputs(ctl_usage_audit_verify, stdout);
		return 0;
	}
	argv[0] = name_audit_verify; /* getopt names it in its messages */
	optind = 0; /* GNU getopt: full re-initialisation */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case CTL_OPT_CHECKPOINTS:
			checkpoints = optarg;
			break;
		case CTL_OPT_PUBLIC_KEY:
			public_key = optarg;
			break;
		case CTL_OPT_DATABASE_URL:
			ctl_database_url = optarg;
			break;
		default:
			fputs(ctl_usage_audit_verify, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ctl_usage_error(ctl_usage_audit_verify,
		    "unexpected argument: %s", argv[optind]);
	if (checkpoints != NULL && public_key == NULL)
		return ctl_usage_error(
		    ctl_usage_audit_verify, "--checkpoints needs --public-key");
	if (checkpoints == NULL && public_key != NULL)
		return ctl_usage_error(
		    ctl_usage_audit_verify, "--public-key needs --checkpoints");
	conn = ctl_connect();
	if (conn == NULL)
		return CTL_EXIT_FAIL;
	rc = nrm_audit_verify(
	    conn, checkpoints, public_key, stdout, errbuf, sizeof(errbuf));
	PQfinish(conn);
	if (rc == NRM_ERR) {
		ctl_err("%s", errbuf);
		return CTL_EXIT_FAIL;
	}
	return rc == NRM_AUDIT_INTACT ? 0 : CTL_EXIT_FAIL;
}

/*
 * Starts like an RFC 3339 date, YYYY-MM-DD, and is at most 40 bytes:
 * keeps PostgreSQL's other spellings ("yesterday") out; PostgreSQL
 * parses the rest (a time without a zone is UTC).
 */
static bool
ctl_is_rfc3339ish(const char *s)
{
	static const char shape[] = "dddd-dd-dd";

	if (strlen(s) < 10 || strlen(s) > 40)
		return false;
	for (int i = 0; i < 10; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i])
				    : s[i] != shape[i])
			return false;
	}
	return s[10] == '\0' || s[10] == 'T' || s[10] == ' ';
}

static int
ctl_audit_export(int argc, char **argv)
{
	static char name_audit_export[] = "nrmctl audit export";
	static const struct option opts[] = {
	    {"from", required_argument, NULL, CTL_OPT_FROM},
	    {"to", required_argument, NULL, CTL_OPT_TO},
	    {"checkpoints", required_argument, NULL, CTL_OPT_CHECKPOINTS},
	    {"public-key", required_argument, NULL, CTL_OPT_PUBLIC_KEY},
	    {"database-url", required_argument, NULL, CTL_OPT_DATABASE_URL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *from = NULL;
	const char *to = NULL;
	const char *checkpoints = NULL;
	const char *public_key = NULL;
	char errbuf[1024];
	PGconn *conn;
	int c;
	int rc;

	if (ctl_is_help(argc, argv)) {
		fputs(ctl_usage_audit_export, stdout);
		return 0;
	}
	argv[0] = name_audit_export; /* getopt names it in its messages */
	optind = 0; /* GNU getopt: full re-initialisation */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case CTL_OPT_FROM:
			from = optarg;
			break;
		case CTL_OPT_TO:
			to = optarg;
			break;
		case CTL_OPT_CHECKPOINTS:
			checkpoints = optarg;
			break;
		case CTL_OPT_PUBLIC_KEY:
			public_key = optarg;
			break;
		case CTL_OPT_DATABASE_URL:
			ctl_database_url = optarg;
			break;
		default:
			fputs(ctl_usage_audit_export, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ctl_usage_error(ctl_usage_audit_export,
		    "unexpected argument: %s", argv[optind]);
	if (from == NULL)
		return ctl_usage_error(
		    ctl_usage_audit_export, "missing %s", "--from");
	if (to == NULL)
		return ctl_usage_error(
		    ctl_usage_audit_export, "missing %s", "--to");
	if (!ctl_is_rfc3339ish(from))
		return ctl_usage_error(ctl_usage_audit_export,
		    "--from must be an RFC 3339 time (2024-05-01T00:00:00Z)");
	if (!ctl_is_rfc3339ish(to))
		return ctl_usage_error(ctl_usage_audit_export,
		    "--to must be an RFC 3339 time (2024-05-01T00:00:00Z)");
	if (public_key != NULL && checkpoints == NULL)
		return ctl_usage_error(
		    ctl_usage_audit_export, "--public-key needs --checkpoints");
	conn = ctl_connect();
	if (conn == NULL)
		return CTL_EXIT_FAIL;
	rc = nrm_audit_export(conn, from, to, checkpoints, public_key, stdout,
	    errbuf, sizeof(errbuf));
	PQfinish(conn);
	if (rc != NRM_OK) {
		ctl_err("%s", errbuf);
		return CTL_EXIT_FAIL;
	}
	return 0;
}

static int
ctl_audit_keygen(int argc, char **argv)
{
	static char name_audit_keygen[] = "nrmctl audit keygen";
	static const struct option opts[] = {
	    {"out", required_argument, NULL, CTL_OPT_OUT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	char errbuf[1024];
	int c;

	if (ctl_is_help(argc, argv)) {
		fputs(ctl_usage_audit_keygen, stdout);
		return 0;
	}
	argv[0] = name_audit_keygen; /* getopt names it in its messages */
	optind = 0; /* GNU getopt: full re-initialisation */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c != CTL_OPT_OUT) {
			fputs(ctl_usage_audit_keygen, stderr);
			return CTL_EXIT_USAGE;
		}
		out = optarg;
	}
	if (optind < argc)
		return ctl_usage_error(ctl_usage_audit_keygen,
		    "unexpected argument: %s", argv[optind]);
	if (out == NULL)
		return ctl_usage_error(
		    ctl_usage_audit_keygen, "missing %s", "--out");
	if (nrm_audit_keygen(out, stdout, errbuf, sizeof(errbuf)) != NRM_OK) {
		ctl_err("%s", errbuf);
		return CTL_EXIT_FAIL;
	}
	fprintf(
	    stderr, "nrmctl: wrote the private key to %s (mode 0600)\n", out);
	return 0;
}

static int
ctl_audit_checkpoint(int argc, char **argv)
{
	static char name_audit_checkpoint[] = "nrmctl audit checkpoint";
	static const struct option opts[] = {
	    {"key", required_argument, NULL, CTL_OPT_KEY},
	    {"database-url", required_argument, NULL, CTL_OPT_DATABASE_URL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *key = NULL;
	char errbuf[1024];
	PGconn *conn;
	int c;
	int rc;

	if (ctl_is_help(argc, argv)) {
		fputs(ctl_usage_audit_checkpoint, stdout);
		return 0;
	}
	argv[0] = name_audit_checkpoint; /* getopt names it in its messages */
	optind = 0; /* GNU getopt: full re-initialisation */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case CTL_OPT_KEY:
			key = optarg;
			break;
		case CTL_OPT_DATABASE_URL:
			ctl_database_url = optarg;
			break;
		default:
			fputs(ctl_usage_audit_checkpoint, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ctl_usage_error(ctl_usage_audit_checkpoint,
		    "unexpected argument: %s", argv[optind]);
	if (key == NULL)
		return ctl_usage_error(
		    ctl_usage_audit_checkpoint, "missing %s", "--key");
	conn = ctl_connect();
	if (conn == NULL)
		return CTL_EXIT_FAIL;
	rc = nrm_audit_checkpoint(conn, key, stdout, errbuf, sizeof(errbuf));
	PQfinish(conn);
	if (rc != NRM_OK) {
		ctl_err("%s", errbuf);
		return CTL_EXIT_FAIL;
	}
	return 0;
}

/* A command group's subcommands: "key create", "audit verify", ... */
struct ctl_sub {
	const char *name;
	int (*fn)(int argc, char **argv);
};

/*
 * Run the subcommand argv[1] of a group (`what`, e.g. "key") from its
 * table; -h/--help prints `usage`; anything else is a usage error that
 * lists `names`.
 */
static int
ctl_dispatch(int argc, char **argv, const struct ctl_sub *subs,
    const char *usage, const char *what, const char *names)
{
	if (argc < 2)
		return ctl_usage_error(
		    usage, "missing %s command (%s)", what, names);
	for (const struct ctl_sub *c = subs; c->name != NULL; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->fn(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	return ctl_usage_error(usage, "unknown %s command: %s", what, argv[1]);
}

static int
ctl_key(int argc, char **argv)
{
	static const struct ctl_sub subs[] = {
	    {"create", ctl_key_create},
	    {"list", ctl_key_list},
	    {"revoke", ctl_key_revoke},
	    {NULL, NULL},
	};

	return ctl_dispatch(
	    argc, argv, subs, ctl_usage_key, "key", "create, list, revoke");
}

static int
ctl_audit(int argc, char **argv)
{
	static const struct ctl_sub subs[] = {
	    {"verify", ctl_audit_verify},
	    {"export", ctl_audit_export},
	    {"keygen", ctl_audit_keygen},
	    {"checkpoint", ctl_audit_checkpoint},
	    {NULL, NULL},
	};

	return ctl_dispatch(argc, argv, subs, ctl_usage_audit, "audit",
	    "verify, export, keygen, checkpoint");
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
	if (strcmp(argv[0], "audit") == 0)
		return ctl_audit(argc, argv);
	if (strcmp(argv[0], "help") == 0) {
		fputs(ctl_usage_main, stdout);
		return 0;
	}
	return ctl_usage_error(ctl_usage_main, "unknown command: %s", argv[0]);
}
