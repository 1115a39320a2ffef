//! Secrets Roster must be able to give back one day (application-account passwords, which a
//! downstream sync may need): sealed with XChaCha20-Poly1305 under a key from configuration.
//! Never returned by any interface, never logged.
//!
//! Sealed form: `v1:<key id>:<hex of 24-byte nonce ‖ ciphertext ‖ tag>`, where the key id is
//! the first 8 hex digits of the key's SHA-256, so that a key rotation can tell which key
//! sealed what.

use crate::use_case::Cx;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use roster_domain::{secret, Error, Result};
use roster_store::prelude::*;
use std::fmt;

/// A 256-bit key; its `Debug` shows only its id.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// From 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Result<Self> {
        let bytes = hex::decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                Error::invalid("the secret key must be 64 hexadecimal digits (32 bytes).")
            })?;
        Ok(Self(bytes))
    }

    /// A fresh random key, as 64 hexadecimal digits.
    pub fn generate_hex() -> String {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        hex::encode(key)
    }

    /// A key for `purpose` derived from this one (SHA-256 of the purpose and the key), so
    /// that no two uses share key material.
    pub(crate) fn derive(&self, purpose: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(purpose.as_bytes());
        hasher.update(self.0);
        hasher.finalize().into()
    }

    pub fn id(&self) -> String {
        secret::digest(&hex::encode(self.0))
            .chars()
            .take(8)
            .collect()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.id())
    }
}

pub(crate) struct Sealer {
    key_id: String,
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub fn new(key: &SecretKey) -> Self {
        Self {
            key_id: key.id(),
            cipher: XChaCha20Poly1305::new((&key.0).into()),
        }
    }

    pub fn seal(&self, plaintext: &str) -> Result<String> {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
            .map_err(|_| Error::internal("sealing a secret failed"))?;
        Ok(format!(
            "v1:{}:{}{}",
            self.key_id,
            hex::encode(nonce),
            hex::encode(sealed)
        ))
    }

    /// Opens what [`Sealer::seal`] sealed with this key.
    pub fn open(&self, sealed: &str) -> Result<String> {
        let rest = sealed
            .strip_prefix("v1:")
            .and_then(|r| r.strip_prefix(self.key_id.as_str()))
            .and_then(|r| r.strip_prefix(':'))
            .ok_or_else(|| Error::internal("sealed by another key or format"))?;
        let bytes = hex::decode(rest).map_err(|_| Error::internal("sealed secret is not hex"))?;
        if bytes.len() < 24 {
            return Err(Error::internal("sealed secret too short"));
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| Error::internal("sealed secret does not open with this key"))?;
        String::from_utf8(plain).map_err(|_| Error::internal("sealed secret is not text"))
    }
}

impl crate::Service {
    /// Re-seals every stored account password and signing key from `old` to `new` in one
    /// transaction: all or nothing. Secrets already under `new` are left as they are. Returns
    /// how many were re-sealed.
    pub async fn reseal_account_passwords(&self, old: &SecretKey, new: &SecretKey) -> Result<u64> {
        let keys = (Sealer::new(old), Sealer::new(new), new.id());
        self.write(roster_domain::audit::CLI_ACTOR, reseal, keys)
            .await
    }
}

impl crate::Service {
    /// Refuses a secret key that does not open what the database holds sealed (its id_token
    /// signing keys, else an account password): a server started with it would fail at the
    /// first sign-in. The refusal names the key that sealed them.
    pub async fn check_secret_key(&self) -> Result<()> {
        let Some((what, sealed)) = self.read(a_sealed_secret, ()).await? else {
            return Ok(());
        };
        opens(
            self.inner.sealer.as_ref(),
            &sealed,
            what,
            "this database holds",
        )
    }
}

