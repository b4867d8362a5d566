-- 41_audit_verify.sql - the recomputation of the audit chain behind GET
-- /v1/audit/verify (api.audit_verify, 40_audit.sql): the whole chain
-- (audit.verify_chain) and from the last verified signed checkpoint
-- (audit.verify_incremental), sharing each step.  A repeatable file
-- (docs/sql-api.md, "Migrations"); the tables are 0005's and 0014's.
--
-- Applied by `nrmctl migrate` after the numbered migrations, in the same
-- transaction, every file of sql/api/ in name order, and recorded with
-- its SHA-256 in nrm.schema_repeatable.  Each function stands here once,
-- as CREATE OR REPLACE, with its comment and grants; change it here.  A
-- new signature, a dropped function or anything a table, view, policy
-- or trigger needs at creation time belongs in a numbered migration.

-- ---------------------------------------------------------------------
-- Verification: the whole-chain recomputation (audit.verify_chain) and
-- the incremental one (audit.verify_incremental, from the last verified
-- signed checkpoint) share one implementation of each step: the anchor
-- (audit.anchor_link), the per-link checks (audit.verify_range), the
-- unchained events (audit.first_broken) and the checkpoint comparison
-- (audit.checkpoints_compare).
-- ---------------------------------------------------------------------

/*
 * Recompute links p_from_pos < pos <= p_to_pos from (p_from_pos,
 * p_from_hash) in one statement (set-based: each link is checked
 * against its own stored prev_hash and its predecessor's stored hash,
 * which by induction proves the range, so no sequential loop is
 * needed).  Per link, in this order, the first failing check names the
 * break:
 *
 *   position gap             "missing event"  pos = the missing
 *                            position, expected = the prev_hash its
 *                            successor records, found null
 *   prev_hash <> the hash    "order"          expected = predecessor's
 *   of the predecessor                        hash, found = prev_hash
 *   event row gone           "missing event"  expected = stored hash
 *   recomputed hash <>       "hash mismatch"  expected = stored hash,
 *   stored hash                               found = recomputed
 *
 * {"events", "broken"} (broken null when intact).  0014 created it;
 * audit.verify_chain calls it since issue 10.
 */
CREATE OR REPLACE FUNCTION audit.verify_range(p_from_pos bigint, p_from_hash bytea,
    p_to_pos bigint) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH l AS (
		SELECT c.pos, c.event_id, c.prev_hash, c.hash,
		    COALESCE(pg_catalog.lag(c.pos) OVER w, p_from_pos) AS ppos,
		    COALESCE(pg_catalog.lag(c.hash) OVER w, p_from_hash)
		        AS phash,
		    e.id IS NOT NULL AS present,
		    CASE WHEN e.id IS NOT NULL THEN pg_catalog.sha256(
		        c.prev_hash || audit.canonical(e)) END AS rehash
		FROM audit.chain c
		LEFT JOIN audit.event e ON e.id = c.event_id
		WHERE c.pos > p_from_pos AND c.pos <= p_to_pos
		WINDOW w AS (ORDER BY c.pos)),
	k AS (
		SELECT l.pos, CASE
		    WHEN l.pos <> l.ppos + 1 THEN pg_catalog.jsonb_build_object(
		        'pos', l.ppos + 1, 'event_id', NULL,
		        'expected', pg_catalog.encode(l.prev_hash, 'hex'),
		        'found', NULL, 'reason', 'missing event')
		    WHEN l.prev_hash <> l.phash
		    THEN pg_catalog.jsonb_build_object(
		        'pos', l.pos, 'event_id', l.event_id,
		        'expected', pg_catalog.encode(l.phash, 'hex'),
		        'found', pg_catalog.encode(l.prev_hash, 'hex'),
		        'reason', 'order')
		    WHEN NOT l.present THEN pg_catalog.jsonb_build_object(
		        'pos', l.pos, 'event_id', l.event_id,
		        'expected', pg_catalog.encode(l.hash, 'hex'),
		        'found', NULL, 'reason', 'missing event')
		    WHEN l.rehash <> l.hash THEN pg_catalog.jsonb_build_object(
		        'pos', l.pos, 'event_id', l.event_id,
		        'expected', pg_catalog.encode(l.hash, 'hex'),
		        'found', pg_catalog.encode(l.rehash, 'hex'),
		        'reason', 'hash mismatch')
		    END AS broken
		FROM l)
	SELECT pg_catalog.jsonb_build_object('events', pg_catalog.count(*),
	    'broken', (pg_catalog.array_agg(k.broken ORDER BY k.pos)
	        FILTER (WHERE k.broken IS NOT NULL))[1])
	FROM k
