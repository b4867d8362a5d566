/*
 * daemon.c - nrmd's lifecycle: start-up, reload, drain (see daemon.h).
 *
 * Signals are handled in the loop (libevent signal events), never in
 * signal context.
 */
#include "daemon.h"
#include "auth.h"
#include "checkpoint.h"
#include "conn.h"
#include "crypto.h"
#include "inbox.h"
#include "http.h"
#include "log.h"
#include "routing.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#define DAEMON_SCHEMA_CHECK_S 5

/* Parse 64 hex characters (surrounding whitespace allowed). */
static int
daemon_parse_key(const char *text, unsigned char key[32])
{
	const char *p = text;
	int n = 0;

	while (isspace((unsigned char)*p))
		p++;
	for (; n < 64 && isxdigit((unsigned char)p[n]); n++)
		;
	if (n != 64)
		return NRM_ERR;
	for (const char *q = p + 64; *q != '\0'; q++)
		if (!isspace((unsigned char)*q))
			return NRM_ERR;
	for (int i = 0; i < 32; i++) {
		char hex[3] = {p[2 * i], p[2 * i + 1], '\0'};

		key[i] = (unsigned char)strtoul(hex, NULL, 16);
	}
	return NRM_OK;
}

int
nrm_daemon_load_assets(const struct nrm_config *cfg, struct nrm_router **router,
    char **csv, unsigned char key[32], struct nrm_diag *diag,
    struct nrm_error *err)
{
	struct nrm_diag local;
	struct nrm_diag *dg = diag != NULL ? diag : &local;
	char *text = NULL;
	size_t len;
	int rc = NRM_ERR;

	*router = NULL;
	if (diag == NULL)
		nrm_diag_init(&local);
	if (nrm_read_file(cfg->pseudonym_key_file, 4096, &text, &len,
		"pseudonym_key_file", err) != NRM_OK)
		goto out;
	if (daemon_parse_key(text, key) != NRM_OK) {
		nrm_error_set(err, NRM_E_VALIDATION, "pseudonym_key_file",
		    "%s must hold 64 hexadecimal characters",
		    cfg->pseudonym_key_file);
		goto out;
	}
	if (nrm_routing_load_dir_csv(cfg->routing_dir, router, csv, dg) !=
	    NRM_OK) {
		nrm_error_set(err, NRM_E_VALIDATION, "routing_dir",
		    "%s: %d error(s), the first: %s", cfg->routing_dir,
		    nrm_diag_errors(dg), nrm_routing_first_error(dg));
		goto out;
	}
	rc = NRM_OK;
out:
	if (text != NULL)
		explicit_bzero(text, len);
	free(text);
	if (diag == NULL)
		nrm_diag_free(&local);
	return rc;
}

/*
 * metrics_token_file: one token (at least 32 characters, no white space;
 * a trailing newline is fine).  Only its SHA-256 is kept.
 */
static int
daemon_metrics_token(struct nrm_daemon *d, struct nrm_error *err)
{
	char *text = NULL;
	size_t len;
	int rc = NRM_ERR;

	if (d->cfg.metrics_token_file[0] == '\0')
		return NRM_OK;
	if (nrm_read_file(d->cfg.metrics_token_file, 4096, &text, &len,
		"metrics_token_file", err) != NRM_OK)
		return NRM_ERR;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	if (len < 32 || strcspn(text, " \t\r\n") != len) {
		nrm_error_set(err, NRM_E_VALIDATION, "metrics_token_file",
		    "%s must hold one token of at least 32 characters",
		    d->cfg.metrics_token_file);
		goto out;
	}
	nrm_sha256(text, len, d->metrics_token_hash);
	d->metrics_token = true;
	rc = NRM_OK;
out:
	explicit_bzero(text, len);
	free(text);
	return rc;
}

static void
daemon_apply(struct nrm_daemon *d)
{
	enum nrm_log_level lvl;

	if (nrm_log_level_parse(d->cfg.log_level, &lvl) == NRM_OK)
		nrm_log_threshold = lvl;
	nrm_signal_limits_default(&d->limits);
	d->limits.narrative_max = (size_t)d->cfg.narrative_max;
}

bool
nrm_daemon_db_ready(const struct nrm_daemon *d)
{
	return nrm_db_n_up(d->db) > 0 &&
	    d->schema_version >= NRM_SCHEMA_VERSION;
}

