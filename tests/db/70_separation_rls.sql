-- 70_separation_rls.sql - 0006 row-level security: a direct SELECT (or
-- write) after SET ROLE sees only the principal's scope: coordinators
-- their regions' cases, reporters and investigators their agency's
-- rows, assessors and analysts every case, the sweeper open cases; no
-- scope, no rows.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(66);
\ir fixtures.psql

-- ---------------------------------------------------------------------
-- Fixtures of this file: a second police agency; investigator keys of
-- both police agencies (Test Police a...01 and Sep Police Two); a
-- reporter of the second; an analyst.
-- ---------------------------------------------------------------------
SELECT pg_temp.sep_investigators() \g /dev/null
INSERT INTO auth.agency (id, name, kind) VALUES
	('70000000-0000-4000-8000-000000000002', 'Sep Monitoring', 'other');
INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label)
VALUES
	('71000000-0000-4000-8000-000000000003', sha256('tok-sep-reporter-2'),
	    '70000000-0000-4000-8000-000000000001', 'reporter', NULL, NULL),
	('71000000-0000-4000-8000-000000000004', sha256('tok-sep-analyst'),
	    '70000000-0000-4000-8000-000000000002', 'analyst', NULL, NULL);

-- Become p_role with the scope api.authenticate would publish for the
-- key of p_token (NULL: the bare role, no scope at all).
CREATE FUNCTION pg_temp.enter(p_role text, p_token text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	k record;
BEGIN
	PERFORM api.scope(NULL, NULL, NULL, NULL);
	IF p_token IS NOT NULL THEN
		SELECT * INTO STRICT k FROM auth.api_key
		WHERE token_hash = sha256(convert_to(p_token, 'UTF8'));
		PERFORM api.scope(k.id, k.agency_id, k.role, k.regions);
	END IF;
	PERFORM set_config('role', p_role, true);
END
$$;

-- The first column (as text) of p_sql run as p_role with p_token's
-- scope; role and scope are restored.
CREATE FUNCTION pg_temp.rows_as(p_role text, p_token text, p_sql text)
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	v_prev text := current_setting('role');
BEGIN
	PERFORM pg_temp.enter(p_role, p_token);
	RETURN QUERY EXECUTE 'SELECT x::text FROM (' || p_sql || ') q(x)';
	PERFORM set_config('role', v_prev, true);
	PERFORM api.scope(NULL, NULL, NULL, NULL);
END
$$;

-- Run p_sql as p_role with p_token's scope and roll it back: 'ok N'
-- (N rows affected), or the violated constraint's name, or the
-- SQLSTATE (42501: privileges or a policy refused it).
CREATE FUNCTION pg_temp.try_as(p_role text, p_token text, p_sql text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	v text;
	n bigint;
BEGIN
	PERFORM pg_temp.enter(p_role, p_token);
	EXECUTE p_sql;
	GET DIAGNOSTICS n = ROW_COUNT;
	RAISE SQLSTATE 'NRMOK' USING MESSAGE = n::text;
EXCEPTION
	WHEN SQLSTATE 'NRMOK' THEN
		GET STACKED DIAGNOSTICS v = MESSAGE_TEXT;
		RETURN 'ok ' || v;
	WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS v = CONSTRAINT_NAME;
		RETURN coalesce(nullif(v, ''), SQLSTATE);
END
$$;

-- Case names of the ids (case ids, or signal ids of cases) in p_ids.
CREATE FUNCTION pg_temp.names(p_ids text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
	SELECT coalesce(array_agg(n.name ORDER BY n.name), '{}')
	FROM case_name n
	JOIN care.case c ON c.id = n.id
	WHERE n.id::text = ANY (p_ids) OR c.signal_id::text = ANY (p_ids)
$$;

-- A13 and B01: police (Test Police) signals in VR13 and VR01; NAT at
-- the national desk; N13: an NGO signal in VR13; and an NGO
-- notification (no case).
DO $$
BEGIN
	PERFORM pg_temp.named_case('A13');
	PERFORM pg_temp.named_case('B01', '{"region": "VR01"}');
	PERFORM pg_temp.named_case('NAT', '{"region": "NATIONAL"}');
	INSERT INTO case_name SELECT 'N13', (pg_temp.intake_as('nrm_app',
	    'tok-reporter-ngo', 'req-n13', 'idem-n13', 'b',
	    pg_temp.facts(), pg_temp.subject(), pg_temp.route())
	    ->'body'->>'case_id')::uuid;
	PERFORM pg_temp.intake_as('nrm_app', 'tok-reporter-ngo',
	    'req-note', NULL, 'b', pg_temp.facts_notification(), NULL,
	    pg_temp.route());
	-- Identification entries on A13 and B01; investigation records:
	-- R1 of Test Police on its own signal of A13, R2 of Sep Police Two
	-- on case A13, shared with it.
	INSERT INTO ident.decision (case_id, stage, outcome, deciding_body,
	    decided_on, recorded_by, profile)
	VALUES (pg_temp.cid('A13'), 'initial', 'positive',
	    'care_coordination', '2024-05-01',
	    'b0000000-0000-4000-8000-000000000003', 'nl'),
	    (pg_temp.cid('B01'), 'initial', 'pending', 'care_coordination',
	    '2024-05-01', 'b0000000-0000-4000-8000-000000000006', 'nl');
	INSERT INTO invest.case_share (case_id, agency_id, shared_by)
	VALUES (pg_temp.cid('A13'), '70000000-0000-4000-8000-000000000001',
	    'b0000000-0000-4000-8000-000000000003');
	INSERT INTO invest.record (id, agency_id, signal_id, case_id,
	    created_by)
	VALUES ('72000000-0000-4000-8000-000000000001',
	    'a0000000-0000-4000-8000-000000000001', pg_temp.sig('A13'), NULL,
	    '71000000-0000-4000-8000-000000000001'),
	    ('72000000-0000-4000-8000-000000000002',
	    '70000000-0000-4000-8000-000000000001', NULL, pg_temp.cid('A13'),
	    '71000000-0000-4000-8000-000000000002');
END
$$;

-- ---------------------------------------------------------------------
-- care.case, direct SELECT after SET ROLE.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.names(ARRAY(SELECT pg_temp.rows_as(r, t,
    'SELECT id FROM care.case'))), e, d)
FROM (VALUES
    ('nrm_coordinator', 'tok-coordinator', ARRAY['A13', 'N13'],
        'coordinator VR13 sees the VR13 cases only'),
    ('nrm_coordinator', 'tok-coordinator-vr01', ARRAY['B01'],
        'coordinator VR01 sees the VR01 case only'),
    ('nrm_coordinator', 'tok-coordinator-multi', ARRAY['A13', 'B01', 'N13'],
        'coordinator of VR01 and VR13 sees both regions'),
    ('nrm_coordinator', 'tok-coordinator-national', ARRAY['NAT'],
        'the national coordinator sees the national desk'),
    ('nrm_assessor', 'tok-assessor', ARRAY['A13', 'B01', 'N13', 'NAT'],
        'assessors (national) see every case'),
    ('nrm_reporter', 'tok-reporter', ARRAY['A13', 'B01', 'NAT'],
        'a police reporter sees its agency''s cases only'),
    ('nrm_reporter', 'tok-reporter-ngo', ARRAY['N13'],
        'an NGO reporter sees its agency''s case only'),
    ('nrm_reporter', 'tok-sep-reporter-2', '{}'::text[],
        'another agency''s reporter sees none of them')) AS x(r, t, e, d);
-- 0013: the analyst reads no row (statistics through api.statistics).
SELECT is(pg_temp.try_as('nrm_analyst', 'tok-sep-analyst',
    'SELECT id FROM care.case'), '42501',
    'analysts read no case: their role holds no SELECT on care.case');
SELECT is(ARRAY(SELECT pg_temp.rows_as(r, NULL,
    'SELECT count(*) FROM care.case')), ARRAY['0'],
    r || ' without a scope (a bare SET ROLE) sees no case at all')
FROM unnest(ARRAY['nrm_coordinator', 'nrm_reporter']) r;
SELECT is(pg_temp.names(ARRAY(SELECT pg_temp.rows_as('nrm_coordinator',
    'tok-coordinator', 'SELECT id FROM care.case_item'))),
    ARRAY['A13', 'N13'], 'care.case_item (security_invoker) follows it');

-- ---------------------------------------------------------------------
-- Personal data and history follow the case.
-- ---------------------------------------------------------------------
-- Each row: the role and token acting, the query, its rows as they are
-- ('rows') or as the names of their cases ('names'), the rows wanted.
SELECT is(CASE x.shown WHEN 'names'
        THEN pg_temp.names(ARRAY(SELECT pg_temp.rows_as(x.r, x.t, x.q)))
        ELSE ARRAY(SELECT pg_temp.rows_as(x.r, x.t, x.q)) END, x.e, x.d)
FROM (VALUES
('nrm_coordinator', 'tok-coordinator', 'SELECT signal_id FROM care.subject',
    'names', '{A13,N13}'::text[],
    'care.subject as tok-coordinator: the subjects of its cases'),
('nrm_coordinator', 'tok-coordinator-vr01',
    'SELECT signal_id FROM care.subject', 'names', '{B01}',
    'care.subject as tok-coordinator-vr01: the subjects of its cases'),
('nrm_coordinator', NULL, 'SELECT count(*) FROM care.subject', 'rows',
    '{0}', 'care.subject without a scope: nothing'),
('nrm_coordinator', 'tok-coordinator', 'SELECT case_id FROM care.case_history',
    'names', '{A13,N13}',
    'care.case_history as tok-coordinator: the history of its cases'),
('nrm_coordinator', 'tok-coordinator-vr01',
    'SELECT case_id FROM care.case_history', 'names', '{B01}',
    'care.case_history as tok-coordinator-vr01: the history of its cases'),
('nrm_coordinator', 'tok-coordinator', 'SELECT id FROM intake.signal',
    'names', '{A13,N13}',
    'intake.signal as coordinator VR13: the signals of its cases'),
('nrm_coordinator', 'tok-coordinator',
    'SELECT count(*) FROM intake.signal WHERE notification_only', 'rows',
    '{0}', 'coordinators see no notification (it has no case)'),
-- -------------------------------------------------------------------
-- Agencies: reporters and investigators.
-- -------------------------------------------------------------------
('nrm_reporter', 'tok-reporter', 'SELECT id FROM intake.signal', 'names',
    '{A13,B01,NAT}', 'police reporter: its agency''s signals'),
('nrm_reporter', 'tok-reporter-ngo', 'SELECT id FROM intake.signal',
    'names', '{N13}', 'NGO reporter: its agency''s signals'),
('nrm_investigator', 'tok-sep-investigator', 'SELECT id FROM intake.signal',
    'names', '{A13,B01,NAT}',
    'investigator of Test Police: its agency''s signals'),
('nrm_investigator', 'tok-sep-investigator-2',
    'SELECT id FROM intake.signal', 'names', '{}',
    'investigator of Sep Police Two: none of these'),
('nrm_reporter', 'tok-reporter-ngo',
    'SELECT count(*) FROM intake.signal WHERE notification_only', 'rows',
    '{1}', 'the NGO reporter sees its notification too'),
('nrm_investigator', NULL, 'SELECT count(*) FROM intake.signal', 'rows',
    '{0}', 'investigator without a scope: no signal'),
('nrm_reporter', 'tok-reporter-ngo',
    'SELECT count(*) FROM intake.idempotency WHERE idem_key = ''idem-n13''',
    'rows', '{1}', 'intake.idempotency as tok-reporter-ngo: 1 row'),
('nrm_reporter', 'tok-reporter',
    'SELECT count(*) FROM intake.idempotency WHERE idem_key = ''idem-n13''',
    'rows', '{0}', 'intake.idempotency as tok-reporter: 0 row'),
('nrm_investigator', 'tok-sep-investigator',
    'SELECT id FROM invest.record ORDER BY 1', 'rows',
    '{72000000-0000-4000-8000-000000000001}',
    'invest.record as tok-sep-investigator: its agency''s records only'),
('nrm_investigator', 'tok-sep-investigator-2',
    'SELECT id FROM invest.record ORDER BY 1', 'rows',
    '{72000000-0000-4000-8000-000000000002}',
    'invest.record as tok-sep-investigator-2: its agency''s records only'),
('nrm_investigator', NULL, 'SELECT count(*) FROM invest.record', 'rows',
    '{0}', 'invest.record without a scope: nothing'),
('nrm_investigator', 'tok-sep-investigator',
    'SELECT case_id FROM invest.case_share', 'names', '{}',
    'invest.case_share as tok-sep-investigator: the cases shared with its '
    'agency'),
('nrm_investigator', 'tok-sep-investigator-2',
    'SELECT case_id FROM invest.case_share', 'names', '{A13}',
    'invest.case_share as tok-sep-investigator-2: the cases shared with its '
    'agency')
) AS x(r, t, q, shown, e, d);

-- ---------------------------------------------------------------------
-- Identification entries follow the case; never for the criminal side.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.names(ARRAY(SELECT pg_temp.rows_as(r, t,
    'SELECT case_id FROM ident.decision'))), e, d)
FROM (VALUES
    ('nrm_coordinator', 'tok-coordinator', ARRAY['A13'],
        'ident.decision as coordinator VR13: its region''s entries'),
    ('nrm_coordinator', 'tok-coordinator-vr01', ARRAY['B01'],
        'ident.decision as coordinator VR01: its region''s entries'),
    ('nrm_assessor', 'tok-assessor', ARRAY['A13', 'B01'],
        'ident.decision as assessor: every entry'),
    ('nrm_coordinator', NULL, '{}'::text[],
        'ident.decision without a scope: nothing')) AS x(r, t, e, d);
SELECT is(pg_temp.try_as(r, t, 'SELECT count(*) FROM ident.decision'),
    '42501', r || ' cannot read ident.decision, whatever its scope')
FROM (VALUES ('nrm_investigator', 'tok-sep-investigator'),
    ('nrm_reporter', 'tok-reporter')) AS x(r, t);
SELECT is(pg_temp.try_as(r, t, 'SELECT count(*) FROM invest.record'),
    '42501', r || ' cannot read invest.record, whatever its scope')
FROM (VALUES ('nrm_coordinator', 'tok-coordinator'),
    ('nrm_assessor', 'tok-assessor')) AS x(r, t);

-- ---------------------------------------------------------------------
-- Writes: the policies check new rows too.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.try_as('nrm_coordinator', 'tok-coordinator',
    format('UPDATE care.case SET version = version + 1 WHERE id = %L',
        pg_temp.cid(n))), e,
    'coordinator VR13 updating ' || n || ': ' || e)
