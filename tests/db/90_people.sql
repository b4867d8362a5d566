-- 90_people.sql - personal accounts (0009, sql/api/60_people.sql and
-- 65_sessions.sql): person administration with its role checks,
-- enrolment that works once, login with every refusal counted and
-- audited, the lock and its expiry per login and per address, sessions
-- usable by the existing entry points and their idle and absolute
-- expiry, logout, disable and reset ending sessions, the handover, the
-- person in audit events and search, no secret in any audit row, and
-- nrm_app kept off the secret tables.  The race of two enrolments is in
-- 91_people_concurrency.sql.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(137);
\ir fixtures.psql

-- An admin key (the auditor key tok-auditor is the fixtures').
INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label)
VALUES
	('b9000000-0000-4000-8000-000000000001', sha256('tok-admin'),
	    'a0000000-0000-4000-8000-000000000004', 'admin', NULL, NULL);

-- api.person_create as the admin key (or p_token).
CREATE FUNCTION pg_temp.create(p_login text, p_role text,
    p_regions text[] DEFAULT NULL,
    p_agency uuid DEFAULT 'a0000000-0000-4000-8000-000000000003',
    p_token text DEFAULT 'tok-admin') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.person_create(sha256(%L::bytea), '
	    '%L, %L::inet, %L, %L, %L::uuid, %L, %L::text[], '
	    'sha256(%L::bytea), 3600)', p_token, 'req-pc-' || p_login,
	    '192.0.2.10', p_login, 'Name of ' || p_login, p_agency, p_role,
	    p_regions, 'code-' || p_login))
$$;
-- Recovery code n of a login as shown (four groups of four of
-- Crockford's base32, derived from the login) and normalised.
CREATE FUNCTION pg_temp.rc_norm(p_n integer, p_login text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT substr(encode(sha256(convert_to(p_n || p_login, 'UTF8')),
	    'hex'), 1, 16)
$$;
CREATE FUNCTION pg_temp.rc(p_n integer, p_login text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT upper(substr(c, 1, 4) || '-' || substr(c, 5, 4) || '-'
	    || substr(c, 9, 4) || ' ' || substr(c, 13, 4))
	FROM pg_temp.rc_norm(p_n, p_login) c
$$;
-- api.enrol with code "code-<p_code>" and fixed credentials: salt 16
-- bytes 0x05, the password's Argon2id tag SHA-256('tag'), TOTP secret
-- 20 bytes 0x01.., two recovery codes (pg_temp.rc(1|2, login)).
CREATE FUNCTION pg_temp.enrol(p_code text, p_secret bytea DEFAULT
    '\x0101010101010101010101010101010101010101') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.enrol(%L, %L::inet, '
	    'sha256(%L::bytea), %L::bytea, %L, sha256(''tag''), %L::bytea, '
	    'ARRAY[%L::bytea, %L::bytea])', 'req-enrol', '192.0.2.10',
	    'code-' || p_code, '\x05050505050505050505050505050505',
	    '{19456,2,1}', p_secret, sha256(convert_to(pg_temp.rc_norm(1,
	        p_code), 'UTF8')), sha256(convert_to(pg_temp.rc_norm(2,
	        p_code), 'UTF8'))))
$$;
-- The TOTP step of the database's clock in this transaction.
CREATE FUNCTION pg_temp.step() RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT floor(extract(epoch FROM now()) / 30)::bigint
$$;
-- The 6-digit TOTP code of a login's secret at step now + p_d (as an
-- authenticator app shows it; an unknown login: of a secret of 0x09s).
CREATE FUNCTION pg_temp.code(p_login text, p_d integer) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT lpad(auth.hotp(coalesce((SELECT c.totp_secret
	    FROM auth.person_credential c JOIN auth.person p
	        ON p.id = c.person_id WHERE p.login = p_login),
	    '\x0909090909090909090909090909090909090909'),
	    pg_temp.step() + p_d, 6)::text, 6, '0')
$$;
-- Time passes: the login's last TOTP step is a minute back, so that the
-- code of this half minute is fresh for one more login.
CREATE FUNCTION pg_temp.later(p_login text) RETURNS void
LANGUAGE sql AS $$
	UPDATE auth.person_credential c
	SET totp_last_step = least(c.totp_last_step, pg_temp.step() - 2)
	FROM auth.person p WHERE p.id = c.person_id AND p.login = p_login
$$;
CREATE FUNCTION pg_temp.pid(p_login text) RETURNS uuid
LANGUAGE sql STABLE AS $$
	SELECT id FROM auth.person WHERE login = p_login
$$;
-- api.login_finish as nrmd calls it: the password's tag (the right one
-- when p_password_ok), the TOTP code of step now + p_step (NULL: none)
-- or recovery code p_recovery as typed, session token "p_token"
-- (hashed), lock after p_lock failures in 900 s, for 900 s.
CREATE FUNCTION pg_temp.login(p_login text, p_token text,
    p_step integer DEFAULT NULL, p_recovery text DEFAULT NULL,
    p_password_ok boolean DEFAULT true,
    p_client text DEFAULT '192.0.2.10', p_lock integer DEFAULT 100)
RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.login_finish(%L, %L::inet, %L, '
	    'sha256(%L), %L, %L, sha256(%L::bytea), 900, 36000, %s, 900, 900, '
	    'NULL, NULL, NULL)', 'req-login', p_client, p_login,
	    CASE WHEN p_password_ok THEN 'tag' ELSE 'wrong' END,
	    CASE WHEN p_step IS NOT NULL
	        THEN pg_temp.code(p_login, p_step) END, p_recovery, p_token,
	    p_lock))
$$;

-- ---------------------------------------------------------------------
-- Administration: create, refusals, list, get.
-- ---------------------------------------------------------------------
INSERT INTO r VALUES ('c1', pg_temp.create('coord.one', 'coordinator',
    '{VR13}'));
SELECT is(r.v->>'status', '201', 'person_create: 201') FROM r
WHERE name = 'c1';
SELECT is((r.v->'body') - '{id,created_at,enrolment_expires_at}'::text[],
    jsonb_build_object('login', 'coord.one', 'display_name',
        'Name of coord.one', 'agency_id',
        'a0000000-0000-4000-8000-000000000003', 'agency', 'Test Care',
        'role', 'coordinator',
        'regions', '["VR13"]'::jsonb, 'status', 'active',
        'disabled_at', NULL),
    'the body is the person, no secret') FROM r WHERE name = 'c1';
SELECT ok(r.v->'body'->>'enrolment_expires_at' IS NOT NULL
    AND r.v->>'location' = '/v1/admin/persons/' || (r.v->'body'->>'id'),
    'with enrolment_expires_at and location') FROM r WHERE name = 'c1';
SELECT is((SELECT row(e.api_key_id, e.object_type, e.object_id, e.outcome)
    ::text FROM audit.event e WHERE e.request_id = 'req-pc-coord.one'),
    row('b9000000-0000-4000-8000-000000000001'::uuid, 'person',
        pg_temp.pid('coord.one')::text, 'allowed')::text,
    'audited person.create by the admin key on the new person');
SELECT is((SELECT row(k.role, k.regions, k.revoked_at IS NOT NULL)::text
    FROM auth.api_key k JOIN auth.person p ON p.key_id = k.id
    WHERE p.login = 'coord.one'), row('coordinator', '{VR13}'::text[],
    true)::text,
    'the person''s own key: same role and regions, revoked (no bearer)');
SELECT is(pg_temp.create('coord.one', 'coordinator', '{VR13}')
    ->'problem'->>'field', 'login', 'a taken login: 409 field login');
SELECT is((pg_temp.last_event('person.create')).reason, 'login_taken',
    'audited failed/login_taken');
SELECT is(pg_temp.create('X', 'analyst')->>'status', '422',
    'a bad login: 422');
SELECT is(pg_temp.create('no.regions', 'coordinator')->'problem'->>'field',
    'regions', 'a coordinator without regions: field regions');
SELECT is(pg_temp.create('an.analyst', 'analyst', '{VR13}')
    ->'problem'->>'field', 'regions', 'an analyst with regions: refused');
SELECT is(pg_temp.create('bad.region', 'coordinator', '{XX99}')
    ->'problem'->>'field', 'regions', 'an unknown region: refused');
SELECT is(pg_temp.create('bad.agency', 'analyst', NULL,
    'a0000000-0000-4000-8000-0000000000ff')->'problem'->>'field',
    'agency_id', 'an unknown agency: field agency_id');
SELECT is(pg_temp.create('bad.role', 'boss')->'problem'->>'field', 'role',
    'an unknown role: field role');
SELECT is(pg_temp.create('by.reporter', 'analyst', NULL,
    'a0000000-0000-4000-8000-000000000003', 'tok-reporter')->>'status',
    '403', 'a reporter key may not create persons');
SELECT is(pg_temp.create('by.coord', 'analyst', NULL,
    'a0000000-0000-4000-8000-000000000003', 'tok-coordinator')->>'status',
    '403', 'a coordinator key may not create persons');
SELECT is(pg_temp.a($$SELECT api.person_create(sha256('nope'), 'r', NULL,
    'x.y.z', 'n', 'a0000000-0000-4000-8000-000000000003', 'analyst',
    NULL, sha256('c'), 60)$$)->>'status', '401', 'an unknown token: 401');
