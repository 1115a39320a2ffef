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
