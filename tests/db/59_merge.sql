-- 59_merge.sql - api.case_merge (issue 18, 0026): a duplicate signal's
-- case merged into the case of the same person it repeats.  The order
-- of the checks and the field each refusal names, who may merge, what a
-- merge writes (state, both histories, both audit events, versions),
-- and what a merged case is no longer part of: inboxes, the
-- identification queue, the overview's load, escalation, the person
-- count of the statistics; and that it is erased with its target.
-- (The state table's merge column: 53_state_table.sql; races:
-- tests/e2e/test_care_merge.py.)
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(65);
\ir fixtures.psql

-- Every pg_temp.new_case is the same person (one pseudonym); OTHER is
-- another (a pseudonym of its own), NOPS has none.
DO $$
BEGIN
	PERFORM pg_temp.named_case(n) FROM unnest(ARRAY['T', 'D', 'D2', 'H',
	    'X', 'CH1', 'CH2', 'CH3', 'R1', 'R2', 'ESC']) n;
	PERFORM pg_temp.named_case('V1', '{"region": "VR01"}');
	INSERT INTO case_name SELECT 'OTHER', (pg_temp.intake_as('nrm_app',
	    'tok-reporter', 'req-other-person', NULL, 'b', pg_temp.facts(),
	    pg_temp.subject(), pg_temp.route())->'body'->>'case_id')::uuid;
	INSERT INTO case_name SELECT 'NOPS', (pg_temp.intake_as('nrm_app',
	    'tok-reporter', 'req-no-pseudonym', NULL, 'b', pg_temp.facts(),
	    pg_temp.subject(), pg_temp.route())->'body'->>'case_id')::uuid;
	UPDATE care.subject SET pseudonym = NULL
	WHERE signal_id = (SELECT signal_id FROM care.case
	    WHERE id = pg_temp.cid('NOPS'));
	PERFORM pg_temp.case_take('tok-coordinator', pg_temp.cid('H'));
	PERFORM pg_temp.case_take('tok-coordinator-2', pg_temp.cid('X'));
END
$$;

-- ---------------------------------------------------------------------
-- Refusals, in the documented order, each naming its field.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.case_merge('tok-assessor', pg_temp.cid('D'),
    pg_temp.cid('T'))->>'status', '403', 'an assessor: 403');
SELECT is(pg_temp.case_merge('tok-coordinator', pg_temp.cid('D'),
    pg_temp.cid('T'), 'duplicate')->'problem'->>'field', 'reason',
    'a closing reason is no merge reason: 422 reason');
SELECT is(pg_temp.case_merge('tok-coordinator', pg_temp.cid('D'),
    pg_temp.cid('T'), NULL)->'problem'->>'field', 'reason',
    'no reason: 422 reason');
SELECT is(pg_temp.api_as('nrm_app', format('SELECT api.case_merge('
    'sha256(%L::bytea), %L, NULL, %L::uuid, NULL, %L, %L)',
    'tok-coordinator', 'req-m-bad', pg_temp.cid('D'), 'not-a-case',
    'other'))->'problem'->>'field', 'into', 'into not an id: 422 into');
SELECT is(pg_temp.case_merge('tok-coordinator', pg_temp.cid('D'),
    pg_temp.cid('D'))->'problem'->>'detail',
    'a case is not merged into itself', 'into itself: 422 into');
SELECT is(pg_temp.case_merge('tok-coordinator-vr01', pg_temp.cid('D'),
    pg_temp.cid('V1'))->>'status', '404',
    'the duplicate outside the caller''s regions: 404');
SELECT is(pg_temp.case_merge('tok-coordinator', gen_random_uuid(),
    pg_temp.cid('T'))->>'status', '404', 'no such duplicate: 404');
SELECT is(pg_temp.case_merge('tok-coordinator', pg_temp.cid('X'),
    pg_temp.cid('T'))->'problem'->>'state', 'taken',
    'a duplicate another coordinator holds: 409 naming its state');
SELECT is(pg_temp.case_merge('tok-coordinator', pg_temp.cid('D'),
    pg_temp.cid('T'), p_if_match => 7)->>'status', '412',
    'a stale If-Match: 412');
INSERT INTO r VALUES ('scope', pg_temp.case_merge('tok-coordinator',
    pg_temp.cid('D'), pg_temp.cid('V1')));
