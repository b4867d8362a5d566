-- 35_care_work.sql - api functions of the care work of a case (issue 18,
-- migration 0022): case notes, the support plan and the referrals a
-- provider agency answers.  A repeatable file (docs/sql-api.md,
-- "Migrations").  docs/case-lifecycle.md ("Notes", "Support plan and
-- referrals") states the rules these functions keep.

/*
 * One note as an answer holds it: its text sealed in "sealed" for nrmd
 * to open (path "text"), corrected_by the note that corrects it.
 */
CREATE OR REPLACE FUNCTION care.note_json(n care.case_note,
    p_corrected_by uuid) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('id', n.id,
	    'case_id', n.case_id, 'at', api.rfc3339(n.at),
	    'by', n.author_key_id, 'author_role', n.author_role,
	    'corrects', n.corrects, 'corrected_by', p_corrected_by,
	    'text', NULL::text,
	    'sealed', pg_catalog.jsonb_build_object(
	        'data_key', care.data_key_json(n.data_key_id),
	        'fields', pg_catalog.jsonb_build_array(care.sealed_field(
	            'text', 'care.case_note/text', n.id, n.text_ct))))
$$;
COMMENT ON FUNCTION care.note_json(care.case_note, uuid) IS
    'A note as GET/POST /v1/cases/{id}/notes answer it, its text sealed '
    'for nrmd (PERSONAL DATA).';
GRANT EXECUTE ON FUNCTION care.note_json(care.case_note, uuid) TO
    nrm_coordinator;

/*
 * The shape check of a body that carries a sealed text (a note, a
 * follow-up): nrmd sends {"id", "data_key", "text_ct"} (the text
 * sealed), or "text": "" when the client's text had the wrong length
 * (nrmd never forwards it), beside the client's other fields p_fields
 * (their own checks are the caller's).  NULL when fine, else {"status",
 * "code", "field", "detail"} of the first problem: not an object or an
 * unknown key (400, field ""), then text (422: required, 1 to 8000
 * bytes, a string).  A detail never quotes a value.
 */
CREATE OR REPLACE FUNCTION api.sealed_text_problem(p_body jsonb,
    p_fields text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_status integer := 422;
	v_field text;
	v_detail text;
BEGIN
	IF pg_catalog.jsonb_typeof(p_body) IS DISTINCT FROM 'object' THEN
		v_status := 400;
		v_field := '';
		v_detail := 'the body must be a JSON object';
	ELSIF EXISTS (SELECT 1 FROM pg_catalog.jsonb_object_keys(p_body) k
	    WHERE NOT k = ANY (ARRAY['id', 'data_key', 'text_ct'] || p_fields))
	THEN
		v_status := 400;
		v_field := '';
		v_detail := 'unknown field; known: '
		    || pg_catalog.array_to_string(p_fields, ', ');
	ELSIF NOT p_body ? 'text_ct' AND NOT p_body ? 'text' THEN
		v_field := 'text';
		v_detail := 'text is required';
	ELSIF p_body ? 'text' AND pg_catalog.jsonb_typeof(p_body->'text')
	    = 'string' THEN
		v_field := 'text';
		v_detail := 'text must be 1 to 8000 bytes';
	ELSIF NOT p_body ? 'text_ct' THEN
		v_field := 'text';
		v_detail := 'text must be a string';
	ELSE
		RETURN NULL;
	END IF;
	RETURN pg_catalog.jsonb_build_object('status', v_status,
	    'code', CASE v_status WHEN 400 THEN 'bad_request'
	        ELSE 'validation' END,
	    'field', v_field, 'detail', v_detail);
END
$$;
COMMENT ON FUNCTION api.sealed_text_problem(jsonb, text[]) IS
    'Shape check of a body carrying a sealed text (note, follow-up) '
    'beside the fields p_fields: NULL, or {"status", "code", "field", '
    '"detail"} of the first problem.';
GRANT EXECUTE ON FUNCTION api.sealed_text_problem(jsonb, text[]) TO
    nrm_reporter, nrm_coordinator;

/*
 * POST /v1/cases/{id}/notes (coordinator).  p_note comes from nrmd:
 * {"id", "data_key", "text_ct"} (the text sealed), "text": "" when the
 * client's text had the wrong length (nrmd never forwards it), and the
 * client's "corrects".  Order: 401/403; the body (400 unknown field,
 * 422 field text or corrects); the case (404 alike for unknown and out
 * of scope); the author (409: the holder or a national-desk coordinator
 * writes notes); corrects not a note of this case (422 field corrects)
 * or already corrected (409 field corrects); then 201 with the note and
 * a 'note' history entry (detail {"note", "corrects"}).  Notes of one
 * case are serialised by locking the case row.  Audited
 * case.note.create, purpose care.
 */
CREATE OR REPLACE FUNCTION api.case_note_add(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_note jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_c care.case;
	v_n care.case_note;
	v_author text;
	v_key jsonb := p_note->'data_key';
	v_corrects uuid;
	v_problem jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.note.create', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	v_problem := api.sealed_text_problem(p_note, ARRAY['text', 'corrects']);
	IF v_problem IS NULL AND p_note->'corrects' IS NOT NULL
	    AND pg_catalog.jsonb_typeof(p_note->'corrects') <> 'null'
	    AND (pg_catalog.jsonb_typeof(p_note->'corrects') <> 'string'
	        OR (p_note->>'corrects') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-'
	            '[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$') THEN
		v_problem := pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'corrects',
		    'detail', 'corrects must be the id of a note of this case');
	END IF;
	IF v_problem IS NOT NULL THEN
		RETURN api.refuse_body(v_p, 'care', 'invalid_note', v_problem);
	END IF;
	v_corrects := (p_note->>'corrects')::uuid;

	SELECT * INTO v_c FROM care.case c WHERE c.id = p_case_id FOR UPDATE;
	IF NOT FOUND OR (v_c.region_code = ANY (v_p.regions)) IS NOT TRUE THEN
		RETURN api.refuse_case(v_p, 'care', p_case_id, v_c.region_code);
	END IF;
	-- The holder (taken or closed by the caller's key), or the national
	-- desk.
	v_author := CASE WHEN v_c.holder_key_id = v_p.key_id THEN 'holder'
	    WHEN 'NATIONAL' = ANY (v_p.regions) THEN 'national_desk' END;
	IF v_author IS NULL THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'not_holder',
		    api.problem(409, 'conflict', 'notes are written by the '
		        'holder of the case or a national-desk coordinator'));
	END IF;
	IF v_corrects IS NOT NULL THEN
		IF NOT EXISTS (SELECT 1 FROM care.case_note n
		    WHERE n.id = v_corrects AND n.case_id = p_case_id) THEN
			RETURN api.refuse(v_p, 'care', 'failed', 'unknown_note',
			    api.problem(422, 'validation', 'corrects must be '
			        'the id of a note of this case', 'corrects'));
		END IF;
		IF EXISTS (SELECT 1 FROM care.case_note n
		    WHERE n.corrects = v_corrects) THEN
			RETURN api.refuse(v_p, 'care', 'failed',
			    'already_corrected', api.problem(409, 'conflict',
			        'that note is corrected already: correct its '
			        'correction', 'corrects'));
		END IF;
	END IF;

	-- The note's data key belongs to the case's signal (erasure).
	PERFORM care.case_data_key(p_case_id, v_key);
	INSERT INTO care.case_note (id, case_id, author_key_id, author_role,
	    corrects, data_key_id, text_ct)
	VALUES ((p_note->>'id')::uuid, p_case_id, v_p.key_id, v_author,
	    v_corrects, (v_key->>'id')::uuid,
	    pg_catalog.decode(p_note->>'text_ct', 'base64'))
	RETURNING * INTO v_n;
	INSERT INTO care.case_history (case_id, action, api_key_id, detail)
	VALUES (p_case_id, 'note', v_p.key_id,
	    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
	        'note', v_n.id, 'corrects', v_corrects,
	        'author_role', v_author)));
	RETURN api.answer(v_p, 'care', pg_catalog.jsonb_build_object(
	    'status', 201, 'body', care.note_json(v_n, NULL),
	    'location', '/v1/cases/' || p_case_id || '/notes'));
