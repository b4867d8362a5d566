-- 40_api.sql - api.intake and api.signal_receipt, called as nrmd does
-- (as nrm_app, token and body hashed), per docs/sql-api.md.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(74);
\ir fixtures.psql


-- ---------------------------------------------------------------------
-- Happy path: a signal with consent becomes signal + subject + case.
-- ---------------------------------------------------------------------
INSERT INTO r SELECT 'first', pg_temp.intake_as('nrm_app', 'tok-reporter',
    'req-1', 'idem-1', 'body-1', pg_temp.facts(), pg_temp.subject(),
    pg_temp.route());

SELECT is((SELECT v->'status' FROM r WHERE name = 'first'), '201',
    'intake: 201');
SELECT is((SELECT (SELECT array_agg(k ORDER BY k)
    FROM jsonb_object_keys(v->'body') k) FROM r WHERE name = 'first'),
    ARRAY['case_id', 'notification_only', 'priority', 'received_at',
        'reference', 'region', 'rule_id', 'signal_id'],
    'intake: the receipt has exactly the documented keys');
SELECT is((SELECT v->>'location' FROM r WHERE name = 'first'),
    (SELECT '/v1/signals/' || (v->'body'->>'signal_id') FROM r
        WHERE name = 'first'), 'intake: location is /v1/signals/<id>');
SELECT is((SELECT v->'body'->>'region' FROM r WHERE name = 'first'), 'VR13',
    'intake: routed to the region of the decision');
SELECT is((SELECT v->'body'->>'priority' FROM r WHERE name = 'first'),
    'urgent', 'intake: priority of the decision');
SELECT is((SELECT v->'body'->>'rule_id' FROM r WHERE name = 'first'),
    'municipality', 'intake: the rule that decided');
SELECT is((SELECT v->'body'->'notification_only' FROM r WHERE name = 'first'),
    'false', 'intake: not a notification');
SELECT ok((SELECT v->'body'->>'received_at' FROM r WHERE name = 'first')
    ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$',
    'intake: received_at is RFC 3339 UTC');
SELECT is((SELECT (v->'body'->>'received_at')::timestamptz FROM r
    WHERE name = 'first'), date_trunc('second', now()),
    'intake: received_at is the transaction time');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'the caller''s role (nrm_app) is restored when api.intake returns');
SELECT is(current_user::text, 'postgres',
    'and the test''s own role is intact');

CREATE TEMP VIEW first_ids AS
SELECT (v->'body'->>'signal_id')::uuid AS signal_id,
    (v->'body'->>'case_id')::uuid AS case_id FROM r WHERE name = 'first';

SELECT results_eq($$SELECT agency_id, api_key_id, municipality_code,
    region_code, exploitation, control_means, languages, consent,
    notification_only, request_id FROM intake.signal
    WHERE id = (SELECT signal_id FROM first_ids)$$,
    $$VALUES ('a0000000-0000-4000-8000-000000000001'::uuid,
    'b0000000-0000-4000-8000-000000000001'::uuid, 'GM0363'::text,
    'VR13'::text, '{sexual}'::text[], '{debt_bondage}'::text[],
    '{ro,en}'::text[], 'given'::text, false, 'req-1'::text)$$,
    'intake: the signal row holds the facts and the principal');
-- 0017: the personal data stored sealed, as nrmd sent them; the
-- plaintext columns empty
SELECT results_eq($$SELECT given_name_ct, family_name_ct, birth_date_ct,
    narrative_ct, octet_length(pseudonym),
    num_nonnulls(given_name, family_name, birth_date, phone, address,
        narrative)
    FROM care.subject
    WHERE signal_id = (SELECT signal_id FROM first_ids)$$,
    $$VALUES (pg_temp.sealed_bytes('Ana'), pg_temp.sealed_bytes('Test'),
    pg_temp.sealed_bytes('1994-03-02'),
    pg_temp.sealed_bytes('test narrative'), 32, 0)$$,
    'intake: the subject row holds the sealed personal data and pseudonym');
