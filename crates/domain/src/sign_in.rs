//! What users signing in to applications leave in the store: browser sessions, authorization
//! codes, refresh tokens, and the count of wrong passwords that locks a user. Each secret is
//! stored as its SHA-256 digest only.

use crate::application::ApplicationId;
use crate::time::Millis;
use crate::user::UserId;

/// A browser's single sign-on session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    pub digest: String,
    pub user_id: UserId,
    /// When the user entered their password (the id_token's `auth_time`).
    pub auth_time: Millis,
    pub last_seen_at: Millis,
    /// The absolute end, whatever the use.
    pub expires_at: Millis,
    /// When the user gave a second factor (an SMS code), if they did.
    pub second_factor_at: Option<Millis>,
}

impl SsoSession {
    /// The session's public id (`sid` of id_tokens and logout tokens, OpenID Connect
    /// Front-/Back-Channel Logout): derived from the cookie's digest, and telling nothing of
    /// it.
    pub fn sid(&self) -> String {
        sid_of(&self.digest)
    }

    /// Whether the session is still good at `now`, used within `idle_ms` last.
    pub fn is_live(&self, now: Millis, idle_ms: Millis) -> bool {
        now < self.expires_at && now < self.last_seen_at.saturating_add(idle_ms)
    }
}

/// The public id of the session whose cookie has `digest`.
pub fn sid_of(digest: &str) -> String {
    crate::secret::digest(&format!("session id {digest}"))
        .chars()
        .take(32)
        .collect()
}

/// An authorization code (RFC 6749 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub digest: String,
    pub application_id: ApplicationId,
    pub user_id: UserId,
    /// The redirect URI the authorization request named (RFC 6749 §4.1.3: the exchange must
    /// then name the same); none when it named none.
    pub redirect_uri: Option<String>,
    pub scope: String,
    pub nonce: Option<String>,
    /// The PKCE `S256` challenge (RFC 7636), when the client sent one.
    pub code_challenge: Option<String>,
    pub auth_time: Millis,
    pub expires_at: Millis,
    pub used_at: Option<Millis>,
    /// The public id of the session it was issued in (the id_token's `sid`).
    pub sid: Option<String>,
}

/// A refresh token; the tokens of one grant share `grant_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub digest: String,
    pub application_id: ApplicationId,
    pub user_id: UserId,
    pub grant_id: String,
    pub scope: String,
    pub auth_time: Millis,
    pub expires_at: Millis,
    pub created_at: Millis,
    /// The application's token generation at issue.
    pub generation: i64,
    /// Set when the token was exchanged for a new one.
    pub used_at: Option<Millis>,
    /// The public id of the session its grant began in.
    pub sid: Option<String>,
}

/// Wrong passwords in a row, and the lock they led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignInLock {
    pub failures: i64,
    pub locked_until: Option<Millis>,
}

impl SignInLock {
    /// Milliseconds the lock still holds at `now`; none when not locked.
    pub fn remaining(&self, now: Millis) -> Option<Millis> {
        self.locked_until.filter(|&t| t > now).map(|t| t - now)
    }
}

/// Whose wrong passwords a password check counts: a user's, or those typed for a name nobody
/// has (known by the digest of the name's folded key, never as typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guessed {
    User(UserId),
    UnknownName(String),
}

/// What reserving a password check found. A check is counted as a wrong password before the
/// hash is compared, so that checks running at once can never pass the limit together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The check may go ahead; should the password be wrong, it is the `n`th wrong one in a
    /// row.
    Granted(i64),
    /// No check: locked until the time given, or (none) as many checks as the limit allows
    /// are already under way.
    Refused(Option<Millis>),
}

/// A user as signing in to one application sees them: their lock, their account there (if
/// any), and when their sign-ins (and the account's) were last ended.
#[derive(Debug, Clone)]
pub struct Standing {
    pub user: crate::user::User,
    pub lock: SignInLock,
    pub account: Option<crate::account::AppAccount>,
    pub ended: SignInsEnded,
}

/// When sign-ins were last ended: by a change of the user (disabled, locked, password set)
/// or of their account in the application (disabled). What was signed in before is void.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignInsEnded {
    pub user: Option<Millis>,
    pub account: Option<Millis>,
}

/// When what a credential stands for began: the password check it goes back to, and (for
/// an application's tokens) when it was issued, which the account's changes are held against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since {
    pub signed_in: Millis,
    pub issued: Option<Millis>,
}

impl Since {
    /// A credential of the user alone (a session, a code): the password check it goes back to.
    pub fn signed_in(at: Millis) -> Self {
        Self {
            signed_in: at,
            issued: None,
        }
    }

    /// An application's token: the password check it goes back to, and its issue.
    pub fn issued(signed_in: Millis, issued: Millis) -> Self {
        Self {
            signed_in,
            issued: Some(issued),
        }
    }
}

impl SignInsEnded {
    /// Whether a credential from `since` outlived a change that ended it, or predates the
    /// account it would sign in with (`account_created_at`: a deleted account's successor).
    pub fn void(&self, since: Since, account_created_at: Millis) -> bool {
        let ended_after = |end: Option<Millis>, t: Millis| end.is_some_and(|end| t <= end);
        ended_after(self.user, since.signed_in)
            || since.issued.is_some_and(|issued| {
                ended_after(self.account, issued) || issued < account_created_at
            })
    }
}
