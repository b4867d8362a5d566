-- 92_login_in_database.sql - the database decides a person's login (0024,
-- sql/api/65_sessions.sql): the SQL HOTP/TOTP against RFC 4226's and RFC
-- 6238's test vectors, the TOTP window and replay rules of totp.c, the
-- recovery code normalisation of totp.c, and what nrm_app, nrmd's
-- login, can and cannot do: read no password verifier, TOTP secret or
-- login secret, compute no code, and open no session without the right
-- password's tag and a right TOTP or recovery code; an unknown login
-- answers login_begin in the shape of a known one.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(52);
\ir fixtures.psql

-- ---------------------------------------------------------------------
-- HOTP and TOTP against the RFCs' vectors (key "12345678901234567890").
-- ---------------------------------------------------------------------
SELECT is(array_agg(lpad(auth.hotp('12345678901234567890'::bytea, c, 6)::text,
    6, '0') ORDER BY c), ARRAY['755224', '287082', '359152', '969429',
    '338314', '254676', '287922', '162583', '399871', '520489'],
    'HOTP: RFC 4226 appendix D, counters 0 to 9')
FROM generate_series(0, 9) c;
SELECT is(lpad(auth.hotp('12345678901234567890'::bytea, t / 30, 8)::text, 8,
    '0'), want, format('TOTP SHA-1: RFC 6238 appendix B, T = %s', t))
FROM (VALUES (59::bigint, '94287082'), (1111111109, '07081804'),
    (1111111111, '14050471'), (1234567890, '89005924'),
    (2000000000, '69279037'), (20000000000, '65353130')) v(t, want);
SELECT is(auth.hotp('12345678901234567890'::bytea, 1111111109 / 30, 6),
    81804, 'six digits: the last six of the eight (a leading zero kept '
    'out of the integer)');
SELECT is(pg_temp.violation($$SELECT auth.hotp('k'::bytea, 1, 9)$$),
    '22023', 'HOTP of 9 digits: 22023');