SELECT results_eq($$SELECT id, region_code, priority, state, holder_key_id,
    version, rule_id, ruleset_version FROM care.case
    WHERE signal_id = (SELECT signal_id FROM first_ids)$$,
    $$SELECT case_id, 'VR13'::text, 'urgent'::text, 'open'::text,
    NULL::uuid, 1, 'municipality'::text, 'sha256:0123abcd'::text
    FROM first_ids$$,
    'intake: an open, unheld case at version 1 with the decision');
SELECT is((SELECT c.take_by - s.received_at FROM care.case c
    JOIN intake.signal s ON s.id = c.signal_id
    WHERE c.id = (SELECT case_id FROM first_ids)), interval '3600 seconds',
    'intake: take_by = received_at + take_within');
SELECT is((SELECT c.first_contact_by - s.received_at FROM care.case c
    JOIN intake.signal s ON s.id = c.signal_id
    WHERE c.id = (SELECT case_id FROM first_ids)), interval '86400 seconds',
    'intake: first_contact_by = received_at + first_contact_within');
SELECT results_eq($$SELECT action, api_key_id, detail->>'region'
    FROM care.case_history WHERE case_id = (SELECT case_id FROM first_ids)$$,
    $$VALUES ('routed'::text, 'b0000000-0000-4000-8000-000000000001'::uuid,
    'VR13'::text)$$, 'intake: one routed history row');
SELECT results_eq($$SELECT api_key_id, agency_id, role, object_type,
    outcome, request_id, client_addr FROM audit.event
    WHERE action = 'signal.create'
      AND object_id = (SELECT signal_id::text FROM first_ids)$$,
    $$VALUES ('b0000000-0000-4000-8000-000000000001'::uuid,
    'a0000000-0000-4000-8000-000000000001'::uuid, 'reporter'::text,
    'signal'::text, 'allowed'::text, 'req-1'::text, '192.0.2.10'::inet)$$,
    'intake: audited signal.create, allowed, with principal and request');
SELECT is((SELECT response FROM intake.idempotency
    WHERE api_key_id = 'b0000000-0000-4000-8000-000000000001'
      AND idem_key = 'idem-1'), (SELECT v FROM r WHERE name = 'first'),
    'intake: the answer is stored for the idempotency key');
SELECT is((SELECT request_hash FROM intake.idempotency
    WHERE idem_key = 'idem-1'), sha256('body-1'),
    'intake: with the request hash');
SELECT is_empty($$SELECT 1 FROM audit.event
    WHERE coalesce(object_id, '') ~ 'Ana|Test|narrative'
       OR coalesce(purpose, '') ~ 'Ana|Test|narrative'$$,
    'intake: no personal data in the audit log');

-- ---------------------------------------------------------------------
-- Idempotent replay and mismatch.
-- ---------------------------------------------------------------------
INSERT INTO r SELECT 'replay', pg_temp.intake_as('nrm_app', 'tok-reporter',
    'req-2', 'idem-1', 'body-1', pg_temp.facts(), pg_temp.subject(),
    pg_temp.route());
SELECT is((SELECT v::text FROM r WHERE name = 'replay'),
    (SELECT v::text FROM r WHERE name = 'first'),
    'replay: the stored answer, byte for byte');
SELECT is((SELECT count(*)::int FROM intake.signal), 1,
    'replay: no second signal');
SELECT is((SELECT count(*)::int FROM care.case), 1, 'replay: no second case');
SELECT is((SELECT count(*)::int FROM audit.event WHERE action = 'signal.replay'
    AND outcome = 'allowed' AND request_id = 'req-2'
    AND object_id = (SELECT signal_id::text FROM first_ids)), 1,
    'replay: audited signal.replay');

