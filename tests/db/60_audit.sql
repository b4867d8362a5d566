-- 60_audit.sql - the tamper-evident audit log (0005): schema and roles,
-- the canonical encoding, sealing order and positions, verification and
-- what it catches (a changed field, a deleted event, swapped events or
-- links, an event slipped in behind the triggers; a consistent rewrite
-- only through checkpoints), the append-only triggers for every role,
-- purposes, and no personal data in audit rows.
--
-- One session, one transaction, rolled back.  Tampering is done as an
-- attacker with superuser rights would: with session_replication_role
-- = replica, which skips every trigger and foreign key
-- (pg_temp.behind_triggers in fixtures.psql).
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(174);
\ir fixtures.psql

-- ---------------------------------------------------------------------
-- Schema, roles, conventions.
-- ---------------------------------------------------------------------
SELECT columns_are('audit', 'event', ARRAY['id', 'at', 'api_key_id',
    'agency_id', 'role', 'action', 'object_type', 'object_id', 'purpose',
    'outcome', 'reason', 'request_id', 'client_addr', 'person_id'],
    'audit.event holds exactly the documented columns (ids and codes)');
SELECT is((SELECT array_agg(a.attname || ' ' || format_type(a.atttypid,
        NULL) ORDER BY a.attnum)
    FROM pg_attribute a WHERE a.attrelid = 'audit.event'::regclass
      AND a.attnum > 0 AND NOT a.attisdropped),
    ARRAY['id bigint', 'at timestamp with time zone', 'api_key_id uuid',
        'agency_id uuid', 'role text', 'action text', 'object_type text',
        'object_id text', 'purpose text', 'outcome text', 'reason text',
        'request_id text', 'client_addr inet', 'person_id uuid'],
    'audit.event column types: no free-text column beyond bounded ids');
SELECT columns_are('audit', 'chain', ARRAY['pos', 'event_id', 'prev_hash',
    'hash', 'sealed_at'], 'audit.chain columns');
SELECT is_empty($$SELECT sig FROM fn WHERE schema = 'audit' AND NOT pinned$$,
    'every audit function pins search_path = pg_catalog, pg_temp');
SELECT is_empty($$SELECT sig FROM fn WHERE schema = 'audit' AND public_exec$$,
    'PUBLIC may execute no audit function');
SELECT is_empty($$SELECT sig FROM fn WHERE schema = 'audit' AND comment = ''$$,
    'every audit function has a comment');
SELECT is((SELECT array_agg(p.oid::regprocedure::text || ' ' || r.rolname
        ORDER BY p.proname)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    JOIN pg_roles r ON r.oid = p.proowner
    WHERE n.nspname = 'audit' AND p.prosecdef),
    ARRAY['audit.break_glass_allowed(text,text) nrm_owner',
        'audit.break_glass_within(uuid,uuid) nrm_owner',
        'audit.enqueue() nrm_owner',
        'audit.event_flagged(uuid,uuid,text,text,text,text,text,text,text,'
        'inet,text) nrm_owner',
        'audit.event_flagged_denied(uuid,uuid,uuid,text,text,text,text,'
        'text,inet) nrm_owner',
        'audit.event_purged() nrm_owner', 'audit.head() nrm_audit_sealer',
        'audit.record_cli(text) nrm_owner',
        'audit.seal(integer) nrm_audit_sealer',
        'audit.verify_incremental(jsonb,bigint) nrm_owner'],
    'SECURITY DEFINER: only the sealer pair (nrm_audit_sealer), the queue '
    'trigger, the break-glass trio of 0007 (policy lookup, flagged '
    'event, purge of a review), nrmctl''s own audit event and the '
    'incremental verification (0014), and the break-glass limit pair of '
    '0015 (the count, the refused event)');
SELECT ok((SELECT NOT rolcanlogin FROM pg_roles
    WHERE rolname = 'nrm_audit_sealer')
    AND NOT pg_has_role('nrm_app', 'nrm_audit_sealer', 'MEMBER'),
    'nrm_audit_sealer is NOLOGIN and nrm_app is no member');
SELECT is((SELECT array_agg(m.rolname) FROM pg_auth_members a
    JOIN pg_roles m ON m.oid = a.member
    WHERE a.roleid = 'nrm_audit_sealer'::regrole), ARRAY['nrm_owner'::name],
    'only the owner is a member of nrm_audit_sealer (to hand functions over)');
