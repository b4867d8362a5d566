-- 70_overview.sql - api functions: the central information point (issue
-- 20): GET /v1/overview, live counts and coverage per region and for the
-- national desk, and the uncovered regions nrmd refreshes for routing and
-- /metrics.  A repeatable file (docs/sql-api.md, "Migrations").
--
-- Applied by `nrmctl migrate` after the numbered migrations, in the same
-- transaction, every file of sql/api/ in name order, and recorded with
-- its SHA-256 in nrm.schema_repeatable.  Each function stands here once,
-- as CREATE OR REPLACE, with its comment and grants; change it here.  The
-- roles nrm_chain_director and nrm_overview, and the policies that let
-- nrm_overview count every case, come with 0012_chain_director.sql.
--
-- Counts only: no function here returns a case id, a key id, a person or
-- anything of a subject or a signal.  The two care.overview_* functions
-- are SECURITY DEFINER owned by nrm_overview, which may read only the
-- columns they count; the chain director itself holds no privilege on
-- any of those tables.

/*
 * Coverage per region (every row of ref.region, the national desk
 * included): the active coordinator keys (role coordinator, not revoked,
 * the region among their regions; a person's own key is revoked, so
 * persons are not counted twice) and persons (status active), when one
 * of them last acted (their newest allowed audit event: any request they
 * made that was allowed, a person's through its own key), and covered:
 * at least one of them, and one acted within p_silent_after_s seconds.
 */
