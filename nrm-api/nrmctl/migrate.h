/*
 * migrate.h - apply nrm's numbered, forward-only SQL migrations and its
 * repeatable files.
 *
 * A migration is a file DIR/NNNN_name.sql (four digits, then a name of
 * [a-z0-9_]).  Versions must run 1, 2, 3, ... without gaps or
 * duplicates.  Each file is applied in ONE transaction together with its
 * row in nrm.schema_version (version, name = file name, checksum =
 * SHA-256 hex of the file's bytes, applied_at); files therefore contain
 * no BEGIN/COMMIT.  A session advisory lock serialises concurrent runs.
 *
 * A repeatable file is DIR/api/name.sql (name in [a-z0-9_]): the current
 * definition of functions, CREATE OR REPLACE.  Whenever a migration is
 * pending or a repeatable file differs from what nrm.schema_repeatable
 * records (name, checksum), every repeatable file is applied, in name
 * order (strcmp), inside the transaction of the last migration (or a
 * transaction of their own when no migration is pending), and
 * nrm.schema_repeatable is rewritten to list exactly them.
 *
 * DIR/released.sha256 (sha256sum's format) lists checksums of migrations
 * as released: an applied version whose recorded checksum is listed
 * there for its file name is accepted although the file changed since
 * (the change moved function bodies to the repeatable files).
 *
 * Refused (nothing applied): a file name that does not fit the pattern,
 * a gap or duplicate in the sequence, an applied version whose file is
 * missing, renamed or changed (checksum neither the file's nor a
 * released one), a file with transaction control or a NUL byte.  Errors
 * never quote row values.
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
 * N".  On NRM_ERR, err->detail holds "could not ...: reason" (no
 * prefix, no newline; a path longer than 120 bytes is shown as "..."
 * and its tail).  `conn` must be idle and outside a transaction; it
 * stays usable afterwards.
 */
int nrm_migrate(PGconn *conn, const char *dir, FILE *out,
    struct nrm_error *err) NRM_MUSTCHECK;

#endif /* NRM_MIGRATE_H */
