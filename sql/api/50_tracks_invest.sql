-- 50_tracks_invest.sql - api functions: investigation records (the body
-- check, the sealed record's data key, seal key, create, get, patch).
-- Split from 50_tracks.sql (released migrations' comments that name
-- 50_tracks.sql mean 50_tracks*.sql).  A repeatable file (docs/sql-api.md,
-- "Migrations").
--
-- Applied by `nrmctl migrate` after the numbered migrations, in the same
-- transaction, every file of sql/api/ in name order, and recorded with
-- its SHA-256 in nrm.schema_repeatable.  Each function stands here once,
-- as CREATE OR REPLACE, with its comment and grants; change it here.  A
-- new signature, a dropped function or anything a table, view, policy
-- or trigger needs at creation time belongs in a numbered migration.

/*
 * The wrapped data key p_id of an investigation record as an answer
 * carries it for nrmd ({id, kek_id, wrapped}, wrapped null once
 * destroyed; NULL when there is none): care.data_key_json's shape, read
 * with the investigator's privileges (no USAGE on schema care).
 */
CREATE OR REPLACE FUNCTION invest.data_key_json(p_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('id', k.id, 'kek_id', k.kek_id,
	    'wrapped', pg_catalog.translate(pg_catalog.encode(k.wrapped,
	        'base64'), E'\n', ''))
	FROM invest.data_key k WHERE k.id = p_id
$$;
COMMENT ON FUNCTION invest.data_key_json(uuid) IS
    'An investigation record''s data key as an answer carries it for nrmd.';
REVOKE ALL ON FUNCTION invest.data_key_json(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invest.data_key_json(uuid) TO nrm_investigator;

/*
 * The answer shape of an investigation record (0006; 0025 sealed its
 * references): its own columns, nothing of the care side.  A record
 * stored since 0025 carries its sealed references and its wrapped data
 * key in "sealed" for nrmd to open (docs/data-protection.md, "The
 * investigation track"), and "references_erased_at" once its key was
 * destroyed by the erasure of the case or signal it is about.  Written
 * without care.* helpers: investigators have no USAGE on schema care.
 */
CREATE OR REPLACE FUNCTION invest.record_json(r invest.record) RETURNS jsonb
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
	    || COALESCE((SELECT CASE WHEN k.wrapped IS NULL THEN
	        pg_catalog.jsonb_build_object('references_erased_at',
	            api.rfc3339(k.destroyed_at))
	    ELSE pg_catalog.jsonb_build_object('sealed',
	        pg_catalog.jsonb_build_object('data_key',
	            invest.data_key_json(k.id),
	        'fields', COALESCE((SELECT pg_catalog.jsonb_agg(
	            pg_catalog.jsonb_build_object('path', v.col,
	                'aad', 'invest.record/' || v.col || '/' || r.id::text,
	                'value', pg_catalog.translate(
	                    pg_catalog.encode(v.ct, 'base64'), E'\n', '')))
	            FROM (VALUES ('police_reference', r.police_reference_ct),
	                ('prosecution_reference', r.prosecution_reference_ct))
	            v(col, ct) WHERE v.ct IS NOT NULL), '[]'::jsonb)))
	    END
	    FROM invest.data_key k WHERE k.id = r.data_key_id), '{}'::jsonb)
$$;
COMMENT ON FUNCTION invest.record_json(invest.record) IS
    'An investigation record as the api answers it (PERSONAL DATA: its '
    'references sealed in "sealed" for nrmd to open).';
REVOKE ALL ON FUNCTION invest.record_json(invest.record) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invest.record_json(invest.record)
    TO nrm_investigator;

/*
 * Check the body of api.invest_create (p_create) or api.invest_patch:
 * NULL when fine, else {"status", "code", "field", "detail"} of the
 * first problem: not an object (400); an unknown key (422, no field);
 * on a patch, signal_id or case_id (they never change); signal_id and
 * case_id (uuid strings or null; a create needs one of them);
 * police_reference, prosecution_reference (1 to 100 characters without
 * control characters, or null: nrmd, which seals them, sends an invalid
 * one as "" and a valid one as <name>_ct); report_filed (true or
 * false); report_filed_on (a date from 2000-01-01 up to today, or
 * null); status.  What nrmd adds when it seals (id on a create,
 * data_key, <name>_ct: base64 strings) is taken, never listed as known.
 * The rule that report_filed_on needs report_filed is checked on the
 * merged record by the caller.  A detail never quotes a value.
 */
CREATE OR REPLACE FUNCTION invest.body_problem(p_body jsonb,
    p_create boolean) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_known constant text[] := ARRAY['signal_id', 'case_id',
	    'police_reference', 'prosecution_reference', 'report_filed',
	    'report_filed_on', 'status'];
	v_sealed constant text[] := ARRAY['data_key', 'police_reference_ct',
	    'prosecution_reference_ct'];
	v_uuid constant text :=
	    '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
	    '[0-9a-fA-F]{12}$';
	v_key text;
	v_on date;
	v_problem jsonb;
BEGIN
	v_problem := api.object_problem(p_body, 'the body', v_known,
	    v_sealed || CASE WHEN p_create THEN ARRAY['id'] ELSE '{}' END);
	IF v_problem IS NOT NULL THEN
		RETURN v_problem;
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
REVOKE ALL ON FUNCTION invest.body_problem(jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invest.body_problem(jsonb, boolean)
    TO nrm_investigator;

/*
 * Register the data key nrmd sent with a record's sealed references
 * ({"id", "kek_id", "wrapped"}, wrapped under the KEK) for the record
 * p_record_id, as the calling investigator (row-level security: a
 * record of its agency).  Returns the key's id, or NULL without one.
 */
CREATE OR REPLACE FUNCTION invest.record_data_key(p_record_id uuid,
    p_key jsonb) RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_key IS NULL OR pg_catalog.jsonb_typeof(p_key) = 'null' THEN
		RETURN NULL;
	END IF;
	INSERT INTO invest.data_key (id, record_id, kek_id, wrapped)
	VALUES ((p_key->>'id')::uuid, p_record_id, p_key->>'kek_id',
	    pg_catalog.decode(p_key->>'wrapped', 'base64'));
	RETURN (p_key->>'id')::uuid;
END
$$;
COMMENT ON FUNCTION invest.record_data_key(uuid, jsonb) IS
    'Register the wrapped data key nrmd sent with an investigation '
    'record''s sealed references; its id, or NULL without one.';
REVOKE ALL ON FUNCTION invest.record_data_key(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invest.record_data_key(uuid, jsonb)
    TO nrm_investigator;

/*
 * Whether the sealed value p_ct (base64 text, or NULL) is sealed with
 * the data key p_key_id: its bytes 2 to 17 are the key's id.
 */
CREATE OR REPLACE FUNCTION invest.sealed_with(p_ct text, p_key_id uuid)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p_ct IS NULL OR (p_key_id IS NOT NULL
	    AND pg_catalog.substr(pg_catalog.decode(p_ct, 'base64'), 2, 16)
	        = pg_catalog.uuid_send(p_key_id))
$$;
COMMENT ON FUNCTION invest.sealed_with(text, uuid) IS
    'Whether a sealed value (base64) names the data key p_key_id.';
REVOKE ALL ON FUNCTION invest.sealed_with(text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invest.sealed_with(text, uuid)
    TO nrm_investigator;

/*
 * The 404 of an investigation record the caller's agency does not hold
 * (another agency's and an unknown id alike): api.refuse_unseen under
 * purpose investigation, the record existing when invest.record_exists
 * finds it.
 */
CREATE OR REPLACE FUNCTION api.invest_refuse_record(p_p record, p_id uuid)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN api.refuse_unseen(p_p, 'investigation',
	    invest.record_exists(p_id),
	    'no investigation with this id for your agency');
END
$$;
COMMENT ON FUNCTION api.invest_refuse_record(record, uuid) IS
    'The audited 404 of an investigation record not of the caller''s '
    'agency (or unknown).';
GRANT EXECUTE ON FUNCTION api.invest_refuse_record(record, uuid) TO
    nrm_investigator;

/*
 * PATCH /v1/investigations/{id}, first step (nrmd, before it seals a
 * changed reference): the record's data key ({"data_key": {id, kek_id,
 * wrapped} or null}; null for a record stored before 0025 without one:
 * nrmd then sends a new one with the patch).  404 alike for another
 * agency's record and an unknown id (audited investigation.update,
 * denied); the answer itself is not audited (it never leaves nrmd: the
 * second step is the audited change).
 */
CREATE OR REPLACE FUNCTION api.invest_seal_key(p_token_hash bytea,
    p_request_id text, p_client inet, p_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_key jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['investigator'], 'investigation.update',
	    'investigation', p_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	SELECT COALESCE(invest.data_key_json(r.data_key_id), 'null')
	INTO v_key
	FROM invest.record r
	WHERE r.id = p_id AND r.agency_id = v_p.agency_id;
	IF NOT FOUND THEN
		RETURN api.invest_refuse_record(v_p, p_id);
	END IF;
	RETURN api.leave(v_p, pg_catalog.jsonb_build_object('status', 200,
	    'body', pg_catalog.jsonb_build_object('data_key', v_key)));
END
$$;
COMMENT ON FUNCTION api.invest_seal_key(bytea, text, inet, uuid) IS
    'PATCH /v1/investigations/{id}, step one (nrmd only): the record''s '
    'wrapped data key, to seal a changed reference with; 404 audited.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

/*
 * POST /v1/investigations (investigator).  Order: 401/403; the body
 * (400/422, audited failed/bad_request or invalid_body); signal_id not
 * a signal of the caller's agency (422 field signal_id, failed/
 * unknown_signal; the same for an unknown id); case_id not shared with
 * the caller's agency (422 field case_id, failed/case_not_shared);
 * report_filed_on without report_filed (422 field report_filed_on);
 * then 201, location /v1/investigations/<id>, body the record.
 */
CREATE OR REPLACE FUNCTION api.invest_create(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_body jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
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
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['investigator'], 'investigation.create',
	    'investigation', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

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
		RETURN api.refuse_body(v_p, 'investigation', 'invalid_body',
		    v_problem);
	END IF;

	IF v_signal IS NOT NULL AND NOT EXISTS (SELECT 1 FROM intake.signal s
	    WHERE s.id = v_signal AND s.agency_id = v_p.agency_id) THEN
		RETURN api.refuse(v_p, 'investigation', 'failed',
		    'unknown_signal',
		    api.problem(422, 'validation',
		        'no signal with this id was submitted by your agency',
		        'signal_id'));
	END IF;
	IF v_case IS NOT NULL AND NOT EXISTS (SELECT 1 FROM invest.case_share x
	    WHERE x.case_id = v_case AND x.agency_id = v_p.agency_id) THEN
		RETURN api.refuse(v_p, 'investigation', 'failed',
		    'case_not_shared',
		    api.problem(422, 'validation',
		        'no case with this id was shared with your agency',
		        'case_id'));
	END IF;

	-- nrmd sealed the references (docs/data-protection.md): the
	-- record's id is the one their associated data names
	v_id := COALESCE((p_body->>'id')::uuid, v_id);
	INSERT INTO invest.record (id, agency_id, signal_id, case_id,
	    police_reference, prosecution_reference, data_key_id,
	    police_reference_ct, prosecution_reference_ct, report_filed,
	    report_filed_on, status, created_by, created_at, updated_at,
	    version)
	VALUES (v_id, v_p.agency_id, v_signal, v_case,
	    p_body->>'police_reference', p_body->>'prosecution_reference',
	    (p_body->'data_key'->>'id')::uuid,
	    pg_catalog.decode(p_body->>'police_reference_ct', 'base64'),
	    pg_catalog.decode(p_body->>'prosecution_reference_ct', 'base64'),
	    v_filed, v_filed_on, COALESCE(p_body->>'status', 'open'),
	    v_p.key_id, v_now, v_now, 1);
	PERFORM invest.record_data_key(v_id, p_body->'data_key');

	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'investigation.create', 'investigation', v_id::text,
	    'investigation', 'allowed', NULL, p_request_id, p_client);
	SELECT invest.record_json(r) INTO v_body FROM invest.record r
	WHERE r.id = v_id;
	RETURN api.leave(v_p,
	    pg_catalog.jsonb_build_object('status', 201, 'body', v_body,
	        'location', '/v1/investigations/' || v_id::text));
END
$$;
COMMENT ON FUNCTION api.invest_create(bytea, text, inet, jsonb) IS
    'POST /v1/investigations: an investigator records an investigation of '
    'its agency about a signal the agency submitted or a case shared '
    'with it; audited investigation.create.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

/*
 * GET /v1/investigations/{id} (investigator): 200 with the record when
 * it belongs to the caller's agency, else 404 (the same for another
 * agency's record and an unknown id), audited investigation.read
 * (allowed, or denied with not_found / out_of_scope).
 */
CREATE OR REPLACE FUNCTION api.invest_get(p_token_hash bytea, p_request_id text,
    p_client inet, p_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_body jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['investigator'], 'investigation.read',
	    'investigation', p_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	SELECT invest.record_json(r) INTO v_body FROM invest.record r
	WHERE r.id = p_id AND r.agency_id = v_p.agency_id;
	IF NOT FOUND THEN
		RETURN api.invest_refuse_record(v_p, p_id);
	END IF;
	RETURN api.answer(v_p, 'investigation',
	    pg_catalog.jsonb_build_object('status', 200, 'body', v_body));
END
$$;
COMMENT ON FUNCTION api.invest_get(bytea, text, inet, uuid) IS
    'GET /v1/investigations/{id}: the record, for investigators of its '
    'agency; 404 alike for other agencies'' and unknown ids; audited.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

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
CREATE OR REPLACE FUNCTION api.invest_patch(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_id uuid, p_if_match integer, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_problem jsonb;
	v_r record;
	v_police text;
	v_prosecution text;
	v_police_ct bytea;
	v_prosecution_ct bytea;
	v_key_id uuid;
	v_filed boolean;
	v_filed_on date;
	v_status text;
	v_body jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['investigator'], 'investigation.update',
	    'investigation', p_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	v_problem := invest.body_problem(p_body, false);
	IF v_problem IS NULL AND p_body ? 'report_filed'
	    AND pg_catalog.jsonb_typeof(p_body->'report_filed') = 'null' THEN
		v_problem := pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'report_filed',
		    'detail', 'report_filed must be true or false');
	END IF;
	IF v_problem IS NOT NULL THEN
		RETURN api.refuse_body(v_p, 'investigation', 'invalid_body',
		    v_problem);
	END IF;

	SELECT r.police_reference, r.prosecution_reference, r.report_filed,
	    r.report_filed_on, r.status, r.version, r.data_key_id,
	    r.police_reference_ct, r.prosecution_reference_ct
	INTO v_r
	FROM invest.record r
	WHERE r.id = p_id AND r.agency_id = v_p.agency_id
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN api.invest_refuse_record(v_p, p_id);
	END IF;
	IF p_if_match IS NOT NULL AND p_if_match <> v_r.version THEN
		v_problem := api.problem(412, 'precondition',
		    pg_catalog.format('the investigation has changed: its '
		        'version is %s', v_r.version));
		RETURN api.refuse(v_p, 'investigation', 'failed',
		    'stale_version', pg_catalog.jsonb_set(v_problem,
		        '{problem,version}', pg_catalog.to_jsonb(v_r.version)));
	END IF;

	-- A changed reference comes sealed by nrmd (<name>_ct) with the
	-- record's data key, or with a new one (data_key) when the record
	-- has none yet (stored before 0025); a key that is not the record's
	-- (another patch gave it one meanwhile) is a 409, tried again.
	v_key_id := COALESCE(v_r.data_key_id,
	    (p_body->'data_key'->>'id')::uuid);
	IF (p_body ? 'data_key' AND v_r.data_key_id IS NOT NULL)
	    OR NOT invest.sealed_with(p_body->>'police_reference_ct', v_key_id)
	    OR NOT invest.sealed_with(p_body->>'prosecution_reference_ct',
	        v_key_id) THEN
		RETURN api.refuse(v_p, 'investigation', 'failed',
		    'key_changed', api.problem(409, 'conflict',
		        'the record''s data key changed while the references '
		        'were sealed: send the patch again', 'data_key'));
	END IF;
	v_police := CASE WHEN p_body ? 'police_reference'
	    OR p_body ? 'police_reference_ct'
	    THEN p_body->>'police_reference' ELSE v_r.police_reference END;
	v_police_ct := CASE WHEN p_body ? 'police_reference_ct'
	    THEN pg_catalog.decode(p_body->>'police_reference_ct', 'base64')
	    WHEN p_body ? 'police_reference' THEN NULL
	    ELSE v_r.police_reference_ct END;
	v_prosecution := CASE WHEN p_body ? 'prosecution_reference'
	    OR p_body ? 'prosecution_reference_ct'
	    THEN p_body->>'prosecution_reference'
	    ELSE v_r.prosecution_reference END;
	v_prosecution_ct := CASE WHEN p_body ? 'prosecution_reference_ct'
	    THEN pg_catalog.decode(p_body->>'prosecution_reference_ct',
	        'base64')
	    WHEN p_body ? 'prosecution_reference' THEN NULL
	    ELSE v_r.prosecution_reference_ct END;
	v_filed := CASE WHEN p_body ? 'report_filed'
	    THEN (p_body->>'report_filed')::boolean ELSE v_r.report_filed END;
	v_filed_on := CASE WHEN p_body ? 'report_filed_on'
	    THEN api.json_date(p_body->'report_filed_on')
	    ELSE v_r.report_filed_on END;
	v_status := COALESCE(p_body->>'status', v_r.status);
	IF v_filed_on IS NOT NULL AND NOT v_filed THEN
		RETURN api.refuse(v_p, 'investigation', 'failed',
		    'invalid_body',
		    api.problem(422, 'validation',
		        'report_filed_on requires report_filed true',
		        'report_filed_on'));
	END IF;

	IF p_body ? 'data_key' THEN
		PERFORM invest.record_data_key(p_id, p_body->'data_key');
		UPDATE invest.record SET data_key_id = v_key_id WHERE id = p_id;
	END IF;
	-- a sealed value is new each time (its nonce): a reference sent
	-- again is a change, as the old plaintext comparison could not tell
	IF (v_police, v_prosecution, v_police_ct, v_prosecution_ct, v_filed,
	    v_filed_on, v_status)
	    IS DISTINCT FROM (v_r.police_reference, v_r.prosecution_reference,
	        v_r.police_reference_ct, v_r.prosecution_reference_ct,
	        v_r.report_filed, v_r.report_filed_on, v_r.status) THEN
		UPDATE invest.record SET police_reference = v_police,
		    prosecution_reference = v_prosecution,
		    police_reference_ct = v_police_ct,
		    prosecution_reference_ct = v_prosecution_ct,
		    report_filed = v_filed, report_filed_on = v_filed_on,
		    status = v_status, version = version + 1,
		    updated_at = pg_catalog.now()
		WHERE id = p_id;
	END IF;
	SELECT invest.record_json(r) INTO v_body FROM invest.record r
	WHERE r.id = p_id;
	RETURN api.answer(v_p, 'investigation',
	    pg_catalog.jsonb_build_object('status', 200, 'body', v_body));
END
$$;
COMMENT ON FUNCTION api.invest_patch(bytea, text, inet, uuid, integer,
    jsonb) IS
    'PATCH /v1/investigations/{id}: merge-patch references, report and '
    'status of a record of the caller''s agency, with If-Match; 404 alike '
    'for other agencies'' and unknown ids; audited investigation.update.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
