-- 60_people.sql - api functions of personal accounts (issue 11): the
-- person helpers and person administration (enrolment, login, sessions
-- and the handover are 65_sessions.sql's).  A repeatable file
-- (docs/sql-api.md, "Migrations"; the tables and the role nrm_people
-- are 0009's).
--
-- Applied by `nrmctl migrate` after the numbered migrations, in the same
-- transaction, every file of sql/api/ in name order, and recorded with
-- its SHA-256 in nrm.schema_repeatable.  Each function stands here once,
-- as CREATE OR REPLACE, with its comment, grants and owner; change it
-- here.
--
-- Two kinds of function.  The admin entry points and the handover are
-- SECURITY INVOKER and go through api.enter/answer/refuse like every
-- other entry point; what they change of the secrets (codes, sessions,
-- credentials) they change through the auth.* helpers below.  The
-- helpers and the entry points without an API role (enrol, login, the
-- session's own view and end) are SECURITY DEFINER owned by nrm_people,
-- the one role that reads auth.person_credential, auth.enrolment,
-- auth.recovery_code and auth.session (a SECURITY DEFINER function may
-- not switch role, so these never call api.enter).  No secret is ever
-- put in an answer, an audit event or an error message.

-- ---------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------

-- A person as the admin endpoints show it (no secret).
CREATE OR REPLACE FUNCTION auth.person_json(p auth.person) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('id', p.id, 'login', p.login,
	    'display_name', p.display_name, 'agency_id', p.agency_id,
	    'agency', (SELECT a.name FROM auth.agency a
	        WHERE a.id = p.agency_id),
	    'role', p.role, 'regions', COALESCE(p.regions, '{}'::text[]),
	    'status', p.status, 'created_at', api.rfc3339(p.created_at),
	    'disabled_at', api.rfc3339(p.disabled_at))
$$;
COMMENT ON FUNCTION auth.person_json(auth.person) IS
    'A person as the admin endpoints answer it, with its agency''s name: '
    'no secret.';
GRANT EXECUTE ON FUNCTION auth.person_json(auth.person) TO nrm_admin,
    nrm_people;

/*
 * The first field at fault of a new principal's agency, role and
 * regions, {"field", "detail"}, or NULL.  Shared by auth.person_problem
 * and api.key_create.
 */
CREATE OR REPLACE FUNCTION auth.principal_problem(p_agency_id uuid,
    p_role text, p_regions text[])
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_agency_id IS NULL OR NOT EXISTS (SELECT 1 FROM auth.agency a
	    WHERE a.id = p_agency_id) THEN
		RETURN pg_catalog.jsonb_build_object('field', 'agency_id',
		    'detail', 'no agency with this id');
	END IF;
	IF p_role IS NULL OR p_role NOT IN ('reporter', 'coordinator',
	    'assessor', 'investigator', 'auditor', 'analyst', 'admin',
	    'chain_director', 'privacy_officer') THEN
		RETURN pg_catalog.jsonb_build_object('field', 'role',
		    'detail', 'role must be reporter, coordinator, assessor, '
		    'investigator, auditor, analyst, admin, chain_director or '
		    'privacy_officer');
	END IF;
	IF (p_role = 'coordinator') <> (COALESCE(
	    pg_catalog.cardinality(p_regions), 0) > 0) THEN
		RETURN pg_catalog.jsonb_build_object('field', 'regions',
		    'detail', 'a coordinator needs regions; no other role '
		    'takes any');
	END IF;
	IF EXISTS (SELECT 1 FROM pg_catalog.unnest(p_regions) r(code)
	    WHERE r.code IS NULL OR NOT EXISTS (SELECT 1 FROM ref.region x
	        WHERE x.code = r.code)) THEN
		RETURN pg_catalog.jsonb_build_object('field', 'regions',
		    'detail', 'unknown region code');
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION auth.principal_problem(uuid, text, text[]) IS
    'The field at fault of a new principal''s agency, role and regions '
    '({"field", "detail"}) or NULL.';
GRANT EXECUTE ON FUNCTION auth.principal_problem(uuid, text, text[]) TO
    nrm_admin, nrm_people;

/*
 * The first field at fault of a new person, {"field", "detail"}, or
 * NULL.  Shared by api.person_create and `nrmctl person create`.
 */
CREATE OR REPLACE FUNCTION auth.person_problem(p_login text,
    p_display_name text, p_agency_id uuid, p_role text, p_regions text[])
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_login IS NULL OR p_login !~ '^[a-z0-9][a-z0-9._-]{2,63}$' THEN
		RETURN pg_catalog.jsonb_build_object('field', 'login',
		    'detail', 'login must be 3 to 64 characters: a-z, 0-9, '
		    '".", "_", "-", starting with a letter or digit');
	END IF;
	IF p_display_name IS NULL
	    OR pg_catalog.char_length(p_display_name) NOT BETWEEN 1 AND 200
	    OR p_display_name ~ '[[:cntrl:]]' THEN
		RETURN pg_catalog.jsonb_build_object('field', 'display_name',
		    'detail', 'display_name must be 1 to 200 characters '
		    'without control characters');
	END IF;
	RETURN auth.principal_problem(p_agency_id, p_role, p_regions);
END
$$;
COMMENT ON FUNCTION auth.person_problem(text, text, uuid, text, text[]) IS
    'The field at fault of a new person ({"field", "detail"}) or NULL.';
GRANT EXECUTE ON FUNCTION auth.person_problem(text, text, uuid, text,
    text[]) TO nrm_admin, nrm_people;

/*
 * Issue a new enrolment code for a person (its SHA-256, valid p_valid_s
 * seconds): earlier unused codes of the person stop working.  Returns
 * the expiry.  Raises 22023 on a hash that is not 32 bytes or a
 * validity < 1 (nrmd or nrmctl sent something impossible).
 */
CREATE OR REPLACE FUNCTION auth.person_issue(p_person_id uuid,
    p_code_hash bytea, p_valid_s integer) RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_expires timestamptz;
BEGIN
	IF pg_catalog.octet_length(p_code_hash) IS DISTINCT FROM 32
	    OR p_valid_s IS NULL OR p_valid_s < 1 THEN
		RAISE EXCEPTION 'enrolment code hash or validity invalid'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	DELETE FROM auth.enrolment e
	WHERE e.person_id = p_person_id AND e.used_at IS NULL;
	INSERT INTO auth.enrolment (person_id, code_hash, expires_at)
	VALUES (p_person_id, p_code_hash,
	    pg_catalog.now() + p_valid_s * interval '1 second')
	RETURNING expires_at INTO v_expires;
	RETURN v_expires;
END
$$;
COMMENT ON FUNCTION auth.person_issue(uuid, bytea, integer) IS
    'A new one-time enrolment code (hash) for a person; earlier unused '
    'ones are dropped.  Returns its expiry.';

-- End every open session of a person (p_reason: disabled, reset).
CREATE OR REPLACE FUNCTION auth.person_end_sessions(p_person_id uuid,
    p_reason text) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n integer;
BEGIN
	UPDATE auth.session s SET ended_at = pg_catalog.now(),
	    end_reason = p_reason
	WHERE s.person_id = p_person_id AND s.ended_at IS NULL;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION auth.person_end_sessions(uuid, text) IS
    'End every open session of a person; returns how many.';

/*
 * Create a person with its own key (revoked from the start, a token hash
 * nobody knows: no bearer token authenticates as it) and its first
 * enrolment code.  NULL when the login is taken.  The caller has checked
 * the fields (auth.person_problem).
 */
CREATE OR REPLACE FUNCTION auth.person_insert(p_login text,
    p_display_name text, p_agency_id uuid, p_role text, p_regions text[],
    p_by_key uuid, p_by_person uuid, p_code_hash bytea, p_valid_s integer)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_key uuid;
	v_p auth.person;
	v_expires timestamptz;
BEGIN
	IF EXISTS (SELECT 1 FROM auth.person x WHERE x.login = p_login) THEN
		RETURN NULL;
	END IF;
	INSERT INTO auth.api_key (token_hash, agency_id, role, regions, label,
	    revoked_at)
	VALUES (pg_catalog.sha256(pg_catalog.convert_to(
	        pg_catalog.gen_random_uuid()::text
	        || pg_catalog.gen_random_uuid()::text, 'UTF8')),
	    p_agency_id, p_role, CASE WHEN p_role = 'coordinator'
	        THEN p_regions END, 'person', pg_catalog.now())
	RETURNING id INTO v_key;
	INSERT INTO auth.person (login, display_name, agency_id, role,
	    regions, key_id, created_by_key, created_by_person)
	VALUES (p_login, p_display_name, p_agency_id, p_role,
	    CASE WHEN p_role = 'coordinator' THEN p_regions END, v_key,
	    p_by_key, p_by_person)
	ON CONFLICT (login) DO NOTHING
	RETURNING * INTO v_p;
	IF v_p.id IS NULL THEN
		RETURN NULL;
	END IF;
	v_expires := auth.person_issue(v_p.id, p_code_hash, p_valid_s);
	RETURN auth.person_json(v_p) || pg_catalog.jsonb_build_object(
	    'enrolment_expires_at', api.rfc3339(v_expires));
END
$$;
COMMENT ON FUNCTION auth.person_insert(text, text, uuid, text, text[], uuid,
    uuid, bytea, integer) IS
    'Create a person, its own (revoked) key and its first enrolment code; '
    'the person with enrolment_expires_at, or NULL when the login is '
    'taken.';

/*
 * Disable, enable or reset a person (p_op).  disable ends every session;
 * reset drops the credentials and recovery codes, ends every session and
 * issues a new enrolment code.  The person (with enrolment_expires_at
 * for a reset), or NULL for no such person.
 */
CREATE OR REPLACE FUNCTION auth.person_change(p_person_id uuid, p_op text,
    p_code_hash bytea DEFAULT NULL, p_valid_s integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p auth.person;
	v_extra jsonb := '{}';
BEGIN
	SELECT * INTO v_p FROM auth.person x WHERE x.id = p_person_id
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF p_op = 'disable' AND v_p.status = 'active' THEN
		UPDATE auth.person x SET status = 'disabled',
		    disabled_at = pg_catalog.now()
		WHERE x.id = p_person_id RETURNING * INTO v_p;
		PERFORM auth.person_end_sessions(p_person_id, 'disabled');
	ELSIF p_op = 'enable' AND v_p.status = 'disabled' THEN
		UPDATE auth.person x SET status = 'active', disabled_at = NULL
		WHERE x.id = p_person_id RETURNING * INTO v_p;
	ELSIF p_op = 'reset' THEN
		DELETE FROM auth.person_credential c
		WHERE c.person_id = p_person_id;
		DELETE FROM auth.recovery_code r WHERE r.person_id = p_person_id;
		PERFORM auth.person_end_sessions(p_person_id, 'reset');
		v_extra := pg_catalog.jsonb_build_object('enrolment_expires_at',
		    api.rfc3339(auth.person_issue(p_person_id, p_code_hash,
		        p_valid_s)));
	ELSIF p_op NOT IN ('disable', 'enable') THEN
		RAISE EXCEPTION 'unknown person change'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN auth.person_json(v_p) || v_extra;
END
$$;
COMMENT ON FUNCTION auth.person_change(uuid, text, bytea, integer) IS
    'Disable (ends sessions), enable or reset (drops credentials and '
    'recovery codes, ends sessions, new enrolment code) a person; the '
    'person, or NULL for no such person.';

/*
 * The principal of a session token hash, for api.authenticate: the
 * person's key (id), agency, role, regions, agency kind and the person;
 * problem NULL when the session may act, else the audit reason
 * (session_ended, person_disabled, session_expired: idle or absolute
 * expiry passed; the session is then ended).  Every column NULL when no
 * session has this hash.  Moves last_seen_at forward when it is older
 * than the refresh granularity, min(30 s, idle_seconds / 4): one write
 * per session and half minute, not per request, and with a short idle
 * timeout (under two minutes) a session in use is never idle longer
 * than a quarter of it between refreshes, so a busy session stays
 * alive while an idle one expires on time.
 */
CREATE OR REPLACE FUNCTION auth.session_principal(p_token_hash bytea,
    OUT id uuid, OUT agency_id uuid, OUT role text, OUT regions text[],
    OUT kind text, OUT revoked_at timestamptz, OUT person_id uuid,
    OUT problem text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v record;
BEGIN
	SELECT s.id AS session_id, s.last_seen_at, s.idle_seconds,
	    s.expires_at, s.ended_at, p.id AS person_id, p.key_id,
	    p.agency_id, p.role, p.regions, p.status, a.kind
	INTO v
	FROM auth.session s
	JOIN auth.person p ON p.id = s.person_id
	JOIN auth.agency a ON a.id = p.agency_id
	WHERE s.token_hash = p_token_hash;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	id := v.key_id;
	agency_id := v.agency_id;
	role := v.role;
	regions := v.regions;
	kind := v.kind;
	person_id := v.person_id;
	IF v.ended_at IS NOT NULL THEN
		problem := 'session_ended';
	ELSIF v.status <> 'active' THEN
		problem := 'person_disabled';
	ELSIF pg_catalog.now() > v.last_seen_at
	        + v.idle_seconds * interval '1 second'
	    OR pg_catalog.now() > v.expires_at THEN
		problem := 'session_expired';
		UPDATE auth.session s SET ended_at = pg_catalog.now(),
		    end_reason = 'expired'
		WHERE s.id = v.session_id;
	ELSIF v.last_seen_at < pg_catalog.now() - LEAST(interval '30 seconds',
	        v.idle_seconds * interval '250 milliseconds') THEN
		UPDATE auth.session s SET last_seen_at = pg_catalog.now()
		WHERE s.id = v.session_id;
	END IF;
END
$$;
COMMENT ON FUNCTION auth.session_principal(bytea) IS
    'A session''s principal for api.authenticate (problem: why it may '
    'not act); all NULL for an unknown hash.  Moves last_seen_at.';
GRANT EXECUTE ON FUNCTION auth.session_principal(bytea) TO
    nrm_reporter, nrm_coordinator, nrm_assessor, nrm_investigator,
    nrm_auditor, nrm_analyst, nrm_admin;
-- api.authenticate and api.principal_role (SECURITY DEFINER of nrm_gate,
-- 0018) call it; a GRANT of its own keeps the access list the same in a
-- database migrated forward and in a fresh one.
GRANT EXECUTE ON FUNCTION auth.session_principal(bytea) TO nrm_gate;

-- Handed to nrm_people, which may create in schema auth only meanwhile
-- (a new owner needs CREATE on the schema, as in 0004-0006).
GRANT CREATE ON SCHEMA auth TO nrm_people;
ALTER FUNCTION auth.person_issue(uuid, bytea, integer) OWNER TO nrm_people;
ALTER FUNCTION auth.person_end_sessions(uuid, text) OWNER TO nrm_people;
ALTER FUNCTION auth.person_insert(text, text, uuid, text, text[], uuid, uuid,
    bytea, integer) OWNER TO nrm_people;
ALTER FUNCTION auth.person_change(uuid, text, bytea, integer) OWNER TO
    nrm_people;
ALTER FUNCTION auth.session_principal(bytea) OWNER TO nrm_people;
REVOKE CREATE ON SCHEMA auth FROM nrm_people;
GRANT EXECUTE ON FUNCTION auth.person_insert(text, text, uuid, text, text[],
    uuid, uuid, bytea, integer), auth.person_change(uuid, text, bytea,
    integer) TO nrm_admin;

-- ---------------------------------------------------------------------
-- Admin entry points (role admin)
-- ---------------------------------------------------------------------

/*
 * POST /v1/admin/persons: 201 the person with enrolment_expires_at;
 * 422 naming the field (failed/invalid_body); 409 field login
 * (failed/login_taken).  Audited person.create on the new person.
 */
CREATE OR REPLACE FUNCTION api.person_create(p_token_hash bytea,
    p_request_id text, p_client inet, p_login text, p_display_name text,
    p_agency_id uuid, p_role text, p_regions text[], p_code_hash bytea,
    p_code_valid_s integer) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_problem jsonb;
	v_person jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['admin'], 'person.create', 'person', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	v_problem := auth.person_problem(p_login, p_display_name,
	    p_agency_id, p_role, p_regions);
	IF v_problem IS NOT NULL THEN
		RETURN api.refuse(v_p, NULL, 'failed', 'invalid_body',
		    api.problem(422, 'validation', v_problem->>'detail',
		        v_problem->>'field'));
	END IF;
	v_person := auth.person_insert(p_login, p_display_name, p_agency_id,
	    p_role, p_regions, v_p.key_id, v_p.person_id, p_code_hash,
	    p_code_valid_s);
	IF v_person IS NULL THEN
		RETURN api.refuse(v_p, NULL, 'failed', 'login_taken',
		    api.problem(409, 'conflict', 'this login is taken',
		        'login'));
	END IF;
	v_p.object_id := v_person->>'id';
	RETURN api.answer(v_p, NULL, pg_catalog.jsonb_build_object(
	    'status', 201, 'body', v_person,
	    'location', '/v1/admin/persons/' || (v_person->>'id')));
END
$$;
COMMENT ON FUNCTION api.person_create(bytea, text, inet, text, text, uuid,
    text, text[], bytea, integer) IS
    'POST /v1/admin/persons (admin): a person and its first enrolment '
    'code (hash); audited person.create.';

/*
 * GET /v1/admin/persons: persons by login, keyset on login (p_after:
 * the previous page's next_after), p_lim 1..200 (default 50).
 */
CREATE OR REPLACE FUNCTION api.person_list(p_token_hash bytea,
    p_request_id text, p_client inet, p_after text DEFAULT NULL,
    p_lim integer DEFAULT 50) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_lim integer := COALESCE(p_lim, 50);
	v_items jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['admin'], 'person.list', 'person', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF v_lim NOT BETWEEN 1 AND 200 THEN
		RETURN api.refuse(v_p, NULL, 'failed', 'bad_request',
		    api.problem(400, 'bad_request', 'limit must be 1 to 200',
		        'limit'));
	END IF;
	SELECT COALESCE(pg_catalog.jsonb_agg(auth.person_json(x)
	    ORDER BY x.login COLLATE "C"), '[]'::jsonb)
	INTO v_items
	FROM (SELECT * FROM auth.person p
	    WHERE p_after IS NULL OR p.login COLLATE "C" > p_after
	    ORDER BY p.login COLLATE "C" LIMIT v_lim + 1) x;
	RETURN api.answer_page(v_p, NULL, v_items, v_lim, 'login');
END
$$;
COMMENT ON FUNCTION api.person_list(bytea, text, inet, text, integer) IS
    'GET /v1/admin/persons (admin): a page of persons by login; audited '
    'person.list.';

/*
 * The admin actions on one person: read (p_op NULL), disable, enable,
 * reset (auth.person_change).  404 for no such person (denied/
 * not_found).
 */
CREATE OR REPLACE FUNCTION api.person_act(p_token_hash bytea,
    p_request_id text, p_client inet, p_action text, p_person_id uuid,
    p_op text, p_code_hash bytea, p_code_valid_s integer) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_person jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['admin'], p_action, 'person', p_person_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF p_op IS NULL THEN
		SELECT auth.person_json(x) INTO v_person FROM auth.person x
		WHERE x.id = p_person_id;
	ELSE
		v_person := auth.person_change(p_person_id, p_op, p_code_hash,
		    p_code_valid_s);
	END IF;
	IF v_person IS NULL THEN
		RETURN api.refuse(v_p, NULL, 'denied', 'not_found',
		    api.problem(404, 'not_found', 'no person with this id'));
	END IF;
	RETURN api.answer(v_p, NULL, pg_catalog.jsonb_build_object(
	    'status', 200, 'body', v_person));
END
$$;
COMMENT ON FUNCTION api.person_act(bytea, text, inet, text, uuid, text,
    bytea, integer) IS
    'Read, disable, enable or reset one person (admin), audited p_action.';
GRANT EXECUTE ON FUNCTION api.person_act(bytea, text, inet, text, uuid,
    text, bytea, integer) TO nrm_admin;

CREATE OR REPLACE FUNCTION api.person_get(p_token_hash bytea,
    p_request_id text, p_client inet, p_person_id uuid) RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.person_act(p_token_hash, p_request_id, p_client,
	    'person.read', p_person_id, NULL, NULL, NULL)
$$;
COMMENT ON FUNCTION api.person_get(bytea, text, inet, uuid) IS
    'GET /v1/admin/persons/{id} (admin); audited person.read.';

CREATE OR REPLACE FUNCTION api.person_disable(p_token_hash bytea,
    p_request_id text, p_client inet, p_person_id uuid) RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.person_act(p_token_hash, p_request_id, p_client,
	    'person.disable', p_person_id, 'disable', NULL, NULL)
$$;
COMMENT ON FUNCTION api.person_disable(bytea, text, inet, uuid) IS
    'POST /v1/admin/persons/{id}/disable (admin): ends every session; '
    'audited person.disable.';

CREATE OR REPLACE FUNCTION api.person_enable(p_token_hash bytea,
    p_request_id text, p_client inet, p_person_id uuid) RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.person_act(p_token_hash, p_request_id, p_client,
	    'person.enable', p_person_id, 'enable', NULL, NULL)
$$;
COMMENT ON FUNCTION api.person_enable(bytea, text, inet, uuid) IS
    'POST /v1/admin/persons/{id}/enable (admin); audited person.enable.';

CREATE OR REPLACE FUNCTION api.person_reset(p_token_hash bytea,
    p_request_id text, p_client inet, p_person_id uuid, p_code_hash bytea,
    p_code_valid_s integer) RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.person_act(p_token_hash, p_request_id, p_client,
	    'person.reset', p_person_id, 'reset', p_code_hash, p_code_valid_s)
$$;
COMMENT ON FUNCTION api.person_reset(bytea, text, inet, uuid, bytea,
    integer) IS
    'POST /v1/admin/persons/{id}/reset (admin): drops the credentials and '
    'recovery codes, ends every session, issues a new enrolment code; '
    'audited person.reset.';

-- A door: sql/api/99_doors.sql grants it to nrm_app.

