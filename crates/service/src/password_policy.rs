//! The password policy: one for the tenant, set by configuration and changed over HTTP
//! (`GET|PUT /roster/v1/password-policy`, stored so that every node holds the same). Every path
//! that sets a password checks it here; every password check locks by it.

use crate::use_case::Cx;
use crate::{Caller, Service};
use roster_domain::password_policy::{PasswordPolicy, PasswordPolicyFields};
use roster_domain::permission::Access;
use roster_domain::time::Millis;
use roster_domain::user::UserId;
use roster_domain::{Error, Result};
use roster_store::prelude::*;
use std::sync::Arc;

/// Password hashes kept per user: the most any policy's `history` may name.
const HISTORY_KEPT: i64 = 24;

impl Service {
    /// `GET /roster/v1/password-policy`.
    pub async fn show_password_policy(&self, caller: &Caller) -> Result<PasswordPolicy> {
        caller.require(Access::AdminRead)?;
        Ok(self.password_policy().await?.as_ref().clone())
    }

    /// `PUT /roster/v1/password-policy`: the fields given change, the others keep their
    /// values; checked, stored and audited; every node holds it from its next password check.
    pub async fn set_password_policy(
        &self,
        caller: &Caller,
        fields: PasswordPolicyFields,
    ) -> Result<PasswordPolicy> {
        caller.require(Access::Admin)?;
        let policy = fields.apply(&*self.password_policy().await?)?;
        let text = serde_json::to_string(&policy)
            .map_err(|e| Error::internal(format!("the password policy: {e}")))?;
        self.write(&caller.client_id, put_policy, text).await?;
        self.inner.password_policy.clear();
        Ok(policy)
    }

    /// The policy in force: the stored one, else the configuration's.
    pub(crate) async fn password_policy(&self) -> Result<Arc<PasswordPolicy>> {
        self.policy_in_force(
            &self.inner.password_policy,
            read_policy,
            &self.settings().password_policy,
            "password policy",
        )
        .await
    }

    /// Checks a new password against the policy: its length and kinds of characters, and
    /// (for an existing user) that it repeats none of their last `history` passwords.
    pub(crate) async fn check_new_password(
        &self,
        user_id: Option<&UserId>,
        password: &str,
    ) -> Result<()> {
        let policy = self.password_policy().await?;
        policy.check(password)?;
        let Some(user_id) = user_id.filter(|_| policy.history > 0) else {
            return Ok(());
        };
        let limit = i64::from(policy.history);
        let hashes = self.read(recent_hashes, (user_id.clone(), limit)).await?;
        for hash in hashes {
            if self
                .inner
                .passwords
                .verify(password.to_owned(), hash)
                .await?
            {
                return Err(policy.reused());
            }
        }
        Ok(())
    }
}

/// Gives `user` the password of `hash` (noted for the history rule), the change of it no
/// longer due, and ends what they signed in with before: whoever knew the old password.
pub(crate) async fn set_password(
    tx: &mut dyn Tx,
    user: &mut roster_domain::user::User,
    hash: String,
    at: Millis,
) -> Result<()> {
    note_password(tx, &user.id, &hash, at).await?;
    user.password_hash = Some(hash);
    user.pwd_change_at = Some(at);
    user.updated_at = at;
    tx.update_user(user).await?;
    tx.end_sign_ins(&user.id, None, at).await?;
    Ok(())
}

/// Notes the password a user was given, for the history rule.
pub(crate) async fn note_password(
    tx: &mut dyn Tx,
    user_id: &UserId,
    hash: &str,
    at: Millis,
) -> Result<()> {
    tx.add_password_history(user_id, hash, at, HISTORY_KEPT)
        .await
}

async fn read_policy(tx: &mut dyn Tx, (): ()) -> Result<Option<String>> {
    tx.password_policy().await
}

async fn put_policy(tx: &mut dyn Tx, cx: &mut Cx, text: String) -> Result<()> {
    tx.put_password_policy(&text, cx.now).await?;
    // Every node reads the policy again at its next password check.
    tx.announce_change().await?;
    cx.audit("UpdatePasswordPolicy", "password_policy", "");
    Ok(())
}

/// The user's last `limit` password hashes, and the current one (set before histories were
/// kept, it may be in none).
async fn recent_hashes(tx: &mut dyn Tx, (user_id, limit): (UserId, i64)) -> Result<Vec<String>> {
    let mut hashes = tx.password_history(&user_id, limit).await?;
    if let Some(current) = tx.user(&user_id).await?.and_then(|u| u.password_hash) {
        if !hashes.contains(&current) {
            hashes.insert(0, current);
            hashes.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
    }
    Ok(hashes)
}
