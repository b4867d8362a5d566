-- 92_identifications.sql - api.ident_queue (GET /v1/identifications):
-- the assessor's queue of cases awaiting an identification decision,
-- with the profile's clocks; which cases it holds, in which order,
-- keyset pages, the parameters' 400s, roles, no personal data, and one
-- audit event per call.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(27);
\ir fixtures.psql

CREATE FUNCTION pg_temp.queue(p_token text, p_awaiting text DEFAULT NULL,
    p_after uuid DEFAULT NULL, p_limit integer DEFAULT NULL,
    p_request_id text DEFAULT 'req-queue') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_app', format('SELECT api.ident_queue('
	    'sha256(%L::bytea), %L, %L::inet, %L, %L::uuid, %L::integer, '
	    '%L)', p_token, p_request_id, '192.0.2.10', p_awaiting, p_after,
	    p_limit, 'nl'))
$$;
CREATE FUNCTION pg_temp.record(p_case uuid, p_stage text, p_on text)
RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_app', format('SELECT api.ident_record('
	    'sha256(%L::bytea), %L, %L::inet, %L::uuid, %L::jsonb, %L)',
	    'tok-assessor', 'req-rec', '192.0.2.10', p_case,
	    pg_temp.seal_entry(jsonb_build_object('stage', p_stage,
	        'outcome', 'positive', 'deciding_body', 'assessment_body',
	        'rationale', 'private', 'decided_on', p_on)), 'nl'))
$$;
CREATE FUNCTION pg_temp.names(p_answer jsonb) RETURNS text[]
LANGUAGE sql STABLE AS $$
	SELECT pg_temp.item_names(p_answer->'body'->'items')
$$;

-- A: no entry (awaits the initial decision; created on Friday
-- 2024-05-03, so due five working days later, on 2024-05-10).  B: an
-- initial entry of 2024-05-01 (awaits the conclusive one, not before
-- 2024-05-31).  C: concluded.  D: closed, no entry.  E: in VR01, no
-- entry (assessors are national).  Created in this order.
DO $$
DECLARE
	n text;
	i integer := 0;
BEGIN
	FOREACH n IN ARRAY ARRAY['A', 'B', 'C', 'D'] LOOP
		PERFORM pg_temp.named_case(n);
	END LOOP;
	PERFORM pg_temp.named_case('E', '{"region": "VR01"}');
	FOREACH n IN ARRAY ARRAY['A', 'B', 'C', 'D', 'E'] LOOP
		UPDATE care.case SET created_at = timestamptz
		    '2024-05-03 10:00:00Z' + i * interval '1 hour',
		    updated_at = timestamptz '2024-05-03 10:00:00Z'
		        + i * interval '1 hour'
		WHERE id = pg_temp.cid(n);
		i := i + 1;
	END LOOP;
	PERFORM pg_temp.record(pg_temp.cid('B'), 'initial', '2024-05-01');
	PERFORM pg_temp.record(pg_temp.cid('C'), 'initial', '2024-05-01');
	PERFORM pg_temp.record(pg_temp.cid('C'), 'conclusive', '2024-06-03');
	PERFORM pg_temp.case_take('tok-coordinator', pg_temp.cid('D'));
	PERFORM pg_temp.case_close('tok-coordinator', pg_temp.cid('D'));
END
$$;

CREATE TEMP TABLE q (k text PRIMARY KEY, a jsonb);
INSERT INTO q SELECT 'all', pg_temp.queue('tok-assessor', NULL, NULL,
    NULL, 'req-queue-all');

SELECT is((SELECT a->'status' FROM q WHERE k = 'all'), '200',
    'an assessor reads the queue');
SELECT is((SELECT pg_temp.names(a) FROM q WHERE k = 'all'),
    ARRAY['A', 'B', 'E'],
    'open and taken cases without a conclusive decision, of every '
    'region, oldest first; neither the concluded nor the closed case');
SELECT is((SELECT (a->'body'->'items'->0) - 'case_id' - 'created_at'
    FROM q WHERE k = 'all'),
    '{"region": "VR13", "priority": "urgent", "state": "open",
      "awaiting": "initial", "initial_decided_on": null,
      "initial_due_on": "2024-05-10", "initial_overdue": true,
      "conclusive_earliest_on": null}'::jsonb,
    'A awaits the initial decision: due five working days after Friday '
    '2024-05-03, overdue today');
SELECT is((SELECT a->'body'->'items'->0->>'created_at' FROM q
    WHERE k = 'all'), '2024-05-03T10:00:00Z', 'with the case''s creation');
SELECT is((SELECT a->'body'->'items'->1->'awaiting' FROM q
    WHERE k = 'all'), '"conclusive"', 'B awaits the conclusive decision');
