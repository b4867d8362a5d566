-- 95_statistics.sql - the statistics (issue 13; sql/api/75_statistics.sql):
-- every measure against a hand-counted fixture over two quarters and
-- three regions, the Amsterdam calendar at a period's edge, misaligned
-- periods refused, suppression on fixed tables, the analyst's role
-- reading no row of any table, and api.statistics' roles, 400s and
-- audit event.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(116);
\ir fixtures.psql

-- ---------------------------------------------------------------------
-- The fixture.  2025-Q3 is [2025-07-01, 2025-10-01) in Amsterdam
-- (CEST, UTC+2): s7 at 2025-06-30T22:30Z is in Q3, s6 at
-- 2025-09-30T22:30Z in Q4.  Police key ...01, NGO key ...02.
-- ---------------------------------------------------------------------
CREATE TEMP TABLE fx (name text PRIMARY KEY, signal_id uuid, case_id uuid,
    at timestamptz);

CREATE FUNCTION pg_temp.sig(p_name text, p_at timestamptz, p_region text,
    p_ngo boolean, p_minor boolean, p_age integer, p_gender text,
    p_nat text, p_expl text[], p_consent text, p_pseudonym text,
    p_priority text, p_take_within integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_s uuid := gen_random_uuid();
	v_c uuid;
	v_note boolean := NOT p_minor AND p_consent IN ('refused', 'unable');
BEGIN
	INSERT INTO intake.signal (id, received_at, observed_at, agency_id,
	    api_key_id, region_code, rule_id, ruleset_version, minor,
	    age_estimate, gender, nationality, exploitation, immediate_danger,
	    needs_shelter, consent, notification_only)
	VALUES (v_s, p_at, p_at,
	    CASE WHEN p_ngo THEN 'a0000000-0000-4000-8000-000000000002'::uuid
	        ELSE 'a0000000-0000-4000-8000-000000000001' END,
	    CASE WHEN p_ngo THEN 'b0000000-0000-4000-8000-000000000002'::uuid
	        ELSE 'b0000000-0000-4000-8000-000000000001' END,
	    p_region, 'r', 'v1', p_minor, p_age, p_gender, p_nat, p_expl,
	    false, false, p_consent, v_note);
	IF NOT v_note THEN
		INSERT INTO care.subject (signal_id, pseudonym, created_at)
		VALUES (v_s, CASE WHEN p_pseudonym IS NOT NULL
		    THEN sha256(p_pseudonym::bytea) END, p_at);
		v_c := gen_random_uuid();
		INSERT INTO care.case (id, signal_id, region_code, priority,
		    rule_id, ruleset_version, explanation, take_by,
		    first_contact_by, created_at, updated_at)
		VALUES (v_c, v_s, p_region, p_priority, 'r', 'v1', 'x',
		    p_at + make_interval(secs => p_take_within),
		    p_at + interval '1 day', p_at, p_at);
		INSERT INTO care.case_history (case_id, at, action, detail)
		VALUES (v_c, p_at, 'routed', jsonb_build_object('region',
		    p_region, 'priority', p_priority, 'decision',
		    jsonb_build_object('take_within', p_take_within)));
	END IF;
	INSERT INTO fx VALUES (p_name, v_s, v_c, p_at);
END
$$;

-- A history entry p_secs after the case's creation.
CREATE FUNCTION pg_temp.hist(p_name text, p_secs integer, p_action text,
    p_detail jsonb DEFAULT '{}') RETURNS void
LANGUAGE sql AS $$
	INSERT INTO care.case_history (case_id, at, action, detail)
	SELECT f.case_id, f.at + make_interval(secs => p_secs), p_action,
	    p_detail
	FROM fx f WHERE f.name = p_name
$$;

CREATE FUNCTION pg_temp.decide(p_name text, p_stage text, p_outcome text,
    p_on date) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO ident.decision (case_id, stage, outcome, deciding_body,
	    decided_on, recorded_by, profile)
	SELECT f.case_id, p_stage, p_outcome, 'care_coordination', p_on,
	    'b0000000-0000-4000-8000-000000000003', 'nl'
	FROM fx f WHERE f.name = p_name
$$;

-- name, received (UTC), region, by the NGO, minor, age, gender,
-- nationality; exploitation, consent, pseudonym, priority, take_within
SELECT pg_temp.sig(n, at::timestamptz, reg, ngo, minor, age, gender, nat,
    expl::text[], consent, pseud, prio, take_within)
FROM (VALUES
	('s8', '2025-01-15T10:00Z', 'VR13', false, false, 28, 'female', 'RO',
	    '{sexual}', 'given', 'P1', 'normal', 3600),
	('s12', '2024-06-01T10:00Z', 'VR13', false, false, 59, NULL, 'MA',
	    '{labour}', 'given', 'P3', 'normal', 3600),
	-- 2025-Q3
	('s7', '2025-06-30T22:30Z', 'VR17', false, false, 25, 'female', 'BG',
	    '{criminal}', 'given', NULL, 'high', 3600),
	('s1', '2025-08-02T09:00Z', 'VR13', false, false, 30, 'female', 'RO',
	    '{sexual}', 'given', 'P1', 'high', 3600),
	('s2', '2025-08-03T09:00Z', 'VR13', false, true, 16, 'female', 'NL',
	    '{sexual}', 'not_required_minor', NULL, 'urgent', 900),
	('s3', '2025-08-04T09:00Z', 'VR13', true, false, 40, 'male', 'UA',
	    '{labour}', 'refused', NULL, NULL, 0),
	('s4', '2025-08-05T09:00Z', 'VR17', true, false, NULL, NULL, NULL,
	    '{labour,criminal}', 'given', NULL, 'normal', 86400),
	('s5', '2025-08-06T09:00Z', 'VR17', false, false, 22, 'male', 'PL',
	    '{labour}', 'unable', NULL, NULL, 0),
	('s9', '2025-08-07T09:00Z', 'VR17', true, false, 33, 'female', 'NL',
	    '{sexual}', 'given', 'P1', 'normal', 3600),
	('s13', '2025-08-08T09:00Z', 'VR13', true, false, 60, NULL, 'MA',
	    '{labour}', 'given', 'P3', 'normal', 3600),
	-- 2025-Q4
	('s6', '2025-09-30T22:30Z', 'VR13', false, false, 50, 'female', 'NL',
	    '{sexual}', 'given', NULL, 'normal', 3600),
	('s10', '2025-11-10T09:00Z', 'VR01', false, true, 10, 'male', 'SY',
	    '{begging}', 'not_required_minor', 'P2', 'urgent', 900),
	('s11', '2025-12-01T09:00Z', 'VR01', false, true, 10, 'male', 'SY',
	    '{begging}', 'not_required_minor', 'P2', 'urgent', 900)
) AS v(n, at, reg, ngo, minor, age, gender, nat, expl, consent, pseud,
    prio, take_within) \g /dev/null

-- Takes: s1 in time (1800 s), s2 late (1200 > 900), s4 in time (7200),
-- s7 late (10000, after its escalation), s9 in time (600); s13 never.
-- Q4: s6 in time (100), s10 late (5000).
SELECT pg_temp.hist('s1', 1800, 'taken');
SELECT pg_temp.hist('s2', 1200, 'taken');
SELECT pg_temp.hist('s4', 7200, 'taken');
SELECT pg_temp.hist('s7', 3700, 'escalated', '{"from_region": "VR17"}');
SELECT pg_temp.hist('s7', 10000, 'taken');
SELECT pg_temp.hist('s9', 600, 'taken');
SELECT pg_temp.hist('s9', 700, 'taken');
SELECT pg_temp.hist('s6', 100, 'taken');
SELECT pg_temp.hist('s10', 5000, 'taken');
INSERT INTO care.escalation (case_id, at, from_region, reason)
SELECT case_id, at + interval '3700 seconds', 'VR17', 'take_deadline_missed'
FROM fx WHERE name = 's7';
INSERT INTO care.escalation (case_id, at, from_region, reason)
SELECT case_id, at + interval '1 hour', 'VR01', 'take_deadline_missed'
FROM fx WHERE name = 's11';
-- Transfers: s4 VR17 -> VR13 in Q3; s6 VR13 -> VR01 in Q4.
SELECT pg_temp.hist('s4', 86400, 'transferred',
    '{"from_region": "VR17", "to_region": "VR13", "reason": "x"}');
SELECT pg_temp.hist('s6', 86400, 'transferred',
    '{"from_region": "VR13", "to_region": "VR01", "reason": "x"}');
-- Closures: s9 (VR17, victim_supported) and s1 (VR13,
-- referred_elsewhere) in Q3; s4 (VR13 after its transfer, duplicate)
-- in Q4.
SELECT pg_temp.hist('s9', 90000, 'closed',
    '{"region": "VR17", "reason": "victim_supported"}');
SELECT pg_temp.hist('s1', 90000, 'closed',
    '{"region": "VR13", "reason": "referred_elsewhere"}');
SELECT pg_temp.hist('s4', 9000000, 'closed',
    '{"region": "VR13", "reason": "duplicate"}');
-- Decisions: Q3 five (s1 initial positive and conclusive positive 45
-- days later, s2 initial pending then positive, s4 initial negative on
-- the quarter's last day); Q4 one (s2 conclusive negative, 66 days after
-- its first initial).
SELECT pg_temp.decide('s1', 'initial', 'positive', '2025-08-01');
SELECT pg_temp.decide('s1', 'conclusive', 'positive', '2025-09-15');
SELECT pg_temp.decide('s2', 'initial', 'pending', '2025-08-05');
SELECT pg_temp.decide('s2', 'initial', 'positive', '2025-08-20');
SELECT pg_temp.decide('s4', 'initial', 'negative', '2025-09-30');
SELECT pg_temp.decide('s2', 'conclusive', 'negative', '2025-10-10');
-- Investigation records (existence at the end of the decision's day in
-- Amsterdam): s1's from 2025-09-01 (its initial decision of 08-01 had
-- none, its conclusive of 09-15 has one); s2's at 23:30 on 08-20 in
-- Amsterdam (its positive initial of that day has one, its pending of
-- 08-05 none); s4's at 00:30 on 1 October in Amsterdam (its decision of
-- 30 September has none).  Q3: none 3, exists 2.
INSERT INTO invest.record (agency_id, signal_id, created_by, created_at,
    updated_at)
