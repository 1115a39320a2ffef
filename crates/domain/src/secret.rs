//! High-entropy secrets (client secrets, access tokens): generated here, stored only as a
//! SHA-256 digest, compared in constant time. A slow hash buys nothing for 256-bit random
//! values and would put seconds of CPU on every request.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A fresh random secret: 32 random bytes, hex-encoded (64 characters).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
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
}