SELECT is(pg_temp.violation($$SELECT pg_temp.a('SELECT api.person_create('
    'sha256(''tok-admin''::bytea), ''r'', NULL, ''short.code'', ''n'', '
    '''a0000000-0000-4000-8000-000000000003'', ''analyst'', NULL, '
    '''\x01''::bytea, 60)')$$), '22023',
    'a code hash that is not 32 bytes: 22023');

SELECT pg_temp.create(l, 'coordinator', '{VR13}') FROM unnest(ARRAY[
    'coord.two', 'coord.disabled']) l \g /dev/null
SELECT pg_temp.create('coord.vr01', 'coordinator', '{VR01}') \g /dev/null
SELECT pg_temp.create('an.admin', 'admin', NULL,
    'a0000000-0000-4000-8000-000000000004') \g /dev/null
SELECT pg_temp.create('an.assessor', 'assessor', NULL,
    'a0000000-0000-4000-8000-000000000005') \g /dev/null
SELECT pg_temp.create(l, 'analyst') FROM unnest(ARRAY['locked.one',
    'addr.one', 'reset.one', 'disable.one']) l \g /dev/null

INSERT INTO r VALUES ('list', pg_temp.a($$SELECT api.person_list(
    sha256('tok-admin'), 'req-pl', NULL, NULL, 3)$$));
SELECT is((SELECT array_agg(x->>'login') FROM r, jsonb_array_elements(
    r.v->'body'->'items') x WHERE r.name = 'list'),
    ARRAY['addr.one', 'an.admin', 'an.assessor'],
    'person_list: by login, a page of three');
SELECT is((SELECT v->'body'->>'next_after' FROM r WHERE name = 'list'),
    'an.assessor', 'next_after is the last login of the page');
SELECT is((pg_temp.a($$SELECT api.person_list(sha256('tok-admin'), 'r',
    NULL, 'disable.one', 50)$$)->'body'->'items'->0->>'login'),
    'locked.one', 'the next page starts after the cursor');
SELECT is(pg_temp.a($$SELECT api.person_list(sha256('tok-admin'), 'r',
    NULL, NULL, 0)$$)->'problem'->>'field', 'limit',
    'a limit of 0: 400 field limit');
SELECT is(pg_temp.a($$SELECT api.person_list(sha256('tok-auditor'), 'r',
    NULL, NULL, 10)$$)->>'status', '403', 'an auditor may not list');
SELECT is(pg_temp.a(format($$SELECT api.person_get(sha256('tok-admin'),
    'r', NULL, %L)$$, pg_temp.pid('coord.two')))->'body'->>'login',
    'coord.two', 'person_get: the person');
SELECT is(pg_temp.a($$SELECT api.person_get(sha256('tok-admin'), 'r-404',
    NULL, 'c0ffee00-0000-4000-8000-000000000000')$$)->>'status', '404',
    'person_get: 404 for an unknown id');
SELECT is((pg_temp.last_event('person.read')).reason, 'not_found',
    'audited denied/not_found');

-- ---------------------------------------------------------------------
-- Enrolment: lookup, once, refusals.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.a($$SELECT api.enrol_lookup('r', NULL,
    sha256('code-coord.one'))$$),
    '{"status": 200, "body": {"login": "coord.one",
      "display_name": "Name of coord.one"}}'::jsonb,
    'enrol_lookup: the login and name of a usable code');
SELECT is(pg_temp.a($$SELECT api.enrol_lookup('r', NULL,
    sha256('code-nobody'))$$),
    '{"status": 400, "problem": {"code": "bad_request", "field":
      "enrolment_code", "detail": "invalid or expired enrolment code"}}'
    ::jsonb, 'enrol_lookup: an unknown code, 400 field enrolment_code');
UPDATE auth.enrolment SET created_at = now() - interval '1 hour',
    expires_at = now() - interval '59 minutes'
WHERE person_id = pg_temp.pid('coord.disabled');
SELECT is(pg_temp.a($$SELECT api.enrol_lookup('r', NULL,
    sha256('code-coord.disabled'))$$)->'problem'->>'detail',
    'invalid or expired enrolment code', 'an expired code: the same 400');
SELECT is(pg_temp.enrol('coord.disabled')->>'status', '400',
    'enrol with an expired code: 400');
SELECT is(pg_temp.enrol('coord.one'),
    '{"status": 201, "body": {"login": "coord.one"}}'::jsonb,
    'enrol: 201 {login}');
SELECT is(pg_temp.enrol('coord.one')->>'status', '400',
    'the same code a second time: 400 (it works once)');
SELECT is(pg_temp.a($$SELECT api.enrol_lookup('r', NULL,
    sha256('code-coord.one'))$$)->>'status', '400',
    'enrol_lookup of a used code: 400');
SELECT is((SELECT row(e.person_id, e.outcome)::text
    FROM audit.event e WHERE e.action = 'person.enrol'
      AND e.outcome = 'allowed'), row(pg_temp.pid('coord.one'),
    'allowed')::text, 'audited person.enrol with the person');
SELECT is((SELECT count(*)::int FROM audit.event e
    WHERE e.action = 'person.enrol' AND e.reason = 'invalid_code'), 2,
    'refused enrolments audited failed/invalid_code');
SELECT is(pg_temp.violation($$SELECT pg_temp.enrol('coord.two',
    '\x01')$$), '22023', 'a TOTP secret that is not 20 bytes: 22023');
SELECT pg_temp.enrol(l) FROM unnest(ARRAY['coord.two', 'coord.vr01',
    'an.admin', 'an.assessor', 'locked.one', 'addr.one', 'reset.one',
    'disable.one']) l \g /dev/null
