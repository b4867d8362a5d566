-- 57_concurrency.sql - real concurrent sessions (dblink) on committed
-- cases: exactly one taker wins (whether the first commits or rolls
-- back), a stale If-Match loses with 412, a four-way race over ten cases
-- ends with one holder each, sweepers skip locked rows and escalate each
-- case once, and inbox entries do not wait for each other, yet a
-- long-poll never skips one that commits late (0028).
--
-- The cases are committed by session w and removed at the end (see
-- pg_temp.race_cleanup_sql in fixtures.psql).  Sessions a..d act; this
-- session only reads, so it never holds a lock they wait for.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(38);
\ir fixtures.psql

SELECT pg_temp.dblink_open(ARRAY['w', 'a', 'b', 'c', 'd'], '20s')
\g /dev/null
CREATE FUNCTION pg_temp.pid(p_name text) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT pid FROM conn WHERE name = p_name
$$;
-- Run p_sql (one jsonb-as-text value) on connection p_conn, synchronously.
CREATE FUNCTION pg_temp.on(p_conn text, p_sql text) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT v::jsonb FROM dblink(p_conn, p_sql) AS t(v text)
$$;

-- 20 cases in VR05, committed; named R1.. in inbox order.
DO $$
BEGIN
	PERFORM dblink_exec('w', pg_temp.race_cleanup_sql());
	PERFORM dblink_exec('w', pg_temp.race_setup_sql());
	PERFORM * FROM dblink('w', 'SELECT count(*) FROM ('
	    || pg_temp.race_intake_sql('VR05')
	    || ' FROM generate_series(1, 20)) x') AS t(n bigint);
END
$$;
CREATE TEMP TABLE rc AS
SELECT 'R' || row_number() OVER (ORDER BY c.inbox_seq) AS name, c.id
FROM care.case c JOIN intake.signal s ON s.id = c.signal_id
WHERE s.agency_id = 'e0000000-0000-4000-8000-000000000001';
CREATE FUNCTION pg_temp.rc(p_name text) RETURNS uuid
LANGUAGE sql STABLE AS $$
	SELECT id FROM rc WHERE name = p_name
$$;
SELECT is((SELECT count(*)::int FROM rc), 20,
    'twenty committed cases visible to every session');

-- a opens a transaction and runs p_a (200: test p_a_what); b sends p_b,
-- which must wait for a's row lock (two tests: it waits, a holds the
-- lock); then a ends with p_end (COMMIT or ROLLBACK).  b's answer is
-- pg_temp.result('b').
CREATE FUNCTION pg_temp.race(p_a text, p_a_what text, p_b text,
    p_end text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM dblink_exec('a', 'BEGIN');
	RETURN NEXT is(pg_temp.on('a', p_a)->'status', '200', p_a_what);
	PERFORM dblink_send_query('b', p_b);
	RETURN NEXT ok(pg_temp.wait_blocked(pg_temp.pid('b')),
	    'b waits for a''s row lock');
	RETURN NEXT is(pg_blocking_pids(pg_temp.pid('b')),
	    ARRAY[pg_temp.pid('a')], '... held by a');
	PERFORM dblink_exec('a', p_end);
END
$$;

-- ---------------------------------------------------------------------
-- 1. a takes and commits while b waits: b gets 409 naming a.
-- ---------------------------------------------------------------------
SELECT pg_temp.race(pg_temp.race_call_sql('case_take', 'race-c1',
    pg_temp.rc('R1')), 'a takes R1 (not committed yet)',
    pg_temp.race_call_sql('case_take', 'race-c2', pg_temp.rc('R1')),
    'COMMIT');
SELECT is(pg_temp.result('b'),
    '{"status": 409, "problem": {"code": "conflict",
      "detail": "cannot take a case that is taken by another coordinator (state taken, holder f0000000-0000-4000-8000-000000000002, version 2)",
      "state": "taken", "holder": "f0000000-0000-4000-8000-000000000002",
      "version": 2}}',
    'when a commits, b re-reads the row: 409, held by a');
SELECT results_eq($$SELECT state, holder_key_id, version FROM care.case
    WHERE id = pg_temp.rc('R1')$$,
    $$VALUES ('taken'::text, 'f0000000-0000-4000-8000-000000000002'::uuid,
    2)$$, 'R1: taken once, by a, version 2');
SELECT is((SELECT count(*)::int FROM care.case_history
    WHERE case_id = pg_temp.rc('R1') AND action = 'taken'), 1,
    'R1: one taken history row');

-- ---------------------------------------------------------------------
-- 2. a takes and rolls back while b waits: b wins.
-- ---------------------------------------------------------------------
SELECT pg_temp.race(pg_temp.race_call_sql('case_take', 'race-c1',
    pg_temp.rc('R2')), 'a takes R2 (not committed)',
    pg_temp.race_call_sql('case_take', 'race-c2', pg_temp.rc('R2')),
    'ROLLBACK');
SELECT is(pg_temp.result('b')->'body'->>'holder',
    'f0000000-0000-4000-8000-000000000003',
    'when a rolls back, b finds the case open and takes it');
