-- 0030_case_item_stored.sql - the inbox item is written when its case is
-- written, not at every read (issue 16, docs/performance.md "The inbox
-- item, written once").  Half of an inbox page's database CPU was
-- building its 50 items (jsonb_build_object of 22 members, seven
-- timestamps written with to_char, the joins with the signal, with the
-- signal's row-level-security check per item, and with the holder's
-- agency), and a case is read in an inbox far more often than it
-- changes.  care.case.item now holds the item as json, set by a BEFORE
-- INSERT OR UPDATE trigger from the row being written, its signal and its
-- holder's agency: the one place the item is built.  The view
-- care.case_item reads it (as jsonb, the type its readers have always
-- had), and api.inbox writes the stored text into the page.
--
-- What the item reads outside the case is kept in step by triggers of
-- its own: the signal's facts (reference, minor, exploitation,
-- immediate_danger, needs_shelter), the holder key's agency and that
-- agency's name.  Every pgTAP file that writes cases ends by checking
-- each item against its definition (tests/db/case_item_ref.psql;
-- tests/db/58_case_item_stored.sql tests the triggers), and the e2e
-- suite checks every case it made (tests/e2e/conftest.py).
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.

ALTER TABLE care.case ADD COLUMN item json;
COMMENT ON COLUMN care.case.item IS
    'The case''s inbox item (docs/sql-api.md, "The inbox item") as json, '
    'written by the case_item trigger from the row, its signal and its '
    'holder''s agency whenever the case is written; never by a caller '
    '(a value the writer supplies is replaced).  Read through the view '
    'care.case_item, or as text by api.inbox.';

/*
 * BEFORE INSERT OR UPDATE on care.case: NEW.item from NEW, the signal's
 * facts and the holder key's agency name.  SECURITY DEFINER (the
 * owner's, past row-level security): every writer of a case (the
 * coordinator, the sweeper, the privacy officer, nrmctl) gets the same
 * item whatever it may read itself.  Named to sort after
 * case_inbox_entry, which sets declines and followups on INSERT
 * (triggers of one timing fire in name order).  The item's members,
 * their order and their text are those of the view 0028 built; jsonb
 * readers see the same value (tests/db/58_case_item_stored.sql).
 */
