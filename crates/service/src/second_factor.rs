//! The second factor (an SMS code after the password) and codes that recover a password: the
//! MFA policy (configuration, then `GET|PUT /roster/v1/mfa-policy`, the same on every node),
//! sending a code (at most one a minute per number and purpose, 10 an hour per number, 30
//! an hour per address; the message stored with the code, in one transaction), and checking
//! one (6 digits, 5 minutes, 5 tries, good once, on any node).

use crate::use_case::Cx;
use crate::{Caller, Service};
use roster_domain::message::Message;
use roster_domain::permission::Access;
use roster_domain::second_factor::{
    new_code, CodePurpose, CodeRefusal, MfaPolicy, MfaPolicyFields, VerifyCode, CODE_TRIES,
    CODE_TTL_MS, RESEND_AFTER_MS, SENDS_PER_ADDRESS_HOUR, SENDS_PER_MOBILE_HOUR,
};
use roster_domain::time::Millis;
use roster_domain::user::{mobile_key, User};
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;
use std::net::IpAddr;
use std::sync::Arc;

const HOUR_MS: Millis = 3_600_000;

/// A code's outcome: done, or refused (worded by the caller, in its style).
pub(crate) type Checked = std::result::Result<(), CodeRefusal>;

impl Service {
    /// `GET /roster/v1/mfa-policy`.
    pub async fn show_mfa_policy(&self, caller: &Caller) -> Result<MfaPolicy> {
        caller.require(Access::AdminRead)?;
        Ok(self.mfa_policy().await?.as_ref().clone())
    }

    /// `PUT /roster/v1/mfa-policy`: the whole policy; each named application must exist.
    /// Stored and audited; every node holds it from its next sign-in.
    pub async fn set_mfa_policy(
        &self,
        caller: &Caller,
        fields: MfaPolicyFields,
    ) -> Result<MfaPolicy> {
        caller.require(Access::Admin)?;
        let policy = fields.policy()?;
        for client_id in &policy.applications {
            if client_id == roster_domain::console::CONSOLE_CLIENT_ID {
                continue;
            }
            if self.application_by_client_id(client_id).await?.is_none() {
                return Err(Error::with_detail(
                    ErrorKind::ApplicationNotFound,
                    format!("No application has the client id '{client_id}'."),
                ));
            }
        }
        let text = serde_json::to_string(&policy)
            .map_err(|e| Error::internal(format!("the MFA policy: {e}")))?;
        self.write(&caller.client_id, put_policy, text).await?;
        self.inner.mfa_policy.clear();
        Ok(policy)
    }

    /// The MFA policy in force: the stored one, else the configuration's.
    pub(crate) async fn mfa_policy(&self) -> Result<Arc<MfaPolicy>> {
        self.policy_in_force(
            &self.inner.mfa_policy,
            read_policy,
            &self.inner.settings.mfa_policy,
            "MFA policy",
        )
        .await
    }

    /// Whether signing in to the application of `client_id` (none: no application) asks for
    /// an SMS code after the password.
    pub(crate) async fn second_factor_applies(&self, client_id: Option<&str>) -> Result<bool> {
        Ok(self.mfa_policy().await?.applies(client_id))
    }

    /// Sends `user` a new code for `purpose` (replacing the one before), unless asked for too
    /// soon or too often.
    pub(crate) async fn send_code(
        &self,
        user: &User,
        purpose: CodePurpose,
        source: IpAddr,
    ) -> Result<Checked> {
        let now = self.now();
        let code = new_code();
        let key = mobile_key(&user.mobile);
        let send = Send {
            code: VerifyCode {
                mobile_key: key,
                purpose,
                code_digest: code_digest(&code),
                sent_at: now,
                expires_at: now.saturating_add(CODE_TTL_MS),
                tries_left: CODE_TRIES,
            },
            message: self.compose(&user.mobile, purpose, purpose.text(&code), source),
            user_id: user.id.as_str().to_owned(),
        };
        let actor = crate::sign_in::actor(Some(&user.id), source);
        match self.write(&actor, store_code, send).await? {
            Ok(message) => {
                self.message_stored(&message);
                Ok(Ok(()))
            }
            Err(refusal) => Ok(Err(refusal)),
        }
    }

