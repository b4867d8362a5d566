/*
 * auth.c - bearer tokens and session cookies, the principal cache and
 * role checks (see auth.h).
 */
#include "auth.h"
#include "crypto.h"
#include "dbapi.h"
#include "guard.h"
#include "log.h"
#include "session.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTH_CACHE_SLOTS 4096 /* direct-mapped; a collision evicts */

struct auth_pending;

struct nrm_auth_cache {
	struct nrm_principal slot[AUTH_CACHE_SLOTS];
	struct auth_pending *flights; /* lookups out (auth_require) */
};

struct nrm_auth_cache *
nrm_auth_cache_new(void)
{
	return nrm_xcalloc(1, sizeof(struct nrm_auth_cache));
}

void
nrm_auth_cache_free(struct nrm_auth_cache *c)
{
	if (c != NULL)
		explicit_bzero(c, sizeof(*c));
	free(c);
}

static struct nrm_principal *
auth_slot(struct nrm_auth_cache *c, const unsigned char h[32])
{
	return &c->slot[((unsigned)h[0] << 8 | h[1]) % AUTH_CACHE_SLOTS];
}

void
nrm_auth_cache_evict(struct nrm_auth_cache *c, const unsigned char h[32])
{
	struct nrm_principal *p = auth_slot(c, h);

	if (nrm_ct_equal(p->token_hash, h, 32))
		memset(p, 0, sizeof(*p));
}

void
nrm_auth_cache_evict_key(struct nrm_auth_cache *c, const char *key_id)
{
	for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++)
		if (c->slot[i].cached_ms != 0 &&
		    strcmp(c->slot[i].key_id, key_id) == 0)
			memset(&c->slot[i], 0, sizeof(c->slot[i]));
}

/* An entry younger than the live auth_cache_ttl (0: no cache). */
static const struct nrm_principal *
auth_cache_get(struct nrm_auth_cache *c, const unsigned char h[32], int ttl_s)
{
	struct nrm_principal *p = auth_slot(c, h);

	if (p->cached_ms == 0 || !nrm_ct_equal(p->token_hash, h, 32))
		return NULL;
	if (p->cached_ms + (int64_t)ttl_s * 1000 <= nrm_mono_ms()) {
		memset(p, 0, sizeof(*p));
		return NULL;
	}
	return p;
}

/*
 * A well-formed session cookie: its hash, then the CSRF and Origin rules
 * for an unsafe method (refused here, before the database).
 */
static int
auth_session(struct nrm_req *r, const char *tok)
{
	char origin[300];
	const char *field;
	const char *method = r->endpoint != NULL ? r->endpoint->method : "POST";

	nrm_sha256(tok, strlen(tok), r->token_hash);
	r->has_token = true;
	r->by_cookie = true;
	if (nrm_session_check_method(r->app->csrf_key, tok, method,
		nrm_req_header(r, NRM_SESSION_CSRF_HEADER),
		nrm_req_header(r, "Origin"),
		nrm_config_origin(&r->app->cfg, origin, sizeof(origin)),
		&field) == NRM_OK)
		return NRM_OK;
	if (strcmp(field, "Origin") == 0)
		nrm_req_fail(r, NRM_E_FORBIDDEN, field,
		    "a request made with the session cookie must come from "
		    "the service's own origin");
	else
		nrm_req_fail(r, NRM_E_FORBIDDEN, field,
		    "a request made with the session cookie needs the "
		    "csrf_token given at login in X-CSRF-Token");
	return NRM_ERR;
}

int
nrm_auth_set_session_cookie(struct nrm_req *r, const char *tok, int max_age_s)
{
	char v[NRM_SESSION_SET_COOKIE_MAX];

	if (!nrm_req_tls(r))
		return NRM_ERR;
	if (tok != NULL)
		nrm_session_set_cookie(v, tok, max_age_s);
	else
		nrm_session_clear_cookie(v);
	nrm_req_add_header(r, "Set-Cookie", v); /* every reply is no-store */
	explicit_bzero(v, sizeof(v));
	return NRM_OK;
}

int
nrm_auth_token(struct nrm_req *r)
{
	const char *h = nrm_req_header(r, "Authorization");
	const char *tok;
	char cookie[NRM_SESSION_TOKEN_LEN + 1];

	if (h == NULL &&
	    nrm_session_cookie_parse(nrm_req_header(r, "Cookie"), cookie)) {
		int rc = auth_session(r, cookie);

		explicit_bzero(cookie, sizeof(cookie));
		if (rc != NRM_OK)
			return rc;
		return nrm_guard_token(r);
	}
	if (h == NULL) {
		nrm_req_fail(r, NRM_E_UNAUTHENTICATED, "Authorization",
		    "a bearer token is required");
		return NRM_ERR;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		nrm_req_fail(r, NRM_E_UNAUTHENTICATED, "Authorization",
		    "the Authorization scheme must be Bearer");
		return NRM_ERR;
	}
	tok = h + 7;
	while (*tok == ' ')
		tok++;
	if (!nrm_token_well_formed(tok, strlen(tok))) {
		nrm_req_fail(r, NRM_E_UNAUTHENTICATED, "Authorization",
		    "the bearer token is not valid");
		return NRM_ERR;
	}
	nrm_sha256(tok, strlen(tok), r->token_hash);
	r->has_token = true;
	/* a token refused a moment ago, or too many requests (guard.h) */
	return nrm_guard_token(r);
}