static void
daemon_schema_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct nrm_daemon *d = arg;
	int v = -1;

	d->schema_query_pending = false;
	if (outcome == NRM_DB_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0))
		v = atoi(PQgetvalue(res, 0, 0));
	else if (outcome == NRM_DB_ERROR)
		v = 0;
	if (v < 0)
		return; /* unknown: keep the last answer */
	if (v != d->schema_version) {
		if (v < NRM_SCHEMA_VERSION)
			nrm_warn("database schema is behind version=%d "
				 "needed=%d",
			    v, NRM_SCHEMA_VERSION);
		else
			nrm_info("database schema version=%d", v);
	}
	d->schema_version = v;
}

static void
daemon_schema_tick(evutil_socket_t fd, short what, void *arg)
{
	struct nrm_daemon *d = arg;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	if (d->schema_query_pending || d->draining)
		return;
	if (nrm_db_exec(d->db, NRM_STMT_SCHEMA_VERSION, 0, NULL, NULL, NULL,
		daemon_schema_done, d) != NULL)
		d->schema_query_pending = true;
}

int
nrm_daemon_reload(
    struct nrm_daemon *d, struct nrm_diag *diag, struct nrm_error *err)
{
	struct nrm_config fresh;
	struct nrm_router *router;
	char *csv = NULL;
	unsigned char key[32];
	char changed[256];

	if (nrm_config_load(&fresh, d->config_path, err) != NRM_OK)
		return NRM_ERR;
	if (nrm_daemon_load_assets(&fresh, &router, &csv, key, diag, err) !=
	    NRM_OK) {
		nrm_config_free(&fresh);
		return NRM_ERR;
	}
	nrm_config_merge_reload(&fresh, &d->cfg, changed, sizeof(changed));
	if (changed[0] != '\0')
		nrm_warn("reload keeps running values, restart to apply "
			 "keys=%s",
		    changed);
	/* The key file is not reloadable: keep the running key. */
	explicit_bzero(key, sizeof(key));
	nrm_info("routing configuration loaded version=%.12s rules=%d "
		 "warnings=%d",
	    nrm_router_version(router), nrm_router_n_rules(router),
	    nrm_router_n_warnings(router));
	nrm_router_free(d->router);
	free(d->routing_csv);
	nrm_config_free(&d->cfg);
	d->cfg = fresh;
	d->router = router;
	d->routing_csv = csv;
	d->router_loaded_at = (int64_t)time(NULL);
	daemon_apply(d);
	nrm_http_apply_limits(d->http);
	nrm_db_set_timeouts(d->db, d->cfg.db_connect_timeout * 1000,
	    d->cfg.db_query_timeout * 1000, d->cfg.db_reconnect_max * 1000);
	return NRM_OK;
}

/* A NOTIFY nrm_inbox '<region>' (or NULL: the listener reconnected). */
static void
daemon_notify(void *arg, const char *payload)
{
	struct nrm_daemon *d = arg;

	if (d->inbox == NULL)
		return;
	if (payload != NULL &&
	    (payload[0] == '\0' || strlen(payload) > 15 ||
		strspn(payload,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
		    strlen(payload))) {
		nrm_warn("ignoring a malformed inbox notification");
		return;
	}
	nrm_inbox_notify(d->inbox, payload);
}

static void
daemon_sweep_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct nrm_daemon *d = arg;

	d->sweep_pending = false;
	d->metrics.sweeps++;
	if (outcome != NRM_DB_OK || PQntuples(res) != 1 ||
	    PQgetisnull(res, 0, 0)) {
		const char *st = outcome == NRM_DB_ERROR
		    ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
		    : NULL;

		nrm_warn("escalation sweep failed outcome=%d sqlstate=%s",
		    (int)outcome, st != NULL ? st : "-");
		return;
	}
	{
		cJSON *o = cJSON_Parse(PQgetvalue(res, 0, 0));
		cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "escalated");

		if (cJSON_IsNumber(n) && n->valueint > 0) {
			d->metrics.escalations += (uint64_t)n->valueint;
			nrm_info("escalated overdue cases to the national "
				 "desk count=%d",
			    n->valueint);
		}
		cJSON_Delete(o);
	}
}

/* Every sweep_interval: escalate overdue cases (every daemon does it;
 * the database makes each escalation happen once). */
static void
daemon_sweep_tick(evutil_socket_t fd, short what, void *arg)
{
	struct nrm_daemon *d = arg;
	const char *v[1] = {"100"};
	struct timeval tv = {d->cfg.sweep_interval, 0};

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	if (!d->draining && !d->sweep_pending && nrm_daemon_db_ready(d) &&
	    nrm_db_exec(d->db, NRM_STMT_ESCALATE, 1, v, NULL, NULL,
		daemon_sweep_done, d) != NULL)
		d->sweep_pending = true;
	event_add(&d->ev_sweep, &tv);
}