/// Whether `sealer` opens `sealed` (`what`, which `whose` holds); else the refusal naming the
/// key that sealed it and the one given.
pub(crate) fn opens(sealer: Option<&Sealer>, sealed: &str, what: &str, whose: &str) -> Result<()> {
    if sealer.is_some_and(|s| s.open(sealed).is_ok()) {
        return Ok(());
    }
    let sealed_by = sealed
        .strip_prefix("v1:")
        .and_then(|rest| rest.split(':').next())
        .unwrap_or("of another format");
    let given = match sealer {
        Some(s) => format!("the secret key given (id {})", s.key_id),
        None => "no secret key was given, which".to_owned(),
    };
    Err(Error::invalid(format!(
        "{given} does not open the {what} {whose}, which key {sealed_by} sealed: give the key \
         it was made with (ROSTER_SECRET_KEY, ROSTER_SECRET_KEY_FILE, or roster.key beside an \
         embedded database); `roster rotate-secret-key` changes it."
    )))
}

/// One sealed secret of the database, and what it is: a signing key's private half, or (a
/// database that never served) an account password.
async fn a_sealed_secret(tx: &mut dyn Tx, (): ()) -> Result<Option<(&'static str, String)>> {
    if let Some(key) = tx.signing_keys().await?.into_iter().next() {
        return Ok(Some(("id_token signing key", key.sealed_private_key)));
    }
    Ok(tx
        .sealed_account_passwords()
        .await?
        .into_iter()
        .next()
        .map(|(_, sealed)| ("account passwords", sealed)))
}

async fn reseal(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (opener, sealer, new_id): (Sealer, Sealer, String),
) -> Result<u64> {
    let under_new = format!("v1:{new_id}:");
    let mut count = 0u64;
    for (id, sealed) in tx.sealed_account_passwords().await? {
        if sealed.starts_with(&under_new) {
            continue;
        }
        let plain = opener.open(&sealed).map_err(|_| {
            Error::invalid(format!(
                "account {id}: its password is not sealed with the old key; nothing was changed."
            ))
        })?;
        tx.set_sealed_account_password(&id, &sealer.seal(&plain)?)
            .await?;
        count += 1;
    }
    // The private halves of the signing keys are sealed the same way.
    for key in tx.signing_keys().await? {
        if key.sealed_private_key.starts_with(&under_new) {
            continue;
        }
        let plain = opener.open(&key.sealed_private_key).map_err(|_| {
            Error::invalid(format!(
                "signing key {}: it is not sealed with the old key; nothing was changed.",
                key.kid()
            ))
        })?;
        tx.set_sealed_signing_key(key.kid(), &sealer.seal(&plain)?)
            .await?;
        count += 1;
    }
    // And the applications' user-API signature keys.
    for (app_id, sealed) in tx.sealed_user_api_keys().await? {
        if sealed.starts_with(&under_new) {
            continue;
        }
        let plain = opener.open(&sealed).map_err(|_| {
            Error::invalid(format!(
                "application {app_id}: its signature key is not sealed with the old key; \
                 nothing was changed."
            ))
        })?;
        tx.set_sealed_user_api_key(&app_id, &sealer.seal(&plain)?)
            .await?;
        count += 1;
    }
    cx.audit("ResealAccountPasswords", "secret_key", &new_id);
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_with_its_key() {
        let key = SecretKey::from_hex(&SecretKey::generate_hex()).unwrap();
        let sealer = Sealer::new(&key);
        let sealed = sealer.seal("account-password").unwrap();
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("account-password"));
        assert_ne!(
            sealed,
            sealer.seal("account-password").unwrap(),
            "fresh nonce each time"
        );
        assert_eq!(
            sealer.open(&sealed).ok().as_deref(),
            Some("account-password")
        );
        let other = Sealer::new(&SecretKey([7; 32]));
        assert!(other.open(&sealed).is_err());
        assert!(format!("{key:?}").len() < 20, "Debug shows only the id");
        assert!(SecretKey::from_hex("abc").is_err());
    }
}
