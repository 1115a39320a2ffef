//! The password policy: what a new password must be, when a password expires, how many
//! earlier passwords it may not repeat, and how many wrong passwords lock a user for how long.
//! One policy for the tenant, as OneAccess has it; each rule a new password breaks is named.

use crate::time::Millis;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Longest password accepted, whatever the policy.
pub const MAX_PASSWORD_CHARS: u32 = 128;
const DAY_MS: Millis = 86_400_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Fewest characters (8 to 128).
    pub min_length: u32,
    /// How many of the four kinds — lowercase letters, uppercase letters, digits, other
    /// characters — a password must mix (0 to 4).
    pub char_classes: u32,
    /// Days a password lasts before it must be changed; 0: it never expires.
    pub expire_days: u32,
    /// Days before the end that signing in warns (`PASSWORD_WARN`).
    pub warn_days: u32,
    /// How many earlier passwords a new one may not repeat (0 to 24).
    pub history: u32,
    /// Wrong passwords in a row that lock the user (1 to 1,000,000; OneAccess allows 1 to 10,
    /// and a test suite may want no lock in practice).
    pub max_failed_sign_ins: u32,
    /// Minutes the lock holds (1 to 1440).
    pub lock_minutes: u32,
}

impl Default for PasswordPolicy {
    /// OneAccess's defaults where its user manual states them (a lock after 10 wrong
    /// passwords, lifted after 3 minutes); Roster's elsewhere.
    fn default() -> Self {
        Self {
            min_length: 8,
            char_classes: 0,
            expire_days: 0,
            warn_days: 7,
            history: 0,
            max_failed_sign_ins: 10,
            lock_minutes: 3,
        }
    }
}

/// A change of the policy (`PUT /roster/v1/password-policy`): absent fields keep their values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicyFields {
    pub min_length: Option<u32>,
    pub char_classes: Option<u32>,
    pub expire_days: Option<u32>,
    pub warn_days: Option<u32>,
    pub history: Option<u32>,
    pub max_failed_sign_ins: Option<u32>,
    pub lock_minutes: Option<u32>,
}

impl PasswordPolicyFields {
    /// `base` with these fields changed, checked.
    pub fn apply(self, base: &PasswordPolicy) -> Result<PasswordPolicy> {
        let policy = PasswordPolicy {
            min_length: self.min_length.unwrap_or(base.min_length),
            char_classes: self.char_classes.unwrap_or(base.char_classes),
            expire_days: self.expire_days.unwrap_or(base.expire_days),
            warn_days: self.warn_days.unwrap_or(base.warn_days),
            history: self.history.unwrap_or(base.history),
            max_failed_sign_ins: self.max_failed_sign_ins.unwrap_or(base.max_failed_sign_ins),
            lock_minutes: self.lock_minutes.unwrap_or(base.lock_minutes),
        };
        policy.validate()?;
        Ok(policy)
    }
}

/// Where a password stands against the policy's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Fresh,
    /// It expires within the warning days.
    Soon,
    Expired,
}

impl PasswordPolicy {
    /// Checks the policy's own ranges.
    pub fn validate(&self) -> Result<()> {
        let in_range = |name: &str, value: u32, lo: u32, hi: u32| {
            if (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err(Error::invalid(format!("{name} must be {lo} to {hi}.")))
            }
        };
        in_range("min_length", self.min_length, 8, MAX_PASSWORD_CHARS)?;
        in_range("char_classes", self.char_classes, 0, 4)?;
        in_range("expire_days", self.expire_days, 0, 3650)?;
        in_range("warn_days", self.warn_days, 0, 365)?;
        in_range("history", self.history, 0, 24)?;
        in_range(
            "max_failed_sign_ins",
            self.max_failed_sign_ins,
            1,
            1_000_000,
        )?;
        in_range("lock_minutes", self.lock_minutes, 1, 1440)
    }

