/*
 * problem.c - error code -> HTTP status, title and problem+json body
 * (see problem.h).  The only file that knows this mapping.
 */
#include "problem.h"
#include "util.h"

#include "nrm/json.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	int status;
	const char *title;
} problem_table[NRM_E__COUNT] = {
    [NRM_E_NONE] = {500, "No error"},
    [NRM_E_MALFORMED] = {400, "Malformed request body"},
    [NRM_E_BAD_REQUEST] = {400, "Bad request"},
    [NRM_E_UNAUTHENTICATED] = {401, "Authentication required"},
    [NRM_E_FORBIDDEN] = {403, "Forbidden"},
    [NRM_E_NOT_FOUND] = {404, "Not found"},
    [NRM_E_METHOD] = {405, "Method not allowed"},
    [NRM_E_CONFLICT] = {409, "Conflict"},
    [NRM_E_PRECONDITION] = {412, "Precondition failed"},
    [NRM_E_TOO_LARGE] = {413, "Request body too large"},
    [NRM_E_MEDIA_TYPE] = {415, "Unsupported media type"},
    [NRM_E_VALIDATION] = {422, "Validation failed"},
    [NRM_E_IDEMPOTENCY] = {422, "Idempotency key reused"},
    [NRM_E_INTERNAL] = {500, "Internal error"},
    [NRM_E_UNAVAILABLE] = {503, "Service unavailable"},
    [NRM_E_TIMEOUT] = {503, "Database timeout"},
    [NRM_E_RETRY_LATER] = {409, "In flight: retry later"},
    [NRM_E_RATE_LIMITED] = {429, "Too many requests"},
};

int
nrm_problem_status(enum nrm_errcode code)
{
	if ((int)code <= 0 || code >= NRM_E__COUNT)
		return 500;
	return problem_table[code].status;
}

const char *
nrm_problem_title(enum nrm_errcode code)
{
	if ((int)code <= 0 || code >= NRM_E__COUNT)
		return problem_table[NRM_E_INTERNAL].title;
	return problem_table[code].title;
}

enum nrm_errcode
nrm_problem_code_by_name(const char *name)
{
	for (int c = 1; c < NRM_E__COUNT; c++)
		if (strcmp(nrm_errcode_name((enum nrm_errcode)c), name) == 0)
			return (enum nrm_errcode)c;
	return NRM_E_INTERNAL;
}

/* The problem object of `err` (caller deletes), NULL on OOM. */
static cJSON *
problem_object(const struct nrm_error *err, const char *request_id)
{
	enum nrm_errcode code = err->code;
	char type[64];
	cJSON *o;

	if ((int)code <= 0 || code >= NRM_E__COUNT)
		code = NRM_E_INTERNAL;
	snprintf(
	    type, sizeof(type), "urn:nrm:problem:%s", nrm_errcode_name(code));
	o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, "title", nrm_problem_title(code));
	cJSON_AddNumberToObject(o, "status", nrm_problem_status(code));
	cJSON_AddStringToObject(o, "detail",
	    err->detail[0] != '\0' ? err->detail : nrm_problem_title(code));
	if (err->field[0] != '\0')
		cJSON_AddStringToObject(o, "field", err->field);
	if (request_id != NULL)
		cJSON_AddStringToObject(o, "request_id", request_id);
	return o;
}

char *
nrm_problem_json(const struct nrm_error *err, const char *request_id)
{
	return nrm_json_print_take(problem_object(err, request_id), true);
}

char *
nrm_problem_json_status(const struct nrm_error *err, const char *request_id,
    int status, const char *title)
{
	cJSON *o = problem_object(err, request_id);

	if (o != NULL) {
		cJSON_ReplaceItemInObjectCaseSensitive(
		    o, "status", cJSON_CreateNumber(status));
		cJSON_ReplaceItemInObjectCaseSensitive(
		    o, "title", cJSON_CreateString(title));
	}
	return nrm_json_print_take(o, true);
}

char *
nrm_problem_json_ext(const struct nrm_error *err, const char *request_id,
    const char *key, const char *json)
{
	cJSON *o = problem_object(err, request_id);
	cJSON *v = cJSON_Parse(json);
	char *out = NULL;

	if (o != NULL && v != NULL) {
		if (key != NULL) {
			cJSON_AddItemToObject(o, key, v);
			v = NULL;
		} else if (cJSON_IsObject(v)) {
			/* Merge the members the problem does not have yet. */
			cJSON *it = v->child;

			while (it != NULL) {
				cJSON *next = it->next;

				if (it->string != NULL &&
				    !cJSON_HasObjectItem(o, it->string)) {
					cJSON_DetachItemViaPointer(v, it);
					cJSON_AddItemToObject(
					    o, it->string, it);
				}
				it = next;
			}
		}
		out = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(v);
	cJSON_Delete(o);
	return out;
}
