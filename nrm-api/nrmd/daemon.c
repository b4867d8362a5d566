/*
 * daemon.c - nrmd's lifecycle: start-up, reload, drain (see daemon.h).
 *
 * Signals are handled in the loop (libevent signal events), never in
 * signal context.
 */
#include "daemon.h"
#include "auth.h"
#include "backoff.h"
#include "guard.h"
#include "checkpoint.h"
#include "conn.h"
#include "crypto.h"
#include "auditchain.h"
#include "db.h"
#include "endpoints.h"
#include "http.h"
#include "indicators_file.h"
#include "jobs.h"
#include "keyfile.h"
#include "metrics.h"
#include "log.h"
#include "password.h"
#include "routing.h"
#include "tls.h"
#include "util.h"
#include "waiters.h"
#include "webroot.h"
#include "workers.h"

#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

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

/*
 * The indicators register named by indicators_file: every problem
 * appended to dg, and logged (configuration text only) when `log`: the
 * caller shows no diagnostics of its own (start-up, SIGHUP).
 */
static int
daemon_load_indicators(const struct nrm_config *cfg,
    struct nrm_indicators **out, struct nrm_diag *dg, bool log,
    struct nrm_error *err)
{
	int first = dg->n, i;

	if (nrm_indicators_load_file(cfg->indicators_file, out, dg) == NRM_OK) {
		nrm_info("indicators register loaded file=%s indicators=%d",
		    cfg->indicators_file, nrm_indicators_count(*out));
		return NRM_OK;
	}
	for (i = first; log && i < dg->n; i++)
		nrm_error("indicators register: %s", dg->entries[i].text);
	return nrm_error_set(err, NRM_E_VALIDATION, "indicators_file",
	    "%s: %d error(s), the first: %s", cfg->indicators_file,
	    nrm_diag_errors(dg), first < dg->n ? dg->entries[first].text : "");
}

int
nrm_daemon_load_assets(const struct nrm_config *cfg, struct nrm_router **router,
    char **csv, struct nrm_indicators **indicators, unsigned char key[32],
    struct nrm_diag *diag, struct nrm_error *err)
{
	struct nrm_diag local;
	struct nrm_diag *dg = diag != NULL ? diag : &local;
	char *text = NULL;
	size_t len;
	int rc = NRM_ERR;

