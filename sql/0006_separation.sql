-- 0006_separation.sql - victim identification kept apart from the
-- criminal investigation, enforced in the database (issue 5): the
-- identification track (schema ident, care side) with jurisdiction
-- profiles as data, the investigation track (schema invest, criminal
-- side), the one consented bridge from care to police (a shared case
-- id), and row-level security on every table that holds case or
-- signal rows (docs/separation.md, docs/sql-api.md).
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  0001..0005 are released and stay unchanged: what
-- this file changes of theirs it changes with ALTER / CREATE OR REPLACE
-- (api.authenticate, api.case_lock, api.case_get, and the history
-- action list), keeping their answers identical.
--
-- Design in one paragraph.  Grants separate the tracks by schema: the
-- care roles (coordinator, assessor) hold privileges on ident.* and
-- none on invest.*; the investigator holds privileges on invest.* and
-- two columns of intake.signal, none on ident.* or care.*.  Row-level
-- security separates principals of one role: api.authenticate, which
-- every entry point calls first, now also publishes the principal's
-- scope as transaction-local settings (api.scope: nrm.key_id,
-- nrm.agency_id, nrm.role, nrm.regions, nrm.case_id), and the policies
-- read them: coordinators see the cases of their regions, reporters and
-- investigators the rows of their agency, assessors and analysts every
-- case (national), the sweeper the open cases.  No setting (a direct
-- SELECT after SET ROLE without an api function) means no rows.

-- ---------------------------------------------------------------------
-- The case sharer's role.  NOLOGIN, and nrm_app is NOT a member: it is
-- the owner of care.share_case (SECURITY DEFINER), the one way a
-- care-side principal writes into schema invest: recording that the
-- victim consented to share a case id with an investigating agency.
-- Coordinators hold no privilege on invest.* themselves.  nrm_owner
-- becomes a member only to hand the function over (as for nrm_sweeper).
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_case_sharer') THEN
		CREATE ROLE nrm_case_sharer NOLOGIN;
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, 'nrm_case_sharer',
	    'MEMBER') THEN
		EXECUTE pg_catalog.format('GRANT nrm_case_sharer TO %I',
		    current_user);
	END IF;
	IF pg_catalog.pg_has_role('nrm_app', 'nrm_case_sharer', 'MEMBER')
	THEN
		REVOKE nrm_case_sharer FROM nrm_app;
	END IF;
END
$roles$;
COMMENT ON ROLE nrm_case_sharer IS
    'nrm: owner of care.share_case (SECURITY DEFINER); records a consented '
    'case share in invest.case_share.  NOLOGIN; nrm_app is no member.';

CREATE SCHEMA ident;
CREATE SCHEMA invest;
COMMENT ON SCHEMA ident IS
    'Identification track (care side): victim identification decisions '
    'and the jurisdiction profiles that rule them.  Never readable by '
    'reporters or investigators.';
COMMENT ON SCHEMA invest IS
    'Investigation track (criminal side): police and prosecution '
    'records, and the case ids the care side shared with consent.  Never '
    'readable by the care roles.';

-- ---------------------------------------------------------------------
-- The principal's scope, for row-level security.
-- ---------------------------------------------------------------------

/*
 * Publish the principal's scope as transaction-local settings that the
 * row-level security policies read: nrm.key_id, nrm.agency_id,
 * nrm.role, nrm.regions (region codes joined by commas; codes never
 * contain one) and nrm.case_id (cleared here; api.case_lock sets it to
 * the case a lifecycle action locked).  NULL arguments clear the scope.
 * Called by api.authenticate, so every entry point, old and new, sets
 * its scope before it switches role.  The settings are not secrets: a
 * session that can SET ROLE to an API role can set them too.  They keep
 * a bug in an api function (a forgotten WHERE) and a bare SET ROLE from
 * reading across scopes; they are no defence against a hostile session
 * of nrm_app (docs/separation.md).
 */
CREATE FUNCTION api.scope(p_key_id uuid, p_agency_id uuid, p_role text,
    p_regions text[]) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM pg_catalog.set_config('nrm.key_id',
	    COALESCE(p_key_id::text, ''), true);
	PERFORM pg_catalog.set_config('nrm.agency_id',
	    COALESCE(p_agency_id::text, ''), true);
	PERFORM pg_catalog.set_config('nrm.role', COALESCE(p_role, ''), true);
	PERFORM pg_catalog.set_config('nrm.regions',
	    COALESCE(pg_catalog.array_to_string(p_regions, ','), ''), true);
	PERFORM pg_catalog.set_config('nrm.case_id', '', true);
END
$$;
COMMENT ON FUNCTION api.scope(uuid, uuid, text, text[]) IS
    'Set (or, with NULLs, clear) the transaction-local scope settings '
    'nrm.key_id, nrm.agency_id, nrm.role, nrm.regions, nrm.case_id that '
    'the row-level security policies read.  Called by api.authenticate.';

/*
 * api.authenticate (0001) with the scope: cleared on entry (a denied
 * call never keeps the scope of an earlier call in the transaction),
 * published on success.  Answers, audit events and OUT columns are
 * 0001's.
 */
CREATE OR REPLACE FUNCTION api.authenticate(p_token_hash bytea,
    p_request_id text, p_client inet, p_roles text[], p_action text,
    p_object_type text, p_object_id text, OUT key_id uuid,
    OUT agency_id uuid, OUT role text, OUT regions text[],
    OUT agency_kind text, OUT denial jsonb)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_key record;
BEGIN
	PERFORM api.scope(NULL, NULL, NULL, NULL);
	SELECT k.id, k.agency_id, k.role, k.regions, k.revoked_at, a.kind
	INTO v_key
	FROM auth.api_key k
	JOIN auth.agency a ON a.id = k.agency_id
	WHERE k.token_hash = p_token_hash;
	IF NOT FOUND THEN
		PERFORM api.audit(NULL, NULL, NULL, p_action, p_object_type,
		    p_object_id, NULL, 'denied', 'unknown_token', p_request_id,
		    p_client);
		denial := api.problem(401, 'unauthenticated',
		    'missing, unknown or revoked API token');
		RETURN;
	END IF;
	IF v_key.revoked_at IS NOT NULL THEN
		PERFORM api.audit(v_key.id, v_key.agency_id, v_key.role,
		    p_action, p_object_type, p_object_id, NULL, 'denied',
		    'revoked_key', p_request_id, p_client);
		denial := api.problem(401, 'unauthenticated',
		    'missing, unknown or revoked API token');
		RETURN;
	END IF;
	IF NOT v_key.role = ANY (p_roles) THEN
		PERFORM api.audit(v_key.id, v_key.agency_id, v_key.role,
		    p_action, p_object_type, p_object_id, NULL, 'denied',
		    'role_not_permitted', p_request_id, p_client);
		denial := api.problem(403, 'forbidden',
		    'this API role may not perform this action');
		RETURN;
	END IF;
	key_id := v_key.id;
	agency_id := v_key.agency_id;
	role := v_key.role;
	regions := v_key.regions;
	agency_kind := v_key.kind;
	PERFORM api.scope(key_id, agency_id, role, regions);
END
$$;
COMMENT ON FUNCTION api.authenticate(bytea, text, inet, text[], text, text,
    text) IS
    'Token hash to principal, or the audited 401/403 answer.  Publishes '
    'the principal''s scope for row-level security (api.scope); does not '
    'switch role: the caller does, in its own body.';

-- Whether a case exists, whatever the caller's scope.  Only to tell
-- not_found from out_of_scope in the audit log (the answer is the same
-- 404): under row-level security the caller itself cannot.
CREATE FUNCTION care.case_exists(p_case_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM care.case c WHERE c.id = p_case_id)
$$;
COMMENT ON FUNCTION care.case_exists(uuid) IS
    'Whether a case with this id exists (SECURITY DEFINER, owner: past '
    'row-level security).  For the audit reason not_found vs '
    'out_of_scope only; the answer to the client is the same 404.';

-- ---------------------------------------------------------------------
-- Row-level security on the care side and intake.
--
-- Scope expressions (the settings api.scope publishes; unset or empty
-- means no row):
--   regions  c.region_code = ANY (string_to_array(
--                current_setting('nrm.regions', true), ','))
--   agency   agency_id = nullif(current_setting('nrm.agency_id', true),
--                '')::uuid
--   key      ... nrm.key_id ...
--   locked   c.id = nullif(current_setting('nrm.case_id', true), '')::uuid
-- Spelled out in each policy (no function: nothing to grant, and the
-- planner can use them as index conditions).
--
-- Not FORCE ROW LEVEL SECURITY: the owner (nrm_owner) bypasses, on
-- purpose.  It runs migrations (which must see every row) and owns the
-- few SECURITY DEFINER helpers that must see past a caller's scope
-- (care.case_exists, invest.record_exists, the notification and
-- signal-agency constraint triggers); it never serves a request: nrmd
-- logs in as nrm_app, which owns nothing.  No nrm role has BYPASSRLS.
-- ---------------------------------------------------------------------
ALTER TABLE intake.signal ENABLE ROW LEVEL SECURITY;
ALTER TABLE intake.idempotency ENABLE ROW LEVEL SECURITY;
ALTER TABLE care.subject ENABLE ROW LEVEL SECURITY;
ALTER TABLE care.case ENABLE ROW LEVEL SECURITY;
ALTER TABLE care.case_history ENABLE ROW LEVEL SECURITY;

-- care.case -----------------------------------------------------------
CREATE POLICY case_reporter_select ON care.case
FOR SELECT TO nrm_reporter
USING (EXISTS (SELECT 1 FROM intake.signal s
    WHERE s.id = signal_id AND s.agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid));
CREATE POLICY case_reporter_insert ON care.case
FOR INSERT TO nrm_reporter
WITH CHECK (EXISTS (SELECT 1 FROM intake.signal s
    WHERE s.id = signal_id AND s.agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid));
