-- 0004_inbox.sql - the coordinator inbox and the case lifecycle: inbox
-- sequence and NOTIFY, take / decline / transfer / close / reopen as
-- compare-and-set on the case version, the full case read, and the
-- once-only escalation of cases nobody took (docs/sql-api.md,
-- docs/case-lifecycle.md).
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  0001..0003 are released and stay unchanged.

-- ---------------------------------------------------------------------
-- The sweeper's role.  NOLOGIN, and nrm_app is NOT a member: nrm_app
-- can act as it only through care.escalate_overdue (SECURITY DEFINER,
-- owned by nrm_sweeper), so the daemon's login role gets no UPDATE on
-- care.case and cannot assume these privileges with SET ROLE.
-- nrm_owner becomes a member only because a new owner must be a role
-- the current one belongs to (ALTER FUNCTION ... OWNER TO).
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_sweeper') THEN
		CREATE ROLE nrm_sweeper NOLOGIN;
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, 'nrm_sweeper', 'MEMBER')
	THEN
		EXECUTE pg_catalog.format('GRANT nrm_sweeper TO %I',
		    current_user);
	END IF;
	IF pg_catalog.pg_has_role('nrm_app', 'nrm_sweeper', 'MEMBER') THEN
		REVOKE nrm_sweeper FROM nrm_app;
	END IF;
END
$roles$;
COMMENT ON ROLE nrm_sweeper IS
    'nrm: owner of care.escalate_overdue (SECURITY DEFINER); holds what '
    'escalating an overdue case writes.  NOLOGIN; nrm_app is no member.';

-- ---------------------------------------------------------------------
-- care.case: inbox sequence, declines, closing reason, escalation mark.
-- ---------------------------------------------------------------------
CREATE SEQUENCE care.case_inbox_seq AS bigint;
COMMENT ON SEQUENCE care.case_inbox_seq IS
    'Source of care.case.inbox_seq; drawn only by care.next_inbox_seq(), '
    'under the inbox lock, so values are handed out in commit order.';

ALTER TABLE care.case
	ADD COLUMN inbox_seq bigint,
	ADD COLUMN declines integer NOT NULL DEFAULT 0,
	ADD COLUMN closed_reason text,
	ADD COLUMN escalated_at timestamptz;

-- Cases that exist already enter the sequence in arrival order.
UPDATE care.case c SET inbox_seq = o.n
FROM (SELECT id, pg_catalog.row_number() OVER (ORDER BY created_at, id) AS n
    FROM care.case) o
WHERE o.id = c.id;
SELECT pg_catalog.setval('care.case_inbox_seq',
    COALESCE((SELECT pg_catalog.max(inbox_seq) FROM care.case), 0) + 1,
    false);

ALTER TABLE care.case
	ALTER COLUMN inbox_seq SET NOT NULL,
	ADD CONSTRAINT case_inbox_seq_key UNIQUE (inbox_seq),
	ADD CONSTRAINT case_declines_check CHECK (declines >= 0),
	-- The closing reasons (docs/case-lifecycle.md).  A literal list, not
	-- a function call: every role that inserts a case would need
	-- EXECUTE on a function used in a CHECK.
	ADD CONSTRAINT case_closed_reason_check CHECK (
	    (state = 'closed') = (closed_reason IS NOT NULL)
	    AND (closed_reason IS NULL OR closed_reason IN ('victim_supported',
	        'referred_elsewhere', 'no_indication_of_trafficking',
	        'duplicate', 'unreachable', 'other'))),
	ADD CONSTRAINT case_escalated_at_check
	    CHECK (escalated_at IS NULL OR escalated_at >= created_at);

COMMENT ON COLUMN care.case.inbox_seq IS
    'Position in the global inbox order: drawn when the case is created '
    'and again every time it enters an inbox (routed, declined back, '
    'transferred, escalated, reopened).  Set by the case_inbox_entry '
    'trigger only; a value the writer supplies is replaced.  Commit '
    'order: a reader that saw N will only ever see later entries > N.';
COMMENT ON COLUMN care.case.declines IS
    'How often the case was declined, over its whole life (the mark '
    'shown in the inbox).';
COMMENT ON COLUMN care.case.closed_reason IS
    'Why a closed case was closed: a code from the documented list; '
    'null unless closed.';
COMMENT ON COLUMN care.case.escalated_at IS
    'When the sweeper moved the case to the national desk because '
    'nobody took it by take_by (see care.escalation); null if never.';

-- Inbox page: region, state, then the inbox order.  The rank expression
-- is the one in care.case_item (no function: see above).
CREATE INDEX case_inbox_idx ON care.case (region_code, state,
    (CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END),
    take_by, inbox_seq);
-- Watermark and "newer than N": the highest inbox_seq per region.
CREATE INDEX case_region_inbox_seq_idx ON care.case (region_code,
    inbox_seq);
-- The sweeper's candidates.
CREATE INDEX case_escalation_due_idx ON care.case (take_by)
    WHERE state = 'open' AND escalated_at IS NULL
        AND region_code <> 'NATIONAL';

-- History gains 'reopened' (same constraint name, one more action).
ALTER TABLE care.case_history
	DROP CONSTRAINT case_history_action_check,
	ADD CONSTRAINT case_history_action_check CHECK (action IN ('routed',
	    'taken', 'declined', 'released', 'transferred', 'escalated',
	    'closed', 'reopened', 'first_contact'));

-- ---------------------------------------------------------------------
-- care.escalation: at most one per case, by its primary key.
-- ---------------------------------------------------------------------
CREATE TABLE care.escalation (
	case_id uuid NOT NULL,
	at timestamptz NOT NULL DEFAULT now(),
	from_region text NOT NULL,
	reason text NOT NULL,
	CONSTRAINT escalation_pkey PRIMARY KEY (case_id),
	CONSTRAINT escalation_case_id_fkey FOREIGN KEY (case_id)
	    REFERENCES care.case (id),
	CONSTRAINT escalation_from_region_fkey FOREIGN KEY (from_region)
	    REFERENCES ref.region (code),
	CONSTRAINT escalation_from_region_check
	    CHECK (from_region <> 'NATIONAL'),
	CONSTRAINT escalation_reason_check
	    CHECK (reason IN ('take_deadline_missed'))
);
COMMENT ON TABLE care.escalation IS
    'The escalation of a case to the national desk by the sweeper: when, '
    'from which region, why (a code).  The primary key makes it happen '
    'at most once per case, whatever the number of daemons.  No '
    'personal data.';

