//! A second factor and recovery by SMS code (OneAccess's 二次认证 and 密码管理):
//! `GET /api/v2/sdk/mobile-by-token` (`ShowMobileByStateToken`), `POST /api/v2/sdk/sms/send`
//! (`SendSmsVerifyCode`), `POST /api/v2/sdk/mfa/sms` (`SecondaryAuthByMobileVerifyCode`) and
//! `POST /api/v2/sdk/pwd/update-by-mobile` (`GetBackPwdByMobile`). Codes and their messages
//! come from `crate::second_factor`.

use super::login::{step_left, LoginAnswer};
use super::{present, Caller, Headers};
use crate::second_factor::user_by_mobile;
use crate::sign_in::actor;
use crate::use_case::Cx;
use crate::Service;
use roster_domain::second_factor::{code_key, CodePurpose, CodeRefusal};
use roster_domain::user::{mobile_key, validate_password, User, UserId};
use roster_domain::user_api::{ErrorStyle, Refusal, StatePurpose, StateToken};
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;

/// The step a code completes.
const SECOND_FACTOR: &[StatePurpose] = &[StatePurpose::SecondFactor];
const SPENT: &str = "X-state-token is unknown, spent or ended.";

impl Service {
    /// `GET /api/v2/sdk/mobile-by-token`: the number the second factor's code goes to.
    pub async fn user_api_mobile_by_token(
        &self,
        headers: Headers<'_>,
        state_token: Option<&str>,
    ) -> Result<String> {
        let caller = self.user_api_caller(&headers).await?;
        let token = self
            .live_state_token(&caller, state_token, SECOND_FACTOR)
            .await?;
        Ok(self.read(read_user, token.user_id).await?.mobile)
    }

    /// `POST /api/v2/sdk/sms/send`: a code to a directory user's number, for the second
    /// factor (`OTP_REST_SMS`, `LOGIN_SMS`) or a new password (`FORGET_PWD_SMS`). The
    /// `captcha_token` must be there but is not checked (Roster has no slider captcha; the
    /// rates per number and address hold instead). To a number no user has, nothing is sent:
    /// the oneaccess style still answers 200, so that numbers cannot be probed; bamboocloud
    /// answers `SDK.COMMON.1013`.
    pub async fn user_api_send_code(
        &self,
        headers: Headers<'_>,
        mobile: Option<&str>,
        sms_type: Option<&str>,
        captcha_token: Option<&str>,
    ) -> Result<()> {
        let caller = self.user_api_caller(&headers).await?;
        let mobile = present(mobile).ok_or_else(|| self.refuse(Refusal::Required("mobile")))?;
        let sms_type = present(sms_type).ok_or_else(|| self.refuse(Refusal::Required("type")))?;
        if present(captcha_token).is_none() {
            return Err(self.refuse(Refusal::CaptchaRequired));
        }
        let purpose =
            CodePurpose::of_sms_type(sms_type).map_err(|e| self.refuse(Refusal::SmsType(e)))?;
        let key = code_key(mobile).ok_or_else(not_a_number)?;
        let Some(user) = self.read(read_user_by_mobile, key).await? else {
            return match self.user_api_settings().error_style {
                ErrorStyle::BambooCloud => Err(self.refuse(Refusal::UnknownUser { remaining: 0 })),
                ErrorStyle::OneAccess => Ok(()),
            };
        };
        self.send_code(&user, purpose, caller.source)
            .await?
            .map_err(|r| self.refuse(Refusal::Code(r)))
    }

    /// `POST /api/v2/sdk/mfa/sms`: the second factor of a login that answered `MFA_AUTH`.
    /// The code right, the login completes (or goes on to a password change that is due,
    /// with a new state token).
    pub async fn user_api_second_factor(
        &self,
        headers: Headers<'_>,
        state_token: Option<&str>,
        mobile: Option<&str>,
        verify_code: Option<&str>,
        issuer: &str,
    ) -> Result<LoginAnswer> {
        let caller = self.user_api_caller(&headers).await?;
        let token = self
            .live_state_token(&caller, state_token, SECOND_FACTOR)
            .await?;
        let mobile = present(mobile).ok_or_else(|| self.refuse(Refusal::Required("mobile")))?;
        let code = present(verify_code).ok_or_else(|| self.refuse(Refusal::CodeRequired))?;
        let user = self.read(read_user, token.user_id.clone()).await?;
        if mobile_key(mobile) != mobile_key(&user.mobile) {
            return Err(self.refuse(Refusal::MobileMismatch));
        }
        self.check_code(&user.mobile, CodePurpose::SecondFactor, code)
            .await?
            .map_err(|r| self.refuse(Refusal::Code(r)))?;
        let policy = self.password_policy().await?;
        match step_left(&user, &policy, self.now()) {
            Some(next) => self.next_step(&caller, token, next).await,
            None => self.complete_step(&caller, token, None, issuer).await,
        }
    }

