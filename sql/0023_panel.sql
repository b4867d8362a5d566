-- 0023_panel.sql - identification by a multidisciplinary panel, or by a
-- single decision-maker with a second reviewer for negatives, as
-- configuration of the jurisdiction profile (issue 19,
-- docs/separation.md "Who decides").
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  The api.* bodies stand in sql/api/55_panel.sql.
--
-- Design in one paragraph.  ident.profile says which model a country
-- runs: 'none' (one decision through POST /v1/cases/{id}/identification,
-- as before), 'panel' (members of several disciplines, a quorum, a
-- decision rule, blind voting) or 'single' (one decision-maker; with
-- second_review_negative a second reviewer confirms or overturns a
-- negative).  A panel copies the profile's rules when a case is referred
-- to it (the rules in force then), names its members (persons of the
-- assessor role, each with a discipline), its chair and its time limit.
-- Members recuse themselves or vote in their own session; the vote's
-- rationale is personal data, sealed by nrmd with a data key of the
-- case's signal (AAD "ident.panel_vote/rationale/<vote id>").  When
-- every member still on the panel has voted and the quorum and the rule
-- are met, api.panel_vote records the decision in ident.decision (the
-- identification decision of the case) and links it from the panel.
-- Nothing here reads or references the investigation track.

-- ---------------------------------------------------------------------
-- The profile's model.
-- ---------------------------------------------------------------------
ALTER TABLE ident.profile
    ADD COLUMN panel_model text NOT NULL DEFAULT 'none',
    ADD COLUMN panel_quorum integer,
    ADD COLUMN panel_disciplines text[] NOT NULL DEFAULT '{}',
    ADD COLUMN panel_rule text,
    ADD COLUMN panel_blind boolean NOT NULL DEFAULT true,
    ADD COLUMN panel_working_days integer,
    ADD COLUMN second_review_negative boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT profile_panel_model_check
        CHECK (panel_model IN ('none', 'panel', 'single')),
    ADD CONSTRAINT profile_panel_rule_check CHECK (panel_rule IS NULL
        OR panel_rule IN ('majority', 'unanimity', 'chair_casting',
            'single')),
    ADD CONSTRAINT profile_panel_quorum_check
        CHECK (panel_quorum IS NULL OR panel_quorum BETWEEN 1 AND 15),
    ADD CONSTRAINT profile_panel_working_days_check CHECK (
        panel_working_days IS NULL OR panel_working_days BETWEEN 1 AND 120),
    ADD CONSTRAINT profile_panel_disciplines_check CHECK (panel_disciplines
        <@ ARRAY['care', 'law', 'medicine', 'police', 'prosecution',
            'academia', 'lived_experience', 'other']),
    -- a model names its rule, quorum and time limit; 'none' none of them
    ADD CONSTRAINT profile_panel_complete_check CHECK (
        (panel_model = 'none') = (panel_rule IS NULL)
        AND (panel_model = 'none') = (panel_quorum IS NULL)
        AND (panel_model = 'none') = (panel_working_days IS NULL)
        AND (panel_model = 'single') = (panel_rule = 'single')
        AND (panel_model <> 'single' OR panel_quorum = 1)
        AND (panel_model <> 'none' OR NOT second_review_negative));
COMMENT ON COLUMN ident.profile.panel_model IS
    'Who decides the conclusive identification: none (one decision '
    'through the identification route), panel (a multidisciplinary '
    'panel) or single (one decision-maker).  panel_quorum: members who '
    'must vote; panel_disciplines: disciplines the voters must cover; '
    'panel_rule: majority, unanimity, chair_casting (majority, the '
    'chair''s vote breaks a tie) or single; panel_blind: a member sees '
    'no other vote before casting their own; panel_working_days: the '
    'time limit from referral, after which the panel escalates to its '
    'chair; second_review_negative: a negative waits for a second '
    'reviewer.';

-- Configuration, not law (as the rest of the profile): the Netherlands
-- as the multidisciplinary committee its 2018-2019 pilot ran and the
-- Rapporteur and GRETA ask for; the United Kingdom since 2022, a single
-- decision-maker whose negative decisions a second caseworker reviews.
UPDATE ident.profile SET panel_model = 'panel', panel_quorum = 3,
    panel_disciplines = ARRAY['law', 'care'], panel_rule = 'majority',
    panel_blind = true, panel_working_days = 20,
    second_review_negative = false
WHERE code = 'nl';
UPDATE ident.profile SET panel_model = 'single', panel_quorum = 1,
    panel_disciplines = '{}', panel_rule = 'single', panel_blind = true,
    panel_working_days = 20, second_review_negative = true
