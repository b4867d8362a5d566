-- 59_transfer_pending.sql - transfers the receiving region answers
-- (issue 18, 0021): pending with the sender, seen by the receiver,
-- accepted, refused (back as it was), escalated when unanswered, once.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(38);
\ir fixtures.psql

-- The detail of the newest p_action entry in case p_name's history.
CREATE FUNCTION pg_temp.detail(p_name text, p_action text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT detail FROM care.case_history
	WHERE case_id = pg_temp.cid(p_name) AND action = p_action
	ORDER BY id DESC LIMIT 1
$$;

DO $$
BEGIN
	PERFORM pg_temp.named_case(n) FROM unnest(ARRAY['T', 'O', 'A', 'U',
	    'UT']) n;
	PERFORM pg_temp.case_take('tok-coordinator', pg_temp.cid('T'));
	PERFORM pg_temp.case_take('tok-coordinator', pg_temp.cid('UT'));
END
$$;

-- T: taken by the caller, transferred to VR01.
INSERT INTO r SELECT 'T', pg_temp.case_transfer('tok-coordinator',
    pg_temp.cid('T'), 'VR01', 'victim_relocated', NULL, 7200, 172800,
    'req-t', 3600);
SELECT is((SELECT v->'body'->>'state' FROM r WHERE name = 'T'),
    'transfer_pending', 'the transfer answers transfer_pending');
SELECT is((SELECT (v->'body'->'transfer') - 'requested_at' - 'answer_by'
    FROM r WHERE name = 'T'),
    '{"to_region": "VR01", "reason": "victim_relocated"}',
    'the item names the receiving region and the reason');
SELECT is((SELECT v->'body'->>'answer_by' FROM r WHERE name = 'T'), NULL,
    '(answer_by is inside "transfer")');
SELECT is((SELECT (v->'body'->'transfer'->>'answer_by') FROM r
    WHERE name = 'T'), api.rfc3339(now() + interval '3600 s'),
    'answer_by: now + the configured answer time');
SELECT is((SELECT (region_code, holder_key_id) FROM care.case
    WHERE id = pg_temp.cid('T')),
    ('VR13'::text, 'b0000000-0000-4000-8000-000000000003'::uuid),
    'the sender keeps region and holder');
SELECT ok(pg_temp.cid('T') IN (SELECT (x->>'case_id')::uuid FROM
    jsonb_array_elements(pg_temp.inbox('tok-coordinator', 'all')
        ->'body'->'items') x), 'still in the sender''s inbox');
SELECT ok(pg_temp.cid('T') IN (SELECT (x->>'case_id')::uuid FROM
    jsonb_array_elements(pg_temp.inbox('tok-coordinator-vr01',
        'transfer_pending')->'body'->'items') x),
    'the receiver lists it (state transfer_pending)');
SELECT is(pg_temp.case_get('tok-coordinator-vr01', pg_temp.cid('T'))
    ->>'status', '200', 'and reads it to answer');
SELECT is(pg_temp.case_get('tok-coordinator-vr01', pg_temp.cid('T'))
    ->'body'->'subject'->>'given_name', NULL,
    '(sealed subject values, as for any reader)');
SELECT is(pg_temp.case_contact('tok-coordinator', pg_temp.cid('T'))
    ->'body'->>'state', 'transfer_pending',
    'the holder still records contacts');
SELECT is(pg_temp.case_close('tok-coordinator', pg_temp.cid('T'))
    ->>'status', '409', 'but cannot close it meanwhile');
SELECT is(pg_temp.transfer_accept('tok-coordinator', pg_temp.cid('T'))
    ->>'status', '409', 'the sender cannot accept its own transfer');
SELECT is(pg_temp.transfer_accept('tok-coordinator-national',
    pg_temp.cid('T'))->>'status', '404', 'a third region: 404');
SELECT is(pg_temp.transfer_refuse('tok-coordinator-vr01', pg_temp.cid('T'),
    'too busy')->'problem'->>'field', 'reason',
    'a refusal needs a reason code: 422 reason');

-- Refused: back as it was (taken by its holder, in VR13).
SELECT (pg_temp.row_of('T')).inbox_seq AS t_seq \gset
INSERT INTO r SELECT 'Tref', pg_temp.transfer_refuse('tok-coordinator-vr01',
    pg_temp.cid('T'), 'no_capacity', NULL, 'req-t-refuse');
SELECT is((SELECT v->'body'->>'state' || '/' || (v->'body'->>'region') || '/'
    || (v->'body'->>'holder') FROM r WHERE name = 'Tref'),
    'taken/VR13/b0000000-0000-4000-8000-000000000003',
    'refused: taken by its holder again, in VR13');
SELECT is((SELECT v->'body'->'transfer' FROM r WHERE name = 'Tref'),
    'null', 'no transfer any more');
SELECT is((pg_temp.row_of('T')).inbox_seq, :t_seq::bigint,
    'a taken case returning enters no inbox');
SELECT is(pg_temp.detail('T', 'transfer_refused'),
    '{"reason": "no_capacity", "from_region": "VR13", "to_region": "VR01",
      "returned_to": "taken"}', 'history transfer_refused');
SELECT is((SELECT action || '/' || outcome FROM audit.event
    WHERE request_id = 'req-t-refuse'), 'case.transfer_refuse/allowed',
    'audited case.transfer_refuse');
SELECT is(pg_temp.transfer_refuse('tok-coordinator-vr01', pg_temp.cid('T'))
    ->'problem'->>'state', 'taken',
    'answered already: 409 naming the state it returned to');

-- O: open, transferred, refused: back in VR13's inbox (a new arrival).
SELECT pg_temp.case_transfer('tok-coordinator', pg_temp.cid('O'), 'VR01')
    IS NOT NULL AS o_sent \gset
SELECT (pg_temp.row_of('O')).inbox_seq AS o_seq \gset
SELECT is(pg_temp.case_take('tok-coordinator', pg_temp.cid('O'))->>'status',
    '409', 'nobody takes a pending case');
SELECT is(pg_temp.transfer_refuse('tok-coordinator-vr01', pg_temp.cid('O'),
    'wrong_region')->'body'->>'state', 'open', 'refused: open again');
SELECT cmp_ok((pg_temp.row_of('O')).inbox_seq, '>', :o_seq::bigint,
    'and a new arrival in the sender''s inbox');

-- A: accepted: open in VR01 with the transfer's deadlines from now.
SELECT pg_temp.case_transfer('tok-coordinator', pg_temp.cid('A'), 'VR01',
    'specialist_care', NULL, 7200, 172800) IS NOT NULL AS a_sent \gset
INSERT INTO r SELECT 'Aacc', pg_temp.transfer_accept('tok-coordinator-vr01',
    pg_temp.cid('A'), NULL, 'req-a-accept');
SELECT is((SELECT v->'body'->>'state' || '/' || (v->'body'->>'region') || '/'
    || coalesce(v->'body'->>'holder', 'none') FROM r WHERE name = 'Aacc'),
    'open/VR01/none', 'accepted: open in the receiving region');
SELECT is(((pg_temp.row_of('A')).take_by, (pg_temp.row_of('A'))
    .first_contact_by), (now() + interval '7200 s',
    now() + interval '172800 s'), 'with the transfer''s deadlines');
SELECT is(pg_temp.detail('A', 'transfer_accepted'),
    '{"reason": "specialist_care", "from_region": "VR13",
      "to_region": "VR01"}', 'history transfer_accepted');
SELECT is(pg_temp.transfer_accept('tok-coordinator-vr01', pg_temp.cid('A'))
    ->'problem'->>'state', 'open', 'a second accept: 409 naming the state');
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('A'))->>'status',
    '404', 'the sender no longer sees it');

