-- 97_invest_sealed.sql - the references of an investigation record sealed
-- (issue 15, 0025, docs/data-protection.md "The investigation track"):
-- invest.data_key, one per record, the investigators' of its agency only;
-- the references stored sealed (the database refuses new plaintext) and
-- answered in "sealed" for nrmd; api.invest_seal_key; a key that is not
-- the record's refused; the erasure of a case destroys the keys of the
-- records about it through nrm_invest_eraser, which the privacy roles
-- cannot read past; retired KEKs and the plaintext count cover them.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(34);
\ir fixtures.psql
SELECT pg_temp.sep_investigators();

INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label)
VALUES ('b0000000-0000-4000-8000-0000000000a1', sha256('tok-privacy'),
    'a0000000-0000-4000-8000-000000000004', 'privacy_officer', NULL, NULL);

CREATE TEMP TABLE c (name text PRIMARY KEY, id uuid, sig uuid);
GRANT ALL ON c TO PUBLIC;
INSERT INTO c (name, id) SELECT n, pg_temp.new_case()
FROM unnest(ARRAY['A', 'B']) n;
UPDATE c SET sig = k.signal_id FROM care.case k WHERE k.id = c.id;
-- B shared with Test Police (consent recorded by the coordinator)
INSERT INTO invest.case_share (case_id, agency_id, shared_by)
SELECT id, 'a0000000-0000-4000-8000-000000000001',
    'b0000000-0000-4000-8000-000000000003' FROM c WHERE name = 'B';

CREATE FUNCTION pg_temp.inv(p_fn text, VARIADIC p_args text[]) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_call(p_fn, 'tok-sep-investigator', 'req-' || p_fn,
	    '192.0.2.10', VARIADIC p_args)
$$;

-- the roles
SELECT pg_temp.definer_role('nrm_invest_eraser',
    'invest.erase_signal(uuid, uuid)'::regprocedure);
SELECT is(pg_temp.sqlstate_as(r, 'SELECT count(*) FROM ' || t), '42501',
    r || ' cannot read ' || t)
FROM unnest(ARRAY['nrm_privacy', 'nrm_privacy_officer', 'nrm_app',
    'nrm_coordinator']) r, unnest(ARRAY['invest.data_key']) t;
SELECT is(pg_temp.sqlstate_as('nrm_invest_eraser',
    'SELECT police_reference_ct FROM invest.record'), '42501',
    'nrm_invest_eraser cannot read a sealed reference');
SELECT is(pg_temp.sqlstate_as('nrm_invest_eraser',
    'SELECT wrapped FROM invest.data_key'), '42501',
    'nrm_invest_eraser cannot read a wrapped key');
SELECT is(pg_temp.sqlstate_as('nrm_app', format(
    'SELECT invest.erase_signal(%L, NULL)', gen_random_uuid())), '42501',
    'nrm_app cannot call invest.erase_signal');

