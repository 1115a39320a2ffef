//! The login page's steps after the password (a code, a password change) carry a step
//! token: `user.auth_time.expires.second_factor_at.mac`, the MAC also covering the step's
//! name and the digest of the password hash it was issued under. Once the password changes
//! it is void; it serves one step, on any node, and no other step.

use crate::Service;
use roster_domain::time::Millis;
use roster_domain::user::{User, UserId};
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;

/// How long a step may wait.
const STEP_TTL_MS: Millis = 10 * 60_000;

/// A step of the login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    SecondFactor,
    PasswordChange,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Self::SecondFactor => "second factor",
            Self::PasswordChange => "password change",
        }
    }
}

/// What a step token vouches for.
pub(super) struct Vouched {
    pub user: User,
    /// When the password was checked.
    pub auth_time: Millis,
    /// When the second factor was given, if it was.
    pub second_factor_at: Option<Millis>,
}

impl Service {
    /// The token of `step` for `user`, whose password was checked at `auth_time`.
    pub(super) fn step_token(
        &self,
        step: Step,
        user: &User,
        auth_time: Millis,
        second_factor_at: Option<Millis>,
    ) -> String {
        let expires = self.now().saturating_add(STEP_TTL_MS);
        let signed = format!(
            "{}.{auth_time}.{expires}.{}",
            user.id.as_str(),
            second_factor_at.unwrap_or(0)
        );
        let mac = self.step_mac(step, &signed, user);
        format!("{signed}.{mac}")
    }

    /// What the token of `step` vouches for, if it is one this server issued for that step,
    /// in time, and its user's password is still the one it was issued under.
    pub(super) async fn read_step_token(&self, step: Step, token: &str) -> Result<Vouched> {
        let spent = || {
            Error::with_detail(
                ErrorKind::StateTokenInvalid,
                "This step took too long or was done already; sign in again.",
            )
        };
        let (signed, mac) = token.rsplit_once('.').ok_or_else(spent)?;
        let fields: Vec<&str> = signed.split('.').collect();
        let [user_id, auth_time, expires, second_factor_at] = fields[..] else {
            return Err(spent());
        };
        let (Ok(auth_time), Ok(expires), Ok(second_factor_at)) = (
            auth_time.parse::<Millis>(),
            expires.parse::<Millis>(),
            second_factor_at.parse::<Millis>(),
        ) else {
            return Err(spent());
        };
        if expires <= self.now() {
            return Err(spent());
        }
        let user = self
            .read(read_user, UserId::new(user_id))
            .await?
            .ok_or_else(spent)?;
        if !secret::constant_time_eq(&self.step_mac(step, signed, &user), mac) {
            return Err(spent());
        }
        Ok(Vouched {
            user,
            auth_time,
            second_factor_at: (second_factor_at > 0).then_some(second_factor_at),
        })
    }

    fn step_mac(&self, step: Step, signed: &str, user: &User) -> String {
        let hash = user.password_hash.as_deref().unwrap_or_default();
        self.sign_in_state().form_tokens.bind(&format!(
            "{} {signed} {}",
            step.name(),
            secret::digest(hash)
        ))
    }
}

async fn read_user(tx: &mut dyn Tx, user_id: UserId) -> Result<Option<User>> {
    tx.user(&user_id).await
}
