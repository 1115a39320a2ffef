//! The password check, wherever a password is typed (the login page, the password grant):
//! wrong passwords are counted and lock the user after too many; a right one clears the
//! count. A name nobody has gets the same work and the same answers.

use super::actor;
use crate::use_case::Cx;
use crate::Service;
use roster_domain::application::Application;
use roster_domain::audit::AuditRecord;
use roster_domain::sign_in::{Guessed, Reservation};
use roster_domain::time::Millis;
use roster_domain::user::{login_key, user_name_key, User, UserId};
use roster_domain::{secret, ErrorKind, Result};
use roster_store::prelude::*;
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
    /// The password was right but must be changed first (`pwd_must_modify`, or expired):
    /// the change page's token.
    ChangePassword {
        token: String,
        /// Days until the password expires when it is only about to (the change may then
        /// be skipped); none when it must be changed now.
        expires_in_days: Option<i64>,
    },
    /// The password was right and a code is asked for (the MFA policy): the code step's
    /// token, and the number the code went to, masked.
    SecondFactor {
        token: String,
        mobile: String,
    },
}

/// How a password check ended.
pub(crate) enum PasswordCheck {
    Right(Box<User>),
    Wrong(SignInOutcome),
    /// No user has the name (answered as a wrong password wherever names are not told
    /// apart).
    Unknown(SignInOutcome),
}

impl Service {
    /// Checks a user's password (by user name, mobile or email), counting wrong ones and
    /// locking the user after too many; a right one takes back the count before it.
    ///
    /// The check is counted as a wrong password before the hash is compared (one
    /// conditional write), so checks sent at once cannot pass the limit together; a name
    /// nobody has goes through the same steps, counted under the folded key the lookup uses.
    pub(crate) async fn check_password(
        &self,
        login: &str,
        password: &str,
        attempt: Attempt<'_>,
    ) -> Result<PasswordCheck> {
        self.sign_in_state().limits.check(attempt.source)?;
        let policy = self.password_policy().await?;
        let max = i64::from(policy.max_failed_sign_ins.max(1));
        let lock_ms = minutes(policy.lock_minutes);
        let name: String = login.trim().chars().take(MAX_LOGIN_CHARS).collect();
        let password: String = password.chars().take(MAX_PASSWORD_CHARS).collect();
        let found = if name.is_empty() {
            Vec::new()
        } else {
            self.read(users_by_login, name.clone()).await?
        };
        let user = pick_user(found, &name);
        let who = match &user {
            Some(user) => Guessed::User(user.id.clone()),
            None => Guessed::UnknownName(secret::digest(&login_key(&name))),
        };
        let user_id = user.as_ref().map(|u| &u.id);
        let actor = actor(user_id, attempt.source);
        let n = match self.write(&actor, reserve, (who.clone(), max)).await? {
            Reservation::Granted(n) => n,
            Reservation::Refused(until) => {
                self.audit_sign_in(user_id, attempt, ErrorKind::UserLocked)
                    .await?;
                let left = until.map_or(lock_ms, |t| t.saturating_sub(self.now()));
                let locked = SignInOutcome::Locked {
                    unlock_in_secs: ms_to_secs(left),
                };
                return Ok(wrong(user.is_some(), locked));
            }
        };
        let hash = match user.as_ref().and_then(|u| u.password_hash.clone()) {
            Some(hash) => hash,
            None => self.decoy_hash().await?,
        };
        let verified = self.inner.passwords.verify(password, hash).await?;
        let known = user.is_some();
        let user = match user {
            Some(user) if verified && user.password_hash.is_some() => {
                metrics::counter!("roster_password_checks_total", "result" => "right").increment(1);
                user
            }
            _ => {
                metrics::counter!("roster_password_checks_total", "result" => "wrong").increment(1);
                if n >= max {
                    let lock = Lock {
                        who,
                        until: self.now().saturating_add(lock_ms),
                        application: attempt.application.to_owned(),
                    };
                    self.write(&actor, lock_sign_in, lock).await?;
                    metrics::counter!("roster_sign_in_locks_total").increment(1);
                    let reason = ErrorKind::UserLocked.code();
                    metrics::counter!("roster_sign_ins_refused_total", "reason" => reason)
                        .increment(1);
                } else {
                    self.audit_sign_in(user_id, attempt, ErrorKind::InvalidSignIn)
                        .await?;
                }
                let outcome = outcome_after_failures(n, max, lock_ms);
                return Ok(wrong(known, outcome));
            }
        };
        self.write(&actor, release, (user.id.clone(), n)).await?;
        if user.disabled {
            self.audit_sign_in(Some(&user.id), attempt, ErrorKind::SignInDenied)
                .await?;
            return Ok(PasswordCheck::Wrong(SignInOutcome::Disabled));
        }
        Ok(PasswordCheck::Right(Box::new(user)))
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
        metrics::counter!("roster_sign_ins_refused_total", "reason" => why.code()).increment(1);
        let record = AuditRecord {
            at: self.now(),
            actor: actor(user, attempt.source),
            operation: "SignInRefused",
            target_type: why.code(),
            target_id: attempt.application.to_owned(),
            count: 1,
        };
        // Summed per interval: repeated refusals add a count, not a row.
        self.sign_in_state().events.count(record);
        Ok(())
    }

