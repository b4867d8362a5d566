-- 93_admin_keys.sql - API keys administered over HTTP (0010,
-- sql/api/62_keys.sql): only an admin makes, lists and revokes keys;
-- a new key stores the hash nrmd sent and authenticates at once; each
-- field is checked; the list shows no hash and no person's own key and
-- pages; a revoked key is refused from then on; a person's key is not
-- revocable here; each call is audited with the acting key; nrm_admin
-- still cannot read token hashes.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(34);
\ir fixtures.psql

INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label)
VALUES
	('b9300000-0000-4000-8000-000000000001', sha256('tok-admin'),
	    'a0000000-0000-4000-8000-000000000004', 'admin', NULL, NULL);

-- api.key_create as p_token for a key whose token is p_new.
CREATE FUNCTION pg_temp.kc(p_new text, p_role text,
    p_regions text[] DEFAULT NULL, p_label text DEFAULT 'Koppeling',
    p_agency text DEFAULT 'a0000000-0000-4000-8000-000000000003',
    p_token text DEFAULT 'tok-admin') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_app', format('SELECT api.key_create('
	    'sha256(%L::bytea), %L, %L::inet, %L, %L::uuid, %L, %L::text[], '
	    'sha256(%L::bytea))', p_token, 'req-kc-' || p_new, '192.0.2.30',
	    p_label, p_agency, p_role, p_regions, p_new))
$$;
CREATE FUNCTION pg_temp.kl(p_after text DEFAULT NULL,
    p_lim integer DEFAULT 50, p_token text DEFAULT 'tok-admin')
RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_app', format('SELECT api.key_list('
	    'sha256(%L::bytea), %L, %L::inet, %L::uuid, %s)', p_token,
	    'req-kl', '192.0.2.30', p_after, p_lim))
$$;
CREATE FUNCTION pg_temp.kr(p_id text, p_token text DEFAULT 'tok-admin')
RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_app', format('SELECT api.key_revoke('
	    'sha256(%L::bytea), %L, %L::inet, %L::uuid)', p_token, 'req-kr',
	    '192.0.2.30', p_id))
