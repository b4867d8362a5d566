-- 41_door_steps.sql - shared steps of the doors (sql/api/10_common.sql):
-- api.refuse_unseen, the one audited 404 of an object the caller may not
-- see (out_of_scope when it exists, else not_found); api.enter_case, a
-- door's start about one case (api.enter, then the case's scope; a case
-- out of sight is api.refuse_case's 404 in denial); api.object_problem,
-- a body's first shape checks (an object; known keys only), also through
-- doors that use it (the panel vote and referral, their refusal
-- api.refuse_body).  Called as the role a door runs
-- as (nrm_coordinator), as the doors call them.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(21);
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

-- Through a door: the panel vote of an assessor person (a session of
-- its own) refuses a body that is no object, or has an unknown key,
-- before it reads the case.
INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label,
    revoked_at)
VALUES ('d5000000-0000-4000-8000-000000000001', sha256('nokey-ds'),
    'a0000000-0000-4000-8000-000000000005', 'assessor', NULL, NULL, now());
INSERT INTO auth.person (id, login, display_name, agency_id, role, regions,
    key_id)
VALUES ('d5100000-0000-4000-8000-000000000001', 'steps.assessor',
    'Lid S', 'a0000000-0000-4000-8000-000000000005', 'assessor', NULL,
    'd5000000-0000-4000-8000-000000000001');
INSERT INTO auth.session (token_hash, person_id, idle_seconds, expires_at)
VALUES (sha256('sess-ds'), 'd5100000-0000-4000-8000-000000000001', 3600,
    now() + interval '1 day');
-- api.panel_<p_fn> as nrmd calls it for case de..07 with body p_body:
-- {"answer", "events"} (the request's audit events, read after it).
CREATE FUNCTION pg_temp.panel_body(p_fn text, p_token text,
    p_request_id text, p_body jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v jsonb;
BEGIN
	v := pg_temp.a(format('SELECT api.panel_%s(sha256(%L::bytea), %L, '
	    '%L::inet, %L::uuid, %L::jsonb)', p_fn, p_token, p_request_id,
	    '192.0.2.10', 'de000000-0000-4000-8000-000000000007', p_body));
	RETURN jsonb_build_object('answer', v,
	    'events', pg_temp.events(p_request_id));
END
$$;
-- {"answer", "events"} of a refusal: api.problem(...) and one event
-- panel.<p_action> of the case, purpose identification, failed/p_reason.
CREATE FUNCTION pg_temp.refusal(p_action text, p_reason text,
    p_answer jsonb) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT jsonb_build_object('answer', p_answer, 'events',
	    jsonb_build_array('panel.' || p_action
	        || '/case/de000000-0000-4000-8000-000000000007'
	        || '/identification/failed/' || p_reason))
$$;

SELECT is(pg_temp.panel_body('vote', 'sess-ds', 'req-dv-1', '"yes"'),
    pg_temp.refusal('vote', 'bad_request',
        api.problem(400, 'bad_request', 'the body must be a JSON object')),
    'panel vote: a body that is no object, 400 audited failed/bad_request');
SELECT is(pg_temp.panel_body('vote', 'sess-ds', 'req-dv-2',
    '{"outcome": "positive", "x": 1}'),
    pg_temp.refusal('vote', 'invalid_body', api.problem(422, 'validation',
        'unknown field; known: outcome, reason, rationale')),
    'an unknown key: 422 without a field (id, data_key, rationale_ct '
    'taken, not listed), audited failed/invalid_body');

-- The panel referral (an assessor key) refuses its body's problems as
-- api.refuse_body does: failed/bad_request for a 400, else invalid_body.
SELECT is(pg_temp.panel_body('assign', 'tok-assessor', 'req-da-1', '[]'),
    pg_temp.refusal('create', 'bad_request',
        api.problem(400, 'bad_request', 'the body must be a JSON object')),
    'panel referral: a body that is no object, 400 audited '
    'failed/bad_request');
SELECT is(pg_temp.panel_body('assign', 'tok-assessor', 'req-da-2',
    '{"members": []}'),
    pg_temp.refusal('create', 'invalid_body', api.problem(422, 'validation',
        'members must be a list of 1 to 15 persons', 'members')),
    'members out of range: 422 naming members, audited '
    'failed/invalid_body');

SELECT * FROM finish();
ROLLBACK;
