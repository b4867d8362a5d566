/*
 * fuzz_signal.c - libFuzzer target for nrm_signal_parse(): any input must
 * be accepted or refused without a crash, a leak or undefined behaviour,
 * and what is accepted must encode, route and keep its invariants.
 *
 *   make fuzz && build/fuzz/bin/fuzz_signal -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "nrm/route.h"
#include "nrm/signal.h"
#include "nrm/utf8.h"

/* 2026-11-29T12:00:00Z */
#define FUZZ_NOW 1795953600LL

static const char fuzz_csv[] =
    "municipality_code,municipality_name,safety_region_code,"
    "safety_region_name\n"
    "GM0014,Groningen,VR01,Groningen\n"
    "GM0080,Leeuwarden,VR02,Frysl\xC3\xA2n\n"
    "GM0363,Amsterdam,VR13,Amsterdam-Amstelland\n"
    "GM0599,Rotterdam,VR17,Rotterdam-Rijnmond\n"
    "GM0820,\"Nuenen, Gerwen en Nederwetten\",VR22,Brabant-Zuidoost\n";

/* A routing configuration over that map: minors urgent, else location. */
static const char fuzz_regions[] =
    "{\"national\":{\"name\":\"N\",\"office\":{\"name\":\"N\","
    "\"contact\":\"0\"}},\"regions\":["
    "{\"code\":\"VR01\",\"name\":\"Groningen\",\"active\":true,"
    "\"office\":{\"name\":\"o\",\"contact\":\"1\"}},"
    "{\"code\":\"VR02\",\"name\":\"Frysl\xC3\xA2n\",\"active\":false,"
    "\"office\":{\"name\":\"o\",\"contact\":\"2\"}},"
    "{\"code\":\"VR13\",\"name\":\"Amsterdam-Amstelland\",\"active\":"
    "true,\"office\":{\"name\":\"o\",\"contact\":\"13\"}},"
    "{\"code\":\"VR17\",\"name\":\"Rotterdam-Rijnmond\",\"active\":true,"
    "\"office\":{\"name\":\"o\",\"contact\":\"17\"}},"
    "{\"code\":\"VR22\",\"name\":\"Brabant-Zuidoost\",\"active\":true,"
    "\"office\":{\"name\":\"o\",\"contact\":\"22\"}}]}";
static const char fuzz_rules[] =
    "{\"rules\":[{\"id\":\"minor\",\"when\":{\"minor\":true},\"then\":"
    "{\"route\":\"location\",\"priority\":\"urgent\",\"take_within\":"
    "\"PT1H\",\"first_contact_within\":\"PT4H\"}},{\"id\":\"default\","
    "\"then\":{\"route\":\"location\",\"priority\":\"normal\","
    "\"take_within\":\"P1D\",\"first_contact_within\":\"P3D\"}}]}";

static const struct nrm_geo *fuzz_geo;
static struct nrm_router *fuzz_router;
static struct nrm_signal_limits fuzz_lim;

/* A non-NULL encoding that is valid UTF-8 and valid JSON. */
static void
fuzz_check_json(char *text)
{
	cJSON *root;

	fuzz_check(text != NULL);
	fuzz_check(nrm_utf8_valid(text, strlen(text)));
	root = cJSON_Parse(text);
	fuzz_check(root != NULL);
	cJSON_Delete(root);
	free(text);
}

static void
fuzz_init(void)
{
	struct nrm_routing_src src = {fuzz_regions, sizeof(fuzz_regions) - 1,
	    fuzz_csv, sizeof(fuzz_csv) - 1, fuzz_rules, sizeof(fuzz_rules) - 1,
	    "fuzz"};
	struct nrm_diag diag;

	nrm_diag_init(&diag);
	if (nrm_router_load(&fuzz_router, &src, &diag) != NRM_OK)
		abort();
	nrm_diag_free(&diag);
	fuzz_geo = nrm_router_geo(fuzz_router);
	nrm_signal_limits_default(&fuzz_lim);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nrm_signal s;
	struct nrm_error err;
	struct nrm_decision d;
	char pin[1024];
	char *subject;

	if (fuzz_geo == NULL)
		fuzz_init();
	if (nrm_signal_parse(&s, (const char *)data, size, &fuzz_lim, fuzz_geo,
		FUZZ_NOW, &err) != NRM_OK) {
		fuzz_check(err.code == NRM_E_MALFORMED ||
		    err.code == NRM_E_VALIDATION);
		fuzz_check(err.detail[0] != '\0');
		fuzz_check(nrm_utf8_valid(err.field, strlen(err.field)));
		fuzz_check(s.subject.given_name == NULL && s.narrative == NULL);
		return 0;
	}
	fuzz_check(s.exploitation != 0);
	fuzz_check(s.observed_at <= FUZZ_NOW + fuzz_lim.clock_skew);
	fuzz_check(!(s.notification_only && s.minor));
	if (s.notification_only)
		fuzz_check(s.subject.given_name == NULL &&
		    s.subject.family_name == NULL &&
		    !s.subject.has_birth_date && s.subject.phone == NULL &&
		    s.subject.address == NULL && s.narrative == NULL);
	if (s.consent == NRM_CONSENT_NOT_REQUIRED_MINOR)
		fuzz_check(s.minor);

	fuzz_check_json(nrm_signal_facts_json(&s));
	fuzz_check_json(nrm_signal_canonical_json(&s));
	subject = nrm_signal_subject_json(&s);
	fuzz_check(subject != NULL);
	fuzz_check(!s.notification_only || strcmp(subject, "null") == 0);
	fuzz_check_json(subject);
	if (nrm_signal_pseudonym_input(&s, pin, sizeof(pin)) > 0)
		fuzz_check(nrm_utf8_valid(pin, strlen(pin)));

	nrm_route(fuzz_router, &s, NRM_AGENCY_POLICE, &d);
	fuzz_check(d.take_within > 0 && d.first_contact_within > 0);
	fuzz_check(nrm_utf8_valid(d.explanation, strlen(d.explanation)));
	fuzz_check(s.municipality[0] != '\0' ||
	    strcmp(d.region, NRM_REGION_NATIONAL) == 0);
	fuzz_check_json(nrm_decision_json(&d));
	nrm_signal_free(&s);
	return 0;
}