-- A coordinator sees its regions' cases, and the one case a lifecycle
-- action locked after checking it was in scope (so a transfer or a
-- decline to the national desk can write the case out of its regions
-- and answer with the new item).
CREATE POLICY case_coordinator_select ON care.case
FOR SELECT TO nrm_coordinator
USING (region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))
    OR id = NULLIF(
        pg_catalog.current_setting('nrm.case_id', true), '')::uuid);
CREATE POLICY case_coordinator_update ON care.case
FOR UPDATE TO nrm_coordinator
USING (region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))
    OR id = NULLIF(
        pg_catalog.current_setting('nrm.case_id', true), '')::uuid);
CREATE POLICY case_assessor_select ON care.case
FOR SELECT TO nrm_assessor USING (true);
CREATE POLICY case_analyst_select ON care.case
FOR SELECT TO nrm_analyst USING (true);
-- The sweeper: open cases; it may only move an open, never escalated
-- case outside the national desk to the national desk, escalated.
CREATE POLICY case_sweeper_select ON care.case
FOR SELECT TO nrm_sweeper USING (state = 'open');
CREATE POLICY case_sweeper_update ON care.case
FOR UPDATE TO nrm_sweeper
USING (state = 'open' AND escalated_at IS NULL
    AND region_code <> 'NATIONAL')
WITH CHECK (state = 'open' AND escalated_at IS NOT NULL
    AND region_code = 'NATIONAL');
-- The sharer (care.share_case) sees the calling coordinator's cases.
CREATE POLICY case_case_sharer_select ON care.case
FOR SELECT TO nrm_case_sharer
USING (region_code = ANY (pg_catalog.string_to_array(
    pg_catalog.current_setting('nrm.regions', true), ',')));

COMMENT ON POLICY case_reporter_select ON care.case IS
    'Reporters: cases of their agency''s signals (the receipt).';
COMMENT ON POLICY case_reporter_insert ON care.case IS
    'Reporters create cases for their agency''s signals only.';
COMMENT ON POLICY case_coordinator_select ON care.case IS
    'Coordinators: cases of their regions (nrm.regions), plus the case '
    'the current lifecycle action locked (nrm.case_id).';
COMMENT ON POLICY case_coordinator_update ON care.case IS
    'Coordinators change cases of their regions; the locked case may '
    'leave them (transfer, decline to the national desk).';
COMMENT ON POLICY case_assessor_select ON care.case IS
    'Assessors are national: every case.';
COMMENT ON POLICY case_analyst_select ON care.case IS
    'Analysts count every case (no personal data in care.case).';
COMMENT ON POLICY case_sweeper_select ON care.case IS
    'The sweeper reads open cases.';
COMMENT ON POLICY case_sweeper_update ON care.case IS
    'The sweeper only escalates: open, never escalated, outside the '
    'national desk -> national desk, escalated.';
COMMENT ON POLICY case_case_sharer_select ON care.case IS
    'care.share_case sees the calling coordinator''s regions only.';

-- intake.signal -------------------------------------------------------
CREATE POLICY signal_reporter_select ON intake.signal
FOR SELECT TO nrm_reporter
USING (agency_id = NULLIF(
    pg_catalog.current_setting('nrm.agency_id', true), '')::uuid);
CREATE POLICY signal_reporter_insert ON intake.signal
FOR INSERT TO nrm_reporter
WITH CHECK (agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid
    AND api_key_id = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid);
CREATE POLICY signal_investigator_select ON intake.signal
FOR SELECT TO nrm_investigator
USING (agency_id = NULLIF(
    pg_catalog.current_setting('nrm.agency_id', true), '')::uuid);
CREATE POLICY signal_coordinator_select ON intake.signal
FOR SELECT TO nrm_coordinator
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.signal_id = signal.id
    AND (c.region_code = ANY (pg_catalog.string_to_array(
            pg_catalog.current_setting('nrm.regions', true), ','))
        OR c.id = NULLIF(
            pg_catalog.current_setting('nrm.case_id', true), '')::uuid)));
CREATE POLICY signal_assessor_select ON intake.signal
FOR SELECT TO nrm_assessor USING (true);
CREATE POLICY signal_analyst_select ON intake.signal
FOR SELECT TO nrm_analyst USING (true);
COMMENT ON POLICY signal_reporter_select ON intake.signal IS
    'Reporters: their agency''s signals.';
COMMENT ON POLICY signal_reporter_insert ON intake.signal IS
    'Reporters submit signals as their own key and agency only.';
COMMENT ON POLICY signal_investigator_select ON intake.signal IS
    'Investigators: their agency''s signals (id and agency_id are the '
    'only columns granted), to refer to them.';
COMMENT ON POLICY signal_coordinator_select ON intake.signal IS
    'Coordinators: signals of the cases they see.';
COMMENT ON POLICY signal_assessor_select ON intake.signal IS
    'Assessors are national: every signal.';
COMMENT ON POLICY signal_analyst_select ON intake.signal IS
    'Analysts count every signal (non-identifying facts).';

-- intake.idempotency: per API key, as api.intake reads it.
CREATE POLICY idempotency_reporter_select ON intake.idempotency
FOR SELECT TO nrm_reporter
USING (api_key_id = NULLIF(
    pg_catalog.current_setting('nrm.key_id', true), '')::uuid);
CREATE POLICY idempotency_reporter_insert ON intake.idempotency
FOR INSERT TO nrm_reporter
WITH CHECK (api_key_id = NULLIF(
    pg_catalog.current_setting('nrm.key_id', true), '')::uuid);
COMMENT ON POLICY idempotency_reporter_select ON intake.idempotency IS
    'Reporters: the stored answers of their own key.';
COMMENT ON POLICY idempotency_reporter_insert ON intake.idempotency IS
    'Reporters store answers under their own key only.';

-- care.subject --------------------------------------------------------
CREATE POLICY subject_reporter_insert ON care.subject
FOR INSERT TO nrm_reporter
WITH CHECK (EXISTS (SELECT 1 FROM intake.signal s
    WHERE s.id = signal_id AND s.agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid));
CREATE POLICY subject_coordinator_select ON care.subject
FOR SELECT TO nrm_coordinator
USING (EXISTS (SELECT 1 FROM care.case c
    WHERE c.signal_id = subject.signal_id
    AND (c.region_code = ANY (pg_catalog.string_to_array(
            pg_catalog.current_setting('nrm.regions', true), ','))
        OR c.id = NULLIF(
            pg_catalog.current_setting('nrm.case_id', true), '')::uuid)));
CREATE POLICY subject_assessor_select ON care.subject
FOR SELECT TO nrm_assessor USING (true);
COMMENT ON POLICY subject_reporter_insert ON care.subject IS
    'Reporters store the subject of their agency''s signals (and never '
    'read it: no SELECT is granted).';
COMMENT ON POLICY subject_coordinator_select ON care.subject IS
    'Coordinators: the subjects of the cases they see.';
COMMENT ON POLICY subject_assessor_select ON care.subject IS
    'Assessors are national: every subject (without the pseudonym, by '
    'column grants).';

-- care.case_history ---------------------------------------------------
CREATE POLICY case_history_reporter_insert ON care.case_history
FOR INSERT TO nrm_reporter
WITH CHECK (EXISTS (SELECT 1 FROM care.case c
    JOIN intake.signal s ON s.id = c.signal_id
    WHERE c.id = case_id AND s.agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid));
CREATE POLICY case_history_coordinator_select ON care.case_history
FOR SELECT TO nrm_coordinator
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND (c.region_code = ANY (pg_catalog.string_to_array(
            pg_catalog.current_setting('nrm.regions', true), ','))
        OR c.id = NULLIF(
            pg_catalog.current_setting('nrm.case_id', true), '')::uuid)));
CREATE POLICY case_history_coordinator_insert ON care.case_history
FOR INSERT TO nrm_coordinator
WITH CHECK (api_key_id = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid
    AND EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND (c.region_code = ANY (pg_catalog.string_to_array(
            pg_catalog.current_setting('nrm.regions', true), ','))
        OR c.id = NULLIF(
            pg_catalog.current_setting('nrm.case_id', true), '')::uuid)));
CREATE POLICY case_history_assessor_select ON care.case_history
FOR SELECT TO nrm_assessor USING (true);
CREATE POLICY case_history_analyst_select ON care.case_history
FOR SELECT TO nrm_analyst USING (true);
CREATE POLICY case_history_sweeper_select ON care.case_history
FOR SELECT TO nrm_sweeper
USING (EXISTS (SELECT 1 FROM care.case c
    WHERE c.id = case_id AND c.state = 'open'));
CREATE POLICY case_history_sweeper_insert ON care.case_history
FOR INSERT TO nrm_sweeper
WITH CHECK (action = 'escalated' AND api_key_id IS NULL);
COMMENT ON POLICY case_history_reporter_insert ON care.case_history IS
    'Reporters write the routed entry of their agency''s cases.';
COMMENT ON POLICY case_history_coordinator_select ON care.case_history IS
    'Coordinators: the history of the cases they see.';
COMMENT ON POLICY case_history_coordinator_insert ON care.case_history IS
    'Coordinators append entries, as their own key, to cases they see.';
COMMENT ON POLICY case_history_assessor_select ON care.case_history IS
    'Assessors are national: every history.';
COMMENT ON POLICY case_history_analyst_select ON care.case_history IS
    'Analysts count every history entry (codes only).';
COMMENT ON POLICY case_history_sweeper_select ON care.case_history IS
    'The sweeper reads the history of open cases (the take_within).';
COMMENT ON POLICY case_history_sweeper_insert ON care.case_history IS
    'The sweeper appends escalated entries, without a key.';

-- History gains 'shared' (api.case_share; same constraint name).
ALTER TABLE care.case_history
	DROP CONSTRAINT case_history_action_check,
	ADD CONSTRAINT case_history_action_check CHECK (action IN ('routed',
	    'taken', 'declined', 'released', 'transferred', 'escalated',
	    'closed', 'reopened', 'first_contact', 'shared'));