FROM (VALUES ('A13', 'ok 1'), ('B01', 'ok 0')) AS x(n, e);
SELECT is(pg_temp.try_as('nrm_coordinator', 'tok-coordinator',
    format($$UPDATE care.case SET region_code = 'VR01' WHERE id = %L$$,
        pg_temp.cid('A13'))), '42501',
    'a coordinator cannot move a case out of its regions by itself');
SELECT is(pg_temp.try_as('nrm_coordinator', 'tok-coordinator',
    format($$SELECT set_config('nrm.case_id', %L, true);
        UPDATE care.case SET region_code = 'VR01' WHERE id = %L$$,
        pg_temp.cid('A13'), pg_temp.cid('A13'))), 'ok 1',
    '... only the case api.case_lock locked (nrm.case_id) may leave');
-- ident.decision entries: the acting role (nrm_<role>, token
-- tok-<role>), case, stage, deciding body, recording key (b...0N).
SELECT is(pg_temp.try_as('nrm_' || x.role, 'tok-' || x.role,
    format($$INSERT INTO ident.decision (case_id, stage, outcome,
        deciding_body, decided_on, recorded_by, profile) VALUES (%L, %L,
        'positive', %L, %L, %L, 'nl')$$, pg_temp.cid(x.n), x.s, x.body,
        CASE x.role WHEN 'assessor' THEN '2024-06-01' ELSE '2024-05-02' END,
        'b0000000-0000-4000-8000-00000000000' || x.key)), x.e,
    coalesce(x.descr, 'coordinator VR13 inserting a ' || x.s || ' entry on '
        || x.n || ': ' || x.e))
