-- 30_cases_actions.sql - api functions: the case lifecycle's actions (take,
-- decline, transfer, close, reopen, share, escalate), built on the steps
-- of 30_cases.sql (api.case_lock, api.case_done).  Split from 30_cases.sql
-- (released migrations' comments that name 30_cases.sql mean
-- 30_cases*.sql).  A repeatable file (docs/sql-api.md, "Migrations").
--
-- Applied by `nrmctl migrate` after the numbered migrations, in the same
-- transaction, every file of sql/api/ in name order, and recorded with
-- its SHA-256 in nrm.schema_repeatable.  Each function stands here once,
-- as CREATE OR REPLACE, with its comment and grants; change it here.  A
-- new signature, a dropped function or anything a table, view, policy
-- or trigger needs at creation time belongs in a numbered migration.

CREATE OR REPLACE FUNCTION api.case_take(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_if_match integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_l record;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.take', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	SELECT * INTO v_l FROM api.case_lock(v_p, p_case_id, p_if_match,
	    'take');
	IF v_l.answer IS NOT NULL THEN
		RETURN v_l.answer;
	END IF;

	UPDATE care.case SET state = 'taken', holder_key_id = v_p.key_id,
	    holder_person_id = v_p.person_id, version = version + 1,
	    updated_at = pg_catalog.now()
	WHERE id = p_case_id;
	RETURN api.case_done(v_p, p_case_id, 'taken',
	    pg_catalog.jsonb_build_object('region', (v_l.c).region_code));
END
$$;
COMMENT ON FUNCTION api.case_take(bytea, text, inet, uuid, integer) IS
    'POST /v1/cases/{id}/take: open -> taken by the caller; of concurrent '
    'takers exactly one wins, the others get 409 naming the holder.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

