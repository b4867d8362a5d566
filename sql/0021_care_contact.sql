-- 0021_care_contact.sql - the care work of issue 18 (h-care): the first
-- contact and its escalation, transfers the receiving region accepts,
-- and readable references (docs/case-lifecycle.md).
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  The api.* functions that use these tables stand
-- in sql/api/30_cases.sql and sql/api/32_care.sql.

-- ---------------------------------------------------------------------
-- First contact: when the first successful contact happened, and the
-- once-only escalation of a case that had none by first_contact_by.
-- ---------------------------------------------------------------------
ALTER TABLE care.case
	ADD COLUMN first_contact_at timestamptz,
	ADD COLUMN first_contact_escalated_at timestamptz,
	ADD CONSTRAINT case_first_contact_escalated_at_check CHECK (
	    first_contact_escalated_at IS NULL
	    OR first_contact_escalated_at >= created_at);
COMMENT ON COLUMN care.case.first_contact_at IS
    'When the first successful contact with the person took place (the '
    '"at" a coordinator recorded; mode not failed_attempt); null until '
    'then.  Meets the first-contact deadline when <= first_contact_by.';
COMMENT ON COLUMN care.case.first_contact_escalated_at IS
    'When the sweeper moved the case to the national desk because no '
    'first contact was recorded by first_contact_by; null if never.';

-- The sweeper's candidates for the first-contact escalation.
CREATE INDEX case_first_contact_due_idx ON care.case (first_contact_by)
    WHERE first_contact_at IS NULL AND first_contact_escalated_at IS NULL
        AND region_code <> 'NATIONAL';

-- History gains the contacts after the first ('first_contact' exists).
ALTER TABLE care.case_history
	DROP CONSTRAINT case_history_action_check,
	ADD CONSTRAINT case_history_action_check CHECK (action IN ('routed',
	    'taken', 'declined', 'released', 'transferred', 'escalated',
	    'closed', 'reopened', 'first_contact', 'shared', 'handed_over',
	    'contact'));

-- care.escalation: at most one per case and kind (was: per case).
ALTER TABLE care.escalation
	DROP CONSTRAINT escalation_pkey,
	ADD CONSTRAINT escalation_pkey PRIMARY KEY (case_id, reason),
	DROP CONSTRAINT escalation_reason_check,
	ADD CONSTRAINT escalation_reason_check CHECK (reason IN (
	    'take_deadline_missed', 'first_contact_deadline_missed'));
COMMENT ON TABLE care.escalation IS
    'The escalations of a case to the national desk by the sweeper: '
    'when, from which region, why (a code: take_deadline_missed, '
    'first_contact_deadline_missed).  The primary key (case, reason) '
    'makes each kind happen at most once per case, whatever the number '
    'of daemons.  No personal data.';

-- The take-deadline sweeper of 0004 (care.escalate_overdue) takes the
-- conflict target of the new primary key (case_id, reason), and
-- care.escalate_first_contact moves up to p_limit cases open or taken,
-- without a first contact, past first_contact_by and not at the
-- national desk, to the national desk (open, no holder), each exactly
-- once: both stand in sql/api/33_escalation.sql, with their grants and
-- owner (nrm_sweeper).

-- The sweeper reads open and taken cases now; it only moves a case to
-- the national desk, open, without a holder, marked escalated.
ALTER POLICY case_sweeper_select ON care.case
USING (state IN ('open', 'taken'));
ALTER POLICY case_sweeper_update ON care.case
USING (state IN ('open', 'taken') AND region_code <> 'NATIONAL'
    AND (escalated_at IS NULL OR first_contact_escalated_at IS NULL))
WITH CHECK (state = 'open' AND holder_key_id IS NULL
    AND region_code = 'NATIONAL'
    AND (escalated_at IS NOT NULL OR first_contact_escalated_at IS NOT NULL));
COMMENT ON POLICY case_sweeper_select ON care.case IS
    'The sweeper reads open and taken cases.';
COMMENT ON POLICY case_sweeper_update ON care.case IS
    'The sweeper only escalates: open or taken, outside the national '
    'desk, not yet escalated for one of the deadlines -> national desk, '
    'open, no holder, escalated.';
ALTER POLICY case_history_sweeper_select ON care.case_history
USING (EXISTS (SELECT 1 FROM care.case c
    WHERE c.id = case_id AND c.state IN ('open', 'taken')));

GRANT SELECT (holder_key_id, first_contact_by, first_contact_at,
    first_contact_escalated_at) ON care.case TO nrm_sweeper;