SELECT results_eq($$SELECT h.api_key_id FROM care.case_history h
    WHERE h.case_id = pg_temp.rc('R2') AND h.action = 'taken'$$,
    $$VALUES ('f0000000-0000-4000-8000-000000000003'::uuid)$$,
    'R2: only b''s take is recorded');

-- ---------------------------------------------------------------------
-- 3. Both send If-Match 1: the loser gets 412 with version 2.
-- ---------------------------------------------------------------------
SELECT pg_temp.race(pg_temp.race_call_sql('case_take', 'race-c1',
    pg_temp.rc('R3'), 1), 'a takes R3 with If-Match 1',
    pg_temp.race_call_sql('case_take', 'race-c2', pg_temp.rc('R3'), 1),
    'COMMIT');
SELECT is(pg_temp.result('b')->'problem',
    '{"code": "precondition",
      "detail": "the case has changed: its version is 2", "version": 2}', 'b''s If-Match 1 is stale now: 412, version 2');

-- ---------------------------------------------------------------------
-- 4. Four sessions race for each of ten cases.
-- ---------------------------------------------------------------------
CREATE TEMP TABLE race (name text, conn text, v jsonb);
DO $$
DECLARE
	i integer;
	k record;
BEGIN
	FOR i IN 4..13 LOOP
		FOR k IN SELECT * FROM (VALUES ('a', 'race-c1'),
		    ('b', 'race-c2'), ('c', 'race-c3'), ('d', 'race-c4'))
		    AS t(conn, key) LOOP
			PERFORM dblink_send_query(k.conn, pg_temp.race_call_sql(
			    'case_take', k.key, pg_temp.rc('R' || i)));
		END LOOP;
		FOR k IN SELECT * FROM unnest(ARRAY['a', 'b', 'c', 'd'])
		    AS t(conn) LOOP
			INSERT INTO race VALUES ('R' || i, k.conn,
			    pg_temp.result(k.conn));
		END LOOP;
	END LOOP;
END
$$;
SELECT is((SELECT count(*)::int FROM race), 40, '40 attempts');
SELECT is((SELECT count(*)::int FROM race WHERE v->>'status' = '200'), 10,
    'exactly ten wins');
SELECT is((SELECT count(*)::int FROM race WHERE v->>'status' = '409'), 30,
    'and thirty 409s: wins + 409s = attempts');
SELECT is_empty($$SELECT name FROM race GROUP BY name
    HAVING count(*) FILTER (WHERE v->>'status' = '200') <> 1$$,
    'one winner per case');
SELECT is_empty($$SELECT r.name FROM race r JOIN rc USING (name)
    JOIN care.case c ON c.id = rc.id
    WHERE r.v->>'status' = '409'
      AND (r.v->'problem'->>'holder')::uuid IS DISTINCT FROM c.holder_key_id$$,
    'every 409 names the case''s one holder');
SELECT is_empty($$SELECT rc.name FROM rc JOIN care.case c ON c.id = rc.id
    WHERE rc.name IN ('R4', 'R5', 'R6', 'R7', 'R8', 'R9', 'R10', 'R11',
        'R12', 'R13')
      AND (c.state <> 'taken' OR c.version <> 2
          OR (SELECT count(*) FROM care.case_history h
              WHERE h.case_id = c.id AND h.action = 'taken') <> 1)$$,
    'each case: taken, version 2, one taken history row');

-- ---------------------------------------------------------------------
-- 5. Sweepers: rows another transaction holds are skipped, each case
--    is escalated once.
-- ---------------------------------------------------------------------
SELECT dblink_exec('w', format($$UPDATE care.case
    SET created_at = now() - interval '2 hours',
        take_by = now() - interval '1 hour'
    WHERE id IN (%L, %L, %L, %L)$$, pg_temp.rc('R14'), pg_temp.rc('R15'),
    pg_temp.rc('R16'), pg_temp.rc('R17'))) \g /dev/null
-- c is busy taking R17 (uncommitted): its row is locked.
SELECT dblink_exec('c', 'BEGIN') \g /dev/null
SELECT is(pg_temp.on('c', pg_temp.race_call_sql('case_take', 'race-c3',
    pg_temp.rc('R17')))->'status', '200', 'c is taking R17 (uncommitted)');
-- a sweeps as nrm_app and has not committed.
SELECT dblink_exec('a', 'BEGIN') \g /dev/null
SELECT dblink_exec('a', 'SET LOCAL ROLE nrm_app') \g /dev/null
SELECT is(pg_temp.on('a', 'SELECT api.escalate_overdue(100)::text')
    ->'escalated', '3', 'sweeper a escalates R14..R16 and skips R17 (locked)');
-- b sweeps meanwhile: everything due is locked, so nothing, at once.
SELECT dblink_exec('b', 'SET ROLE nrm_app') \g /dev/null
SELECT is(pg_temp.on('b', 'SELECT api.escalate_overdue(100)::text'),
    '{"escalated": 0, "case_ids": []}',
    'sweeper b, at the same time, skips the locked rows without waiting');
