-- 70_separation_tracks.sql - 0006 entry points: identification
-- (api.ident_record, api.ident_list) under the jurisdiction profiles,
-- the consented case share (api.case_share), and investigation records
-- (api.invest_create, api.invest_get, api.invest_patch).  A conclusive
-- positive identification needs no investigation, and identification
-- never waits for one (another session locks the investigation tables).
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(139);
\ir fixtures.psql

-- ---------------------------------------------------------------------
-- Fixtures of this file: a second police agency, investigator keys of
-- Test Police (a...01) and of it.  The NGO (a...02) has no investigator.
-- ---------------------------------------------------------------------
SELECT pg_temp.sep_investigators() \g /dev/null

-- The 0006 entry points as nrmd calls them (as nrm_app, token hashed).
CREATE FUNCTION pg_temp.ident_record(p_token text, p_case uuid,
    p_entry jsonb, p_profile text DEFAULT 'nl',
    p_request_id text DEFAULT 'req-ident') RETURNS jsonb
RETURN pg_temp.api_call('ident_record', p_token, p_request_id, '192.0.2.10',
    p_case::text, p_entry::text, p_profile);
CREATE FUNCTION pg_temp.ident_list(p_token text, p_case uuid,
    p_profile text DEFAULT 'nl', p_request_id text DEFAULT 'req-ident-list')
RETURNS jsonb
RETURN pg_temp.api_call('ident_list', p_token, p_request_id, '192.0.2.10',
    p_case::text, p_profile);
CREATE FUNCTION pg_temp.case_share(p_token text, p_case uuid,
    p_agency uuid, p_consent boolean, p_request_id text DEFAULT 'req-share')
RETURNS jsonb
RETURN pg_temp.api_call('case_share', p_token, p_request_id, '192.0.2.10',
    p_case::text, p_agency::text, p_consent::text);
-- The references go sealed and come back opened, as nrmd does (0025,
-- fixtures.psql pg_temp.invest_seal/_open); a patch that changes one
-- first asks for the record's data key (api.invest_seal_key).
CREATE FUNCTION pg_temp.invest_create(p_token text, p_body jsonb,
    p_request_id text DEFAULT 'req-inv-create') RETURNS jsonb
RETURN pg_temp.invest_open(pg_temp.api_call('invest_create', p_token,
    p_request_id, '192.0.2.10', pg_temp.invest_seal(p_body)::text));
CREATE FUNCTION pg_temp.invest_get(p_token text, p_id uuid,
    p_request_id text DEFAULT 'req-inv-get') RETURNS jsonb
RETURN pg_temp.invest_open(pg_temp.api_call('invest_get', p_token,
    p_request_id, '192.0.2.10', p_id::text));
CREATE FUNCTION pg_temp.invest_patch(p_token text, p_id uuid,
    p_if_match integer, p_body jsonb,
    p_request_id text DEFAULT 'req-inv-patch') RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_key jsonb;
BEGIN
	IF jsonb_typeof(p_body) = 'object' AND (jsonb_typeof(
	    p_body->'police_reference') = 'string' OR jsonb_typeof(
	    p_body->'prosecution_reference') = 'string') THEN
		v_key := pg_temp.api_call('invest_seal_key', p_token,
		    p_request_id, '192.0.2.10', p_id::text);
		IF (v_key->>'status')::integer <> 200 THEN
			RETURN v_key;
		END IF;
		p_body := pg_temp.invest_seal(p_body, p_id,
		    v_key->'body'->'data_key');
	END IF;
	RETURN pg_temp.invest_open(pg_temp.api_call('invest_patch', p_token,
	    p_request_id, '192.0.2.10', p_id::text, p_if_match::text,
	    p_body::text));
END
$$;

-- An api answer refused with status p_status: a problem of this code,
-- field and detail, and the members p_more.
CREATE FUNCTION pg_temp.problem(p_status integer, p_code text,
    p_field text, p_detail text, p_more jsonb DEFAULT '{}') RETURNS jsonb
RETURN jsonb_build_object('status', p_status, 'problem',
    jsonb_build_object('code', p_code, 'field', p_field, 'detail', p_detail)
    || p_more);

