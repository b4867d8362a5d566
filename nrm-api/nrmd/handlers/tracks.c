/*
 * handler_tracks.c - the two separated tracks of issue 5
 * (docs/separation.md): victim identification on the care side and the
 * criminal investigation, plus the consented share between them.
 *
 *   POST  /v1/cases/{id}/identification  coordinator, assessor: one
 *                                        entry -> api.ident_record
 *   GET   /v1/cases/{id}/identification  coordinator, assessor: the
 *                                        history -> api.ident_list
 *   GET   /v1/identifications            assessor: the queue of cases
 *                                        awaiting a decision,
 *                                        ?awaiting= &limit= &cursor=
 *                                        -> api.ident_queue
 *   POST  /v1/cases/{id}/share           coordinator: {"agency_id",
 *                                        "consent"} -> api.case_share
 *   POST  /v1/investigations             investigator -> invest_create
 *   GET   /v1/investigations/{id}        investigator -> invest_get
 *   PATCH /v1/investigations/{id}        investigator, If-Match ->
 *                                        api.invest_seal_key when a
 *                                        reference changes, then
 *                                        api.invest_patch
 *
 * The police and prosecution references leave nrmd sealed with the
 * record's data key (invest.data_key, docs/data-protection.md "The
 * investigation track") and are opened on the way back, as the care
 * side's values are (sealed.h).
 *
 * Each is one api.* call; the database validates the entries and
 * enforces the separation (roles, row-level security).  The
 * identification handlers pass only the configured jurisdiction
 * profile; nothing here reads or forwards investigation data, and the
 * reverse.  Bodies are never logged (they hold personal data).
 */
#include "dbapi.h"
#include "endpoints.h"
#include "sealed.h"
#include "util.h"

#include "nrm/json.h"
#include "nrm/utf8.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>

void
nrm_h_ident_record(struct nrm_req *r)
{
	struct nrm_dbapi_call call;
	const char *id = nrm_req_uuid_param(r);
	char *entry;

	if (nrm_sealed_body(r, "rationale", "ident.decision",
		NRM_SEALED_RATIONALE_MAX,
		"stage, outcome, deciding_body, rationale, decided_on, "
		"reflection_start, reflection_end, recovery_start, "
		"recovery_end",
		&entry) != NRM_OK)
		return;
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, id);
	nrm_dbapi_text(&call, entry);
	nrm_dbapi_text(&call, r->app->cfg.jurisdiction_profile);
	/* The parameters are copied by the pool before entry goes. */
	nrm_sealed_send(r, NRM_STMT_IDENT_RECORD, &call, "case", id);
	free(entry);
}

void
nrm_h_ident_list(struct nrm_req *r)
{
	/* each entry's rationale comes sealed: opened before the reply */
	nrm_sealed_case_read(
	    r, NRM_STMT_IDENT_LIST, r->app->cfg.jurisdiction_profile);
}

/*
 * ?awaiting= (initial|conclusive|any, checked by the database), ?limit=
 * (1 to 3 digits; the range is the database's), ?cursor= (a case id,
 * next_cursor of the previous page); any other parameter is a 400
 * naming it.
 */
void
nrm_h_ident_queue(struct nrm_req *r)
{
	static const char *const known[] = {"awaiting", "limit", "cursor"};
	struct evkeyvalq q;

	if (nrm_req_page_query(r, &q, known, NRM_ARRAY_LEN(known)) != NRM_OK)
		return;
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_IDENT_QUEUE,
	    evhttp_find_header(&q, "awaiting"),
	    evhttp_find_header(&q, "cursor"), evhttp_find_header(&q, "limit"),
	    r->app->cfg.jurisdiction_profile);
	evhttp_clear_headers(&q);
}

/* A JSON boolean as a text parameter: "true", "false", NULL when absent. */
static const char *
track_bool_text(const cJSON *v)
{
	if (v == NULL)
		return NULL;
	return cJSON_IsTrue(v) ? "true" : "false";
}

/*
 * {"agency_id": uuid, "consent": bool}: only these keys; a missing
 * consent is passed as NULL (the database answers 422 "consent").
 */
void
nrm_h_case_share(struct nrm_req *r)
{
	static const char *const keys[] = {"agency_id", "consent"};
	const cJSON *slot[2], *agency, *consent;
	cJSON *body;

	if (nrm_req_body_object(r, false, keys, 2, slot, &body) != NRM_OK)
		return;
	agency = slot[0];
	consent = slot[1];
	if (!cJSON_IsString(agency) || !nrm_uuid_valid(agency->valuestring)) {
		cJSON_Delete(body);
		nrm_req_fail(r, NRM_E_VALIDATION, "agency_id",
		    "must be the id (UUID) of an investigating agency");
		return;
	}
	if (consent != NULL && !cJSON_IsBool(consent)) {
		cJSON_Delete(body);
		nrm_req_fail(r, NRM_E_VALIDATION, "consent",
		    "must be true (the victim's recorded consent)");
		return;
	}
	/* The parameters are copied by the pool before body goes. */
	NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_CASE_SHARE, nrm_req_uuid_param(r),
	    agency->valuestring, track_bool_text(consent));
	cJSON_Delete(body);
}

/* --- investigation records: their references leave nrmd sealed ------ */

#define INVEST_REF_MAX 100 /* characters (invest.record's check) */
#define INVEST_KNOWN \
	"signal_id, case_id, police_reference, prosecution_reference, " \
	"report_filed, report_filed_on, status"

