//! Each application's own organization tree, which its accounts' `org_code` refers to.

use crate::lookups::{existing_app_org, existing_app_org_parent, existing_application};
use crate::{audit, Caller, Service};
use roster_domain::application::ApplicationId;
use roster_domain::organization::{AppOrgFields, AppOrganization};
use roster_domain::page::{Page, PageRequest};
use roster_domain::permission::Access;
use roster_domain::{id, ErrorKind, Result};
use roster_store::LockKey;

impl Service {
    /// `CreateAppOrg` → the new application organization's id.
    pub async fn create_app_org(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        fields: AppOrgFields,
    ) -> Result<String> {
        caller.require(Access::AppWrite)?;
        let new = fields.into_new()?;
        let actor = caller.client_id.clone();
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    if let Some(parent) = &new.parent_id {
                        existing_app_org_parent(tx, &application_id, parent).await?;
                    }
                    let now = clock.now();
                    let org = AppOrganization {
                        id: id::new_id(now),
                        application_id,
                        code: new.code.unwrap_or_default(),
                        name: new.name.unwrap_or_default(),
                        parent_id: new.parent_id,
                        created_at: now,
                        updated_at: now,
                    };
                    tx.insert_app_org(&org).await?;
                    tx.insert_audit(&audit(
                        now,
                        &actor,
                        "CreateAppOrg",
                        "app_organization",
                        &org.id,
                    ))
                    .await?;
                    Ok(org.id)
                })
            })
            .await
    }

    /// `UpdateAppOrg`: name and parent; the code cannot change.
    pub async fn update_app_org(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        org_id: String,
        fields: AppOrgFields,
    ) -> Result<String> {
        caller.require(Access::AppWrite)?;
        let changes = fields.into_changes()?;
        let actor = caller.client_id.clone();
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    tx.lock(LockKey::AppOrganizationTree).await?;
                    existing_application(tx, &application_id).await?;
                    let mut org = existing_app_org(tx, &application_id, &org_id).await?;
                    if let Some(parent) = changes.parent_id {
                        existing_app_org_parent(tx, &application_id, &parent).await?;
                        if tx.app_org_in_subtree(&org.id, &parent).await? {
                            return Err(ErrorKind::AppOrgCycle.into());
                        }
                        org.parent_id = Some(parent);
                    }
                    if let Some(name) = changes.name {
                        org.name = name;
                    }
                    org.updated_at = clock.now();
                    tx.update_app_org(&org).await?;
                    tx.insert_audit(&audit(
                        org.updated_at,
                        &actor,
                        "UpdateAppOrg",
                        "app_organization",
                        &org.id,
                    ))
                    .await?;
                    Ok(org.id)
                })
            })
            .await
    }

    /// `DeleteAppOrg`: only one without sub-organizations or accounts.
    pub async fn delete_app_org(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        org_id: String,
    ) -> Result<()> {
        caller.require(Access::AppWrite)?;
        let actor = caller.client_id.clone();
        let clock = self.clock();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
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
                    tx.insert_audit(&audit(
                        clock.now(),
                        &actor,
                        "DeleteAppOrg",
                        "app_organization",
                        &org.id,
                    ))
                    .await
                })
            })
            .await
    }

    /// `ShowAppOrgById`.
    pub async fn show_app_org(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        org_id: String,
    ) -> Result<AppOrganization> {
        caller.require(Access::AppRead)?;
        self.store()
            .read(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    existing_app_org(tx, &application_id, &org_id).await
                })
            })
            .await
    }

    /// `ListAppOrganizations`.
    pub async fn list_app_orgs(
        &self,
        caller: &Caller,
        application_id: ApplicationId,
        page: PageRequest,
    ) -> Result<Page<AppOrganization>> {
        caller.require(Access::AppRead)?;
        self.store()
            .read(move |tx| {
                Box::pin(async move {
                    existing_application(tx, &application_id).await?;
                    tx.list_app_orgs(&application_id, page).await
                })
            })
            .await
    }
}