SELECT is((SELECT v->'problem'->>'field' FROM r WHERE name = 'scope'),
    'into', 'a target outside the caller''s regions: 422 into');
SELECT is((SELECT v FROM r WHERE name = 'scope')->'problem',
    pg_temp.case_merge('tok-coordinator', pg_temp.cid('D'),
        gen_random_uuid())->'problem',
    'the same answer for an unknown target (no existence oracle)');
SELECT is(pg_temp.case_merge('tok-coordinator', pg_temp.cid('D'),
    pg_temp.cid('OTHER'))->'problem'->>'field', 'into',
    'another person''s case: 422 into');
SELECT is(pg_temp.case_merge('tok-coordinator', pg_temp.cid('D'),
    pg_temp.cid('NOPS'))->'problem'->>'field', 'into',
    'a case without a pseudonym: 422 into');
SELECT is((SELECT count(*)::int FROM care.case WHERE id IN (pg_temp.cid('D'),
    pg_temp.cid('T')) AND version = 1 AND state = 'open'), 2,
    'refusals change neither case');
SELECT is((SELECT count(*)::int FROM audit.event WHERE action = 'case.merge'
    AND outcome IN ('failed', 'denied')), 13,
    'every refusal is audited');

-- ---------------------------------------------------------------------
-- The merge.
-- ---------------------------------------------------------------------
INSERT INTO r VALUES ('m', pg_temp.case_merge('tok-coordinator',
    pg_temp.cid('D'), pg_temp.cid('T'), 'repeat_report', 1, 'req-m'));
SELECT is((SELECT v->>'status' FROM r WHERE name = 'm'), '200',
    'an open duplicate into a case of the same person: 200');
SELECT is((SELECT v->'body'->>'state' FROM r WHERE name = 'm'), 'merged',
    'the answer is the duplicate, merged');
SELECT is((SELECT (v->'body'->'merged') - 'at'::text FROM r WHERE name = 'm'),
    jsonb_build_object('into', pg_temp.cid('T'), 'reason', 'repeat_report',
        'reference', (SELECT s.reference FROM care.case c
            JOIN intake.signal s ON s.id = c.signal_id
            WHERE c.id = pg_temp.cid('T'))),
    'it names its target, the target''s reference and the reason');
SELECT results_eq($$SELECT state, holder_key_id, merged_into, merge_reason,
    version FROM care.case WHERE id = pg_temp.cid('D')$$,
    $$VALUES ('merged'::text, NULL::uuid, pg_temp.cid('T'),
        'repeat_report'::text, 2)$$,
    'the duplicate: merged, no holder, its target, reason, version + 1');
SELECT results_eq($$SELECT state, version FROM care.case
    WHERE id = pg_temp.cid('T')$$, $$VALUES ('open'::text, 2)$$,
    'the target: its state kept, version + 1');
SELECT is((SELECT detail FROM care.case_history WHERE case_id =
    pg_temp.cid('D') AND action = 'merged'),
    jsonb_build_object('into', pg_temp.cid('T'), 'reason', 'repeat_report',
        'region', 'VR13', 'into_region', 'VR13', 'from_state', 'open'),
    'the duplicate''s history: merged {into, reason, regions, from_state}');
SELECT is((SELECT detail FROM care.case_history WHERE case_id =
    pg_temp.cid('T') AND action = 'merged_in'),
    jsonb_build_object('from', pg_temp.cid('D'), 'reason', 'repeat_report',
        'region', 'VR13', 'from_region', 'VR13'),
    'the target''s history: merged_in {from, reason, regions}');
SELECT is((SELECT count(*)::int FROM care.case_history
    WHERE case_id = pg_temp.cid('D')), 2,
    'the duplicate''s history is kept (routed, merged)');
SELECT is(pg_temp.events('req-m'), ARRAY[
    'case.merge_into/case/' || pg_temp.cid('T') || '/care/allowed/-',
    'case.merge/case/' || pg_temp.cid('D') || '/care/allowed/-'],
    'both audited: case.merge_into (the target), case.merge (the duplicate)');

-- Two merges of one duplicate: the second finds it merged.
SELECT is(pg_temp.case_merge('tok-coordinator', pg_temp.cid('D'),
    pg_temp.cid('D2'))->'problem'->>'state', 'merged',
    'a merged duplicate again: 409 naming merged');
