//! `GET /api/v1/oauth2/userinfo`: the claims of the user a bearer token was issued for, while
//! the token is good and the user may still sign in to its application.

use crate::sign_in::{candidate, needs_roles, Candidate};
use crate::Service;
use roster_domain::application::Application;
use roster_domain::sign_in::Since;
use roster_domain::sso::{SsoAccessToken, SsoSettings};
use roster_domain::time::Millis;
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;
use serde::Serialize;
use std::sync::Arc;

/// What an application learns about a user: the reference's userinfo fields (`id`,
/// `userName`, `name`, `email`, `mobile`) and the application's mapped claims, by name.
pub type Claims = serde_json::Map<String, serde_json::Value>;

/// userinfo's answer: the user's claims, and `sub` (OpenID Connect Core §5.3.2's name for
/// `id`, so that OIDC libraries read it too).
#[derive(Debug, Serialize)]
pub struct UserInfo {
    pub sub: String,
    /// No mapping may be named `sub` (`roster_domain::sso`'s reserved claims).
    #[serde(flatten)]
    pub claims: Claims,
}

/// What userinfo answered for a token, and when it was read (in writes of this node).
#[derive(Clone)]
pub(crate) struct KnownClaims {
    info: Arc<UserInfo>,
    token_expires_at: Millis,
    writes: u64,
}

/// Longest bearer token looked up.
const MAX_TOKEN_CHARS: usize = 200;

impl Service {
    /// `GET /api/v1/oauth2/userinfo`.
    pub async fn userinfo(&self, bearer: &str) -> Result<Arc<UserInfo>> {
        let refused = || Error::new(ErrorKind::Unauthenticated);
        if bearer.is_empty() || bearer.len() > MAX_TOKEN_CHARS {
            return Err(refused());
        }
        let digest = secret::digest(bearer);
        let writes = self.inner.store.writes();
        let known = &self.oauth_state().userinfo;
        if let Some(found) = known.get(&digest) {
            if found.writes == writes && found.token_expires_at > self.now() {
                return Ok(found.info);
            }
        }
        let found = self.read(token_and_candidate, digest.clone()).await?;
        let Some((token, app, settings, candidate)) = found else {
            return Err(refused());
        };
        let now = self.now();
        if token.expires_at <= now || token.generation != app.token_generation {
            return Err(refused());
        }
        let since = Since::issued(token.created_at, token.created_at);
        let principal = candidate.admit(&app, now, since).map_err(|_| refused())?;
        let info = Arc::new(UserInfo {
            sub: principal.user.id.as_str().to_owned(),
            claims: principal.claims(&settings.claims),
        });
        // Kept only if nothing was written here meanwhile (else the next call reads again).
        if self.inner.store.writes() == writes {
            known.insert(
                digest,
                KnownClaims {
                    info: Arc::clone(&info),
                    token_expires_at: token.expires_at,
                    writes,
                },
            );
        }
        Ok(info)
    }
}

/// The user token stored under `digest`, its application's settings, and who it was issued
/// to.
async fn token_and_candidate(
    tx: &mut dyn Tx,
    digest: String,
) -> Result<Option<(SsoAccessToken, Application, SsoSettings, Candidate)>> {
    let Some((token, app, Some(settings))) = tx.sso_token(&digest).await? else {
        return Ok(None);
    };
    let Some(user_id) = token.user_id.clone() else {
        return Ok(None);
    };
    let with_roles = needs_roles(&settings);
    let candidate = candidate(tx, &app.id, &user_id, with_roles).await?;
    Ok(Some((token, app, settings, candidate)))
}
