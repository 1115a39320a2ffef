-- Access tokens issued at the sign-in token endpoint (/api/v1/oauth2/token), stored by the
-- SHA-256 digest of the token only, like the management API's tokens. A token is good while
-- unexpired and its application's token generation is the one it was issued under.
CREATE TABLE sso_tokens (
    digest TEXT NOT NULL PRIMARY KEY,
    application_id TEXT NOT NULL
        CONSTRAINT sso_tokens_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    user_id TEXT,
    scope TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    generation BIGINT NOT NULL
);
CREATE INDEX sso_tokens_expires_at ON sso_tokens (expires_at);
