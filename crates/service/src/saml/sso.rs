//! `/api/v1/saml2/idp/sso` (OneAccess `IdP-initiatedSSO`; SAML profiles §4.1, bindings §3.4
//! and §3.5): a request is read and trusted first — its service provider known, its
//! signature checked (required if the application says so), its Assertion Consumer Service
//! one the application registered — and only then answered, always by a page that posts a
//! signed `Response` to that ACS. What cannot be trusted gets an error page, never a POST.
//! A request waiting for the login page travels as a MAC'd `resume` token, so both bindings
//! come back the same way; its ID is spent (once, on any node) when it is answered.

use super::documents::{self, Assertion};
use super::messages::{self, AuthnRequest, InboundMessage};
use super::{idp_entity_id, post_value, SamlApplication, SSO_PATH};
use crate::sign_in::{actor, needs_roles, session_and_candidate};
use crate::use_case::Cx;
use crate::Service;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use roster_domain::application::ApplicationId;
use roster_domain::logout::{Participant, ParticipantKind};
use roster_domain::saml::{
    self as rules, NameIdFormat, SpentRequest, Status, ASSERTION_TTL_MS, REQUEST_TTL_MS, SKEW_MS,
};
use roster_domain::sign_in::{Since, SsoSession};
use roster_domain::sso::admitted_url;
use roster_domain::time::Millis;
use roster_domain::Result;
use roster_store::prelude::*;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Longest RelayState kept (bindings §3.4.3: 80 bytes is what SPs may rely on; more is
/// accepted up to this).
const MAX_RELAY_STATE: usize = 1024;

/// A sign-in request as it came.
#[derive(Debug, Clone, Default)]
pub struct SamlSsoRequest {
    /// An `AuthnRequest` (SP-initiated).
    pub message: Option<InboundMessage>,
    /// IdP-initiated: the service provider's entity ID.
    pub sp: Option<String>,
    pub relay_state: Option<String>,
    /// Roster's own: the request, back from the login page.
    pub resume: Option<String>,
    /// The browser may hold a session it did not send (a cross-site POST carries no
    /// `SameSite=Lax` cookie): a trusted request goes on as a `resume` (a GET, which does)
    /// before anything depends on the session.
    pub session_withheld: bool,
}

/// What the browser is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SamlSso {
    /// A page saying why (400): nothing is sent to any service provider.
    Refused(String),
    /// The login page first, then `GET {SSO_PATH}?resume=…`.
    SignIn { resume: String },
    /// The page that posts to the service provider.
    Post(SamlPost),
}

/// A message posted by the browser to a service provider (HTTP-POST binding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlPost {
    pub url: String,
    /// `SAMLResponse` or `SAMLRequest`.
    pub field: &'static str,
    /// The document, base64.
    pub value: String,
    pub relay_state: Option<String>,
}

/// A trusted request waiting to be answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    app: String,
    acs: String,
    request_id: Option<String>,
    force_authn: bool,
    is_passive: bool,
    /// The request asked for a Name ID format Roster does not give this application.
    #[serde(default)]
    name_id_refused: bool,
    relay_state: Option<String>,
    /// When the request came: `ForceAuthn` needs a password typed after it.
    since: Millis,
    expires: Millis,
}

