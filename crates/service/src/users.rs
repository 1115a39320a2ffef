//! User management.

use crate::lookups::{existing_organizations, existing_user, org_id_for_code};
use crate::{audit, Caller, Service, UserDeletePolicy};
use roster_domain::page::{Page, PageRequest};
use roster_domain::permission::Access;
use roster_domain::time::Millis;
use roster_domain::user::UserId;
use roster_domain::user::{
    secondary_organizations, PasswordFields, User, UserFields, UserNameFields,
};
use roster_domain::{validate, ErrorKind, Result};

impl Service {
    /// `CreateUser`: returns the new user's id.
    pub async fn create_user(&self, caller: &Caller, fields: UserFields) -> Result<UserId> {
        caller.require(Access::UserWrite)?;
        let new = fields.into_new_user()?;
        let password_hash = match new.password.clone() {
            Some(p) => Some(self.inner.passwords.hash(p).await?),
            None => None,
        };
        let actor = caller.client_id.clone();
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    let org_id = match &new.org_code {
                        Some(code) => Some(org_id_for_code(tx, code).await?),
                        None => tx.first_root_organization().await?.map(|o| o.id),
                    };
                    let secondary = match &new.org_relations {
                        Some(list) => secondary_organizations(org_id.as_deref(), list, false)?,
                        None => Vec::new(),
                    };
                    existing_organizations(tx, &secondary).await?;
                    let now = clock.now();
                    let user = new.into_user(org_id, secondary, password_hash, now);
                    tx.insert_user(&user).await?;
                    tx.insert_audit(&audit(now, &actor, "CreateUser", "user", &user.id))
                        .await?;
                    Ok(user.id)
                })
            })
            .await
    }

    /// `UpdateUser`: absent fields keep their values; the password is changed elsewhere.
    pub async fn update_user(
        &self,
        caller: &Caller,
        user_id: UserId,
        fields: UserFields,
    ) -> Result<UserId> {
        caller.require(Access::UserWrite)?;
        let changes = fields.into_changes()?;
        let actor = caller.client_id.clone();
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    let mut user = existing_user(tx, &user_id).await?;
                    if let Some(code) = &changes.org_code {
                        user.org_id = Some(org_id_for_code(tx, code).await?);
                    }
                    fn set<T>(slot: &mut T, value: Option<T>) {
                        if let Some(v) = value {
                            *slot = v;
                        }
                    }
                    fn set_opt<T>(slot: &mut Option<T>, value: Option<T>) {
                        if value.is_some() {
                            *slot = value;
                        }
                    }
                    set(&mut user.user_name, changes.user_name);
                    set(&mut user.mobile, changes.mobile);
                    set(&mut user.name, changes.name);
                    set(&mut user.pwd_must_modify, changes.pwd_must_modify);
                    set_opt(&mut user.email, changes.email);
                    set_opt(&mut user.employee_id, changes.employee_id);
                    set_opt(&mut user.first_name, changes.first_name);
                    set_opt(&mut user.middle_name, changes.middle_name);
                    set_opt(&mut user.last_name, changes.last_name);
                    set_opt(&mut user.extension, changes.extension);
                    user.attrs.apply(changes.attrs);
                    // The relations the body gives (it must name the home organization), or
                    // those the user had, less a secondary organization that became home.
                    let home = user.org_id.clone();
                    match &changes.org_relations {
                        Some(list) => {
                            let secondary = secondary_organizations(home.as_deref(), list, true)?;
                            existing_organizations(tx, &secondary).await?;
                            user.secondary_org_ids = secondary;
                        }
                        None => user.secondary_org_ids.retain(|o| Some(o) != home.as_ref()),
                    }
                    user.updated_at = clock.now();
                    tx.update_user(&user).await?;
                    tx.insert_audit(&audit(
                        user.updated_at,
                        &actor,
                        "UpdateUser",
                        "user",
                        &user.id,
                    ))
                    .await?;
                    Ok(user.id)
                })
            })
            .await
    }

    /// `DeleteUser`: the user's accounts are deleted or become orphans, per configuration.
    pub async fn delete_user(&self, caller: &Caller, user_id: UserId) -> Result<()> {
        caller.require(Access::UserWrite)?;
        let actor = caller.client_id.clone();
        let policy = self.settings().on_user_delete;
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    let user = existing_user(tx, &user_id).await?;
                    let now = clock.now();
                    match policy {
                        UserDeletePolicy::DeleteAccounts => {
                            tx.delete_accounts_of_user(&user.id).await?;
                        }
                        UserDeletePolicy::OrphanAccounts => {
                            tx.orphan_accounts_of_user(&user.id, now).await?;
                        }
                    }
                    tx.delete_user(&user.id).await?;
                    tx.insert_audit(&audit(now, &actor, "DeleteUser", "user", &user.id))
                        .await
                })
            })
            .await
    }

    /// `EnableUser` / `DisableUser`. Disabling a user disables their enabled accounts;
    /// enabling the user enables those accounts again (not ones disabled on their own).
    pub async fn set_user_disabled(
        &self,
        caller: &Caller,
        user_id: UserId,
        disabled: bool,
    ) -> Result<UserId> {
        caller.require(Access::UserWrite)?;
        let actor = caller.client_id.clone();
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    let mut user = existing_user(tx, &user_id).await?;
                    let now = clock.now();
                    if !disabled && user.locked {
                        // EnableUser also lifts the lock after wrong passwords.
                        tx.set_sign_in_lock(&user.id, Default::default(), now)
                            .await?;
                        user.locked = false;
                        user.updated_at = now;
                    }
                    if user.disabled != disabled {
                        user.disabled = disabled;
                        user.updated_at = now;
                        tx.update_user(&user).await?;
                        if disabled {
                            tx.disable_accounts_of_user(&user.id, now).await?;
                        } else {
                            tx.enable_accounts_of_user(&user.id, now).await?;
                        }
                    }
                    let operation = if disabled {
                        "DisableUser"
                    } else {
                        "EnableUser"
                    };
                    tx.insert_audit(&audit(now, &actor, operation, "user", &user.id))
                        .await?;
                    Ok(user.id)
                })
            })
            .await
    }

    /// `UpdateUserPwd`: an administrator sets the password.
    pub async fn change_password(
        &self,
        caller: &Caller,
        user_id: UserId,
        fields: PasswordFields,
    ) -> Result<UserId> {
        caller.require(Access::UserWrite)?;
        let hash = self.inner.passwords.hash(fields.new_password()?).await?;
        let must_modify = fields.pwd_must_modify;
        let actor = caller.client_id.clone();
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    let mut user = existing_user(tx, &user_id).await?;
                    let now = clock.now();
                    user.password_hash = Some(hash);
                    user.pwd_change_at = Some(now);
                    if let Some(m) = must_modify {
                        user.pwd_must_modify = m;
                    }
                    user.updated_at = now;
                    tx.update_user(&user).await?;
                    tx.insert_audit(&audit(now, &actor, "UpdateUserPwd", "user", &user.id))
                        .await?;
                    Ok(user.id)
                })
            })
            .await
    }

    /// `UpdateUserPwdWithOldPwd`: sets the password if `old_password` is the current one.
    pub async fn change_password_verified(
        &self,
        caller: &Caller,
        user_id: UserId,
        fields: PasswordFields,
    ) -> Result<UserId> {
        caller.require(Access::UserWrite)?;
        let new_password = fields.new_password()?;
        let old = validate::required("old_password", fields.old_password.clone(), 128)?;
        let lookup = user_id.clone();
        let user = self
            .store()
            .read(move |tx| Box::pin(async move { existing_user(tx, &lookup).await }))
            .await?;
        let current = user.password_hash.clone().ok_or(ErrorKind::WrongPassword)?;
        if !self.inner.passwords.verify(old, current.clone()).await? {
            return Err(ErrorKind::WrongPassword.into());
        }
        let hash = self.inner.passwords.hash(new_password).await?;
        let actor = caller.client_id.clone();
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    let mut user = existing_user(tx, &user_id).await?;
                    // Changed since it was checked: the checked password is no longer current.
                    if user.password_hash.as_deref() != Some(current.as_str()) {
                        return Err(ErrorKind::WrongPassword.into());
                    }
                    let now = clock.now();
                    user.password_hash = Some(hash);
                    user.pwd_change_at = Some(now);
                    user.pwd_must_modify = false;
                    user.updated_at = now;
                    tx.update_user(&user).await?;
                    tx.insert_audit(&audit(
                        now,
                        &actor,
                        "UpdateUserPwdWithOldPwd",
                        "user",
                        &user.id,
                    ))
                    .await?;
                    Ok(user.id)
                })
            })
            .await
    }

    /// `ShowUserById`.
    pub async fn show_user(&self, caller: &Caller, user_id: UserId) -> Result<User> {
        caller.require(Access::UserRead)?;
        self.store()
            .read(move |tx| Box::pin(async move { existing_user(tx, &user_id).await }))
            .await
    }

    /// `ShowUserByUserName`.
    pub async fn show_user_by_name(&self, caller: &Caller, fields: UserNameFields) -> Result<User> {
        caller.require(Access::UserRead)?;
        let user_name = validate::required("user_name", fields.user_name, 255)?;
        self.store()
            .read(move |tx| Box::pin(async move { tx.user_by_name(&user_name).await }))
            .await?
            .ok_or_else(|| ErrorKind::UserNotFound.into())
    }

    /// `ListUsers`: every user, or those whose home is `org_id`; with `updated_after`, only
    /// those changed after that time, in the order they changed (incremental sync).
    pub async fn list_users(
        &self,
        caller: &Caller,
        org_id: Option<String>,
        updated_after: Option<Millis>,
        page: PageRequest,
    ) -> Result<Page<User>> {
        caller.require(Access::UserRead)?;
        self.store()
            .read(move |tx| {
                Box::pin(async move {
                    if let Some(org) = &org_id {
                        if tx.organization(org).await?.is_none() {
                            return Err(ErrorKind::OrganizationNotFound.into());
                        }
                    }
                    match updated_after {
                        Some(after) => {
                            tx.list_users_updated_after(org_id.as_deref(), after, page)
                                .await
                        }
                        None => tx.list_users(org_id.as_deref(), page).await,
                    }
                })
            })
            .await
    }
}
