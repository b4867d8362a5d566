-- 59_reference.sql - readable references (issue 18, 0021): every signal
-- has one (receipt, item), their form and check character, the search
-- GET /v1/cases?reference= by the roles that may see the case.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(23);
\ir fixtures.psql

CREATE FUNCTION pg_temp.find(p_token text, p_ref text) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_app', format('SELECT api.case_find('
	    'sha256(%L::bytea), %L, %L::inet, %L)', p_token, 'req-find',
	    '192.0.2.10', p_ref))
$$;

SELECT pg_temp.named_case('A') IS NOT NULL AS a \gset
SELECT pg_temp.named_case('V1', '{"region": "VR01"}') IS NOT NULL AS v \gset
SELECT s.reference AS ref_a FROM intake.signal s
    JOIN care.case c ON c.signal_id = s.id WHERE c.id = pg_temp.cid('A') \gset
SELECT s.reference AS ref_v FROM intake.signal s
    JOIN care.case c ON c.signal_id = s.id WHERE c.id = pg_temp.cid('V1') \gset

-- The form.
SELECT ok(:'ref_a' ~ '^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]$',
    'XXXX-XXXX-C of the unambiguous alphabet');
SELECT is(care.reference_normal(:'ref_a'), :'ref_a', 'its check character fits');
SELECT is(care.reference_normal(lower(replace(:'ref_a', '-', ' '))), :'ref_a',
    'typed in lower case with spaces: the same');
SELECT is(care.reference_check('2345678'), care.reference_check('2345678'),
    'the check character is a function of the body');
SELECT is(count(*)::int, 0, 'every single-character error is caught')
FROM generate_series(1, 8) p,
    regexp_split_to_table('23456789ABCDEFGHJKMNPQRSTUVWXYZ', '') ch
WHERE ch <> substr('K7QM4TXR', p, 1)
  AND care.reference_check(overlay('K7QM4TXR' placing ch from p for 1))
      = care.reference_check('K7QM4TXR');
SELECT is(count(*)::int, 0, 'every swap of two different neighbours is caught')
FROM generate_series(1, 7) p
WHERE substr('K7QM4TXR', p, 1) <> substr('K7QM4TXR', p + 1, 1)
  AND care.reference_check(overlay('K7QM4TXR' placing substr('K7QM4TXR',
      p + 1, 1) || substr('K7QM4TXR', p, 1) from p for 2))
      = care.reference_check('K7QM4TXR');
SELECT is(care.reference_normal('K7QM-4TXR-0'), NULL,
    'a character outside the alphabet: no reference');
SELECT is(pg_temp.probe(format($$UPDATE intake.signal SET reference = %L
    WHERE reference = %L$$, :'ref_v', :'ref_a')), 'signal_reference_key',
    'two signals never share one');
SELECT is(pg_temp.probe(format($$UPDATE intake.signal SET reference =
    'AAAA-BBBB-1' WHERE reference = %L$$, :'ref_a')), 'signal_reference_check',
    'the form is a constraint');
SELECT is((SELECT count(DISTINCT care.new_reference())::int
    FROM generate_series(1, 2000)), 2000,
    'random: 2000 drawn, no two alike');

-- The receipt and the item carry it; an anonymous notification's too.
INSERT INTO r SELECT 'n', pg_temp.intake_as('nrm_app', 'tok-reporter',
    'req-notification-ref', NULL, 'n', pg_temp.facts_notification(), NULL,
    pg_temp.route());
SELECT ok((SELECT care.reference_normal(v->'body'->>'reference') IS NOT NULL
    AND (v->'body'->>'case_id') IS NULL FROM r WHERE name = 'n'),
    'a notification''s receipt carries its reference');
SELECT is((SELECT item->>'reference' FROM care.case_item
    WHERE id = pg_temp.cid('A')), :'ref_a', 'the inbox item carries it');

-- The search.
SELECT is(pg_temp.find('tok-coordinator', lower(:'ref_a'))->'body'->'items'
    ->0->>'case_id', pg_temp.cid('A')::text,
    'a coordinator of the region finds the case, typed as heard');
SELECT is((SELECT object_id || '/' || outcome FROM audit.event
    WHERE action = 'case.find' ORDER BY id DESC LIMIT 1),
    pg_temp.cid('A') || '/allowed', 'audited case.find with the case');
SELECT is(pg_temp.find('tok-assessor', :'ref_v')->'body'->'items'->0
    ->>'case_id', pg_temp.cid('V1')::text, 'an assessor finds any case');
SELECT is(pg_temp.find('tok-coordinator', :'ref_v')->>'status', '404',
    'another region''s case: 404');
SELECT is((SELECT object_id || '/' || outcome || '/' || reason
    FROM audit.event WHERE action = 'case.find' ORDER BY id DESC LIMIT 1),
    pg_temp.cid('V1') || '/denied/out_of_scope', 'audited out_of_scope');
SELECT is(pg_temp.find('tok-coordinator', 'K7QM-4TXR-'
    || care.reference_check('K7QM4TXR'))->>'status', '404',
    'a well-formed reference nobody has: 404');
SELECT is((SELECT reason FROM audit.event WHERE action = 'case.find'
    ORDER BY id DESC LIMIT 1), 'not_found', 'audited not_found');
SELECT is(pg_temp.find('tok-coordinator', overlay(:'ref_a' placing
    CASE WHEN substr(:'ref_a', 1, 1) = 'K' THEN 'M' ELSE 'K' END
    from 1 for 1))->'problem'->>'field', 'reference',
    'a misheard character: 400 naming reference');
SELECT is(pg_temp.find('tok-reporter', :'ref_a')->>'status', '403',
    'a reporter does not search cases: 403');
SELECT is(pg_temp.find('tok-coordinator', 'x')->'problem'->>'field',
    'reference', 'not a reference: 400');

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
