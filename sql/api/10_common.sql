-- 10_common.sql - api functions: the helpers every entry point uses
-- (problem, audit, authenticate, scope, purposes), authorize/record and
-- schema_version. A repeatable file (docs/sql-api.md, "Migrations").
--
-- Applied by `nrmctl migrate` after the numbered migrations, in the same
-- transaction, every file of sql/api/ in name order, and recorded with
-- its SHA-256 in nrm.schema_repeatable.  Each function stands here once,
-- as CREATE OR REPLACE, with its comment and grants; change it here.  A
-- new signature, a dropped function or anything a table, view, policy
-- or trigger needs at creation time belongs in a numbered migration.

-- Doors (issue 14 part 1; docs/sql-api.md, "Doors"): every function
-- nrmd calls is SECURITY DEFINER, owned by the NOLOGIN role it serves
-- (sql/api/99_doors.sql holds the one list), so inside it current_user
-- is that role and the role's grants and row-level-security policies
-- apply; nrm_app, a member of no role, may execute the doors and nothing
-- else.  api.enter authenticates (api.authenticate, SECURITY DEFINER of
-- nrm_gate, which alone reads the keys and writes audit events) and
-- checks that the principal's role is the door's; it switches no role
-- (PostgreSQL forbids setting role inside a SECURITY DEFINER function).
-- api.leave, api.refuse and api.answer return the answer (refuse and
-- answer audit it).  The helpers are SECURITY INVOKER: they run as the
-- door's role.

-- {"status": s, "problem": {"code", "detail"[, "field"]}}
CREATE OR REPLACE FUNCTION api.problem(p_status integer, p_code text,
    p_detail text,
    p_field text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('status', p_status, 'problem',
	    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
	        'code', p_code, 'detail', p_detail, 'field', p_field)))
$$;
COMMENT ON FUNCTION api.problem(integer, text, text, text) IS
    'The jsonb answer of a refused request.';
GRANT EXECUTE ON FUNCTION api.problem(integer, text, text, text) TO
    nrm_reporter, nrm_coordinator, nrm_assessor, nrm_investigator,
    nrm_auditor, nrm_analyst, nrm_admin;
-- nrm_people (0009) in a GRANT of its own: the access list then reads
-- the same in a database migrated forward and in a fresh one.  So is
-- nrm_gate (0018).
GRANT EXECUTE ON FUNCTION api.problem(integer, text, text, text) TO
    nrm_people;
GRANT EXECUTE ON FUNCTION api.problem(integer, text, text, text) TO
    nrm_gate;

CREATE OR REPLACE FUNCTION api.audit(p_key_id uuid, p_agency_id uuid,
    p_role text,
    p_action text, p_object_type text, p_object_id text, p_purpose text,
    p_outcome text, p_reason text, p_request_id text, p_client inet)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- PL/pgSQL, not LANGUAGE sql: the INSERT's plan is kept for the
	-- session; a SQL function's was made again at every call
	-- (docs/performance.md).
	INSERT INTO audit.event (api_key_id, agency_id, role, action,
	    object_type, object_id, purpose, outcome, reason, request_id,
	    client_addr)
	VALUES (p_key_id, p_agency_id, p_role, p_action, p_object_type,
	    p_object_id, p_purpose, p_outcome, p_reason, p_request_id, p_client);
END
$$;
COMMENT ON FUNCTION api.audit(uuid, uuid, text, text, text, text, text,
    text, text, text, inet) IS
    'Append one audit event in the caller''s transaction (SECURITY '
    'DEFINER of nrm_gate: the API roles insert into audit.event only '
    'through it and api.audit_person).';
GRANT EXECUTE ON FUNCTION api.audit(uuid, uuid, text, text, text, text,
    text, text, text, text, inet) TO nrm_reporter, nrm_coordinator,
    nrm_assessor, nrm_investigator, nrm_auditor, nrm_analyst, nrm_admin;
GRANT EXECUTE ON FUNCTION api.audit(uuid, uuid, text, text, text, text,
    text, text, text, text, inet) TO nrm_people;

/*
 * Append one audit event naming a person explicitly (p_person_id; the
 * login, the enrolment, an expired session: no principal published).
 * api.audit leaves person_id to the column default, the principal's
 * person (nrm.person_id, published by api.authenticate).
 */
CREATE OR REPLACE FUNCTION api.audit_person(p_person_id uuid, p_key_id uuid,
    p_agency_id uuid, p_role text, p_action text, p_object_type text,
    p_object_id text, p_purpose text, p_outcome text, p_reason text,
    p_request_id text, p_client inet)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- PL/pgSQL, as api.audit: the INSERT planned once a session.
	INSERT INTO audit.event (person_id, api_key_id, agency_id, role,
	    action, object_type, object_id, purpose, outcome, reason,
	    request_id, client_addr)
	VALUES (p_person_id, p_key_id, p_agency_id, p_role, p_action,
	    p_object_type, p_object_id, p_purpose, p_outcome, p_reason,
	    p_request_id, p_client);
END
$$;
COMMENT ON FUNCTION api.audit_person(uuid, uuid, uuid, text, text, text,
    text, text, text, text, text, inet) IS
    'Append one audit event naming p_person_id (NULL: none) in the '
    'caller''s transaction.';
GRANT EXECUTE ON FUNCTION api.audit_person(uuid, uuid, uuid, text, text,
    text, text, text, text, text, text, inet) TO nrm_people,
    nrm_reporter, nrm_coordinator, nrm_assessor, nrm_investigator,
    nrm_auditor, nrm_analyst, nrm_admin;

/*
 * Append one audit event per principal of the arrays (person, key,
 * agency, role, request id, client: element i is one request's), all of
 * one action, object, purpose, outcome and reason, in array order, in one
 * INSERT.  For api.inbox_many, whose readers of one page are audited
 * together: one statement's start-up (its CHECK constraints prepared
 * once) instead of one per reader (docs/performance.md).
 */
