-- 37_followup.sql - api functions of follow-ups from the reporter
-- (issue 18, migration 0027): POST /v1/signals/{id}/followups by the
-- reporting agency, GET /v1/cases/{id}/followups by the case's
-- coordinators.  A repeatable file (docs/sql-api.md, "Migrations").
-- docs/case-lifecycle.md ("Follow-ups from the reporter") states the
-- rules these functions keep.

/*
 * One follow-up as the case's coordinators read it: its text sealed in
 * "sealed" for nrmd to open (path "text").
 */
CREATE OR REPLACE FUNCTION care.followup_json(f care.signal_followup)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('id', f.id,
	    'case_id', f.case_id, 'at', api.rfc3339(f.at),
	    'text', NULL::text,
	    'sealed', pg_catalog.jsonb_build_object(
	        'data_key', care.data_key_json(f.data_key_id),
	        'fields', pg_catalog.jsonb_build_array(care.sealed_field(
	            'text', 'care.signal_followup/text', f.id, f.text_ct))))
$$;
COMMENT ON FUNCTION care.followup_json(care.signal_followup) IS
    'A follow-up as GET /v1/cases/{id}/followups answers it, its text '
    'sealed for nrmd (PERSONAL DATA).';
GRANT EXECUTE ON FUNCTION care.followup_json(care.signal_followup) TO
    nrm_coordinator;

/*
 * POST /v1/signals/{id}/followups (reporter).  p_followup comes from
 * nrmd: {"id", "data_key", "text_ct"} (the text sealed), "text": ""
 * when the client's text had the wrong length (nrmd never forwards
 * it).  Order: 401/403; idempotency (api.idempotency_check); the body
 * (400 unknown field, 422 field text); the signal (404 alike for an
 * unknown one and another agency's, as the receipt); an anonymous
 * notification (409: it has no case, nobody to tell; a later signal
 * with consent cites its reference instead); an erased signal (409:
 * no personal data is stored again); then 201: the follow-up is
 * stored, counted on the case (which re-enters its region's inbox and
 * wakes its long-polls), a 'followup' history entry written.  The
 * answer tells the reporter what the receipt tells and whether the case
 * was taken up, never anything of its care.  Audited
 * signal.followup.create, purpose intake.
 */
CREATE OR REPLACE FUNCTION api.signal_followup(p_token_hash bytea,
    p_request_id text, p_client inet, p_signal_id uuid, p_idem_key text,
    p_request_hash bytea, p_followup jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_s record;
	v_key jsonb := p_followup->'data_key';
	v_id uuid;
	v_at timestamptz := pg_catalog.clock_timestamp();
	v_problem jsonb;
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['reporter'], 'signal.followup.create', 'signal',
	    p_signal_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	v_resp := api.idempotency_check(v_p, p_idem_key, p_request_hash,
	    'signal.followup.replay');
	IF v_resp IS NOT NULL THEN
		RETURN v_resp;
	END IF;

	v_problem := api.sealed_text_problem(p_followup, ARRAY['text']);
	IF v_problem IS NOT NULL THEN
		RETURN api.refuse_body(v_p, 'intake', 'invalid_followup',
		    v_problem);
	END IF;

	SELECT * INTO v_s FROM intake.own_signal(p_signal_id, v_p.agency_id);
	IF NOT FOUND THEN
		RETURN api.refuse_signal(v_p, p_signal_id);
	END IF;
	IF v_s.case_id IS NULL THEN
		RETURN api.refuse(v_p, 'intake', 'failed', 'notification_only',
		    api.problem(409, 'conflict', 'an anonymous notification '
		        'has no case to follow up; a later signal with consent '
		        'may cite its reference (cites_reference)'));
	END IF;

	IF care.signal_erased(p_signal_id) THEN
		RETURN api.refuse(v_p, 'intake', 'failed', 'erased',
		    api.problem(409, 'conflict', 'the personal data of this '
		        'signal were erased: a follow-up is not stored'));
	END IF;

	-- The follow-up's data key belongs to the signal (erasure).
	v_id := (p_followup->>'id')::uuid;
	INSERT INTO care.data_key (id, signal_id, kek_id, wrapped,
	    created_at)
	VALUES ((v_key->>'id')::uuid, p_signal_id, v_key->>'kek_id',
	    pg_catalog.decode(v_key->>'wrapped', 'base64'), v_at);
	INSERT INTO care.signal_followup (id, signal_id, case_id, at,
	    api_key_id, data_key_id, text_ct)
	VALUES (v_id, p_signal_id, v_s.case_id, v_at, v_p.key_id,
	    (v_key->>'id')::uuid,
	    pg_catalog.decode(p_followup->>'text_ct', 'base64'));

	v_resp := pg_catalog.jsonb_build_object('status', 201, 'body',
	    pg_catalog.jsonb_build_object('followup_id', v_id,
	        'signal_id', p_signal_id, 'reference', v_s.reference,
	        'at', api.rfc3339(v_at),
	        'taken_up', care.followup_arrived(v_s.case_id, v_id,
	            v_p.key_id, v_at)),
	    'location', '/v1/signals/' || p_signal_id || '/followups/' || v_id);
	IF p_idem_key IS NOT NULL THEN
		INSERT INTO intake.idempotency (api_key_id, idem_key,
		    request_hash, status, response, created_at)
		VALUES (v_p.key_id, p_idem_key, p_request_hash, 201, v_resp,
		    v_at);
	END IF;
	RETURN api.answer(v_p, 'intake', v_resp);
END
$$;
COMMENT ON FUNCTION api.signal_followup(bytea, text, inet, uuid, text, bytea,
    jsonb) IS
    'POST /v1/signals/{id}/followups: the reporting agency adds '
    'information (sealed by nrmd) to its own signal''s case; the case '
    're-enters its inbox; the answer says only whether it was taken up.';
-- A door of nrm_reporter (99_doors.sql).

/*
 * GET /v1/cases/{id}/followups (coordinator of the case's region, as
 * the notes): every follow-up, oldest first, audited
 * case.followup.read; api.case_part_list (35_care_work.sql) does it.
 */
CREATE OR REPLACE FUNCTION api.case_followup_list(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid,
    p_purpose text DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.case_part_list(p_token_hash, p_request_id, p_client,
	    p_case_id, p_purpose, p_reason, 'followup')
$$;
COMMENT ON FUNCTION api.case_followup_list(bytea, text, inet, uuid, text,
    text) IS
    'GET /v1/cases/{id}/followups: the reporter''s follow-ups of the case '
    '(PERSONAL DATA, sealed for nrmd), oldest first; an audited read '
    'with a purpose.';
-- A door of nrm_coordinator (99_doors.sql).
