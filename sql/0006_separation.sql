-- 0006_separation.sql - victim identification kept apart from the
-- criminal investigation, enforced in the database (issue 5): the
-- identification track (schema ident, care side) with jurisdiction
-- profiles as data, the investigation track (schema invest, criminal
-- side), the one consented bridge from care to police (a shared case
-- id), and row-level security on every table that holds case or
-- signal rows (docs/separation.md, docs/sql-api.md).
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  0001..0005 are released and stay unchanged: what
-- this file changes of theirs it changes with ALTER / CREATE OR REPLACE
-- (api.authenticate, api.case_lock, api.case_get, and the history
-- action list), keeping their answers identical.
--
-- Design in one paragraph.  Grants separate the tracks by schema: the
-- care roles (coordinator, assessor) hold privileges on ident.* and
-- none on invest.*; the investigator holds privileges on invest.* and
-- two columns of intake.signal, none on ident.* or care.*.  Row-level
-- security separates principals of one role: api.authenticate, which
-- every entry point calls first, now also publishes the principal's
-- scope as transaction-local settings (api.scope: nrm.key_id,
-- nrm.agency_id, nrm.role, nrm.regions, nrm.case_id), and the policies
-- read them: coordinators see the cases of their regions, reporters and
-- investigators the rows of their agency, assessors and analysts every
-- case (national), the sweeper the open cases.  No setting (a direct
-- SELECT after SET ROLE without an api function) means no rows.

-- ---------------------------------------------------------------------
-- The case sharer's role.  NOLOGIN, and nrm_app is NOT a member: it is
-- the owner of care.share_case (SECURITY DEFINER), the one way a
-- care-side principal writes into schema invest: recording that the
-- victim consented to share a case id with an investigating agency.
-- Coordinators hold no privilege on invest.* themselves.  nrm_owner
-- becomes a member only to hand the function over (as for nrm_sweeper).
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_case_sharer') THEN
		CREATE ROLE nrm_case_sharer NOLOGIN;
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, 'nrm_case_sharer',
	    'MEMBER') THEN
		EXECUTE pg_catalog.format('GRANT nrm_case_sharer TO %I',
		    current_user);
	END IF;
	IF pg_catalog.pg_has_role('nrm_app', 'nrm_case_sharer', 'MEMBER')
	THEN
		REVOKE nrm_case_sharer FROM nrm_app;
	END IF;
END
$roles$;
COMMENT ON ROLE nrm_case_sharer IS
    'nrm: owner of care.share_case (SECURITY DEFINER); records a consented '
    'case share in invest.case_share.  NOLOGIN; nrm_app is no member.';

CREATE SCHEMA ident;
CREATE SCHEMA invest;
COMMENT ON SCHEMA ident IS
    'Identification track (care side): victim identification decisions '
    'and the jurisdiction profiles that rule them.  Never readable by '
    'reporters or investigators.';
COMMENT ON SCHEMA invest IS
    'Investigation track (criminal side): police and prosecution '
    'records, and the case ids the care side shared with consent.  Never '
    'readable by the care roles.';

-- Whether a case exists, whatever the caller's scope.  Only to tell
-- not_found from out_of_scope in the audit log (the answer is the same
-- 404): under row-level security the caller itself cannot.
CREATE FUNCTION care.case_exists(p_case_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM care.case c WHERE c.id = p_case_id)
$$;
COMMENT ON FUNCTION care.case_exists(uuid) IS
    'Whether a case with this id exists (SECURITY DEFINER, owner: past '
    'row-level security).  For the audit reason not_found vs '
    'out_of_scope only; the answer to the client is the same 404.';

-- ---------------------------------------------------------------------
-- Row-level security on the care side and intake.
--
-- Scope expressions (the settings api.scope publishes; unset or empty
-- means no row):
--   regions  c.region_code = ANY (string_to_array(
--                current_setting('nrm.regions', true), ','))
--   agency   agency_id = nullif(current_setting('nrm.agency_id', true),
--                '')::uuid
--   key      ... nrm.key_id ...
--   locked   c.id = nullif(current_setting('nrm.case_id', true), '')::uuid
-- Spelled out in each policy (no function: nothing to grant, and the
-- planner can use them as index conditions).
--
-- Not FORCE ROW LEVEL SECURITY: the owner (nrm_owner) bypasses, on
-- purpose.  It runs migrations (which must see every row) and owns the
-- few SECURITY DEFINER helpers that must see past a caller's scope
-- (care.case_exists, invest.record_exists, the notification and
-- signal-agency constraint triggers); it never serves a request: nrmd
-- logs in as nrm_app, which owns nothing.  No nrm role has BYPASSRLS.
-- ---------------------------------------------------------------------
ALTER TABLE intake.signal ENABLE ROW LEVEL SECURITY;
ALTER TABLE intake.idempotency ENABLE ROW LEVEL SECURITY;
ALTER TABLE care.subject ENABLE ROW LEVEL SECURITY;
ALTER TABLE care.case ENABLE ROW LEVEL SECURITY;
ALTER TABLE care.case_history ENABLE ROW LEVEL SECURITY;

