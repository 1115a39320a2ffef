//! The RSA keys that sign id_tokens: generated at the first start (or read from a PEM file the
//! operator gives, for a JWKS that stays the same from one fresh database to the next),
//! rotated on demand, the same on every node because they live in the store (the private half
//! sealed with the secret key).

use crate::use_case::Cx;
use crate::{secrets::Sealer, Caller, Service};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use roster_domain::audit::SYSTEM_ACTOR;
use roster_domain::permission::Access;
use roster_domain::signing::{PublicJwk, SigningKey, RETIRED_KEY_PUBLISHED_MS};
use roster_domain::time::Millis;
use roster_domain::{Error, ErrorKind, Result};
use roster_store::prelude::*;
use roster_store::LockKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};

/// Key size: RS256/384/512 with 2048-bit keys, as OpenID providers commonly publish.
const RSA_BITS: usize = 2048;

/// A key's RFC 7638 thumbprint: SHA-256 of its required members in lexical order.
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A new key pair, its private half sealed. Seconds of arithmetic: run off the async runtime.
fn generate(sealer: &Sealer, now: Millis) -> Result<SigningKey> {
    let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS)
        .map_err(|e| Error::internal(format!("generating an RSA key: {e}")))?;
    signing_key(&private, sealer, now)
}

/// An RSA private key an operator gives as the first signing key (`--signing-key-file`),
/// checked when the settings are read. `Debug` shows nothing of it.
pub struct FirstSigningKey(RsaPrivateKey);

impl FirstSigningKey {
    /// The key in `pem`: PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`, 2048 bits or more.
    pub fn from_pem(pem: &str) -> Result<Self> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        let private = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| {
                Error::invalid(
                    "the signing key file holds no RSA private key in PEM form (PKCS#8 \
                     \"PRIVATE KEY\" or PKCS#1 \"RSA PRIVATE KEY\"); e.g. openssl genpkey \
                     -algorithm RSA -pkeyopt rsa_keygen_bits:2048",
                )
            })?;
        let bits = private.size() * 8;
        if bits < RSA_BITS {
            return Err(Error::invalid(format!(
                "the signing key has {bits} bits; it needs at least {RSA_BITS}."
            )));
        }
        Ok(Self(private))
    }
}

impl std::fmt::Debug for FirstSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FirstSigningKey(***)")
    }
}

fn signing_key(private: &RsaPrivateKey, sealer: &Sealer, now: Millis) -> Result<SigningKey> {
    let pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| Error::internal(format!("encoding the RSA key: {e}")))?;
    let public = private.to_public_key();
    let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
    Ok(SigningKey {
        public: PublicJwk {
            kty: "RSA".to_owned(),
            usage: "sig".to_owned(),
            kid: thumbprint(&n, &e),
            n,
            e,
        },
        sealed_private_key: sealer.seal(&pem)?,
        created_at: now,
        retired_at: None,
        staged: false,
    })
}

impl Service {
    pub(crate) fn signing_sealer(&self) -> Result<&Sealer> {
        self.inner.sealer.as_ref().ok_or_else(|| {
            Error::with_detail(
                ErrorKind::InvalidParameter,
                "signing keys are sealed with the secret key: set ROSTER_SECRET_KEY (or \
                 ROSTER_SECRET_KEY_FILE), the same on every node",
            )
        })
    }

    async fn generate_key(&self) -> Result<SigningKey> {
        let service = self.clone();
        let now = self.now();
        tokio::task::spawn_blocking(move || generate(service.signing_sealer()?, now))
            .await
            .map_err(|e| Error::internal(format!("key generation stopped: {e}")))?
    }

    /// Makes sure a key signs (at a first start): unless a key is active, adds `first` or else
    /// a generated one. Nodes starting together agree on
    /// one: the first to commit wins, the others keep it. Says whether this call added the
    /// key.
    pub async fn ensure_signing_key(&self, first: Option<&FirstSigningKey>) -> Result<bool> {
        if has_active(&self.read(all_keys, ()).await?) {
            return Ok(false);
        }
        let key = match first {
            Some(FirstSigningKey(key)) => signing_key(key, self.signing_sealer()?, self.now())?,
            None => self.generate_key().await?,
        };
        self.write(SYSTEM_ACTOR, add_first, key).await
    }

