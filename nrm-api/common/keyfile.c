/*
 * keyfile.c - the owner-only rule for secret key files (see keyfile.h).
 */
#include "keyfile.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int
nrm_keyfile_check(const char *path, const char *cfg_key, struct nrm_error *err)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return nrm_error_set(err, NRM_E_VALIDATION, cfg_key,
		    "could not read %s %s: %s", cfg_key, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return nrm_error_set(err, NRM_E_VALIDATION, cfg_key,
		    "%s %s is not a regular file", cfg_key, path);
	if ((st.st_mode & 077) != 0)
		return nrm_error_set(err, NRM_E_VALIDATION, cfg_key,
		    "%s %s may be read by others (mode %04o): a secret key "
		    "must be readable by its owner only (chmod 600)",
		    cfg_key, path, (unsigned)(st.st_mode & 07777));
	return NRM_OK;
}
