-- 65_sessions.sql - api functions of personal accounts (issue 11), part
-- two: enrolment, login, the session's own view and end, and the
-- handover of a held case.  A repeatable file (docs/sql-api.md,
-- "Migrations"; the tables and the role nrm_people are 0009's; the
-- person helpers are 60_people.sql's).
--
-- Applied by `nrmctl migrate` after the numbered migrations, in the same
-- transaction, every file of sql/api/ in name order, and recorded with
-- its SHA-256 in nrm.schema_repeatable.  Each function stands here once,
-- as CREATE OR REPLACE, with its comment, grants and owner; change it
-- here.  The functions without an API role are SECURITY DEFINER owned
-- by nrm_people (see 60_people.sql); nothing secret goes into an answer,
-- an audit event or an error (since 0024 not even to nrmd: the database
-- verifies the password's Argon2id tag and the TOTP code itself).
-- The SECURITY DEFINER functions below are handed to nrm_people, which
-- may create in schema auth only while this file runs (a new owner
-- needs CREATE on the schema, as in 0004-0006); revoked at the end.
GRANT CREATE ON SCHEMA auth TO nrm_people;

-- ---------------------------------------------------------------------
-- Enrolment and login (no token; SECURITY DEFINER, owned by nrm_people)
-- ---------------------------------------------------------------------

-- The person of a usable enrolment code (unused, unexpired, person
-- active), locked FOR UPDATE when p_lock; NULL otherwise.
CREATE OR REPLACE FUNCTION auth.enrolment_person(p_code_hash bytea,
    p_lock boolean) RETURNS auth.person
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id uuid;
	v_p auth.person;
BEGIN
	IF p_lock THEN
		-- The row lock makes the code work once: of two concurrent
		-- enrolments the second waits, then sees used_at set.
		UPDATE auth.enrolment e SET used_at = pg_catalog.now()
		WHERE e.code_hash = p_code_hash AND e.used_at IS NULL
		  AND e.expires_at > pg_catalog.now()
		RETURNING e.person_id INTO v_id;
	ELSE
		SELECT e.person_id INTO v_id FROM auth.enrolment e
		WHERE e.code_hash = p_code_hash AND e.used_at IS NULL
		  AND e.expires_at > pg_catalog.now();
	END IF;
	SELECT * INTO v_p FROM auth.person p
	WHERE p.id = v_id AND p.status = 'active';
	RETURN v_p;
END
$$;
COMMENT ON FUNCTION auth.enrolment_person(bytea, boolean) IS
    'The active person of a usable enrolment code (p_lock: and use it).';
ALTER FUNCTION auth.enrolment_person(bytea, boolean) OWNER TO nrm_people;

/*
 * POST /v1/enrol, first step (nrmd checks the password against the
 * person's login and name): 200 {login, display_name} for a usable
 * code, else 400 field enrolment_code with one detail for unknown,
 * expired, used codes and disabled persons.  Reads only; not audited
 * (api.enrol is).
 */
CREATE OR REPLACE FUNCTION auth.enrol_lookup(p_request_id text,
    p_client inet, p_code_hash bytea) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p auth.person := auth.enrolment_person(p_code_hash, false);
BEGIN
	IF v_p.id IS NULL THEN
		RETURN api.problem(400, 'bad_request',
		    'invalid or expired enrolment code', 'enrolment_code');
	END IF;
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('login', v_p.login,
	        'display_name', v_p.display_name));
END
$$;
COMMENT ON FUNCTION auth.enrol_lookup(text, inet, bytea) IS
    'The login and display name of a usable enrolment code, or the 400 '
    'that does not say why a code is not usable.';

/*
 * The weakest Argon2id parameters and lengths the database takes at
 * enrolment (nrmd's, password.h NRM_ARGON2_*; OWASP's minimum), and the
 * parameters an unknown login is answered with when nobody is enrolled.
 */
CREATE OR REPLACE FUNCTION auth.argon2_floor(OUT m_kib integer,
    OUT t_cost integer, OUT lanes integer, OUT salt_len integer,
    OUT tag_len integer)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT 19456, 2, 1, 16, 32
$$;
COMMENT ON FUNCTION auth.argon2_floor() IS
    'The weakest Argon2id parameters enrolment accepts (nrmd''s own).';
GRANT EXECUTE ON FUNCTION auth.argon2_floor() TO nrm_people;

/*
 * POST /v1/enrol: store the password verifier (SHA-256 of the Argon2id
 * tag nrmd derived with p_salt and p_params {m_kib, t_cost, lanes}), the
 * TOTP secret and the recovery code hashes of the code's person and use
 * the code up.  201 {login}; 400 as api.enrol_lookup (audited failed/
 * invalid_code).  Audited person.enrol on the person.  Raises 22023 on
 * arguments nrmd cannot have sent (parameters or salt or tag weaker
 * than auth.argon2_floor or beyond the table's limits, a secret not 20
 * bytes, a recovery hash not 32 bytes, not 1..20 of them).  The tag is
 * hashed here and kept nowhere.
 */
CREATE OR REPLACE FUNCTION auth.enrol(p_request_id text, p_client inet,
    p_code_hash bytea, p_salt bytea, p_params integer[], p_tag bytea,
    p_totp_secret bytea, p_recovery_hashes bytea[]) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p auth.person;
	v_f record := auth.argon2_floor();
BEGIN
	IF pg_catalog.cardinality(p_params) IS DISTINCT FROM 3
	    OR p_params[1] IS NULL OR p_params[1] < v_f.m_kib
	    OR p_params[2] IS NULL OR p_params[2] < v_f.t_cost
	    OR p_params[3] IS NULL OR p_params[3] < v_f.lanes
	    OR COALESCE(pg_catalog.octet_length(p_salt), 0) < v_f.salt_len
	    OR COALESCE(pg_catalog.octet_length(p_tag), 0) < v_f.tag_len
	    OR pg_catalog.octet_length(p_totp_secret) IS DISTINCT FROM 20
	    OR COALESCE(pg_catalog.cardinality(p_recovery_hashes), 0)
	        NOT BETWEEN 1 AND 20
	    OR EXISTS (SELECT 1 FROM pg_catalog.unnest(p_recovery_hashes) h
	        WHERE pg_catalog.octet_length(h) IS DISTINCT FROM 32) THEN
		RAISE EXCEPTION 'enrolment arguments invalid'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_p := auth.enrolment_person(p_code_hash, true);
	IF v_p.id IS NULL THEN
		PERFORM api.audit_person(NULL, NULL, NULL, NULL,
		    'person.enrol', 'person', NULL, NULL, 'failed',
		    'invalid_code', p_request_id, p_client);
		RETURN api.problem(400, 'bad_request',
		    'invalid or expired enrolment code', 'enrolment_code');
	END IF;
	DELETE FROM auth.recovery_code r WHERE r.person_id = v_p.id;
	INSERT INTO auth.person_credential (person_id, password_salt,
	    password_m_kib, password_t_cost, password_lanes, password_tag_len,
	    password_verifier, totp_secret)
	VALUES (v_p.id, p_salt, p_params[1], p_params[2], p_params[3],
	    pg_catalog.octet_length(p_tag), pg_catalog.sha256(p_tag),
	    p_totp_secret)
	ON CONFLICT (person_id) DO UPDATE SET
	    password_salt = EXCLUDED.password_salt,
	    password_m_kib = EXCLUDED.password_m_kib,
	    password_t_cost = EXCLUDED.password_t_cost,
	    password_lanes = EXCLUDED.password_lanes,
	    password_tag_len = EXCLUDED.password_tag_len,
	    password_verifier = EXCLUDED.password_verifier,
	    totp_secret = EXCLUDED.totp_secret, totp_last_step = 0,
	    enrolled_at = pg_catalog.now(), updated_at = pg_catalog.now();
	INSERT INTO auth.recovery_code (person_id, code_hash)
	SELECT DISTINCT v_p.id, h FROM pg_catalog.unnest(p_recovery_hashes) h;
	PERFORM api.audit_person(v_p.id, v_p.key_id, v_p.agency_id, v_p.role,
	    'person.enrol', 'person', v_p.id::text, NULL, 'allowed', NULL,
	    p_request_id, p_client);
	RETURN pg_catalog.jsonb_build_object('status', 201, 'body',
	    pg_catalog.jsonb_build_object('login', v_p.login));
END
$$;
COMMENT ON FUNCTION auth.enrol(text, inet, bytea, bytea, integer[], bytea,
    bytea, bytea[]) IS
    'POST /v1/enrol: set a person''s credentials with a one-time '
    'enrolment code (works once, also under concurrency); audited '
    'person.enrol.';

-- How many of a login and a client address are locked now (0..2).
CREATE OR REPLACE FUNCTION auth.login_locks(p_login text, p_client inet)
RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.count(*)::integer FROM auth.login_lock l
	WHERE l.locked_until > pg_catalog.now()
	  AND ((l.kind = 'login' AND l.subject = p_login)
	    OR (l.kind = 'address'
	        AND l.subject = pg_catalog.abbrev(p_client)))
$$;
COMMENT ON FUNCTION auth.login_locks(text, inet) IS
    'How many of the login and the client address are locked now.';
ALTER FUNCTION auth.login_locks(text, inet) OWNER TO nrm_people;

-- Whether a login or a client address is locked now.
CREATE OR REPLACE FUNCTION auth.login_locked(p_login text, p_client inet)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT auth.login_locks(p_login, p_client) > 0
$$;
COMMENT ON FUNCTION auth.login_locked(text, inet) IS
    'Whether the login or the client address is locked now.';
ALTER FUNCTION auth.login_locked(text, inet) OWNER TO nrm_people;

/*
 * POST /v1/session, first step: what nrmd derives the password's
 * Argon2id tag with, none of it secret.  200 {salt (hex), m_kib,
 * t_cost, lanes, tag_len}, always of this shape: for an unknown login
 * or a person not enrolled the salt is HMAC-SHA-256 of the login under
 * auth.login_secret (16 bytes: stable, unguessable without the secret)
 * and the parameters those of the newest credential (the floor when
 * there is none), so that nrmd does the same work and the answer does
 * not say whether the login exists.  Reads only; not audited
 * (api.login_finish is).
 */
CREATE OR REPLACE FUNCTION auth.login_begin(p_request_id text,
    p_client inet, p_login text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v record;
BEGIN
	SELECT c.password_salt AS salt, c.password_m_kib AS m_kib,
	    c.password_t_cost AS t_cost, c.password_lanes AS lanes,
	    c.password_tag_len AS tag_len INTO v
	FROM auth.person p
	JOIN auth.person_credential c ON c.person_id = p.id
	WHERE p.login = p_login;
	IF NOT FOUND THEN
		SELECT pg_catalog.substr(pgcrypto.hmac(pg_catalog.convert_to(
		        COALESCE(p_login, ''), 'UTF8'), s.secret, 'sha256'),
		        1, 16) AS salt, x.m_kib, x.t_cost, x.lanes, x.tag_len
		INTO v
		FROM auth.login_secret s,
		LATERAL (SELECT c.password_m_kib AS m_kib,
		        c.password_t_cost AS t_cost,
		        c.password_lanes AS lanes,
		        c.password_tag_len AS tag_len, c.updated_at
		    FROM auth.person_credential c
		    UNION ALL
		    SELECT f.m_kib, f.t_cost, f.lanes, f.tag_len, NULL
		    FROM auth.argon2_floor() f
		    ORDER BY 5 DESC NULLS LAST LIMIT 1) x;
	END IF;
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('salt',
	        pg_catalog.encode(v.salt, 'hex'), 'm_kib', v.m_kib,
	        't_cost', v.t_cost, 'lanes', v.lanes, 'tag_len', v.tag_len));
END
$$;
COMMENT ON FUNCTION auth.login_begin(text, inet, text) IS
    'The Argon2id salt and parameters of a login (a stable fake salt for '
    'an unknown one: the same shape); nothing secret; not audited.';

/*
 * HOTP (RFC 4226): the p_digits-digit code of key p_key at counter
 * p_counter, HMAC-SHA-1 with dynamic truncation (totp.c's nrm_hotp).
 */
CREATE OR REPLACE FUNCTION auth.hotp(p_key bytea, p_counter bigint,
    p_digits integer) RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_mac bytea := pgcrypto.hmac(pg_catalog.int8send(p_counter), p_key,
	    'sha1');
	v_off integer := pg_catalog.get_byte(v_mac, 19) & 15;
BEGIN
	IF p_digits NOT BETWEEN 6 AND 8 THEN
		RAISE EXCEPTION 'hotp digits must be 6 to 8'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- (PostgreSQL gives << and | the same precedence: parenthesised)
	RETURN ((((pg_catalog.get_byte(v_mac, v_off) & 127)::bigint << 24)
	    | (pg_catalog.get_byte(v_mac, v_off + 1) << 16)
	    | (pg_catalog.get_byte(v_mac, v_off + 2) << 8)
	    | pg_catalog.get_byte(v_mac, v_off + 3))
	    % (ARRAY[1000000, 10000000, 100000000])[p_digits - 5])::integer;
END
$$;
COMMENT ON FUNCTION auth.hotp(bytea, bigint, integer) IS
    'HOTP (RFC 4226) of a key at a counter, 6 to 8 digits.';

/*
 * The TOTP check (RFC 6238, totp.c's rules): p_code is 6 digits, spaces
 * anywhere ignored, at most 16 bytes; every step of the window (the
 * step of p_at and one either side, none below 0) is computed.  step:
 * the latest matching step later than p_last_step (fresh true), else
 * the latest matching one (fresh false: a replay), else NULL.
 */
CREATE OR REPLACE FUNCTION auth.totp_check(p_secret bytea, p_code text,
    p_last_step bigint, p_at timestamptz, OUT step bigint,
    OUT fresh boolean)
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c_period constant integer := 30;
	c_drift constant integer := 1;
	v_code text := pg_catalog.replace(p_code, ' ', '');
	v_cur bigint := pg_catalog.floor(
	    EXTRACT(EPOCH FROM p_at) / c_period)::bigint;
	v_at bigint;
	v_same boolean;
BEGIN
	fresh := false;
	IF p_secret IS NULL OR p_code IS NULL OR p_at IS NULL
	    OR pg_catalog.octet_length(p_code) > 16
	    OR v_code !~ '^[0-9]{6}$' THEN
		RETURN;
	END IF;
	FOR v_at IN v_cur - c_drift .. v_cur + c_drift LOOP
		CONTINUE WHEN v_at < 0;
		v_same := auth.hotp(p_secret, v_at, 6) = v_code::integer;
		IF v_same AND v_at > COALESCE(p_last_step, -1) THEN
			step := v_at;
			fresh := true;
		ELSIF v_same AND NOT fresh THEN
			step := v_at;
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION auth.totp_check(bytea, text, bigint, timestamptz) IS
    'The TOTP step a code matches in the window around p_at (fresh: later '
    'than the last one used), or NULL.';

/*
 * The SHA-256 of a recovery code as typed (totp.c's
 * nrm_recovery_code_hash: '-' and spaces dropped, case folded, i and l
 * read as 1, o as 0, 16 of Crockford's base32 letters), or NULL when
 * it cannot be one.
 */
CREATE OR REPLACE FUNCTION auth.recovery_code_hash(p_code text)
RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.sha256(pg_catalog.convert_to(n, 'UTF8'))
	FROM (SELECT pg_catalog.translate(pg_catalog.translate(p_code,
	        'ABCDEFGHIJKLMNOPQRSTUVWXYZ- ',
	        'abcdefghijklmnopqrstuvwxyz'), 'ilo', '110') AS n) x
	WHERE pg_catalog.octet_length(p_code) <= 64
	  AND n ~ '^[0-9a-hjkmnp-tv-z]{16}$'
$$;
COMMENT ON FUNCTION auth.recovery_code_hash(text) IS
    'SHA-256 of a normalised recovery code, or NULL.';

/*
 * Record a failed login and lock the login (and the client address)
 * when p_lock_after failures of it fell within the window.
 */
CREATE OR REPLACE FUNCTION auth.login_failed(p_login text, p_client inet,
    p_person auth.person, p_lock_after integer, p_lock_window_s integer,
    p_lock_for_s integer, p_request_id text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_login text := CASE WHEN p_login ~ '^[a-z0-9][a-z0-9._-]{2,63}$'
	    THEN p_login END;
	v_since timestamptz := pg_catalog.now()
	    - p_lock_window_s * interval '1 second';
	v_until timestamptz := pg_catalog.now()
	    + p_lock_for_s * interval '1 second';
BEGIN
	INSERT INTO auth.login_failure (login, client_addr)
	VALUES (v_login, p_client);
	IF v_login IS NOT NULL AND (SELECT pg_catalog.count(*)
	    FROM auth.login_failure f
	    WHERE f.login = v_login AND f.at > v_since) >= p_lock_after
	    AND NOT auth.login_locked(v_login, NULL) THEN
		INSERT INTO auth.login_lock (kind, subject, locked_until)
		VALUES ('login', v_login, v_until)
		ON CONFLICT (kind, subject)
		DO UPDATE SET locked_until = EXCLUDED.locked_until;
		PERFORM api.audit_person(p_person.id, p_person.key_id,
		    p_person.agency_id, p_person.role, 'person.lock',
		    'person', p_person.id::text, NULL, 'allowed',
		    'too_many_failures', p_request_id, p_client);
	END IF;
	IF p_client IS NOT NULL AND (SELECT pg_catalog.count(*)
	    FROM auth.login_failure f
	    WHERE f.client_addr = p_client AND f.at > v_since)
	        >= p_lock_after
	    AND NOT EXISTS (SELECT 1 FROM auth.login_lock l
	        WHERE l.kind = 'address'
	          AND l.subject = pg_catalog.abbrev(p_client)
	          AND l.locked_until > pg_catalog.now()) THEN
		INSERT INTO auth.login_lock (kind, subject, locked_until)
		VALUES ('address', pg_catalog.abbrev(p_client), v_until)
		ON CONFLICT (kind, subject)
		DO UPDATE SET locked_until = EXCLUDED.locked_until;
		PERFORM api.audit_person(NULL, NULL, NULL, NULL, 'person.lock',
		    'client', NULL, NULL, 'allowed', 'too_many_failures',
		    p_request_id, p_client);
	END IF;
END
$$;
COMMENT ON FUNCTION auth.login_failed(text, inet, auth.person, integer,
    integer, integer, text) IS
    'Count a failed login; lock the login and the address after '
    'p_lock_after failures within the window (audited person.lock).';
ALTER FUNCTION auth.login_failed(text, inet, auth.person, integer, integer,
    integer, text) OWNER TO nrm_people;

/*
 * POST /v1/session, second step (docs/sql-api.md "People"): the
 * database decides.  p_password_tag is the Argon2id tag nrmd derived
 * from the password typed with what api.login_begin gave; it is right
 * when its SHA-256 is the stored verifier.  p_totp is the code as typed
 * (auth.totp_check, at the database's clock), p_recovery_code a
 * recovery code as typed (auth.recovery_code_hash); one of them.  201
 * with a new session (p_session_token_hash) when the person is active,
 * neither login nor address is locked, the password is right and the
 * TOTP step is later than the last one (stored) or the recovery code is
 * unused (used up).  Otherwise the failure is counted
 * (auth.login_failed) and the answer is the same 401 for every reason
 * (audited person.login denied: bad_credentials, locked, disabled,
 * replay), with one member beside status and problem for nrmd alone:
 * locked_now, true when this failure locked the login or the client
 * address (nrmd counts it in nrm_login_locks_total and does not pass it
 * on; the client's 401 body is the same either way).  After a right
 * password and second factor, p_new_salt, p_new_params {m_kib, t_cost,
 * lanes} and p_new_tag, when given, replace the stored salt, parameters
 * and verifier (nrmd's rehash to stronger parameters, derived from the
 * same password; never weaker than the stored ones).
 */
CREATE OR REPLACE FUNCTION auth.login_finish(p_request_id text, p_client inet,
    p_login text, p_password_tag bytea, p_totp text, p_recovery_code text,
    p_session_token_hash bytea, p_idle_s integer, p_lifetime_s integer,
    p_lock_after integer, p_lock_window_s integer, p_lock_for_s integer,
    p_new_salt bytea, p_new_params integer[], p_new_tag bytea)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p auth.person;
	v_c auth.person_credential;
	v_f record := auth.argon2_floor();
	v_reason text;
	v_used timestamptz;
	v_rhash bytea;
	v_t record;
	v_s auth.session;
	v_locks integer;
	v_locked_now boolean;
BEGIN
	-- the numbers within the ranges nrmd's configuration allows
	-- (config.c): no caller lifts the lock out of reach
	IF pg_catalog.octet_length(p_session_token_hash) IS DISTINCT FROM 32
	    OR p_idle_s IS NULL OR p_idle_s NOT BETWEEN 1 AND 86400
	    OR p_lifetime_s IS NULL OR p_lifetime_s NOT BETWEEN 1 AND 604800
	    OR p_lock_after IS NULL OR p_lock_after NOT BETWEEN 1 AND 1000
	    OR p_lock_window_s IS NULL OR p_lock_window_s NOT BETWEEN 1 AND 86400
	    OR p_lock_for_s IS NULL OR p_lock_for_s NOT BETWEEN 1 AND 86400
	    OR pg_catalog.octet_length(p_password_tag) > 64
	    OR (p_new_tag IS NOT NULL AND (
	        pg_catalog.cardinality(p_new_params) IS DISTINCT FROM 3
	        OR pg_catalog.array_position(p_new_params, NULL) IS NOT NULL
	        OR p_new_params[1] < v_f.m_kib OR p_new_params[2] < v_f.t_cost
	        OR p_new_params[3] < v_f.lanes
	        OR COALESCE(pg_catalog.octet_length(p_new_salt), 0)
	            < v_f.salt_len
	        OR pg_catalog.octet_length(p_new_tag) < v_f.tag_len))
	THEN
		RAISE EXCEPTION 'login arguments invalid'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO v_p FROM auth.person p WHERE p.login = p_login;
	SELECT * INTO v_c FROM auth.person_credential c
	WHERE c.person_id = v_p.id FOR UPDATE;
	IF auth.login_locked(p_login, p_client) THEN
		v_reason := 'locked';
	ELSIF v_c.person_id IS NULL
	    OR pg_catalog.sha256(p_password_tag) IS DISTINCT FROM
	        v_c.password_verifier THEN
		v_reason := 'bad_credentials';
	ELSIF v_p.status <> 'active' THEN
		v_reason := 'disabled';
	ELSIF p_totp IS NOT NULL THEN
		v_t := auth.totp_check(v_c.totp_secret, p_totp,
		    v_c.totp_last_step, pg_catalog.now());
		IF v_t.step IS NULL THEN
			v_reason := 'bad_credentials';
		ELSIF NOT v_t.fresh THEN
			v_reason := 'replay';
		ELSE
			UPDATE auth.person_credential c
			SET totp_last_step = v_t.step
			WHERE c.person_id = v_p.id;
		END IF;
	ELSIF p_recovery_code IS NOT NULL THEN
		v_rhash := auth.recovery_code_hash(p_recovery_code);
		SELECT r.used_at INTO v_used FROM auth.recovery_code r
		WHERE r.person_id = v_p.id AND r.code_hash = v_rhash
		FOR UPDATE;
		IF NOT FOUND THEN
			v_reason := 'bad_credentials';
		ELSIF v_used IS NOT NULL THEN
			v_reason := 'replay';
		ELSE
			UPDATE auth.recovery_code r
			SET used_at = pg_catalog.now()
			WHERE r.person_id = v_p.id AND r.code_hash = v_rhash;
		END IF;
	ELSE
		v_reason := 'bad_credentials';
	END IF;
	IF v_reason IS NOT NULL THEN
		-- locked now: the login or the address was not locked before
		-- this failure was counted and is now
		v_locks := auth.login_locks(p_login, p_client);
		PERFORM auth.login_failed(p_login, p_client, v_p, p_lock_after,
		    p_lock_window_s, p_lock_for_s, p_request_id);
		v_locked_now := auth.login_locks(p_login, p_client) > v_locks;
		PERFORM api.audit_person(v_p.id, v_p.key_id, v_p.agency_id,
		    v_p.role, 'person.login', 'person', v_p.id::text, NULL,
		    'denied', v_reason, p_request_id, p_client);
		RETURN api.problem(401, 'unauthenticated', 'login failed')
		    || pg_catalog.jsonb_build_object('locked_now', v_locked_now);
	END IF;
	IF p_new_tag IS NOT NULL AND p_new_params[1] >= v_c.password_m_kib
	    AND p_new_params[2] >= v_c.password_t_cost
	    AND p_new_params[3] >= v_c.password_lanes THEN
		UPDATE auth.person_credential c
		SET password_salt = p_new_salt,
		    password_m_kib = p_new_params[1],
		    password_t_cost = p_new_params[2],
		    password_lanes = p_new_params[3],
		    password_tag_len = pg_catalog.octet_length(p_new_tag),
		    password_verifier = pg_catalog.sha256(p_new_tag),
		    updated_at = pg_catalog.now()
		WHERE c.person_id = v_p.id;
	END IF;
	DELETE FROM auth.login_failure f WHERE f.login = p_login;
	INSERT INTO auth.session (token_hash, person_id, idle_seconds,
	    expires_at, client_addr)
	VALUES (p_session_token_hash, v_p.id, p_idle_s,
	    pg_catalog.now() + p_lifetime_s * interval '1 second', p_client)
	RETURNING * INTO v_s;
	PERFORM api.audit_person(v_p.id, v_p.key_id, v_p.agency_id, v_p.role,
	    'person.login', 'person', v_p.id::text, NULL, 'allowed',
	    CASE WHEN p_totp IS NULL THEN 'recovery_code' END,
	    p_request_id, p_client);
	RETURN pg_catalog.jsonb_build_object('status', 201, 'body',
	    auth.session_json(v_p, v_s));
END
$$;
COMMENT ON FUNCTION auth.login_finish(text, inet, text, bytea, text, text,
    bytea, integer, integer, integer, integer, integer, bytea, integer[],
    bytea) IS
    'POST /v1/session: the database verifies the password''s Argon2id '
    'tag, the TOTP code or recovery code and opens a session, else the '
    'counted, audited 401 "login failed" (locked_now: this failure '
    'locked the login or the address; for nrmd only).';

-- A session as GET /v1/session and the login answer show it.
CREATE OR REPLACE FUNCTION auth.session_json(p auth.person, s auth.session)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('person',
	    pg_catalog.jsonb_build_object('id', p.id, 'login', p.login,
	        'display_name', p.display_name, 'role', p.role,
	        'agency_id', p.agency_id,
	        'regions', COALESCE(p.regions, '{}'::text[])),
	    'idle_expires_at', api.rfc3339(LEAST(s.expires_at, s.last_seen_at
	        + s.idle_seconds * interval '1 second')),
	    'expires_at', api.rfc3339(s.expires_at))
$$;
COMMENT ON FUNCTION auth.session_json(auth.person, auth.session) IS
    'The person and expiry of a session (no token hash).';

-- ---------------------------------------------------------------------
-- The session's own view and end (any role, a session token hash)
-- ---------------------------------------------------------------------

/*
 * GET /v1/session (p_end false) and DELETE /v1/session (p_end true):
 * authenticate as any role; an API key gets 404 "not a session"
 * (denied/not_a_session); 200 the session (session.read) or 204, the
 * session ended with reason logout (session.end).
 */
CREATE OR REPLACE FUNCTION auth.session_act(p_token_hash bytea,
    p_request_id text, p_client inet, p_end boolean) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_a record;
	v_p auth.person;
	v_s auth.session;
	v_action text := CASE WHEN p_end THEN 'session.end'
	    ELSE 'session.read' END;
BEGIN
	SELECT * INTO v_a FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['reporter', 'coordinator', 'assessor',
	        'investigator', 'auditor', 'analyst', 'admin',
	        'chain_director', 'privacy_officer'], v_action,
	    'session', NULL);
	IF v_a.denial IS NOT NULL THEN
		RETURN v_a.denial;
	END IF;
	IF v_a.person_id IS NULL THEN
		PERFORM api.audit(v_a.key_id, v_a.agency_id, v_a.role,
		    v_action, 'session', NULL, NULL, 'denied', 'not_a_session',
		    p_request_id, p_client);
		RETURN api.problem(404, 'not_found',
		    'this request was not authenticated by a session');
	END IF;
	IF p_end THEN
		UPDATE auth.session s SET ended_at = pg_catalog.now(),
		    end_reason = 'logout'
		WHERE s.token_hash = p_token_hash RETURNING * INTO v_s;
	ELSE
		SELECT * INTO v_s FROM auth.session s
		WHERE s.token_hash = p_token_hash;
	END IF;
	SELECT * INTO v_p FROM auth.person p WHERE p.id = v_a.person_id;
	PERFORM api.audit(v_a.key_id, v_a.agency_id, v_a.role, v_action,
	    'session', v_s.id::text, NULL, 'allowed', NULL, p_request_id,
	    p_client);
	IF p_end THEN
		RETURN pg_catalog.jsonb_build_object('status', 204);
	END IF;
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body',
	    auth.session_json(v_p, v_s));
