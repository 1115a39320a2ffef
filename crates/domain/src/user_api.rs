//! The user APIs (`/api/v2/sdk/*`, OneAccess's 用户类接口): what a native or server-side
//! sign-in leaves in the store (session tokens, state tokens, SSO tickets, spent signature
//! nonces, each application's signature key), and why a call is refused, in either of the
//! two error styles clients were written against.

use crate::application::ApplicationId;
use crate::time::Millis;
use crate::user::UserId;
use crate::{Error, ErrorKind};

/// How the user APIs word their refusals: Huawei's OneAccess documents `LOGIN.*`/`PARAM.*`
/// codes; Bamboo Cloud, which OneAccess is an OEM build of, answers `SDK.*` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorStyle {
    #[default]
    OneAccess,
    BambooCloud,
}

impl ErrorStyle {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "oneaccess" => Ok(Self::OneAccess),
            "bamboocloud" => Ok(Self::BambooCloud),
            other => Err(format!(
                "unknown error style '{other}': use oneaccess or bamboocloud"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneAccess => "oneaccess",
            Self::BambooCloud => "bamboocloud",
        }
    }
}

/// A session token of a user-API login, stored by its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserApiSession {
    pub digest: String,
    pub application_id: ApplicationId,
    pub user_id: UserId,
    /// The `X-device-fingerprint` of the login: SSO tickets are issued to that device only.
    pub device_fingerprint: String,
    /// When the password was checked.
    pub auth_time: Millis,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// What a state token lets its holder do before the login completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatePurpose {
    /// The password expires soon: change it, or skip.
    PasswordWarn,
    /// The password expired or must be changed: change it.
    PasswordExpired,
    /// A second factor is due.
    SecondFactor,
}

impl StatePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordWarn => "password_warn",
            Self::PasswordExpired => "password_expired",
            Self::SecondFactor => "second_factor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::PasswordWarn,
            Self::PasswordExpired,
            Self::SecondFactor,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// The login `status` that hands out a state token of this purpose.
    pub fn status(self) -> &'static str {
        match self {
            Self::PasswordWarn => "PASSWORD_WARN",
            Self::PasswordExpired => "PASSWORD_EXPIRED",
            Self::SecondFactor => "MFA_AUTH",
        }
    }
}

/// A login half done: the password was right, a step is left (`X-state-token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateToken {
    pub digest: String,
    pub application_id: ApplicationId,
    pub user_id: UserId,
    pub device_fingerprint: String,
    pub purpose: StatePurpose,
    pub auth_time: Millis,
    pub expires_at: Millis,
}

/// A one-time ticket for a session's user, redeemed server to server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoTicket {
    pub digest: String,
    /// The application whose view of the user the ticket gives (the `client_id` asked for,
    /// else the session's).
    pub application_id: ApplicationId,
    pub user_id: UserId,
    pub device_fingerprint: String,
    /// When the password was checked for the session the ticket came from.
    pub auth_time: Millis,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// The body of `POST /api/v2/sdk/profile/update`. The reference lists `mobile`,
/// `verify_code`, `email`, `pwd` and `head_img` too, yet says the mobile, email and password
/// cannot be changed here: they are left alone, as unknown fields are.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileUpdate {
    pub name: Option<String>,
    pub attr_gender: Option<String>,
    /// `yyyy-MM-dd`.
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub attr_birthday: Option<String>,
    pub attr_nick_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub extension: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ProfileUpdate {
    /// The `UpdateUser` fields this changes (the only ones a user may change of their own).
    pub fn into_user_fields(self) -> crate::user::UserFields {
        crate::user::UserFields {
            name: self.name,
            attr_gender: self.attr_gender,
            attr_birthday: self.attr_birthday,
            attr_nick_name: self.attr_nick_name,
            first_name: self.first_name,
            middle_name: self.middle_name,
            last_name: self.last_name,
            extension: self.extension,
            ..crate::user::UserFields::default()
        }
    }
}

