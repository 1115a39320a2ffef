-- The password policy (one row, as JSON: GET|PUT /roster/v1/password-policy). No row: the
-- configuration's policy holds.
CREATE TABLE password_policy (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    policy TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Each user's recent password hashes (the newest 24), so that a new password is checked
-- against the last N the policy names.
CREATE TABLE password_history (
    user_id TEXT NOT NULL
        CONSTRAINT password_history_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX password_history_user_id ON password_history (user_id, changed_at);
