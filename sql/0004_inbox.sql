-- 0004_inbox.sql - the coordinator inbox and the case lifecycle: inbox
-- sequence and NOTIFY, take / decline / transfer / close / reopen as
-- compare-and-set on the case version, the full case read, and the
-- once-only escalation of cases nobody took (docs/sql-api.md,
-- docs/case-lifecycle.md).
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  0001..0003 are released and stay unchanged.

-- ---------------------------------------------------------------------
-- The sweeper's role.  NOLOGIN, and nrm_app is NOT a member: nrm_app
-- can act as it only through care.escalate_overdue (SECURITY DEFINER,
-- owned by nrm_sweeper), so the daemon's login role gets no UPDATE on
-- care.case and cannot assume these privileges with SET ROLE.
-- nrm_owner becomes a member only because a new owner must be a role
-- the current one belongs to (ALTER FUNCTION ... OWNER TO).
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_sweeper') THEN
		CREATE ROLE nrm_sweeper NOLOGIN;
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, 'nrm_sweeper', 'MEMBER')
	THEN
		EXECUTE pg_catalog.format('GRANT nrm_sweeper TO %I',
		    current_user);
	END IF;
	IF pg_catalog.pg_has_role('nrm_app', 'nrm_sweeper', 'MEMBER') THEN
		REVOKE nrm_sweeper FROM nrm_app;
	END IF;
END
$roles$;
COMMENT ON ROLE nrm_sweeper IS
    'nrm: owner of care.escalate_overdue (SECURITY DEFINER); holds what '
    'escalating an overdue case writes.  NOLOGIN; nrm_app is no member.';

-- ---------------------------------------------------------------------
-- care.case: inbox sequence, declines, closing reason, escalation mark.
-- ---------------------------------------------------------------------
CREATE SEQUENCE care.case_inbox_seq AS bigint;
COMMENT ON SEQUENCE care.case_inbox_seq IS
    'Source of care.case.inbox_seq; drawn only by care.next_inbox_seq(), '
    'under the inbox lock, so values are handed out in commit order.';

ALTER TABLE care.case
	ADD COLUMN inbox_seq bigint,
	ADD COLUMN declines integer NOT NULL DEFAULT 0,
	ADD COLUMN closed_reason text,
	ADD COLUMN escalated_at timestamptz;

-- Cases that exist already enter the sequence in arrival order.
UPDATE care.case c SET inbox_seq = o.n
FROM (SELECT id, pg_catalog.row_number() OVER (ORDER BY created_at, id) AS n
    FROM care.case) o
WHERE o.id = c.id;
SELECT pg_catalog.setval('care.case_inbox_seq',
    COALESCE((SELECT pg_catalog.max(inbox_seq) FROM care.case), 0) + 1,
    false);

ALTER TABLE care.case
	ALTER COLUMN inbox_seq SET NOT NULL,
	ADD CONSTRAINT case_inbox_seq_key UNIQUE (inbox_seq),
	ADD CONSTRAINT case_declines_check CHECK (declines >= 0),
	-- The closing reasons (docs/case-lifecycle.md).  A literal list, not
	-- a function call: every role that inserts a case would need
	-- EXECUTE on a function used in a CHECK.
	ADD CONSTRAINT case_closed_reason_check CHECK (
	    (state = 'closed') = (closed_reason IS NOT NULL)
	    AND (closed_reason IS NULL OR closed_reason IN ('victim_supported',
	        'referred_elsewhere', 'no_indication_of_trafficking',
	        'duplicate', 'unreachable', 'other'))),
	ADD CONSTRAINT case_escalated_at_check
	    CHECK (escalated_at IS NULL OR escalated_at >= created_at);

COMMENT ON COLUMN care.case.inbox_seq IS
    'Position in the global inbox order: drawn when the case is created '
    'and again every time it enters an inbox (routed, declined back, '
    'transferred, escalated, reopened).  Set by the case_inbox_entry '
    'trigger only; a value the writer supplies is replaced.  Commit '
    'order: a reader that saw N will only ever see later entries > N.';
COMMENT ON COLUMN care.case.declines IS
    'How often the case was declined, over its whole life (the mark '
    'shown in the inbox).';
COMMENT ON COLUMN care.case.closed_reason IS
    'Why a closed case was closed: a code from the documented list; '
    'null unless closed.';
COMMENT ON COLUMN care.case.escalated_at IS
    'When the sweeper moved the case to the national desk because '
    'nobody took it by take_by (see care.escalation); null if never.';

-- Inbox page: region, state, then the inbox order.  The rank expression
-- is the one in care.case_item (no function: see above).
CREATE INDEX case_inbox_idx ON care.case (region_code, state,
    (CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END),
    take_by, inbox_seq);
