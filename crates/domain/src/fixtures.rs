//! Fixtures (a Roster extension for test suites): one file declaring a tenant's starting
//! state — organizations, users with passwords, applications with fixed client ids and
//! secrets, their sign-in settings, roles and accounts, the password and MFA policies and the
//! tenant's name — applied by `roster fixtures apply` or `roster serve --fixtures`. Entries
//! are keyed (organizations by code, users by user name, applications by client id, roles by
//! code, accounts by user), so applying a file again changes nothing. Here: the file's shape
//! and the checks that need no database, each error naming its entry and field.

use crate::account::validate_account_name;
use crate::application::{validate_client_id, validate_client_secret, validate_name};
use crate::organization::{OrgChanges, OrgFields};
use crate::password_policy::{PasswordPolicy, PasswordPolicyFields};
use crate::permission::{Permission, Permissions};
use crate::role::RoleFields;
use crate::second_factor::{MfaPolicy, MfaPolicyFields};
use crate::sso::{SsoFields, SsoSettings};
use crate::user::{NewUser, UserFields};
use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;

/// The only version of the file so far.
pub const FIXTURES_VERSION: u32 = 1;

/// A fixtures file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    /// The file's format: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The name the login page, console and portal show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_name: Option<String>,
    /// The password policy (the fields of `PUT /roster/v1/password-policy`; the others keep
    /// the configured values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<PasswordPolicyFields>))]
    pub password_policy: Option<Value>,
    /// The MFA policy (the body of `PUT /roster/v1/mfa-policy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<MfaPolicyFields>))]
    pub mfa_policy: Option<Value>,
    /// Organizations, a parent before its children.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organizations: Vec<FixtureOrganization>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<FixtureUser>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<FixtureApplication>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FixtureOrganization {
    /// The key: unique among organizations.
    pub code: String,
    pub name: String,
    /// The parent organization's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FixtureUser {
    /// The key: unique among users.
    pub user_name: String,
    /// In plain text, stored hashed. Left out: a new user has none, an existing one keeps
    /// theirs. Never exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub mobile: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<String>,
    /// The home organization's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Whether the password must be changed at the next sign-in (default false: a test user
    /// signs in with the password given here).
    #[serde(default, skip_serializing_if = "is_false")]
    pub pwd_must_modify: bool,
    /// A disabled user signs in to nothing; their accounts are disabled with them (default
    /// false).
    #[serde(default, skip_serializing_if = "is_false")]
    pub disabled: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FixtureApplication {
    /// The key: the client id, fixed (printable ASCII, no spaces).
    pub client_id: String,
    /// The client secret, fixed (16 characters or more). Needed for a new application; left
    /// out, an existing one keeps its own. Never exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub name: String,
    /// API permissions (`user_read`, `all`, …); none for an application users only sign in to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// The sign-in settings: the body of `PUT /roster/v1/applications/{id}/sso`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<SsoFields>))]
    pub sso: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<FixtureRole>,
    /// The users who have an account in the application.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<FixtureAccount>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FixtureRole {
    /// The key: unique in its application.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FixtureAccount {
    /// The key: the user's user name (in this file or the database).
    pub user: String,
    /// Default: the user's user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Codes of the application's roles the account holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// A file checked: every entry valid on its own, every key once.
#[derive(Debug, Clone)]
pub struct CheckedFixtures {
    pub tenant_name: Option<String>,
    pub password_policy: Option<PasswordPolicyFields>,
    pub mfa_policy: Option<MfaPolicy>,
    pub organizations: Vec<CheckedOrganization>,
    pub users: Vec<CheckedUser>,
    pub applications: Vec<CheckedApplication>,
}

#[derive(Debug, Clone)]
pub struct CheckedOrganization {
    pub entry: String,
    pub fields: OrgChanges,
    pub parent: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CheckedUser {
    pub entry: String,
    pub new: NewUser,
    pub disabled: bool,
}

#[derive(Debug, Clone)]
pub struct CheckedApplication {
    pub entry: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub name: String,
    pub permissions: Permissions,
    pub sso: Option<SsoSettings>,
    pub roles: Vec<(String, Option<String>)>,
    pub accounts: Vec<FixtureAccount>,
}

/// An error of entry `entry` (`users[2] (ann)`), field `field`.
pub fn entry_error(entry: &str, field: Option<&str>, e: &Error) -> Error {
    let what = e.detail().unwrap_or(e.kind().message());
    let at = match field {
        // The domain's messages mostly begin with the field's name already.
        Some(f) if !what.starts_with(f) => format!("{entry}: {f}: {what}"),
        _ => format!("{entry}: {what}"),
    };
    Error::with_detail(ErrorKind::InvalidParameter, at)
}

fn once(seen: &mut HashSet<String>, key: &str, entry: &str, field: &str) -> Result<()> {
    if seen.insert(key.to_owned()) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{entry}: {field}: '{key}' is given twice in the file."
        )))
    }
}

