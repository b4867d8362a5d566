/*
 * test_backoff.c - the login backoff table alone (backoff.c, no
 * daemon): the delay doubles from login_backoff_after up to the cap,
 * counts are per login and per address and the larger one counts, a
 * success clears both, a quiet spell forgets, and a table flooded with
 * other keys still counts the key in use.  The delay on live 401s is in
 * tests/e2e/test_login_backoff.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include "backoff.h"

static void
test_delay_doubles_to_the_cap(void **state)
{
	(void)state;
	assert_int_equal(nrm_backoff_delay_ms(0, 3, 250, 8000), 0);
	assert_int_equal(nrm_backoff_delay_ms(2, 3, 250, 8000), 0);
	assert_int_equal(nrm_backoff_delay_ms(3, 3, 250, 8000), 250);
	assert_int_equal(nrm_backoff_delay_ms(4, 3, 250, 8000), 500);
	assert_int_equal(nrm_backoff_delay_ms(7, 3, 250, 8000), 4000);
	assert_int_equal(nrm_backoff_delay_ms(8, 3, 250, 8000), 8000);
	assert_int_equal(nrm_backoff_delay_ms(9, 3, 250, 8000), 8000);
	assert_int_equal(nrm_backoff_delay_ms(4000000000u, 1, 250, 8000), 8000);
	assert_int_equal(nrm_backoff_delay_ms(5, 3, 250, 300), 300);
	assert_int_equal(nrm_backoff_delay_ms(9, 3, 0, 8000), 0);
	assert_int_equal(nrm_backoff_delay_ms(9, 3, 250, 0), 0);
}

static void
test_counts_per_login_and_address(void **state)
{
	struct nrm_backoff *b = nrm_backoff_new();

	(void)state;
	assert_int_equal(
	    nrm_backoff_fail(b, "alice", "192.0.2.1", 100, 900), 1);
	assert_int_equal(
	    nrm_backoff_fail(b, "alice", "192.0.2.2", 101, 900), 2);
	/* another login from the first address: the address counts 2 */
	assert_int_equal(nrm_backoff_fail(b, "bob", "192.0.2.1", 102, 900), 2);
	assert_int_equal(
	    nrm_backoff_fail(b, "carol", "192.0.2.9", 103, 900), 1);
	/* a login that is not there (NULL, "") counts the address alone */
	assert_int_equal(nrm_backoff_fail(b, NULL, "192.0.2.9", 104, 900), 2);
	assert_int_equal(nrm_backoff_fail(b, "", NULL, 104, 900), 0);
	/* success clears the login and the address */
	nrm_backoff_clear(b, "alice", "192.0.2.2");
	assert_int_equal(
	    nrm_backoff_fail(b, "alice", "192.0.2.2", 105, 900), 1);
	/* a quiet spell longer than forget_s starts again */
	assert_int_equal(
	    nrm_backoff_fail(b, "bob", "192.0.2.1", 102 + 901, 900), 1);
	nrm_backoff_free(b);
}

static void
test_flood_keeps_the_key_in_use(void **state)
{
	struct nrm_backoff *b = nrm_backoff_new();
	char name[32];
	unsigned k = 0;

	(void)state;
	for (int i = 0; i < 5 * NRM_BACKOFF_SLOTS; i++) {
		/* the victim login fails every 64 others, most recently */
		if (i % 64 == 0)
			k = nrm_backoff_fail(
			    b, "victim", NULL, 1000 + i, 1 << 30);
		snprintf(name, sizeof(name), "u%d", i);
		assert_true(
		    nrm_backoff_fail(b, name, NULL, 1000 + i, 1 << 30) >= 1);
	}
	assert_int_equal(k, 5 * NRM_BACKOFF_SLOTS / 64);
	nrm_backoff_free(b);
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_delay_doubles_to_the_cap),
    cmocka_unit_test(test_counts_per_login_and_address),
    cmocka_unit_test(test_flood_keeps_the_key_in_use))
