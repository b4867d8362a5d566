-- 97_panel.sql - identification by a panel (0023, sql/api/55_panel.sql,
-- issue 19): the profiles' models; referral and its refusals; votes and
-- recusals in a member's own session only; blind voting; quorum;
-- majority, its tie, the chair's casting vote, unanimity and its split;
-- dissent in the decision; the uk second review of negatives;
-- reconsideration by a panel without the first one's members; the
-- inbox of pending decisions and escalation to the chair; separation
-- from the investigation track; the vote's rationale sealed.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(94);
\ir fixtures.psql
SELECT pg_temp.sep_investigators();

-- Persons with a session each: 'sess-<name>' is their cookie.
CREATE FUNCTION pg_temp.person(p_name text, p_role text DEFAULT 'assessor')
RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	v_key uuid := gen_random_uuid();
	v_id uuid := gen_random_uuid();
BEGIN
	INSERT INTO auth.api_key (id, token_hash, agency_id, role, regions,
	    label, revoked_at)
	VALUES (v_key, sha256(('nokey-' || p_name)::bytea),
	    'a0000000-0000-4000-8000-000000000005', p_role,
	    CASE WHEN p_role = 'coordinator' THEN '{VR13}'::text[] END, NULL,
	    now());
	INSERT INTO auth.person (id, login, display_name, agency_id, role,
	    regions, key_id)
	VALUES (v_id, 'panel.' || p_name, 'Lid ' || p_name,
	    'a0000000-0000-4000-8000-000000000005', p_role,
	    CASE WHEN p_role = 'coordinator' THEN '{VR13}'::text[] END, v_key);
	INSERT INTO auth.session (token_hash, person_id, idle_seconds,
	    expires_at)
	VALUES (sha256(('sess-' || p_name)::bytea), v_id, 3600,
	    now() + interval '1 day');
	RETURN v_id;
END
$$;
CREATE FUNCTION pg_temp.pid(p_name text) RETURNS uuid
LANGUAGE sql STABLE AS $$
	SELECT id FROM auth.person WHERE login = 'panel.' || p_name
$$;
-- A member entry of a referral.
CREATE FUNCTION pg_temp.m(p_name text, p_discipline text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('person_id', pg_temp.pid(p_name),
	    'discipline', p_discipline)
$$;
CREATE FUNCTION pg_temp.assign(p_token text, p_case uuid, p_body jsonb,
    p_profile text DEFAULT 'nl') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.panel_assign(sha256(%L::bytea), '
	    '%L, %L::inet, %L::uuid, %L::jsonb, %L)', p_token, 'req-assign',
	    '192.0.2.10', p_case, p_body, p_profile))
$$;
CREATE FUNCTION pg_temp.pget(p_token text, p_case uuid) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.panel_get(sha256(%L::bytea), '
	    '%L, %L::inet, %L::uuid)', p_token, 'req-pget', '192.0.2.10',
	    p_case))
$$;
CREATE FUNCTION pg_temp.vote(p_token text, p_case uuid, p_outcome text,
    p_extra jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.panel_vote(sha256(%L::bytea), '
	    '%L, %L::inet, %L::uuid, %L::jsonb)', p_token, 'req-vote',
	    '192.0.2.10', p_case, jsonb_build_object('outcome', p_outcome,
	        'reason', CASE p_outcome WHEN 'positive' THEN 'indicators_met'
	        ELSE 'insufficient_information' END) || p_extra))
$$;
-- Members a1, a2, ... vote p_outcomes[1], p_outcomes[2], ... in turn.
CREATE FUNCTION pg_temp.votes(p_case uuid, p_outcomes text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1 .. cardinality(p_outcomes) LOOP
		PERFORM pg_temp.vote('sess-a' || i, p_case, p_outcomes[i]);
	END LOOP;
END
$$;
CREATE FUNCTION pg_temp.recuse(p_token text, p_case uuid,
    p_reason text DEFAULT 'conflict_of_interest') RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.panel_recuse(sha256(%L::bytea), '
	    '%L, %L::inet, %L::uuid, %L::jsonb)', p_token, 'req-recuse',
	    '192.0.2.10', p_case, jsonb_build_object('reason', p_reason)))
$$;
CREATE FUNCTION pg_temp.pending(p_token text) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.panel_pending(sha256(%L::bytea), '
	    '%L, %L::inet)', p_token, 'req-pending', '192.0.2.10'))
