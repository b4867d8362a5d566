/*
 * fuzz_fieldcrypt.c - libFuzzer target for the decoders of stored
 * personal data (nrm_field_open, nrm_field_open_b64,
 * nrm_data_key_unwrap): whatever the database hands back must be refused
 * or opened without a crash, a leak or undefined behaviour, and nothing
 * the fuzzer makes up may open (it cannot forge an AES-GCM tag).
 *
 *   make fuzz && build/fuzz/bin/fuzz_fieldcrypt -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fieldcrypt.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char k[NRM_FC_KEY_LEN] = {7, 7, 7};
	static const char aad[] = "care.subject/narrative/00000000-0000-4000-"
				  "8000-000000000000";
	struct nrm_kek kek;
	struct nrm_data_key dk, got;
	unsigned char out[NRM_FC_VALUE_MAX + NRM_FC_OVERHEAD];
	enum nrm_fc_result r;
	size_t m;
	char *s, *p;

	if (size > sizeof(out))
		return 0;
	nrm_kek_set(&kek, k);
	memset(&dk, 0, sizeof(dk));
	/* a value whose key id is the fuzzer's: reaches the GCM check */
	if (size > NRM_FC_KEY_ID_LEN)
		memcpy(dk.id, data + 1, NRM_FC_KEY_ID_LEN);
	r = nrm_field_open(&dk, aad, data, size, out, sizeof(out), &m);
	fuzz_check(r != NRM_FC_OK);
	r = nrm_data_key_unwrap(&kek, dk.id, data, size, &got);
	fuzz_check(r != NRM_FC_OK);
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	p = nrm_field_open_b64(&dk, aad, s, &r);
	fuzz_check(p == NULL && r != NRM_FC_OK);
	free(s);
	return 0;
}
