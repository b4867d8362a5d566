/*
 * ctl_cmds.c - nrmctl's subcommands: their usage texts, their options,
 * the checks across options, and what each runs once parsed (see
 * ctl_cmds.h; the work itself is keys.c's, persons.c's, migrate.c's
 * and the audit files').
 */
#include "ctl_cmds.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "audit_cli.h"
#include "crypto.h"
#include "migrate.h"
#include "indicators_file.h"
#include "kek_cli.h"
#include "publication.h"
#include "retention.h"
#include "routing.h"

#define OPT(field) offsetof(struct nrm_ctl_args, field)

static const char ctl_usage_migrate[] =
    "usage: nrmctl migrate [--dir DIR]\n"
    "\n"
    "Apply each DIR/NNNN_name.sql not yet recorded in nrm.schema_version,\n"
    "in version order, each in one transaction with its record.  Refuses\n"
    "when an applied file changed (unless DIR/released.sha256 lists its\n"
    "recorded checksum) or a version is missing.\n"
    "\n"
    "Then, when a migration ran or a repeatable file DIR/api/name.sql\n"
    "differs from what nrm.schema_repeatable records, apply every\n"
    "repeatable file (the current function definitions) in name order,\n"
    "in the last migration's transaction, and record their checksums.\n"
    "Concurrent runs wait for each other.\n"
    "\n"
    "options:\n"
    "  --dir DIR   migration directory (default: sql)\n";

static const char ctl_usage_key[] =
    "usage: nrmctl key create --role ROLE --agency NAME --agency-kind KIND\n"
    "                         [--region CODE ...] [--label TEXT]\n"
    "       nrmctl key list\n"
    "       nrmctl key revoke ID\n"
    "       nrmctl key bind --cert FILE ID\n";

static const char ctl_usage_key_create[] =
    "usage: nrmctl key create --role ROLE --agency NAME --agency-kind KIND\n"
    "                         [--region CODE ...] [--label TEXT]\n"
    "\n"
    "Create an API key.  The token is printed ALONE on stdout, once: it\n"
    "is not stored (only its SHA-256 is).  Details go to stderr.  The\n"
    "agency is created on first use.\n"
    "\n"
    "  --role ROLE         reporter, coordinator, assessor, investigator,\n"
    "                      auditor, analyst, admin, chain_director,\n"
    "                      privacy_officer\n"
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

static const char ctl_usage_key_bind[] =
    "usage: nrmctl key bind --cert FILE ID\n"
    "\n"
    "Bind the API key with this id to the client certificate in FILE\n"
    "(PEM): from then on nrmd accepts the key only over a TLS connection\n"
    "that presents this certificate, verified against\n"
    "tls_client_ca_file (docs/operations.md, mutual TLS), so a stolen\n"
    "token alone is refused (401).  The certificate's SHA-256 is stored\n"
    "and printed on stdout.  Binding again replaces the certificate.\n";

static const char ctl_usage_person[] =
    "usage: nrmctl person create --login LOGIN --name NAME --agency AGENCY\n"
    "                            --role ROLE [--region CODE ...]\n"
    "                            [--valid SECONDS]\n"
    "       nrmctl person list\n"
    "       nrmctl person disable LOGIN\n"
    "       nrmctl person enable LOGIN\n"
    "       nrmctl person reset [--valid SECONDS] LOGIN\n"
    "\n"
    "Personal accounts (docs/people.md).  Each change is audited with\n"
    "the operator (no key, no person).\n";

static const char ctl_usage_person_create[] =
    "usage: nrmctl person create --login LOGIN --name NAME --agency AGENCY\n"
    "                            --role ROLE [--region CODE ...]\n"
    "                            [--valid SECONDS]\n"
    "\n"
    "Create a person and print its one-time enrolment code ALONE on the\n"
    "last line of stdout, once: it is not stored (only its SHA-256 is).\n"
    "With it the person sets a password and a second factor (POST\n"
    "/v1/enrol).  Details go to stderr.\n"
    "\n"
    "  --login LOGIN     3 to 64 characters: a-z, 0-9, \".\", \"_\", \"-\"\n"
    "  --name NAME       the display name, 1 to 200 characters\n"
    "  --agency AGENCY   an existing agency's name or id\n"
    "  --role ROLE       reporter, coordinator, assessor, investigator,\n"
    "                    auditor, analyst, admin, chain_director,\n"
    "                    privacy_officer\n"
    "  --region CODE     a coordinator's region (VR13); repeat for\n"
    "                    several; coordinators need one\n"
    "  --valid SECONDS   how long the code works (default 86400, 60 to\n"
    "                    2592000)\n";