-- care.case -----------------------------------------------------------
CREATE POLICY case_reporter_select ON care.case
FOR SELECT TO nrm_reporter
USING (EXISTS (SELECT 1 FROM intake.signal s
    WHERE s.id = signal_id AND s.agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid));
CREATE POLICY case_reporter_insert ON care.case
FOR INSERT TO nrm_reporter
WITH CHECK (EXISTS (SELECT 1 FROM intake.signal s
    WHERE s.id = signal_id AND s.agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid));
-- A coordinator sees its regions' cases, and the one case a lifecycle
-- action locked after checking it was in scope (so a transfer or a
-- decline to the national desk can write the case out of its regions
-- and answer with the new item).
CREATE POLICY case_coordinator_select ON care.case
FOR SELECT TO nrm_coordinator
USING (region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))
    OR id = NULLIF(
        pg_catalog.current_setting('nrm.case_id', true), '')::uuid);
CREATE POLICY case_coordinator_update ON care.case
FOR UPDATE TO nrm_coordinator
USING (region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))
    OR id = NULLIF(
        pg_catalog.current_setting('nrm.case_id', true), '')::uuid);
CREATE POLICY case_assessor_select ON care.case
FOR SELECT TO nrm_assessor USING (true);
CREATE POLICY case_analyst_select ON care.case
FOR SELECT TO nrm_analyst USING (true);
-- The sweeper: open cases; it may only move an open, never escalated
-- case outside the national desk to the national desk, escalated.
CREATE POLICY case_sweeper_select ON care.case
FOR SELECT TO nrm_sweeper USING (state = 'open');
CREATE POLICY case_sweeper_update ON care.case
FOR UPDATE TO nrm_sweeper
USING (state = 'open' AND escalated_at IS NULL
    AND region_code <> 'NATIONAL')
WITH CHECK (state = 'open' AND escalated_at IS NOT NULL
    AND region_code = 'NATIONAL');
-- The sharer (care.share_case) sees the calling coordinator's cases.
CREATE POLICY case_case_sharer_select ON care.case
FOR SELECT TO nrm_case_sharer
USING (region_code = ANY (pg_catalog.string_to_array(
    pg_catalog.current_setting('nrm.regions', true), ',')));

COMMENT ON POLICY case_reporter_select ON care.case IS
    'Reporters: cases of their agency''s signals (the receipt).';
COMMENT ON POLICY case_reporter_insert ON care.case IS
    'Reporters create cases for their agency''s signals only.';
COMMENT ON POLICY case_coordinator_select ON care.case IS
    'Coordinators: cases of their regions (nrm.regions), plus the case '
    'the current lifecycle action locked (nrm.case_id).';
COMMENT ON POLICY case_coordinator_update ON care.case IS
    'Coordinators change cases of their regions; the locked case may '
    'leave them (transfer, decline to the national desk).';
COMMENT ON POLICY case_assessor_select ON care.case IS
    'Assessors are national: every case.';
COMMENT ON POLICY case_analyst_select ON care.case IS
    'Analysts count every case (no personal data in care.case).';
COMMENT ON POLICY case_sweeper_select ON care.case IS
    'The sweeper reads open cases.';
COMMENT ON POLICY case_sweeper_update ON care.case IS
    'The sweeper only escalates: open, never escalated, outside the '
    'national desk -> national desk, escalated.';
COMMENT ON POLICY case_case_sharer_select ON care.case IS
    'care.share_case sees the calling coordinator''s regions only.';

-- intake.signal -------------------------------------------------------
CREATE POLICY signal_reporter_select ON intake.signal
FOR SELECT TO nrm_reporter
USING (agency_id = NULLIF(
    pg_catalog.current_setting('nrm.agency_id', true), '')::uuid);
CREATE POLICY signal_reporter_insert ON intake.signal
FOR INSERT TO nrm_reporter
WITH CHECK (agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid
    AND api_key_id = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid);
CREATE POLICY signal_investigator_select ON intake.signal
FOR SELECT TO nrm_investigator
USING (agency_id = NULLIF(
    pg_catalog.current_setting('nrm.agency_id', true), '')::uuid);