END
$$;
COMMENT ON FUNCTION auth.session_act(bytea, text, inet, boolean) IS
    'GET and DELETE /v1/session: the caller''s session, or its end.';
ALTER FUNCTION auth.session_act(bytea, text, inet, boolean) OWNER TO
    nrm_people;

CREATE OR REPLACE FUNCTION api.session_get(p_token_hash bytea,
    p_request_id text, p_client inet) RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT auth.session_act(p_token_hash, p_request_id, p_client, false)
$$;
COMMENT ON FUNCTION api.session_get(bytea, text, inet) IS
    'GET /v1/session: who I am and until when; 404 for an API key; '
    'audited session.read.';

CREATE OR REPLACE FUNCTION api.session_end(p_token_hash bytea,
    p_request_id text, p_client inet) RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT auth.session_act(p_token_hash, p_request_id, p_client, true)
$$;
COMMENT ON FUNCTION api.session_end(bytea, text, inet) IS
    'DELETE /v1/session: 204, the session ended (logout); 404 for an API '
    'key; audited session.end.';

ALTER FUNCTION auth.enrol_lookup(text, inet, bytea) OWNER TO nrm_people;
ALTER FUNCTION auth.enrol(text, inet, bytea, bytea, integer[], bytea, bytea,
    bytea[]) OWNER TO nrm_people;
