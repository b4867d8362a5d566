/*
 * test_flood.c - the flood tables alone (flood.c, no daemon): a bucket
 * allows its burst, then refuses with the wait until the next token,
 * refills at its rate and never above its burst; names are counted
 * apart; a table flooded with other names keeps a drained bucket; the
 * rejected-token cache holds a hash for its TTL only, counts hits and
 * forgets on clear; a hit restarts the TTL.  The live 429s are in tests/e2e/test_flood.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include "flood.h"

static int64_t
take(struct nrm_buckets *b, const char *name, double rate, int burst,
    int64_t now)
{
	return nrm_buckets_take(b, name, strlen(name), rate, burst, now);
}

static void
test_burst_then_wait(void **state)
{
	struct nrm_buckets *b = nrm_buckets_new();

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(take(b, "192.0.2.1", 2.0, 5, 1000), 0);
	/* empty: one token at 2/s is 500 ms away */
	assert_int_equal(take(b, "192.0.2.1", 2.0, 5, 1000), 500);
	assert_int_equal(take(b, "192.0.2.1", 2.0, 5, 1200), 300);
	/* another name has its own bucket */
	assert_int_equal(take(b, "192.0.2.2", 2.0, 5, 1200), 0);
	/* refill: 500 ms give one token, not two */
	assert_int_equal(take(b, "192.0.2.1", 2.0, 5, 1500), 0);
	assert_true(take(b, "192.0.2.1", 2.0, 5, 1500) > 0);
	/* a long quiet spell refills to the burst, not beyond */
	for (int i = 0; i < 5; i++)
		assert_int_equal(take(b, "192.0.2.1", 2.0, 5, 100000), 0);
	assert_true(take(b, "192.0.2.1", 2.0, 5, 100000) > 0);
	/* a slow rate: the wait is rounded up, at least 1 ms */
	assert_int_equal(take(b, "slow", 0.3, 1, 0), 0);
	assert_int_equal(take(b, "slow", 0.3, 1, 0), 3334);
	/* no limit */
	for (int i = 0; i < 100; i++)
		assert_int_equal(take(b, "x", 0.0, 5, 0), 0);
	nrm_buckets_free(b);
}

static void
test_drained_bucket_survives_churn(void **state)
{
	struct nrm_buckets *b = nrm_buckets_new();
	char name[32];

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(take(b, "attacker", 1.0, 3, 0), 0);
	assert_true(take(b, "attacker", 1.0, 3, 0) > 0);
	/* four times the table's size of other names, each used once */
	for (int i = 0; i < 4 * NRM_FLOOD_SLOTS; i++) {
		snprintf(name, sizeof(name), "10.%d.%d.%d", i >> 16,
		    (i >> 8) & 255, i & 255);
		assert_int_equal(take(b, name, 1.0, 3, 0), 0);
	}
	assert_true(nrm_buckets_used(b) <= NRM_FLOOD_SLOTS);
	/* still drained: the fuller buckets were evicted first */
	assert_true(take(b, "attacker", 1.0, 3, 0) > 0);
	nrm_buckets_free(b);
}

static void
test_rejects_ttl_and_clear(void **state)
{
	struct nrm_rejects *c = nrm_rejects_new();
	unsigned char h1[32], h2[32];

	(void)state;
	memset(h1, 0x11, sizeof(h1));
	memset(h2, 0x11, sizeof(h2));
	h2[31] = 0x12; /* the same home slot, another hash */
	assert_false(nrm_rejects_hit(c, h1, 10000, 5));
	nrm_rejects_add(c, h1, 1000);
	assert_true(nrm_rejects_hit(c, h1, 10000, 1001));
	assert_false(nrm_rejects_hit(c, h2, 10000, 1001));
	/* each hit restarts the TTL: 10999 is within 10 s of 1001 */
	assert_true(nrm_rejects_hit(c, h1, 10000, 10999));
	assert_true(nrm_rejects_hit(c, h1, 10000, 20998));
	/* the TTL is over: 10 s without a try */
	assert_false(nrm_rejects_hit(c, h1, 10000, 30998));
	assert_int_equal(nrm_rejects_take_hits(c), 3);
	assert_int_equal(nrm_rejects_take_hits(c), 0);
	assert_int_equal(nrm_rejects_hits_total(c), 3);
	/* off */
	nrm_rejects_add(c, h2, 20000);
	assert_false(nrm_rejects_hit(c, h2, 0, 20001));
	assert_true(nrm_rejects_hit(c, h2, 5000, 20001));
	nrm_rejects_clear(c);
	assert_false(nrm_rejects_hit(c, h2, 5000, 20002));
	nrm_rejects_free(c);
}

static void
test_rejects_bounded(void **state)
{
	struct nrm_rejects *c = nrm_rejects_new();
	unsigned char h[32];
	int held = 0;

	(void)state;
	memset(h, 0, sizeof(h));
	/* many hashes on one home slot: the probe holds the newest ones */
	for (int i = 1; i <= 3 * NRM_FLOOD_PROBE; i++) {
		h[31] = (unsigned char)i;
		nrm_rejects_add(c, h, i);
	}
	for (int i = 1; i <= 3 * NRM_FLOOD_PROBE; i++) {
		h[31] = (unsigned char)i;
		if (nrm_rejects_hit(c, h, 100000, 100))
			held++;
	}
	assert_true(held >= NRM_FLOOD_PROBE);
	h[31] = (unsigned char)(3 * NRM_FLOOD_PROBE);
	assert_true(nrm_rejects_hit(c, h, 100000, 100));
	h[31] = 1;
	assert_false(nrm_rejects_hit(c, h, 100000, 100));
	nrm_rejects_free(c);
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_burst_then_wait),
    cmocka_unit_test(test_drained_bucket_survives_churn),
    cmocka_unit_test(test_rejects_ttl_and_clear),
    cmocka_unit_test(test_rejects_bounded))