impl Service {
    /// Answers a sign-in request, given the browser's session (if any).
    pub async fn saml_sso(
        &self,
        request: SamlSsoRequest,
        session_cookie: Option<&str>,
        source: IpAddr,
        public_url: &str,
    ) -> Result<SamlSso> {
        let now = self.now();
        let relay_state = request
            .relay_state
            .filter(|r| !r.is_empty())
            .map(|r| r.chars().take(MAX_RELAY_STATE).collect::<String>());
        let (found, pending) = if let Some(resume) = request.resume.as_deref() {
            let Some(pending) = self.read_resume(resume) else {
                return Ok(SamlSso::Refused(
                    "This sign-in waited too long or was not made here; start it again at the \
                     application."
                        .to_owned(),
                ));
            };
            let app_id = ApplicationId::new(pending.app.clone());
            match self.saml_application_by_id(&app_id).await? {
                // The ACS is still one the application registers (settings may have changed
                // while the user signed in).
                Some(found) if found.settings.redirect_uris.contains(&pending.acs) => {
                    (found, pending)
                }
                _ => return Ok(SamlSso::Refused(UNKNOWN_SP.to_owned())),
            }
        } else if let Some(message) = request.message {
            match self
                .trusted_request(&message, relay_state, public_url, now)
                .await?
            {
                Ok(trusted) => trusted,
                Err(why) => return Ok(SamlSso::Refused(why)),
            }
        } else if let Some(sp) = request.sp.as_deref().filter(|s| !s.is_empty()) {
            let Some(found) = self.saml_application(sp).await? else {
                return Ok(SamlSso::Refused(UNKNOWN_SP.to_owned()));
            };
            let Some(acs) = found.settings.redirect_uris.first().cloned() else {
                return Ok(SamlSso::Refused(UNKNOWN_SP.to_owned()));
            };
            let pending = Pending {
                app: found.app.id.as_str().to_owned(),
                acs,
                request_id: None,
                force_authn: false,
                is_passive: false,
                name_id_refused: false,
                relay_state,
                since: now,
                expires: now.saturating_add(REQUEST_TTL_MS),
            };
            (found, pending)
        } else {
            return Ok(SamlSso::Refused(
                "SAMLRequest (from the application) or sp (its entity ID) is required.".to_owned(),
            ));
        };
        if request.session_withheld && session_cookie.is_none() {
            return Ok(SamlSso::SignIn {
                resume: self.resume_token(&pending),
            });
        }
        self.answer(found, pending, session_cookie, source, public_url)
            .await
    }

    /// The client id of the application a `resume` token is for (the login page shows its
    /// name, and the MFA policy names applications by client id).
    pub async fn saml_client_id(&self, resume: &str) -> Result<Option<String>> {
        let Some(pending) = self.read_resume(resume) else {
            return Ok(None);
        };
        Ok(self
            .saml_application_by_id(&ApplicationId::new(pending.app))
            .await?
            .map(|found| found.app.client_id))
    }

    async fn saml_application_by_id(&self, id: &ApplicationId) -> Result<Option<SamlApplication>> {
        let found = self.read(read_application, id.clone()).await?;
        Ok(found.and_then(|(app, settings)| {
            let saml = settings.as_ref()?.saml.clone()?;
            Some(SamlApplication {
                app,
                settings: settings?,
                saml,
            })
        }))
    }

    /// An `AuthnRequest` read and trusted, or why not.
    async fn trusted_request(
        &self,
        message: &InboundMessage,
        relay_state: Option<String>,
        public_url: &str,
        now: Millis,
    ) -> Result<std::result::Result<(SamlApplication, Pending), String>> {
        let root = match messages::decode(message.binding, &message.value) {
            Ok(root) => root,
            Err(why) => return Ok(Err(why)),
        };
        let request: AuthnRequest = match messages::authn_request(&root) {
            Ok(request) => request,
            Err(why) => return Ok(Err(why)),
        };
        let Some(found) = self.saml_application(&request.issuer).await? else {
            return Ok(Err(UNKNOWN_SP.to_owned()));
        };
        if let Err(why) = check_signature(&found, message, &root) {
            return Ok(Err(why));
        }
        if let Some(destination) = &request.destination {
            if destination != &format!("{public_url}{SSO_PATH}") {
                return Ok(Err(format!(
                    "The request's Destination is {destination}, not this server's sign-in \
                     address."
                )));
            }
        }
        if request.issue_instant > now.saturating_add(SKEW_MS)
            || request.issue_instant < now.saturating_sub(REQUEST_TTL_MS)
        {
            return Ok(Err(
                "The request's IssueInstant is too old or in the future: it expired, or the \
                 clocks disagree."
                    .to_owned(),
            ));
        }
        if request
            .protocol_binding
            .as_deref()
            .is_some_and(|b| b != roster_domain::saml::Binding::POST_URI)
        {
            return Ok(Err(
                "Roster answers with the HTTP-POST binding only (ProtocolBinding).".to_owned(),
            ));
        }
        let acs = match (&request.acs_url, request.acs_index) {
            (Some(url), _) => match admitted_url(&found.settings.redirect_uris, url) {
                // Exactly as registered: an ACS is matched whole.
                Some(_) if found.settings.redirect_uris.iter().any(|u| u == url) => url.clone(),
                _ => {
                    return Ok(Err(format!(
                        "The AssertionConsumerServiceURL {url} is not one the application \
                         registered."
                    )))
                }
            },
            (None, Some(index)) => match found.settings.redirect_uris.get(usize::from(index)) {
                Some(url) => url.clone(),
                None => {
                    return Ok(Err(format!(
                        "The application registered no Assertion Consumer Service {index}."
                    )))
                }
            },
            (None, None) => match found.settings.redirect_uris.first() {
                Some(url) => url.clone(),
                None => return Ok(Err(UNKNOWN_SP.to_owned())),
            },
        };
        // A Name ID format Roster does not give is answered (signed, to the trusted ACS).
        let name_id_refused = request.name_id_format.as_deref().is_some_and(|format| {
            format != NameIdFormat::Unspecified.uri()
                && NameIdFormat::from_uri(format) != Some(found.saml.name_id_format)
        });
        let pending = Pending {
            app: found.app.id.as_str().to_owned(),
            acs,
            request_id: Some(request.id),
            force_authn: request.force_authn,
            is_passive: request.is_passive,
            name_id_refused,
            relay_state,
            since: now,
            expires: now.saturating_add(REQUEST_TTL_MS),
        };
        Ok(Ok((found, pending)))
    }