END
$$;
COMMENT ON FUNCTION api.case_note_add(bytea, text, inet, uuid, jsonb) IS
    'POST /v1/cases/{id}/notes: append a note (sealed by nrmd) by the '
    'holder or a national-desk coordinator; a correction names the note '
    'it corrects.';
-- A door of nrm_coordinator (99_doors.sql).

/*
 * A sealed part of a case, listed for a coordinator of the case's region
 * (a region a transfer is pending to reads none): p_part 'note' (the
 * notes, each with corrected_by: the note correcting it, or null) or
 * 'followup' (the reporter's follow-ups, 0027), oldest first.  A read of
 * personal data: purpose (api.read_purpose, default care), audited
 * case.<part>.read.  The body of api.case_note_list and
 * api.case_followup_list (sql/api/37_followup.sql).
 */
CREATE OR REPLACE FUNCTION api.case_part_list(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_purpose text,
    p_reason text, p_part text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_action constant text := 'case.' || p_part || '.read';
	v_p record;
	v_rp record;
	v_s record;
	v_items jsonb;
BEGIN
	IF p_part IS NULL OR p_part NOT IN ('note', 'followup') THEN
		RAISE EXCEPTION 'p_part must be note or followup'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], v_action, 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	SELECT * INTO v_rp FROM api.read_purpose(v_p.role, p_purpose,
	    p_reason, 'care');
	IF v_rp.problem IS NOT NULL THEN
		RETURN api.refuse(v_p, NULL, 'failed', 'bad_request',
		    v_rp.problem);
	END IF;
	SELECT * INTO v_s FROM api.case_scope(v_p, p_case_id);
	IF NOT v_s.visible THEN
		RETURN api.refuse_case(v_p, v_rp.purpose, p_case_id,
		    v_s.region);
	END IF;

	IF p_part = 'note' THEN
		SELECT COALESCE(pg_catalog.jsonb_agg(care.note_json(n, x.id)
		        ORDER BY n.at, n.id), '[]'::jsonb)
		INTO v_items
		FROM care.case_note n
		LEFT JOIN care.case_note x ON x.corrects = n.id
		WHERE n.case_id = p_case_id;
	ELSE
		SELECT COALESCE(pg_catalog.jsonb_agg(care.followup_json(f)
		        ORDER BY f.at, f.id), '[]'::jsonb)
		INTO v_items
		FROM care.signal_followup f
		WHERE f.case_id = p_case_id;
	END IF;

	PERFORM api.audit_read(v_p.key_id, v_p.agency_id, v_p.role,
	    v_action, 'case', p_case_id::text, v_rp.purpose, v_rp.reason,
	    p_request_id, p_client);
	RETURN api.leave(v_p, pg_catalog.jsonb_build_object('status', 200,
	    'body', pg_catalog.jsonb_build_object('case_id', p_case_id,
	        'items', v_items)));
