//! What applications are told about the user who signs in: the mappings of an application's
//! claims (OAuth/OIDC claims, CAS attributes, SAML attributes) and where each takes its
//! value, and the principal they are read from.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Where a mapped claim takes its value from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum ClaimSource {
    /// An attribute of the user: a field such as `email` or `employee_id`, or
    /// `extension.<key>`.
    User(String),
    /// An attribute of the user's account in the application: `account_name`, `name`, or
    /// `extension.<key>`.
    Account(String),
    /// The codes of the roles the account holds, as a list.
    Roles,
    /// A fixed value.
    Constant(String),
}

/// The user attributes a claim may name (besides `extension.<key>`).
pub const USER_ATTRIBUTES: &[&str] = &[
    "user_name",
    "name",
    "email",
    "mobile",
    "employee_id",
    "first_name",
    "middle_name",
    "last_name",
    "org_id",
    "gender",
    "birthday",
    "nick_name",
    "identity_type",
    "identity_number",
    "area",
    "city",
    "manager_id",
    "user_type",
    "hire_date",
    "work_place",
];

/// The account attributes a claim may name (besides `extension.<key>`).
pub const ACCOUNT_ATTRIBUTES: &[&str] = &["account_name", "name", "account_type", "org_id"];

impl ClaimSource {
    pub(crate) fn validate(&self) -> Result<()> {
        let known = |attr: &str, names: &[&str], whose: &str| {
            let extension = attr
                .strip_prefix("extension.")
                .is_some_and(|key| !key.is_empty() && key.len() <= 64);
            if names.contains(&attr) || extension {
                Ok(())
            } else {
                Err(Error::invalid(format!(
                    "'{attr}' is no {whose} attribute: one of {} or extension.<key>.",
                    names.join(", ")
                )))
            }
        };
        match self {
            ClaimSource::User(attr) => known(attr, USER_ATTRIBUTES, "user"),
            ClaimSource::Account(attr) => known(attr, ACCOUNT_ATTRIBUTES, "account"),
            ClaimSource::Roles => Ok(()),
            ClaimSource::Constant(value) if value.chars().count() > 1000 => Err(Error::invalid(
                "a constant claim value has at most 1000 characters.",
            )),
            ClaimSource::Constant(_) => Ok(()),
        }
    }
}

/// One claim an application receives in userinfo and the id_token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimMapping {
    /// The claim's name as the application reads it (SAML: the attribute's `Name`).
    pub claim: String,
    pub source: ClaimSource,
    /// SAML applications: the attribute's `FriendlyName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    /// SAML applications: the attribute's `NameFormat` (default `basic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_format: Option<AttributeNameFormat>,
}

/// An attribute's `NameFormat` (SAML core §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttributeNameFormat {
    #[default]
    Basic,
    Uri,
    Unspecified,
}

impl AttributeNameFormat {
    pub fn uri(self) -> &'static str {
        match self {
            Self::Basic => "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
            Self::Uri => "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
            Self::Unspecified => "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified",
        }
    }
}

/// Who is signing in to an application: the user, their account in it and the codes of the
/// roles the account holds. Userinfo and id_tokens are made of it.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: crate::user::User,
    pub account: crate::account::AppAccount,
    pub role_codes: Vec<String>,
}

impl Principal {
    /// The claims an application receives about the user: the reference's userinfo fields
    /// (`id`, `userName`, `name`, `email`, `mobile`; strings, empty when unset) and the
    /// application's mapped claims (absent when their source is unset).
    pub fn claims(&self, mappings: &[ClaimMapping]) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::Value;
        let user = &self.user;
        let mut claims = serde_json::Map::new();
        claims.insert("id".into(), Value::from(user.id.as_str()));
        claims.insert("userName".into(), Value::from(user.user_name.as_str()));
        claims.insert("name".into(), Value::from(user.name.as_str()));
        claims.insert(
            "email".into(),
            Value::from(user.email.clone().unwrap_or_default()),
        );
        claims.insert("mobile".into(), Value::from(user.mobile.as_str()));
        for mapping in mappings {
            if let Some(value) = self.value(&mapping.source) {
                claims.insert(mapping.claim.clone(), value);
            }
        }
        claims
    }

    /// The value `source` names, if set.
    pub fn value(&self, source: &ClaimSource) -> Option<serde_json::Value> {
        use serde_json::Value;
        let extension = |map: &Option<serde_json::Map<String, Value>>, key: &str| {
            map.as_ref().and_then(|m| m.get(key)).cloned()
        };
        let text = |s: &Option<String>| s.clone().map(Value::from);
        match source {
            ClaimSource::Constant(value) => Some(Value::from(value.as_str())),
            ClaimSource::Roles => Some(Value::from(self.role_codes.clone())),
            ClaimSource::Account(attr) => {
                let account = &self.account;
                match attr.as_str() {
                    "account_name" => Some(Value::from(account.account_name.as_str())),
                    "name" => text(&account.name),
                    "account_type" => Some(Value::from(account.account_type.as_str())),
                    "org_id" => text(&account.org_id),
                    other => extension(&account.extension, other.strip_prefix("extension.")?),
                }
            }
            ClaimSource::User(attr) => {
                let user = &self.user;
                let attrs = &user.attrs;
                match attr.as_str() {
                    "user_name" => Some(Value::from(user.user_name.as_str())),
                    "name" => Some(Value::from(user.name.as_str())),
                    "mobile" => Some(Value::from(user.mobile.as_str())),
                    "email" => text(&user.email),
                    "employee_id" => text(&user.employee_id),
                    "first_name" => text(&user.first_name),
                    "middle_name" => text(&user.middle_name),
                    "last_name" => text(&user.last_name),
                    "org_id" => text(&user.org_id),
                    "gender" => text(&attrs.gender),
                    "birthday" => text(&attrs.birthday),
                    "nick_name" => text(&attrs.nick_name),
                    "identity_type" => text(&attrs.identity_type),
                    "identity_number" => text(&attrs.identity_number),
                    "area" => text(&attrs.area),
                    "city" => text(&attrs.city),
                    "manager_id" => text(&attrs.manager_id),
                    "user_type" => text(&attrs.user_type),
                    "hire_date" => text(&attrs.hire_date),
                    "work_place" => text(&attrs.work_place),
                    other => extension(&user.extension, other.strip_prefix("extension.")?),
                }
            }
        }
    }
}

/// A claim's values as text: a list's items, a scalar as text (CAS attribute values, SAML
/// attribute values).
pub fn claim_values(value: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match value {
        Value::Array(items) => items.iter().flat_map(claim_values).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Null => vec![],
        other => vec![other.to_string()],
    }
}
