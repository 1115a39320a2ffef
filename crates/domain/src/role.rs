//! Application roles, granted to application accounts.

use crate::application::ApplicationId;
use crate::time::Millis;
use crate::{validate, Error, Result};
use serde::{Deserialize, Serialize};

pub const MAX_MEMBERS_PER_CALL: usize = 50;

/// The id of an application role.
pub type RoleId = crate::id::Id<Role>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: RoleId,
    pub application_id: ApplicationId,
    pub code: String,
    pub name: Option<String>,
    pub created_at: Millis,
    pub updated_at: Option<Millis>,
}

/// Body of `CreateAppRole` / `UpdateAppRole`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleFields {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub code: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub name: Option<String>,
}

/// Body of `CreateAppRoleMember` / `DeleteAppRoleMember`. The capital `I` is the reference's.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleMemberFields {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub role_id: Option<String>,
    #[serde(rename = "account_Ids")]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub account_ids: Option<Vec<String>>,
}

impl RoleFields {
    pub fn into_new(self) -> Result<(String, Option<String>)> {
        let code = validate::required("code", self.code, 64)?;
        crate::organization::check_code(&code, crate::ErrorKind::InvalidParameter)
            .map_err(|e| Error::invalid(format!("code: {}", e.detail().unwrap_or(""))))?;
        Ok((code, validate::optional("name", self.name, 100)?))
    }

    pub fn into_new_name(self) -> Result<String> {
        validate::required("name", self.name, 100)
    }
}

impl RoleMemberFields {
    pub fn validate(self) -> Result<(String, Vec<String>)> {
        let role_id = validate::required("role_id", self.role_id, 64)?;
        let ids = self
            .account_ids
            .filter(|ids| !ids.is_empty())
            .ok_or_else(|| Error::invalid("account_Ids is required."))?;
        if ids.len() > MAX_MEMBERS_PER_CALL {
            return Err(Error::invalid(format!(
                "account_Ids holds at most {MAX_MEMBERS_PER_CALL} ids."
            )));
        }
        Ok((role_id, ids))
    }
}
