-- 97_privacy.sql - retention and the data subject's rights (issue 15,
-- 0019, 82_privacy.sql): the retention job erases due cases and
-- anonymous notifications by destroying their data keys and clearing
-- their ciphertexts, keeps their facts, audits each erasure and makes a
-- case read say so; the privacy officer exports, rectifies (old value
-- kept sealed) and erases on request, each audited, others refused.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(66);
\ir fixtures.psql

INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions, label)
VALUES ('b0000000-0000-4000-8000-0000000000a1', sha256('tok-privacy'),
    'a0000000-0000-4000-8000-000000000004', 'privacy_officer', NULL, NULL);

CREATE TEMP TABLE c (name text PRIMARY KEY, id uuid, sig uuid);
GRANT ALL ON c TO PUBLIC;

-- Cases: A closed a day ago, B closed now, D closed a day ago as a
-- duplicate, E open; N an anonymous notification of two days ago.
INSERT INTO c (name, id) SELECT n, pg_temp.new_case()
FROM unnest(ARRAY['A', 'B', 'D', 'E', 'X']) n;
UPDATE c SET sig = k.signal_id FROM care.case k WHERE k.id = c.id;
INSERT INTO r SELECT 'take' || name, pg_temp.case_take('tok-coordinator', id)
FROM c WHERE name IN ('A', 'B', 'D');
INSERT INTO r SELECT 'close' || name, pg_temp.case_close('tok-coordinator',
    id, CASE name WHEN 'D' THEN 'duplicate' ELSE 'victim_supported' END)
FROM c WHERE name IN ('A', 'B', 'D');
UPDATE care.case_history h SET at = now() - interval '1 day'
FROM c WHERE h.case_id = c.id AND c.name IN ('A', 'D');
INSERT INTO r SELECT 'note', pg_temp.intake_as('nrm_app', 'tok-reporter',
    'req-note', NULL, 'note', pg_temp.facts_notification(), 'null',
    pg_temp.route());
INSERT INTO c (name, sig) SELECT 'N', (v->'body'->>'signal_id')::uuid
FROM r WHERE name = 'note';
UPDATE intake.signal s SET received_at = now() - interval '2 days',
    observed_at = now() - interval '2 days'
FROM c WHERE s.id = c.sig AND c.name = 'N';
UPDATE care.subject s SET pseudonym = sha256('subject-b')
FROM c WHERE s.signal_id = c.sig AND c.name IN ('B', 'X');

SELECT pg_temp.definer_role('nrm_privacy',
    'care.erase_signal(uuid, uuid, text, uuid)'::regprocedure);
SELECT is(pg_temp.sqlstate_as('nrm_app', $$SELECT care.erase_signal(
    gen_random_uuid(), NULL, 'retention', NULL)$$), '42501',
    'nrm_app cannot call care.erase_signal itself');
SELECT is(pg_temp.sqlstate_as('nrm_app', $$SELECT api.retention_run(3600,
    '{"closed_forever": 60}', 3600, 10)$$), '22023',
    'a by_reason key that is no closing reason is refused');

-- Retention: a day after closing (D: its duplicate override, 1 hour,
-- though after_close says a week); N a day after receipt.
INSERT INTO r SELECT 'run', pg_temp.a($$SELECT api.retention_run(604800,
    '{"duplicate": 3600}', 86400, 100)$$);
SELECT is((SELECT v FROM r WHERE name = 'run'),
    '{"erased": 2, "cases": 1, "notifications": 1}'::jsonb,
    'the run erases the due duplicate case and notification');
INSERT INTO r SELECT 'run2', pg_temp.a($$SELECT api.retention_run(3600,
    '{}', 86400, 100)$$);
SELECT is((SELECT v->>'erased' FROM r WHERE name = 'run2'), '1',
    'a shorter after_close makes A due too');
INSERT INTO r SELECT 'run3', pg_temp.a($$SELECT api.retention_run(3600,
    '{}', 86400, 100)$$);
SELECT is((SELECT v->>'erased' FROM r WHERE name = 'run3'), '0',
    'a second run finds nothing more (B closed now, E open)');
SELECT set_eq($$SELECT e.signal_id FROM care.erasure e$$,
    $$SELECT sig FROM c WHERE name IN ('A', 'D', 'N')$$,
    'exactly A, D and N are erased');
