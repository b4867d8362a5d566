-- 0019_privacy.sql - retention and the data subject's rights (issue 15,
-- docs/data-protection.md "Retention and erasure"): the privacy officer
-- (an API role, national), the erasure record a crypto-shredded case
-- keeps, the history of rectified subject fields, the retention schedule
-- nrmd last ran with, and nrm_privacy, the owner of the SECURITY DEFINER
-- functions that read and erase across every region.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  The function bodies stand in sql/api/82_privacy.sql.

-- ---------------------------------------------------------------------
-- The API role privacy_officer: nothing but the api helpers and its own
-- audit events; every read and change goes through the functions of
-- nrm_privacy (82_privacy.sql).
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_privacy_officer') THEN
		CREATE ROLE nrm_privacy_officer NOLOGIN;
	END IF;
	-- nrm_app is no member (0018: it executes the doors only); the
	-- owner is, so that it can hand the role its doors (99_doors.sql).
	IF pg_catalog.pg_has_role('nrm_app', 'nrm_privacy_officer',
	    'MEMBER') THEN
		REVOKE nrm_privacy_officer FROM nrm_app;
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, 'nrm_privacy_officer',
	    'MEMBER') THEN
		EXECUTE pg_catalog.format('GRANT nrm_privacy_officer TO %I',
		    current_user);
	END IF;
END
$roles$;
COMMENT ON ROLE nrm_privacy_officer IS
    'nrm: the API role privacy_officer (national: export, rectify and '
    'erase one data subject''s personal data on request; no table '
    'privilege of its own, only the functions owned by nrm_privacy).';

GRANT USAGE ON SCHEMA api, ref, audit, care TO nrm_privacy_officer;
GRANT SELECT ON ref.region, ref.municipality TO nrm_privacy_officer;
-- no INSERT on audit.event (0018): it audits through api.audit.

-- ---------------------------------------------------------------------
-- nrm_privacy: NOLOGIN, nrm_app is NOT a member (as nrm_sweeper, 0004):
-- it owns the functions that destroy data keys, clear ciphertexts and
-- read a case for an export, whatever its region.
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_privacy') THEN
		CREATE ROLE nrm_privacy NOLOGIN;
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, 'nrm_privacy', 'MEMBER')
	THEN
		EXECUTE pg_catalog.format('GRANT nrm_privacy TO %I',
		    current_user);
	END IF;
	IF pg_catalog.pg_has_role('nrm_app', 'nrm_privacy', 'MEMBER') THEN
		REVOKE nrm_privacy FROM nrm_app;
	END IF;
END
$roles$;
COMMENT ON ROLE nrm_privacy IS
    'nrm: owner of the retention, export, rectification and erasure '
    'functions (SECURITY DEFINER, sql/api/82_privacy.sql).  NOLOGIN; '
    'nrm_app is no member.';

-- The role vocabularies gain privacy_officer (same constraint names).
ALTER TABLE auth.api_key
	DROP CONSTRAINT api_key_role_check,
	ADD CONSTRAINT api_key_role_check CHECK (role IN ('reporter',
	    'coordinator', 'assessor', 'investigator', 'auditor', 'analyst',
	    'admin', 'chain_director', 'privacy_officer'));
ALTER TABLE auth.person
	DROP CONSTRAINT person_role_check,
	ADD CONSTRAINT person_role_check CHECK (role IN ('reporter',
	    'coordinator', 'assessor', 'investigator', 'auditor', 'analyst',
	    'admin', 'chain_director', 'privacy_officer'));
ALTER TABLE audit.event
	DROP CONSTRAINT event_role_check,
	ADD CONSTRAINT event_role_check CHECK (role IS NULL OR role IN (
	    'reporter', 'coordinator', 'assessor', 'investigator', 'auditor',
	    'analyst', 'admin', 'chain_director', 'privacy_officer'));

-- A new purpose of access: data_protection (the data subject's rights
-- and the retention schedule).  Spelled twice, as in 0005: here and in
-- audit.purpose_codes (sql/api/10_common.sql).
ALTER TABLE audit.event
	DROP CONSTRAINT event_purpose_check,
	ADD CONSTRAINT event_purpose_check CHECK (purpose IS NULL
	    OR purpose IN ('care', 'intake', 'identification',
	        'investigation', 'audit', 'monitoring', 'emergency',
	        'nrmctl', 'data_protection'));

