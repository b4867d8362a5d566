-- 20_constraints.sql - every named constraint refuses what it should.
--
-- Each case inserts one bad row derived from a valid one and asserts the
-- NAME of the constraint that refused it, so a case cannot pass because
-- some other rule fired.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(58);
\ir fixtures.psql

-- A valid intake.signal row as jsonb, with overrides.
CREATE FUNCTION pg_temp.sig_row(p jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT jsonb_build_object('id', gen_random_uuid(),
	    'received_at', now(), 'observed_at', now() - interval '1 day',
	    'agency_id', 'a0000000-0000-4000-8000-000000000001',
	    'api_key_id', 'b0000000-0000-4000-8000-000000000001',
	    'municipality_code', 'GM0363', 'region_code', 'VR13',
	    'rule_id', 'municipality', 'ruleset_version', 'v1',
	    'minor', false, 'age_estimate', 30, 'gender', 'male',
	    'nationality', 'NL', 'languages', '["nl"]'::jsonb,
	    'exploitation', '["labour"]'::jsonb,
	    'control_means', '["threats"]'::jsonb,
	    'immediate_danger', false, 'needs_shelter', false,
	    'consent', 'given', 'notification_only', false) || p
$$;

CREATE FUNCTION pg_temp.ins_signal(p jsonb DEFAULT '{}') RETURNS text
LANGUAGE sql AS $$
	SELECT pg_temp.violation(format(
	    'INSERT INTO intake.signal SELECT * FROM '
	    'jsonb_populate_record(NULL::intake.signal, %L)',
	    pg_temp.sig_row(p)))
$$;

-- A valid care.case row for signal p_signal, with overrides.
CREATE FUNCTION pg_temp.ins_case(p_signal uuid, p jsonb DEFAULT '{}')
RETURNS text
LANGUAGE sql AS $$
	SELECT pg_temp.violation(format(
	    'INSERT INTO care.case SELECT * FROM '
	    'jsonb_populate_record(NULL::care.case, %L)',
	    jsonb_build_object('id', gen_random_uuid(), 'signal_id', p_signal,
	        'region_code', 'VR13', 'priority', 'normal', 'state', 'open',
	        'version', 1, 'rule_id', 'municipality',
	        'ruleset_version', 'v1', 'explanation', 'test',
	        'take_by', now() + interval '1 hour',
	        'first_contact_by', now() + interval '1 day',
	        'created_at', now(), 'updated_at', now()) || p))
$$;

CREATE FUNCTION pg_temp.ins_event(p jsonb DEFAULT '{}') RETURNS text
LANGUAGE sql AS $$
	SELECT pg_temp.violation(format(
	    'INSERT INTO audit.event (action, object_type, object_id, outcome, '
	    'reason, role) SELECT action, object_type, object_id, outcome, '
	    'reason, role FROM jsonb_populate_record(NULL::audit.event, %L)',
	    '{"action": "signal.create", "object_type": "signal",
	      "object_id": "x", "outcome": "allowed", "role": "reporter"}'::jsonb
	    || p))
$$;

-- The valid baselines are accepted.
SELECT is(pg_temp.ins_signal('{"id": "c0000000-0000-4000-8000-000000000001"}'),
    'ok', 'a valid signal is accepted');
SELECT is(pg_temp.ins_signal('{"id": "c0000000-0000-4000-8000-000000000002",
    "consent": "refused", "notification_only": true}'),
    'ok', 'a valid notification-only signal is accepted');
SELECT is(pg_temp.ins_case('c0000000-0000-4000-8000-000000000001',
    '{"id": "d0000000-0000-4000-8000-000000000001"}'),
    'ok', 'a valid case is accepted');
SELECT is(pg_temp.ins_event(), 'ok', 'a valid audit event is accepted');

-- The bad rows: each case is one row of a table, run in order (the
-- baselines above are stored; a refused row changes nothing), and
-- asserts the constraint that refused it.

