/*
 * handlers/privacy.c - the data subject's rights, for the privacy
 * officer (issue 15, docs/data-protection.md "The data subject's
 * rights"):
 *
 *   GET  /v1/privacy/subjects?case=ID    export everything held about
 *                                        the subject of one case
 *   POST /v1/privacy/subjects            {given_name, family_name,
 *                                        birth_date}: the same for every
 *                                        case of the person, found by
 *                                        the keyed pseudonym (never
 *                                        personal data in a URL)
 *   POST /v1/privacy/cases/{id}/rectify  {field, value, ground}
 *   POST /v1/privacy/cases/{id}/erase    {ground}
 *
 * The database decides and audits (api.privacy_*); nrmd opens what an
 * export holds sealed, seals a rectified value with the case's own data
 * key and recomputes the pseudonym when a name or the birth date
 * changes.  No value of a request or an answer is ever logged.
 */
#include "crypto.h"
#include "dbapi.h"
#include "endpoints.h"
#include "log.h"
#include "sealed.h"
#include "util.h"

#include "nrm/json.h"
#include "nrm/signal.h"
#include "nrm/timefmt.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>

#define PRIV_NAME_MAX 200 /* bytes of a name (care.subject) */

/* The subject fields, their byte limits (care.subject's; narrative:
 * narrative_max), and whether the pseudonym is made of them. */
static const struct priv_field {
	const char *name;
	size_t max;
	bool pseudonym;
} priv_fields[] = {
    {"given_name", PRIV_NAME_MAX, true},
    {"family_name", PRIV_NAME_MAX, true},
    {"birth_date", 10, true},
    {"phone", 40, false},
    {"address", 500, false},
    {"narrative", 8000, false},
};

static const struct priv_field *
priv_field(const char *name)
{
	for (size_t i = 0; i < NRM_ARRAY_LEN(priv_fields); i++)
		if (strcmp(priv_fields[i].name, name) == 0)
			return &priv_fields[i];
	return NULL;
}

/*
 * The keyed pseudonym of name and birth date (as intake makes it) into
 * out: true, or false when there is none (no family name or no valid
 * birth date).
 */
static bool
priv_pseudonym(const struct nrm_app *app, const char *given, const char *family,
    const char *birth, unsigned char out[32])
{
	struct nrm_signal s;
	char pin[1024];
	size_t n;
	int y, m, d;
	bool ok = false;

	memset(&s, 0, sizeof(s));
	if (family == NULL || birth == NULL ||
	    nrm_date_parse(birth, strlen(birth), &y, &m, &d) != NRM_OK)
		return false;
	s.subject.given_name = given != NULL ? nrm_xstrdup(given) : NULL;
	s.subject.family_name = nrm_xstrdup(family);
	s.subject.has_birth_date = true;
	s.subject.birth_date.year = y;
	s.subject.birth_date.month = m;
	s.subject.birth_date.day = d;
	n = nrm_signal_pseudonym_input(&s, pin, sizeof(pin));
	if (n > 0)
		ok = nrm_hmac_sha256(app->pseudonym_key,
			 sizeof(app->pseudonym_key), pin, n, out) == NRM_OK;
	explicit_bzero(pin, sizeof(pin));
	if (s.subject.given_name != NULL)
		OPENSSL_cleanse(
		    s.subject.given_name, strlen(s.subject.given_name));
	OPENSSL_cleanse(s.subject.family_name, strlen(s.subject.family_name));
	free(s.subject.given_name);
	free(s.subject.family_name);
	return ok;
}

/*
 * Whether `value` fits field f: 1 to f->max bytes (narrative: at most
 * narrative_max), a birth date a real "YYYY-MM-DD" from 1900 on.
 */
static bool
priv_value_ok(
    const struct nrm_app *app, const struct priv_field *f, const char *value)
{
	size_t n = strlen(value), max = f->max;
	int y, m, d;

	if (strcmp(f->name, "narrative") == 0)
		max = (size_t)app->cfg.narrative_max;
	if (strcmp(f->name, "birth_date") == 0)
		return nrm_date_parse(value, n, &y, &m, &d) == NRM_OK &&
		    y >= 1900;
	return n >= 1 && n <= max;
}

/* --- export ---------------------------------------------------------- */

/* ?case=ID, the one parameter; a malformed id is a 400 naming it. */
void
nrm_h_privacy_export(struct nrm_req *r)
{
	static const char *const known[] = {"case"};
	struct nrm_dbapi_call call;
	struct evkeyvalq q;
	const char *id;

	if (nrm_req_page_query(r, &q, known, NRM_ARRAY_LEN(known)) != NRM_OK)
		return;
	id = evhttp_find_header(&q, "case");
	if (id == NULL || !nrm_uuid_valid(id)) {
		evhttp_clear_headers(&q);
		nrm_req_fail(r, NRM_E_VALIDATION, "case",
		    "case must be a case id (uuid); to find a person by name "
		    "and birth date, POST them to /v1/privacy/subjects");
		return;
	}
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, id);
	nrm_dbapi_bytes(&call, NULL, 0);
	nrm_sealed_send(r, NRM_STMT_PRIVACY_EXPORT, &call, "case", id);
	evhttp_clear_headers(&q);
}

