//! Rows as both databases return them, and their conversion to domain entities.

use roster_domain::account::{AccountType, AppAccount};
use roster_domain::application::{AccessToken, Application};
use roster_domain::id::Id;
use roster_domain::organization::{AppOrganization, Organization};
use roster_domain::permission::Permissions;
use roster_domain::role::Role;
use roster_domain::sign_in::{AuthorizationCode, RefreshToken, SsoSession};
use roster_domain::user::{mobile_key, user_name_key, User, UserAttrs};
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

            /// `column = $n, …` for every column but those in `keep` (numbered from 1 as `B`
            /// numbers parameters), and their arguments in that order.
            pub fn assignments<B: crate::backend::Backend>(
                &self,
                keep: &[&str],
            ) -> (String, Vec<&dyn crate::backend::ToArg>) {
                let mut set: Vec<String> = Vec::new();
                let mut args: Vec<&dyn crate::backend::ToArg> = Vec::new();
                $(
                    if !keep.contains(&stringify!($field)) {
                        args.push(&self.$field);
                        set.push(format!("{} = {}", stringify!($field), B::placeholder(args.len())));
                    }
                )*
                (set.join(", "), args)
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

fn json_object(field: &str, text: Option<String>) -> Result<Option<Map<String, Value>>> {
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| Error::internal(format!("stored {field} is not a JSON object: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &Option<T>) -> Option<String> {
    value.as_ref().and_then(|v| serde_json::to_string(v).ok())
}

row! {
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
    /// A user and an application (its columns prefixed `app_`), read at once.
    pub(crate) struct UserApplicationRow {
        pub user: UserRow,
        pub app_id: String,
        pub app_name: String,
        pub app_client_id: String,
        pub app_secret_digest: String,
        pub app_permissions: String,
        pub app_disabled: bool,
        pub app_token_generation: i64,
        pub app_created_at: i64,
        pub app_updated_at: i64,
    }
}

impl UserApplicationRow {
    pub fn into_parts(self) -> (UserRow, ApplicationRow) {
        let app = ApplicationRow {
            id: self.app_id,
            name: self.app_name,
            client_id: self.app_client_id,
            secret_digest: self.app_secret_digest,
            permissions: self.app_permissions,
            disabled: self.app_disabled,
            token_generation: self.app_token_generation,
            created_at: self.app_created_at,
            updated_at: self.app_updated_at,
        };
        (self.user, app)
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
    /// A user with their lock and their account in one application (`acc_*`, absent when the
    /// user holds none), read at once.
    pub(crate) struct CandidateRow {
        pub user: UserRow,
        pub failed_sign_ins: i64,
        pub locked_until: Option<i64>,
        pub acc_id: Option<String>,
        pub acc_application_id: Option<String>,
        pub acc_account_name: Option<String>,
        pub acc_account_type: Option<String>,
        pub acc_name: Option<String>,
        pub acc_org_id: Option<String>,
        pub acc_password_secret: Option<String>,
        pub acc_disabled: Option<bool>,
        pub acc_disabled_by_user: Option<bool>,
        pub acc_extension: Option<String>,
        pub acc_created_at: Option<i64>,
        pub acc_updated_at: Option<i64>,
    }
}

impl CandidateRow {
    /// The account columns as an account row, when the user holds one.
    pub fn account(&mut self) -> Option<AccountRow> {
        Some(AccountRow {
            id: self.acc_id.take()?,
            application_id: self.acc_application_id.take()?,
            user_id: Some(self.user.id.clone()),
            account_name: self.acc_account_name.take()?,
            account_type: self.acc_account_type.take()?,
            name: self.acc_name.take(),
            org_id: self.acc_org_id.take(),
            password_secret: self.acc_password_secret.take(),
            disabled: self.acc_disabled?,
            disabled_by_user: self.acc_disabled_by_user?,
            extension: self.acc_extension.take(),
            created_at: self.acc_created_at?,
            updated_at: self.acc_updated_at?,
        })
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

row! {
    pub(crate) struct OrganizationRow {
        pub id: String,
        pub code: String,
        pub name: String,
        pub parent_id: Option<String>,
        pub category: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

impl OrganizationRow {
    pub fn into_domain(self) -> Organization {
        Organization {
            id: self.id,
            code: self.code,
            name: self.name,
            parent_id: self.parent_id,
            category: self.category,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

table_row! {
    /// A row of `users`.
    pub(crate) struct UserRow {
        pub id: String,
        pub org_id: Option<String>,
        pub user_name: String,
        pub mobile: String,
        pub name: String,
        pub email: Option<String>,
        pub employee_id: Option<String>,
        pub first_name: Option<String>,
        pub middle_name: Option<String>,
        pub last_name: Option<String>,
        pub password_hash: Option<String>,
        pub pwd_must_modify: bool,
        pub pwd_change_at: Option<i64>,
        pub attr_gender: Option<String>,
        pub attr_birthday: Option<String>,
        pub attr_nick_name: Option<String>,
        pub attr_identity_type: Option<String>,
        pub attr_identity_number: Option<String>,
        pub attr_area: Option<String>,
        pub attr_city: Option<String>,
        pub attr_manager_id: Option<String>,
        pub attr_user_type: Option<String>,
        pub attr_hire_date: Option<String>,
        pub attr_work_place: Option<String>,
        pub extension: Option<String>,
        pub disabled: bool,
        pub locked: bool,
        pub grade: i64,
        pub created_at: i64,
        pub updated_at: i64,
        pub org_relations: Option<String>,
        /// The keys the unique constraints fold names and mobiles by: written, never read (a
        /// row written other than through Roster may lack them until `roster reindex`).
        pub user_name_key: Option<String>,
        pub mobile_key: Option<String>,
    }
}

/// A user's secondary organizations as `users.org_relations` keeps them: a JSON list of ids,
/// or NULL for none.
pub(crate) fn secondary_json(org_ids: &[String]) -> Option<String> {
    if org_ids.is_empty() {
        None
    } else {
        serde_json::to_string(org_ids).ok()
    }
}

impl UserRow {
    /// The row that stores `u`.
    pub fn of(u: &User) -> Self {
        let attrs = u.attrs.clone();
        Self {
            id: u.id.as_str().to_owned(),
            org_id: u.org_id.clone(),
            user_name: u.user_name.clone(),
            mobile: u.mobile.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            employee_id: u.employee_id.clone(),
            first_name: u.first_name.clone(),
            middle_name: u.middle_name.clone(),
            last_name: u.last_name.clone(),
            password_hash: u.password_hash.clone(),
            pwd_must_modify: u.pwd_must_modify,
            pwd_change_at: u.pwd_change_at,
            attr_gender: attrs.gender,
            attr_birthday: attrs.birthday,
            attr_nick_name: attrs.nick_name,
            attr_identity_type: attrs.identity_type,
            attr_identity_number: attrs.identity_number,
            attr_area: attrs.area,
            attr_city: attrs.city,
            attr_manager_id: attrs.manager_id,
            attr_user_type: attrs.user_type,
            attr_hire_date: attrs.hire_date,
            attr_work_place: attrs.work_place,
            extension: to_json(&u.extension),
            disabled: u.disabled,
            locked: u.locked,
            grade: u.grade,
            created_at: u.created_at,
            updated_at: u.updated_at,
            org_relations: secondary_json(&u.secondary_org_ids),
            user_name_key: Some(user_name_key(&u.user_name)),
            mobile_key: Some(mobile_key(&u.mobile)),
        }
    }

    pub fn into_domain(self) -> Result<User> {
        let secondary_org_ids = match &self.org_relations {
            Some(text) => serde_json::from_str(text).map_err(|e| {
                Error::internal(format!("stored org_relations is not a list of ids: {e}"))
            })?,
            None => Vec::new(),
        };
        Ok(User {
            secondary_org_ids,
            extension: json_object("extension", self.extension)?,
            id: Id::new(self.id),
            org_id: self.org_id,
            user_name: self.user_name,
            mobile: self.mobile,
            name: self.name,
            email: self.email,
            employee_id: self.employee_id,
            first_name: self.first_name,
            middle_name: self.middle_name,
            last_name: self.last_name,
            password_hash: self.password_hash,
            pwd_must_modify: self.pwd_must_modify,
            pwd_change_at: self.pwd_change_at,
            attrs: UserAttrs {
                gender: self.attr_gender,
                birthday: self.attr_birthday,
                nick_name: self.attr_nick_name,
                identity_type: self.attr_identity_type,
                identity_number: self.attr_identity_number,
                area: self.attr_area,
                city: self.attr_city,
                manager_id: self.attr_manager_id,
                user_type: self.attr_user_type,
                hire_date: self.attr_hire_date,
                work_place: self.attr_work_place,
            },
            disabled: self.disabled,
            locked: self.locked,
            grade: self.grade,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

row! {
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

row! {
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
    pub fn into_domain(self) -> AppOrganization {
        AppOrganization {
            id: self.id,
            application_id: Id::new(self.application_id),
            code: self.code,
            name: self.name,
            parent_id: self.parent_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

row! {
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
    pub fn into_domain(self) -> Role {
        Role {
            id: self.id,
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
    /// A row of `sso_sessions`.
    pub(crate) struct SessionRow {
        pub digest: String,
        pub user_id: String,
        pub auth_time: i64,
        pub last_seen_at: i64,
        pub expires_at: i64,
    }
}

impl SessionRow {
    pub fn of(s: &SsoSession) -> Self {
        Self {
            digest: s.digest.clone(),
            user_id: s.user_id.as_str().to_owned(),
            auth_time: s.auth_time,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
        }
    }

    pub fn into_domain(self) -> SsoSession {
        SsoSession {
            digest: self.digest,
            user_id: Id::new(self.user_id),
            auth_time: self.auth_time,
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
        }
    }
}

table_row! {
    /// A row of `sso_codes`.
    #[derive(Debug)]
    pub(crate) struct CodeRow {
        pub digest: String,
        pub application_id: String,
        pub user_id: String,
        pub redirect_uri: String,
        pub scope: String,
        pub nonce: Option<String>,
        pub code_challenge: Option<String>,
        pub auth_time: i64,
        pub expires_at: i64,
        pub used_at: Option<i64>,
    }
}

impl CodeRow {
    pub fn of(c: &AuthorizationCode) -> Self {
        Self {
            digest: c.digest.clone(),
            application_id: c.application_id.as_str().to_owned(),
            user_id: c.user_id.as_str().to_owned(),
            redirect_uri: c.redirect_uri.clone(),
            scope: c.scope.clone(),
            nonce: c.nonce.clone(),
            code_challenge: c.code_challenge.clone(),
            auth_time: c.auth_time,
            expires_at: c.expires_at,
            used_at: c.used_at,
        }
    }

    pub fn into_domain(self) -> AuthorizationCode {
        AuthorizationCode {
            digest: self.digest,
            application_id: Id::new(self.application_id),
            user_id: Id::new(self.user_id),
            redirect_uri: self.redirect_uri,
            scope: self.scope,
            nonce: self.nonce,
            code_challenge: self.code_challenge,
            auth_time: self.auth_time,
            expires_at: self.expires_at,
            used_at: self.used_at,
        }
    }
}

table_row! {
    /// A row of `sso_refresh_tokens`.
    pub(crate) struct RefreshTokenRow {
        pub digest: String,
        pub application_id: String,
        pub user_id: String,
        pub grant_id: String,
        pub scope: String,
        pub auth_time: i64,
        pub expires_at: i64,
        pub created_at: i64,
        pub generation: i64,
        pub used_at: Option<i64>,
    }
}

impl RefreshTokenRow {
    pub fn of(t: &RefreshToken) -> Self {
        Self {
            digest: t.digest.clone(),
            application_id: t.application_id.as_str().to_owned(),
            user_id: t.user_id.as_str().to_owned(),
            grant_id: t.grant_id.clone(),
            scope: t.scope.clone(),
            auth_time: t.auth_time,
            expires_at: t.expires_at,
            created_at: t.created_at,
            generation: t.generation,
            used_at: t.used_at,
        }
    }

    pub fn into_domain(self) -> RefreshToken {
        RefreshToken {
            digest: self.digest,
            application_id: Id::new(self.application_id),
            user_id: Id::new(self.user_id),
            grant_id: self.grant_id,
            scope: self.scope,
            auth_time: self.auth_time,
            expires_at: self.expires_at,
            created_at: self.created_at,
            generation: self.generation,
            used_at: self.used_at,
        }
    }
}

#[cfg(test)]
mod table_row_tests {
    use super::*;
    use crate::pg::Pg;
    use crate::sqlite::SqliteFile;

    fn session() -> SessionRow {
        SessionRow {
            digest: "d".into(),
            user_id: "u".into(),
            auth_time: 1,
            last_seen_at: 2,
            expires_at: 3,
        }
    }

    #[test]
    fn a_table_lists_its_columns_once_for_reads_inserts_and_updates() {
        assert_eq!(
            SessionRow::COLUMNS,
            "digest, user_id, auth_time, last_seen_at, expires_at"
        );
        assert_eq!(SessionRow::COLUMN_COUNT, 5);
        assert_eq!(session().values().len(), 5);
        let row = session();
        let (set, args) = row.assignments::<Pg>(&["digest", "auth_time"]);
        assert_eq!(set, "user_id = $1, last_seen_at = $2, expires_at = $3");
        assert_eq!(args.len(), 3);
        let (set, _) = row.assignments::<SqliteFile>(&["digest"]);
        assert!(set.starts_with("user_id = ?, auth_time = ?"), "{set}");
    }

    #[test]
    fn a_user_row_carries_every_stored_column_and_its_keys() {
        // The columns of migration 0001 and later that a user is written with.
        let columns: Vec<&str> = UserRow::COLUMNS.split(", ").collect();
        assert_eq!(columns.len(), UserRow::COLUMN_COUNT);
        for stored in [
            "id",
            "org_relations",
            "user_name_key",
            "mobile_key",
            "locked",
        ] {
            assert!(columns.contains(&stored), "{stored}");
        }
    }
}
