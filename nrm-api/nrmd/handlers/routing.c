/*
 * handler_routing.c - the routing configuration over HTTP:
 *
 *   GET  /v1/routing/config   (admin, analyst) live version, load time,
 *                             coverage report
 *   POST /v1/routing/explain  (admin, coordinator, analyst) a decision
 *                             and its explanation for a signal-shaped
 *                             body, on the live or a candidate config;
 *                             stores nothing but an audit event
 *   POST /v1/admin/reload     (admin) re-read the configuration like
 *                             SIGHUP: validate, then swap
 *
 * Each is one database round trip (api.record: authenticate and audit)
 * followed by work in memory.
 */
#include "log.h"
#include "endpoints.h"
#include "routing.h"
#include "nrm/json.h"
#include "nrm/timefmt.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RFC 3339 UTC of unix seconds, "" if it cannot be formatted. */
static void
rt_time(int64_t t, char *buf, size_t n)
{
	if (nrm_time_format(t, buf, n) != NRM_OK && n > 0)
		buf[0] = '\0';
}

/* Add the JSON text `json` to o as member `key`; null when json is NULL. */
static void
rt_add_json(cJSON *o, const char *key, const char *json)
{
	cJSON_AddItemToObject(
	    o, key, json != NULL ? cJSON_Parse(json) : cJSON_CreateNull());
}

/* {"version","loaded_at","coverage":{...}} of the live router. */
void
nrm_h_routing_config(struct nrm_req *r)
{
	struct nrm_app *app = r->app;
	char *cov = nrm_router_coverage_json(app->router);
	char ts[40];
	cJSON *o = cJSON_CreateObject();
	cJSON *c = cov != NULL ? cJSON_Parse(cov) : NULL;

	rt_time(app->router_loaded_at, ts, sizeof(ts));
	if (o != NULL && c != NULL) {
		cJSON_AddStringToObject(
		    o, "version", nrm_router_version(app->router));
		cJSON_AddStringToObject(o, "loaded_at", ts);
		cJSON_AddItemToObject(o, "coverage", c);
		c = NULL;
		nrm_req_json_obj(r, 200, o);
	} else {
		nrm_req_fail(r, NRM_E_INTERNAL, "", "out of memory");
	}
	free(cov);
	cJSON_Delete(c);
	cJSON_Delete(o);
}

void
nrm_h_admin_reload(struct nrm_req *r)
{
	struct nrm_app *app = r->app;
	struct nrm_diag diag;
	struct nrm_error err;
	char *dj;

	nrm_diag_init(&diag);
	nrm_error_clear(&err);
	if (app->reload(app->reload_arg, &diag, &err) != NRM_OK) {
		nrm_error("reload refused, keeping the running configuration "
			  "req=%s key=%s errors=%d",
		    r->id, err.field[0] != '\0' ? err.field : "-",
		    nrm_diag_errors(&diag));
		dj = nrm_diag_json(&diag);
		err.code = NRM_E_VALIDATION;
		nrm_req_problem_ext(r, &err, "errors", dj != NULL ? dj : "{}");
		free(dj);
		nrm_diag_free(&diag);
		return;
	}
	nrm_info("configuration reloaded req=%s version=%.12s", r->id,
	    nrm_router_version(app->router));
	{
		char ts[40];
		cJSON *o = cJSON_CreateObject();

		dj = nrm_diag_json(&diag);
		rt_time(app->router_loaded_at, ts, sizeof(ts));
		cJSON_AddStringToObject(o, "status", "reloaded");
		cJSON_AddStringToObject(
		    o, "version", nrm_router_version(app->router));
		cJSON_AddStringToObject(o, "loaded_at", ts);
		rt_add_json(o, "diagnostics", dj);
		nrm_req_json_obj(r, 200, o);
		free(dj);
		cJSON_Delete(o);
	}
	nrm_diag_free(&diag);
}

/* The text of a JSON member: a string as is, anything else printed. */
static char *
rt_member_text(const cJSON *v)
{
	if (cJSON_IsString(v))
		return strdup(v->valuestring);
	return cJSON_PrintUnformatted(v);
}