-- An identification entry, with overrides, its rationale sealed as
-- nrmd sends it (fixtures.psql; the database takes no plaintext
-- rationale since 0020).
CREATE FUNCTION pg_temp.entry(p jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.seal_entry('{"stage": "initial", "outcome": "positive",
	    "deciding_body": "care_coordination",
	    "rationale": "indications of debt bondage",
	    "decided_on": "2024-05-01"}'::jsonb || p)
$$;

-- The audit events of a request: action, object_id, purpose, outcome,
-- reason, in order.
CREATE FUNCTION pg_temp.audit_of(p_request_id text) RETURNS text[]
LANGUAGE sql STABLE AS $$
	SELECT coalesce(array_agg(concat_ws('/', action, object_id, purpose,
	    outcome, coalesce(reason, '-')) ORDER BY id), '{}')
	FROM audit.event WHERE request_id = p_request_id
$$;

-- A and B: police (Test Police) cases in VR13; V: in VR01; N: an NGO
-- case in VR13.
DO $$
BEGIN
	PERFORM pg_temp.named_case('A');
	PERFORM pg_temp.named_case('B');
	PERFORM pg_temp.named_case('V', '{"region": "VR01"}');
	INSERT INTO case_name SELECT 'N', (pg_temp.intake_as('nrm_app',
	    'tok-reporter-ngo', 'req-n', NULL, 'b', pg_temp.facts(),
	    pg_temp.subject(), pg_temp.route())->'body'->>'case_id')::uuid;
	-- A was created on Friday 2024-05-03 (for the profile's target).
	UPDATE care.case SET created_at = '2024-05-03 10:00:00Z',
	    updated_at = '2024-05-03 10:00:00Z'
	WHERE id = pg_temp.cid('A');
END
$$;

-- =====================================================================
-- Identification never waits for the investigation track: another
-- session holds ACCESS EXCLUSIVE locks on both invest tables (nothing
-- can even read them), and every identification step still answers.
-- =====================================================================
SELECT dblink_connect('lock', pg_temp.dblink_connstr()) \g /dev/null
-- A bug must fail the test, not hang it.
SELECT dblink_exec('lock', 'SET statement_timeout = ''20s''') \g /dev/null
SELECT dblink_exec('lock', 'BEGIN') \g /dev/null
SELECT dblink_exec('lock', 'LOCK TABLE invest.record, invest.case_share '
    'IN ACCESS EXCLUSIVE MODE') \g /dev/null
SELECT set_config('lock_timeout', '2s', true) \g /dev/null
SELECT is((pg_temp.ident_record('tok-coordinator', pg_temp.cid('N'),
    pg_temp.entry())->'status'), '201',
    'recording an identification does not wait for the investigation '
    'tables');
SELECT is((pg_temp.ident_record('tok-assessor', pg_temp.cid('N'),
    pg_temp.entry('{"stage": "reconsideration",
    "deciding_body": "court", "decided_on": "2024-07-01"}'))->'status'),
    '201', 'nor does an assessor''s decision');
SELECT is((pg_temp.ident_list('tok-coordinator', pg_temp.cid('N'))
    ->'status'), '200', 'nor does reading the identification history');
SELECT is((pg_temp.case_get('tok-coordinator', pg_temp.cid('N'))
    ->'status'), '200', 'nor does reading the case');
SELECT is(pg_temp.probe($$SELECT pg_temp.invest_get(
    'tok-sep-investigator', '00000000-0000-4000-8000-000000000000')$$),
    '55P03',
    'the lock is real: the investigation track itself waits (and times '
    'out)');
SELECT set_config('lock_timeout', '0', true) \g /dev/null
SELECT dblink_exec('lock', 'ROLLBACK') \g /dev/null
SELECT dblink_disconnect('lock') \g /dev/null

-- =====================================================================
-- Identification: coordinators record initial indications.
-- =====================================================================
INSERT INTO r SELECT 'i1', pg_temp.ident_record('tok-coordinator',
    pg_temp.cid('A'), pg_temp.entry(), 'nl', 'req-i1');
SELECT is((SELECT v->'status' FROM r WHERE name = 'i1'), '201',
    'a coordinator of the region records an initial indication: 201');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'the caller''s role is restored');
SELECT is((SELECT v->>'location' FROM r WHERE name = 'i1'),
    '/v1/cases/' || pg_temp.cid('A') || '/identification',
    'location: the case''s identification history');
SELECT is((SELECT (v->'body') - 'id' - 'recorded_at' - 'sealed' FROM r
    WHERE name = 'i1'),
    jsonb_build_object('case_id', pg_temp.cid('A'), 'stage', 'initial',
        'outcome', 'positive', 'deciding_body', 'care_coordination',
        'rationale', NULL,
        'decided_on', '2024-05-01', 'reflection_start', NULL,
        'reflection_end', NULL, 'recovery_start', NULL,
        'recovery_end', NULL,
        'recorded_by', 'b0000000-0000-4000-8000-000000000003',
        'profile', 'nl'),
    'body: the entry as stored, recorded by the caller''s key, its '
    'rationale sealed');
SELECT is((SELECT v->'body'->'sealed'->'fields'->0->>'aad' FROM r
    WHERE name = 'i1'), 'ident.decision/rationale/'
    || (SELECT v->'body'->>'id' FROM r WHERE name = 'i1'),
    'the sealed rationale travels in "sealed", bound to the entry');
SELECT is((SELECT count(*)::int FROM ident.decision d, r
    WHERE r.name = 'i1' AND d.id = (r.v->'body'->>'id')::uuid
      AND ident.entry_json(d) = r.v->'body'), 1,
    'the entry is stored as answered');
SELECT is(pg_temp.audit_of('req-i1'), ARRAY['identification.create/'
    || pg_temp.cid('A') || '/identification/allowed/-'],
    'audited identification.create, purpose identification');

-- Coordinators record nothing but initial indications.
SELECT is(pg_temp.ident_record('tok-coordinator', pg_temp.cid('A'),
    pg_temp.entry('{"stage": "conclusive", "decided_on": "2024-06-15"}'),
    'nl', 'req-c1'), pg_temp.problem(403, 'forbidden', 'stage',
        'coordinators record initial indications only; conclusive '
        || 'decisions and reconsiderations are the assessment body''s'),
    'a coordinator cannot record a conclusive decision: 403 on stage');
SELECT is(pg_temp.audit_of('req-c1'), ARRAY['identification.create/'
    || pg_temp.cid('A') || '/identification/denied/stage_not_permitted'],
    'audited denied/stage_not_permitted');
SELECT is((pg_temp.ident_record('tok-coordinator', pg_temp.cid('A'),
    pg_temp.entry('{"stage": "reconsideration"}'))->'status'), '403',
    'nor a reconsideration');
SELECT is((SELECT count(*)::int FROM ident.decision
    WHERE case_id = pg_temp.cid('A')), 1, 'nothing more was stored');

-- Scope: 404 alike for another region's case and an unknown id.
INSERT INTO r SELECT 'o1', pg_temp.ident_record('tok-coordinator-vr01',
    pg_temp.cid('A'), pg_temp.entry(), 'nl', 'req-o1');
INSERT INTO r SELECT 'u1', pg_temp.ident_record('tok-coordinator-vr01',
    '00000000-0000-4000-8000-000000000000', pg_temp.entry(), 'nl',
    'req-u1');
SELECT is((SELECT v FROM r WHERE name = 'o1'),
    '{"status": 404, "problem": {"code": "not_found",
      "detail": "no case with this id in your regions"}}',
    'another region''s coordinator: 404');
SELECT is((SELECT v FROM r WHERE name = 'o1'),
    (SELECT v FROM r WHERE name = 'u1'), '... the same answer as an '
    'unknown id');
SELECT is(pg_temp.audit_of('req-o1') || pg_temp.audit_of('req-u1'),
    ARRAY['identification.create/' || pg_temp.cid('A')
        || '/identification/denied/out_of_scope',
    'identification.create/00000000-0000-4000-8000-000000000000'
        || '/identification/denied/not_found'],
    'audited denied: out_of_scope and not_found');
SELECT is((pg_temp.ident_record(t, pg_temp.cid('A'), pg_temp.entry())
    ->'status'), '403', t || ' may not record identification: 403')
FROM unnest(ARRAY['tok-reporter', 'tok-sep-investigator']) t;

-- =====================================================================
-- The profile's rules (assessors record every stage).
-- =====================================================================
SELECT is(pg_temp.ident_record('tok-assessor', pg_temp.cid('V'),
    pg_temp.entry('{"stage": "conclusive",
    "deciding_body": "assessment_body"}'), 'nl', 'req-ci'),
    pg_temp.problem(422, 'validation', 'stage',
        'conclusive_requires_initial: a conclusive decision follows an '
        || 'initial decision',
        '{"rule": "conclusive_requires_initial", "profile": "nl"}'),
    'conclusive without an initial decision: 422 naming the rule');

INSERT INTO r SELECT 'early', pg_temp.ident_record('tok-assessor',
    pg_temp.cid('A'), pg_temp.entry('{"stage": "conclusive",
    "deciding_body": "assessment_body", "decided_on": "2024-05-30"}'),
    'nl', 'req-early');
SELECT is((SELECT v FROM r WHERE name = 'early'),
    pg_temp.problem(422, 'validation', 'stage',
        'conclusive_min_days: 30 days after the initial decision of '
        || '2024-05-01', '{"rule": "conclusive_min_days", "profile": "nl",
        "earliest": "2024-05-31"}'),
    'conclusive 29 days after the initial decision: 422 on stage, naming '
    'the rule and the initial decision''s date');
SELECT is(pg_temp.audit_of('req-early'), ARRAY['identification.create/'
    || pg_temp.cid('A') || '/identification/failed/conclusive_min_days'],
    'audited failed with the rule as reason');
SELECT is((SELECT count(*)::int FROM ident.decision
    WHERE case_id = pg_temp.cid('A') AND stage = 'conclusive'), 0,
    'nothing stored');

-- A has no investigation at all: no record, no share, nothing.
SELECT is((SELECT count(*)::int FROM invest.record
    WHERE case_id = pg_temp.cid('A') OR signal_id = pg_temp.sig('A'))
    + (SELECT count(*)::int FROM invest.case_share
    WHERE case_id = pg_temp.cid('A')), 0,
    'case A has no investigation (no record, no share)');
INSERT INTO r SELECT 'ca', pg_temp.ident_record('tok-assessor',
    pg_temp.cid('A'), pg_temp.entry('{"stage": "conclusive",
    "deciding_body": "assessment_body", "decided_on": "2024-05-31",
    "rationale": "conclusive grounds"}'), 'nl', 'req-ca');
SELECT is((SELECT v->'status' FROM r WHERE name = 'ca'), '201',
    'a conclusive positive identification succeeds on a case with no '
    'investigation');
SELECT is((SELECT (v->'body'->>'stage') || '/' || (v->'body'->>'outcome')
    || '/' || (v->'body'->>'recorded_by') FROM r WHERE name = 'ca'),
    'conclusive/positive/b0000000-0000-4000-8000-000000000008',
    '... stored as the assessor''s conclusive positive decision');

-- Reflection and recovery periods.
SELECT is((pg_temp.ident_record('tok-coordinator-vr01', pg_temp.cid('V'),
    pg_temp.entry(jsonb_build_object('reflection_start', '2024-05-01',
        'reflection_end', e)), p)->'problem'->>'rule'), x,
    p || ': reflection 2024-05-01..' || e || ': '
    || coalesce(x, 'accepted'))
FROM (VALUES ('nl', '2024-07-30', NULL), ('nl', '2024-07-31',
    'reflection_max_days'), ('uk', '2024-07-31', NULL)) AS v(p, e, x);
SELECT is((pg_temp.ident_record('tok-coordinator-vr01', pg_temp.cid('V'),
    pg_temp.entry('{"reflection_start": "2024-05-01",
    "reflection_end": "2024-08-01"}'))->'problem'),
    jsonb_build_object('code', 'validation', 'field', 'reflection_end',
        'detail', 'reflection_max_days: the nl profile allows a '
        || 'reflection period of at most 90 days',
        'rule', 'reflection_max_days', 'profile', 'nl'),
    'a reflection period over the profile''s: 422 on reflection_end');
SELECT is((pg_temp.ident_record('tok-assessor', pg_temp.cid('V'),
    pg_temp.entry(jsonb_build_object('recovery_start', '2024-05-01',
        'recovery_end', e)), p)->'problem'->>'rule'), x,
    p || ': recovery 2024-05-01..' || e || ': ' || coalesce(x, 'accepted'))
FROM (VALUES ('uk', '2024-05-30', 'recovery_min_days'),
    ('uk', '2024-05-31', NULL), ('nl', '2024-05-02', NULL)) AS v(p, e, x);
SELECT is((pg_temp.ident_record('tok-assessor', pg_temp.cid('V'),
    pg_temp.entry('{"recovery_start": "2024-05-01",
    "recovery_end": "2024-05-20"}'), 'uk')->'problem'),
    jsonb_build_object('code', 'validation', 'field', 'recovery_end',
        'detail', 'recovery_min_days: the uk profile requires a '
        || 'recovery period of at least 30 days',
        'rule', 'recovery_min_days', 'profile', 'uk'),
    'uk: a recovery period under 30 days: 422 on recovery_end');
SELECT is((pg_temp.ident_record('tok-assessor', pg_temp.cid('V'),
    pg_temp.entry('{"stage": "conclusive", "decided_on": "2024-05-20",
    "deciding_body": "assessment_body"}'), 'uk')->'problem'->>'detail'),
    'conclusive_min_days: 30 days after the initial decision of 2024-05-01',
    'uk: the Conclusive Grounds minimum too');

-- Input checks: the field at fault, nothing stored.
CREATE TEMP TABLE before_bad AS SELECT count(*) AS n FROM ident.decision;
SELECT is(ARRAY[(x.v->>'status'), x.v->'problem'->>'field'],
    ARRAY[s, f], d || ': ' || s || ' ' || coalesce(f, '(no field)'))
FROM (SELECT d, s, f, pg_temp.ident_record('tok-assessor',
        pg_temp.cid('A'), e, 'nl', 'req-bad-' || d) AS v
    FROM (VALUES
    ('stage', pg_temp.entry('{"stage": "final"}'), '422', 'stage'),
    ('stage_type', pg_temp.entry('{"stage": 1}'), '422', 'stage'),
    ('outcome', pg_temp.entry('{"outcome": "maybe"}'), '422', 'outcome'),
    ('pending_conclusive', pg_temp.entry('{"stage": "conclusive",
        "outcome": "pending"}'), '422', 'outcome'),
    ('body', pg_temp.entry('{"deciding_body": "police"}'), '422',
        'deciding_body'),
    ('rationale_long', pg_temp.entry(jsonb_build_object('rationale',
        repeat('x', 4001))), '422', 'rationale'),
    ('rationale_type', pg_temp.entry('{"rationale": 5}'), '422',
        'rationale'),
    ('date_invalid', pg_temp.entry('{"decided_on": "2024-02-30"}'), '422',
        'decided_on'),
    ('date_format', pg_temp.entry('{"decided_on": "01-05-2024"}'), '422',
        'decided_on'),
    ('date_future', pg_temp.entry(jsonb_build_object('decided_on',
        (now()::date + 2)::text)), '422', 'decided_on'),
    ('date_old', pg_temp.entry('{"decided_on": "1999-12-31"}'), '422',
        'decided_on'),
    ('date_missing', pg_temp.entry() - 'decided_on', '422', 'decided_on'),
    ('end_without_start', pg_temp.entry('{"reflection_end":
        "2024-06-01"}'), '422', 'reflection_start'),
    ('end_before_start', pg_temp.entry('{"recovery_start": "2024-06-01",
        "recovery_end": "2024-05-01"}'), '422', 'recovery_end'),
    ('start_invalid', pg_temp.entry('{"recovery_start": "soon"}'), '422',
        'recovery_start'),
    ('unknown_key', pg_temp.entry('{"police_reference": "PV-1"}'), '422',
        NULL),
    ('not_object', '["initial"]'::jsonb, '400', NULL))
    AS c(d, e, s, f)) x;
SELECT is((SELECT count(*) FROM ident.decision), (SELECT n FROM before_bad),
    'none of them stored anything');
SELECT is_empty($$SELECT request_id FROM audit.event
    WHERE request_id LIKE 'req-bad-%'
      AND (outcome <> 'failed' OR reason NOT IN ('invalid_entry',
          'bad_request'))$$,
    'each is audited failed/invalid_entry (400: bad_request)');
SELECT is((pg_temp.ident_record('tok-assessor', pg_temp.cid('A'),
    '{"unknown": 1}')->'problem'->>'detail'),
    'unknown field; known: stage, outcome, deciding_body, rationale, '
    'decided_on, reflection_start, reflection_end, recovery_start, '
    'recovery_end', 'an unknown key is named by the list, not echoed');
-- decided_on may be today in Europe/Amsterdam, whatever the session's
-- time zone: under UTC-12 the session's date lags Amsterdam's for 13 or
-- 14 hours of every day, when a check on now()::date refuses today.
SET LOCAL TimeZone = 'Etc/GMT+12';
SELECT is(ident.entry_problem(pg_temp.entry(jsonb_build_object('decided_on',
    ((now() AT TIME ZONE 'Europe/Amsterdam')::date)::text))), NULL,
    'decided_on today in Europe/Amsterdam is accepted');
SELECT is(ident.entry_problem(pg_temp.entry(jsonb_build_object('decided_on',
    ((now() AT TIME ZONE 'Europe/Amsterdam')::date + 1)::text)))->>'field',
    'decided_on', 'decided_on tomorrow in Europe/Amsterdam is refused');
RESET TimeZone;
SELECT is(pg_temp.probe(format($$SELECT api.ident_record(
    sha256('tok-assessor'), 'req-prof', '192.0.2.10', %L, %L, 'xx')$$,
    pg_temp.cid('A'), pg_temp.entry())), '22023',
    'an unknown profile is a daemon bug: 22023');

-- =====================================================================
-- The identification history.
-- =====================================================================
INSERT INTO r SELECT 'l1', pg_temp.ident_list('tok-coordinator',
    pg_temp.cid('A'), 'nl', 'req-l1');
SELECT pg_temp.answer_is('l1', 200,
    'a coordinator of the region lists the history',
    ARRAY['case_id', 'items', 'rules']);
SELECT is((SELECT array_agg((i->>'stage') || ' ' || (i->>'decided_on'))
    FROM r, jsonb_array_elements(v->'body'->'items') i WHERE name = 'l1'),
    ARRAY['conclusive 2024-05-31', 'initial 2024-05-01'],
    'items newest first');
SELECT is((SELECT v->'body'->'items'->1 FROM r WHERE name = 'l1'),
    (SELECT v->'body' FROM r WHERE name = 'i1'),
    'an item is the entry as recorded');
SELECT is((SELECT v->'body'->'rules' FROM r WHERE name = 'l1'),
    '{"profile": "nl", "initial_target_working_days": 5,
      "initial_due_on": "2024-05-10", "min_days_initial_to_conclusive": 30,
      "conclusive_earliest_on": "2024-05-31", "reflection_days": 90,
      "recovery_min_days": null}',
    'rules: the profile and its dates for the case (5 working days after '
    'Friday 2024-05-03 is Friday 2024-05-10)');
SELECT is(pg_temp.audit_of('req-l1'), ARRAY['identification.read/'
    || pg_temp.cid('A') || '/identification/allowed/-'],
    'an audited read: identification.read, purpose identification');
SELECT is((pg_temp.ident_list('tok-assessor', pg_temp.cid('A'), 'uk')
    ->'body'->'rules'->>'recovery_min_days'), '30',
    'an assessor lists it too, here under the uk profile');
INSERT INTO r SELECT 'lo', pg_temp.ident_list('tok-coordinator-vr01',
    pg_temp.cid('A'), 'nl', 'req-lo');
SELECT is((SELECT v FROM r WHERE name = 'lo'),
    pg_temp.ident_list('tok-coordinator-vr01',
        '00000000-0000-4000-8000-000000000000'),
    'another region''s coordinator: the 404 of an unknown id');
SELECT is(pg_temp.audit_of('req-lo'), ARRAY['identification.read/'
    || pg_temp.cid('A') || '/identification/denied/out_of_scope'],
    'audited denied/out_of_scope');
SELECT is((pg_temp.ident_list(t, pg_temp.cid('A'))->'status'), '403',
    t || ' may not read identification: 403')
FROM unnest(ARRAY['tok-reporter', 'tok-sep-investigator']) t;

SELECT is(ARRAY[ident.add_working_days('2024-05-03', 5),
    ident.add_working_days('2024-05-03', 1),
    ident.add_working_days('2024-05-04', 1),
    ident.add_working_days('2024-05-06', 4)],
    ARRAY['2024-05-10', '2024-05-06', '2024-05-06', '2024-05-10']::date[],
    'working days skip Saturday and Sunday');

-- =====================================================================
-- The consented share (care side -> one police agency).
-- =====================================================================
SELECT is((pg_temp.case_share('tok-coordinator', pg_temp.cid('B'),
    'a0000000-0000-4000-8000-000000000001', c,
    'req-nc-' || coalesce(c::text, 'null'))),
    pg_temp.problem(422, 'validation', 'consent',
        'a case is shared with the police only with the victim''s '
        || 'consent'),
    'share without consent (' || coalesce(c::text, 'null') || '): 422')
FROM unnest(ARRAY[false, NULL]) c;
SELECT is(pg_temp.audit_of('req-nc-false'), ARRAY['case.share/'
    || pg_temp.cid('B') || '/investigation/failed/no_consent'],
    'audited failed/no_consent');
SELECT is((pg_temp.case_share('tok-coordinator', pg_temp.cid('B'), a, true)
    ->'problem'->>'field'), 'agency_id',
    'share with ' || d || ': 422 on agency_id')
FROM (VALUES ('a0000000-0000-4000-8000-000000000002'::uuid,
        'an agency without investigators (the NGO)'),
    ('00000000-0000-4000-8000-000000000000', 'an unknown agency')) x(a, d);
SELECT is((pg_temp.case_share('tok-coordinator-vr01', pg_temp.cid('B'),
    'a0000000-0000-4000-8000-000000000001', true, 'req-so')),
    '{"status": 404, "problem": {"code": "not_found",
      "detail": "no case with this id in your regions"}}',
    'another region''s coordinator cannot share the case: 404');
SELECT is(pg_temp.audit_of('req-so'), ARRAY['case.share/'
    || pg_temp.cid('B') || '/investigation/denied/out_of_scope'],
    'audited denied/out_of_scope');
SELECT is((pg_temp.case_share(t, pg_temp.cid('B'),
    'a0000000-0000-4000-8000-000000000001', true)->'status'), '403',
    t || ' may not share a case: 403')
FROM unnest(ARRAY['tok-assessor', 'tok-reporter', 'tok-sep-investigator']) t;
SELECT is((SELECT count(*)::int FROM invest.case_share), 0,
    'none of these shared anything');

INSERT INTO r SELECT 's1', pg_temp.case_share('tok-coordinator',
    pg_temp.cid('B'), 'a0000000-0000-4000-8000-000000000001', true,
    'req-s1');
SELECT is((SELECT (v->'body') - 'consent_recorded_at' FROM r
    WHERE name = 's1'), jsonb_build_object('case_id', pg_temp.cid('B'),
    'agency_id', 'a0000000-0000-4000-8000-000000000001',
    'shared_by', 'b0000000-0000-4000-8000-000000000003', 'new', true),
    'the coordinator shares case B with Test Police, with consent: 200');
SELECT is((SELECT v->'body'->>'consent_recorded_at' FROM r
    WHERE name = 's1'), api.rfc3339(now()), 'when consent was recorded');
SELECT is(pg_temp.audit_of('req-s1'), ARRAY['case.share/'
    || pg_temp.cid('B') || '/investigation/allowed/-'],
    'audited case.share, purpose investigation');
SELECT is((SELECT array_agg(action || ' ' || detail::text) FROM
    care.case_history WHERE case_id = pg_temp.cid('B')
      AND action = 'shared'),
    ARRAY['shared {"agency_id": "a0000000-0000-4000-8000-000000000001"}'],
    'the case history records the share (ids only)');
SELECT is((pg_temp.case_share('tok-coordinator-2', pg_temp.cid('B'),
    'a0000000-0000-4000-8000-000000000001', true)->'body'->'new'), 'false',
    'sharing again: 200, new false ...');
SELECT is((SELECT count(*)::int FROM care.case_history
    WHERE case_id = pg_temp.cid('B') AND action = 'shared')
    + (SELECT count(*)::int FROM invest.case_share), 2,
    '... one share and one history entry, still');

-- =====================================================================
-- Investigation records.
-- =====================================================================
INSERT INTO r SELECT 'r1', pg_temp.invest_create('tok-sep-investigator',
    jsonb_build_object('case_id', pg_temp.cid('B'), 'report_filed', false,
        'police_reference', 'PV-2024-77'), 'req-r1');
SELECT is((SELECT v->'status' FROM r WHERE name = 'r1'), '201',
    'an investigator of Test Police records an investigation on the case '
    'shared with it: 201');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'the caller''s role is restored');
SELECT is((SELECT v->>'location' FROM r WHERE name = 'r1'),
    '/v1/investigations/' || (SELECT v->'body'->>'id' FROM r
        WHERE name = 'r1'), 'location: the record');
SELECT is((SELECT array_agg(k ORDER BY k) FROM r,
    jsonb_object_keys(v->'body') k WHERE name = 'r1'),
    ARRAY['agency_id', 'case_id', 'created_at', 'id', 'police_reference',
        'prosecution_reference', 'report_filed', 'report_filed_on',
        'signal_id', 'status', 'updated_at', 'version'],
    'body: the record''s own fields, nothing of the care side');
SELECT is((SELECT (v->'body') - 'id' - 'created_at' - 'updated_at' FROM r
    WHERE name = 'r1'), jsonb_build_object('agency_id',
    'a0000000-0000-4000-8000-000000000001', 'signal_id', NULL,
    'case_id', pg_temp.cid('B'), 'police_reference', 'PV-2024-77',
    'prosecution_reference', NULL, 'report_filed', false,
    'report_filed_on', NULL, 'status', 'open', 'version', 1),
    'the record says no report was filed');
SELECT is(pg_temp.audit_of('req-r1'), ARRAY['investigation.create/'
    || (SELECT v->'body'->>'id' FROM r WHERE name = 'r1')
    || '/investigation/allowed/-'],
    'audited investigation.create, purpose investigation');

-- Identification on B is untouched by it: initial, then conclusive.
SELECT is((pg_temp.ident_record('tok-coordinator', pg_temp.cid('B'),
    pg_temp.entry())->'status'), '201', 'B: initial indication');
INSERT INTO r SELECT 'cb', pg_temp.ident_record('tok-assessor',
    pg_temp.cid('B'), pg_temp.entry('{"stage": "conclusive",
    "deciding_body": "assessment_body", "decided_on": "2024-06-15"}'));
SELECT is((SELECT v->'status' FROM r WHERE name = 'cb'), '201',
    'a conclusive positive identification succeeds on a case whose '
    'investigation says report_filed = false');
INSERT INTO r SELECT 'lb', pg_temp.ident_list('tok-assessor',
    pg_temp.cid('B'));
SELECT ok((SELECT v::text FROM r WHERE name = 'lb') !~ ('PV-2024-77|'
    || 'report_filed|police|prosecution|a0000000-0000-4000-8000-000000000001'),
    'the identification history shows nothing of the investigation');
SELECT ok((SELECT v::text FROM r WHERE name = 'r1') !~* ('debt bondage|'
    || 'test narrative|Ana|rationale|identification|explanation|VR13'),
    'the investigation record shows nothing of identification or care');

-- Referring to something: own signals, shared cases only.
INSERT INTO r SELECT 'r2', pg_temp.invest_create('tok-sep-investigator',
    jsonb_build_object('signal_id', pg_temp.sig('A'),
        'prosecution_reference', 'OM-2024-1'), 'req-r2');
SELECT is((SELECT (v->'status')::text || ' ' || (v->'body'->>'signal_id')
    FROM r WHERE name = 'r2'), '201 ' || pg_temp.sig('A'),
    'an investigator refers to a signal its agency submitted: 201');
SELECT is((pg_temp.invest_create(t, jsonb_build_object(k, x), q)
    ->'problem'), jsonb_build_object('code', 'validation', 'field', k,
    'detail', m), d)
FROM (VALUES
    ('tok-sep-investigator-2', 'case_id', pg_temp.cid('B'), 'req-ns1',
        'no case with this id was shared with your agency',
        'another agency cannot refer to a case shared with Test Police'),
    ('tok-sep-investigator', 'case_id', pg_temp.cid('A'), 'req-ns2',
        'no case with this id was shared with your agency',
        'nobody can refer to a case nobody shared'),
    ('tok-sep-investigator', 'signal_id', pg_temp.sig('N'), 'req-ns3',
        'no signal with this id was submitted by your agency',
        'an investigator cannot refer to another agency''s signal'),
    ('tok-sep-investigator', 'signal_id',
        '00000000-0000-4000-8000-000000000000', 'req-ns4',
        'no signal with this id was submitted by your agency',
        '... the same answer as for an unknown signal'))
    AS c(t, k, x, q, m, d);
SELECT is(pg_temp.audit_of('req-ns1') || pg_temp.audit_of('req-ns3'),
    ARRAY['investigation.create/investigation/failed/case_not_shared',
        'investigation.create/investigation/failed/unknown_signal'],
    'audited failed/case_not_shared and unknown_signal');
SELECT is(ARRAY[(x.v->>'status'), x.v->'problem'->>'field'],
    ARRAY[s, f], d || ': ' || s || ' ' || coalesce(f, '(no field)'))
FROM (SELECT d, s, f, pg_temp.invest_create('tok-sep-investigator', b)
        AS v
    FROM (VALUES
    ('no reference', '{"report_filed": true}'::jsonb, '422', 'signal_id'),
    ('signal not a uuid', '{"signal_id": "abc"}', '422', 'signal_id'),
    ('case not a string', '{"case_id": 5}', '422', 'case_id'),
    ('report_filed not boolean', jsonb_build_object('signal_id',
        pg_temp.sig('A'), 'report_filed', 'yes'), '422', 'report_filed'),
    ('date without report', jsonb_build_object('signal_id',
        pg_temp.sig('A'), 'report_filed_on', '2024-05-02'), '422',
        'report_filed_on'),
    ('date in the future', jsonb_build_object('signal_id',
        pg_temp.sig('A'), 'report_filed', true, 'report_filed_on',
        (now()::date + 2)::text), '422', 'report_filed_on'),
    ('status', jsonb_build_object('signal_id', pg_temp.sig('A'),
        'status', 'archived'), '422', 'status'),
    ('reference too long', jsonb_build_object('signal_id',
        pg_temp.sig('A'), 'police_reference', repeat('x', 101)), '422',
        'police_reference'),
    ('reference with a newline', jsonb_build_object('signal_id',
        pg_temp.sig('A'), 'prosecution_reference', E'a\nb'), '422',
        'prosecution_reference'),
    ('unknown key', jsonb_build_object('signal_id', pg_temp.sig('A'),
        'rationale', 'x'), '422', NULL),
    ('not an object', '"x"', '400', NULL)) AS c(d, b, s, f)) x;
SELECT is((pg_temp.invest_create(t, jsonb_build_object('signal_id',
    pg_temp.sig('A')))->'status'), '403',
    t || ' may not record investigations: 403')
FROM unnest(ARRAY['tok-coordinator', 'tok-assessor', 'tok-reporter']) t;
SELECT is((SELECT count(*)::int FROM invest.record), 2,
    'two records stored, no more');

-- Reading: own agency only; 404 alike for others' and unknown ids.
SELECT is(pg_temp.invest_get('tok-sep-investigator',
    (SELECT (v->'body'->>'id')::uuid FROM r WHERE name = 'r1'), 'req-g1'),
    jsonb_build_object('status', 200, 'body', (SELECT v->'body' FROM r
        WHERE name = 'r1')), 'the owning agency reads its record: 200');
SELECT is(pg_temp.audit_of('req-g1'), ARRAY['investigation.read/'
    || (SELECT v->'body'->>'id' FROM r WHERE name = 'r1')
    || '/investigation/allowed/-'], 'audited investigation.read');
INSERT INTO r SELECT 'g2', pg_temp.invest_get('tok-sep-investigator-2',
    (SELECT (v->'body'->>'id')::uuid FROM r WHERE name = 'r1'), 'req-g2');
INSERT INTO r SELECT 'g3', pg_temp.invest_get('tok-sep-investigator-2',
    '00000000-0000-4000-8000-000000000000', 'req-g3');
SELECT is((SELECT v FROM r WHERE name = 'g2'),
    '{"status": 404, "problem": {"code": "not_found",
      "detail": "no investigation with this id for your agency"}}',
    'another police agency: 404');
SELECT is((SELECT v FROM r WHERE name = 'g2'),
    (SELECT v FROM r WHERE name = 'g3'),
    '... the same answer as an unknown id (no 403 vs 404 oracle)');
SELECT is(pg_temp.audit_of('req-g2') || pg_temp.audit_of('req-g3'),
    ARRAY['investigation.read/' || (SELECT v->'body'->>'id' FROM r
        WHERE name = 'r1') || '/investigation/denied/out_of_scope',
    'investigation.read/00000000-0000-4000-8000-000000000000'
        || '/investigation/denied/not_found'],
    'audited denied: out_of_scope and not_found');
SELECT is((pg_temp.invest_get(t, (SELECT (v->'body'->>'id')::uuid FROM r
    WHERE name = 'r1'))->'status'), '403',
    t || ' may not read investigations: 403')
FROM unnest(ARRAY['tok-coordinator', 'tok-assessor', 'tok-reporter']) t;

-- Changing: merge patch with If-Match.
INSERT INTO r SELECT 'p1', pg_temp.invest_patch('tok-sep-investigator',
    (SELECT (v->'body'->>'id')::uuid FROM r WHERE name = 'r1'), 1,
    '{"report_filed": true, "report_filed_on": "2024-05-02",
      "prosecution_reference": "OM-2024-9",
      "status": "handed_to_prosecution"}', 'req-p1');
SELECT is((SELECT (v->'body') - 'id' - 'created_at' - 'updated_at' FROM r
    WHERE name = 'p1'), jsonb_build_object('agency_id',
    'a0000000-0000-4000-8000-000000000001', 'signal_id', NULL,
    'case_id', pg_temp.cid('B'), 'police_reference', 'PV-2024-77',
    'prosecution_reference', 'OM-2024-9', 'report_filed', true,
    'report_filed_on', '2024-05-02', 'status', 'handed_to_prosecution',
    'version', 2), 'a patch with the right If-Match: 200, version 2');
SELECT is(pg_temp.audit_of('req-p1'), ARRAY['investigation.update/'
    || (SELECT v->'body'->>'id' FROM r WHERE name = 'r1')
    || '/investigation/allowed/-'], 'audited investigation.update');
SELECT is(pg_temp.invest_patch('tok-sep-investigator',
    (SELECT (v->'body'->>'id')::uuid FROM r WHERE name = 'r1'), 1,
    '{"status": "closed"}'),
    '{"status": 412, "problem": {"code": "precondition", "version": 2,
      "detail": "the investigation has changed: its version is 2"}}',
    'a stale If-Match: 412 with the current version');
SELECT is(pg_temp.invest_patch('tok-sep-investigator-2',
    (SELECT (v->'body'->>'id')::uuid FROM r WHERE name = 'r1'), NULL,
    '{"status": "closed"}'), (SELECT v FROM r WHERE name = 'g3'),
    'another police agency: the 404 of an unknown id');
SELECT is(ARRAY[(x.v->>'status'), x.v->'problem'->>'field'],
    ARRAY[s, f], d || ': ' || s || ' ' || f)
FROM (SELECT d, s, f, pg_temp.invest_patch('tok-sep-investigator',
        (SELECT (v->'body'->>'id')::uuid FROM r WHERE name = 'r1'), NULL,
        b) AS v
    FROM (VALUES
    ('signal_id', jsonb_build_object('signal_id', pg_temp.sig('A')), '422',
        'signal_id'),
    ('case_id', '{"case_id": null}'::jsonb, '422', 'case_id'),
    ('report_filed null', '{"report_filed": null}', '422', 'report_filed'),
    ('unfiled with a date', '{"report_filed": false}', '422',
        'report_filed_on')) AS c(d, b, s, f)) x;
SELECT is((pg_temp.invest_patch('tok-sep-investigator',
    (SELECT (v->'body'->>'id')::uuid FROM r WHERE name = 'r1'), 2, '{}')
    ->'body'->'version'), '2', 'an empty patch changes nothing');
SELECT is(((pg_temp.invest_patch('tok-sep-investigator',
    (SELECT (v->'body'->>'id')::uuid FROM r WHERE name = 'r1'), 2,
    '{"police_reference": null, "report_filed": false,
      "report_filed_on": null}')->'body')
    - 'id' - 'created_at' - 'updated_at' - 'agency_id' - 'case_id'
    - 'signal_id'), '{"police_reference": null,
      "prosecution_reference": "OM-2024-9", "report_filed": false,
      "report_filed_on": null, "status": "handed_to_prosecution",
      "version": 3}', 'null clears a reference and the report date');

SELECT * FROM finish();
ROLLBACK;
