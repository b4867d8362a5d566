/*
 * indicators_file.h - reading the indicators register for nrmd and
 * nrmctl: the file named by indicators_file (default
 * config/indicators.json), loaded with nrm-core's register loader
 * (nrm-core/include/nrm/indicators.h).
 */
#ifndef NRM_INDICATORS_FILE_H
#define NRM_INDICATORS_FILE_H

#include "nrm/diag.h"
#include "nrm/indicators.h"

#define NRM_INDICATORS_FILE_DEFAULT "config/indicators.json"

/*
 * Read and load the register at `path`.  On failure returns NRM_ERR with
 * every reason in diag (an unreadable file is an error there too) and
 * *out NULL; otherwise a register the caller frees with
 * nrm_indicators_free.
 */
int nrm_indicators_load_file(const char *path, struct nrm_indicators **out,
    struct nrm_diag *diag) NRM_MUSTCHECK;

#endif /* NRM_INDICATORS_FILE_H */
