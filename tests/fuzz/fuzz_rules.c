/*
 * fuzz_rules.c - libFuzzer target for nrm_router_load() over rules.json
 * text, with a fixed regions.json and municipality map (one inactive
 * region with a fallback, one without an office).  An input holding a
 * line "--" is split there: regions.json text before it, rules.json
 * after, so region parsing is fuzzed too.
 *
 * Any text must be accepted or refused without a crash, a leak or
 * undefined behaviour.  A refusal must carry errors; an accepted
 * configuration must route a spread of signals to existing regions with
 * sane deadlines, valid UTF-8 explanations and consistent hops, and
 * produce both reports.
 *
 *   make fuzz && build/fuzz/bin/fuzz_rules -max_total_time=60 CORPUS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "nrm/route.h"
#include "nrm/utf8.h"

static const char fz_regions[] =
    "{\"national\":{\"name\":\"National desk\",\"office\":{\"name\":\"N\","
    "\"contact\":\"0\"}},\"regions\":["
    "{\"code\":\"VR01\",\"name\":\"Groningen\",\"active\":true,\"office\":"
    "{\"name\":\"G\",\"contact\":\"1\"}},"
    "{\"code\":\"VR02\",\"name\":\"Frysl\xC3\xA2n\",\"active\":false,"
    "\"office\":{\"name\":\"F\",\"contact\":\"2\"},\"fallback\":\"VR01\"},"
    "{\"code\":\"VR03\",\"name\":\"Drenthe\",\"active\":false,"
    "\"fallback\":\"VR02\"},"
    "{\"code\":\"VR13\",\"name\":\"Amsterdam-Amstelland\",\"active\":true,"
    "\"office\":{\"name\":\"A\",\"contact\":\"13\"}}]}";

static const char fz_csv[] =
    "municipality_code,municipality_name,safety_region_code,"
    "safety_region_name\n"
    "GM0014,Groningen,VR01,Groningen\nGM0080,Leeuwarden,VR02,"
    "Frysl\xC3\xA2n\nGM0106,Assen,VR03,Drenthe\nGM0363,Amsterdam,VR13,"
    "Amsterdam-Amstelland\nGM0362,Amstelveen,VR13,Amsterdam-Amstelland\n";

/* A spread of signal facts, varied by i. */
static void
fz_signal(struct nrm_signal *s, unsigned i)
{
	static const char *const codes[] = {
	    "GM0014", "GM0080", "GM0106", "GM0363", "GM0362", "", "GM9999"};
	static const char *const nats[] = {"", "NL", "NG", "RO", "ZZ"};

	memset(s, 0, sizeof(*s));
	snprintf(s->municipality, sizeof(s->municipality), "%s", codes[i % 7]);
	s->observed_at = 1747735200 + (int64_t)i * 86400;
	s->minor = (i / 7) % 2;
	s->immediate_danger = (i / 3) % 2;
	s->needs_shelter = (i / 5) % 2;
	s->exploitation = 1u << (i % NRM_EXPL_COUNT);
	s->exploitation |= (i % 4 == 0) ? NRM_EXPL_LABOUR : 0;
	s->control = (i % 3 == 0) ? 0 : 1u << (i % NRM_CTRL_COUNT);
	s->subject.gender = (enum nrm_gender)(i % 6);
	snprintf(s->subject.nationality, sizeof(s->subject.nationality), "%s",
	    nats[i % 5]);
	s->subject.age_estimate = (i % 11 == 0) ? -1 : (int)(i * 7 % 121);
	s->subject.minor_flag = -1;
	if (i % 13 == 0) {
		s->subject.has_birth_date = true;
		s->subject.birth_date.year = 2000 + (int)(i % 20);
		s->subject.birth_date.month = 1 + (int)(i % 12);
		s->subject.birth_date.day = 1 + (int)(i % 28);
	}
}

static void
fz_routes(const struct nrm_router *r)
{
	unsigned i;
	int k;

	for (i = 0; i < 64; i++) {
		struct nrm_signal s;
		struct nrm_decision d;
		const struct nrm_routing_region *g;
		size_t n;
		char *json;

		fz_signal(&s, i);
		nrm_route(r, &s, (enum nrm_agency_kind)(i % 10), &d);
		g = nrm_router_region(r, d.region);
		fuzz_check(g != NULL && g->active);
		fuzz_check(d.rule_id[0] != '\0');
		fuzz_check(d.take_within > 0 && d.first_contact_within > 0);
		fuzz_check(nrm_priority_name(d.priority) != NULL);
		fuzz_check(
		    d.n_labels >= 0 && d.n_labels <= NRM_ROUTE_LABELS_MAX);
		fuzz_check(d.n_hops >= 0 && d.n_hops <= NRM_ROUTE_HOPS_MAX);
		fuzz_check(d.n_hops != 1);
		if (d.n_hops > 0)
			fuzz_check(strcmp(d.hops[d.n_hops - 1], d.region) == 0);
		for (k = 0; k + 1 < d.n_hops; k++) {
			g = nrm_router_region(r, d.hops[k]);
			fuzz_check(g != NULL && !g->active);
		}
		n = strnlen(d.explanation, sizeof(d.explanation));
		fuzz_check(n < sizeof(d.explanation));
		fuzz_check(nrm_utf8_valid(d.explanation, n));
		fuzz_check(strncmp(d.explanation, "rule ", 5) == 0);
		json = nrm_decision_json(&d);
		fuzz_check(json != NULL);
		free(json);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nrm_routing_src src = {fz_regions, sizeof(fz_regions) - 1,
	    fz_csv, sizeof(fz_csv) - 1, (const char *)data, size, "fuzz"};
	struct nrm_router *r = NULL;
	struct nrm_diag d;
	const uint8_t *sep = NULL;
	size_t i;

	for (i = 0; i + 4 <= size; i++) {
		if (memcmp(data + i, "\n--\n", 4) == 0) {
			sep = data + i;
			break;
		}
	}
	if (sep != NULL) {
		src.regions_json = (const char *)data;
		src.regions_len = (size_t)(sep - data);
		src.rules_json = (const char *)sep + 4;
		src.rules_len = size - src.regions_len - 4;
	}
	nrm_diag_init(&d);
	if (nrm_router_load(&r, &src, &d) != NRM_OK) {
		fuzz_check(r == NULL);
		fuzz_check(nrm_diag_errors(&d) > 0);
	} else {
		fuzz_check(r != NULL);
		fuzz_check(nrm_diag_errors(&d) == 0);
		fuzz_check(nrm_router_n_rules(r) >= 1);
		fuzz_check(nrm_router_n_warnings(r) == nrm_diag_warnings(&d) ||
		    d.n_dropped > 0);
		fz_routes(r);
		fuzz_check_made(nrm_router_coverage_json(r));
		fuzz_check_made(nrm_router_coverage_text(r));
		nrm_router_free(r);
	}
	fuzz_check_diag(&d);
	return 0;
}
