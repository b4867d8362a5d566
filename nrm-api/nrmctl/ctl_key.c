/*
 * ctl_key.c - nrmctl key: create, list, revoke and bind the API keys
 * (their usage texts, what each runs, and the group's table of
 * commands; the work is keys.c's).
 */
#include "ctl_cmds.h"

#include <stdio.h>

#include <openssl/crypto.h>

#include "crypto.h"

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

const struct nrm_ctl_cmd nrm_ctl_key_cmds[] = {
    NRM_CTL_CMD("create", ctl_usage_key_create, cmd_key_create_run,
	.opts =
	    {
		{"role", NRM_CTL_OPT(spec.role), .required = true},
		{"agency", NRM_CTL_OPT(spec.agency), .required = true},
		{"agency-kind", NRM_CTL_OPT(spec.agency_kind),
		    .required = true},
		NRM_CTL_OPT_REGION,
		{"label", NRM_CTL_OPT(spec.label)},
	    },
	.db = true),
    NRM_CTL_CMD("list", ctl_usage_key_list, cmd_key_list_run, .db = true),
    NRM_CTL_CMD("revoke", ctl_usage_key_revoke, cmd_key_revoke_run, .db = true,
	.arg = "expected exactly one key id"),
    NRM_CTL_CMD("bind", ctl_usage_key_bind, cmd_key_bind_run,
	.opts = {{"cert", NRM_CTL_OPT(cert), .required = true}}, .db = true,
	.arg = "expected exactly one key id"),
    NRM_CTL_END,
};

const struct nrm_ctl_group nrm_ctl_key_group = {
    "key", ctl_usage_key, "create, list, revoke, bind", nrm_ctl_key_cmds};