SELECT ok(NOT has_table_privilege('nrm_app', 'audit.chain', 'SELECT')
    AND NOT has_table_privilege('nrm_app', 'audit.chain', 'INSERT')
    AND NOT has_table_privilege('nrm_app', 'audit.unsealed', 'SELECT'),
    'nrm_app may neither read nor write the chain or the queue');
SELECT ok(has_function_privilege('nrm_app', f, 'EXECUTE'),
    'nrm_app may execute ' || f)
FROM unnest(ARRAY['api.audit_seal(integer)', 'api.audit_head()',
    'api.audit_verify(bytea, text, inet, jsonb)',
    'api.audit_search(bytea, text, inet, jsonb, bigint, integer)']) f;
SELECT has_trigger('audit', t.tbl, t.trg, 'audit.' || t.tbl || ' has '
    || t.trg)
FROM (VALUES ('event', 'event_append_only'), ('event', 'event_no_truncate'),
    ('event', 'event_enqueue'), ('chain', 'chain_append_only'),
    ('chain', 'chain_no_truncate'), ('retention', 'retention_append_only'),
    ('retention', 'retention_no_truncate')) t(tbl, trg);

-- ---------------------------------------------------------------------
-- The canonical encoding: pinned bytes (computed outside PostgreSQL,
-- see docs/audit.md), independent of the session's time zone.
-- ---------------------------------------------------------------------
INSERT INTO audit.event (id, at, api_key_id, agency_id, role, action,
    object_type, object_id, purpose, outcome, reason, request_id,
    client_addr)
OVERRIDING SYSTEM VALUE
VALUES (9000000001, '2024-05-01 12:00:00.123456+00',
    'b0000000-0000-4000-8000-000000000003',
    'a0000000-0000-4000-8000-000000000003', 'coordinator', 'case.read',
    'case', 'd0000000-0000-4000-8000-0000000000aa', 'care', 'allowed', NULL,
    'req-canon', '2001:db8::10');
SELECT is(encode(audit.canonical(e), 'hex'),
    '000000126e726d2e61756469742e6576656e742e7631'
    '0000000a39303030303030303031'
    '0000001b323032342d30352d30315431323a30303a30302e3132333435365a'
    '0000002462303030303030302d303030302d343030302d383030302d'
    '303030303030303030303033'
    '0000002461303030303030302d303030302d343030302d383030302d'
    '303030303030303030303033'
    '0000000b636f6f7264696e61746f72'
    '00000009636173652e72656164'
    '0000000463617365'
    '0000002464303030303030302d303030302d343030302d383030302d'
    '303030303030303030306161'
    '0000000463617265'
    '00000007616c6c6f776564'
    'ffffffff'
    '000000097265712d63616e6f6e'
    '0000000c323030313a6462383a3a3130',
    'canonical(event) is the documented length-prefixed encoding')
FROM audit.event e WHERE e.id = 9000000001;
SELECT is(encode(audit.genesis(), 'hex'),
    'a06dc8d4062f19f11bf5a47ad2eb8689bc0ed5f373fe835d03a3eff2e73ea94f',
    'genesis = sha256(''nrm-audit-chain-v1'')');
SELECT is(encode(sha256(audit.genesis() || audit.canonical(e)), 'hex'),
    '0d6bed6f7f0bb0c2fccc1dcd7e59bbdd0be8577a41b10ce099ac4704b405e691',
    'a first link''s hash, as computed outside PostgreSQL')
FROM audit.event e WHERE e.id = 9000000001;
SET LOCAL TimeZone = 'Pacific/Chatham';
SELECT is(encode(substr(audit.canonical(e), 41, 27), 'escape'),
    '2024-05-01T12:00:00.123456Z', 'the time is UTC whatever the session''s '
    'TimeZone')
FROM audit.event e WHERE e.id = 9000000001;
RESET TimeZone;
SELECT is((SELECT provolatile FROM pg_proc
    WHERE oid = 'audit.canonical(audit.event)'::regprocedure), 'i',
    'audit.canonical is IMMUTABLE');
-- Unambiguous: NULL differs from '', and field boundaries cannot move.
SELECT isnt(audit.canonical(a), audit.canonical(b),
    'a NULL request_id and an empty one encode differently')
FROM jsonb_populate_record(NULL::audit.event, '{"id": 1, "at": "2024-01-01T00:00:00Z",
    "action": "x.y", "outcome": "allowed"}') a,
    jsonb_populate_record(NULL::audit.event, '{"id": 1, "at": "2024-01-01T00:00:00Z",
    "action": "x.y", "outcome": "allowed", "request_id": ""}') b;
