-- 0010_admin_keys.sql - API keys administered over HTTP (issue 12,
-- docs/people.md "API keys"): who made a key, and the admin role's
-- right to make and revoke keys.
--
-- Applied by `nrmctl migrate` in one transaction as nrm_owner; no
-- BEGIN/COMMIT here.  The function bodies stand in sql/api/62_keys.sql.
-- A key made by nrmctl names no maker (both columns NULL: the operator
-- is in the audit log, principal null, purpose nrmctl); a key made over
-- HTTP names the acting key and, for a person, the person.

ALTER TABLE auth.api_key
	ADD COLUMN created_by_key uuid REFERENCES auth.api_key (id),
	ADD COLUMN created_by_person uuid REFERENCES auth.person (id);
COMMENT ON COLUMN auth.api_key.created_by_key IS
    'The key that made this key over HTTP (a person''s own key for a '
    'person); NULL when nrmctl made it.';
COMMENT ON COLUMN auth.api_key.created_by_person IS
    'The person who made this key over HTTP; NULL for a key or nrmctl.';

-- admin: make a key (never reads token_hash) and revoke one.
GRANT SELECT (created_by_key, created_by_person) ON auth.api_key
    TO nrm_admin;
GRANT INSERT (token_hash, agency_id, role, regions, label, created_by_key,
    created_by_person) ON auth.api_key TO nrm_admin;
GRANT UPDATE (revoked_at) ON auth.api_key TO nrm_admin;
