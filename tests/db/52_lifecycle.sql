-- 52_lifecycle.sql - take, decline, transfer, close, reopen: effects,
-- history, audit, inbox entry, If-Match, reasons, scope, declines to the
-- national desk.  (Every cell of the state table: 53_state_table.sql.)
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(111);
\ir fixtures.psql

CREATE FUNCTION pg_temp.history(p_name text) RETURNS text[]
LANGUAGE sql STABLE AS $$
	SELECT coalesce(array_agg(action ORDER BY id), '{}')
	FROM care.case_history WHERE case_id = pg_temp.cid(p_name)
$$;
-- The detail of the one p_action entry in case p_name's history.
CREATE FUNCTION pg_temp.detail(p_name text, p_action text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v jsonb;
BEGIN
	SELECT detail INTO STRICT v FROM care.case_history
	WHERE case_id = pg_temp.cid(p_name) AND action = p_action;
	RETURN v;
END
$$;

DO $$
BEGIN
	PERFORM pg_temp.named_case(n) FROM unnest(ARRAY['T', 'T2', 'S',
	    'D1', 'D2', 'L', 'E3', 'V1', 'TR', 'CL', 'RO', 'X']) n;
END
$$;

-- ---------------------------------------------------------------------
-- take
-- ---------------------------------------------------------------------
SELECT (pg_temp.row_of('T')).inbox_seq AS t_seq0 \gset
INSERT INTO r SELECT 'take', pg_temp.case_take('tok-coordinator',
    pg_temp.cid('T'), NULL, 'req-take-1');
SELECT is((SELECT v FROM r WHERE name = 'take'),
    jsonb_build_object('status', 200, 'body', (SELECT item
        FROM care.case_item WHERE id = pg_temp.cid('T'))),
    'take: 200 with the case as an inbox item');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'take: the caller''s role is restored');
SELECT is((SELECT v->'body'->>'state' || '/' || (v->'body'->>'holder') || '/'
    || (v->'body'->>'version') FROM r WHERE name = 'take'),
    'taken/b0000000-0000-4000-8000-000000000003/2',
    'take: taken, held by the caller, version 2');
SELECT is((pg_temp.row_of('T')).inbox_seq, :t_seq0::bigint,
    'take: does not enter an inbox (inbox_seq unchanged)');
SELECT ok((SELECT NOT (v->'body' ? 'inbox_seq') FROM r WHERE name = 'take'),
    'take: the answer carries no inbox_seq (a national counter: 0007)');
SELECT results_eq($$SELECT action, api_key_id, detail FROM care.case_history
    WHERE case_id = pg_temp.cid('T') AND action <> 'routed'$$,
    $$VALUES ('taken'::text, 'b0000000-0000-4000-8000-000000000003'::uuid,
    '{"region": "VR13"}'::jsonb)$$, 'take: one history row');
SELECT results_eq($$SELECT api_key_id, role, action, object_type, object_id,
    purpose, outcome FROM audit.event WHERE request_id = 'req-take-1'$$,
    $$SELECT 'b0000000-0000-4000-8000-000000000003'::uuid,
    'coordinator'::text, 'case.take'::text, 'case'::text,
    pg_temp.cid('T')::text, 'care'::text, 'allowed'::text$$,
    'take: audited case.take, allowed, purpose care');

-- If-Match: the current version passes; a stale one is a 412.
SELECT is(pg_temp.case_take('tok-coordinator', pg_temp.cid('T2'), 1)
    ->'body'->'version', '2', 'take with If-Match of the current version');
INSERT INTO r SELECT 'stale', pg_temp.case_decline('tok-coordinator',
    pg_temp.cid('T2'), 'no_capacity', 1, 3, 'req-stale');
SELECT is((SELECT v FROM r WHERE name = 'stale'),
    '{"status": 412, "problem": {"code": "precondition",
      "detail": "the case has changed: its version is 2", "version": 2}}',
    'a stale If-Match: 412 precondition with the current version');
SELECT is((pg_temp.row_of('T2')).version || '/' || (pg_temp.row_of('T2')).state,
    '2/taken', 'the 412 changed nothing');
