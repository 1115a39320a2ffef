//! The steps a state token leaves before a login completes: `POST /api/v2/sdk/pwd/update`
//! (OneAccess `ForceUpdatePwd`: the password expired, is about to, or must be changed) and
//! `GET /api/v2/sdk/pwd/skip-update` (`SkipForceUpdatePwd`: only when it is about to).
//! A state token is spent by its step; the step and the session it begins are one
//! transaction.

use super::login::LoginAnswer;
use super::{Caller, Headers};
use crate::sign_in::{actor, candidate, millis, Attempt, PasswordCheck, SignInOutcome};
use crate::use_case::Cx;
use crate::Service;
use roster_domain::application::ApplicationId;
use roster_domain::sign_in::Since;
use roster_domain::time::Millis;
use roster_domain::user::{validate_password, User};
use roster_domain::user_api::{ErrorStyle, Refusal, StatePurpose, StateToken, UserApiSession};
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;

/// The steps a password change completes.
const CHANGE: &[StatePurpose] = &[StatePurpose::PasswordWarn, StatePurpose::PasswordExpired];
/// The step that may be skipped.
const SKIP: &[StatePurpose] = &[StatePurpose::PasswordWarn];
const SPENT: &str = "X-state-token is unknown, spent or ended.";

impl Service {
    /// `POST /api/v2/sdk/pwd/update`: checks the old password (counted like any other),
    /// sets the new one, ends what the user signed in with before, and completes the login.
    pub async fn user_api_change_password(
        &self,
        headers: Headers<'_>,
        state_token: Option<&str>,
        old_password: Option<&str>,
        new_password: Option<&str>,
        issuer: &str,
    ) -> Result<LoginAnswer> {
        let caller = self.user_api_caller(&headers).await?;
        let token = self.live_state_token(&caller, state_token, CHANGE).await?;
        let old = old_password
            .filter(|p| !p.is_empty())
            .ok_or_else(|| self.refuse(Refusal::Required("old_password")))?;
        let new = new_password
            .filter(|p| !p.is_empty())
            .ok_or_else(|| self.refuse(Refusal::Required("new_password")))?;
        let new = validate_password(Some(new.to_owned()))?.unwrap_or_default();
        let user = self.read(read_user, token.user_id.clone()).await?;
        self.check_new_password(Some(&user.id), &new).await?;
        let attempt = Attempt {
            source: caller.source,
            application: caller.app.id.as_str(),
        };
        match self.check_password(&user.user_name, old, attempt).await? {
            PasswordCheck::Right(checked) if checked.id == user.id => {}
            PasswordCheck::Right(_) | PasswordCheck::Unknown(_) => {
                return Err(self.refuse(Refusal::StateTokenInvalid(
                    "The user of the state token was renamed or deleted.",
                )))
            }
            PasswordCheck::Wrong(SignInOutcome::Locked { unlock_in_secs }) => {
                return Err(self.refuse(Refusal::Locked { unlock_in_secs }))
            }
            PasswordCheck::Wrong(SignInOutcome::WrongPassword { remaining }) => {
                return Err(self.refuse(Refusal::WrongPassword { remaining }))
            }
            PasswordCheck::Wrong(_) => return Ok(LoginAnswer::denied("The user is disabled.")),
        }
        let hash = self.inner.passwords.hash(new).await?;
        self.complete_step(&caller, token, Some(hash), issuer).await
    }

    /// `GET /api/v2/sdk/pwd/skip-update`: the password is about to expire, and the user
    /// goes on without changing it.
    pub async fn user_api_skip_password_change(
        &self,
        headers: Headers<'_>,
        state_token: Option<&str>,
        issuer: &str,
    ) -> Result<LoginAnswer> {
        let caller = self.user_api_caller(&headers).await?;
        let token = self.live_state_token(&caller, state_token, SKIP).await?;
        self.complete_step(&caller, token, None, issuer).await
    }