    /// `roster keys rotate`: the staged key (if one is) — else a new one — signs from now on;
    /// the previous one stays published until the tokens it signed have expired. Keys retired
    /// longer ago than that go.
    pub async fn rotate_signing_key(&self, caller: &Caller) -> Result<SigningKey> {
        caller.require(Access::Admin)?;
        let staged = self
            .read(all_keys, ())
            .await?
            .into_iter()
            .find(SigningKey::is_staged);
        let key = match staged {
            Some(staged) => staged,
            None => self.generate_key().await?,
        };
        let rotated = self.write(&caller.client_id, rotate, key).await?;
        self.inner.signing_key.clear();
        Ok(rotated)
    }

    /// `roster keys stage`: a new key, published at once (key set, SAML metadata) but not
    /// signing until the next `rotate_signing_key`, so that relying parties and service
    /// providers that fetch keys now and then have it before it signs. Replaces a key staged
    /// before.
    pub async fn stage_signing_key(&self, caller: &Caller) -> Result<SigningKey> {
        caller.require(Access::Admin)?;
        let mut key = self.generate_key().await?;
        key.staged = true;
        self.write(&caller.client_id, stage, key).await
    }

    /// Every stored key, newest first (`roster keys list`).
    pub async fn signing_keys(&self, caller: &Caller) -> Result<Vec<SigningKey>> {
        caller.require(Access::AdminRead)?;
        self.read(all_keys, ()).await
    }

    /// The certificates (DER) of the published keys, the active one first: SAML metadata
    /// publishes them (a retired key's until what it signed has expired).
    pub(crate) async fn published_certificates(&self) -> Result<Vec<Vec<u8>>> {
        let now = self.now();
        let keys = published_in_order(self.read(all_keys, ()).await?, now);
        let sealer = self.signing_sealer()?;
        let mut certificates = Vec::new();
        for key in &keys {
            let pem = sealer.open(&key.sealed_private_key)?;
            certificates.push(Credential::of(key, &pem)?.certificate);
        }
        Ok(certificates)
    }

    /// The published keys, the active one first: the JSON Web Key Set relying parties check
    /// id_token signatures against.
    pub async fn published_keys(&self) -> Result<Vec<PublicJwk>> {
        let now = self.now();
        let keys = published_in_order(self.read(all_keys, ()).await?, now);
        Ok(keys.into_iter().map(|k| k.public).collect())
    }
}

/// A signing key ready to sign XML: its private half and its certificate (DER).
pub(crate) struct Credential {
    pub key: PKey<Private>,
    pub certificate: Vec<u8>,
}

impl Credential {
    /// The credential of a signing key whose private half (PKCS #8 PEM) is `pem`.
    pub(crate) fn of(key: &SigningKey, pem: &str) -> Result<Self> {
        let private = PKey::private_key_from_pem(pem.as_bytes())
            .map_err(|e| Error::internal(format!("reading the signing key: {e}")))?;
        let certificate = self_signed_certificate(&private, key.kid(), key.created_at / 1000)
            .map_err(|e| Error::internal(format!("making the signing key's certificate: {e}")))?;
        Ok(Self {
            key: private,
            certificate,
        })
    }
}