SELECT is((SELECT a->'body'->'items'->1->'initial_decided_on' FROM q
    WHERE k = 'all'), '"2024-05-01"', 'since its initial one');
SELECT is((SELECT a->'body'->'items'->1->'conclusive_earliest_on' FROM q
    WHERE k = 'all'), '"2024-05-31"',
    'which may not be followed by a conclusive one before 30 days');
SELECT is((SELECT a->'body'->'items'->1->'initial_overdue' FROM q
    WHERE k = 'all'), 'false', 'a decided initial stage is not overdue');
SELECT is((SELECT a->'body'->'items'->2->'region' FROM q WHERE k = 'all'),
    '"VR01"', 'the assessor is national');
SELECT is((SELECT a->'body'->'rules' FROM q WHERE k = 'all'),
    '{"profile": "nl", "initial_target_working_days": 5,
      "min_days_initial_to_conclusive": 30}'::jsonb,
    'the profile''s rules come with the page');
SELECT is((SELECT a->'body'->'next_cursor' FROM q WHERE k = 'all'),
    'null', 'a page short of the limit is the last');
SELECT is((SELECT array_agg(DISTINCT kk ORDER BY kk) FROM q r,
    jsonb_array_elements(a->'body'->'items') x, jsonb_object_keys(x) kk
    WHERE r.k = 'all'),
    ARRAY['awaiting', 'case_id', 'conclusive_earliest_on', 'created_at',
        'initial_decided_on', 'initial_due_on', 'initial_overdue',
        'priority', 'region', 'state'],
    'an item holds no personal data: no subject, outcome or rationale');
SELECT is(pg_temp.events('req-queue-all'),
    ARRAY['identification.queue/identification/-/identification/allowed/-'],
    'one audit event per call, not one per case');

-- The filter.
SELECT is(pg_temp.names(pg_temp.queue('tok-assessor', 'initial')),
    ARRAY['A', 'E'], 'awaiting=initial: the cases without an initial entry');
SELECT is(pg_temp.names(pg_temp.queue('tok-assessor', 'conclusive')),
    ARRAY['B'], 'awaiting=conclusive: those with one');
SELECT is(pg_temp.names(pg_temp.queue('tok-assessor', 'any')),
    ARRAY['A', 'B', 'E'], 'awaiting=any: both');

-- Keyset pages: a full page names its last case as the cursor.
INSERT INTO q SELECT 'p1', pg_temp.queue('tok-assessor', NULL, NULL, 2);
INSERT INTO q SELECT 'p2', pg_temp.queue('tok-assessor', NULL,
    (SELECT (a->'body'->>'next_cursor')::uuid FROM q WHERE k = 'p1'), 2);
SELECT is((SELECT pg_temp.names(a) FROM q WHERE k = 'p1'), ARRAY['A', 'B'],
    'limit 2: the first two');
SELECT is((SELECT a->'body'->>'next_cursor' FROM q WHERE k = 'p1'),
    pg_temp.cid('B')::text, 'the cursor is the last item''s case id');
SELECT is((SELECT pg_temp.names(a) FROM q WHERE k = 'p2'), ARRAY['E'],
    'the next page goes on after it');
-- A case that leaves the queue between pages does not shift the next.
SELECT pg_temp.record(pg_temp.cid('A'), 'initial', '2024-05-06') \g /dev/null
SELECT is(pg_temp.names(pg_temp.queue('tok-assessor', 'initial',
    pg_temp.cid('A'), 1)), ARRAY['E'],
    'a cursor stays valid when its case leaves the (filtered) queue');

-- The parameters.
SELECT is(pg_temp.queue('tok-assessor', 'all', NULL, NULL, 'req-q-bad')
    ->'problem'->>'field', 'awaiting', 'awaiting=all: 400 naming it');
SELECT is(pg_temp.events('req-q-bad'),
    ARRAY['identification.queue/identification/-/identification/failed/'
        'bad_request'], 'audited failed');
SELECT is(pg_temp.queue('tok-assessor', NULL, NULL, 0)->'problem'->>'field',
    'limit', 'limit 0: 400 naming it');
SELECT is(pg_temp.queue('tok-assessor', NULL, NULL, 201)->'status', '400',
    'limit 201: 400');
SELECT is(pg_temp.queue('tok-assessor', NULL, gen_random_uuid())
    ->'problem'->>'field', 'cursor', 'a cursor naming no case: 400');

-- Roles.
SELECT is(pg_temp.queue('tok-coordinator-national')->'status', '403',
    'a coordinator, even national, has no assessor''s queue');
SELECT is(pg_temp.queue('tok-nobody')->'status', '401',
    'an unknown token: 401');

SELECT * FROM finish();
ROLLBACK;
