-- 51_case_get.sql - api.case_get: the full case with personal data for
-- coordinators of its current region and assessors, an audited read;
-- 404 for unknown and out-of-scope alike, audited.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(38);
\ir fixtures.psql

DO $$
BEGIN
	PERFORM pg_temp.named_case('K', '{"priority": "high"}',
	    '{"minor": true, "age_estimate": 16,
	      "consent": "not_required_minor"}');
	PERFORM pg_temp.named_case('N', '{"region": "NATIONAL"}');
END
$$;

INSERT INTO r SELECT 'get', pg_temp.case_get('tok-coordinator',
    pg_temp.cid('K'), NULL, 'req-get-1');
SELECT pg_temp.answer_is('get', 200,
    'a coordinator of the case''s region reads it',
    ARRAY['case', 'history', 'sealed', 'signal', 'subject', 'version']);
-- 0017: the personal data come sealed, for nrmd to open (no plaintext
-- in the subject, no pseudonym); each value as it was stored.
SELECT is((SELECT v->'body'->'subject' FROM r WHERE name = 'get'),
    '{"given_name": null, "family_name": null, "birth_date": null,
      "phone": null, "address": null, "narrative": null}',
    'the subject''s members, no plaintext (no pseudonym)');
SELECT is((SELECT jsonb_object_agg(f->>'path', f->>'value') FROM r,
        jsonb_array_elements(v->'body'->'sealed'->'fields') f
    WHERE name = 'get'),
    (SELECT jsonb_object_agg('subject.' || e.key, pg_temp.sealed_b64(e.value))
        || jsonb_build_object('signal.reporter_reference',
            pg_temp.sealed_b64('PV-2024-1'))
    FROM jsonb_each_text(pg_temp.subject_plain()) e),
    'the subject''s personal data and the reference, sealed as stored');
SELECT is((SELECT v->'body'->'version' FROM r WHERE name = 'get'), '1',
    'version (the ETag) is the case version');
SELECT is((SELECT v->'body'->'case' FROM r WHERE name = 'get')
    - ARRAY['signal_id', 'rule_id', 'ruleset_version', 'explanation',
        'escalated_at', 'updated_at', 'held_by_me'],
    (SELECT item FROM care.case_item WHERE id = pg_temp.cid('K')),
    'case: the inbox item ...');
SELECT is((SELECT v->'body'->'case' FROM r WHERE name = 'get')
    - ARRAY(SELECT jsonb_object_keys(item) FROM care.case_item
        WHERE id = pg_temp.cid('K')),
    jsonb_build_object('signal_id', (SELECT signal_id FROM care.case
        WHERE id = pg_temp.cid('K')), 'rule_id', 'municipality',
        'ruleset_version', 'sha256:0123abcd',
        'explanation', 'GM0363 lies in safety region VR13',
        'escalated_at', NULL, 'updated_at', api.rfc3339(now()),
        'held_by_me', false),
    '... plus the routing decision, times and held_by_me (open: false)');
SELECT is((SELECT (v->'body'->'signal') - 'signal_id' - 'received_at'
    FROM r WHERE name = 'get'),
    '{"observed_at": "2024-05-01T10:00:00Z",
      "reporter": {"agency": "Test Police", "kind": "police"},
      "reporter_reference": null, "municipality_code": "GM0363",
      "routed_region": "VR13", "minor": true, "age_estimate": 16,
      "gender": "female", "nationality": "RO", "languages": ["ro", "en"],
      "exploitation": ["sexual"], "control_means": ["debt_bondage"],
      "immediate_danger": true, "needs_shelter": false,
      "consent": "not_required_minor"}',
    'signal: the facts as received and who reported');
SELECT results_eq($$SELECT api_key_id, role, action, object_type, object_id,
    purpose, outcome, reason FROM audit.event WHERE request_id = 'req-get-1'$$,
    $$SELECT 'b0000000-0000-4000-8000-000000000003'::uuid,
    'coordinator'::text, 'case.read'::text, 'case'::text,
    pg_temp.cid('K')::text, 'care'::text, 'allowed'::text, NULL::text$$,
    'the read is audited: case.read, object the case, purpose care');

-- History, newest first; version follows every change.
SELECT is(pg_temp.case_take('tok-coordinator', pg_temp.cid('K'))->'status',
    '200', 'taken');
SELECT is(pg_temp.case_decline('tok-coordinator', pg_temp.cid('K'),
    'outside_expertise')->'status', '200', 'declined');
INSERT INTO r SELECT 'get2', pg_temp.case_get('tok-coordinator-2',
    pg_temp.cid('K'), 'identification', 'req-get-2');
SELECT is((SELECT array_agg(h->>'action') FROM r,
    jsonb_array_elements(v->'body'->'history') h WHERE name = 'get2'),
    ARRAY['declined', 'taken', 'routed'], 'history: newest first');