static void
daemon_seal_tick(evutil_socket_t fd, short what, void *arg)
{
	struct nrm_daemon *d = arg;
	struct timeval tv = {d->cfg.audit_seal_interval, 0};

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	if (!d->draining)
		nrm_audit_seal_tick(d);
	event_add(&d->ev_seal, &tv);
}

static void
daemon_checkpoint_tick(evutil_socket_t fd, short what, void *arg)
{
	struct nrm_daemon *d = arg;
	struct timeval tv = {d->cfg.audit_checkpoint_interval, 0};

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	nrm_audit_checkpoint_tick(d);
	event_add(&d->ev_checkpoint, &tv);
}

static void
daemon_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct nrm_daemon *d = arg;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	nrm_warn(
	    "shutdown timeout reached inflight=%d", nrm_http_inflight(d->http));
	event_base_loopbreak(d->base);
}

void
nrm_daemon_request_done(struct nrm_daemon *d)
{
	if (d->draining && nrm_http_quiet(d->http))
		event_base_loopbreak(d->base);
}

static void
daemon_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct nrm_daemon *d = arg;
	struct nrm_error err;

	NRM_UNUSED(what);
	if (sig == SIGHUP) {
		nrm_error_clear(&err);
		if (nrm_daemon_reload(d, NULL, &err) != NRM_OK) {
			d->metrics.reload_failures++;
			nrm_error("reload refused, keeping the running "
				  "configuration key=%s reason=\"%s\"",
			    err.field[0] != '\0' ? err.field : "-", err.detail);
		} else {
			d->metrics.reloads++;
			nrm_info("configuration reloaded");
		}
		return;
	}
	if (d->draining) {
		nrm_warn("second stop signal, exiting now");
		event_base_loopbreak(d->base);
		return;
	}
	nrm_info("stopping, finishing in-flight requests inflight=%d "
		 "timeout_s=%d",
	    nrm_http_inflight(d->http), d->cfg.shutdown_timeout);
	d->draining = true;
	nrm_http_stop_accepting(d->http);
	nrm_inbox_release_all(d->inbox); /* long-polls answer now */
	if (nrm_http_quiet(d->http)) {
		event_base_loopbreak(d->base);
		return;
	}
	{
		struct timeval tv = {d->cfg.shutdown_timeout, 0};

		event_assign(
		    &d->ev_drain, d->base, -1, 0, daemon_drain_timeout, d);
		event_add(&d->ev_drain, &tv);
	}
}

int
nrm_daemon_init(
    struct nrm_daemon *d, const char *config_path, struct nrm_error *err)
{
	struct nrm_db_opts dbo;
	struct timeval tv = {DAEMON_SCHEMA_CHECK_S, 0};

	memset(d, 0, sizeof(*d));
	d->config_path = config_path;
	d->schema_version = -1;
	d->started_ms = nrm_mono_ms();
	if (nrm_config_load(&d->cfg, config_path, err) != NRM_OK)
		return NRM_ERR;
	daemon_apply(d);
	if (nrm_daemon_load_assets(&d->cfg, &d->router, &d->routing_csv,
		d->pseudonym_key, NULL, err) != NRM_OK)
		return NRM_ERR;
	if (nrm_hkdf_sha256(d->pseudonym_key, sizeof(d->pseudonym_key),
		"nrm opaque token v1", d->token_key,
		sizeof(d->token_key)) != NRM_OK)
		return nrm_error_set(
		    err, NRM_E_INTERNAL, "", "could not derive the token key");
	d->router_loaded_at = (int64_t)time(NULL);
	d->base = event_base_new();
	if (d->base == NULL)
		return nrm_error_set(
		    err, NRM_E_INTERNAL, "", "could not create the event loop");
	signal(SIGPIPE, SIG_IGN);
	evsignal_assign(&d->ev_term, d->base, SIGTERM, daemon_on_signal, d);
	evsignal_assign(&d->ev_int, d->base, SIGINT, daemon_on_signal, d);
	evsignal_assign(&d->ev_hup, d->base, SIGHUP, daemon_on_signal, d);
	event_add(&d->ev_term, NULL);
	event_add(&d->ev_int, NULL);
	event_add(&d->ev_hup, NULL);
	memset(&dbo, 0, sizeof(dbo));
	dbo.conninfo = d->cfg.database_url;
	dbo.pool_size = d->cfg.db_pool_size;
	dbo.connect_timeout_ms = d->cfg.db_connect_timeout * 1000;
	dbo.query_timeout_ms = d->cfg.db_query_timeout * 1000;
	dbo.reconnect_max_ms = d->cfg.db_reconnect_max * 1000;
	dbo.queue_max = 4096;
	if (nrm_db_new(&d->db, d->base, &dbo) != NRM_OK)
		return nrm_error_set(err, NRM_E_INTERNAL, "database_url",
		    "could not create the database pool");
	d->auth_cache = nrm_auth_cache_new();
	if (daemon_metrics_token(d, err) != NRM_OK)
		return NRM_ERR;
	if (d->cfg.audit_signing_key_file[0] != '\0') {
		if (nrm_checkpoints_open(&d->checkpoints,
			d->cfg.audit_signing_key_file,
			d->cfg.audit_checkpoint_file, err) != NRM_OK)
			return NRM_ERR;
		nrm_info("audit checkpoints on file=%s count=%d",
		    d->cfg.audit_checkpoint_file,
		    nrm_checkpoints_count(d->checkpoints));
	} else {
		nrm_warn("audit checkpoints are off: set "
			 "audit_signing_key_file so that a rewritten chain "
			 "can be caught");
	}
	event_assign(&d->ev_seal, d->base, -1, 0, daemon_seal_tick, d);
	event_assign(
	    &d->ev_checkpoint, d->base, -1, 0, daemon_checkpoint_tick, d);
	{
		struct timeval one = {1, 0}, two = {2, 0};

		event_add(&d->ev_seal, &one);
		event_add(&d->ev_checkpoint, &two);
	}
	d->inbox = nrm_inbox_new(d);
	if (nrm_db_listen(d->db, "nrm_inbox", daemon_notify, d) != NRM_OK)
		return nrm_error_set(err, NRM_E_INTERNAL, "",
		    "could not start the LISTEN connection");
	event_assign(&d->ev_sweep, d->base, -1, 0, daemon_sweep_tick, d);
	{
		struct timeval first = {1, 0};

		event_add(&d->ev_sweep, &first);
	}