-- ---------------------------------------------------------------------
-- Vocabularies and the state table: each in exactly one place.
-- ---------------------------------------------------------------------

/*
 * The lifecycle state table (docs/case-lifecycle.md).  p_from is the
 * case's position as seen by the caller: open, taken_by_caller,
 * taken_by_other or closed.  Returns the state the action leads to, or
 * NULL when the action is illegal there (answered 409).
 */
CREATE FUNCTION care.transition(p_from text, p_action text) RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT t.to_state
	FROM (VALUES
	    ('open', 'take', 'taken'),
	    ('open', 'decline', 'open'),
	    ('open', 'transfer', 'open'),
	    ('taken_by_caller', 'decline', 'open'),
	    ('taken_by_caller', 'transfer', 'open'),
	    ('taken_by_caller', 'close', 'closed'),
	    ('closed', 'reopen', 'open')) AS t(from_pos, action, to_state)
	WHERE t.from_pos = p_from AND t.action = p_action
$$;
COMMENT ON FUNCTION care.transition(text, text) IS
    'The state table: the state (from_position, action) leads to, or '
    'NULL when illegal.  Used by every lifecycle function.';

-- The reason codes each action accepts (docs/case-lifecycle.md).  Codes,
-- never free text: history and audit never hold text about a person.
-- The close list is also case_closed_reason_check (tests/db keep the
-- two equal).
CREATE FUNCTION care.reason_allowed(p_action text, p_reason text)
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
	    ('reopen', 'closed_in_error'), ('reopen', 'other'))
	    AS r(action, reason)
	WHERE r.action = p_action AND r.reason = p_reason)
$$;
COMMENT ON FUNCTION care.reason_allowed(text, text) IS
    'Whether p_reason is one of the documented reason codes of a '
    'lifecycle action (decline, transfer, close, reopen).';