    /// The state token of `X-state-token`, if it is live, the caller's application's, and
    /// for one of `purposes`.
    pub(super) async fn live_state_token(
        &self,
        caller: &Caller,
        state_token: Option<&str>,
        purposes: &[StatePurpose],
    ) -> Result<StateToken> {
        let text = state_token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.refuse(Refusal::Required("X-state-token")))?;
        let found = match text.len() <= 200 {
            true => self.read(read_state_token, secret::digest(text)).await?,
            false => None,
        };
        let refusal = match found {
            None => SPENT,
            Some(t) if t.application_id != caller.app.id => {
                "X-state-token belongs to another application."
            }
            Some(t) if t.expires_at <= self.now() => "X-state-token expired.",
            Some(t) if !purposes.contains(&t.purpose) => {
                "X-state-token is for another step of the login."
            }
            Some(t) => return Ok(t),
        };
        Err(self.refuse(Refusal::StateTokenInvalid(refusal)))
    }

    /// Spends the state token, sets the new password if there is one, and begins the
    /// session: one transaction.
    pub(super) async fn complete_step(
        &self,
        caller: &Caller,
        token: StateToken,
        new_password_hash: Option<String>,
        issuer: &str,
    ) -> Result<LoginAnswer> {
        let session_token = secret::generate();
        let ttl = self.user_api_settings().session_ttl;
        let step = Step {
            token,
            application_id: caller.app.id.clone(),
            new_password_hash,
            session_digest: secret::digest(&session_token),
            device_fingerprint: caller.device_fingerprint.clone(),
            session_ms: millis(ttl),
            style: self.user_api_settings().error_style,
        };
        let user_id = step.token.user_id.clone();
        let actor = actor(Some(&user_id), caller.source);
        let user = match self.write(&actor, complete, step).await {
            Ok(user) => user,
            Err(e) if e.kind() == ErrorKind::SignInDenied => {
                return Ok(LoginAnswer::denied(e.detail().unwrap_or_default()))
            }
            Err(e) => return Err(e),
        };
        let id_token = self.user_api_id_token(&caller.app, &user, issuer).await?;
        metrics::counter!("roster_sign_ins_total", "to" => "user_api").increment(1);
        Ok(LoginAnswer::success(session_token, id_token, ttl))
    }
}

async fn read_user(tx: &mut dyn Tx, user_id: roster_domain::user::UserId) -> Result<User> {
    crate::lookups::existing_user(tx, &user_id).await
}

async fn read_state_token(tx: &mut dyn Tx, digest: String) -> Result<Option<StateToken>> {
    tx.state_token(&digest).await
}

/// A step to complete in one transaction.
struct Step {
    token: StateToken,
    application_id: ApplicationId,
    new_password_hash: Option<String>,
    session_digest: String,
    device_fingerprint: String,
    session_ms: Millis,
    style: ErrorStyle,
}

async fn complete(tx: &mut dyn Tx, cx: &mut Cx, step: Step) -> Result<User> {
    if !tx.delete_state_token(&step.token.digest).await? {
        return Err(Refusal::StateTokenInvalid(SPENT).error(step.style));
    }
    let user_id = step.token.user_id.clone();
    let mut auth_time = step.token.auth_time;
    if let Some(hash) = step.new_password_hash {
        let mut user = crate::lookups::existing_user(tx, &user_id).await?;
        user.pwd_must_modify = false;
        crate::password_policy::set_password(tx, &mut user, hash, cx.now).await?;
        // The session this change begins counts from just after it.
        auth_time = cx.now.saturating_add(1);
        cx.audit("ForceUpdatePwd", "user", user_id.as_str());
    }
    let found = candidate(tx, &step.application_id, &user_id, false).await?;
    let app = crate::lookups::existing_application(tx, &step.application_id).await?;
    // Refused: an error, so that the spend and the change are undone with it.
    let principal = found
        .admit(&app, cx.now, Since::signed_in(auth_time))
        .map_err(|why| Error::with_detail(ErrorKind::SignInDenied, why))?;
    tx.insert_user_api_session(&UserApiSession {
        digest: step.session_digest,
        application_id: step.application_id.clone(),
        user_id,
        device_fingerprint: step.device_fingerprint,
        auth_time,
        created_at: cx.now,
        expires_at: cx.now.saturating_add(step.session_ms),
    })
    .await?;
    cx.audit("SignIn", "application", step.application_id.as_str());
    Ok(principal.user)
}
