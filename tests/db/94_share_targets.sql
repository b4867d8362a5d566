-- 94_share_targets.sql - api.case_share_targets (GET
-- /v1/cases/{id}/share-targets, issue 12): the agencies with an active
-- investigator key or person, by name; exactly the set api.case_share
-- accepts (both read api.share_targets); 404 out of the caller's
-- regions, 403 for other roles, one audit event per call.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(12);
\ir fixtures.psql

INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label)
VALUES
	('b9400000-0000-4000-8000-000000000001', sha256('tok-admin'),
	    'a0000000-0000-4000-8000-000000000004', 'admin', NULL, NULL);

CREATE FUNCTION pg_temp.targets(p_token text, p_case uuid,
    p_request_id text DEFAULT 'req-st') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.case_share_targets('
	    'sha256(%L::bytea), %L, %L::inet, %L::uuid)', p_token,
	    p_request_id, '192.0.2.10', p_case))
$$;
CREATE FUNCTION pg_temp.share(p_case uuid, p_agency uuid) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.case_share(sha256(%L::bytea), '
	    '%L, %L::inet, %L::uuid, %L::uuid, true)', 'tok-coordinator',
	    'req-share', '192.0.2.10', p_case, p_agency))
$$;

-- Test Police and Sep Police Two: investigator keys.  KMar Unit: an
-- active investigator person only.  Old Police: a revoked investigator
-- key only.  Off Police: a disabled investigator person only.  Test
-- NGO: reporter keys only.
SELECT pg_temp.sep_investigators() \g /dev/null
INSERT INTO auth.agency (id, name, kind) VALUES
	('94000000-0000-4000-8000-000000000001', 'KMar Unit', 'kmar'),
	('94000000-0000-4000-8000-000000000002', 'Old Police', 'police'),
	('94000000-0000-4000-8000-000000000003', 'Off Police', 'police');
INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions,
    label, revoked_at)
VALUES ('94100000-0000-4000-8000-000000000001', sha256('tok-old-inv'),
    '94000000-0000-4000-8000-000000000002', 'investigator', NULL, NULL,
    now());
SELECT pg_temp.a(format('SELECT api.person_create(sha256(%L::bytea), '
    '%L, %L::inet, %L, %L, %L::uuid, %L, NULL, sha256(%L::bytea), '
    '3600)', 'tok-admin', 'req-pc', '192.0.2.10', x.login, x.login,
    x.agency, 'investigator', 'code-' || x.login))
FROM (VALUES ('inv.kmar', '94000000-0000-4000-8000-000000000001'),
    ('inv.off', '94000000-0000-4000-8000-000000000003')) x(login, agency)
\g /dev/null
UPDATE auth.person SET status = 'disabled', disabled_at = now()
WHERE login = 'inv.off';

SELECT pg_temp.named_case('K') \g /dev/null

SELECT is(pg_temp.item_field(pg_temp.targets('tok-coordinator',
    pg_temp.cid('K')), 'name'), ARRAY['KMar Unit', 'Sep Police Two',
    'Test Police'],
    'the agencies with an active investigator key or person, by name');
SELECT is(pg_temp.targets('tok-coordinator', pg_temp.cid('K'))->'body'
    ->'items'->0, jsonb_build_object('agency_id',
    '94000000-0000-4000-8000-000000000001', 'name', 'KMar Unit', 'kind',
    'kmar'), 'an item is the agency''s id, name and kind, nothing else');
SELECT is((SELECT array_agg(s ORDER BY s) FROM (
    SELECT pg_temp.share(pg_temp.cid('K'),
        (t.x->>'agency_id')::uuid)->>'status' s
    FROM jsonb_array_elements(pg_temp.targets('tok-coordinator',
        pg_temp.cid('K'))->'body'->'items') t(x)) q),
    ARRAY['200', '200', '200'], 'the share accepts every listed agency');
SELECT is((SELECT array_agg(s) FROM (
    SELECT pg_temp.share(pg_temp.cid('K'), a.id)->'problem'->>'field' s
    FROM auth.agency a
    WHERE a.id IN ('94000000-0000-4000-8000-000000000002',
        '94000000-0000-4000-8000-000000000003',
        'a0000000-0000-4000-8000-000000000002')) q),
    ARRAY['agency_id', 'agency_id', 'agency_id'],
    'and refuses the unlisted ones (422 agency_id)');
SELECT is(pg_temp.item_field(pg_temp.targets('tok-coordinator',
    pg_temp.cid('K')), 'name'), ARRAY['KMar Unit', 'Sep Police Two',
    'Test Police'], 'a case already shared lists them still');

SELECT pg_temp.targets('tok-coordinator-vr01', pg_temp.cid('K'),
    'req-st-out') \g /dev/null
SELECT is(pg_temp.targets('tok-coordinator-vr01', pg_temp.cid('K'))
    ->>'status', '404', 'a case outside the caller''s regions: 404');
SELECT is(pg_temp.events('req-st-out'), ARRAY['case.share_targets/case/'
    || pg_temp.cid('K') || '/investigation/denied/out_of_scope'],
    'out of scope: audited denied/out_of_scope');
SELECT is(pg_temp.targets('tok-coordinator-vr01', pg_temp.cid('K'))
    ->'body'->'items', NULL, 'a 404 lists nothing');
SELECT is(pg_temp.targets('tok-coordinator',
    'c0ffee00-0000-4000-8000-000000000000')->>'status', '404',
    'an unknown case: 404');
SELECT is(pg_temp.targets('tok-assessor', pg_temp.cid('K'))
    ->>'status', '403', 'an assessor: 403');
SELECT is(pg_temp.targets('tok-sep-investigator', pg_temp.cid('K'))
    ->>'status', '403', 'an investigator: 403');
SELECT pg_temp.targets('tok-coordinator', pg_temp.cid('K'),
    'req-st-one') \g /dev/null
SELECT is(pg_temp.events('req-st-one'), ARRAY['case.share_targets/case/'
    || pg_temp.cid('K') || '/investigation/allowed/-'],
    'audited case.share_targets, purpose investigation');

SELECT * FROM finish();
ROLLBACK;