-- Watermark and "newer than N": the highest inbox_seq per region.
CREATE INDEX case_region_inbox_seq_idx ON care.case (region_code,
    inbox_seq);
-- The sweeper's candidates.
CREATE INDEX case_escalation_due_idx ON care.case (take_by)
    WHERE state = 'open' AND escalated_at IS NULL
        AND region_code <> 'NATIONAL';

-- History gains 'reopened' (same constraint name, one more action).
ALTER TABLE care.case_history
	DROP CONSTRAINT case_history_action_check,
	ADD CONSTRAINT case_history_action_check CHECK (action IN ('routed',
	    'taken', 'declined', 'released', 'transferred', 'escalated',
	    'closed', 'reopened', 'first_contact'));

-- ---------------------------------------------------------------------
-- care.escalation: at most one per case, by its primary key.
-- ---------------------------------------------------------------------
CREATE TABLE care.escalation (
	case_id uuid NOT NULL,
	at timestamptz NOT NULL DEFAULT now(),
	from_region text NOT NULL,
	reason text NOT NULL,
	CONSTRAINT escalation_pkey PRIMARY KEY (case_id),
	CONSTRAINT escalation_case_id_fkey FOREIGN KEY (case_id)
	    REFERENCES care.case (id),
	CONSTRAINT escalation_from_region_fkey FOREIGN KEY (from_region)
	    REFERENCES ref.region (code),
	CONSTRAINT escalation_from_region_check
	    CHECK (from_region <> 'NATIONAL'),
	CONSTRAINT escalation_reason_check
	    CHECK (reason IN ('take_deadline_missed'))
);
COMMENT ON TABLE care.escalation IS
    'The escalation of a case to the national desk by the sweeper: when, '
    'from which region, why (a code).  The primary key makes it happen '
    'at most once per case, whatever the number of daemons.  No '
    'personal data.';

-- ---------------------------------------------------------------------
-- Vocabularies and the state table: each in exactly one place.
-- ---------------------------------------------------------------------

-- The lifecycle state table care.transition (docs/case-lifecycle.md)
-- stands in sql/api/30_cases.sql with its comment and grant: 0009 added
-- a row, and a table that changes lives in a repeatable file.

-- The reason codes each action accepts, care.reason_allowed, stand in
-- sql/api/30_cases.sql with their comment and grant: 0021 and 0026
-- added codes, and a function that changes lives in a repeatable file.

