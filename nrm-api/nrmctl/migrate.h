/*
 * migrate.h - apply nrm's numbered, forward-only SQL migrations.
 *
 * A migration is a file DIR/NNNN_name.sql (four digits, then a name of
 * [a-z0-9_]).  Versions must run 1, 2, 3, ... without gaps or
 * duplicates.  Each file is applied in ONE transaction together with its
 * row in nrm.schema_version (version, name = file name, checksum =
 * SHA-256 hex of the file's bytes, applied_at); files therefore contain
 * no BEGIN/COMMIT.  A session advisory lock serialises concurrent runs.
 *
 * Refused (nothing applied): a file name that does not fit the pattern,
 * a gap or duplicate in the sequence, an applied version whose file is
 * missing, renamed or changed (checksum), a file with transaction
 * control or a NUL byte.  Errors never quote row values.
 */
#ifndef NRM_MIGRATE_H
#define NRM_MIGRATE_H

#include <stdio.h>

#include <libpq-fe.h>

#include "nrm/nrm.h"

/*
 * Bring the database on `conn` up to the newest migration in `dir`.
 * Writes one progress line per applied file to `out`, then "schema is
 * current at version N" (nothing to do) or "schema is now at version
 * N".  On NRM_ERR, errbuf holds "could not ...: reason" (no prefix, no
 * newline).  `conn` must be idle and outside a transaction; it stays
 * usable afterwards.
 */
int nrm_migrate(PGconn *conn, const char *dir, FILE *out, char *errbuf,
    size_t errlen) NRM_MUSTCHECK;

/*
 * Put the highest applied version into *version (0 when nothing is
 * applied or nrm.schema_version does not exist yet).
 */
int nrm_migrate_current(
    PGconn *conn, int *version, char *errbuf, size_t errlen) NRM_MUSTCHECK;

#endif /* NRM_MIGRATE_H */
