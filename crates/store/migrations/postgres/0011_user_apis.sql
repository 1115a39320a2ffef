-- The user APIs (/api/v2/sdk/*): each secret stored as the SHA-256 digest of its text only.

-- Each application's RSA key pair for X-signature, made when its public key is first asked
-- for; the private half sealed like the other secrets.
CREATE TABLE user_api_keys (
    application_id TEXT NOT NULL PRIMARY KEY
        CONSTRAINT user_api_keys_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    sealed_private_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Session tokens of user-API logins.
CREATE TABLE user_api_sessions (
    digest TEXT NOT NULL PRIMARY KEY,
    application_id TEXT NOT NULL
        CONSTRAINT user_api_sessions_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL
        CONSTRAINT user_api_sessions_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    device_fingerprint TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX user_api_sessions_user_id ON user_api_sessions (user_id);
CREATE INDEX user_api_sessions_expires_at ON user_api_sessions (expires_at);

-- Logins with a step left (a password change, a second factor): the X-state-token.
CREATE TABLE user_api_state_tokens (
    digest TEXT NOT NULL PRIMARY KEY,
    application_id TEXT NOT NULL
        CONSTRAINT user_api_state_tokens_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL
        CONSTRAINT user_api_state_tokens_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    device_fingerprint TEXT NOT NULL,
    purpose TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX user_api_state_tokens_user_id ON user_api_state_tokens (user_id);
CREATE INDEX user_api_state_tokens_expires_at ON user_api_state_tokens (expires_at);

-- X-signature nonces already accepted, per application, kept while their timestamp is within
-- the window: a signature is accepted once, on whichever node.
CREATE TABLE user_api_nonces (
    application_id TEXT NOT NULL
        CONSTRAINT user_api_nonces_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    nonce_digest TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (application_id, nonce_digest)
);
CREATE INDEX user_api_nonces_expires_at ON user_api_nonces (expires_at);

-- One-time SSO tickets: deleted as they are redeemed.
CREATE TABLE sso_tickets (
    digest TEXT NOT NULL PRIMARY KEY,
    application_id TEXT NOT NULL
        CONSTRAINT sso_tickets_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL
        CONSTRAINT sso_tickets_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    device_fingerprint TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sso_tickets_user_id ON sso_tickets (user_id);
CREATE INDEX sso_tickets_expires_at ON sso_tickets (expires_at);
