-- 75_statistics.sql - GET /v1/statistics: counts and durations over a
-- calendar period in Europe/Amsterdam, broken down by at most two
-- dimensions, computed from the case history, the identification track
-- and the audit log, with disclosure control (docs/statistics.md).
--
-- The vocabulary is nrm-core/include/nrm/statvocab.h's (nrmd checks a
-- request against it first); stats.measures() below repeats it for the
-- database, which checks again.  The analyst's role reads no row
-- (0013): api.statistics calls stats.table / stats.emergency_reads,
-- SECURITY DEFINER functions of nrm_statistician that answer suppressed
-- tables only.

-- ---------------------------------------------------------------------
-- The vocabulary.
-- ---------------------------------------------------------------------
CREATE OR REPLACE FUNCTION stats.measures(OUT name text, OUT kind text,
    OUT dims text[], OUT auditor boolean)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	VALUES
	('signals', 'count', ARRAY['region', 'exploitation', 'reporter_kind',
	    'minor', 'age_band', 'gender', 'nationality_group'], false),
	('anonymous_notifications', 'count', ARRAY['region', 'exploitation',
	    'reporter_kind', 'age_band', 'gender', 'nationality_group'], false),
	('cases', 'count', ARRAY['region', 'exploitation', 'reporter_kind',
	    'minor', 'age_band', 'gender', 'nationality_group', 'priority'],
	    false),
	('cases_taken_in_time', 'count', ARRAY['region', 'exploitation',
	    'reporter_kind', 'minor', 'age_band', 'gender',
	    'nationality_group', 'priority'], false),
	('time_to_take', 'duration', ARRAY['region', 'exploitation',
	    'reporter_kind', 'minor', 'priority'], false),
	('escalations', 'count', ARRAY['region', 'exploitation',
	    'reporter_kind', 'minor', 'priority'], false),
	('first_contact_escalations', 'count', ARRAY['region', 'exploitation',
	    'reporter_kind', 'minor', 'priority'], false),
	('transfers', 'count', ARRAY['region', 'exploitation',
	    'reporter_kind', 'minor', 'priority'], false),
	('closures', 'count', ARRAY['region', 'exploitation', 'reporter_kind',
	    'minor', 'priority', 'reason'], false),
	('identification_decisions', 'count', ARRAY['region', 'exploitation',
	    'minor', 'age_band', 'gender', 'nationality_group', 'outcome',
	    'stage', 'investigation'], false),
	('time_initial_to_conclusive', 'duration', ARRAY['region',
	    'exploitation', 'minor', 'outcome'], false),
	('repeat_signals', 'count', ARRAY['region', 'exploitation',
	    'reporter_kind', 'minor'], false),
	('notifications_became_case', 'count', ARRAY['region', 'exploitation',
	    'reporter_kind', 'age_band', 'gender', 'nationality_group'], false),
	('emergency_reads', 'count', ARRAY['region', 'verdict'], true),
	('panel_decisions', 'count', ARRAY['region', 'exploitation', 'minor',
	    'outcome', 'model', 'dissent'], false),
	('time_to_panel_decision', 'duration', ARRAY['region',
	    'exploitation', 'minor', 'outcome', 'model'], false)
$$;
COMMENT ON FUNCTION stats.measures() IS
    'The measures, their kind (count or duration), the dimensions each '
    'may be broken down by, and whether auditors may read it: '
    'nrm-core/include/nrm/statvocab.h''s table, for the database.';

/*
 * The categories of a dimension, in the order cells are answered: the
 * full list, so a table holds its zero cells too (NULL: no such
 * dimension).
 */
CREATE OR REPLACE FUNCTION stats.categories(p_dim text) RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE p_dim
	WHEN 'region' THEN (SELECT pg_catalog.array_agg(r.code
	    ORDER BY r.code COLLATE "C") FROM ref.region r)
	WHEN 'exploitation' THEN ARRAY['sexual', 'labour', 'criminal',
	    'begging', 'forced_marriage', 'illegal_adoption', 'surrogacy',
	    'organ_removal', 'other', 'multiple']
	WHEN 'reporter_kind' THEN ARRAY['police', 'kmar',
	    'labour_inspectorate', 'care_agency', 'ngo', 'municipality',
	    'national_centre', 'assessment_body', 'other']
	WHEN 'minor' THEN ARRAY['true', 'false']
	WHEN 'age_band' THEN ARRAY['0_11', '12_17', '18_24', '25_34', '35_49',
	    '50_plus', 'unknown']
	WHEN 'gender' THEN ARRAY['female', 'male', 'non_binary', 'other',
	    'unknown']
	WHEN 'nationality_group' THEN ARRAY['nl', 'eu_eea', 'other',
	    'unknown']
	WHEN 'priority' THEN ARRAY['urgent', 'high', 'normal']
	WHEN 'outcome' THEN ARRAY['positive', 'negative', 'pending']
	WHEN 'reason' THEN ARRAY['victim_supported', 'referred_elsewhere',
	    'no_indication_of_trafficking', 'duplicate', 'unreachable',
	    'other']
	WHEN 'stage' THEN ARRAY['initial', 'conclusive', 'reconsideration']
	WHEN 'verdict' THEN ARRAY['justified', 'unjustified', 'pending']
	WHEN 'investigation' THEN ARRAY['none', 'exists']
	WHEN 'model' THEN ARRAY['panel', 'single']
	WHEN 'dissent' THEN ARRAY['none', 'some']
	END
$$;
COMMENT ON FUNCTION stats.categories(text) IS
    'Every value of a dimension, in answer order (zero cells included).';

