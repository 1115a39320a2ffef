-- The applications a browser session signed in to, so that its logout reaches each: an
-- OpenID Connect grant (its tokens end with the session; the application is sent a
-- logout_token) or a CAS service ticket (the service is sent a logoutRequest). By the
-- session's public id, `sid`.
CREATE TABLE session_participants (
    sid TEXT NOT NULL,
    application_id TEXT NOT NULL
        CONSTRAINT session_participants_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL
        CONSTRAINT session_participants_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    -- 'oidc' (reference: the grant id) or 'cas' (reference: the service ticket, spent).
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    -- CAS: the service URL the ticket was issued for (OIDC: the settings' at logout).
    url TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (sid, application_id, reference)
);
CREATE INDEX session_participants_expires_at ON session_participants (expires_at);

-- Back-channel logout messages waiting for, or done with, their delivery (an outbox: they
-- survive a restart, are retried with backoff, and one node posts each).
CREATE TABLE logout_deliveries (
    id TEXT NOT NULL PRIMARY KEY,
    created_at BIGINT NOT NULL,
    application_id TEXT NOT NULL
        CONSTRAINT logout_deliveries_application_id_fkey REFERENCES applications (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- The form body posted (logoutRequest=… or logout_token=…).
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    last_error TEXT,
    delivered_at BIGINT
);
CREATE INDEX logout_deliveries_due ON logout_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX logout_deliveries_created_at ON logout_deliveries (created_at);

-- The session a code, refresh token or service ticket came from (its `sid`).
ALTER TABLE sso_codes ADD COLUMN sid TEXT;
ALTER TABLE sso_refresh_tokens ADD COLUMN sid TEXT;
ALTER TABLE cas_tickets ADD COLUMN sid TEXT;
