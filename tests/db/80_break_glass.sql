-- 80_break_glass.sql - purposes and emergency ("break-glass") reads
-- (sql/0007_break_glass.sql): the per-role default purpose, the reason
-- an emergency read needs, a coordinator reading beyond its regions
-- only where audit.break_glass_policy allows it and only the one case,
-- every emergency read flagged in audit.review, the auditor's review
-- queue (list, verdict once), the queue's own append-only rules, and a
-- pending review blocking the purge of its event.
--
-- Runs in one transaction (rolled back) on a database whose committed
-- chain is empty (as 60_audit_retention.sql).
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(103);
\ir fixtures.psql

CREATE FUNCTION pg_temp.ident_list(p_token text, p_case uuid,
    p_purpose text DEFAULT NULL, p_reason text DEFAULT NULL,
    p_request_id text DEFAULT 'req-ident-list') RETURNS jsonb
RETURN pg_temp.api_call('ident_list', p_token, p_request_id, '192.0.2.10',
    p_case::text, 'nl', p_purpose, p_reason);
CREATE FUNCTION pg_temp.reviews(p_state text DEFAULT 'pending',
    p_after bigint DEFAULT NULL, p_limit integer DEFAULT 50,
    p_token text DEFAULT 'tok-auditor',
    p_request_id text DEFAULT 'req-reviews') RETURNS jsonb
RETURN pg_temp.api_call('audit_reviews', p_token, p_request_id,
    '192.0.2.20', p_state, p_after::text, p_limit::text);
CREATE FUNCTION pg_temp.review(p_event bigint, p_verdict text,
    p_token text DEFAULT 'tok-auditor',
    p_request_id text DEFAULT 'req-review') RETURNS jsonb
RETURN pg_temp.api_call('audit_review', p_token, p_request_id, '192.0.2.20',
    p_event::text, p_verdict);
-- The event a request wrote (exactly one, or the test fails on NULL).
CREATE FUNCTION pg_temp.ev(p_request_id text) RETURNS audit.event
LANGUAGE sql STABLE AS $$
	SELECT e FROM audit.event e WHERE e.request_id = p_request_id
	    AND (SELECT count(*) FROM audit.event x
	        WHERE x.request_id = p_request_id) = 1
$$;

-- ---------------------------------------------------------------------
-- Retention first, while the chain holds only what this test seals: a
-- pending review blocks the purge of its event; a reviewed one leaves
-- with it.
-- ---------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM audit.chain), 0,
    'precondition: no committed chain links');
-- 400-day-old events: below 0014's default minimum retention age.
UPDATE audit.retention_policy SET min_age = interval '1 day';
INSERT INTO audit.event (at, action, object_type, object_id, purpose,
    outcome, reason, request_id)
VALUES (now() - interval '400 days', 'case.read', 'case', 'old-glass',
    'emergency', 'allowed', 'immediate_danger', 'req-old-glass');
INSERT INTO audit.review (event_id, kind, flagged_at)
SELECT id, 'break_glass', now() - interval '400 days' FROM audit.event
WHERE request_id = 'req-old-glass';
SELECT is((pg_temp.audit_seal()->>'busy')::boolean, false, 'sealed');
SELECT is(pg_temp.sqlstate_as('nrm_owner',
    $$SELECT audit.purge_before(now() - interval '1 day')$$), '42501',
    'purge: refused while a purged event''s review is pending');
SELECT is((SELECT count(*)::int FROM audit.event
    WHERE request_id = 'req-old-glass'), 1, '... the event is still there');
UPDATE audit.review SET reviewed_at = now() - interval '399 days',
    reviewed_by = 'b0000000-0000-4000-8000-000000000010',
    verdict = 'justified'
WHERE event_id = (SELECT id FROM audit.event
    WHERE request_id = 'req-old-glass');
CREATE TEMP TABLE purged (v jsonb);
GRANT INSERT ON purged TO nrm_owner;
SET LOCAL ROLE nrm_owner;
INSERT INTO purged SELECT audit.purge_before(now() - interval '1 day');
RESET ROLE;
SELECT is((SELECT (v->>'purged')::int FROM purged), 1,
    'purge: a reviewed event is purged');
