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
-- The body of GET /v1/cases/{id}, in one place.  0004, 0005 and 0006
-- each carried a whole copy of it inside api.case_get (forward-only
-- migrations replace whole functions).  0007 created care.case_json for
-- it; the function stands in sql/api/30_cases.sql with its comment and
-- grants (0017 changed it: a function that changes lives in a
-- repeatable file).
-- ---------------------------------------------------------------------

-- ---------------------------------------------------------------------
-- api.case_get with the reason and break-glass.
-- ---------------------------------------------------------------------
DROP FUNCTION IF EXISTS api.case_get(bytea, text, inet, uuid, text);

-- ---------------------------------------------------------------------
-- api.ident_list with a purpose.
-- ---------------------------------------------------------------------
DROP FUNCTION IF EXISTS api.ident_list(bytea, text, inet, uuid, text);

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

-- ---------------------------------------------------------------------
-- No arrival numbers in answers: care.case_item leaves inbox_seq out of
-- the item (the view, as it is now, stands in 0004).
-- ---------------------------------------------------------------------

-- ---------------------------------------------------------------------
-- Grants.
-- ---------------------------------------------------------------------
REVOKE ALL ON audit.break_glass_policy, audit.review FROM PUBLIC;
REVOKE ALL ON FUNCTION audit.default_purpose(text),
    audit.break_glass_reasons(),
    audit.break_glass_allowed(text, text),
    audit.review_guard(),
    audit.event_purged(),
    audit.event_flagged(uuid, uuid, text, text, text, text, text, text, text,
    inet, text),
    intake.signal_exists(uuid)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION intake.signal_exists(uuid) TO nrm_reporter;

-- The readers of personal data: what case_get and ident_list call after
-- the role switch.
GRANT EXECUTE ON FUNCTION audit.default_purpose(text),
    audit.break_glass_reasons(),
    audit.event_flagged(uuid, uuid, text, text, text, text, text, text, text,
    inet, text)
    TO nrm_coordinator, nrm_assessor;
GRANT EXECUTE ON FUNCTION audit.break_glass_allowed(text, text)
    TO nrm_coordinator, nrm_assessor;

-- The auditor works through the queue: read it, complete a review (the
-- trigger keeps it to once).
GRANT SELECT ON audit.review TO nrm_auditor;
GRANT UPDATE (reviewed_at, reviewed_by, verdict) ON audit.review
    TO nrm_auditor;