CREATE POLICY signal_coordinator_select ON intake.signal
FOR SELECT TO nrm_coordinator
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.signal_id = signal.id
    AND (c.region_code = ANY (pg_catalog.string_to_array(
            pg_catalog.current_setting('nrm.regions', true), ','))
        OR c.id = NULLIF(
            pg_catalog.current_setting('nrm.case_id', true), '')::uuid)));
CREATE POLICY signal_assessor_select ON intake.signal
FOR SELECT TO nrm_assessor USING (true);
CREATE POLICY signal_analyst_select ON intake.signal
FOR SELECT TO nrm_analyst USING (true);
COMMENT ON POLICY signal_reporter_select ON intake.signal IS
    'Reporters: their agency''s signals.';
COMMENT ON POLICY signal_reporter_insert ON intake.signal IS
    'Reporters submit signals as their own key and agency only.';
COMMENT ON POLICY signal_investigator_select ON intake.signal IS
    'Investigators: their agency''s signals (id and agency_id are the '
    'only columns granted), to refer to them.';
COMMENT ON POLICY signal_coordinator_select ON intake.signal IS
    'Coordinators: signals of the cases they see.';
COMMENT ON POLICY signal_assessor_select ON intake.signal IS
    'Assessors are national: every signal.';
COMMENT ON POLICY signal_analyst_select ON intake.signal IS
    'Analysts count every signal (non-identifying facts).';

-- intake.idempotency: per API key, as api.intake reads it.
CREATE POLICY idempotency_reporter_select ON intake.idempotency
FOR SELECT TO nrm_reporter
USING (api_key_id = NULLIF(
    pg_catalog.current_setting('nrm.key_id', true), '')::uuid);
CREATE POLICY idempotency_reporter_insert ON intake.idempotency
FOR INSERT TO nrm_reporter
WITH CHECK (api_key_id = NULLIF(
    pg_catalog.current_setting('nrm.key_id', true), '')::uuid);
COMMENT ON POLICY idempotency_reporter_select ON intake.idempotency IS
    'Reporters: the stored answers of their own key.';
COMMENT ON POLICY idempotency_reporter_insert ON intake.idempotency IS
    'Reporters store answers under their own key only.';

-- care.subject --------------------------------------------------------
CREATE POLICY subject_reporter_insert ON care.subject
FOR INSERT TO nrm_reporter
WITH CHECK (EXISTS (SELECT 1 FROM intake.signal s
    WHERE s.id = signal_id AND s.agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid));
CREATE POLICY subject_coordinator_select ON care.subject
FOR SELECT TO nrm_coordinator
USING (EXISTS (SELECT 1 FROM care.case c
    WHERE c.signal_id = subject.signal_id
    AND (c.region_code = ANY (pg_catalog.string_to_array(
            pg_catalog.current_setting('nrm.regions', true), ','))
        OR c.id = NULLIF(
            pg_catalog.current_setting('nrm.case_id', true), '')::uuid)));
CREATE POLICY subject_assessor_select ON care.subject
FOR SELECT TO nrm_assessor USING (true);
COMMENT ON POLICY subject_reporter_insert ON care.subject IS
    'Reporters store the subject of their agency''s signals (and never '
    'read it: no SELECT is granted).';
COMMENT ON POLICY subject_coordinator_select ON care.subject IS
    'Coordinators: the subjects of the cases they see.';
COMMENT ON POLICY subject_assessor_select ON care.subject IS
    'Assessors are national: every subject (without the pseudonym, by '
    'column grants).';

-- care.case_history ---------------------------------------------------
CREATE POLICY case_history_reporter_insert ON care.case_history
FOR INSERT TO nrm_reporter
WITH CHECK (EXISTS (SELECT 1 FROM care.case c
    JOIN intake.signal s ON s.id = c.signal_id
    WHERE c.id = case_id AND s.agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid));
CREATE POLICY case_history_coordinator_select ON care.case_history
FOR SELECT TO nrm_coordinator
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND (c.region_code = ANY (pg_catalog.string_to_array(
            pg_catalog.current_setting('nrm.regions', true), ','))
        OR c.id = NULLIF(
            pg_catalog.current_setting('nrm.case_id', true), '')::uuid)));
CREATE POLICY case_history_coordinator_insert ON care.case_history
FOR INSERT TO nrm_coordinator
WITH CHECK (api_key_id = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid
    AND EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND (c.region_code = ANY (pg_catalog.string_to_array(
            pg_catalog.current_setting('nrm.regions', true), ','))
        OR c.id = NULLIF(
            pg_catalog.current_setting('nrm.case_id', true), '')::uuid)));
CREATE POLICY case_history_assessor_select ON care.case_history
FOR SELECT TO nrm_assessor USING (true);
CREATE POLICY case_history_analyst_select ON care.case_history
FOR SELECT TO nrm_analyst USING (true);
CREATE POLICY case_history_sweeper_select ON care.case_history
FOR SELECT TO nrm_sweeper
USING (EXISTS (SELECT 1 FROM care.case c
    WHERE c.id = case_id AND c.state = 'open'));