END
$$;
COMMENT ON FUNCTION api.case_part_list(bytea, text, inet, uuid, text, text,
    text) IS
    'The notes or the reporter''s follow-ups of a case (PERSONAL DATA, '
    'sealed for nrmd), oldest first, for a coordinator of its region; an '
    'audited read with a purpose.  Body of case_note_list and '
    'case_followup_list.';
REVOKE ALL ON FUNCTION api.case_part_list(bytea, text, inet, uuid, text,
    text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.case_part_list(bytea, text, inet, uuid, text,
    text, text) TO nrm_coordinator;

/* GET /v1/cases/{id}/notes: api.case_part_list of the notes. */
CREATE OR REPLACE FUNCTION api.case_note_list(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid,
    p_purpose text DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.case_part_list(p_token_hash, p_request_id, p_client,
	    p_case_id, p_purpose, p_reason, 'note')
$$;
COMMENT ON FUNCTION api.case_note_list(bytea, text, inet, uuid, text, text)
    IS 'GET /v1/cases/{id}/notes: the case''s notes (PERSONAL DATA, '
    'sealed for nrmd), oldest first; an audited read with a purpose.';
-- A door of nrm_coordinator (99_doors.sql).

-- ---------------------------------------------------------------------
-- Support plan and referrals
-- ---------------------------------------------------------------------

-- The reason codes of a refusal and of an end (docs/case-lifecycle.md).
CREATE OR REPLACE FUNCTION care.support_reasons(p_status text)
RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE p_status
	    WHEN 'refused' THEN ARRAY['no_capacity', 'not_eligible',
	        'outside_area', 'service_unavailable', 'person_declined',
	        'other']
	    WHEN 'ended' THEN ARRAY['completed', 'withdrawn',
	        'person_declined', 'other']
	    ELSE ARRAY[]::text[] END
$$;
COMMENT ON FUNCTION care.support_reasons(text) IS
    'The reason codes a support item takes with status p_status '
    '(refused: required; ended: optional; others: none).';
GRANT EXECUTE ON FUNCTION care.support_reasons(text) TO nrm_coordinator;

-- One support item as the referring case's coordinators see it.
CREATE OR REPLACE FUNCTION care.support_json(i care.support_item)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('id', i.id,
	    'case_id', i.case_id, 'service', i.service,
	    'provider_agency', i.provider_agency_id,
	    'provider_name', (SELECT a.name FROM auth.agency a
	        WHERE a.id = i.provider_agency_id),
	    'referral', i.referral, 'status', i.status, 'reason', i.reason,
	    'requested_on', i.requested_on,
	    'answered_at', api.rfc3339(i.answered_at),
	    'started_on', i.started_on, 'ended_on', i.ended_on,
	    'created_by', i.created_by,
	    'updated_at', api.rfc3339(i.updated_at), 'version', i.version)
$$;
COMMENT ON FUNCTION care.support_json(care.support_item) IS
    'A support item as GET/POST /v1/cases/{id}/support answer it.';
GRANT EXECUTE ON FUNCTION care.support_json(care.support_item) TO
    nrm_coordinator;

/*
 * A referral as its provider agency sees it: the service, its status
 * and dates, and a contact reference (the referral's id, the referring
 * agency and region).  Never the case id, the subject or notes.
 */
CREATE OR REPLACE FUNCTION care.referral_json(i care.support_item)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('id', i.id,
	    'service', i.service, 'status', i.status, 'reason', i.reason,
	    'requested_on', i.requested_on,
	    'answered_at', api.rfc3339(i.answered_at),
	    'started_on', i.started_on, 'ended_on', i.ended_on,
	    'referred_by', pg_catalog.jsonb_build_object(
	        'agency', (SELECT a.name FROM auth.agency a
	            WHERE a.id = i.referring_agency_id),
	        'region', i.region_code),
	    'version', i.version)
$$;
COMMENT ON FUNCTION care.referral_json(care.support_item) IS
    'A referral as its provider sees it (GET /v1/referrals): service, '
    'status, dates, who referred from which region; no case data.';
GRANT EXECUTE ON FUNCTION care.referral_json(care.support_item) TO
    nrm_coordinator;

-- Whether agency p_id answers referrals itself: an active coordinator
-- key or person.
CREATE OR REPLACE FUNCTION care.answers_referrals(p_id uuid)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM auth.api_key k
	    WHERE k.agency_id = p_id AND k.role = 'coordinator'
	      AND k.revoked_at IS NULL)
	    OR EXISTS (SELECT 1 FROM auth.person p
	    WHERE p.agency_id = p_id AND p.role = 'coordinator'
	      AND p.status = 'active')
$$;
GRANT EXECUTE ON FUNCTION care.answers_referrals(uuid) TO nrm_coordinator;

/*
 * The 422 of a support body (field named), or NULL.  p_update: the
 * body changes an item ({"item", "status", "on", "reason"}), else adds
 * one ({"service", "provider_agency", "requested_on"}).
 */
CREATE OR REPLACE FUNCTION care.support_problem(p_body jsonb,
    p_update boolean) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_k text;
	v_known text[] := CASE WHEN p_update
	    THEN ARRAY['item', 'status', 'on', 'reason']
	    ELSE ARRAY['service', 'provider_agency', 'requested_on'] END;
	v_uuid text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
	    '[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
BEGIN
	IF pg_catalog.jsonb_typeof(p_body) IS DISTINCT FROM 'object' THEN
		RETURN api.problem(400, 'bad_request',
		    'the body must be a JSON object', '');
	END IF;
	FOR v_k IN SELECT pg_catalog.jsonb_object_keys(p_body) LOOP
		IF NOT v_k = ANY (v_known) THEN
			RETURN api.problem(400, 'bad_request',
			    'unknown field; known: ' || pg_catalog.array_to_string(
			        v_known, ', '), v_k);
		END IF;
	END LOOP;
	IF p_update THEN
		IF pg_catalog.jsonb_typeof(p_body->'item') IS DISTINCT FROM
		    'string' OR (p_body->>'item') !~ v_uuid THEN
			RETURN api.problem(422, 'validation',
			    'item must be the id of an item of this case''s '
			    'support plan', 'item');
		END IF;
		IF pg_catalog.jsonb_typeof(p_body->'status') IS DISTINCT FROM
		    'string' OR NOT (p_body->>'status') IN ('accepted',
		    'refused', 'started', 'ended') THEN
			RETURN api.problem(422, 'validation', 'status must be '
			    'accepted, refused, started or ended', 'status');
		END IF;
		IF p_body ? 'on' AND api.json_date(p_body->'on') IS NULL THEN
			RETURN api.problem(422, 'validation',
			    'on must be a date YYYY-MM-DD', 'on');
		END IF;
		IF (p_body->>'status' = 'refused' AND NOT COALESCE(
		        p_body->>'reason', '') = ANY (
		        care.support_reasons('refused')))
		    OR (p_body->>'status' <> 'refused' AND p_body ? 'reason'
		        AND NOT COALESCE(p_body->>'reason', '') = ANY (
		        care.support_reasons(p_body->>'status'))) THEN
			RETURN api.problem(422, 'validation', CASE
			    WHEN pg_catalog.cardinality(care.support_reasons(
			        p_body->>'status')) = 0
			    THEN 'status ' || (p_body->>'status')
			        || ' takes no reason'
			    ELSE 'reason must be one of: '
			        || pg_catalog.array_to_string(
			        care.support_reasons(p_body->>'status'), ', ')
			    END, 'reason');
		END IF;
		RETURN NULL;
	END IF;
	IF pg_catalog.jsonb_typeof(p_body->'service') IS DISTINCT FROM
	    'string' OR NOT (p_body->>'service') IN ('shelter_placement',
	    'categorical_shelter', 'medical_care', 'mental_health',
	    'legal_aid', 'interpreter', 'residence_procedure', 'benefits',
	    'education_minor', 'guardian_minor', 'return_assistance',
	    'other') THEN
		RETURN api.problem(422, 'validation', 'service must be one '
		    'of: shelter_placement, categorical_shelter, medical_care, '
		    'mental_health, legal_aid, interpreter, '
		    'residence_procedure, benefits, education_minor, '
		    'guardian_minor, return_assistance, other', 'service');
	END IF;
	IF p_body ? 'provider_agency'
	    AND pg_catalog.jsonb_typeof(p_body->'provider_agency') <> 'null'
	    AND (pg_catalog.jsonb_typeof(p_body->'provider_agency')
	        <> 'string' OR (p_body->>'provider_agency') !~ v_uuid) THEN
		RETURN api.problem(422, 'validation',
		    'provider_agency must be the id of an agency',
		    'provider_agency');
	END IF;
	IF p_body ? 'requested_on'
	    AND api.json_date(p_body->'requested_on') IS NULL THEN
		RETURN api.problem(422, 'validation',
		    'requested_on must be a date YYYY-MM-DD', 'requested_on');
	END IF;
	RETURN NULL;
END
$$;
GRANT EXECUTE ON FUNCTION care.support_problem(jsonb, boolean) TO
    nrm_coordinator;

-- Today in the Netherlands (the dates of the plan are calendar dates).
CREATE OR REPLACE FUNCTION care.today() RETURNS date
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT (pg_catalog.now() AT TIME ZONE 'Europe/Amsterdam')::date
$$;
GRANT EXECUTE ON FUNCTION care.today() TO nrm_coordinator;

/*
 * Apply a status change to a locked support item (the transition is
 * legal): dates, reason, version, and the case's 'support' history
 * entry by the caller.  Returns the item as changed.
 */
CREATE OR REPLACE FUNCTION care.support_change(p_p record,
    p_item care.support_item, p_status text, p_on date, p_reason text)
RETURNS care.support_item
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_i care.support_item;
BEGIN
	UPDATE care.support_item SET status = p_status, reason = p_reason,
	    answered_at = CASE WHEN p_status IN ('accepted', 'refused')
	        THEN pg_catalog.now() ELSE answered_at END,
	    started_on = CASE WHEN p_status = 'started' THEN p_on
	        ELSE started_on END,
	    ended_on = CASE WHEN p_status = 'ended' THEN p_on
	        ELSE ended_on END,
	    updated_at = pg_catalog.clock_timestamp(),
	    version = version + 1
	WHERE id = p_item.id
	RETURNING * INTO v_i;
	INSERT INTO care.case_history (case_id, action, api_key_id, detail)
	VALUES (v_i.case_id, 'support', p_p.key_id,
	    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
	        'item', v_i.id, 'service', v_i.service, 'status', p_status,
	        'from', p_item.status, 'reason', p_reason,
	        'provider_agency', v_i.provider_agency_id,
	        'referral', v_i.referral)));
	RETURN v_i;
