-- 96_data_at_rest.sql - personal data stored sealed (issue 15, 0017):
-- api.intake stores what nrmd sealed in the ciphertext columns with its
-- data key, never in the plaintext ones; the case body hands the values
-- back in "sealed" with the associated data of their row; the shape of
-- a sealed value and of a wrapped key is checked; a misfit data key is
-- refused; decrypt failures are audited without a value.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(24);
\ir fixtures.psql

-- n random bytes (no pgcrypto here).
CREATE FUNCTION pg_temp.rnd(p_n integer) RETURNS bytea
LANGUAGE sql AS $$
	SELECT substring(decode(string_agg(md5(random()::text), ''), 'hex')
	    FROM 1 FOR p_n) FROM generate_series(0, p_n / 16)
$$;

-- A sealed value of n plaintext bytes, as nrmd sends it (base64): the
-- version byte, the data key id, then random bytes for nonce, text, tag.
CREATE FUNCTION pg_temp.sealed(p_key uuid, p_n integer) RETURNS text
LANGUAGE sql AS $$
	SELECT encode('\x01'::bytea || decode(replace(p_key::text, '-', ''),
	    'hex') || pg_temp.rnd(12 + p_n + 16), 'base64')
$$;

CREATE TEMP TABLE k AS SELECT gen_random_uuid() AS sig,
    gen_random_uuid() AS key;
GRANT SELECT ON k TO PUBLIC;

INSERT INTO r SELECT 'sealed', pg_temp.intake_as('nrm_app', 'tok-reporter',
    'req-sealed', NULL, 'body-sealed',
    pg_temp.facts(jsonb_build_object('id', k.sig, 'reporter_reference',
        NULL, 'reporter_reference_ct', pg_temp.sealed(k.key, 9),
        'data_key', jsonb_build_object('id', k.key,
            'kek_id', '0123456789abcdef',
            'wrapped', encode(pg_temp.rnd(60), 'base64')))),
    jsonb_build_object('given_name_ct', pg_temp.sealed(k.key, 3),
        'family_name_ct', pg_temp.sealed(k.key, 4),
        'birth_date_ct', pg_temp.sealed(k.key, 10),
        'narrative_ct', pg_temp.sealed(k.key, 100)),
    pg_temp.route()) FROM k;
SELECT is((SELECT (v->>'status')::int FROM r WHERE name = 'sealed'), 201,
    'api.intake stores a sealed signal');
SELECT is((SELECT v->'body'->>'signal_id' FROM r WHERE name = 'sealed'),
    (SELECT sig::text FROM k), 'under the id nrmd chose');
SELECT is((SELECT num_nonnulls(s.reporter_reference, sub.given_name,
        sub.family_name, sub.birth_date, sub.phone, sub.address,
        sub.narrative)
    FROM intake.signal s JOIN care.subject sub ON sub.signal_id = s.id
    WHERE s.id = (SELECT sig FROM k)), 0,
    'no plaintext column holds anything');
SELECT is((SELECT num_nonnulls(s.reporter_reference_ct, sub.given_name_ct,
        sub.family_name_ct, sub.birth_date_ct, sub.narrative_ct)
    FROM intake.signal s JOIN care.subject sub ON sub.signal_id = s.id
    WHERE s.id = (SELECT sig FROM k)), 5,
    'the ciphertext columns hold the sealed values');
SELECT is((SELECT count(*)::int FROM care.data_key d, k
    WHERE d.id = k.key AND d.signal_id = k.sig AND d.wrapped IS NOT NULL
      AND d.kek_id = '0123456789abcdef'), 1,
    'the data key is stored with its signal and KEK id');
SELECT is((SELECT count(*)::int FROM intake.signal s, k, care.subject sub
    WHERE s.id = k.sig AND s.data_key_id = k.key
      AND sub.signal_id = k.sig AND sub.data_key_id = k.key), 1,
    'signal and subject name their data key');

