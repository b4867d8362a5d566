-- 59_first_contact.sql - api.case_contact and the first-contact
-- escalation (issue 18, 0021): validation, who may record a contact,
-- what the first contact made changes, and the sweeper's second kind of
-- escalation, exactly once, with history, audit, item, overview and
-- statistics.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(39);
\ir fixtures.psql

CREATE FUNCTION pg_temp.ts(p timestamptz) RETURNS text
LANGUAGE sql AS $$
	SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

DO $$
BEGIN
	PERFORM pg_temp.named_case('C');	-- contacts
	PERFORM pg_temp.named_case('OPEN');
	PERFORM pg_temp.named_case('F');	-- failed attempt only
	PERFORM pg_temp.named_case('E');	-- no contact: escalated
	PERFORM pg_temp.named_case('M');	-- contact made: not escalated
	PERFORM pg_temp.named_case('CL');	-- closed: not escalated
	PERFORM pg_temp.named_case('NA', '{"region": "NATIONAL"}');
	PERFORM pg_temp.named_case('NY');	-- not due
	PERFORM pg_temp.case_take('tok-coordinator', pg_temp.cid(n))
	FROM unnest(ARRAY['C', 'F', 'E', 'M', 'CL', 'NY']) n;
	PERFORM pg_temp.case_take('tok-coordinator-national',
	    pg_temp.cid('NA'));
END
$$;

-- Validation: the request's own arguments first.
INSERT INTO r SELECT 'mode', pg_temp.case_contact('tok-coordinator',
    pg_temp.cid('C'), 'carrier_pigeon');
SELECT is((SELECT v FROM r WHERE name = 'mode')->'problem'->>'field', 'mode',
    'an unknown mode: 422 naming mode');
SELECT is(pg_temp.case_contact('tok-coordinator', pg_temp.cid('C'), 'phone',
    'yesterday')->'problem'->>'field', 'at', 'an unreadable at: 422 at');
SELECT is(pg_temp.case_contact('tok-coordinator', pg_temp.cid('C'), 'phone',
    pg_temp.ts(now() + interval '1 hour'))->'problem'->>'detail',
    'at must not be in the future', 'an at in the future: 422 at');
SELECT is(pg_temp.case_contact('tok-coordinator', pg_temp.cid('C'), 'phone',
    pg_temp.ts(now() - interval '1 day'))->'problem'->>'detail',
    'at must not be before the signal was received',
    'an at before the signal: 422 at');
SELECT is((SELECT version FROM care.case WHERE id = pg_temp.cid('C')), 2,
    'refused contacts change nothing');
SELECT is((SELECT count(*)::int FROM audit.event WHERE action =
    'case.contact' AND outcome = 'failed' AND reason IN ('invalid_mode',
    'invalid_at')), 4, 'each refusal audited failed with its reason');

-- Who: the holder only (the state table).
SELECT is(pg_temp.case_contact('tok-coordinator', pg_temp.cid('OPEN'))
    ->>'status', '409', 'an open case: 409 (take it first)');
SELECT is(pg_temp.case_contact('tok-coordinator-2', pg_temp.cid('C'))
    ->>'status', '409', 'taken by another: 409');
SELECT is(pg_temp.case_contact('tok-coordinator-national',
    pg_temp.cid('C'))->>'status', '404', 'outside the caller''s regions: 404');
SELECT is(pg_temp.case_contact('tok-assessor', pg_temp.cid('C'))->>'status',
    '403', 'an assessor may not record contacts: 403');

-- The first contact made.
INSERT INTO r SELECT 'first', pg_temp.case_contact('tok-coordinator',
    pg_temp.cid('C'), 'interpreter');
SELECT is((SELECT v->>'status' FROM r WHERE name = 'first'), '200',
    'the holder records a contact: 200');
SELECT is((SELECT v->'body'->>'state' FROM r WHERE name = 'first'), 'taken',
    'the case stays taken');
SELECT is((SELECT v->'body'->>'version' FROM r WHERE name = 'first'), '3',
    'the version grows by one');
SELECT is((SELECT first_contact_at FROM care.case WHERE id =
    pg_temp.cid('C')), now(), 'first_contact_at is the contact''s at');
SELECT is((SELECT v->'body'->'first_contact_in_time' FROM r
    WHERE name = 'first'), 'true', 'the item: first contact in time');
SELECT is((SELECT v->'body'->>'first_contact_at' FROM r
    WHERE name = 'first'), api.rfc3339(now()), 'the item: first_contact_at');
SELECT is((SELECT detail FROM care.case_history WHERE case_id =
    pg_temp.cid('C') AND action = 'first_contact'),
    jsonb_build_object('mode', 'interpreter', 'at', api.rfc3339(now()),
        'region', 'VR13', 'in_time', true),
    'history first_contact: mode, at, region, in time');
SELECT is((SELECT count(*)::int FROM audit.event WHERE action =
    'case.contact' AND outcome = 'allowed' AND object_id =
    pg_temp.cid('C')::text), 1, 'audited case.contact allowed');

-- A later contact: history contact; first_contact_at stays.
SELECT is(pg_temp.case_contact('tok-coordinator', pg_temp.cid('C'),
    'in_person')->>'status', '200', 'a second contact: 200');