$$;
CREATE FUNCTION pg_temp.initial(p_case uuid) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT pg_temp.a(format('SELECT api.ident_record(sha256(%L::bytea), '
	    '%L, %L::inet, %L::uuid, %L::jsonb, %L)', 'tok-assessor',
	    'req-initial', '192.0.2.10', p_case,
	    jsonb_build_object('stage', 'initial', 'outcome', 'positive',
	        'deciding_body', 'assessment_body', 'rationale', NULL,
	        'decided_on', (now() AT TIME ZONE 'Europe/Amsterdam')::date),
	    'nl'))
$$;
-- A case with its initial indication, by name.
CREATE FUNCTION pg_temp.ready(p_name text) RETURNS uuid
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_temp.named_case(p_name);
	PERFORM pg_temp.initial(pg_temp.cid(p_name));
	RETURN pg_temp.cid(p_name);
END
$$;
-- The panel of three (law, care, medicine) a1 a2 a3, chaired by a1.
CREATE FUNCTION pg_temp.three(p_a text DEFAULT 'a1', p_b text DEFAULT 'a2',
    p_c text DEFAULT 'a3') RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('members', jsonb_build_array(
	    pg_temp.m(p_a, 'law'), pg_temp.m(p_b, 'care'),
	    pg_temp.m(p_c, 'medicine')), 'chair', pg_temp.pid(p_a))
$$;
CREATE FUNCTION pg_temp.four() RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('members', jsonb_build_array(
	    pg_temp.m('a1', 'law'), pg_temp.m('a2', 'care'),
	    pg_temp.m('a3', 'medicine'), pg_temp.m('a4', 'academia')),
	    'chair', pg_temp.pid('a1'))
$$;
CREATE FUNCTION pg_temp.status(p_case uuid) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT status || COALESCE('/' || stalled_reason, '')
	    || COALESCE('/' || outcome, '')
	FROM ident.panel WHERE case_id = p_case ORDER BY round DESC LIMIT 1
$$;

DO $$
DECLARE
	n text;
BEGIN
	FOREACH n IN ARRAY ARRAY['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'r1']
	LOOP
		PERFORM pg_temp.person(n);
	END LOOP;
	PERFORM pg_temp.person('c1', 'coordinator');
END
$$;
-- Profiles for the other rules (configuration: a country picks one).
INSERT INTO ident.profile (code, name, initial_target_working_days,
    min_days_initial_to_conclusive, source, panel_model, panel_quorum,
    panel_disciplines, panel_rule, panel_blind, panel_working_days)
VALUES
	('t_unanimity', 'Test unanimity', 5, 30, 'test', 'panel', 3, '{}',
	    'unanimity', true, 20),
	('t_casting', 'Test casting', 5, 30, 'test', 'panel', 3, '{}',
	    'chair_casting', true, 20),
	('t_open', 'Test open voting', 5, 30, 'test', 'panel', 3, '{}',
	    'majority', false, 20);
INSERT INTO ident.profile (code, name, initial_target_working_days,
    min_days_initial_to_conclusive, source)
VALUES ('t_none', 'Test without panel', 5, 30, 'test');

-- ---------------------------------------------------------------------
-- The profiles' models.
-- ---------------------------------------------------------------------
SELECT is((SELECT row(panel_model, panel_quorum, panel_disciplines,
    panel_rule, panel_blind, second_review_negative)::text
    FROM ident.profile WHERE code = 'nl'),
    row('panel', 3, '{law,care}'::text[], 'majority', true, false)::text,
    'nl: a panel of at least three, law and care among the voters, '
    'majority, blind');
SELECT is((SELECT row(panel_model, panel_quorum, panel_rule,
    second_review_negative)::text FROM ident.profile WHERE code = 'uk'),
    row('single', 1, 'single', true)::text,
    'uk: a single decision-maker, negatives to a second reviewer');
SELECT is(pg_temp.violation($$UPDATE ident.profile SET panel_rule = NULL
    WHERE code = 'nl'$$), 'profile_panel_complete_check',
    'a panel model names its rule');

-- ---------------------------------------------------------------------
-- Referral.
-- ---------------------------------------------------------------------
SELECT pg_temp.ready('X');
SELECT pg_temp.named_case('NOINIT');

SELECT is((pg_temp.assign('tok-coordinator', pg_temp.cid('X'),
    pg_temp.three()))->>'status', '403',
    'a coordinator may not refer a case to a panel');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('X'),
    pg_temp.three(), 't_none')->'problem'->>'code', 'conflict',
    'a profile without a panel: 409 (the single route decides)');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('X'),
    '{"chair": null}')->'problem'->>'field', 'members',
    'members are required');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('X'),
    pg_temp.three() || jsonb_build_object('members', jsonb_build_array(
        pg_temp.m('a1', 'law'), pg_temp.m('a1', 'care'),
        pg_temp.m('a3', 'medicine'))))->'problem'->>'detail',
    'a person is a member once', 'no member twice');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('X'),
    pg_temp.three() || '{"members": [{"person_id": "x"}]}')
    ->'problem'->>'field', 'members', 'a member is a person id');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('NOINIT'),
    pg_temp.three())->'problem'->>'field', 'case',
    'a case goes to a panel after its initial indication');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('X'),
    pg_temp.three('a1', 'a2', 'c1'))->'problem'->>'field', 'members',
    'a member is a person of the assessor role');
