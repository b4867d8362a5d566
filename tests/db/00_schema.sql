-- 00_schema.sql - migrations recorded, objects present, conventions kept.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(35);
\ir catalog.psql

-- nrm.schema_version: one row per file, in order, with checksums.
SELECT results_eq(
    $$SELECT version, name FROM nrm.schema_version ORDER BY version$$,
    $$VALUES (1, '0001_foundation.sql'), (2, '0002_reference_data.sql'),
        (3, '0003_authorize.sql'), (4, '0004_inbox.sql'),
        (5, '0005_audit.sql'), (6, '0006_separation.sql'),
        (7, '0007_break_glass.sql'), (8, '0008_current_state.sql'),
        (9, '0009_people.sql'), (10, '0010_admin_keys.sql'),
        (11, '0011_decision_date_amsterdam.sql'),
        (12, '0012_chain_director.sql'), (13, '0013_statistics.sql'),
        (14, '0014_audit_operator.sql'), (15, '0015_key_cert_binding.sql'),
        (16, '0016_publications.sql'), (17, '0017_data_at_rest.sql'),
        (18, '0018_least_privilege.sql'), (19, '0019_privacy.sql'),
        (20, '0020_key_rotation.sql'), (21, '0021_care_contact.sql'),
        (22, '0022_care_work.sql'), (23, '0023_panel.sql'),
        (24, '0024_login_in_database.sql'), (25, '0025_invest_sealed.sql'),
        (26, '0026_case_merge.sql'), (27, '0027_followup.sql'),
        (28, '0028_inbox_order.sql'), (29, '0029_inbox_answer_json.sql'),
        (30, '0030_case_item_stored.sql')$$,
    'schema_version records 0001 to 0030 in order');
SELECT is((SELECT count(*)::int FROM nrm.schema_version
    WHERE checksum ~ '^[0-9a-f]{64}$' AND applied_at <= now()), 30,
    'every applied migration has a sha256 hex checksum and a time');
SELECT is(api.schema_version(), 30, 'api.schema_version() is 30');

-- nrm.schema_repeatable: every file of sql/api/, with its checksum.
SELECT results_eq(
    $$SELECT name FROM nrm.schema_repeatable ORDER BY name COLLATE "C"$$,
    $$VALUES ('10_common.sql'), ('12_floods.sql'), ('20_intake.sql'),
        ('30_cases.sql'), ('30_cases_actions.sql'), ('30_cases_read.sql'),
        ('31_inbox_fanout.sql'), ('32_care.sql'), ('33_escalation.sql'),
        ('35_care_work.sql'), ('37_followup.sql'), ('40_audit.sql'),
        ('41_audit_verify.sql'), ('50_tracks.sql'),
        ('50_tracks_invest.sql'), ('55_panel.sql'), ('60_people.sql'),
        ('62_keys.sql'), ('65_sessions.sql'), ('70_overview.sql'),
        ('75_statistics.sql'), ('78_publications.sql'),
        ('80_data_protection.sql'), ('81_kek.sql'), ('82_privacy.sql'),
        ('99_doors.sql')$$,
    'schema_repeatable records the repeatable files');
SELECT is((SELECT count(*)::int FROM nrm.schema_repeatable
    WHERE checksum ~ '^[0-9a-f]{64}$' AND applied_at <= now()), 26,
    'every repeatable file has a sha256 hex checksum and a time');
SELECT is(api.schema_checksum(), encode(sha256(convert_to(string_agg(
    checksum || ' ' || name || E'\n', '' ORDER BY name COLLATE "C"),
    'UTF8')), 'hex'), 'api.schema_checksum() sums the recorded files')
FROM nrm.schema_repeatable;

SELECT schemas_are(ARRAY['public', 'nrm', 'ref', 'auth', 'intake', 'care',
    'audit', 'api', 'ident', 'invest', 'stats'],
    'the nrm schemas exist (and no others)');