/* Fill *p from api.authorize's body; NRM_ERR on an unexpected shape. */
static int
auth_parse_principal(const cJSON *body, struct nrm_principal *p)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(body, "key_id");
	const cJSON *ag = cJSON_GetObjectItemCaseSensitive(body, "agency_id");
	const cJSON *role = cJSON_GetObjectItemCaseSensitive(body, "role");
	const cJSON *kind =
	    cJSON_GetObjectItemCaseSensitive(body, "agency_kind");
	const cJSON *regs = cJSON_GetObjectItemCaseSensitive(body, "regions");
	const cJSON *it;

	if (!cJSON_IsString(key) || !cJSON_IsString(ag) ||
	    !cJSON_IsString(role) || !cJSON_IsString(kind) ||
	    !cJSON_IsArray(regs))
		return NRM_ERR;
	snprintf(p->key_id, sizeof(p->key_id), "%s", key->valuestring);
	snprintf(p->agency_id, sizeof(p->agency_id), "%s", ag->valuestring);
	snprintf(
	    p->agency_kind, sizeof(p->agency_kind), "%s", kind->valuestring);
	p->role = nrm_role_parse(role->valuestring);
	if (p->role == 0)
		return NRM_ERR;
	p->n_regions = 0;
	cJSON_ArrayForEach (it, regs) {
		if (!cJSON_IsString(it) ||
		    p->n_regions >= NRM_PRINCIPAL_MAX_REGIONS)
			return NRM_ERR;
		snprintf(p->regions[p->n_regions++], sizeof(p->regions[0]),
		    "%s", it->valuestring);
	}
	return NRM_OK;
}

/*
 * One api.authorize out for a request (the leader), and the requests
 * with the same token (and client certificate) that wait for its
 * answer: the followers, a list through `next`.
 */
struct auth_pending {
	struct nrm_req *r;
	unsigned roles;
	nrm_auth_cb cont;
	const char *action, *object_type;
	bool flight; /* on the cache's list of flights */
	struct auth_pending *next; /* the next flight, or follower */
	struct auth_pending *followers;
};

static void auth_ask(struct nrm_req *r, unsigned roles, const char *action,
    const char *object_type, const char *object_id, bool record,
    nrm_auth_cb cont);
static const char *auth_object_id(const struct nrm_req *r);

/* The lookup out for r's token, or NULL. */
static struct auth_pending *
auth_flight_find(struct nrm_auth_cache *c, const struct nrm_req *r)
{
	for (struct auth_pending *f = c->flights; f != NULL; f = f->next)
		if (memcmp(f->r->token_hash, r->token_hash, 32) == 0 &&
		    nrm_req_same_cert(f->r, r))
			return f;
	return NULL;
}

/*
 * Take the flight ap off the list and hand its followers the principal
 * p (NULL: the lookup gave none; each then asks for itself).
 */
static void
auth_flight_land(struct auth_pending *ap, const struct nrm_principal *p)
{
	struct nrm_auth_cache *c = ap->r->app->auth_cache;
	struct auth_pending **pp, *f, *next;

	if (!ap->flight)
		return;
	for (pp = &c->flights; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ap) {
			*pp = ap->next;
			break;
		}
	for (f = ap->followers; f != NULL; f = next) {
		next = f->next;
		if (p != NULL && (p->role & f->roles)) {
			f->r->principal = *p;
			f->cont(f->r);
		} else {
			auth_ask(f->r, f->roles, f->action, f->object_type,
			    auth_object_id(f->r), false, f->cont);
		}
		free(f);
	}
}

static void
auth_done(void *arg, enum nrm_db_outcome outcome, const PGresult *res)
{
	struct auth_pending *ap = arg;
	struct nrm_req *r = ap->r;
	unsigned roles = ap->roles;
	nrm_auth_cb cont = ap->cont;
	struct nrm_principal p;
	cJSON *root = NULL, *st, *body;

	r->q = NULL;
	if (outcome != NRM_DB_OK) {
		auth_flight_land(ap, NULL);
		free(ap);
		nrm_dbapi_fail(r, outcome, res);
		return;
	}
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		auth_flight_land(ap, NULL);
		free(ap);
		nrm_req_fail(r, NRM_E_INTERNAL, "", "unexpected answer");
		return;
	}
	root = cJSON_Parse(PQgetvalue(res, 0, 0));
	st = cJSON_GetObjectItemCaseSensitive(root, "status");
	memset(&p, 0, sizeof(p));
	body = cJSON_GetObjectItemCaseSensitive(root, "body");
	if (!cJSON_IsNumber(st) || st->valueint != 200 ||
	    auth_parse_principal(body, &p) != NRM_OK) {
		bool denial = !cJSON_IsNumber(st) || st->valueint != 200;

		cJSON_Delete(root);
		auth_flight_land(ap, NULL);
		free(ap);
		if (denial) {
			/* let the generic path render the problem */
			nrm_dbapi_answer(r, PQgetvalue(res, 0, 0), NULL);
			return;
		}
		nrm_error("unexpected principal shape req=%s", r->id);
		nrm_req_fail(r, NRM_E_INTERNAL, "", "unexpected answer");
		return;
	}
	cJSON_Delete(root);
	memcpy(p.token_hash, r->token_hash, 32);
	p.cached_ms = nrm_mono_ms();
	if (r->app->cfg.auth_cache_ttl > 0)
		*auth_slot(r->app->auth_cache, r->token_hash) = p;
	auth_flight_land(ap, &p);
	free(ap);
	if (!(p.role & roles)) {
		/* Cannot happen: api.authorize checked the role list. */
		nrm_req_fail(r, NRM_E_FORBIDDEN, "",
		    "this API role may not perform this action");
		return;
	}
	r->principal = p;
	cont(r);
}