SELECT dblink_exec('a', 'COMMIT') \g /dev/null
SELECT is(pg_temp.on('b', 'SELECT api.escalate_overdue(100)::text')
    ->'escalated', '0', 'after a commits, b finds nothing left to escalate');
SELECT dblink_exec('c', 'ROLLBACK') \g /dev/null
SELECT is(pg_temp.on('b', 'SELECT api.escalate_overdue(100)::text')
    ->'case_ids', jsonb_build_array(pg_temp.rc('R17')),
    'c gave R17 up: the next sweep escalates it');
SELECT dblink_exec('b', 'RESET ROLE') \g /dev/null
SELECT is((SELECT count(*)::int FROM care.escalation e JOIN rc
    ON rc.id = e.case_id), 4, 'four escalations, one per case');
SELECT is((SELECT count(*)::int FROM care.case_history h JOIN rc
    ON rc.id = h.case_id WHERE h.action = 'escalated'), 4,
    'four escalated history rows');

-- ---------------------------------------------------------------------
-- 6. Inbox entries do not wait for each other (0028: the national inbox
--    lock is gone), and a long-poll never skips an entry that commits
--    late: a enters R18 and holds its transaction open, b enters R19
--    and commits first; a long-poll after the watermark w0 (before
--    both) gets R19 alone, and its watermark w1 still finds R18 newer
--    once a commits (docs/inbox.md).
-- ---------------------------------------------------------------------
CREATE TEMP TABLE lp (name text PRIMARY KEY, v jsonb);
CREATE FUNCTION pg_temp.lp_ids(p_name text) RETURNS uuid[]
LANGUAGE sql AS $$
	SELECT array_agg((x->>'case_id')::uuid ORDER BY o)
	FROM lp, jsonb_array_elements(v->'body'->'items') WITH ORDINALITY
	    AS t(x, o)
	WHERE lp.name = p_name
$$;
-- The inbox of race-c1 (VR05), all states, after watermark p_since (or
-- from the start), read by session c: this session writes no audit row
-- that would hold the committed key.
CREATE FUNCTION pg_temp.lp_inbox(p_since text) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.on('c', format('SELECT api.inbox(sha256(%L::bytea), '
	    '%L, NULL, %L, NULL, NULL, %L::text, 200)::text', 'race-c1',
	    'race-inbox', 'all', p_since))
$$;
INSERT INTO lp SELECT 'w0', pg_temp.lp_inbox(NULL);
SELECT dblink_exec('a', 'BEGIN') \g /dev/null
SELECT is(pg_temp.on('a', pg_temp.race_call_sql('case_decline', 'race-c1',
    pg_temp.rc('R18'), NULL, ', ''no_capacity'''))->'status', '200',
    'a declines R18 (enters the inbox first, not committed)');
-- Synchronous: were there still a lock, b would wait for a, which waits
-- for this session, and the statement would time out.
SELECT is(pg_temp.on('b', pg_temp.race_call_sql('case_decline',
    'race-c2', pg_temp.rc('R19'), NULL, ', ''no_capacity'''))->'status',
    '200', 'b declines R19 and commits at once (no inbox lock)');
INSERT INTO lp SELECT 'p1', pg_temp.lp_inbox((SELECT
    v->'body'->>'watermark' FROM lp WHERE name = 'w0'));
SELECT is(pg_temp.lp_ids('p1'), ARRAY[pg_temp.rc('R19')],
    'a long-poll after w0 gets R19, which committed; not R18');
SELECT is(pg_temp.on('c', format('SELECT api.inbox_wakeup_check('
    'sha256(%L::bytea), %L, NULL, %L)::text', 'race-c1', 'race-wake',
    (SELECT v->'body'->>'watermark' FROM lp WHERE name = 'p1')))
    ->'body'->'newer', 'false',
    'nothing newer than its watermark w1 while a runs');
SELECT dblink_exec('a', 'COMMIT') \g /dev/null
INSERT INTO lp SELECT 'p2', pg_temp.lp_inbox((SELECT
    v->'body'->>'watermark' FROM lp WHERE name = 'p1'));
SELECT is(pg_temp.lp_ids('p2'), ARRAY[pg_temp.rc('R18')],
    'a commits: the long-poll after w1 gets R18 (not skipped)');
INSERT INTO lp SELECT 'p3', pg_temp.lp_inbox((SELECT
    v->'body'->>'watermark' FROM lp WHERE name = 'p2'));
SELECT is(pg_temp.lp_ids('p3'), NULL::uuid[],
    '... once: nothing is newer than its watermark');
SELECT cmp_ok((SELECT inbox_seq FROM care.case WHERE id = pg_temp.rc('R19')),
    '>', (SELECT inbox_seq FROM care.case WHERE id = pg_temp.rc('R18')),
    'R18 drew the lower inbox_seq and committed last');

-- Clean up the committed rows.
SELECT dblink_exec('w', pg_temp.race_cleanup_sql()) \g /dev/null
SELECT is((SELECT count(*)::int FROM auth.agency
    WHERE id = 'e0000000-0000-4000-8000-000000000002'), 0,
    'the committed test data is gone');
SELECT dblink_disconnect(name) FROM conn \g /dev/null

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
