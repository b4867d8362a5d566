-- 50_inbox.sql - api.inbox and api.inbox_wakeup_check: scope, order,
-- keyset pagination stable under arrivals, since / watermark, filters,
-- bad parameters, audit; inbox_seq assignment.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(76);
\ir fixtures.psql


-- VR13 cases, in the expected inbox order C, E, B, D, A:
-- priority (urgent, high, normal), then take_by, then arrival.
DO $$
BEGIN
	PERFORM pg_temp.named_case('A',
	    '{"priority": "normal", "take_within": 3600}');
	PERFORM pg_temp.named_case('B',
	    '{"priority": "urgent", "take_within": 7200}');
	PERFORM pg_temp.named_case('C',
	    '{"priority": "urgent", "take_within": 3600}');
	PERFORM pg_temp.named_case('D',
	    '{"priority": "high", "take_within": 3600}');
	PERFORM pg_temp.named_case('E',
	    '{"priority": "urgent", "take_within": 3600}');
	-- Other inboxes (urgent, 3600 s, like C and E).
	PERFORM pg_temp.named_case('F', '{"region": "VR01"}');
	PERFORM pg_temp.named_case('G', '{"region": "NATIONAL"}');
END
$$;

-- ---------------------------------------------------------------------
-- inbox_seq: drawn on insert, in arrival order, unique.
-- ---------------------------------------------------------------------
SELECT ok((SELECT bool_and(a.inbox_seq < b.inbox_seq) FROM care.case a,
    care.case b WHERE a.id = pg_temp.cid('A') AND b.id = pg_temp.cid('B'))
    AND (SELECT bool_and(a.inbox_seq < b.inbox_seq) FROM care.case a,
    care.case b WHERE a.id = pg_temp.cid('F') AND b.id = pg_temp.cid('G')),
    'inbox_seq grows with arrival');
SELECT is(pg_temp.violation(format('UPDATE care.case SET inbox_seq = %s '
    'WHERE id = %L', (SELECT inbox_seq FROM care.case
        WHERE id = pg_temp.cid('A')), pg_temp.cid('B'))), 'ok',
    'a writer cannot set inbox_seq (the trigger keeps it) ...');
SELECT isnt((SELECT inbox_seq FROM care.case WHERE id = pg_temp.cid('B')),
    (SELECT inbox_seq FROM care.case WHERE id = pg_temp.cid('A')),
    '... so B kept its own');
SELECT col_is_unique('care', 'case', 'inbox_seq', 'inbox_seq is unique');
SELECT has_index('care', 'case', 'case_region_inbox_seq_idx',
    'inbox_seq is indexed per region (watermark)');
-- inbox_xid: the entering transaction (0028), indexed per region.
SELECT is((SELECT inbox_xid FROM care.case WHERE id = pg_temp.cid('B')),
    pg_current_xact_id(), 'inbox_xid is the entering transaction');
SELECT has_index('care', 'case', 'case_region_inbox_xid_idx',
    'inbox_xid is indexed per region (watermark, newer than it)');

-- ---------------------------------------------------------------------
-- The first page.
-- ---------------------------------------------------------------------
INSERT INTO r SELECT 'all', pg_temp.inbox('tok-coordinator',
    p_request_id => 'req-inbox-1');
SELECT pg_temp.answer_is('all', 200, 'inbox',
    ARRAY['items', 'next_key', 'watermark']);
SELECT is((SELECT pg_temp.item_names(v->'body'->'items') FROM r
    WHERE name = 'all'), ARRAY['C', 'E', 'B', 'D', 'A'],
    'inbox: the caller''s regions only, by priority, take_by, arrival');
SELECT is((SELECT v->'body'->'next_key' FROM r WHERE name = 'all'), 'null',
    'inbox: next_key is null when the page is not full');
SELECT is((SELECT v->'body'->>'watermark' FROM r WHERE name = 'all'),
    pg_temp.mark(ARRAY['VR13']),
    'inbox: watermark is the newest entry of the caller''s cases '
    '(its transaction, then the highest inbox_seq: 0028)');

-- 0028 writes the item's times with to_char inline: the same text as
-- api.rfc3339.
SELECT is((SELECT count(*)::int FROM r, jsonb_array_elements(
        v->'body'->'items') x JOIN care.case c ON c.id = (x->>'case_id')::uuid
    WHERE r.name = 'all' AND x->>'take_by' = api.rfc3339(c.take_by)
      AND x->>'created_at' = api.rfc3339(c.created_at)
      AND x->>'first_contact_by' IS NOT DISTINCT FROM
          api.rfc3339(c.first_contact_by)), 5,
    'item times: the text of api.rfc3339');
