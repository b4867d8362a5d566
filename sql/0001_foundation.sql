-- 0001_foundation.sql - roles, schemas, tables, grants and the api
-- functions of nrm (the contract is docs/sql-api.md).
--
-- Applied by `nrmctl migrate` in one transaction together with its
-- nrm.schema_version row; no BEGIN/COMMIT here.  Run as nrm_owner, who
-- then owns every object.  Every constraint is named; every table has a
-- comment, and tables that hold personal data say so.

-- ---------------------------------------------------------------------
-- Roles.  Roles are cluster-wide: another database in the same cluster
-- (tests) may have created them already.
-- ---------------------------------------------------------------------
DO $roles$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['nrm_reporter', 'nrm_coordinator',
	    'nrm_assessor', 'nrm_investigator', 'nrm_auditor', 'nrm_analyst',
	    'nrm_admin']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
		    WHERE rolname = r) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_app') THEN
		CREATE ROLE nrm_app LOGIN NOINHERIT;
	END IF;
	-- nrm_app holds only its own grants; it acts as an API role only
	-- after the explicit switch inside an api function.
	IF (SELECT rolinherit FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_app') THEN
		ALTER ROLE nrm_app NOINHERIT;
	END IF;
	FOREACH r IN ARRAY ARRAY['nrm_reporter', 'nrm_coordinator',
	    'nrm_assessor', 'nrm_investigator', 'nrm_auditor', 'nrm_analyst',
	    'nrm_admin']
	LOOP
		IF NOT pg_catalog.pg_has_role('nrm_app', r, 'MEMBER') THEN
			EXECUTE pg_catalog.format('GRANT %I TO nrm_app', r);
		END IF;
	END LOOP;
END
$roles$;

-- Functions created from here on are not executable by PUBLIC.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

CREATE SCHEMA ref;
CREATE SCHEMA auth;
CREATE SCHEMA intake;
CREATE SCHEMA care;
CREATE SCHEMA audit;
CREATE SCHEMA api;

COMMENT ON SCHEMA ref IS 'Reference data: care regions and municipalities.';
COMMENT ON SCHEMA auth IS 'Agencies and API keys (token hashes only).';
COMMENT ON SCHEMA intake IS
    'Signals as received (non-identifying facts) and idempotency records.';
COMMENT ON SCHEMA care IS
    'Care side: subjects (personal data), cases and their history.';
COMMENT ON SCHEMA audit IS 'Append-only audit log; never personal data.';
COMMENT ON SCHEMA api IS
    'The functions nrmd calls; see docs/sql-api.md.';

-- ---------------------------------------------------------------------
-- ref
-- ---------------------------------------------------------------------
CREATE TABLE ref.region (
	code text NOT NULL,
	name text NOT NULL,
	CONSTRAINT region_pkey PRIMARY KEY (code),
	CONSTRAINT region_code_check
	    CHECK (code ~ '^(VR[0-9]{2}|NATIONAL)$'),
	CONSTRAINT region_name_check
	    CHECK (char_length(name) BETWEEN 1 AND 200)
);
COMMENT ON TABLE ref.region IS
    'Care regions: the 25 safety regions VR01..VR25 and the national desk '
    'NATIONAL.  Loaded by 0002_reference_data.sql.';

CREATE TABLE ref.municipality (
	code text NOT NULL,
	name text NOT NULL,
	region_code text NOT NULL,
	CONSTRAINT municipality_pkey PRIMARY KEY (code),
	CONSTRAINT municipality_code_check CHECK (code ~ '^GM[0-9]{4}$'),
	CONSTRAINT municipality_name_check
	    CHECK (char_length(name) BETWEEN 1 AND 200),
	CONSTRAINT municipality_region_code_fkey FOREIGN KEY (region_code)
	    REFERENCES ref.region (code),
	CONSTRAINT municipality_region_not_national_check
	    CHECK (region_code <> 'NATIONAL')
);
CREATE INDEX municipality_region_code_idx ON ref.municipality (region_code);
COMMENT ON TABLE ref.municipality IS
    'Municipalities (CBS GMnnnn codes) and the care region each belongs '
    'to, generated from config/municipalities.csv.';

-- ---------------------------------------------------------------------
-- auth
-- ---------------------------------------------------------------------
CREATE TABLE auth.agency (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	name text NOT NULL,
	kind text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT agency_pkey PRIMARY KEY (id),
	CONSTRAINT agency_name_key UNIQUE (name),
	CONSTRAINT agency_name_check
	    CHECK (char_length(name) BETWEEN 1 AND 200 AND name = btrim(name)),
	CONSTRAINT agency_kind_check CHECK (kind IN ('police', 'kmar',
	    'labour_inspectorate', 'care_agency', 'ngo', 'municipality',
	    'national_centre', 'assessment_body', 'other'))
);
COMMENT ON TABLE auth.agency IS
    'Organisations whose staff hold API keys; the kind feeds routing and '
    'statistics.  No personal data.';

CREATE TABLE auth.api_key (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	token_hash bytea NOT NULL,
	agency_id uuid NOT NULL,
	role text NOT NULL,
	regions text[],
	label text,
	created_at timestamptz NOT NULL DEFAULT now(),
	revoked_at timestamptz,
	CONSTRAINT api_key_pkey PRIMARY KEY (id),
	CONSTRAINT api_key_token_hash_key UNIQUE (token_hash),
	CONSTRAINT api_key_token_hash_check
	    CHECK (octet_length(token_hash) = 32),
	CONSTRAINT api_key_agency_id_fkey FOREIGN KEY (agency_id)
	    REFERENCES auth.agency (id),
	CONSTRAINT api_key_role_check CHECK (role IN ('reporter',
	    'coordinator', 'assessor', 'investigator', 'auditor', 'analyst',
	    'admin')),
	-- Coordinators are scoped to one or more regions; nobody else is.
	CONSTRAINT api_key_regions_check CHECK (
	    (role = 'coordinator' AND regions IS NOT NULL
	        AND cardinality(regions) >= 1
	        AND array_position(regions, NULL) IS NULL)
	    OR (role <> 'coordinator' AND regions IS NULL)),
	CONSTRAINT api_key_label_check
	    CHECK (label IS NULL OR char_length(label) BETWEEN 1 AND 200),
	CONSTRAINT api_key_revoked_at_check
	    CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);
CREATE INDEX api_key_agency_id_idx ON auth.api_key (agency_id);
COMMENT ON TABLE auth.api_key IS
    'API keys: SHA-256 of the bearer token (never the token), the agency, '
    'the API role and, for coordinators, the regions.  Revoked, never '
    'deleted.  No personal data.';

-- Each region of a coordinator key must exist (an array cannot carry a
-- foreign key).
CREATE FUNCTION auth.api_key_regions_exist() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_missing text;
BEGIN
	SELECT r INTO v_missing
	FROM pg_catalog.unnest(NEW.regions) AS r
	WHERE NOT EXISTS (SELECT 1 FROM ref.region g WHERE g.code = r)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'region % does not exist', v_missing
		    USING ERRCODE = 'foreign_key_violation',
		    CONSTRAINT = 'api_key_regions_exist',
		    TABLE = 'api_key', SCHEMA = 'auth';
	END IF;
	RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER api_key_regions_exist
AFTER INSERT OR UPDATE OF regions ON auth.api_key
FOR EACH ROW EXECUTE FUNCTION auth.api_key_regions_exist();

-- ---------------------------------------------------------------------
-- intake
-- ---------------------------------------------------------------------
CREATE TABLE intake.signal (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	received_at timestamptz NOT NULL DEFAULT now(),
	observed_at timestamptz NOT NULL,
	agency_id uuid NOT NULL,
	api_key_id uuid NOT NULL,
	municipality_code text,
	region_code text NOT NULL,
	rule_id text NOT NULL,
	ruleset_version text NOT NULL,
	reporter_reference text,
	minor boolean NOT NULL,
	age_estimate integer,
	gender text,
	nationality text,
	languages text[] NOT NULL DEFAULT '{}',
	exploitation text[] NOT NULL,
	control_means text[] NOT NULL DEFAULT '{}',
	immediate_danger boolean NOT NULL,
	needs_shelter boolean NOT NULL,
	consent text NOT NULL,
	notification_only boolean NOT NULL,
	request_id text,
	CONSTRAINT signal_pkey PRIMARY KEY (id),
	CONSTRAINT signal_agency_id_fkey FOREIGN KEY (agency_id)
	    REFERENCES auth.agency (id),
	CONSTRAINT signal_api_key_id_fkey FOREIGN KEY (api_key_id)
	    REFERENCES auth.api_key (id),
	CONSTRAINT signal_municipality_code_fkey FOREIGN KEY (municipality_code)
	    REFERENCES ref.municipality (code),
	CONSTRAINT signal_region_code_fkey FOREIGN KEY (region_code)
	    REFERENCES ref.region (code),
	CONSTRAINT signal_observed_at_check
	    CHECK (observed_at <= received_at + interval '1 hour'),
	CONSTRAINT signal_rule_id_check
	    CHECK (char_length(rule_id) BETWEEN 1 AND 64),
	CONSTRAINT signal_ruleset_version_check
	    CHECK (char_length(ruleset_version) BETWEEN 1 AND 72),
	CONSTRAINT signal_reporter_reference_check
	    CHECK (reporter_reference IS NULL
	        OR octet_length(reporter_reference) BETWEEN 1 AND 100),
	CONSTRAINT signal_age_estimate_check
	    CHECK (age_estimate IS NULL OR age_estimate BETWEEN 0 AND 120),
	-- An age estimate under 18 is an indication of a minor.
	CONSTRAINT signal_minor_age_check
	    CHECK (age_estimate IS NULL OR age_estimate >= 18 OR minor),
	CONSTRAINT signal_gender_check CHECK (gender IS NULL OR gender IN
	    ('female', 'male', 'non_binary', 'other', 'unknown')),
	CONSTRAINT signal_nationality_check
	    CHECK (nationality IS NULL OR nationality ~ '^[A-Z]{2}$'),
	CONSTRAINT signal_languages_check CHECK (cardinality(languages) <= 10
	    AND array_position(languages, NULL) IS NULL
	    AND array_to_string(languages, ',') ~ '^([a-z]{2}(,[a-z]{2})*)?$'),
	CONSTRAINT signal_exploitation_check CHECK (
	    cardinality(exploitation) >= 1
	    AND array_position(exploitation, NULL) IS NULL
	    AND exploitation <@ ARRAY['sexual', 'labour', 'criminal',
	        'begging', 'forced_marriage', 'illegal_adoption', 'surrogacy',
	        'organ_removal', 'other']::text[]),
	CONSTRAINT signal_control_means_check CHECK (
	    array_position(control_means, NULL) IS NULL
	    AND control_means <@ ARRAY['debt_bondage', 'documents_withheld',
	        'threats', 'threats_against_family', 'physical_violence',
	        'sexual_violence', 'psychological_abuse', 'isolation',
	        'restricted_movement', 'wages_withheld', 'substance_dependency',
	        'deception', 'abuse_of_vulnerability', 'excessive_hours',
	        'loverboy', 'other']::text[]),
	CONSTRAINT signal_consent_check CHECK (consent IN ('given', 'refused',
	    'unable', 'not_required_minor')),
	-- An adult who did not consent is kept as an anonymous notification;
	-- a minor never needs consent.
	CONSTRAINT signal_notification_only_check CHECK (notification_only =
	    (NOT minor AND consent IN ('refused', 'unable'))),
	CONSTRAINT signal_request_id_check
	    CHECK (request_id IS NULL OR char_length(request_id) <= 200)
);
CREATE INDEX signal_agency_id_idx ON intake.signal (agency_id);
CREATE INDEX signal_received_at_idx ON intake.signal (received_at);
CREATE INDEX signal_region_code_idx ON intake.signal (region_code);
COMMENT ON TABLE intake.signal IS
    'Every accepted signal, cases and anonymous notifications alike: only '
    'non-identifying facts (no names, birth date, contact or narrative), '
    'and the routing decision (region, rule).  Used for statistics.  '
    'Immutable once written.';

CREATE TABLE intake.idempotency (
	api_key_id uuid NOT NULL,
	idem_key text NOT NULL,
	request_hash bytea NOT NULL,
	status integer NOT NULL,
	response jsonb NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT idempotency_pkey PRIMARY KEY (api_key_id, idem_key),
	CONSTRAINT idempotency_api_key_id_fkey FOREIGN KEY (api_key_id)
	    REFERENCES auth.api_key (id),
	CONSTRAINT idempotency_idem_key_check
	    CHECK (char_length(idem_key) BETWEEN 1 AND 200),
	CONSTRAINT idempotency_request_hash_check
	    CHECK (octet_length(request_hash) = 32),
	CONSTRAINT idempotency_status_check CHECK (status BETWEEN 200 AND 299),
	CONSTRAINT idempotency_response_check
	    CHECK (jsonb_typeof(response) = 'object'
	        AND (response->>'status')::integer = status)
);
CREATE INDEX idempotency_created_at_idx ON intake.idempotency (created_at);
COMMENT ON TABLE intake.idempotency IS
    'The first successful answer per (API key, Idempotency-Key) and the '
    'hash of its request, replayed unchanged on a retry.  The stored '
    'receipt holds ids and codes only, no personal data.';

-- ---------------------------------------------------------------------
-- care
-- ---------------------------------------------------------------------
CREATE TABLE care.subject (
	signal_id uuid NOT NULL,
	given_name text,
	family_name text,
	birth_date date,
	phone text,
	address text,
	narrative text,
	pseudonym bytea,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT subject_pkey PRIMARY KEY (signal_id),
	CONSTRAINT subject_signal_id_fkey FOREIGN KEY (signal_id)
	    REFERENCES intake.signal (id),
	CONSTRAINT subject_given_name_check CHECK (given_name IS NULL
	    OR octet_length(given_name) BETWEEN 1 AND 200),
	CONSTRAINT subject_family_name_check CHECK (family_name IS NULL
	    OR octet_length(family_name) BETWEEN 1 AND 200),
	CONSTRAINT subject_birth_date_check
	    CHECK (birth_date IS NULL OR birth_date >= DATE '1900-01-01'),
	CONSTRAINT subject_phone_check
	    CHECK (phone IS NULL OR octet_length(phone) BETWEEN 1 AND 40),
	CONSTRAINT subject_address_check
	    CHECK (address IS NULL OR octet_length(address) BETWEEN 1 AND 500),
	CONSTRAINT subject_narrative_check CHECK (narrative IS NULL
	    OR octet_length(narrative) BETWEEN 1 AND 8000),
	CONSTRAINT subject_pseudonym_check
	    CHECK (pseudonym IS NULL OR octet_length(pseudonym) = 32)
);
CREATE INDEX subject_pseudonym_idx ON care.subject (pseudonym)
    WHERE pseudonym IS NOT NULL;
COMMENT ON TABLE care.subject IS
    'PERSONAL DATA: the possible victim of a signal (names, birth date, '
    'contact, narrative) and the keyed pseudonym that links signals about '
    'the same person.  Never kept for an anonymous notification.  Readable '
    'by coordinators only; every read is audited.';

CREATE TABLE care.case (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	signal_id uuid NOT NULL,
	region_code text NOT NULL,
	priority text NOT NULL,
	state text NOT NULL DEFAULT 'open',
	holder_key_id uuid,
	version integer NOT NULL DEFAULT 1,
	rule_id text NOT NULL,
	ruleset_version text NOT NULL,
	explanation text NOT NULL,
	take_by timestamptz NOT NULL,
	first_contact_by timestamptz NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT case_pkey PRIMARY KEY (id),
	CONSTRAINT case_signal_id_key UNIQUE (signal_id),
	CONSTRAINT case_signal_id_fkey FOREIGN KEY (signal_id)
	    REFERENCES intake.signal (id),
	CONSTRAINT case_region_code_fkey FOREIGN KEY (region_code)
	    REFERENCES ref.region (code),
	CONSTRAINT case_holder_key_id_fkey FOREIGN KEY (holder_key_id)
	    REFERENCES auth.api_key (id),
	CONSTRAINT case_priority_check
	    CHECK (priority IN ('urgent', 'high', 'normal')),
	CONSTRAINT case_state_check
	    CHECK (state IN ('open', 'taken', 'closed')),
	-- One holder: a taken case has one, an open case none.
	CONSTRAINT case_holder_state_check CHECK (
	    (state <> 'taken' OR holder_key_id IS NOT NULL)
	    AND (state <> 'open' OR holder_key_id IS NULL)),
	CONSTRAINT case_version_check CHECK (version >= 1),
	CONSTRAINT case_rule_id_check
	    CHECK (char_length(rule_id) BETWEEN 1 AND 64),
	CONSTRAINT case_ruleset_version_check
	    CHECK (char_length(ruleset_version) BETWEEN 1 AND 72),
	CONSTRAINT case_explanation_check
	    CHECK (char_length(explanation) BETWEEN 1 AND 1000),
	CONSTRAINT case_deadlines_check
	    CHECK (take_by >= created_at AND first_contact_by >= created_at),
	CONSTRAINT case_updated_at_check CHECK (updated_at >= created_at)
);
CREATE INDEX case_region_state_idx ON care.case (region_code, state,
    created_at);
CREATE INDEX case_take_by_open_idx ON care.case (take_by)
    WHERE state = 'open';
CREATE INDEX case_holder_key_id_idx ON care.case (holder_key_id)
    WHERE holder_key_id IS NOT NULL;
COMMENT ON TABLE care.case IS
    'The care case of a signal that is not a notification: the region '
    'it is routed to, its state and holder, the rule that decided and the '
    'deadlines.  No personal data (that is care.subject).';

CREATE TABLE care.case_history (
	id bigint GENERATED ALWAYS AS IDENTITY,
	case_id uuid NOT NULL,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	action text NOT NULL,
	api_key_id uuid,
	detail jsonb NOT NULL DEFAULT '{}',
	CONSTRAINT case_history_pkey PRIMARY KEY (id),
	CONSTRAINT case_history_case_id_fkey FOREIGN KEY (case_id)
	    REFERENCES care.case (id),
	CONSTRAINT case_history_api_key_id_fkey FOREIGN KEY (api_key_id)
	    REFERENCES auth.api_key (id),
	CONSTRAINT case_history_action_check CHECK (action IN ('routed',
	    'taken', 'declined', 'released', 'transferred', 'escalated',
	    'closed', 'first_contact')),
	CONSTRAINT case_history_detail_check
	    CHECK (jsonb_typeof(detail) = 'object')
);
CREATE INDEX case_history_case_id_idx ON care.case_history (case_id, id);
COMMENT ON TABLE care.case_history IS
    'Every state change of a case (routed, taken, transferred, ...), who '
    'made it and codes explaining it.  No personal data: reasons are '
    'codes, never free text about the person.';

-- A notification-only signal keeps no subject and gets no case.
CREATE FUNCTION care.refuse_for_notification() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM intake.signal s
	    WHERE s.id = NEW.signal_id AND s.notification_only) THEN
		RAISE EXCEPTION 'a notification-only signal has no %',
		    TG_TABLE_NAME
		    USING ERRCODE = 'check_violation',
		    CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME,
		    SCHEMA = TG_TABLE_SCHEMA;
	END IF;
	RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER subject_not_notification