/// A self-signed certificate for `key` (SAML metadata and `KeyInfo` carry keys as X.509).
/// Everything in it comes from the key, its id and its creation time, so every node makes the
/// same certificate (RSA PKCS#1 v1.5 signatures are deterministic).
pub(crate) fn self_signed_certificate(
    key: &PKey<Private>,
    kid: &str,
    created_at_secs: i64,
) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    use openssl::asn1::{Asn1Integer, Asn1Time};
    use openssl::bn::BigNum;
    use openssl::x509::{X509Builder, X509NameBuilder};
    /// Twenty years: SAML relying parties check the key, most ignore the dates.
    const VALID_SECS: i64 = 20 * 365 * 86_400;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", &format!("Roster signing key {kid}"))?;
    let name = name.build();
    let mut builder = X509Builder::new()?;
    builder.set_version(2)?;
    let serial_bytes = openssl::hash::hash(MessageDigest::sha256(), kid.as_bytes())?;
    let mut serial = serial_bytes.get(..16).unwrap_or_default().to_vec();
    if let Some(first) = serial.first_mut() {
        *first &= 0x7f;
    }
    let serial = Asn1Integer::from_bn(BigNum::from_slice(&serial)?.as_ref())?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_not_before(Asn1Time::from_unix(created_at_secs)?.as_ref())?;
    builder
        .set_not_after(Asn1Time::from_unix(created_at_secs.saturating_add(VALID_SECS))?.as_ref())?;
    builder.set_pubkey(key)?;
    builder.sign(key, MessageDigest::sha256())?;
    builder.build().to_der()
}

/// The keys published at `now`: the active one, then a staged one, then the retired ones,
/// newest first.
fn published_in_order(keys: Vec<SigningKey>, now: Millis) -> Vec<SigningKey> {
    let mut published: Vec<SigningKey> = keys.into_iter().filter(|k| k.is_published(now)).collect();
    published.sort_by_key(|k| {
        (
            !k.is_active(),
            !k.is_staged(),
            std::cmp::Reverse(k.created_at),
        )
    });
    published
}

fn has_active(keys: &[SigningKey]) -> bool {
    keys.iter().any(SigningKey::is_active)
}

pub(crate) async fn all_keys(tx: &mut dyn Tx, (): ()) -> Result<Vec<SigningKey>> {
    tx.signing_keys().await
}

async fn add_first(tx: &mut dyn Tx, cx: &mut Cx, key: SigningKey) -> Result<bool> {
    tx.lock(LockKey::SigningKeys).await?;
    if has_active(&tx.signing_keys().await?) {
        return Ok(false);
    }
    tx.insert_signing_key(&key).await?;
    cx.audit("CreateSigningKey", "signing_key", key.kid());
    Ok(true)
}

async fn rotate(tx: &mut dyn Tx, cx: &mut Cx, mut key: SigningKey) -> Result<SigningKey> {
    tx.lock(LockKey::SigningKeys).await?;
    // Running nodes sign with the new key as soon as they hear of it.
    tx.announce_change().await?;
    let now = cx.now;
    tx.retire_signing_keys(now).await?;
    tx.delete_signing_keys_retired_before(now.saturating_sub(RETIRED_KEY_PUBLISHED_MS))
        .await?;
    if key.is_staged() {
        // Published since it was staged; only now does it sign (unless another rotation
        // promoted it first, in which case a new key is not made up here).
        if tx.activate_signing_key(key.kid()).await? == 0 {
            return Err(Error::with_detail(
                ErrorKind::InvalidParameter,
                "the staged signing key was promoted by another rotation; rotate again",
            ));
        }
        key.staged = false;
    } else {
        tx.insert_signing_key(&key).await?;
    }
    cx.audit("RotateSigningKey", "signing_key", key.kid());
    Ok(key)
}

async fn stage(tx: &mut dyn Tx, cx: &mut Cx, key: SigningKey) -> Result<SigningKey> {
    tx.lock(LockKey::SigningKeys).await?;
    // Running nodes publish it as soon as they hear of it.
    tx.announce_change().await?;
    tx.delete_staged_signing_keys().await?;
    tx.insert_signing_key(&key).await?;
    cx.audit("StageSigningKey", "signing_key", key.kid());
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_is_rfc_7638s() {
        // The example key of RFC 7638 §3.1 and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let e = "AQAB";
        assert_eq!(
            thumbprint(n, e),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
