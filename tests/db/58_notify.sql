-- 58_notify.sql - NOTIFY nrm_inbox as a listening daemon sees it: the
-- region code only, once per region per transaction, at commit, for
-- every way into an inbox (intake, decline, transfer, escalation, reopen)
-- and for nothing else (take, close, deadline edits, rollback).
--
-- Session l LISTENs, session w commits (committed data removed at the
-- end, see pg_temp.race_cleanup_sql in fixtures.psql).
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(26);
\ir fixtures.psql

DO $$
BEGIN
	PERFORM dblink_connect('l', pg_temp.dblink_connstr());
	PERFORM dblink_connect('w', pg_temp.dblink_connstr());
	PERFORM dblink_exec('w', 'SET statement_timeout = ''20s''');
	PERFORM dblink_exec('w', pg_temp.race_cleanup_sql());
	PERFORM dblink_exec('w', pg_temp.race_setup_sql());
	PERFORM dblink_exec('l', 'LISTEN nrm_inbox');
END
$$;
SELECT pid AS w_pid FROM dblink('w', 'SELECT pg_backend_pid()')
    AS t(pid integer) \gset

-- Every notification l received, by step.
CREATE TEMP TABLE note (step text, channel text, pid integer,
    payload text);
-- Collect what l receives for step p_step: wait up to 10 s for p_expect
-- notifications, then 300 ms more for any surplus.
CREATE FUNCTION pg_temp.collect(p_step text, p_expect integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_until timestamptz := clock_timestamp() + interval '10 seconds';
	v_n integer := 0;
BEGIN
	LOOP
		INSERT INTO note SELECT p_step, n.notify_name, n.be_pid, n.extra
		FROM dblink_get_notify('l') AS n;
		SELECT count(*) INTO v_n FROM note WHERE step = p_step;
		EXIT WHEN v_n >= p_expect OR clock_timestamp() > v_until;
		PERFORM pg_sleep(0.02);
	END LOOP;
	PERFORM pg_sleep(0.3);
	INSERT INTO note SELECT p_step, n.notify_name, n.be_pid, n.extra
	FROM dblink_get_notify('l') AS n;
	SELECT count(*) INTO v_n FROM note WHERE step = p_step;
	RETURN v_n;
END
$$;
CREATE FUNCTION pg_temp.payloads(p_step text) RETURNS text[]
LANGUAGE sql STABLE AS $$
	SELECT coalesce(array_agg(payload ORDER BY payload), '{}')
	FROM note WHERE step = p_step
$$;
-- Run p_sql on w (its own transaction); jsonb result as text.
CREATE FUNCTION pg_temp.w(p_sql text) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT v::jsonb FROM dblink('w', p_sql) AS t(v text)
$$;
-- One lifecycle step: w calls api.p_fn on case p_case as key p_key
-- (p_args: the rest of the arguments) and gets 200 (test p_what); the
-- step then notifies once for each of p_payloads, or nobody (a test of
-- the count, and one of the regions if there are any).
CREATE FUNCTION pg_temp.step(p_fn text, p_key text, p_case uuid,
    p_args text, p_what text, p_payloads text[]) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	v_n integer := cardinality(p_payloads);
	v_step text := substr(p_fn, 6);
BEGIN
	RETURN NEXT is(pg_temp.w(pg_temp.race_call_sql(p_fn, p_key, p_case,
	    NULL, p_args))->'status', '200', p_what);
	RETURN NEXT is(pg_temp.collect(v_step, v_n), v_n,
	    CASE v_n WHEN 0 THEN 'a ' || v_step || ' notifies nobody'
	    ELSE 'a ' || v_step || ' notifies once ...' END);
	IF v_n > 0 THEN
		RETURN NEXT is(pg_temp.payloads(v_step), p_payloads,
		    '... the region ' || array_to_string(p_payloads, ', '));
	END IF;
END
$$;

-- 1. One transaction: two cases into VR05, one into VR06.
SELECT dblink_exec('w', 'BEGIN') \g /dev/null
SELECT n FROM dblink('w', 'SELECT count(*) FROM ('
    || pg_temp.race_intake_sql('VR05', 'race-n1') || ' UNION ALL '
    || pg_temp.race_intake_sql('VR05', 'race-n2') || ' UNION ALL '
    || pg_temp.race_intake_sql('VR06', 'race-n3') || ') x')
    AS t(n bigint) \g /dev/null
SELECT is(pg_temp.collect('uncommitted', 0), 0,
    'nothing is delivered before the commit');
SELECT dblink_exec('w', 'COMMIT') \g /dev/null
SELECT is(pg_temp.collect('intake', 2), 2,
    'three cases in two regions in one transaction: two notifications');
SELECT is(pg_temp.payloads('intake'), ARRAY['VR05', 'VR06'],
    'one per region (VR05 twice is folded into one), payload = region code');
SELECT is_empty(format($$SELECT 1 FROM note WHERE step = 'intake'
    AND (channel <> 'nrm_inbox' OR pid <> %s)$$, :w_pid),
    'on channel nrm_inbox, from the committing backend');

SELECT c.id AS vr05_case FROM care.case c
JOIN intake.signal s ON s.id = c.signal_id
WHERE s.request_id = 'race-n1' \gset
SELECT c.id AS vr06_case FROM care.case c
JOIN intake.signal s ON s.id = c.signal_id
WHERE s.request_id = 'race-n3' \gset

-- 2. Take: no inbox entered, no notification.  3. Decline: back into
-- VR05.  4. Transfer: pending, then accepted into VR07.
SELECT pg_temp.step(s.fn, 'race-c1', :'vr05_case', s.args, s.what,
    s.regions)
FROM (VALUES
('case_take', '', 'w takes the VR05 case', '{}'::text[]),
('case_decline', ', ''no_capacity''', 'w declines it', '{VR05}'),
('case_transfer', ', ''VR07'', ''wrong_region'', 3600, 86400, 3600',
    'w transfers it to VR07 (pending: no inbox entered)', '{}')
) AS s(fn, args, what, regions);
-- 4b. VR07 accepts it: into VR07 (the target, not the source).
SELECT pg_temp.step('case_transfer_accept', 'race-c7', :'vr05_case', '',
    'a VR07 coordinator accepts it', '{VR07}');

-- 5. Deadline edit: nothing; escalation: the national desk.
SELECT dblink_exec('w', format($$UPDATE care.case
    SET created_at = now() - interval '2 hours',
        take_by = now() - interval '1 hour' WHERE id = %L$$, :'vr06_case'))
    \g /dev/null
SELECT is(pg_temp.collect('edit', 0), 0,
    'changing deadlines is not entering an inbox');
SELECT dblink_exec('w', 'SET ROLE nrm_app') \g /dev/null
SELECT is(pg_temp.w('SELECT api.escalate_overdue(10)::text')->'escalated',
    '1', 'the sweeper escalates the overdue VR06 case');
SELECT dblink_exec('w', 'RESET ROLE') \g /dev/null
SELECT is(pg_temp.collect('escalate', 1), 1,
    'an escalation notifies once ...');
SELECT is(pg_temp.payloads('escalate'), ARRAY['NATIONAL'],
    '... the national desk');

-- 6. Close: nothing; reopen: back into its region.
SELECT c.id AS n2_case FROM care.case c
JOIN intake.signal s ON s.id = c.signal_id
WHERE s.request_id = 'race-n2' \gset
SELECT is(pg_temp.w(pg_temp.race_call_sql('case_take', 'race-c2',
    :'n2_case'))->>'status' || '/' || (pg_temp.w(pg_temp.race_call_sql(
    'case_close', 'race-c2', :'n2_case', NULL, ', ''duplicate'''))
    ->>'status'), '200/200', 'w takes and closes the other VR05 case');
SELECT is(pg_temp.collect('close', 0), 0, 'a close notifies nobody');
SELECT pg_temp.step('case_reopen', 'race-c2', :'n2_case',
    ', ''closed_in_error''', 'w reopens it', '{VR05}');

-- 7. A rolled-back intake notifies nobody.
SELECT dblink_exec('w', 'BEGIN') \g /dev/null
SELECT n FROM dblink('w', 'SELECT count(*) FROM ('
    || pg_temp.race_intake_sql('VR05', 'race-n4') || ') x')
    AS t(n bigint) \g /dev/null
SELECT dblink_exec('w', 'ROLLBACK') \g /dev/null
SELECT is(pg_temp.collect('rollback', 0), 0,
    'a rolled-back transaction notifies nobody');

-- Every payload ever received is a region code and nothing else.
SELECT is_empty($$SELECT payload FROM note
    WHERE payload !~ '^(VR[0-9]{2}|NATIONAL)$'$$,
    'every payload is a bare region code (no ids, no personal data)');

DO $$
BEGIN
	PERFORM dblink_exec('w', pg_temp.race_cleanup_sql());
	PERFORM dblink_disconnect('w');
	PERFORM dblink_disconnect('l');
END
$$;

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
