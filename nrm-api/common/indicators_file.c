/*
 * indicators_file.c - read the indicators register file and load it
 * (see indicators_file.h).
 */
#include "indicators_file.h"
#include "util.h"

#include <stdlib.h>

#define INDICATORS_FILE_MAX (4 << 20)

int
nrm_indicators_load_file(
    const char *path, struct nrm_indicators **out, struct nrm_diag *diag)
{
	struct nrm_error err;
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (nrm_read_file(path, INDICATORS_FILE_MAX, &text, &len,
		"indicators_file", &err) != NRM_OK) {
		nrm_diag_add(
		    diag, NRM_DIAG_ERROR, NRM_IND_FILE, "", "%s", err.detail);
		return NRM_ERR;
	}
	rc = nrm_indicators_load(out, text, len, diag);
	free(text);
	return rc;
}
