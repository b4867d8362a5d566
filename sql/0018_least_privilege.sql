-- 0018_least_privilege.sql - issue 14 part 1: the daemon's database
-- credential reaches the data only through the doors (docs/security.md,
-- "The daemon's database credential"; docs/sql-api.md, "Doors").
--
-- Roles, memberships and table grants only; the doors themselves (which
-- api function is SECURITY DEFINER, owned by which role, executable by
-- nrm_app) are the list of sql/api/99_doors.sql, applied after every
-- other repeatable file.
--
-- - nrm_gate (NOLOGIN): owns api.authenticate, the audit writers and the
--   doors that serve no API role (api.authorize, api.record,
--   api.schema_version ...).  It alone of the roles a door runs as reads
--   auth.api_key and auth.agency and inserts into audit.event.
-- - nrm_app: member of no role, no privilege on any table, sequence or
--   schema but USAGE on api; EXECUTE on the doors (99_doors.sql).
-- - the API roles lose INSERT on audit.event: they audit through
--   api.audit / api.audit_person (SECURITY DEFINER of nrm_gate).
-- - nrm_owner becomes a member of the API roles and of nrm_gate only
--   because a new owner must be a role the current one belongs to
--   (ALTER FUNCTION ... OWNER TO), as for nrm_sweeper (0004).

DO $roles$
DECLARE
	r text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_gate') THEN
		CREATE ROLE nrm_gate NOLOGIN;
	END IF;
	FOREACH r IN ARRAY ARRAY['nrm_gate', 'nrm_reporter', 'nrm_coordinator',
	    'nrm_assessor', 'nrm_investigator', 'nrm_auditor', 'nrm_analyst',
	    'nrm_admin', 'nrm_chain_director']
	LOOP
		IF NOT pg_catalog.pg_has_role(current_user, r, 'MEMBER') THEN
			EXECUTE pg_catalog.format('GRANT %I TO %I', r,
			    current_user);
		END IF;
	END LOOP;
	-- nrm_app belongs to no role at all (0001 and 0012 made it a
	-- member of the API roles).
	FOR r IN SELECT m.roleid::regrole::text
	    FROM pg_catalog.pg_auth_members m
	    WHERE m.member = 'nrm_app'::regrole
	LOOP
		EXECUTE pg_catalog.format('REVOKE %s FROM nrm_app', r);
	END LOOP;
END
$roles$;
COMMENT ON ROLE nrm_gate IS
    'nrm: owner of api.authenticate, the audit writers (api.audit, '
    'api.audit_person) and the doors of no API role (sql/api/'
    '99_doors.sql); reads auth.api_key and auth.agency, inserts into '
    'audit.event.  NOLOGIN; nrm_app is no member.';
COMMENT ON ROLE nrm_app IS
    'nrm: nrmd''s login.  Member of no role; EXECUTE on the doors of '
    'sql/api/99_doors.sql and USAGE on schema api, nothing else.';

-- nrm_app: no table, sequence or schema privilege anywhere (column
-- grants included), USAGE on api alone so that it can name the doors.
DO $app$
DECLARE
	s text;
	t text;
BEGIN
	FOR s IN SELECT n.nspname FROM pg_catalog.pg_namespace n
	    WHERE n.nspowner = current_user::regrole
	LOOP
		EXECUTE pg_catalog.format(
		    'REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM nrm_app', s);
		EXECUTE pg_catalog.format(
		    'REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM nrm_app', s);
		IF s <> 'api' THEN
			EXECUTE pg_catalog.format(
			    'REVOKE ALL ON SCHEMA %I FROM nrm_app', s);
		END IF;
	END LOOP;
	FOR t IN SELECT DISTINCT pg_catalog.format('%I.%I', c.table_schema,
	        c.table_name)
	    FROM information_schema.column_privileges c
	    WHERE c.grantee = 'nrm_app'
	LOOP
		EXECUTE pg_catalog.format(
		    'REVOKE ALL (%s) ON %s FROM nrm_app',
		    (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(
		        a.attname), ', ')
		     FROM pg_catalog.pg_attribute a
		     WHERE a.attrelid = t::regclass AND a.attnum > 0
		         AND NOT a.attisdropped), t);
	END LOOP;
END
$app$;

-- nrm_gate: what authenticating and auditing read and write.
GRANT USAGE ON SCHEMA nrm, api, auth, audit TO nrm_gate;
GRANT SELECT ON nrm.schema_version, nrm.schema_repeatable TO nrm_gate;
GRANT SELECT ON auth.api_key, auth.agency TO nrm_gate;
GRANT INSERT ON audit.event TO nrm_gate;

-- The owners of the doors that take no token name api.scope_clear.
GRANT USAGE ON SCHEMA api TO nrm_sweeper, nrm_audit_sealer, nrm_overview;

-- The API roles append audit events only through the gate's writers.
REVOKE INSERT ON audit.event FROM nrm_reporter, nrm_coordinator,
    nrm_assessor, nrm_investigator, nrm_auditor, nrm_analyst, nrm_admin,
    nrm_chain_director;

-- The list of doors, filled by sql/api/99_doors.sql (the one place it is
-- written) and read by it and by the tests.
CREATE TABLE nrm.door (
	name text NOT NULL,
	roles text[] NOT NULL,
	CONSTRAINT door_pkey PRIMARY KEY (name),
	CONSTRAINT door_name_check CHECK (name ~ '^api\.[a-z_0-9]+\(.*\)$'),
	CONSTRAINT door_roles_check CHECK (pg_catalog.cardinality(roles)
	    BETWEEN 1 AND 2)
);
COMMENT ON TABLE nrm.door IS
    'The functions nrm_app may execute (sql/api/99_doors.sql): name, the '
    'signature as regprocedure prints it; roles, the NOLOGIN role that '
    'owns it (SECURITY DEFINER), or two API roles for a door that '
    'dispatches to an implementation owned by each.';