SELECT is(pg_temp.history('T2'), ARRAY['routed', 'taken'],
    'the 412 wrote no history');
SELECT results_eq($$SELECT action, outcome, reason FROM audit.event
    WHERE request_id = 'req-stale'$$,
    $$VALUES ('case.decline'::text, 'failed'::text, 'stale_version'::text)$$,
    'the 412 is audited');
SELECT is(pg_temp.case_take('tok-coordinator', pg_temp.cid('S'), 7)
    ->'status', '412', 'If-Match ahead of the version is stale too');
SELECT is(pg_temp.case_take('tok-coordinator', pg_temp.cid('S'), 7)
    ->'problem'->>'version', '1', '... and names the current version');

-- 409: the state and holder in the answer.
INSERT INTO r SELECT 'take409', pg_temp.case_take('tok-coordinator-2',
    pg_temp.cid('T'), NULL, 'req-take-409');
SELECT is((SELECT v FROM r WHERE name = 'take409'),
    '{"status": 409, "problem": {"code": "conflict",
      "detail": "cannot take a case that is taken by another coordinator (state taken, holder b0000000-0000-4000-8000-000000000003, version 2)",
      "state": "taken", "holder": "b0000000-0000-4000-8000-000000000003",
      "version": 2}}',
    'taking a taken case: 409 with state, holder, version');
SELECT results_eq($$SELECT outcome, reason FROM audit.event
    WHERE request_id = 'req-take-409'$$,
    $$VALUES ('failed'::text, 'illegal_transition'::text)$$,
    'the 409 is audited');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'the role is restored after a 409');

-- ---------------------------------------------------------------------
-- decline: back to the region's inbox, marked.
-- ---------------------------------------------------------------------
SELECT max(inbox_seq) AS w_before FROM care.case \gset
SELECT pg_temp.inbox('tok-coordinator', 'all')->'body'->>'watermark'
    AS w_before_mark \gset
INSERT INTO r SELECT 'decline', pg_temp.case_decline('tok-coordinator',
    pg_temp.cid('T'), 'no_capacity', 2, 3, 'req-decline-1');
SELECT is((SELECT (v->'body') - 'take_by' - 'first_contact_by'
    - 'created_at' - 'case_id' - 'reference' FROM r WHERE name = 'decline'),
    '{"region": "VR13", "priority": "urgent", "state": "open",
      "holder": null, "holder_agency": null, "minor": false,
      "exploitation": ["sexual"],
      "urgency": {"immediate_danger": true, "needs_shelter": false},
      "declines": 1, "escalated": false, "closed_reason": null,
      "first_contact_at": null, "first_contact_in_time": null,
      "first_contact_escalated": false, "transfer": null,
      "followups": 0, "last_followup_at": null,
      "version": 3}', 'decline by the holder: open, unheld, declines 1, v3');
SELECT cmp_ok((pg_temp.row_of('T')).inbox_seq, '>', :w_before::bigint,
    'decline: the case re-enters the inbox (new inbox_seq)');
SELECT is((SELECT max(inbox_seq) FROM care.case), (pg_temp.row_of('T'))
    .inbox_seq, 'decline: ... the newest entry');
SELECT is(pg_temp.detail('T', 'declined'),
    '{"reason": "no_capacity", "region": "VR13", "to_region": "VR13",
      "declines": 1, "region_declines": 1, "decline_limit": 3,
      "why": null}', 'decline: history with the reason code');
SELECT results_eq($$SELECT action, outcome FROM audit.event
    WHERE request_id = 'req-decline-1'$$,
    $$VALUES ('case.decline'::text, 'allowed'::text)$$, 'decline: audited');
SELECT is(pg_temp.item_names(pg_temp.inbox('tok-coordinator', p_since =>
    :'w_before_mark')->'body'->'items'), ARRAY['T'],
    'decline: a long-poll waiting after the old position sees it');
SELECT is(pg_temp.case_decline('tok-coordinator-2', pg_temp.cid('D1'))
    ->'body'->>'declines', '1', 'an open case can be declined untaken');