-- Seconds as an ISO 8601 duration: 3600 -> PT1H, 90000 -> P1DT1H.
CREATE FUNCTION care.iso_duration(p_seconds bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_seconds <= 0 THEN 'PT0S' ELSE
	    'P' || CASE WHEN p_seconds >= 86400
	        THEN (p_seconds / 86400)::text || 'D' ELSE '' END
	    || CASE WHEN p_seconds % 86400 = 0 THEN '' ELSE 'T'
	        || CASE WHEN p_seconds % 86400 >= 3600
	            THEN (p_seconds % 86400 / 3600)::text || 'H' ELSE '' END
	        || CASE WHEN p_seconds % 3600 >= 60
	            THEN (p_seconds % 3600 / 60)::text || 'M' ELSE '' END
	        || CASE WHEN p_seconds % 60 > 0
	            THEN (p_seconds % 60)::text || 'S' ELSE '' END
	    END END
$$;
COMMENT ON FUNCTION care.iso_duration(bigint) IS
    'Seconds as an ISO 8601 duration (days, hours, minutes, seconds).';

-- ---------------------------------------------------------------------
-- Entering an inbox: sequence number under the inbox lock, and NOTIFY.
-- ---------------------------------------------------------------------

/*
 * The next inbox_seq, drawn under a transaction-level advisory lock
 * (key 4, 1: two-int keys never collide with the one-bigint idempotency
 * keys) that is held until commit.  Entries into an inbox therefore
 * commit in inbox_seq order, and a watermark N a reader saw is final:
 * no case with inbox_seq <= N can become visible later.  Without the
 * lock, a transaction holding seq 10 could commit after one holding 11,
 * and a long-poll waiting for "newer than 11" would never see case 10.
 * The cost: inbox entries (intake, decline, transfer, reopen,
 * escalation) serialize from the entry to their commit.  Takes and
 * closes do not take the lock.
 */
CREATE FUNCTION care.next_inbox_seq() RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM pg_catalog.pg_advisory_xact_lock(4, 1);
	RETURN pg_catalog.nextval('care.case_inbox_seq');
END
$$;
COMMENT ON FUNCTION care.next_inbox_seq() IS
    'The next inbox_seq, under the inbox lock (advisory xact lock (4, 1)) '
    'held until commit, so entries commit in sequence order.';

/*
 * BEFORE INSERT OR UPDATE on care.case.  A case enters an inbox when it
 * is created, and when after an update it is open and it was not open
 * before (declined while taken, reopened), or it changed region
 * (transferred, escalated, declined to the national desk), or it was
 * declined (declines grew).  Entering draws a new inbox_seq; otherwise
 * inbox_seq never changes.  SECURITY DEFINER: the writer's role needs
 * no privilege on the sequence.  An explicit NULL for declines (an
 * INSERT ... SELECT * from a record) becomes 0.
 */
CREATE FUNCTION care.case_inbox_entry() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		NEW.declines := COALESCE(NEW.declines, 0);
		NEW.inbox_seq := care.next_inbox_seq();
	ELSIF NEW.state = 'open' AND (OLD.state <> 'open'
	    OR NEW.region_code <> OLD.region_code
	    OR NEW.declines > OLD.declines) THEN
		NEW.inbox_seq := care.next_inbox_seq();
	ELSE
		NEW.inbox_seq := OLD.inbox_seq;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION care.case_inbox_entry() IS
    'Trigger: draws a new inbox_seq when a case enters an inbox (the one '
    'place that decides what "entering" is); keeps it otherwise.';
CREATE TRIGGER case_inbox_entry
BEFORE INSERT OR UPDATE ON care.case
FOR EACH ROW EXECUTE FUNCTION care.case_inbox_entry();
COMMENT ON TRIGGER case_inbox_entry ON care.case IS
    'Assigns inbox_seq on insert and whenever the case enters an inbox.';

/*
 * AFTER a case entered an inbox: NOTIFY nrm_inbox with the region code
 * only.  PostgreSQL delivers notifications at commit and folds
 * identical (channel, payload) pairs of one transaction into one, so a
 * transaction that puts several cases into one region notifies it once.
 */
CREATE FUNCTION care.case_inbox_notify() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM pg_catalog.pg_notify('nrm_inbox', NEW.region_code);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION care.case_inbox_notify() IS
    'Trigger: pg_notify(''nrm_inbox'', region code) when a case enters '
    'an inbox.  The payload is the region code and nothing else.';
CREATE TRIGGER case_inbox_notify_insert
AFTER INSERT ON care.case
FOR EACH ROW EXECUTE FUNCTION care.case_inbox_notify();
COMMENT ON TRIGGER case_inbox_notify_insert ON care.case IS
    'A new case (api.intake) wakes its region''s inbox.';
CREATE TRIGGER case_inbox_notify_update
AFTER UPDATE ON care.case
FOR EACH ROW WHEN (OLD.inbox_seq IS DISTINCT FROM NEW.inbox_seq)
EXECUTE FUNCTION care.case_inbox_notify();
COMMENT ON TRIGGER case_inbox_notify_update ON care.case IS
    'A case that re-entered an inbox (new inbox_seq) wakes its region.';

-- ---------------------------------------------------------------------
-- care.case_item: the inbox item of a case, one definition for the
-- inbox, the lifecycle answers and the case read.  No personal data:
-- no names, birth date, contact or narrative.
-- ---------------------------------------------------------------------
-- No arrival numbers in answers: the item leaves inbox_seq out.  It
-- comes from one national sequence (it orders every inbox and makes the
-- long-poll watermark final), so the gap between two of a coordinator's
-- cases would count the cases that entered other regions' inboxes
-- meanwhile; nrmd seals the keyset cursor and the watermark, which
-- still carry it, into opaque tokens (handler_inbox.c).  (Released
-- 0004 had it in the item and 0007 replaced the view; the view now
-- stands here once, as it is.)
CREATE VIEW care.case_item WITH (security_invoker = true) AS
SELECT c.id, c.region_code, c.state, c.priority,
    CASE c.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END
        AS prio_rank,
    c.take_by, c.inbox_seq,
    pg_catalog.jsonb_build_object(
        'case_id', c.id,
        'region', c.region_code,
        'priority', c.priority,
        'state', c.state,
        'holder', c.holder_key_id,
        'holder_agency', a.name,
        'take_by', api.rfc3339(c.take_by),
        'first_contact_by', api.rfc3339(c.first_contact_by),
        'minor', s.minor,
        'exploitation', pg_catalog.to_jsonb(s.exploitation),
        'urgency', pg_catalog.jsonb_build_object(
            'immediate_danger', s.immediate_danger,
            'needs_shelter', s.needs_shelter),
        'declines', c.declines,
        'escalated', c.escalated_at IS NOT NULL,
        'closed_reason', c.closed_reason,
        'created_at', api.rfc3339(c.created_at),
        'version', c.version) AS item
FROM care.case c
JOIN intake.signal s ON s.id = c.signal_id
LEFT JOIN auth.api_key k ON k.id = c.holder_key_id
LEFT JOIN auth.agency a ON a.id = k.agency_id;
COMMENT ON VIEW care.case_item IS
    'Each case as an inbox item (jsonb) with its sort key columns '
    '(prio_rank, take_by, inbox_seq).  Triage facts only, no personal '
    'data, and no inbox_seq in the item (0007: it would count other '
    'regions'' arrivals).  security_invoker: read with the caller''s '
    'privileges.';

-- ---------------------------------------------------------------------
-- Escalation of overdue cases: the sweeper.
-- ---------------------------------------------------------------------

-- care.escalate_overdue (SECURITY DEFINER, owned by nrm_sweeper) moves
-- up to p_limit open cases past take_by, never escalated and not at the
-- national desk, to the national desk, each exactly once.  Its body, its
-- grants and its owner stand in sql/api/33_escalation.sql with the other
-- escalations (0021 changed it, a body that changes lives in a
-- repeatable file).

-- ---------------------------------------------------------------------
-- Grants.  Table grants for the seven API roles are unchanged (the
-- matrix of tests/db/30_privileges.sql); what the inbox needs beyond
-- 0001 is granted per column.
-- ---------------------------------------------------------------------
REVOKE ALL ON FUNCTION care.iso_duration(bigint),
    care.next_inbox_seq(),
    care.case_inbox_entry(),
    care.case_inbox_notify()
    FROM PUBLIC;
REVOKE ALL ON SEQUENCE care.case_inbox_seq FROM PUBLIC;

-- nrm_app: the entry points (USAGE on care names the sweeper function
-- behind api.escalate_overdue; no table privilege).
GRANT USAGE ON SCHEMA care TO nrm_app;

-- coordinator: the helpers it runs after the switch; the holder's and
-- reporter's agency and, for "every coordinator declined", the
-- coordinator keys (never token hashes or labels); new case columns.
GRANT SELECT ON care.case_item TO nrm_coordinator;
GRANT USAGE ON SCHEMA auth TO nrm_coordinator;
GRANT SELECT (id, agency_id, role, regions, revoked_at) ON auth.api_key
    TO nrm_coordinator;
GRANT SELECT (id, name, kind) ON auth.agency TO nrm_coordinator;
GRANT UPDATE (declines, closed_reason, take_by, first_contact_by)
    ON care.case TO nrm_coordinator;

-- assessor: api.case_get only (read, never write), column by column;
-- not the pseudonym.
GRANT USAGE ON SCHEMA intake, care, auth TO nrm_assessor;
GRANT SELECT ON care.case_item TO nrm_assessor;
GRANT SELECT (id, signal_id, region_code, priority, state, holder_key_id,
    version, rule_id, ruleset_version, explanation, take_by,
    first_contact_by, created_at, updated_at, inbox_seq, declines,
    closed_reason, escalated_at) ON care.case TO nrm_assessor;
GRANT SELECT (id, received_at, observed_at, agency_id, municipality_code,
    region_code, reporter_reference, minor, age_estimate, gender,
    nationality, languages, exploitation, control_means, immediate_danger,
    needs_shelter, consent) ON intake.signal TO nrm_assessor;
GRANT SELECT (signal_id, given_name, family_name, birth_date, phone,
    address, narrative) ON care.subject TO nrm_assessor;
GRANT SELECT (id, case_id, at, action, api_key_id, detail)
    ON care.case_history TO nrm_assessor;
GRANT SELECT (id, agency_id) ON auth.api_key TO nrm_assessor;
GRANT SELECT (id, name, kind) ON auth.agency TO nrm_assessor;

-- nrm_sweeper: exactly what care.escalate_overdue does.
GRANT USAGE ON SCHEMA care, audit TO nrm_sweeper;
GRANT SELECT (id, region_code, state, take_by, escalated_at, version)
    ON care.case TO nrm_sweeper;
GRANT UPDATE (region_code, escalated_at, version, updated_at)
    ON care.case TO nrm_sweeper;
GRANT SELECT (id, case_id, action, detail) ON care.case_history
    TO nrm_sweeper;
GRANT INSERT ON care.case_history TO nrm_sweeper;
GRANT SELECT (case_id), INSERT ON care.escalation TO nrm_sweeper;
GRANT INSERT ON audit.event TO nrm_sweeper;
GRANT EXECUTE ON FUNCTION care.iso_duration(bigint) TO nrm_sweeper;

-- care.escalate_overdue runs as nrm_sweeper: sql/api/33_escalation.sql
-- hands it over.