SELECT is((pg_temp.last_event('panel.create')).reason, 'not_an_assessor',
    'audited failed/not_an_assessor');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('X'),
    jsonb_build_object('members', jsonb_build_array(pg_temp.m('a1', 'law'),
        pg_temp.m('a2', 'care')), 'chair', pg_temp.pid('a1')))
    ->'problem'->>'detail', 'quorum: the nl profile needs at least 3 members',
    'fewer members than the quorum: 422');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('X'),
    jsonb_build_object('members', jsonb_build_array(pg_temp.m('a1', 'law'),
        pg_temp.m('a2', 'medicine'), pg_temp.m('a3', 'other')),
        'chair', pg_temp.pid('a1')))->'problem'->>'detail',
    'quorum: the members must include the disciplines law, care',
    'the required disciplines: 422');

CREATE TEMP TABLE pr (k text PRIMARY KEY, v jsonb);
INSERT INTO pr VALUES ('assign', pg_temp.assign('tok-assessor',
    pg_temp.cid('X'), pg_temp.three()));
SELECT is((SELECT v->>'status' FROM pr WHERE k = 'assign'), '201',
    'the assessment body refers the case: 201');
SELECT is((SELECT (v->'body') - 'id' - 'case_id' - 'assigned_at' - 'members'
    - 'chair' - 'due_on' FROM pr WHERE k = 'assign'),
    '{"round": 1, "reconsideration": false, "profile": "nl",
      "model": "panel", "rule": "majority",
      "quorum": {"members": 3, "disciplines": ["law", "care"]},
      "blind": true, "second_review": false, "second_reviewer": null,
      "overdue": false, "escalated_to_chair": false, "status": "open",
      "stalled_reason": null, "votes_cast": 0, "votes_visible": false,
      "votes": null, "decision": null}'::jsonb,
    'the panel: the profile''s rules, open, no votes');
SELECT is((SELECT (v->'body'->>'due_on')::date FROM pr WHERE k = 'assign'),
    ident.add_working_days((now() AT TIME ZONE 'Europe/Amsterdam')::date,
        20), 'due 20 working days after the referral (the profile)');
SELECT is((SELECT jsonb_array_length(v->'body'->'members') FROM pr
    WHERE k = 'assign'), 3, 'three members');
SELECT is((SELECT row(e.object_id, e.purpose, e.outcome)::text
    FROM pg_temp.last_event('panel.create') e),
    row(pg_temp.cid('X')::text, 'identification', 'allowed')::text,
    'audited panel.create');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('X'),
    pg_temp.three('a4', 'a5', 'a6'))->'problem'->>'code', 'conflict',
    'one panel at work per case: 409');
SELECT is(pg_temp.a(format($$SELECT api.ident_record(sha256('tok-assessor'),
    'req-single', '192.0.2.10', %L, '{"stage": "conclusive",
    "outcome": "negative", "deciding_body": "assessment_body",
    "rationale": null, "decided_on": "%s"}', 'nl')$$, pg_temp.cid('X'),
    (now() AT TIME ZONE 'Europe/Amsterdam')::date + 0))->'problem'->>'code',
    'conflict', 'no single conclusive decision while a panel is at work');

-- ---------------------------------------------------------------------
-- Votes: own session only; blind.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.vote('tok-assessor', pg_temp.cid('X'), 'positive')
    ->'problem'->>'detail', 'panel members act in their own session; an '
    'API key is not a person', 'an API key may not vote: 403');
SELECT is((pg_temp.last_event('panel.vote')).reason, 'not_a_person',
    'audited denied/not_a_person');
SELECT is(pg_temp.vote('sess-a4', pg_temp.cid('X'), 'positive')->>'status',
    '403', 'a person who is not a member may not vote');
SELECT is(pg_temp.vote('sess-a1', pg_temp.cid('X'), 'maybe')
    ->'problem'->>'field', 'outcome', 'outcome is positive or negative');
SELECT is(pg_temp.a(format($$SELECT api.panel_vote(sha256('sess-a1'), 'r',
    '192.0.2.10', %L, '{"outcome": "positive", "reason": "gut"}')$$,
    pg_temp.cid('X')))->'problem'->>'field', 'reason',
    'reason is a code');