FROM (VALUES
('coordinator', 'A13', 'initial', 'care_coordination', '3', 'ok 1', NULL),
('coordinator', 'A13', 'conclusive', 'care_coordination', '3', '42501', NULL),
('coordinator', 'A13', 'reconsideration', 'care_coordination', '3', '42501',
    NULL),
('coordinator', 'B01', 'initial', 'care_coordination', '3', '42501', NULL),
('coordinator', 'A13', 'initial', 'care_coordination', '5', '42501',
    'a coordinator records entries as its own key only'),
('assessor', 'B01', 'conclusive', 'assessment_body', '8', 'ok 1',
    'an assessor records a conclusive decision on any case')
) AS x(role, n, s, body, key, e, descr);
SELECT is(pg_temp.try_as('nrm_investigator', 'tok-sep-investigator',
    format($$INSERT INTO invest.record (agency_id, signal_id, case_id,
        created_by) VALUES (%L, %L, %L,
        '71000000-0000-4000-8000-000000000001')$$, a, s, c)), e, d)
FROM (VALUES
    ('a0000000-0000-4000-8000-000000000001'::uuid, pg_temp.sig('B01'),
        NULL::uuid, 'ok 1', 'investigator: a record on its agency''s signal'),
    ('70000000-0000-4000-8000-000000000001', pg_temp.sig('B01'), NULL,
        '42501', 'investigator: never a record of another agency'),
    ('a0000000-0000-4000-8000-000000000001', pg_temp.sig('N13'), NULL,
        'record_signal_agency',
        'investigator: not about another agency''s signal'),
    ('a0000000-0000-4000-8000-000000000001', NULL, pg_temp.cid('B01'),
        'record_case_share_fkey',
        'investigator: not about a case nobody shared with it'),
    ('a0000000-0000-4000-8000-000000000001', NULL, pg_temp.cid('A13'),
        'record_case_share_fkey',
        'investigator: not about a case shared with another agency'),
    ('a0000000-0000-4000-8000-000000000001', NULL, NULL,
        'record_reference_check', 'investigator: a record refers to '
        'something')) AS x(a, s, c, e, d);