static const char ctl_usage_person_list[] =
    "usage: nrmctl person list\n"
    "\n"
    "List every person: login, role, agency, regions, status, whether\n"
    "enrolled, created, name.  No password hash, secret or code is ever\n"
    "shown.\n";

static const char ctl_usage_person_disable[] =
    "usage: nrmctl person disable LOGIN\n"
    "\n"
    "Disable the person: every session ends, no login until enabled.\n";

static const char ctl_usage_person_enable[] =
    "usage: nrmctl person enable LOGIN\n"
    "\n"
    "Enable a disabled person again (its credentials still hold).\n";

static const char ctl_usage_person_reset[] =
    "usage: nrmctl person reset [--valid SECONDS] LOGIN\n"
    "\n"
    "Drop the person's password, second factor and recovery codes, end\n"
    "every session, and print a new one-time enrolment code ALONE on the\n"
    "last line of stdout (earlier codes stop working).\n"
    "\n"
    "  --valid SECONDS   how long the code works (default 86400, 60 to\n"
    "                    2592000)\n";

static const char ctl_usage_audit[] =
    "usage: nrmctl audit verify [--checkpoints FILE --public-key PEM]\n"
    "       nrmctl audit export --from TIME --to TIME\n"
    "                           [--checkpoints FILE [--public-key PEM]]\n"
    "       nrmctl audit keygen --out FILE\n"
    "       nrmctl audit checkpoint --key FILE\n"
    "       nrmctl audit purge --before TIME --key FILE\n"
    "\n"
    "The audit log is hash-chained in the database (docs/audit.md).\n"
    "verify and export read it as the connecting role (the owner, or a\n"
    "login in nrm_audit_reader) and record their own audit event; purge\n"
    "runs as the owner.\n";

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
    "checkpoint mismatch, beyond head, unsigned anchor, bad anchor\n"
    "signature, checkpoint sequence, checkpoint chain.  Runs as the\n"
    "owner or as a login in the read-only role nrm_audit_reader.\n"
    "\n"
    "  --checkpoints FILE  the checkpoint file as nrmd writes it, with\n"
    "                      its rotated parts FILE.000001, ... (read in\n"
    "                      order): lines numbered and chained, every\n"
    "                      signature must verify and every (pos, hash)\n"
    "                      match the chain; this is what catches a chain\n"
    "                      rewritten consistently inside the database\n"
    "  --public-key PEM    the Ed25519 public key of the checkpoints; it\n"
    "                      also checks the retention anchor's signature\n"
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
    "usage: nrmctl audit checkpoint --key FILE [--checkpoints CPFILE]\n"
    "\n"
    "Sign the current chain head (api.audit_head()) with the Ed25519\n"
    "private key in FILE.  With --checkpoints: append the next numbered\n"
    "line, chained to the file's last one exactly as nrmd writes them,\n"
    "to CPFILE (created if missing; its series checked first; refused\n"
    "while a running nrmd holds the file: nrmd signs its own) and print\n"
    "it.  Without: print an unnumbered line (the first format, valid\n"
    "only before a file's numbered lines begin).  Seals nothing: the\n"
    "head is what nrmd's sealer reached.\n";

static const char ctl_usage_audit_purge[] =
    "usage: nrmctl audit purge --before TIME --key FILE\n"
    "\n"
    "Remove the oldest audit events (at < TIME, an RFC 3339 time) with\n"
    "audit.purge_before, and sign the retention anchor it leaves with the\n"
    "Ed25519 checkpoint key in FILE, in the same transaction (an anchor\n"
    "without a valid signature fails verification once it skips a\n"
    "checkpoint).  Refused, nothing purged, when TIME is younger than\n"
    "the minimum retention age audit.retention_policy.min_age (default\n"
    "5 years) or the log does not verify.  Run as the owner; export the\n"
    "period first (audit export).  Prints the purge's JSON answer.\n";

