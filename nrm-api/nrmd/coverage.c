/*
 * coverage.c - the live coverage nrmd keeps in memory (see coverage.h).
 */
#include "coverage.h"

#include <cjson/cJSON.h>
#include <limits.h>
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

/* A count >= 0 of the object o; -1 when not one. */
static int
coverage_count(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > INT_MAX || v->valuedouble != (int)v->valuedouble)
		return -1;
	return (int)v->valuedouble;
}

/*
 * The overdue counts of the array `a` into out: its length, 0 when a is
 * absent, -1 when not an array of {"region", "take", "first_contact"}.
 */
static int
coverage_overdue(const cJSON *a, struct nrm_coverage_overdue *out)
{
	const cJSON *o, *code;
	int n = 0;

	if (a == NULL)
		return 0;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > NRM_COVERAGE_MAX)
		return -1;
	cJSON_ArrayForEach (o, a) {
		code = cJSON_GetObjectItemCaseSensitive(o, "region");
		if (!cJSON_IsString(code) ||
		    strlen(code->valuestring) >= NRM_COVERAGE_CODE)
			return -1;
		strcpy(out[n].region, code->valuestring);
		out[n].take = coverage_count(o, "take");
		out[n].first_contact = coverage_count(o, "first_contact");
		if (out[n].take < 0 || out[n].first_contact < 0)
			return -1;
		n++;
	}
	return n;
}

int
nrm_coverage_take(
    struct nrm_coverage *c, const char *json, int64_t now, bool *changed)
{
	char unc[NRM_COVERAGE_MAX][NRM_COVERAGE_CODE];
	char uns[NRM_COVERAGE_MAX][NRM_COVERAGE_CODE];
	struct nrm_coverage_overdue od[NRM_COVERAGE_MAX];
	cJSON *o = json != NULL ? cJSON_Parse(json) : NULL;
	int nu, ns, no, rc = NRM_ERR;

	memset(unc, 0, sizeof(unc));
	memset(uns, 0, sizeof(uns));
	nu = coverage_codes(
	    cJSON_GetObjectItemCaseSensitive(o, "uncovered"), unc);
	ns = coverage_codes(
	    cJSON_GetObjectItemCaseSensitive(o, "unstaffed"), uns);
	no = coverage_overdue(
	    cJSON_GetObjectItemCaseSensitive(o, "overdue"), od);
	if (o == NULL || nu < 0 || ns < 0 || no < 0)
		goto out;
	*changed = !c->known || ns != c->n_unstaffed ||
	    memcmp(uns, c->unstaffed, sizeof(uns[0]) * (size_t)ns) != 0;
	memcpy(c->uncovered, unc, sizeof(unc[0]) * (size_t)nu);
	memcpy(c->unstaffed, uns, sizeof(uns[0]) * (size_t)ns);
	c->n_uncovered = nu;
	c->n_unstaffed = ns;
	memcpy(c->overdue, od, sizeof(od[0]) * (size_t)no);
	c->n_overdue = no;
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