SELECT isnt(audit.canonical(a), audit.canonical(b),
    'moving a character across a field boundary changes the encoding')
FROM jsonb_populate_record(NULL::audit.event, '{"id": 1, "at": "2024-01-01T00:00:00Z",
    "action": "x.y", "outcome": "allowed", "object_type": "ab",
    "object_id": "c"}') a,
    jsonb_populate_record(NULL::audit.event, '{"id": 1, "at": "2024-01-01T00:00:00Z",
    "action": "x.y", "outcome": "allowed", "object_type": "a",
    "object_id": "bc"}') b;
SELECT isnt(audit.canonical(a), audit.canonical(b),
    'one microsecond changes the encoding')
FROM jsonb_populate_record(NULL::audit.event, '{"id": 1,
    "at": "2024-01-01T00:00:00.000001Z", "action": "x.y",
    "outcome": "allowed"}') a,
    jsonb_populate_record(NULL::audit.event, '{"id": 1,
    "at": "2024-01-01T00:00:00.000002Z", "action": "x.y",
    "outcome": "allowed"}') b;

-- ---------------------------------------------------------------------
-- Sealing: order, positions, links, queue, head.
-- ---------------------------------------------------------------------
-- The canonical-test event goes (it would be sealed with the others).
SET LOCAL nrm.audit_retention = 'on';
DELETE FROM audit.unsealed WHERE event_id = 9000000001;
DELETE FROM audit.event WHERE id = 9000000001;
RESET nrm.audit_retention;
SELECT is((pg_temp.audit_seal()->>'busy')::boolean, false,
    'a first seal (whatever was queued before this test)');
CREATE TEMP TABLE h0 AS SELECT * FROM audit.head_link();

-- Five events through the api (as nrm_app), then seal 2 + 3.
SELECT api.audit(NULL, NULL, NULL, 'test.seal', 'case', 'obj-' || i, 'care',
    'allowed', NULL, 'req-seal-' || i, '192.0.2.30')
FROM generate_series(1, 5) i \g /dev/null
CREATE TEMP TABLE ev AS SELECT id, row_number() OVER (ORDER BY id) AS n
FROM audit.event WHERE action = 'test.seal';
SELECT is((SELECT count(*)::int FROM audit.unsealed
    WHERE event_id IN (SELECT id FROM ev)), 5,
    'every new event is queued in its own transaction');
SELECT is(pg_temp.audit_seal(2) - 'head_hash' - 'unsealed',
    jsonb_build_object('sealed', 2, 'busy', false,
        'head_pos', (SELECT pos FROM h0) + 2),
    'seal(2) seals two, head advanced by two');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'api.audit_seal leaves the caller''s role');
SELECT is((pg_temp.audit_seal(10)->>'sealed')::int, 3,
    'seal(10) seals the remaining three');
SELECT is(pg_temp.audit_seal(10)->'sealed', '0', 'nothing left to seal');
SELECT results_eq($$SELECT c.pos - (SELECT pos FROM h0), ev.n
    FROM audit.chain c JOIN ev ON ev.id = c.event_id ORDER BY c.pos$$,
    $$VALUES (1::bigint, 1::bigint), (2, 2), (3, 3), (4, 4), (5, 5)$$,
    'positions follow the head without a gap, in id order');
SELECT is((SELECT c.prev_hash FROM audit.chain c
    WHERE c.pos = (SELECT pos FROM h0) + 1), (SELECT hash FROM h0),
    'the first new link continues from the previous head');
SELECT is_empty($$SELECT c.pos FROM audit.chain c
    JOIN audit.event e ON e.id = c.event_id
    WHERE c.hash <> sha256(c.prev_hash || audit.canonical(e))
       OR c.prev_hash <> coalesce((SELECT p.hash FROM audit.chain p
           WHERE p.pos = c.pos - 1), (SELECT hash FROM h0))
      AND c.pos > (SELECT pos FROM h0)$$,
    'each link: hash = sha256(prev_hash || canonical), prev_hash = the '
    'predecessor''s hash');
SELECT is_empty($$SELECT 1 FROM audit.unsealed
    WHERE event_id IN (SELECT id FROM ev)$$,
    'sealed events left the queue');
SELECT is(pg_temp.api_as('nrm_app', 'SELECT api.audit_head()'),
    (SELECT jsonb_build_object('pos', c.pos, 'hash', encode(c.hash, 'hex'))
    FROM audit.chain c ORDER BY c.pos DESC LIMIT 1),
    'api.audit_head (as nrm_app) is the last link');