CREATE OR REPLACE FUNCTION api.case_decline(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_case_id uuid, p_if_match integer, p_reason text,
    p_decline_limit integer DEFAULT 3) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_l record;
	v_region text;
	v_since bigint;
	v_decliners uuid[];
	v_region_declines integer;
	v_everyone boolean;
	v_why text;
	v_to text;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.decline', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF p_decline_limit IS NULL OR p_decline_limit < 1 THEN
		RAISE EXCEPTION 'p_decline_limit must be at least 1'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;

	SELECT * INTO v_l FROM api.case_lock(v_p, p_case_id, p_if_match,
	    'decline', p_reason);
	IF v_l.answer IS NOT NULL THEN
		RETURN v_l.answer;
	END IF;
	v_region := (v_l.c).region_code;

	-- The declines since the case entered its current region: history
	-- rows after the last one that brought it there (routed,
	-- transferred, escalated, reopened, or a decline that moved it).
	SELECT COALESCE(pg_catalog.max(h.id), 0) INTO v_since
	FROM care.case_history h
	WHERE h.case_id = p_case_id
	  AND (h.action IN ('routed', 'transferred', 'escalated', 'reopened',
	      'transfer_accepted')
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
	-- Every coordinator of the region has declined it: each active
	-- coordinator key and each active coordinator person (enrolled or
	-- not, as for a handover; a person declines through its own key).
	v_everyone := NOT EXISTS (SELECT 1 FROM auth.api_key k
	    WHERE k.role = 'coordinator' AND k.revoked_at IS NULL
	      AND v_region = ANY (k.regions)
	      AND NOT k.id = ANY (v_decliners))
	  AND NOT EXISTS (SELECT 1 FROM auth.person p
	    WHERE p.role = 'coordinator' AND p.status = 'active'
	      AND v_region = ANY (p.regions)
	      AND NOT p.key_id = ANY (v_decliners));

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
	RETURN api.case_done(v_p, p_case_id, 'declined',
	    pg_catalog.jsonb_build_object('reason', p_reason,
	        'region', v_region, 'to_region', v_to,
	        'declines', (v_l.c).declines + 1,
	        'region_declines', v_region_declines,
	        'decline_limit', p_decline_limit, 'why', v_why));
END
$$;
COMMENT ON FUNCTION api.case_decline(bytea, text, inet, uuid, integer, text,
    integer) IS
    'POST /v1/cases/{id}/decline: open or taken by the caller -> open, '
    'back in its region''s inbox, or at the national desk once declined '
    'p_decline_limit times in its region or by every active coordinator '
    'key and person of the region.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

/*
 * POST /v1/cases/{id}/transfer: open, or taken by the caller ->
 * transfer_pending to p_target_region.  The case stays where it is, with
 * its holder, until a coordinator of the target region accepts it (open
 * there, with the deadlines p_take_within_s / p_first_contact_within_s
 * counted from the acceptance) or refuses it (back as it was), or the
 * sweeper escalates it unanswered after p_answer_within_s (nrmd's
 * transfer_answer_within).
 */
CREATE OR REPLACE FUNCTION api.case_transfer(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_case_id uuid, p_if_match integer,
    p_target_region text, p_reason text, p_take_within_s integer,
    p_first_contact_within_s integer, p_answer_within_s integer)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_l record;
	v_a jsonb;
	v_now timestamptz := pg_catalog.now();
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.transfer', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF p_take_within_s IS NULL OR p_take_within_s < 0
	    OR p_first_contact_within_s IS NULL
	    OR p_first_contact_within_s < 0
	    OR p_answer_within_s IS NULL OR p_answer_within_s < 0 THEN
		RAISE EXCEPTION 'p_take_within_s, p_first_contact_within_s and '
		    'p_answer_within_s must be seconds >= 0'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;

	v_a := api.case_reason(v_p, 'transfer', p_reason);
	IF v_a IS NOT NULL THEN
		RETURN v_a;
	END IF;
	IF p_target_region IS NULL OR NOT EXISTS (SELECT 1 FROM ref.region r
	    WHERE r.code = p_target_region) THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'unknown_region',
		    api.problem(422, 'validation', 'unknown region',
		        'target_region'));
	END IF;

	SELECT * INTO v_l FROM api.case_lock(v_p, p_case_id, p_if_match,
	    'transfer');
	IF v_l.answer IS NOT NULL THEN
		RETURN v_l.answer;
	END IF;
	IF (v_l.c).region_code = p_target_region THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'same_region',
		    api.problem(422, 'validation',
		        'the case is already in this region', 'target_region'));
	END IF;

	UPDATE care.case SET state = 'transfer_pending',
	    transfer_to = p_target_region,
	    transfer_from_state = (v_l.c).state,
	    transfer_reason = p_reason,
	    transfer_requested_at = v_now,
	    transfer_answer_by = v_now
	        + pg_catalog.make_interval(secs => p_answer_within_s),
	    transfer_take_within_s = p_take_within_s,
	    transfer_first_contact_within_s = p_first_contact_within_s,
	    version = version + 1, updated_at = v_now
	WHERE id = p_case_id;
	RETURN api.case_done(v_p, p_case_id, 'transferred',
	    pg_catalog.jsonb_build_object('reason', p_reason,
	        'from_region', (v_l.c).region_code,
	        'to_region', p_target_region,
	        'pending', true,
	        'answer_within_s', p_answer_within_s,
	        'take_within_s', p_take_within_s,
	        'first_contact_within_s', p_first_contact_within_s));
END
$$;
COMMENT ON FUNCTION api.case_transfer(bytea, text, inet, uuid, integer,
    text, text, integer, integer, integer) IS
    'POST /v1/cases/{id}/transfer: open or taken by the caller -> '
    'transfer_pending to another region, which accepts or refuses it '
    '(the sender keeps it meanwhile); escalated when unanswered after '
    'p_answer_within_s.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

CREATE OR REPLACE FUNCTION api.case_close(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_if_match integer, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_l record;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.close', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	SELECT * INTO v_l FROM api.case_lock(v_p, p_case_id, p_if_match,
	    'close', p_reason);
	IF v_l.answer IS NOT NULL THEN
		RETURN v_l.answer;
	END IF;

	-- The holder stays recorded on the closed case.
	UPDATE care.case SET state = 'closed', closed_reason = p_reason,
	    version = version + 1, updated_at = pg_catalog.now()
	WHERE id = p_case_id;
	RETURN api.case_done(v_p, p_case_id, 'closed',
	    pg_catalog.jsonb_build_object('reason', p_reason,
	        'region', (v_l.c).region_code));
END
$$;
COMMENT ON FUNCTION api.case_close(bytea, text, inet, uuid, integer, text)
    IS 'POST /v1/cases/{id}/close: taken by the caller -> closed, with a '
    'reason from the documented list.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

