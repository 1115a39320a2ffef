//! User management.

use crate::lookups::{existing_organizations, existing_user, org_id_for_code};
use crate::password_policy::{self, note_password};
use crate::use_case::Cx;
use crate::{Caller, Service, UserDeletePolicy};
use roster_domain::page::{Page, PageRequest};
use roster_domain::permission::Access;
use roster_domain::time::Millis;
use roster_domain::user::UserId;
use roster_domain::user::{
    secondary_organizations, NewUser, PasswordFields, User, UserChanges, UserFields, UserNameFields,
};
use roster_domain::{validate, ErrorKind, Result};
use roster_store::prelude::*;

impl Service {
    /// `CreateUser`: returns the new user's id.
    pub async fn create_user(&self, caller: &Caller, fields: UserFields) -> Result<UserId> {
        caller.require(Access::UserWrite)?;
        let new = fields.into_new_user()?;
        let password_hash = match new.password.clone() {
            Some(p) => {
                self.check_new_password(None, &p).await?;
                Some(self.inner.passwords.hash(p).await?)
            }
            None => None,
        };
        self.write(&caller.client_id, create, (new, password_hash))
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
        self.write(&caller.client_id, update, (user_id, changes))
            .await
    }

    /// `DeleteUser`: the user's accounts are deleted or become orphans, per configuration.
    pub async fn delete_user(&self, caller: &Caller, user_id: UserId) -> Result<()> {
        caller.require(Access::UserWrite)?;
        let policy = self.settings().on_user_delete;
        self.write(&caller.client_id, delete, (user_id, policy))
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
        caller.require(Access::UserSupport)?;
        self.write(&caller.client_id, set_disabled, (user_id, disabled))
            .await
    }

    /// `UpdateUserPwd`: an administrator sets the password.
    pub async fn change_password(
        &self,
        caller: &Caller,
        user_id: UserId,
        fields: PasswordFields,
    ) -> Result<UserId> {
        caller.require(Access::UserSupport)?;
        let new_password = fields.new_password()?;
        self.check_new_password(Some(&user_id), &new_password)
            .await?;
        let hash = self.inner.passwords.hash(new_password).await?;
        let change = PasswordChange {
            user_id,
            hash,
            must_modify: fields.pwd_must_modify,
            checked: None,
        };
        self.write(&caller.client_id, set_password, change).await
    }

    /// `UpdateUserPwdWithOldPwd`: sets the password if `old_password` is the current one.
    pub async fn change_password_verified(
        &self,
        caller: &Caller,
        user_id: UserId,
        fields: PasswordFields,
    ) -> Result<UserId> {
        caller.require(Access::UserWrite)?;
        self.password_change_verified(&caller.client_id, user_id, fields)
            .await
    }

    /// Sets a user's password if `old_password` is their current one, acting as `actor`
    /// (an application, or the user themselves in the portal).
    pub(crate) async fn password_change_verified(
        &self,
        actor: &str,
        user_id: UserId,
        fields: PasswordFields,
    ) -> Result<UserId> {
        let new_password = fields.new_password()?;
        let old = validate::required("old_password", fields.old_password.clone(), 128)?;
        let user = self.read(show, user_id.clone()).await?;
        let current = user.password_hash.clone().ok_or(ErrorKind::WrongPassword)?;
        if !self.inner.passwords.verify(old, current.clone()).await? {
            return Err(ErrorKind::WrongPassword.into());
        }
        self.check_new_password(Some(&user_id), &new_password)
            .await?;
        let hash = self.inner.passwords.hash(new_password).await?;
        let change = PasswordChange {
            user_id,
            hash,
            must_modify: Some(false),
            checked: Some(current),
        };
        self.write(actor, set_password, change).await
    }

    /// `ShowUserById`.
    pub async fn show_user(&self, caller: &Caller, user_id: UserId) -> Result<User> {
        caller.require(Access::UserRead)?;
        self.read(show, user_id).await
    }

    /// `ShowUserByUserName`.
    pub async fn show_user_by_name(&self, caller: &Caller, fields: UserNameFields) -> Result<User> {
        caller.require(Access::UserRead)?;
        let user_name = validate::required("user_name", fields.user_name, 255)?;
        self.read(show_by_name, user_name).await
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
        self.read(list, (org_id, updated_after, page)).await
    }
}

