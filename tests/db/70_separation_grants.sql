-- 70_separation_grants.sql - 0006: the identification and investigation
-- tracks are separated by grants, both directions, table by table and
-- column by column; no identification code mentions the investigation
-- track and the reverse; row-level security is on where it must be.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(138);
\ir fixtures.psql
\ir grants.psql

-- Every nrm role but the owner (API roles, nrm_app, helper roles).
CREATE TEMP VIEW nrm_role AS
SELECT r.oid, r.rolname::text AS rolname FROM pg_roles r
WHERE r.rolname LIKE 'nrm\_%' AND r.rolname <> 'nrm_owner';

CREATE TEMP VIEW priv AS
SELECT unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
    'REFERENCES', 'TRIGGER']) AS p;

-- The columns of p_tbl on which p_role has p_priv, in name order.
CREATE FUNCTION pg_temp.cols(p_role text, p_tbl regclass, p_priv text)
RETURNS text[] LANGUAGE sql STABLE AS $$
	SELECT coalesce(array_agg(a.attname::text ORDER BY a.attname), '{}')
	FROM pg_attribute a WHERE a.attrelid = p_tbl AND a.attnum > 0
	  AND NOT a.attisdropped
	  AND has_column_privilege(p_role, a.attrelid, a.attnum, p_priv)
$$;

-- Any privilege of a role on a table: table-level, or on any column.
CREATE FUNCTION pg_temp.any_priv(p_role oid, p_tbl oid) RETURNS text[]
LANGUAGE sql STABLE AS $$
	SELECT coalesce(array_agg(p ORDER BY p), '{}') FROM priv
	WHERE has_table_privilege(p_role, p_tbl, p)
	   OR (p IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
	       AND has_any_column_privilege(p_role, p_tbl, p))
$$;

-- ---------------------------------------------------------------------
-- The complete table-level matrix of schemas ident and invest.
-- ---------------------------------------------------------------------
SELECT tables_are('ident', ARRAY['profile', 'decision', 'panel',
    'panel_member', 'panel_vote'], 'ident tables');
SELECT tables_are('invest', ARRAY['case_share', 'record', 'data_key'],
    'invest tables');
SELECT set_eq($$
    SELECT r.rolname, n.nspname || '.' || c.relname, p.p
    FROM nrm_role r CROSS JOIN pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN priv p
    WHERE c.relkind = 'r' AND n.nspname IN ('ident', 'invest')
      AND has_table_privilege(r.oid, c.oid, p.p)$$,
    $$SELECT role, tbl, priv FROM expected_grant
    WHERE tbl ~ '^(ident|invest)\.'$$,
    'ident/invest table grants are exactly the documented matrix');

-- Identification track -> nobody on the criminal side, and the reverse:
-- every table, every privilege, table or column level.
-- Per schema of a track: the only roles with any privilege on its
-- tables and views, or EXECUTE on its functions (the others listed).
CREATE TEMP TABLE track (schema text, roles text[], others text);
INSERT INTO track VALUES
-- nrm_statistician (0013) reads five columns of ident.decision for the
-- counts, never the rationale: 95_statistics.sql pins exactly which.
-- nrm_privacy (0019) reads and clears a case's rationales for an export
-- or an erasure (SECURITY DEFINER functions only).
('ident', '{nrm_coordinator,nrm_assessor,nrm_statistician,nrm_privacy}',
    'not investigator, reporter, auditor, analyst, admin, nrm_app, '
    'sweeper, sharer'),
-- nrm_statistician (0016) reads three columns of invest.record: whether
-- a record exists for a case or signal, and since when (the column
-- grant below pins them).
-- nrm_invest_eraser (0025) reads the ids of invest.record and
-- invest.data_key and clears their sealed columns (invest.erase_signal,
-- its SECURITY DEFINER function, which nrm_privacy's erasure calls:
-- nrm_privacy may execute that one function of schema invest).
('invest', '{nrm_investigator,nrm_case_sharer,nrm_statistician,'
    'nrm_invest_eraser,nrm_privacy}',
    'not coordinator, assessor, reporter, auditor, analyst, admin, '
    'nrm_app, sweeper');