SELECT is((SELECT count(*)::int FROM care.data_key d JOIN c ON c.sig =
    d.signal_id WHERE c.name IN ('A', 'D', 'N') AND d.wrapped IS NOT NULL),
    0, 'their data keys are destroyed');
SELECT ok((SELECT bool_and(d.destroyed_at IS NOT NULL) FROM care.data_key d
    JOIN c ON c.sig = d.signal_id WHERE c.name IN ('A', 'D', 'N')),
    'and marked destroyed');
SELECT is((SELECT count(*)::int FROM care.data_key d JOIN c ON c.sig =
    d.signal_id WHERE c.name IN ('B', 'E') AND d.wrapped IS NOT NULL), 2,
    'the other cases keep theirs');
SELECT is((SELECT sum(num_nonnulls(s.given_name_ct, s.family_name_ct,
        s.birth_date_ct, s.phone_ct, s.address_ct, s.narrative_ct,
        s.pseudonym))::int
    FROM care.subject s JOIN c ON c.sig = s.signal_id
    WHERE c.name IN ('A', 'D')), 0,
    'their subjects hold no ciphertext and no pseudonym');
SELECT is((SELECT count(*)::int FROM intake.signal s JOIN c ON c.sig = s.id
    WHERE c.name IN ('A', 'D', 'N') AND s.reporter_reference_ct IS NULL
      AND s.exploitation = '{sexual}' AND s.region_code = 'VR13'), 3,
    'their signals lose the reference and keep their facts');
SELECT is((SELECT count(*)::int FROM care.case k JOIN c ON c.id = k.id
    WHERE c.name IN ('A', 'D') AND k.state = 'closed'), 2,
    'the cases stay, closed');
SELECT set_eq($$SELECT concat_ws('/', e.action, e.object_type, e.object_id,
        e.purpose, e.outcome, e.reason, coalesce(e.role, '-'))
    FROM audit.event e WHERE e.action = 'privacy.erase'$$,
    $$SELECT concat_ws('/', 'privacy.erase',
        CASE WHEN name = 'N' THEN 'signal' ELSE 'case' END,
        coalesce(id, sig)::text, 'data_protection', 'allowed', 'retention',
        '-') FROM c WHERE name IN ('A', 'D', 'N')$$,
    'each erasure is one audit event, no principal, reason retention');
SELECT is((SELECT after_close FROM care.retention_schedule), 3600,
    'the schedule nrmd ran with is recorded');

-- The case read says why the values are gone, and opens nothing.
INSERT INTO r SELECT 'getA', pg_temp.case_get('tok-coordinator',
    (SELECT id FROM c WHERE name = 'A'));
SELECT is((SELECT v->'body'->'erased'->>'ground' FROM r
    WHERE name = 'getA'), 'retention', 'a read of A says erased: retention');
SELECT is((SELECT jsonb_array_length(v->'body'->'sealed'->'fields') FROM r
    WHERE name = 'getA'), 0, 'and hands nrmd no sealed value');
SELECT is((SELECT v->'body'->'sealed'->'data_key'->>'wrapped' FROM r
    WHERE name = 'getA'), NULL, 'its data key is gone');
INSERT INTO r SELECT 'getB', pg_temp.case_get('tok-coordinator',
    (SELECT id FROM c WHERE name = 'B'));
SELECT ok((SELECT NOT v->'body' ? 'erased' FROM r WHERE name = 'getB'),
    'a read of B has no erased member');

-- nrmctl retention status (as the owner).
SELECT is((care.retention_status(5)->'due_now'), '{"cases": 0,
    "notifications": 0}'::jsonb, 'status: nothing due now');
SELECT is((care.retention_status(5)->'next'->0->>'id'),
    (SELECT id::text FROM c WHERE name = 'B'), 'status: B comes next');
SELECT is((care.retention_status(5)->>'erased_retention'), '3',
    'status: three erased by the schedule');

-- Export by case id.
INSERT INTO r SELECT 'exp', pg_temp.api_call('privacy_export',
    'tok-privacy', 'req-exp', '192.0.2.10',
    (SELECT id::text FROM c WHERE name = 'B'), NULL);
SELECT is((SELECT (v->>'status')::int FROM r WHERE name = 'exp'), 200,
    'the privacy officer exports case B');