INSERT INTO r SELECT 'mismatch', pg_temp.intake_as('nrm_app',
    'tok-reporter', 'req-3', 'idem-1', 'body-2', pg_temp.facts(),
    pg_temp.subject(), pg_temp.route());
SELECT is((SELECT v FROM r WHERE name = 'mismatch'),
    '{"status": 422, "problem": {"code": "idempotency",
      "field": "Idempotency-Key",
      "detail": "this Idempotency-Key was used with a different request"}}',
    'mismatch: 422 idempotency on Idempotency-Key');
SELECT is((SELECT count(*)::int FROM intake.signal), 1,
    'mismatch: nothing stored');
SELECT is((SELECT reason FROM audit.event WHERE request_id = 'req-3'),
    'idempotency_mismatch', 'mismatch: audited as failed');

-- The same key of ANOTHER principal is another request.
INSERT INTO r SELECT 'other_key', pg_temp.intake_as('nrm_app',
    'tok-reporter-ngo', 'req-4', 'idem-1', 'body-2', pg_temp.facts(),
    pg_temp.subject(), pg_temp.route());
SELECT is((SELECT v->'status' FROM r WHERE name = 'other_key'), '201',
    'idempotency keys are scoped to the API key');

-- A request in flight: another session holds the key's lock.
SELECT dblink_connect('other', format('dbname=%s user=postgres host=%s '
    'port=%s', current_database(),
    split_part(current_setting('unix_socket_directories'), ',', 1),
    current_setting('port')));
SELECT dblink_exec('other', 'BEGIN');
SELECT * FROM dblink('other', format('SELECT pg_advisory_xact_lock(%s)::text',
    api.idempotency_lock_key('b0000000-0000-4000-8000-000000000001',
        'idem-busy'))) AS t(x text);
INSERT INTO r SELECT 'busy', pg_temp.intake_as('nrm_app', 'tok-reporter',
    'req-5', 'idem-busy', 'body-5', pg_temp.facts(), pg_temp.subject(),
    pg_temp.route());
SELECT is((SELECT v FROM r WHERE name = 'busy'),
    '{"status": 409, "problem": {"code": "retry_later",
      "field": "Idempotency-Key",
      "detail": "a request with this key is in flight; retry it after '
      'Retry-After seconds for its outcome"}}',
    'in flight: 409 retry_later on Idempotency-Key (issue 21: retryable)');
SELECT is((SELECT reason FROM audit.event WHERE request_id = 'req-5'),
    'idempotency_in_flight', 'in flight: audited as failed');
SELECT dblink_exec('other', 'ROLLBACK');
SELECT dblink_disconnect('other');
INSERT INTO r SELECT 'after_busy', pg_temp.intake_as('nrm_app',
    'tok-reporter', 'req-6', 'idem-busy', 'body-5', pg_temp.facts(),
    pg_temp.subject(), pg_temp.route());
SELECT is((SELECT v->'status' FROM r WHERE name = 'after_busy'), '201',
    'in flight: once the other request is gone, the key works (409 '
    'stored nothing)');

-- ---------------------------------------------------------------------
-- Notifications: adult without consent -> no subject, no case.
-- ---------------------------------------------------------------------
INSERT INTO r SELECT 'notification', pg_temp.intake_as('nrm_app',
    'tok-reporter', 'req-7', 'idem-7', 'body-7',
    pg_temp.facts_notification(), NULL, pg_temp.route());
SELECT is((SELECT v->'status' FROM r WHERE name = 'notification'), '201',
    'notification: 201');
SELECT is((SELECT v->'body'->'case_id' FROM r WHERE name = 'notification'),
    'null', 'notification: case_id null');
SELECT is((SELECT v->'body'->'priority' FROM r WHERE name = 'notification'),
    'null', 'notification: priority null');
SELECT is((SELECT v->'body'->'notification_only' FROM r
    WHERE name = 'notification'), 'true', 'notification: flagged');