SELECT is_empty(format($$
    SELECT r.rolname || ' ' || n.nspname || '.' || c.relname
    FROM nrm_role r CROSS JOIN pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'v') AND n.nspname = %L
      AND r.rolname <> ALL (%L)
      AND pg_temp.any_priv(r.oid, c.oid) <> '{}'$$, t.schema, t.roles),
    t.schema || '.*: no privilege at all for any role but '
    || array_to_string(t.roles, ' and ') || ' (' || t.others || ')')
FROM track t;
SELECT ok(NOT has_schema_privilege(r, t.schema, 'USAGE'),
    r || ' has no USAGE on schema ' || t.schema)
FROM track t, unnest(CASE t.schema WHEN 'ident' THEN ARRAY[
        'nrm_investigator', 'nrm_reporter', 'nrm_auditor', 'nrm_analyst',
        'nrm_admin', 'nrm_app', 'nrm_sweeper', 'nrm_case_sharer',
        'nrm_people']
    ELSE ARRAY['nrm_coordinator', 'nrm_assessor', 'nrm_reporter',
        'nrm_auditor', 'nrm_analyst', 'nrm_admin', 'nrm_app', 'nrm_sweeper',
        'nrm_people'] END) r;

-- Per table, both directions, with has_table_privilege.
SELECT ok(has_table_privilege(r, t, 'SELECT')
    AND has_table_privilege(r, t, 'INSERT')
    AND NOT has_table_privilege(r, t, 'UPDATE')
    AND NOT has_table_privilege(r, t, 'DELETE'),
    r || ': SELECT and INSERT on ' || t || ', no UPDATE or DELETE '
    '(append-only)')
FROM unnest(ARRAY['nrm_coordinator', 'nrm_assessor']) r,
    unnest(ARRAY['ident.decision']) t;
SELECT ok(NOT has_table_privilege(r, t, 'SELECT')
    AND NOT has_table_privilege(r, t, 'INSERT'),
    r || ': nothing of ' || t)
FROM unnest(ARRAY['nrm_coordinator', 'nrm_assessor']) r,
    unnest(ARRAY['invest.record', 'invest.case_share']) t;
SELECT ok(NOT has_table_privilege('nrm_investigator', t, 'SELECT')
    AND NOT has_table_privilege('nrm_investigator', t, 'INSERT'),
    'investigator: nothing of ' || t)
FROM unnest(ARRAY['ident.decision', 'ident.profile']) t;

-- Column grants: role, table, privilege, exactly these columns.
SELECT is(pg_temp.cols(c.role, c.tbl, c.priv), c.cols, c.descr)
FROM (VALUES
-- The investigator on the care side and intake: two columns of
-- intake.signal, nothing else.
('nrm_investigator', 'intake.signal'::regclass, 'SELECT',
    '{agency_id,id}'::text[],
    'investigator reads exactly intake.signal (id, agency_id)'),
-- Investigator: which columns of its own track it may change or read.
('nrm_investigator', 'invest.record', 'UPDATE',
    '{data_key_id,police_reference,police_reference_ct,'
    'prosecution_reference,prosecution_reference_ct,report_filed,'
    'report_filed_on,status,updated_at,version}',
    'investigator updates references (sealed, 0025), report and status of '
    'a record; never its agency, signal, case, creator'),
('nrm_invest_eraser', 'invest.record', 'SELECT', '{case_id,id,signal_id}',
    'the eraser reads which records are about a signal or case, nothing '
    'of them'),
('nrm_invest_eraser', 'invest.data_key', 'SELECT',
    '{destroyed_at,id,record_id}',
    'the eraser reads no wrapped key'),
('nrm_privacy', 'invest.record', 'SELECT', '{}',
    'the privacy officer''s functions read nothing of a record'),
('nrm_investigator', 'invest.case_share', 'SELECT',
    '{agency_id,case_id,consent_recorded_at}',
    'investigator reads which cases were shared with it, not by whom'),
('nrm_statistician', 'invest.record', 'SELECT',
    '{case_id,created_at,signal_id}',
    'the statistician reads only whether and since when a record exists '
    'for a case or signal: no reference, report or status'),
('nrm_coordinator', 'auth.person', 'SELECT',
    '{agency_id,id,key_id,regions,role,status}',
    'nrm_coordinator reads no login or name of auth.person')
) AS c(role, tbl, priv, cols, descr);
SELECT is(pg_temp.any_priv('nrm_investigator'::regrole, t::regclass),
    CASE t WHEN 'intake.signal' THEN ARRAY['SELECT'] ELSE '{}' END,
    'investigator on ' || t || ': '
    || CASE t WHEN 'intake.signal' THEN 'SELECT of two columns only'
    ELSE 'nothing' END)
