//! SAML 2.0 (OneAccess's 基于SAML2.0的应用认证集成): an application's SAML settings (the
//! service provider's entity ID, what its assertions carry and what is signed), and the
//! rules of Roster's answers: lifetimes, Name ID formats, status codes.

pub use crate::claims::AttributeNameFormat;
use crate::claims::{claim_values, ClaimMapping, ClaimSource, Principal};
use crate::time::Millis;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// How long an assertion may be presented: `NotOnOrAfter` of its subject confirmation and
/// conditions (SAML2int: a few minutes).
pub const ASSERTION_TTL_MS: Millis = 5 * 60_000;
/// Clock skew allowed before `NotBefore`.
pub const SKEW_MS: Millis = 60_000;
/// How long a request ID stays spent (requests older than this are refused as stale).
pub const REQUEST_TTL_MS: Millis = 10 * 60_000;
/// Longest entity ID or request ID accepted.
pub const MAX_ID_CHARS: usize = 1024;

/// The signature algorithm (XML-DSig URIs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum SignatureAlgorithm {
    #[default]
    RsaSha256,
    RsaSha512,
}

impl SignatureAlgorithm {
    pub fn uri(self) -> &'static str {
        match self {
            Self::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            Self::RsaSha512 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        }
    }

    /// The algorithm a URI names; SHA-1 and anything else is none.
    pub fn from_uri(uri: &str) -> Option<Self> {
        [Self::RsaSha256, Self::RsaSha512]
            .into_iter()
            .find(|a| a.uri() == uri)
    }
}

/// A `NameID` format (SAML core §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NameIdFormat {
    #[default]
    Unspecified,
    EmailAddress,
    Persistent,
    /// A new opaque value in each assertion (the source is not used).
    Transient,
}

impl NameIdFormat {
    pub const ALL: [NameIdFormat; 4] = [
        Self::Unspecified,
        Self::EmailAddress,
        Self::Persistent,
        Self::Transient,
    ];

    pub fn uri(self) -> &'static str {
        match self {
            Self::Unspecified => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            Self::EmailAddress => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            Self::Persistent => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            Self::Transient => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.uri() == uri)
    }
}

/// What Roster signs in its responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Signed {
    #[default]
    Assertion,
    Response,
    Both,
}

impl Signed {
    pub fn assertion(self) -> bool {
        matches!(self, Self::Assertion | Self::Both)
    }

    pub fn response(self) -> bool {
        matches!(self, Self::Response | Self::Both)
    }
}

/// A SAML application's own settings (with `"protocol": "saml"`; its `redirect_uris` are its
/// Assertion Consumer Service URLs, the first the default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SamlSettings {
    /// The service provider's entity ID (`sp` of IdP-initiated sign-in, `Issuer` of its
    /// requests).
    pub entity_id: String,
    /// Where the subject's `NameID` comes from: a user attribute (default `user_name`) or an
    /// account attribute (e.g. `account_name`).
    #[serde(default = "default_name_id")]
    pub name_id: ClaimSource,
    #[serde(default)]
    pub name_id_format: NameIdFormat,
    /// The assertion's `Audience`; default: the entity ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// What is signed: the assertion (default), the response, or both.
    #[serde(default)]
    pub signed: Signed,
    #[serde(default)]
    pub signature_algorithm: SignatureAlgorithm,
    /// The service provider's signing certificate (PEM or base64 DER): requests and logout
    /// messages it signs are checked with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_certificate: Option<String>,
    /// Refuse AuthnRequests that are not signed (needs `sp_certificate`).
    #[serde(default)]
    pub require_signed_requests: bool,
    /// The service provider's SingleLogoutService (HTTP-POST or HTTP-Redirect): where logout
    /// responses and, at a global logout, logout requests go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<String>,
    /// The binding of `logout_url`: `post` (default) or `redirect`.
    #[serde(default)]
    pub logout_binding: Binding,
    /// The service provider's SingleLogoutService with the SOAP binding: where a logout that
    /// began elsewhere (`/api/v1/logout`, another application) is told, server to server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soap_logout_url: Option<String>,
}

/// A SAML binding Roster answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    #[default]
    Post,
    Redirect,
}

impl Binding {
    pub const POST_URI: &'static str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
    pub const REDIRECT_URI: &'static str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    /// Server to server (back-channel logout).
    pub const SOAP_URI: &'static str = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP";

    pub fn uri(self) -> &'static str {
        match self {
            Self::Post => Self::POST_URI,
            Self::Redirect => Self::REDIRECT_URI,
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        match uri {
            Self::POST_URI => Some(Self::Post),
            Self::REDIRECT_URI => Some(Self::Redirect),
            _ => None,
        }
    }
}

fn default_name_id() -> ClaimSource {
    ClaimSource::User("user_name".to_owned())
}

impl SamlSettings {
    /// Settings for `entity_id` with every default.
    pub fn for_entity(entity_id: &str) -> Self {
        Self {
            entity_id: entity_id.to_owned(),
            name_id: default_name_id(),
            name_id_format: NameIdFormat::default(),
            audience: None,
            signed: Signed::default(),
            signature_algorithm: SignatureAlgorithm::default(),
            sp_certificate: None,
            require_signed_requests: false,
            logout_url: None,
            logout_binding: Binding::default(),
            soap_logout_url: None,
        }
    }