-- ---------------------------------------------------------------------
-- 0004's scope checks under row-level security.  A coordinator can no
-- longer see an out-of-region case at all, so "not found" and "out of
-- scope" are told apart by care.case_exists (same 404 either way).
-- api.case_lock also marks the case it locked in scope (nrm.case_id),
-- so that the action may move it out of the caller's regions.
-- ---------------------------------------------------------------------
CREATE OR REPLACE FUNCTION api.case_lock(p_key_id uuid, p_agency_id uuid,
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
    'scope), 412 (stale If-Match), 409 (state table), each audited; an '
    'in-scope case becomes nrm.case_id for row-level security.';

/*
 * api.case_get as 0005 left it (purpose vocabulary, role-dependent
 * default purpose); only the audit reason of a 404 now asks
 * care.case_exists, because row-level security hides an out-of-region
 * case from the coordinator's own SELECT.
 */
CREATE OR REPLACE FUNCTION api.case_get(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid,
    p_purpose text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_purpose text;
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
	v_purpose := COALESCE(p_purpose, CASE v_p.role
	    WHEN 'assessor' THEN 'identification' ELSE 'care' END);

	-- A purpose is a code like an audit reason: never free text.
	IF v_purpose !~ '^[a-z][a-z_]{0,63}$' THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.read', 'case', p_case_id::text, NULL, 'failed',
		    'bad_request', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(400, 'bad_request',
		    'purpose must be a lowercase code (a-z and _)', 'purpose');
	END IF;
	IF NOT v_purpose = ANY (audit.purpose_codes()) THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.read', 'case', p_case_id::text, NULL, 'failed',
		    'bad_request', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(400, 'bad_request',
		    'purpose must be one of: ' || pg_catalog.array_to_string(
		        audit.purpose_codes(), ', '), 'purpose');
	END IF;

	SELECT c.region_code INTO v_region FROM care.case c
	WHERE c.id = p_case_id;
	IF NOT FOUND OR (v_p.role = 'coordinator'
	    AND (v_region = ANY (v_p.regions)) IS NOT TRUE) THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.read', 'case', p_case_id::text, v_purpose, 'denied',
		    CASE WHEN v_region IS NULL
		        AND NOT care.case_exists(p_case_id)
		    THEN 'not_found' ELSE 'out_of_scope' END, p_request_id,
		    p_client);
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
    'audited read (case.read) with a purpose from audit.purpose_codes() '
    '(default care, for assessors identification); 404 for unknown and '
    'out-of-scope alike.';

-- ---------------------------------------------------------------------
-- Shared helpers (neither track's tables).
-- ---------------------------------------------------------------------

-- A JSON string holding a calendar date YYYY-MM-DD, as a date; NULL for
-- anything else (another type, another format, 2024-02-30).
CREATE FUNCTION api.json_date(p_value jsonb) RETURNS date
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_value IS NULL OR pg_catalog.jsonb_typeof(p_value) <> 'string'
	    OR (p_value #>> '{}') !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
		RETURN NULL;
	END IF;
	RETURN (p_value #>> '{}')::date;
EXCEPTION WHEN data_exception THEN
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.json_date(jsonb) IS
    'A JSON string "YYYY-MM-DD" as a date, else NULL.';

-- ---------------------------------------------------------------------
-- ident: jurisdiction profiles and identification decisions.
-- ---------------------------------------------------------------------
CREATE TABLE ident.profile (
	code text NOT NULL,
	name text NOT NULL,
	initial_target_working_days integer NOT NULL,
	min_days_initial_to_conclusive integer NOT NULL,
	reflection_days integer,
	recovery_min_days integer,
	source text NOT NULL,
	CONSTRAINT profile_pkey PRIMARY KEY (code),
	CONSTRAINT profile_code_check CHECK (code ~ '^[a-z][a-z_]{1,15}$'),
	CONSTRAINT profile_name_check
	    CHECK (char_length(name) BETWEEN 1 AND 200),
	CONSTRAINT profile_initial_target_working_days_check
	    CHECK (initial_target_working_days BETWEEN 1 AND 60),
	CONSTRAINT profile_min_days_initial_to_conclusive_check
	    CHECK (min_days_initial_to_conclusive BETWEEN 0 AND 365),
	CONSTRAINT profile_reflection_days_check
	    CHECK (reflection_days IS NULL
	        OR reflection_days BETWEEN 1 AND 365),
	CONSTRAINT profile_recovery_min_days_check CHECK (recovery_min_days
	    IS NULL OR recovery_min_days BETWEEN 1 AND 365),
	CONSTRAINT profile_source_check
	    CHECK (char_length(source) BETWEEN 1 AND 1000)
);
COMMENT ON TABLE ident.profile IS
    'Jurisdiction profiles: the rules of the identification track as '
    'data (configuration, not law; nrmd names one in its config).  '
    'initial_target_working_days: target for the initial decision after '
    'the case was created (reported, not enforced); '
    'min_days_initial_to_conclusive: a conclusive decision is dated at '
    'least this many days after the first initial decision (enforced); '
    'reflection_days: longest reflection period (enforced, NULL = none '
    'set); recovery_min_days: shortest recovery period (enforced, NULL = '
    'none set).  No personal data.';

-- The values are the examples of the issue and of public guidance at
-- the time of writing; they change over the years and are not legal
-- advice.  Change them with a migration, never in code.
INSERT INTO ident.profile (code, name, initial_target_working_days,
    min_days_initial_to_conclusive, reflection_days, recovery_min_days,
    source)
VALUES
	('nl', 'Netherlands', 5, 30, 90, NULL,
	    'configuration, not law: reflection period (bedenktijd) up to 3 '
	    'months = 90 days; 5 working days and 30 days are this '
	    'project''s defaults (issue 5), not statutory terms'),
	('uk', 'United Kingdom (NRM)', 5, 30, NULL, 30,
	    'configuration, not law: Reasonable Grounds target 5 working '
	    'days; Conclusive Grounds no sooner than 30 days after it; '
	    'recovery period at least 30 days (Modern Slavery Act 2015 s.50A '
	    'as amended in 2022; these durations have changed before)');

/*
 * The date n working days (Monday to Friday; no public holidays) after
 * p_from.
 */
CREATE FUNCTION ident.add_working_days(p_from date, p_n integer)
RETURNS date
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p_from + g.i
	FROM pg_catalog.generate_series(1, 7 * p_n + 7) AS g(i)
	WHERE pg_catalog.date_part('isodow', (p_from + g.i)::timestamp) < 6
	ORDER BY g.i
	OFFSET p_n - 1
	LIMIT 1
$$;
COMMENT ON FUNCTION ident.add_working_days(date, integer) IS
    'p_from plus p_n working days (Monday to Friday, no holidays).';

CREATE TABLE ident.decision (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	case_id uuid NOT NULL,
	stage text NOT NULL,
	outcome text NOT NULL,
	deciding_body text NOT NULL,
	rationale text,
	decided_on date NOT NULL,
	reflection_start date,
	reflection_end date,
	recovery_start date,
	recovery_end date,
	recorded_by uuid NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	profile text NOT NULL,
	CONSTRAINT decision_pkey PRIMARY KEY (id),
	CONSTRAINT decision_case_id_fkey FOREIGN KEY (case_id)
	    REFERENCES care.case (id),
	CONSTRAINT decision_recorded_by_fkey FOREIGN KEY (recorded_by)
	    REFERENCES auth.api_key (id),
	CONSTRAINT decision_profile_fkey FOREIGN KEY (profile)
	    REFERENCES ident.profile (code),
	CONSTRAINT decision_stage_check
	    CHECK (stage IN ('initial', 'conclusive', 'reconsideration')),
	CONSTRAINT decision_outcome_check
	    CHECK (outcome IN ('positive', 'negative', 'pending')),
	-- A conclusive decision decides.
	CONSTRAINT decision_conclusive_outcome_check
	    CHECK (stage <> 'conclusive' OR outcome <> 'pending'),
	CONSTRAINT decision_deciding_body_check CHECK (deciding_body IN
	    ('care_coordination', 'assessment_body', 'court', 'other')),
	CONSTRAINT decision_rationale_check CHECK (rationale IS NULL
	    OR octet_length(rationale) BETWEEN 1 AND 4000),
	CONSTRAINT decision_decided_on_check
	    CHECK (decided_on >= DATE '2000-01-01'),
	CONSTRAINT decision_reflection_check CHECK (
	    (reflection_start IS NULL OR reflection_start >= DATE '2000-01-01')
	    AND (reflection_end IS NULL OR (reflection_start IS NOT NULL
	        AND reflection_end >= reflection_start))),
	CONSTRAINT decision_recovery_check CHECK (
	    (recovery_start IS NULL OR recovery_start >= DATE '2000-01-01')
	    AND (recovery_end IS NULL OR (recovery_start IS NOT NULL
	        AND recovery_end >= recovery_start)))
);
CREATE INDEX decision_case_id_idx ON ident.decision (case_id, decided_on);
CREATE INDEX decision_recorded_by_idx ON ident.decision (recorded_by);
COMMENT ON TABLE ident.decision IS
    'PERSONAL DATA: identification indications and decisions on whether '
    'the person of a case is a victim (stage, outcome, deciding body, '
    'rationale, dates, reflection and recovery periods) under the '
    'jurisdiction profile in force when recorded.  Append-only: a '
    'correction is a new entry (reconsideration).  Readable by '
    'coordinators of the case''s region and assessors only; every read '
    'and write is audited.  Never depends on investigation data.';
COMMENT ON COLUMN ident.decision.rationale IS
    'PERSONAL DATA: free text that may describe the person and what '
    'happened to them (at most 4000 bytes).  Never logged or audited.';
COMMENT ON COLUMN ident.decision.recorded_by IS
    'The API key that recorded the entry.';

ALTER TABLE ident.decision ENABLE ROW LEVEL SECURITY;
CREATE POLICY decision_coordinator_select ON ident.decision
FOR SELECT TO nrm_coordinator
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND c.region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))));
-- Coordinators record initial indications only (api.ident_record
-- answers 403 first; this refuses a direct INSERT with 42501).
CREATE POLICY decision_coordinator_insert ON ident.decision
FOR INSERT TO nrm_coordinator
WITH CHECK (stage = 'initial'
    AND recorded_by = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid
    AND EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
        AND c.region_code = ANY (pg_catalog.string_to_array(
            pg_catalog.current_setting('nrm.regions', true), ','))));
