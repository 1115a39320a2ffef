//! The password check, wherever a password is typed (the login page, the password grant):
//! wrong passwords are counted and lock the user after too many; a right one clears the
//! count. A name nobody has gets the same work and the same answers.

use super::{actor, millis};
use crate::use_case::Cx;
use crate::Service;
use roster_domain::application::Application;
use roster_domain::audit::AuditRecord;
use roster_domain::sign_in::SignInLock;
use roster_domain::time::Millis;
use roster_domain::user::{user_name_key, User, UserId};
use roster_domain::{secret, ErrorKind, Result};
use roster_store::prelude::*;
use roster_store::Appended;
use std::net::IpAddr;

/// Longest login name and password looked at.
const MAX_LOGIN_CHARS: usize = 128;
const MAX_PASSWORD_CHARS: usize = 128;

/// Where a password was typed: the source address and the application (its id, or empty)
/// that the audit records of the attempt name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    pub source: IpAddr,
    pub application: &'a str,
}

/// How a password check ended, for the login page.
#[derive(Debug, Clone)]
pub enum SignInOutcome {
    SignedIn(super::NewSession),
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

/// How a password check ended.
pub(crate) enum PasswordCheck {
    Right(Box<User>),
    Wrong(SignInOutcome),
}

impl Service {
    /// Checks a user's password (by user name, mobile or email), counting wrong ones and
    /// locking the user after too many; a right one clears the count.
    pub(crate) async fn check_password(
        &self,
        login: &str,
        password: &str,
        attempt: Attempt<'_>,
    ) -> Result<PasswordCheck> {
        self.sign_in_state().limits.check(attempt.source)?;
        let max = self.sign_in_settings().max_failed_sign_ins.max(1);
        let name: String = login.trim().chars().take(MAX_LOGIN_CHARS).collect();
        let password: String = password.chars().take(MAX_PASSWORD_CHARS).collect();
        let found = if name.is_empty() {
            Vec::new()
        } else {
            self.read(users_by_login, name.clone()).await?
        };
        let Some(user) = pick_user(found, &name) else {
            return self
                .unknown_sign_in(&name, &password, attempt)
                .await
                .map(PasswordCheck::Wrong);
        };
        let now = self.now();
        let lock = self.read(sign_in_lock, user.id.clone()).await?;
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
            let actor = actor(Some(&user.id), attempt.source);
            self.write(&actor, clear_lock, user.id.clone()).await?;
        }
        Ok(PasswordCheck::Right(Box::new(user)))
    }

    async fn wrong_password(
        &self,
        user: &User,
        attempt: Attempt<'_>,
        max: u32,
    ) -> Result<SignInOutcome> {
        let lock_ms = millis(self.sign_in_settings().lock_duration);
        let failure = Failure {
            user_id: user.id.clone(),
            application: attempt.application.to_owned(),
            max,
            lock_ms,
        };
        let actor = actor(Some(&user.id), attempt.source);
        let failures = self.write(&actor, count_failure, failure).await?;
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
        let key = user_name_key(name);
        let unknown = &self.sign_in_state().unknown_logins;
        let mut lock = unknown.get(&key).unwrap_or_default();
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
        unknown.insert(key, lock);
        let kind = if lock.locked_until.is_some() {
            ErrorKind::UserLocked
        } else {
            ErrorKind::InvalidSignIn
        };
        self.audit_sign_in(None, attempt, kind).await?;
        Ok(outcome_after_failures(failures, max, lock_ms))
    }

    /// A password hash to check unknown names against, so that they take as long as known
    /// ones.
    async fn decoy_hash(&self) -> Result<String> {
        self.sign_in_state()
            .decoy_hash
            .get_or_try_init(|| self.inner.passwords.hash(secret::generate()))
            .await
            .cloned()
    }

    /// Audits that `user` may not sign in to `app`.
    pub(crate) async fn audit_refused_sign_in(
        &self,
        user: &UserId,
        app: &Application,
        source: IpAddr,
    ) -> Result<()> {
        let attempt = Attempt {
            source,
            application: app.id.as_str(),
        };
        self.audit_sign_in(Some(user), attempt, ErrorKind::SignInDenied)
            .await
    }

    async fn audit_sign_in(
        &self,
        user: Option<&UserId>,
        attempt: Attempt<'_>,
        why: ErrorKind,
    ) -> Result<()> {
        let record = AuditRecord {
            at: self.now(),
            actor: actor(user, attempt.source),
            operation: "SignInRefused",
            target_type: why.code(),
            target_id: attempt.application.to_owned(),
            count: 1,
        };
        // Nothing to check or undo: the row joins the next commit without a job of its own.
        self.store().append(vec![Appended::Audit(record)]).await
    }

    /// Lifts the locks that have run out, so that ShowUser and ListUsers stop showing them
    /// (sign-in itself already ignores them); says how many.
    pub async fn unlock_expired_locks(&self) -> Result<u64> {
        self.write(roster_domain::audit::SYSTEM_ACTOR, unlock_expired, ())
            .await
    }
}

async fn users_by_login(tx: &mut dyn Tx, login: String) -> Result<Vec<User>> {
    tx.users_by_login(&login).await
}

async fn sign_in_lock(tx: &mut dyn Tx, user_id: UserId) -> Result<SignInLock> {
    tx.sign_in_lock(&user_id).await
}

async fn clear_lock(tx: &mut dyn Tx, cx: &mut Cx, user_id: UserId) -> Result<()> {
    tx.set_sign_in_lock(&user_id, SignInLock::default(), cx.now)
        .await
}

/// A wrong password of a known user.
struct Failure {
    user_id: UserId,
    /// The application's id, or empty, for the audit record.
    application: String,
    max: u32,
    lock_ms: Millis,
}

/// Counts a wrong password; the last one allowed locks the user. Says how many there were.
async fn count_failure(tx: &mut dyn Tx, cx: &mut Cx, failure: Failure) -> Result<i64> {
    let failures = tx.add_failed_sign_in(&failure.user_id).await?;
    let locking = failures >= i64::from(failure.max);
    if locking {
        let lock = SignInLock {
            failures: 0,
            locked_until: Some(cx.now.saturating_add(failure.lock_ms)),
        };
        tx.set_sign_in_lock(&failure.user_id, lock, cx.now).await?;
    }
    let why = if locking {
        ErrorKind::UserLocked
    } else {
        ErrorKind::InvalidSignIn
    };
    cx.audit("SignInRefused", why.code(), &failure.application);
    Ok(failures)
}

async fn unlock_expired(tx: &mut dyn Tx, cx: &mut Cx, (): ()) -> Result<u64> {
    tx.unlock_users_locked_until(cx.now).await
}

/// The user among those a login name found: the one whose user name it is, else the only one.
fn pick_user(found: Vec<User>, name: &str) -> Option<User> {
    let key = user_name_key(name);
    if let Some(by_name) = found
        .iter()
        .position(|u| user_name_key(&u.user_name) == key)
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
