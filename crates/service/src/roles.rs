//! Application roles and their members (application accounts).

use crate::accounts::{with_roles, AccountDetails};
use crate::lookups::{existing_application, existing_role};
use crate::use_case::Cx;
use crate::{Caller, Service};
use roster_domain::account::AccountId;
use roster_domain::application::ApplicationId;
use roster_domain::page::{Page, PageRequest};
use roster_domain::permission::Access;
use roster_domain::role::{Role, RoleFields, RoleId, RoleMemberFields};
use roster_domain::Result;
use roster_store::prelude::*;

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
    ) -> Result<RoleId> {
        caller.require(Access::AppWrite)?;
        let (code, name) = fields.into_new()?;
        self.write(&caller.client_id, create, (application_id, code, name))
            .await
    }

    /// `UpdateAppRole`: renames; the code cannot change.
    pub async fn update_role(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        role_id: RoleId,
        fields: RoleFields,
    ) -> Result<RoleId> {
        caller.require(Access::AppWrite)?;
        let name = fields.into_new_name()?;
        self.write(&caller.client_id, rename, (application_id, role_id, name))
            .await
    }

    /// `DeleteAppRole`; its grants go with it.
    pub async fn delete_role(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        role_id: RoleId,
    ) -> Result<()> {
        caller.require(Access::AppWrite)?;
        self.write(&caller.client_id, delete, (application_id, role_id))
            .await
    }

    /// `ShowAppRoleById`.
    pub async fn show_role(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        role_id: RoleId,
    ) -> Result<Role> {
        caller.require(Access::AppRead)?;
        self.read(show, (application_id, role_id)).await
    }

    /// `ListAppRoles`.
    pub async fn list_roles(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        page: PageRequest,
    ) -> Result<Page<Role>> {
        caller.require(Access::AppRead)?;
        self.read(list, (application_id, page)).await
    }

    /// `ListAppRoleMembers`: the accounts holding a role.
    pub async fn list_role_members(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        role_id: RoleId,
        page: PageRequest,
    ) -> Result<Page<AccountDetails>> {
        caller.require(Access::AppRead)?;
        self.read(members, (application_id, role_id, page)).await
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
        let change = Membership {
            application_id,
            role_id: RoleId::new(role_id),
            account_ids,
            grant,
        };
        self.write(&caller.client_id, change_members, change).await
    }
}

pub(crate) async fn create(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, code, name): (ApplicationId, String, Option<String>),
) -> Result<RoleId> {
    existing_application(tx, &application_id).await?;
    let role = Role {
        id: RoleId::generate(cx.now),
        application_id,
        code,
        name,
        created_at: cx.now,
        updated_at: None,
    };
    tx.insert_role(&role).await?;
    cx.audit("CreateAppRole", "app_role", &role.id);
    Ok(role.id)
}

pub(crate) async fn rename(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, role_id, name): (ApplicationId, RoleId, String),
) -> Result<RoleId> {
    existing_application(tx, &application_id).await?;
    let mut role = existing_role(tx, &application_id, &role_id).await?;
    role.name = Some(name);
    role.updated_at = Some(cx.now);
    tx.update_role(&role).await?;
    cx.audit("UpdateAppRole", "app_role", &role.id);
    Ok(role.id)
}

async fn delete(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, role_id): (ApplicationId, RoleId),
) -> Result<()> {
    existing_application(tx, &application_id).await?;
    let role = existing_role(tx, &application_id, &role_id).await?;
    tx.delete_role(&role.id).await?;
    cx.audit("DeleteAppRole", "app_role", &role.id);
    Ok(())
}

async fn show(tx: &mut dyn Tx, (application_id, role_id): (ApplicationId, RoleId)) -> Result<Role> {
    existing_application(tx, &application_id).await?;
    existing_role(tx, &application_id, &role_id).await
}

async fn list(
    tx: &mut dyn Tx,
    (application_id, page): (ApplicationId, PageRequest),
) -> Result<Page<Role>> {
    existing_application(tx, &application_id).await?;
    tx.list_roles(&application_id, page).await
}

async fn members(
    tx: &mut dyn Tx,
    (application_id, role_id, page): (ApplicationId, RoleId, PageRequest),
) -> Result<Page<AccountDetails>> {
    existing_application(tx, &application_id).await?;
    let role = existing_role(tx, &application_id, &role_id).await?;
    let page = tx.list_role_members(&role.id, page).await?;
    Ok(Page {
        total: page.total,
        items: with_roles(tx, page.items).await?,
    })
}

/// Accounts to grant a role to, or to revoke it from.
struct Membership {
    application_id: ApplicationId,
    role_id: RoleId,
    account_ids: Vec<String>,
    grant: bool,
}

async fn change_members(tx: &mut dyn Tx, cx: &mut Cx, change: Membership) -> Result<MemberChange> {
    let Membership {
        application_id,
        role_id,
        account_ids,
        grant,
    } = change;
    existing_application(tx, &application_id).await?;
    let role = existing_role(tx, &application_id, &role_id).await?;
    let mut changed = MemberChange::default();
    for account_id in account_ids.into_iter().map(AccountId::new) {
        let ok = match tx.account(&application_id, &account_id).await? {
            None => false,
            Some(_) if grant => {
                tx.add_role_member(&role.id, &account_id, cx.now).await?;
                true
            }
            Some(_) => tx.remove_role_member(&role.id, &account_id).await?,
        };
        if ok {
            changed.success_list.push(account_id.into_string());
        } else {
            changed.fail_list.push(account_id.into_string());
        }
    }
    let operation = if grant {
        "CreateAppRoleMember"
    } else {
        "DeleteAppRoleMember"
    };
    cx.audit(operation, "app_role", &role.id);
    Ok(changed)
}