SELECT is((SELECT jsonb_array_length(v->'body'->'cases') FROM r
    WHERE name = 'exp'), 1, 'one case');
SELECT is((SELECT jsonb_array_length(v->'body'->'cases'->0->'sealed'
    ->'fields') FROM r WHERE name = 'exp'), 7,
    'its reference and six subject fields, sealed for nrmd');
SELECT ok((SELECT jsonb_array_length(v->'body'->'cases'->0->'audit') >= 2
    FROM r WHERE name = 'exp'), 'with the audit events about the case');
SELECT is(pg_temp.events('req-exp'), ARRAY['privacy.export/case/'
    || (SELECT id::text FROM c WHERE name = 'B')
    || '/data_protection/allowed/-'], 'the export is audited');
INSERT INTO r SELECT 'exp404', pg_temp.api_call('privacy_export',
    'tok-privacy', 'req-exp404', '192.0.2.10', gen_random_uuid()::text,
    NULL);
SELECT is((SELECT v->'problem'->>'field' FROM r WHERE name = 'exp404'),
    'case', 'an unknown case is a 404 naming the field');

-- Export by pseudonym: B and X share one.
INSERT INTO r SELECT 'expp', pg_temp.api_call('privacy_export',
    'tok-privacy', 'req-expp', '192.0.2.10', NULL,
    sha256('subject-b')::text);
SELECT set_eq($$SELECT (x->'case'->>'case_id')::uuid FROM r,
        jsonb_array_elements(v->'body'->'cases') x WHERE name = 'expp'$$,
    $$SELECT id FROM c WHERE name IN ('B', 'X')$$,
    'by pseudonym: every case of the subject');
SELECT is(cardinality(pg_temp.events('req-expp')), 3,
    'one event per case exported and one for the search');
INSERT INTO r SELECT 'expn', pg_temp.api_call('privacy_export',
    'tok-privacy', 'req-expn', '192.0.2.10', NULL,
    sha256('nobody')::text);
SELECT is((SELECT v->'body'->'cases' FROM r WHERE name = 'expn'),
    '[]'::jsonb, 'an unknown pseudonym finds nothing');
SELECT is(pg_temp.events('req-expn'), ARRAY['privacy.export/subject/-/'
    || 'data_protection/allowed/no_match'], 'audited as no_match');

-- Other roles are refused.
SELECT is((pg_temp.api_call('privacy_export', 'tok-coordinator',
    'req-exp403', '192.0.2.10', (SELECT id::text FROM c WHERE name = 'B'),
    NULL)->>'status')::int, 403, 'a coordinator may not export');
SELECT is((pg_temp.api_call('privacy_erase', 'tok-assessor', 'req-er403',
    '192.0.2.10', (SELECT id::text FROM c WHERE name = 'B'),
    'objection')->>'status')::int, 403, 'an assessor may not erase');

-- Rectification: step one hands nrmd the subject's key.
INSERT INTO r SELECT 'prep', pg_temp.api_call('privacy_rectify_prepare',
    'tok-privacy', 'req-prep', '192.0.2.10',
    (SELECT id::text FROM c WHERE name = 'B'), 'phone');
SELECT is((SELECT v->'body'->'data_key'->>'id' FROM r WHERE name = 'prep'),
    (SELECT s.data_key_id::text FROM care.subject s JOIN c
        ON c.sig = s.signal_id WHERE c.name = 'B'),
    'step one: the subject''s data key');
SELECT is((pg_temp.api_call('privacy_rectify_prepare', 'tok-privacy',
    'req-prep400', '192.0.2.10', (SELECT id::text FROM c WHERE name = 'B'),
    'pseudonym')->'problem'->>'field'), 'field',
    'a field that is no subject field is refused, naming field');
CREATE TEMP TABLE old AS SELECT s.phone_ct, s.data_key_id FROM care.subject s
JOIN c ON c.sig = s.signal_id WHERE c.name = 'B';
GRANT SELECT ON old TO PUBLIC;
INSERT INTO r SELECT 'rect', pg_temp.api_call('privacy_rectify',
    'tok-privacy', 'req-rect', '192.0.2.10',
    (SELECT id::text FROM c WHERE name = 'B'), 'phone',
    encode('\x01'::bytea || uuid_send(old.data_key_id)
        || decode(repeat('ab', 40), 'hex'), 'base64'), NULL, 'false',
    'inaccurate') FROM old;