-- totp_check at T = 59 (step 1): the code of step 1 is 287082 (RFC
-- 4226's counter 1), of step 0 755224, of step 2 359152.
CREATE FUNCTION pg_temp.tc(p_code text, p_last bigint DEFAULT 0,
    p_t bigint DEFAULT 59) RETURNS text
LANGUAGE sql AS $$
	SELECT coalesce(step::text, '-') || '/' || fresh::text
	FROM auth.totp_check('12345678901234567890'::bytea, p_code, p_last,
	    to_timestamp(p_t))
$$;
SELECT is(pg_temp.tc('287082'), '1/true', 'the code of the step: fresh');
SELECT is(pg_temp.tc('359152'), '2/true', 'one step ahead: accepted');
SELECT is(pg_temp.tc('755224', -1), '0/true',
    'one step behind: accepted (nothing used yet)');
SELECT is(pg_temp.tc('969429'), '-/false', 'two steps ahead: refused');
SELECT is(pg_temp.tc('969429', 0, 99), '3/true',
    '... and at its own step it is accepted');
SELECT is(pg_temp.tc('755224', 0, 89), '-/false',
    'two steps behind: refused');
SELECT is(pg_temp.tc('287 082'), '1/true', 'spaces are ignored');
SELECT is(pg_temp.tc(' 2 8 7 0 8 2 '), '1/true', '... anywhere');
SELECT is(pg_temp.tc('2870820'), '-/false', 'seven digits: refused');
SELECT is(pg_temp.tc('28708'), '-/false', 'five digits: refused');
SELECT is(pg_temp.tc('28708x'), '-/false', 'a letter: refused');
SELECT is(pg_temp.tc('287082' || repeat(' ', 11)), '-/false',
    'over 16 bytes: refused');
SELECT is(pg_temp.tc('287082', 1), '1/false',
    'the step last used again: matched, not fresh (a replay)');
SELECT is(pg_temp.tc('755224', 1), '0/false',
    'an older step: matched, not fresh (a replay)');
SELECT is(pg_temp.tc('359152', 1), '2/true',
    'a later step than the last: fresh');
SELECT is(pg_temp.tc('755224', -1, 10), '0/true',
    'at step 0 nothing below 0 is computed: the code of 0 holds');
SELECT is(pg_temp.tc(NULL), '-/false', 'no code: nothing');

-- Recovery codes as typed, normalised as totp.c does.
SELECT is(auth.recovery_code_hash('ABCD-EFGH-JKMN-PQRS'),
    sha256('abcdefghjkmnpqrs'), 'a recovery code: case folded, dashes out');
SELECT is(auth.recovery_code_hash('iIlL oO00 1111 2222'),
    sha256('1111000011112222'), 'i and l read as 1, o as 0, spaces out');
SELECT is(auth.recovery_code_hash('abcu-0000-0000-0000'), NULL,
    'u is no letter of the alphabet: NULL');
SELECT is(auth.recovery_code_hash('abcd-0000-0000-000'), NULL,
    '15 letters: NULL');

-- ---------------------------------------------------------------------
-- A person enrolled through the door, as nrmd does it.
-- ---------------------------------------------------------------------
SELECT auth.person_insert('login.one', 'Login One',
    'a0000000-0000-4000-8000-000000000003', 'analyst', NULL, NULL, NULL,
    sha256('code-login.one'), 600) \g /dev/null
SELECT is(pg_temp.a($$SELECT api.enrol('r', NULL, sha256('code-login.one'),
    '\x07070707070707070707070707070707', '{19456,2,1}', sha256('right'),
    '12345678901234567890'::bytea, ARRAY[sha256('0000111122223333')])$$)
    ->>'status', '201', 'enrolled through the door');
SELECT is((SELECT password_verifier FROM auth.person_credential
    WHERE person_id = (SELECT id FROM auth.person
        WHERE login = 'login.one')),
    sha256(sha256('right')), 'the database keeps the tag''s SHA-256, '
    'not the tag nrmd sent');
SELECT is(pg_temp.violation($$SELECT pg_temp.a('SELECT api.enrol(''r'', '
    'NULL, sha256(''x''), ''\x0707''::bytea, ''{19456,2,1}'', '
    'sha256(''t''), ''12345678901234567890''::bytea, '
    'ARRAY[sha256(''c'')])')$$), '22023',
    'enrolment with a salt under 16 bytes: 22023');
SELECT is(pg_temp.violation($$SELECT pg_temp.a('SELECT api.enrol(''r'', '
    'NULL, sha256(''x''), ''\x07070707070707070707070707070707''::bytea, '
    '''{1024,1,1}'', sha256(''t''), ''12345678901234567890''::bytea, '
    'ARRAY[sha256(''c'')])')$$), '22023',
    'enrolment with parameters weaker than the floor: 22023');

-- ---------------------------------------------------------------------
-- nrm_app reads no secret and computes no code.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.sqlstate_as('nrm_app', 'SELECT ' || c
    || ' FROM auth.person_credential'), '42501',
    'nrm_app cannot read person_credential.' || c)
FROM unnest(ARRAY['password_verifier', 'totp_secret']) c;
SELECT is(pg_temp.sqlstate_as('nrm_app', 'SELECT secret FROM '
    'auth.login_secret'), '42501', 'nrm_app cannot read the login secret');
SELECT is(pg_temp.sqlstate_as('nrm_app', f), '42501',
    'nrm_app cannot call ' || f)
FROM unnest(ARRAY[
    $$SELECT auth.hotp('k'::bytea, 1, 6)$$,
    $$SELECT pgcrypto.hmac('a'::bytea, 'k'::bytea, 'sha1')$$]) f;
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(pg_temp.a(
    $$SELECT api.login_begin('r', NULL, 'login.one')$$)->'body') k),
    (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(pg_temp.a(
    $$SELECT api.login_begin('r', NULL, 'no.such.login')$$)->'body') k),
    'login_begin: the same members for a known and an unknown login');

-- ---------------------------------------------------------------------
-- A session only with the right password and a right second factor.
-- ---------------------------------------------------------------------
-- login_finish as nrm_app: tag (NULL: none), TOTP code, recovery code.
CREATE FUNCTION pg_temp.finish(p_tag bytea, p_totp text,
    p_recovery text DEFAULT NULL, p_token text DEFAULT 'sess-l1')
RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.login_finish(%L, %L::inet, %L, '
	    '%L::bytea, %L, %L, sha256(%L::bytea), 900, 36000, 100, 900, 900, '
	    'NULL, NULL, NULL)', 'req-l', '192.0.2.20', 'login.one', p_tag,
	    p_totp, p_recovery, p_token))
$$;
CREATE FUNCTION pg_temp.now_code(p_d integer DEFAULT 0) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT lpad(auth.hotp('12345678901234567890'::bytea,
	    floor(extract(epoch FROM now()) / 30)::bigint + p_d, 6)::text, 6,
	    '0')
$$;
SELECT is(pg_temp.finish(sha256('wrong'), pg_temp.now_code())->>'status',
    '401', 'the wrong password''s tag and the right code: 401');
SELECT is(pg_temp.finish(NULL, pg_temp.now_code())->>'status', '401',
    'no tag at all: 401');
SELECT is(pg_temp.finish(sha256(sha256('right')), pg_temp.now_code())
    ->>'status', '401', 'the stored verifier sent as the tag: 401');
SELECT is(pg_temp.finish(sha256('right'), NULL)->>'status', '401',
    'the right tag, no second factor: 401');
SELECT is(pg_temp.finish(sha256('right'), pg_temp.now_code(3))->>'status',
    '401', 'the right tag and a code outside the window: 401');
SELECT is(pg_temp.finish(sha256('right'), NULL, 'xxxx-xxxx-xxxx-xxxx')
    ->>'status', '401', 'the right tag and a wrong recovery code: 401');
SELECT is((SELECT count(*)::int FROM auth.session
    WHERE person_id = (SELECT id FROM auth.person
        WHERE login = 'login.one')), 0,
    'none of these opened a session');
SELECT is(pg_temp.violation(format($$SELECT pg_temp.a('SELECT '
    'api.login_finish(''r'', NULL, ''login.one'', sha256(''right''), '
    '''%s'', NULL, sha256(''t''), 900, 36000, 1001, 900, 900, NULL, '
    'NULL, NULL)')$$, pg_temp.now_code())), '22023',
    'a lock after more failures than the configuration allows: 22023');
SELECT is(pg_temp.violation($$SELECT pg_temp.a('SELECT api.login_finish('
    '''r'', NULL, ''login.one'', sha256(''right''), NULL, NULL, '
    'sha256(''t''), 900, 36000, 10, 900, 0, NULL, NULL, NULL)')$$),
    '22023', 'a lock of 0 seconds: 22023');
SELECT is(pg_temp.finish(sha256('right'), pg_temp.now_code())->>'status',
    '201', 'the right tag and the code of now: 201');
SELECT is(pg_temp.finish(sha256('right'), pg_temp.now_code(), NULL,
    'sess-l2')->>'status', '401', 'the same code again: 401 (a replay)');
SELECT is(pg_temp.finish(sha256('right'), NULL, '0000-1111-2222-3333',
    'sess-l3')->>'status', '201', 'the right tag and a recovery code: 201');

SELECT * FROM finish();
ROLLBACK;
