/*
 * log.h - one-line structured logging to stderr.
 *
 * Every line is "ts=... level=... msg=\"...\" key=value ...": lowercase
 * messages, no trailing period.  Request lines carry req=<id>.  Never
 * log personal data: log ids, codes and counts, never a body or a name.
 *
 * nrm_log() is a macro: below the configured level its arguments are not
 * evaluated (as Redis's serverLog does).
 */
#ifndef NRM_LOG_H
#define NRM_LOG_H

#include "nrm/nrm.h"

enum nrm_log_level {
	NRM_LOG_DEBUG = 0,
	NRM_LOG_INFO,
	NRM_LOG_WARN,
	NRM_LOG_ERROR,
	NRM_LOG_FATAL,
};

extern enum nrm_log_level nrm_log_threshold;

#define nrm_log(level, ...) \
	do { \
		if ((level) >= nrm_log_threshold) \
			nrm_log_emit((level), __VA_ARGS__); \
	} while (0)

#define nrm_debug(...) nrm_log(NRM_LOG_DEBUG, __VA_ARGS__)
#define nrm_info(...) nrm_log(NRM_LOG_INFO, __VA_ARGS__)
#define nrm_warn(...) nrm_log(NRM_LOG_WARN, __VA_ARGS__)
#define nrm_error(...) nrm_log(NRM_LOG_ERROR, __VA_ARGS__)

/*
 * Emit one line.  `fmt` produces the message and any trailing
 * key=value pairs: nrm_info("request done req=%s status=%d", id, 201).
 * The first word group up to " key=" becomes msg="...".
 */
void nrm_log_emit(enum nrm_log_level level, const char *fmt, ...)
    NRM_PRINTF(2, 3);

/* Log at FATAL and exit(1).  Start-up and broken invariants only. */
_Noreturn void nrm_fatal(const char *fmt, ...) NRM_PRINTF(1, 2);

/* "debug" "info" "warn" "error" -> level; NRM_ERR when unknown. */
int nrm_log_level_parse(const char *s, enum nrm_log_level *out) NRM_MUSTCHECK;

#endif /* NRM_LOG_H */
