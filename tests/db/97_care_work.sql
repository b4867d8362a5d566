-- 97_care_work.sql - the care work of a case (issue 18, 0022): notes
-- are sealed, append-only for everybody and corrected by new notes; the
-- support plan follows the documented transition table, and a referral
-- is answered by its provider agency alone, which sees the referral and
-- nothing else of the case.
--
-- Reads docs/case-lifecycle.md relative to the working directory (the
-- repository root, where scripts/test-db.sh runs pg_prove).
\set ON_ERROR_STOP 1
\set QUIET 1
\set support_table `sed -n '/support-table:begin/,/support-table:end/p' docs/case-lifecycle.md`
BEGIN;
SELECT plan(43);
\ir fixtures.psql

-- A provider agency with a coordinator key of VR01 (the cases are
-- VR13's), and a note as nrmd sends it (the text sealed, a new key).
INSERT INTO auth.agency (id, name, kind) VALUES
	('a0000000-0000-4000-8000-000000000097', 'Test Shelter', 'ngo');
INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label)
VALUES ('b0000000-0000-4000-8000-000000000097', sha256('tok-shelter'),
    'a0000000-0000-4000-8000-000000000097', 'coordinator', '{VR01}', NULL);

CREATE FUNCTION pg_temp.note(p_token text, p_case uuid, p_text text,
    p_corrects uuid DEFAULT NULL, p_request_id text DEFAULT 'req-note')
RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_call('case_note_add', p_token, p_request_id,
	    '192.0.2.10', p_case::text, jsonb_build_object(
	        'id', gen_random_uuid(), 'text_ct', pg_temp.sealed_b64(p_text),
	        'corrects', p_corrects,
	        'data_key', jsonb_build_object('id', gen_random_uuid(),
	            'kek_id', '0123456789abcdef',
	            'wrapped', pg_temp.sealed_b64(repeat('k', 15))))::text)
$$;
CREATE FUNCTION pg_temp.support(p_token text, p_case uuid, p_body jsonb,
    p_request_id text DEFAULT 'req-support') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_call('support_post', p_token, p_request_id,
	    '192.0.2.10', p_case::text, p_body::text)
