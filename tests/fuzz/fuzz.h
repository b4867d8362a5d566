/*
 * fuzz.h - what every libFuzzer target of nrm shares: the entry point's
 * prototype and the invariant check (an abort is a finding).
 */
#ifndef NRM_FUZZ_H
#define NRM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort, so that libFuzzer reports the input, when cond is false. */
static inline void
fuzz_check(int cond)
{
	if (!cond)
		abort();
}

#endif /* NRM_FUZZ_H */
