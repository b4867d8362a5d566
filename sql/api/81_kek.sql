-- 81_kek.sql - api functions of the keys of personal data at rest
-- (issue 15, docs/data-protection.md).  A repeatable file
-- (docs/sql-api.md, "Migrations"); the tables are in 0017 and 0020.

/*
 * Trigger on care.data_key (0020) and invest.data_key (0025): a data key
 * is never wrapped by a retired KEK (care.kek_retired); the error names
 * the table it refuses for.  SECURITY DEFINER: the roles that write
 * data keys need not read the retired list themselves.
 */
CREATE OR REPLACE FUNCTION care.data_key_not_retired() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.wrapped IS NOT NULL AND EXISTS (SELECT 1 FROM care.kek_retired r
	    WHERE r.kek_id = NEW.kek_id) THEN
		RAISE EXCEPTION 'key-encryption key % is retired', NEW.kek_id
		    USING ERRCODE = 'check_violation', COLUMN = 'kek_id',
		    TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
		    CONSTRAINT = 'data_key_kek_id_retired_check';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION care.data_key_not_retired() IS
    'Trigger: a data key is never wrapped by a retired KEK.';

/*
 * What is still stored in plaintext (0020 created it; 0025 added the
 * investigation records' references, stored before 0025): counts only,
 * never a value.  SECURITY DEFINER of the owner, who reads past
 * row-level security.  Before api.data_plaintext_left, whose body
 * (LANGUAGE sql) is checked against it when it is created.
 */
CREATE OR REPLACE FUNCTION care.plaintext_left() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object(
	    'subjects', (SELECT pg_catalog.count(*) FROM care.subject s
	        WHERE pg_catalog.num_nonnulls(s.given_name, s.family_name,
	            s.birth_date, s.phone, s.address, s.narrative) > 0),
	    'signals', (SELECT pg_catalog.count(*) FROM intake.signal s
	        WHERE s.reporter_reference IS NOT NULL),
	    'decisions', (SELECT pg_catalog.count(*) FROM ident.decision d
	        WHERE d.rationale IS NOT NULL),
	    'idempotency', (SELECT pg_catalog.count(*)
	        FROM intake.idempotency i WHERE NOT i.request_keyed),
	    'investigations', (SELECT pg_catalog.count(*) FROM invest.record r
	        WHERE pg_catalog.num_nonnulls(r.police_reference,
	            r.prosecution_reference) > 0))
$$;
COMMENT ON FUNCTION care.plaintext_left() IS
    'How many rows still hold personal data in plaintext (subjects, '
    'signals'' references, identification rationales, investigation '
    'records'' references) or an unkeyed idempotency hash: counts only, '
    'never a value.';
REVOKE ALL ON FUNCTION care.plaintext_left() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.plaintext_left() TO nrm_gate;

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