-- The case body: the values in "sealed", with the AAD of their row.
INSERT INTO r SELECT 'get', pg_temp.case_get('tok-coordinator',
    (SELECT (v->'body'->>'case_id')::uuid FROM r WHERE name = 'sealed'),
    NULL, 'req-sealed-get');
SELECT is((SELECT v->'body'->'sealed'->'data_key'->>'id' FROM r
    WHERE name = 'get'), (SELECT key::text FROM k),
    'the case body carries the data key');
SELECT is((SELECT octet_length(decode(v->'body'->'sealed'->'data_key'
        ->>'wrapped', 'base64')) FROM r WHERE name = 'get'), 60,
    'wrapped, in base64 on one line');
SELECT set_eq($$SELECT f->>'path' AS p, f->>'aad' AS a FROM r,
        jsonb_array_elements(v->'body'->'sealed'->'fields') f
    WHERE name = 'get'$$,
    $$SELECT p, a || '/' || (SELECT sig::text FROM k) AS a FROM (VALUES
        ('signal.reporter_reference', 'intake.signal/reporter_reference'),
        ('subject.given_name', 'care.subject/given_name'),
        ('subject.family_name', 'care.subject/family_name'),
        ('subject.birth_date', 'care.subject/birth_date'),
        ('subject.narrative', 'care.subject/narrative')) x(p, a)$$,
    'one field per stored value, path and associated data of its row');
SELECT is((SELECT f->>'value' FROM r,
        jsonb_array_elements(v->'body'->'sealed'->'fields') f
    WHERE name = 'get' AND f->>'path' = 'subject.given_name'),
    (SELECT care.b64(given_name_ct) FROM care.subject
    WHERE signal_id = (SELECT sig FROM k)), 'the value as stored');
SELECT is((SELECT v->'body'->'subject'->>'given_name' FROM r
    WHERE name = 'get'), NULL, 'the subject itself holds no plaintext');

-- An identification entry with a sealed rationale: its own data key, of
-- the case's signal; the answer carries it in the entry's "sealed".
CREATE TEMP TABLE e AS SELECT gen_random_uuid() AS id,
    gen_random_uuid() AS key;
GRANT SELECT ON e TO PUBLIC;
INSERT INTO r SELECT 'ident', pg_temp.api_as('nrm_app', format(
    'SELECT api.ident_record(sha256(%L::bytea), %L, %L::inet, %L::uuid, '
    '%L::jsonb, %L)', 'tok-assessor', 'req-ident-sealed', '192.0.2.10',
    (SELECT (v->'body'->>'case_id')::uuid FROM r WHERE name = 'sealed'),
    jsonb_build_object('stage', 'initial', 'outcome', 'pending',
        'deciding_body', 'assessment_body',
        'decided_on', current_date, 'id', e.id,
        'rationale_ct', pg_temp.sealed(e.key, 500),
        'data_key', jsonb_build_object('id', e.key,
            'kek_id', '0123456789abcdef',
            'wrapped', encode(pg_temp.rnd(60), 'base64'))), 'nl'))
FROM e;
SELECT is((SELECT v->>'status' FROM r WHERE name = 'ident'), '201',
    'api.ident_record stores an entry with a sealed rationale');
SELECT is((SELECT count(*)::int FROM ident.decision d, e, care.data_key k
    WHERE d.id = e.id AND d.rationale IS NULL AND d.rationale_ct IS NOT NULL
      AND d.data_key_id = e.key AND k.id = e.key
      AND k.signal_id = (SELECT sig FROM k)), 1,
    'under the id nrmd chose, with its own key of the case''s signal');
SELECT is((SELECT v->'body'->'sealed'->'fields'->0->>'aad' FROM r
    WHERE name = 'ident'),
    'ident.decision/rationale/' || (SELECT id::text FROM e),
    'the entry carries its sealed rationale with its AAD');
SELECT is((SELECT v->'body'->'rationale' FROM r WHERE name = 'ident'),
    'null'::jsonb, 'and no plaintext');

