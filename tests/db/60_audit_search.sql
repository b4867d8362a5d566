-- 60_audit_search.sql - api.audit_search (GET /v1/audit): auditors only,
-- every filter, newest first, keyset paging without repeats or gaps,
-- 400 on each bad argument (audited), and the search audits itself.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(47);
\ir fixtures.psql

-- Seven events of this test (request ids req-s-1..7), at fixed times
-- in 2030 so no other event falls in their window.
INSERT INTO audit.event (at, api_key_id, agency_id, role, action,
    object_type, object_id, purpose, outcome, reason, request_id,
    client_addr)
VALUES
    ('2030-01-01 10:00Z', 'b0000000-0000-4000-8000-000000000003',
        'a0000000-0000-4000-8000-000000000003', 'coordinator', 'case.read',
        'case', 'case-a', 'care', 'allowed', NULL, 'req-s-1', '192.0.2.1'),
    ('2030-01-01 11:00Z', 'b0000000-0000-4000-8000-000000000003',
        'a0000000-0000-4000-8000-000000000003', 'coordinator', 'case.read',
        'case', 'case-b', 'emergency', 'allowed', NULL, 'req-s-2',
        '192.0.2.1'),
    ('2030-01-01 12:00Z', 'b0000000-0000-4000-8000-000000000008',
        'a0000000-0000-4000-8000-000000000005', 'assessor', 'case.read',
        'case', 'case-a', 'identification', 'allowed', NULL, 'req-s-3',
        '2001:db8::1'),
    ('2030-01-01 13:00Z', 'b0000000-0000-4000-8000-000000000006',
        'a0000000-0000-4000-8000-000000000003', 'coordinator', 'case.read',
        'case', 'case-a', 'care', 'denied', 'out_of_scope', 'req-s-4',
        NULL),
    ('2030-01-01 14:00Z', 'b0000000-0000-4000-8000-000000000003',
        'a0000000-0000-4000-8000-000000000003', 'coordinator', 'case.take',
        'case', 'case-a', 'care', 'allowed', NULL, 'req-s-5', NULL),
    ('2030-01-01 15:00Z', NULL, NULL, NULL, 'case.escalate', 'case',
        'case-b', 'care', 'allowed', NULL, 'req-s-6', NULL),
    ('2030-01-01 16:00Z', 'b0000000-0000-4000-8000-000000000001',
        'a0000000-0000-4000-8000-000000000001', 'reporter', 'signal.create',
        'signal', 'sig-1', 'intake', 'failed', 'unknown_municipality',
        'req-s-7', NULL);
SELECT pg_temp.audit_seal() \g /dev/null

-- The request ids of a result, in order.
CREATE FUNCTION pg_temp.rids(p jsonb) RETURNS text[]
LANGUAGE sql AS $$
	SELECT pg_temp.item_field(p, 'request_id')
$$;
CREATE FUNCTION pg_temp.win(p jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT '{"from": "2030-01-01T00:00:00Z", "to": "2030-01-02T00:00:00Z"}'
	    ::jsonb || p
$$;

-- ---------------------------------------------------------------------
-- Filters.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.rids(pg_temp.audit_search(pg_temp.win())),
    ARRAY['req-s-7', 'req-s-6', 'req-s-5', 'req-s-4', 'req-s-3', 'req-s-2',
        'req-s-1'], 'time window: all seven, newest first');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'search restores the caller''s role');
SELECT is(pg_temp.rids(pg_temp.audit_search(pg_temp.win(
    '{"principal": "b0000000-0000-4000-8000-000000000003"}'))),
    ARRAY['req-s-5', 'req-s-2', 'req-s-1'], 'principal (API key id)');
SELECT is(pg_temp.rids(pg_temp.audit_search(pg_temp.win(
    '{"agency": "a0000000-0000-4000-8000-000000000003"}'))),
    ARRAY['req-s-5', 'req-s-4', 'req-s-2', 'req-s-1'], 'agency');
SELECT is(pg_temp.rids(pg_temp.audit_search(pg_temp.win(
    '{"object_type": "case", "object_id": "case-a"}'))),
    ARRAY['req-s-5', 'req-s-4', 'req-s-3', 'req-s-1'],
    'object (who touched case-a)');
SELECT is(pg_temp.rids(pg_temp.audit_search(pg_temp.win(
    '{"object_type": "signal"}'))), ARRAY['req-s-7'], 'object type');
SELECT is(pg_temp.rids(pg_temp.audit_search(pg_temp.win(
    '{"action": "case.read"}'))),
    ARRAY['req-s-4', 'req-s-3', 'req-s-2', 'req-s-1'], 'action');