SELECT CASE WHEN f.name = 's4'
        THEN 'a0000000-0000-4000-8000-000000000002'::uuid
        ELSE 'a0000000-0000-4000-8000-000000000001' END,
    f.signal_id,
    CASE WHEN f.name = 's4'
        THEN 'b0000000-0000-4000-8000-000000000002'::uuid
        ELSE 'b0000000-0000-4000-8000-000000000001' END,
    v.at::timestamptz, v.at::timestamptz
FROM fx f
JOIN (VALUES ('s1', '2025-09-01T08:00Z'), ('s2', '2025-08-20T21:30Z'),
    ('s4', '2025-09-30T22:30Z')) AS v(n, at) ON v.n = f.name;

-- The table as published with threshold p_k (the check constraint is
-- lifted inside this rolled-back transaction for k = 1: nothing
-- suppressed, the raw counts).
ALTER TABLE stats.config DROP CONSTRAINT config_statistics_min_cell_check;
CREATE FUNCTION pg_temp.t(p_measure text, p_period text, p_by text[],
    p_k integer DEFAULT 1) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE stats.config SET statistics_min_cell = p_k;
	RETURN stats.compute(p_measure, p_period, p_by);
END
$$;
-- The non-zero cells of a 1-D table as {"category": value}.
CREATE FUNCTION pg_temp.nz(p_measure text, p_period text, p_dim text)
RETURNS jsonb
LANGUAGE sql AS $$
	SELECT coalesce(jsonb_object_agg(c->>p_dim, c->'value'), '{}')
	FROM jsonb_array_elements(pg_temp.t(p_measure, p_period,
	    ARRAY[p_dim])->'cells') c
	WHERE c->>'value' <> '0'
