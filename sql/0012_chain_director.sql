-- 0012_chain_director.sql - the chain director (ketenregisseur) and the
-- central information point (issue 20): a national API role that sees
-- live counts per region and never a case id or personal data
-- (docs/authorization.md, docs/sql-api.md "Overview").
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  The function bodies stand in sql/api/70_overview.sql.
--
-- nrm_chain_director holds what every API role holds (the api helpers,
-- reference data, appending its own audit events) and NO privilege on a
-- table of cases, signals, subjects, keys or persons: its one window on
-- them is care.overview_counts (SECURITY DEFINER, owned by nrm_overview),
-- which answers counts per region only.

DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_chain_director') THEN
		CREATE ROLE nrm_chain_director NOLOGIN;
	END IF;
	IF NOT pg_catalog.pg_has_role('nrm_app', 'nrm_chain_director',
	    'MEMBER') THEN
		GRANT nrm_chain_director TO nrm_app;
	END IF;
END
$roles$;
COMMENT ON ROLE nrm_chain_director IS
    'nrm: the API role chain_director (national, live counts only; no '
    'table of cases, signals, subjects, keys or persons).';

GRANT USAGE ON SCHEMA api, ref, audit TO nrm_chain_director;
-- Schema care for the overview's functions only: no table of it.
GRANT USAGE ON SCHEMA care TO nrm_chain_director;
GRANT SELECT ON ref.region, ref.municipality TO nrm_chain_director;
GRANT INSERT ON audit.event TO nrm_chain_director;

-- The role vocabularies gain chain_director (same constraint names).
ALTER TABLE auth.api_key
	DROP CONSTRAINT api_key_role_check,
	ADD CONSTRAINT api_key_role_check CHECK (role IN ('reporter',
	    'coordinator', 'assessor', 'investigator', 'auditor', 'analyst',
	    'admin', 'chain_director'));
ALTER TABLE auth.person
	DROP CONSTRAINT person_role_check,
	ADD CONSTRAINT person_role_check CHECK (role IN ('reporter',
	    'coordinator', 'assessor', 'investigator', 'auditor', 'analyst',
	    'admin', 'chain_director'));
ALTER TABLE audit.event
	DROP CONSTRAINT event_role_check,
	ADD CONSTRAINT event_role_check CHECK (role IS NULL OR role IN (
	    'reporter', 'coordinator', 'assessor', 'investigator', 'auditor',
	    'analyst', 'admin', 'chain_director'));

-- ---------------------------------------------------------------------
-- The overview's reader.  NOLOGIN, and nrm_app is NOT a member: it owns
-- care.overview_counts and care.overview_coverage (SECURITY DEFINER,
-- sql/api/70_overview.sql), which answer counts per region and nothing
-- else, and holds exactly the columns they count: no case id leaves
-- them, and no column of a person, a subject or a signal is readable.
-- nrm_owner becomes a member only to hand the functions over (as for
-- nrm_sweeper).
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_overview') THEN
		CREATE ROLE nrm_overview NOLOGIN;
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, 'nrm_overview', 'MEMBER')
	THEN
		EXECUTE pg_catalog.format('GRANT nrm_overview TO %I',
		    current_user);
	END IF;
	IF pg_catalog.pg_has_role('nrm_app', 'nrm_overview', 'MEMBER') THEN
		REVOKE nrm_overview FROM nrm_app;
	END IF;
END
$roles$;
COMMENT ON ROLE nrm_overview IS
    'nrm: owner of care.overview_counts and care.overview_coverage '
    '(SECURITY DEFINER): counts per region for GET /v1/overview and the '
    'live coverage.  NOLOGIN; nrm_app is no member.';

GRANT USAGE ON SCHEMA care, auth, audit, ref TO nrm_overview;
GRANT SELECT ON ref.region TO nrm_overview;
GRANT SELECT (id, region_code, state, take_by, first_contact_by)
    ON care.case TO nrm_overview;
GRANT SELECT (id, case_id, at, action, detail) ON care.case_history
    TO nrm_overview;
GRANT SELECT (case_id, at, from_region) ON care.escalation TO nrm_overview;
GRANT SELECT (id, role, regions, revoked_at) ON auth.api_key
    TO nrm_overview;
GRANT SELECT (key_id, role, regions, status) ON auth.person
    TO nrm_overview;
GRANT SELECT (id, api_key_id, at, outcome) ON audit.event TO nrm_overview;

CREATE POLICY case_overview_select ON care.case
FOR SELECT TO nrm_overview USING (true);
CREATE POLICY case_history_overview_select ON care.case_history
FOR SELECT TO nrm_overview USING (true);
COMMENT ON POLICY case_overview_select ON care.case IS
    'The overview counts every case (care.overview_counts answers counts '
    'per region only).';
COMMENT ON POLICY case_history_overview_select ON care.case_history IS
    'The overview reads every case''s history for its counts (time to '
    'take, transfers not yet taken).';
