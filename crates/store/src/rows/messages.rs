//! Rows of messages and SMS codes.

use roster_domain::message::{Message, MessageStatus, SenderKind};
use roster_domain::second_factor::{CodePurpose, VerifyCode};
use roster_domain::{Error, Result};

table_row! {
    /// A row of `messages`.
    pub(crate) struct MessageRow {
        pub id: String,
        pub created_at: i64,
        pub channel: String,
        pub recipient: String,
        pub recipient_key: String,
        pub purpose: String,
        pub body: String,
        pub sender: String,
        pub requested_from: String,
        pub status: String,
        pub attempts: i64,
        pub next_attempt_at: Option<i64>,
        pub last_error: Option<String>,
        pub delivered_at: Option<i64>,
    }
}

impl MessageRow {
    pub fn of(m: &Message, recipient_key: &str) -> Self {
        Self {
            id: m.id.clone(),
            created_at: m.created_at,
            channel: m.channel.clone(),
            recipient: m.to.clone(),
            recipient_key: recipient_key.to_owned(),
            purpose: m.purpose.clone(),
            body: m.text.clone(),
            sender: m.sender.as_str().to_owned(),
            requested_from: m.requested_from.clone(),
            status: m.status.as_str().to_owned(),
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error.clone(),
            delivered_at: m.delivered_at,
        }
    }

    pub fn into_domain(self) -> Result<Message> {
        let status = MessageStatus::parse(&self.status)
            .ok_or_else(|| Error::internal(format!("stored message status '{}'", self.status)))?;
        let sender = SenderKind::parse(&self.sender).map_err(Error::internal)?;
        Ok(Message {
            id: self.id,
            created_at: self.created_at,
            channel: self.channel,
            to: self.recipient,
            purpose: self.purpose,
            text: self.body,
            sender,
            requested_from: self.requested_from,
            status,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            last_error: self.last_error,
            delivered_at: self.delivered_at,
        })
    }
}

table_row! {
    /// A row of `verify_codes`.
    pub(crate) struct VerifyCodeRow {
        pub mobile_key: String,
        pub purpose: String,
        pub code_digest: String,
        pub sent_at: i64,
        pub expires_at: i64,
        pub tries_left: i64,
    }
}

impl VerifyCodeRow {
    pub fn of(c: &VerifyCode) -> Self {
        Self {
            mobile_key: c.mobile_key.clone(),
            purpose: c.purpose.as_str().to_owned(),
            code_digest: c.code_digest.clone(),
            sent_at: c.sent_at,
            expires_at: c.expires_at,
            tries_left: c.tries_left,
        }
    }

    pub fn into_domain(self) -> Result<VerifyCode> {
        let purpose = CodePurpose::parse(&self.purpose).ok_or_else(|| {
            Error::internal(format!(
                "stored verification code purpose '{}'",
                self.purpose
            ))
        })?;
        Ok(VerifyCode {
            mobile_key: self.mobile_key,
            purpose,
            code_digest: self.code_digest,
            sent_at: self.sent_at,
            expires_at: self.expires_at,
            tries_left: self.tries_left,
        })
    }
}