GRANT UPDATE (state, holder_key_id, holder_person_id,
    first_contact_escalated_at) ON care.case TO nrm_sweeper;
GRANT SELECT (reason) ON care.escalation TO nrm_sweeper;

-- The coordinator records the first contact; the readers see it.
GRANT UPDATE (first_contact_at) ON care.case TO nrm_coordinator;
GRANT SELECT (first_contact_at, first_contact_escalated_at) ON care.case
    TO nrm_assessor, nrm_overview;
GRANT SELECT (reason) ON care.escalation TO nrm_overview, nrm_statistician;

-- ---------------------------------------------------------------------
-- Transfers the receiving region answers: a transfer to another region
-- is pending (state transfer_pending, the sender keeping region and
-- holder) until a coordinator of the receiving region accepts or
-- refuses it, or the sweeper escalates it unanswered by
-- transfer_answer_by.
-- ---------------------------------------------------------------------
ALTER TABLE care.case
	ADD COLUMN transfer_to text,
	ADD COLUMN transfer_from_state text,
	ADD COLUMN transfer_reason text,
	ADD COLUMN transfer_requested_at timestamptz,
	ADD COLUMN transfer_answer_by timestamptz,
	ADD COLUMN transfer_take_within_s integer,
	ADD COLUMN transfer_first_contact_within_s integer,
	ADD CONSTRAINT case_transfer_to_fkey FOREIGN KEY (transfer_to)
	    REFERENCES ref.region (code),
	DROP CONSTRAINT case_state_check,
	ADD CONSTRAINT case_state_check
	    CHECK (state IN ('open', 'taken', 'closed', 'transfer_pending')),
	-- A pending transfer names all it needs; nothing else does.  The
	-- holder stays what it was before (a taken case keeps its holder).
	ADD CONSTRAINT case_transfer_check CHECK (
	    (state = 'transfer_pending') = (transfer_to IS NOT NULL)
	    AND (transfer_to IS NULL OR (transfer_to <> region_code
	        AND transfer_from_state IN ('open', 'taken')
	        AND (transfer_from_state = 'taken') = (holder_key_id IS NOT NULL)
	        AND transfer_reason IS NOT NULL
	        AND transfer_requested_at IS NOT NULL
	        AND transfer_answer_by >= transfer_requested_at
	        AND transfer_take_within_s >= 0
	        AND transfer_first_contact_within_s >= 0))
	    AND (transfer_to IS NOT NULL OR (transfer_from_state IS NULL
	        AND transfer_reason IS NULL AND transfer_requested_at IS NULL
	        AND transfer_answer_by IS NULL AND transfer_take_within_s IS NULL
	        AND transfer_first_contact_within_s IS NULL)));
COMMENT ON COLUMN care.case.transfer_to IS
    'The receiving region of a pending transfer (state transfer_pending); '
    'null otherwise.  The transfer_* columns hold the rest of it: the '
    'state it returns to when refused, the reason code, when it was '
    'asked, by when it must be answered, and the deadlines the case gets '
    'when accepted.';
CREATE INDEX case_transfer_to_idx ON care.case (transfer_to)
    WHERE transfer_to IS NOT NULL;
CREATE INDEX case_transfer_due_idx ON care.case (transfer_answer_by)
    WHERE state = 'transfer_pending';

ALTER TABLE care.case_history
	DROP CONSTRAINT case_history_action_check,
	ADD CONSTRAINT case_history_action_check CHECK (action IN ('routed',
	    'taken', 'declined', 'released', 'transferred', 'escalated',
	    'closed', 'reopened', 'first_contact', 'shared', 'handed_over',
	    'contact', 'transfer_accepted', 'transfer_refused'));

-- The reason codes gain the refusal of a transfer: care.reason_allowed,
-- which stands in sql/api/30_cases.sql.

-- The transfer takes the time to answer it: a new signature.
DROP FUNCTION IF EXISTS api.case_transfer(bytea, text, inet, uuid, integer, text, text,
    integer, integer);

-- The unanswered-transfer sweeper care.escalate_transfers (up to
-- p_limit pending transfers past transfer_answer_by go to the national
-- desk, open, no holder, the transfer ended; history escalated {reason
-- transfer_unanswered}) stands in sql/api/33_escalation.sql with its
-- grants and owner (nrm_sweeper).

-- The sweeper reads and escalates pending transfers too; what it writes
-- is always open at the national desk, without a holder or a transfer.
ALTER POLICY case_sweeper_select ON care.case
USING (state IN ('open', 'taken', 'transfer_pending'));
ALTER POLICY case_sweeper_update ON care.case
USING (state IN ('open', 'taken', 'transfer_pending')
    AND (region_code <> 'NATIONAL' OR state = 'transfer_pending'))
