/*
 * signal_bodies.h - what the two signal test programs (test_signal.c,
 * test_signal_codec.c) share: the real municipality map as fixture, a
 * fixed "now", the body builders and a full adult body.  Included after
 * <cmocka.h> and "unit.h".
 */
#ifndef NRM_SIGNAL_BODIES_H
#define NRM_SIGNAL_BODIES_H

#include "nrm/signal.h"

#define GEO_CSV_PATH "config/municipalities.csv"

/* 2026-11-29T12:00:00Z */
#define NOW 1795953600LL

/*
 * Body builders.  BODY() takes the JSON text of the four required
 * fields and `extra` (empty, or starting with a comma).
 */
#define O "\"2026-11-28T22:15:00+01:00\""
#define S "{}"
#define E "[\"sexual\"]"
#define C "\"given\""
#define BODY(obs, subj, expl, cons, extra) \
	"{\"observed_at\":" obs ",\"subject\":" subj ",\"exploitation\":" expl \
	",\"consent\":" cons extra "}"
#define WITH(extra) BODY(O, S, E, C, extra)
#define SUBJ(members) BODY(O, "{" members "}", E, C, "")
#define SUBJ_CONSENT(members, consent) \
	BODY(O, "{" members "}", E, "\"" consent "\"", "")

/* A full adult signal with consent: every field, all valid. */
#define FULL_ADULT \
	"{\"observed_at\":\"2026-11-28T22:15:00+01:00\"," \
	"\"location\":{\"municipality_code\":\"GM0363\"}," \
	"\"reporter_reference\":\"PL-2026-1234\"," \
	"\"subject\":{\"given_name\":\"Ada\",\"family_name\":\"Ok\"," \
	"\"birth_date\":\"1990-05-17\",\"age_estimate\":36," \
	"\"minor\":false,\"gender\":\"female\",\"nationality\":\"NG\"," \
	"\"languages\":[\"en\",\"yo\"],\"contact\":{\"phone\":" \
	"\"+31 (0)6-1234 5678\",\"address\":\"Damrak 1\\nAmsterdam\"}}," \
	"\"exploitation\":[\"sexual\",\"labour\"]," \
	"\"control_means\":[\"debt_bondage\",\"loverboy\"]," \
	"\"urgency\":{\"immediate_danger\":false,\"needs_shelter\":true}," \
	"\"consent\":\"given\",\"narrative\":\"Line one.\\r\\nLine two.\"}"

static struct nrm_geo *geo;
static struct nrm_signal_limits lim;

static int
setup(void **state)
{
	struct nrm_error err;
	size_t n = 0;
	char *buf = unit_read(GEO_CSV_PATH, &n);
	int rc;

	(void)state;
	if (buf == NULL) {
		print_error("could not open %s (run from the repo root)\n",
		    GEO_CSV_PATH);
		return -1;
	}
	rc = nrm_geo_parse_csv(&geo, buf, n, &err);
	free(buf);
	if (rc != NRM_OK) {
		print_error("geo: %s: %s\n", err.field, err.detail);
		return -1;
	}
	nrm_signal_limits_default(&lim);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nrm_geo_free(geo);
	return 0;
}

static int
parse(struct nrm_signal *s, const char *body, size_t len, struct nrm_error *err)
{
	return nrm_signal_parse(s, body, len, &lim, geo, NOW, err);
}

#endif /* NRM_SIGNAL_BODIES_H */
