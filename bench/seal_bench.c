/*
 * seal_bench.c - what sealing personal data costs nrmd (make
 * bench-seal, docs/data-protection.md): the CPU time of the crypto an
 * intake adds (a fresh data key, its wrap under the KEK, seven values
 * sealed and base64-encoded) and of the crypto a case read adds (one
 * unwrap, seven values decoded and opened), with the sizes of a typical
 * signal.  One core, thread CPU time, the best of BENCH_ROUNDS rounds.
 * The JSON re-parse and re-print around it is not counted here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fieldcrypt.h"

#define BENCH_ITERS 20000
#define BENCH_ROUNDS 5
#define BENCH_FIELDS 7
#define BENCH_AAD "care.subject/narrative/0b0f5c9e-1d2a-4c53-9a61-7f2e8d3b4a10"

static double
bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A typical signal: reference, names, birth date, phone, address and
 * a narrative of 600 bytes. */
static char bench_values[BENCH_FIELDS][640];

static void
bench_fill(void)
{
	static const size_t len[BENCH_FIELDS] = {12, 8, 14, 10, 15, 40, 600};

	for (int i = 0; i < BENCH_FIELDS; i++) {
		memset(bench_values[i], 'a' + i, len[i]);
		bench_values[i][len[i]] = '\0';
	}
}

/* One intake's crypto; the sealed values (base64) into out[]. */
static int
bench_seal(const struct nrm_kek *kek, char *out[BENCH_FIELDS],
    unsigned char w[NRM_FC_WRAPPED_LEN], struct nrm_data_key *dk)
{
	if (nrm_data_key_new(dk) != NRM_OK ||
	    nrm_data_key_wrap(kek, dk, w) != NRM_OK)
		return NRM_ERR;
	for (int i = 0; i < BENCH_FIELDS; i++) {
		out[i] = nrm_field_seal_b64(dk, BENCH_AAD, bench_values[i]);
		if (out[i] == NULL)
			return NRM_ERR;
	}
	return NRM_OK;
}

/* One case read's crypto. */
static int
bench_open(const struct nrm_kek *kek, char *const in[BENCH_FIELDS],
    const unsigned char w[NRM_FC_WRAPPED_LEN], const unsigned char id[16])
{
	struct nrm_data_key dk;
	enum nrm_fc_result r;

	if (nrm_data_key_unwrap(kek, id, w, NRM_FC_WRAPPED_LEN, &dk) !=
	    NRM_FC_OK)
		return NRM_ERR;
	for (int i = 0; i < BENCH_FIELDS; i++) {
		char *p = nrm_field_open_b64(&dk, BENCH_AAD, in[i], &r);

		if (p == NULL || strcmp(p, bench_values[i]) != 0)
			return NRM_ERR;
		free(p);
	}
	nrm_data_key_clear(&dk);
	return NRM_OK;
}

int
main(void)
{
	unsigned char k[NRM_FC_KEY_LEN] = {1, 2, 3};
	unsigned char w[NRM_FC_WRAPPED_LEN];
	struct nrm_kek kek;
	struct nrm_data_key dk;
	char *ct[BENCH_FIELDS];
	double best_seal = 1e9, best_open = 1e9;

	bench_fill();
	nrm_kek_set(&kek, k);
	for (int round = 0; round < BENCH_ROUNDS; round++) {
		double t0 = bench_cpu(), t;

		for (int i = 0; i < BENCH_ITERS; i++) {
			if (bench_seal(&kek, ct, w, &dk) != NRM_OK)
				return 1;
			for (int f = 0; f < BENCH_FIELDS; f++)
				free(ct[f]);
		}
		t = (bench_cpu() - t0) / BENCH_ITERS;
		best_seal = t < best_seal ? t : best_seal;
		if (bench_seal(&kek, ct, w, &dk) != NRM_OK)
			return 1;
		t0 = bench_cpu();
		for (int i = 0; i < BENCH_ITERS; i++)
			if (bench_open(&kek, ct, w, dk.id) != NRM_OK)
				return 1;
		t = (bench_cpu() - t0) / BENCH_ITERS;
		best_open = t < best_open ? t : best_open;
		for (int f = 0; f < BENCH_FIELDS; f++)
			free(ct[f]);
	}
	printf("sealing, one core (%d values, 709 bytes of plaintext):\n",
	    BENCH_FIELDS);
	printf("  intake    %6.1f us CPU (data key, wrap, seal, base64)\n",
	    best_seal * 1e6);
	printf("  case read %6.1f us CPU (unwrap, base64, open)\n",
	    best_open * 1e6);
	printf("  against ~2000 us of CPU per intake (README: ~1.8 ms "
	       "PostgreSQL + ~0.2 ms nrmd): %.1f%%\n",
	    best_seal * 1e6 / 2000.0 * 100.0);
	return 0;
}