-- ---------------------------------------------------------------------
-- care.erasure: what an erased signal keeps of its erasure.
-- ---------------------------------------------------------------------
CREATE TABLE care.erasure (
	signal_id uuid NOT NULL,
	case_id uuid,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	ground text NOT NULL,
	api_key_id uuid,
	CONSTRAINT erasure_pkey PRIMARY KEY (signal_id),
	CONSTRAINT erasure_signal_id_fkey FOREIGN KEY (signal_id)
	    REFERENCES intake.signal (id),
	CONSTRAINT erasure_case_id_fkey FOREIGN KEY (case_id)
	    REFERENCES care.case (id),
	CONSTRAINT erasure_api_key_id_fkey FOREIGN KEY (api_key_id)
	    REFERENCES auth.api_key (id),
	-- retention: the schedule (api_key_id null); the others: art. 17
	-- GDPR on request (docs/data-protection.md, "Erasure grounds").
	CONSTRAINT erasure_ground_check CHECK (ground IN ('retention',
	    'no_longer_necessary', 'consent_withdrawn', 'objection',
	    'unlawfully_processed', 'legal_obligation',
	    'child_information_society')),
	CONSTRAINT erasure_by_check
	    CHECK ((ground = 'retention') = (api_key_id IS NULL))
);
CREATE UNIQUE INDEX erasure_case_id_key ON care.erasure (case_id)
    WHERE case_id IS NOT NULL;
COMMENT ON TABLE care.erasure IS
    'The erasure of a signal''s personal data (crypto-shredding: its data '
    'keys destroyed, its ciphertexts and pseudonym cleared): when, on '
    'which ground (a code), by which key (null: the retention schedule).  '
    'At most one per signal.  No personal data.';

-- ---------------------------------------------------------------------
-- care.rectification: the history of rectified subject fields (art. 16).
-- The old value stays sealed with the case's own data key and the AAD
-- of its column, so erasing the case erases its history too.
-- ---------------------------------------------------------------------
CREATE TABLE care.rectification (
	id bigint GENERATED ALWAYS AS IDENTITY,
	signal_id uuid NOT NULL,
	field text NOT NULL,
	old_ct bytea,
	data_key_id uuid,
	ground text NOT NULL,
	api_key_id uuid NOT NULL,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	CONSTRAINT rectification_pkey PRIMARY KEY (id),
	CONSTRAINT rectification_signal_id_fkey FOREIGN KEY (signal_id)
	    REFERENCES intake.signal (id),
	CONSTRAINT rectification_data_key_id_fkey FOREIGN KEY (data_key_id)
	    REFERENCES care.data_key (id),
	CONSTRAINT rectification_api_key_id_fkey FOREIGN KEY (api_key_id)
	    REFERENCES auth.api_key (id),
	CONSTRAINT rectification_field_check CHECK (field IN ('given_name',
	    'family_name', 'birth_date', 'phone', 'address', 'narrative')),
	CONSTRAINT rectification_old_ct_check
	    CHECK (care.sealed_ok(old_ct, 8000)
	        AND (old_ct IS NULL OR data_key_id IS NOT NULL)),
	CONSTRAINT rectification_ground_check
	    CHECK (ground IN ('inaccurate', 'incomplete'))
);
CREATE INDEX rectification_signal_id_idx ON care.rectification (signal_id);
COMMENT ON TABLE care.rectification IS
    'PERSONAL DATA, sealed: the value a rectification replaced (old_ct, '
    'AAD "care.subject/<field>/<signal id>", the case''s data key; null '
    'when there was none, or once erased), the field, the ground code, '
    'who and when.';

-- ---------------------------------------------------------------------
-- The schedule nrmd's retention job last ran with (one row), so that
-- `nrmctl retention status` says what is due by the schedule in force.
-- ---------------------------------------------------------------------
CREATE TABLE care.retention_schedule (
	id boolean NOT NULL DEFAULT true,
	after_close integer NOT NULL,
	by_reason jsonb NOT NULL DEFAULT '{}',
	anonymous integer NOT NULL,
	seen_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT retention_schedule_pkey PRIMARY KEY (id),
	CONSTRAINT retention_schedule_id_check CHECK (id),
	CONSTRAINT retention_schedule_after_close_check
	    CHECK (after_close >= 1),
	CONSTRAINT retention_schedule_anonymous_check CHECK (anonymous >= 1),
	CONSTRAINT retention_schedule_by_reason_check
	    CHECK (pg_catalog.jsonb_typeof(by_reason) = 'object')
);
COMMENT ON TABLE care.retention_schedule IS
    'The retention schedule (seconds) nrmd''s retention job last ran '
    'with, and when: read by nrmctl retention status.  No personal data.';

