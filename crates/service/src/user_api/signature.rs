//! Session calls are signed: `X-signature` is Base64 of RSA-OAEP over
//! `session_token=…&timestamp=…&nonce=…`, encrypted with the application's public key
//! (`GET /api/v2/sdk/public-key`) as Java's `RSA/ECB/OAEPWithSHA-256AndMGF1Padding` does it:
//! SHA-256 for OAEP and, by the JCE's default, SHA-1 for MGF1 (MGF1 with SHA-256 is
//! accepted too). The timestamp must be within the window of the server's time
//! (`GET /api/v2/sdk/server-date`), and each nonce is accepted once, on any node.

use super::{Caller, Headers};
use crate::sign_in::candidate;
use crate::use_case::Cx;
use crate::Service;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;
use openssl::md::Md;
use openssl::pkey::{PKey, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use roster_domain::application::ApplicationId;
use roster_domain::audit::SYSTEM_ACTOR;
use roster_domain::sign_in::Since;
use roster_domain::sso::Principal;
use roster_domain::time::Millis;
use roster_domain::user_api::{Refusal, UserApiSession};
use roster_domain::{secret, Error, Result};
use roster_store::prelude::*;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;
use std::sync::Arc;

/// Bits of an application's signature key.
const RSA_BITS: usize = 2048;
/// Longest `X-signature` read (Base64 of one 4096-bit block, with room).
const MAX_SIGNATURE_CHARS: usize = 1024;
/// Longest nonce accepted.
const MAX_NONCE_CHARS: usize = 128;

/// A session call whose signature held: the session and who it is for.
pub(crate) struct Signed {
    pub session: UserApiSession,
    pub principal: Principal,
}

/// What a signature says, once decrypted.
#[derive(Debug, PartialEq, Eq)]
struct Signature<'a> {
    session_token: &'a str,
    timestamp: Millis,
    nonce: &'a str,
}

