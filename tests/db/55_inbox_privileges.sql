-- 55_inbox_privileges.sql - 0004's objects: least privilege per role,
-- comments, triggers, indexes.  (The table-level matrix of the seven API
-- roles and nrm_app is 30_privileges.sql and is unchanged by 0004.)
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
SELECT plan(49);
\ir fixtures.psql

-- Nobody but nrm_sweeper touches care.escalation; nobody but
-- coordinators and assessors reads care.case_item; nobody draws from the
-- inbox sequence (the trigger does, as its owner).
SELECT is_empty($$
    SELECT r.rolname || ' ' || p FROM pg_roles r,
        unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
            'REFERENCES', 'TRIGGER']) p
    WHERE r.rolname IN ('nrm_app', 'nrm_reporter', 'nrm_coordinator',
        'nrm_assessor', 'nrm_investigator', 'nrm_auditor', 'nrm_analyst',
        'nrm_admin')
      AND (has_table_privilege(r.oid, 'care.escalation', p)
          OR has_any_column_privilege(r.oid, 'care.escalation',
              CASE WHEN p IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
              THEN p ELSE 'SELECT' END))$$,
    'no API role and not nrm_app has any privilege on care.escalation');
SELECT set_eq($$SELECT r.rolname::text FROM pg_roles r
    WHERE r.rolname LIKE 'nrm\_%' AND r.rolname <> 'nrm_owner'
      AND has_table_privilege(r.oid, 'care.case_item', 'SELECT')$$,
    ARRAY['nrm_coordinator', 'nrm_assessor', 'nrm_privacy'],
    'care.case_item: readable by coordinators and assessors only (and '
    'nrm_privacy''s export, 0019)');
SELECT is_empty($$SELECT r.rolname FROM pg_roles r
    WHERE r.rolname LIKE 'nrm\_%' AND r.rolname <> 'nrm_owner'
      AND has_sequence_privilege(r.oid, 'care.case_inbox_seq',
          'USAGE,SELECT,UPDATE')$$,
    'no role may use or set the inbox sequence');
SELECT is(ARRAY(SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE',
    'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
    WHERE has_table_privilege('nrm_sweeper', 'care.escalation', p)),
    ARRAY['INSERT'], 'nrm_sweeper: INSERT on care.escalation, no more');
SELECT ok(has_column_privilege('nrm_sweeper', 'care.escalation', 'case_id',
    'SELECT'), 'nrm_sweeper reads escalation.case_id (ON CONFLICT)');

-- Reporters, investigators, auditors, analysts, admins: nothing new.
SELECT is(pg_temp.sqlstate_as(r, 'SELECT count(*) FROM care.escalation'),
    '42501', r || ' cannot read care.escalation')
FROM unnest(ARRAY['nrm_reporter', 'nrm_investigator', 'nrm_auditor',
    'nrm_analyst', 'nrm_admin', 'nrm_coordinator']) r;
SELECT is(pg_temp.sqlstate_as(r, 'SELECT count(*) FROM care.case_item'),
    '42501', r || ' cannot read care.case_item')
FROM unnest(ARRAY['nrm_reporter', 'nrm_investigator', 'nrm_auditor',
    'nrm_analyst', 'nrm_admin']) r;
SELECT is(pg_temp.sqlstate_as('nrm_coordinator',
    'SELECT count(*) FROM care.case_item'), 'ok',
    'a coordinator reads care.case_item');
SELECT is(pg_temp.sqlstate_as('nrm_assessor',
    'SELECT count(*) FROM care.case_item'), 'ok',
    'an assessor reads care.case_item (its columns are granted)');
SELECT is((SELECT reloptions FROM pg_class
    WHERE oid = 'care.case_item'::regclass), ARRAY['security_invoker=true'],
    'care.case_item is security_invoker (the caller''s privileges apply)');

-- Coordinators: the new case columns they change, nothing else.
SELECT ok(has_column_privilege('nrm_coordinator', 'care.case', c, 'UPDATE'),
    'coordinator may update care.case.' || c)