-- Seconds as an ISO 8601 duration: 3600 -> PT1H, 90000 -> P1DT1H.
CREATE FUNCTION care.iso_duration(p_seconds bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_seconds <= 0 THEN 'PT0S' ELSE
	    'P' || CASE WHEN p_seconds >= 86400
	        THEN (p_seconds / 86400)::text || 'D' ELSE '' END
	    || CASE WHEN p_seconds % 86400 = 0 THEN '' ELSE 'T'
	        || CASE WHEN p_seconds % 86400 >= 3600
	            THEN (p_seconds % 86400 / 3600)::text || 'H' ELSE '' END
	        || CASE WHEN p_seconds % 3600 >= 60
	            THEN (p_seconds % 3600 / 60)::text || 'M' ELSE '' END
	        || CASE WHEN p_seconds % 60 > 0
	            THEN (p_seconds % 60)::text || 'S' ELSE '' END
	    END END
$$;
COMMENT ON FUNCTION care.iso_duration(bigint) IS
    'Seconds as an ISO 8601 duration (days, hours, minutes, seconds).';

-- ---------------------------------------------------------------------
-- Entering an inbox: sequence number under the inbox lock, and NOTIFY.
-- ---------------------------------------------------------------------

/*
 * The next inbox_seq, drawn under a transaction-level advisory lock
 * (key 4, 1: two-int keys never collide with the one-bigint idempotency
 * keys) that is held until commit.  Entries into an inbox therefore
 * commit in inbox_seq order, and a watermark N a reader saw is final:
 * no case with inbox_seq <= N can become visible later.  Without the
 * lock, a transaction holding seq 10 could commit after one holding 11,
 * and a long-poll waiting for "newer than 11" would never see case 10.
 * The cost: inbox entries (intake, decline, transfer, reopen,
 * escalation) serialize from the entry to their commit.  Takes and
 * closes do not take the lock.
 */
CREATE FUNCTION care.next_inbox_seq() RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM pg_catalog.pg_advisory_xact_lock(4, 1);
	RETURN pg_catalog.nextval('care.case_inbox_seq');
END
$$;
COMMENT ON FUNCTION care.next_inbox_seq() IS
    'The next inbox_seq, under the inbox lock (advisory xact lock (4, 1)) '
    'held until commit, so entries commit in sequence order.';

/*
 * BEFORE INSERT OR UPDATE on care.case.  A case enters an inbox when it
 * is created, and when after an update it is open and it was not open
 * before (declined while taken, reopened), or it changed region
 * (transferred, escalated, declined to the national desk), or it was
 * declined (declines grew).  Entering draws a new inbox_seq; otherwise
 * inbox_seq never changes.  SECURITY DEFINER: the writer's role needs
 * no privilege on the sequence.  An explicit NULL for declines (an
 * INSERT ... SELECT * from a record) becomes 0.
 */
CREATE FUNCTION care.case_inbox_entry() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		NEW.declines := COALESCE(NEW.declines, 0);
		NEW.inbox_seq := care.next_inbox_seq();
	ELSIF NEW.state = 'open' AND (OLD.state <> 'open'
	    OR NEW.region_code <> OLD.region_code
	    OR NEW.declines > OLD.declines) THEN
		NEW.inbox_seq := care.next_inbox_seq();
	ELSE
		NEW.inbox_seq := OLD.inbox_seq;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION care.case_inbox_entry() IS
    'Trigger: draws a new inbox_seq when a case enters an inbox (the one '
    'place that decides what "entering" is); keeps it otherwise.';
CREATE TRIGGER case_inbox_entry
BEFORE INSERT OR UPDATE ON care.case
FOR EACH ROW EXECUTE FUNCTION care.case_inbox_entry();
COMMENT ON TRIGGER case_inbox_entry ON care.case IS
    'Assigns inbox_seq on insert and whenever the case enters an inbox.';

/*
 * AFTER a case entered an inbox: NOTIFY nrm_inbox with the region code
 * only.  PostgreSQL delivers notifications at commit and folds
 * identical (channel, payload) pairs of one transaction into one, so a
 * transaction that puts several cases into one region notifies it once.
 */
CREATE FUNCTION care.case_inbox_notify() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM pg_catalog.pg_notify('nrm_inbox', NEW.region_code);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION care.case_inbox_notify() IS
    'Trigger: pg_notify(''nrm_inbox'', region code) when a case enters '
    'an inbox.  The payload is the region code and nothing else.';
CREATE TRIGGER case_inbox_notify_insert
AFTER INSERT ON care.case
FOR EACH ROW EXECUTE FUNCTION care.case_inbox_notify();
COMMENT ON TRIGGER case_inbox_notify_insert ON care.case IS
    'A new case (api.intake) wakes its region''s inbox.';
CREATE TRIGGER case_inbox_notify_update
AFTER UPDATE ON care.case
FOR EACH ROW WHEN (OLD.inbox_seq IS DISTINCT FROM NEW.inbox_seq)
EXECUTE FUNCTION care.case_inbox_notify();
COMMENT ON TRIGGER case_inbox_notify_update ON care.case IS
    'A case that re-entered an inbox (new inbox_seq) wakes its region.';

-- ---------------------------------------------------------------------
-- care.case_item: the inbox item of a case, one definition for the
-- inbox, the lifecycle answers and the case read.  No personal data:
-- no names, birth date, contact or narrative.
-- ---------------------------------------------------------------------
CREATE VIEW care.case_item WITH (security_invoker = true) AS
SELECT c.id, c.region_code, c.state, c.priority,
    CASE c.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END
        AS prio_rank,
    c.take_by, c.inbox_seq,
    pg_catalog.jsonb_build_object(
        'case_id', c.id,
        'region', c.region_code,
        'priority', c.priority,
        'state', c.state,
        'holder', c.holder_key_id,
        'holder_agency', a.name,
        'take_by', api.rfc3339(c.take_by),
        'first_contact_by', api.rfc3339(c.first_contact_by),
        'minor', s.minor,
        'exploitation', pg_catalog.to_jsonb(s.exploitation),
        'urgency', pg_catalog.jsonb_build_object(
            'immediate_danger', s.immediate_danger,
            'needs_shelter', s.needs_shelter),
        'declines', c.declines,
        'escalated', c.escalated_at IS NOT NULL,
        'closed_reason', c.closed_reason,
        'inbox_seq', c.inbox_seq,
        'created_at', api.rfc3339(c.created_at),
        'version', c.version) AS item
FROM care.case c
JOIN intake.signal s ON s.id = c.signal_id
LEFT JOIN auth.api_key k ON k.id = c.holder_key_id
LEFT JOIN auth.agency a ON a.id = k.agency_id;
COMMENT ON VIEW care.case_item IS
    'Each case as an inbox item (jsonb) with its sort key columns '
    '(prio_rank, take_by, inbox_seq).  Triage facts only, no personal '
    'data.  security_invoker: read with the caller''s privileges.';

-- ---------------------------------------------------------------------
-- api helpers (SECURITY INVOKER; they run as the switched API role).
-- ---------------------------------------------------------------------

-- Timestamps in sort keys need microseconds to round-trip exactly.
CREATE FUNCTION api.sort_key(p_rank integer, p_take_by timestamptz,
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

/*
 * Lock a case for a lifecycle action of a coordinator and check, on the
 * locked (so current) row, in this order: it exists and lies in one of
 * p_regions (else 404, the same answer for both; audited denied with
 * reason not_found or out_of_scope), p_if_match (else 412, audited
 * failed/stale_version), and the state table (else 409, audited
 * failed/illegal_transition).  On success problem is NULL, c is the
 * locked row and from_pos the caller's position.
 *
 * SELECT ... FOR UPDATE at READ COMMITTED: when another transaction
 * holds the row lock, this waits for it to end; if it committed a
 * change, the row returned (and now locked) is that newest version, not
 * the one in this statement's snapshot.  So every check below sees the
 * state the winner left: a concurrent second taker is answered 409 with
 * the winner as holder, or takes the case if the first rolled back.
 */
CREATE FUNCTION api.case_lock(p_key_id uuid, p_agency_id uuid,
    p_role text, p_regions text[], p_case_id uuid, p_if_match integer,
    p_action text, p_request_id text, p_client inet, OUT c care.case,
    OUT from_pos text, OUT problem jsonb)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_audit_action text := 'case.' || p_action;
BEGIN
	SELECT * INTO c FROM care.case x WHERE x.id = p_case_id FOR UPDATE;
	IF NOT FOUND OR (c.region_code = ANY (p_regions)) IS NOT TRUE THEN
		PERFORM api.audit(p_key_id, p_agency_id, p_role,
		    v_audit_action, 'case', p_case_id::text, 'care', 'denied',
		    CASE WHEN c.id IS NULL THEN 'not_found'
		    ELSE 'out_of_scope' END, p_request_id, p_client);
		c := NULL;
		problem := api.problem(404, 'not_found',
		    'no case with this id in your regions');
		RETURN;
	END IF;
	from_pos := CASE c.state
	    WHEN 'taken' THEN CASE WHEN c.holder_key_id = p_key_id
	        THEN 'taken_by_caller' ELSE 'taken_by_other' END
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
    'scope), 412 (stale If-Match), 409 (state table), each audited.';

-- 200 with the case summary (inbox item, version included).
CREATE FUNCTION api.case_answer(p_case_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('status', 200, 'body', i.item)
	FROM care.case_item i WHERE i.id = p_case_id
$$;
COMMENT ON FUNCTION api.case_answer(uuid) IS
    'The 200 answer of a lifecycle action: the case as an inbox item.';

-- ---------------------------------------------------------------------
-- api entry points.  Role switch and restore as in 0001 (read the
-- comment there): every normal RETURN restores the caller's role.
-- ---------------------------------------------------------------------

CREATE FUNCTION api.inbox(p_token_hash bytea, p_request_id text,
    p_client inet, p_state text DEFAULT 'open', p_priority text DEFAULT NULL,
    p_after_key jsonb DEFAULT NULL, p_since bigint DEFAULT NULL,
    p_limit integer DEFAULT 50) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_state text := COALESCE(p_state, 'open');
	v_limit integer := COALESCE(p_limit, 50);
	v_ap integer;
	v_ad timestamptz;
	v_as bigint;
	v_field text;
	v_detail text;
	v_page record;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'inbox.list', 'inbox', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	IF v_state NOT IN ('open', 'taken', 'closed', 'all') THEN
		v_field := 'state';
		v_detail := 'state must be open, taken, closed or all';
	ELSIF p_priority IS NOT NULL
	    AND p_priority NOT IN ('urgent', 'high', 'normal') THEN
		v_field := 'priority';
		v_detail := 'priority must be urgent, high or normal';
	ELSIF v_limit NOT BETWEEN 1 AND 200 THEN
		v_field := 'limit';
		v_detail := 'limit must be 1 to 200';
	ELSIF p_since IS NOT NULL AND p_since < 0 THEN
		v_field := 'since';
		v_detail := 'since must not be negative';
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
	IF v_field IS NOT NULL THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'inbox.list', 'inbox', NULL, 'care', 'failed',
		    'bad_request', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(400, 'bad_request', v_detail, v_field);
	END IF;

	-- Keyset page in (prio_rank, take_by, inbox_seq) order: the key is
	-- unique (inbox_seq is), so pages neither repeat nor skip a case
	-- whose key did not change, whatever arrives meanwhile.  The page
	-- and the watermark come from one statement, so one snapshot: no
	-- case can be counted in the watermark but missing from the page.
	SELECT COALESCE(pg_catalog.jsonb_agg(q.item ORDER BY q.prio_rank,
	        q.take_by, q.inbox_seq), '[]'::jsonb) AS items,
	    pg_catalog.count(*) AS n,
	    (pg_catalog.array_agg(api.sort_key(q.prio_rank, q.take_by,
	        q.inbox_seq) ORDER BY q.prio_rank DESC, q.take_by DESC,
	        q.inbox_seq DESC))[1] AS last_key,
	    (SELECT COALESCE(pg_catalog.max(c.inbox_seq), 0) FROM care.case c
	        WHERE c.region_code = ANY (v_p.regions)) AS watermark
	INTO v_page
	FROM (SELECT i.item, i.prio_rank, i.take_by, i.inbox_seq
	    FROM care.case_item i
	    WHERE i.region_code = ANY (v_p.regions)
	      AND (v_state = 'all' OR i.state = v_state)
	      AND (p_priority IS NULL OR i.priority = p_priority)
	      AND (p_since IS NULL OR i.inbox_seq > p_since)
	      AND (v_ap IS NULL
	          OR (i.prio_rank, i.take_by, i.inbox_seq) > (v_ap, v_ad, v_as))
	    ORDER BY i.prio_rank, i.take_by, i.inbox_seq
	    LIMIT v_limit) q;

	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role, 'inbox.list',
	    'inbox', NULL, 'care', 'allowed', NULL, p_request_id, p_client);
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('items', v_page.items,
	        'next_key', CASE WHEN v_page.n = v_limit
	            THEN v_page.last_key END,
	        'watermark', v_page.watermark));
END
$$;
COMMENT ON FUNCTION api.inbox(bytea, text, inet, text, text, jsonb, bigint,
    integer) IS
    'GET /v1/inbox: the cases of the caller''s regions (coordinator), '
    'keyset-paged in (priority, take_by, inbox_seq) order, with the '
    'inbox watermark; one audit event per call.';

CREATE FUNCTION api.inbox_wakeup_check(p_token_hash bytea,
    p_request_id text, p_client inet, p_since bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_watermark bigint;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'inbox.check', 'inbox', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF p_since IS NOT NULL AND p_since < 0 THEN
		RETURN api.problem(400, 'bad_request',
		    'since must not be negative', 'since');
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);
	SELECT COALESCE(pg_catalog.max(c.inbox_seq), 0) INTO v_watermark
	FROM care.case c WHERE c.region_code = ANY (v_p.regions);
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object(
	        'newer', v_watermark > COALESCE(p_since, 0),
	        'watermark', v_watermark));