	if (nrm_http_start(&d->http, d, err) != NRM_OK)
		return NRM_ERR;
	/* Client connections are bounded by the descriptor limit. */
	{
		int n = nrm_conns_limit(d->cfg.max_connections, 2);

		if (n < d->cfg.max_connections)
			nrm_warn("max_connections lowered to the descriptor "
				 "limit max_connections=%d",
			    n);
	}
	event_assign(
	    &d->ev_schema, d->base, -1, EV_PERSIST, daemon_schema_tick, d);
	event_add(&d->ev_schema, &tv);
	/* First check as soon as a connection is up (the tick retries). */
	{
		struct timeval soon = {0, 200000};

		event_base_once(
		    d->base, -1, EV_TIMEOUT, daemon_schema_tick, d, &soon);
	}
	nrm_info("nrmd started version=%s schema_needed=%d pool=%d",
	    NRM_VERSION, NRM_SCHEMA_VERSION, d->cfg.db_pool_size);
	return NRM_OK;
}

int
nrm_daemon_run(struct nrm_daemon *d)
{
	event_base_dispatch(d->base);
	nrm_info(
	    "stopped requests=%llu", (unsigned long long)d->metrics.requests);
	return 0;
}

void
nrm_daemon_free(struct nrm_daemon *d)
{
	if (d->base != NULL) {
		event_del(&d->ev_term);
		event_del(&d->ev_int);
		event_del(&d->ev_hup);
		if (event_initialized(&d->ev_schema))
			event_del(&d->ev_schema);
		if (event_initialized(&d->ev_drain))
			event_del(&d->ev_drain);
	}
	if (d->base != NULL && event_initialized(&d->ev_sweep))
		event_del(&d->ev_sweep);
	if (d->base != NULL && event_initialized(&d->ev_seal))
		event_del(&d->ev_seal);
	if (d->base != NULL && event_initialized(&d->ev_checkpoint))
		event_del(&d->ev_checkpoint);
	/*
	 * The pool first: queries still pending (shutdown timeout) fail
	 * with 503 to requests whose connections still exist; then the
	 * servers close every connection.
	 */
	nrm_db_free(d->db);
	d->db = NULL;
	/* After the pool: no inbox query is out any more. */
	nrm_inbox_free(d->inbox);
	d->inbox = NULL;
	nrm_http_free(d->http);
	d->http = NULL;
	nrm_checkpoints_free(d->checkpoints);
	d->checkpoints = NULL;
	nrm_auth_cache_free(d->auth_cache);
	d->auth_cache = NULL;
	nrm_router_free(d->router);
	free(d->routing_csv);
	nrm_config_free(&d->cfg);
	explicit_bzero(d->pseudonym_key, sizeof(d->pseudonym_key));
	explicit_bzero(d->token_key, sizeof(d->token_key));
	if (d->base != NULL)
		event_base_free(d->base);
}
