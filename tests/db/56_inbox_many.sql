-- 56_inbox_many.sql - api.inbox_many (issue 16, the long-polls'
-- fan-out): each waiter authenticated and audited, one page per scope,
-- the page api.inbox gives each, a denial answered to its waiter only.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(24);
\ir fixtures.psql

DO $$
BEGIN
	PERFORM pg_temp.named_case('A', '{"priority": "urgent"}');
	PERFORM pg_temp.named_case('B', '{"priority": "high"}');
	PERFORM pg_temp.named_case('F', '{"region": "VR01"}');
END
$$;

-- Five waiters: two VR13 keys, one unknown token, the VR01 key, and
-- VR13's first key again (its second long-poll).
CREATE TEMP TABLE m AS SELECT pg_temp.a(format(
    'SELECT api.inbox_many(ARRAY[sha256(%L), sha256(%L), sha256(%L), '
    'sha256(%L), sha256(%L)], ARRAY[%L, %L, %L, %L, %L], '
    'ARRAY[%L, %L, %L, %L, %L]::inet[], array_fill(''1:1::0''::text, ARRAY[5]), '
    '%L, NULL, NULL, 50, false)',
    'tok-coordinator', 'tok-coordinator-2', 'tok-nobody',
    'tok-coordinator-vr01', 'tok-coordinator',
    'req-many-1', 'req-many-2', 'req-many-3', 'req-many-4', 'req-many-5',
    '192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5',
    'open')) AS v;

SELECT is((SELECT v->'of' FROM m), '[0, 0, 1, 2, 0]'::jsonb,
    'inbox_many: the VR13 waiters share one page, the others have theirs');
SELECT is((SELECT jsonb_array_length(v->'pages') FROM m), 3,
    'inbox_many: three pages for three scopes');
SELECT is((SELECT v->'pages'->0 FROM m),
    pg_temp.inbox('tok-coordinator-2', p_since => '1:1::0',
        p_request_id => 'req-single'),
    'inbox_many: the shared page is the one api.inbox gives');
SELECT is((SELECT (v->'pages'->1->>'status')::int FROM m), 401,
    'inbox_many: an unknown token gets its 401, not the page');
SELECT is((SELECT pg_temp.item_names(v->'pages'->2->'body'->'items')
    FROM m), ARRAY['F'], 'inbox_many: the VR01 waiter gets VR01''s page');
SELECT is((SELECT pg_temp.item_names(v->'pages'->0->'body'->'items')
    FROM m), ARRAY['A', 'B'],
    'inbox_many: the VR13 page holds the VR13 cases');

-- Every reader is audited as api.inbox audits one: one event each.
SELECT is(pg_temp.events(r), ARRAY['inbox.list/inbox/-/care/allowed/-'],
    'inbox_many: one allowed inbox.list event for ' || r)
FROM unnest(ARRAY['req-many-1', 'req-many-2', 'req-many-5']) r;
SELECT is(pg_temp.events('req-many-3'),
    ARRAY['inbox.list/inbox/-/-/denied/unknown_token'],
    'inbox_many: the unknown token''s denial is audited');
SELECT is((SELECT api_key_id::text || ' ' || host(client_addr)
    FROM audit.event WHERE request_id = 'req-many-2'),
    'b0000000-0000-4000-8000-000000000005 192.0.2.2',
    'inbox_many: a reader sharing a page is audited as itself');

-- Waiters of one key come together from nrmd's queue: a token that
-- authenticated for the waiter before is that principal again (one
-- transaction, one answer), each waiter still audited as itself, in
-- order; a denied token is looked up (and its denial audited) each time.
UPDATE auth.api_key SET revoked_at = now()
WHERE id = 'b0000000-0000-4000-8000-000000000005';
CREATE TEMP TABLE m2 AS SELECT pg_temp.a(format(
    'SELECT api.inbox_many(ARRAY[sha256(%L), sha256(%L), sha256(%L), '
    'sha256(%L), sha256(%L), sha256(%L)], ARRAY[%L, %L, %L, %L, %L, %L], '
    'ARRAY[%L, %L, %L, %L, %L, %L]::inet[], '
    'array_fill(''1:1::0''::text, ARRAY[6]), %L, NULL, NULL, 50, false)',
    'tok-coordinator', 'tok-coordinator', 'tok-coordinator',
    'tok-coordinator-2', 'tok-coordinator-2', 'tok-coordinator',
    'req-run-1', 'req-run-2', 'req-run-3', 'req-run-4', 'req-run-5',
    'req-run-6',
    '198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4',
    '198.51.100.5', '198.51.100.6', 'open')) AS v;
