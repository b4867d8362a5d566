-- 0009_people.sql - personal accounts beside the agencies' API keys
-- (issue 11, docs/people.md, docs/sql-api.md "People"): persons, their
-- credentials, enrolment codes, recovery codes, sessions, login failures
-- and locks; the person in every audit event and as the holder of a
-- case; the handover of a held case.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  The function bodies stand in sql/api/60_people.sql
-- (and 10_common.sql, 30_cases.sql); this file holds the tables, the
-- role, the grants and the signature changes.
--
-- Design in one paragraph.  A session is a principal found by token
-- hash, like an API key.  Every person has a key of its own (its
-- "person key", auth.person.key_id): an auth.api_key row of the same
-- agency, role and regions, created revoked and with a token hash
-- nobody knows, so no bearer token ever authenticates as it, while
-- every table that names the acting key (signals, case holder and
-- history, identification entries, reviews) names a person's acts
-- through it unchanged.  api.authenticate looks a token hash up in
-- auth.api_key, else in auth.session (through auth.session_principal,
-- SECURITY DEFINER); the principal gains person_id.  The secrets
-- (password hash, TOTP secret, code and token hashes) are readable by
-- one NOLOGIN role, nrm_people, which owns the SECURITY DEFINER
-- functions that need them; nrm_app and the API roles hold no privilege
-- on those tables.

-- ---------------------------------------------------------------------
-- The role that holds the people's secrets.  NOLOGIN, nrm_app is no
-- member; nrm_owner is, to hand functions over (as for nrm_sweeper).
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_people') THEN
		CREATE ROLE nrm_people NOLOGIN;
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, 'nrm_people', 'MEMBER')
	THEN
		EXECUTE pg_catalog.format('GRANT nrm_people TO %I',
		    current_user);
	END IF;
	IF pg_catalog.pg_has_role('nrm_app', 'nrm_people', 'MEMBER') THEN
		REVOKE nrm_people FROM nrm_app;
	END IF;
END
$roles$;
COMMENT ON ROLE nrm_people IS
    'nrm: owner of the SECURITY DEFINER functions of persons, enrolment, '
    'login and sessions; the only role that reads credentials, codes and '
    'session token hashes.  NOLOGIN; nrm_app is no member.';