CREATE OR REPLACE FUNCTION api.audit_many(p_person_ids uuid[],
    p_key_ids uuid[], p_agency_ids uuid[], p_roles text[], p_action text,
    p_object_type text, p_object_id text, p_purpose text, p_outcome text,
    p_reason text, p_request_ids text[], p_clients inet[])
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.cardinality(p_key_ids) IS DISTINCT FROM
	        pg_catalog.cardinality(p_person_ids)
	    OR pg_catalog.cardinality(p_key_ids) IS DISTINCT FROM
	        pg_catalog.cardinality(p_agency_ids)
	    OR pg_catalog.cardinality(p_key_ids) IS DISTINCT FROM
	        pg_catalog.cardinality(p_roles)
	    OR pg_catalog.cardinality(p_key_ids) IS DISTINCT FROM
	        pg_catalog.cardinality(p_request_ids)
	    OR pg_catalog.cardinality(p_key_ids) IS DISTINCT FROM
	        pg_catalog.cardinality(p_clients) THEN
		RAISE EXCEPTION 'api.audit_many: arrays of unequal length'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO audit.event (person_id, api_key_id, agency_id, role,
	    action, object_type, object_id, purpose, outcome, reason,
	    request_id, client_addr)
	SELECT u.person_id, u.key_id, u.agency_id, u.role, p_action,
	    p_object_type, p_object_id, p_purpose, p_outcome, p_reason,
	    u.request_id, u.client
	FROM ROWS FROM (pg_catalog.unnest(p_person_ids),
	    pg_catalog.unnest(p_key_ids), pg_catalog.unnest(p_agency_ids),
	    pg_catalog.unnest(p_roles), pg_catalog.unnest(p_request_ids),
	    pg_catalog.unnest(p_clients)) WITH ORDINALITY
	    AS u(person_id, key_id, agency_id, role, request_id, client, n)
	ORDER BY u.n;
END
$$;
COMMENT ON FUNCTION api.audit_many(uuid[], uuid[], uuid[], text[], text,
    text, text, text, text, text, text[], inet[]) IS
    'Append one audit event per element of the arrays (one request each), '
    'of one action and outcome, in array order, in one INSERT.';
GRANT EXECUTE ON FUNCTION api.audit_many(uuid[], uuid[], uuid[], text[],
    text, text, text, text, text, text, text[], inet[]) TO nrm_coordinator;

/*
 * api.authenticate (0001) with the scope and sessions: p_token_hash is
 * SHA-256(token), or that followed by the SHA-256 of the client
 * certificate the TLS connection presented and nrmd verified (64
 * bytes); a key bound to a certificate (auth.api_key.cert_sha256, 0015)
 * without that certificate is a 401 audited denied certificate_mismatch.
 * The scope is
 * cleared on entry (a denied call never keeps the scope of an earlier
 * call in the transaction) and published on success, the principal's
 * person (NULL for a key) as nrm.person_id too.  A token hash that is no
 * API key is looked up as a session (auth.session_principal, SECURITY
 * DEFINER: nrm_app cannot read auth.session): a session ended, past its
 * idle or absolute expiry, or of a disabled person is refused with the
 * same 401 as an unknown token (audited denied: session_expired,
 * session_ended, person_disabled, with the person).  A person's
 * principal carries the person's own key (auth.person.key_id) as key_id.
 * SECURITY DEFINER of nrm_gate: the one reader of auth.api_key (token
 * hashes) a door reaches; the scope it publishes overwrites whatever the
 * session set (the doors also clear it on entry, 99_doors.sql).
 */
