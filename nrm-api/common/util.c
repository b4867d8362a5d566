/*
 * util.c - small I/O helpers (see util.h).
 */
#include "util.h"
#include "log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
nrm_read_file(const char *path, size_t max, char **out, size_t *outlen,
    const char *what, struct nrm_error *err)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 4096;
	int rc = NRM_ERR;

	f = fopen(path, "rb");
	if (f == NULL)
		return nrm_error_set(err, NRM_E_INTERNAL, what,
		    "could not open %s: %s", path, strerror(errno));
	buf = nrm_xmalloc(cap + 1);
	for (;;) {
		size_t n;

		if (len == cap) {
			if (cap >= max) {
				nrm_error_set(err, NRM_E_INTERNAL, what,
				    "%s is larger than %zu bytes", path, max);
				goto out;
			}
			cap = cap * 2 > max ? max : cap * 2;
			buf = realloc(buf, cap + 1);
			if (buf == NULL)
				nrm_fatal("out of memory");
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				nrm_error_set(err, NRM_E_INTERNAL, what,
				    "could not read %s", path);
				goto out;
			}
			break;
		}
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = NRM_OK;
out:
	free(buf);
	fclose(f);
	return rc;
}

int
nrm_parse_hostport(const char *s, char *host, size_t hostsz, int *port)
{
	const char *colon, *h = s;
	size_t hlen;
	char *end;
	long p;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return NRM_ERR;
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return NRM_ERR;
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen) != NULL)
			return NRM_ERR; /* bare IPv6 needs brackets */
	}
	if (hlen == 0 || hlen >= hostsz)
		return NRM_ERR;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || p < 1 ||
	    p > 65535)
		return NRM_ERR;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (int)p;
	return NRM_OK;
}

bool
nrm_uuid_valid(const char *s)
{
	if (s == NULL || strlen(s) != NRM_UUID_LEN)
		return false;
	for (int i = 0; i < NRM_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

bool
nrm_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

void *
nrm_xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		nrm_fatal("out of memory");
	return p;
}

void *
nrm_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);

	if (p == NULL)
		nrm_fatal("out of memory");
	return p;
}

char *
nrm_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		nrm_fatal("out of memory");
	return p;
}

int64_t
nrm_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
nrm_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
