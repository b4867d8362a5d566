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
#include "ctl_db.h"
#include "keys.h"
#include "log.h"
#include "routing.h"
#include "migrate.h"
#include "nrm/nrm.h"

#define CTL_VERSION "0.1.0"
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2

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

/*
 * What a database subcommand runs once connected: NRM_ERR with err set,
 * else the exit status.
 */
typedef int (*ctl_run_cb)(PGconn *conn, void *arg, struct nrm_error *err);

/*
 * Connect with the configured URL, run, disconnect; report an error as
 * "nrmctl: could not ..." and return the exit status.
 */
static int
ctl_with_db(ctl_run_cb run, void *arg)
{
	struct nrm_error err;
	PGconn *conn;
	int rc;

	nrm_error_clear(&err);
	if (nrm_ctl_connect(ctl_database_url, &conn, &err) != NRM_OK) {
		ctl_err("%s", err.detail);
		return CTL_EXIT_FAIL;
	}
	rc = run(conn, arg, &err);
	PQfinish(conn);
	if (rc == NRM_ERR) {
		ctl_err("%s", err.detail);
		return CTL_EXIT_FAIL;
	}
	return rc;
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

/*
 * One option of a subcommand, --NAME VALUE (every option takes a value).
 * The value goes to *value (the last one wins), or, when `list` is set,
 * is appended to list[*n] (at most `max`; one more is the usage error
 * `too_many`).  `required`: leaving it out is the usage error
 * "missing --NAME".  --help is every subcommand's, --database-url every
 * one's that talks to the database (`db`).
 */
struct ctl_opt {
	const char *name;
	const char **value;
	bool required;
	const char **list;
	int *n;
	int max;
	const char *too_many;
};

#define CTL_PARSED (-1) /* ctl_parse: go on */
#define CTL_OPTS_MAX 8

/*
 * Parse a subcommand's options (argv[0] is the subcommand; `name` is
 * what getopt calls it in its messages).  `args`: whether arguments
 * may follow the options (the caller checks them), else one is the
 * usage error "unexpected argument".
 * Returns CTL_PARSED with *first at the first positional argument, or
 * the exit status to return at once: 0 after printing `usage` for
 * -h/--help, CTL_EXIT_USAGE after a usage error.
 */
static int
ctl_parse(int argc, char **argv, char *name, const char *usage,
    const struct ctl_opt *opts, int n_opts, bool db, bool args, int *first)
{
	struct option lo[CTL_OPTS_MAX + 3];
	int n = 0, c;

	if (ctl_is_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	for (int i = 0; i < n_opts && i < CTL_OPTS_MAX; i++)
		lo[n++] =
		    (struct option){opts[i].name, required_argument, NULL, i};
	if (db)
		lo[n++] = (struct option){"database-url", required_argument,
		    NULL, CTL_OPT_DATABASE_URL};
	lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
	lo[n] = (struct option){NULL, 0, NULL, 0};
	argv[0] = name; /* getopt names it in its messages */
	optind = 0; /* GNU getopt: full re-initialisation */
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		const struct ctl_opt *o =
		    c >= 0 && c < n_opts ? &opts[c] : NULL;

		if (c == CTL_OPT_DATABASE_URL) {
			ctl_database_url = optarg;
		} else if (o != NULL && o->list == NULL) {
			*o->value = optarg;
		} else if (o != NULL) {
			if (*o->n == o->max)
				return ctl_usage_error(
				    usage, "%s", o->too_many);
			o->list[(*o->n)++] = optarg;
		} else {
			fputs(usage, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (!args && optind < argc)
		return ctl_usage_error(
		    usage, "unexpected argument: %s", argv[optind]);
	for (int i = 0; i < n_opts; i++)
		if (opts[i].required && *opts[i].value == NULL)
			return ctl_usage_error(
			    usage, "missing --%s", opts[i].name);
	*first = optind;
	return CTL_PARSED;
}

/* nrm_migrate() still reports into a buffer: its own message. */
struct ctl_migrate_args {
	const char *dir;
	char errbuf[1024];
};

static int
ctl_migrate_run(PGconn *conn, void *arg, struct nrm_error *err)
{
	struct ctl_migrate_args *a = arg;

	NRM_UNUSED(err);
	if (nrm_migrate(conn, a->dir, stdout, a->errbuf, sizeof(a->errbuf)) ==
	    NRM_OK)
		return 0;
	ctl_err("%s", a->errbuf);
	return CTL_EXIT_FAIL;
}

static int
ctl_migrate(int argc, char **argv)
{
	static char name[] = "nrmctl migrate";
	struct ctl_migrate_args a = {.dir = "sql"};
	const struct ctl_opt opts[] = {
	    {.name = "dir", .value = &a.dir},
	};
	int first;
	int rc;

	rc = ctl_parse(argc, argv, name, ctl_usage_migrate, opts,
	    NRM_ARRAY_LEN(opts), true, false, &first);
	if (rc != CTL_PARSED)
		return rc;
	return ctl_with_db(ctl_migrate_run, &a);
}

static int
ctl_key_create_run(PGconn *conn, void *arg, struct nrm_error *err)
{
	const struct nrm_key_spec *spec = arg;
	char token[NRM_TOKEN_LEN + 1];
	char key_id[NRM_UUID_LEN + 1];

	if (nrm_key_create(conn, spec, token, key_id, err) != NRM_OK)
		return NRM_ERR;
	fprintf(stderr,
	    "nrmctl: created key %s role=%s agency=\"%s\" "
	    "kind=%s",
	    key_id, spec->role, spec->agency, spec->agency_kind);
	for (int i = 0; i < spec->n_regions; i++)
		fprintf(stderr, "%s%s", i == 0 ? " regions=" : ",",
		    spec->regions[i]);
	fputs(
	    "\nnrmctl: the token below is shown once; store it now\n", stderr);
	printf("%s\n", token);
	fflush(stdout);
	OPENSSL_cleanse(token, sizeof(token));
	return 0;
}

static int
ctl_key_create(int argc, char **argv)
{
	static char name[] = "nrmctl key create";
	struct nrm_key_spec spec;
	const struct ctl_opt opts[] = {
	    {.name = "role", .value = &spec.role, .required = true},
	    {.name = "agency", .value = &spec.agency, .required = true},
	    {.name = "agency-kind",
		.value = &spec.agency_kind,
		.required = true},
	    {.name = "region",
		.list = spec.regions,
		.n = &spec.n_regions,
		.max = NRM_KEY_MAX_REGIONS,
		.too_many = "too many regions"},
	    {.name = "label", .value = &spec.label},
	};
	int first;
	int rc;

	memset(&spec, 0, sizeof(spec));
	rc = ctl_parse(argc, argv, name, ctl_usage_key_create, opts,
	    NRM_ARRAY_LEN(opts), true, false, &first);
	if (rc != CTL_PARSED)
		return rc;
	return ctl_with_db(ctl_key_create_run, &spec);
}

static int
ctl_key_list_run(PGconn *conn, void *arg, struct nrm_error *err)
{
	NRM_UNUSED(arg);
	return nrm_key_list(conn, stdout, err);
}

static int
ctl_key_list(int argc, char **argv)
{
	static char name[] = "nrmctl key list";
	int first;
	int rc;

	rc = ctl_parse(
	    argc, argv, name, ctl_usage_key_list, NULL, 0, true, false, &first);
	if (rc != CTL_PARSED)
		return rc;
	return ctl_with_db(ctl_key_list_run, NULL);
}

static int
ctl_key_revoke_run(PGconn *conn, void *arg, struct nrm_error *err)
{
	const char *id = arg;
	bool already;

	if (nrm_key_revoke(conn, id, &already, err) != NRM_OK)
		return NRM_ERR;
	if (already)
		fprintf(stderr, "nrmctl: key %s was already revoked\n", id);
	else
		fprintf(stderr, "nrmctl: revoked key %s\n", id);
	return 0;
}

static int
ctl_key_revoke(int argc, char **argv)
{
	static char name[] = "nrmctl key revoke";
	int first;
	int rc;

	rc = ctl_parse(argc, argv, name, ctl_usage_key_revoke, NULL, 0, true,
	    true, &first);
	if (rc != CTL_PARSED)
		return rc;
	if (argc - first != 1)
		return ctl_usage_error(
		    ctl_usage_key_revoke, "expected exactly one key id");
	return ctl_with_db(ctl_key_revoke_run, argv[first]);
}

/* The options of audit verify, export and checkpoint. */
struct ctl_audit_args {
	const char *from;
	const char *to;
	const char *checkpoints;
	const char *public_key;
	const char *key;
};

static int
ctl_audit_verify_run(PGconn *conn, void *arg, struct nrm_error *err)
{
	const struct ctl_audit_args *a = arg;
	int rc;

	rc = nrm_audit_verify(conn, a->checkpoints, a->public_key, stdout, err);
	if (rc == NRM_ERR)
		return NRM_ERR;
	return rc == NRM_AUDIT_INTACT ? 0 : CTL_EXIT_FAIL;
}

static int
ctl_audit_verify(int argc, char **argv)
{
	static char name[] = "nrmctl audit verify";
	struct ctl_audit_args a = {0};
	const struct ctl_opt opts[] = {
	    {.name = "checkpoints", .value = &a.checkpoints},
	    {.name = "public-key", .value = &a.public_key},
	};
	int first;
	int rc;

	rc = ctl_parse(argc, argv, name, ctl_usage_audit_verify, opts,
	    NRM_ARRAY_LEN(opts), true, false, &first);
	if (rc != CTL_PARSED)
		return rc;
	if (a.checkpoints != NULL && a.public_key == NULL)
		return ctl_usage_error(
		    ctl_usage_audit_verify, "--checkpoints needs --public-key");
	if (a.checkpoints == NULL && a.public_key != NULL)
		return ctl_usage_error(
		    ctl_usage_audit_verify, "--public-key needs --checkpoints");
	return ctl_with_db(ctl_audit_verify_run, &a);
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
ctl_audit_export_run(PGconn *conn, void *arg, struct nrm_error *err)
{
	const struct ctl_audit_args *a = arg;

	return nrm_audit_export(
	    conn, a->from, a->to, a->checkpoints, a->public_key, stdout, err);
}

static int
ctl_audit_export(int argc, char **argv)
{
	static char name[] = "nrmctl audit export";
	struct ctl_audit_args a = {0};
	const struct ctl_opt opts[] = {
	    {.name = "from", .value = &a.from, .required = true},
	    {.name = "to", .value = &a.to, .required = true},
	    {.name = "checkpoints", .value = &a.checkpoints},
	    {.name = "public-key", .value = &a.public_key},
	};
	int first;
	int rc;

	rc = ctl_parse(argc, argv, name, ctl_usage_audit_export, opts,
	    NRM_ARRAY_LEN(opts), true, false, &first);
	if (rc != CTL_PARSED)
		return rc;
	if (!ctl_is_rfc3339ish(a.from))
		return ctl_usage_error(ctl_usage_audit_export,
		    "--from must be an RFC 3339 time (2024-05-01T00:00:00Z)");
	if (!ctl_is_rfc3339ish(a.to))
		return ctl_usage_error(ctl_usage_audit_export,
		    "--to must be an RFC 3339 time (2024-05-01T00:00:00Z)");
	if (a.public_key != NULL && a.checkpoints == NULL)
		return ctl_usage_error(
		    ctl_usage_audit_export, "--public-key needs --checkpoints");
	return ctl_with_db(ctl_audit_export_run, &a);
}

static int
ctl_audit_keygen(int argc, char **argv)
{
	static char name[] = "nrmctl audit keygen";
	const char *out = NULL;
	const struct ctl_opt opts[] = {
	    {.name = "out", .value = &out, .required = true},
	};
	struct nrm_error err;
	int first;
	int rc;

	rc = ctl_parse(argc, argv, name, ctl_usage_audit_keygen, opts,
	    NRM_ARRAY_LEN(opts), false, false, &first);
	if (rc != CTL_PARSED)
		return rc;
	nrm_error_clear(&err);
	if (nrm_audit_keygen(out, stdout, &err) != NRM_OK) {
		ctl_err("%s", err.detail);
		return CTL_EXIT_FAIL;
	}
	fprintf(
	    stderr, "nrmctl: wrote the private key to %s (mode 0600)\n", out);
	return 0;
}

static int
ctl_audit_checkpoint_run(PGconn *conn, void *arg, struct nrm_error *err)
{
	const struct ctl_audit_args *a = arg;

	return nrm_audit_checkpoint(conn, a->key, stdout, err);
}

static int
ctl_audit_checkpoint(int argc, char **argv)
{
	static char name[] = "nrmctl audit checkpoint";
	struct ctl_audit_args a = {0};
	const struct ctl_opt opts[] = {
	    {.name = "key", .value = &a.key, .required = true},
	};
	int first;
	int rc;

	rc = ctl_parse(argc, argv, name, ctl_usage_audit_checkpoint, opts,
	    NRM_ARRAY_LEN(opts), true, false, &first);
	if (rc != CTL_PARSED)
		return rc;
	return ctl_with_db(ctl_audit_checkpoint_run, &a);
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