$$;
CREATE FUNCTION pg_temp.total(p_measure text, p_period text) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.t(p_measure, p_period, '{}')->'cells'->0->'value'
$$;

-- ---------------------------------------------------------------------
-- Every measure, counted by hand.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.total('signals', '2025-Q3'), '8',
    'signals Q3: s1 s2 s3 s4 s5 s7 s9 s13 (s7 at 00:30 in Amsterdam)');
SELECT is(pg_temp.total('signals', '2025-Q4'), '3',
    'signals Q4: s6 (22:30Z on 30 September is October in Amsterdam), '
    's10, s11');
SELECT is(pg_temp.total('signals', '2025-07'), '1',
    'signals 2025-07: s7 only');
SELECT is(pg_temp.total('signals', '2025'), '12',
    'signals 2025: s8 in January, Q3''s 8, Q4''s 3');
SELECT is(pg_temp.nz('signals', '2025-Q3', 'region'),
    '{"VR13": 4, "VR17": 4}', 'signals Q3 by region');
SELECT is(pg_temp.nz('signals', '2025-Q3', 'reporter_kind'),
    '{"police": 4, "ngo": 4}', 'signals Q3 by reporter kind');
SELECT is(pg_temp.nz('signals', '2025-Q3', 'minor'),
    '{"true": 1, "false": 7}', 'signals Q3 by minor');
