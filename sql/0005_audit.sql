-- 0005_audit.sql - the tamper-evident audit log (issue 6): a SHA-256
-- hash chain over audit.event sealed in the background, append-only
-- enforced by the database, one documented retention procedure, the
-- purpose-of-access vocabulary, and the auditor's verify and search
-- (docs/audit.md, docs/sql-api.md).
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  0001..0004 are released and stay unchanged: what
-- this file changes of theirs it changes with ALTER / CREATE OR REPLACE.
--
-- Design in one paragraph.  Writers insert audit.event rows exactly as
-- before (no lock, no hash on the request path); an AFTER INSERT trigger
-- adds the id to audit.unsealed, the queue of events not yet chained.
-- Every nrmd calls api.audit_seal() about once a second: under one
-- transaction-level advisory lock (another sealer just answers "busy")
-- it appends queued events, in id order, to audit.chain with
-- hash = sha256(prev_hash || audit.canonical(event)) and removes them
-- from the queue, in one transaction.  An event whose transaction
-- commits late simply gets a later position.  Verification recomputes
-- every link; a chain rewritten consistently from some position on is
-- caught only by the daemon's signed checkpoints outside the database.

-- ---------------------------------------------------------------------
-- The sealer's role.  NOLOGIN, and nrm_app is NOT a member: nrm_app
-- reaches its privileges only through audit.seal() and audit.head()
-- (SECURITY DEFINER, owned by nrm_audit_sealer), so the daemon's login
-- role gets no INSERT on audit.chain and cannot SET ROLE to it.
-- nrm_owner becomes a member only because a new function owner must be
-- a role the current one belongs to (as for nrm_sweeper in 0004).
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
	    WHERE rolname = 'nrm_audit_sealer') THEN
		CREATE ROLE nrm_audit_sealer NOLOGIN;
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, 'nrm_audit_sealer',
	    'MEMBER') THEN
		EXECUTE pg_catalog.format('GRANT nrm_audit_sealer TO %I',
		    current_user);
	END IF;
	IF pg_catalog.pg_has_role('nrm_app', 'nrm_audit_sealer', 'MEMBER')
	THEN
		REVOKE nrm_audit_sealer FROM nrm_app;
	END IF;
END
$roles$;
COMMENT ON ROLE nrm_audit_sealer IS
    'nrm: owner of audit.seal and audit.head (SECURITY DEFINER); the only '
    'role that appends to audit.chain.  NOLOGIN; nrm_app is no member.';

