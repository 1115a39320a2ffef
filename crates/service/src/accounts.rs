//! Application accounts: authorizing a user into an application, adding, updating, reading,
//! listing, enabling, disabling and deleting accounts.
//!
//! Errors come in the order a client expects: the resources the path names (in path order),
//! then those the body names, then duplicates (the user's account before the account name).
//! The database's unique constraints back the duplicate checks, so concurrent requests
//! cannot both succeed.

use crate::lookups::{
    app_org_id, existing_account, existing_application, existing_user,
    existing_user_and_application,
};
use crate::use_case::Cx;
use crate::{Caller, Service};
use roster_domain::account::AccountId;
use roster_domain::account::{
    AccountChanges, AccountFields, AccountType, AppAccount, AuthorizeFields, NewAccount,
};
use roster_domain::application::Application;
use roster_domain::application::ApplicationId;
use roster_domain::page::{Page, PageRequest};
use roster_domain::permission::Access;
use roster_domain::role::Role;
use roster_domain::time::Millis;
use roster_domain::user::User;
use roster_domain::user::UserId;
use roster_domain::{ErrorKind, Result};
use roster_store::prelude::*;

/// An account with the roles it holds.
#[derive(Debug, Clone)]
pub struct AccountDetails {
    pub account: AppAccount,
    pub roles: Vec<Role>,
}

/// Attaches to each account the roles it holds, in one query.
pub(crate) async fn with_roles(
    tx: &mut dyn Tx,
    accounts: Vec<AppAccount>,
) -> Result<Vec<AccountDetails>> {
    let ids: Vec<AccountId> = accounts.iter().map(|a| a.id.clone()).collect();
    let mut held = tx.roles_of_accounts(&ids).await?;
    Ok(accounts
        .into_iter()
        .map(|account| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                held.drain(..).partition(|(id, _)| *id == account.id);
            held = rest;
            AccountDetails {
                roles: mine.into_iter().map(|(_, r)| r).collect(),
                account,
            }
        })
        .collect())
}

impl Service {
    /// Authorizes an application account to a user
    /// (`POST /users/{user_id}/applications/{application_id}/accounts`).
    pub async fn authorize_account(
        &self,
        caller: &Caller,
        user_id: UserId,
        application_id: ApplicationId,
        fields: AuthorizeFields,
    ) -> Result<AccountId> {
        caller.require(Access::UserWrite)?;
        let new = fields.into_new_account()?;
        self.write(&caller.client_id, authorize, (user_id, application_id, new))
            .await
    }

    /// Grants an account in the application to every user whose home is the organization
    /// with `org_code` and who holds none yet (the console; at most [`MAX_ORG_GRANT`] users,
    /// all in one transaction). Says how many were granted.
    pub async fn grant_accounts_to_organization(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        org_code: String,
    ) -> Result<u64> {
        caller.require(Access::UserWrite)?;
        let org_code = roster_domain::validate::required("org_code", Some(org_code), 64)?;
        self.write(
            &caller.client_id,
            grant_to_organization,
            (application_id, org_code),
        )
        .await
    }

    /// Adds an application account (`POST /applications/{application_id}/accounts/basic-account`).
    pub async fn add_basic_account(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        fields: AccountFields,
    ) -> Result<AccountId> {
        caller.require(Access::AccountWrite)?;
        let (user_id, mut new) = fields.into_new_account()?;
        new.password = self.seal(new.password)?;
        let user_id = UserId::new(user_id);
        self.write(&caller.client_id, add_basic, (application_id, user_id, new))
            .await
    }

    /// Updates an application account; absent fields keep their values.
    pub async fn update_account(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        account_id: AccountId,
        fields: AccountFields,
    ) -> Result<AccountId> {
        caller.require(Access::AccountWrite)?;
        let mut changes = fields.into_changes()?;
        changes.password = self.seal(changes.password)?;
        self.write(
            &caller.client_id,
            update,
            (application_id, account_id, changes),
        )
        .await
    }

    /// `EnableAppAccount` / `DisableAppAccount`.
    pub async fn set_account_disabled(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        account_id: AccountId,
        disabled: bool,
    ) -> Result<AccountId> {
        caller.require(Access::AccountWrite)?;
        self.write(
            &caller.client_id,
            set_disabled,
            (application_id, account_id, disabled),
        )
        .await
    }

