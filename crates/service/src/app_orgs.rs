//! Each application's own organization tree, which its accounts' `org_code` refers to.

use crate::lookups::{existing_app_org, existing_app_org_parent, existing_application};
use crate::use_case::Cx;
use crate::{Caller, Service};
use roster_domain::application::ApplicationId;
use roster_domain::organization::{AppOrgFields, AppOrgId, AppOrganization, OrgChanges};
use roster_domain::page::{Page, PageRequest};
use roster_domain::permission::Access;
use roster_domain::{ErrorKind, Result};
use roster_store::prelude::*;
use roster_store::LockKey;

impl Service {
    /// `CreateAppOrg` → the new application organization's id.
    pub async fn create_app_org(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        fields: AppOrgFields,
    ) -> Result<AppOrgId> {
        caller.require(Access::AppWrite)?;
        let new = fields.into_new()?;
        self.write(&caller.client_id, create, (application_id, new))
            .await
    }

    /// `UpdateAppOrg`: name and parent; the code cannot change.
    pub async fn update_app_org(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        org_id: AppOrgId,
        fields: AppOrgFields,
    ) -> Result<AppOrgId> {
        caller.require(Access::AppWrite)?;
        let changes = fields.into_changes()?;
        self.write(&caller.client_id, update, (application_id, org_id, changes))
            .await
    }

    /// `DeleteAppOrg`: only one without sub-organizations or accounts.
    pub async fn delete_app_org(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        org_id: AppOrgId,
    ) -> Result<()> {
        caller.require(Access::AppWrite)?;
        self.write(&caller.client_id, delete, (application_id, org_id))
            .await
    }

    /// `ShowAppOrgById`.
    pub async fn show_app_org(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        org_id: AppOrgId,
    ) -> Result<AppOrganization> {
        caller.require(Access::AppRead)?;
        self.read(show, (application_id, org_id)).await
    }

    /// `ListAppOrganizations`.
    pub async fn list_app_orgs(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        page: PageRequest,
    ) -> Result<Page<AppOrganization>> {
        caller.require(Access::AppRead)?;
        self.read(list, (application_id, page)).await
    }
}

async fn create(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, new): (ApplicationId, OrgChanges),
) -> Result<AppOrgId> {
    existing_application(tx, &application_id).await?;
    if let Some(parent) = &new.parent_id {
        existing_app_org_parent(tx, &application_id, parent).await?;
    }
    let org = AppOrganization {
        id: AppOrgId::generate(cx.now),
        application_id,
        code: new.code.unwrap_or_default(),
        name: new.name.unwrap_or_default(),
        parent_id: new.parent_id.map(AppOrgId::new),
        created_at: cx.now,
        updated_at: cx.now,
    };
    tx.insert_app_org(&org).await?;
    cx.audit("CreateAppOrg", "app_organization", &org.id);
    Ok(org.id)
}

async fn update(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, org_id, changes): (ApplicationId, AppOrgId, OrgChanges),
) -> Result<AppOrgId> {
    tx.lock(LockKey::AppOrganizationTree).await?;
    existing_application(tx, &application_id).await?;
    let mut org = existing_app_org(tx, &application_id, &org_id).await?;
    if let Some(parent) = changes.parent_id {
        existing_app_org_parent(tx, &application_id, &parent).await?;
        if tx.app_org_in_subtree(&org.id, &parent).await? {
            return Err(ErrorKind::AppOrgCycle.into());
        }
        org.parent_id = Some(AppOrgId::new(parent));
    }
    if let Some(name) = changes.name {
        org.name = name;
    }
    org.updated_at = cx.now;
    tx.update_app_org(&org).await?;
    cx.audit("UpdateAppOrg", "app_organization", &org.id);
    Ok(org.id)
}

async fn delete(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (application_id, org_id): (ApplicationId, AppOrgId),
) -> Result<()> {
    tx.lock(LockKey::AppOrganizationTree).await?;
    existing_application(tx, &application_id).await?;
    let org = existing_app_org(tx, &application_id, &org_id).await?;
    if tx.app_org_has_children(&org.id).await? {
        return Err(ErrorKind::AppOrgHasChildren.into());
    }
    if tx.app_org_has_accounts(&org.id).await? {
        return Err(ErrorKind::AppOrgHasAccounts.into());
    }
    tx.delete_app_org(&org.id).await?;
    cx.audit("DeleteAppOrg", "app_organization", &org.id);
    Ok(())
}

async fn show(
    tx: &mut dyn Tx,
    (application_id, org_id): (ApplicationId, AppOrgId),
) -> Result<AppOrganization> {
    existing_application(tx, &application_id).await?;
    existing_app_org(tx, &application_id, &org_id).await
}

async fn list(
    tx: &mut dyn Tx,
    (application_id, page): (ApplicationId, PageRequest),
) -> Result<Page<AppOrganization>> {
    existing_application(tx, &application_id).await?;
    tx.list_app_orgs(&application_id, page).await
}
