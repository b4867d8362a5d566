-- 33_escalation.sql - the sweeper's escalations to the national desk
-- (docs/case-lifecycle.md, "Escalation"): a case not taken by take_by,
-- one without a first contact by first_contact_by, a transfer the
-- receiving region did not answer by transfer_answer_by.  A repeatable
-- file (docs/sql-api.md, "Migrations"): 0004 and 0021 created these
-- functions; their bodies stand here once, with the helpers they share.
-- api.escalate_overdue (30_cases_actions.sql) calls the three in turn.
--
-- Each escalate_* function is SECURITY DEFINER, owned by nrm_sweeper
-- (NOLOGIN; nrm_app is no member): it writes what the sweeper's grants
-- and policies allow and nothing else.  Exactly once per case and kind
-- without a leader: FOR UPDATE SKIP LOCKED hands each candidate row to
-- one sweeper (another sweeper skips it, and so does a sweeper when a
-- coordinator is changing the row), READ COMMITTED re-checks a row
-- changed and committed meanwhile against the WHERE clause (a case just
-- taken, contacted, answered or escalated drops out), and the
-- care.escalation primary key (case, reason) refuses a second
-- escalation of a deadline kind even if its mark were ever cleared.
-- The helpers run as their caller (nrm_sweeper), executable by it only.

/*
 * The p_kind_within (seconds) that set a case's p_kind_by deadline
 * (p_kind: take or first_contact): from the newest routing decision,
 * transfer or reopening of the case that gave one (decision.<kind>_within
 * or <kind>_within_s), a number from 0 to 1e9 rounded; NULL when none
 * did.
 */
CREATE OR REPLACE FUNCTION care.deadline_within(p_case_id uuid,
    p_kind text)
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.round(w.n)::bigint
	FROM (SELECT CASE WHEN pg_catalog.jsonb_typeof(h.v) = 'number'
	        THEN h.v::numeric END AS n, h.id
	    FROM (SELECT COALESCE(
	            x.detail->'decision'->(p_kind || '_within'),
	            x.detail->(p_kind || '_within_s')) AS v, x.id
	        FROM care.case_history x
	        WHERE x.case_id = p_case_id
	          AND x.action IN ('routed', 'transferred', 'reopened'))
	        h) w
	WHERE w.n BETWEEN 0 AND 1e9
	ORDER BY w.id DESC
	LIMIT 1
$$;
COMMENT ON FUNCTION care.deadline_within(uuid, text) IS
    'The <kind>_within (seconds) that set the case''s <kind>_by deadline '
    '(take, first_contact), from its newest routing, transfer or '
    'reopening that gave one; NULL when none did.';

/*
 * Why a case missed its p_kind_by deadline, for the history: "<p_missed>
 * within <ISO 8601 duration>" when the time it had is known, else
 * "<p_missed> by its <p_kind>_by deadline".  Codes and durations only.
 */