$$;
CREATE FUNCTION pg_temp.kid(p_token text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT id::text FROM auth.api_key WHERE token_hash = sha256(p_token::bytea)
$$;

-- Who may.
SELECT is(pg_temp.kc('tok-x1', 'auditor', NULL, 'K',
    'a0000000-0000-4000-8000-000000000003', 'tok-reporter')->>'status',
    '403', 'a reporter key may not create keys');
SELECT is(pg_temp.kc('tok-x2', 'auditor', NULL, 'K',
    'a0000000-0000-4000-8000-000000000003', 'tok-coordinator')->>'status',
    '403', 'a coordinator key may not create keys');
SELECT is(pg_temp.kc('tok-x3', 'auditor', NULL, 'K',
    'a0000000-0000-4000-8000-000000000003', 'nope')->>'status', '401',
    'an unknown token: 401');
SELECT is(pg_temp.kl(NULL, 50, 'tok-auditor')->>'status', '403',
    'an auditor key may not list keys');
SELECT is(count(*)::int, 0, 'no key made by the refused calls')
FROM auth.api_key WHERE token_hash IN (sha256('tok-x1'), sha256('tok-x2'),
    sha256('tok-x3'));

-- Create.
SELECT is(pg_temp.kc('tok-new-auditor', 'auditor')->>'status', '201',
    'an admin makes an auditor key: 201');
SELECT is(pg_temp.kc('tok-new-coord', 'coordinator', '{VR13,VR01}',
    'Regio')->'body'->'regions', '["VR13", "VR01"]'::jsonb,
    'a coordinator key with its regions');
SELECT ok(pg_temp.kid('tok-new-auditor') IS NOT NULL,
    'the key stores the hash nrmd sent');
SELECT is((SELECT created_by_key::text FROM auth.api_key
    WHERE id::text = pg_temp.kid('tok-new-auditor')),
    'b9300000-0000-4000-8000-000000000001', 'created_by_key: the admin key');
SELECT ok((SELECT created_by_person IS NULL FROM auth.api_key
    WHERE id::text = pg_temp.kid('tok-new-auditor')),
    'created_by_person: NULL for a key');
SELECT is(pg_temp.audit_verify('tok-new-auditor')->>'status', '200',
    'the new key authenticates at once');
SELECT ok(NOT (pg_temp.kc('tok-new-2', 'analyst')->'body' ?| ARRAY['token',
    'token_hash']), 'the answer holds no token and no hash');

-- Fields.
SELECT is(pg_temp.kc('tok-f1', 'auditor', NULL, '')->'problem'->>'field',
    'label', 'an empty label: field label');
SELECT is(pg_temp.kc('tok-f2', 'auditor', NULL, E'a\nb')->'problem'->>'field',
    'label', 'a control character in the label: field label');
SELECT is(pg_temp.kc('tok-f3', 'king')->'problem'->>'field', 'role',
    'an unknown role: field role');
SELECT is(pg_temp.kc('tok-f4', 'coordinator')->'problem'->>'field',
    'regions', 'a coordinator without regions: field regions');
SELECT is(pg_temp.kc('tok-f5', 'auditor', '{VR13}')->'problem'->>'field',
    'regions', 'regions on an auditor key: field regions');
SELECT is(pg_temp.kc('tok-f6', 'coordinator', '{XX99}')->>'status', '422',
    'an unknown region: 422');
SELECT is(pg_temp.kc('tok-f7', 'auditor', NULL, 'K',
    'a0000000-0000-4000-8000-0000000000ff')->'problem'->>'field',
    'agency_id', 'an unknown agency: field agency_id');
SELECT is(pg_temp.violation($$SELECT pg_temp.api_as('nrm_app',
    'SELECT api.key_create(sha256(''tok-admin''::bytea), ''r'', NULL, '
    '''K'', ''a0000000-0000-4000-8000-000000000003'', ''auditor'', NULL, '
    '''\x01''::bytea)')$$), '22023', 'a hash that is not 32 bytes: 22023');

-- List: no person's key, no hash, pages.
SELECT pg_temp.api_as('nrm_app', format('SELECT api.person_create('
    'sha256(%L::bytea), %L, %L::inet, %L, %L, %L::uuid, %L, NULL, '
    'sha256(%L::bytea), 3600)', 'tok-admin', 'req-p', '192.0.2.30',
    'key.person', 'Key Person', 'a0000000-0000-4000-8000-000000000003',
    'auditor', 'code-kp')) \g /dev/null
SELECT is(pg_temp.kl()->>'status', '200', 'an admin lists keys');
SELECT ok(NOT EXISTS (SELECT 1 FROM jsonb_array_elements(
    pg_temp.kl(NULL, 200)->'body'->'items') i
    JOIN auth.person p ON p.key_id::text = i->>'id'),
    'no person''s own key in the list');
SELECT ok(NOT EXISTS (SELECT 1 FROM jsonb_array_elements(
    pg_temp.kl(NULL, 200)->'body'->'items') i WHERE i ? 'token_hash'
    OR i::text LIKE '%' || encode(sha256('tok-new-auditor'), 'hex') || '%'),
    'no hash in the list');
SELECT ok(pg_temp.kl(NULL, 200)->'body'->'items' @> jsonb_build_array(
    jsonb_build_object('id', pg_temp.kid('tok-new-auditor'))),
    'the new key is in the list');
SELECT is((WITH RECURSIVE pages(n, after, items) AS (
	SELECT 1, pg_temp.kl(NULL, 2)->'body'->>'next_after',
	    pg_temp.kl(NULL, 2)->'body'->'items'
	UNION ALL
	SELECT n + 1, pg_temp.kl(after, 2)->'body'->>'next_after',
	    pg_temp.kl(after, 2)->'body'->'items'
	FROM pages WHERE after IS NOT NULL)
    SELECT array_agg(e->>'id' ORDER BY n, o) FROM pages,
        jsonb_array_elements(items) WITH ORDINALITY x(e, o)),
    (SELECT array_agg(e->>'id' ORDER BY o) FROM jsonb_array_elements(
        pg_temp.kl(NULL, 200)->'body'->'items') WITH ORDINALITY x(e, o)),
    'pages of two make the whole list, each key once');
SELECT is(pg_temp.kl(NULL, 0)->>'status', '400', 'limit 0: 400');
SELECT is(pg_temp.kl('b0000000-0000-4000-8000-0000000000ff')->'problem'
    ->>'field', 'after', 'an unknown after: field after');

-- Revoke.
SELECT is(pg_temp.kr(pg_temp.kid('tok-new-auditor'), 'tok-reporter')
    ->>'status', '403', 'a reporter key may not revoke');
SELECT is(pg_temp.kr(pg_temp.kid('tok-new-auditor'))->>'status', '200',
    'an admin revokes a key');
SELECT is(pg_temp.audit_verify('tok-new-auditor')->>'status', '401',
    'the revoked key is refused at once');
SELECT is(pg_temp.kr((SELECT key_id::text FROM auth.person
    WHERE login = 'key.person'))->>'status', '404',
    'a person''s own key is not revocable here');
SELECT is(pg_temp.kr('b0000000-0000-4000-8000-0000000000ff')->>'status',
    '404', 'no such key: 404');

-- Audit and privileges.
SELECT is((SELECT array_agg(DISTINCT action ORDER BY action)
    FROM audit.event WHERE api_key_id =
        'b9300000-0000-4000-8000-000000000001' AND outcome = 'allowed'
        AND action LIKE 'key.%'),
    ARRAY['key.create', 'key.list', 'key.revoke'],
    'each call audited with the acting key');
SELECT is(pg_temp.sqlstate_as('nrm_admin',
    'SELECT token_hash FROM auth.api_key'), '42501',
    'nrm_admin still cannot read token hashes');

SELECT * FROM finish();
ROLLBACK;
