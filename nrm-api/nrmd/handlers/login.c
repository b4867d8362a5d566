/*
 * handlers/login.c - enrolment and sessions of people (issue 11,
 * docs/people.md):
 *
 *   POST   /v1/enrol    {"enrolment_code", "password"}, no credential
 *   POST   /v1/session  {"login", "password", "totp" | "recovery_code"}
 *                       (TLS listener only: it sets the cookie)
 *   GET    /v1/session  the caller's session (who am I)
 *   DELETE /v1/session  end it and clear the cookie
 *
 * The password work runs on the worker pool (workers.h), never on the
 * loop: enrolment's policy check (cracklib, under the pool's lock) and
 * Argon2id hash, a login's verification, or for an unknown login the
 * dummy verification that takes the same time.  A full queue answers 503
 * with Retry-After.  Every failed login is the database's one 401 'login
 * failed'.  Passwords, codes, secrets and session tokens are wiped when
 * done and never logged.
 */
#include "auth.h"
#include "crypto.h"
#include "dbapi.h"
#include "endpoints.h"
#include "log.h"
#include "password.h"
#include "qr.h"
#include "session.h"
#include "totp.h"
#include "util.h"
#include "workers.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOGIN_FIELD_MAX 256 /* bytes of a login or code as sent */

/* One enrolment or login, owned by its steps in turn. */
struct login_ctx {
	struct nrm_req *r;
	char *pw; /* the password as sent (wiped) */
	size_t pwlen;
	char *dict; /* cracklib dictionary, NULL: the default */
	char *display; /* enrolment: the person's display name */
	char login[LOGIN_FIELD_MAX + 1];
	char code[LOGIN_FIELD_MAX + 1]; /* the TOTP or recovery code */
	bool by_recovery;
	bool known; /* login: an enrolled person */
	bool match; /* login: the password verified */
	char person_id[NRM_UUID_LEN + 1];
	int64_t last_step;
	unsigned char code_hash[32]; /* enrolment code */
	unsigned char secret[NRM_TOTP_SECRET_LEN];
	char phc[NRM_PASSWORD_HASH_MAX]; /* stored hash, or the new one */
	char new_phc[NRM_PASSWORD_HASH_MAX]; /* login: a rehash, or "" */
	char codes[NRM_RECOVERY_CODES][NRM_RECOVERY_CODE_LEN + 1];
	char tok[NRM_SESSION_TOKEN_LEN + 1];
	unsigned char tok_hash[32];
	char csrf[NRM_SESSION_CSRF_LEN + 1];
	struct nrm_error err;
};

static struct login_ctx *
login_ctx_new(struct nrm_req *r, const char *pw)
{
	struct login_ctx *x = nrm_xcalloc(1, sizeof(*x));
	const char *dict = r->app->cfg.cracklib_dict;

	x->r = r;
	x->pwlen = strlen(pw);
	x->pw = nrm_xstrdup(pw);
	if (dict != NULL && dict[0] != '\0')
		x->dict = nrm_xstrdup(dict);
	nrm_error_clear(&x->err);
	return x;
}

static void
login_ctx_free(struct login_ctx *x)
{
	if (x == NULL)
		return;
	OPENSSL_cleanse(x->pw, x->pwlen);
	free(x->pw);
	free(x->dict);
	free(x->display);
	OPENSSL_cleanse(x, sizeof(*x));
	free(x);
}

/*
 * Read the strict body: only keys[0..n), each a string of at most
 * LOGIN_FIELD_MAX bytes (the password: NRM_PASSWORD_MAX_BYTES), the
 * first nreq required.  Replies 400/422 naming the field and returns
 * NRM_ERR on any fault (*out may then hold the body, for the caller to
 * free).  The raw body (it holds a password) is wiped once parsed.
 */
static int
login_body(struct nrm_req *r, const char *const *keys, int n, int nreq,
    const cJSON **slot, cJSON **out)
{
	/* On failure it has replied: r is gone. */
	if (nrm_req_body_object(r, false, keys, n, slot, out) != NRM_OK)
		return NRM_ERR;
	if (r->body != NULL)
		OPENSSL_cleanse(r->body, r->body_len);
	for (int i = 0; i < n; i++) {
		size_t max = strcmp(keys[i], "password") == 0
		    ? NRM_PASSWORD_MAX_BYTES
		    : LOGIN_FIELD_MAX;
		const char *why = NULL;

		if (slot[i] == NULL || cJSON_IsNull(slot[i]))
			why = i < nreq ? "is required" : NULL;
		else if (!cJSON_IsString(slot[i]))
			why = "must be a string";
		else if (strlen(slot[i]->valuestring) > max)
			why = "is too long";
		if (slot[i] != NULL && !cJSON_IsString(slot[i]))
			slot[i] = NULL;
		if (why != NULL) {
			nrm_req_fail(r, NRM_E_VALIDATION, keys[i], "%s %s",
			    keys[i], why);
			return NRM_ERR;
		}
	}
	return NRM_OK;
}

