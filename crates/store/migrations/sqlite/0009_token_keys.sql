-- Tenant API access tokens are stored by a key that starts with their issue time (the first
-- 12 hex characters of the token) followed by the token's SHA-256 digest, so new tokens are
-- written at the end of the primary key's index instead of into a random page of it per token.
-- Tokens issued before keep their key, the bare digest, until they expire.
ALTER TABLE access_tokens RENAME COLUMN digest TO lookup_key;
