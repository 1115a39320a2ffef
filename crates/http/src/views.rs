//! Response bodies, shaped exactly as the reference shapes them.

use roster_domain::account::AppAccount;
use roster_domain::time::format_millis;
use roster_domain::user::User;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Serialize)]
pub struct TokenView {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
    /// Client-credential tokens stand for no user, so there is no ID token.
    pub id_token: Option<String>,
}

#[derive(Serialize)]
pub struct UserIdView {
    pub user_id: String,
}

#[derive(Serialize)]
pub struct AccountIdView {
    pub account_id: String,
}

#[derive(Serialize)]
pub struct OrgRelationView {
    pub org_id: String,
    pub relation_type: String,
}

/// `ShowUserById` / `ShowUserByUserName`.
#[derive(Serialize)]
pub struct UserView {
    pub user_id: String,
    pub org_id: Option<String>,
    pub user_name: String,
    pub name: String,
    pub mobile: String,
    pub email: Option<String>,
    pub pwd_must_modify: bool,
    pub pwd_change_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub disabled: bool,
    pub grade: i64,
    pub locked: bool,
    pub extension: Map<String, Value>,
    pub user_org_relation_list: Vec<OrgRelationView>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        // The home organization is the "belongs to" (0) relation.
        let user_org_relation_list = u
            .org_id
            .iter()
            .map(|org_id| OrgRelationView {
                org_id: org_id.clone(),
                relation_type: "0".to_owned(),
            })
            .collect();
        Self {
            user_id: u.id,
            org_id: u.org_id,
            user_name: u.user_name,
            name: u.name,
            mobile: u.mobile,
            email: u.email,
            pwd_must_modify: u.pwd_must_modify,
            pwd_change_at: u.pwd_change_at.map(format_millis),
            created_at: format_millis(u.created_at),
            updated_at: format_millis(u.updated_at),
            disabled: u.disabled,
            grade: u.grade,
            locked: u.locked,
            extension: u.extension.unwrap_or_default(),
            user_org_relation_list,
        }
    }
}

/// `ShowAppAccountById` and the items of `ListAppAccounts`.
#[derive(Serialize)]
pub struct AccountView {
    pub id: String,
    pub account_name: String,
    pub account_type: &'static str,
    pub name: Option<String>,
    pub disabled: bool,
    /// Application organization id; application organizations arrive with their API.
    pub org_id: Option<String>,
    pub roles: Vec<Value>,
    pub extension: Map<String, Value>,
}

impl From<AppAccount> for AccountView {
    fn from(a: AppAccount) -> Self {
        Self {
            id: a.id,
            account_name: a.account_name,
            account_type: a.account_type.as_str(),
            name: a.name,
            disabled: a.disabled,
            org_id: None,
            roles: Vec::new(),
            extension: a.extension.unwrap_or_default(),
        }
    }
}

/// Items of `ListAppAccountsByUserId`.
#[derive(Serialize)]
pub struct UserAccountView {
    pub id: String,
    pub application_id: String,
    pub account_name: String,
    pub account_type: &'static str,
    pub name: Option<String>,
    pub extension: Map<String, Value>,
}

impl From<AppAccount> for UserAccountView {
    fn from(a: AppAccount) -> Self {
        Self {
            id: a.id,
            application_id: a.application_id,
            account_name: a.account_name,
            account_type: a.account_type.as_str(),
            name: a.name,
            extension: a.extension.unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
pub struct AccountList<T> {
    pub total: u64,
    pub accounts: Vec<T>,
}
