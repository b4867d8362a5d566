/*
 * statvocab.c - the statistics vocabulary: measures, dimensions and
 * periods (see statvocab.h for the table of what each allows).
 */
#include <stdio.h>
#include <string.h>

#include "nrm/statvocab.h"

#define D(x) (1u << NRM_STAT_DIM_##x)

/* Who reported and about whom: the signal's own facts. */
#define SV_SIGNAL \
	(D(REGION) | D(EXPLOITATION) | D(REPORTER_KIND) | D(MINOR) | \
	    D(AGE_BAND) | D(GENDER) | D(NATIONALITY_GROUP))
/* The coarse breakdown of events in a case's life. */
#define SV_CASE_EVENT \
	(D(REGION) | D(EXPLOITATION) | D(REPORTER_KIND) | D(MINOR) | \
	    D(PRIORITY))

const struct nrm_stat_measure nrm_stat_measures[] = {
    {"signals", NRM_STAT_COUNT, SV_SIGNAL, false},
    {"anonymous_notifications", NRM_STAT_COUNT, SV_SIGNAL & ~D(MINOR), false},
    {"cases", NRM_STAT_COUNT, SV_SIGNAL | D(PRIORITY), false},
    {"cases_taken_in_time", NRM_STAT_COUNT, SV_SIGNAL | D(PRIORITY), false},
    {"time_to_take", NRM_STAT_DURATION, SV_CASE_EVENT, false},
    {"escalations", NRM_STAT_COUNT, SV_CASE_EVENT, false},
    {"first_contact_escalations", NRM_STAT_COUNT, SV_CASE_EVENT, false},
    {"transfers", NRM_STAT_COUNT, SV_CASE_EVENT, false},
    {"closures", NRM_STAT_COUNT, SV_CASE_EVENT | D(REASON), false},
    {"identification_decisions", NRM_STAT_COUNT,
	D(REGION) | D(EXPLOITATION) | D(MINOR) | D(AGE_BAND) | D(GENDER) |
	    D(NATIONALITY_GROUP) | D(OUTCOME) | D(STAGE) | D(INVESTIGATION),
	false},
    {"time_initial_to_conclusive", NRM_STAT_DURATION,
	D(REGION) | D(EXPLOITATION) | D(MINOR) | D(OUTCOME), false},
    {"repeat_signals", NRM_STAT_COUNT,
	D(REGION) | D(EXPLOITATION) | D(REPORTER_KIND) | D(MINOR), false},
    {"notifications_became_case", NRM_STAT_COUNT, SV_SIGNAL & ~D(MINOR), false},
    {"emergency_reads", NRM_STAT_COUNT, D(REGION) | D(VERDICT), true},
    {"panel_decisions", NRM_STAT_COUNT,
	D(REGION) | D(EXPLOITATION) | D(MINOR) | D(OUTCOME) | D(MODEL) |
	    D(DISSENT),
	false},
    {"time_to_panel_decision", NRM_STAT_DURATION,
	D(REGION) | D(EXPLOITATION) | D(MINOR) | D(OUTCOME) | D(MODEL), false},
};
const size_t nrm_stat_measure_count = NRM_ARRAY_LEN(nrm_stat_measures);

const char *const nrm_stat_dim_names[NRM_STAT_DIM__COUNT] = {
    "region",
    "exploitation",
    "reporter_kind",
    "minor",
    "age_band",
    "gender",
    "nationality_group",
    "priority",
    "outcome",
    "reason",
    "stage",
    "verdict",
    "investigation",
    "model",
    "dissent",
};

const struct nrm_stat_measure *
nrm_stat_measure_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < nrm_stat_measure_count; i++)
		if (strcmp(nrm_stat_measures[i].name, name) == 0)
			return &nrm_stat_measures[i];
	return NULL;
}

int
nrm_stat_dim_find(const char *name)
{
	if (name == NULL)
		return -1;
	return nrm_name_index(nrm_stat_dim_names, NRM_STAT_DIM__COUNT, name);
}

bool
nrm_stat_measure_allows(const struct nrm_stat_measure *m, int dim)
{
	return m != NULL && dim >= 0 && dim < NRM_STAT_DIM__COUNT &&
	    (m->dims & (1u << dim)) != 0;
}

int
nrm_stat_by_parse(const struct nrm_stat_measure *m, const char *text,
    int dims[NRM_STAT_BY_MAX], int *n, struct nrm_error *err)
{
	char name[32];
	const char *p = text;

	*n = 0;
	if (text == NULL || *text == '\0')
		return NRM_OK;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		int d;

		if (*n == NRM_STAT_BY_MAX)
			return nrm_error_set(err, NRM_E_BAD_REQUEST, "by",
			    "at most %d dimensions", NRM_STAT_BY_MAX);
		if (len == 0 || len >= sizeof(name))
			return nrm_error_set(err, NRM_E_BAD_REQUEST, "by",
			    "must be one or two dimension names separated "
			    "by a comma");
		memcpy(name, p, len);
		name[len] = '\0';
		d = nrm_stat_dim_find(name);
		if (d < 0)
			return nrm_error_set(
			    err, NRM_E_BAD_REQUEST, "by", "unknown dimension");
		if (!nrm_stat_measure_allows(m, d))
			return nrm_error_set(err, NRM_E_BAD_REQUEST, "by",
			    "a dimension is not available for this measure");
		if (*n == 1 && dims[0] == d)
			return nrm_error_set(err, NRM_E_BAD_REQUEST, "by",
			    "a dimension is named twice");
		dims[(*n)++] = d;
		if (comma == NULL)
			return NRM_OK;
		p = comma + 1;
	}
}

/* The n decimal digits at s as a number, or -1 if one is not a digit. */
static int
sv_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
nrm_stat_period_parse(const char *text, struct nrm_stat_period *out)
{
	struct nrm_stat_period p = {NRM_STAT_PERIOD_YEAR, 0, 0};
	size_t len;

	if (text == NULL)
		return NRM_ERR;
	len = strlen(text);
	if (len != 4 && len != 7)
		return NRM_ERR;
	p.year = sv_digits(text, 4);
	if (p.year < 2000 || p.year > 9999)
		return NRM_ERR;
	if (len == 7) {
		if (text[4] != '-')
			return NRM_ERR;
		if (text[5] == 'Q') {
			p.kind = NRM_STAT_PERIOD_QUARTER;
			p.number = sv_digits(text + 6, 1);
			if (p.number < 1 || p.number > 4)
				return NRM_ERR;
		} else {
			p.kind = NRM_STAT_PERIOD_MONTH;
			p.number = sv_digits(text + 5, 2);
			if (p.number < 1 || p.number > 12)
				return NRM_ERR;
		}
	}
	*out = p;
	return NRM_OK;
}

int
nrm_stat_period_format(const struct nrm_stat_period *p, char *buf, size_t size)
{
	int len;

	if (p->year < 2000 || p->year > 9999)
		return NRM_ERR;
	switch (p->kind) {
	case NRM_STAT_PERIOD_MONTH:
		if (p->number < 1 || p->number > 12)
			return NRM_ERR;
		len = snprintf(buf, size, "%04d-%02d", p->year, p->number);
		break;
	case NRM_STAT_PERIOD_QUARTER:
		if (p->number < 1 || p->number > 4)
			return NRM_ERR;
		len = snprintf(buf, size, "%04d-Q%d", p->year, p->number);
		break;
	case NRM_STAT_PERIOD_YEAR:
		len = snprintf(buf, size, "%04d", p->year);
		break;
	default:
		return NRM_ERR;
	}
	return len > 0 && (size_t)len < size ? NRM_OK : NRM_ERR;
}
