/*
 * handler_signals.c - POST /v1/signals (intake), GET /v1/signals/{id}
 * (the intake receipt), GET /v1/signals (the agency's receipts,
 * ?limit= &cursor= keyset pages -> api.signal_list) and POST
 * /v1/signals/{id}/followups (a follow-up to the case holder, its text
 * sealed here -> api.signal_followup).
 *
 * Intake: authenticate the shape of the token, check the headers, read
 * and validate the body in nrm-core, route it, then make ONE database
 * call (api.intake) that authenticates, enforces idempotency, stores
 * the signal and its case, audits, and answers the receipt, all in one
 * transaction.  The personal data goes to the database only as the
 * subject JSON; nothing of it is logged.
 */
#include "auth.h"
#include "crypto.h"
#include "dbapi.h"
#include "log.h"
#include "endpoints.h"
#include "sealed.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define SIG_IDEM_KEY_MAX 200
/* The longest follow-up text (bytes of UTF-8), as a note. */
#define SIG_FOLLOWUP_MAX 8000

/* 1..200 printable ASCII characters, no spaces. */
static bool
sig_idem_key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > SIG_IDEM_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
			return false;
	return true;
}

static void
sig_answered(struct nrm_req *r, int status)
{
	if (status == 201)
		r->app->counters.signals_created++;
	else if (status == 401)
		nrm_auth_cache_evict(r->app->auth_cache, r->token_hash);
}

/*
 * The subject JSON (sealed) gains "pseudonym_key_id" and, during a
 * rotation of the pseudonym key, "pseudonym_prev" (hex): the pseudonym
 * under the previous key, which api.intake stores beside it (0020).
 */
static int
sig_pseudonym_members(
    char **subject, const char *key_id, const unsigned char *prev)
{
	cJSON *o = cJSON_Parse(*subject);
	char hex[65];
	char *out;

	if (!cJSON_IsObject(o) ||
	    cJSON_AddStringToObject(o, "pseudonym_key_id", key_id) == NULL)
		goto fail;
	if (prev != NULL) {
		nrm_hex(prev, 32, hex);
		if (cJSON_AddStringToObject(o, "pseudonym_prev", hex) == NULL)
			goto fail;
	}
	out = cJSON_PrintUnformatted(o);
	if (out == NULL)
		goto fail;
	cJSON_Delete(o);
	free(*subject);
	*subject = out;
	return NRM_OK;
fail:
	cJSON_Delete(o);
	return NRM_ERR;
}

/* The Idempotency-Key of a reporter's POST, or NULL after a 400. */
static const char *
sig_idem_key(struct nrm_req *r)
{
	const char *key = nrm_req_header(r, "Idempotency-Key");

	if (key == NULL || !sig_idem_key_ok(key)) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "Idempotency-Key",
		    "an Idempotency-Key header of 1 to %d printable ASCII "
		    "characters is required",
		    SIG_IDEM_KEY_MAX);
		return NULL;
	}
	return key;
}

/* The caller is a reporter (r->principal): validate, route, store. */
void
nrm_h_signal_create(struct nrm_req *r)
{
	struct nrm_app *app = r->app;
	struct nrm_signal s;
	struct nrm_decision dec;
	struct nrm_error err;
	struct nrm_dbapi_call call;
	enum nrm_agency_kind kind;
	const char *key;
	char *facts = NULL, *subject = NULL, *canon = NULL, *route = NULL;
	char *sfacts = NULL, *ssubject = NULL;
	unsigned char body_hash[32], req_hash[32], pseud[32], prev[32];
	char pin[1024];
	size_t pin_len;
	bool has_pseud = false;

	key = sig_idem_key(r);
	if (key == NULL)
		return;
	if (nrm_req_read_body(r, true) != NRM_OK)
		return;
	memset(&s, 0, sizeof(s));
	nrm_error_clear(&err);
	if (nrm_signal_parse(&s, r->body, r->body_len, &app->limits,
		nrm_router_geo(app->router), (int64_t)time(NULL),
		&err) != NRM_OK) {
		nrm_req_problem(r, &err);
		return;
	}
	if (nrm_agency_kind_parse(r->principal.agency_kind, &kind) != NRM_OK)
		kind = NRM_AGENCY_OTHER;
	nrm_route(app->router, &s, kind, &dec);
	/* The coverage as of the last refresh (coverage.h): no round trip. */
	if (app->cfg.route_uncovered_to_national &&
	    nrm_coverage_uncovered(&app->coverage, dec.region))
		nrm_decision_reroute_uncovered(&dec);
	facts = nrm_signal_facts_json(&s);
	subject = nrm_signal_subject_json(&s);
	canon = nrm_signal_canonical_json(&s);
	route = nrm_decision_json(&dec);
	if (facts == NULL || subject == NULL || canon == NULL ||
	    route == NULL) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
		goto out;
	}
	/*
	 * The request's fingerprint: HMAC(idem_key, SHA-256(canonical
	 * body)), so the database never holds a plain hash of a body that
	 * holds personal data (guessable from a few candidate names), and
	 * rows from before 0020 can be converted without their bodies
	 * (`nrmctl data encrypt`, docs/data-protection.md).
	 */
	nrm_sha256(canon, strlen(canon), body_hash);
	if (nrm_hmac_sha256(app->idem_key, sizeof(app->idem_key), body_hash,
		sizeof(body_hash), req_hash) != NRM_OK) {
		nrm_req_fail(
		    r, NRM_E_INTERNAL, "", "could not hash the request");
		goto out;
	}
	/* the personal data leave nrmd sealed (docs/data-protection.md) */
	if (nrm_sealed_intake(nrm_kek_set_current(&app->data_keks), facts,
		subject, &sfacts, &ssubject) != NRM_OK) {
		nrm_req_fail(
		    r, NRM_E_INTERNAL, "", "could not seal the signal");
		goto out;
	}
	if (!s.notification_only) {
		pin_len = nrm_signal_pseudonym_input(&s, pin, sizeof(pin));
		if (pin_len > 0) {
			if (nrm_hmac_sha256(app->pseudonym_key,
				sizeof(app->pseudonym_key), pin, pin_len,
				pseud) != NRM_OK) {
				nrm_req_fail(r, NRM_E_INTERNAL, "",
				    "could not derive the pseudonym");
				goto out;
			}
			has_pseud = true;
		}
		if (has_pseud && app->has_pseudonym_old &&
		    nrm_hmac_sha256(app->pseudonym_old_key,
			sizeof(app->pseudonym_old_key), pin, pin_len,
			prev) != NRM_OK)
			has_pseud = false;
		if (has_pseud &&
		    sig_pseudonym_members(&ssubject, app->pseudonym_key_id,
			app->has_pseudonym_old ? prev : NULL) != NRM_OK) {
			nrm_req_fail(r, NRM_E_INTERNAL, "",
			    "could not derive the pseudonym");
			goto out;
		}
		explicit_bzero(pin, sizeof(pin));
	}
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, key);
	nrm_dbapi_bytes(&call, req_hash, sizeof(req_hash));
	nrm_dbapi_text(&call, sfacts);
	nrm_dbapi_text(&call, s.notification_only ? NULL : ssubject);
	if (has_pseud)
		nrm_dbapi_bytes(&call, pseud, sizeof(pseud));
	else
		nrm_dbapi_bytes(&call, NULL, 0);
	nrm_dbapi_text(&call, route);
	/* nrm_db_exec copies the parameters: ours can go right after. */
	nrm_dbapi_send(r, NRM_STMT_INTAKE, &call, sig_answered);
