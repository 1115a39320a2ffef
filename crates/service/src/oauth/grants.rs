//! `POST /api/v1/oauth2/token`: the request is read into one of the grants (`GrantRequest`),
//! checked against what the application turned on, and served by that grant.

use super::issue::{Issue, Spend};
use super::{requested_scope, scope_or_default, Charge, OAuthClient, OAuthToken};
use crate::sign_in::{
    candidate, needs_roles, read_candidate, Attempt, Candidate, PasswordCheck, SignInOutcome,
};
use crate::use_case::Cx;
use crate::Service;
use futures::future::BoxFuture;
use roster_domain::application::{Application, ApplicationId};
use roster_domain::sign_in::{AuthorizationCode, RefreshToken, Since};
use roster_domain::sso::{Grant, Protocol, SsoAccessToken, SsoSettings};
use roster_domain::time::Millis;
use roster_domain::user::UserId;
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;
use std::net::IpAddr;

/// The form fields of a token request, besides the client's credentials.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenRequest<'a> {
    pub grant_type: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub code: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
    pub refresh_token: Option<&'a str>,
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
}

/// A token request, by grant: only the fields its grant reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GrantRequest<'a> {
    /// RFC 6749 §4.4.
    ClientCredentials { scope: String },
    /// RFC 6749 §4.1.3, with RFC 7636's verifier.
    AuthorizationCode {
        code: Option<&'a str>,
        redirect_uri: Option<&'a str>,
        code_verifier: Option<&'a str>,
    },
    /// RFC 6749 §4.3.
    Password {
        username: &'a str,
        password: &'a str,
        scope: String,
    },
    /// RFC 6749 §6.
    RefreshToken { refresh_token: Option<&'a str> },
}

impl<'a> GrantRequest<'a> {
    /// Reads the request's grant; a bad scope is refused before a bad grant type.
    fn parse(request: &TokenRequest<'a>) -> Result<Self> {
        let scope = requested_scope(request.scope)?;
        let grant_type = request
            .grant_type
            .filter(|g| !g.is_empty())
            .ok_or_else(|| {
                Error::with_detail(ErrorKind::UnsupportedGrantType, "Missing grant type")
            })?;
        if grant_type == "refresh_token" {
            return Ok(Self::RefreshToken {
                refresh_token: request.refresh_token,
            });
        }
        let unsupported = || {
            Error::with_detail(
                ErrorKind::UnsupportedGrantType,
                format!("Unsupported grant type: {grant_type}"),
            )
        };
        Ok(match Grant::parse(grant_type).map_err(|_| unsupported())? {
            Grant::ClientCredentials => Self::ClientCredentials { scope },
            Grant::AuthorizationCode => Self::AuthorizationCode {
                code: request.code,
                redirect_uri: request.redirect_uri,
                code_verifier: request.code_verifier,
            },
            Grant::Password => Self::Password {
                username: request.username.unwrap_or_default(),
                password: request.password.unwrap_or_default(),
                scope,
            },
            // The implicit grant has no token request (RFC 6749 §4.2).
            Grant::Implicit => return Err(unsupported()),
        })
    }

    /// The `grant_type` as sent.
    fn name(&self) -> &'static str {
        match self {
            Self::ClientCredentials { .. } => Grant::ClientCredentials.as_str(),
            Self::AuthorizationCode { .. } => Grant::AuthorizationCode.as_str(),
            Self::Password { .. } => Grant::Password.as_str(),
            Self::RefreshToken { .. } => "refresh_token",
        }
    }

    /// Whether the application's settings turn this grant on.
    fn allowed_by(&self, settings: &SsoSettings) -> bool {
        match self {
            Self::ClientCredentials { .. } => settings.allows_grant(Grant::ClientCredentials),
            Self::AuthorizationCode { .. } => settings.allows_grant(Grant::AuthorizationCode),
            Self::Password { .. } => settings.allows_grant(Grant::Password),
            Self::RefreshToken { .. } => settings.refresh_token_ttl_secs.is_some(),
        }
    }
}