static const char ctl_usage_config[] =
    "usage: nrmctl [--database-url URL] config check [DIR]\n"
    "\n"
    "Load the routing configuration in DIR (default config/routing:\n"
    "regions.json, municipalities.csv, rules.json) exactly as nrmd does,\n"
    "print the coverage report (per region: municipalities, active,\n"
    "office, fallback, effective target) and every warning and error.\n"
    "Exit 0 when it loads, 1 on any error.  Needs no database; with\n"
    "--database-url (only then: not from $NRM_DATABASE_URL) it also\n"
    "warns, naming each, about the regions whose coordinator office has\n"
    "no coordinator at all (no active coordinator key or person of the\n"
    "region in that database).\n";

static const char ctl_usage_indicators[] =
    "usage: nrmctl indicators check [FILE]\n"
    "\n"
    "Load the indicators register FILE (default " NRM_INDICATORS_FILE_DEFAULT
    ")\n"
    "exactly as nrmd does and check every entry against the statistics\n"
    "vocabulary: unknown keys, bad or duplicate ids, missing Dutch or\n"
    "English texts, unknown measures or dimensions, a dimension the\n"
    "measure does not allow, more than two dimensions, a unit that does\n"
    "not fit the measure, a bad schedule (docs/indicators.md).  Exit 0\n"
    "with a one-line summary when it loads; exit 1 with every problem\n"
    "(path and message, one per line) otherwise.  Needs no database.\n";

static int
cmd_migrate_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	return nrm_migrate(conn, a->dir != NULL ? a->dir : "sql", stdout, err);
}

static int
cmd_key_create_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	const struct nrm_key_spec *spec = &a->spec;
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
cmd_key_list_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	NRM_UNUSED(a);
	return nrm_key_list(conn, stdout, err);
}

static int
cmd_key_revoke_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	bool already;

	if (nrm_key_revoke(conn, a->arg, &already, err) != NRM_OK)
		return NRM_ERR;
	if (already)
		fprintf(stderr, "nrmctl: key %s was already revoked\n", a->arg);
	else
		fprintf(stderr, "nrmctl: revoked key %s\n", a->arg);
	return 0;
}

static int
cmd_key_bind_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	char hex[65];

	if (nrm_key_bind(conn, a->arg, a->cert, hex, err) != NRM_OK)
		return NRM_ERR;
	printf("%s\n", hex);
	fprintf(stderr, "nrmctl: bound key %s to certificate sha256 %s\n",
	    a->arg, hex);
	return 0;
}

/* --valid SECONDS: 60..2592000 (30 days), default a day. */
static int
cmd_valid(const struct nrm_ctl_args *a)
{
	char *end;
	long v;

	if (a->valid == NULL)
		return NRM_PERSON_VALID_DEFAULT;
	v = strtol(a->valid, &end, 10);
	if (a->valid[0] == '\0' || *end != '\0' || v < 60 || v > 2592000)
		return -1;
	return (int)v;
}

static const char *
cmd_person_create_check(const struct nrm_ctl_args *a)
{
	if (!nrm_key_role_valid(a->spec.role))
		return "--role must be reporter, coordinator, assessor, "
		       "investigator, auditor, analyst, admin, "
		       "chain_director or privacy_officer";
	if (cmd_valid(a) < 0)
		return "--valid must be 60 to 2592000 seconds";
	return NULL;
}

static const char *
cmd_person_reset_check(const struct nrm_ctl_args *a)
{
	return cmd_valid(a) < 0 ? "--valid must be 60 to 2592000 seconds"
				: NULL;
}

/* The one-time code, alone on the last line of stdout. */
static void
cmd_print_code(char code[NRM_PERSON_CODE_LEN + 1])
{
	fputs("nrmctl: the enrolment code below is shown once; hand it to "
	      "the person\n",
	    stderr);
	printf("%s\n", code);
	fflush(stdout);
	OPENSSL_cleanse(code, NRM_PERSON_CODE_LEN + 1);
}

