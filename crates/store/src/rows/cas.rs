//! Rows of CAS service tickets.

use roster_domain::cas::ServiceTicket;
use roster_domain::id::Id;

table_row! {
    /// A row of `cas_tickets`.
    pub(crate) struct CasTicketRow {
        pub digest: String,
        pub application_id: String,
        pub user_id: String,
        pub service: String,
        pub auth_time: i64,
        pub from_new_login: bool,
        pub created_at: i64,
        pub expires_at: i64,
        pub sid: Option<String>,
    }
}

impl CasTicketRow {
    pub fn of(t: &ServiceTicket) -> Self {
        Self {
            digest: t.digest.clone(),
            application_id: t.application_id.as_str().to_owned(),
            user_id: t.user_id.as_str().to_owned(),
            service: t.service.clone(),
            auth_time: t.auth_time,
            from_new_login: t.from_new_login,
            created_at: t.created_at,
            expires_at: t.expires_at,
            sid: t.sid.clone(),
        }
    }

    pub fn into_domain(self) -> ServiceTicket {
        ServiceTicket {
            digest: self.digest,
            application_id: Id::new(self.application_id),
            user_id: Id::new(self.user_id),
            service: self.service,
            auth_time: self.auth_time,
            from_new_login: self.from_new_login,
            created_at: self.created_at,
            expires_at: self.expires_at,
            sid: self.sid,
        }
    }
}
