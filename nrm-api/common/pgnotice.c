/*
 * pgnotice.c - libpq notices as structured log lines (see pgnotice.h).
 */
#include "pgnotice.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

/* Only the characters a severity or an SQLSTATE has; else "?". */
static const char *
pgnotice_word(const char *s)
{
	if (s == NULL || s[0] == '\0' || strlen(s) > 16 ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(s))
		return "?";
	return s;
}

void
nrm_pg_notice_log(
    const PGresult *res, const char *who, int conn, char *sqlstate, size_t n)
{
	const char *sev = pgnotice_word(
	    PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED));
	const char *st =
	    pgnotice_word(PQresultErrorField(res, PG_DIAG_SQLSTATE));
	bool serious = strcmp(sev, "WARNING") == 0 ||
	    strcmp(sev, "ERROR") == 0 || strcmp(sev, "FATAL") == 0 ||
	    strcmp(sev, "PANIC") == 0;

	if (sqlstate != NULL && n > 0)
		snprintf(sqlstate, n, "%s", strcmp(st, "?") == 0 ? "" : st);
	nrm_log(serious ? NRM_LOG_WARN : NRM_LOG_DEBUG,
	    "database notice who=%s conn=%d severity=%s sqlstate=%s", who, conn,
	    sev, st);
}