/// Reads `session_token=…&timestamp=…&nonce=…` (in any order, each once).
fn parse(plain: &str) -> Option<Signature<'_>> {
    let (mut session_token, mut timestamp, mut nonce) = (None, None, None);
    for pair in plain.split('&') {
        let (name, value) = pair.split_once('=')?;
        let slot = match name {
            "session_token" => &mut session_token,
            "timestamp" => &mut timestamp,
            "nonce" => &mut nonce,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let nonce = nonce.filter(|n| !n.is_empty() && n.len() <= MAX_NONCE_CHARS)?;
    Some(Signature {
        session_token: session_token.filter(|t| !t.is_empty())?,
        timestamp: timestamp?.trim().parse().ok()?,
        nonce,
    })
}

/// Decrypts with OAEP SHA-256 and MGF1-SHA-1 (Java's default), else MGF1-SHA-256, with
/// OpenSSL's constant-time RSA.
fn decrypt(key: &PKey<Private>, ciphertext: &[u8]) -> Option<String> {
    [Md::sha1(), Md::sha256()].into_iter().find_map(|mgf1| {
        let mut ctx = PkeyCtx::new(key).ok()?;
        ctx.decrypt_init().ok()?;
        ctx.set_rsa_padding(Padding::PKCS1_OAEP).ok()?;
        ctx.set_rsa_oaep_md(Md::sha256()).ok()?;
        ctx.set_rsa_mgf1_md(mgf1).ok()?;
        let mut plain = Vec::new();
        ctx.decrypt_to_vec(ciphertext, &mut plain).ok()?;
        String::from_utf8(plain).ok()
    })
}

impl Service {
    /// `GET /api/v2/sdk/public-key`: the application's public key (PEM), its pair made at
    /// the first call (the private half sealed with the secret key).
    pub async fn user_api_public_key(&self, headers: Headers<'_>) -> Result<String> {
        let caller = self.user_api_caller(&headers).await?;
        let app_id = caller.app.id.clone();
        if let Some((public, _)) = self.read(read_key, app_id.clone()).await? {
            return Ok(public);
        }
        self.signing_sealer()?;
        let service = self.clone();
        let (public, sealed) = tokio::task::spawn_blocking(move || -> Result<_> {
            let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS)
                .map_err(|e| Error::internal(format!("generating an RSA key: {e}")))?;
            let public = private
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| Error::internal(format!("encoding a public key: {e}")))?;
            let pem = private
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| Error::internal(format!("encoding a private key: {e}")))?;
            Ok((public, service.signing_sealer()?.seal(&pem)?))
        })
        .await
        .map_err(|e| Error::internal(format!("key generation stopped: {e}")))??;
        // Two nodes asking at once: the first to commit wins, and both answer its key.
        self.write(SYSTEM_ACTOR, insert_key, (app_id.clone(), public, sealed))
            .await?;
        let stored = self.read(read_key, app_id).await?;
        stored
            .map(|(public, _)| public)
            .ok_or_else(|| Error::internal("the application's key was not stored"))
    }

    /// Checks a session call's `X-signature`: decrypts it with the application's key, checks
    /// the timestamp, spends the nonce, and reads the session and its user, who must still
    /// be admitted to the application.
    pub(super) async fn signed(&self, caller: &Caller, signature: Option<&str>) -> Result<Signed> {
        let text: String = signature
            .map(|s| s.chars().filter(|c| !c.is_ascii_whitespace()).collect())
            .filter(|s: &String| !s.is_empty())
            .ok_or_else(|| self.refuse(Refusal::Required("X-signature")))?;
        let invalid = |why| self.refuse(Refusal::SignatureInvalid(why));
        let ciphertext = (text.len() <= MAX_SIGNATURE_CHARS)
            .then(|| {
                STANDARD
                    .decode(&text)
                    .or_else(|_| URL_SAFE.decode(&text))
                    .ok()
            })
            .flatten()
            .ok_or_else(|| invalid("X-signature is not Base64."))?;
        let key = self.private_key(&caller.app.id).await?;
        let plain = tokio::task::spawn_blocking(move || decrypt(&key, &ciphertext))
            .await
            .map_err(|e| Error::internal(format!("decrypting a signature: {e}")))?
            .ok_or_else(|| invalid("X-signature does not decrypt with this application's key."))?;
        let signed = parse(&plain).ok_or_else(|| {
            invalid("The signed text must be session_token=…&timestamp=…&nonce=….")
        })?;
        let window = crate::sign_in::millis(self.user_api_settings().signature_window);
        if self.now().abs_diff(signed.timestamp) > window.unsigned_abs() {
            return Err(self.refuse(Refusal::SignatureExpired));
        }
        let check = Check {
            application_id: caller.app.id.clone(),
            nonce_digest: secret::digest(signed.nonce),
            nonce_until: signed.timestamp.saturating_add(window),
            session_digest: secret::digest(signed.session_token),
        };
        match self.write(SYSTEM_ACTOR, spend_signature, check).await? {
            Ok(found) => {
                let app = &caller.app;
                let since = Since::issued(found.session.auth_time, found.session.created_at);
                match found.candidate.admit(app, self.now(), since) {
                    Ok(principal) => Ok(Signed {
                        session: found.session,
                        principal,
                    }),
                    Err(why) => Err(self.refuse(Refusal::SessionInvalid(why))),
                }
            }
            Err(Unsigned::Replayed) => Err(invalid("Its nonce was used already.")),
            Err(Unsigned::NoSession) => Err(invalid(
                "Its session token is unknown, ended, expired, or another application's.",
            )),
        }
    }

    /// The application's private key, opened once per node.
    async fn private_key(&self, app_id: &ApplicationId) -> Result<Arc<PKey<Private>>> {
        if let Some(key) = self.inner.user_api.keys.get(app_id) {
            return Ok(key);
        }
        let (_, sealed) = self
            .read(read_key, app_id.clone())
            .await?
            .ok_or_else(|| self.refuse(Refusal::NoSignatureKey))?;
        let pem = self.signing_sealer()?.open(&sealed)?;
        let key = PKey::private_key_from_pem(pem.as_bytes())
            .map_err(|e| Error::internal(format!("reading an application's key: {e}")))?;
        let key = Arc::new(key);
        self.inner
            .user_api
            .keys
            .insert(app_id.clone(), Arc::clone(&key));
        Ok(key)
    }
}

