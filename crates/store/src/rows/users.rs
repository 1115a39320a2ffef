//! Rows of `users`, alone and read with an application.

use super::{json_object, to_json, ApplicationRow};
use roster_domain::id::Id;
use roster_domain::user::{mobile_key, user_name_key, User, UserAttrs};
use roster_domain::{Error, Result};

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
    }
}

/// A user's secondary organizations as `users.org_relations` keeps them: a JSON list of ids,
/// or NULL for none.
fn secondary_json(org_ids: &[String]) -> Option<String> {
    if org_ids.is_empty() {
        None
    } else {
        serde_json::to_string(org_ids).ok()
    }
}

/// The columns a user is written with besides its row: the keys its unique rules fold the
/// user name and the mobile by. Written, never read (reads select `UserRow::COLUMNS`).
pub(crate) struct UserKeys {
    pub user_name_key: String,
    pub mobile_key: String,
}

impl UserKeys {
    pub const COLUMNS: &'static str = "user_name_key, mobile_key";
    pub const COLUMN_COUNT: usize = 2;

    pub fn of(u: &User) -> Self {
        Self {
            user_name_key: user_name_key(&u.user_name),
            mobile_key: mobile_key(&u.mobile),
        }
    }

    pub fn values(&self) -> [&dyn crate::backend::ToArg; 2] {
        [&self.user_name_key, &self.mobile_key]
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
    /// A browser session, its user with their lock and when their sign-ins were last ended,
    /// and the user's console role, read at once.
    pub(crate) struct SessionPersonRow {
        pub session: crate::rows::SessionRow,
        pub user: UserRow,
        pub failed_sign_ins: i64,
        pub locked_until: Option<i64>,
        pub sign_ins_ended_at: Option<i64>,
        pub console_role: Option<String>,
    }
}

row! {
    /// A user and the console role they hold.
    pub(crate) struct UserRoleRow {
        pub user: UserRow,
        pub console_role: String,
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