SELECT is((SELECT count(*)::int FROM audit.review r WHERE NOT EXISTS (
    SELECT 1 FROM audit.event e WHERE e.id = r.event_id)), 0,
    '... and its review with it (no orphan review)');

-- ---------------------------------------------------------------------
-- Vocabulary and policy.
-- ---------------------------------------------------------------------
SELECT results_eq($$SELECT r, audit.default_purpose(r) FROM unnest(ARRAY[
    'reporter', 'coordinator', 'assessor', 'investigator', 'auditor',
    'analyst', 'admin']) r$$,
    $$VALUES ('reporter', 'intake'), ('coordinator', 'care'),
        ('assessor', 'identification'), ('investigator', 'investigation'),
        ('auditor', 'audit'), ('analyst', 'monitoring'),
        ('admin', NULL::text)$$,
    'the per-role default purposes (docs/audit.md#purposes)');
SELECT is(audit.break_glass_reasons(), ARRAY['immediate_danger',
    'person_relocated', 'region_unreachable', 'continuity_of_care'],
    'the break-glass reason codes');
SELECT results_eq($$SELECT role, action FROM audit.break_glass_policy$$,
    $$VALUES ('coordinator', 'case.read')$$,
    'shipped policy: coordinators may read a case beyond their regions');
SELECT is(pg_temp.probe($$INSERT INTO audit.break_glass_policy
    VALUES ('investigator', 'case.read')$$),
    'break_glass_policy_role_check',
    'the policy cannot let an investigator read care data');
SELECT is(pg_temp.probe($$INSERT INTO audit.break_glass_policy
    VALUES ('coordinator', 'case.take')$$),
    'break_glass_policy_action_check', 'reads only: no break-glass writes');

-- Privileges: nobody but the owner touches the policy; the queue is the
-- auditor's to read and complete, nobody's to write directly.
SELECT ok(NOT has_table_privilege(r, 'audit.break_glass_policy', p),
    r || ' has no ' || p || ' on audit.break_glass_policy')
FROM unnest(ARRAY['nrm_app', 'nrm_coordinator', 'nrm_assessor',
    'nrm_auditor', 'nrm_admin']) r,
    unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p
WHERE r IN ('nrm_coordinator', 'nrm_admin') OR p = 'SELECT';
SELECT ok(NOT has_table_privilege(r, 'audit.review', p),
    r || ' has no ' || p || ' on audit.review')
FROM unnest(ARRAY['nrm_app', 'nrm_coordinator', 'nrm_assessor',
    'nrm_auditor']) r, unnest(ARRAY['INSERT', 'DELETE']) p;
SELECT ok(NOT has_table_privilege('nrm_coordinator', 'audit.review',
    'SELECT'), 'a coordinator cannot see the review queue');

-- ---------------------------------------------------------------------
-- Case reads: purpose and reason.
-- ---------------------------------------------------------------------
SELECT pg_temp.named_case('B') \g /dev/null
SELECT pg_temp.named_case('C') \g /dev/null
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('B'), 'emergency',
    'req-bg-1'),
    '{"status": 400, "problem": {"code": "bad_request",
      "detail": "an emergency read needs a reason, one of: immediate_danger, person_relocated, region_unreachable, continuity_of_care",
      "field": "reason"}}', 'emergency without a reason: 400 on reason');
SELECT is(row((pg_temp.ev('req-bg-1')).purpose, (pg_temp.ev('req-bg-1')).outcome,
    (pg_temp.ev('req-bg-1')).reason)::text, '(,failed,bad_request)',
    '... audited failed/bad_request');
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('B'), 'emergency',
    'req-bg-2', 'because')->'problem'->>'field', 'reason',
    'a reason outside the list: 400 on reason');
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('B'), 'care',
    'req-bg-3', 'immediate_danger')->'problem'->>'detail',
    'a reason is given only with purpose emergency',
    'a reason without emergency: 400');
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('B'), 'care',
    'req-bg-3b')->'status', '200', 'care read: 200');
