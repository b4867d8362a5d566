-- 93_console_lists.sql - what the console's screens list (issue 12):
-- api.signal_list (GET /v1/signals: the agency's receipts, keyset
-- pages, its 400s, roles, one audit event per call, nothing but the
-- receipt), api.case_colleagues (GET /v1/cases/{id}/colleagues: the
-- active coordinator persons of the case's region but the caller, the
-- set the handover accepts; 404 out of the caller's regions) and
-- held_by_me in api.case_get.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(32);
\ir fixtures.psql

INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label)
VALUES
	('b9300000-0000-4000-8000-000000000001', sha256('tok-admin'),
	    'a0000000-0000-4000-8000-000000000004', 'admin', NULL, NULL);


-- ---------------------------------------------------------------------
-- GET /v1/signals
-- ---------------------------------------------------------------------
CREATE FUNCTION pg_temp.signals(p_token text, p_after uuid DEFAULT NULL,
    p_limit integer DEFAULT NULL, p_request_id text DEFAULT 'req-sl')
RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.signal_list(sha256(%L::bytea), '
	    '%L, %L::inet, %L::uuid, %L::integer)', p_token, p_request_id,
	    '192.0.2.10', p_after, p_limit))
$$;
CREATE TEMP TABLE sig (name text PRIMARY KEY, id uuid NOT NULL);
CREATE FUNCTION pg_temp.sid(p_name text) RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT id FROM sig WHERE name = p_name $$;
CREATE FUNCTION pg_temp.sig_names(p_answer jsonb) RETURNS text[]
LANGUAGE sql STABLE AS $$
	SELECT coalesce(array_agg(coalesce(s.name, '?') ORDER BY t.ord),
	    '{}')
	FROM jsonb_array_elements(p_answer->'body'->'items')
	    WITH ORDINALITY AS t(x, ord)
	LEFT JOIN sig s ON s.id = (t.x->>'signal_id')::uuid
$$;

-- S1 (oldest), S2 a notification, S3 (newest) of the police agency;
-- N1 of the NGO.  received_at set apart (one transaction, one now()).
INSERT INTO sig VALUES
	('S1', (pg_temp.intake_as('nrm_app', 'tok-reporter', 'req-s1', NULL,
	    'b', pg_temp.facts(), pg_temp.subject(),
	    pg_temp.route())->'body'->>'signal_id')::uuid),
	('S2', (pg_temp.intake_as('nrm_app', 'tok-reporter', 'req-s2', NULL,
	    'b', pg_temp.facts_notification(), NULL,
	    pg_temp.route())->'body'->>'signal_id')::uuid),
	('S3', (pg_temp.intake_as('nrm_app', 'tok-reporter', 'req-s3', NULL,
	    'b', pg_temp.facts(), pg_temp.subject(),
	    pg_temp.route())->'body'->>'signal_id')::uuid),
	('N1', (pg_temp.intake_as('nrm_app', 'tok-reporter-ngo', 'req-n1',
	    NULL, 'b', pg_temp.facts(), pg_temp.subject(),
	    pg_temp.route())->'body'->>'signal_id')::uuid);
UPDATE intake.signal s SET received_at = timestamptz
    '2024-05-03 10:00:00Z' + x.n * interval '1 hour'
FROM (VALUES ('S1', 1), ('S2', 2), ('S3', 3), ('N1', 4)) x(name, n)
WHERE s.id = pg_temp.sid(x.name);

SELECT is(pg_temp.signals('tok-reporter')->>'status', '200',
    'a reporter lists its agency''s signals: 200');
SELECT is(pg_temp.sig_names(pg_temp.signals('tok-reporter')),
    ARRAY['S3', 'S2', 'S1'], 'its agency''s signals only, newest first');
SELECT is(pg_temp.sig_names(pg_temp.signals('tok-reporter-ngo')),
    ARRAY['N1'], 'another agency sees only its own');
SELECT is(pg_temp.signals('tok-reporter')->'body'->'items'->0,
    pg_temp.a(format('SELECT api.signal_receipt(sha256(%L::bytea), %L, '
        '%L::inet, %L::uuid)', 'tok-reporter', 'req-r3', '192.0.2.10',
        pg_temp.sid('S3')))->'body',
    'an item is the receipt of GET /v1/signals/{id}, nothing more');
SELECT is(pg_temp.signals('tok-reporter')->'body'->'items'->1
    ->>'notification_only', 'true', 'a notification is listed as one');
