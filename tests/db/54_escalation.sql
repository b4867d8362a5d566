-- 54_escalation.sql - api.escalate_overdue: overdue open cases go to the
-- national desk exactly once, with history and audit; everything else is
-- left alone.  (Two sweepers at once: 57_concurrency.sql.)
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(38);
\ir fixtures.psql


DO $$
BEGIN
	-- Overdue and open: escalated.
	PERFORM pg_temp.named_case('O1');
	PERFORM pg_temp.named_case('O2', '{"region": "VR01"}');
	-- Not due yet, taken, closed, already at the national desk: not.
	PERFORM pg_temp.named_case('NY');
	PERFORM pg_temp.named_case('TK');
	PERFORM pg_temp.named_case('CL');
	PERFORM pg_temp.named_case('NA', '{"region": "NATIONAL"}');
	PERFORM pg_temp.case_take('tok-coordinator', pg_temp.cid('TK'));
	PERFORM pg_temp.case_take('tok-coordinator', pg_temp.cid('CL'));
	PERFORM pg_temp.case_close('tok-coordinator', pg_temp.cid('CL'));
	PERFORM pg_temp.make_overdue(pg_temp.cid(n))
	FROM unnest(ARRAY['O1', 'O2', 'TK', 'CL', 'NA']) n;
	-- O1 a minute later than O2: O2 is the most overdue.
	UPDATE care.case SET take_by = take_by + interval '1 minute'
	WHERE id = pg_temp.cid('O1');
END
$$;
CREATE TEMP TABLE before AS SELECT * FROM care.case;

INSERT INTO r SELECT 'sweep1', pg_temp.escalate(100);
SELECT is((SELECT v FROM r WHERE name = 'sweep1'),
    jsonb_build_object('escalated', 2, 'case_ids',
        jsonb_build_array(pg_temp.cid('O2'), pg_temp.cid('O1'))),
    'the overdue open cases are escalated, most overdue first');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'called as nrm_app, nrm_app afterwards');
SELECT is(current_user::text, 'postgres', 'the test''s role is intact');

SELECT is(((pg_temp.row_of('O1')).region_code, (pg_temp.row_of('O1')).state,
    (pg_temp.row_of('O1')).holder_key_id, (pg_temp.row_of('O1')).version,
    (pg_temp.row_of('O1')).escalated_at),
    ('NATIONAL'::text, 'open'::text, NULL::uuid, 2, now()),
    'O1: open at the national desk, v2, escalated_at set');
SELECT cmp_ok((pg_temp.row_of('O1')).inbox_seq, '>', (SELECT max(inbox_seq)
    FROM before), 'O1 enters the national inbox (new inbox_seq)');
SELECT results_eq($$SELECT case_id, at, from_region, reason
    FROM care.escalation ORDER BY from_region$$,
    $$VALUES (pg_temp.cid('O2'), now(), 'VR01'::text,
        'take_deadline_missed'::text),
    (pg_temp.cid('O1'), now(), 'VR13', 'take_deadline_missed')$$,
    'one care.escalation row each, with the source region');
SELECT is((SELECT detail FROM care.case_history WHERE case_id =
    pg_temp.cid('O2') AND action = 'escalated'),
    jsonb_build_object('reason', 'take_deadline_missed',
        'why', 'not taken within PT1H', 'from_region', 'VR01',
        'to_region', 'NATIONAL',
        'take_by', api.rfc3339(now() - interval '1 hour')),
    'history: escalated, why "not taken within PT1H"');
SELECT is((SELECT api_key_id FROM care.case_history WHERE case_id =
    pg_temp.cid('O2') AND action = 'escalated'), NULL,
    'history: by nobody (the sweeper)');
SELECT results_eq($$SELECT api_key_id, agency_id, role, action, object_type,
    object_id, purpose, outcome FROM audit.event
    WHERE action = 'case.escalate' ORDER BY object_id$$,
    $$SELECT NULL::uuid, NULL::uuid, NULL::text, 'case.escalate'::text,
        'case'::text, id::text, 'care'::text, 'allowed'::text
    FROM case_name WHERE name IN ('O1', 'O2') ORDER BY id::text$$,
    'audit: case.escalate per case, principal null');
SELECT is(pg_temp.item_names(pg_temp.inbox('tok-coordinator-national')
    ->'body'->'items'), ARRAY['NA', 'O2', 'O1'],
    'both are in the national inbox');
SELECT is((SELECT x->'escalated' FROM jsonb_array_elements(
    pg_temp.inbox('tok-coordinator-national')->'body'->'items') x
    WHERE (x->>'case_id')::uuid = pg_temp.cid('O1')), 'true',
    'marked escalated in the inbox');
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('O1'))->'status',
    '404', 'the source region no longer has it');

-- Everything else is untouched.
SELECT is_empty($$SELECT b.id FROM before b JOIN care.case c USING (id)
    WHERE b.id NOT IN (pg_temp.cid('O1'), pg_temp.cid('O2'))
      AND (c.region_code, c.state, c.version, c.inbox_seq,
          c.escalated_at) IS DISTINCT FROM (b.region_code, b.state,
          b.version, b.inbox_seq, b.escalated_at)$$,
    'not yet due, taken, closed and national-desk cases are untouched');
SELECT is((pg_temp.row_of('NY')).region_code, 'VR13', 'not yet due: stays');
SELECT is((pg_temp.row_of('TK')).state || '/' || (pg_temp.row_of('TK'))
    .region_code, 'taken/VR13', 'taken although overdue: stays');

