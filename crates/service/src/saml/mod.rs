//! SAML 2.0 identity provider (`/api/v1/saml2/idp/*`, OneAccess's 基于SAML2.0的应用认证集成):
//! metadata, sign-in started by the service provider (an `AuthnRequest` by HTTP-Redirect or
//! HTTP-POST) or by Roster (`?sp=ENTITY_ID`), answered with a signed `Response` posted to the
//! application's Assertion Consumer Service. Who may sign in comes from `crate::sign_in`,
//! as for every protocol; the XML and its signatures are this module's own (`xml`, `dsig`).

mod documents;
mod dsig;
mod logout;
mod messages;
mod sp_metadata;
mod sso;
pub(crate) mod xml;

pub use logout::{SamlLogout, SamlLogoutRequest};
pub use messages::{Inbound, InboundMessage};
pub use sp_metadata::{read_sp_metadata, SpMetadata};
pub use sso::{SamlPost, SamlSso, SamlSsoRequest};

use crate::Service;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use roster_domain::application::Application;
use roster_domain::saml::{SamlSettings, SignatureAlgorithm};
use roster_domain::sso::{Protocol, SsoSettings};
use roster_domain::{Error, Result};
use roster_store::prelude::*;
use xml::Element;

/// Where sign-in requests come (HTTP-Redirect and HTTP-POST).
pub const SSO_PATH: &str = "/api/v1/saml2/idp/sso";
/// Where logout requests come.
pub const SLO_PATH: &str = "/api/v1/saml2/idp/slo";
/// The metadata; with the public URL before it, also the IdP's entity ID.
pub const METADATA_PATH: &str = "/api/v1/saml2/idp/metadata";

/// The IdP's entity ID: the public URL and the metadata's path (where the SP can fetch it).
pub fn idp_entity_id(public_url: &str) -> String {
    format!("{public_url}{METADATA_PATH}")
}

/// A SAML application: the application, its sign-in settings, and their SAML part.
pub(crate) struct SamlApplication {
    pub app: Application,
    pub settings: SsoSettings,
    pub saml: SamlSettings,
}

impl Service {
    /// The SAML application of the service provider `entity_id`.
    pub(crate) async fn saml_application(
        &self,
        entity_id: &str,
    ) -> Result<Option<SamlApplication>> {
        let apps = self.read(read_saml_applications, ()).await?;
        Ok(apps.into_iter().find_map(|(app, settings)| {
            let saml = settings.saml.clone()?;
            (saml.entity_id == entity_id).then_some(SamlApplication {
                app,
                settings,
                saml,
            })
        }))
    }

    /// `GET /api/v1/saml2/idp/metadata`: the IdP's `EntityDescriptor`, with the certificate
    /// of every published signing key (the active one first).
    pub async fn saml_metadata(&self, public_url: &str) -> Result<String> {
        let certificates: Vec<String> = self
            .published_certificates()
            .await?
            .iter()
            .map(|der| STANDARD.encode(der))
            .collect();
        let document = documents::metadata(
            &idp_entity_id(public_url),
            &format!("{public_url}{SSO_PATH}"),
            &format!("{public_url}{SLO_PATH}"),
            &certificates,
        );
        Ok(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
            document.to_xml()
        ))
    }

    /// Signs `element` (enveloped) with the active signing key.
    async fn sign_xml(
        &self,
        mut element: Element,
        algorithm: SignatureAlgorithm,
    ) -> Result<Element> {
        let key = self.active_signing_key().await?;
        // An RSA signature: off the async threads, as id_tokens are signed.
        tokio::task::spawn_blocking(move || {
            dsig::sign_enveloped(&mut element, &key.credential, algorithm).map(|()| element)
        })
        .await
        .map_err(|e| Error::internal(format!("signing a SAML message: {e}")))?
        .map_err(|e| Error::internal(format!("signing a SAML message: {e}")))
    }
}

/// Whether `message` (its XML `root`) carries a signature that verifies with the
/// application's certificate: `Ok(false)` when it is unsigned or the application registered
/// no certificate to check with; `Err` when a signature is there and does not hold. How a
/// message is signed depends on its binding (a query signature for HTTP-Redirect, an
/// enveloped one for HTTP-POST).
pub(crate) fn verified_signature(
    found: &SamlApplication,
    message: &InboundMessage,
    root: &Element,
) -> std::result::Result<bool, String> {
    let Some(certificate) = found.saml.sp_certificate.as_deref() else {
        return Ok(false);
    };
    let key = dsig::certificate_key(certificate)
        .map_err(|why| format!("The application's certificate: {why}."))?;
    match message.binding {
        Inbound::Redirect => dsig::verify_query(
            message.raw_query.as_deref().unwrap_or_default(),
            "SAMLRequest",
            &key,
        )
        .map_err(str::to_owned),
        Inbound::Post if dsig::is_signed(root) => dsig::verify_enveloped(root, &key)
            .map(|()| true)
            .map_err(str::to_owned),
        Inbound::Post => Ok(false),
    }
}

/// Checks that a SAML application's certificate can be read (the domain cannot parse X.509).
pub(crate) fn check_certificate(settings: &SsoSettings) -> Result<()> {
    let Some(pem) = settings
        .saml
        .as_ref()
        .and_then(|s| s.sp_certificate.as_deref())
    else {
        return Ok(());
    };
    dsig::certificate_key(pem)
        .map(|_| ())
        .map_err(|why| Error::invalid(format!("saml.sp_certificate: {why}.")))
}

async fn read_saml_applications(
    tx: &mut dyn Tx,
    (): (),
) -> Result<Vec<(Application, SsoSettings)>> {
    tx.applications_signing_in_with(Protocol::Saml).await
}

/// A document as a form field carries it (HTTP-POST binding): base64 of the XML.
fn post_value(element: &Element) -> String {
    STANDARD.encode(element.to_xml())
}