AFTER INSERT OR UPDATE OF signal_id ON care.subject
FOR EACH ROW EXECUTE FUNCTION care.refuse_for_notification();
CREATE CONSTRAINT TRIGGER case_not_notification
AFTER INSERT OR UPDATE OF signal_id ON care.case
FOR EACH ROW EXECUTE FUNCTION care.refuse_for_notification();

-- ---------------------------------------------------------------------
-- audit
-- ---------------------------------------------------------------------
CREATE TABLE audit.event (
	id bigint GENERATED ALWAYS AS IDENTITY,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	api_key_id uuid,
	agency_id uuid,
	role text,
	action text NOT NULL,
	object_type text,
	object_id text,
	purpose text,
	outcome text NOT NULL,
	reason text,
	request_id text,
	client_addr inet,
	CONSTRAINT event_pkey PRIMARY KEY (id),
	CONSTRAINT event_api_key_id_fkey FOREIGN KEY (api_key_id)
	    REFERENCES auth.api_key (id),
	CONSTRAINT event_agency_id_fkey FOREIGN KEY (agency_id)
	    REFERENCES auth.agency (id),
	CONSTRAINT event_role_check CHECK (role IS NULL OR role IN ('reporter',
	    'coordinator', 'assessor', 'investigator', 'auditor', 'analyst',
	    'admin')),
	CONSTRAINT event_action_check
	    CHECK (action ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'
	        AND char_length(action) <= 64),
	CONSTRAINT event_object_type_check CHECK (object_type IS NULL
	    OR object_type ~ '^[a-z][a-z_]{0,63}$'),
	CONSTRAINT event_object_id_check
	    CHECK (object_id IS NULL OR char_length(object_id) <= 100),
	CONSTRAINT event_purpose_check
	    CHECK (purpose IS NULL OR char_length(purpose) <= 200),
	CONSTRAINT event_outcome_check
	    CHECK (outcome IN ('allowed', 'denied', 'failed')),
	CONSTRAINT event_reason_check CHECK (reason IS NULL
	    OR reason ~ '^[a-z][a-z_]{0,63}$'),
	CONSTRAINT event_request_id_check
	    CHECK (request_id IS NULL OR char_length(request_id) <= 200)
);
CREATE INDEX event_at_idx ON audit.event (at);
CREATE INDEX event_api_key_id_idx ON audit.event (api_key_id, id);
CREATE INDEX event_object_idx ON audit.event (object_type, object_id);
COMMENT ON TABLE audit.event IS
    'Append-only audit log: who (key, agency, role) did or tried what '
    '(action) to which object, why (purpose), with which outcome and '
    'reason code, when and from where.  Never personal data.  The '
    'daemon''s roles may only INSERT; only the owner can change rows.';

