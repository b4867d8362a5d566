-- 0012_reserved_overview.sql - a placeholder on the statistics branch
-- (h-stats): version 0012 belongs to issue 20 (the overview helper's
-- migration), and nrmctl migrate refuses a gap in the sequence.  The
-- lead drops this file when merging that branch's 0012.
SELECT 1;
