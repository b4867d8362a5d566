-- 96_overview.sql - api.overview (GET /v1/overview, issue 20) and
-- api.coverage_uncovered: exact counts per region against cases made in
-- known states, coverage (keys, persons, the last act, silence), who sees
-- which rows, one audit event per call, no case id in any answer; the
-- chain director's role reads no table of cases, signals, subjects, keys
-- or persons; nrm_overview is a definer-only role.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(53);
\ir fixtures.psql

INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label)
VALUES
	('b9600000-0000-4000-8000-000000000001', sha256('tok-chain'),
	    'a0000000-0000-4000-8000-000000000004', 'chain_director', NULL,
	    NULL);

CREATE FUNCTION pg_temp.ov(p_token text, p_silent integer DEFAULT 3600,
    p_request_id text DEFAULT 'req-ov') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.overview(sha256(%L::bytea), %L, '
	    '%L::inet, %s)', p_token, p_request_id, '192.0.2.96', p_silent))
$$;
-- The row of region p_code in an answer.
CREATE FUNCTION pg_temp.row_of(p_answer jsonb, p_code text) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT r FROM jsonb_array_elements(p_answer->'body'->'regions') r
	WHERE r->>'region' = p_code
$$;
-- The load numbers of a row, in one order, for results_eq.
CREATE FUNCTION pg_temp.load(p_row jsonb) RETURNS integer[]
LANGUAGE sql AS $$
	SELECT ARRAY[(p_row->>'open')::int, (p_row->>'untaken')::int,
	    (p_row->>'past_take_deadline')::int,
	    (p_row->>'past_first_contact_deadline')::int,
	    (p_row->>'escalated_7d')::int,
	    (p_row->>'transferred_untaken')::int, (p_row->>'taken_30d')::int]
$$;
CREATE FUNCTION pg_temp.codes(p_answer jsonb) RETURNS text[]
LANGUAGE sql AS $$
	SELECT coalesce(array_agg(r->>'region' ORDER BY o), '{}')
	FROM jsonb_array_elements(p_answer->'body'->'regions')
	    WITH ORDINALITY AS x(r, o)
$$;

-- ---------------------------------------------------------------------
-- Roles and privileges.
-- ---------------------------------------------------------------------
SELECT pg_temp.definer_role('nrm_overview', 'care.overview_counts()');
SELECT results_eq($$SELECT prosecdef, proowner::regrole::text FROM pg_proc
    WHERE oid = 'care.overview_coverage(integer)'::regprocedure$$,
    $$VALUES (true, 'nrm_overview'::text)$$,
    'care.overview_coverage is SECURITY DEFINER, owned by nrm_overview');
SELECT is(pg_temp.sqlstate_as('nrm_chain_director', s), '42501',
    'chain director: ' || s || ' refused')
FROM unnest(ARRAY['SELECT count(*) FROM care.case',
    'SELECT count(*) FROM care.case_history',
    'SELECT count(*) FROM care.subject',
    'SELECT count(*) FROM intake.signal',
    'SELECT count(*) FROM auth.api_key',
    'SELECT count(*) FROM auth.person',
    'SELECT count(*) FROM audit.event']) s;
SELECT ok(NOT has_any_column_privilege('nrm_overview', t, 'SELECT'),
    'nrm_overview reads nothing of ' || t)
FROM unnest(ARRAY['care.subject', 'intake.signal']) t;
SELECT ok(NOT has_column_privilege('nrm_overview', 'auth.person',
    'display_name', 'SELECT') AND NOT has_column_privilege('nrm_overview',
    'auth.person', 'login', 'SELECT'),
    'nrm_overview reads no login or display name');

-- ---------------------------------------------------------------------
-- Cases in known states.
--   VR13: B taken (600 s after it was routed), C taken (200 s after it
--         was routed) and closed, G open and past
--         its take deadline, A escalated from VR13 to the national desk,
--         D transferred to VR01
--   VR01: D open (transferred, not yet taken), E open, past its
--         first-contact deadline
-- ---------------------------------------------------------------------
CREATE TEMP TABLE k (name text PRIMARY KEY, id uuid);
-- Case p_name was routed p_s seconds before it was taken.
CREATE FUNCTION pg_temp.taken_after(p_name text, p_s integer) RETURNS void
LANGUAGE sql AS $$
	UPDATE care.case_history h
	SET at = t.at - make_interval(secs => p_s)
	FROM care.case_history t
	WHERE h.case_id = (SELECT id FROM k WHERE name = p_name)
	  AND h.action = 'routed' AND t.case_id = h.case_id
	  AND t.action = 'taken'