-- ---------------------------------------------------------------------
-- api helpers.  SECURITY INVOKER: they run with the caller's privileges,
-- which after the role switch are those of the API role.
-- ---------------------------------------------------------------------

-- {"status": s, "problem": {"code", "detail"[, "field"]}}
CREATE FUNCTION api.problem(p_status integer, p_code text, p_detail text,
    p_field text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('status', p_status, 'problem',
	    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
	        'code', p_code, 'detail', p_detail, 'field', p_field)))
$$;
COMMENT ON FUNCTION api.problem(integer, text, text, text) IS
    'The jsonb answer of a refused request.';

CREATE FUNCTION api.audit(p_key_id uuid, p_agency_id uuid, p_role text,
    p_action text, p_object_type text, p_object_id text, p_purpose text,
    p_outcome text, p_reason text, p_request_id text, p_client inet)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO audit.event (api_key_id, agency_id, role, action,
	    object_type, object_id, purpose, outcome, reason, request_id,
	    client_addr)
	VALUES (p_key_id, p_agency_id, p_role, p_action, p_object_type,
	    p_object_id, p_purpose, p_outcome, p_reason, p_request_id, p_client)
$$;
COMMENT ON FUNCTION api.audit(uuid, uuid, text, text, text, text, text,
    text, text, text, inet) IS
    'Append one audit event in the caller''s transaction.';