-- ---------------------------------------------------------------------
-- Purpose of access: a closed vocabulary (docs/audit.md#purposes).
-- The list is spelled twice, here and in audit.purpose_codes() (a CHECK
-- must not call a function every inserting role would need EXECUTE
-- on); tests/db/60_audit.sql keeps the two equal.  audit.purpose_codes
-- stands in sql/api/10_common.sql with its comment and grants (0019
-- added a code).  'nrmctl' is the
-- purpose nrmctl has written for key management since 0001.
-- ---------------------------------------------------------------------
ALTER TABLE audit.event
	DROP CONSTRAINT event_purpose_check,
	ADD CONSTRAINT event_purpose_check CHECK (purpose IS NULL
	    OR purpose IN ('care', 'intake', 'identification',
	        'investigation', 'audit', 'monitoring', 'emergency',
	        'nrmctl'));
COMMENT ON COLUMN audit.event.purpose IS
    'Why the principal acted: a code from audit.purpose_codes() '
    '(docs/audit.md#purposes), or null (a denial before the purpose is '
    'known, an action that reads no personal data).';

-- Event search filters by agency and by action; key and object are
-- indexed since 0001, time by event_at_idx.
CREATE INDEX event_agency_id_idx ON audit.event (agency_id, id);
CREATE INDEX event_action_idx ON audit.event (action, id);

-- ---------------------------------------------------------------------
-- The chain.
-- ---------------------------------------------------------------------
CREATE TABLE audit.chain (
	pos bigint NOT NULL,
	event_id bigint NOT NULL,
	prev_hash bytea NOT NULL,
	hash bytea NOT NULL,
	sealed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	CONSTRAINT chain_pkey PRIMARY KEY (pos),
	CONSTRAINT chain_event_id_key UNIQUE (event_id),
	CONSTRAINT chain_event_id_fkey FOREIGN KEY (event_id)
	    REFERENCES audit.event (id),
	CONSTRAINT chain_pos_check CHECK (pos >= 1),
	CONSTRAINT chain_prev_hash_check CHECK (octet_length(prev_hash) = 32),
	CONSTRAINT chain_hash_check CHECK (octet_length(hash) = 32)
);
COMMENT ON TABLE audit.chain IS
    'The hash chain over audit.event: link pos seals event event_id with '
    'hash = sha256(prev_hash || audit.canonical(event)), prev_hash being '
    'the hash of link pos - 1 (link 1: audit.genesis(); after a purge: '
    'the retention anchor).  Appended by audit.seal only; append-only.  '
    'No personal data.';

CREATE TABLE audit.unsealed (
	event_id bigint NOT NULL,
	CONSTRAINT unsealed_pkey PRIMARY KEY (event_id)
);
COMMENT ON TABLE audit.unsealed IS
    'The queue of audit events not yet in audit.chain: filled by the '
    'event_enqueue trigger in the inserting transaction, emptied by '
    'audit.seal in the sealing one.  An event neither here nor in the '
    'chain was inserted behind the trigger''s back (verify reports it).  '
    'No personal data.';

CREATE TABLE audit.retention (
	purged_through_pos bigint NOT NULL,
	anchor_hash bytea NOT NULL,
	before timestamptz NOT NULL,
	events bigint NOT NULL,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	CONSTRAINT retention_pkey PRIMARY KEY (purged_through_pos),
	CONSTRAINT retention_purged_through_pos_check
	    CHECK (purged_through_pos >= 1),
	CONSTRAINT retention_anchor_hash_check
	    CHECK (octet_length(anchor_hash) = 32),
	CONSTRAINT retention_events_check CHECK (events >= 1)
);
COMMENT ON TABLE audit.retention IS
    'One row per run of audit.purge_before that removed something: links '
    '1..purged_through_pos and their events are gone; anchor_hash is the '
    'hash of link purged_through_pos, where verification starts.  '
    'Append-only.  No personal data.';

-- ---------------------------------------------------------------------
-- Canonical encoding and the genesis value.
-- ---------------------------------------------------------------------

-- The prev_hash of link 1: sha256 of the 18 ASCII bytes
-- "nrm-audit-chain-v1" =
-- a06dc8d4062f19f11bf5a47ad2eb8689bc0ed5f373fe835d03a3eff2e73ea94f.
CREATE FUNCTION audit.genesis() RETURNS bytea
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.sha256('nrm-audit-chain-v1'::bytea)
$$;
COMMENT ON FUNCTION audit.genesis() IS
    'The prev_hash of chain link 1: sha256(''nrm-audit-chain-v1'').';

/*
 * The bytes a link hashes for an event: 14 length-prefixed fields, each
 * a 4-byte big-endian length then that many bytes of UTF-8 text, or the
 * 4 bytes ff ff ff ff for SQL NULL (so NULL and '' differ).  Field 0 is
 * the format tag "nrm.audit.event.v1"; then, in this order: id
 * (decimal), at (UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ", always six
 * fraction digits), api_key_id, agency_id (lowercase uuid text), role,
 * action, object_type, object_id, purpose, outcome, reason, request_id,
 * client_addr (abbrev(inet): "192.0.2.10", "2001:db8::1",
 * "10.0.0.0/8").  Length prefixes, not JSON: no escaping rules, no key
 * order or number formatting of a JSON library to pin, trivial to
 * reimplement (nrmctl does, in C, and cross-checks this function).  A new
 * column needs a new tag (v2) for the links sealed after it.
 *
 * One PL/pgSQL expression: five times faster than a SQL function (which
 * is not inlined here: to_char and convert_to are only STABLE) or a loop
 * over the fields.  octet_length(text) counts UTF-8 bytes because the
 * database encoding is UTF8 (checked below, at migration time).
 */
DO $enc$
BEGIN
	IF pg_catalog.current_setting('server_encoding') <> 'UTF8' THEN
		RAISE EXCEPTION 'the nrm database must be UTF8, not %',
		    pg_catalog.current_setting('server_encoding')
		    USING ERRCODE = 'feature_not_supported';
	END IF;
END
$enc$;

CREATE FUNCTION audit.canonical(e audit.event) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_null constant bytea := '\xffffffff';
	v_id text := e.id::text;
	v_at text := pg_catalog.to_char(e.at AT TIME ZONE 'UTC',
	    'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
	v_key text := e.api_key_id::text;
	v_agency text := e.agency_id::text;
	v_addr text := pg_catalog.abbrev(e.client_addr);
BEGIN
	-- The tag "nrm.audit.event.v1" with its length (18), then each field.
	RETURN '\x000000126e726d2e61756469742e6576656e742e7631'::bytea
	    || CASE WHEN v_id IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(v_id))
	            || pg_catalog.convert_to(v_id, 'UTF8') END
	    || CASE WHEN v_at IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(v_at))
	            || pg_catalog.convert_to(v_at, 'UTF8') END
	    || CASE WHEN v_key IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(v_key))
	            || pg_catalog.convert_to(v_key, 'UTF8') END
	    || CASE WHEN v_agency IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(v_agency))
	            || pg_catalog.convert_to(v_agency, 'UTF8') END
	    || CASE WHEN e.role IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(e.role))
	            || pg_catalog.convert_to(e.role, 'UTF8') END
	    || CASE WHEN e.action IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(e.action))
	            || pg_catalog.convert_to(e.action, 'UTF8') END
	    || CASE WHEN e.object_type IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(e.object_type))
	            || pg_catalog.convert_to(e.object_type, 'UTF8') END
	    || CASE WHEN e.object_id IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(e.object_id))
	            || pg_catalog.convert_to(e.object_id, 'UTF8') END
	    || CASE WHEN e.purpose IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(e.purpose))
	            || pg_catalog.convert_to(e.purpose, 'UTF8') END
	    || CASE WHEN e.outcome IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(e.outcome))
	            || pg_catalog.convert_to(e.outcome, 'UTF8') END
	    || CASE WHEN e.reason IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(e.reason))
	            || pg_catalog.convert_to(e.reason, 'UTF8') END
	    || CASE WHEN e.request_id IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(e.request_id))
	            || pg_catalog.convert_to(e.request_id, 'UTF8') END
	    || CASE WHEN v_addr IS NULL THEN v_null
	        ELSE pg_catalog.int4send(pg_catalog.octet_length(v_addr))
	            || pg_catalog.convert_to(v_addr, 'UTF8') END;