SELECT is(pg_temp.recuse('sess-a1', pg_temp.cid('X'), 'bored')
    ->'problem'->>'field', 'reason', 'a recusal reason is a code');

INSERT INTO pr VALUES ('v1', pg_temp.vote('sess-a1', pg_temp.cid('X'),
    'positive', jsonb_build_object('id', 'e1000000-0000-4000-8000-000000000001',
    'data_key', jsonb_build_object('id',
        'e2000000-0000-4000-8000-000000000001', 'kek_id', '0123456789abcdef',
        'wrapped', translate(encode(decode(repeat('ab', 60), 'hex'),
            'base64'), E'\n', '')),
    'rationale_ct', pg_temp.sealed_b64('consistent account'))));
SELECT is((SELECT v->>'status' FROM pr WHERE k = 'v1'), '201',
    'a member votes in their own session: 201');
SELECT is((SELECT jsonb_array_length(v->'body'->'votes') FROM pr
    WHERE k = 'v1'), 1, 'the voter sees the votes cast (their own)');
SELECT is((SELECT v->'body'->'votes'->0->'sealed'->'fields'->0->>'aad'
    FROM pr WHERE k = 'v1'),
    'ident.panel_vote/rationale/e1000000-0000-4000-8000-000000000001',
    'the rationale comes sealed, bound to the vote row and column');
SELECT is((SELECT rationale_ct FROM ident.panel_vote
    WHERE id = 'e1000000-0000-4000-8000-000000000001'),
    pg_temp.sealed_bytes('consistent account'),
    'stored sealed as nrmd sent it');
SELECT is((SELECT k.signal_id FROM care.data_key k
    WHERE k.id = 'e2000000-0000-4000-8000-000000000001'),
    (SELECT signal_id FROM care.case WHERE id = pg_temp.cid('X')),
    'with a data key of the case''s signal (erased with it)');
SELECT is(pg_temp.vote('sess-a1', pg_temp.cid('X'), 'negative')
    ->'problem'->>'code', 'conflict', 'one vote per member: 409');
SELECT is(pg_temp.recuse('sess-a1', pg_temp.cid('X'))->'problem'->>'code',
    'conflict', 'no recusal after voting');
INSERT INTO pr VALUES ('blind-a2', pg_temp.pget('sess-a2', pg_temp.cid('X')));
SELECT is((SELECT row(v->'body'->'panel'->'votes',
    v->'body'->'panel'->'votes_cast', v->'body'->'panel'->'votes_visible')
    ::text FROM pr WHERE k = 'blind-a2'),
    row('null'::jsonb, '1'::jsonb, 'false'::jsonb)::text,
    'blind: a member who has not voted sees a count, not the votes');
SELECT is(pg_temp.pget('tok-assessor', pg_temp.cid('X'))->'body'->'panel'
    ->'votes', 'null'::jsonb,
    'blind: nor does the body''s API key before the decision');
SELECT is((SELECT v->'body'->'panel'->'members'->0->>'voted' FROM pr
    WHERE k = 'blind-a2'), 'true', 'but whether a member voted shows');

INSERT INTO pr VALUES ('v2', pg_temp.vote('sess-a2', pg_temp.cid('X'),
    'negative'));
SELECT is(pg_temp.status(pg_temp.cid('X')), 'open',
    'two of three voted: no decision yet');
INSERT INTO pr VALUES ('v3', pg_temp.vote('sess-a3', pg_temp.cid('X'),
    'positive'));
SELECT is(pg_temp.status(pg_temp.cid('X')), 'decided/positive',
    'all voted, quorum and majority met: decided positive');
SELECT is((SELECT v->'body'->'decision'->'dissent' FROM pr WHERE k = 'v3'),
    jsonb_build_array(jsonb_build_object('person_id', pg_temp.pid('a2'),
        'display_name', 'Lid a2', 'kind', 'member', 'outcome', 'negative',
        'reason', 'insufficient_information')),
    'the decision shows the dissent');
SELECT is((SELECT jsonb_array_length(v->'body'->'decision'->'voters')
    FROM pr WHERE k = 'v3'), 3, 'and names the three voters');
SELECT is((SELECT row(d.stage, d.outcome, d.deciding_body)::text
    FROM ident.decision d JOIN ident.panel p ON p.decision_id = d.id
    WHERE p.case_id = pg_temp.cid('X')),
    row('conclusive', 'positive', 'assessment_body')::text,
    'recorded as the case''s conclusive identification decision');
