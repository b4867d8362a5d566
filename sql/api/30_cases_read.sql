-- 30_cases_read.sql - api functions: GET /v1/cases/{id} (care.case_json,
-- the case as read; api.case_get_body, the audited read with a purpose
-- and break glass).  Split from 30_cases.sql (released migrations' comments
-- that name 30_cases.sql mean 30_cases*.sql).  A repeatable file
-- (docs/sql-api.md, "Migrations").
--
-- Applied by `nrmctl migrate` after the numbered migrations, in the same
-- transaction, every file of sql/api/ in name order, and recorded with
-- its SHA-256 in nrm.schema_repeatable.  Each function stands here once,
-- as CREATE OR REPLACE, with its comment and grants; change it here.  A
-- new signature, a dropped function or anything a table, view, policy
-- or trigger needs at creation time belongs in a numbered migration.

/*
 * The JSON of GET /v1/cases/{id}: the case (its inbox item and more), the
 * signal, the subject, the history (newest first) and the version, read
 * with the caller's privileges and row-level security; the sealed
 * values in "sealed" ({"data_key", "fields": [{path, aad, value}]}) for
 * nrmd to open, absent for a case stored before 0017 (its plaintext
 * columns answer).  0007 created it, 0017 added "sealed"; its body
 * stands here since issue 16: one statement (PL/pgSQL, so that its plan
 * is cached on the connection: a LANGUAGE sql function with a SET
 * clause is planned again at every call), every timestamp written
 * with to_char inline (as care.case_item's, 0028) and the sealed fields
 * and data key built in the statement, no function call per history
 * entry or sealed value (api.rfc3339, care.sealed_field,
 * care.data_key_json and care.b64 have a SET clause and are never
 * inlined).  The text is the same (tests/db/51_case_get.sql).
 * SECURITY INVOKER: it reads under the caller's privileges and
 * row-level security (NULL for a case the caller cannot see); the
 * caller audits.  PL/pgSQL, not a SQL function, also because a SQL
 * function called from a PL/pgSQL expression keeps its plan for the
 * rest of the transaction, row-level security quals included, so a
 * second call under another role (as tests/db/80_break_glass.sql makes:
 * a coordinator, then an assessor) would read with the first role's
 * policies; PL/pgSQL's plan cache re-plans when the role changes.
 */