	*router = NULL;
	*indicators = NULL;
	if (diag == NULL)
		nrm_diag_init(&local);
	if (nrm_keyfile_check(
		cfg->pseudonym_key_file, "pseudonym_key_file", err) != NRM_OK)
		goto out;
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
	if (daemon_load_indicators(cfg, indicators, dg, diag == NULL, err) !=
	    NRM_OK) {
		nrm_router_free(*router);
		*router = NULL;
		if (csv != NULL) {
			free(*csv);
			*csv = NULL;
		}
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
daemon_metrics_token(struct nrm_app *app, struct nrm_error *err)
{
	char *text = NULL;
	size_t len;
	int rc = NRM_ERR;

	if (app->cfg.metrics_token_file[0] == '\0')
		return NRM_OK;
	if (nrm_read_file(app->cfg.metrics_token_file, 4096, &text, &len,
		"metrics_token_file", err) != NRM_OK)
		return NRM_ERR;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	if (len < 32 || strcspn(text, " \t\r\n") != len) {
		nrm_error_set(err, NRM_E_VALIDATION, "metrics_token_file",
		    "%s must hold one token of at least 32 characters",
		    app->cfg.metrics_token_file);
		goto out;
	}
	nrm_sha256(text, len, app->metrics_token_hash);
	app->metrics_token = true;
	rc = NRM_OK;
out:
	explicit_bzero(text, len);
	free(text);
	return rc;
}

/*
 * New passwords are checked against the cracklib dictionary: a missing
 * one is found at start, not by the first person who enrols.
 */
static int
daemon_cracklib_check(const struct nrm_config *cfg, struct nrm_error *err)
{
	int rc;

	nrm_workers_cracklib_lock();
	rc = nrm_password_dict_ready(
	    cfg->cracklib_dict[0] != '\0' ? cfg->cracklib_dict : NULL, err);
	nrm_workers_cracklib_unlock();
	if (rc != NRM_OK)
		snprintf(err->field, sizeof(err->field), "cracklib_dict");
	return rc;
}

/*
 * The console's tree named by web_root (start-up and reload), or NULL
 * when web_root is empty.
 */
static int
daemon_load_web(const struct nrm_config *cfg, struct nrm_webroot **out,
    struct nrm_error *err)
{
	*out = NULL;
	if (cfg->web_root[0] == '\0') {
		nrm_info("web_root is empty: no console, no /v1/openapi.*");
		return NRM_OK;
	}
	if (nrm_webroot_load(out, cfg->web_root, err) != NRM_OK)
		return NRM_ERR;
	nrm_info("console loaded web_root=%s files=%zu bytes=%zu",
	    cfg->web_root, nrm_webroot_count(*out), nrm_webroot_bytes(*out));
	return NRM_OK;
}

/*
 * The audit signing key file must be the owner's alone (keyfile.h):
 * checked at start-up and on every reload, though the running key is
 * kept (audit_signing_key_file is not reloadable).
 */
static int
daemon_audit_key_check(const struct nrm_config *cfg, struct nrm_error *err)
{
	if (cfg->audit_signing_key_file[0] == '\0')
		return NRM_OK;
	return nrm_keyfile_check(
	    cfg->audit_signing_key_file, "audit_signing_key_file", err);
}

/*
 * data_kek_file and data_kek_old_files: the key-encryption keys of
 * personal data at rest, each refused when group or others may read it.
 * The log names the keys' ids, never a key.
 */
static int
daemon_load_keks(const struct nrm_config *cfg, struct nrm_kek_set *set,
    struct nrm_error *err)
{
	struct nrm_kek_token tok = {cfg->data_kek_pkcs11_uri,
	    cfg->data_kek_pkcs11_pin_file, cfg->data_kek_pkcs11_module};
	char why[200], ids[NRM_KEK_SET_MAX * 17 + 1];

	if (nrm_kek_set_load(set, cfg->data_kek_file, cfg->data_kek_old_files,
		&tok, why, sizeof(why)) != NRM_OK)
		return nrm_error_set(err, NRM_E_VALIDATION, "data_kek_file",
		    "key-encryption keys: %s", why);
	nrm_kek_set_ids(set, ids, sizeof(ids));
	nrm_info("key-encryption keys loaded current=%s all=%s pkcs11=%s",
	    set->keks[0].id_hex, ids, nrm_kek_token_on(&tok) ? "yes" : "no");
	return NRM_OK;
}

/*
 * A new TLS context from the fresh config (reload) when the daemon has
 * a TLS listener (listen_tls is not reloadable), else *out = NULL.
 */
static int
daemon_load_tls(const struct nrm_app *app, const struct nrm_config *fresh,
    SSL_CTX **out, struct nrm_error *err)
{
	*out = NULL;
	if (app->cfg.listen_tls[0] == '\0')
		return NRM_OK;
	*out = nrm_tls_ctx_new(fresh, err);
	return *out != NULL ? NRM_OK : NRM_ERR;
}

static void
daemon_apply(struct nrm_app *app)
{
	enum nrm_log_level lvl;

	if (nrm_log_level_parse(app->cfg.log_level, &lvl) == NRM_OK)
		nrm_log_threshold = lvl;
	nrm_signal_limits_default(&app->limits);
	app->limits.narrative_max = (size_t)app->cfg.narrative_max;
}

/*
 * Re-read the config file and what it names; swap only when all of it
 * is valid, then apply it to the pool, http and the jobs.  On failure
 * the running config stays and *err says why; every routing problem is
 * also appended to `diag` when not NULL.
 */
static int
daemon_reload(
    struct nrm_daemon *d, struct nrm_diag *diag, struct nrm_error *err)
{
	struct nrm_app *app = &d->app;
	struct nrm_config fresh;
	struct nrm_router *router;
	struct nrm_indicators *indicators;
	struct nrm_webroot *web = NULL;
	SSL_CTX *tls = NULL;
	struct nrm_kek_set keks;
	char *csv = NULL;
	unsigned char key[32];
	char changed[256];

	if (nrm_config_load(&fresh, d->config_path, err) != NRM_OK)
		return NRM_ERR;
	if (nrm_daemon_load_assets(
		&fresh, &router, &csv, &indicators, key, diag, err) != NRM_OK) {
		nrm_config_free(&fresh);
		return NRM_ERR;
	}
	memset(&keks, 0, sizeof(keks));
	if (daemon_load_web(&fresh, &web, err) != NRM_OK ||
	    daemon_audit_key_check(&fresh, err) != NRM_OK ||
	    daemon_load_keks(&fresh, &keks, err) != NRM_OK ||
	    daemon_load_tls(app, &fresh, &tls, err) != NRM_OK) {
		nrm_kek_set_clear(&keks);
		nrm_webroot_free(web);
		explicit_bzero(key, sizeof(key));
		nrm_router_free(router);
		nrm_indicators_free(indicators);
		free(csv);
		nrm_config_free(&fresh);
		return NRM_ERR;
	}
	nrm_config_merge_reload(&fresh, &app->cfg, changed, sizeof(changed));
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
	nrm_router_free(app->router);
	free(app->routing_csv);
	nrm_config_free(&app->cfg);
	app->cfg = fresh;
	app->router = router;
	app->routing_csv = csv;
	nrm_indicators_free(app->indicators);
	app->indicators = indicators;
	nrm_webroot_free(app->web);
	app->web = web;
	/* the KEK set: a rotation's new current key, a retired old one */
	nrm_kek_set_clear(&app->data_keks);
	app->data_keks = keks;
	nrm_kek_set_clear(&keks);
	if (tls != NULL && nrm_http_tls_swap(app->http, tls))
		nrm_info(
		    "tls certificate loaded file=%s", app->cfg.tls_cert_file);
	app->router_loaded_at = (int64_t)time(NULL);
	daemon_apply(app);
	nrm_http_apply_limits(app->http);
	nrm_db_set_timeouts(app->db, app->cfg.db_connect_timeout * 1000,
	    app->cfg.db_query_timeout * 1000, app->cfg.db_reconnect_max * 1000);
	nrm_db_set_sync_mode(
	    app->db, (enum nrm_db_sync)nrm_config_db_synchronous(&app->cfg));
	nrm_jobs_reload(app->jobs);
	return NRM_OK;
}

/*
 * The application's reload callback (SIGHUP and POST /v1/admin/reload):
 * reload and count the outcome.
 */
static int
daemon_reload_cb(void *arg, struct nrm_diag *diag, struct nrm_error *err)
{
	struct nrm_daemon *d = arg;

	if (daemon_reload(d, diag, err) != NRM_OK) {
		d->app.counters.reload_failures++;
		return NRM_ERR;
	}
	d->app.counters.reloads++;
	return NRM_OK;
}

/* A NOTIFY nrm_inbox '<region>' (or NULL: the listener reconnected). */
static void
daemon_notify(void *arg, const char *payload)
{
	struct nrm_daemon *d = arg;

	if (d->app.waiters == NULL)
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
	nrm_waiters_notify(d->app.waiters, payload);
}

static void
daemon_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct nrm_daemon *d = arg;
	struct nrm_http_stats hs;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	nrm_http_stats(d->app.http, &hs);
	nrm_warn("shutdown timeout reached inflight=%d", hs.inflight);
	event_base_loopbreak(d->app.base);
}

/*
 * http is draining and quiet.  A job the pool still runs (a hash whose
 * request went away) is waited for too, polling every 10 ms (this is
 * also the timer's callback), so that the threads are joined idle; the
 * shutdown timeout bounds the wait.
 */
static void
daemon_finish(evutil_socket_t fd, short what, void *arg)
{
	struct nrm_daemon *d = arg;
	struct timeval tv = {0, 10 * 1000};

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	if (nrm_workers_quiet(d->app.workers)) {
		event_base_loopbreak(d->app.base);
		return;
	}
	if (!event_initialized(&d->ev_workers_wait))
		evtimer_assign(
		    &d->ev_workers_wait, d->app.base, daemon_finish, d);
	evtimer_add(&d->ev_workers_wait, &tv);
}

static void
daemon_idle(void *arg)
{
	daemon_finish(-1, 0, arg);
}

static void
daemon_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct nrm_daemon *d = arg;
	struct nrm_app *app = &d->app;
	struct nrm_http_stats hs;
	struct nrm_error err;