fn from_value<T: serde::de::DeserializeOwned>(value: Value, entry: &str, field: &str) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::invalid(format!("{entry}: {field}: {e}")))
}

impl Fixtures {
    /// Checks every entry on its own and every key for uniqueness; what needs the database
    /// (a parent or a user named but not in the file) is the service's to check.
    pub fn check(self, base_policy: &PasswordPolicy) -> Result<CheckedFixtures> {
        if let Some(v) = self.version.filter(|v| *v != FIXTURES_VERSION) {
            return Err(Error::invalid(format!(
                "version: {v} is not a fixtures version this server reads ({FIXTURES_VERSION})."
            )));
        }
        let tenant_name = match self.tenant_name {
            Some(name) => Some(
                crate::validate::required(
                    "tenant_name",
                    Some(name.trim().to_owned()),
                    crate::console::MAX_TENANT_NAME_CHARS,
                )
                .map_err(|e| entry_error("tenant_name", None, &e))?,
            ),
            None => None,
        };
        // The users' passwords meet the policy the file sets, if it sets one.
        let (password_policy, in_force) = match self.password_policy {
            Some(v) => {
                let fields: PasswordPolicyFields = from_value(v, "password_policy", "fields")?;
                let policy = fields
                    .clone()
                    .apply(base_policy)
                    .map_err(|e| entry_error("password_policy", None, &e))?;
                (Some(fields), policy)
            }
            None => (None, base_policy.clone()),
        };
        let mfa_policy = match self.mfa_policy {
            Some(v) => Some(
                from_value::<MfaPolicyFields>(v, "mfa_policy", "fields")?
                    .policy()
                    .map_err(|e| entry_error("mfa_policy", None, &e))?,
            ),
            None => None,
        };
        let mut codes = HashSet::new();
        let mut organizations = Vec::with_capacity(self.organizations.len());
        for (i, org) in self.organizations.into_iter().enumerate() {
            let entry = format!("organizations[{i}] ({})", org.code);
            once(&mut codes, &org.code, &entry, "code")?;
            if let Some(parent) = &org.parent {
                if parent == &org.code {
                    return Err(Error::invalid(format!(
                        "{entry}: parent: an organization cannot be its own parent."
                    )));
                }
            }
            let fields = OrgFields {
                code: Some(org.code),
                name: Some(org.name),
                parent_id: None,
                category: org.category,
            }
            .into_new()
            .map_err(|e| entry_error(&entry, None, &e))?;
            organizations.push(CheckedOrganization {
                entry,
                fields,
                parent: org.parent,
            });
        }
        let mut names = HashSet::new();
        let mut users = Vec::with_capacity(self.users.len());
        for (i, user) in self.users.into_iter().enumerate() {
            let entry = format!("users[{i}] ({})", user.user_name);
            once(&mut names, &user.user_name, &entry, "user_name")?;
            let disabled = user.disabled;
            if let Some(p) = &user.password {
                in_force
                    .check(p)
                    .map_err(|e| entry_error(&entry, Some("password"), &e))?;
            }
            let new = UserFields {
                user_name: Some(user.user_name),
                mobile: Some(user.mobile),
                password: user.password,
                org_code: user.organization,
                name: user.name,
                email: user.email,
                employee_id: user.employee_id,
                pwd_must_modify: Some(user.pwd_must_modify),
                ..UserFields::default()
            }
            .into_new_user()
            .map_err(|e| entry_error(&entry, None, &e))?;
            users.push(CheckedUser {
                entry,
                new,
                disabled,
            });
        }
        let mut client_ids = HashSet::new();
        let mut applications = Vec::with_capacity(self.applications.len());
        for (i, app) in self.applications.into_iter().enumerate() {
            let entry = format!("applications[{i}] ({})", app.client_id);
            once(&mut client_ids, &app.client_id, &entry, "client_id")?;
            validate_client_id(&app.client_id).map_err(|e| entry_error(&entry, None, &e))?;
            if let Some(secret) = &app.client_secret {
                validate_client_secret(secret).map_err(|e| entry_error(&entry, None, &e))?;
            }
            let name =
                validate_name(Some(app.name)).map_err(|e| entry_error(&entry, Some("name"), &e))?;
            let permissions = app
                .permissions
                .iter()
                .map(|p| Permission::parse(p))
                .collect::<Result<Vec<_>>>()
                .map_err(|e| entry_error(&entry, Some("permissions"), &e))?;
            let sso = match app.sso {
                Some(v) => Some(
                    from_value::<SsoFields>(v, &entry, "sso")?
                        .into_settings()
                        .map_err(|e| entry_error(&entry, Some("sso"), &e))?,
                ),
                None => None,
            };
            let mut role_codes = HashSet::new();
            let mut roles = Vec::with_capacity(app.roles.len());
            for (r, role) in app.roles.into_iter().enumerate() {
                let entry = format!("{entry}.roles[{r}] ({})", role.code);
                once(&mut role_codes, &role.code, &entry, "code")?;
                let checked = RoleFields {
                    code: Some(role.code),
                    name: role.name,
                }
                .into_new()
                .map_err(|e| entry_error(&entry, None, &e))?;
                roles.push(checked);
            }
            let mut holders = HashSet::new();
            for (a, account) in app.accounts.iter().enumerate() {
                let entry = format!("{entry}.accounts[{a}] ({})", account.user);
                once(&mut holders, &account.user, &entry, "user")?;
                if let Some(name) = &account.account_name {
                    validate_account_name(Some(name.clone()))
                        .map_err(|e| entry_error(&entry, None, &e))?;
                }
                if let Some(missing) = account.roles.iter().find(|r| !role_codes.contains(*r)) {
                    return Err(Error::invalid(format!(
                        "{entry}: roles: '{missing}' is not a role of this application in the file."
                    )));
                }
            }
            applications.push(CheckedApplication {
                entry,
                client_id: app.client_id,
                client_secret: app.client_secret,
                name,
                permissions: Permissions::new(permissions),
                sso,
                roles,
                accounts: app.accounts,
            });
        }
        Ok(CheckedFixtures {
            tenant_name,
            password_policy,
            mfa_policy,
            organizations,
            users,
            applications,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(file: Value) -> String {
        let fixtures: Fixtures = match serde_json::from_value(file) {
            Ok(f) => f,
            Err(e) => return e.to_string(),
        };
        match fixtures.check(&PasswordPolicy::default()) {
            Ok(_) => String::new(),
            Err(e) => e.detail().unwrap_or_default().to_owned(),
        }
    }

    #[test]
    fn a_file_is_checked_entry_by_entry_naming_the_entry_and_field() {
        let good = serde_json::json!({
            "version": 1,
            "organizations": [{"code": "hq", "name": "HQ"}, {"code": "dev", "name": "Dev", "parent": "hq"}],
            "users": [{"user_name": "ann", "mobile": "13800000001", "password": "Secret-123", "organization": "dev"}],
            "applications": [{"client_id": "billing", "client_secret": "billing-secret-0123",
                "name": "Billing", "permissions": ["user_read"],
                "sso": {"protocol": "oidc", "redirect_uris": ["https://billing.example.com/cb"]},
                "roles": [{"code": "admin"}], "accounts": [{"user": "ann", "roles": ["admin"]}]}]
        });
        assert_eq!(refusal(good), "");
        for (file, says) in [
            (serde_json::json!({"version": 2}), "version: 2"),
            (
                serde_json::json!({"users": [{"user_name": "ann", "mobile": "x"}]}),
                "users[0] (ann): mobile",
            ),
            (
                serde_json::json!({"users": [{"user_name": "ann", "mobile": "13800000001"},
                {"user_name": "ann", "mobile": "13800000002"}]}),
                "users[1] (ann): user_name: 'ann' is given twice",
            ),
            (
                serde_json::json!({"users": [{"user_name": "ann", "mobile": "13800000001", "password": "short"}]}),
                "users[0] (ann): password",
            ),
            (
                serde_json::json!({"applications": [{"client_id": "a b", "name": "A"}]}),
                "applications[0] (a b): client_id",
            ),
            (
                serde_json::json!({"applications": [{"client_id": "a", "name": "A", "client_secret": "short"}]}),
                "applications[0] (a): client_secret",
            ),
            (
                serde_json::json!({"applications": [{"client_id": "a", "name": "A", "permissions": ["fly"]}]}),
                "applications[0] (a): permissions",
            ),
            (
                serde_json::json!({"applications": [{"client_id": "a", "name": "A", "sso": {"protocol": "oidc", "colour": 1}}]}),
                "applications[0] (a): sso: unknown field `colour`",
            ),
            (
                serde_json::json!({"applications": [{"client_id": "a", "name": "A",
                "accounts": [{"user": "ann", "roles": ["boss"]}]}]}),
                "applications[0] (a).accounts[0] (ann): roles: 'boss'",
            ),
            (
                serde_json::json!({"organizations": [{"code": "hq", "name": "HQ", "parent": "hq"}]}),
                "organizations[0] (hq): parent",
            ),
            (
                serde_json::json!({"mfa_policy": {"mode": "sometimes"}}),
                "mfa_policy: fields",
            ),
            (serde_json::json!({"userz": []}), "unknown field `userz`"),
        ] {
            let said = refusal(file.clone());
            assert!(said.contains(says), "{file}: {said}");
        }
    }
}
