//! Rows of the user APIs: session tokens, state tokens, SSO tickets, signature keys.

use roster_domain::id::Id;
use roster_domain::user_api::{SsoTicket, StatePurpose, StateToken, UserApiSession};
use roster_domain::{Error, Result};

table_row! {
    /// A row of `user_api_sessions`.
    pub(crate) struct UserApiSessionRow {
        pub digest: String,
        pub application_id: String,
        pub user_id: String,
        pub device_fingerprint: String,
        pub auth_time: i64,
        pub created_at: i64,
        pub expires_at: i64,
    }
}

impl UserApiSessionRow {
    pub fn of(s: &UserApiSession) -> Self {
        Self {
            digest: s.digest.clone(),
            application_id: s.application_id.as_str().to_owned(),
            user_id: s.user_id.as_str().to_owned(),
            device_fingerprint: s.device_fingerprint.clone(),
            auth_time: s.auth_time,
            created_at: s.created_at,
            expires_at: s.expires_at,
        }
    }

    pub fn into_domain(self) -> UserApiSession {
        UserApiSession {
            digest: self.digest,
            application_id: Id::new(self.application_id),
            user_id: Id::new(self.user_id),
            device_fingerprint: self.device_fingerprint,
            auth_time: self.auth_time,
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

table_row! {
    /// A row of `user_api_state_tokens`.
    pub(crate) struct StateTokenRow {
        pub digest: String,
        pub application_id: String,
        pub user_id: String,
        pub device_fingerprint: String,
        pub purpose: String,
        pub auth_time: i64,
        pub expires_at: i64,
    }
}

impl StateTokenRow {
    pub fn of(t: &StateToken) -> Self {
        Self {
            digest: t.digest.clone(),
            application_id: t.application_id.as_str().to_owned(),
            user_id: t.user_id.as_str().to_owned(),
            device_fingerprint: t.device_fingerprint.clone(),
            purpose: t.purpose.as_str().to_owned(),
            auth_time: t.auth_time,
            expires_at: t.expires_at,
        }
    }

    pub fn into_domain(self) -> Result<StateToken> {
        let purpose = StatePurpose::parse(&self.purpose).ok_or_else(|| {
            Error::internal(format!("stored state token purpose '{}'", self.purpose))
        })?;
        Ok(StateToken {
            digest: self.digest,
            application_id: Id::new(self.application_id),
            user_id: Id::new(self.user_id),
            device_fingerprint: self.device_fingerprint,
            purpose,
            auth_time: self.auth_time,
            expires_at: self.expires_at,
        })
    }
}

table_row! {
    /// A row of `sso_tickets`.
    pub(crate) struct SsoTicketRow {
        pub digest: String,
        pub application_id: String,
        pub user_id: String,
        pub device_fingerprint: String,
        pub auth_time: i64,
        pub created_at: i64,
        pub expires_at: i64,
    }
}

impl SsoTicketRow {
    pub fn of(t: &SsoTicket) -> Self {
        Self {
            digest: t.digest.clone(),
            application_id: t.application_id.as_str().to_owned(),
            user_id: t.user_id.as_str().to_owned(),
            device_fingerprint: t.device_fingerprint.clone(),
            auth_time: t.auth_time,
            created_at: t.created_at,
            expires_at: t.expires_at,
        }
    }

    pub fn into_domain(self) -> SsoTicket {
        SsoTicket {
            digest: self.digest,
            application_id: Id::new(self.application_id),
            user_id: Id::new(self.user_id),
            device_fingerprint: self.device_fingerprint,
            auth_time: self.auth_time,
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

row! {
    /// An application's signature key pair (`user_api_keys`).
    pub(crate) struct UserApiKeyRow {
        pub public_key: String,
        pub sealed_private_key: String,
    }
}
