-- 12_floods.sql - api functions of the flood guards (issue 14, part 2;
-- docs/security.md, "Floods and guessing").  A repeatable file
-- (docs/sql-api.md, "Migrations"), applied after 10_common.sql, whose
-- api.audit it uses.

/*
 * One audit event for a burst of refused tokens that nrmd answered from
 * its rejected-token cache (nrm-api/nrmd/guard.h) instead of asking the
 * database each time: the first refusal of each token was audited by
 * api.authenticate as unknown_token / revoked_key; the repeats within
 * the window are summed here, p_count of them over p_window_s seconds.
 * The event names no token (nrmd never sends one) and no key: action
 * auth.rejected_burst, object_type rejected_tokens, object_id the count,
 * outcome denied, reason unknown_token_burst, request_id
 * "window_s=<p_window_s>".  Answers {"recorded": 1}.
 */
CREATE OR REPLACE FUNCTION api.auth_rejections(p_count integer,
    p_window_s integer)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM api.scope_clear();
	IF p_count IS NULL OR p_count < 1 OR p_window_s IS NULL
	    OR p_window_s < 1 THEN
		RETURN pg_catalog.jsonb_build_object('recorded', 0);
	END IF;
	PERFORM api.audit(NULL, NULL, NULL, 'auth.rejected_burst',
	    'rejected_tokens', p_count::text, NULL, 'denied',
	    'unknown_token_burst', 'window_s=' || p_window_s::text, NULL);
	RETURN pg_catalog.jsonb_build_object('recorded', 1);
END
$$;
COMMENT ON FUNCTION api.auth_rejections(integer, integer) IS
    'One audit event summing p_count token refusals nrmd answered from '
    'its cache over p_window_s seconds (no token, no key).';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
