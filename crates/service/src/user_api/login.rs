//! `POST /api/v2/sdk/login` (OneAccess `LoginByUserNamePwd`): the password check of every
//! sign-in path (one count, one lock), who may sign in to the `X-client-id`'s application,
//! then a session token with an id_token, or a state token when a step is left.

use super::{seconds, Caller, Headers};
use crate::sign_in::{actor, millis, read_candidate, Attempt, PasswordCheck, SignInOutcome};
use crate::use_case::Cx;
use crate::Service;
use roster_domain::password_policy::{Expiry, PasswordPolicy};
use roster_domain::sign_in::Since;
use roster_domain::sso::Principal;
use roster_domain::time::Millis;
use roster_domain::user::User;
use roster_domain::user_api::{Refusal, StatePurpose, StateToken, UserApiSession};
use roster_domain::{secret, Result};
use roster_store::prelude::*;
use std::time::Duration;

/// The login's answer (the HTTP layer shapes it as the reference does).
#[derive(Debug, Clone, Default)]
pub struct LoginAnswer {
    pub status: &'static str,
    pub session_token: Option<String>,
    pub id_token: Option<String>,
    /// The session token's lifetime, in seconds.
    pub expire: Option<i64>,
    pub state_token: Option<String>,
    /// Why the login was denied (with `ACCESS_DENIED`).
    pub data: Option<String>,
}

impl LoginAnswer {
    /// A completed login: its session token, id_token and the session's lifetime.
    pub(super) fn success(session_token: String, id_token: String, ttl: Duration) -> Self {
        Self {
            status: "SUCCESS",
            session_token: Some(session_token),
            id_token: Some(id_token),
            expire: Some(seconds(ttl)),
            ..Self::default()
        }
    }

    pub(super) fn denied(why: &str) -> Self {
        Self {
            status: "ACCESS_DENIED",
            data: Some(why.to_owned()),
            ..Self::default()
        }
    }
}

impl Service {
    /// `POST /api/v2/sdk/login`.
    pub async fn user_api_login(
        &self,
        headers: Headers<'_>,
        user_name: Option<&str>,
        password: Option<&str>,
        issuer: &str,
    ) -> Result<LoginAnswer> {
        let caller = self.user_api_caller(&headers).await?;
        let user_name = user_name
            .filter(|v| !v.is_empty())
            .ok_or_else(|| self.refuse(Refusal::Required("user_name")))?;
        let password = password
            .filter(|v| !v.is_empty())
            .ok_or_else(|| self.refuse(Refusal::Required("password")))?;
        let attempt = Attempt {
            source: caller.source,
            application: caller.app.id.as_str(),
        };
        // Before the user is read: a change of the user committed after it voids the login.
        let auth_time = self.now();
        let user = match self.check_password(user_name, password, attempt).await? {
            PasswordCheck::Right(user) => user,
            PasswordCheck::Wrong(outcome) => return self.refused_login(outcome, true),
            PasswordCheck::Unknown(outcome) => return self.refused_login(outcome, false),
        };
        let found = self
            .read(
                read_candidate,
                (caller.app.id.clone(), user.id.clone(), false),
            )
            .await?;
        let no_account = found.principal.is_none();
        let principal = match found.admit(&caller.app, self.now(), Since::signed_in(auth_time)) {
            Ok(principal) => principal,
            Err(why) => {
                self.audit_refused_sign_in(&user.id, &caller.app, caller.source)
                    .await?;
                if no_account {
                    return Err(self.refuse(Refusal::NotBound));
                }
                return Ok(LoginAnswer::denied(why));
            }
        };
        // The second factor first: a password change is made by whoever gave it.
        if self
            .second_factor_applies(Some(&caller.app.client_id))
            .await?
        {
            return self
                .state_token(&caller, &principal, StatePurpose::SecondFactor, auth_time)
                .await;
        }
        let policy = self.password_policy().await?;
        match step_left(&principal.user, &policy, self.now()) {
            Some(purpose) => {
                self.state_token(&caller, &principal, purpose, auth_time)
                    .await
            }
            None => self.begin(&caller, &principal, auth_time, issuer).await,
        }
    }

