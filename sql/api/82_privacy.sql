-- 82_privacy.sql - api functions of retention and the data subject's
-- rights (issue 15, docs/data-protection.md "Retention and erasure"):
-- the retention job nrmd runs, nrmctl retention status, and the privacy
-- officer's export (art. 15, 20), rectification (art. 16) and erasure
-- (art. 17).  A repeatable file (docs/sql-api.md, "Migrations"); the
-- tables, roles and policies are in 0019_privacy.sql.
--
-- Erasure is crypto-shredding: the signal's data keys are destroyed
-- (wrapped := NULL) and its ciphertexts, legacy plaintexts and pseudonym
-- cleared, in one transaction, by care.erase_signal (SECURITY DEFINER,
-- owned by nrm_privacy).  What stays is non-personal: the signal's facts
-- (statistics count it), the case's state and history, the audit log.

/* The art. 17 grounds an erasure on request may give (documented in
 * docs/data-protection.md, "Erasure grounds"). */
CREATE OR REPLACE FUNCTION care.erasure_grounds() RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['no_longer_necessary', 'consent_withdrawn', 'objection',
	    'unlawfully_processed', 'legal_obligation',
	    'child_information_society']::text[]
$$;
COMMENT ON FUNCTION care.erasure_grounds() IS
    'The art. 17(1) GDPR grounds of an erasure on request, (a) to (f) in '
    'order (care.erasure.ground also takes retention).';

/* The subject fields a privacy officer may rectify, their byte limits. */
CREATE OR REPLACE FUNCTION care.subject_fields() RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['given_name', 'family_name', 'birth_date', 'phone',
	    'address', 'narrative']::text[]
$$;
COMMENT ON FUNCTION care.subject_fields() IS
    'The personal-data fields of care.subject (each sealed in <name>_ct).';

/*
 * {"erased": {"at", "ground"}} of the case p_case_id when its personal
 * data were erased, else {}.  Read with the caller's privileges.
 */