-- Into a merged case: 409 naming the case to merge into instead.
INSERT INTO r VALUES ('into_merged', pg_temp.case_merge('tok-coordinator',
    pg_temp.cid('D2'), pg_temp.cid('D')));
SELECT is((SELECT v->'problem'->>'field' FROM r WHERE name = 'into_merged'),
    'into', 'into a merged case: 409 into');
SELECT is((SELECT (v->'problem'->>'merged_into')::uuid FROM r
    WHERE name = 'into_merged'), pg_temp.cid('T'),
    'naming the case it was merged into');
SELECT is((SELECT v->>'status' FROM r WHERE name = 'into_merged'), '409',
    'status 409');

-- The holder merges its own case; a target taken by another is fine.
SELECT is(pg_temp.case_merge('tok-coordinator', pg_temp.cid('H'),
    pg_temp.cid('X'))->'body'->>'state', 'merged',
    'the holder merges the case it holds into a colleague''s');
SELECT is((SELECT holder_key_id FROM care.case WHERE id = pg_temp.cid('X')),
    'b0000000-0000-4000-8000-000000000005'::uuid,
    'the target keeps its holder');
-- Across regions: a coordinator of both.
SELECT is(pg_temp.case_merge('tok-coordinator-multi', pg_temp.cid('V1'),
    pg_temp.cid('D2'), 'same_situation')->'body'->'merged'->>'into',
    pg_temp.cid('D2')::text, 'a coordinator of both regions merges across');

-- Every action on a merged case is 409 (the state table walks them all).
SELECT is(pg_temp.case_take('tok-coordinator', pg_temp.cid('D'))
    ->'problem'->>'state', 'merged', 'take a merged case: 409');

-- ---------------------------------------------------------------------
-- Reading: the duplicate names its target, the target lists it.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('D'))->'body'
    ->'case'->'merged'->>'into', pg_temp.cid('T')::text,
    'GET of the duplicate: case.merged');
SELECT is(jsonb_path_query_array(pg_temp.case_get('tok-coordinator',
    pg_temp.cid('T'))->'body'->'case'->'merged_from', '$[*].case_id'),
    jsonb_build_array(pg_temp.cid('D')),
    'GET of the target: case.merged_from lists it');
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('T'))->'body'
    ->'case'->'merged_from'->0->>'reason', 'repeat_report',
    'with its reason');
SELECT ok(NOT (pg_temp.case_get('tok-coordinator', pg_temp.cid('R1'))
    ->'body'->'case' ?| ARRAY['merged', 'merged_from']),
    'a case with no merge has neither member');
SELECT is(pg_temp.case_get('tok-assessor', pg_temp.cid('D'))->'body'
    ->'case'->'merged'->>'reason', 'repeat_report',
    'an assessor reads the merge too');
SELECT is((SELECT x->>'merged_into' FROM jsonb_array_elements(
    pg_temp.api_call('case_related', 'tok-coordinator', 'req-rel', '192.0.2.10',
        pg_temp.cid('T')::text)->'body'->'items') x
    WHERE x->>'case_id' = pg_temp.cid('D')::text), pg_temp.cid('T')::text,
    'related shows each case''s merged_into');

