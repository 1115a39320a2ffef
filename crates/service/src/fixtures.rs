//! Fixtures (a Roster extension for test suites): a file's starting state applied in one
//! transaction — what is missing created, what differs changed, what matches left untouched, so
//! that applying it again writes nothing — and the current state exported in the same form.
//! Entries the file does not name are left alone. Passwords and client secrets are never
//! exported (they are kept only as digests).

use crate::accounts::add_account;
use crate::applications::{self, NewApplication};
use crate::organizations;
use crate::password_policy::set_password;
use crate::transfer::{all_pages, parents_first};
use crate::use_case::Cx;
use crate::users;
use crate::{Caller, Service};
use roster_domain::account::{AccountChanges, AccountId, NewAccount};
use roster_domain::application::Application;
use roster_domain::fixtures::{
    entry_error, CheckedApplication, CheckedFixtures, FixtureAccount, FixtureApplication,
    FixtureOrganization, FixtureRole, FixtureUser, Fixtures, FIXTURES_VERSION,
};
use roster_domain::organization::OrgChanges;
use roster_domain::password_policy::PasswordPolicy;
use roster_domain::permission::Access;
use roster_domain::role::{Role, RoleId};
use roster_domain::second_factor::MfaPolicy;
use roster_domain::user::{User, UserChanges};
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;
use roster_store::OrgScope;
use serde::Serialize;
use std::collections::HashMap;

/// What applying a file did, by entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FixturesApplied {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl FixturesApplied {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
}

fn changed(differs: bool) -> Outcome {
    if differs {
        Outcome::Updated
    } else {
        Outcome::Unchanged
    }
}

impl Service {
    /// Applies a fixtures file in one transaction (all of it, or nothing); says what it did.
    pub async fn apply_fixtures(&self, caller: &Caller, file: Fixtures) -> Result<FixturesApplied> {
        caller.require(Access::Admin)?;
        let base_policy = self.settings().password_policy.clone();
        let checked = file.check(&base_policy)?;
        // Passwords are hashed (or an existing hash checked) before the transaction: Argon2
        // does not belong on the writer.
        let hashes = self.fixture_password_hashes(&checked).await?;
        let applied = self
            .write(&caller.client_id, apply, (checked, hashes, base_policy))
            .await?;
        if applied.created + applied.updated > 0 {
            self.forget_everything_read();
        }
        Ok(applied)
    }

    /// The new hash of each user whose password the file sets and who does not have it yet.
    /// Each distinct password is hashed once, and each distinct (hash, password) checked once:
    /// a file of ten thousand users sharing a test password costs one Argon2 run, not ten
    /// thousand (the passwords are in the file in plain text: a shared salt hides nothing).
    async fn fixture_password_hashes(
        &self,
        checked: &CheckedFixtures,
    ) -> Result<HashMap<String, String>> {
        use futures::stream::{self, StreamExt, TryStreamExt};
        let wanted: Vec<(&str, &str)> = checked
            .users
            .iter()
            .filter_map(|u| Some((u.new.user_name.as_str(), u.new.password.as_deref()?)))
            .collect();
        let names = wanted.iter().map(|(name, _)| (*name).to_owned()).collect();
        let existing = self.read(password_hashes_of, names).await?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let hasher = &self.inner.passwords;
        // Which users already have their password, checking each (hash, password) once.
        let to_check: std::collections::HashSet<(String, String)> = wanted
            .iter()
            .filter_map(|(name, password)| {
                let hash = existing.get(*name)?.clone()?;
                Some((hash, (*password).to_owned()))
            })
            .collect();
        let checked_pairs: HashMap<(String, String), bool> = stream::iter(to_check)
            .map(|(hash, password)| async move {
                let ok = hasher.verify(password.clone(), hash.clone()).await?;
                Ok::<_, Error>(((hash, password), ok))
            })
            .buffer_unordered(2 * cores)
            .try_collect()
            .await?;
        let has_it =
            |name: &str, password: &str| {
                existing.get(name).cloned().flatten().is_some_and(|hash| {
                    checked_pairs.get(&(hash, password.to_owned())) == Some(&true)
                })
            };
        let needing: Vec<(&str, &str)> = wanted
            .into_iter()
            .filter(|(name, password)| !has_it(name, password))
            .collect();
        let distinct: std::collections::HashSet<&str> = needing.iter().map(|(_, p)| *p).collect();
        let hashes: HashMap<&str, String> = stream::iter(distinct)
            .map(|password| async move {
                Ok::<_, Error>((password, hasher.hash(password.to_owned()).await?))
            })
            .buffer_unordered(2 * cores)
            .try_collect()
            .await?;
        Ok(needing
            .into_iter()
            .filter_map(|(name, password)| Some((name.to_owned(), hashes.get(password)?.clone())))
            .collect())
    }

