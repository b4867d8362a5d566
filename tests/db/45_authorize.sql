-- 45_authorize.sql - api.authorize (the overload nrmd calls, with the
-- object): the principal nrmd caches, or the audited 401/403 naming the
-- object; never a role switch, never personal data.  0003's 5-argument
-- overload is gone (0008).
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(13);
\ir fixtures.psql

SET LOCAL ROLE nrm_app;
CREATE TEMP TABLE a (name text PRIMARY KEY, v jsonb);
INSERT INTO a VALUES
	('ok', api.authorize(sha256('tok-reporter'), 'req-a1', '127.0.0.1',
	    ARRAY['reporter'], 'signal.create', 'signal', NULL)),
	('coord', api.authorize(sha256('tok-coordinator'), 'req-a2', NULL,
	    ARRAY['coordinator', 'assessor'], 'case.read', 'case',
	    'c4500000-0000-4000-8000-000000000001')),
	('wrong_role', api.authorize(sha256('tok-coordinator'), 'req-a3',
	    NULL, ARRAY['reporter'], 'signal.create', 'signal', NULL)),
	('revoked', api.authorize(sha256('tok-revoked'), 'req-a4', NULL,
	    ARRAY['reporter'], 'case.read', 'case',
	    'c4500000-0000-4000-8000-000000000004')),
	('unknown', api.authorize(sha256('no-such-token'), 'req-a5', NULL,
	    ARRAY['reporter'], 'case.read', 'case',
	    'c4500000-0000-4000-8000-000000000005'));
SELECT is(current_user, 'nrm_app'::name,
    'authorize leaves the role as it found it');
RESET ROLE;

SELECT is((SELECT v FROM a WHERE name = 'ok'),
    jsonb_build_object('status', 200, 'body', jsonb_build_object(
        'key_id', 'b0000000-0000-4000-8000-000000000001',
        'agency_id', 'a0000000-0000-4000-8000-000000000001',
        'role', 'reporter', 'agency_kind', 'police',
        'regions', '[]'::jsonb, 'person_id', NULL)),
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
SELECT results_eq($$SELECT request_id, object_type, object_id
    FROM audit.event WHERE request_id IN ('req-a4', 'req-a5')
    ORDER BY request_id$$,
    $$VALUES ('req-a4', 'case', 'c4500000-0000-4000-8000-000000000004'),
        ('req-a5', 'case', 'c4500000-0000-4000-8000-000000000005')$$,
    'the 401s are audited with the object they were for');
SELECT is((SELECT count(*)::int FROM audit.event
    WHERE request_id IN ('req-a1', 'req-a2')), 0,
    'a successful look-up is not an access to personal data: no event');
SELECT ok(NOT has_function_privilege('nrm_reporter',
    'api.authorize(bytea, text, inet, text[], text, text, text)',
    'EXECUTE')
    OR has_function_privilege('nrm_app',
    'api.authorize(bytea, text, inet, text[], text, text, text)',
    'EXECUTE'),
    'nrm_app may call api.authorize');
SELECT ok(has_function_privilege('nrm_app',
    'api.authorize(bytea, text, inet, text[], text, text, text)', 'EXECUTE')
    AND NOT has_function_privilege('nrm_reporter',
    'api.authorize(bytea, text, inet, text[], text, text, text)',
    'EXECUTE'),
    'only nrm_app may call api.authorize');
SELECT hasnt_function('api', 'authorize',
    ARRAY['bytea', 'text', 'inet', 'text[]', 'text'],
    'the 5-argument api.authorize, which audited denials without the '
    'object, is gone');

SELECT * FROM finish();
ROLLBACK;