CREATE POLICY decision_assessor_select ON ident.decision
FOR SELECT TO nrm_assessor USING (true);
CREATE POLICY decision_assessor_insert ON ident.decision
FOR INSERT TO nrm_assessor
WITH CHECK (recorded_by = NULLIF(
    pg_catalog.current_setting('nrm.key_id', true), '')::uuid);
COMMENT ON POLICY decision_coordinator_select ON ident.decision IS
    'Coordinators: the decisions on cases of their regions.';
COMMENT ON POLICY decision_coordinator_insert ON ident.decision IS
    'Coordinators record initial indications, as their own key, on '
    'cases of their regions; never conclusive or reconsideration.';
COMMENT ON POLICY decision_assessor_select ON ident.decision IS
    'Assessors are national: every decision.';
COMMENT ON POLICY decision_assessor_insert ON ident.decision IS
    'Assessors record every stage, as their own key.';

-- The answer shape of one entry.
CREATE FUNCTION ident.entry_json(d ident.decision) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('id', d.id,
	    'case_id', d.case_id, 'stage', d.stage, 'outcome', d.outcome,
	    'deciding_body', d.deciding_body, 'rationale', d.rationale,
	    'decided_on', d.decided_on,
	    'reflection_start', d.reflection_start,
	    'reflection_end', d.reflection_end,
	    'recovery_start', d.recovery_start,
	    'recovery_end', d.recovery_end,
	    'recorded_by', d.recorded_by,
	    'recorded_at', api.rfc3339(d.recorded_at),
	    'profile', d.profile)
$$;
COMMENT ON FUNCTION ident.entry_json(ident.decision) IS
    'An identification entry as the api answers it (dates YYYY-MM-DD).';

/*
 * Check an identification entry (p_entry of api.ident_record) without
 * the profile's rules: NULL when fine, else {"status", "code", "field",
 * "detail"} of the first problem, in this order: not an object (400);
 * an unknown key (422, no field: a key is client text); stage; outcome;
 * a pending conclusive decision (field outcome); deciding_body;
 * rationale (1 to 4000 bytes of text, or null); decided_on (a date from
 * 2000-01-01 up to today); reflection_start/_end and
 * recovery_start/_end (dates from 2000-01-01 or null; an end needs a
 * start and is not before it).  A detail never quotes the value.
 */
CREATE FUNCTION ident.entry_problem(p_entry jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_known constant text[] := ARRAY['stage', 'outcome', 'deciding_body',
	    'rationale', 'decided_on', 'reflection_start', 'reflection_end',
	    'recovery_start', 'recovery_end'];
	v_period text;
	v_sk text;
	v_ek text;
	v_field text;
	v_detail text;
	v_start date;
	v_end date;
	v_decided date;
BEGIN
	IF p_entry IS NULL OR pg_catalog.jsonb_typeof(p_entry) <> 'object' THEN
		RETURN pg_catalog.jsonb_build_object('status', 400,
		    'code', 'bad_request',
		    'detail', 'the identification entry must be a JSON object');
	END IF;
	IF EXISTS (SELECT 1 FROM pg_catalog.jsonb_object_keys(p_entry) k
	    WHERE NOT k = ANY (v_known)) THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'detail', 'unknown field; known: '
		    || pg_catalog.array_to_string(v_known, ', '));
	END IF;
	IF pg_catalog.jsonb_typeof(p_entry->'stage') IS DISTINCT FROM 'string'
	    OR NOT (p_entry->>'stage') IN ('initial', 'conclusive',
	        'reconsideration') THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'stage', 'detail',
		    'stage must be initial, conclusive or reconsideration');
	END IF;
	IF pg_catalog.jsonb_typeof(p_entry->'outcome')
	        IS DISTINCT FROM 'string'
	    OR NOT (p_entry->>'outcome') IN ('positive', 'negative',
	        'pending') THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'outcome', 'detail',
		    'outcome must be positive, negative or pending');
	END IF;
	IF p_entry->>'stage' = 'conclusive'
	    AND p_entry->>'outcome' = 'pending' THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'outcome', 'detail',
		    'a conclusive decision is positive or negative');
	END IF;
	IF pg_catalog.jsonb_typeof(p_entry->'deciding_body')
	        IS DISTINCT FROM 'string'
	    OR NOT (p_entry->>'deciding_body') IN ('care_coordination',
	        'assessment_body', 'court', 'other') THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'deciding_body', 'detail',
		    'deciding_body must be care_coordination, assessment_body, '
		    'court or other');
	END IF;
	IF COALESCE(pg_catalog.jsonb_typeof(p_entry->'rationale'), 'null')
	    <> 'null' AND (pg_catalog.jsonb_typeof(p_entry->'rationale')
	        <> 'string' OR pg_catalog.octet_length(p_entry->>'rationale')
	        NOT BETWEEN 1 AND 4000) THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'rationale', 'detail',
		    'rationale must be 1 to 4000 bytes of text, or null');
	END IF;
	v_decided := api.json_date(p_entry->'decided_on');
	IF v_decided IS NULL OR v_decided < DATE '2000-01-01'
	    OR v_decided > pg_catalog.now()::date THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'decided_on', 'detail',
		    'decided_on must be a date (YYYY-MM-DD) from 2000-01-01 up '
		    'to today');
	END IF;
	FOREACH v_period IN ARRAY ARRAY['reflection', 'recovery'] LOOP
		v_sk := v_period || '_start';
		v_ek := v_period || '_end';
		v_start := api.json_date(p_entry->v_sk);
		v_end := api.json_date(p_entry->v_ek);
		v_field := NULL;
		IF COALESCE(pg_catalog.jsonb_typeof(p_entry->v_sk), 'null')
		    <> 'null' AND (v_start IS NULL
		        OR v_start < DATE '2000-01-01') THEN
			v_field := v_sk;
			v_detail := v_sk || ' must be a date (YYYY-MM-DD) from '
			    '2000-01-01, or null';
		ELSIF COALESCE(pg_catalog.jsonb_typeof(p_entry->v_ek), 'null')
		    <> 'null' AND v_end IS NULL THEN
			v_field := v_ek;
			v_detail := v_ek
			    || ' must be a date (YYYY-MM-DD), or null';
		ELSIF v_end IS NOT NULL AND v_start IS NULL THEN
			v_field := v_sk;
			v_detail := v_sk || ' is required with ' || v_ek;
		ELSIF v_end < v_start THEN
			v_field := v_ek;
			v_detail := v_ek || ' must not be before ' || v_sk;
		END IF;
		IF v_field IS NOT NULL THEN
			RETURN pg_catalog.jsonb_build_object('status', 422,
			    'code', 'validation', 'field', v_field,
			    'detail', v_detail);
		END IF;
	END LOOP;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION ident.entry_problem(jsonb) IS
    'Shape check of an identification entry: NULL, or {"status", "code", '
    '"field", "detail"} of the first problem (the profile''s rules are '
    'api.ident_record''s).';

-- ---------------------------------------------------------------------
-- invest: consented case shares and investigation records.
-- ---------------------------------------------------------------------
CREATE TABLE invest.case_share (
	case_id uuid NOT NULL,
	agency_id uuid NOT NULL,
	consent_recorded_at timestamptz NOT NULL DEFAULT now(),
	shared_by uuid NOT NULL,
	CONSTRAINT case_share_pkey PRIMARY KEY (case_id, agency_id),
	CONSTRAINT case_share_case_id_fkey FOREIGN KEY (case_id)
	    REFERENCES care.case (id),
	CONSTRAINT case_share_agency_id_fkey FOREIGN KEY (agency_id)
	    REFERENCES auth.agency (id),
	CONSTRAINT case_share_shared_by_fkey FOREIGN KEY (shared_by)
	    REFERENCES auth.api_key (id)
);
CREATE INDEX case_share_agency_id_idx ON invest.case_share (agency_id);
COMMENT ON TABLE invest.case_share IS
    'The case ids the care side shared with an investigating agency, '
    'with the victim''s consent (when it was recorded, by which '
    'coordinator key).  Only then may that agency''s investigators refer '
    'to the case.  Ids only: the agency learns that the case exists, '
    'nothing of it.  Written through care.share_case only; append-only.';

CREATE TABLE invest.record (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	agency_id uuid NOT NULL,
	signal_id uuid,
	case_id uuid,
	police_reference text,
	prosecution_reference text,
	report_filed boolean NOT NULL DEFAULT false,
	report_filed_on date,
	status text NOT NULL DEFAULT 'open',
	created_by uuid NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	version integer NOT NULL DEFAULT 1,
	CONSTRAINT record_pkey PRIMARY KEY (id),
	CONSTRAINT record_agency_id_fkey FOREIGN KEY (agency_id)
	    REFERENCES auth.agency (id),
	CONSTRAINT record_signal_id_fkey FOREIGN KEY (signal_id)
	    REFERENCES intake.signal (id),
	-- A case only once it was shared with this very agency.
	CONSTRAINT record_case_share_fkey FOREIGN KEY (case_id, agency_id)
	    REFERENCES invest.case_share (case_id, agency_id),
	CONSTRAINT record_created_by_fkey FOREIGN KEY (created_by)
	    REFERENCES auth.api_key (id),
	CONSTRAINT record_reference_check
	    CHECK (signal_id IS NOT NULL OR case_id IS NOT NULL),
	CONSTRAINT record_police_reference_check
	    CHECK (police_reference IS NULL
	        OR (char_length(police_reference) BETWEEN 1 AND 100
	            AND police_reference !~ '[[:cntrl:]]')),
	CONSTRAINT record_prosecution_reference_check
	    CHECK (prosecution_reference IS NULL
	        OR (char_length(prosecution_reference) BETWEEN 1 AND 100
	            AND prosecution_reference !~ '[[:cntrl:]]')),
	CONSTRAINT record_report_filed_on_check CHECK (report_filed_on IS NULL
	    OR (report_filed AND report_filed_on >= DATE '2000-01-01')),
	CONSTRAINT record_status_check CHECK (status IN ('open', 'suspended',
	    'closed', 'handed_to_prosecution')),
	CONSTRAINT record_version_check CHECK (version >= 1),
	CONSTRAINT record_updated_at_check CHECK (updated_at >= created_at)
);
CREATE INDEX record_agency_id_idx ON invest.record (agency_id, created_at);
CREATE INDEX record_signal_id_idx ON invest.record (signal_id)
    WHERE signal_id IS NOT NULL;