CREATE TEMP VIEW item_c AS
SELECT x AS item FROM r, jsonb_array_elements(v->'body'->'items') x
WHERE r.name = 'all' AND (x->>'case_id')::uuid = pg_temp.cid('C');
SELECT is((SELECT array_agg(k ORDER BY k) FROM item_c,
    jsonb_object_keys(item) k),
    ARRAY['case_id', 'closed_reason', 'created_at', 'declines', 'escalated',
        'exploitation', 'first_contact_at', 'first_contact_by',
        'first_contact_escalated', 'first_contact_in_time', 'followups',
        'holder', 'holder_agency', 'last_followup_at',
        'minor', 'priority', 'reference', 'region', 'state', 'take_by',
        'transfer',
        'urgency', 'version'],
    'item: exactly the documented triage fields (no inbox_seq: 0007)');
SELECT is((SELECT item - 'case_id' - 'take_by'
    - 'first_contact_by' - 'created_at' - 'reference' FROM item_c),
    '{"region": "VR13", "priority": "urgent", "state": "open",
      "holder": null, "holder_agency": null, "minor": false,
      "exploitation": ["sexual"],
      "urgency": {"immediate_danger": true, "needs_shelter": false},
      "declines": 0, "escalated": false, "closed_reason": null,
      "first_contact_at": null, "first_contact_in_time": null,
      "first_contact_escalated": false, "transfer": null,
      "followups": 0, "last_followup_at": null,
      "version": 1}'::jsonb, 'item: the triage values');
SELECT is((SELECT item->>'take_by' FROM item_c),
    api.rfc3339(now() + interval '3600 seconds'),
    'item: take_by in RFC 3339 UTC');
SELECT ok((SELECT NOT (item ? 'inbox_seq') FROM item_c)
    AND (SELECT inbox_seq FROM care.case WHERE id = pg_temp.cid('C'))
        IS NOT NULL,
    'item: no inbox_seq (a national counter), though the case has one');
SELECT is((SELECT count(*)::int FROM r WHERE name = 'all'
    AND v::text ~ '(Ana|Teststraat|test narrative|1994-03-02|0000 0000'
        '|PV-2024-1)'), 0,
    'inbox: no names, birth date, contact, narrative or reference');

-- One audit event per call, no object, purpose care; no case reads.
SELECT results_eq($$SELECT api_key_id, role, action, object_type, object_id,
    purpose, outcome FROM audit.event WHERE request_id = 'req-inbox-1'$$,
    $$VALUES ('b0000000-0000-4000-8000-000000000003'::uuid,
    'coordinator'::text, 'inbox.list'::text, 'inbox'::text, NULL::text,
    'care'::text, 'allowed'::text)$$,
    'inbox: exactly one audit event (inbox.list) per call');

-- Other keys see their own inboxes.
SELECT is(pg_temp.item_names(pg_temp.inbox('tok-coordinator-vr01')
    ->'body'->'items'), ARRAY['F'], 'a VR01 coordinator sees VR01 only');
SELECT is(pg_temp.item_names(pg_temp.inbox('tok-coordinator-national')
    ->'body'->'items'), ARRAY['G'],
    'a national desk coordinator sees the national desk');
SELECT is(pg_temp.item_names(pg_temp.inbox('tok-coordinator-multi')
    ->'body'->'items'), ARRAY['C', 'E', 'F', 'B', 'D', 'A'],
    'a coordinator of two regions sees both, in one order');
SELECT is(pg_temp.inbox('tok-coordinator-vr01')->'body'->>'watermark',
    pg_temp.mark(ARRAY['VR01']), 'the watermark is per caller''s regions');
SELECT ok(pg_temp.mark(ARRAY['VR01']) LIKE '%:' || (SELECT inbox_seq
    FROM care.case WHERE id = pg_temp.cid('F')),
    '... (VR01''s newest entry is F)');

-- ---------------------------------------------------------------------
-- Keyset pagination, stable while cases arrive.
-- ---------------------------------------------------------------------
INSERT INTO r SELECT 'p1', pg_temp.inbox('tok-coordinator', p_limit => 2);
SELECT is((SELECT pg_temp.item_names(v->'body'->'items') FROM r
    WHERE name = 'p1'), ARRAY['C', 'E'], 'page 1: C, E');
