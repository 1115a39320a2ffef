//! Users signing in to applications: the login page's password check (with the lock after too
//! many wrong passwords), browser sessions, `/api/v1/oauth2/authorize` and global logout.
//! Who may sign in to an application: a user holding an enabled account in it, the user
//! enabled and not locked, the application enabled (docs/sso.md).

use crate::{audit, Service};
use roster_domain::application::{Application, ApplicationId};
use roster_domain::sign_in::{AuthorizationCode, SignInLock, SsoSession};
use roster_domain::sso::{url_admitted, Grant, Principal, Protocol};
use roster_domain::time::Millis;
use roster_domain::user::{User, UserId};
use roster_domain::{secret, ErrorKind, Result};
use roster_store::prelude::*;
use roster_store::Appended;
use std::net::IpAddr;
use std::time::Duration;

/// Tunables of signing in.
#[derive(Debug, Clone)]
pub struct SignInSettings {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after the password was entered, however used.
    pub session_lifetime: Duration,
    /// Wrong passwords in a row that lock the user.
    pub max_failed_sign_ins: u32,
    /// How long the lock holds.
    pub lock_duration: Duration,
    /// How long an authorization code may wait for its exchange.
    pub code_ttl: Duration,
    /// Password checks allowed per second from one source address (bursts of twice that);
    /// 0: no limit. Each costs an Argon2 hash, so a flood from one address cannot take every
    /// core from everyone else's sign-ins.
    pub rate_per_address: u32,
}

impl Default for SignInSettings {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(12 * 3600),
            max_failed_sign_ins: 5,
            lock_duration: Duration::from_secs(30 * 60),
            code_ttl: Duration::from_secs(300),
            rate_per_address: 10,
        }
    }
}

/// A session is written back as used at most this often.
const SESSION_TOUCH_MS: Millis = 60_000;
/// Longest login name and password looked at.
const MAX_LOGIN_CHARS: usize = 128;
const MAX_PASSWORD_CHARS: usize = 128;
/// Longest `state` and `nonce` carried.
const MAX_STATE_CHARS: usize = 2000;

pub(crate) fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

/// What the login page's form sent.
#[derive(Debug, Clone, Copy)]
pub struct Login<'a> {
    pub login: &'a str,
    pub password: &'a str,
    pub source: IpAddr,
    /// The session the browser held before, which signing in replaces.
    pub previous_session: Option<&'a str>,
    /// The application the browser came from, if any (for the audit record).
    pub client_id: Option<&'a str>,
}

/// Where a password was typed: the source address and the application (its id, or empty)
/// that the audit records of the attempt name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    pub source: IpAddr,
    pub application: &'a str,
}

/// A session that signing in began: `cookie` is its secret, for the browser only.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie: String,
}

/// How a password check ended.
#[derive(Debug, Clone)]
pub enum SignInOutcome {
    SignedIn(NewSession),
    /// Unknown name or wrong password (the same answer for both).
    WrongPassword {
        remaining: u32,
    },
    Locked {
        unlock_in_secs: u64,
    },
    /// The password was right but the user is disabled.
    Disabled,
}

/// The parameters of an authorization request (RFC 6749 §4.1.1, §4.2.1; OIDC Core §3.1.2.1;
/// RFC 7636 §4.3).
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// OIDC's `prompt`: `none` asks for no page (an error when nobody is signed in).
    pub prompt: Option<String>,
}

/// Where an authorization request goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorize {
    /// The client or its redirect URI cannot be trusted: the browser gets an error page and
    /// is sent nowhere (RFC 6749 §4.1.2.1).
    Untrusted(String),
    /// Nobody is signed in: the login page, then this request again.
    SignIn,
    /// Back to the application: the code, the tokens or the error, in `url`.
    Redirect(String),
}

/// What `response_type` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseType {
    Code,
    /// The implicit flow: an access token, an id_token or both, in the fragment.
    Implicit {
        token: bool,
        id_token: bool,
    },
}

impl ResponseType {
    fn parse(text: &str) -> Option<Self> {
        let mut words: Vec<&str> = text.split(' ').collect();
        words.sort_unstable();
        match words.as_slice() {
            ["code"] => Some(Self::Code),
            ["token"] => Some(Self::Implicit {
                token: true,
                id_token: false,
            }),
            ["id_token"] => Some(Self::Implicit {
                token: false,
                id_token: true,
            }),
            ["id_token", "token"] => Some(Self::Implicit {
                token: true,
                id_token: true,
            }),
            _ => None,
        }
    }
}