END
$$;
GRANT EXECUTE ON FUNCTION care.support_change(record, care.support_item,
    text, date, text) TO nrm_coordinator;

/*
 * POST /v1/cases/{id}/support (coordinator).  A body without "item"
 * adds a service to the plan ({"service", "provider_agency",
 * "requested_on"}: 201, status requested, audited case.support.create);
 * one with "item" changes that item's status ({"item", "status", "on",
 * "reason"}: 200, audited case.support.update).  Order: 401/403; the
 * body (400/422 naming the field); the case (404); the caller holds
 * the case (409); unknown provider agency (422 field provider_agency) or
 * item (422 field item); the transition (409 field status: not legal,
 * or the provider's own answer to a referral); dates (422 field on).
 * Each change is a 'support' history entry.
 */
CREATE OR REPLACE FUNCTION api.support_post(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_update boolean := pg_catalog.jsonb_typeof(p_body) = 'object'
	    AND p_body ? 'item';
	v_p record;
	v_c care.case;
	v_i care.support_item;
	v_problem jsonb;
	v_agency uuid;
	v_status text;
	v_on date;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], CASE WHEN v_update
	    THEN 'case.support.update' ELSE 'case.support.create' END,
	    'case', p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	v_problem := care.support_problem(p_body, v_update);
	IF v_problem IS NOT NULL THEN
		RETURN api.refuse(v_p, 'care', 'failed', CASE WHEN
		    (v_problem->>'status')::integer = 400 THEN 'bad_request'
		    ELSE 'invalid_support' END, v_problem);
	END IF;

	-- A change of an existing item takes the item's lock before the
	-- case's, as the provider's answer does (api.referral_answer): in
	-- the opposite order the two deadlock, since the answer's history
	-- row checks its foreign key on the case this path holds.
	IF v_update THEN
		PERFORM pg_catalog.pg_advisory_xact_lock(7,
		    pg_catalog.hashtext(lower(p_body->>'item')));
	END IF;
	SELECT * INTO v_c FROM care.case c WHERE c.id = p_case_id FOR UPDATE;
	IF NOT FOUND OR (v_c.region_code = ANY (v_p.regions)) IS NOT TRUE THEN
		RETURN api.refuse_case(v_p, 'care', p_case_id, v_c.region_code);
	END IF;
	IF v_c.state <> 'taken' OR v_c.holder_key_id <> v_p.key_id THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'not_holder',
		    api.problem(409, 'conflict', pg_catalog.format('the '
		        'support plan is kept by the holder of a taken case '
		        '(state %s)', v_c.state)));
	END IF;

	IF NOT v_update THEN
		v_agency := (p_body->>'provider_agency')::uuid;
		IF v_agency IS NOT NULL AND NOT EXISTS (SELECT 1
		    FROM auth.agency a WHERE a.id = v_agency) THEN
			RETURN api.refuse(v_p, 'care', 'failed',
			    'unknown_agency', api.problem(422, 'validation',
			        'provider_agency must be the id of an agency',
			        'provider_agency'));
		END IF;
		INSERT INTO care.support_item (case_id, service,
		    provider_agency_id, referral, requested_on, created_by,
		    referring_agency_id, region_code)
		VALUES (p_case_id, p_body->>'service', v_agency,
		    v_agency IS NOT NULL AND care.answers_referrals(v_agency),
		    COALESCE(api.json_date(p_body->'requested_on'),
		        care.today()), v_p.key_id, v_p.agency_id,
		    v_c.region_code)
		RETURNING * INTO v_i;
		INSERT INTO care.case_history (case_id, action, api_key_id,
		    detail)
		VALUES (p_case_id, 'support', v_p.key_id,
		    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
		        'item', v_i.id, 'service', v_i.service,
		        'status', 'requested',
		        'provider_agency', v_agency,
		        'referral', v_i.referral)));
		RETURN api.answer(v_p, 'care', pg_catalog.jsonb_build_object(
		    'status', 201, 'body', care.support_json(v_i),
		    'location', '/v1/cases/' || p_case_id || '/support'));
	END IF;

	SELECT * INTO v_i FROM care.support_item i
	WHERE i.id = (p_body->>'item')::uuid AND i.case_id = p_case_id
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'unknown_item',
		    api.problem(422, 'validation', 'item must be the id of an '
		        'item of this case''s support plan', 'item'));
	END IF;
	v_status := p_body->>'status';
	IF NOT EXISTS (SELECT 1 FROM care.support_transition t
	    WHERE t.from_status = v_i.status AND t.to_status = v_status
	      AND (t.actor = 'holder' OR NOT v_i.referral)) THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'illegal_transition',
		    pg_catalog.jsonb_set(api.problem(409, 'conflict',
		        pg_catalog.format('cannot change a support item from '
		            '%s to %s%s', v_i.status, v_status,
		            CASE WHEN v_i.referral AND v_i.status = 'requested'
		            AND v_status IN ('accepted', 'refused')
		            THEN ': the provider agency answers its referral'
		            ELSE '' END), 'status'),
		        '{problem,current}', pg_catalog.to_jsonb(v_i.status)));
	END IF;
	v_on := COALESCE(api.json_date(p_body->'on'), care.today());
	IF (v_status = 'started' AND v_on < v_i.requested_on)
	    OR (v_status = 'ended'
	        AND v_on < COALESCE(v_i.started_on, v_i.requested_on)) THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'invalid_support',
		    api.problem(422, 'validation', pg_catalog.format(
		        'on must not be before %s',
		        COALESCE(v_i.started_on, v_i.requested_on)), 'on'));
	END IF;
	v_i := care.support_change(v_p, v_i, v_status, v_on,
	    p_body->>'reason');
	RETURN api.answer(v_p, 'care', pg_catalog.jsonb_build_object(
	    'status', 200, 'body', care.support_json(v_i)));