impl Service {
    /// `POST /api/v1/oauth2/token`: every grant the application turned on.
    pub async fn oauth_token(
        &self,
        client: OAuthClient<'_>,
        request: &TokenRequest<'_>,
        issuer: &str,
    ) -> Result<OAuthToken> {
        let (app, settings) = self.oauth_client(client, Charge::Always).await?;
        let grant = GrantRequest::parse(request)?;
        let settings = settings.filter(|s| grant.allowed_by(s)).ok_or_else(|| {
            Error::with_detail(
                ErrorKind::UnauthorizedGrantType,
                format!("Unauthorized grant type: {}", grant.name()),
            )
        })?;
        self.inner.token_limits.check_issue(&app.client_id)?;
        let source = client.source.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        match grant {
            GrantRequest::ClientCredentials { scope } => {
                self.client_credentials(&app, &settings, scope).await
            }
            GrantRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                let admitted_at = self.now();
                let (code, candidate) = self
                    .unspent::<AuthorizationCode>(&app, &settings, code)
                    .await?;
                exchange_checks(&code, redirect_uri, code_verifier)?;
                let since = Since::signed_in(code.auth_time);
                let issue = Issue {
                    principal: admitted(candidate, &app, self.now(), since)?,
                    scope: code.scope,
                    auth_time: code.auth_time,
                    admitted_at,
                    nonce: code.nonce,
                    grant_id: code.digest.clone(),
                    access_token: true,
                    refresh_token: settings.refresh_token_ttl_secs.is_some(),
                    id_token: settings.protocol == Protocol::Oidc,
                    issuer: issuer.to_owned(),
                    sid: code.sid,
                };
                self.issue_user_tokens(&app, &settings, issue, Spend::Code(code.digest), None)
                    .await
            }
            GrantRequest::Password {
                username,
                password,
                scope,
            } => {
                self.password_grant(&app, &settings, (username, password), scope, source, issuer)
                    .await
            }
            GrantRequest::RefreshToken { refresh_token } => {
                let admitted_at = self.now();
                let (token, candidate) = self
                    .unspent::<RefreshToken>(&app, &settings, refresh_token)
                    .await?;
                if token.generation != app.token_generation {
                    // Issued before the application's secret was rotated or it was disabled.
                    return Err(invalid_grant(RefreshToken::INVALID));
                }
                let since = Since::issued(token.auth_time, token.created_at);
                let issue = Issue {
                    principal: admitted(candidate, &app, self.now(), since)?,
                    scope: token.scope,
                    auth_time: token.auth_time,
                    admitted_at,
                    nonce: None,
                    grant_id: token.grant_id,
                    access_token: true,
                    refresh_token: true,
                    id_token: settings.protocol == Protocol::Oidc,
                    issuer: issuer.to_owned(),
                    sid: token.sid,
                };
                let spend = Spend::RefreshToken(token.digest);
                self.issue_user_tokens(&app, &settings, issue, spend, None)
                    .await
            }
        }
    }

    async fn client_credentials(
        &self,
        app: &Application,
        settings: &SsoSettings,
        scope: String,
    ) -> Result<OAuthToken> {
        let access_token = secret::generate();
        let ttl = u64::from(settings.access_token_ttl_secs);
        let issued = ClientToken {
            digest: secret::digest(&access_token),
            application_id: app.id.clone(),
            generation: app.token_generation,
            scope: scope.clone(),
            ttl_ms: i64::try_from(ttl * 1000).unwrap_or(i64::MAX),
        };
        self.write(&app.client_id, insert_client_token, issued)
            .await?;
        Ok(OAuthToken {
            access_token: Some(access_token),
            expires_in: ttl,
            scope,
            refresh_token: None,
            id_token: None,
        })
    }

    /// The resource owner password grant (RFC 6749 §4.3): the login page's password check,
    /// with the same lock, then the same rules as signing in through the page.
    async fn password_grant(
        &self,
        app: &Application,
        settings: &SsoSettings,
        (username, password): (&str, &str),
        scope: String,
        source: IpAddr,
        issuer: &str,
    ) -> Result<OAuthToken> {
        let attempt = Attempt {
            source,
            application: app.id.as_str(),
        };
        let admitted_at = self.now();
        let user = match self.check_password(username, password, attempt).await? {
            PasswordCheck::Right(user) => user,
            PasswordCheck::Wrong(outcome) | PasswordCheck::Unknown(outcome) => {
                return Err(invalid_grant(match outcome {
                    SignInOutcome::Locked { unlock_in_secs } => format!(
                        "User is locked after too many failed sign-ins; it is unlocked in \
                         {unlock_in_secs} seconds."
                    ),
                    SignInOutcome::Disabled => "User is disabled".to_owned(),
                    _ => "Bad credentials".to_owned(),
                }))
            }
        };
        // A code the MFA policy asks for cannot be given to a token request.
        if self.second_factor_applies(Some(&app.client_id)).await? {
            return Err(invalid_grant(
                "The application asks for a second factor (an SMS code): sign in on the login \
                 page or with the user APIs.",
            ));
        }
        // A password that must be changed first signs in nowhere until it is (the login
        // page asks for the change; a token request cannot).
        let policy = self.password_policy().await?;
        if policy.must_change(&user, self.now()) {
            return Err(invalid_grant(
                "The user's password must be changed before signing in (on the login page).",
            ));
        }
        let with_roles = settings.protocol == Protocol::Oidc && needs_roles(settings);
        let candidate = self
            .read(
                read_candidate,
                (app.id.clone(), user.id.clone(), with_roles),
            )
            .await?;
        let now = self.now();
        let since = Since::signed_in(admitted_at);
        let principal = match candidate.admit(app, now, since) {
            Ok(principal) => principal,
            Err(why) => {
                self.audit_refused_sign_in(&user.id, app, source).await?;
                return Err(invalid_grant(why));
            }
        };
        let record = super::authorize::signed_in(now, &user.id, &app.id, source);
        let issue = Issue {
            principal,
            scope: scope_or_default(scope, settings.protocol),
            auth_time: admitted_at,
            admitted_at,
            nonce: None,
            grant_id: secret::generate(),
            access_token: true,
            refresh_token: settings.refresh_token_ttl_secs.is_some(),
            id_token: settings.protocol == Protocol::Oidc,
            issuer: issuer.to_owned(),
            // No browser session: nothing a logout would end.
            sid: None,
        };
        self.issue_user_tokens(app, settings, issue, Spend::Nothing, Some(record))
            .await
    }

    /// The `T` (code or refresh token) that `secret` is, if `app` holds it and it is unspent,
    /// with who it was issued to. A spent one is being used a second time: it ends everything
    /// its grant issued (RFC 6749 §4.1.2, OAuth 2.0 Security BCP §4.14).
    async fn unspent<T: Spendable>(
        &self,
        app: &Application,
        settings: &SsoSettings,
        secret: Option<&str>,
    ) -> Result<(T, Candidate)> {
        let invalid = || invalid_grant(T::INVALID);
        let secret = secret
            .filter(|s| !s.is_empty() && s.len() <= 200)
            .ok_or_else(invalid)?;
        let with_roles = settings.protocol == Protocol::Oidc && needs_roles(settings);
        let found = self
            .read(
                spendable_and_candidate::<T>,
                (secret::digest(secret), app.id.clone(), with_roles),
            )
            .await?;
        let (spendable, candidate) = found.ok_or_else(invalid)?;
        if spendable.is_spent() {
            self.revoke_grant(spendable.grant_id().to_owned()).await?;
            return Err(invalid());
        }
        if spendable.expires_at() <= self.now() {
            return Err(invalid());
        }
        Ok((spendable, candidate))
    }
}