/*
 * The route's {id} as an audit object id: only a uuid or a decimal
 * number, so that nothing a client writes into a path reaches the
 * audit log.
 */
static const char *
auth_object_id(const struct nrm_req *r)
{
	size_t n = strlen(r->param);

	if (nrm_uuid_valid(r->param) ||
	    (n >= 1 && n <= 18 && strspn(r->param, "0123456789") == n))
		return r->param;
	return NULL;
}

/*
 * Ask the database and continue in auth_done: api.authorize (audits a
 * denial on the object) or, when `record`, api.record (also audits the
 * allowed action).
 */
static void
auth_ask(struct nrm_req *r, unsigned roles, const char *action,
    const char *object_type, const char *object_id, bool record,
    nrm_auth_cb cont)
{
	struct nrm_auth_cache *c = r->app->auth_cache;
	struct nrm_dbapi_call call;
	struct auth_pending *ap;
	char list[128] = "{";
	size_t n = 1;

	for (size_t i = 0; i < NRM_ROLE_COUNT; i++)
		if (roles & (1u << i))
			n += (size_t)snprintf(list + n, sizeof(list) - n,
			    "%s%s", n > 1 ? "," : "", nrm_role_names[i]);
	snprintf(list + n, sizeof(list) - n, "}");
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, list);
	nrm_dbapi_text(&call, action);
	nrm_dbapi_text(&call, object_type);
	nrm_dbapi_text(&call, object_id);
	ap = nrm_xcalloc(1, sizeof(*ap));
	ap->r = r;
	ap->roles = roles;
	ap->cont = cont;
	if (nrm_dbapi_exec(r, record ? NRM_STMT_RECORD : NRM_STMT_AUTHORIZE,
		&call, auth_done, ap) != NRM_OK) {
		free(ap);
		return;
	}
	if (!record) { /* later misses for this token wait for it */
		ap->flight = true;
		ap->next = c->flights;
		c->flights = ap;
	}
}

void
nrm_auth_record(struct nrm_req *r, unsigned roles, const char *action,
    const char *object_type, const char *object_id, nrm_auth_cb cont)
{
	if (nrm_auth_token(r) != NRM_OK)
		return;
	auth_ask(r, roles, action, object_type != NULL ? object_type : "",
	    object_id, true, cont);
}

/*
 * ROLE: r->principal for a caller whose role is in `roles`, then
 * cont(r); a cached principal of another role, or none, is the
 * database's to decide (and audit).
 */
static void
auth_require(struct nrm_req *r, unsigned roles, const char *action,
    const char *object_type, nrm_auth_cb cont)
{
	const struct nrm_principal *p;

	if (nrm_auth_token(r) != NRM_OK)
		return;
	p = auth_cache_get(
	    r->app->auth_cache, r->token_hash, r->app->cfg.auth_cache_ttl);
	if (p != NULL && (p->role & roles)) {
		r->principal = *p;
		cont(r);
		return;
	}
	/* A lookup for this token is out: its answer serves this one too. */
	{
		struct auth_pending *f =
		    auth_flight_find(r->app->auth_cache, r);

		if (f != NULL && object_type != NULL) {
			struct auth_pending *w = nrm_xcalloc(1, sizeof(*w));

			w->r = r;
			w->roles = roles;
			w->cont = cont;
			w->action = action;
			w->object_type = object_type;
			w->next = f->followers;
			f->followers = w;
			return;
		}
	}
	/* Unknown, or a role that may not: the database decides and audits. */
	auth_ask(r, roles, action, object_type, auth_object_id(r), false, cont);
}

void
nrm_auth_gate(struct nrm_req *r)
{
	const struct nrm_endpoint *e = r->endpoint;

	switch (e->auth) {
	case NRM_AUTH_OPEN:
		e->handler(r);
		break;
	case NRM_AUTH_TOKEN:
		if (nrm_auth_token(r) == NRM_OK)
			e->handler(r);
		break;
	case NRM_AUTH_ROLE:
		auth_require(
		    r, e->roles, e->action, e->object_type, e->handler);
		break;
	case NRM_AUTH_RECORD:
		nrm_auth_record(
		    r, e->roles, e->action, e->object_type, NULL, e->handler);
		break;
	}
}