$$;
COMMENT ON FUNCTION audit.verify_range(bigint, bytea, bigint) IS
    'Recompute the links after p_from_pos up to p_to_pos from '
    '(p_from_pos, p_from_hash): {"events", "broken"}.';
REVOKE ALL ON FUNCTION audit.verify_range(bigint, bytea, bigint)
    FROM PUBLIC;
-- The auditor's audit.verify_chain (SECURITY INVOKER) calls it: it reads
-- audit.chain and audit.event, which the auditor reads already.
GRANT EXECUTE ON FUNCTION audit.verify_range(bigint, bytea, bigint)
    TO nrm_auditor;

/*
 * Where a recomputation of the chain starts: the newest retention
 * anchor (audit.retention), else position 0 with the genesis hash (at
 * null).
 */
CREATE OR REPLACE FUNCTION audit.anchor_link(OUT pos bigint,
    OUT hash bytea, OUT at timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	SELECT x.pos, x.hash, x.at INTO pos, hash, at FROM (
	    SELECT r.purged_through_pos AS pos, r.anchor_hash AS hash, r.at
	    FROM audit.retention r
	    UNION ALL SELECT 0, audit.genesis(), NULL::timestamptz) x
	ORDER BY x.pos DESC LIMIT 1;
END
$$;
COMMENT ON FUNCTION audit.anchor_link() IS
    'The newest retention anchor (pos, hash, at), else (0, genesis, '
    'null): where a recomputation starts.';
REVOKE ALL ON FUNCTION audit.anchor_link() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.anchor_link() TO nrm_auditor;

/*
 * The first break a recomputation reports: the first broken link of
 * p_range (audit.verify_range's answer), else the oldest event neither
 * chained nor queued, as {"pos": null, "event_id", "expected": null,
 * "found": null, "reason": "unchained event"}; NULL when intact.
 * unchained: how many such events there are.
 */
CREATE OR REPLACE FUNCTION audit.first_broken(p_range jsonb,
    OUT broken jsonb, OUT unchained bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_first bigint;
BEGIN
	SELECT pg_catalog.count(*), pg_catalog.min(e.id)
	INTO unchained, v_first
	FROM audit.event e
	WHERE NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.event_id = e.id)
	  AND NOT EXISTS (SELECT 1 FROM audit.unsealed u
	    WHERE u.event_id = e.id);
	broken := NULLIF(p_range->'broken', 'null'::jsonb);
	IF broken IS NULL AND unchained > 0 THEN
		broken := pg_catalog.jsonb_build_object('pos', NULL,
		    'event_id', v_first, 'expected', NULL, 'found', NULL,
		    'reason', 'unchained event');
	END IF;
END
$$;
COMMENT ON FUNCTION audit.first_broken(jsonb) IS
    'The first break of a recomputation (p_range''s broken link, else the '
    'first unchained event; NULL when intact) and the unchained count.';
REVOKE ALL ON FUNCTION audit.first_broken(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.first_broken(jsonb) TO nrm_auditor;

/*
 * Compare checkpoints p_checkpoints (an array of {"pos", "hash", ...},
 * checked by the caller) with the stored hashes of a chain whose head is
 * at p_head_pos and whose anchor is (p_anchor_pos, p_anchor_hash): a
 * position past the head is "beyond head", a different hash "hash
 * mismatch", a position without a link "missing event"; positions
 * purged before the anchor are skipped.  result: {"checked",
 * "skipped", "first_mismatch"}; newest: the newest checkpoint that
 * matched after the anchor and at most p_to, as given (NULL: none).
 */
CREATE OR REPLACE FUNCTION audit.checkpoints_compare(p_checkpoints jsonb,
    p_head_pos bigint, p_anchor_pos bigint, p_anchor_hash bytea,
    p_to bigint, OUT result jsonb, OUT newest jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	WITH cp AS (
		SELECT (x->>'pos')::bigint AS pos, x->>'hash' AS hash, x
		FROM pg_catalog.jsonb_array_elements(p_checkpoints) x),
	m AS (
		SELECT cp.pos, cp.hash, cp.x, CASE
		    WHEN cp.pos > p_head_pos THEN 'beyond head'
		    WHEN cp.pos < p_anchor_pos THEN 'skipped'
		    WHEN cp.pos = p_anchor_pos THEN CASE
		        WHEN cp.hash = pg_catalog.encode(p_anchor_hash, 'hex')
		        THEN NULL ELSE 'hash mismatch' END
		    WHEN c.hash IS NULL THEN 'missing event'
		    WHEN pg_catalog.encode(c.hash, 'hex') = cp.hash THEN NULL
		    ELSE 'hash mismatch' END AS reason,
		    CASE WHEN cp.pos = p_anchor_pos
		    THEN pg_catalog.encode(p_anchor_hash, 'hex')
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
	        FILTER (WHERE m.reason IS NULL AND m.pos > p_anchor_pos
	            AND m.pos <= p_to))[1]
	INTO result, newest
	FROM m;
END
$$;
COMMENT ON FUNCTION audit.checkpoints_compare(jsonb, bigint, bigint, bytea,
    bigint) IS
    'Compare checkpoints with the stored hashes: {"checked", "skipped", '
    '"first_mismatch"} and the newest matched checkpoint up to p_to.';
REVOKE ALL ON FUNCTION audit.checkpoints_compare(jsonb, bigint, bigint,
    bytea, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.checkpoints_compare(jsonb, bigint, bigint,
    bytea, bigint) TO nrm_auditor;

/*
 * The answer of a recomputation (the body documented for
 * api.audit_verify): intact, the links checked (p_range's events), the
 * head, the queued (unsealed) and unchained counts, the first break, the
 * anchor (null at genesis) and the checkpoint comparison.
 */
CREATE OR REPLACE FUNCTION audit.verify_answer(p_intact boolean,
    p_range jsonb, p_head_pos bigint, p_head_hash bytea, p_broken jsonb,
    p_unchained bigint, p_anchor_pos bigint, p_anchor_hash bytea,
    p_anchor_at timestamptz, p_checkpoints jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN pg_catalog.jsonb_build_object('intact', p_intact,
	    'events', (p_range->>'events')::bigint, 'head_pos', p_head_pos,
	    'head_hash', pg_catalog.encode(p_head_hash, 'hex'),
	    'unsealed', (SELECT pg_catalog.count(*) FROM audit.unsealed),
	    'unchained', p_unchained, 'first_broken', p_broken,
	    'anchor', CASE WHEN p_anchor_pos > 0 THEN
	        pg_catalog.jsonb_build_object('pos', p_anchor_pos,
	            'hash', pg_catalog.encode(p_anchor_hash, 'hex'),
	            'at', api.rfc3339(p_anchor_at)) END,
	    'checkpoints', p_checkpoints);
END
$$;
COMMENT ON FUNCTION audit.verify_answer(boolean, jsonb, bigint, bytea,
    jsonb, bigint, bigint, bytea, timestamptz, jsonb) IS
    'The answer of a chain recomputation (api.audit_verify''s body).';
REVOKE ALL ON FUNCTION audit.verify_answer(boolean, jsonb, bigint, bytea,
    jsonb, bigint, bigint, bytea, timestamptz, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.verify_answer(boolean, jsonb, bigint,
    bytea, jsonb, bigint, bigint, bytea, timestamptz, jsonb)
    TO nrm_auditor;

/*
 * Recompute the chain from the newest retention anchor (or genesis,
 * audit.anchor_link): the links with audit.verify_range, and, after all
 * links, an event neither chained nor queued is an "unchained event"
 * (audit.first_broken).  p_checkpoints (NULL, or an array of {"pos",
 * "hash"} checked by the caller) are compared with the stored hashes
 * (audit.checkpoints_compare).  Returns the body documented for
 * api.audit_verify.  STABLE: every statement reads the caller's
 * snapshot, so the links, the head and the counts agree.  0005 created
 * it.
 */
CREATE OR REPLACE FUNCTION audit.verify_chain(p_checkpoints jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_anchor record;
	v_r jsonb;
	v_head_pos bigint;
	v_head_hash bytea;
	v_b record;
	v_cp jsonb;
	v_intact boolean;
BEGIN
	SELECT * INTO v_anchor FROM audit.anchor_link();
	v_r := audit.verify_range(v_anchor.pos, v_anchor.hash,
	    9223372036854775807);
	SELECT c.pos, c.hash INTO v_head_pos, v_head_hash
	FROM audit.chain c WHERE c.pos > v_anchor.pos
	ORDER BY c.pos DESC LIMIT 1;
	IF NOT FOUND THEN
		v_head_pos := v_anchor.pos;
		v_head_hash := v_anchor.hash;
	END IF;
	SELECT * INTO v_b FROM audit.first_broken(v_r);
	v_intact := v_b.broken IS NULL;
	IF p_checkpoints IS NOT NULL THEN
		SELECT c.result INTO v_cp
		FROM audit.checkpoints_compare(p_checkpoints, v_head_pos,
		    v_anchor.pos, v_anchor.hash, v_head_pos) c;
		v_intact := v_intact AND v_cp->'first_mismatch' = 'null'::jsonb;
	END IF;
	RETURN audit.verify_answer(v_intact, v_r, v_head_pos, v_head_hash,
	    v_b.broken, v_b.unchained, v_anchor.pos, v_anchor.hash,
	    v_anchor.at, v_cp);
END
$$;
COMMENT ON FUNCTION audit.verify_chain(jsonb) IS
    'Recompute the audit chain from the retention anchor (or genesis) and '
    'report the first broken link and any unchained event; optionally '
    'compare checkpoints {"pos", "hash"} with it.';
REVOKE ALL ON FUNCTION audit.verify_chain(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.verify_chain(jsonb) TO nrm_auditor;

/*
 * GET /v1/audit/verify with checkpoints (nrmd signs them): recompute at
 * most p_batch links, from the verified checkpoint when it is after the
 * anchor, is one of p_checkpoints (the same pos, hash and sig) and the
 * chain still has its hash there (else from the anchor),
 * compare every checkpoint given with the stored hashes, look for
 * unchained events (the helpers of audit.verify_chain), and when all is
 * intact remember the newest checkpoint the recomputation reached.
 * The body of audit.verify_chain plus "verified_from" (the checkpoint
 * it started from, for nrmd to check its signature, or null) and
 * "complete" (false: more links remain, call again).
 */
CREATE OR REPLACE FUNCTION audit.verify_incremental(p_checkpoints jsonb, p_batch bigint)
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
	v_b record;
	v_c record;
	v_intact boolean;
BEGIN
	SELECT * INTO v_anchor FROM audit.anchor_link();
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
	SELECT * INTO v_b FROM audit.first_broken(v_r);
	SELECT * INTO v_c FROM audit.checkpoints_compare(p_checkpoints,
	    v_head.pos, v_anchor.pos, v_anchor.hash, v_to);

	v_intact := v_b.broken IS NULL
	    AND v_c.result->'first_mismatch' = 'null'::jsonb;
	IF v_intact AND v_c.newest IS NOT NULL THEN
		INSERT INTO audit.verified_checkpoint AS v (id, seq, prev, pos,
		    hash, at, sig)
		VALUES (true, COALESCE((v_c.newest->>'seq')::bigint, 0),
		    v_c.newest->>'prev', (v_c.newest->>'pos')::bigint,
		    v_c.newest->>'hash', v_c.newest->>'at', v_c.newest->>'sig')
		ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq,
		    prev = EXCLUDED.prev, pos = EXCLUDED.pos,
		    hash = EXCLUDED.hash, at = EXCLUDED.at, sig = EXCLUDED.sig,
		    verified_at = pg_catalog.clock_timestamp()
		WHERE EXCLUDED.pos >= v.pos;
	END IF;

	RETURN audit.verify_answer(v_intact, v_r, v_head.pos, v_head.hash,
	    v_b.broken, v_b.unchained, v_anchor.pos, v_anchor.hash,
	    v_anchor.at, v_c.result)
	    || pg_catalog.jsonb_build_object('verified_from', v_from,
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
