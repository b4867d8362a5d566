-- 0015_placeholder.sql - a placeholder on h-crypt15 so that 0018 applies
-- (nrmctl migrate refuses a gap); the lead drops it when merging.
SELECT 1;