SELECT is(pg_temp.signals('tok-reporter')->'body'->'items'->1->'case_id',
    'null'::jsonb, 'a notification has no case');
SELECT is(pg_temp.signals('tok-reporter')->'body'->'next_cursor',
    'null'::jsonb, 'a page not full: next_cursor null');
SELECT is(pg_temp.sig_names(pg_temp.signals('tok-reporter', NULL, 2)),
    ARRAY['S3', 'S2'], 'limit 2: the two newest');
SELECT is(pg_temp.signals('tok-reporter', NULL, 2)->'body'
    ->>'next_cursor', pg_temp.sid('S2')::text,
    'a full page: next_cursor is its last signal');
SELECT is(pg_temp.sig_names(pg_temp.signals('tok-reporter',
    pg_temp.sid('S2'), 2)), ARRAY['S1'], 'the next page: the rest');
SELECT is(pg_temp.signals('tok-reporter', NULL, 0)->'problem'->>'field',
    'limit', 'limit 0: 400 field limit');
SELECT is(pg_temp.signals('tok-reporter', NULL, 201)->'problem'
    ->>'field', 'limit', 'limit 201: 400 field limit');
SELECT is(pg_temp.signals('tok-reporter', pg_temp.sid('N1'))->'problem'
    ->>'field', 'cursor',
    'a cursor naming another agency''s signal: 400 field cursor');
SELECT is(pg_temp.signals('tok-coordinator')->>'status', '403',
    'a coordinator may not list signals');
SELECT is(pg_temp.signals('tok-revoked')->>'status', '401',
    'a revoked key: 401');
SELECT pg_temp.signals('tok-reporter', NULL, NULL, 'req-sl-one')
\g /dev/null
SELECT is(pg_temp.events('req-sl-one'),
    ARRAY['signal.list/signal/-/intake/allowed/-'],
    'one audit event per call, not one per signal');
SELECT pg_temp.signals('tok-reporter', pg_temp.sid('N1'), NULL,
    'req-sl-bad') \g /dev/null
SELECT is(pg_temp.events('req-sl-bad'),
    ARRAY['signal.list/signal/-/intake/failed/bad_request'],
    'a bad cursor: audited failed/bad_request');

-- ---------------------------------------------------------------------
-- GET /v1/cases/{id}/colleagues
-- ---------------------------------------------------------------------
SELECT pg_temp.a(format('SELECT api.person_create(sha256(%L::bytea), '
    '%L, %L::inet, %L, %L, %L::uuid, %L, %L::text[], sha256(%L::bytea), '
    '3600)', 'tok-admin', 'req-pc', '192.0.2.10', x.login, x.name,
    'a0000000-0000-4000-8000-000000000003', x.role, x.regions,
    'code-' || x.login))
FROM (VALUES ('coord.a', 'Bram', 'coordinator', '{VR13}'),
    ('coord.b', 'Anna', 'coordinator', '{VR13}'),
    ('coord.off', 'Cees', 'coordinator', '{VR13}'),
    ('coord.vr01', 'Dirk', 'coordinator', '{VR01}'),
    ('coord.both', 'Els', 'coordinator', '{VR01,VR13}'),
    ('ass.one', 'Fem', 'assessor', NULL)) x(login, name, role, regions)
\g /dev/null
UPDATE auth.person SET status = 'disabled', disabled_at = now()
WHERE login = 'coord.off';
SELECT pg_temp.a(format('SELECT api.enrol(%L, %L::inet, '
    'sha256(%L::bytea), %L::bytea, %L, sha256(''tag''), %L::bytea, '
    'ARRAY[sha256(%L::bytea)])', 'req-enrol', '192.0.2.10',
    'code-coord.a', '\x05050505050505050505050505050505', '{19456,2,1}',
    '\x0101010101010101010101010101010101010101', 'rc1-coord.a'))
\g /dev/null
-- the login as nrmd sends it: the password's tag, the TOTP code of now
SELECT pg_temp.a(format('SELECT api.login_finish(%L, %L::inet, %L, '
    'sha256(''tag''), %L, NULL, sha256(%L::bytea), 900, 36000, 100, 900, '
    '900, NULL, NULL, NULL)', 'req-login', '192.0.2.10', 'coord.a',
    lpad(auth.hotp('\x0101010101010101010101010101010101010101',
        floor(extract(epoch FROM now()) / 30)::bigint, 6)::text, 6, '0'),
    'sess-a'))