SELECT is(pg_temp.case_decline('tok-coordinator', pg_temp.cid('D2'),
    'because Ana', NULL, 3, 'req-decline-422'),
    '{"status": 422, "problem": {"code": "validation",
      "detail": "reason must be one of the documented decline reasons",
      "field": "reason"}}', 'decline: free text as reason is a 422');
SELECT is(pg_temp.case_decline('tok-coordinator', pg_temp.cid('D2'), NULL)
    ->'problem'->>'field', 'reason', 'decline: a reason is required');
SELECT results_eq($$SELECT outcome, reason FROM audit.event
    WHERE request_id = 'req-decline-422'$$,
    $$VALUES ('failed'::text, 'invalid_reason'::text)$$,
    'the 422 is audited, without the text');
SELECT is((pg_temp.row_of('D2')).version, 1, 'the 422 changed nothing');
SELECT throws_ok(format($$SELECT pg_temp.case_decline('tok-coordinator',
    %L, 'no_capacity', NULL, 0)$$, pg_temp.cid('D2')), '22023', NULL,
    'a decline limit below 1 is a daemon bug: 22023');

-- Decline limit: the second decline in VR13 with limit 2 -> NATIONAL.
SELECT is(pg_temp.case_decline('tok-coordinator', pg_temp.cid('L'),
    'no_capacity', NULL, 2)->'body'->>'region', 'VR13',
    'limit 2: the first decline keeps the case in VR13');
INSERT INTO r SELECT 'limit', pg_temp.case_decline('tok-coordinator',
    pg_temp.cid('L'), 'wrong_region', NULL, 2);
SELECT is((SELECT v->'body'->>'region' || '/' || (v->'body'->>'state') || '/'
    || (v->'body'->>'declines') FROM r WHERE name = 'limit'),
    'NATIONAL/open/2', 'limit 2: the second decline sends it to NATIONAL');
SELECT is((SELECT detail FROM care.case_history WHERE case_id =
    pg_temp.cid('L') AND action = 'declined' ORDER BY id DESC LIMIT 1),
    '{"reason": "wrong_region", "region": "VR13", "to_region": "NATIONAL",
      "declines": 2, "region_declines": 2, "decline_limit": 2,
      "why": "decline_limit_reached"}', 'limit: the history says why');
SELECT is((pg_temp.row_of('L')).escalated_at, NULL,
    'limit: not an escalation (escalated_at stays null)');
SELECT ok(pg_temp.cid('L') IN (SELECT (x->>'case_id')::uuid FROM
    jsonb_array_elements(pg_temp.inbox('tok-coordinator-national')
        ->'body'->'items') x), 'limit: it is in the national inbox');
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('L'))->'status',
    '404', 'limit: and no longer VR13''s');
SELECT is(pg_temp.case_decline('tok-coordinator-national', pg_temp.cid('L'),
    'no_capacity', NULL, 1)->'body'->>'region', 'NATIONAL',
    'a decline at the national desk keeps it there');

-- Every active coordinator key of VR13 (...03, ...05, ...09) declines.
SELECT is(pg_temp.case_decline('tok-coordinator', pg_temp.cid('E3'),
    'no_capacity', NULL, 10)->'body'->>'region', 'VR13', 'first of three');
SELECT is(pg_temp.case_decline('tok-coordinator', pg_temp.cid('E3'),
    'no_capacity', NULL, 10)->'body'->>'region', 'VR13',
    'the same key again: still one decliner of three');
SELECT is(pg_temp.case_decline('tok-coordinator-2', pg_temp.cid('E3'),
    'no_capacity', NULL, 10)->'body'->>'region', 'VR13', 'second of three');
SELECT is(pg_temp.case_decline('tok-coordinator-multi', pg_temp.cid('E3'),
    'conflict_of_interest', NULL, 10)->'body'->>'region', 'NATIONAL',
    'the last coordinator of VR13 declines: to NATIONAL');
SELECT is((SELECT detail->>'why' FROM care.case_history WHERE case_id =
    pg_temp.cid('E3') ORDER BY id DESC LIMIT 1),
    'declined_by_every_coordinator', 'the history says why');
-- A revoked key does not count: VR01 has two active keys (...06 and the
-- two-region ...09) and a revoked one.  V1 was declined in VR13 first.
INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions,
    revoked_at)
