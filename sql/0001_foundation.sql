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
-- api.  The api functions stand in the repeatable files sql/api/*.sql,
-- applied after the numbered migrations (docs/sql-api.md).  The one
-- here is needed earlier: LANGUAGE sql functions and views of later
-- migrations call it when they are created.
-- ---------------------------------------------------------------------

-- RFC 3339 UTC with second precision: 2024-05-01T12:00:00Z
CREATE FUNCTION api.rfc3339(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.to_char(p_at AT TIME ZONE 'UTC',
	    'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

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
-- (ALL FUNCTIONS: api.rfc3339 here; sql/api/ grants its own functions.)
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
