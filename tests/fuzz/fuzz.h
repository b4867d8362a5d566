/*
 * fuzz.h - what every libFuzzer target of nrm shares: the entry point's
 * prototype, the invariant check (an abort is a finding) and the check
 * of a load's diagnostics.
 */
#ifndef NRM_FUZZ_H
#define NRM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nrm/diag.h"
#include "nrm/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort, so that libFuzzer reports the input, when cond is false. */
static inline void
fuzz_check(int cond)
{
	if (!cond)
		abort();
}

/* A rendering that must have been made (text not NULL); then freed. */
static inline void
fuzz_check_made(char *text)
{
	fuzz_check(text != NULL);
	free(text);
}

/*
 * The diagnostics of a configuration load: every entry valid UTF-8, both
 * renderings made; then released.
 */
static inline void
fuzz_check_diag(struct nrm_diag *d)
{
	int k;

	for (k = 0; k < d->n; k++)
		fuzz_check(nrm_utf8_valid(
		    d->entries[k].text, strlen(d->entries[k].text)));
	fuzz_check_made(nrm_diag_text(d));
	fuzz_check_made(nrm_diag_json(d));
	nrm_diag_free(d);
}

#endif /* NRM_FUZZ_H */
