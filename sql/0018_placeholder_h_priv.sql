-- 0018_placeholder_h_priv.sql - PLACEHOLDER, not to be merged: version
-- 0018 is h-priv's (issue 14 part 1) this stop; migrations must be a
-- contiguous sequence, so branch h-privacy (0019_privacy.sql) carries
-- this empty file until h-priv's 0018 replaces it at the merge.
SELECT 1;
