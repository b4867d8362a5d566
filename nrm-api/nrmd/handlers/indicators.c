/*
 * handlers/indicators.c - the indicators register over HTTP
 * (docs/indicators.md):
 *
 *   GET /v1/indicators          (analyst, auditor) every entry of the
 *                               register: what is measured, how, when
 *                               and by whom
 *   GET /v1/indicators/{id}?period=2026-Q3
 *                               (analyst, auditor) the entry and, as
 *                               "values", the statistics table of its
 *                               measure and breakdown for that period
 *
 * The values come from the same statement as GET /v1/statistics
 * (NRM_STMT_STATISTICS, api.statistics): computed, suppressed,
 * authenticated and audited in the database, so an indicator shows exactly what the
 * statistics show, and the database decides who may read which measure
 * (an auditor reads emergency_reads only).  The register is read before
 * the query and the entry copied, so a reload meanwhile changes nothing
 * of this reply.
 */
#include "auth.h"
#include "dbapi.h"
#include "endpoints.h"

#include "nrm/indicators.h"
#include "nrm/statlabel.h"
#include "nrm/statvocab.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/*
 * The list needs no query of its own, so its endpoint is RECORD (the
 * database authenticates and audits it): a revoked key still in the
 * principal cache is 401 here as everywhere.
 */
void
nrm_h_indicator_list(struct nrm_req *r)
{
	nrm_req_json(
	    r, 200, nrm_indicators_list_json(r->app->indicators), NULL);
}

/* An unknown id, once the database has authenticated the caller. */
static void
ind_not_found(struct nrm_req *r)
{
	nrm_req_fail(r, NRM_E_NOT_FOUND, "id",
	    "no indicator with this id in the register");
}

/* One {"nl", "en"} word into the labels object of its dimension. */
static void
ind_label_cb(const char *dim, const char *value, const char *nl, const char *en,
    void *arg)
{
	cJSON *labels = arg, *word = cJSON_CreateObject();

	(void)dim;
	if (word == NULL || cJSON_AddStringToObject(word, "nl", nl) == NULL ||
	    cJSON_AddStringToObject(word, "en", en) == NULL ||
	    !cJSON_AddItemToObject(labels, value, word))
		cJSON_Delete(word);
}

/*
 * "labels": {"<dimension>": {"<category>": {"nl", "en"}}} for each
 * dimension of values.by (statlabel.h; {} for a dimension without
 * words, the region codes): the console shows words, never codes.
 * NRM_ERR when out of memory.
 */
static int
ind_add_labels(cJSON *values)
{
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(values, "by");
	const cJSON *d;
	cJSON *labels = cJSON_AddObjectToObject(values, "labels"), *one;

	if (labels == NULL)
		return NRM_ERR;
	cJSON_ArrayForEach (d, by) {
		if (!cJSON_IsString(d) ||
		    cJSON_GetObjectItemCaseSensitive(labels, d->valuestring))
			continue;
		one = cJSON_AddObjectToObject(labels, d->valuestring);
		if (one == NULL)
			return NRM_ERR;
		nrm_stat_label_each(d->valuestring, ind_label_cb, one);
	}
	return NRM_OK;
}

/*
 * The statistics' answer: its body becomes the entry's "values"; any
 * other answer (a refusal, a problem) is passed on as it is.  `arg` is
 * the entry's JSON text, freed here.
 */
static void
ind_values_answer(struct nrm_req *r, void *arg, const char *text)
{
	cJSON *ans = NULL, *entry = NULL, *body;

	if (text == NULL)
		goto out;
	body = nrm_dbapi_answer_member(r, text, 200, "body", &ans);
	if (body == NULL)
		goto out;
	entry = cJSON_Parse(arg);
	if (entry == NULL || ind_add_labels(body) != NRM_OK ||
	    !cJSON_AddItemToObject(
		entry, "values", cJSON_DetachItemViaPointer(ans, body))) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
		goto out;
	}
	nrm_req_json_obj(r, 200, entry);
out:
	cJSON_Delete(entry);
	cJSON_Delete(ans);
	free(arg);
}

/*
 * The query: `period` and nothing else, an aligned calendar period
 * (statvocab.h); 400 naming the field otherwise.
 */
static int
ind_period(struct evkeyvalq *q, const char **period, struct nrm_error *err)
{
	struct nrm_stat_period p;
	struct evkeyval *kv;

	TAILQ_FOREACH(kv, q, next)
	{
		if (strcmp(kv->key, "period") != 0)
			return nrm_error_set(err, NRM_E_BAD_REQUEST, "query",
			    "unknown query parameter (only period)");
		if (evhttp_find_header(q, kv->key) != kv->value)
			return nrm_error_set(err, NRM_E_BAD_REQUEST, "period",
			    "period is given twice");
	}
	*period = evhttp_find_header(q, "period");
	if (nrm_stat_period_parse(*period, &p) != NRM_OK)
		return nrm_error_set(err, NRM_E_BAD_REQUEST, "period",
		    "period must be YYYY-MM, YYYY-Qn or YYYY (2000..9999)");
	return NRM_OK;
}

void
nrm_h_indicator_get(struct nrm_req *r)
{
	const struct nrm_indicator *it =
	    nrm_indicators_find(r->app->indicators, r->param);
	const struct nrm_endpoint *e = r->endpoint;
	struct nrm_dbapi_call c;
	struct nrm_error err;
	struct evkeyvalq q;
	const char *period = NULL;
	char *entry;

	nrm_error_clear(&err);
	if (nrm_req_query(r, &q) != NRM_OK) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "period", "malformed query");
		return;
	}
	/* The request's own arguments (400) before the object (404). */
	if (ind_period(&q, &period, &err) != NRM_OK) {
		nrm_req_problem(r, &err);
		goto out;
	}
	if (it == NULL) {
		/* the database says 401 or 404: never the principal cache */
		nrm_auth_record(r, e->roles, e->action, e->object_type, NULL,
		    ind_not_found);
		goto out;
	}
	entry = strdup(it->json);
	if (entry == NULL) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
		goto out;
	}
	nrm_dbapi_begin(&c, r);
	nrm_dbapi_text(&c, it->measure->name);
	nrm_dbapi_text(&c, period);
	nrm_dbapi_text(&c, it->n_by > 0 ? it->by_text : NULL);
	if (nrm_dbapi_exec_text(
		r, NRM_STMT_STATISTICS, &c, ind_values_answer, entry) != NRM_OK)
		free(entry);
out:
	evhttp_clear_headers(&q);
}
