-- 58_case_item_stored.sql - the inbox item written with its case (0030):
-- care.case.item is the item of the row, its signal and its holder's
-- agency (tests/db/case_item_ref.psql) after an intake, a take and any
-- write, whatever the writer put in it; it follows a change of the
-- signal's facts, of the holder key's agency and of that agency's name
-- without moving the case in its inbox; the view care.case_item and the
-- inbox page read it, and the view shows each reader the rows it showed.
-- (Every pgTAP file that writes cases ends with the same check.)
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(21);
\ir fixtures.psql

SELECT pg_temp.new_case() AS c1 \gset
SELECT pg_temp.new_case('{"priority": "urgent"}') AS c2 \gset

SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'after intake: each stored item is its definition');
SELECT is((SELECT pg_typeof(item)::text FROM care.case WHERE id = :'c1'),
    'json', 'the item is stored as json (written into pages as text)');
SELECT is((SELECT item->>'state' FROM care.case WHERE id = :'c1'), 'open',
    'a new case''s item says open');
SELECT is((SELECT item::jsonb FROM care.case_item WHERE id = :'c1'),
    (SELECT item::jsonb FROM care.case WHERE id = :'c1'),
    'the view care.case_item reads the stored item');
SELECT col_not_null('care', 'case', 'item', 'every case has its item');

-- a take: holder, holder_agency, state and version follow
SELECT pg_temp.case_take('tok-coordinator', :'c1') IS NOT NULL AS taken \gset
SELECT is((SELECT item->>'holder_agency' FROM care.case WHERE id = :'c1'),
    'Test Care', 'after a take the item names the holder''s agency');
SELECT is((SELECT (item->>'version')::integer FROM care.case
    WHERE id = :'c1'), (SELECT version FROM care.case WHERE id = :'c1'),
    'and carries the new version');
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'after a take: each stored item is its definition');

-- whatever a writer puts in the column is replaced
UPDATE care.case SET item = '{"forged": true}' WHERE id = :'c2';
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'a value the writer supplies is replaced by the item');
SELECT ok((SELECT item::jsonb ? 'case_id' FROM care.case WHERE id = :'c2'),
    'the forged item is gone');

-- what the item reads elsewhere: the holder agency's name, ...
SELECT inbox_seq AS seq1 FROM care.case WHERE id = :'c1' \gset
UPDATE auth.agency SET name = 'Test Care Renamed'
WHERE id = 'a0000000-0000-4000-8000-000000000003';
SELECT is((SELECT item->>'holder_agency' FROM care.case WHERE id = :'c1'),
    'Test Care Renamed', 'a renamed agency is renamed in its cases'' items');
SELECT is((SELECT inbox_seq FROM care.case WHERE id = :'c1'), :'seq1'::bigint,
    'and the case stays where it was in its inbox');
-- ... the holder key's agency ...
UPDATE auth.api_key SET agency_id = 'a0000000-0000-4000-8000-000000000002'
WHERE id = 'b0000000-0000-4000-8000-000000000003';
SELECT is((SELECT item->>'holder_agency' FROM care.case WHERE id = :'c1'),
    'Test NGO', 'a key moved to another agency: its cases'' items follow');
UPDATE auth.api_key SET agency_id = 'a0000000-0000-4000-8000-000000000003'
WHERE id = 'b0000000-0000-4000-8000-000000000003';
-- ... and the signal's facts
UPDATE intake.signal SET needs_shelter = NOT needs_shelter,
    exploitation = '{criminal,labour}'
WHERE id = (SELECT signal_id FROM care.case WHERE id = :'c2');
SELECT is((SELECT item->'exploitation' FROM care.case WHERE id = :'c2')::text,
    '["criminal","labour"]', 'a signal''s facts: its case''s item follows');
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'after the agency, key and signal changes: each item is its definition');

-- the view shows each reader the rows it showed before 0030, when it
-- joined the signal: a coordinator sees its region's cases, the same
-- through the view and the table
SELECT set_config('nrm.regions', 'VR13', true) IS NOT NULL AS scoped \gset
SELECT ok(jsonb_array_length(pg_temp.api_as('nrm_coordinator',
        $$SELECT to_jsonb(ARRAY(SELECT id FROM care.case_item))$$)) >= 2,
    'a coordinator of VR13 sees its region''s cases through the view');
SELECT is(pg_temp.api_as(r, $$SELECT to_jsonb(ARRAY(
        SELECT id FROM care.case_item ORDER BY id))$$),
    pg_temp.api_as(r, $$SELECT to_jsonb(ARRAY(
        SELECT c.id FROM care.case c JOIN intake.signal s
        ON s.id = c.signal_id ORDER BY c.id))$$),
    r || ' sees through the view the cases it saw with the join')
FROM unnest(ARRAY['nrm_coordinator', 'nrm_assessor']) r;

-- the inbox page is the stored items, in the inbox's order
SELECT pg_temp.inbox('tok-coordinator', 'all') AS page \gset
SELECT is((SELECT jsonb_agg(e ORDER BY n) FROM jsonb_array_elements(
        (:'page'::jsonb)->'body'->'items') WITH ORDINALITY AS x(e, n)),
    (SELECT jsonb_agg(c.item::jsonb ORDER BY CASE c.priority
        WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, c.take_by,
        c.inbox_seq) FROM care.case c WHERE c.region_code = 'VR13'),
    'the inbox page is the stored items of the region''s cases, in order');
SELECT is(jsonb_array_length((:'page'::jsonb)->'body'->'items'),
    (SELECT count(*)::integer FROM care.case WHERE region_code = 'VR13'),
    'all of them');

-- the trigger functions: owned, pinned, not callable
SELECT ok(NOT has_function_privilege('nrm_app',
    'care.case_item_fill()', 'EXECUTE'),
    'nobody calls the item''s trigger function');

SELECT * FROM finish();
ROLLBACK;
