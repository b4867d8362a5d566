/*
 * config.c - the configuration table, its parser and the reload merge
 * (see config.h).
 */
#include "config.h"
#include "log.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum cfg_type {
	CFG_STR,
	CFG_INT,
	CFG_BOOL,
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t offset;
	const char *def;
	long min, max; /* for CFG_INT */
	bool reloadable;
	const char *help;
	/* CFG_INT: computes the default at load time (def then says how) */
	int (*def_fn)(void);
};

/* db_pool_size's default: nrm_config_pool_default() of the online CPUs. */
static int
cfg_pool_default(void)
{
	return nrm_config_pool_default(sysconf(_SC_NPROCESSORS_ONLN));
}

/* clang-format off */
#define CFG_KEY(n, t, d, lo, hi, r, h) \
	{#n, t, offsetof(struct nrm_config, n), d, lo, hi, r, h, NULL}
#define CFG_S(n, d, r, h) CFG_KEY(n, CFG_STR, d, 0, 0, r, h)
#define CFG_I(n, d, lo, hi, r, h) CFG_KEY(n, CFG_INT, d, lo, hi, r, h)
#define CFG_B(n, d, r, h) CFG_KEY(n, CFG_BOOL, d, 0, 1, r, h)
#define CFG_IF(n, fn, how, lo, hi, r, h) \
	{#n, CFG_INT, offsetof(struct nrm_config, n), how, lo, hi, r, h, fn}

static const struct cfg_key cfg_keys[] = {
	CFG_S(listen, "127.0.0.1:8080", false, "plain HTTP host:port"),
	CFG_S(listen_tls, "127.0.0.1:8443", false,
	    "HTTPS host:port, empty to disable"),
	CFG_S(tls_cert_file, "var/tls/cert.pem", true,
	    "PEM certificate chain; a new one that does not load keeps the "
	    "running pair"),
	CFG_S(tls_key_file, "var/tls/key.pem", true,
	    "PEM private key, readable by its owner only (mode 600)"),
	CFG_S(tls_client_ca_file, "", true,
	    "PEM CA certificate(s) that client certificates must chain to; "
	    "empty: no client certificates asked for"),
	CFG_B(tls_client_cert_required, "false", true,
	    "refuse a TLS handshake without a client certificate (needs "
	    "tls_client_ca_file)"),
	CFG_B(allow_remote_plain, "false", false,
	    "allow plain HTTP on a non-loopback address"),
	CFG_S(database_url, "postgresql:///nrm", false,
	    "libpq connection string of the nrm_app role"),
	CFG_IF(db_pool_size, cfg_pool_default, "2 x online CPUs + 1", 1,
	    NRM_CONFIG_POOL_MAX, false,
	    "request connections to the database (PostgreSQL's rule for a "
	    "local server: 2 x its cores + 1; with a remote one, or several "
	    "nrmd, set it from the server's cores); half of them, at least "
	    "one, carry the inbox's queries"),
	CFG_I(db_connect_timeout, "5", 1, 300, true, "seconds"),
	CFG_I(db_query_timeout, "5", 1, 300, true, "seconds per query"),
	CFG_I(db_reconnect_max, "5", 1, 300, true,
	    "longest reconnect backoff, seconds"),
	CFG_S(db_synchronous, "off", true,
	    "off, warn or require: what nrmd demands of the database's "
	    "synchronous replication (docs/operations.md, High "
	    "availability); require: not ready while commits are not "
	    "replicated synchronously"),
	CFG_I(max_body_size, "65536", 1024, 16777216, true, "bytes"),
	CFG_I(max_header_size, "8192", 1024, 1048576, true, "bytes"),
	CFG_I(max_connections, "1024", 16, 100000, false,
	    "open client connections"),
	CFG_I(client_timeout, "30", 1, 3600, true,
	    "seconds a client may take to send a whole request"),
	CFG_I(shutdown_timeout, "10", 0, 3600, true,
	    "seconds to finish in-flight requests on SIGTERM"),
	CFG_S(log_level, "info", true, "debug, info, warn or error"),
	CFG_S(routing_dir, "config/routing", true,
	    "routing configuration directory (regions.json, "
	    "municipalities.csv, rules.json)"),
	CFG_S(indicators_file, "config/indicators.json", true,
	    "the indicators register (docs/indicators.md)"),
	CFG_S(pseudonym_key_file, "var/keys/pseudonym.key", false,
	    "64 hex characters: the HMAC key for subject pseudonyms"),
	CFG_S(pseudonym_key_old_file, "", false,
	    "the previous pseudonym key while `nrmctl keys pseudonyms` "
	    "re-keys the subjects: new subjects link under both"),
	CFG_S(data_kek_file, "var/keys/data.kek", true,
	    "64 hex characters, mode 600: the current key-encryption key "
	    "of personal data at rest (docs/data-protection.md)"),
	CFG_S(data_kek_old_files, "", true,
	    "older key-encryption key files (comma-separated), readable "
	    "until `nrmctl keys rotate` is done and they are retired"),
	CFG_S(data_kek_pkcs11_uri, "", false,
	    "pkcs11: URI of an RSA key in a PKCS#11 token; when set, the "
	    "KEK files hold the KEK encrypted to it (RSA-OAEP SHA-256) and "
	    "the token decrypts them (docs/security.md)"),
	CFG_S(data_kek_pkcs11_pin_file, "", false,
	    "mode 600: the token user's PIN, for data_kek_pkcs11_uri"),
	CFG_S(data_kek_pkcs11_module, "", false,
	    "the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so); "
	    "empty: the pkcs11 engine's default"),
	CFG_I(narrative_max, "8000", 100, 8000, true,
	    "bytes (the database refuses more)"),
	CFG_I(retry_after, "5", 1, 3600, true,
	    "Retry-After seconds on 503 answers"),
	CFG_I(longpoll_max_wait, "60", 1, 600, true,
	    "longest GET /v1/inbox?wait= in seconds"),
	CFG_I(longpoll_recheck, "30", 1, 3600, true,
	    "seconds between backstop re-checks of waiting long-polls"),
	CFG_I(sweep_interval, "5", 1, 3600, true,
	    "seconds between escalation sweeps of overdue cases"),
	CFG_I(decline_limit, "3", 1, 100, true,
	    "declines after which a case goes to the national desk"),
	CFG_I(transfer_take_within, "14400", 60, 31622400, true,
	    "seconds a transferred case has to be taken"),
	CFG_I(transfer_first_contact_within, "86400", 60, 31622400, true,
	    "seconds a transferred case has to first contact"),
	CFG_I(transfer_answer_within, "14400", 60, 31622400, true,
	    "seconds the receiving region has to accept or refuse a "
	    "transfer before it is escalated to the national desk"),
	CFG_S(jurisdiction_profile, "nl", true,
	    "identification rules profile (ident.profile code: nl, uk)"),
	CFG_S(audit_signing_key_file, "", false,
	    "Ed25519 private key (PEM) that signs audit checkpoints; "
	    "empty disables checkpoints (make run sets it)"),
	CFG_S(audit_checkpoint_file, "var/audit/checkpoints.jsonl", false,
	    "where signed checkpoints are appended (outside the database)"),
	CFG_I(audit_checkpoint_interval, "60", 1, 86400, true,
	    "seconds between signed audit checkpoints"),
	CFG_I(audit_checkpoint_rotate_lines, "10080", 0, 100000, false,
	    "lines after which the checkpoint file rotates to FILE.NNNNNN "
	    "(0: never; 10080 is a week at one a minute)"),
	CFG_I(audit_seal_interval, "1", 1, 3600, true,
	    "seconds between audit chain seals"),
	CFG_S(metrics_token_file, "", false,
	    "file holding the bearer token GET /metrics then requires; "
	    "empty: /metrics answers loopback clients only"),
	CFG_I(auth_cache_ttl, "10", 0, 300, true,
	    "seconds a key's role and agency are cached; data access "
	    "always re-checks the key"),
	CFG_I(rate_limit_address, "100", 0, 1000000, true,
	    "API requests a second per client address, refilled; 0: none"),
	CFG_I(rate_burst_address, "400", 1, 1000000, true,
	    "API requests a client address may send at once"),
	CFG_I(rate_limit_key, "20", 0, 1000000, true,
	    "requests a second per token (API key or session); 0: none"),
	CFG_I(rate_burst_key, "100", 1, 1000000, true,
	    "requests a token may send at once"),
	CFG_I(reject_cache_ttl, "10", 1, 300, true,
	    "seconds a token the database refused is refused at the edge; "
	    "refusals are audited once per this window"),
	CFG_I(conn_max_per_address, "512", 0, 1000000, true,
	    "open connections per client address; 0: no cap"),
	CFG_I(handshake_timeout, "10", 0, 3600, true,
	    "seconds a new connection has to finish its TLS handshake and "
	    "send a request's first bytes; 0: none"),
	CFG_I(fd_reserve, "32", 2, 100000, false,
	    "descriptors kept free of client connections (database "
	    "reconnects, reloads): new connections are closed below it"),
	CFG_I(longpoll_max_per_key, "8", 1, 100000, true,
	    "long-polls (GET /v1/inbox?wait=) one key may have waiting"),
	CFG_I(longpoll_max_per_address, "256", 1, 100000, true,
	    "long-polls one client address may have waiting"),
	CFG_I(session_idle_timeout, "900", 1, 86400, true,
	    "seconds a session may stay unused (read by new sessions)"),
	CFG_I(session_lifetime, "36000", 1, 604800, true,
	    "seconds a session lasts at most, used or not (new sessions)"),
	CFG_I(login_lock_after, "10", 1, 1000, true,
	    "failed logins within login_lock_window that lock the login"),
	CFG_I(login_lock_window, "900", 1, 86400, true,
	    "seconds over which failed logins are counted"),
	CFG_I(login_lock_duration, "900", 1, 86400, true,
	    "seconds a locked login stays locked"),
	CFG_I(enrolment_valid, "86400", 1, 2592000, true,
	    "seconds an enrolment code stays valid (new codes)"),
	CFG_I(login_backoff_after, "3", 1, 1000, true,
	    "from this consecutive failed login (of a login or an "
	    "address) on, each 401 is held back"),
	CFG_I(login_backoff_base_ms, "250", 0, 60000, true,
	    "first backoff delay, doubled at each further failure; 0: none"),
	CFG_I(login_backoff_max_ms, "8000", 0, 60000, true,
	    "longest backoff delay"),
	CFG_S(public_origin, "", true,
	    "scheme://host[:port] that browsers send as Origin; empty: "
	    "https://<listen_tls>"),
	CFG_S(cracklib_dict, "", false,
	    "cracklib dictionary path; empty: the library's default"),
	CFG_I(worker_threads, "0", 0, 64, false,
	    "threads hashing passwords off the loop; 0: cores less one"),
	CFG_I(worker_queue, "32", 1, 65536, false,
	    "jobs waiting for a worker before 503"),
	CFG_S(web_root, "build/web", true,
	    "the console's files (make web), read into memory at start and "
	    "reload; empty: no console and no /v1/openapi.*"),
	CFG_I(coverage_silent_after, "259200", 1, 31622400, true,
	    "seconds after which a region none of whose coordinators acted "
	    "counts as uncovered (GET /v1/overview, /metrics)"),
	CFG_I(coverage_refresh, "60", 1, 3600, true,
	    "seconds between refreshes of the uncovered regions nrmd keeps "
	    "(/metrics, route_uncovered_to_national)"),
	CFG_B(route_uncovered_to_national, "false", true,
	    "route a signal whose region is uncovered to the national desk, "
	    "saying so in the decision's explanation"),
	CFG_I(retention_after_close, "157788000", 1, 2147483647, true,
	    "seconds a closed case keeps its personal data (default 5 years "
	    "of 365.25 days); then the retention job erases them"),
	CFG_S(retention_by_reason, "", true,
	    "per closing reason, instead of retention_after_close: "
	    "\"reason=seconds,...\" (duplicate=2592000); empty: none"),
	CFG_I(retention_anonymous, "31557600", 1, 2147483647, true,
	    "seconds an anonymous notification keeps its personal data (the "
	    "reporter's reference) after receipt (default 1 year)"),
	CFG_I(retention_interval, "3600", 1, 86400, true,
	    "seconds between runs of the retention job"),
	CFG_I(retention_batch, "100", 1, 10000, true,
	    "signals the retention job erases per transaction; a full batch "
	    "runs again at once"),
};
/* clang-format on */

/* The member of cfg that key k sets (a char *, int or bool by k->type). */
static void *
cfg_slot(struct nrm_config *cfg, const struct cfg_key *k)
{
	return (char *)cfg + k->offset;
}

/* The spellings of a boolean: index < CFG_TRUE_AT is false. */
static const char *const cfg_bool_names[] = {
    "false", "off", "0", "true", "on", "1"};
#define CFG_TRUE_AT 3

static const struct cfg_key *
cfg_find(const char *name)
{
	for (size_t i = 0; i < NRM_ARRAY_LEN(cfg_keys); i++)
		if (strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	return NULL;
}

/* Parse `val` into the key's slot; `src` says where it came from. */
static int
cfg_set(struct nrm_config *cfg, const struct cfg_key *k, const char *val,
    const char *src, struct nrm_error *err)
{
	switch (k->type) {
	case CFG_STR: {
		char **slot = cfg_slot(cfg, k);

		free(*slot);
		*slot = nrm_xstrdup(val);
		return NRM_OK;
	}
	case CFG_INT: {
		char *end;
		long v;

		errno = 0;
		v = strtol(val, &end, 10);
		if (errno != 0 || end == val || *end != '\0')
			return nrm_error_set(err, NRM_E_VALIDATION, k->name,
			    "%s: %s must be an integer", src, k->name);
		if (v < k->min || v > k->max)
			return nrm_error_set(err, NRM_E_VALIDATION, k->name,
			    "%s: %s must be between %ld and %ld", src, k->name,
			    k->min, k->max);
		*(int *)cfg_slot(cfg, k) = (int)v;
		return NRM_OK;
	}
	case CFG_BOOL: {
		int b = nrm_name_index(
		    cfg_bool_names, NRM_ARRAY_LEN(cfg_bool_names), val);

		if (b < 0)
			return nrm_error_set(err, NRM_E_VALIDATION, k->name,
			    "%s: %s must be true or false", src, k->name);
		*(bool *)cfg_slot(cfg, k) = b >= CFG_TRUE_AT;
		return NRM_OK;
	}
	}
	return nrm_error_set(err, NRM_E_INTERNAL, k->name, "bad key type");
}

static char *
cfg_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Parse the file text line by line. */
static int
cfg_parse_text(
    struct nrm_config *cfg, char *text, const char *path, struct nrm_error *err)
{
	bool seen[NRM_ARRAY_LEN(cfg_keys)] = {false};
	char src[300];
	int lineno = 0;
	char *next;

	for (char *line = text; line != NULL; line = next) {
		char *eq, *key, *val;
		const struct cfg_key *k;
		bool quoted = false;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		/* '#' starts a comment outside double quotes. */
		for (char *p = line; *p != '\0'; p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (*p == '#' && !quoted) {
				*p = '\0';
				break;
			}
		}
		line = cfg_trim(line);
		if (*line == '\0')
			continue;
		snprintf(src, sizeof(src), "%s line %d", path, lineno);
		eq = strchr(line, '=');
		if (eq == NULL)
			return nrm_error_set(err, NRM_E_VALIDATION, "",
			    "%s: expected key = value", src);
		*eq = '\0';
		key = cfg_trim(line);
		val = cfg_trim(eq + 1);
		if (val[0] == '"') {
			size_t n = strlen(val);

			if (n < 2 || val[n - 1] != '"')
				return nrm_error_set(err, NRM_E_VALIDATION, key,
				    "%s: unterminated quote", src);
			val[n - 1] = '\0';
			val++;
		}
		k = cfg_find(key);
		if (k == NULL)
			return nrm_error_set(err, NRM_E_VALIDATION, key,
			    "%s: unknown key %.64s", src, key);
		if (seen[k - cfg_keys])
			return nrm_error_set(err, NRM_E_VALIDATION, key,
			    "%s: %s is set twice", src, key);
		seen[k - cfg_keys] = true;
		if (cfg_set(cfg, k, val, src, err) != NRM_OK)
			return NRM_ERR;
	}
	return NRM_OK;
}

/*
 * An origin as browsers serialise it (RFC 6454): http or https, "://",
 * a host of letters, digits, '.', '-', or an IPv6 literal in brackets,
 * an optional ":port"; no path, no trailing slash, no user info.
 */
static bool
cfg_origin_valid(const char *o)
{
	const char *p;

	if (strncmp(o, "https://", 8) == 0)
		p = o + 8;
	else if (strncmp(o, "http://", 7) == 0)
		p = o + 7;
	else
		return false;
	if (*p == '[') {
		size_t n = strspn(p + 1, "0123456789abcdefABCDEF:.");

		if (n == 0 || p[1 + n] != ']')
			return false;
		p += n + 2;
	} else {
		size_t n = strspn(p,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.-");

		if (n == 0)
			return false;
		p += n;
	}
	if (*p == ':') {
		size_t n = strspn(p + 1, "0123456789");

		if (n == 0 || n > 5)
			return false;
		p += n + 1;
	}
	return *p == '\0';
}

const char *
nrm_config_origin(const struct nrm_config *cfg, char *buf, size_t n)
{
	if (cfg->public_origin[0] != '\0')
		snprintf(buf, n, "%s", cfg->public_origin);
	else if (cfg->listen_tls[0] != '\0')
		snprintf(buf, n, "https://%s", cfg->listen_tls);
	else if (n > 0)
		buf[0] = '\0';
	return buf;
}

/* The closing reasons of a case (docs/case-lifecycle.md; the database's
 * case_closed_reason_check is the authority, api.retention_run checks
 * again). */
static const char *const cfg_close_reasons[] = {"victim_supported",
    "referred_elsewhere", "no_indication_of_trafficking", "duplicate",
    "unreachable", "other"};

char *
nrm_config_retention_json(const char *by_reason, struct nrm_error *err)
{
	cJSON *o = cJSON_CreateObject();
	char *copy = nrm_xstrdup(by_reason), *save = NULL, *out = NULL;

	for (char *it = strtok_r(copy, ",", &save); it != NULL;
	     it = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(it, '='), *name, *end;
		long v;

		if (eq == NULL)
			goto bad;
		*eq = '\0';
		name = cfg_trim(it);
		errno = 0;
		v = strtol(cfg_trim(eq + 1), &end, 10);
		if (nrm_name_index(cfg_close_reasons,
			NRM_ARRAY_LEN(cfg_close_reasons), name) < 0 ||
		    errno != 0 || end == cfg_trim(eq + 1) || *end != '\0' ||
		    v < 1 || v > 2147483647 || cJSON_HasObjectItem(o, name) ||
		    cJSON_AddNumberToObject(o, name, (double)v) == NULL)
			goto bad;
	}
	out = cJSON_PrintUnformatted(o);
	goto out;
bad:
	nrm_error_set(err, NRM_E_VALIDATION, "retention_by_reason",
	    "retention_by_reason must be reason=seconds pairs separated by "
	    "commas, each reason a closing reason named once (%s, ...)",
	    cfg_close_reasons[0]);
out:
	cJSON_Delete(o);
	free(copy);
	return out;
}

/* Cross-key checks, after file and environment. */
static int
cfg_validate(const struct nrm_config *cfg, struct nrm_error *err)
{
	char host[256];
	int port;
	enum nrm_log_level lvl;
	char *json;

	if (nrm_parse_hostport(cfg->listen, host, sizeof(host), &port) !=
	    NRM_OK)
		return nrm_error_set(err, NRM_E_VALIDATION, "listen",
		    "listen must be host:port");
	if (!cfg->allow_remote_plain && !nrm_host_is_loopback(host))
		return nrm_error_set(err, NRM_E_VALIDATION, "listen",
		    "plain HTTP on a non-loopback address needs "
		    "allow_remote_plain = true");
	if (cfg->listen_tls[0] != '\0') {
		if (nrm_parse_hostport(
			cfg->listen_tls, host, sizeof(host), &port) != NRM_OK)
			return nrm_error_set(err, NRM_E_VALIDATION,
			    "listen_tls",
			    "listen_tls must be host:port or "
			    "empty");
		if (cfg->tls_cert_file[0] == '\0' ||
		    cfg->tls_key_file[0] == '\0')
			return nrm_error_set(err, NRM_E_VALIDATION,
			    "tls_cert_file",
			    "listen_tls needs "
			    "tls_cert_file and tls_key_file");
	}
	if (cfg->tls_client_cert_required && cfg->tls_client_ca_file[0] == '\0')
		return nrm_error_set(err, NRM_E_VALIDATION,
		    "tls_client_cert_required",
		    "tls_client_cert_required needs tls_client_ca_file");
	if (nrm_log_level_parse(cfg->log_level, &lvl) != NRM_OK)
		return nrm_error_set(err, NRM_E_VALIDATION, "log_level",
		    "log_level must be debug, info, warn or error");
	if (cfg->database_url[0] == '\0')
		return nrm_error_set(err, NRM_E_VALIDATION, "database_url",
		    "database_url is empty");
	if (nrm_config_db_synchronous(cfg) < 0)
		return nrm_error_set(err, NRM_E_VALIDATION, "db_synchronous",
		    "db_synchronous must be off, warn or require");
	if (cfg->public_origin[0] != '\0' &&
	    !cfg_origin_valid(cfg->public_origin))
		return nrm_error_set(err, NRM_E_VALIDATION, "public_origin",
		    "public_origin must be scheme://host[:port] (https or "
		    "http, no path)");
	json = nrm_config_retention_json(cfg->retention_by_reason, err);
	if (json == NULL)
		return NRM_ERR;
	free(json);
	if (cfg->session_idle_timeout > cfg->session_lifetime)
		return nrm_error_set(err, NRM_E_VALIDATION,
		    "session_idle_timeout",
		    "session_idle_timeout must not exceed session_lifetime");
	return NRM_OK;
}

int
nrm_config_load(struct nrm_config *cfg, const char *path, struct nrm_error *err)
{
	char *text = NULL;
	size_t len;
	int rc = NRM_ERR;

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NRM_ARRAY_LEN(cfg_keys); i++) {
		if (cfg_keys[i].def_fn != NULL)
			*(int *)cfg_slot(cfg, &cfg_keys[i]) =
			    cfg_keys[i].def_fn();
		else if (cfg_set(cfg, &cfg_keys[i], cfg_keys[i].def, "default",
			     err) != NRM_OK)
			goto out;
	}
	if (path != NULL) {
		if (nrm_read_file(path, 1 << 20, &text, &len, "config", err) !=
		    NRM_OK)
			goto out;
		if (strlen(text) != len) {
			nrm_error_set(err, NRM_E_VALIDATION, "config",
			    "%s contains a NUL byte", path);
			goto out;
		}
		if (cfg_parse_text(cfg, text, path, err) != NRM_OK)
			goto out;
	}
	for (size_t i = 0; i < NRM_ARRAY_LEN(cfg_keys); i++) {
		char env[64] = "NRM_";
		const char *v;
		size_t j;

		for (j = 0; cfg_keys[i].name[j] != '\0' && j < 58; j++)
			env[4 + j] =
			    (char)toupper((unsigned char)cfg_keys[i].name[j]);
		env[4 + j] = '\0';
		v = getenv(env);
		if (v != NULL &&
		    cfg_set(cfg, &cfg_keys[i], v, env, err) != NRM_OK)
			goto out;
	}
	if (cfg_validate(cfg, err) != NRM_OK)
		goto out;
	rc = NRM_OK;
out:
	free(text);
	if (rc != NRM_OK)
		nrm_config_free(cfg);
	return rc;
}

void
nrm_config_free(struct nrm_config *cfg)
{
	for (size_t i = 0; i < NRM_ARRAY_LEN(cfg_keys); i++) {
		if (cfg_keys[i].type == CFG_STR) {
			char **slot = cfg_slot(cfg, &cfg_keys[i]);

			free(*slot);
			*slot = NULL;
		}
	}
}

void
nrm_config_merge_reload(struct nrm_config *fresh,
    const struct nrm_config *running, char *changed, size_t bufsz)
{
	size_t used = 0;
	struct nrm_config *run = (struct nrm_config *)(uintptr_t)running;

	if (bufsz > 0)
		changed[0] = '\0';
	for (size_t i = 0; i < NRM_ARRAY_LEN(cfg_keys); i++) {
		const struct cfg_key *k = &cfg_keys[i];
		void *f = cfg_slot(fresh, k), *r = cfg_slot(run, k);
		bool differs = false;

		if (k->reloadable)
			continue;
		switch (k->type) {
		case CFG_STR:
			differs = strcmp(*(char **)f, *(char **)r) != 0;
			free(*(char **)f);
			*(char **)f = nrm_xstrdup(*(char **)r);
			break;
		case CFG_INT:
			differs = *(int *)f != *(int *)r;
			*(int *)f = *(int *)r;
			break;
		case CFG_BOOL:
			differs = *(bool *)f != *(bool *)r;
			*(bool *)f = *(bool *)r;
			break;
		}
		if (differs && used + strlen(k->name) + 2 < bufsz) {
			used += (size_t)snprintf(changed + used, bufsz - used,
			    "%s%s", used > 0 ? "," : "", k->name);
		}
	}
}

void
nrm_config_describe(void *stream)
{
	FILE *f = stream;

	fprintf(f,
	    "configuration keys (file: key = value; environment "
	    "NRM_<KEY> overrides):\n");
	for (size_t i = 0; i < NRM_ARRAY_LEN(cfg_keys); i++) {
		const struct cfg_key *k = &cfg_keys[i];
		char range[64] = "";

		if (k->def_fn != NULL)
			snprintf(range, sizeof(range), " (here %d) [%ld..%ld]",
			    k->def_fn(), k->min, k->max);
		else if (k->type == CFG_INT)
			snprintf(range, sizeof(range), " [%ld..%ld]", k->min,
			    k->max);
		fprintf(f, "  %-22s default %s%s%s; %s\n", k->name,
		    k->def[0] != '\0' ? k->def : "\"\"", range,
		    k->reloadable ? ", reloadable" : "", k->help);
	}
}

int
nrm_config_pool_default(long cpus)
{
	if (cpus < 1)
		cpus = 1; /* sysconf failed: one core */
	if (cpus > (NRM_CONFIG_POOL_MAX - 1) / 2)
		return NRM_CONFIG_POOL_MAX;
	return 2 * (int)cpus + 1;
}

int
nrm_config_db_synchronous(const struct nrm_config *cfg)
{
	static const char *const modes[] = {"off", "warn", "require"};

	for (int i = 0; i < 3; i++)
		if (strcmp(cfg->db_synchronous, modes[i]) == 0)
			return i;
	return -1;
}