SELECT is((SELECT v->'body'->>'region' FROM r WHERE name = 'notification'),
    'VR13', 'notification: still counted in its region');
SELECT ok(EXISTS (SELECT 1 FROM intake.signal
    WHERE id = (SELECT (v->'body'->>'signal_id')::uuid FROM r
        WHERE name = 'notification') AND notification_only
      AND region_code = 'VR13'), 'notification: the signal is stored');
SELECT is_empty($$SELECT 1 FROM care.subject WHERE signal_id =
    (SELECT (v->'body'->>'signal_id')::uuid FROM r
        WHERE name = 'notification')$$, 'notification: no subject kept');
SELECT is_empty($$SELECT 1 FROM care.case WHERE signal_id =
    (SELECT (v->'body'->>'signal_id')::uuid FROM r
        WHERE name = 'notification')$$, 'notification: no case');
SELECT is((pg_temp.intake_as('nrm_app', 'tok-reporter', 'req-8', NULL,
    'body-8', pg_temp.facts_notification(), 'null', pg_temp.route())
    ->'status'), '201', 'notification: JSON null subject also accepted');
SELECT throws_ok($$SELECT pg_temp.intake_as('nrm_app', 'tok-reporter',
    'req-9', NULL, 'b', pg_temp.facts_notification(), pg_temp.subject(),
    pg_temp.route())$$, '22023', NULL,
    'a notification with a subject is refused (personal data never kept)');
SELECT throws_ok($$SELECT pg_temp.intake_as('nrm_app', 'tok-reporter',
    'req-10', NULL, 'b', pg_temp.facts(), NULL, pg_temp.route())$$, '22023',
    NULL, 'a case without a subject is refused (daemon bug, not input)');

-- A minor never needs consent: always a case.
INSERT INTO r SELECT 'minor', pg_temp.intake_as('nrm_app', 'tok-reporter',
    'req-11', 'idem-11', 'body-11', pg_temp.facts('{"minor": true,
    "age_estimate": 15, "consent": "not_required_minor"}'),
    pg_temp.subject(), pg_temp.route('{"priority": "high"}'));
SELECT ok((SELECT v->'body'->>'case_id' IS NOT NULL
    AND v->'body'->>'priority' = 'high' FROM r WHERE name = 'minor'),
    'minor: a case, whatever the consent');

-- No idempotency key: works, stores no idempotency row.
SELECT is((pg_temp.intake_as('nrm_app', 'tok-reporter', 'req-12', NULL,
    'body-12', pg_temp.facts(), pg_temp.subject(), pg_temp.route())
    ->'status'), '201', 'no Idempotency-Key: 201');
SELECT is((SELECT count(*)::int FROM intake.idempotency
    WHERE api_key_id = 'b0000000-0000-4000-8000-000000000001'), 4,
    'no Idempotency-Key: no idempotency row');
SELECT is((pg_temp.intake_as('nrm_app', 'tok-reporter', 'req-13',
    repeat('k', 201), 'body-13', pg_temp.facts(), pg_temp.subject(),
    pg_temp.route())->'problem'->>'field'), 'Idempotency-Key',
    'an over-long Idempotency-Key is a 400 on that header');

-- National desk routing (no municipality).
SELECT is((pg_temp.intake_as('nrm_app', 'tok-reporter', 'req-14', NULL,
    'body-14', pg_temp.facts('{"municipality_code": null}'),
    pg_temp.subject(), pg_temp.route('{"region": "NATIONAL",
    "rule_id": "fallback"}'))->'body'->>'region'), 'NATIONAL',
    'unknown location: routed to the national desk');

-- ---------------------------------------------------------------------
-- Refusals: unknown municipality, revoked key, unknown token, wrong role.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.intake_as('nrm_app', 'tok-reporter', 'req-20', 'idem-20',
    'body-20', pg_temp.facts('{"municipality_code": "GM9999"}'),
    pg_temp.subject(), pg_temp.route()),
    '{"status": 422, "problem": {"code": "validation",
      "field": "location.municipality_code",
      "detail": "unknown municipality code"}}',
    'unknown municipality: 422 validation on location.municipality_code');