/*
 * A reference the database would take: 1 to max characters of strict
 * UTF-8 (nrm_utf8_next) without a control character (C0, DEL, C1:
 * PostgreSQL's [[:cntrl:]]).
 */
static bool
invest_ref_ok(const char *v, size_t max)
{
	size_t len = strlen(v), pos = 0, chars = 0;
	int32_t cp;

	while (pos < len) {
		cp = nrm_utf8_next(v, len, &pos);
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false; /* -1: not UTF-8 */
		chars++;
	}
	return chars >= 1 && chars <= max;
}

static const char *const invest_ref_names[] = {
    "police_reference", "prosecution_reference"};
static const struct nrm_sealed_spec invest_spec = {invest_ref_names,
    NRM_ARRAY_LEN(invest_ref_names), "invest.record", INVEST_REF_MAX,
    invest_ref_ok};

void
nrm_h_invest_create(struct nrm_req *r)
{
	struct nrm_dbapi_call call;
	char *text;

	/* each reference sealed, the record's id its row (sealed.h) */
	if (nrm_sealed_body_spec(r, &invest_spec, INVEST_KNOWN, &text) !=
	    NRM_OK)
		return;
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, text);
	/* The parameters are copied by the pool before text goes. */
	nrm_sealed_send(r, NRM_STMT_INVEST_CREATE, &call, "investigation", "");
	free(text);
}

/* A patch between its two calls (one when no reference changes). */
struct invest_patch {
	char id[40];
	char ifm[16];
	cJSON *body; /* PERSONAL DATA until sealed */
};

static void
invest_patch_free(struct invest_patch *p)
{
	const cJSON *v;

	for (size_t i = 0; p->body != NULL && i < invest_spec.n; i++) {
		v = cJSON_GetObjectItemCaseSensitive(
		    p->body, invest_spec.names[i]);
		if (cJSON_IsString(v))
			OPENSSL_cleanse(v->valuestring, strlen(v->valuestring));
	}
	cJSON_Delete(p->body);
	free(p);
}

/* Send api.invest_patch with the (sealed) body; the answer opened. */
static void
invest_patch_send(struct nrm_req *r, struct invest_patch *p)
{
	struct nrm_dbapi_call call;
	char *text = cJSON_PrintUnformatted(p->body);

	if (text == NULL) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
		return;
	}
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, p->id);
	nrm_dbapi_text(&call, p->ifm[0] != '\0' ? p->ifm : NULL);
	nrm_dbapi_text(&call, text);
	/* The parameters are copied by the pool before text goes. */
	nrm_sealed_send(
	    r, NRM_STMT_INVEST_PATCH, &call, "investigation", p->id);
	free(text);
}

/* The record's data key is back: a refusal is the reply; else seal. */
static void
invest_patch_keyed(struct nrm_req *r, void *arg, const char *text)
{
	struct invest_patch *p = arg;
	cJSON *root, *status, *body, *key;

	if (text == NULL)
		goto out;
	root = cJSON_Parse(text);
	status = cJSON_GetObjectItemCaseSensitive(root, "status");
	body = cJSON_GetObjectItemCaseSensitive(root, "body");
	key = cJSON_GetObjectItemCaseSensitive(body, "data_key");
	if (!cJSON_IsNumber(status) || status->valuedouble != 200 ||
	    !cJSON_IsObject(body))
		nrm_dbapi_answer(r, text, NULL);
	else if (cJSON_IsObject(key) &&
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(key, "wrapped")))
		nrm_req_fail(r, NRM_E_CONFLICT, "police_reference",
		    "the references of this record were erased with the "
		    "personal data of its case or signal");
	else if (nrm_sealed_fields(&r->app->data_keks, key, p->body,
		     &invest_spec, p->id) != NRM_OK)
		nrm_req_fail(r, NRM_E_INTERNAL, "",
		    "could not seal the references with the record's data key");
	else
		invest_patch_send(r, p);
	cJSON_Delete(root);
out:
	invest_patch_free(p);
}

void
nrm_h_invest_patch(struct nrm_req *r)
{
	struct nrm_dbapi_call call;
	struct invest_patch *p = nrm_xcalloc(1, sizeof(*p));
	bool refs = false;

	snprintf(p->id, sizeof(p->id), "%s", nrm_req_uuid_param(r));
	if (nrm_req_if_match(r, "the version of the record", p->ifm,
		sizeof(p->ifm)) != NRM_OK ||
	    nrm_req_body_object(r, false, NULL, -1, NULL, &p->body) != NRM_OK ||
	    nrm_sealed_refuse_own(r, p->body, &invest_spec, INVEST_KNOWN) !=
		NRM_OK)
		goto out;
	for (size_t i = 0; i < invest_spec.n; i++)
		refs = refs ||
		    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
			p->body, invest_spec.names[i]));
	if (!refs) {
		/* nothing to seal: one call */
		invest_patch_send(r, p);
		goto out;
	}
	/* a reference changes: sealed with the record's own data key */
	nrm_dbapi_begin(&call, r);
	nrm_dbapi_text(&call, p->id);
	if (nrm_dbapi_exec_text(r, NRM_STMT_INVEST_SEAL_KEY, &call,
		invest_patch_keyed, p) == NRM_OK)
		return;
out:
	invest_patch_free(p);
}
