//! Application accounts: authorizing a user into an application, adding, updating and reading
//! accounts.
//!
//! Errors come in the order a client expects: the resources the path names (in path order),
//! then those the body names, then duplicates (the user's account before the account name).
//! The database's unique constraints back the duplicate checks, so concurrent requests
//! cannot both succeed.

use crate::{audit, Caller, Service};
use roster_domain::account::{AccountFields, AccountType, AppAccount, AuthorizeFields, NewAccount};
use roster_domain::application::Application;
use roster_domain::permission::Access;
use roster_domain::time::now_millis;
use roster_domain::user::User;
use roster_domain::{id, ErrorKind, Result};
use roster_store::Tx;

async fn existing_user(tx: &mut dyn Tx, user_id: &str) -> Result<User> {
    tx.user(user_id)
        .await?
        .ok_or_else(|| ErrorKind::UserNotFound.into())
}

async fn existing_application(tx: &mut dyn Tx, application_id: &str) -> Result<Application> {
    tx.application(application_id)
        .await?
        .ok_or_else(|| ErrorKind::ApplicationNotFound.into())
}

async fn existing_account(
    tx: &mut dyn Tx,
    application_id: &str,
    account_id: &str,
) -> Result<AppAccount> {
    tx.account(application_id, account_id)
        .await?
        .ok_or_else(|| ErrorKind::AppAccountNotFound.into())
}

/// Adds `user`'s account to `app` once both are known to exist.
async fn add_account(
    tx: &mut dyn Tx,
    actor: &str,
    operation: &'static str,
    app: &Application,
    user: &User,
    new: NewAccount,
) -> Result<String> {
    let account_name = new.account_name.unwrap_or_else(|| user.user_name.clone());
    if tx.account_id_for_user(&app.id, &user.id).await?.is_some() {
        return Err(ErrorKind::AppAccountExists.into());
    }
    if tx
        .account_id_by_name(&app.id, &account_name)
        .await?
        .is_some()
    {
        return Err(ErrorKind::AccountNameExists.into());
    }
    let now = now_millis();
    let account = AppAccount {
        id: id::new_id(now),
        application_id: app.id.clone(),
        user_id: Some(user.id.clone()),
        account_name,
        account_type: AccountType::Basic,
        name: new.name,
        org_code: new.org_code,
        password: new.password,
        disabled: new.disabled,
        extension: new.extension,
        created_at: now,
        updated_at: now,
    };
    tx.insert_account(&account).await?;
    tx.insert_audit(&audit(now, actor, operation, "app_account", &account.id))
        .await?;
    Ok(account.id)
}

impl Service {
    /// Authorizes an application account to a user
    /// (`POST /users/{user_id}/applications/{application_id}/accounts`).
    pub async fn authorize_account(
        &self,
        caller: &Caller,
        user_id: String,
        application_id: String,
        fields: AuthorizeFields,
    ) -> Result<String> {
        caller.require(Access::UserWrite)?;
        let new = fields.into_new_account()?;
        let actor = caller.client_id.clone();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    let user = existing_user(tx, &user_id).await?;
                    let app = existing_application(tx, &application_id).await?;
                    add_account(tx, &actor, "CreateAppAccountForUser", &app, &user, new).await
                })
            })
            .await
    }

    /// Adds an application account (`POST /applications/{application_id}/accounts/basic-account`).
    pub async fn add_basic_account(
        &self,
        caller: &Caller,
        application_id: String,
        fields: AccountFields,
    ) -> Result<String> {
        caller.require(Access::AppWrite)?;
        let (user_id, new) = fields.into_new_account()?;
        let actor = caller.client_id.clone();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    let app = existing_application(tx, &application_id).await?;
                    let user = existing_user(tx, &user_id).await?;
                    add_account(tx, &actor, "CreateAppAccount", &app, &user, new).await
                })
            })
            .await
    }

    /// Updates an application account; absent fields keep their values.
    pub async fn update_account(
        &self,
        caller: &Caller,
        application_id: String,
        account_id: String,
        fields: AccountFields,
    ) -> Result<String> {
        caller.require(Access::AppWrite)?;
        let changes = fields.into_changes()?;
        let actor = caller.client_id.clone();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    let mut account = existing_account(tx, &application_id, &account_id).await?;
                    if let Some(name) = changes.account_name {
                        if name != account.account_name {
                            if tx
                                .account_id_by_name(&application_id, &name)
                                .await?
                                .is_some()
                            {
                                return Err(ErrorKind::AccountNameExists.into());
                            }
                            account.account_name = name;
                        }
                    }
                    if let Some(name) = changes.name {
                        account.name = Some(name);
                    }
                    if let Some(org_code) = changes.org_code {
                        account.org_code = Some(org_code);
                    }
                    if let Some(password) = changes.password {
                        account.password = Some(password);
                    }
                    if let Some(disabled) = changes.disabled {
                        account.disabled = disabled;
                    }
                    if let Some(extension) = changes.extension {
                        account.extension = Some(extension);
                    }
                    account.updated_at = now_millis();
                    tx.update_account(&account).await?;
                    tx.insert_audit(&audit(
                        account.updated_at,
                        &actor,
                        "UpdateAppAccount",
                        "app_account",
                        &account.id,
                    ))
                    .await?;
                    Ok(account.id)
                })
            })
            .await
    }

    /// `ShowAppAccountById`.
    pub async fn show_account(
        &self,
        caller: &Caller,
        application_id: String,
        account_id: String,
    ) -> Result<AppAccount> {
        caller.require(Access::AppRead)?;
        self.store()
            .read(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    existing_account(tx, &application_id, &account_id).await
                })
            })
            .await
    }

    /// `ListAppAccountsByUserId`: every account of a user (at most one per application).
    pub async fn accounts_of_user(
        &self,
        caller: &Caller,
        user_id: String,
    ) -> Result<Vec<AppAccount>> {
        caller.require(Access::UserRead)?;
        self.store()
            .read(move |tx| {
                Box::pin(async move {
                    existing_user(tx, &user_id).await?;
                    tx.accounts_of_user(&user_id).await
                })
            })
            .await
    }
}