    /// `DeleteAppAccount`; its role grants go with it.
    pub async fn delete_account(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        account_id: AccountId,
    ) -> Result<()> {
        caller.require(Access::AccountWrite)?;
        self.write(&caller.client_id, delete, (application_id, account_id))
            .await
    }

    /// `ShowAppAccountById`.
    pub async fn show_account(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        account_id: AccountId,
    ) -> Result<AccountDetails> {
        caller.require(Access::AccountRead)?;
        self.read(show, (application_id, account_id)).await
    }

    /// `ListAppAccounts`, optionally of one `account_type`.
    pub async fn list_accounts(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        account_type: Option<AccountType>,
        page: PageRequest,
    ) -> Result<Page<AccountDetails>> {
        caller.require(Access::AccountRead)?;
        self.read(list, (application_id, account_type, page)).await
    }

    /// `ListAppAccountsByUserId`: every account of a user (at most one per application).
    pub async fn accounts_of_user(
        &self,
        caller: &Caller,
        user_id: UserId,
    ) -> Result<Vec<AppAccount>> {
        caller.require(Access::UserRead)?;
        self.read(of_user, user_id).await
    }
}

async fn authorize(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (user_id, application_id, new): (UserId, ApplicationId, NewAccount),
) -> Result<AccountId> {
    let (user, app) = existing_user_and_application(tx, &user_id, &application_id).await?;
    let id = add_account(tx, cx, &app, &user, new).await?;
    cx.audit("CreateAppAccountForUser", "app_account", &id);
    Ok(id)
}

/// Most users one grant to an organization gives accounts to.
pub const MAX_ORG_GRANT: i64 = 10_000;

async fn grant_to_organization(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, org_code): (ApplicationId, String),
) -> Result<u64> {
    let app = existing_application(tx, &application_id).await?;
    let org_id = crate::lookups::org_id_for_code(tx, &org_code).await?;
    const PAGE: i64 = 100;
    let mut granted = 0;
    let mut offset = 0;
    loop {
        let users = tx
            .list_users(
                Some(&org_id),
                PageRequest {
                    offset,
                    limit: PAGE,
                },
            )
            .await?;
        if users.total > MAX_ORG_GRANT {
            return Err(roster_domain::Error::invalid(format!(
                "The organization has {} users; one grant gives accounts to at most \
                 {MAX_ORG_GRANT}: grant to its sub-organizations instead.",
                users.total
            )));
        }
        for user in &users.items {
            let held = tx.accounts_of_user(&user.id).await?;
            if held.iter().any(|a| a.application_id == app.id) {
                continue;
            }
            let id = add_account(tx, cx, &app, user, NewAccount::default()).await?;
            cx.audit("CreateAppAccountForUser", "app_account", &id);
            granted += 1;
        }
        if i64::try_from(users.items.len()).unwrap_or(0) < PAGE {
            return Ok(granted);
        }
        offset += 1;
    }
}

async fn add_basic(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, user_id, new): (ApplicationId, UserId, NewAccount),
) -> Result<AccountId> {
    let app = existing_application(tx, &application_id).await?;
    let user = existing_user(tx, &user_id).await?;
    let id = add_account(tx, cx, &app, &user, new).await?;
    cx.audit("CreateAppAccount", "app_account", &id);
    Ok(id)
}

/// Adds `user`'s account to `app` once both are known to exist; a disabled application takes
/// no new accounts (the reference's `APP.0003`).
pub(crate) async fn add_account(
    tx: &mut dyn Tx,
    cx: &Cx,
    app: &Application,
    user: &User,
    new: NewAccount,
) -> Result<AccountId> {
    if app.disabled {
        return Err(ErrorKind::ApplicationDisabled.into());
    }
    let account_name = new.account_name.unwrap_or_else(|| user.user_name.clone());
    // No look-before-insert: the insert itself answers "this user already has an account"
    // before "the name is taken" (see the store), in one statement and without races.
    let org_id = match &new.org_code {
        Some(code) => Some(app_org_id(tx, &app.id, code).await?),
        None => None,
    };
    let account = AppAccount {
        id: AccountId::generate(cx.now),
        application_id: app.id.clone(),
        user_id: Some(user.id.clone()),
        account_name,
        account_type: AccountType::Basic,
        name: new.name,
        org_id,
        password: new.password,
        disabled: new.disabled,
        disabled_by_user: false,
        extension: new.extension,
        created_at: cx.now,
        updated_at: cx.now,
    };
    tx.insert_account(&account).await?;
    Ok(account.id)
}

