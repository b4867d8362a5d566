-- 0007_break_glass.sql - purpose of access for every personal-data read,
-- and emergency ("break-glass") reads beyond the caller's normal scope,
-- allowed only where policy says so, with a reason, and flagged for an
-- auditor's review (issue 6; docs/audit.md#break-glass).
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  0001..0006 are released and stay unchanged: this
-- file replaces api.case_get and api.ident_list (one more argument
-- each, so DROP and CREATE) and api.signal_receipt (an out-of-scope
-- receipt is audited denied/out_of_scope), adds an api.authorize that
-- names the object of a denial, drops inbox_seq from the case item
-- (care.case_item: it counted other regions' arrivals), and adds tables
-- and functions.
--
-- Design in one paragraph.  A read of personal data states why: the
-- NRM-Purpose header, else the role's default (audit.default_purpose).
-- The purpose `emergency` needs a reason (NRM-Reason, a code from
-- audit.break_glass_reasons(): free text could carry personal data into
-- the audit log) and is never a default.  An emergency read of a case
-- OUTSIDE the caller's scope succeeds only when audit.break_glass_policy
-- holds a row for the caller's role and the action, and the case exists;
-- otherwise the answer is the usual 404 (an unknown and an out-of-scope
-- case stay indistinguishable).  Every emergency read, in scope or
-- beyond, writes its audit event (purpose emergency, reason = the stated
-- code) together with a row in audit.review, the queue auditors work
-- through (GET /v1/audit/reviews, POST /v1/audit/reviews/{event_id}).
-- A review is written once; a pending review blocks the purge of its
-- event.

-- ---------------------------------------------------------------------
-- Vocabulary: the per-role default purpose and the break-glass reasons.
-- ---------------------------------------------------------------------
CREATE FUNCTION audit.default_purpose(p_role text) RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE p_role
	    WHEN 'reporter' THEN 'intake'
	    WHEN 'coordinator' THEN 'care'
	    WHEN 'assessor' THEN 'identification'
	    WHEN 'investigator' THEN 'investigation'
	    WHEN 'auditor' THEN 'audit'
	    WHEN 'analyst' THEN 'monitoring'
	    END
$$;
COMMENT ON FUNCTION audit.default_purpose(text) IS
    'The purpose recorded for a read without NRM-Purpose, by API role '
    '(docs/audit.md#purposes); null for admin (reads no personal data).  '
    'Never emergency: a break-glass read is always asked for.';

CREATE FUNCTION audit.break_glass_reasons() RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['immediate_danger', 'person_relocated',
	    'region_unreachable', 'continuity_of_care']::text[]
$$;
COMMENT ON FUNCTION audit.break_glass_reasons() IS
    'The reason codes an emergency read may state (NRM-Reason): '
    'immediate_danger (the person is in danger now), person_relocated '
    '(the person is now in the caller''s region), region_unreachable '
    '(the responsible region cannot be reached), continuity_of_care '
    '(the caller cared for the person before).  Codes, never free text.';

-- ---------------------------------------------------------------------
-- Policy: which role may read beyond its scope, for which action.
-- ---------------------------------------------------------------------
CREATE TABLE audit.break_glass_policy (
	role text NOT NULL,
	action text NOT NULL,
	PRIMARY KEY (role, action),
	CONSTRAINT break_glass_policy_role_check
	    CHECK (role IN ('coordinator')),
	CONSTRAINT break_glass_policy_action_check
	    CHECK (action IN ('case.read'))
);
COMMENT ON TABLE audit.break_glass_policy IS
    'Who may read personal data beyond the normal scope in an emergency: '
    'one row per (API role, action).  Shipped: coordinator + case.read '
    '(a coordinator may read a case of another region).  The CHECKs '
    'list what the code supports; the owner (nrm_owner) removes a row to '
    'withdraw the permission (docs/audit.md#break-glass).  No API role '
    'holds a privilege on it.';
INSERT INTO audit.break_glass_policy (role, action)
VALUES ('coordinator', 'case.read');

CREATE FUNCTION audit.break_glass_allowed(p_role text, p_action text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM audit.break_glass_policy p
	    WHERE p.role = p_role AND p.action = p_action)
$$;
COMMENT ON FUNCTION audit.break_glass_allowed(text, text) IS
    'Whether audit.break_glass_policy lets p_role perform p_action beyond '
    'its scope (SECURITY DEFINER: the API roles cannot read the policy '
    'table).';

-- ---------------------------------------------------------------------
-- The review queue.
-- ---------------------------------------------------------------------
CREATE TABLE audit.review (
	event_id bigint PRIMARY KEY,
	kind text NOT NULL,
	flagged_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	reviewed_at timestamptz,
	reviewed_by uuid REFERENCES auth.api_key (id),
	verdict text,
	CONSTRAINT review_kind_check CHECK (kind IN ('break_glass')),
	CONSTRAINT review_verdict_check
	    CHECK (verdict IN ('justified', 'unjustified')),
	CONSTRAINT review_complete_check CHECK (
	    (reviewed_at IS NULL) = (verdict IS NULL)
	    AND (reviewed_at IS NULL) = (reviewed_by IS NULL))
);
CREATE INDEX review_pending ON audit.review (event_id)
WHERE reviewed_at IS NULL;
COMMENT ON TABLE audit.review IS
    'Audit events flagged for an auditor''s review (kind break_glass: '
    'every emergency read), with the verdict once reviewed.  A review is '
    'written once (audit.review_guard); rows leave only with their event '
    'in audit.purge_before, and never while pending.  No personal data.  '
    'event_id is an audit.event id; no foreign key, on purpose: a '
    'referencing table would turn a TRUNCATE of audit.event into a '
    'foreign-key error before the append-only trigger could refuse it '
    '(audit.event_flagged writes both rows in one transaction, and '
    'audit.event_purged removes the review with its event).';

/*
 * The review queue's rules, as a trigger (so they hold for every role,
 * the owner included): an UPDATE may only complete a pending review
 * (event_id, kind and flagged_at unchanged); a completed review never
 * changes; a DELETE happens only inside audit.purge_before (its event
 * is purged: nrm.audit_retention = 'on') and only for a reviewed row.
 */
CREATE FUNCTION audit.review_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		IF OLD.reviewed_at IS NULL AND NEW.reviewed_at IS NOT NULL
		    AND NEW.event_id = OLD.event_id AND NEW.kind = OLD.kind
		    AND NEW.flagged_at = OLD.flagged_at THEN
			RETURN NEW;
		END IF;
		RAISE EXCEPTION 'audit.review: a review is written once'
		    USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF pg_catalog.current_setting('nrm.audit_retention', true) = 'on'
	THEN
		IF OLD.reviewed_at IS NOT NULL THEN
			RETURN OLD;
		END IF;
		RAISE EXCEPTION 'audit event % awaits review: not purged',
		    OLD.event_id
		    USING ERRCODE = 'insufficient_privilege',
		    HINT = 'review it first (POST /v1/audit/reviews/{id})';
	END IF;
	RAISE EXCEPTION 'audit.review is append-only: % refused', TG_OP
	    USING ERRCODE = 'insufficient_privilege',
	    HINT = 'reviews leave only through audit.purge_before '
	        '(docs/audit.md)';
END
$$;
COMMENT ON FUNCTION audit.review_guard() IS
    'Trigger: a review is completed once and never changed; rows leave '
    'only with their (reviewed) event in audit.purge_before.';
CREATE TRIGGER review_guard
BEFORE UPDATE OR DELETE ON audit.review
FOR EACH ROW EXECUTE FUNCTION audit.review_guard();
CREATE TRIGGER review_no_truncate
BEFORE TRUNCATE ON audit.review
FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
COMMENT ON TRIGGER review_guard ON audit.review IS
    'A review is written once; deletes only in a purge, never pending.';
COMMENT ON TRIGGER review_no_truncate ON audit.review IS
    'Never TRUNCATE.';

/*
 * AFTER DELETE on audit.event (which happens only inside
 * audit.purge_before): the purged event's review goes with it, and
 * review_guard refuses when that review is still pending, which makes
 * the whole purge fail: a flagged event is never purged unreviewed.
 */
CREATE FUNCTION audit.event_purged() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM audit.review r WHERE r.event_id = OLD.id;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION audit.event_purged() IS
    'Trigger: a purged audit event takes its (reviewed) review along.';
CREATE TRIGGER event_purged
AFTER DELETE ON audit.event
FOR EACH ROW EXECUTE FUNCTION audit.event_purged();
COMMENT ON TRIGGER event_purged ON audit.event IS
    'A purged event takes its review along; a pending review refuses.';

/*
 * api.audit with the review flag: the event and its audit.review row in
 * the caller's transaction.  SECURITY DEFINER: the reading roles hold
 * no privilege on audit.review (they could otherwise flag, or fail to
 * flag, at will); it writes exactly what api.audit would, plus the flag.
 */
CREATE FUNCTION audit.event_flagged(p_key_id uuid, p_agency_id uuid,
    p_role text, p_action text, p_object_type text, p_object_id text,
    p_purpose text, p_reason text, p_request_id text, p_client inet,
    p_kind text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id bigint;
BEGIN
	INSERT INTO audit.event (api_key_id, agency_id, role, action,
	    object_type, object_id, purpose, outcome, reason, request_id,
	    client_addr)
	VALUES (p_key_id, p_agency_id, p_role, p_action, p_object_type,
	    p_object_id, p_purpose, 'allowed', p_reason, p_request_id,
	    p_client)
	RETURNING id INTO v_id;
	INSERT INTO audit.review (event_id, kind) VALUES (v_id, p_kind);
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION audit.event_flagged(uuid, uuid, text, text, text, text,
    text, text, text, inet, text) IS
    'Append an allowed audit event and flag it for review (audit.review) '
    'in the caller''s transaction; returns the event id.';

-- ---------------------------------------------------------------------
-- Purpose and reason of a read.
-- ---------------------------------------------------------------------

/*
 * The purpose and reason of a personal-data read from the headers
 * (NULL: absent): purpose defaults to p_default (a read whose content
 * has one sound purpose, like a track's history), else to the role's
 * (audit.default_purpose); a purpose is a code
 * of audit.purpose_codes(); emergency needs a reason code of
 * audit.break_glass_reasons(); a reason without emergency is refused
 * (it would be recorded nowhere, and the caller may believe otherwise).
 * problem is the 400 answer (field purpose or reason), else NULL.
 */
CREATE FUNCTION api.read_purpose(p_role text, p_purpose text,
    p_reason text, p_default text DEFAULT NULL, OUT purpose text,
    OUT reason text, OUT problem jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	purpose := COALESCE(p_purpose, p_default,
	    audit.default_purpose(p_role));
	IF purpose IS NULL OR purpose !~ '^[a-z][a-z_]{0,63}$' THEN
		problem := api.problem(400, 'bad_request',
		    'purpose must be a lowercase code (a-z and _)', 'purpose');
		RETURN;
	END IF;
	IF NOT purpose = ANY (audit.purpose_codes()) THEN
		problem := api.problem(400, 'bad_request',
		    'purpose must be one of: ' || pg_catalog.array_to_string(
		        audit.purpose_codes(), ', '), 'purpose');
		RETURN;
	END IF;
	IF purpose <> 'emergency' THEN
		IF p_reason IS NOT NULL THEN
			problem := api.problem(400, 'bad_request',
			    'a reason is given only with purpose emergency',
			    'reason');
		END IF;
		RETURN;
	END IF;
	IF p_reason IS NULL OR NOT p_reason = ANY (audit.break_glass_reasons())
	THEN
		problem := api.problem(400, 'bad_request',
		    'an emergency read needs a reason, one of: '
		    || pg_catalog.array_to_string(audit.break_glass_reasons(),
		        ', '), 'reason');
		RETURN;
	END IF;
	reason := p_reason;
END
$$;
COMMENT ON FUNCTION api.read_purpose(text, text, text, text) IS
    'Purpose (header or the role''s default) and reason of a '
    'personal-data read, or the 400 problem naming purpose or reason.';

-- ---------------------------------------------------------------------
-- The body of GET /v1/cases/{id}, in one place.  0004, 0005 and 0006
-- each carried a whole copy of it inside api.case_get (forward-only
-- migrations replace whole functions); from here on a change to the
-- case's JSON replaces this function alone.
-- ---------------------------------------------------------------------
/*
 * The full case as GET /v1/cases/{id} answers it: the inbox item and
 * routing decision, the signal's facts, the subject's PERSONAL DATA and
 * the history, newest first, and the version.  SECURITY INVOKER: it
 * reads under the caller's privileges and row-level security (NULL for
 * a case the caller cannot see); the caller audits.
 *
 * PL/pgSQL, not a SQL function, on purpose: a SQL function called from
 * a PL/pgSQL expression keeps its plan for the rest of the transaction,
 * row-level security quals included, so a second call under another role
 * (as tests/db/80_break_glass.sql makes: a coordinator, then an
 * assessor) would read with the first role's policies.  PL/pgSQL's plan
 * cache re-plans when the role changes.
 */
CREATE FUNCTION care.case_json(p_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v jsonb;
BEGIN
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
	INTO v
	FROM care.case c
	JOIN care.case_item i ON i.id = c.id
	JOIN intake.signal s ON s.id = c.signal_id
	JOIN auth.agency ra ON ra.id = s.agency_id
	LEFT JOIN care.subject sub ON sub.signal_id = c.signal_id
	WHERE c.id = p_id;
	RETURN v;
END
$$;
COMMENT ON FUNCTION care.case_json(uuid) IS
    'The JSON of GET /v1/cases/{id} (PERSONAL DATA), read with the '
    'caller''s privileges and row-level security; not audited itself.';

/*
 * Audit a read of personal data: an emergency read through
 * audit.event_flagged (flagged for review), any other through api.audit.
 * Always outcome allowed: denials are written where they happen.
 */
CREATE FUNCTION api.audit_read(p_key_id uuid, p_agency_id uuid,
    p_role text, p_action text, p_object_type text, p_object_id text,
    p_purpose text, p_reason text, p_request_id text, p_client inet)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_purpose = 'emergency' THEN
		PERFORM audit.event_flagged(p_key_id, p_agency_id, p_role,
		    p_action, p_object_type, p_object_id, p_purpose, p_reason,
		    p_request_id, p_client, 'break_glass');
	ELSE
		PERFORM api.audit(p_key_id, p_agency_id, p_role, p_action,
		    p_object_type, p_object_id, p_purpose, 'allowed', NULL,
		    p_request_id, p_client);
	END IF;
END
$$;
COMMENT ON FUNCTION api.audit_read(uuid, uuid, text, text, text, text, text,
    text, text, inet) IS
    'Audit an allowed read of personal data; an emergency read is also '
    'flagged for review (audit.event_flagged).';

-- ---------------------------------------------------------------------
-- api.case_get with the reason and break-glass.
-- ---------------------------------------------------------------------
DROP FUNCTION api.case_get(bytea, text, inet, uuid, text);

/*
 * GET /v1/cases/{id} as 0006 left it, plus: p_reason (NRM-Reason);
 * purpose and reason checked by api.read_purpose (400, audited failed/
 * bad_request); a case outside the caller's scope is read only with
 * purpose emergency, where audit.break_glass_policy allows the role
 * case.read, and when it exists (else the same 404 as ever, audited
 * denied/out_of_scope or not_found).  An emergency read answers the
 * usual body plus "break_glass": {"reason", "beyond_scope",
 * "review": "pending"} and is audited through audit.event_flagged.
 */
CREATE FUNCTION api.case_get(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_purpose text DEFAULT NULL,
    p_reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_rp record;
	v_region text;
	v_beyond boolean := false;
	v_body jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator', 'assessor'], 'case.read', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	SELECT * INTO v_rp FROM api.read_purpose(v_p.role, p_purpose,
	    p_reason);
	IF v_rp.problem IS NOT NULL THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'case.read', 'case', p_case_id::text, NULL, 'failed',
		    'bad_request', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN v_rp.problem;
	END IF;

	SELECT c.region_code INTO v_region FROM care.case c
	WHERE c.id = p_case_id;
	IF NOT FOUND OR (v_p.role = 'coordinator'
	    AND (v_region = ANY (v_p.regions)) IS NOT TRUE) THEN
		IF v_rp.purpose = 'emergency'
		    AND audit.break_glass_allowed(v_p.role, 'case.read')
		    AND care.case_exists(p_case_id) THEN
			-- Break glass: this transaction may read this one
			-- case (row-level security, nrm.case_id).
			PERFORM pg_catalog.set_config('nrm.case_id',
			    p_case_id::text, true);
			v_beyond := true;
		ELSE
			PERFORM api.audit(v_p.key_id, v_p.agency_id,
			    v_p.role, 'case.read', 'case', p_case_id::text,
			    v_rp.purpose, 'denied',
			    CASE WHEN v_region IS NULL
			        AND NOT care.case_exists(p_case_id)
			    THEN 'not_found' ELSE 'out_of_scope' END,
			    p_request_id, p_client);
			PERFORM pg_catalog.set_config('role', v_prev_role,
			    true);
			RETURN api.problem(404, 'not_found',
			    'no case with this id in your regions');
		END IF;
	END IF;

	v_body := care.case_json(p_case_id);

	PERFORM api.audit_read(v_p.key_id, v_p.agency_id, v_p.role,
	    'case.read', 'case', p_case_id::text, v_rp.purpose, v_rp.reason,
	    p_request_id, p_client);
	IF v_rp.purpose = 'emergency' THEN
		v_body := v_body || pg_catalog.jsonb_build_object('break_glass',
		    pg_catalog.jsonb_build_object('reason', v_rp.reason,
		        'beyond_scope', v_beyond, 'review', 'pending'));
	END IF;
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body', v_body);
END
$$;
COMMENT ON FUNCTION api.case_get(bytea, text, inet, uuid, text, text) IS
    'GET /v1/cases/{id}: the full case with the subject''s PERSONAL DATA '
    'and its history, for coordinators of its region and assessors; an '
    'audited read (case.read) with a purpose (api.read_purpose); an '
    'emergency read may go beyond the caller''s regions where '
    'audit.break_glass_policy allows, and is flagged for review; 404 '
    'for unknown and out-of-scope alike otherwise.';

-- ---------------------------------------------------------------------
-- api.ident_list with a purpose.
-- ---------------------------------------------------------------------
DROP FUNCTION api.ident_list(bytea, text, inet, uuid, text);

/*
 * GET /v1/cases/{id}/identification as 0006 left it, plus the purpose
 * and reason of the read (api.read_purpose: NRM-Purpose, default
 * identification for every role, 400 audited failed/bad_request).  No break-glass here: the
 * policy covers case.read only, so an emergency read of an
 * out-of-scope case's identification is the usual 404; an emergency
 * read in scope is flagged for review like any other.
 */
CREATE FUNCTION api.ident_list(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_profile text DEFAULT 'nl',
    p_purpose text DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_rp record;
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

	SELECT * INTO v_rp FROM api.read_purpose(v_p.role, p_purpose,
	    p_reason, 'identification');
	IF v_rp.problem IS NOT NULL THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'identification.read', 'case', p_case_id::text, NULL,
		    'failed', 'bad_request', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN v_rp.problem;
	END IF;

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
		    v_rp.purpose, 'denied',
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

	PERFORM api.audit_read(v_p.key_id, v_p.agency_id, v_p.role,
	    'identification.read', 'case', p_case_id::text, v_rp.purpose,
	    v_rp.reason, p_request_id, p_client);
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
COMMENT ON FUNCTION api.ident_list(bytea, text, inet, uuid, text, text,
    text) IS
    'GET /v1/cases/{id}/identification: the identification history, '
    'newest first, with the profile''s dates for the case; coordinators '
    'of its region and assessors; audited identification.read with a '
    'purpose (api.read_purpose).';

-- ---------------------------------------------------------------------
-- The auditor's review queue.
-- ---------------------------------------------------------------------

/*
 * GET /v1/audit/reviews (auditor): flagged events, oldest first (a
 * queue), each the event's fields (as GET /v1/audit shows them) plus
 * kind, flagged_at, reviewed_at, reviewed_by, verdict.  p_state:
 * pending (default), reviewed, all; keyset on event id (p_after_id =
 * the previous page's next_after); p_limit 1..200.  Audited
 * audit.reviews, purpose audit.
 */
CREATE FUNCTION api.audit_reviews(p_token_hash bytea, p_request_id text,
    p_client inet, p_state text DEFAULT 'pending',
    p_after_id bigint DEFAULT NULL, p_limit integer DEFAULT 50)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_state text := COALESCE(p_state, 'pending');
	v_limit integer := COALESCE(p_limit, 50);
	v_field text;
	v_items jsonb;
	v_n integer;
	v_next bigint;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['auditor'], 'audit.reviews', 'audit', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	v_field := CASE
	    WHEN v_state NOT IN ('pending', 'reviewed', 'all') THEN 'state'
	    WHEN v_limit NOT BETWEEN 1 AND 200 THEN 'limit'
	    WHEN p_after_id < 0 THEN 'cursor' END;
	IF v_field IS NOT NULL THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'audit.reviews', 'audit', NULL, 'audit', 'failed',
		    'bad_request', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(400, 'bad_request', CASE v_field
		    WHEN 'state' THEN 'state must be pending, reviewed or all'
		    WHEN 'limit' THEN 'limit must be 1..200'
		    ELSE 'cursor is not valid' END, v_field);
	END IF;

	SELECT COALESCE(pg_catalog.jsonb_agg(x.item ORDER BY x.id), '[]'),
	    pg_catalog.count(*)::integer
	INTO v_items, v_n
	FROM (
		SELECT e.id, pg_catalog.jsonb_build_object('id', e.id,
		    'at', api.rfc3339(e.at),
		    'api_key_id', e.api_key_id, 'agency_id', e.agency_id,
		    'role', e.role, 'action', e.action,
		    'object_type', e.object_type, 'object_id', e.object_id,
		    'purpose', e.purpose, 'reason', e.reason,
		    'request_id', e.request_id,
		    'client_addr', pg_catalog.abbrev(e.client_addr),
		    'kind', rv.kind, 'flagged_at', api.rfc3339(rv.flagged_at),
		    'reviewed_at', api.rfc3339(rv.reviewed_at),
		    'reviewed_by', rv.reviewed_by, 'verdict', rv.verdict)
		    AS item
		FROM audit.review rv
		JOIN audit.event e ON e.id = rv.event_id
		WHERE (v_state = 'all'
		    OR (v_state = 'pending') = (rv.reviewed_at IS NULL))
		  AND (p_after_id IS NULL OR rv.event_id > p_after_id)
		ORDER BY rv.event_id
		LIMIT v_limit + 1) x;
	IF v_n > v_limit THEN
		v_items := v_items - v_limit;
		v_next := (v_items->(v_limit - 1)->>'id')::bigint;
	END IF;

	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'audit.reviews', 'audit', NULL, 'audit', 'allowed', NULL,
	    p_request_id, p_client);
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('items', v_items,
	        'next_after', v_next));
END
$$;
COMMENT ON FUNCTION api.audit_reviews(bytea, text, inet, text, bigint,
    integer) IS
    'GET /v1/audit/reviews (auditor): events flagged for review, oldest '
    'first, by state; keyset on event id; audited audit.reviews.';

/*
 * POST /v1/audit/reviews/{event_id} (auditor): record the verdict
 * (justified, unjustified) on a flagged event.  422 field verdict; 404
 * for an event that is not flagged (or does not exist); 409 when it was
 * reviewed already (the first verdict stands; the answer carries it);
 * 200 with the review.  Audited audit.review on object audit_event.
 */
CREATE FUNCTION api.audit_review(p_token_hash bytea, p_request_id text,
    p_client inet, p_event_id bigint, p_verdict text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_rv audit.review;
	v_outcome text := 'allowed';
	v_reason text;
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['auditor'], 'audit.review', 'audit_event',
	    p_event_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	IF p_verdict IS NULL OR p_verdict NOT IN ('justified', 'unjustified')
	THEN
		v_outcome := 'failed';
		v_reason := 'invalid_body';
		v_resp := api.problem(422, 'validation',
		    'verdict must be justified or unjustified', 'verdict');
	ELSE
		SELECT * INTO v_rv FROM audit.review r
		WHERE r.event_id = p_event_id FOR UPDATE;
		IF NOT FOUND THEN
			v_outcome := 'failed';
			v_reason := 'not_found';
			v_resp := api.problem(404, 'not_found',
			    'no audit event with this id awaits review');
		ELSIF v_rv.reviewed_at IS NOT NULL THEN
			v_outcome := 'failed';
			v_reason := 'already_reviewed';
			v_resp := pg_catalog.jsonb_set(api.problem(409,
			    'conflict', pg_catalog.format(
			        'this event was reviewed already (%s)',
			        v_rv.verdict)),
			    '{problem,verdict}', pg_catalog.to_jsonb(v_rv.verdict));
		ELSE
			UPDATE audit.review r
			SET reviewed_at = pg_catalog.clock_timestamp(),
			    reviewed_by = v_p.key_id, verdict = p_verdict
			WHERE r.event_id = p_event_id
			RETURNING * INTO v_rv;
			v_resp := pg_catalog.jsonb_build_object('status', 200,
			    'body', pg_catalog.jsonb_build_object(
			        'event_id', v_rv.event_id, 'kind', v_rv.kind,
			        'flagged_at', api.rfc3339(v_rv.flagged_at),
			        'reviewed_at', api.rfc3339(v_rv.reviewed_at),
			        'reviewed_by', v_rv.reviewed_by,
			        'verdict', v_rv.verdict));
		END IF;
	END IF;
	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'audit.review', 'audit_event', p_event_id::text, 'audit',
	    v_outcome, v_reason, p_request_id, p_client);
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN v_resp;
END
$$;
COMMENT ON FUNCTION api.audit_review(bytea, text, inet, bigint, text) IS
    'POST /v1/audit/reviews/{event_id} (auditor): the verdict on a '
    'flagged event, once; audited audit.review.';

-- ---------------------------------------------------------------------
-- Denials name their object.  nrmd refuses a caller whose role may not
-- act before it calls the action's own function (api.authorize, 0003),
-- and 0003's api.authorize audited that denial without the object:
-- "who tried to read this file" (GET /v1/audit?object_type=case&
-- object_id=...) missed an investigator's attempt on a case.  This
-- overload takes the object; nrmd passes the route's id when it is
-- well formed (never free text from the path).
-- ---------------------------------------------------------------------
CREATE FUNCTION api.authorize(p_token_hash bytea, p_request_id text,
    p_client inet, p_roles text[], p_action text, p_object_type text,
    p_object_id text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, p_roles, p_action, p_object_type, p_object_id);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('key_id', v_p.key_id,
	        'agency_id', v_p.agency_id, 'role', v_p.role,
	        'agency_kind', v_p.agency_kind,
	        'regions', COALESCE(v_p.regions, '{}'::text[])));
END
$$;
COMMENT ON FUNCTION api.authorize(bytea, text, inet, text[], text, text,
    text) IS
    'The principal of a token hash if its role is one of p_roles, else '
    'the audited 401/403 answer naming the object (p_object_type, '
    'p_object_id).  Reads no personal data; switches no role.';

-- ---------------------------------------------------------------------
-- The receipt of another agency's signal: denied/out_of_scope, like
-- every other read outside the caller's scope (0001 wrote failed/
-- not_found for both).  The answer is the same 404 either way.
-- ---------------------------------------------------------------------
CREATE FUNCTION intake.signal_exists(p_signal_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM intake.signal s WHERE s.id = p_signal_id)
$$;
COMMENT ON FUNCTION intake.signal_exists(uuid) IS
    'Whether a signal with this id exists (SECURITY DEFINER, owner: past '
    'row-level security).  For the audit reason not_found vs '
    'out_of_scope only; the answer to the client is the same 404.';

CREATE OR REPLACE FUNCTION api.signal_receipt(p_token_hash bytea,
    p_request_id text, p_client inet, p_signal_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_r record;
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['reporter'], 'signal.read_receipt', 'signal',
	    p_signal_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	SELECT s.id, s.received_at, s.region_code, s.rule_id,
	    s.notification_only, c.id AS case_id, c.priority
	INTO v_r
	FROM intake.signal s
	LEFT JOIN care.case c ON c.signal_id = s.id
	WHERE s.id = p_signal_id AND s.agency_id = v_p.agency_id;
	IF NOT FOUND THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'signal.read_receipt', 'signal', p_signal_id::text,
		    'intake', 'denied',
		    CASE WHEN intake.signal_exists(p_signal_id)
		    THEN 'out_of_scope' ELSE 'not_found' END, p_request_id,
		    p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(404, 'not_found',
		    'no signal with this id was submitted by your agency');
	END IF;

	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'signal.read_receipt', 'signal', p_signal_id::text, 'intake',
	    'allowed', NULL, p_request_id, p_client);
	v_resp := pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('signal_id', v_r.id,
	        'case_id', v_r.case_id, 'region', v_r.region_code,
	        'priority', v_r.priority, 'rule_id', v_r.rule_id,
	        'received_at', api.rfc3339(v_r.received_at),
	        'notification_only', v_r.notification_only));
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN v_resp;
END
$$;
COMMENT ON FUNCTION api.signal_receipt(bytea, text, inet, uuid) IS
    'GET /v1/signals/{id}: the receipt of a signal of the caller''s '
    'agency (reporter), else 404 (audited denied, out_of_scope or '
    'not_found); audited.';