/* Wipe every string of a JSON value, at any depth. */
static void
login_wipe(cJSON *v)
{
	for (cJSON *c = v != NULL ? v->child : NULL; c != NULL; c = c->next) {
		if (cJSON_IsString(c))
			OPENSSL_cleanse(c->valuestring, strlen(c->valuestring));
		else
			login_wipe(c);
	}
}

/* Wipe the strings of a body that held secrets, and free it. */
static void
login_body_free(cJSON *body)
{
	login_wipe(body);
	cJSON_Delete(body);
}

/*
 * The parsed answer when its status is `want` (*body its body), else
 * NULL after replying from it.
 */
static cJSON *
login_answer(struct nrm_req *r, const char *text, int want, cJSON **body)
{
	cJSON *root = cJSON_Parse(text);
	cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");

	*body = cJSON_GetObjectItemCaseSensitive(root, "body");
	if (cJSON_IsNumber(st) && st->valueint == want &&
	    (want == 204 || cJSON_IsObject(*body)))
		return root;
	cJSON_Delete(root);
	nrm_dbapi_answer(r, text, NULL);
	return NULL;
}

/*
 * Hand x to the pool, which owns it from now on (its done callback frees
 * it); when the queue is full, reply 503 and free x.
 */
static void
login_submit(struct login_ctx *x, nrm_work_cb work, nrm_work_done_cb done)
{
	if (nrm_workers_submit(x->r->app->workers, work, done, x, NULL) ==
	    NRM_OK)
		return;
	nrm_req_fail(x->r, NRM_E_UNAVAILABLE, "",
	    "too many password checks at once; retry later");
	login_ctx_free(x);
}

/* A string member of o copied into buf[n]; "" when absent. */
static void
login_copy(const cJSON *o, const char *name, char *buf, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	snprintf(buf, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

/* Decode exactly 2n lower- or upper-case hex digits into out[n]. */
static int
login_unhex(const char *hex, unsigned char *out, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	if (strlen(hex) != 2 * n)
		return NRM_ERR;
	for (size_t i = 0; i < 2 * n; i++) {
		const char *d = strchr(digits, hex[i] | 0x20);

		if (hex[i] == '\0' || d == NULL || *d == '\0')
			return NRM_ERR;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)((d - digits) << 4);
		else
			out[i / 2] |= (unsigned char)(d - digits);
	}
	return NRM_OK;
}

/* --- POST /v1/enrol ---------------------------------------------------- */

static void
enrol_done(struct nrm_req *r, void *arg, const char *text)
{
	struct login_ctx *x = arg;
	char uri[512];
	cJSON *root, *body, *o, *codes, *qr;

	if (text == NULL || (root = login_answer(r, text, 201, &body)) == NULL)
		goto out;
	cJSON_Delete(root);
	if (nrm_totp_uri("nrm", x->login, x->secret, uri, sizeof(uri)) !=
	    NRM_OK) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "could not enrol");
		goto out;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "login", x->login);
	cJSON_AddStringToObject(o, "otpauth_uri", uri);
	/*
	 * The same URI as a QR code for the console (qr.h).  The person is
	 * enrolled already: should drawing fail (out of memory), the answer
	 * goes without it rather than lose the secret.
	 */
	qr = nrm_qr_json(uri);
	if (qr != NULL)
		cJSON_AddItemToObject(o, "otpauth_qr", qr);
	else
		nrm_warn(
		    "enrolment answered without its qr code req=%s", r->id);
	codes = cJSON_AddArrayToObject(o, "recovery_codes");
	for (int i = 0; i < NRM_RECOVERY_CODES; i++)
		cJSON_AddItemToArray(codes, cJSON_CreateString(x->codes[i]));
	nrm_req_json_obj(r, 201, o);
	login_body_free(o);
	OPENSSL_cleanse(uri, sizeof(uri));