fn invalid_grant(why: impl Into<String>) -> Error {
    Error::with_detail(ErrorKind::InvalidGrant, why)
}

/// The principal if they may still sign in, else `invalid_grant` saying why not.
fn admitted(
    candidate: Candidate,
    app: &Application,
    now: Millis,
    since: Since,
) -> Result<roster_domain::sso::Principal> {
    candidate.admit(app, now, since).map_err(invalid_grant)
}

/// A code is exchanged at the redirect URI it was issued for, with the PKCE verifier when it
/// had a challenge.
fn exchange_checks(
    code: &AuthorizationCode,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<()> {
    // When the authorization request named a redirect URI, the exchange names the same
    // (RFC 6749 §4.1.3).
    match (code.redirect_uri.as_deref(), redirect_uri) {
        (Some(_), None) => {
            return Err(invalid_grant(
                "redirect_uri is required: the authorization request named one.",
            ))
        }
        (Some(named), Some(uri)) if uri != named => {
            return Err(invalid_grant("Redirect URI mismatch."));
        }
        _ => {}
    }
    match (&code.code_challenge, code_verifier) {
        (Some(challenge), verifier) => {
            if !verifier.is_some_and(|verifier| pkce_matches(verifier, challenge)) {
                return Err(invalid_grant(
                    "The code_verifier does not match the code_challenge (PKCE).",
                ));
            }
        }
        // A verifier for a code issued without a challenge: whoever sent it did not start
        // this flow (RFC 9700 §2.1.1).
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier was sent, but the authorization request had no code_challenge.",
            ))
        }
        (None, None) => {}
    }
    Ok(())
}

