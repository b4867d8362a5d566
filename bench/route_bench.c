/*
 * route_bench.c - routing micro-benchmark (make bench-route): decisions
 * per second on one core for the default configuration in
 * config/routing/ and for a synthetic one built in memory with 10,000
 * municipalities, 100 regions (10 of them inactive, with fallbacks) and
 * 500 rules, both over the same realistic mix of signals; then the ratio
 * of the per-decision costs next to the ratio of the rule counts.
 *
 * Run from the repository root.  Single-threaded; each configuration
 * runs for BENCH_SECONDS of thread CPU time after a warm-up, in rounds,
 * and the best round counts (CPU time, so that other processes on the
 * machine do not distort the per-core figure).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nrm/route.h"

#define BENCH_SIGNALS 4096 /* a power of two */
#define BENCH_SECONDS 2.0 /* CPU seconds per configuration */
#define BENCH_ROUNDS 5
#define BENCH_DIR "config/routing"
#define BENCH_SYN_MUNIS 10000
#define BENCH_SYN_REGIONS 100
#define BENCH_SYN_RULES 500

/* A deterministic generator (xorshift64*). */
static uint64_t bench_state = 0x9E3779B97F4A7C15ull;

static uint32_t
bench_rand(void)
{
	bench_state ^= bench_state >> 12;
	bench_state ^= bench_state << 25;
	bench_state ^= bench_state >> 27;
	return (uint32_t)((bench_state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* True with probability pct percent. */
static bool
bench_pct(unsigned pct)
{
	return bench_rand() % 100 < pct;
}

/* Wall-clock seconds, for load times. */
static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * CPU seconds of this thread: the cost on one core, unaffected by other
 * processes sharing the machine (wall-clock rates would be).
 */
static double
bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A growing text, for the synthetic configuration. */
struct bench_buf {
	char *p;
	size_t n, cap;
};

static void bench_add(struct bench_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
bench_add(struct bench_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->n) {
			b->n += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)n + 1;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL) {
			fprintf(stderr, "route_bench: out of memory\n");
			exit(1);
		}
	}
}

static char *
bench_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (f == NULL) {
		fprintf(stderr,
		    "route_bench: could not open %s (run from the "
		    "repository root)\n",
		    path);
		exit(1);
	}
	buf = malloc(1 << 20);
	if (buf == NULL)
		exit(1);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static struct nrm_router *
bench_load(const struct nrm_routing_src *src, const char *what)
{
	struct nrm_router *r = NULL;
	struct nrm_diag d;
	double t0 = bench_now(), t1;

	nrm_diag_init(&d);
	if (nrm_router_load(&r, src, &d) != NRM_OK) {
		char *text = nrm_diag_text(&d);

		fprintf(stderr, "route_bench: %s refused:\n%s", what, text);
		exit(1);
	}
	t1 = bench_now();
	printf("%-10s loaded in %.1f ms: %d rules, %d municipalities, %d "
	       "regions, %d warnings\n",
	    what, (t1 - t0) * 1e3, nrm_router_n_rules(r),
	    nrm_geo_n_municipalities(nrm_router_geo(r)),
	    nrm_router_n_regions(r) - 1, nrm_diag_warnings(&d));
	nrm_diag_free(&d);
	return r;
}

/*
 * The synthetic configuration: municipalities GM0000..GM9999 spread
 * over regions R000..R099 (every tenth inactive, falling back to the
 * next region); 500 rules: 40 that hold anywhere (urgency, age, minors,
 * nationality, reporter kind, control means), 100 per-region rules,
 * 359 per-municipality rules and a catch-all.
 */
static struct nrm_router *
bench_synthetic(void)
{
	static const char *const expl[] = {"sexual", "labour", "criminal",
	    "begging", "forced_marriage", "illegal_adoption", "surrogacy",
	    "organ_removal", "other"};
	static const char *const kinds[] = {"police", "kmar",
	    "labour_inspectorate", "care_agency", "ngo", "municipality"};
	static const char *const ctrl[] = {"debt_bondage", "documents_withheld",
	    "threats", "isolation", "loverboy"};
	struct bench_buf regions = {malloc(1024), 0, 1024};
	struct bench_buf csv = {malloc(1024), 0, 1024};
	struct bench_buf rules = {malloc(1024), 0, 1024};
	struct nrm_routing_src src;
	struct nrm_router *r;
	int i, k;

	if (regions.p == NULL || csv.p == NULL || rules.p == NULL)
		exit(1);
	bench_add(&regions,
	    "{\"national\":{\"name\":\"National desk\",\"office\":{\"name\":"
	    "\"N\",\"contact\":\"0\"}},\"regions\":[");
	for (i = 0; i < BENCH_SYN_REGIONS; i++) {
		char fallback[16];

		if (i + 1 < BENCH_SYN_REGIONS)
			snprintf(fallback, sizeof(fallback), "R%03d", i + 1);
		else
			snprintf(fallback, sizeof(fallback), "NATIONAL");
		bench_add(&regions,
		    "%s{\"code\":\"R%03d\",\"name\":\"Region "
		    "%d\",\"active\":%s,"
		    "\"office\":{\"name\":\"Office %d\",\"contact\":\"+0 %d\"},"
		    "\"fallback\":\"%s\"}",
		    i > 0 ? "," : "", i, i, i % 10 == 3 ? "false" : "true", i,
		    i, fallback);
	}
	bench_add(&regions, "]}");
	bench_add(&csv,
	    "municipality_code,municipality_name,"
	    "safety_region_code,safety_region_name\n");
	for (i = 0; i < BENCH_SYN_MUNIS; i++)
		bench_add(&csv, "GM%04d,Gemeente %d,R%03d,Region %d\n", i, i,
		    i % BENCH_SYN_REGIONS, i % BENCH_SYN_REGIONS);

	bench_add(&rules, "{\"rules\":[");
#define BENCH_THEN(route, prio) \
	"\"then\":{\"route\":\"" route "\",\"priority\":\"" prio "\"," \
	"\"take_within\":\"PT4H\",\"first_contact_within\":\"P1D\"}}"
	/* 40 rules that hold anywhere. */
	for (i = 0; i < 40; i++) {
		bench_add(&rules, "{\"id\":\"global-%d\",\"when\":{", i);
		switch (i % 8) {
		case 0:
			bench_add(&rules,
			    "\"minor\":true,\"exploitation\":[\"%s\"]",
			    expl[i / 8 % 9]);
			break;
		case 1:
			bench_add(&rules,
			    "\"immediate_danger\":true,\"reporter_kind\":"
			    "[\"%s\"]",
			    kinds[i / 8 % 6]);
			break;
		case 2:
			bench_add(&rules, "\"nationality\":[\"Q%c\",\"X%c\"]",
			    'A' + i / 8, 'A' + i / 8);
			break;
		case 3:
			bench_add(&rules,
			    "\"age\":{\"min\":%d,\"max\":%d},\"gender\":"
			    "[\"male\"]",
			    70 + i / 8, 75 + i / 8);
			break;
		case 4:
			bench_add(&rules,
			    "\"control_means\":[\"%s\"],\"needs_shelter\":true",
			    ctrl[i / 8 % 5]);
			break;
		case 5:
			bench_add(&rules,
			    "\"reporter_kind\":[\"%s\"],\"exploitation\":"
			    "[\"%s\"],\"minor\":false",
			    kinds[(i / 8 + 2) % 6], expl[(i / 8 + 3) % 9]);
			break;
		case 6:
			bench_add(&rules,
			    "\"location_known\":false,\"exploitation\":[\"%"
			    "s\"]",
			    expl[i / 8 % 9]);
			break;
		default:
			bench_add(&rules,
			    "\"exploitation\":[\"%s\"],\"control_means\":"
			    "[\"%s\"],\"gender\":[\"non_binary\"]",
			    expl[i / 8 % 9], ctrl[(i / 8 + 1) % 5]);
			break;
		}
		bench_add(&rules, "}," BENCH_THEN("location", "urgent") ",");
	}
	/* 100 per-region rules, each sending a type to a partner region. */
	for (i = 0; i < 100; i++)
		bench_add(&rules,
		    "{\"id\":\"region-%d\",\"when\":{\"region\":[\"R%03d\"],"
		    "\"exploitation\":[\"%s\"]},\"then\":{\"route\":\"region\","
		    "\"region\":\"R%03d\",\"priority\":\"high\",\"take_"
		    "within\":"
		    "\"PT4H\",\"first_contact_within\":\"P1D\"}},",
		    i, i, expl[1 + i % 3], (i + 50) % BENCH_SYN_REGIONS);
	/* 359 per-municipality rules, 1 to 5 municipalities each. */
	for (i = 0; i < 359; i++) {
		int n = 1 + i % 5;

		bench_add(&rules,
		    "{\"id\":\"muni-%d\",\"when\":{"
		    "\"municipality\":[",
		    i);
		for (k = 0; k < n; k++)
			bench_add(&rules, "%s\"GM%04d\"", k > 0 ? "," : "",
			    (i * 27 + k * 2003) % BENCH_SYN_MUNIS);
		bench_add(&rules, "],\"needs_shelter\":%s},",
		    i % 2 ? "true" : "false");
		bench_add(&rules, BENCH_THEN("national", "high") ",");
	}
	bench_add(&rules,
	    "{\"id\":\"default\"," BENCH_THEN("location", "normal") "]}");
#undef BENCH_THEN
	src = (struct nrm_routing_src){
	    regions.p, regions.n, csv.p, csv.n, rules.p, rules.n, "synthetic"};
	r = bench_load(&src, "synthetic");
	free(regions.p);
	free(csv.p);
	free(rules.p);
	return r;
}

/*
 * The signal mix: 8% without a location; 15% minors; 5% in immediate
 * danger; 10% needing shelter; exploitation about as reported in the
 * Netherlands (sexual, labour, criminal first); reporters mostly police
 * and care; some control means, nationalities and birth dates.
 */
static void
bench_signals(const struct nrm_router *r, struct nrm_signal *sig,
    enum nrm_agency_kind *kind)
{
	static const uint32_t expl[] = {NRM_EXPL_SEXUAL, NRM_EXPL_SEXUAL,
	    NRM_EXPL_SEXUAL, NRM_EXPL_SEXUAL, NRM_EXPL_LABOUR, NRM_EXPL_LABOUR,
	    NRM_EXPL_LABOUR, NRM_EXPL_CRIMINAL, NRM_EXPL_CRIMINAL,
	    NRM_EXPL_BEGGING, NRM_EXPL_FORCED_MARRIAGE, NRM_EXPL_OTHER,
	    NRM_EXPL_SEXUAL | NRM_EXPL_CRIMINAL, NRM_EXPL_ORGAN_REMOVAL};
	static const enum nrm_agency_kind kinds[] = {NRM_AGENCY_POLICE,
	    NRM_AGENCY_POLICE, NRM_AGENCY_POLICE, NRM_AGENCY_POLICE,
	    NRM_AGENCY_KMAR, NRM_AGENCY_LABOUR_INSPECTORATE,
	    NRM_AGENCY_CARE_AGENCY, NRM_AGENCY_CARE_AGENCY, NRM_AGENCY_NGO,
	    NRM_AGENCY_MUNICIPALITY};
	static const char *const nats[] = {
	    "NL", "NL", "RO", "NG", "PL", "BG", "UA", "ER", "", ""};
	const struct nrm_geo *geo = nrm_router_geo(r);
	int n = nrm_geo_n_municipalities(geo), i;

	for (i = 0; i < BENCH_SIGNALS; i++) {
		struct nrm_signal *s = &sig[i];

		memset(s, 0, sizeof(*s));
		if (!bench_pct(8))
			snprintf(s->municipality, sizeof(s->municipality), "%s",
			    nrm_geo_municipality_at(
				geo, (int)(bench_rand() % (uint32_t)n))
				->code);
		s->observed_at = 1747735200 + (int64_t)(bench_rand() % 864000);
		s->subject.minor_flag = -1;
		s->subject.age_estimate = -1;
		if (bench_pct(60))
			s->subject.age_estimate = 14 + (int)(bench_rand() % 50);
		else if (bench_pct(50)) {
			s->subject.has_birth_date = true;
			s->subject.birth_date.year =
			    1960 + (int)(bench_rand() % 50);
			s->subject.birth_date.month =
			    1 + (int)(bench_rand() % 12);
			s->subject.birth_date.day =
			    1 + (int)(bench_rand() % 28);
		}
		s->minor = bench_pct(15);
		s->immediate_danger = bench_pct(5);
		s->needs_shelter = bench_pct(10);
		s->exploitation = expl[bench_rand() % 14];
		if (bench_pct(40))
			s->control = 1u << (bench_rand() % NRM_CTRL_COUNT);
		s->subject.gender = (enum nrm_gender)(bench_rand() % 6);
		snprintf(s->subject.nationality, sizeof(s->subject.nationality),
		    "%s", nats[bench_rand() % 10]);
		kind[i] = kinds[bench_rand() % 10];
	}
}

/*
 * Decisions per second of r over the mix, on one core: the best of
 * BENCH_ROUNDS rounds of thread CPU time; *ns the cost of one decision.
 */
static double
bench_run(const struct nrm_router *r, const char *what, double *ns)
{
	static struct nrm_signal sig[BENCH_SIGNALS];
	static enum nrm_agency_kind kind[BENCH_SIGNALS];
	struct nrm_decision d;
	uint64_t n = 0, total = 0, check = 0, i;
	double t0, t1, best = 0;
	int round;

	bench_signals(r, sig, kind);
	for (i = 0; i < 200000; i++) {
		nrm_route(r, &sig[i & (BENCH_SIGNALS - 1)],
		    kind[i & (BENCH_SIGNALS - 1)], &d);
		check += (uint8_t)d.region[2];
	}
	for (round = 0; round < BENCH_ROUNDS; round++) {
		n = 0;
		t0 = bench_cpu();
		do {
			for (i = 0; i < 100000; i++, n++) {
				nrm_route(r, &sig[n & (BENCH_SIGNALS - 1)],
				    kind[n & (BENCH_SIGNALS - 1)], &d);
				check += (uint8_t)d.region[2] +
				    (uint8_t)d.rule_id[0];
			}
			t1 = bench_cpu();
		} while (t1 - t0 < BENCH_SECONDS / BENCH_ROUNDS);
		if ((double)n / (t1 - t0) > best)
			best = (double)n / (t1 - t0);
		total += n;
	}
	*ns = 1e9 / best;
	printf("%-10s %12.0f decisions/s  %7.1f ns/decision  (best of %d "
	       "rounds, %llu decisions, check %llu)\n",
	    what, best, *ns, BENCH_ROUNDS, (unsigned long long)total,
	    (unsigned long long)check);
	return best;
}

int
main(void)
{
	struct nrm_routing_src src;
	struct nrm_router *dflt, *syn;
	size_t len[3];
	char *text[3];
	double ns_default, ns_syn, rate;
	int rules_default, rules_syn;

	text[0] = bench_read(BENCH_DIR "/regions.json", &len[0]);
	text[1] = bench_read(BENCH_DIR "/municipalities.csv", &len[1]);
	text[2] = bench_read(BENCH_DIR "/rules.json", &len[2]);
	src = (struct nrm_routing_src){
	    text[0], len[0], text[1], len[1], text[2], len[2], "default"};
	dflt = bench_load(&src, "default");
	syn = bench_synthetic();
	rules_default = nrm_router_n_rules(dflt);
	rules_syn = nrm_router_n_rules(syn);
	printf("\n");
	rate = bench_run(dflt, "default", &ns_default);
	bench_run(syn, "synthetic", &ns_syn);
	printf("\nper-decision cost synthetic / default: %.2fx "
	       "(rules %d / %d = %.1fx, municipalities %d / %d = %.1fx)\n",
	    ns_syn / ns_default, rules_syn, rules_default,
	    (double)rules_syn / rules_default,
	    nrm_geo_n_municipalities(nrm_router_geo(syn)),
	    nrm_geo_n_municipalities(nrm_router_geo(dflt)),
	    (double)nrm_geo_n_municipalities(nrm_router_geo(syn)) /
		nrm_geo_n_municipalities(nrm_router_geo(dflt)));
	printf("target > 1,000,000 decisions/s for the default: %s\n",
	    rate > 1e6 ? "met" : "NOT MET");
	nrm_router_free(dflt);
	nrm_router_free(syn);
	free(text[0]);
	free(text[1]);
	free(text[2]);
	return rate > 1e6 ? 0 : 1;
}
