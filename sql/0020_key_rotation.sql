-- 0020_key_rotation.sql - the keys of personal data at rest rotate, and
-- the last plaintext write paths close (issue 15, docs/data-protection.md):
-- the retired key-encryption keys, the identification rationale refused
-- in plaintext like care.subject's columns, the idempotency fingerprint
-- keyed by nrmd, and the count of what is still plaintext.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.

-- ---------------------------------------------------------------------
-- ident.decision.rationale takes no new plaintext: nrmd seals every
-- rationale (0017); `nrmctl data encrypt` seals the ones stored before.
-- ---------------------------------------------------------------------
CREATE TRIGGER decision_plaintext BEFORE INSERT OR UPDATE ON ident.decision
FOR EACH ROW EXECUTE FUNCTION care.refuse_plaintext('rationale');

-- ---------------------------------------------------------------------
-- The idempotency fingerprint: nrmd now stores HMAC(its idempotency key,
-- SHA-256(canonical body)) instead of the plain SHA-256, which anyone
-- reading the table could confirm guesses of a body's names against.
-- The rows stored before (request_keyed false) are keyed by `nrmctl data
-- encrypt`, which computes the same HMAC over the stored SHA-256.
-- ---------------------------------------------------------------------
ALTER TABLE intake.idempotency
    ADD COLUMN request_keyed boolean NOT NULL DEFAULT false;
ALTER TABLE intake.idempotency ALTER COLUMN request_keyed SET DEFAULT true;
COMMENT ON COLUMN intake.idempotency.request_keyed IS
    'Whether request_hash is keyed (HMAC-SHA-256 under nrmd''s idempotency '
    'key of the body''s SHA-256, every row since 0020) or still the plain '
    'SHA-256 of a body holding personal data (rows from before 0020, '
    'until `nrmctl data encrypt` keys them).';

-- ---------------------------------------------------------------------
-- Retired key-encryption keys: `nrmctl keys retire` records one once no
-- data key is wrapped by it any more; no data key may be wrapped by a
-- retired KEK again: the database refuses it (docs/operations.md).
-- ---------------------------------------------------------------------
CREATE TABLE care.kek_retired (
	kek_id text NOT NULL,
	retired_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT kek_retired_pkey PRIMARY KEY (kek_id),
	CONSTRAINT kek_retired_kek_id_check CHECK (kek_id ~ '^[0-9a-f]{16}$')
);
COMMENT ON TABLE care.kek_retired IS
    'Key-encryption keys retired after a rotation (their ids, the first 8 '
    'bytes of SHA-256 of the key, hex; never a key).  Written by `nrmctl '
    'keys retire` only.';
REVOKE ALL ON care.kek_retired FROM PUBLIC;

-- A data key is never wrapped by a retired KEK: the trigger function,
-- care.data_key_not_retired, stands in sql/api/81_kek.sql with its
-- comment (0025 changed it).  CREATE TRIGGER needs the function to exist,
-- so this placeholder (same signature) refuses every row until
-- 81_kek.sql, applied by nrmctl migrate in the same transaction,
-- replaces it.
CREATE FUNCTION care.data_key_not_retired() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	RAISE EXCEPTION 'care.data_key_not_retired: a placeholder'
	    USING ERRCODE = 'feature_not_supported';
END
$$;
CREATE TRIGGER data_key_not_retired BEFORE INSERT OR UPDATE ON care.data_key
FOR EACH ROW EXECUTE FUNCTION care.data_key_not_retired();

-- ---------------------------------------------------------------------
-- What is still stored in plaintext: counts only, for nrmd's start-up
-- warning (api.data_plaintext_left) and `nrmctl data encrypt`.
-- ---------------------------------------------------------------------
-- care.plaintext_left stands in sql/api/81_kek.sql with its comment and
-- grant (0025 counted investigation records too).  nrmd reaches it
-- through the door api.data_plaintext_left (0018: nrm_app executes
-- doors only; 99_doors.sql makes it nrm_gate's).
GRANT USAGE ON SCHEMA care TO nrm_gate;

-- ---------------------------------------------------------------------
-- The pseudonym key rotates too: each pseudonym names its key (the
-- first 8 bytes of SHA-256 of the key, hex; NULL for those stored before
-- 0020), and while nrmd holds a previous pseudonym key a new subject
-- also carries its pseudonym under that key (pseudonym_prev), so that it
-- links to subjects not yet re-keyed.  `nrmctl keys pseudonyms` re-keys
-- every subject under the current key and clears pseudonym_prev.
-- ---------------------------------------------------------------------
ALTER TABLE care.subject
    ADD COLUMN pseudonym_key_id text,
    ADD COLUMN pseudonym_prev bytea,
    ADD CONSTRAINT subject_pseudonym_key_id_check
        CHECK (pseudonym_key_id ~ '^[0-9a-f]{16}$'),
    ADD CONSTRAINT subject_pseudonym_prev_check
        CHECK (pseudonym_prev IS NULL OR (octet_length(pseudonym_prev) = 32
            AND pseudonym IS NOT NULL));
CREATE INDEX subject_pseudonym_prev_idx ON care.subject (pseudonym_prev)
    WHERE pseudonym_prev IS NOT NULL;
COMMENT ON COLUMN care.subject.pseudonym_key_id IS
    'The id of the pseudonym key of pseudonym (first 8 bytes of SHA-256 '
    'of the key, hex); NULL: stored before 0020, under the key of that '
    'time.';
COMMENT ON COLUMN care.subject.pseudonym_prev IS
    'The pseudonym under the previous pseudonym key while a rotation of '
    'that key runs (links to subjects not yet re-keyed); NULL otherwise.';
-- the statistician links repeat signals by pseudonym (0013), and during a
-- rotation by the previous key's pseudonym too
GRANT SELECT (pseudonym_prev) ON care.subject TO nrm_statistician;
