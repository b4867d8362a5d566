-- 32_care.sql - api functions: the care work on a case (issue 18, h-care):
-- the first contact, transfers the receiving region answers, and
-- finding a case by its readable reference.  A repeatable file
-- (docs/sql-api.md, "Migrations"); the tables are 0021's.

/*
 * The contact modes (docs/case-lifecycle.md, "First contact"): codes,
 * never text.  Every mode but failed_attempt is a contact made.
 */
CREATE OR REPLACE FUNCTION care.contact_mode_allowed(p_mode text)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p_mode IN ('in_person', 'phone', 'interpreter', 'via_reporter',
	    'failed_attempt')
$$;
COMMENT ON FUNCTION care.contact_mode_allowed(text) IS
    'Whether p_mode is a contact mode code (failed_attempt included).';
GRANT EXECUTE ON FUNCTION care.contact_mode_allowed(text) TO
    nrm_coordinator;

/*
 * POST /v1/cases/{id}/contact {at, mode}: the holder records a contact
 * with the person (or a failed attempt).  Order: 401/403; 422 field
 * mode (not a code), field at (missing, or later than now + 60 s of
 * clock skew); 404 / 412 / 409 (api.case_lock: the state table allows
 * a contact on a case taken by the caller, and on one it holds while
 * its transfer is pending); 422 field at when before the signal was
 * received.  The first contact made (mode not failed_attempt) sets
 * first_contact_at and writes history first_contact {mode, at, region,
 * in_time}; any other writes contact {mode, at, region}.  The state
 * stays, the version grows by one; 200 with the case item.  p_at is an
 * RFC 3339 timestamp (nrmd parsed and normalized it).
 */
CREATE OR REPLACE FUNCTION api.case_contact(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_if_match integer,
    p_at text, p_mode text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_l record;
	v_at timestamptz;
	v_received timestamptz;
	v_first boolean;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.contact', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	IF p_mode IS NULL OR NOT care.contact_mode_allowed(p_mode) THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'invalid_mode',
		    api.problem(422, 'validation', 'mode must be one of '
		        'in_person, phone, interpreter, via_reporter, '
		        'failed_attempt', 'mode'));
	END IF;
	BEGIN
		v_at := p_at::timestamptz;
	EXCEPTION WHEN OTHERS THEN
		v_at := NULL;
	END;
	IF v_at IS NULL THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'invalid_at',
		    api.problem(422, 'validation',
		        'at must be an RFC 3339 timestamp', 'at'));
	END IF;
	IF v_at > pg_catalog.now() + interval '60 seconds' THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'invalid_at',
		    api.problem(422, 'validation',
		        'at must not be in the future', 'at'));
	END IF;

	SELECT * INTO v_l FROM api.case_lock(v_p, p_case_id, p_if_match,
	    'contact');
	IF v_l.answer IS NOT NULL THEN
		RETURN v_l.answer;
	END IF;
	SELECT s.received_at INTO v_received FROM intake.signal s
	WHERE s.id = (v_l.c).signal_id;
	-- nrmd sends whole seconds: compare with the second received.
	IF v_at < pg_catalog.date_trunc('second', v_received) THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'invalid_at',
		    api.problem(422, 'validation',
		        'at must not be before the signal was received', 'at'));
	END IF;

	v_first := p_mode <> 'failed_attempt'
	    AND (v_l.c).first_contact_at IS NULL;
	UPDATE care.case SET
	    first_contact_at = CASE WHEN v_first THEN v_at
	        ELSE first_contact_at END,
	    version = version + 1, updated_at = pg_catalog.now()
	WHERE id = p_case_id;
	RETURN api.case_done(v_p, p_case_id,
	    CASE WHEN v_first THEN 'first_contact' ELSE 'contact' END,
	    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
	        'mode', p_mode, 'at', api.rfc3339(v_at),
	        'region', (v_l.c).region_code,
	        'in_time', CASE WHEN v_first
	            THEN v_at <= (v_l.c).first_contact_by END)));
END
$$;
COMMENT ON FUNCTION api.case_contact(bytea, text, inet, uuid, integer, text,
    text) IS
    'POST /v1/cases/{id}/contact: the holder records a contact (mode '
    'code, at); the first one made sets first_contact_at and meets the '
    'first-contact deadline when at <= first_contact_by.';
-- A door of nrm_coordinator (99_doors.sql).

/*
 * POST /v1/cases/{id}/transfer/accept: a coordinator of the receiving
 * region takes over a pending transfer.  Order: 401/403; 404 (not of
 * the caller's regions and not pending to one of them) / 412 / 409
 * (api.case_lock: the state table allows accept only from
 * pending_received: of two coordinators answering at once, the second
 * finds the case no longer pending and gets 409).  The case becomes
 * open in the receiving region (a new arrival in its inbox), no holder,
 * take_by / first_contact_by counted from now with the deadlines the
 * transfer carried.  History transfer_accepted {reason, from_region,
 * to_region}; audited case.transfer_accept.
 */