FROM unnest(ARRAY['declines', 'closed_reason', 'take_by',
    'first_contact_by']) c;
SELECT ok(NOT has_column_privilege('nrm_coordinator', 'care.case', c,
    'UPDATE'), 'coordinator may not update care.case.' || c)
FROM unnest(ARRAY['inbox_seq', 'inbox_xid', 'escalated_at', 'priority',
    'created_at']) c;
SELECT ok(NOT has_column_privilege('nrm_coordinator', 'auth.api_key', c,
    'SELECT'), 'coordinator may not read auth.api_key.' || c)
FROM unnest(ARRAY['token_hash', 'label']) c;
SELECT ok(NOT has_column_privilege('nrm_assessor', 'care.case', 'state',
    'UPDATE'), 'assessors change nothing');
SELECT is(pg_temp.sqlstate_as('nrm_assessor',
    'SELECT pseudonym FROM care.subject'), '42501',
    'an assessor cannot read the pseudonym');

-- Entry points: executable by nrm_app; the sweeper function behind one.
SELECT ok(has_function_privilege('nrm_app', f, 'EXECUTE'),
    'nrm_app may execute ' || f)
FROM unnest(ARRAY[
    'api.inbox(bytea, text, inet, text, text, jsonb, text, integer, boolean)',
    'api.inbox_wakeup_check(bytea, text, inet, text)',
    'api.case_get(bytea, text, inet, uuid, text, text)',
    'api.case_take(bytea, text, inet, uuid, integer)',
    'api.case_decline(bytea, text, inet, uuid, integer, text, integer)',
    'api.case_transfer(bytea, text, inet, uuid, integer, text, text, integer, integer, integer)',
    'api.case_close(bytea, text, inet, uuid, integer, text)',
    'api.case_reopen(bytea, text, inet, uuid, integer, text, integer, integer)',
    'api.escalate_overdue(integer)']) f;

-- Triggers: what enters an inbox notifies, with the region code only.
SELECT has_trigger('care', 'case', t, 'care.case has trigger ' || t)
FROM unnest(ARRAY['case_inbox_entry', 'case_inbox_notify_insert',
    'case_inbox_notify_update']) t;
SELECT is((SELECT regexp_replace(prosrc, '\s+', ' ', 'g') FROM pg_proc
    WHERE oid = 'care.case_inbox_notify()'::regprocedure),
    ' BEGIN PERFORM pg_catalog.pg_notify(''nrm_inbox'', NEW.region_code); '
    'RETURN NULL; END ',
    'the notify trigger sends the region code and nothing else');

-- Every 0004 object carries a comment.
SELECT is_empty($$SELECT sig FROM fn
    WHERE schema IN ('api', 'care') AND name IN ('transition',
        'reason_allowed', 'iso_duration', 'next_inbox_seq',
        'case_inbox_entry', 'case_inbox_notify', 'escalate_overdue',
        'sort_key', 'case_lock', 'case_answer', 'inbox',
        'inbox_wakeup_check', 'case_get', 'case_take', 'case_decline',
        'case_transfer', 'case_close', 'case_reopen', 'inbox_mark',
        'inbox_since') AND comment = ''$$,
    'every 0004 function has a comment');
SELECT ok(obj_description('care.case_item'::regclass, 'pg_class') <> ''
    AND obj_description('care.case_inbox_seq'::regclass, 'pg_class') <> ''
    AND obj_description('care.escalation'::regclass, 'pg_class') <> '',
    'the view, the sequence and care.escalation have comments');
SELECT is_empty($$SELECT a.attname FROM pg_attribute a
    WHERE a.attrelid = 'care.case'::regclass AND a.attname IN ('inbox_seq',
        'inbox_xid', 'declines', 'closed_reason', 'escalated_at')
      AND coalesce(col_description(a.attrelid, a.attnum), '') = ''$$,
    'the new case columns have comments');
SELECT has_index('care', 'case', 'case_escalation_due_idx',
    'the sweeper''s candidates are indexed');

SELECT * FROM finish();
ROLLBACK;