WITH CHECK (state = 'open' AND holder_key_id IS NULL
    AND region_code = 'NATIONAL' AND transfer_to IS NULL);
COMMENT ON POLICY case_sweeper_select ON care.case IS
    'The sweeper reads open, taken and transfer_pending cases.';
COMMENT ON POLICY case_sweeper_update ON care.case IS
    'The sweeper only escalates: a case outside the national desk, or a '
    'pending transfer -> the national desk, open, no holder, no pending '
    'transfer (which deadline was missed: the function, the history and '
    'care.escalation say).';
ALTER POLICY case_history_sweeper_select ON care.case_history
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND c.state IN ('open', 'taken', 'transfer_pending')));

-- A coordinator of the receiving region sees the case while its
-- transfer to that region is pending (to answer it).
ALTER POLICY case_coordinator_select ON care.case
USING (region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))
    OR transfer_to = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))
    OR id = NULLIF(
        pg_catalog.current_setting('nrm.case_id', true), '')::uuid);
ALTER POLICY case_coordinator_update ON care.case
USING (region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))
    OR transfer_to = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))
    OR id = NULLIF(
        pg_catalog.current_setting('nrm.case_id', true), '')::uuid);
-- ... and the signal's triage facts of it (the inbox item joins them).
ALTER POLICY signal_coordinator_select ON intake.signal
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.signal_id = signal.id
    AND (c.region_code = ANY (pg_catalog.string_to_array(
            pg_catalog.current_setting('nrm.regions', true), ','))
        OR c.transfer_to = ANY (pg_catalog.string_to_array(
            pg_catalog.current_setting('nrm.regions', true), ','))
        OR c.id = NULLIF(
            pg_catalog.current_setting('nrm.case_id', true), '')::uuid)));
COMMENT ON POLICY case_coordinator_select ON care.case IS
    'Coordinators: cases of their regions (nrm.regions), those whose '
    'transfer to one of their regions is pending, plus the case the '
    'current lifecycle action locked (nrm.case_id).';

GRANT SELECT (transfer_to, transfer_answer_by, transfer_from_state)
    ON care.case TO nrm_sweeper;
GRANT UPDATE (transfer_to, transfer_from_state, transfer_reason,
    transfer_requested_at, transfer_answer_by, transfer_take_within_s,
    transfer_first_contact_within_s) ON care.case TO nrm_sweeper;
GRANT UPDATE (transfer_to, transfer_from_state, transfer_reason,
    transfer_requested_at, transfer_answer_by, transfer_take_within_s,
    transfer_first_contact_within_s) ON care.case TO nrm_coordinator;
GRANT SELECT (transfer_to, transfer_reason, transfer_requested_at,
    transfer_answer_by) ON care.case TO nrm_assessor;


/*
 * A transfer to one of p_regions that was just answered (the case's
 * newest history entry accepted, refused or escalated it): the case's
 * state, holder and version, else no row.  SECURITY DEFINER (owner:
 * past row-level security), for api.case_lock only: of two receiving
 * coordinators answering at once, the one that loses the lock finds the
 * case gone from its scope, and is told 409 with the state the winner
 * left instead of 404.  Codes and ids only.
 */
CREATE FUNCTION care.transfer_answered(p_case_id uuid, p_regions text[],
    OUT state text, OUT holder uuid, OUT version integer)
RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT c.state, c.holder_key_id, c.version
	FROM care.case c
	JOIN LATERAL (SELECT h.action, h.detail FROM care.case_history h
	    WHERE h.case_id = c.id ORDER BY h.id DESC LIMIT 1) h ON true
	WHERE c.id = p_case_id
	  AND ((h.action IN ('transfer_accepted', 'transfer_refused')
	          AND h.detail->>'to_region' = ANY (p_regions))
	      OR (h.action = 'escalated'
	          AND h.detail->>'reason' = 'transfer_unanswered'
	          AND h.detail->>'transfer_to' = ANY (p_regions)))
$$;
COMMENT ON FUNCTION care.transfer_answered(uuid, text[]) IS
    'The state, holder and version of a case whose newest history entry '
    'answered (or escalated) a transfer to one of p_regions; no row '
    'otherwise.  For api.case_lock''s 409 to the losing answerer.';
