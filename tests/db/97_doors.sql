-- 97_doors.sql - issue 14 part 1: nrm_app, nrmd's login, reaches the data
-- only through the doors of sql/api/99_doors.sql; the analyst's, the
-- auditor's and the audit reader's roles only what their doors and
-- verification need; a session's own scope settings reach nothing.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(30);
\ir fixtures.psql

-- Every relation of the nrm schemas, enumerated from the catalog.
CREATE TEMP VIEW nrm_rel AS
SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS rel, c.relkind,
    (SELECT quote_ident(a.attname) FROM pg_attribute a
     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum LIMIT 1) AS col
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspowner = (SELECT datdba FROM pg_database
        WHERE datname = current_database())
  AND n.nspname <> 'public'
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S');

-- p_sql as p_role for every relation (%1$s: its name, %2$s: its first
-- column): the relations where
-- the answer was anything but permission denied (42501), with it.
CREATE FUNCTION pg_temp.not_denied(p_role text, p_sql text,
    p_kinds "char"[])
RETURNS TABLE (rel text, state text)
LANGUAGE plpgsql AS $$
DECLARE
	v record;
	v_state text;
BEGIN
	FOR v IN SELECT * FROM nrm_rel WHERE relkind = ANY (p_kinds)
	    ORDER BY 1 LOOP
		v_state := pg_temp.sqlstate_as(p_role,
		    format(p_sql, v.rel, v.col));
		IF v_state <> '42501' THEN
			rel := v.rel;
			state := v_state;
			RETURN NEXT;
		END IF;
	END LOOP;
END
$$;

SELECT cmp_ok((SELECT count(*)::int FROM nrm_rel WHERE relkind = 'r'), '>',
    30, 'the enumeration finds the tables (not an empty loop)');

-- ---------------------------------------------------------------------
-- nrm_app: permission denied on every relation, for every command.
-- ---------------------------------------------------------------------
SELECT is_empty(format($$SELECT * FROM pg_temp.not_denied('nrm_app', %L,
    %L)$$, t.sql, t.kinds), 'nrm_app: ' || t.what || ' is denied')
FROM (VALUES
    ('SELECT 1 FROM %s LIMIT 1', '{r,p,v,m,f,S}',
        'SELECT on every table, view and sequence'),
    ('INSERT INTO %s DEFAULT VALUES', '{r,p,v,f}',
        'INSERT into every table'),
    ('UPDATE %1$s SET %2$s = %2$s WHERE false', '{r,p,v,f}',
        'UPDATE of every table'),
    ('DELETE FROM %s WHERE false', '{r,p,v,f}', 'DELETE from every table'),
    ('TRUNCATE %s', '{r,p}', 'TRUNCATE of every table'),
    ('SELECT nextval(%L)', '{S}', 'nextval of every sequence')) t(sql, kinds,
    what);
SELECT is_empty($$
    SELECT r.rel, p FROM nrm_rel r,
        unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) p
    WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND has_any_column_privilege('nrm_app', r.oid, p)$$,
    'nrm_app holds no column privilege either');
SELECT is_empty($$SELECT nspname FROM pg_namespace
    WHERE nspowner = (SELECT datdba FROM pg_database
        WHERE datname = current_database())
      AND nspname NOT IN ('public', 'api')
      AND has_schema_privilege('nrm_app', oid, 'USAGE')$$,
    'nrm_app may use no schema but api');
SELECT is_empty($$SELECT roleid::regrole::text FROM pg_auth_members
    WHERE member = 'nrm_app'::regrole$$,
    'nrm_app is a member of no role');