SELECT is(pg_temp.sqlstate_as('nrm_app', 'SELECT api.audit_seal(0)'), '22023',
    'seal limit 0 is refused');
SELECT is(pg_temp.sqlstate_as('nrm_app', 'SELECT api.audit_seal(10001)'),
    '22023', 'seal limit above 10000 is refused');
SELECT is(pg_temp.sqlstate_as('nrm_app', $$INSERT INTO audit.chain VALUES
    (999999, 1, audit.genesis(), audit.genesis())$$), '42501',
    'nrm_app cannot insert a link itself');
-- An event whose queued row vanished before sealing is dropped from the
-- queue (nothing to chain; see docs/audit.md on what sealing protects).
SELECT api.audit(NULL, NULL, NULL, 'test.vanish', NULL, NULL, NULL,
    'allowed', NULL, NULL, NULL) \g /dev/null
SELECT pg_temp.behind_triggers(
    $$DELETE FROM audit.event WHERE action = 'test.vanish'$$);
SELECT is((pg_temp.audit_seal()->>'sealed')::int, 0,
    'a queued event deleted before sealing gets no link');
SELECT is_empty($$SELECT 1 FROM audit.unsealed u
    LEFT JOIN audit.event e ON e.id = u.event_id WHERE e.id IS NULL$$,
    '... and leaves the queue');

-- ---------------------------------------------------------------------
-- Verification through the api.
-- ---------------------------------------------------------------------
CREATE TEMP TABLE head AS
SELECT c.pos, encode(c.hash, 'hex') AS hash FROM audit.chain c
ORDER BY c.pos DESC LIMIT 1;
CREATE TEMP TABLE link AS
SELECT ev.n, c.pos, c.event_id, encode(c.hash, 'hex') AS hash
FROM audit.chain c JOIN ev ON ev.id = c.event_id;
CREATE FUNCTION pg_temp.lk(p_n integer) RETURNS link
LANGUAGE sql STABLE AS $$ SELECT * FROM link WHERE n = p_n $$;
-- Delete link p_n and its event, behind the triggers.
CREATE FUNCTION pg_temp.cut(p_n integer) RETURNS void
LANGUAGE sql AS $$
	SELECT pg_temp.behind_triggers(format('DELETE FROM audit.chain '
	    'WHERE pos = %s; DELETE FROM audit.event WHERE id = %s',
	    (pg_temp.lk(p_n)).pos, (pg_temp.lk(p_n)).event_id))
$$;

INSERT INTO r SELECT 'ok', pg_temp.audit_verify('tok-auditor', NULL,
    'req-verify-1');
SELECT is((SELECT (v->'body') - 'events' FROM r WHERE name = 'ok'),
    jsonb_build_object('intact', true, 'head_pos', (SELECT pos FROM head),
        'head_hash', (SELECT hash FROM head), 'unsealed', 0, 'unchained', 0,
        'first_broken', NULL, 'anchor', NULL, 'checkpoints', NULL),
    'verify: intact, head, nothing unsealed or unchained');
SELECT is((SELECT (v->'body'->>'events')::bigint FROM r WHERE name = 'ok'),
    (SELECT count(*) FROM audit.chain), 'verify: counts every link');
SELECT is((SELECT v->'status' FROM r WHERE name = 'ok'), '200',
    'verify: 200');
SELECT is(current_setting('nrm_test.role_after'), 'nrm_app',
    'verify restores the caller''s role');
SELECT results_eq($$SELECT api_key_id, role, action, object_type, purpose,
    outcome, client_addr FROM audit.event WHERE request_id = 'req-verify-1'$$,
    $$VALUES ('b0000000-0000-4000-8000-000000000010'::uuid, 'auditor'::text,
        'audit.verify'::text, 'audit'::text, 'audit'::text, 'allowed'::text,
        '192.0.2.20'::inet)$$,
    'verify is itself audited (audit.verify, purpose audit)');
SELECT is(pg_temp.audit_verify('tok-coordinator', NULL, 'req-verify-2')
    ->'status', '403', 'a coordinator may not verify');
SELECT is((SELECT outcome || '/' || reason FROM audit.event
    WHERE request_id = 'req-verify-2'), 'denied/role_not_permitted',
    '... and the denial is audited');
SELECT is(pg_temp.audit_verify('tok-nobody')->'status', '401',
    'unknown token: 401');