-- ---------------------------------------------------------------------
-- No arrival numbers in answers.  inbox_seq comes from one national
-- sequence (0004: it orders every inbox and makes the long-poll
-- watermark final), so the gap between two of a coordinator's cases
-- would count the cases that entered other regions' inboxes meanwhile.
-- The item leaves it out; nrmd seals the keyset cursor and the
-- watermark, which still carry it, into opaque tokens (handler_inbox.c).
-- The column stays: the order and the watermark are unchanged.
-- ---------------------------------------------------------------------
CREATE OR REPLACE VIEW care.case_item WITH (security_invoker = true) AS
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
        'created_at', api.rfc3339(c.created_at),
        'version', c.version) AS item
FROM care.case c
JOIN intake.signal s ON s.id = c.signal_id
LEFT JOIN auth.api_key k ON k.id = c.holder_key_id
LEFT JOIN auth.agency a ON a.id = k.agency_id;
COMMENT ON VIEW care.case_item IS
    'Each case as an inbox item (jsonb) with its sort key columns '
    '(prio_rank, take_by, inbox_seq).  Triage facts only, no personal '
    'data, and no inbox_seq in the item (0007: it would count other '
    'regions'' arrivals).  security_invoker: read with the caller''s '
    'privileges.';

-- ---------------------------------------------------------------------
-- Grants.
-- ---------------------------------------------------------------------
REVOKE ALL ON audit.break_glass_policy, audit.review FROM PUBLIC;
REVOKE ALL ON FUNCTION audit.default_purpose(text),
    audit.break_glass_reasons(), audit.break_glass_allowed(text, text),
    audit.review_guard(), audit.event_purged(),
    audit.event_flagged(uuid, uuid, text, text, text, text, text, text,
        text, inet, text),
    api.read_purpose(text, text, text, text), care.case_json(uuid),
    api.audit_read(uuid, uuid, text, text, text, text, text, text, text,
        inet),
    api.case_get(bytea, text, inet, uuid, text, text),
    api.ident_list(bytea, text, inet, uuid, text, text, text),
    api.audit_reviews(bytea, text, inet, text, bigint, integer),
    api.audit_review(bytea, text, inet, bigint, text),
    api.authorize(bytea, text, inet, text[], text, text, text),
    intake.signal_exists(uuid)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION intake.signal_exists(uuid) TO nrm_reporter;

