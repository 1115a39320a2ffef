//! The documents Roster writes: the IdP's metadata, `Response` with its `Assertion`, and the
//! logout messages (SAML core §2, §3.2.2, §3.7; metadata §2.4.3). Each is a tree written in
//! canonical form; the caller signs.

use super::xml::{ns, Element};
use roster_domain::saml::{Binding, NameIdFormat, SamlAttribute, SamlSettings, Status};
use roster_domain::time::{rfc3339, Millis};

/// The assertion's authentication context: a password over TLS.
const PASSWORD_PROTECTED_TRANSPORT: &str =
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

fn samlp(name: &str) -> Element {
    Element::new("samlp", ns::PROTOCOL, name)
}

fn saml(name: &str) -> Element {
    Element::new("saml", ns::ASSERTION, name)
}

fn issuer(entity_id: &str) -> Element {
    saml("Issuer").text(entity_id)
}

fn status(status: Status, message: Option<&str>) -> Element {
    let (top, second) = status.codes();
    let mut code = samlp("StatusCode").attr("Value", top);
    if let Some(second) = second {
        code = code.child(samlp("StatusCode").attr("Value", second));
    }
    let mut element = samlp("Status").child(code);
    if let Some(message) = message {
        element = element.child(samlp("StatusMessage").text(message));
    }
    element
}

/// What an assertion says.
pub struct Assertion<'a> {
    pub id: String,
    pub idp_entity_id: &'a str,
    pub settings: &'a SamlSettings,
    pub acs_url: &'a str,
    pub in_response_to: Option<&'a str>,
    pub name_id: String,
    pub auth_time: Millis,
    pub session_index: &'a str,
    pub attributes: Vec<SamlAttribute>,
    pub now: Millis,
    pub not_on_or_after: Millis,
    pub not_before: Millis,
}

/// The `Assertion` (to be signed as it stands: it declares its namespace).
pub fn assertion(a: &Assertion<'_>) -> Element {
    let format = a.settings.name_id_format;
    let confirmation = saml("SubjectConfirmationData")
        .attr_opt("InResponseTo", a.in_response_to)
        .attr("NotOnOrAfter", rfc3339(a.not_on_or_after))
        .attr("Recipient", a.acs_url);
    let subject = saml("Subject")
        .child(
            saml("NameID")
                .attr("Format", format.uri())
                .attr("SPNameQualifier", a.settings.entity_id.as_str())
                .text(a.name_id.as_str()),
        )
        .child(
            saml("SubjectConfirmation")
                .attr("Method", BEARER)
                .child(confirmation),
        );
    let conditions = saml("Conditions")
        .attr("NotBefore", rfc3339(a.not_before))
        .attr("NotOnOrAfter", rfc3339(a.not_on_or_after))
        .child(saml("AudienceRestriction").child(saml("Audience").text(a.settings.audience())));
    let authn = saml("AuthnStatement")
        .attr("AuthnInstant", rfc3339(a.auth_time))
        .attr("SessionIndex", a.session_index)
        .child(
            saml("AuthnContext")
                .child(saml("AuthnContextClassRef").text(PASSWORD_PROTECTED_TRANSPORT)),
        );
    let mut element = saml("Assertion")
        .declared()
        .attr("ID", a.id.as_str())
        .attr("IssueInstant", rfc3339(a.now))
        .attr("Version", "2.0")
        .child(issuer(a.idp_entity_id))
        .child(subject)
        .child(conditions)
        .child(authn);
    if !a.attributes.is_empty() {
        let mut statement = saml("AttributeStatement");
        for attribute in &a.attributes {
            let mut element = saml("Attribute")
                .attr("Name", attribute.name.as_str())
                .attr("NameFormat", attribute.name_format.uri())
                .attr_opt("FriendlyName", attribute.friendly_name.as_deref());
            for value in &attribute.values {
                element = element.child(saml("AttributeValue").text(value.as_str()));
            }
            statement = statement.child(element);
        }
        element = element.child(statement);
    }
    element
}

