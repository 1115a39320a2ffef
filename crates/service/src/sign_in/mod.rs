//! People signing in: the password check with the lock after too many wrong passwords
//! (`password`), browser sessions and global logout (`session`), and who may sign in to an
//! application (`principal`): a user holding an enabled account in it, the user enabled and
//! not locked, the application enabled (docs/sso.md). The protocols that sign people in to
//! applications (`crate::oauth`) build on these; nothing here knows a protocol.

mod form_token;
mod password;
mod password_change;
mod person;
mod principal;
mod second_factor;
mod session;
mod step_token;

pub use password::SignInOutcome;
pub(crate) use password::{Attempt, PasswordCheck};
pub use password_change::PasswordChangeAtLogin;
pub use person::Person;
pub(crate) use principal::{
    candidate, needs_roles, read_candidate, session_and_candidate, Candidate,
};
pub use second_factor::CodeAtLogin;
pub(crate) use session::session_digest;
pub(crate) use session::Begin;
pub use session::{Login, Logout, NewSession, Redirect, SignedOut};

use crate::Service;
use roster_domain::time::Millis;
use roster_domain::user::UserId;
use std::net::IpAddr;
use std::time::Duration;

/// Tunables of signing in.
#[derive(Debug, Clone)]
pub struct SignInSettings {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after the password was entered, however used.
    pub session_lifetime: Duration,
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
            code_ttl: Duration::from_secs(300),
            rate_per_address: 10,
        }
    }
}

/// What signing in keeps in memory on each node.
pub(crate) struct SignInState {
    /// Password checks per source address.
    pub(crate) limits: crate::throttle::SignInLimits,
    /// A hash that unknown names' passwords are checked against (made at first use).
    decoy_hash: tokio::sync::OnceCell<String>,
    /// The login form's anti-forgery tokens.
    pub(crate) form_tokens: form_token::FormTokens,
    /// Sign-ins and refusals, summed until the next flush.
    pub(crate) events: crate::throttle::SummedAudit,
}

impl SignInState {
    pub(crate) fn new(
        settings: &SignInSettings,
        secret_key: Option<&crate::secrets::SecretKey>,
    ) -> Self {
        Self {
            form_tokens: form_token::FormTokens::new(secret_key),
            events: Default::default(),
            limits: crate::throttle::SignInLimits::new(settings.rate_per_address),
            decoy_hash: tokio::sync::OnceCell::new(),
        }
    }

    /// Forgets the rate limits' idle keys (with the token purge).
    pub(crate) fn forget_idle(&self) {
        self.limits.forget_idle();
    }
}

pub(crate) fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

/// The audit actor of a sign-in event: the user (or `unknown`) at the source address.
pub(crate) fn actor(user: Option<&UserId>, source: IpAddr) -> String {
    format!("{}@{source}", user.map_or("unknown", |u| u.as_str()))
}

impl Service {
    pub(crate) fn sign_in_settings(&self) -> &SignInSettings {
        &self.inner.settings.sign_in
    }

    pub(crate) fn sign_in_state(&self) -> &SignInState {
        &self.inner.sign_in
    }
}