	NRM_UNUSED(what);
	if (sig == SIGHUP) {
		nrm_error_clear(&err);
		if (daemon_reload_cb(d, NULL, &err) != NRM_OK)
			nrm_error("reload refused, keeping the running "
				  "configuration key=%s reason=\"%s\"",
			    err.field[0] != '\0' ? err.field : "-", err.detail);
		else
			nrm_info("configuration reloaded");
		return;
	}
	if (nrm_http_draining(app->http)) {
		nrm_warn("second stop signal, exiting now");
		event_base_loopbreak(app->base);
		return;
	}
	nrm_http_stats(app->http, &hs);
	nrm_info("stopping, finishing in-flight requests inflight=%d "
		 "timeout_s=%d",
	    hs.inflight, app->cfg.shutdown_timeout);
	nrm_workers_stop(app->workers); /* running jobs go on */
	/* Quiet already, or once the last reply is out: daemon_idle. */
	nrm_http_drain(app->http);
	nrm_waiters_release_all(app->waiters); /* long-polls answer now */
	{
		struct timeval tv = {app->cfg.shutdown_timeout, 0};

		event_assign(
		    &d->ev_drain, app->base, -1, 0, daemon_drain_timeout, d);
		event_add(&d->ev_drain, &tv);
	}
}

/*
 * The pseudonym key's id, and the previous key during a rotation
 * (pseudonym_key_old_file, mode checked): new subjects carry their
 * pseudonym under both until `nrmctl keys pseudonyms` is done.
 */
