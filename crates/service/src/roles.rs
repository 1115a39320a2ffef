//! Application roles and their members (application accounts).

use crate::accounts::{with_roles, AccountDetails};
use crate::lookups::{existing_application, existing_role};
use crate::{audit, Caller, Service};
use roster_domain::account::AccountId;
use roster_domain::application::ApplicationId;
use roster_domain::page::{Page, PageRequest};
use roster_domain::permission::Access;
use roster_domain::role::{Role, RoleFields, RoleMemberFields};
use roster_domain::{id, Result};

/// Which accounts a grant or revocation applied to, and which it could not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChange {
    pub success_list: Vec<String>,
    pub fail_list: Vec<String>,
}

impl Service {
    /// `CreateAppRole` → the new role's id.
    pub async fn create_role(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        fields: RoleFields,
    ) -> Result<String> {
        caller.require(Access::AppWrite)?;
        let (code, name) = fields.into_new()?;
        let actor = caller.client_id.clone();
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    let now = clock.now();
                    let role = Role {
                        id: id::new_id(now),
                        application_id,
                        code,
                        name,
                        created_at: now,
                        updated_at: None,
                    };
                    tx.insert_role(&role).await?;
                    tx.insert_audit(&audit(now, &actor, "CreateAppRole", "app_role", &role.id))
                        .await?;
                    Ok(role.id)
                })
            })
            .await
    }

    /// `UpdateAppRole`: renames; the code cannot change.
    pub async fn update_role(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        role_id: String,
        fields: RoleFields,
    ) -> Result<String> {
        caller.require(Access::AppWrite)?;
        let name = fields.into_new_name()?;
        let actor = caller.client_id.clone();
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    let mut role = existing_role(tx, &application_id, &role_id).await?;
                    let now = clock.now();
                    role.name = Some(name);
                    role.updated_at = Some(now);
                    tx.update_role(&role).await?;
                    tx.insert_audit(&audit(now, &actor, "UpdateAppRole", "app_role", &role.id))
                        .await?;
                    Ok(role.id)
                })
            })
            .await
    }

    /// `DeleteAppRole`; its grants go with it.
    pub async fn delete_role(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        role_id: String,
    ) -> Result<()> {
        caller.require(Access::AppWrite)?;
        let actor = caller.client_id.clone();
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    let role = existing_role(tx, &application_id, &role_id).await?;
                    tx.delete_role(&role.id).await?;
                    tx.insert_audit(&audit(
                        clock.now(),
                        &actor,
                        "DeleteAppRole",
                        "app_role",
                        &role.id,
                    ))
                    .await
                })
            })
            .await
    }

    /// `ShowAppRoleById`.
    pub async fn show_role(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        role_id: String,
    ) -> Result<Role> {
        caller.require(Access::AppRead)?;
        self.store()
            .read(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    existing_role(tx, &application_id, &role_id).await
                })
            })
            .await
    }

    /// `ListAppRoles`.
    pub async fn list_roles(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        page: PageRequest,
    ) -> Result<Page<Role>> {
        caller.require(Access::AppRead)?;
        self.store()
            .read(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    tx.list_roles(&application_id, page).await
                })
            })
            .await
    }

    /// `ListAppRoleMembers`: the accounts holding a role.
    pub async fn list_role_members(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        role_id: String,
        page: PageRequest,
    ) -> Result<Page<AccountDetails>> {
        caller.require(Access::AppRead)?;
        self.store()
            .read(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    let role = existing_role(tx, &application_id, &role_id).await?;
                    let page = tx.list_role_members(&role.id, page).await?;
                    Ok(Page {
                        total: page.total,
                        items: with_roles(tx, page.items).await?,
                    })
                })
            })
            .await
    }

    /// `CreateAppRoleMember` (grant) or `DeleteAppRoleMember` (revoke). Each account id
    /// succeeds or fails on its own: a grant fails for an id that is no account of this
    /// application; a revocation also fails for an account that does not hold the role.
    pub async fn change_role_members(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        fields: RoleMemberFields,
        grant: bool,
    ) -> Result<MemberChange> {
        caller.require(Access::AppWrite)?;
        let (role_id, account_ids) = fields.validate()?;
        let actor = caller.client_id.clone();
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    let role = existing_role(tx, &application_id, &role_id).await?;
                    let now = clock.now();
                    let mut change = MemberChange::default();
                    for account_id in account_ids.into_iter().map(AccountId::new) {
                        let ok = match tx.account(&application_id, &account_id).await? {
                            None => false,
                            Some(_) if grant => {
                                tx.add_role_member(&role.id, &account_id, now).await?;
                                true
                            }
                            Some(_) => tx.remove_role_member(&role.id, &account_id).await?,
                        };
                        if ok {
                            change.success_list.push(account_id.into_string());
                        } else {
                            change.fail_list.push(account_id.into_string());
                        }
                    }
                    let operation = if grant {
                        "CreateAppRoleMember"
                    } else {
                        "DeleteAppRoleMember"
                    };
                    tx.insert_audit(&audit(now, &actor, operation, "app_role", &role.id))
                        .await?;
                    Ok(change)
                })
            })
            .await
    }
}
