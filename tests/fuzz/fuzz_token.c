/*
 * fuzz_token.c - libFuzzer target for nrm_token_open(), which reads the
 * inbox `cursor` and `after` a client sends back: any text must be
 * refused (-1) or opened without a crash, a leak or undefined behaviour,
 * and no made-up token may open (the fuzzer cannot forge an AES-GCM tag,
 * so an opened input must be one this target sealed itself).
 *
 *   make fuzz && build/fuzz/bin/fuzz_token -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "crypto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char key[NRM_TOKEN_KEY_LEN] = {1, 2, 3};
	unsigned char out[512];
	char tok[NRM_TOKEN_SEALED_MAX(512)];
	char *s;
	int n;

	if (size > 2048)
		return 0;
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	n = nrm_token_open(key, "nrm.inbox.after", s, out, sizeof(out));
	fuzz_check(n == -1);
	/* and what we seal ourselves opens to itself */
	if (size <= 512 &&
	    nrm_token_seal(key, "nrm.inbox.after", data, size, tok,
		sizeof(tok)) == NRM_OK) {
		n = nrm_token_open(
		    key, "nrm.inbox.after", tok, out, sizeof(out));
		fuzz_check(n == (int)size && memcmp(out, data, size) == 0);
	}
	free(s);
	return 0;
}