    /// The directory's current state as a fixtures file (without passwords or secrets).
    pub async fn export_fixtures(&self, caller: &Caller) -> Result<Fixtures> {
        caller.require(Access::Admin)?;
        self.snapshot(export, ()).await
    }
}

async fn password_hashes_of(
    tx: &mut dyn Tx,
    names: Vec<String>,
) -> Result<HashMap<String, Option<String>>> {
    let mut found = HashMap::with_capacity(names.len());
    for name in names {
        if let Some(user) = tx.user_by_name(&name).await? {
            found.insert(name, user.password_hash);
        }
    }
    Ok(found)
}

async fn apply(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (file, hashes, base_policy): (CheckedFixtures, HashMap<String, String>, PasswordPolicy),
) -> Result<FixturesApplied> {
    let mut applied = FixturesApplied::default();
    if let Some(name) = &file.tenant_name {
        let differs = tx.tenant_name().await?.as_deref() != Some(name.as_str());
        if differs {
            tx.put_tenant_name(name, cx.now).await?;
        }
        applied.count(changed(differs));
    }
    if let Some(fields) = file.password_policy {
        let current: Option<PasswordPolicy> =
            stored(tx.password_policy().await?, "password policy")?;
        let wanted = fields.apply(&base_policy)?;
        let differs = current.as_ref() != Some(&wanted);
        if differs {
            tx.put_password_policy(&to_json(&wanted)?, cx.now).await?;
        }
        applied.count(changed(differs));
    }
    if let Some(wanted) = file.mfa_policy {
        let current: Option<MfaPolicy> = stored(tx.mfa_policy().await?, "MFA policy")?;
        let differs = current.as_ref() != Some(&wanted);
        if differs {
            tx.put_mfa_policy(&to_json(&wanted)?, cx.now).await?;
        }
        applied.count(changed(differs));
    }
    for org in file.organizations {
        let outcome = apply_organization(tx, cx, org.fields, org.parent)
            .await
            .map_err(|e| entry_error(&org.entry, None, &e))?;
        applied.count(outcome);
    }
    for user in file.users {
        let hash = hashes.get(&user.new.user_name).cloned();
        let outcome = apply_user(tx, cx, user.new, user.disabled, hash)
            .await
            .map_err(|e| entry_error(&user.entry, None, &e))?;
        applied.count(outcome);
    }
    for app in file.applications {
        let entry = app.entry.clone();
        apply_application(tx, cx, app, &mut applied)
            .await
            .map_err(|e| entry_error(&entry, None, &e))?;
    }
    if applied.created + applied.updated > 0 {
        tx.announce_change().await?;
        cx.audit("ApplyFixtures", "directory", "fixtures");
    }
    Ok(applied)
}

fn stored<T: serde::de::DeserializeOwned>(text: Option<String>, what: &str) -> Result<Option<T>> {
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| Error::internal(format!("the stored {what}: {e}")))
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::internal(format!("a policy: {e}")))
}

async fn org_id_of(tx: &mut dyn Tx, code: &str) -> Result<String> {
    tx.organization_by_code(code)
        .await?
        .map(|o| o.id.into_string())
        .ok_or_else(|| {
            Error::with_detail(
                ErrorKind::ParentOrganizationNotFound,
                format!("no organization has code '{code}' (in the file, before this entry, or in the database)."),
            )
        })
}

