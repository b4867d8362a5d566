-- 0027_followup.sql - follow-ups from the reporter and later consent
-- (issue 18): the reporting agency adds information to its own signal
-- (POST /v1/signals/{id}/followups; personal data, sealed by nrmd); it
-- reaches the case holder (the case's inbox item counts them and the
-- case re-enters its region's inbox, waking long-polls); and a later
-- signal with consent may cite the reference of an anonymous
-- notification (cites_reference), so the statistics know the
-- notification became a case.  docs/case-lifecycle.md ("Follow-ups
-- from the reporter", "Later consent"), docs/statistics.md.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  The api.* functions stand in
-- sql/api/37_followup.sql.

-- ---------------------------------------------------------------------
-- The case history gains 'followup' (read from the constraint in place
-- and extended, as 0022 does, so another migration of this stop that
-- extends it too keeps its own).
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
	-- the actions as 0021 wrote them (ARRAY['routed'::text, ...]) or
	-- as 0022 left them (ANY ('{closed,contact,...}'::text[]))
	SELECT pg_catalog.array_agg(DISTINCT a ORDER BY a) INTO v_list
	FROM (SELECT m[1] FROM pg_catalog.regexp_matches(v_def,
	        '''([a-z_]+)''', 'g') m
	    UNION ALL SELECT pg_catalog.unnest(pg_catalog.string_to_array(
	        pg_catalog.substring(v_def, '''\{([a-z_,]*)\}'''), ','))
	    UNION ALL SELECT 'followup') x(a);
	IF NOT v_list @> ARRAY['routed', 'taken', 'note'] THEN
		RAISE EXCEPTION 'case_history_action_check: the actions were '
		    'not found in %', v_def;
	END IF;
	ALTER TABLE care.case_history
	    DROP CONSTRAINT case_history_action_check;
	EXECUTE pg_catalog.format('ALTER TABLE care.case_history ADD '
	    'CONSTRAINT case_history_action_check CHECK (action = ANY '
	    '(%L::text[]))', v_list);
END
$hist$;

-- ---------------------------------------------------------------------
-- Follow-ups.  nrmd names the follow-up (its id binds the sealed text,
-- AAD "care.signal_followup/text/<id>") and makes its data key, which
-- belongs to the signal: erasing the signal's data keys shreds the
-- follow-ups with the rest of its personal data.  Append-only.
-- ---------------------------------------------------------------------
CREATE TABLE care.signal_followup (
	id uuid NOT NULL,
	signal_id uuid NOT NULL,
	case_id uuid NOT NULL,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	api_key_id uuid NOT NULL,
	data_key_id uuid NOT NULL,
	text_ct bytea NOT NULL,
	CONSTRAINT signal_followup_pkey PRIMARY KEY (id),
	CONSTRAINT signal_followup_signal_id_fkey FOREIGN KEY (signal_id)
	    REFERENCES intake.signal (id),
	CONSTRAINT signal_followup_case_id_fkey FOREIGN KEY (case_id)
	    REFERENCES care.case (id),
	CONSTRAINT signal_followup_api_key_id_fkey FOREIGN KEY (api_key_id)
	    REFERENCES auth.api_key (id),
	CONSTRAINT signal_followup_data_key_id_fkey FOREIGN KEY (data_key_id)
	    REFERENCES care.data_key (id) DEFERRABLE INITIALLY DEFERRED,
	CONSTRAINT signal_followup_text_ct_check
	    CHECK (care.sealed_ok(text_ct, 8000))
);
CREATE INDEX signal_followup_case_id_idx ON care.signal_followup (case_id, at);
CREATE INDEX signal_followup_signal_id_idx ON care.signal_followup (signal_id);
CREATE INDEX signal_followup_data_key_id_idx
    ON care.signal_followup (data_key_id);
COMMENT ON TABLE care.signal_followup IS
    'Information the reporting agency added to its own signal after '
    'intake (POST /v1/signals/{id}/followups), for the case holder.  '
    'PERSONAL DATA in text_ct, sealed by nrmd (AAD '
    '"care.signal_followup/text/<id>") with a data key of the signal.  '
    'Append-only (care.refuse_change).  An anonymous notification has no '
    'case and takes none (409).';
COMMENT ON COLUMN care.signal_followup.text_ct IS
    'PERSONAL DATA, sealed (AAD "care.signal_followup/text/<id>").';
CREATE TRIGGER signal_followup_append_only
BEFORE UPDATE OR DELETE ON care.signal_followup
FOR EACH ROW EXECUTE FUNCTION care.refuse_change();
CREATE TRIGGER signal_followup_no_truncate
BEFORE TRUNCATE ON care.signal_followup
FOR EACH STATEMENT EXECUTE FUNCTION care.refuse_change();

REVOKE ALL ON care.signal_followup FROM PUBLIC;
GRANT INSERT ON care.signal_followup TO nrm_reporter;
GRANT SELECT ON care.signal_followup TO nrm_coordinator;
ALTER TABLE care.signal_followup ENABLE ROW LEVEL SECURITY;
CREATE POLICY signal_followup_reporter_insert ON care.signal_followup
FOR INSERT TO nrm_reporter
WITH CHECK (api_key_id = NULLIF(
        pg_catalog.current_setting('nrm.key_id', true), '')::uuid
    AND EXISTS (SELECT 1 FROM intake.signal s WHERE s.id = signal_id
        AND s.agency_id = NULLIF(
            pg_catalog.current_setting('nrm.agency_id', true), '')::uuid));
CREATE POLICY signal_followup_coordinator_select ON care.signal_followup
FOR SELECT TO nrm_coordinator
USING (EXISTS (SELECT 1 FROM care.case c WHERE c.id = case_id
    AND c.region_code = ANY (pg_catalog.string_to_array(
        pg_catalog.current_setting('nrm.regions', true), ','))));
COMMENT ON POLICY signal_followup_reporter_insert ON care.signal_followup IS
    'A reporter adds follow-ups, as itself, to its own agency''s signals.';
COMMENT ON POLICY signal_followup_coordinator_select ON care.signal_followup
    IS 'Coordinators read the follow-ups of the cases in their regions.';

-- ---------------------------------------------------------------------
-- The case counts its follow-ups; a new one makes the case re-enter its
-- region's inbox (a new inbox_seq, so the existing NOTIFY trigger wakes
-- the region's long-polls and a long-poll's since= finds the case).
-- ---------------------------------------------------------------------
ALTER TABLE care.case
	ADD COLUMN followups integer NOT NULL DEFAULT 0,
	ADD COLUMN last_followup_at timestamptz,
	ADD CONSTRAINT case_followups_check CHECK (followups >= 0
	    AND (followups = 0) = (last_followup_at IS NULL));
COMMENT ON COLUMN care.case.followups IS
    'How many follow-ups the reporter sent (care.signal_followup).';
COMMENT ON COLUMN care.case.last_followup_at IS
    'When the last follow-up arrived; null without one.';
-- The inbox item (care.case_item, security_invoker) shows them: the
-- assessor reads it with column grants.
GRANT SELECT (followups, last_followup_at) ON care.case TO nrm_assessor;

-- Re-entering the inbox is decided by care.case_inbox_entry (0004's
-- trigger, its body in sql/api/30_cases.sql): a grown follow-up count is
-- one of its conditions, so the entry draws a new inbox_seq and records
-- its transaction (inbox_xid) like every other entry.

/*
 * A follow-up arrived for case p_case_id at p_at (the reporter's door
 * calls it: the reporter may neither update a case nor write its
 * history, so this is SECURITY DEFINER, of the owner): count it, write
 * the 'followup' history entry (detail {"followup": id}, no text), and
 * answer whether the case was taken up (a coordinator took it at some
 * time): the one fact about the case the reporter learns.
 */
CREATE FUNCTION care.followup_arrived(p_case_id uuid, p_followup_id uuid,
    p_key_id uuid, p_at timestamptz) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE care.case SET followups = followups + 1,
	    last_followup_at = p_at
	WHERE id = p_case_id;
	INSERT INTO care.case_history (case_id, action, api_key_id, detail)
	VALUES (p_case_id, 'followup', p_key_id,
	    pg_catalog.jsonb_build_object('followup', p_followup_id));
	RETURN EXISTS (SELECT 1 FROM care.case_history h
	    WHERE h.case_id = p_case_id AND h.action = 'taken');
END
$$;
COMMENT ON FUNCTION care.followup_arrived(uuid, uuid, uuid, timestamptz) IS
    'A follow-up arrived: count it on the case (which re-enters its '
    'inbox), write the history entry; whether the case was taken up.';
REVOKE ALL ON FUNCTION care.followup_arrived(uuid, uuid, uuid, timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.followup_arrived(uuid, uuid, uuid, timestamptz)
    TO nrm_reporter;

-- Whether the case of a signal was taken up, for the reporter's
-- receipt (SECURITY DEFINER: the reporter reads no case history).
CREATE FUNCTION care.signal_taken_up(p_signal_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM care.case c
	    JOIN care.case_history h ON h.case_id = c.id
	    WHERE c.signal_id = p_signal_id AND h.action = 'taken')
$$;
COMMENT ON FUNCTION care.signal_taken_up(uuid) IS
    'Whether a coordinator ever took the case of signal p_signal_id: all '
    'the reporter learns of its care.';
REVOKE ALL ON FUNCTION care.signal_taken_up(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.signal_taken_up(uuid) TO nrm_reporter;

-- Whether the signal's personal data were erased (care.erasure, 0019):
-- a follow-up then stores nothing (the reporter reads no erasure row).
CREATE FUNCTION care.signal_erased(p_signal_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM care.erasure e
	    WHERE e.signal_id = p_signal_id)
$$;
COMMENT ON FUNCTION care.signal_erased(uuid) IS
    'Whether signal p_signal_id was erased (art. 17): no follow-up is '
    'stored for it.';
REVOKE ALL ON FUNCTION care.signal_erased(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.signal_erased(uuid) TO nrm_reporter;

-- ---------------------------------------------------------------------
-- The inbox item gains "followups" and "last_followup_at".  The view's
-- definition is read in place and its item extended (as the history
-- constraint above), so that another migration of this stop that
-- replaces the view keeps its own members.
-- ---------------------------------------------------------------------
DO $view$
DECLARE
	v_def text;
	v_new text;
BEGIN
	v_def := pg_catalog.pg_get_viewdef('care.case_item'::regclass);
	v_new := pg_catalog.regexp_replace(v_def,
	    '''version''(::text)?, c\.version\) AS item',
	    '''version'', c.version, ''followups'', c.followups, '
	    '''last_followup_at'', api.rfc3339(c.last_followup_at)) '
	    'AS item');
	IF v_new = v_def THEN
		RAISE EXCEPTION 'care.case_item: the item''s end was not found';
	END IF;
	EXECUTE 'CREATE OR REPLACE VIEW care.case_item WITH '
	    '(security_invoker = true) AS ' || v_new;
END
$view$;

-- ---------------------------------------------------------------------
-- Later consent: a signal may cite the readable reference of an earlier
-- anonymous notification (cites_reference, checked by nrm-core's
-- parser).  cites_signal_id is the signal the reference names, when it
-- names one (resolved past row-level security: the reporter is never
-- told whether it did).
-- ---------------------------------------------------------------------
ALTER TABLE intake.signal
	ADD COLUMN cites_reference text,
	ADD COLUMN cites_signal_id uuid,
	ADD CONSTRAINT signal_cites_reference_check CHECK (
	    cites_reference ~
	        '^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]$'),
	ADD CONSTRAINT signal_cites_signal_id_fkey FOREIGN KEY (cites_signal_id)
	    REFERENCES intake.signal (id),
	ADD CONSTRAINT signal_cites_check CHECK (
	    cites_signal_id IS NULL OR (cites_reference IS NOT NULL
	        AND cites_signal_id <> id));
CREATE INDEX signal_cites_signal_id_idx ON intake.signal (cites_signal_id)
    WHERE cites_signal_id IS NOT NULL;
COMMENT ON COLUMN intake.signal.cites_reference IS
    'The reference of an earlier signal (an anonymous notification) the '
    'reporter cited, normal form; whether it names one is not told.';
COMMENT ON COLUMN intake.signal.cites_signal_id IS
    'The signal cites_reference names, if any (statistics: '
    'notifications_became_case).';

-- The signal a cited reference names, past row-level security (a
-- notification of another agency can be cited: the person may have
-- gone to another reporter).  NULL when none.
CREATE FUNCTION care.reference_signal(p_reference text) RETURNS uuid
LANGUAGE sql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT s.id FROM intake.signal s WHERE s.reference = p_reference
$$;
COMMENT ON FUNCTION care.reference_signal(text) IS
    'The id of the signal with this reference (SECURITY DEFINER, past '
    'row-level security), for api.intake''s cites_signal_id only.';
REVOKE ALL ON FUNCTION care.reference_signal(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.reference_signal(text) TO nrm_reporter;
-- The statistics count the notifications a later case cited
-- (notifications_became_case, sql/api/75_statistics.sql).
GRANT SELECT (cites_signal_id) ON intake.signal TO nrm_statistician;
