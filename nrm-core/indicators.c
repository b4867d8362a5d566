/*
 * indicators.c - loading the indicators register (see indicators.h):
 * every entry checked against the statistics vocabulary, every problem
 * reported with its path, the API's JSON rendered once at load.
 */
#include "nrm/indicators.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nrm/json.h"

#define IND_F NRM_IND_FILE

struct nrm_indicators {
	struct nrm_indicator *items;
	int n;
	char *list_json;
};

/* The members of an entry, in the order the API shows them. */
enum {
	IND_K_ID = 0,
	IND_K_TITLE,
	IND_K_DEFINITION,
	IND_K_MEASURE,
	IND_K_BY,
	IND_K_UNIT,
	IND_K_HOW,
	IND_K_WHEN,
	IND_K_BY_WHOM,
	IND_K_GOAL,
	IND_K__COUNT
};

static const char *const ind_keys[IND_K__COUNT] = {
    [IND_K_ID] = "id",
    [IND_K_TITLE] = "title",
    [IND_K_DEFINITION] = "definition",
    [IND_K_MEASURE] = "measure",
    [IND_K_BY] = "by",
    [IND_K_UNIT] = "unit",
    [IND_K_HOW] = "how",
    [IND_K_WHEN] = "when",
    [IND_K_BY_WHOM] = "by_whom",
    [IND_K_GOAL] = "goal",
};

/* Every member but "by" (absent: no breakdown) is required. */
#define IND_REQUIRED (((1u << IND_K__COUNT) - 1) & ~(1u << IND_K_BY))

static const char *const ind_langs[NRM_IND_LANGS] = {"nl", "en"};
static const char *const ind_frequencies[] = {
    [NRM_STAT_PERIOD_MONTH] = "month",
    [NRM_STAT_PERIOD_QUARTER] = "quarter",
    [NRM_STAT_PERIOD_YEAR] = "year",
};
static const char *const ind_units[] = {
    [NRM_STAT_COUNT] = "count",
    [NRM_STAT_DURATION] = "seconds",
};

const char *
nrm_indicator_unit_name(enum nrm_stat_kind kind)
{
	return nrm_name_at(ind_units, NRM_ARRAY_LEN(ind_units), (int)kind);
}

const char *
nrm_indicator_frequency_name(enum nrm_stat_period_kind kind)
{
	return nrm_name_at(
	    ind_frequencies, NRM_ARRAY_LEN(ind_frequencies), (int)kind);
}

/* An id: lower_snake, a-z first, words of a-z 0-9 joined by one '_'. */
static bool
ind_id_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > NRM_IND_ID_MAX || s[0] < 'a' || s[0] > 'z' ||
	    s[n - 1] == '_')
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '_' && s[i + 1] == '_')
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '_'))
			return false;
	}
	return true;
}

/* "a, b, c" of names[0..n) (NULL entries and those not in mask skipped). */
static void
ind_list(
    char *buf, size_t size, const char *const *names, size_t n, uint32_t mask)
{
	size_t k, at = 0;

	buf[0] = '\0';
	for (k = 0; k < n && at < size; k++) {
		if (names[k] == NULL || (mask & (1u << k)) == 0)
			continue;
		at += (size_t)snprintf(
		    buf + at, size - at, "%s%s", at > 0 ? ", " : "", names[k]);
	}
}

/*
 * A text in both languages: {"nl": text, "en": text}, each 1..max bytes;
 * line breaks only where `lines` (not in a title).
 */
static void
ind_texts(struct nrm_diag *d, const char *path, const cJSON *v, size_t max,
    bool lines, char *out[NRM_IND_LANGS])
{
	const cJSON *f[NRM_IND_LANGS];
	char sub[NRM_JSON_PATH_MAX];
	int k;

	if (!cJSON_IsObject(v)) {
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
		    "must be an object {\"nl\": text, \"en\": text}");
		return;
	}
	nrm_diag_members(d, IND_F, path, v, ind_langs, NRM_IND_LANGS, 3u, f);
	for (k = 0; k < NRM_IND_LANGS; k++) {
		if (f[k] == NULL)
			continue;
		nrm_json_path(sub, path, ind_langs[k]);
		(void)nrm_diag_text_value(
		    d, IND_F, sub, f[k], max, lines, &out[k]);
	}
}