CREATE FUNCTION care.case_item_fill() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	v_agency text;
BEGIN
	SELECT x.reference, x.minor, x.exploitation, x.immediate_danger,
	    x.needs_shelter
	INTO s
	FROM intake.signal x
	WHERE x.id = NEW.signal_id;
	SELECT a.name INTO v_agency
	FROM auth.api_key k
	JOIN auth.agency a ON a.id = k.agency_id
	WHERE k.id = NEW.holder_key_id;
	NEW.item := pg_catalog.json_build_object(
	    'case_id', NEW.id,
	    'reference', s.reference,
	    'region', NEW.region_code,
	    'priority', NEW.priority,
	    'state', NEW.state,
	    'holder', NEW.holder_key_id,
	    'holder_agency', v_agency,
	    'take_by', pg_catalog.to_char(NEW.take_by AT TIME ZONE 'UTC',
	        'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    'first_contact_by', pg_catalog.to_char(NEW.first_contact_by
	        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    'first_contact_at', pg_catalog.to_char(NEW.first_contact_at
	        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    'first_contact_in_time',
	        NEW.first_contact_at <= NEW.first_contact_by,
	    'first_contact_escalated',
	        NEW.first_contact_escalated_at IS NOT NULL,
	    'transfer', CASE WHEN NEW.transfer_to IS NOT NULL THEN
	        pg_catalog.json_build_object('to_region', NEW.transfer_to,
	            'reason', NEW.transfer_reason,
	            'requested_at', pg_catalog.to_char(
	                NEW.transfer_requested_at AT TIME ZONE 'UTC',
	                'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	            'answer_by', pg_catalog.to_char(NEW.transfer_answer_by
	                AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) END,
	    'minor', s.minor,
	    'exploitation', pg_catalog.to_json(s.exploitation),
	    'urgency', pg_catalog.json_build_object(
	        'immediate_danger', s.immediate_danger,
	        'needs_shelter', s.needs_shelter),
	    'declines', NEW.declines,
	    'escalated', NEW.escalated_at IS NOT NULL,
	    'closed_reason', NEW.closed_reason,
	    'created_at', pg_catalog.to_char(NEW.created_at AT TIME ZONE 'UTC',
	        'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    'version', NEW.version,
	    'followups', NEW.followups,
	    'last_followup_at', pg_catalog.to_char(NEW.last_followup_at
	        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION care.case_item_fill() IS
    'Trigger: care.case.item, the case''s inbox item, from the row, its '
    'signal''s facts and its holder''s agency (the one place the item is '
    'built).';
REVOKE ALL ON FUNCTION care.case_item_fill() FROM PUBLIC;
CREATE TRIGGER case_item BEFORE INSERT OR UPDATE ON care.case
FOR EACH ROW EXECUTE FUNCTION care.case_item_fill();
COMMENT ON TRIGGER case_item ON care.case IS
    'Writes care.case.item (care.case_item_fill) after case_inbox_entry.';

/*
 * AFTER UPDATE of what an item shows of another table: the items of the
 * cases concerned are written again (an UPDATE that sets item, which the
 * case_item trigger replaces; no other trigger of care.case reacts to
 * it: the state, region, counts and inbox_seq stay as they are).
 * SECURITY DEFINER for the same reason as care.case_item_fill.  The
 * signal's facts do not change after intake today (0021 set the
 * references of the signals before it); the holder agency's name does
 * when an agency is renamed.
 */
CREATE FUNCTION care.case_item_refresh() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_TABLE_SCHEMA = 'intake' AND TG_TABLE_NAME = 'signal' THEN
		UPDATE care.case c SET item = NULL WHERE c.signal_id = NEW.id;
	ELSIF TG_TABLE_SCHEMA = 'auth' AND TG_TABLE_NAME = 'api_key' THEN
		UPDATE care.case c SET item = NULL
		WHERE c.holder_key_id = NEW.id;
	ELSIF TG_TABLE_SCHEMA = 'auth' AND TG_TABLE_NAME = 'agency' THEN
		UPDATE care.case c SET item = NULL
		WHERE c.holder_key_id IN (SELECT k.id FROM auth.api_key k
		    WHERE k.agency_id = NEW.id);
	ELSE
		RAISE EXCEPTION 'care.case_item_refresh: not a trigger of %.%',
		    TG_TABLE_SCHEMA, TG_TABLE_NAME;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION care.case_item_refresh() IS
    'Trigger: writes again the items (care.case.item) of the cases whose '
    'signal''s facts, holder key''s agency or holder agency''s name changed.';
REVOKE ALL ON FUNCTION care.case_item_refresh() FROM PUBLIC;
CREATE TRIGGER signal_case_item AFTER UPDATE OF reference, minor,
    exploitation, immediate_danger, needs_shelter ON intake.signal
FOR EACH ROW
WHEN (OLD.reference IS DISTINCT FROM NEW.reference
    OR OLD.minor IS DISTINCT FROM NEW.minor
    OR OLD.exploitation IS DISTINCT FROM NEW.exploitation
    OR OLD.immediate_danger IS DISTINCT FROM NEW.immediate_danger
    OR OLD.needs_shelter IS DISTINCT FROM NEW.needs_shelter)
EXECUTE FUNCTION care.case_item_refresh();
COMMENT ON TRIGGER signal_case_item ON intake.signal IS
    'The items of the signal''s case follow its facts (care.case_item_refresh).';
CREATE TRIGGER api_key_case_item AFTER UPDATE OF agency_id ON auth.api_key
FOR EACH ROW WHEN (OLD.agency_id IS DISTINCT FROM NEW.agency_id)
EXECUTE FUNCTION care.case_item_refresh();
COMMENT ON TRIGGER api_key_case_item ON auth.api_key IS
    'The items of the cases the key holds name its agency '
    '(care.case_item_refresh).';
CREATE TRIGGER agency_case_item AFTER UPDATE OF name ON auth.agency
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
EXECUTE FUNCTION care.case_item_refresh();
COMMENT ON TRIGGER agency_case_item ON auth.agency IS
    'The items of the cases the agency''s keys hold name it '
    '(care.case_item_refresh).';

-- The cases that exist: each written once more, so the trigger fills its
-- item (no other trigger reacts: see care.case_item_refresh).
UPDATE care.case SET item = NULL;
ALTER TABLE care.case ALTER COLUMN item SET NOT NULL;

-- The readers of care.case_item read the column through the view
-- (security_invoker); the privacy officer reads all of care.case (0019).
GRANT SELECT (item) ON care.case TO nrm_coordinator, nrm_assessor;

-- ---------------------------------------------------------------------
-- The view reads the stored item.  Its columns stay as they were (a view
-- keeps its columns in place); it no longer joins the signal, the key and
-- the agency, whose facts the item holds.  The signal's join was also a
-- filter: a case whose signal the reader may not see.  Every case has its
-- signal (a foreign key, NOT NULL), and each reader of the view sees the
-- signal of every case it sees (intake.signal's policies: the
-- coordinator by the case's own visibility, the assessor and the privacy
-- officer all), so the rows are the same.
-- ---------------------------------------------------------------------
CREATE OR REPLACE VIEW care.case_item WITH (security_invoker = true) AS
SELECT c.id, c.region_code, c.state, c.priority,
    CASE c.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END
        AS prio_rank,
    c.take_by, c.inbox_seq,
    c.item::jsonb AS item,
    c.transfer_to,
    c.inbox_xid
FROM care.case c;
COMMENT ON VIEW care.case_item IS
    'The inbox item of each case the reader may see (security_invoker): '
    'care.case.item as jsonb, with the columns of the inbox''s order and '
    'filters.';