CREATE OR REPLACE FUNCTION api.case_reopen(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_case_id uuid, p_if_match integer, p_reason text,
    p_take_within_s integer DEFAULT NULL,
    p_first_contact_within_s integer DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_l record;
	v_now timestamptz := pg_catalog.now();
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
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

	-- The signal's erasure lock (15, hashtext(signal id)) before the
	-- case's row, in care.erase_signal's order: an erasure running now
	-- goes first or after, never half.
	PERFORM pg_catalog.pg_advisory_xact_lock(15,
	    pg_catalog.hashtext(c.signal_id::text))
	FROM care.case c WHERE c.id = p_case_id;
	SELECT * INTO v_l FROM api.case_lock(v_p, p_case_id, p_if_match,
	    'reopen', p_reason);
	IF v_l.answer IS NOT NULL THEN
		RETURN v_l.answer;
	END IF;
	-- A case whose personal data were erased stays closed: care without
	-- the person's data cannot resume, and a reopened case would run
	-- its clocks for nobody.
	IF EXISTS (SELECT 1 FROM care.erasure e
	    WHERE e.signal_id = (v_l.c).signal_id) THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'erased',
		    pg_catalog.jsonb_set(api.problem(409, 'conflict',
		    'the personal data of this case were erased, so it cannot '
		    'be reopened: record the person''s return as a new signal',
		    'case'), '{problem,erased}',
		    care.erasure_json(p_case_id)->'erased'));
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
	RETURN api.case_done(v_p, p_case_id, 'reopened',
	    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
	        'reason', p_reason, 'region', (v_l.c).region_code,
	        'take_within_s', p_take_within_s,
	        'first_contact_within_s', p_first_contact_within_s)));
END
$$;
COMMENT ON FUNCTION api.case_reopen(bytea, text, inet, uuid, integer, text,
    integer, integer) IS
    'POST /v1/cases/{id}/reopen: closed -> open in its region''s inbox; '
    'new deadlines when given, else the old ones (an overdue reopened '
    'case is escalated by the next sweep unless escalated before); 409 '
    'when its personal data were erased.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

CREATE OR REPLACE FUNCTION api.escalate_overdue(p_limit integer) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_t jsonb;
	v_f jsonb;
	v_x jsonb;
BEGIN
	PERFORM api.scope_clear();
	-- Each kind in turn, each up to p_limit: the take deadline first
	-- (an open case past both deadlines is escalated for the take and
	-- is then at the national desk, which the second kind skips).
	v_t := care.escalate_overdue(p_limit);
	v_f := care.escalate_first_contact(p_limit);
	v_x := care.escalate_transfers(p_limit);
	RETURN pg_catalog.jsonb_build_object(
	    'escalated', (v_t->>'escalated')::integer
	        + (v_f->>'escalated')::integer
	        + (v_x->>'escalated')::integer,
	    'case_ids', (v_t->'case_ids') || (v_f->'case_ids')
	        || (v_x->'case_ids'));
END
$$;
COMMENT ON FUNCTION api.escalate_overdue(integer) IS
    'Called by every nrmd''s sweeper as nrm_app (no token): escalate up '
    'to p_limit cases past their take deadline, up to p_limit past '
    'their first-contact deadline and up to p_limit transfers unanswered '
    'in time; {"escalated": n, "case_ids": [...]}.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

/*
 * The agencies a case may be shared with: those with an active
 * investigator key or person, ordered by name.  The one definition both
 * POST /v1/cases/{id}/share (which refuses any other agency) and GET
 * /v1/cases/{id}/share-targets (which lists them) use; run as the
 * coordinator, reading the columns 0004 and 0009 granted it.
 */
