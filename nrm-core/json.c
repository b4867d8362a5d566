/*
 * json.c - the one strict JSON reader and the member, path, text and
 * boolean helpers every tree walk in nrm shares (see json.h).
 *
 * Three gates, cheapest first: strict UTF-8 over the raw bytes
 * (utf8.c); a strict RFC 8259 syntax check (json_lex_*), because cJSON
 * is lenient (control characters in strings, leading zeros, "\u0000"
 * that would silently cut a string, text after the value); then cJSON
 * builds the tree and json_dups walks it for keys given twice (cJSON
 * keeps both, and a lookup would see only one).
 */
#include "nrm/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrm/utf8.h"

#define JSON_FAIL(err, path, ...) \
	nrm_error_set((err), NRM_E_VALIDATION, (path), __VA_ARGS__)

/*
 * Strict syntax check.  Recursion is bounded by NRM_JSON_MAX_DEPTH.  On
 * failure lx->why says what was wrong and lx->at is the offending byte.
 */
struct json_lex {
	const char *p, *end;
	const char *at;
	const char *why;
};

static void
json_lex_ws(struct json_lex *lx)
{
	while (lx->p < lx->end &&
	    (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' ||
		*lx->p == '\r'))
		lx->p++;
}

static bool
json_lex_fail(struct json_lex *lx, const char *at, const char *why)
{
	lx->at = at;
	lx->why = why;
	return false;
}

