/*
 * coverage.c - the live coverage nrmd keeps in memory (see coverage.h).
 */
#include "coverage.h"

#include <cjson/cJSON.h>
#include <string.h>

/* The codes of the array `a` into out; -1 when not an array of codes. */
static int
coverage_codes(const cJSON *a, char out[][NRM_COVERAGE_CODE])
{
	const cJSON *v;
	int n = 0;

	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > NRM_COVERAGE_MAX)
		return -1;
	cJSON_ArrayForEach (v, a) {
		if (!cJSON_IsString(v) ||
		    strlen(v->valuestring) >= NRM_COVERAGE_CODE)
			return -1;
		strcpy(out[n++], v->valuestring);
	}
	return n;
}

int
nrm_coverage_take(
    struct nrm_coverage *c, const char *json, int64_t now, bool *changed)
{
	char unc[NRM_COVERAGE_MAX][NRM_COVERAGE_CODE];
	char uns[NRM_COVERAGE_MAX][NRM_COVERAGE_CODE];
	cJSON *o = json != NULL ? cJSON_Parse(json) : NULL;
	int nu, ns, rc = NRM_ERR;

	memset(unc, 0, sizeof(unc));
	memset(uns, 0, sizeof(uns));
	nu = coverage_codes(
	    cJSON_GetObjectItemCaseSensitive(o, "uncovered"), unc);
	ns = coverage_codes(
	    cJSON_GetObjectItemCaseSensitive(o, "unstaffed"), uns);
	if (o == NULL || nu < 0 || ns < 0)
		goto out;
	*changed = !c->known || ns != c->n_unstaffed ||
	    memcmp(uns, c->unstaffed, sizeof(uns[0]) * (size_t)ns) != 0;
	memcpy(c->uncovered, unc, sizeof(unc[0]) * (size_t)nu);
	memcpy(c->unstaffed, uns, sizeof(uns[0]) * (size_t)ns);
	c->n_uncovered = nu;
	c->n_unstaffed = ns;
	c->refreshed_at = now;
	c->known = true;
	rc = NRM_OK;
out:
	cJSON_Delete(o);
	return rc;
}

bool
nrm_coverage_uncovered(const struct nrm_coverage *c, const char *region)
{
	for (int i = 0; c->known && i < c->n_uncovered; i++)
		if (strcmp(c->uncovered[i], region) == 0)
			return true;
	return false;
}
