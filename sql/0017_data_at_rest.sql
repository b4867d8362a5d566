-- 0017_data_at_rest.sql - personal data encrypted at rest by nrmd
-- (issue 15, docs/data-protection.md): the data keys (wrapped by the
-- KEK, which never reaches the database), a bytea ciphertext column
-- beside every personal-data column of care.subject and intake.signal,
-- and the case body that hands the ciphertexts back to nrmd.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.

-- ---------------------------------------------------------------------
-- Data keys: one per signal (its subject and its reporter reference),
-- made and wrapped by nrmd.  The unit of erasure: destroying a signal's
-- data keys (wrapped := NULL, destroyed_at := now()) makes its
-- ciphertexts unreadable for good.
-- ---------------------------------------------------------------------
CREATE TABLE care.data_key (
	id uuid NOT NULL,
	signal_id uuid NOT NULL,
	kek_id text NOT NULL,
	wrapped bytea,
	created_at timestamptz NOT NULL DEFAULT now(),
	destroyed_at timestamptz,
	CONSTRAINT data_key_pkey PRIMARY KEY (id),
	CONSTRAINT data_key_signal_id_fkey FOREIGN KEY (signal_id)
	    REFERENCES intake.signal (id),
	CONSTRAINT data_key_kek_id_check CHECK (kek_id ~ '^[0-9a-f]{16}$'),
	-- nonce[12] | AES-256-GCM(KEK, key)[32] | tag[16]
	CONSTRAINT data_key_wrapped_check
	    CHECK (wrapped IS NULL OR octet_length(wrapped) = 60),
	CONSTRAINT data_key_destroyed_check
	    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);
CREATE INDEX data_key_signal_id_idx ON care.data_key (signal_id);
CREATE INDEX data_key_kek_id_idx ON care.data_key (kek_id);
COMMENT ON TABLE care.data_key IS
    'The data keys of personal data at rest: 32 random bytes per signal, '
    'wrapped by nrmd with the key-encryption key named by kek_id (the '
    'first 8 bytes of its SHA-256, hex).  Useless without the KEK, which '
    'never reaches the database.  Erasure destroys the key '
    '(docs/data-protection.md).';

