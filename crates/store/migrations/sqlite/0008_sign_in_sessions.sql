-- Users sign in to applications: sessions, authorization codes and refresh tokens live in the
-- store (so every node sees them), each stored by the SHA-256 digest of its secret only.

-- Wrong passwords in a row, and until when the user is locked after too many of them.
ALTER TABLE users ADD COLUMN failed_sign_ins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT;
-- Users sign in with their user name, mobile or email (compared case-insensitively).
CREATE INDEX users_email_lower ON users (lower(email));

-- A browser's single sign-on session: good until `expires_at` (absolute) and while used within
-- the idle lifetime of `last_seen_at`.
CREATE TABLE sso_sessions (
    digest TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL
        CONSTRAINT sso_sessions_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    auth_time BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sso_sessions_user_id ON sso_sessions (user_id);
CREATE INDEX sso_sessions_expires_at ON sso_sessions (expires_at);

-- Authorization codes: single use (`used_at` set by the exchange), bound to the client, the
-- redirect URI and the PKCE challenge. A used code stays until it expires so that a second
-- exchange is recognised and revokes what the first issued (RFC 6749 §4.1.2).
CREATE TABLE sso_codes (
    digest TEXT NOT NULL PRIMARY KEY,
    application_id TEXT NOT NULL
        CONSTRAINT sso_codes_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL
        CONSTRAINT sso_codes_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX sso_codes_expires_at ON sso_codes (expires_at);

-- Refresh tokens. Tokens issued from one code or one password sign-in form a grant
-- (`grant_id`): refreshing rotates the token within it, and reusing a rotated token or the
-- code ends the whole grant.
CREATE TABLE sso_refresh_tokens (
    digest TEXT NOT NULL PRIMARY KEY,
    application_id TEXT NOT NULL
        CONSTRAINT sso_refresh_tokens_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL
        CONSTRAINT sso_refresh_tokens_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    grant_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    generation BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX sso_refresh_tokens_grant_id ON sso_refresh_tokens (grant_id);
CREATE INDEX sso_refresh_tokens_expires_at ON sso_refresh_tokens (expires_at);

ALTER TABLE sso_tokens ADD COLUMN grant_id TEXT;
CREATE INDEX sso_tokens_grant_id ON sso_tokens (grant_id);
