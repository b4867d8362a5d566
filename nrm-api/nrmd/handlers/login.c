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
 * The database decides a login (0024, docs/people.md "Login"): it gives
 * the login's Argon2id salt and parameters (api.login_begin: a stable
 * fake salt for an unknown login, the same shape), nrmd derives the raw
 * tag of the password typed and sends it with the TOTP or recovery code
 * as typed (api.login_finish), and the database compares the tag with
 * its verifier, computes the TOTP codes and opens the session.  No
 * password hash or TOTP secret reaches nrmd but at enrolment, which
 * makes them.  The password work runs on the worker pool (workers.h),
 * never on the loop: enrolment's policy check (cracklib, under the
 * pool's lock) and Argon2id tag, a login's tag (and, for a password
 * stored with weaker parameters, the tag of a rehash).  A full queue
 * answers 503 with Retry-After.  Every failed login is the database's one 401 'login
 * failed'; from the login_backoff_after-th consecutive failure of the
 * login or of the client address on, it is held back on an evtimer for
 * a doubling delay (backoff.h), while the loop goes on.  Passwords,
 * codes, secrets and session tokens are wiped when done and never
 * logged.
 */
#include "auth.h"
#include "backoff.h"
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

#include "nrm/json.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
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
	bool derived; /* login: tag holds the password's tag */
	bool rehash; /* login: new_a and new_tag hold a rehash */
	unsigned char code_hash[32]; /* enrolment code */
	unsigned char secret[NRM_TOTP_SECRET_LEN];
	struct nrm_argon2 a; /* stored (login) or new (enrolment) */
	unsigned char tag[NRM_ARGON2_TAG_MAX]; /* the password's tag */
	struct nrm_argon2 new_a; /* login: the rehash's */
	unsigned char new_tag[NRM_ARGON2_TAG_MAX];
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
 * Send a step's query, whose callback then owns x: NULL when sent,
 * else x (the request has been answered 503), for the caller to free.
 */
static struct login_ctx *
login_send(struct nrm_req *r, enum nrm_stmt stmt, struct nrm_dbapi_call *call,
    nrm_dbapi_text_cb cb, struct login_ctx *x)
{
	return nrm_dbapi_exec_text(r, stmt, call, cb, x) == NRM_OK ? NULL : x;
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
	const char *s = nrm_json_str(o, name);

	snprintf(buf, n, "%s", s != NULL ? s : "");
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
	return nrm_password_new(x->pw, x->pwlen, &x->a, x->tag, &x->err);
}

/* "{m,t,p}": the Argon2id parameters of a as an integer[] literal. */
static void
login_params(const struct nrm_argon2 *a, char *buf, size_t n)
{
	snprintf(buf, n, "{%u,%u,%u}", (unsigned)a->m_kib, (unsigned)a->t_cost,
	    (unsigned)a->lanes);
}

static void
enrol_hashed(void *arg, int rc, bool gone)
{
	struct login_ctx *x = arg;
	struct nrm_req *r = x->r;
	struct nrm_dbapi_call call;
	/* {"\\x<64 hex>",...}: the bytea[] of the recovery code hashes */
	char arr[NRM_RECOVERY_CODES * 72 + 4];
	char params[48];
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
	login_params(&x->a, params, sizeof(params));
	nrm_dbapi_bytes(&call, x->code_hash, sizeof(x->code_hash));
	nrm_dbapi_bytes(&call, x->a.salt, x->a.saltlen);
	nrm_dbapi_text(&call, params);
	nrm_dbapi_bytes(&call, x->tag, x->a.taglen);
	nrm_dbapi_bytes(&call, x->secret, sizeof(x->secret));
	nrm_dbapi_text(&call, arr);
	x = login_send(r, NRM_STMT_ENROL, &call, enrol_done, x);
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
	x = login_send(r, NRM_STMT_ENROL_LOOKUP, &call, enrol_looked_up, x);
out:
	login_ctx_free(x);
	login_body_free(body);
}

/* --- POST /v1/session -------------------------------------------------- */

/* A refused login whose answer the backoff holds back. */
struct login_delay {
	struct event *ev;
	struct nrm_req *r;
	char *text; /* the database's 401 answer: no secret in it */
};

static void
login_delay_fire(evutil_socket_t fd, short what, void *arg)
{
	struct login_delay *d = arg;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	/* a client gone meanwhile: this only frees the request */
	nrm_dbapi_answer(d->r, d->text, NULL);
	event_free(d->ev);
	free(d->text);
	free(d);
}

/*
 * Answer a refused login (the database's 401 `text`): count it for the
 * login as typed and for the client address, known or not alike, and
 * hold the answer back for the backoff delay, if any, on an evtimer.
 * A correct login is never held back (only the database's lock refuses
 * it); nrm_backoff_clear() starts both counts again.
 */
static void
login_refused(struct nrm_req *r, const char *login, const char *text)
{
	const struct nrm_config *cfg = &r->app->cfg;
	unsigned k = nrm_backoff_fail(r->app->backoff, login, r->client_addr,
	    (int64_t)time(NULL), cfg->login_lock_window);
	int64_t ms = nrm_backoff_delay_ms(k, cfg->login_backoff_after,
	    cfg->login_backoff_base_ms, cfg->login_backoff_max_ms);
	struct login_delay *d;
	struct timeval tv;

	if (ms <= 0) {
		nrm_dbapi_answer(r, text, NULL);
		return;
	}
	d = nrm_xcalloc(1, sizeof(*d));
	d->r = r;
	d->text = nrm_xstrdup(text);
	d->ev = evtimer_new(r->app->base, login_delay_fire, d);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	if (d->ev == NULL || evtimer_add(d->ev, &tv) != 0) {
		if (d->ev != NULL)
			event_free(d->ev);
		free(d->text);
		free(d);
		nrm_dbapi_answer(r, text, NULL);
		return;
	}
	r->app->counters.login_backoffs++;
}

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
		cJSON_Delete(root);
		login_refused(r, x->login, text);
		goto out;
	}
	cJSON_Delete(root);
	if ((root = login_answer(r, text, 201, &body)) == NULL)
		goto out;
	nrm_backoff_clear(r->app->backoff, x->login, r->client_addr);
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

