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
	ADD CONSTRAINT api_key_cert_digest_check
	    CHECK (cert_sha256 IS NULL OR octet_length(cert_sha256) = 32);
COMMENT ON COLUMN auth.api_key.cert_sha256 IS
    'SHA-256 of the DER of the client certificate this key must be used '
    'with (mutual TLS), or NULL: not bound.  Not personal data.';
GRANT SELECT (cert_sha256) ON auth.api_key TO nrm_admin;

-- ---------------------------------------------------------------------
-- Break-glass reads: a rate per person or key (issue 14 part 4).
--
-- audit.break_glass_limit holds the one limit: at most max_per_day
-- emergency reads (purpose emergency, allowed) per person, or per key
-- for a key's own calls, over the last 24 hours, counted from the audit
-- log itself.  The read beyond it is refused (403 break_glass_limit,
-- api.case_get) and written as a denied event flagged for review, so
-- auditors see it in GET /v1/audit/reviews.  The database owner sets
-- the limit: UPDATE audit.break_glass_limit SET max_per_day = N.
-- ---------------------------------------------------------------------
CREATE TABLE audit.break_glass_limit (
	only_row boolean NOT NULL DEFAULT true,
	max_per_day integer NOT NULL DEFAULT 5,
	CONSTRAINT break_glass_limit_pkey PRIMARY KEY (only_row),
	CONSTRAINT break_glass_limit_only_row_check CHECK (only_row),
	CONSTRAINT break_glass_limit_max_per_day_check
	    CHECK (max_per_day BETWEEN 1 AND 1000)
);
COMMENT ON TABLE audit.break_glass_limit IS
    'The most emergency (break-glass) reads a person, or a key, may make '
    'in 24 hours; one row.  No personal data.';
INSERT INTO audit.break_glass_limit DEFAULT VALUES;

-- The emergency reads of a person's or a key's own calls, by time.
CREATE INDEX event_emergency_idx ON audit.event
    (COALESCE(person_id, api_key_id), at)
    WHERE purpose = 'emergency' AND outcome = 'allowed';

/*
 * Whether the caller (p_person_id, else the key p_key_id) has made
 * fewer than the limit's emergency reads in the last 24 hours; limit
 * says what the limit is.  SECURITY DEFINER: the API roles cannot read
 * audit.event.
 */
CREATE FUNCTION audit.break_glass_within(p_key_id uuid, p_person_id uuid,
    OUT within boolean, OUT "limit" integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	SELECT l.max_per_day INTO "limit" FROM audit.break_glass_limit l;
	within := (SELECT count(*) FROM audit.event e
	    WHERE COALESCE(e.person_id, e.api_key_id)
	        = COALESCE(p_person_id, p_key_id)
	      AND e.purpose = 'emergency' AND e.outcome = 'allowed'
	      AND e.at > pg_catalog.now() - interval '24 hours') < "limit";
END
$$;
COMMENT ON FUNCTION audit.break_glass_within(uuid, uuid) IS
    'Whether a person (else a key) is under the break-glass limit '
    '(audit.break_glass_limit) over the last 24 hours, and the limit.';

/*
 * An emergency read refused by the limit: a denied audit event (reason
 * break_glass_limit) flagged for review, in the caller's transaction.
 */
CREATE FUNCTION audit.event_flagged_denied(p_person_id uuid, p_key_id uuid,
    p_agency_id uuid, p_role text, p_action text, p_object_type text,
    p_object_id text, p_request_id text, p_client inet) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id bigint;
BEGIN
	INSERT INTO audit.event (api_key_id, person_id, agency_id, role,
	    action, object_type, object_id, purpose, outcome, reason,
	    request_id, client_addr)
	VALUES (p_key_id, p_person_id, p_agency_id, p_role, p_action,
	    p_object_type, p_object_id, 'emergency', 'denied',
	    'break_glass_limit', p_request_id, p_client)
	RETURNING id INTO v_id;
	INSERT INTO audit.review (event_id, kind) VALUES (v_id, 'break_glass');
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION audit.event_flagged_denied(uuid, uuid, uuid, text, text,
    text, text, text, inet) IS
    'Append a denied emergency-read event (reason break_glass_limit) and '
    'flag it for review (audit.review); returns the event id.';
GRANT EXECUTE ON FUNCTION audit.break_glass_within(uuid, uuid),
    audit.event_flagged_denied(uuid, uuid, uuid, text, text, text, text,
    text, inet)
    TO nrm_coordinator, nrm_assessor;
