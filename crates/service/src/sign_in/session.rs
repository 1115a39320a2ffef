//! Browser sessions: begun by the login page's password check, kept in the store (so every
//! node knows them), touched as used, ended by logout or by time.

use super::{actor, millis, Attempt, PasswordCheck, SignInOutcome};
use crate::use_case::Cx;
use crate::Service;
use roster_domain::application::Application;
use roster_domain::audit::SYSTEM_ACTOR;
use roster_domain::sign_in::SsoSession;
use roster_domain::sso::admitted_url;
use roster_domain::time::Millis;
use roster_domain::{secret, Result};
use roster_store::prelude::*;
use std::net::IpAddr;

/// A session is written back as used at most this often.
const SESSION_TOUCH_MS: Millis = 60_000;
/// Longest session cookie looked up.
const MAX_COOKIE_CHARS: usize = 200;

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

/// A session that signing in began: `cookie` is its secret, for the browser only.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie: String,
}

/// The stored form of a session cookie, unless it cannot be one.
pub(crate) fn session_digest(cookie: &str) -> Option<String> {
    (!cookie.is_empty() && cookie.len() <= MAX_COOKIE_CHARS).then(|| secret::digest(cookie))
}

impl Service {
    /// The login page's form: checks the password, counting wrong ones, and begins a session.
    pub async fn sign_in(&self, login: Login<'_>) -> Result<SignInOutcome> {
        let application_id = match login.client_id {
            Some(client_id) => self.application_by_client_id(client_id).await?,
            None => None,
        }
        .map(|a| a.id.into_string())
        .unwrap_or_default();
        let attempt = Attempt {
            source: login.source,
            application: &application_id,
        };
        // Before the user is read: a change of the user committed after it ends this session.
        let auth_time = self.now();
        let user = match self
            .check_password(login.login, login.password, attempt)
            .await?
        {
            PasswordCheck::Right(user) => user,
            PasswordCheck::Wrong(outcome) | PasswordCheck::Unknown(outcome) => return Ok(outcome),
        };
        if self.second_factor_applies(login.client_id).await? {
            return self
                .second_factor_step(&user, auth_time, login.source)
                .await;
        }
        let begin = Begin {
            digest: String::new(),
            lifetime: millis(self.sign_in_settings().session_lifetime),
            user: user.id.clone(),
            previous: login.previous_session.map(secret::digest),
            application_id,
            auth_time,
            second_factor_at: None,
        };
        self.after_checks(&user, begin, login.source).await
    }

    /// The password (and code, if one was asked for) checked: the change of a password that
    /// must be changed first, else a new session.
    pub(super) async fn after_checks(
        &self,
        user: &roster_domain::user::User,
        mut begin: Begin,
        source: IpAddr,
    ) -> Result<SignInOutcome> {
        let policy = self.password_policy().await?;
        let now = self.now();
        if policy.must_change(user, now) {
            return Ok(self.change_step(user, begin.auth_time, begin.second_factor_at, None));
        }
        if let Some(days) = policy.warns(user, now) {
            let step = self.change_step(user, begin.auth_time, begin.second_factor_at, Some(days));
            return Ok(step);
        }
        let cookie = secret::generate();
        begin.digest = secret::digest(&cookie);
        let actor = actor(Some(&user.id), source);
        self.write(&actor, begin_session, begin).await?;
        metrics::counter!("roster_sign_ins_total", "to" => "session").increment(1);
        Ok(SignInOutcome::SignedIn(NewSession { cookie }))
    }

    /// `found` if it is still live, its use noted (at most once a minute) for the idle
    /// lifetime.
    pub(crate) async fn live_session(
        &self,
        found: Option<SsoSession>,
    ) -> Result<Option<SsoSession>> {
        let now = self.now();
        let idle = millis(self.sign_in_settings().session_idle);
        let Some(session) = found.filter(|s| s.is_live(now, idle)) else {
            return Ok(None);
        };
        if now.saturating_sub(session.last_seen_at) >= SESSION_TOUCH_MS {
            self.write(SYSTEM_ACTOR, touch, session.digest.clone())
                .await?;
        }
        Ok(Some(session))
    }

