-- The RSA keys that sign id_tokens, the same for every node: the private key sealed with the
-- secret key (PKCS #8 PEM inside), the public key as its JSON Web Key. One key is active
-- (retired_at NULL); a rotation retires it and it stays published until its tokens expire.
CREATE TABLE signing_keys (
    kid TEXT NOT NULL PRIMARY KEY,
    private_key TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
