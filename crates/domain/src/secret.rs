//! High-entropy secrets (client secrets, access tokens): generated here, stored only as a
//! SHA-256 digest, compared in constant time. A slow hash buys nothing for 256-bit random
//! values and would put seconds of CPU on every request.

use crate::time::Millis;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A fresh random secret: 32 random bytes, hex-encoded (64 characters).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Hex characters of a token that carry its issue time ([`generate_token`]).
const TOKEN_TIME_CHARS: usize = 12;

/// A fresh access token: 64 hex characters like [`generate`]'s, the first 12 of them the issue
/// time in milliseconds and the other 52 random (208 bits). Its stored key ([`token_key`])
/// starts with that time, so a store writes new tokens at the end of its index, in a page or
/// two per commit, instead of into a random page of it for each token. The token tells when
/// it was issued (as a JWT would), nothing else.
pub fn generate_token(issued_at: Millis) -> String {
    let time = u64::try_from(issued_at).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
    let mut random = [0u8; 26];
    rand::thread_rng().fill_bytes(&mut random);
    format!("{time:012x}{}", hex::encode(random))
}

/// The stored key of a token from [`generate_token`]: its time prefix, then its SHA-256 digest
/// (so the store still holds nothing a bearer could present). Any text has a key; one not
/// shaped like a token matches nothing stored.
pub fn token_key(token: &str) -> String {
    let time = token.get(..TOKEN_TIME_CHARS).unwrap_or_default();
    format!("{time}{}", digest(token))
}

/// A random client id: 16 random bytes, hex-encoded (32 characters).
pub fn generate_client_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The stored form of a secret: its SHA-256 digest, hex-encoded.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` hashes to `stored_digest`, in time independent of where they differ.
pub fn matches(secret: &str, stored_digest: &str) -> bool {
    digest(secret)
        .as_bytes()
        .ct_eq(stored_digest.as_bytes())
        .into()
}

/// Whether two texts are equal, in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_only_its_secret() {
        let s = generate();
        assert_eq!(s.len(), 64);
        let d = digest(&s);
        assert!(matches(&s, &d));
        assert!(!matches(&generate(), &d));
        assert_ne!(d, s);
    }

    #[test]
    fn tokens_are_keyed_in_issue_order() {
        let earlier = generate_token(1_700_000_000_000);
        let later = generate_token(1_700_000_000_001);
        assert_eq!(earlier.len(), 64);
        assert!(earlier.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(token_key(&earlier) < token_key(&later));
        assert_eq!(
            token_key(&earlier),
            format!("{}{}", &earlier[..12], digest(&earlier))
        );
        assert_ne!(generate_token(1)[12..], generate_token(1)[12..]);
    }

    #[test]
    fn any_text_has_a_token_key() {
        assert_eq!(token_key("short"), digest("short"));
        // Not cut inside a character.
        assert_eq!(token_key("aééééééé"), digest("aééééééé"));
        assert_eq!(token_key(&generate_token(-5))[..12], *"000000000000");
    }
}