-- a record with sealed references (r: fixtures.psql's answers table)
INSERT INTO r SELECT 'a', pg_temp.inv('invest_create',
    pg_temp.invest_seal(jsonb_build_object('signal_id',
        (SELECT sig FROM c WHERE name = 'A'),
        'police_reference', 'PL-Ä-001', 'prosecution_reference', 'OM-1'))
    ::text);
SELECT is((SELECT v->>'status' FROM r WHERE name = 'a'), '201',
    'a record with sealed references: 201');
SELECT is((SELECT array[police_reference, prosecution_reference]
    FROM invest.record WHERE id = (SELECT (v->'body'->>'id')::uuid FROM r
    WHERE name = 'a')), '{NULL,NULL}'::text[],
    'no plaintext stored');
SELECT ok((SELECT num_nonnulls(police_reference_ct, prosecution_reference_ct)
    = 2 AND k.record_id = x.id AND k.wrapped IS NOT NULL
    FROM invest.record x JOIN invest.data_key k ON k.id = x.data_key_id
    WHERE x.id = (SELECT (v->'body'->>'id')::uuid FROM r WHERE name = 'a')),
    'both sealed, under the record''s own key');
SELECT is((SELECT jsonb_path_query_array(v->'body'->'sealed'->'fields',
    '$[*].path') FROM r WHERE name = 'a'),
    '["police_reference", "prosecution_reference"]',
    'the answer carries them in "sealed" for nrmd');
SELECT is((SELECT v->'body'->'sealed'->'fields'->0->>'aad' FROM r
    WHERE name = 'a'), 'invest.record/police_reference/'
    || (SELECT v->'body'->>'id' FROM r WHERE name = 'a'),
    'bound to row and column');
SELECT is((SELECT pg_temp.invest_open(v)->'body'->>'police_reference'
    FROM r WHERE name = 'a'), 'PL-Ä-001', 'and open to what was sent');
SELECT is(pg_temp.violation(format(
    $$UPDATE invest.record SET police_reference = 'PL-2' WHERE id = %L$$,
    (SELECT v->'body'->>'id' FROM r WHERE name = 'a'))),
    'record_plaintext_check', 'the database refuses a plaintext reference');

-- the key: its agency's investigators only
SELECT is(pg_temp.api_as('nrm_investigator', format($$SELECT to_jsonb(
    (SELECT count(*) FROM invest.data_key)) FROM (SELECT set_config(
    'nrm.agency_id', %L, true)) s$$, a)), to_jsonb(n),
    'an investigator of ' || a || ' sees ' || n || ' key(s)')
FROM (VALUES ('a0000000-0000-4000-8000-000000000001', 1),
    ('70000000-0000-4000-8000-000000000001', 0)) AS v(a, n);
INSERT INTO r SELECT 'key', pg_temp.inv('invest_seal_key',
    (SELECT v->'body'->>'id' FROM r WHERE name = 'a'));
SELECT is((SELECT v->'body'->'data_key'->>'id' FROM r WHERE name = 'key'),
    (SELECT v->'body'->'sealed'->'data_key'->>'id' FROM r WHERE name = 'a'),
    'api.invest_seal_key answers the record''s data key');
SELECT is(pg_temp.events('req-invest_seal_key'), '{}'::text[],
    '... not audited (it never leaves nrmd)');
SELECT is(pg_temp.api_call('invest_seal_key', 'tok-sep-investigator-2',
    'req-key-2', '192.0.2.10', (SELECT v->'body'->>'id' FROM r
    WHERE name = 'a'))->>'status', '404',
    'another agency: 404 (audited)');
SELECT is(pg_temp.events('req-key-2'), ARRAY['investigation.update/investigation/'
    || (SELECT v->'body'->>'id' FROM r WHERE name = 'a')
    || '/investigation/denied/out_of_scope'], '... denied/out_of_scope');

-- a patch sealed under another key is refused
SELECT is((SELECT ARRAY[x->>'status', x->'problem'->>'code',
    x->'problem'->>'field'] FROM (SELECT pg_temp.inv('invest_patch',
    (SELECT v->'body'->>'id' FROM r WHERE name = 'a'), NULL,
    pg_temp.invest_seal('{"police_reference": "PL-3"}',
        (SELECT (v->'body'->>'id')::uuid FROM r WHERE name = 'a'),
        NULL)::text) x) y), ARRAY['409', 'conflict', 'data_key'],
    'a new key for a record that has one: 409 naming data_key');
-- a record from before 0025 (plaintext, no key) gets its key with a patch
INSERT INTO r SELECT 'old', pg_temp.inv('invest_create', jsonb_build_object(
    'signal_id', (SELECT sig FROM c WHERE name = 'A'))::text);
SET LOCAL session_replication_role = replica;
UPDATE invest.record SET police_reference = 'PL-OLD', prosecution_reference
    = 'OM-OLD' WHERE id = (SELECT (v->'body'->>'id')::uuid FROM r
    WHERE name = 'old');
SET LOCAL session_replication_role = origin;
SELECT is((care.plaintext_left()->>'investigations')::int, 1,
    'care.plaintext_left counts it');
INSERT INTO r SELECT 'oldp', pg_temp.invest_open(pg_temp.inv('invest_patch',
    (SELECT v->'body'->>'id' FROM r WHERE name = 'old'), NULL,
    pg_temp.invest_seal('{"police_reference": "PL-NEW"}',
        (SELECT (v->'body'->>'id')::uuid FROM r WHERE name = 'old'),
        NULL)::text));
SELECT is((SELECT v->'body'->>'police_reference' || ' '
    || (v->'body'->>'prosecution_reference') FROM r WHERE name = 'oldp'),
    'PL-NEW OM-OLD', 'a legacy record: the patched reference sealed under '
    'a new key, the other as it was');
SELECT ok((SELECT data_key_id IS NOT NULL AND police_reference IS NULL
    FROM invest.record WHERE id = (SELECT (v->'body'->>'id')::uuid FROM r
    WHERE name = 'old')), '... its key registered, the old plaintext gone');

-- a failed decryption is the investigator's to audit too
SELECT is(pg_temp.api_call('data_unreadable', 'tok-sep-investigator',
    'req-unr', '192.0.2.10', 'investigation', (SELECT v->'body'->>'id'
    FROM r WHERE name = 'a'), 'misplaced')->>'status', '200',
    'api.data_unreadable takes an investigator');
SELECT is(pg_temp.events('req-unr'), ARRAY['data.decrypt_failed/investigation/'
    || (SELECT v->'body'->>'id' FROM r WHERE name = 'a')
    || '/-/failed/misplaced'], '... audited data.decrypt_failed');

-- erasure of case B shreds the records about it (by case and by signal)
INSERT INTO r SELECT 'bc', pg_temp.inv('invest_create', pg_temp.invest_seal(
    jsonb_build_object('case_id', (SELECT id FROM c WHERE name = 'B'),
        'police_reference', 'PL-B'))::text);
INSERT INTO r SELECT 'bs', pg_temp.inv('invest_create', pg_temp.invest_seal(
    jsonb_build_object('signal_id', (SELECT sig FROM c WHERE name = 'B'),
        'prosecution_reference', 'OM-B'))::text);
INSERT INTO r SELECT 'erase', pg_temp.api_call('privacy_erase',
    'tok-privacy', 'req-erase', '192.0.2.10',
    (SELECT id::text FROM c WHERE name = 'B'), 'objection');
SELECT is((SELECT v->>'status' FROM r WHERE name = 'erase'), '200',
    'the privacy officer erases case B');
SELECT is((SELECT count(*)::int FROM invest.record x
    JOIN invest.data_key k ON k.id = x.data_key_id
    WHERE x.id IN (SELECT (v->'body'->>'id')::uuid FROM r
        WHERE name IN ('bc', 'bs'))
      AND k.wrapped IS NULL AND k.destroyed_at IS NOT NULL
      AND num_nonnulls(x.police_reference_ct, x.prosecution_reference_ct,
          x.police_reference, x.prosecution_reference) = 0), 2,
    'both records about B: key destroyed, references cleared');
SELECT ok((SELECT k.wrapped IS NOT NULL FROM invest.data_key k
    WHERE k.record_id = (SELECT (v->'body'->>'id')::uuid FROM r
    WHERE name = 'a')), 'the record about A keeps its key');
SELECT ok((SELECT (pg_temp.inv('invest_get', v->'body'->>'id')->'body')
    ? 'references_erased_at' FROM r WHERE name = 'bc'),
    'a read says when the references were erased');

-- retired KEKs: never wrapping an investigation key either
INSERT INTO care.kek_retired (kek_id) VALUES ('00000000000000bb');
SELECT is(pg_temp.violation(format($$INSERT INTO invest.data_key (id,
    record_id, kek_id, wrapped) VALUES (gen_random_uuid(), %L,
    '00000000000000bb', '\x%s')$$, (SELECT v->'body'->>'id' FROM r
    WHERE name = 'a'), repeat('00', 60))), 'data_key_kek_id_retired_check',
    'a retired KEK wraps no investigation key');

SELECT * FROM finish();
ROLLBACK;