out:
	if (subject != NULL)
		explicit_bzero(subject, strlen(subject));
	if (canon != NULL)
		explicit_bzero(canon, strlen(canon));
	if (facts != NULL)
		explicit_bzero(facts, strlen(facts));
	free(facts);
	free(sfacts);
	free(ssubject);
	free(subject);
	free(canon);
	free(route);
	nrm_signal_free(&s);
}

void
nrm_h_signal_get(struct nrm_req *r)
{
	/*
	 * A malformed id is looked up as the nil UUID, which never exists:
	 * the caller is still authenticated and gets the same 404 as for
	 * an id it may not see.
	 */
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_SIGNAL_RECEIPT, nrm_req_uuid_param(r));
}

/* ?limit= (1..200, the database's range), ?cursor= (next_cursor). */
void
nrm_h_signal_list(struct nrm_req *r)
{
	static const char *const known[] = {"limit", "cursor"};
	struct evkeyvalq q;

	if (nrm_req_page_query(r, &q, known, NRM_ARRAY_LEN(known)) != NRM_OK)
		return;
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_SIGNAL_LIST,
	    evhttp_find_header(&q, "cursor"), evhttp_find_header(&q, "limit"));
	evhttp_clear_headers(&q);
}

/*
 * A follow-up: the text sealed (nrm_sealed_body), the request's
 * fingerprint HMAC(idem_key, SHA-256("followup/" id "/" body bytes)):
 * a retry with the same bytes replays, other bytes under the same key
 * are a 422 (docs/case-lifecycle.md, "Follow-ups from the reporter").
 */
void
nrm_h_followup_add(struct nrm_req *r)
{
	struct nrm_app *app = r->app;
	struct nrm_dbapi_call call;
	const char *key, *id = nrm_req_uuid_param(r);
	unsigned char body_hash[32], req_hash[32];
	char *followup = NULL, *pre = NULL;
	size_t pre_len;

	key = sig_idem_key(r);
	if (key == NULL)
		return;
	if (nrm_sealed_body(r, "text", "care.signal_followup", SIG_FOLLOWUP_MAX,
		"text", &followup) != NRM_OK)
		return;
	pre_len = strlen("followup/") + strlen(id) + 1 + r->body_len;
	pre = nrm_xcalloc(1, pre_len + 1);
	snprintf(pre, pre_len + 1, "followup/%s/", id);
	memcpy(pre + strlen(pre), r->body, r->body_len);
	nrm_sha256(pre, pre_len, body_hash);
	explicit_bzero(pre, pre_len);
	if (nrm_hmac_sha256(app->idem_key, sizeof(app->idem_key), body_hash,
		sizeof(body_hash), req_hash) != NRM_OK) {
		nrm_req_fail(
		    r, NRM_E_INTERNAL, "", "could not hash the request");
		goto out;
	}
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, id);
	nrm_dbapi_text(&call, key);
	nrm_dbapi_bytes(&call, req_hash, sizeof(req_hash));
	nrm_dbapi_text(&call, followup);
	/* nrm_db_exec copies the parameters: ours can go right after. */
	nrm_dbapi_send(r, NRM_STMT_SIGNAL_FOLLOWUP, &call, NULL);
out:
	free(pre);
	free(followup);
}
