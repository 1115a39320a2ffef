//! Response bodies, shaped exactly as the reference shapes them.

use roster_domain::account::AccountId;
use roster_domain::account::AppAccount;
use roster_domain::application::Application;
use roster_domain::application::ApplicationId;
use roster_domain::organization::{AppOrganization, Organization};
use roster_domain::page::Page;
use roster_domain::role::Role;
use roster_domain::time::format_millis;
use roster_domain::user::UserId;
use roster_domain::user::{RelationType, User};
use roster_service::{AccountDetails, MemberChange, NewCredentials};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
    /// Client-credential tokens stand for no user, so there is no ID token.
    pub id_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UserIdView {
    #[schema(value_type = String)]
    pub user_id: UserId,
}

#[derive(Serialize, ToSchema)]
pub struct AccountIdView {
    #[schema(value_type = String)]
    pub account_id: AccountId,
}

#[derive(Serialize, ToSchema)]
pub struct OrgRelationView {
    pub org_id: String,
    pub relation_type: String,
}

/// `ShowUserById` / `ShowUserByUserName`: a list item and the organization relations.
#[derive(Serialize, ToSchema)]
pub struct UserView {
    #[serde(flatten)]
    pub user: UserListItem,
    pub user_org_relation_list: Vec<OrgRelationView>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        // The home organization is the "belongs to" (0) relation; the others are "1".
        let relation = |org_id: &String, kind: RelationType| OrgRelationView {
            org_id: org_id.clone(),
            relation_type: kind.code().to_owned(),
        };
        let user_org_relation_list = user
            .org_id
            .iter()
            .map(|org_id| relation(org_id, RelationType::Home))
            .chain(
                user.secondary_org_ids
                    .iter()
                    .map(|org_id| relation(org_id, RelationType::Secondary)),
            )
            .collect();
        Self {
            user: user.into(),
            user_org_relation_list,
        }
    }
}

/// `RolesInfo` of an account. Roster keeps no privileges below roles, so `privileges` is empty.
#[derive(Serialize, ToSchema)]
pub struct AccountRoleView {
    pub role_id: String,
    pub role_code: String,
    pub role_name: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub privileges: Vec<Value>,
}

/// `ShowAppAccountById` and the items of `ListAppAccounts`.
#[derive(Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    pub account_name: String,
    pub account_type: &'static str,
    pub name: Option<String>,
    pub disabled: bool,
    /// Application organization id.
    pub org_id: Option<String>,
    pub roles: Vec<AccountRoleView>,
    #[schema(value_type = Object)]
    pub extension: Map<String, Value>,
}

impl From<AccountDetails> for AccountView {
    fn from(d: AccountDetails) -> Self {
        let a = d.account;
        Self {
            id: a.id.into_string(),
            account_name: a.account_name,
            account_type: a.account_type.as_str(),
            name: a.name,
            disabled: a.disabled,
            org_id: a.org_id,
            roles: d
                .roles
                .into_iter()
                .map(|r| AccountRoleView {
                    role_id: r.id.into_string(),
                    role_code: r.code,
                    role_name: r.name,
                    privileges: Vec::new(),
                })
                .collect(),
            extension: a.extension.unwrap_or_default(),
        }
    }
}

/// Items of `ListAppRoleMembers`.
#[derive(Serialize, ToSchema)]
pub struct RoleMemberView {
    pub id: String,
    pub account_name: String,
    pub name: Option<String>,
    pub org_id: Option<String>,
    pub disabled: bool,
    pub account_type: &'static str,
    #[schema(value_type = Object)]
    pub extension: Map<String, Value>,
}

impl From<AccountDetails> for RoleMemberView {
    fn from(d: AccountDetails) -> Self {
        let a = d.account;
        Self {
            id: a.id.into_string(),
            account_name: a.account_name,
            name: a.name,
            org_id: a.org_id,
            disabled: a.disabled,
            account_type: a.account_type.as_str(),
            extension: a.extension.unwrap_or_default(),
        }
    }
}

/// Items of `ListAppAccountsByUserId`.
#[derive(Serialize, ToSchema)]
pub struct UserAccountView {
    pub id: String,
    pub application_id: String,
    pub account_name: String,
    pub account_type: &'static str,
    pub name: Option<String>,
    #[schema(value_type = Object)]
    pub extension: Map<String, Value>,
}

