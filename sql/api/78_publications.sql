-- 78_publications.sql - POST /v1/publications, GET /v1/publications and
-- GET /v1/publications/{id}: every indicator of the register frozen for a
-- closed period into stats.publication (0016), hashed and signed by nrmd
-- with the audit signing key (docs/indicators.md, "Publications").
--
-- Publishing takes two calls, because only nrmd holds the key:
-- api.publication_prepare computes the content (or answers the existing
-- publication when the numbers are unchanged); nrmd hashes the canonical
-- JSON, signs it, and api.publication_create computes again, checks that
-- the content is what the database computes now, and inserts.  The
-- table is read and written only by the statistician's SECURITY DEFINER
-- doors below; the analyst's role reads no row.

-- ---------------------------------------------------------------------
-- Helpers (run as nrm_statistician inside the doors).
-- ---------------------------------------------------------------------

/*
 * Every entry of the register (a JSON array of nrmd's entries, each with
 * "measure" and "by") with, as "values", its suppressed table for the
 * period; in register order.
 */
CREATE OR REPLACE FUNCTION stats.publication_indicators(p_period text,
    p_register jsonb) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT COALESCE(pg_catalog.jsonb_agg(e.v
	    || pg_catalog.jsonb_build_object('values',
	        stats.compute(e.v->>'measure', p_period,
	            ARRAY(SELECT pg_catalog.jsonb_array_elements_text(
	                COALESCE(e.v->'by', '[]'::jsonb)))))
	    ORDER BY e.i), '[]'::jsonb)
	FROM pg_catalog.jsonb_array_elements(p_register)
	    WITH ORDINALITY AS e(v, i)
$$;
COMMENT ON FUNCTION stats.publication_indicators(text, jsonb) IS
    'The register''s entries with their values for a period (the '
    '"indicators" of a publication''s content).';

/*
 * The cells of a content's indicators: the indicator id, the cell's key
 * (its dimension values) and its value as text ("suppressed" for a
 * suppressed cell, "null" for none).
 */
CREATE OR REPLACE FUNCTION stats.publication_cells(p_indicators jsonb,
    OUT indicator text, OUT key jsonb, OUT value text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT i.v->>'id', c.v - 'value' - 'suppressed',
	    CASE WHEN (c.v->>'suppressed')::boolean IS TRUE THEN 'suppressed'
	        ELSE (c.v->'value')::text END
	FROM pg_catalog.jsonb_array_elements(p_indicators) AS i(v)
	CROSS JOIN pg_catalog.jsonb_array_elements(
	    COALESCE(i.v->'values'->'cells', '[]'::jsonb)) AS c(v)
$$;
COMMENT ON FUNCTION stats.publication_cells(jsonb) IS
    'The cells of a publication''s indicators, one row each.';

/*
 * The cells that differ between two sets of indicators:
 * [{"indicator", "cell": {dims}, "published", "now"}] (a value as text;
 * null where the cell is missing on that side), in indicator and cell
 * order.
 */
CREATE OR REPLACE FUNCTION stats.publication_diff(p_old jsonb, p_new jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
	        'indicator', COALESCE(o.indicator, n.indicator),
	        'cell', COALESCE(o.key, n.key),
	        'published', o.value, 'now', n.value)
	    ORDER BY COALESCE(o.indicator, n.indicator),
	        COALESCE(o.key, n.key)::text), '[]'::jsonb)
	FROM stats.publication_cells(p_old) o
	FULL JOIN stats.publication_cells(p_new) n
	    ON n.indicator = o.indicator AND n.key = o.key
	WHERE o.value IS DISTINCT FROM n.value
$$;
COMMENT ON FUNCTION stats.publication_diff(jsonb, jsonb) IS
    'The cells that changed between two publications'' indicators.';