    /// A wrong password, a lock or a disabled user, in the configured style.
    fn refused_login(&self, outcome: SignInOutcome, name_known: bool) -> Result<LoginAnswer> {
        let refusal = match outcome {
            SignInOutcome::WrongPassword { remaining } if name_known => {
                Refusal::WrongPassword { remaining }
            }
            SignInOutcome::WrongPassword { remaining } => Refusal::UnknownUser { remaining },
            SignInOutcome::Locked { .. } if !name_known => Refusal::UnknownUser { remaining: 0 },
            SignInOutcome::Locked { unlock_in_secs } => Refusal::Locked { unlock_in_secs },
            SignInOutcome::Disabled => return Ok(LoginAnswer::denied("The user is disabled.")),
            // Only the login page's own outcomes: a password check gives neither.
            SignInOutcome::SignedIn(_)
            | SignInOutcome::ChangePassword { .. }
            | SignInOutcome::SecondFactor { .. } => {
                return Ok(LoginAnswer::denied("Not signed in."))
            }
        };
        Err(self.refuse(refusal))
    }

    /// Completes a login: a session token for `principal` in the caller's application, with
    /// an id_token.
    pub(super) async fn begin(
        &self,
        caller: &Caller,
        principal: &Principal,
        auth_time: Millis,
        issuer: &str,
    ) -> Result<LoginAnswer> {
        let session_token = secret::generate();
        let ttl = self.user_api_settings().session_ttl;
        let session = UserApiSession {
            digest: secret::digest(&session_token),
            application_id: caller.app.id.clone(),
            user_id: principal.user.id.clone(),
            device_fingerprint: caller.device_fingerprint.clone(),
            auth_time,
            created_at: auth_time,
            expires_at: self.now().saturating_add(millis(ttl)),
        };
        let id_token = self
            .user_api_id_token(&caller.app, &principal.user, issuer)
            .await?;
        let actor = actor(Some(&principal.user.id), caller.source);
        self.write(&actor, insert_session, session).await?;
        metrics::counter!("roster_sign_ins_total", "to" => "user_api").increment(1);
        Ok(LoginAnswer::success(session_token, id_token, ttl))
    }

    /// Hands out a state token for the step left.
    async fn state_token(
        &self,
        caller: &Caller,
        principal: &Principal,
        purpose: StatePurpose,
        auth_time: Millis,
    ) -> Result<LoginAnswer> {
        let token = secret::generate();
        let row = StateToken {
            digest: secret::digest(&token),
            application_id: caller.app.id.clone(),
            user_id: principal.user.id.clone(),
            device_fingerprint: caller.device_fingerprint.clone(),
            purpose,
            auth_time,
            expires_at: self.now().saturating_add(state_token_ms(self)),
        };
        let actor = actor(Some(&principal.user.id), caller.source);
        self.write(&actor, insert_state_token, row).await?;
        Ok(LoginAnswer {
            status: purpose.status(),
            state_token: Some(token),
            ..LoginAnswer::default()
        })
    }
}

/// How long a state token waits for its step.
pub(super) fn state_token_ms(service: &Service) -> Millis {
    millis(service.user_api_settings().state_token_ttl)
}

/// The step a user must take before a session begins, if any: a password that must be
/// changed (`pwd_must_modify`) or has expired, or one that expires soon.
pub(super) fn step_left(user: &User, policy: &PasswordPolicy, now: Millis) -> Option<StatePurpose> {
    if user.pwd_must_modify {
        return Some(StatePurpose::PasswordExpired);
    }
    let changed_at = user.pwd_change_at.unwrap_or(user.created_at);
    match policy.expiry(changed_at, now) {
        Expiry::Expired => Some(StatePurpose::PasswordExpired),
        Expiry::Soon => Some(StatePurpose::PasswordWarn),
        Expiry::Fresh => None,
    }
}

async fn insert_session(tx: &mut dyn Tx, cx: &mut Cx, session: UserApiSession) -> Result<()> {
    tx.insert_user_api_session(&session).await?;
    cx.audit("SignIn", "application", session.application_id.as_str());
    Ok(())
}

async fn insert_state_token(tx: &mut dyn Tx, _cx: &mut Cx, token: StateToken) -> Result<()> {
    tx.insert_state_token(&token).await
}