SELECT is(pg_temp.try_as('nrm_investigator', 'tok-sep-investigator',
    $$UPDATE invest.record SET status = 'closed'$$), 'ok 1',
    'investigator: an UPDATE without WHERE reaches its agency''s record '
    'only');
SELECT is(pg_temp.try_as('nrm_reporter', 'tok-reporter',
    $$UPDATE intake.signal SET minor = true$$), '42501',
    'reporters change no signal');
SELECT is(pg_temp.try_as('nrm_reporter', 'tok-reporter',
    format($$INSERT INTO intake.signal (observed_at, agency_id, api_key_id,
        region_code, rule_id, ruleset_version, minor, exploitation,
        immediate_danger, needs_shelter, consent, notification_only)
        VALUES (now(), %L, 'b0000000-0000-4000-8000-000000000001', 'VR13',
        'r', 'v', false, '{sexual}', false, false, 'given', false)$$, a)),
    e, 'a police reporter inserting a signal of agency ' || a || ': ' || e)
FROM (VALUES ('a0000000-0000-4000-8000-000000000001', 'ok 1'),
    ('a0000000-0000-4000-8000-000000000002', '42501')) AS x(a, e);

-- ---------------------------------------------------------------------
-- The sweeper and the sharer.
-- ---------------------------------------------------------------------
UPDATE care.case SET state = 'closed', closed_reason = 'duplicate',
    holder_key_id = 'b0000000-0000-4000-8000-000000000003'