async fn apply_organization(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    mut fields: OrgChanges,
    parent: Option<String>,
) -> Result<Outcome> {
    let parent_id = match &parent {
        Some(code) => Some(org_id_of(tx, code).await?),
        None => None,
    };
    let code = fields.code.clone().unwrap_or_default();
    match tx.organization_by_code(&code).await? {
        None => {
            fields.parent_id = parent_id;
            organizations::create(tx, cx, fields).await?;
            Ok(Outcome::Created)
        }
        Some(org) => {
            let differs = fields.name.as_ref().is_some_and(|n| *n != org.name)
                || fields.category.as_ref().is_some_and(|c| *c != org.category)
                || parent_id
                    .as_deref()
                    .is_some_and(|p| org.parent_id.as_ref().map(|i| i.as_str()) != Some(p));
            if differs {
                let changes = OrgChanges {
                    code: None,
                    name: fields.name,
                    parent_id: parent_id
                        .filter(|p| org.parent_id.as_ref().map(|i| i.as_str()) != Some(p.as_str())),
                    category: fields.category,
                };
                organizations::update(tx, cx, (org.id, changes)).await?;
            }
            Ok(changed(differs))
        }
    }
}

async fn apply_user(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    new: roster_domain::user::NewUser,
    disabled: bool,
    hash: Option<String>,
) -> Result<Outcome> {
    let Some(user) = tx.user_by_name(&new.user_name).await? else {
        let id = users::create(tx, cx, (new, hash)).await?;
        if disabled {
            users::set_disabled(tx, cx, (id, true)).await?;
        }
        return Ok(Outcome::Created);
    };
    // Disabling ends the user's sign-ins and disables their accounts, as DisableUser does.
    let disabled_differs = user.disabled != disabled;
    if disabled_differs {
        users::set_disabled(tx, cx, (user.id.clone(), disabled)).await?;
    }
    let org_id = match &new.org_code {
        Some(code) => Some(org_id_of(tx, code).await?),
        None => None,
    };
    let differs = user.mobile != new.mobile
        || user.name != new.name
        || new.email.is_some() && user.email != new.email
        || new.employee_id.is_some() && user.employee_id != new.employee_id
        || org_id.is_some() && user.org_id != org_id
        || user.pwd_must_modify != new.pwd_must_modify;
    if differs {
        let changes = UserChanges {
            mobile: Some(new.mobile),
            name: Some(new.name),
            email: new.email,
            employee_id: new.employee_id,
            org_code: new.org_code,
            pwd_must_modify: Some(new.pwd_must_modify),
            ..UserChanges::default()
        };
        users::update(tx, cx, (user.id.clone(), changes)).await?;
    }
    let Some(hash) = hash else {
        return Ok(changed(differs || disabled_differs));
    };
    let mut user = tx
        .user_by_name(&user.user_name)
        .await?
        .ok_or_else(|| Error::internal("a user changed by the fixtures is gone"))?;
    set_password(tx, &mut user, hash, cx.now).await?;
    if !new.pwd_must_modify && user.pwd_must_modify {
        user.pwd_must_modify = false;
        tx.update_user(&user).await?;
    }
    Ok(Outcome::Updated)
}