/*
 * Worker thread: the tag of the password typed with the login's salt
 * and parameters (an unknown login's are alike: the same work); for a
 * password stored with weaker parameters, a rehash too, which the
 * database stores only if the password was right.
 */
static int
login_work(void *arg)
{
	struct login_ctx *x = arg;

	x->derived = nrm_password_derive(
			 x->pw, x->pwlen, &x->a, x->tag, &x->err) == NRM_OK;
	x->rehash = x->derived && nrm_password_outdated(&x->a) &&
	    nrm_password_new(x->pw, x->pwlen, &x->new_a, x->new_tag, &x->err) ==
		NRM_OK;
	return NRM_OK;
}

static void
login_derived(void *arg, int rc, bool gone)
{
	struct login_ctx *x = arg;
	struct nrm_req *r = x->r;
	const struct nrm_config *cfg = &r->app->cfg;
	struct nrm_dbapi_call call;
	char n[5][16], params[48];

	NRM_UNUSED(rc);
	if (gone)
		goto out;
	if (nrm_session_new(r->app->csrf_key, x->tok, x->tok_hash, x->csrf) !=
	    NRM_OK) {
		nrm_req_fail(
		    r, NRM_E_INTERNAL, "", "could not start a session");
		goto out;
	}
	snprintf(n[0], sizeof(n[0]), "%d", cfg->session_idle_timeout);
	snprintf(n[1], sizeof(n[1]), "%d", cfg->session_lifetime);
	snprintf(n[2], sizeof(n[2]), "%d", cfg->login_lock_after);
	snprintf(n[3], sizeof(n[3]), "%d", cfg->login_lock_window);
	snprintf(n[4], sizeof(n[4]), "%d", cfg->login_lock_duration);
	login_params(&x->new_a, params, sizeof(params));
	nrm_dbapi_begin_anon(&call, r);
	nrm_dbapi_text(&call, x->login);
	/* no tag (libargon2 failed): the database refuses and counts it */
	nrm_dbapi_bytes(&call, x->derived ? x->tag : NULL, x->a.taglen);
	nrm_dbapi_text(&call, x->by_recovery ? NULL : x->code);
	nrm_dbapi_text(&call, x->by_recovery ? x->code : NULL);
	nrm_dbapi_bytes(&call, x->tok_hash, sizeof(x->tok_hash));
	for (int i = 0; i < 5; i++)
		nrm_dbapi_text(&call, n[i]);
	nrm_dbapi_bytes(
	    &call, x->rehash ? x->new_a.salt : NULL, x->new_a.saltlen);
	nrm_dbapi_text(&call, x->rehash ? params : NULL);
	nrm_dbapi_bytes(&call, x->rehash ? x->new_tag : NULL, x->new_a.taglen);
	x = login_send(r, NRM_STMT_LOGIN_FINISH, &call, login_finished, x);
out:
	login_ctx_free(x);
}

/* A non-negative integer member of o, at most max, into *v. */
static bool
login_uint(const cJSON *o, const char *name, uint32_t max, uint32_t *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > max)
		return false;
	*v = (uint32_t)n->valuedouble;
	return true;
}

/* The login's salt and parameters (nothing secret): derive on the pool. */
static void
login_began(struct nrm_req *r, void *arg, const char *text)
{
	struct login_ctx *x = arg;
	struct nrm_argon2 *a = &x->a;
	char hex[2 * NRM_ARGON2_SALT_MAX + 1];
	uint32_t taglen = 0;
	cJSON *root, *body;

	if (text == NULL ||
	    (root = login_answer(r, text, 200, &body)) == NULL) {
		login_ctx_free(x);
		return;
	}
	login_copy(body, "salt", hex, sizeof(hex));
	a->saltlen = strlen(hex) / 2;
	if (!login_uint(body, "m_kib", NRM_ARGON2_M_KIB_MAX, &a->m_kib) ||
	    !login_uint(body, "t_cost", NRM_ARGON2_T_COST_MAX, &a->t_cost) ||
	    !login_uint(body, "lanes", NRM_ARGON2_LANES_MAX, &a->lanes) ||
	    !login_uint(body, "tag_len", NRM_ARGON2_TAG_MAX, &taglen) ||
	    login_unhex(hex, a->salt, a->saltlen) != NRM_OK) {
		cJSON_Delete(root);
		nrm_req_fail(r, NRM_E_INTERNAL, "", "could not log in");
		login_ctx_free(x);
		return;
	}
	a->taglen = taglen;
	cJSON_Delete(root);
	login_submit(x, login_work, login_derived);
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
	x = login_send(r, NRM_STMT_LOGIN_BEGIN, &call, login_began, x);
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

	nrm_dbapi_begin(&call, r);
	if (strcmp(r->endpoint->method, "GET") == 0)
		nrm_dbapi_send(r, NRM_STMT_SESSION_GET, &call, NULL);
	else if (nrm_dbapi_exec_text(r, NRM_STMT_SESSION_END, &call,
		     session_ended, NULL) != NRM_OK)
		return; /* replied 503 */
}