/* {given_name?, family_name, birth_date}: the pseudonym, then export. */
void
nrm_h_privacy_search(struct nrm_req *r)
{
	static const char *const keys[] = {
	    "given_name", "family_name", "birth_date"};
	const cJSON *slot[3] = {NULL, NULL, NULL};
	struct nrm_dbapi_call call;
	unsigned char pseud[32];
	cJSON *body = NULL;
	const char *given, *family, *birth;

	if (nrm_req_body_object(r, false, keys, 3, slot, &body) != NRM_OK)
		return;
	given = nrm_json_str(body, "given_name");
	family = nrm_json_str(body, "family_name");
	birth = nrm_json_str(body, "birth_date");
	if (slot[0] != NULL &&
	    (given == NULL || strlen(given) < 1 ||
		strlen(given) > PRIV_NAME_MAX)) {
		nrm_req_fail(r, NRM_E_VALIDATION, "given_name",
		    "given_name must be a string of 1 to %d bytes",
		    PRIV_NAME_MAX);
	} else if (family == NULL || strlen(family) < 1 ||
	    strlen(family) > PRIV_NAME_MAX) {
		nrm_req_fail(r, NRM_E_VALIDATION, "family_name",
		    "family_name is required: a string of 1 to %d bytes",
		    PRIV_NAME_MAX);
	} else if (birth == NULL ||
	    !priv_value_ok(r->app, priv_field("birth_date"), birth)) {
		nrm_req_fail(r, NRM_E_VALIDATION, "birth_date",
		    "birth_date is required: YYYY-MM-DD, from 1900 on");
	} else if (!priv_pseudonym(r->app, given, family, birth, pseud)) {
		nrm_req_fail(r, NRM_E_VALIDATION, "family_name",
		    "family_name must hold a letter or digit");
	} else {
		nrm_dbapi_begin(&call, r);
		nrm_dbapi_text(&call, NULL);
		nrm_dbapi_bytes(&call, pseud, sizeof(pseud));
		nrm_sealed_send(
		    r, NRM_STMT_PRIVACY_EXPORT, &call, "subject", NULL);
		explicit_bzero(pseud, sizeof(pseud));
	}
	cJSON_Delete(body);
}

/* --- rectify --------------------------------------------------------- */

/* A rectification between its two calls. */
struct priv_rectify {
	char case_id[40];
	const struct priv_field *field;
	char ground[32];
	char *value; /* PERSONAL DATA: cleansed before it is freed */
};

static void
priv_rectify_free(struct priv_rectify *rx)
{
	if (rx->value != NULL)
		OPENSSL_cleanse(rx->value, strlen(rx->value));
	free(rx->value);
	free(rx);
}

/*
 * Step two: seal the value with the subject's data key (AAD
 * care.subject/<field>/<signal id>), the pseudonym anew when the field
 * is one of it, and send api.privacy_rectify.
 */
static void
priv_rectify_send(struct nrm_req *r, struct priv_rectify *rx, cJSON *body)
{
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(body, "subject");
	const char *sig = nrm_json_str(body, "signal_id");
	const char *given = nrm_json_str(sub, "given_name");
	const char *family = nrm_json_str(sub, "family_name");
	const char *birth = nrm_json_str(sub, "birth_date");
	struct nrm_dbapi_call call;
	unsigned char pseud[32];
	bool has_pseud = false;
	char aad[128];
	char *ct;

	if (sig == NULL || !nrm_uuid_valid(sig)) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "malformed answer");
		return;
	}
	snprintf(aad, sizeof(aad), "care.subject/%s/%s", rx->field->name, sig);
	ct = nrm_sealed_value(&r->app->data_keks,
	    cJSON_GetObjectItemCaseSensitive(body, "data_key"), aad, rx->value);
	if (ct == NULL) {
		nrm_warn("could not seal a rectified value req=%s", r->id);
		nrm_req_fail(r, NRM_E_INTERNAL, "",
		    "could not seal the value with the case's data key");
		return;
	}
	if (rx->field->pseudonym) {
		if (strcmp(rx->field->name, "given_name") == 0)
			given = rx->value;
		else if (strcmp(rx->field->name, "family_name") == 0)
			family = rx->value;
		else
			birth = rx->value;
		has_pseud = priv_pseudonym(r->app, given, family, birth, pseud);
	}
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, rx->case_id);
	nrm_dbapi_text(&call, rx->field->name);
	nrm_dbapi_text(&call, ct);
	nrm_dbapi_bytes(&call, has_pseud ? pseud : NULL, sizeof(pseud));
	nrm_dbapi_text(&call, rx->field->pseudonym ? "true" : "false");
	nrm_dbapi_text(&call, rx->ground);
	nrm_dbapi_send(r, NRM_STMT_PRIVACY_RECTIFY, &call, NULL);
	explicit_bzero(pseud, sizeof(pseud));
	free(ct);
}