    /// `POST /api/v2/sdk/pwd/update-by-mobile`: a forgotten password replaced, with a code
    /// sent for `FORGET_PWD_SMS`. The new password is held to the policy before the code is
    /// spent; the change ends what the user signed in with before and lifts a lock.
    pub async fn user_api_reset_password(
        &self,
        headers: Headers<'_>,
        mobile: Option<&str>,
        verify_code: Option<&str>,
        password: Option<&str>,
    ) -> Result<()> {
        let caller = self.user_api_caller(&headers).await?;
        let mobile = present(mobile).ok_or_else(|| self.refuse(Refusal::Required("mobile")))?;
        let code = present(verify_code).ok_or_else(|| self.refuse(Refusal::CodeRequired))?;
        let password = password
            .filter(|p| !p.is_empty())
            .ok_or_else(|| self.refuse(Refusal::Required("password")))?;
        let key = code_key(mobile).ok_or_else(not_a_number)?;
        let password = validate_password(Some(password.to_owned()))?.unwrap_or_default();
        // No user has the number: no code could have been sent to it.
        let user = self
            .read(read_user_by_mobile, key)
            .await?
            .ok_or_else(|| self.refuse(Refusal::Code(CodeRefusal::Expired)))?;
        if user.disabled {
            return Err(Error::with_detail(
                ErrorKind::SignInDenied,
                "The user is disabled.",
            ));
        }
        self.check_new_password(Some(&user.id), &password).await?;
        self.check_code(&user.mobile, CodePurpose::PasswordReset, code)
            .await?
            .map_err(|r| self.refuse(Refusal::Code(r)))?;
        let hash = self.inner.passwords.hash(password).await?;
        let actor = actor(Some(&user.id), caller.source);
        self.write(&actor, reset_password, (user.id, hash)).await
    }

    /// Spends the state token and hands out one for the step left after it: one
    /// transaction.
    async fn next_step(
        &self,
        caller: &Caller,
        token: StateToken,
        next: StatePurpose,
    ) -> Result<LoginAnswer> {
        let new_token = secret::generate();
        let ttl = super::login::state_token_ms(self);
        let row = StateToken {
            digest: secret::digest(&new_token),
            purpose: next,
            expires_at: self.now().saturating_add(ttl),
            ..token.clone()
        };
        let actor = actor(Some(&token.user_id), caller.source);
        let style = self.user_api_settings().error_style;
        self.write(&actor, swap_state_token, (token.digest, row, style))
            .await?;
        Ok(LoginAnswer {
            status: next.status(),
            state_token: Some(new_token),
            ..LoginAnswer::default()
        })
    }
}

fn not_a_number() -> Error {
    Error::invalid("mobile is not a phone number.")
}

async fn read_user(tx: &mut dyn Tx, user_id: UserId) -> Result<User> {
    crate::lookups::existing_user(tx, &user_id).await
}

async fn read_user_by_mobile(tx: &mut dyn Tx, key: String) -> Result<Option<User>> {
    user_by_mobile(tx, &key).await
}

async fn swap_state_token(
    tx: &mut dyn Tx,
    _cx: &mut Cx,
    (spent, next, style): (String, StateToken, ErrorStyle),
) -> Result<()> {
    if !tx.delete_state_token(&spent).await? {
        return Err(Refusal::StateTokenInvalid(SPENT).error(style));
    }
    tx.insert_state_token(&next).await
}

async fn reset_password(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (user_id, hash): (UserId, String),
) -> Result<()> {
    let mut user = crate::lookups::existing_user(tx, &user_id).await?;
    user.pwd_must_modify = false;
    crate::password_policy::set_password(tx, &mut user, hash, cx.now).await?;
    tx.set_sign_in_lock(&user_id, Default::default(), cx.now)
        .await?;
    cx.audit("GetBackPwdByMobile", "user", user_id.as_str());
    Ok(())
}
