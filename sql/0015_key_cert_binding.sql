-- 0015_key_cert_binding.sql - an API key bound to a client certificate
-- (issue 14 part 4: mutual TLS).
--
-- A key with cert_sha256 set is accepted only on a TLS connection whose
-- client presented, and the server verified against
-- tls_client_ca_file, the certificate with this SHA-256 (of its DER).
-- nrmd passes that digest behind the token hash, and api.authenticate
-- (sql/api/10_common.sql) compares it, so no route can skip the check
-- (docs/security.md, "Transport and build").  NULL: the key is not
-- bound (as every key before this migration).  nrmctl key bind sets it.
ALTER TABLE auth.api_key
	ADD COLUMN cert_sha256 bytea,
	ADD CONSTRAINT api_key_cert_sha256_check
	    CHECK (cert_sha256 IS NULL OR octet_length(cert_sha256) = 32);
COMMENT ON COLUMN auth.api_key.cert_sha256 IS
    'SHA-256 of the DER of the client certificate this key must be used '
    'with (mutual TLS), or NULL: not bound.  Not personal data.';
GRANT SELECT (cert_sha256) ON auth.api_key TO nrm_admin;
