//! CAS (Central Authentication Service, protocol 1.0 / 2.0 / 3.0) as OneAccess serves it at
//! `/api/v1/cas/*`: service tickets, and why a validation fails, worded as the reference
//! words it (its XML and JSON descriptions differ; both are kept).

use crate::application::ApplicationId;
use crate::time::Millis;
use crate::user::UserId;

/// A service ticket's default lifetime (CAS protocol 3.0 recommends at most 5 minutes;
/// Apereo CAS's default is 10 seconds).
pub const DEFAULT_TICKET_TTL_MS: Millis = 10_000;

/// A service ticket issued and not yet validated (its digest only is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTicket {
    pub digest: String,
    pub application_id: ApplicationId,
    pub user_id: UserId,
    /// The service URL the ticket was issued for, as the login request named it.
    pub service: String,
    /// When the password was typed.
    pub auth_time: Millis,
    /// Whether the ticket came from a login that just asked for the password (CAS 3.0's
    /// `isFromNewLogin`; `renew=true` validation wants it).
    pub from_new_login: bool,
    pub created_at: Millis,
    pub expires_at: Millis,
    /// The public id of the session it was issued in.
    pub sid: Option<String>,
}

/// A new service ticket: `ST-` and 256 random bits (CAS protocol 3.0 §3.1.1: the prefix,
/// and at most 256 characters).
pub fn new_ticket() -> String {
    format!("ST-{}", crate::secret::generate())
}

/// Why a validation failed: CAS protocol 3.0's codes (§2.5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CasFailure {
    /// `ticket` or `service` missing.
    InvalidRequest(&'static str),
    /// Not a ticket this server issued, spent, expired, not from a new login when `renew`
    /// asked for one, or its user may no longer sign in.
    InvalidTicket { ticket: String, why: &'static str },
    /// The ticket was issued for another service.
    InvalidService { ticket: String, service: String },
}

impl CasFailure {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "INVALID_REQUEST",
            Self::InvalidTicket { .. } => "INVALID_TICKET",
            Self::InvalidService { .. } => "INVALID_SERVICE",
        }
    }

    /// The description of the XML answer (the reference: `Ticket ST-… not recognized`).
    pub fn xml_description(&self) -> String {
        match self {
            Self::InvalidRequest(what) => format!("{what} is required."),
            Self::InvalidTicket { ticket, why } => {
                format!("Ticket {ticket} not recognized ({why})")
            }
            Self::InvalidService { ticket, service } => {
                format!("Ticket {ticket} does not match supplied service {service}")
            }
        }
    }

    /// The description of the JSON answer (the reference: `the ticket provided was not
    /// valid, ticket is ST-…`).
    pub fn json_description(&self) -> String {
        match self {
            Self::InvalidRequest(what) => format!("{what} is required"),
            Self::InvalidTicket { ticket, why } => {
                format!("the ticket provided was not valid, ticket is {ticket} ({why})")
            }
            Self::InvalidService { ticket, service } => {
                format!("the ticket provided was not issued for {service}, ticket is {ticket}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_carry_the_st_prefix_and_are_unique() {
        let a = new_ticket();
        assert!(a.starts_with("ST-") && a.len() <= 256);
        assert_ne!(a, new_ticket());
    }

    #[test]
    fn failures_say_what_the_reference_says() {
        let f = CasFailure::InvalidTicket {
            ticket: "ST-1".into(),
            why: "spent",
        };
        assert_eq!(f.code(), "INVALID_TICKET");
        assert!(f
            .xml_description()
            .starts_with("Ticket ST-1 not recognized"));
        assert!(f
            .json_description()
            .starts_with("the ticket provided was not valid, ticket is ST-1"));
    }
}
