-- 97_followup.sql - follow-ups from the reporter and later consent
-- (issue 18, 0027; sql/api/37_followup.sql): a follow-up of the
-- agency's own signal is stored sealed under the signal's keys, counted
-- on the case, which re-enters its inbox; another agency's signal is
-- the same 404 as an unknown one; an anonymous notification takes none;
-- Idempotency-Key as intake; the holder reads them; a later signal that
-- cites a notification's reference links it, and the statistics count
-- the notification once (notifications_became_case).
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(27);
\ir fixtures.psql

CREATE FUNCTION pg_temp.followup(p_token text, p_signal uuid, p_text text,
    p_idem text DEFAULT NULL, p_hash text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.api_call('signal_followup', p_token, 'req-followup',
	    '192.0.2.10', p_signal::text,
	    COALESCE(p_idem, 'fu-' || gen_random_uuid()),
	    COALESCE(p_hash, '\x' || encode(sha256(convert_to(p_text, 'UTF8')),
	        'hex')),
	    jsonb_build_object('id', gen_random_uuid(),
	        'text_ct', pg_temp.sealed_b64(p_text),
	        'data_key', jsonb_build_object('id', gen_random_uuid(),
	            'kek_id', '0123456789abcdef',
	            'wrapped', pg_temp.sealed_b64(repeat('k', 15))))::text)
$$;

CREATE TEMP TABLE t (name text PRIMARY KEY, v jsonb);
GRANT ALL ON t TO PUBLIC;
CREATE TEMP TABLE c AS SELECT pg_temp.new_case() AS a;
ALTER TABLE c ADD COLUMN s uuid, ADD COLUMN seq bigint;
UPDATE c SET s = (SELECT signal_id FROM care.case WHERE id = a),
    seq = (SELECT inbox_seq FROM care.case WHERE id = a);
GRANT SELECT ON c TO PUBLIC;

-- ---------------------------------------------------------------------
-- A follow-up reaches the case
-- ---------------------------------------------------------------------
INSERT INTO t SELECT 'f1', pg_temp.followup('tok-reporter', s, 'nieuw adres')
FROM c;
SELECT is((SELECT (v->>'status')::int FROM t WHERE name = 'f1'), 201,
    'the reporting agency adds a follow-up');
SELECT is((SELECT array_agg(k ORDER BY k) FROM t,
    jsonb_object_keys(v->'body') k WHERE name = 'f1'),
    ARRAY['at', 'followup_id', 'reference', 'signal_id', 'taken_up'],
    'the answer says what the receipt says and whether it was taken up');
SELECT is((SELECT v->'body'->'taken_up' FROM t WHERE name = 'f1'),
    'false'::jsonb, 'not taken up yet');
SELECT is((SELECT followups FROM care.case WHERE id = (SELECT a FROM c)), 1,
    'the case counts it');
SELECT cmp_ok((SELECT inbox_seq FROM care.case WHERE id = (SELECT a FROM c)),
    '>', (SELECT seq FROM c),
    'the case re-enters its inbox (new inbox_seq: NOTIFY, long-poll)');
SELECT is((SELECT k.signal_id FROM care.signal_followup f
    JOIN care.data_key k ON k.id = f.data_key_id
    WHERE f.case_id = (SELECT a FROM c)), (SELECT s FROM c),
    'its data key belongs to the signal (erasure shreds it)');
SELECT is((SELECT text_ct FROM care.signal_followup
    WHERE case_id = (SELECT a FROM c)), pg_temp.sealed_bytes('nieuw adres'),
    'the sealed text is stored as sent');
SELECT is((SELECT detail FROM care.case_history
    WHERE case_id = (SELECT a FROM c) AND action = 'followup'),
    jsonb_build_object('followup', (SELECT v->'body'->>'followup_id' FROM t
        WHERE name = 'f1')), 'a followup history entry, naming no text');
SELECT is((SELECT (v->'body'->'items'->0->>'followups')::int
    FROM (SELECT pg_temp.inbox('tok-coordinator', 'all') v) x), 1,
    'the inbox item shows it');

-- The holder reads it, sealed for nrmd, audited.
INSERT INTO t SELECT 'l1', pg_temp.api_call('case_followup_list',
    'tok-coordinator', 'req-fu-list', '192.0.2.10', a::text) FROM c;
SELECT is((SELECT (v->>'status')::int FROM t WHERE name = 'l1'), 200,
    'the case''s coordinator reads the follow-ups');
SELECT is((SELECT v->'body'->'items'->0->'sealed'->'fields'->0->>'aad'
    FROM t WHERE name = 'l1'),
    'care.signal_followup/text/' || (SELECT v->'body'->>'followup_id'
        FROM t WHERE name = 'f1'), 'sealed, bound to its row and column');
SELECT is((SELECT count(*)::int FROM audit.event
    WHERE request_id = 'req-fu-list' AND action = 'case.followup.read'
      AND outcome = 'allowed'), 1, 'the read is audited');

-- Taken up: the next answer says so.
SELECT is((SELECT (pg_temp.case_take('tok-coordinator', a)->>'status')::int
    FROM c), 200, 'the coordinator takes the case');
SELECT is((SELECT pg_temp.followup('tok-reporter', s, 'twee')
    ->'body'->'taken_up' FROM c), 'true'::jsonb,
    'taken up once a coordinator took the case');

-- ---------------------------------------------------------------------
-- Refusals
-- ---------------------------------------------------------------------
SELECT is((SELECT pg_temp.followup('tok-reporter-ngo', s, 'x') - 'request_id'
    FROM c), (SELECT pg_temp.followup('tok-reporter-ngo',
        gen_random_uuid(), 'x') - 'request_id'),
    'another agency''s signal: the same 404 as an unknown one');
SELECT is((SELECT (pg_temp.followup('tok-reporter-ngo', s, 'x')->>'status')
    FROM c), '404', '... a 404');
INSERT INTO t SELECT 'n', pg_temp.intake_as('nrm_app', 'tok-reporter',
    'req-n', NULL, 'n', pg_temp.facts_notification(), 'null'::jsonb,
    pg_temp.route());
SELECT is((SELECT pg_temp.followup('tok-reporter',
    (v->'body'->>'signal_id')::uuid, 'x')->>'status'
    FROM t WHERE name = 'n'), '409', 'an anonymous notification: 409');
SELECT is((SELECT count(*)::int FROM care.signal_followup
    WHERE signal_id = (SELECT (v->'body'->>'signal_id')::uuid FROM t
        WHERE name = 'n')), 0, '... nothing stored');

-- An erased signal (art. 17) takes no new personal data.
CREATE TEMP TABLE e AS SELECT pg_temp.new_case() AS a;
INSERT INTO care.erasure (signal_id, case_id, ground)
SELECT signal_id, id, 'retention' FROM care.case WHERE id = (SELECT a FROM e);
SELECT is((SELECT pg_temp.followup('tok-reporter', k.signal_id, 'x')
    ->>'status' FROM e JOIN care.case k ON k.id = e.a), '409',
    'an erased signal: 409, nothing stored');

-- Idempotency-Key: a replay stores nothing; another request is a 422.
INSERT INTO t SELECT 'i1', pg_temp.followup('tok-reporter', s, 'drie',
    'fu-key-1') FROM c;
INSERT INTO t SELECT 'i2', pg_temp.followup('tok-reporter', s, 'drie',
    'fu-key-1') FROM c;
SELECT is((SELECT v FROM t WHERE name = 'i2'),
    (SELECT v FROM t WHERE name = 'i1'), 'a replay answers the first answer');
SELECT is((SELECT followups FROM care.case WHERE id = (SELECT a FROM c)), 3,
    '... and stores nothing');
SELECT is((SELECT pg_temp.followup('tok-reporter', s, 'vier', 'fu-key-1')
    ->'problem'->>'code' FROM c), 'idempotency',
    'the same key with another request: 422 idempotency');

-- ---------------------------------------------------------------------
-- Later consent: a signal cites the notification's reference
-- ---------------------------------------------------------------------
CREATE TEMP TABLE n AS SELECT (v->'body'->>'signal_id')::uuid AS id,
    v->'body'->>'reference' AS ref FROM t WHERE name = 'n';
GRANT SELECT ON n TO PUBLIC;
CREATE TEMP TABLE cited AS
SELECT pg_temp.new_case('{}', jsonb_build_object('cites_reference', ref))
    AS a1,
    pg_temp.new_case('{}', jsonb_build_object('cites_reference', ref))
    AS a2,
    pg_temp.new_case('{}', '{"cites_reference": "2222-2222-2"}') AS u
FROM n;
SELECT is((SELECT s.cites_signal_id FROM intake.signal s JOIN care.case k
    ON k.signal_id = s.id WHERE k.id = (SELECT a1 FROM cited)),
    (SELECT id FROM n), 'a cited reference links the notification');
SELECT is((SELECT row(s.cites_reference, s.cites_signal_id)::text
    FROM intake.signal s JOIN care.case k ON k.signal_id = s.id
    WHERE k.id = (SELECT u FROM cited)), '(2222-2222-2,)',
    'a reference naming no signal is kept, unlinked');
SELECT is((SELECT count(*)::int FROM stats.units('notifications_became_case',
    now() - interval '1 day', now() + interval '1 day')), 1,
    'notifications_became_case: the notification once, cited twice');
SELECT is((SELECT count(*)::int FROM stats.units('notifications_became_case',
    now() + interval '1 day', now() + interval '2 days')), 0,
    '... dated by the first citing signal');

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