static bool
json_lex_hex4(struct json_lex *lx, unsigned *v)
{
	unsigned x = 0;
	int i;

	if (lx->end - lx->p < 4)
		return json_lex_fail(lx, lx->p, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		char ch = lx->p[i];

		x <<= 4;
		if (ch >= '0' && ch <= '9')
			x |= (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			x |= (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			x |= (unsigned)(ch - 'A' + 10);
		else
			return json_lex_fail(lx, lx->p + i, "bad \\u escape");
	}
	lx->p += 4;
	*v = x;
	return true;
}

/* A \u escape; lx->p is after the 'u', esc on the backslash. */
static bool
json_lex_unicode(struct json_lex *lx, const char *esc)
{
	unsigned u, lo;

	if (!json_lex_hex4(lx, &u))
		return false;
	if (u == 0)
		return json_lex_fail(lx, esc, "\\u0000 in a string");
	if (u >= 0xDC00 && u <= 0xDFFF)
		return json_lex_fail(lx, esc, "unpaired surrogate");
	if (u < 0xD800 || u > 0xDBFF)
		return true;
	if (lx->end - lx->p < 2 || lx->p[0] != '\\' || lx->p[1] != 'u')
		return json_lex_fail(lx, esc, "unpaired surrogate");
	lx->p += 2;
	if (!json_lex_hex4(lx, &lo))
		return false;
	if (lo < 0xDC00 || lo > 0xDFFF)
		return json_lex_fail(lx, esc, "unpaired surrogate");
	return true;
}

/* A string; lx->p is on the opening quote. */
static bool
json_lex_string(struct json_lex *lx)
{
	lx->p++;
	while (lx->p < lx->end) {
		const char *esc = lx->p;
		unsigned char ch = (unsigned char)*lx->p++;

		if (ch == '"')
			return true;
		if (ch < 0x20)
			return json_lex_fail(
			    lx, esc, "unescaped control character in a string");
		if (ch != '\\')
			continue;
		if (lx->p >= lx->end)
			break;
		switch (*lx->p++) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			break;
		case 'u':
			if (!json_lex_unicode(lx, esc))
				return false;
			break;
		default:
			return json_lex_fail(lx, esc, "bad escape in a string");
		}
	}
	return json_lex_fail(lx, lx->p, "unterminated string");
}

static bool
json_lex_digits(struct json_lex *lx)
{
	const char *start = lx->p;

	while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9')
		lx->p++;
	return lx->p > start;
}

/*
 * -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?, at most
 * NRM_JSON_NUMBER_MAX bytes: some cJSON releases read a number through a
 * 64-byte buffer and fail on longer ones.
 */
static bool
json_lex_number(struct json_lex *lx)
{
	const char *start = lx->p;

	if (lx->p < lx->end && *lx->p == '-')
		lx->p++;
	if (lx->p < lx->end && *lx->p == '0')
		lx->p++;
	else if (!json_lex_digits(lx))
		return json_lex_fail(lx, lx->p, "bad number");
	if (lx->p < lx->end && *lx->p == '.') {
		lx->p++;
		if (!json_lex_digits(lx))
			return json_lex_fail(lx, lx->p, "bad number");
	}
	if (lx->p < lx->end && (*lx->p == 'e' || *lx->p == 'E')) {
		lx->p++;
		if (lx->p < lx->end && (*lx->p == '+' || *lx->p == '-'))
			lx->p++;
		if (!json_lex_digits(lx))
			return json_lex_fail(lx, lx->p, "bad number");
	}
	if (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9')
		return json_lex_fail(lx, lx->p, "bad number");
	if (lx->p - start > NRM_JSON_NUMBER_MAX)
		return json_lex_fail(
		    lx, start, "number longer than 63 characters");
	return true;
}

static bool
json_lex_word(struct json_lex *lx, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(lx->end - lx->p) < n || memcmp(lx->p, w, n) != 0)
		return json_lex_fail(lx, lx->p, "unexpected character");
	lx->p += n;
	return true;
}

static bool json_lex_value(struct json_lex *lx, int depth);

/* An object or array; lx->p is on '{' or '['. */
static bool
json_lex_container(struct json_lex *lx, int depth)
{
	bool object = *lx->p == '{';
	char close = object ? '}' : ']';

	lx->p++;
	json_lex_ws(lx);
	if (lx->p < lx->end && *lx->p == close) {
		lx->p++;
		return true;
	}
	for (;;) {
		if (object) {
			json_lex_ws(lx);
			if (lx->p >= lx->end || *lx->p != '"')
				return json_lex_fail(
				    lx, lx->p, "expected a key");
			if (!json_lex_string(lx))
				return false;
			json_lex_ws(lx);
			if (lx->p >= lx->end || *lx->p != ':')
				return json_lex_fail(lx, lx->p, "expected ':'");
			lx->p++;
		}
		if (!json_lex_value(lx, depth + 1))
			return false;
		json_lex_ws(lx);
		if (lx->p < lx->end && *lx->p == ',') {
			lx->p++;
			continue;
		}
		if (lx->p < lx->end && *lx->p == close) {
			lx->p++;
			return true;
		}
		return json_lex_fail(lx, lx->p,
		    object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool
json_lex_value(struct json_lex *lx, int depth)
{
	if (depth > NRM_JSON_MAX_DEPTH)
		return json_lex_fail(lx, lx->p, "nested too deeply");
	json_lex_ws(lx);
	if (lx->p >= lx->end)
		return json_lex_fail(lx, lx->p, "unexpected end of input");
	switch (*lx->p) {
	case '{':
	case '[':
		return json_lex_container(lx, depth);
	case '"':
		return json_lex_string(lx);
	case 't':
		return json_lex_word(lx, "true");
	case 'f':
		return json_lex_word(lx, "false");
	case 'n':
		return json_lex_word(lx, "null");
	default:
		if (*lx->p == '-' || (*lx->p >= '0' && *lx->p <= '9'))
			return json_lex_number(lx);
		return json_lex_fail(lx, lx->p, "unexpected character");
	}
}

/*
 * Within the object at lx->p, the value of member path[0] (descending
 * through path[1..n) as objects): its first byte in *start, the byte
 * after it in *end.  Keys are compared byte for byte as written (a key
 * spelled with an escape does not match).
 */
static bool
json_lex_member(struct json_lex *lx, const char *const *path, int n, int depth,
    const char **start, const char **end)
{
	size_t want = strlen(path[0]);

	if (depth > NRM_JSON_MAX_DEPTH)
		return json_lex_fail(lx, lx->p, "nested too deeply");
	json_lex_ws(lx);
	if (lx->p >= lx->end || *lx->p != '{')
		return json_lex_fail(lx, lx->p, "expected an object");
	lx->p++;
	for (;;) {
		const char *key;
		bool match;

		json_lex_ws(lx);
		if (lx->p >= lx->end || *lx->p != '"')
			return json_lex_fail(lx, lx->p, "no such member");
		key = lx->p + 1;
		if (!json_lex_string(lx))
			return false;
		match = (size_t)(lx->p - 1 - key) == want &&
		    memcmp(key, path[0], want) == 0;
		json_lex_ws(lx);
		if (lx->p >= lx->end || *lx->p != ':')
			return json_lex_fail(lx, lx->p, "expected ':'");
		lx->p++;
		json_lex_ws(lx);
		if (match && n > 1)
			return json_lex_member(
			    lx, path + 1, n - 1, depth + 1, start, end);
		*start = lx->p;
		if (!json_lex_value(lx, depth + 1))
			return false;
		if (match) {
			*end = lx->p;
			return true;
		}
		json_lex_ws(lx);
		if (lx->p < lx->end && *lx->p == ',') {
			lx->p++;
			continue;
		}
		return json_lex_fail(lx, lx->p, "no such member");
	}
}

int
nrm_json_member_span(const char *text, size_t len, const char *const *path,
    int n, size_t *start, size_t *end)
{
	struct json_lex lx = {.p = text, .end = text + len};
	const char *s = NULL, *e = NULL;

	if (n < 1 || !json_lex_member(&lx, path, n, 0, &s, &e))
		return NRM_ERR;
	*start = (size_t)(s - text);
	*end = (size_t)(e - text);
	return NRM_OK;
}

int
nrm_json_element_spans(const char *text, size_t len, size_t *starts,
    size_t *ends, int max, int *count)
{
	struct json_lex lx = {.p = text, .end = text + len};
	int n = 0;

	json_lex_ws(&lx);
	if (lx.p >= lx.end || *lx.p != '[')
		return NRM_ERR;
	lx.p++;
	json_lex_ws(&lx);
	if (lx.p < lx.end && *lx.p == ']') {
		lx.p++;
	} else {
		for (;;) {
			if (n == max)
				return NRM_ERR;
			json_lex_ws(&lx);
			starts[n] = (size_t)(lx.p - text);
			if (!json_lex_value(&lx, 2))
				return NRM_ERR;
			ends[n++] = (size_t)(lx.p - text);
			json_lex_ws(&lx);
			if (lx.p < lx.end && *lx.p == ',') {
				lx.p++;
				continue;
			}
			if (lx.p < lx.end && *lx.p == ']') {
				lx.p++;
				break;
			}
			return NRM_ERR;
		}
	}
	json_lex_ws(&lx);
	if (lx.p != lx.end)
		return NRM_ERR;
	*count = n;
	return NRM_OK;
}

/*
 * The first byte of text[0..len) that breaks strict UTF-8 (or is NUL),
 * or len.
 */
static size_t
json_utf8_stop(const char *text, size_t len)
{
	size_t pos = 0, at = 0;

	while (pos < len && nrm_utf8_next(text, len, &pos) > 0)
		at = pos;
	return at;
}

/* The bytes gates: UTF-8, then syntax; *at is the offending byte. */
static int
json_check(const char *text, size_t len, size_t *at, struct nrm_error *err)
{
	struct json_lex lx = {text, text + len, text, NULL};

	if (!nrm_utf8_valid(text, len)) {
		*at = json_utf8_stop(text, len);
		return nrm_error_set(err, NRM_E_MALFORMED, "",
		    "not valid UTF-8 (or a NUL byte)");
	}
	if (json_lex_value(&lx, 1)) {
		json_lex_ws(&lx);
		if (lx.p == lx.end)
			return NRM_OK;
		lx.at = lx.p;
		lx.why = NULL;
	}
	*at = (size_t)(lx.at - text);
	if (lx.why == NULL)
		return nrm_error_set(err, NRM_E_MALFORMED, "",
		    "unexpected text after the JSON value");
	if (strcmp(lx.why, "\\u0000 in a string") == 0)
		return nrm_error_set(err, NRM_E_MALFORMED, "",
		    "\\u0000 is not allowed in a string");
	return nrm_error_set(
	    err, NRM_E_MALFORMED, "", "malformed JSON: %s", lx.why);
}

/*
 * The first member of object o (in document order) whose key an
 * earlier member already has, or NULL.  Sorting keeps this O(n log n)
 * for an object of many keys.  NULL with *oom set when the scratch
 * array cannot be had.
 */
static const cJSON *
json_dup_in(const cJSON *o, bool *oom)
{
	struct nrm_name_ref *v;
	const cJSON *m;
	int n = 0, i, first = -1;

	for (m = o->child; m != NULL; m = m->next)
		n++;
	if (n < 2)
		return NULL;
	v = malloc((size_t)n * sizeof(*v));
	if (v == NULL) {
		*oom = true;
		return NULL;
	}
	for (m = o->child, i = 0; m != NULL; m = m->next, i++) {
		v[i].name = m->string;
		v[i].index = i;
	}
	nrm_name_refs_sort(v, (size_t)n);
	for (i = 1; i < n; i++) {
		if (strcmp(v[i].name, v[i - 1].name) == 0 &&
		    (first < 0 || v[i].index < v[first].index))
			first = i;
	}
	m = first < 0 ? NULL : cJSON_GetArrayItem(o, v[first].index);
	free(v);
	return m;
}

/*
 * Refuse a key given twice in any object of the tree v at `path`: the
 * object's own members first, then its children, in document order.
 * Depth is bounded by the syntax gate.
 */
static int
json_dups(const cJSON *v, const char *path, struct nrm_error *err)
{
	char sub[NRM_JSON_PATH_MAX];
	const cJSON *m;
	bool oom = false;
	int i = 0;

	if (cJSON_IsObject(v)) {
		m = json_dup_in(v, &oom);
		if (oom)
			return nrm_error_set(
			    err, NRM_E_INTERNAL, "", "out of memory");
		if (m != NULL) {
			if (!nrm_json_path(sub, path, m->string))
				return JSON_FAIL(
				    err, sub, "duplicate key (name not shown)");
			return JSON_FAIL(err, sub, "duplicate key");
		}
	} else if (!cJSON_IsArray(v)) {
		return NRM_OK;
	}
	for (m = v->child; m != NULL; m = m->next, i++) {
		if (m->child == NULL)
			continue;
		if (cJSON_IsObject(v))
			(void)nrm_json_path(sub, path, m->string);
		else
			nrm_json_path_index(sub, path, i);
		if (json_dups(m, sub, err) != NRM_OK)
			return NRM_ERR;
	}
	return NRM_OK;
}

/*
 * The gates, then cJSON on a NUL-terminated copy (so it can never read
 * past the text), then the duplicate check.
 */
int
nrm_json_parse(cJSON **out, const char *text, size_t len, size_t *at,
    struct nrm_error *err)
{
	size_t where = 0;
	cJSON *root = NULL;
	char *copy = NULL;
	int rc = NRM_ERR;

	*out = NULL;
	if (text == NULL)
		len = 0;
	if (json_check(text != NULL ? text : "", len, &where, err) != NRM_OK)
		goto out;
	copy = malloc(len + 1);
	if (copy == NULL) {
		nrm_error_set(err, NRM_E_INTERNAL, "", "out of memory");
		goto out;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	root = cJSON_ParseWithLength(copy, len);
	if (root == NULL) {
		/* The syntax gate passed, so this is memory. */
		nrm_error_set(err, NRM_E_INTERNAL, "", "could not parse JSON");
		goto out;
	}
	if (json_dups(root, "", err) != NRM_OK)
		goto out;
	*out = root;
	root = NULL;
	rc = NRM_OK;
out:
	if (at != NULL)
		*at = where;
	cJSON_Delete(root);
	free(copy);
	return rc;
}

int
nrm_json_parse_object(cJSON **out, const char *text, size_t len, bool empty_ok,
    const char *const *keys, int n, const cJSON **slot, struct nrm_error *err)
{
	cJSON *root = NULL;

	*out = NULL;
	if (len == 0 && empty_ok) {
		root = cJSON_CreateObject();
		if (root == NULL)
			return nrm_error_set(
			    err, NRM_E_INTERNAL, "", "out of memory");
	} else if (nrm_json_parse(&root, text, len, NULL, err) != NRM_OK) {
		return NRM_ERR;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return nrm_error_set(
		    err, NRM_E_MALFORMED, "", "the body must be a JSON object");
	}
	if (n >= 0 &&
	    nrm_json_members(root, "", keys, n, 0, slot, NULL, NULL, err) !=
		0) {
		cJSON_Delete(root);
		return NRM_ERR;
	}
	*out = root;
	return NRM_OK;
}

const char *
nrm_json_str(const cJSON *o, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

char *
nrm_json_print_take(cJSON *o, bool ok)
{
	char *text = NULL;

	if (o != NULL && ok)
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* Whether a key may be shown in a path: 1..64 of [A-Za-z0-9_-]. */
static bool
json_key_showable(const char *k)
{
	return nrm_ascii_word(k, NRM_JSON_KEY_SHOWN_MAX, "_-");
}

/* Copy src into buf[NRM_JSON_PATH_MAX], cut when too long. */
static void
json_path_put(char *buf, const char *parent, const char *sep, const char *key)
{
	if (snprintf(buf, NRM_JSON_PATH_MAX, "%s%s%s", parent, sep, key) >=
	    NRM_JSON_PATH_MAX)
		buf[NRM_JSON_PATH_MAX - 1] = '\0';
}

bool
nrm_json_path(char *buf, const char *parent, const char *key)
{
	if (!json_key_showable(key)) {
		json_path_put(buf, parent, "", "");
		return false;
	}
	json_path_put(buf, parent, parent[0] == '\0' ? "" : ".", key);
	return true;
}

void
nrm_json_path_index(char *buf, const char *parent, int i)
{
	char idx[16];

	snprintf(idx, sizeof(idx), "[%d]", i);
	json_path_put(buf, parent, "", idx);
}

/* Hand a fault to report, or keep it in *err for the caller. */
static void
json_fault(nrm_json_report_cb report, void *arg, struct nrm_error *err)
{
	if (report != NULL)
		report(arg, err);
}

int
nrm_json_members(const cJSON *obj, const char *path, const char *const *keys,
    int n, uint32_t required, const cJSON **slot, nrm_json_report_cb report,
    void *arg, struct nrm_error *err)
{
	struct nrm_error scratch;
	char sub[NRM_JSON_PATH_MAX], expected[200];
	const cJSON *m;
	size_t e = 0;
	int k, faults = 0;

	if (err == NULL)
		err = &scratch;
	snprintf(expected, sizeof(expected), "%s", "none");
	for (k = 0; k < n; k++) {
		slot[k] = NULL;
		e += (size_t)snprintf(expected + e, sizeof(expected) - e,
		    "%s%s", k > 0 ? ", " : "", keys[k]);
		if (e >= sizeof(expected))
			e = sizeof(expected) - 1;
	}
	for (m = obj->child; m != NULL; m = m->next) {
		k = nrm_name_index(keys, n, m->string);
		if (k >= 0) {
			if (!cJSON_IsNull(m) || (required & (1u << k)) != 0)
				slot[k] = m;
			continue;
		}
		if (nrm_json_path(sub, path, m->string))
			JSON_FAIL(err, sub, "unknown key (expected one of %s)",
			    expected);
		else
			JSON_FAIL(err, sub,
			    "unknown key (name not shown; expected one of "
			    "%s)",
			    expected);
		faults++;
		if (report == NULL)
			return faults;
		json_fault(report, arg, err);
	}
	for (k = 0; k < n; k++) {
		if ((required & (1u << k)) == 0 || slot[k] != NULL)
			continue;
		JSON_FAIL(err, path, "missing key %s", keys[k]);
		faults++;
		if (report == NULL)
			return faults;
		json_fault(report, arg, err);
	}
	return faults;
}

bool
nrm_json_blank(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	}
	return true;
}

bool
nrm_json_has_control(const char *s, bool lines)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p < 0x20) {
			if (lines && (*p == '\n' || *p == '\r'))
				continue;
			return true;
		}
		if (*p == 0x7F)
			return true;
		if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
			return true;
	}
	return false;
}

int
nrm_json_text(const cJSON *v, const char *path, size_t max, bool lines,
    char **out, struct nrm_error *err)
{
	size_t n;

	if (v == NULL)
		return NRM_OK;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return JSON_FAIL(err, path, "must be a string");
	n = strlen(v->valuestring);
	if (n < 1 || n > max)
		return JSON_FAIL(err, path, "must be 1 to %zu bytes", max);
	if (nrm_json_blank(v->valuestring))
		return JSON_FAIL(err, path, "must not be blank");
	if (nrm_json_has_control(v->valuestring, lines))
		return JSON_FAIL(err, path,
		    lines ? "must not contain control characters other than "
			    "line breaks"
			  : "must not contain control characters");
	*out = strdup(v->valuestring);
	if (*out == NULL)
		return nrm_error_set(err, NRM_E_INTERNAL, "", "out of memory");
	return NRM_OK;
}

int
nrm_json_bool(
    const cJSON *v, const char *path, bool *out, struct nrm_error *err)
{
	if (v == NULL)
		return NRM_OK;
	if (!cJSON_IsBool(v))
		return JSON_FAIL(err, path, "must be true or false");
	*out = cJSON_IsTrue(v);
	return NRM_OK;
}
