-- 0028_inbox_order.sql - the inbox watermark without the national inbox
-- lock (issue 16): every entry into an inbox records the entering
-- transaction's id (care.case.inbox_xid), and the long-poll watermark
-- becomes a snapshot of those ids (care.inbox_mark) instead of the
-- highest inbox_seq, so entries no longer commit one at a time.
-- docs/inbox.md has the design and its proof.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  The new bodies of care.next_inbox_seq and
-- care.case_inbox_entry (0004) and of api.inbox and
-- api.inbox_wakeup_check stand in sql/api/30_cases.sql.

-- ---------------------------------------------------------------------
-- care.case.inbox_xid: who made the latest entry.
-- ---------------------------------------------------------------------
ALTER TABLE care.case ADD COLUMN inbox_xid xid8;
-- The cases that exist entered with this migration: a watermark taken
-- before it commits (none survives it: their form changed) sees them
-- as new, one taken after it as seen.
UPDATE care.case SET inbox_xid = pg_catalog.pg_current_xact_id();
ALTER TABLE care.case ALTER COLUMN inbox_xid SET NOT NULL;
COMMENT ON COLUMN care.case.inbox_xid IS
    'The transaction (pg_current_xact_id) that made the case''s latest '
    'inbox entry, set with inbox_seq by the case_inbox_entry trigger '
    'only.  The long-poll watermark is a snapshot of these ids '
    '(care.inbox_mark, docs/inbox.md): an entry is new to a watermark '
    'when its transaction is not visible in it.';
COMMENT ON COLUMN care.case.inbox_seq IS
    'Position in the inbox order: drawn when the case is created and '
    'again every time it enters an inbox (routed, declined back, '
    'transferred, escalated, reopened).  Set by the case_inbox_entry '
    'trigger only; a value the writer supplies is replaced.  Unique, '
    'the last column of the keyset; since 0028 NOT in commit order (no '
    'lock): the watermark uses inbox_xid.';
COMMENT ON SEQUENCE care.case_inbox_seq IS
    'Source of care.case.inbox_seq; drawn only by care.next_inbox_seq(). '
    'Values are unique, not in commit order (0028 dropped the lock).';

-- The assessor reads the case item (care.case_item, security_invoker)
-- column by column (0004): the new column too, as it reads inbox_seq.
GRANT SELECT (inbox_xid) ON care.case TO nrm_assessor;

-- "Newer than the watermark" and the watermark itself: the latest
-- entries per region, by transaction id, then inbox_seq.
CREATE INDEX case_region_inbox_xid_idx ON care.case (region_code,
    inbox_xid, inbox_seq);

-- ---------------------------------------------------------------------
-- The watermark's form changed (a snapshot, text): the long-poll entry
-- points take it as text.  Their bodies stand in sql/api/30_cases.sql,
-- their door rows in sql/api/99_doors.sql.
-- ---------------------------------------------------------------------
DROP FUNCTION IF EXISTS api.inbox(bytea, text, inet, text, text, jsonb, bigint,
    integer, boolean);
DROP FUNCTION IF EXISTS api.inbox_wakeup_check(bytea, text, inet, bigint);

