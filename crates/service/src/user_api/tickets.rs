//! SSO tickets, server to server with a tenant token (OneAccess `ShowSSOTicketBySessionToken`,
//! `ShowUserBySSOTicket`, `RefreshSessionToken`): a session token buys a one-time ticket for
//! the device that logged in; the ticket is redeemed once, on any node, for the user.

use super::login::LoginAnswer;
use super::seconds;
use crate::sign_in::{candidate, millis, Candidate};
use crate::use_case::Cx;
use crate::{Caller, Service};
use roster_domain::application::Application;
use roster_domain::sign_in::Since;
use roster_domain::user::User;
use roster_domain::user_api::{Refusal, SsoTicket, UserApiSession};
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;

/// The body of the ticket calls: a session token or a ticket, and the calling device.
#[derive(Debug, Clone, Copy, Default)]
pub struct TicketRequest<'a> {
    pub session_token: Option<&'a str>,
    pub sso_ticket: Option<&'a str>,
    pub operating_sys_version: Option<&'a str>,
    pub device_ip: Option<&'a str>,
    pub device_fingerprint: Option<&'a str>,
    /// The application whose view of the user the ticket is for (else the session's).
    pub client_id: Option<&'a str>,
}

/// A redeemed ticket: its user, as the application it was for sees them.
#[derive(Debug)]
pub struct TicketUser {
    pub user: User,
}

/// Longest session token or ticket looked up.
const MAX_SECRET_CHARS: usize = 200;

impl Service {
    /// `POST /api/v2/tenant/sso/session-token/sso-ticket`: a one-time ticket for the session's
    /// user, to be redeemed by `client_id`'s application (else the session's).
    pub async fn issue_sso_ticket(
        &self,
        caller: &Caller,
        request: TicketRequest<'_>,
    ) -> Result<(String, i64)> {
        let fingerprint = self.device_fields(&request)?;
        let digest = self.session_digest(&request)?;
        let client_id = request
            .client_id
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        let (session, target, found) = self.read(ticket_standing, (digest, client_id)).await?;
        let session = self.usable_session(session, fingerprint)?;
        let target = target.ok_or_else(|| self.refuse(Refusal::UnknownClient))?;
        let found = found.ok_or_else(|| self.refuse(Refusal::NotBound))?;
        // The session was issued in its own application: another application's account is
        // held against the password check only (it may be newer than the session).
        let since = match target.id == session.application_id {
            true => Since::issued(session.auth_time, session.created_at),
            false => Since::signed_in(session.auth_time),
        };
        self.admitted(found, &target, since, Refusal::SessionInvalid)?;
        if target.id != session.application_id
            && self.second_factor_applies(Some(&target.client_id)).await?
        {
            // A session needed the code only if its own application asks for one too.
            let own = self
                .read(read_application, session.application_id.clone())
                .await?;
            if !self.second_factor_applies(Some(&own.client_id)).await? {
                return Err(self.refuse(Refusal::SessionInvalid(
                    "The application asks for a second factor, which this session did not \
                     give: log in to it (MFA_AUTH).",
                )));
            }
        }
        let ticket = secret::generate();
        let ttl = self.user_api_settings().ticket_ttl;
        let row = SsoTicket {
            digest: secret::digest(&ticket),
            application_id: target.id.clone(),
            user_id: session.user_id.clone(),
            device_fingerprint: session.device_fingerprint.clone(),
            auth_time: session.auth_time,
            created_at: self.now(),
            expires_at: self.now().saturating_add(millis(ttl)),
        };
        self.write(&caller.client_id, insert_ticket, row).await?;
        Ok((ticket, seconds(ttl)))
    }

