-- 30_cases.sql - api functions: the case lifecycle's state table and the
-- steps every action shares (lock, reason, answer), and the inbox (page,
-- long-poll watermark, entry trigger).  The case read stands in
-- 30_cases_read.sql, the actions (take, decline, transfer, close, reopen,
-- share, escalate) in 30_cases_actions.sql.  A repeatable file
-- (docs/sql-api.md, "Migrations").
--
-- Applied by `nrmctl migrate` after the numbered migrations, in the same
-- transaction, every file of sql/api/ in name order, and recorded with
-- its SHA-256 in nrm.schema_repeatable.  Each function stands here once,
-- as CREATE OR REPLACE, with its comment and grants; change it here.  A
-- new signature, a dropped function or anything a table, view, policy
-- or trigger needs at creation time belongs in a numbered migration.

/*
 * The lifecycle state table (docs/case-lifecycle.md).  p_from is the
 * case's position as seen by the caller: open, taken_by_caller,
 * taken_by_other, closed, and for a pending transfer pending_held_by_caller
 * (the sender holding it), pending_sent (any other coordinator of the
 * sending region) or pending_received (a coordinator of the receiving
 * region).  Returns the state the action leads to ('returned': the
 * state before the transfer), or NULL when the action is illegal there
 * (answered 409).  0004 created it; 0009 added the handover; 0021 the
 * contact and the transfers the receiver answers; 0026 the merge of a
 * duplicate (merged: every action 409).
 */
CREATE OR REPLACE FUNCTION care.transition(p_from text, p_action text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT t.to_state
	FROM (VALUES
	    ('open', 'take', 'taken'),
	    ('open', 'decline', 'open'),
	    ('open', 'transfer', 'transfer_pending'),
	    ('taken_by_caller', 'decline', 'open'),
	    ('taken_by_caller', 'transfer', 'transfer_pending'),
	    ('taken_by_caller', 'close', 'closed'),
	    ('taken_by_caller', 'handover', 'taken'),
	    ('taken_by_caller', 'contact', 'taken'),
	    ('open', 'merge', 'merged'),
	    ('taken_by_caller', 'merge', 'merged'),
	    ('pending_held_by_caller', 'contact', 'transfer_pending'),
	    ('pending_received', 'accept', 'open'),
	    ('pending_received', 'refuse', 'returned'),
	    ('closed', 'reopen', 'open')) AS t(from_pos, action, to_state)
	WHERE t.from_pos = p_from AND t.action = p_action
$$;
COMMENT ON FUNCTION care.transition(text, text) IS
    'The state table: the state (from_position, action) leads to, or '
    'NULL when illegal.  Used by every lifecycle function.';
GRANT EXECUTE ON FUNCTION care.transition(text, text) TO nrm_coordinator;

/*
 * The reason codes of each action (docs/case-lifecycle.md, "Reason
 * codes"; tests/e2e/test_cases.py reads them there).  0004 created it,
 * 0021 added the refusal of a transfer, 0026 the merge's; its one body,
 * comment and grant stand here.  Codes, never free text: history and
 * audit never hold text about a person.  The closing list is also
 * case_closed_reason_check (tests/db keep the two equal).
 */
CREATE OR REPLACE FUNCTION care.reason_allowed(p_action text, p_reason text)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1
	FROM (VALUES
	    ('decline', 'no_capacity'), ('decline', 'conflict_of_interest'),
	    ('decline', 'outside_expertise'), ('decline', 'wrong_region'),
	    ('decline', 'other'),
	    ('transfer', 'victim_relocated'), ('transfer', 'wrong_region'),
	    ('transfer', 'specialist_care'), ('transfer', 'safety'),
	    ('transfer', 'capacity'), ('transfer', 'other'),
	    ('close', 'victim_supported'), ('close', 'referred_elsewhere'),
	    ('close', 'no_indication_of_trafficking'), ('close', 'duplicate'),
	    ('close', 'unreachable'), ('close', 'other'),
	    ('reopen', 'new_information'), ('reopen', 'victim_returned'),
	    ('reopen', 'closed_in_error'), ('reopen', 'other'),
	    ('refuse', 'no_capacity'), ('refuse', 'wrong_region'),
	    ('refuse', 'outside_expertise'), ('refuse', 'conflict_of_interest'),
	    ('refuse', 'other'),
	    ('merge', 'same_situation'), ('merge', 'repeat_report'),
	    ('merge', 'new_information'), ('merge', 'other'))
	    AS r(action, reason)
	WHERE r.action = p_action AND r.reason = p_reason)
