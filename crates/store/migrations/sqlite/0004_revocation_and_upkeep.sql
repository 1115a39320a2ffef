-- A token is good only while its application's token generation is the one it was issued
-- under. Rotating the secret or disabling the application moves the generation on, so a token
-- issued concurrently with the change (after the change deleted the application's tokens)
-- is refused too, on every node and after restarts, and re-enabling revives none.
ALTER TABLE applications ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE access_tokens ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;

-- One row that `/health` rewrites, with as many bytes as a large request writes, to learn
-- whether writes work again after they failed (a full disk fails writes while reads go on).
CREATE TABLE write_probe (id INTEGER NOT NULL PRIMARY KEY, at BIGINT NOT NULL, filler BLOB);
INSERT INTO write_probe (id, at) VALUES (1, 0);

-- Refused token requests are audited as one record per client id, source address and reason
-- per interval, with how many there were; every other record counts one event.
ALTER TABLE audit_log ADD COLUMN count BIGINT NOT NULL DEFAULT 1;

-- User names are unique as Unicode compatibility-normalized, case-folded keys, and mobiles as
-- their digits, so that look-alikes (full-width letters, `ZhangSan`, `138-0000-0001`) cannot
-- coexist. Roster fills the keys of existing users at its next start (the task below); a key
-- that would collide stays empty and is logged.
ALTER TABLE users ADD COLUMN user_name_key TEXT;
ALTER TABLE users ADD COLUMN mobile_key TEXT;
CREATE UNIQUE INDEX users_user_name_folded ON users (user_name_key);
CREATE UNIQUE INDEX users_mobile_digits ON users (mobile_key);
INSERT INTO maintenance (task) VALUES ('fill_user_keys');