/*
 * Authenticate a token hash for an action open to p_roles.  On success
 * the OUT columns describe the principal and denial is NULL; the caller
 * then switches role.  Otherwise denial holds the 401/403 answer and a
 * denied audit event has been written (unknown token: null key).
 */
CREATE FUNCTION api.authenticate(p_token_hash bytea, p_request_id text,
    p_client inet, p_roles text[], p_action text, p_object_type text,
    p_object_id text, OUT key_id uuid, OUT agency_id uuid, OUT role text,
    OUT regions text[], OUT agency_kind text, OUT denial jsonb)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_key record;
BEGIN
	SELECT k.id, k.agency_id, k.role, k.regions, k.revoked_at, a.kind
	INTO v_key
	FROM auth.api_key k
	JOIN auth.agency a ON a.id = k.agency_id
	WHERE k.token_hash = p_token_hash;
	IF NOT FOUND THEN
		PERFORM api.audit(NULL, NULL, NULL, p_action, p_object_type,
		    p_object_id, NULL, 'denied', 'unknown_token', p_request_id,
		    p_client);
		denial := api.problem(401, 'unauthenticated',
		    'missing, unknown or revoked API token');
		RETURN;
	END IF;
	IF v_key.revoked_at IS NOT NULL THEN
		PERFORM api.audit(v_key.id, v_key.agency_id, v_key.role,
		    p_action, p_object_type, p_object_id, NULL, 'denied',
		    'revoked_key', p_request_id, p_client);
		denial := api.problem(401, 'unauthenticated',
		    'missing, unknown or revoked API token');
		RETURN;
	END IF;
	IF NOT v_key.role = ANY (p_roles) THEN
		PERFORM api.audit(v_key.id, v_key.agency_id, v_key.role,
		    p_action, p_object_type, p_object_id, NULL, 'denied',
		    'role_not_permitted', p_request_id, p_client);
		denial := api.problem(403, 'forbidden',
		    'this API role may not perform this action');
		RETURN;
	END IF;
	key_id := v_key.id;
	agency_id := v_key.agency_id;
	role := v_key.role;
	regions := v_key.regions;
	agency_kind := v_key.kind;