SELECT is((SELECT pg_temp.a(format($$SELECT api.ident_list(
    sha256('tok-assessor'), 'r', '192.0.2.10', %L)$$, pg_temp.cid('X')))
    ->'body'->'items'->0->>'panel_id'),
    (SELECT id::text FROM ident.panel WHERE case_id = pg_temp.cid('X')),
    'the identification history names the panel');
SELECT is((pg_temp.pget('sess-a2', pg_temp.cid('X'))->'body'->'panel'
    ->'votes'->1->>'dissent'), 'true',
    'once decided every vote shows, the dissenting one marked');

-- ---------------------------------------------------------------------
-- Reconsideration: a new panel, none of the first one's members.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('X'),
    pg_temp.three('a4', 'a5', 'a1'))->'problem'->>'detail',
    'reconsideration_excludes_earlier_members: a new panel has none of '
    'the members of an earlier panel of the case',
    'a member of the first panel may not sit on the reconsideration');
INSERT INTO pr VALUES ('re', pg_temp.assign('tok-assessor', pg_temp.cid('X'),
    pg_temp.three('a4', 'a5', 'a6')));
SELECT is((SELECT row(v->>'status', v->'body'->>'round',
    v->'body'->>'reconsideration')::text FROM pr WHERE k = 're'),
    row('201', '2', 'true')::text,
    'a newly composed panel reconsiders: round 2');
SELECT pg_temp.vote('sess-' || n, pg_temp.cid('X'), 'negative')
FROM unnest(ARRAY['a4', 'a5', 'a6']) n;
SELECT is((SELECT row(d.stage, d.outcome)::text FROM ident.decision d
    JOIN ident.panel p ON p.decision_id = d.id
    WHERE p.case_id = pg_temp.cid('X') AND p.round = 2),
    row('reconsideration', 'negative')::text,
    'its decision is a reconsideration');
SELECT is(jsonb_array_length(pg_temp.pget('tok-assessor', pg_temp.cid('X'))
    ->'body'->'earlier'), 1, 'GET shows the earlier panel beside it');

-- ---------------------------------------------------------------------
-- Quorum and recusal.
-- ---------------------------------------------------------------------
SELECT pg_temp.ready('Q');
SELECT pg_temp.assign('tok-assessor', pg_temp.cid('Q'), pg_temp.three());
INSERT INTO pr VALUES ('rec', pg_temp.recuse('sess-a3', pg_temp.cid('Q')));
SELECT is((SELECT v->>'status' FROM pr WHERE k = 'rec'), '200',
    'a member recuses: 200');
SELECT is((SELECT row(m->>'recused', m->>'recusal_reason')::text
    FROM pr, jsonb_array_elements(v->'body'->'members') m
    WHERE k = 'rec' AND m->>'person_id' = pg_temp.pid('a3')::text),
    row('true', 'conflict_of_interest')::text, 'the recusal is recorded');
SELECT is((SELECT row(e.object_id, e.person_id, e.outcome)::text
    FROM pg_temp.last_event('panel.recuse') e),
    row(pg_temp.cid('Q')::text, pg_temp.pid('a3'), 'allowed')::text,
    'audited panel.recuse, with the person');
SELECT is(pg_temp.vote('sess-a3', pg_temp.cid('Q'), 'positive')
    ->'problem'->>'code', 'conflict', 'a recused member does not vote');
SELECT pg_temp.votes(pg_temp.cid('Q'), ARRAY['positive', 'positive']);
SELECT is(pg_temp.status(pg_temp.cid('Q')), 'stalled/inquorate',
    'two voters of a quorum of three: no decision (inquorate)');
SELECT is((SELECT count(*)::int FROM ident.decision d
    WHERE d.case_id = pg_temp.cid('Q') AND d.stage <> 'initial'), 0,
    'and no decision recorded');

SELECT pg_temp.ready('R');
SELECT pg_temp.assign('tok-assessor', pg_temp.cid('R'), pg_temp.four());
SELECT pg_temp.recuse('sess-a4', pg_temp.cid('R'), 'prior_involvement');
SELECT pg_temp.vote('sess-' || n, pg_temp.cid('R'), 'positive')
FROM unnest(ARRAY['a1', 'a2', 'a3']) n;
SELECT is(pg_temp.status(pg_temp.cid('R')), 'decided/positive',
    'three of four vote after a recusal: quorum met, decided');
SELECT is(pg_temp.pget('tok-assessor', pg_temp.cid('R'))->'body'->'panel'
    ->'decision'->>'unanimous', 'true', 'unanimous, no dissent');