CREATE POLICY case_history_sweeper_insert ON care.case_history
FOR INSERT TO nrm_sweeper
WITH CHECK (action = 'escalated' AND api_key_id IS NULL);
COMMENT ON POLICY case_history_reporter_insert ON care.case_history IS
    'Reporters write the routed entry of their agency''s cases.';
COMMENT ON POLICY case_history_coordinator_select ON care.case_history IS
    'Coordinators: the history of the cases they see.';
COMMENT ON POLICY case_history_coordinator_insert ON care.case_history IS
    'Coordinators append entries, as their own key, to cases they see.';
COMMENT ON POLICY case_history_assessor_select ON care.case_history IS
    'Assessors are national: every history.';
COMMENT ON POLICY case_history_analyst_select ON care.case_history IS
    'Analysts count every history entry (codes only).';
COMMENT ON POLICY case_history_sweeper_select ON care.case_history IS
    'The sweeper reads the history of open cases (the take_within).';
COMMENT ON POLICY case_history_sweeper_insert ON care.case_history IS
    'The sweeper appends escalated entries, without a key.';

-- History gains 'shared' (api.case_share; same constraint name).
ALTER TABLE care.case_history
	DROP CONSTRAINT case_history_action_check,
	ADD CONSTRAINT case_history_action_check CHECK (action IN ('routed',
	    'taken', 'declined', 'released', 'transferred', 'escalated',
	    'closed', 'reopened', 'first_contact', 'shared'));

-- ---------------------------------------------------------------------
-- ident: jurisdiction profiles and identification decisions.
-- ---------------------------------------------------------------------
CREATE TABLE ident.profile (
	code text NOT NULL,
	name text NOT NULL,
	initial_target_working_days integer NOT NULL,
	min_days_initial_to_conclusive integer NOT NULL,
	reflection_days integer,
	recovery_min_days integer,
	source text NOT NULL,
	CONSTRAINT profile_pkey PRIMARY KEY (code),
	CONSTRAINT profile_code_check CHECK (code ~ '^[a-z][a-z_]{1,15}$'),
	CONSTRAINT profile_name_check
	    CHECK (char_length(name) BETWEEN 1 AND 200),
	CONSTRAINT profile_initial_target_working_days_check
	    CHECK (initial_target_working_days BETWEEN 1 AND 60),
	CONSTRAINT profile_min_days_initial_to_conclusive_check
	    CHECK (min_days_initial_to_conclusive BETWEEN 0 AND 365),
	CONSTRAINT profile_reflection_days_check
	    CHECK (reflection_days IS NULL
	        OR reflection_days BETWEEN 1 AND 365),
	CONSTRAINT profile_recovery_min_days_check CHECK (recovery_min_days
	    IS NULL OR recovery_min_days BETWEEN 1 AND 365),
	CONSTRAINT profile_source_check
	    CHECK (char_length(source) BETWEEN 1 AND 1000)
);
COMMENT ON TABLE ident.profile IS
    'Jurisdiction profiles: the rules of the identification track as '
    'data (configuration, not law; nrmd names one in its config).  '
    'initial_target_working_days: target for the initial decision after '
    'the case was created (reported, not enforced); '
    'min_days_initial_to_conclusive: a conclusive decision is dated at '
    'least this many days after the first initial decision (enforced); '
    'reflection_days: longest reflection period (enforced, NULL = none '
    'set); recovery_min_days: shortest recovery period (enforced, NULL = '
    'none set).  No personal data.';

-- The values are the examples of the issue and of public guidance at
-- the time of writing; they change over the years and are not legal
-- advice.  Change them with a migration, never in code.
INSERT INTO ident.profile (code, name, initial_target_working_days,
    min_days_initial_to_conclusive, reflection_days, recovery_min_days,
    source)
VALUES
	('nl', 'Netherlands', 5, 30, 90, NULL,
	    'configuration, not law: reflection period (bedenktijd) up to 3 '
	    'months = 90 days; 5 working days and 30 days are this '
	    'project''s defaults (issue 5), not statutory terms'),
	('uk', 'United Kingdom (NRM)', 5, 30, NULL, 30,
	    'configuration, not law: Reasonable Grounds target 5 working '
	    'days; Conclusive Grounds no sooner than 30 days after it; '
	    'recovery period at least 30 days (Modern Slavery Act 2015 s.50A '
	    'as amended in 2022; these durations have changed before)');

/*
 * The date n working days (Monday to Friday; no public holidays) after
 * p_from.
 */