ALTER FUNCTION auth.login_begin(text, inet, text) OWNER TO nrm_people;
ALTER FUNCTION auth.login_finish(text, inet, text, bytea, text, text, bytea,
    integer, integer, integer, integer, integer, bytea, integer[], bytea)
    OWNER TO nrm_people;
-- The TOTP and recovery code helpers use pgcrypto (nrm_people's schema)
-- and are called by nrm_people's functions only.
ALTER FUNCTION auth.hotp(bytea, bigint, integer) OWNER TO nrm_people;
ALTER FUNCTION auth.totp_check(bytea, text, bigint, timestamptz) OWNER TO
    nrm_people;
ALTER FUNCTION auth.recovery_code_hash(text) OWNER TO nrm_people;
REVOKE ALL ON FUNCTION auth.hotp(bytea, bigint, integer),
    auth.totp_check(bytea, text, bigint, timestamptz),
    auth.recovery_code_hash(text) FROM PUBLIC;
-- The api entry points: SECURITY INVOKER, as every api function; the
-- work is the SECURITY DEFINER auth.* function's.
CREATE OR REPLACE FUNCTION api.enrol_lookup(p_request_id text,
    p_client inet, p_code_hash bytea)
RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.scope_clear();
	SELECT auth.enrol_lookup(p_request_id, p_client, p_code_hash)
$$;
COMMENT ON FUNCTION api.enrol_lookup(text, inet, bytea) IS
    'See auth.enrol_lookup.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
-- nrm_app calls it only through its door (99_doors.sql).

CREATE OR REPLACE FUNCTION api.enrol(p_request_id text, p_client inet,
    p_code_hash bytea, p_salt bytea, p_params integer[], p_tag bytea,
    p_totp_secret bytea, p_recovery_hashes bytea[])
RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.scope_clear();
	SELECT auth.enrol(p_request_id, p_client, p_code_hash, p_salt,
	    p_params, p_tag, p_totp_secret, p_recovery_hashes)
$$;
COMMENT ON FUNCTION api.enrol(text, inet, bytea, bytea, integer[], bytea,
    bytea, bytea[]) IS
    'See auth.enrol.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
-- nrm_app calls it only through its door (99_doors.sql).

CREATE OR REPLACE FUNCTION api.login_begin(p_request_id text,
    p_client inet, p_login text)
RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.scope_clear();
	SELECT auth.login_begin(p_request_id, p_client, p_login)
$$;
COMMENT ON FUNCTION api.login_begin(text, inet, text) IS
    'See auth.login_begin.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
-- nrm_app calls it only through its door (99_doors.sql).

CREATE OR REPLACE FUNCTION api.login_finish(p_request_id text, p_client inet,
    p_login text, p_password_tag bytea, p_totp text, p_recovery_code text,
    p_session_token_hash bytea, p_idle_s integer, p_lifetime_s integer,
    p_lock_after integer, p_lock_window_s integer, p_lock_for_s integer,
    p_new_salt bytea, p_new_params integer[], p_new_tag bytea)
RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.scope_clear();
	SELECT auth.login_finish(p_request_id, p_client, p_login,
	    p_password_tag, p_totp, p_recovery_code, p_session_token_hash,
	    p_idle_s, p_lifetime_s, p_lock_after, p_lock_window_s,
	    p_lock_for_s, p_new_salt, p_new_params, p_new_tag)
$$;
COMMENT ON FUNCTION api.login_finish(text, inet, text, bytea, text, text,
    bytea, integer, integer, integer, integer, integer, bytea, integer[],
    bytea) IS
    'See auth.login_finish.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
-- nrm_app calls it only through its door (99_doors.sql).

-- ---------------------------------------------------------------------
-- The handover of a held case (role coordinator, a person)
-- ---------------------------------------------------------------------

/*
 * POST /v1/cases/{id}/handover {person}: the person holding the case
 * hands it to an active coordinator person of the case's region.
 * p_if_match: NULL or the version (digits, quotes allowed).  Answers:
 * 403 for an API key (denied/not_a_person); 404/412/409 as the other
 * lifecycle actions (api.case_lock); 422 field person (failed/
 * invalid_person) for anyone else as receiver (the caller included);
 * 200 the case, held by the receiver; a history row handed_over.
 * Audited case.handover, purpose care.
 */
CREATE OR REPLACE FUNCTION api.case_handover(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_if_match text,
    p_person_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_l record;
	v_to record;
	v_version text := pg_catalog.btrim(p_if_match, '"');
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.handover', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF v_p.person_id IS NULL THEN
		RETURN api.refuse(v_p, 'care', 'denied', 'not_a_person',
		    api.problem(403, 'forbidden',
		        'only a person holding the case can hand it over'));
	END IF;
	IF v_version IS NOT NULL AND v_version !~ '^[0-9]{1,9}$' THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'bad_request',
		    api.problem(400, 'bad_request',
		        'If-Match must be a case version', 'If-Match'));
	END IF;
	SELECT * INTO v_l FROM api.case_lock(v_p, p_case_id,
	    v_version::integer, 'handover');
	IF v_l.answer IS NOT NULL THEN
		RETURN v_l.answer;
	END IF;
	SELECT p.id, p.key_id INTO v_to FROM auth.person p
	WHERE p.id = p_person_id AND p.id <> v_p.person_id
	  AND p.role = 'coordinator' AND p.status = 'active'
	  AND (v_l.c).region_code = ANY (p.regions);
	IF NOT FOUND THEN
		RETURN api.refuse(v_p, 'care', 'failed', 'invalid_person',
		    api.problem(422, 'validation', 'the person must be another '
		        'active coordinator of the case''s region', 'person'));
	END IF;
	UPDATE care.case SET holder_key_id = v_to.key_id,
	    holder_person_id = v_to.id, version = version + 1,
	    updated_at = pg_catalog.now()
	WHERE id = p_case_id;
	RETURN api.case_done(v_p, p_case_id, 'handed_over',
	    pg_catalog.jsonb_build_object('from_person', v_p.person_id,
	        'to_person', v_to.id));
END
$$;
COMMENT ON FUNCTION api.case_handover(bytea, text, inet, uuid, text, uuid) IS
    'POST /v1/cases/{id}/handover (coordinator person holding the case): '
    'hand it to another active coordinator person of its region.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
GRANT EXECUTE ON FUNCTION auth.session_json(auth.person, auth.session) TO
    nrm_people;
REVOKE CREATE ON SCHEMA auth FROM nrm_people;

/*
 * The colleagues a case of region p_region may be handed over to: id
 * and display name (STAFF DATA) of its active coordinator persons but
 * p_except (the caller; NULL for a key), ordered by display name, as a
 * jsonb array.  SECURITY DEFINER owned by nrm_people: nrm_coordinator
 * reads no name of auth.person itself (0009 granted it the columns a
 * handover checks), so it sees the names of these persons only.
 */
CREATE OR REPLACE FUNCTION auth.person_colleagues(p_region text,
    p_except uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
	        'person_id', p.id, 'display_name', p.display_name)
	        ORDER BY p.display_name, p.id), '[]'::jsonb)
	FROM auth.person p
	WHERE p.role = 'coordinator' AND p.status = 'active'
	  AND p_region = ANY (p.regions)
	  AND p.id IS DISTINCT FROM p_except