UPDATE auth.enrolment SET expires_at = now() + interval '1 hour'
WHERE person_id = pg_temp.pid('coord.disabled');
SELECT pg_temp.enrol('coord.disabled') \g /dev/null
SELECT is((SELECT count(*)::int FROM auth.person_credential), 10,
    'ten persons enrolled');

-- ---------------------------------------------------------------------
-- Login: lookup, success, every refusal counted and audited.
-- ---------------------------------------------------------------------
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(
    pg_temp.a($$SELECT api.login_begin('r', NULL, 'nobody')$$)->'body') k),
    '{lanes,m_kib,salt,t_cost,tag_len}',
    'login_begin: an unknown login, the shape of a known one');
SELECT is((pg_temp.a($$SELECT api.login_begin('r', NULL, 'coord.one')$$)
    ->'body'), jsonb_build_object('salt',
    '05050505050505050505050505050505', 'm_kib', 19456, 't_cost', 2,
    'lanes', 1, 'tag_len', 32),
    'login_begin: the salt and parameters, nothing secret');
SELECT is((pg_temp.a($$SELECT api.login_begin('r', NULL, 'nobody')$$)
    ->'body') - 'salt', (pg_temp.a($$SELECT api.login_begin('r', NULL,
    'coord.one')$$)->'body') - 'salt',
    'an unknown login: the parameters of the enrolled ones');
SELECT is(pg_temp.a($$SELECT api.login_begin('r', NULL, 'nobody')$$)
    ->'body'->>'salt', pg_temp.a($$SELECT api.login_begin('r', '192.0.2.1',
    'nobody')$$)->'body'->>'salt',
    'an unknown login''s salt is stable (not random per call)');
SELECT is(pg_temp.a($$SELECT api.login_begin('r', NULL, 'nobody')$$)
    ->'body'->>'salt', encode(substr(x.mac, 1, 16), 'hex'),
    'it is HMAC-SHA-256 of the login under auth.login_secret, 16 bytes')
FROM (SELECT pgcrypto.hmac('nobody'::bytea, secret, 'sha256') AS mac
    FROM auth.login_secret) x;
SELECT isnt(pg_temp.a($$SELECT api.login_begin('r', NULL, 'nobody')$$)
    ->'body'->>'salt', pg_temp.a($$SELECT api.login_begin('r', NULL,
    'nobody2')$$)->'body'->>'salt', 'another unknown login, another salt');
SELECT pg_temp.create('not.enrolled', 'analyst') \g /dev/null
SELECT is(length(pg_temp.a($$SELECT api.login_begin('r', NULL,
    'not.enrolled')$$)->'body'->>'salt'), 32,
    'login_begin: a person not enrolled, a 16-byte fake salt too');

INSERT INTO r VALUES ('s1', pg_temp.login('coord.one', 'sess-c1', 0));
SELECT is(r.v->>'status', '201', 'login_finish: 201') FROM r
WHERE name = 's1';
SELECT is(r.v->'body'->'person', jsonb_build_object('id',
    pg_temp.pid('coord.one'), 'login', 'coord.one', 'display_name',
    'Name of coord.one', 'role', 'coordinator', 'agency_id',
    'a0000000-0000-4000-8000-000000000003', 'regions', '["VR13"]'::jsonb),
    'the body names the person') FROM r WHERE name = 's1';
SELECT is(r.v->'body'->>'expires_at',
    api.rfc3339(now() + interval '36000 seconds'),
    'absolute expiry: now + lifetime') FROM r WHERE name = 's1';
SELECT is(r.v->'body'->>'idle_expires_at',
    api.rfc3339(now() + interval '900 seconds'),
    'idle expiry: now + idle') FROM r WHERE name = 's1';
SELECT is((SELECT totp_last_step FROM auth.person_credential
    WHERE person_id = pg_temp.pid('coord.one')), pg_temp.step(),
    'the step of the database''s clock is stored');
SELECT is((SELECT row(s.person_id, s.idle_seconds, s.client_addr)::text
    FROM auth.session s WHERE s.token_hash = sha256('sess-c1')),
    row(pg_temp.pid('coord.one'), 900, '192.0.2.10'::inet)::text,
    'the session is stored by its token hash');
SELECT is((SELECT row(person_id, outcome, reason)::text
    FROM pg_temp.last_event('person.login')),
    row(pg_temp.pid('coord.one'), 'allowed', NULL::text)::text,
    'audited person.login allowed with the person');

SELECT is(pg_temp.login('coord.one', 'sess-x', 0),
    '{"status": 401, "problem": {"code": "unauthenticated",
      "detail": "login failed"}, "locked_now": false}'::jsonb,
    'a replayed step: 401 "login failed"');
SELECT is((pg_temp.last_event('person.login')).reason, 'replay',
    'audited denied/replay');
SELECT is(pg_temp.login('coord.one', 'sess-x', -1)->>'status', '401',
    'an older step: 401');
SELECT is((pg_temp.last_event('person.login')).reason, 'replay',
    'audited denied/replay (older)');