SELECT is((SELECT v->'of' FROM m2), '[0, 0, 0, 1, 2, 0]'::jsonb,
    'inbox_many: a run of one key shares its page; a revoked key in the '
    'run has its own answer each time');
SELECT is((SELECT (v->'pages'->1->>'status')::int FROM m2), 401,
    'inbox_many: the revoked key is refused');
SELECT is(pg_temp.events(r), ARRAY['inbox.list/inbox/-/care/allowed/-'],
    'inbox_many: one allowed event for ' || r || ', of a run of one key')
FROM unnest(ARRAY['req-run-1', 'req-run-2', 'req-run-3', 'req-run-6']) r;
SELECT is(pg_temp.events(r),
    ARRAY['inbox.list/inbox/-/-/denied/revoked_key'],
    'inbox_many: the revoked key''s denial is audited for ' || r)
FROM unnest(ARRAY['req-run-4', 'req-run-5']) r;
SELECT is((SELECT array_agg(request_id || ' ' || host(client_addr) || ' '
        || api_key_id::text ORDER BY request_id)
    FROM audit.event WHERE request_id IN ('req-run-2', 'req-run-3')),
    ARRAY['req-run-2 198.51.100.2 b0000000-0000-4000-8000-000000000003',
        'req-run-3 198.51.100.3 b0000000-0000-4000-8000-000000000003'],
    'inbox_many: a waiter whose key authenticated before it is audited '
    'with its own request id and client');

-- One look-up per run of a key, the renderer included (stop 32): five
-- waiters of two keys of two regions, in runs, are two authentications
-- and two pages.  (pg_stat_xact_user_functions counts this transaction's
-- calls.)
SET LOCAL track_functions = 'all';
SELECT COALESCE((SELECT calls FROM pg_stat_xact_user_functions
    WHERE schemaname = 'api' AND funcname = 'authenticate'), 0) AS auth0 \gset
CREATE TEMP TABLE m3 AS SELECT pg_temp.a(format(
    'SELECT api.inbox_many(ARRAY[sha256(%L), sha256(%L), sha256(%L), '
    'sha256(%L), sha256(%L)], ARRAY[%L, %L, %L, %L, %L], '
    'array_fill(''192.0.2.9''::inet, ARRAY[5]), '
    'array_fill(''1:1::0''::text, ARRAY[5]), %L, NULL, NULL, 50, false)',
    'tok-coordinator', 'tok-coordinator', 'tok-coordinator',
    'tok-coordinator-vr01', 'tok-coordinator-vr01',
    'req-once-1', 'req-once-2', 'req-once-3', 'req-once-4', 'req-once-5',
    'open')) AS v;
SELECT is((SELECT v->'of' FROM m3), '[0, 0, 0, 1, 1]'::jsonb,
    'inbox_many: two runs of two keys, two pages');
SELECT is((SELECT calls FROM pg_stat_xact_user_functions
    WHERE schemaname = 'api' AND funcname = 'authenticate') - :auth0, 2::bigint,
    'inbox_many: one authentication per run of a key, the renderer''s '
    'included');

-- api.audit_many: nrm_gate's, for the coordinator's door only
SELECT is((SELECT proowner::regrole::text FROM pg_proc
    WHERE oid = 'api.audit_many(uuid[],uuid[],uuid[],text[],text,text,'
        'text,text,text,text,text[],inet[])'::regprocedure), 'nrm_gate',
    'api.audit_many is nrm_gate''s');
SELECT ok(NOT has_function_privilege('nrm_app',
    'api.audit_many(uuid[],uuid[],uuid[],text[],text,text,text,text,text,'
    'text,text[],inet[])', 'EXECUTE'),
    'nrm_app cannot write audit events through api.audit_many');

SELECT * FROM finish();
ROLLBACK;
