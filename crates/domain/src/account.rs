//! Application accounts: a user's identity inside one application.

use crate::application::ApplicationId;
use crate::time::Millis;
use crate::user::UserId;
use crate::{validate, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

pub const MAX_ACCOUNT_NAME_CHARS: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountType {
    /// Tied to a user.
    Basic,
    /// Its user is gone.
    Orphan,
    /// Shared by several people.
    Public,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Basic => "BASIC_ACCOUNT",
            AccountType::Orphan => "ORPHAN_ACCOUNT",
            AccountType::Public => "PUBLIC_ACCOUNT",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "BASIC_ACCOUNT" => Ok(AccountType::Basic),
            "ORPHAN_ACCOUNT" => Ok(AccountType::Orphan),
            "PUBLIC_ACCOUNT" => Ok(AccountType::Public),
            other => Err(Error::invalid(format!(
                "account_type must be BASIC_ACCOUNT, ORPHAN_ACCOUNT or PUBLIC_ACCOUNT, not '{other}'."
            ))),
        }
    }
}

impl Serialize for AccountType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AccountType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        AccountType::parse(&text).map_err(|e| serde::de::Error::custom(e.client_message()))
    }
}

impl fmt::Display for AccountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An application account's id.
pub type AccountId = crate::id::Id<AppAccount>;

/// A stored application account. `password` is the account's password for downstream
/// sync; it is never returned by any interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppAccount {
    pub id: AccountId,
    pub application_id: ApplicationId,
    pub user_id: Option<UserId>,
    pub account_name: String,
    pub account_type: AccountType,
    pub name: Option<String>,
    /// Application organization.
    pub org_id: Option<String>,
    pub password: Option<String>,
    pub disabled: bool,
    /// Disabled because its user was; enabled again with the user.
    pub disabled_by_user: bool,
    pub extension: Option<Map<String, Value>>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Body of "authorize an application account to a user".
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorizeFields {
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub account_name: Option<String>,
}

/// Body of "add an application account" (basic-account) and, all optional, of the update.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountFields {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub user_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub account_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 255))]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub org_code: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub password: Option<String>,
    pub disabled: Option<bool>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub extension: Option<Map<String, Value>>,
}

/// A validated new account; `account_name` None means "the user's user_name".
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub account_name: Option<String>,
    pub name: Option<String>,
    pub org_code: Option<String>,
    pub password: Option<String>,
    pub disabled: bool,
    pub extension: Option<Map<String, Value>>,
}

/// A validated update: `None` leaves the field as it was.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    pub account_name: Option<String>,
    pub name: Option<String>,
    pub org_code: Option<String>,
    pub password: Option<String>,
    pub disabled: Option<bool>,
    pub extension: Option<Map<String, Value>>,
}

pub fn validate_account_name(value: Option<String>) -> Result<Option<String>> {
    let name = validate::optional("account_name", value, MAX_ACCOUNT_NAME_CHARS)?;
    if let Some(n) = &name {
        validate::identifier("account_name", n)?;
        if n.trim().is_empty() {
            return Err(Error::invalid("account_name must not be blank."));
        }
    }
    Ok(name)
}

impl AuthorizeFields {
    pub fn into_new_account(self) -> Result<NewAccount> {
        Ok(NewAccount {
            account_name: validate_account_name(self.account_name)?,
            ..NewAccount::default()
        })
    }
}

impl AccountFields {
    /// Checks a basic-account body; returns the user id and the account.
    pub fn into_new_account(self) -> Result<(String, NewAccount)> {
        let user_id = validate::required("user_id", self.user_id, 64)?;
        let changes = AccountFields {
            user_id: None,
            ..self
        }
        .into_changes()?;
        Ok((
            user_id,
            NewAccount {
                account_name: changes.account_name,
                name: changes.name,
                org_code: changes.org_code,
                password: changes.password,
                disabled: changes.disabled.unwrap_or(false),
                extension: changes.extension,
            },
        ))
    }

    /// Checks an update body. `user_id` cannot be changed by an update and is ignored.
    pub fn into_changes(self) -> Result<AccountChanges> {
        Ok(AccountChanges {
            account_name: validate_account_name(self.account_name)?,
            name: validate::optional("name", self.name, 255)?,
            org_code: validate::optional("org_code", self.org_code, 64)?,
            password: crate::user::validate_password(self.password)?,
            disabled: self.disabled,
            extension: validate::extension(self.extension)?,
        })
    }
}