END
$$;
COMMENT ON FUNCTION api.inbox_wakeup_check(bytea, text, inet, bigint) IS
    'Long-poll re-check: whether a case of the caller''s regions entered '
    'an inbox after watermark p_since, and the current watermark.  Reads '
    'no case data; not audited (denials are).';

CREATE FUNCTION api.case_get(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_purpose text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_purpose text := COALESCE(p_purpose, 'care');
	v_region text;
	v_body jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator', 'assessor'], 'case.read', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	-- A purpose is a code like an audit reason: never free text.
	IF v_purpose !~ '^[a-z][a-z_]{0,63}$' THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.read', 'case', p_case_id::text, NULL, 'failed',
		    'bad_request', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(400, 'bad_request',
		    'purpose must be a lowercase code (a-z and _)', 'purpose');
	END IF;

	SELECT c.region_code INTO v_region FROM care.case c
	WHERE c.id = p_case_id;
	IF NOT FOUND OR (v_p.role = 'coordinator'
	    AND (v_region = ANY (v_p.regions)) IS NOT TRUE) THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.read', 'case', p_case_id::text, v_purpose, 'denied',
		    CASE WHEN v_region IS NULL THEN 'not_found'
		    ELSE 'out_of_scope' END, p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(404, 'not_found',
		    'no case with this id in your regions');
	END IF;

	SELECT pg_catalog.jsonb_build_object(
	    'case', i.item || pg_catalog.jsonb_build_object(
	        'signal_id', c.signal_id,
	        'rule_id', c.rule_id,
	        'ruleset_version', c.ruleset_version,
	        'explanation', c.explanation,
	        'escalated_at', api.rfc3339(c.escalated_at),
	        'updated_at', api.rfc3339(c.updated_at)),
	    'signal', pg_catalog.jsonb_build_object(
	        'signal_id', s.id,
	        'received_at', api.rfc3339(s.received_at),
	        'observed_at', api.rfc3339(s.observed_at),
	        'reporter', pg_catalog.jsonb_build_object('agency', ra.name,
	            'kind', ra.kind),
	        'reporter_reference', s.reporter_reference,
	        'municipality_code', s.municipality_code,
	        'routed_region', s.region_code,
	        'minor', s.minor,
	        'age_estimate', s.age_estimate,
	        'gender', s.gender,
	        'nationality', s.nationality,
	        'languages', pg_catalog.to_jsonb(s.languages),
	        'exploitation', pg_catalog.to_jsonb(s.exploitation),
	        'control_means', pg_catalog.to_jsonb(s.control_means),
	        'immediate_danger', s.immediate_danger,
	        'needs_shelter', s.needs_shelter,
	        'consent', s.consent),
	    'subject', pg_catalog.jsonb_build_object(
	        'given_name', sub.given_name,
	        'family_name', sub.family_name,
	        'birth_date', sub.birth_date,
	        'phone', sub.phone,
	        'address', sub.address,
	        'narrative', sub.narrative),
	    'history', COALESCE((SELECT pg_catalog.jsonb_agg(
	        pg_catalog.jsonb_build_object('at', api.rfc3339(h.at),
	            'action', h.action, 'by', h.api_key_id,
	            'detail', h.detail) ORDER BY h.id DESC)
	        FROM care.case_history h WHERE h.case_id = c.id),
	        '[]'::jsonb),
	    'version', c.version)
	INTO v_body
	FROM care.case c
	JOIN care.case_item i ON i.id = c.id
	JOIN intake.signal s ON s.id = c.signal_id
	JOIN auth.agency ra ON ra.id = s.agency_id
	LEFT JOIN care.subject sub ON sub.signal_id = c.signal_id
	WHERE c.id = p_case_id;

	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role, 'case.read',
	    'case', p_case_id::text, v_purpose, 'allowed', NULL, p_request_id,
	    p_client);
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body', v_body);
END
$$;
COMMENT ON FUNCTION api.case_get(bytea, text, inet, uuid, text) IS
    'GET /v1/cases/{id}: the full case with the subject''s PERSONAL DATA '
    'and its history, for coordinators of its region and assessors; an '
    'audited read (case.read); 404 for unknown and out-of-scope alike.';