SELECT tables_are('care', ARRAY['subject', 'case', 'case_history',
    'escalation', 'data_key', 'erasure', 'rectification',
    'retention_schedule', 'kek_retired', 'case_note', 'support_item',
    'support_transition', 'signal_followup'],
    'care tables');
SELECT tables_are('intake', ARRAY['signal', 'idempotency'], 'intake tables');
SELECT tables_are('auth', ARRAY['agency', 'api_key', 'person',
    'person_credential', 'enrolment', 'recovery_code', 'session',
    'login_failure', 'login_lock', 'login_secret'], 'auth tables');
SELECT tables_are('audit', ARRAY['event', 'chain', 'unsealed', 'retention',
    'break_glass_policy', 'review', 'anchor_signature', 'retention_policy',
    'verified_checkpoint', 'break_glass_limit'],
    'audit tables');
SELECT tables_are('ref', ARRAY['region', 'municipality'], 'ref tables');
SELECT tables_are('ident', ARRAY['profile', 'decision', 'panel',
    'panel_member', 'panel_vote'], 'ident tables');
SELECT tables_are('invest', ARRAY['case_share', 'record', 'data_key'],
    'invest tables');
SELECT tables_are('stats', ARRAY['config', 'publication'], 'stats tables');

-- Every table is commented; personal-data tables say so.
SELECT is_empty($$
    SELECT n.nspname || '.' || c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname IN ('nrm', 'ref', 'auth', 'intake',
        'care', 'audit', 'ident', 'invest', 'stats')
      AND coalesce(obj_description(c.oid, 'pg_class'), '') = ''$$,
    'every table has a comment');
SELECT ok(obj_description('care.subject'::regclass, 'pg_class')
    LIKE 'PERSONAL DATA:%', 'care.subject is marked PERSONAL DATA');
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname IN ('ref', 'auth', 'intake',
        'audit')
      AND obj_description(c.oid, 'pg_class') LIKE '%PERSONAL DATA%'$$,
    'no table outside care.subject claims personal data');
SELECT hasnt_column('intake', 'signal', 'given_name',
    'intake.signal holds no names');

-- Every primary key carries the conventional name (named constraints).
SELECT is_empty($$
    SELECT conname FROM pg_constraint c
    JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE n.nspname IN ('nrm', 'ref', 'auth', 'intake', 'care', 'audit',
        'ident', 'invest', 'stats')
      AND contype = 'p'
      AND conname <> (SELECT relname FROM pg_class
          WHERE oid = c.conrelid) || '_pkey'$$,
    'primary keys are named <table>_pkey');
SELECT is_empty($$
    SELECT conname FROM pg_constraint c
    JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE n.nspname IN ('ref', 'auth', 'intake', 'care', 'audit', 'ident',
        'invest', 'stats')
      AND contype IN ('c', 'f', 'u')
      AND conname !~ ('^' || (SELECT relname FROM pg_class
          WHERE oid = c.conrelid) || '_[a-z_]+_(check|fkey|key)$')$$,
    'check, foreign and unique constraints are named <table>_<what>_<kind>');

-- Functions: search_path pinned (or a bound body), none SECURITY
-- DEFINER in api, owner.  A function with a standard-SQL body resolves
-- no name when it runs, so it needs no SET clause, and without one
-- PostgreSQL inlines it (the hot helpers of an intake, issue 16); a
-- SECURITY DEFINER function pins search_path all the same.
SELECT is_empty($$SELECT sig FROM fn
    WHERE schema IN ('api', 'auth', 'care', 'ident', 'invest', 'stats')
      AND NOT pinned AND NOT (bound AND NOT secdef)$$,
    'every function pins search_path = pg_catalog, pg_temp, or has a '
    'standard-SQL body and is SECURITY INVOKER');
SELECT is_empty($$SELECT sig FROM fn WHERE secdef AND NOT pinned
      AND schema IN ('api', 'auth', 'care', 'ident', 'invest', 'stats',
          'audit')$$,
    'every SECURITY DEFINER function pins search_path');