-- Statements run as they stand.
SELECT is(pg_temp.violation(c.stmt), c.want, c.descr) FROM (VALUES
-- ref
($$INSERT INTO ref.region VALUES ('VR1', 'x')$$,
    'region_code_check', 'region code must be VRnn or NATIONAL'),
($$INSERT INTO ref.municipality VALUES ('GM12', 'x', 'VR01')$$,
    'municipality_code_check', 'municipality code must be GMnnnn'),
($$INSERT INTO ref.municipality VALUES ('GM9999', 'x', 'NATIONAL')$$,
    'municipality_region_not_national_check',
    'no municipality belongs to the national desk'),
($$INSERT INTO ref.municipality VALUES ('GM9999', 'x', 'VR99')$$,
    'municipality_region_code_fkey', 'a municipality needs a known region'),
-- auth
($$INSERT INTO auth.agency (name, kind) VALUES ('X', 'mafia')$$,
    'agency_kind_check', 'agency kind is from the fixed list'),
($$INSERT INTO auth.agency (name, kind) VALUES ('Test Police', 'ngo')$$,
    'agency_name_key', 'agency names are unique'),
($$INSERT INTO auth.agency (name, kind) VALUES (' padded', 'ngo')$$,
    'agency_name_check', 'agency names have no surrounding spaces'),
($$UPDATE auth.api_key SET regions = '{XX}'
    WHERE id = 'b0000000-0000-4000-8000-000000000003'$$,
    'api_key_regions_exist', 'regions are checked on update too'),
-- care.subject
($$INSERT INTO care.subject (signal_id)
    VALUES ('c0000000-0000-4000-8000-000000000002')$$,
    'subject_not_notification',
    'no subject is kept for a notification-only signal'),
($$INSERT INTO care.subject (signal_id, pseudonym)
    VALUES ('c0000000-0000-4000-8000-000000000001', '\x0102'::bytea)$$,
    'subject_pseudonym_check', 'a pseudonym is a 32-byte HMAC'),
-- 0017: personal data are stored sealed; the plaintext columns (and
-- their CHECKs, which still hold for rows stored before) take nothing new
($$INSERT INTO care.subject (signal_id, given_name)
    VALUES ('c0000000-0000-4000-8000-000000000001', 'Ana')$$,
    'subject_plaintext_check', 'a name is refused in plaintext'),
($$INSERT INTO care.subject (signal_id, birth_date)
    VALUES ('c0000000-0000-4000-8000-000000000001', '1994-03-02')$$,
    'subject_plaintext_check', 'a birth date is refused in plaintext'),
($$INSERT INTO care.subject (signal_id, data_key_id, given_name_ct)
    VALUES ('c0000000-0000-4000-8000-000000000001', gen_random_uuid(),
    '\x01'::bytea)$$,
    'subject_sealed_check', 'a sealed name has the sealed shape'),
($$INSERT INTO care.subject (signal_id, birth_date_ct)
    VALUES ('c0000000-0000-4000-8000-000000000001',
    pg_temp.sealed_bytes('1994-03-02'))$$,
    'subject_sealed_key_check', 'a sealed value names its data key'),
($$INSERT INTO care.subject (signal_id, data_key_id, birth_date_ct)
    VALUES ('c0000000-0000-4000-8000-000000000001', gen_random_uuid(),
    pg_temp.sealed_bytes('1994-03-02 plus'))$$,
    'subject_sealed_check', 'a sealed birth date is at most 10 bytes'),
($$INSERT INTO care.subject (signal_id)
    VALUES ('c0000000-0000-4000-8000-0000000000ff')$$,
    'subject_signal_id_fkey', 'a subject belongs to a stored signal'),
-- care.case
($$UPDATE care.case SET state = 'taken'
    WHERE id = 'd0000000-0000-4000-8000-000000000001'$$,
    'case_holder_state_check', 'a taken case has a holder'),
($$UPDATE care.case
    SET holder_key_id = 'b0000000-0000-4000-8000-000000000003'
    WHERE id = 'd0000000-0000-4000-8000-000000000001'$$,
    'case_holder_state_check', 'an open case has no holder'),
($$INSERT INTO care.case_history (case_id, action)
    VALUES ('d0000000-0000-4000-8000-000000000001', 'shredded')$$,
    'case_history_action_check', 'case history actions are from the list')
) AS c(stmt, want, descr);

-- auth.api_key: token hash, agency (a...0N), role, regions.
SELECT is(pg_temp.violation(format('INSERT INTO auth.api_key (token_hash, '
    'agency_id, role, regions) VALUES (%L, %L, %L, %L)', c.token_hash,
    'a0000000-0000-4000-8000-0000000000' || c.agency, c.role, c.regions)),
    c.want, c.descr) FROM (VALUES
('\x00ff'::bytea, '01', 'reporter', NULL::text[],
    'api_key_token_hash_check', 'token hash is 32 bytes'),
(sha256('tok-reporter'), '01', 'reporter', NULL,
    'api_key_token_hash_key', 'token hashes are unique'),
(sha256('x1'), '01', 'root', NULL,
    'api_key_role_check', 'API role is from the fixed list'),
(sha256('x2'), '03', 'coordinator', NULL,
    'api_key_regions_check', 'a coordinator key needs regions'),
(sha256('x3'), '03', 'coordinator', '{}',
    'api_key_regions_check', 'a coordinator key needs at least one region'),
(sha256('x4'), '01', 'reporter', '{VR13}',
    'api_key_regions_check', 'only coordinator keys carry regions'),
(sha256('x5'), '03', 'coordinator', '{VR13,VR99}',
    'api_key_regions_exist', 'every region of a key exists'),
(sha256('x6'), 'ff', 'reporter', NULL,
    'api_key_agency_id_fkey', 'a key belongs to a known agency')
) AS c(token_hash, agency, role, regions, want, descr);