    /// Checks a new password against the length and character rules, naming the rule it
    /// breaks.
    pub fn check(&self, password: &str) -> Result<()> {
        let chars = u32::try_from(password.chars().count()).unwrap_or(u32::MAX);
        if chars < self.min_length || chars > MAX_PASSWORD_CHARS {
            return Err(Error::invalid(format!(
                "password must be {} to {MAX_PASSWORD_CHARS} characters (password policy: \
                 min_length).",
                self.min_length
            )));
        }
        let kinds = [
            password.chars().any(|c| c.is_lowercase()),
            password.chars().any(|c| c.is_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_alphanumeric()),
        ];
        let mixed = u32::try_from(kinds.iter().filter(|k| **k).count()).unwrap_or(0);
        if mixed < self.char_classes {
            return Err(Error::invalid(format!(
                "password must mix at least {} of lowercase letters, uppercase letters, digits \
                 and other characters; it has {mixed} (password policy: char_classes).",
                self.char_classes
            )));
        }
        Ok(())
    }

    /// Whether `user` must change the password before signing in: `pwd_must_modify`, or
    /// expired at `now`.
    pub fn must_change(&self, user: &crate::user::User, now: Millis) -> bool {
        let changed_at = user.pwd_change_at.unwrap_or(user.created_at);
        user.pwd_must_modify || self.expiry(changed_at, now) == Expiry::Expired
    }

    /// Whole days (rounded up) until `user`'s password expires, when that is within the
    /// warning days.
    pub fn warns(&self, user: &crate::user::User, now: Millis) -> Option<i64> {
        let changed_at = user.pwd_change_at.unwrap_or(user.created_at);
        (self.expiry(changed_at, now) == Expiry::Soon).then(|| {
            let ends = changed_at.saturating_add(i64::from(self.expire_days) * DAY_MS);
            (ends - now + DAY_MS - 1) / DAY_MS
        })
    }

    /// Where a password set at `changed_at` stands at `now`.
    pub fn expiry(&self, changed_at: Millis, now: Millis) -> Expiry {
        if self.expire_days == 0 {
            return Expiry::Fresh;
        }
        let ends = changed_at.saturating_add(i64::from(self.expire_days) * DAY_MS);
        let warns = ends.saturating_sub(i64::from(self.warn_days) * DAY_MS);
        if now >= ends {
            Expiry::Expired
        } else if now >= warns {
            Expiry::Soon
        } else {
            Expiry::Fresh
        }
    }

    /// The refusal of a password that repeats one of the last `history`.
    pub fn reused(&self) -> Error {
        Error::invalid(format!(
            "password must differ from the last {} passwords (password policy: history).",
            self.history
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_broken_rule_is_named() {
        let policy = PasswordPolicy {
            min_length: 10,
            char_classes: 3,
            ..PasswordPolicy::default()
        };
        let short = policy.check("Ab1!").unwrap_err();
        assert!(short.client_message().contains("min_length"));
        let plain = policy.check("abcdefghijk1").unwrap_err();
        assert!(plain.client_message().contains("char_classes"));
        assert!(plain.client_message().contains("it has 2"));
        assert!(policy.check("abcdefghiJ1").is_ok());
        assert!(policy.check("Пароль-долгий").is_ok());
    }

    #[test]
    fn a_password_warns_then_expires() {
        let policy = PasswordPolicy {
            expire_days: 90,
            warn_days: 7,
            ..PasswordPolicy::default()
        };
        let day = DAY_MS;
        assert_eq!(policy.expiry(0, 82 * day), Expiry::Fresh);
        assert_eq!(policy.expiry(0, 83 * day), Expiry::Soon);
        assert_eq!(policy.expiry(0, 90 * day), Expiry::Expired);
        let never = PasswordPolicy::default();
        assert_eq!(never.expiry(0, 10_000 * day), Expiry::Fresh);
    }

    #[test]
    fn ranges_are_checked() {
        assert!(PasswordPolicy::default().validate().is_ok());
        let bad = PasswordPolicy {
            history: 25,
            ..PasswordPolicy::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .client_message()
            .contains("history"));
    }
}
