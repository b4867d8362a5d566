-- 0011_decision_date_amsterdam.sql - an identification decision may be
-- dated today in Europe/Amsterdam, where the mechanism's legal dates
-- are kept (the console's date field, the profile's clocks).  0006
-- compared decided_on with now()::date in the session's time zone
-- (UTC for nrmd), so between midnight in Amsterdam and midnight UTC a
-- decision dated "today" was refused as lying in the future.  The
-- function stands whole below with that one comparison changed
-- (CREATE OR REPLACE keeps its owner and grants).

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
	v_period text;
	v_sk text;
	v_ek text;
	v_field text;
	v_detail text;
	v_start date;
	v_end date;
	v_decided date;
BEGIN
	IF p_entry IS NULL OR pg_catalog.jsonb_typeof(p_entry) <> 'object' THEN
		RETURN pg_catalog.jsonb_build_object('status', 400,
		    'code', 'bad_request',
		    'detail', 'the identification entry must be a JSON object');
	END IF;
	IF EXISTS (SELECT 1 FROM pg_catalog.jsonb_object_keys(p_entry) k
	    WHERE NOT k = ANY (v_known)) THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'detail', 'unknown field; known: '
		    || pg_catalog.array_to_string(v_known, ', '));
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