FROM unnest(ARRAY['care.subject', 'care.case', 'care.case_history',
    'care.escalation', 'care.case_item', 'intake.signal',
    'intake.idempotency', 'auth.api_key', 'auth.agency']) t;
SELECT ok(NOT has_schema_privilege('nrm_investigator', 'care', 'USAGE'),
    'investigator has no USAGE on schema care');

-- Really try, as the role (42501 = insufficient_privilege).
SELECT is(pg_temp.sqlstate_as('nrm_investigator', s), '42501',
    'investigator: ' || regexp_replace(s, '\s+', ' ', 'g') || ' refused')
FROM unnest(ARRAY['SELECT count(*) FROM ident.decision',
    'SELECT count(*) FROM ident.profile',
    'SELECT count(*) FROM care.case',
    'SELECT count(*) FROM care.subject',
    'SELECT count(*) FROM care.case_history',
    'SELECT reporter_reference FROM intake.signal',
    'SELECT count(*) FROM care.case_item',
    $$INSERT INTO ident.decision (case_id, stage, outcome, deciding_body,
        decided_on, recorded_by, profile) VALUES (gen_random_uuid(),
        'initial', 'positive', 'other', '2024-05-01',
        'b0000000-0000-4000-8000-000000000001', 'nl')$$]) s;
SELECT is(pg_temp.sqlstate_as('nrm_investigator', s), 'ok',
    'investigator: may run ' || s)
FROM unnest(ARRAY['SELECT id, agency_id FROM intake.signal',
    'SELECT count(*) FROM invest.record']) s;
SELECT is(pg_temp.sqlstate_as(r, s), '42501',
    r || ': ' || regexp_replace(s, '\s+', ' ', 'g') || ' refused')
FROM unnest(ARRAY['nrm_coordinator', 'nrm_assessor']) r,
    unnest(ARRAY['SELECT count(*) FROM invest.record',
        'SELECT count(*) FROM invest.case_share',
        $$INSERT INTO invest.case_share (case_id, agency_id, shared_by)
            VALUES (gen_random_uuid(), gen_random_uuid(),
            gen_random_uuid())$$]) s;
SELECT is(pg_temp.sqlstate_as(r, 'SELECT count(*) FROM ident.decision'),
    'ok', r || ': may select ident.decision')
FROM unnest(ARRAY['nrm_coordinator', 'nrm_assessor']) r;
SELECT is(pg_temp.sqlstate_as(r, s), '42501', r || ': ' || s || ' refused')
FROM unnest(ARRAY['nrm_reporter', 'nrm_auditor', 'nrm_analyst',
    'nrm_admin', 'nrm_app']) r,
    unnest(ARRAY['SELECT count(*) FROM ident.decision',
        'SELECT count(*) FROM invest.record']) s;

-- Functions of each track: executable by that track's roles only.
SELECT is_empty(format($$SELECT r.rolname || ' ' || f.sig
    FROM nrm_role r CROSS JOIN fn f WHERE f.schema = %L
      AND r.rolname <> ALL (%L)
      AND has_function_privilege(r.oid, f.oid, 'EXECUTE')$$, t.schema,
    t.roles), t.schema || ' functions: executable by '
    || array_to_string(t.roles, ' and ') || ' only')
FROM track t;
SELECT is_empty($$SELECT sig FROM fn
    WHERE schema IN ('ident', 'invest', 'api', 'care') AND public_exec$$,
    'PUBLIC may execute no function of ident, invest, api, care');
SELECT ok(NOT has_function_privilege(r, 'care.share_case(uuid, uuid)',
    'EXECUTE'), r || ' may not run care.share_case')
FROM unnest(ARRAY['nrm_reporter', 'nrm_assessor', 'nrm_investigator',
    'nrm_auditor', 'nrm_analyst', 'nrm_admin', 'nrm_app']) r;