-- intake.signal: overrides of the valid row.
SELECT is(pg_temp.ins_signal(c.p), c.want, c.descr) FROM (VALUES
('{"exploitation": []}'::jsonb,
    'signal_exploitation_check', 'at least one exploitation type'),
('{"exploitation": ["sexual", "piracy"]}',
    'signal_exploitation_check', 'exploitation types are from the list'),
('{"control_means": ["magic"]}',
    'signal_control_means_check', 'means of control are from the list'),
('{"consent": "maybe"}',
    'signal_consent_check', 'consent is from the list'),
('{"consent": "refused"}', 'signal_notification_only_check',
    'an adult without consent must be a notification'),
('{"minor": true, "age_estimate": 15, "consent": "refused",
    "notification_only": true}',
    'signal_notification_only_check', 'a minor is never a notification'),
('{"age_estimate": 15}',
    'signal_minor_age_check', 'an age estimate under 18 means minor'),
('{"age_estimate": 130}',
    'signal_age_estimate_check', 'age estimate is 0..120'),
('{"gender": "robot"}',
    'signal_gender_check', 'gender is from the list'),
('{"nationality": "nl"}',
    'signal_nationality_check', 'nationality is ISO 3166-1 alpha-2'),
('{"languages": ["eng"]}',
    'signal_languages_check', 'languages are ISO 639-1'),
('{"municipality_code": "GM9999"}',
    'signal_municipality_code_fkey', 'an unknown municipality is refused'),
('{"region_code": "VR99"}',
    'signal_region_code_fkey', 'an unknown region is refused'),
(jsonb_build_object('observed_at', now() + interval '1 day'),
    'signal_observed_at_check', 'a signal is not observed in the future'),
('{"rule_id": ""}',
    'signal_rule_id_check', 'a signal records the deciding rule'),
(jsonb_build_object('reporter_reference', 'PV-1'),
    'signal_plaintext_check', 'a reporter reference is refused in plaintext'),
(jsonb_build_object('data_key_id', gen_random_uuid(),
    'reporter_reference_ct', pg_temp.sealed_bytes(repeat('x', 101))),
    'signal_reporter_reference_ct_check',
    'a sealed reporter reference is at most 100 bytes')
) AS c(p, want, descr);

-- care.case: the signal and overrides of the valid row.
SELECT is(pg_temp.ins_case(c.signal, c.p), c.want, c.descr) FROM (VALUES
('c0000000-0000-4000-8000-000000000002'::uuid, '{}'::jsonb,
    'case_not_notification', 'a notification-only signal gets no case'),
('c0000000-0000-4000-8000-000000000001', '{}',
    'case_signal_id_key', 'one case per signal'),
('c0000000-0000-4000-8000-000000000001', '{"state": "lost"}',
    'case_state_check', 'case state is from the list'),
('c0000000-0000-4000-8000-000000000001', '{"priority": "whenever"}',
    'case_priority_check', 'case priority is from the list')
) AS c(signal, p, want, descr);

-- intake.idempotency: key, request hash, stored answer.
SELECT is(pg_temp.violation(format('INSERT INTO intake.idempotency '
    '(api_key_id, idem_key, request_hash, status, response) VALUES '
    '(%L, %L, %L, 201, %L)', 'b0000000-0000-4000-8000-000000000001',
    c.idem_key, c.request_hash, c.response)), c.want, c.descr) FROM (VALUES
(repeat('k', 201), sha256('b'), '{"status": 201}'::jsonb,
    'idempotency_idem_key_check', 'an idempotency key is 1..200 long'),
('k', '\x01'::bytea, '{"status": 201}',
    'idempotency_request_hash_check', 'a request hash is 32 bytes'),
('k', sha256('b'), '{"status": 200}',
    'idempotency_response_check', 'the stored answer carries its status')
) AS c(idem_key, request_hash, response, want, descr);

-- audit.event: overrides of the valid event.
SELECT is(pg_temp.ins_event(c.p), c.want, c.descr) FROM (VALUES
('{"outcome": "maybe"}'::jsonb,
    'event_outcome_check', 'audit outcome is allowed, denied or failed'),
('{"action": "Read Everything"}',
    'event_action_check', 'audit actions are dotted codes'),
('{"reason": "Ana Test was here"}',
    'event_reason_check', 'audit reasons are codes, never free text')
) AS c(p, want, descr);

SELECT * FROM finish();
ROLLBACK;
