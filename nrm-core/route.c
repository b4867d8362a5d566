/*
 * route.c - the foundation router (see route.h): municipality to its
 * safety region, the national desk when the location is unknown;
 * priority from urgency and age; fixed deadlines per priority.
 */
#include "route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "utf8.h"

#define ROUTE_RULESET "foundation-1"
#define ROUTE_HOUR 3600

struct nrm_router {
	const struct nrm_geo *geo;
};

/* Deadlines per priority, in seconds: take, first contact. */
static const int64_t route_deadlines[][2] = {
    [NRM_PRIO_URGENT] = {1 * ROUTE_HOUR, 4 * ROUTE_HOUR},
    [NRM_PRIO_HIGH] = {4 * ROUTE_HOUR, 24 * ROUTE_HOUR},
    [NRM_PRIO_NORMAL] = {24 * ROUTE_HOUR, 72 * ROUTE_HOUR},
};

static const char *const route_prio_names[] = {
    [NRM_PRIO_URGENT] = "urgent",
    [NRM_PRIO_HIGH] = "high",
    [NRM_PRIO_NORMAL] = "normal",
};

int
nrm_router_new_foundation(
    struct nrm_router **out, const struct nrm_geo *geo, struct nrm_error *err)
{
	struct nrm_router *r;

	*out = NULL;
	if (geo == NULL)
		return nrm_error_set(
		    err, NRM_E_INTERNAL, "", "router needs a municipality map");
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return nrm_error_set(err, NRM_E_INTERNAL, "", "out of memory");
	r->geo = geo;
	*out = r;
	return NRM_OK;
}

void
nrm_router_free(struct nrm_router *r)
{
	free(r);
}

const char *
nrm_priority_name(enum nrm_priority p)
{
	if ((int)p < 0 || (size_t)p >= NRM_ARRAY_LEN(route_prio_names))
		return NULL;
	return route_prio_names[p];
}

/*
 * Region, then priority, then deadlines and the explanation.  The
 * explanation holds codes and reference names only (municipality and
 * region names from the map), never anything from the subject.  A
 * municipality missing from the map (only possible when the signal was
 * parsed against another map) goes to the national desk.
 */
void
nrm_route(const struct nrm_router *r, const struct nrm_signal *s,
    struct nrm_decision *out)
{
	const struct nrm_municipality *m = NULL;
	const char *why;
	char where[320];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (s->municipality[0] != '\0')
		m = nrm_geo_municipality(r->geo, s->municipality);
	if (m != NULL) {
		snprintf(
		    out->region, sizeof(out->region), "%s", m->region->code);
		snprintf(out->rule_id, sizeof(out->rule_id), "%s",
		    "foundation.municipality");
		snprintf(where, sizeof(where),
		    "municipality %s (%s) is in region %s (%s)", m->code,
		    m->name, m->region->code, m->region->name);
	} else {
		snprintf(out->region, sizeof(out->region), "%s",
		    NRM_REGION_NATIONAL);
		snprintf(out->rule_id, sizeof(out->rule_id), "%s",
		    "foundation.national");
		if (s->municipality[0] == '\0')
			snprintf(where, sizeof(where),
			    "location unknown: national desk");
		else
			snprintf(where, sizeof(where),
			    "municipality %s is not in the map: national desk",
			    s->municipality);
	}
	snprintf(out->ruleset_version, sizeof(out->ruleset_version), "%s",
	    ROUTE_RULESET);

	if (s->immediate_danger && s->minor) {
		out->priority = NRM_PRIO_URGENT;
		why = "immediate danger and subject is a minor";
	} else if (s->immediate_danger) {
		out->priority = NRM_PRIO_URGENT;
		why = "immediate danger";
	} else if (s->minor) {
		out->priority = NRM_PRIO_URGENT;
		why = "subject is a minor";
	} else if (s->needs_shelter) {
		out->priority = NRM_PRIO_HIGH;
		why = "needs shelter";
	} else {
		out->priority = NRM_PRIO_NORMAL;
		why = "no urgency indicated";
	}
	out->take_within = route_deadlines[out->priority][0];
	out->first_contact_within = route_deadlines[out->priority][1];

	/* Cut the place part at a character boundary so the reason fits. */
	n = nrm_utf8_trim(where,
	    strnlen(where,
		sizeof(out->explanation) - sizeof("; priority urgent: ") -
		    strlen(why)));
	snprintf(out->explanation, sizeof(out->explanation),
	    "%.*s; priority %s: %s", (int)n, where,
	    nrm_priority_name(out->priority), why);
}

char *
nrm_decision_json(const struct nrm_decision *d)
{
	cJSON *o = cJSON_CreateObject();
	const char *prio = nrm_priority_name(d->priority);
	char *text = NULL;
	bool ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "region", d->region) != NULL;
	ok = ok &&
	    cJSON_AddStringToObject(o, "priority", prio != NULL ? prio : "") !=
		NULL;
	ok = ok && cJSON_AddStringToObject(o, "rule_id", d->rule_id) != NULL;
	ok = ok &&
	    cJSON_AddStringToObject(o, "ruleset_version", d->ruleset_version) !=
		NULL;
	ok = ok &&
	    cJSON_AddNumberToObject(o, "take_within", (double)d->take_within) !=
		NULL;
	ok = ok &&
	    cJSON_AddNumberToObject(o, "first_contact_within",
		(double)d->first_contact_within) != NULL;
	ok = ok &&
	    cJSON_AddStringToObject(o, "explanation", d->explanation) != NULL;
	if (ok)
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}