REVOKE ALL ON FUNCTION care.transfer_answered(uuid, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.transfer_answered(uuid, text[])
    TO nrm_coordinator;

-- ---------------------------------------------------------------------
-- Readable references: every signal (so every case and every anonymous
-- notification) gets a short random reference that can be read over
-- the phone, e.g. "K7QM-4TXR-9": 8 characters drawn from the 31 of
-- 23456789ABCDEFGHJKMNPQRSTUVWXYZ (no 0/O, 1/I/L) and a check character
-- (the sum of position x value, weights 1..8, modulo the prime 31:
-- every single-character error and every swap of two different
-- neighbours changes it, so is caught).  No national counter: nothing in it counts
-- or orders the signals.  31^8 = 8.5e11 references: with n stored, a
-- new one collides with probability n / 8.5e11 (1.2e-6 at a million),
-- and is then drawn again; the unique constraint is the last word.
-- ---------------------------------------------------------------------
CREATE FUNCTION care.reference_check(p_body text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_alpha constant text := '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
	v_sum integer := 0;
	v_cp integer;
BEGIN
	-- sum of position x value, weights 1..n, modulo the prime 31
	FOR i IN 1 .. pg_catalog.length(p_body) LOOP
		v_cp := pg_catalog.strpos(v_alpha,
		    pg_catalog.substr(p_body, i, 1)) - 1;
		IF v_cp < 0 THEN
			RETURN NULL;
		END IF;
		v_sum := v_sum + i * v_cp;
	END LOOP;
	RETURN pg_catalog.substr(v_alpha, (31 - v_sum % 31) % 31 + 1, 1);
END
$$;
COMMENT ON FUNCTION care.reference_check(text) IS
    'The check character (weighted sum modulo 31) of a reference body of the '
    'reference alphabet; NULL when a character is not of it.';

/*
 * The normal form of a reference as typed ("k7qm 4txr9" -> "K7QM-4TXR-9"),
 * or NULL when it is not one (length, alphabet, check character).
 */
CREATE FUNCTION care.reference_normal(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN pg_catalog.length(x.t) = 9
	    AND care.reference_check(pg_catalog.substr(x.t, 1, 8))
	        = pg_catalog.substr(x.t, 9, 1)
	    THEN pg_catalog.substr(x.t, 1, 4) || '-'
	        || pg_catalog.substr(x.t, 5, 4) || '-'
	        || pg_catalog.substr(x.t, 9, 1) END
	FROM (SELECT pg_catalog.upper(pg_catalog.regexp_replace(p_text,
	    '[\s-]', '', 'g')) AS t) x
$$;
COMMENT ON FUNCTION care.reference_normal(text) IS
    'A typed reference in its normal form XXXX-XXXX-C, or NULL.';

-- A fresh random reference (not checked against the stored ones).
CREATE FUNCTION care.new_reference() RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_alpha constant text := '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
	v_b bytea := pg_catalog.sha256(
	    pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
	    || pg_catalog.uuid_send(pg_catalog.gen_random_uuid()));
	v_body text := '';
BEGIN
	FOR i IN 0 .. 7 LOOP
		v_body := v_body || pg_catalog.substr(v_alpha,
		    (pg_catalog.get_byte(v_b, 2 * i) * 256
		        + pg_catalog.get_byte(v_b, 2 * i + 1)) % 31 + 1, 1);
	END LOOP;
	RETURN pg_catalog.substr(v_body, 1, 4) || '-'
	    || pg_catalog.substr(v_body, 5, 4) || '-'
	    || care.reference_check(v_body);
END
$$;
COMMENT ON FUNCTION care.new_reference() IS
    'A random reference XXXX-XXXX-C (8 characters of 31, check '
    'character); uniqueness is the caller''s (care.signal_reference).';

ALTER TABLE intake.signal ADD COLUMN reference text;
COMMENT ON COLUMN intake.signal.reference IS
    'The readable reference of the signal and its case (XXXX-XXXX-C, '
    'random, care.new_reference); in the receipt, the inbox item and the '
    'case; searchable by the roles that may see the case.  Not personal '
    'data: it says nothing about the person.';

/*
 * BEFORE INSERT on intake.signal: a reference no stored signal has
 * (drawn again on a collision, at most 20 times).  SECURITY DEFINER:
 * the check sees every signal, past the reporter's row-level security.
 * Two transactions drawing the same one at once: the unique constraint
 * refuses the second (an intake error the reporter retries with the
 * same Idempotency-Key; 1 in 8.5e11 per pair).
 */
CREATE FUNCTION care.signal_reference() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.reference IS NULL THEN
		FOR i IN 1 .. 20 LOOP
			NEW.reference := care.new_reference();
			EXIT WHEN NOT EXISTS (SELECT 1 FROM intake.signal s
			    WHERE s.reference = NEW.reference);
		END LOOP;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER signal_reference BEFORE INSERT ON intake.signal
FOR EACH ROW EXECUTE FUNCTION care.signal_reference();
COMMENT ON TRIGGER signal_reference ON intake.signal IS
    'Gives every new signal its readable reference.';

-- Existing signals get theirs (the references drawn one by one, each
-- checked against those drawn before it).
ALTER TABLE intake.signal DISABLE TRIGGER USER;
DO $refs$
DECLARE
	v_id uuid;
	v_ref text;
BEGIN
	FOR v_id IN SELECT id FROM intake.signal ORDER BY received_at, id LOOP
		LOOP
			v_ref := care.new_reference();
			EXIT WHEN NOT EXISTS (SELECT 1 FROM intake.signal s
			    WHERE s.reference = v_ref);
		END LOOP;
		UPDATE intake.signal SET reference = v_ref WHERE id = v_id;
	END LOOP;
END
$refs$;
ALTER TABLE intake.signal ENABLE TRIGGER USER;
ALTER TABLE intake.signal
	ALTER COLUMN reference SET NOT NULL,
	ADD CONSTRAINT signal_reference_key UNIQUE (reference),
	ADD CONSTRAINT signal_reference_check CHECK (
	    reference ~ '^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]$');

-- The case a reference names, past row-level security: for the audit
-- reason (not_found or out_of_scope) of a refused search only.
CREATE FUNCTION care.reference_case(p_reference text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT c.id FROM intake.signal s JOIN care.case c ON c.signal_id = s.id
	WHERE s.reference = p_reference
$$;
COMMENT ON FUNCTION care.reference_case(text) IS
    'The id of the case whose signal has this reference (SECURITY '
    'DEFINER, past row-level security), for the audit of a refused '
    'search only; the answer to the client is the same 404.';

REVOKE ALL ON FUNCTION care.reference_check(text), care.reference_normal(text),
    care.new_reference(), care.signal_reference(),
    care.reference_case(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.reference_check(text),
    care.reference_normal(text), care.reference_case(text)
    TO nrm_coordinator, nrm_assessor;
GRANT SELECT (reference) ON intake.signal TO nrm_reporter, nrm_assessor;

-- ---------------------------------------------------------------------
-- The inbox item (the view as 0004 made it) gains the first contact
-- (first_contact_at, first_contact_in_time, first_contact_escalated)
-- the readable reference, and the pending transfer ("transfer": null or its receiving region,
-- reason and answer deadline), and its columns the receiving region (so
-- that region's coordinators find what awaits them).
-- ---------------------------------------------------------------------
CREATE OR REPLACE VIEW care.case_item WITH (security_invoker = true) AS
SELECT c.id, c.region_code, c.state, c.priority,
    CASE c.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END
        AS prio_rank,
    c.take_by, c.inbox_seq,
    pg_catalog.jsonb_build_object(
        'case_id', c.id,
        'reference', s.reference,
        'region', c.region_code,
        'priority', c.priority,
        'state', c.state,
        'holder', c.holder_key_id,
        'holder_agency', a.name,
        'take_by', api.rfc3339(c.take_by),
        'first_contact_by', api.rfc3339(c.first_contact_by),
        'first_contact_at', api.rfc3339(c.first_contact_at),
        'first_contact_in_time', c.first_contact_at <= c.first_contact_by,
        'first_contact_escalated', c.first_contact_escalated_at IS NOT NULL,
        'transfer', CASE WHEN c.transfer_to IS NOT NULL THEN
            pg_catalog.jsonb_build_object('to_region', c.transfer_to,
                'reason', c.transfer_reason,
                'requested_at', api.rfc3339(c.transfer_requested_at),
                'answer_by', api.rfc3339(c.transfer_answer_by)) END,
        'minor', s.minor,
        'exploitation', pg_catalog.to_jsonb(s.exploitation),
        'urgency', pg_catalog.jsonb_build_object(
            'immediate_danger', s.immediate_danger,
            'needs_shelter', s.needs_shelter),
        'declines', c.declines,
        'escalated', c.escalated_at IS NOT NULL,
        'closed_reason', c.closed_reason,
        'created_at', api.rfc3339(c.created_at),
        'version', c.version) AS item,
    c.transfer_to
FROM care.case c
JOIN intake.signal s ON s.id = c.signal_id
LEFT JOIN auth.api_key k ON k.id = c.holder_key_id
LEFT JOIN auth.agency a ON a.id = k.agency_id;