/// Whether a PKCE verifier (RFC 7636 §4.1: 43 to 128 unreserved characters) hashes to the
/// `S256` challenge.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    well_formed && secret::constant_time_eq(&computed, challenge)
}

/// An access token of the client credentials grant, to store.
struct ClientToken {
    digest: String,
    application_id: ApplicationId,
    generation: i64,
    scope: String,
    ttl_ms: i64,
}

async fn insert_client_token(tx: &mut dyn Tx, cx: &mut Cx, token: ClientToken) -> Result<()> {
    tx.insert_sso_token(&SsoAccessToken {
        digest: token.digest,
        application_id: token.application_id,
        user_id: None,
        scope: token.scope,
        expires_at: cx.now.saturating_add(token.ttl_ms),
        created_at: cx.now,
        generation: token.generation,
        grant_id: None,
    })
    .await
}

/// What a token exchange is good for once: an authorization code or a refresh token.
pub(super) trait Spendable: Sized + Send + 'static {
    /// `error_description` of a bad, spent or expired one.
    const INVALID: &'static str;
    fn read<'t>(tx: &'t mut dyn Tx, digest: &'t str) -> BoxFuture<'t, Result<Option<Self>>>;
    fn application_id(&self) -> &ApplicationId;
    fn user_id(&self) -> &UserId;
    fn is_spent(&self) -> bool;
    fn expires_at(&self) -> Millis;
    /// What a second use ends.
    fn grant_id(&self) -> &str;
}

/// Both kinds keep the same fields under the same names; they differ in how they are read,
/// what a bad one is called, and what names their grant.
macro_rules! spendable {
    ($kind:ty, $invalid:expr, $read:ident, $grant:ident) => {
        impl Spendable for $kind {
            const INVALID: &'static str = $invalid;
            fn read<'t>(
                tx: &'t mut dyn Tx,
                digest: &'t str,
            ) -> BoxFuture<'t, Result<Option<Self>>> {
                tx.$read(digest)
            }
            fn application_id(&self) -> &ApplicationId {
                &self.application_id
            }
            fn user_id(&self) -> &UserId {
                &self.user_id
            }
            fn is_spent(&self) -> bool {
                self.used_at.is_some()
            }
            fn expires_at(&self) -> Millis {
                self.expires_at
            }
            fn grant_id(&self) -> &str {
                &self.$grant
            }
        }
    };
}