SELECT is(pg_temp.nz('signals', '2025-Q3', 'age_band'),
    '{"12_17": 1, "18_24": 1, "25_34": 3, "35_49": 1, "50_plus": 1, '
    '"unknown": 1}', 'signals Q3 by age band');
SELECT is(pg_temp.nz('signals', '2025-Q3', 'gender'),
    '{"female": 4, "male": 2, "unknown": 2}', 'signals Q3 by gender');
SELECT is(pg_temp.nz('signals', '2025-Q3', 'nationality_group'),
    '{"nl": 2, "eu_eea": 3, "other": 2, "unknown": 1}',
    'signals Q3 by nationality group (UA, MA other; RO, PL, BG EU)');
SELECT is(pg_temp.nz('signals', '2025-Q3', 'exploitation'),
    '{"sexual": 3, "labour": 3, "criminal": 1, "multiple": 1}',
    'signals Q3 by exploitation (two types: multiple)');
SELECT is(pg_temp.total('anonymous_notifications', '2025-Q3'), '2',
    'anonymous notifications Q3: s3, s5');
SELECT is(pg_temp.nz('anonymous_notifications', '2025-Q3', 'region'),
    '{"VR13": 1, "VR17": 1}', 'anonymous notifications Q3 by region');
SELECT is(pg_temp.total('anonymous_notifications', '2025-Q4'), '0',
    'anonymous notifications Q4: none');
SELECT is(pg_temp.total('cases', '2025-Q3'), '6',
    'cases Q3: the signals less the two notifications');
SELECT is(pg_temp.nz('cases', '2025-Q3', 'priority'),
    '{"urgent": 1, "high": 2, "normal": 3}', 'cases Q3 by priority');
SELECT is(pg_temp.total('cases', '2025-Q4'), '3', 'cases Q4');
SELECT is(pg_temp.total('cases_taken_in_time', '2025-Q3'), '3',
    'taken in time Q3: s1, s4, s9 (s2 and s7 late, s13 never)');
SELECT is(pg_temp.nz('cases_taken_in_time', '2025-Q3', 'region'),
    '{"VR13": 1, "VR17": 2}',
    'taken in time Q3 by region (the region routed to)');
SELECT is(pg_temp.total('cases_taken_in_time', '2025-Q4'), '1',
    'taken in time Q4: s6');
SELECT is(pg_temp.total('time_to_take', '2025-Q3'),
    '{"median": 1800, "p90": 8880}',
    'time to take Q3: 600 1200 1800 7200 10000 s (p90 interpolated)');
SELECT is(pg_temp.t('time_to_take', '2025-Q3', '{}')->>'unit', 'seconds',
    'a duration''s unit is seconds');
SELECT is(pg_temp.t('signals', '2025-Q3', '{}')->>'unit', 'count',
    'a count''s unit is count');
SELECT is(pg_temp.nz('time_to_take', '2025-Q3', 'priority'),
    '{"urgent": {"median": 1200, "p90": 1200}, '
    '"high": {"median": 5900, "p90": 9180}, '
    '"normal": {"median": 3900, "p90": 6540}}',
    'time to take Q3 by priority');
SELECT is(pg_temp.total('escalations', '2025-Q3'), '1',
    'escalations Q3: s7');
SELECT is(pg_temp.nz('escalations', '2025-Q4', 'region'), '{"VR01": 1}',
    'escalations Q4 by the region escalated from');
SELECT is(pg_temp.nz('transfers', '2025-Q3', 'region'), '{"VR17": 1}',
    'transfers Q3 by the region left');
SELECT is(pg_temp.nz('transfers', '2025-Q4', 'region'), '{"VR13": 1}',
    'transfers Q4 by the region left');
SELECT is(pg_temp.nz('closures', '2025-Q3', 'reason'),
    '{"victim_supported": 1, "referred_elsewhere": 1}',
    'closures Q3 by reason');
