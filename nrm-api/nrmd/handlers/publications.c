/*
 * handlers/publications.c - publications of the indicators register
 * (docs/indicators.md, "Publications"):
 *
 *   POST /v1/publications {"period"}   (analyst) freeze every indicator
 *                                      of the register for a closed
 *                                      period: 201 a new revision, 200
 *                                      the existing one when unchanged
 *   GET /v1/publications               (analyst) every revision
 *   GET /v1/publications/{id}[?compare=1][&lang=nl|en][&format=csv|html]
 *                                      (analyst) one revision as JSON,
 *                                      CSV (Accept: text/csv) or a
 *                                      printable HTML report (Accept:
 *                                      text/html; pubrender.c)
 *
 * Publishing is two database calls: api.publication_prepare computes
 * the content (or answers the unchanged revision); this file hashes its
 * canonical JSON and signs it with the audit signing key (pubsign.h);
 * api.publication_create checks it against a fresh computation and
 * inserts.  The database authenticates, authorises and audits both.
 */
#include "checkpoint.h"
#include "dbapi.h"
#include "endpoints.h"
#include "pubrender.h"
#include "pubsign.h"
#include "util.h"

#include <stdio.h>

#include "nrm/indicators.h"
#include "nrm/json.h"
#include "nrm/statvocab.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/* What the second call needs: the period and the register sent first. */
struct pub_post {
	char period[16];
	char *reg;
};

static void
pub_post_free(struct pub_post *p)
{
	if (p == NULL)
		return;
	free(p->reg);
	free(p);
}

/* The register as a JSON array of its entries (malloc'd). */
static char *
pub_register(const struct nrm_indicators *ind)
{
	size_t len = 3;
	int n = nrm_indicators_count(ind);
	char *out, *p;

	for (int i = 0; i < n; i++)
		len += strlen(nrm_indicators_at(ind, i)->json) + 1;
	out = nrm_xmalloc(len);
	p = out;
	*p++ = '[';
	for (int i = 0; i < n; i++) {
		size_t k = strlen(nrm_indicators_at(ind, i)->json);

		if (i > 0)
			*p++ = ',';
		memcpy(p, nrm_indicators_at(ind, i)->json, k);
		p += k;
	}
	*p++ = ']';
	*p = '\0';
	return out;
}

/*
 * The first call's answer: a draft to sign and insert, or an answer (the
 * unchanged revision, a refusal) to pass on.
 */
static void
pub_prepared(struct nrm_req *r, void *arg, const char *text)
{
	struct pub_post *p = arg;
	struct nrm_dbapi_call c;
	cJSON *ans = NULL;
	const cJSON *draft;
	char hex[NRM_PUB_HEX_LEN + 1], sig[NRM_PUB_SIG_B64_LEN + 1];
	struct evp_pkey_st *key;
	char *content = NULL;

	if (text == NULL)
		goto out;
	draft = nrm_dbapi_answer_member(r, text, 0, "draft", &ans);
	if (draft == NULL)
		goto out;
	key = nrm_checkpoints_key(r->app->checkpoints);
	if (key == NULL) {
		nrm_req_fail(r, NRM_E_UNAVAILABLE, "",
		    "publications need audit_signing_key_file");
		goto out;
	}
	content = cJSON_PrintUnformatted(draft);
	if (content == NULL || nrm_pub_hash(draft, hex) != NRM_OK ||
	    nrm_pub_sign(key, hex, sig) != NRM_OK) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "could not sign");
		goto out;
	}
	nrm_dbapi_begin(&c, r);
	nrm_dbapi_text(&c, p->period);
	nrm_dbapi_text(&c, p->reg);
	nrm_dbapi_text(&c, content);
	nrm_dbapi_text(&c, hex);
	nrm_dbapi_text(&c, sig);
	nrm_dbapi_send(r, NRM_STMT_PUB_CREATE, &c, NULL);
out:
	cJSON_free(content);
	cJSON_Delete(ans);
	pub_post_free(p);
}

void
nrm_h_publication_post(struct nrm_req *r)
{
	static const char *const keys[] = {"period"};
	const cJSON *slot[1] = {NULL};
	struct nrm_stat_period per;
	struct nrm_dbapi_call c;
	struct pub_post *p;
	cJSON *body = NULL;

	if (nrm_req_body_object(r, false, keys, 1, slot, &body) != NRM_OK)
		return;
	if (!cJSON_IsString(slot[0]) ||
	    nrm_stat_period_parse(slot[0]->valuestring, &per) != NRM_OK) {
		cJSON_Delete(body);
		nrm_req_fail(r, NRM_E_VALIDATION, "period",
		    "period must be YYYY-MM, YYYY-Qn or YYYY (2000..9999)");
		return;
	}
	p = nrm_xcalloc(1, sizeof(*p));
	snprintf(p->period, sizeof(p->period), "%s", slot[0]->valuestring);
	cJSON_Delete(body);
	p->reg = pub_register(r->app->indicators);
	nrm_dbapi_begin(&c, r);
	nrm_dbapi_text(&c, p->period);
	nrm_dbapi_text(&c, p->reg);
	if (nrm_dbapi_exec_text(r, NRM_STMT_PUB_PREPARE, &c, pub_prepared, p) !=
	    NRM_OK)
		pub_post_free(p);
}

