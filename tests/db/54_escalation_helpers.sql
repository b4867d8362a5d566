-- 54_escalation_helpers.sql - the sweeper's shared steps
-- (sql/api/33_escalation.sql): care.escalation_claim writes a case's
-- care.escalation row for a deadline kind once (true), and answers false
-- for the same case and kind after (the row is kept as it was);
-- care.sweep_answer is a sweep's {"escalated", "case_ids"}.  Called as
-- nrm_sweeper, the role the escalations run as.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(6);
\ir fixtures.psql

CREATE FUNCTION pg_temp.claim(p_case uuid, p_reason text,
    p_from text DEFAULT 'VR13') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_sweeper', format('SELECT to_jsonb('
	    'care.escalation_claim(%L::uuid, %L::timestamptz, %L, %L))',
	    p_case, '2026-01-02T03:04:05Z', p_from, p_reason))
$$;

SELECT pg_temp.named_case('C') \g /dev/null

SELECT is(pg_temp.claim(pg_temp.cid('C'), 'take_deadline_missed'),
    'true'::jsonb, 'the first claim of a case and kind writes its row');
SELECT is(pg_temp.claim(pg_temp.cid('C'), 'take_deadline_missed',
    'VR01'), 'false'::jsonb, 'a second claim of the same kind: false');
SELECT is((SELECT array_agg(e.from_region || '/' || e.reason
        || '/' || (e.at = '2026-01-02T03:04:05Z'))
    FROM care.escalation e WHERE e.case_id = pg_temp.cid('C')),
    ARRAY['VR13/take_deadline_missed/true'],
    'one row, the first claim''s');
SELECT is(pg_temp.claim(pg_temp.cid('C'), 'first_contact_deadline_missed'),
    'true'::jsonb, 'another kind of the same case is a claim of its own');
SELECT is(pg_temp.api_as('nrm_sweeper', format('SELECT '
    'care.sweep_answer(ARRAY[%L, %L]::uuid[])',
    'de000000-0000-4000-8000-000000000002',
    'de000000-0000-4000-8000-000000000001')),
    jsonb_build_object('escalated', 2, 'case_ids', jsonb_build_array(
        'de000000-0000-4000-8000-000000000002',
        'de000000-0000-4000-8000-000000000001')),
    'a sweep''s answer: the count and the ids in their order');
SELECT is(pg_temp.api_as('nrm_sweeper',
    'SELECT care.sweep_answer(''{}''::uuid[])'),
    '{"escalated": 0, "case_ids": []}'::jsonb,
    'a sweep that escalated nothing');

SELECT * FROM finish();
ROLLBACK;
