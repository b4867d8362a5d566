-- 0022_reserved.sql - PLACEHOLDER on branch h-panel only: version 22 is
-- another helper's this stop (BRIEF-COMMON.md); nrmctl migrate refuses a
-- gap, so this empty file holds the number until the merge drops it.
SELECT 1;
