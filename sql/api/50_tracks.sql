-- 50_tracks.sql - api functions: identification decisions (the entry
-- check, the profiles, record, list, the assessor's queue).  The
-- investigation records stand in 50_tracks_invest.sql.  A repeatable
-- file (docs/sql-api.md, "Migrations").
--
-- Applied by `nrmctl migrate` after the numbered migrations, in the same
-- transaction, every file of sql/api/ in name order, and recorded with
-- its SHA-256 in nrm.schema_repeatable.  Each function stands here once,
-- as CREATE OR REPLACE, with its comment and grants; change it here.  A
-- new signature, a dropped function or anything a table, view, policy
-- or trigger needs at creation time belongs in a numbered migration.

/*
 * Check an identification entry (p_entry of api.ident_record) without
 * the profile's rules: NULL when fine, else {"status", "code", "field",
 * "detail"} of the first problem, in this order: not an object (400);
 * an unknown key (422, no field: a key is client text); stage; outcome;
 * a pending conclusive decision (field outcome); deciding_body;
 * rationale (1 to 4000 bytes of text, or null); decided_on (a date from
 * 2000-01-01 up to today in Europe/Amsterdam); reflection_start/_end and
 * recovery_start/_end (dates from 2000-01-01 or null; an end needs a
 * start and is not before it).  A detail never quotes the value.
 */
CREATE OR REPLACE FUNCTION ident.entry_problem(p_entry jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_known constant text[] := ARRAY['stage', 'outcome', 'deciding_body',
	    'rationale', 'decided_on', 'reflection_start', 'reflection_end',
	    'recovery_start', 'recovery_end'];
	-- what nrmd adds when it seals the rationale (it refuses them from
	-- a client): the entry's id, its data key, the sealed rationale
	v_sealed constant text[] := ARRAY['id', 'data_key', 'rationale_ct'];
	v_period text;
	v_sk text;
	v_ek text;
	v_field text;
	v_detail text;
	v_start date;
	v_end date;
	v_decided date;
	v_problem jsonb;
BEGIN
	v_problem := api.object_problem(p_entry, 'the identification entry',
	    v_known, v_sealed);
	IF v_problem IS NOT NULL THEN
		RETURN v_problem;
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
	    OR v_decided > (pg_catalog.now()
	        AT TIME ZONE 'Europe/Amsterdam')::date THEN
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
REVOKE ALL ON FUNCTION ident.entry_problem(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ident.entry_problem(jsonb) TO nrm_coordinator,
    nrm_assessor;

/*
 * The jurisdiction profile p_code (NULL: nl) whose rules an entry point
 * applies.  The code comes from nrmd's configuration, never from a
 * client: an unknown one is a bug (22023, no answer).  SECURITY INVOKER:
 * read with the caller's grant on ident.profile.
 */
CREATE OR REPLACE FUNCTION ident.profile_of(p_code text)
RETURNS ident.profile
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v ident.profile;
BEGIN
	SELECT * INTO v FROM ident.profile pr
	WHERE pr.code = COALESCE(p_code, 'nl');
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown profile'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN v;
END
$$;
COMMENT ON FUNCTION ident.profile_of(text) IS
    'The jurisdiction profile p_code (NULL: nl); an unknown code raises '
    '22023 (it comes from nrmd''s configuration).';
REVOKE ALL ON FUNCTION ident.profile_of(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ident.profile_of(text) TO nrm_coordinator,
    nrm_assessor;

/*
 * The answer shape of one identification entry (0006 created it; 0017
 * added the sealed rationale in "sealed" for nrmd, absent for an entry
 * stored before 0017; 0023 the panel that decided it, "panel_id", when
 * one did).  Dates YYYY-MM-DD.
 */
CREATE OR REPLACE FUNCTION ident.entry_json(d ident.decision) RETURNS jsonb
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
	    'profile', d.profile) || CASE WHEN d.data_key_id IS NULL
	    THEN '{}'::jsonb ELSE pg_catalog.jsonb_build_object('sealed',
	    pg_catalog.jsonb_build_object(
	        'data_key', care.data_key_json(d.data_key_id),
	        'fields', COALESCE((SELECT pg_catalog.jsonb_agg(v.f)
	            FROM (VALUES (care.sealed_field('rationale',
	                'ident.decision/rationale', d.id, d.rationale_ct)))
	            v(f) WHERE v.f IS NOT NULL), '[]'::jsonb))) END
	    || pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
	        'panel_id', ident.decision_panel(d.id)))
$$;
COMMENT ON FUNCTION ident.entry_json(ident.decision) IS
    'An identification entry as the api answers it (dates YYYY-MM-DD).';
REVOKE ALL ON FUNCTION ident.entry_json(ident.decision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ident.entry_json(ident.decision)
    TO nrm_coordinator, nrm_assessor;

/*
 * The case an identification act (an entry, a panel and its members'
 * acts) works on, run as the caller: the 404 of api.refuse_case when
 * the caller cannot see it (audited under purpose identification), else
 * NULL once the case's identification lock (transaction advisory lock
 * 6, hash of the case id) is held, which serialises the acts on one
 * case and api.case_merge (api.refuse_merged asks after it).
 */
CREATE OR REPLACE FUNCTION api.ident_case_lock(p_p record, p_case_id uuid)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_s record;
BEGIN
	SELECT * INTO v_s FROM api.case_scope(p_p, p_case_id);
	IF NOT v_s.visible THEN
		RETURN api.refuse_case(p_p, 'identification', p_case_id,
		    v_s.region);
	END IF;
	PERFORM pg_catalog.pg_advisory_xact_lock(6,
	    pg_catalog.hashtext(p_case_id::text));
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.ident_case_lock(record, uuid) IS
    'The audited 404 of an identification act on a case the caller cannot '
    'see, else NULL with the case''s identification lock (6, case) held.';
GRANT EXECUTE ON FUNCTION api.ident_case_lock(record, uuid) TO
    nrm_coordinator, nrm_assessor;

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
 * a transaction advisory lock (6, hash of the case id); a conclusive
 * decision or reconsideration while a panel is at work on the case is a
 * 409 conflict (field stage, failed/panel_active: the panel decides,
 * sql/api/55_panel.sql).  Reads the case
 * and earlier identification entries only.
 */
CREATE OR REPLACE FUNCTION api.ident_record_body(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_case_id uuid, p_entry jsonb,
    p_profile text DEFAULT 'nl') RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_prof record;
	v_problem jsonb;
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
	v_id uuid;
	v_key jsonb := p_entry->'data_key';
	v_key_id uuid;
	v_body jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator', 'assessor'],
	    'identification.create', 'case', p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	v_prof := ident.profile_of(p_profile);

	v_problem := ident.entry_problem(p_entry);
	IF v_problem IS NOT NULL THEN
		RETURN api.refuse_body(v_p, 'identification', 'invalid_entry',
		    v_problem);
	END IF;
	v_stage := p_entry->>'stage';
	v_decided := api.json_date(p_entry->'decided_on');
	v_rs := api.json_date(p_entry->'reflection_start');
	v_re := api.json_date(p_entry->'reflection_end');
	v_cs := api.json_date(p_entry->'recovery_start');
	v_ce := api.json_date(p_entry->'recovery_end');

	-- Who records which stage (docs/separation.md).
	IF v_p.role = 'coordinator' AND v_stage <> 'initial' THEN
		RETURN api.refuse(v_p, 'identification', 'denied',
		    'stage_not_permitted', api.problem(403, 'forbidden',
		    'coordinators record initial indications only; conclusive '
		    'decisions and reconsiderations are the assessment body''s',
		    'stage'));
	END IF;

	-- The case, then one entry per case at a time: the rules below
	-- read the others.
	v_body := api.ident_case_lock(v_p, p_case_id);
	IF v_body IS NOT NULL THEN
		RETURN v_body;
	END IF;
	-- A merged case's identification goes on in its target.
	v_body := api.refuse_merged(v_p, 'identification', p_case_id);
	IF v_body IS NOT NULL THEN
		RETURN v_body;
	END IF;

	-- A panel at work decides its case (0023, api.panel_vote): no
	-- single conclusive decision or reconsideration beside it.
	-- (Nested: a coordinator, who reads no panel, never gets here.)
	IF v_stage <> 'initial' THEN
		IF EXISTS (SELECT 1 FROM ident.panel pn
		    WHERE pn.case_id = p_case_id
		      AND pn.status IN ('open', 'second_review')) THEN
			RETURN api.refuse(v_p, 'identification', 'failed',
			    'panel_active', api.problem(409, 'conflict',
			    'a panel is at work on this case: the panel '
			    'decides', 'stage'));
		END IF;
	END IF;

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
		v_problem := api.problem(422, 'validation', v_detail, v_field);
		RETURN api.refuse(v_p, 'identification', 'failed', v_rule,
		    pg_catalog.jsonb_set(v_problem, '{problem}',
		        (v_problem->'problem') || pg_catalog.jsonb_strip_nulls(
		            pg_catalog.jsonb_build_object('rule', v_rule,
		                'profile', v_prof.code,
		                'earliest', v_earliest))));
	END IF;

	-- nrmd names the entry (the associated data of its sealed
	-- rationale binds it to this id) and sends the rationale's data
	-- key, wrapped (docs/data-protection.md); the key belongs to the
	-- case's signal.
	v_id := COALESCE((p_entry->>'id')::uuid, pg_catalog.gen_random_uuid());
	v_key_id := care.case_data_key(p_case_id, v_key);
	INSERT INTO ident.decision (id, case_id, stage, outcome,
	    deciding_body, rationale, decided_on, reflection_start,
	    reflection_end, recovery_start, recovery_end, recorded_by,
	    profile, data_key_id, rationale_ct)
	VALUES (v_id, p_case_id, v_stage, p_entry->>'outcome',
	    p_entry->>'deciding_body', p_entry->>'rationale', v_decided,
	    v_rs, v_re, v_cs, v_ce, v_p.key_id, v_prof.code, v_key_id,
	    pg_catalog.decode(p_entry->>'rationale_ct', 'base64'));

	SELECT ident.entry_json(d) INTO v_body FROM ident.decision d
	WHERE d.id = v_id;
	RETURN api.answer(v_p, 'identification',
	    pg_catalog.jsonb_build_object('status', 201, 'body', v_body,
	        'location',
	        '/v1/cases/' || p_case_id::text || '/identification'));
END
$$;
COMMENT ON FUNCTION api.ident_record_body(bytea, text, inet, uuid, jsonb,
    text) IS 'POST /v1/cases/{id}/identification: coordinators of the case''s '
    'region record initial indications, assessors every stage, under the '
    'profile p_profile''s rules; audited identification.create.';
GRANT EXECUTE ON FUNCTION api.ident_record_body(bytea, text, inet, uuid,
    jsonb, text) TO nrm_coordinator, nrm_assessor;

/*
 * GET /v1/cases/{id}/identification as 0006 left it, plus the purpose
 * and reason of the read (api.read_purpose: NRM-Purpose, default
 * identification for every role,
    400 audited failed/bad_request).  No break-glass here: the
 * policy covers case.read only, so an emergency read of an
 * out-of-scope case's identification is the usual 404; an emergency
 * read in scope is flagged for review like any other.
 */
CREATE OR REPLACE FUNCTION api.ident_list_body(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_case_id uuid, p_profile text DEFAULT 'nl',
    p_purpose text DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_rp record;
	v_prof record;
	v_c record;
	v_items jsonb;
	v_first date;
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator', 'assessor'],
	    'identification.read', 'case', p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	SELECT * INTO v_rp FROM api.read_purpose(v_p.role, p_purpose,
	    p_reason, 'identification');
	IF v_rp.problem IS NOT NULL THEN
		RETURN api.refuse(v_p, NULL, 'failed', 'bad_request',
		    v_rp.problem);
	END IF;

	v_prof := ident.profile_of(p_profile);

	SELECT * INTO v_c FROM api.case_scope(v_p, p_case_id);
	IF NOT v_c.visible THEN
		RETURN api.refuse_case(v_p, v_rp.purpose, p_case_id,
		    v_c.region);
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
	RETURN api.leave(v_p, v_resp);
END
$$;
COMMENT ON FUNCTION api.ident_list_body(bytea, text, inet, uuid, text, text,
    text) IS
    'GET /v1/cases/{id}/identification: the identification history, '
    'newest first, with the profile''s dates for the case; coordinators '
    'of its region and assessors; audited identification.read with a '
    'purpose (api.read_purpose).';
GRANT EXECUTE ON FUNCTION api.ident_list_body(bytea, text, inet, uuid, text,
    text, text) TO nrm_coordinator, nrm_assessor;

/*
 * GET /v1/identifications (assessor): the queue of cases awaiting an
 * identification decision, with the profile p_profile's clocks.  A case
 * awaits one while it is not closed and has no conclusive decision:
 * "initial" when it has no initial entry yet, else "conclusive".
 * p_awaiting initial, conclusive or any (NULL = any).  Keyset pages in
 * (created_at, id) order, oldest first (so earliest initial_due_on
 * first): p_after is the case id of the last item of the previous page
 * (next_cursor); a cursor naming no case is a 400 field cursor.  Order
 * of checks: 401/403; awaiting, limit (1..200), cursor (400 bad_request
 * naming the parameter, audited failed/bad_request); then 200.  An item
 * holds no personal data: no subject data, no outcome or rationale of
 * an entry (those are read, audited per case, through GET /v1/cases/
 * {id}/identification).  One audit event per call, like the inbox:
 * identification.queue, object type identification, purpose
 * identification.
 */
CREATE OR REPLACE FUNCTION api.ident_queue(p_token_hash bytea,
    p_request_id text, p_client inet, p_awaiting text DEFAULT NULL,
    p_after uuid DEFAULT NULL, p_limit integer DEFAULT 50,
    p_profile text DEFAULT 'nl')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_prof record;
	v_awaiting text := COALESCE(p_awaiting, 'any');
	v_limit integer := COALESCE(p_limit, 50);
	v_today date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
	v_at timestamptz;
	v_field text;
	v_detail text;
	v_page record;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['assessor'], 'identification.queue',
	    'identification', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	v_prof := ident.profile_of(p_profile);

	IF v_awaiting NOT IN ('initial', 'conclusive', 'any') THEN
		v_field := 'awaiting';
		v_detail := 'awaiting must be initial, conclusive or any';
	ELSIF v_limit NOT BETWEEN 1 AND 200 THEN
		v_field := 'limit';
		v_detail := 'limit must be 1 to 200';
	ELSIF p_after IS NOT NULL THEN
		SELECT c.created_at INTO v_at FROM care.case c
		WHERE c.id = p_after;
		IF NOT FOUND THEN
			v_field := 'cursor';
			v_detail := 'the cursor is not valid';
		END IF;
	END IF;
	IF v_field IS NOT NULL THEN
		RETURN api.refuse(v_p, 'identification', 'failed',
		    'bad_request', api.problem(400, 'bad_request', v_detail,
		        v_field));
	END IF;

	SELECT COALESCE(pg_catalog.jsonb_agg(q.item ORDER BY q.created_at,
	        q.id), '[]'::jsonb) AS items,
	    pg_catalog.count(*) AS n,
	    (pg_catalog.array_agg(q.id ORDER BY q.created_at DESC,
	        q.id DESC))[1] AS last_id
	INTO v_page
	FROM (SELECT c.id, c.created_at,
	        pg_catalog.jsonb_build_object(
	            'case_id', c.id,
	            'region', c.region_code,
	            'priority', c.priority,
	            'state', c.state,
	            'created_at', api.rfc3339(c.created_at),
	            'awaiting', CASE WHEN d.first_initial IS NULL
	                THEN 'initial' ELSE 'conclusive' END,
	            'initial_decided_on', d.first_initial,
	            'initial_due_on', due.on_date,
	            'initial_overdue', d.first_initial IS NULL
	                AND due.on_date < v_today,
	            'conclusive_earliest_on', d.first_initial
	                + v_prof.min_days_initial_to_conclusive) AS item
	    FROM care.case c
	    CROSS JOIN LATERAL (SELECT pg_catalog.min(x.decided_on)
	            FILTER (WHERE x.stage = 'initial') AS first_initial,
	        pg_catalog.bool_or(x.stage = 'conclusive') AS concluded
	        FROM ident.decision x WHERE x.case_id = c.id) d
	    CROSS JOIN LATERAL (SELECT ident.add_working_days(
	        (c.created_at AT TIME ZONE 'UTC')::date,
	        v_prof.initial_target_working_days) AS on_date) due
	    -- a merged case left every inbox, this one too (0026)
	    WHERE c.state NOT IN ('closed', 'merged')
	      AND d.concluded IS NOT TRUE
	      AND (v_awaiting = 'any'
	          OR (v_awaiting = 'initial') = (d.first_initial IS NULL))
	      AND (v_at IS NULL OR (c.created_at, c.id) > (v_at, p_after))
	    ORDER BY c.created_at, c.id
	    LIMIT v_limit) q;

	RETURN api.answer(v_p, 'identification',
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	        pg_catalog.jsonb_build_object('items', v_page.items,
	            'next_cursor', CASE WHEN v_page.n = v_limit
	                THEN v_page.last_id END,
	            'rules', pg_catalog.jsonb_build_object(
	                'profile', v_prof.code,
	                'initial_target_working_days',
	                    v_prof.initial_target_working_days,
	                'min_days_initial_to_conclusive',
	                    v_prof.min_days_initial_to_conclusive))));
END
$$;
COMMENT ON FUNCTION api.ident_queue(bytea, text, inet, text, uuid, integer,
    text) IS
    'GET /v1/identifications: the assessor''s queue of open or taken '
    'cases without a conclusive decision, keyset-paged oldest first, '
    'with the profile''s initial due date and earliest conclusive date; '
    'no personal data; one audit event (identification.queue) per call.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