SELECT ok(NOT pg_temp.case_get('tok-coordinator', pg_temp.cid('B'), 'care',
    'req-bg-3c')->'body' ? 'break_glass', '... without a break_glass member');
SELECT is((SELECT count(*)::int FROM audit.review r JOIN audit.event e
    ON e.id = r.event_id WHERE e.request_id IN ('req-bg-3b', 'req-bg-3c')),
    0, '... and not flagged');

-- ---------------------------------------------------------------------
-- Beyond scope: VR01's coordinator and VR13's case B.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.case_get('tok-coordinator-vr01', pg_temp.cid('B'), NULL,
    'req-bg-4')->'status', '404', 'out of scope without emergency: 404');
SELECT is((pg_temp.ev('req-bg-4')).reason, 'out_of_scope',
    '... audited out_of_scope');

CREATE TEMP TABLE glass AS SELECT pg_temp.case_get('tok-coordinator-vr01',
    pg_temp.cid('B'), 'emergency', 'req-bg-5', 'person_relocated') AS v;
SELECT is((SELECT v->'status' FROM glass), '200',
    'emergency read beyond scope, policy allows: 200');
SELECT is((SELECT v->'body'->'case'->>'case_id' FROM glass),
    pg_temp.cid('B')::text, '... the case asked for');
SELECT is((SELECT pg_temp.sealed_at(v, 'subject.given_name') FROM glass),
    pg_temp.subject()->>'given_name_ct', '... with its personal data');
SELECT ok((SELECT jsonb_array_length(v->'body'->'history') FROM glass) >= 1,
    '... and its history');
SELECT is((SELECT v->'body'->'break_glass' FROM glass),
    '{"reason": "person_relocated", "beyond_scope": true,
      "review": "pending"}', '... marked as a break-glass read');
SELECT is(row((pg_temp.ev('req-bg-5')).role, (pg_temp.ev('req-bg-5')).action,
    (pg_temp.ev('req-bg-5')).purpose, (pg_temp.ev('req-bg-5')).outcome,
    (pg_temp.ev('req-bg-5')).reason)::text,
    '(coordinator,case.read,emergency,allowed,person_relocated)',
    'audited: emergency, allowed, the stated reason');
SELECT is((SELECT row(r.kind, r.reviewed_at IS NULL, r.verdict)::text
    FROM audit.review r WHERE r.event_id = (pg_temp.ev('req-bg-5')).id),
    '(break_glass,t,)', '... and flagged for review, pending');

-- Only that one case, only for that call.
SELECT is(pg_temp.case_get('tok-coordinator-vr01', pg_temp.cid('C'), NULL,
    'req-bg-6')->'status', '404',
    'the next read of another VR13 case: 404 again');
SELECT is(pg_temp.case_get('tok-coordinator-vr01', pg_temp.cid('B'), NULL,
    'req-bg-7')->'status', '404',
    'and of the same case without emergency: 404 again');
SELECT is(pg_temp.case_take('tok-coordinator-vr01', pg_temp.cid('B'), NULL,
    'req-bg-8')->'status', '404', 'break-glass never writes: take is 404');
SELECT is(pg_temp.ident_list('tok-coordinator-vr01', pg_temp.cid('B'),
    'emergency', 'immediate_danger', 'req-bg-9')->'status', '404',
    'identification beyond scope: 404 (the policy covers case.read only)');
SELECT is((pg_temp.ev('req-bg-9')).reason, 'out_of_scope',
    '... audited denied/out_of_scope with purpose emergency');
SELECT is((pg_temp.ev('req-bg-9')).purpose, 'emergency', '... (purpose)');

-- An unknown case stays a 404, and nothing is flagged.
SELECT is(pg_temp.case_get('tok-coordinator-vr01',
    'd0000000-0000-4000-8000-0000000000ff', 'emergency', 'req-bg-10',
    'immediate_danger'),
    pg_temp.case_get('tok-coordinator-vr01', pg_temp.cid('C'), NULL,
    'req-bg-10b'), 'emergency on an unknown case: the same 404 answer');