-- SET ROLE, from a real session of nrm_app (a superuser's session could).
SELECT dblink_connect('app', replace(pg_temp.dblink_connstr(),
    'user=postgres', 'user=nrm_app')) \g /dev/null
SELECT is((SELECT u FROM dblink('app', 'SELECT session_user::text')
    AS t(u text)), 'nrm_app', 'a session of nrm_app');
-- p_sql in the session of nrm_app: 'ok' or the SQLSTATE.
CREATE FUNCTION pg_temp.app_state(p_sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM dblink_exec('app', p_sql);
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END
$$;
CREATE FUNCTION pg_temp.set_role_states() RETURNS TABLE (role text,
    state text)
LANGUAGE sql AS $$
	SELECT rolname, pg_temp.app_state(format('SET ROLE %I', rolname))
	FROM pg_roles WHERE rolname <> 'nrm_app' ORDER BY 1
$$;
SELECT is_empty($$SELECT * FROM pg_temp.set_role_states()
    WHERE state <> '42501'$$,
    'nrm_app may SET ROLE to no other role (every role of the cluster)');
SELECT cmp_ok((SELECT count(*)::int FROM pg_temp.set_role_states()), '>',
    20, '... the roles were enumerated');
SELECT is(pg_temp.app_state('SELECT count(*) FROM auth.api_key'), '42501',
    'the session of nrm_app cannot read the keys (permission denied)');

-- ---------------------------------------------------------------------
-- Functions: nrm_app executes exactly the doors, each a SECURITY
-- DEFINER of a NOLOGIN role with a pinned search_path.
-- ---------------------------------------------------------------------
SELECT set_eq($$SELECT sig FROM fn
    WHERE schema IN (SELECT nspname FROM pg_namespace
            WHERE nspowner = (SELECT datdba FROM pg_database
                WHERE datname = current_database()))
      AND schema <> 'public'
      AND has_function_privilege('nrm_app', oid, 'EXECUTE')$$,
    $$SELECT name::regprocedure::text FROM nrm.door$$,
    'nrm_app may execute the doors (nrm.door) and no other function');
SELECT is_empty($$SELECT d.name FROM nrm.door d
    JOIN fn ON fn.oid = d.name::regprocedure
    WHERE NOT fn.secdef OR NOT fn.pinned$$,
    'every door is SECURITY DEFINER with search_path pg_catalog, pg_temp');
SELECT is_empty($$SELECT d.name FROM nrm.door d
    JOIN fn ON fn.oid = d.name::regprocedure
    JOIN pg_roles o ON o.oid = fn.owner
    WHERE o.rolcanlogin OR o.rolsuper
       OR o.rolname <> CASE WHEN cardinality(d.roles) = 1 THEN d.roles[1]
           ELSE 'nrm_gate' END$$,
    'every door is owned by its NOLOGIN role (two to four: nrm_gate)');
SELECT is_empty($$SELECT d.name, r FROM nrm.door d, unnest(d.roles) r
    WHERE cardinality(d.roles) >= 2
      AND NOT EXISTS (SELECT 1 FROM fn
          WHERE fn.sig = replace(d.name, '(', '__' || substr(r, 5) || '(')
            AND fn.secdef AND fn.pinned AND fn.owner = r::regrole
            AND NOT has_function_privilege('nrm_app', fn.oid, 'EXECUTE'))$$,
    'a door of two to four roles has an implementation per role, '
    'owned by it');

SELECT is((SELECT provolatile::text FROM pg_proc
    WHERE oid = 'api.principal_role(bytea)'::regprocedure), 's',
    'api.principal_role is STABLE: picking the implementation writes '
    'nothing (an expired session is ended by the authentication alone)');

-- Calling what is no door, with NULL arguments: permission denied for
-- every function of the nrm schemas (trigger functions aside: only a
-- trigger calls them).
CREATE FUNCTION pg_temp.call_states() RETURNS TABLE (sig text, state text)
LANGUAGE plpgsql AS $$
DECLARE
	f record;
BEGIN
	FOR f IN SELECT p.oid, p.oid::regprocedure::text AS s,
	        format('%I.%I', n.nspname, p.proname) AS q,
	        (SELECT string_agg(format('NULL::%s', t::regtype), ', '
	            ORDER BY o) FROM unnest(p.proargtypes) WITH ORDINALITY
	            AS a(t, o)) AS args
	    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	    WHERE n.nspowner = (SELECT datdba FROM pg_database
	            WHERE datname = current_database())
	      AND n.nspname <> 'public' AND p.prokind = 'f'
	      AND p.prorettype NOT IN ('trigger'::regtype,
	          'event_trigger'::regtype)
	      AND p.oid NOT IN (SELECT name::regprocedure FROM nrm.door)
	    ORDER BY 2 LOOP
		sig := f.s;
		state := pg_temp.sqlstate_as('nrm_app', format(
		    'SELECT %s(%s)', f.q, coalesce(f.args, '')));
		RETURN NEXT;
	END LOOP;
END
$$;
CREATE TEMP TABLE call_state AS SELECT * FROM pg_temp.call_states();
SELECT is_empty($$SELECT * FROM call_state WHERE state <> '42501'$$,
    'nrm_app: calling any function that is no door is permission denied');
SELECT cmp_ok((SELECT count(*)::int FROM call_state), '>', 100,
    '... every such function was called (authenticate, audit, the '
    'implementations, the bodies among them)');
SELECT ok((SELECT bool_and(sig IN (SELECT sig FROM call_state)) FROM
    unnest(ARRAY['api.authenticate(bytea,text,inet,text[],text,text,text)',
        'api.audit(uuid,uuid,text,text,text,text,text,text,text,text,inet)',
        'api.scope(uuid,uuid,text,text[])',
        'api.case_get_body(bytea,text,inet,uuid,text,text)',
        'api.case_get__coordinator(bytea,text,inet,uuid,text,text)'])
    AS t(sig)), '... the gate''s functions, a body and an implementation');

-- ---------------------------------------------------------------------
-- A session that sets the scope itself gets only what its key allows.
-- The coordinator's key holds VR13; case O lies in VR01.
-- ---------------------------------------------------------------------
DO $$
BEGIN
	PERFORM pg_temp.named_case('O', '{"region": "VR01"}');
	PERFORM pg_temp.named_case('K');
END
$$;
SELECT is((SELECT region_code FROM care.case WHERE id = pg_temp.cid('O')),
    'VR01', 'case O lies outside the coordinator''s VR13');
SET nrm.regions = 'VR01,VR13';
SET nrm.role = 'coordinator';
SET nrm.key_id = 'b0000000-0000-4000-8000-000000000003';
SET nrm.case_id = '00000000-0000-4000-8000-000000000000';
INSERT INTO r SELECT 'forged', pg_temp.case_get('tok-coordinator',
    pg_temp.cid('O'), NULL, 'req-forged');
SELECT is((SELECT v->>'status' FROM r WHERE name = 'forged'), '404',
    'nrm.regions set by the session: the case of VR01 stays out of reach');
SELECT is((SELECT array_agg(DISTINCT i->>'region') FROM jsonb_array_elements(
    pg_temp.inbox('tok-coordinator')->'body'->'items') i), '{VR13}',
    '... and the inbox lists the key''s VR13 only');
SET nrm.person_id = 'c0000000-0000-4000-8000-00000000dead';
SELECT is(api.auth_rejections(3, 10), '{"recorded": 1}',
    'a door without a token, after the session set nrm.person_id');
SELECT is((SELECT person_id FROM audit.event
    WHERE action = 'auth.rejected_burst' ORDER BY id DESC LIMIT 1), NULL,
    '... writes no person the session named');
RESET nrm.regions;
RESET nrm.role;
RESET nrm.key_id;
RESET nrm.case_id;
RESET nrm.person_id;

-- ---------------------------------------------------------------------
-- The analyst's, the auditor's and the audit reader's roles: the tables
-- they may read are exactly what their doors and verification need, they
-- write no table, and they belong to no role (so SET ROLE from them, or
-- a login IN ROLE them, reaches nothing else).
-- ---------------------------------------------------------------------
SELECT set_eq($$SELECT role, r.rel FROM nrm_rel r,
        unnest(ARRAY['nrm_analyst', 'nrm_auditor', 'nrm_audit_reader'])
        role
    WHERE r.relkind IN ('r', 'p', 'v', 'm')
      AND has_table_privilege(role, r.oid, 'SELECT')$$,
    $$VALUES ('nrm_auditor', 'audit.event'), ('nrm_auditor', 'audit.chain'),
        ('nrm_auditor', 'audit.retention'),
        ('nrm_auditor', 'audit.anchor_signature'),
        ('nrm_auditor', 'audit.unsealed'), ('nrm_auditor', 'audit.review'),
        ('nrm_auditor', 'ref.region'), ('nrm_auditor', 'ref.municipality'),
        ('nrm_audit_reader', 'audit.event'),
        ('nrm_audit_reader', 'audit.chain'),
        ('nrm_audit_reader', 'audit.unsealed'),
        ('nrm_audit_reader', 'audit.retention'),
        ('nrm_audit_reader', 'audit.anchor_signature')$$,
    'analyst, auditor, audit reader: SELECT on what their doors and '
    'verification read, nothing else (the analyst: no table)');
SELECT set_eq($$SELECT role, r.rel, p FROM nrm_rel r,
        unnest(ARRAY['nrm_analyst', 'nrm_auditor', 'nrm_audit_reader'])
        role, unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p
    WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND (has_table_privilege(role, r.oid, p)
          OR (p IN ('INSERT', 'UPDATE')
              AND has_any_column_privilege(role, r.oid, p)))$$,
    $$VALUES ('nrm_auditor', 'audit.review', 'UPDATE')$$,
    'analyst, auditor, audit reader: they write nothing (no audit row) but '
    'the auditor''s review verdict (columns of audit.review)');
SELECT is_empty($$SELECT m.member::regrole::text, m.roleid::regrole::text
    FROM pg_auth_members m
    WHERE m.member IN ('nrm_analyst'::regrole, 'nrm_auditor'::regrole,
        'nrm_audit_reader'::regrole)$$,
    'analyst, auditor, audit reader: members of no role');

SELECT dblink_disconnect('app') \g /dev/null
SELECT * FROM finish();
ROLLBACK;