CREATE OR REPLACE FUNCTION care.overview_coverage(p_silent_after_s integer)
RETURNS TABLE (region text, coordinator_keys integer,
    coordinator_persons integer, last_acted_at timestamptz,
    covered boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH principal AS (
		SELECT k.id AS key_id, k.regions, true AS is_key
		FROM auth.api_key k
		WHERE k.role = 'coordinator' AND k.revoked_at IS NULL
		UNION ALL
		SELECT p.key_id, p.regions, false
		FROM auth.person p
		WHERE p.role = 'coordinator' AND p.status = 'active'
	), acted AS (
		SELECT x.key_id, (SELECT e.at FROM audit.event e
		    WHERE e.api_key_id = x.key_id AND e.outcome = 'allowed'
		    ORDER BY e.id DESC LIMIT 1) AS at
		FROM (SELECT DISTINCT key_id FROM principal) x
	)
	SELECT r.code,
	    (pg_catalog.count(*) FILTER (WHERE p.is_key))::integer,
	    (pg_catalog.count(*) FILTER (WHERE NOT p.is_key))::integer,
	    pg_catalog.max(a.at),
	    COALESCE(pg_catalog.max(a.at) >= pg_catalog.now()
	        - pg_catalog.make_interval(secs => p_silent_after_s), false)
	FROM ref.region r
	LEFT JOIN principal p ON r.code = ANY (p.regions)
	LEFT JOIN acted a ON a.key_id = p.key_id
	GROUP BY r.code
$$;
COMMENT ON FUNCTION care.overview_coverage(integer) IS
    'Coverage per region: active coordinator keys and persons, when one '
    'last acted (newest allowed audit event), covered (one of them, '
    'acting within p_silent_after_s seconds).  Counts only.  SECURITY '
    'DEFINER owned by nrm_overview.';

/*
 * The load per region (every row of ref.region), right now:
 *   open                          cases not closed (open or taken)
 *   untaken                       cases open (nobody holds them)
 *   past_take_deadline            open cases whose take_by has passed
 *   past_first_contact_deadline   cases not closed whose first_contact_by
 *                                 has passed without a first contact
 *                                 made (first_contact_at, recorded by
 *                                 POST /v1/cases/{id}/contact; a failed
 *                                 attempt is none)
 *   escalated_7d                  escalations by the sweeper in the last
 *                                 7 days: from the region; for the
 *                                 national desk, every one (it received
 *                                 them)
 *   transferred_untaken           open cases whose last entry into an
 *                                 inbox was an accepted transfer (or an
 *                                 immediate one from before 0021): the
 *                                 receiving region has not taken it yet;
 *                                 a transfer still awaiting its answer
 *                                 is state transfer_pending, counted in
 *                                 open (of the sending region)
 *   taken_30d, median_take_s      takes in the region in the last 30
 *                                 days and their median time from the
 *                                 case's last entry into an inbox
 *                                 (routed, transferred, escalated,
 *                                 reopened, declined back) to the take,
 *                                 in whole seconds; NULL without a take
 */
CREATE OR REPLACE FUNCTION care.overview_counts()
RETURNS TABLE (region text, open integer, untaken integer,
    past_take_deadline integer, past_first_contact_deadline integer,
    escalated_7d integer, transferred_untaken integer, taken_30d integer,
    median_take_s bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH live AS (
		SELECT c.region_code, c.state, c.take_by, c.first_contact_by,
		    (SELECT h.action FROM care.case_history h
		        WHERE h.case_id = c.id AND h.action IN ('routed',
		            'transferred', 'escalated', 'reopened', 'declined',
		            'transfer_accepted', 'transfer_refused')
		        ORDER BY h.id DESC LIMIT 1) AS entered_by,
		    c.first_contact_at IS NOT NULL AS contacted
		FROM care.case c
		-- a merged case is no load: its target is (0026)
		WHERE c.state NOT IN ('closed', 'merged')
	), load AS (
		SELECT l.region_code,
		    pg_catalog.count(*) AS open,
		    pg_catalog.count(*) FILTER (WHERE l.state = 'open')
		        AS untaken,
		    pg_catalog.count(*) FILTER (WHERE l.state = 'open'
		        AND l.take_by < pg_catalog.now()) AS past_take,
		    pg_catalog.count(*) FILTER (WHERE NOT l.contacted
		        AND l.first_contact_by < pg_catalog.now())
		        AS past_contact,
		    pg_catalog.count(*) FILTER (WHERE l.state = 'open'
		        AND l.entered_by IN ('transferred', 'transfer_accepted'))
		        AS transferred
		FROM live l
		GROUP BY l.region_code
	), esc AS (
		SELECT e.from_region, pg_catalog.count(*) AS n
		FROM care.escalation e
		WHERE e.at >= pg_catalog.now() - interval '7 days'
		GROUP BY ROLLUP (e.from_region)
	), takes AS (
		SELECT t.detail->>'region' AS region_code,
		    pg_catalog.date_part('epoch', t.at - (SELECT h.at
		        FROM care.case_history h
		        WHERE h.case_id = t.case_id AND h.id < t.id
		          AND h.action IN ('routed', 'transferred', 'escalated',
		              'transfer_accepted', 'transfer_refused',
		              'reopened', 'declined')
		        ORDER BY h.id DESC LIMIT 1)) AS s
		FROM care.case_history t
		WHERE t.action = 'taken'
		  AND t.at >= pg_catalog.now() - interval '30 days'
	), took AS (
		SELECT k.region_code, pg_catalog.count(k.s) AS n,
		    pg_catalog.round(pg_catalog.percentile_cont(0.5)
		        WITHIN GROUP (ORDER BY k.s))::bigint AS median
		FROM takes k
		WHERE k.s IS NOT NULL
		GROUP BY k.region_code
	)
	SELECT r.code,
	    COALESCE(l.open, 0)::integer, COALESCE(l.untaken, 0)::integer,
	    COALESCE(l.past_take, 0)::integer,
	    COALESCE(l.past_contact, 0)::integer,
	    COALESCE((SELECT e.n FROM esc e WHERE CASE WHEN r.code = 'NATIONAL'
	        THEN e.from_region IS NULL ELSE e.from_region = r.code END),
	        0)::integer,
	    COALESCE(l.transferred, 0)::integer,
	    COALESCE(t.n, 0)::integer, t.median
	FROM ref.region r
	LEFT JOIN load l ON l.region_code = r.code
	LEFT JOIN took t ON t.region_code = r.code
$$;
COMMENT ON FUNCTION care.overview_counts() IS
    'The live load per region (open, untaken, past the take and the '
    'first-contact deadline, escalated in 7 days, transferred and not yet '
    'taken, takes in 30 days and their median time).  Counts only.  '
    'SECURITY DEFINER owned by nrm_overview.';

-- Handed to nrm_overview, which may create in schema care only meanwhile
-- (a new owner needs CREATE on the schema).
GRANT CREATE ON SCHEMA care TO nrm_overview;
ALTER FUNCTION care.overview_coverage(integer) OWNER TO nrm_overview;
ALTER FUNCTION care.overview_counts() OWNER TO nrm_overview;
REVOKE CREATE ON SCHEMA care FROM nrm_overview;
REVOKE ALL ON FUNCTION care.overview_coverage(integer),
    care.overview_counts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.overview_coverage(integer),
    care.overview_counts() TO nrm_coordinator, nrm_chain_director;
-- nrm_app: through api.coverage_uncovered (nrmd's coverage job).
-- nrm_app calls it only through its door (99_doors.sql).

-- The doors every entry point goes through (10_common.sql), for the
-- chain director.
GRANT EXECUTE ON FUNCTION api.problem(integer, text, text, text),
    api.audit(uuid, uuid, text, text, text, text, text, text, text, text,
        inet),
    api.audit_person(uuid, uuid, uuid, text, text, text, text, text, text,
        text, text, inet),
    api.leave(record, jsonb), api.refuse(record, text, text, text, jsonb),
    api.answer(record, text, jsonb), api.rfc3339(timestamptz)
    TO nrm_chain_director;

/*
 * GET /v1/overview (coordinator, chain_director): one row per region and
 * one for the national desk (NATIONAL, last), each with the load of
 * care.overview_counts and the coverage of care.overview_coverage
 * (p_silent_after_s: nrmd's coverage_silent_after).  The chain director
 * and a coordinator of NATIONAL (the national desk) see every row; any
 * other coordinator the rows of its own regions.  Counts only: no case
 * id, no key or person, no personal data.  Audited overview.read
 * (object overview), purpose monitoring, one event per call.
 */
CREATE OR REPLACE FUNCTION api.overview_body(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_silent_after_s integer) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_all boolean;
	v_rows jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['coordinator', 'chain_director'], 'overview.read',
	    'overview', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF p_silent_after_s IS NULL OR p_silent_after_s < 1 THEN
		RAISE EXCEPTION 'p_silent_after_s must be seconds >= 1'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_all := v_p.role = 'chain_director'
	    OR 'NATIONAL' = ANY (v_p.regions);

	SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
	        'region', n.region,
	        'name', g.name,
	        'open', n.open,
	        'untaken', n.untaken,
	        'past_take_deadline', n.past_take_deadline,
	        'past_first_contact_deadline', n.past_first_contact_deadline,
	        'escalated_7d', n.escalated_7d,
	        'transferred_untaken', n.transferred_untaken,
	        'taken_30d', n.taken_30d,
	        'median_take_s', n.median_take_s,
	        'coverage', pg_catalog.jsonb_build_object(
	            'coordinator_keys', v.coordinator_keys,
	            'coordinator_persons', v.coordinator_persons,
	            'coordinators', v.coordinator_keys
	                + v.coordinator_persons,
	            'last_acted_at', api.rfc3339(v.last_acted_at),
	            'covered', v.covered))
	    ORDER BY n.region = 'NATIONAL', n.region), '[]'::jsonb)
	INTO v_rows
	FROM care.overview_counts() n
	JOIN care.overview_coverage(p_silent_after_s) v
	    ON v.region = n.region
	JOIN ref.region g ON g.code = n.region
	WHERE v_all OR n.region = ANY (v_p.regions);

	RETURN api.answer(v_p, 'monitoring',
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	        pg_catalog.jsonb_build_object(
	            'generated_at', api.rfc3339(pg_catalog.now()),
	            'silent_after_s', p_silent_after_s,
	            'regions', v_rows)));
