/*
 * config.h - nrmd's configuration: one table of keys, each with a type,
 * a default, a range and a reload flag (as PgBouncer's).
 *
 * File format: lines "key = value"; '#' starts a comment; blank lines
 * are ignored; values may be wrapped in double quotes.  Every key may
 * be overridden by the environment variable NRM_<KEY IN UPPER CASE>
 * (NRM_DATABASE_URL, NRM_LISTEN, ...); the environment wins.  An unknown
 * key, a duplicate key, a malformed value or one out of range is refused
 * with err->field set to the key.
 *
 * Reload (SIGHUP): the new file is parsed and validated completely into
 * a fresh struct; only then does the caller swap.  Keys not marked
 * reloadable keep their running value (nrm_config_merge_reload() copies
 * them back and says which ones changed).
 */
#ifndef NRM_CONFIG_H
#define NRM_CONFIG_H

#include "nrm/nrm.h"

struct nrm_config {
	char *listen; /* host:port of plain HTTP */
	char *listen_tls; /* host:port of HTTPS, "" = off */
	char *tls_cert_file;
	char *tls_key_file;
	char *tls_client_ca_file; /* "" = no client certificates */
	bool tls_client_cert_required;
	bool allow_remote_plain;
	char *database_url;
	int db_pool_size; /* default nrm_config_pool_default(online CPUs) */
	int db_connect_timeout; /* seconds */
	int db_query_timeout; /* seconds */
	int db_reconnect_max; /* seconds */
	char *db_synchronous; /* off, warn or require */
	int max_body_size; /* bytes */
	int max_header_size; /* bytes */
	int max_connections;
	int client_timeout; /* seconds */
	int shutdown_timeout; /* seconds */
	char *log_level;
	char *routing_dir;
	char *indicators_file; /* the indicators register */
	char *pseudonym_key_file;
	char *pseudonym_key_old_file; /* the previous one, during a rotation */
	char *data_kek_file; /* the current KEK of personal data at rest */
	char *data_kek_old_files; /* older KEKs, readable until retired */
	/* the KEK files wrapped by a key in a PKCS#11 token (kekhsm.h) */
	char *data_kek_pkcs11_uri;
	char *data_kek_pkcs11_pin_file;
	char *data_kek_pkcs11_module;
	int narrative_max; /* bytes */
	int retry_after; /* seconds */
	int auth_cache_ttl; /* seconds, 0 = no cache */
	/* floods (guard.h): requests a second and bursts, 0 = no limit */
	int rate_limit_address;
	int rate_burst_address;
	int rate_limit_key;
	int rate_burst_key;
	int reject_cache_ttl; /* seconds a refused token is refused at once */
	int conn_max_per_address; /* open connections of one address */
	int handshake_timeout; /* seconds to a new connection's first bytes */
	int fd_reserve; /* descriptors new connections may not take */
	int longpoll_max_per_key; /* waiting long-polls of one key */
	int longpoll_max_per_address; /* of one client address */
	char *audit_signing_key_file; /* "" = no checkpoints */
	char *metrics_token_file; /* "" = /metrics for loopback only */
	char *audit_checkpoint_file;
	int audit_checkpoint_interval; /* seconds */
	int audit_checkpoint_rotate_lines; /* 0: never */
	int audit_seal_interval; /* seconds */
	int longpoll_max_wait; /* seconds */
	int longpoll_recheck; /* seconds */
	int sweep_interval; /* seconds */
	int decline_limit;
	int transfer_take_within; /* seconds */
	int transfer_answer_within; /* seconds */
	int transfer_first_contact_within; /* seconds */
	char *jurisdiction_profile; /* ident.profile code */
	/* people and sessions (issue 11) */
	int session_idle_timeout; /* seconds */
	int session_lifetime; /* seconds */
	int login_lock_after; /* failures */
	int login_lock_window; /* seconds */
	int login_lock_duration; /* seconds */
	int enrolment_valid; /* seconds */
	int login_backoff_after; /* consecutive failures before a delay */
	int login_backoff_base_ms; /* the first delay; 0: no backoff */
	int login_backoff_max_ms; /* the longest delay */
	char *public_origin; /* "" = https://<listen_tls> */
	char *cracklib_dict; /* "" = the library's default */
	int worker_threads; /* 0 = nrm_workers_default_threads() */
	int worker_queue; /* jobs waiting to start */
	char *web_root; /* the console's tree, "" = no console */
	/* the central information point (issue 20) */
	int coverage_silent_after; /* seconds without an act: uncovered */
	int coverage_refresh; /* seconds between coverage refreshes */
	bool route_uncovered_to_national; /* reroute to the national desk */
	/* retention of personal data (issue 15, docs/data-protection.md) */
	int retention_after_close; /* seconds after a case's closing */
	char *retention_by_reason; /* "reason=seconds,...", "" = none */
	int retention_anonymous; /* seconds after a notification's receipt */
	int retention_interval; /* seconds between retention runs */
	int retention_batch; /* signals erased per run */
};

/* Fill *cfg with defaults, then the file at `path`, then the environment. */
int nrm_config_load(struct nrm_config *cfg, const char *path,
    struct nrm_error *err) NRM_MUSTCHECK;

/* Release the strings; the struct may be loaded again afterwards. */
void nrm_config_free(struct nrm_config *cfg);

/*
 * After a reload: copy every non-reloadable key from `running` into
 * `fresh`, and write into `changed` (bufsz bytes) a comma-separated list
 * of those whose value differed (empty when none).
 */
void nrm_config_merge_reload(struct nrm_config *fresh,
    const struct nrm_config *running, char *changed, size_t bufsz);

/*
 * The origin that cookie-authenticated unsafe requests must send (the
 * Origin header, compared byte for byte): public_origin, or when it is
 * empty "https://" + listen_tls, or "" (nothing matches) when both are
 * empty.  Writes at most n bytes into buf and returns buf.
 */
const char *nrm_config_origin(
    const struct nrm_config *cfg, char *buf, size_t n);

/*
 * retention_by_reason as the JSON object api.retention_run takes,
 * {"duplicate": 2592000, ...} ({} when empty), malloc'd; NULL with err
 * set (field retention_by_reason) when it is not "reason=seconds" pairs
 * of closing reasons (docs/case-lifecycle.md) and 1..2147483647 seconds
 * separated by commas, or names a reason twice.
 */
char *nrm_config_retention_json(
    const char *by_reason, struct nrm_error *err) NRM_MUSTCHECK;

/* The most request connections db_pool_size may ask for. */
#define NRM_CONFIG_POOL_MAX 64

/*
 * db_pool_size's default on a machine with `cpus` online CPUs (sysconf's
 * answer; below 1 counts as 1): PostgreSQL's rule of thumb for a server's
 * connections, 2 x cores + 1 (the + 1 is the spindle of the rule, for a
 * database that mostly runs from its cache), at most NRM_CONFIG_POOL_MAX.
 * A database on this machine has these cores; one elsewhere, or shared
 * by several nrmd, needs an explicit value.
 */
int nrm_config_pool_default(long cpus);

/* Print the key table (name, default, range, reloadable) for --help. */
void nrm_config_describe(void *stream);

/*
 * db_synchronous as a number: 0 off, 1 warn, 2 require (enum
 * nrm_db_sync in db.h); -1 for anything else (refused when parsing).
 */
int nrm_config_db_synchronous(const struct nrm_config *cfg);

#endif /* NRM_CONFIG_H */