SELECT is(pg_temp.login('coord.one', 'sess-x', 1, NULL, false)
    ->'problem'->>'detail', 'login failed', 'a wrong password: 401');
SELECT is((pg_temp.last_event('person.login')).reason, 'bad_credentials',
    'audited denied/bad_credentials');
SELECT is(pg_temp.login('coord.one', 'sess-x')->'problem'->>'detail',
    'login failed', 'no second factor (a wrong code): 401');
SELECT is(pg_temp.a($$SELECT api.login_finish('r', '192.0.2.10', 'nobody',
    sha256('tag'), '123456', NULL, sha256('sess-y'), 900, 36000, 100, 900,
    900, NULL, NULL, NULL)$$)->'problem'->>'detail', 'login failed',
    'an unknown login: the same 401');
SELECT is((SELECT row(person_id, reason)::text
    FROM pg_temp.last_event('person.login')),
    row(NULL::uuid, 'bad_credentials')::text,
    'audited without a person');
SELECT is((SELECT count(*)::int FROM auth.login_failure
    WHERE login = 'coord.one'), 4,
    'the four failures of coord.one are counted');
SELECT is((SELECT count(*)::int FROM auth.session
    WHERE token_hash IN (sha256('sess-x'), sha256('sess-y'))), 0,
    'no session for a refused login');
SELECT is(pg_temp.login('coord.one', 'sess-rc', NULL,
    pg_temp.rc(1, 'coord.one'))
    ->>'status', '201', 'a recovery code: 201');
SELECT is((SELECT used_at IS NOT NULL FROM auth.recovery_code
    WHERE code_hash = sha256(convert_to(pg_temp.rc_norm(1, 'coord.one'),
        'UTF8'))), true,
    'the recovery code is used up');
SELECT is((SELECT count(*)::int FROM auth.login_failure
    WHERE login = 'coord.one'), 0, 'a success clears the login''s failures');
SELECT is(pg_temp.login('coord.one', 'sess-x', NULL,
    lower(pg_temp.rc(1, 'coord.one')))
    ->>'status', '401', 'a used recovery code: 401');
SELECT is((pg_temp.last_event('person.login')).reason, 'replay',
    'audited denied/replay');
SELECT is(pg_temp.login('coord.one', 'sess-x', NULL,
    pg_temp.rc(9, 'coord.one'))
    ->>'status', '401', 'an unknown recovery code: 401');

-- The lock: three failures in the window lock the login, not the others.
INSERT INTO r SELECT 'lockfail' || g, pg_temp.login('locked.one', 'sess-x',
    0, NULL, false, '203.0.113.5', 3) FROM generate_series(1, 3) g;
SELECT is((SELECT array_agg(v->>'locked_now' ORDER BY name) FROM r
    WHERE name LIKE 'lockfail%'), ARRAY['false', 'false', 'true'],
    'locked_now: true for the failure that locked, only');
SELECT is((SELECT v->'problem' FROM r WHERE name = 'lockfail3'),
    (SELECT v->'problem' FROM r WHERE name = 'lockfail1'),
    'the failure that locked has the same problem as the others');
SELECT is((SELECT array_agg(row(person_id, object_type, reason)::text
        ORDER BY id)
    FROM audit.event WHERE action = 'person.lock'),
    ARRAY[row(pg_temp.pid('locked.one'), 'person',
        'too_many_failures')::text,
        row(NULL::uuid, 'client', 'too_many_failures')::text],
    'the third failure locks the login and its address (audited '
    'person.lock)');
SELECT ok(NOT pg_temp.a($$SELECT api.login_begin('r', NULL,
    'locked.one')$$)->'body' ? 'locked',
    'login_begin does not tell of the lock (login_finish refuses)');
SELECT is(pg_temp.login('locked.one', 'sess-l', 0, NULL, true,
    '192.0.2.99', 3)->>'locked_now', 'false',
    'a failure while locked does not lock again: locked_now false');
SELECT is(pg_temp.login('locked.one', 'sess-l', 0, NULL, true,
    '192.0.2.99', 3)->>'status', '401',
    'the right password and code while locked: 401');
SELECT is((pg_temp.last_event('person.login')).reason, 'locked',
    'audited denied/locked');
UPDATE auth.login_lock SET locked_until = now() - interval '1 second'
WHERE kind = 'login' AND subject = 'locked.one';
SELECT is(pg_temp.login('locked.one', 'sess-l', 0, NULL, true,
    '192.0.2.99', 3)->>'status', '201', 'after the lock expired: 201');

-- Per address: failures of any login from one address lock it.
SELECT pg_temp.a(format($$SELECT api.login_finish('r', '198.51.100.7',
    %L, sha256('tag'), '123456', NULL, sha256('x'), 900, 36000, 3, 900,
    900, NULL, NULL, NULL)$$, l)) FROM unnest(ARRAY['guess.a', 'guess.b', 'guess.c']) l
\g /dev/null
SELECT is((SELECT row(object_type, reason, client_addr)::text
    FROM pg_temp.last_event('person.lock')),
    row('client', 'too_many_failures', '198.51.100.7'::inet)::text,
    'three failures from one address lock the address');
