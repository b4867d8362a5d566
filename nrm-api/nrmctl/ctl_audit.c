/*
 * ctl_audit.c - nrmctl audit: verify, export, keygen, checkpoint and
 * purge (their usage texts, the checks across their options, what each
 * runs, and the group's table of commands; the work is the audit_*
 * files').
 */
#include "ctl_cmds.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "audit_cli.h"

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

const struct nrm_ctl_cmd nrm_ctl_audit_cmds[] = {
    NRM_CTL_CMD("verify", ctl_usage_audit_verify, cmd_audit_verify_run,
	.opts = {{"checkpoints", NRM_CTL_OPT(checkpoints)},
	    {"public-key", NRM_CTL_OPT(public_key)}},
	.db = true, .check_cb = cmd_audit_verify_check),
    NRM_CTL_CMD("export", ctl_usage_audit_export, cmd_audit_export_run,
	.opts =
	    {
		{"from", NRM_CTL_OPT(from), .required = true},
		{"to", NRM_CTL_OPT(to), .required = true},
		{"checkpoints", NRM_CTL_OPT(checkpoints)},
		{"public-key", NRM_CTL_OPT(public_key)},
	    },
	.db = true, .check_cb = cmd_audit_export_check),
    NRM_CTL_CMD("keygen", ctl_usage_audit_keygen, cmd_audit_keygen_run,
	.opts = {{"out", NRM_CTL_OPT(out), .required = true}}),
    NRM_CTL_CMD("checkpoint", ctl_usage_audit_checkpoint,
	cmd_audit_checkpoint_run,
	.opts = {{"key", NRM_CTL_OPT(key), .required = true},
	    {"checkpoints", NRM_CTL_OPT(checkpoints)}},
	.db = true),
    NRM_CTL_CMD("purge", ctl_usage_audit_purge, cmd_audit_purge_run,
	.opts =
	    {
		{"before", NRM_CTL_OPT(before), .required = true},
		{"key", NRM_CTL_OPT(key), .required = true},
	    },
	.db = true, .check_cb = cmd_audit_purge_check),
    NRM_CTL_END,
};

const struct nrm_ctl_group nrm_ctl_audit_group = {"audit", ctl_usage_audit,
    "verify, export, keygen, checkpoint, purge", nrm_ctl_audit_cmds};