SELECT is((SELECT (v->'body'->'history'->0) - 'at' FROM r
    WHERE name = 'get2'),
    '{"action": "declined", "by": "b0000000-0000-4000-8000-000000000003",
      "detail": {"reason": "outside_expertise", "region": "VR13",
        "to_region": "VR13", "declines": 1, "region_declines": 1,
        "decline_limit": 3, "why": null}}',
    'history: action, by, detail (codes only)');
SELECT is((SELECT v->'body'->'version' FROM r WHERE name = 'get2'), '3',
    'version 3 after take and decline');
SELECT is((SELECT purpose FROM audit.event WHERE request_id = 'req-get-2'),
    'identification', 'the purpose given is audited');

-- ---------------------------------------------------------------------
-- 404: unknown id and another region's case answer the same.
-- ---------------------------------------------------------------------
INSERT INTO r SELECT 'other_region', pg_temp.case_get('tok-coordinator-vr01',
    pg_temp.cid('K'), NULL, 'req-get-3');
INSERT INTO r SELECT 'unknown', pg_temp.case_get('tok-coordinator',
    'dead0000-0000-4000-8000-000000000000', NULL, 'req-get-4');
SELECT is((SELECT v FROM r WHERE name = 'other_region'),
    '{"status": 404, "problem": {"code": "not_found",
      "detail": "no case with this id in your regions"}}',
    'another region''s coordinator: 404');
SELECT is((SELECT v FROM r WHERE name = 'unknown'),
    (SELECT v FROM r WHERE name = 'other_region'),
    'an unknown id: the very same answer');
SELECT results_eq($$SELECT request_id, action, outcome, reason
    FROM audit.event WHERE request_id IN ('req-get-3', 'req-get-4')
    ORDER BY request_id$$,
    $$VALUES ('req-get-3'::text, 'case.read'::text, 'denied'::text,
        'out_of_scope'::text),
    ('req-get-4', 'case.read', 'denied', 'not_found')$$,
    'both denials are audited, with different reasons');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'the role is restored after a 404 too');
SELECT is(pg_temp.case_get('tok-coordinator-national', pg_temp.cid('K'))
    ->'status', '404', 'the national desk does not read regional cases');
SELECT is(pg_temp.case_get('tok-coordinator-national', pg_temp.cid('N'))
    ->'status', '200', 'the national desk reads national-desk cases');
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('N'))->'status',
    '404', 'a regional coordinator does not read national-desk cases');
SELECT is(pg_temp.case_get('tok-coordinator-multi', pg_temp.cid('K'))
    ->'status', '200', 'a coordinator of several regions reads each');

-- Scope follows the case: after a transfer only the target reads it.
SELECT is(pg_temp.case_transfer('tok-coordinator', pg_temp.cid('K'), 'VR01')
    ->'status', '200', 'K transferred to VR01');
-- (0021: the transfer is pending until VR01 accepts it)
SELECT pg_temp.transfer_accept('tok-coordinator-vr01', pg_temp.cid('K'))
    ->>'status' AS k_accepted \gset
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('K'))->'status',
    '404', 'the source region no longer reads it');
SELECT is(pg_temp.case_get('tok-coordinator-vr01', pg_temp.cid('K'))
    ->'status', '200', 'the target region does');

-- Assessors read any case.
INSERT INTO r SELECT 'assessor', pg_temp.case_get('tok-assessor',
    pg_temp.cid('K'), 'identification', 'req-get-5');
SELECT is((SELECT pg_temp.sealed_at(v, 'subject.given_name') FROM r
    WHERE name = 'assessor'), pg_temp.sealed_b64('Ana'),
    'an assessor reads the full case');
SELECT results_eq($$SELECT role, action, purpose, outcome FROM audit.event
    WHERE request_id = 'req-get-5'$$,
    $$VALUES ('assessor'::text, 'case.read'::text, 'identification'::text,
    'allowed'::text)$$, 'the assessor''s read is audited');
SELECT ok(NOT has_column_privilege('nrm_assessor', 'care.subject',
    'pseudonym', 'SELECT'), 'assessors cannot read the pseudonym');

-- Other roles and bad input.
SELECT is(pg_temp.case_get('tok-reporter', pg_temp.cid('K'))->'status',
    '403', 'a reporter cannot read a case');
SELECT is(pg_temp.case_get('tok-nobody', pg_temp.cid('K'))->'status', '401',
    'unknown token: 401');
SELECT is(pg_temp.case_get('tok-coordinator-vr01', pg_temp.cid('K'),
    'Ana Test asked', 'req-get-6'),
    '{"status": 400, "problem": {"code": "bad_request",
      "detail": "purpose must be a lowercase code (a-z and _)",
      "field": "purpose"}}', 'a free-text purpose: 400 on purpose');
SELECT results_eq($$SELECT purpose, outcome, reason FROM audit.event
    WHERE request_id = 'req-get-6'$$,
    $$VALUES (NULL::text, 'failed'::text, 'bad_request'::text)$$,
    'audited without the text');

-- No personal data anywhere in the audit log or the history.
SELECT is_empty($$SELECT 1 FROM audit.event e
    WHERE concat_ws('|', e.action, e.object_type, e.object_id, e.purpose,
        e.reason, e.request_id) ~
        '(Ana|Teststraat|test narrative|1994-03-02|0000 0000|PV-2024)'$$,
    'no personal data in any audit event');
