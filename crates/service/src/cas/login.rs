//! `GET /api/v1/cas/login` (OneAccess `AuthorizeCASLogin`; CAS protocol 3.0 §2.1): with a
//! session whose user may sign in to the service's application, back to the service with
//! `ticket=ST-…`; otherwise the login page first. `renew` asks for the password again;
//! `gateway` goes back without a ticket rather than show the login page.

use crate::sign_in::{actor, needs_roles, session_and_candidate};
use crate::use_case::Cx;
use crate::Service;
use roster_domain::cas::{new_ticket, ServiceTicket};
use roster_domain::sign_in::{Since, SsoSession};
use roster_domain::time::Millis;
use roster_domain::{secret, Result};
use roster_store::prelude::*;
use std::net::IpAddr;

/// A login request.
#[derive(Debug, Clone, Default)]
pub struct CasLoginRequest {
    pub service: Option<String>,
    pub renew: bool,
    pub gateway: bool,
    /// Roster's own, set on the way back from the login page: the password was typed at or
    /// after this time (so the ticket is from a new login, and `renew` is satisfied).
    pub auth_after: Option<Millis>,
}

/// Where a login request goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CasLogin {
    /// No service, or one no CAS application registered: an error page, no redirect.
    Untrusted(&'static str),
    /// The user may not sign in to the application: a page saying why.
    Refused(&'static str),
    /// The login page, then this request again with `auth_after`.
    SignIn { auth_after: Millis },
    /// Back to the service (with a ticket, or without one for `gateway`).
    Redirect(String),
}

impl Service {
    /// `GET /api/v1/cas/login`, given the browser's session (if any).
    pub async fn cas_login(
        &self,
        request: CasLoginRequest,
        session_cookie: Option<&str>,
        source: IpAddr,
    ) -> Result<CasLogin> {
        let Some(service) = request.service.as_deref().filter(|s| !s.is_empty()) else {
            return Ok(CasLogin::Untrusted(
                "service is required: the URL the ticket goes to.",
            ));
        };
        let Some(registered) = self.cas_application_for(service).await? else {
            return Ok(CasLogin::Untrusted(
                "No CAS application registered this service URL.",
            ));
        };
        let now = self.now();
        let signed_in = match session_cookie.and_then(crate::sign_in::session_digest) {
            Some(digest) => {
                let with_roles = needs_roles(&registered.settings);
                let key = (digest, registered.app.id.clone(), with_roles);
                let (found, candidate) = self.read(session_and_candidate, key).await?;
                self.live_session(found).await?.zip(candidate)
            }
            None => None,
        };
        let new_login = |session: &SsoSession| {
            request
                .auth_after
                .is_some_and(|after| session.auth_time >= after)
        };
        let usable = match signed_in {
            Some((session, _)) if request.renew && !new_login(&session) => None,
            Some((session, _))
                if session.second_factor_at.is_none()
                    && self
                        .second_factor_applies(Some(&registered.app.client_id))
                        .await? =>
            {
                None
            }
            other => other,
        };
        let Some((session, candidate)) = usable else {
            // CAS protocol 3.0 §2.1.1: `renew` wins over `gateway`.
            if request.gateway && !request.renew {
                return Ok(CasLogin::Redirect(registered.service.to_string()));
            }
            return Ok(CasLogin::SignIn { auth_after: now });
        };
        if let Err(why) = candidate.admit(&registered.app, now, Since::signed_in(session.auth_time))
        {
            self.audit_refused_sign_in(&session.user_id, &registered.app, source)
                .await?;
            return Ok(CasLogin::Refused(why));
        }
        let ticket = new_ticket();
        let row = ServiceTicket {
            digest: secret::digest(&ticket),
            application_id: registered.app.id.clone(),
            user_id: session.user_id.clone(),
            service: registered.service.to_string(),
            auth_time: session.auth_time,
            from_new_login: new_login(&session),
            created_at: now,
            expires_at: now.saturating_add(self.cas_ticket_ttl_ms()),
            sid: Some(session.sid()),
        };
        self.write(&actor(Some(&session.user_id), source), issue, row)
            .await?;
        metrics::counter!("roster_sign_ins_total", "to" => "cas").increment(1);
        let mut back = registered.service;
        back.query_pairs_mut().append_pair("ticket", &ticket);
        Ok(CasLogin::Redirect(back.to_string()))
    }

    /// A service ticket's lifetime.
    pub(crate) fn cas_ticket_ttl_ms(&self) -> Millis {
        crate::sign_in::millis(self.inner.settings.cas_ticket_ttl)
    }
}

async fn issue(tx: &mut dyn Tx, cx: &mut Cx, ticket: ServiceTicket) -> Result<()> {
    tx.insert_service_ticket(&ticket).await?;
    cx.audit("CasLogin", "application", ticket.application_id.as_str());
    Ok(())
}
