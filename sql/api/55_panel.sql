-- 55_panel.sql - api functions: identification by a panel or by a single
-- decision-maker with a second reviewer (issue 19, sql/0023_panel.sql,
-- docs/separation.md "Who decides").  A repeatable file
-- (docs/sql-api.md, "Migrations").
--
-- Nothing in this file reads, requires or waits for the investigation
-- track (schema invest): the assessor's role holds no privilege there,
-- so a query that tried would fail.

-- The codes of the panel (repeated in the table constraints of 0023).
CREATE OR REPLACE FUNCTION ident.panel_codes(p_kind text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE p_kind
	WHEN 'discipline' THEN ARRAY['care', 'law', 'medicine', 'police',
	    'prosecution', 'academia', 'lived_experience', 'other']
	WHEN 'recusal' THEN ARRAY['conflict_of_interest',
	    'prior_involvement', 'other']
	WHEN 'reason' THEN ARRAY['indicators_met', 'credible_account',
	    'indicators_not_met', 'insufficient_information', 'not_credible',
	    'other']
	END
$$;
COMMENT ON FUNCTION ident.panel_codes(text) IS
    'The codes of a panel field: discipline, recusal or (vote) reason.';
REVOKE ALL ON FUNCTION ident.panel_codes(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ident.panel_codes(text) TO nrm_assessor;

/*
 * A panel as p_viewer (a person id, NULL for an API key) may see it:
 * rules, chair, second reviewer, clocks, members with their recusals,
 * and the votes when visible: once decided, when the panel does not
 * vote blind, or to a member who has cast their own vote (and to the
 * second reviewer, who reviews the decision-maker's negative).  Hidden
 * votes are counted only ("votes_cast").  A visible vote's rationale
 * comes sealed ("sealed" in the vote) for nrmd to open.  The decision
 * names the voters, the outcome and the dissent (the votes against
 * it).
 */
CREATE OR REPLACE FUNCTION ident.panel_json(p_id uuid, p_viewer uuid)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_pn ident.panel;
	v_today date := (pg_catalog.now() AT TIME ZONE 'Europe/Amsterdam')::date;
	v_visible boolean;
	v_members jsonb;
	v_votes jsonb;
	v_decision jsonb;
	v_n integer;
BEGIN
	SELECT * INTO v_pn FROM ident.panel p WHERE p.id = p_id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	v_visible := v_pn.status = 'decided' OR NOT v_pn.blind
	    OR EXISTS (SELECT 1 FROM ident.panel_vote v
	        WHERE v.panel_id = p_id AND v.person_id = p_viewer)
	    OR (v_pn.status = 'second_review'
	        AND v_pn.second_reviewer_person_id = p_viewer);

	SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
	        'person_id', m.person_id, 'display_name', pe.display_name,
	        'discipline', m.discipline,
	        'recused', m.recused_at IS NOT NULL,
	        'recusal_reason', m.recusal_reason,
	        'recused_at', api.rfc3339(m.recused_at),
	        'voted', EXISTS (SELECT 1 FROM ident.panel_vote v
	            WHERE v.panel_id = p_id AND v.person_id = m.person_id
	              AND v.kind = 'member'),
	        'chair', m.person_id = v_pn.chair_person_id)
	        ORDER BY pe.display_name, m.person_id), '[]'::jsonb)
	INTO v_members
	FROM ident.panel_member m
	JOIN auth.person pe ON pe.id = m.person_id
	WHERE m.panel_id = p_id;

	SELECT pg_catalog.count(*)::integer,
	    COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
	        'id', v.id, 'person_id', v.person_id,
	        'display_name', pe.display_name, 'kind', v.kind,
	        'outcome', v.outcome, 'reason', v.reason,
	        'rationale', NULL,
	        'cast_at', api.rfc3339(v.cast_at),
	        'dissent', v_pn.outcome IS NOT NULL
	            AND v.outcome <> v_pn.outcome)
	        || CASE WHEN v.data_key_id IS NULL THEN '{}'::jsonb
	        ELSE pg_catalog.jsonb_build_object('sealed',
	            pg_catalog.jsonb_build_object(
	            'data_key', care.data_key_json(v.data_key_id),
	            'fields', COALESCE((SELECT pg_catalog.jsonb_agg(s.f)
	                FROM (VALUES (care.sealed_field('rationale',
	                    'ident.panel_vote/rationale', v.id,
	                    v.rationale_ct))) s(f)
	                WHERE s.f IS NOT NULL), '[]'::jsonb))) END
	        ORDER BY v.cast_at, v.id), '[]'::jsonb)
	INTO v_n, v_votes
	FROM ident.panel_vote v
	JOIN auth.person pe ON pe.id = v.person_id
	WHERE v.panel_id = p_id;

	IF v_pn.status = 'decided' THEN
		SELECT pg_catalog.jsonb_build_object(
		    'decision_id', d.id, 'stage', d.stage,
		    'outcome', v_pn.outcome, 'decided_on', d.decided_on,
		    'decided_at', api.rfc3339(v_pn.decided_at),
		    'panel_id', v_pn.id, 'rule', v_pn.rule,
		    'voters', (SELECT COALESCE(pg_catalog.jsonb_agg(
		        v.person_id ORDER BY v.cast_at, v.id), '[]'::jsonb)
		        FROM ident.panel_vote v WHERE v.panel_id = p_id),
		    'dissent', (SELECT COALESCE(pg_catalog.jsonb_agg(
		        pg_catalog.jsonb_build_object('person_id', v.person_id,
		            'display_name', pe.display_name, 'kind', v.kind,
		            'outcome', v.outcome, 'reason', v.reason)
		        ORDER BY v.cast_at, v.id), '[]'::jsonb)
		        FROM ident.panel_vote v
		        JOIN auth.person pe ON pe.id = v.person_id
		        WHERE v.panel_id = p_id AND v.outcome <> v_pn.outcome),
		    'unanimous', NOT EXISTS (SELECT 1 FROM ident.panel_vote v
		        WHERE v.panel_id = p_id AND v.outcome <> v_pn.outcome))
		INTO v_decision
		FROM ident.decision d WHERE d.id = v_pn.decision_id;
	END IF;

	RETURN pg_catalog.jsonb_build_object(
	    'id', v_pn.id, 'case_id', v_pn.case_id, 'round', v_pn.round,
	    'reconsideration', v_pn.round > 1,
	    'profile', v_pn.profile, 'model', v_pn.model, 'rule', v_pn.rule,
	    'quorum', pg_catalog.jsonb_build_object('members', v_pn.quorum,
	        'disciplines', pg_catalog.to_jsonb(v_pn.disciplines)),
	    'blind', v_pn.blind, 'second_review', v_pn.second_review,
	    'chair', v_pn.chair_person_id,
	    'second_reviewer', v_pn.second_reviewer_person_id,
	    'assigned_at', api.rfc3339(v_pn.assigned_at),
	    'due_on', v_pn.due_on,
	    'overdue', v_pn.status <> 'decided' AND v_pn.due_on < v_today,
	    'escalated_to_chair', v_pn.status <> 'decided'
	        AND (v_pn.due_on < v_today OR v_pn.status = 'stalled'),
	    'status', v_pn.status, 'stalled_reason', v_pn.stalled_reason,
	    'members', v_members,
	    'votes_cast', v_n,
	    'votes_visible', v_visible,
	    'votes', CASE WHEN v_visible THEN v_votes END,
	    'decision', v_decision);