pub(crate) async fn create(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (new, password_hash): (NewUser, Option<String>),
) -> Result<UserId> {
    let org_id = match &new.org_code {
        Some(code) => Some(org_id_for_code(tx, code).await?),
        None => tx
            .first_root_organization()
            .await?
            .map(|o| o.id.into_string()),
    };
    let secondary = match &new.org_relations {
        Some(list) => secondary_organizations(org_id.as_deref(), list, false)?,
        None => Vec::new(),
    };
    existing_organizations(tx, &secondary).await?;
    let user = new.into_user(org_id, secondary, password_hash, cx.now);
    tx.insert_user(&user).await?;
    if let Some(hash) = &user.password_hash {
        note_password(tx, &user.id, hash, cx.now).await?;
    }
    cx.audit("CreateUser", "user", &user.id);
    Ok(user.id)
}

pub(crate) async fn update(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (user_id, changes): (UserId, UserChanges),
) -> Result<UserId> {
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
    // The relations the body gives (it must name the home organization), or those the user
    // had, less a secondary organization that became home.
    let home = user.org_id.clone();
    match &changes.org_relations {
        Some(list) => {
            let secondary = secondary_organizations(home.as_deref(), list, true)?;
            existing_organizations(tx, &secondary).await?;
            user.secondary_org_ids = secondary;
        }
        None => user.secondary_org_ids.retain(|o| Some(o) != home.as_ref()),
    }
    user.updated_at = cx.now;
    tx.update_user(&user).await?;
    cx.audit("UpdateUser", "user", &user.id);
    Ok(user.id)
}

async fn delete(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (user_id, policy): (UserId, UserDeletePolicy),
) -> Result<()> {
    let user = existing_user(tx, &user_id).await?;
    match policy {
        UserDeletePolicy::DeleteAccounts => {
            tx.delete_accounts_of_user(&user.id).await?;
        }
        UserDeletePolicy::OrphanAccounts => {
            tx.orphan_accounts_of_user(&user.id, cx.now).await?;
        }
    }
    tx.end_sign_ins(&user.id, None, cx.now).await?;
    tx.delete_user(&user.id).await?;
    cx.audit("DeleteUser", "user", &user.id);
    Ok(())
}

pub(crate) async fn set_disabled(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (user_id, disabled): (UserId, bool),
) -> Result<UserId> {
    let mut user = existing_user(tx, &user_id).await?;
    let now = cx.now;
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
            tx.end_sign_ins(&user.id, None, now).await?;
        } else {
            tx.enable_accounts_of_user(&user.id, now).await?;
        }
    }
    let operation = if disabled {
        "DisableUser"
    } else {
        "EnableUser"
    };
    cx.audit(operation, "user", &user.id);
    Ok(user.id)
}

/// A new password for a user, hashed already.
struct PasswordChange {
    user_id: UserId,
    hash: String,
    must_modify: Option<bool>,
    /// The hash the old password was checked against (`UpdateUserPwdWithOldPwd`).
    checked: Option<String>,
}

async fn set_password(tx: &mut dyn Tx, cx: &mut Cx, change: PasswordChange) -> Result<UserId> {
    let mut user = existing_user(tx, &change.user_id).await?;
    if let Some(checked) = &change.checked {
        // Changed since it was checked: the checked password is no longer current.
        if user.password_hash.as_ref() != Some(checked) {
            return Err(ErrorKind::WrongPassword.into());
        }
    }
    if let Some(m) = change.must_modify {
        user.pwd_must_modify = m;
    }
    password_policy::set_password(tx, &mut user, change.hash, cx.now).await?;
    let operation = match change.checked {
        Some(_) => "UpdateUserPwdWithOldPwd",
        None => "UpdateUserPwd",
    };
    cx.audit(operation, "user", &user.id);
    Ok(user.id)
}

async fn show(tx: &mut dyn Tx, user_id: UserId) -> Result<User> {
    existing_user(tx, &user_id).await
}

async fn show_by_name(tx: &mut dyn Tx, user_name: String) -> Result<User> {
    tx.user_by_name(&user_name)
        .await?
        .ok_or_else(|| ErrorKind::UserNotFound.into())
}

async fn list(
    tx: &mut dyn Tx,
    (org_id, updated_after, page): (Option<String>, Option<Millis>, PageRequest),
) -> Result<Page<User>> {
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
}