SELECT is_empty($$SELECT 1 FROM intake.signal
    WHERE municipality_code = 'GM9999'$$,
    'unknown municipality: nothing stored');
SELECT is_empty($$SELECT 1 FROM intake.idempotency
    WHERE idem_key = 'idem-20'$$,
    'unknown municipality: the refusal is not stored for replay');
SELECT throws_ok($$INSERT INTO intake.signal (observed_at, agency_id,
    api_key_id, municipality_code, region_code, rule_id, ruleset_version,
    minor, exploitation, immediate_danger, needs_shelter, consent,
    notification_only) VALUES (now(),
    'a0000000-0000-4000-8000-000000000001',
    'b0000000-0000-4000-8000-000000000001', 'GM9999', 'VR13', 'r', 'v',
    false, '{labour}', false, false, 'given', false)$$, '23503', NULL,
    'unknown municipality: the foreign key refuses it in the table too');

-- Refused intakes: the token, request n (req-n, idem-n, body-n), the
-- answer, and the denial audited with the key and its agency and role
-- (key 'A/K': agency a...0A, key b...0K), or nulls for an unknown token.
CREATE TEMP TABLE refusal (what text, token text, n integer, answer jsonb,
    key text, role text, reason text);
INSERT INTO refusal VALUES
('revoked key', 'tok-revoked', 21,
    '{"status": 401, "problem": {"code": "unauthenticated",
      "detail": "missing, unknown or revoked API token"}}',
    '1/4', 'reporter', 'revoked_key'),
('unknown token', 'tok-nobody', 22,
    '{"status": 401, "problem": {"code": "unauthenticated",
      "detail": "missing, unknown or revoked API token"}}',
    NULL, NULL, 'unknown_token'),
('wrong role', 'tok-coordinator', 23,
    '{"status": 403, "problem": {"code": "forbidden",
      "detail": "this API role may not perform this action"}}',
    '3/3', 'coordinator', 'role_not_permitted');
SELECT is(pg_temp.intake_as('nrm_app', c.token, 'req-' || c.n,
    'idem-' || c.n, 'body-' || c.n, pg_temp.facts(), pg_temp.subject(),
    pg_temp.route()), c.answer, c.what || ': ' || (c.answer->>'status'))