/// A redirect back to the application, its parameters in the query (code flow) or the
/// fragment (implicit flow, RFC 6749 §4.2.2).
struct Reply {
    redirect_uri: String,
    in_fragment: bool,
    state: Option<String>,
}

impl Reply {
    fn with(&self, params: &[(&str, &str)]) -> String {
        let mut url = match url::Url::parse(&self.redirect_uri) {
            Ok(url) => url,
            Err(_) => return self.redirect_uri.clone(),
        };
        let state = self.state.as_deref().map(|s| ("state", s));
        let all = params.iter().copied().chain(state);
        if self.in_fragment {
            let fragment = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(all)
                .finish();
            url.set_fragment(Some(&fragment));
        } else {
            url.query_pairs_mut().extend_pairs(all);
        }
        url.into()
    }

    fn error(&self, error: &str, description: &str) -> Authorize {
        Authorize::Redirect(self.with(&[("error", error), ("error_description", description)]))
    }
}

/// The default scope of an application's protocol.
pub(crate) fn default_scope(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Oauth2 => "get_user_info",
        Protocol::Oidc => "openid",
    }
}

/// A PKCE code challenge (RFC 7636 §4.2): 43 base64url characters, a SHA-256 digest.
fn well_formed_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Who is signing in, as the store holds them now, and why they may not (if they may not).
pub(crate) struct Candidate {
    pub principal: Option<Principal>,
    pub lock: SignInLock,
}

impl Candidate {
    /// The principal if the user may sign in to `app` at `now`, else why not.
    pub(crate) fn admit(self, app: &Application, now: Millis) -> Result<Principal, &'static str> {
        let Some(p) = self.principal else {
            return Err("The user holds no account in this application.");
        };
        if app.disabled {
            Err("The application is disabled.")
        } else if p.user.disabled {
            Err("The user is disabled.")
        } else if self.lock.remaining(now).is_some() {
            Err("The user is locked.")
        } else if p.account.disabled {
            Err("The user's account in this application is disabled.")
        } else {
            Ok(p)
        }
    }
}

/// Reads the user and their lock, their account in the application, and (`with_roles`) the
/// codes of the account's roles, which only a `roles` claim needs.
pub(crate) async fn candidate(
    tx: &mut dyn Tx,
    application_id: &ApplicationId,
    user_id: &UserId,
    with_roles: bool,
) -> Result<Candidate> {
    let Some((user, lock, account)) = tx.sign_in_candidate(application_id, user_id).await? else {
        return Ok(Candidate {
            principal: None,
            lock: SignInLock::default(),
        });
    };
    let Some(account) = account else {
        return Ok(Candidate {
            principal: None,
            lock,
        });
    };
    let role_codes = if with_roles {
        tx.roles_of_accounts(std::slice::from_ref(&account.id))
            .await?
            .into_iter()
            .map(|(_, role)| role.code)
            .collect()
    } else {
        Vec::new()
    };
    Ok(Candidate {
        principal: Some(Principal {
            user,
            account,
            role_codes,
        }),
        lock,
    })
}

/// Whether the claims of `settings` need the account's roles read.
pub(crate) fn needs_roles(settings: &roster_domain::sso::SsoSettings) -> bool {
    settings
        .claims
        .iter()
        .any(|c| c.source == roster_domain::sso::ClaimSource::Roles)
}

/// The stored form of a session cookie, unless it cannot be one.
fn session_digest(cookie: &str) -> Option<String> {
    (!cookie.is_empty() && cookie.len() <= 200).then(|| secret::digest(cookie))
}

/// The audit actor of a sign-in event: the user (or `unknown`) at the source address.
pub(crate) fn actor(user: Option<&UserId>, source: IpAddr) -> String {
    format!("{}@{source}", user.map_or("unknown", |u| u.as_str()))
}

impl Service {
    fn sign_in_settings(&self) -> &SignInSettings {
        &self.inner.settings.sign_in
    }

    /// A password hash to check unknown names against, so that they take as long as known
    /// ones.
    async fn decoy_hash(&self) -> Result<String> {
        self.inner
            .decoy_hash
            .get_or_try_init(|| self.inner.passwords.hash(secret::generate()))
            .await
            .cloned()
    }