void
nrm_h_routing_explain(struct nrm_req *r)
{
	struct nrm_app *app = r->app;
	struct nrm_router *cand = NULL;
	const struct nrm_router *router = app->router;
	struct nrm_diag diag;
	struct nrm_signal s;
	struct nrm_decision dec;
	struct nrm_error err;
	enum nrm_agency_kind kind = NRM_AGENCY_OTHER;
	static const char *const keys[] = {
	    "signal", "reporter_kind", "candidate"};
	static const char *const ckeys[] = {
	    "regions", "rules", "municipalities_csv"};
	const cJSON *slot[3], *cslot[3], *sig, *rk, *cd;
	cJSON *root = NULL;
	char *dj = NULL;

	nrm_diag_init(&diag);
	memset(&s, 0, sizeof(s));
	if (nrm_req_body_object(r, false, keys, 3, slot, &root) != NRM_OK)
		goto out;
	nrm_error_clear(&err);
	sig = slot[0];
	if (!cJSON_IsObject(sig)) {
		nrm_req_fail(r, NRM_E_VALIDATION, "signal",
		    "signal must be an intake body (an object)");
		goto out;
	}
	rk = slot[1];
	if (rk != NULL &&
	    (!cJSON_IsString(rk) ||
		nrm_agency_kind_parse(rk->valuestring, &kind) != NRM_OK)) {
		nrm_req_fail(r, NRM_E_VALIDATION, "reporter_kind",
		    "reporter_kind must be an agency kind (police, kmar, "
		    "labour_inspectorate, care_agency, ngo, municipality, "
		    "national_centre, assessment_body, other)");
		goto out;
	}
	cd = slot[2];
	if (cd != NULL && cJSON_IsObject(cd) &&
	    nrm_json_members(
		cd, "candidate", ckeys, 3, 0, cslot, NULL, NULL, &err) != 0) {
		nrm_req_problem(r, &err);
		goto out;
	}
	if (cd != NULL) {
		const cJSON *reg = cJSON_IsObject(cd) ? cslot[0] : NULL;
		const cJSON *rules = cJSON_IsObject(cd) ? cslot[1] : NULL;
		const cJSON *csv = cJSON_IsObject(cd) ? cslot[2] : NULL;
		char *rt = NULL, *ut = NULL;
		int rc;

		if (!cJSON_IsObject(cd) || !cJSON_IsObject(reg) ||
		    !cJSON_IsObject(rules) ||
		    (csv != NULL && !cJSON_IsString(csv))) {
			nrm_req_fail(r, NRM_E_VALIDATION, "candidate",
			    "candidate must hold regions and rules (the "
			    "contents of regions.json and rules.json) and "
			    "optionally municipalities_csv (text)");
			goto out;
		}
		rt = rt_member_text(reg);
		ut = rt_member_text(rules);
		{
			const char *ct =
			    csv != NULL ? csv->valuestring : app->routing_csv;

			rc = rt != NULL && ut != NULL
			    ? nrm_routing_load_texts(rt, strlen(rt), ct,
				  strlen(ct), ut, strlen(ut), &cand, &diag)
			    : NRM_ERR;
		}
		free(rt);
		free(ut);
		if (rc != NRM_OK) {
			nrm_error_clear(&err);
			nrm_error_set(&err, NRM_E_VALIDATION, "candidate",
			    "the candidate configuration has %d error(s)",
			    nrm_diag_errors(&diag));
			dj = nrm_diag_json(&diag);
			nrm_req_problem_ext(
			    r, &err, "errors", dj != NULL ? dj : "{}");
			goto out;
		}
		router = cand;
	}
	nrm_error_clear(&err);
	if (nrm_signal_from_json(&s, sig, &app->limits, nrm_router_geo(router),
		(int64_t)time(NULL), &err) != NRM_OK) {
		char field[160];

		/* Paths are relative to the signal inside this body. */
		snprintf(field, sizeof(field), "signal%s%.120s",
		    err.field[0] != '\0' ? "." : "", err.field);
		snprintf(err.field, sizeof(err.field), "%.127s", field);
		nrm_req_problem(r, &err);
		goto out;
	}
	nrm_route(router, &s, kind, &dec);
	/* The live configuration decides as intake would (coverage.h). */
	if (cand == NULL && app->cfg.route_uncovered_to_national &&
	    nrm_coverage_uncovered(&app->coverage, dec.region))
		nrm_decision_reroute_uncovered(&dec);
	{
		char *dec_json = nrm_decision_json(&dec);
		cJSON *o = cJSON_CreateObject();

		rt_add_json(o, "decision", dec_json);
		cJSON_AddBoolToObject(o, "candidate", cand != NULL);
		cJSON_AddBoolToObject(o, "minor", s.minor);
		cJSON_AddBoolToObject(
		    o, "notification_only", s.notification_only);
		if (cand != NULL) {
			dj = nrm_diag_json(&diag);
			rt_add_json(o, "diagnostics", dj);
		}
		nrm_req_json_obj(r, 200, o);
		free(dec_json);
		cJSON_Delete(o);
	}
out:
	free(dj);
	nrm_signal_free(&s);
	nrm_router_free(cand);
	nrm_diag_free(&diag);
	cJSON_Delete(root);
}
