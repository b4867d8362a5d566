-- 60_audit_incremental.sql - GET /v1/audit/verify with checkpoints is
-- incremental (0014): audit.verify_incremental recomputes at most a
-- batch of links from the last verified signed checkpoint
-- (audit.verified_checkpoint), compares the checkpoints, remembers the
-- newest one it reached, and falls back to the anchor when the
-- remembered checkpoint no longer matches the chain.
--
-- Runs in one transaction (rolled back) on a database whose committed
-- chain is empty.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(21);
\ir fixtures.psql

SELECT is((SELECT count(*)::int FROM audit.chain), 0,
    'precondition: no committed chain links');
INSERT INTO audit.event (action, object_type, object_id, purpose, outcome,
    request_id)
SELECT 'case.read', 'case', 'inc-' || i, 'care', 'allowed', 'req-inc-' || i
FROM generate_series(1, 10) i;
SELECT is((pg_temp.audit_seal()->>'head_pos')::int, 10, 'ten links');

-- A checkpoint as nrmd sends it (the signature is nrmd's to check).
CREATE FUNCTION pg_temp.cp(p_pos int) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('seq', p_pos, 'prev', repeat('0', 64),
	    'pos', p_pos, 'hash', encode(hash, 'hex'), 'at', 't' || p_pos,
	    'sig', 'AAAA')
	FROM audit.chain WHERE pos = p_pos
$$;
CREATE TEMP TABLE v (n int, b jsonb);

INSERT INTO v SELECT 1, audit.verify_incremental(
    jsonb_build_array(pg_temp.cp(5)), 1000);
SELECT is((SELECT b->'intact' FROM v WHERE n = 1), 'true',
    'first run: intact');
SELECT is((SELECT b->'events' FROM v WHERE n = 1), '10',
    '... from genesis: all ten links');
SELECT is((SELECT b->'verified_from' FROM v WHERE n = 1), 'null',
    '... there was no verified checkpoint yet');
SELECT results_eq($$SELECT seq, pos, at, sig FROM audit.verified_checkpoint$$,
    $$VALUES (5::bigint, 5::bigint, 't5'::text, 'AAAA'::text)$$,
    'it remembers the checkpoint it reached, as sent');

INSERT INTO v SELECT 2, audit.verify_incremental(
    jsonb_build_array(pg_temp.cp(5), pg_temp.cp(8)), 1000);
SELECT is((SELECT b->'events' FROM v WHERE n = 2), '5',
    'second run: only the five links after the verified checkpoint');
SELECT is((SELECT b->'verified_from'->'pos' FROM v WHERE n = 2), '5',
    '... and says where it started (for nrmd to check the signature)');
SELECT is((SELECT pos FROM audit.verified_checkpoint), 8::bigint,
    '... and moves on to checkpoint 8');

INSERT INTO v SELECT 3, audit.verify_incremental(
    jsonb_build_array(pg_temp.cp(8)), 1);
SELECT is((SELECT b - 'unsealed' - 'head_hash' - 'checkpoints'
    - 'verified_from' FROM v WHERE n = 3),
    jsonb_build_object('intact', true, 'events', 1, 'head_pos', 10,
        'unchained', 0, 'first_broken', NULL, 'anchor', NULL,
        'verified_to', 9, 'complete', false),
    'a batch of one: one link, not complete');

-- A changed event after the verified checkpoint: found.
SAVEPOINT t;
SELECT pg_temp.behind_triggers($$UPDATE audit.event SET purpose = 'audit'
    WHERE request_id = 'req-inc-9'$$);
SELECT is(audit.verify_incremental(jsonb_build_array(pg_temp.cp(8)),
    1000)->'first_broken'->>'reason', 'hash mismatch',
    'a changed event after it: hash mismatch');
SELECT is(audit.verify_incremental(jsonb_build_array(pg_temp.cp(8)),
    1000)->'first_broken'->'pos', '9', '... at its position');
ROLLBACK TO SAVEPOINT t;

-- A changed event before it: not recomputed (the documented limit of
-- incremental verification); the full verification finds it.
SAVEPOINT t;
SELECT pg_temp.behind_triggers($$UPDATE audit.event SET purpose = 'audit'
    WHERE request_id = 'req-inc-3'$$);
SELECT is(audit.verify_incremental(jsonb_build_array(pg_temp.cp(8)),
    1000)->'intact', 'true',
    'a change before the verified checkpoint is not recomputed');
SELECT is(pg_temp.verify_body()->'first_broken'->'pos', '3',
    '... the full verification (and nrmctl) finds it');
ROLLBACK TO SAVEPOINT t;

-- The chain rewritten at the verified checkpoint: start from the anchor.
SAVEPOINT t;
SELECT pg_temp.behind_triggers($$UPDATE audit.verified_checkpoint
    SET hash = repeat('1', 64)$$);
SELECT is(audit.verify_incremental(jsonb_build_array(pg_temp.cp(8)),
    1000)->'verified_from', 'null',
    'a remembered checkpoint the chain no longer has is not trusted');
SELECT is(audit.verify_incremental('[]', 1000)->'events', '10',
    '... verification starts from genesis again');
ROLLBACK TO SAVEPOINT t;
-- One nrmd does not hold (not among the checkpoints sent): not trusted.
SAVEPOINT t;
SELECT is(audit.verify_incremental(jsonb_build_array(pg_temp.cp(5)),
    1000)->'events', '10',
    'a remembered checkpoint that is not one of those sent is not trusted');
ROLLBACK TO SAVEPOINT t;
SAVEPOINT t;
SELECT pg_temp.behind_triggers($$UPDATE audit.verified_checkpoint
    SET sig = 'BBBB'$$);
SELECT is(audit.verify_incremental(jsonb_build_array(pg_temp.cp(8)),
    1000)->'verified_from', 'null',
    '... nor one whose signature differs from the line sent');
ROLLBACK TO SAVEPOINT t;

-- A broken run remembers nothing.
SAVEPOINT t;
SELECT pg_temp.behind_triggers($$UPDATE audit.event SET purpose = 'audit'
    WHERE request_id = 'req-inc-10'$$);
SELECT is(audit.verify_incremental(jsonb_build_array(pg_temp.cp(9)),
    1000)->'intact', 'false', 'broken after checkpoint 9');
SELECT is((SELECT pos FROM audit.verified_checkpoint), 8::bigint,
    '... which is not remembered');
ROLLBACK TO SAVEPOINT t;

-- Only the function writes the row.
SELECT is(pg_temp.sqlstate_as('nrm_auditor',
    'DELETE FROM audit.verified_checkpoint'), '42501',
    'an auditor cannot write the verified checkpoint');

SELECT * FROM finish();
ROLLBACK;