-- The quorum's disciplines: the care member recuses.
SELECT pg_temp.ready('QD');
SELECT pg_temp.assign('tok-assessor', pg_temp.cid('QD'), pg_temp.four());
SELECT pg_temp.recuse('sess-a2', pg_temp.cid('QD'));
SELECT pg_temp.vote('sess-' || n, pg_temp.cid('QD'), 'positive')
FROM unnest(ARRAY['a1', 'a3', 'a4']) n;
SELECT is(pg_temp.status(pg_temp.cid('QD')), 'stalled/inquorate',
    'three voters but no one of care: inquorate');

-- ---------------------------------------------------------------------
-- The rules.
-- ---------------------------------------------------------------------
SELECT pg_temp.ready('TIE');
SELECT pg_temp.assign('tok-assessor', pg_temp.cid('TIE'), pg_temp.four());
SELECT pg_temp.votes(pg_temp.cid('TIE'),
    ARRAY['positive', 'negative', 'positive', 'negative']);
SELECT is(pg_temp.status(pg_temp.cid('TIE')), 'stalled/tie',
    'majority: two against two stalls');

SELECT pg_temp.ready('CAST');
SELECT pg_temp.assign('tok-assessor', pg_temp.cid('CAST'), pg_temp.four(),
    't_casting');
SELECT pg_temp.votes(pg_temp.cid('CAST'),
    ARRAY['negative', 'positive', 'positive', 'negative']);
SELECT is(pg_temp.status(pg_temp.cid('CAST')), 'decided/negative',
    'chair''s casting vote: a tie goes the chair''s way');
SELECT is(jsonb_array_length(pg_temp.pget('tok-assessor',
    pg_temp.cid('CAST'))->'body'->'panel'->'decision'->'dissent'), 2,
    'the two outvoted are the dissent');
SELECT pg_temp.ready('CAST2');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('CAST2'),
    pg_temp.three('a2', 'a3', 'a4') || jsonb_build_object('chair',
        pg_temp.pid('a1')), 't_casting')->'problem'->>'field', 'chair',
    'chair_casting: the chair is a member');

SELECT pg_temp.ready('UN');
SELECT pg_temp.assign('tok-assessor', pg_temp.cid('UN'), pg_temp.three(),
    't_unanimity');
SELECT pg_temp.votes(pg_temp.cid('UN'),
    ARRAY['positive', 'positive', 'negative']);
SELECT is(pg_temp.status(pg_temp.cid('UN')), 'stalled/split',
    'unanimity: one dissent and no decision');
SELECT pg_temp.ready('UN2');
SELECT pg_temp.assign('tok-assessor', pg_temp.cid('UN2'), pg_temp.three(),
    't_unanimity');
SELECT pg_temp.vote('sess-' || n, pg_temp.cid('UN2'), 'negative')
FROM unnest(ARRAY['a1', 'a2', 'a3']) n;
SELECT is(pg_temp.status(pg_temp.cid('UN2')), 'decided/negative',
    'unanimity: all one way decides');

SELECT pg_temp.ready('OPEN');
SELECT pg_temp.assign('tok-assessor', pg_temp.cid('OPEN'), pg_temp.three(),
    't_open');
SELECT pg_temp.vote('sess-a1', pg_temp.cid('OPEN'), 'positive');
SELECT is(jsonb_array_length(pg_temp.pget('sess-a2', pg_temp.cid('OPEN'))
    ->'body'->'panel'->'votes'), 1,
    'a profile without blind voting shows votes before one''s own');

-- ---------------------------------------------------------------------
-- uk: a single decision-maker; a negative waits for the second reviewer.
-- ---------------------------------------------------------------------
SELECT pg_temp.ready('UK');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('UK'),
    jsonb_build_object('members', jsonb_build_array(pg_temp.pid('a1')),
    'chair', pg_temp.pid('a1')), 'uk')->'problem'->>'field',
    'second_reviewer', 'uk: a second reviewer is named');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('UK'),
    jsonb_build_object('members', jsonb_build_array(pg_temp.pid('a1'),
    pg_temp.pid('a2')), 'chair', pg_temp.pid('a1'),
    'second_reviewer', pg_temp.pid('r1')), 'uk')->'problem'->>'detail',
    'quorum: the uk profile needs one decision-maker',
    'uk: one decision-maker');
SELECT is(pg_temp.assign('tok-assessor', pg_temp.cid('UK'),
    jsonb_build_object('members', jsonb_build_array(pg_temp.pid('a1')),
    'chair', pg_temp.pid('a1'), 'second_reviewer', pg_temp.pid('r1')),
    'uk')->>'status', '201', 'uk: referred to a1, r1 reviews');
SELECT is(pg_temp.vote('sess-r1', pg_temp.cid('UK'), 'positive')
    ->'problem'->>'detail',
    'the second reviewer votes on a negative decision only',
    'the reviewer does not vote before a negative');