static int
daemon_pseudonym_ids(struct nrm_app *app, struct nrm_error *err)
{
	struct nrm_kek old;
	unsigned char h[32];
	char why[160];

	nrm_sha256(app->pseudonym_key, sizeof(app->pseudonym_key), h);
	nrm_hex(h, 8, app->pseudonym_key_id);
	if (app->cfg.pseudonym_key_old_file[0] == '\0')
		return NRM_OK;
	/* the same file shape as a KEK file: 64 hex characters */
	if (nrm_kek_load(&old, app->cfg.pseudonym_key_old_file, why,
		sizeof(why)) != NRM_OK)
		return nrm_error_set(err, NRM_E_VALIDATION,
		    "pseudonym_key_old_file", "%s: %s",
		    app->cfg.pseudonym_key_old_file, why);
	memcpy(app->pseudonym_old_key, old.key, sizeof(old.key));
	app->has_pseudonym_old = true;
	nrm_info("pseudonym keys loaded current=%s previous=%.16s",
	    app->pseudonym_key_id, old.id_hex);
	nrm_kek_clear(&old);
	return NRM_OK;
}

/*
 * The event loop.  With epoll, changes to what a descriptor waits for
 * are batched and applied once before the loop waits: a reply written
 * at once (http.c, http_write_now) asks for writability and withdraws
 * the ask in the same turn, which then costs no epoll_ctl at all.
 * libevent's caveat for this flag is a descriptor shared by dup(): nrmd
 * registers none (conn.c's probe of the lowest free descriptor is closed
 * at once and never registered).
 */
static struct event_base *
daemon_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

int
nrm_daemon_init(
    struct nrm_daemon *d, const char *config_path, struct nrm_error *err)
{
	struct nrm_app *app = &d->app;
	struct nrm_db_opts dbo;
	const struct nrm_endpoint *table;
	size_t n_endpoints;