WHERE code = 'uk';

-- ---------------------------------------------------------------------
-- Panels, members, votes.
-- ---------------------------------------------------------------------
CREATE TABLE ident.panel (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	case_id uuid NOT NULL,
	profile text NOT NULL,
	round integer NOT NULL,
	model text NOT NULL,
	rule text NOT NULL,
	quorum integer NOT NULL,
	disciplines text[] NOT NULL,
	blind boolean NOT NULL,
	second_review boolean NOT NULL,
	chair_person_id uuid NOT NULL,
	second_reviewer_person_id uuid,
	assigned_by uuid NOT NULL,
	assigned_at timestamptz NOT NULL DEFAULT now(),
	due_on date NOT NULL,
	status text NOT NULL DEFAULT 'open',
	stalled_reason text,
	outcome text,
	decision_id uuid,
	decided_at timestamptz,
	CONSTRAINT panel_pkey PRIMARY KEY (id),
	CONSTRAINT panel_case_id_fkey FOREIGN KEY (case_id)
	    REFERENCES care.case (id),
	CONSTRAINT panel_profile_fkey FOREIGN KEY (profile)
	    REFERENCES ident.profile (code),
	CONSTRAINT panel_chair_person_id_fkey FOREIGN KEY (chair_person_id)
	    REFERENCES auth.person (id),
	CONSTRAINT panel_second_reviewer_person_id_fkey
	    FOREIGN KEY (second_reviewer_person_id) REFERENCES auth.person (id),
	CONSTRAINT panel_assigned_by_fkey FOREIGN KEY (assigned_by)
	    REFERENCES auth.api_key (id),
	CONSTRAINT panel_decision_id_fkey FOREIGN KEY (decision_id)
	    REFERENCES ident.decision (id),
	CONSTRAINT panel_decision_id_key UNIQUE (decision_id),
	CONSTRAINT panel_round_check CHECK (round >= 1),
	CONSTRAINT panel_model_check CHECK (model IN ('panel', 'single')),
	CONSTRAINT panel_rule_check CHECK (rule IN ('majority', 'unanimity',
	    'chair_casting', 'single')),
	CONSTRAINT panel_quorum_check CHECK (quorum BETWEEN 1 AND 15),
	CONSTRAINT panel_status_check CHECK (status IN ('open',
	    'second_review', 'decided', 'stalled')),
	CONSTRAINT panel_stalled_reason_check CHECK (
	    (status = 'stalled') = (stalled_reason IS NOT NULL)
	    AND (stalled_reason IS NULL
	        OR stalled_reason IN ('tie', 'split', 'inquorate'))),
	CONSTRAINT panel_decided_check CHECK (
	    (status = 'decided') = (decision_id IS NOT NULL)
	    AND (status = 'decided') = (outcome IS NOT NULL)
	    AND (status = 'decided') = (decided_at IS NOT NULL)),
	CONSTRAINT panel_outcome_check
	    CHECK (outcome IS NULL OR outcome IN ('positive', 'negative')),
	CONSTRAINT panel_second_review_check
	    CHECK (NOT second_review OR second_reviewer_person_id IS NOT NULL)
);
-- One panel at work per case.
CREATE UNIQUE INDEX panel_active_case_idx ON ident.panel (case_id)
    WHERE status IN ('open', 'second_review');
CREATE INDEX panel_case_id_idx ON ident.panel (case_id, round);
CREATE INDEX panel_chair_person_id_idx ON ident.panel (chair_person_id);
CREATE INDEX panel_due_idx ON ident.panel (due_on)
    WHERE status <> 'decided';
COMMENT ON TABLE ident.panel IS
    'A case referred for identification to a panel (or a single '
    'decision-maker): the profile''s rules copied at referral, chair, '
    'second reviewer, time limit (due_on), status and, once decided, '
    'the decision (ident.decision) it recorded.  Holds no personal data '
    'of the victim (staff are named by person id).  round > 1: a '
    'reconsideration, whose members sat on no earlier panel of the case.  '
    'Never depends on investigation data.';