SELECT is(pg_temp.audit_verify('tok-auditor', '{"pos": 1}', 'req-verify-3'),
    '{"status": 400, "problem": {"code": "bad_request",
      "detail": "checkpoints must be an array of {\"pos\": integer >= 0, \"hash\": 64 lowercase hex digits}",
      "field": "checkpoints"}}', 'bad checkpoints: 400 on checkpoints');
SELECT is(pg_temp.audit_verify('tok-auditor',
    '[{"pos": 1, "hash": "00"}]')->'status', '400',
    'a checkpoint with a short hash: 400');
SELECT is(pg_temp.audit_verify('tok-auditor',
    '[{"pos": -1, "hash": "a06dc8d4062f19f11bf5a47ad2eb8689bc0ed5f373fe835d03a3eff2e73ea94f"}]')
    ->'status', '400', 'a checkpoint at a negative position: 400');
SELECT is(audit.verify_chain('[{"pos": 0, "hash": "a06dc8d4062f19f11bf5a47ad2eb8689bc0ed5f373fe835d03a3eff2e73ea94f"}]')
    ->'checkpoints', '{"checked": 1, "skipped": 0, "first_mismatch": null}',
    'a checkpoint of the empty chain (position 0, genesis) is checked');
SELECT is((SELECT outcome || '/' || reason FROM audit.event
    WHERE request_id = 'req-verify-3'), 'failed/bad_request',
    'the bad request is audited');

-- ---------------------------------------------------------------------
-- Tampering.  Each case in a savepoint, undone afterwards.
-- ---------------------------------------------------------------------
-- 1. One field of one event changed.
SAVEPOINT t;
SELECT pg_temp.behind_triggers(format($$UPDATE audit.event
    SET purpose = 'emergency' WHERE id = %s$$, (pg_temp.lk(3)).event_id));
SELECT is((pg_temp.verify_body()->'first_broken') - 'found',
    jsonb_build_object('pos', (pg_temp.lk(3)).pos,
        'event_id', (pg_temp.lk(3)).event_id,
        'expected', (pg_temp.lk(3)).hash, 'reason', 'hash mismatch'),
    'a changed purpose: reported at that position, hash mismatch');
SELECT is(pg_temp.verify_body()->'first_broken'->>'found',
    (SELECT encode(sha256(c.prev_hash || audit.canonical(e)), 'hex')
    FROM audit.chain c JOIN audit.event e ON e.id = c.event_id
    WHERE c.pos = (pg_temp.lk(3)).pos),
    '... found = the hash of the event as it is now');
SELECT is(pg_temp.verify_body()->'intact', 'false', '... not intact');
SELECT is(pg_temp.audit_verify()->'body'->'first_broken'->'pos',
    to_jsonb((pg_temp.lk(3)).pos), '... and the api says the same');
ROLLBACK TO SAVEPOINT t;

-- 1b. The time moved by one microsecond.
SAVEPOINT t;
SELECT pg_temp.behind_triggers(format($$UPDATE audit.event
    SET at = at + interval '1 microsecond' WHERE id = %s$$,
    (pg_temp.lk(2)).event_id));
SELECT is(pg_temp.verify_body()->'first_broken'->>'pos',
    (pg_temp.lk(2)).pos::text, 'a time moved by 1 us: reported');
ROLLBACK TO SAVEPOINT t;

-- 1c. The outcome of a denial rewritten to allowed, as the owner would,
-- with the triggers disabled on the table.
SAVEPOINT t;
ALTER TABLE audit.event DISABLE TRIGGER event_append_only;
UPDATE audit.event SET outcome = 'denied' WHERE id = (pg_temp.lk(4)).event_id;
ALTER TABLE audit.event ENABLE TRIGGER event_append_only;
SELECT is(pg_temp.verify_body()->'first_broken'->>'pos',
    (pg_temp.lk(4)).pos::text,
    'a changed outcome (triggers disabled by the owner): reported');
ROLLBACK TO SAVEPOINT t;

-- 2. One chained event deleted (its link stays).
SAVEPOINT t;
SELECT pg_temp.behind_triggers(format(
    'DELETE FROM audit.event WHERE id = %s', (pg_temp.lk(2)).event_id));
SELECT is(pg_temp.verify_body()->'first_broken',
    jsonb_build_object('pos', (pg_temp.lk(2)).pos,
        'event_id', (pg_temp.lk(2)).event_id,
        'expected', (pg_temp.lk(2)).hash, 'found', NULL,
        'reason', 'missing event'),
    'a deleted event: missing event at its position');