/* "measure": a name of statvocab. */
static void
ind_measure(struct nrm_diag *d, const char *path, const cJSON *v,
    struct nrm_indicator *it)
{
	char shown[NRM_DIAG_SHOWN_MAX + 4], names[512];
	size_t k, at = 0;

	if (!cJSON_IsString(v)) {
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
		    "must be the name of a measure");
		return;
	}
	it->measure = nrm_stat_measure_find(v->valuestring);
	if (it->measure != NULL)
		return;
	names[0] = '\0';
	for (k = 0; k < nrm_stat_measure_count && at < sizeof(names); k++)
		at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s",
		    k > 0 ? ", " : "", nrm_stat_measures[k].name);
	nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
	    "unknown measure \"%s\" (expected one of %s)",
	    nrm_diag_shown(v->valuestring, shown), names);
}

/* One dimension of "by" at `path`; its index or -1 (reported). */
static int
ind_dim(struct nrm_diag *d, const char *path, const cJSON *x,
    const struct nrm_indicator *it)
{
	char shown[NRM_DIAG_SHOWN_MAX + 4], names[512];
	int dim, k;

	if (!cJSON_IsString(x)) {
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
		    "must be the name of a dimension");
		return -1;
	}
	dim = nrm_stat_dim_find(x->valuestring);
	if (dim < 0) {
		ind_list(names, sizeof(names), nrm_stat_dim_names,
		    NRM_STAT_DIM__COUNT, ~0u);
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
		    "unknown dimension \"%s\" (expected one of %s)",
		    nrm_diag_shown(x->valuestring, shown), names);
		return -1;
	}
	for (k = 0; k < it->n_by; k++) {
		if (it->by[k] == dim) {
			nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
			    "duplicate dimension %s", x->valuestring);
			return -1;
		}
	}
	if (it->measure != NULL && !nrm_stat_measure_allows(it->measure, dim)) {
		ind_list(names, sizeof(names), nrm_stat_dim_names,
		    NRM_STAT_DIM__COUNT, it->measure->dims);
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
		    "measure %s cannot be broken down by %s (allowed: %s)",
		    it->measure->name, x->valuestring,
		    names[0] != '\0' ? names : "none");
		return -1;
	}
	return dim;
}

/* "by": at most NRM_STAT_BY_MAX distinct dimensions the measure allows. */
static void
ind_by(struct nrm_diag *d, const char *path, const cJSON *v,
    struct nrm_indicator *it)
{
	const cJSON *x;
	char sub[NRM_JSON_PATH_MAX];
	int i = 0, dim;

	if (!cJSON_IsArray(v)) {
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
		    "must be an array of dimension names");
		return;
	}
	if (cJSON_GetArraySize(v) > NRM_STAT_BY_MAX) {
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
		    "at most %d dimensions (%d given)", NRM_STAT_BY_MAX,
		    cJSON_GetArraySize(v));
		return;
	}
	cJSON_ArrayForEach (x, v) {
		nrm_json_path_index(sub, path, i++);
		dim = ind_dim(d, sub, x, it);
		if (dim >= 0)
			it->by[it->n_by++] = dim;
	}
	for (i = 0; i < it->n_by; i++)
		snprintf(it->by_text + strlen(it->by_text),
		    sizeof(it->by_text) - strlen(it->by_text), "%s%s",
		    i > 0 ? "," : "", nrm_stat_dim_names[it->by[i]]);
}

/* "unit": "count" or "seconds", the one that fits the measure's kind. */
static void
ind_unit(struct nrm_diag *d, const char *path, const cJSON *v,
    const struct nrm_indicator *it)
{
	const char *want;
	int k;

	k = cJSON_IsString(v) ? nrm_name_index(ind_units,
				    NRM_ARRAY_LEN(ind_units), v->valuestring)
			      : -1;
	if (k < 0) {
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
		    "must be \"count\" or \"seconds\"");
		return;
	}
	if (it->measure == NULL)
		return;
	want = nrm_indicator_unit_name(it->measure->kind);
	if (strcmp(want, v->valuestring) != 0)
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
		    "must be \"%s\" for the %s measure %s", want,
		    it->measure->kind == NRM_STAT_DURATION ? "duration"
							   : "count",
		    it->measure->name);
}