pub(crate) async fn update(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, account_id, changes): (ApplicationId, AccountId, AccountChanges),
) -> Result<AccountId> {
    existing_application(tx, &application_id).await?;
    let mut account = existing_account(tx, &application_id, &account_id).await?;
    if let Some(name) = changes.account_name {
        // A name another account holds is refused by the unique constraint.
        account.account_name = name;
    }
    if let Some(code) = &changes.org_code {
        account.org_id = Some(app_org_id(tx, &application_id, code).await?);
    }
    if let Some(name) = changes.name {
        account.name = Some(name);
    }
    if let Some(password) = changes.password {
        account.password = Some(password);
    }
    if let Some(disabled) = changes.disabled {
        account.disabled = disabled;
        account.disabled_by_user = false;
    }
    if let Some(extension) = changes.extension {
        account.extension = Some(extension);
    }
    account.updated_at = cx.now;
    tx.update_account(&account).await?;
    if changes.disabled == Some(true) {
        end_sign_ins(tx, &account, cx.now).await?;
    }
    cx.audit("UpdateAppAccount", "app_account", &account.id);
    Ok(account.id)
}

async fn set_disabled(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, account_id, disabled): (ApplicationId, AccountId, bool),
) -> Result<AccountId> {
    existing_application(tx, &application_id).await?;
    let mut account = existing_account(tx, &application_id, &account_id).await?;
    account.disabled = disabled;
    account.disabled_by_user = false;
    account.updated_at = cx.now;
    tx.update_account(&account).await?;
    if disabled {
        end_sign_ins(tx, &account, cx.now).await?;
    }
    let operation = if disabled {
        "DisableAppAccount"
    } else {
        "EnableAppAccount"
    };
    cx.audit(operation, "app_account", &account.id);
    Ok(account.id)
}

async fn delete(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, account_id): (ApplicationId, AccountId),
) -> Result<()> {
    existing_application(tx, &application_id).await?;
    let account = existing_account(tx, &application_id, &account_id).await?;
    end_sign_ins(tx, &account, cx.now).await?;
    tx.delete_account(&application_id, &account.id).await?;
    cx.audit("DeleteAppAccount", "app_account", &account.id);
    Ok(())
}

async fn show(
    tx: &mut dyn Tx,
    (application_id, account_id): (ApplicationId, AccountId),
) -> Result<AccountDetails> {
    // An account found under the application proves the application exists; only a miss
    // needs the second look-up, to say which one is unknown.
    match tx.account_with_roles(&application_id, &account_id).await? {
        Some((account, roles)) => Ok(AccountDetails { account, roles }),
        None => {
            existing_application(tx, &application_id).await?;
            Err(ErrorKind::AppAccountNotFound.into())
        }
    }
}

async fn list(
    tx: &mut dyn Tx,
    (application_id, account_type, page): (ApplicationId, Option<AccountType>, PageRequest),
) -> Result<Page<AccountDetails>> {
    existing_application(tx, &application_id).await?;
    let page = tx
        .list_accounts(&application_id, account_type, page)
        .await?;
    Ok(Page {
        total: page.total,
        items: with_roles(tx, page.items).await?,
    })
}

async fn of_user(tx: &mut dyn Tx, user_id: UserId) -> Result<Vec<AppAccount>> {
    existing_user(tx, &user_id).await?;
    tx.accounts_of_user(&user_id).await
}

/// Ends what the account's user signed in to its application with (an orphan account has
/// nothing to end).
async fn end_sign_ins(tx: &mut dyn Tx, account: &AppAccount, at: Millis) -> Result<()> {
    if let Some(user_id) = &account.user_id {
        tx.end_sign_ins(user_id, Some(&account.application_id), at)
            .await?;
    }
    Ok(())
}