SELECT is((SELECT v->'body'->'next_key' FROM r WHERE name = 'p1'),
    jsonb_build_object('p', 0, 'd', to_char((now() + interval '1 hour')
        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        's', (SELECT inbox_seq FROM care.case WHERE id = pg_temp.cid('E'))),
    'page 1: next_key is E''s sort key (rank, take_by in microseconds, '
    'inbox_seq)');
SELECT is((SELECT (v->'body'->'next_key'->>'d')::timestamptz FROM r
    WHERE name = 'p1'), (SELECT take_by FROM care.case
    WHERE id = pg_temp.cid('E')), 'the sort key''s take_by round-trips '
    'exactly');

-- Two cases arrive between pages: H sorts before the cursor, I last.
DO $$
BEGIN
	PERFORM pg_temp.named_case('H',
	    '{"priority": "urgent", "take_within": 600}');
	PERFORM pg_temp.named_case('I',
	    '{"priority": "normal", "take_within": 9000}');
END
$$;

INSERT INTO r SELECT 'p2', pg_temp.inbox('tok-coordinator', p_limit => 2,
    p_after => (SELECT v->'body'->'next_key' FROM r WHERE name = 'p1'));
INSERT INTO r SELECT 'p3', pg_temp.inbox('tok-coordinator', p_limit => 2,
    p_after => (SELECT v->'body'->'next_key' FROM r WHERE name = 'p2'));
INSERT INTO r SELECT 'p4', pg_temp.inbox('tok-coordinator', p_limit => 2,
    p_after => (SELECT v->'body'->'next_key' FROM r WHERE name = 'p3'));
SELECT is((SELECT pg_temp.item_names(v->'body'->'items') FROM r
    WHERE name = 'p2'), ARRAY['B', 'D'], 'page 2: B, D (not shifted by H)');
SELECT is((SELECT pg_temp.item_names(v->'body'->'items') FROM r
    WHERE name = 'p3'), ARRAY['A', 'I'], 'page 3: A, then the new I');
SELECT is((SELECT v->'body' FROM r WHERE name = 'p4'),
    jsonb_build_object('items', '[]'::jsonb, 'next_key', NULL,
        'watermark', pg_temp.mark(ARRAY['VR13'])),
    'page 4: empty, no next_key: the end');
SELECT is(pg_temp.item_names(pg_temp.inbox('tok-coordinator')
    ->'body'->'items'), ARRAY['H', 'C', 'E', 'B', 'D', 'A', 'I'],
    'a fresh first page shows H in its place');

-- ---------------------------------------------------------------------
-- since / watermark.
-- ---------------------------------------------------------------------
SELECT v->'body'->>'watermark' AS w1 FROM r WHERE name = 'all' \gset
SELECT is(pg_temp.item_names(pg_temp.inbox('tok-coordinator',
    p_since => :'w1')->'body'->'items'),
    ARRAY['H', 'I'], 'since: only the cases that arrived after the '
    'watermark, in inbox order');
SELECT is(pg_temp.wakeup('tok-coordinator',
    :'w1', 'req-wake-1'),
    jsonb_build_object('status', 200, 'body', jsonb_build_object(
        'newer', true, 'watermark', pg_temp.mark(ARRAY['VR13']))),
    'wakeup check: newer, with the new watermark');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'wakeup check: the caller''s role is restored');
SELECT is(pg_temp.wakeup('tok-coordinator', pg_temp.mark(ARRAY['VR13']))
    ->'body'->'newer', 'false',
    'wakeup check: nothing newer than the current watermark');
SELECT is(pg_temp.wakeup('tok-coordinator-vr01', pg_temp.mark(
    ARRAY['VR01']))->'body'->'newer', 'false',
    'wakeup check: VR13 arrivals do not wake a VR01 coordinator');
SELECT is(pg_temp.wakeup('tok-coordinator', NULL)->'body'->'newer', 'true',
    'wakeup check: since null means from the start');
SELECT is((SELECT count(*)::int FROM audit.event
    WHERE request_id = 'req-wake-1'), 0,
    'wakeup check: not audited (it returns no case data)');
SELECT is(pg_temp.wakeup('tok-reporter', '0', 'req-wake-2')->'status', '403',
    'wakeup check: reporters are refused');
SELECT is((SELECT reason FROM audit.event WHERE request_id = 'req-wake-2'),
    'role_not_permitted', 'wakeup check: the denial is audited');
SELECT is(pg_temp.wakeup('tok-coordinator', '-1')->'problem'->>'field',
    'since', 'wakeup check: a negative since is a 400 on since');
SELECT is(pg_temp.inbox('tok-coordinator-national')->'body'->>'watermark',
    pg_temp.mark(ARRAY['NATIONAL']), 'national desk watermark');

-- ---------------------------------------------------------------------
-- Filters.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.case_take('tok-coordinator', pg_temp.cid('C'))->'status',
    '200', 'C is taken');
SELECT is(pg_temp.item_names(pg_temp.inbox('tok-coordinator')
    ->'body'->'items'), ARRAY['H', 'E', 'B', 'D', 'A', 'I'],
    'state open (the default) leaves the taken case out');
INSERT INTO r SELECT 'taken', pg_temp.inbox('tok-coordinator', 'taken');
SELECT is((SELECT pg_temp.item_names(v->'body'->'items') FROM r
    WHERE name = 'taken'), ARRAY['C'], 'state taken');
