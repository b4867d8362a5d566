/*
 * retention.c - nrmctl retention status (see retention.h).
 */
#include "retention.h"
#include "ctl_db.h"
#include "util.h"

#include "nrm/json.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

const char nrm_ctl_usage_retention[] =
    "usage: nrmctl [--database-url URL] retention status [--next N]\n"
    "\n"
    "Show what the retention schedule makes due: the schedule nrmd's\n"
    "retention job last ran with (retention_after_close,\n"
    "retention_by_reason, retention_anonymous), how many closed cases and\n"
    "anonymous notifications are due now, the next ones to come due (id\n"
    "and time), and how many were erased so far, by the schedule and on\n"
    "request.  Ids and times only, never personal data.  Run as the owner.\n"
    "\n"
    "  --next N  how many of the next to come due to list (1 to 1000,\n"
    "            default 10)\n"
    "\n"
    "exit status: 0 shown; 1 no retention run recorded yet (nrmd has not\n"
    "run its retention job against this database), or the database could\n"
    "not be read; 2 usage error.\n";

static double
ret_num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *
ret_str(const cJSON *o, const char *name)
{
	const char *s = nrm_json_str(o, name);

	return s != NULL ? s : "-";
}

/* The schedule, one line, and the overrides by closing reason. */
static void
ret_schedule(const cJSON *s, FILE *out)
{
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(s, "by_reason");
	const cJSON *r;

	fprintf(out,
	    "schedule (recorded by nrmd at %s): closed cases %.0f s after "
	    "closing, anonymous notifications %.0f s after receipt\n",
	    ret_str(s, "seen_at"), ret_num(s, "after_close"),
	    ret_num(s, "anonymous"));
	cJSON_ArrayForEach (r, by)
		fprintf(out, "  closing reason %s: %.0f s\n", r->string,
		    cJSON_IsNumber(r) ? r->valuedouble : 0);
}

int
nrm_retention_status(
    PGconn *conn, const char *next, FILE *out, struct nrm_error *err)
{
	const char *params[1] = {next != NULL ? next : "10"};
	PGresult *res = NULL;
	cJSON *o = NULL;
	const cJSON *s, *due, *list, *it;
	char *end;
	long n = strtol(params[0], &end, 10);
	int rc = NRM_ERR;

	if (*params[0] == '\0' || *end != '\0' || n < 1 || n > 1000)
		return nrm_error_set(err, NRM_E_VALIDATION, "next",
		    "could not show the retention status: --next must be 1 "
		    "to 1000");
	if (nrm_ctl_query(conn,
		"SELECT care.retention_status($1::integer)::text", 1, params, 1,
		&res, err, "could not read the retention status") != NRM_OK)
		return NRM_ERR;
	o = cJSON_Parse(PQgetvalue(res, 0, 0));
	s = cJSON_GetObjectItemCaseSensitive(o, "schedule");
	if (o == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, NULL,
		    "could not read the retention status: malformed answer");
		goto out;
	}
	if (!cJSON_IsObject(s)) {
		fprintf(out,
		    "no retention run recorded yet: nrmd has not run "
		    "its retention job against this database\n");
		rc = NRM_CTL_RETENTION_UNKNOWN;
		goto out;
	}
	ret_schedule(s, out);
	due = cJSON_GetObjectItemCaseSensitive(o, "due_now");
	fprintf(out,
	    "due now: %.0f closed cases, %.0f anonymous "
	    "notifications\n",
	    ret_num(due, "cases"), ret_num(due, "notifications"));
	list = cJSON_GetObjectItemCaseSensitive(o, "next");
	fprintf(
	    out, "next due:%s\n", cJSON_GetArraySize(list) == 0 ? " none" : "");
	cJSON_ArrayForEach (it, list)
		fprintf(out, "  %s %s %s\n", ret_str(it, "due_at"),
		    ret_str(it, "kind"), ret_str(it, "id"));
	fprintf(out, "erased so far: %.0f by the schedule, %.0f on request\n",
	    ret_num(o, "erased_retention"), ret_num(o, "erased_on_request"));
	rc = NRM_OK;
out:
	cJSON_Delete(o);
	PQclear(res);
	return rc;
}