SELECT is(pg_temp.login('addr.one', 'sess-a', 0, NULL, true,
    '198.51.100.7', 3)->>'status', '401',
    'a right login from the locked address: 401');
SELECT is(pg_temp.login('addr.one', 'sess-a', 0, NULL, true,
    '198.51.100.8', 3)->>'status', '201', 'from another address: 201');

-- ---------------------------------------------------------------------
-- Sessions act as the person's role through the existing entry points.
-- ---------------------------------------------------------------------
INSERT INTO r VALUES ('case1', to_jsonb(pg_temp.new_case()));
SELECT is(pg_temp.inbox('sess-c1')->>'status', '200',
    'a coordinator person''s session reads its inbox');
SELECT is((SELECT row(person_id, api_key_id)::text
    FROM pg_temp.last_event('inbox.list')),
    row(pg_temp.pid('coord.one'), (SELECT key_id FROM auth.person
        WHERE login = 'coord.one'))::text,
    'the event names the person and the person''s key');
SELECT is(pg_temp.case_take('sess-c1', (SELECT (v#>>'{}')::uuid FROM r
    WHERE name = 'case1'))->>'status', '200', 'and takes a case');
SELECT is((SELECT holder_person_id FROM care.case WHERE id = (SELECT
    (v#>>'{}')::uuid FROM r WHERE name = 'case1')),
    pg_temp.pid('coord.one'), 'the case is held by the person');
SELECT is(pg_temp.case_get('sess-c1', (SELECT (v#>>'{}')::uuid FROM r
    WHERE name = 'case1'))->>'status', '200', 'and reads it');
SELECT is((SELECT array_agg(x->>'case_id') FROM jsonb_array_elements(
    pg_temp.a($$SELECT api.inbox(sha256('sess-c1'), 'r', NULL, 'all',
    NULL, NULL, NULL, 50, true)$$)->'body'->'items') x),
    ARRAY[(SELECT v#>>'{}' FROM r WHERE name = 'case1')],
    'inbox mine: the cases the person holds');
SELECT is(jsonb_array_length(pg_temp.a($$SELECT api.inbox(
    sha256('tok-coordinator'), 'r', NULL, 'all', NULL, NULL, NULL, 50,
    true)$$)->'body'->'items'), 0, 'inbox mine of another key: none');
SELECT pg_temp.login('an.admin', 'sess-adm', 0) \g /dev/null
SELECT is(pg_temp.a($$SELECT api.person_list(sha256('sess-adm'), 'r', NULL,
    NULL, 5)$$)->>'status', '200', 'an admin person''s session lists');
SELECT is(pg_temp.a($$SELECT api.person_list(sha256('sess-c1'), 'r', NULL,
    NULL, 5)$$)->>'status', '403', 'a coordinator person''s may not');
SELECT is(pg_temp.a($$SELECT api.session_get(sha256('sess-c1'), 'r',
    NULL)$$)->'body'->'person'->>'login', 'coord.one',
    'session_get: who I am');
SELECT is(pg_temp.a($$SELECT api.session_get(sha256('tok-coordinator'),
    'r', NULL)$$)->>'status', '404', 'session_get with an API key: 404');

-- Expiry: idle, absolute; last_seen_at moves after min(30 s, idle / 4).
-- pg_temp.use_c1(idle, age): session sess-c1 with that idle timeout,
-- last seen age ago, makes a request; its status, and how long ago
-- the session was last seen after it.
CREATE FUNCTION pg_temp.use_c1(p_idle integer, p_age interval,
    OUT status text, OUT seen interval) LANGUAGE plpgsql AS $$
BEGIN
	UPDATE auth.session SET idle_seconds = p_idle,
	    last_seen_at = now() - p_age
	WHERE token_hash = sha256('sess-c1');
	status := pg_temp.inbox('sess-c1')->>'status';
	seen := now() - (SELECT last_seen_at FROM auth.session
	    WHERE token_hash = sha256('sess-c1'));
END
$$;
-- The refresh granularity is min(30 s, idle / 4): 20 s old with idle
-- 900 s stays; with idle 8 s, 3 s old moves and 1 s old stays.
SELECT is(u.seen, c.seen, c.descr) FROM (VALUES
(900, '60 seconds'::interval, '0'::interval,
    'an authenticated request moves last_seen_at'),
(900, '20 seconds', '20 seconds',
    'idle 900 s: last_seen_at 20 s old does not move (30 s steps)'),
(8, '3 seconds', '0',
    'idle 8 s: last_seen_at 3 s old moves (idle / 4 = 2 s steps)'),
(8, '1 second', '1 second',
    'idle 8 s: last_seen_at 1 s old does not move')
) AS c(idle, age, seen, descr), pg_temp.use_c1(c.idle, c.age) u;
SELECT is((pg_temp.use_c1(8, '3 seconds')).status, '200',
    'idle 8 s, used 3 s ago: still alive');
UPDATE auth.session SET idle_seconds = 900
WHERE token_hash = sha256('sess-c1');
-- pg_temp.aged(token, n, set): coord.one logs in (session token; n
-- unused: a minute after the last login), the session is aged (set: a SET list of auth.session), and it
-- makes a request: its status.
CREATE FUNCTION pg_temp.aged(p_token text, p_n integer, p_set text)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_temp.later('coord.one');
	PERFORM pg_temp.login('coord.one', p_token, 0);
	EXECUTE format('UPDATE auth.session SET %s WHERE token_hash = '
	    'sha256(%L)', p_set, p_token);
	RETURN pg_temp.inbox(p_token)->>'status';
END
$$;
SELECT is(pg_temp.aged('sess-idle', 2000, $$last_seen_at = now()
    - interval '901 seconds', created_at = now() - interval '1 hour'$$),
    '401', 'past the idle timeout: 401');
SELECT is((SELECT row(person_id, outcome, reason)::text
    FROM pg_temp.last_event('inbox.list')),
    row(pg_temp.pid('coord.one'), 'denied', 'session_expired')::text,
    'audited denied/session_expired with the person');
SELECT is((SELECT end_reason FROM auth.session
    WHERE token_hash = sha256('sess-idle')), 'expired',
    'the session is ended');
SELECT is(pg_temp.aged('sess-abs', 2001, $$created_at = now()
    - interval '11 hours', expires_at = now() - interval '1 hour'$$),
    '401', 'past the absolute lifetime: 401');

-- Logout, disable, reset.
SELECT pg_temp.later('coord.one') \g /dev/null
SELECT is(pg_temp.login('coord.one', 'sess-out', 0)->>'status', '201',
    'a minute later, the code of the half minute logs in again');
SELECT is(pg_temp.a($$SELECT api.session_end(sha256('sess-out'), 'r',
    NULL)$$), '{"status": 204}'::jsonb, 'session_end: 204');
SELECT is(pg_temp.inbox('sess-out')->>'status', '401',
    'an ended session: 401');
SELECT is((pg_temp.last_event('inbox.list')).reason, 'session_ended',
    'audited denied/session_ended');
SELECT pg_temp.login('disable.one', 'sess-d', 0) \g /dev/null
SELECT is(pg_temp.a(format($$SELECT api.person_disable(sha256('tok-admin'),
    'r', NULL, %L)$$, pg_temp.pid('disable.one')))->'body'->>'status',
    'disabled', 'person_disable: 200, disabled');
SELECT is((SELECT end_reason FROM auth.session
    WHERE token_hash = sha256('sess-d')), 'disabled',
    'disable ends every session');
SELECT is(pg_temp.login('disable.one', 'sess-d2', 1)->>'status', '401',
    'a disabled person cannot log in');
SELECT is((pg_temp.last_event('person.login')).reason, 'disabled',
    'audited denied/disabled');
SELECT is(pg_temp.a(format($$SELECT api.person_enable(sha256('tok-admin'),
    'r', NULL, %L)$$, pg_temp.pid('disable.one')))->'body'->>'status',
    'active', 'person_enable: active again');
SELECT pg_temp.login('reset.one', 'sess-r', 0) \g /dev/null
INSERT INTO r VALUES ('reset', pg_temp.a(format($$SELECT api.person_reset(
    sha256('tok-admin'), 'r', NULL, %L, sha256('code-reset.two'), 600)$$,
    pg_temp.pid('reset.one'))));
SELECT ok((v->'body'->>'enrolment_expires_at') IS NOT NULL,
    'person_reset: 200 with a new enrolment expiry') FROM r
WHERE name = 'reset';
SELECT is((SELECT row((SELECT count(*) FROM auth.person_credential
        WHERE person_id = pg_temp.pid('reset.one')),
    (SELECT count(*) FROM auth.recovery_code
        WHERE person_id = pg_temp.pid('reset.one')),
    (SELECT end_reason FROM auth.session
        WHERE token_hash = sha256('sess-r')))::text),
    row(0::bigint, 0::bigint, 'reset')::text,
    'reset drops credentials and recovery codes, ends the session');
SELECT is(pg_temp.a($$SELECT api.enrol_lookup('r', NULL,
    sha256('code-reset.two'))$$)->'body'->>'login', 'reset.one',
    'the new code enrols');
SELECT is(pg_temp.a(format($$SELECT api.person_disable(sha256('tok-auditor'),
    'r', NULL, %L)$$, pg_temp.pid('reset.one')))->>'status', '403',
    'an auditor may not disable');

-- ---------------------------------------------------------------------
-- Handover.
-- ---------------------------------------------------------------------
SELECT pg_temp.login('coord.two', 'sess-c2', 0) \g /dev/null
UPDATE auth.person SET status = 'disabled', disabled_at = now()
WHERE login = 'coord.disabled';
CREATE FUNCTION pg_temp.handover(p_token text, p_to text,
    p_if_match text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.case_handover(sha256(%L::bytea), '
	    '%L, NULL, %L::uuid, %L, %L::uuid)', p_token, 'req-ho', (SELECT
	    (v#>>'{}')::uuid FROM r WHERE name = 'case1'), p_if_match,
	    COALESCE(pg_temp.pid(p_to),
	        'c0ffee00-0000-4000-8000-000000000000')))
$$;
SELECT is(pg_temp.handover('tok-coordinator', 'coord.two')->>'status',
    '403', 'an API key cannot hand over');
SELECT is(pg_temp.handover('sess-c2', 'coord.two')->>'status', '409',
    'a person not holding the case: 409');
SELECT is(pg_temp.handover('sess-c1', l)->'problem'->>'field', 'person',
    'to ' || l || ': 422 field person')
FROM unnest(ARRAY['coord.vr01', 'coord.disabled', 'coord.one',
    'an.assessor', 'nobody']) l;
SELECT is(pg_temp.handover('sess-c1', 'coord.two', '"99"')->>'status',
    '412', 'a stale If-Match: 412');
SELECT is(pg_temp.handover('sess-c1', 'coord.two', '"2"')->>'status',
    '200', 'to an active coordinator person of the region: 200');
SELECT is((SELECT row(c.holder_person_id, c.holder_key_id, c.version)::text
    FROM care.case c WHERE c.id = (SELECT (v#>>'{}')::uuid FROM r
        WHERE name = 'case1')),
    row(pg_temp.pid('coord.two'), (SELECT key_id FROM auth.person
        WHERE login = 'coord.two'), 3)::text,
    'one holder: the receiver (person and key), version + 1');
SELECT is((SELECT h.detail FROM care.case_history h
    WHERE h.action = 'handed_over'), jsonb_build_object('from_person',
    pg_temp.pid('coord.one'), 'to_person', pg_temp.pid('coord.two')),
    'a history row handed_over');
SELECT is((SELECT row(person_id, outcome)::text
    FROM pg_temp.last_event('case.handover')),
    row(pg_temp.pid('coord.one'), 'allowed')::text,
    'audited case.handover by the giving person');
SELECT is(pg_temp.case_take('tok-coordinator', (SELECT (v#>>'{}')::uuid
    FROM r WHERE name = 'case1'))->>'status', '409',
    'still taken: a key cannot take it');

-- ---------------------------------------------------------------------
-- Audit: the person filter; no secret anywhere; no privilege for
-- nrm_app on the secret tables.
-- ---------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(pg_temp.a(format(
    $$SELECT api.audit_search(sha256('tok-auditor'), 'r', NULL,
    jsonb_build_object('person', %L), NULL, 200)$$,
    pg_temp.pid('coord.two')))->'body'->'items') x
    WHERE x->>'person_id' = pg_temp.pid('coord.two')::text),
    (SELECT count(*)::int FROM audit.event
        WHERE person_id = pg_temp.pid('coord.two')),
    'audit search by person: exactly the person''s events');
SELECT is(pg_temp.a($$SELECT api.audit_search(sha256('tok-auditor'), 'r',
    NULL, '{"person": "x"}', NULL, 10)$$)->'problem'->>'field', 'person',
    'a person filter that is no id: 400 field person');
SELECT is((SELECT substring(audit.canonical(e) FROM 5 FOR 18)
        || substring(audit.canonical(e) FROM octet_length(
            audit.canonical(e)) - 39)
    FROM pg_temp.last_event('case.handover') e),
    convert_to('nrm.audit.event.v2', 'UTF8') || int4send(36)
        || convert_to(pg_temp.pid('coord.one')::text, 'UTF8'),
    'the chain encodes an event with a person as v2, person_id last');
SELECT is((SELECT substring(audit.canonical(e) FROM 5 FOR 18)
    FROM audit.event e WHERE e.person_id IS NULL ORDER BY id DESC LIMIT 1),
    convert_to('nrm.audit.event.v1', 'UTF8'),
    'an event without a person keeps v1''s bytes');
SELECT is_empty($$SELECT e.id FROM audit.event e, auth.person_credential c
    WHERE e::text LIKE '%argon2id%'
       OR e::text LIKE '%' || encode(c.totp_secret, 'hex') || '%'
       OR e::text LIKE '%' || encode(c.password_verifier, 'hex') || '%'
       OR e::text ~ '(code|rc[0-9]|sess)-'
       OR e::text LIKE '%' || encode(sha256('sess-c1'), 'hex') || '%'$$,
    'no audit row holds a password hash, secret, code or token');
SELECT is(pg_temp.sqlstate_as('nrm_app', 'SELECT 1 FROM ' || t), '42501',
    'nrm_app cannot read ' || t)
FROM unnest(ARRAY['auth.person_credential', 'auth.session',
    'auth.enrolment', 'auth.recovery_code', 'auth.login_failure',
    'auth.person']) t;
SELECT is(pg_temp.sqlstate_as(r, 'SELECT 1 FROM auth.person_credential'),
    '42501', r || ' cannot read auth.person_credential')
FROM unnest(ARRAY['nrm_admin', 'nrm_coordinator']) r;

SELECT * FROM finish();
ROLLBACK;