void
nrm_h_publication_list(struct nrm_req *r)
{
	struct nrm_dbapi_call c;

	nrm_dbapi_begin(&c, r);
	nrm_dbapi_send(r, NRM_STMT_PUB_LIST, &c, NULL);
}

/*
 * The media type: ?format= (csv, html, json: for a link, which cannot
 * set Accept), else Accept (JSON unless CSV or HTML).
 */
static enum nrm_pub_format
pub_format(const struct nrm_req *r, const char *format)
{
	const char *a = nrm_req_header(r, "Accept");

	if (format != NULL)
		return strcmp(format, "csv") == 0 ? NRM_PUB_CSV
		    : strcmp(format, "html") == 0 ? NRM_PUB_HTML
						  : NRM_PUB_JSON;

	if (a == NULL)
		return NRM_PUB_JSON;
	if (strstr(a, "text/csv") != NULL)
		return NRM_PUB_CSV;
	if (strstr(a, "text/html") != NULL)
		return NRM_PUB_HTML;
	return NRM_PUB_JSON;
}

/* The publication rendered as CSV or HTML; any other answer passed on. */
static void
pub_got(struct nrm_req *r, void *arg, const char *text)
{
	struct nrm_pub_render *how = arg;
	cJSON *ans = NULL;
	const cJSON *body;
	char *out = NULL;
	size_t len = 0;

	if (text == NULL)
		goto out;
	body = nrm_dbapi_answer_member(r, text, 200, "body", &ans);
	if (body == NULL)
		goto out;
	if (nrm_pub_render(body, how, &out, &len) != NRM_OK) {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
		goto out;
	}
	nrm_req_reply(r, 200,
	    how->format == NRM_PUB_CSV
		? "text/csv; charset=utf-8; header=present"
		: "text/html; charset=utf-8",
	    out, len);
out:
	free(out);
	cJSON_Delete(ans);
	free(how);
}

void
nrm_h_publication_get(struct nrm_req *r)
{
	struct nrm_pub_render *how = nrm_xcalloc(1, sizeof(*how));
	struct nrm_dbapi_call c;
	struct evkeyvalq q;
	struct evkeyval *kv;
	const char *compare, *lang, *format;

	if (nrm_req_query(r, &q) != NRM_OK) {
		free(how);
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "query", "malformed query");
		return;
	}
	TAILQ_FOREACH(kv, &q, next)
	{
		if (strcmp(kv->key, "compare") != 0 &&
		    strcmp(kv->key, "lang") != 0 &&
		    strcmp(kv->key, "format") != 0) {
			nrm_req_fail(r, NRM_E_BAD_REQUEST, "query",
			    "unknown query parameter (compare, lang, format)");
			goto fail;
		}
	}
	compare = evhttp_find_header(&q, "compare");
	lang = evhttp_find_header(&q, "lang");
	if (compare != NULL && strcmp(compare, "1") != 0 &&
	    strcmp(compare, "0") != 0) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "compare", "must be 0 or 1");
		goto fail;
	}
	if (lang != NULL && strcmp(lang, "nl") != 0 &&
	    strcmp(lang, "en") != 0) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "lang", "must be nl or en");
		goto fail;
	}
	format = evhttp_find_header(&q, "format");
	if (format != NULL && strcmp(format, "csv") != 0 &&
	    strcmp(format, "html") != 0 && strcmp(format, "json") != 0) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "format",
		    "must be csv, html or json");
		goto fail;
	}
	how->format = pub_format(r, format);
	how->english = lang != NULL && strcmp(lang, "en") == 0;
	nrm_dbapi_begin(&c, r);
	nrm_dbapi_text(&c, r->param);
	nrm_dbapi_text(&c,
	    compare != NULL && strcmp(compare, "1") == 0 ? "true" : "false");
	if (how->format == NRM_PUB_JSON) {
		free(how);
		nrm_dbapi_send(r, NRM_STMT_PUB_GET, &c, NULL);
	} else if (nrm_dbapi_exec_text(r, NRM_STMT_PUB_GET, &c, pub_got, how) !=
	    NRM_OK) {
		free(how);
	}
	evhttp_clear_headers(&q);
	return;
fail:
	free(how);
	evhttp_clear_headers(&q);
}
