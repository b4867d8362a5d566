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
		RETURN api.refuse_unseen(v_p, 'care', v_case IS NOT NULL,
		    'no case with this reference in your regions');
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

-- ---------------------------------------------------------------------
-- Merging a duplicate (0026): a repeat signal's case joined to the case
-- it repeats (docs/case-lifecycle.md, "Merging a duplicate").
-- ---------------------------------------------------------------------

/*
 * Whether the subjects of cases p_a and p_b have the same keyed
 * pseudonym (during a pseudonym key rotation either may carry it under
 * the previous key, 0020): the link GET /v1/cases/{id}/related shows.
 * Read with the caller's privileges and row-level security (PL/pgSQL,
 * as every helper that more than one role runs: a LANGUAGE sql one keeps
 * its first caller's plan, row-level security quals included).
 */
CREATE OR REPLACE FUNCTION care.same_person(p_a uuid, p_b uuid)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN COALESCE((SELECT sa.pseudonym = sb.pseudonym
	        OR sa.pseudonym = sb.pseudonym_prev
	        OR sa.pseudonym_prev = sb.pseudonym
	    FROM care.case a
	    JOIN care.subject sa ON sa.signal_id = a.signal_id
	    CROSS JOIN care.case b
	    JOIN care.subject sb ON sb.signal_id = b.signal_id
	    WHERE a.id = p_a AND b.id = p_b), false);
END
$$;
COMMENT ON FUNCTION care.same_person(uuid, uuid) IS
    'Whether two cases'' subjects share the keyed pseudonym (the related '
    'link); false when either has none.';
GRANT EXECUTE ON FUNCTION care.same_person(uuid, uuid) TO nrm_coordinator;

/*
 * The merge of a merged case as answers show it: {"into", "reference"
 * (the target's, NULL when the caller cannot see it), "at", "reason"};
 * NULL for a case that is not merged.
 */
CREATE OR REPLACE FUNCTION care.merge_json(p_case_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT pg_catalog.jsonb_build_object('into', c.merged_into,
	    'reference', (SELECT s.reference FROM care.case t
	        JOIN intake.signal s ON s.id = t.signal_id
	        WHERE t.id = c.merged_into),
	    'at', api.rfc3339(c.merged_at), 'reason', c.merge_reason)
	FROM care.case c WHERE c.id = p_case_id AND c.state = 'merged');
END
$$;
COMMENT ON FUNCTION care.merge_json(uuid) IS
    'A merged case''s merge {into, reference, at, reason}; NULL otherwise.';
GRANT EXECUTE ON FUNCTION care.merge_json(uuid) TO nrm_coordinator,
    nrm_assessor;

/*
 * The 409 of an action that belongs on the case a merged case was
 * merged into (an identification entry, a panel, a share with the
 * police: the person's record goes on in that case), audited failed
 * case_merged, the problem naming merged_into; NULL when p_case_id is not
 * merged.  The callers ask after the case's identification lock (6,
 * case), which api.case_merge takes too, so a merge and an entry are
 * taken in turn.
 */
CREATE OR REPLACE FUNCTION api.refuse_merged(p_p record, p_purpose text,
    p_case_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_m jsonb := care.merge_json(p_case_id);
BEGIN
	IF v_m IS NULL THEN
		RETURN NULL;
	END IF;
	RETURN api.refuse(p_p, p_purpose, 'failed', 'case_merged',
	    pg_catalog.jsonb_set(api.problem(409, 'conflict',
	        pg_catalog.format('this case was merged into %s: it goes on '
	            'there', v_m->>'into')),
	        '{problem,merged_into}', v_m->'into'));
END
$$;
COMMENT ON FUNCTION api.refuse_merged(record, text, uuid) IS
    'The audited 409 (merged_into) of an action on a merged case that '
    'belongs on its target; NULL when the case is not merged.';
GRANT EXECUTE ON FUNCTION api.refuse_merged(record, text, uuid) TO
    nrm_coordinator, nrm_assessor;

/*
 * The cases merged directly into p_case_id that the caller sees, oldest
 * merge first: {"case_id", "reference", "region", "received_at",
 * "merged_at", "reason"} (no personal data); NULL when none.
 */
CREATE OR REPLACE FUNCTION care.merged_from_json(p_case_id uuid)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
	        'case_id', c.id, 'reference', s.reference,
	        'region', c.region_code,
	        'received_at', api.rfc3339(s.received_at),
	        'merged_at', api.rfc3339(c.merged_at),
	        'reason', c.merge_reason) ORDER BY c.merged_at, c.id)
	FROM care.case c JOIN intake.signal s ON s.id = c.signal_id
	WHERE c.merged_into = p_case_id);
END
$$;
COMMENT ON FUNCTION care.merged_from_json(uuid) IS
    'The cases merged into p_case_id (those the caller sees): ids, '
    'references, regions and dates; NULL when none.';
GRANT EXECUTE ON FUNCTION care.merged_from_json(uuid) TO nrm_coordinator,
    nrm_assessor;