SELECT pg_temp.vote('sess-a1', pg_temp.cid('UK'), 'negative');
SELECT is(pg_temp.status(pg_temp.cid('UK')), 'second_review',
    'a negative waits for the second reviewer');
SELECT is((SELECT count(*)::int FROM ident.decision
    WHERE case_id = pg_temp.cid('UK') AND stage <> 'initial'), 0,
    'no decision recorded yet');
SELECT is(jsonb_array_length(pg_temp.pget('sess-r1', pg_temp.cid('UK'))
    ->'body'->'panel'->'votes'), 1,
    'the reviewer sees the vote under review');
SELECT pg_temp.vote('sess-r1', pg_temp.cid('UK'), 'positive');
SELECT is(pg_temp.status(pg_temp.cid('UK')), 'decided/positive',
    'the reviewer overturns: positive');
SELECT is(pg_temp.pget('tok-assessor', pg_temp.cid('UK'))->'body'->'panel'
    ->'decision'->'dissent'->0->>'person_id', pg_temp.pid('a1')::text,
    'the overturned negative is the dissent');

SELECT pg_temp.ready('UK2');
SELECT pg_temp.assign('tok-assessor', pg_temp.cid('UK2'),
    jsonb_build_object('members', jsonb_build_array(pg_temp.pid('a2')),
    'chair', pg_temp.pid('a2'), 'second_reviewer', pg_temp.pid('r1')), 'uk');
SELECT pg_temp.vote('sess-a2', pg_temp.cid('UK2'), 'positive');
SELECT is(pg_temp.status(pg_temp.cid('UK2')), 'decided/positive',
    'uk: a positive needs no second review');
SELECT pg_temp.ready('UK3');
SELECT pg_temp.assign('tok-assessor', pg_temp.cid('UK3'),
    jsonb_build_object('members', jsonb_build_array(pg_temp.pid('a3')),
    'chair', pg_temp.pid('a3'), 'second_reviewer', pg_temp.pid('r1')), 'uk');
SELECT pg_temp.vote('sess-a3', pg_temp.cid('UK3'), 'negative');
SELECT pg_temp.vote('sess-r1', pg_temp.cid('UK3'), 'negative');
SELECT is(pg_temp.status(pg_temp.cid('UK3')), 'decided/negative',
    'uk: the reviewer confirms the negative');

-- ---------------------------------------------------------------------
-- The inbox of pending decisions; escalation to the chair.
-- ---------------------------------------------------------------------
SELECT pg_temp.ready('LATE');
SELECT pg_temp.assign('tok-assessor', pg_temp.cid('LATE'),
    pg_temp.three('a4', 'a5', 'a6'));
SELECT pg_temp.vote('sess-a5', pg_temp.cid('LATE'), 'positive');
UPDATE ident.panel SET due_on = ident.add_working_days(
    (now() AT TIME ZONE 'Europe/Amsterdam')::date - 30, 5)
WHERE case_id = pg_temp.cid('LATE');
CREATE TEMP TABLE pend AS
SELECT i AS item FROM jsonb_array_elements(pg_temp.pending('sess-a4')
    ->'body'->'items') i;
SELECT is((SELECT row(item->>'overdue', item->>'escalated_to_chair',
    item->'you'->>'chair', item->>'votes_cast',
    item->>'members_pending', (item->>'working_days_left')::int < 0)::text
    FROM pend WHERE item->>'case_id' = pg_temp.cid('LATE')::text),
    row('true', 'true', 'true', '1', '2', true)::text,
    'an overdue panel is in its chair''s inbox, escalated, with its clock');
SELECT is((SELECT item->'you'->>'to_act' FROM pend
    WHERE item->>'case_id' = pg_temp.cid('LATE')::text), 'true',
    'the chair has not voted yet: to act');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(
    pg_temp.pending('sess-a1')->'body'->'items') i
    WHERE i->>'case_id' = pg_temp.cid('LATE')::text), 0,
    'not in the inbox of someone off the panel');
SELECT is((SELECT i->>'escalated_to_chair' FROM jsonb_array_elements(
    pg_temp.pending('sess-a1')->'body'->'items') i
    WHERE i->>'case_id' = pg_temp.cid('TIE')::text), 'true',
    'a stalled panel is escalated to its chair');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(
    pg_temp.pending('tok-assessor')->'body'->'items') i
    WHERE i->>'status' = 'decided'), 0, 'decided panels are not pending');
SELECT ok((SELECT count(*) FROM jsonb_array_elements(
    pg_temp.pending('tok-assessor')->'body'->'items')) >= 5,
    'the body''s key sees every pending panel');