-- A case stored before 0017 (no data key) answers as it did: no
-- "sealed" (such a row is made here the way 0017 stored it: the
-- plaintext triggers are bypassed for this one row, as a restored old
-- database would have it).
DO $$
DECLARE
	v_sig uuid;
BEGIN
	PERFORM pg_temp.named_case('OLD');
	SELECT signal_id INTO v_sig FROM care.case
	WHERE id = pg_temp.cid('OLD');
	SET LOCAL session_replication_role = replica;
	UPDATE care.subject SET given_name = 'Ana', data_key_id = NULL,
	    given_name_ct = NULL, family_name_ct = NULL, birth_date_ct = NULL,
	    phone_ct = NULL, address_ct = NULL, narrative_ct = NULL
	WHERE signal_id = v_sig;
	UPDATE intake.signal SET data_key_id = NULL,
	    reporter_reference_ct = NULL WHERE id = v_sig;
	SET LOCAL session_replication_role = origin;
END
$$;
SELECT ok(NOT (pg_temp.case_get('tok-coordinator', pg_temp.cid('OLD'))
    ->'body' ? 'sealed'), 'a case without a data key has no "sealed"');
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('OLD'))
    ->'body'->'subject'->>'given_name', 'Ana',
    '... and answers its plaintext as before');
-- The plaintext write path is closed: nothing new, changed or added;
-- an UPDATE may clear it (what `nrmctl data encrypt` will do).
SELECT throws_ok(format($$UPDATE care.subject SET given_name = 'Eva'
    WHERE signal_id = (SELECT signal_id FROM care.case WHERE id = %L)$$,
    pg_temp.cid('OLD')), '23514', NULL, 'plaintext is not changed');
SELECT lives_ok(format($$UPDATE care.subject SET given_name = NULL
    WHERE signal_id = (SELECT signal_id FROM care.case WHERE id = %L)$$,
    pg_temp.cid('OLD')), 'plaintext may be cleared');

-- Shapes: a sealed value starts with version 1 and is 45 bytes longer
-- than its plaintext; a wrapped key is 60 bytes.
SELECT ok(care.sealed_ok(decode(pg_temp.sealed(gen_random_uuid(), 200),
    'base64'), 200) AND NOT care.sealed_ok(decode(pg_temp.sealed(
    gen_random_uuid(), 201), 'base64'), 200)
    AND NOT care.sealed_ok('\x02'::bytea || pg_temp.rnd(50), 200)
    AND NOT care.sealed_ok(pg_temp.rnd(44), 200),
    'care.sealed_ok: version byte and length bounds');
SELECT throws_ok($$UPDATE care.subject SET given_name_ct = '\x01ab'
    WHERE signal_id = (SELECT sig FROM k)$$, '23514', NULL,
    'a value too short to be sealed is refused');
SELECT throws_ok($$INSERT INTO care.data_key (id, signal_id, kek_id,
    wrapped) SELECT gen_random_uuid(), sig, 'not-hex', pg_temp.rnd(60)
    FROM k$$, '23514', NULL, 'a KEK id is 16 hex characters');

-- A decrypt failure nrmd found: audited, reason word only.
SELECT is(pg_temp.api_as('nrm_app', format('SELECT api.data_unreadable('
    'sha256(%L::bytea), %L, %L::inet, %L, %L, %L)', 'tok-coordinator',
    'req-unreadable', '192.0.2.10', 'case', 'some-case', 'tampered'))
    ->>'status', '200', 'api.data_unreadable answers 200');
SELECT results_eq($$SELECT action, object_type, object_id, outcome, reason
    FROM audit.event WHERE request_id = 'req-unreadable'$$,
    $$VALUES ('data.decrypt_failed'::text, 'case'::text, 'some-case'::text,
        'failed'::text, 'tampered'::text)$$,
    'one event data.decrypt_failed, outcome failed, the reason');

SELECT * FROM finish();
ROLLBACK;