-- ---------------------------------------------------------------------
-- What belongs on the target is refused on a merged case (409 naming
-- merged_into, audited failed case_merged): an identification entry, a
-- panel, a share with the police.  The target takes them.
-- ---------------------------------------------------------------------
SELECT pg_temp.sep_investigators() \g /dev/null
CREATE TEMP TABLE mg (k text PRIMARY KEY, v jsonb);
INSERT INTO mg SELECT 'ident_c', pg_temp.api_call('ident_record',
    'tok-coordinator', 'req-mg-ic', '192.0.2.10', pg_temp.cid('D')::text,
    pg_temp.seal_entry('{"stage": "initial", "outcome": "positive",
        "deciding_body": "care_coordination", "rationale": "r",
        "decided_on": "2024-05-01"}')::text, 'nl');
INSERT INTO mg SELECT 'ident_a', pg_temp.api_call('ident_record',
    'tok-assessor', 'req-mg-ia', '192.0.2.10', pg_temp.cid('D')::text,
    pg_temp.seal_entry('{"stage": "initial", "outcome": "positive",
        "deciding_body": "assessment_body", "rationale": "r",
        "decided_on": "2024-05-01"}')::text, 'nl');
INSERT INTO mg SELECT 'share', pg_temp.api_call('case_share',
    'tok-coordinator', 'req-mg-sh', '192.0.2.10', pg_temp.cid('D')::text,
    'a0000000-0000-4000-8000-000000000001', 'true');
INSERT INTO mg SELECT 'panel', pg_temp.api_call('panel_assign',
    'tok-assessor', 'req-mg-pa', '192.0.2.10', pg_temp.cid('D')::text,
    '{"members": ["b0000000-0000-4000-8000-000000000001",
        "b0000000-0000-4000-8000-000000000002",
        "b0000000-0000-4000-8000-000000000003"],
      "chair": "b0000000-0000-4000-8000-000000000001"}', 'nl');
INSERT INTO mg SELECT 'ident_t', pg_temp.api_call('ident_record',
    'tok-coordinator', 'req-mg-it', '192.0.2.10', pg_temp.cid('T')::text,
    pg_temp.seal_entry('{"stage": "initial", "outcome": "positive",
        "deciding_body": "care_coordination", "rationale": "r",
        "decided_on": "2024-05-01"}')::text, 'nl');
SELECT is((SELECT v->>'status' FROM mg WHERE k = 'ident_c'), '409',
    'an initial indication on a merged case: 409');
SELECT is((SELECT v->'problem'->>'merged_into' FROM mg WHERE k = 'ident_c'),
    pg_temp.cid('T')::text, 'naming the case it goes on in');
SELECT is((SELECT v->>'status' FROM mg WHERE k = 'ident_a'), '409',
    'the assessor''s entry on a merged case: 409');
SELECT is((SELECT v->'problem'->>'merged_into' FROM mg WHERE k = 'share'),
    pg_temp.cid('T')::text, 'a share of a merged case: 409 naming its target');
SELECT is((SELECT v->'problem'->>'merged_into' FROM mg WHERE k = 'panel'),
    pg_temp.cid('T')::text, 'a panel for a merged case: 409 naming its target');
SELECT is((SELECT count(*)::int FROM ident.panel
    WHERE case_id = pg_temp.cid('D')), 0, 'no panel on it');
SELECT is((SELECT count(*)::int FROM ident.decision
    WHERE case_id = pg_temp.cid('D')), 0, 'no decision on the merged case');
SELECT is((SELECT count(*)::int FROM invest.case_share
    WHERE case_id = pg_temp.cid('D')), 0, 'no share of it');
SELECT is((SELECT array_agg(outcome || '/' || reason ORDER BY id)
    FROM audit.event WHERE request_id IN ('req-mg-ic', 'req-mg-sh')
      AND action IN ('identification.create', 'case.share')),
    ARRAY['failed/case_merged', 'failed/case_merged'],
    'each refusal audited failed case_merged');
SELECT is((SELECT v->>'status' FROM mg WHERE k = 'ident_t'), '201',
    'the target takes the entry');

-- ---------------------------------------------------------------------
-- Out of every inbox, queue and load; never escalated.
-- ---------------------------------------------------------------------
SELECT ok(NOT pg_temp.item_names(pg_temp.inbox('tok-coordinator', 'all',
    p_limit => 200)->'body'->'items') && ARRAY['D', 'H'],
    'no merged case in the inbox, state all');
SELECT ok(pg_temp.item_names(pg_temp.inbox('tok-coordinator', 'all',
    p_limit => 200)->'body'->'items') @> ARRAY['T', 'X'],
    'the targets are');
SELECT is(pg_temp.inbox('tok-coordinator', 'merged')->>'status', '400',
    'merged is no inbox filter');
SELECT ok(NOT (SELECT array_agg(x->>'case_id') FROM jsonb_array_elements(
    pg_temp.api_call('ident_queue', 'tok-assessor', 'req-q', '192.0.2.10',
        'any', NULL, '200', 'nl')->'body'->'items') x)
    && ARRAY[pg_temp.cid('D')::text, pg_temp.cid('H')::text],
    'not in the identification queue');
UPDATE care.case SET created_at = now() - interval '3 days',
    take_by = now() - interval '2 days',
    first_contact_by = now() - interval '1 day'
WHERE id IN (pg_temp.cid('ESC'), pg_temp.cid('D'));
SELECT is(pg_temp.case_merge('tok-coordinator', pg_temp.cid('ESC'),
    pg_temp.cid('T'))->'body'->>'state', 'merged', 'an overdue case merged');
SELECT pg_temp.escalate();
SELECT is((SELECT count(*)::int FROM care.escalation WHERE case_id IN (
    pg_temp.cid('ESC'), pg_temp.cid('D'))), 0,
    'merged cases past both deadlines are never escalated');
SELECT results_eq($$SELECT state, region_code FROM care.case
    WHERE id = pg_temp.cid('ESC')$$, $$VALUES ('merged'::text, 'VR13'::text)$$,
    'and stay where they were');
SELECT is((SELECT open FROM care.overview_counts() WHERE region = 'VR13'),
    (SELECT count(*)::int FROM care.case WHERE region_code = 'VR13'
        AND state IN ('open', 'taken', 'transfer_pending')),
    'the overview''s load leaves merged cases out');

-- ---------------------------------------------------------------------
-- Statistics: the signals twice, the person once.
-- ---------------------------------------------------------------------
SELECT pg_temp.case_take('tok-coordinator', pg_temp.cid('R2'));
CREATE TEMP TABLE stat_before AS
SELECT m, (SELECT count(*)::int FROM stats.units(m, now() - interval '1 day',
    now() + interval '1 day')) AS n
FROM unnest(ARRAY['signals', 'cases', 'cases_taken_in_time']) m;
SELECT is(pg_temp.case_merge('tok-coordinator', pg_temp.cid('R2'),
    pg_temp.cid('R1'))->'body'->>'state', 'merged', 'a taken repeat merged');
SELECT is((SELECT count(*)::int FROM stats.units('signals',
    now() - interval '1 day', now() + interval '1 day')),
    (SELECT n FROM stat_before WHERE m = 'signals'),
    'signals: both signals still counted');
SELECT is((SELECT count(*)::int FROM stats.units('cases',
    now() - interval '1 day', now() + interval '1 day')),
    (SELECT n FROM stat_before WHERE m = 'cases') - 1,
    'cases: the person once (the merged case left out)');
SELECT is((SELECT count(*)::int FROM stats.units('cases_taken_in_time',
    now() - interval '1 day', now() + interval '1 day')),
    (SELECT n FROM stat_before WHERE m = 'cases_taken_in_time') - 1,
    'cases_taken_in_time alike');

-- ---------------------------------------------------------------------
-- Chains and retention: erased with the case at the end of the chain.
-- ---------------------------------------------------------------------
SELECT pg_temp.case_merge('tok-coordinator', pg_temp.cid('CH1'),
    pg_temp.cid('CH2'));
SELECT pg_temp.case_merge('tok-coordinator', pg_temp.cid('CH2'),
    pg_temp.cid('CH3'));
SELECT is((SELECT merged_into FROM care.case WHERE id = pg_temp.cid('CH1')),
    pg_temp.cid('CH2'), 'a chain: each case names its own target');
SELECT is((SELECT count(*)::int FROM care.retention_due(60, '{}', 60)
    WHERE case_id IN (pg_temp.cid('CH1'), pg_temp.cid('CH2'))), 0,
    'a merged case is not due while its chain''s end is open');
SELECT pg_temp.case_take('tok-coordinator', pg_temp.cid('CH3'));
SELECT pg_temp.case_close('tok-coordinator', pg_temp.cid('CH3'), 'other');
SELECT is((SELECT count(DISTINCT due_at)::int FROM care.retention_due(60,
    '{"other": 120}', 60) WHERE case_id IN (pg_temp.cid('CH1'),
    pg_temp.cid('CH2'), pg_temp.cid('CH3'))), 1,
    'once the end is closed, the whole chain is due with it');
SELECT is((SELECT count(*)::int FROM care.retention_due(60,
    '{"other": 120}', 60) WHERE case_id IN (pg_temp.cid('CH1'),
    pg_temp.cid('CH2'), pg_temp.cid('CH3'))), 3,
    'each case of the chain once');

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
