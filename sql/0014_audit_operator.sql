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
-- p_to_pos, stands in sql/api/40_audit.sql with its comment and grants
-- (audit.verify_chain shares it since issue 10).

/*
 * GET /v1/audit/verify with checkpoints (nrmd signs them): recompute at
 * most p_batch links, from the verified checkpoint when it is after the
 * anchor, is one of p_checkpoints (the same pos, hash and sig) and the
 * chain still has its hash there (else from the anchor),
 * compare every checkpoint given with the stored hashes (as
 * audit.verify_chain), look for unchained events, and when all is
 * intact remember the newest checkpoint the recomputation reached.
 * The body of audit.verify_chain plus "verified_from" (the checkpoint
 * it started from, for nrmd to check its signature, or null) and
 * "complete" (false: more links remain, call again).
 */
CREATE FUNCTION audit.verify_incremental(p_checkpoints jsonb, p_batch bigint)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_anchor record;
	v_head record;
	v_state audit.verified_checkpoint;
	v_from_pos bigint;
	v_from_hash bytea;
	v_from jsonb;
	v_to bigint;
	v_r jsonb;
	v_broken jsonb;
	v_unchained jsonb;
	v_cp jsonb;
	v_new jsonb;
	v_intact boolean;
BEGIN
	SELECT x.pos, x.hash, x.at INTO v_anchor FROM (
	    SELECT r.purged_through_pos AS pos, r.anchor_hash AS hash, r.at
	    FROM audit.retention r
	    UNION ALL SELECT 0, audit.genesis(), NULL::timestamptz) x
	ORDER BY x.pos DESC LIMIT 1;
	SELECT * INTO v_head FROM audit.head_link();
	v_from_pos := v_anchor.pos;
	v_from_hash := v_anchor.hash;
	SELECT * INTO v_state FROM audit.verified_checkpoint;
	-- Trusted only when it is one of the signed lines nrmd holds (sent
	-- in p_checkpoints) and the chain still has its hash: a row the
	-- owner wrote is not.
	IF FOUND AND v_state.pos > v_anchor.pos AND EXISTS (
	    SELECT 1 FROM audit.chain c WHERE c.pos = v_state.pos
	      AND pg_catalog.encode(c.hash, 'hex') = v_state.hash)
	  AND EXISTS (
	    SELECT 1 FROM pg_catalog.jsonb_array_elements(p_checkpoints) x
	    WHERE (x->>'pos')::bigint = v_state.pos
	      AND x->>'hash' = v_state.hash AND x->>'sig' = v_state.sig) THEN
		v_from_pos := v_state.pos;
		v_from_hash := pg_catalog.decode(v_state.hash, 'hex');
		v_from := pg_catalog.jsonb_build_object('seq', v_state.seq,
		    'prev', v_state.prev, 'pos', v_state.pos,
		    'hash', v_state.hash, 'at', v_state.at, 'sig', v_state.sig,
		    'verified_at', api.rfc3339(v_state.verified_at));
	END IF;
	v_to := LEAST(v_head.pos, v_from_pos + GREATEST(p_batch, 1));
	v_r := audit.verify_range(v_from_pos, v_from_hash, v_to);
	v_broken := v_r->'broken';

	SELECT pg_catalog.jsonb_build_object('n', pg_catalog.count(*),
	    'first', pg_catalog.min(e.id)) INTO v_unchained
	FROM audit.event e
	WHERE NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.event_id = e.id)
	  AND NOT EXISTS (SELECT 1 FROM audit.unsealed u
	    WHERE u.event_id = e.id);
	IF v_broken = 'null'::jsonb AND (v_unchained->>'n')::bigint > 0 THEN
		v_broken := pg_catalog.jsonb_build_object('pos', NULL,
		    'event_id', (v_unchained->>'first')::bigint,
		    'expected', NULL, 'found', NULL,
		    'reason', 'unchained event');
	END IF;

	WITH cp AS (
		SELECT (x->>'pos')::bigint AS pos, x->>'hash' AS hash, x
		FROM pg_catalog.jsonb_array_elements(p_checkpoints) x),
	m AS (
		SELECT cp.pos, cp.hash, cp.x, CASE
		    WHEN cp.pos > v_head.pos THEN 'beyond head'
		    WHEN cp.pos < v_anchor.pos THEN 'skipped'
		    WHEN cp.pos = v_anchor.pos THEN CASE
		        WHEN cp.hash = pg_catalog.encode(v_anchor.hash, 'hex')
		        THEN NULL ELSE 'hash mismatch' END
		    WHEN c.hash IS NULL THEN 'missing event'
		    WHEN pg_catalog.encode(c.hash, 'hex') = cp.hash THEN NULL
		    ELSE 'hash mismatch' END AS reason,
		    CASE WHEN cp.pos = v_anchor.pos
		    THEN pg_catalog.encode(v_anchor.hash, 'hex')
		    ELSE pg_catalog.encode(c.hash, 'hex') END AS found
		FROM cp LEFT JOIN audit.chain c ON c.pos = cp.pos)
	SELECT pg_catalog.jsonb_build_object(
	    'checked', pg_catalog.count(*) FILTER (WHERE m.reason
	        IS DISTINCT FROM 'skipped'),
	    'skipped', pg_catalog.count(*) FILTER (WHERE m.reason = 'skipped'),
	    'first_mismatch', (pg_catalog.array_agg(
	        pg_catalog.jsonb_build_object('pos', m.pos, 'expected', m.hash,
	            'found', CASE WHEN m.reason = 'beyond head' THEN NULL
	                ELSE m.found END, 'reason', m.reason) ORDER BY m.pos)
	        FILTER (WHERE m.reason IS NOT NULL
	            AND m.reason <> 'skipped'))[1]),
	    (pg_catalog.array_agg(m.x ORDER BY m.pos DESC)
	        FILTER (WHERE m.reason IS NULL AND m.pos > v_anchor.pos
	            AND m.pos <= v_to))[1]
	INTO v_cp, v_new
	FROM m;

	v_intact := v_broken = 'null'::jsonb
	    AND v_cp->'first_mismatch' = 'null'::jsonb;
	IF v_intact AND v_new IS NOT NULL THEN
		INSERT INTO audit.verified_checkpoint AS v (id, seq, prev, pos,
		    hash, at, sig)
		VALUES (true, COALESCE((v_new->>'seq')::bigint, 0),
		    v_new->>'prev', (v_new->>'pos')::bigint, v_new->>'hash',
		    v_new->>'at', v_new->>'sig')
		ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq,
		    prev = EXCLUDED.prev, pos = EXCLUDED.pos,
		    hash = EXCLUDED.hash, at = EXCLUDED.at, sig = EXCLUDED.sig,
		    verified_at = pg_catalog.clock_timestamp()
		WHERE EXCLUDED.pos >= v.pos;
	END IF;

	RETURN pg_catalog.jsonb_build_object('intact', v_intact,
	    'events', (v_r->>'events')::bigint, 'head_pos', v_head.pos,
	    'head_hash', pg_catalog.encode(v_head.hash, 'hex'),
	    'unsealed', (SELECT pg_catalog.count(*) FROM audit.unsealed),
	    'unchained', (v_unchained->>'n')::bigint,
	    'first_broken', v_broken,
	    'anchor', CASE WHEN v_anchor.pos > 0 THEN
	        pg_catalog.jsonb_build_object('pos', v_anchor.pos,
	            'hash', pg_catalog.encode(v_anchor.hash, 'hex'),
	            'at', api.rfc3339(v_anchor.at)) END,
	    'checkpoints', v_cp, 'verified_from', v_from,
	    'verified_to', v_to, 'complete', v_to >= v_head.pos);
END
$$;
COMMENT ON FUNCTION audit.verify_incremental(jsonb, bigint) IS
    'GET /v1/audit/verify with checkpoints: at most p_batch links from '
    'the last verified signed checkpoint (audit.verified_checkpoint); '
    'SECURITY DEFINER (owner) to remember the new one.';
REVOKE ALL ON FUNCTION audit.verify_incremental(jsonb, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.verify_incremental(jsonb, bigint)
    TO nrm_auditor;