$$;
COMMENT ON FUNCTION auth.person_colleagues(text, uuid) IS
    'Id and display name of the active coordinator persons of a region '
    'but one (GET /v1/cases/{id}/colleagues); SECURITY DEFINER, owned '
    'by nrm_people.';
-- Handed to nrm_people, which may create in schema auth only meanwhile
-- (as in 60_people.sql).
GRANT CREATE ON SCHEMA auth TO nrm_people;
ALTER FUNCTION auth.person_colleagues(text, uuid) OWNER TO nrm_people;
REVOKE CREATE ON SCHEMA auth FROM nrm_people;
REVOKE EXECUTE ON FUNCTION auth.person_colleagues(text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.person_colleagues(text, uuid) TO
    nrm_coordinator;

/*
 * GET /v1/cases/{id}/colleagues (coordinator of the case's region): the
 * persons a handover of the case may go to, i.e. the active coordinator
 * persons of the case's region other than the caller, as {"items":
 * [{"person_id", "display_name"}]} ordered by display_name, id; nothing
 * else of them (no login, no agency, no regions).  The same set
 * api.case_handover accepts.  404 for an unknown case or one outside
 * the caller's regions (audited denied not_found/out_of_scope), as GET
 * /v1/cases/{id}.  Audited case.colleagues, object the case, purpose
 * care; reads no personal data of the case.
 */
CREATE OR REPLACE FUNCTION api.case_colleagues(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
BEGIN
	SELECT * INTO v_p FROM api.enter_case(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator'], 'case.colleagues', p_case_id,
	    'care');
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	RETURN api.answer(v_p, 'care',
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	        pg_catalog.jsonb_build_object('items',
	            auth.person_colleagues(v_p.region, v_p.person_id))));
END
$$;
COMMENT ON FUNCTION api.case_colleagues(bytea, text, inet, uuid) IS
    'GET /v1/cases/{id}/colleagues (coordinator of the case''s region): '
    'id and display name of the active coordinator persons of the '
    'case''s region but the caller: whom a handover may go to.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
