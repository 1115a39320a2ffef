//! The rows a use case needs to exist, each read once here: found, or the catalog's
//! "not found" for that kind of row (a parent, an `org_code`, a relation list each say which).

use roster_domain::account::AccountId;
use roster_domain::account::AppAccount;
use roster_domain::application::Application;
use roster_domain::application::ApplicationId;
use roster_domain::organization::{AppOrganization, Organization};
use roster_domain::role::Role;
use roster_domain::user::User;
use roster_domain::user::UserId;
use roster_domain::{Error, ErrorKind, Result};
use roster_store::prelude::*;

/// The application `client_id` names, if any (a read use case of its own).
pub(crate) async fn application_by_client_id(
    tx: &mut dyn Tx,
    client_id: String,
) -> Result<Option<Application>> {
    tx.application_by_client_id(&client_id).await
}

pub(crate) async fn existing_application(
    tx: &mut dyn Tx,
    application_id: &ApplicationId,
) -> Result<Application> {
    tx.application(application_id)
        .await?
        .ok_or_else(|| ErrorKind::ApplicationNotFound.into())
}

pub(crate) async fn existing_app_org(
    tx: &mut dyn Tx,
    application_id: &ApplicationId,
    org_id: &str,
) -> Result<AppOrganization> {
    tx.app_org(application_id, org_id)
        .await?
        .ok_or_else(|| ErrorKind::AppOrgNotFound.into())
}

pub(crate) async fn existing_app_org_parent(
    tx: &mut dyn Tx,
    application_id: &ApplicationId,
    parent_id: &str,
) -> Result<()> {
    match tx.app_org(application_id, parent_id).await? {
        Some(_) => Ok(()),
        None => Err(ErrorKind::ParentAppOrgNotFound.into()),
    }
}

pub(crate) async fn existing_account(
    tx: &mut dyn Tx,
    application_id: &ApplicationId,
    account_id: &AccountId,
) -> Result<AppAccount> {
    tx.account(application_id, account_id)
        .await?
        .ok_or_else(|| ErrorKind::AppAccountNotFound.into())
}

/// The application organization an account's `org_code` names.
pub(crate) async fn app_org_id(
    tx: &mut dyn Tx,
    application_id: &ApplicationId,
    code: &str,
) -> Result<String> {
    tx.app_org_by_code(application_id, code)
        .await?
        .map(|o| o.id.into_string())
        .ok_or_else(|| {
            Error::with_detail(
                ErrorKind::AppOrgNotFound,
                format!("No application organization has org_code '{code}'."),
            )
        })
}

/// The user and the application an account of theirs joins, read at once; when either is
/// missing, the error of the first missing in path order (user, then application).
pub(crate) async fn existing_user_and_application(
    tx: &mut dyn Tx,
    user_id: &UserId,
    application_id: &ApplicationId,
) -> Result<(User, Application)> {
    if let Some(both) = tx.user_and_application(user_id, application_id).await? {
        return Ok(both);
    }
    let user = existing_user(tx, user_id).await?;
    Ok((user, existing_application(tx, application_id).await?))
}

pub(crate) async fn existing_user(tx: &mut dyn Tx, user_id: &UserId) -> Result<User> {
    tx.user(user_id)
        .await?
        .ok_or_else(|| ErrorKind::UserNotFound.into())
}

/// The organization an `org_code` names.
pub(crate) async fn org_id_for_code(tx: &mut dyn Tx, code: &str) -> Result<String> {
    tx.organization_by_code(code)
        .await?
        .map(|o| o.id.into_string())
        .ok_or_else(|| {
            Error::with_detail(
                ErrorKind::OrganizationNotFound,
                format!("No organization has org_code '{code}'."),
            )
        })
}

/// Checks that every organization of `org_ids` exists.
pub(crate) async fn existing_organizations(tx: &mut dyn Tx, org_ids: &[String]) -> Result<()> {
    for org_id in org_ids {
        if tx.organization(org_id).await?.is_none() {
            return Err(Error::with_detail(
                ErrorKind::OrganizationNotFound,
                format!("user_org_relation_list names {org_id}, which is no organization."),
            ));
        }
    }
    Ok(())
}

pub(crate) async fn existing_org(tx: &mut dyn Tx, org_id: &str) -> Result<Organization> {
    tx.organization(org_id)
        .await?
        .ok_or_else(|| ErrorKind::OrganizationNotFound.into())
}

pub(crate) async fn existing_org_parent(tx: &mut dyn Tx, parent_id: &str) -> Result<()> {
    match tx.organization(parent_id).await? {
        Some(_) => Ok(()),
        None => Err(ErrorKind::ParentOrganizationNotFound.into()),
    }
}

pub(crate) async fn existing_role(
    tx: &mut dyn Tx,
    application_id: &ApplicationId,
    role_id: &str,
) -> Result<Role> {
    tx.role(application_id, role_id)
        .await?
        .ok_or_else(|| ErrorKind::RoleNotFound.into())
}
