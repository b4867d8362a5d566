/*
 * fuzz_indicators.c - libFuzzer target for nrm_indicators_load() over
 * indicators.json text (seed: tests/fuzz/corpus/indicators/).
 *
 * Any text must be accepted or refused without a crash, a leak or
 * undefined behaviour.  A refusal must carry errors and no register; an
 * accepted register must hold 1..NRM_IND_MAX indicators with unique
 * lower_snake ids, a known measure, at most NRM_STAT_BY_MAX distinct
 * dimensions the measure allows, both languages of every text, and a
 * list body that parses back with one item per indicator.
 *
 *   make fuzz && build/fuzz/bin/fuzz_indicators -max_total_time=60 \
 *       tests/fuzz/corpus/indicators
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "nrm/indicators.h"
#include "nrm/utf8.h"

static void
fz_check_entry(const struct nrm_indicators *r, int i)
{
	const struct nrm_indicator *it = nrm_indicators_at(r, i);
	int k, j;

	fuzz_check(it != NULL && it->id[0] >= 'a' && it->id[0] <= 'z');
	fuzz_check(nrm_indicators_find(r, it->id) == it);
	fuzz_check(it->measure != NULL);
	fuzz_check(it->n_by >= 0 && it->n_by <= NRM_STAT_BY_MAX);
	for (k = 0; k < it->n_by; k++) {
		fuzz_check(nrm_stat_measure_allows(it->measure, it->by[k]));
		for (j = 0; j < k; j++)
			fuzz_check(it->by[j] != it->by[k]);
	}
	for (k = 0; k < NRM_IND_LANGS; k++)
		fuzz_check(it->title[k] != NULL && it->definition[k] != NULL &&
		    it->how[k] != NULL && it->goal[k] != NULL);
	fuzz_check(it->by_whom != NULL && it->json != NULL);
	fuzz_check(nrm_utf8_valid(it->json, strlen(it->json)));
	fuzz_check(nrm_indicator_frequency_name(it->frequency) != NULL);
	fuzz_check(
	    it->publish_days >= 0 && it->publish_days <= NRM_IND_DAYS_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nrm_indicators *r = NULL;
	struct nrm_diag d;
	cJSON *list;
	int i, n;

	nrm_diag_init(&d);
	if (nrm_indicators_load(&r, (const char *)data, size, &d) != NRM_OK) {
		fuzz_check(r == NULL);
		fuzz_check(nrm_diag_errors(&d) > 0);
	} else {
		fuzz_check(r != NULL && nrm_diag_errors(&d) == 0);
		n = nrm_indicators_count(r);
		fuzz_check(n >= 1 && n <= NRM_IND_MAX);
		for (i = 0; i < n; i++)
			fz_check_entry(r, i);
		list = cJSON_Parse(nrm_indicators_list_json(r));
		fuzz_check(list != NULL);
		fuzz_check(cJSON_GetArraySize(
			       cJSON_GetObjectItem(list, "items")) == n);
		cJSON_Delete(list);
		nrm_indicators_free(r);
	}
	fuzz_check_diag(&d);
	return 0;
}
