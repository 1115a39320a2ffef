-- The MFA policy (one row, as JSON: GET|PUT /roster/v1/mfa-policy). No row: the
-- configuration's policy holds.
CREATE TABLE mfa_policy (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    policy TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- SMS codes sent and not yet used, by the number's digits and what the code is for: one at a
-- time (a new code replaces the old). Only the code's digest is kept.
CREATE TABLE verify_codes (
    mobile_key TEXT NOT NULL,
    purpose TEXT NOT NULL,
    code_digest TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    tries_left BIGINT NOT NULL,
    PRIMARY KEY (mobile_key, purpose)
);
CREATE INDEX verify_codes_expires_at ON verify_codes (expires_at);

-- Messages sent: kept by the log sender, posted by the webhook sender (with how it went).
-- Also the record the per-number and per-address rates count.
CREATE TABLE messages (
    id TEXT NOT NULL PRIMARY KEY,
    created_at BIGINT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    recipient_key TEXT NOT NULL,
    purpose TEXT NOT NULL,
    body TEXT NOT NULL,
    sender TEXT NOT NULL,
    requested_from TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    last_error TEXT,
    delivered_at BIGINT
);
CREATE INDEX messages_created_at ON messages (created_at, id);
CREATE INDEX messages_recipient_key ON messages (recipient_key, created_at);
CREATE INDEX messages_requested_from ON messages (requested_from, created_at);
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 'pending';

-- When a browser session's user gave a second factor (none: the password alone).
ALTER TABLE sso_sessions ADD COLUMN second_factor_at BIGINT;