/* "when": {"frequency": month|quarter|year, "publish_days_after_close"}. */
static void
ind_when(struct nrm_diag *d, const char *path, const cJSON *v,
    struct nrm_indicator *it)
{
	static const char *const keys[] = {
	    "frequency", "publish_days_after_close"};
	const cJSON *f[2];
	char sub[NRM_JSON_PATH_MAX];
	double days;
	int k;

	if (!cJSON_IsObject(v)) {
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
		    "must be an object {\"frequency\": ..., "
		    "\"publish_days_after_close\": days}");
		return;
	}
	nrm_diag_members(d, IND_F, path, v, keys, 2, 3u, f);
	if (f[0] != NULL) {
		nrm_json_path(sub, path, keys[0]);
		k = cJSON_IsString(f[0])
		    ? nrm_name_index(ind_frequencies,
			  NRM_ARRAY_LEN(ind_frequencies), f[0]->valuestring)
		    : -1;
		if (k < 0)
			nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, sub,
			    "must be \"month\", \"quarter\" or \"year\"");
		else
			it->frequency = (enum nrm_stat_period_kind)k;
	}
	if (f[1] != NULL) {
		nrm_json_path(sub, path, keys[1]);
		days = f[1]->valuedouble;
		if (!cJSON_IsNumber(f[1]) || !(days >= 0) ||
		    days > NRM_IND_DAYS_MAX || days != (double)(int)days)
			nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, sub,
			    "must be a whole number of days from 0 to %d",
			    NRM_IND_DAYS_MAX);
		else
			it->publish_days = (int)days;
	}
}

/* "id": lower_snake. */
static void
ind_id(struct nrm_diag *d, const char *path, const cJSON *v,
    struct nrm_indicator *it)
{
	char shown[NRM_DIAG_SHOWN_MAX + 4];

	if (cJSON_IsString(v) && ind_id_ok(v->valuestring)) {
		snprintf(it->id, sizeof(it->id), "%s", v->valuestring);
		return;
	}
	nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
	    "%s%s%s is not an indicator id (lower_snake: a-z, then a-z, 0-9 "
	    "and single underscores, at most %d bytes)",
	    cJSON_IsString(v) ? "\"" : "",
	    cJSON_IsString(v) ? nrm_diag_shown(v->valuestring, shown) : "value",
	    cJSON_IsString(v) ? "\"" : "", NRM_IND_ID_MAX);
}

/* indicators[i]: every member (the measure before "by" and "unit"). */
static void
ind_entry(struct nrm_diag *d, int i, const cJSON *v, struct nrm_indicator *it)
{
	const cJSON *f[IND_K__COUNT];
	char path[NRM_JSON_PATH_MAX], sub[NRM_JSON_PATH_MAX];

	nrm_json_path_index(path, "indicators", i);
	if (!cJSON_IsObject(v)) {
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
		    "must be an object (an indicator)");
		return;
	}
	nrm_diag_members(
	    d, IND_F, path, v, ind_keys, IND_K__COUNT, IND_REQUIRED, f);
