/*
 * ctl_person.c - nrmctl person: create, list, disable, enable and reset
 * the personal accounts (their usage texts, the checks of --role and
 * --valid, what each runs, and the group's table of commands; the work
 * is persons.c's).
 */
#include "ctl_cmds.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

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

const struct nrm_ctl_cmd nrm_ctl_person_cmds[] = {
    NRM_CTL_CMD("create", ctl_usage_person_create, cmd_person_create_run,
	.opts =
	    {
		{"login", NRM_CTL_OPT(login), .required = true},
		{"name", NRM_CTL_OPT(name), .required = true},
		{"agency", NRM_CTL_OPT(spec.agency), .required = true},
		{"role", NRM_CTL_OPT(spec.role), .required = true},
		NRM_CTL_OPT_REGION,
		{"valid", NRM_CTL_OPT(valid)},
	    },
	.db = true, .check_cb = cmd_person_create_check),
    NRM_CTL_CMD("list", ctl_usage_person_list, cmd_person_list_run, .db = true),
    NRM_CTL_CMD("disable", ctl_usage_person_disable, cmd_person_disable_run,
	.db = true, .arg = "expected exactly one login"),
    NRM_CTL_CMD("enable", ctl_usage_person_enable, cmd_person_enable_run,
	.db = true, .arg = "expected exactly one login"),
    NRM_CTL_CMD("reset", ctl_usage_person_reset, cmd_person_reset_run,
	.opts = {{"valid", NRM_CTL_OPT(valid)}}, .db = true,
	.arg = "expected exactly one login",
	.check_cb = cmd_person_reset_check),
    NRM_CTL_END,
};

const struct nrm_ctl_group nrm_ctl_person_group = {"person", ctl_usage_person,
    "create, list, disable, enable, reset", nrm_ctl_person_cmds};
