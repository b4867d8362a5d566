/*
 * ctl_cmds.c - nrmctl's command tables: the top-level command (migrate)
 * and the list of groups, each group's table standing with its commands
 * (ctl_key.c, ctl_person.c, ctl_audit.c, ctl_check.c) or, for the
 * groups whose usage and work live in their own module (keys and data:
 * kek_cli.c, data_cli.c, pseud_cli.c; retention: retention.c), here.
 */
#include "ctl_cmds.h"

#include <stdio.h>

#include "kek_cli.h"
#include "migrate.h"
#include "retention.h"

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

static int
cmd_migrate_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	return nrm_migrate(conn, a->dir != NULL ? a->dir : "sql", stdout, err);
}

static int
cmd_retention_status_run(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err)
{
	return nrm_retention_status(conn, a->next, stdout, err);
}

/* The KEK options of keys rotate, keys pseudonyms and data encrypt. */
#define CTL_OPT_KEK \
	{ \
		"kek", NRM_CTL_OPT(kek), .required = true \
	}
#define CTL_OPTS_BATCH \
	{"batch", NRM_CTL_OPT(batch)}, \
	{ \
		"pause-ms", NRM_CTL_OPT(pause_ms) \
	}
#define CTL_OPTS_PKCS11 \
	{"pkcs11-uri", NRM_CTL_OPT(pkcs11_uri)}, \
	    {"pkcs11-pin-file", NRM_CTL_OPT(pkcs11_pin_file)}, \
	{ \
		"pkcs11-module", NRM_CTL_OPT(pkcs11_module) \
	}

static const struct nrm_ctl_cmd ctl_keys_cmds[] = {
    NRM_CTL_CMD("rotate", nrm_ctl_usage_keys_rotate, nrm_ctl_keys_rotate_run,
	.opts = {CTL_OPT_KEK,
	    {"old-keks", NRM_CTL_OPT(old_keks), .required = true},
	    CTL_OPTS_BATCH, CTL_OPTS_PKCS11},
	.db = true, .check_cb = nrm_ctl_batch_check),
    NRM_CTL_CMD("retire", nrm_ctl_usage_keys_retire, nrm_ctl_keys_retire_run,
	.db = true, .arg = "expected exactly one KEK id"),
    NRM_CTL_CMD("status", nrm_ctl_usage_keys_status, nrm_ctl_keys_status_run,
	.db = true),
    NRM_CTL_CMD("pseudonyms", nrm_ctl_usage_keys_pseudonyms,
	nrm_ctl_keys_pseudonyms_run,
	.opts = {{"pseudonym-key", NRM_CTL_OPT(pseudonym_key),
		     .required = true},
	    CTL_OPT_KEK, {"old-keks", NRM_CTL_OPT(old_keks)}, CTL_OPTS_BATCH,
	    CTL_OPTS_PKCS11},
	.db = true, .check_cb = nrm_ctl_batch_check),
    NRM_CTL_END,
};

static const struct nrm_ctl_cmd ctl_data_cmds[] = {
    NRM_CTL_CMD("encrypt", nrm_ctl_usage_data_encrypt, nrm_ctl_data_encrypt_run,
	.opts = {CTL_OPT_KEK, {"old-keks", NRM_CTL_OPT(old_keks)},
	    {"pseudonym-key", NRM_CTL_OPT(pseudonym_key)}, CTL_OPTS_BATCH},
	.db = true, .check_cb = nrm_ctl_batch_check),
    NRM_CTL_END,
};

static const struct nrm_ctl_cmd ctl_retention_cmds[] = {
    NRM_CTL_CMD("status", nrm_ctl_usage_retention, cmd_retention_status_run,
	.opts = {{"next", NRM_CTL_OPT(next)}}, .db = true),
    NRM_CTL_END,
};

static const struct nrm_ctl_group ctl_keys_group = {"keys", nrm_ctl_usage_keys,
    "rotate, retire, status, pseudonyms", ctl_keys_cmds};
static const struct nrm_ctl_group ctl_data_group = {
    "data", nrm_ctl_usage_data, "encrypt", ctl_data_cmds};
static const struct nrm_ctl_group ctl_retention_group = {
    "retention", nrm_ctl_usage_retention, "status", ctl_retention_cmds};

const struct nrm_ctl_cmd nrm_ctl_cmds[] = {
    NRM_CTL_CMD("migrate", ctl_usage_migrate, cmd_migrate_run,
	.opts = {{"dir", NRM_CTL_OPT(dir)}}, .db = true),
    NRM_CTL_END,
};

const struct nrm_ctl_group *const nrm_ctl_groups[] = {
    &nrm_ctl_key_group,
    &nrm_ctl_person_group,
    &nrm_ctl_audit_group,
    &nrm_ctl_config_group,
    &nrm_ctl_indicators_group,
    &nrm_ctl_publication_group,
    &ctl_keys_group,
    &ctl_data_group,
    &ctl_retention_group,
    NULL,
};