#define IND_SUB(k) (nrm_json_path(sub, path, ind_keys[k]), sub)
	if (f[IND_K_ID] != NULL)
		ind_id(d, IND_SUB(IND_K_ID), f[IND_K_ID], it);
	if (f[IND_K_TITLE] != NULL)
		ind_texts(d, IND_SUB(IND_K_TITLE), f[IND_K_TITLE],
		    NRM_IND_TITLE_MAX, false, it->title);
	if (f[IND_K_DEFINITION] != NULL)
		ind_texts(d, IND_SUB(IND_K_DEFINITION), f[IND_K_DEFINITION],
		    NRM_IND_TEXT_MAX, true, it->definition);
	if (f[IND_K_MEASURE] != NULL)
		ind_measure(d, IND_SUB(IND_K_MEASURE), f[IND_K_MEASURE], it);
	if (f[IND_K_BY] != NULL)
		ind_by(d, IND_SUB(IND_K_BY), f[IND_K_BY], it);
	if (f[IND_K_UNIT] != NULL)
		ind_unit(d, IND_SUB(IND_K_UNIT), f[IND_K_UNIT], it);
	if (f[IND_K_HOW] != NULL)
		ind_texts(d, IND_SUB(IND_K_HOW), f[IND_K_HOW], NRM_IND_TEXT_MAX,
		    true, it->how);
	if (f[IND_K_WHEN] != NULL)
		ind_when(d, IND_SUB(IND_K_WHEN), f[IND_K_WHEN], it);
	if (f[IND_K_BY_WHOM] != NULL)
		(void)nrm_diag_text_value(d, IND_F, IND_SUB(IND_K_BY_WHOM),
		    f[IND_K_BY_WHOM], NRM_IND_BODY_MAX, false, &it->by_whom);
	if (f[IND_K_GOAL] != NULL)
		ind_texts(d, IND_SUB(IND_K_GOAL), f[IND_K_GOAL],
		    NRM_IND_TEXT_MAX, true, it->goal);
#undef IND_SUB
}

/* Ids are unique: each repeat names the first entry that has it. */
static void
ind_unique_ids(struct nrm_diag *d, const struct nrm_indicators *r)
{
	char path[NRM_JSON_PATH_MAX];
	int i, k;

	for (i = 1; i < r->n; i++) {
		if (r->items[i].id[0] == '\0')
			continue;
		for (k = 0; k < i; k++) {
			if (strcmp(r->items[k].id, r->items[i].id) == 0)
				break;
		}
		if (k == i)
			continue;
		snprintf(path, sizeof(path), "indicators[%d].id", i);
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, path,
		    "duplicate id %s (also indicators[%d])", r->items[i].id, k);
	}
}

/* {"nl": ..., "en": ...} into o under `key`. */
static bool
ind_add_texts(cJSON *o, const char *key, char *const text[NRM_IND_LANGS])
{
	cJSON *t = cJSON_AddObjectToObject(o, key);

	return t != NULL &&
	    cJSON_AddStringToObject(t, "nl", text[NRM_IND_NL]) != NULL &&
	    cJSON_AddStringToObject(t, "en", text[NRM_IND_EN]) != NULL;
}

/* The entry as the API shows it, into it->json and onto `items`. */
static int
ind_render(struct nrm_indicator *it, cJSON *items)
{
	cJSON *o = cJSON_CreateObject(), *by = NULL, *when = NULL;
	bool ok = o != NULL;
	int k;

	ok = ok && cJSON_AddStringToObject(o, "id", it->id) != NULL &&
	    ind_add_texts(o, "title", it->title) &&
	    ind_add_texts(o, "definition", it->definition) &&
	    cJSON_AddStringToObject(o, "measure", it->measure->name) != NULL;
	if (ok)
		by = cJSON_AddArrayToObject(o, "by");
	ok = ok && by != NULL;
	for (k = 0; ok && k < it->n_by; k++)
		ok = cJSON_AddItemToArray(
		    by, cJSON_CreateString(nrm_stat_dim_names[it->by[k]]));
	ok = ok &&
	    cJSON_AddStringToObject(o, "unit",
		nrm_indicator_unit_name(it->measure->kind)) != NULL &&
	    ind_add_texts(o, "how", it->how);
	if (ok)
		when = cJSON_AddObjectToObject(o, "when");
	ok = ok && when != NULL &&
	    cJSON_AddStringToObject(when, "frequency",
		nrm_indicator_frequency_name(it->frequency)) != NULL &&
	    cJSON_AddNumberToObject(
		when, "publish_days_after_close", it->publish_days) != NULL &&
	    cJSON_AddStringToObject(o, "by_whom", it->by_whom) != NULL &&
	    ind_add_texts(o, "goal", it->goal);
	if (ok) {
		it->json = cJSON_PrintUnformatted(o);
		ok = it->json != NULL;
	}
	if (ok && cJSON_AddItemToArray(items, o))
		return NRM_OK;
	cJSON_Delete(o);
	return NRM_ERR;
}

