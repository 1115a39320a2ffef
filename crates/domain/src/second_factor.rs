//! A second factor by SMS code, and codes that recover a forgotten password (OneAccess's
//! 二次认证 and 密码管理): who must give a code (the MFA policy), what a code is and how long
//! and how often it may be tried, and how often one may be asked for.

use crate::time::Millis;
use crate::user::mobile_key;
use crate::{Error, ErrorKind, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Digits of a code.
pub const CODE_DIGITS: usize = 6;
/// How long a code may be used.
pub const CODE_TTL_MS: Millis = 5 * 60_000;
/// Wrong codes that spend a code.
pub const CODE_TRIES: i64 = 5;
/// How soon another code may be sent to the same number for the same purpose.
pub const RESEND_AFTER_MS: Millis = 60_000;
/// Codes sent to one number within an hour, at most.
pub const SENDS_PER_MOBILE_HOUR: i64 = 10;
/// Codes asked for from one address within an hour, at most.
pub const SENDS_PER_ADDRESS_HOUR: i64 = 30;
/// Applications an MFA policy may name.
const MAX_NAMED_APPLICATIONS: usize = 1000;

/// Who must give an SMS code after the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MfaMode {
    /// Nobody: the password alone signs in.
    #[default]
    Off,
    /// Everyone, whatever they sign in to.
    Everyone,
    /// Whoever signs in to one of the named applications.
    Applications,
}

impl MfaMode {
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        match s {
            "off" => Ok(Self::Off),
            "everyone" => Ok(Self::Everyone),
            "applications" => Ok(Self::Applications),
            other => Err(format!(
                "unknown MFA mode '{other}': use off, everyone or applications"
            )),
        }
    }
}

/// The tenant's MFA policy (`GET|PUT /roster/v1/mfa-policy`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MfaPolicy {
    pub mode: MfaMode,
    /// The client ids of the applications that ask for a code (with `applications`).
    #[serde(default)]
    pub applications: Vec<String>,
}

/// `PUT /roster/v1/mfa-policy`'s body: the whole policy (`mode` required; no
/// `applications`: none).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MfaPolicyFields {
    pub mode: Option<MfaMode>,
    /// The client ids of the applications that ask for a code (with `applications`).
    pub applications: Option<Vec<String>>,
}

impl MfaPolicyFields {
    /// The policy these fields make, checked.
    pub fn policy(self) -> Result<MfaPolicy> {
        let mode = self
            .mode
            .ok_or_else(|| Error::invalid("mode is required: off, everyone or applications."))?;
        MfaPolicy {
            mode,
            applications: self.applications.unwrap_or_default(),
        }
        .validated()
    }
}

impl MfaPolicy {
    /// Checks the policy's shape: named applications only with `applications`, each once.
    pub fn validated(mut self) -> Result<Self> {
        self.applications = self
            .applications
            .into_iter()
            .map(|a| a.trim().to_owned())
            .collect();
        if self.applications.iter().any(String::is_empty) {
            return Err(Error::invalid("applications: a client id is empty."));
        }
        if self.applications.len() > MAX_NAMED_APPLICATIONS {
            return Err(Error::invalid(format!(
                "applications: at most {MAX_NAMED_APPLICATIONS} client ids."
            )));
        }
        if self.mode != MfaMode::Applications && !self.applications.is_empty() {
            return Err(Error::invalid(
                "applications: named only with the mode \"applications\".",
            ));
        }
        self.applications.sort();
        self.applications.dedup();
        Ok(self)
    }

    /// Whether signing in to the application of `client_id` (none: the login page alone, or
    /// the user portal) asks for a code.
    pub fn applies(&self, client_id: Option<&str>) -> bool {
        match self.mode {
            MfaMode::Off => false,
            MfaMode::Everyone => true,
            MfaMode::Applications => client_id.is_some_and(|c| {
                self.applications
                    .binary_search_by(|a| a.as_str().cmp(c))
                    .is_ok()
            }),
        }
    }
}

/// What a code is for. A code for one purpose never serves another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// The second factor of a sign-in (`MFA_AUTH`, and the login page's second step).
    SecondFactor,
    /// A new password for a forgotten one (`POST /api/v2/sdk/pwd/update-by-mobile`).
    PasswordReset,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SecondFactor => "second_factor",
            Self::PasswordReset => "password_reset",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::SecondFactor, Self::PasswordReset]
            .into_iter()
            .find(|p| p.as_str() == s)
    }

    /// The purpose of a `type` of `POST /api/v2/sdk/sms/send`. `OTP_REST_SMS` (二次认证短信)
    /// is the second factor's; `LOGIN_SMS` serves it too, for clients written before that
    /// type was documented. The others send nothing Roster would read back.
    pub fn of_sms_type(sms_type: &str) -> std::result::Result<Self, SmsTypeRefused> {
        match sms_type {
            "OTP_REST_SMS" | "LOGIN_SMS" => Ok(Self::SecondFactor),
            "FORGET_PWD_SMS" => Ok(Self::PasswordReset),
            "REGISTER_SMS" | "BIND_MOBILE_SMS" | "UPDATE_MOBILE_SMS" => {
                Err(SmsTypeRefused::NotServed)
            }
            _ => Err(SmsTypeRefused::Unknown),
        }
    }

    /// The message's text, with the code.
    pub fn text(self, code: &str) -> String {
        let minutes = CODE_TTL_MS / 60_000;
        match self {
            Self::SecondFactor => format!(
                "Your sign-in verification code is {code}. It expires in {minutes} minutes. \
                 Do not share it."
            ),
            Self::PasswordReset => format!(
                "Your password reset code is {code}. It expires in {minutes} minutes. \
                 If you did not ask for it, ignore this message."
            ),
        }
    }
}