SELECT is((SELECT (v->>'status')::int FROM r WHERE name = 'rect'), 200,
    'the privacy officer rectifies the phone');
SELECT is((SELECT r.old_ct FROM care.rectification r JOIN c
    ON c.sig = r.signal_id WHERE c.name = 'B'), (SELECT phone_ct FROM old),
    'the old value is kept, sealed as it was');
SELECT is((SELECT octet_length(s.phone_ct) FROM care.subject s JOIN c
    ON c.sig = s.signal_id WHERE c.name = 'B'), 57, 'the new one stored');
SELECT is(pg_temp.events('req-rect'), ARRAY['privacy.rectify/case/'
    || (SELECT id::text FROM c WHERE name = 'B')
    || '/data_protection/allowed/inaccurate'], 'audited with its ground');
SELECT is((pg_temp.api_call('privacy_rectify', 'tok-privacy',
    'req-rect400', '192.0.2.10', (SELECT id::text FROM c WHERE name = 'B'),
    'phone', 'AQ==', NULL, 'false', 'because')->'problem'->>'field'),
    'ground', 'a ground that is no code is refused, naming ground');
SELECT is(pg_temp.violation($$SELECT pg_temp.api_call('privacy_rectify',
    'tok-privacy', 'req-rectkey', '192.0.2.10',
    (SELECT id::text FROM c WHERE name = 'B'), 'phone',
    encode('\x01'::bytea || uuid_send(gen_random_uuid())
        || decode(repeat('ab', 40), 'hex'), 'base64'), NULL, 'false',
    'inaccurate')$$), '23514',
    'a value sealed with another key is refused');
INSERT INTO r SELECT 'exp2', pg_temp.api_call('privacy_export',
    'tok-privacy', 'req-exp2', '192.0.2.10',
    (SELECT id::text FROM c WHERE name = 'B'), NULL);
SELECT is((SELECT x->'sealed'->'fields'->0->>'aad' FROM r,
    jsonb_array_elements(v->'body'->'cases'->0->'rectifications') x
    WHERE name = 'exp2'), 'care.subject/phone/'
    || (SELECT sig::text FROM c WHERE name = 'B'),
    'the export carries the old value sealed with its column''s AAD');

