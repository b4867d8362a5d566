-- 53_state_table.sql - the one documented state table: the table in
-- docs/case-lifecycle.md equals care.transition cell by cell, and every
-- cell, legal and illegal, is walked through the api functions.
--
-- Reads docs/case-lifecycle.md relative to the working directory (the
-- repository root, where scripts/test-db.sh runs pg_prove).
\set ON_ERROR_STOP 1
\set QUIET 1
\set state_table `sed -n '/state-table:begin/,/state-table:end/p' docs/case-lifecycle.md`
BEGIN;
SELECT plan(87);
\ir fixtures.psql

-- The documented table: (from, action, to state or NULL for 409).
CREATE TEMP TABLE doc_row AS
SELECT t.ord, ARRAY(SELECT btrim(c, ' `') FROM unnest(string_to_array(
    btrim(t.l, ' |'), '|')) c) AS cells
FROM regexp_split_to_table(:'state_table', E'\n') WITH ORDINALITY t(l, ord)
WHERE t.l LIKE '|%' AND t.l NOT LIKE '|---%';
CREATE TEMP TABLE doc_cell AS
SELECT r.cells[1] AS from_pos, h.cells[i] AS action,
    nullif(r.cells[i], '409') AS to_state
FROM doc_row r
CROSS JOIN (SELECT cells FROM doc_row ORDER BY ord LIMIT 1) h
CROSS JOIN generate_series(2, cardinality(h.cells)) i
WHERE r.ord > (SELECT min(ord) FROM doc_row);

SELECT is((SELECT cells FROM doc_row ORDER BY ord LIMIT 1),
    ARRAY['from \ action', 'take', 'decline', 'transfer', 'close', 'reopen',
        'contact', 'accept', 'refuse', 'merge'],
    'the documented table has the nine actions as columns');
SELECT is(ARRAY(SELECT DISTINCT from_pos FROM doc_cell ORDER BY 1),
    ARRAY['closed', 'merged', 'open', 'pending_held_by_caller',
        'pending_received', 'pending_sent', 'taken_by_caller',
        'taken_by_other'],
    'and the eight positions as rows');
SELECT is((SELECT count(*)::int FROM doc_cell), 72, 'seventy-two cells');
SELECT ok((SELECT bool_and(to_state IS NULL
    OR to_state IN ('open', 'taken', 'closed', 'transfer_pending',
        'merged', 'returned')) FROM doc_cell),
    'every cell is a state, returned (the state before) or 409');
SELECT set_eq($$SELECT from_pos, action, to_state FROM doc_cell$$,
    $$SELECT f, a, care.transition(f, a)
    FROM unnest(ARRAY['open', 'taken_by_caller', 'taken_by_other',
        'closed', 'pending_held_by_caller', 'pending_sent',
        'pending_received', 'merged']) f,
    unnest(ARRAY['take', 'decline', 'transfer', 'close', 'reopen',
        'contact', 'accept', 'refuse', 'merge']) a$$,
    'care.transition is exactly the documented table');
SELECT is(care.transition('open', 'shred'), NULL,
    'an unknown action is never allowed');

-- ---------------------------------------------------------------------
-- Walk every cell: put a fresh case in the position, act as
-- tok-coordinator (key ...03), compare with the documented cell.
-- ---------------------------------------------------------------------
CREATE TEMP TABLE walk (from_pos text, action text, expected text,
    status int, problem_state text, state_after text,
    version_before int, version_after int);

DO $$
DECLARE
	c record;
	v_case uuid;
	v jsonb;
	v_version int;
