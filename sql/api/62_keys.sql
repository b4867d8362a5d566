-- 62_keys.sql - api functions of API key administration over HTTP
-- (issue 12, docs/people.md "API keys"): list, create, revoke.  A
-- repeatable file (docs/sql-api.md, "Migrations"; the columns and
-- grants are 0010's).
--
-- nrmd makes the token (crypto.c nrm_token_new, the one generator nrmctl
-- uses too) and sends only its SHA-256; the token is in the 201 answer
-- once and nowhere else.  No function here reads or returns token_hash.
-- A person's own key (auth.person.key_id) is the person's: never listed
-- here, never revoked here (the person is disabled instead).  SECURITY
-- INVOKER entry points: api.enter switches to nrm_admin, which holds
-- 0010's column grants.

-- A key as the admin endpoints show it (no token, no hash).
CREATE OR REPLACE FUNCTION auth.key_json(p_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('id', k.id, 'label', k.label,
	    'role', k.role, 'agency_id', k.agency_id, 'agency', a.name,
	    'agency_kind', a.kind,
	    'regions', COALESCE(k.regions, '{}'::text[]),
	    'created_at', api.rfc3339(k.created_at),
	    'created_by_key', k.created_by_key,
	    'created_by_person', k.created_by_person,
	    'revoked_at', api.rfc3339(k.revoked_at))
	FROM auth.api_key k JOIN auth.agency a ON a.id = k.agency_id
	WHERE k.id = p_id
	    AND NOT EXISTS (SELECT 1 FROM auth.person p WHERE p.key_id = k.id)
$$;
COMMENT ON FUNCTION auth.key_json(uuid) IS
    'An API key as the admin endpoints answer it (no token hash); NULL '
    'for no such key or a person''s own key.';
GRANT EXECUTE ON FUNCTION auth.key_json(uuid) TO nrm_admin;

/*
 * POST /v1/admin/keys: 201 the key (nrmd adds the token); 422 naming
 * the field (failed/invalid_body).  Audited key.create on the new key.
 */
CREATE OR REPLACE FUNCTION api.key_create(p_token_hash bytea,
    p_request_id text, p_client inet, p_label text, p_agency_id uuid,
    p_role text, p_regions text[], p_new_hash bytea) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_problem jsonb;
	v_id uuid;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['admin'], 'key.create', 'api_key', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF pg_catalog.octet_length(p_new_hash) IS DISTINCT FROM 32 THEN
		RAISE EXCEPTION 'key token hash invalid'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_label IS NULL OR pg_catalog.char_length(p_label) NOT BETWEEN 1
	    AND 200 OR p_label ~ '[[:cntrl:]]' THEN
		v_problem := pg_catalog.jsonb_build_object('field', 'label',
		    'detail', 'label must be 1 to 200 characters without '
		    'control characters');
	ELSE
		v_problem := auth.principal_problem(p_agency_id, p_role,
		    p_regions);
	END IF;
	IF v_problem IS NOT NULL THEN
		RETURN api.refuse(v_p, NULL, 'failed', 'invalid_body',
		    api.problem(422, 'validation', v_problem->>'detail',
		        v_problem->>'field'));
	END IF;
	INSERT INTO auth.api_key (token_hash, agency_id, role, regions, label,
	    created_by_key, created_by_person)
	VALUES (p_new_hash, p_agency_id, p_role, CASE WHEN p_role =
	    'coordinator' THEN p_regions END, p_label, v_p.key_id,
	    v_p.person_id)
	RETURNING id INTO v_id;
	v_p.object_id := v_id::text;
	RETURN api.answer(v_p, NULL, pg_catalog.jsonb_build_object(
	    'status', 201, 'body', auth.key_json(v_id)));
END
$$;
COMMENT ON FUNCTION api.key_create(bytea, text, inet, text, uuid, text,
    text[], bytea) IS
    'POST /v1/admin/keys (admin): a key with the token hash nrmd made; '
    'audited key.create.';

/*
 * GET /v1/admin/keys: keys but the persons' own, by creation (keyset:
 * p_after is the previous page's next_after, a key id), p_lim 1..200.
 */
CREATE OR REPLACE FUNCTION api.key_list(p_token_hash bytea,
    p_request_id text, p_client inet, p_after uuid DEFAULT NULL,
    p_lim integer DEFAULT 50) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_lim integer := COALESCE(p_lim, 50);
	v_from timestamptz;
	v_items jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['admin'], 'key.list', 'api_key', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF v_lim NOT BETWEEN 1 AND 200 THEN
		RETURN api.refuse(v_p, NULL, 'failed', 'bad_request',
		    api.problem(400, 'bad_request', 'limit must be 1 to 200',
		        'limit'));
	END IF;
	IF p_after IS NOT NULL THEN
		SELECT k.created_at INTO v_from FROM auth.api_key k
		WHERE k.id = p_after;
		IF NOT FOUND THEN
			RETURN api.refuse(v_p, NULL, 'failed', 'bad_request',
			    api.problem(400, 'bad_request',
			        'after must be a next_after of this list',
			        'after'));
		END IF;
	END IF;
	SELECT COALESCE(pg_catalog.jsonb_agg(auth.key_json(x.id)
	    ORDER BY x.created_at, x.id), '[]'::jsonb)
	INTO v_items
	FROM (SELECT k.id, k.created_at FROM auth.api_key k
	    WHERE NOT EXISTS (SELECT 1 FROM auth.person p
	        WHERE p.key_id = k.id)
	        AND (p_after IS NULL OR (k.created_at, k.id) > (v_from,
	            p_after))
	    ORDER BY k.created_at, k.id LIMIT v_lim + 1) x;
	RETURN api.answer_page(v_p, NULL, v_items, v_lim, 'id');
END
$$;
COMMENT ON FUNCTION api.key_list(bytea, text, inet, uuid, integer) IS
    'GET /v1/admin/keys (admin): a page of keys (not the persons'' own) '
    'by creation; audited key.list.';

/*
 * POST /v1/admin/keys/{id}/revoke: 200 the key, revoked (again: the
 * first revocation stands); 404 for no such key or a person's own key
 * (denied/not_found).  Audited key.revoke.  The database refuses the
 * key from this commit on; nrmd also drops it from its principal cache.
 */
CREATE OR REPLACE FUNCTION api.key_revoke(p_token_hash bytea,
    p_request_id text, p_client inet, p_key_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_key jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['admin'], 'key.revoke', 'api_key',
	    p_key_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	UPDATE auth.api_key k SET revoked_at = pg_catalog.now()
	WHERE k.id = p_key_id AND k.revoked_at IS NULL
	    AND NOT EXISTS (SELECT 1 FROM auth.person p
	        WHERE p.key_id = k.id);
	v_key := auth.key_json(p_key_id);
	IF v_key IS NULL THEN
		RETURN api.refuse(v_p, NULL, 'denied', 'not_found',
		    api.problem(404, 'not_found', 'no API key with this id'));
	END IF;
	RETURN api.answer(v_p, NULL, pg_catalog.jsonb_build_object(
	    'status', 200, 'body', v_key));
END
$$;
COMMENT ON FUNCTION api.key_revoke(bytea, text, inet, uuid) IS
    'POST /v1/admin/keys/{id}/revoke (admin): revoke a key (not a '
    'person''s own); audited key.revoke.';

-- A door: sql/api/99_doors.sql grants it to nrm_app.