/*
 * POST /v1/cases/{id}/merge {"into", "reason"}: a coordinator who cares
 * for both cases (each in one of its regions: the holder and the
 * region's other coordinators; the national desk for NATIONAL ones)
 * merges this case, a duplicate signal's, into the case of the same
 * person it repeats.  Order of the checks: 401/403; 422 field reason
 * (not a merge reason); 422 field into (not a case id, or this case);
 * then both rows locked in id order (two merges of one pair in opposite
 * directions, or a merge and any action on either case, are taken in
 * turn and never deadlock); 404 / 412 / 409 for this case (api.case_lock:
 * the state table allows a merge of an open case and of one the caller
 * holds; of two merges at once the second finds it merged: 409); 422
 * field into (no such case in the caller's regions, the same for
 * unknown and out of scope; or not the same person: the pseudonyms
 * differ or either has none); 409 field into (the target is merged
 * itself: merge into its target).  Then the duplicate is merged
 * (holder none, merged_into, merged_at, merge_reason; left every inbox)
 * and its target's version grows by one; history 'merged' {into,
 * reason, region, into_region} on the duplicate and 'merged_in' {from,
 * reason, region, from_region} on the target; audited case.merge (the
 * duplicate) and case.merge_into (the target).  200 with the duplicate's
 * item and its "merged".
 */
CREATE OR REPLACE FUNCTION api.case_merge(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_if_match integer,
    p_into text, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_l record;
	v_a jsonb;
	v_into uuid;
	v_t care.case;
	v_now timestamptz := pg_catalog.now();
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.merge', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	v_a := api.case_reason(v_p, 'merge', p_reason);
	IF v_a IS NOT NULL THEN
		RETURN v_a;
	END IF;
	IF p_into IS NULL OR p_into !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
	    '[0-9a-f]{4}-[0-9a-f]{12}$' THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'invalid_target',
		    api.problem(422, 'validation', 'into must be the id of the '
		        'case this one repeats', 'into'));
	END IF;
	v_into := p_into::uuid;
	IF v_into = p_case_id THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'invalid_target',
		    api.problem(422, 'validation',
		        'a case is not merged into itself', 'into'));
	END IF;

	-- The duplicate's identification lock first (an identification
	-- entry or a panel takes it before the case row: the same order),
	-- so an entry on it never lands after its merge (api.refuse_merged).
	PERFORM pg_catalog.pg_advisory_xact_lock(6,
	    pg_catalog.hashtext(p_case_id::text));
	-- Both rows, in id order, before anything else is locked.
	PERFORM 1 FROM care.case c WHERE c.id IN (p_case_id, v_into)
	ORDER BY c.id FOR UPDATE;
	SELECT * INTO v_l FROM api.case_lock(v_p, p_case_id, p_if_match,
	    'merge');
	IF v_l.answer IS NOT NULL THEN
		RETURN v_l.answer;
	END IF;

	SELECT * INTO v_t FROM care.case c WHERE c.id = v_into;
	IF NOT FOUND OR (v_t.region_code = ANY (v_p.regions)) IS NOT TRUE THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'unknown_target',
		    api.problem(422, 'validation',
		        'into: no case with this id in your regions', 'into'));
	END IF;
	IF v_t.state = 'merged' THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'target_merged',
		    pg_catalog.jsonb_set(api.problem(409, 'conflict',
		        pg_catalog.format('that case was merged into %s itself: '
		            'merge into that one', v_t.merged_into), 'into'),
		        '{problem,merged_into}',
		        pg_catalog.to_jsonb(v_t.merged_into)));
	END IF;
	IF NOT care.same_person(p_case_id, v_into) THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'not_related',
		    api.problem(422, 'validation', 'into must be a case of the '
		        'same person (GET /v1/cases/{id}/related lists them)',
		        'into'));
	END IF;

	UPDATE care.case SET state = 'merged', holder_key_id = NULL,
	    holder_person_id = NULL, merged_into = v_into, merged_at = v_now,
	    merge_reason = p_reason, version = version + 1, updated_at = v_now
	WHERE id = p_case_id;
	UPDATE care.case SET version = version + 1, updated_at = v_now
	WHERE id = v_into;
	INSERT INTO care.case_history (case_id, action, api_key_id, detail)
	VALUES (p_case_id, 'merged', v_p.key_id,
	    pg_catalog.jsonb_build_object('into', v_into, 'reason', p_reason,
	        'region', (v_l.c).region_code, 'into_region', v_t.region_code,
	        'from_state', (v_l.c).state)),
	    (v_into, 'merged_in', v_p.key_id,
	    pg_catalog.jsonb_build_object('from', p_case_id,
	        'reason', p_reason, 'region', v_t.region_code,
	        'from_region', (v_l.c).region_code));
	PERFORM api.audit_person(v_p.person_id, v_p.key_id, v_p.agency_id,
	    v_p.role, 'case.merge_into', 'case', v_into::text, 'care',
	    'allowed', NULL, v_p.request_id, v_p.client);
	RETURN api.answer(v_p, 'care', pg_catalog.jsonb_build_object(
	    'status', 200, 'body', (SELECT i.item FROM care.case_item i
	        WHERE i.id = p_case_id)
	        || pg_catalog.jsonb_build_object('merged',
	            care.merge_json(p_case_id))));
END
$$;
COMMENT ON FUNCTION api.case_merge(bytea, text, inet, uuid, integer, text,
    text) IS
    'POST /v1/cases/{id}/merge: a duplicate signal''s case (open, or held '
    'by the caller) merged into a case of the same person in the '
    'caller''s regions: terminal state merged, both histories and both '
    'audited.';
-- A door of nrm_coordinator (99_doors.sql).