-- A diff as the "changes" text: one line per cell, "id (k=v, ...): a -> b".
CREATE OR REPLACE FUNCTION stats.publication_changes(p_diff jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.string_agg(d.v->>'indicator'
	    || COALESCE(' (' || (SELECT pg_catalog.string_agg(k.key || '='
	            || k.value, ', ' ORDER BY k.key)
	        FROM pg_catalog.jsonb_each_text(d.v->'cell') k) || ')', '')
	    || ': ' || COALESCE(d.v->>'published', 'absent') || ' -> '
	    || COALESCE(d.v->>'now', 'absent'), E'\n' ORDER BY d.i)
	FROM pg_catalog.jsonb_array_elements(p_diff) WITH ORDINALITY AS d(v, i)
$$;
COMMENT ON FUNCTION stats.publication_changes(jsonb) IS
    'The changes text of a revision: one line per changed cell.';

-- A publication as the API answers it.
CREATE OR REPLACE FUNCTION stats.publication_json(p stats.publication)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object('id', p.id, 'period', p.period,
	    'revision', p.revision, 'created_at', stats.rfc3339(p.created_at),
	    'created_by', p.created_by, 'previous_id', p.previous_id,
	    'changes', p.changes, 'content_sha256', p.content_sha256,
	    'signature', p.signature, 'content', p.content)
$$;
COMMENT ON FUNCTION stats.publication_json(stats.publication) IS
    'A publication as GET /v1/publications/{id} answers it.';

-- The latest revision of a period (NULL row when none).
CREATE OR REPLACE FUNCTION stats.publication_latest(p_period text)
RETURNS stats.publication
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p FROM stats.publication p WHERE p.period = p_period
	ORDER BY p.revision DESC LIMIT 1
$$;
COMMENT ON FUNCTION stats.publication_latest(text) IS
    'The latest revision published for a period, if any.';

/*
 * The draft of a publication: {"same": the latest revision exists and
 * its indicators equal the fresh ones, "latest": that publication or
 * null, "content": the content a new revision would hold}.
 */
CREATE OR REPLACE FUNCTION stats.publication_compose(p_period text,
    p_register jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_last stats.publication := stats.publication_latest(p_period);
	v_ind jsonb := stats.publication_indicators(p_period, p_register);
BEGIN
	RETURN pg_catalog.jsonb_build_object(
	    'same', v_last.id IS NOT NULL
	        AND v_last.content->'indicators' = v_ind,
	    'latest', CASE WHEN v_last.id IS NOT NULL
	        THEN stats.publication_json(v_last) END,
	    'content', pg_catalog.jsonb_build_object(
	        'format', 'nrm-publication-v1', 'period', p_period,
	        'revision', COALESCE(v_last.revision, 0) + 1,
	        'previous_id', v_last.id, 'indicators', v_ind));
END
$$;
COMMENT ON FUNCTION stats.publication_compose(text, jsonb) IS
    'What publishing a period now would give (for the doors).';

-- ---------------------------------------------------------------------
-- The doors (SECURITY DEFINER, owned by nrm_statistician; analyst).
-- ---------------------------------------------------------------------

CREATE OR REPLACE FUNCTION stats.publication_draft(p_period text,
    p_register jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN stats.publication_compose(p_period, p_register);
END
$$;
COMMENT ON FUNCTION stats.publication_draft(text, jsonb) IS
    'stats.publication_compose for the analyst (the first call of a '
    'publish).';

/*
 * Insert the signed content as the next revision of its period: 201
 * with the publication; 200 with the latest when the numbers equal it
 * meanwhile; 409 when the content is not what the database computes now
 * (data or register changed between the two calls: publish again).
 * Serialised per period by an advisory lock.
 */
CREATE OR REPLACE FUNCTION stats.publication_insert(p_period text,
    p_register jsonb, p_content jsonb, p_sha256 text, p_signature text,
    p_by uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_d jsonb;
	v_last jsonb;
	v_row stats.publication;
BEGIN
	PERFORM pg_catalog.pg_advisory_xact_lock(
	    pg_catalog.hashtext('nrm.publication.' || p_period));
	v_d := stats.publication_compose(p_period, p_register);
	v_last := v_d->'latest';
	IF (v_d->>'same')::boolean THEN
		RETURN pg_catalog.jsonb_build_object('status', 200, 'body',
		    v_last);
	END IF;
	IF p_content IS DISTINCT FROM v_d->'content' THEN
		RETURN pg_catalog.jsonb_build_object('status', 409, 'problem',
		    pg_catalog.jsonb_build_object('code', 'conflict', 'field',
		        'period', 'detail', 'the numbers or the register '
		        'changed while publishing; publish again'));
	END IF;
	INSERT INTO stats.publication (period, revision, created_by, content,
	    content_sha256, signature, previous_id, changes)
	VALUES (p_period, (p_content->>'revision')::integer, p_by, p_content,
	    p_sha256, p_signature, (v_last->>'id')::uuid,
	    CASE WHEN v_last IS NOT NULL AND v_last <> 'null'::jsonb THEN
	        COALESCE(stats.publication_changes(stats.publication_diff(
	            v_last->'content'->'indicators',
	            p_content->'indicators')), 'the register changed') END)
	RETURNING * INTO v_row;
	RETURN pg_catalog.jsonb_build_object('status', 201, 'body',
	    stats.publication_json(v_row), 'location',
	    '/v1/publications/' || v_row.id);
END
$$;
COMMENT ON FUNCTION stats.publication_insert(text, jsonb, jsonb, text, text,
    uuid) IS
    'The second call of a publish: check and insert the signed revision.';

-- Every publication, newest period and revision first, without content.
CREATE OR REPLACE FUNCTION stats.publication_list() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT COALESCE(pg_catalog.jsonb_agg(stats.publication_json(p)
	        - 'content' - 'signature'
	    ORDER BY p.period DESC, p.revision DESC), '[]'::jsonb)
	FROM stats.publication p
$$;
COMMENT ON FUNCTION stats.publication_list() IS
    'GET /v1/publications'' items (no content).';

/*
 * One publication (NULL when no such id); with p_compare, "differences":
 * its cells against a fresh computation of the same entries (the
 * register as it was published) for its period.
 */
CREATE OR REPLACE FUNCTION stats.publication_fetch(p_id uuid,
    p_compare boolean) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_row stats.publication;
	v_reg jsonb;
BEGIN
	SELECT * INTO v_row FROM stats.publication p WHERE p.id = p_id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF NOT p_compare THEN
		RETURN stats.publication_json(v_row);
	END IF;
	SELECT COALESCE(pg_catalog.jsonb_agg(i.v - 'values' ORDER BY i.n),
	    '[]'::jsonb)
	INTO v_reg
	FROM pg_catalog.jsonb_array_elements(v_row.content->'indicators')
	    WITH ORDINALITY AS i(v, n);
	RETURN stats.publication_json(v_row)
	    || pg_catalog.jsonb_build_object('differences',
	        stats.publication_diff(v_row.content->'indicators',
	            stats.publication_indicators(v_row.period, v_reg)));
END
$$;
COMMENT ON FUNCTION stats.publication_fetch(uuid, boolean) IS
    'GET /v1/publications/{id} (with ?compare=1: the differences from a '
    'fresh computation).';

-- ---------------------------------------------------------------------
-- Entry points.
-- ---------------------------------------------------------------------

/*
 * POST /v1/publications, first call: role analyst; 400 naming period
 * (not an aligned period) or register (not an array); 409 naming period
 * when it has not closed yet.  Unchanged numbers: 200 with the latest
 * revision, audited publication.create allowed (reason unchanged is in
 * the answer's status).  Otherwise {"status": 0, "draft": content} and
 * no audit event: nrmd signs and calls api.publication_create.
 */
CREATE OR REPLACE FUNCTION api.publication_prepare(p_token_hash bytea,
    p_request_id text, p_client inet, p_period text, p_register jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_per record;
	v_d jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id, p_client,
	    ARRAY['analyst'], 'publication.create', 'publication',
	    stats.period_name(p_period));
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	SELECT * INTO v_per FROM stats.period(p_period);
	IF v_per.starts IS NULL THEN
		RETURN api.refuse(v_p, 'monitoring', 'failed', 'bad_request',
		    api.problem(400, 'bad_request',
		        'period must be YYYY-MM, YYYY-Qn or YYYY (2000..9999)',
		        'period'));
	END IF;
	IF pg_catalog.jsonb_typeof(p_register) IS DISTINCT FROM 'array' THEN
		RETURN api.refuse(v_p, 'monitoring', 'failed', 'bad_request',
		    api.problem(400, 'bad_request',
		        'the register must be an array', 'register'));
	END IF;
	IF pg_catalog.now() < v_per.ends THEN
		RETURN api.refuse(v_p, 'monitoring', 'failed', 'period_open',
		    api.problem(409, 'conflict', 'the period has not closed: '
		        'its numbers are provisional', 'period'));
	END IF;
	v_d := stats.publication_draft(p_period, p_register);
	IF (v_d->>'same')::boolean THEN
		RETURN api.answer(v_p, 'monitoring', pg_catalog.jsonb_build_object(
		    'status', 200, 'body', v_d->'latest'));
	END IF;
	RETURN api.leave(v_p, pg_catalog.jsonb_build_object('status', 0,
	    'draft', v_d->'content'));
END
$$;
COMMENT ON FUNCTION api.publication_prepare(bytea, text, inet, text, jsonb)
    IS 'POST /v1/publications, first call: the content to sign, or the '
    'unchanged latest revision (200).';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

/*
 * POST /v1/publications, second call: the content as nrmd hashed and
 * signed it.  201 with the new revision; 200 with the latest when the
 * numbers equal it by now; 409 when the content differs from a fresh
 * computation.  Audited publication.create on publication/<period>.
 */
CREATE OR REPLACE FUNCTION api.publication_create(p_token_hash bytea,
    p_request_id text, p_client inet, p_period text, p_register jsonb,
    p_content jsonb, p_sha256 text, p_signature text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_a jsonb;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id, p_client,
	    ARRAY['analyst'], 'publication.create', 'publication',
	    stats.period_name(p_period));
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM stats.period(p_period)
	    WHERE ends <= pg_catalog.now()) THEN
		RETURN api.refuse(v_p, 'monitoring', 'failed', 'period_open',
		    api.problem(409, 'conflict', 'the period has not closed: '
		        'its numbers are provisional', 'period'));
	END IF;
	v_a := stats.publication_insert(p_period, p_register, p_content,
	    p_sha256, p_signature, v_p.key_id);
	IF (v_a->>'status')::integer >= 400 THEN
		RETURN api.refuse(v_p, 'monitoring', 'failed', 'conflict', v_a);
	END IF;
	RETURN api.answer(v_p, 'monitoring', v_a);
END
$$;
COMMENT ON FUNCTION api.publication_create(bytea, text, inet, text, jsonb,
    jsonb, text, text) IS
    'POST /v1/publications, second call: insert the signed revision.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

-- GET /v1/publications: analyst; audited publication.list.
CREATE OR REPLACE FUNCTION api.publication_list(p_token_hash bytea,
    p_request_id text, p_client inet)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
BEGIN
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id, p_client,
	    ARRAY['analyst'], 'publication.list', 'publication', NULL);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	RETURN api.answer(v_p, 'monitoring', pg_catalog.jsonb_build_object(
	    'status', 200, 'body', pg_catalog.jsonb_build_object('items',
	        stats.publication_list())));
END
$$;
COMMENT ON FUNCTION api.publication_list(bytea, text, inet) IS
    'GET /v1/publications: every revision, without content.';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

/*
 * GET /v1/publications/{id}[?compare=1]: analyst; 404 naming id when no
 * such publication (p_id as sent: not a uuid is a 404 too).  Audited
 * publication.read on publication/<id> (whatever the media type nrmd
 * renders it in).
 */
CREATE OR REPLACE FUNCTION api.publication_get(p_token_hash bytea,
    p_request_id text, p_client inet, p_id text, p_compare boolean)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_p record;
	v_id uuid;
	v_body jsonb;
BEGIN
	IF p_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
	THEN
		v_id := p_id::uuid;
	END IF;
	SELECT * INTO v_p FROM api.enter(p_token_hash, p_request_id, p_client,
	    ARRAY['analyst'], 'publication.read', 'publication', v_id::text);
	IF v_p.denial IS NOT NULL THEN
		RETURN v_p.denial;
	END IF;
	IF v_id IS NOT NULL THEN
		v_body := stats.publication_fetch(v_id, COALESCE(p_compare, false));
	END IF;
	IF v_body IS NULL THEN
		RETURN api.refuse(v_p, 'monitoring', 'failed', 'not_found',
		    api.problem(404, 'not_found', 'no publication with this id',
		        'id'));
	END IF;
	RETURN api.answer(v_p, 'monitoring', pg_catalog.jsonb_build_object(
	    'status', 200, 'body', v_body));
END
$$;
COMMENT ON FUNCTION api.publication_get(bytea, text, inet, text, boolean) IS
    'GET /v1/publications/{id}: one publication (and its differences '
    'from a fresh computation with compare).';
-- A door: sql/api/99_doors.sql grants it to nrm_app.

-- ---------------------------------------------------------------------
-- Ownership and grants.
-- ---------------------------------------------------------------------
REVOKE ALL ON FUNCTION stats.publication_indicators(text, jsonb),
    stats.publication_cells(jsonb), stats.publication_diff(jsonb, jsonb),
    stats.publication_changes(jsonb),
    stats.publication_json(stats.publication),
    stats.publication_latest(text), stats.publication_compose(text, jsonb),
    stats.publication_draft(text, jsonb),
    stats.publication_insert(text, jsonb, jsonb, text, text, uuid),
    stats.publication_list(), stats.publication_fetch(uuid, boolean)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stats.publication_indicators(text, jsonb),
    stats.publication_cells(jsonb), stats.publication_diff(jsonb, jsonb),
    stats.publication_changes(jsonb),
    stats.publication_json(stats.publication),
    stats.publication_latest(text), stats.publication_compose(text, jsonb)
    TO nrm_statistician;
GRANT EXECUTE ON FUNCTION stats.publication_draft(text, jsonb),
    stats.publication_insert(text, jsonb, jsonb, text, text, uuid),
    stats.publication_list(), stats.publication_fetch(uuid, boolean)
    TO nrm_analyst;

GRANT CREATE ON SCHEMA stats TO nrm_statistician;
ALTER FUNCTION stats.publication_draft(text, jsonb) OWNER TO nrm_statistician;
ALTER FUNCTION stats.publication_insert(text, jsonb, jsonb, text, text, uuid)
    OWNER TO nrm_statistician;
ALTER FUNCTION stats.publication_list() OWNER TO nrm_statistician;
ALTER FUNCTION stats.publication_fetch(uuid, boolean)
    OWNER TO nrm_statistician;
REVOKE CREATE ON SCHEMA stats FROM nrm_statistician;