-- U (open) and UT (taken): unanswered past answer_by -> national desk.
SELECT pg_temp.case_transfer('tok-coordinator', pg_temp.cid(n), 'VR01')
    IS NOT NULL FROM unnest(ARRAY['U', 'UT']) n;
UPDATE care.case SET created_at = now() - interval '1 day',
    transfer_requested_at = now() - interval '2 hours',
    transfer_answer_by = now() - interval '1 minute',
    take_by = now() - interval '1 hour',
    first_contact_by = now() - interval '1 hour'
WHERE id IN (pg_temp.cid('U'), pg_temp.cid('UT'));
INSERT INTO r SELECT 'sweep', pg_temp.escalate(100);
SELECT set_eq($$SELECT jsonb_array_elements_text(v->'case_ids')::uuid
    FROM r WHERE name = 'sweep'$$,
    $$VALUES (pg_temp.cid('U')), (pg_temp.cid('UT'))$$,
    'the sweeper escalates the two unanswered transfers (and nothing '
    'else: a pending case is past no other deadline of the sweeper)');
SELECT is((SELECT (region_code, state, holder_key_id, transfer_to)
    FROM care.case WHERE id = pg_temp.cid('UT')),
    ('NATIONAL'::text, 'open'::text, NULL::uuid, NULL::text),
    'UT: open at the national desk, no holder, no transfer');
SELECT is((SELECT detail - 'answer_by' FROM care.case_history
    WHERE case_id = pg_temp.cid('UT') AND action = 'escalated'),
    jsonb_build_object('reason', 'transfer_unanswered',
        'why', 'the receiving region did not answer the transfer',
        'from_region', 'VR13', 'to_region', 'NATIONAL',
        'transfer_to', 'VR01', 'from_state', 'taken'),
    'history escalated: transfer_unanswered');
SELECT is((SELECT count(*)::int FROM audit.event WHERE action =
    'case.escalate' AND reason = 'transfer_unanswered'), 2,
    'audited case.escalate with the reason');
SELECT is(pg_temp.escalate(100)->'escalated', '0',
    'a second sweep escalates nothing');
SELECT is(pg_temp.transfer_accept('tok-coordinator-vr01', pg_temp.cid('U'))
    ->'problem'->>'state', 'open', 'too late to accept: 409 (escalated)');
SELECT is(pg_temp.transfer_accept('tok-coordinator-2', pg_temp.cid('U'))
    ->>'status', '404', 'a coordinator of the sender, not the receiver: 404');

-- The constraint: a pending case names its transfer, no other does.
SELECT is(pg_temp.probe($$UPDATE care.case SET state = 'transfer_pending'
    WHERE id = '$$ || pg_temp.cid('A') || $$'$$), 'case_transfer_check',
    'transfer_pending without a transfer is refused');
SELECT is(pg_temp.probe($$UPDATE care.case SET transfer_to = 'VR02'
    WHERE id = '$$ || pg_temp.cid('A') || $$'$$), 'case_transfer_check',
    'a transfer on a case not pending is refused');

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