    /// Answers a trusted request: the login page, or a response posted to its ACS.
    async fn answer(
        &self,
        found: SamlApplication,
        mut pending: Pending,
        session_cookie: Option<&str>,
        source: IpAddr,
        public_url: &str,
    ) -> Result<SamlSso> {
        let now = self.now();
        let idp = idp_entity_id(public_url);
        let request_id = pending.request_id.clone();
        if pending.name_id_refused {
            let refused = Err((
                Status::InvalidNameIdPolicy,
                "Roster gives this application's Name ID in another format.",
            ));
            return self.post_response(&found, &pending, refused, &idp).await;
        }
        let signed_in = match session_cookie.and_then(crate::sign_in::session_digest) {
            Some(digest) => {
                let key = (digest, found.app.id.clone(), needs_roles(&found.settings));
                let (session, candidate) = self.read(session_and_candidate, key).await?;
                self.live_session(session).await?.zip(candidate)
            }
            None => None,
        };
        let usable = match signed_in {
            Some((session, _)) if pending.force_authn && session.auth_time < pending.since => None,
            Some((session, _))
                if session.second_factor_at.is_none()
                    && self
                        .second_factor_applies(Some(&found.app.client_id))
                        .await? =>
            {
                None
            }
            other => other,
        };
        let Some((session, candidate)) = usable else {
            if pending.is_passive {
                let refused = Err((Status::NoPassive, "The user must sign in first."));
                return self.post_response(&found, &pending, refused, &idp).await;
            }
            pending.expires = now.saturating_add(REQUEST_TTL_MS);
            return Ok(SamlSso::SignIn {
                resume: self.resume_token(&pending),
            });
        };
        let principal = match candidate.admit(&found.app, now, Since::signed_in(session.auth_time))
        {
            Ok(principal) => principal,
            Err(why) => {
                self.audit_refused_sign_in(&session.user_id, &found.app, source)
                    .await?;
                let refused = Err((Status::RequestDenied, why));
                return self.post_response(&found, &pending, refused, &idp).await;
            }
        };
        let Some(name_id) = rules::name_id(&found.saml, &principal) else {
            let refused = Err((
                Status::RequestDenied,
                "The user has no value for this application's Name ID.",
            ));
            return self.post_response(&found, &pending, refused, &idp).await;
        };
        let spend = Spend {
            spent: request_id.clone().map(|request_id| SpentRequest {
                application_id: found.app.id.clone(),
                request_id,
                expires_at: now.saturating_add(REQUEST_TTL_MS),
            }),
            application_id: found.app.id.clone(),
            // The session's logout tells this SP (SOAP), naming this NameID and the sid.
            participant: Participant {
                sid: session.sid(),
                application_id: found.app.id.clone(),
                user_id: session.user_id.clone(),
                kind: ParticipantKind::Saml,
                reference: name_id.clone(),
                url: String::new(),
                created_at: now,
                expires_at: now.saturating_add(crate::sign_in::millis(
                    self.sign_in_settings().session_lifetime,
                )),
            },
        };
        if !self
            .write(&actor(Some(&session.user_id), source), spend_request, spend)
            .await?
        {
            return Ok(SamlSso::Refused(
                "This request was answered already: a request is answered once. Start the \
                 sign-in again at the application."
                    .to_owned(),
            ));
        }
        let assertion = self
            .assertion(&found, &pending, &session, &principal, name_id, &idp)
            .await?;
        metrics::counter!("roster_sign_ins_total", "to" => "saml").increment(1);
        self.post_response(&found, &pending, Ok(assertion), &idp)
            .await
    }