SELECT is((pg_temp.ev('req-bg-10')).reason, 'not_found',
    '... audited not_found');
SELECT is((SELECT count(*)::int FROM audit.review
    WHERE event_id = (pg_temp.ev('req-bg-10')).id), 0, '... not flagged');

-- Withdrawn policy: the same request is the ordinary 404.
SAVEPOINT nopolicy;
DELETE FROM audit.break_glass_policy;
SELECT is(pg_temp.case_get('tok-coordinator-vr01', pg_temp.cid('B'),
    'emergency', 'req-bg-11', 'immediate_danger')->'status', '404',
    'no policy row: emergency beyond scope is 404');
SELECT is((pg_temp.ev('req-bg-11')).reason, 'out_of_scope',
    '... audited denied/out_of_scope');
ROLLBACK TO SAVEPOINT nopolicy;

-- In scope and national: still flagged, beyond_scope false.
SELECT is(pg_temp.case_get('tok-coordinator', pg_temp.cid('B'), 'emergency',
    'req-bg-12', 'immediate_danger')->'body'->'break_glass'->'beyond_scope',
    'false', 'an emergency read in scope: beyond_scope false');
SELECT is(pg_temp.case_get('tok-assessor', pg_temp.cid('B'), 'emergency',
    'req-bg-13', 'continuity_of_care')->'body'->'break_glass'->>'review',
    'pending', 'an assessor''s emergency read: flagged too');
SELECT is(pg_temp.ident_list('tok-coordinator', pg_temp.cid('B'), 'emergency',
    'region_unreachable', 'req-bg-14')->'status', '200',
    'an emergency identification read in scope: 200');
SELECT is((SELECT count(*)::int FROM audit.review WHERE event_id IN (
    (pg_temp.ev('req-bg-12')).id, (pg_temp.ev('req-bg-13')).id,
    (pg_temp.ev('req-bg-14')).id) AND reviewed_at IS NULL), 3,
    '... all three flagged, pending');
SELECT is(pg_temp.ident_list('tok-coordinator', pg_temp.cid('B'), 'curiosity',
    NULL, 'req-bg-15')->'problem'->>'field', 'purpose',
    'identification read: an unknown purpose is 400 on purpose');
SELECT is(pg_temp.ident_list('tok-coordinator', pg_temp.cid('B'), NULL, NULL,
    'req-bg-16')->'status', '200', 'identification read without a purpose');
SELECT is((pg_temp.ev('req-bg-16')).purpose, 'identification',
    '... defaults to identification, whoever reads');

-- ---------------------------------------------------------------------
-- The review queue.
-- ---------------------------------------------------------------------
SELECT is(pg_temp.reviews('pending', NULL, 50, 'tok-coordinator',
    'req-rv-denied')->'status', '403', 'a coordinator may not list reviews');
SELECT is(row((pg_temp.ev('req-rv-denied')).outcome,
    (pg_temp.ev('req-rv-denied')).reason)::text,
    '(denied,role_not_permitted)', '... audited denied');
SELECT is(pg_temp.review((pg_temp.ev('req-bg-5')).id, 'justified',
    'tok-coordinator-vr01')->'status', '403',
    'nor review its own break-glass read');
SELECT is((SELECT count(*)::int FROM audit.review
    WHERE event_id = (pg_temp.ev('req-bg-5')).id AND reviewed_at IS NULL),
    1, '... which stays pending');

CREATE TEMP TABLE q AS SELECT pg_temp.reviews() AS v;
SELECT is((SELECT v->'status' FROM q), '200', 'the auditor lists the queue');
SELECT is((SELECT array_agg(x->>'request_id' ORDER BY o) FROM q,
    jsonb_array_elements(v->'body'->'items') WITH ORDINALITY t(x, o)),
    ARRAY['req-bg-5', 'req-bg-12', 'req-bg-13', 'req-bg-14'],
    '... pending break-glass reads, oldest first');
