/*
 * ctl_check.c - nrmctl's checkers: config check (the routing
 * configuration, and with a database its unstaffed regions), indicators
 * check (the indicators register) and publication verify (a signed
 * publication); their usage texts, what each runs, and each group's
 * table of commands.
 */
#include "ctl_cmds.h"

#include <stdio.h>
#include <stdlib.h>

#include "indicators_file.h"
#include "publication.h"
#include "routing.h"

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

static const struct nrm_ctl_cmd ctl_config_cmds[] = {
    NRM_CTL_CMD("check", ctl_usage_config, cmd_config_check_run,
	.arg_optional = true, .db_optional = true),
    NRM_CTL_END,
};

static const struct nrm_ctl_cmd ctl_indicators_cmds[] = {
    NRM_CTL_CMD("check", ctl_usage_indicators, cmd_indicators_check_run,
	.arg_optional = true),
    NRM_CTL_END,
};

static const struct nrm_ctl_cmd ctl_publication_cmds[] = {
    NRM_CTL_CMD("verify", ctl_usage_publication, cmd_publication_verify_run,
	.opts =
	    {
		{"file", NRM_CTL_OPT(file)},
		{"id", NRM_CTL_OPT(id)},
		{"public-key", NRM_CTL_OPT(public_key), .required = true},
	    },
	.db_if_id = true, .check_cb = cmd_publication_verify_check),
    NRM_CTL_END,
};

const struct nrm_ctl_group nrm_ctl_config_group = {
    "config", ctl_usage_config, "check", ctl_config_cmds};
const struct nrm_ctl_group nrm_ctl_indicators_group = {
    "indicators", ctl_usage_indicators, "check", ctl_indicators_cmds};
const struct nrm_ctl_group nrm_ctl_publication_group = {
    "publication", ctl_usage_publication, "verify", ctl_publication_cmds};