SELECT is(pg_temp.rids(pg_temp.audit_search(pg_temp.win(
    '{"purpose": "emergency"}'))), ARRAY['req-s-2'],
    'purpose (break-glass reads for review)');
SELECT is(pg_temp.rids(pg_temp.audit_search(pg_temp.win(
    '{"outcome": "denied"}'))), ARRAY['req-s-4'], 'outcome denied');
SELECT is(pg_temp.rids(pg_temp.audit_search(pg_temp.win(
    '{"outcome": "failed"}'))), ARRAY['req-s-7'], 'outcome failed');
SELECT is(pg_temp.rids(pg_temp.audit_search(
    '{"from": "2030-01-01T12:00:00Z", "to": "2030-01-01T14:00:00Z"}')),
    ARRAY['req-s-4', 'req-s-3'], 'from inclusive, to exclusive');
SELECT is(pg_temp.rids(pg_temp.audit_search(
    '{"from": "2030-01-01T13:00:00+01:00", "to": "2030-01-01T14:00:00+01:00"}')),
    ARRAY['req-s-3'], 'times with an offset (12:00Z to 13:00Z)');
SELECT is(pg_temp.rids(pg_temp.audit_search(pg_temp.win(
    '{"action": "case.read", "outcome": "allowed", "object_id": "case-a"}'))),
    ARRAY['req-s-3', 'req-s-1'], 'filters combine with AND');
SELECT is(pg_temp.rids(pg_temp.audit_search(pg_temp.win(
    '{"principal": "b0000000-0000-4000-8000-0000000000ff"}'))), '{}',
    'an unknown principal: empty, not an error');

-- Items: every column, times with microseconds, the chain position.
SELECT is((SELECT x FROM jsonb_array_elements(pg_temp.audit_search(
    pg_temp.win('{"purpose": "identification"}'))->'body'->'items') x),
    jsonb_build_object('id', (SELECT id FROM audit.event
        WHERE request_id = 'req-s-3'),
        'at', '2030-01-01T12:00:00.000000Z',
        'api_key_id', 'b0000000-0000-4000-8000-000000000008',
        'agency_id', 'a0000000-0000-4000-8000-000000000005',
        'role', 'assessor', 'action', 'case.read', 'object_type', 'case',
        'object_id', 'case-a', 'purpose', 'identification',
        'outcome', 'allowed', 'reason', NULL, 'request_id', 'req-s-3',
        'client_addr', '2001:db8::1', 'person_id', NULL,
        'pos', (SELECT c.pos FROM audit.chain c JOIN audit.event e
            ON e.id = c.event_id WHERE e.request_id = 'req-s-3')),
    'an item holds every event column and its chain position');

-- ---------------------------------------------------------------------
-- Paging: limit 3 over seven, no repeats, no gaps, then the end.
-- ---------------------------------------------------------------------
CREATE TEMP TABLE pg (n int, v jsonb);
INSERT INTO pg SELECT 1, pg_temp.audit_search(pg_temp.win(), NULL, 3);
INSERT INTO pg SELECT 2, pg_temp.audit_search(pg_temp.win(),
    (SELECT (v->'body'->>'next_after')::bigint FROM pg WHERE n = 1), 3);
INSERT INTO pg SELECT 3, pg_temp.audit_search(pg_temp.win(),
    (SELECT (v->'body'->>'next_after')::bigint FROM pg WHERE n = 2), 3);
SELECT is((SELECT array_agg(r ORDER BY n, o) FROM pg,
    unnest(pg_temp.rids(v)) WITH ORDINALITY u(r, o)),
    ARRAY['req-s-7', 'req-s-6', 'req-s-5', 'req-s-4', 'req-s-3', 'req-s-2',
        'req-s-1'], 'three pages: every event once, in order');
SELECT is((SELECT v->'body'->'next_after' FROM pg WHERE n = 1),
    (SELECT to_jsonb(id) FROM audit.event WHERE request_id = 'req-s-5'),
    'next_after is the id of the page''s last item');
SELECT is((SELECT v->'body'->'next_after' FROM pg WHERE n = 3), 'null',
    'the last page says so (next_after null)');
SELECT is(pg_temp.audit_search(pg_temp.win(), NULL, 7)->'body'->'next_after',
    'null', 'a page exactly as long as the result: no next page');
-- Events arriving while paging do not disturb the pages after the first.
INSERT INTO audit.event (at, action, outcome, request_id) VALUES
    ('2030-01-01 17:00Z', 'case.read', 'allowed', 'req-s-8');
