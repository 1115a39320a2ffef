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