$$;
INSERT INTO k SELECT n, pg_temp.new_case()
FROM unnest(ARRAY['A', 'B', 'C', 'D', 'G']) n;
INSERT INTO k VALUES ('E', pg_temp.new_case('{"region": "VR01"}'));
SELECT pg_temp.make_overdue((SELECT id FROM k WHERE name = 'A'));
SELECT pg_temp.escalate() \g /dev/null
SELECT pg_temp.make_overdue((SELECT id FROM k WHERE name = 'G'));
SELECT pg_temp.case_take('tok-coordinator', (SELECT id FROM k
    WHERE name = 'B')) \g /dev/null
SELECT pg_temp.taken_after('B', 600);
SELECT pg_temp.case_take('tok-coordinator', (SELECT id FROM k
    WHERE name = 'C')) \g /dev/null
SELECT pg_temp.taken_after('C', 200);
SELECT pg_temp.case_close('tok-coordinator', (SELECT id FROM k
    WHERE name = 'C')) \g /dev/null
SELECT pg_temp.case_transfer('tok-coordinator', (SELECT id FROM k
    WHERE name = 'D'), 'VR01') \g /dev/null
-- (0021: a transfer waits for the receiver; VR01's acceptance is
-- written here as api.case_transfer_accept writes it, without a VR01
-- key acting: VR01 stays uncovered for the coverage tests below)
UPDATE care.case SET state = 'open', holder_key_id = NULL,
    region_code = transfer_to, transfer_to = NULL,
    transfer_from_state = NULL, transfer_reason = NULL,
    transfer_requested_at = NULL, transfer_answer_by = NULL,
    transfer_take_within_s = NULL, transfer_first_contact_within_s = NULL,
    version = version + 1
WHERE id = (SELECT id FROM k WHERE name = 'D');
INSERT INTO care.case_history (case_id, action, api_key_id, detail)
SELECT id, 'transfer_accepted', 'b0000000-0000-4000-8000-000000000006',
    '{"reason": "wrong_region", "from_region": "VR13", "to_region": "VR01"}'
FROM k WHERE name = 'D';
UPDATE care.case SET first_contact_by = now() - interval '1 minute',
    created_at = now() - interval '2 minutes'
WHERE id = (SELECT id FROM k WHERE name = 'E');

CREATE TEMP TABLE ans (who text PRIMARY KEY, a jsonb);
INSERT INTO ans VALUES
	('chain', pg_temp.ov('tok-chain', 3600, 'req-ov-chain')),
	('national', pg_temp.ov('tok-coordinator-national')),
	('vr13', pg_temp.ov('tok-coordinator')),
	('multi', pg_temp.ov('tok-coordinator-multi'));

SELECT is((SELECT a->>'status' FROM ans WHERE who = 'chain'), '200',
    'the chain director reads the overview');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'api.overview restores the role it switched from');
SELECT is(pg_temp.load(pg_temp.row_of(a, 'VR13')), ARRAY[2, 1, 1, 0, 1, 0,
    2], 'VR13: open 2 (B, G), untaken 1, past take 1, past first contact '
    '0, escalated 1 (A), transferred 0, taken 2 (B, C)')
FROM ans WHERE who = 'chain';
SELECT is((pg_temp.row_of(a, 'VR13')->>'median_take_s')::int, 400,
    'VR13: median time to take 400 s (B 600 s, C 200 s from routed to '
    'taken)')
FROM ans WHERE who = 'chain';
SELECT is(pg_temp.load(pg_temp.row_of(a, 'VR01')), ARRAY[2, 2, 0, 1, 0, 1,
    0], 'VR01: open 2 (D, E), untaken 2, past first contact 1 (E), '
    'transferred and not yet taken 1 (D), no take')
FROM ans WHERE who = 'chain';
SELECT ok(pg_temp.row_of(a, 'VR01') ? 'median_take_s'
    AND pg_temp.row_of(a, 'VR01')->'median_take_s' = 'null',
    'VR01: median time to take null without a take')
FROM ans WHERE who = 'chain';
SELECT is((SELECT ARRAY[(r->>'open')::int, (r->>'untaken')::int,
    (r->>'escalated_7d')::int] FROM (SELECT pg_temp.row_of(a, 'NATIONAL') r
    FROM ans WHERE who = 'chain') x), ARRAY[1, 1, 1],
    'NATIONAL: A open and untaken, one escalation received in 7 days');
SELECT is(pg_temp.load(pg_temp.row_of(a, 'VR02')), ARRAY[0, 0, 0, 0, 0, 0,
    0], 'VR02: all zero') FROM ans WHERE who = 'chain';

