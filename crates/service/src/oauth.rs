//! The sign-in token endpoint's use cases (`/api/v1/oauth2/token`, `introspect`,
//! `check_token`, `revoke`) for applications with sign-in settings. Served so far: the client
//! credentials grant, and looking up and revoking the tokens it issues.

use crate::sign_in::Candidate;
use crate::sign_in::{
    actor, candidate, default_scope, needs_roles, Attempt, Issue, PasswordCheck, SignInOutcome,
};
use crate::{audit, Service};
use roster_domain::application::{Application, ApplicationId};
use roster_domain::audit::AuditRecord;
use roster_domain::sign_in::{AuthorizationCode, RefreshToken};
use roster_domain::sso::{Grant, Protocol, SsoAccessToken, SsoSettings};
use roster_domain::time::Millis;
use roster_domain::user::UserId;
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;
use std::net::IpAddr;
use std::sync::Arc;

/// Longest client id looked up (as on the tenant token endpoint).
const MAX_CLIENT_ID_CHARS: usize = 128;

/// What an application learns about a user: userinfo's fields and mapped claims.
pub type Claims = serde_json::Map<String, serde_json::Value>;

/// Claims userinfo answered for a token, and when they were read (in writes of this node).
#[derive(Clone)]
pub(crate) struct KnownClaims {
    claims: Arc<Claims>,
    token_expires_at: Millis,
    writes: u64,
}

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

/// What a token exchange is good for once: an authorization code or a refresh token.
trait Spendable: Sized + Send + 'static {
    /// `error_description` of a bad, spent or expired one.
    const INVALID: &'static str;
    fn read<'t>(
        tx: &'t mut dyn Tx,
        digest: &'t str,
    ) -> futures::future::BoxFuture<'t, Result<Option<Self>>>;
    fn application_id(&self) -> &ApplicationId;
    fn user_id(&self) -> &UserId;
    fn is_spent(&self) -> bool;
    fn expires_at(&self) -> Millis;
    /// What a second use ends.
    fn grant_id(&self) -> &str;
}

impl Spendable for AuthorizationCode {
    const INVALID: &'static str = "Invalid authorization code";
    fn read<'t>(
        tx: &'t mut dyn Tx,
        digest: &'t str,
    ) -> futures::future::BoxFuture<'t, Result<Option<Self>>> {
        tx.code(digest)
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
    /// A code's grant is named after the code.
    fn grant_id(&self) -> &str {
        &self.digest
    }
}

impl Spendable for RefreshToken {
    const INVALID: &'static str = "Invalid refresh token";
    fn read<'t>(
        tx: &'t mut dyn Tx,
        digest: &'t str,
    ) -> futures::future::BoxFuture<'t, Result<Option<Self>>> {
        tx.refresh_token(digest)
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
        &self.grant_id
    }
}