out:
	login_ctx_free(x);
}

/* Worker thread: the policy, then the hash. */
static int
enrol_work(void *arg)
{
	struct login_ctx *x = arg;
	int rc;

	nrm_workers_cracklib_lock();
	rc = nrm_password_check(
	    x->pw, x->pwlen, x->login, x->display, x->dict, &x->err);
	nrm_workers_cracklib_unlock();
	if (rc != NRM_OK)
		return NRM_ERR;
	return nrm_password_hash(
	    x->pw, x->pwlen, x->phc, sizeof(x->phc), &x->err);
}

static void
enrol_hashed(void *arg, int rc, bool gone)
{
	struct login_ctx *x = arg;
	struct nrm_req *r = x->r;
	struct nrm_dbapi_call call;
	/* {"\\x<64 hex>",...}: the bytea[] of the recovery code hashes */
	char arr[NRM_RECOVERY_CODES * 72 + 4];
	size_t off = 0;

	if (gone)
		goto out;
	if (rc != NRM_OK) {
		nrm_req_problem(r, &x->err);
		goto out;
	}
	if (nrm_totp_secret_new(x->secret) != NRM_OK ||
	    nrm_recovery_codes_new(x->codes, NRM_RECOVERY_CODES) != NRM_OK) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "could not enrol");
		goto out;
	}
	arr[off++] = '{';
	for (int i = 0; i < NRM_RECOVERY_CODES; i++) {
		unsigned char h[32];

		if (nrm_recovery_code_hash(
			x->codes[i], strlen(x->codes[i]), h) != NRM_OK) {
			nrm_req_fail(r, NRM_E_INTERNAL, "", "could not enrol");
			goto out;
		}
		off += (size_t)snprintf(arr + off, sizeof(arr) - off,
		    "%s\"\\\\x", i > 0 ? "," : "");
		nrm_hex(h, sizeof(h), arr + off);
		off += 64;
		arr[off++] = '"';
	}
	arr[off++] = '}';
	arr[off] = '\0';
	nrm_dbapi_begin_anon(&call, r);
	nrm_dbapi_bytes(&call, x->code_hash, sizeof(x->code_hash));
	nrm_dbapi_text(&call, x->phc);
	nrm_dbapi_bytes(&call, x->secret, sizeof(x->secret));
	nrm_dbapi_text(&call, arr);
	if (nrm_dbapi_exec_text(r, NRM_STMT_ENROL, &call, enrol_done, x) ==
	    NRM_OK)
		x = NULL;
out:
	login_ctx_free(x);
}

static void
enrol_looked_up(struct nrm_req *r, void *arg, const char *text)
{
	struct login_ctx *x = arg;
	char display[LOGIN_FIELD_MAX + 1];
	cJSON *root, *body;

	if (text == NULL || (root = login_answer(r, text, 200, &body)) == NULL)
		goto out;
	login_copy(body, "login", x->login, sizeof(x->login));
	login_copy(body, "display_name", display, sizeof(display));
	x->display = nrm_xstrdup(display);
	cJSON_Delete(root);
	login_submit(x, enrol_work, enrol_hashed);
	return;
out:
	login_ctx_free(x);
}

void
nrm_h_enrol(struct nrm_req *r)
{
	static const char *const keys[] = {"enrolment_code", "password"};
	const cJSON *slot[2] = {NULL, NULL};
	struct nrm_dbapi_call call;
	struct login_ctx *x = NULL;
	cJSON *body = NULL;
	const char *code;

	if (login_body(r, keys, 2, 2, slot, &body) != NRM_OK)
		goto out;
	x = login_ctx_new(r, slot[1]->valuestring);
	code = slot[0]->valuestring;
	if (nrm_enrolment_code_hash(code, strlen(code), x->code_hash) !=
	    NRM_OK) {
		/* the database's answer for an unknown code, word for word */
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "enrolment_code",
		    "invalid or expired enrolment code");
		goto out;
	}
	nrm_dbapi_begin_anon(&call, r);
	nrm_dbapi_bytes(&call, x->code_hash, sizeof(x->code_hash));
	if (nrm_dbapi_exec_text(
		r, NRM_STMT_ENROL_LOOKUP, &call, enrol_looked_up, x) == NRM_OK)
		x = NULL;
out:
	login_ctx_free(x);
	login_body_free(body);
}

