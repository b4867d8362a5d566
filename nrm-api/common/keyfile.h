/*
 * keyfile.h - the rule every secret key file obeys: only its owner may
 * read it (issue 14).
 *
 * nrmd refuses, at start-up and on reload, a pseudonym key, TLS private
 * key or audit signing key that its group or others may read or write
 * (mode & 077 != 0): such a file has likely been copied around, and a
 * key that others can read is no longer a secret.  The refusal names
 * the configuration key and the path, never the contents.
 */
#ifndef NRM_KEYFILE_H
#define NRM_KEYFILE_H

#include <sys/types.h>

#include "nrm/nrm.h"

/*
 * NRM_OK when `path` is a regular file that neither its group nor
 * others may access; else NRM_ERR with err->field = `cfg_key` and a
 * detail naming the key, the path and its mode (or why stat failed).
 */
int nrm_keyfile_check(
    const char *path, const char *cfg_key, struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Read the secret file `path` (checked on the open descriptor: a regular
 * file that neither its group nor others may access) into buf, at most
 * `cap` bytes (a longer file's rest is not read).  Returns the bytes
 * read, or -1 with `why` (whysz bytes) saying what is wrong: "could not
 * open it: <errno text>", "not a regular file", "group or others may
 * access it (mode 0644; chmod 600)".  Never the contents.
 */
ssize_t nrm_keyfile_read(
    const char *path, void *buf, size_t cap, char *why, size_t whysz);

#endif /* NRM_KEYFILE_H */
