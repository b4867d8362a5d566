/*
 * app.h - the application context handlers see: the pool, the router,
 * the limits, the keys and the caches, and nothing of the daemon's
 * lifecycle.
 *
 * Single-threaded: everything runs on one libevent loop, so handlers
 * read this struct without locks.  The daemon owns it; a reload swaps
 * `cfg`, `router`, `indicators`, `web` and `limits` between two events, never while a handler
 * runs, so handlers copy what they need before they wait for the
 * database.  Pointers to `cfg` stay valid across reloads (it is swapped
 * by value).  Every module that is not the daemon reads the live config
 * here, each time it needs a value, so that a reload takes effect.
 */
#ifndef NRM_APP_H
#define NRM_APP_H

#include "config.h"
#include "coverage.h"
#include "kekset.h"
#include "nrm/nrm.h"
#include "nrm/indicators.h"
#include "nrm/route.h"
#include "nrm/signal.h"

#define NRM_VERSION "0.1.0"
#define NRM_TOKEN_KEY_BYTES 64

struct event_base;
struct nrm_auth_cache;
struct nrm_backoff;
struct nrm_checkpoints;
struct nrm_db;
struct nrm_diag;
struct nrm_guard;
struct nrm_http;
struct nrm_jobs;
struct nrm_waiters;
struct nrm_webroot;
struct nrm_workers;

/*
 * Reload the configuration (POST /v1/admin/reload): the daemon registers
 * it.  NRM_OK when swapped; else the running configuration stays, *err
 * says why and `diag` (when not NULL) lists every routing problem.
 */
typedef int (*nrm_app_reload_cb)(
    void *arg, struct nrm_diag *diag, struct nrm_error *err);

/* Counters the handlers and the lifecycle keep (for /metrics). */
struct nrm_app_counters {
	uint64_t signals_created;
	uint64_t reloads, reload_failures;
	uint64_t login_failures; /* POST /v1/session answered 401 */
	uint64_t login_locks; /* of those, failures that locked */
	uint64_t login_backoffs; /* of those, answers held back */
	uint64_t sessions_created; /* POST /v1/session answered 201 */
	uint64_t decrypt_failures; /* sealed values that did not open */
};

struct nrm_app {
	struct event_base *base;
	struct nrm_config cfg; /* the live configuration */
	struct nrm_db *db;
	struct nrm_http *http;
	struct nrm_router *router; /* owns the municipality map */
	char *routing_csv; /* its municipalities.csv, for candidates */
	/* the indicators register (indicators.h); swapped like the router */
	struct nrm_indicators *indicators;
	int64_t router_loaded_at; /* unix seconds */
	struct nrm_signal_limits limits;
	/* the console's files and the API document (webroot.h); NULL when
	 * web_root is empty.  Swapped on reload like the router. */
	struct nrm_webroot *web;
	unsigned char pseudonym_key[32];
	char pseudonym_key_id[17]; /* SHA-256 of the key, 8 bytes, hex */
	/* the previous pseudonym key during a rotation (has_pseudonym_old) */
	unsigned char pseudonym_old_key[32];
	bool has_pseudonym_old;
	/* the key-encryption keys of personal data (kekset.h): the
	 * current one wraps new data keys, the older ones still open
	 * theirs; swapped on reload */
	struct nrm_kek_set data_keks;
	/* HKDF(pseudonym key, "nrm idempotency v1"): the HMAC key of
	 * intake.idempotency.request_hash (no plain hash of a body that
	 * holds personal data reaches the database) */
	unsigned char idem_key[32];
	/* HKDF(pseudonym key, "nrm opaque token v1"): seals inbox cursors
	 * and watermarks, the same in every daemon of a deployment */
	unsigned char token_key[NRM_TOKEN_KEY_BYTES];
	/* HKDF(pseudonym key, "nrm csrf v1"): the HMAC key of session CSRF
	 * tokens (see session.h) */
	unsigned char csrf_key[32];
	/* SHA-256 of the metrics_token_file token, when one is set */
	unsigned char metrics_token_hash[32];
	bool metrics_token;
	struct nrm_auth_cache *auth_cache;
	/* consecutive failed logins, for the backoff (backoff.h) */
	struct nrm_backoff *backoff;
	/* rate limits and the rejected-token cache (guard.h) */
	struct nrm_guard *guard;
	struct nrm_waiters *waiters; /* GET /v1/inbox long-polls */
	/* NULL: disabled; its key signs publications too */
	struct nrm_checkpoints *checkpoints;
	bool audit_verifying; /* GET /v1/audit/verify holds a connection */
	struct nrm_jobs *jobs; /* the periodic jobs, for /metrics */
	/* blocking work (password hashing) off the loop, see workers.h */
	struct nrm_workers *workers;
	struct nrm_app_counters counters;
	struct nrm_coverage coverage; /* the live coverage (coverage.h) */
	nrm_app_reload_cb reload;
	void *reload_arg;
};

#endif /* NRM_APP_H */