-- Exactly once: a second sweep escalates nothing.
SELECT is(pg_temp.escalate(100), '{"escalated": 0, "case_ids": []}',
    'a second sweep escalates nothing');
SELECT is((SELECT count(*)::int FROM care.escalation), 2,
    'still two escalations');
SELECT is((SELECT count(*)::int FROM care.case_history
    WHERE action = 'escalated'), 2, 'still two escalated history rows');

-- Once per case, ever: sent back to a region and overdue again, it is
-- not escalated a second time.
SELECT is(pg_temp.case_transfer('tok-coordinator-national',
    pg_temp.cid('O1'), 'VR13', 'wrong_region')->'status', '200',
    'O1 transferred back to VR13');
-- (0021: pending until VR13 accepts it)
SELECT pg_temp.transfer_accept('tok-coordinator', pg_temp.cid('O1'))
    ->>'status' AS o1_accepted \gset
DO $$ BEGIN PERFORM pg_temp.make_overdue(pg_temp.cid('O1')); END $$;
SELECT is(pg_temp.escalate(100)->'escalated', '0',
    'an escalated case is never escalated again');
SELECT is(pg_temp.violation(format($$INSERT INTO care.escalation (case_id,
    from_region, reason) VALUES (%L, 'VR13', 'take_deadline_missed')$$,
    pg_temp.cid('O1'))), 'escalation_pkey',
    'care.escalation refuses a second row for a case');
SELECT is(pg_temp.probe(format($$INSERT INTO care.escalation (case_id,
    from_region, reason) VALUES (%L, 'NATIONAL', 'take_deadline_missed')$$,
    pg_temp.cid('NY'))), 'escalation_from_region_check',
    'nothing is escalated from the national desk');
SELECT is(pg_temp.probe(format($$INSERT INTO care.escalation (case_id,
    from_region, reason) VALUES (%L, 'VR13', 'bored')$$,
    pg_temp.cid('NY'))), 'escalation_reason_check',
    'escalation reasons are codes from the list');

-- p_limit, and the duration after a transfer.
DO $$
BEGIN
	PERFORM pg_temp.named_case('L1');
	PERFORM pg_temp.named_case('L2');
	PERFORM pg_temp.make_overdue(pg_temp.cid('L1'));
	PERFORM pg_temp.make_overdue(pg_temp.cid('L2'));
	UPDATE care.case SET take_by = take_by + interval '1 minute'
	WHERE id = pg_temp.cid('L2');
	PERFORM pg_temp.named_case('TR');
	PERFORM pg_temp.case_transfer('tok-coordinator', pg_temp.cid('TR'),
	    'VR01', 'wrong_region', NULL, 90, 86400);
	PERFORM pg_temp.transfer_accept('tok-coordinator-vr01',
	    pg_temp.cid('TR'));
	PERFORM pg_temp.make_overdue(pg_temp.cid('TR'));
	UPDATE care.case SET take_by = take_by + interval '2 minutes'
	WHERE id = pg_temp.cid('TR');
END
$$;
SELECT is(pg_temp.escalate(1), jsonb_build_object('escalated', 1,
    'case_ids', jsonb_build_array(pg_temp.cid('L1'))),
    'p_limit 1: one case, the most overdue');
SELECT is(pg_temp.escalate(1)->'case_ids', jsonb_build_array(
    pg_temp.cid('L2')), 'the next sweep takes the next');
SELECT is(pg_temp.escalate(5)->'case_ids', jsonb_build_array(
    pg_temp.cid('TR')), 'and then the transferred one');
SELECT is((SELECT detail->>'why' FROM care.case_history WHERE case_id =
    pg_temp.cid('TR') AND action = 'escalated'),
    'not taken within PT1M30S',
    'why: the take_within the transfer set, as a duration');
SELECT is((SELECT detail->>'from_region' FROM care.case_history WHERE
    case_id = pg_temp.cid('TR') AND action = 'escalated'), 'VR01',
    'from the region it was transferred to');
SELECT throws_ok($$SELECT pg_temp.escalate(0)$$, '22023', NULL,
    'p_limit 0 is a daemon bug: 22023');
SELECT throws_ok($$SELECT pg_temp.escalate(1001)$$, '22023', NULL,
    'p_limit over 1000 too');

SELECT is(ARRAY[care.iso_duration(0), care.iso_duration(59),
    care.iso_duration(3600), care.iso_duration(5400),
    care.iso_duration(86400), care.iso_duration(90061),
    care.iso_duration(172800 + 60)],
    ARRAY['PT0S', 'PT59S', 'PT1H', 'PT1H30M', 'P1D', 'P1DT1H1M1S',
        'P2DT1M'], 'care.iso_duration');

-- The sweeper's privileges: nrm_app itself still cannot touch cases.
SELECT is(pg_temp.sqlstate_as('nrm_app', format($$UPDATE care.case
    SET region_code = 'NATIONAL' WHERE id = %L$$, pg_temp.cid('NY'))),
    '42501', 'nrm_app cannot update care.case directly');
SELECT is(pg_temp.sqlstate_as('nrm_app', format($$INSERT INTO care.escalation
    (case_id, from_region, reason) VALUES (%L, 'VR13',
    'take_deadline_missed')$$, pg_temp.cid('NY'))), '42501',
    'nrm_app cannot write care.escalation directly');
SELECT pg_temp.definer_role('nrm_sweeper',
    'care.escalate_overdue(integer)');
SELECT is(pg_temp.sqlstate_as('nrm_sweeper',
    'SELECT count(*) FROM care.subject'), '42501',
    'nrm_sweeper reads no personal data');

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