END
$$;
COMMENT ON FUNCTION api.support_post(bytea, text, inet, uuid, jsonb) IS
    'POST /v1/cases/{id}/support: add a service to the plan, or change '
    'an item''s status, by the holder of the case.';
-- A door of nrm_coordinator (99_doors.sql).

/*
 * GET /v1/cases/{id}/support (coordinator of the case's region): the
 * plan, oldest item first, and the providers a referral may go to (the
 * agencies that answer referrals themselves: id, name, kind).  No
 * personal data; audited case.support.read.
 */
CREATE OR REPLACE FUNCTION api.support_list(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_items jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter_case(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.support.read', p_case_id,
	    'care');
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	SELECT COALESCE(pg_catalog.jsonb_agg(care.support_json(i)
	        ORDER BY i.created_at, i.id), '[]'::jsonb)
	INTO v_items
	FROM care.support_item i WHERE i.case_id = p_case_id;
	RETURN api.answer(v_p, 'care', pg_catalog.jsonb_build_object(
	    'status', 200, 'body', pg_catalog.jsonb_build_object(
	        'case_id', p_case_id, 'items', v_items,
	        'providers', COALESCE((SELECT pg_catalog.jsonb_agg(
	            pg_catalog.jsonb_build_object('agency_id', a.id,
	                'name', a.name, 'kind', a.kind) ORDER BY a.name, a.id)
	            FROM auth.agency a WHERE care.answers_referrals(a.id)),
	            '[]'::jsonb))));
END
$$;
COMMENT ON FUNCTION api.support_list(bytea, text, inet, uuid) IS
    'GET /v1/cases/{id}/support: the case''s support plan.';
-- A door of nrm_coordinator (99_doors.sql).

/*
 * GET /v1/referrals (coordinator): the referrals made to the caller's
 * agency, open ones (requested) first, then the newest; p_status
 * filters (requested, accepted, refused, started, ended or all, the
 * default; 400 field status).  At most 200.  Audited referral.list.
 */
CREATE OR REPLACE FUNCTION api.referral_list(p_token_hash bytea,
    p_request_id text, p_client inet, p_status text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_status text := COALESCE(p_status, 'all');
	v_items jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'referral.list', 'referral',
	    NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF NOT v_status IN ('all', 'requested', 'accepted', 'refused',
	    'started', 'ended') THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'bad_request',
		    api.problem(400, 'bad_request', 'status must be all, '
		        'requested, accepted, refused, started or ended',
		        'status'));
	END IF;
	SELECT COALESCE(pg_catalog.jsonb_agg(care.referral_json(x)
	        ORDER BY x.status <> 'requested', x.created_at DESC, x.id),
	        '[]'::jsonb)
	INTO v_items
	FROM (SELECT i.* FROM care.support_item i
	    WHERE i.referral AND i.provider_agency_id = v_p.agency_id
	      AND (v_status = 'all' OR i.status = v_status)
	    ORDER BY i.status <> 'requested', i.created_at DESC, i.id
	    LIMIT 200) x;
	RETURN api.answer(v_p, 'care', pg_catalog.jsonb_build_object(
	    'status', 200, 'body', pg_catalog.jsonb_build_object(
	        'items', v_items)));
END
$$;
COMMENT ON FUNCTION api.referral_list(bytea, text, inet, text) IS
    'GET /v1/referrals: the referrals to the caller''s agency, what the '
    'referral shares only.';
-- A door of nrm_coordinator (99_doors.sql).

/*
 * POST /v1/referrals/{id}/accept and /refuse (coordinator of the
 * provider agency).  Order: 401/403; refuse without a reason code (422
 * field reason; accept takes none); no referral with this id to the
 * caller's agency (404, the same for unknown); not requested any more
 * (409 with its current status: of two answers at once, one wins and
 * the other gets this); then 200 with the referral and a 'support'
 * entry in the referring case's history.  Audited referral.accept or
 * referral.refuse, object referral.
 */
CREATE OR REPLACE FUNCTION api.referral_answer(p_token_hash bytea,
    p_request_id text, p_client inet, p_id uuid, p_answer text,
    p_reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_i care.support_item;
	v_status text;
BEGIN
	IF p_answer IS NULL OR p_answer NOT IN ('accept', 'refuse') THEN
		RAISE EXCEPTION 'p_answer must be accept or refuse'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_status := CASE p_answer WHEN 'accept' THEN 'accepted'
	    ELSE 'refused' END;
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'referral.' || p_answer,
	    'referral', p_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF (p_answer = 'refuse' AND NOT COALESCE(p_reason, '') = ANY (
	        care.support_reasons('refused')))
	    OR (p_answer = 'accept' AND p_reason IS NOT NULL) THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'invalid_answer',
		    api.problem(422, 'validation', CASE p_answer
		        WHEN 'accept' THEN 'an acceptance takes no reason'
		        ELSE 'reason must be one of: '
		            || pg_catalog.array_to_string(
		            care.support_reasons('refused'), ', ') END,
		        'reason'));
	END IF;
	-- the item's lock first, as the holder's change takes it
	-- (api.support_post)
	PERFORM pg_catalog.pg_advisory_xact_lock(7,
	    pg_catalog.hashtext(p_id::text));
	SELECT * INTO v_i FROM care.support_item i
	WHERE i.id = p_id AND i.referral
	  AND i.provider_agency_id = v_p.agency_id
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN api.refuse_unseen(v_p, 'care', EXISTS (SELECT 1
		    FROM care.support_item i WHERE i.id = p_id),
		    'no referral with this id to your agency');
	END IF;
	IF v_i.status <> 'requested' THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'illegal_transition',
		    pg_catalog.jsonb_set(api.problem(409, 'conflict',
		        pg_catalog.format('the referral is %s already: only a '
		            'requested referral is answered', v_i.status),
		        'status'), '{problem,current}',
		        pg_catalog.to_jsonb(v_i.status)));
	END IF;
	v_i := care.support_change(v_p, v_i, v_status, NULL, p_reason);
	RETURN api.answer(v_p, 'care', pg_catalog.jsonb_build_object(
	    'status', 200, 'body', care.referral_json(v_i)));