VALUES ('b0000000-0000-4000-8000-0000000000a1', sha256('tok-vr01-revoked'),
    'a0000000-0000-4000-8000-000000000003', 'coordinator', '{VR01}', now());
SELECT is(pg_temp.case_decline('tok-coordinator-2', pg_temp.cid('V1'))
    ->'body'->>'region', 'VR13', 'V1 declined once in VR13');
SELECT is(pg_temp.case_transfer('tok-coordinator', pg_temp.cid('V1'),
    'VR01')->'status', '200', 'V1 transferred to VR01');
-- (0021: a transfer waits for the receiver; VR01 accepts it)
SELECT pg_temp.transfer_accept('tok-coordinator-vr01', pg_temp.cid('V1'))
    ->>'status' AS v1_accepted \gset
SELECT is(pg_temp.case_decline('tok-coordinator-vr01', pg_temp.cid('V1'))
    ->'body'->>'region', 'VR01', 'one of the two active VR01 keys declines');
SELECT is((SELECT detail->>'region_declines' FROM care.case_history
    WHERE case_id = pg_temp.cid('V1') ORDER BY id DESC LIMIT 1), '1',
    'declines in VR13 before the transfer do not count for VR01');
SELECT is(pg_temp.case_decline('tok-coordinator-multi', pg_temp.cid('V1'))
    ->'body'->>'region', 'NATIONAL',
    'the other declines (2 < limit 3): to NATIONAL, the revoked key does '
    'not count');
SELECT is((pg_temp.row_of('V1')).declines, 3,
    'declines counts the whole life of the case (the mark)');

-- ---------------------------------------------------------------------
-- transfer
-- ---------------------------------------------------------------------
SELECT is(pg_temp.case_take('tok-coordinator', pg_temp.cid('TR'))->'status',
    '200', 'TR taken');
SELECT (pg_temp.row_of('TR')).inbox_seq AS tr_seq \gset
INSERT INTO r SELECT 'transfer', pg_temp.case_transfer('tok-coordinator',
    pg_temp.cid('TR'), 'VR01', 'victim_relocated', 2, 7200, 172800,
    'req-transfer-1');
SELECT is((SELECT v->'body'->>'region' || '/' || (v->'body'->>'state') || '/'
    || coalesce(v->'body'->>'holder', 'none') || '/'
    || (v->'body'->>'version') FROM r WHERE name = 'transfer'),
    'VR13/transfer_pending/b0000000-0000-4000-8000-000000000003/3',
    'transfer: pending, the sender keeps region and holder, v3');
INSERT INTO r SELECT 'accept', pg_temp.transfer_accept('tok-coordinator-vr01',
    pg_temp.cid('TR'), NULL, 'req-accept-1');
SELECT is((SELECT v->'body'->>'region' || '/' || (v->'body'->>'state') || '/'
    || coalesce(v->'body'->>'holder', 'none') || '/'
    || (v->'body'->>'version') FROM r WHERE name = 'accept'),
    'VR01/open/none/4', 'accepted: open and unheld in the target, v4');
SELECT is(((pg_temp.row_of('TR')).take_by, (pg_temp.row_of('TR'))
    .first_contact_by), (now() + interval '7200 s',
    now() + interval '172800 s'), 'transfer: the target''s deadlines');
SELECT cmp_ok((pg_temp.row_of('TR')).inbox_seq, '>', :tr_seq::bigint,
    'transfer: the case enters the target''s inbox');
SELECT is(pg_temp.detail('TR', 'transferred'),
    '{"reason": "victim_relocated", "from_region": "VR13",
      "to_region": "VR01", "take_within_s": 7200, "pending": true,
      "answer_within_s": 14400,
      "first_contact_within_s": 172800}', 'transfer: history');
SELECT results_eq($$SELECT action, object_id, outcome FROM audit.event
    WHERE request_id = 'req-transfer-1'$$,
    $$SELECT 'case.transfer'::text, pg_temp.cid('TR')::text,
    'allowed'::text$$, 'transfer: audited');