ROLLBACK TO SAVEPOINT t;

-- 2b. Event and link deleted: the gap is found.
SAVEPOINT t;
SELECT pg_temp.cut(3);
SELECT is(pg_temp.verify_body()->'first_broken',
    jsonb_build_object('pos', (pg_temp.lk(3)).pos, 'event_id', NULL,
        'expected', (pg_temp.lk(3)).hash, 'found', NULL,
        'reason', 'missing event'),
    'event and link deleted: missing event at the gap');
ROLLBACK TO SAVEPOINT t;

-- 3. Two events' contents swapped (ids stay).
SAVEPOINT t;
SELECT pg_temp.behind_triggers(format($$
    UPDATE audit.event e SET at = o.at, object_id = o.object_id,
        request_id = o.request_id
    FROM audit.event o
    WHERE (e.id, o.id) IN ((%1$s, %2$s), (%2$s, %1$s))$$,
    (pg_temp.lk(2)).event_id, (pg_temp.lk(4)).event_id));
SELECT is(pg_temp.verify_body()->'first_broken'->>'reason', 'hash mismatch',
    'two events'' contents swapped: hash mismatch');
SELECT is(pg_temp.verify_body()->'first_broken'->>'pos',
    (pg_temp.lk(2)).pos::text, '... at the first of the two');
ROLLBACK TO SAVEPOINT t;

-- 3b. Two links swapped (positions exchanged).
SAVEPOINT t;
SELECT pg_temp.behind_triggers(format('UPDATE audit.chain SET pos = 999999999 '
    'WHERE pos = %1$s; UPDATE audit.chain SET pos = %1$s WHERE pos = %2$s; '
    'UPDATE audit.chain SET pos = %2$s WHERE pos = 999999999',
    (pg_temp.lk(2)).pos, (pg_temp.lk(4)).pos));
SELECT is(pg_temp.verify_body()->'first_broken',
    jsonb_build_object('pos', (pg_temp.lk(2)).pos,
        'event_id', (pg_temp.lk(4)).event_id,
        'expected', (SELECT encode(hash, 'hex') FROM audit.chain
            WHERE pos = (pg_temp.lk(1)).pos),
        'found', (SELECT encode(hash, 'hex') FROM audit.chain
            WHERE pos = (pg_temp.lk(3)).pos),
        'reason', 'order'),
    'two links swapped: order, at the first of them');
ROLLBACK TO SAVEPOINT t;

-- 4. An event slipped in behind the triggers, with an old id.
SAVEPOINT t;
SELECT pg_temp.behind_triggers($$INSERT INTO audit.event (id, action,
    outcome) OVERRIDING SYSTEM VALUE VALUES (-5, 'case.read', 'allowed')$$);
SELECT is(pg_temp.verify_body()->'first_broken',
    '{"pos": null, "event_id": -5, "expected": null, "found": null,
      "reason": "unchained event"}', 'an unqueued, unchained event: reported');
SELECT is(pg_temp.verify_body()->'unchained', '1', '... and counted');
ROLLBACK TO SAVEPOINT t;

-- 5. The chain rewritten consistently from a changed event on: the
-- database cannot tell, a checkpoint of the old head can.
SAVEPOINT t;
SELECT pg_temp.behind_triggers(format($$
    UPDATE audit.event SET purpose = 'emergency' WHERE id = %s;
    SELECT pg_temp.rechain(%s)$$, (pg_temp.lk(3)).event_id,
    (pg_temp.lk(3)).pos));
SELECT is(pg_temp.verify_body()->'intact', 'true',
    'a consistent rewrite is not detectable inside the database');
SELECT isnt(pg_temp.verify_body()->>'head_hash', (SELECT hash FROM head),
    '... but the head hash changed');
SELECT is((pg_temp.audit_verify('tok-auditor', jsonb_build_array(
    jsonb_build_object('pos', (SELECT pos FROM head),
        'hash', (SELECT hash FROM head), 'at', '2024-05-01T12:00:00Z',
        'sig', 'ignored here')))->'body') - 'events' - 'head_hash'
    - 'head_pos' - 'unsealed' - 'unchained' - 'anchor'
    - 'verified_from' - 'verified_to' - 'complete',  -- 0014's members
    jsonb_build_object('intact', false, 'first_broken', NULL,
        'checkpoints', jsonb_build_object('checked', 1, 'skipped', 0,
            'first_mismatch', jsonb_build_object(
                'pos', (SELECT pos FROM head),
                'expected', (SELECT hash FROM head),
                'found', pg_temp.verify_body()->>'head_hash',
                'reason', 'hash mismatch'))),
    'a checkpoint of the old head catches it');