    /// The login page's form: checks the password, counting wrong ones, and begins a session.
    pub async fn sign_in(&self, login: Login<'_>) -> Result<SignInOutcome> {
        let application_id = match login.client_id {
            Some(client_id) => self.application_id(client_id).await?,
            None => String::new(),
        };
        let attempt = Attempt {
            source: login.source,
            application: &application_id,
        };
        let user = match self
            .check_password(login.login, login.password, attempt)
            .await?
        {
            PasswordCheck::Right(user) => user,
            PasswordCheck::Wrong(outcome) => return Ok(outcome),
        };
        let now = self.now();
        let cookie = secret::generate();
        let session = SsoSession {
            digest: secret::digest(&cookie),
            user_id: user.id.clone(),
            auth_time: now,
            last_seen_at: now,
            expires_at: now.saturating_add(millis(self.sign_in_settings().session_lifetime)),
        };
        let previous = login.previous_session.map(secret::digest);
        let actor = actor(Some(&user.id), login.source);
        let application = application_id.clone();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    // A new session id at every sign-in: a session id planted before it
                    // (session fixation) never becomes a signed-in one.
                    if let Some(previous) = previous {
                        tx.delete_session(&previous).await?;
                    }
                    tx.insert_session(&session).await?;
                    tx.insert_audit(&audit(now, &actor, "SignIn", "session", &application))
                        .await
                })
            })
            .await?;
        Ok(SignInOutcome::SignedIn(NewSession { cookie }))
    }

    /// Checks a user's password (by user name, mobile or email), counting wrong ones and
    /// locking the user after too many; a right one clears the count.
    pub(crate) async fn check_password(
        &self,
        login: &str,
        password: &str,
        attempt: Attempt<'_>,
    ) -> Result<PasswordCheck> {
        self.inner.sign_in_limits.check(attempt.source)?;
        let max = self.sign_in_settings().max_failed_sign_ins.max(1);
        let name: String = login.trim().chars().take(MAX_LOGIN_CHARS).collect();
        let password: String = password.chars().take(MAX_PASSWORD_CHARS).collect();
        let lookup = name.clone();
        let found = if name.is_empty() {
            Vec::new()
        } else {
            self.store()
                .read(move |tx| Box::pin(async move { tx.users_by_login(&lookup).await }))
                .await?
        };
        let Some(user) = pick_user(found, &name) else {
            return self
                .unknown_sign_in(&name, &password, attempt)
                .await
                .map(PasswordCheck::Wrong);
        };
        let now = self.now();
        let user_id = user.id.clone();
        let lock = self
            .store()
            .read(move |tx| Box::pin(async move { tx.sign_in_lock(&user_id).await }))
            .await?;
        if let Some(ms) = lock.remaining(now) {
            self.audit_sign_in(Some(&user.id), attempt, ErrorKind::UserLocked)
                .await?;
            return Ok(PasswordCheck::Wrong(SignInOutcome::Locked {
                unlock_in_secs: ms_to_secs(ms),
            }));
        }
        let hash = match &user.password_hash {
            Some(hash) => hash.clone(),
            None => self.decoy_hash().await?,
        };
        let right =
            self.inner.passwords.verify(password, hash).await? && user.password_hash.is_some();
        if !right {
            return self
                .wrong_password(&user, attempt, max)
                .await
                .map(PasswordCheck::Wrong);
        }
        if user.disabled {
            self.audit_sign_in(Some(&user.id), attempt, ErrorKind::SignInDenied)
                .await?;
            return Ok(PasswordCheck::Wrong(SignInOutcome::Disabled));
        }
        if lock != SignInLock::default() {
            let user_id = user.id.clone();
            self.store()
                .write(move |tx| {
                    Box::pin(async move {
                        tx.set_sign_in_lock(&user_id, SignInLock::default(), now)
                            .await
                    })
                })
                .await?;
        }
        Ok(PasswordCheck::Right(Box::new(user)))
    }

    async fn wrong_password(
        &self,
        user: &User,
        attempt: Attempt<'_>,
        max: u32,
    ) -> Result<SignInOutcome> {
        let settings = self.sign_in_settings();
        let lock_ms = millis(settings.lock_duration);
        let user_id = user.id.clone();
        let clock = self.clock();
        let actor = actor(Some(&user.id), attempt.source);
        let application = attempt.application.to_owned();
        let failures = self
            .store()
            .write(move |tx| {
                Box::pin(async move {
                    let now = clock.now();
                    let failures = tx.add_failed_sign_in(&user_id).await?;
                    let locking = failures >= i64::from(max);
                    if locking {
                        let lock = SignInLock {
                            failures: 0,
                            locked_until: Some(now.saturating_add(lock_ms)),
                        };
                        tx.set_sign_in_lock(&user_id, lock, now).await?;
                    }
                    let code = if locking {
                        ErrorKind::UserLocked.code()
                    } else {
                        ErrorKind::InvalidSignIn.code()
                    };
                    tx.insert_audit(&audit(now, &actor, "SignInRefused", code, &application))
                        .await?;
                    Ok(failures)
                })
            })
            .await?;
        Ok(outcome_after_failures(failures, max, lock_ms))
    }

    /// A name nobody has: the same work and the same answers as a known user's wrong
    /// password, counted on this node only.
    async fn unknown_sign_in(
        &self,
        name: &str,
        password: &str,
        attempt: Attempt<'_>,
    ) -> Result<SignInOutcome> {
        let settings = self.sign_in_settings();
        let max = settings.max_failed_sign_ins.max(1);
        let lock_ms = millis(settings.lock_duration);
        let now = self.now();
        let key = roster_domain::user::user_name_key(name);
        let mut lock = self.inner.unknown_logins.get(&key).unwrap_or_default();
        if let Some(ms) = lock.remaining(now) {
            self.audit_sign_in(None, attempt, ErrorKind::UserLocked)
                .await?;
            return Ok(SignInOutcome::Locked {
                unlock_in_secs: ms_to_secs(ms),
            });
        }
        let decoy = self.decoy_hash().await?;
        self.inner
            .passwords
            .verify(password.to_owned(), decoy)
            .await?;
        lock.failures = if lock.locked_until.is_some() {
            1
        } else {
            lock.failures + 1
        };
        lock.locked_until = None;
        let failures = lock.failures;
        if failures >= i64::from(max) {
            lock = SignInLock {
                failures: 0,
                locked_until: Some(now.saturating_add(lock_ms)),
            };
        }
        self.inner.unknown_logins.insert(key, lock);
        let kind = if lock.locked_until.is_some() {
            ErrorKind::UserLocked
        } else {
            ErrorKind::InvalidSignIn
        };
        self.audit_sign_in(None, attempt, kind).await?;
        Ok(outcome_after_failures(failures, max, lock_ms))
    }

    /// Audits that `user` may not sign in to `app`.
    pub(crate) async fn audit_refused_sign_in(
        &self,
        user: &UserId,
        app: &Application,
        source: IpAddr,
    ) -> Result<()> {
        let record = audit(
            self.now(),
            &actor(Some(user), source),
            "SignInRefused",
            ErrorKind::SignInDenied.code(),
            app.id.as_str(),
        );
        self.store()
            .write(move |tx| Box::pin(async move { tx.insert_audit(&record).await }))
            .await
    }

    async fn audit_sign_in(
        &self,
        user: Option<&UserId>,
        attempt: Attempt<'_>,
        why: ErrorKind,
    ) -> Result<()> {
        let record = audit(
            self.now(),
            &actor(user, attempt.source),
            "SignInRefused",
            why.code(),
            attempt.application,
        );
        self.store()
            .write(move |tx| Box::pin(async move { tx.insert_audit(&record).await }))
            .await
    }

    /// The id of the application `client_id` names, or empty.
    async fn application_id(&self, client_id: &str) -> Result<String> {
        if client_id.is_empty() || client_id.len() > 128 {
            return Ok(String::new());
        }
        let client_id = client_id.to_owned();
        let app = self
            .store()
            .read(move |tx| Box::pin(async move { tx.application_by_client_id(&client_id).await }))
            .await?;
        Ok(app.map(|a| a.id.into_string()).unwrap_or_default())
    }

    /// The name of the application `client_id` names, for the login page to show.
    pub async fn application_name(&self, client_id: &str) -> Result<Option<String>> {
        if client_id.is_empty() || client_id.len() > 128 {
            return Ok(None);
        }
        let client_id = client_id.to_owned();
        let app = self
            .store()
            .read(move |tx| Box::pin(async move { tx.application_by_client_id(&client_id).await }))
            .await?;
        Ok(app.map(|a| a.name))
    }

    /// Lifts the locks that have run out, so that ShowUser and ListUsers stop showing them
    /// (sign-in itself already ignores them); says how many.
    pub async fn unlock_expired_locks(&self) -> Result<u64> {
        let now = self.now();
        self.store()
            .write(move |tx| Box::pin(async move { tx.unlock_users_locked_until(now).await }))
            .await
    }

    /// `found` if it is still live, its use noted (at most once a minute) for the idle
    /// lifetime.
    async fn live_session(&self, found: Option<SsoSession>) -> Result<Option<SsoSession>> {
        let now = self.now();
        let idle = millis(self.sign_in_settings().session_idle);
        let Some(session) = found.filter(|s| s.is_live(now, idle)) else {
            return Ok(None);
        };
        if now.saturating_sub(session.last_seen_at) >= SESSION_TOUCH_MS {
            let digest = session.digest.clone();
            self.store()
                .write(move |tx| Box::pin(async move { tx.touch_session(&digest, now).await }))
                .await?;
        }
        Ok(Some(session))
    }

    /// `GET /api/v1/logout`: ends the browser's session (on every node: it lives in the
    /// store) and says whether `redirect_url` may be followed: a logout URL registered by the
    /// application `client_id` names, or by any application when none is named.
    pub async fn sign_out(
        &self,
        cookie: Option<&str>,
        redirect_url: Option<&str>,
        client_id: Option<&str>,
        source: IpAddr,
    ) -> Result<bool> {
        let digest = cookie.filter(|c| !c.is_empty()).map(secret::digest);
        let now = self.now();
        let redirect = redirect_url.map(str::to_owned);
        let client_id = client_id.filter(|c| !c.is_empty()).map(str::to_owned);
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    if let Some(digest) = digest {
                        if let Some(session) = tx.session(&digest).await? {
                            tx.delete_session(&digest).await?;
                            let actor = actor(Some(&session.user_id), source);
                            tx.insert_audit(&audit(now, &actor, "SignOut", "session", ""))
                                .await?;
                        }
                    }
                    let Some(redirect) = redirect else {
                        return Ok(false);
                    };
                    let urls: Vec<String> = match client_id {
                        Some(client_id) => match tx.application_by_client_id(&client_id).await? {
                            Some(app) => tx
                                .sso_settings(&app.id)
                                .await?
                                .map(|s| s.logout_urls)
                                .unwrap_or_default(),
                            None => Vec::new(),
                        },
                        None => tx.all_logout_urls().await?,
                    };
                    Ok(url_admitted(&urls, &redirect))
                })
            })
            .await
    }

    /// `GET /api/v1/oauth2/authorize`, given the browser's session (if any).
    pub async fn authorize(
        &self,
        request: AuthorizeRequest,
        session_cookie: Option<&str>,
        source: IpAddr,
        issuer: &str,
    ) -> Result<Authorize> {
        let client_id = request.client_id.clone().unwrap_or_default();
        if client_id.is_empty() || client_id.len() > 128 {
            return Ok(Authorize::Untrusted(
                "The client_id parameter names no application.".into(),
            ));
        }
        let lookup = client_id.clone();
        let found = self
            .store()
            .read(move |tx| Box::pin(async move { tx.application_with_sso(&lookup).await }))
            .await?;
        let Some((app, settings)) = found else {
            return Ok(Authorize::Untrusted(format!(
                "No application has the client_id {client_id}."
            )));
        };
        let Some(settings) = settings else {
            return Ok(Authorize::Untrusted(format!(
                "The application {} has no sign-in settings.",
                app.name
            )));
        };
        let redirect_uri = match request.redirect_uri.as_deref() {
            Some(uri) if url_admitted(&settings.redirect_uris, uri) => uri.to_owned(),
            // Spring Security OAuth's words, which OneAccess users have seen.
            Some(uri) => {
                return Ok(Authorize::Untrusted(format!(
                    "Invalid redirect: {uri} does not match one of the registered values."
                )))
            }
            None => match settings.redirect_uris.first() {
                Some(first) => first.clone(),
                None => {
                    return Ok(Authorize::Untrusted(
                        "No redirect URI is registered.".into(),
                    ))
                }
            },
        };
        let response_type = request
            .response_type
            .as_deref()
            .and_then(ResponseType::parse);
        let mut reply = Reply {
            redirect_uri,
            in_fragment: matches!(response_type, Some(ResponseType::Implicit { .. })),
            state: request.state.clone(),
        };
        if reply
            .state
            .as_ref()
            .is_some_and(|s| s.len() > MAX_STATE_CHARS)
        {
            reply.state = None;
            return Ok(reply.error("invalid_request", "state is too long."));
        }
        let Some(response_type) = response_type else {
            return Ok(reply.error(
                "unsupported_response_type",
                "response_type must be code, token, id_token or id_token token.",
            ));
        };
        let grant = match response_type {
            ResponseType::Code => Grant::AuthorizationCode,
            ResponseType::Implicit { .. } => Grant::Implicit,
        };
        if !settings.allows_grant(grant) {
            return Ok(reply.error(
                "unauthorized_client",
                &format!("Unauthorized grant type: {}", grant.as_str()),
            ));
        }
        if matches!(response_type, ResponseType::Implicit { id_token: true, .. })
            && settings.protocol != Protocol::Oidc
        {
            return Ok(reply.error(
                "unsupported_response_type",
                "id_tokens are issued to OpenID Connect applications only.",
            ));
        }
        let scope = match crate::oauth::requested_scope(request.scope.as_deref()) {
            Ok(s) if s.is_empty() => default_scope(settings.protocol).to_owned(),
            Ok(s) => s,
            Err(e) => return Ok(reply.error("invalid_scope", e.detail().unwrap_or_default())),
        };
        if request
            .nonce
            .as_ref()
            .is_some_and(|n| n.len() > MAX_STATE_CHARS)
        {
            return Ok(reply.error("invalid_request", "nonce is too long."));
        }
        let code_challenge = match (&request.code_challenge, &request.code_challenge_method) {
            (None, None) => None,
            (Some(c), Some(m)) if m == "S256" && well_formed_challenge(c) => Some(c.clone()),
            (Some(_), Some(m)) if m == "S256" => {
                return Ok(reply.error(
                    "invalid_request",
                    "code_challenge must be 43 base64url characters (RFC 7636).",
                ))
            }
            _ => {
                return Ok(reply.error(
                    "invalid_request",
                    "PKCE needs code_challenge with code_challenge_method S256 (plain is not \
                     accepted).",
                ))
            }
        };
        if code_challenge.is_some() && response_type != ResponseType::Code {
            return Ok(reply.error(
                "invalid_request",
                "PKCE applies to the authorization code flow only.",
            ));
        }
        // Nobody signed in: the login page, unless the client asked for no page at all.
        let no_page = request
            .prompt
            .as_deref()
            .is_some_and(|p| p.split(' ').any(|v| v == "none"));
        let sign_in = || {
            if no_page {
                reply.error("login_required", "The user is not signed in.")
            } else {
                Authorize::SignIn
            }
        };
        // The session and, if it is one, who may sign in: read at once.
        let Some(digest) = session_cookie.and_then(session_digest) else {
            return Ok(sign_in());
        };
        let app_id = app.id.clone();
        // Only the implicit flow's tokens carry claims now; a code's are read at its exchange.
        let with_roles = response_type != ResponseType::Code && needs_roles(&settings);
        let (found, candidate) = self
            .store()
            .read(move |tx| {
                Box::pin(async move {
                    let Some(session) = tx.session(&digest).await? else {
                        return Ok((None, None));
                    };
                    let found = candidate(tx, &app_id, &session.user_id, with_roles).await?;
                    Ok((Some(session), Some(found)))
                })
            })
            .await?;
        let (Some(session), Some(candidate)) = (self.live_session(found).await?, candidate) else {
            return Ok(sign_in());
        };
        let now = self.now();
        let principal = match candidate.admit(&app, now) {
            Ok(principal) => principal,
            Err(why) => {
                self.audit_refused_sign_in(&session.user_id, &app, source)
                    .await?;
                return Ok(reply.error("access_denied", why));
            }
        };
        let record = audit(
            now,
            &actor(Some(&session.user_id), source),
            "SignIn",
            "application",
            app.id.as_str(),
        );
        match response_type {
            ResponseType::Code => {
                let code = secret::generate();
                let row = AuthorizationCode {
                    digest: secret::digest(&code),
                    application_id: app.id.clone(),
                    user_id: session.user_id.clone(),
                    redirect_uri: reply.redirect_uri.clone(),
                    scope,
                    nonce: request.nonce.clone(),
                    code_challenge,
                    auth_time: session.auth_time,
                    expires_at: now.saturating_add(millis(self.sign_in_settings().code_ttl)),
                    used_at: None,
                };
                // Nothing to read or check: the rows join the next group commit.
                self.store()
                    .append(vec![Appended::SsoCode(row), Appended::Audit(record)])
                    .await?;
                Ok(Authorize::Redirect(reply.with(&[("code", &code)])))
            }
            ResponseType::Implicit { token, id_token } => {
                let issued = self
                    .issue_user_tokens(
                        &app,
                        &settings,
                        Issue {
                            principal,
                            scope,
                            auth_time: session.auth_time,
                            nonce: request.nonce.clone(),
                            grant_id: secret::generate(),
                            access_token: token,
                            refresh_token: false,
                            id_token,
                            issuer: issuer.to_owned(),
                        },
                        crate::oauth::Spend::Nothing,
                        Some(record),
                    )
                    .await?;
                let expires_in = issued.expires_in.to_string();
                let mut params: Vec<(&str, &str)> = Vec::new();
                if let Some(access) = &issued.access_token {
                    params.extend([
                        ("access_token", access.as_str()),
                        ("token_type", "Bearer"),
                        ("expires_in", expires_in.as_str()),
                    ]);
                }
                if let Some(id) = &issued.id_token {
                    params.push(("id_token", id.as_str()));
                }
                params.push(("scope", issued.scope.as_str()));
                Ok(Authorize::Redirect(reply.with(&params)))
            }
        }
    }
}