SELECT ok(pg_temp.cid('TR') NOT IN (SELECT (x->>'case_id')::uuid FROM
    jsonb_array_elements(pg_temp.inbox('tok-coordinator', 'all')
        ->'body'->'items') x), 'transfer: gone from the source inbox');
SELECT ok(pg_temp.cid('TR') IN (SELECT (x->>'case_id')::uuid FROM
    jsonb_array_elements(pg_temp.inbox('tok-coordinator-vr01')
        ->'body'->'items') x), 'transfer: in the target inbox');
SELECT is(pg_temp.case_transfer('tok-coordinator-vr01', pg_temp.cid('TR'),
    'VR01', 'wrong_region', NULL, 1, 1, 'req-transfer-same'),
    '{"status": 422, "problem": {"code": "validation",
      "detail": "the case is already in this region",
      "field": "target_region"}}', 'transfer to its own region: 422');
SELECT is((SELECT reason FROM audit.event
    WHERE request_id = 'req-transfer-same'), 'same_region',
    '... audited');
SELECT is(pg_temp.case_transfer('tok-coordinator-vr01', pg_temp.cid('TR'),
    'VR99')->'problem', '{"code": "validation", "detail": "unknown region",
    "field": "target_region"}', 'transfer to an unknown region: 422');
SELECT is(pg_temp.case_transfer('tok-coordinator-vr01', pg_temp.cid('TR'),
    NULL)->'problem'->>'field', 'target_region', 'a target is required');
SELECT is(pg_temp.case_transfer('tok-coordinator-vr01', pg_temp.cid('TR'),
    'VR02', 'she moved')->'problem'->>'field', 'reason',
    'transfer: free text as reason is a 422');
SELECT is(pg_temp.case_transfer('tok-coordinator-vr01', pg_temp.cid('TR'),
    'VR02', NULL)->'problem'->>'field', 'reason',
    'transfer: a reason is required');
SELECT throws_ok(format($$SELECT pg_temp.case_transfer('tok-coordinator-vr01',
    %L, 'VR02', 'other', NULL, NULL)$$, pg_temp.cid('TR')), '22023', NULL,
    'transfer without deadlines is a daemon bug: 22023');
SELECT is((pg_temp.row_of('TR')).version, 4, 'refused transfers changed '
    'nothing');
SELECT is(pg_temp.case_transfer('tok-coordinator-vr01', pg_temp.cid('TR'),
    'NATIONAL', 'specialist_care')->'body'->'transfer'->>'to_region',
    'NATIONAL', 'a transfer to the national desk is allowed');

-- ---------------------------------------------------------------------
-- close and reopen
-- ---------------------------------------------------------------------
SELECT is(pg_temp.case_take('tok-coordinator', pg_temp.cid('CL'))->'status',
    '200', 'CL taken');
SELECT is(pg_temp.case_close('tok-coordinator', pg_temp.cid('CL'),
    'closed because Ana', NULL, 'req-close-422')->'problem',
    '{"code": "validation",
      "detail": "reason must be one of the documented closing reasons",
      "field": "reason"}', 'close: a reason outside the list is a 422');
SELECT is(pg_temp.case_close('tok-coordinator', pg_temp.cid('CL'), NULL)
    ->'problem'->>'field', 'reason', 'close: a reason is required');
SELECT (pg_temp.row_of('CL')).inbox_seq AS cl_seq \gset
INSERT INTO r SELECT 'close', pg_temp.case_close('tok-coordinator',
    pg_temp.cid('CL'), 'referred_elsewhere', 2, 'req-close-1');
SELECT is((SELECT v->'body'->>'state' || '/' || (v->'body'->>'holder') || '/'
    || (v->'body'->>'closed_reason') || '/' || (v->'body'->>'version')
    FROM r WHERE name = 'close'),
    'closed/b0000000-0000-4000-8000-000000000003/referred_elsewhere/3',
    'close: closed, the holder kept, the reason, v3');
SELECT is((pg_temp.row_of('CL')).inbox_seq, :cl_seq::bigint,
    'close: does not enter an inbox');
SELECT is(pg_temp.detail('CL', 'closed'),
    '{"reason": "referred_elsewhere", "region": "VR13"}', 'close: history');