/// Why a `type` of `POST /api/v2/sdk/sms/send` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsTypeRefused {
    /// A type of the reference that Roster serves no use of (registration, binding a number).
    NotServed,
    Unknown,
}

/// The types `POST /api/v2/sdk/sms/send` takes.
pub const SERVED_SMS_TYPES: &str = "OTP_REST_SMS, LOGIN_SMS or FORGET_PWD_SMS";

/// A code sent and not yet used (its digest only is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyCode {
    /// The number's digits ([`mobile_key`]).
    pub mobile_key: String,
    pub purpose: CodePurpose,
    pub code_digest: String,
    pub sent_at: Millis,
    pub expires_at: Millis,
    /// Wrong codes still allowed.
    pub tries_left: i64,
}

/// A new code: [`CODE_DIGITS`] random digits.
pub fn new_code() -> String {
    let mut rng = rand::thread_rng();
    (0..CODE_DIGITS)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// Whether `code` has a code's shape (so that anything else is refused before it spends a
/// try).
pub fn is_code_shaped(code: &str) -> bool {
    code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// The key codes are kept under for a number as a client spells it: its digits.
pub fn code_key(mobile: &str) -> Option<String> {
    let key = mobile_key(mobile);
    (key.len() >= 5 && key.len() <= 20 && mobile.len() <= 32).then_some(key)
}

/// A number as a page shows it to someone not yet signed in: the last four digits.
pub fn masked_mobile(mobile: &str) -> String {
    let digits: Vec<char> = mobile.chars().filter(char::is_ascii_digit).collect();
    let hidden = digits.len().saturating_sub(4);
    let tail: String = digits.iter().skip(hidden).collect();
    format!("{}{tail}", "*".repeat(hidden.min(7)))
}

/// Why a code is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    /// None was sent, or it expired, was used, or was tried too often.
    Expired,
    /// Wrong, with this many tries left.
    Wrong { tries_left: i64 },
    /// Asked for again too soon or too often; may be asked for in this many seconds.
    TooSoon { retry_in_secs: i64 },
}

impl CodeRefusal {
    /// The error in OneAccess's style (Roster's own codes: the reference documents none).
    pub fn error(self) -> Error {
        match self {
            Self::Expired => Error::new(ErrorKind::VerifyCodeExpired),
            Self::Wrong { tries_left } => Error::with_detail(
                ErrorKind::VerifyCodeWrong,
                format!("Tries left: {tries_left}."),
            ),
            Self::TooSoon { retry_in_secs } => Error::with_detail(
                ErrorKind::TooManyCodes,
                format!("Try again in {retry_in_secs} seconds."),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_applies_as_its_mode_says() {
        let off = MfaPolicy::default();
        assert!(!off.applies(None) && !off.applies(Some("a")));
        let everyone = MfaPolicy {
            mode: MfaMode::Everyone,
            applications: vec![],
        };
        assert!(everyone.applies(None) && everyone.applies(Some("a")));
        let named = MfaPolicy {
            mode: MfaMode::Applications,
            applications: vec![" b ".into(), "a".into(), "a".into()],
        }
        .validated()
        .unwrap();
        assert_eq!(named.applications, ["a", "b"]);
        assert!(named.applies(Some("a")) && named.applies(Some("b")));
        assert!(!named.applies(Some("c")) && !named.applies(None));
    }

    #[test]
    fn applications_are_named_only_with_their_mode() {
        let wrong = MfaPolicy {
            mode: MfaMode::Everyone,
            applications: vec!["a".into()],
        };
        assert!(wrong.validated().is_err());
        let empty = MfaPolicy {
            mode: MfaMode::Applications,
            applications: vec![" ".into()],
        };
        assert!(empty.validated().is_err());
    }

    #[test]
    fn codes_are_six_random_digits() {
        let a = new_code();
        assert!(is_code_shaped(&a));
        assert!((0..20).map(|_| new_code()).any(|b| b != a));
        assert!(!is_code_shaped("12345") && !is_code_shaped("12345a"));
    }

    #[test]
    fn sms_types_map_to_purposes() {
        assert_eq!(
            CodePurpose::of_sms_type("OTP_REST_SMS"),
            Ok(CodePurpose::SecondFactor)
        );
        assert_eq!(
            CodePurpose::of_sms_type("FORGET_PWD_SMS"),
            Ok(CodePurpose::PasswordReset)
        );
        assert_eq!(
            CodePurpose::of_sms_type("REGISTER_SMS"),
            Err(SmsTypeRefused::NotServed)
        );
        assert_eq!(CodePurpose::of_sms_type("x"), Err(SmsTypeRefused::Unknown));
    }

    #[test]
    fn masking_keeps_the_last_four_digits() {
        assert_eq!(masked_mobile("13800001234"), "*******1234");
        assert_eq!(masked_mobile("+86-138-0000-1234"), "*******1234");
        assert_eq!(masked_mobile("12"), "12");
        assert_eq!(code_key("138-0000-1234").as_deref(), Some("13800001234"));
        assert_eq!(code_key("12"), None);
    }
}