async fn apply_application(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    app: CheckedApplication,
    applied: &mut FixturesApplied,
) -> Result<()> {
    let current = match tx.application_by_client_id(&app.client_id).await? {
        None => {
            let secret = app.client_secret.clone().ok_or_else(|| {
                Error::invalid(
                    "client_secret: required for an application not yet in the database.",
                )
            })?;
            let new = NewApplication {
                name: app.name.clone(),
                client_id: app.client_id.clone(),
                client_secret: secret,
                permissions: app.permissions.clone(),
            };
            applications::create(tx, cx, (new, app.sso.clone())).await?;
            applied.count(Outcome::Created);
            tx.application_by_client_id(&app.client_id)
                .await?
                .ok_or_else(|| Error::internal("an application just created is gone"))?
        }
        Some(mut current) => {
            let new_digest = app.client_secret.as_deref().map(secret::digest);
            let secret_differs = new_digest
                .as_ref()
                .is_some_and(|d| *d != current.secret_digest);
            let differs = secret_differs
                || current.name != app.name
                || current.permissions != app.permissions;
            if differs {
                // As the API changes an application: a new secret ends the tokens issued
                // under the old one.
                let operation = if secret_differs {
                    "RotateClientSecret"
                } else {
                    "UpdateApplicationPermissions"
                };
                let (name, permissions) = (app.name.clone(), app.permissions.clone());
                let id = current.id.clone();
                applications::apply_change(
                    tx,
                    cx,
                    (id, operation, move |a: &mut Application| {
                        a.name = name;
                        a.permissions = permissions;
                        if let Some(digest) = new_digest {
                            a.secret_digest = digest;
                        }
                        Ok(())
                    }),
                )
                .await?;
                current.name = app.name.clone();
                current.permissions = app.permissions.clone();
            }
            let sso_differs = match &app.sso {
                Some(wanted) => tx.sso_settings(&current.id).await?.as_ref() != Some(wanted),
                None => false,
            };
            if let (true, Some(wanted)) = (sso_differs, &app.sso) {
                tx.put_sso_settings(&current.id, wanted, cx.now).await?;
                cx.audit("UpdateApplicationSso", "application", &current.id);
            }
            applied.count(changed(differs || sso_differs));
            current
        }
    };
    let roles = apply_roles(tx, cx, &current, &app.roles, applied).await?;
    for (i, account) in app.accounts.iter().enumerate() {
        let entry = format!("accounts[{i}] ({})", account.user);
        let outcome = apply_account(tx, cx, &current, account, &roles)
            .await
            .map_err(|e| entry_error(&entry, None, &e))?;
        applied.count(outcome);
    }
    Ok(())
}

/// The application's roles by code, those of the file made or renamed.
async fn apply_roles(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    app: &Application,
    wanted: &[(String, Option<String>)],
    applied: &mut FixturesApplied,
) -> Result<HashMap<String, RoleId>> {
    let existing: Vec<Role> = all_pages!(page => tx.list_roles(&app.id, page));
    let mut by_code: HashMap<String, Role> =
        existing.into_iter().map(|r| (r.code.clone(), r)).collect();
    for (code, name) in wanted {
        match by_code.get(code) {
            None => {
                let id = crate::roles::create(tx, cx, (app.id.clone(), code.clone(), name.clone()))
                    .await?;
                let role = tx
                    .role(&app.id, id.as_str())
                    .await?
                    .ok_or_else(|| Error::internal("a role just created is gone"))?;
                by_code.insert(code.clone(), role);
                applied.count(Outcome::Created);
            }
            Some(role) => {
                let differs = name.is_some() && role.name != *name;
                if let (true, Some(name)) = (differs, name) {
                    crate::roles::rename(tx, cx, (app.id.clone(), role.id.clone(), name.clone()))
                        .await?;
                }
                applied.count(changed(differs));
            }
        }
    }
    Ok(by_code
        .into_iter()
        .map(|(code, role)| (code, role.id))
        .collect())
}

async fn apply_account(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    app: &Application,
    wanted: &FixtureAccount,
    roles: &HashMap<String, RoleId>,
) -> Result<Outcome> {
    let user = tx.user_by_name(&wanted.user).await?.ok_or_else(|| {
        Error::with_detail(
            ErrorKind::UserNotFound,
            format!(
                "user: no user is named '{}' (in the file or the database).",
                wanted.user
            ),
        )
    })?;
    let held = tx
        .accounts_of_user(&user.id)
        .await?
        .into_iter()
        .find(|a| a.application_id == app.id);
    let (account_id, mut outcome): (AccountId, Outcome) = match held {
        None => {
            let new = NewAccount {
                account_name: wanted.account_name.clone(),
                ..NewAccount::default()
            };
            let id = add_account(tx, cx, app, &user, new).await?;
            cx.audit("CreateAppAccountForUser", "app_account", &id);
            (id, Outcome::Created)
        }
        Some(account) => {
            let differs = wanted
                .account_name
                .as_ref()
                .is_some_and(|n| *n != account.account_name);
            if differs {
                let changes = AccountChanges {
                    account_name: wanted.account_name.clone(),
                    ..AccountChanges::default()
                };
                crate::accounts::update(tx, cx, (app.id.clone(), account.id.clone(), changes))
                    .await?;
            }
            (account.id, changed(differs))
        }
    };
    for code in &wanted.roles {
        let role = roles.get(code).ok_or_else(|| {
            Error::invalid(format!(
                "roles: '{code}' is not a role of this application."
            ))
        })?;
        if tx
            .add_role_member(role.as_str(), &account_id, cx.now)
            .await?
        {
            cx.audit("CreateAppRoleMember", "app_role", role);
            if outcome == Outcome::Unchanged {
                outcome = Outcome::Updated;
            }
        }
    }
    Ok(outcome)
}

