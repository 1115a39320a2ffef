-- SAML request IDs answered: a request (an AuthnRequest's ID, per application) is answered
-- once, on whichever node, while it could still be fresh; then forgotten.
CREATE TABLE saml_requests (
    application_id TEXT NOT NULL
        CONSTRAINT saml_requests_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    request_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (application_id, request_id)
);
CREATE INDEX saml_requests_expires_at ON saml_requests (expires_at);

-- A back-channel logout message is a form (CAS, OpenID Connect) or, for a SAML application,
-- a SOAP envelope (SAML bindings §3.2): the body's media type is kept with it.
ALTER TABLE logout_deliveries
    ADD COLUMN content_type TEXT NOT NULL DEFAULT 'application/x-www-form-urlencoded';

-- A signing key may be staged: published (key set, SAML metadata) before it signs, so that
-- relying parties and service providers that fetch keys now and then have it when a rotation
-- makes it the signing key.
ALTER TABLE signing_keys ADD COLUMN staged BOOLEAN NOT NULL DEFAULT FALSE;