    async fn assertion(
        &self,
        found: &SamlApplication,
        pending: &Pending,
        session: &SsoSession,
        principal: &roster_domain::sso::Principal,
        name_id: String,
        idp: &str,
    ) -> Result<super::xml::Element> {
        let now = self.now();
        let element = documents::assertion(&Assertion {
            id: rules::new_id(),
            idp_entity_id: idp,
            settings: &found.saml,
            acs_url: &pending.acs,
            in_response_to: pending.request_id.as_deref(),
            name_id,
            auth_time: session.auth_time,
            session_index: &session.sid(),
            attributes: rules::attributes(principal, &found.settings.claims),
            now,
            not_on_or_after: now.saturating_add(ASSERTION_TTL_MS),
            not_before: now.saturating_sub(SKEW_MS),
        });
        if found.saml.signed.assertion() {
            self.sign_xml(element, found.saml.signature_algorithm).await
        } else {
            Ok(element)
        }
    }

    /// The page posting a `Response` (carrying `outcome`) to `acs`.
    async fn post_response(
        &self,
        found: &SamlApplication,
        pending: &Pending,
        outcome: std::result::Result<super::xml::Element, (Status, &str)>,
        idp: &str,
    ) -> Result<SamlSso> {
        let acs = pending.acs.as_str();
        let in_response_to = pending.request_id.as_deref();
        // A refusal carries no assertion: the response itself is signed, whatever the
        // settings say, so the service provider can trust it.
        let sign = found.saml.signed.response() || outcome.is_err();
        let response = documents::response(
            &rules::new_id(),
            idp,
            acs,
            in_response_to,
            self.now(),
            outcome,
        );
        let response = if sign {
            self.sign_xml(response, found.saml.signature_algorithm)
                .await?
        } else {
            response
        };
        Ok(SamlSso::Post(SamlPost {
            url: acs.to_owned(),
            field: "SAMLResponse",
            value: post_value(&response),
            relay_state: pending.relay_state.clone(),
        }))
    }

    fn resume_token(&self, pending: &Pending) -> String {
        let json = serde_json::to_vec(pending).unwrap_or_default();
        let body = URL_SAFE_NO_PAD.encode(json);
        let mac = self
            .sign_in_state()
            .form_tokens
            .bind(&format!("saml resume {body}"));
        format!("{body}.{mac}")
    }

    fn read_resume(&self, token: &str) -> Option<Pending> {
        let (body, mac) = token.rsplit_once('.')?;
        let expected = self
            .sign_in_state()
            .form_tokens
            .bind(&format!("saml resume {body}"));
        if !roster_domain::secret::constant_time_eq(mac, &expected) {
            return None;
        }
        let pending: Pending = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        (pending.expires > self.now()).then_some(pending)
    }
}

/// What an unknown service provider is told.
const UNKNOWN_SP: &str = "No SAML application is registered for this service provider.";

/// The signature a request carries, checked; required when the application says so.
fn check_signature(
    found: &SamlApplication,
    message: &InboundMessage,
    root: &super::xml::Element,
) -> std::result::Result<(), String> {
    let signed = super::verified_signature(found, message, root)?;
    if !signed && found.saml.require_signed_requests {
        return Err(
            "The application requires signed requests and this one is not signed.".to_owned(),
        );
    }
    Ok(())
}

struct Spend {
    spent: Option<SpentRequest>,
    application_id: ApplicationId,
    participant: Participant,
}

async fn spend_request(tx: &mut dyn Tx, cx: &mut Cx, spend: Spend) -> Result<bool> {
    if let Some(spent) = &spend.spent {
        if !tx.spend_saml_request(spent).await? {
            return Ok(false);
        }
    }
    tx.add_participant(&spend.participant).await?;
    cx.audit("SamlSso", "application", spend.application_id.as_str());
    Ok(true)
}

async fn read_application(
    tx: &mut dyn Tx,
    id: ApplicationId,
) -> Result<
    Option<(
        roster_domain::application::Application,
        Option<roster_domain::sso::SsoSettings>,
    )>,
> {
    let Some(app) = tx.application(&id).await? else {
        return Ok(None);
    };
    let settings = tx.sso_settings(&id).await?;
    Ok(Some((app, settings)))
}
