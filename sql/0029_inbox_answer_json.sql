-- 0029_inbox_answer_json.sql - the inbox page's answer as json, not jsonb
-- (issue 16, docs/performance.md "Reads of one question share a query"
-- and "What remains").  Each jsonb built around a jsonb walks it again
-- and sorts every object's keys again: the page's 50 items were rebuilt
-- by jsonb_agg, by the body's jsonb_build_object and by the answer's.
-- As json the page and its envelope are written as text once; each item
-- stays the jsonb of care.case_item (its text, as before).  The return
-- type of a function cannot change in place, so api.inbox and
-- api.inbox_many are dropped here; their new bodies stand in
-- sql/api/30_cases.sql and sql/api/31_inbox_fanout.sql, applied (with
-- sql/api/99_doors.sql, which grants them again) in this transaction.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.
DROP FUNCTION IF EXISTS api.inbox_many(bytea[], text[], inet[], text[], text,
    text, jsonb, integer, boolean);
DROP FUNCTION IF EXISTS api.inbox(bytea, text, inet, text, text, jsonb, text,
    integer, boolean);