/// Why a user-API call is refused. Each has its code in both styles (docs/api.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A required parameter (header or body field) is missing or blank.
    Required(&'static str),
    /// A required device header is missing.
    DeviceIncomplete(&'static str),
    /// No application has the `X-client-id`.
    UnknownClient,
    /// The `X-client-id`'s application is disabled.
    ApplicationDisabled,
    /// No user has that name (Bamboo Cloud says so; OneAccess answers as for a wrong password).
    UnknownUser {
        remaining: u32,
    },
    WrongPassword {
        remaining: u32,
    },
    Locked {
        unlock_in_secs: u64,
    },
    /// The user holds no account in the application.
    NotBound,
    /// The `X-signature` cannot be read, or names no live session of this application.
    SignatureInvalid(&'static str),
    /// The `X-signature`'s timestamp is outside the window.
    SignatureExpired,
    /// The application has no signature key yet (nobody asked for its public key).
    NoSignatureKey,
    /// The `X-state-token` is missing, unknown, spent, expired or for another step.
    StateTokenInvalid(&'static str),
    /// The session token is unknown, ended or expired, or the device is not the login's.
    SessionInvalid(&'static str),
    TicketRequired,
    TicketInvalid(&'static str),
    /// `sms/send` without `captcha_token`.
    CaptchaRequired,
    /// No SMS code given.
    CodeRequired,
    /// An SMS code refused, or asked for too often.
    Code(crate::second_factor::CodeRefusal),
    /// A `type` of `sms/send` Roster does not serve.
    SmsType(crate::second_factor::SmsTypeRefused),
    /// A `mobile` that is not the number of the user the state token is for.
    MobileMismatch,
}

impl Refusal {
    /// The error this refusal is in `style`.
    pub fn error(&self, style: ErrorStyle) -> Error {
        use ErrorKind as K;
        let bamboo = style == ErrorStyle::BambooCloud;
        match self {
            Self::Required(what) if bamboo => {
                Error::with_detail(K::SdkParameterBlank, format!("{what}."))
            }
            Self::Required(what) => Error::invalid(format!("{what} is required.")),
            Self::DeviceIncomplete(header) if bamboo => {
                Error::with_detail(K::SdkDeviceIncomplete, format!("{header} is missing."))
            }
            Self::DeviceIncomplete(header) => {
                Error::invalid(format!("The header {header} is required."))
            }
            Self::UnknownClient if bamboo => Error::new(K::SdkClientIdIncorrect),
            Self::UnknownClient => Error::new(K::ApplicationNotFound),
            Self::ApplicationDisabled if bamboo => {
                Error::with_detail(K::SdkClientIdIncorrect, "The application is disabled.")
            }
            Self::ApplicationDisabled => Error::new(K::ApplicationDisabled),
            Self::UnknownUser { .. } if bamboo => Error::new(K::SdkUserNotFound),
            Self::UnknownUser { remaining } | Self::WrongPassword { remaining } if bamboo => {
                Error::with_detail(K::SdkWrongPassword, format!("剩余登录尝试次数:{remaining}"))
            }
            Self::UnknownUser { remaining } | Self::WrongPassword { remaining } => {
                Error::with_detail(
                    K::InvalidSignIn,
                    format!("Remaining attempts: {remaining}."),
                )
            }
            Self::Locked { unlock_in_secs } => {
                let kind = if bamboo {
                    K::SdkUserLocked
                } else {
                    K::UserLocked
                };
                let (m, s) = (unlock_in_secs / 60, unlock_in_secs % 60);
                Error::with_detail(
                    kind,
                    format!("It is unlocked in {m} minutes and {s} seconds."),
                )
            }
            Self::NotBound if bamboo => Error::new(K::SdkUserNotBound),
            Self::NotBound => Error::with_detail(
                K::SignInDenied,
                "The user holds no account in this application.",
            ),
            Self::SignatureInvalid(why) if bamboo => {
                Error::with_detail(K::SdkSignatureUnreadable, *why)
            }
            Self::SignatureExpired if bamboo => {
                Error::with_detail(K::SdkExpired, "X-signature timestamp.")
            }
            Self::SignatureInvalid(why) => Error::with_detail(K::SignatureInvalid, *why),
            Self::SignatureExpired => Error::with_detail(
                K::SignatureInvalid,
                "Its timestamp is outside the accepted window (GET /api/v2/sdk/server-date).",
            ),
            Self::NoSignatureKey if bamboo => Error::new(K::SdkNoPrivateKey),
            Self::NoSignatureKey => Error::with_detail(
                K::SignatureInvalid,
                "The application has no key yet: GET /api/v2/sdk/public-key first.",
            ),
            Self::StateTokenInvalid(why) if bamboo => Error::with_detail(K::SdkExpired, *why),
            Self::StateTokenInvalid(why) => Error::with_detail(K::StateTokenInvalid, *why),
            Self::SessionInvalid(why) if bamboo => Error::with_detail(K::SdkExpired, *why),
            Self::SessionInvalid(why) => Error::with_detail(K::SessionTokenInvalid, *why),
            Self::CaptchaRequired if bamboo => {
                Error::with_detail(K::SdkParameterBlank, "captcha_token.")
            }
            Self::CaptchaRequired => Error::new(K::CaptchaTokenRequired),
            Self::CodeRequired if bamboo => {
                Error::with_detail(K::SdkParameterBlank, "verify_code.")
            }
            Self::CodeRequired => Error::new(K::VerifyCodeRequired),
            Self::Code(refusal) if bamboo => {
                use crate::second_factor::CodeRefusal as C;
                match refusal {
                    C::Expired => Error::with_detail(K::SdkExpired, "verify_code."),
                    C::Wrong { tries_left } => Error::with_detail(
                        K::SdkParameterError,
                        format!("verify_code is wrong. Tries left: {tries_left}."),
                    ),
                    C::TooSoon { retry_in_secs } => Error::with_detail(
                        K::SdkParameterError,
                        format!("too many codes asked for. Try again in {retry_in_secs} seconds."),
                    ),
                }
            }
            Self::Code(refusal) => refusal.error(),
            Self::SmsType(_) if bamboo => Error::with_detail(
                K::SdkTypeError,
                format!("type is {}.", crate::second_factor::SERVED_SMS_TYPES),
            ),
            Self::SmsType(why) => Error::invalid(match why {
                crate::second_factor::SmsTypeRefused::NotServed => format!(
                    "type: Roster sends no code of this type; use {}.",
                    crate::second_factor::SERVED_SMS_TYPES
                ),
                crate::second_factor::SmsTypeRefused::Unknown => format!(
                    "type is unknown; use {}.",
                    crate::second_factor::SERVED_SMS_TYPES
                ),
            }),
            Self::MobileMismatch if bamboo => Error::with_detail(
                K::SdkParameterError,
                "mobile is not the number of the user signing in.",
            ),
            Self::MobileMismatch => {
                Error::invalid("mobile is not the number of the user signing in.")
            }
            Self::TicketRequired => Error::new(K::SsoTicketRequired),
            Self::TicketInvalid(why) => Error::with_detail(K::SsoTicketInvalid, *why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_style_words_a_wrong_password_with_the_attempts_left() {
        let wrong = Refusal::WrongPassword { remaining: 8 };
        let oneaccess = wrong.error(ErrorStyle::OneAccess);
        assert_eq!(oneaccess.kind().code(), "LOGIN.0002");
        assert_eq!(
            oneaccess.client_message(),
            "Invalid account name or password. Remaining attempts: 8."
        );
        let bamboo = wrong.error(ErrorStyle::BambooCloud);
        assert_eq!(bamboo.kind().code(), "SDK.LOGIN.1005");
        assert!(bamboo.client_message().contains("剩余登录尝试次数:8"));
    }

    #[test]
    fn only_bamboo_cloud_tells_an_unknown_user_apart() {
        let unknown = Refusal::UnknownUser { remaining: 4 };
        assert_eq!(
            unknown.error(ErrorStyle::OneAccess),
            Refusal::WrongPassword { remaining: 4 }.error(ErrorStyle::OneAccess)
        );
        assert_eq!(
            unknown.error(ErrorStyle::BambooCloud).kind().code(),
            "SDK.COMMON.1013"
        );
    }

    #[test]
    fn a_lock_says_minutes_and_seconds() {
        let locked = Refusal::Locked {
            unlock_in_secs: 179,
        }
        .error(ErrorStyle::BambooCloud);
        assert_eq!(locked.kind().code(), "SDK.LOGIN.1003");
        assert!(locked
            .client_message()
            .ends_with("unlocked in 2 minutes and 59 seconds."));
    }

    #[test]
    fn styles_parse_by_name() {
        for style in [ErrorStyle::OneAccess, ErrorStyle::BambooCloud] {
            assert_eq!(ErrorStyle::parse(style.as_str()), Ok(style));
        }
        assert!(ErrorStyle::parse("huawei").is_err());
    }
}
