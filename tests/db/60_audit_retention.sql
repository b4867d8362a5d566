-- 60_audit_retention.sql - audit.purge_before, the one way rows leave
-- the audit log: owner only, removes the oldest chain prefix with its
-- events, leaves an anchor that verification and sealing continue
-- from, refuses a log that does not verify, and audits itself.
--
-- Runs in one transaction (rolled back) on a database whose committed
-- chain is empty (every other test rolls back or cleans up).
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(59);
\ir fixtures.psql

-- The minimum retention age (0014): five years by default; this file's
-- events are 400 days old, so it is lowered for this transaction.
SELECT is((SELECT min_age FROM audit.retention_policy), interval '5 years',
    'audit.retention_policy.min_age defaults to 5 years');
SELECT is(pg_temp.sqlstate_as('nrm_owner',
    $$SELECT audit.purge_before(now() - interval '400 days')$$), '22023',
    'a purge boundary younger than min_age is refused (invalid_parameter_value)');
SELECT throws_like($$SELECT audit.purge_before(now() - interval '4 years')$$,
    '%minimum retention age (audit.retention_policy.min_age = 5 years)%',
    '... with a message naming the key and its value');
UPDATE audit.retention_policy SET min_age = interval '1 day';

SELECT is((SELECT count(*)::int FROM audit.chain), 0,
    'precondition: no committed chain links');

-- Who may purge: the owner only.
SELECT ok(NOT has_function_privilege(r, 'audit.purge_before(timestamptz)',
    'EXECUTE'), r || ' may not execute audit.purge_before')
FROM unnest(ARRAY['nrm_app', 'nrm_reporter', 'nrm_coordinator',
    'nrm_assessor', 'nrm_investigator', 'nrm_auditor', 'nrm_analyst',
    'nrm_admin', 'nrm_audit_sealer', 'public']) r;
SELECT is(pg_temp.sqlstate_as('nrm_app',
    $$SELECT audit.purge_before(now() - interval '1 day')$$), '42501',
    'nrm_app calling it: refused');
SELECT is(pg_temp.sqlstate_as('nrm_owner',
    $$SELECT audit.purge_before(now() + interval '1 day')$$), '22023',
    'a purge boundary in the future is refused');

-- Three old events and one recent; sealed in id order.
INSERT INTO audit.event (at, action, object_type, object_id, purpose,
    outcome, request_id)
SELECT now() - interval '400 days' + i * interval '1 hour', 'case.read',
    'case', 'old-' || i, 'care', 'allowed', 'req-old-' || i
FROM generate_series(1, 3) i;
SELECT is((pg_temp.audit_seal()->>'head_pos')::int, 3, 'three old links');
SELECT api.audit(NULL, NULL, NULL, 'case.read', 'case', 'new-1', 'care',
    'allowed', NULL, 'req-new-1', NULL) \g /dev/null
CREATE TEMP TABLE link3 AS SELECT * FROM audit.chain WHERE pos = 3;

-- Tampered: refused, nothing purged.
SAVEPOINT t;
SELECT pg_temp.behind_triggers($$UPDATE audit.event SET purpose = 'audit'
    WHERE request_id = 'req-old-2'$$);
SELECT is(pg_temp.sqlstate_as('nrm_owner',
    $$SELECT audit.purge_before(now() - interval '1 day')$$), 'XX001',
    'a log that does not verify is not purged (data_corrupted)');
ROLLBACK TO SAVEPOINT t;

-- The purge: all three old links, the chain is empty, the anchor holds.
CREATE TEMP TABLE res (v jsonb);
GRANT INSERT ON res TO nrm_owner;
SET LOCAL ROLE nrm_owner;
INSERT INTO res SELECT audit.purge_before(now() - interval '1 day');
RESET ROLE;
SELECT is((SELECT v FROM res), jsonb_build_object('purged', 3,
    'purged_through_pos', 3,
    'anchor_hash', (SELECT encode(hash, 'hex') FROM link3)),
    'purge_before: three events through position 3');
SELECT is((SELECT count(*)::int FROM audit.chain), 0, 'their links are gone');
SELECT is((SELECT count(*)::int FROM audit.event
    WHERE request_id LIKE 'req-old-%'), 0, 'their events are gone');
SELECT results_eq($$SELECT purged_through_pos, anchor_hash, events
    FROM audit.retention$$,
    $$SELECT 3::bigint, hash, 3::bigint FROM link3$$,
    'the anchor: position 3 and its hash');
SELECT is(current_setting('nrm.audit_retention'), 'off',
    'the retention switch is off again afterwards');
SELECT is(pg_temp.sqlstate_as('nrm_owner', 'DELETE FROM audit.event'),
    '42501', '... so the owner''s next DELETE is refused again');
SELECT results_eq($$SELECT action, object_type, object_id, purpose, outcome
    FROM audit.event WHERE action = 'audit.purge'$$,
    $$VALUES ('audit.purge'::text, 'audit'::text, '3'::text, 'audit'::text,
        'allowed'::text)$$, 'the purge is itself audited');
SELECT is(pg_temp.api_as('nrm_app', 'SELECT api.audit_head()'),
    jsonb_build_object('pos', 3, 'hash', (SELECT encode(hash, 'hex')
        FROM link3)), 'with no link left the head is the anchor');