	memset(d, 0, sizeof(*d));
	d->config_path = config_path;
	if (nrm_config_load(&app->cfg, config_path, err) != NRM_OK)
		return NRM_ERR;
	daemon_apply(app);
	if (nrm_daemon_load_assets(&app->cfg, &app->router, &app->routing_csv,
		&app->indicators, app->pseudonym_key, NULL, err) != NRM_OK)
		return NRM_ERR;
	if (daemon_pseudonym_ids(app, err) != NRM_OK)
		return NRM_ERR;
	if (nrm_hkdf_sha256(app->pseudonym_key, sizeof(app->pseudonym_key),
		"nrm opaque token v1", app->token_key,
		sizeof(app->token_key)) != NRM_OK)
		return nrm_error_set(
		    err, NRM_E_INTERNAL, "", "could not derive the token key");
	if (nrm_hkdf_sha256(app->pseudonym_key, sizeof(app->pseudonym_key),
		"nrm csrf v1", app->csrf_key, sizeof(app->csrf_key)) != NRM_OK)
		return nrm_error_set(
		    err, NRM_E_INTERNAL, "", "could not derive the csrf key");
	if (nrm_hkdf_sha256(app->pseudonym_key, sizeof(app->pseudonym_key),
		"nrm idempotency v1", app->idem_key,
		sizeof(app->idem_key)) != NRM_OK)
		return nrm_error_set(err, NRM_E_INTERNAL, "",
		    "could not derive the idempotency key");
	if (daemon_cracklib_check(&app->cfg, err) != NRM_OK)
		return NRM_ERR;
	if (daemon_load_keks(&app->cfg, &app->data_keks, err) != NRM_OK)
		return NRM_ERR;
	if (daemon_load_web(&app->cfg, &app->web, err) != NRM_OK)
		return NRM_ERR;
	app->router_loaded_at = (int64_t)time(NULL);
	app->reload = daemon_reload_cb;
	app->reload_arg = d;
	app->base = daemon_base_new();
	if (app->base == NULL)
		return nrm_error_set(
		    err, NRM_E_INTERNAL, "", "could not create the event loop");
	signal(SIGPIPE, SIG_IGN);
	evsignal_assign(&d->ev_term, app->base, SIGTERM, daemon_on_signal, d);
	evsignal_assign(&d->ev_int, app->base, SIGINT, daemon_on_signal, d);
	evsignal_assign(&d->ev_hup, app->base, SIGHUP, daemon_on_signal, d);
	event_add(&d->ev_term, NULL);
	event_add(&d->ev_int, NULL);
	event_add(&d->ev_hup, NULL);
	memset(&dbo, 0, sizeof(dbo));
	dbo.conninfo = app->cfg.database_url;
	dbo.pool_size = app->cfg.db_pool_size;
	dbo.connect_timeout_ms = app->cfg.db_connect_timeout * 1000;
	dbo.query_timeout_ms = app->cfg.db_query_timeout * 1000;
	dbo.reconnect_max_ms = app->cfg.db_reconnect_max * 1000;
	dbo.queue_max = 4096;
	dbo.schema_needed = NRM_SCHEMA_VERSION;
	dbo.sync_mode = (enum nrm_db_sync)nrm_config_db_synchronous(&app->cfg);
	if (nrm_db_new(&app->db, app->base, &dbo) != NRM_OK)
		return nrm_error_set(err, NRM_E_INTERNAL, "database_url",
		    "could not create the database pool");
	app->auth_cache = nrm_auth_cache_new();
	app->backoff = nrm_backoff_new();
	app->guard = nrm_guard_new();
	if (nrm_workers_new(&app->workers, app->base, app->cfg.worker_threads,
		app->cfg.worker_queue, err) != NRM_OK)
		return NRM_ERR;
	if (daemon_metrics_token(app, err) != NRM_OK)
		return NRM_ERR;
	if (daemon_audit_key_check(&app->cfg, err) != NRM_OK)
		return NRM_ERR;
	if (app->cfg.audit_signing_key_file[0] != '\0') {
		if (nrm_checkpoints_open(&app->checkpoints,
			app->cfg.audit_signing_key_file,
			app->cfg.audit_checkpoint_file, err) != NRM_OK)
			return NRM_ERR;
		nrm_checkpoints_set_rotation(
		    app->checkpoints, app->cfg.audit_checkpoint_rotate_lines);
		nrm_info("audit checkpoints on file=%s count=%d",
		    app->cfg.audit_checkpoint_file,
		    nrm_checkpoints_count(app->checkpoints));
	} else {
		nrm_warn("audit checkpoints are off: set "
			 "audit_signing_key_file so that a rewritten chain "
			 "can be caught");
	}
	/*
	 * The inbox's queries (long-polls and reads) take at most half the
	 * request connections, at least one: the rest of the API is never
	 * queued behind a wake-up.  With the default pool (2 x cores + 1)
	 * that is one a core: PostgreSQL runs these CPU-bound queries no
	 * faster with more at once, and reads that wait for a slot share
	 * one query (docs/performance.md, "Reads of one question share a
	 * query": 2 slots served 1.5 x the pages of 4).
	 */
	app->waiters = nrm_waiters_new(app->base, nrm_h_inbox_requery,
	    nrm_h_inbox_answer_empty, nrm_h_inbox_same,
	    nrm_waiters_slots(app->cfg.db_pool_size));
	if (nrm_db_listen(app->db, "nrm_inbox", daemon_notify, d) != NRM_OK)
		return nrm_error_set(err, NRM_E_INTERNAL, "",
		    "could not start the LISTEN connection");
	table = nrm_endpoints(&n_endpoints);
	nrm_metrics_started();
	if (nrm_http_start(&app->http, app, table, n_endpoints, err) != NRM_OK)
		return NRM_ERR;
	nrm_http_set_idle_cb(app->http, daemon_idle, d);
	nrm_http_set_fallback(app->http, nrm_h_static);
	/* Client connections are bounded by the descriptor limit. */
	{
		int n = nrm_conns_limit(
		    app->cfg.max_connections, app->cfg.fd_reserve);

		if (n < app->cfg.max_connections)
			nrm_warn("max_connections lowered to the descriptor "
				 "limit max_connections=%d",
			    n);
	}
	app->jobs = nrm_jobs_start(app);
	/* pool: db_pool_size, by default from cpus (config.h) */
	nrm_info("nrmd started version=%s schema_needed=%d pool=%d cpus=%ld "
		 "workers=%d",
	    NRM_VERSION, NRM_SCHEMA_VERSION, app->cfg.db_pool_size,
	    sysconf(_SC_NPROCESSORS_ONLN),
	    app->cfg.worker_threads > 0 ? app->cfg.worker_threads
					: nrm_workers_default_threads());
	return NRM_OK;
}

