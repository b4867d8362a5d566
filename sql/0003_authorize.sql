-- 0003_authorize: api.authorize, the principal look-up nrmd caches, and
-- api.record, the audited authorisation of actions that store nothing.
--
-- nrmd needs to know a caller's role and agency kind before it can route
-- a signal (rules may depend on the reporter's agency kind) and before it
-- answers a validation error (a caller that may not act must get 401/403,
-- not 422).  It asks once per key and caches the answer for a short time;
-- every api.* entry point still authenticates again inside its own
-- transaction, so a revoked key is refused on its very next request.

CREATE FUNCTION api.authorize(p_token_hash bytea, p_request_id text,
    p_client inet, p_roles text[], p_action text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, p_roles, p_action, NULL, NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('key_id', v_p.key_id,
	        'agency_id', v_p.agency_id, 'role', v_p.role,
	        'agency_kind', v_p.agency_kind,
	        'regions', COALESCE(v_p.regions, '{}'::text[])));
END
$$;
COMMENT ON FUNCTION api.authorize(bytea, text, inet, text[], text) IS
    'The principal of a token hash if its role is one of p_roles, else '
    'the audited 401/403 answer.  Reads no personal data; switches no '
    'role.';

REVOKE ALL ON FUNCTION api.authorize(bytea, text, inet, text[], text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.authorize(bytea, text, inet, text[], text)
    TO nrm_app;

-- An allowed action that touches no table of its own (explaining a
-- routing decision, reading the routing configuration, reloading it):
-- authenticate, and record it in the audit log, in one transaction.
CREATE FUNCTION api.record(p_token_hash bytea, p_request_id text,
    p_client inet, p_roles text[], p_action text, p_object_type text,
    p_object_id text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, p_roles, p_action, p_object_type, p_object_id);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role, p_action,
	    p_object_type, p_object_id, NULL, 'allowed', NULL, p_request_id,
	    p_client);
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('key_id', v_p.key_id,
	        'agency_id', v_p.agency_id, 'role', v_p.role,
	        'agency_kind', v_p.agency_kind,
	        'regions', COALESCE(v_p.regions, '{}'::text[])));
END
$$;
COMMENT ON FUNCTION api.record(bytea, text, inet, text[], text, text, text)
    IS 'Authenticate for p_roles and audit an allowed action that stores '
    'nothing else (routing explain, configuration read and reload).';

REVOKE ALL ON FUNCTION api.record(bytea, text, inet, text[], text, text,
    text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.record(bytea, text, inet, text[], text, text,
    text) TO nrm_app;