-- ---------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------
CREATE TABLE auth.person (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	login text NOT NULL,
	display_name text NOT NULL,
	agency_id uuid NOT NULL,
	role text NOT NULL,
	regions text[],
	status text NOT NULL DEFAULT 'active',
	key_id uuid NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by_key uuid,
	created_by_person uuid,
	disabled_at timestamptz,
	CONSTRAINT person_pkey PRIMARY KEY (id),
	CONSTRAINT person_login_key UNIQUE (login),
	CONSTRAINT person_key_id_key UNIQUE (key_id),
	CONSTRAINT person_login_check
	    CHECK (login ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
	CONSTRAINT person_display_name_check
	    CHECK (char_length(display_name) BETWEEN 1 AND 200
	        AND display_name !~ '[[:cntrl:]]'),
	CONSTRAINT person_agency_id_fkey FOREIGN KEY (agency_id)
	    REFERENCES auth.agency (id),
	CONSTRAINT person_role_check CHECK (role IN ('reporter',
	    'coordinator', 'assessor', 'investigator', 'auditor', 'analyst',
	    'admin')),
	CONSTRAINT person_regions_check CHECK (
	    (role = 'coordinator' AND regions IS NOT NULL
	        AND cardinality(regions) >= 1
	        AND array_position(regions, NULL) IS NULL)
	    OR (role <> 'coordinator' AND regions IS NULL)),
	CONSTRAINT person_status_check
	    CHECK (status IN ('active', 'disabled')),
	CONSTRAINT person_disabled_at_check
	    CHECK ((status = 'disabled') = (disabled_at IS NOT NULL)),
	CONSTRAINT person_key_id_fkey FOREIGN KEY (key_id)
	    REFERENCES auth.api_key (id),
	CONSTRAINT person_created_by_key_fkey FOREIGN KEY (created_by_key)
	    REFERENCES auth.api_key (id),
	CONSTRAINT person_created_by_person_fkey
	    FOREIGN KEY (created_by_person) REFERENCES auth.person (id)
);
COMMENT ON TABLE auth.person IS
    'Personal accounts.  STAFF DATA: login and display_name name a member '
    'of staff (not a victim''s data; never secret).  key_id is the '
    'person''s own revoked API key, through which tables that name the '
    'acting key name the person''s acts.  created_by_key/_person: who '
    'created it (both NULL: nrmctl, the operator).  No secret here.';
COMMENT ON COLUMN auth.person.login IS 'STAFF DATA: the login name.';
COMMENT ON COLUMN auth.person.display_name IS
    'STAFF DATA: the name shown to colleagues.';

CREATE TABLE auth.person_credential (
	person_id uuid NOT NULL,
	password_phc text NOT NULL,
	totp_secret bytea NOT NULL,
	totp_last_step bigint NOT NULL DEFAULT 0,
	enrolled_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT person_credential_pkey PRIMARY KEY (person_id),
	CONSTRAINT person_credential_person_id_fkey FOREIGN KEY (person_id)
	    REFERENCES auth.person (id),
	CONSTRAINT person_credential_password_phc_check
	    CHECK (password_phc LIKE '$argon2id$%'
	        AND char_length(password_phc) <= 512),
	CONSTRAINT person_credential_totp_secret_check
	    CHECK (octet_length(totp_secret) = 20),
	CONSTRAINT person_credential_totp_last_step_check
	    CHECK (totp_last_step >= 0)
);
COMMENT ON TABLE auth.person_credential IS
    'SECRET: a person''s password hash (Argon2id PHC string) and TOTP '
    'secret (20 bytes), and the last accepted TOTP step (replay guard).  '
    'Readable only by nrm_people; never returned but to nrmd''s login '
    'verification, never audited or logged.';
COMMENT ON COLUMN auth.person_credential.password_phc IS
    'SECRET: Argon2id hash with its parameters.';
COMMENT ON COLUMN auth.person_credential.totp_secret IS
    'SECRET: the TOTP key (RFC 6238); not hashable.';

CREATE TABLE auth.enrolment (
	id bigint GENERATED ALWAYS AS IDENTITY,
	person_id uuid NOT NULL,
	code_hash bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	used_at timestamptz,
	CONSTRAINT enrolment_pkey PRIMARY KEY (id),
	CONSTRAINT enrolment_code_hash_key UNIQUE (code_hash),
	CONSTRAINT enrolment_code_hash_check
	    CHECK (octet_length(code_hash) = 32),
	CONSTRAINT enrolment_person_id_fkey FOREIGN KEY (person_id)
	    REFERENCES auth.person (id),
	CONSTRAINT enrolment_expires_at_check CHECK (expires_at > created_at)
);
CREATE INDEX enrolment_person_id_idx ON auth.enrolment (person_id);
COMMENT ON TABLE auth.enrolment IS
    'One-time enrolment codes: SECRET code_hash (SHA-256 of the code; the '
    'code itself is shown once and stored nowhere), validity, use.';

CREATE TABLE auth.recovery_code (
	person_id uuid NOT NULL,
	code_hash bytea NOT NULL,
	used_at timestamptz,
	CONSTRAINT recovery_code_pkey PRIMARY KEY (person_id, code_hash),
	CONSTRAINT recovery_code_person_id_fkey FOREIGN KEY (person_id)
	    REFERENCES auth.person (id),
	CONSTRAINT recovery_code_code_hash_check
	    CHECK (octet_length(code_hash) = 32)
);
COMMENT ON TABLE auth.recovery_code IS
    'SECRET: SHA-256 of each one-time recovery code of a person; used_at '
    'set when a login consumed it (a used code is refused as a replay).';

CREATE TABLE auth.session (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	token_hash bytea NOT NULL,
	person_id uuid NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	idle_seconds integer NOT NULL,
	expires_at timestamptz NOT NULL,
	ended_at timestamptz,
	end_reason text,
	client_addr inet,
	CONSTRAINT session_pkey PRIMARY KEY (id),
	CONSTRAINT session_token_hash_key UNIQUE (token_hash),
	CONSTRAINT session_token_hash_check
	    CHECK (octet_length(token_hash) = 32),
	CONSTRAINT session_person_id_fkey FOREIGN KEY (person_id)
	    REFERENCES auth.person (id),
	CONSTRAINT session_idle_seconds_check CHECK (idle_seconds >= 1),
	CONSTRAINT session_expires_at_check CHECK (expires_at > created_at),
	CONSTRAINT session_end_check
	    CHECK ((ended_at IS NULL) = (end_reason IS NULL)),
	CONSTRAINT session_end_reason_check CHECK (end_reason IS NULL
	    OR end_reason IN ('logout', 'expired', 'disabled', 'reset'))
);
CREATE INDEX session_person_id_idx ON auth.session (person_id)
    WHERE ended_at IS NULL;
COMMENT ON TABLE auth.session IS
    'Login sessions: SECRET token_hash (SHA-256 of the cookie value; the '
    'value is never stored), the person, idle and absolute expiry, end.  '
    'client_addr is STAFF DATA (where the person logged in from).';

CREATE TABLE auth.login_failure (
	id bigint GENERATED ALWAYS AS IDENTITY,
	login text,
	client_addr inet,
	at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT login_failure_pkey PRIMARY KEY (id),
	CONSTRAINT login_failure_login_check CHECK (login IS NULL
	    OR login ~ '^[a-z0-9][a-z0-9._-]{2,63}$')
);
CREATE INDEX login_failure_login_idx ON auth.login_failure (login, at);
CREATE INDEX login_failure_client_addr_idx
    ON auth.login_failure (client_addr, at);
COMMENT ON TABLE auth.login_failure IS
    'Failed logins, for the lock: the login as typed when it is a valid '
    'login name (else NULL: a mistyped password never lands here), the '
    'client address (STAFF DATA), the time.';

CREATE TABLE auth.login_lock (
	kind text NOT NULL,
	subject text NOT NULL,
	locked_until timestamptz NOT NULL,
	CONSTRAINT login_lock_pkey PRIMARY KEY (kind, subject),
	CONSTRAINT login_lock_kind_check CHECK (kind IN ('login', 'address'))
);
COMMENT ON TABLE auth.login_lock IS
    'Locked logins and client addresses (subject: the login name or '
    'abbrev(address)) until locked_until.';

-- ---------------------------------------------------------------------
-- The person in the audit log and as the holder of a case.
-- ---------------------------------------------------------------------
ALTER TABLE audit.event ADD COLUMN person_id uuid,
    ADD CONSTRAINT event_person_id_fkey FOREIGN KEY (person_id)
        REFERENCES auth.person (id);
-- Set apart from ADD COLUMN: the default is read per insert, never
-- written into the events that exist.  api.authenticate publishes the
-- principal's person as nrm.person_id (api.scope clears it), so every
-- event an entry point writes, through any function, names the person.
ALTER TABLE audit.event ALTER COLUMN person_id SET DEFAULT
    NULLIF(pg_catalog.current_setting('nrm.person_id', true), '')::uuid;
CREATE INDEX event_person_id_idx ON audit.event (person_id, id)
    WHERE person_id IS NOT NULL;
COMMENT ON COLUMN audit.event.person_id IS
    'The person who acted (a session), NULL for an API key or nrmctl.  '
    'In the chain''s canonical bytes when not NULL (format v2).';

ALTER TABLE care.case ADD COLUMN holder_person_id uuid,
    ADD CONSTRAINT case_holder_person_id_fkey
        FOREIGN KEY (holder_person_id) REFERENCES auth.person (id),
    ADD CONSTRAINT case_holder_person_check
        CHECK (holder_person_id IS NULL OR holder_key_id IS NOT NULL);
COMMENT ON COLUMN care.case.holder_person_id IS
    'The person holding the case when a person took it (holder_key_id is '
    'then that person''s key).';

-- A change of holder key that does not name a person clears the person
-- (decline, transfer, release by the sweeper keep working unchanged).
CREATE FUNCTION care.case_holder_person() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.holder_key_id IS DISTINCT FROM OLD.holder_key_id
	    AND NEW.holder_person_id IS NOT DISTINCT FROM OLD.holder_person_id
	THEN
		NEW.holder_person_id := NULL;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER case_holder_person
BEFORE UPDATE OF holder_key_id ON care.case
FOR EACH ROW EXECUTE FUNCTION care.case_holder_person();
COMMENT ON TRIGGER case_holder_person ON care.case IS
    'A new holder key without a new holder person clears the person.';

ALTER TABLE care.case_history
	DROP CONSTRAINT case_history_action_check,
	ADD CONSTRAINT case_history_action_check CHECK (action IN ('routed',
	    'taken', 'declined', 'released', 'transferred', 'escalated',
	    'closed', 'reopened', 'first_contact', 'shared', 'handed_over'));

-- The state table gains the handover (a case taken by the caller stays
-- taken, by another holder): care.transition in sql/api/30_cases.sql.

-- ---------------------------------------------------------------------
-- The audit chain's canonical bytes: format v2 for an event that names
-- a person (the v1 fields, then person_id); an event without one keeps
-- v1's bytes, so every link sealed before this migration verifies.
-- ---------------------------------------------------------------------
-- 0005's function keeps its body under the name canonical_v1; the new
-- audit.canonical takes its bytes and, for a person, swaps the tag and
-- appends the person.
ALTER FUNCTION audit.canonical(audit.event) RENAME TO canonical_v1;
COMMENT ON FUNCTION audit.canonical_v1(audit.event) IS
    'The canonical bytes of format v1 (0005): the tag and 13 fields.';
CREATE FUNCTION audit.canonical(e audit.event) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_person text := e.person_id::text;
BEGIN
	IF v_person IS NULL THEN
		RETURN audit.canonical_v1(e);
	END IF;
	-- The tag "nrm.audit.event.v2" with its length (18), v1's 13
	-- fields (after v1's 22-byte tag), then person_id.
	RETURN '\x000000126e726d2e61756469742e6576656e742e7632'::bytea
	    || pg_catalog.substr(audit.canonical_v1(e), 23)
	    || pg_catalog.int4send(pg_catalog.octet_length(v_person))
	    || pg_catalog.convert_to(v_person, 'UTF8');
END
$$;
COMMENT ON FUNCTION audit.canonical(audit.event) IS
    'The canonical bytes of an audit event that its chain link hashes: '
    'length-prefixed UTF-8 fields in a fixed order; tag v1 and 13 fields '
    'without a person (audit.canonical_v1), tag v2 and person_id as a '
    '14th with one (docs/audit.md).';
GRANT EXECUTE ON FUNCTION audit.canonical(audit.event) TO nrm_auditor,
    nrm_audit_sealer;

-- ---------------------------------------------------------------------
-- Signature changes: the principal gains person_id (api.authenticate,
-- api.enter: their OUT columns change), the inbox a 'mine' filter (a
-- ninth parameter with a default: the eight-argument call nrmd sends
-- resolves to it).  The bodies are created by sql/api/.
-- ---------------------------------------------------------------------
DROP FUNCTION IF EXISTS api.authenticate(bytea, text, inet, text[], text,
    text, text);
DROP FUNCTION IF EXISTS api.enter(bytea, text, inet, text[], text, text,
    text);
DROP FUNCTION IF EXISTS api.inbox(bytea, text, inet, text, text, jsonb,
    bigint, integer);

-- ---------------------------------------------------------------------
-- Grants.  nrm_app: nothing on the new tables (EXECUTE api functions
-- only, granted in sql/api/).  nrm_people: what its functions need.
-- nrm_admin: reads persons (no secret).  nrm_coordinator: reads the
-- columns a handover checks, updates the holder person.
-- ---------------------------------------------------------------------
REVOKE ALL ON auth.person, auth.person_credential, auth.enrolment,
    auth.recovery_code, auth.session, auth.login_failure, auth.login_lock
    FROM PUBLIC;
GRANT USAGE ON SCHEMA auth, audit, api, ref TO nrm_people;
GRANT SELECT, INSERT, UPDATE ON auth.person TO nrm_people;
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.person_credential,
    auth.enrolment, auth.recovery_code, auth.session, auth.login_failure,
    auth.login_lock TO nrm_people;
GRANT SELECT, INSERT ON auth.api_key TO nrm_people;
GRANT SELECT ON auth.agency, ref.region TO nrm_people;
GRANT INSERT ON audit.event TO nrm_people;

GRANT SELECT ON auth.person TO nrm_admin;
GRANT SELECT (id, agency_id, role, regions, status, key_id)
    ON auth.person TO nrm_coordinator;
GRANT UPDATE (holder_person_id) ON care.case TO nrm_coordinator;
GRANT EXECUTE ON FUNCTION api.rfc3339(timestamptz) TO nrm_people;