CREATE OR REPLACE FUNCTION care.case_json(p_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v jsonb;
BEGIN
	SELECT pg_catalog.jsonb_build_object(
	    'case', i.item || pg_catalog.jsonb_build_object(
	        'signal_id', c.signal_id,
	        'rule_id', c.rule_id,
	        'ruleset_version', c.ruleset_version,
	        'explanation', c.explanation,
	        'escalated_at', pg_catalog.to_char(c.escalated_at
	            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	        'updated_at', pg_catalog.to_char(c.updated_at
	            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
	    'signal', pg_catalog.jsonb_build_object(
	        'signal_id', s.id,
	        'received_at', pg_catalog.to_char(s.received_at
	            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	        'observed_at', pg_catalog.to_char(s.observed_at
	            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	        'reporter', pg_catalog.jsonb_build_object('agency', ra.name,
	            'kind', ra.kind),
	        'reporter_reference', s.reporter_reference,
	        'municipality_code', s.municipality_code,
	        'routed_region', s.region_code,
	        'minor', s.minor,
	        'age_estimate', s.age_estimate,
	        'gender', s.gender,
	        'nationality', s.nationality,
	        'languages', pg_catalog.to_jsonb(s.languages),
	        'exploitation', pg_catalog.to_jsonb(s.exploitation),
	        'control_means', pg_catalog.to_jsonb(s.control_means),
	        'immediate_danger', s.immediate_danger,
	        'needs_shelter', s.needs_shelter,
	        'consent', s.consent),
	    'subject', pg_catalog.jsonb_build_object(
	        'given_name', sub.given_name,
	        'family_name', sub.family_name,
	        'birth_date', sub.birth_date,
	        'phone', sub.phone,
	        'address', sub.address,
	        'narrative', sub.narrative),
	    'history', COALESCE((SELECT pg_catalog.jsonb_agg(
	        pg_catalog.jsonb_build_object('at', pg_catalog.to_char(h.at
	            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	            'action', h.action, 'by', h.api_key_id,
	            'detail', h.detail) ORDER BY h.id DESC)
	        FROM care.case_history h WHERE h.case_id = c.id),
	        '[]'::jsonb),
	    'version', c.version)
	    || CASE WHEN s.data_key_id IS NOT NULL THEN
	    pg_catalog.jsonb_build_object('sealed',
	        pg_catalog.jsonb_build_object(
	        'data_key', CASE WHEN k.id IS NOT NULL THEN
	            pg_catalog.jsonb_build_object('id', k.id,
	                'kek_id', k.kek_id,
	                'wrapped', pg_catalog.translate(pg_catalog.encode(
	                    k.wrapped, 'base64'), E'\n', '')) END,
	        'fields', COALESCE((SELECT pg_catalog.jsonb_agg(
	            pg_catalog.jsonb_build_object('path', f.path,
	                'aad', f.col || '/' || s.id::text,
	                'value', pg_catalog.translate(pg_catalog.encode(
	                    f.ct, 'base64'), E'\n', '')) ORDER BY f.n)
	            FROM (VALUES
	            (1, 'signal.reporter_reference',
	                'intake.signal/reporter_reference',
	                s.reporter_reference_ct),
	            (2, 'subject.given_name', 'care.subject/given_name',
	                sub.given_name_ct),
	            (3, 'subject.family_name', 'care.subject/family_name',
	                sub.family_name_ct),
	            (4, 'subject.birth_date', 'care.subject/birth_date',
	                sub.birth_date_ct),
	            (5, 'subject.phone', 'care.subject/phone', sub.phone_ct),
	            (6, 'subject.address', 'care.subject/address',
	                sub.address_ct),
	            (7, 'subject.narrative', 'care.subject/narrative',
	                sub.narrative_ct)) f(n, path, col, ct)
	            WHERE f.ct IS NOT NULL), '[]'::jsonb)))
	    ELSE '{}'::jsonb END
	INTO v
	FROM care.case c
	JOIN care.case_item i ON i.id = c.id
	JOIN intake.signal s ON s.id = c.signal_id
	JOIN auth.agency ra ON ra.id = s.agency_id
	LEFT JOIN care.subject sub ON sub.signal_id = c.signal_id
	LEFT JOIN care.data_key k ON k.id = s.data_key_id
	WHERE c.id = p_id;
	RETURN v;
END
$$;
COMMENT ON FUNCTION care.case_json(uuid) IS
    'The JSON of GET /v1/cases/{id} (PERSONAL DATA, the sealed values in '
    '"sealed" for nrmd to open), read with the caller''s privileges and '
    'row-level security; not audited itself.';
REVOKE ALL ON FUNCTION care.case_json(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.case_json(uuid) TO nrm_coordinator,
    nrm_assessor, nrm_privacy;

/*
 * GET /v1/cases/{id} as 0006 left it, plus: p_reason (NRM-Reason);
 * purpose and reason checked by api.read_purpose (400, audited failed/
 * bad_request); a case outside the caller's scope is read only with
 * purpose emergency, where audit.break_glass_policy allows the role
 * case.read, and when it exists (else the same 404 as ever, audited
 * denied/out_of_scope or not_found).  An emergency read answers the
 * usual body plus "break_glass": {"reason", "beyond_scope",
 * "review": "pending"} and is audited through audit.event_flagged.  An
 * emergency read beyond the caller's limit (audit.break_glass_within,
 * 0015: per person, else per key, in 24 hours) is refused 403
 * break_glass_limit, written denied and flagged for review.
 */
CREATE OR REPLACE FUNCTION api.case_get_body(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_case_id uuid, p_purpose text DEFAULT NULL,
    p_reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_rp record;
	v_s record;
	v_lim record;
	v_beyond boolean := false;
	v_body jsonb;
	v_erased jsonb;
	v_merged jsonb;
	v_merged_from jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator', 'assessor'], 'case.read', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	SELECT * INTO v_rp FROM api.read_purpose(v_p.role, p_purpose,
	    p_reason);
	IF v_rp.problem IS NOT NULL THEN
		RETURN api.refuse(v_p, NULL, 'failed', 'bad_request',
		    v_rp.problem);
	END IF;

	IF v_rp.purpose = 'emergency' THEN
		SELECT * INTO v_lim FROM audit.break_glass_within(v_p.key_id,
		    v_p.person_id);
		IF NOT v_lim.within THEN
			PERFORM audit.event_flagged_denied(v_p.person_id,
			    v_p.key_id, v_p.agency_id, v_p.role, 'case.read',
			    'case', p_case_id::text, p_request_id, p_client);
			RETURN api.leave(v_p, pg_catalog.jsonb_set(
			    api.problem(403, 'forbidden', pg_catalog.format(
			        'at most %s emergency reads in 24 hours '
			        '(break_glass_limit): this one is refused and '
			        'flagged for review', v_lim.limit), 'purpose'),
			    '{problem,break_glass_limit}',
			    pg_catalog.to_jsonb(v_lim.limit)));
		END IF;
	END IF;

	SELECT * INTO v_s FROM api.case_scope(v_p, p_case_id);
	IF NOT v_s.visible AND v_p.role = 'coordinator' AND EXISTS (SELECT 1
	    FROM care.case x WHERE x.id = p_case_id
	      AND x.transfer_to = ANY (v_p.regions)) THEN
		-- a transfer to the caller's region is pending: its
		-- coordinators read the case to answer it
		PERFORM pg_catalog.set_config('nrm.case_id', p_case_id::text,
		    true);
		v_s.visible := true;
	END IF;
	IF NOT v_s.visible THEN
		IF v_rp.purpose = 'emergency'
		    AND audit.break_glass_allowed(v_p.role, 'case.read')
		    AND care.case_exists(p_case_id) THEN
			-- Break glass: this transaction may read this one
			-- case (row-level security, nrm.case_id).
			PERFORM pg_catalog.set_config('nrm.case_id',
			    p_case_id::text, true);
			v_beyond := true;
		ELSE
			RETURN api.refuse_case(v_p, v_rp.purpose, p_case_id,
			    v_s.region);
		END IF;
	END IF;

	-- The body's parts in one statement: the case (care.case_json); an
	-- erased case says so: "erased": {at, ground} (82_privacy.sql); a
	-- merged case names its target ("merged"), a target lists the cases
	-- merged into it that the caller sees ("merged_from"), both only
	-- when there is something to say (0026).  held_by_me: whether the
	-- caller (its key; a person's own key) holds the case, so a screen
	-- offers only the actions that fit.
	SELECT care.case_json(p_case_id), care.erasure_json(p_case_id),
	    care.merge_json(p_case_id), care.merged_from_json(p_case_id)
	INTO v_body, v_erased, v_merged, v_merged_from;
	v_body := pg_catalog.jsonb_set(v_body, '{case}', (v_body->'case')
	    || pg_catalog.jsonb_build_object('held_by_me', COALESCE(
	        v_body->'case'->>'holder' = v_p.key_id::text, false))
	    || CASE WHEN v_merged IS NOT NULL THEN
	        pg_catalog.jsonb_build_object('merged', v_merged)
	        ELSE '{}'::jsonb END
	    || CASE WHEN v_merged_from IS NOT NULL THEN
	        pg_catalog.jsonb_build_object('merged_from', v_merged_from)
	        ELSE '{}'::jsonb END) || v_erased;

	PERFORM api.audit_read(v_p.key_id, v_p.agency_id, v_p.role,
	    'case.read', 'case', p_case_id::text, v_rp.purpose, v_rp.reason,
	    p_request_id, p_client);
	IF v_rp.purpose = 'emergency' THEN
		v_body := v_body || pg_catalog.jsonb_build_object('break_glass',
		    pg_catalog.jsonb_build_object('reason', v_rp.reason,
		        'beyond_scope', v_beyond, 'review', 'pending'));
	END IF;
	RETURN api.leave(v_p,
	    pg_catalog.jsonb_build_object('status', 200, 'body', v_body));
END
$$;
COMMENT ON FUNCTION api.case_get_body(bytea, text, inet, uuid, text, text) IS
    'GET /v1/cases/{id}: the full case with the subject''s PERSONAL DATA '
    'and its history, for coordinators of its region and assessors; an '
    'audited read (case.read) with a purpose (api.read_purpose); an '
    'emergency read may go beyond the caller''s regions where '
    'audit.break_glass_policy allows, and is flagged for review; 404 '
    'for unknown and out-of-scope alike otherwise.';
GRANT EXECUTE ON FUNCTION api.case_get_body(bytea, text, inet, uuid, text,
    text) TO nrm_coordinator, nrm_assessor;
