//! OAuth 2.0 and OpenID Connect, the protocol that signs people in to applications with sign-in
//! settings: the authorization endpoint (`authorize`), the token endpoint's grants (`grants`),
//! issuing tokens for a signed-in user (`issue`), userinfo (`userinfo`), and introspection and
//! revocation (`introspect`). Who may sign in, and the password check, come from
//! `crate::sign_in`.

mod authorize;
mod grants;
mod introspect;
mod issue;
mod userinfo;

pub use authorize::{Authorize, AuthorizeRequest, Untrusted};
pub use grants::TokenRequest;
pub use introspect::{Introspection, TokenKind};
pub use userinfo::{Claims, UserInfo};

use crate::Service;
use roster_domain::application::Application;
use roster_domain::sso::{Protocol, SsoSettings};
use roster_domain::time::Millis;
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;
use std::net::IpAddr;

/// Longest `scope` accepted.
const MAX_SCOPE_CHARS: usize = 1000;

/// Tokens issued at the sign-in token endpoint (or by the implicit flow).
#[derive(Debug, Clone)]
pub struct OAuthToken {
    /// None only for the implicit flow's `response_type=id_token`.
    pub access_token: Option<String>,
    pub expires_in: u64,
    pub scope: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
}

/// Client credentials as a sign-in endpoint received them.
#[derive(Debug, Clone, Copy)]
pub struct OAuthClient<'a> {
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
    pub source: Option<IpAddr>,
}

/// What OAuth keeps in memory on each node.
pub(crate) struct OAuthState {
    /// What userinfo answered for a token digest, while no write was committed on this node
    /// since (and for at most `token_cache_ttl`).
    userinfo: moka::sync::Cache<String, userinfo::KnownClaims>,
}

impl OAuthState {
    pub(crate) fn new(settings: &crate::Settings) -> Self {
        Self {
            userinfo: moka::sync::Cache::builder()
                .max_capacity(settings.token_cache_capacity)
                .time_to_live(settings.token_cache_ttl)
                .build(),
        }
    }
}

/// A requested scope, checked (RFC 6749 §3.3: space-separated tokens of printable ASCII
/// without `"` and `\\`), with its spaces normalized.
pub(crate) fn requested_scope(scope: Option<&str>) -> Result<String> {
    let scope = scope.unwrap_or_default();
    let well_formed = scope.len() <= MAX_SCOPE_CHARS
        && scope
            .bytes()
            .all(|b| b == b' ' || ((0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\'));
    if !well_formed {
        return Err(Error::with_detail(
            ErrorKind::InvalidScope,
            format!(
                "scope is at most {MAX_SCOPE_CHARS} characters of printable ASCII, without \" or \\."
            ),
        ));
    }
    Ok(scope.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The default scope of an application's protocol.
fn default_scope(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Oauth2 => "get_user_info",
        Protocol::Oidc => "openid",
        // No OAuth grant is open to a CAS or SAML application.
        Protocol::Cas | Protocol::Saml => "",
    }
}

/// `scope`, or the protocol's default when none was asked for.
fn scope_or_default(scope: String, protocol: Protocol) -> String {
    if scope.is_empty() {
        default_scope(protocol).to_owned()
    } else {
        scope
    }
}

/// Counts a sign-in to an application (a code or tokens issued), for `/metrics`.
fn signed_in_to_application() {
    metrics::counter!("roster_sign_ins_total", "to" => "application").increment(1);
}

fn seconds(at: Millis) -> i64 {
    at.div_euclid(1000)
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

impl Service {
    fn oauth_state(&self) -> &OAuthState {
        &self.inner.oauth
    }

    /// The application behind `client`'s credentials; attempts are limited (as `charge`
    /// says) and refusals audited as on the tenant token endpoint. An unknown client, a
    /// wrong secret and a disabled application get the same answer.
    async fn oauth_client(
        &self,
        client: OAuthClient<'_>,
        charge: Charge,
    ) -> Result<(Application, Option<SsoSettings>)> {
        let client_id = client.client_id.unwrap_or_default();
        let limits = &self.inner.token_limits;
        if charge == Charge::Always {
            limits.check_attempt(client_id, client.source)?;
        }
        let app = if client_id.is_empty()
            || client_id.len() > roster_domain::application::MAX_CLIENT_ID_CHARS
        {
            None
        } else {
            self.read(application_with_sso, client_id.to_owned())
                .await?
        };
        let secret = client.client_secret.unwrap_or_default();
        let known = app.is_some().then_some(client_id);
        match app.filter(|(a, _)| secret::matches(secret, &a.secret_digest) && !a.disabled) {
            Some(found) => Ok(found),
            None => {
                let refused = self.refuse_client(known, client.source, ErrorKind::InvalidClient);
                if charge == Charge::OnFailure {
                    limits.check_attempt(client_id, client.source)?;
                }
                Err(refused)
            }
        }
    }
}

async fn application_with_sso(
    tx: &mut dyn Tx,
    client_id: String,
) -> Result<Option<(Application, Option<SsoSettings>)>> {
    tx.application_with_sso(&client_id).await
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