-- The overdue counts nrmd serves in /metrics (nrm_cases_overdue), from
-- api.coverage_uncovered as nrm_app: every region, the same numbers as
-- the overview's.
CREATE TEMP TABLE od AS
SELECT o->>'region' AS region, (o->>'take')::int AS take,
    (o->>'first_contact')::int AS first_contact
FROM jsonb_array_elements(pg_temp.a(
    'SELECT api.coverage_uncovered(3600)')->'overdue') o;
SELECT is((SELECT count(*)::int FROM od), (SELECT count(*)::int
    FROM ref.region), 'overdue: one entry per region');
SELECT set_eq('SELECT region, take, first_contact FROM od',
    $$SELECT r->>'region' AS region,
        (r->>'past_take_deadline')::int AS take,
        (r->>'past_first_contact_deadline')::int AS first_contact
    FROM ans, jsonb_array_elements(a->'body'->'regions') r
    WHERE who = 'chain'$$,
    'overdue: the overview''s past_take_deadline and '
    'past_first_contact_deadline, region by region');
SELECT results_eq($$SELECT region, take, first_contact FROM od
    WHERE region IN ('VR01', 'VR02', 'VR13') ORDER BY region$$,
    $$VALUES ('VR01', 0, 1), ('VR02', 0, 0), ('VR13', 1, 0)$$,
    'overdue: VR01 first contact 1 (E), VR02 none, VR13 take 1 (G)');
SELECT is((SELECT array_agg(region) FROM od), (SELECT array_agg(region
    ORDER BY region) FROM od), 'overdue: in region code order');

-- Who sees which rows.
SELECT is(cardinality(pg_temp.codes(a)), (SELECT count(*)::int
    FROM ref.region), 'the chain director sees every region')
FROM ans WHERE who = 'chain';
SELECT is((pg_temp.codes(a))[cardinality(pg_temp.codes(a))], 'NATIONAL',
    'the national desk''s row comes last') FROM ans WHERE who = 'chain';
SELECT is(pg_temp.codes(a), (SELECT pg_temp.codes(a) FROM ans
    WHERE who = 'chain'), 'the national desk sees every region too')
FROM ans WHERE who = 'national';
SELECT is(pg_temp.codes(a), ARRAY['VR13'],
    'a VR13 coordinator sees its own row only') FROM ans WHERE who = 'vr13';
SELECT is(pg_temp.codes(a), ARRAY['VR01', 'VR13'],
    'a coordinator of VR01 and VR13 sees those two rows')
FROM ans WHERE who = 'multi';
SELECT is(pg_temp.ov(t)->>'status', '403', t || ': 403')
FROM unnest(ARRAY['tok-reporter', 'tok-assessor', 'tok-analyst',
    'tok-auditor']) t;
SELECT is(pg_temp.ov('tok-revoked')->>'status', '401',
    'a revoked key: 401');

-- Audited: one event per call, purpose monitoring.
SELECT is(pg_temp.events('req-ov-chain'),
    ARRAY['overview.read/overview/-/monitoring/allowed/-'],
    'one audit event overview.read, purpose monitoring');
-- Counts only: no case id, key id or region-less detail in any answer.
SELECT is_empty($$SELECT a.who, k.name FROM ans a, k
    WHERE a.a::text LIKE '%' || k.id::text || '%'$$,
    'no answer carries a case id');
SELECT is_empty($$SELECT a.who FROM ans a, auth.api_key x
    WHERE a.a::text LIKE '%' || x.id::text || '%'$$,
    'no answer carries a key id');

-- ---------------------------------------------------------------------
-- Coverage.
-- ---------------------------------------------------------------------
-- VR13: three active coordinator keys (...03, ...05, multi); ...03 acted.
SELECT is((SELECT ARRAY[(r->'coverage'->>'coordinator_keys')::int,
    (r->'coverage'->>'coordinator_persons')::int,
    (r->'coverage'->>'coordinators')::int]
    FROM (SELECT pg_temp.row_of(a, 'VR13') r FROM ans WHERE who = 'chain')
    x), ARRAY[3, 0, 3], 'VR13: three coordinator keys, no person');
SELECT ok((pg_temp.row_of(a, 'VR13')->'coverage'->>'covered')::boolean
    AND pg_temp.row_of(a, 'VR13')->'coverage'->>'last_acted_at'
        ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$',
    'VR13 is covered: one of them acted just now')
FROM ans WHERE who = 'chain';
SELECT is((pg_temp.row_of(a, 'VR02')->'coverage')::text,
    '{"covered": false, "coordinators": 0, "last_acted_at": null, '
    '"coordinator_keys": 0, "coordinator_persons": 0}',
    'VR02: no coordinator at all, uncovered') FROM ans WHERE who = 'chain';