END
$$;
COMMENT ON FUNCTION audit.canonical(audit.event) IS
    'The canonical bytes of an audit event that its chain link hashes: '
    'length-prefixed UTF-8 fields in a fixed order (docs/audit.md).';

-- ---------------------------------------------------------------------
-- Append-only, enforced by triggers (privileges already keep every
-- role but the owner out; these stop the owner and superusers too,
-- unless they go around them on purpose: see docs/audit.md).
-- ---------------------------------------------------------------------

/*
 * BEFORE UPDATE OR DELETE (row) and BEFORE TRUNCATE (statement) on
 * audit.event, audit.chain and audit.retention: refuse.  The one
 * exception is a DELETE on a table whose trigger passes the argument
 * 'purgeable' (event, chain) while the transaction-local setting
 * nrm.audit_retention is 'on', which audit.purge_before sets around
 * its deletes.  UPDATE and TRUNCATE are never allowed.
 */
CREATE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_OP = 'DELETE' AND TG_NARGS > 0 AND TG_ARGV[0] = 'purgeable'
	    AND pg_catalog.current_setting('nrm.audit_retention', true) = 'on'
	THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA,
	    TG_TABLE_NAME, TG_OP
	    USING ERRCODE = 'insufficient_privilege',
	    HINT = 'audit rows leave only through audit.purge_before '
	        '(docs/audit.md)';