async fn read_key(tx: &mut dyn Tx, app_id: ApplicationId) -> Result<Option<(String, String)>> {
    tx.user_api_key(&app_id).await
}

async fn insert_key(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (app_id, public, sealed): (ApplicationId, String, String),
) -> Result<()> {
    if tx
        .insert_user_api_key_if_absent(&app_id, &public, &sealed, cx.now)
        .await?
    {
        cx.audit("CreateSignatureKey", "application", app_id.as_str());
    }
    Ok(())
}

/// What a signature asks of the store.
struct Check {
    application_id: ApplicationId,
    nonce_digest: String,
    nonce_until: Millis,
    session_digest: String,
}

/// The session a signature names, and its user as the store holds them.
struct Found {
    session: UserApiSession,
    candidate: crate::sign_in::Candidate,
}

enum Unsigned {
    Replayed,
    NoSession,
}

/// Spends the nonce (kept even when the session turns out bad: a signature is tried once)
/// and reads the session and its user.
async fn spend_signature(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    check: Check,
) -> Result<std::result::Result<Found, Unsigned>> {
    if !tx
        .spend_nonce(
            &check.application_id,
            &check.nonce_digest,
            check.nonce_until,
        )
        .await?
    {
        return Ok(Err(Unsigned::Replayed));
    }
    let session = tx
        .user_api_session(&check.session_digest)
        .await?
        .filter(|s| s.application_id == check.application_id && s.expires_at > cx.now);
    let Some(session) = session else {
        return Ok(Err(Unsigned::NoSession));
    };
    let candidate = candidate(tx, &check.application_id, &session.user_id, false).await?;
    Ok(Ok(Found { session, candidate }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_text_names_three_fields_once_each() {
        assert_eq!(
            parse("session_token=abc&timestamp=1700000000000&nonce=18bcfe5"),
            Some(Signature {
                session_token: "abc",
                timestamp: 1_700_000_000_000,
                nonce: "18bcfe5"
            })
        );
        assert!(parse("timestamp=1&nonce=n&session_token=t").is_some());
        assert_eq!(parse("session_token=abc&timestamp=1"), None);
        assert_eq!(parse("session_token=abc&timestamp=x&nonce=n"), None);
        assert_eq!(
            parse("session_token=a&session_token=b&timestamp=1&nonce=n"),
            None
        );
        assert_eq!(parse("session_token=a&timestamp=1&nonce=n&extra=1"), None);
        assert_eq!(parse("session_token=&timestamp=1&nonce=n"), None);
    }

    #[test]
    fn both_mgf1_hashes_decrypt() {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::Oaep;
        let mut rng = rand::rngs::OsRng;
        let key = RsaPrivateKey::new(&mut rng, 1024).unwrap();
        let public = key.to_public_key();
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let opened = PKey::private_key_from_pem(pem.as_bytes()).unwrap();
        assert!(RsaPrivateKey::from_pkcs8_pem(&pem).is_ok());
        let java = public
            .encrypt(
                &mut rng,
                Oaep::new_with_mgf_hash::<sha2::Sha256, sha1::Sha1>(),
                b"x",
            )
            .unwrap();
        let sha256 = public
            .encrypt(&mut rng, Oaep::new::<sha2::Sha256>(), b"y")
            .unwrap();
        assert_eq!(decrypt(&opened, &java).as_deref(), Some("x"));
        assert_eq!(decrypt(&opened, &sha256).as_deref(), Some("y"));
        assert_eq!(decrypt(&opened, b"garbage"), None);
    }
}
