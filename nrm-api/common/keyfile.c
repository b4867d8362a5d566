/*
 * keyfile.c - the owner-only rule for secret key files (see keyfile.h).
 */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

ssize_t
nrm_keyfile_read(
    const char *path, void *buf, size_t cap, char *why, size_t whysz)
{
	struct stat st;
	ssize_t n = 0, got;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, whysz, "could not open it: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "not a regular file");
		n = -1;
	} else if ((st.st_mode & 077) != 0) {
		snprintf(why, whysz,
		    "group or others may access it (mode %04o; chmod 600)",
		    (unsigned)(st.st_mode & 07777));
		n = -1;
	}
	while (n >= 0 && (size_t)n < cap) {
		got = read(fd, (char *)buf + n, cap - (size_t)n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += got;
	}
	close(fd);
	return n;
}