/* --- POST /v1/session -------------------------------------------------- */

static void
login_finished(struct nrm_req *r, void *arg, const char *text)
{
	struct login_ctx *x = arg;
	const struct nrm_config *cfg = &r->app->cfg;
	cJSON *root, *body, *st;

	if (text == NULL)
		goto out;
	root = cJSON_Parse(text);
	st = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (cJSON_IsNumber(st) && st->valueint == 401) {
		r->app->counters.login_failures++;
		/* for the metric only: the 401 body never carries it */
		if (cJSON_IsTrue(
			cJSON_GetObjectItemCaseSensitive(root, "locked_now")))
			r->app->counters.login_locks++;
	}
	cJSON_Delete(root);
	if ((root = login_answer(r, text, 201, &body)) == NULL)
		goto out;
	if (nrm_auth_set_session_cookie(r, x->tok, cfg->session_lifetime) !=
	    NRM_OK) {
		cJSON_Delete(root);
		nrm_req_fail(r, NRM_E_FORBIDDEN, "",
		    "sessions need HTTPS: log in on the TLS listener");
		goto out;
	}
	cJSON_AddStringToObject(body, "csrf_token", x->csrf);
	r->app->counters.sessions_created++;
	nrm_req_json_obj(r, 201, body);
	cJSON_Delete(root);
out:
	login_ctx_free(x);
}

/* Worker thread: verify (or the dummy for an unknown login); rehash a
 * right password stored with older parameters. */
static int
login_work(void *arg)
{
	struct login_ctx *x = arg;

	x->match = false;
	if (!x->known) {
		nrm_password_verify_dummy(x->pw, x->pwlen);
		return NRM_OK;
	}
	if (nrm_password_verify(x->phc, x->pw, x->pwlen, &x->match) != NRM_OK)
		x->match = false;
	if (x->match && nrm_password_needs_rehash(x->phc) &&
	    nrm_password_hash(x->pw, x->pwlen, x->new_phc, sizeof(x->new_phc),
		&x->err) != NRM_OK)
		x->new_phc[0] = '\0';
	return NRM_OK;
}

static void
login_verified(void *arg, int rc, bool gone)
{
	struct login_ctx *x = arg;
	struct nrm_req *r = x->r;
	const struct nrm_config *cfg = &r->app->cfg;
	struct nrm_dbapi_call call;
	unsigned char rhash[32];
	char step[24], n[5][16];
	int64_t s = 0;
	bool has_step = false, has_rhash = false;

	NRM_UNUSED(rc);
	if (gone)
		goto out;
	if (x->known && x->by_recovery)
		has_rhash = nrm_recovery_code_hash(
				x->code, strlen(x->code), rhash) == NRM_OK;
	else if (x->known) {
		int64_t now = (int64_t)time(NULL);

		/* A replayed code is matched without the last step so that
		 * the database refuses (and audits) it as a replay. */
		has_step =
		    nrm_totp_verify(x->secret, sizeof(x->secret), x->code,
			strlen(x->code), now, x->last_step, &s) == NRM_OK ||
		    nrm_totp_verify(x->secret, sizeof(x->secret), x->code,
			strlen(x->code), now, NRM_TOTP_NO_STEP, &s) == NRM_OK;
	}
	if (nrm_session_new(r->app->csrf_key, x->tok, x->tok_hash, x->csrf) !=
	    NRM_OK) {
		nrm_req_fail(
		    r, NRM_E_INTERNAL, "", "could not start a session");
		goto out;
	}
	snprintf(step, sizeof(step), "%lld", (long long)s);
	snprintf(n[0], sizeof(n[0]), "%d", cfg->session_idle_timeout);
	snprintf(n[1], sizeof(n[1]), "%d", cfg->session_lifetime);
	snprintf(n[2], sizeof(n[2]), "%d", cfg->login_lock_after);
	snprintf(n[3], sizeof(n[3]), "%d", cfg->login_lock_window);
	snprintf(n[4], sizeof(n[4]), "%d", cfg->login_lock_duration);
	nrm_dbapi_begin_anon(&call, r);
	nrm_dbapi_text(&call, x->login);
	nrm_dbapi_text(&call, x->known ? x->person_id : NULL);
	nrm_dbapi_text(&call, x->known && x->match ? "true" : "false");
	nrm_dbapi_text(&call, has_step ? step : NULL);
	nrm_dbapi_bytes(&call, has_rhash ? rhash : NULL, sizeof(rhash));
	nrm_dbapi_bytes(&call, x->tok_hash, sizeof(x->tok_hash));
	for (int i = 0; i < 5; i++)
		nrm_dbapi_text(&call, n[i]);
	nrm_dbapi_text(&call, x->new_phc[0] != '\0' ? x->new_phc : NULL);
	if (nrm_dbapi_exec_text(
		r, NRM_STMT_LOGIN_FINISH, &call, login_finished, x) == NRM_OK)
		x = NULL;
out:
	OPENSSL_cleanse(rhash, sizeof(rhash));
	login_ctx_free(x);
}

