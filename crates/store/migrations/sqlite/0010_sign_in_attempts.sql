-- Wrong passwords typed for names nobody has, counted the way a user's are (and in the
-- database, so every node counts them alike): the answers and the work done do not tell which
-- names exist. A name is kept only as the SHA-256 digest of its folded key (the key the
-- login lookup uses), never as typed; rows idle longer than a lock are deleted by upkeep.
CREATE TABLE sign_in_unknown_names (
    name_digest TEXT NOT NULL PRIMARY KEY,
    failed_sign_ins BIGINT NOT NULL,
    locked_until BIGINT,
    last_attempt_at BIGINT NOT NULL
);
CREATE INDEX sign_in_unknown_names_last_attempt_at ON sign_in_unknown_names (last_attempt_at);

-- When a user's sign-ins were last ended (disabled, locked, password set), and an account's
-- (disabled): a session, code or token from before is void even if its row were left, so
-- enabling again revives nothing. The user's rows are deleted in the same transaction; the
-- indexes find them.
ALTER TABLE users ADD COLUMN sign_ins_ended_at BIGINT;
ALTER TABLE app_accounts ADD COLUMN sign_ins_ended_at BIGINT;
CREATE INDEX sso_tokens_user_id ON sso_tokens (user_id);
CREATE INDEX sso_codes_user_id ON sso_codes (user_id);
CREATE INDEX sso_refresh_tokens_user_id ON sso_refresh_tokens (user_id);