impl From<AppAccount> for UserAccountView {
    fn from(a: AppAccount) -> Self {
        Self {
            id: a.id.into_string(),
            application_id: a.application_id.into_string(),
            account_name: a.account_name,
            account_type: a.account_type.as_str(),
            name: a.name,
            extension: a.extension.unwrap_or_default(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AccountList<T> {
    pub total: i64,
    pub accounts: Vec<T>,
}

impl<T> AccountList<T> {
    pub fn from_page<U: Into<T>>(page: Page<U>) -> Self {
        Self {
            total: page.total,
            accounts: page.items.into_iter().map(Into::into).collect(),
        }
    }
}

/// Items of `ListUsers`, and the user details less the organization relations.
#[derive(Serialize, ToSchema)]
pub struct UserListItem {
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
    #[schema(value_type = Object)]
    pub extension: Map<String, Value>,
}

impl From<User> for UserListItem {
    fn from(u: User) -> Self {
        Self {
            user_id: u.id.into_string(),
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
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub total: i64,
    pub users: Vec<UserListItem>,
}

#[derive(Serialize, ToSchema)]
pub struct OrgIdView {
    pub org_id: String,
}

/// `ShowOrganizationById` and the items of `ListOrganizations`.
#[derive(Serialize, ToSchema)]
pub struct OrgView {
    pub org_id: String,
    pub org_code: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub category: String,
}

impl From<Organization> for OrgView {
    fn from(o: Organization) -> Self {
        Self {
            org_id: o.id.into_string(),
            org_code: o.code,
            name: o.name,
            parent_id: o.parent_id.map(|p| p.into_string()),
            category: o.category,
        }
    }
}

/// `ShowAppOrgById` and the items of `ListAppOrganizations`.
#[derive(Serialize, ToSchema)]
pub struct AppOrgView {
    pub org_id: String,
    pub org_code: String,
    pub name: String,
    pub parent_id: Option<String>,
}

impl From<AppOrganization> for AppOrgView {
    fn from(o: AppOrganization) -> Self {
        Self {
            org_id: o.id.into_string(),
            org_code: o.code,
            name: o.name,
            parent_id: o.parent_id.map(|p| p.into_string()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrgList<T> {
    pub total: i64,
    pub organizations: Vec<T>,
}

impl<T> OrgList<T> {
    pub fn from_page<U: Into<T>>(page: Page<U>) -> Self {
        Self {
            total: page.total,
            organizations: page.items.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoleIdView {
    pub role_id: String,
}

/// `ShowAppRoleById` and the items of `ListAppRoles`: note the reference's camelCase times.
#[derive(Serialize, ToSchema)]
pub struct RoleView {
    pub id: String,
    pub code: String,
    pub name: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: Option<String>,
}

impl From<Role> for RoleView {
    fn from(r: Role) -> Self {
        Self {
            id: r.id.into_string(),
            code: r.code,
            name: r.name,
            created_at: format_millis(r.created_at),
            updated_at: r.updated_at.map(format_millis),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoleList {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub roles: Vec<RoleView>,
}

#[derive(Serialize, ToSchema)]
pub struct RoleMemberList {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub role_members: Vec<RoleMemberView>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberChangeView {
    pub success_list: Vec<String>,
    pub fail_list: Vec<String>,
}

impl From<MemberChange> for MemberChangeView {
    fn from(c: MemberChange) -> Self {
        Self {
            success_list: c.success_list,
            fail_list: c.fail_list,
        }
    }
}

/// Roster extension: an application as administrators see it (never its secret).
#[derive(Serialize, ToSchema)]
pub struct ApplicationView {
    pub application_id: String,
    pub name: String,
    pub client_id: String,
    pub api_permissions: Vec<String>,
    pub disabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Application> for ApplicationView {
    fn from(a: Application) -> Self {
        Self {
            api_permissions: a
                .permissions
                .scope()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            application_id: a.id.into_string(),
            name: a.name,
            client_id: a.client_id,
            disabled: a.disabled,
            created_at: format_millis(a.created_at),
            updated_at: format_millis(a.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationList {
    pub total: i64,
    pub applications: Vec<ApplicationView>,
}

impl From<Page<Application>> for ApplicationList {
    fn from(page: Page<Application>) -> Self {
        Self {
            total: page.total,
            applications: page.items.into_iter().map(Into::into).collect(),
        }
    }
}

/// Roster extension: credentials, shown once.
#[derive(Serialize, ToSchema)]
pub struct CredentialsView {
    pub application_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl From<NewCredentials> for CredentialsView {
    fn from(c: NewCredentials) -> Self {
        Self {
            application_id: c.application_id.into_string(),
            client_id: c.client_id,
            client_secret: c.client_secret,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationIdView {
    #[schema(value_type = String)]
    pub application_id: ApplicationId,
}

/// Roster extension: one audit record.
#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub operation: String,
    pub target_type: String,
    pub target_id: String,
    /// Events the record stands for: refused token requests are counted per client id,
    /// address and reason over an interval; 1 otherwise.
    pub count: i64,
}

impl From<roster_domain::audit::AuditEntry> for AuditView {
    fn from(e: roster_domain::audit::AuditEntry) -> Self {
        Self {
            id: e.id,
            at: format_millis(e.at),
            actor: e.actor,
            operation: e.operation,
            target_type: e.target_type,
            target_id: e.target_id,
            count: e.count,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub total: i64,
    pub records: Vec<AuditView>,
}

impl From<Page<roster_domain::audit::AuditEntry>> for AuditList {
    fn from(page: Page<roster_domain::audit::AuditEntry>) -> Self {
        Self {
            total: page.total,
            records: page.items.into_iter().map(Into::into).collect(),
        }
    }
}
