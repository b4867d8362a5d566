-- 0022_care_work.sql - the care work of a case (issue 18): case notes
-- (personal data, sealed by nrmd, append-only; a correction is a new
-- note naming the old one) and the support plan (services requested
-- from provider agencies; a referral to an agency with a coordinator
-- key or person in nrm is answered by that agency).
-- docs/case-lifecycle.md ("Notes", "Support plan and referrals"),
-- docs/authorization.md, docs/data-protection.md.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  The function bodies stand in
-- sql/api/35_care_work.sql.

-- ---------------------------------------------------------------------
-- The case history gains 'note' and 'support'.  The allowed actions are
-- read from the constraint in place and extended, so that another
-- migration of this stop that extends it as well keeps its own.
-- ---------------------------------------------------------------------
DO $hist$
DECLARE
	v_def text;
	v_list text[];
BEGIN
	SELECT pg_catalog.pg_get_constraintdef(c.oid) INTO v_def
	FROM pg_catalog.pg_constraint c
	WHERE c.conname = 'case_history_action_check'
	  AND c.conrelid = 'care.case_history'::regclass;
	SELECT pg_catalog.array_agg(DISTINCT m[1] ORDER BY m[1]) INTO v_list
	FROM (SELECT m FROM pg_catalog.regexp_matches(v_def,
	    '''([a-z_]+)''', 'g') m
	    UNION ALL SELECT ARRAY['note'] UNION ALL SELECT ARRAY['support'])
	    x(m);
	ALTER TABLE care.case_history
	    DROP CONSTRAINT case_history_action_check;
	EXECUTE pg_catalog.format('ALTER TABLE care.case_history ADD '
	    'CONSTRAINT case_history_action_check CHECK (action = ANY '
	    '(%L::text[]))', v_list);
END
$hist$;

-- ---------------------------------------------------------------------
-- Append-only tables: no UPDATE, DELETE or TRUNCATE, for anybody (the
-- owner included: a trigger, not only the missing grants).
-- ---------------------------------------------------------------------
CREATE FUNCTION care.refuse_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION '%.% is append-only: % refused (a correction is a '
	    'new row, docs/case-lifecycle.md)', TG_TABLE_SCHEMA,
	    TG_TABLE_NAME, TG_OP
	    USING ERRCODE = 'insufficient_privilege',
	    TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
	    CONSTRAINT = TG_TABLE_NAME || '_append_only';
END
$$;
COMMENT ON FUNCTION care.refuse_change() IS
    'Trigger: the table is append-only; every UPDATE, DELETE and TRUNCATE '
    'is refused (SQLSTATE 42501), whoever runs it.';

-- ---------------------------------------------------------------------
-- Case notes.  nrmd names the note (its id binds the sealed text, AAD
-- "care.case_note/text/<id>") and makes its data key, which belongs to
-- the case's signal: destroying a signal's data keys (erasure) makes
-- its notes unreadable with the rest of its personal data.
-- ---------------------------------------------------------------------
CREATE TABLE care.case_note (
	id uuid NOT NULL,
	case_id uuid NOT NULL,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	author_key_id uuid NOT NULL,
	author_role text NOT NULL,
	corrects uuid,
	data_key_id uuid NOT NULL,
	text_ct bytea NOT NULL,
	CONSTRAINT case_note_pkey PRIMARY KEY (id),
	CONSTRAINT case_note_case_id_id_key UNIQUE (case_id, id),
	-- A note is corrected at most once; a correction may be corrected.
	CONSTRAINT case_note_corrects_key UNIQUE (corrects),
	CONSTRAINT case_note_case_id_fkey FOREIGN KEY (case_id)
	    REFERENCES care.case (id),
	CONSTRAINT case_note_author_key_id_fkey FOREIGN KEY (author_key_id)
	    REFERENCES auth.api_key (id),
	-- A correction names a note of the same case.
	CONSTRAINT case_note_corrects_fkey FOREIGN KEY (case_id, corrects)
	    REFERENCES care.case_note (case_id, id),
	CONSTRAINT case_note_data_key_id_fkey FOREIGN KEY (data_key_id)
	    REFERENCES care.data_key (id) DEFERRABLE INITIALLY DEFERRED,
	CONSTRAINT case_note_author_role_check
	    CHECK (author_role IN ('holder', 'national_desk')),
	CONSTRAINT case_note_corrects_check CHECK (corrects <> id),
	CONSTRAINT case_note_text_ct_check
	    CHECK (care.sealed_ok(text_ct, 8000))
);
CREATE INDEX case_note_case_id_idx ON care.case_note (case_id, at);
CREATE INDEX case_note_data_key_id_idx ON care.case_note (data_key_id);
COMMENT ON TABLE care.case_note IS
    'Free-text notes on a case by its holder or a national-desk '
    'coordinator.  PERSONAL DATA in text_ct, sealed by nrmd (AAD '
    '"care.case_note/text/<id>") with the note''s data key of the '
    'case''s signal.  Append-only (care.refuse_change): a correction is '
    'a new note whose corrects names the old one.';