CREATE OR REPLACE FUNCTION api.authenticate(p_token_hash bytea,
    p_request_id text, p_client inet, p_roles text[], p_action text,
    p_object_type text, p_object_id text, OUT key_id uuid,
    OUT agency_id uuid, OUT role text, OUT regions text[],
    OUT agency_kind text, OUT denial jsonb, OUT person_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_key record;
	v_s record;
	-- the token's hash, then (mutual TLS) the verified client
	-- certificate's SHA-256 when nrmd has one
	v_hash constant bytea := substring(p_token_hash FROM 1 FOR 32);
	v_cert constant bytea := CASE WHEN octet_length(p_token_hash) = 64
	    THEN substring(p_token_hash FROM 33) END;
	v_401 constant jsonb := api.problem(401, 'unauthenticated',
	    'missing, unknown or revoked API token');
	v_set text; -- set_config's answer, unused (assigned: see api.scope)
BEGIN
	PERFORM api.scope(NULL, NULL, NULL, NULL);
	IF octet_length(p_token_hash) NOT IN (32, 64) THEN
		denial := v_401;
		RETURN;
	END IF;
	SELECT k.id, k.agency_id, k.role, k.regions, k.revoked_at, a.kind,
	    k.cert_sha256
	INTO v_key
	FROM auth.api_key k
	JOIN auth.agency a ON a.id = k.agency_id
	WHERE k.token_hash = v_hash;
	IF FOUND AND v_key.revoked_at IS NULL
	    AND v_key.cert_sha256 IS DISTINCT FROM NULL
	    AND v_key.cert_sha256 IS DISTINCT FROM v_cert THEN
		PERFORM api.audit(v_key.id, v_key.agency_id, v_key.role,
		    p_action, p_object_type, p_object_id, NULL, 'denied',
		    'certificate_mismatch', p_request_id, p_client);
		-- certificate_required: the token is valid, so nrmd does not
		-- file this refusal in its rejected-token cache (its owner,
		-- with the certificate, must still be served)
		denial := pg_catalog.jsonb_set(api.problem(401,
		    'unauthenticated',
		    'this API key is bound to a client certificate: present '
		    'it over TLS'), '{problem,certificate_required}', 'true');
		RETURN;
	END IF;
	IF NOT FOUND THEN
		SELECT * INTO v_s FROM auth.session_principal(v_hash);
		IF v_s.person_id IS NULL THEN
			PERFORM api.audit(NULL, NULL, NULL, p_action,
			    p_object_type, p_object_id, NULL, 'denied',
			    'unknown_token', p_request_id, p_client);
			denial := v_401;
			RETURN;
		END IF;
		IF v_s.problem IS NOT NULL THEN
			PERFORM api.audit_person(v_s.person_id, v_s.id,
			    v_s.agency_id, v_s.role, p_action, p_object_type,
			    p_object_id, NULL, 'denied', v_s.problem,
			    p_request_id, p_client);
			denial := v_401;
			RETURN;
		END IF;
		v_key := v_s;
		person_id := v_s.person_id;
	ELSIF v_key.revoked_at IS NOT NULL THEN
		PERFORM api.audit(v_key.id, v_key.agency_id, v_key.role,
		    p_action, p_object_type, p_object_id, NULL, 'denied',
		    'revoked_key', p_request_id, p_client);
		denial := v_401;
		RETURN;
	END IF;
	IF NOT v_key.role = ANY (p_roles) THEN
		PERFORM api.audit_person(person_id, v_key.id, v_key.agency_id,
		    v_key.role, p_action, p_object_type, p_object_id, NULL,
		    'denied', 'role_not_permitted', p_request_id, p_client);
		denial := api.problem(403, 'forbidden',
		    'this API role may not perform this action');
		person_id := NULL;
		RETURN;
	END IF;
	key_id := v_key.id;
	agency_id := v_key.agency_id;
	role := v_key.role;
	regions := v_key.regions;
	agency_kind := v_key.kind;
	PERFORM api.scope(key_id, agency_id, role, regions);
	v_set := pg_catalog.set_config('nrm.person_id',
	    COALESCE(person_id::text, ''), true);
END
$$;
COMMENT ON FUNCTION api.authenticate(bytea, text, inet, text[], text, text,
    text) IS
    'Token hash (API key or session) to principal, or the audited 401/403 '
    'answer.  Publishes the principal''s scope for row-level security '
    '(api.scope) and its person (nrm.person_id, the default of '
    'audit.event.person_id); does not switch role: the caller does, in '
    'its own body.';
GRANT EXECUTE ON FUNCTION api.authenticate(bytea, text, inet, text[], text,
    text, text) TO nrm_reporter, nrm_coordinator,
    nrm_assessor, nrm_investigator, nrm_auditor, nrm_analyst, nrm_admin;
GRANT EXECUTE ON FUNCTION api.authenticate(bytea, text, inet, text[], text,
    text, text) TO nrm_people;
-- The chain director's door (api.overview) enters through it too.
GRANT EXECUTE ON FUNCTION api.authenticate(bytea, text, inet, text[], text,
    text, text) TO nrm_chain_director;

-- The advisory lock key of an (API key, Idempotency-Key) pair.
CREATE OR REPLACE FUNCTION api.idempotency_lock_key(p_key_id uuid,
    p_idem_key text)
RETURNS bigint
LANGUAGE sql IMMUTABLE
-- A standard-SQL body, bound when created, and no SET clause: PostgreSQL
-- inlines it into the caller's expression (docs/performance.md).
RETURN pg_catalog.hashtextextended(
    'nrm.idempotency/' || p_key_id::text || '/' || p_idem_key, 0);
GRANT EXECUTE ON FUNCTION api.idempotency_lock_key(uuid, text) TO
    nrm_reporter, nrm_coordinator, nrm_assessor, nrm_investigator,
    nrm_auditor, nrm_analyst, nrm_admin;

CREATE OR REPLACE FUNCTION api.schema_version() RETURNS integer
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.max(version) FROM nrm.schema_version
$$;
COMMENT ON FUNCTION api.schema_version() IS
    'The highest applied migration, for nrmd''s start-up check.';
-- A door of nrm_gate (99_doors.sql); the API roles, which could call it
-- before the doors (issue 14), no longer need to.
REVOKE ALL ON FUNCTION api.schema_version() FROM nrm_reporter,
    nrm_coordinator, nrm_assessor, nrm_investigator, nrm_auditor,
    nrm_analyst, nrm_admin;

CREATE OR REPLACE FUNCTION api.schema_checksum() RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
	    COALESCE(pg_catalog.string_agg(r.checksum || ' ' || r.name
	        || E'\n', '' ORDER BY r.name COLLATE "C"), ''), 'UTF8')),
	    'hex')
	FROM nrm.schema_repeatable r
$$;
COMMENT ON FUNCTION api.schema_checksum() IS
    'SHA-256 of the lines "CHECKSUM NAME" of the repeatable files as '
    'applied, in name order: what the build of nrmd expects '
    '(NRM_SCHEMA_CHECKSUM), for /readyz.';
-- a door of nrm_gate (99_doors.sql)

/*
 * Publish the principal's scope as transaction-local settings that the
 * row-level security policies read: nrm.key_id, nrm.agency_id,
 * nrm.role, nrm.regions (region codes joined by commas; codes never
 * contain one) and nrm.case_id (cleared here; api.case_lock sets it to
 * the case a lifecycle action locked).  NULL arguments clear the scope.
 * Called by api.authenticate (SECURITY DEFINER of nrm_gate, which alone
 * may execute this), so every door publishes the scope of the principal
 * its token names.  A session may SET nrm.regions itself, but it reaches
 * the policies that read it only through a door, which clears the scope
 * on entry (a SET clause of each door, 99_doors.sql) and restores the
 * session's value on return; nrm_app can SET ROLE to no role that the
 * policies name (docs/security.md).
 */
