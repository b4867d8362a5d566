-- 41_door_steps.sql - shared steps of the doors (sql/api/10_common.sql):
-- api.refuse_unseen, the one audited 404 of an object the caller may not
-- see (out_of_scope when it exists, else not_found); api.enter_case, a
-- door's start about one case (api.enter, then the case's scope; a case
-- out of sight is api.refuse_case's 404 in denial); api.object_problem,
-- a body's first shape checks (an object; known keys only).  Called as
-- the role a door runs as (nrm_coordinator), as the doors call them.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(17);
\ir fixtures.psql

-- api.refuse_unseen for the principal of p_token (api.enter's record).
CREATE FUNCTION pg_temp.unseen(p_request_id text, p_exists boolean)
RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_coordinator', format('SELECT '
	    'api.refuse_unseen(e, %L, %L::boolean, %L) FROM api.enter('
	    'sha256(%L::bytea), %L, %L::inet, ARRAY[%L], %L, %L, %L) e',
	    'care', p_exists, 'no thing with this id here', 'tok-coordinator',
	    p_request_id, '192.0.2.10', 'coordinator', 'thing.read', 'thing',
	    'x-1'))
$$;

-- api.enter_case's record (as jsonb) for p_token and case p_case.
CREATE FUNCTION pg_temp.enter_case(p_token text, p_request_id text,
    p_case uuid) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_coordinator', format('SELECT to_jsonb(e) '
	    'FROM api.enter_case(sha256(%L::bytea), %L, %L::inet, ARRAY[%L], '
	    '%L, %L::uuid, %L) e', p_token, p_request_id, '192.0.2.10',
	    'coordinator', 'case.support.read', p_case, 'care'))
$$;

SELECT is(pg_temp.unseen('req-du-1', true),
    api.problem(404, 'not_found', 'no thing with this id here'),
    'refuse_unseen: the 404 with the caller''s detail');
SELECT is(pg_temp.events('req-du-1'),
    ARRAY['thing.read/thing/x-1/care/denied/out_of_scope'],
    'an object that exists: audited denied out_of_scope, once');
SELECT is(pg_temp.unseen('req-du-2', false),
    api.problem(404, 'not_found', 'no thing with this id here'),
    'the same answer for an object that does not exist');
SELECT is(pg_temp.events('req-du-2'),
    ARRAY['thing.read/thing/x-1/care/denied/not_found'],
    'audited denied not_found');

SELECT pg_temp.named_case('S') \g /dev/null

SELECT is(pg_temp.enter_case('tok-coordinator', 'req-de-1',
    pg_temp.cid('S')) - ARRAY['key_id', 'agency_id', 'regions',
    'agency_kind', 'person_id', 'prev_role', 'client'],
    jsonb_build_object('role', 'coordinator', 'denial', NULL,
        'action', 'case.support.read', 'object_type', 'case',
        'object_id', pg_temp.cid('S')::text, 'request_id', 'req-de-1',
        'region', 'VR13'),
    'enter_case: a case of the caller''s region lets it in, with the '
    'case''s region and api.enter''s audit fields');
SELECT is(pg_temp.events('req-de-1'), '{}'::text[],
    'and writes no audit event (the door audits its answer)');
SELECT is(pg_temp.enter_case('tok-coordinator-vr01', 'req-de-2',
    pg_temp.cid('S'))->'denial',
    api.problem(404, 'not_found', 'no case with this id in your regions'),
    'a case of another region: denial is the 404');
SELECT is(pg_temp.events('req-de-2'),
    ARRAY['case.support.read/case/' || pg_temp.cid('S')
        || '/care/denied/out_of_scope'],
    'audited denied out_of_scope under p_purpose');
SELECT is(pg_temp.enter_case('tok-coordinator', 'req-de-3',
    'de000000-0000-4000-8000-000000000001')->'denial',
    api.problem(404, 'not_found', 'no case with this id in your regions'),
    'no such case: the same 404');
SELECT is(pg_temp.events('req-de-3'),
    ARRAY['case.support.read/case/de000000-0000-4000-8000-000000000001'
        || '/care/denied/not_found'],
    'audited denied not_found');
SELECT is((pg_temp.enter_case('tok-reporter', 'req-de-4',
    pg_temp.cid('S'))->'denial'->>'status')::integer, 403,
    'a principal of another role: api.enter''s 403, the case unread');
SELECT is(cardinality(pg_temp.events('req-de-4')), 1,
    'one audit event, api.enter''s');

-- api.object_problem(p_body) with known keys a, b and taken key c.
CREATE FUNCTION pg_temp.object_problem(p_body jsonb) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_coordinator', format('SELECT '
	    'api.object_problem(%L::jsonb, %L, ARRAY[%L, %L], ARRAY[%L])',
	    p_body, 'the thing', 'a', 'b', 'c'))
$$;

SELECT is(pg_temp.object_problem('{"a": 1, "c": "x"}'), NULL,
    'object_problem: an object of known and taken keys is fine');
SELECT is(pg_temp.object_problem('{}'), NULL, 'so is an empty object');
SELECT is(pg_temp.object_problem('[1]'),
    '{"status": 400, "code": "bad_request", "detail": "the thing must be '
    'a JSON object"}'::jsonb, 'not an object: 400, named by p_what');
SELECT is(pg_temp.object_problem(NULL),
    '{"status": 400, "code": "bad_request", "detail": "the thing must be '
    'a JSON object"}'::jsonb, 'no body: the same 400');
SELECT is(pg_temp.object_problem('{"a": 1, "zz": 2}'),
    '{"status": 422, "code": "validation", "detail": "unknown field; '
    'known: a, b"}'::jsonb,
    'an unknown key: 422 without a field, listing the known keys only');

SELECT * FROM finish();
ROLLBACK;
