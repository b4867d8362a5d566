/*
 * test_fieldcrypt.c - the envelope of nrm-api/common/fieldcrypt.c: a
 * value round-trips; another AAD (row or column), a flipped byte
 * anywhere, a truncated value, another data key and another KEK are
 * refused with the right reason; the KEK file is refused when others
 * may read it or it has the wrong shape.
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

#include "fieldcrypt.h"

#define AAD_A "care.subject/given_name/0b0f5c9e-1d2a-4c53-9a61-7f2e8d3b4a10"
#define AAD_B "care.subject/given_name/5d7a2e10-3c4b-4f1e-8a2d-9b6c0e1f2a34"
#define AAD_C "care.subject/family_name/0b0f5c9e-1d2a-4c53-9a61-7f2e8d3b4a10"

static struct nrm_kek kek, kek2;
static struct nrm_data_key dk, dk2;

static int
setup(void **state)
{
	unsigned char k[NRM_FC_KEY_LEN];

	(void)state;
	memset(k, 0x11, sizeof(k));
	nrm_kek_set(&kek, k);
	memset(k, 0x22, sizeof(k));
	nrm_kek_set(&kek2, k);
	if (nrm_data_key_new(&dk) != NRM_OK || nrm_data_key_new(&dk2) != NRM_OK)
		return -1;
	return 0;
}

static void
test_round_trip(void **state)
{
	unsigned char ct[64 + NRM_FC_OVERHEAD], pt[128];
	size_t m;
	long n;

	(void)state;
	n = nrm_field_seal(&dk, AAD_A, "Jana", 4, ct, sizeof(ct));
	assert_int_equal(n, 4 + NRM_FC_OVERHEAD);
	assert_int_equal(ct[0], NRM_FC_VERSION);
	assert_memory_equal(ct + 1, dk.id, NRM_FC_KEY_ID_LEN);
	assert_int_equal(
	    nrm_field_open(&dk, AAD_A, ct, (size_t)n, pt, sizeof(pt), &m),
	    NRM_FC_OK);
	assert_int_equal(m, 4);
	assert_memory_equal(pt, "Jana", 4);
	/* the empty value too */
	n = nrm_field_seal(&dk, AAD_A, "", 0, ct, sizeof(ct));
	assert_int_equal(n, NRM_FC_OVERHEAD);
	assert_int_equal(
	    nrm_field_open(&dk, AAD_A, ct, (size_t)n, pt, sizeof(pt), &m),
	    NRM_FC_OK);
	assert_int_equal(m, 0);
}

