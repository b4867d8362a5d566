/*
 * test_kekset.c - the key-encryption key set of nrm-api/common/kekset.c:
 * the current key and older ones load from files (modes checked, the
 * same key twice and too many refused, the set cleared on failure); a
 * data key wrapped by an older KEK unwraps through the set by its KEK
 * id, one wrapped by a KEK not held does not; re-wrapping under the
 * current KEK (what `nrmctl keys rotate` does) keeps the data key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"

#include "kekset.h"

static char dir[] = "/tmp/nrm-kekset-XXXXXX";

/* Write a KEK file of 32 bytes `b` (mode `mode`) at dir/name. */
static const char *
kfile(const char *name, unsigned char b, mode_t mode)
{
	static char paths[8][256];
	static int next;
	char *p = paths[next++ % 8];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	for (int i = 0; i < NRM_FC_KEY_LEN; i++)
		fprintf(f, "%02x", b);
	fputc('\n', f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_load_current_and_old(void **state)
{
	struct nrm_kek_set s;
	char why[200], list[600], ids[200];
	const char *a = kfile("a.kek", 0x11, 0600);
	const char *b = kfile("b.kek", 0x22, 0600);
	const char *c = kfile("c.kek", 0x33, 0400);

	(void)state;
	snprintf(list, sizeof(list), "%s, %s", b, c);
	assert_int_equal(
	    nrm_kek_set_load(&s, a, list, NULL, why, sizeof(why)), NRM_OK);
	assert_int_equal(s.n, 3);
	assert_non_null(nrm_kek_set_current(&s));
	assert_ptr_equal(nrm_kek_set_current(&s), &s.keks[0]);
	assert_int_equal(s.keks[0].key[0], 0x11);
	assert_ptr_equal(nrm_kek_set_find(&s, s.keks[2].id_hex), &s.keks[2]);
	assert_null(nrm_kek_set_find(&s, "0000000000000000"));
	nrm_kek_set_ids(&s, ids, sizeof(ids));
	assert_int_equal(strlen(ids), 3 * 16 + 2);
	assert_memory_equal(ids, s.keks[0].id_hex, 16);
	nrm_kek_set_clear(&s);
	assert_int_equal(s.n, 0);
	/* no old files: one key */
	assert_int_equal(
	    nrm_kek_set_load(&s, a, "", NULL, why, sizeof(why)), NRM_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(
	    nrm_kek_set_load(&s, a, NULL, NULL, why, sizeof(why)), NRM_OK);
	assert_int_equal(s.n, 1);
	nrm_kek_set_clear(&s);
}

static void
test_refusals(void **state)
{
	struct nrm_kek_set s;
	char why[200], list[2400], a[256];
	const char *open_mode;
	size_t used = 0;

	(void)state;
	snprintf(a, sizeof(a), "%s", kfile("r1.kek", 0x44, 0600));
	open_mode = kfile("r2.kek", 0x55, 0640);
	/* an old file others may read: refused, naming it, set cleared */
	assert_int_equal(
	    nrm_kek_set_load(&s, a, open_mode, NULL, why, sizeof(why)),
	    NRM_ERR);
	assert_non_null(strstr(why, "r2.kek"));
	assert_non_null(strstr(why, "mode"));
	assert_int_equal(s.n, 0);
	/* the same key twice */
	assert_int_equal(
	    nrm_kek_set_load(&s, a, a, NULL, why, sizeof(why)), NRM_ERR);
	assert_non_null(strstr(why, "twice"));
	/* a missing file */
	assert_int_equal(nrm_kek_set_load(&s, a, "/nonexistent/x.kek", NULL,
			     why, sizeof(why)),
	    NRM_ERR);
	assert_non_null(strstr(why, "/nonexistent/x.kek"));
	/* more than NRM_KEK_SET_MAX */
	for (int i = 0; i < NRM_KEK_SET_MAX; i++) {
		char name[32];

		snprintf(name, sizeof(name), "m%d.kek", i);
		used += (size_t)snprintf(list + used, sizeof(list) - used,
		    "%s,", kfile(name, (unsigned char)(0x60 + i), 0600));
	}
	assert_int_equal(
	    nrm_kek_set_load(&s, a, list, NULL, why, sizeof(why)), NRM_ERR);
	assert_non_null(strstr(why, "more than"));
	assert_int_equal(s.n, 0);
}

static void
test_unwrap_by_id_and_rewrap(void **state)
{
	struct nrm_kek_set s;
	struct nrm_kek old, cur, other;
	struct nrm_data_key dk, got;
	unsigned char kold[NRM_FC_KEY_LEN], kcur[NRM_FC_KEY_LEN];
	unsigned char w[NRM_FC_WRAPPED_LEN], w2[NRM_FC_WRAPPED_LEN];

	(void)state;
	memset(kold, 0xa1, sizeof(kold));
	memset(kcur, 0xb2, sizeof(kcur));
	nrm_kek_set(&old, kold);
	nrm_kek_set(&cur, kcur);
	memset(kcur, 0xc3, sizeof(kcur));
	nrm_kek_set(&other, kcur);
	memset(&s, 0, sizeof(s));
	assert_int_equal(nrm_kek_set_add(&s, &cur), NRM_OK);
	assert_int_equal(nrm_kek_set_add(&s, &old), NRM_OK);
	assert_int_equal(nrm_kek_set_add(&s, &old), NRM_ERR);
	assert_int_equal(nrm_data_key_new(&dk), NRM_OK);
	/* wrapped by the old KEK: opens through the set by its id */
	assert_int_equal(nrm_data_key_wrap(&old, &dk, w), NRM_OK);
	assert_int_equal(
	    nrm_kek_set_unwrap(&s, old.id_hex, dk.id, w, sizeof(w), &got),
	    NRM_FC_OK);
	assert_memory_equal(got.key, dk.key, NRM_FC_KEY_LEN);
	/* named by the wrong id: the tag does not verify */
	assert_int_equal(
	    nrm_kek_set_unwrap(&s, cur.id_hex, dk.id, w, sizeof(w), &got),
	    NRM_FC_TAMPERED);
	/* a KEK the set does not hold */
	assert_int_equal(nrm_data_key_wrap(&other, &dk, w2), NRM_OK);
	assert_int_equal(
	    nrm_kek_set_unwrap(&s, other.id_hex, dk.id, w2, sizeof(w2), &got),
	    NRM_FC_FAILED);
	/* re-wrapped under the current KEK: the same data key */
	assert_int_equal(
	    nrm_kek_set_unwrap(&s, old.id_hex, dk.id, w, sizeof(w), &got),
	    NRM_FC_OK);
	assert_int_equal(
	    nrm_data_key_wrap(nrm_kek_set_current(&s), &got, w2), NRM_OK);
	memset(&got, 0, sizeof(got));
	assert_int_equal(
	    nrm_kek_set_unwrap(&s, cur.id_hex, dk.id, w2, sizeof(w2), &got),
	    NRM_FC_OK);
	assert_memory_equal(got.key, dk.key, NRM_FC_KEY_LEN);
	nrm_data_key_clear(&dk);
	nrm_data_key_clear(&got);
	nrm_kek_set_clear(&s);
}

UNIT_MAIN(setup, teardown, cmocka_unit_test(test_load_current_and_old),
    cmocka_unit_test(test_refusals),
    cmocka_unit_test(test_unwrap_by_id_and_rewrap))