/// A `Response`: carrying `assertion` (signed already if it is to be), or a refusal.
pub fn response(
    id: &str,
    idp_entity_id: &str,
    destination: &str,
    in_response_to: Option<&str>,
    now: Millis,
    outcome: Result<Element, (Status, &str)>,
) -> Element {
    let element = samlp("Response")
        .declared()
        .attr("ID", id)
        .attr("Version", "2.0")
        .attr("IssueInstant", rfc3339(now))
        .attr("Destination", destination)
        .attr_opt("InResponseTo", in_response_to)
        .child(issuer(idp_entity_id).declared());
    match outcome {
        Ok(assertion) => element
            .child(status(Status::Success, None))
            .child(assertion),
        Err((refusal, message)) => element.child(status(refusal, Some(message))),
    }
}

/// A `LogoutResponse` to a service provider's `LogoutRequest`.
pub fn logout_response(
    id: &str,
    idp_entity_id: &str,
    destination: &str,
    in_response_to: &str,
    now: Millis,
) -> Element {
    samlp("LogoutResponse")
        .declared()
        .attr("ID", id)
        .attr("Version", "2.0")
        .attr("IssueInstant", rfc3339(now))
        .attr("Destination", destination)
        .attr("InResponseTo", in_response_to)
        .child(issuer(idp_entity_id).declared())
        .child(status(Status::Success, None))
}

/// A `LogoutRequest` Roster sends a service provider when a session it joined ends
/// elsewhere, in the SOAP envelope of the SOAP binding (the request signed before it is
/// wrapped).
pub fn logout_request(
    id: &str,
    idp_entity_id: &str,
    destination: &str,
    name_id: &str,
    format: NameIdFormat,
    session_index: &str,
    now: Millis,
) -> Element {
    samlp("LogoutRequest")
        .declared()
        .attr("ID", id)
        .attr("Version", "2.0")
        .attr("IssueInstant", rfc3339(now))
        .attr("Destination", destination)
        .attr(
            "NotOnOrAfter",
            rfc3339(now.saturating_add(LOGOUT_REQUEST_TTL_MS)),
        )
        .child(issuer(idp_entity_id).declared())
        .child(
            saml("NameID")
                .declared()
                .attr("Format", format.uri())
                .text(name_id),
        )
        .child(samlp("SessionIndex").text(session_index))
}

/// How long a back-channel LogoutRequest may be acted on (its delivery is retried for
/// about four minutes).
const LOGOUT_REQUEST_TTL_MS: Millis = 10 * 60_000;

/// A SOAP 1.1 envelope around `body`.
pub fn soap_envelope(body: Element) -> Element {
    let soap = |name: &str| Element::new("SOAP-ENV", ns::SOAP, name);
    soap("Envelope").declared().child(soap("Body").child(body))
}

/// The IdP's metadata: its entity ID, signing certificates (base64 DER), Name ID formats and
/// endpoints.
pub fn metadata(entity_id: &str, sso_url: &str, slo_url: &str, certificates: &[String]) -> Element {
    let md = |name: &str| Element::new("md", ns::METADATA, name);
    let mut idp = md("IDPSSODescriptor")
        .attr("WantAuthnRequestsSigned", "false")
        .attr(
            "protocolSupportEnumeration",
            "urn:oasis:names:tc:SAML:2.0:protocol",
        );
    for certificate in certificates {
        idp = idp.child(md("KeyDescriptor").attr("use", "signing").child(
            Element::new("ds", ns::DSIG, "KeyInfo").declared().child(
                Element::new("ds", ns::DSIG, "X509Data").child(
                    Element::new("ds", ns::DSIG, "X509Certificate").text(certificate.as_str()),
                ),
            ),
        ));
    }
    for binding in [Binding::Redirect, Binding::Post] {
        idp = idp.child(
            md("SingleLogoutService")
                .attr("Binding", binding.uri())
                .attr("Location", slo_url),
        );
    }
    for format in NameIdFormat::ALL {
        idp = idp.child(md("NameIDFormat").text(format.uri()));
    }
    for binding in [Binding::Redirect, Binding::Post] {
        idp = idp.child(
            md("SingleSignOnService")
                .attr("Binding", binding.uri())
                .attr("Location", sso_url),
        );
    }
    md("EntityDescriptor")
        .declared()
        .attr("entityID", entity_id)
        .child(idp)
}