SELECT is((SELECT v->'body'->'items'->0->>'holder' FROM r
    WHERE name = 'taken'), 'b0000000-0000-4000-8000-000000000003',
    'a taken item names the holder key ...');
SELECT is((SELECT v->'body'->'items'->0->>'holder_agency' FROM r
    WHERE name = 'taken'), 'Test Care', '... and its agency');
SELECT is(pg_temp.case_close('tok-coordinator', pg_temp.cid('C'),
    'duplicate')->'status', '200', 'C is closed');
SELECT is(pg_temp.inbox('tok-coordinator', 'closed')->'body'->'items'->0
    ->>'closed_reason', 'duplicate', 'state closed, with the reason');
SELECT is(pg_temp.item_names(pg_temp.inbox('tok-coordinator', 'all')
    ->'body'->'items'), ARRAY['H', 'C', 'E', 'B', 'D', 'A', 'I'],
    'state all');
SELECT is(pg_temp.item_names(pg_temp.inbox('tok-coordinator', 'open',
    'urgent')->'body'->'items'), ARRAY['H', 'E', 'B'], 'priority urgent');
SELECT is(pg_temp.item_names(pg_temp.inbox('tok-coordinator', 'all',
    'high')->'body'->'items'), ARRAY['D'], 'priority high');
SELECT is(pg_temp.inbox('tok-coordinator', 'open', 'normal')
    ->'body'->>'watermark', pg_temp.mark(ARRAY['VR13']),
    'the watermark ignores the filters (all states, all priorities)');

-- ---------------------------------------------------------------------
-- Bad parameters: 400 on the parameter, audited, nothing listed.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.inbox('tok-coordinator', 'lost', p_request_id =>
    'req-bad-1'), '{"status": 400, "problem": {"code": "bad_request",
    "detail": "state must be open, taken, closed, transfer_pending or all",
    "field": "state"}}', 'state outside the list: 400 on state');
SELECT is((SELECT outcome || '/' || reason FROM audit.event
    WHERE request_id = 'req-bad-1'), 'failed/bad_request',
    'a bad parameter is audited as failed');
SELECT is(pg_temp.inbox('tok-coordinator', 'open', 'whenever')
    ->'problem'->>'field', 'priority', 'priority outside the list: 400');
SELECT is(pg_temp.inbox('tok-coordinator', p_limit => 0)
    ->'problem'->>'field', 'limit', 'limit 0: 400');
SELECT is(pg_temp.inbox('tok-coordinator', p_limit => 201)
    ->'problem'->>'field', 'limit', 'limit 201: 400');
SELECT is((pg_temp.inbox('tok-coordinator', p_limit => 200)->'status'),
    '200', 'limit 200 is allowed');
SELECT is(pg_temp.inbox('tok-coordinator', p_since => '-1')
    ->'problem'->>'field', 'since', 'negative since: 400');
SELECT is(pg_temp.inbox('tok-coordinator', p_since => '9:5::1')
    ->'problem', '{"code": "bad_request", "detail": "since is not a '
    'watermark", "field": "since"}', 'since with xmin above xmax: 400');
SELECT is(pg_temp.inbox('tok-coordinator', p_since => '5:9:3:1')
    ->'problem'->>'field', 'since', 'since naming a running transaction '
    'below xmin: 400');
SELECT is(pg_temp.inbox('tok-coordinator', p_after => k)
    ->'problem', '{"code": "bad_request", "detail": "the cursor is not valid",
    "field": "after"}', 'bad cursor ' || k::text || ': 400 on after')
FROM unnest(ARRAY['[]', '{"p": 0}', '{"p": 0, "d": "x", "s": 1}',
    '{"p": 3, "d": "2024-01-01T00:00:00Z", "s": 1}',
    '{"p": 0, "d": "2024-01-01T00:00:00Z", "s": -1}',
    '{"p": "0", "d": "2024-01-01T00:00:00Z", "s": 1}',
    '{"p": 0, "d": "2024-01-01T00:00:00Z", "s": 1, "x": 1}']::jsonb[]) k;
SELECT is(current_user::text, 'postgres', 'the test''s own role is intact');

-- Roles.
SELECT is(pg_temp.inbox('tok-reporter', p_request_id => 'req-inbox-rep'),
    '{"status": 403, "problem": {"code": "forbidden",
      "detail": "this API role may not perform this action"}}',
    'a reporter has no inbox: 403');
SELECT results_eq($$SELECT action, outcome, reason FROM audit.event
    WHERE request_id = 'req-inbox-rep'$$,
    $$VALUES ('inbox.list'::text, 'denied'::text,
    'role_not_permitted'::text)$$, 'the 403 is audited');
SELECT is(pg_temp.inbox('tok-assessor')->'status', '403',
    'assessors have no inbox');
SELECT is(pg_temp.inbox('tok-nobody')->'status', '401', 'unknown token: 401');

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
