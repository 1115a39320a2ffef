//! Validation of a service ticket (OneAccess `ValidateServiceCAS10`, `…CAS20`, `…CAS30`; CAS
//! protocol 3.0 §2.4–2.6): the ticket is taken (deleted, so one validation wins on any node)
//! before anything else is checked, so a refused ticket is spent too (§2.5.1); then its
//! service, `renew`, and whether its user may still sign in to the application.

use crate::sign_in::{candidate, needs_roles};
use crate::use_case::Cx;
use crate::Service;
use roster_domain::cas::{CasFailure, ServiceTicket};
use roster_domain::logout::{Participant, ParticipantKind};
use roster_domain::sign_in::Since;
use roster_domain::sso::SsoSettings;
use roster_domain::sso::{claim_values as values, Principal};
use roster_domain::time::Millis;
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
        // One transaction: the ticket taken (spent whatever follows), checked, its user
        // admitted, and the service noted in the session for its logout.
        let redeem = Redeem {
            digest: secret::digest(ticket),
            ticket: ticket.to_owned(),
            service: Url::parse(service).ok().map(String::from),
            renew: request.renew,
            session_ms: crate::sign_in::millis(self.sign_in_settings().session_lifetime),
        };
        let (taken, settings, principal) = match self
            .write(roster_domain::audit::SYSTEM_ACTOR, redeem_ticket, redeem)
            .await?
        {
            Ok(redeemed) => redeemed,
            Err(Refused::Ticket(why)) => return invalid(why),
            Err(Refused::Service) => {
                return Ok(Err(CasFailure::InvalidService {
                    ticket: shown,
                    service: service.chars().take(2048).collect(),
                }))
            }
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
        Ok(Ok(CasValidation { user, attributes }))
    }
}

/// The value, unless absent or blank.
fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// A ticket to redeem.
struct Redeem {
    digest: String,
    ticket: String,
    /// The service URL given, as read (none: not a URL).
    service: Option<String>,
    renew: bool,
    session_ms: Millis,
}

/// Why a ticket taken was refused.
enum Refused {
    Ticket(&'static str),
    Service,
}

type Redeemed = (ServiceTicket, SsoSettings, Principal);

async fn redeem_ticket(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    redeem: Redeem,
) -> Result<std::result::Result<Redeemed, Refused>> {
    let Some(taken) = tx.take_service_ticket(&redeem.digest).await? else {
        return Ok(Err(Refused::Ticket("unknown, or validated already")));
    };
    cx.audit(
        "ValidateServiceTicket",
        "application",
        taken.application_id.as_str(),
    );
    if taken.expires_at <= cx.now {
        return Ok(Err(Refused::Ticket("expired")));
    }
    if redeem.service.as_deref() != Some(taken.service.as_str()) {
        return Ok(Err(Refused::Service));
    }
    if redeem.renew && !taken.from_new_login {
        return Ok(Err(Refused::Ticket(
            "not from a new login, and renew was asked for",
        )));
    }
    let app = crate::lookups::existing_application(tx, &taken.application_id).await?;
    let settings = tx
        .sso_settings(&app.id)
        .await?
        .ok_or_else(|| Error::internal("a CAS ticket's application has no sign-in settings"))?;
    let found = candidate(tx, &app.id, &taken.user_id, needs_roles(&settings)).await?;
    let since = Since::issued(taken.auth_time, taken.created_at);
    let Ok(principal) = found.admit(&app, cx.now, since) else {
        return Ok(Err(Refused::Ticket(
            "its user may no longer sign in to the application",
        )));
    };
    if let Some(sid) = taken.sid.clone() {
        // The session's logout sends this service its logoutRequest, naming the ticket.
        tx.add_participant(&Participant {
            sid,
            application_id: taken.application_id.clone(),
            user_id: taken.user_id.clone(),
            kind: ParticipantKind::Cas,
            reference: redeem.ticket,
            url: taken.service.clone(),
            created_at: cx.now,
            expires_at: cx.now.saturating_add(redeem.session_ms),
        })
        .await?;
    }
    Ok(Ok((taken, settings, principal)))
}