CREATE FUNCTION api.case_take(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_if_match integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_l record;
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.take', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	SELECT * INTO v_l FROM api.case_lock(v_p.key_id, v_p.agency_id,
	    v_p.role, v_p.regions, p_case_id, p_if_match, 'take',
	    p_request_id, p_client);
	IF v_l.problem IS NOT NULL THEN
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN v_l.problem;
	END IF;

	UPDATE care.case SET state = 'taken', holder_key_id = v_p.key_id,
	    version = version + 1, updated_at = pg_catalog.now()
	WHERE id = p_case_id;
	INSERT INTO care.case_history (case_id, action, api_key_id, detail)
	VALUES (p_case_id, 'taken', v_p.key_id,
	    pg_catalog.jsonb_build_object('region', (v_l.c).region_code));
	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role, 'case.take',
	    'case', p_case_id::text, 'care', 'allowed', NULL, p_request_id,
	    p_client);
	v_resp := api.case_answer(p_case_id);
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN v_resp;
END
$$;
COMMENT ON FUNCTION api.case_take(bytea, text, inet, uuid, integer) IS
    'POST /v1/cases/{id}/take: open -> taken by the caller; of concurrent '
    'takers exactly one wins, the others get 409 naming the holder.';

CREATE FUNCTION api.case_decline(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_if_match integer, p_reason text,
    p_decline_limit integer DEFAULT 3) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_l record;
	v_region text;
	v_since bigint;
	v_decliners uuid[];
	v_region_declines integer;
	v_everyone boolean;
	v_why text;
	v_to text;
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.decline', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF p_decline_limit IS NULL OR p_decline_limit < 1 THEN
		RAISE EXCEPTION 'p_decline_limit must be at least 1'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	IF p_reason IS NULL OR NOT care.reason_allowed('decline', p_reason)
	THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.decline', 'case', p_case_id::text, 'care', 'failed',
		    'invalid_reason', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(422, 'validation',
		    'reason must be one of the documented decline reasons',
		    'reason');
	END IF;

	SELECT * INTO v_l FROM api.case_lock(v_p.key_id, v_p.agency_id,
	    v_p.role, v_p.regions, p_case_id, p_if_match, 'decline',
	    p_request_id, p_client);
	IF v_l.problem IS NOT NULL THEN
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN v_l.problem;
	END IF;
	v_region := (v_l.c).region_code;

	-- The declines since the case entered its current region: history
	-- rows after the last one that brought it there (routed,
	-- transferred, escalated, reopened, or a decline that moved it).
	SELECT COALESCE(pg_catalog.max(h.id), 0) INTO v_since
	FROM care.case_history h
	WHERE h.case_id = p_case_id
	  AND (h.action IN ('routed', 'transferred', 'escalated', 'reopened')
	      OR (h.action = 'declined'
	          AND h.detail->>'to_region' IS DISTINCT FROM
	              h.detail->>'region'));
	SELECT pg_catalog.count(*)::integer + 1,
	    pg_catalog.array_agg(DISTINCT h.api_key_id)
	        || ARRAY[v_p.key_id]
	INTO v_region_declines, v_decliners
	FROM care.case_history h
	WHERE h.case_id = p_case_id AND h.action = 'declined'
	  AND h.id > v_since;
	-- Every active coordinator key of the region has declined it.
	v_everyone := NOT EXISTS (SELECT 1 FROM auth.api_key k
	    WHERE k.role = 'coordinator' AND k.revoked_at IS NULL
	      AND v_region = ANY (k.regions)
	      AND NOT k.id = ANY (v_decliners));

	v_to := v_region;
	IF v_region <> 'NATIONAL' THEN
		IF v_everyone THEN
			v_why := 'declined_by_every_coordinator';
		ELSIF v_region_declines >= p_decline_limit THEN
			v_why := 'decline_limit_reached';
		END IF;
		IF v_why IS NOT NULL THEN
			v_to := 'NATIONAL';
		END IF;
	END IF;

	UPDATE care.case SET state = 'open', holder_key_id = NULL,
	    region_code = v_to, declines = declines + 1,
	    version = version + 1, updated_at = pg_catalog.now()
	WHERE id = p_case_id;
	INSERT INTO care.case_history (case_id, action, api_key_id, detail)
	VALUES (p_case_id, 'declined', v_p.key_id,
	    pg_catalog.jsonb_build_object('reason', p_reason,
	        'region', v_region, 'to_region', v_to,
	        'declines', (v_l.c).declines + 1,
	        'region_declines', v_region_declines,
	        'decline_limit', p_decline_limit, 'why', v_why));
	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'case.decline', 'case', p_case_id::text, 'care', 'allowed', NULL,
	    p_request_id, p_client);
	v_resp := api.case_answer(p_case_id);
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN v_resp;
END
$$;
COMMENT ON FUNCTION api.case_decline(bytea, text, inet, uuid, integer, text,
    integer) IS
    'POST /v1/cases/{id}/decline: open or taken by the caller -> open, '
    'back in its region''s inbox, or at the national desk once declined '
    'p_decline_limit times in its region or by every active coordinator '
    'key of the region.';