END
$$;
COMMENT ON FUNCTION audit.refuse_change() IS
    'Trigger: refuses UPDATE, DELETE and TRUNCATE on the audit tables, '
    'except the deletes of audit.purge_before.';

CREATE TRIGGER event_append_only
BEFORE UPDATE OR DELETE ON audit.event
FOR EACH ROW EXECUTE FUNCTION audit.refuse_change('purgeable');
CREATE TRIGGER event_no_truncate
BEFORE TRUNCATE ON audit.event
FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER chain_append_only
BEFORE UPDATE OR DELETE ON audit.chain
FOR EACH ROW EXECUTE FUNCTION audit.refuse_change('purgeable');
CREATE TRIGGER chain_no_truncate
BEFORE TRUNCATE ON audit.chain
FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER retention_append_only
BEFORE UPDATE OR DELETE ON audit.retention
FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER retention_no_truncate
BEFORE TRUNCATE ON audit.retention
FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
COMMENT ON TRIGGER event_append_only ON audit.event IS
    'Append-only: no UPDATE; DELETE only inside audit.purge_before.';
COMMENT ON TRIGGER event_no_truncate ON audit.event IS
    'Append-only: never TRUNCATE.';
COMMENT ON TRIGGER chain_append_only ON audit.chain IS
    'Append-only: no UPDATE; DELETE only inside audit.purge_before.';
COMMENT ON TRIGGER chain_no_truncate ON audit.chain IS
    'Append-only: never TRUNCATE.';
COMMENT ON TRIGGER retention_append_only ON audit.retention IS
    'Retention anchors are never changed or removed.';
COMMENT ON TRIGGER retention_no_truncate ON audit.retention IS
    'Retention anchors are never truncated.';

/*
 * AFTER INSERT on audit.event: queue the new event for the sealer, in
 * the inserting transaction (so it is queued exactly when it commits).
 * SECURITY DEFINER: writers need no privilege on the queue.  The only
 * cost an audited request pays for the chain: one small insert.
 */
CREATE FUNCTION audit.enqueue() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO audit.unsealed (event_id) VALUES (NEW.id);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION audit.enqueue() IS
    'Trigger: queues a new audit event in audit.unsealed for the sealer.';
CREATE TRIGGER event_enqueue
AFTER INSERT ON audit.event
FOR EACH ROW EXECUTE FUNCTION audit.enqueue();
COMMENT ON TRIGGER event_enqueue ON audit.event IS
    'Queues every new event for sealing into audit.chain.';

-- Events that exist already are sealed by the first sealer run, in id
-- order.
INSERT INTO audit.unsealed (event_id) SELECT id FROM audit.event;

-- ---------------------------------------------------------------------
-- Sealing.
-- ---------------------------------------------------------------------

/*
 * The chain head: the last link, or else the newest retention anchor,
 * or else position 0 with the genesis hash.
 */
CREATE FUNCTION audit.head_link(OUT pos bigint, OUT hash bytea)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT x.pos, x.hash FROM (
	    (SELECT c.pos, c.hash FROM audit.chain c ORDER BY c.pos DESC
	        LIMIT 1)
	    UNION ALL
	    (SELECT r.purged_through_pos, r.anchor_hash FROM audit.retention r
	        ORDER BY r.purged_through_pos DESC LIMIT 1)
	    UNION ALL
	    SELECT 0, audit.genesis()) x
	ORDER BY x.pos DESC
	LIMIT 1
$$;
COMMENT ON FUNCTION audit.head_link() IS
    'The chain head (pos, hash): the last link, else the newest retention '
    'anchor, else (0, genesis).';

/*
 * Seal up to p_limit (1..10000) queued events, in id order, onto the
 * chain.  Runs as nrm_audit_sealer (SECURITY DEFINER).  The advisory
 * transaction lock (5, 1) makes one sealer at a time: another one gets
 * {"sealed": 0, "busy": true} at once and never waits.  The lock is held
 * until commit, and a sealer reads the head only after taking it, so
 * positions never collide (the primary key would refuse it anyway).
 * A queued event whose row is gone (deleted behind the triggers before
 * it was sealed) is dropped from the queue unchained.
 */
