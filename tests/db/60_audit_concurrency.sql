-- 60_audit_concurrency.sql - sealing under real concurrency (dblink):
-- a second sealer never waits ("busy"), an event whose transaction
-- commits late is chained after later ids, and 8 writers x 1000 events
-- each, committed one by one while two sealers run in a loop, end up
-- chained exactly once each, in a chain that verifies.
--
-- Events here are committed (request ids aud-*) and removed at the end
-- with the chain links made meanwhile, through the retention switch as
-- superuser (also at the start, in case an earlier run stopped halfway).
-- This session only reads.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(16);
\ir fixtures.psql

SELECT pg_temp.dblink_open(ARRAY['w', 's1', 's2', 'x', 'y', 'w1', 'w2',
    'w3', 'w4', 'w5', 'w6', 'w7', 'w8'], '90s') \g /dev/null
CREATE FUNCTION pg_temp.on(p_conn text, p_sql text) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT v::jsonb FROM dblink(p_conn, p_sql) AS t(v text)
$$;
-- api.audit_seal as nrm_app on connection p_conn, in its own transaction
-- unless the connection is inside one.
CREATE FUNCTION pg_temp.seal_on(p_conn text, p_limit integer DEFAULT 10000)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v jsonb;
BEGIN
	PERFORM dblink_exec(p_conn, 'SET ROLE nrm_app');
	v := pg_temp.on(p_conn,
	    format('SELECT api.audit_seal(%s)::text', p_limit));
	PERFORM dblink_exec(p_conn, 'RESET ROLE');
	RETURN v;
END
$$;

-- Removes this test's committed events, the links made after head
-- position p_from, and requeues any other event that lost its link.
CREATE FUNCTION pg_temp.aud_cleanup_sql(p_from bigint) RETURNS text
LANGUAGE sql AS $$
	SELECT format($s$
	SET nrm.audit_retention = 'on';
	DELETE FROM audit.chain WHERE pos > %s;
	DELETE FROM audit.unsealed WHERE event_id IN (SELECT id
	    FROM audit.event WHERE request_id LIKE 'aud-%%');
	DELETE FROM audit.event WHERE request_id LIKE 'aud-%%';
	INSERT INTO audit.unsealed (event_id)
	SELECT e.id FROM audit.event e
	WHERE NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.event_id = e.id)
	  AND NOT EXISTS (SELECT 1 FROM audit.unsealed u
	      WHERE u.event_id = e.id);
	RESET nrm.audit_retention;
	$s$, p_from)
$$;

-- Start from a sealed state; remember the head.
SELECT dblink_exec('w', pg_temp.aud_cleanup_sql(
    (SELECT coalesce(max(c.pos), 0) FROM audit.chain c
    WHERE NOT EXISTS (SELECT 1 FROM audit.event e
        WHERE e.id = c.event_id AND e.request_id LIKE 'aud-%'))))
    \g /dev/null
SELECT pg_temp.seal_on('w') \g /dev/null
CREATE TEMP TABLE h0 AS SELECT * FROM audit.head_link();
SELECT ok((SELECT (v->>'intact')::boolean FROM pg_temp.verify_body() v),
    'the committed chain verifies before the test');

-- ---------------------------------------------------------------------
-- 1. Two sealers: the second answers busy at once and seals nothing.
-- ---------------------------------------------------------------------
SELECT dblink_exec('x', $$SELECT set_config('role', 'nrm_gate', false);
    SELECT api.audit(NULL, NULL, NULL, 'test.race', NULL, NULL, NULL,
    'allowed', NULL, 'aud-busy', NULL); RESET ROLE$$) \g /dev/null
SELECT dblink_exec('s1', 'BEGIN') \g /dev/null
SELECT is((pg_temp.seal_on('s1')->>'sealed')::int, 1,
    's1 seals (and holds the sealer lock until it commits)');
SELECT is(pg_temp.seal_on('s2'), '{"sealed": 0, "busy": true}',
    's2 meanwhile: busy, sealed nothing, did not wait');
SELECT dblink_exec('s1', 'COMMIT') \g /dev/null
SELECT is((pg_temp.seal_on('s2')->>'busy')::boolean, false,
    'after s1 commits, s2 can seal');

-- ---------------------------------------------------------------------
-- 2. A late commit gets a later position, after a higher id.
-- ---------------------------------------------------------------------
SELECT dblink_exec('x', 'BEGIN') \g /dev/null
SELECT * FROM dblink('x', $$SELECT api.audit(NULL, NULL, NULL,
    'test.race', NULL, NULL, NULL, 'allowed', NULL, 'aud-late', NULL)$$)
    AS t(v text) \g /dev/null
SELECT * FROM dblink('y', $$SELECT api.audit(NULL, NULL, NULL,
    'test.race', NULL, NULL, NULL, 'allowed', NULL, 'aud-early', NULL)$$)
    AS t(v text) \g /dev/null
SELECT is((pg_temp.seal_on('s1')->>'sealed')::int, 1,
    'only the committed event is sealed');
SELECT dblink_exec('x', 'COMMIT') \g /dev/null
SELECT is((pg_temp.seal_on('s1')->>'sealed')::int, 1,
    'the late one is sealed by the next run');
SELECT ok((SELECT l.id < e.id FROM audit.event l, audit.event e
    WHERE l.request_id = 'aud-late' AND e.request_id = 'aud-early'),
    'the late event has the lower id');
