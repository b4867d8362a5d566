/*
 * daemon.h - the lifecycle of one nrmd process: start-up, SIGHUP reload
 * (validate, then swap), SIGTERM/SIGINT drain and exit.
 *
 * The daemon owns the application context (app.h) that handlers see and
 * wires the modules together: the pool (db.c), the HTTP edge (http.c),
 * the waiter registry (waiters.c) and the periodic jobs (jobs.c).  No
 * module calls back into the daemon except through the callbacks it
 * registers: http's idle callback (drain), the pool's LISTEN callback
 * and the application's reload callback (SIGHUP and POST
 * /v1/admin/reload both go through it, and it counts the outcomes).
 */
#ifndef NRM_DAEMON_H
#define NRM_DAEMON_H

#include "app.h"
#include "nrm/diag.h"

#include <event2/event_struct.h>

#include "schema_version.h" /* generated: NRM_SCHEMA_VERSION */

struct nrm_daemon {
	struct nrm_app app;
	const char *config_path;
	struct event ev_term, ev_int, ev_hup, ev_drain;
	struct event ev_workers_wait; /* drain: polls the pool until quiet */
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
 * Load the pseudonym key, the routing configuration and the indicators
 * register named by `cfg` (start-up, reload, --check-config).  Routing
 * and register problems go to `diag` when not NULL (else every register
 * problem is logged); *err summarises the first one.  On NRM_ERR
 * *router, *indicators (and *csv when asked for) are NULL.
 */
int nrm_daemon_load_assets(const struct nrm_config *cfg,
    struct nrm_router **router, char **csv, struct nrm_indicators **indicators,
    unsigned char key[32], struct nrm_diag *diag,
    struct nrm_error *err) NRM_MUSTCHECK;

#endif /* NRM_DAEMON_H */