END
$$;
COMMENT ON FUNCTION api.authenticate(bytea, text, inet, text[], text, text,
    text) IS
    'Token hash to principal, or the audited 401/403 answer.  Does not '
    'switch role: the caller does, in its own body.';

-- The advisory lock key of an (API key, Idempotency-Key) pair.
CREATE FUNCTION api.idempotency_lock_key(p_key_id uuid, p_idem_key text)
RETURNS bigint
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.hashtextextended(
	    'nrm.idempotency/' || p_key_id::text || '/' || p_idem_key, 0)
$$;

-- RFC 3339 UTC with second precision: 2024-05-01T12:00:00Z
CREATE FUNCTION api.rfc3339(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.to_char(p_at AT TIME ZONE 'UTC',
	    'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- ---------------------------------------------------------------------
-- api entry points (docs/sql-api.md).
--
-- Role switch: set_config('role', ..., true) inside a function with a
-- SET search_path clause works (privileges are checked as the new role
-- from the next statement on) but is NOT undone when the function
-- returns: it lasts until the end of the transaction.  Every entry point
-- therefore saves current_setting('role') first and restores it before
-- each normal return, so a caller running several statements in one
-- transaction never inherits an API role.  An error aborts the
-- (sub)transaction, which restores the role by itself.
-- ---------------------------------------------------------------------

CREATE FUNCTION api.intake(p_token_hash bytea, p_request_id text,
    p_client inet, p_idem_key text, p_request_hash bytea, p_signal jsonb,
    p_subject jsonb, p_pseudonym bytea, p_route jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_idem record;
	v_signal_id uuid := pg_catalog.gen_random_uuid();
	v_case_id uuid;
	v_received timestamptz := pg_catalog.now();
	v_notification boolean;
	v_has_subject boolean;
	v_municipality text;
	v_region text;
	v_priority text;
	v_rule_id text;
	v_body jsonb;
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['reporter'], 'signal.create', 'signal', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	-- Idempotency: one request per (key, Idempotency-Key) at a time.
	IF p_idem_key IS NOT NULL THEN
		IF pg_catalog.char_length(p_idem_key) NOT BETWEEN 1 AND 200 THEN
			PERFORM pg_catalog.set_config('role', v_prev_role,
			    true);
			RETURN api.problem(400, 'bad_request',
			    'Idempotency-Key must be 1 to 200 characters',
			    'Idempotency-Key');
		END IF;
		IF p_request_hash IS NULL
		    OR pg_catalog.octet_length(p_request_hash) <> 32 THEN
			RAISE EXCEPTION 'p_request_hash must be 32 bytes'
			    USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF NOT pg_catalog.pg_try_advisory_xact_lock(
		    api.idempotency_lock_key(v_p.key_id, p_idem_key)) THEN
			PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
			    'signal.create', 'signal', NULL, 'intake', 'failed',
			    'idempotency_in_flight', p_request_id, p_client);
			PERFORM pg_catalog.set_config('role', v_prev_role,
			    true);
			RETURN api.problem(409, 'conflict',
			    'a request with this key is in flight',
			    'Idempotency-Key');
		END IF;
		SELECT i.request_hash, i.response INTO v_idem
		FROM intake.idempotency i
		WHERE i.api_key_id = v_p.key_id AND i.idem_key = p_idem_key;
		IF FOUND THEN
			IF v_idem.request_hash = p_request_hash THEN
				PERFORM api.audit(v_p.key_id, v_p.agency_id,
				    v_p.role, 'signal.replay', 'signal',
				    v_idem.response->'body'->>'signal_id',
				    'intake', 'allowed', NULL, p_request_id,
				    p_client);
				PERFORM pg_catalog.set_config('role',
				    v_prev_role, true);
				RETURN v_idem.response;
			END IF;
			PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
			    'signal.create', 'signal', NULL, 'intake', 'failed',
			    'idempotency_mismatch', p_request_id, p_client);
			PERFORM pg_catalog.set_config('role', v_prev_role,
			    true);
			RETURN api.problem(422, 'idempotency',
			    'this Idempotency-Key was used with a different '
			    'request', 'Idempotency-Key');
		END IF;
	END IF;

	-- Arguments nrmd computed: a mismatch is a daemon bug, not input.
	IF p_signal IS NULL OR pg_catalog.jsonb_typeof(p_signal) <> 'object'
	    OR p_route IS NULL OR pg_catalog.jsonb_typeof(p_route) <> 'object'
	THEN
		RAISE EXCEPTION 'p_signal and p_route must be JSON objects'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_notification := (p_signal->>'notification_only')::boolean;
	v_has_subject := p_subject IS NOT NULL
	    AND pg_catalog.jsonb_typeof(p_subject) <> 'null';
	IF v_notification IS NULL OR v_notification = v_has_subject THEN
		RAISE EXCEPTION 'p_subject must be null exactly when the '
		    'signal is notification_only'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF v_has_subject AND pg_catalog.jsonb_typeof(p_subject) <> 'object'
	THEN
		RAISE EXCEPTION 'p_subject must be a JSON object or null'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- A municipality the reference data does not know is the client's
	-- error (nrmd checks it too; this keeps the answer a 422 if its
	-- config and the database ever disagree).
	v_municipality := p_signal->>'municipality_code';
	IF v_municipality IS NOT NULL AND NOT EXISTS (SELECT 1
	    FROM ref.municipality m WHERE m.code = v_municipality) THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'signal.create', 'signal', NULL, 'intake', 'failed',
		    'unknown_municipality', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(422, 'validation',
		    'unknown municipality code', 'location.municipality_code');
	END IF;

	v_region := p_route->>'region';
	v_rule_id := p_route->>'rule_id';
	INSERT INTO intake.signal (id, received_at, observed_at, agency_id,
	    api_key_id, municipality_code, region_code, rule_id,
	    ruleset_version, reporter_reference, minor, age_estimate, gender,
	    nationality, languages, exploitation, control_means,
	    immediate_danger, needs_shelter, consent, notification_only,
	    request_id)
	VALUES (v_signal_id, v_received,
	    (p_signal->>'observed_at')::timestamptz, v_p.agency_id, v_p.key_id,
	    v_municipality, v_region, v_rule_id, p_route->>'ruleset_version',
	    p_signal->>'reporter_reference', (p_signal->>'minor')::boolean,
	    (p_signal->>'age_estimate')::integer, p_signal->>'gender',
	    p_signal->>'nationality',
	    ARRAY(SELECT pg_catalog.jsonb_array_elements_text(
	        COALESCE(p_signal->'languages', '[]'::jsonb))),
	    ARRAY(SELECT pg_catalog.jsonb_array_elements_text(
	        COALESCE(p_signal->'exploitation', '[]'::jsonb))),
	    ARRAY(SELECT pg_catalog.jsonb_array_elements_text(
	        COALESCE(p_signal->'control_means', '[]'::jsonb))),
	    (p_signal->>'immediate_danger')::boolean,
	    (p_signal->>'needs_shelter')::boolean, p_signal->>'consent',
	    v_notification, p_request_id);

	IF NOT v_notification THEN
		INSERT INTO care.subject (signal_id, given_name, family_name,
		    birth_date, phone, address, narrative, pseudonym,
		    created_at)
		VALUES (v_signal_id, p_subject->>'given_name',
		    p_subject->>'family_name',
		    (p_subject->>'birth_date')::date, p_subject->>'phone',
		    p_subject->>'address', p_subject->>'narrative', p_pseudonym,
		    v_received);

		v_case_id := pg_catalog.gen_random_uuid();
		v_priority := p_route->>'priority';
		INSERT INTO care.case (id, signal_id, region_code, priority,
		    state, version, rule_id, ruleset_version, explanation,
		    take_by, first_contact_by, created_at, updated_at)
		VALUES (v_case_id, v_signal_id, v_region, v_priority, 'open', 1,
		    v_rule_id, p_route->>'ruleset_version',
		    p_route->>'explanation',
		    v_received + pg_catalog.make_interval(secs =>
		        (p_route->>'take_within')::numeric),
		    v_received + pg_catalog.make_interval(secs =>
		        (p_route->>'first_contact_within')::numeric),
		    v_received, v_received);

		INSERT INTO care.case_history (case_id, action, api_key_id,
		    detail)
		VALUES (v_case_id, 'routed', v_p.key_id,
		    pg_catalog.jsonb_build_object('region', v_region,
		        'priority', v_priority, 'rule_id', v_rule_id,
		        'ruleset_version', p_route->>'ruleset_version',
		        'decision', p_route));
	END IF;

	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role, 'signal.create',
	    'signal', v_signal_id::text, 'intake', 'allowed', NULL,
	    p_request_id, p_client);

	v_body := pg_catalog.jsonb_build_object('signal_id', v_signal_id,
	    'case_id', v_case_id, 'region', v_region, 'priority', v_priority,
	    'rule_id', v_rule_id, 'received_at', api.rfc3339(v_received),
	    'notification_only', v_notification);
	v_resp := pg_catalog.jsonb_build_object('status', 201, 'body', v_body,
	    'location', '/v1/signals/' || v_signal_id::text);

	IF p_idem_key IS NOT NULL THEN
		INSERT INTO intake.idempotency (api_key_id, idem_key,
		    request_hash, status, response, created_at)
		VALUES (v_p.key_id, p_idem_key, p_request_hash, 201, v_resp,
		    v_received);
	END IF;

	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN v_resp;