    /// Checks `code` against the live code of `mobile` for `purpose`: each check spends a
    /// try; the right code is spent with it.
    pub(crate) async fn check_code(
        &self,
        mobile: &str,
        purpose: CodePurpose,
        code: &str,
    ) -> Result<Checked> {
        let spend = Spend {
            key: mobile_key(mobile),
            purpose,
            digest: code_digest(code.trim()),
        };
        self.write(roster_domain::audit::SYSTEM_ACTOR, spend_code, spend)
            .await
    }
}

/// The digest a code is kept as.
fn code_digest(code: &str) -> String {
    secret::digest(code)
}

/// The user whose number has the digits `key`, if any.
pub(crate) async fn user_by_mobile(tx: &mut dyn Tx, key: &str) -> Result<Option<User>> {
    Ok(tx
        .users_by_login(key)
        .await?
        .into_iter()
        .find(|u| mobile_key(&u.mobile) == key))
}

async fn read_policy(tx: &mut dyn Tx, (): ()) -> Result<Option<String>> {
    tx.mfa_policy().await
}

async fn put_policy(tx: &mut dyn Tx, cx: &mut Cx, text: String) -> Result<()> {
    tx.put_mfa_policy(&text, cx.now).await?;
    // Every node reads the policy again at its next sign-in.
    tx.announce_change().await?;
    cx.audit("UpdateMfaPolicy", "mfa_policy", "");
    Ok(())
}

/// A code to store, with its message.
struct Send {
    code: VerifyCode,
    message: Message,
    user_id: String,
}

async fn store_code(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    send: Send,
) -> Result<std::result::Result<Message, CodeRefusal>> {
    let now = cx.now;
    let key = send.code.mobile_key.clone();
    let hour_ago = now.saturating_sub(HOUR_MS);
    let secs = |ms: Millis| (ms.max(0) + 999) / 1000;
    if tx.count_messages_to(&key, hour_ago).await? >= SENDS_PER_MOBILE_HOUR {
        let first = tx
            .first_message_to_since(&key, hour_ago)
            .await?
            .unwrap_or(now);
        return Ok(Err(CodeRefusal::TooSoon {
            retry_in_secs: secs(first + HOUR_MS - now),
        }));
    }
    let address = send.message.requested_from.clone();
    if tx.count_messages_from(&address, hour_ago).await? >= SENDS_PER_ADDRESS_HOUR {
        return Ok(Err(CodeRefusal::TooSoon {
            retry_in_secs: secs(HOUR_MS),
        }));
    }
    let resend_after = now.saturating_sub(RESEND_AFTER_MS);
    if !tx.put_verify_code(&send.code, resend_after).await? {
        let sent_at = tx
            .verify_code_sent_at(&key, send.code.purpose)
            .await?
            .unwrap_or(now);
        return Ok(Err(CodeRefusal::TooSoon {
            retry_in_secs: secs(sent_at + RESEND_AFTER_MS - now),
        }));
    }
    tx.insert_message(&send.message, &key).await?;
    cx.audit("SendVerifyCode", "user", &send.user_id);
    Ok(Ok(send.message))
}

/// A code to check.
struct Spend {
    key: String,
    purpose: CodePurpose,
    digest: String,
}

async fn spend_code(tx: &mut dyn Tx, cx: &mut Cx, spend: Spend) -> Result<Checked> {
    let Some(live) = tx
        .try_verify_code(&spend.key, spend.purpose, cx.now)
        .await?
    else {
        return Ok(Err(CodeRefusal::Expired));
    };
    if secret::constant_time_eq(&live.code_digest, &spend.digest) {
        // Taken by a check committed meanwhile: spent.
        return Ok(
            match tx
                .delete_verify_code(&spend.key, spend.purpose, &live.code_digest)
                .await?
            {
                true => Ok(()),
                false => Err(CodeRefusal::Expired),
            },
        );
    }
    if live.tries_left == 0 {
        tx.delete_verify_code(&spend.key, spend.purpose, &live.code_digest)
            .await?;
    }
    Ok(Err(CodeRefusal::Wrong {
        tries_left: live.tries_left,
    }))
}
