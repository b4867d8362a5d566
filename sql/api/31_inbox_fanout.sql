-- 31_inbox_fanout.sql - api functions: the long-polls' fan-out, many
-- waiters' inbox pages in one round trip (issue 16).  A repeatable file
-- (docs/sql-api.md, "Migrations").

/*
 * GET /v1/inbox for many long-poll waiters that ask with the same filters
 * (state, priority, cursor, limit, mine), each with its own credential,
 * request id, client and watermark (the arrays, one element per waiter,
 * in nrmd's order).  Each waiter is authenticated (api.enter: a denial is
 * its answer, audited as ever); the page of a scope is rendered once by
 * api.inbox_page (api.inbox's body: its checks, page and audit event)
 * for the first waiter of that scope, and every other waiter of the
 * same scope (the same set of regions, the same watermark, and with
 * p_mine the same key: the inputs
 * of the page, care.case's policy reads nrm.regions only) is audited
 * allowed like api.inbox audits its reader, and answered with that page.
 * So every reader has its own audit event, and N waiters of one region
 * cost one page.
 *
 * A token that authenticated for the waiter before it, in this call, is
 * that principal again for this waiter (its own request id and client):
 * one transaction, so the same answer, without the look-up and the scope
 * again (the waiters of one key come together from nrmd's queue).  The
 * readers of a page already rendered are audited together, in waiter
 * order, by one api.audit_many at the end (one INSERT for all of them).
 *
 * Answer: {"pages": [answer, ...], "of": [k, ...]}: waiter i's answer is
 * pages[of[i]], an api.inbox answer ({"status", "body"} or a problem).
 */
CREATE OR REPLACE FUNCTION api.inbox_many(p_token_hashes bytea[],
    p_request_ids text[], p_clients inet[], p_since text[],
    p_state text DEFAULT 'open', p_priority text DEFAULT NULL,
    p_after_key jsonb DEFAULT NULL, p_limit integer DEFAULT 50,
    p_mine boolean DEFAULT false) RETURNS json
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n constant integer := COALESCE(
	    pg_catalog.array_length(p_token_hashes, 1), 0);
	v_p record;
	v_pages json[] := '{}';
	v_of integer[] := '{}';
	v_scope text;
	v_seen jsonb := '{}';
	v_answer json;
	v_known bytea; -- the token v_p is the principal of, when allowed
	-- the readers of pages already rendered, audited at the end
	a_person uuid[] := '{}';
	a_key uuid[] := '{}';
	a_agency uuid[] := '{}';
	a_role text[] := '{}';
	a_request text[] := '{}';
	a_client inet[] := '{}';
BEGIN
	IF pg_catalog.array_length(p_request_ids, 1) IS DISTINCT FROM v_n
	    OR pg_catalog.array_length(p_clients, 1) IS DISTINCT FROM v_n
	    OR pg_catalog.array_length(p_since, 1) IS DISTINCT FROM v_n THEN
		RAISE EXCEPTION 'api.inbox_many: arrays of unequal length'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR i IN 1 .. v_n LOOP
		IF p_token_hashes[i] = v_known THEN
			-- the token the waiter before this one authenticated:
			-- the same principal, this waiter's request and client
			v_p.request_id := p_request_ids[i];
			v_p.client := p_clients[i];
		ELSE
			SELECT * INTO v_p FROM api.enter(p_token_hashes[i],
			    p_request_ids[i], p_clients[i], ARRAY['coordinator'],
			    'inbox.list', 'inbox', NULL);
			v_known := CASE WHEN v_p.denial IS NULL
			    THEN p_token_hashes[i] END;
		END IF;
		IF v_p.denial IS NOT NULL THEN
			v_pages := v_pages || v_p.denial::json;
			v_of := v_of || pg_catalog.array_length(v_pages, 1);
			CONTINUE;
		END IF;
		SELECT pg_catalog.string_agg(r, ',' ORDER BY r COLLATE "C")
		    || '/' || COALESCE(p_since[i]::text, '-')
		    || CASE WHEN p_mine THEN '/' || v_p.key_id::text ELSE '' END
		INTO v_scope
		FROM pg_catalog.unnest(v_p.regions) r;
		IF v_seen ? v_scope THEN
			-- the scope's page is rendered: this reader is audited
			-- with the others at the end, as api.answer would
			a_person := pg_catalog.array_append(a_person, v_p.person_id);
			a_key := pg_catalog.array_append(a_key, v_p.key_id);
			a_agency := pg_catalog.array_append(a_agency, v_p.agency_id);
			a_role := pg_catalog.array_append(a_role, v_p.role);
			a_request := pg_catalog.array_append(a_request,
			    v_p.request_id);
			a_client := pg_catalog.array_append(a_client, v_p.client);
			v_of := v_of || (v_seen->>v_scope)::integer;
			CONTINUE;
		END IF;
		-- v_p is authenticated, its scope the one published (the last
		-- api.enter above was for its token)
		v_answer := api.inbox_page(v_p, p_state, p_priority, p_after_key,
		    p_since[i], p_limit, p_mine);
		v_pages := v_pages || v_answer;
		v_of := v_of || pg_catalog.array_length(v_pages, 1);
		v_seen := v_seen || pg_catalog.jsonb_build_object(v_scope,
		    pg_catalog.array_length(v_pages, 1));
	END LOOP;
	IF pg_catalog.cardinality(a_key) > 0 THEN
		PERFORM api.audit_many(a_person, a_key, a_agency, a_role,
		    'inbox.list', 'inbox', NULL, 'care', 'allowed', NULL,
		    a_request, a_client);
	END IF;
	-- 0-based indexes for the client; each page's text as api.inbox
	-- wrote it (json, 0029)
	RETURN pg_catalog.json_build_object(
	    'pages', pg_catalog.array_to_json(v_pages),
	    'of', (SELECT COALESCE(pg_catalog.json_agg(o - 1 ORDER BY n),
	        '[]'::json)
	        FROM pg_catalog.unnest(v_of) WITH ORDINALITY AS u(o, n)));
END
$$;
COMMENT ON FUNCTION api.inbox_many(bytea[], text[], inet[], text[], text,
    text, jsonb, integer, boolean) IS
    'GET /v1/inbox for many long-poll waiters with the same filters: each '
    'authenticated and audited (one event per reader), one page per '
    'scope (regions, watermark, key with p_mine) rendered by api.inbox; '
    '{"pages": [...], "of": [page index per waiter]}.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.