CREATE FUNCTION ident.add_working_days(p_from date, p_n integer)
RETURNS date
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p_from + g.i
	FROM pg_catalog.generate_series(1, 7 * p_n + 7) AS g(i)
	WHERE pg_catalog.date_part('isodow', (p_from + g.i)::timestamp) < 6
	ORDER BY g.i
	OFFSET p_n - 1
	LIMIT 1
$$;
COMMENT ON FUNCTION ident.add_working_days(date, integer) IS
    'p_from plus p_n working days (Monday to Friday, no holidays).';

CREATE TABLE ident.decision (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	case_id uuid NOT NULL,
	stage text NOT NULL,
	outcome text NOT NULL,
	deciding_body text NOT NULL,
	rationale text,
	decided_on date NOT NULL,
	reflection_start date,
	reflection_end date,
	recovery_start date,
	recovery_end date,
	recorded_by uuid NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	profile text NOT NULL,
	CONSTRAINT decision_pkey PRIMARY KEY (id),
	CONSTRAINT decision_case_id_fkey FOREIGN KEY (case_id)
	    REFERENCES care.case (id),
	CONSTRAINT decision_recorded_by_fkey FOREIGN KEY (recorded_by)
	    REFERENCES auth.api_key (id),
	CONSTRAINT decision_profile_fkey FOREIGN KEY (profile)
	    REFERENCES ident.profile (code),
	CONSTRAINT decision_stage_check
	    CHECK (stage IN ('initial', 'conclusive', 'reconsideration')),
	CONSTRAINT decision_outcome_check
	    CHECK (outcome IN ('positive', 'negative', 'pending')),
	-- A conclusive decision decides.
	CONSTRAINT decision_conclusive_outcome_check
	    CHECK (stage <> 'conclusive' OR outcome <> 'pending'),
	CONSTRAINT decision_deciding_body_check CHECK (deciding_body IN
	    ('care_coordination', 'assessment_body', 'court', 'other')),
	CONSTRAINT decision_rationale_check CHECK (rationale IS NULL
	    OR octet_length(rationale) BETWEEN 1 AND 4000),
	CONSTRAINT decision_decided_on_check
	    CHECK (decided_on >= DATE '2000-01-01'),
	CONSTRAINT decision_reflection_check CHECK (
	    (reflection_start IS NULL OR reflection_start >= DATE '2000-01-01')
	    AND (reflection_end IS NULL OR (reflection_start IS NOT NULL
	        AND reflection_end >= reflection_start))),
	CONSTRAINT decision_recovery_check CHECK (
	    (recovery_start IS NULL OR recovery_start >= DATE '2000-01-01')
	    AND (recovery_end IS NULL OR (recovery_start IS NOT NULL
	        AND recovery_end >= recovery_start)))
);
CREATE INDEX decision_case_id_idx ON ident.decision (case_id, decided_on);
CREATE INDEX decision_recorded_by_idx ON ident.decision (recorded_by);
COMMENT ON TABLE ident.decision IS
    'PERSONAL DATA: identification indications and decisions on whether '
    'the person of a case is a victim (stage, outcome, deciding body, '
    'rationale, dates, reflection and recovery periods) under the '
    'jurisdiction profile in force when recorded.  Append-only: a '
    'correction is a new entry (reconsideration).  Readable by '
    'coordinators of the case''s region and assessors only; every read '
    'and write is audited.  Never depends on investigation data.';
COMMENT ON COLUMN ident.decision.rationale IS
    'PERSONAL DATA: free text that may describe the person and what '
    'happened to them (at most 4000 bytes).  Never logged or audited.';
COMMENT ON COLUMN ident.decision.recorded_by IS
    'The API key that recorded the entry.';

ALTER TABLE ident.decision ENABLE ROW LEVEL SECURITY;
CREATE POLICY decision_coordinator_select ON ident.decision
FOR SELECT TO nrm_coordinator
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND c.region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))));
-- Coordinators record initial indications only (api.ident_record
-- answers 403 first; this refuses a direct INSERT with 42501).
CREATE POLICY decision_coordinator_insert ON ident.decision
FOR INSERT TO nrm_coordinator
WITH CHECK (stage = 'initial'
    AND recorded_by = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid
    AND EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
        AND c.region_code = ANY (pg_catalog.string_to_array(
            pg_catalog.current_setting('nrm.regions', true), ','))));
CREATE POLICY decision_assessor_select ON ident.decision
FOR SELECT TO nrm_assessor USING (true);
CREATE POLICY decision_assessor_insert ON ident.decision
FOR INSERT TO nrm_assessor
WITH CHECK (recorded_by = NULLIF(
    pg_catalog.current_setting('nrm.key_id', true), '')::uuid);