-- The export carries B's notes (one corrected) and the reporter's
-- follow-up, each text sealed with its own AAD, dates and roles only
-- (never the author's key).
CREATE TEMP TABLE w (name text PRIMARY KEY, id uuid);
GRANT ALL ON w TO PUBLIC;
INSERT INTO w VALUES ('n1', gen_random_uuid()), ('n2', gen_random_uuid()),
    ('f1', gen_random_uuid());
INSERT INTO care.case_note (id, case_id, at, author_key_id, author_role,
    corrects, data_key_id, text_ct)
SELECT w.id, c.id, now() - (length(w.name) || ' minutes')::interval
        + (right(w.name, 1) || ' seconds')::interval,
    'b0000000-0000-4000-8000-000000000003', 'holder',
    CASE w.name WHEN 'n2' THEN (SELECT id FROM w WHERE name = 'n1') END,
    s.data_key_id, '\x01'::bytea || uuid_send(s.data_key_id)
        || decode(repeat('cd', 40), 'hex')
FROM w, c JOIN care.subject s ON s.signal_id = c.sig
WHERE c.name = 'B' AND w.name IN ('n1', 'n2') ORDER BY w.name;
INSERT INTO care.signal_followup (id, signal_id, case_id, api_key_id,
    data_key_id, text_ct)
SELECT w.id, c.sig, c.id, 'b0000000-0000-4000-8000-000000000001',
    s.data_key_id, '\x01'::bytea || uuid_send(s.data_key_id)
        || decode(repeat('ef', 40), 'hex')
FROM w, c JOIN care.subject s ON s.signal_id = c.sig
WHERE c.name = 'B' AND w.name = 'f1';
INSERT INTO r SELECT 'exp3', pg_temp.api_call('privacy_export',
    'tok-privacy', 'req-exp3', '192.0.2.10',
    (SELECT id::text FROM c WHERE name = 'B'), NULL);
SELECT is((SELECT jsonb_agg(jsonb_build_array(x->>'id', x->>'author_role',
        x->>'corrects', x->>'corrected_by', x ? 'by', x->>'text',
        x->'sealed'->'fields'->0->>'aad', x->'sealed'->'fields'->0->>'path',
        x->'sealed'->'data_key'->>'wrapped' IS NOT NULL))
    FROM r, jsonb_array_elements(v->'body'->'cases'->0->'notes') x
    WHERE name = 'exp3'),
    (SELECT jsonb_agg(jsonb_build_array(w.id, 'holder', p.id, q.id, false,
        NULL, 'care.case_note/text/' || w.id, 'text', true) ORDER BY w.name)
    FROM w LEFT JOIN w p ON p.name = 'n1' AND w.name = 'n2'
    LEFT JOIN w q ON q.name = 'n2' AND w.name = 'n1'
    WHERE w.name IN ('n1', 'n2')),
    'the export carries the notes, oldest first: the correction, roles '
    'only, each text sealed with its AAD');
SELECT is((SELECT jsonb_agg(jsonb_build_array(x->>'id', x->>'author_role',
        x ? 'api_key_id', x->>'text', x->'sealed'->'fields'->0->>'aad',
        x->>'at' IS NOT NULL))
    FROM r, jsonb_array_elements(v->'body'->'cases'->0->'followups') x
    WHERE name = 'exp3'),
    (SELECT jsonb_build_array(jsonb_build_array(w.id, 'reporter', false,
        NULL, 'care.signal_followup/text/' || w.id, true)) FROM w
    WHERE w.name = 'f1'),
    'and the reporter''s follow-up, its text sealed with its AAD');
SELECT is((SELECT v->'body'->'cases'->0->'notes' FROM r
    WHERE name = 'exp3'), (SELECT jsonb_agg(e ORDER BY e->>'at')
    FROM r, jsonb_array_elements(v->'body'->'cases'->0->'notes') e
    WHERE name = 'exp3'), 'notes are in time order');
INSERT INTO care.support_item (case_id, service, referral, requested_on,
    created_by, referring_agency_id, region_code)
SELECT k.id, 'legal_aid', false, current_date,
    'b0000000-0000-4000-8000-000000000003', a.agency_id, k.region_code
FROM c JOIN care.case k ON k.id = c.id
CROSS JOIN (SELECT agency_id FROM auth.api_key
    WHERE id = 'b0000000-0000-4000-8000-000000000003') a
WHERE c.name = 'B';
SELECT is((SELECT jsonb_agg(jsonb_build_array(x->>'service',
        x->>'status', x ? 'created_by'))
    FROM jsonb_array_elements(pg_temp.api_call('privacy_export',
        'tok-privacy', 'req-exp3s', '192.0.2.10',
        (SELECT id::text FROM c WHERE name = 'B'), NULL)
        ->'body'->'cases'->0->'support') x),
    '[["legal_aid", "requested", false]]'::jsonb,
    'the export carries the support plan, without who wrote it');
SELECT is(pg_temp.sqlstate_as('nrm_privacy_officer',
    $$SELECT care.privacy_care_json(gen_random_uuid(), false)$$), '42501',
    'the privacy officer cannot call the notes reader itself');

-- Erasure on request.
SELECT is((pg_temp.api_call('privacy_erase', 'tok-privacy', 'req-er400',
    '192.0.2.10', (SELECT id::text FROM c WHERE name = 'B'),
    'retention')->'problem'->>'field'), 'ground',
    'retention is no ground of a request');
INSERT INTO r SELECT 'erase', pg_temp.api_call('privacy_erase',
    'tok-privacy', 'req-erase', '192.0.2.10',
    (SELECT id::text FROM c WHERE name = 'B'), 'consent_withdrawn');
SELECT is((SELECT v->'body'->'erased'->>'ground' FROM r
    WHERE name = 'erase'), 'consent_withdrawn', 'B is erased on request');
SELECT is((SELECT count(*)::int FROM care.rectification r JOIN c
    ON c.sig = r.signal_id WHERE c.name = 'B' AND r.old_ct IS NULL), 1,
    'its rectified old value goes too');
SELECT is(pg_temp.events('req-erase'), ARRAY['privacy.erase/case/'
    || (SELECT id::text FROM c WHERE name = 'B')
    || '/data_protection/allowed/consent_withdrawn'],
    'audited with its ground');
SELECT is((pg_temp.api_call('privacy_erase', 'tok-privacy', 'req-er409',
    '192.0.2.10', (SELECT id::text FROM c WHERE name = 'B'),
    'objection')->>'status')::int, 409, 'a second erasure is a 409');

-- After the erasure, the export keeps the notes' and follow-up's dates
-- and roles, no text and nothing sealed (the keys are gone).
INSERT INTO r SELECT 'exp4', pg_temp.api_call('privacy_export',
    'tok-privacy', 'req-exp4', '192.0.2.10',
    (SELECT id::text FROM c WHERE name = 'B'), NULL);
SELECT is((SELECT jsonb_agg(jsonb_build_array(x->>'author_role',
        x ? 'sealed', x->'text'))
    FROM r, jsonb_array_elements((v->'body'->'cases'->0->'notes')
        || (v->'body'->'cases'->0->'followups')) x WHERE name = 'exp4'),
    '[["holder", false, null], ["holder", false, null],
      ["reporter", false, null]]'::jsonb,
    'an erased case''s notes and follow-ups: roles, no text, nothing '
    'sealed');
