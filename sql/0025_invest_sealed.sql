-- 0025_invest_sealed.sql - the police and prosecution references of an
-- investigation record sealed by nrmd (issue 15, docs/data-protection.md
-- "The investigation track"): a data key per record in schema invest,
-- wrapped by the same KEK set as the care side's, readable by the
-- investigators of the record's agency only (the separation of tracks,
-- docs/separation.md: they never see care.data_key); the erasure of a
-- case destroys it through nrm_invest_eraser, which reads nothing.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  The function bodies stand in sql/api/50_tracks.sql
-- (invest.record_json, invest.body_problem, the api.invest_* doors) and
-- sql/api/82_privacy.sql (invest.erase_signal).

-- ---------------------------------------------------------------------
-- invest.data_key: one per record, made and wrapped by nrmd.  Its
-- shape is care.data_key's (0017): id, the KEK that wraps it, the
-- wrapped key (nonce[12] | AES-256-GCM(KEK, key)[32] | tag[16]),
-- destroyed_at once shredded.
-- ---------------------------------------------------------------------
CREATE TABLE invest.data_key (
	id uuid NOT NULL,
	record_id uuid NOT NULL,
	kek_id text NOT NULL,
	wrapped bytea,
	created_at timestamptz NOT NULL DEFAULT now(),
	destroyed_at timestamptz,
	CONSTRAINT data_key_pkey PRIMARY KEY (id),
	CONSTRAINT data_key_record_id_fkey FOREIGN KEY (record_id)
	    REFERENCES invest.record (id),
	CONSTRAINT data_key_kek_id_check CHECK (kek_id ~ '^[0-9a-f]{16}$'),
	CONSTRAINT data_key_wrapped_check
	    CHECK (wrapped IS NULL OR octet_length(wrapped) = 60),
	CONSTRAINT data_key_destroyed_check
	    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);
CREATE UNIQUE INDEX data_key_record_id_key ON invest.data_key (record_id);
CREATE INDEX data_key_kek_id_idx ON invest.data_key (kek_id);
COMMENT ON TABLE invest.data_key IS
    'The data key of an investigation record''s sealed references: 32 '
    'random bytes per record, wrapped by nrmd with the key-encryption key '
    'named by kek_id (the KEK set of care.data_key).  Readable by the '
    'investigators of the record''s agency only; destroyed (wrapped NULL) '
    'when the case or signal the record is about is erased.';

-- A data key is never wrapped by a retired KEK (0020), here either; the
-- trigger function (sql/api/81_kek.sql) names the table it refuses for.
CREATE TRIGGER data_key_not_retired BEFORE INSERT OR UPDATE
ON invest.data_key
FOR EACH ROW EXECUTE FUNCTION care.data_key_not_retired();

-- ---------------------------------------------------------------------
-- The sealed references: 0x01 | data key id[16] | nonce[12] |
-- ciphertext | tag[16] (at most 100 characters, 400 bytes of UTF-8),
-- AAD "invest.record/<column>/<record id>".  The plaintext columns keep
-- only what was stored before 0025, until `nrmctl data encrypt`.
-- ---------------------------------------------------------------------
ALTER TABLE invest.record
    ADD COLUMN data_key_id uuid,
    ADD COLUMN police_reference_ct bytea,
    ADD COLUMN prosecution_reference_ct bytea,
    ADD CONSTRAINT record_data_key_id_fkey FOREIGN KEY (data_key_id)
        REFERENCES invest.data_key (id) DEFERRABLE INITIALLY DEFERRED,
    -- the shape of care.sealed_ok, written out: investigators have no
    -- USAGE on schema care (docs/separation.md)
    ADD CONSTRAINT record_sealed_check CHECK (
        (police_reference_ct IS NULL
         OR (octet_length(police_reference_ct) BETWEEN 45 AND 445
             AND get_byte(police_reference_ct, 0) = 1))
        AND (prosecution_reference_ct IS NULL
         OR (octet_length(prosecution_reference_ct) BETWEEN 45 AND 445
             AND get_byte(prosecution_reference_ct, 0) = 1))),
    ADD CONSTRAINT record_sealed_key_check CHECK (data_key_id IS NOT NULL
        OR num_nonnulls(police_reference_ct, prosecution_reference_ct) = 0);
COMMENT ON COLUMN invest.record.police_reference_ct IS
    'PERSONAL DATA, sealed (AAD "invest.record/police_reference/<id>") '
    'with the record''s data key (invest.data_key); likewise '
    'prosecution_reference_ct.  The plaintext columns hold only records '
    'stored before 0025.';

