/*
 * fuzz_geo.c - libFuzzer target for nrm_geo_parse_csv(): any text must
 * be accepted or refused without a crash, a leak or undefined behaviour,
 * and an accepted map must be consistent.
 *
 *   make fuzz && build/fuzz/bin/fuzz_geo -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nrm/geo.h"
#include "nrm/utf8.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nrm_geo *geo = NULL;
	struct nrm_error err;
	int i, sum = 0, n_regions;

	if (nrm_geo_parse_csv(&geo, (const char *)data, size, &err) != NRM_OK) {
		fuzz_check(geo == NULL);
		fuzz_check(err.detail[0] != '\0');
		fuzz_check(strncmp(err.field, "line ", 5) == 0 ||
		    err.code == NRM_E_INTERNAL);
		return 0;
	}
	n_regions = nrm_geo_n_regions(geo);
	fuzz_check(n_regions >= 2);
	fuzz_check(nrm_geo_n_municipalities(geo) >= 1);
	for (i = 0; i < n_regions; i++) {
		const struct nrm_region *r = nrm_geo_region_at(geo, i);

		fuzz_check(nrm_geo_region(geo, r->code) == r);
		fuzz_check(nrm_utf8_valid(r->name, strlen(r->name)));
		sum += r->n_municipalities;
	}
	fuzz_check(strcmp(nrm_geo_region_at(geo, n_regions - 1)->code,
		       NRM_REGION_NATIONAL) == 0);
	fuzz_check(sum == nrm_geo_n_municipalities(geo));
	for (i = 0; i < nrm_geo_n_municipalities(geo); i++) {
		const struct nrm_municipality *m =
		    nrm_geo_municipality_at(geo, i);

		fuzz_check(nrm_geo_municipality(geo, m->code) == m);
		fuzz_check(nrm_geo_region(geo, m->region->code) == m->region);
		fuzz_check(m->name[0] != '\0');
	}
	nrm_geo_free(geo);
	return 0;
}