END
$$;
COMMENT ON FUNCTION ident.panel_json(uuid, uuid) IS
    'A panel as the person p_viewer (NULL: an API key) may see it: '
    'votes only once decided, not blind, or after the viewer''s own '
    'vote (sealed rationales for nrmd to open).';
REVOKE ALL ON FUNCTION ident.panel_json(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ident.panel_json(uuid, uuid) TO nrm_assessor;

/*
 * Decide what the votes of panel p_id allow, after a vote or a
 * recusal, as the acting key p_key.  While a member still on the panel
 * has not voted: nothing.  Then: the quorum (as many voters as the
 * quorum, and the required disciplines among them) or the panel stalls
 * 'inquorate'; the rule: majority (more votes one way; a tie stalls
 * 'tie'), chair_casting (majority; a tie goes the chair's way, or
 * stalls 'tie' when the chair did not vote), unanimity (every vote one
 * way, else stalls 'split'), single (the one vote).  A negative outcome
 * of a panel with second_review waits for the second reviewer
 * ('second_review'), whose vote then decides (confirming or
 * overturning).  The decision is a new ident.decision entry (stage
 * conclusive, or reconsideration when the case had a conclusive
 * decision before; deciding body assessment_body; no rationale: the
 * members' are theirs), linked from the panel.  A stalled panel is
 * escalated to its chair (GET /v1/panels/pending) and ends with a new
 * referral.
 */
CREATE OR REPLACE FUNCTION ident.panel_settle(p_id uuid, p_key uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_pn ident.panel;
	v_pending integer;
	v_n integer;
	v_pos integer;
	v_neg integer;
	v_disc text[];
	v_chair text;
	v_outcome text;
	v_stall text;
	v_stage text;
	v_dec uuid := pg_catalog.gen_random_uuid();
BEGIN
	SELECT * INTO v_pn FROM ident.panel p WHERE p.id = p_id FOR UPDATE;
	IF v_pn.status = 'second_review' THEN
		SELECT v.outcome INTO v_outcome FROM ident.panel_vote v
		WHERE v.panel_id = p_id AND v.kind = 'second_review';
		IF v_outcome IS NULL THEN
			RETURN;
		END IF;
	ELSIF v_pn.status = 'open' THEN
		SELECT pg_catalog.count(*) FILTER (WHERE v.id IS NULL
		        AND m.recused_at IS NULL),
		    pg_catalog.count(v.id),
		    pg_catalog.count(v.id) FILTER (WHERE v.outcome = 'positive'),
		    pg_catalog.count(v.id) FILTER (WHERE v.outcome = 'negative'),
		    pg_catalog.array_agg(DISTINCT m.discipline)
		        FILTER (WHERE v.id IS NOT NULL),
		    pg_catalog.max(v.outcome)
		        FILTER (WHERE m.person_id = v_pn.chair_person_id)
		INTO v_pending, v_n, v_pos, v_neg, v_disc, v_chair
		FROM ident.panel_member m
		LEFT JOIN ident.panel_vote v ON v.panel_id = m.panel_id
		    AND v.person_id = m.person_id AND v.kind = 'member'
		WHERE m.panel_id = p_id;
		IF v_pending > 0 THEN
			RETURN;
		END IF;
		IF v_n < v_pn.quorum
		    OR NOT v_pn.disciplines <@ COALESCE(v_disc, '{}') THEN
			v_stall := 'inquorate';
		ELSIF v_pn.rule = 'unanimity' THEN
			v_outcome := CASE WHEN v_pos = v_n THEN 'positive'
			    WHEN v_neg = v_n THEN 'negative' END;
			v_stall := CASE WHEN v_outcome IS NULL THEN 'split' END;
		ELSE
			v_outcome := CASE WHEN v_pos > v_neg THEN 'positive'
			    WHEN v_neg > v_pos THEN 'negative'
			    WHEN v_pn.rule = 'chair_casting' THEN v_chair END;
			v_stall := CASE WHEN v_outcome IS NULL THEN 'tie' END;
		END IF;
		IF v_stall IS NOT NULL THEN
			UPDATE ident.panel SET status = 'stalled',
			    stalled_reason = v_stall
			WHERE id = p_id;
			RETURN;
		END IF;
		IF v_outcome = 'negative' AND v_pn.second_review THEN
			UPDATE ident.panel SET status = 'second_review'
			WHERE id = p_id;
			RETURN;
		END IF;
	ELSE
		RETURN;
	END IF;

	v_stage := CASE WHEN EXISTS (SELECT 1 FROM ident.decision d
	    WHERE d.case_id = v_pn.case_id
	      AND d.stage IN ('conclusive', 'reconsideration'))
	    THEN 'reconsideration' ELSE 'conclusive' END;
	INSERT INTO ident.decision (id, case_id, stage, outcome,
	    deciding_body, rationale, decided_on, recorded_by, profile)
	VALUES (v_dec, v_pn.case_id, v_stage, v_outcome, 'assessment_body',
	    NULL, (pg_catalog.now() AT TIME ZONE 'Europe/Amsterdam')::date,
	    p_key, v_pn.profile);
	UPDATE ident.panel SET status = 'decided', outcome = v_outcome,
	    decision_id = v_dec, decided_at = pg_catalog.now()
	WHERE id = p_id;
END
$$;
COMMENT ON FUNCTION ident.panel_settle(uuid, uuid) IS
    'After a vote or recusal: the decision when every remaining member '
    'voted and quorum and rule are met (or the second reviewer voted), '
    'else second_review, stalled (inquorate, tie, split) or nothing yet.';
REVOKE ALL ON FUNCTION ident.panel_settle(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ident.panel_settle(uuid, uuid) TO nrm_assessor;

/*
 * Check the body of POST /v1/cases/{id}/panel: NULL when fine, else
 * {"status", "code", "field", "detail"}.  {"members": [person id, or
 * {"person_id", "discipline"}], "chair": person id, "second_reviewer":
 * person id or null}; a bare id is discipline "other".  1 to 15
 * members, no one twice.
 */
CREATE OR REPLACE FUNCTION ident.panel_body_problem(p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_m jsonb;
	v_id text;
	v_uuid constant text :=
	    '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
	v_seen text[] := '{}';
	v_problem jsonb;
BEGIN
	v_problem := api.object_problem(p_body, 'the body',
	    ARRAY['members', 'chair', 'second_reviewer'], '{}');
	IF v_problem IS NOT NULL THEN
		RETURN v_problem;
	END IF;
	IF pg_catalog.jsonb_typeof(p_body->'members') IS DISTINCT FROM 'array'
	    OR pg_catalog.jsonb_array_length(p_body->'members')
	        NOT BETWEEN 1 AND 15 THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'members',
		    'detail', 'members must be a list of 1 to 15 persons');
	END IF;
	FOR v_m IN SELECT e FROM pg_catalog.jsonb_array_elements(
	    p_body->'members') e LOOP
		IF pg_catalog.jsonb_typeof(v_m) = 'object' THEN
			v_id := v_m->>'person_id';
			IF EXISTS (SELECT 1 FROM pg_catalog.jsonb_object_keys(v_m)
			    k WHERE k NOT IN ('person_id', 'discipline'))
			    OR pg_catalog.jsonb_typeof(v_m->'discipline')
			        IS DISTINCT FROM 'string'
			    OR NOT (v_m->>'discipline')
			        = ANY (ident.panel_codes('discipline')) THEN
				RETURN pg_catalog.jsonb_build_object(
				    'status', 422, 'code', 'validation',
				    'field', 'members', 'detail', 'a member is '
				    '{"person_id", "discipline"}, discipline '
				    'one of: ' || pg_catalog.array_to_string(
				        ident.panel_codes('discipline'), ', '));
			END IF;
		ELSIF pg_catalog.jsonb_typeof(v_m) = 'string' THEN
			v_id := v_m #>> '{}';
		ELSE
			v_id := NULL;
		END IF;
		IF v_id IS NULL OR v_id !~ v_uuid THEN
			RETURN pg_catalog.jsonb_build_object('status', 422,
			    'code', 'validation', 'field', 'members',
			    'detail', 'a member is named by a person id (UUID)');
		END IF;
		IF v_id = ANY (v_seen) THEN
			RETURN pg_catalog.jsonb_build_object('status', 422,
			    'code', 'validation', 'field', 'members',
			    'detail', 'a person is a member once');
		END IF;
		v_seen := v_seen || v_id;
	END LOOP;
	IF pg_catalog.jsonb_typeof(p_body->'chair') IS DISTINCT FROM 'string'
	    OR (p_body->>'chair') !~ v_uuid THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'chair',
		    'detail', 'chair must be a person id (UUID)');
	END IF;
	IF COALESCE(pg_catalog.jsonb_typeof(p_body->'second_reviewer'), 'null')
	    <> 'null' AND (pg_catalog.jsonb_typeof(p_body->'second_reviewer')
	        <> 'string' OR (p_body->>'second_reviewer') !~ v_uuid) THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'field', 'second_reviewer',
		    'detail', 'second_reviewer must be a person id (UUID), or '
		    'null');
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION ident.panel_body_problem(jsonb) IS
    'Shape check of a panel referral: NULL, or the first problem.';
REVOKE ALL ON FUNCTION ident.panel_body_problem(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ident.panel_body_problem(jsonb) TO nrm_assessor;

-- A refusal of the panel routes: audited failed (or denied) with
-- p_reason, the problem with p_field.
CREATE OR REPLACE FUNCTION ident.panel_refuse(p_p record, p_outcome text,
    p_reason text, p_status integer, p_code text, p_detail text,
    p_field text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN api.refuse(p_p, 'identification', p_outcome, p_reason,
	    api.problem(p_status, p_code, p_detail, p_field));
END
$$;
COMMENT ON FUNCTION ident.panel_refuse(record, text, text, integer, text,
    text, text) IS
    'api.refuse with purpose identification and an api.problem.';
REVOKE ALL ON FUNCTION ident.panel_refuse(record, text, text, integer, text,
    text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ident.panel_refuse(record, text, text, integer,
    text, text, text) TO nrm_assessor;

/*
 * POST /v1/cases/{id}/panel (assessor: the assessment body refers the
 * case).  Order: 401/403; a profile without a panel (409 conflict,
 * failed/no_panel_model); the body (400/422, failed/bad_request or
 * invalid_body); the case (404); a panel at work on the case (409,
 * failed/panel_active); no initial indication yet (422 field case,
 * failed/conclusive_requires_initial); the persons: every member, the
 * chair and the second reviewer an active person of the assessor role
 * (422 naming the field, failed/not_an_assessor); a member or the
 * second reviewer who sat on an earlier panel of the case (422 field
 * members, failed/reconsideration_excludes_earlier_members); the
 * model's count (single: one member; panel: at least the quorum) and
 * the required disciplines (422 field members, failed/quorum); the
 * chair a member under chair_casting (422 field chair); the second
 * reviewer required with second review, not a member (422 field
 * second_reviewer).  Then 201 with the panel, due on the profile's
 * working days after today.  Serialised per case (advisory lock 6, as
 * api.ident_record).
 */
CREATE OR REPLACE FUNCTION api.panel_assign(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_body jsonb,
    p_profile text DEFAULT 'nl') RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_prof record;
	v_problem jsonb;
	v_refused jsonb;
	v_members jsonb;
	v_ids uuid[];
	v_chair uuid;
	v_second uuid;
	v_round integer;
	v_field text;
	v_id uuid := pg_catalog.gen_random_uuid();
	v_today date := (pg_catalog.now() AT TIME ZONE 'Europe/Amsterdam')::date;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['assessor'], 'panel.create', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	v_prof := ident.profile_of(p_profile);
	IF v_prof.panel_model = 'none' THEN
		RETURN ident.panel_refuse(v_p, 'failed', 'no_panel_model', 409,
		    'conflict', 'the jurisdiction profile decides without a '
		    'panel: record the decision through POST /v1/cases/{id}/'
		    'identification');
	END IF;
	v_problem := ident.panel_body_problem(p_body);
	IF v_problem IS NOT NULL THEN
		RETURN api.refuse_body(v_p, 'identification', 'invalid_body',
		    v_problem);
	END IF;
	v_refused := COALESCE(api.ident_case_lock(v_p, p_case_id),
	    api.refuse_merged(v_p, 'identification', p_case_id));
	IF v_refused IS NOT NULL THEN
		RETURN v_refused;
	END IF;

	IF EXISTS (SELECT 1 FROM ident.panel p WHERE p.case_id = p_case_id
	    AND p.status IN ('open', 'second_review')) THEN
		RETURN ident.panel_refuse(v_p, 'failed', 'panel_active', 409,
		    'conflict', 'a panel is at work on this case');
	END IF;
	IF NOT EXISTS (SELECT 1 FROM ident.decision d
	    WHERE d.case_id = p_case_id AND d.stage = 'initial') THEN
		RETURN ident.panel_refuse(v_p, 'failed',
		    'conclusive_requires_initial', 422, 'validation',
		    'conclusive_requires_initial: a case goes to a panel after '
		    'its initial indication', 'case');
	END IF;

	-- members as (person_id, discipline)
	SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
	        'person_id', CASE pg_catalog.jsonb_typeof(e)
	            WHEN 'object' THEN e->>'person_id' ELSE e #>> '{}' END,
	        'discipline', COALESCE(e->>'discipline', 'other'))),
	    pg_catalog.array_agg((CASE pg_catalog.jsonb_typeof(e)
	        WHEN 'object' THEN e->>'person_id' ELSE e #>> '{}' END)::uuid)
	INTO v_members, v_ids
	FROM pg_catalog.jsonb_array_elements(p_body->'members') e;
	v_chair := (p_body->>'chair')::uuid;
	v_second := (p_body->>'second_reviewer')::uuid;

	v_field := CASE
	    WHEN (SELECT pg_catalog.count(*) FROM auth.person pe
	        WHERE pe.id = ANY (v_ids) AND pe.role = 'assessor'
	          AND pe.status = 'active') <> pg_catalog.cardinality(v_ids)
	        THEN 'members'
	    WHEN NOT EXISTS (SELECT 1 FROM auth.person pe WHERE pe.id = v_chair
	        AND pe.role = 'assessor' AND pe.status = 'active')
	        THEN 'chair'
	    WHEN v_second IS NOT NULL AND NOT EXISTS (SELECT 1 FROM auth.person
	        pe WHERE pe.id = v_second AND pe.role = 'assessor'
	          AND pe.status = 'active')
	        THEN 'second_reviewer' END;
	IF v_field IS NOT NULL THEN
		RETURN ident.panel_refuse(v_p, 'failed', 'not_an_assessor', 422,
		    'validation', v_field || ': every person must be an active '
		    'person of the assessor role', v_field);
	END IF;

	-- a reconsideration: no one of an earlier panel of the case
	SELECT COALESCE(pg_catalog.max(p.round), 0) + 1 INTO v_round
	FROM ident.panel p WHERE p.case_id = p_case_id;
	IF EXISTS (SELECT 1 FROM ident.panel p
	    JOIN ident.panel_member m ON m.panel_id = p.id
	    WHERE p.case_id = p_case_id
	      AND (m.person_id = ANY (v_ids) OR m.person_id = v_second)) THEN
		RETURN ident.panel_refuse(v_p, 'failed',
		    'reconsideration_excludes_earlier_members', 422,
		    'validation', 'reconsideration_excludes_earlier_members: '
		    'a new panel has none of the members of an earlier panel '
		    'of the case', 'members');
	END IF;

	IF (v_prof.panel_model = 'single' AND pg_catalog.cardinality(v_ids) <> 1)
	    OR pg_catalog.cardinality(v_ids) < v_prof.panel_quorum THEN
		RETURN ident.panel_refuse(v_p, 'failed', 'quorum', 422,
		    'validation', pg_catalog.format('quorum: the %s profile '
		    'needs %s', v_prof.code, CASE WHEN v_prof.panel_model =
		    'single' THEN 'one decision-maker' ELSE 'at least '
		    || v_prof.panel_quorum || ' members' END), 'members');
	END IF;
	IF NOT v_prof.panel_disciplines <@ (SELECT pg_catalog.array_agg(
	    m->>'discipline') FROM pg_catalog.jsonb_array_elements(v_members)
	    m) THEN
		RETURN ident.panel_refuse(v_p, 'failed', 'quorum', 422,
		    'validation', 'quorum: the members must include the '
		    'disciplines ' || pg_catalog.array_to_string(
		        v_prof.panel_disciplines, ', '), 'members');
	END IF;
	IF v_prof.panel_rule = 'chair_casting' AND NOT v_chair = ANY (v_ids)
	THEN
		RETURN ident.panel_refuse(v_p, 'failed', 'invalid_body', 422,
		    'validation', 'the chair casts the deciding vote: the chair '
		    'must be a member', 'chair');
	END IF;
	IF (v_prof.second_review_negative AND v_second IS NULL)
	    OR v_second = ANY (v_ids) THEN
		RETURN ident.panel_refuse(v_p, 'failed', 'invalid_body', 422,
		    'validation', 'the profile has negatives reviewed: a second '
		    'reviewer who is not a member is required',
		    'second_reviewer');
	END IF;

	INSERT INTO ident.panel (id, case_id, profile, round, model, rule,
	    quorum, disciplines, blind, second_review, chair_person_id,
	    second_reviewer_person_id, assigned_by, due_on)
	VALUES (v_id, p_case_id, v_prof.code, v_round, v_prof.panel_model,
	    v_prof.panel_rule, v_prof.panel_quorum, v_prof.panel_disciplines,
	    v_prof.panel_blind, v_prof.second_review_negative, v_chair,
	    CASE WHEN v_prof.second_review_negative THEN v_second END,
	    v_p.key_id,
	    ident.add_working_days(v_today, v_prof.panel_working_days));
	INSERT INTO ident.panel_member (panel_id, person_id, discipline)
	SELECT v_id, (m->>'person_id')::uuid, m->>'discipline'
	FROM pg_catalog.jsonb_array_elements(v_members) m;

	RETURN api.answer(v_p, 'identification',
	    pg_catalog.jsonb_build_object('status', 201,
	        'body', ident.panel_json(v_id, v_p.person_id),
	        'location', '/v1/cases/' || p_case_id::text || '/panel'));
END
$$;
COMMENT ON FUNCTION api.panel_assign(bytea, text, inet, uuid, jsonb, text)
    IS 'POST /v1/cases/{id}/panel: the assessment body refers a case to a '
    'panel (or single decision-maker) under the profile''s rules; a new '
    'panel of a case excludes the members of its earlier ones; audited '
    'panel.create.';
-- A door of nrm_assessor (99_doors.sql).

/*
 * GET /v1/cases/{id}/panel (assessor): {"case_id", "panel": the newest
 * panel or null, "earlier": the case's earlier panels, newest first},
 * each as ident.panel_json shows it to the caller.  404 for an unknown
 * case.  Audited panel.read (purpose identification).
 */
CREATE OR REPLACE FUNCTION api.panel_get(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_list jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter_case(p_token_hash, p_request_id,
	    p_client, ARRAY['assessor'], 'panel.read', p_case_id,
	    'identification');
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	SELECT COALESCE(pg_catalog.jsonb_agg(ident.panel_json(p.id,
	    v_p.person_id) ORDER BY p.round DESC), '[]'::jsonb)
	INTO v_list
	FROM ident.panel p WHERE p.case_id = p_case_id;
	RETURN api.answer(v_p, 'identification',
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	        pg_catalog.jsonb_build_object('case_id', p_case_id,
	            'panel', v_list->0,
	            'earlier', v_list - 0)));
END
$$;
COMMENT ON FUNCTION api.panel_get(bytea, text, inet, uuid) IS
    'GET /v1/cases/{id}/panel: the case''s panel and earlier panels as '
    'the caller may see them (blind voting); audited panel.read.';
-- A door of nrm_assessor (99_doors.sql).

/*
 * The panel at work on p_case_id that the acting person may act on, or
 * the refusal: not a person (403 denied/not_a_person: a vote and a
 * recusal are a member's own, in their own session, never an API
 * key's); the case (404); no panel at work (409 failed/no_active_panel).
 */
CREATE OR REPLACE FUNCTION ident.panel_for_member(p_p record,
    p_case_id uuid, OUT panel ident.panel, OUT refusal jsonb)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_p.person_id IS NULL THEN
		refusal := ident.panel_refuse(p_p, 'denied', 'not_a_person', 403,
		    'forbidden', 'panel members act in their own session; an '
		    'API key is not a person');
		RETURN;
	END IF;
	refusal := api.ident_case_lock(p_p, p_case_id);
	IF refusal IS NOT NULL THEN
		RETURN;
	END IF;
	SELECT * INTO panel FROM ident.panel p WHERE p.case_id = p_case_id
	    AND p.status IN ('open', 'second_review')
	FOR UPDATE;
	IF NOT FOUND THEN
		refusal := ident.panel_refuse(p_p, 'failed', 'no_active_panel',
		    409, 'conflict', 'no panel is at work on this case');
	END IF;
END
$$;
COMMENT ON FUNCTION ident.panel_for_member(record, uuid) IS
    'The panel at work on a case for a member''s act, or the refusal.';
REVOKE ALL ON FUNCTION ident.panel_for_member(record, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ident.panel_for_member(record, uuid)
    TO nrm_assessor;

/*
 * POST /v1/cases/{id}/panel/recusal {"reason": code} (a member, in
 * their own session): the member declares a conflict of interest and
 * takes no part.  Order: 401/403; not a person (403); the body (400/422
 * field reason); the case (404); no panel at work (409); not a member
 * (403 denied/not_a_member); already voted or recused (409
 * failed/already_acted).  Then 200 with the panel; the panel may now
 * be decided (or stall) without the member.
 */
CREATE OR REPLACE FUNCTION api.panel_recuse(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_f record;
	v_m record;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['assessor'], 'panel.recuse', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF v_p.person_id IS NOT NULL AND (p_body IS NULL
	    OR pg_catalog.jsonb_typeof(p_body) <> 'object') THEN
		RETURN ident.panel_refuse(v_p, 'failed', 'bad_request', 400,
		    'bad_request', 'the body must be a JSON object');
	END IF;
	IF v_p.person_id IS NOT NULL AND (EXISTS (SELECT 1
	    FROM pg_catalog.jsonb_object_keys(p_body) k WHERE k <> 'reason')
	    OR NOT COALESCE(p_body->>'reason', '')
	        = ANY (ident.panel_codes('recusal'))) THEN
		RETURN ident.panel_refuse(v_p, 'failed', 'invalid_body', 422,
		    'validation', 'reason must be one of: '
		    || pg_catalog.array_to_string(ident.panel_codes('recusal'),
		        ', '), 'reason');
	END IF;
	SELECT * INTO v_f FROM ident.panel_for_member(v_p, p_case_id);
	IF v_f.refusal IS NOT NULL THEN
		RETURN v_f.refusal;
	END IF;
	SELECT * INTO v_m FROM ident.panel_member m
	WHERE m.panel_id = (v_f.panel).id AND m.person_id = v_p.person_id
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN ident.panel_refuse(v_p, 'denied', 'not_a_member', 403,
		    'forbidden', 'only a member of the panel may recuse');
	END IF;
	IF v_m.recused_at IS NOT NULL OR (v_f.panel).status <> 'open'
	    OR EXISTS (SELECT 1 FROM ident.panel_vote v
	        WHERE v.panel_id = v_m.panel_id
	          AND v.person_id = v_p.person_id) THEN
		RETURN ident.panel_refuse(v_p, 'failed', 'already_acted', 409,
		    'conflict', 'the member has voted or recused already');
	END IF;
	UPDATE ident.panel_member SET recused_at = pg_catalog.now(),
	    recusal_reason = p_body->>'reason'
	WHERE panel_id = v_m.panel_id AND person_id = v_p.person_id;
	PERFORM ident.panel_settle(v_m.panel_id, v_p.key_id);
	RETURN api.answer(v_p, 'identification',
	    pg_catalog.jsonb_build_object('status', 200,
	        'body', ident.panel_json(v_m.panel_id, v_p.person_id)));
END
$$;
COMMENT ON FUNCTION api.panel_recuse(bytea, text, inet, uuid, jsonb) IS
    'POST /v1/cases/{id}/panel/recusal: a member declares a conflict of '
    'interest (reason code) before voting; audited panel.recuse.';
-- A door of nrm_assessor (99_doors.sql).

/*
 * POST /v1/cases/{id}/panel/vote {"outcome", "reason", "rationale"} (a
 * member in their own session; nrmd sends the rationale sealed as
 * "rationale_ct" with the vote's "id" and "data_key").  Order:
 * 401/403; not a person (403); the body (400/422 naming outcome,
 * reason or rationale); the case (404); no panel at work (409);
 * the caller: a member still on an open panel, or the second reviewer
 * of a panel in second review (else 403 denied/not_a_member); a second
 * vote (409 failed/already_acted).  Then 201 with the panel as the
 * voter now sees it (its votes, and the decision once quorum and rule
 * are met).
 */
CREATE OR REPLACE FUNCTION api.panel_vote(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_f record;
	v_problem jsonb;
	v_kind text;
	v_field text;
	v_detail text;
	v_key jsonb := p_body->'data_key';
	v_key_id uuid;
	v_id uuid;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['assessor'], 'panel.vote', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF v_p.person_id IS NOT NULL THEN
		v_problem := api.object_problem(p_body, 'the body',
		    ARRAY['outcome', 'reason', 'rationale'],
		    ARRAY['id', 'data_key', 'rationale_ct']);
		IF v_problem IS NOT NULL THEN
			RETURN api.refuse_body(v_p, 'identification',
			    'invalid_body', v_problem);
		END IF;
		IF NOT COALESCE(p_body->>'outcome', '')
		    IN ('positive', 'negative') THEN
			v_field := 'outcome';
			v_detail := 'outcome must be positive or negative';
		ELSIF NOT COALESCE(p_body->>'reason', '')
		    = ANY (ident.panel_codes('reason')) THEN
			v_field := 'reason';
			v_detail := 'reason must be one of: '
			    || pg_catalog.array_to_string(
			        ident.panel_codes('reason'), ', ');
		ELSIF COALESCE(pg_catalog.jsonb_typeof(p_body->'rationale'),
		    'null') <> 'null' THEN
			-- nrmd sealed a good one: what is left is refused
			v_field := 'rationale';
			v_detail := 'rationale must be 1 to 4000 bytes of text, '
			    'or null';
		END IF;
		IF v_detail IS NOT NULL THEN
			RETURN ident.panel_refuse(v_p, 'failed', 'invalid_body',
			    422, 'validation', v_detail, v_field);
		END IF;
	END IF;
	SELECT * INTO v_f FROM ident.panel_for_member(v_p, p_case_id);
	IF v_f.refusal IS NOT NULL THEN
		RETURN v_f.refusal;
	END IF;
	IF (v_f.panel).status = 'second_review'
	    AND (v_f.panel).second_reviewer_person_id = v_p.person_id THEN
		v_kind := 'second_review';
	ELSIF EXISTS (SELECT 1 FROM ident.panel_member m
	    WHERE m.panel_id = (v_f.panel).id AND m.person_id = v_p.person_id
	      AND m.recused_at IS NULL)
	    AND (v_f.panel).status = 'open' THEN
		v_kind := 'member';
	ELSIF EXISTS (SELECT 1 FROM ident.panel_member m
	    WHERE m.panel_id = (v_f.panel).id
	      AND m.person_id = v_p.person_id) THEN
		RETURN ident.panel_refuse(v_p, 'failed', 'already_acted', 409,
		    'conflict', 'the member has voted or recused already');
	ELSE
		RETURN ident.panel_refuse(v_p, 'denied', 'not_a_member', 403,
		    'forbidden', CASE WHEN (v_f.panel).second_reviewer_person_id
		    = v_p.person_id THEN 'the second reviewer votes on a '
		    'negative decision only' ELSE 'only a member of the panel '
		    'may vote' END);
	END IF;
	IF EXISTS (SELECT 1 FROM ident.panel_vote v
	    WHERE v.panel_id = (v_f.panel).id AND v.person_id = v_p.person_id
	      AND v.kind = v_kind) THEN
		RETURN ident.panel_refuse(v_p, 'failed', 'already_acted', 409,
		    'conflict', 'the member has voted or recused already');
	END IF;

	v_id := COALESCE((p_body->>'id')::uuid, pg_catalog.gen_random_uuid());
	v_key_id := care.case_data_key(p_case_id, v_key);
	INSERT INTO ident.panel_vote (id, panel_id, person_id, kind, outcome,
	    reason, data_key_id, rationale_ct, recorded_by)
	VALUES (v_id, (v_f.panel).id, v_p.person_id, v_kind,
	    p_body->>'outcome', p_body->>'reason', v_key_id,
	    pg_catalog.decode(p_body->>'rationale_ct', 'base64'), v_p.key_id);
	PERFORM ident.panel_settle((v_f.panel).id, v_p.key_id);
	RETURN api.answer(v_p, 'identification',
	    pg_catalog.jsonb_build_object('status', 201,
	        'body', ident.panel_json((v_f.panel).id, v_p.person_id),
	        'location', '/v1/cases/' || p_case_id::text || '/panel'));
END
$$;
COMMENT ON FUNCTION api.panel_vote(bytea, text, inet, uuid, jsonb) IS
    'POST /v1/cases/{id}/panel/vote: a member''s (or the second '
    'reviewer''s) vote with a reason code and a sealed rationale; the '
    'decision once quorum and rule are met; audited panel.vote.';
-- A door of nrm_assessor (99_doors.sql).

/*
 * GET /v1/panels/pending (assessor): the inbox of pending decisions
 * with their clocks, soonest due first: every panel not decided (at
 * work or stalled).  A person sees the panels they chair, sit on or
 * review; an API key (the assessment body) sees all.  An item:
 * panel_id, case_id, round, status, stalled_reason, assigned_at,
 * due_on, working_days_left (negative once overdue), overdue,
 * escalated_to_chair (overdue or stalled: the chair's to resolve),
 * votes_cast, members_pending (members still to vote), and for a
 * person "you": chair, member, second_reviewer, to_act (a vote or
 * recusal of theirs is awaited).  No outcome, no rationale, nothing of
 * the victim.  Audited panel.pending.
 */
CREATE OR REPLACE FUNCTION api.panel_pending(p_token_hash bytea,
    p_request_id text, p_client inet) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_today date := (pg_catalog.now() AT TIME ZONE 'Europe/Amsterdam')::date;
	v_items jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['assessor'], 'panel.pending', 'panel', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	SELECT COALESCE(pg_catalog.jsonb_agg(q.item ORDER BY q.due_on,
	        q.assigned_at, q.id), '[]'::jsonb)
	INTO v_items
	FROM (SELECT p.id, p.due_on, p.assigned_at,
	        pg_catalog.jsonb_build_object(
	        'panel_id', p.id, 'case_id', p.case_id, 'round', p.round,
	        'status', p.status, 'stalled_reason', p.stalled_reason,
	        'model', p.model, 'rule', p.rule,
	        'assigned_at', api.rfc3339(p.assigned_at),
	        'due_on', p.due_on,
	        'working_days_left', CASE WHEN p.due_on >= v_today THEN
	            (SELECT pg_catalog.count(*)::integer
	             FROM pg_catalog.generate_series(v_today + 1, p.due_on,
	                 interval '1 day') g(d)
	             WHERE pg_catalog.date_part('isodow', g.d) < 6)
	            ELSE -(SELECT pg_catalog.count(*)::integer
	             FROM pg_catalog.generate_series(p.due_on + 1, v_today,
	                 interval '1 day') g(d)
	             WHERE pg_catalog.date_part('isodow', g.d) < 6) END,
	        'overdue', p.due_on < v_today,
	        'escalated_to_chair', p.due_on < v_today
	            OR p.status = 'stalled',
	        'chair', p.chair_person_id,
	        'votes_cast', (SELECT pg_catalog.count(*)::integer
	            FROM ident.panel_vote v WHERE v.panel_id = p.id),
	        'members_pending', (SELECT pg_catalog.count(*)::integer
	            FROM ident.panel_member m WHERE m.panel_id = p.id
	              AND m.recused_at IS NULL AND NOT EXISTS (SELECT 1
	                  FROM ident.panel_vote v WHERE v.panel_id = p.id
	                    AND v.person_id = m.person_id))) ||
	        CASE WHEN v_p.person_id IS NULL THEN '{}'::jsonb
	        ELSE pg_catalog.jsonb_build_object('you',
	            pg_catalog.jsonb_build_object(
	            'chair', p.chair_person_id = v_p.person_id,
	            'member', m.person_id IS NOT NULL,
	            'second_reviewer', p.second_reviewer_person_id
	                IS NOT DISTINCT FROM v_p.person_id,
	            'to_act', (p.status = 'open' AND m.person_id IS NOT NULL
	                AND m.recused_at IS NULL AND NOT EXISTS (SELECT 1
	                    FROM ident.panel_vote v WHERE v.panel_id = p.id
	                      AND v.person_id = v_p.person_id))
	                OR (p.status = 'second_review'
	                    AND p.second_reviewer_person_id
	                        IS NOT DISTINCT FROM v_p.person_id))) END
	        AS item
	    FROM ident.panel p
	    LEFT JOIN ident.panel_member m ON m.panel_id = p.id
	        AND m.person_id = v_p.person_id
	    WHERE p.status <> 'decided'
	      AND (v_p.person_id IS NULL OR m.person_id IS NOT NULL
	          OR p.chair_person_id = v_p.person_id
	          OR p.second_reviewer_person_id = v_p.person_id)) q;
	RETURN api.answer(v_p, 'identification',
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	        pg_catalog.jsonb_build_object('items', v_items,
	            'today', v_today)));
END
$$;
COMMENT ON FUNCTION api.panel_pending(bytea, text, inet) IS
    'GET /v1/panels/pending: the inbox of undecided panels with their '
    'clocks (a person''s own; all for the body''s API key), overdue and '
    'stalled ones escalated to the chair; audited panel.pending.';
-- A door of nrm_assessor (99_doors.sql).