\g /dev/null

CREATE FUNCTION pg_temp.colleagues(p_token text, p_case uuid,
    p_request_id text DEFAULT 'req-col') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.case_colleagues('
	    'sha256(%L::bytea), %L, %L::inet, %L::uuid)', p_token,
	    p_request_id, '192.0.2.10', p_case))
$$;
SELECT pg_temp.named_case('K') \g /dev/null
SELECT pg_temp.named_case('V1', '{"region": "VR01"}') \g /dev/null

SELECT is(pg_temp.item_field(pg_temp.colleagues('tok-coordinator',
    pg_temp.cid('K')), 'display_name'), ARRAY['Anna', 'Bram', 'Els'],
    'a key of VR13: the active coordinator persons of VR13, by name');
SELECT is(pg_temp.item_field(pg_temp.colleagues('sess-a',
    pg_temp.cid('K')), 'display_name'), ARRAY['Anna', 'Els'],
    'a person: its colleagues, not itself');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(
    pg_temp.colleagues('sess-a', pg_temp.cid('K'))->'body'->'items'->0)
    k), ARRAY['display_name', 'person_id'],
    'an item is the person''s id and display name, nothing else');
SELECT is(pg_temp.colleagues('sess-a', pg_temp.cid('K'))->'body'
    ->'items'->0->>'person_id',
    (SELECT id::text FROM auth.person WHERE login = 'coord.b'),
    'person_id is the person''s id (what a handover takes)');
SELECT is(pg_temp.item_field(pg_temp.colleagues('tok-coordinator-vr01',
    pg_temp.cid('V1')), 'display_name'), ARRAY['Dirk', 'Els'],
    'VR01''s case: VR01''s coordinators');
SELECT pg_temp.colleagues('tok-coordinator-vr01', pg_temp.cid('K'),
    'req-col-out') \g /dev/null
SELECT is(pg_temp.colleagues('tok-coordinator-vr01', pg_temp.cid('K'))
    ->>'status', '404', 'a case outside the caller''s regions: 404');
SELECT is(pg_temp.events('req-col-out'), ARRAY['case.colleagues/case/'
    || pg_temp.cid('K') || '/care/denied/out_of_scope'],
    'out of scope: audited denied/out_of_scope');
SELECT is(pg_temp.colleagues('tok-coordinator',
    'c0ffee00-0000-4000-8000-000000000000', 'req-col-unknown')->>'status',
    '404', 'an unknown case: 404');
SELECT is(pg_temp.colleagues('tok-assessor', pg_temp.cid('K'))
    ->>'status', '403', 'an assessor: 403');
SELECT pg_temp.colleagues('tok-coordinator', pg_temp.cid('K'),
    'req-col-one') \g /dev/null
SELECT is(pg_temp.events('req-col-one'), ARRAY['case.colleagues/case/'
    || pg_temp.cid('K') || '/care/allowed/-'],
    'audited case.colleagues, purpose care');

-- ---------------------------------------------------------------------
-- held_by_me in GET /v1/cases/{id}
-- ---------------------------------------------------------------------
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('K'), 'care')
    ->'body'->'case'->'held_by_me', 'false'::jsonb,
    'an open case: held_by_me false');
SELECT pg_temp.case_take('tok-coordinator', pg_temp.cid('K'))
\g /dev/null
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('K'), 'care')
    ->'body'->'case'->'held_by_me', 'true'::jsonb,
    'taken by the caller: held_by_me true');
SELECT is(pg_temp.case_get('tok-coordinator-2', pg_temp.cid('K'), 'care')
    ->'body'->'case'->'held_by_me', 'false'::jsonb,
    'taken by another key: false');
SELECT pg_temp.named_case('P') \g /dev/null
SELECT pg_temp.case_take('sess-a', pg_temp.cid('P')) \g /dev/null
SELECT is(pg_temp.case_get('sess-a', pg_temp.cid('P'), 'care')
    ->'body'->'case'->'held_by_me', 'true'::jsonb,
    'taken by the person: held_by_me true in its session');
SELECT is(pg_temp.case_get('tok-assessor', pg_temp.cid('P'),
    'identification')->'body'->'case'->'held_by_me', 'false'::jsonb,
    'an assessor: false');

SELECT * FROM finish();
ROLLBACK;
