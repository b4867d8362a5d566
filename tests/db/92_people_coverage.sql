-- 92_people_coverage.sql - persons count where coordinators and
-- investigators are counted (issue 11, docs/people.md "The person's own
-- key"): "declined by every coordinator of the region" counts the
-- active coordinator persons of the region beside its active keys (a
-- person declines through its own revoked key), a disabled person does
-- not count, and a share needs an agency with an active investigator
-- key or person.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(16);
\ir fixtures.psql

-- VR09: one coordinator key and two coordinator persons, each with a
-- session (a person's key is revoked, its token hash unknown).
INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions,
    revoked_at)
VALUES
	('b9200000-0000-4000-8000-000000000001', sha256('tok-c09'),
	    'a0000000-0000-4000-8000-000000000003', 'coordinator', '{VR09}',
	    NULL),
	('b9200000-0000-4000-8000-000000000002', sha256('unknown-pa'),
	    'a0000000-0000-4000-8000-000000000003', 'coordinator', '{VR09}',
	    now()),
	('b9200000-0000-4000-8000-000000000003', sha256('unknown-pb'),
	    'a0000000-0000-4000-8000-000000000003', 'coordinator',
	    '{VR01,VR09}', now()),
	('b9200000-0000-4000-8000-000000000004', sha256('unknown-pi'),
	    'a0000000-0000-4000-8000-000000000002', 'investigator', NULL,
	    now());
INSERT INTO auth.person (id, login, display_name, agency_id, role, regions,
    key_id)
VALUES
	('c9200000-0000-4000-8000-000000000001', 'coord.pa', 'PA',
	    'a0000000-0000-4000-8000-000000000003', 'coordinator', '{VR09}',
	    'b9200000-0000-4000-8000-000000000002'),
	('c9200000-0000-4000-8000-000000000002', 'coord.pb', 'PB',
	    'a0000000-0000-4000-8000-000000000003', 'coordinator',
	    '{VR01,VR09}', 'b9200000-0000-4000-8000-000000000003'),
	('c9200000-0000-4000-8000-000000000003', 'invest.pi', 'PI',
	    'a0000000-0000-4000-8000-000000000002', 'investigator', NULL,
	    'b9200000-0000-4000-8000-000000000004');
INSERT INTO auth.session (token_hash, person_id, idle_seconds, expires_at)
SELECT sha256(convert_to('sess-' || l, 'UTF8')), p.id, 3600,
    now() + interval '1 hour'
FROM auth.person p, unnest(ARRAY['pa', 'pb']) l
WHERE p.login = 'coord.' || l;

CREATE FUNCTION pg_temp.region_after(p_token text, p_case text)
RETURNS text
LANGUAGE sql AS $$
	SELECT pg_temp.case_decline(p_token, pg_temp.cid(p_case),
	    'no_capacity', NULL, 10)->'body'->>'region'
$$;
CREATE FUNCTION pg_temp.to_national(p_case text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT count(*) FROM care.case_history
	WHERE case_id = pg_temp.cid(p_case) AND action = 'declined'
	  AND detail->>'to_region' = 'NATIONAL'
$$;

SELECT pg_temp.named_case('K', '{"region": "VR09"}') \g /dev/null
SELECT is(pg_temp.region_after('tok-c09', 'K'), 'VR09',
    'the only key declines, two persons remain: not escalated');
SELECT is(pg_temp.region_after('sess-pa', 'K'), 'VR09',
    'one person declines, one remains: not escalated');
SELECT is((SELECT api_key_id FROM care.case_history
    WHERE case_id = pg_temp.cid('K') ORDER BY id DESC LIMIT 1),
    'b9200000-0000-4000-8000-000000000002'::uuid,
    'a person''s decline is recorded with its person''s key');
SELECT is((SELECT person_id FROM audit.event
    WHERE action = 'case.decline' ORDER BY id DESC LIMIT 1),
    'c9200000-0000-4000-8000-000000000001'::uuid,
    'and audited with the person');
SELECT is(pg_temp.region_after('sess-pb', 'K'), 'NATIONAL',
    'the last person declines: to NATIONAL');
SELECT is((SELECT detail->>'why' FROM care.case_history
    WHERE case_id = pg_temp.cid('K') ORDER BY id DESC LIMIT 1),
    'declined_by_every_coordinator', 'the history says why');
SELECT is(pg_temp.to_national('K'), 1::bigint, 'escalated exactly once');
SELECT is((SELECT count(*) FROM care.case_history
    WHERE case_id = pg_temp.cid('K') AND action = 'declined'), 3::bigint,
    'three declines in the history');

-- A disabled person does not count; a person of another region neither.
UPDATE auth.person SET status = 'disabled', disabled_at = now()
WHERE login = 'coord.pb';
SELECT pg_temp.named_case('K2', '{"region": "VR09"}') \g /dev/null
SELECT is(pg_temp.region_after('tok-c09', 'K2'), 'VR09',
    'K2: the key declines, an active person remains');
SELECT is(pg_temp.region_after('sess-pa', 'K2'), 'NATIONAL',
    'K2: the active person declines, the disabled one is not waited for');
SELECT is(pg_temp.to_national('K2'), 1::bigint, 'K2: escalated once');
UPDATE auth.person SET status = 'active', disabled_at = NULL
WHERE login = 'coord.pb';
-- VR01 has two keys (...06, ...09) and now the person pb.
SELECT pg_temp.named_case('K3', '{"region": "VR01"}') \g /dev/null
SELECT is(pg_temp.region_after('tok-coordinator-vr01', 'K3')
    || '/' || pg_temp.region_after('tok-coordinator-multi', 'K3'),
    'VR01/VR01', 'K3: both VR01 keys decline, the VR01 person remains');
SELECT is(pg_temp.region_after('sess-pb', 'K3'), 'NATIONAL',
    'K3: then the person declines: to NATIONAL');

-- A share: Test NGO (a...02) has no investigator key, only the person pi.
CREATE FUNCTION pg_temp.share(p_case text) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_as('nrm_app', format('SELECT api.case_share('
	    'sha256(%L::bytea), %L, %L::inet, %L::uuid, %L::uuid, true)',
	    'tok-c09', 'req-share', '192.0.2.10', pg_temp.cid(p_case),
	    'a0000000-0000-4000-8000-000000000002'))
$$;
SELECT pg_temp.named_case('S', '{"region": "VR09"}') \g /dev/null
SELECT pg_temp.named_case('S2', '{"region": "VR09"}') \g /dev/null
SELECT is(pg_temp.share('S')->>'status', '200',
    'share with an agency whose only investigator is a person: 200');
UPDATE auth.person SET status = 'disabled', disabled_at = now()
WHERE login = 'invest.pi';
SELECT is(pg_temp.share('S2')->>'status', '422',
    'its investigator person disabled: 422');
SELECT is(pg_temp.share('S2')->'problem'->>'field', 'agency_id',
    'naming agency_id');

SELECT * FROM finish();
ROLLBACK;