SELECT ok(has_function_privilege('nrm_coordinator',
    'care.share_case(uuid, uuid)', 'EXECUTE'),
    'coordinators may run care.share_case (the consented share)');
SELECT ok(has_function_privilege('nrm_app', f, 'EXECUTE'),
    'nrm_app may execute ' || f)
FROM unnest(ARRAY['api.ident_record(bytea, text, inet, uuid, jsonb, text)',
    'api.ident_list(bytea, text, inet, uuid, text, text, text)',
    'api.case_share(bytea, text, inet, uuid, uuid, boolean)',
    'api.invest_create(bytea, text, inet, jsonb)',
    'api.invest_get(bytea, text, inet, uuid)',
    'api.invest_patch(bytea, text, inet, uuid, integer, jsonb)']) f;

-- ---------------------------------------------------------------------
-- Source: no identification code mentions the investigation track, and
-- no investigation code mentions identification or care-side content.
-- ---------------------------------------------------------------------
CREATE TEMP VIEW ident_code AS
SELECT sig AS fn, src AS prosrc FROM fn
WHERE schema = 'ident' OR (schema = 'api' AND name LIKE 'ident\_%');
CREATE TEMP VIEW invest_code AS
SELECT sig AS fn, src AS prosrc FROM fn
WHERE schema = 'invest' OR (schema = 'api' AND name LIKE 'invest\_%');

SELECT is_empty($$SELECT fn FROM ident_code WHERE prosrc ~* 'invest'$$,
    'no api.ident_* or ident.* function mentions invest(igation)');
SELECT is_empty($$SELECT fn FROM invest_code WHERE prosrc ~* 'ident'$$,
    'no api.invest_* or invest.* function mentions ident(ification)');
SELECT is_empty($$SELECT fn FROM invest_code WHERE prosrc ~* ('narrative|'
    'explanation|case_history|care\.subject|care\.case\M|rationale|'
    'routing|region')$$,
    'no investigation function mentions the narrative, routing '
    'explanations, case history, the subject or the case row');
-- The views are not empty, and the search does find what it looks for.
SELECT cmp_ok((SELECT count(*)::int FROM ident_code), '>=', 5,
    'the identification functions are found (api.ident_*, ident.*)');
SELECT cmp_ok((SELECT count(*)::int FROM invest_code), '>=', 7,
    'the investigation functions are found (api.invest_*, invest.*)');
SELECT ok(EXISTS (SELECT 1 FROM ident_code WHERE prosrc ~* 'ident\.decision')
    AND EXISTS (SELECT 1 FROM invest_code WHERE prosrc ~* 'invest\.record'),
    'each track''s code does mention its own tables (the search works)');
-- The one care-side bridge writes the share and reads nothing else of
-- the investigation track.
SELECT ok((SELECT prosrc FROM pg_proc
    WHERE oid = 'care.share_case(uuid, uuid)'::regprocedure)
    !~* 'invest\.record',
    'care.share_case does not touch investigation records');
SELECT ok((SELECT prosrc FROM pg_proc
    WHERE oid = 'api.case_share(bytea, text, inet, uuid, uuid, boolean)'
        ::regprocedure) !~* 'invest\.',
    'api.case_share names no invest table (it calls care.share_case)');

-- ---------------------------------------------------------------------
-- Row-level security: on, not forced, nobody bypasses it.
-- ---------------------------------------------------------------------
SELECT results_eq($$
    SELECT (n.nspname || '.' || c.relname) COLLATE "default",
        c.relrowsecurity,
        c.relforcerowsecurity
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid IN ('care.case'::regclass, 'care.subject'::regclass,
        'care.case_history'::regclass, 'intake.signal'::regclass,
        'intake.idempotency'::regclass, 'ident.decision'::regclass,
        'invest.record'::regclass, 'invest.case_share'::regclass,
        'invest.data_key'::regclass)
    ORDER BY 1$$,
    $$VALUES ('care.case', true, false), ('care.case_history', true, false),
        ('care.subject', true, false), ('ident.decision', true, false),
        ('intake.idempotency', true, false), ('intake.signal', true, false),
        ('invest.case_share', true, false),
        ('invest.data_key', true, false), ('invest.record', true, false)$$,
    'row-level security is enabled (not forced: the owner runs '
    'migrations and the SECURITY DEFINER helpers)');
