-- 0014_audit_operator.sql - the audit log against its own operator
-- (issue 14, part 3; docs/audit.md): retention anchors carry a signature
-- by the checkpoint key, purging keeps a minimum retention age, the
-- database remembers the last verified signed checkpoint, and a
-- read-only role can verify the chain.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.

-- ---------------------------------------------------------------------
-- Signed anchors.  A row of audit.retention says "verification starts
-- here"; the owner can INSERT one, so on its own it proves nothing.
-- Its signature (Ed25519, the checkpoint key, which is not in the
-- database) is written by nrmctl audit purge in the purge's own
-- transaction; verifiers check it (the database cannot: it has no
-- Ed25519), and a checkpoint or verified position skipped by an anchor
-- without a valid signature is a break.
-- ---------------------------------------------------------------------
CREATE TABLE audit.anchor_signature (
	purged_through_pos bigint NOT NULL,
	signed_at text NOT NULL,
	sig text NOT NULL,
	CONSTRAINT anchor_signature_pkey PRIMARY KEY (purged_through_pos),
	CONSTRAINT anchor_signature_signed_at_check
	    CHECK (signed_at ~ '^[ -~]{1,64}$'),
	CONSTRAINT anchor_signature_sig_check
	    CHECK (sig ~ '^[A-Za-z0-9+/]{1,128}={0,2}$')
);
COMMENT ON TABLE audit.anchor_signature IS
    'The signature of a retention anchor: base64 Ed25519 over '
    '"nrm-audit-anchor\n<purged_through_pos>\n<anchor_hash hex>\n'
    '<signed_at>" by the audit signing key (docs/audit.md).  Written by '
    'nrmctl audit purge; append-only.  No foreign key to audit.retention '
    '(as audit.review has none to audit.event: a signature for no anchor '
    'is inert, verifiers look it up by the anchor).  No personal data.';
CREATE TRIGGER anchor_signature_append_only
BEFORE UPDATE OR DELETE ON audit.anchor_signature
FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER anchor_signature_no_truncate
BEFORE TRUNCATE ON audit.anchor_signature
FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

-- ---------------------------------------------------------------------
-- The minimum retention age (one row; the owner changes it with an
-- UPDATE, which is itself a decision to document).  Five years: the
-- period NEN 7513 sets for the logs of access to health records, the
-- closest Dutch norm for a log of who read a victim's care file.
-- ---------------------------------------------------------------------
CREATE TABLE audit.retention_policy (
	id boolean NOT NULL DEFAULT true,
	min_age interval NOT NULL DEFAULT interval '5 years',
	CONSTRAINT retention_policy_pkey PRIMARY KEY (id),
	CONSTRAINT retention_policy_id_check CHECK (id),
	CONSTRAINT retention_policy_min_age_check
	    CHECK (min_age >= interval '0')
);
COMMENT ON TABLE audit.retention_policy IS
    'One row: min_age, the youngest audit events audit.purge_before may '
    'remove (the config key audit.retention_policy.min_age; default 5 '
    'years).  No personal data.';
INSERT INTO audit.retention_policy DEFAULT VALUES;

-- audit.purge_before (0005) refuses a boundary younger than
-- audit.retention_policy.min_age: it stands in sql/api/40_audit.sql.

-- ---------------------------------------------------------------------
-- The read-only verifier.  NOLOGIN: give a LOGIN user the role with
--   CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE nrm_audit_reader;
-- (docs/audit.md).  It reads the audit tables and nothing else; the one
-- thing it may cause is the audit event that records its own verify or
-- export, through audit.record_cli (SECURITY DEFINER, two fixed
-- actions).
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_audit_reader') THEN
		CREATE ROLE nrm_audit_reader NOLOGIN;
	END IF;
END
$roles$;

/*
 * Record that nrmctl verified or exported the audit log: one event,
 * principal null, purpose audit.  p_action: audit.verify, audit.export.
 */
CREATE FUNCTION audit.record_cli(p_action text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_action IS NULL
	    OR p_action NOT IN ('audit.verify', 'audit.export') THEN
		RAISE EXCEPTION 'p_action must be audit.verify or audit.export'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO audit.event (action, object_type, purpose, outcome)
	VALUES (p_action, 'audit', 'audit', 'allowed');
END
$$;
COMMENT ON FUNCTION audit.record_cli(text) IS
    'nrmctl audit verify / export: record the command''s own audit event '
    '(the only write nrm_audit_reader can cause).';
REVOKE ALL ON FUNCTION audit.record_cli(text) FROM PUBLIC;

GRANT USAGE ON SCHEMA audit TO nrm_audit_reader;
GRANT SELECT ON audit.event, audit.chain, audit.unsealed, audit.retention,
    audit.anchor_signature TO nrm_audit_reader;
GRANT EXECUTE ON FUNCTION audit.canonical(audit.event),
    audit.canonical_v1(audit.event), audit.genesis(),
    audit.record_cli(text) TO nrm_audit_reader;

-- The auditor's verify (api.audit_verify) reads the signatures too.
GRANT SELECT ON audit.anchor_signature TO nrm_auditor;
GRANT SELECT ON audit.anchor_signature TO nrm_audit_sealer;

-- ---------------------------------------------------------------------
-- Incremental verification (GET /v1/audit/verify with checkpoints): the
-- last signed checkpoint up to which the chain was recomputed intact.
-- One row, replaced by audit.verify_incremental.  Its signature is the
-- checkpoint's own, so nrmd (which holds the key) checks it before the
-- next verification trusts it: the owner could write this row, not
-- sign it.
-- ---------------------------------------------------------------------
CREATE TABLE audit.verified_checkpoint (
	id boolean NOT NULL DEFAULT true,
	seq bigint NOT NULL,
	prev text,
	pos bigint NOT NULL,
	hash text NOT NULL,
	at text NOT NULL,
	sig text NOT NULL,
	verified_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	CONSTRAINT verified_checkpoint_pkey PRIMARY KEY (id),
	CONSTRAINT verified_checkpoint_id_check CHECK (id),
	CONSTRAINT verified_checkpoint_seq_check CHECK (seq >= 0),
	CONSTRAINT verified_checkpoint_pos_check CHECK (pos >= 1)
);
COMMENT ON TABLE audit.verified_checkpoint IS
    'One row: the newest signed checkpoint (as nrmd wrote it: seq, prev, '
    'pos, hash, at, sig; seq 0 and prev null for the old format) up to '
    'which GET /v1/audit/verify recomputed the chain intact; the next '
    'verification starts there.  No personal data.';

-- audit.verify_range, the per-link checks of links p_from_pos < pos <=
-- p_to_pos, and audit.verify_incremental, GET /v1/audit/verify from the
-- last verified signed checkpoint, stand in sql/api/41_audit_verify.sql
-- with their comments and grants (they share the anchor, the link
-- checks, the unchained events and the checkpoint comparison with
-- audit.verify_chain since issue 10).