-- The helpers an intake calls in expressions and CHECK constraints are
-- inlined: bound, no SET clause (docs/performance.md).
SELECT set_eq($$SELECT sig FROM fn JOIN pg_proc p ON p.oid = fn.oid
      WHERE bound AND p.proconfig IS NULL
        AND schema IN ('api', 'auth', 'care', 'ident', 'invest', 'stats',
            'audit', 'intake')$$,
    ARRAY['care.sealed_ok(bytea,integer)', 'care.next_inbox_seq()',
        'api.idempotency_lock_key(uuid,text)',
        'intake.receipt_json(uuid,uuid,text,text,text,timestamp with time '
        'zone,boolean,text)'],
    'the inlined helpers: bound bodies without a SET clause');
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r text;
	t text := '';
BEGIN
	FOR r IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
		t := t || r || E'\n';
	END LOOP;
	RETURN t;
END
$$;
SELECT ok(pg_temp.plan_of($$SELECT care.sealed_ok(b, 5),
        api.idempotency_lock_key(k, 'x'), care.next_inbox_seq(),
        intake.receipt_json(k, k, 'r', 'p', 'x', now(), false, 'f')
    FROM (VALUES ('\x01'::bytea, gen_random_uuid())) v(b, k)$$)
    ~ 'get_byte.*hashtextextended.*nextval.*jsonb_build_object',
    'the planner inlines the four helpers (their bodies in the plan)');
-- The inbox page is planned once a session, not at every call
-- (docs/performance.md).
SELECT ok((SELECT p.proconfig @> ARRAY['plan_cache_mode=force_generic_plan']
    FROM pg_proc p WHERE p.oid = 'api.inbox_page(record,text,text,jsonb,text,integer,boolean)'::regprocedure),
    'api.inbox_page (api.inbox''s page) keeps one generic plan a session');
-- Issue 14 changed this: the doors and the gate's functions are
-- SECURITY DEFINER (api_definer_extra, catalog.psql).
SELECT is_empty($$SELECT sig FROM api_definer_extra$$,
    'api functions are SECURITY INVOKER but the doors and the gate''s');
SELECT is_empty($$SELECT sig FROM fn
    WHERE schema IN ('api', 'auth', 'care', 'ident', 'invest', 'stats')
      AND public_exec$$,
    'PUBLIC may execute no nrm function');

-- Roles.
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
    WHERE c.relowner = 'nrm_app'::regrole
    UNION ALL SELECT proname FROM pg_proc WHERE proowner = 'nrm_app'::regrole
    UNION ALL SELECT nspname FROM pg_namespace
    WHERE nspowner = 'nrm_app'::regrole$$,
    'nrm_app owns nothing');
SELECT is((SELECT rolinherit FROM pg_roles WHERE rolname = 'nrm_app'), false,
    'nrm_app is NOINHERIT');
-- Issue 14 changed this: nrm_app is a member of no API role (nor any).
SELECT is((SELECT count(*)::int FROM pg_roles r
    WHERE r.rolname IN (SELECT role FROM api_role)
      AND NOT r.rolcanlogin
      AND NOT pg_has_role('nrm_app', r.oid, 'MEMBER')),
    (SELECT count(*)::int FROM api_role),
    'every NOLOGIN API role exists and nrm_app is a member of none');
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'nrm_app'), true,
    'nrm_app can log in');
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('nrm', 'ref', 'auth', 'intake', 'care', 'audit',
        'api', 'ident', 'invest', 'stats') AND c.relowner <> (SELECT datdba FROM pg_database
        WHERE datname = current_database())$$,
    'the database owner owns every relation');
SELECT has_index('care', 'subject', 'subject_pseudonym_idx',
    'care.subject.pseudonym is indexed');
SELECT has_trigger('care', 'subject', 'subject_not_notification',
    'care.subject has its notification constraint trigger');

SELECT * FROM finish();
ROLLBACK;
