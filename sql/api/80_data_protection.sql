-- 80_data_protection.sql - api functions of personal data at rest
-- (issue 15, docs/data-protection.md).  A repeatable file
-- (docs/sql-api.md, "Migrations"); the tables are in 0017.

/*
 * The shape of a sealed value (0017): NULL, or 0x01 | data key id[16] |
 * nonce[12] | ciphertext | tag[16], 45 bytes more than the plaintext
 * (at most p_max bytes).  The CHECK constraints of every sealed column
 * call it (care.subject's six, intake.signal's, the notes'...).  A
 * standard-SQL body, bound when created, and no SET clause: PostgreSQL
 * inlines it into each constraint's expression.  0017's body had a SET
 * search_path, so each of an intake's seven calls ran as a SQL function
 * of its own, planned every time (docs/performance.md).
 */
CREATE OR REPLACE FUNCTION care.sealed_ok(p_v bytea, p_max integer)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN p_v IS NULL OR (pg_catalog.octet_length(p_v)
    BETWEEN 45 AND 45 + p_max AND pg_catalog.get_byte(p_v, 0) = 1);

/*
 * Register the data key nrmd sent with a sealed entry of a case (an
 * identification entry, a panel vote, a note: {"id", "kek_id",
 * "wrapped"}, wrapped under the KEK); the key belongs to the case's
 * signal, so that erasing the signal's keys shreds the entry too.
 * Returns the key's id, or NULL when p_key is absent or JSON null (the
 * entry has nothing sealed).  Runs as the door's role.
 */
CREATE OR REPLACE FUNCTION care.case_data_key(p_case_id uuid, p_key jsonb)
RETURNS uuid
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_key IS NULL OR pg_catalog.jsonb_typeof(p_key) = 'null' THEN
		RETURN NULL;
	END IF;
	INSERT INTO care.data_key (id, signal_id, kek_id, wrapped)
	SELECT (p_key->>'id')::uuid, c.signal_id, p_key->>'kek_id',
	    pg_catalog.decode(p_key->>'wrapped', 'base64')
	FROM care.case c WHERE c.id = p_case_id;
	RETURN (p_key->>'id')::uuid;
END
$$;
COMMENT ON FUNCTION care.case_data_key(uuid, jsonb) IS
    'Register the wrapped data key nrmd sent with a sealed entry of a '
    'case, under the case''s signal; its id, or NULL without one.';
REVOKE ALL ON FUNCTION care.case_data_key(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.case_data_key(uuid, jsonb) TO
    nrm_coordinator, nrm_assessor;

/*
 * A sealed value nrmd could not open (tampered, moved from another row
 * or column, its data key gone): one audit event data.decrypt_failed
 * for the object read, outcome failed, p_reason one word (tampered,
 * misplaced, malformed, no_key).  Never a value.  The caller is the
 * principal whose read found it (coordinator, assessor, since 0025
 * investigator: a sealed reference of an investigation record, and the
 * privacy officer: a sealed text of a subject export).
 */
CREATE OR REPLACE FUNCTION api.data_unreadable_body(p_token_hash bytea,
    p_request_id text, p_client inet, p_object_type text,
    p_object_id text, p_reason text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
BEGIN
	IF p_reason IS NULL OR p_reason NOT IN ('tampered', 'misplaced',
	    'malformed', 'no_key') THEN
		RAISE EXCEPTION 'p_reason must be tampered, misplaced, '
		    'malformed or no_key'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator', 'assessor', 'investigator',
	    'privacy_officer'], 'data.decrypt_failed', p_object_type,
	    p_object_id);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	RETURN api.refuse(v_p, NULL, 'failed', p_reason,
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	        '{}'::jsonb));
END
$$;
COMMENT ON FUNCTION api.data_unreadable_body(bytea, text, inet, text, text,
    text) IS 'nrmd found a sealed value it could not open in an answer: audit '
    'data.decrypt_failed (outcome failed, the reason word, no value).';
GRANT EXECUTE ON FUNCTION api.data_unreadable_body(bytea, text, inet, text,
    text, text) TO nrm_coordinator, nrm_assessor, nrm_investigator,
    nrm_privacy_officer;