CREATE TABLE ident.panel_member (
	panel_id uuid NOT NULL,
	person_id uuid NOT NULL,
	discipline text NOT NULL,
	recused_at timestamptz,
	recusal_reason text,
	CONSTRAINT panel_member_pkey PRIMARY KEY (panel_id, person_id),
	CONSTRAINT panel_member_panel_id_fkey FOREIGN KEY (panel_id)
	    REFERENCES ident.panel (id),
	CONSTRAINT panel_member_person_id_fkey FOREIGN KEY (person_id)
	    REFERENCES auth.person (id),
	CONSTRAINT panel_member_discipline_check CHECK (discipline IN ('care',
	    'law', 'medicine', 'police', 'prosecution', 'academia',
	    'lived_experience', 'other')),
	CONSTRAINT panel_member_recusal_check
	    CHECK ((recused_at IS NULL) = (recusal_reason IS NULL)),
	CONSTRAINT panel_member_recusal_reason_check CHECK (
	    recusal_reason IS NULL OR recusal_reason IN (
	        'conflict_of_interest', 'prior_involvement', 'other'))
);
CREATE INDEX panel_member_person_id_idx ON ident.panel_member (person_id);
COMMENT ON TABLE ident.panel_member IS
    'The members of a panel (persons of the assessor role), each with a '
    'discipline code; a recusal (conflict of interest) is recorded with '
    'its reason code and time.  No personal data of the victim.';

CREATE TABLE ident.panel_vote (
	id uuid NOT NULL,
	panel_id uuid NOT NULL,
	person_id uuid NOT NULL,
	kind text NOT NULL,
	outcome text NOT NULL,
	reason text NOT NULL,
	data_key_id uuid,
	rationale_ct bytea,
	cast_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	recorded_by uuid NOT NULL,
	CONSTRAINT panel_vote_pkey PRIMARY KEY (id),
	CONSTRAINT panel_vote_panel_id_fkey FOREIGN KEY (panel_id)
	    REFERENCES ident.panel (id),
	CONSTRAINT panel_vote_person_id_fkey FOREIGN KEY (person_id)
	    REFERENCES auth.person (id),
	CONSTRAINT panel_vote_recorded_by_fkey FOREIGN KEY (recorded_by)
	    REFERENCES auth.api_key (id),
	CONSTRAINT panel_vote_data_key_id_fkey FOREIGN KEY (data_key_id)
	    REFERENCES care.data_key (id) DEFERRABLE INITIALLY DEFERRED,
	CONSTRAINT panel_vote_one_key UNIQUE (panel_id, person_id, kind),
	CONSTRAINT panel_vote_kind_check
	    CHECK (kind IN ('member', 'second_review')),
	CONSTRAINT panel_vote_outcome_check
	    CHECK (outcome IN ('positive', 'negative')),
	CONSTRAINT panel_vote_reason_check CHECK (reason IN (
	    'indicators_met', 'credible_account', 'indicators_not_met',
	    'insufficient_information', 'not_credible', 'other')),
	CONSTRAINT panel_vote_rationale_ct_check
	    CHECK (care.sealed_ok(rationale_ct, 4000)),
	CONSTRAINT panel_vote_sealed_key_check
	    CHECK (rationale_ct IS NULL OR data_key_id IS NOT NULL)
);
CREATE INDEX panel_vote_person_id_idx ON ident.panel_vote (person_id);
COMMENT ON TABLE ident.panel_vote IS
    'PERSONAL DATA (rationale_ct): the votes of panel members (kind '
    'member) and of the second reviewer (kind second_review): outcome, '
    'reason code, and the written rationale sealed by nrmd (AAD '
    '"ident.panel_vote/rationale/<id>") with a data key of the case''s '
    'signal, so that erasing the case''s keys erases it.  Append-only.  '
    'Read by assessors only, as api.panel_get lets them (blind voting); '
    'every read and write is audited.';
COMMENT ON COLUMN ident.panel_vote.rationale_ct IS
    'PERSONAL DATA, sealed: the member''s written rationale (1 to 4000 '
    'bytes of plaintext).  Never logged or audited.';

