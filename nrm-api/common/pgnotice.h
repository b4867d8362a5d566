/*
 * pgnotice.h - libpq's notices (a server NOTICE or WARNING, and the
 * FATAL that ends an idle connection, "terminating connection due to
 * administrator command") as structured log lines.  Without a receiver
 * libpq writes them raw to stderr, outside the log.  The line carries
 * the severity and the SQLSTATE only, never the server's text: a
 * message may quote a value (a key, a name) from the data.
 */
#ifndef NRM_PGNOTICE_H
#define NRM_PGNOTICE_H

#include <libpq-fe.h>
#include <stddef.h>

/*
 * Log the notice `res` of connection `conn` (a pool index, or -1) of
 * `who` ("nrmd", "nrmctl"); copy its SQLSTATE into sqlstate (n bytes,
 * "" when it has none) when sqlstate is not NULL.  The line is a
 * warning for WARNING and worse, debug below.
 */
void nrm_pg_notice_log(
    const PGresult *res, const char *who, int conn, char *sqlstate, size_t n);

#endif /* NRM_PGNOTICE_H */
