-- 45_authorize.sql - api.authorize: the principal nrmd caches, or the
-- audited 401/403; never a role switch, never personal data.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(10);
\ir fixtures.psql

SET LOCAL ROLE nrm_app;
CREATE TEMP TABLE a (name text PRIMARY KEY, v jsonb);
INSERT INTO a VALUES
	('ok', api.authorize(sha256('tok-reporter'), 'req-a1', '127.0.0.1',
	    ARRAY['reporter'], 'signal.create')),
	('coord', api.authorize(sha256('tok-coordinator'), 'req-a2', NULL,
	    ARRAY['coordinator', 'assessor'], 'case.read')),
	('wrong_role', api.authorize(sha256('tok-coordinator'), 'req-a3',
	    NULL, ARRAY['reporter'], 'signal.create')),
	('revoked', api.authorize(sha256('tok-revoked'), 'req-a4', NULL,
	    ARRAY['reporter'], 'signal.create')),
	('unknown', api.authorize(sha256('no-such-token'), 'req-a5', NULL,
	    ARRAY['reporter'], 'signal.create'));
SELECT is(current_user, 'nrm_app'::name,
    'authorize leaves the role as it found it');
RESET ROLE;

SELECT is((SELECT v FROM a WHERE name = 'ok'),
    jsonb_build_object('status', 200, 'body', jsonb_build_object(
        'key_id', 'b0000000-0000-4000-8000-000000000001',
        'agency_id', 'a0000000-0000-4000-8000-000000000001',
        'role', 'reporter', 'agency_kind', 'police',
        'regions', '[]'::jsonb)),
    'a reporter key: its principal, agency kind and no regions');
SELECT is((SELECT v->'body'->'regions' FROM a WHERE name = 'coord'),
    '["VR13"]'::jsonb, 'a coordinator key carries its regions');
SELECT is((SELECT v->'status' FROM a WHERE name = 'wrong_role'), '403',
    'a role not in the list: 403');
SELECT is((SELECT v->'status' FROM a WHERE name = 'revoked'), '401',
    'a revoked key: 401');
SELECT is((SELECT v->'status' FROM a WHERE name = 'unknown'), '401',
    'an unknown token: 401');
SELECT is((SELECT count(*)::int FROM audit.event
    WHERE request_id IN ('req-a3', 'req-a4', 'req-a5')
      AND outcome = 'denied'), 3, 'every denial is audited');
SELECT is((SELECT reason FROM audit.event WHERE request_id = 'req-a3'),
    'role_not_permitted', 'the 403 is audited with its reason');
SELECT is((SELECT count(*)::int FROM audit.event
    WHERE request_id IN ('req-a1', 'req-a2')), 0,
    'a successful look-up is not an access to personal data: no event');
SELECT ok(NOT has_function_privilege('nrm_reporter',
    'api.authorize(bytea, text, inet, text[], text)', 'EXECUTE')
    OR has_function_privilege('nrm_app',
    'api.authorize(bytea, text, inet, text[], text)', 'EXECUTE'),
    'nrm_app may call api.authorize');

SELECT * FROM finish();
ROLLBACK;