END
$$;
COMMENT ON FUNCTION api.referral_answer(bytea, text, inet, uuid, text, text)
    IS 'POST /v1/referrals/{id}/accept|refuse: the provider agency''s '
    'answer to a referral (refusal with a reason code).';
-- A door of nrm_coordinator (99_doors.sql).

-- ---------------------------------------------------------------------
-- Repeat signals
-- ---------------------------------------------------------------------

/*
 * GET /v1/cases/{id}/related (coordinator of the case's region): the
 * other cases of the same person (the keyed pseudonym of their
 * subjects, care.subject.pseudonym) that the caller may see: those in
 * its regions (row-level security; the national desk's are the
 * NATIONAL ones), newest first, at most 50.  Dates and regions only:
 * case id, region, received and created; and merged_into, the case it
 * was merged into (0026), else null, so a screen offers a merge only
 * into a case that is not merged.  A case without a pseudonym
 * (no family name and birth date) has none; an anonymous notification
 * stores no subject, so no pseudonym, and is never related.  Audited
 * case.related (purpose care: the link itself is about a person).
 */
CREATE OR REPLACE FUNCTION api.case_related(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_pseudonym bytea;
	v_items jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter_case(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.related', p_case_id,
	    'care');
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	SELECT sub.pseudonym INTO v_pseudonym
	FROM care.case c JOIN care.subject sub ON sub.signal_id = c.signal_id
	WHERE c.id = p_case_id;
	SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
	        'case_id', x.id, 'region', x.region_code,
	        'received_at', api.rfc3339(x.received_at),
	        'created_at', api.rfc3339(x.created_at),
	        'merged_into', x.merged_into)
	        ORDER BY x.received_at DESC, x.id), '[]'::jsonb)
	INTO v_items
	FROM (SELECT c.id, c.region_code, s.received_at, c.created_at,
	        c.merged_into
	    FROM care.subject sub
	    JOIN care.case c ON c.signal_id = sub.signal_id
	    JOIN intake.signal s ON s.id = c.signal_id
	    WHERE v_pseudonym IS NOT NULL AND sub.pseudonym = v_pseudonym
	      AND c.id <> p_case_id
	      AND c.region_code = ANY (v_p.regions)
	    ORDER BY s.received_at DESC, c.id LIMIT 50) x;
	RETURN api.answer(v_p, 'care', pg_catalog.jsonb_build_object(
	    'status', 200, 'body', pg_catalog.jsonb_build_object(
	        'case_id', p_case_id, 'items', v_items)));
END
$$;
COMMENT ON FUNCTION api.case_related(bytea, text, inet, uuid) IS
    'GET /v1/cases/{id}/related: the caller''s other cases of the same '
    'pseudonym, dates and regions only; audited case.related.';
-- A door of nrm_coordinator (99_doors.sql).
