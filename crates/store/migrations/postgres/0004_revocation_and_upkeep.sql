-- A token is good only while its application's token generation is the one it was issued
-- under. Rotating the secret or disabling the application moves the generation on, so a token
-- issued concurrently with the change (after the change deleted the application's tokens)
-- is refused too, on every node and after restarts, and re-enabling revives none.
ALTER TABLE applications ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE access_tokens ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;

-- One row that `/health` rewrites, with as many bytes as a large request writes, to learn
-- whether writes work again after they failed (a full disk fails writes while reads go on).
CREATE TABLE write_probe (id INTEGER NOT NULL PRIMARY KEY, at BIGINT NOT NULL, filler BYTEA);
INSERT INTO write_probe (id, at) VALUES (1, 0);

-- Refused token requests are audited as one record per client id, source address and reason
-- per interval, with how many there were; every other record counts one event.
ALTER TABLE audit_log ADD COLUMN count BIGINT NOT NULL DEFAULT 1;