SELECT is_empty($$SELECT rolname FROM pg_roles
    WHERE rolname LIKE 'nrm\_%' AND (rolbypassrls OR rolsuper)$$,
    'no nrm role is a superuser or bypasses row-level security');
SELECT set_eq($$SELECT tablename::text, policyname::text,
        array_to_string(roles, ','), cmd
    FROM pg_policies WHERE schemaname IN ('care', 'intake', 'ident',
        'invest')$$,
    -- each policy is named <table>_<role>_<command>, for one nrm_<role>
    $$SELECT t, t || '_' || r || '_' || lower(c) AS policy,
        'nrm_' || r AS role, c
    FROM (VALUES
    ('case', 'reporter', ARRAY['SELECT', 'INSERT']),
    ('case', 'coordinator', ARRAY['SELECT', 'UPDATE']),
    ('case', 'assessor', ARRAY['SELECT']),
    ('case', 'sweeper', ARRAY['SELECT', 'UPDATE']),
    ('case', 'case_sharer', ARRAY['SELECT']),
    ('case', 'overview', ARRAY['SELECT']),
    ('signal', 'reporter', ARRAY['SELECT', 'INSERT']),
    ('signal', 'investigator', ARRAY['SELECT']),
    ('signal', 'coordinator', ARRAY['SELECT']),
    ('signal', 'assessor', ARRAY['SELECT']),
    ('idempotency', 'reporter', ARRAY['SELECT', 'INSERT']),
    ('subject', 'reporter', ARRAY['INSERT']),
    ('subject', 'coordinator', ARRAY['SELECT']),
    ('subject', 'assessor', ARRAY['SELECT']),
    ('case_history', 'reporter', ARRAY['INSERT']),
    ('case_history', 'coordinator', ARRAY['SELECT', 'INSERT']),
    ('case_history', 'assessor', ARRAY['SELECT']),
    ('case_history', 'sweeper', ARRAY['SELECT', 'INSERT']),
    ('case_history', 'overview', ARRAY['SELECT']),
    ('decision', 'coordinator', ARRAY['SELECT', 'INSERT']),
    ('decision', 'assessor', ARRAY['SELECT', 'INSERT']),
    ('panel', 'assessor', ARRAY['SELECT', 'INSERT', 'UPDATE']),
    ('panel_member', 'assessor', ARRAY['SELECT', 'INSERT', 'UPDATE']),
    ('panel_vote', 'assessor', ARRAY['SELECT', 'INSERT']),
    ('case_share', 'investigator', ARRAY['SELECT']),
    ('case_share', 'case_sharer', ARRAY['SELECT', 'INSERT']),
    ('record', 'investigator', ARRAY['SELECT', 'INSERT', 'UPDATE']),
    -- 0025: a record's data key, its agency's investigators; the
    -- eraser finds the records of an erased case and shreds them.
    ('data_key', 'investigator', ARRAY['SELECT', 'INSERT']),
    ('record', 'invest_eraser', ARRAY['SELECT', 'UPDATE']),
    ('data_key', 'invest_eraser', ARRAY['SELECT', 'UPDATE']),
    -- 0013: the statistics functions' owner counts; the analyst reads
    -- no row.
    ('signal', 'statistician', ARRAY['SELECT']),
    ('case', 'statistician', ARRAY['SELECT']),
    ('case_history', 'statistician', ARRAY['SELECT']),
    ('subject', 'statistician', ARRAY['SELECT']),
    ('decision', 'statistician', ARRAY['SELECT']),
    -- 0023: decided panels and their dissent, counted
    ('panel', 'statistician', ARRAY['SELECT']),
    ('panel_vote', 'statistician', ARRAY['SELECT']),
    -- 0016: the existence of an investigation record (decoupling).
    ('record', 'statistician', ARRAY['SELECT']),
    -- 0019: export, rectification and erasure (nrm_privacy's SECURITY
    -- DEFINER functions), every region.
    ('case', 'privacy', ARRAY['SELECT']),
    ('case_history', 'privacy', ARRAY['SELECT']),
    ('subject', 'privacy', ARRAY['SELECT', 'UPDATE']),
    ('signal', 'privacy', ARRAY['SELECT', 'UPDATE']),
    ('decision', 'privacy', ARRAY['SELECT', 'UPDATE']),
    -- 0022: notes and the support plan (issue 18).
    ('case_note', 'coordinator', ARRAY['SELECT', 'INSERT']),
    ('support_item', 'coordinator', ARRAY['SELECT', 'INSERT', 'UPDATE']),
    -- 0027: follow-ups from the reporter (issue 18).
    ('signal_followup', 'reporter', ARRAY['INSERT']),
    ('signal_followup', 'coordinator', ARRAY['SELECT'])
    ) AS p(t, r, cmds), unnest(cmds) c$$,
    'the row-level security policies are exactly the documented ones '
    '(one role each; nothing for auditor, admin, PUBLIC)');