GRANT EXECUTE ON FUNCTION
    api.case_get(bytea, text, inet, uuid, text, text),
    api.ident_list(bytea, text, inet, uuid, text, text, text),
    api.audit_reviews(bytea, text, inet, text, bigint, integer),
    api.audit_review(bytea, text, inet, bigint, text),
    api.authorize(bytea, text, inet, text[], text, text, text)
    TO nrm_app;

-- The readers of personal data: what case_get and ident_list call after
-- the role switch.
GRANT EXECUTE ON FUNCTION audit.default_purpose(text),
    audit.break_glass_reasons(), api.read_purpose(text, text, text, text),
    care.case_json(uuid),
    api.audit_read(uuid, uuid, text, text, text, text, text, text, text,
        inet),
    audit.event_flagged(uuid, uuid, text, text, text, text, text, text,
        text, inet, text)
    TO nrm_coordinator, nrm_assessor;
GRANT EXECUTE ON FUNCTION audit.break_glass_allowed(text, text)
    TO nrm_coordinator, nrm_assessor;

-- The auditor works through the queue: read it, complete a review (the
-- trigger keeps it to once).
GRANT SELECT ON audit.review TO nrm_auditor;
GRANT UPDATE (reviewed_at, reviewed_by, verdict) ON audit.review
    TO nrm_auditor;