CREATE OR REPLACE FUNCTION care.deadline_why(p_case_id uuid, p_kind text,
    p_missed text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN w.s IS NULL
	    THEN p_missed || ' by its ' || p_kind || '_by deadline'
	    ELSE p_missed || ' within ' || care.iso_duration(w.s) END
	FROM (SELECT care.deadline_within(p_case_id, p_kind) AS s) w
$$;
COMMENT ON FUNCTION care.deadline_why(uuid, text, text) IS
    'Why a case missed its <kind>_by deadline: "<missed> within <ISO '
    'duration>", or "<missed> by its <kind>_by deadline" when the time '
    'it had is unknown.';

/*
 * What every escalation writes once the case row has moved to the
 * national desk: the history entry escalated (no key: the sweeper) with
 * p_detail, from_region and to_region, and the audit event case.escalate
 * (purpose care, reason p_audit_reason).  Called by the escalate_*
 * functions only, as nrm_sweeper.
 */
CREATE OR REPLACE FUNCTION care.escalated(p_case_id uuid,
    p_from_region text, p_audit_reason text, p_detail jsonb)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO care.case_history (case_id, action, api_key_id, detail)
	VALUES (p_case_id, 'escalated', NULL,
	    p_detail || pg_catalog.jsonb_build_object(
	        'from_region', p_from_region, 'to_region', 'NATIONAL'));
	INSERT INTO audit.event (api_key_id, agency_id, role, action,
	    object_type, object_id, purpose, outcome, reason, request_id,
	    client_addr)
	VALUES (NULL, NULL, NULL, 'case.escalate', 'case', p_case_id::text,
	    'care', 'allowed', p_audit_reason, NULL, NULL);
$$;
COMMENT ON FUNCTION care.escalated(uuid, text, text, jsonb) IS
    'An escalation''s history entry (escalated, p_detail with from_region '
    'and to_region NATIONAL) and audit event (case.escalate); for the '
    'sweeper''s escalate_* functions.';

/*
 * A sweep's limit, checked: 1 to 1000 cases per kind and call.
 */
CREATE OR REPLACE FUNCTION care.sweep_limit(p_limit integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000 THEN
		RAISE EXCEPTION 'p_limit must be 1 to 1000'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN p_limit;
END
$$;
COMMENT ON FUNCTION care.sweep_limit(integer) IS
    'p_limit when it is 1 to 1000, else invalid_parameter_value.';

/*
 * Claim the one escalation of case p_case_id for the deadline kind
 * p_reason (take_deadline_missed, first_contact_deadline_missed): write
 * its care.escalation row (at p_at, from p_from_region) and return
 * true, or return false when the case has one for that reason already
 * (the primary key (case, reason): escalated once, ever, whatever
 * another sweeper or an earlier call did).
 */
CREATE OR REPLACE FUNCTION care.escalation_claim(p_case_id uuid,
    p_at timestamptz, p_from_region text, p_reason text)
RETURNS boolean
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH claimed AS (
		INSERT INTO care.escalation (case_id, at, from_region, reason)
		VALUES (p_case_id, p_at, p_from_region, p_reason)
		ON CONFLICT (case_id, reason) DO NOTHING
		RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM claimed);
$$;
COMMENT ON FUNCTION care.escalation_claim(uuid, timestamptz, text, text) IS
    'A deadline escalation''s care.escalation row, once per case and '
    'reason: true when this call wrote it, false when it was there.';

/*
 * What a sweep answers: {"escalated": the number of cases, "case_ids":
 * p_ids in the order they were escalated}.
 */
CREATE OR REPLACE FUNCTION care.sweep_answer(p_ids uuid[])
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('escalated',
	    pg_catalog.cardinality(p_ids), 'case_ids',
	    pg_catalog.to_jsonb(p_ids));
$$;
COMMENT ON FUNCTION care.sweep_answer(uuid[]) IS
    'A sweep''s answer: {"escalated": n, "case_ids": [...]}.';

/*
 * The take deadline: up to p_limit open cases past take_by, never
 * escalated for it and not at the national desk, go to the national
 * desk (open there; nobody held them).
 */
CREATE OR REPLACE FUNCTION care.escalate_overdue(p_limit integer)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_now timestamptz := pg_catalog.now();
	v_ids uuid[] := '{}';
	v_r record;
	v_why text;
BEGIN
	FOR v_r IN
		SELECT c.id, c.region_code, c.take_by
		FROM care.case c
		WHERE c.state = 'open' AND c.escalated_at IS NULL
		  AND c.region_code <> 'NATIONAL' AND c.take_by < v_now
		ORDER BY c.take_by, c.id
		LIMIT care.sweep_limit(p_limit)
		FOR UPDATE SKIP LOCKED
	LOOP
		CONTINUE WHEN NOT care.escalation_claim(v_r.id, v_now,
		    v_r.region_code, 'take_deadline_missed');
		v_why := care.deadline_why(v_r.id, 'take', 'not taken');
		UPDATE care.case SET region_code = 'NATIONAL',
		    escalated_at = v_now, version = version + 1,
		    updated_at = v_now
		WHERE id = v_r.id;
		PERFORM care.escalated(v_r.id, v_r.region_code, NULL,
		    pg_catalog.jsonb_build_object('reason',
		        'take_deadline_missed', 'why', v_why,
		        'take_by', pg_catalog.to_char(v_r.take_by
		            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')));
		v_ids := v_ids || v_r.id;
	END LOOP;
	RETURN care.sweep_answer(v_ids);
END
$$;
COMMENT ON FUNCTION care.escalate_overdue(integer) IS
    'The sweeper: escalate up to p_limit overdue open cases to the '
    'national desk, each exactly once (SKIP LOCKED, care.escalation '
    'primary key).  SECURITY DEFINER owned by nrm_sweeper.';

/*
 * The first-contact deadline: up to p_limit cases open or taken, with no
 * first contact, past first_contact_by, never escalated for it and not
 * at the national desk, go to the national desk: open there, nobody
 * holding them (the national desk takes over the contact).
 */
CREATE OR REPLACE FUNCTION care.escalate_first_contact(p_limit integer)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_now timestamptz := pg_catalog.now();
	v_ids uuid[] := '{}';
	v_r record;
	v_why text;
BEGIN
	FOR v_r IN
		SELECT c.id, c.region_code, c.state, c.first_contact_by
		FROM care.case c
		WHERE c.state IN ('open', 'taken')
		  AND c.first_contact_at IS NULL
		  AND c.first_contact_escalated_at IS NULL
		  AND c.region_code <> 'NATIONAL'
		  AND c.first_contact_by < v_now
		ORDER BY c.first_contact_by, c.id
		LIMIT care.sweep_limit(p_limit)
		FOR UPDATE SKIP LOCKED
	LOOP
		CONTINUE WHEN NOT care.escalation_claim(v_r.id, v_now,
		    v_r.region_code, 'first_contact_deadline_missed');
		v_why := care.deadline_why(v_r.id, 'first_contact',
		    'no first contact');
		UPDATE care.case SET region_code = 'NATIONAL', state = 'open',
		    holder_key_id = NULL, holder_person_id = NULL,
		    first_contact_escalated_at = v_now, version = version + 1,
		    updated_at = v_now
		WHERE id = v_r.id;
		PERFORM care.escalated(v_r.id, v_r.region_code,
		    'first_contact_deadline_missed',
		    pg_catalog.jsonb_build_object('reason',
		        'first_contact_deadline_missed', 'why', v_why,
		        'from_state', v_r.state,
		        'first_contact_by', pg_catalog.to_char(
		            v_r.first_contact_by AT TIME ZONE 'UTC',
		            'YYYY-MM-DD"T"HH24:MI:SS"Z"')));
		v_ids := v_ids || v_r.id;
	END LOOP;
	RETURN care.sweep_answer(v_ids);
END
$$;
COMMENT ON FUNCTION care.escalate_first_contact(integer) IS
    'The sweeper: escalate up to p_limit cases without a first contact '
    'past first_contact_by to the national desk (open, no holder), each '
    'exactly once (SKIP LOCKED, care.escalation primary key).  SECURITY '
    'DEFINER owned by nrm_sweeper.';

/*
 * Unanswered transfers: up to p_limit pending transfers past
 * transfer_answer_by go to the national desk, open, no holder, the
 * transfer ended (history reason transfer_unanswered; no
 * care.escalation row: a case may be transferred again).
 */
CREATE OR REPLACE FUNCTION care.escalate_transfers(p_limit integer)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_now timestamptz := pg_catalog.now();
	v_ids uuid[] := '{}';
	v_r record;
BEGIN
	FOR v_r IN
		SELECT c.id, c.region_code, c.transfer_to, c.transfer_answer_by,
		    c.transfer_from_state
		FROM care.case c
		WHERE c.state = 'transfer_pending'
		  AND c.transfer_answer_by < v_now
		ORDER BY c.transfer_answer_by, c.id
		LIMIT care.sweep_limit(p_limit)
		FOR UPDATE SKIP LOCKED
	LOOP
		UPDATE care.case SET region_code = 'NATIONAL', state = 'open',
		    holder_key_id = NULL, holder_person_id = NULL,
		    transfer_to = NULL, transfer_from_state = NULL,
		    transfer_reason = NULL, transfer_requested_at = NULL,
		    transfer_answer_by = NULL, transfer_take_within_s = NULL,
		    transfer_first_contact_within_s = NULL,
		    version = version + 1, updated_at = v_now
		WHERE id = v_r.id;
		PERFORM care.escalated(v_r.id, v_r.region_code,
		    'transfer_unanswered',
		    pg_catalog.jsonb_build_object('reason',
		        'transfer_unanswered',
		        'why', 'the receiving region did not answer the transfer',
		        'transfer_to', v_r.transfer_to,
		        'from_state', v_r.transfer_from_state,
		        'answer_by', pg_catalog.to_char(
		            v_r.transfer_answer_by AT TIME ZONE 'UTC',
		            'YYYY-MM-DD"T"HH24:MI:SS"Z"')));
		v_ids := v_ids || v_r.id;
	END LOOP;
	RETURN care.sweep_answer(v_ids);
END
$$;
COMMENT ON FUNCTION care.escalate_transfers(integer) IS
    'The sweeper: up to p_limit transfers unanswered by transfer_answer_by '
    'go to the national desk (open, no holder), once each (SKIP LOCKED, '
    're-checked at READ COMMITTED).  SECURITY DEFINER owned by '
    'nrm_sweeper.';

-- The helpers: the sweeper's (their caller's) only.
REVOKE ALL ON FUNCTION care.deadline_within(uuid, text),
    care.deadline_why(uuid, text, text),
    care.escalated(uuid, text, text, jsonb),
    care.escalation_claim(uuid, timestamptz, text, text),
    care.sweep_limit(integer), care.sweep_answer(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.deadline_within(uuid, text),
    care.deadline_why(uuid, text, text),
    care.escalated(uuid, text, text, jsonb),
    care.escalation_claim(uuid, timestamptz, text, text),
    care.sweep_limit(integer), care.sweep_answer(uuid[]) TO nrm_sweeper;

-- The escalations run as nrm_sweeper, executable by it alone (nrm_app
-- reaches them through the door api.escalate_overdue).  A new owner
-- needs CREATE on the schema at the moment of the change only.
REVOKE ALL ON FUNCTION care.escalate_overdue(integer),
    care.escalate_first_contact(integer),
    care.escalate_transfers(integer) FROM PUBLIC;
GRANT CREATE ON SCHEMA care TO nrm_sweeper;
ALTER FUNCTION care.escalate_overdue(integer) OWNER TO nrm_sweeper;
ALTER FUNCTION care.escalate_first_contact(integer) OWNER TO nrm_sweeper;
ALTER FUNCTION care.escalate_transfers(integer) OWNER TO nrm_sweeper;
REVOKE CREATE ON SCHEMA care FROM nrm_sweeper;