CREATE INDEX record_case_id_idx ON invest.record (case_id, agency_id)
    WHERE case_id IS NOT NULL;
COMMENT ON TABLE invest.record IS
    'PERSONAL DATA: an investigation record of a police or prosecution '
    'agency: its external police and prosecution references (which point '
    'to a criminal file about people), whether a report (aangifte) was '
    'filed and when, and the status.  Refers to a signal the agency '
    'itself submitted, or to a case shared with it (invest.case_share).  '
    'Readable by investigators of the owning agency only; never by the '
    'care side, and never a condition for identification or care.';
COMMENT ON COLUMN invest.record.version IS
    'The ETag: + 1 on every change (api.invest_patch).';

-- A record's signal must be one its own agency submitted.  SECURITY
-- DEFINER: it looks at the signal whatever the writer's scope.
CREATE FUNCTION invest.record_signal_agency() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.signal_id IS NOT NULL AND NOT EXISTS (SELECT 1
	    FROM intake.signal s
	    WHERE s.id = NEW.signal_id AND s.agency_id = NEW.agency_id) THEN
		RAISE EXCEPTION 'an investigation record refers only to a '
		    'signal its own agency submitted'
		    USING ERRCODE = 'check_violation',
		    CONSTRAINT = 'record_signal_agency', TABLE = 'record',
		    SCHEMA = 'invest';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION invest.record_signal_agency() IS
    'Constraint trigger: the signal of a record was submitted by the '
    'record''s agency.';
CREATE CONSTRAINT TRIGGER record_signal_agency
AFTER INSERT OR UPDATE OF signal_id, agency_id ON invest.record
FOR EACH ROW EXECUTE FUNCTION invest.record_signal_agency();
COMMENT ON TRIGGER record_signal_agency ON invest.record IS
    'Refuses a record whose signal another agency submitted.';

ALTER TABLE invest.case_share ENABLE ROW LEVEL SECURITY;
ALTER TABLE invest.record ENABLE ROW LEVEL SECURITY;
CREATE POLICY case_share_investigator_select ON invest.case_share
FOR SELECT TO nrm_investigator
USING (agency_id = NULLIF(
    pg_catalog.current_setting('nrm.agency_id', true), '')::uuid);
CREATE POLICY case_share_case_sharer_select ON invest.case_share
FOR SELECT TO nrm_case_sharer
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id));
CREATE POLICY case_share_case_sharer_insert ON invest.case_share
FOR INSERT TO nrm_case_sharer
WITH CHECK (shared_by = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid
    AND EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id));
CREATE POLICY record_investigator_select ON invest.record
FOR SELECT TO nrm_investigator
USING (agency_id = NULLIF(
    pg_catalog.current_setting('nrm.agency_id', true), '')::uuid);
CREATE POLICY record_investigator_insert ON invest.record
FOR INSERT TO nrm_investigator
WITH CHECK (agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid
    AND created_by = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid);
CREATE POLICY record_investigator_update ON invest.record
FOR UPDATE TO nrm_investigator
USING (agency_id = NULLIF(
    pg_catalog.current_setting('nrm.agency_id', true), '')::uuid);
COMMENT ON POLICY case_share_investigator_select ON invest.case_share IS
    'Investigators: the cases shared with their agency.';
COMMENT ON POLICY case_share_case_sharer_select ON invest.case_share IS
    'care.share_case: shares of the calling coordinator''s cases.';
COMMENT ON POLICY case_share_case_sharer_insert ON invest.case_share IS
    'care.share_case: shares of the calling coordinator''s cases, as its '
    'key.';
COMMENT ON POLICY record_investigator_select ON invest.record IS
    'Investigators: their agency''s records.';
COMMENT ON POLICY record_investigator_insert ON invest.record IS
    'Investigators create records for their agency, as their own key.';
COMMENT ON POLICY record_investigator_update ON invest.record IS
    'Investigators change their agency''s records; the agency stays.';

-- Whether a record exists, whatever the caller's agency: only to tell
-- not_found from out_of_scope in the audit log (same 404 either way).
CREATE FUNCTION invest.record_exists(p_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM invest.record r WHERE r.id = p_id)
$$;
COMMENT ON FUNCTION invest.record_exists(uuid) IS
    'Whether a record with this id exists (SECURITY DEFINER, owner: past '
    'row-level security).  For the audit reason only; the answer to the '
    'client is the same 404.';

-- The answer shape of a record: its own columns, nothing of the care
-- side.
CREATE FUNCTION invest.record_json(r invest.record) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('id', r.id,
	    'agency_id', r.agency_id, 'signal_id', r.signal_id,
	    'case_id', r.case_id, 'police_reference', r.police_reference,
	    'prosecution_reference', r.prosecution_reference,
	    'report_filed', r.report_filed,
	    'report_filed_on', r.report_filed_on, 'status', r.status,
	    'created_at', api.rfc3339(r.created_at),
	    'updated_at', api.rfc3339(r.updated_at), 'version', r.version)
$$;
COMMENT ON FUNCTION invest.record_json(invest.record) IS
    'An investigation record as the api answers it.';

/*
 * Check the body of api.invest_create (p_create) or api.invest_patch:
 * NULL when fine, else {"status", "code", "field", "detail"} of the
 * first problem: not an object (400); an unknown key (422, no field);
 * on a patch, signal_id or case_id (they never change); signal_id and
 * case_id (uuid strings or null; a create needs one of them);
 * police_reference, prosecution_reference (1 to 100 characters without
 * control characters, or null); report_filed (true or false);
 * report_filed_on (a date from 2000-01-01 up to today, or null);
 * status.  The rule that report_filed_on needs report_filed is checked
 * on the merged record by the caller.  A detail never quotes a value.
 */
CREATE FUNCTION invest.body_problem(p_body jsonb, p_create boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_known constant text[] := ARRAY['signal_id', 'case_id',
	    'police_reference', 'prosecution_reference', 'report_filed',
	    'report_filed_on', 'status'];
	v_uuid constant text :=
	    '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
	    '[0-9a-fA-F]{12}$';
	v_key text;
	v_on date;
BEGIN
	IF p_body IS NULL OR pg_catalog.jsonb_typeof(p_body) <> 'object' THEN
		RETURN pg_catalog.jsonb_build_object('status', 400,
		    'code', 'bad_request',
		    'detail', 'the body must be a JSON object');
	END IF;
	IF EXISTS (SELECT 1 FROM pg_catalog.jsonb_object_keys(p_body) k
	    WHERE NOT k = ANY (v_known)) THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'detail', 'unknown field; known: '
		    || pg_catalog.array_to_string(v_known, ', '));
	END IF;
	FOREACH v_key IN ARRAY ARRAY['signal_id', 'case_id'] LOOP
		IF NOT p_create AND p_body ? v_key THEN
			RETURN pg_catalog.jsonb_build_object('status', 422,
			    'code', 'validation', 'field', v_key,
			    'detail', v_key || ' cannot be changed');
		END IF;
		IF COALESCE(pg_catalog.jsonb_typeof(p_body->v_key), 'null')
		    <> 'null' AND (pg_catalog.jsonb_typeof(p_body->v_key)
		        <> 'string' OR (p_body->>v_key) !~ v_uuid) THEN
			RETURN pg_catalog.jsonb_build_object('status', 422,
			    'code', 'validation', 'field', v_key,
			    'detail', v_key || ' must be a uuid, or null');
		END IF;
	END LOOP;
	IF p_create AND p_body->>'signal_id' IS NULL
	    AND p_body->>'case_id' IS NULL THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'signal_id', 'detail',
		    'a record refers to a signal_id or a case_id');
	END IF;
	FOREACH v_key IN ARRAY ARRAY['police_reference',
	    'prosecution_reference'] LOOP
		IF COALESCE(pg_catalog.jsonb_typeof(p_body->v_key), 'null')
		    <> 'null' AND (pg_catalog.jsonb_typeof(p_body->v_key)
		        <> 'string'
		    OR pg_catalog.char_length(p_body->>v_key)
		        NOT BETWEEN 1 AND 100
		    OR (p_body->>v_key) ~ '[[:cntrl:]]') THEN
			RETURN pg_catalog.jsonb_build_object('status', 422,
			    'code', 'validation', 'field', v_key,
			    'detail', v_key || ' must be 1 to 100 characters '
			    'without control characters, or null');
		END IF;
	END LOOP;
	IF p_body ? 'report_filed'
	    AND pg_catalog.jsonb_typeof(p_body->'report_filed') <> 'boolean'
	THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'report_filed',
		    'detail', 'report_filed must be true or false');
	END IF;
	IF COALESCE(pg_catalog.jsonb_typeof(p_body->'report_filed_on'),
	    'null') <> 'null' THEN
		v_on := api.json_date(p_body->'report_filed_on');
		IF v_on IS NULL OR v_on < DATE '2000-01-01'
		    OR v_on > pg_catalog.now()::date THEN
			RETURN pg_catalog.jsonb_build_object('status', 422,
			    'code', 'validation', 'field', 'report_filed_on',
			    'detail', 'report_filed_on must be a date '
			    '(YYYY-MM-DD) from 2000-01-01 up to today, '
			    'or null');
		END IF;
	END IF;
	IF p_body ? 'status' AND (pg_catalog.jsonb_typeof(p_body->'status')
	    <> 'string' OR NOT (p_body->>'status') IN ('open', 'suspended',
	        'closed', 'handed_to_prosecution')) THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'status',
		    'detail', 'status must be open, suspended, closed or '
		    'handed_to_prosecution');
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION invest.body_problem(jsonb, boolean) IS
    'Shape check of an investigation record body (create or patch): '
    'NULL, or {"status", "code", "field", "detail"} of the first problem.';

