//! The messages service providers send (SAML core §3.4.1 `AuthnRequest`, §3.7.1
//! `LogoutRequest`), read from their bindings (HTTP-Redirect: DEFLATE then base64; HTTP-POST:
//! base64) into what Roster uses of them. Reading checks form only; who sent it is checked
//! by the caller against the application's certificate.

use super::xml::{self, ns, Element};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use roster_domain::saml::MAX_ID_CHARS;
use roster_domain::time::Millis;
use std::io::Read;

/// How a message came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    Redirect,
    Post,
}

/// A message as it came: its parameter's value, and (HTTP-Redirect) the raw query its
/// signature covers.
#[derive(Debug, Clone)]
pub struct InboundMessage {
    pub binding: Inbound,
    pub value: String,
    pub raw_query: Option<String>,
}

/// The XML of a message in `binding`.
pub fn decode(binding: Inbound, value: &str) -> Result<Element, String> {
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() > xml::MAX_DOCUMENT_BYTES * 2 {
        return Err("the SAML message is too large".to_owned());
    }
    let bytes = STANDARD
        .decode(compact)
        .map_err(|_| "the SAML message is not base64".to_owned())?;
    let text = match binding {
        Inbound::Post => {
            String::from_utf8(bytes).map_err(|_| "the SAML message is not UTF-8".to_owned())?
        }
        Inbound::Redirect => {
            // Bindings §3.4.4.1: raw DEFLATE; read no more than a document may hold.
            let mut inflated = String::new();
            flate2::read::DeflateDecoder::new(bytes.as_slice())
                .take(u64::try_from(xml::MAX_DOCUMENT_BYTES).unwrap_or(u64::MAX) + 1)
                .read_to_string(&mut inflated)
                .map_err(|_| "the SAML message is not DEFLATE-compressed UTF-8".to_owned())?;
            inflated
        }
    };
    xml::parse(&text)
}

/// What Roster uses of an `AuthnRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    pub id: String,
    pub issuer: String,
    pub issue_instant: Millis,
    pub destination: Option<String>,
    pub acs_url: Option<String>,
    pub acs_index: Option<u16>,
    pub protocol_binding: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    pub name_id_format: Option<String>,
}

/// What Roster uses of a `LogoutRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    pub id: String,
    pub issuer: String,
    pub issue_instant: Millis,
    pub destination: Option<String>,
    pub name_id: String,
    pub session_indexes: Vec<String>,
}

/// The fields every request has (core §3.2.1): ID, Version 2.0, IssueInstant, Issuer.
fn request_fields(root: &Element) -> Result<(String, String, Millis, Option<String>), String> {
    let id = root
        .get("ID")
        .filter(|id| !id.is_empty() && id.len() <= MAX_ID_CHARS)
        .ok_or("the request has no ID")?;
    if root.get("Version") != Some("2.0") {
        return Err("the request is not SAML Version 2.0".to_owned());
    }
    let instant = root
        .get("IssueInstant")
        .and_then(parse_instant)
        .ok_or("the request has no IssueInstant in UTC")?;
    let issuer = root
        .find(ns::ASSERTION, "Issuer")
        .map(Element::text_content)
        .filter(|i| !i.is_empty() && i.len() <= MAX_ID_CHARS)
        .ok_or("the request names no Issuer")?;
    Ok((
        id.to_owned(),
        issuer,
        instant,
        root.get("Destination").map(str::to_owned),
    ))
}

fn parse_instant(text: &str) -> Option<Millis> {
    roster_domain::time::parse_rfc3339(text)
}

fn is_true(v: Option<&str>) -> bool {
    matches!(v, Some("true" | "1"))
}

/// Reads an `AuthnRequest`.
pub fn authn_request(root: &Element) -> Result<AuthnRequest, String> {
    if !root.is(ns::PROTOCOL, "AuthnRequest") {
        return Err(format!(
            "the message is a {}, not an AuthnRequest",
            root.name
        ));
    }
    let (id, issuer, issue_instant, destination) = request_fields(root)?;
    let acs_index = match root.get("AssertionConsumerServiceIndex") {
        Some(i) => Some(
            i.parse()
                .map_err(|_| "AssertionConsumerServiceIndex is no index".to_owned())?,
        ),
        None => None,
    };
    Ok(AuthnRequest {
        id,
        issuer,
        issue_instant,
        destination,
        acs_url: root.get("AssertionConsumerServiceURL").map(str::to_owned),
        acs_index,
        protocol_binding: root.get("ProtocolBinding").map(str::to_owned),
        force_authn: is_true(root.get("ForceAuthn")),
        is_passive: is_true(root.get("IsPassive")),
        name_id_format: root
            .find(ns::PROTOCOL, "NameIDPolicy")
            .and_then(|p| p.get("Format"))
            .map(str::to_owned),
    })
}

/// Reads a `LogoutRequest`.
pub fn logout_request(root: &Element) -> Result<LogoutRequest, String> {
    if !root.is(ns::PROTOCOL, "LogoutRequest") {
        return Err(format!(
            "the message is a {}, not a LogoutRequest",
            root.name
        ));
    }
    let (id, issuer, issue_instant, destination) = request_fields(root)?;
    let name_id = root
        .find(ns::ASSERTION, "NameID")
        .map(Element::text_content)
        .ok_or("the LogoutRequest names no NameID")?;
    Ok(LogoutRequest {
        id,
        issuer,
        issue_instant,
        destination,
        name_id,
        session_indexes: root
            .elements()
            .filter(|e| e.is(ns::PROTOCOL, "SessionIndex"))
            .map(Element::text_content)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const REQUEST: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="2026-12-05T10:00:00Z" AssertionConsumerServiceURL="https://sp.example.com/acs" ForceAuthn="true"><saml:Issuer>https://sp.example.com</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient"/></samlp:AuthnRequest>"#;

    #[test]
    fn a_redirect_request_is_inflated_and_read() {
        let mut deflater =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        deflater.write_all(REQUEST.as_bytes()).unwrap();
        let value = STANDARD.encode(deflater.finish().unwrap());
        let request = authn_request(&decode(Inbound::Redirect, &value).unwrap()).unwrap();
        assert_eq!(request.id, "_a1");
        assert_eq!(request.issuer, "https://sp.example.com");
        assert_eq!(
            request.acs_url.as_deref(),
            Some("https://sp.example.com/acs")
        );
        assert!(request.force_authn && !request.is_passive);
        assert_eq!(
            request.name_id_format.as_deref(),
            Some("urn:oasis:names:tc:SAML:2.0:nameid-format:transient")
        );
        let posted = authn_request(&decode(Inbound::Post, &STANDARD.encode(REQUEST)).unwrap());
        assert_eq!(posted.unwrap(), request);
    }

    #[test]
    fn malformed_requests_say_what_is_wrong() {
        assert!(decode(Inbound::Post, "***").unwrap_err().contains("base64"));
        assert!(decode(Inbound::Redirect, &STANDARD.encode("plain"))
            .unwrap_err()
            .contains("DEFLATE"));
        let no_issuer = REQUEST.replace("<saml:Issuer>https://sp.example.com</saml:Issuer>", "");
        let root = decode(Inbound::Post, &STANDARD.encode(no_issuer)).unwrap();
        assert!(authn_request(&root).unwrap_err().contains("Issuer"));
        let logout = decode(Inbound::Post, &STANDARD.encode(REQUEST)).unwrap();
        assert!(logout_request(&logout).is_err());
    }
}