static int
cmd_person_create_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	struct nrm_person_spec spec = {
	    .login = a->login,
	    .display_name = a->name,
	    .agency = a->spec.agency,
	    .role = a->spec.role,
	    .regions = a->spec.regions,
	    .n_regions = a->spec.n_regions,
	    .valid_s = cmd_valid(a),
	};
	char code[NRM_PERSON_CODE_LEN + 1];
	char id[NRM_UUID_LEN + 1];

	if (nrm_person_create(conn, &spec, code, id, err) != NRM_OK)
		return NRM_ERR;
	fprintf(stderr,
	    "nrmctl: created person %s login=%s role=%s, enrolment code "
	    "valid %d s\n",
	    id, spec.login, spec.role, spec.valid_s);
	cmd_print_code(code);
	return 0;
}

static int
cmd_person_list_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	NRM_UNUSED(a);
	return nrm_person_list(conn, stdout, err);
}

/* disable, enable, reset: the command's name is the change. */
static int
cmd_person_change(PGconn *conn, const struct nrm_ctl_args *a, const char *op,
    struct nrm_error *err)
{
	char code[NRM_PERSON_CODE_LEN + 1];

	if (nrm_person_change(conn, a->arg, op, cmd_valid(a), code, err) !=
	    NRM_OK)
		return NRM_ERR;
	fprintf(stderr, "nrmctl: %s person %s\n", op, a->arg);
	if (code[0] != '\0')
		cmd_print_code(code);
	return 0;
}

static int
cmd_person_disable_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	return cmd_person_change(conn, a, "disable", err);
}

static int
cmd_person_enable_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	return cmd_person_change(conn, a, "enable", err);
}

static int
cmd_person_reset_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	return cmd_person_change(conn, a, "reset", err);
}

static const char *
cmd_audit_verify_check(const struct nrm_ctl_args *a)
{
	if (a->checkpoints != NULL && a->public_key == NULL)
		return "--checkpoints needs --public-key";
	if (a->checkpoints == NULL && a->public_key != NULL)
		return "--public-key needs --checkpoints";
	return NULL;
}

static int
cmd_audit_verify_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	int rc;

	rc = nrm_audit_verify(conn, a->checkpoints, a->public_key, stdout, err);
	if (rc == NRM_ERR)
		return NRM_ERR;
	return rc == NRM_AUDIT_INTACT ? 0 : NRM_CTL_EXIT_FAIL;
}

/*
 * Starts like an RFC 3339 date, YYYY-MM-DD, and is at most 40 bytes:
 * keeps PostgreSQL's other spellings ("yesterday") out; PostgreSQL
 * parses the rest (a time without a zone is UTC).
 */
static bool
cmd_is_rfc3339ish(const char *s)
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

static const char *
cmd_audit_export_check(const struct nrm_ctl_args *a)
{
	if (!cmd_is_rfc3339ish(a->from))
		return "--from must be an RFC 3339 time (2024-05-01T00:00:00Z)";
	if (!cmd_is_rfc3339ish(a->to))
		return "--to must be an RFC 3339 time (2024-05-01T00:00:00Z)";
	if (a->public_key != NULL && a->checkpoints == NULL)
		return "--public-key needs --checkpoints";
	return NULL;
}

static int
cmd_audit_export_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	return nrm_audit_export(
	    conn, a->from, a->to, a->checkpoints, a->public_key, stdout, err);
}

static int
cmd_audit_keygen_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	NRM_UNUSED(conn);
	if (nrm_audit_keygen(a->out, stdout, err) != NRM_OK)
		return NRM_ERR;
	fprintf(stderr, "nrmctl: wrote the private key to %s (mode 0600)\n",
	    a->out);
	return 0;
}

static int
cmd_audit_checkpoint_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	return nrm_audit_checkpoint(conn, a->key, a->checkpoints, stdout, err);
}

/*
 * The end of a configuration check of `what` (rc from its load): the
 * diagnostics on stdout when it loaded (with `quiet`, only when there
 * are warnings), else on stderr with "nrmctl: WHAT refused: N
 * error(s)"; d is released.  Returns the exit status.
 */
static int
ctl_check_verdict(const char *what, struct nrm_diag *d, int rc, bool quiet)
{
	char *text = NULL;

	if (rc != NRM_OK || !quiet || nrm_diag_warnings(d) > 0)
		text = nrm_diag_text(d);
	if (text != NULL)
		fputs(text, rc == NRM_OK ? stdout : stderr);
	free(text);
	if (rc != NRM_OK)
		fprintf(stderr, "nrmctl: %s refused: %d error(s)\n", what,
		    nrm_diag_errors(d));
	nrm_diag_free(d);
	return rc == NRM_OK ? 0 : NRM_CTL_EXIT_FAIL;
}