SELECT is(pg_temp.nz('closures', '2025-Q4', 'region'), '{"VR13": 1}',
    'closures Q4 by the region that closed (s4 after its transfer)');
SELECT is(pg_temp.total('identification_decisions', '2025-Q3'), '5',
    'decisions Q3');
SELECT is(pg_temp.nz('identification_decisions', '2025-Q3', 'stage'),
    '{"initial": 4, "conclusive": 1}', 'decisions Q3 by stage');
SELECT is(pg_temp.nz('identification_decisions', '2025-Q3', 'outcome'),
    '{"positive": 3, "negative": 1, "pending": 1}',
    'decisions Q3 by outcome');
SELECT is(pg_temp.total('identification_decisions', '2025-Q4'), '1',
    'decisions Q4');
SELECT is(pg_temp.nz('identification_decisions', '2025-Q3',
    'investigation'), '{"none": 3, "exists": 2}',
    'decisions Q3 by investigation: s1 conclusive and s2 positive '
    'initial have a record by the end of their day in Amsterdam');
SELECT is(pg_temp.t('identification_decisions', '2025-Q3',
    '{outcome,investigation}')->'cells',
    '[{"outcome": "positive", "investigation": "none", "value": 1},
      {"outcome": "positive", "investigation": "exists", "value": 2},
      {"outcome": "negative", "investigation": "none", "value": 1},
      {"outcome": "negative", "investigation": "exists", "value": 0},
      {"outcome": "pending", "investigation": "none", "value": 1},
      {"outcome": "pending", "investigation": "exists", "value": 0}]',
    'decisions Q3 by outcome and investigation: one positive decision '
    'without an investigation (s1''s initial), the decoupling cell');
SELECT is(pg_temp.nz('identification_decisions', '2025-Q4',
    'investigation'), '{"exists": 1}',
    'decisions Q4 by investigation: s2''s conclusive (its record)');
SELECT is(ARRAY(SELECT c.column_name::text
    FROM information_schema.column_privileges c
    WHERE c.grantee = 'nrm_statistician' AND c.privilege_type = 'SELECT'
      AND c.table_schema = 'invest'
    ORDER BY c.table_name, c.column_name),
    ARRAY['case_id', 'created_at', 'signal_id'],
    'of the investigation track the statistician reads only whether a '
    'record exists for a case or signal, and since when');
SELECT is(pg_temp.total('time_initial_to_conclusive', '2025-Q3'),
    '{"median": 3888000, "p90": 3888000}',
    'initial to conclusive Q3: s1, 45 days');
SELECT is(pg_temp.nz('time_initial_to_conclusive', '2025-Q4', 'outcome'),
    '{"negative": {"median": 5702400, "p90": 5702400}}',
    'initial to conclusive Q4: s2, 66 days from its first initial, '
    'negative');
SELECT is(pg_temp.nz('repeat_signals', '2025-Q3', 'region'),
    '{"VR13": 1, "VR17": 1}',
    'repeat signals Q3: s1 and s9 (P1 before them within 12 months); '
    'not s13 (P3 14 months before)');
SELECT is(pg_temp.total('repeat_signals', '2025-Q4'), '1',
    'repeat signals Q4: s11 (P2)');

-- Two dimensions: every cell, in category order.
SELECT is((SELECT jsonb_agg(c) FROM jsonb_array_elements(pg_temp.t(
    'cases', '2025-Q3', '{region,minor}')->'cells') c
    WHERE c->>'region' IN ('VR13', 'VR17')),
    '[{"region": "VR13", "minor": true, "value": 1},
      {"region": "VR13", "minor": false, "value": 2},
      {"region": "VR17", "minor": true, "value": 0},
      {"region": "VR17", "minor": false, "value": 3}]',
    'cases Q3 by region and minor');
SELECT is(jsonb_array_length(pg_temp.t('cases', '2025-Q3',
    '{region,minor}')->'cells'),
    (SELECT 2 * count(*)::int FROM ref.region),
    'a 2-D table holds every pair of categories, zeros included');

-- Emergency reads are audit events (dated now): the current month.
SELECT audit.event_flagged(NULL, NULL, 'coordinator', 'case.read', 'case',
    case_id::text, 'emergency', 'immediate_danger', 'req-bg', NULL,
    'break_glass')
