//! Token introspection (RFC 7662, and `check_token`) and revocation (RFC 7009) for the
//! client a token was issued to.

use super::{seconds, Charge, OAuthClient};
use crate::sign_in::candidate;
use crate::use_case::Cx;
use crate::Service;
use roster_domain::application::Application;
use roster_domain::sign_in::Since;
use roster_domain::time::Millis;
use roster_domain::{secret, Result};
use roster_store::prelude::*;

/// What introspection says of a token (RFC 7662).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introspection {
    pub kind: TokenKind,
    pub client_id: String,
    pub scope: String,
    /// Seconds since the epoch.
    pub expires_at: i64,
    pub issued_at: i64,
    /// The user the token was issued for (none for the client credentials grant), and their
    /// user name.
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    /// The application's token generation at issue.
    generation: i64,
}

/// Which kind of token was introspected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl Service {
    /// What `client` may know of `token` (an access or a refresh token): only its own tokens
    /// that are still good; anything else is "not active" (RFC 7662 §2.2), whether unknown,
    /// expired, revoked, spent or another client's.
    pub async fn oauth_introspect(
        &self,
        client: OAuthClient<'_>,
        token: &str,
    ) -> Result<Option<Introspection>> {
        let (app, _) = self.oauth_client(client, Charge::OnFailure).await?;
        let now = self.now();
        let found = self
            .read(stored_token, (secret::digest(token), app.clone(), now))
            .await?;
        Ok(found
            .filter(|t| t.generation == app.token_generation && t.expires_at > now)
            .map(|t| Introspection {
                client_id: app.client_id.clone(),
                expires_at: seconds(t.expires_at),
                issued_at: seconds(t.issued_at),
                ..t
            }))
    }

    /// `POST /api/v1/oauth2/revoke` (RFC 7009): ends `client`'s own token; a refresh token
    /// ends its whole grant, the access tokens issued with it included (§2.1). Nothing
    /// happens to an unknown token or another client's.
    pub async fn oauth_revoke(&self, client: OAuthClient<'_>, token: &str) -> Result<()> {
        let (app, _) = self.oauth_client(client, Charge::OnFailure).await?;
        let digest = secret::digest(token);
        self.write(&app.client_id.clone(), revoke, (app, digest))
            .await
    }
}

/// `app`'s access or unspent refresh token stored under `digest`, as stored (times in
/// milliseconds), with its user's name; none if its user may no longer sign in to `app` (the
/// same check as userinfo's).
async fn stored_token(
    tx: &mut dyn Tx,
    (digest, app, now): (String, Application, Millis),
) -> Result<Option<Introspection>> {
    let (kind, scope, user_id, expires_at, issued_at, generation, since) =
        if let Some((t, _, _)) = tx.sso_token(&digest).await? {
            if t.application_id != app.id {
                return Ok(None);
            }
            let since = Since::issued(t.created_at, t.created_at);
            let at = (t.expires_at, t.created_at, t.generation);
            (
                TokenKind::Access,
                t.scope,
                t.user_id,
                at.0,
                at.1,
                at.2,
                since,
            )
        } else if let Some(t) = tx.refresh_token(&digest).await? {
            if t.application_id != app.id || t.used_at.is_some() {
                return Ok(None);
            }
            let since = Since::issued(t.auth_time, t.created_at);
            let at = (t.expires_at, t.created_at, t.generation);
            (
                TokenKind::Refresh,
                t.scope,
                Some(t.user_id),
                at.0,
                at.1,
                at.2,
                since,
            )
        } else {
            return Ok(None);
        };
    let user_name = match &user_id {
        Some(id) => match candidate(tx, &app.id, id, false)
            .await?
            .admit(&app, now, since)
        {
            Ok(principal) => Some(principal.user.user_name),
            // Disabled, locked, without an account, or gone: so is what the token stood for.
            Err(_) => return Ok(None),
        },
        None if app.disabled => return Ok(None),
        None => None,
    };
    Ok(Some(Introspection {
        kind,
        client_id: String::new(),
        scope,
        expires_at,
        issued_at,
        user_id: user_id.map(|u| u.into_string()),
        user_name,
        generation,
    }))
}

async fn revoke(tx: &mut dyn Tx, _cx: &mut Cx, (app, digest): (Application, String)) -> Result<()> {
    if tx.delete_sso_token(&app.id, &digest).await? {
        return Ok(());
    }
    if let Some(refresh) = tx.refresh_token(&digest).await? {
        if refresh.application_id == app.id {
            tx.revoke_grant(&refresh.grant_id).await?;
        }
    }
    Ok(())
}
