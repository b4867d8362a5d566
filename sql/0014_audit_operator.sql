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

/*
 * audit.purge_before as in 0005, and refusing a boundary younger than
 * audit.retention_policy.min_age (SQLSTATE 22023, the key named).
 */
CREATE OR REPLACE FUNCTION audit.purge_before(p_before timestamptz)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_min interval;
	v_check jsonb;
	v_anchor_pos bigint;
	v_through bigint;
	v_hash bytea;
	v_links bigint;
	v_events bigint;
BEGIN
	IF p_before IS NULL OR p_before > pg_catalog.now() THEN
		RAISE EXCEPTION 'p_before must be a time in the past'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT p.min_age INTO v_min FROM audit.retention_policy p;
	IF p_before > pg_catalog.now() - COALESCE(v_min, interval '5 years')
	THEN
		RAISE EXCEPTION 'the purge boundary is younger than the minimum '
		    'retention age (audit.retention_policy.min_age = %): '
		    'nothing purged', COALESCE(v_min, interval '5 years')
		    USING ERRCODE = 'invalid_parameter_value',
		    HINT = 'purge only events older than '
		        'audit.retention_policy.min_age';
	END IF;
	PERFORM pg_catalog.pg_advisory_xact_lock(5, 1);
	v_check := audit.verify_chain(NULL);
	IF NOT (v_check->>'intact')::boolean THEN
		RAISE EXCEPTION
		    'the audit log does not verify (%): nothing purged',
		    v_check->'first_broken'->>'reason'
		    USING ERRCODE = 'data_corrupted';
	END IF;
	v_anchor_pos := COALESCE((v_check->'anchor'->>'pos')::bigint, 0);

	SELECT pg_catalog.min(c.pos) - 1 INTO v_through
	FROM audit.chain c JOIN audit.event e ON e.id = c.event_id
	WHERE c.pos > v_anchor_pos AND e.at >= p_before;
	IF v_through IS NULL THEN
		SELECT pg_catalog.max(c.pos) INTO v_through FROM audit.chain c;
	END IF;
	IF v_through IS NULL OR v_through <= v_anchor_pos THEN
		RETURN pg_catalog.jsonb_build_object('purged', 0,
		    'purged_through_pos', v_anchor_pos,
		    'anchor_hash', v_check->'anchor'->'hash');
	END IF;

	SELECT c.hash INTO v_hash FROM audit.chain c WHERE c.pos = v_through;
	PERFORM pg_catalog.set_config('nrm.audit_retention', 'on', true);
	WITH d AS (
		DELETE FROM audit.chain c WHERE c.pos <= v_through
		RETURNING c.event_id)
	DELETE FROM audit.event e WHERE e.id IN (SELECT d.event_id FROM d);
	GET DIAGNOSTICS v_events = ROW_COUNT;
	PERFORM pg_catalog.set_config('nrm.audit_retention', 'off', true);
	v_links := v_through - v_anchor_pos;
	IF v_events <> v_links THEN
		RAISE EXCEPTION 'purge removed % events for % links', v_events,
		    v_links USING ERRCODE = 'internal_error';
	END IF;

	INSERT INTO audit.retention (purged_through_pos, anchor_hash, before,
	    events)
	VALUES (v_through, v_hash, p_before, v_events);
	INSERT INTO audit.event (action, object_type, object_id, purpose,
	    outcome)
	VALUES ('audit.purge', 'audit', v_through::text, 'audit', 'allowed');
	RETURN pg_catalog.jsonb_build_object('purged', v_events,
	    'purged_through_pos', v_through,
	    'anchor_hash', pg_catalog.encode(v_hash, 'hex'));
END
$$;
COMMENT ON FUNCTION audit.purge_before(timestamptz) IS
    'The retention procedure (owner only): purge the chain prefix whose '
    'events are older than p_before (and older than '
    'audit.retention_policy.min_age), with its events, after verifying '
    'the log; record the anchor in audit.retention (nrmctl audit purge '
    'signs it in the same transaction); audited audit.purge.';

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
