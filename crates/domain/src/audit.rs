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
}

/// Actor name for changes made by the `roster` command line rather than an API client.
pub const CLI_ACTOR: &str = "roster-cli";
/// Actor name for changes made by the server itself at start (bootstrap).
pub const SYSTEM_ACTOR: &str = "roster-system";