CREATE FUNCTION audit.seal(p_limit integer) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_head record;
	v_pos bigint;
	v_prev bytea;
	v_done bigint[] := '{}';
	v_ids bigint[] := '{}';
	v_prevs bytea[] := '{}';
	v_hashes bytea[] := '{}';
	v_r record;
BEGIN
	IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
		RAISE EXCEPTION 'p_limit must be 1 to 10000'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT pg_catalog.pg_try_advisory_xact_lock(5, 1) THEN
		RETURN pg_catalog.jsonb_build_object('sealed', 0, 'busy', true);
	END IF;
	SELECT * INTO v_head FROM audit.head_link();
	v_pos := v_head.pos;
	v_prev := v_head.hash;
	-- The hashes are a sequence; the rows go in with one INSERT.
	FOR v_r IN
		SELECT u.event_id, e AS ev, e.id IS NOT NULL AS present
		FROM audit.unsealed u
		LEFT JOIN audit.event e ON e.id = u.event_id
		ORDER BY u.event_id
		LIMIT p_limit
	LOOP
		v_done := v_done || v_r.event_id;
		IF v_r.present THEN
			v_ids := v_ids || v_r.event_id;
			v_prevs := v_prevs || v_prev;
			v_prev := pg_catalog.sha256(v_prev
			    || audit.canonical(v_r.ev));
			v_hashes := v_hashes || v_prev;
		END IF;
	END LOOP;
	INSERT INTO audit.chain (pos, event_id, prev_hash, hash)
	SELECT v_pos + x.n, x.event_id, x.prev_hash, x.hash
	FROM ROWS FROM (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_prevs),
	    pg_catalog.unnest(v_hashes))
	    WITH ORDINALITY AS x(event_id, prev_hash, hash, n);
	DELETE FROM audit.unsealed WHERE event_id = ANY (v_done);
	v_pos := v_pos + pg_catalog.cardinality(v_ids);
	RETURN pg_catalog.jsonb_build_object('sealed',
	    pg_catalog.cardinality(v_ids), 'busy', false, 'head_pos', v_pos,
	    'head_hash', pg_catalog.encode(v_prev, 'hex'),
	    'unsealed', (SELECT pg_catalog.count(*) FROM audit.unsealed));
END
$$;
COMMENT ON FUNCTION audit.seal(integer) IS
    'The sealer: append up to p_limit queued events to audit.chain in id '
    'order, one sealer at a time (advisory xact lock (5, 1); others get '
    '"busy").  SECURITY DEFINER owned by nrm_audit_sealer.';

-- The chain head for nrmd's signed checkpoints; nrm_app may not read
-- audit.chain itself.
CREATE FUNCTION audit.head() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('pos', h.pos,
	    'hash', pg_catalog.encode(h.hash, 'hex'))
	FROM audit.head_link() h
$$;
COMMENT ON FUNCTION audit.head() IS
    'The chain head {"pos", "hash"}.  SECURITY DEFINER owned by '
    'nrm_audit_sealer.';

-- ---------------------------------------------------------------------
-- Verification.
-- ---------------------------------------------------------------------

-- audit.verify_chain, the recomputation of the chain from the newest
-- retention anchor (or genesis), stands in sql/api/41_audit_verify.sql
-- with its comment and grants: it shares its steps with
-- audit.verify_incremental (0014), and a function that changes lives in
-- a repeatable file.

/*
 * Whether p_checkpoints is NULL / JSON null or an array of at most
 * 100000 objects with an integer "pos" >= 0 and a 64-hex "hash" (other
 * keys, e.g. "at" and "sig", are ignored).
 */
