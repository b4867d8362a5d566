-- 0011_decision_date_amsterdam.sql - released at stop 23 with a whole
-- CREATE OR REPLACE of ident.entry_problem comparing decided_on with
-- the date in Europe/Amsterdam.  That body now lives once, in
-- sql/api/50_tracks.sql (applied after every numbered file), so this
-- file keeps only its place in the chain: a database that applied it
-- as released is accepted through sql/released.sha256, and a new
-- database gets the same function from the repeatable file.
SELECT 1;