SELECT is((SELECT v->'body'->'cases'->0->'erased'->>'ground' FROM r
    WHERE name = 'exp4'), 'consent_withdrawn', '... and the export says '
    'why');

-- An erased case is never reopened (issue 15, docs/case-lifecycle.md):
-- A (erased by the schedule) and B (on request) answer 409 naming the
-- erasure; a closed case that was not erased reopens, and the schedule
-- then leaves it alone even when called for it.
INSERT INTO r SELECT 'reopenA', pg_temp.case_reopen('tok-coordinator',
    (SELECT id FROM c WHERE name = 'A'), p_request_id => 'req-reopen-a');
SELECT is((SELECT ARRAY[v->>'status', v->'problem'->>'code',
    v->'problem'->>'field', v->'problem'->'erased'->>'ground'] FROM r
    WHERE name = 'reopenA'), ARRAY['409', 'conflict', 'case', 'retention'],
    'reopening an erased case: 409 naming the case and its erasure');
SELECT is((SELECT v->'problem'->>'detail' FROM r WHERE name = 'reopenA'),
    'the personal data of this case were erased, so it cannot be reopened: '
    'record the person''s return as a new signal', '... saying why');
SELECT is(pg_temp.events('req-reopen-a'), ARRAY['case.reopen/case/'
    || (SELECT id::text FROM c WHERE name = 'A') || '/care/failed/erased'],
    '... audited failed/erased');
SELECT is((SELECT state FROM care.case WHERE id = (SELECT id FROM c
    WHERE name = 'A')), 'closed', '... and the case stays closed');
SELECT is((pg_temp.case_reopen('tok-coordinator', (SELECT id FROM c
    WHERE name = 'B'))->'problem'->'erased'->>'ground'), 'consent_withdrawn',
    'the same after an erasure on request');
INSERT INTO r SELECT 'takeE', pg_temp.case_take('tok-coordinator',
    (SELECT id FROM c WHERE name = 'E'));
INSERT INTO r SELECT 'closeE', pg_temp.case_close('tok-coordinator',
    (SELECT id FROM c WHERE name = 'E'));
SELECT is((pg_temp.case_reopen('tok-coordinator', (SELECT id FROM c
    WHERE name = 'E'))->>'status')::int, 200,
    'a closed case that was not erased reopens');
SELECT is(pg_temp.api_as('nrm_privacy_officer', format($$SELECT
    to_jsonb(care.erase_signal(%L, %L, 'retention', NULL))$$,
    (SELECT sig FROM c WHERE name = 'E'), (SELECT id FROM c
    WHERE name = 'E'))), 'false'::jsonb,
    'the schedule never erases a case that is open again');
SELECT is((SELECT count(*)::int FROM care.erasure e JOIN c
    ON c.sig = e.signal_id WHERE c.name = 'E'), 0, '... E keeps its data');

-- every case this file wrote carries its item as defined
-- (tests/db/case_item_ref.psql; 0030)
SELECT is(pg_temp.case_items_stale(), '{}'::uuid[],
    'each case''s stored item is the item of its row, signal and holder');

SELECT * FROM finish();
ROLLBACK;