-- No new plaintext reference (care.refuse_plaintext, 0017).
CREATE TRIGGER record_plaintext BEFORE INSERT OR UPDATE ON invest.record
FOR EACH ROW EXECUTE FUNCTION care.refuse_plaintext('police_reference',
    'prosecution_reference');

-- ---------------------------------------------------------------------
-- Investigators: the data keys of their agency's records (row-level
-- security through the record's own policy), written with a record.
-- ---------------------------------------------------------------------
ALTER TABLE invest.data_key ENABLE ROW LEVEL SECURITY;
CREATE POLICY data_key_investigator_select ON invest.data_key
FOR SELECT TO nrm_investigator
USING (EXISTS (SELECT 1 FROM invest.record r WHERE r.id = record_id));
CREATE POLICY data_key_investigator_insert ON invest.data_key
FOR INSERT TO nrm_investigator
WITH CHECK (EXISTS (SELECT 1 FROM invest.record r WHERE r.id = record_id));
COMMENT ON POLICY data_key_investigator_select ON invest.data_key IS
    'Investigators: the keys of the records they see (their agency''s).';
COMMENT ON POLICY data_key_investigator_insert ON invest.data_key IS
    'Investigators: a key for a record of their agency.';
REVOKE ALL ON invest.data_key FROM PUBLIC;
GRANT SELECT, INSERT ON invest.data_key TO nrm_investigator;
GRANT UPDATE (data_key_id, police_reference_ct, prosecution_reference_ct)
    ON invest.record TO nrm_investigator;

-- ---------------------------------------------------------------------
-- nrm_invest_eraser: NOLOGIN, nobody's member but the owner's; owns
-- invest.erase_signal (82_privacy.sql), which the erasure of a case
-- (care.erase_signal, nrm_privacy) calls.  It finds a case's records by
-- their signal or case id and shreds them: no reference, key or other
-- column of the investigation track is readable by it, and nrm_privacy
-- gains nothing of schema invest but that one function.
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_invest_eraser') THEN
		CREATE ROLE nrm_invest_eraser NOLOGIN;
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, 'nrm_invest_eraser',
	    'MEMBER') THEN
		EXECUTE pg_catalog.format('GRANT nrm_invest_eraser TO %I',
		    current_user);
	END IF;
END
$roles$;
COMMENT ON ROLE nrm_invest_eraser IS
    'nrm: owner of invest.erase_signal (SECURITY DEFINER): destroys the '
    'data keys and clears the references of the investigation records '
    'about an erased signal or case.  NOLOGIN; reads only the ids it '
    'needs to find them.';
GRANT USAGE ON SCHEMA invest TO nrm_invest_eraser;
GRANT SELECT (id, signal_id, case_id) ON invest.record
    TO nrm_invest_eraser;
GRANT UPDATE (police_reference, prosecution_reference, police_reference_ct,
    prosecution_reference_ct) ON invest.record TO nrm_invest_eraser;
GRANT SELECT (id, record_id, destroyed_at) ON invest.data_key
    TO nrm_invest_eraser;
GRANT UPDATE (wrapped, destroyed_at) ON invest.data_key
    TO nrm_invest_eraser;
CREATE POLICY record_invest_eraser_select ON invest.record
FOR SELECT TO nrm_invest_eraser USING (true);
CREATE POLICY record_invest_eraser_update ON invest.record
FOR UPDATE TO nrm_invest_eraser USING (true) WITH CHECK (true);
CREATE POLICY data_key_invest_eraser_select ON invest.data_key
FOR SELECT TO nrm_invest_eraser USING (true);
CREATE POLICY data_key_invest_eraser_update ON invest.data_key
FOR UPDATE TO nrm_invest_eraser USING (true) WITH CHECK (true);
COMMENT ON POLICY record_invest_eraser_select ON invest.record IS
    'invest.erase_signal: the records of an erased signal or case, any '
    'agency (the column grants keep it to their ids).';
COMMENT ON POLICY record_invest_eraser_update ON invest.record IS
    'invest.erase_signal clears the references of those records.';
COMMENT ON POLICY data_key_invest_eraser_select ON invest.data_key IS
    'invest.erase_signal: the keys of those records, any agency (ids '
    'only).';
COMMENT ON POLICY data_key_invest_eraser_update ON invest.data_key IS
    'invest.erase_signal destroys those keys.';

-- ---------------------------------------------------------------------
-- A door may serve three API roles: api.data_unreadable (a sealed value
-- that did not open) is the coordinator's, the assessor's and now the
-- investigator's (99_doors.sql writes an implementation per role).
-- ---------------------------------------------------------------------
ALTER TABLE nrm.door
    DROP CONSTRAINT door_roles_check,
    ADD CONSTRAINT door_roles_check
        CHECK (pg_catalog.cardinality(roles) BETWEEN 1 AND 4);