FROM fx WHERE name IN ('s1', 's2', 's9') \g /dev/null
UPDATE audit.review SET reviewed_at = now(), verdict = 'unjustified',
    reviewed_by = 'b0000000-0000-4000-8000-000000000010'
WHERE event_id = (SELECT min(event_id) FROM audit.review);
SELECT is(pg_temp.nz('emergency_reads',
    to_char(now() AT TIME ZONE 'Europe/Amsterdam', 'YYYY-MM'), 'verdict'),
    '{"unjustified": 1, "pending": 2}', 'emergency reads by verdict');
SELECT is(pg_temp.nz('emergency_reads',
    to_char(now() AT TIME ZONE 'Europe/Amsterdam', 'YYYY-MM'), 'region'),
    '{"VR13": 2, "VR17": 1}', 'emergency reads by the case''s region');

-- ---------------------------------------------------------------------
-- Periods.
-- ---------------------------------------------------------------------
SELECT is((SELECT array_agg(starts || ' ' || ends) FROM stats.period(p)),
    ARRAY[e], 'period ' || p)
FROM (VALUES ('2025-Q4', '2025-09-30 22:00:00+00 2025-12-31 23:00:00+00'),
    ('2025-03', '2025-02-28 23:00:00+00 2025-03-31 22:00:00+00'),
    ('2025', '2024-12-31 23:00:00+00 2025-12-31 23:00:00+00')) v(p, e);
SELECT is((SELECT count(*)::int FROM stats.period(p)), 0,
    'period refused: ' || quote_literal(p))
FROM unnest(ARRAY['2026-13', '2026-Q5', ' 2026', '2026-1', '1999', '10000',
    '2026-11-01', '2026-Q4/2027-Q1', '2026-W48', '2026-q4', '']) p;
SELECT is(pg_temp.t('signals', '2025-Q4', '{}')->'provisional', 'false',
    'a closed period is final');
SELECT is(pg_temp.t('signals', to_char(now() AT TIME ZONE
    'Europe/Amsterdam', 'YYYY'), '{}')->'provisional', 'true',
    'the current year is provisional');
SELECT is(pg_temp.t('signals', '2025-02-01', '{}'), NULL,
    'stats.compute answers nothing for a misaligned period');

-- ---------------------------------------------------------------------
-- Suppression on fixed tables (threshold 3 unless named).
-- ---------------------------------------------------------------------
SELECT is(stats.suppress('{12,2,0,7}', 4, 1, 3), '{f,t,t,f}',
    '1-D: the 2 is primary, the 0 beside it the smallest complement');
SELECT is(stats.suppress('{12,2,1,7}', 4, 1, 3), '{f,t,t,f}',
    '1-D: two primaries protect each other');
SELECT is(stats.suppress('{12,5,9,7}', 4, 1, 3), '{f,f,f,f}',
    '1-D: nothing small, nothing hidden');
SELECT is(stats.suppress('{2}', 1, 0, 3), '{t}', '0-D: a small total');
SELECT is(stats.suppress('{0}', 1, 0, 3), '{f}', '0-D: zero is published');
SELECT is(stats.suppress('{20,20,20, 20,1,20, 20,20,20}', 3, 2, 3),
    '{t,t,f, t,t,f, f,f,f}',
    '2-D: one primary needs a rectangle of four (first of equal '
    'candidates)');
SELECT is(stats.suppress('{20,20,20,20, 20,1,20,20, 20,20,20,20, '
    '20,20,20,1}', 4, 2, 3),
    '{f,t,f,t, t,t,f,f, f,f,f,f, t,f,f,t}',
    '2-D: two primaries linked into one cycle');
SELECT is(stats.suppress('{0,0,0, 0,5,0, 0,0,0}', 3, 2, 10),
    '{t,f,f, f,t,f, f,f,f}',
    '2-D: a lone count among zeros: its margins hide it too, and '
    'zero complements close the cycle');
-- A bridge: two 2x2 cycles joined by one suppressed cell, and one more
-- primary elsewhere.  Row and column rules alone leave the bridge.
SELECT is(stats.bridge_side('{t,t,f,f, t,t,f,f, f,f,t,t, f,f,t,t}', 4, 4,
    1), NULL, 'a cell on a cycle is no bridge');
SELECT isnt(stats.bridge_side('{t,t,t,f, t,t,f,f, f,f,t,t, f,f,t,t}', 4, 4,
    3), NULL, 'a cell joining two cycles is a bridge');