/// What a token exchange spends: the code or refresh token it is good for once.
#[derive(Debug)]
pub(crate) enum Spend {
    Nothing,
    Code(String),
    RefreshToken(String),
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
        let app = if client_id.is_empty() || client_id.len() > MAX_CLIENT_ID_CHARS {
            None
        } else {
            let lookup = client_id.to_owned();
            self.store()
                .read(move |tx| Box::pin(async move { tx.application_with_sso(&lookup).await }))
                .await?
        };
        let secret = client.client_secret.unwrap_or_default();
        match app.filter(|(a, _)| secret::matches(secret, &a.secret_digest) && !a.disabled) {
            Some(found) => Ok(found),
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

    /// `POST /api/v1/oauth2/token`: every grant the application turned on.
    pub async fn oauth_token(
        &self,
        client: OAuthClient<'_>,
        request: &TokenRequest<'_>,
        issuer: &str,
    ) -> Result<OAuthToken> {
        let (app, settings) = self.oauth_client(client, Charge::Always).await?;
        let scope = requested_scope(request.scope)?;
        let grant_type = request
            .grant_type
            .filter(|g| !g.is_empty())
            .ok_or_else(|| {
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
        let unauthorized = || {
            Error::with_detail(
                ErrorKind::UnauthorizedGrantType,
                format!("Unauthorized grant type: {grant_type}"),
            )
        };
        let settings = settings.ok_or_else(unauthorized)?;
        match grant {
            Some(grant) if !settings.allows_grant(grant) => return Err(unauthorized()),
            None if settings.refresh_token_ttl_secs.is_none() => return Err(unauthorized()),
            _ => {}
        }
        self.inner.token_limits.check_issue(&app.client_id)?;
        match grant {
            Some(Grant::ClientCredentials) => self.client_credentials(&app, &settings, scope).await,
            Some(Grant::AuthorizationCode) => {
                self.exchange_code(&app, &settings, request, issuer).await
            }
            Some(Grant::Password) => {
                self.password_grant(&app, &settings, request, scope, client.source, issuer)
                    .await
            }
            None => self.refresh(&app, &settings, request, issuer).await,
            // The implicit grant has no token request (RFC 6749 §4.2).
            Some(Grant::Implicit) => Err(Error::with_detail(
                ErrorKind::UnsupportedGrantType,
                "Unsupported grant type: implicit",
            )),
        }
    }

    async fn client_credentials(
        &self,
        app: &Application,
        settings: &SsoSettings,
        scope: String,
    ) -> Result<OAuthToken> {
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
            grant_id: None,
        };
        let scope = token.scope.clone();
        self.store()
            .write(move |tx| Box::pin(async move { tx.insert_sso_token(&token).await }))
            .await?;
        Ok(OAuthToken {
            access_token: Some(access_token),
            expires_in: ttl,
            scope,
            refresh_token: None,
            id_token: None,
        })
    }

    /// The authorization code grant (RFC 6749 §4.1.3): a code is good once, for the client
    /// and redirect URI it was issued to, with the PKCE verifier when it had a challenge. A
    /// second exchange of a code ends what the first one issued.
    async fn exchange_code(
        &self,
        app: &Application,
        settings: &SsoSettings,
        request: &TokenRequest<'_>,
        issuer: &str,
    ) -> Result<OAuthToken> {
        let (code, candidate) = self
            .unspent::<AuthorizationCode>(app, settings, request.code)
            .await?;
        let now = self.now();
        if request
            .redirect_uri
            .is_some_and(|uri| uri != code.redirect_uri)
        {
            return Err(Error::with_detail(
                ErrorKind::InvalidGrant,
                "Redirect URI mismatch.",
            ));
        }
        if let Some(challenge) = &code.code_challenge {
            let verified = request
                .code_verifier
                .is_some_and(|verifier| pkce_matches(verifier, challenge));
            if !verified {
                return Err(Error::with_detail(
                    ErrorKind::InvalidGrant,
                    "The code_verifier does not match the code_challenge (PKCE).",
                ));
            }
        }
        let principal = candidate
            .admit(app, now)
            .map_err(|why| Error::with_detail(ErrorKind::InvalidGrant, why))?;
        self.issue_user_tokens(
            app,
            settings,
            Issue {
                principal,
                scope: code.scope,
                auth_time: code.auth_time,
                nonce: code.nonce,
                grant_id: code.digest.clone(),
                access_token: true,
                refresh_token: settings.refresh_token_ttl_secs.is_some(),
                id_token: settings.protocol == Protocol::Oidc,
                issuer: issuer.to_owned(),
            },
            Spend::Code(code.digest),
            None,
        )
        .await
    }

    /// The resource owner password grant (RFC 6749 §4.3): the login page's password check,
    /// with the same lock, then the same rules as signing in through the page.
    async fn password_grant(
        &self,
        app: &Application,
        settings: &SsoSettings,
        request: &TokenRequest<'_>,
        scope: String,
        source: Option<std::net::IpAddr>,
        issuer: &str,
    ) -> Result<OAuthToken> {
        let source = source.unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        let outcome = self
            .check_password(
                request.username.unwrap_or_default(),
                request.password.unwrap_or_default(),
                Attempt {
                    source,
                    application: app.id.as_str(),
                },
            )
            .await?;
        let user = match outcome {
            PasswordCheck::Right(user) => user,
            PasswordCheck::Wrong(SignInOutcome::Locked { unlock_in_secs }) => {
                return Err(Error::with_detail(
                    ErrorKind::InvalidGrant,
                    format!(
                        "User is locked after too many failed sign-ins; it is unlocked in \
                         {unlock_in_secs} seconds."
                    ),
                ))
            }
            PasswordCheck::Wrong(SignInOutcome::Disabled) => {
                return Err(Error::with_detail(
                    ErrorKind::InvalidGrant,
                    "User is disabled",
                ))
            }
            PasswordCheck::Wrong(_) => {
                return Err(Error::with_detail(
                    ErrorKind::InvalidGrant,
                    "Bad credentials",
                ))
            }
        };
        let app_id = app.id.clone();
        let user_id = user.id.clone();
        let with_roles = settings.protocol == Protocol::Oidc && needs_roles(settings);
        let candidate = self
            .store()
            .read(move |tx| {
                Box::pin(async move { candidate(tx, &app_id, &user_id, with_roles).await })
            })
            .await?;
        let now = self.now();
        let principal = match candidate.admit(app, now) {
            Ok(principal) => principal,
            Err(why) => {
                self.audit_refused_sign_in(&user.id, app, source).await?;
                return Err(Error::with_detail(ErrorKind::InvalidGrant, why));
            }
        };
        let record = audit(
            now,
            &actor(Some(&user.id), source),
            "SignIn",
            "application",
            app.id.as_str(),
        );
        let scope = if scope.is_empty() {
            default_scope(settings.protocol).to_owned()
        } else {
            scope
        };
        self.issue_user_tokens(
            app,
            settings,
            Issue {
                principal,
                scope,
                auth_time: now,
                nonce: None,
                grant_id: secret::generate(),
                access_token: true,
                refresh_token: settings.refresh_token_ttl_secs.is_some(),
                id_token: settings.protocol == Protocol::Oidc,
                issuer: issuer.to_owned(),
            },
            Spend::Nothing,
            Some(record),
        )
        .await
    }

    /// The refresh token grant (RFC 6749 §6), with rotation: the token is exchanged once for
    /// a new one; presenting it again ends the whole grant (a stolen copy is of no use).
    async fn refresh(
        &self,
        app: &Application,
        settings: &SsoSettings,
        request: &TokenRequest<'_>,
        issuer: &str,
    ) -> Result<OAuthToken> {
        let (token, candidate) = self
            .unspent::<RefreshToken>(app, settings, request.refresh_token)
            .await?;
        let now = self.now();
        if token.generation != app.token_generation {
            // Issued before the application's secret was rotated or it was disabled.
            return Err(Error::with_detail(
                ErrorKind::InvalidGrant,
                RefreshToken::INVALID,
            ));
        }
        let principal = candidate
            .admit(app, now)
            .map_err(|why| Error::with_detail(ErrorKind::InvalidGrant, why))?;
        self.issue_user_tokens(
            app,
            settings,
            Issue {
                principal,
                scope: token.scope,
                auth_time: token.auth_time,
                nonce: None,
                grant_id: token.grant_id,
                access_token: true,
                refresh_token: true,
                id_token: settings.protocol == Protocol::Oidc,
                issuer: issuer.to_owned(),
            },
            Spend::RefreshToken(token.digest),
            None,
        )
        .await
    }

    /// Issues the access token, refresh token and id_token `issue` asks for, in one
    /// transaction with spending the code or refresh token they are exchanged for: of two
    /// concurrent exchanges, one wins and the other ends the grant.
    pub(crate) async fn issue_user_tokens(
        &self,
        app: &Application,
        settings: &SsoSettings,
        issue: Issue,
        spend: Spend,
        record: Option<AuditRecord>,
    ) -> Result<OAuthToken> {
        let now = self.now();
        let ttl = u64::from(settings.access_token_ttl_secs);
        let access_token = issue.access_token.then(secret::generate);
        let access_row = access_token.as_ref().map(|token| SsoAccessToken {
            digest: secret::digest(token),
            application_id: app.id.clone(),
            user_id: Some(issue.principal.user.id.clone()),
            scope: issue.scope.clone(),
            expires_at: now.saturating_add(i64::try_from(ttl * 1000).unwrap_or(i64::MAX)),
            created_at: now,
            generation: app.token_generation,
            grant_id: Some(issue.grant_id.clone()),
        });
        let refresh_ttl = settings
            .refresh_token_ttl_secs
            .filter(|_| issue.refresh_token);
        let refresh_token = refresh_ttl.map(|_| secret::generate());
        let refresh_row =
            refresh_token
                .as_ref()
                .zip(refresh_ttl)
                .map(|(token, ttl)| RefreshToken {
                    digest: secret::digest(token),
                    application_id: app.id.clone(),
                    user_id: issue.principal.user.id.clone(),
                    grant_id: issue.grant_id.clone(),
                    scope: issue.scope.clone(),
                    auth_time: issue.auth_time,
                    expires_at: now.saturating_add(i64::from(ttl) * 1000),
                    created_at: now,
                    generation: app.token_generation,
                    used_at: None,
                });
        let id_token = if issue.id_token {
            let mut claims = issue.principal.claims(&settings.claims);
            // `id` is the userinfo name of what the id_token calls `sub`.
            claims.remove("id");
            let exp = seconds(now) + i64::from(settings.access_token_ttl_secs);
            claims.insert("iss".into(), issue.issuer.clone().into());
            claims.insert("sub".into(), issue.principal.user.id.as_str().into());
            claims.insert("aud".into(), app.client_id.clone().into());
            claims.insert("iat".into(), seconds(now).into());
            claims.insert("exp".into(), exp.into());
            claims.insert("auth_time".into(), seconds(issue.auth_time).into());
            if let Some(nonce) = &issue.nonce {
                claims.insert("nonce".into(), nonce.clone().into());
            }
            if let Some(token) = &access_token {
                claims.insert(
                    "at_hash".into(),
                    crate::id_tokens::at_hash(settings.id_token_alg, token).into(),
                );
            }
            Some(self.sign_id_token(settings.id_token_alg, &claims).await?)
        } else {
            None
        };
        let spent = self
            .store()
            .write(move |tx| {
                Box::pin(async move {
                    let first = match &spend {
                        Spend::Nothing => true,
                        Spend::Code(digest) => tx.use_code(digest, now).await?,
                        Spend::RefreshToken(digest) => tx.use_refresh_token(digest, now).await?,
                    };
                    if !first {
                        return Ok(Err(spend));
                    }
                    if let Some(row) = &access_row {
                        tx.insert_sso_token(row).await?;
                    }
                    if let Some(row) = &refresh_row {
                        tx.insert_refresh_token(row).await?;
                    }
                    if let Some(record) = &record {
                        tx.insert_audit(record).await?;
                    }
                    Ok(Ok(()))
                })
            })
            .await?;
        if let Err(spend) = spent {
            // Exchanged concurrently: neither exchange keeps anything.
            self.revoke_grant(issue.grant_id).await?;
            let detail = match spend {
                Spend::RefreshToken(_) => RefreshToken::INVALID,
                _ => AuthorizationCode::INVALID,
            };
            return Err(Error::with_detail(ErrorKind::InvalidGrant, detail));
        }
        Ok(OAuthToken {
            access_token,
            expires_in: ttl,
            scope: issue.scope,
            refresh_token,
            id_token,
        })
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
        let invalid = || Error::with_detail(ErrorKind::InvalidGrant, T::INVALID);
        let secret = secret
            .filter(|s| !s.is_empty() && s.len() <= 200)
            .ok_or_else(invalid)?;
        let digest = secret::digest(secret);
        let app_id = app.id.clone();
        let with_roles = settings.protocol == Protocol::Oidc && needs_roles(settings);
        let found = self
            .store()
            .read(move |tx| {
                Box::pin(async move {
                    let Some(spendable) = T::read(tx, &digest).await? else {
                        return Ok(None);
                    };
                    if spendable.application_id() != &app_id {
                        return Ok(None);
                    }
                    let user_id = spendable.user_id().clone();
                    let candidate = candidate(tx, &app_id, &user_id, with_roles).await?;
                    Ok(Some((spendable, candidate)))
                })
            })
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

    async fn revoke_grant(&self, grant_id: String) -> Result<()> {
        self.store()
            .write(move |tx| Box::pin(async move { tx.revoke_grant(&grant_id).await }))
            .await?;
        Ok(())
    }

    /// `GET /api/v1/oauth2/userinfo`: the claims of the user a bearer token was issued for,
    /// while the token is good and the user may still sign in to its application.
    pub async fn userinfo(&self, bearer: &str) -> Result<Arc<Claims>> {
        let refused = || Error::new(ErrorKind::Unauthenticated);
        if bearer.is_empty() || bearer.len() > 200 {
            return Err(refused());
        }
        let digest = secret::digest(bearer);
        let writes = self.inner.store.writes();
        if let Some(known) = self.inner.userinfo.get(&digest) {
            if known.writes == writes && known.token_expires_at > self.now() {
                return Ok(known.claims);
            }
        }
        let lookup = digest.clone();
        let found = self
            .store()
            .read(move |tx| {
                Box::pin(async move {
                    let Some((token, app, Some(settings))) = tx.sso_token(&lookup).await? else {
                        return Ok(None);
                    };
                    let Some(user_id) = token.user_id.clone() else {
                        return Ok(None);
                    };
                    let with_roles = needs_roles(&settings);
                    let candidate = candidate(tx, &app.id, &user_id, with_roles).await?;
                    Ok(Some((token, app, settings, candidate)))
                })
            })
            .await?;
        let Some((token, app, settings, candidate)) = found else {
            return Err(refused());
        };
        let now = self.now();
        if token.expires_at <= now || token.generation != app.token_generation {
            return Err(refused());
        }
        let principal = candidate.admit(&app, now).map_err(|_| refused())?;
        let mut claims = principal.claims(&settings.claims);
        // OpenID Connect's name for `id` (Core §5.3.2), so that OIDC libraries read it too.
        claims.insert("sub".into(), principal.user.id.as_str().into());
        let claims = Arc::new(claims);
        // Kept only if nothing was written here meanwhile (else the next call reads again).
        if self.inner.store.writes() == writes {
            self.inner.userinfo.insert(
                digest,
                KnownClaims {
                    claims: Arc::clone(&claims),
                    token_expires_at: token.expires_at,
                    writes,
                },
            );
        }
        Ok(claims)
    }

    /// What `client` may know of `token` (an access or a refresh token): only its own tokens
    /// that are still good; anything else is "not active" (RFC 7662 §2.2), whether unknown,
    /// expired, revoked, spent or another client's.
    pub async fn oauth_introspect(
        &self,
        client: OAuthClient<'_>,
        token: &str,
    ) -> Result<Option<Introspection>> {
        let (app, _) = self.oauth_client(client, Charge::OnFailure).await?;
        let digest = secret::digest(token);
        let now = self.now();
        let app_id = app.id.clone();
        let found = self
            .store()
            .read(move |tx| {
                Box::pin(async move {
                    let (kind, scope, user_id, expires_at, issued_at, generation) =
                        if let Some((t, _, _)) = tx.sso_token(&digest).await? {
                            if t.application_id != app_id {
                                return Ok(None);
                            }
                            let at = (t.expires_at, t.created_at, t.generation);
                            (TokenKind::Access, t.scope, t.user_id, at.0, at.1, at.2)
                        } else if let Some(t) = tx.refresh_token(&digest).await? {
                            if t.application_id != app_id || t.used_at.is_some() {
                                return Ok(None);
                            }
                            let at = (t.expires_at, t.created_at, t.generation);
                            (
                                TokenKind::Refresh,
                                t.scope,
                                Some(t.user_id),
                                at.0,
                                at.1,
                                at.2,
                            )
                        } else {
                            return Ok(None);
                        };
                    let user_name = match &user_id {
                        Some(id) => match tx.user(id).await? {
                            Some(user) => Some(user.user_name),
                            // The user is gone: so is what the token stood for.
                            None => return Ok(None),
                        },
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
                })
            })
            .await?;
        Ok(found
            .filter(|t| !app.disabled && t.generation == app.token_generation && t.expires_at > now)
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
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    if tx.delete_sso_token(&app.id, &digest).await? {
                        return Ok(());
                    }
                    if let Some(refresh) = tx.refresh_token(&digest).await? {
                        if refresh.application_id == app.id {
                            tx.revoke_grant(&refresh.grant_id).await?;
                        }
                    }
                    Ok(())
                })
            })
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