SELECT is((SELECT action || '/' || outcome FROM audit.event
    WHERE request_id = 'req-close-1'), 'case.close/allowed', 'close: audited');

INSERT INTO r SELECT 'reopen', pg_temp.case_reopen('tok-coordinator-2',
    pg_temp.cid('CL'), 'victim_returned', 3, 'req-reopen-1');
SELECT is((SELECT v->'body'->>'state' || '/'
    || coalesce(v->'body'->>'holder', 'none') || '/'
    || coalesce(v->'body'->>'closed_reason', 'none') || '/'
    || (v->'body'->>'version') FROM r WHERE name = 'reopen'),
    'open/none/none/4', 'reopen: open, unheld, no closing reason, v4');
SELECT cmp_ok((pg_temp.row_of('CL')).inbox_seq, '>', :cl_seq::bigint,
    'reopen: the case re-enters its region''s inbox');
SELECT is((pg_temp.row_of('CL')).take_by, now() + interval '3600 s',
    'reopen without deadlines keeps the old ones');
SELECT is(pg_temp.detail('CL', 'reopened'),
    '{"reason": "victim_returned", "region": "VR13"}', 'reopen: history');
SELECT is((SELECT action || '/' || outcome FROM audit.event
    WHERE request_id = 'req-reopen-1'), 'case.reopen/allowed', 'reopen: audited');
SELECT is(pg_temp.history('CL'), ARRAY['routed', 'taken', 'closed',
    'reopened'], 'CL: the whole history');
SELECT is(pg_temp.case_reopen('tok-coordinator', pg_temp.cid('CL'))
    ->'status', '409', 'an open case cannot be reopened');

-- Reopen with new deadlines (nrmd passes them when it has them).
SELECT is(pg_temp.case_take('tok-coordinator', pg_temp.cid('RO'))->'status',
    '200', 'RO taken');
SELECT is(pg_temp.case_close('tok-coordinator', pg_temp.cid('RO'),
    'unreachable')->'status', '200', 'RO closed');
SELECT is(pg_temp.api_as('nrm_app', format($$SELECT api.case_reopen(
    sha256('tok-coordinator'), 'req-reopen-2', NULL, %L, NULL,
    'new_information', 600, 3600)$$, pg_temp.cid('RO')))->'status', '200',
    'reopen with new deadlines');
SELECT is(((pg_temp.row_of('RO')).take_by,
    (pg_temp.row_of('RO')).first_contact_by),
    (now() + interval '600 s', now() + interval '3600 s'),
    'reopen: the new deadlines');
SELECT is(pg_temp.case_reopen('tok-coordinator', pg_temp.cid('RO'),
    'oops')->'problem'->>'field', 'reason', 'reopen: reason from the list');
SELECT throws_ok(format($$SELECT api.case_reopen(sha256('tok-coordinator'),
    'r', NULL, %L, NULL, 'other', 600, NULL)$$, pg_temp.cid('RO')), '22023',
    NULL, 'reopen with one deadline only is a daemon bug: 22023');

-- The closing reasons: the function and the constraint agree.
SELECT is(ARRAY(SELECT x FROM unnest(ARRAY['victim_supported',
    'referred_elsewhere', 'no_indication_of_trafficking', 'duplicate',
    'unreachable', 'other', 'bogus']) x
    WHERE care.reason_allowed('close', x)), ARRAY['victim_supported',
    'referred_elsewhere', 'no_indication_of_trafficking', 'duplicate',
    'unreachable', 'other'], 'the documented closing reasons');
SELECT is(pg_temp.probe(format($$UPDATE care.case
    SET state = 'closed', holder_key_id = NULL, closed_reason = %L
    WHERE id = %L$$, x, pg_temp.cid('X'))), 'ok',
    'case_closed_reason_check accepts ' || x)
FROM unnest(ARRAY['victim_supported', 'referred_elsewhere',
    'no_indication_of_trafficking', 'duplicate', 'unreachable', 'other']) x;