    /// `GET /api/v1/logout` (OneAccess `SingleLogout`, and OpenID Connect RP-Initiated
    /// Logout): ends the browser's session on every node (it lives in the store), unless a
    /// browser was sent here by another site without proof that its user's application
    /// asked (an `id_token_hint` for the session's user): then the user is asked to confirm.
    /// Gives where to send the browser: the URL as read (with `state` for OIDC), if it is a
    /// logout URL registered by the application named (`client_id`, or the hint's audience),
    /// or by any application when none is named (OneAccess's `redirect_url` only).
    pub async fn sign_out(&self, logout: Logout<'_>) -> Result<SignedOut> {
        let hint = match logout.id_token_hint.filter(|h| !h.is_empty()) {
            Some(hint) => self.id_token_hint(hint, logout.issuer).await?,
            None => None,
        };
        let client_id = logout
            .client_id
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .or_else(|| hint.as_ref().map(|h| h.aud.clone()));
        let (redirect, state, oidc) = match (logout.post_logout_redirect_uri, logout.redirect_url) {
            (Some(uri), _) if !uri.is_empty() => (Some(uri), logout.state, true),
            (_, Some(url)) if !url.is_empty() => (Some(url), None, false),
            _ => (None, None, false),
        };
        let digest = logout.cookie.filter(|c| !c.is_empty()).map(secret::digest);
        // What the session's logout sends to the applications it signed in to, and the
        // grants it ends: read (and signed) before the transaction that ends it.
        let told = match &digest {
            Some(digest) => Some(
                self.session_logout(digest, logout.issuer, logout.initiated_by)
                    .await?,
            ),
            None => None,
        };
        let end = End {
            digest,
            told,
            redirect: redirect.map(str::to_owned),
            state: state.filter(|s| !s.is_empty()).map(str::to_owned),
            // OIDC's post_logout_redirect_uri is checked against its own client only.
            client_id: client_id.or_else(|| oidc.then(String::new)),
            hinted_user: hint.map(|h| h.sub),
            ask_first: logout.ask_first,
            source: logout.source,
        };
        let signed_out = self
            .write(&actor(None, logout.source), end_session, end)
            .await?;
        self.logout_stored();
        Ok(signed_out)
    }

    /// The token the logout confirmation form carries: bound to the browser's session (only a
    /// page holding the session cookie can make it).
    pub fn logout_form_token(&self, session_cookie: &str) -> String {
        self.inner
            .sign_in
            .form_tokens
            .bind(&format!("logout:{session_cookie}"))
    }

    /// The application `client_id` names, if any.
    pub(crate) async fn application_by_client_id(
        &self,
        client_id: &str,
    ) -> Result<Option<Application>> {
        if client_id.is_empty() || client_id.len() > roster_domain::application::MAX_CLIENT_ID_CHARS
        {
            return Ok(None);
        }
        self.read(
            crate::lookups::application_by_client_id,
            client_id.to_owned(),
        )
        .await
    }

    /// The name of the application `client_id` names, for the login page to show.
    pub async fn application_name(&self, client_id: &str) -> Result<Option<String>> {
        Ok(self
            .application_by_client_id(client_id)
            .await?
            .map(|a| a.name))
    }
}

/// A session to begin.
pub(crate) struct Begin {
    pub digest: String,
    pub lifetime: Millis,
    pub user: roster_domain::user::UserId,
    /// The digest of the session the browser held before.
    pub previous: Option<String>,
    pub application_id: String,
    /// When the password check began.
    pub auth_time: Millis,
    /// When the user gave a second factor, if they did.
    pub second_factor_at: Option<Millis>,
}