COMMENT ON POLICY decision_coordinator_select ON ident.decision IS
    'Coordinators: the decisions on cases of their regions.';
COMMENT ON POLICY decision_coordinator_insert ON ident.decision IS
    'Coordinators record initial indications, as their own key, on '
    'cases of their regions; never conclusive or reconsideration.';
COMMENT ON POLICY decision_assessor_select ON ident.decision IS
    'Assessors are national: every decision.';
COMMENT ON POLICY decision_assessor_insert ON ident.decision IS
    'Assessors record every stage, as their own key.';

-- The answer shape of one entry, ident.entry_json, stands in
-- sql/api/50_tracks.sql with its comment and grants (0017 and 0023
-- changed it: a function that changes lives in a repeatable file).

-- ---------------------------------------------------------------------
-- invest: consented case shares and investigation records.
-- ---------------------------------------------------------------------
CREATE TABLE invest.case_share (
	case_id uuid NOT NULL,
	agency_id uuid NOT NULL,
	consent_recorded_at timestamptz NOT NULL DEFAULT now(),
	shared_by uuid NOT NULL,
	CONSTRAINT case_share_pkey PRIMARY KEY (case_id, agency_id),
	CONSTRAINT case_share_case_id_fkey FOREIGN KEY (case_id)
	    REFERENCES care.case (id),
	CONSTRAINT case_share_agency_id_fkey FOREIGN KEY (agency_id)
	    REFERENCES auth.agency (id),
	CONSTRAINT case_share_shared_by_fkey FOREIGN KEY (shared_by)
	    REFERENCES auth.api_key (id)
);
CREATE INDEX case_share_agency_id_idx ON invest.case_share (agency_id);
COMMENT ON TABLE invest.case_share IS
    'The case ids the care side shared with an investigating agency, '
    'with the victim''s consent (when it was recorded, by which '
    'coordinator key).  Only then may that agency''s investigators refer '
    'to the case.  Ids only: the agency learns that the case exists, '
    'nothing of it.  Written through care.share_case only; append-only.';

CREATE TABLE invest.record (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	agency_id uuid NOT NULL,
	signal_id uuid,
	case_id uuid,
	police_reference text,
	prosecution_reference text,
	report_filed boolean NOT NULL DEFAULT false,
	report_filed_on date,
	status text NOT NULL DEFAULT 'open',
	created_by uuid NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	version integer NOT NULL DEFAULT 1,
	CONSTRAINT record_pkey PRIMARY KEY (id),
	CONSTRAINT record_agency_id_fkey FOREIGN KEY (agency_id)
	    REFERENCES auth.agency (id),
	CONSTRAINT record_signal_id_fkey FOREIGN KEY (signal_id)
	    REFERENCES intake.signal (id),
	-- A case only once it was shared with this very agency.
	CONSTRAINT record_case_share_fkey FOREIGN KEY (case_id, agency_id)
	    REFERENCES invest.case_share (case_id, agency_id),
	CONSTRAINT record_created_by_fkey FOREIGN KEY (created_by)
	    REFERENCES auth.api_key (id),
	CONSTRAINT record_reference_check
	    CHECK (signal_id IS NOT NULL OR case_id IS NOT NULL),
	CONSTRAINT record_police_reference_check
	    CHECK (police_reference IS NULL
	        OR (char_length(police_reference) BETWEEN 1 AND 100
	            AND police_reference !~ '[[:cntrl:]]')),
	CONSTRAINT record_prosecution_reference_check
	    CHECK (prosecution_reference IS NULL
	        OR (char_length(prosecution_reference) BETWEEN 1 AND 100
	            AND prosecution_reference !~ '[[:cntrl:]]')),
	CONSTRAINT record_report_filed_on_check CHECK (report_filed_on IS NULL
	    OR (report_filed AND report_filed_on >= DATE '2000-01-01')),
	CONSTRAINT record_status_check CHECK (status IN ('open', 'suspended',
	    'closed', 'handed_to_prosecution')),
	CONSTRAINT record_version_check CHECK (version >= 1),
	CONSTRAINT record_updated_at_check CHECK (updated_at >= created_at)
);
CREATE INDEX record_agency_id_idx ON invest.record (agency_id, created_at);
CREATE INDEX record_signal_id_idx ON invest.record (signal_id)
    WHERE signal_id IS NOT NULL;
CREATE INDEX record_case_id_idx ON invest.record (case_id, agency_id)
    WHERE case_id IS NOT NULL;
COMMENT ON TABLE invest.record IS
    'PERSONAL DATA: an investigation record of a police or prosecution '
    'agency: its external police and prosecution references (which point '
    'to a criminal file about people), whether a report (aangifte) was '
    'filed and when, and the status.  Refers to a signal the agency '
    'itself submitted, or to a case shared with it (invest.case_share).  '
    'Readable by investigators of the owning agency only; never by the '
    'care side, and never a condition for identification or care.';
