//! Rows of session participants and back-channel logout deliveries.

use roster_domain::id::Id;
use roster_domain::logout::{LogoutDelivery, Participant, ParticipantKind};
use roster_domain::message::MessageStatus;
use roster_domain::{Error, Result};

table_row! {
    /// A row of `session_participants`.
    pub(crate) struct ParticipantRow {
        pub sid: String,
        pub application_id: String,
        pub user_id: String,
        pub kind: String,
        pub reference: String,
        pub url: String,
        pub created_at: i64,
        pub expires_at: i64,
    }
}

impl ParticipantRow {
    pub fn of(p: &Participant) -> Self {
        Self {
            sid: p.sid.clone(),
            application_id: p.application_id.as_str().to_owned(),
            user_id: p.user_id.as_str().to_owned(),
            kind: p.kind.as_str().to_owned(),
            reference: p.reference.clone(),
            url: p.url.clone(),
            created_at: p.created_at,
            expires_at: p.expires_at,
        }
    }

    pub fn into_domain(self) -> Result<Participant> {
        let kind = ParticipantKind::parse(&self.kind)
            .ok_or_else(|| Error::internal(format!("stored participant kind '{}'", self.kind)))?;
        Ok(Participant {
            sid: self.sid,
            application_id: Id::new(self.application_id),
            user_id: Id::new(self.user_id),
            kind,
            reference: self.reference,
            url: self.url,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

table_row! {
    /// A row of `logout_deliveries`.
    pub(crate) struct LogoutDeliveryRow {
        pub id: String,
        pub created_at: i64,
        pub application_id: String,
        pub url: String,
        pub body: String,
        pub content_type: String,
        pub status: String,
        pub attempts: i64,
        pub next_attempt_at: Option<i64>,
        pub last_error: Option<String>,
        pub delivered_at: Option<i64>,
    }
}

impl LogoutDeliveryRow {
    pub fn of(d: &LogoutDelivery) -> Self {
        Self {
            id: d.id.clone(),
            created_at: d.created_at,
            application_id: d.application_id.as_str().to_owned(),
            url: d.url.clone(),
            body: d.body.clone(),
            content_type: d.content_type.clone(),
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_error: d.last_error.clone(),
            delivered_at: d.delivered_at,
        }
    }

    pub fn into_domain(self) -> Result<LogoutDelivery> {
        let status = MessageStatus::parse(&self.status)
            .ok_or_else(|| Error::internal(format!("stored delivery status '{}'", self.status)))?;
        Ok(LogoutDelivery {
            id: self.id,
            created_at: self.created_at,
            application_id: Id::new(self.application_id),
            url: self.url,
            body: self.body,
            content_type: self.content_type,
            status,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            last_error: self.last_error,
            delivered_at: self.delivered_at,
        })
    }
}
