//! Rows as both databases return them, and their conversion to domain entities.

use roster_domain::account::{AccountType, AppAccount};
use roster_domain::application::{AccessToken, Application};
use roster_domain::id::Id;
use roster_domain::organization::{AppOrganization, Organization};
use roster_domain::permission::Permissions;
use roster_domain::role::Role;
use roster_domain::signing::SigningKey;
use roster_domain::{Error, Result};
use serde_json::{Map, Value};

/// Declares a row struct both databases decode, by column name (`sqlite::decode::FromColumns`,
/// `pg::decode::FromPgRow`). A field whose type is a row struct is read from the same columns.
macro_rules! row {
    (
        $(#[$meta:meta])*
        pub(crate) struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        pub(crate) struct $name {
            $($(#[$field_meta])* pub $field: $ty,)*
        }

        impl crate::sqlite::decode::FromColumns for $name {
            fn from_columns(row: &mut crate::sqlite::decode::Columns<'_, '_>) -> rusqlite::Result<Self> {
                Ok(Self {
                    $($field: crate::sqlite::decode::Column::column(row, stringify!($field))?,)*
                })
            }
        }

        impl crate::sqlite::decode::Column for $name {
            fn column(row: &mut crate::sqlite::decode::Columns<'_, '_>, _: &str) -> rusqlite::Result<Self> {
                <Self as crate::sqlite::decode::FromColumns>::from_columns(row)
            }
        }

        impl crate::pg::decode::FromPgRow for $name {
            fn from_pg_row(row: &tokio_postgres::Row) -> Result<Self, tokio_postgres::Error> {
                Ok(Self {
                    $($field: crate::pg::decode::PgColumn::pg_column(row, stringify!($field))?,)*
                })
            }
        }

        impl crate::pg::decode::PgColumn for $name {
            fn pg_column(row: &tokio_postgres::Row, _: &str) -> Result<Self, tokio_postgres::Error> {
                <Self as crate::pg::decode::FromPgRow>::from_pg_row(row)
            }
        }
    };
}

/// Declares the row of a table: decoded by column name as [`row!`] declares it, and written
/// from the same fields, so that a table's columns are listed once, in the struct: `COLUMNS`
/// for `SELECT` and `INSERT`, [`values`](#method.values) for the insert's arguments in that
/// order, and `assignments` for an `UPDATE`. Every field is a column (no nested rows).
macro_rules! table_row {
    (
        $(#[$meta:meta])*
        pub(crate) struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        row! {
            $(#[$meta])*
            pub(crate) struct $name {
                $($(#[$field_meta])* pub $field: $ty,)*
            }
        }

        #[allow(dead_code)]
        impl $name {
            /// The table's columns, in field order.
            pub const COLUMNS: &'static str = column_list!($($field),*);
            /// How many there are.
            pub const COLUMN_COUNT: usize = [$(stringify!($field)),*].len();

            /// The fields as statement arguments, in `COLUMNS` order.
            pub fn values(&self) -> [&dyn crate::backend::ToArg; Self::COLUMN_COUNT] {
                [$(&self.$field),*]
            }

            /// `INSERT INTO table (columns) VALUES ($1, …)`, for [`values`](Self::values);
            /// `$n` placeholders, which both databases read. Built once per table: call it
            /// from a `LazyLock`.
            pub fn insert_sql(table: &str) -> String {
                let placeholders: Vec<String> =
                    (1..=Self::COLUMN_COUNT).map(|n| format!("${n}")).collect();
                format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    Self::COLUMNS,
                    placeholders.join(", ")
                )
            }

            /// `column = $1, …` for every column but those in `keep`, and how many there are
            /// (the next parameter's number, less one), for
            /// [`assigned_values`](Self::assigned_values).
            pub fn set_sql(keep: &[&str]) -> (String, usize) {
                let set: Vec<String> = [$(stringify!($field)),*]
                    .iter()
                    .filter(|c| !keep.contains(c))
                    .enumerate()
                    .map(|(n, c)| format!("{c} = ${}", n + 1))
                    .collect();
                let count = set.len();
                (set.join(", "), count)
            }

            /// The values of every column but those in `keep`, in [`set_sql`](Self::set_sql)'s
            /// order.
            pub fn assigned_values(&self, keep: &[&str]) -> Vec<&dyn crate::backend::ToArg> {
                let mut args: Vec<&dyn crate::backend::ToArg> = Vec::new();
                $(
                    if !keep.contains(&stringify!($field)) {
                        args.push(&self.$field);
                    }
                )*
                args
            }
        }
    };
}

/// `a, b, c` of fields `a`, `b`, `c`.
macro_rules! column_list {
    ($first:ident $(, $rest:ident)*) => {
        concat!(stringify!($first) $(, ", ", stringify!($rest))*)
    };
}

mod cas;
mod logout;
mod messages;
mod sign_in;
mod user_api;
mod users;

pub(crate) use cas::CasTicketRow;
pub(crate) use logout::{LogoutDeliveryRow, ParticipantRow};
pub(crate) use messages::{MessageRow, VerifyCodeRow};
pub(crate) use sign_in::{CandidateRow, CodeRow, LockRow, RefreshTokenRow, SessionRow};
pub(crate) use user_api::{SsoTicketRow, StateTokenRow, UserApiKeyRow, UserApiSessionRow};
pub(crate) use users::{SessionPersonRow, UserApplicationRow, UserKeys, UserRoleRow, UserRow};

fn json_object(field: &str, text: Option<String>) -> Result<Option<Map<String, Value>>> {
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| Error::internal(format!("stored {field} is not a JSON object: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &Option<T>) -> Option<String> {
    value.as_ref().and_then(|v| serde_json::to_string(v).ok())
}

table_row! {
    /// A row of `applications`.
    pub(crate) struct ApplicationRow {
        pub id: String,
        pub name: String,
        pub client_id: String,
        pub secret_digest: String,
        pub permissions: String,
        pub disabled: bool,
        pub token_generation: i64,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

impl ApplicationRow {
    pub fn of(a: &Application) -> Self {
        Self {
            id: a.id.as_str().to_owned(),
            name: a.name.clone(),
            client_id: a.client_id.clone(),
            secret_digest: a.secret_digest.clone(),
            permissions: a.permissions.scope(),
            disabled: a.disabled,
            token_generation: a.token_generation,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }

    pub fn into_domain(self) -> Result<Application> {
        Ok(Application {
            permissions: Permissions::parse_scope(&self.permissions)?,
            id: Id::new(self.id),
            name: self.name,
            client_id: self.client_id,
            secret_digest: self.secret_digest,
            disabled: self.disabled,
            token_generation: self.token_generation,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

row! {
    /// An application with its sign-in settings document (if it has one), read at once.
    pub(crate) struct ApplicationSsoRow {
        pub app: ApplicationRow,
        pub sso_settings: Option<String>,
    }
}

row! {
    /// A sign-in access token (its columns prefixed `t_`, as the application has columns of the
    /// same names) with its application and that application's sign-in settings.
    pub(crate) struct SsoTokenAppRow {
        pub t_digest: String,
        pub t_user_id: Option<String>,
        pub t_scope: String,
        pub t_expires_at: i64,
        pub t_created_at: i64,
        pub t_generation: i64,
        pub t_grant_id: Option<String>,
        pub app: ApplicationSsoRow,
    }
}

row! {
    pub(crate) struct TokenRow {
        pub lookup_key: String,
        pub application_id: String,
        pub scope: String,
        pub expires_at: i64,
        pub token_created_at: i64,
        pub generation: i64,
        pub name: String,
        pub client_id: String,
        pub secret_digest: String,
        pub permissions: String,
        pub disabled: bool,
        pub token_generation: i64,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

impl TokenRow {
    pub fn into_domain(self) -> Result<(AccessToken, Application)> {
        let app = ApplicationRow {
            id: self.application_id.clone(),
            name: self.name,
            client_id: self.client_id,
            secret_digest: self.secret_digest,
            permissions: self.permissions,
            disabled: self.disabled,
            token_generation: self.token_generation,
            created_at: self.created_at,
            updated_at: self.updated_at,
        };
        Ok((
            AccessToken {
                key: self.lookup_key,
                application_id: Id::new(self.application_id),
                scope: self.scope,
                expires_at: self.expires_at,
                created_at: self.token_created_at,
                generation: self.generation,
            },
            app.into_domain()?,
        ))
    }
}

table_row! {
    /// A row of `organizations`.
    pub(crate) struct OrganizationRow {
        pub id: String,
        pub code: String,
        pub name: String,
        pub parent_id: Option<String>,
        /// The parent for the unique rule on sibling names: empty for a root (written, not
        /// read; a row written other than through Roster may lack it).
        pub parent_key: Option<String>,
        pub category: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

impl OrganizationRow {
    pub fn of(o: &Organization) -> Self {
        Self {
            id: o.id.as_str().to_owned(),
            code: o.code.clone(),
            name: o.name.clone(),
            parent_id: o.parent_id.as_ref().map(|p| p.as_str().to_owned()),
            parent_key: Some(o.parent_id.as_deref().unwrap_or("").to_owned()),
            category: o.category.clone(),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }

    pub fn into_domain(self) -> Organization {
        Organization {
            id: Id::new(self.id),
            code: self.code,
            name: self.name,
            parent_id: self.parent_id.map(Id::new),
            category: self.category,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

table_row! {
    /// A row of `app_accounts`.
    pub(crate) struct AccountRow {
        pub id: String,
        pub application_id: String,
        pub user_id: Option<String>,
        pub account_name: String,
        pub account_type: String,
        pub name: Option<String>,
        pub org_id: Option<String>,
        pub password_secret: Option<String>,
        pub disabled: bool,
        pub disabled_by_user: bool,
        pub extension: Option<String>,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

impl AccountRow {
    pub fn of(a: &AppAccount) -> Self {
        Self {
            id: a.id.as_str().to_owned(),
            application_id: a.application_id.as_str().to_owned(),
            user_id: a.user_id.as_ref().map(|u| u.as_str().to_owned()),
            account_name: a.account_name.clone(),
            account_type: a.account_type.as_str().to_owned(),
            name: a.name.clone(),
            org_id: a.org_id.clone(),
            password_secret: a.password.clone(),
            disabled: a.disabled,
            disabled_by_user: a.disabled_by_user,
            extension: to_json(&a.extension),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }

    pub fn into_domain(self) -> Result<AppAccount> {
        Ok(AppAccount {
            account_type: AccountType::parse(&self.account_type).map_err(|_| {
                Error::internal(format!("stored account_type {}", self.account_type))
            })?,
            extension: json_object("extension", self.extension)?,
            id: Id::new(self.id),
            application_id: Id::new(self.application_id),
            user_id: self.user_id.map(Id::new),
            account_name: self.account_name,
            name: self.name,
            org_id: self.org_id,
            password: self.password_secret,
            disabled: self.disabled,
            disabled_by_user: self.disabled_by_user,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

table_row! {
    /// A row of `app_organizations`.
    pub(crate) struct AppOrgRow {
        pub id: String,
        pub application_id: String,
        pub code: String,
        pub name: String,
        pub parent_id: Option<String>,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

impl AppOrgRow {
    pub fn of(o: &AppOrganization) -> Self {
        Self {
            id: o.id.as_str().to_owned(),
            application_id: o.application_id.as_str().to_owned(),
            code: o.code.clone(),
            name: o.name.clone(),
            parent_id: o.parent_id.as_ref().map(|p| p.as_str().to_owned()),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }

    pub fn into_domain(self) -> AppOrganization {
        AppOrganization {
            id: Id::new(self.id),
            application_id: Id::new(self.application_id),
            code: self.code,
            name: self.name,
            parent_id: self.parent_id.map(Id::new),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

table_row! {
    /// A row of `app_roles`.
    pub(crate) struct RoleRow {
        pub id: String,
        pub application_id: String,
        pub code: String,
        pub name: Option<String>,
        pub created_at: i64,
        pub updated_at: Option<i64>,
    }
}

impl RoleRow {
    pub fn of(r: &Role) -> Self {
        Self {
            id: r.id.as_str().to_owned(),
            application_id: r.application_id.as_str().to_owned(),
            code: r.code.clone(),
            name: r.name.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    pub fn into_domain(self) -> Role {
        Role {
            id: Id::new(self.id),
            application_id: Id::new(self.application_id),
            code: self.code,
            name: self.name,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

row! {
    /// An account with one of its roles, or with none (`role_*` NULL): a left join that reads
    /// an account and its roles in one statement.
    pub(crate) struct AccountRoleRow {
        pub account: AccountRow,
        pub role_id: Option<String>,
        pub role_code: Option<String>,
        pub role_name: Option<String>,
        pub role_created_at: Option<i64>,
        pub role_updated_at: Option<i64>,
    }
}

impl AccountRoleRow {
    /// The account of this row, and its role if it has one.
    pub fn into_parts(self) -> (AccountRow, Option<Role>) {
        let role = match (self.role_id, self.role_code, self.role_created_at) {
            (Some(id), Some(code), Some(created_at)) => Some(
                RoleRow {
                    id,
                    application_id: self.account.application_id.clone(),
                    code,
                    name: self.role_name,
                    created_at,
                    updated_at: self.role_updated_at,
                }
                .into_domain(),
            ),
            _ => None,
        };
        (self.account, role)
    }
}

row! {
    pub(crate) struct MemberRoleRow {
        pub account_id: String,
        pub role: RoleRow,
    }
}

row! {
    pub(crate) struct AuditRow {
        pub id: i64,
        pub at: i64,
        pub actor: String,
        pub operation: String,
        pub target_type: String,
        pub target_id: String,
        pub count: i64,
    }
}

impl AuditRow {
    pub fn into_domain(self) -> roster_domain::audit::AuditEntry {
        roster_domain::audit::AuditEntry {
            id: self.id,
            at: self.at,
            actor: self.actor,
            operation: self.operation,
            target_type: self.target_type,
            target_id: self.target_id,
            count: self.count,
        }
    }
}

table_row! {
    /// A row of `signing_keys`.
    pub(crate) struct SigningKeyRow {
        pub kid: String,
        pub private_key: String,
        pub public_jwk: String,
        pub created_at: i64,
        pub retired_at: Option<i64>,
        pub staged: bool,
    }
}

impl SigningKeyRow {
    pub fn of(key: &SigningKey) -> Result<Self> {
        Ok(Self {
            kid: key.kid().to_owned(),
            private_key: key.sealed_private_key.clone(),
            public_jwk: serde_json::to_string(&key.public)
                .map_err(|e| Error::internal(format!("public key as JSON: {e}")))?,
            created_at: key.created_at,
            retired_at: key.retired_at,
            staged: key.staged,
        })
    }

    pub fn into_domain(self) -> Result<SigningKey> {
        Ok(SigningKey {
            public: serde_json::from_str(&self.public_jwk)
                .map_err(|e| Error::internal(format!("stored public key: {e}")))?,
            sealed_private_key: self.private_key,
            created_at: self.created_at,
            retired_at: self.retired_at,
            staged: self.staged,
        })
    }
}