COMMENT ON COLUMN invest.record.version IS
    'The ETag: + 1 on every change (api.invest_patch).';

-- A record's signal must be one its own agency submitted.  SECURITY
-- DEFINER: it looks at the signal whatever the writer's scope.
CREATE FUNCTION invest.record_signal_agency() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.signal_id IS NOT NULL AND NOT EXISTS (SELECT 1
	    FROM intake.signal s
	    WHERE s.id = NEW.signal_id AND s.agency_id = NEW.agency_id) THEN
		RAISE EXCEPTION 'an investigation record refers only to a '
		    'signal its own agency submitted'
		    USING ERRCODE = 'check_violation',
		    CONSTRAINT = 'record_signal_agency', TABLE = 'record',
		    SCHEMA = 'invest';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION invest.record_signal_agency() IS
    'Constraint trigger: the signal of a record was submitted by the '
    'record''s agency.';
CREATE CONSTRAINT TRIGGER record_signal_agency
AFTER INSERT OR UPDATE OF signal_id, agency_id ON invest.record
FOR EACH ROW EXECUTE FUNCTION invest.record_signal_agency();
COMMENT ON TRIGGER record_signal_agency ON invest.record IS
    'Refuses a record whose signal another agency submitted.';

ALTER TABLE invest.case_share ENABLE ROW LEVEL SECURITY;
ALTER TABLE invest.record ENABLE ROW LEVEL SECURITY;
CREATE POLICY case_share_investigator_select ON invest.case_share
FOR SELECT TO nrm_investigator
USING (agency_id = NULLIF(
    pg_catalog.current_setting('nrm.agency_id', true), '')::uuid);
CREATE POLICY case_share_case_sharer_select ON invest.case_share
FOR SELECT TO nrm_case_sharer
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id));
CREATE POLICY case_share_case_sharer_insert ON invest.case_share
FOR INSERT TO nrm_case_sharer
WITH CHECK (shared_by = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid
    AND EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id));
CREATE POLICY record_investigator_select ON invest.record
FOR SELECT TO nrm_investigator
USING (agency_id = NULLIF(
    pg_catalog.current_setting('nrm.agency_id', true), '')::uuid);
CREATE POLICY record_investigator_insert ON invest.record
FOR INSERT TO nrm_investigator
WITH CHECK (agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid
    AND created_by = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid);
CREATE POLICY record_investigator_update ON invest.record
FOR UPDATE TO nrm_investigator
USING (agency_id = NULLIF(
    pg_catalog.current_setting('nrm.agency_id', true), '')::uuid);
COMMENT ON POLICY case_share_investigator_select ON invest.case_share IS
    'Investigators: the cases shared with their agency.';
COMMENT ON POLICY case_share_case_sharer_select ON invest.case_share IS
    'care.share_case: shares of the calling coordinator''s cases.';
COMMENT ON POLICY case_share_case_sharer_insert ON invest.case_share IS
    'care.share_case: shares of the calling coordinator''s cases, as its '
    'key.';
COMMENT ON POLICY record_investigator_select ON invest.record IS
    'Investigators: their agency''s records.';
COMMENT ON POLICY record_investigator_insert ON invest.record IS
    'Investigators create records for their agency, as their own key.';
COMMENT ON POLICY record_investigator_update ON invest.record IS
    'Investigators change their agency''s records; the agency stays.';

-- Whether a record exists, whatever the caller's agency: only to tell
-- not_found from out_of_scope in the audit log (same 404 either way).
CREATE FUNCTION invest.record_exists(p_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM invest.record r WHERE r.id = p_id)
$$;
COMMENT ON FUNCTION invest.record_exists(uuid) IS
    'Whether a record with this id exists (SECURITY DEFINER, owner: past '
    'row-level security).  For the audit reason only; the answer to the '
    'client is the same 404.';

-- The answer shape of a record, invest.record_json, stands in
-- sql/api/50_tracks.sql with its comment and grants (0025 changed it).

/*
 * The shape check of an investigation record body, invest.body_problem,
 * stands in sql/api/50_tracks.sql with its comment and grant (0025
 * changed it; a function that changes lives in a repeatable file).
 */

-- ---------------------------------------------------------------------
-- The one bridge from care to police: a consented case share.
-- ---------------------------------------------------------------------