-- ---------------------------------------------------------------------
-- The inbox item (the view as 0021 and 0027 left it) gains inbox_xid, last (a
-- view keeps its columns in place), for "newer than the watermark".
-- Its timestamps are written with to_char inline rather than through
-- api.rfc3339: a function with a SET clause is never inlined, and the
-- item called it seven times per row (issue 16, docs/performance.md).
-- The text is the same (tests/db/50_inbox.sql compares the two).
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
        'take_by', pg_catalog.to_char(c.take_by AT TIME ZONE 'UTC',
            'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'first_contact_by', pg_catalog.to_char(c.first_contact_by
            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'first_contact_at', pg_catalog.to_char(c.first_contact_at
            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'first_contact_in_time', c.first_contact_at <= c.first_contact_by,
        'first_contact_escalated', c.first_contact_escalated_at IS NOT NULL,
        'transfer', CASE WHEN c.transfer_to IS NOT NULL THEN
            pg_catalog.jsonb_build_object('to_region', c.transfer_to,
                'reason', c.transfer_reason,
                'requested_at', pg_catalog.to_char(c.transfer_requested_at
                    AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'answer_by', pg_catalog.to_char(c.transfer_answer_by
                    AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) END,
        'minor', s.minor,
        'exploitation', pg_catalog.to_jsonb(s.exploitation),
        'urgency', pg_catalog.jsonb_build_object(
            'immediate_danger', s.immediate_danger,
            'needs_shelter', s.needs_shelter),
        'declines', c.declines,
        'escalated', c.escalated_at IS NOT NULL,
        'closed_reason', c.closed_reason,
        'created_at', pg_catalog.to_char(c.created_at AT TIME ZONE 'UTC',
            'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'version', c.version,
        -- 0027's follow-ups from the reporter
        'followups', c.followups,
        'last_followup_at', pg_catalog.to_char(c.last_followup_at
            AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) AS item,
    c.transfer_to,
    c.inbox_xid
FROM care.case c
JOIN intake.signal s ON s.id = c.signal_id
LEFT JOIN auth.api_key k ON k.id = c.holder_key_id
LEFT JOIN auth.agency a ON a.id = k.agency_id;

-- ---------------------------------------------------------------------
-- Row-level security reads the caller's scope once per statement
-- (issue 16, docs/performance.md).  The policies compared each row with
-- string_to_array(current_setting('nrm.regions', true), ',') and
-- NULLIF(current_setting('nrm.x', true), '')::uuid, evaluated again for
-- every row (and for every row of every EXISTS they run).  Each such
-- expression becomes a scalar subquery of itself: the same value (the
-- settings do not change within a statement), computed once as an
-- InitPlan, and an index condition where it compares an indexed
-- column.  Same policies, same roles, same rows; only the expressions
-- are wrapped.
-- ---------------------------------------------------------------------
-- A policy expression (pg_policies' text) with each scope read wrapped
-- in a scalar subquery (the array one cast, or "= ANY ((SELECT ...))"
-- would read as ANY over the subquery's rows).  Used here only, then
-- dropped.
CREATE FUNCTION care.scope_hoisted(p_expr text) RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.regexp_replace(pg_catalog.regexp_replace(p_expr,
	    'string_to_array\(current_setting\(''(nrm\.[a-z_]+)''::text, '
	    'true\), '',''::text\)',
	    '( SELECT string_to_array(current_setting(''\1''::text, true), '
	    ''',''::text))::text[]', 'g'),
	    '\(NULLIF\(current_setting\(''(nrm\.[a-z_]+)''::text, true\), '
	    '''''::text\)\)::uuid',
	    '( SELECT (NULLIF(current_setting(''\1''::text, true), '
	    '''''::text))::uuid)', 'g')
$$;
DO $hoist$
DECLARE
	v record;
	v_sql text;
BEGIN
	FOR v IN
		SELECT p.schemaname, p.tablename, p.policyname,
		    p.qual, p.with_check
		FROM pg_catalog.pg_policies p
		WHERE p.qual ~ 'current_setting\(''nrm\.'
		   OR p.with_check ~ 'current_setting\(''nrm\.'
	LOOP
		v_sql := pg_catalog.format('ALTER POLICY %I ON %I.%I',
		    v.policyname, v.schemaname, v.tablename);
		IF v.qual IS NOT NULL THEN
			v_sql := v_sql || ' USING (' || care.scope_hoisted(v.qual)
			    || ')';
		END IF;
		IF v.with_check IS NOT NULL THEN
			v_sql := v_sql || ' WITH CHECK ('
			    || care.scope_hoisted(v.with_check) || ')';
		END IF;
		EXECUTE v_sql;
	END LOOP;
END
$hoist$;
DROP FUNCTION care.scope_hoisted(text);