CREATE FUNCTION api.case_transfer(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_if_match integer,
    p_target_region text, p_reason text, p_take_within_s integer,
    p_first_contact_within_s integer) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_l record;
	v_now timestamptz := pg_catalog.now();
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.transfer', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF p_take_within_s IS NULL OR p_take_within_s < 0
	    OR p_first_contact_within_s IS NULL
	    OR p_first_contact_within_s < 0 THEN
		RAISE EXCEPTION 'p_take_within_s and p_first_contact_within_s '
		    'must be seconds >= 0'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	IF p_reason IS NULL OR NOT care.reason_allowed('transfer', p_reason)
	THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.transfer', 'case', p_case_id::text, 'care', 'failed',
		    'invalid_reason', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(422, 'validation',
		    'reason must be one of the documented transfer reasons',
		    'reason');
	END IF;
	IF p_target_region IS NULL OR NOT EXISTS (SELECT 1 FROM ref.region r
	    WHERE r.code = p_target_region) THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.transfer', 'case', p_case_id::text, 'care', 'failed',
		    'unknown_region', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(422, 'validation', 'unknown region',
		    'target_region');
	END IF;

	SELECT * INTO v_l FROM api.case_lock(v_p.key_id, v_p.agency_id,
	    v_p.role, v_p.regions, p_case_id, p_if_match, 'transfer',
	    p_request_id, p_client);
	IF v_l.problem IS NOT NULL THEN
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN v_l.problem;
	END IF;
	IF (v_l.c).region_code = p_target_region THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.transfer', 'case', p_case_id::text, 'care', 'failed',
		    'same_region', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(422, 'validation',
		    'the case is already in this region', 'target_region');
	END IF;

	UPDATE care.case SET state = 'open', holder_key_id = NULL,
	    region_code = p_target_region,
	    take_by = v_now + pg_catalog.make_interval(secs => p_take_within_s),
	    first_contact_by = v_now
	        + pg_catalog.make_interval(secs => p_first_contact_within_s),
	    version = version + 1, updated_at = v_now
	WHERE id = p_case_id;
	INSERT INTO care.case_history (case_id, action, api_key_id, detail)
	VALUES (p_case_id, 'transferred', v_p.key_id,
	    pg_catalog.jsonb_build_object('reason', p_reason,
	        'from_region', (v_l.c).region_code,
	        'to_region', p_target_region,
	        'take_within_s', p_take_within_s,
	        'first_contact_within_s', p_first_contact_within_s));
	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'case.transfer', 'case', p_case_id::text, 'care', 'allowed', NULL,
	    p_request_id, p_client);
	v_resp := api.case_answer(p_case_id);
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN v_resp;
END
$$;
COMMENT ON FUNCTION api.case_transfer(bytea, text, inet, uuid, integer,
    text, text, integer, integer) IS
    'POST /v1/cases/{id}/transfer: open or taken by the caller -> open in '
    'another region''s inbox, with the deadlines nrmd computed for it.';

CREATE FUNCTION api.case_close(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_if_match integer, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_l record;
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.close', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	IF p_reason IS NULL OR NOT care.reason_allowed('close', p_reason) THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.close', 'case', p_case_id::text, 'care', 'failed',
		    'invalid_reason', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(422, 'validation',
		    'reason must be one of the documented closing reasons',
		    'reason');
	END IF;

	SELECT * INTO v_l FROM api.case_lock(v_p.key_id, v_p.agency_id,
	    v_p.role, v_p.regions, p_case_id, p_if_match, 'close',
	    p_request_id, p_client);
	IF v_l.problem IS NOT NULL THEN
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN v_l.problem;
	END IF;

	-- The holder stays recorded on the closed case.
	UPDATE care.case SET state = 'closed', closed_reason = p_reason,
	    version = version + 1, updated_at = pg_catalog.now()
	WHERE id = p_case_id;
	INSERT INTO care.case_history (case_id, action, api_key_id, detail)
	VALUES (p_case_id, 'closed', v_p.key_id,
	    pg_catalog.jsonb_build_object('reason', p_reason,
	        'region', (v_l.c).region_code));
	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role, 'case.close',
	    'case', p_case_id::text, 'care', 'allowed', NULL, p_request_id,
	    p_client);
	v_resp := api.case_answer(p_case_id);
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN v_resp;
END
$$;
COMMENT ON FUNCTION api.case_close(bytea, text, inet, uuid, integer, text)
    IS 'POST /v1/cases/{id}/close: taken by the caller -> closed, with a '
    'reason from the documented list.';