SELECT is(pg_temp.rids(pg_temp.audit_search(pg_temp.win(),
    (SELECT (v->'body'->>'next_after')::bigint FROM pg WHERE n = 1), 3)),
    ARRAY['req-s-4', 'req-s-3', 'req-s-2'],
    'a newer event does not shift a later page');

-- ---------------------------------------------------------------------
-- The search is audited; it does not see its own event.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.audit_search(pg_temp.win(), NULL, 50, 'tok-auditor',
    'req-search-own')->'status', '200', 'a search');
SELECT results_eq($$SELECT api_key_id, agency_id, role, action, object_type,
    object_id, purpose, outcome, reason FROM audit.event
    WHERE request_id = 'req-search-own'$$,
    $$VALUES ('b0000000-0000-4000-8000-000000000010'::uuid,
        'a0000000-0000-4000-8000-000000000006'::uuid, 'auditor'::text,
        'audit.search'::text, 'audit'::text, NULL::text, 'audit'::text,
        'allowed'::text, NULL::text)$$,
    'one audit.search event, by the auditor, purpose audit');
SELECT is(pg_temp.rids(pg_temp.audit_search('{"action": "audit.search"}',
    NULL, 1, 'tok-auditor', 'req-search-next')),
    ARRAY['req-search-own'],
    'the next search finds the previous one, not itself');

-- ---------------------------------------------------------------------
-- Refusals.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.audit_search(NULL, NULL, 50, r, 'req-search-' || r)
    ->'status', '403', r || ' may not search the audit log')
FROM unnest(ARRAY['tok-coordinator', 'tok-reporter', 'tok-assessor',
    'tok-analyst']) r;
SELECT is((SELECT count(*)::int FROM audit.event
    WHERE request_id LIKE 'req-search-tok-%' AND action = 'audit.search'
      AND outcome = 'denied' AND reason = 'role_not_permitted'), 4,
    '... each denial audited');
SELECT is(pg_temp.audit_search(NULL, NULL, 50, 'tok-nobody')->'status',
    '401', 'unknown token: 401');

SELECT is(pg_temp.audit_search(f, a, l, 'tok-auditor', 'req-search-bad')
    ->'problem'->>'field', field, 'bad ' || what || ': 400 on ' || field)
FROM (VALUES
    ('[]'::jsonb, NULL::bigint, 50, 'filters', 'filters not an object'),
    ('{"name": "Ana"}', NULL, 50, 'filters', 'an unknown filter'),
    ('{"principal": "Ana"}', NULL, 50, 'principal', 'principal'),
    ('{"agency": 5}', NULL, 50, 'agency', 'agency (a number)'),
    ('{"object_type": "Case"}', NULL, 50, 'object_type', 'object type'),
    ('{"object_id": ""}', NULL, 50, 'object_id', 'object id'),
    ('{"action": "read"}', NULL, 50, 'action', 'action'),
    ('{"purpose": "curiosity"}', NULL, 50, 'purpose', 'purpose'),
    ('{"outcome": "maybe"}', NULL, 50, 'outcome', 'outcome'),
    ('{"from": "2030-02-30T00:00:00Z"}', NULL, 50, 'from', 'from (no such day)'),
    ('{"to": "yesterday"}', NULL, 50, 'to', 'to'),
    ('{"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"}', NULL,
        50, 'to', 'range (to before from)'),
    (NULL, -1, 50, 'after', 'after'),
    (NULL, NULL, 0, 'limit', 'limit 0'),
    (NULL, NULL, 201, 'limit', 'limit 201')) AS t(f, a, l, field, what);
SELECT is((SELECT count(*)::int FROM audit.event
    WHERE request_id = 'req-search-bad' AND outcome = 'failed'
      AND reason = 'bad_request' AND action = 'audit.search'), 15,
    'every bad search is audited (failed, bad_request)');
SELECT is(pg_temp.audit_search('{"purpose": "curiosity"}'),
    '{"status": 400, "problem": {"code": "bad_request",
      "detail": "purpose must be one of: care, intake, identification, investigation, audit, monitoring, emergency, nrmctl, data_protection",
      "field": "purpose"}}', 'a 400 names the field and what is expected');
SELECT is_empty($$SELECT 1 FROM audit.event WHERE request_id
    = 'req-search-bad' AND concat_ws('|', object_id, reason) ~ 'Ana'$$,
    'a refused filter value is never written anywhere');

SELECT * FROM finish();
ROLLBACK;
