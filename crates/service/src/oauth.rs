//! The sign-in token endpoint's use cases (`/api/v1/oauth2/token`, `introspect`,
//! `check_token`, `revoke`) for applications with sign-in settings. Served so far: the client
//! credentials grant, and looking up and revoking the tokens it issues.

use crate::Service;
use roster_domain::application::Application;
use roster_domain::sso::{Grant, SsoAccessToken};
use roster_domain::time::Millis;
use roster_domain::{secret, Error, ErrorKind, Result};
use std::net::IpAddr;

/// Longest client id looked up (as on the tenant token endpoint).
const MAX_CLIENT_ID_CHARS: usize = 128;

/// A token issued at the sign-in token endpoint.
#[derive(Debug, Clone)]
pub struct OAuthToken {
    pub access_token: String,
    pub expires_in: u64,
    pub scope: String,
}

/// What introspection says of a token (RFC 7662).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introspection {
    pub client_id: String,
    pub scope: String,
    /// Seconds since the epoch.
    pub expires_at: i64,
    pub issued_at: i64,
    /// The user the token was issued for (none for the client credentials grant).
    pub user_id: Option<String>,
}

/// Client credentials as a sign-in endpoint received them.
#[derive(Debug, Clone, Copy)]
pub struct OAuthClient<'a> {
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
    pub source: Option<IpAddr>,
}

/// Longest `scope` accepted.
const MAX_SCOPE_CHARS: usize = 1000;