SELECT is(pg_temp.probe(format($$UPDATE care.case
    SET state = 'closed', closed_reason = 'bogus' WHERE id = %L$$,
    pg_temp.cid('X'))), 'case_closed_reason_check',
    'case_closed_reason_check refuses other reasons');
SELECT is(pg_temp.probe(format($$UPDATE care.case
    SET state = 'closed' WHERE id = %L$$, pg_temp.cid('X'))),
    'case_closed_reason_check', 'a closed case has a reason');
SELECT is(pg_temp.probe(format($$UPDATE care.case
    SET closed_reason = 'duplicate' WHERE id = %L$$, pg_temp.cid('X'))),
    'case_closed_reason_check', 'an open case has none');
SELECT is(pg_temp.probe(format($$UPDATE care.case
    SET declines = -1 WHERE id = %L$$, pg_temp.cid('X'))),
    'case_declines_check', 'declines are not negative');

-- ---------------------------------------------------------------------
-- Scope: another region's coordinator gets 404 on every action, audited.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.case_take('tok-coordinator', pg_temp.cid('X'))->'status',
    '200', 'X taken in VR13');
SELECT is(v, '{"status": 404, "problem": {"code": "not_found",
    "detail": "no case with this id in your regions"}}',
    'out of region: 404 on ' || a)
FROM (VALUES
    ('take', pg_temp.case_take('tok-coordinator-vr01', pg_temp.cid('X'), NULL,
        'req-oos-take')),
    ('decline', pg_temp.case_decline('tok-coordinator-vr01', pg_temp.cid('X'),
        'no_capacity', NULL, 3, 'req-oos-decline')),
    ('transfer', pg_temp.case_transfer('tok-coordinator-vr01',
        pg_temp.cid('X'), 'VR02', 'other', NULL, 1, 1, 'req-oos-transfer')),
    ('close', pg_temp.case_close('tok-coordinator-vr01', pg_temp.cid('X'),
        'other', NULL, 'req-oos-close')),
    ('reopen', pg_temp.case_reopen('tok-coordinator-vr01', pg_temp.cid('X'),
        'other', NULL, 'req-oos-reopen'))) AS t(a, v);
SELECT results_eq($$SELECT action, outcome, reason FROM audit.event
    WHERE request_id LIKE 'req-oos-%' ORDER BY action$$,
    $$VALUES ('case.close'::text, 'denied'::text, 'out_of_scope'::text),
    ('case.decline', 'denied', 'out_of_scope'),
    ('case.reopen', 'denied', 'out_of_scope'),
    ('case.take', 'denied', 'out_of_scope'),
    ('case.transfer', 'denied', 'out_of_scope')$$,
    'every out-of-region attempt is audited as denied/out_of_scope');
SELECT is((pg_temp.row_of('X')).version || '/' || (pg_temp.row_of('X')).state
    || '/' || (pg_temp.row_of('X')).region_code, '2/taken/VR13',
    'and none of them changed the case');
SELECT is(pg_temp.case_take('tok-coordinator', gen_random_uuid(), NULL,
    'req-unknown-take'), '{"status": 404, "problem": {"code": "not_found",
    "detail": "no case with this id in your regions"}}',
    'an unknown id: the same 404');
SELECT is((SELECT reason FROM audit.event
    WHERE request_id = 'req-unknown-take'), 'not_found',
    '... audited as not_found');
SELECT is(pg_temp.case_take('tok-reporter', pg_temp.cid('D2'))->'status',
    '403', 'a reporter cannot take a case');
SELECT is(pg_temp.case_close('tok-assessor', pg_temp.cid('X'), 'other')
    ->'status', '403', 'an assessor cannot act on a case');

-- Nothing personal in the history or the audit log.
SELECT is_empty($$SELECT 1 FROM care.case_history h
    WHERE h.action <> 'routed' AND h.detail::text ~ '(Ana|narrative|1994-03-02)'$$,
    'no personal data in history details');
SELECT is_empty($$SELECT 1 FROM audit.event e
    WHERE concat_ws('|', e.object_id, e.purpose, e.reason, e.request_id)
        ~ '(Ana|Teststraat|narrative|1994-03-02|she moved)'$$,
    'no personal data (nor the refused free text) in the audit log');

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