WHERE id = pg_temp.cid('N13');
SELECT is(pg_temp.names(ARRAY(SELECT pg_temp.rows_as('nrm_sweeper', NULL,
    'SELECT id FROM care.case'))), ARRAY['A13', 'B01', 'NAT'],
    'the sweeper sees the open cases only');
SELECT is(pg_temp.try_as('nrm_sweeper', NULL,
    format($$UPDATE care.case SET region_code = %L,
        escalated_at = now(), version = version + 1 WHERE id = %L$$,
        r, pg_temp.cid('A13'))), e,
    'the sweeper moving an open case to ' || r || ': ' || e)
FROM (VALUES ('NATIONAL', 'ok 1'), ('VR01', '42501')) AS x(r, e);
SELECT is(pg_temp.try_as('nrm_sweeper', NULL,
    format($$UPDATE care.case SET region_code = 'NATIONAL',
        escalated_at = now() WHERE id = %L$$, pg_temp.cid('NAT'))),
    'ok 0', 'the sweeper cannot touch a case already at the national desk');
SELECT is(pg_temp.try_as('nrm_coordinator', 'tok-coordinator',
    format('SELECT care.share_case(%L, %L)', pg_temp.cid(n),
        '70000000-0000-4000-8000-000000000001')), e,
    'care.share_case called directly for ' || n || ': ' || e)
FROM (VALUES ('N13', 'ok 1'), ('B01', '42501')) AS x(n, e);

SELECT * FROM finish();
ROLLBACK;