FROM refusal c ORDER BY c.n;
SELECT results_eq(format($$SELECT api_key_id, agency_id, role, action,
    outcome, reason, client_addr FROM audit.event
    WHERE request_id = 'req-%s'$$, c.n),
    format($$VALUES (%L::uuid, %L::uuid, %L::text, 'signal.create'::text,
    'denied'::text, %L::text, '192.0.2.10'::inet)$$,
    'b0000000-0000-4000-8000-00000000000' || split_part(c.key, '/', 2),
    'a0000000-0000-4000-8000-00000000000' || split_part(c.key, '/', 1),
    c.role, c.reason),
    c.what || ': denial audited with ' || coalesce(c.role || '''s key',
    'a null key'))
FROM refusal c ORDER BY c.n;
SELECT is((SELECT count(*)::int FROM intake.signal
    WHERE request_id IN ('req-21', 'req-22', 'req-23')), 0,
    'refused requests store no signal');

-- ---------------------------------------------------------------------
-- The role switch inside the api functions really restricts.
-- ---------------------------------------------------------------------
-- Called by a SUPERUSER, api.intake still fails once the reporter role
-- loses a privilege it needs: the checks are made as nrm_reporter.
REVOKE INSERT ON care.case_history FROM nrm_reporter;
SELECT throws_ok($$SELECT api.intake(sha256('tok-reporter'), 'req-30',
    NULL, 'idem-30', sha256('b30'), pg_temp.facts(), pg_temp.subject(),
    NULL, pg_temp.route())$$, '42501', NULL,
    'a superuser caller acts as nrm_reporter after the switch');
GRANT INSERT ON care.case_history TO nrm_reporter;
SELECT is((api.intake(sha256('tok-reporter'), 'req-31', NULL, 'idem-31',
    sha256('b31'), pg_temp.facts(), pg_temp.subject(), NULL,
    pg_temp.route())->'status'), '201', '... and succeeds with the grant');
SELECT is(current_user::text, 'postgres',
    '... and the superuser is itself again afterwards');

-- A function shaped like the api functions (SET search_path, switch in
-- its body) cannot read care.subject as a reporter.
CREATE FUNCTION pg_temp.probe_subject() RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_prev text := current_setting('role');
	v text;
BEGIN
	PERFORM set_config('role', 'nrm_reporter', true);
	BEGIN
		PERFORM count(*) FROM care.subject;
		v := current_user || ' read care.subject';
	EXCEPTION WHEN insufficient_privilege THEN
		v := current_user || ' refused';
	END;
	PERFORM set_config('role', v_prev, true);
	RETURN v;
END
$$;
SELECT is(pg_temp.probe_subject(), 'nrm_reporter refused',
    'SET search_path does not stop set_config(role): reporter is refused');

-- ---------------------------------------------------------------------
-- api.signal_receipt
-- ---------------------------------------------------------------------
INSERT INTO r SELECT 'receipt', pg_temp.receipt_as('nrm_app', 'tok-reporter',
    'req-40', (SELECT signal_id FROM first_ids));
SELECT is((SELECT v->'status' FROM r WHERE name = 'receipt'), '200',
    'receipt: 200 for the own agency');
SELECT is((SELECT v->'body' FROM r WHERE name = 'receipt'),
    (SELECT v->'body' FROM r WHERE name = 'first'),
    'receipt: the same receipt as the intake answer');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'receipt: the caller''s role is restored on return');
SELECT is((SELECT outcome FROM audit.event WHERE request_id = 'req-40'
    AND action = 'signal.read_receipt'), 'allowed', 'receipt: audited');
SELECT is((pg_temp.receipt_as('nrm_app', 'tok-reporter', 'req-41',
    (SELECT (v->'body'->>'signal_id')::uuid FROM r
        WHERE name = 'notification'))->'body'->'case_id'), 'null',
    'receipt: of a notification has a null case');
SELECT is(pg_temp.receipt_as('nrm_app', 'tok-reporter-ngo', 'req-42',
    (SELECT signal_id FROM first_ids)),
    '{"status": 404, "problem": {"code": "not_found",
      "detail": "no signal with this id was submitted by your agency"}}',
    'receipt: 404 for another agency''s signal');
SELECT is((SELECT outcome || '/' || reason FROM audit.event
    WHERE request_id = 'req-42'), 'denied/out_of_scope',
    'receipt: the refusal is audited denied/out_of_scope (0007)');
SELECT is(pg_temp.receipt_as('nrm_app', 'tok-reporter', 'req-43',
    gen_random_uuid())->>'status', '404', 'receipt: 404 for an unknown id');
SELECT is((SELECT outcome || '/' || reason FROM audit.event
    WHERE request_id = 'req-43'), 'denied/not_found',
    'receipt: ... audited denied/not_found');
SELECT is(pg_temp.receipt_as('nrm_app', 'tok-coordinator', 'req-44',
    (SELECT signal_id FROM first_ids))->>'status', '403',
    'receipt: 403 for a coordinator');
SELECT is(pg_temp.receipt_as('nrm_app', 'tok-nobody', 'req-45',
    (SELECT signal_id FROM first_ids))->>'status', '401',
    'receipt: 401 for an unknown token');

SELECT * FROM finish();
ROLLBACK;