SELECT is((SELECT array_agg(action ORDER BY id)::text FROM care.case_history
    WHERE case_id = pg_temp.cid('C') AND action LIKE '%contact'),
    '{first_contact,contact}', 'the second is a contact entry');
SELECT is((SELECT first_contact_at FROM care.case WHERE id =
    pg_temp.cid('C')), now(), 'first_contact_at is the first one''s');

-- A failed attempt is no contact.
SELECT is(pg_temp.case_contact('tok-coordinator', pg_temp.cid('F'),
    'failed_attempt')->'body'->>'first_contact_at', NULL,
    'a failed attempt leaves first_contact_at empty');
SELECT is((SELECT action FROM care.case_history WHERE case_id =
    pg_temp.cid('F') ORDER BY id DESC LIMIT 1), 'contact',
    'and is a contact entry, not first_contact');

-- ---------------------------------------------------------------------
-- The first-contact escalation.
-- ---------------------------------------------------------------------
SELECT pg_temp.case_contact('tok-coordinator', pg_temp.cid('M'), 'phone');
SELECT pg_temp.case_close('tok-coordinator', pg_temp.cid('CL'));
UPDATE care.case SET created_at = now() - interval '3 hours',
    first_contact_by = now() - interval '1 minute'
WHERE id IN (SELECT pg_temp.cid(n) FROM unnest(ARRAY['F', 'E', 'M', 'CL',
    'NA']) n);
SELECT is((SELECT count(*)::int FROM care.overview_counts()
    WHERE region = 'VR13' AND past_first_contact_deadline = 2), 1,
    'overview: F and E are past the first-contact deadline (M was '
    'contacted, CL is closed)');

INSERT INTO r SELECT 'sweep1', pg_temp.escalate(100);
SELECT is((SELECT v->'escalated' FROM r WHERE name = 'sweep1'), '2',
    'the sweep escalates the two without a first contact');
SELECT set_eq($$SELECT jsonb_array_elements_text(v->'case_ids')::uuid
    FROM r WHERE name = 'sweep1'$$,
    $$VALUES (pg_temp.cid('F')), (pg_temp.cid('E'))$$,
    'F (failed attempt only) and E');
SELECT is((SELECT (region_code, state, holder_key_id, holder_person_id,
    first_contact_escalated_at, escalated_at) FROM care.case
    WHERE id = pg_temp.cid('E')),
    ('NATIONAL'::text, 'open'::text, NULL::uuid, NULL::uuid, now(),
        NULL::timestamptz),
    'E: open at the national desk, no holder, first_contact_escalated_at');
SELECT is((SELECT detail FROM care.case_history WHERE case_id =
    pg_temp.cid('E') AND action = 'escalated'),
    jsonb_build_object('reason', 'first_contact_deadline_missed',
        'why', 'no first contact within P1D', 'from_region', 'VR13',
        'to_region', 'NATIONAL', 'from_state', 'taken',
        'first_contact_by', to_char((now() - interval '1 minute')
            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
    'history escalated: the reason, why, regions, the deadline');
SELECT results_eq($$SELECT from_region, reason FROM care.escalation
    WHERE case_id = pg_temp.cid('E')$$,
    $$VALUES ('VR13'::text, 'first_contact_deadline_missed'::text)$$,
    'one care.escalation row of the second kind');
SELECT is((SELECT count(*)::int FROM audit.event WHERE action =
    'case.escalate' AND reason = 'first_contact_deadline_missed'
    AND api_key_id IS NULL), 2, 'audited case.escalate, no principal');
SELECT is((SELECT item->'first_contact_escalated' FROM care.case_item
    WHERE id = pg_temp.cid('E')), 'true', 'the item says so');
SELECT is((SELECT (state, region_code) FROM care.case
    WHERE id = pg_temp.cid('M')), ('taken'::text, 'VR13'::text),
    'a case with a first contact stays');
SELECT is((SELECT count(*)::int FROM care.case WHERE id IN
    (pg_temp.cid('CL'), pg_temp.cid('NA'), pg_temp.cid('NY'))
    AND first_contact_escalated_at IS NULL), 3,
    'closed, at the national desk, not due: never escalated');

-- Exactly once: the national desk sends E back, nobody contacts it.
SELECT is(pg_temp.escalate(100)->'escalated', '0',
    'a second sweep escalates nothing');
UPDATE care.case SET region_code = 'VR13', state = 'open',
    first_contact_by = now() - interval '1 minute'
WHERE id = pg_temp.cid('E');
SELECT is(pg_temp.escalate(100)->'escalated', '0',
    'a case escalated once for its first contact never is again');
SELECT is(pg_temp.probe($$INSERT INTO care.escalation (case_id, at,
    from_region, reason) VALUES ('$$ || pg_temp.cid('E') || $$', now(),
    'VR13', 'first_contact_deadline_missed')$$), 'escalation_pkey',
    'the primary key refuses a second escalation of one kind');

-- Statistics: the second kind has its measure; escalations keeps the
-- take deadline's.
SELECT is((SELECT count(*)::int FROM stats.units(
    'first_contact_escalations', now() - interval '1 day',
    now() + interval '1 day')), 2, 'statistics count both');
SELECT is((SELECT count(*)::int FROM stats.units('escalations',
    now() - interval '1 day', now() + interval '1 day')), 0,
    'and not as take-deadline escalations');

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