CREATE FUNCTION api.case_reopen(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_if_match integer, p_reason text,
    p_take_within_s integer DEFAULT NULL,
    p_first_contact_within_s integer DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_l record;
	v_now timestamptz := pg_catalog.now();
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.reopen', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF (p_take_within_s IS NULL) <> (p_first_contact_within_s IS NULL)
	    OR p_take_within_s < 0 OR p_first_contact_within_s < 0 THEN
		RAISE EXCEPTION 'p_take_within_s and p_first_contact_within_s '
		    'are both null or both seconds >= 0'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	IF p_reason IS NULL OR NOT care.reason_allowed('reopen', p_reason)
	THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.reopen', 'case', p_case_id::text, 'care', 'failed',
		    'invalid_reason', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(422, 'validation',
		    'reason must be one of the documented reopening reasons',
		    'reason');
	END IF;

	SELECT * INTO v_l FROM api.case_lock(v_p.key_id, v_p.agency_id,
	    v_p.role, v_p.regions, p_case_id, p_if_match, 'reopen',
	    p_request_id, p_client);
	IF v_l.problem IS NOT NULL THEN
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN v_l.problem;
	END IF;

	UPDATE care.case SET state = 'open', holder_key_id = NULL,
	    closed_reason = NULL,
	    take_by = CASE WHEN p_take_within_s IS NULL THEN take_by
	        ELSE v_now + pg_catalog.make_interval(secs => p_take_within_s)
	        END,
	    first_contact_by = CASE WHEN p_first_contact_within_s IS NULL
	        THEN first_contact_by ELSE v_now
	        + pg_catalog.make_interval(secs => p_first_contact_within_s)
	        END,
	    version = version + 1, updated_at = v_now
	WHERE id = p_case_id;
	INSERT INTO care.case_history (case_id, action, api_key_id, detail)
	VALUES (p_case_id, 'reopened', v_p.key_id,
	    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
	        'reason', p_reason, 'region', (v_l.c).region_code,
	        'take_within_s', p_take_within_s,
	        'first_contact_within_s', p_first_contact_within_s)));
	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'case.reopen', 'case', p_case_id::text, 'care', 'allowed', NULL,
	    p_request_id, p_client);
	v_resp := api.case_answer(p_case_id);
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN v_resp;
END
$$;
COMMENT ON FUNCTION api.case_reopen(bytea, text, inet, uuid, integer, text,
    integer, integer) IS
    'POST /v1/cases/{id}/reopen: closed -> open in its region''s inbox; '
    'new deadlines when given, else the old ones (an overdue reopened '
    'case is escalated by the next sweep unless escalated before).';

-- ---------------------------------------------------------------------
-- Escalation of overdue cases: the sweeper.
-- ---------------------------------------------------------------------

/*
 * Move up to p_limit open cases past take_by, never escalated and not
 * at the national desk, to the national desk.  Runs with nrm_sweeper's
 * privileges (SECURITY DEFINER, owned by nrm_sweeper).
 *
 * Every daemon runs this; exactly-once comes from the database, not a
 * leader: FOR UPDATE SKIP LOCKED hands each candidate row to one
 * sweeper (another sweeper skips it, a coordinator busy with it makes
 * the sweeper skip it too), and at READ COMMITTED a row changed and
 * committed meanwhile is re-checked against the WHERE clause, so a
 * case just taken or escalated drops out.  The care.escalation primary
 * key makes a second escalation impossible even if escalated_at were
 * ever cleared.
 */
CREATE FUNCTION care.escalate_overdue(p_limit integer) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_now timestamptz := pg_catalog.now();
	v_ids uuid[] := '{}';
	v_r record;
	v_within bigint;
	v_why text;
