-- 20_intake.sql - api functions: POST /v1/signals and the receipt. A
-- repeatable file (docs/sql-api.md, "Migrations").
--
-- Applied by `nrmctl migrate` after the numbered migrations, in the same
-- transaction, every file of sql/api/ in name order, and recorded with
-- its SHA-256 in nrm.schema_repeatable.  Each function stands here once,
-- as CREATE OR REPLACE, with its comment and grants; change it here.  A
-- new signature, a dropped function or anything a table, view, policy
-- or trigger needs at creation time belongs in a numbered migration.

/*
 * Idempotency of a reporter's POST (intake, a follow-up): NULL when the
 * request may go on (no key, or a key not used yet: the advisory lock
 * on it is held until commit); else the answer: the stored response of
 * the same request (audited p_replay_action on the signal of its body),
 * 409 retry_later while one with this key is in flight, 422 when the
 * key was used with a different request, 400 for a key of the wrong
 * length; each field Idempotency-Key.  p_request_hash: nrmd's HMAC of
 * the request (32 bytes).  The caller stores its answer in
 * intake.idempotency under the key.
 */
CREATE OR REPLACE FUNCTION api.idempotency_check(p_p record, p_idem_key text,
    p_request_hash bytea, p_replay_action text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_idem record;
BEGIN
	IF p_idem_key IS NULL THEN
		RETURN NULL;
	END IF;
	IF pg_catalog.char_length(p_idem_key) NOT BETWEEN 1 AND 200 THEN
		RETURN api.leave(p_p, api.problem(400, 'bad_request',
		    'Idempotency-Key must be 1 to 200 characters',
		    'Idempotency-Key'));
	END IF;
	IF p_request_hash IS NULL
	    OR pg_catalog.octet_length(p_request_hash) <> 32 THEN
		RAISE EXCEPTION 'p_request_hash must be 32 bytes'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT pg_catalog.pg_try_advisory_xact_lock(
	    api.idempotency_lock_key(p_p.key_id, p_idem_key)) THEN
		RETURN api.refuse(p_p, 'intake', 'failed',
		    'idempotency_in_flight',
		    api.problem(409, 'retry_later',
		        'a request with this key is in flight; retry '
		        'it after Retry-After seconds for its outcome',
		        'Idempotency-Key'));
	END IF;
	SELECT i.request_hash, i.response INTO v_idem
	FROM intake.idempotency i
	WHERE i.api_key_id = p_p.key_id AND i.idem_key = p_idem_key;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF v_idem.request_hash = p_request_hash THEN
		PERFORM api.audit(p_p.key_id, p_p.agency_id, p_p.role,
		    p_replay_action, 'signal',
		    v_idem.response->'body'->>'signal_id', 'intake', 'allowed',
		    NULL, p_p.request_id, p_p.client);
		RETURN api.leave(p_p, v_idem.response);
	END IF;
	RETURN api.refuse(p_p, 'intake', 'failed', 'idempotency_mismatch',
	    api.problem(422, 'idempotency', 'this Idempotency-Key was used '
	        'with a different request', 'Idempotency-Key'));
END
$$;
COMMENT ON FUNCTION api.idempotency_check(record, text, bytea, text) IS
    'A reporter POST''s idempotency: NULL to go on (the key locked), or '
    'the answer (replay, 409 in flight, 422 mismatch, 400).';
GRANT EXECUTE ON FUNCTION api.idempotency_check(record, text, bytea, text)
    TO nrm_reporter;

/*
 * The 404 of a signal the calling reporter's agency did not submit (the
 * receipt, a follow-up): api.refuse_unseen under purpose intake, the
 * signal existing when intake.signal_exists finds it.
 */
CREATE OR REPLACE FUNCTION api.refuse_signal(p_p record, p_signal_id uuid)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN api.refuse_unseen(p_p, 'intake',
	    intake.signal_exists(p_signal_id),
	    'no signal with this id was submitted by your agency');
END
$$;
COMMENT ON FUNCTION api.refuse_signal(record, uuid) IS
    'A reporter''s 404 for a signal not of its agency or unknown, '
    'audited denied out_of_scope or not_found.';
GRANT EXECUTE ON FUNCTION api.refuse_signal(record, uuid) TO nrm_reporter;

/*
 * The signal p_signal_id when the agency p_agency_id submitted it, with
 * its case (case_id and priority NULL for an anonymous notification):
 * one row, or none for another agency's signal or an unknown id.  Run
 * as the reporter (row-level security applies too).  What GET
 * /v1/signals/{id} and POST /v1/signals/{id}/followups read first.
 */
CREATE OR REPLACE FUNCTION intake.own_signal(p_signal_id uuid,
    p_agency_id uuid)
RETURNS TABLE (id uuid, received_at timestamptz, region_code text,
    rule_id text, notification_only boolean, reference text,
    case_id uuid, priority text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT s.id, s.received_at, s.region_code, s.rule_id,
	    s.notification_only, s.reference, c.id, c.priority
	FROM intake.signal s
	LEFT JOIN care.case c ON c.signal_id = s.id
	WHERE s.id = p_signal_id AND s.agency_id = p_agency_id
$$;
COMMENT ON FUNCTION intake.own_signal(uuid, uuid) IS
    'A signal of the agency p_agency_id with its case, or no row.';
REVOKE ALL ON FUNCTION intake.own_signal(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION intake.own_signal(uuid, uuid) TO nrm_reporter;

/*
 * The receipt of a signal as its reporting agency reads it: the body of
 * the 201 of POST /v1/signals, of GET /v1/signals/{id} and each item of
 * GET /v1/signals, {"signal_id", "case_id" (null for an anonymous
 * notification), "region", "priority" (the case's), "rule_id",
 * "received_at" (RFC 3339, UTC), "notification_only", "reference"};
 * nothing of the subject, not the reporter's own reference.  A
 * standard-SQL body without a SET clause: the planner inlines it
 * (api.intake's plan is the expression it wrote before;
 * docs/performance.md).
 */
CREATE OR REPLACE FUNCTION intake.receipt_json(p_signal_id uuid,
    p_case_id uuid, p_region text, p_priority text, p_rule_id text,
    p_received_at timestamptz, p_notification_only boolean,
    p_reference text) RETURNS jsonb
LANGUAGE sql STABLE
RETURN pg_catalog.jsonb_build_object('signal_id', p_signal_id,
    'case_id', p_case_id, 'region', p_region, 'priority', p_priority,
    'rule_id', p_rule_id, 'received_at', api.rfc3339(p_received_at),
    'notification_only', p_notification_only, 'reference', p_reference);
COMMENT ON FUNCTION intake.receipt_json(uuid, uuid, text, text, text,
    timestamptz, boolean, text) IS
    'A signal''s receipt as its reporting agency reads it (the 201 of '
    'POST /v1/signals, GET /v1/signals/{id}, an item of GET /v1/signals).';
REVOKE ALL ON FUNCTION intake.receipt_json(uuid, uuid, text, text, text,
    timestamptz, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION intake.receipt_json(uuid, uuid, text, text, text,
    timestamptz, boolean, text) TO nrm_reporter;

CREATE OR REPLACE FUNCTION api.intake(p_token_hash bytea, p_request_id text,
    p_client inet, p_idem_key text, p_request_hash bytea, p_signal jsonb,
    p_subject jsonb, p_pseudonym bytea, p_route jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_signal_id uuid;
	v_key jsonb;
	v_case_id uuid;
	v_received timestamptz := pg_catalog.now();
	v_notification boolean;
	v_has_subject boolean;
	v_municipality text;
	v_region text;
	v_priority text;
	v_rule_id text;
	v_body jsonb;
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['reporter'], 'signal.create', 'signal', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	-- Idempotency: one request per (key, Idempotency-Key) at a time.
	v_resp := api.idempotency_check(v_p, p_idem_key, p_request_hash,
	    'signal.replay');
	IF v_resp IS NOT NULL THEN
		RETURN v_resp;
	END IF;

	-- Arguments nrmd computed: a mismatch is a daemon bug, not input.
	IF p_signal IS NULL OR pg_catalog.jsonb_typeof(p_signal) <> 'object'
	    OR p_route IS NULL OR pg_catalog.jsonb_typeof(p_route) <> 'object'
	THEN
		RAISE EXCEPTION 'p_signal and p_route must be JSON objects'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_notification := (p_signal->>'notification_only')::boolean;
	v_has_subject := p_subject IS NOT NULL
	    AND pg_catalog.jsonb_typeof(p_subject) <> 'null';
	IF v_notification IS NULL OR v_notification = v_has_subject THEN
		RAISE EXCEPTION 'p_subject must be null exactly when the '
		    'signal is notification_only'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF v_has_subject AND pg_catalog.jsonb_typeof(p_subject) <> 'object'
	THEN
		RAISE EXCEPTION 'p_subject must be a JSON object or null'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- A municipality the reference data does not know is the client's
	-- error (nrmd checks it too; this keeps the answer a 422 if its
	-- config and the database ever disagree).
	v_municipality := p_signal->>'municipality_code';
	IF v_municipality IS NOT NULL AND NOT EXISTS (SELECT 1
	    FROM ref.municipality m WHERE m.code = v_municipality) THEN
		RETURN api.refuse(v_p, 'intake', 'failed',
		    'unknown_municipality', api.problem(422, 'validation',
		        'unknown municipality code',
		        'location.municipality_code'));
	END IF;

	-- nrmd names the signal (the associated data of its sealed values
	-- binds them to this id) and sends its data key, wrapped
	-- (docs/data-protection.md); without them the signal is stored as
	-- before 0017, the way the database tests call it.
	v_signal_id := COALESCE((p_signal->>'id')::uuid,
	    pg_catalog.gen_random_uuid());
	v_key := p_signal->'data_key';
	IF v_key IS NOT NULL AND pg_catalog.jsonb_typeof(v_key) <> 'object'
	THEN
		RAISE EXCEPTION 'p_signal.data_key must be an object'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;

	v_region := p_route->>'region';
	v_rule_id := p_route->>'rule_id';
	INSERT INTO intake.signal (id, received_at, observed_at, agency_id,
	    api_key_id, municipality_code, region_code, rule_id,
	    ruleset_version, reporter_reference, minor, age_estimate, gender,
	    nationality, languages, exploitation, control_means,
	    immediate_danger, needs_shelter, consent, notification_only,
	    request_id, data_key_id, reporter_reference_ct, cites_reference,
	    cites_signal_id)
	VALUES (v_signal_id, v_received,
	    (p_signal->>'observed_at')::timestamptz, v_p.agency_id, v_p.key_id,
	    v_municipality, v_region, v_rule_id, p_route->>'ruleset_version',
	    p_signal->>'reporter_reference', (p_signal->>'minor')::boolean,
	    (p_signal->>'age_estimate')::integer, p_signal->>'gender',
	    p_signal->>'nationality',
	    ARRAY(SELECT pg_catalog.jsonb_array_elements_text(
	        COALESCE(p_signal->'languages', '[]'::jsonb))),
	    ARRAY(SELECT pg_catalog.jsonb_array_elements_text(
	        COALESCE(p_signal->'exploitation', '[]'::jsonb))),
	    ARRAY(SELECT pg_catalog.jsonb_array_elements_text(
	        COALESCE(p_signal->'control_means', '[]'::jsonb))),
	    (p_signal->>'immediate_danger')::boolean,
	    (p_signal->>'needs_shelter')::boolean, p_signal->>'consent',
	    v_notification, p_request_id, (v_key->>'id')::uuid,
	    pg_catalog.decode(p_signal->>'reporter_reference_ct', 'base64'),
	    -- later consent (0027): the cited reference, and the signal it
	    -- names if any; the answer says neither whether it did
	    p_signal->>'cites_reference',
	    care.reference_signal(p_signal->>'cites_reference'));
	IF v_key IS NOT NULL THEN
		INSERT INTO care.data_key (id, signal_id, kek_id, wrapped,
		    created_at)
		VALUES ((v_key->>'id')::uuid, v_signal_id, v_key->>'kek_id',
		    pg_catalog.decode(v_key->>'wrapped', 'base64'), v_received);
	END IF;

	IF NOT v_notification THEN
		INSERT INTO care.subject (signal_id, given_name, family_name,
		    birth_date, phone, address, narrative, pseudonym,
		    created_at, data_key_id, given_name_ct, family_name_ct,
		    birth_date_ct, phone_ct, address_ct, narrative_ct,
		    pseudonym_key_id, pseudonym_prev)
		VALUES (v_signal_id, p_subject->>'given_name',
		    p_subject->>'family_name',
		    (p_subject->>'birth_date')::date, p_subject->>'phone',
		    p_subject->>'address', p_subject->>'narrative', p_pseudonym,
		    v_received, (v_key->>'id')::uuid,
		    pg_catalog.decode(p_subject->>'given_name_ct', 'base64'),
		    pg_catalog.decode(p_subject->>'family_name_ct', 'base64'),
		    pg_catalog.decode(p_subject->>'birth_date_ct', 'base64'),
		    pg_catalog.decode(p_subject->>'phone_ct', 'base64'),
		    pg_catalog.decode(p_subject->>'address_ct', 'base64'),
		    pg_catalog.decode(p_subject->>'narrative_ct', 'base64'),
		    CASE WHEN p_pseudonym IS NOT NULL
		        THEN p_subject->>'pseudonym_key_id' END,
		    CASE WHEN p_pseudonym IS NOT NULL
		        THEN pg_catalog.decode(p_subject->>'pseudonym_prev',
		            'hex') END);

		v_case_id := pg_catalog.gen_random_uuid();
		v_priority := p_route->>'priority';
		INSERT INTO care.case (id, signal_id, region_code, priority,
		    state, version, rule_id, ruleset_version, explanation,
		    take_by, first_contact_by, created_at, updated_at)
		VALUES (v_case_id, v_signal_id, v_region, v_priority, 'open', 1,
		    v_rule_id, p_route->>'ruleset_version',
		    p_route->>'explanation',
		    v_received + pg_catalog.make_interval(secs =>
		        (p_route->>'take_within')::numeric),
		    v_received + pg_catalog.make_interval(secs =>
		        (p_route->>'first_contact_within')::numeric),
		    v_received, v_received);

		INSERT INTO care.case_history (case_id, action, api_key_id,
		    detail)
		VALUES (v_case_id, 'routed', v_p.key_id,
		    pg_catalog.jsonb_build_object('region', v_region,
		        'priority', v_priority, 'rule_id', v_rule_id,
		        'ruleset_version', p_route->>'ruleset_version',
		        'decision', p_route));
	END IF;

	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role, 'signal.create',
	    'signal', v_signal_id::text, 'intake', 'allowed', NULL,
	    p_request_id, p_client);

	v_body := intake.receipt_json(v_signal_id, v_case_id, v_region,
	    v_priority, v_rule_id, v_received, v_notification,
	    -- the readable reference (0021), drawn by the insert's trigger
	    (SELECT s.reference FROM intake.signal s
	        WHERE s.id = v_signal_id));
	v_resp := pg_catalog.jsonb_build_object('status', 201, 'body', v_body,
	    'location', '/v1/signals/' || v_signal_id::text);

	IF p_idem_key IS NOT NULL THEN
		INSERT INTO intake.idempotency (api_key_id, idem_key,
		    request_hash, status, response, created_at)
		VALUES (v_p.key_id, p_idem_key, p_request_hash, 201, v_resp,
		    v_received);
	END IF;

	RETURN api.leave(v_p, v_resp);
END
$$;
COMMENT ON FUNCTION api.intake(bytea, text, inet, text, bytea, jsonb, jsonb,
    bytea, jsonb) IS
    'POST /v1/signals: authenticate (reporter), idempotency, store the '
    'signal and, unless a notification, subject, case and history; audit; '
    'return the receipt.';
GRANT EXECUTE ON FUNCTION api.intake(bytea, text, inet, text, bytea, jsonb,
    jsonb, bytea, jsonb) TO nrm_reporter, nrm_coordinator,
    nrm_assessor, nrm_investigator, nrm_auditor, nrm_analyst, nrm_admin;

CREATE OR REPLACE FUNCTION api.signal_receipt(p_token_hash bytea,
    p_request_id text, p_client inet, p_signal_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_receipt jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['reporter'], 'signal.read_receipt', 'signal',
	    p_signal_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	SELECT intake.receipt_json(s.id, s.case_id, s.region_code,
	    s.priority, s.rule_id, s.received_at, s.notification_only,
	    s.reference)
	INTO v_receipt
	FROM intake.own_signal(p_signal_id, v_p.agency_id) s;
	IF NOT FOUND THEN
		RETURN api.refuse_signal(v_p, p_signal_id);
	END IF;

	RETURN api.answer(v_p, 'intake',
	    pg_catalog.jsonb_build_object('status', 200, 'body', v_receipt));
END
$$;
COMMENT ON FUNCTION api.signal_receipt(bytea, text, inet, uuid) IS
    'GET /v1/signals/{id}: the receipt of a signal of the caller''s '
    'agency (reporter), else 404 (audited denied, out_of_scope or '
    'not_found); audited.';
GRANT EXECUTE ON FUNCTION api.signal_receipt(bytea, text, inet, uuid) TO
    nrm_reporter, nrm_coordinator, nrm_assessor, nrm_investigator,
    nrm_auditor, nrm_analyst, nrm_admin;

/*
 * GET /v1/signals (reporter): the receipts of the caller's agency's
 * signals, newest first, in keyset pages on (received_at, id): p_after
 * is the signal id of the last item of the previous page (next_cursor);
 * a cursor naming no signal of the agency is a 400 field cursor.  Order
 * of checks: 401/403; limit (1..200), cursor (400 bad_request naming
 * the parameter, audited failed/bad_request); then 200.  An item is
 * what the receipt of GET /v1/signals/{id} shows and nothing more (no
 * subject data, no reporter reference).  One audit event per call, like
 * the inbox: signal.list, object type signal, purpose intake.
 */
CREATE OR REPLACE FUNCTION api.signal_list(p_token_hash bytea,
    p_request_id text, p_client inet, p_after uuid DEFAULT NULL,
    p_limit integer DEFAULT 50) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_limit integer := COALESCE(p_limit, 50);
	v_at timestamptz;
	v_field text;
	v_detail text;
	v_page record;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['reporter'], 'signal.list', 'signal', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	IF v_limit NOT BETWEEN 1 AND 200 THEN
		v_field := 'limit';
		v_detail := 'limit must be 1 to 200';
	ELSIF p_after IS NOT NULL THEN
		SELECT s.received_at INTO v_at FROM intake.signal s
		WHERE s.id = p_after AND s.agency_id = v_p.agency_id;
		IF NOT FOUND THEN
			v_field := 'cursor';
			v_detail := 'the cursor is not valid';
		END IF;
	END IF;
	IF v_field IS NOT NULL THEN
		RETURN api.refuse(v_p, 'intake', 'failed', 'bad_request',
		    api.problem(400, 'bad_request', v_detail, v_field));
	END IF;

	SELECT COALESCE(pg_catalog.jsonb_agg(q.item ORDER BY q.received_at
	        DESC, q.id DESC), '[]'::jsonb) AS items,
	    pg_catalog.count(*) AS n,
	    (pg_catalog.array_agg(q.id ORDER BY q.received_at, q.id))[1]
	        AS last_id
	INTO v_page
	FROM (SELECT s.id, s.received_at,
	        intake.receipt_json(s.id, c.id, s.region_code, c.priority,
	            s.rule_id, s.received_at, s.notification_only,
	            s.reference) AS item
	    FROM intake.signal s
	    LEFT JOIN care.case c ON c.signal_id = s.id
	    WHERE s.agency_id = v_p.agency_id
	      AND (v_at IS NULL OR (s.received_at, s.id) < (v_at, p_after))
	    ORDER BY s.received_at DESC, s.id DESC
	    LIMIT v_limit) q;

	RETURN api.answer(v_p, 'intake',
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	        pg_catalog.jsonb_build_object('items', v_page.items,
	            'next_cursor', CASE WHEN v_page.n = v_limit
	                THEN v_page.last_id END)));
END
$$;
COMMENT ON FUNCTION api.signal_list(bytea, text, inet, uuid, integer) IS
    'GET /v1/signals: the receipts of the caller''s agency''s signals '
    '(reporter), newest first, keyset-paged; no personal data; one audit '
    'event (signal.list) per call.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
