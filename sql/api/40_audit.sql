-- 40_audit.sql - api functions: the audit chain (seal, head, verify),
-- search, the review queue and retention (the recomputation behind
-- verify is 41_audit_verify.sql). A repeatable file (docs/sql-api.md,
-- "Migrations").
--
-- Applied by `nrmctl migrate` after the numbered migrations, in the same
-- transaction, every file of sql/api/ in name order, and recorded with
-- its SHA-256 in nrm.schema_repeatable.  Each function stands here once,
-- as CREATE OR REPLACE, with its comment and grants; change it here.  A
-- new signature, a dropped function or anything a table, view, policy
-- or trigger needs at creation time belongs in a numbered migration.

CREATE OR REPLACE FUNCTION api.audit_seal(p_limit integer) RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT api.scope_clear();
	SELECT audit.seal(p_limit)
$$;
COMMENT ON FUNCTION api.audit_seal(integer) IS
    'Called by every nrmd about once a second as nrm_app (no token): seal '
    'up to p_limit queued audit events; {"sealed", "busy", "head_pos", '
    '"head_hash", "unsealed"} or {"sealed": 0, "busy": true}.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

CREATE OR REPLACE FUNCTION api.audit_head() RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT audit.head()
$$;
COMMENT ON FUNCTION api.audit_head() IS
    'nrm_app, no token: the chain head {"pos", "hash"} to sign as a '
    'checkpoint.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

