-- 10_reference_data.sql - ref.* agrees with config/municipalities.csv.
--
-- scripts/test-db.sh loads the CSV into public.csv_municipality before
-- pg_prove runs, so this compares the migrated rows with the file itself.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(11);

SELECT is((SELECT count(*)::int FROM ref.municipality), 342,
    '342 municipalities');
SELECT is((SELECT count(*)::int FROM ref.region), 26,
    '26 regions: 25 safety regions and the national desk');
SELECT is((SELECT region_code FROM ref.municipality WHERE code = 'GM0363'),
    'VR13', 'GM0363 (Amsterdam) lies in VR13');
SELECT is((SELECT name FROM ref.region WHERE code = 'VR13'),
    'Amsterdam-Amstelland', 'VR13 is Amsterdam-Amstelland');
SELECT results_eq(
    $$SELECT code FROM ref.region WHERE code LIKE 'VR%' ORDER BY code$$,
    $$SELECT 'VR' || lpad(n::text, 2, '0') FROM generate_series(1, 25) n$$,
    'the safety regions are exactly VR01..VR25');
SELECT ok(EXISTS (SELECT 1 FROM ref.region WHERE code = 'NATIONAL'),
    'the national desk region NATIONAL exists');
SELECT is_empty($$SELECT 1 FROM ref.municipality
    WHERE region_code = 'NATIONAL'$$,
    'the national desk has no municipalities');
SELECT is_empty($$SELECT code FROM ref.region r WHERE code <> 'NATIONAL'
    AND NOT EXISTS (SELECT 1 FROM ref.municipality m
        WHERE m.region_code = r.code)$$,
    'every safety region has municipalities');
SELECT set_eq(
    $$SELECT code, name, region_code FROM ref.municipality$$,
    $$SELECT code, name, region_code FROM public.csv_municipality$$,
    'ref.municipality equals config/municipalities.csv');
SELECT set_eq(
    $$SELECT code, name FROM ref.region WHERE code <> 'NATIONAL'$$,
    $$SELECT DISTINCT region_code, region_name
      FROM public.csv_municipality$$,
    'ref.region equals the regions of config/municipalities.csv');
SELECT is((SELECT name FROM ref.municipality WHERE code = 'GM0820'),
    'Nuenen, Gerwen en Nederwetten',
    'a quoted CSV name with a comma survives');

SELECT * FROM finish();
ROLLBACK;