END
$$;
COMMENT ON FUNCTION api.intake(bytea, text, inet, text, bytea, jsonb, jsonb,
    bytea, jsonb) IS
    'POST /v1/signals: authenticate (reporter), idempotency, store the '
    'signal and, unless a notification, subject, case and history; audit; '
    'return the receipt.';

CREATE FUNCTION api.signal_receipt(p_token_hash bytea, p_request_id text,
    p_client inet, p_signal_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_prev_role text := pg_catalog.current_setting('role');
	v_p record;
	v_r record;
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, ARRAY['reporter'], 'signal.read_receipt', 'signal',
	    p_signal_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	PERFORM pg_catalog.set_config('role', 'nrm_' || v_p.role, true);

	SELECT s.id, s.received_at, s.region_code, s.rule_id,
	    s.notification_only, c.id AS case_id, c.priority
	INTO v_r
	FROM intake.signal s
	LEFT JOIN care.case c ON c.signal_id = s.id
	WHERE s.id = p_signal_id AND s.agency_id = v_p.agency_id;
	IF NOT FOUND THEN
		PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
		    'signal.read_receipt', 'signal', p_signal_id::text,
		    'intake', 'failed', 'not_found', p_request_id, p_client);
		PERFORM pg_catalog.set_config('role', v_prev_role, true);
		RETURN api.problem(404, 'not_found',
		    'no signal with this id was submitted by your agency');
	END IF;

	PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
	    'signal.read_receipt', 'signal', p_signal_id::text, 'intake',
	    'allowed', NULL, p_request_id, p_client);
	v_resp := pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('signal_id', v_r.id,
	        'case_id', v_r.case_id, 'region', v_r.region_code,
	        'priority', v_r.priority, 'rule_id', v_r.rule_id,
	        'received_at', api.rfc3339(v_r.received_at),
	        'notification_only', v_r.notification_only));
	PERFORM pg_catalog.set_config('role', v_prev_role, true);
	RETURN v_resp;