SELECT is(stats.suppress_grid('{50,50,1,50, 50,50,50,50, 50,50,50,50, '
    '50,50,50,50}', '{t,t,t,f, t,t,f,f, f,f,t,t, f,f,t,t}',
    array_fill(true, ARRAY[16]), 4, 4),
    '{t,t,t,t, t,t,f,f, f,f,t,t, f,f,t,t}',
    'a bridge is closed into a cycle by one more cell');

-- The published table with the default threshold 10.
SELECT is(pg_temp.t('signals', '2025-Q3', '{region}', 10)->'cells'
    ->(SELECT (array_position(stats.categories('region'), 'VR13') - 1)),
    '{"region": "VR13", "value": null, "suppressed": true}',
    'threshold 10: VR13''s 4 signals are suppressed');
SELECT is(pg_temp.t('signals', '2025-Q3', '{}', 10)->'cells',
    '[{"value": null, "suppressed": true}]',
    'threshold 10: the total of 8 too');
SELECT is(pg_temp.t('time_to_take', '2025-Q3', '{}', 6)->'cells',
    '[{"value": null, "suppressed": true}]',
    'a duration over 5 cases is suppressed at threshold 6');
SELECT is(pg_temp.t('time_to_take', '2025-Q3', '{}', 5)->'cells'->0
    ->'value'->'median', '1800', 'and published at threshold 5');
SELECT is(pg_temp.t('signals', '2025-Q3', '{}', 10)->'min_cell', '10',
    'the answer states its threshold');
UPDATE stats.config SET statistics_min_cell = 10;
ALTER TABLE stats.config ADD CONSTRAINT config_statistics_min_cell_check
    CHECK (statistics_min_cell BETWEEN 2 AND 1000);
SELECT is(pg_temp.violation($$UPDATE stats.config
    SET statistics_min_cell = 1$$), 'config_statistics_min_cell_check',
    'the threshold cannot go below 2');

-- ---------------------------------------------------------------------
-- The analyst's role reads no row of any table.
-- ---------------------------------------------------------------------
SELECT is_empty($$
    SELECT n.nspname || '.' || c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_'
      -- pgTAP's own views (public, installed for these tests) aside
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
          AND d.classid = 'pg_class'::regclass AND d.deptype = 'e')
      AND pg_temp.sqlstate_as('nrm_analyst', format(
          'SELECT 1 FROM %I.%I LIMIT 1', n.nspname, c.relname))
          <> '42501'$$,
    'as nrm_analyst, SELECT on every table and view of every schema fails '
    'with insufficient_privilege');
-- What the statistics' owner may read: the counted columns, no name,
-- contact, narrative or rationale.
SELECT is(ARRAY(SELECT c.table_schema || '.' || c.table_name || '.'
        || c.column_name
    FROM information_schema.column_privileges c
    WHERE c.grantee = 'nrm_statistician' AND c.privilege_type = 'SELECT'
      AND c.table_schema IN ('care', 'ident', 'intake')
    ORDER BY 1),
    ARRAY['care.case.created_at', 'care.case.id', 'care.case.priority',
        'care.case.signal_id',
        -- 0026: whether a case was merged (the person counted once)
        'care.case.state', 'care.case_history.action',
        'care.case_history.at', 'care.case_history.case_id',
        'care.case_history.detail', 'care.case_history.id',
        'care.escalation.at',
        'care.escalation.case_id', 'care.escalation.from_region',
        'care.escalation.reason',
        'care.subject.pseudonym',
        -- 0020: the previous pseudonym key's pseudonym, during a rotation
        'care.subject.pseudonym_prev', 'care.subject.signal_id',
        'ident.decision.case_id', 'ident.decision.decided_on',
        'ident.decision.outcome', 'ident.decision.recorded_at',
        'ident.decision.stage', 'ident.panel.assigned_at',
        'ident.panel.case_id', 'ident.panel.decided_at', 'ident.panel.id',
        'ident.panel.model', 'ident.panel.outcome',
        'ident.panel_vote.outcome', 'ident.panel_vote.panel_id',
        'intake.signal.age_estimate',
        'intake.signal.agency_id', 'intake.signal.cites_signal_id',
        'intake.signal.exploitation',
        'intake.signal.gender', 'intake.signal.id', 'intake.signal.minor',
        'intake.signal.nationality', 'intake.signal.notification_only',
        'intake.signal.received_at', 'intake.signal.region_code'],
    'nrm_statistician reads exactly the counted columns');
