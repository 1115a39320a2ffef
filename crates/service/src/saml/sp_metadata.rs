//! A service provider's metadata (SAML metadata §2.4.4 `SPSSODescriptor`) read into an
//! application's SAML settings: entity ID, Assertion Consumer Services (HTTP-POST, by
//! index), signing certificate, SingleLogoutService, Name ID format, and whether it signs
//! its requests.

use super::xml::{self, ns, Element};
use roster_domain::saml::{Binding, NameIdFormat, SamlSettings};
use roster_domain::{Error, Result};

/// What an SP's metadata sets: its ACS URLs (for `redirect_uris`) and its SAML settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpMetadata {
    pub acs_urls: Vec<String>,
    pub settings: SamlSettings,
}

/// Reads an SP's `EntityDescriptor`.
pub fn read_sp_metadata(text: &str) -> Result<SpMetadata> {
    let invalid = |why: &str| Error::invalid(format!("the SP metadata: {why}"));
    let root = xml::parse(text).map_err(|e| invalid(&e))?;
    let descriptor = if root.is(ns::METADATA, "EntityDescriptor") {
        root
    } else if root.is(ns::METADATA, "EntitiesDescriptor") {
        let mut entities = root
            .elements()
            .filter(|e| e.is(ns::METADATA, "EntityDescriptor"));
        match (entities.next(), entities.next()) {
            (Some(one), None) => one.clone(),
            _ => {
                return Err(invalid(
                    "an EntitiesDescriptor must hold exactly one entity",
                ))
            }
        }
    } else {
        return Err(invalid("the document is no md:EntityDescriptor"));
    };
    let entity_id = descriptor
        .get("entityID")
        .ok_or_else(|| invalid("the EntityDescriptor has no entityID"))?;
    let sp = descriptor
        .find(ns::METADATA, "SPSSODescriptor")
        .ok_or_else(|| invalid("the entity has no SPSSODescriptor"))?;
    let mut acs: Vec<(u32, bool, String)> = sp
        .elements()
        .filter(|e| e.is(ns::METADATA, "AssertionConsumerService"))
        .filter(|e| e.get("Binding") == Some(Binding::POST_URI))
        .filter_map(|e| {
            let index = e.get("index").and_then(|i| i.parse().ok()).unwrap_or(0);
            let default = e.get("isDefault") == Some("true");
            Some((index, default, e.get("Location")?.to_owned()))
        })
        .collect();
    if acs.is_empty() {
        return Err(invalid(
            "the SPSSODescriptor has no AssertionConsumerService with the HTTP-POST binding",
        ));
    }
    // The default ACS first (Roster answers IdP-initiated sign-in there), then by index.
    acs.sort_by_key(|(index, default, _)| (!default, *index));
    let certificate = sp
        .elements()
        .filter(|e| e.is(ns::METADATA, "KeyDescriptor"))
        .filter(|e| e.get("use").is_none_or(|u| u == "signing"))
        .find_map(certificate_of);
    let logout = sp
        .elements()
        .filter(|e| e.is(ns::METADATA, "SingleLogoutService"))
        .find_map(|e| {
            let binding = Binding::from_uri(e.get("Binding")?)?;
            Some((binding, e.get("Location")?.to_owned()))
        });
    let soap_logout = sp
        .elements()
        .filter(|e| e.is(ns::METADATA, "SingleLogoutService"))
        .filter(|e| e.get("Binding") == Some(Binding::SOAP_URI))
        .find_map(|e| e.get("Location").map(str::to_owned));
    let name_id_format = sp
        .elements()
        .filter(|e| e.is(ns::METADATA, "NameIDFormat"))
        .find_map(|e| NameIdFormat::from_uri(&e.text_content()))
        .unwrap_or_default();
    let mut settings = SamlSettings::for_entity(entity_id);
    settings.name_id_format = name_id_format;
    settings.require_signed_requests =
        sp.get("AuthnRequestsSigned") == Some("true") && certificate.is_some();
    settings.sp_certificate = certificate;
    if let Some((binding, url)) = logout {
        settings.logout_binding = binding;
        settings.logout_url = Some(url);
    }
    settings.soap_logout_url = soap_logout;
    if sp.get("WantAssertionsSigned") == Some("true") {
        settings.signed = roster_domain::saml::Signed::Assertion;
    }
    Ok(SpMetadata {
        acs_urls: acs.into_iter().map(|(_, _, url)| url).collect(),
        settings,
    })
}

fn certificate_of(key: &Element) -> Option<String> {
    let certificate = key
        .find(ns::DSIG, "KeyInfo")?
        .find(ns::DSIG, "X509Data")?
        .find(ns::DSIG, "X509Certificate")?
        .text_content();
    let compact: String = certificate.split_whitespace().collect();
    (!compact.is_empty()).then_some(compact)
}