/*
 * A period text (YYYY-MM, YYYY-Qn, YYYY; year 2000..9999) as the
 * instants it starts and ends in Europe/Amsterdam; no row for any other
 * text (ranges, weeks, days: only aligned periods are answered).
 */
CREATE OR REPLACE FUNCTION stats.period(p_text text, OUT starts timestamptz,
    OUT ends timestamptz)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	-- Months counted from year 0: both ends are midnight in Amsterdam
	-- (interval arithmetic would follow the session's time zone).
	SELECT pg_catalog.make_timestamptz(m0 / 12, m0 % 12 + 1, 1, 0, 0, 0,
	        'Europe/Amsterdam'),
	    pg_catalog.make_timestamptz((m0 + len) / 12, (m0 + len) % 12 + 1,
	        1, 0, 0, 0, 'Europe/Amsterdam')
	FROM (SELECT 12 * g[1]::integer + CASE
	        WHEN g[2] IS NOT NULL THEN g[2]::integer - 1
	        WHEN g[3] IS NOT NULL THEN 3 * g[3]::integer - 3
	        ELSE 0 END AS m0,
	    CASE WHEN g[2] IS NOT NULL THEN 1 WHEN g[3] IS NOT NULL THEN 3
	        ELSE 12 END AS len
	    FROM pg_catalog.regexp_match(p_text,
	        '^([2-9][0-9]{3})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$') AS g
	    WHERE g IS NOT NULL) p
$$;
COMMENT ON FUNCTION stats.period(text) IS
    'The start and end instants of a calendar period in Europe/Amsterdam '
    '(2026-11, 2026-Q4, 2026); no row for anything else.';

/*
 * p_text when it names a calendar period stats.period knows (2026-11,
 * 2026-Q4, 2026), else NULL: what a publication's audit event names as
 * its object (any other text a client sent is never audited).
 */
CREATE OR REPLACE FUNCTION stats.period_name(p_text text) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p_text FROM stats.period(p_text)
$$;
COMMENT ON FUNCTION stats.period_name(text) IS
    'p_text when stats.period knows it as a period, else NULL.';
REVOKE ALL ON FUNCTION stats.period_name(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stats.period_name(text) TO nrm_analyst;

CREATE OR REPLACE FUNCTION stats.age_band(p_age integer) RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_age IS NULL THEN 'unknown'
	    WHEN p_age < 12 THEN '0_11' WHEN p_age < 18 THEN '12_17'
	    WHEN p_age < 25 THEN '18_24' WHEN p_age < 35 THEN '25_34'
	    WHEN p_age < 50 THEN '35_49' ELSE '50_plus' END
$$;
COMMENT ON FUNCTION stats.age_band(integer) IS
    'The age band of an age estimate (unknown when none).';

-- EU member states (ISO 3166-1 alpha-2; Greece is GR) and the other EEA
-- states, the Netherlands apart.
CREATE OR REPLACE FUNCTION stats.nationality_group(p_code text) RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_code IS NULL THEN 'unknown'
	    WHEN p_code = 'NL' THEN 'nl'
	    WHEN p_code = ANY (ARRAY['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK',
	        'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT',
	        'LU', 'MT', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS',
	        'LI', 'NO']) THEN 'eu_eea'
	    ELSE 'other' END
$$;
COMMENT ON FUNCTION stats.nationality_group(text) IS
    'nl, eu_eea (another EU or EEA state), other, or unknown.';

-- ---------------------------------------------------------------------
-- The counted units.
-- ---------------------------------------------------------------------

-- The signal's own dimensions, one row per signal.
CREATE OR REPLACE VIEW stats.signal_fact WITH (security_invoker = true) AS
SELECT s.id AS signal_id, s.received_at, s.notification_only,
    s.region_code AS region,
    CASE WHEN pg_catalog.cardinality(s.exploitation) = 1
        THEN s.exploitation[1] ELSE 'multiple' END AS exploitation,
    a.kind AS reporter_kind, s.minor::text AS minor,
    stats.age_band(s.age_estimate) AS age_band,
    COALESCE(s.gender, 'unknown') AS gender,
    stats.nationality_group(s.nationality) AS nationality_group
FROM intake.signal s
JOIN auth.agency a ON a.id = s.agency_id;
COMMENT ON VIEW stats.signal_fact IS
    'Each signal''s breakdown values (no personal data: region, one '
    'exploitation type or multiple, reporter kind, minor, age band, '
    'gender, nationality group).  security_invoker: read as '
    'nrm_statistician.';

/*
 * The units a measure counts in [p_from, p_to): one row per unit, its
 * dimension values in `dims` (keys of statvocab.h; more keys than the
 * measure allows may be present) and, for durations, `seconds`.
 */
CREATE OR REPLACE FUNCTION stats.units(p_measure text, p_from timestamptz,
    p_to timestamptz, OUT dims jsonb, OUT seconds numeric)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	-- Decisions are dated by day, in Amsterdam.
	v_d0 date := (p_from AT TIME ZONE 'Europe/Amsterdam')::date;
	v_d1 date := (p_to AT TIME ZONE 'Europe/Amsterdam')::date;
BEGIN
	CASE p_measure
	WHEN 'signals', 'anonymous_notifications' THEN
		RETURN QUERY SELECT pg_catalog.to_jsonb(f), NULL::numeric
		FROM stats.signal_fact f
		WHERE f.received_at >= p_from AND f.received_at < p_to
		  AND (p_measure = 'signals' OR f.notification_only);
	WHEN 'cases', 'cases_taken_in_time', 'time_to_take' THEN
		RETURN QUERY SELECT pg_catalog.to_jsonb(f)
		        || pg_catalog.jsonb_build_object('priority', c.priority),
		    EXTRACT(epoch FROM t.taken_at - f.received_at)
		FROM care.case c
		JOIN stats.signal_fact f ON f.signal_id = c.signal_id
		LEFT JOIN LATERAL (SELECT pg_catalog.min(h.at) AS taken_at
		    FROM care.case_history h
		    WHERE h.case_id = c.id AND h.action = 'taken') t ON true
		LEFT JOIN LATERAL (SELECT (h.detail->'decision'->>
		        'take_within')::numeric AS take_within
		    FROM care.case_history h
		    WHERE h.case_id = c.id AND h.action = 'routed'
		    ORDER BY h.at, h.id LIMIT 1) r ON true
		WHERE c.created_at >= p_from AND c.created_at < p_to
		  -- a case merged into another is the same person's: its
		  -- target counts them once (0026; its signal still counts)
		  AND c.state <> 'merged'
		  AND CASE p_measure
		      WHEN 'cases' THEN true
		      WHEN 'time_to_take' THEN t.taken_at IS NOT NULL
		      ELSE t.taken_at <= c.created_at
		          + pg_catalog.make_interval(secs => r.take_within)
		      END;
	WHEN 'escalations', 'first_contact_escalations' THEN
		-- each kind its measure: the take deadline's, the first
		-- contact's (0021)
		RETURN QUERY SELECT pg_catalog.to_jsonb(f)
		        || pg_catalog.jsonb_build_object('priority', c.priority,
		            'region', e.from_region), NULL::numeric
		FROM care.escalation e
		JOIN care.case c ON c.id = e.case_id
		JOIN stats.signal_fact f ON f.signal_id = c.signal_id
		WHERE e.at >= p_from AND e.at < p_to
		  AND e.reason = CASE p_measure WHEN 'escalations'
		      THEN 'take_deadline_missed'
		      ELSE 'first_contact_deadline_missed' END;
	WHEN 'transfers', 'closures' THEN
		RETURN QUERY SELECT pg_catalog.to_jsonb(f)
		        || pg_catalog.jsonb_build_object('priority', c.priority,
		            'region', COALESCE(h.detail->>'from_region',
		                h.detail->>'region', f.region),
		            'reason', COALESCE(h.detail->>'reason', 'other')),
		    NULL::numeric
		FROM care.case_history h
		JOIN care.case c ON c.id = h.case_id
		JOIN stats.signal_fact f ON f.signal_id = c.signal_id
		WHERE h.at >= p_from AND h.at < p_to
		  AND h.action = CASE p_measure WHEN 'transfers'
		      THEN 'transferred' ELSE 'closed' END;
	WHEN 'identification_decisions' THEN
		-- investigation: whether an investigation record about the
		-- case or its signal existed by the end of the decision's
		-- day in Amsterdam; existence only (0016's column grant).
		RETURN QUERY SELECT pg_catalog.to_jsonb(f)
		        || pg_catalog.jsonb_build_object('stage', d.stage,
		            'outcome', d.outcome, 'investigation',
		            CASE WHEN EXISTS (SELECT 1 FROM invest.record r
		                WHERE (r.case_id = c.id
		                    OR r.signal_id = c.signal_id)
		                  AND r.created_at < pg_catalog.make_timestamptz(
		                      pg_catalog.date_part('year', d.decided_on
		                          + 1)::integer,
		                      pg_catalog.date_part('month', d.decided_on
		                          + 1)::integer,
		                      pg_catalog.date_part('day', d.decided_on
		                          + 1)::integer, 0, 0, 0,
		                      'Europe/Amsterdam'))
		            THEN 'exists' ELSE 'none' END), NULL::numeric
		FROM ident.decision d
		JOIN care.case c ON c.id = d.case_id
		JOIN stats.signal_fact f ON f.signal_id = c.signal_id
		WHERE d.decided_on >= v_d0 AND d.decided_on < v_d1;
	WHEN 'time_initial_to_conclusive' THEN
		RETURN QUERY SELECT pg_catalog.to_jsonb(f)
		        || pg_catalog.jsonb_build_object('outcome', k.outcome),
		    ((k.decided_on - i.first_initial) * 86400)::numeric
		FROM care.case c
		JOIN stats.signal_fact f ON f.signal_id = c.signal_id
		CROSS JOIN LATERAL (SELECT d.decided_on, d.outcome
		    FROM ident.decision d
		    WHERE d.case_id = c.id AND d.stage = 'conclusive'
		    ORDER BY d.decided_on, d.recorded_at LIMIT 1) k
		CROSS JOIN LATERAL (SELECT pg_catalog.min(d.decided_on)
		        AS first_initial
		    FROM ident.decision d
		    WHERE d.case_id = c.id AND d.stage = 'initial') i
		WHERE k.decided_on >= v_d0 AND k.decided_on < v_d1
		  AND i.first_initial <= k.decided_on;
	WHEN 'panel_decisions', 'time_to_panel_decision' THEN
		-- a decided panel (0023), dated by its decision; dissent:
		-- whether any vote went against the outcome
		RETURN QUERY SELECT pg_catalog.to_jsonb(f)
		        || pg_catalog.jsonb_build_object('outcome', p.outcome,
		            'model', p.model, 'dissent', CASE WHEN EXISTS (
		                SELECT 1 FROM ident.panel_vote v
		                WHERE v.panel_id = p.id
		                  AND v.outcome <> p.outcome)
		            THEN 'some' ELSE 'none' END),
		    EXTRACT(epoch FROM p.decided_at - p.assigned_at)
		FROM ident.panel p
		JOIN care.case c ON c.id = p.case_id
		JOIN stats.signal_fact f ON f.signal_id = c.signal_id
		WHERE p.decided_at >= p_from AND p.decided_at < p_to;
	WHEN 'repeat_signals' THEN
		RETURN QUERY SELECT pg_catalog.to_jsonb(f), NULL::numeric
		FROM stats.signal_fact f
		JOIN care.subject s ON s.signal_id = f.signal_id
		WHERE f.received_at >= p_from AND f.received_at < p_to
		  AND s.pseudonym IS NOT NULL
		  AND EXISTS (SELECT 1 FROM care.subject s2
		      JOIN intake.signal x ON x.id = s2.signal_id
		      -- during a pseudonym key rotation a subject also
		      -- carries its pseudonym under the previous key (0020)
		      WHERE (s2.pseudonym = s.pseudonym
		          OR s2.pseudonym = s.pseudonym_prev
		          OR s2.pseudonym_prev = s.pseudonym)
		        AND x.id <> f.signal_id
		        AND x.received_at < f.received_at
		        AND x.received_at >= f.received_at
		            - pg_catalog.make_interval(months => 12));
	WHEN 'notifications_became_case' THEN
		-- an anonymous notification (its own facts) that a later signal
		-- with a case cited (cites_reference, 0027), dated by the
		-- first such signal: each notification counts once
		RETURN QUERY SELECT pg_catalog.to_jsonb(f), NULL::numeric
		FROM stats.signal_fact f
		CROSS JOIN LATERAL (SELECT pg_catalog.min(x.received_at) AS at
		    FROM intake.signal x
		    JOIN care.case c ON c.signal_id = x.id
		    WHERE x.cites_signal_id = f.signal_id) b
		WHERE f.notification_only
		  AND b.at >= p_from AND b.at < p_to;
	WHEN 'emergency_reads' THEN
		RETURN QUERY SELECT pg_catalog.jsonb_build_object('region',
		        f.region, 'verdict', COALESCE(r.verdict, 'pending')),
		    NULL::numeric
		FROM audit.review r
		JOIN audit.event e ON e.id = r.event_id
		JOIN care.case c ON e.object_type = 'case'
		    AND c.id::text = e.object_id
		JOIN stats.signal_fact f ON f.signal_id = c.signal_id
		WHERE r.kind = 'break_glass'
		  AND e.at >= p_from AND e.at < p_to;
	END CASE;
END
$$;
COMMENT ON FUNCTION stats.units(text, timestamptz, timestamptz) IS
    'The units a measure counts in a period, with their dimension values '
    '(and seconds for durations): the rows behind a table.  Never '
    'granted to an API role.';

-- ---------------------------------------------------------------------
-- Disclosure control.
-- ---------------------------------------------------------------------

/*
 * Whether the suppressed edge p_e of a bipartite graph is a bridge; the
 * graph has p_nr row vertices and p_nc column vertices, and an edge
 * (r, c) for each suppressed cell of the p_nr x p_nc table p_s (row
 * major).  Returns the reachable set from the edge's row without the
 * edge: reach[v] true for v in 1..p_nr (rows) and p_nr+1..p_nr+p_nc
 * (columns); NULL when the edge lies on a cycle.
 */
CREATE OR REPLACE FUNCTION stats.bridge_side(p_s boolean[], p_nr integer,
    p_nc integer, p_e integer) RETURNS boolean[]
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_reach boolean[] := pg_catalog.array_fill(false,
	    ARRAY[p_nr + p_nc]);
	v_queue integer[];
	v_er integer := (p_e - 1) / p_nc;
	v_ec integer := (p_e - 1) % p_nc;
	v_head integer := 1;
	v integer;
	i integer;
BEGIN
	v_reach[v_er + 1] := true;
	v_queue := ARRAY[v_er + 1];
	WHILE v_head <= pg_catalog.cardinality(v_queue) LOOP
		v := v_queue[v_head];
		v_head := v_head + 1;
		IF v <= p_nr THEN
			FOR i IN 0 .. p_nc - 1 LOOP
				IF p_s[(v - 1) * p_nc + i + 1]
				    AND (v - 1) * p_nc + i + 1 <> p_e
				    AND NOT v_reach[p_nr + i + 1] THEN
					v_reach[p_nr + i + 1] := true;
					v_queue := v_queue || (p_nr + i + 1);
				END IF;
			END LOOP;
		ELSE
			FOR i IN 0 .. p_nr - 1 LOOP
				IF p_s[i * p_nc + (v - p_nr - 1) + 1]
				    AND i * p_nc + (v - p_nr - 1) + 1 <> p_e
				    AND NOT v_reach[i + 1] THEN
					v_reach[i + 1] := true;
					v_queue := v_queue || (i + 1);
				END IF;
			END LOOP;
		END IF;
	END LOOP;
	IF v_reach[p_nr + v_ec + 1] THEN
		RETURN NULL;
	END IF;
	RETURN v_reach;
END
$$;
COMMENT ON FUNCTION stats.bridge_side(boolean[], integer, integer, integer)
    IS 'For stats.suppress: NULL when a suppressed cell lies on a cycle of '
    'suppressed cells, else the vertices reachable from its row without it.';

/*
 * Secondary suppression of the (p_nr x p_nc) table p_v (row major),
 * whose suppression pattern p_s (primary, and fixed cells) is extended
 * until no suppressed cell is determined by the row and column sums.
 * Only cells with p_free true may be added.  The rows' and columns'
 * constraint is linear (each row and each column sums to a value that
 * is known or, in the augmented table of stats.suppress, is itself a
 * cell), so a suppressed cell is determined exactly when its edge in the
 * bipartite graph of suppressed cells (rows and columns as vertices) is
 * a bridge: it lies on no cycle, so the null space of the constraint
 * matrix has no component on it.  The method (Hundepool et al.,
 * Statistical Disclosure Control, 2012, sections 4.3-4.4, the
 * hypercube-like heuristic for 2-D tables):
 *   1. a row or column with exactly one suppressed cell gets its
 *      smallest free unsuppressed cell suppressed too (the classic
 *      "at least two per line" rule);
 *   2. when every line has zero or two or more, a suppressed cell that
 *      is still a bridge joins two groups A and B of lines; the smallest
 *      free cell (row in one, column in the other) is suppressed, which
 *      closes a cycle through it;
 * repeated until neither applies.  Smallest value first: the least
 * information lost (zero cells included).
 */
CREATE OR REPLACE FUNCTION stats.suppress_grid(p_v bigint[], p_s boolean[],
    p_free boolean[], p_nr integer, p_nc integer) RETURNS boolean[]
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_s boolean[] := p_s;
	v_changed boolean;
	v_side boolean[];
	v_best integer;
	v_cnt integer;
	v_i integer;
	v_col boolean;
	a integer;
	b integer;
	r integer;
	c integer;
BEGIN
	LOOP
		v_changed := false;
		-- 1. lines with exactly one suppressed cell: every row, then
		-- every column (v_col); cell b of line a.
		FOREACH v_col IN ARRAY ARRAY[false, true] LOOP
			FOR a IN 0 .. CASE WHEN v_col THEN p_nc ELSE p_nr END - 1
			LOOP
				v_cnt := 0;
				v_best := NULL;
				FOR b IN 0 .. CASE WHEN v_col THEN p_nr ELSE p_nc END - 1
				LOOP
					v_i := CASE WHEN v_col THEN b * p_nc + a
					    ELSE a * p_nc + b END + 1;
					IF v_s[v_i] THEN
						v_cnt := v_cnt + 1;
					ELSIF p_free[v_i] AND (v_best IS NULL
					    OR p_v[v_i] < p_v[v_best]) THEN
						v_best := v_i;
					END IF;
				END LOOP;
				IF v_cnt = 1 AND v_best IS NOT NULL THEN
					v_s[v_best] := true;
					v_changed := true;
				END IF;
			END LOOP;
		END LOOP;
		CONTINUE WHEN v_changed;
		-- 2. the first bridge left: close a cycle through it.
		FOR v_i IN 1 .. p_nr * p_nc LOOP
			CONTINUE WHEN NOT v_s[v_i];
			v_side := stats.bridge_side(v_s, p_nr, p_nc, v_i);
			CONTINUE WHEN v_side IS NULL;
			v_best := NULL;
			FOR r IN 0 .. p_nr - 1 LOOP
				FOR c IN 0 .. p_nc - 1 LOOP
					IF v_side[r + 1] <> v_side[p_nr + c + 1]
					    AND p_free[r * p_nc + c + 1]
					    AND NOT v_s[r * p_nc + c + 1]
					    AND (v_best IS NULL
					        OR p_v[r * p_nc + c + 1]
					            < p_v[v_best]) THEN
						v_best := r * p_nc + c + 1;
					END IF;
				END LOOP;
			END LOOP;
			IF v_best IS NOT NULL THEN
				v_s[v_best] := true;
				v_changed := true;
				EXIT;
			END IF;
		END LOOP;
		EXIT WHEN NOT v_changed;
	END LOOP;
	RETURN v_s;
END
$$;
COMMENT ON FUNCTION stats.suppress_grid(bigint[], boolean[], boolean[],
    integer, integer) IS
    'Secondary suppression on a 2-D grid: extend the pattern until no '
    'suppressed cell is a bridge of the suppressed cells'' row-column '
    'graph (so none is determined by the line sums).';

/*
 * The cells of a table that are published as null: p_values is the
 * table, row major (p_dims 0: one cell, the total; 1: one row of cells
 * whose sum, the total, is known; 2: rows of p_ncols cells, whose row
 * sums, column sums and total are the 1-D and 0-D tables of the same
 * measure and period).  Primary: a count in 1 .. p_k - 1 (zeros are
 * published).  Secondary: no suppressed cell may be derived, by linear
 * algebra, from the published cells and the margins as published (a
 * margin suppressed in its own table is an unknown too):
 *   1-D: zero or at least two suppressed cells.
 *   2-D: the table is augmented with its margins as an extra column and
 *   an extra row (the total in the corner) whose suppression is that of
 *   the 1-D and 0-D tables; every line of the augmented table sums to
 *   zero (margins with the opposite sign), so stats.suppress_grid
 *   applies, adding inner cells only.
 */
CREATE OR REPLACE FUNCTION stats.suppress(p_values bigint[], p_ncols integer,
    p_dims integer, p_k integer) RETURNS boolean[]
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n integer := COALESCE(pg_catalog.array_length(p_values, 1), 0);
	v_s boolean[];
	v_nr integer;
	v_rows bigint[];
	v_cols bigint[];
	v_rs boolean[];
	v_cs boolean[];
	v_av bigint[];
	v_as boolean[];
	v_af boolean[];
	v_out boolean[];
	v_best integer;
	r integer;
	c integer;
BEGIN
	IF v_n = 0 THEN
		RETURN '{}'::boolean[];
	END IF;
	SELECT pg_catalog.array_agg(x > 0 AND x < p_k ORDER BY i)
	INTO v_s
	FROM pg_catalog.unnest(p_values) WITH ORDINALITY AS u(x, i);
	IF p_dims = 0 THEN
		RETURN v_s;
	END IF;
	IF p_dims = 1 THEN
		IF (SELECT pg_catalog.count(*) FROM pg_catalog.unnest(v_s) AS b
		    WHERE b) = 1 THEN
			SELECT u.i INTO v_best
			FROM pg_catalog.unnest(p_values) WITH ORDINALITY
			    AS u(x, i)
			WHERE NOT v_s[u.i]
			ORDER BY u.x, u.i LIMIT 1;
			IF v_best IS NOT NULL THEN
				v_s[v_best] := true;
			END IF;
		END IF;
		RETURN v_s;
	END IF;
	IF p_ncols < 1 OR v_n % p_ncols <> 0 THEN
		RAISE EXCEPTION 'stats.suppress: % cells are no rows of %',
		    v_n, p_ncols USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_nr := v_n / p_ncols;
	SELECT pg_catalog.array_agg(s ORDER BY r0) INTO v_rows
	FROM (SELECT (i - 1) / p_ncols AS r0, pg_catalog.sum(x)::bigint AS s
	    FROM pg_catalog.unnest(p_values) WITH ORDINALITY AS u(x, i)
	    GROUP BY 1) q;
	SELECT pg_catalog.array_agg(s ORDER BY c0) INTO v_cols
	FROM (SELECT (i - 1) % p_ncols AS c0, pg_catalog.sum(x)::bigint AS s
	    FROM pg_catalog.unnest(p_values) WITH ORDINALITY AS u(x, i)
	    GROUP BY 1) q;
	v_rs := stats.suppress(v_rows, v_nr, 1, p_k);
	v_cs := stats.suppress(v_cols, p_ncols, 1, p_k);

	-- The augmented (v_nr + 1) x (p_ncols + 1) grid.
	v_av := '{}';
	v_as := '{}';
	v_af := '{}';
	FOR r IN 0 .. v_nr LOOP
		FOR c IN 0 .. p_ncols LOOP
			IF r < v_nr AND c < p_ncols THEN
				v_av := v_av || p_values[r * p_ncols + c + 1];
				v_as := v_as || v_s[r * p_ncols + c + 1];
				v_af := v_af || true;
			ELSIF r < v_nr THEN
				v_av := v_av || v_rows[r + 1];
				v_as := v_as || v_rs[r + 1];
				v_af := v_af || false;
			ELSIF c < p_ncols THEN
				v_av := v_av || v_cols[c + 1];
				v_as := v_as || v_cs[c + 1];
				v_af := v_af || false;
			ELSE
				v_av := v_av || pg_catalog.sum(x)::bigint
				    FROM pg_catalog.unnest(p_values) AS x;
				v_as := v_as || (SELECT pg_catalog.sum(x) > 0
				    AND pg_catalog.sum(x) < p_k
				    FROM pg_catalog.unnest(p_values) AS x);
				v_af := v_af || false;
			END IF;
		END LOOP;
	END LOOP;
	v_as := stats.suppress_grid(v_av, v_as, v_af, v_nr + 1, p_ncols + 1);
	v_out := '{}';
	FOR r IN 0 .. v_nr - 1 LOOP
		FOR c IN 0 .. p_ncols - 1 LOOP
			v_out := v_out || v_as[r * (p_ncols + 1) + c + 1];
		END LOOP;
	END LOOP;
	RETURN v_out;
END
$$;
COMMENT ON FUNCTION stats.suppress(bigint[], integer, integer, integer) IS
    'Which cells of a 0-, 1- or 2-D count table are suppressed for '
    'threshold p_k: primary (1..k-1) and secondary (none derivable from '
    'published cells and margins); docs/statistics.md.';

-- ---------------------------------------------------------------------
-- Tables.
-- ---------------------------------------------------------------------

-- {"<dim>": value} of a cell (minor as a boolean); {} without a dim.
CREATE OR REPLACE FUNCTION stats.cell_key(p_dim text, p_value text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_dim IS NULL THEN '{}'::jsonb
	    WHEN p_dim = 'minor' THEN pg_catalog.jsonb_build_object(p_dim,
	        p_value::boolean)
	    ELSE pg_catalog.jsonb_build_object(p_dim, p_value) END
$$;
COMMENT ON FUNCTION stats.cell_key(text, text) IS
    'A cell''s key for one dimension ({} for none).';

-- An instant as RFC 3339 in UTC (api.rfc3339's format).
CREATE OR REPLACE FUNCTION stats.rfc3339(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.to_char(p_at AT TIME ZONE 'UTC',
	    'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
COMMENT ON FUNCTION stats.rfc3339(timestamptz) IS
    'An instant as RFC 3339 text in UTC.';

/*
 * The answer body of one table: p_measure over p_period broken down by
 * p_by (0..2 dimension names), suppressed with stats.config's
 * threshold.  NULL when the arguments are not valid (the caller checked
 * them).
 */
CREATE OR REPLACE FUNCTION stats.compute(p_measure text, p_period text,
    p_by text[]) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_m record;
	v_p record;
	v_k integer;
	v_by text[] := COALESCE(p_by, '{}');
	v_nby integer := COALESCE(pg_catalog.cardinality(p_by), 0);
	v_c1 text[];
	v_c2 text[];
	v_nc integer;
	v_n bigint[];
	v_median numeric[];
	v_p90 numeric[];
	v_hidden boolean[];
	v_cells jsonb;
BEGIN
	SELECT * INTO v_m FROM stats.measures() m WHERE m.name = p_measure;
	SELECT * INTO v_p FROM stats.period(p_period);
	IF v_m.name IS NULL OR v_p.starts IS NULL OR v_nby > 2
	    OR NOT v_by <@ v_m.dims
	    OR (v_nby = 2 AND v_by[1] = v_by[2]) THEN
		RETURN NULL;
	END IF;
	SELECT c.statistics_min_cell INTO v_k FROM stats.config c;
	v_c1 := CASE WHEN v_nby >= 1 THEN stats.categories(v_by[1])
	    ELSE ARRAY[NULL::text] END;
	v_c2 := CASE WHEN v_nby = 2 THEN stats.categories(v_by[2])
	    ELSE ARRAY[NULL::text] END;

	SELECT pg_catalog.array_agg(t.n ORDER BY t.i1, t.i2),
	    pg_catalog.array_agg(t.median ORDER BY t.i1, t.i2),
	    pg_catalog.array_agg(t.p90 ORDER BY t.i1, t.i2)
	INTO v_n, v_median, v_p90
	FROM (SELECT k1.i AS i1, k2.i AS i2, pg_catalog.count(u.dims) AS n,
	    pg_catalog.round(pg_catalog.percentile_cont(0.5) WITHIN GROUP
	        (ORDER BY u.seconds::double precision)::numeric) AS median,
	    pg_catalog.round(pg_catalog.percentile_cont(0.9) WITHIN GROUP
	        (ORDER BY u.seconds::double precision)::numeric) AS p90
	    FROM pg_catalog.unnest(v_c1) WITH ORDINALITY AS k1(v, i)
	    CROSS JOIN pg_catalog.unnest(v_c2) WITH ORDINALITY AS k2(v, i)
	    LEFT JOIN stats.units(p_measure, v_p.starts, v_p.ends) u
	        ON (v_nby < 1 OR u.dims->>v_by[1] = k1.v)
	        AND (v_nby < 2 OR u.dims->>v_by[2] = k2.v)
	    GROUP BY k1.i, k2.i) t;
	v_nc := pg_catalog.cardinality(v_c2);
	IF v_m.kind = 'duration' THEN
		-- A median is not additive: primary suppression only.
		SELECT pg_catalog.array_agg(x > 0 AND x < v_k ORDER BY i)
		INTO v_hidden
		FROM pg_catalog.unnest(v_n) WITH ORDINALITY AS u(x, i);
	ELSE
		v_hidden := stats.suppress(v_n, v_nc, v_nby, v_k);
	END IF;

	SELECT pg_catalog.jsonb_agg(
	    stats.cell_key(v_by[1], v_c1[(j - 1) / v_nc + 1])
	    || stats.cell_key(v_by[2], v_c2[(j - 1) % v_nc + 1])
	    || CASE WHEN v_hidden[j] THEN
	        '{"value": null, "suppressed": true}'::jsonb
	        WHEN v_m.kind = 'count' THEN
	            pg_catalog.jsonb_build_object('value', v_n[j])
	        WHEN v_n[j] = 0 THEN '{"value": null}'::jsonb
	        ELSE pg_catalog.jsonb_build_object('value',
	            pg_catalog.jsonb_build_object('median', v_median[j],
	                'p90', v_p90[j])) END
	    ORDER BY j)
	INTO v_cells
	FROM pg_catalog.generate_series(1, pg_catalog.cardinality(v_n)) AS j;

	RETURN pg_catalog.jsonb_build_object('measure', p_measure,
	    'period', p_period,
	    'starts', stats.rfc3339(v_p.starts), 'ends', stats.rfc3339(v_p.ends),
	    'provisional', pg_catalog.now() < v_p.ends,
	    'by', pg_catalog.to_jsonb(v_by),
	    'unit', CASE v_m.kind WHEN 'count' THEN 'count' ELSE 'seconds' END,
	    'min_cell', v_k,
	    'cells', v_cells);
END
$$;
COMMENT ON FUNCTION stats.compute(text, text, text[]) IS
    'The suppressed table of a measure over a period by 0..2 dimensions '
    '(the body GET /v1/statistics answers); NULL for invalid arguments.';

-- The analyst's door: every measure.
CREATE OR REPLACE FUNCTION stats.table(p_measure text, p_period text,
    p_by text[]) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN stats.compute(p_measure, p_period, p_by);
END
$$;
COMMENT ON FUNCTION stats.table(text, text, text[]) IS
    'stats.compute for the analyst: SECURITY DEFINER owned by '
    'nrm_statistician, so the caller reads no row, only the suppressed '
    'table.';

-- The auditor's door: emergency reads only.
CREATE OR REPLACE FUNCTION stats.emergency_reads(p_period text,
    p_by text[]) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN stats.compute('emergency_reads', p_period, p_by);
END
$$;
COMMENT ON FUNCTION stats.emergency_reads(text, text[]) IS
    'stats.compute of emergency_reads for the auditor (SECURITY DEFINER '
    'owned by nrm_statistician).';

-- ---------------------------------------------------------------------
-- The entry point.
-- ---------------------------------------------------------------------

/*
 * GET /v1/statistics?measure=&period=&by=: role analyst, or auditor for
 * emergency_reads (another measure: 403, audited denied
 * measure_not_permitted).  p_by is the comma-separated list as sent
 * (NULL or empty: no breakdown).  400 naming measure, period or by
 * (audited failed/bad_request) when nrmd's check (statvocab.h) was
 * bypassed.  One audit event per read: statistics.read on object
 * statistics/<measure>, purpose monitoring (auditor: audit); no
 * personal data.
 */
CREATE OR REPLACE FUNCTION api.statistics_body(p_token_hash bytea,
    p_request_id text, p_client inet, p_measure text, p_period text,
    p_by text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_m record;
	v_by text[] := CASE WHEN COALESCE(p_by, '') = '' THEN '{}'::text[]
	    ELSE pg_catalog.string_to_array(p_by, ',') END;
	v_purpose text;
	v_body jsonb;
BEGIN
	SELECT * INTO v_m FROM stats.measures() m WHERE m.name = p_measure;
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id, p_client,
	    ARRAY['analyst', 'auditor'], 'statistics.read', 'statistics',
	    v_m.name);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	v_purpose := CASE v_p.role WHEN 'auditor' THEN 'audit'
	    ELSE 'monitoring' END;

	IF v_m.name IS NULL THEN
		RETURN api.refuse(v_p, v_purpose, 'failed', 'bad_request',
		    api.problem(400, 'bad_request', 'unknown measure',
		        'measure'));
	END IF;
	IF v_p.role = 'auditor' AND NOT v_m.auditor THEN
		RETURN api.refuse(v_p, v_purpose, 'denied',
		    'measure_not_permitted', api.problem(403, 'forbidden',
		        'an auditor may read emergency_reads only'));
	END IF;
	IF NOT EXISTS (SELECT 1 FROM stats.period(p_period)) THEN
		RETURN api.refuse(v_p, v_purpose, 'failed', 'bad_request',
		    api.problem(400, 'bad_request',
		        'period must be YYYY-MM, YYYY-Qn or YYYY (2000..9999)',
		        'period'));
	END IF;
	IF pg_catalog.cardinality(v_by) > 2 OR NOT v_by <@ v_m.dims
	    OR (pg_catalog.cardinality(v_by) = 2 AND v_by[1] = v_by[2]) THEN
		RETURN api.refuse(v_p, v_purpose, 'failed', 'bad_request',
		    api.problem(400, 'bad_request',
		        'by must name at most two distinct dimensions of the '
		        'measure', 'by'));
	END IF;

	-- Two statements: a CASE expression would check EXECUTE on both.
	IF v_p.role = 'auditor' THEN
		v_body := stats.emergency_reads(p_period, v_by);
	ELSE
		v_body := stats.table(p_measure, p_period, v_by);
	END IF;
	RETURN api.answer(v_p, v_purpose,
	    pg_catalog.jsonb_build_object('status', 200, 'body', v_body));
END
$$;
COMMENT ON FUNCTION api.statistics_body(bytea, text, inet, text, text,
    text) IS
    'GET /v1/statistics: one suppressed table (analyst; auditor for '
    'emergency_reads), audited statistics.read.';
GRANT EXECUTE ON FUNCTION api.statistics_body(bytea, text, inet, text, text,
    text) TO nrm_analyst, nrm_auditor;

-- ---------------------------------------------------------------------
-- Ownership and grants.  The helpers run inside the SECURITY DEFINER
-- doors as nrm_statistician; only the doors are granted to API roles.
-- ---------------------------------------------------------------------
REVOKE ALL ON FUNCTION stats.measures(), stats.categories(text),
    stats.period(text), stats.age_band(integer),
    stats.nationality_group(text),
    stats.units(text, timestamptz, timestamptz),
    stats.bridge_side(boolean[], integer, integer, integer),
    stats.suppress_grid(bigint[], boolean[], boolean[], integer, integer),
    stats.suppress(bigint[], integer, integer, integer),
    stats.cell_key(text, text), stats.rfc3339(timestamptz),
    stats.compute(text, text, text[]),
    stats.table(text, text, text[]),
    stats.emergency_reads(text, text[])
    FROM PUBLIC;
REVOKE ALL ON stats.signal_fact FROM PUBLIC;
GRANT SELECT ON stats.signal_fact TO nrm_statistician;
GRANT EXECUTE ON FUNCTION stats.measures(), stats.categories(text),
    stats.period(text), stats.age_band(integer),
    stats.nationality_group(text),
    stats.units(text, timestamptz, timestamptz),
    stats.bridge_side(boolean[], integer, integer, integer),
    stats.suppress_grid(bigint[], boolean[], boolean[], integer, integer),
    stats.suppress(bigint[], integer, integer, integer),
    stats.cell_key(text, text), stats.rfc3339(timestamptz),
    stats.compute(text, text, text[])
    TO nrm_statistician;
-- api.statistics checks the request as the API role before the door.
-- nrm_app calls it only through its door (99_doors.sql).
GRANT EXECUTE ON FUNCTION stats.measures(), stats.period(text)
    TO nrm_analyst, nrm_auditor;
GRANT EXECUTE ON FUNCTION stats.table(text, text, text[]) TO nrm_analyst;
GRANT EXECUTE ON FUNCTION stats.emergency_reads(text, text[])
    TO nrm_auditor;

-- The doors run as nrm_statistician.  A new owner needs CREATE on the
-- schema at the moment of the change only.
GRANT CREATE ON SCHEMA stats TO nrm_statistician;
ALTER FUNCTION stats.table(text, text, text[]) OWNER TO nrm_statistician;
ALTER FUNCTION stats.emergency_reads(text, text[])
    OWNER TO nrm_statistician;
REVOKE CREATE ON SCHEMA stats FROM nrm_statistician;