COMMENT ON COLUMN care.case_note.text_ct IS
    'PERSONAL DATA, sealed (AAD "care.case_note/text/<id>").';
CREATE TRIGGER case_note_append_only BEFORE UPDATE OR DELETE ON care.case_note
FOR EACH ROW EXECUTE FUNCTION care.refuse_change();
CREATE TRIGGER case_note_no_truncate BEFORE TRUNCATE ON care.case_note
FOR EACH STATEMENT EXECUTE FUNCTION care.refuse_change();

-- ---------------------------------------------------------------------
-- The support plan: one row per service requested for a case, its
-- current status; every change is a 'support' entry of the case
-- history.  No personal data (codes, an agency, dates).
-- ---------------------------------------------------------------------
CREATE TABLE care.support_transition (
	from_status text NOT NULL,
	to_status text NOT NULL,
	actor text NOT NULL,
	CONSTRAINT support_transition_pkey
	    PRIMARY KEY (from_status, to_status, actor),
	CONSTRAINT support_transition_actor_check
	    CHECK (actor IN ('holder', 'provider'))
);
COMMENT ON TABLE care.support_transition IS
    'The legal status changes of a support item and who makes them '
    '(docs/case-lifecycle.md, "Support plan and referrals"): the holder '
    'of the case, or the provider agency of a referral.  The holder of '
    'an item that is no referral makes the provider''s changes too.';
INSERT INTO care.support_transition (from_status, to_status, actor) VALUES
    ('requested', 'accepted', 'provider'),
    ('requested', 'refused', 'provider'),
    ('requested', 'ended', 'holder'),
    ('accepted', 'started', 'holder'),
    ('accepted', 'ended', 'holder'),
    ('started', 'ended', 'holder');

CREATE TABLE care.support_item (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	case_id uuid NOT NULL,
	service text NOT NULL,
	provider_agency_id uuid,
	referral boolean NOT NULL,
	status text NOT NULL DEFAULT 'requested',
	reason text,
	requested_on date NOT NULL,
	answered_at timestamptz,
	started_on date,
	ended_on date,
	created_by uuid NOT NULL,
	referring_agency_id uuid NOT NULL,
	region_code text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	version integer NOT NULL DEFAULT 1,
	CONSTRAINT support_item_pkey PRIMARY KEY (id),
	CONSTRAINT support_item_case_id_fkey FOREIGN KEY (case_id)
	    REFERENCES care.case (id),
	CONSTRAINT support_item_provider_agency_id_fkey
	    FOREIGN KEY (provider_agency_id) REFERENCES auth.agency (id),
	CONSTRAINT support_item_created_by_fkey FOREIGN KEY (created_by)
	    REFERENCES auth.api_key (id),
	CONSTRAINT support_item_referring_agency_id_fkey
	    FOREIGN KEY (referring_agency_id) REFERENCES auth.agency (id),
	CONSTRAINT support_item_region_code_fkey FOREIGN KEY (region_code)
	    REFERENCES ref.region (code),
	CONSTRAINT support_item_service_check CHECK (service IN (
	    'shelter_placement', 'categorical_shelter', 'medical_care',
	    'mental_health', 'legal_aid', 'interpreter',
	    'residence_procedure', 'benefits', 'education_minor',
	    'guardian_minor', 'return_assistance', 'other')),
	CONSTRAINT support_item_status_check CHECK (status IN ('requested',
	    'accepted', 'refused', 'started', 'ended')),
	CONSTRAINT support_item_referral_check
	    CHECK (NOT referral OR provider_agency_id IS NOT NULL),
	CONSTRAINT support_item_reason_check
	    CHECK (reason IS NULL OR reason ~ '^[a-z][a-z_]{0,63}$'),
	CONSTRAINT support_item_refused_check
	    CHECK (status <> 'refused' OR reason IS NOT NULL),
	CONSTRAINT support_item_dates_check CHECK (
	    (started_on IS NULL OR started_on >= requested_on)
	    AND (ended_on IS NULL
	        OR ended_on >= COALESCE(started_on, requested_on))),
	CONSTRAINT support_item_started_check
	    CHECK (status <> 'started' OR started_on IS NOT NULL),
	CONSTRAINT support_item_ended_check
	    CHECK (status <> 'ended' OR ended_on IS NOT NULL),
	-- Answered once it left requested, except when withdrawn from it.
	CONSTRAINT support_item_answered_check CHECK (
	    (status <> 'requested' OR answered_at IS NULL)
	    AND (status NOT IN ('accepted', 'refused', 'started')
	        OR answered_at IS NOT NULL)),
	CONSTRAINT support_item_version_check CHECK (version >= 1)
);
CREATE INDEX support_item_case_id_idx ON care.support_item (case_id);
CREATE INDEX support_item_provider_idx ON care.support_item
    (provider_agency_id, created_at) WHERE referral;