$$;
COMMENT ON FUNCTION care.reason_allowed(text, text) IS
    'Whether p_reason is one of the documented reason codes of a '
    'lifecycle action (decline, transfer, refuse, close, reopen, merge).';
REVOKE ALL ON FUNCTION care.reason_allowed(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.reason_allowed(text, text)
    TO nrm_coordinator;

-- Timestamps in sort keys need microseconds to round-trip exactly.
CREATE OR REPLACE FUNCTION api.sort_key(p_rank integer, p_take_by timestamptz,
    p_inbox_seq bigint) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('p', p_rank,
	    'd', pg_catalog.to_char(p_take_by AT TIME ZONE 'UTC',
	        'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
	    's', p_inbox_seq)
$$;
COMMENT ON FUNCTION api.sort_key(integer, timestamptz, bigint) IS
    'The inbox sort key {"p": priority rank, "d": take_by with '
    'microseconds, "s": inbox_seq}: nrmd''s opaque cursor.';
GRANT EXECUTE ON FUNCTION api.sort_key(integer, timestamp with time zone,
    bigint) TO nrm_coordinator;

CREATE OR REPLACE FUNCTION api.case_lock(p_key_id uuid, p_agency_id uuid,
    p_role text, p_regions text[], p_case_id uuid, p_if_match integer,
    p_action text, p_request_id text, p_client inet, OUT c care.case,
    OUT from_pos text, OUT problem jsonb)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_audit_action text := 'case.' || CASE p_action
	    WHEN 'accept' THEN 'transfer_accept'
	    WHEN 'refuse' THEN 'transfer_refuse' ELSE p_action END;
	v_ans record;
BEGIN
	SELECT * INTO c FROM care.case x WHERE x.id = p_case_id FOR UPDATE;
	IF NOT FOUND AND p_action IN ('accept', 'refuse') THEN
		-- the transfer to the caller's region was answered (or
		-- escalated) just now: 409 with the state it left, not 404
		SELECT * INTO v_ans
		FROM care.transfer_answered(p_case_id, p_regions);
		IF FOUND THEN
			PERFORM api.audit(p_key_id, p_agency_id, p_role,
			    v_audit_action, 'case', p_case_id::text, 'care',
			    'failed', 'illegal_transition', p_request_id,
			    p_client);
			problem := api.problem(409, 'conflict', pg_catalog.format(
			    'cannot %s: the transfer was answered already (state '
			    '%s, version %s)', p_action, v_ans.state,
			    v_ans.version));
			problem := pg_catalog.jsonb_set(problem, '{problem}',
			    problem->'problem' || pg_catalog.jsonb_build_object(
			        'state', v_ans.state, 'holder', v_ans.holder,
			        'version', v_ans.version));
			RETURN;
		END IF;
	END IF;
	-- In scope: a case of the caller's regions, or one whose transfer
	-- to one of them is pending.
	IF NOT FOUND OR (c.region_code = ANY (p_regions)
	    OR c.transfer_to = ANY (p_regions)) IS NOT TRUE THEN
		PERFORM api.audit(p_key_id, p_agency_id, p_role,
		    v_audit_action, 'case', p_case_id::text, 'care', 'denied',
		    CASE WHEN c.id IS NULL AND NOT care.case_exists(p_case_id)
		    THEN 'not_found' ELSE 'out_of_scope' END, p_request_id,
		    p_client);
		c := NULL;
		problem := api.problem(404, 'not_found',
		    'no case with this id in your regions');
		RETURN;
	END IF;
	-- In scope and locked: this transaction may follow the case out of
	-- the caller's regions (row-level security, nrm.case_id).
	PERFORM pg_catalog.set_config('nrm.case_id', p_case_id::text, true);
	from_pos := CASE c.state
	    WHEN 'taken' THEN CASE WHEN c.holder_key_id = p_key_id
	        THEN 'taken_by_caller' ELSE 'taken_by_other' END
	    WHEN 'transfer_pending' THEN CASE
	        WHEN c.transfer_to = ANY (p_regions) THEN 'pending_received'
	        WHEN c.holder_key_id = p_key_id THEN 'pending_held_by_caller'
	        ELSE 'pending_sent' END
	    ELSE c.state END;
	IF p_if_match IS NOT NULL AND p_if_match <> c.version THEN
		PERFORM api.audit(p_key_id, p_agency_id, p_role,
		    v_audit_action, 'case', p_case_id::text, 'care', 'failed',
		    'stale_version', p_request_id, p_client);
		problem := api.problem(412, 'precondition',
		    pg_catalog.format('the case has changed: its version is %s',
		        c.version));
		problem := pg_catalog.jsonb_set(problem, '{problem,version}',
		    pg_catalog.to_jsonb(c.version));
		RETURN;
	END IF;
	IF care.transition(from_pos, p_action) IS NULL THEN
		PERFORM api.audit(p_key_id, p_agency_id, p_role,
		    v_audit_action, 'case', p_case_id::text, 'care', 'failed',
		    'illegal_transition', p_request_id, p_client);
		problem := api.problem(409, 'conflict',
		    pg_catalog.format('cannot %s a case that is %s (state %s, '
		        'holder %s, version %s)', p_action,
		        CASE from_pos
		        WHEN 'taken_by_caller' THEN 'taken by you'
		        WHEN 'taken_by_other'
		            THEN 'taken by another coordinator'
		        WHEN 'pending_held_by_caller'
		            THEN 'yours, its transfer pending'
		        WHEN 'pending_sent' THEN 'pending transfer'
		        WHEN 'pending_received'
		            THEN 'pending transfer to your region'
		        ELSE from_pos END, c.state,
		        COALESCE(c.holder_key_id::text, 'none'), c.version));
		problem := pg_catalog.jsonb_set(problem, '{problem}',
		    problem->'problem' || pg_catalog.jsonb_build_object(
		        'state', c.state, 'holder', c.holder_key_id,
		        'version', c.version));
		RETURN;
	END IF;
END
$$;
COMMENT ON FUNCTION api.case_lock(uuid, uuid, text, text[], uuid, integer,
    text, text, inet) IS
    'Lifecycle helper: lock the case, then 404 (not found / out of '
    'scope), 412 (stale If-Match), 409 (state table), each audited; an '
    'in-scope case becomes nrm.case_id for row-level security.';
GRANT EXECUTE ON FUNCTION api.case_lock(uuid, uuid, text, text[], uuid,
    integer, text, text, inet) TO nrm_coordinator;

-- 200 with the case summary (inbox item, version included).
CREATE OR REPLACE FUNCTION api.case_answer(p_case_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('status', 200, 'body', i.item)
	FROM care.case_item i WHERE i.id = p_case_id
$$;
COMMENT ON FUNCTION api.case_answer(uuid) IS
    'The 200 answer of a lifecycle action: the case as an inbox item.';
GRANT EXECUTE ON FUNCTION api.case_answer(uuid) TO nrm_coordinator;

/*
 * The steps the lifecycle actions share, taking the principal record of
 * api.enter (as api.refuse and api.answer do), run as the coordinator:
 *
 *	SELECT * INTO v_l FROM api.case_lock(v_p, p_case_id, p_if_match,
 *	    'close', p_reason);
 *	IF v_l.answer IS NOT NULL THEN	-- 422 reason, 404, 412, 409
 *		RETURN v_l.answer;
 *	END IF;
 *	UPDATE care.case SET ... WHERE id = p_case_id;
 *	RETURN api.case_done(v_p, p_case_id, 'closed', detail);
 */
CREATE OR REPLACE FUNCTION api.case_reason(p_p record, p_action text,
    p_reason text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF care.reason_allowed(p_action, p_reason) THEN
		RETURN NULL;
	END IF;
	RETURN api.refuse(p_p, 'care', 'failed', 'invalid_reason',
	    api.problem(422, 'validation', pg_catalog.format(
	        'reason must be one of the documented %s reasons',
	        CASE p_action WHEN 'close' THEN 'closing'
	        WHEN 'reopen' THEN 'reopening' ELSE p_action END), 'reason'));
END
$$;
COMMENT ON FUNCTION api.case_reason(record, text, text) IS
    'Lifecycle helper: NULL when p_reason is one of p_action''s reason '
    'codes (care.reason_allowed), else the 422 (field reason), audited '
    'failed/invalid_reason, the role restored.';
GRANT EXECUTE ON FUNCTION api.case_reason(record, text, text) TO
    nrm_coordinator;

CREATE OR REPLACE FUNCTION api.case_lock(p_p record, p_case_id uuid,
    p_if_match integer, p_action text, OUT c care.case, OUT answer jsonb)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_l record;
BEGIN
	SELECT * INTO v_l FROM api.case_lock(p_p.key_id, p_p.agency_id,
	    p_p.role, p_p.regions, p_case_id, p_if_match, p_action,
	    p_p.request_id, p_p.client);
	c := v_l.c;
	IF v_l.problem IS NOT NULL THEN
		answer := api.leave(p_p, v_l.problem);
	END IF;
END
$$;
COMMENT ON FUNCTION api.case_lock(record, uuid, integer, text) IS
    'Lifecycle helper: api.case_lock for the principal of api.enter; '
    'answer is its 404/412/409 with the role restored, NULL when the '
    'action may go on (c: the locked case).';
GRANT EXECUTE ON FUNCTION api.case_lock(record, uuid, integer, text) TO
    nrm_coordinator;

CREATE OR REPLACE FUNCTION api.case_lock(p_p record, p_case_id uuid,
    p_if_match integer, p_action text, p_reason text, OUT c care.case,
    OUT answer jsonb)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_l record;
BEGIN
	answer := api.case_reason(p_p, p_action, p_reason);
	IF answer IS NULL THEN
		SELECT * INTO v_l
		FROM api.case_lock(p_p, p_case_id, p_if_match, p_action);
		c := v_l.c;
		answer := v_l.answer;
	END IF;
END
$$;
COMMENT ON FUNCTION api.case_lock(record, uuid, integer, text, text) IS
    'Lifecycle helper: api.case_reason, then api.case_lock for the '
    'principal; answer is the first refusal (role restored), NULL when '
    'the action may go on (c: the locked case).';
GRANT EXECUTE ON FUNCTION api.case_lock(record, uuid, integer, text, text)
    TO nrm_coordinator;

CREATE OR REPLACE FUNCTION api.case_done(p_p record, p_case_id uuid,
    p_history text, p_detail jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO care.case_history (case_id, action, api_key_id, detail)
	VALUES (p_case_id, p_history, p_p.key_id, p_detail);
	RETURN api.answer(p_p, 'care', api.case_answer(p_case_id));
END
$$;
COMMENT ON FUNCTION api.case_done(record, uuid, text, jsonb) IS
    'Lifecycle helper: the history row of an action done (p_history, '
    'p_detail), then the audited 200 with the case (api.case_answer).';
GRANT EXECUTE ON FUNCTION api.case_done(record, uuid, text, jsonb) TO
    nrm_coordinator;

/*
 * Entering an inbox (0004's functions, new bodies since 0028, issue 16;
 * docs/inbox.md).  inbox_seq is drawn without the old national lock: it
 * is unique, and orders the keyset, but it is not in commit order.  The
 * long-poll watermark does not use it: every entry records its
 * transaction (inbox_xid), and a watermark is a snapshot of those
 * (care.inbox_mark), so entries commit side by side.
 */
CREATE OR REPLACE FUNCTION care.next_inbox_seq() RETURNS bigint
LANGUAGE sql VOLATILE
-- A standard-SQL body (the sequence bound when created), no SET clause:
-- inlined into care.case_inbox_entry's expression (docs/performance.md).
RETURN pg_catalog.nextval('care.case_inbox_seq');
COMMENT ON FUNCTION care.next_inbox_seq() IS
    'The next inbox_seq: unique, not in commit order (0028: no lock; the '
    'watermark is care.inbox_mark).';

/*
 * BEFORE INSERT OR UPDATE on care.case (0004's trigger).  A case enters
 * an inbox when it is created, and when after an update it is open and
 * it was not open before (declined while taken, reopened), or it
 * changed region (transferred, escalated, declined to the national
 * desk), or it was declined (declines grew); and, whatever its state,
 * when the reporter sent a follow-up (followups grew).  Entering draws a new
 * inbox_seq and records the transaction (inbox_xid); otherwise both
 * stay.  SECURITY DEFINER: the writer's role needs no privilege on the
 * sequence.  An explicit NULL for declines becomes 0.
 */
CREATE OR REPLACE FUNCTION care.case_inbox_entry() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_OP = 'INSERT' OR (NEW.state = 'open' AND (OLD.state <> 'open'
	    OR NEW.region_code <> OLD.region_code
	    OR NEW.declines > OLD.declines))
	    -- a follow-up from the reporter (0027), whatever the state
	    OR NEW.followups > OLD.followups THEN
		IF TG_OP = 'INSERT' THEN
			NEW.declines := COALESCE(NEW.declines, 0);
			NEW.followups := COALESCE(NEW.followups, 0);
		END IF;
		NEW.inbox_seq := care.next_inbox_seq();
		NEW.inbox_xid := pg_catalog.pg_current_xact_id();
	ELSE
		NEW.inbox_seq := OLD.inbox_seq;
		NEW.inbox_xid := OLD.inbox_xid;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION care.case_inbox_entry() IS
    'Trigger: draws a new inbox_seq and records the transaction '
    '(inbox_xid) when a case enters an inbox (the one place that decides '
    'what "entering" is); keeps both otherwise.';

/*
 * The inbox watermark of regions p_regions, as the calling statement's
 * snapshot sees them: "xmin:xmax:xip:seq" (docs/inbox.md, "The
 * watermark").  m is the newest visible entry's transaction (the
 * greatest inbox_xid of the regions' cases), s the greatest inbox_seq
 * among the entries of m.  The first three fields are a pg_snapshot S
 * in which m is visible, every transaction below m that was running
 * is not (at most eight of them, lowest first; past the eighth, xmax
 * stops at the ninth, which only makes more entries count as new), and
 * every later one is not.  An entry is newer than the watermark when
 * its inbox_xid is not visible in S, or is m with an inbox_seq above s
 * (the reader's own transaction only: a committed m has no later
 * entries).  It depends on the regions' entries only (and on the
 * transactions older than m still running): other regions' arrivals
 * leave it as it was.  STABLE: the caller's snapshot.
 */
CREATE OR REPLACE FUNCTION care.inbox_mark(p_regions text[]) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_m bigint;
	v_s bigint;
	v_run bigint[];
	v_xmax bigint;
BEGIN
	-- The newest entry: one backward index probe per region.
	SELECT l.x, l.s INTO v_m, v_s
	FROM pg_catalog.unnest(p_regions) r(code)
	CROSS JOIN LATERAL (SELECT c.inbox_xid::text::bigint AS x,
	        c.inbox_seq AS s
	    FROM care.case c
	    WHERE c.region_code = r.code
	    ORDER BY c.inbox_xid DESC, c.inbox_seq DESC
	    LIMIT 1) l
	ORDER BY l.x DESC, l.s DESC
	LIMIT 1;
	v_m := COALESCE(v_m, 0);
	-- The transactions below it still running, lowest first: nine at
	-- most (the ninth only bounds xmax).
	v_run := ARRAY(SELECT p.x::text::bigint
	    FROM pg_catalog.pg_snapshot_xip(pg_catalog.pg_current_snapshot())
	        p(x)
	    WHERE p.x::text::bigint < v_m
	    ORDER BY 1
	    LIMIT 9);
	v_xmax := COALESCE(v_run[9], v_m + 1);
	v_run := v_run[1:8];
	RETURN COALESCE(v_run[1], v_xmax) || ':' || v_xmax || ':'
	    || pg_catalog.array_to_string(v_run, ',') || ':'
	    || COALESCE(v_s, 0);
END
$$;
COMMENT ON FUNCTION care.inbox_mark(text[]) IS
    'The inbox watermark of the regions as this statement sees them: '
    '"xmin:xmax:xip:seq" (a snapshot of the entries'' transactions and a '
    'tie-break; docs/inbox.md).  Opaque to nrmd, which seals it.';
GRANT EXECUTE ON FUNCTION care.inbox_mark(text[]) TO nrm_coordinator;

/*
 * A watermark care.inbox_mark wrote, read back: its snapshot, the
 * newest entry's transaction m (xmax - 1), the tie-break s and the
 * lowest transaction id that can be newer (an index bound).  Raises
 * 22P02 on any other text (api.inbox answers 400 on since).
 */
CREATE OR REPLACE FUNCTION care.inbox_since(p_mark text,
    OUT snap pg_snapshot, OUT last xid8, OUT last_seq bigint, OUT low xid8)
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_mark !~ '^[0-9]{1,19}:[0-9]{1,19}:[0-9,]{0,200}:[0-9]{1,19}$'
	THEN
		RAISE EXCEPTION 'not a watermark'
		    USING ERRCODE = 'invalid_text_representation';
	END IF;
	snap := pg_catalog.substring(p_mark,
	    '^([0-9]+:[0-9]+:[0-9,]*):')::pg_snapshot;
	last := (pg_catalog.pg_snapshot_xmax(snap)::text::bigint - 1)::text
	    ::xid8;
	last_seq := pg_catalog.substring(p_mark, ':([0-9]+)$')::bigint;
	low := LEAST(pg_catalog.pg_snapshot_xmin(snap), last);
END
$$;
COMMENT ON FUNCTION care.inbox_since(text) IS
    'A watermark (care.inbox_mark) read back: snapshot, newest '
    'transaction, tie-break, lowest newer transaction id; 22P02 if the '
    'text is not one.';
GRANT EXECUTE ON FUNCTION care.inbox_since(text) TO nrm_coordinator;

/*
 * The inbox page of GET /v1/inbox for a principal p_p that api.enter
 * authenticated in this transaction, whose scope is the one published
 * (its last api.enter): the checks of the filters, the page, its audit
 * event and the answer.  api.inbox (the door) calls it after its
 * api.enter; api.inbox_many for the first reader of each scope, whom it
 * has authenticated already (stop 32: once, not twice).  Executable by
 * nrm_coordinator only, the role the two doors run as.
 */
CREATE OR REPLACE FUNCTION api.inbox_page(p_p record,
    p_state text DEFAULT 'open', p_priority text DEFAULT NULL,
    p_after_key jsonb DEFAULT NULL, p_since text DEFAULT NULL,
    p_limit integer DEFAULT 50, p_mine boolean DEFAULT false) RETURNS json
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
-- One plan a session for the page's statement: with the planner's
-- default, PostgreSQL judged the generic plan costlier than a custom one
-- and planned the page again at every call, 30% of its CPU
-- (docs/performance.md).  The plan is the same index walk either way.
-- json, not jsonb (0029): the page is written as text once, where each
-- jsonb around it would walk the 50 items again.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
	v_p ALIAS FOR p_p;
	v_state text := COALESCE(p_state, 'open');
	v_limit integer := COALESCE(p_limit, 50);
	v_ap integer;
	v_ad timestamptz;
	v_as bigint;
	v_states text[];
	v_kp integer;
	v_kd timestamptz;
	v_ks bigint;
	v_snap pg_snapshot;
	v_last xid8;
	v_lseq bigint;
	v_low xid8;
	v_field text;
	v_detail text;
	v_page record;
BEGIN
	IF v_state NOT IN ('open', 'taken', 'closed', 'transfer_pending',
	    'all') THEN
		v_field := 'state';
		v_detail := 'state must be open, taken, closed, '
		    'transfer_pending or all';
	ELSIF p_priority IS NOT NULL
	    AND p_priority NOT IN ('urgent', 'high', 'normal') THEN
		v_field := 'priority';
		v_detail := 'priority must be urgent, high or normal';
	ELSIF v_limit NOT BETWEEN 1 AND 200 THEN
		v_field := 'limit';
		v_detail := 'limit must be 1 to 200';
	ELSIF p_after_key IS NOT NULL THEN
		-- {"p": 0..2, "d": timestamp, "s": integer >= 0}, nothing else.
		BEGIN
			IF pg_catalog.jsonb_typeof(p_after_key) <> 'object'
			    OR (SELECT pg_catalog.count(*) FROM
			        pg_catalog.jsonb_object_keys(p_after_key)) <> 3
			    OR pg_catalog.jsonb_typeof(p_after_key->'p')
			        IS DISTINCT FROM 'number'
			    OR pg_catalog.jsonb_typeof(p_after_key->'d')
			        IS DISTINCT FROM 'string'
			    OR pg_catalog.jsonb_typeof(p_after_key->'s')
			        IS DISTINCT FROM 'number' THEN
				RAISE EXCEPTION 'bad sort key'
				    USING ERRCODE = 'invalid_parameter_value';
			END IF;
			v_ap := (p_after_key->>'p')::integer;
			v_ad := (p_after_key->>'d')::timestamptz;
			v_as := (p_after_key->>'s')::bigint;
			IF v_ap NOT BETWEEN 0 AND 2 OR v_as < 0 THEN
				RAISE EXCEPTION 'bad sort key'
				    USING ERRCODE = 'invalid_parameter_value';
			END IF;
		EXCEPTION WHEN OTHERS THEN
			v_field := 'after';
			v_detail := 'the cursor is not valid';
		END;
	END IF;
	IF v_field IS NULL AND p_since IS NOT NULL THEN
		BEGIN
			SELECT * INTO v_snap, v_last, v_lseq, v_low
			FROM care.inbox_since(p_since);
		EXCEPTION WHEN OTHERS THEN
			v_field := 'since';
			v_detail := 'since is not a watermark';
		END;
	END IF;
	IF v_field IS NOT NULL THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'bad_request',
		    api.problem(400, 'bad_request', v_detail, v_field))::json;
	END IF;
	v_states := CASE v_state WHEN 'all' THEN ARRAY['open', 'taken',
	    'closed', 'transfer_pending'] ELSE ARRAY[v_state] END;
	-- No cursor: a key below every key (rank 0..2), so that the cursor
	-- stays one index condition.
	v_kp := COALESCE(v_ap, -1);
	v_kd := COALESCE(v_ad, '-infinity');
	v_ks := COALESCE(v_as, -1);

	-- Keyset page in (prio_rank, take_by, inbox_seq) order: the key is
	-- unique (inbox_seq is), so pages neither repeat nor skip a case
	-- whose key did not change, whatever arrives meanwhile.  The page
	-- and the watermark come from one statement, so one snapshot: no
	-- case can be counted in the watermark but missing from the page.
	-- "Newer than since": the entry's transaction is not visible in
	-- since's snapshot, or is its newest with a later inbox_seq
	-- (care.inbox_mark; docs/inbox.md).
	--
	-- Set-based (issue 16, docs/performance.md): the keys come first,
	-- at most v_limit from each (region, state) of the question in the
	-- order of case_inbox_idx (an index scan that stops at v_limit, the
	-- cursor an index condition), and the cases pending transfer to the
	-- caller's regions; the first v_limit of those are the page, and
	-- their items are the stored text of each case (care.case.item,
	-- written when the case is; 0030).
	WITH k AS (
		SELECT x.id, x.prio_rank, x.take_by, x.inbox_seq
		FROM pg_catalog.unnest(v_p.regions) r(code)
		CROSS JOIN pg_catalog.unnest(v_states) st(state)
		CROSS JOIN LATERAL (SELECT c.id, CASE c.priority
		        WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END
		        AS prio_rank, c.take_by, c.inbox_seq
		    FROM care.case c
		    WHERE c.region_code = r.code AND c.state = st.state
		      AND (CASE c.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1
		          ELSE 2 END, c.take_by, c.inbox_seq) > (v_kp, v_kd, v_ks)
		      AND (p_priority IS NULL OR c.priority = p_priority)
		      AND (p_mine IS NOT TRUE OR c.holder_key_id = v_p.key_id)
		      AND (v_snap IS NULL OR (c.inbox_xid >= v_low
		          AND (NOT pg_catalog.pg_visible_in_snapshot(c.inbox_xid,
		              v_snap)
		          OR (c.inbox_xid = v_last AND c.inbox_seq > v_lseq))))
		    ORDER BY CASE c.priority WHEN 'urgent' THEN 0 WHEN 'high'
		        THEN 1 ELSE 2 END, c.take_by, c.inbox_seq
		    LIMIT v_limit) x
		UNION ALL
		SELECT c.id, CASE c.priority WHEN 'urgent' THEN 0 WHEN 'high'
		        THEN 1 ELSE 2 END, c.take_by, c.inbox_seq
		FROM care.case c
		WHERE c.transfer_to = ANY (v_p.regions)
		  AND NOT c.region_code = ANY (v_p.regions)
		  AND c.state = ANY (v_states)
		  AND (CASE c.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1
		      ELSE 2 END, c.take_by, c.inbox_seq) > (v_kp, v_kd, v_ks)
		  AND (p_priority IS NULL OR c.priority = p_priority)
		  AND (p_mine IS NOT TRUE OR c.holder_key_id = v_p.key_id)
		  AND (v_snap IS NULL OR (c.inbox_xid >= v_low
		      AND (NOT pg_catalog.pg_visible_in_snapshot(c.inbox_xid,
		          v_snap)
		      OR (c.inbox_xid = v_last AND c.inbox_seq > v_lseq))))),
	page AS (
		SELECT k.id, k.prio_rank, k.take_by, k.inbox_seq FROM k
		ORDER BY k.prio_rank, k.take_by, k.inbox_seq
		LIMIT v_limit)
	SELECT COALESCE(pg_catalog.json_agg(c.item ORDER BY q.prio_rank,
	        q.take_by, q.inbox_seq), '[]'::json) AS items,
	    pg_catalog.count(*) AS n,
	    (pg_catalog.array_agg(q.prio_rank ORDER BY q.prio_rank DESC,
	        q.take_by DESC, q.inbox_seq DESC))[1] AS last_p,
	    (pg_catalog.array_agg(q.take_by ORDER BY q.prio_rank DESC,
	        q.take_by DESC, q.inbox_seq DESC))[1] AS last_d,
	    (pg_catalog.array_agg(q.inbox_seq ORDER BY q.prio_rank DESC,
	        q.take_by DESC, q.inbox_seq DESC))[1] AS last_s,
	    (SELECT care.inbox_mark(v_p.regions)) AS watermark
	INTO v_page
	FROM page q
	JOIN care.case c ON c.id = q.id;

	PERFORM api.answer(v_p, 'care', NULL); /* the audit event */
	RETURN pg_catalog.json_build_object('status', 200, 'body',
	    pg_catalog.json_build_object('items', v_page.items,
	        'next_key', CASE WHEN v_page.n = v_limit
	            THEN api.sort_key(v_page.last_p, v_page.last_d,
	                v_page.last_s) END,
	        'watermark', v_page.watermark));
END
$$;
COMMENT ON FUNCTION api.inbox_page(record, text, text, jsonb, text, integer,
    boolean) IS
    'The inbox page (checks, page, audit event, answer) for a principal '
    'api.enter authenticated in this transaction; api.inbox and '
    'api.inbox_many call it.';
REVOKE ALL ON FUNCTION api.inbox_page(record, text, text, jsonb, text,
    integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.inbox_page(record, text, text, jsonb, text,
    integer, boolean) TO nrm_coordinator;

CREATE OR REPLACE FUNCTION api.inbox(p_token_hash bytea, p_request_id text,
    p_client inet, p_state text DEFAULT 'open', p_priority text DEFAULT NULL,
    p_after_key jsonb DEFAULT NULL, p_since text DEFAULT NULL,
    p_limit integer DEFAULT 50, p_mine boolean DEFAULT false) RETURNS json
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'inbox.list', 'inbox', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial::json;
	END IF;
	RETURN api.inbox_page(v_p, p_state, p_priority, p_after_key, p_since,
	    p_limit, p_mine);
END
$$;
COMMENT ON FUNCTION api.inbox(bytea, text, inet, text, text, jsonb, text,
    integer, boolean) IS
    'GET /v1/inbox: the cases of the caller''s regions (coordinator; '
    'p_mine: only those the caller holds), '
    'keyset-paged in (priority, take_by, inbox_seq) order, with the '
    'inbox watermark (care.inbox_mark; p_since: only the entries newer '
    'than one); one audit event per call.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

CREATE OR REPLACE FUNCTION api.inbox_wakeup_check(p_token_hash bytea,
    p_request_id text, p_client inet, p_since text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_snap pg_snapshot;
	v_last xid8;
	v_lseq bigint;
	v_low xid8;
	v_newer boolean;
	v_watermark text;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'inbox.check', 'inbox', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	BEGIN
		SELECT * INTO v_snap, v_last, v_lseq, v_low
			FROM care.inbox_since(p_since);
	EXCEPTION WHEN OTHERS THEN
		RETURN api.leave(v_p, api.problem(400, 'bad_request',
		    'since is not a watermark', 'since'));
	END;
	-- One statement, one snapshot: "newer" and the watermark agree.
	SELECT EXISTS (SELECT 1 FROM care.case c
	        WHERE c.region_code = ANY (v_p.regions)
	          AND (v_snap IS NULL OR (c.inbox_xid >= v_low
	          AND (NOT pg_catalog.pg_visible_in_snapshot(c.inbox_xid,
	              v_snap)
	          OR (c.inbox_xid = v_last
	              AND c.inbox_seq > v_lseq))))),
	    care.inbox_mark(v_p.regions)
	INTO v_newer, v_watermark;
	RETURN api.leave(v_p,
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	        pg_catalog.jsonb_build_object('newer', v_newer,
	            'watermark', v_watermark)));
END
$$;
COMMENT ON FUNCTION api.inbox_wakeup_check(bytea, text, inet, text) IS
    'Long-poll re-check: whether a case of the caller''s regions entered '
    'an inbox after watermark p_since (null: from the start), and the '
    'current watermark.  Reads no case data; not audited (denials are).';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