BEGIN
	FOR c IN SELECT * FROM doc_cell ORDER BY from_pos, action LOOP
		-- pending_received: a national desk case sent to VR13
		v_case := pg_temp.named_case(c.from_pos || '/' || c.action,
		    CASE c.from_pos WHEN 'pending_received'
		    THEN '{"region": "NATIONAL"}' ELSE '{}' END::jsonb);
		IF c.from_pos IN ('taken_by_caller', 'closed',
		    'pending_held_by_caller') THEN
			PERFORM pg_temp.case_take('tok-coordinator', v_case);
		ELSIF c.from_pos IN ('taken_by_other', 'pending_sent') THEN
			PERFORM pg_temp.case_take('tok-coordinator-2', v_case);
		END IF;
		IF c.from_pos = 'closed' THEN
			PERFORM pg_temp.case_close('tok-coordinator', v_case,
			    'duplicate');
		ELSIF c.from_pos = 'pending_held_by_caller' THEN
			PERFORM pg_temp.case_transfer('tok-coordinator', v_case,
			    'VR01');
		ELSIF c.from_pos = 'pending_sent' THEN
			PERFORM pg_temp.case_transfer('tok-coordinator-2', v_case,
			    'VR01');
		ELSIF c.from_pos = 'pending_received' THEN
			PERFORM pg_temp.case_transfer(
			    'tok-coordinator-national', v_case, 'VR13');
		ELSIF c.from_pos = 'merged' THEN
			PERFORM pg_temp.case_merge('tok-coordinator', v_case,
			    pg_temp.named_case(c.from_pos || '/' || c.action
			        || '/first'));
		END IF;
		SELECT version INTO v_version FROM care.case WHERE id = v_case;
		v := CASE c.action
		    WHEN 'take' THEN pg_temp.case_take('tok-coordinator',
		        v_case)
		    WHEN 'decline' THEN pg_temp.case_decline('tok-coordinator',
		        v_case)
		    WHEN 'transfer' THEN pg_temp.case_transfer(
		        'tok-coordinator', v_case, 'VR01')
		    WHEN 'close' THEN pg_temp.case_close('tok-coordinator',
		        v_case)
		    WHEN 'reopen' THEN pg_temp.case_reopen('tok-coordinator',
		        v_case)
		    WHEN 'contact' THEN pg_temp.case_contact('tok-coordinator',
		        v_case)
		    WHEN 'accept' THEN pg_temp.transfer_accept('tok-coordinator',
		        v_case)
		    WHEN 'refuse' THEN pg_temp.transfer_refuse('tok-coordinator',
		        v_case)
		    -- into a fresh VR13 case of the same person
		    WHEN 'merge' THEN pg_temp.case_merge('tok-coordinator',
		        v_case, pg_temp.named_case(c.from_pos || '/' || c.action
		            || '/target'))
		    END;
		-- returned: the state before the transfer (here open: the
		-- national desk sent an open case)
		INSERT INTO walk SELECT c.from_pos, c.action,
		    coalesce(CASE c.to_state WHEN 'returned' THEN 'open'
		        ELSE c.to_state END, '409'), (v->>'status')::int,
		    v->'problem'->>'state', x.state, v_version, x.version
		FROM care.case x WHERE x.id = v_case;
	END LOOP;
END
$$;

SELECT is(CASE WHEN w.status = 200 THEN w.state_after
    ELSE w.status::text END, w.expected,
    format('%s + %s -> %s', w.from_pos, w.action, w.expected))
FROM walk w ORDER BY w.from_pos, w.action;

SELECT is_empty($$SELECT 1 FROM walk WHERE status = 409
    AND (problem_state IS DISTINCT FROM state_after
        OR version_after <> version_before)$$,
    'every 409 names the current state and changes nothing');
SELECT is_empty($$SELECT 1 FROM walk WHERE status = 200
    AND version_after <> version_before + 1$$,
    'every legal transition increments the version by one');
SELECT is((SELECT count(*)::int FROM audit.event WHERE action LIKE 'case.%'
    AND reason = 'illegal_transition'),
    (SELECT count(*)::int FROM doc_cell WHERE to_state IS NULL),
    'every illegal attempt is audited as illegal_transition');

-- The same table decides for a coordinator of two regions and at the
-- national desk: a spot check of two cells there.
SELECT is(pg_temp.case_take('tok-coordinator-national',
    pg_temp.named_case('nat', '{"region": "NATIONAL"}'))->'body'->>'state',
    'taken', 'national desk: open + take -> taken');
SELECT is(pg_temp.case_reopen('tok-coordinator-national',
    pg_temp.cid('nat'))->'status', '409',
    'national desk: taken by caller + reopen -> 409');

-- Each entry point asks care.transition (no second copy of the table).
SELECT ok((SELECT prosrc FROM pg_proc WHERE oid =
    'api.case_lock(uuid, uuid, text, text[], uuid, integer, text, text, inet)'
    ::regprocedure) LIKE '%care.transition(from_pos, p_action)%',
    'api.case_lock asks care.transition');
SELECT is_empty($$SELECT name FROM fn
    WHERE schema = 'api' AND name IN ('case_take', 'case_decline',
        'case_transfer', 'case_close', 'case_reopen', 'case_contact',
        'case_transfer_accept', 'case_transfer_refuse', 'case_merge')
      AND src NOT LIKE '%api.case_lock(%'$$,
    'all nine lifecycle functions go through api.case_lock');
SELECT is_empty($$SELECT name FROM fn
    WHERE schema IN ('api', 'care') AND name <> 'transition'
      AND src ~ '''taken_by_caller'', ''(decline|close)'''
    $$, 'no other function spells out the table');

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
