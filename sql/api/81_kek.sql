-- 81_kek.sql - api functions of the keys of personal data at rest
-- (issue 15, docs/data-protection.md).  A repeatable file
-- (docs/sql-api.md, "Migrations"); the tables are in 0017 and 0020.

/*
 * How many rows still hold personal data in plaintext, stored before
 * 0017 ({subjects, signals, decisions, idempotency}): counts only, for
 * nrmd's warning at start-up until `nrmctl data encrypt` has run.  No
 * token: called by nrmd's periodic job.
 */
CREATE OR REPLACE FUNCTION api.data_plaintext_left() RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT care.plaintext_left()
$$;
COMMENT ON FUNCTION api.data_plaintext_left() IS
    'Counts of rows still holding plaintext personal data or an unkeyed '
    'idempotency hash (care.plaintext_left), for nrmd''s warning.';
-- A door of nrm_gate (99_doors.sql).
