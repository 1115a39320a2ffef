//! A password that must be changed before the login page signs its user in (`pwd_must_modify`,
//! or older than the password policy allows): the right password earns a change token, and the
//! new password (checked against the policy) begins the session.
//!
//! The token is `user.auth_time.expires.mac`, the MAC also covering the digest of the
//! password hash it was issued under: once the password changes it is void, so it is good
//! for one change, on any node.

use super::{actor, millis, Begin, NewSession, SignInOutcome};
use crate::use_case::Cx;
use crate::Service;
use roster_domain::password_policy::Expiry;
use roster_domain::time::Millis;
use roster_domain::user::{validate_password, User, UserId};
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;
use std::net::IpAddr;

/// How long the change page may wait.
const CHANGE_TTL_MS: Millis = 10 * 60_000;

/// The change page's form.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChangeAtLogin<'a> {
    pub change_token: &'a str,
    pub new_password: &'a str,
    pub confirm_password: &'a str,
    pub source: IpAddr,
    pub previous_session: Option<&'a str>,
}

/// Whether the user must change the password before signing in.
pub(crate) fn must_change(user: &User, expiry: Expiry) -> bool {
    user.pwd_must_modify || expiry == Expiry::Expired
}

impl Service {
    /// The change token for `user`, whose password was checked at `auth_time`.
    pub(super) fn change_token(&self, user: &User, auth_time: Millis) -> SignInOutcome {
        let expires = self.now().saturating_add(CHANGE_TTL_MS);
        let hash = user.password_hash.as_deref().unwrap_or_default();
        let signed = format!("{}.{auth_time}.{expires}", user.id.as_str());
        let mac = self.sign_in_state().form_tokens.bind(&format!(
            "password change {signed} {}",
            secret::digest(hash)
        ));
        SignInOutcome::ChangePassword {
            token: format!("{signed}.{mac}"),
        }
    }

    /// The change page's form: checks the token and the new password, sets it (ending what
    /// the user signed in with before) and begins a session. A refused password is
    /// `PARAM.0001` naming the rule; an expired or spent token `SESSION.0002`.
    pub async fn sign_in_with_new_password(
        &self,
        change: PasswordChangeAtLogin<'_>,
    ) -> Result<NewSession> {
        let spent = || {
            Error::with_detail(
                ErrorKind::StateTokenInvalid,
                "The password change took too long or was made already; sign in again.",
            )
        };
        let mut parts = change.change_token.rsplitn(2, '.');
        let (Some(mac), Some(signed)) = (parts.next(), parts.next()) else {
            return Err(spent());
        };
        let mut fields = signed.split('.');
        let (Some(user_id), Some(auth_time), Some(expires), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(spent());
        };
        let (Ok(auth_time), Ok(expires)) = (auth_time.parse::<Millis>(), expires.parse::<Millis>())
        else {
            return Err(spent());
        };
        if expires <= self.now() {
            return Err(spent());
        }
        let user_id = UserId::new(user_id);
        let user = self
            .read(read_user, user_id.clone())
            .await?
            .ok_or_else(spent)?;
        let hash = user.password_hash.as_deref().unwrap_or_default();
        let expected = self.sign_in_state().form_tokens.bind(&format!(
            "password change {signed} {}",
            secret::digest(hash)
        ));
        if !secret::constant_time_eq(&expected, mac) {
            return Err(spent());
        }
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

async fn read_user(tx: &mut dyn Tx, user_id: UserId) -> Result<Option<User>> {
    tx.user(&user_id).await
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
