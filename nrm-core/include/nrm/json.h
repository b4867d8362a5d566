/*
 * json.h - the one strict JSON reader of nrm: every request body nrmd
 * reads and every configuration file nrm-core loads goes through it, so
 * duplicate keys, trailing text, bad UTF-8 and unknown keys are refused
 * the same way everywhere, naming the field.
 *
 * nrm_json_parse() checks the raw bytes first (strict UTF-8 without NUL
 * bytes, then RFC 8259 syntax: no control characters or "\u0000" in
 * strings, no lone surrogates, no leading zeros, numbers of at most
 * NRM_JSON_NUMBER_MAX bytes, nesting at most NRM_JSON_MAX_DEPTH deep,
 * nothing after the value but white space), only then lets cJSON build
 * the tree, and finally refuses an object that holds a key twice.
 *
 * Errors use struct nrm_error (nrm.h): a fault in the bytes is
 * NRM_E_MALFORMED with an empty field; a fault in the shape (duplicate
 * or unknown key, wrong type, bad text) is NRM_E_VALIDATION with the
 * JSON path of the member in err->field: "reason", "subject.given_name",
 * "exploitation[2]".  A key is shown in a path only when it is 1 to 64
 * of [A-Za-z0-9_-]; any other key is reported at the enclosing object's
 * path (a key could be personal data).  Details never quote a value.
 *
 * Pure: no I/O, no globals.  This is nrm-core's cJSON edge: the tree
 * types appear here and in the modules that walk trees, nowhere else.
 */
#ifndef NRM_JSON_H
#define NRM_JSON_H

#include <cjson/cJSON.h>

#include "nrm/nrm.h"

#define NRM_JSON_MAX_DEPTH 32
#define NRM_JSON_NUMBER_MAX 63
#define NRM_JSON_PATH_MAX 128 /* == sizeof(((struct nrm_error *)0)->field) */
#define NRM_JSON_KEY_SHOWN_MAX 64

/*
 * Parse text[0..len) (need not be NUL-terminated) strictly into *out
 * (the caller deletes it with cJSON_Delete).  On failure *out is NULL,
 * *err is set as above and, when `at` is not NULL, *at is the byte
 * offset of the fault (0 for a shape fault).  The MALFORMED details are
 * "not valid UTF-8 (or a NUL byte)", "\u0000 is not allowed in a
 * string", "unexpected text after the JSON value" and "malformed JSON:
 * <what was expected>".
 */
int nrm_json_parse(cJSON **out, const char *text, size_t len, size_t *at,
    struct nrm_error *err) NRM_MUSTCHECK;

/*
 * A reporter of faults, for callers that collect every fault (a
 * configuration load) instead of stopping at the first (a request).
 * `err` is valid only during the call.
 */
typedef void (*nrm_json_report_cb)(void *arg, const struct nrm_error *err);

/*
 * Match the members of object `obj` (at `path`) against keys[0..n),
 * n <= 32: slot[k] receives the member named keys[k], or NULL when it is
 * absent or JSON null (a null for a key whose bit is set in `required`
 * is kept, so the caller's type check refuses it).  An unknown key is
 * "unknown key (expected one of ...)", a missing required key "missing
 * key <name>" at `path`.  Returns the number of faults: with `report`
 * NULL it stops at the first and fills *err; otherwise it hands each to
 * report(arg, ...) and goes on.  Duplicate keys never reach here
 * (nrm_json_parse refuses them).
 */
int nrm_json_members(const cJSON *obj, const char *path,
    const char *const *keys, int n, uint32_t required, const cJSON **slot,
    nrm_json_report_cb report, void *arg, struct nrm_error *err);

/*
 * nrm_json_parse(), then the whole value must be an object whose keys
 * are among keys[0..n) (nrm_json_members with nothing required; n < 0
 * lets any key through, keys and slot unused).  An
 * empty text (len 0) is an empty object when `empty_ok`.  On failure
 * *out is NULL.  Used for request bodies.
 */
int nrm_json_parse_object(cJSON **out, const char *text, size_t len,
    bool empty_ok, const char *const *keys, int n, const cJSON **slot,
    struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Where the value of member path[0].path[1]...path[n-1] stands in the
 * JSON text text[0..len) (an object, each path element but the last an
 * object member): text[*start..*end).  The text is read with the strict
 * syntax check of nrm_json_parse, up to the member's end only (what
 * follows is not read); keys are compared byte for byte as written.
 * NRM_OK, or NRM_ERR when the text is not such an object up to there
 * or holds no such member.  No tree is built: how nrmd passes a
 * large member through (the inbox's items) while it reshapes the rest.
 */
int nrm_json_member_span(const char *text, size_t len, const char *const *path,
    int n, size_t *start, size_t *end) NRM_MUSTCHECK;

/*
 * Where each element of an array stands in the JSON text text[0..len):
 * the whole text is the array (text[0..len) may be a span that
 * nrm_json_member_span found).  Element i is text[starts[i]..ends[i]),
 * *count of them; at most max.  The array is read with the strict syntax
 * check of nrm_json_parse, and nothing but white space may follow it.
 * NRM_OK, or NRM_ERR when the text is not such an array or holds more
 * than max elements.  No tree is built: how nrmd passes each page of
 * api.inbox_many's answer through.
 */
int nrm_json_element_spans(const char *text, size_t len, size_t *starts,
    size_t *ends, int max, int *count) NRM_MUSTCHECK;

/*
 * Paths: "parent.key" ("key" at the top) into buf[NRM_JSON_PATH_MAX];
 * when the key may not be shown, buf is the parent and the result false.
 * nrm_json_path_index writes "parent[i]".  Over-long paths are cut.
 */
bool nrm_json_path(char *buf, const char *parent, const char *key);
void nrm_json_path_index(char *buf, const char *parent, int i);

/*
 * Blank: empty or only spaces, tabs, CR and LF.  The one definition of
 * "blank" in nrm.
 */
bool nrm_json_blank(const char *s);

/*
 * A control character: U+0000..U+001F, U+007F..U+009F; CR and LF do
 * not count when `lines`.  s is valid UTF-8.
 */
bool nrm_json_has_control(const char *s, bool lines);

/*
 * A free-text member v at `path`: a string of 1..max bytes, not blank,
 * without control characters (line breaks allowed when `lines`).  *out
 * receives a malloc'd copy, or stays NULL when v is NULL (absent).
 */
int nrm_json_text(const cJSON *v, const char *path, size_t max, bool lines,
    char **out, struct nrm_error *err) NRM_MUSTCHECK;

/* A boolean member v at `path` into *out; untouched when v is NULL. */
int nrm_json_bool(const cJSON *v, const char *path, bool *out,
    struct nrm_error *err) NRM_MUSTCHECK;

/* The string member `name` of object o, or NULL (absent, not a string,
 * o NULL). */
const char *nrm_json_str(const cJSON *o, const char *name);

/*
 * The compact text of o when `ok` (every member went in), malloc'd
 * (caller frees); NULL when o is NULL, !ok or out of memory.  Deletes o:
 * the one way a built tree becomes text.
 */
char *nrm_json_print_take(cJSON *o, bool ok);

#endif /* NRM_JSON_H */