$$;
CREATE FUNCTION pg_temp.answer(p_token text, p_id text, p_answer text,
    p_reason text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_call('referral_answer', p_token, 'req-answer',
	    '192.0.2.10', p_id, p_answer, p_reason)
$$;

CREATE TEMP TABLE t (name text PRIMARY KEY, v jsonb);
GRANT ALL ON t TO PUBLIC;
CREATE TEMP TABLE c AS SELECT pg_temp.new_case() AS a,
    pg_temp.new_case() AS b, pg_temp.new_case() AS o;
GRANT SELECT ON c TO PUBLIC;
SELECT pg_temp.case_take('tok-coordinator', a),
    pg_temp.case_take('tok-coordinator', b) FROM c;

-- ---------------------------------------------------------------------
-- Notes
-- ---------------------------------------------------------------------
INSERT INTO t SELECT 'n1', pg_temp.note('tok-coordinator', a, 'eerste')
FROM c;
SELECT is((SELECT (v->>'status')::int FROM t WHERE name = 'n1'), 201,
    'the holder appends a note');
SELECT is((SELECT v->'body'->'sealed'->'fields'->0->>'aad' FROM t
    WHERE name = 'n1'), 'care.case_note/text/' || (SELECT v->'body'->>'id'
    FROM t WHERE name = 'n1'),
    'its text comes back sealed, bound to its row and column');
SELECT is((SELECT k.signal_id FROM care.case_note n
    JOIN care.data_key k ON k.id = n.data_key_id
    WHERE n.id = (SELECT (v->'body'->>'id')::uuid FROM t
        WHERE name = 'n1')),
    (SELECT signal_id FROM care.case WHERE id = (SELECT a FROM c)),
    'its data key belongs to the case''s signal (erasure)');
SELECT is((SELECT text_ct FROM care.case_note WHERE id = (SELECT
    (v->'body'->>'id')::uuid FROM t WHERE name = 'n1')),
    pg_temp.sealed_bytes('eerste'), 'the sealed text is stored as sent');
SELECT is((SELECT detail - 'note' FROM care.case_history
    WHERE case_id = (SELECT a FROM c) AND action = 'note'),
    '{"author_role": "holder"}'::jsonb,
    'a note history entry, naming no text');
SELECT is(pg_temp.events('req-note'),
    ARRAY['case.note.create/case/' || (SELECT a FROM c) ||
        '/care/allowed/-'], 'audited case.note.create');

INSERT INTO t SELECT 'n2', pg_temp.note('tok-coordinator', a, 'correctie',
    (SELECT (v->'body'->>'id')::uuid FROM t WHERE name = 'n1')) FROM c;
SELECT is((SELECT (v->>'status')::int FROM t WHERE name = 'n2'), 201,
    'a correction is a new note');
SELECT is((SELECT (pg_temp.note('tok-coordinator', a, 'nog eens',
    (SELECT (v->'body'->>'id')::uuid FROM t WHERE name = 'n1'))
    ->'problem'->>'field') FROM c), 'corrects',
    'a note is corrected once');
SELECT is((SELECT (pg_temp.note('tok-coordinator', b, 'ander',
    (SELECT (v->'body'->>'id')::uuid FROM t WHERE name = 'n1'))
    ->>'status')::int FROM c), 422,
    'a correction names a note of its own case');
SELECT is((SELECT (pg_temp.note('tok-coordinator-2', a, 'x')->>'status')
    ::int FROM c), 409, 'another coordinator of the region does not write');
SELECT is((SELECT (pg_temp.note('tok-coordinator-vr01', a, 'x')->>'status')
    ::int FROM c), 404, 'a coordinator of another region gets 404');
SELECT is((SELECT (pg_temp.note('tok-assessor', a, 'x')->>'status')::int
    FROM c), 403, 'an assessor gets 403');
SELECT is((SELECT (pg_temp.note('tok-coordinator', o, 'x')->>'status')
    ::int FROM c), 409, 'an open case has no holder to write');
SELECT is((pg_temp.api_call('case_note_add', 'tok-coordinator', 'req-n',
    '192.0.2.10', (SELECT a FROM c)::text, '{"text": ""}')
    ->'problem'->>'field'), 'text', 'a text nrmd refused names text');

-- The list: oldest first, the corrected one marked.
INSERT INTO t SELECT 'list', pg_temp.api_call('case_note_list',
    'tok-coordinator-2', 'req-notes', '192.0.2.10', a::text) FROM c;
SELECT is((SELECT jsonb_array_length(v->'body'->'items') FROM t
    WHERE name = 'list'), 2, 'every coordinator of the region reads them');
SELECT is((SELECT v->'body'->'items'->0->>'corrected_by' FROM t
    WHERE name = 'list'), (SELECT v->'body'->>'id' FROM t
    WHERE name = 'n2'), 'the old note shows its correction');
SELECT is(pg_temp.events('req-notes'),
    ARRAY['case.note.read/case/' || (SELECT a FROM c) ||
        '/care/allowed/-'], 'the read is audited with its purpose');

-- Append-only, for everybody (this test runs as the owner).  The data
-- keys' deferred checks first (TRUNCATE refuses pending trigger events).
SET CONSTRAINTS ALL IMMEDIATE;
SELECT is(pg_temp.violation('UPDATE care.case_note SET at = now()'),
    'case_note_append_only', 'no UPDATE, not even by the owner');
SELECT is(pg_temp.violation('DELETE FROM care.case_note'),
    'case_note_append_only', 'no DELETE');
SELECT is(pg_temp.violation('TRUNCATE care.case_note CASCADE'),
    'case_note_append_only', 'no TRUNCATE');
SELECT is(pg_temp.sqlstate_as('nrm_coordinator',
    'UPDATE care.case_note SET corrects = NULL'), '42501',
    'a coordinator has no UPDATE');
SELECT ok(NOT has_table_privilege('nrm_coordinator', 'care.case_note',
    'UPDATE, DELETE, TRUNCATE'), 'nor any grant to change a note');
SELECT is(pg_temp.violation(format('INSERT INTO care.case_note (id, '
    'case_id, author_key_id, author_role, data_key_id, text_ct) SELECT '
    'gen_random_uuid(), %L, ''b0000000-0000-4000-8000-000000000003'', '
    '''holder'', data_key_id, ''\x00''::bytea FROM care.case_note LIMIT 1',
    (SELECT a FROM c))), 'case_note_text_ct_check',
    'a note holds a sealed value only');

-- ---------------------------------------------------------------------
-- Support plan: the documented transition table
-- ---------------------------------------------------------------------
CREATE TEMP TABLE doc_support AS
SELECT cells[1] AS from_status, cells[2] AS to_status, cells[3] AS actor
FROM (SELECT ARRAY(SELECT btrim(x, ' `') FROM unnest(string_to_array(
    btrim(l, ' |'), '|')) x) AS cells
    FROM regexp_split_to_table(:'support_table', E'\n') l
    WHERE l LIKE '|%' AND l NOT LIKE '|---%' AND l NOT LIKE '| from%') r;
SELECT is((SELECT count(*)::int FROM doc_support), 6,
    'the documented support table has six changes');
SELECT set_eq($$SELECT from_status, to_status, actor FROM doc_support$$,
    $$SELECT from_status, to_status, actor FROM care.support_transition$$,
    'care.support_transition is exactly the documented table');

INSERT INTO t SELECT 'ref', pg_temp.support('tok-coordinator', a,
    '{"service": "shelter_placement", "provider_agency":
      "a0000000-0000-4000-8000-000000000097"}') FROM c;
SELECT is((SELECT (v->>'status')::int || '/' || (v->'body'->>'referral')
    FROM t WHERE name = 'ref'), '201/true',
    'an item for an agency with a coordinator key is a referral');
INSERT INTO t SELECT 'own', pg_temp.support('tok-coordinator', a,
    '{"service": "legal_aid", "provider_agency":
      "a0000000-0000-4000-8000-000000000002"}') FROM c;
SELECT is((SELECT v->'body'->>'referral' FROM t WHERE name = 'own'),
    'false', 'one for an agency without coordinators is not');
SELECT is((SELECT pg_temp.support('tok-coordinator', a, jsonb_build_object(
    'item', (SELECT v->'body'->>'id' FROM t WHERE name = 'ref'),
    'status', 'accepted'))->'problem'->>'current' FROM c), 'requested',
    'the holder does not answer a referral (409, current status)');
SELECT is((SELECT (pg_temp.support('tok-coordinator', a, jsonb_build_object(
    'item', (SELECT v->'body'->>'id' FROM t WHERE name = 'own'),
    'status', 'accepted'))->>'status')::int FROM c), 200,
    'but answers for a provider without people in nrm');
SELECT is((SELECT pg_temp.support('tok-coordinator', a,
    '{"service": "spa"}')->'problem'->>'field' FROM c), 'service',
    'an unknown service names service');
SELECT is((SELECT (pg_temp.support('tok-coordinator-2', a,
    '{"service": "other"}')->>'status')::int FROM c), 409,
    'only the holder keeps the plan');

-- The provider: its referral, nothing else.
SELECT is((SELECT jsonb_array_length(pg_temp.api_call('referral_list',
    'tok-shelter', 'req-refs', '192.0.2.10', 'all')->'body'->'items')), 1,
    'the provider lists its referral');
SELECT is((SELECT pg_temp.api_call('referral_list', 'tok-shelter',
    'req-refs2', '192.0.2.10', 'requested')->'body'->'items'->0->'referred_by'),
    '{"agency": "Test Care", "region": "VR13"}'::jsonb,
    'with who referred it from where');
SELECT ok((SELECT NOT (pg_temp.api_call('referral_list', 'tok-shelter',
    'req-refs3', '192.0.2.10', NULL)::text LIKE '%' || a::text || '%') FROM c),
    'and not the case id');
SELECT is((SELECT (pg_temp.api_call('support_list', 'tok-shelter',
    'req-plan', '192.0.2.10', a::text)->>'status')::int FROM c), 404,
    'the provider does not read the plan');
SELECT is((SELECT (pg_temp.api_call('case_note_list', 'tok-shelter',
    'req-pn', '192.0.2.10', a::text)->>'status')::int FROM c), 404,
    'nor the notes');
SELECT is((pg_temp.answer('tok-coordinator-2', (SELECT v->'body'->>'id'
    FROM t WHERE name = 'ref'), 'accept')->>'status')::int, 404,
    'another agency''s coordinator does not answer it');
SELECT is((pg_temp.answer('tok-shelter', (SELECT v->'body'->>'id'
    FROM t WHERE name = 'ref'), 'refuse')->'problem'->>'field'), 'reason',
    'a refusal needs its reason');
SELECT is((pg_temp.answer('tok-shelter', (SELECT v->'body'->>'id'
    FROM t WHERE name = 'ref'), 'refuse', 'no_capacity')->'body'->>
    'status'), 'refused', 'the provider refuses with a reason code');
SELECT is((pg_temp.answer('tok-shelter', (SELECT v->'body'->>'id'
    FROM t WHERE name = 'ref'), 'accept')->'problem'->>'current'),
    'refused', 'a second answer is a 409 with the current status');
SELECT is((SELECT api_key_id FROM care.case_history
    WHERE case_id = (SELECT a FROM c) AND action = 'support'
      AND detail->>'status' = 'refused'),
    'b0000000-0000-4000-8000-000000000097'::uuid,
    'the answer is in the case history, by the provider''s key');
SELECT is((SELECT count(*)::int FROM care.case_history
    WHERE case_id = (SELECT a FROM c) AND action = 'support'), 4,
    'every change of the plan is in the history');

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
