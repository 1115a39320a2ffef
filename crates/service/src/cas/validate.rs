//! Validation of a service ticket (OneAccess `ValidateServiceCAS10`, `…CAS20`, `…CAS30`; CAS
//! protocol 3.0 §2.4–2.6): the ticket is taken (deleted, so one validation wins on any node)
//! before anything else is checked, so a refused ticket is spent too (§2.5.1); then its
//! service, `renew`, and whether its user may still sign in to the application.

use crate::sign_in::{candidate, needs_roles, Candidate};
use crate::use_case::Cx;
use crate::Service;
use roster_domain::application::Application;
use roster_domain::cas::{CasFailure, ServiceTicket};
use roster_domain::logout::{Participant, ParticipantKind};
use roster_domain::sign_in::Since;
use roster_domain::sso::SsoSettings;
use roster_domain::{secret, Error, Result};
use roster_store::prelude::*;
use url::Url;

/// The mapping that chooses `cas:user`.
const CAS_USER: &str = "user";

/// Longest ticket looked up.
const MAX_TICKET_CHARS: usize = 256;

/// A validation request.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidateRequest<'a> {
    pub ticket: Option<&'a str>,
    pub service: Option<&'a str>,
    /// Only a ticket from a login that asked for the password passes.
    pub renew: bool,
}

/// A validated ticket: the user, and (CAS 3.0) their attributes, each with its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasValidation {
    /// `cas:user`: the user name.
    pub user: String,
    pub attributes: Vec<(String, Vec<String>)>,
}

impl Service {
    /// Validates a service ticket: the user, or why not (the outer error is the server's).
    pub async fn validate_service_ticket(
        &self,
        request: ValidateRequest<'_>,
    ) -> Result<std::result::Result<CasValidation, CasFailure>> {
        let Some(ticket) = present(request.ticket) else {
            return Ok(Err(CasFailure::InvalidRequest("ticket")));
        };
        let Some(service) = present(request.service) else {
            return Ok(Err(CasFailure::InvalidRequest("service")));
        };
        let shown: String = ticket.chars().take(MAX_TICKET_CHARS).collect();
        let invalid = |why| {
            Ok(Err(CasFailure::InvalidTicket {
                ticket: shown.clone(),
                why,
            }))
        };
        if !ticket.starts_with("ST-") || ticket.len() > MAX_TICKET_CHARS {
            return invalid("not a service ticket of this server");
        }
        let taken = self
            .write(
                roster_domain::audit::SYSTEM_ACTOR,
                take,
                secret::digest(ticket),
            )
            .await?;
        let Some(taken) = taken else {
            return invalid("unknown, or validated already");
        };
        if taken.expires_at <= self.now() {
            return invalid("expired");
        }
        let same_service = Url::parse(service).is_ok_and(|u| u.as_str() == taken.service);
        if !same_service {
            return Ok(Err(CasFailure::InvalidService {
                ticket: shown,
                service: service.chars().take(2048).collect(),
            }));
        }
        if request.renew && !taken.from_new_login {
            return invalid("not from a new login, and renew was asked for");
        }
        let (app, settings, found) = self.read(standing, taken.clone()).await?;
        let since = Since::issued(taken.auth_time, taken.created_at);
        let principal = match found.admit(&app, self.now(), since) {
            Ok(principal) => principal,
            Err(_) => return invalid("its user may no longer sign in to the application"),
        };
        let mut attributes = vec![
            (
                "authenticationDate".to_owned(),
                vec![roster_domain::time::rfc3339(taken.auth_time)],
            ),
            (
                "longTermAuthenticationRequestTokenUsed".to_owned(),
                vec!["false".to_owned()],
            ),
            (
                "isFromNewLogin".to_owned(),
                vec![taken.from_new_login.to_string()],
            ),
        ];
        let mapped = principal.claims(&settings.claims);
        // A mapping named `user` chooses `cas:user` (e.g. the account name); the user name
        // is the default.
        let mut user = principal.user.user_name.clone();
        for mapping in &settings.claims {
            let Some(value) = mapped.get(&mapping.claim) else {
                continue;
            };
            match mapping.claim.as_str() {
                CAS_USER => {
                    if let Some(first) = values(value).into_iter().next() {
                        user = first;
                    }
                }
                _ => attributes.push((mapping.claim.clone(), values(value))),
            }
        }
        if let Some(sid) = taken.sid.clone() {
            // The session's logout sends this service its logoutRequest, naming the ticket.
            let now = self.now();
            let participant = Participant {
                sid,
                application_id: taken.application_id.clone(),
                user_id: taken.user_id.clone(),
                kind: ParticipantKind::Cas,
                reference: ticket.to_owned(),
                url: taken.service.clone(),
                created_at: now,
                expires_at: now.saturating_add(crate::sign_in::millis(
                    self.sign_in_settings().session_lifetime,
                )),
            };
            self.write(
                roster_domain::audit::SYSTEM_ACTOR,
                note_participant,
                participant,
            )
            .await?;
        }
        Ok(Ok(CasValidation { user, attributes }))
    }
}

/// The value, unless absent or blank.
fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// A claim's values as CAS attribute values: a list's items, a scalar as text.
fn values(value: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match value {
        Value::Array(items) => items.iter().flat_map(values).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Null => vec![],
        other => vec![other.to_string()],
    }
}

async fn take(tx: &mut dyn Tx, cx: &mut Cx, digest: String) -> Result<Option<ServiceTicket>> {
    let taken = tx.take_service_ticket(&digest).await?;
    if let Some(ticket) = &taken {
        cx.audit(
            "ValidateServiceTicket",
            "application",
            ticket.application_id.as_str(),
        );
    }
    Ok(taken)
}

async fn note_participant(tx: &mut dyn Tx, _cx: &mut Cx, p: Participant) -> Result<()> {
    tx.add_participant(&p).await
}

async fn standing(
    tx: &mut dyn Tx,
    ticket: ServiceTicket,
) -> Result<(Application, SsoSettings, Candidate)> {
    let app = crate::lookups::existing_application(tx, &ticket.application_id).await?;
    let settings = tx
        .sso_settings(&app.id)
        .await?
        .ok_or_else(|| Error::internal("a CAS ticket's application has no sign-in settings"))?;
    let found = candidate(tx, &app.id, &ticket.user_id, needs_roles(&settings)).await?;
    Ok((app, settings, found))
}