CREATE OR REPLACE FUNCTION api.share_targets()
RETURNS TABLE (agency_id uuid, name text, kind text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT a.id, a.name, a.kind FROM auth.agency a
	WHERE EXISTS (SELECT 1 FROM auth.api_key k
	    WHERE k.agency_id = a.id AND k.role = 'investigator'
	      AND k.revoked_at IS NULL)
	   OR EXISTS (SELECT 1 FROM auth.person p
	    WHERE p.agency_id = a.id AND p.role = 'investigator'
	      AND p.status = 'active')
	ORDER BY a.name, a.id
$$;
COMMENT ON FUNCTION api.share_targets() IS
    'The agencies a case may be shared with (an active investigator key '
    'or person): checked by api.case_share, listed by '
    'api.case_share_targets.';
GRANT EXECUTE ON FUNCTION api.share_targets() TO nrm_coordinator;

/*
 * POST /v1/cases/{id}/share: a coordinator of the case's region records
 * that the victim consented to share the case id with an investigating
 * agency (one with an active investigator key or person).  Order: 401/403;
 * p_consent not true (422 field consent, audited failed/no_consent);
 * the agency (422 field agency_id, failed/unknown_agency); the case
 * (404 alike for unknown and out of scope); then 200 with the share
 * {"case_id", "agency_id", "consent_recorded_at", "shared_by", "new"}
 * (new false: it was shared before; the first share is kept).  A new
 * share appends a 'shared' history entry (detail {"agency_id"}).
 * Audited case.share, purpose investigation.
 */
CREATE OR REPLACE FUNCTION api.case_share(p_token_hash bytea, p_request_id text,
    p_client inet, p_case_id uuid, p_agency_id uuid, p_consent boolean)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_s record;
	v_share jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.share', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	IF p_consent IS NOT TRUE THEN
		RETURN api.refuse(v_p, 'investigation', 'failed', 'no_consent',
		    api.problem(422, 'validation',
		        'a case is shared with the police only with the '
		        'victim''s consent', 'consent'));
	END IF;
	IF p_agency_id IS NULL OR NOT EXISTS (SELECT 1
	    FROM api.share_targets() t WHERE t.agency_id = p_agency_id) THEN
		RETURN api.refuse(v_p, 'investigation', 'failed',
		    'unknown_agency',
		    api.problem(422, 'validation',
		        'not an agency with investigator keys', 'agency_id'));
	END IF;

	SELECT * INTO v_s FROM api.case_scope(v_p, p_case_id);
	IF NOT v_s.visible THEN
		RETURN api.refuse_case(v_p, 'investigation', p_case_id,
		    v_s.region);
	END IF;
	-- A merged case is shared as the case it was merged into.
	v_share := api.refuse_merged(v_p, 'investigation', p_case_id);
	IF v_share IS NOT NULL THEN
		RETURN v_share;
	END IF;

	v_share := care.share_case(p_case_id, p_agency_id);
	IF (v_share->>'new')::boolean THEN
		INSERT INTO care.case_history (case_id, action, api_key_id,
		    detail)
		VALUES (p_case_id, 'shared', v_p.key_id,
		    pg_catalog.jsonb_build_object('agency_id', p_agency_id));
	END IF;
	RETURN api.answer(v_p, 'investigation',
	    pg_catalog.jsonb_build_object('status', 200, 'body', v_share));
END
$$;
COMMENT ON FUNCTION api.case_share(bytea, text, inet, uuid, uuid, boolean)
    IS 'POST /v1/cases/{id}/share: a coordinator of the case''s region '
    'shares the case id with an investigating agency, with the victim''s '
    'consent (422 without); audited case.share.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

/*
 * GET /v1/cases/{id}/share-targets (coordinator of the case's region):
 * the agencies the case may be shared with (api.share_targets, the set
 * api.case_share accepts), as {"items": [{"agency_id", "name",
 * "kind"}]} ordered by name, id; agency names are not personal data.
 * 404 for an unknown case or one outside the caller's regions (audited
 * denied not_found/out_of_scope), as GET /v1/cases/{id}.  Audited
 * case.share_targets, object the case, purpose investigation; reads no
 * personal data of the case.
 */
CREATE OR REPLACE FUNCTION api.case_share_targets(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
BEGIN
	SELECT * INTO v_p FROM api.enter_case(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.share_targets', p_case_id,
	    'investigation');
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	RETURN api.answer(v_p, 'investigation',
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	        pg_catalog.jsonb_build_object('items',
	            (SELECT COALESCE(pg_catalog.jsonb_agg(
	                pg_catalog.to_jsonb(t) ORDER BY t.name, t.agency_id),
	                '[]'::jsonb)
	             FROM api.share_targets() t))));
END
$$;
COMMENT ON FUNCTION api.case_share_targets(bytea, text, inet, uuid) IS
    'GET /v1/cases/{id}/share-targets (coordinator of the case''s '
    'region): the agencies the case may be shared with (id, name, kind).';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
