//! Signing id_tokens with the active key. The key's private half is opened once and kept
//! until a rotation is heard of (on PostgreSQL, as soon as any node or `roster keys rotate`
//! commits one), and for at most 10 seconds where nothing can be heard (SQLite, whose
//! `roster keys rotate` runs in another process), so that signing does not read and unseal
//! the key each time.

use crate::Service;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use roster_domain::signing::SigningKey;
use roster_domain::sso::IdTokenAlg;
use roster_domain::time::Millis;
use roster_domain::{Error, Result};
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::sync::{Arc, Mutex};

/// How long a node signs with the key it read before it reads again.
const KEY_CACHE_MS: Millis = 10_000;

pub(crate) struct ActiveKey {
    kid: String,
    key: EncodingKey,
    /// The same key for XML signatures (SAML), with its certificate.
    pub(crate) credential: crate::keys::Credential,
}

/// The active key as last read, when, and the changes heard from other nodes then.
#[derive(Default)]
pub(crate) struct KeyCache(Mutex<Option<ReadKey>>);

struct ReadKey {
    at: Millis,
    heard: Option<u64>,
    key: Arc<ActiveKey>,
}

impl KeyCache {
    fn get(&self, now: Millis, heard: Option<u64>) -> Option<Arc<ActiveKey>> {
        let cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .as_ref()
            .filter(|read| {
                heard.is_some() && read.heard == heard && now.saturating_sub(read.at) < KEY_CACHE_MS
            })
            .map(|read| Arc::clone(&read.key))
    }

    fn put(&self, now: Millis, heard: Option<u64>, key: Arc<ActiveKey>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(ReadKey {
            at: now,
            heard,
            key,
        });
    }

    /// Forgets the key (after this node rotated it).
    pub(crate) fn clear(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

fn algorithm(alg: IdTokenAlg) -> Algorithm {
    match alg {
        IdTokenAlg::RS256 => Algorithm::RS256,
        IdTokenAlg::RS384 => Algorithm::RS384,
        IdTokenAlg::RS512 => Algorithm::RS512,
    }
}

/// OpenID Connect's `at_hash`: the left half of the access token's hash with the id_token's
/// hash function, base64url-encoded (Core §3.1.3.6).
pub(crate) fn at_hash(alg: IdTokenAlg, access_token: &str) -> String {
    let digest: Vec<u8> = match alg {
        IdTokenAlg::RS256 => Sha256::digest(access_token.as_bytes()).to_vec(),
        IdTokenAlg::RS384 => Sha384::digest(access_token.as_bytes()).to_vec(),
        IdTokenAlg::RS512 => Sha512::digest(access_token.as_bytes()).to_vec(),
    };
    let half = digest.get(..digest.len() / 2).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(half)
}

impl Service {
    pub(crate) async fn active_signing_key(&self) -> Result<Arc<ActiveKey>> {
        let now = self.now();
        let heard = roster_store::Store::changes_heard(self.inner.store.as_ref());
        if let Some(key) = self.inner.signing_key.get(now, heard) {
            return Ok(key);
        }
        let keys = self.read(crate::keys::all_keys, ()).await?;
        let active = keys
            .into_iter()
            .find(SigningKey::is_active)
            .ok_or_else(|| Error::internal("no active signing key (is the server started?)"))?;
        let pem = self.signing_sealer()?.open(&active.sealed_private_key)?;
        let key = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| Error::internal(format!("reading the signing key: {e}")))?;
        let credential = crate::keys::Credential::of(&active, &pem)?;
        let key = Arc::new(ActiveKey {
            kid: active.public.kid,
            key,
            credential,
        });
        self.inner.signing_key.put(now, heard, Arc::clone(&key));
        Ok(key)
    }

    /// Signs `claims` as a JWT with the active key (its `kid` in the header).
    pub(crate) async fn sign_id_token<C>(&self, alg: IdTokenAlg, claims: C) -> Result<String>
    where
        C: serde::Serialize + Send + 'static,
    {
        self.sign_jwt(alg, None, claims).await
    }

    /// Signs `claims` with the active key, the header's `typ` as given (else `JWT`).
    pub(crate) async fn sign_jwt<C>(
        &self,
        alg: IdTokenAlg,
        typ: Option<&str>,
        claims: C,
    ) -> Result<String>
    where
        C: serde::Serialize + Send + 'static,
    {
        let key = self.active_signing_key().await?;
        let mut header = Header::new(algorithm(alg));
        header.kid = Some(key.kid.clone());
        if let Some(typ) = typ {
            header.typ = Some(typ.to_owned());
        }
        // An RSA signature takes about half a millisecond: off the async threads, so that the
        // requests sharing them do not wait behind it.
        tokio::task::spawn_blocking(move || jsonwebtoken::encode(&header, &claims, &key.key))
            .await
            .map_err(|e| Error::internal(format!("signing an id_token: {e}")))?
            .map_err(|e| Error::internal(format!("signing an id_token: {e}")))
    }
}

/// Whom an id_token this server signed was issued to, as a logout's `id_token_hint` names
/// them (OpenID Connect RP-Initiated Logout 1.0 §2).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct IdTokenHint {
    /// The user.
    pub sub: String,
    /// The application's client id.
    pub aud: String,
}

/// Longest id_token_hint looked at.
const MAX_HINT_CHARS: usize = 16_384;

impl Service {
    /// The user and application of `hint` if it is an id_token this server signed (with a key
    /// it still publishes) for `issuer`; expired ones count (§2: "the OP need not check").
    pub(crate) async fn id_token_hint(
        &self,
        hint: &str,
        issuer: &str,
    ) -> Result<Option<IdTokenHint>> {
        if hint.is_empty() || hint.len() > MAX_HINT_CHARS {
            return Ok(None);
        }
        let Ok(header) = jsonwebtoken::decode_header(hint) else {
            return Ok(None);
        };
        let keys = self.published_keys().await?;
        let Some(key) = keys.iter().find(|k| Some(&k.kid) == header.kid.as_ref()) else {
            return Ok(None);
        };
        let Ok(decoding) = jsonwebtoken::DecodingKey::from_rsa_components(&key.n, &key.e) else {
            return Ok(None);
        };
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
        ) {
            return Ok(None);
        }
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[issuer]);
        Ok(
            jsonwebtoken::decode::<IdTokenHint>(hint, &decoding, &validation)
                .ok()
                .map(|data| data.claims),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_the_token_hash() {
        // OpenID Connect Core §A.3's example: access token and its at_hash (RS256).
        assert_eq!(
            at_hash(
                IdTokenAlg::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(at_hash(IdTokenAlg::RS512, "x").len(), 43);
    }
}