-- ---------------------------------------------------------------------
-- The one bridge from care to police: a consented case share.
-- ---------------------------------------------------------------------

/*
 * Record that the victim consented to share case p_case_id with agency
 * p_agency_id, as the calling coordinator's key (nrm.key_id).  Runs as
 * nrm_case_sharer (SECURITY DEFINER), whose own row-level security
 * limits it to the calling coordinator's regions (nrm.regions): called
 * for another case it raises 42501.  Sharing twice keeps the first
 * share.  Returns {"case_id", "agency_id", "consent_recorded_at",
 * "shared_by", "new"}.  Writes ids only; reads nothing back from the
 * investigation track but this share.
 */
CREATE FUNCTION care.share_case(p_case_id uuid, p_agency_id uuid)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_key uuid := NULLIF(
	    pg_catalog.current_setting('nrm.key_id', true), '')::uuid;
	v_new boolean;
	v_s record;
BEGIN
	IF v_key IS NULL OR NOT EXISTS (SELECT 1 FROM care.case c
	    WHERE c.id = p_case_id) THEN
		RAISE EXCEPTION 'the case is not in the caller''s regions'
		    USING ERRCODE = 'insufficient_privilege';
	END IF;
	INSERT INTO invest.case_share (case_id, agency_id,
	    consent_recorded_at, shared_by)
	VALUES (p_case_id, p_agency_id, pg_catalog.now(), v_key)
	ON CONFLICT ON CONSTRAINT case_share_pkey DO NOTHING;
	v_new := FOUND;
	SELECT x.consent_recorded_at, x.shared_by INTO v_s
	FROM invest.case_share x
	WHERE x.case_id = p_case_id AND x.agency_id = p_agency_id;
	RETURN pg_catalog.jsonb_build_object('case_id', p_case_id,
	    'agency_id', p_agency_id,
	    'consent_recorded_at', pg_catalog.to_char(v_s.consent_recorded_at
	        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    'shared_by', v_s.shared_by, 'new', v_new);
END
$$;
COMMENT ON FUNCTION care.share_case(uuid, uuid) IS
    'Record a consented case share in invest.case_share, as the calling '
    'coordinator, for a case of its regions only.  SECURITY DEFINER owned '
    'by nrm_case_sharer; the one care-side write into schema invest.';

-- ---------------------------------------------------------------------
-- api entry points.  Role switch and restore as in 0001 (read the
-- comment there): every normal RETURN restores the caller's role.
-- ---------------------------------------------------------------------

/*
 * POST /v1/cases/{id}/identification.  Order of checks: 401/403
 * (api.authenticate); the shape of p_entry (400/422, audited
 * failed/bad_request or invalid_entry); a coordinator recording
 * anything but an initial indication (403, field stage, audited
 * denied/stage_not_permitted: it depends on the role only, so it comes
 * before the case is looked at); the case (404 for unknown and
 * out-of-scope alike); the profile's rules (422, field stage,
 * reflection_end or recovery_end, extension "rule"; audited failed with
 * the rule as reason); then 201.  Entries on one case are serialised by
 * a transaction advisory lock (6, hash of the case id).  Reads the case
 * and earlier identification entries only.
 */
CREATE FUNCTION api.ident_record(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_entry jsonb,
    p_profile text DEFAULT 'nl') RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_prof record;
	v_problem jsonb;
	v_region text;
	v_stage text;
	v_decided date;
	v_rs date;
	v_re date;
	v_cs date;
	v_ce date;
	v_first date;
	v_rule text;
	v_field text;
	v_detail text;
	v_earliest date;
	v_id uuid := pg_catalog.gen_random_uuid();
	v_body jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator', 'assessor'],
	    'identification.create', 'case', p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	-- The profile comes from nrmd's configuration: unknown is a bug.
	SELECT * INTO v_prof FROM ident.profile pr
	WHERE pr.code = COALESCE(p_profile, 'nl');
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown profile'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;

	v_problem := ident.entry_problem(p_entry);
	IF v_problem IS NOT NULL THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'identification.create', 'case', p_case_id::text,
		    'identification', 'failed',
		    CASE WHEN (v_problem->>'status')::integer = 400
		    THEN 'bad_request' ELSE 'invalid_entry' END, p_request_id,
		    p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem((v_problem->>'status')::integer,
		    v_problem->>'code', v_problem->>'detail',
		    v_problem->>'field');
	END IF;
	v_stage := p_entry->>'stage';
	v_decided := api.json_date(p_entry->'decided_on');
	v_rs := api.json_date(p_entry->'reflection_start');
	v_re := api.json_date(p_entry->'reflection_end');
	v_cs := api.json_date(p_entry->'recovery_start');
	v_ce := api.json_date(p_entry->'recovery_end');

	-- Who records which stage (docs/separation.md).
	IF v_p.role = 'coordinator' AND v_stage <> 'initial' THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'identification.create', 'case', p_case_id::text,
		    'identification', 'denied', 'stage_not_permitted',
		    p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(403, 'forbidden',
		    'coordinators record initial indications only; conclusive '
		    'decisions and reconsiderations are the assessment body''s',
		    'stage');
	END IF;

	SELECT c.region_code INTO v_region FROM care.case c
	WHERE c.id = p_case_id;
	IF NOT FOUND OR (v_p.role = 'coordinator'
	    AND (v_region = ANY (v_p.regions)) IS NOT TRUE) THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'identification.create', 'case', p_case_id::text,
		    'identification', 'denied',
		    CASE WHEN v_region IS NULL
		        AND NOT care.case_exists(p_case_id)
		    THEN 'not_found' ELSE 'out_of_scope' END, p_request_id,
		    p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(404, 'not_found',
		    'no case with this id in your regions');
	END IF;

	-- One entry per case at a time: the rules below read the others.
	PERFORM pg_catalog.pg_advisory_xact_lock(6,
	    pg_catalog.hashtext(p_case_id::text));

	-- The profile's rules.
	IF v_stage = 'conclusive' THEN
		SELECT pg_catalog.min(d.decided_on) INTO v_first
		FROM ident.decision d
		WHERE d.case_id = p_case_id AND d.stage = 'initial';
		IF v_first IS NULL THEN
			v_rule := 'conclusive_requires_initial';
			v_field := 'stage';
			v_detail := 'conclusive_requires_initial: a conclusive '
			    'decision follows an initial decision';
		ELSE
			v_earliest := v_first
			    + v_prof.min_days_initial_to_conclusive;
			IF v_decided < v_earliest THEN
				v_rule := 'conclusive_min_days';
				v_field := 'stage';
				v_detail := pg_catalog.format(
				    'conclusive_min_days: %s days after the '
				    'initial decision of %s',
				    v_prof.min_days_initial_to_conclusive,
				    pg_catalog.to_char(v_first, 'YYYY-MM-DD'));
			END IF;
		END IF;
	END IF;
	IF v_rule IS NULL AND v_prof.reflection_days IS NOT NULL
	    AND v_re - v_rs > v_prof.reflection_days THEN
		v_rule := 'reflection_max_days';
		v_field := 'reflection_end';
		v_detail := pg_catalog.format('reflection_max_days: the %s '
		    'profile allows a reflection period of at most %s days',
		    v_prof.code, v_prof.reflection_days);
	END IF;
	IF v_rule IS NULL AND v_prof.recovery_min_days IS NOT NULL
	    AND v_ce - v_cs < v_prof.recovery_min_days THEN
		v_rule := 'recovery_min_days';
		v_field := 'recovery_end';
		v_detail := pg_catalog.format('recovery_min_days: the %s '
		    'profile requires a recovery period of at least %s days',
		    v_prof.code, v_prof.recovery_min_days);
	END IF;
	IF v_rule IS NOT NULL THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'identification.create', 'case', p_case_id::text,
		    'identification', 'failed', v_rule, p_request_id,
		    p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		v_problem := api.problem(422, 'validation', v_detail, v_field);
		RETURN pg_catalog.jsonb_set(v_problem, '{problem}',
		    (v_problem->'problem') || pg_catalog.jsonb_strip_nulls(
		        pg_catalog.jsonb_build_object('rule', v_rule,
		            'profile', v_prof.code,
		            'earliest', v_earliest)));
	END IF;

	INSERT INTO ident.decision (id, case_id, stage, outcome,
	    deciding_body, rationale, decided_on, reflection_start,
	    reflection_end, recovery_start, recovery_end, recorded_by,
	    profile)
	VALUES (v_id, p_case_id, v_stage, p_entry->>'outcome',
	    p_entry->>'deciding_body', p_entry->>'rationale', v_decided,
	    v_rs, v_re, v_cs, v_ce, v_p.key_id, v_prof.code);

	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'identification.create', 'case', p_case_id::text,
	    'identification', 'allowed', NULL, p_request_id, p_client);
	SELECT ident.entry_json(d) INTO v_body FROM ident.decision d
	WHERE d.id = v_id;
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN pg_catalog.jsonb_build_object('status', 201, 'body', v_body,
	    'location', '/v1/cases/' || p_case_id::text || '/identification');
END
$$;
COMMENT ON FUNCTION api.ident_record(bytea, text, inet, uuid, jsonb, text)
    IS 'POST /v1/cases/{id}/identification: coordinators of the case''s '
    'region record initial indications, assessors every stage, under the '
    'profile p_profile''s rules; audited identification.create.';

