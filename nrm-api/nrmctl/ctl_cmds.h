/*
 * ctl_cmds.h - nrmctl's subcommands as a table: each row names the
 * command, its usage, its options (where their values go), whether it
 * talks to the database, the checks across options, and what it runs.
 * nrmctl.c parses a row's options, connects when the row says so, and
 * turns the result into the exit status.  The rows stand in one table
 * per group (struct nrm_ctl_group), beside the group's commands:
 * ctl_key.c, ctl_person.c, ctl_audit.c, ctl_check.c; ctl_cmds.c holds
 * the top-level command, the groups whose work has its own module (keys,
 * data, retention) and the list of groups.
 *
 * Contract of the callbacks: check_cb sees every parsed option and
 * returns NULL, or the message of a usage error (exit 2, usage shown);
 * run_cb gets the connection (NULL when the row has db false) and
 * returns NRM_ERR with err set (printed as "nrmctl: <detail>", exit 1),
 * or the exit status itself (0, or 1 for a verdict such as a broken
 * chain that it printed).  Results go to stdout, details to stderr.
 */
#ifndef NRM_CTL_CMDS_H
#define NRM_CTL_CMDS_H

#include <stddef.h>

#include <libpq-fe.h>

#include "keys.h"
#include "persons.h"
#include "nrm/nrm.h"

#define NRM_CTL_EXIT_FAIL 1
#define NRM_CTL_EXIT_USAGE 2
#define NRM_CTL_OPTS_MAX 8

/* Every option value of every subcommand (each uses a few). */
struct nrm_ctl_args {
	const char *dir;
	const char *from;
	const char *to;
	const char *checkpoints;
	const char *public_key;
	const char *key;
	const char *out;
	const char *before; /* audit purge */
	const char *cert; /* key bind: a PEM certificate file */
	struct nrm_key_spec spec; /* key create; person create's role,
				   agency, regions */
	const char *login; /* person create */
	const char *name; /* person create */
	const char *valid; /* person create, reset: seconds */
	const char *arg; /* the one argument (key revoke ID, config DIR) */
	const char *file; /* publication verify */
	const char *id; /* publication verify: connects when set */
	const char *kek; /* keys rotate, data encrypt: the current KEK */
	const char *old_keks; /* the older KEK files, comma-separated */
	const char *pseudonym_key; /* data encrypt */
	const char *batch; /* keys rotate, data encrypt: rows a batch */
	const char *pause_ms; /* between batches */
	const char *pkcs11_uri; /* the KEK files wrapped by a token key */
	const char *pkcs11_pin_file;
	const char *pkcs11_module;
	const char *next; /* retention status: how many to list */
};

/* Where option --NAME's value goes: NRM_CTL_OPT(field of nrm_ctl_args). */
#define NRM_CTL_OPT(field) offsetof(struct nrm_ctl_args, field)
/* --region CODE, repeatable: appended to spec.regions. */
#define NRM_CTL_OPT_REGION \
	{ \
		"region", 0, .regions = true \
	}

/*
 * One option, --NAME VALUE (every option takes a value): the value goes
 * to the const char * at offset `off` of struct nrm_ctl_args (the last
 * one wins), or with `regions` is appended to spec.regions (at most
 * NRM_KEY_MAX_REGIONS; one more is the usage error "too many regions").
 * `required`: leaving it out is the usage error "missing --NAME".
 */
struct nrm_ctl_opt {
	const char *name;
	size_t off;
	bool required;
	bool regions;
};

typedef const char *(*nrm_ctl_check_cb)(const struct nrm_ctl_args *a);
typedef int (*nrm_ctl_run_cb)(
    PGconn *conn, const struct nrm_ctl_args *a, struct nrm_error *err);

struct nrm_ctl_cmd {
	const char *name;
	const char *usage;
	struct nrm_ctl_opt opts[NRM_CTL_OPTS_MAX]; /* up to a NULL name */
	bool db; /* connects; takes --database-url */
	bool db_optional; /* connects only when --database-url is given */
	bool db_if_id; /* connects when --id is given */
	const char *arg; /* takes exactly one argument; else this error */
	bool arg_optional; /* takes at most one argument */
	nrm_ctl_check_cb check_cb; /* NULL: nothing to check */
	nrm_ctl_run_cb run_cb;
};

/*
 * A row: --NAME, usage, run_cb, then any other member (.db = true,
 * .opts = {...}); NRM_CTL_END closes a table.
 */
#define NRM_CTL_CMD(n, u, run, ...) \
	{ \
		.name = (n), .usage = (u), .run_cb = (run), __VA_ARGS__ \
	}
#define NRM_CTL_END \
	{ \
		.name = NULL \
	}

/* A group of subcommands ("key", "audit") and its table. */
struct nrm_ctl_group {
	const char *name;
	const char *usage;
	const char *names; /* "create, list, revoke" */
	const struct nrm_ctl_cmd *cmds; /* up to a row with a NULL name */
};

/* The top-level commands (migrate), up to a row with a NULL name. */
extern const struct nrm_ctl_cmd nrm_ctl_cmds[];
/* Every group, up to NULL. */
extern const struct nrm_ctl_group *const nrm_ctl_groups[];

/* The groups of ctl_key.c, ctl_person.c, ctl_audit.c and ctl_check.c. */
extern const struct nrm_ctl_group nrm_ctl_key_group;
extern const struct nrm_ctl_group nrm_ctl_person_group;
extern const struct nrm_ctl_group nrm_ctl_audit_group;
extern const struct nrm_ctl_group nrm_ctl_config_group;
extern const struct nrm_ctl_group nrm_ctl_indicators_group;
extern const struct nrm_ctl_group nrm_ctl_publication_group;

#endif /* NRM_CTL_CMDS_H */