SELECT is((SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(
        v->'body'->'items'->0) k) FROM q),
    ARRAY['action', 'agency_id', 'api_key_id', 'at', 'client_addr',
        'flagged_at', 'id', 'kind', 'object_id', 'object_type', 'purpose',
        'reason', 'request_id', 'reviewed_at', 'reviewed_by', 'role',
        'verdict'], '... each with the event''s fields and the review''s');
SELECT is((SELECT v->'body'->'items'->0->>'object_id' FROM q),
    pg_temp.cid('B')::text, '... naming the case read');
SELECT is((pg_temp.ev('req-reviews')).action, 'audit.reviews',
    'listing the queue is audited');
SELECT is(pg_temp.reviews('pending', NULL, 2, 'tok-auditor', 'req-rv-p1')
    ->'body'->'next_after', to_jsonb((pg_temp.ev('req-bg-12')).id),
    'paging: next_after is the last item''s id');
SELECT is((SELECT array_agg(x->>'request_id') FROM jsonb_array_elements(
    pg_temp.reviews('pending', (pg_temp.ev('req-bg-12')).id, 2,
        'tok-auditor', 'req-rv-p2')->'body'->'items') x),
    ARRAY['req-bg-13', 'req-bg-14'], '... the next page continues after it');
SELECT is(pg_temp.reviews('open')->'problem'->>'field', 'state',
    'state outside pending/reviewed/all: 400 on state');
SELECT is(pg_temp.reviews('pending', NULL, 0)->'problem'->>'field', 'limit',
    'limit 0: 400 on limit');
SELECT is(pg_temp.reviews('pending', NULL, 201)->'problem'->>'field',
    'limit', 'limit 201: 400 on limit');

SELECT is(pg_temp.review((pg_temp.ev('req-bg-5')).id, 'maybe')->'problem'
    ->>'field', 'verdict', 'a verdict outside the list: 422 on verdict');
SELECT is(pg_temp.review((pg_temp.ev('req-bg-3b')).id, 'justified')
    ->'status', '404', 'an event that is not flagged: 404');
SELECT is(pg_temp.review(999999999999, 'justified')->'status', '404',
    'an unknown event: 404');
CREATE TEMP TABLE done AS SELECT pg_temp.review((pg_temp.ev('req-bg-5')).id,
    'unjustified', 'tok-auditor', 'req-review-1') AS v;
SELECT is((SELECT v->'status' FROM done), '200', 'the auditor reviews it');
SELECT is((SELECT row(v->'body'->>'verdict', v->'body'->>'reviewed_by',
    v->'body'->>'reviewed_at' IS NOT NULL)::text FROM done),
    '(unjustified,b0000000-0000-4000-8000-000000000010,t)',
    '... verdict, reviewer and time recorded');
SELECT is(row((pg_temp.ev('req-review-1')).action,
    (pg_temp.ev('req-review-1')).object_type,
    (pg_temp.ev('req-review-1')).object_id,
    (pg_temp.ev('req-review-1')).outcome)::text,
    row('audit.review', 'audit_event', (pg_temp.ev('req-bg-5')).id::text,
        'allowed')::text, '... audited audit.review on the event');
SELECT is(pg_temp.review((pg_temp.ev('req-bg-5')).id, 'justified'),
    '{"status": 409, "problem": {"code": "conflict",
      "detail": "this event was reviewed already (unjustified)",
      "verdict": "unjustified"}}', 'a second verdict: 409, the first stands');
SELECT is((SELECT verdict FROM audit.review
    WHERE event_id = (pg_temp.ev('req-bg-5')).id), 'unjustified',
    '... unchanged');
SELECT is((SELECT array_agg(x->>'request_id') FROM jsonb_array_elements(
    pg_temp.reviews('reviewed')->'body'->'items') x), ARRAY['req-bg-5'],
    'state=reviewed lists it');
