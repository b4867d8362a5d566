-- 91_people_concurrency.sql - an enrolment code works once under real
-- concurrency (dblink): of two sessions enrolling with the same code,
-- exactly one wins, whether the first commits or rolls back.
--
-- The person is committed by session w (agency f9..., logins race-*)
-- and removed at the end with its audit events (retention switch, as
-- pg_temp.race_cleanup_sql does).  Sessions a and b act as nrm_app.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(8);
\ir fixtures.psql

SELECT pg_temp.dblink_open(ARRAY['w', 'a', 'b'], '20s') \g /dev/null

CREATE FUNCTION pg_temp.people_cleanup_sql() RETURNS text
LANGUAGE sql AS $$
	SELECT $s$
	SET nrm.audit_retention = 'on';
	CREATE TEMP TABLE gone AS SELECT id, key_id FROM auth.person
	    WHERE agency_id = 'f9000000-0000-4000-8000-000000000001';
	CREATE TEMP TABLE gone_events AS SELECT id FROM audit.event
	    WHERE person_id IN (SELECT id FROM gone)
	       OR request_id LIKE 'enrace-%';
	DELETE FROM audit.chain WHERE event_id IN (SELECT id FROM gone_events);
	DELETE FROM audit.unsealed
	    WHERE event_id IN (SELECT id FROM gone_events);
	DELETE FROM audit.event WHERE id IN (SELECT id FROM gone_events);
	DELETE FROM auth.recovery_code WHERE person_id IN (SELECT id FROM gone);
	DELETE FROM auth.person_credential
	    WHERE person_id IN (SELECT id FROM gone);
	DELETE FROM auth.enrolment WHERE person_id IN (SELECT id FROM gone);
	DELETE FROM auth.person WHERE id IN (SELECT id FROM gone);
	DELETE FROM auth.api_key WHERE id IN (SELECT key_id FROM gone);
	DELETE FROM auth.agency
	    WHERE id = 'f9000000-0000-4000-8000-000000000001';
	DROP TABLE gone;
	DROP TABLE gone_events;
	RESET nrm.audit_retention;
	$s$
$$;
-- One enrolment call with code p_code, as nrmd sends it.
CREATE FUNCTION pg_temp.enrol_sql(p_code text, p_rid text) RETURNS text
LANGUAGE sql AS $$
	SELECT format('SELECT api.enrol(%L, NULL, sha256(%L::bytea), '
	    '''\x05050505050505050505050505050505''::bytea, ''{19456,2,1}'', '
	    'sha256(%L::bytea), '
	    '''\x0202020202020202020202020202020202020202''::bytea, '
	    'ARRAY[sha256(%L::bytea)])::text', p_rid, p_code,
	    'tag-' || p_rid, 'rc-' || p_rid)
$$;

DO $$
BEGIN
	PERFORM dblink_exec('w', pg_temp.people_cleanup_sql());
	PERFORM dblink_exec('w', $s$
	INSERT INTO auth.agency (id, name, kind) VALUES
	    ('f9000000-0000-4000-8000-000000000001', 'Race People', 'ngo');
	CREATE TEMP TABLE made AS SELECT auth.person_insert(l, 'Race ' || l,
	    'f9000000-0000-4000-8000-000000000001', 'analyst', NULL, NULL,
	    NULL, sha256(('code-' || l)::bytea), 600)
	FROM unnest(ARRAY['race-commit', 'race-rollback']) l;
	DROP TABLE made;
	$s$);
	PERFORM dblink_exec('a', 'SET ROLE nrm_app');
	PERFORM dblink_exec('b', 'SET ROLE nrm_app');
END
$$;

-- a opens a transaction and enrols with p_code (201: test p_what); b
-- sends the same code and must wait for a's row lock on it (a test);
-- then a ends with p_end (COMMIT or ROLLBACK).  b's answer is
-- pg_temp.result('b').
CREATE FUNCTION pg_temp.enrol_race(p_code text, p_a_rid text, p_what text,
    p_b_rid text, p_end text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM dblink_exec('a', 'BEGIN');
	RETURN NEXT is((SELECT v::jsonb->>'status' FROM dblink('a',
	    pg_temp.enrol_sql(p_code, p_a_rid)) AS t(v text)), '201', p_what);
	PERFORM dblink_send_query('b', pg_temp.enrol_sql(p_code, p_b_rid));
	PERFORM pg_sleep(0.2);
	PERFORM pg_stat_clear_snapshot();
	RETURN NEXT is((SELECT wait_event_type FROM pg_stat_activity
	    WHERE pid = (SELECT pid FROM conn WHERE name = 'b')), 'Lock',
	    'b waits for a''s row lock on the code');
	PERFORM dblink_exec('a', p_end);
END
$$;

-- a enrols and commits while b waits on the same code: b loses.
SELECT pg_temp.enrol_race('code-race-commit', 'enrace-a1',
    'a enrols (not yet committed)', 'enrace-b1', 'COMMIT');
SELECT is(pg_temp.result('b')->>'status', '400',
    'after a commits, b is refused: the code works once');

-- a enrols and rolls back while b waits: b wins.
SELECT pg_temp.enrol_race('code-race-rollback', 'enrace-a2',
    'a enrols with the second code', 'enrace-b2', 'ROLLBACK');
SELECT is(pg_temp.result('b')->>'status', '201',
    'after a rolls back, b enrols');

SELECT is((SELECT count(*)::int FROM auth.person_credential c
    JOIN auth.person p ON p.id = c.person_id
    WHERE p.agency_id = 'f9000000-0000-4000-8000-000000000001'), 2,
    'one credential each: exactly one winner per code');
SELECT is((SELECT array_agg(request_id || ' ' || outcome ORDER BY
    request_id) FROM audit.event WHERE request_id LIKE 'enrace-%'),
    ARRAY['enrace-a1 allowed', 'enrace-b1 failed', 'enrace-b2 allowed'],
    'each outcome audited (a rolled-back enrolment left no event)');

SELECT dblink_exec('w', pg_temp.people_cleanup_sql()) \g /dev/null
SELECT dblink_disconnect(n) FROM unnest(ARRAY['w', 'a', 'b']) n \g /dev/null

SELECT * FROM finish();
ROLLBACK;