CREATE OR REPLACE FUNCTION api.scope(p_key_id uuid, p_agency_id uuid,
    p_role text,
    p_regions text[]) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	-- Assignments, not PERFORMs: PL/pgSQL evaluates an assignment of a
	-- table-free expression without starting the executor, a PERFORM
	-- is a query (six of them were 12 of an intake's ~50 executor runs;
	-- docs/performance.md).
	v text;
BEGIN
	v := pg_catalog.set_config('nrm.key_id',
	    COALESCE(p_key_id::text, ''), true);
	v := pg_catalog.set_config('nrm.agency_id',
	    COALESCE(p_agency_id::text, ''), true);
	v := pg_catalog.set_config('nrm.role', COALESCE(p_role, ''), true);
	v := pg_catalog.set_config('nrm.regions',
	    COALESCE(pg_catalog.array_to_string(p_regions, ','), ''), true);
	v := pg_catalog.set_config('nrm.case_id', '', true);
	v := pg_catalog.set_config('nrm.person_id', '', true);
END
$$;
COMMENT ON FUNCTION api.scope(uuid, uuid, text, text[]) IS
    'Set (or, with NULLs, clear) the transaction-local scope settings '
    'nrm.key_id, nrm.agency_id, nrm.role, nrm.regions, nrm.case_id that '
    'the row-level security policies read, and clear nrm.person_id.  '
    'Called by api.authenticate.';
-- nrm_gate's alone (the owner, see the end of this file): the roles that
-- could call it before the doors (issue 14) no longer may.
REVOKE ALL ON FUNCTION api.scope(uuid, uuid, text, text[]) FROM
    nrm_reporter, nrm_coordinator, nrm_assessor, nrm_investigator,
    nrm_auditor, nrm_analyst, nrm_admin, nrm_people;

