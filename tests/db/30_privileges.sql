-- 30_privileges.sql - least privilege, table by table, role by role.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(55);
\ir fixtures.psql

-- The complete table-level grant matrix of nrm_app and the API roles
-- (grants.psql): any privilege added or lost anywhere makes this fail.
\ir grants.psql

CREATE TEMP VIEW actual_grant AS
SELECT r.rolname::text AS role, n.nspname || '.' || c.relname AS tbl, p AS priv
FROM pg_roles r
CROSS JOIN pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
    'REFERENCES', 'TRIGGER']) p
WHERE r.rolname IN (SELECT role FROM api_role UNION SELECT 'nrm_app')
  AND c.relkind = 'r'
  AND n.nspname IN ('nrm', 'ref', 'auth', 'intake', 'care', 'audit',
      'ident', 'invest')
  AND has_table_privilege(r.oid, c.oid, p);

SELECT set_eq('SELECT role, tbl, priv FROM actual_grant',
    $$SELECT role, tbl, priv FROM expected_grant
    WHERE role IN (SELECT role FROM api_role) OR role = 'nrm_app'$$,
    'table grants are exactly the documented matrix');
SELECT is((SELECT count(*)::int FROM expected_grant
    WHERE role = 'nrm_reporter' AND tbl = 'care.subject'
      AND priv = 'SELECT'), 0, 'the matrix itself gives reporters no '
    'SELECT on care.subject');

-- Column-level grants: role, table, column ('*': any column), privilege,
-- whether the role has it ('granted') or not ('none').
SELECT is(CASE WHEN CASE c.col WHEN '*'
        THEN has_any_column_privilege(c.role, c.tbl, c.priv)
        ELSE has_column_privilege(c.role, c.tbl, c.col, c.priv) END
    THEN 'granted' ELSE 'none' END, c.want, c.descr) FROM (VALUES
('nrm_reporter', 'care.subject', '*', 'SELECT', 'none',
    'reporter: no column of care.subject is readable'),
('nrm_reporter', 'intake.signal', 'agency_id', 'SELECT', 'granted',
    'reporter: may read intake.signal.agency_id (receipt)'),
('nrm_reporter', 'intake.signal', 'reporter_reference', 'SELECT', 'none',
    'reporter: may not read other signal facts'),
('nrm_reporter', 'care.case', 'priority', 'SELECT', 'granted',
    'reporter: may read care.case.priority (receipt)'),
('nrm_reporter', 'care.case', 'explanation', 'SELECT', 'none',
    'reporter: may not read case explanations'),
('nrm_coordinator', 'care.case', 'state', 'UPDATE', 'granted',
    'coordinator: may update case state'),
('nrm_coordinator', 'care.case', 'signal_id', 'UPDATE', 'none',
    'coordinator: may not re-point a case'),
('nrm_admin', 'auth.api_key', 'label', 'SELECT', 'granted',
    'admin: may read key labels'),
('nrm_admin', 'auth.api_key', 'token_hash', 'SELECT', 'none',
    'admin: may not read token hashes'),
('nrm_auditor', 'care.subject', '*', 'SELECT', 'none',
    'auditor: never personal data'),
('nrm_analyst', 'care.subject', '*', 'SELECT', 'none',
    'analyst: never personal data'),
('nrm_app', 'care.subject', '*', 'SELECT', 'none',
    'nrm_app itself: no personal data without a role switch')
) AS c(role, tbl, col, priv, want, descr);
SELECT ok(NOT has_any_column_privilege('nrm_investigator', 'care.subject',
    'SELECT') AND NOT has_table_privilege('nrm_investigator',
    'intake.signal', 'SELECT') AND NOT has_column_privilege(
    'nrm_investigator', 'intake.signal', 'reporter_reference', 'SELECT'),
    'investigator: reads nothing of the care side (of intake.signal only '
    'id and agency_id, 0006)');

-- audit.event is append-only for everyone but its owner: really try.
SELECT is(pg_temp.sqlstate_as(r, s), '42501', r || ': ' || s || ' refused')
FROM (SELECT 'nrm_app' UNION ALL SELECT role FROM api_role) AS a(r),
    unnest(ARRAY['UPDATE audit.event SET purpose = NULL',
        'DELETE FROM audit.event', 'TRUNCATE audit.event']) s;
SELECT is(pg_temp.sqlstate_as('nrm_owner',
    'DELETE FROM audit.event WHERE false'), 'ok',
    'the owner may (the refusals above are about privileges)');
-- Issue 14 changed this: nrm_app writes audit events only through the
-- doors; nrm_gate's api.audit is the writer.
SELECT is(pg_temp.sqlstate_as('nrm_app', $$INSERT INTO audit.event (action,
    outcome) VALUES ('test.probe', 'allowed')$$), '42501',
    'nrm_app may not append audit events itself');
SELECT is(pg_temp.sqlstate_as('nrm_gate', $$INSERT INTO audit.event (action,
    outcome) VALUES ('test.probe', 'allowed')$$), 'ok',
    'nrm_gate (api.audit''s owner) may append audit events');

-- Reads really refused / allowed when acting as the role.
SELECT is(pg_temp.sqlstate_as(c.role, c.stmt), c.want, c.descr) FROM (VALUES
('nrm_reporter', 'SELECT count(*) FROM care.subject', '42501',
    'a reporter-role transaction cannot SELECT care.subject'),
('nrm_app', 'SELECT count(*) FROM care.subject', '42501',
    'nrm_app without a role switch cannot SELECT care.subject'),
('nrm_coordinator', 'SELECT count(*) FROM care.subject', 'ok',
    'a coordinator-role transaction can SELECT care.subject'),
('nrm_investigator', 'SELECT count(*) FROM care.case', '42501',
    'an investigator cannot read cases'),
('nrm_auditor', 'SELECT count(*) FROM audit.event', 'ok',
    'an auditor can read the audit log'),
('nrm_reporter', 'SELECT count(*) FROM audit.event', '42501',
    'a reporter cannot read the audit log'),
('nrm_admin', 'SELECT token_hash FROM auth.api_key', '42501',
    'an admin cannot read token hashes')
) AS c(role, stmt, want, descr);

SELECT * FROM finish();
ROLLBACK;