static void
cmd_unstaffed_print(const struct nrm_routing_region *reg, void *arg)
{
	NRM_UNUSED(arg);
	printf("warning: region %s (%s): its office \"%s\" has no "
	       "coordinator key or person\n",
	    reg->code, reg->name, reg->office_name);
}

/*
 * The regions with an office but no coordinator key or person in the
 * database (api.coverage_uncovered's "unstaffed"), printed as warnings.
 */
static int
cmd_config_unstaffed(
    PGconn *conn, const struct nrm_router *router, struct nrm_error *err)
{
	const char *codes[128];
	PGresult *res = PQexec(conn,
	    "SELECT u FROM pg_catalog.jsonb_array_elements_text("
	    "api.coverage_uncovered(60)->'unstaffed') u");
	int n, rc = NRM_ERR;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		nrm_error_set(err, NRM_E_INTERNAL, "",
		    "could not read the coordinators: %s",
		    PQresultErrorMessage(res));
		goto out;
	}
	n = PQntuples(res) < 128 ? PQntuples(res) : 128;
	for (int i = 0; i < n; i++)
		codes[i] = PQgetvalue(res, i, 0);
	n = nrm_routing_unstaffed(router, codes, n, cmd_unstaffed_print, NULL);
	printf("%d region(s) with an office and no coordinator\n", n);
	rc = NRM_OK;
out:
	PQclear(res);
	return rc;
}

static const char *
cmd_audit_purge_check(const struct nrm_ctl_args *a)
{
	if (!cmd_is_rfc3339ish(a->before))
		return "--before must be an RFC 3339 time "
		       "(2019-01-01T00:00:00Z)";
	return NULL;
}

static int
cmd_audit_purge_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	return nrm_audit_purge(conn, a->before, a->key, stdout, err);
}

static int
cmd_config_check_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	const char *dir = a->arg != NULL ? a->arg : "config/routing";
	struct nrm_router *router = NULL;
	struct nrm_diag diag;
	char *text;
	int rc, db_rc = NRM_OK;

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
	if (rc == NRM_OK && conn != NULL)
		db_rc = cmd_config_unstaffed(conn, router, err);
	nrm_router_free(router);
	rc = ctl_check_verdict(dir, &diag, rc, false);
	return db_rc != NRM_OK ? NRM_ERR : rc;
}

static int
cmd_indicators_check_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	const char *file =
	    a->arg != NULL ? a->arg : NRM_INDICATORS_FILE_DEFAULT;
	struct nrm_indicators *reg = NULL;
	struct nrm_diag diag;
	int rc;

	NRM_UNUSED(conn);
	NRM_UNUSED(err);
	nrm_diag_init(&diag);
	rc = nrm_indicators_load_file(file, &reg, &diag);
	if (rc == NRM_OK)
		printf("indicators register %s: %d indicators, %d warnings\n",
		    file, nrm_indicators_count(reg), nrm_diag_warnings(&diag));
	nrm_indicators_free(reg);
	return ctl_check_verdict(file, &diag, rc, true);
}

static const char ctl_usage_publication[] =
    "usage: nrmctl publication verify (--file FILE | --id ID)\n"
    "                                 --public-key PEM\n"
    "\n"
    "Check a publication of the indicators register (docs/indicators.md):\n"
    "the canonical JSON of its content must hash to content_sha256, the\n"
    "signature must verify with the Ed25519 public key of the audit\n"
    "signing key (nrmctl audit keygen printed it), and period and\n"
    "revision must be the signed ones.  Prints \"verified: ...\" and exits\n"
    "0, or names what failed and exits 1.\n"
    "\n"
    "  --file FILE       the JSON of GET /v1/publications/{id}\n"
    "  --id ID           read the publication from the database instead\n"
    "                    (--database-url, as the owner)\n"
    "  --public-key PEM  the Ed25519 public key\n";

/* Exactly one of --file and --id. */
static const char *
cmd_publication_verify_check(const struct nrm_ctl_args *a)
{
	if ((a->file == NULL) == (a->id == NULL))
		return "give exactly one of --file and --id";
	return NULL;
}

