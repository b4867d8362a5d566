-- 96_publications.sql - publications of the indicators register (issue
-- 13; sql/api/78_publications.sql, 0016): the revision rule (unchanged
-- numbers answer the latest, changed ones make revision n + 1 with the
-- changed cells named), the content checked against a fresh computation,
-- immutability, an open period refused, the analyst reading no row, and
-- the audit events.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(19);
\ir fixtures.psql

INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label)
VALUES ('b0000000-0000-4000-8000-0000000000a1', sha256('tok-pub-analyst'),
    'a0000000-0000-4000-8000-000000000003', 'analyst', NULL, NULL);
UPDATE stats.config SET statistics_min_cell = 2;

CREATE TEMP TABLE reg (r jsonb);
INSERT INTO reg VALUES ('[{"id": "sig", "measure": "signals",
    "by": ["region"]}, {"id": "all", "measure": "signals", "by": []}]');
CREATE TEMP TABLE pub (name text, body jsonb);

CREATE FUNCTION pg_temp.publish() RETURNS jsonb
LANGUAGE sql AS $$
	SELECT stats.publication_insert('2025-Q3', r,
	    stats.publication_draft('2025-Q3', r)->'content',
	    repeat('ab', 32), repeat('A', 86) || '==',
	    'b0000000-0000-4000-8000-0000000000a1')
	FROM reg
$$;
CREATE FUNCTION pg_temp.signal(p_at timestamptz, p_region text)
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO intake.signal (received_at, observed_at, agency_id,
	    api_key_id, region_code, rule_id, ruleset_version, minor,
	    exploitation, immediate_danger, needs_shelter, consent,
	    notification_only)
	VALUES (p_at, p_at, 'a0000000-0000-4000-8000-000000000001',
	    'b0000000-0000-4000-8000-000000000001', p_region, 'r', 'v1', false,
	    '{labour}', false, false, 'given', false)
$$;

-- Revision 1: two signals in VR13.
SELECT pg_temp.signal('2025-08-01T10:00Z', 'VR13');
SELECT pg_temp.signal('2025-08-02T10:00Z', 'VR13');
SELECT pg_temp.signal('2025-08-03T10:00Z', 'VR17');
SELECT pg_temp.signal('2025-08-04T10:00Z', 'VR17');
INSERT INTO pub SELECT 'r1', pg_temp.publish();
SELECT is((SELECT body->>'status' FROM pub WHERE name = 'r1'), '201',
    'the first publication of a period is 201');
SELECT is((SELECT body->'body'->>'revision' FROM pub WHERE name = 'r1'),
    '1', '... revision 1');
SELECT is((SELECT body->'body'->'content'->'indicators'->1->'values'
    ->'cells'->0->>'value' FROM pub WHERE name = 'r1'), '4',
    '... holding every entry with its values (all signals: 4)');
SELECT ok((SELECT body->'body'->>'changes' IS NULL
    AND body->'body'->>'previous_id' IS NULL FROM pub WHERE name = 'r1'),
    '... with no previous revision and no changes');

-- Unchanged numbers: the same publication, 200.
INSERT INTO pub SELECT 'same', pg_temp.publish();
SELECT is((SELECT body->>'status' FROM pub WHERE name = 'same'), '200',
    'publishing unchanged numbers again is 200');
SELECT is((SELECT body->'body'->>'id' FROM pub WHERE name = 'same'),
    (SELECT body->'body'->>'id' FROM pub WHERE name = 'r1'),
    '... answering the existing publication');
SELECT is((SELECT count(*)::int FROM stats.publication), 1,
    '... and no new row');

-- A content that is not what the database computes: 409.
SELECT pg_temp.signal('2025-08-05T10:00Z', 'VR13');
SELECT is((SELECT stats.publication_insert('2025-Q3', r,
    jsonb_set(stats.publication_draft('2025-Q3', r)->'content',
        '{indicators,1,values,cells,0,value}', '99'),
    repeat('ab', 32), repeat('A', 86) || '==',
    'b0000000-0000-4000-8000-0000000000a1') FROM reg)->>'status', '409',
    'a content other than a fresh computation is refused (409)');

-- Changed numbers (one more VR13 signal): revision 2 naming the cells.
INSERT INTO pub SELECT 'r2', pg_temp.publish();
SELECT is((SELECT body->>'status' FROM pub WHERE name = 'r2'), '201',
    'changed numbers make a new revision (201)');
SELECT is((SELECT body->'body'->>'revision' FROM pub WHERE name = 'r2'),
    '2', '... revision 2');
SELECT is((SELECT body->'body'->>'previous_id' FROM pub WHERE name = 'r2'),
    (SELECT body->'body'->>'id' FROM pub WHERE name = 'r1'),
    '... pointing at revision 1');
SELECT is((SELECT body->'body'->>'changes' FROM pub WHERE name = 'r2'),
    E'all: 4 -> 5\nsig (region=VR13): 2 -> 3',
    '... whose changes name each changed cell, old -> new');
SELECT is(jsonb_array_length(stats.publication_fetch(
    (SELECT (body->'body'->>'id')::uuid FROM pub WHERE name = 'r1'),
    true)->'differences'), 2,
    'revision 1 compared with a fresh computation: two cells differ');
SELECT is(stats.publication_fetch(
    (SELECT (body->'body'->>'id')::uuid FROM pub WHERE name = 'r2'),
    true)->'differences', '[]',
    'revision 2 compared with a fresh computation: none');

-- Immutable.
SELECT throws_ok($$UPDATE stats.publication SET changes = 'x'$$, '42501',
    NULL, 'UPDATE of a publication is refused, even for the owner');
SELECT throws_ok($$DELETE FROM stats.publication$$, '42501', NULL,
    'DELETE of a publication is refused');
SELECT throws_ok($$TRUNCATE stats.publication$$, '42501', NULL,
    'TRUNCATE of the publications is refused');

-- The entry point: an open period is 409 naming period, audited.
SELECT is(api.publication_prepare(sha256('tok-pub-analyst'), 'req-pub-1',
    NULL, to_char(now() AT TIME ZONE 'Europe/Amsterdam', 'YYYY'),
    (SELECT r FROM reg)),
    '{"status": 409, "problem": {"code": "conflict", "field": "period",
      "detail": "the period has not closed: its numbers are provisional"}}',
    'publishing the current (provisional) year is 409 naming period');
SELECT is(ARRAY(SELECT action || ' ' || object_type || ' ' || object_id
        || ' ' || outcome || ' ' || reason FROM audit.event
    WHERE request_id = 'req-pub-1'),
    ARRAY['publication.create publication '
        || to_char(now() AT TIME ZONE 'Europe/Amsterdam', 'YYYY')
        || ' failed period_open'],
    '... audited publication.create failed period_open');

SELECT * FROM finish();
ROLLBACK;
