//! Audit records: who (the caller's client id) did what (operation and target) when.
//! Written in the same transaction as the change they describe; never hold secrets.

use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: Millis,
    pub actor: String,
    pub operation: &'static str,
    pub target_type: &'static str,
    pub target_id: String,
    /// How many events of this kind the record stands for (refused token requests are
    /// counted per interval); 1 for every change.
    pub count: i64,
}

/// Actor name for changes made by the `roster` command line rather than an API client.
pub const CLI_ACTOR: &str = "roster-cli";
/// Actor name for changes made by the server itself at start (bootstrap).
pub const SYSTEM_ACTOR: &str = "roster-system";

/// A stored audit record with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Millis,
    pub actor: String,
    pub operation: String,
    pub target_type: String,
    pub target_id: String,
    pub count: i64,
}

/// Which records a listing shows; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// The operation (`CreateUser`, `SignIn`, …).
    pub operation: Option<String>,
    pub target_id: Option<String>,
    /// From this time on (inclusive).
    pub from: Option<Millis>,
    /// Before this time (exclusive).
    pub to: Option<Millis>,
}
