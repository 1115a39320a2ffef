//! The login page's second step when the MFA policy asks for one: a code sent by SMS to the
//! user's number (on entering the step, and again on request), entered on the page. The
//! session it begins notes the second factor, so that an application asking for one is
//! signed in to without asking again; a session without one signs in again for it.

use super::step_token::{Step, Vouched};
use super::{Begin, SignInOutcome};
use crate::Service;
use roster_domain::second_factor::{masked_mobile, CodePurpose, CodeRefusal};
use roster_domain::time::Millis;
use roster_domain::user::User;
use roster_domain::{secret, Error, ErrorKind, Result};
use std::net::IpAddr;

/// The code step's form.
#[derive(Debug, Clone, Copy)]
pub struct CodeAtLogin<'a> {
    pub step_token: &'a str,
    pub code: &'a str,
    pub source: IpAddr,
    pub previous_session: Option<&'a str>,
}

impl Service {
    /// Sends the code and gives the step. A code sent within the last minute still serves:
    /// none is sent again then.
    pub(super) async fn second_factor_step(
        &self,
        user: &User,
        auth_time: Millis,
        source: IpAddr,
    ) -> Result<SignInOutcome> {
        match self
            .send_code(user, CodePurpose::SecondFactor, source)
            .await?
        {
            Ok(()) | Err(CodeRefusal::TooSoon { .. }) => {}
            Err(refusal) => return Err(refusal.error()),
        }
        Ok(SignInOutcome::SecondFactor {
            token: self.step_token(Step::SecondFactor, user, auth_time, None),
            mobile: masked_mobile(&user.mobile),
        })
    }

    /// The code step's form: the code right, on to the password change if one is due, else a
    /// session noting the second factor. A wrong code is `CODE.0001` with the tries left; a
    /// spent one `CODE.0002`; an expired step `SESSION.0002`.
    pub async fn sign_in_with_code(&self, step: CodeAtLogin<'_>) -> Result<SignInOutcome> {
        let Vouched {
            user, auth_time, ..
        } = self
            .read_step_token(Step::SecondFactor, step.step_token)
            .await?;
        let code = step.code.trim();
        if code.is_empty() {
            return Err(Error::new(ErrorKind::VerifyCodeRequired));
        }
        if let Err(refusal) = self
            .check_code(&user.mobile, CodePurpose::SecondFactor, code)
            .await?
        {
            return Err(refusal.error());
        }
        let begin = Begin {
            digest: String::new(),
            lifetime: super::millis(self.sign_in_settings().session_lifetime),
            user: user.id.clone(),
            previous: step.previous_session.map(secret::digest),
            application_id: String::new(),
            auth_time,
            second_factor_at: Some(self.now()),
        };
        self.after_checks(&user, begin, step.source).await
    }

    /// Sends the code of the step again (at most one a minute).
    pub async fn resend_sign_in_code(
        &self,
        step_token: &str,
        source: IpAddr,
    ) -> Result<SignInOutcome> {
        let Vouched {
            user, auth_time, ..
        } = self.read_step_token(Step::SecondFactor, step_token).await?;
        if let Err(refusal) = self
            .send_code(&user, CodePurpose::SecondFactor, source)
            .await?
        {
            return Err(refusal.error());
        }
        Ok(SignInOutcome::SecondFactor {
            token: self.step_token(Step::SecondFactor, &user, auth_time, None),
            mobile: masked_mobile(&user.mobile),
        })
    }
}
