//! Messages Roster sends people (SMS codes). Roster reaches no carrier: a *sender* takes each
//! message — `log` keeps it to be read back (a development mailbox), `webhook` posts it to
//! the organization's own gateway and records how the delivery went.

use crate::time::Millis;
use serde::Serialize;

/// Where messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SenderKind {
    /// Kept in the store, readable with `roster messages list` and `GET /roster/v1/messages`.
    #[default]
    Log,
    /// Posted as JSON to a configured URL, signed with HMAC-SHA256, retried with backoff.
    Webhook,
}

impl SenderKind {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "log" => Ok(Self::Log),
            "webhook" => Ok(Self::Webhook),
            other => Err(format!("unknown sender '{other}': use log or webhook")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Log => "log",
            Self::Webhook => "webhook",
        }
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Kept by the `log` sender: nothing more happens to it.
    Kept,
    /// Waiting for (another) delivery attempt.
    Pending,
    Delivered,
    /// Every attempt failed.
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kept => "kept",
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Kept, Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Delivery attempts of the `webhook` sender before a message is given up on.
pub const MAX_ATTEMPTS: i64 = 8;

/// How long after failed attempt `attempt` (1, 2, …) the next one is made: 1 s, doubling.
pub fn retry_after_ms(attempt: i64) -> Millis {
    1000 << attempt.clamp(1, 20).saturating_sub(1)
}

/// Where a delivery stands after an attempt (a message's, a back-channel logout's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempted {
    pub status: MessageStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<Millis>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Millis>,
}

/// How a delivery stands after its attempt number `attempts_before + 1` ended with `outcome`
/// at `now`: delivered; or retried after a backoff doubling from a second; or, after
/// [`MAX_ATTEMPTS`], given up.
pub fn after_attempt(
    attempts_before: i64,
    outcome: std::result::Result<(), String>,
    now: Millis,
) -> Attempted {
    let attempts = attempts_before + 1;
    match outcome {
        Ok(()) => Attempted {
            status: MessageStatus::Delivered,
            attempts,
            next_attempt_at: None,
            last_error: None,
            delivered_at: Some(now),
        },
        Err(error) => {
            let gave_up = attempts >= MAX_ATTEMPTS;
            Attempted {
                status: if gave_up {
                    MessageStatus::Failed
                } else {
                    MessageStatus::Pending
                },
                attempts,
                next_attempt_at: (!gave_up).then(|| now.saturating_add(retry_after_ms(attempts))),
                last_error: Some(error.chars().take(500).collect()),
                delivered_at: None,
            }
        }
    }
}

/// A message, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: Millis,
    /// `sms`.
    pub channel: String,
    /// The mobile number, as the user's record holds it.
    pub to: String,
    /// `second_factor` or `password_reset`.
    pub purpose: String,
    pub text: String,
    pub sender: SenderKind,
    /// The address the request that sent it came from.
    pub requested_from: String,
    pub status: MessageStatus,
    /// Delivery attempts made (`webhook`).
    pub attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Millis>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_doubling_from_a_second() {
        assert_eq!(retry_after_ms(1), 1000);
        assert_eq!(retry_after_ms(2), 2000);
        assert_eq!(retry_after_ms(4), 8000);
        assert_eq!(retry_after_ms(0), 1000);
    }
}