-- VR01: ...06 and multi; multi acted (the overview read above).
SELECT is((pg_temp.row_of(a, 'VR01')->'coverage'->>'covered')::boolean,
    false, 'VR01 was uncovered: neither of its coordinators had acted')
FROM ans WHERE who = 'multi';
SELECT ok((pg_temp.row_of(pg_temp.ov('tok-chain'), 'VR01')->'coverage'
    ->>'covered')::boolean,
    'VR01 is covered once the VR01+VR13 coordinator read the overview');

-- A region whose only coordinator acted 5 days ago: silent.
INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label)
VALUES
	('b9600000-0000-4000-8000-000000000002', sha256('tok-ov-vr05'),
	    'a0000000-0000-4000-8000-000000000003', 'coordinator', '{VR05}',
	    NULL);
INSERT INTO audit.event (api_key_id, agency_id, role, action, object_type,
    outcome, at)
VALUES ('b9600000-0000-4000-8000-000000000002',
    'a0000000-0000-4000-8000-000000000003', 'coordinator', 'inbox.list',
    'inbox', 'allowed', now() - interval '5 days');
SELECT is((pg_temp.row_of(pg_temp.ov('tok-chain', 3 * 86400), 'VR05')
    ->'coverage'->>'covered')::boolean, false,
    'VR05: its one coordinator acted 5 days ago: uncovered after 3 days');
SELECT is((pg_temp.row_of(pg_temp.ov('tok-chain', 6 * 86400), 'VR05')
    ->'coverage'->>'covered')::boolean, true,
    '... and covered when the silence allowed is 6 days');
-- A denied request is no act.
INSERT INTO audit.event (api_key_id, agency_id, role, action, outcome,
    reason)
VALUES ('b9600000-0000-4000-8000-000000000002',
    'a0000000-0000-4000-8000-000000000003', 'coordinator', 'case.take',
    'denied', 'out_of_scope');
SELECT is((pg_temp.row_of(pg_temp.ov('tok-chain', 3 * 86400), 'VR05')
    ->'coverage'->>'covered')::boolean, false,
    'VR05: a denied request does not count as acting');

-- A person: counted while active (its own key is revoked, so it is not
-- counted as a key too), not once disabled.
INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label,
    revoked_at)
VALUES
	('b9600000-0000-4000-8000-000000000003', sha256('tok-ov-person'),
	    'a0000000-0000-4000-8000-000000000003', 'coordinator', '{VR07}',
	    NULL, now());
INSERT INTO auth.person (id, login, display_name, agency_id, role, regions,
    key_id)
VALUES ('b9600000-0000-4000-8000-0000000000f1', 'ov.person', 'Ov Person',
    'a0000000-0000-4000-8000-000000000003', 'coordinator', '{VR07}',
    'b9600000-0000-4000-8000-000000000003');
SELECT is((pg_temp.row_of(pg_temp.ov('tok-chain'), 'VR07')->'coverage'
    ->>'coordinators')::int, 1, 'VR07: one coordinator, the person');
SELECT is(pg_temp.a('SELECT api.coverage_uncovered(3600)')->'unstaffed'
    ? 'VR07', false, 'VR07 is staffed (api.coverage_uncovered)');
UPDATE auth.person SET status = 'disabled', disabled_at = now()
WHERE id = 'b9600000-0000-4000-8000-0000000000f1';
SELECT is((pg_temp.row_of(pg_temp.ov('tok-chain'), 'VR07')->'coverage'
    ->>'coordinators')::int, 0, 'VR07: none once the person is disabled');

-- The coverage nrmd keeps (as nrm_app, no token).
SELECT is(pg_temp.a('SELECT api.coverage_uncovered(3600)')->'uncovered'
    @> '["VR02", "VR05", "VR07"]', true,
    'uncovered: VR02 (nobody), VR05 (silent), VR07 (disabled)');
SELECT is(pg_temp.a('SELECT api.coverage_uncovered(3600)')->'uncovered'
    ?| ARRAY['VR13', 'VR01'], false, 'uncovered: not VR13, not VR01');
SELECT is(pg_temp.a('SELECT api.coverage_uncovered(3600)')->'unstaffed'
    @> '["VR02", "VR07"]' AND NOT (pg_temp.a(
    'SELECT api.coverage_uncovered(3600)')->'unstaffed' ? 'VR05'), true,
    'unstaffed: VR02 and VR07, not VR05 (staffed, silent)');

SELECT * FROM finish();
ROLLBACK;