/// How a password check ended.
pub(crate) enum PasswordCheck {
    Right(Box<User>),
    Wrong(SignInOutcome),
}

/// What the tokens for a signed-in user are made of.
pub(crate) struct Issue {
    pub principal: Principal,
    pub scope: String,
    pub auth_time: Millis,
    pub nonce: Option<String>,
    pub grant_id: String,
    pub access_token: bool,
    pub refresh_token: bool,
    pub id_token: bool,
    pub issuer: String,
}

/// The user among those a login name found: the one whose user name it is, else the only one.
fn pick_user(found: Vec<User>, name: &str) -> Option<User> {
    let key = roster_domain::user::user_name_key(name);
    if let Some(by_name) = found
        .iter()
        .position(|u| roster_domain::user::user_name_key(&u.user_name) == key)
    {
        return found.into_iter().nth(by_name);
    }
    match <[User; 1]>::try_from(found) {
        Ok([only]) => Some(only),
        // Several users share that email: it names none of them.
        Err(_) => None,
    }
}

fn ms_to_secs(ms: Millis) -> u64 {
    u64::try_from(ms.saturating_add(999) / 1000).unwrap_or(0)
}

fn outcome_after_failures(failures: i64, max: u32, lock_ms: Millis) -> SignInOutcome {
    let remaining = i64::from(max).saturating_sub(failures);
    if remaining <= 0 {
        SignInOutcome::Locked {
            unlock_in_secs: ms_to_secs(lock_ms),
        }
    } else {
        SignInOutcome::WrongPassword {
            remaining: u32::try_from(remaining).unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types_are_read_in_any_order() {
        assert_eq!(ResponseType::parse("code"), Some(ResponseType::Code));
        assert_eq!(
            ResponseType::parse("token id_token"),
            Some(ResponseType::Implicit {
                token: true,
                id_token: true
            })
        );
        assert_eq!(ResponseType::parse("code id_token"), None);
        assert_eq!(ResponseType::parse(""), None);
    }

    #[test]
    fn replies_carry_state_in_the_query_or_the_fragment() {
        let reply = Reply {
            redirect_uri: "https://app.example.com/cb?x=1".into(),
            in_fragment: false,
            state: Some("a b".into()),
        };
        assert_eq!(
            reply.with(&[("code", "c")]),
            "https://app.example.com/cb?x=1&code=c&state=a+b"
        );
        let reply = Reply {
            in_fragment: true,
            ..reply
        };
        assert_eq!(
            reply.with(&[("id_token", "t")]),
            "https://app.example.com/cb?x=1#id_token=t&state=a+b"
        );
    }

    #[test]
    fn the_last_allowed_failure_locks() {
        assert!(matches!(
            outcome_after_failures(4, 5, 1000),
            SignInOutcome::WrongPassword { remaining: 1 }
        ));
        assert!(matches!(
            outcome_after_failures(5, 5, 1_800_000),
            SignInOutcome::Locked {
                unlock_in_secs: 1800
            }
        ));
    }
}
