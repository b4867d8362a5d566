-- 97_key_rotation.sql - 0020: the identification rationale takes no new
-- plaintext; a retired key-encryption key wraps no data key; the
-- idempotency fingerprint of a new row is marked keyed, the rows from
-- before not; the plaintext count nrmd warns with (counts only).
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(15);
\ir fixtures.psql

SELECT pg_temp.named_case('K');
CREATE TEMP TABLE s AS SELECT signal_id AS sig FROM care.case
WHERE id = pg_temp.cid('K');
GRANT SELECT ON s TO PUBLIC;

-- The rationale: refused in plaintext on INSERT and on UPDATE; cleared
-- and sealed by an UPDATE (what `nrmctl data encrypt` does).
SELECT throws_ok(format($$INSERT INTO ident.decision (case_id, stage,
    outcome, deciding_body, rationale, decided_on, recorded_by, profile)
    VALUES (%L, 'initial', 'positive', 'assessment_body', 'plain',
    '2024-05-01', 'b0000000-0000-4000-8000-000000000008', 'nl')$$,
    pg_temp.cid('K')), '23514', NULL,
    'a plaintext rationale is refused on INSERT');
DO $$
BEGIN
	SET LOCAL session_replication_role = replica;
	INSERT INTO ident.decision (case_id, stage, outcome, deciding_body,
	    rationale, decided_on, recorded_by, profile)
	VALUES (pg_temp.cid('K'), 'initial', 'positive', 'assessment_body',
	    'stored before 0017', '2024-05-01',
	    'b0000000-0000-4000-8000-000000000008', 'nl');
	SET LOCAL session_replication_role = origin;
END
$$;
SELECT throws_ok(format($$UPDATE ident.decision SET rationale = 'other'
    WHERE case_id = %L$$, pg_temp.cid('K')), '23514', NULL,
    'an old plaintext rationale is not changed');
SELECT is((care.plaintext_left()->>'decisions')::int, 1,
    'care.plaintext_left counts the old plaintext rationale');
SELECT lives_ok(format($$UPDATE ident.decision SET rationale = NULL
    WHERE case_id = %L$$, pg_temp.cid('K')),
    'a plaintext rationale may be cleared');
SELECT is((care.plaintext_left()->>'decisions')::int, 0,
    '... and is no longer counted');

-- Retired KEKs: no data key wrapped by one, on INSERT or UPDATE.
INSERT INTO care.kek_retired (kek_id) VALUES ('00000000000000aa');
SELECT throws_ok($$INSERT INTO care.data_key (id, signal_id, kek_id,
    wrapped) SELECT gen_random_uuid(), sig, '00000000000000aa',
    pg_temp.fx_rnd(60) FROM s$$, '23514', NULL,
    'a data key is not wrapped by a retired KEK');
INSERT INTO care.data_key (id, signal_id, kek_id, wrapped)
SELECT 'dddddddd-0000-4000-8000-000000000001', sig, '00000000000000bb',
    pg_temp.fx_rnd(60) FROM s;
SELECT throws_ok($$UPDATE care.data_key SET kek_id = '00000000000000aa'
    WHERE id = 'dddddddd-0000-4000-8000-000000000001'$$, '23514', NULL,
    '... nor re-wrapped by one');
SELECT lives_ok($$UPDATE care.data_key SET kek_id = '00000000000000cc',
    wrapped = pg_temp.fx_rnd(60)
    WHERE id = 'dddddddd-0000-4000-8000-000000000001'$$,
    'a data key is re-wrapped by another KEK (keys rotate)');

-- Idempotency: a new row is keyed, a row from before 0020 is not (and
-- is counted until `nrmctl data encrypt` keys it).
INSERT INTO intake.idempotency (api_key_id, idem_key, request_hash, status,
    response)
VALUES ('b0000000-0000-4000-8000-000000000001', 'new-key',
    sha256('new body'), 201, '{}');
SELECT is((SELECT request_keyed FROM intake.idempotency
    WHERE idem_key = 'new-key'), true,
    'an idempotency row written since 0020 is marked keyed');
INSERT INTO intake.idempotency (api_key_id, idem_key, request_hash, status,
    response, request_keyed)
VALUES ('b0000000-0000-4000-8000-000000000001', 'old-key',
    sha256('old body'), 201, '{}', false);
SELECT is((care.plaintext_left()->>'idempotency')::int, 1,
    'an unkeyed idempotency hash is counted');

-- nrmd reads the counts through api.data_plaintext_left (as nrm_app),
-- which holds numbers only.
SELECT is(pg_temp.api_as('nrm_app',
    'SELECT api.data_plaintext_left()') ?& ARRAY['subjects', 'signals',
    'decisions', 'idempotency'], true,
    'nrm_app reads the counts');
SELECT is((SELECT count(*)::int FROM jsonb_each(care.plaintext_left())
    WHERE jsonb_typeof(value) <> 'number'), 0, 'numbers only');

-- Pseudonyms name their key; during a rotation api.intake stores the
-- previous key's pseudonym beside the new one (nrmd sends both).
SELECT throws_ok($$SELECT pg_temp.intake_as('nrm_app', 'tok-reporter',
    'req-pseud-bad', NULL, 'body-pseud-bad', pg_temp.facts(),
    pg_temp.subject() || '{"pseudonym_key_id": "not-an-id"}',
    pg_temp.route())$$, '23514', NULL,
    'a pseudonym key id is 16 hex characters');
INSERT INTO r SELECT 'ok', pg_temp.intake_as('nrm_app', 'tok-reporter',
    'req-pseud-ok', NULL, 'body-pseud-ok', pg_temp.facts(),
    pg_temp.subject() || jsonb_build_object('pseudonym_key_id',
        '00000000000000f2', 'pseudonym_prev', repeat('ab', 32)),
    pg_temp.route());
SELECT is((SELECT v->>'status' FROM r WHERE name = 'ok'), '201',
    'a subject with its pseudonym key id and previous pseudonym is stored');
SELECT is((SELECT s.pseudonym_key_id || '/' || encode(s.pseudonym_prev,
        'hex') FROM care.subject s, r
    WHERE r.name = 'ok' AND s.signal_id = (r.v->'body'->>'signal_id')::uuid),
    '00000000000000f2/' || repeat('ab', 32),
    'both stored beside the pseudonym');

SELECT * FROM finish();
ROLLBACK;
