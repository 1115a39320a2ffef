//! A password that must be changed before the login page signs its user in (`pwd_must_modify`,
//! or older than the password policy allows): the right password (and code, if one is asked
//! for) earns a change step token, and the new password (checked against the policy) begins
//! the session.

use super::step_token::{Step, Vouched};
use super::{actor, millis, Begin, NewSession, SignInOutcome};
use crate::use_case::Cx;
use crate::Service;
use roster_domain::time::Millis;
use roster_domain::user::{validate_password, User, UserId};
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;
use std::net::IpAddr;

/// The change page's form.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChangeAtLogin<'a> {
    pub change_token: &'a str,
    pub new_password: &'a str,
    pub confirm_password: &'a str,
    pub source: IpAddr,
    pub previous_session: Option<&'a str>,
}

impl Service {
    /// The change step for `user`, whose password was checked at `auth_time` (and a code
    /// given at `second_factor_at`, if one was).
    pub(super) fn change_step(
        &self,
        user: &User,
        auth_time: Millis,
        second_factor_at: Option<Millis>,
        expires_in_days: Option<i64>,
    ) -> SignInOutcome {
        SignInOutcome::ChangePassword {
            token: self.step_token(Step::PasswordChange, user, auth_time, second_factor_at),
            expires_in_days,
        }
    }

    /// The change page's "Not now", for a password only about to expire: the session begins
    /// without a change. Refused (`PARAM.0001`) once the password must be changed.
    pub async fn sign_in_without_password_change(
        &self,
        change_token: &str,
        source: IpAddr,
        previous_session: Option<&str>,
    ) -> Result<NewSession> {
        let Vouched {
            user,
            auth_time,
            second_factor_at,
        } = self
            .read_step_token(Step::PasswordChange, change_token)
            .await?;
        if self.password_policy().await?.must_change(&user, self.now()) {
            return Err(Error::invalid(
                "The password must be changed now: it expired or was marked for a change.",
            ));
        }
        let cookie = secret::generate();
        let begin = Begin {
            digest: secret::digest(&cookie),
            lifetime: millis(self.sign_in_settings().session_lifetime),
            user: user.id.clone(),
            previous: previous_session.map(secret::digest),
            application_id: String::new(),
            auth_time,
            second_factor_at,
        };
        let actor = actor(Some(&user.id), source);
        self.write(&actor, super::session::begin_session, begin)
            .await?;
        metrics::counter!("roster_sign_ins_total", "to" => "session").increment(1);
        Ok(NewSession { cookie })
    }

    /// The change page's form: checks the token and the new password, sets it (ending what
    /// the user signed in with before) and begins a session. A refused password is
    /// `PARAM.0001` naming the rule; an expired or spent token `SESSION.0002`.
    pub async fn sign_in_with_new_password(
        &self,
        change: PasswordChangeAtLogin<'_>,
    ) -> Result<NewSession> {
        let Vouched {
            user,
            auth_time,
            second_factor_at,
        } = self
            .read_step_token(Step::PasswordChange, change.change_token)
            .await?;
        if change.new_password != change.confirm_password {
            return Err(Error::invalid("The two new passwords differ."));
        }
        let new = validate_password(Some(change.new_password.to_owned()))?.unwrap_or_default();
        self.check_new_password(Some(&user.id), &new).await?;
        let new_hash = self.inner.passwords.hash(new).await?;
        let cookie = secret::generate();
        let step = Change {
            user: user.id.clone(),
            checked_hash: user.password_hash.clone(),
            new_hash,
            begin: Begin {
                digest: secret::digest(&cookie),
                lifetime: millis(self.sign_in_settings().session_lifetime),
                user: user.id.clone(),
                previous: change.previous_session.map(secret::digest),
                application_id: String::new(),
                auth_time,
                second_factor_at,
            },
        };
        self.write(
            &actor(Some(&user.id), change.source),
            change_and_begin,
            step,
        )
        .await?;
        metrics::counter!("roster_sign_ins_total", "to" => "session").increment(1);
        Ok(NewSession { cookie })
    }
}

/// A password change at login and the session it begins, in one transaction.
struct Change {
    user: UserId,
    /// The hash the token was issued under: changed since, the token is spent.
    checked_hash: Option<String>,
    new_hash: String,
    begin: Begin,
}

async fn change_and_begin(tx: &mut dyn Tx, cx: &mut Cx, mut change: Change) -> Result<()> {
    let mut user = crate::lookups::existing_user(tx, &change.user).await?;
    if user.password_hash != change.checked_hash {
        return Err(Error::with_detail(
            ErrorKind::StateTokenInvalid,
            "The password was changed meanwhile; sign in again.",
        ));
    }
    user.pwd_must_modify = false;
    crate::password_policy::set_password(tx, &mut user, change.new_hash, cx.now).await?;
    // The session this change begins counts from just after it.
    cx.audit("UpdateUserPwdAtLogin", "user", user.id.as_str());
    change.begin.auth_time = cx.now.saturating_add(1);
    super::session::begin_session(tx, cx, change.begin).await
}