-- A JSON string holding a calendar date YYYY-MM-DD, as a date; NULL for
-- anything else (another type, another format, 2024-02-30).
CREATE OR REPLACE FUNCTION api.json_date(p_value jsonb) RETURNS date
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_value IS NULL OR pg_catalog.jsonb_typeof(p_value) <> 'string'
	    OR (p_value #>> '{}') !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
		RETURN NULL;
	END IF;
	RETURN (p_value #>> '{}')::date;
EXCEPTION WHEN data_exception THEN
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.json_date(jsonb) IS
    'A JSON string "YYYY-MM-DD" as a date, else NULL.';
GRANT EXECUTE ON FUNCTION api.json_date(jsonb) TO nrm_coordinator,
    nrm_assessor, nrm_investigator;

/*
 * The purpose-of-access codes (docs/audit.md#purposes; 0005 created the
 * list, 0019 added data_protection).  Spelled twice: here and in
 * audit.event's event_purpose_check (a CHECK must not call a function
 * every inserting role would need EXECUTE on); tests/db/60_audit.sql
 * keeps the two equal.  'nrmctl' is the purpose nrmctl has written for
 * key management since 0001.
 */
CREATE OR REPLACE FUNCTION audit.purpose_codes() RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['care', 'intake', 'identification', 'investigation',
	    'audit', 'monitoring', 'emergency', 'nrmctl',
	    'data_protection']::text[]
$$;
COMMENT ON FUNCTION audit.purpose_codes() IS
    'The purpose-of-access codes audit.event.purpose accepts (the same '
    'list as event_purpose_check).';
REVOKE ALL ON FUNCTION audit.purpose_codes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.purpose_codes()
    TO nrm_coordinator, nrm_assessor, nrm_auditor;

/*
 * The purpose and reason of a personal-data read from the headers
 * (NULL: absent): purpose defaults to p_default (a read whose content
 * has one sound purpose, like a track's history), else to the role's
 * (audit.default_purpose); a purpose is a code
 * of audit.purpose_codes(); emergency needs a reason code of
 * audit.break_glass_reasons(); a reason without emergency is refused
 * (it would be recorded nowhere, and the caller may believe otherwise).
 * problem is the 400 answer (field purpose or reason), else NULL.
 */
CREATE OR REPLACE FUNCTION api.read_purpose(p_role text, p_purpose text,
    p_reason text, p_default text DEFAULT NULL, OUT purpose text,
    OUT reason text, OUT problem jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	purpose := COALESCE(p_purpose, p_default,
	    audit.default_purpose(p_role));
	IF purpose IS NULL OR purpose !~ '^[a-z][a-z_]{0,63}$' THEN
		problem := api.problem(400, 'bad_request',
		    'purpose must be a lowercase code (a-z and _)', 'purpose');
		RETURN;
	END IF;
	IF NOT purpose = ANY (audit.purpose_codes()) THEN
		problem := api.problem(400, 'bad_request',
		    'purpose must be one of: ' || pg_catalog.array_to_string(
		        audit.purpose_codes(), ', '), 'purpose');
		RETURN;
	END IF;
	IF purpose <> 'emergency' THEN
		IF p_reason IS NOT NULL THEN
			problem := api.problem(400, 'bad_request',
			    'a reason is given only with purpose emergency',
			    'reason');
		END IF;
		RETURN;
	END IF;
	IF p_reason IS NULL OR NOT p_reason = ANY (audit.break_glass_reasons())
	THEN
		problem := api.problem(400, 'bad_request',
		    'an emergency read needs a reason, one of: '
		    || pg_catalog.array_to_string(audit.break_glass_reasons(),
		        ', '), 'reason');
		RETURN;
	END IF;
	reason := p_reason;
END
$$;
COMMENT ON FUNCTION api.read_purpose(text, text, text, text) IS
    'Purpose (header or the role''s default) and reason of a '
    'personal-data read, or the 400 problem naming purpose or reason.';
GRANT EXECUTE ON FUNCTION api.read_purpose(text, text, text, text) TO
    nrm_coordinator, nrm_assessor;

/*
 * Audit a read of personal data: an emergency read through
 * audit.event_flagged (flagged for review), any other through api.audit.
 * Always outcome allowed: denials are written where they happen.
 */
CREATE OR REPLACE FUNCTION api.audit_read(p_key_id uuid, p_agency_id uuid,
    p_role text, p_action text, p_object_type text, p_object_id text,
    p_purpose text, p_reason text, p_request_id text, p_client inet)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_purpose = 'emergency' THEN
		PERFORM audit.event_flagged(p_key_id, p_agency_id, p_role,
		    p_action, p_object_type, p_object_id, p_purpose, p_reason,
		    p_request_id, p_client, 'break_glass');
	ELSE
		PERFORM api.audit(p_key_id, p_agency_id, p_role, p_action,
		    p_object_type, p_object_id, p_purpose, 'allowed', NULL,
		    p_request_id, p_client);
	END IF;
END
$$;
COMMENT ON FUNCTION api.audit_read(uuid, uuid, text, text, text, text, text,
    text, text, inet) IS
    'Audit an allowed read of personal data; an emergency read is also '
    'flagged for review (audit.event_flagged).';
GRANT EXECUTE ON FUNCTION api.audit_read(uuid, uuid, text, text, text, text,
    text, text, text, inet) TO nrm_coordinator, nrm_assessor;

/*
 * Denials name their object.  nrmd refuses a caller whose role may not
 * act before it calls the action's own function, and audits that denial
 * with the object (0003's 5-argument api.authorize did not, and 0008
 * drops it): "who tried to read this file" (GET /v1/audit?object_type=
 * case&object_id=...) sees an investigator's attempt on a case.  nrmd
 * passes the route's id when it is well formed (never free text from
 * the path).
 */
CREATE OR REPLACE FUNCTION api.authorize(p_token_hash bytea, p_request_id text,
    p_client inet, p_roles text[], p_action text, p_object_type text,
    p_object_id text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
BEGIN
	SELECT * INTO v_p FROM api.authenticate(p_token_hash, p_request_id,
	    p_client, p_roles, p_action, p_object_type, p_object_id);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	RETURN pg_catalog.jsonb_build_object('status', 200, 'body',
	    pg_catalog.jsonb_build_object('key_id', v_p.key_id,
	        'agency_id', v_p.agency_id, 'role', v_p.role,
	        'agency_kind', v_p.agency_kind,
	        'regions', COALESCE(v_p.regions, '{}'::text[]),
	        'person_id', v_p.person_id));
END
$$;
COMMENT ON FUNCTION api.authorize(bytea, text, inet, text[], text, text,
    text) IS
    'The principal of a token hash if its role is one of p_roles, else '
    'the audited 401/403 answer naming the object (p_object_type, '
    'p_object_id).  Reads no personal data; switches no role.';
-- a door of nrm_gate (99_doors.sql); api.record calls it as nrm_gate.

-- An allowed action that touches no table of its own (explaining a
-- routing decision, reading the routing configuration, reloading it):
-- api.authorize, and record it in the audit log, in one transaction.
CREATE OR REPLACE FUNCTION api.record(p_token_hash bytea, p_request_id text,
    p_client inet, p_roles text[], p_action text, p_object_type text,
    p_object_id text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_answer jsonb;
BEGIN
	v_answer := api.authorize(p_token_hash, p_request_id, p_client,
	    p_roles, p_action, p_object_type, p_object_id);
	IF (v_answer->>'status')::integer = 200 THEN
		PERFORM api.audit((v_answer #>> '{body,key_id}')::uuid,
		    (v_answer #>> '{body,agency_id}')::uuid,
		    v_answer #>> '{body,role}', p_action, p_object_type,
		    p_object_id, NULL, 'allowed', NULL, p_request_id, p_client);
	END IF;
	RETURN v_answer;
END
$$;
COMMENT ON FUNCTION api.record(bytea, text, inet, text[], text, text, text)
    IS 'Authenticate for p_roles and audit an allowed action that stores '
    'nothing else (routing explain, configuration read and reload).';
-- a door of nrm_gate (99_doors.sql)

/*
 * The steps every entry point takes, once.  An entry point runs:
 *
 *	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
 *	    p_client, ARRAY['coordinator'], 'case.take', 'case', id);
 *	IF v_p.denial IS NOT NULL THEN
 *		RETURN v_p.denial;
 *	END IF;
 *	... (as the API role) ...
 *	RETURN api.refuse(v_p, purpose, 'failed', reason, api.problem(...));
 *	RETURN api.answer(v_p, purpose, api.case_answer(id));
 *
 * api.enter authenticates (api.authenticate: the audited 401/403 in
 * denial, the scope published) and checks that the principal's role is
 * the one the door runs as (current_user nrm_<role>, the door's owner,
 * 99_doors.sql); a principal of another role is refused with the same
 * audited 403 as a role p_roles does not name.  It switches no role:
 * the door already runs as its role.  The principal record also keeps
 * what the call's audit events name (action, object_type, object_id,
 * request_id, client), so api.refuse (audit a failed or denied outcome),
 * api.answer (audit an allowed one) and api.leave (no audit) record the
 * same fields the entry point was called for and return the answer.
 * prev_role is kept for the record's shape: NULL.  All PL/pgSQL: a
 * LANGUAGE sql helper called from PL/pgSQL keeps its plan (row-level
 * security quals included) for the rest of the transaction.
 */
CREATE OR REPLACE FUNCTION api.enter(p_token_hash bytea, p_request_id text,
    p_client inet, p_roles text[], p_action text, p_object_type text,
    p_object_id text, OUT key_id uuid, OUT agency_id uuid, OUT role text,
    OUT regions text[], OUT agency_kind text, OUT denial jsonb,
    OUT prev_role text, OUT action text, OUT object_type text,
    OUT object_id text, OUT request_id text, OUT client inet,
    OUT person_id uuid)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	SELECT a.key_id, a.agency_id, a.role, a.regions, a.agency_kind,
	    a.denial, a.person_id
	INTO key_id, agency_id, role, regions, agency_kind, denial, person_id
	FROM api.authenticate(p_token_hash, p_request_id, p_client, p_roles,
	    p_action, p_object_type, p_object_id) a;
	action := p_action;
	object_type := p_object_type;
	object_id := p_object_id;
	request_id := p_request_id;
	client := p_client;
	IF denial IS NULL AND 'nrm_' || role IS DISTINCT FROM current_user THEN
		PERFORM api.audit_person(person_id, key_id, agency_id, role,
		    p_action, p_object_type, p_object_id, NULL, 'denied',
		    'role_not_permitted', p_request_id, p_client);
		PERFORM api.scope(NULL, NULL, NULL, NULL);
		denial := api.problem(403, 'forbidden',
		    'this API role may not perform this action');
		key_id := NULL;
		agency_id := NULL;
		role := NULL;
		regions := NULL;
		agency_kind := NULL;
		person_id := NULL;
	END IF;
END
$$;
COMMENT ON FUNCTION api.enter(bytea, text, inet, text[], text, text, text)
    IS 'A door''s start: api.authenticate (denial: the audited 401/403), '
    'then the check that the principal''s role is the door''s (current_'
    'user; else the audited 403); the record keeps the call''s audit '
    'fields for api.refuse, api.answer and api.leave, and the person '
    '(NULL for an API key).  Switches no role.';

-- Return p_answer (no audit event; no role to restore).
CREATE OR REPLACE FUNCTION api.leave(p_p record, p_answer jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN p_answer;
END
$$;
COMMENT ON FUNCTION api.leave(record, jsonb) IS
    'An entry point''s return without an audit event: return p_answer.';

-- Audit the call's outcome, return p_answer.
CREATE OR REPLACE FUNCTION api.refuse(p_p record, p_purpose text,
    p_outcome text, p_reason text, p_answer jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM api.audit_person(p_p.person_id, p_p.key_id, p_p.agency_id,
	    p_p.role, p_p.action, p_p.object_type, p_p.object_id, p_purpose,
	    p_outcome, p_reason, p_p.request_id, p_p.client);
	RETURN api.leave(p_p, p_answer);
END
$$;
COMMENT ON FUNCTION api.refuse(record, text, text, text, jsonb) IS
    'An entry point''s refusal: audit (the action and object api.enter '
    'was called for, p_purpose, p_outcome, p_reason), return p_answer '
    '(the problem).';

-- Audit the call allowed (p_purpose), return p_answer.
CREATE OR REPLACE FUNCTION api.answer(p_p record, p_purpose text,
    p_answer jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN api.refuse(p_p, p_purpose, 'allowed', NULL, p_answer);
END
$$;
COMMENT ON FUNCTION api.answer(record, text, jsonb) IS
    'An entry point''s success: audit it allowed (p_purpose), return '
    'p_answer.';
/*
 * The case p_case_id as the caller p_p may see it: region (NULL when no
 * such case, or row-level security hides it), created_at, and visible:
 * the case exists and the caller is not a coordinator or holds its
 * region.  The one statement of that rule; it audits nothing (the
 * caller answers api.refuse_case, or breaks glass, when not visible).
 */
CREATE OR REPLACE FUNCTION api.case_scope(p_p record, p_case_id uuid,
    OUT region text, OUT created_at timestamptz, OUT visible boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	SELECT c.region_code, c.created_at INTO region, created_at
	FROM care.case c WHERE c.id = p_case_id;
	visible := FOUND AND (p_p.role <> 'coordinator'
	    OR (region = ANY (p_p.regions)) IS TRUE);
END
$$;
COMMENT ON FUNCTION api.case_scope(record, uuid) IS
    'The case''s region and created_at as the caller sees it, and '
    'whether it is visible (exists; a coordinator holds its region).';
GRANT EXECUTE ON FUNCTION api.case_scope(record, uuid) TO
    nrm_coordinator, nrm_assessor;

/*
 * The 404 of an object the caller may not see, one answer for "not
 * yours" and "no such": audited denied under p_purpose, reason
 * out_of_scope when the object exists (p_exists true), else not_found;
 * the answer api.problem(404, 'not_found', p_detail).  The caller says
 * how it knows the object exists; p_detail never names the object.
 * The one statement of that refusal (api.refuse_case, api.refuse_signal,
 * api.invest_refuse_record, the case by reference, a referral).
 */
CREATE OR REPLACE FUNCTION api.refuse_unseen(p_p record, p_purpose text,
    p_exists boolean, p_detail text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN api.refuse(p_p, p_purpose, 'denied',
	    CASE WHEN p_exists THEN 'out_of_scope' ELSE 'not_found' END,
	    api.problem(404, 'not_found', p_detail));
END
$$;
COMMENT ON FUNCTION api.refuse_unseen(record, text, boolean, text) IS
    'An entry point''s 404 for an object the caller may not see or that '
    'does not exist: audited denied out_of_scope (p_exists) or '
    'not_found, the problem''s detail p_detail.';
GRANT EXECUTE ON FUNCTION api.refuse_unseen(record, text, boolean, text)
    TO nrm_reporter, nrm_coordinator, nrm_assessor, nrm_investigator;

/*
 * The 404 of a case the caller may not see: api.refuse_unseen, the case
 * existing when the caller's read found it (p_region not NULL) or
 * care.case_exists finds it.
 */
CREATE OR REPLACE FUNCTION api.refuse_case(p_p record, p_purpose text,
    p_case_id uuid, p_region text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN api.refuse_unseen(p_p, p_purpose,
	    p_region IS NOT NULL OR care.case_exists(p_case_id),
	    'no case with this id in your regions');
END
$$;
COMMENT ON FUNCTION api.refuse_case(record, text, uuid, text) IS
    'An entry point''s 404 for a case out of the caller''s scope or '
    'unknown (p_region: the region the caller read, NULL for no row), '
    'audited denied out_of_scope or not_found.';
GRANT EXECUTE ON FUNCTION api.refuse_case(record, text, uuid, text) TO
    nrm_coordinator, nrm_assessor;

/*
 * The start of a door about one case that the caller must see before
 * anything else is checked: api.enter (object case p_case_id), then, when
 * it lets the caller in, api.case_scope; a case the caller may not see
 * is api.refuse_case's audited 404 under p_purpose, in denial as
 * api.enter's own refusals are.  The record is api.enter's, with the
 * case's region as api.case_scope read it (NULL when api.enter denied
 * or the caller's read found no row).  A door that
 * checks its body or its read purpose before the case calls api.enter
 * and api.case_scope itself, in its own order.
 */
CREATE OR REPLACE FUNCTION api.enter_case(p_token_hash bytea,
    p_request_id text, p_client inet, p_roles text[], p_action text,
    p_case_id uuid, p_purpose text, OUT key_id uuid, OUT agency_id uuid,
    OUT role text, OUT regions text[], OUT agency_kind text,
    OUT denial jsonb, OUT prev_role text, OUT action text,
    OUT object_type text, OUT object_id text, OUT request_id text,
    OUT client inet, OUT person_id uuid, OUT region text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_s record;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, p_roles, p_action, 'case', p_case_id::text);
	IF v_p.denial IS NULL THEN
		SELECT * INTO v_s FROM api.case_scope(v_p, p_case_id);
		region := v_s.region;
		IF NOT v_s.visible THEN
			v_p.denial := api.refuse_case(v_p, p_purpose, p_case_id,
			    v_s.region);
		END IF;
	END IF;
	SELECT v_p.key_id, v_p.agency_id, v_p.role, v_p.regions,
	    v_p.agency_kind, v_p.denial, v_p.prev_role, v_p.action,
	    v_p.object_type, v_p.object_id, v_p.request_id, v_p.client,
	    v_p.person_id
	INTO key_id, agency_id, role, regions, agency_kind, denial, prev_role,
	    action, object_type, object_id, request_id, client, person_id;
END
$$;
COMMENT ON FUNCTION api.enter_case(bytea, text, inet, text[], text, uuid,
    text) IS
    'A door''s start about one case: api.enter, then the case''s scope '
    '(denial: api.enter''s, or the audited 404 of a case the caller may '
    'not see under p_purpose); api.enter''s record and the case''s region.';
GRANT EXECUTE ON FUNCTION api.enter_case(bytea, text, inet, text[], text,
    uuid, text) TO nrm_coordinator, nrm_assessor;

/*
 * The first two steps of a request body's shape check as the
 * identification entry, the panel referral, the panel vote and the
 * investigation record take them: NULL when p_body is a JSON object whose keys are all in
 * p_known or p_taken (what nrmd adds when it seals: taken, never listed
 * as known), else {"status", "code", "detail"} (no field: a key is
 * client text): not an object, 400 bad_request "<p_what> must be a JSON
 * object"; an unknown key, 422 validation "unknown field; known: " and
 * p_known.  (A care-work body, api.sealed_text_problem and
 * care.support_problem, answers an unknown key with a 400 of its own.)
 */
CREATE OR REPLACE FUNCTION api.object_problem(p_body jsonb, p_what text,
    p_known text[], p_taken text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_body IS NULL OR pg_catalog.jsonb_typeof(p_body) <> 'object' THEN
		RETURN pg_catalog.jsonb_build_object('status', 400,
		    'code', 'bad_request',
		    'detail', p_what || ' must be a JSON object');
	END IF;
	IF EXISTS (SELECT 1 FROM pg_catalog.jsonb_object_keys(p_body) k
	    WHERE NOT k = ANY (p_known || p_taken)) THEN
		RETURN pg_catalog.jsonb_build_object('status', 422,
		    'code', 'validation', 'detail', 'unknown field; known: '
		    || pg_catalog.array_to_string(p_known, ', '));
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.object_problem(jsonb, text, text[], text[]) IS
    'A body''s first shape checks: NULL, or the 400 of a body that is no '
    'JSON object or the 422 of a key neither in p_known nor p_taken.';
GRANT EXECUTE ON FUNCTION api.object_problem(jsonb, text, text[], text[])
    TO nrm_coordinator, nrm_assessor, nrm_investigator;

/*
 * The refusal of a request body that fails its shape check: p_problem
 * is what the check returned ({"status", "code", "field", "detail"}: a
 * 400 for a body that is not an object or has an unknown key, else a
 * 422).  Audited failed, reason bad_request for a 400, else p_reason;
 * the answer is p_problem as api.problem writes it.
 */
CREATE OR REPLACE FUNCTION api.refuse_body(p_p record, p_purpose text,
    p_reason text, p_problem jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN api.refuse(p_p, p_purpose, 'failed',
	    CASE WHEN (p_problem->>'status')::integer = 400
	    THEN 'bad_request' ELSE p_reason END,
	    api.problem((p_problem->>'status')::integer, p_problem->>'code',
	        p_problem->>'detail', p_problem->>'field'));
END
$$;
COMMENT ON FUNCTION api.refuse_body(record, text, text, jsonb) IS
    'An entry point''s refusal of a body''s shape problem {"status", '
    '"code", "field", "detail"}: audited failed, bad_request for a 400, '
    'else p_reason.';
GRANT EXECUTE ON FUNCTION api.refuse_body(record, text, text, jsonb) TO
    nrm_reporter, nrm_coordinator, nrm_assessor, nrm_investigator;

/*
 * The 200 of a keyset page (GET /v1/audit, GET /v1/audit/reviews, GET
 * /v1/admin/persons, GET /v1/admin/keys): p_items holds up to p_limit +
 * 1 items, in page order; more than p_limit means a next page, whose
 * cursor (next_after) is the member p_key of the page's last item, as
 * the item has it (null on the last page).  Audited allowed
 * (api.answer).
 */
CREATE OR REPLACE FUNCTION api.answer_page(p_p record, p_purpose text,
    p_items jsonb, p_limit integer, p_key text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_items jsonb := p_items;
	v_next jsonb;
BEGIN
	IF pg_catalog.jsonb_array_length(v_items) > p_limit THEN
		v_items := v_items - p_limit;
		v_next := v_items->(p_limit - 1)->p_key;
	END IF;
	RETURN api.answer(p_p, p_purpose,
	    pg_catalog.jsonb_build_object('status', 200, 'body',
	        pg_catalog.jsonb_build_object('items', v_items,
	            'next_after', v_next)));
END
$$;
COMMENT ON FUNCTION api.answer_page(record, text, jsonb, integer, text) IS
    'The audited 200 of a keyset page: at most p_limit items and '
    'next_after (the last item''s p_key when there are more).';
GRANT EXECUTE ON FUNCTION api.answer_page(record, text, jsonb, integer,
    text) TO nrm_auditor, nrm_admin;

-- The same on "id" (the audit lists).
CREATE OR REPLACE FUNCTION api.answer_page(p_p record, p_purpose text,
    p_items jsonb, p_limit integer) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN api.answer_page(p_p, p_purpose, p_items, p_limit, 'id');
END
$$;
COMMENT ON FUNCTION api.answer_page(record, text, jsonb, integer) IS
    'The audited 200 of a keyset page on id: at most p_limit items and '
    'next_after (the last item''s id when there are more).';
GRANT EXECUTE ON FUNCTION api.answer_page(record, text, jsonb, integer) TO
    nrm_auditor;

GRANT EXECUTE ON FUNCTION api.enter(bytea, text, inet, text[], text, text,
    text), api.leave(record, jsonb), api.refuse(record, text, text, text,
    jsonb), api.answer(record, text, jsonb) TO nrm_reporter,
    nrm_coordinator, nrm_assessor, nrm_investigator, nrm_auditor,
    nrm_analyst, nrm_admin, nrm_chain_director;

/*
 * Clear the scope (api.scope with NULLs): the first statement of a door
 * that takes no token (99_doors.sql), so that settings the session SET
 * itself (nrm.person_id, the default of audit.event.person_id;
 * nrm.regions ...) reach no policy and no audit event.
 */
CREATE OR REPLACE FUNCTION api.scope_clear() RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.scope(NULL, NULL, NULL, NULL)
$$;
COMMENT ON FUNCTION api.scope_clear() IS
    'Clear the scope settings: a door without a token starts with it.';
GRANT EXECUTE ON FUNCTION api.scope_clear() TO nrm_sweeper,
    nrm_audit_sealer, nrm_overview, nrm_people;

/*
 * The role of the principal a token hash names (an API key's, revoked
 * or not, or a session's person's, ended or not), NULL for none; no
 * audit event, no scope, no write (STABLE: unlike
 * auth.session_principal it neither moves last_seen_at nor ends an
 * expired session, so the authentication that follows sees the session
 * as a door of one role would).  Only the doors that serve two roles
 * call it (as nrm_gate, 99_doors.sql), to pick the implementation owned
 * by the principal's role; that implementation authenticates and
 * audits as every door.  SECURITY DEFINER of nrm_people, which reads
 * auth.session and auth.person.
 */
CREATE OR REPLACE FUNCTION api.principal_role(p_token_hash bytea)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_hash constant bytea := substring(p_token_hash FROM 1 FOR 32);
	v_role text;
BEGIN
	SELECT k.role INTO v_role FROM auth.api_key k
	WHERE k.token_hash = v_hash;
	IF NOT FOUND THEN
		SELECT p.role INTO v_role
		FROM auth.session s
		JOIN auth.person p ON p.id = s.person_id
		WHERE s.token_hash = v_hash;
	END IF;
	RETURN v_role;
END
$$;
COMMENT ON FUNCTION api.principal_role(bytea) IS
    'The role of the key or session a token hash names (NULL: none), '
    'unaudited, writing nothing: how a door of two roles picks its '
    'implementation.';
GRANT EXECUTE ON FUNCTION api.principal_role(bytea) TO nrm_gate;

-- nrm_gate owns what reads the keys and writes the audit log.
GRANT CREATE ON SCHEMA api TO nrm_gate;
ALTER FUNCTION api.audit(uuid, uuid, text, text, text, text, text, text,
    text, text, inet) OWNER TO nrm_gate;
ALTER FUNCTION api.audit_person(uuid, uuid, uuid, text, text, text, text,
    text, text, text, text, inet) OWNER TO nrm_gate;
ALTER FUNCTION api.audit_many(uuid[], uuid[], uuid[], text[], text, text,
    text, text, text, text, text[], inet[]) OWNER TO nrm_gate;
ALTER FUNCTION api.authenticate(bytea, text, inet, text[], text, text,
    text) OWNER TO nrm_gate;
ALTER FUNCTION api.scope(uuid, uuid, text, text[]) OWNER TO nrm_gate;
ALTER FUNCTION api.scope_clear() OWNER TO nrm_gate;
REVOKE CREATE ON SCHEMA api FROM nrm_gate;
GRANT CREATE ON SCHEMA api TO nrm_people;
ALTER FUNCTION api.principal_role(bytea) OWNER TO nrm_people;
REVOKE CREATE ON SCHEMA api FROM nrm_people;