SELECT ok(NOT EXISTS (SELECT 1 FROM jsonb_array_elements(
    pg_temp.reviews('pending')->'body'->'items') x
    WHERE x->>'request_id' = 'req-bg-5'), 'state=pending no longer does');
SELECT is(jsonb_array_length(pg_temp.reviews('all')->'body'->'items'), 4,
    'state=all lists both');

-- The queue's own rules hold for every role, the owner included.
SELECT is(pg_temp.sqlstate_as('nrm_auditor', format($$UPDATE audit.review
    SET verdict = 'justified' WHERE event_id = %s$$,
    (pg_temp.ev('req-bg-5')).id)), '42501',
    'an auditor cannot change a verdict');
SELECT is(pg_temp.sqlstate_as('nrm_owner', format($$UPDATE audit.review
    SET verdict = 'justified' WHERE event_id = %s$$,
    (pg_temp.ev('req-bg-5')).id)), '42501', 'nor can the owner');
SELECT is(pg_temp.sqlstate_as('nrm_owner', format($$UPDATE audit.review
    SET kind = 'break_glass', flagged_at = now() WHERE event_id = %s$$,
    (pg_temp.ev('req-bg-12')).id)), '42501',
    'a pending review''s flag cannot be moved');
SELECT is(pg_temp.sqlstate_as('nrm_owner', format($$DELETE FROM audit.review
    WHERE event_id = %s$$, (pg_temp.ev('req-bg-12')).id)), '42501',
    'nor deleted (outside a purge)');
SELECT is(pg_temp.sqlstate_as('nrm_owner', 'TRUNCATE audit.review'),
    '42501', 'nor truncated');
SELECT is(pg_temp.probe(format($$UPDATE audit.review SET
    reviewed_at = now() WHERE event_id = %s$$,
    (pg_temp.ev('req-bg-12')).id)), 'review_complete_check',
    'a review needs verdict, reviewer and time together');

-- A denial decided by api.authorize names its object (0007's overload;
-- nrmd calls it before the action's own function).
SELECT is(pg_temp.api_as('nrm_app', format($$SELECT api.authorize(
    sha256('tok-assessor'::bytea), 'req-authz-1', '192.0.2.30'::inet,
    '{coordinator}', 'case.take', 'case', %L)$$, pg_temp.cid('B')))
    ->'status', '403', 'api.authorize with an object: 403 for a wrong role');
SELECT is(row((pg_temp.ev('req-authz-1')).object_type,
    (pg_temp.ev('req-authz-1')).object_id,
    (pg_temp.ev('req-authz-1')).outcome,
    (pg_temp.ev('req-authz-1')).reason)::text,
    row('case', pg_temp.cid('B')::text, 'denied',
        'role_not_permitted')::text, '... audited on the case');
SELECT is(pg_temp.api_as('nrm_app', $$SELECT api.authorize(
    sha256('tok-coordinator'::bytea), 'req-authz-2', '192.0.2.30'::inet,
    '{coordinator}', 'case.take', 'case', NULL)$$)->'body'->>'role',
    'coordinator', 'an allowed principal: the principal, no event');
SELECT is((SELECT count(*)::int FROM audit.event
    WHERE request_id = 'req-authz-2'), 0, '... nothing audited');

-- The chain still verifies with everything above in it.
SELECT is((pg_temp.audit_seal()->>'busy')::boolean, false, 'sealed');
SELECT is((pg_temp.verify_body()->>'intact')::boolean, true,
    'the chain verifies');

-- Every 0007 object carries a comment.
SELECT is_empty($$SELECT sig FROM fn
    WHERE schema IN ('api', 'audit', 'care') AND name IN (
        'default_purpose', 'break_glass_reasons', 'break_glass_allowed',
        'review_guard', 'event_purged', 'event_flagged', 'read_purpose',
        'case_json', 'audit_read',
        'case_get', 'ident_list', 'audit_reviews', 'audit_review')
      AND comment = ''$$,
    'every 0007 function has a comment');

SELECT * FROM finish();
ROLLBACK;
