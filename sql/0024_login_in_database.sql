-- 0024_login_in_database.sql - the database decides a person's login
-- (issue 14, the person login path; docs/security.md, docs/people.md,
-- docs/sql-api.md "People"): pgcrypto for HMAC, the password kept as its
-- Argon2id parameters, salt and the SHA-256 of its Argon2id tag (the
-- tag itself, which would open a session to whoever read it, is kept
-- nowhere), and the secret that makes an unknown login's salt.  The
-- function bodies stand in sql/api/65_sessions.sql.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.

-- ---------------------------------------------------------------------
-- pgcrypto (a trusted extension: the database owner may create it) in
-- a schema of its own owned by nrm_people, the role of the login
-- functions: no other role may use it (its functions are owned by the
-- bootstrap superuser and executable by PUBLIC, so the schema is the
-- fence).
-- ---------------------------------------------------------------------
CREATE SCHEMA pgcrypto AUTHORIZATION nrm_people;
REVOKE ALL ON SCHEMA pgcrypto FROM PUBLIC;
COMMENT ON SCHEMA pgcrypto IS
    'nrm: the pgcrypto extension (HMAC for TOTP and the fake salts of '
    'unknown logins); usable by nrm_people alone.';
CREATE EXTENSION pgcrypto WITH SCHEMA pgcrypto;

-- ---------------------------------------------------------------------
-- The password as the database verifies it: nrmd derives the Argon2id
-- tag of the password typed with the stored parameters and salt
-- (api.login_begin gives them), the database compares its SHA-256 with
-- password_verifier.  Existing PHC strings are split into these columns
-- (the tag hashed), so no person enrols again.
-- ---------------------------------------------------------------------
ALTER TABLE auth.person_credential
    ADD COLUMN password_salt bytea,
    ADD COLUMN password_m_kib integer,
    ADD COLUMN password_t_cost integer,
    ADD COLUMN password_lanes integer,
    ADD COLUMN password_tag_len integer,
    ADD COLUMN password_verifier bytea;

DO $split$
DECLARE
	v_bad integer;
BEGIN
	UPDATE auth.person_credential c SET
	    password_salt = x.salt,
	    password_m_kib = x.m[1]::integer,
	    password_t_cost = x.m[2]::integer,
	    password_lanes = x.m[3]::integer,
	    password_tag_len = pg_catalog.octet_length(x.tag),
	    password_verifier = pg_catalog.sha256(x.tag)
	FROM (SELECT c2.person_id, y.m,
	        pg_catalog.decode(y.m[4] || pg_catalog.repeat('=',
	            (4 - pg_catalog.length(y.m[4]) % 4) % 4), 'base64') AS salt,
	        pg_catalog.decode(y.m[5] || pg_catalog.repeat('=',
	            (4 - pg_catalog.length(y.m[5]) % 4) % 4), 'base64') AS tag
	    FROM auth.person_credential c2,
	    LATERAL (SELECT pg_catalog.regexp_match(c2.password_phc,
	        '^\$argon2id\$v=19\$m=([0-9]{1,7}),t=([0-9]{1,2}),'
	        'p=([0-9]{1,2})\$([A-Za-z0-9+/]{11,86})\$'
	        '([A-Za-z0-9+/]{6,86})$') AS m) y
	    WHERE y.m IS NOT NULL) x
	WHERE c.person_id = x.person_id;
	SELECT pg_catalog.count(*) INTO v_bad FROM auth.person_credential c
	WHERE c.password_verifier IS NULL;
	IF v_bad > 0 THEN
		RAISE EXCEPTION '% stored password hash(es) not in the '
		    'Argon2id form nrmd writes', v_bad
		    USING ERRCODE = 'check_violation',
		    HINT = 'reset these persons (nrmctl person reset), then '
		        'migrate again';
	END IF;
END
$split$;

ALTER TABLE auth.person_credential
    DROP COLUMN password_phc,
    ALTER COLUMN password_salt SET NOT NULL,
    ALTER COLUMN password_m_kib SET NOT NULL,
    ALTER COLUMN password_t_cost SET NOT NULL,
    ALTER COLUMN password_lanes SET NOT NULL,
    ALTER COLUMN password_tag_len SET NOT NULL,
    ALTER COLUMN password_verifier SET NOT NULL,
    ADD CONSTRAINT person_credential_password_salt_check
        CHECK (octet_length(password_salt) BETWEEN 8 AND 64),
    ADD CONSTRAINT person_credential_password_params_check
        CHECK (password_t_cost BETWEEN 1 AND 16
            AND password_lanes BETWEEN 1 AND 16
            AND password_m_kib BETWEEN 8 * password_lanes AND 1048576),
    ADD CONSTRAINT person_credential_password_tag_len_check
        CHECK (password_tag_len BETWEEN 4 AND 64),
    ADD CONSTRAINT person_credential_password_verifier_check
        CHECK (octet_length(password_verifier) = 32);
COMMENT ON TABLE auth.person_credential IS
    'SECRET: a person''s password verifier (SHA-256 of the Argon2id tag, '
    'with the Argon2id parameters and salt, which are not secret) and '
    'TOTP secret (20 bytes), and the last accepted TOTP step (replay '
    'guard).  Readable only by nrm_people; the verifier and the TOTP '
    'secret never leave the database (0024), never audited or logged.';
COMMENT ON COLUMN auth.person_credential.password_salt IS
    'The Argon2id salt (not secret: api.login_begin gives it).';
COMMENT ON COLUMN auth.person_credential.password_verifier IS
    'SECRET: SHA-256 of the Argon2id tag of the password.  The tag is '
    'what nrmd sends at login; its hash here does not open a session.';
COMMENT ON COLUMN auth.person_credential.totp_secret IS
    'SECRET: the TOTP key (RFC 6238); the database computes the codes.';

-- ---------------------------------------------------------------------
-- The key of the fake salt an unknown login gets (HMAC-SHA-256 of the
-- login), so that unknown and known logins answer alike, stably.
-- ---------------------------------------------------------------------
CREATE TABLE auth.login_secret (
	id boolean NOT NULL DEFAULT true,
	secret bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT login_secret_pkey PRIMARY KEY (id),
	CONSTRAINT login_secret_id_check CHECK (id),
	CONSTRAINT login_secret_secret_check CHECK (octet_length(secret) = 32)
);
COMMENT ON TABLE auth.login_secret IS
    'SECRET: one row, the HMAC key of the fake salts of unknown logins '
    '(api.login_begin).  Readable only by nrm_people.';
INSERT INTO auth.login_secret (secret)
VALUES (pgcrypto.gen_random_bytes(32));
GRANT SELECT ON auth.login_secret TO nrm_people;

-- The signatures that change (the new ones are 65_sessions.sql's).
DROP FUNCTION IF EXISTS api.login_lookup(text, inet, text);
DROP FUNCTION IF EXISTS auth.login_lookup(text, inet, text);
DROP FUNCTION IF EXISTS api.login_finish(text, inet, text, uuid, boolean,
    bigint, bytea, bytea, integer, integer, integer, integer, integer, text);
DROP FUNCTION IF EXISTS auth.login_finish(text, inet, text, uuid, boolean,
    bigint, bytea, bytea, integer, integer, integer, integer, integer, text);
DROP FUNCTION IF EXISTS api.enrol(text, inet, bytea, text, bytea, bytea[]);
DROP FUNCTION IF EXISTS auth.enrol(text, inet, bytea, text, bytea,
    bytea[]);