    /// Lifts the locks that have run out, so that ShowUser and ListUsers stop showing them
    /// (sign-in itself already ignores them); says how many.
    pub async fn unlock_expired_locks(&self) -> Result<u64> {
        let lock_ms = minutes(self.password_policy().await?.lock_minutes);
        self.write(roster_domain::audit::SYSTEM_ACTOR, unlock_expired, lock_ms)
            .await
    }
}

async fn users_by_login(tx: &mut dyn Tx, login: String) -> Result<Vec<User>> {
    tx.users_by_login(&login).await
}

async fn reserve(tx: &mut dyn Tx, cx: &mut Cx, (who, max): (Guessed, i64)) -> Result<Reservation> {
    tx.reserve_password_check(&who, max, cx.now).await
}

async fn release(tx: &mut dyn Tx, _cx: &mut Cx, (user_id, n): (UserId, i64)) -> Result<()> {
    tx.release_password_check(&user_id, n).await
}

/// The last wrong password the limit allows.
struct Lock {
    who: Guessed,
    until: Millis,
    /// The application's id, or empty, for the audit record.
    application: String,
}

async fn lock_sign_in(tx: &mut dyn Tx, cx: &mut Cx, lock: Lock) -> Result<()> {
    tx.lock_sign_in(&lock.who, lock.until, cx.now).await?;
    if let Guessed::User(user_id) = &lock.who {
        // Somebody is guessing: what the user signed in with ends too.
        tx.end_sign_ins(user_id, None, cx.now).await?;
    }
    cx.audit(
        "SignInRefused",
        ErrorKind::UserLocked.code(),
        &lock.application,
    );
    Ok(())
}

/// Also forgets names nobody has once they were not tried for as long as a lock lasts.
async fn unlock_expired(tx: &mut dyn Tx, cx: &mut Cx, lock_ms: Millis) -> Result<u64> {
    let unlocked = tx.unlock_users_locked_until(cx.now).await?;
    tx.delete_unknown_names_tried_before(cx.now.saturating_sub(lock_ms))
        .await?;
    Ok(unlocked)
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

/// A failed check, told apart by whether the name was anybody's.
fn wrong(name_known: bool, outcome: SignInOutcome) -> PasswordCheck {
    match name_known {
        true => PasswordCheck::Wrong(outcome),
        false => PasswordCheck::Unknown(outcome),
    }
}

fn minutes(m: u32) -> Millis {
    i64::from(m) * 60_000
}

fn ms_to_secs(ms: Millis) -> u64 {
    u64::try_from(ms.saturating_add(999) / 1000).unwrap_or(0)
}

fn outcome_after_failures(failures: i64, max: i64, lock_ms: Millis) -> SignInOutcome {
    let remaining = max.saturating_sub(failures);
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