END
$$;
COMMENT ON FUNCTION api.overview_body(bytea, text, inet, integer) IS
    'GET /v1/overview: live counts and coverage per region and for the '
    'national desk (chain_director and the national desk: every row; '
    'a coordinator: its regions); counts only; audited overview.read.';
GRANT EXECUTE ON FUNCTION api.overview_body(bytea, text, inet, integer)
    TO nrm_coordinator, nrm_chain_director;

/*
 * The coverage nrmd keeps in memory (refreshed every coverage_refresh
 * seconds, nrm-api/nrmd/jobs.c), called as nrm_app without a token:
 * {"uncovered": [codes], "unstaffed": [codes], "overdue": [{"region",
 * "take", "first_contact"}]}, uncovered the regions
 * care.overview_coverage marks not covered, unstaffed those without any
 * active coordinator key or person, overdue every region (in code order)
 * with care.overview_counts' past_take_deadline and
 * past_first_contact_deadline (/metrics' nrm_cases_overdue, the same
 * numbers as GET /v1/overview).  Region codes and counts only.
 */
CREATE OR REPLACE FUNCTION api.coverage_uncovered(p_silent_after_s integer)
RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.scope_clear();
	SELECT pg_catalog.jsonb_build_object(
	    'uncovered', COALESCE(pg_catalog.jsonb_agg(v.region
	        ORDER BY v.region) FILTER (WHERE NOT v.covered), '[]'),
	    'unstaffed', COALESCE(pg_catalog.jsonb_agg(v.region
	        ORDER BY v.region) FILTER (WHERE v.coordinator_keys
	            + v.coordinator_persons = 0), '[]'),
	    'overdue', (SELECT COALESCE(pg_catalog.jsonb_agg(
	        pg_catalog.jsonb_build_object('region', n.region,
	            'take', n.past_take_deadline,
	            'first_contact', n.past_first_contact_deadline)
	        ORDER BY n.region), '[]')
	        FROM care.overview_counts() n))
	FROM care.overview_coverage(p_silent_after_s) v
$$;
COMMENT ON FUNCTION api.coverage_uncovered(integer) IS
    'The regions not covered (no active coordinator, or none acting within '
    'p_silent_after_s seconds), those without any coordinator '
    'principal, and per region the cases past their take and '
    'first-contact deadlines (care.overview_counts): region codes and '
    'counts for nrmd''s routing, /metrics and reload warnings.  No '
    'token: called by nrmd''s periodic job.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