/* Cleanse the string members of o (opened personal data) in place. */
static void
priv_cleanse(cJSON *o)
{
	cJSON *c;

	cJSON_ArrayForEach (c, o)
		if (cJSON_IsString(c))
			OPENSSL_cleanse(c->valuestring, strlen(c->valuestring));
}

/* Step one is back: a refusal is the reply; else open and go on. */
static void
priv_rectify_prepared(struct nrm_req *r, void *arg, const char *text)
{
	struct priv_rectify *rx = arg;
	cJSON *root, *status, *body = NULL;
	const char *reason = NULL;

	if (text == NULL)
		goto out;
	root = cJSON_Parse(text);
	status = cJSON_GetObjectItemCaseSensitive(root, "status");
	body = cJSON_GetObjectItemCaseSensitive(root, "body");
	if (!cJSON_IsNumber(status) || status->valuedouble != 200 ||
	    !cJSON_IsObject(body)) {
		nrm_dbapi_answer(r, text, NULL);
	} else if (nrm_sealed_open(&r->app->data_keks, body, &reason) != 0) {
		nrm_warn("sealed values did not open req=%s object=case "
			 "reason=%s",
		    r->id, reason != NULL ? reason : "-");
		nrm_req_fail(r, NRM_E_INTERNAL, "",
		    "the case's sealed values did not open");
	} else {
		priv_rectify_send(r, rx, body);
	}
	priv_cleanse(cJSON_GetObjectItemCaseSensitive(body, "subject"));
	cJSON_Delete(root);
out:
	priv_rectify_free(rx);
}

void
nrm_h_privacy_rectify(struct nrm_req *r)
{
	static const char *const keys[] = {"field", "value", "ground"};
	const cJSON *slot[3] = {NULL, NULL, NULL};
	struct nrm_dbapi_call call;
	struct priv_rectify *rx;
	const struct priv_field *f;
	const char *name, *value, *ground;
	cJSON *body = NULL;

	if (nrm_req_body_object(r, false, keys, 3, slot, &body) != NRM_OK)
		return;
	name = nrm_json_str(body, "field");
	value = nrm_json_str(body, "value");
	ground = nrm_json_str(body, "ground");
	f = name != NULL ? priv_field(name) : NULL;
	if (f == NULL) {
		nrm_req_fail(r, NRM_E_VALIDATION, "field",
		    "field must be given_name, family_name, birth_date, "
		    "phone, address or narrative");
	} else if (value == NULL || !priv_value_ok(r->app, f, value)) {
		nrm_req_fail(r, NRM_E_VALIDATION, "value",
		    "value must be a string that fits %s (see the API "
		    "description)",
		    f->name);
	} else if (ground == NULL || strlen(ground) >= sizeof(rx->ground)) {
		nrm_req_fail(r, NRM_E_VALIDATION, "ground",
		    "ground must be inaccurate or incomplete");
	} else {
		rx = nrm_xcalloc(1, sizeof(*rx));
		snprintf(rx->case_id, sizeof(rx->case_id), "%s",
		    nrm_req_uuid_param(r));
		rx->field = f;
		snprintf(rx->ground, sizeof(rx->ground), "%s", ground);
		rx->value = nrm_xstrdup(value);
		nrm_dbapi_begin(&call, r);
		nrm_dbapi_text(&call, rx->case_id);
		nrm_dbapi_text(&call, f->name);
		if (nrm_dbapi_exec_text(r, NRM_STMT_PRIVACY_RECTIFY_PREPARE,
			&call, priv_rectify_prepared, rx) != NRM_OK)
			priv_rectify_free(rx);
	}
	if (value != NULL)
		OPENSSL_cleanse((void *)(uintptr_t)value, strlen(value));
	cJSON_Delete(body);
}

/* --- erase ----------------------------------------------------------- */

void
nrm_h_privacy_erase(struct nrm_req *r)
{
	static const char *const keys[] = {"ground"};
	const cJSON *slot[1] = {NULL};
	cJSON *body = NULL;
	const char *ground;

	if (nrm_req_body_object(r, false, keys, 1, slot, &body) != NRM_OK)
		return;
	ground = nrm_json_str(body, "ground");
	if (ground == NULL)
		nrm_req_fail(r, NRM_E_VALIDATION, "ground",
		    "ground is required: the art. 17 GDPR ground as a code "
		    "(docs/data-protection.md)");
	else
		NRM_DBAPI_SEND_TEXTS(
		    r, NRM_STMT_PRIVACY_ERASE, nrm_req_uuid_param(r), ground);
	cJSON_Delete(body);
}