pub(crate) async fn begin_session(tx: &mut dyn Tx, cx: &mut Cx, begin: Begin) -> Result<()> {
    // A new session id at every sign-in: a session id planted before it (session fixation)
    // never becomes a signed-in one.
    if let Some(previous) = &begin.previous {
        tx.delete_session(previous).await?;
    }
    tx.insert_session(&SsoSession {
        digest: begin.digest,
        user_id: begin.user,
        auth_time: begin.auth_time,
        last_seen_at: cx.now,
        expires_at: cx.now.saturating_add(begin.lifetime),
        second_factor_at: begin.second_factor_at,
    })
    .await?;
    cx.audit("SignIn", "session", &begin.application_id);
    Ok(())
}

async fn touch(tx: &mut dyn Tx, cx: &mut Cx, digest: String) -> Result<()> {
    tx.touch_session(&digest, cx.now).await
}

/// What a logout request says.
#[derive(Debug, Clone, Copy)]
pub struct Logout<'a> {
    pub cookie: Option<&'a str>,
    /// OneAccess's `redirect_url`.
    pub redirect_url: Option<&'a str>,
    /// OIDC's `post_logout_redirect_uri`, sent back with `state`.
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub id_token_hint: Option<&'a str>,
    /// This server's issuer (what a hint must have been issued by).
    pub issuer: &'a str,
    /// Ask the user before ending the session (a browser sent by another site, not yet
    /// confirmed on the logout page), unless an `id_token_hint` names the session's user.
    pub ask_first: bool,
    pub source: IpAddr,
    /// The application that asked for the logout itself (a SAML LogoutRequest): it is not
    /// sent a back-channel message about it.
    pub initiated_by: Option<&'a roster_domain::application::ApplicationId>,
}

/// How a logout ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedOut {
    /// The session (if any) ended; send the browser to `redirect` if it is registered.
    Ended { redirect: Redirect },
    /// Nothing ended yet: the user is asked to confirm.
    Confirm,
}

/// Where a logout sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// None asked for: the login page.
    None,
    /// A registered logout URL, as read (and with `state`).
    To(String),
    /// Asked for, but not registered: the browser stays.
    Refused,
}

/// A logout.
struct End {
    digest: Option<String>,
    /// What the logout sends and ends besides the session.
    told: Option<crate::logout::SessionLogout>,
    redirect: Option<String>,
    state: Option<String>,
    /// Whose logout URLs admit the redirect: that application's (empty: none), or any
    /// application's when not given.
    client_id: Option<String>,
    /// The user an id_token_hint names.
    hinted_user: Option<String>,
    /// Ask before ending the session, unless the hint names its user.
    ask_first: bool,
    source: IpAddr,
}

/// Ends the session, if there is one, and says where the browser goes.
async fn end_session(tx: &mut dyn Tx, cx: &mut Cx, end: End) -> Result<SignedOut> {
    if let Some(digest) = &end.digest {
        if let Some(session) = tx.session(digest).await? {
            let hinted = end.hinted_user.as_deref() == Some(session.user_id.as_str());
            if end.ask_first && !hinted {
                return Ok(SignedOut::Confirm);
            }
            tx.delete_session(digest).await?;
            if let Some(told) = &end.told {
                crate::logout::apply(tx, told).await?;
            }
            // Only now is it known who signs out.
            cx.act_as(actor(Some(&session.user_id), end.source));
            cx.audit("Logout", "session", "");
        }
    }
    let Some(wanted) = end.redirect else {
        return Ok(SignedOut::Ended {
            redirect: Redirect::None,
        });
    };
    let urls: Vec<String> = match end.client_id {
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
    let redirect = match admitted_url(&urls, &wanted) {
        Some(mut url) => {
            if let Some(state) = &end.state {
                url.query_pairs_mut().append_pair("state", state);
            }
            Redirect::To(url.into())
        }
        None => Redirect::Refused,
    };
    Ok(SignedOut::Ended { redirect })
}