END
$$;
COMMENT ON FUNCTION api.signal_receipt(bytea, text, inet, uuid) IS
    'GET /v1/signals/{id}: the receipt of a signal of the caller''s '
    'agency (reporter), else 404; audited.';

CREATE FUNCTION api.schema_version() RETURNS integer
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.max(version) FROM nrm.schema_version
$$;
COMMENT ON FUNCTION api.schema_version() IS
    'The highest applied migration, for nrmd''s start-up check.';

-- ---------------------------------------------------------------------
-- Grants: least privilege, table by table.  Nothing is granted to PUBLIC.
-- ---------------------------------------------------------------------
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA api, auth, care FROM PUBLIC;

-- nrm_app: the daemon's login role.  Before the switch it only
-- authenticates (reads keys) and writes denial audit events.
GRANT USAGE ON SCHEMA nrm, api, auth, audit TO nrm_app;
GRANT SELECT ON nrm.schema_version TO nrm_app;
GRANT SELECT ON auth.api_key, auth.agency TO nrm_app;
GRANT INSERT ON audit.event TO nrm_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO nrm_app;

-- Common to every API role: the api helpers, reference data, and
-- appending audit events.
DO $grants$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['nrm_reporter', 'nrm_coordinator',
	    'nrm_assessor', 'nrm_investigator', 'nrm_auditor', 'nrm_analyst',
	    'nrm_admin']
	LOOP
		EXECUTE pg_catalog.format(
		    'GRANT USAGE ON SCHEMA api, ref, audit TO %I', r);
		EXECUTE pg_catalog.format(
		    'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO %I', r);
		EXECUTE pg_catalog.format(
		    'GRANT SELECT ON ref.region, ref.municipality TO %I', r);
		EXECUTE pg_catalog.format(
		    'GRANT INSERT ON audit.event TO %I', r);
	END LOOP;