// A code's grant is named after the code.
spendable!(AuthorizationCode, super::issue::INVALID_CODE, code, digest);
spendable!(
    RefreshToken,
    super::issue::INVALID_REFRESH_TOKEN,
    refresh_token,
    grant_id
);

/// The code or refresh token stored under `digest`, if `app_id` holds it, with who it was
/// issued to.
async fn spendable_and_candidate<T: Spendable>(
    tx: &mut dyn Tx,
    (digest, app_id, with_roles): (String, ApplicationId, bool),
) -> Result<Option<(T, Candidate)>> {
    let Some(spendable) = T::read(tx, &digest).await? else {
        return Ok(None);
    };
    if spendable.application_id() != &app_id {
        return Ok(None);
    }
    let user_id = spendable.user_id().clone();
    let candidate = candidate(tx, &app_id, &user_id, with_roles).await?;
    Ok(Some((spendable, candidate)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &'static str)]) -> Result<GrantRequest<'static>> {
        let mut r = TokenRequest::default();
        for (k, v) in pairs {
            match *k {
                "grant_type" => r.grant_type = Some(v),
                "scope" => r.scope = Some(v),
                "code" => r.code = Some(v),
                "username" => r.username = Some(v),
                "refresh_token" => r.refresh_token = Some(v),
                other => panic!("unknown field {other}"),
            }
        }
        GrantRequest::parse(&r)
    }

    #[test]
    fn each_grant_type_reads_its_own_fields() {
        assert_eq!(
            parse(&[("grant_type", "client_credentials"), ("scope", " a  b")]).unwrap(),
            GrantRequest::ClientCredentials {
                scope: "a b".into()
            }
        );
        assert_eq!(
            parse(&[("grant_type", "authorization_code"), ("code", "c")]).unwrap(),
            GrantRequest::AuthorizationCode {
                code: Some("c"),
                redirect_uri: None,
                code_verifier: None
            }
        );
        assert_eq!(
            parse(&[("grant_type", "password"), ("username", "ann")]).unwrap(),
            GrantRequest::Password {
                username: "ann",
                password: "",
                scope: String::new()
            }
        );
        assert_eq!(
            parse(&[("grant_type", "refresh_token"), ("refresh_token", "r")]).unwrap(),
            GrantRequest::RefreshToken {
                refresh_token: Some("r")
            }
        );
    }

    #[test]
    fn refusals_name_what_is_wrong_in_order() {
        let kind = |pairs| parse(pairs).unwrap_err().kind();
        assert_eq!(kind(&[("scope", "a\"b")]), ErrorKind::InvalidScope);
        assert_eq!(kind(&[]), ErrorKind::UnsupportedGrantType);
        assert_eq!(kind(&[("grant_type", "")]), ErrorKind::UnsupportedGrantType);
        assert_eq!(
            kind(&[("grant_type", "implicit")]),
            ErrorKind::UnsupportedGrantType
        );
        assert_eq!(
            kind(&[("grant_type", "urn:x"), ("scope", "a\"b")]),
            ErrorKind::InvalidScope
        );
        let err = parse(&[("grant_type", "urn:x")]).unwrap_err();
        assert_eq!(err.detail(), Some("Unsupported grant type: urn:x"));
    }

    #[test]
    fn pkce_verifiers_are_checked_against_s256() {
        // The challenge as Python's hashlib and base64 make it for this verifier.
        let verifier = "dBjftJeZ4CVP-mJ0kzu0pW8ClWvj5dWE0czHrx9HJ9Q";
        let challenge = "c-fG5dWeF2v2xxxYMWU4a6EAFyBltogVw_GaDGXJsH4";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches("short", challenge));
        assert!(!pkce_matches(&format!("{verifier}x"), challenge));
    }
}
