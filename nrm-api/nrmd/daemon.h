/*
 * daemon.h - the state of one nrmd process and its lifecycle: start-up,
 * SIGHUP reload (validate, then swap), SIGTERM/SIGINT drain and exit.
 *
 * Single-threaded: everything runs on one libevent loop, so handlers
 * read this struct without locks.  A reload swaps `router` and
 * `cfg` between two events, never while a handler runs; handlers copy
 * what they need before they wait for the database.
 */
#ifndef NRM_DAEMON_H
#define NRM_DAEMON_H

#include "config.h"
#include "db.h"
#include "nrm/diag.h"
#include "nrm/nrm.h"
#include "nrm/route.h"
#include "nrm/signal.h"

#include <event2/event_struct.h>

#include "schema_version.h" /* generated: NRM_SCHEMA_VERSION */

#define NRM_VERSION "0.1.0"

struct nrm_http;
struct nrm_auth_cache;
struct nrm_inbox;

struct nrm_metrics {
	uint64_t requests;
	uint64_t responses[6]; /* by status class 1xx..5xx, [0] unused */
	uint64_t signals_created;
	uint64_t notifications_created;
	uint64_t idempotent_replays;
	uint64_t reloads, reload_failures;
	uint64_t escalations, sweeps;
	uint64_t audit_sealed;
};

struct nrm_daemon {
	struct event_base *base;
	const char *config_path;
	struct nrm_config cfg;
	struct nrm_router *router; /* owns the municipality map */
	char *routing_csv; /* its municipalities.csv, for candidates */
	int64_t router_loaded_at; /* unix seconds */
	struct nrm_signal_limits limits;
	unsigned char pseudonym_key[32];
	/* HKDF(pseudonym key, "nrm opaque token v1"): seals inbox cursors
	 * and watermarks, the same in every daemon of a deployment */
	unsigned char token_key[64]; /* NRM_TOKEN_KEY_LEN */
	/* SHA-256 of the metrics_token_file token, when one is set */
	unsigned char metrics_token_hash[32];
	bool metrics_token;
	struct nrm_db *db;
	struct nrm_http *http;
	struct nrm_auth_cache *auth_cache;
	struct nrm_inbox *inbox;
	struct nrm_checkpoints *checkpoints; /* NULL: disabled */
	bool seal_pending, head_pending;
	int schema_version; /* last seen in the database, -1 unknown */
	bool schema_query_pending;
	bool sweep_pending;
	bool draining;
	int64_t started_ms;
	struct nrm_metrics metrics;
	struct event ev_term, ev_int, ev_hup, ev_schema, ev_drain, ev_sweep,
	    ev_seal, ev_checkpoint;
};

/*
 * Load the config and everything it names, open the listeners and the
 * pool.  Start-up failures are fatal with a clear message.
 */
int nrm_daemon_init(struct nrm_daemon *d, const char *config_path,
    struct nrm_error *err) NRM_MUSTCHECK;

/* Run the loop until drained after SIGTERM/SIGINT; returns exit status. */
int nrm_daemon_run(struct nrm_daemon *d);

void nrm_daemon_free(struct nrm_daemon *d);

/*
 * Re-read the config file and what it names; swap only when all of it
 * is valid.  On failure the running config stays and *err says why;
 * every routing problem is also appended to `diag` when not NULL.
 */
int nrm_daemon_reload(struct nrm_daemon *d, struct nrm_diag *diag,
    struct nrm_error *err) NRM_MUSTCHECK;

/* True when the database is up and its schema is the one we expect. */
bool nrm_daemon_db_ready(const struct nrm_daemon *d);

/* Called by http when a request finishes while draining. */
void nrm_daemon_request_done(struct nrm_daemon *d);

/*
 * Load the pseudonym key and the routing configuration named by `cfg`
 * (start-up, reload, --check-config).  Routing problems go to `diag`
 * when not NULL; *err summarises the first one.
 */
int nrm_daemon_load_assets(const struct nrm_config *cfg,
    struct nrm_router **router, char **csv, unsigned char key[32],
    struct nrm_diag *diag, struct nrm_error *err) NRM_MUSTCHECK;

/* The audit ticks (handler_audit.c): seal the chain, sign its head. */
void nrm_audit_seal_tick(struct nrm_daemon *d);
void nrm_audit_checkpoint_tick(struct nrm_daemon *d);

#endif /* NRM_DAEMON_H */