/* The API's texts of a register that loaded without errors. */
static int
ind_render_all(struct nrm_indicators *r)
{
	cJSON *root = cJSON_CreateObject(), *items = NULL;
	int i;

	if (root != NULL)
		items = cJSON_AddArrayToObject(root, "items");
	if (items == NULL) {
		cJSON_Delete(root);
		return NRM_ERR;
	}
	for (i = 0; i < r->n; i++) {
		if (ind_render(&r->items[i], items) != NRM_OK) {
			cJSON_Delete(root);
			return NRM_ERR;
		}
	}
	r->list_json = nrm_json_print_take(root, true);
	return r->list_json != NULL ? NRM_OK : NRM_ERR;
}

/* The top level: {"description": text, "indicators": [...]}. */
static void
ind_parse(struct nrm_diag *d, const cJSON *root, struct nrm_indicators *r)
{
	static const char *const keys[] = {"description", "indicators"};
	const cJSON *f[2], *v;
	char *desc = NULL;
	int n, i = 0;

	if (!cJSON_IsObject(root)) {
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, NULL,
		    "must be a JSON object {\"indicators\": [...]}");
		return;
	}
	nrm_diag_members(d, IND_F, "", root, keys, 2, 2u, f);
	if (f[0] != NULL) {
		(void)nrm_diag_text_value(d, IND_F, "description", f[0],
		    NRM_IND_TEXT_MAX, true, &desc);
		free(desc);
	}
	if (f[1] == NULL)
		return;
	n = cJSON_IsArray(f[1]) ? cJSON_GetArraySize(f[1]) : -1;
	if (n < 1 || n > NRM_IND_MAX) {
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, "indicators",
		    "must be an array of 1 to %d indicators", NRM_IND_MAX);
		return;
	}
	r->items = calloc((size_t)n, sizeof(*r->items));
	if (r->items == NULL) {
		nrm_diag_add(d, NRM_DIAG_ERROR, IND_F, NULL, "out of memory");
		return;
	}
	r->n = n;
	cJSON_ArrayForEach (v, f[1]) {
		ind_entry(d, i, v, &r->items[i]);
		i++;
	}
	ind_unique_ids(d, r);
}

int
nrm_indicators_load(struct nrm_indicators **out, const char *text, size_t len,
    struct nrm_diag *diag)
{
	struct nrm_indicators *r;
	int errors = nrm_diag_errors(diag);
	cJSON *root;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		nrm_diag_add(
		    diag, NRM_DIAG_ERROR, IND_F, NULL, "out of memory");
		return NRM_ERR;
	}
	root = nrm_diag_parse_json(diag, IND_F, text, len);
	if (root != NULL)
		ind_parse(diag, root, r);
	cJSON_Delete(root);
	if (nrm_diag_errors(diag) == errors && ind_render_all(r) != NRM_OK)
		nrm_diag_add(
		    diag, NRM_DIAG_ERROR, IND_F, NULL, "out of memory");
	if (nrm_diag_errors(diag) > errors) {
		nrm_indicators_free(r);
		return NRM_ERR;
	}
	*out = r;
	return NRM_OK;
}

void
nrm_indicators_free(struct nrm_indicators *r)
{
	int i, k;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		struct nrm_indicator *it = &r->items[i];

		for (k = 0; k < NRM_IND_LANGS; k++) {
			free(it->title[k]);
			free(it->definition[k]);
			free(it->how[k]);
			free(it->goal[k]);
		}
		free(it->by_whom);
		free(it->json);
	}
	free(r->items);
	free(r->list_json);
	free(r);
}

int
nrm_indicators_count(const struct nrm_indicators *r)
{
	return r->n;
}

const struct nrm_indicator *
nrm_indicators_at(const struct nrm_indicators *r, int i)
{
	return i >= 0 && i < r->n ? &r->items[i] : NULL;
}

const struct nrm_indicator *
nrm_indicators_find(const struct nrm_indicators *r, const char *id)
{
	int i;

	if (id == NULL)
		return NULL;
	for (i = 0; i < r->n; i++) {
		if (strcmp(r->items[i].id, id) == 0)
			return &r->items[i];
	}
	return NULL;
}

const char *
nrm_indicators_list_json(const struct nrm_indicators *r)
{
	return r->list_json;
}