SELECT is(pg_temp.events('req-pending'),
    ARRAY['panel.pending/panel/-/identification/allowed/-',
        'panel.pending/panel/-/identification/allowed/-',
        'panel.pending/panel/-/identification/allowed/-',
        'panel.pending/panel/-/identification/allowed/-',
        'panel.pending/panel/-/identification/allowed/-'],
    'each read of the inbox audited');
SELECT is((SELECT count(*)::int FROM pend, jsonb_object_keys(item) k
    WHERE k IN ('outcome', 'rationale', 'votes', 'subject')), 0,
    'the inbox holds no outcome, vote or rationale');

-- ---------------------------------------------------------------------
-- Separation: nothing of the investigation; the investigator sees none.
-- ---------------------------------------------------------------------
SELECT pg_temp.ready('NOREPORT');
INSERT INTO invest.record (agency_id, signal_id, report_filed, created_by)
SELECT 'a0000000-0000-4000-8000-000000000001', c.signal_id, false,
    '71000000-0000-4000-8000-000000000001'
FROM care.case c WHERE c.id = pg_temp.cid('NOREPORT');
SELECT pg_temp.assign('tok-assessor', pg_temp.cid('NOREPORT'),
    pg_temp.three());
SELECT pg_temp.vote('sess-' || n, pg_temp.cid('NOREPORT'), 'positive')
FROM unnest(ARRAY['a1', 'a2', 'a3']) n;
SELECT is(pg_temp.status(pg_temp.cid('NOREPORT')), 'decided/positive',
    'positive although the investigation says no report was filed');
SELECT is((SELECT count(*)::int FROM invest.record r
    JOIN care.case c ON c.signal_id = r.signal_id OR c.id = r.case_id
    WHERE c.id = pg_temp.cid('X')), 0,
    'and case X was decided with no investigation at all');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_proc p
    WHERE p.proname IN ('panel_assign', 'panel_get', 'panel_vote',
        'panel_recuse', 'panel_pending', 'panel_settle', 'panel_json',
        'panel_for_member')
      AND p.prosrc ~* 'invest\.'), 0,
    'no panel function names the investigation schema');
SELECT is(pg_temp.a($$SELECT api.panel_get(sha256('tok-sep-investigator'),
    'r', '192.0.2.10', 'b0000000-0000-4000-8000-000000000001')$$)
    ->>'status', '403', 'the investigator may not read a panel');
SELECT is(pg_temp.a($$SELECT api.panel_pending(
    sha256('tok-sep-investigator'), 'r', '192.0.2.10')$$)->>'status',
    '403', 'nor the inbox of pending decisions');
SELECT is((SELECT count(*)::int FROM unnest(ARRAY['ident.panel',
    'ident.panel_member', 'ident.panel_vote']) t,
    unnest(ARRAY['SELECT', 'INSERT', 'UPDATE']) pr
    WHERE has_table_privilege('nrm_investigator', t, pr)), 0,
    'the investigator role holds no privilege on the panel tables');
SELECT is(pg_temp.sqlstate_as('nrm_investigator',
    'SELECT count(*) FROM ident.panel_vote'), '42501',
    'a direct read by the investigator role fails');
SELECT is((SELECT count(*)::int FROM unnest(ARRAY['nrm_coordinator',
    'nrm_reporter', 'nrm_analyst', 'nrm_auditor']) ro
    WHERE has_table_privilege(ro, 'ident.panel_vote', 'SELECT')), 0,
    'no other role reads the votes');

-- ---------------------------------------------------------------------
-- Statistics: panel decisions, dissent, time to decision.
-- ---------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM stats.units('panel_decisions',
    now() - interval '1 day', now() + interval '1 day')),
    (SELECT count(*)::int FROM ident.panel WHERE status = 'decided'),
    'panel_decisions counts every decided panel');
SELECT is((SELECT array_agg(u.dims->>'dissent' ORDER BY u.dims->>'dissent')
    FROM stats.units('panel_decisions', now() - interval '1 day',
        now() + interval '1 day') u WHERE u.dims->>'model' = 'single'),
    ARRAY['none', 'none', 'some'],
    'dissent: the overturned uk negative, none in the other two');
SELECT is((SELECT count(*)::int FROM stats.units('time_to_panel_decision',
    now() - interval '1 day', now() + interval '1 day') u
    WHERE u.seconds >= 0), (SELECT count(*)::int FROM ident.panel
    WHERE status = 'decided'), 'a time to decision for each');
SELECT is((stats.table('panel_decisions', to_char(now() AT TIME ZONE
    'Europe/Amsterdam', 'YYYY-MM'), '{dissent}')->>'measure'),
    'panel_decisions', 'the analyst''s door answers the measure');

SELECT * FROM finish();
ROLLBACK;
