//! The keys that sign id_tokens: RSA key pairs, the private half stored only sealed with the
//! secret key, the public half published as a JSON Web Key Set (`GET /api/v1/oauth2/keys`).
//! One key signs at a time; after a rotation the previous one stays published until every
//! token it signed has expired.

use crate::time::Millis;
use serde::{Deserialize, Serialize};

/// How long a key stays published after a newer one took over: the longest lifetime a token
/// signed by it can have (the longest access-token lifetime an application may set), plus
/// an hour for clocks and caches.
pub const RETIRED_KEY_PUBLISHED_MS: Millis = (86_400 + 3_600) * 1000;

/// An RSA public key as a JSON Web Key (RFC 7517 §4, RFC 7518 §6.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicJwk {
    /// Always `RSA`.
    pub kty: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub usage: String,
    /// The key's RFC 7638 thumbprint, as id_tokens name it in their `kid` header.
    pub kid: String,
    /// Modulus, base64url without padding.
    pub n: String,
    /// Public exponent, base64url without padding.
    pub e: String,
}

/// A signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    pub public: PublicJwk,
    /// The private key (PKCS #8 PEM), sealed with the secret key.
    pub sealed_private_key: String,
    pub created_at: Millis,
    /// When a newer key took over; none while this one signs (or is staged).
    pub retired_at: Option<Millis>,
    /// Staged: published, to sign after the next rotation (exports from before staging
    /// existed have no such field: their keys are not staged).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staged: bool,
}

impl SigningKey {
    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// Whether the key signs new tokens.
    pub fn is_active(&self) -> bool {
        !self.staged && self.retired_at.is_none()
    }

    /// Whether the key is staged: published, to sign after the next rotation.
    pub fn is_staged(&self) -> bool {
        self.staged && self.retired_at.is_none()
    }

    /// Whether the key belongs in the published key set at `now`.
    pub fn is_published(&self, now: Millis) -> bool {
        self.retired_at
            .is_none_or(|retired| now < retired.saturating_add(RETIRED_KEY_PUBLISHED_MS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(retired_at: Option<Millis>) -> SigningKey {
        SigningKey {
            staged: false,
            public: PublicJwk {
                kty: "RSA".into(),
                usage: "sig".into(),
                kid: "k".into(),
                n: "n".into(),
                e: "AQAB".into(),
            },
            sealed_private_key: String::new(),
            created_at: 0,
            retired_at,
        }
    }

    #[test]
    fn a_retired_key_is_published_until_its_tokens_have_expired() {
        assert!(key(None).is_published(i64::MAX));
        let retired = key(Some(1_000));
        assert!(!retired.is_active());
        assert!(retired.is_published(1_000 + RETIRED_KEY_PUBLISHED_MS - 1));
        assert!(!retired.is_published(1_000 + RETIRED_KEY_PUBLISHED_MS));
    }

    #[test]
    fn the_jwk_says_use_not_usage() {
        let json = serde_json::to_value(key(None).public).unwrap();
        assert_eq!(json["use"], "sig");
        assert!(json.get("usage").is_none());
    }
}
