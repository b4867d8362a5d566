-- 0013_statistics.sql - statistics without row-level access (issue 13):
-- the role that computes them, the schema that holds their setting, and
-- the end of the analyst's SELECT on signals, cases and their history
-- (docs/statistics.md).  The functions are in sql/api/75_statistics.sql.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.

-- ---------------------------------------------------------------------
-- The statistician's role.  NOLOGIN, and nrm_app is NOT a member: the
-- aggregates are computed by SECURITY DEFINER functions it owns
-- (stats.table, stats.emergency_reads), which answer suppressed tables
-- only; nobody can SET ROLE to it to read the rows.  nrm_owner becomes
-- a member only to hand the functions over (ALTER FUNCTION ... OWNER).
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_statistician') THEN
		CREATE ROLE nrm_statistician NOLOGIN;
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, 'nrm_statistician',
	    'MEMBER') THEN
		EXECUTE pg_catalog.format('GRANT nrm_statistician TO %I',
		    current_user);
	END IF;
	IF pg_catalog.pg_has_role('nrm_app', 'nrm_statistician', 'MEMBER')
	THEN
		REVOKE nrm_statistician FROM nrm_app;
	END IF;
END
$roles$;
COMMENT ON ROLE nrm_statistician IS
    'nrm: owner of the statistics functions (SECURITY DEFINER); reads the '
    'columns the measures count, never a name or a narrative.  NOLOGIN; '
    'nrm_app is no member.';

-- ---------------------------------------------------------------------
-- stats: the disclosure-control setting.
-- ---------------------------------------------------------------------
CREATE SCHEMA stats;
COMMENT ON SCHEMA stats IS
    'Statistics: the disclosure-control setting and the functions that '
    'compute suppressed tables (docs/statistics.md).';

CREATE TABLE stats.config (
	id boolean NOT NULL DEFAULT true,
	statistics_min_cell integer NOT NULL DEFAULT 10,
	CONSTRAINT config_pkey PRIMARY KEY (id),
	CONSTRAINT config_id_check CHECK (id),
	CONSTRAINT config_statistics_min_cell_check
	    CHECK (statistics_min_cell BETWEEN 2 AND 1000)
);
INSERT INTO stats.config DEFAULT VALUES;
COMMENT ON TABLE stats.config IS
    'One row: statistics_min_cell, the smallest count a published cell '
    'may hold (default 10; a duration needs as many cases).  A database '
    'setting, not a daemon one, so the login role nrm_app cannot lower '
    'it: the owner changes it with UPDATE stats.config SET '
    'statistics_min_cell = 11.  No personal data.';

-- ---------------------------------------------------------------------
-- The analyst loses every row: statistics come from api.statistics.
-- ---------------------------------------------------------------------
DROP POLICY case_analyst_select ON care.case;
DROP POLICY signal_analyst_select ON intake.signal;
DROP POLICY case_history_analyst_select ON care.case_history;
REVOKE SELECT ON intake.signal, care.case, care.case_history
    FROM nrm_analyst;
REVOKE SELECT ON ref.region, ref.municipality FROM nrm_analyst;
REVOKE USAGE ON SCHEMA intake, care, ref FROM nrm_analyst;

-- ---------------------------------------------------------------------
-- The statistician reads the counted columns (row-level security lets
-- it see every row of the tables that have it).
-- ---------------------------------------------------------------------
CREATE POLICY signal_statistician_select ON intake.signal
FOR SELECT TO nrm_statistician USING (true);
CREATE POLICY case_statistician_select ON care.case
FOR SELECT TO nrm_statistician USING (true);
CREATE POLICY case_history_statistician_select ON care.case_history
FOR SELECT TO nrm_statistician USING (true);
CREATE POLICY subject_statistician_select ON care.subject
FOR SELECT TO nrm_statistician USING (true);
CREATE POLICY decision_statistician_select ON ident.decision
FOR SELECT TO nrm_statistician USING (true);
COMMENT ON POLICY signal_statistician_select ON intake.signal IS
    'The statistics functions count every signal (aggregates only).';
COMMENT ON POLICY case_statistician_select ON care.case IS
    'The statistics functions count every case (aggregates only).';
COMMENT ON POLICY case_history_statistician_select ON care.case_history IS
    'The statistics functions count every history entry (codes only).';
COMMENT ON POLICY subject_statistician_select ON care.subject IS
    'The statistics functions compare pseudonyms (repeat signals); the '
    'column grant excludes every other subject column.';
COMMENT ON POLICY decision_statistician_select ON ident.decision IS
    'The statistics functions count decisions (stage, outcome, date; '
    'never the rationale).';

GRANT USAGE ON SCHEMA intake, care, ident, audit, auth, ref, stats
    TO nrm_statistician;
GRANT SELECT (id, received_at, agency_id, region_code, minor, age_estimate,
    gender, nationality, exploitation, notification_only)
    ON intake.signal TO nrm_statistician;
GRANT SELECT (id, signal_id, priority, created_at) ON care.case
    TO nrm_statistician;
GRANT SELECT (id, case_id, at, action, detail) ON care.case_history
    TO nrm_statistician;
GRANT SELECT (case_id, at, from_region) ON care.escalation
    TO nrm_statistician;
GRANT SELECT (signal_id, pseudonym) ON care.subject TO nrm_statistician;
GRANT SELECT (case_id, stage, outcome, decided_on, recorded_at)
    ON ident.decision TO nrm_statistician;
GRANT SELECT (id, at, object_type, object_id) ON audit.event
    TO nrm_statistician;
GRANT SELECT (event_id, kind, verdict) ON audit.review TO nrm_statistician;
GRANT SELECT (id, kind) ON auth.agency TO nrm_statistician;
GRANT SELECT (code) ON ref.region TO nrm_statistician;
GRANT SELECT ON stats.config TO nrm_statistician;

-- The API roles that read statistics call into the schema (the
-- functions' grants are in sql/api/75_statistics.sql).
GRANT USAGE ON SCHEMA stats TO nrm_analyst, nrm_auditor;
-- nrm_app reads the vocabulary before it authenticates (api.statistics
-- names the measure in the audit event only when it is one).
GRANT USAGE ON SCHEMA stats TO nrm_app;