SELECT is_empty($$SELECT policyname FROM pg_policies
    WHERE schemaname IN ('care', 'intake', 'ident', 'invest')
      AND permissive <> 'PERMISSIVE'$$,
    'all policies are permissive grants of rows (no restrictive ones)');
SELECT is_empty($$SELECT p.policyname FROM pg_policies p
    JOIN pg_class c ON c.relname = p.tablename
    JOIN pg_namespace n ON n.oid = c.relnamespace
        AND n.nspname = p.schemaname
    JOIN pg_policy x ON x.polrelid = c.oid AND x.polname = p.policyname
    WHERE p.schemaname IN ('care', 'intake', 'ident', 'invest')
      AND coalesce(obj_description(x.oid, 'pg_policy'), '') = ''$$,
    'every policy has a comment');

-- ---------------------------------------------------------------------
-- Roles, ownership, conventions of the new objects.
-- ---------------------------------------------------------------------
SELECT pg_temp.definer_role('nrm_case_sharer',
    'care.share_case(uuid, uuid)');
SELECT is(pg_temp.any_priv('nrm_case_sharer'::regrole, t::regclass),
    e, 'nrm_case_sharer on ' || t)
FROM (VALUES ('care.case', ARRAY['SELECT']),
    ('care.subject', '{}'::text[]), ('care.case_history', '{}'),
    ('intake.signal', '{}'), ('invest.case_share', ARRAY['INSERT', 'SELECT']),
    ('invest.record', '{}'), ('ident.decision', '{}')) AS x(t, e);
SELECT is_empty($$SELECT sig FROM fn
    WHERE schema IN ('ident', 'invest') AND NOT pinned$$,
    'every ident/invest function pins search_path = pg_catalog, pg_temp');
-- Issue 14 changed this: the doors and the gate's functions are
-- SECURITY DEFINER (api_definer_extra, catalog.psql).
SELECT is_empty($$SELECT sig FROM api_definer_extra$$,
    'api functions (the new ones too) are SECURITY INVOKER but the doors '
    'and the gate''s');
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('ident', 'invest')
      AND c.relowner <> (SELECT datdba FROM pg_database
          WHERE datname = current_database())$$,
    'the database owner owns every ident/invest relation');
SELECT is_empty($$
    SELECT conname FROM pg_constraint c
    JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE n.nspname IN ('ident', 'invest')
      AND ((contype = 'p' AND conname <> (SELECT relname FROM pg_class
              WHERE oid = c.conrelid) || '_pkey')
          OR (contype IN ('c', 'f', 'u')
              AND conname !~ ('^' || (SELECT relname FROM pg_class
                  WHERE oid = c.conrelid) || '_[a-z_]+_(check|fkey|key)$')))$$,
    'ident/invest constraints are named <table>_<what>_<kind>');
SELECT is_empty($$
    SELECT n.nspname || '.' || c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname IN ('ident', 'invest')
      AND coalesce(obj_description(c.oid, 'pg_class'), '') = ''
    UNION ALL
    SELECT sig FROM fn
    WHERE (schema IN ('ident', 'invest')
        OR oid IN ('api.scope(uuid, uuid, text, text[])'::regprocedure,
            'api.json_date(jsonb)'::regprocedure,
            'care.case_exists(uuid)'::regprocedure,
            'care.share_case(uuid, uuid)'::regprocedure)
        OR (schema = 'api' AND (name LIKE 'ident\_%'
            OR name LIKE 'invest\_%' OR name = 'case_share')))
      AND comment = ''$$,
    'every new table and function has a comment');