CREATE FUNCTION audit.checkpoints_valid(p_checkpoints jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p_checkpoints IS NULL
	    OR pg_catalog.jsonb_typeof(p_checkpoints) = 'null'
	    OR (pg_catalog.jsonb_typeof(p_checkpoints) = 'array'
	        AND pg_catalog.jsonb_array_length(p_checkpoints) <= 100000
	        AND NOT EXISTS (SELECT 1
	            FROM pg_catalog.jsonb_array_elements(p_checkpoints) x
	            WHERE pg_catalog.jsonb_typeof(x) IS DISTINCT FROM 'object'
	               OR pg_catalog.jsonb_typeof(x->'pos')
	                  IS DISTINCT FROM 'number'
	               OR (x->>'pos') !~ '^(0|[1-9][0-9]{0,17})$'
	               OR pg_catalog.jsonb_typeof(x->'hash')
	                  IS DISTINCT FROM 'string'
	               OR (x->>'hash') !~ '^[0-9a-f]{64}$'))
$$;
COMMENT ON FUNCTION audit.checkpoints_valid(jsonb) IS
    'Shape check of api.audit_verify''s p_checkpoints.';

-- ---------------------------------------------------------------------
-- Search.
-- ---------------------------------------------------------------------

/*
 * Check api.audit_search's arguments.  NULL when they are fine, else
 * {"field", "detail"} of the first problem: p_filters is not an object
 * or has an unknown key (field "filters"); a filter that is not a
 * string or not of its form (field = the filter's name); p_after_id
 * negative ("after"); p_limit outside 1..200 ("limit"); from >= to
 * ("to").  A detail never quotes the value.
 */
CREATE FUNCTION audit.search_problem(p_filters jsonb, p_after_id bigint,
    p_limit integer) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_key text;
	v_val text;
	v_from timestamptz;
	v_to timestamptz;
	v_uuid constant text :=
	    '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
	    '[0-9a-fA-F]{12}$';
	v_time constant text := '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:'
	    '[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$';
BEGIN
	IF p_filters IS NOT NULL
	    AND pg_catalog.jsonb_typeof(p_filters) <> 'object' THEN
		RETURN pg_catalog.jsonb_build_object('field', 'filters',
		    'detail', 'filters must be a JSON object');
	END IF;
	FOR v_key IN SELECT k FROM pg_catalog.jsonb_object_keys(
	    COALESCE(p_filters, '{}'::jsonb)) k ORDER BY k
	LOOP
		IF v_key NOT IN ('principal', 'agency', 'object_type',
		    'object_id', 'action', 'purpose', 'outcome', 'from', 'to')
		THEN
			RETURN pg_catalog.jsonb_build_object('field',
			    'filters', 'detail', 'unknown filter; known: '
			    'principal, agency, object_type, object_id, '
			    'action, purpose, outcome, from, to');
		END IF;
		IF pg_catalog.jsonb_typeof(p_filters->v_key) <> 'string' THEN
			RETURN pg_catalog.jsonb_build_object('field', v_key,
			    'detail', v_key || ' must be a string');
		END IF;
		v_val := p_filters->>v_key;
		IF (v_key IN ('principal', 'agency') AND v_val !~ v_uuid)
		    OR (v_key = 'object_type'
		        AND v_val !~ '^[a-z][a-z_]{0,63}$')
		    OR (v_key = 'object_id'
		        AND pg_catalog.char_length(v_val) NOT BETWEEN 1 AND 100)
		    OR (v_key = 'action' AND (pg_catalog.char_length(v_val) > 64
		        OR v_val !~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'))
		    OR (v_key = 'purpose'
		        AND NOT v_val = ANY (audit.purpose_codes()))
		    OR (v_key = 'outcome'
		        AND v_val NOT IN ('allowed', 'denied', 'failed'))
		    OR (v_key IN ('from', 'to') AND v_val !~ v_time)
		THEN
			RETURN pg_catalog.jsonb_build_object('field', v_key,
			    'detail', CASE v_key
			    WHEN 'principal'
			        THEN 'principal must be an API key id'
			    WHEN 'agency' THEN 'agency must be an agency id'
			    WHEN 'object_type'
			        THEN 'object_type must be a lowercase code'
			    WHEN 'object_id'
			        THEN 'object_id must be 1 to 100 characters'
			    WHEN 'action' THEN 'action must be a dotted '
			        'lowercase code such as case.read'
			    WHEN 'purpose' THEN 'purpose must be one of: '
			        || pg_catalog.array_to_string(
			            audit.purpose_codes(), ', ')
			    WHEN 'outcome' THEN 'outcome must be allowed, '
			        'denied or failed'
			    ELSE v_key
			        || ' must be an RFC 3339 time with a zone'
			    END);
		END IF;
		IF v_key IN ('from', 'to') THEN
			BEGIN
				IF v_key = 'from' THEN
					v_from := v_val::timestamptz;
				ELSE
					v_to := v_val::timestamptz;
				END IF;
			EXCEPTION WHEN data_exception THEN
				RETURN pg_catalog.jsonb_build_object(
				    'field', v_key, 'detail', v_key
				    || ' must be an RFC 3339 time with a zone');
			END;
		END IF;
	END LOOP;
	IF v_from IS NOT NULL AND v_to IS NOT NULL AND v_from >= v_to THEN
		RETURN pg_catalog.jsonb_build_object('field', 'to',
		    'detail', 'to must be later than from');
	END IF;
	IF p_after_id < 0 THEN
		RETURN pg_catalog.jsonb_build_object('field', 'after',
		    'detail', 'after must be an event id');
	END IF;
	IF p_limit NOT BETWEEN 1 AND 200 THEN
		RETURN pg_catalog.jsonb_build_object('field', 'limit',
		    'detail', 'limit must be 1 to 200');
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION audit.search_problem(jsonb, bigint, integer) IS
    'Argument check of api.audit_search: NULL, or {"field", "detail"} of '
    'the first bad filter or paging argument.';

-- ---------------------------------------------------------------------
-- Retention: the one way rows leave the audit log.
-- ---------------------------------------------------------------------

-- audit.purge_before, the retention procedure, stands in
-- sql/api/40_audit.sql with its comment and grants (0014 added the
-- minimum retention age: a function that changes lives in a repeatable
-- file).

-- ---------------------------------------------------------------------
-- Grants.
-- ---------------------------------------------------------------------
REVOKE ALL ON FUNCTION audit.genesis(),
    audit.canonical(audit.event),
    audit.refuse_change(),
    audit.enqueue(),
    audit.head_link(),
    audit.seal(integer),
    audit.head(),
    audit.checkpoints_valid(jsonb),
    audit.search_problem(jsonb, bigint, integer)
    FROM PUBLIC;

-- nrm_app: the entry points, and the two sealer functions behind
-- api.audit_seal and api.audit_head (no privilege on the tables).
GRANT EXECUTE ON FUNCTION audit.seal(integer),
    audit.head()
    TO nrm_app;

-- auditor: what verify and search read and call after the switch.
GRANT SELECT ON audit.chain, audit.retention, audit.unsealed
    TO nrm_auditor;
GRANT EXECUTE ON FUNCTION audit.genesis(), audit.canonical(audit.event),
    audit.checkpoints_valid(jsonb),
    audit.search_problem(jsonb, bigint, integer)
    TO nrm_auditor;

-- nrm_audit_sealer: exactly what sealing and the head read need.
GRANT USAGE ON SCHEMA audit TO nrm_audit_sealer;
GRANT SELECT ON audit.event, audit.chain, audit.retention, audit.unsealed
    TO nrm_audit_sealer;
GRANT INSERT ON audit.chain TO nrm_audit_sealer;
GRANT DELETE ON audit.unsealed TO nrm_audit_sealer;
GRANT EXECUTE ON FUNCTION audit.genesis(), audit.canonical(audit.event),
    audit.head_link() TO nrm_audit_sealer;

-- audit.seal and audit.head run as nrm_audit_sealer.  A new owner needs
-- CREATE on the schema at the moment of the change only.
GRANT CREATE ON SCHEMA audit TO nrm_audit_sealer;
ALTER FUNCTION audit.seal(integer) OWNER TO nrm_audit_sealer;
ALTER FUNCTION audit.head() OWNER TO nrm_audit_sealer;
REVOKE CREATE ON SCHEMA audit FROM nrm_audit_sealer;