BEGIN
	IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000 THEN
		RAISE EXCEPTION 'p_limit must be 1 to 1000'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR v_r IN
		SELECT c.id, c.region_code, c.take_by
		FROM care.case c
		WHERE c.state = 'open' AND c.escalated_at IS NULL
		  AND c.region_code <> 'NATIONAL' AND c.take_by < v_now
		ORDER BY c.take_by, c.id
		LIMIT p_limit
		FOR UPDATE SKIP LOCKED
	LOOP
		INSERT INTO care.escalation (case_id, at, from_region, reason)
		VALUES (v_r.id, v_now, v_r.region_code, 'take_deadline_missed')
		ON CONFLICT (case_id) DO NOTHING;
		IF NOT FOUND THEN
			CONTINUE;
		END IF;

		-- The take_within that set take_by: the routing decision, or
		-- the last transfer / reopening with new deadlines.
		SELECT pg_catalog.round(w.n)::bigint INTO v_within
		FROM (SELECT CASE WHEN pg_catalog.jsonb_typeof(h.v) = 'number'
		        THEN h.v::numeric END AS n, h.id
		    FROM (SELECT COALESCE(x.detail->'decision'->'take_within',
		            x.detail->'take_within_s') AS v, x.id
		        FROM care.case_history x
		        WHERE x.case_id = v_r.id
		          AND x.action IN ('routed', 'transferred', 'reopened'))
		        h) w
		WHERE w.n BETWEEN 0 AND 1e9
		ORDER BY w.id DESC
		LIMIT 1;
		v_why := CASE WHEN v_within IS NULL
		    THEN 'not taken by its take_by deadline'
		    ELSE 'not taken within ' || care.iso_duration(v_within) END;

		UPDATE care.case SET region_code = 'NATIONAL',
		    escalated_at = v_now, version = version + 1,
		    updated_at = v_now
		WHERE id = v_r.id;
		INSERT INTO care.case_history (case_id, action, api_key_id,
		    detail)
		VALUES (v_r.id, 'escalated', NULL,
		    pg_catalog.jsonb_build_object('reason',
		        'take_deadline_missed', 'why', v_why,
		        'from_region', v_r.region_code, 'to_region', 'NATIONAL',
		        'take_by', pg_catalog.to_char(v_r.take_by
		            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')));
		INSERT INTO audit.event (api_key_id, agency_id, role, action,
		    object_type, object_id, purpose, outcome, reason,
		    request_id, client_addr)
		VALUES (NULL, NULL, NULL, 'case.escalate', 'case',
		    v_r.id::text, 'care', 'allowed', NULL, NULL, NULL);
		v_ids := v_ids || v_r.id;
	END LOOP;
	RETURN pg_catalog.jsonb_build_object('escalated',
	    pg_catalog.cardinality(v_ids), 'case_ids',
	    pg_catalog.to_jsonb(v_ids));
END
$$;
COMMENT ON FUNCTION care.escalate_overdue(integer) IS
    'The sweeper: escalate up to p_limit overdue open cases to the '
    'national desk, each exactly once (SKIP LOCKED, care.escalation '
    'primary key).  SECURITY DEFINER owned by nrm_sweeper.';

CREATE FUNCTION api.escalate_overdue(p_limit integer) RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT care.escalate_overdue(p_limit)
$$;
COMMENT ON FUNCTION api.escalate_overdue(integer) IS
    'Called by every nrmd''s sweeper as nrm_app (no token): escalate up '
    'to p_limit overdue cases; {"escalated": n, "case_ids": [...]}.';

-- ---------------------------------------------------------------------
-- Grants.  Table grants for the seven API roles are unchanged (the
-- matrix of tests/db/30_privileges.sql); what the inbox needs beyond
-- 0001 is granted per column.
-- ---------------------------------------------------------------------
REVOKE ALL ON FUNCTION care.transition(text, text),
    care.reason_allowed(text, text), care.iso_duration(bigint),
    care.next_inbox_seq(), care.case_inbox_entry(), care.case_inbox_notify(),
    care.escalate_overdue(integer),
    api.sort_key(integer, timestamptz, bigint),
    api.case_lock(uuid, uuid, text, text[], uuid, integer, text, text, inet),
    api.case_answer(uuid),
    api.inbox(bytea, text, inet, text, text, jsonb, bigint, integer),
    api.inbox_wakeup_check(bytea, text, inet, bigint),
    api.case_get(bytea, text, inet, uuid, text),
    api.case_take(bytea, text, inet, uuid, integer),
    api.case_decline(bytea, text, inet, uuid, integer, text, integer),
    api.case_transfer(bytea, text, inet, uuid, integer, text, text, integer,
        integer),
    api.case_close(bytea, text, inet, uuid, integer, text),
    api.case_reopen(bytea, text, inet, uuid, integer, text, integer,
        integer),
    api.escalate_overdue(integer) FROM PUBLIC;
REVOKE ALL ON SEQUENCE care.case_inbox_seq FROM PUBLIC;

-- nrm_app: the entry points, and the sweeper function behind
-- api.escalate_overdue (USAGE on care names it; no table privilege).
GRANT USAGE ON SCHEMA care TO nrm_app;
GRANT EXECUTE ON FUNCTION
    api.inbox(bytea, text, inet, text, text, jsonb, bigint, integer),
    api.inbox_wakeup_check(bytea, text, inet, bigint),
    api.case_get(bytea, text, inet, uuid, text),
    api.case_take(bytea, text, inet, uuid, integer),
    api.case_decline(bytea, text, inet, uuid, integer, text, integer),
    api.case_transfer(bytea, text, inet, uuid, integer, text, text, integer,
        integer),
    api.case_close(bytea, text, inet, uuid, integer, text),
    api.case_reopen(bytea, text, inet, uuid, integer, text, integer,
        integer),
    api.escalate_overdue(integer),
    care.escalate_overdue(integer)
    TO nrm_app;

-- coordinator: the helpers it runs after the switch; the holder's and
-- reporter's agency and, for "every coordinator declined", the
-- coordinator keys (never token hashes or labels); new case columns.
GRANT EXECUTE ON FUNCTION care.transition(text, text),
    care.reason_allowed(text, text),
    api.sort_key(integer, timestamptz, bigint),
    api.case_lock(uuid, uuid, text, text[], uuid, integer, text, text, inet),
    api.case_answer(uuid)
    TO nrm_coordinator;
GRANT SELECT ON care.case_item TO nrm_coordinator;
GRANT USAGE ON SCHEMA auth TO nrm_coordinator;
GRANT SELECT (id, agency_id, role, regions, revoked_at) ON auth.api_key
    TO nrm_coordinator;
GRANT SELECT (id, name, kind) ON auth.agency TO nrm_coordinator;
GRANT UPDATE (declines, closed_reason, take_by, first_contact_by)
    ON care.case TO nrm_coordinator;

-- assessor: api.case_get only (read, never write), column by column;
-- not the pseudonym.
GRANT USAGE ON SCHEMA intake, care, auth TO nrm_assessor;
GRANT SELECT ON care.case_item TO nrm_assessor;
GRANT SELECT (id, signal_id, region_code, priority, state, holder_key_id,
    version, rule_id, ruleset_version, explanation, take_by,
    first_contact_by, created_at, updated_at, inbox_seq, declines,
    closed_reason, escalated_at) ON care.case TO nrm_assessor;
GRANT SELECT (id, received_at, observed_at, agency_id, municipality_code,
    region_code, reporter_reference, minor, age_estimate, gender,
    nationality, languages, exploitation, control_means, immediate_danger,
    needs_shelter, consent) ON intake.signal TO nrm_assessor;
GRANT SELECT (signal_id, given_name, family_name, birth_date, phone,
    address, narrative) ON care.subject TO nrm_assessor;
GRANT SELECT (id, case_id, at, action, api_key_id, detail)
    ON care.case_history TO nrm_assessor;
GRANT SELECT (id, agency_id) ON auth.api_key TO nrm_assessor;
GRANT SELECT (id, name, kind) ON auth.agency TO nrm_assessor;

-- nrm_sweeper: exactly what care.escalate_overdue does.
GRANT USAGE ON SCHEMA care, audit TO nrm_sweeper;
GRANT SELECT (id, region_code, state, take_by, escalated_at, version)
    ON care.case TO nrm_sweeper;
GRANT UPDATE (region_code, escalated_at, version, updated_at)
    ON care.case TO nrm_sweeper;
GRANT SELECT (id, case_id, action, detail) ON care.case_history
    TO nrm_sweeper;
GRANT INSERT ON care.case_history TO nrm_sweeper;
GRANT SELECT (case_id), INSERT ON care.escalation TO nrm_sweeper;
GRANT INSERT ON audit.event TO nrm_sweeper;
GRANT EXECUTE ON FUNCTION care.iso_duration(bigint) TO nrm_sweeper;

-- care.escalate_overdue runs as nrm_sweeper.  A new owner needs CREATE
-- on the schema at the moment of the change only.
GRANT CREATE ON SCHEMA care TO nrm_sweeper;
ALTER FUNCTION care.escalate_overdue(integer) OWNER TO nrm_sweeper;
REVOKE CREATE ON SCHEMA care FROM nrm_sweeper;
