/*
 * util.h - small I/O helpers shared by nrmd and nrmctl: whole-file reads,
 * host:port parsing, checked allocation.
 */
#ifndef NRM_UTIL_H
#define NRM_UTIL_H

#include "nrm/nrm.h"

/*
 * Read a whole file (at most `max` bytes) into a malloc'd, NUL-terminated
 * buffer.  On failure returns NRM_ERR with err->field = `what` and a
 * detail naming the path and the reason.
 */
int nrm_read_file(const char *path, size_t max, char **out, size_t *outlen,
    const char *what, struct nrm_error *err) NRM_MUSTCHECK;

/*
 * Split "host:port" / "[v6]:port" into host (bufsz bytes) and port
 * (1..65535).  NRM_ERR on anything else.
 */
int nrm_parse_hostport(
    const char *s, char *host, size_t hostsz, int *port) NRM_MUSTCHECK;

#define NRM_UUID_LEN 36
#define NRM_NIL_UUID "00000000-0000-0000-0000-000000000000"

/* True for a uuid in text form: 8-4-4-4-12 hexadecimal digits. */
bool nrm_uuid_valid(const char *s);

/* True for 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104 and "localhost". */
bool nrm_host_is_loopback(const char *host);

/* malloc/strdup that abort through nrm_fatal() on exhaustion. */
void *nrm_xmalloc(size_t n);
void *nrm_xcalloc(size_t n, size_t size);
char *nrm_xstrdup(const char *s);

/* Monotonic clock in milliseconds. */
int64_t nrm_mono_ms(void);

/* The same in microseconds (for histograms). */
int64_t nrm_mono_us(void);

#endif /* NRM_UTIL_H */