async fn export(tx: &mut dyn Tx, (): ()) -> Result<Fixtures> {
    let tenant_name = tx.tenant_name().await?;
    let password_policy = tx
        .password_policy()
        .await?
        .map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| Error::internal(format!("the stored password policy: {e}")))?;
    let mfa_policy = tx
        .mfa_policy()
        .await?
        .map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| Error::internal(format!("the stored MFA policy: {e}")))?;
    let orgs = all_pages!(page => tx.list_organizations(&OrgScope::All, page));
    let code_of: HashMap<String, String> = orgs
        .iter()
        .map(|o| (o.id.as_str().to_owned(), o.code.clone()))
        .collect();
    let organizations = parents_first(orgs, |o| {
        (o.id.as_str(), o.parent_id.as_ref().map(|p| p.as_str()))
    })
    .into_iter()
    .map(|o| FixtureOrganization {
        parent: o.parent_id.and_then(|p| code_of.get(p.as_str()).cloned()),
        code: o.code,
        name: o.name,
        category: Some(o.category),
    })
    .collect();
    let all_users: Vec<User> = all_pages!(page => tx.list_users(None, page));
    let name_of: HashMap<String, String> = all_users
        .iter()
        .map(|u| (u.id.as_str().to_owned(), u.user_name.clone()))
        .collect();
    let users = all_users
        .into_iter()
        .map(|u| FixtureUser {
            organization: u.org_id.as_deref().and_then(|id| code_of.get(id).cloned()),
            user_name: u.user_name,
            password: None,
            mobile: u.mobile,
            name: Some(u.name),
            email: u.email,
            employee_id: u.employee_id,
            pwd_must_modify: u.pwd_must_modify,
            disabled: u.disabled,
        })
        .collect();
    let apps: Vec<Application> = all_pages!(page => tx.list_applications(page));
    let mut applications = Vec::with_capacity(apps.len());
    for app in apps {
        let sso = tx
            .sso_settings(&app.id)
            .await?
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| Error::internal(format!("sign-in settings: {e}")))?;
        let app_roles: Vec<Role> = all_pages!(page => tx.list_roles(&app.id, page));
        let mut roles_of: HashMap<String, Vec<String>> = HashMap::new();
        for role in &app_roles {
            let members = all_pages!(page => tx.list_role_members(role.id.as_str(), page));
            for member in members {
                roles_of
                    .entry(member.id.into_string())
                    .or_default()
                    .push(role.code.clone());
            }
        }
        let held = all_pages!(page => tx.list_accounts(&app.id, None, page));
        let accounts = held
            .into_iter()
            .filter_map(|a| {
                let user = name_of.get(a.user_id.as_ref()?.as_str())?.clone();
                let mut roles = roles_of.remove(a.id.as_str()).unwrap_or_default();
                roles.sort();
                let account_name = (a.account_name != user).then_some(a.account_name);
                Some(FixtureAccount {
                    user,
                    account_name,
                    roles,
                })
            })
            .collect();
        applications.push(FixtureApplication {
            client_id: app.client_id,
            client_secret: None,
            name: app.name,
            permissions: app
                .permissions
                .scope()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            sso,
            roles: app_roles
                .into_iter()
                .map(|r| FixtureRole {
                    code: r.code,
                    name: r.name,
                })
                .collect(),
            accounts,
        });
    }
    Ok(Fixtures {
        version: Some(FIXTURES_VERSION),
        tenant_name,
        password_policy,
        mfa_policy,
        organizations,
        users,
        applications,
    })
}