SELECT results_eq($$SELECT e.request_id FROM audit.chain c
    JOIN audit.event e ON e.id = c.event_id
    WHERE e.request_id IN ('aud-late', 'aud-early') ORDER BY c.pos$$,
    $$VALUES ('aud-early'::text), ('aud-late'::text)$$,
    '... and the later position');
SELECT is(pg_temp.verify_body()->'intact', 'true', 'the chain verifies');

-- ---------------------------------------------------------------------
-- 3. 8 writers x 1000 committed events, two sealers looping meanwhile.
-- ---------------------------------------------------------------------
SELECT dblink_exec(c, 'SET synchronous_commit = off')
FROM unnest(ARRAY['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 's1',
    's2']) c \g /dev/null
SELECT dblink_send_query(c, format($q$DO $d$
    BEGIN
        FOR i IN 1..1000 LOOP
            PERFORM set_config('role', 'nrm_gate', true);
            PERFORM api.audit(NULL, NULL, NULL, 'test.race', 'case',
                %L || '-' || i, 'care', 'allowed', NULL,
                'aud-' || %L || '-' || i, '192.0.2.99');
            COMMIT;
        END LOOP;
    END
    $d$$q$, c, c))
FROM unnest(ARRAY['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8']) c
    \g /dev/null
-- Each sealer loops until all 8000 events are in and sealed (at most
-- 60 s), and leaves what it sealed and how often it was busy in
-- session settings.
SELECT dblink_send_query(s, $q$DO $d$
    DECLARE
        r jsonb;
        n integer := 0;
        b integer := 0;
        t timestamptz := clock_timestamp();
    BEGIN
        LOOP
            PERFORM set_config('role', 'nrm_app', true);
            r := api.audit_seal(100);
            n := n + (r->>'sealed')::integer;
            IF (r->>'busy')::boolean THEN
                b := b + 1;
            END IF;
            COMMIT;
            EXIT WHEN (SELECT count(*) FROM audit.event
                WHERE request_id LIKE 'aud-w_-%') = 8000
              AND NOT EXISTS (SELECT 1 FROM audit.unsealed u
                JOIN audit.event e ON e.id = u.event_id
                WHERE e.request_id LIKE 'aud-w_-%');
            EXIT WHEN clock_timestamp() > t + interval '60 seconds';
            PERFORM pg_sleep(0.002);
        END LOOP;
        PERFORM set_config('aud.sealed', n::text, false);
        PERFORM set_config('aud.busy', b::text, false);
    END
    $d$$q$)
FROM unnest(ARRAY['s1', 's2']) s \g /dev/null
-- Wait for everyone (an error on a connection fails the test here).
DO $$
DECLARE
	c text;
BEGIN
	FOREACH c IN ARRAY ARRAY['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8',
	    's1', 's2'] LOOP
		PERFORM * FROM dblink_get_result(c) AS t(s text);
		PERFORM * FROM dblink_get_result(c) AS t(s text);
	END LOOP;
END
$$;
CREATE TEMP TABLE sealer AS
SELECT s, (SELECT v FROM dblink(s, 'SELECT current_setting(''aud.sealed'')')
    AS t(v integer)) AS sealed,
    (SELECT v FROM dblink(s, 'SELECT current_setting(''aud.busy'')')
    AS t(v integer)) AS busy
FROM unnest(ARRAY['s1', 's2']) s;
SELECT diag(format('sealer %s: sealed %s, busy %s times', s, sealed, busy))
FROM sealer;

SELECT is((SELECT count(*)::int FROM audit.event
    WHERE request_id LIKE 'aud-w_-%'), 8000, '8000 events committed');
SELECT is((SELECT count(*)::int FROM audit.chain c JOIN audit.event e
    ON e.id = c.event_id WHERE e.request_id LIKE 'aud-w_-%'), 8000,
    'every one of them is chained');
SELECT is((SELECT count(DISTINCT c.event_id)::int FROM audit.chain c
    JOIN audit.event e ON e.id = c.event_id
    WHERE e.request_id LIKE 'aud-w_-%'), 8000, '... exactly once');
SELECT is((SELECT sum(sealed)::int FROM sealer), 8000,
    'the two sealers together sealed exactly these 8000');
SELECT results_eq($$SELECT count(*), max(pos) - min(pos) + 1
    FROM audit.chain WHERE pos > (SELECT pos FROM h0)$$,
    $$SELECT 8003::bigint, 8003::bigint$$,
    'positions after the start are contiguous: 8003 links, no gap');
SELECT is((pg_temp.verify_body() - 'events' - 'head_pos' - 'head_hash'
    - 'anchor'), '{"intact": true, "unsealed": 0, "unchained": 0,
    "first_broken": null, "checkpoints": null}',
    'the whole chain verifies, nothing unsealed or unchained');

-- Clean up the committed rows.
SELECT dblink_exec('w', pg_temp.aud_cleanup_sql((SELECT pos FROM h0)))
    \g /dev/null
SELECT is(pg_temp.verify_body()->>'head_hash',
    (SELECT encode(hash, 'hex') FROM h0),
    'the committed test data is gone: back to the starting head');
SELECT dblink_disconnect(name) FROM conn \g /dev/null

SELECT * FROM finish();
ROLLBACK;
