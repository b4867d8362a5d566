-- 0015_reserved.sql - placeholder: 0015 belongs to another helper this
-- stop; the lead drops this file when merging.
SELECT 1;
