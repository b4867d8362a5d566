/*
 * problem.h - the one place where a domain error becomes an HTTP status
 * and an RFC 9457 application/problem+json body.
 *
 * Body: {"type":"urn:nrm:problem:<code>","title":...,"status":N,
 * "detail":...,"field":...,"request_id":...}.  "field" is present only
 * when one field, header or parameter is at fault.
 */
#ifndef NRM_PROBLEM_H
#define NRM_PROBLEM_H

#include "nrm/nrm.h"

/* HTTP status of an error code (500 for anything unknown). */
int nrm_problem_status(enum nrm_errcode code);

/* Short human title ("Validation failed"). */
const char *nrm_problem_title(enum nrm_errcode code);

/* Error code named by its nrm_errcode_name(), NRM_E_INTERNAL if unknown. */
enum nrm_errcode nrm_problem_code_by_name(const char *name);

/* malloc'd problem+json text; the caller frees it. */
char *nrm_problem_json(const struct nrm_error *err, const char *request_id);

/*
 * The same for an answer whose status is not its code's (one libevent
 * gave itself: 417, 501): `status` and `title` replace the code's.
 */
char *nrm_problem_json_status(const struct nrm_error *err,
    const char *request_id, int status, const char *title);

/*
 * The same with one extension member `key` whose value is the JSON text
 * `json` (for example the list of configuration errors), or, with `key`
 * NULL, every member of the JSON object `json` that the problem does not
 * already have (the current state of a case, say); NULL on OOM or when
 * `json` does not parse.
 */
char *nrm_problem_json_ext(const struct nrm_error *err, const char *request_id,
    const char *key, const char *json);

#endif /* NRM_PROBLEM_H */
