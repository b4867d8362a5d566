/*
 * handlers/statistics.c - suppressed statistics for the rapporteur:
 *
 *   GET /v1/statistics?measure=&period=&by=
 *       measure: a name of statvocab.h; period: YYYY-MM, YYYY-Qn or
 *       YYYY (a calendar period in Europe/Amsterdam); by: zero, one or
 *       two dimensions the measure allows, comma-separated.  Role
 *       analyst; auditor for emergency_reads only (the database refuses
 *       the rest, audited).  One table, computed and suppressed in the
 *       database (api.statistics, docs/statistics.md).
 *
 * The request is checked here first (400 naming measure, period or by)
 * so a malformed one costs no database work; api.statistics checks
 * again.
 */
#include "dbapi.h"
#include "endpoints.h"

#include "nrm/statvocab.h"

#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

static const char *const st_params[] = {"measure", "period", "by", NULL};

/* Whether `key` is one of st_params. */
static bool
st_known(const char *key)
{
	for (int i = 0; st_params[i] != NULL; i++)
		if (strcmp(key, st_params[i]) == 0)
			return true;
	return false;
}

/*
 * Check the query into *err: only known parameters, each once; a known
 * measure, an aligned period, a `by` the measure allows.  On NRM_OK
 * *m is the measure.
 */
static int
st_check(struct evkeyvalq *q, const struct nrm_stat_measure **m,
    struct nrm_error *err)
{
	struct nrm_stat_period p;
	struct evkeyval *kv;
	int dims[NRM_STAT_BY_MAX];
	int n;

	TAILQ_FOREACH(kv, q, next)
	{
		char field[64];

		snprintf(field, sizeof(field), "%.60s", kv->key);
		if (!st_known(kv->key))
			return nrm_error_set(err, NRM_E_BAD_REQUEST, field,
			    "unknown query parameter");
		if (evhttp_find_header(q, kv->key) != kv->value)
			return nrm_error_set(err, NRM_E_BAD_REQUEST, field,
			    "%s is given twice", kv->key);
	}
	*m = nrm_stat_measure_find(evhttp_find_header(q, "measure"));
	if (*m == NULL)
		return nrm_error_set(err, NRM_E_BAD_REQUEST, "measure",
		    "measure must name a measure of docs/statistics.md");
	if (nrm_stat_period_parse(evhttp_find_header(q, "period"), &p) !=
	    NRM_OK)
		return nrm_error_set(err, NRM_E_BAD_REQUEST, "period",
		    "period must be YYYY-MM, YYYY-Qn or YYYY (2000..9999)");
	return nrm_stat_by_parse(
	    *m, evhttp_find_header(q, "by"), dims, &n, err);
}

void
nrm_h_statistics(struct nrm_req *r)
{
	struct evkeyvalq q;
	const struct nrm_stat_measure *m = NULL;
	struct nrm_error err;

	nrm_error_clear(&err);
	if (nrm_req_query(r, &q) != NRM_OK) {
		nrm_req_fail(r, NRM_E_BAD_REQUEST, "", "malformed query");
		return;
	}
	if (st_check(&q, &m, &err) != NRM_OK)
		nrm_req_fail(r, err.code, err.field, "%s", err.detail);
	else
		NRM_DBAPI_SEND_TEXTS(r, NRM_STMT_STATISTICS, m->name,
		    evhttp_find_header(&q, "period"),
		    evhttp_find_header(&q, "by"));
	evhttp_clear_headers(&q);
}
