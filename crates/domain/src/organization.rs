//! Organizations: the tenant's tree that users belong to, and each application's own tree
//! (application organizations) that its accounts belong to.

use crate::application::ApplicationId;
use crate::time::Millis;
use crate::{validate, Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

/// The id of an organization of the tenant's tree.
pub type OrganizationId = crate::id::Id<Organization>;
/// The id of an organization of an application's own tree.
pub type AppOrgId = crate::id::Id<AppOrganization>;

pub const MAX_CODE_CHARS: usize = 64;
pub const MAX_NAME_CHARS: usize = 100;
pub const DEFAULT_CATEGORY: &str = "department";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrganizationId,
    pub code: String,
    pub name: String,
    pub parent_id: Option<OrganizationId>,
    pub category: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppOrganization {
    pub id: AppOrgId,
    pub application_id: ApplicationId,
    pub code: String,
    pub name: String,
    pub parent_id: Option<AppOrgId>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Body of `CreateOrganization` and, all optional, `UpdateOrganization`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgFields {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub code: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub name: Option<String>,
    pub parent_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 32))]
    pub category: Option<String>,
}

/// Body of `CreateAppOrg` and, all optional, `UpdateAppOrg` (which has no code).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppOrgFields {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub org_code: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub name: Option<String>,
    pub parent_id: Option<String>,
}

/// Validated fields; `None` is "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgChanges {
    pub code: Option<String>,
    pub name: Option<String>,
    pub parent_id: Option<String>,
    pub category: Option<String>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

/// Letters (any script), digits, `_` and `-`.
pub fn check_code(code: &str, invalid: ErrorKind) -> Result<()> {
    let ok = code.chars().count() <= MAX_CODE_CHARS
        && code
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::with_detail(
            invalid,
            format!("Use letters, digits, '_' and '-', at most {MAX_CODE_CHARS} characters."),
        ))
    }
}

/// Letters (any script), digits, space, `-`, `_` and `&`.
pub fn check_name(name: &str, invalid: ErrorKind) -> Result<()> {
    let ok = name.chars().count() <= MAX_NAME_CHARS
        && !name.trim().is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '&'));
    if ok {
        Ok(())
    } else {
        Err(Error::with_detail(
            invalid,
            format!(
                "Use letters, digits, space, '-', '_' and '&', at most {MAX_NAME_CHARS} characters."
            ),
        ))
    }
}

fn check_category(category: &str) -> Result<()> {
    let ok = (1..=32).contains(&category.len())
        && category.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "category is a lower-case word such as department or group.",
        ))
    }
}

impl OrgFields {
    /// A create body: code and name required.
    pub fn into_new(self) -> Result<OrgChanges> {
        let code = non_empty(self.code).ok_or(ErrorKind::OrganizationCodeRequired)?;
        let name = non_empty(self.name).ok_or(ErrorKind::OrganizationNameRequired)?;
        let mut changes = OrgFields {
            code: Some(code),
            name: Some(name),
            ..self
        }
        .into_changes()?;
        changes
            .category
            .get_or_insert_with(|| DEFAULT_CATEGORY.to_owned());
        Ok(changes)
    }

    /// An update body: empty or absent fields stay as they are.
    pub fn into_changes(self) -> Result<OrgChanges> {
        let code = non_empty(self.code);
        if let Some(c) = &code {
            check_code(c, ErrorKind::InvalidOrganizationCode)?;
        }
        let name = non_empty(self.name);
        if let Some(n) = &name {
            check_name(n, ErrorKind::InvalidOrganizationName)?;
        }
        let category = non_empty(self.category);
        if let Some(c) = &category {
            check_category(c)?;
        }
        Ok(OrgChanges {
            code,
            name,
            parent_id: non_empty(self.parent_id),
            category,
        })
    }
}

impl AppOrgFields {
    /// A create body: org_code and name required.
    pub fn into_new(self) -> Result<OrgChanges> {
        let code = validate::required("org_code", self.org_code, MAX_CODE_CHARS)?;
        check_code(&code, ErrorKind::InvalidParameter)
            .map_err(|e| Error::invalid(format!("org_code: {}", e.detail().unwrap_or(""))))?;
        let name = validate::required("name", self.name, MAX_NAME_CHARS)?;
        check_name(&name, ErrorKind::InvalidParameter)
            .map_err(|e| Error::invalid(format!("name: {}", e.detail().unwrap_or(""))))?;
        Ok(OrgChanges {
            code: Some(code),
            name: Some(name),
            parent_id: non_empty(self.parent_id),
            category: None,
        })
    }

    /// An update body: `name` and `parent_id`; the code cannot change.
    pub fn into_changes(self) -> Result<OrgChanges> {
        let name = non_empty(self.name);
        if let Some(n) = &name {
            check_name(n, ErrorKind::InvalidParameter)
                .map_err(|e| Error::invalid(format!("name: {}", e.detail().unwrap_or(""))))?;
        }
        Ok(OrgChanges {
            code: None,
            name,
            parent_id: non_empty(self.parent_id),
            category: None,
        })
    }
}