CREATE OR REPLACE FUNCTION api.case_transfer_accept(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_if_match integer)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_l record;
	v_now timestamptz := pg_catalog.now();
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.transfer_accept', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	SELECT * INTO v_l FROM api.case_lock(v_p, p_case_id, p_if_match,
	    'accept');
	IF v_l.answer IS NOT NULL THEN
		RETURN v_l.answer;
	END IF;

	UPDATE care.case SET state = 'open', holder_key_id = NULL,
	    holder_person_id = NULL, region_code = transfer_to,
	    take_by = v_now
	        + pg_catalog.make_interval(secs => transfer_take_within_s),
	    first_contact_by = v_now + pg_catalog.make_interval(
	        secs => transfer_first_contact_within_s),
	    transfer_to = NULL, transfer_from_state = NULL,
	    transfer_reason = NULL, transfer_requested_at = NULL,
	    transfer_answer_by = NULL, transfer_take_within_s = NULL,
	    transfer_first_contact_within_s = NULL,
	    version = version + 1, updated_at = v_now
	WHERE id = p_case_id;
	RETURN api.case_done(v_p, p_case_id, 'transfer_accepted',
	    pg_catalog.jsonb_build_object('reason', (v_l.c).transfer_reason,
	        'from_region', (v_l.c).region_code,
	        'to_region', (v_l.c).transfer_to));
END
$$;
COMMENT ON FUNCTION api.case_transfer_accept(bytea, text, inet, uuid,
    integer) IS
    'POST /v1/cases/{id}/transfer/accept: a coordinator of the receiving '
    'region accepts a pending transfer: open there, fresh deadlines.';
-- A door of nrm_coordinator (99_doors.sql).

/*
 * POST /v1/cases/{id}/transfer/refuse {reason}: a coordinator of the
 * receiving region refuses a pending transfer (reason: no_capacity,
 * wrong_region, outside_expertise, conflict_of_interest, other; 422
 * naming reason otherwise, checked first).  The case returns to the
 * state it had (open in the sending region's inbox, a new arrival
 * there; or taken by its holder), the transfer ended.  History
 * transfer_refused {reason, from_region, to_region}; audited
 * case.transfer_refuse.
 */
CREATE OR REPLACE FUNCTION api.case_transfer_refuse(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_if_match integer,
    p_reason text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_l record;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.transfer_refuse', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	SELECT * INTO v_l FROM api.case_lock(v_p, p_case_id, p_if_match,
	    'refuse', p_reason);
	IF v_l.answer IS NOT NULL THEN
		RETURN v_l.answer;
	END IF;

	UPDATE care.case SET state = transfer_from_state,
	    transfer_to = NULL, transfer_from_state = NULL,
	    transfer_reason = NULL, transfer_requested_at = NULL,
	    transfer_answer_by = NULL, transfer_take_within_s = NULL,
	    transfer_first_contact_within_s = NULL,
	    version = version + 1, updated_at = pg_catalog.now()
	WHERE id = p_case_id;
	RETURN api.case_done(v_p, p_case_id, 'transfer_refused',
	    pg_catalog.jsonb_build_object('reason', p_reason,
	        'from_region', (v_l.c).region_code,
	        'to_region', (v_l.c).transfer_to,
	        'returned_to', (v_l.c).transfer_from_state));
END
$$;
COMMENT ON FUNCTION api.case_transfer_refuse(bytea, text, inet, uuid,
    integer, text) IS
    'POST /v1/cases/{id}/transfer/refuse: a coordinator of the receiving '
    'region refuses a pending transfer (reason code): the case returns '
    'to the sender as it was.';
-- A door of nrm_coordinator (99_doors.sql).

/*
 * GET /v1/cases?reference=R: the case with this readable reference, for
 * the roles that may see it (a coordinator of its region, an assessor).
 * R as typed (case, spaces and dashes do not matter); 400 naming
 * reference when it is not one (length, alphabet, check character: a
 * misheard character is caught here).  Not visible or no such case: the
 * same 404, audited denied (not_found or out_of_scope, the case as
 * object when there is one).  Found: 200 {"items": [the case item]},
 * audited case.find allowed with the case as object.
 */
CREATE OR REPLACE FUNCTION api.case_find_body(p_token_hash bytea,
    p_request_id text, p_client inet, p_reference text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_ref text;
	v_case uuid;
	v_s record;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator', 'assessor'], 'case.find', 'case',
	    NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	v_ref := care.reference_normal(p_reference);
	IF v_ref IS NULL THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'bad_request',
		    api.problem(400, 'bad_request', 'reference must be a case '
		        'reference (XXXX-XXXX-C, its check character right)',
		        'reference'));
	END IF;
	v_case := care.reference_case(v_ref);
	v_p.object_id := v_case::text;
	IF v_case IS NOT NULL THEN
		SELECT * INTO v_s FROM api.case_scope(v_p, v_case);
	END IF;
	IF v_case IS NULL OR NOT v_s.visible THEN
		RETURN api.refuse(v_p, 'care', 'denied', CASE WHEN v_case IS NULL
		    THEN 'not_found' ELSE 'out_of_scope' END,
		    api.problem(404, 'not_found',
		        'no case with this reference in your regions'));
	END IF;
	RETURN api.answer(v_p, 'care',
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	        pg_catalog.jsonb_build_object('items',
	            (SELECT pg_catalog.jsonb_agg(i.item) FROM care.case_item i
	             WHERE i.id = v_case))));
END
$$;
COMMENT ON FUNCTION api.case_find_body(bytea, text, inet, text) IS
    'GET /v1/cases?reference=: the case item of a readable reference, '
    'for a coordinator of its region or an assessor; 400 for a malformed '
    'reference, 404 otherwise (audited denied).';
-- The body of the door api.case_find of the coordinator and the assessor
-- (99_doors.sql writes the door and one implementation per role).
REVOKE ALL ON FUNCTION api.case_find_body(bytea, text, inet, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.case_find_body(bytea, text, inet, text) TO
    nrm_coordinator, nrm_assessor;