SELECT is(pg_has_role('nrm_app', 'nrm_statistician', 'MEMBER'), false,
    'nrm_app cannot become the statistician');
-- Through its door, the analyst's role gets every measure (the
-- statistician's grants cover what each one reads) ...
SELECT is(pg_temp.sqlstate_as('nrm_analyst', format(
    'SELECT stats.table(%L, %L, %L)', m.name, '2025-Q3', m.dims[1:1])),
    'ok', 'nrm_analyst reads ' || m.name || ' through stats.table')
FROM stats.measures() m;
SELECT is(pg_temp.sqlstate_as('nrm_auditor',
    $$SELECT stats.emergency_reads('2025-Q3', '{verdict}')$$), 'ok',
    'nrm_auditor reads emergency reads through its door');
SELECT is(pg_temp.sqlstate_as('nrm_auditor',
    $$SELECT stats.table('emergency_reads', '2025-Q3', '{}')$$), '42501',
    'but not through the analyst''s');
-- ... but not behind it.
SELECT is(pg_temp.sqlstate_as('nrm_analyst',
    $$SELECT stats.compute('signals', '2025-Q3', '{}')$$), '42501',
    'nrm_analyst cannot call the unsuppressed computation');
SELECT is(pg_temp.sqlstate_as('nrm_analyst',
    $$SELECT * FROM stats.units('signals', now(), now())$$), '42501',
    'nor the units behind it');
SELECT is(pg_temp.sqlstate_as('nrm_auditor',
    $$SELECT stats.table('signals', '2025-Q3', '{}')$$), '42501',
    'nrm_auditor cannot use the analyst''s door');
SELECT is(pg_temp.sqlstate_as('nrm_app',
    $$SELECT stats.table('signals', '2025-Q3', '{}')$$), '42501',
    'nor can nrm_app');

-- ---------------------------------------------------------------------
-- api.statistics.
-- ---------------------------------------------------------------------
CREATE FUNCTION pg_temp.st(p_token text, p_measure text, p_period text,
    p_by text DEFAULT NULL, p_request_id text DEFAULT 'req-st')
RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_call('statistics', p_token, p_request_id,
	    '192.0.2.30', p_measure, p_period, p_by)
$$;
SELECT is(pg_temp.st('tok-analyst', 'signals', '2025-Q3', 'region,gender',
    'req-st-1')->'body'->'by', '["region", "gender"]',
    'the analyst reads a 2-D table');
SELECT is(pg_temp.events('req-st-1'),
    ARRAY['statistics.read/statistics/signals/monitoring/allowed/-'],
    'one audit event per read, naming the measure only');
SELECT is(pg_temp.st('tok-auditor', 'emergency_reads', '2025-Q3',
    'verdict')->'status', '200', 'the auditor reads emergency reads');
SELECT is(pg_temp.st('tok-auditor', 'signals', '2025-Q3', NULL,
    'req-st-2')->'status', '403', 'but no other measure');
SELECT is(pg_temp.events('req-st-2'),
    ARRAY['statistics.read/statistics/signals/audit/denied/'
        'measure_not_permitted'], 'the refusal is audited');
SELECT is(pg_temp.st('tok-coordinator', 'signals', '2025-Q3')->'status',
    '403', 'a coordinator may not');
SELECT is(pg_temp.st('tok-analyst', 'colours', '2025-Q3', NULL,
    'req-st-3')->'problem'->>'field', 'measure', '400 naming measure');
SELECT is(pg_temp.events('req-st-3'),
    ARRAY['statistics.read/statistics/-/monitoring/failed/bad_request'],
    'an unknown measure is not written to the log');
SELECT is(pg_temp.st('tok-analyst', 'signals', '2025-10-01')->'problem'
    ->>'field', 'period', '400 naming period');
SELECT is(pg_temp.st('tok-analyst', 'signals', '2025-Q3', 'priority')
    ->'problem'->>'field', 'by', '400 naming by (not a signal dimension)');
SELECT is(pg_temp.st('tok-analyst', 'signals', '2025-Q3',
    'region,region')->'problem'->>'field', 'by',
    '400 naming by (a dimension twice)');

SELECT * FROM finish();
ROLLBACK;