-- The panel that made a decision, whatever the caller may read of
-- panels (coordinators read no panel, but see that one decided).
CREATE FUNCTION ident.decision_panel(p_decision_id uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p.id FROM ident.panel p WHERE p.decision_id = p_decision_id
$$;
COMMENT ON FUNCTION ident.decision_panel(uuid) IS
    'The id of the panel that recorded decision p_decision_id, or NULL '
    '(SECURITY DEFINER: the id only, for ident.entry_json).';
REVOKE ALL ON FUNCTION ident.decision_panel(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ident.decision_panel(uuid) TO nrm_coordinator,
    nrm_assessor;

-- The decision a panel made names it (GET /v1/cases/{id}/identification):
-- ident.entry_json (0006) stands in sql/api/50_tracks.sql.

-- ---------------------------------------------------------------------
-- Row-level security and grants: the assessment body only (assessors
-- are national).  Coordinators, reporters, investigators, auditors and
-- analysts hold nothing on these tables.
-- ---------------------------------------------------------------------
ALTER TABLE ident.panel ENABLE ROW LEVEL SECURITY;
ALTER TABLE ident.panel_member ENABLE ROW LEVEL SECURITY;
ALTER TABLE ident.panel_vote ENABLE ROW LEVEL SECURITY;
CREATE POLICY panel_assessor_select ON ident.panel
FOR SELECT TO nrm_assessor USING (true);
CREATE POLICY panel_assessor_insert ON ident.panel
FOR INSERT TO nrm_assessor
WITH CHECK (assigned_by = NULLIF(
    pg_catalog.current_setting('nrm.key_id', true), '')::uuid);
CREATE POLICY panel_assessor_update ON ident.panel
FOR UPDATE TO nrm_assessor USING (true);
CREATE POLICY panel_member_assessor_select ON ident.panel_member
FOR SELECT TO nrm_assessor USING (true);
CREATE POLICY panel_member_assessor_insert ON ident.panel_member
FOR INSERT TO nrm_assessor WITH CHECK (true);
-- A recusal is the member's own (the person of the acting session).
CREATE POLICY panel_member_assessor_update ON ident.panel_member
FOR UPDATE TO nrm_assessor
USING (person_id = NULLIF(
    pg_catalog.current_setting('nrm.person_id', true), '')::uuid);
CREATE POLICY panel_vote_assessor_select ON ident.panel_vote
FOR SELECT TO nrm_assessor USING (true);
-- A vote is the member's own, cast as their own key.
CREATE POLICY panel_vote_assessor_insert ON ident.panel_vote
FOR INSERT TO nrm_assessor
WITH CHECK (recorded_by = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid
    AND person_id = NULLIF(
        pg_catalog.current_setting('nrm.person_id', true), '')::uuid);
COMMENT ON POLICY panel_assessor_select ON ident.panel IS
    'Assessors are national: every panel.';
COMMENT ON POLICY panel_assessor_insert ON ident.panel IS
    'A referral is recorded as the acting key.';
COMMENT ON POLICY panel_assessor_update ON ident.panel IS
    'Assessors move a panel on (api.panel_vote and api.panel_recuse).';
COMMENT ON POLICY panel_member_assessor_select ON ident.panel_member IS
    'Assessors are national: every member.';
COMMENT ON POLICY panel_member_assessor_insert ON ident.panel_member IS
    'Members are named with their panel (api.panel_assign).';
COMMENT ON POLICY panel_member_assessor_update ON ident.panel_member IS
    'A member recuses only themselves (nrm.person_id).';
COMMENT ON POLICY panel_vote_assessor_select ON ident.panel_vote IS
    'Assessors read votes as api.panel_get shows them (blind voting).';
COMMENT ON POLICY panel_vote_assessor_insert ON ident.panel_vote IS
    'A vote is the acting person''s own, as their own key.';

REVOKE ALL ON ident.panel, ident.panel_member, ident.panel_vote
    FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON ident.panel TO nrm_assessor;
GRANT SELECT, INSERT ON ident.panel_member TO nrm_assessor;
GRANT UPDATE (recused_at, recusal_reason) ON ident.panel_member
    TO nrm_assessor;
GRANT SELECT, INSERT ON ident.panel_vote TO nrm_assessor;
-- The panel names its members: who they are (staff data), not secrets.
GRANT SELECT (id, display_name, role, status) ON auth.person
    TO nrm_assessor;

-- ---------------------------------------------------------------------
-- Statistics (0013): the statistician counts panel decisions, their
-- dissent and the time from referral to decision (measures
-- panel_decisions and time_to_panel_decision, docs/statistics.md); it
-- reads no rationale, no member and no reason.
-- ---------------------------------------------------------------------
CREATE POLICY panel_statistician_select ON ident.panel
FOR SELECT TO nrm_statistician USING (true);
CREATE POLICY panel_vote_statistician_select ON ident.panel_vote
FOR SELECT TO nrm_statistician USING (true);
COMMENT ON POLICY panel_statistician_select ON ident.panel IS
    'The statistician counts decided panels (its SECURITY DEFINER doors '
    'answer suppressed tables only).';
COMMENT ON POLICY panel_vote_statistician_select ON ident.panel_vote IS
    'The statistician counts dissent (outcomes only).';
GRANT SELECT (id, case_id, model, outcome, assigned_at, decided_at)
    ON ident.panel TO nrm_statistician;
GRANT SELECT (panel_id, outcome) ON ident.panel_vote TO nrm_statistician;
