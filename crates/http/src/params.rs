//! The routes' path and query parameters as types: each deserializes what a handler reads and
//! describes itself in the OpenAPI document (`params(AppPath, Paging)`), so the document and
//! the parsing cannot drift apart.
//!
//! Query values are read as text, so that an empty value (`org_id=`) reads as absent, as the
//! reference's examples send it; each type turns its text into domain values with errors
//! that name the parameter. A list takes [`Paging`] and, where it has them, its own filters
//! (two extractors over the one query string).

use crate::error::ApiError;
use roster_domain::account::{AccountId, AccountType};
use roster_domain::application::ApplicationId;
use roster_domain::audit::AuditFilter;
use roster_domain::organization::{AppOrgId, OrganizationId};
use roster_domain::page::PageRequest;
use roster_domain::role::RoleId;
use roster_domain::time::Millis;
use roster_domain::user::UserId;
use roster_domain::Error;
use serde::Deserialize;
use utoipa::IntoParams;

/// `/applications/{application_id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AppPath {
    /// Application id.
    #[param(value_type = String)]
    pub application_id: ApplicationId,
}

/// An application's account.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AccountPath {
    /// Application id.
    #[param(value_type = String)]
    pub application_id: ApplicationId,
    /// Account id.
    #[param(value_type = String)]
    pub account_id: AccountId,
}

/// An application's organization.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AppOrgPath {
    /// Application id.
    #[param(value_type = String)]
    pub application_id: ApplicationId,
    /// Org id.
    #[param(value_type = String)]
    pub org_id: AppOrgId,
}

/// An application's role.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RolePath {
    /// Application id.
    #[param(value_type = String)]
    pub application_id: ApplicationId,
    /// Role id.
    #[param(value_type = String)]
    pub role_id: RoleId,
}

/// `/organizations/{org_id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrgPath {
    /// Org id.
    #[param(value_type = String)]
    pub org_id: OrganizationId,
}

/// `/users/{user_id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// User id.
    #[param(value_type = String)]
    pub user_id: UserId,
}

/// A user's account in an application.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserAppPath {
    /// User id.
    #[param(value_type = String)]
    pub user_id: UserId,
    /// Application id.
    #[param(value_type = String)]
    pub application_id: ApplicationId,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn integer(name: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    non_empty(v)
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| Error::invalid(format!("{name} must be a whole number.")).into())
        })
        .transpose()
}

/// The reference's paging: a page number and a page size.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page number, from 0.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 10000000)]
    pub offset: Option<String>,
    /// Page size, 1 to 100 (default 10).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

impl Paging {
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest::new(
            integer("offset", &self.offset)?,
            integer("limit", &self.limit)?,
        )?)
    }
}

/// The paging of `ListAppRoleMembers`, whose reference page documents a larger minimum size.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberPaging {
    /// Page number, from 0.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 10000000)]
    pub offset: Option<String>,
    /// Page size, 10 to 100 (default 10), as the reference documents for this list.
    #[param(value_type = Option<i64>, minimum = 10, maximum = 100)]
    pub limit: Option<String>,
}

impl MemberPaging {
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let page = PageRequest::new(
            integer("offset", &self.offset)?,
            integer("limit", &self.limit)?,
        )?;
        Ok(page.with_min_limit(10)?)
    }
}

/// The organization filter shared by the user and organization lists.
fn org_id(v: &Option<String>) -> Option<String> {
    non_empty(v).map(str::to_owned)
}

/// `ListUsers`' filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Organization id; empty means none.
    pub org_id: Option<String>,
    #[doc = "Only users changed after this time, oldest change first: \
        yyyy-MM-dd HH:mm:ss.SSS (UTC) or epoch milliseconds."]
    pub updated_at_greater: Option<String>,
}

impl UserFilter {
    pub fn org_id(&self) -> Option<String> {
        org_id(&self.org_id)
    }

    pub fn updated_at_greater(&self) -> Result<Option<Millis>, ApiError> {
        non_empty(&self.updated_at_greater)
            .map(|t| {
                roster_domain::time::parse_api_time(t).ok_or_else(|| {
                    Error::invalid(format!(
                        "updated_at_greater is a time: yyyy-MM-dd HH:mm:ss.SSS (UTC) or epoch \
                         milliseconds, not '{t}'."
                    ))
                    .into()
                })
            })
            .transpose()
    }
}

/// `ListOrganizations`' filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgFilter {
    /// Organization id; empty means none.
    pub org_id: Option<String>,
    /// Include every level of sub-organizations.
    #[param(value_type = Option<bool>)]
    pub all_child: Option<String>,
}

impl OrgFilter {
    pub fn org_id(&self) -> Option<String> {
        org_id(&self.org_id)
    }

    pub fn all_child(&self) -> Result<bool, ApiError> {
        match non_empty(&self.all_child) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(Error::invalid("all_child must be true or false.").into()),
        }
    }
}

/// `ListAppAccounts`' filter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilter {
    /// BASIC_ACCOUNT, ORPHAN_ACCOUNT or PUBLIC_ACCOUNT; empty means all.
    pub account_type: Option<String>,
}

impl AccountFilter {
    pub fn account_type(&self) -> Result<Option<AccountType>, ApiError> {
        Ok(non_empty(&self.account_type)
            .map(AccountType::parse)
            .transpose()?)
    }
}

/// The audit list's filters (Roster extension).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Client id that acted (for refused tokens: client@address; a person in the console:
    /// console:USER_NAME).
    pub actor: Option<String>,
    /// The operation (e.g. `CreateUser`, `SignIn`).
    pub operation: Option<String>,
    /// Id of the entity acted on.
    pub target_id: Option<String>,
    /// From this time (inclusive): yyyy-MM-dd HH:mm:ss.SSS UTC, RFC 3339 or epoch ms.
    pub from: Option<String>,
    /// Before this time (exclusive).
    pub to: Option<String>,
}

impl AuditQuery {
    pub fn filter(&self) -> Result<AuditFilter, ApiError> {
        let time = |name: &str, v: &Option<String>| -> Result<Option<Millis>, ApiError> {
            non_empty(v)
                .map(|t| {
                    roster_domain::time::parse(t).ok_or_else(|| {
                        Error::invalid(format!(
                            "{name} is a time: yyyy-MM-dd HH:mm:ss.SSS (UTC), RFC 3339 or epoch \
                             milliseconds."
                        ))
                        .into()
                    })
                })
                .transpose()
        };
        Ok(AuditFilter {
            actor: non_empty(&self.actor).map(str::to_owned),
            operation: non_empty(&self.operation).map(str::to_owned),
            target_id: non_empty(&self.target_id).map(str::to_owned),
            from: time("from", &self.from)?,
            to: time("to", &self.to)?,
        })
    }
}