    /// `POST /api/v2/tenant/sso/sso-ticket/verify`: redeems the ticket (once, on any node:
    /// it is deleted as it is read) for its user, who must still be admitted.
    pub async fn redeem_sso_ticket(
        &self,
        caller: &Caller,
        request: TicketRequest<'_>,
    ) -> Result<TicketUser> {
        let ticket = request
            .sso_ticket
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.refuse(Refusal::TicketRequired))?;
        let fingerprint = self.device_fields(&request)?;
        let taken = match ticket.len() <= MAX_SECRET_CHARS {
            true => {
                self.write(&caller.client_id, take_ticket, secret::digest(ticket))
                    .await?
            }
            false => None,
        };
        let invalid = |why| self.refuse(Refusal::TicketInvalid(why));
        let unknown = || invalid("It is unknown or was redeemed already.");
        let ticket = taken.ok_or_else(unknown)?;
        if ticket.expires_at <= self.now() {
            return Err(invalid("It expired."));
        }
        // Redeemed either way: a ticket from another device is not tried again.
        if !secret::constant_time_eq(&ticket.device_fingerprint, fingerprint) {
            return Err(invalid("device_fingerprint is not the login's."));
        }
        let (ticket, app, found) = self.read(ticket_user, ticket).await?.ok_or_else(unknown)?;
        let since = Since::issued(ticket.auth_time, ticket.created_at);
        let user = self.admitted(found, &app, since, Refusal::TicketInvalid)?;
        Ok(TicketUser { user })
    }

    /// `POST /api/v2/tenant/sso/session-token/refresh`: a new session token (and id_token)
    /// for the same login; the old token ends.
    pub async fn refresh_session_token(
        &self,
        caller: &Caller,
        request: TicketRequest<'_>,
        issuer: &str,
    ) -> Result<LoginAnswer> {
        let fingerprint = self.device_fields(&request)?;
        let digest = self.session_digest(&request)?;
        let (old, app, found) = self.read(ticket_standing, (digest, None)).await?;
        let old = self.usable_session(old, fingerprint)?;
        let app = app.ok_or_else(|| Error::new(ErrorKind::ApplicationNotFound))?;
        let found = found.ok_or_else(|| self.refuse(Refusal::NotBound))?;
        let since = Since::issued(old.auth_time, old.created_at);
        let user = self.admitted(found, &app, since, Refusal::SessionInvalid)?;
        let session_token = secret::generate();
        let ttl = self.user_api_settings().session_ttl;
        let now = self.now();
        let new = UserApiSession {
            digest: secret::digest(&session_token),
            created_at: now,
            expires_at: now.saturating_add(millis(ttl)),
            ..old.clone()
        };
        if !self
            .write(&caller.client_id, replace_session, (old.digest, new))
            .await?
        {
            return Err(self.refuse(Refusal::SessionInvalid(
                "session_token was refreshed or ended meanwhile.",
            )));
        }
        let id_token = self.user_api_id_token(&app, &user, issuer).await?;
        Ok(LoginAnswer::success(session_token, id_token, ttl))
    }

    /// Checks the device fields every ticket call sends; gives the fingerprint.
    fn device_fields<'a>(&self, request: &TicketRequest<'a>) -> Result<&'a str> {
        let given = |v: Option<&'a str>, name| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| self.refuse(Refusal::Required(name)))
        };
        given(request.operating_sys_version, "operating_sys_version")?;
        given(request.device_ip, "device_ip")?;
        given(request.device_fingerprint, "device_fingerprint")
    }

    /// The stored form of the request's `session_token`.
    fn session_digest(&self, request: &TicketRequest<'_>) -> Result<Option<String>> {
        let token = request
            .session_token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.refuse(Refusal::Required("session_token")))?;
        Ok((token.len() <= MAX_SECRET_CHARS).then(|| secret::digest(token)))
    }

    /// The session if it is live and was logged in from the device of `fingerprint`.
    fn usable_session(
        &self,
        session: Option<UserApiSession>,
        fingerprint: &str,
    ) -> Result<UserApiSession> {
        let invalid = |why| self.refuse(Refusal::SessionInvalid(why));
        let session = session
            .filter(|s| s.expires_at > self.now())
            .ok_or_else(|| invalid("session_token is unknown, ended or expired."))?;
        if !secret::constant_time_eq(&session.device_fingerprint, fingerprint) {
            return Err(invalid("device_fingerprint is not the login's."));
        }
        Ok(session)
    }

    /// The user if still admitted to `app`, else the refusal `why` makes.
    fn admitted(
        &self,
        found: Candidate,
        app: &Application,
        since: Since,
        refusal: fn(&'static str) -> Refusal,
    ) -> Result<User> {
        let no_account = found.principal.is_none();
        match found.admit(app, self.now(), since) {
            Ok(principal) => Ok(principal.user),
            Err(_) if no_account => Err(self.refuse(Refusal::NotBound)),
            Err(why) => Err(self.refuse(refusal(why))),
        }
    }
}

/// A session, the application a ticket would be for (`client_id`'s, else the session's), and
/// the session's user as that application sees them; read at once.
async fn ticket_standing(
    tx: &mut dyn Tx,
    (digest, client_id): (Option<String>, Option<String>),
) -> Result<(
    Option<UserApiSession>,
    Option<Application>,
    Option<Candidate>,
)> {
    let Some(session) = (match digest {
        Some(digest) => tx.user_api_session(&digest).await?,
        None => None,
    }) else {
        return Ok((None, None, None));
    };
    let app = match client_id {
        Some(client_id) => tx.application_by_client_id(&client_id).await?,
        None => tx.application(&session.application_id).await?,
    };
    let found = match &app {
        Some(app) => Some(candidate(tx, &app.id, &session.user_id, false).await?),
        None => None,
    };
    Ok((Some(session), app, found))
}

async fn insert_ticket(tx: &mut dyn Tx, cx: &mut Cx, ticket: SsoTicket) -> Result<()> {
    tx.insert_sso_ticket(&ticket).await?;
    cx.audit(
        "ShowSSOTicketBySessionToken",
        "application",
        ticket.application_id.as_str(),
    );
    Ok(())
}

/// Redeems the ticket.
async fn take_ticket(tx: &mut dyn Tx, cx: &mut Cx, digest: String) -> Result<Option<SsoTicket>> {
    let ticket = tx.take_sso_ticket(&digest).await?;
    if let Some(t) = &ticket {
        cx.audit("ShowUserBySSOTicket", "user", t.user_id.as_str());
    }
    Ok(ticket)
}

/// A ticket's application and user as they are now.
async fn ticket_user(
    tx: &mut dyn Tx,
    ticket: SsoTicket,
) -> Result<Option<(SsoTicket, Application, Candidate)>> {
    let Some(app) = tx.application(&ticket.application_id).await? else {
        return Ok(None);
    };
    let found = candidate(tx, &app.id, &ticket.user_id, false).await?;
    Ok(Some((ticket, app, found)))
}

/// Ends `old` and stores `new` in its place; false if `old` was gone already.
async fn replace_session(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (old, new): (String, UserApiSession),
) -> Result<bool> {
    if !tx.delete_user_api_session(&old).await? {
        return Ok(false);
    }
    tx.insert_user_api_session(&new).await?;
    cx.audit("RefreshSessionToken", "user", new.user_id.as_str());
    Ok(true)
}

async fn read_application(
    tx: &mut dyn Tx,
    id: roster_domain::application::ApplicationId,
) -> Result<Application> {
    crate::lookups::existing_application(tx, &id).await
}