/*
 * GET /v1/cases/{id}/identification: the case's entries, newest first
 * (decided_on, then recorded_at), and what the profile p_profile says
 * about the case now ("rules").  Coordinators of the case's region and
 * assessors; 404 for unknown and out-of-scope alike; an audited read
 * (identification.read, purpose identification).
 */
CREATE FUNCTION api.ident_list(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_profile text DEFAULT 'nl')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_prof record;
	v_c record;
	v_items jsonb;
	v_first date;
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator', 'assessor'],
	    'identification.read', 'case', p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	SELECT * INTO v_prof FROM ident.profile pr
	WHERE pr.code = COALESCE(p_profile, 'nl');
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown profile'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;

	SELECT c.region_code, c.created_at INTO v_c FROM care.case c
	WHERE c.id = p_case_id;
	IF NOT FOUND OR (v_p.role = 'coordinator'
	    AND (v_c.region_code = ANY (v_p.regions)) IS NOT TRUE) THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'identification.read', 'case', p_case_id::text,
		    'identification', 'denied',
		    CASE WHEN v_c.region_code IS NULL
		        AND NOT care.case_exists(p_case_id)
		    THEN 'not_found' ELSE 'out_of_scope' END, p_request_id,
		    p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(404, 'not_found',
		    'no case with this id in your regions');
	END IF;

	SELECT COALESCE(pg_catalog.jsonb_agg(ident.entry_json(d)
	        ORDER BY d.decided_on DESC, d.recorded_at DESC, d.id DESC),
	        '[]'::jsonb),
	    pg_catalog.min(d.decided_on) FILTER (WHERE d.stage = 'initial')
	INTO v_items, v_first
	FROM ident.decision d
	WHERE d.case_id = p_case_id;

	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'identification.read', 'case', p_case_id::text, 'identification',
	    'allowed', NULL, p_request_id, p_client);
	v_resp := pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('case_id', p_case_id,
	        'items', v_items,
	        'rules', pg_catalog.jsonb_build_object(
	            'profile', v_prof.code,
	            'initial_target_working_days',
	                v_prof.initial_target_working_days,
	            'initial_due_on', ident.add_working_days(
	                (v_c.created_at AT TIME ZONE 'UTC')::date,
	                v_prof.initial_target_working_days),
	            'min_days_initial_to_conclusive',
	                v_prof.min_days_initial_to_conclusive,
	            'conclusive_earliest_on',
	                v_first + v_prof.min_days_initial_to_conclusive,
	            'reflection_days', v_prof.reflection_days,
	            'recovery_min_days', v_prof.recovery_min_days)));
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN v_resp;
END
$$;
COMMENT ON FUNCTION api.ident_list(bytea, text, inet, uuid, text) IS
    'GET /v1/cases/{id}/identification: the identification history, '
    'newest first, with the profile''s dates for the case; coordinators '
    'of its region and assessors; audited identification.read.';

/*
 * POST /v1/cases/{id}/share: a coordinator of the case's region records
 * that the victim consented to share the case id with an investigating
 * agency (one that holds an active investigator key).  Order: 401/403;
 * p_consent not true (422 field consent, audited failed/no_consent);
 * the agency (422 field agency_id, failed/unknown_agency); the case
 * (404 alike for unknown and out of scope); then 200 with the share
 * {"case_id", "agency_id", "consent_recorded_at", "shared_by", "new"}
 * (new false: it was shared before; the first share is kept).  A new
 * share appends a 'shared' history entry (detail {"agency_id"}).
 * Audited case.share, purpose investigation.
 */
CREATE FUNCTION api.case_share(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_agency_id uuid, p_consent boolean)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_region text;
	v_share jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.share', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	IF p_consent IS NOT TRUE THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.share', 'case', p_case_id::text, 'investigation',
		    'failed', 'no_consent', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(422, 'validation',
		    'a case is shared with the police only with the victim''s '
		    'consent', 'consent');
	END IF;
	IF p_agency_id IS NULL OR NOT EXISTS (SELECT 1 FROM auth.api_key k
	    WHERE k.agency_id = p_agency_id AND k.role = 'investigator'
	      AND k.revoked_at IS NULL) THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.share', 'case', p_case_id::text, 'investigation',
		    'failed', 'unknown_agency', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(422, 'validation',
		    'not an agency with investigator keys', 'agency_id');
	END IF;

	SELECT c.region_code INTO v_region FROM care.case c
	WHERE c.id = p_case_id;
	IF NOT FOUND OR (v_region = ANY (v_p.regions)) IS NOT TRUE THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.share', 'case', p_case_id::text, 'investigation',
		    'denied', CASE WHEN v_region IS NULL
		        AND NOT care.case_exists(p_case_id)
		    THEN 'not_found' ELSE 'out_of_scope' END, p_request_id,
		    p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(404, 'not_found',
		    'no case with this id in your regions');
	END IF;

	v_share := care.share_case(p_case_id, p_agency_id);
	IF (v_share->>'new')::boolean THEN
		INSERT INTO care.case_history (case_id, action, api_key_id,
		    detail)
		VALUES (p_case_id, 'shared', v_p.key_id,
		    pg_catalog.jsonb_build_object('agency_id', p_agency_id));
	END IF;
	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role, 'case.share',
	    'case', p_case_id::text, 'investigation', 'allowed', NULL,
	    p_request_id, p_client);
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body', v_share);
END
$$;
COMMENT ON FUNCTION api.case_share(bytea, text, inet, uuid, uuid, boolean)
    IS 'POST /v1/cases/{id}/share: a coordinator of the case''s region '
    'shares the case id with an investigating agency, with the victim''s '
    'consent (422 without); audited case.share.';

/*
 * POST /v1/investigations (investigator).  Order: 401/403; the body
 * (400/422, audited failed/bad_request or invalid_body); signal_id not
 * a signal of the caller's agency (422 field signal_id, failed/
 * unknown_signal; the same for an unknown id); case_id not shared with
 * the caller's agency (422 field case_id, failed/case_not_shared);
 * report_filed_on without report_filed (422 field report_filed_on);
 * then 201, location /v1/investigations/<id>, body the record.
 */
CREATE FUNCTION api.invest_create(p_token_hash bytea, p_request_id text,
    p_client inet, p_body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_problem jsonb;
	v_signal uuid;
	v_case uuid;
	v_filed boolean;
	v_filed_on date;
	v_id uuid := pg_catalog.gen_random_uuid();
	v_now timestamptz := pg_catalog.now();
	v_body jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['investigator'], 'investigation.create',
	    'investigation', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	v_problem := invest.body_problem(p_body, true);
	IF v_problem IS NULL THEN
		v_signal := (p_body->>'signal_id')::uuid;
		v_case := (p_body->>'case_id')::uuid;
		v_filed := COALESCE((p_body->>'report_filed')::boolean, false);
		v_filed_on := api.json_date(p_body->'report_filed_on');
		IF v_filed_on IS NOT NULL AND NOT v_filed THEN
			v_problem := pg_catalog.jsonb_build_object(
			    'status', 422, 'code', 'validation',
			    'field', 'report_filed_on',
			    'detail', 'report_filed_on requires report_filed '
			    'true');
		END IF;
	END IF;
	IF v_problem IS NOT NULL THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'investigation.create', 'investigation', NULL,
		    'investigation', 'failed',
		    CASE WHEN (v_problem->>'status')::integer = 400
		    THEN 'bad_request' ELSE 'invalid_body' END, p_request_id,
		    p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem((v_problem->>'status')::integer,
		    v_problem->>'code', v_problem->>'detail',
		    v_problem->>'field');
	END IF;

	IF v_signal IS NOT NULL AND NOT EXISTS (SELECT 1 FROM intake.signal s
	    WHERE s.id = v_signal AND s.agency_id = v_p.agency_id) THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'investigation.create', 'investigation', NULL,
		    'investigation', 'failed', 'unknown_signal', p_request_id,
		    p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(422, 'validation',
		    'no signal with this id was submitted by your agency',
		    'signal_id');
	END IF;
	IF v_case IS NOT NULL AND NOT EXISTS (SELECT 1 FROM invest.case_share x
	    WHERE x.case_id = v_case AND x.agency_id = v_p.agency_id) THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'investigation.create', 'investigation', NULL,
		    'investigation', 'failed', 'case_not_shared', p_request_id,
		    p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(422, 'validation',
		    'no case with this id was shared with your agency',
		    'case_id');
	END IF;

	INSERT INTO invest.record (id, agency_id, signal_id, case_id,
	    police_reference, prosecution_reference, report_filed,
	    report_filed_on, status, created_by, created_at, updated_at,
	    version)
	VALUES (v_id, v_p.agency_id, v_signal, v_case,
	    p_body->>'police_reference', p_body->>'prosecution_reference',
	    v_filed, v_filed_on, COALESCE(p_body->>'status', 'open'),
	    v_p.key_id, v_now, v_now, 1);

	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'investigation.create', 'investigation', v_id::text,
	    'investigation', 'allowed', NULL, p_request_id, p_client);
	SELECT invest.record_json(r) INTO v_body FROM invest.record r
	WHERE r.id = v_id;
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN pg_catalog.jsonb_build_object('status', 201, 'body', v_body,
	    'location', '/v1/investigations/' || v_id::text);
END
$$;
COMMENT ON FUNCTION api.invest_create(bytea, text, inet, jsonb) IS
    'POST /v1/investigations: an investigator records an investigation of '
    'its agency about a signal the agency submitted or a case shared '
    'with it; audited investigation.create.';

/*
 * GET /v1/investigations/{id} (investigator): 200 with the record when
 * it belongs to the caller's agency, else 404 (the same for another
 * agency's record and an unknown id), audited investigation.read
 * (allowed, or denied with not_found / out_of_scope).
 */
