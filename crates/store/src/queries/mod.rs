//! The queries, written once in the SQL both databases accept (`$n` placeholders, standard
//! types): each module implements one capability trait of `tx.rs` for
//! [`StoreTx<B>`](crate::store_tx::StoreTx), whatever the backend `B`.

mod accounts;
mod app_organizations;
mod applications;
mod audit;
mod maintenance;
mod organizations;
mod roles;
mod sign_in;
mod signing_keys;
mod sso;
mod sso_tokens;
mod tokens;
mod users;

pub(crate) use audit::audit_rows;
pub(crate) use sign_in::code_rows;
pub(crate) use sso_tokens::sso_token_rows;
pub(crate) use tokens::token_rows;

pub(crate) const APPLICATION_COLUMNS: &str =
    "id, name, client_id, secret_digest, permissions, disabled, token_generation, created_at, \
     updated_at";

pub(crate) const ACCOUNT_COLUMNS: &str = "id, application_id, user_id, account_name, \
     account_type, name, org_id, password_secret, disabled, disabled_by_user, extension, \
     created_at, updated_at";

pub(crate) const ORGANIZATION_COLUMNS: &str =
    "id, code, name, parent_id, category, created_at, updated_at";

pub(crate) const APP_ORG_COLUMNS: &str =
    "id, application_id, code, name, parent_id, created_at, updated_at";

pub(crate) const ROLE_COLUMNS: &str = "id, application_id, code, name, created_at, updated_at";

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