int
nrm_daemon_run(struct nrm_daemon *d)
{
	struct nrm_http_stats hs;

	event_base_dispatch(d->app.base);
	nrm_http_stats(d->app.http, &hs);
	nrm_info("stopped requests=%llu", (unsigned long long)hs.requests);
	return 0;
}

void
nrm_daemon_free(struct nrm_daemon *d)
{
	struct nrm_app *app = &d->app;

	if (app->base != NULL) {
		event_del(&d->ev_term);
		event_del(&d->ev_int);
		event_del(&d->ev_hup);
		if (event_initialized(&d->ev_drain))
			event_del(&d->ev_drain);
		if (event_initialized(&d->ev_workers_wait))
			event_del(&d->ev_workers_wait);
	}
	/*
	 * The pool first: queries still pending (shutdown timeout) fail
	 * with 503 to requests whose connections still exist; then the
	 * servers close every connection.  The jobs and the waiters after
	 * the pool: no query of theirs is out any more.
	 */
	nrm_db_free(app->db);
	app->db = NULL; /* nothing may reach the pool any more */
	/* Joins the threads; undelivered jobs get done(gone): before the
	 * requests and the base go. */
	nrm_workers_free(app->workers);
	app->workers = NULL;
	nrm_jobs_free(app->jobs);
	nrm_waiters_free(app->waiters);
	nrm_http_free(app->http);
	nrm_checkpoints_free(app->checkpoints);
	nrm_auth_cache_free(app->auth_cache);
	nrm_backoff_free(app->backoff);
	nrm_guard_free(app->guard);
	nrm_router_free(app->router);
	nrm_indicators_free(app->indicators);
	free(app->routing_csv);
	nrm_webroot_free(app->web);
	nrm_config_free(&app->cfg);
	explicit_bzero(app->pseudonym_key, sizeof(app->pseudonym_key));
	explicit_bzero(app->idem_key, sizeof(app->idem_key));
	explicit_bzero(app->pseudonym_old_key, sizeof(app->pseudonym_old_key));
	nrm_kek_set_clear(&app->data_keks);
	explicit_bzero(app->token_key, sizeof(app->token_key));
	explicit_bzero(app->csrf_key, sizeof(app->csrf_key));
	if (app->base != NULL)
		event_base_free(app->base);
}