-- ---------------------------------------------------------------------
-- What nrm_privacy may do: read every case, signal and subject for an
-- export; destroy data keys; clear ciphertexts and pseudonyms; keep the
-- records above.  Nothing else.
-- ---------------------------------------------------------------------
GRANT USAGE ON SCHEMA care, intake, ident, auth, audit, ref, api
    TO nrm_privacy;
GRANT SELECT ON care.case, care.case_history, care.subject, intake.signal,
    ident.decision, care.data_key, auth.agency, care.erasure,
    care.rectification, care.retention_schedule TO nrm_privacy;
GRANT SELECT (id, object_type, object_id, at, action, role, purpose,
    outcome, reason) ON audit.event TO nrm_privacy;
GRANT SELECT ON care.case_item TO nrm_privacy;
GRANT SELECT (id, agency_id) ON auth.api_key TO nrm_privacy;
GRANT UPDATE (wrapped, destroyed_at) ON care.data_key TO nrm_privacy;
GRANT UPDATE (given_name, family_name, birth_date, phone, address,
    narrative, given_name_ct, family_name_ct, birth_date_ct, phone_ct,
    address_ct, narrative_ct, pseudonym) ON care.subject TO nrm_privacy;
GRANT UPDATE (reporter_reference, reporter_reference_ct) ON intake.signal
    TO nrm_privacy;
GRANT UPDATE (rationale, rationale_ct) ON ident.decision TO nrm_privacy;
GRANT INSERT ON care.erasure, care.rectification TO nrm_privacy;
GRANT UPDATE (old_ct) ON care.rectification TO nrm_privacy;
GRANT INSERT, UPDATE ON care.retention_schedule TO nrm_privacy;
GRANT INSERT ON audit.event TO nrm_privacy;

CREATE POLICY case_privacy_select ON care.case
FOR SELECT TO nrm_privacy USING (true);
CREATE POLICY case_history_privacy_select ON care.case_history
FOR SELECT TO nrm_privacy USING (true);
CREATE POLICY subject_privacy_select ON care.subject
FOR SELECT TO nrm_privacy USING (true);
CREATE POLICY subject_privacy_update ON care.subject
FOR UPDATE TO nrm_privacy USING (true) WITH CHECK (true);
CREATE POLICY signal_privacy_select ON intake.signal
FOR SELECT TO nrm_privacy USING (true);
CREATE POLICY signal_privacy_update ON intake.signal
FOR UPDATE TO nrm_privacy USING (true) WITH CHECK (true);
CREATE POLICY decision_privacy_select ON ident.decision
FOR SELECT TO nrm_privacy USING (true);
CREATE POLICY decision_privacy_update ON ident.decision
FOR UPDATE TO nrm_privacy USING (true) WITH CHECK (true);
COMMENT ON POLICY case_privacy_select ON care.case IS
    'Export and erasure reach every case (nrm_privacy''s functions only).';
COMMENT ON POLICY case_history_privacy_select ON care.case_history IS
    'An export carries a case''s history; retention reads its closing.';
COMMENT ON POLICY subject_privacy_select ON care.subject IS
    'Export, rectification and erasure read a subject, any region.';
COMMENT ON POLICY signal_privacy_select ON intake.signal IS
    'Export and retention read a signal, any region.';
COMMENT ON POLICY decision_privacy_select ON ident.decision IS
    'An export carries a case''s identification entries.';
COMMENT ON POLICY subject_privacy_update ON care.subject IS
    'Rectification and erasure change a subject''s sealed columns.';
COMMENT ON POLICY signal_privacy_update ON intake.signal IS
    'Erasure clears a signal''s reporter reference.';
COMMENT ON POLICY decision_privacy_update ON ident.decision IS
    'Erasure clears the rationales of a case''s identification entries.';

REVOKE ALL ON care.erasure, care.rectification, care.retention_schedule
    FROM PUBLIC;
-- The case read says when and why its data were erased.
GRANT SELECT ON care.erasure TO nrm_coordinator, nrm_assessor,
    nrm_privacy_officer;