static void
login_looked_up(struct nrm_req *r, void *arg, const char *text)
{
	struct login_ctx *x = arg;
	cJSON *root, *body, *v;
	char hex[2 * NRM_TOTP_SECRET_LEN + 1];

	if (text == NULL ||
	    (root = login_answer(r, text, 200, &body)) == NULL) {
		login_ctx_free(x);
		return;
	}
	login_copy(body, "person_id", x->person_id, sizeof(x->person_id));
	login_copy(body, "password_phc", x->phc, sizeof(x->phc));
	login_copy(body, "totp_secret", hex, sizeof(hex));
	v = cJSON_GetObjectItemCaseSensitive(body, "totp_last_step");
	x->last_step = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
	x->known = x->person_id[0] != '\0' &&
	    login_unhex(hex, x->secret, sizeof(x->secret)) == NRM_OK;
	login_body_free(root);
	OPENSSL_cleanse(hex, sizeof(hex));
	login_submit(x, login_work, login_verified);
}

void
nrm_h_session_create(struct nrm_req *r)
{
	static const char *const keys[] = {
	    "login", "password", "totp", "recovery_code"};
	const cJSON *slot[4] = {NULL, NULL, NULL, NULL};
	struct nrm_dbapi_call call;
	struct login_ctx *x = NULL;
	cJSON *body = NULL;

	if (!nrm_req_tls(r)) {
		nrm_req_fail(r, NRM_E_FORBIDDEN, "",
		    "sessions need HTTPS: log in on the TLS listener");
		return;
	}
	if (login_body(r, keys, 4, 2, slot, &body) != NRM_OK)
		goto out;
	if ((slot[2] == NULL) == (slot[3] == NULL)) {
		nrm_req_fail(r, NRM_E_VALIDATION, "totp",
		    "give totp or recovery_code, one of them");
		goto out;
	}
	x = login_ctx_new(r, slot[1]->valuestring);
	snprintf(x->login, sizeof(x->login), "%s", slot[0]->valuestring);
	x->by_recovery = slot[3] != NULL;
	snprintf(x->code, sizeof(x->code), "%s",
	    (x->by_recovery ? slot[3] : slot[2])->valuestring);
	nrm_dbapi_begin_anon(&call, r);
	nrm_dbapi_text(&call, x->login);
	if (nrm_dbapi_exec_text(
		r, NRM_STMT_LOGIN_LOOKUP, &call, login_looked_up, x) == NRM_OK)
		x = NULL;
out:
	login_ctx_free(x);
	login_body_free(body);
}

/* --- GET and DELETE /v1/session ---------------------------------------- */

static void
session_ended(struct nrm_req *r, void *arg, const char *text)
{
	cJSON *root, *body;

	NRM_UNUSED(arg);
	if (text == NULL || (root = login_answer(r, text, 204, &body)) == NULL)
		return;
	cJSON_Delete(root);
	nrm_auth_cache_evict(r->app->auth_cache, r->token_hash);
	/* On the plain listener there is no cookie to clear. */
	if (nrm_auth_set_session_cookie(r, NULL, 0) != NRM_OK)
		r->by_cookie = false;
	nrm_req_reply(r, 204, NULL, NULL, 0);
}

void
nrm_h_session(struct nrm_req *r)
{
	struct nrm_dbapi_call call;

	if (nrm_auth_token(r) != NRM_OK)
		return;
	nrm_dbapi_begin(&call, r);
	if (strcmp(r->endpoint->method, "GET") == 0)
		nrm_dbapi_send(r, NRM_STMT_SESSION_GET, &call, NULL);
	else if (nrm_dbapi_exec_text(r, NRM_STMT_SESSION_END, &call,
		     session_ended, NULL) != NRM_OK)
		return; /* replied 503 */
}