-- A sealed value: 0x01 | data key id[16] | nonce[12] | ciphertext |
-- tag[16], 45 bytes more than the plaintext (at most p_max bytes).
CREATE FUNCTION care.sealed_ok(p_v bytea, p_max integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p_v IS NULL OR (pg_catalog.octet_length(p_v)
	    BETWEEN 45 AND 45 + p_max AND pg_catalog.get_byte(p_v, 0) = 1)
$$;
COMMENT ON FUNCTION care.sealed_ok(bytea, integer) IS
    'Whether p_v is null or has the shape of a sealed value of at most '
    'p_max plaintext bytes (docs/data-protection.md).';

-- Standard base64 on one line (encode() breaks it every 76 characters):
-- how ciphertexts travel in the api.* JSON (docs/sql-api.md).
CREATE FUNCTION care.b64(p_v bytea) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.translate(pg_catalog.encode(p_v, 'base64'),
	    E'\n', '')
$$;
COMMENT ON FUNCTION care.b64(bytea) IS
    'Standard base64 of p_v without line breaks (NULL for NULL).';

-- One sealed value of an answer for nrmd: where its plaintext goes in
-- the body (p_path), its associated data (p_column "/" p_row), the
-- value in base64; NULL when there is none (docs/sql-api.md).
CREATE FUNCTION care.sealed_field(p_path text, p_column text, p_row uuid,
    p_value bytea) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN p_value IS NOT NULL THEN
	    pg_catalog.jsonb_build_object('path', p_path,
	        'aad', p_column || '/' || p_row::text,
	        'value', care.b64(p_value)) END
$$;
COMMENT ON FUNCTION care.sealed_field(text, text, uuid, bytea) IS
    'One sealed value of an answer: {path, aad, value}, or NULL.';

-- The data key is written after its signal (its foreign key), in the
-- same transaction: the signal's reference to it is checked at commit.
ALTER TABLE intake.signal
    ADD COLUMN data_key_id uuid,
    ADD COLUMN reporter_reference_ct bytea,
    ADD CONSTRAINT signal_data_key_id_fkey FOREIGN KEY (data_key_id)
        REFERENCES care.data_key (id) DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT signal_reporter_reference_ct_check
        CHECK (care.sealed_ok(reporter_reference_ct, 100)),
    ADD CONSTRAINT signal_sealed_key_check
        CHECK (reporter_reference_ct IS NULL OR data_key_id IS NOT NULL);
COMMENT ON COLUMN intake.signal.reporter_reference_ct IS
    'PERSONAL DATA, sealed: the reporter''s reference (AAD '
    '"intake.signal/reporter_reference/<id>").  reporter_reference holds '
    'only the plaintext of signals stored before 0017.';

ALTER TABLE care.subject
    ADD COLUMN data_key_id uuid,
    ADD COLUMN given_name_ct bytea,
    ADD COLUMN family_name_ct bytea,
    ADD COLUMN birth_date_ct bytea,
    ADD COLUMN phone_ct bytea,
    ADD COLUMN address_ct bytea,
    ADD COLUMN narrative_ct bytea,
    ADD CONSTRAINT subject_data_key_id_fkey FOREIGN KEY (data_key_id)
        REFERENCES care.data_key (id) DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT subject_sealed_check CHECK (
        care.sealed_ok(given_name_ct, 200)
        AND care.sealed_ok(family_name_ct, 200)
        AND care.sealed_ok(birth_date_ct, 10)
        AND care.sealed_ok(phone_ct, 40)
        AND care.sealed_ok(address_ct, 500)
        AND care.sealed_ok(narrative_ct, 8000)),
    ADD CONSTRAINT subject_sealed_key_check CHECK (data_key_id IS NOT NULL
        OR pg_catalog.num_nonnulls(given_name_ct, family_name_ct,
            birth_date_ct, phone_ct, address_ct, narrative_ct) = 0);
CREATE INDEX subject_data_key_id_idx ON care.subject (data_key_id)
    WHERE data_key_id IS NOT NULL;
COMMENT ON COLUMN care.subject.given_name_ct IS
    'PERSONAL DATA, sealed (AAD "care.subject/given_name/<signal id>"); '
    'likewise family_name_ct, birth_date_ct (YYYY-MM-DD), phone_ct, '
    'address_ct, narrative_ct.  The plaintext columns hold only rows '
    'stored before 0017.';

-- The wrapped data key of an answer for nrmd: {id, kek_id, wrapped}
-- (wrapped null once destroyed), or NULL when there is no such key.
CREATE FUNCTION care.data_key_json(p_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('id', k.id, 'kek_id', k.kek_id,
	    'wrapped', care.b64(k.wrapped))
	FROM care.data_key k WHERE k.id = p_id
$$;
COMMENT ON FUNCTION care.data_key_json(uuid) IS
    'The data key p_id as an answer carries it for nrmd: id, KEK id, '
    'wrapped key (base64; null once destroyed).';

-- The rationale of an identification entry: a data key per entry, of
-- the case's signal (so that erasing a case's keys erases it too).
ALTER TABLE ident.decision
    ADD COLUMN data_key_id uuid,
    ADD COLUMN rationale_ct bytea,
    ADD CONSTRAINT decision_data_key_id_fkey FOREIGN KEY (data_key_id)
        REFERENCES care.data_key (id) DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT decision_rationale_ct_check
        CHECK (care.sealed_ok(rationale_ct, 4000)),
    ADD CONSTRAINT decision_sealed_key_check
        CHECK (rationale_ct IS NULL OR data_key_id IS NOT NULL);
COMMENT ON COLUMN ident.decision.rationale_ct IS
    'PERSONAL DATA, sealed (AAD "ident.decision/rationale/<id>") with the '
    'entry''s own data key (care.data_key of the case''s signal).  '
    'rationale holds only the plaintext of entries stored before 0017.';

-- The answer shape of one entry, ident.entry_json (0006), gives its
-- sealed rationale in "sealed" for nrmd (none for an entry stored before
-- 0017): the function stands in sql/api/50_tracks.sql with its comment
-- and grants (0023 changed it again).

-- ---------------------------------------------------------------------
-- No new plaintext: the plaintext columns keep only what was stored
-- before 0017, until `nrmctl data encrypt` (a later stop) seals it; an
-- INSERT may not fill them and an UPDATE may only clear them.
-- (ident.decision.rationale: nrmd writes it sealed only, but its direct
-- write path stays open until the database tests that record plaintext
-- rationales move over; docs/data-protection.md.)
-- ---------------------------------------------------------------------
CREATE FUNCTION care.refuse_plaintext() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_new jsonb := pg_catalog.to_jsonb(NEW);
	v_old jsonb := CASE WHEN TG_OP = 'UPDATE' THEN pg_catalog.to_jsonb(OLD)
	    ELSE '{}'::jsonb END;
	v_col text;
BEGIN
	FOREACH v_col IN ARRAY TG_ARGV LOOP
		IF v_new->v_col IS NOT NULL AND v_new->v_col <> 'null'::jsonb
		    AND v_new->v_col IS DISTINCT FROM v_old->v_col THEN
			RAISE EXCEPTION 'personal data are stored sealed: %.% '
			    'takes no new plaintext (docs/data-protection.md)',
			    TG_TABLE_NAME, v_col
			    USING ERRCODE = 'check_violation',
			    COLUMN = v_col, TABLE = TG_TABLE_NAME,
			    SCHEMA = TG_TABLE_SCHEMA,
			    CONSTRAINT = TG_TABLE_NAME || '_plaintext_check';
		END IF;
	END LOOP;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION care.refuse_plaintext() IS
    'Trigger: the columns named in its arguments take no new value '
    '(INSERT) and no changed one (UPDATE), only NULL: personal data are '
    'stored sealed (docs/data-protection.md).';
CREATE TRIGGER subject_plaintext BEFORE INSERT OR UPDATE ON care.subject
FOR EACH ROW EXECUTE FUNCTION care.refuse_plaintext('given_name',
    'family_name', 'birth_date', 'phone', 'address', 'narrative');
CREATE TRIGGER signal_plaintext BEFORE INSERT OR UPDATE ON intake.signal
FOR EACH ROW EXECUTE FUNCTION care.refuse_plaintext('reporter_reference');

-- ---------------------------------------------------------------------
-- Grants: reporters write data keys with their signals (nrmd made and
-- wrapped them); the readers of personal data read them.  Nobody
-- updates or deletes one yet (erasure is a later stop).
-- ---------------------------------------------------------------------
REVOKE ALL ON care.data_key FROM PUBLIC;
REVOKE ALL ON FUNCTION care.b64(bytea), care.sealed_ok(bytea, integer),
    care.sealed_field(text, text, uuid, bytea), care.data_key_json(uuid)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION care.b64(bytea), care.sealed_ok(bytea, integer)
    TO nrm_app, nrm_reporter, nrm_coordinator, nrm_assessor;
GRANT EXECUTE ON FUNCTION care.sealed_field(text, text, uuid, bytea),
    care.data_key_json(uuid) TO nrm_coordinator, nrm_assessor;
GRANT INSERT ON care.data_key TO nrm_reporter, nrm_coordinator,
    nrm_assessor;
GRANT SELECT ON care.data_key TO nrm_coordinator, nrm_assessor;
GRANT SELECT (data_key_id, reporter_reference_ct) ON intake.signal
    TO nrm_assessor;
GRANT SELECT (data_key_id, given_name_ct, family_name_ct, birth_date_ct,
    phone_ct, address_ct, narrative_ct) ON care.subject TO nrm_assessor;

-- ---------------------------------------------------------------------
-- The case body hands the ciphertexts and the wrapped data key back in
-- "sealed"; nrmd opens them, splices the plaintext into "signal" and
-- "subject" and drops "sealed" (docs/data-protection.md, "Reading").
-- A row stored before 0017 has no data key: "sealed" is absent and the
-- plaintext columns answer as before.  care.case_json (0007) stands in
-- sql/api/30_cases.sql with its comment and grants.
-- ---------------------------------------------------------------------
