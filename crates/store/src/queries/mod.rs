//! The queries, written once in the SQL both databases accept (`$n` placeholders, standard
//! types): each module implements one capability trait of `tx.rs` for
//! [`StoreTx<B>`](crate::store_tx::StoreTx), whatever the backend `B`.

mod accounts;
mod app_organizations;
mod applications;
mod audit;
mod cas;
mod console;
mod logout;
mod maintenance;
mod messages;
mod organizations;
mod password_policy;
mod roles;
mod saml;
mod second_factor;
mod sign_in;
mod signing_keys;
mod sso;
mod sso_tokens;
mod tokens;
mod user_api;
mod users;

use crate::rows::{AccountRow, AppOrgRow, ApplicationRow, OrganizationRow, RoleRow};

pub(crate) use audit::audit_rows;
pub(crate) use sign_in::code_rows;
pub(crate) use sso_tokens::sso_token_rows;
pub(crate) use tokens::token_rows;

// Each table's columns, as its row struct lists them (`rows::table_row!`).
pub(crate) const APPLICATION_COLUMNS: &str = ApplicationRow::COLUMNS;
pub(crate) const ACCOUNT_COLUMNS: &str = AccountRow::COLUMNS;
pub(crate) const ORGANIZATION_COLUMNS: &str = OrganizationRow::COLUMNS;
pub(crate) const APP_ORG_COLUMNS: &str = AppOrgRow::COLUMNS;
pub(crate) const ROLE_COLUMNS: &str = RoleRow::COLUMNS;

/// `columns` (a comma-separated list) each prefixed with the table alias `table`.
pub(crate) fn prefixed(table: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `columns` of the table aliased `table`, each renamed with `prefix` (`a.id AS app_id`): for
/// a join of two tables with columns of the same names.
pub(crate) fn renamed(table: &str, columns: &str, prefix: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{table}.{c} AS {prefix}{c}", c = c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}
