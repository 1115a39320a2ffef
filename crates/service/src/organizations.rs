//! The tenant's organization tree. Moves take a tree lock so that two concurrent moves cannot
//! build a cycle between them.

use crate::lookups::{existing_org, existing_org_parent};
use crate::use_case::Cx;
use crate::{Caller, Service};
use roster_domain::organization::{OrgChanges, OrgFields, Organization, OrganizationId};
use roster_domain::page::{Page, PageRequest};
use roster_domain::permission::Access;
use roster_domain::{ErrorKind, Result};
use roster_store::prelude::*;
use roster_store::{LockKey, OrgScope};

impl Service {
    /// `CreateOrganization` → the new organization's id.
    pub async fn create_organization(
        &self,
        caller: &Caller,
        fields: OrgFields,
    ) -> Result<OrganizationId> {
        caller.require(Access::OrgWrite)?;
        let new = fields.into_new()?;
        self.write(&caller.client_id, create, new).await
    }

    /// `UpdateOrganization`: empty or absent fields stay; `parent_id` moves the subtree.
    pub async fn update_organization(
        &self,
        caller: &Caller,
        org_id: OrganizationId,
        fields: OrgFields,
    ) -> Result<OrganizationId> {
        caller.require(Access::OrgWrite)?;
        let changes = fields.into_changes()?;
        self.write(&caller.client_id, update, (org_id, changes))
            .await
    }

    /// `DeleteOrganization`: only an organization without sub-organizations or users.
    pub async fn delete_organization(&self, caller: &Caller, org_id: OrganizationId) -> Result<()> {
        caller.require(Access::OrgWrite)?;
        self.write(&caller.client_id, delete, org_id).await
    }

    /// `ShowOrganizationById`.
    pub async fn show_organization(
        &self,
        caller: &Caller,
        org_id: OrganizationId,
    ) -> Result<Organization> {
        caller.require(Access::OrgRead)?;
        self.read(show, org_id).await
    }

    /// `ListOrganizations`: roots, everything, an organization with its children, or with
    /// its whole subtree, as `org_id` and `all_child` say.
    pub async fn list_organizations(
        &self,
        caller: &Caller,
        org_id: Option<OrganizationId>,
        all_child: bool,
        page: PageRequest,
    ) -> Result<Page<Organization>> {
        caller.require(Access::OrgRead)?;
        self.read(list, (org_id, all_child, page)).await
    }
}

pub(crate) async fn create(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    new: OrgChanges,
) -> Result<OrganizationId> {
    if let Some(parent) = &new.parent_id {
        existing_org_parent(tx, parent).await?;
    }
    let org = Organization {
        id: OrganizationId::generate(cx.now),
        code: new.code.unwrap_or_default(),
        name: new.name.unwrap_or_default(),
        parent_id: new.parent_id.map(OrganizationId::new),
        category: new.category.unwrap_or_default(),
        created_at: cx.now,
        updated_at: cx.now,
    };
    tx.insert_organization(&org).await?;
    cx.audit("CreateOrganization", "organization", &org.id);
    Ok(org.id)
}

pub(crate) async fn update(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (org_id, changes): (OrganizationId, OrgChanges),
) -> Result<OrganizationId> {
    tx.lock(LockKey::OrganizationTree).await?;
    let mut org = existing_org(tx, &org_id).await?;
    if let Some(parent) = changes.parent_id {
        existing_org_parent(tx, &parent).await?;
        if tx.organization_in_subtree(&org.id, &parent).await? {
            return Err(ErrorKind::OrganizationCycle.into());
        }
        org.parent_id = Some(OrganizationId::new(parent));
    }
    if let Some(code) = changes.code {
        org.code = code;
    }
    if let Some(name) = changes.name {
        org.name = name;
    }
    if let Some(category) = changes.category {
        org.category = category;
    }
    org.updated_at = cx.now;
    tx.update_organization(&org).await?;
    cx.audit("UpdateOrganization", "organization", &org.id);
    Ok(org.id)
}

async fn delete(tx: &mut dyn Tx, cx: &mut Cx, org_id: OrganizationId) -> Result<()> {
    tx.lock(LockKey::OrganizationTree).await?;
    let org = existing_org(tx, &org_id).await?;
    if tx.organization_has_children(&org.id).await? {
        return Err(ErrorKind::OrganizationHasChildren.into());
    }
    if tx.organization_has_members(&org.id).await? {
        return Err(ErrorKind::OrganizationHasMembers.into());
    }
    tx.delete_organization(&org.id).await?;
    cx.audit("DeleteOrganization", "organization", &org.id);
    Ok(())
}

async fn show(tx: &mut dyn Tx, org_id: OrganizationId) -> Result<Organization> {
    existing_org(tx, &org_id).await
}

async fn list(
    tx: &mut dyn Tx,
    (org_id, all_child, page): (Option<OrganizationId>, bool, PageRequest),
) -> Result<Page<Organization>> {
    let scope = match (org_id, all_child) {
        (None, false) => OrgScope::Roots,
        (None, true) => OrgScope::All,
        (Some(id), all) => {
            existing_org(tx, &id).await?;
            if all {
                OrgScope::Subtree(id.into_string())
            } else {
                OrgScope::WithChildren(id.into_string())
            }
        }
    };
    tx.list_organizations(&scope, page).await
}
