-- 40_own_signal.sql - the reporter's view of its own signal
-- (sql/api/20_intake.sql): intake.own_signal, the signal with its case
-- when the given agency submitted it (no row otherwise), and
-- intake.receipt_json, the receipt the intake's 201, GET /v1/signals/{id}
-- and each item of GET /v1/signals answer.  Called as nrm_reporter, the
-- role the reporter's doors run as.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(6);
\ir fixtures.psql

-- intake.own_signal(p_signal, p_agency) as nrm_reporter, as jsonb rows.
CREATE FUNCTION pg_temp.own(p_signal uuid, p_agency uuid) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_reporter', format('SELECT '
	    'coalesce(jsonb_agg(to_jsonb(s)), ''[]'') FROM '
	    'intake.own_signal(%L::uuid, %L::uuid) s', p_signal, p_agency))
$$;

SELECT pg_temp.named_case('R') \g /dev/null
CREATE TEMP TABLE sig AS SELECT c.signal_id AS id, c.id AS case_id,
    c.priority FROM care.case c WHERE c.id = pg_temp.cid('R');
CREATE TEMP TABLE note AS SELECT (pg_temp.intake_as('nrm_app',
    'tok-reporter', 'req-os-n', NULL, 'n', pg_temp.facts_notification(),
    NULL, pg_temp.route('{}'))->'body'->>'signal_id')::uuid AS id;

SELECT is(((SELECT pg_temp.own(sig.id,
    'a0000000-0000-4000-8000-000000000001') FROM sig)->0)
    - ARRAY['received_at', 'region_code', 'rule_id', 'reference'],
    (SELECT jsonb_build_object('id', sig.id, 'case_id', sig.case_id,
        'priority', sig.priority, 'notification_only', false) FROM sig),
    'own_signal: the agency''s signal, with its case');
SELECT is((SELECT pg_temp.own(sig.id, 'a0000000-0000-4000-8000-000000000002')
    FROM sig), '[]'::jsonb, 'another agency: no row');
SELECT is(pg_temp.own('de000000-0000-4000-8000-000000000009',
    'a0000000-0000-4000-8000-000000000001'), '[]'::jsonb,
    'an unknown id: no row');
SELECT is(((SELECT pg_temp.own(note.id,
    'a0000000-0000-4000-8000-000000000001') FROM note)->0)
    - ARRAY['id', 'received_at', 'region_code', 'rule_id', 'reference'],
    '{"case_id": null, "priority": null, "notification_only": true}'::jsonb,
    'an anonymous notification: the signal, no case');

SELECT is(pg_temp.api_as('nrm_reporter', format('SELECT '
    'intake.receipt_json(s.id, s.case_id, s.region_code, s.priority, '
    's.rule_id, s.received_at, s.notification_only, s.reference) FROM '
    'intake.own_signal(%L::uuid, %L::uuid) s', sig.id,
    'a0000000-0000-4000-8000-000000000001')),
    pg_temp.receipt_as('nrm_app', 'tok-reporter', 'req-os-r', sig.id)
        ->'body', 'receipt_json: the body GET /v1/signals/{id} answers')
FROM sig;
SELECT is(pg_temp.api_as('nrm_reporter', 'SELECT intake.receipt_json('
    '''de000000-0000-4000-8000-000000000001'', NULL, ''VR13'', NULL, '
    '''r-1'', ''2026-01-02 03:04:05.678+00'', true, ''ABCD-EFGH-J'')'),
    '{"signal_id": "de000000-0000-4000-8000-000000000001", "case_id": null,
      "region": "VR13", "priority": null, "rule_id": "r-1",
      "received_at": "2026-01-02T03:04:05Z", "notification_only": true,
      "reference": "ABCD-EFGH-J"}'::jsonb,
    'the receipt''s members, received_at in RFC 3339 UTC seconds');

SELECT * FROM finish();
ROLLBACK;