ROLLBACK TO SAVEPOINT t;

-- 6. The tail cut off (last link and event gone): only a checkpoint
-- past the new head shows it.
SAVEPOINT t;
SELECT pg_temp.cut(5);
SELECT is(pg_temp.verify_body()->'intact', 'true',
    'a cut tail is not detectable inside the database');
SELECT is(audit.verify_chain(jsonb_build_array(
    jsonb_build_object('pos', (pg_temp.lk(4)).pos,
        'hash', (pg_temp.lk(4)).hash))) - 'checkpoints',
    pg_temp.verify_body() - 'checkpoints',
    'a checkpoint that still matches changes nothing else');
SELECT is(audit.verify_chain(jsonb_build_array(
    jsonb_build_object('pos', (pg_temp.lk(4)).pos,
        'hash', (pg_temp.lk(4)).hash),
    jsonb_build_object('pos', (SELECT pos FROM head),
        'hash', (SELECT hash FROM head))))->'checkpoints',
    jsonb_build_object('checked', 2, 'skipped', 0, 'first_mismatch',
        jsonb_build_object('pos', (SELECT pos FROM head),
            'expected', (SELECT hash FROM head), 'found', NULL,
            'reason', 'beyond head')),
    'a checkpoint beyond the head: reported');
ROLLBACK TO SAVEPOINT t;
SELECT is(pg_temp.verify_body()->'intact', 'true',
    'after the savepoints the chain is intact again');

-- ---------------------------------------------------------------------
-- Append-only: privileges for the roles, triggers for the owner and
-- superusers.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.sqlstate_as(r, s), '42501', r || ': ' || s || ' refused')
FROM unnest(ARRAY['nrm_app', 'nrm_reporter', 'nrm_coordinator',
    'nrm_assessor', 'nrm_investigator', 'nrm_auditor', 'nrm_analyst',
    'nrm_admin', 'nrm_audit_sealer']) r,
    unnest(ARRAY['UPDATE audit.event SET purpose = NULL',
        'DELETE FROM audit.event', 'TRUNCATE audit.event',
        'UPDATE audit.chain SET sealed_at = now()', 'DELETE FROM audit.chain',
        'TRUNCATE audit.chain', 'DELETE FROM audit.retention']) s;
