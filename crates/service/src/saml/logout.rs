//! `/api/v1/saml2/idp/slo` (SAML profiles §4.4, single logout started by a service
//! provider): a `LogoutRequest`, trusted as a sign-in request is (signed when the application
//! registered a certificate), ends the browser's session as `/api/v1/logout` does — its
//! other applications are told through the back-channel outbox — and is answered with a
//! signed `LogoutResponse` at the application's SingleLogoutService.

use super::documents;
use super::dsig;
use super::messages::{self, InboundMessage};
use super::sso::SamlPost;
use super::{idp_entity_id, post_value, SamlApplication, SLO_PATH};
use crate::sign_in::Logout;
use crate::Service;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use roster_domain::saml::{self as rules, Binding, REQUEST_TTL_MS, SKEW_MS};
use roster_domain::{Error, Result};
use std::io::Write;
use std::net::IpAddr;

/// What the browser is given after a logout request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SamlLogout {
    /// A request that cannot be trusted: a page saying why; nothing ended.
    Refused(String),
    /// The session ended; the page posting the LogoutResponse.
    Post(SamlPost),
    /// The session ended; to this URL (the LogoutResponse by HTTP-Redirect, or the login
    /// page when the application registered no logout service).
    Redirect(String),
}

/// A logout request as it came, and who is asking.
pub struct SamlLogoutRequest<'a> {
    pub message: InboundMessage,
    pub relay_state: Option<String>,
    pub cookie: Option<&'a str>,
    pub source: IpAddr,
    pub public_url: &'a str,
    /// This server's issuer (for the session's end, as `/api/v1/logout` is given it).
    pub issuer: &'a str,
}

impl Service {
    /// Answers a service provider's `LogoutRequest`.
    pub async fn saml_logout(&self, request: SamlLogoutRequest<'_>) -> Result<SamlLogout> {
        let now = self.now();
        let message = &request.message;
        let root = match messages::decode(message.binding, &message.value) {
            Ok(root) => root,
            Err(why) => return Ok(SamlLogout::Refused(why)),
        };
        let logout = match messages::logout_request(&root) {
            Ok(logout) => logout,
            Err(why) => return Ok(SamlLogout::Refused(why)),
        };
        let Some(found) = self.saml_application(&logout.issuer).await? else {
            return Ok(SamlLogout::Refused(
                "No SAML application is registered for this service provider.".to_owned(),
            ));
        };
        if let Err(why) = check_logout_signature(&found, message, &root) {
            return Ok(SamlLogout::Refused(why));
        }
        let slo = format!("{}{SLO_PATH}", request.public_url);
        if logout.destination.as_deref().is_some_and(|d| d != slo) {
            return Ok(SamlLogout::Refused(
                "The request's Destination is not this server's logout address.".to_owned(),
            ));
        }
        if logout.issue_instant > now.saturating_add(SKEW_MS)
            || logout.issue_instant < now.saturating_sub(REQUEST_TTL_MS)
        {
            return Ok(SamlLogout::Refused(
                "The request's IssueInstant is too old or in the future.".to_owned(),
            ));
        }
        self.sign_out(Logout {
            cookie: request.cookie,
            redirect_url: None,
            post_logout_redirect_uri: None,
            state: None,
            client_id: None,
            id_token_hint: None,
            issuer: request.issuer,
            ask_first: false,
            source: request.source,
            // The application asking is not told again (by SOAP) of the logout it began.
            initiated_by: Some(&found.app.id),
        })
        .await?;
        let Some(url) = found.saml.logout_url.clone() else {
            return Ok(SamlLogout::Redirect("/login?signed_out=1".to_owned()));
        };
        let response = documents::logout_response(
            &rules::new_id(),
            &idp_entity_id(request.public_url),
            &url,
            &logout.id,
            now,
        );
        let algorithm = found.saml.signature_algorithm;
        match found.saml.logout_binding {
            Binding::Post => {
                let signed = self.sign_xml(response, algorithm).await?;
                Ok(SamlLogout::Post(SamlPost {
                    url,
                    field: "SAMLResponse",
                    value: post_value(&signed),
                    relay_state: request.relay_state,
                }))
            }
            Binding::Redirect => {
                let query = {
                    let mut query = form_urlencoded::Serializer::new(String::new());
                    query.append_pair(
                        "SAMLResponse",
                        &STANDARD.encode(deflate(&response.to_xml())?),
                    );
                    if let Some(relay_state) = &request.relay_state {
                        query.append_pair("RelayState", relay_state);
                    }
                    query.finish()
                };
                let key = self.active_signing_key().await?;
                let signed = dsig::sign_query(&query, &key.credential, algorithm)
                    .map_err(|e| Error::internal(format!("signing a SAML query: {e}")))?;
                let separator = if url.contains('?') { '&' } else { '?' };
                Ok(SamlLogout::Redirect(format!("{url}{separator}{signed}")))
            }
        }
    }
}

/// The HTTP-Redirect binding's raw DEFLATE.
fn deflate(text: &str) -> Result<Vec<u8>> {
    let mut deflater =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater
        .write_all(text.as_bytes())
        .and_then(|()| deflater.finish())
        .map_err(|e| Error::internal(format!("deflating a SAML message: {e}")))
}

impl Service {
    /// The SOAP body of a back-channel `LogoutRequest` to `url` for the assertion whose
    /// NameID was `name_id` in the session `sid` (its SessionIndex), signed.
    pub(crate) async fn saml_soap_logout_request(
        &self,
        saml: &roster_domain::saml::SamlSettings,
        url: &str,
        name_id: &str,
        sid: &str,
        public_url: &str,
    ) -> Result<String> {
        let request = documents::logout_request(
            &rules::new_id(),
            &idp_entity_id(public_url),
            url,
            name_id,
            saml.name_id_format,
            sid,
            self.now(),
        );
        let signed = self.sign_xml(request, saml.signature_algorithm).await?;
        Ok(documents::soap_envelope(signed).to_xml())
    }
}

/// A logout request's signature: required when the application registered a certificate
/// (profiles §4.4.3.1: the requester authenticates itself); none can be checked otherwise.
fn check_logout_signature(
    found: &SamlApplication,
    message: &InboundMessage,
    root: &super::xml::Element,
) -> std::result::Result<(), String> {
    let signed = super::verified_signature(found, message, root)?;
    if !signed && found.saml.sp_certificate.is_some() {
        return Err("A logout request from this application must be signed.".to_owned());
    }
    Ok(())
}