SELECT ok(obj_description('ident.decision'::regclass, 'pg_class')
    LIKE 'PERSONAL DATA:%' AND col_description('ident.decision'::regclass,
    (SELECT attnum FROM pg_attribute WHERE attrelid =
        'ident.decision'::regclass AND attname = 'rationale'))
    LIKE 'PERSONAL DATA:%',
    'ident.decision and its rationale are marked PERSONAL DATA');
SELECT ok(obj_description('invest.record'::regclass, 'pg_class')
    LIKE 'PERSONAL DATA:%', 'invest.record is marked PERSONAL DATA');
SELECT has_trigger('invest', 'record', 'record_signal_agency',
    'invest.record has its signal-agency constraint trigger');
SELECT results_eq($$SELECT code, initial_target_working_days,
        min_days_initial_to_conclusive, reflection_days, recovery_min_days
    FROM ident.profile ORDER BY code$$,
    $$VALUES ('nl'::text, 5, 30, 90, NULL::integer),
        ('uk', 5, 30, NULL, 30)$$,
    'the shipped jurisdiction profiles nl and uk');
SELECT ok(NOT EXISTS (SELECT 1 FROM ident.profile
    WHERE source NOT LIKE 'configuration, not law:%'),
    'every profile says it is configuration, not law');

-- ---------------------------------------------------------------------
-- 0009: the people's tables.  The complete matrix of every nrm role on
-- them (table or column level), the secret holder nrm_people and its
-- SECURITY DEFINER functions.
-- ---------------------------------------------------------------------
SELECT set_eq($$
    SELECT r.rolname, c.relname, pg_temp.any_priv(r.oid, c.oid)::text
    FROM nrm_role r CROSS JOIN pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname = 'auth'
      AND c.relname IN ('person', 'person_credential', 'enrolment',
          'recovery_code', 'session', 'login_failure', 'login_lock')
      AND pg_temp.any_priv(r.oid, c.oid) <> '{}'$$,
    $$VALUES ('nrm_admin', 'person', '{SELECT}'),
        ('nrm_assessor', 'person', '{SELECT}'),
        ('nrm_coordinator', 'person', '{SELECT}'),
        ('nrm_overview', 'person', '{SELECT}'),
        ('nrm_people', 'person', '{INSERT,SELECT,UPDATE}'),
        ('nrm_people', 'person_credential', '{DELETE,INSERT,SELECT,UPDATE}'),
        ('nrm_people', 'enrolment', '{DELETE,INSERT,SELECT,UPDATE}'),
        ('nrm_people', 'recovery_code', '{DELETE,INSERT,SELECT,UPDATE}'),
        ('nrm_people', 'session', '{DELETE,INSERT,SELECT,UPDATE}'),
        ('nrm_people', 'login_failure', '{DELETE,INSERT,SELECT,UPDATE}'),
        ('nrm_people', 'login_lock', '{DELETE,INSERT,SELECT,UPDATE}')$$,
    'auth people tables: only nrm_people touches the secrets; admins, '
    'and the overview (role, regions, status, key_id) '
    'read persons, coordinators the columns a handover checks, '
    'assessors the names of panel members (0023)');
-- (its functions: every SECURITY DEFINER one of auth, below)
SELECT pg_temp.definer_role('nrm_people', NULL);
SELECT is_empty($$SELECT sig FROM fn
    WHERE schema = 'auth' AND secdef AND owner <> 'nrm_people'::regrole
      AND oid <> 'auth.api_key_regions_exist()'::regprocedure$$,
    'every SECURITY DEFINER function of auth (but 0001''s region check) '
    'is owned by nrm_people');
SELECT is(pg_temp.any_priv('nrm_people'::regrole, t::regclass), '{}',
    'nrm_people has nothing of ' || t)
FROM unnest(ARRAY['care.case', 'care.subject', 'intake.signal',
    'ident.decision', 'invest.record']) t;
SELECT ok(NOT has_schema_privilege('nrm_people', s, 'CREATE'),
    'nrm_people may not create in schema ' || s)
FROM unnest(ARRAY['auth', 'api']) s;

SELECT * FROM finish();
ROLLBACK;