CREATE FUNCTION pg_temp.refusal(p_role text, p_sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	v_prev text := current_setting('role');
	v text := 'ok';
BEGIN
	PERFORM set_config('role', p_role, true);
	BEGIN
		EXECUTE p_sql;
	EXCEPTION WHEN OTHERS THEN
		v := SQLSTATE || ' ' || SQLERRM;
	END;
	PERFORM set_config('role', v_prev, true);
	RETURN v;
END
$$;
SELECT is(pg_temp.refusal(r, s), '42501 ' || t || ' is append-only: '
    || split_part(s, ' ', 1) || ' refused',
    r || ': ' || s || ' refused by the trigger')
FROM unnest(ARRAY['nrm_owner', 'postgres']) r,
    (VALUES ('UPDATE audit.event SET purpose = NULL', 'audit.event'),
        ('DELETE FROM audit.event', 'audit.event'),
        ('UPDATE audit.chain SET sealed_at = now()', 'audit.chain'),
        ('DELETE FROM audit.chain', 'audit.chain'),
        ('TRUNCATE audit.chain', 'audit.chain'),
        ('TRUNCATE audit.chain, audit.event', 'audit.chain')) AS q(s, t);
SELECT is(pg_temp.probe($$SELECT set_config('role', 'nrm_owner', true);
    SELECT set_config('nrm.audit_retention', 'on', true);
    DELETE FROM audit.chain WHERE pos = (SELECT max(pos) FROM audit.chain)$$),
    'ok', 'the owner with nrm.audit_retention on may delete a link '
    '(the retention switch; probed and rolled back)');
SELECT is(split_part(pg_temp.refusal('nrm_owner',
    $$SELECT set_config('nrm.audit_retention', 'on', true); $$ || s), ' ', 1),
    '42501', 'even with nrm.audit_retention on, the owner: ' || d)
FROM (VALUES ('UPDATE audit.event SET purpose = NULL', 'no UPDATE'),
    ('TRUNCATE audit.chain, audit.event', 'no TRUNCATE'),
    ($$INSERT INTO audit.retention VALUES (1, audit.genesis(), now(), 1);
      DELETE FROM audit.retention$$, 'no DELETE of a retention anchor'))
    AS q(s, d);
-- Issue 14 changed this: nrm_gate (api.audit) appends, nrm_app cannot.
SELECT is(pg_temp.sqlstate_as('nrm_gate', $$INSERT INTO audit.event (action,
    outcome) VALUES ('test.probe', 'allowed')$$), 'ok',
    'nrm_gate may still append events');

-- ---------------------------------------------------------------------
-- Purposes.
-- ---------------------------------------------------------------------
SELECT is(audit.purpose_codes(), ARRAY['care', 'intake', 'identification',
    'investigation', 'audit', 'monitoring', 'emergency', 'nrmctl',
    'data_protection'],
    'the documented purpose codes');
SELECT is((SELECT array_agg(m[1] ORDER BY m[1]) FROM regexp_matches(
    pg_get_constraintdef((SELECT oid FROM pg_constraint
        WHERE conname = 'event_purpose_check')), '''([a-z_]+)''', 'g') m),
    (SELECT array_agg(c ORDER BY c) FROM unnest(audit.purpose_codes()) c),
    'event_purpose_check lists exactly audit.purpose_codes()');
SELECT is(pg_temp.violation($$INSERT INTO audit.event (action, outcome,
    purpose) VALUES ('case.read', 'allowed', 'curiosity')$$),
    'event_purpose_check', 'an unknown purpose is refused by the table');
SELECT is(pg_temp.violation($$INSERT INTO audit.event (action, outcome,
    purpose) VALUES ('case.read', 'allowed', NULL)$$), 'ok',
    'a null purpose is allowed (denials, actions without personal data)');

-- case_get: the list, and per-role defaults.
SELECT pg_temp.named_case('P') \g /dev/null
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('P'), 'research',
    'req-purpose-1'),
    '{"status": 400, "problem": {"code": "bad_request",
      "detail": "purpose must be one of: care, intake, identification, investigation, audit, monitoring, emergency, nrmctl, data_protection",
      "field": "purpose"}}', 'case read: a purpose outside the list: 400');
SELECT results_eq($$SELECT purpose, outcome, reason FROM audit.event
    WHERE request_id = 'req-purpose-1'$$,
    $$VALUES (NULL::text, 'failed'::text, 'bad_request'::text)$$,
    '... audited without it');
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('P'), 'emergency',
    'req-purpose-2', 'immediate_danger')->'status', '200',
    'case read: emergency is a purpose (with a reason: 0007)');
SELECT is((SELECT purpose FROM audit.event WHERE request_id = 'req-purpose-2'),
    'emergency', '... recorded as such');
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('P'), NULL,
    'req-purpose-3')->'status', '200', 'case read without a purpose');
SELECT is((SELECT purpose FROM audit.event WHERE request_id = 'req-purpose-3'),
    'care', '... a coordinator''s default purpose is care');
SELECT is(pg_temp.case_get('tok-assessor', pg_temp.cid('P'), NULL,
    'req-purpose-4')->'status', '200', 'assessor case read without a purpose');
SELECT is((SELECT purpose FROM audit.event WHERE request_id = 'req-purpose-4'),
    'identification', '... an assessor''s default purpose is identification');

-- ---------------------------------------------------------------------
-- No personal data in audit rows, after an intake and reads.
-- ---------------------------------------------------------------------
SELECT is((pg_temp.audit_seal()->>'busy')::boolean, false,
    'everything sealed');
SELECT is_empty($$SELECT e.id FROM audit.event e
    WHERE concat_ws('|', e.action, e.object_type, e.object_id, e.purpose,
        e.reason, e.request_id, e.role, host(e.client_addr)) ~
        '(Ana|Teststraat|test narrative|1994-03-02|0000 0000|PV-2024)'$$,
    'no audit event holds a name, birth date, contact, narrative or '
    'reporter reference');
SELECT is_empty($$SELECT e.id FROM audit.event e
    WHERE e.object_id !~ '^([0-9a-f-]{36}|[a-z0-9_.-]{1,64})$'
       OR e.request_id !~ '^[A-Za-z0-9_.:-]{1,200}$'$$,
    'object and request ids are ids');
SELECT is(pg_temp.verify_body()->'intact', 'true',
    'the whole log verifies at the end');

SELECT * FROM finish();
ROLLBACK;