/// A requested scope, checked (RFC 6749 §3.3: space-separated tokens of printable ASCII
/// without `"` and `\\`), with its spaces normalized.
fn requested_scope(scope: Option<&str>) -> Result<String> {
    let scope = scope.unwrap_or_default();
    let well_formed = scope.len() <= MAX_SCOPE_CHARS
        && scope
            .bytes()
            .all(|b| b == b' ' || ((0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\'));
    if !well_formed {
        return Err(Error::invalid(format!(
            "scope is at most {MAX_SCOPE_CHARS} characters of printable ASCII, without \" or \\."
        )));
    }
    Ok(scope.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// When a client's attempts count against the limits per address and client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charge {
    /// Every attempt, before anything is looked up (the token endpoint, as the tenant's).
    Always,
    /// Only attempts with wrong credentials: resource servers call the token-checking
    /// endpoints for every request they serve, and must not run out of budget for it.
    OnFailure,
}

fn seconds(at: Millis) -> i64 {
    at.div_euclid(1000)
}

impl Service {
    /// The application behind `client`'s credentials; attempts are limited (as `charge`
    /// says) and refusals audited as on the tenant token endpoint. An unknown client, a
    /// wrong secret and a disabled application get the same answer.
    async fn oauth_client(&self, client: OAuthClient<'_>, charge: Charge) -> Result<Application> {
        let client_id = client.client_id.unwrap_or_default();
        let limits = &self.inner.token_limits;
        if charge == Charge::Always {
            limits.check_attempt(client_id, client.source)?;
        }
        let app = if client_id.is_empty() || client_id.len() > MAX_CLIENT_ID_CHARS {
            None
        } else {
            let lookup = client_id.to_owned();
            self.store()
                .read(move |tx| Box::pin(async move { tx.application_by_client_id(&lookup).await }))
                .await?
        };
        let secret = client.client_secret.unwrap_or_default();
        match app.filter(|a| secret::matches(secret, &a.secret_digest) && !a.disabled) {
            Some(app) => Ok(app),
            None => {
                let kind = ErrorKind::InvalidClient;
                self.inner.refusals.count(client_id, client.source, kind);
                if charge == Charge::OnFailure {
                    limits.check_attempt(client_id, client.source)?;
                }
                Err(kind.into())
            }
        }
    }

    /// `POST /api/v1/oauth2/token`.
    pub async fn oauth_token(
        &self,
        client: OAuthClient<'_>,
        grant_type: Option<&str>,
        scope: Option<&str>,
    ) -> Result<OAuthToken> {
        let app = self.oauth_client(client, Charge::Always).await?;
        let scope = requested_scope(scope)?;
        let grant_type = grant_type.filter(|g| !g.is_empty()).ok_or_else(|| {
            Error::with_detail(ErrorKind::UnsupportedGrantType, "Missing grant type")
        })?;
        let grant = match grant_type {
            "refresh_token" => None,
            other => Some(Grant::parse(other).map_err(|_| {
                Error::with_detail(
                    ErrorKind::UnsupportedGrantType,
                    format!("Unsupported grant type: {other}"),
                )
            })?),
        };
        let app_id = app.id.clone();
        let settings = self
            .store()
            .read(move |tx| Box::pin(async move { tx.sso_settings(&app_id).await }))
            .await?;
        let unauthorized = || {
            Error::with_detail(
                ErrorKind::UnauthorizedGrantType,
                format!("Unauthorized grant type: {grant_type}"),
            )
        };
        let settings = settings.ok_or_else(unauthorized)?;
        match grant {
            Some(Grant::ClientCredentials) if settings.allows_grant(Grant::ClientCredentials) => {}
            Some(grant) if !settings.allows_grant(grant) => return Err(unauthorized()),
            None if settings.refresh_token_ttl_secs.is_none() => return Err(unauthorized()),
            // Allowed, but its flow is not served yet (docs/sso.md).
            _ => {
                return Err(Error::with_detail(
                    ErrorKind::UnsupportedGrantType,
                    format!("Unsupported grant type: {grant_type} (not served by Roster yet)"),
                ))
            }
        }
        self.inner.token_limits.check_issue(&app.client_id)?;
        let access_token = secret::generate();
        let now = self.now();
        let ttl = u64::from(settings.access_token_ttl_secs);
        let token = SsoAccessToken {
            digest: secret::digest(&access_token),
            application_id: app.id.clone(),
            user_id: None,
            scope,
            expires_at: now.saturating_add(i64::try_from(ttl * 1000).unwrap_or(i64::MAX)),
            created_at: now,
            generation: app.token_generation,
        };
        let scope = token.scope.clone();
        self.store()
            .write(move |tx| Box::pin(async move { tx.insert_sso_token(&token).await }))
            .await?;
        Ok(OAuthToken {
            access_token,
            expires_in: ttl,
            scope,
        })
    }

    /// What `client` may know of `token`: only its own tokens that are still good; anything
    /// else is "not active" (RFC 7662 §2.2), whether unknown, expired, revoked or another
    /// client's.
    pub async fn oauth_introspect(
        &self,
        client: OAuthClient<'_>,
        token: &str,
    ) -> Result<Option<Introspection>> {
        let app = self.oauth_client(client, Charge::OnFailure).await?;
        let digest = secret::digest(token);
        let found = self
            .store()
            .read(move |tx| Box::pin(async move { tx.sso_token(&digest).await }))
            .await?;
        let now = self.now();
        Ok(found
            .filter(|(t, holder)| {
                holder.id == app.id
                    && !holder.disabled
                    && t.generation == holder.token_generation
                    && t.expires_at > now
            })
            .map(|(t, holder)| Introspection {
                client_id: holder.client_id,
                scope: t.scope,
                expires_at: seconds(t.expires_at),
                issued_at: seconds(t.created_at),
                user_id: t.user_id.map(|u| u.into_string()),
            }))
    }

    /// `POST /api/v1/oauth2/revoke` (RFC 7009): ends `client`'s own token; nothing happens
    /// to an unknown token or another client's.
    pub async fn oauth_revoke(&self, client: OAuthClient<'_>, token: &str) -> Result<()> {
        let app = self.oauth_client(client, Charge::OnFailure).await?;
        let digest = secret::digest(token);
        self.store()
            .write(move |tx| Box::pin(async move { tx.delete_sso_token(&app.id, &digest).await }))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::requested_scope;

    #[test]
    fn scopes_are_printable_tokens_separated_by_spaces() {
        assert_eq!(requested_scope(None).unwrap(), "");
        assert_eq!(
            requested_scope(Some("  openid   get_user_info ")).unwrap(),
            "openid get_user_info"
        );
        for bad in ["a\"b", "a\\b", "tab\there", "é", &"x".repeat(1001)] {
            assert!(requested_scope(Some(bad)).is_err(), "{bad}");
        }
    }
}