COMMENT ON TABLE care.support_item IS
    'The support plan of a case: a service (code), its provider agency, '
    'its status and dates.  referral: the provider had a coordinator key '
    'or person in nrm when it was requested, so that agency answers it; '
    'referring_agency_id and region_code: who asked, from where (what '
    'the provider sees of the case).  No personal data.';

-- ---------------------------------------------------------------------
-- Grants and row-level security.  Coordinators of the case's region
-- read and append notes and support items (the api.* functions decide
-- who of them may write); a provider agency's coordinators see and
-- answer the referrals made to it, whatever its regions.
-- ---------------------------------------------------------------------
REVOKE ALL ON care.case_note, care.support_item, care.support_transition
    FROM PUBLIC;
REVOKE ALL ON FUNCTION care.refuse_change() FROM PUBLIC;
GRANT SELECT, INSERT ON care.case_note TO nrm_coordinator;
GRANT SELECT, INSERT ON care.support_item TO nrm_coordinator;
GRANT UPDATE (status, reason, answered_at, started_on, ended_on,
    updated_at, version) ON care.support_item TO nrm_coordinator;
GRANT SELECT ON care.support_transition TO nrm_coordinator;

ALTER TABLE care.case_note ENABLE ROW LEVEL SECURITY;
ALTER TABLE care.support_item ENABLE ROW LEVEL SECURITY;

CREATE POLICY case_note_coordinator_select ON care.case_note
FOR SELECT TO nrm_coordinator
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND c.region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))));
CREATE POLICY case_note_coordinator_insert ON care.case_note
FOR INSERT TO nrm_coordinator
WITH CHECK (author_key_id = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid
    AND EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND c.region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))));
COMMENT ON POLICY case_note_coordinator_select ON care.case_note IS
    'Coordinators read the notes of the cases in their regions.';
COMMENT ON POLICY case_note_coordinator_insert ON care.case_note IS
    'Coordinators append notes, as themselves, to cases in their regions.';

CREATE POLICY support_item_coordinator_select ON care.support_item
FOR SELECT TO nrm_coordinator
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND c.region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ',')))
    OR (referral AND provider_agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid));
CREATE POLICY support_item_coordinator_insert ON care.support_item
FOR INSERT TO nrm_coordinator
WITH CHECK (created_by = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid
    AND EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND c.region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))));
CREATE POLICY support_item_coordinator_update ON care.support_item
FOR UPDATE TO nrm_coordinator
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND c.region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ',')))
    OR (referral AND provider_agency_id = NULLIF(
        pg_catalog.current_setting('nrm.agency_id', true), '')::uuid));
COMMENT ON POLICY support_item_coordinator_select ON care.support_item IS
    'Coordinators see the support plans of their regions'' cases, and '
    'the referrals made to their own agency.';
COMMENT ON POLICY support_item_coordinator_insert ON care.support_item IS
    'Coordinators add support items, as themselves, to their regions'' '
    'cases.';
COMMENT ON POLICY support_item_coordinator_update ON care.support_item IS
    'Coordinators change the items they see (api.support_post and '
    'api.referral_answer decide which change is whose).';

-- The provider's answer is in the case history of a case outside its
-- regions: the coordinators' insert policy (0006) also lets a
-- coordinator write a 'support' entry, as itself, about a referral to
-- its own agency (one policy per role and command).
ALTER POLICY case_history_coordinator_insert ON care.case_history
WITH CHECK (api_key_id = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid
    AND (EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
        AND (c.region_code = ANY (pg_catalog.string_to_array(
                pg_catalog.current_setting('nrm.regions', true), ','))
            OR c.id = NULLIF(
                pg_catalog.current_setting('nrm.case_id', true), '')::uuid))
    OR (action = 'support' AND EXISTS (SELECT 1 FROM care.support_item i
        WHERE i.case_id = case_history.case_id AND i.referral
          AND i.provider_agency_id = NULLIF(
              pg_catalog.current_setting('nrm.agency_id', true),
              '')::uuid))));
COMMENT ON POLICY case_history_coordinator_insert ON care.case_history IS
    'Coordinators write history entries, as themselves, for cases in '
    'their regions or the case they act on (nrm.case_id); and (0022) a '
    '''support'' entry about a referral to their own agency, its '
    'provider''s answer.';
