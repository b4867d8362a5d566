/*
 * log.c - one-line structured logging to stderr (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum nrm_log_level nrm_log_threshold = NRM_LOG_INFO;

static const char *const log_names[] = {
    "debug",
    "info",
    "warn",
    "error",
    "fatal",
};

static void
log_vemit(enum nrm_log_level level, const char *fmt, va_list ap)
{
	char msg[2048];
	char ts[40];
	struct timespec now;
	struct tm tm;
	const char *kv;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Split "text key=value ..." at the first " word=". */
	kv = NULL;
	for (const char *p = msg; *p != '\0'; p++) {
		if (*p != ' ')
			continue;
		const char *q = p + 1;
		while ((*q >= 'a' && *q <= 'z') || *q == '_' ||
		    (*q >= '0' && *q <= '9'))
			q++;
		if (q > p + 1 && *q == '=') {
			kv = p;
			break;
		}
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = (int)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(
	    ts + n, sizeof(ts) - (size_t)n, ".%03ldZ", now.tv_nsec / 1000000);
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '"' || *p == '\n' || *p == '\r')
			*p = '\'';
	fprintf(stderr, "ts=%s level=%s msg=\"%.*s\"%s\n", ts, log_names[level],
	    kv != NULL ? (int)(kv - msg) : (int)strlen(msg), msg,
	    kv != NULL ? kv : "");
}

void
nrm_log_emit(enum nrm_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, fmt, ap);
	va_end(ap);
}

void
nrm_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(NRM_LOG_FATAL, fmt, ap);
	va_end(ap);
	exit(1);
}

int
nrm_log_level_parse(const char *s, enum nrm_log_level *out)
{
	for (size_t i = 0; i < NRM_ARRAY_LEN(log_names) - 1; i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum nrm_log_level)i;
			return NRM_OK;
		}
	}
	return NRM_ERR;
}