    /// The assertion's audience.
    pub fn audience(&self) -> &str {
        self.audience.as_deref().unwrap_or(&self.entity_id)
    }

    /// Checks the fields (the certificate is read by the service, which has the X.509
    /// parser).
    pub fn validate(&self) -> Result<()> {
        let entity = self.entity_id.trim();
        if entity.is_empty() || entity.len() > MAX_ID_CHARS || entity != self.entity_id {
            return Err(Error::invalid(format!(
                "saml.entity_id: the service provider's entity ID, 1 to {MAX_ID_CHARS} \
                 characters without surrounding spaces."
            )));
        }
        if let Some(audience) = &self.audience {
            if audience.trim().is_empty() || audience.len() > MAX_ID_CHARS {
                return Err(Error::invalid(format!(
                    "saml.audience: 1 to {MAX_ID_CHARS} characters."
                )));
            }
        }
        match &self.name_id {
            ClaimSource::User(_) | ClaimSource::Account(_) => self.name_id.validate()?,
            ClaimSource::Roles | ClaimSource::Constant(_) => {
                return Err(Error::invalid(
                    "saml.name_id: a user attribute or an account attribute.",
                ))
            }
        }
        if self.require_signed_requests && self.sp_certificate.is_none() {
            return Err(Error::invalid(
                "saml.require_signed_requests needs saml.sp_certificate to check them with.",
            ));
        }
        if let Some(url) = &self.logout_url {
            crate::validate::registered_url("saml.logout_url", url)?;
        }
        if let Some(url) = &self.soap_logout_url {
            crate::validate::registered_url("saml.soap_logout_url", url)?;
        }
        Ok(())
    }
}

/// A SAML status (core §3.2.2.2): the top-level code and, for refusals, a second one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    /// The user may not sign in to the application.
    RequestDenied,
    /// `IsPassive` and the user must sign in first.
    NoPassive,
    /// The request asked for what Roster does not give (e.g. a Name ID format).
    InvalidNameIdPolicy,
}

impl Status {
    /// Top-level and second-level status code URIs.
    pub fn codes(self) -> (&'static str, Option<&'static str>) {
        const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
        const REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
        const RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
        match self {
            Self::Success => (SUCCESS, None),
            Self::RequestDenied => (
                RESPONDER,
                Some("urn:oasis:names:tc:SAML:2.0:status:RequestDenied"),
            ),
            Self::NoPassive => (
                REQUESTER,
                Some("urn:oasis:names:tc:SAML:2.0:status:NoPassive"),
            ),
            Self::InvalidNameIdPolicy => (
                REQUESTER,
                Some("urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"),
            ),
        }
    }
}

/// An attribute of an assertion's `AttributeStatement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlAttribute {
    pub name: String,
    pub friendly_name: Option<String>,
    pub name_format: AttributeNameFormat,
    pub values: Vec<String>,
}

/// The attributes an assertion carries about `principal`: one per mapping whose source is
/// set (OneAccess's 映射配置 rows with their Friendly Name and Name Format).
pub fn attributes(principal: &Principal, mappings: &[ClaimMapping]) -> Vec<SamlAttribute> {
    mappings
        .iter()
        .filter_map(|m| {
            let value = principal.value(&m.source)?;
            Some(SamlAttribute {
                name: m.claim.clone(),
                friendly_name: m.friendly_name.clone(),
                name_format: m.name_format.unwrap_or_default(),
                values: claim_values(&value),
            })
        })
        .collect()
}

/// The subject's `NameID` value: the settings' source of `principal` (none: the source is
/// unset for this user, e.g. no email).
pub fn name_id(settings: &SamlSettings, principal: &Principal) -> Option<String> {
    if settings.name_id_format == NameIdFormat::Transient {
        return Some(new_id());
    }
    let value = principal.value(&settings.name_id)?;
    claim_values(&value)
        .into_iter()
        .next()
        .filter(|v| !v.is_empty())
}

/// A SAML ID Roster makes: `_` and 40 hex digits (an xs:ID must not start with a digit).
pub fn new_id() -> String {
    format!("_{}", &crate::secret::generate()[..40])
}

/// A request ID spent: SAML core §3.2.1 IDs are unique, so a request answered once is not
/// answered again (on any node) while it could still be fresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpentRequest {
    pub application_id: crate::application::ApplicationId,
    pub request_id: String,
    pub expires_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_need_an_entity_id_and_a_usable_name_id() {
        let mut s = SamlSettings::for_entity("https://sp.example.com/metadata");
        assert!(s.validate().is_ok());
        s.name_id = ClaimSource::Account("account_name".into());
        assert!(s.validate().is_ok());
        s.name_id = ClaimSource::Roles;
        assert!(s.validate().is_err());
        s.name_id = ClaimSource::User("password_hash".into());
        assert!(s.validate().is_err());
        let mut s = SamlSettings::for_entity(" x");
        assert!(s.validate().is_err());
        s.entity_id = "x".into();
        s.require_signed_requests = true;
        assert!(s.validate().is_err(), "a certificate to check with");
    }

    #[test]
    fn sha1_is_no_signature_algorithm_here() {
        assert_eq!(
            SignatureAlgorithm::from_uri("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
            Some(SignatureAlgorithm::RsaSha256)
        );
        assert_eq!(
            SignatureAlgorithm::from_uri("http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
            None
        );
        assert!(new_id().starts_with('_') && new_id().len() == 41);
    }
}
