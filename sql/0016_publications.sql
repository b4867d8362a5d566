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

-- ---------------------------------------------------------------------
-- Publications: every indicator of the register frozen for a closed
-- period, hashed and signed by nrmd with the audit signing key.  A
-- correction is a new revision; a row is never changed or removed.
-- Written and read only through the statistician's SECURITY DEFINER
-- functions (sql/api/78_publications.sql): the analyst reads no row.
-- ---------------------------------------------------------------------
CREATE TABLE stats.publication (
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	period text NOT NULL,
	revision integer NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by uuid NOT NULL,
	content jsonb NOT NULL,
	content_sha256 text NOT NULL,
	signature text NOT NULL,
	previous_id uuid,
	changes text,
	CONSTRAINT publication_pkey PRIMARY KEY (id),
	CONSTRAINT publication_period_revision_key UNIQUE (period, revision),
	CONSTRAINT publication_previous_id_fkey FOREIGN KEY (previous_id)
	    REFERENCES stats.publication (id),
	CONSTRAINT publication_period_check
	    CHECK (period ~ '^[2-9][0-9]{3}(-(0[1-9]|1[0-2])|-Q[1-4])?$'),
	CONSTRAINT publication_revision_check CHECK (revision >= 1),
	CONSTRAINT publication_previous_check
	    CHECK ((revision = 1) = (previous_id IS NULL)),
	CONSTRAINT publication_changes_check
	    CHECK ((revision = 1) = (changes IS NULL)),
	CONSTRAINT publication_content_hash_check
	    CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
	CONSTRAINT publication_signature_check
	    CHECK (signature ~ '^[A-Za-z0-9+/]{86}==$'),
	CONSTRAINT publication_content_check
	    CHECK (jsonb_typeof(content->'indicators') = 'array'
	        AND content->>'period' = period
	        AND (content->>'revision')::integer = revision)
);
COMMENT ON TABLE stats.publication IS
    'The indicators register frozen for a closed period (docs/indicators.md, '
    '"Publications"): content (every entry with its suppressed values), '
    'its SHA-256 over the canonical JSON and nrmd''s Ed25519 signature '
    'with the audit signing key.  created_by is the API key id.  '
    'Append-only (trigger); no personal data.';

CREATE FUNCTION stats.publication_immutable() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION 'a publication is never changed or removed: publish '
	    'a new revision' USING ERRCODE = 'insufficient_privilege';
END
$$;
COMMENT ON FUNCTION stats.publication_immutable() IS
    'Refuses UPDATE, DELETE and TRUNCATE of stats.publication.';
CREATE TRIGGER publication_immutable
BEFORE UPDATE OR DELETE ON stats.publication
FOR EACH ROW EXECUTE FUNCTION stats.publication_immutable();
CREATE TRIGGER publication_no_truncate
BEFORE TRUNCATE ON stats.publication
FOR EACH STATEMENT EXECUTE FUNCTION stats.publication_immutable();

REVOKE ALL ON stats.publication FROM PUBLIC;
GRANT SELECT, INSERT ON stats.publication TO nrm_statistician;