static int
cmd_publication_verify_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	return nrm_publication_verify(
	    conn, a->file, a->id, a->public_key, stdout, err);
}

static int
cmd_retention_status_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	return nrm_retention_status(conn, a->next, stdout, err);
}

const struct nrm_ctl_group nrm_ctl_groups[] = {
    {"key", ctl_usage_key, "create, list, revoke, bind"},
    {"person", ctl_usage_person, "create, list, disable, enable, reset"},
    {"audit", ctl_usage_audit, "verify, export, keygen, checkpoint, purge"},
    {"config", ctl_usage_config, "check"},
    {"indicators", ctl_usage_indicators, "check"},
    {"publication", ctl_usage_publication, "verify"},
    {"keys", nrm_ctl_usage_keys, "rotate, retire, status, pseudonyms"},
    {"data", nrm_ctl_usage_data, "encrypt"},
    {"retention", nrm_ctl_usage_retention, "status"},
    {NULL, NULL, NULL},
};

const struct nrm_ctl_cmd nrm_ctl_cmds[] = {
    {.name = "migrate",
	.usage = ctl_usage_migrate,
	.opts = {{"dir", OPT(dir)}},
	.db = true,
	.run_cb = cmd_migrate_run},
    {.group = "key",
	.name = "create",
	.usage = ctl_usage_key_create,
	.opts =
	    {
		{"role", OPT(spec.role), .required = true},
		{"agency", OPT(spec.agency), .required = true},
		{"agency-kind", OPT(spec.agency_kind), .required = true},
		{"region", 0, .regions = true},
		{"label", OPT(spec.label)},
	    },
	.db = true,
	.run_cb = cmd_key_create_run},
    {.group = "key",
	.name = "list",
	.usage = ctl_usage_key_list,
	.db = true,
	.run_cb = cmd_key_list_run},
    {.group = "key",
	.name = "revoke",
	.usage = ctl_usage_key_revoke,
	.db = true,
	.arg = "expected exactly one key id",
	.run_cb = cmd_key_revoke_run},
    {.group = "key",
	.name = "bind",
	.usage = ctl_usage_key_bind,
	.opts = {{"cert", OPT(cert), .required = true}},
	.db = true,
	.arg = "expected exactly one key id",
	.run_cb = cmd_key_bind_run},
    {.group = "person",
	.name = "create",
	.usage = ctl_usage_person_create,
	.opts =
	    {
		{"login", OPT(login), .required = true},
		{"name", OPT(name), .required = true},
		{"agency", OPT(spec.agency), .required = true},
		{"role", OPT(spec.role), .required = true},
		{"region", 0, .regions = true},
		{"valid", OPT(valid)},
	    },
	.db = true,
	.check_cb = cmd_person_create_check,
	.run_cb = cmd_person_create_run},
    {.group = "person",
	.name = "list",
	.usage = ctl_usage_person_list,
	.db = true,
	.run_cb = cmd_person_list_run},
    {.group = "person",
	.name = "disable",
	.usage = ctl_usage_person_disable,
	.db = true,
	.arg = "expected exactly one login",
	.run_cb = cmd_person_disable_run},
    {.group = "person",
	.name = "enable",
	.usage = ctl_usage_person_enable,
	.db = true,
	.arg = "expected exactly one login",
	.run_cb = cmd_person_enable_run},
    {.group = "person",
	.name = "reset",
	.usage = ctl_usage_person_reset,
	.opts = {{"valid", OPT(valid)}},
	.db = true,
	.arg = "expected exactly one login",
	.check_cb = cmd_person_reset_check,
	.run_cb = cmd_person_reset_run},
    {.group = "audit",
	.name = "verify",
	.usage = ctl_usage_audit_verify,
	.opts = {{"checkpoints", OPT(checkpoints)},
	    {"public-key", OPT(public_key)}},
	.db = true,
	.check_cb = cmd_audit_verify_check,
	.run_cb = cmd_audit_verify_run},
    {.group = "audit",
	.name = "export",
	.usage = ctl_usage_audit_export,
	.opts =
	    {
		{"from", OPT(from), .required = true},
		{"to", OPT(to), .required = true},
		{"checkpoints", OPT(checkpoints)},
		{"public-key", OPT(public_key)},
	    },
	.db = true,
	.check_cb = cmd_audit_export_check,
	.run_cb = cmd_audit_export_run},
    {.group = "audit",
	.name = "keygen",
	.usage = ctl_usage_audit_keygen,
	.opts = {{"out", OPT(out), .required = true}},
	.run_cb = cmd_audit_keygen_run},
    {.group = "audit",
	.name = "checkpoint",
	.usage = ctl_usage_audit_checkpoint,
	.opts = {{"key", OPT(key), .required = true},
	    {"checkpoints", OPT(checkpoints)}},
	.db = true,
	.run_cb = cmd_audit_checkpoint_run},
    {.group = "audit",
	.name = "purge",
	.usage = ctl_usage_audit_purge,
	.opts =
	    {
		{"before", OPT(before), .required = true},
		{"key", OPT(key), .required = true},
	    },
	.db = true,
	.check_cb = cmd_audit_purge_check,
	.run_cb = cmd_audit_purge_run},
    {.group = "config",
	.name = "check",
	.usage = ctl_usage_config,
	.arg_optional = true,
	.db_optional = true,
	.run_cb = cmd_config_check_run},
    {.group = "indicators",
	.name = "check",
	.usage = ctl_usage_indicators,
	.arg_optional = true,
	.run_cb = cmd_indicators_check_run},
    {.group = "publication",
	.name = "verify",
	.usage = ctl_usage_publication,
	.opts =
	    {
		{"file", OPT(file)},
		{"id", OPT(id)},
		{"public-key", OPT(public_key), .required = true},
	    },
	.db_if_id = true,
	.check_cb = cmd_publication_verify_check,
	.run_cb = cmd_publication_verify_run},
    {.group = "keys",
	.name = "rotate",
	.usage = nrm_ctl_usage_keys_rotate,
	.opts = {{"kek", OPT(kek), .required = true},
	    {"old-keks", OPT(old_keks), .required = true},
	    {"batch", OPT(batch)}, {"pause-ms", OPT(pause_ms)},
	    {"pkcs11-uri", OPT(pkcs11_uri)},
	    {"pkcs11-pin-file", OPT(pkcs11_pin_file)},
	    {"pkcs11-module", OPT(pkcs11_module)}},
	.db = true,
	.check_cb = nrm_ctl_batch_check,
	.run_cb = nrm_ctl_keys_rotate_run},
    {.group = "keys",
	.name = "retire",
	.usage = nrm_ctl_usage_keys_retire,
	.db = true,
	.arg = "expected exactly one KEK id",
	.run_cb = nrm_ctl_keys_retire_run},
    {.group = "keys",
	.name = "status",
	.usage = nrm_ctl_usage_keys_status,
	.db = true,
	.run_cb = nrm_ctl_keys_status_run},
    {.group = "keys",
	.name = "pseudonyms",
	.usage = nrm_ctl_usage_keys_pseudonyms,
	.opts = {{"pseudonym-key", OPT(pseudonym_key), .required = true},
	    {"kek", OPT(kek), .required = true}, {"old-keks", OPT(old_keks)},
	    {"batch", OPT(batch)}, {"pause-ms", OPT(pause_ms)},
	    {"pkcs11-uri", OPT(pkcs11_uri)},
	    {"pkcs11-pin-file", OPT(pkcs11_pin_file)},
	    {"pkcs11-module", OPT(pkcs11_module)}},
	.db = true,
	.check_cb = nrm_ctl_batch_check,
	.run_cb = nrm_ctl_keys_pseudonyms_run},
    {.group = "data",
	.name = "encrypt",
	.usage = nrm_ctl_usage_data_encrypt,
	.opts = {{"kek", OPT(kek), .required = true},
	    {"old-keks", OPT(old_keks)}, {"pseudonym-key", OPT(pseudonym_key)},
	    {"batch", OPT(batch)}, {"pause-ms", OPT(pause_ms)}},
	.db = true,
	.check_cb = nrm_ctl_batch_check,
	.run_cb = nrm_ctl_data_encrypt_run},
    {.group = "retention",
	.name = "status",
	.usage = nrm_ctl_usage_retention,
	.opts = {{"next", OPT(next)}},
	.db = true,
	.run_cb = cmd_retention_status_run},
    {.name = NULL},
};
