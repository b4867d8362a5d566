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