SELECT is((pg_temp.verify_body() - 'anchor') - 'unsealed',
    jsonb_build_object('intact', true, 'events', 0, 'head_pos', 3,
        'head_hash', (SELECT encode(hash, 'hex') FROM link3),
        'unchained', 0, 'first_broken', NULL, 'checkpoints', NULL),
    'verify starts from the anchor: intact, no links');
SELECT is(pg_temp.verify_body()->'anchor'->'pos', '3',
    'verify names the anchor');

-- Sealing continues from the anchor.
SELECT is((pg_temp.audit_seal()->>'sealed')::int, 2,
    'the recent event and the purge event are sealed');
SELECT results_eq($$SELECT pos FROM audit.chain ORDER BY pos$$,
    $$VALUES (4::bigint), (5::bigint)$$, 'at positions 4 and 5');
SELECT is((SELECT prev_hash FROM audit.chain WHERE pos = 4),
    (SELECT hash FROM link3), 'link 4 continues from the anchor');
SELECT is(pg_temp.verify_body()->'intact', 'true', 'verify: intact');
SELECT is(pg_temp.verify_body()->'events', '2', '... two links checked');
SELECT is(audit.verify_chain(jsonb_build_array(jsonb_build_object('pos', 3,
    'hash', (SELECT encode(hash, 'hex') FROM link3)), jsonb_build_object(
    'pos', 2, 'hash', repeat('0', 64))))->'checkpoints',
    '{"checked": 1, "skipped": 1, "first_mismatch": null}',
    'a checkpoint at the anchor is checked, one before it skipped');

-- Nothing old enough: no second anchor.
SET LOCAL ROLE nrm_owner;
INSERT INTO res SELECT audit.purge_before(now() - interval '1 day');
RESET ROLE;
SELECT is((SELECT v->'purged' FROM res OFFSET 1), '0',
    'a second purge with nothing old enough removes nothing');
SELECT is((SELECT count(*)::int FROM audit.retention), 1,
    '... and records no anchor');
SELECT is((pg_temp.audit_verify()->'body'->'anchor') - 'at',
    jsonb_build_object('pos', 3, 'hash', (SELECT encode(hash, 'hex')
        FROM link3), 'signed_at', NULL, 'sig', NULL),
    'so does api.audit_verify, as an auditor (with no signature: 0014)');

-- The anchor's signature (0014): append-only like the anchor itself.
INSERT INTO audit.anchor_signature (purged_through_pos, signed_at, sig)
VALUES (3, '2030-01-01T00:00:00Z', repeat('A', 86) || '==');
SELECT is(pg_temp.sqlstate_as('nrm_owner',
    $$UPDATE audit.anchor_signature SET sig = 'AAAA'$$), '42501',
    'an anchor signature cannot be changed, even by the owner');
SELECT is(pg_temp.sqlstate_as('nrm_owner',
    'DELETE FROM audit.anchor_signature'), '42501', '... nor deleted');
SELECT is(pg_temp.sqlstate_as('nrm_owner', $$INSERT INTO
    audit.anchor_signature VALUES (99, 'x', 'not base64!')$$), '23514',
    'a signature is base64');
SELECT is((pg_temp.audit_verify()->'body'->'anchor'->>'signed_at'),
    '2030-01-01T00:00:00Z', 'api.audit_verify hands the signature to nrmd');

-- The read-only verifier role (0014): reads, never writes.
SELECT ok((SELECT NOT rolcanlogin FROM pg_roles
    WHERE rolname = 'nrm_audit_reader'), 'nrm_audit_reader is NOLOGIN');
SELECT is(pg_temp.sqlstate_as('nrm_audit_reader', s), 'ok',
    'nrm_audit_reader: ' || s)
FROM unnest(ARRAY['SELECT count(*) FROM audit.event',
    'SELECT count(*) FROM audit.chain', 'SELECT count(*) FROM audit.unsealed',
    'SELECT count(*) FROM audit.retention',
    'SELECT count(*) FROM audit.anchor_signature',
    'SELECT audit.canonical(e) FROM audit.event e LIMIT 1',
    $$SELECT audit.record_cli('audit.verify')$$]) s;
SELECT is(pg_temp.sqlstate_as('nrm_audit_reader', s), '42501',
    'nrm_audit_reader may not: ' || s)
FROM unnest(ARRAY[$$INSERT INTO audit.event (action, outcome)
        VALUES ('case.read', 'allowed')$$,
    'INSERT INTO audit.retention VALUES (99, audit.genesis(), now(), 1)',
    $$INSERT INTO audit.anchor_signature VALUES (3, 'x', 'AAAA')$$,
    'UPDATE audit.chain SET sealed_at = now()',
    'DELETE FROM audit.unsealed',
    'UPDATE audit.retention_policy SET min_age = interval ''0''',
    'SELECT count(*) FROM care.subject',
    'SELECT count(*) FROM auth.api_key',
    $$SELECT audit.purge_before(now() - interval '10 years')$$]) s;
SELECT is(pg_temp.sqlstate_as('nrm_audit_reader',
    $$SELECT audit.record_cli('case.read')$$), '22023',
    'audit.record_cli writes only audit.verify and audit.export');

SELECT * FROM finish();
ROLLBACK;