END
$grants$;

-- reporter: submit signals; read only what the receipt and the
-- idempotency check need.  Never care.subject.
GRANT USAGE ON SCHEMA intake, care TO nrm_reporter;
GRANT INSERT ON intake.signal, care.subject, care.case, care.case_history,
    intake.idempotency TO nrm_reporter;
GRANT SELECT (id, agency_id, received_at, region_code, rule_id,
    notification_only) ON intake.signal TO nrm_reporter;
GRANT SELECT (id, signal_id, priority) ON care.case TO nrm_reporter;
GRANT SELECT ON intake.idempotency TO nrm_reporter;

-- coordinator: inbox and case lifecycle of its regions, with the
-- subject's personal data.
GRANT USAGE ON SCHEMA intake, care TO nrm_coordinator;
GRANT SELECT ON intake.signal, care.subject, care.case, care.case_history
    TO nrm_coordinator;
GRANT UPDATE (region_code, state, holder_key_id, version, updated_at)
    ON care.case TO nrm_coordinator;
GRANT INSERT ON care.case_history TO nrm_coordinator;

-- analyst: aggregate statistics over non-identifying facts.
GRANT USAGE ON SCHEMA intake, care TO nrm_analyst;
GRANT SELECT ON intake.signal, care.case, care.case_history TO nrm_analyst;

-- auditor: read the audit log.
GRANT SELECT ON audit.event TO nrm_auditor;

-- admin: see keys and agencies, never token hashes.
GRANT USAGE ON SCHEMA auth TO nrm_admin;
GRANT SELECT ON auth.agency TO nrm_admin;
GRANT SELECT (id, agency_id, role, regions, label, created_at, revoked_at)
    ON auth.api_key TO nrm_admin;

-- assessor and investigator: their tracks' tables come with their
-- migrations; until then they hold only the common grants.
