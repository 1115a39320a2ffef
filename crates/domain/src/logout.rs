//! One logout for everything: the applications a browser session signed in to (its
//! participants) are told when it ends — CAS services by a back-channel `logoutRequest` (a
//! SAML 2.0 `LogoutRequest` naming the service ticket, as Apereo CAS sends it), OpenID
//! Connect applications by a Back-Channel Logout 1.0 `logout_token` — through an outbox of
//! deliveries.

use crate::application::ApplicationId;
use crate::message::MessageStatus;
use crate::time::Millis;
use crate::user::UserId;

/// The event a logout token carries (OpenID Connect Back-Channel Logout 1.0 §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How a participant signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipantKind {
    /// An OpenID Connect grant (`reference`: its grant id).
    Oidc,
    /// A CAS service ticket (`reference`: the ticket, spent).
    Cas,
    /// A SAML assertion (`reference`: its NameID; the SessionIndex is the `sid`).
    Saml,
}

impl ParticipantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oidc => "oidc",
            Self::Cas => "cas",
            Self::Saml => "saml",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Oidc, Self::Cas, Self::Saml]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// An application a session signed in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub sid: String,
    pub application_id: ApplicationId,
    pub user_id: UserId,
    pub kind: ParticipantKind,
    pub reference: String,
    /// CAS: the service URL of the ticket.
    pub url: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// A back-channel logout message, as delivered (or waiting to be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutDelivery {
    pub id: String,
    pub created_at: Millis,
    pub application_id: ApplicationId,
    pub url: String,
    /// The body posted: a form (CAS, OpenID Connect) or a SOAP envelope (SAML).
    pub body: String,
    /// The body's media type.
    pub content_type: String,
    pub status: MessageStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<Millis>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Millis>,
}

/// The CAS back-channel logout body: `logoutRequest=` and a SAML 2.0 `LogoutRequest` whose
/// `SessionIndex` is the service ticket.
pub fn cas_logout_form(ticket: &str, user_name: &str, id: &str, at: Millis) -> String {
    let xml = format!(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{}\" Version=\"2.0\" \
         IssueInstant=\"{}\"><saml:NameID>{}</saml:NameID>\
         <samlp:SessionIndex>{}</samlp:SessionIndex></samlp:LogoutRequest>",
        xml_text(id),
        crate::time::rfc3339(at),
        xml_text(user_name),
        xml_text(ticket)
    );
    form(&[("logoutRequest", &xml)])
}

/// The media type of a form body.
pub const FORM: &str = "application/x-www-form-urlencoded";
/// The media type of a SOAP 1.1 envelope (SAML's SOAP binding).
pub const SOAP: &str = "text/xml; charset=utf-8";

/// The OpenID Connect back-channel logout body.
pub fn oidc_logout_form(logout_token: &str) -> String {
    form(&[("logout_token", logout_token)])
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `text` as XML character data (or an attribute value).
fn xml_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cas_logout_request_names_the_ticket_and_escapes_the_name() {
        let body = cas_logout_form("ST-1", "a<b", "LR-1", 0);
        let (name, value) = body.split_once('=').unwrap();
        assert_eq!(name, "logoutRequest");
        let xml: String = url::form_urlencoded::parse(format!("x={value}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        assert!(
            xml.contains("<samlp:SessionIndex>ST-1</samlp:SessionIndex>"),
            "{xml}"
        );
        assert!(xml.contains("<saml:NameID>a&lt;b</saml:NameID>"), "{xml}");
        assert!(
            xml.contains("IssueInstant=\"1970-01-01T00:00:00.000Z\""),
            "{xml}"
        );
    }
}