CREATE FUNCTION api.invest_get(p_token_hash bytea, p_request_id text,
    p_client inet, p_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_body jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['investigator'], 'investigation.read',
	    'investigation', p_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	SELECT invest.record_json(r) INTO v_body FROM invest.record r
	WHERE r.id = p_id AND r.agency_id = v_p.agency_id;
	IF NOT FOUND THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'investigation.read', 'investigation', p_id::text,
		    'investigation', 'denied',
		    CASE WHEN invest.record_exists(p_id) THEN 'out_of_scope'
		    ELSE 'not_found' END, p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(404, 'not_found',
		    'no investigation with this id for your agency');
	END IF;
	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'investigation.read', 'investigation', p_id::text,
	    'investigation', 'allowed', NULL, p_request_id, p_client);
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body', v_body);
END
$$;
COMMENT ON FUNCTION api.invest_get(bytea, text, inet, uuid) IS
    'GET /v1/investigations/{id}: the record, for investigators of its '
    'agency; 404 alike for other agencies'' and unknown ids; audited.';

/*
 * PATCH /v1/investigations/{id} (investigator), a JSON merge patch of
 * police_reference, prosecution_reference (null clears), report_filed,
 * report_filed_on (null clears), status.  Order: 401/403; the body
 * (400/422, audited failed/bad_request or invalid_body); the record
 * (404 alike for another agency's and an unknown id, denied); p_if_match
 * given and not the version (412 precondition with "version", failed/
 * stale_version); report_filed_on without report_filed after the merge
 * (422 field report_filed_on, failed/invalid_body); then 200 with the
 * record (version + 1; an empty patch changes nothing and keeps it).
 */
CREATE FUNCTION api.invest_patch(p_token_hash bytea, p_request_id text,
    p_client inet, p_id uuid, p_if_match integer, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_problem jsonb;
	v_r record;
	v_police text;
	v_prosecution text;
	v_filed boolean;
	v_filed_on date;
	v_status text;
	v_body jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['investigator'], 'investigation.update',
	    'investigation', p_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	v_problem := invest.body_problem(p_body, false);
	IF v_problem IS NULL AND p_body ? 'report_filed'
	    AND pg_catalog.jsonb_typeof(p_body->'report_filed') = 'null' THEN
		v_problem := pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'report_filed',
		    'detail', 'report_filed must be true or false');
	END IF;
	IF v_problem IS NOT NULL THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'investigation.update', 'investigation', p_id::text,
		    'investigation', 'failed',
		    CASE WHEN (v_problem->>'status')::integer = 400
		    THEN 'bad_request' ELSE 'invalid_body' END, p_request_id,
		    p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem((v_problem->>'status')::integer,
		    v_problem->>'code', v_problem->>'detail',
		    v_problem->>'field');
	END IF;

	SELECT r.police_reference, r.prosecution_reference, r.report_filed,
	    r.report_filed_on, r.status, r.version
	INTO v_r
	FROM invest.record r
	WHERE r.id = p_id AND r.agency_id = v_p.agency_id
	FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'investigation.update', 'investigation', p_id::text,
		    'investigation', 'denied',
		    CASE WHEN invest.record_exists(p_id) THEN 'out_of_scope'
		    ELSE 'not_found' END, p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(404, 'not_found',
		    'no investigation with this id for your agency');
	END IF;
	IF p_if_match IS NOT NULL AND p_if_match <> v_r.version THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'investigation.update', 'investigation', p_id::text,
		    'investigation', 'failed', 'stale_version', p_request_id,
		    p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		v_problem := api.problem(412, 'precondition',
		    pg_catalog.format('the investigation has changed: its '
		        'version is %s', v_r.version));
		RETURN pg_catalog.jsonb_set(v_problem, '{problem,version}',
		    pg_catalog.to_jsonb(v_r.version));
	END IF;

	v_police := CASE WHEN p_body ? 'police_reference'
	    THEN p_body->>'police_reference' ELSE v_r.police_reference END;
	v_prosecution := CASE WHEN p_body ? 'prosecution_reference'
	    THEN p_body->>'prosecution_reference'
	    ELSE v_r.prosecution_reference END;
	v_filed := CASE WHEN p_body ? 'report_filed'
	    THEN (p_body->>'report_filed')::boolean ELSE v_r.report_filed END;
	v_filed_on := CASE WHEN p_body ? 'report_filed_on'
	    THEN api.json_date(p_body->'report_filed_on')
	    ELSE v_r.report_filed_on END;
	v_status := COALESCE(p_body->>'status', v_r.status);
	IF v_filed_on IS NOT NULL AND NOT v_filed THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'investigation.update', 'investigation', p_id::text,
		    'investigation', 'failed', 'invalid_body', p_request_id,
		    p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(422, 'validation',
		    'report_filed_on requires report_filed true',
		    'report_filed_on');
	END IF;

	IF (v_police, v_prosecution, v_filed, v_filed_on, v_status)
	    IS DISTINCT FROM (v_r.police_reference, v_r.prosecution_reference,
	        v_r.report_filed, v_r.report_filed_on, v_r.status) THEN
		UPDATE invest.record SET police_reference = v_police,
		    prosecution_reference = v_prosecution,
		    report_filed = v_filed, report_filed_on = v_filed_on,
		    status = v_status, version = version + 1,
		    updated_at = pg_catalog.now()
		WHERE id = p_id;
	END IF;
	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'investigation.update', 'investigation', p_id::text,
	    'investigation', 'allowed', NULL, p_request_id, p_client);
	SELECT invest.record_json(r) INTO v_body FROM invest.record r
	WHERE r.id = p_id;
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body', v_body);
END
$$;
COMMENT ON FUNCTION api.invest_patch(bytea, text, inet, uuid, integer,
    jsonb) IS
    'PATCH /v1/investigations/{id}: merge-patch references, report and '
    'status of a record of the caller''s agency, with If-Match; 404 alike '
    'for other agencies'' and unknown ids; audited investigation.update.';

-- ---------------------------------------------------------------------
-- Grants.  Both directions: the care roles nothing of invest, the
-- investigator nothing of ident or care.
-- ---------------------------------------------------------------------
REVOKE ALL ON FUNCTION api.scope(uuid, uuid, text, text[]),
    api.json_date(jsonb), care.case_exists(uuid),
    care.share_case(uuid, uuid),
    ident.add_working_days(date, integer),
    ident.entry_json(ident.decision), ident.entry_problem(jsonb),
    invest.record_signal_agency(), invest.record_exists(uuid),
    invest.record_json(invest.record), invest.body_problem(jsonb, boolean),
    api.ident_record(bytea, text, inet, uuid, jsonb, text),
    api.ident_list(bytea, text, inet, uuid, text),
    api.case_share(bytea, text, inet, uuid, uuid, boolean),
    api.invest_create(bytea, text, inet, jsonb),
    api.invest_get(bytea, text, inet, uuid),
    api.invest_patch(bytea, text, inet, uuid, integer, jsonb)
    FROM PUBLIC;

-- nrm_app: the entry points, and api.scope (api.authenticate calls it
-- before the switch).  Every API role may run api.authenticate (0001),
-- so every API role may run api.scope.
GRANT EXECUTE ON FUNCTION
    api.ident_record(bytea, text, inet, uuid, jsonb, text),
    api.ident_list(bytea, text, inet, uuid, text),
    api.case_share(bytea, text, inet, uuid, uuid, boolean),
    api.invest_create(bytea, text, inet, jsonb),
    api.invest_get(bytea, text, inet, uuid),
    api.invest_patch(bytea, text, inet, uuid, integer, jsonb),
    api.scope(uuid, uuid, text, text[])
    TO nrm_app;
GRANT EXECUTE ON FUNCTION api.scope(uuid, uuid, text, text[])
    TO nrm_reporter, nrm_coordinator, nrm_assessor, nrm_investigator,
    nrm_auditor, nrm_analyst, nrm_admin;

-- Identification track: coordinators and assessors.  Decisions are
-- append-only (no UPDATE, no DELETE for anyone but the owner).
GRANT USAGE ON SCHEMA ident TO nrm_coordinator, nrm_assessor;
GRANT SELECT ON ident.profile TO nrm_coordinator, nrm_assessor;
GRANT SELECT, INSERT ON ident.decision TO nrm_coordinator, nrm_assessor;
GRANT EXECUTE ON FUNCTION api.json_date(jsonb), care.case_exists(uuid),
    ident.add_working_days(date, integer),
    ident.entry_json(ident.decision), ident.entry_problem(jsonb)
    TO nrm_coordinator, nrm_assessor;
-- The consented share: through care.share_case only.
GRANT EXECUTE ON FUNCTION care.share_case(uuid, uuid) TO nrm_coordinator;

-- Investigation track: investigators.  They see the two columns of
-- intake.signal that tell which signals their agency submitted (row-
-- level security: only those), nothing else outside schema invest.
GRANT USAGE ON SCHEMA invest, intake TO nrm_investigator;
GRANT SELECT, INSERT ON invest.record TO nrm_investigator;
GRANT UPDATE (police_reference, prosecution_reference, report_filed,
    report_filed_on, status, updated_at, version)
    ON invest.record TO nrm_investigator;
GRANT SELECT (case_id, agency_id, consent_recorded_at)
    ON invest.case_share TO nrm_investigator;
GRANT SELECT (id, agency_id) ON intake.signal TO nrm_investigator;
GRANT EXECUTE ON FUNCTION api.json_date(jsonb),
    invest.record_exists(uuid), invest.record_json(invest.record),
    invest.body_problem(jsonb, boolean)
    TO nrm_investigator;

-- nrm_case_sharer: exactly what care.share_case does.
GRANT USAGE ON SCHEMA care, invest TO nrm_case_sharer;
GRANT SELECT (id, region_code) ON care.case TO nrm_case_sharer;
GRANT SELECT, INSERT ON invest.case_share TO nrm_case_sharer;

-- care.share_case runs as nrm_case_sharer.  A new owner needs CREATE on
-- the schema at the moment of the change only.
GRANT CREATE ON SCHEMA care TO nrm_case_sharer;
ALTER FUNCTION care.share_case(uuid, uuid) OWNER TO nrm_case_sharer;
REVOKE CREATE ON SCHEMA care FROM nrm_case_sharer;
