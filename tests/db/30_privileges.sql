-- 30_privileges.sql - least privilege, table by table, role by role.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(48);
\ir fixtures.psql

-- The complete table-level grant matrix of nrm_app and the API roles:
-- any privilege added or lost anywhere makes this fail.
CREATE TEMP TABLE expected_grant (role text, tbl text, priv text);
INSERT INTO expected_grant VALUES
	('nrm_app', 'nrm.schema_version', 'SELECT'),
	('nrm_app', 'nrm.schema_repeatable', 'SELECT'),
	('nrm_app', 'auth.api_key', 'SELECT'),
	('nrm_app', 'auth.agency', 'SELECT'),
	('nrm_app', 'audit.event', 'INSERT'),
	('nrm_reporter', 'intake.signal', 'INSERT'),
	('nrm_reporter', 'care.subject', 'INSERT'),
	('nrm_reporter', 'care.case', 'INSERT'),
	('nrm_reporter', 'care.case_history', 'INSERT'),
	('nrm_reporter', 'intake.idempotency', 'INSERT'),
	('nrm_reporter', 'intake.idempotency', 'SELECT'),
	('nrm_coordinator', 'intake.signal', 'SELECT'),
	('nrm_coordinator', 'care.subject', 'SELECT'),
	('nrm_coordinator', 'care.case', 'SELECT'),
	('nrm_coordinator', 'care.case_history', 'SELECT'),
	('nrm_coordinator', 'care.case_history', 'INSERT'),
	('nrm_analyst', 'intake.signal', 'SELECT'),
	('nrm_analyst', 'care.case', 'SELECT'),
	('nrm_analyst', 'care.case_history', 'SELECT'),
	('nrm_auditor', 'audit.event', 'SELECT'),
	('nrm_auditor', 'audit.chain', 'SELECT'),
	('nrm_auditor', 'audit.retention', 'SELECT'),
	('nrm_auditor', 'audit.unsealed', 'SELECT'),
	('nrm_auditor', 'audit.review', 'SELECT'),
	('nrm_admin', 'auth.agency', 'SELECT'),
	('nrm_admin', 'auth.person', 'SELECT'),
	('nrm_coordinator', 'ident.decision', 'SELECT'),
	('nrm_coordinator', 'ident.decision', 'INSERT'),
	('nrm_coordinator', 'ident.profile', 'SELECT'),
	('nrm_assessor', 'ident.decision', 'SELECT'),
	('nrm_assessor', 'ident.decision', 'INSERT'),
	('nrm_assessor', 'ident.profile', 'SELECT'),
	('nrm_investigator', 'invest.record', 'SELECT'),
	('nrm_investigator', 'invest.record', 'INSERT');
INSERT INTO expected_grant
SELECT r, t, p FROM unnest(ARRAY['nrm_reporter', 'nrm_coordinator',
    'nrm_assessor', 'nrm_investigator', 'nrm_auditor', 'nrm_analyst',
    'nrm_admin']) r,
    (VALUES ('ref.region', 'SELECT'), ('ref.municipality', 'SELECT'),
        ('audit.event', 'INSERT')) AS c(t, p);

CREATE TEMP VIEW actual_grant AS
SELECT r.rolname::text AS role, n.nspname || '.' || c.relname AS tbl, p AS priv
FROM pg_roles r
CROSS JOIN pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
    'REFERENCES', 'TRIGGER']) p
WHERE r.rolname IN ('nrm_app', 'nrm_reporter', 'nrm_coordinator',
        'nrm_assessor', 'nrm_investigator', 'nrm_auditor', 'nrm_analyst',
        'nrm_admin')
  AND c.relkind = 'r'
  AND n.nspname IN ('nrm', 'ref', 'auth', 'intake', 'care', 'audit',
      'ident', 'invest')
  AND has_table_privilege(r.oid, c.oid, p);

SELECT set_eq('SELECT role, tbl, priv FROM actual_grant',
    'SELECT role, tbl, priv FROM expected_grant',
    'table grants are exactly the documented matrix');
SELECT is((SELECT count(*)::int FROM expected_grant
    WHERE role = 'nrm_reporter' AND tbl = 'care.subject'
      AND priv = 'SELECT'), 0, 'the matrix itself gives reporters no '
    'SELECT on care.subject');

-- Column-level grants.
SELECT ok(NOT has_any_column_privilege('nrm_reporter', 'care.subject',
    'SELECT'), 'reporter: no column of care.subject is readable');
