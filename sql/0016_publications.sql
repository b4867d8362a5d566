-- 0016_publications.sql - the decoupling indicator's dimension and the
-- publications of the indicators register (issue 13; docs/statistics.md,
-- docs/indicators.md, docs/separation.md).
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.

-- ---------------------------------------------------------------------
-- The statistician learns whether an investigation record exists for a
-- case (or its signal) and since when: the three columns that say so,
-- never a reference, a report date or a status.  The count it feeds
-- (identification_decisions by investigation) reaches the analyst only,
-- suppressed like every table; the care side never sees it
-- (docs/separation.md, "Statistics").
-- ---------------------------------------------------------------------
CREATE POLICY record_statistician_select ON invest.record
FOR SELECT TO nrm_statistician USING (true);
COMMENT ON POLICY record_statistician_select ON invest.record IS
    'The statistics functions ask whether a record exists for a case '
    'or signal (case_id, signal_id, created_at only; column grant).';
GRANT USAGE ON SCHEMA invest TO nrm_statistician;
GRANT SELECT (case_id, signal_id, created_at) ON invest.record
    TO nrm_statistician;