static void
test_random_nonce(void **state)
{
	unsigned char a[4 + NRM_FC_OVERHEAD], b[4 + NRM_FC_OVERHEAD];

	(void)state;
	assert_int_equal(
	    nrm_field_seal(&dk, AAD_A, "Jana", 4, a, sizeof(a)), sizeof(a));
	assert_int_equal(
	    nrm_field_seal(&dk, AAD_A, "Jana", 4, b, sizeof(b)), sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
}

static void
test_other_aad_fails(void **state)
{
	unsigned char ct[4 + NRM_FC_OVERHEAD], pt[64];
	size_t m;

	(void)state;
	assert_int_equal(
	    nrm_field_seal(&dk, AAD_A, "Jana", 4, ct, sizeof(ct)), sizeof(ct));
	/* another row, another column */
	assert_int_equal(
	    nrm_field_open(&dk, AAD_B, ct, sizeof(ct), pt, sizeof(pt), &m),
	    NRM_FC_TAMPERED);
	assert_int_equal(
	    nrm_field_open(&dk, AAD_C, ct, sizeof(ct), pt, sizeof(pt), &m),
	    NRM_FC_TAMPERED);
	assert_int_equal(m, 0);
	/* another row's data key: misplaced, found from the key id */
	assert_int_equal(
	    nrm_field_open(&dk2, AAD_A, ct, sizeof(ct), pt, sizeof(pt), &m),
	    NRM_FC_MISPLACED);
}

/* Any flipped bit of a sealed value, or any truncation, fails. */
static void
test_damaged_fails(void **state)
{
	unsigned char ct[11 + NRM_FC_OVERHEAD], pt[64];
	size_t m;

	(void)state;
	assert_int_equal(
	    nrm_field_seal(&dk, AAD_A, "Jana Novak", 11, ct, sizeof(ct)),
	    sizeof(ct));
	for (size_t i = 0; i < sizeof(ct); i++) {
		for (int bit = 0; bit < 8; bit++) {
			enum nrm_fc_result r;

			ct[i] ^= (unsigned char)(1 << bit);
			r = nrm_field_open(
			    &dk, AAD_A, ct, sizeof(ct), pt, sizeof(pt), &m);
			assert_int_not_equal(r, NRM_FC_OK);
			/* the version byte, the key id, then the tag */
			if (i == 0)
				assert_int_equal(r, NRM_FC_MALFORMED);
			else if (i <= NRM_FC_KEY_ID_LEN)
				assert_int_equal(r, NRM_FC_MISPLACED);
			else
				assert_int_equal(r, NRM_FC_TAMPERED);
			ct[i] ^= (unsigned char)(1 << bit);
		}
	}
	assert_int_equal(
	    nrm_field_open(&dk, AAD_A, ct, sizeof(ct), pt, sizeof(pt), &m),
	    NRM_FC_OK);
	/* every shorter length of it */
	for (size_t n = 0; n < sizeof(ct); n++)
		assert_int_not_equal(
		    nrm_field_open(&dk, AAD_A, ct, n, pt, sizeof(pt), &m),
		    NRM_FC_OK);
}

static void
test_wrap_unwrap(void **state)
{
	unsigned char w[NRM_FC_WRAPPED_LEN];
	struct nrm_data_key got;

	(void)state;
	assert_int_equal(nrm_data_key_wrap(&kek, &dk, w), NRM_OK);
	assert_int_equal(
	    nrm_data_key_unwrap(&kek, dk.id, w, sizeof(w), &got), NRM_FC_OK);
	assert_memory_equal(got.key, dk.key, NRM_FC_KEY_LEN);
	assert_memory_equal(got.id, dk.id, NRM_FC_KEY_ID_LEN);
	/* wrong KEK, another key id, a flipped byte, a short length */
	assert_int_equal(nrm_data_key_unwrap(&kek2, dk.id, w, sizeof(w), &got),
	    NRM_FC_TAMPERED);
	assert_int_equal(nrm_data_key_unwrap(&kek, dk2.id, w, sizeof(w), &got),
	    NRM_FC_TAMPERED);
	for (size_t i = 0; i < sizeof(w); i++) {
		w[i] ^= 0x80;
		assert_int_equal(
		    nrm_data_key_unwrap(&kek, dk.id, w, sizeof(w), &got),
		    NRM_FC_TAMPERED);
		w[i] ^= 0x80;
	}
	assert_int_equal(
	    nrm_data_key_unwrap(&kek, dk.id, w, sizeof(w) - 1, &got),
	    NRM_FC_MALFORMED);
}

static void
test_b64_forms(void **state)
{
	enum nrm_fc_result r;
	char *b, *p;
	size_t n;
	unsigned char *raw;

	(void)state;
	b = nrm_field_seal_b64(&dk, AAD_A, "Straat 1, 1234 AB Utrecht");
	assert_non_null(b);
	p = nrm_field_open_b64(&dk, AAD_A, b, &r);
	assert_int_equal(r, NRM_FC_OK);
	assert_string_equal(p, "Straat 1, 1234 AB Utrecht");
	free(p);
	assert_null(nrm_field_open_b64(&dk, AAD_B, b, &r));
	assert_int_equal(r, NRM_FC_TAMPERED);
	free(b);
	assert_null(nrm_field_open_b64(&dk, AAD_A, "not base64!", &r));
	assert_int_equal(r, NRM_FC_MALFORMED);
	assert_null(nrm_field_open_b64(&dk, AAD_A, "AA==", &r));
	assert_int_equal(r, NRM_FC_MALFORMED);
	raw = nrm_b64_decode("SmFuYQ==", &n);
	assert_non_null(raw);
	assert_int_equal(n, 4);
	assert_memory_equal(raw, "Jana", 4);
	free(raw);
	assert_null(nrm_b64_decode("SmF=uYQ=", &n));
	assert_null(nrm_b64_decode("SmFuYQ", &n));
}

static void
test_uuid(void **state)
{
	char s[NRM_FC_UUID_STR];
	unsigned char id[NRM_FC_KEY_ID_LEN];

	(void)state;
	nrm_fc_uuid_str(dk.id, s);
	assert_int_equal(strlen(s), 36);
	assert_int_equal(s[14], '4');
	assert_int_equal(nrm_fc_uuid_parse(s, id), NRM_OK);
	assert_memory_equal(id, dk.id, NRM_FC_KEY_ID_LEN);
	assert_int_equal(
	    nrm_fc_uuid_parse("0b0f5c9e-1d2a-4c53-9a61-7f2e8d3b4a1", id),
	    NRM_ERR);
	assert_int_equal(
	    nrm_fc_uuid_parse("0b0f5c9e+1d2a-4c53-9a61-7f2e8d3b4a10", id),
	    NRM_ERR);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_kek_file(void **state)
{
	char path[] = "/tmp/nrm-kek-XXXXXX", why[200];
	struct nrm_kek k;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path,
	    "1111111111111111111111111111111111111111111111111111111111111111"
	    "\n",
	    0600);
	assert_int_equal(nrm_kek_load(&k, path, why, sizeof(why)), NRM_OK);
	assert_memory_equal(k.key, kek.key, NRM_FC_KEY_LEN);
	assert_string_equal(k.id_hex, kek.id_hex);
	assert_int_equal(strlen(k.id_hex), 16);
	/* readable by the group: refused, the reason names the mode */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(nrm_kek_load(&k, path, why, sizeof(why)), NRM_ERR);
	assert_non_null(strstr(why, "0640"));
	/* too short, not hex */
	write_file(path, "1111", 0600);
	assert_int_equal(nrm_kek_load(&k, path, why, sizeof(why)), NRM_ERR);
	write_file(path,
	    "111111111111111111111111111111111111111111111111111111111111111g",
	    0600);
	assert_int_equal(nrm_kek_load(&k, path, why, sizeof(why)), NRM_ERR);
	assert_null(strstr(why, "111"));
	unlink(path);
	assert_int_equal(nrm_kek_load(&k, path, why, sizeof(why)), NRM_ERR);
}

UNIT_MAIN(setup, NULL, cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_random_nonce), cmocka_unit_test(test_other_aad_fails),
    cmocka_unit_test(test_damaged_fails), cmocka_unit_test(test_wrap_unwrap),
    cmocka_unit_test(test_b64_forms), cmocka_unit_test(test_uuid),
    cmocka_unit_test(test_kek_file))