SELECT ok(has_column_privilege('nrm_reporter', 'intake.signal', 'agency_id',
    'SELECT'), 'reporter: may read intake.signal.agency_id (receipt)');
SELECT ok(NOT has_column_privilege('nrm_reporter', 'intake.signal',
    'reporter_reference', 'SELECT'),
    'reporter: may not read other signal facts');
SELECT ok(has_column_privilege('nrm_reporter', 'care.case', 'priority',
    'SELECT'), 'reporter: may read care.case.priority (receipt)');
SELECT ok(NOT has_column_privilege('nrm_reporter', 'care.case',
    'explanation', 'SELECT'), 'reporter: may not read case explanations');
SELECT ok(has_column_privilege('nrm_coordinator', 'care.case', 'state',
    'UPDATE'), 'coordinator: may update case state');
SELECT ok(NOT has_column_privilege('nrm_coordinator', 'care.case',
    'signal_id', 'UPDATE'), 'coordinator: may not re-point a case');
SELECT ok(has_column_privilege('nrm_admin', 'auth.api_key', 'label',
    'SELECT'), 'admin: may read key labels');
SELECT ok(NOT has_column_privilege('nrm_admin', 'auth.api_key',
    'token_hash', 'SELECT'), 'admin: may not read token hashes');
SELECT ok(NOT has_any_column_privilege('nrm_investigator', 'care.subject',
    'SELECT') AND NOT has_table_privilege('nrm_investigator',
    'intake.signal', 'SELECT') AND NOT has_column_privilege(
    'nrm_investigator', 'intake.signal', 'reporter_reference', 'SELECT'),
    'investigator: reads nothing of the care side (of intake.signal only '
    'id and agency_id, 0006)');
SELECT ok(NOT has_any_column_privilege('nrm_auditor', 'care.subject',
    'SELECT'), 'auditor: never personal data');
SELECT ok(NOT has_any_column_privilege('nrm_analyst', 'care.subject',
    'SELECT'), 'analyst: never personal data');
SELECT ok(NOT has_any_column_privilege('nrm_app', 'care.subject',
    'SELECT'), 'nrm_app itself: no personal data without a role switch');

-- audit.event is append-only for everyone but its owner: really try.
SELECT is(pg_temp.sqlstate_as(r, s), '42501', r || ': ' || s || ' refused')
FROM unnest(ARRAY['nrm_app', 'nrm_reporter', 'nrm_coordinator',
    'nrm_assessor', 'nrm_investigator', 'nrm_auditor', 'nrm_analyst',
    'nrm_admin']) r,
    unnest(ARRAY['UPDATE audit.event SET purpose = NULL',
        'DELETE FROM audit.event', 'TRUNCATE audit.event']) s;
SELECT is(pg_temp.sqlstate_as('nrm_owner',
    'DELETE FROM audit.event WHERE false'), 'ok',
    'the owner may (the refusals above are about privileges)');
SELECT is(pg_temp.sqlstate_as('nrm_app', $$INSERT INTO audit.event (action,
    outcome) VALUES ('test.probe', 'allowed')$$), 'ok',
    'nrm_app may append audit events');

-- Reads really refused / allowed when acting as the role.
SELECT is(pg_temp.sqlstate_as('nrm_reporter',
    'SELECT count(*) FROM care.subject'), '42501',
    'a reporter-role transaction cannot SELECT care.subject');
SELECT is(pg_temp.sqlstate_as('nrm_app',
    'SELECT count(*) FROM care.subject'), '42501',
    'nrm_app without a role switch cannot SELECT care.subject');
SELECT is(pg_temp.sqlstate_as('nrm_coordinator',
    'SELECT count(*) FROM care.subject'), 'ok',
    'a coordinator-role transaction can SELECT care.subject');
SELECT is(pg_temp.sqlstate_as('nrm_investigator',
    'SELECT count(*) FROM care.case'), '42501',
    'an investigator cannot read cases');
SELECT is(pg_temp.sqlstate_as('nrm_auditor',
    'SELECT count(*) FROM audit.event'), 'ok',
    'an auditor can read the audit log');
SELECT is(pg_temp.sqlstate_as('nrm_reporter',
    'SELECT count(*) FROM audit.event'), '42501',
    'a reporter cannot read the audit log');
SELECT is(pg_temp.sqlstate_as('nrm_admin',
    'SELECT token_hash FROM auth.api_key'), '42501',
    'an admin cannot read token hashes');

SELECT * FROM finish();
ROLLBACK;