CREATE OR REPLACE FUNCTION api.audit_verify(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_checkpoints jsonb DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_body jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['auditor'], 'audit.verify', 'audit', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	IF NOT audit.checkpoints_valid(p_checkpoints) THEN
		RETURN api.refuse(v_p, 'audit', 'failed', 'bad_request',
		    api.problem(400, 'bad_request',
		        'checkpoints must be an array of {"pos": integer >= 0, '
		        '"hash": 64 lowercase hex digits}', 'checkpoints'));
	END IF;

	-- Without checkpoints (nrmd signs none): the whole chain.  With
	-- them: incremental from the last verified signed checkpoint (0014),
	-- at most 100000 links per call ("complete": false: call again).
	IF p_checkpoints IS NULL
	    OR pg_catalog.jsonb_typeof(p_checkpoints) = 'null' THEN
		v_body := audit.verify_chain(NULL);
	ELSE
		v_body := audit.verify_incremental(p_checkpoints, 100000);
	END IF;
	-- The anchor's signature (0014), for nrmd to check: the database
	-- has no Ed25519.  signed_at and sig null: not signed.
	IF pg_catalog.jsonb_typeof(v_body->'anchor') = 'object' THEN
		v_body := pg_catalog.jsonb_set(v_body, '{anchor}',
		    (v_body->'anchor') || (SELECT pg_catalog.jsonb_build_object(
		        'signed_at', s.signed_at, 'sig', s.sig)
		    FROM (SELECT 1) one
		    LEFT JOIN audit.anchor_signature s
		        ON s.purged_through_pos
		            = (v_body->'anchor'->>'pos')::bigint));
	END IF;
	RETURN api.answer(v_p, 'audit',
	    pg_catalog.jsonb_build_object('status', 200, 'body', v_body));
END
$$;
COMMENT ON FUNCTION api.audit_verify(bytea, text, inet, jsonb) IS
    'GET /v1/audit/verify (auditor): recompute the audit chain, report '
    'the first broken link; optionally compare signed checkpoints; '
    'audited audit.verify.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

/*
 * GET /v1/audit.  Filters (all optional, JSON strings, combined with
 * AND): principal (API key id), person (person id), agency (agency
 * id), object_type, object_id, action, purpose, outcome, from (at >=
 * from), to (at < to).
 * Newest first; keyset on id: p_after_id is the previous page's
 * next_after.  The query text is assembled from fixed fragments only;
 * the values travel as parameters.
 */
CREATE OR REPLACE FUNCTION api.audit_search(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_filters jsonb DEFAULT NULL, p_after_id bigint DEFAULT NULL,
    p_limit integer DEFAULT 50) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_f jsonb := CASE WHEN p_filters IS NULL
	    OR pg_catalog.jsonb_typeof(p_filters) = 'null' THEN '{}'::jsonb
	    ELSE p_filters END;
	v_limit integer := COALESCE(p_limit, 50);
	v_problem jsonb;
	v_sql text;
	v_items jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['auditor'], 'audit.search', 'audit', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	-- person (0009) is checked here; 0005's check knows the others.
	v_problem := audit.search_problem(v_f - 'person', p_after_id,
	    v_limit);
	IF v_problem IS NULL AND v_f ? 'person'
	    AND (pg_catalog.jsonb_typeof(v_f->'person') <> 'string'
	        OR (v_f->>'person') !~ ('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-'
	            '[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')) THEN
		v_problem := pg_catalog.jsonb_build_object('field', 'person',
		    'detail', 'person must be a person id');
	END IF;
	IF v_problem IS NOT NULL THEN
		RETURN api.refuse(v_p, 'audit', 'failed', 'bad_request',
		    api.problem(400, 'bad_request', v_problem->>'detail',
		        v_problem->>'field'));
	END IF;

	v_sql := 'SELECT COALESCE(pg_catalog.jsonb_agg(x.item ORDER BY x.id '
	    'DESC), ''[]''::jsonb) FROM ('
	    'SELECT e.id, pg_catalog.jsonb_build_object(''id'', e.id, '
	    '''at'', pg_catalog.to_char(e.at AT TIME ZONE ''UTC'', '
	    '''YYYY-MM-DD"T"HH24:MI:SS.US"Z"''), '
	    '''api_key_id'', e.api_key_id, ''agency_id'', e.agency_id, '
	    '''role'', e.role, ''action'', e.action, '
	    '''object_type'', e.object_type, ''object_id'', e.object_id, '
	    '''purpose'', e.purpose, ''outcome'', e.outcome, '
	    '''reason'', e.reason, ''request_id'', e.request_id, '
	    '''client_addr'', pg_catalog.abbrev(e.client_addr), '
	    '''person_id'', e.person_id, ''pos'', c.pos) AS item '
	    'FROM audit.event e LEFT JOIN audit.chain c ON c.event_id = e.id '
	    'WHERE true';
	-- Each filter given adds its condition; $n is its place in USING.
	SELECT v_sql || COALESCE(pg_catalog.string_agg(' AND ' || f.cond, ''
	    ORDER BY f.n), '')
	INTO v_sql
	FROM (VALUES (1, 'principal', 'e.api_key_id = $1'),
	    (2, 'agency', 'e.agency_id = $2'),
	    (3, 'object_type', 'e.object_type = $3'),
	    (4, 'object_id', 'e.object_id = $4'), (5, 'action', 'e.action = $5'),
	    (6, 'purpose', 'e.purpose = $6'), (7, 'outcome', 'e.outcome = $7'),
	    (8, 'from', 'e.at >= $8'), (9, 'to', 'e.at < $9'),
	    (10, NULL, 'e.id < $10'), (12, 'person', 'e.person_id = $12'))
	    AS f(n, filter, cond)
	WHERE CASE WHEN f.filter IS NULL THEN p_after_id IS NOT NULL
	    ELSE v_f ? f.filter END;
	v_sql := v_sql || ' ORDER BY e.id DESC LIMIT $11) x';
	EXECUTE v_sql INTO v_items
	USING (v_f->>'principal')::uuid, (v_f->>'agency')::uuid,
	    v_f->>'object_type', v_f->>'object_id', v_f->>'action',
	    v_f->>'purpose', v_f->>'outcome', (v_f->>'from')::timestamptz,
	    (v_f->>'to')::timestamptz, p_after_id, v_limit + 1,
	    (v_f->>'person')::uuid;

	-- Reading the audit log is itself audited (after the read: the
	-- search does not find its own event).
	RETURN api.answer_page(v_p, 'audit', v_items, v_limit);
END
$$;
COMMENT ON FUNCTION api.audit_search(bytea, text, inet, jsonb, bigint,
    integer) IS
    'GET /v1/audit (auditor): filtered audit events, newest first, keyset '
    'on id; audited audit.search.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

/*
 * GET /v1/audit/reviews (auditor): flagged events, oldest first (a
 * queue), each the event's fields (as GET /v1/audit shows them) plus
 * kind, flagged_at, reviewed_at, reviewed_by, verdict.  p_state:
 * pending (default), reviewed, all; keyset on event id (p_after_id =
 * the previous page's next_after); p_limit 1..200.  Audited
 * audit.reviews, purpose audit.
 */
CREATE OR REPLACE FUNCTION api.audit_reviews(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_state text DEFAULT 'pending',
    p_after_id bigint DEFAULT NULL, p_limit integer DEFAULT 50)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_state text := COALESCE(p_state, 'pending');
	v_limit integer := COALESCE(p_limit, 50);
	v_field text;
	v_items jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['auditor'], 'audit.reviews', 'audit', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	v_field := CASE
	    WHEN v_state NOT IN ('pending', 'reviewed', 'all') THEN 'state'
	    WHEN v_limit NOT BETWEEN 1 AND 200 THEN 'limit'
	    WHEN p_after_id < 0 THEN 'cursor' END;
	IF v_field IS NOT NULL THEN
		RETURN api.refuse(v_p, 'audit', 'failed', 'bad_request',
		    api.problem(400, 'bad_request', CASE v_field
		    WHEN 'state' THEN 'state must be pending, reviewed or all'
		    WHEN 'limit' THEN 'limit must be 1..200'
		    ELSE 'cursor is not valid' END, v_field));
	END IF;

	SELECT COALESCE(pg_catalog.jsonb_agg(x.item ORDER BY x.id), '[]')
	INTO v_items
	FROM (
		SELECT e.id, pg_catalog.jsonb_build_object('id', e.id,
		    'at', api.rfc3339(e.at),
		    'api_key_id', e.api_key_id, 'agency_id', e.agency_id,
		    'role', e.role, 'action', e.action,
		    'object_type', e.object_type, 'object_id', e.object_id,
		    'purpose', e.purpose, 'reason', e.reason,
		    'request_id', e.request_id,
		    'client_addr', pg_catalog.abbrev(e.client_addr),
		    'kind', rv.kind, 'flagged_at', api.rfc3339(rv.flagged_at),
		    'reviewed_at', api.rfc3339(rv.reviewed_at),
		    'reviewed_by', rv.reviewed_by, 'verdict', rv.verdict)
		    AS item
		FROM audit.review rv
		JOIN audit.event e ON e.id = rv.event_id
		WHERE (v_state = 'all'
		    OR (v_state = 'pending') = (rv.reviewed_at IS NULL))
		  AND (p_after_id IS NULL OR rv.event_id > p_after_id)
		ORDER BY rv.event_id
		LIMIT v_limit + 1) x;

	RETURN api.answer_page(v_p, 'audit', v_items, v_limit);
END
$$;
COMMENT ON FUNCTION api.audit_reviews(bytea, text, inet, text, bigint,
    integer) IS
    'GET /v1/audit/reviews (auditor): events flagged for review, oldest '
    'first, by state; keyset on event id; audited audit.reviews.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

/*
 * POST /v1/audit/reviews/{event_id} (auditor): record the verdict
 * (justified, unjustified) on a flagged event.  422 field verdict; 404
 * for an event that is not flagged (or does not exist); 409 when it was
 * reviewed already (the first verdict stands; the answer carries it);
 * 200 with the review.  Audited audit.review on object audit_event.
 */
CREATE OR REPLACE FUNCTION api.audit_review(p_token_hash bytea,
    p_request_id text,
    p_client inet, p_event_id bigint, p_verdict text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_rv audit.review;
	v_outcome text := 'allowed';
	v_reason text;
	v_resp jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id,
	    p_client, ARRAY['auditor'], 'audit.review', 'audit_event',
	    p_event_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;

	IF p_verdict IS NULL OR p_verdict NOT IN ('justified', 'unjustified')
	THEN
		v_outcome := 'failed';
		v_reason := 'invalid_body';
		v_resp := api.problem(422, 'validation',
		    'verdict must be justified or unjustified', 'verdict');
	ELSE
		SELECT * INTO v_rv FROM audit.review r
		WHERE r.event_id = p_event_id FOR UPDATE;
		IF NOT FOUND THEN
			v_outcome := 'failed';
			v_reason := 'not_found';
			v_resp := api.problem(404, 'not_found',
			    'no audit event with this id awaits review');
		ELSIF v_rv.reviewed_at IS NOT NULL THEN
			v_outcome := 'failed';
			v_reason := 'already_reviewed';
			v_resp := pg_catalog.jsonb_set(api.problem(409,
			    'conflict', pg_catalog.format(
			        'this event was reviewed already (%s)',
			        v_rv.verdict)),
			    '{problem,verdict}',
    pg_catalog.to_jsonb(v_rv.verdict));
		ELSE
			UPDATE audit.review r
			SET reviewed_at = pg_catalog.clock_timestamp(),
			    reviewed_by = v_p.key_id, verdict = p_verdict
			WHERE r.event_id = p_event_id
			RETURNING * INTO v_rv;
			v_resp := pg_catalog.jsonb_build_object('status', 200,
			    'body', pg_catalog.jsonb_build_object(
			        'event_id', v_rv.event_id, 'kind', v_rv.kind,
			        'flagged_at', api.rfc3339(v_rv.flagged_at),
			        'reviewed_at', api.rfc3339(v_rv.reviewed_at),
			        'reviewed_by', v_rv.reviewed_by,
			        'verdict', v_rv.verdict));
		END IF;
	END IF;
	RETURN api.refuse(v_p, 'audit', v_outcome, v_reason, v_resp);
END
$$;
COMMENT ON FUNCTION api.audit_review(bytea, text, inet, bigint, text) IS
    'POST /v1/audit/reviews/{event_id} (auditor): the verdict on a '
    'flagged event, once; audited audit.review.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

/*
 * Retention, the one way rows leave the audit log (0005; 0014 added the
 * minimum age).  Purge the oldest part of the audit log: the longest
 * prefix of the chain (after the current anchor) whose events all have
 * at < p_before, with those events.  Refuses a boundary younger than
 * audit.retention_policy.min_age (SQLSTATE 22023, the key named).  Only
 * the owner may run it (EXECUTE is revoked from everyone else); it takes
 * the sealer's lock (waiting for a running sealer), refuses (SQLSTATE
 * XX001) unless the whole log verifies intact, so evidence of tampering
 * is never purged, records the anchor (the hash of the last purged link)
 * in audit.retention, deletes with nrm.audit_retention = 'on' for those
 * statements only, and audits itself as audit.purge.  Unsealed events
 * are never purged.  Returns {"purged": N, "purged_through_pos": P,
 * "anchor_hash": hex} (purged 0 and the current anchor when nothing is
 * old enough).
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
REVOKE ALL ON FUNCTION audit.purge_before(timestamptz) FROM PUBLIC;
