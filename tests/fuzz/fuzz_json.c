/*
 * fuzz_json.c - libFuzzer target for the strict JSON reader
 * (nrm_json_parse, the member/text helpers, nrm_json_member_span and
 * nrm_json_element_spans):
 * any bytes must be
 * accepted or refused without a crash, a leak or undefined behaviour;
 * a refusal fills the error; an accepted text is valid UTF-8, and the
 * tree cJSON prints back from it is accepted again (no duplicate keys,
 * no "\u0000", nothing cJSON alone would let through).
 *
 *   make fuzz && build/fuzz/bin/fuzz_json -max_total_time=120
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nrm/json.h"
#include "nrm/utf8.h"

/* Walk every object with a fixed key list and every string as text. */
static void
fuzz_walk(const cJSON *v, const char *path, int depth)
{
	static const char *const keys[] = {"a", "reason", "k"};
	char sub[NRM_JSON_PATH_MAX];
	const cJSON *slot[3], *m;
	struct nrm_error err;
	char *text = NULL;
	bool b;
	int i = 0;

	fuzz_check(depth <= NRM_JSON_MAX_DEPTH);
	if (cJSON_IsObject(v)) {
		if (nrm_json_members(
			v, path, keys, 3, 1u, slot, NULL, NULL, &err) != 0)
			fuzz_check(err.code == NRM_E_VALIDATION);
	}
	if (nrm_json_text(v, path, 100, depth % 2 == 0, &text, &err) ==
		NRM_OK &&
	    text != NULL)
		fuzz_check(!nrm_json_blank(text) && strlen(text) <= 100);
	free(text);
	(void)nrm_json_bool(v, path, &b, &err);
	for (m = v->child; m != NULL; m = m->next, i++) {
		if (cJSON_IsObject(v))
			(void)nrm_json_path(sub, path, m->string);
		else
			nrm_json_path_index(sub, path, i);
		fuzz_walk(m, sub, depth + 1);
	}
}

/*
 * nrm_json_member_span over any bytes: a span it finds lies inside the
 * text and is itself one strict JSON value.
 */
static void
fuzz_span(const char *text, size_t size)
{
	static const char *const path[] = {"body", "items"};
	struct nrm_error err;
	cJSON *v = NULL;
	size_t s, e;

	for (int n = 1; n <= 2; n++) {
		if (nrm_json_member_span(text, size, path + 2 - n, n, &s, &e) !=
		    NRM_OK)
			continue;
		fuzz_check(s < e && e <= size);
		if (nrm_utf8_valid(text + s, e - s)) {
			fuzz_check(nrm_json_parse(&v, text + s, e - s, NULL,
				       &err) == NRM_OK ||
			    err.code == NRM_E_VALIDATION);
			cJSON_Delete(v);
			v = NULL;
		}
	}
}

/*
 * nrm_json_element_spans over any bytes: each element it finds lies
 * inside the text, after the one before, and is one strict JSON value;
 * when the text is valid UTF-8 the whole is an array nrm_json_parse
 * accepts with as many elements.
 */
static void
fuzz_elements(const char *text, size_t size)
{
	size_t starts[8], ends[8];
	struct nrm_error err;
	cJSON *v = NULL;
	int n = -1;

	if (nrm_json_element_spans(text, size, starts, ends, 8, &n) != NRM_OK)
		return;
	fuzz_check(n >= 0 && n <= 8);
	for (int i = 0; i < n; i++) {
		fuzz_check(starts[i] < ends[i] && ends[i] <= size);
		fuzz_check(i == 0 || starts[i] > ends[i - 1]);
	}
	if (!nrm_utf8_valid(text, size))
		return;
	if (nrm_json_parse(&v, text, size, NULL, &err) == NRM_OK) {
		fuzz_check(cJSON_IsArray(v) && cJSON_GetArraySize(v) == n);
	} else {
		/* the syntax is the array's: only a duplicate key or "\u0000" */
		fuzz_check(err.code == NRM_E_VALIDATION ||
		    err.code == NRM_E_MALFORMED);
	}
	cJSON_Delete(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nrm_error err;
	cJSON *root = NULL, *again = NULL;
	char *printed;
	size_t at = 0;

	nrm_error_clear(&err);
	fuzz_span((const char *)data, size);
	fuzz_elements((const char *)data, size);
	if (nrm_json_parse(&root, (const char *)data, size, &at, &err) !=
	    NRM_OK) {
		fuzz_check(root == NULL);
		fuzz_check(err.code == NRM_E_MALFORMED ||
		    err.code == NRM_E_VALIDATION || err.code == NRM_E_INTERNAL);
		fuzz_check(err.detail[0] != '\0');
		fuzz_check(err.code != NRM_E_MALFORMED || at <= size);
		return 0;
	}
	fuzz_check(root != NULL);
	fuzz_check(nrm_utf8_valid((const char *)data, size));
	fuzz_walk(root, "", 1);
	printed = cJSON_PrintUnformatted(root);
	if (printed != NULL) {
		fuzz_check(nrm_json_parse(&again, printed, strlen(printed),
			       NULL, &err) == NRM_OK);
		cJSON_Delete(again);
		free(printed);
	}
	cJSON_Delete(root);
	return 0;
}