SELECT is_empty($$SELECT 1 FROM care.case_history h
    WHERE h.detail::text ~
        '(Ana|Teststraat|test narrative|1994-03-02|0000 0000|PV-2024)'$$,
    'no personal data in any history detail');

-- Issue 16: care.case_json is one statement now (sql/api/30_cases_read.sql);
-- its text is the one 0017's body wrote, for every case here (history
-- of several entries, transferred, national desk, sealed values).
CREATE FUNCTION pg_temp.case_json_0017(p_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v jsonb;
BEGIN
	SELECT pg_catalog.jsonb_build_object(
	    'case', i.item || pg_catalog.jsonb_build_object(
	        'signal_id', c.signal_id,
	        'rule_id', c.rule_id,
	        'ruleset_version', c.ruleset_version,
	        'explanation', c.explanation,
	        'escalated_at', api.rfc3339(c.escalated_at),
	        'updated_at', api.rfc3339(c.updated_at)),
	    'signal', pg_catalog.jsonb_build_object(
	        'signal_id', s.id,
	        'received_at', api.rfc3339(s.received_at),
	        'observed_at', api.rfc3339(s.observed_at),
	        'reporter', pg_catalog.jsonb_build_object('agency', ra.name,
	            'kind', ra.kind),
	        'reporter_reference', s.reporter_reference,
	        'municipality_code', s.municipality_code,
	        'routed_region', s.region_code,
	        'minor', s.minor,
	        'age_estimate', s.age_estimate,
	        'gender', s.gender,
	        'nationality', s.nationality,
	        'languages', pg_catalog.to_jsonb(s.languages),
	        'exploitation', pg_catalog.to_jsonb(s.exploitation),
	        'control_means', pg_catalog.to_jsonb(s.control_means),
	        'immediate_danger', s.immediate_danger,
	        'needs_shelter', s.needs_shelter,
	        'consent', s.consent),
	    'subject', pg_catalog.jsonb_build_object(
	        'given_name', sub.given_name,
	        'family_name', sub.family_name,
	        'birth_date', sub.birth_date,
	        'phone', sub.phone,
	        'address', sub.address,
	        'narrative', sub.narrative),
	    'history', COALESCE((SELECT pg_catalog.jsonb_agg(
	        pg_catalog.jsonb_build_object('at', api.rfc3339(h.at),
	            'action', h.action, 'by', h.api_key_id,
	            'detail', h.detail) ORDER BY h.id DESC)
	        FROM care.case_history h WHERE h.case_id = c.id),
	        '[]'::jsonb),
	    'version', c.version,
	    'sealed', CASE WHEN s.data_key_id IS NOT NULL THEN
	        pg_catalog.jsonb_build_object(
	        'data_key', care.data_key_json(s.data_key_id),
	        'fields', COALESCE((SELECT pg_catalog.jsonb_agg(v.f)
	            FROM (VALUES
	            (care.sealed_field('signal.reporter_reference',
	                'intake.signal/reporter_reference', s.id,
	                s.reporter_reference_ct)),
	            (care.sealed_field('subject.given_name',
	                'care.subject/given_name', s.id, sub.given_name_ct)),
	            (care.sealed_field('subject.family_name',
	                'care.subject/family_name', s.id,
	                sub.family_name_ct)),
	            (care.sealed_field('subject.birth_date',
	                'care.subject/birth_date', s.id, sub.birth_date_ct)),
	            (care.sealed_field('subject.phone',
	                'care.subject/phone', s.id, sub.phone_ct)),
	            (care.sealed_field('subject.address',
	                'care.subject/address', s.id, sub.address_ct)),
	            (care.sealed_field('subject.narrative',
	                'care.subject/narrative', s.id, sub.narrative_ct)))
	            v(f) WHERE v.f IS NOT NULL), '[]'::jsonb))
	        END)
	INTO v
	FROM care.case c
	JOIN care.case_item i ON i.id = c.id
	JOIN intake.signal s ON s.id = c.signal_id
	JOIN auth.agency ra ON ra.id = s.agency_id
	LEFT JOIN care.subject sub ON sub.signal_id = c.signal_id
	WHERE c.id = p_id;
	-- a case stored before 0017 answers as it did
	IF v->'sealed' = 'null'::jsonb THEN
		v := v - 'sealed';
	END IF;
	RETURN v;
END
$$;
SELECT ok((SELECT count(*) FROM care.case c
    JOIN care.case_history h ON h.case_id = c.id) >= 6
    AND (SELECT count(*) FROM care.case) >= 2,
    'cases with histories to compare');
SELECT is_empty($$SELECT c.id FROM care.case c
    WHERE care.case_json(c.id) IS DISTINCT FROM
        pg_temp.case_json_0017(c.id)$$,
    'care.case_json writes what 0017''s body wrote, for every case');

SELECT * FROM finish();
ROLLBACK;