/*
 * Record that the victim consented to share case p_case_id with agency
 * p_agency_id, as the calling coordinator's key (nrm.key_id).  Runs as
 * nrm_case_sharer (SECURITY DEFINER), whose own row-level security
 * limits it to the calling coordinator's regions (nrm.regions): called
 * for another case it raises 42501.  Sharing twice keeps the first
 * share.  Returns {"case_id", "agency_id", "consent_recorded_at",
 * "shared_by", "new"}.  Writes ids only; reads nothing back from the
 * investigation track but this share.
 */
CREATE FUNCTION care.share_case(p_case_id uuid, p_agency_id uuid)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_key uuid := NULLIF(
	    pg_catalog.current_setting('nrm.key_id', true), '')::uuid;
	v_new boolean;
	v_s record;
BEGIN
	IF v_key IS NULL OR NOT EXISTS (SELECT 1 FROM care.case c
	    WHERE c.id = p_case_id) THEN
		RAISE EXCEPTION 'the case is not in the caller''s regions'
		    USING ERRCODE = 'insufficient_privilege';
	END IF;
	INSERT INTO invest.case_share (case_id, agency_id,
	    consent_recorded_at, shared_by)
	VALUES (p_case_id, p_agency_id, pg_catalog.now(), v_key)
	ON CONFLICT ON CONSTRAINT case_share_pkey DO NOTHING;
	v_new := FOUND;
	SELECT x.consent_recorded_at, x.shared_by INTO v_s
	FROM invest.case_share x
	WHERE x.case_id = p_case_id AND x.agency_id = p_agency_id;
	RETURN pg_catalog.jsonb_build_object('case_id', p_case_id,
	    'agency_id', p_agency_id,
	    'consent_recorded_at', pg_catalog.to_char(v_s.consent_recorded_at
	        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    'shared_by', v_s.shared_by, 'new', v_new);
END
$$;
COMMENT ON FUNCTION care.share_case(uuid, uuid) IS
    'Record a consented case share in invest.case_share, as the calling '
    'coordinator, for a case of its regions only.  SECURITY DEFINER owned '
    'by nrm_case_sharer; the one care-side write into schema invest.';

-- ---------------------------------------------------------------------
-- Grants.  Both directions: the care roles nothing of invest, the
-- investigator nothing of ident or care.
-- ---------------------------------------------------------------------
REVOKE ALL ON FUNCTION care.case_exists(uuid),
    care.share_case(uuid, uuid),
    ident.add_working_days(date, integer),
    invest.record_signal_agency(),
    invest.record_exists(uuid)
    FROM PUBLIC;

-- nrm_app: the entry points, and api.scope (api.authenticate calls it
-- before the switch).  Every API role may run api.authenticate (0001),
-- so every API role may run api.scope.

-- Identification track: coordinators and assessors.  Decisions are
-- append-only (no UPDATE, no DELETE for anyone but the owner).
GRANT USAGE ON SCHEMA ident TO nrm_coordinator, nrm_assessor;
GRANT SELECT ON ident.profile TO nrm_coordinator, nrm_assessor;
GRANT SELECT, INSERT ON ident.decision TO nrm_coordinator, nrm_assessor;
GRANT EXECUTE ON FUNCTION care.case_exists(uuid),
    ident.add_working_days(date, integer)
    TO nrm_coordinator, nrm_assessor;
-- The consented share: through care.share_case only.
GRANT EXECUTE ON FUNCTION care.share_case(uuid, uuid) TO nrm_coordinator;

-- Investigation track: investigators.  They see the two columns of
-- intake.signal that tell which signals their agency submitted (row-
-- level security: only those), nothing else outside schema invest.
GRANT USAGE ON SCHEMA invest, intake TO nrm_investigator;
GRANT SELECT, INSERT ON invest.record TO nrm_investigator;
GRANT UPDATE (police_reference, prosecution_reference, report_filed,
    report_filed_on, status, updated_at, version)
    ON invest.record TO nrm_investigator;
GRANT SELECT (case_id, agency_id, consent_recorded_at)
    ON invest.case_share TO nrm_investigator;
GRANT SELECT (id, agency_id) ON intake.signal TO nrm_investigator;
GRANT EXECUTE ON FUNCTION invest.record_exists(uuid) TO nrm_investigator;

-- nrm_case_sharer: exactly what care.share_case does.
GRANT USAGE ON SCHEMA care, invest TO nrm_case_sharer;
GRANT SELECT (id, region_code) ON care.case TO nrm_case_sharer;
GRANT SELECT, INSERT ON invest.case_share TO nrm_case_sharer;

-- care.share_case runs as nrm_case_sharer.  A new owner needs CREATE on
-- the schema at the moment of the change only.
GRANT CREATE ON SCHEMA care TO nrm_case_sharer;
ALTER FUNCTION care.share_case(uuid, uuid) OWNER TO nrm_case_sharer;
REVOKE CREATE ON SCHEMA care FROM nrm_case_sharer;