CREATE OR REPLACE FUNCTION care.erasure_json(p_case_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT COALESCE((SELECT pg_catalog.jsonb_build_object('erased',
	    pg_catalog.jsonb_build_object('at', api.rfc3339(e.at),
	        'ground', e.ground))
	    FROM care.erasure e WHERE e.case_id = p_case_id), '{}'::jsonb)
$$;
COMMENT ON FUNCTION care.erasure_json(uuid) IS
    'The "erased" member of a case read: when and on which ground its '
    'personal data were erased, or {} (no personal data).';
REVOKE ALL ON FUNCTION care.erasure_json(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.erasure_json(uuid) TO nrm_coordinator,
    nrm_assessor, nrm_privacy;

/*
 * The investigation track's part of an erasure (0025): destroy the data
 * keys of the investigation records about the signal p_signal_id or the
 * case p_case_id (any agency) and clear their references, sealed and
 * plaintext.  SECURITY DEFINER owned by nrm_invest_eraser, which may
 * read the records' ids only: the caller (care.erase_signal, as
 * nrm_privacy) learns how many records it shredded, nothing of them.
 * The records keep their non-personal facts (status, report filed).
 */
CREATE OR REPLACE FUNCTION invest.erase_signal(p_signal_id uuid,
    p_case_id uuid) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n integer;
BEGIN
	UPDATE invest.record SET police_reference = NULL,
	    prosecution_reference = NULL, police_reference_ct = NULL,
	    prosecution_reference_ct = NULL
	WHERE signal_id = p_signal_id
	   OR (p_case_id IS NOT NULL AND case_id = p_case_id);
	GET DIAGNOSTICS v_n = ROW_COUNT;
	UPDATE invest.data_key SET wrapped = NULL,
	    destroyed_at = pg_catalog.now()
	WHERE destroyed_at IS NULL AND record_id IN (SELECT r.id
	    FROM invest.record r WHERE r.signal_id = p_signal_id
	       OR (p_case_id IS NOT NULL AND r.case_id = p_case_id));
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION invest.erase_signal(uuid, uuid) IS
    'Crypto-shred the references of the investigation records about an '
    'erased signal or case (their data keys destroyed, references '
    'cleared); how many records.  SECURITY DEFINER owned by '
    'nrm_invest_eraser; called by care.erase_signal.';
REVOKE ALL ON FUNCTION invest.erase_signal(uuid, uuid) FROM PUBLIC;
GRANT CREATE ON SCHEMA invest TO nrm_invest_eraser;
ALTER FUNCTION invest.erase_signal(uuid, uuid) OWNER TO nrm_invest_eraser;
REVOKE CREATE ON SCHEMA invest FROM nrm_invest_eraser;
GRANT USAGE ON SCHEMA invest TO nrm_privacy;
GRANT EXECUTE ON FUNCTION invest.erase_signal(uuid, uuid) TO nrm_privacy;

/*
 * Erase the personal data of the signal p_signal_id (and of its case
 * p_case_id, NULL for an anonymous notification): destroy every data
 * key of the signal (its subject's and reporter reference's, and those
 * of the case's identification entries), clear the ciphertexts, the
 * plaintexts stored before 0017, the pseudonym and the sealed old values
 * of rectifications, shred the references of the investigation records
 * about them (invest.erase_signal, 0025), and record the erasure.  False
 * (and nothing done) when the signal was erased already, or, for the
 * schedule (ground retention), when its case is no longer closed
 * (reopened since the schedule found it due: the signal's lock (15,
 * hashtext(signal id)), which a reopening takes too, orders the two).
 * The caller audits.
 */
CREATE OR REPLACE FUNCTION care.erase_signal(p_signal_id uuid,
    p_case_id uuid, p_ground text, p_key_id uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- the signal's erasure lock, which a reopening takes too: the
	-- schedule erases a case only while it is still closed
	PERFORM pg_catalog.pg_advisory_xact_lock(15,
	    pg_catalog.hashtext(p_signal_id::text));
	IF p_ground = 'retention' AND p_case_id IS NOT NULL
	    AND NOT EXISTS (SELECT 1 FROM care.case c
	        WHERE c.id = p_case_id AND c.state = 'closed') THEN
		RETURN false;
	END IF;
	INSERT INTO care.erasure (signal_id, case_id, ground, api_key_id)
	VALUES (p_signal_id, p_case_id, p_ground, p_key_id)
	ON CONFLICT (signal_id) DO NOTHING;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	UPDATE care.subject SET given_name = NULL, family_name = NULL,
	    birth_date = NULL, phone = NULL, address = NULL, narrative = NULL,
	    given_name_ct = NULL, family_name_ct = NULL, birth_date_ct = NULL,
	    phone_ct = NULL, address_ct = NULL, narrative_ct = NULL,
	    pseudonym = NULL
	WHERE signal_id = p_signal_id;
	UPDATE intake.signal SET reporter_reference = NULL,
	    reporter_reference_ct = NULL
	WHERE id = p_signal_id
	  AND (reporter_reference IS NOT NULL
	       OR reporter_reference_ct IS NOT NULL);
	IF p_case_id IS NOT NULL THEN
		UPDATE ident.decision SET rationale = NULL, rationale_ct = NULL
		WHERE case_id = p_case_id
		  AND (rationale IS NOT NULL OR rationale_ct IS NOT NULL);
	END IF;
	UPDATE care.rectification SET old_ct = NULL
	WHERE signal_id = p_signal_id AND old_ct IS NOT NULL;
	UPDATE care.data_key SET wrapped = NULL, destroyed_at = pg_catalog.now()
	WHERE signal_id = p_signal_id AND wrapped IS NOT NULL;
	-- the investigation records about it (0025), without reading them
	PERFORM invest.erase_signal(p_signal_id, p_case_id);
	RETURN true;
END
$$;
COMMENT ON FUNCTION care.erase_signal(uuid, uuid, text, uuid) IS
    'Crypto-shred one signal''s personal data (its data keys destroyed, '
    'ciphertexts, plaintexts, pseudonym and rectified old values cleared) '
    'and record the erasure; false when erased already.  SECURITY '
    'DEFINER owned by nrm_privacy; the caller audits.';

/*
 * What the schedule makes due, erased or not yet: each closed case
 * (its closing: the newest "closed" history entry) after p_after_close
 * seconds, or p_by_reason->>closed_reason seconds when that is set;
 * each merged case when the closed case at the end of its merge chain
 * is due (0026: erased with its target); and
 * each anonymous notification that holds personal data (a data key)
 * p_anonymous seconds after it was received.  Not yet erased only.
 */
CREATE OR REPLACE FUNCTION care.retention_due(p_after_close integer,
    p_by_reason jsonb, p_anonymous integer)
RETURNS TABLE (kind text, signal_id uuid, case_id uuid,
    due_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	-- a merged case goes with the case at the end of its merge chain
	-- (0026): root is the case whose closing makes it due
	WITH RECURSIVE chain (id, signal_id, root, depth) AS (
		SELECT c.id, c.signal_id, c.id, 0
		FROM care.case c WHERE c.state IN ('closed', 'merged')
		UNION ALL
		SELECT ch.id, ch.signal_id, t.merged_into, ch.depth + 1
		FROM chain ch JOIN care.case t ON t.id = ch.root
		WHERE t.state = 'merged' AND ch.depth < 1000
	)
	SELECT 'case', ch.signal_id, ch.id,
	    h.closed_at + pg_catalog.make_interval(secs => COALESCE(
	        (p_by_reason->>r.closed_reason)::integer, p_after_close))
	FROM chain ch
	JOIN care.case r ON r.id = ch.root
	CROSS JOIN LATERAL (SELECT pg_catalog.max(h.at) AS closed_at
	    FROM care.case_history h
	    WHERE h.case_id = r.id AND h.action = 'closed') h
	WHERE r.state = 'closed' AND h.closed_at IS NOT NULL
	  AND NOT EXISTS (SELECT 1 FROM care.erasure e
	      WHERE e.signal_id = ch.signal_id)
	UNION ALL
	SELECT 'notification', s.id, NULL::uuid,
	    s.received_at + pg_catalog.make_interval(secs => p_anonymous)
	FROM intake.signal s
	WHERE s.notification_only AND s.data_key_id IS NOT NULL
	  AND NOT EXISTS (SELECT 1 FROM care.erasure e
	      WHERE e.signal_id = s.id)
$$;
COMMENT ON FUNCTION care.retention_due(integer, jsonb, integer) IS
    'Every signal the retention schedule will erase, with when: closed '
    'cases after p_after_close seconds (or p_by_reason''s seconds for '
    'their closing reason), anonymous notifications holding personal '
    'data p_anonymous seconds after receipt.  SECURITY DEFINER owned by '
    'nrm_privacy.';

/*
 * The retention job (nrmd, every retention_interval, as nrm_app): record
 * the schedule nrmd runs with, then erase up to p_limit due signals,
 * oldest due first, each one audit event privacy.erase (reason
 * retention, no principal, object the case or the notification's
 * signal).  One daemon at a time (a transaction-level advisory lock,
 * key 4, 19: the others answer busy).
 */
CREATE OR REPLACE FUNCTION care.retention_run(p_after_close integer,
    p_by_reason jsonb, p_anonymous integer, p_limit integer)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v record;
	v_cases integer := 0;
	v_notes integer := 0;
	v_key text;
BEGIN
	IF p_after_close IS NULL OR p_after_close < 1 OR p_anonymous IS NULL
	    OR p_anonymous < 1 OR p_limit IS NULL OR p_limit < 1
	    OR p_limit > 10000 OR p_by_reason IS NULL
	    OR pg_catalog.jsonb_typeof(p_by_reason) <> 'object' THEN
		RAISE EXCEPTION 'retention_run: periods and limit must be '
		    'positive, by_reason an object'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR v_key IN SELECT pg_catalog.jsonb_object_keys(p_by_reason) LOOP
		IF NOT care.reason_allowed('close', v_key)
		    OR pg_catalog.jsonb_typeof(p_by_reason->v_key) <> 'number'
		    OR (p_by_reason->>v_key)::numeric < 1 THEN
			RAISE EXCEPTION 'retention_run: by_reason has no '
			    'closing reason %', v_key
			    USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	IF NOT pg_catalog.pg_try_advisory_xact_lock(4, 19) THEN
		RETURN pg_catalog.jsonb_build_object('erased', 0,
		    'busy', true);
	END IF;
	INSERT INTO care.retention_schedule AS r (id, after_close, by_reason,
	    anonymous, seen_at)
	VALUES (true, p_after_close, p_by_reason, p_anonymous,
	    pg_catalog.now())
	ON CONFLICT (id) DO UPDATE SET after_close = EXCLUDED.after_close,
	    by_reason = EXCLUDED.by_reason, anonymous = EXCLUDED.anonymous,
	    seen_at = EXCLUDED.seen_at;
	FOR v IN SELECT d.* FROM care.retention_due(p_after_close,
	    p_by_reason, p_anonymous) d
	    WHERE d.due_at <= pg_catalog.now()
	    ORDER BY d.due_at, d.signal_id LIMIT p_limit
	LOOP
		CONTINUE WHEN NOT care.erase_signal(v.signal_id, v.case_id,
		    'retention', NULL);
		PERFORM api.audit(NULL, NULL, NULL, 'privacy.erase',
		    CASE WHEN v.case_id IS NULL THEN 'signal' ELSE 'case' END,
		    COALESCE(v.case_id, v.signal_id)::text, 'data_protection',
		    'allowed', 'retention', NULL, NULL);
		IF v.case_id IS NULL THEN
			v_notes := v_notes + 1;
		ELSE
			v_cases := v_cases + 1;
		END IF;
	END LOOP;
	RETURN pg_catalog.jsonb_build_object('erased', v_cases + v_notes,
	    'cases', v_cases, 'notifications', v_notes);
END
$$;
COMMENT ON FUNCTION care.retention_run(integer, jsonb, integer, integer) IS
    'The retention job: record the schedule, erase up to p_limit due '
    'signals (care.erase_signal), one audit event privacy.erase each '
    '(reason retention).  {"erased", "cases", "notifications"} or '
    '{"erased": 0, "busy": true}.  SECURITY DEFINER owned by nrm_privacy.';

CREATE OR REPLACE FUNCTION api.retention_run(p_after_close integer,
    p_by_reason jsonb, p_anonymous integer, p_limit integer)
RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.scope_clear();
	SELECT care.retention_run(p_after_close, p_by_reason, p_anonymous,
	    p_limit)
$$;
COMMENT ON FUNCTION api.retention_run(integer, jsonb, integer, integer) IS
    'Called by nrmd''s retention job as nrm_app (no token): '
    'care.retention_run with the configured schedule (seconds).';

/*
 * nrmctl retention status (as the owner): the schedule nrmd last ran
 * with, how many signals are due now, the next ones to come due (at
 * most p_next), and how many were erased, by the schedule and on
 * request.  {"schedule": null, ...} before nrmd's first run.
 */
CREATE OR REPLACE FUNCTION care.retention_status(p_next integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_s care.retention_schedule;
	v jsonb;
BEGIN
	SELECT * INTO v_s FROM care.retention_schedule WHERE id;
	v := pg_catalog.jsonb_build_object(
	    'erased_retention', (SELECT pg_catalog.count(*)
	        FROM care.erasure WHERE ground = 'retention'),
	    'erased_on_request', (SELECT pg_catalog.count(*)
	        FROM care.erasure WHERE ground <> 'retention'));
	IF NOT FOUND THEN
		RETURN v || '{"schedule": null}'::jsonb;
	END IF;
	RETURN v || pg_catalog.jsonb_build_object(
	    'schedule', pg_catalog.jsonb_build_object(
	        'after_close', v_s.after_close, 'by_reason', v_s.by_reason,
	        'anonymous', v_s.anonymous,
	        'seen_at', api.rfc3339(v_s.seen_at)),
	    'due_now', (SELECT pg_catalog.jsonb_build_object(
	        'cases', pg_catalog.count(*) FILTER (WHERE d.kind = 'case'),
	        'notifications',
	        pg_catalog.count(*) FILTER (WHERE d.kind = 'notification'))
	        FROM care.retention_due(v_s.after_close, v_s.by_reason,
	            v_s.anonymous) d WHERE d.due_at <= pg_catalog.now()),
	    'next', COALESCE((SELECT pg_catalog.jsonb_agg(
	        pg_catalog.jsonb_build_object('kind', n.kind,
	            'id', COALESCE(n.case_id, n.signal_id),
	            'due_at', api.rfc3339(n.due_at)) ORDER BY n.due_at)
	        FROM (SELECT d.* FROM care.retention_due(v_s.after_close,
	            v_s.by_reason, v_s.anonymous) d
	            WHERE d.due_at > pg_catalog.now()
	            ORDER BY d.due_at LIMIT p_next) n), '[]'::jsonb));
END
$$;
COMMENT ON FUNCTION care.retention_status(integer) IS
    'nrmctl retention status: the schedule nrmd last ran with, the '
    'signals due now, the next p_next to come due, the erasures so far.  '
    'Ids and times only.';

/*
 * The care work of one case as the export carries it: {"notes": [...],
 * "followups": [...], "support": [...]}, oldest first.  A note is care.note_json without
 * its author's key id ("by": the export names people by role only,
 * "author_role"), with corrects and corrected_by; a follow-up is
 * care.followup_json with "author_role": "reporter" (never the
 * reporter's key).  Each text sealed for nrmd.  Of an erased case
 * (p_erased) the items keep their dates and roles and "text": null,
 * nothing sealed: the keys are gone, the case's "erased" says so.  The
 * support plan holds codes and dates only (no free text, nothing
 * sealed), still the person's data (the care they receive): each item
 * care.support_json without "created_by" (a key id), erased or not.
 * SECURITY DEFINER owned by the owner (both tables are the
 * coordinators' under row-level security): nrm_privacy alone may
 * execute it, from care.privacy_case_json.
 */
CREATE OR REPLACE FUNCTION care.privacy_care_json(p_case_id uuid,
    p_erased boolean) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object(
	    'notes', COALESCE((SELECT pg_catalog.jsonb_agg(
	        care.note_json(n, x.id) - 'by'
	            - CASE WHEN p_erased THEN 'sealed' ELSE '' END
	        ORDER BY n.at, n.id)
	        FROM care.case_note n
	        LEFT JOIN care.case_note x ON x.corrects = n.id
	        WHERE n.case_id = p_case_id), '[]'::jsonb),
	    'followups', COALESCE((SELECT pg_catalog.jsonb_agg(
	        (care.followup_json(f) || '{"author_role": "reporter"}')
	            - CASE WHEN p_erased THEN 'sealed' ELSE '' END
	        ORDER BY f.at, f.id)
	        FROM care.signal_followup f
	        WHERE f.case_id = p_case_id), '[]'::jsonb),
	    'support', COALESCE((SELECT pg_catalog.jsonb_agg(
	        care.support_json(i) - 'created_by'
	        ORDER BY i.requested_on, i.created_at, i.id)
	        FROM care.support_item i WHERE i.case_id = p_case_id),
	        '[]'::jsonb))
$$;
COMMENT ON FUNCTION care.privacy_care_json(uuid, boolean) IS
    'The notes, follow-ups and support plan of one case for a subject '
    'export (PERSONAL '
    'DATA, sealed for nrmd; dates and roles only when p_erased).  '
    'SECURITY DEFINER owned by the owner; nrm_privacy executes it.';
REVOKE ALL ON FUNCTION care.privacy_care_json(uuid, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.privacy_care_json(uuid, boolean)
    TO nrm_privacy;

/*
 * One case as the export carries it: the case read (care.case_json, its
 * sealed values for nrmd to open), its identification entries (each
 * with its sealed rationale), the rectifications (each old value sealed
 * under "old_value"), its notes and the reporter's follow-ups
 * (care.privacy_care_json), the erasure, and the audit events about the
 * case (codes only: who by role, what, why, when).
 */
CREATE OR REPLACE FUNCTION care.privacy_case_json(p_case_id uuid)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT care.case_json(c.id) || care.erasure_json(c.id)
	    || care.privacy_care_json(c.id, EXISTS (SELECT 1
	        FROM care.erasure e WHERE e.signal_id = c.signal_id))
	    || pg_catalog.jsonb_build_object(
	    'identification', COALESCE((SELECT pg_catalog.jsonb_agg(
	        ident.entry_json(d) ORDER BY d.decided_on, d.recorded_at)
	        FROM ident.decision d WHERE d.case_id = c.id), '[]'::jsonb),
	    'rectifications', COALESCE((SELECT pg_catalog.jsonb_agg(
	        pg_catalog.jsonb_build_object('field', r.field,
	            'old_value', NULL::text, 'ground', r.ground,
	            'at', api.rfc3339(r.at))
	        || CASE WHEN r.old_ct IS NULL THEN '{}'::jsonb ELSE
	            pg_catalog.jsonb_build_object('sealed',
	            pg_catalog.jsonb_build_object(
	                'data_key', care.data_key_json(r.data_key_id),
	                'fields', pg_catalog.jsonb_build_array(
	                    care.sealed_field('old_value',
	                        'care.subject/' || r.field, c.signal_id,
	                        r.old_ct)))) END ORDER BY r.id)
	        FROM care.rectification r WHERE r.signal_id = c.signal_id),
	        '[]'::jsonb),
	    'audit', COALESCE((SELECT pg_catalog.jsonb_agg(
	        pg_catalog.jsonb_build_object('at', api.rfc3339(e.at),
	            'action', e.action, 'role', e.role,
	            'purpose', e.purpose, 'outcome', e.outcome,
	            'reason', e.reason) ORDER BY e.id)
	        FROM (SELECT e.id, e.at, e.action, e.role, e.purpose,
	            e.outcome, e.reason FROM audit.event e
	            WHERE e.object_type = 'case' AND e.object_id = c.id::text
	            ORDER BY e.id LIMIT 5000) e), '[]'::jsonb))
	FROM care.case c WHERE c.id = p_case_id
$$;
COMMENT ON FUNCTION care.privacy_case_json(uuid) IS
    'One case of a subject export (PERSONAL DATA, sealed for nrmd): the '
    'case read, identification entries, rectifications, notes, '
    'follow-ups, erasure and the audit events about the case (at most '
    '5000).  SECURITY DEFINER owned '
    'by nrm_privacy.';

/* The cases whose subject has the pseudonym p_pseudonym (not erased). */
CREATE OR REPLACE FUNCTION care.privacy_cases_of(p_pseudonym bytea)
RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT c.id FROM care.subject s
	JOIN care.case c ON c.signal_id = s.signal_id
	WHERE s.pseudonym = p_pseudonym
	ORDER BY c.created_at, c.id
$$;
COMMENT ON FUNCTION care.privacy_cases_of(bytea) IS
    'The cases of one data subject, found by the keyed pseudonym of name '
    'and birth date (care.subject.pseudonym).  SECURITY DEFINER owned by '
    'nrm_privacy.';

/* Whether the case exists, its signal, and its erasure (NULL if none). */
CREATE OR REPLACE FUNCTION care.privacy_case(p_case_id uuid,
    OUT signal_id uuid, OUT data_key_id uuid, OUT has_subject boolean,
    OUT erased_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT c.signal_id, sub.data_key_id, sub.signal_id IS NOT NULL,
	    e.at
	FROM care.case c
	LEFT JOIN care.subject sub ON sub.signal_id = c.signal_id
	LEFT JOIN care.erasure e ON e.signal_id = c.signal_id
	WHERE c.id = p_case_id
$$;
COMMENT ON FUNCTION care.privacy_case(uuid) IS
    'A case as the privacy officer''s doors check it: its signal, its '
    'subject''s data key, whether it has a subject, when it was erased.  '
    'SECURITY DEFINER owned by nrm_privacy.';

/*
 * The name and birth date of a case's subject, sealed, and its data
 * key: what nrmd needs to seal a rectified value with the case's own
 * key and to recompute the pseudonym.  Never leaves nrmd.
 */
CREATE OR REPLACE FUNCTION care.privacy_rectify_input(p_case_id uuid)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('signal_id', sub.signal_id,
	    'data_key', care.data_key_json(sub.data_key_id),
	    'subject', pg_catalog.jsonb_build_object('given_name', NULL::text,
	        'family_name', NULL::text, 'birth_date', NULL::text),
	    'sealed', pg_catalog.jsonb_build_object(
	        'data_key', care.data_key_json(sub.data_key_id),
	        'fields', COALESCE((SELECT pg_catalog.jsonb_agg(v.f)
	            FROM (VALUES
	            (care.sealed_field('subject.given_name',
	                'care.subject/given_name', sub.signal_id,
	                sub.given_name_ct)),
	            (care.sealed_field('subject.family_name',
	                'care.subject/family_name', sub.signal_id,
	                sub.family_name_ct)),
	            (care.sealed_field('subject.birth_date',
	                'care.subject/birth_date', sub.signal_id,
	                sub.birth_date_ct))) v(f)
	            WHERE v.f IS NOT NULL), '[]'::jsonb)))
	FROM care.case c JOIN care.subject sub ON sub.signal_id = c.signal_id
	WHERE c.id = p_case_id
$$;
COMMENT ON FUNCTION care.privacy_rectify_input(uuid) IS
    'The subject''s sealed name and birth date and its data key, for nrmd '
    'to seal a rectified value and recompute the pseudonym (PERSONAL '
    'DATA, sealed).  SECURITY DEFINER owned by nrm_privacy.';

/*
 * Replace the sealed value of p_field of the case's subject by p_ct
 * (sealed by nrmd with the subject's own data key: its key id is
 * checked), keeping the old one in care.rectification; the pseudonym
 * becomes p_pseudonym when p_set_pseudonym.  The subject row is locked
 * first, so an erasure running at the same time goes first or after.
 * NULL when the case was erased meanwhile; else the rectification's at.
 */
CREATE OR REPLACE FUNCTION care.privacy_rectify(p_case_id uuid,
    p_field text, p_ct bytea, p_pseudonym bytea, p_set_pseudonym boolean,
    p_ground text, p_key_id uuid) RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_sub care.subject;
	v_old bytea;
	v_at timestamptz;
BEGIN
	SELECT sub.* INTO v_sub FROM care.case c
	JOIN care.subject sub ON sub.signal_id = c.signal_id
	WHERE c.id = p_case_id FOR UPDATE OF sub;
	IF NOT FOUND OR EXISTS (SELECT 1 FROM care.erasure e
	    WHERE e.signal_id = v_sub.signal_id) THEN
		RETURN NULL;
	END IF;
	IF v_sub.data_key_id IS NULL OR p_ct IS NULL
	    OR pg_catalog.substr(p_ct, 2, 16)
	        <> pg_catalog.uuid_send(v_sub.data_key_id) THEN
		RAISE EXCEPTION 'a rectified value is sealed with the '
		    'subject''s own data key'
		    USING ERRCODE = 'check_violation';
	END IF;
	EXECUTE pg_catalog.format('SELECT %I FROM care.subject '
	    'WHERE signal_id = $1', p_field || '_ct')
	    INTO v_old USING v_sub.signal_id;
	INSERT INTO care.rectification (signal_id, field, old_ct, data_key_id,
	    ground, api_key_id)
	VALUES (v_sub.signal_id, p_field, v_old,
	    CASE WHEN v_old IS NOT NULL THEN v_sub.data_key_id END, p_ground,
	    p_key_id)
	RETURNING at INTO v_at;
	EXECUTE pg_catalog.format('UPDATE care.subject SET %I = $1, %I = NULL '
	    'WHERE signal_id = $2', p_field || '_ct', p_field)
	    USING p_ct, v_sub.signal_id;
	IF p_set_pseudonym THEN
		UPDATE care.subject SET pseudonym = p_pseudonym
		WHERE signal_id = v_sub.signal_id;
	END IF;
	RETURN v_at;
END
$$;
COMMENT ON FUNCTION care.privacy_rectify(uuid, text, bytea, bytea, boolean,
    text, uuid) IS
    'Rectify one sealed subject field, its old value kept sealed in '
    'care.rectification; the pseudonym too when asked.  NULL when the '
    'case has no subject or was erased.  SECURITY DEFINER owned by '
    'nrm_privacy.';

-- Handed to nrm_privacy (a new owner needs CREATE on the schema).
GRANT CREATE ON SCHEMA care TO nrm_privacy;
ALTER FUNCTION care.erase_signal(uuid, uuid, text, uuid) OWNER TO nrm_privacy;
ALTER FUNCTION care.retention_due(integer, jsonb, integer)
    OWNER TO nrm_privacy;
ALTER FUNCTION care.retention_run(integer, jsonb, integer, integer)
    OWNER TO nrm_privacy;
ALTER FUNCTION care.retention_status(integer) OWNER TO nrm_privacy;
ALTER FUNCTION care.privacy_case_json(uuid) OWNER TO nrm_privacy;
ALTER FUNCTION care.privacy_cases_of(bytea) OWNER TO nrm_privacy;
ALTER FUNCTION care.privacy_case(uuid) OWNER TO nrm_privacy;
ALTER FUNCTION care.privacy_rectify_input(uuid) OWNER TO nrm_privacy;
ALTER FUNCTION care.privacy_rectify(uuid, text, bytea, bytea, boolean, text,
    uuid) OWNER TO nrm_privacy;
REVOKE CREATE ON SCHEMA care FROM nrm_privacy;
REVOKE ALL ON FUNCTION care.erase_signal(uuid, uuid, text, uuid),
    care.retention_due(integer, jsonb, integer),
    care.retention_run(integer, jsonb, integer, integer),
    care.retention_status(integer), care.privacy_case_json(uuid),
    care.privacy_cases_of(bytea), care.privacy_case(uuid),
    care.privacy_rectify_input(uuid),
    care.privacy_rectify(uuid, text, bytea, bytea, boolean, text, uuid),
    api.retention_run(integer, jsonb, integer, integer) FROM PUBLIC;
-- api.retention_run is a door of nrm_privacy (99_doors.sql): nrm_app
-- executes it and nothing else of this file.
GRANT EXECUTE ON FUNCTION api.scope_clear() TO nrm_privacy;
GRANT EXECUTE ON FUNCTION care.erase_signal(uuid, uuid, text, uuid),
    care.privacy_case_json(uuid), care.privacy_cases_of(bytea),
    care.privacy_case(uuid), care.privacy_rectify_input(uuid),
    care.privacy_rectify(uuid, text, bytea, bytea, boolean, text, uuid),
    care.erasure_grounds(), care.subject_fields(),
    care.sealed_ok(bytea, integer) TO nrm_privacy_officer;
-- What nrm_privacy's functions call.
GRANT EXECUTE ON FUNCTION care.case_json(uuid), care.data_key_json(uuid),
    care.sealed_field(text, text, uuid, bytea), care.b64(bytea),
    care.sealed_ok(bytea, integer), ident.entry_json(ident.decision),
    care.reason_allowed(text, text), api.rfc3339(timestamptz),
    api.audit(uuid, uuid, text, text, text, text, text, text, text, text,
        inet)
    TO nrm_privacy;
-- The doors every entry point goes through (10_common.sql), for the
-- privacy officer.
GRANT EXECUTE ON FUNCTION api.problem(integer, text, text, text),
    api.audit(uuid, uuid, text, text, text, text, text, text, text, text,
        inet),
    api.audit_person(uuid, uuid, uuid, text, text, text, text, text, text,
        text, text, inet),
    api.leave(record, jsonb), api.refuse(record, text, text, text, jsonb),
    api.answer(record, text, jsonb), api.rfc3339(timestamptz)
    TO nrm_privacy_officer;

/*
 * GET /v1/privacy/subjects?case=<id> and POST /v1/privacy/subjects
 * (privacy_officer): everything nrm holds about one data subject, found
 * by case id (p_case_id) or by the pseudonym nrmd computed from the
 * name and birth date in the request body (p_pseudonym; never in a
 * URL): {"format", "exported_at", "found_by", "cases": [...]}, each
 * case care.privacy_case_json (sealed: nrmd opens it).  Audited
 * privacy.export, purpose data_protection, one event per case exported
 * (object the case); a search that finds nothing is one event about
 * object type subject, reason no_match.  404 for an unknown case id.
 */
CREATE OR REPLACE FUNCTION api.privacy_export(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_pseudonym bytea)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_ids uuid[];
	v_id uuid;
	v_cases jsonb := '[]'::jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['privacy_officer'], 'privacy.export',
	    CASE WHEN p_case_id IS NULL THEN 'subject' ELSE 'case' END,
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF (p_case_id IS NULL) = (p_pseudonym IS NULL) THEN
		RETURN api.refuse(v_p, 'data_protection', 'failed',
		    'bad_request', api.problem(400, 'bad_request',
		    'give a case id or a name and birth date', 'case'));
	END IF;
	IF p_case_id IS NOT NULL THEN
		IF (SELECT c.signal_id FROM care.privacy_case(p_case_id) c)
		    IS NULL THEN
			RETURN api.refuse(v_p, 'data_protection', 'denied',
			    'not_found', api.problem(404, 'not_found',
			    'no such case', 'case'));
		END IF;
		v_ids := ARRAY[p_case_id];
	ELSE
		v_ids := ARRAY(SELECT care.privacy_cases_of(p_pseudonym));
	END IF;
	FOREACH v_id IN ARRAY v_ids LOOP
		v_cases := v_cases || pg_catalog.jsonb_build_array(
		    care.privacy_case_json(v_id));
		IF p_case_id IS NULL THEN
			PERFORM api.audit(v_p.key_id, v_p.agency_id, v_p.role,
			    'privacy.export', 'case', v_id::text,
			    'data_protection', 'allowed', NULL, p_request_id,
			    p_client);
		END IF;
	END LOOP;
	RETURN api.refuse(v_p, 'data_protection', 'allowed',
	    CASE WHEN pg_catalog.cardinality(v_ids) = 0 THEN 'no_match' END,
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object(
	        'format', 'nrm.subject-export.v1',
	        'exported_at', api.rfc3339(pg_catalog.now()),
	        'found_by', CASE WHEN p_case_id IS NULL THEN 'pseudonym'
	            ELSE 'case' END,
	        'cases', v_cases)));
END
$$;
COMMENT ON FUNCTION api.privacy_export(bytea, text, inet, uuid, bytea) IS
    'GET /v1/privacy/subjects?case= and POST /v1/privacy/subjects '
    '(privacy_officer): the export of one data subject (art. 15, 20; '
    'PERSONAL DATA, sealed for nrmd), audited privacy.export per case.';

/*
 * The privacy officer's checks of a case before a rectification or an
 * erasure: NULL when it may go on, else the refusal (audited, the
 * role restored): 422 p_field no subject field (when not NULL), 404 no
 * such case, 409 erased already.
 */
CREATE OR REPLACE FUNCTION api.privacy_case_refusal(p_p record,
    p_case_id uuid, p_c record, p_field text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_field IS NOT NULL
	    AND NOT p_field = ANY (care.subject_fields()) THEN
		RETURN api.refuse(p_p, 'data_protection', 'failed',
		    'bad_request', api.problem(422, 'validation',
		    'field must be one of ' || pg_catalog.array_to_string(
		        care.subject_fields(), ', '), 'field'));
	END IF;
	IF p_c.signal_id IS NULL THEN
		RETURN api.refuse(p_p, 'data_protection', 'denied', 'not_found',
		    api.problem(404, 'not_found', 'no such case', 'case'));
	END IF;
	IF p_c.erased_at IS NOT NULL THEN
		RETURN api.refuse(p_p, 'data_protection', 'failed', 'erased',
		    pg_catalog.jsonb_set(api.problem(409, 'conflict',
		    'the personal data of this case were erased', 'case'),
		    '{problem,erased}', care.erasure_json(p_case_id)->'erased'));
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.privacy_case_refusal(record, uuid, record, text) IS
    'The 422 (no such field), 404 (no such case) or 409 (erased) of a '
    'privacy officer''s change, audited; NULL when it may go on.';
GRANT EXECUTE ON FUNCTION api.privacy_case_refusal(record, uuid, record,
    text) TO nrm_privacy_officer;

/*
 * POST /v1/privacy/cases/{id}/rectify, first step (nrmd, before it
 * seals): the subject's sealed name and birth date and its data key.
 * Refusals (400 field, 404, 409) are audited as privacy.rectify; the
 * answer itself is not (it never leaves nrmd, and the second step is
 * the audited change).
 */
CREATE OR REPLACE FUNCTION api.privacy_rectify_prepare(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_field text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_c record;
	v_r jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['privacy_officer'], 'privacy.rectify', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	SELECT * INTO v_c FROM care.privacy_case(p_case_id);
	v_r := api.privacy_case_refusal(v_p, p_case_id, v_c,
	    COALESCE(p_field, ''));
	IF v_r IS NOT NULL THEN
		RETURN v_r;
	END IF;
	IF NOT v_c.has_subject THEN
		RETURN api.refuse(v_p, 'data_protection', 'failed',
		    'no_subject', api.problem(409, 'conflict',
		    'this case holds no subject to rectify', 'case'));
	END IF;
	-- stored before 0017 and not yet sealed: no key to keep the old
	-- value sealed with (docs/data-protection.md, "Existing rows")
	IF v_c.data_key_id IS NULL THEN
		RETURN api.refuse(v_p, 'data_protection', 'failed',
		    'no_data_key', api.problem(409, 'conflict',
		    'this case''s subject was stored before 0017 and is not '
		    'sealed yet: run nrmctl data encrypt, then rectify it',
		    'case'));
	END IF;
	RETURN api.leave(v_p, pg_catalog.jsonb_build_object('status', 200,
	    'body', care.privacy_rectify_input(p_case_id)));
END
$$;
COMMENT ON FUNCTION api.privacy_rectify_prepare(bytea, text, inet, uuid,
    text) IS
    'POST /v1/privacy/cases/{id}/rectify, step one (nrmd only): the '
    'subject''s sealed name, birth date and data key; refusals audited.';

/*
 * POST /v1/privacy/cases/{id}/rectify, second step: p_value_ct (base64
 * of the value nrmd sealed with the subject's data key, AAD
 * care.subject/<field>/<signal id>) replaces the field, the old value
 * kept sealed; p_pseudonym replaces the pseudonym when p_set_pseudonym
 * (a name or the birth date changed).  p_ground: inaccurate or
 * incomplete (art. 16).  Audited privacy.rectify, reason the ground.
 */
CREATE OR REPLACE FUNCTION api.privacy_rectify(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_field text,
    p_value_ct text, p_pseudonym bytea, p_set_pseudonym boolean,
    p_ground text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_c record;
	v_r jsonb;
	v_at timestamptz;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['privacy_officer'], 'privacy.rectify', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF p_ground IS NULL OR p_ground NOT IN ('inaccurate', 'incomplete')
	THEN
		RETURN api.refuse(v_p, 'data_protection', 'failed',
		    'bad_request', api.problem(422, 'validation',
		    'ground must be inaccurate or incomplete', 'ground'));
	END IF;
	SELECT * INTO v_c FROM care.privacy_case(p_case_id);
	v_r := api.privacy_case_refusal(v_p, p_case_id, v_c,
	    COALESCE(p_field, ''));
	IF v_r IS NOT NULL THEN
		RETURN v_r;
	END IF;
	IF NOT care.sealed_ok(pg_catalog.decode(p_value_ct, 'base64'),
	    CASE p_field WHEN 'narrative' THEN 8000 WHEN 'address' THEN 500
	        WHEN 'phone' THEN 40 WHEN 'birth_date' THEN 10 ELSE 200 END)
	THEN
		RETURN api.refuse(v_p, 'data_protection', 'failed',
		    'bad_request', api.problem(422, 'validation',
		    'value is too long for ' || p_field, 'value'));
	END IF;
	v_at := care.privacy_rectify(p_case_id, p_field,
	    pg_catalog.decode(p_value_ct, 'base64'), p_pseudonym,
	    COALESCE(p_set_pseudonym, false), p_ground, v_p.key_id);
	IF v_at IS NULL THEN
		SELECT * INTO v_c FROM care.privacy_case(p_case_id);
		RETURN api.privacy_case_refusal(v_p, p_case_id, v_c);
	END IF;
	RETURN api.refuse(v_p, 'data_protection', 'allowed', p_ground,
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('case_id', p_case_id,
	        'field', p_field, 'ground', p_ground,
	        'rectified_at', api.rfc3339(v_at))));
END
$$;
COMMENT ON FUNCTION api.privacy_rectify(bytea, text, inet, uuid, text, text,
    bytea, boolean, text) IS
    'POST /v1/privacy/cases/{id}/rectify (privacy_officer; art. 16): one '
    'subject field replaced by a value nrmd sealed, the old one kept '
    'sealed in care.rectification; audited privacy.rectify (reason the '
    'ground).';

/*
 * POST /v1/privacy/cases/{id}/erase (privacy_officer; art. 17): erase
 * the case's personal data now, p_ground one of care.erasure_grounds().
 * Audited privacy.erase, reason the ground; 409 when erased already.
 */
CREATE OR REPLACE FUNCTION api.privacy_erase(p_token_hash bytea,
    p_request_id text, p_client inet, p_case_id uuid, p_ground text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_c record;
	v_r jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['privacy_officer'], 'privacy.erase', 'case',
	    p_case_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF p_ground IS NULL OR NOT p_ground = ANY (care.erasure_grounds())
	THEN
		RETURN api.refuse(v_p, 'data_protection', 'failed',
		    'bad_request', api.problem(422, 'validation',
		    'ground must be one of ' || pg_catalog.array_to_string(
		        care.erasure_grounds(), ', '), 'ground'));
	END IF;
	SELECT * INTO v_c FROM care.privacy_case(p_case_id);
	v_r := api.privacy_case_refusal(v_p, p_case_id, v_c);
	IF v_r IS NOT NULL THEN
		RETURN v_r;
	END IF;
	IF NOT care.erase_signal(v_c.signal_id, p_case_id, p_ground,
	    v_p.key_id) THEN
		SELECT * INTO v_c FROM care.privacy_case(p_case_id);
		RETURN api.privacy_case_refusal(v_p, p_case_id, v_c);
	END IF;
	RETURN api.refuse(v_p, 'data_protection', 'allowed', p_ground,
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('case_id', p_case_id)
	    || care.erasure_json(p_case_id)));
END
$$;
COMMENT ON FUNCTION api.privacy_erase(bytea, text, inet, uuid, text) IS
    'POST /v1/privacy/cases/{id}/erase (privacy_officer; art. 17): '
    'crypto-shred the case''s personal data now; audited privacy.erase '
    '(reason the ground code).';

GRANT EXECUTE ON FUNCTION care.erasure_json(uuid) TO nrm_privacy_officer;
-- api.privacy_export, _rectify_prepare, _rectify and _erase are doors
-- of nrm_privacy_officer (99_doors.sql), entered through api.enter.
GRANT EXECUTE ON FUNCTION api.enter(bytea, text, inet, text[], text, text,
    text) TO nrm_privacy_officer;
GRANT EXECUTE ON FUNCTION api.authenticate(bytea, text, inet, text[], text,
    text, text) TO nrm_privacy_officer;
