-- 0008_current_state: the api functions now stand once each, in the
-- repeatable files sql/api/*.sql that nrmctl migrate applies after the
-- numbered migrations (docs/sql-api.md); 0001-0007 keep the tables,
-- policies, roles and grants.  What is left to do here:
--
-- - Drop 0003's 5-argument api.authorize.  nrmd calls the 7-argument
--   one (0007), which names the object in a denial's audit event; the
--   old one audited denials without it and was still granted to nrm_app.
-- - Let nrm_app read nrm.schema_repeatable (created by nrmctl migrate):
--   /readyz compares its checksums with the ones nrmd was built with
--   (api.schema_checksum()).

DROP FUNCTION IF EXISTS api.authorize(bytea, text, inet, text[], text);

GRANT SELECT ON nrm.schema_repeatable TO nrm_app;
