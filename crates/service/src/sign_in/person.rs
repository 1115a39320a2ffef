//! The person behind a browser session, for Roster's own pages (the console and the portal):
//! the session's user while the session is live, the user enabled and not locked, and
//! nothing since the sign-in ended what it began (a password set, a role revoked).

use crate::auth::Caller;
use crate::Service;
use roster_domain::application::ApplicationId;
use roster_domain::console::{console_actor, ConsoleRole};
use roster_domain::permission::Permissions;
use roster_domain::sign_in::Since;
use roster_domain::user::User;
use roster_domain::Result;
use roster_store::prelude::*;
use roster_store::SessionPerson;

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Person {
    pub user: User,
    /// Their console role, if they hold one.
    pub role: Option<ConsoleRole>,
    /// The digest of their session (the cookie is never kept).
    pub session_digest: String,
    /// When the session's user gave a second factor, if they did.
    pub second_factor_at: Option<roster_domain::time::Millis>,
    /// Who they are to the service's permission checks: their console role, audited by
    /// their user name.
    pub caller: Caller,
}

impl Service {
    /// The person the session cookie `cookie` stands for, if it is live and its user may
    /// still sign in.
    pub async fn person(&self, cookie: Option<&str>) -> Result<Option<Person>> {
        let Some(digest) = cookie.and_then(super::session_digest) else {
            return Ok(None);
        };
        let Some(found) = self.read(session_person, digest).await? else {
            return Ok(None);
        };
        let SessionPerson {
            session,
            user,
            lock,
            ended,
            role,
        } = found;
        let Some(session) = self.live_session(Some(session)).await? else {
            return Ok(None);
        };
        let now = self.now();
        if user.disabled
            || lock.remaining(now).is_some()
            || ended.void(Since::signed_in(session.auth_time), 0)
        {
            return Ok(None);
        }
        let caller = Caller {
            application_id: ApplicationId::new(""),
            client_id: console_actor(&user.user_name),
            permissions: Permissions::default(),
            console_role: role,
        };
        Ok(Some(Person {
            user,
            role,
            second_factor_at: session.second_factor_at,
            session_digest: session.digest,
            caller,
        }))
    }
}

impl Service {
    /// Whether `person` must sign in again before the console opens: the MFA policy asks
    /// the console (`roster-console`) for a second factor and their session was begun
    /// without one.
    pub async fn console_needs_second_factor(&self, person: &Person) -> Result<bool> {
        let asked = self
            .second_factor_applies(Some(roster_domain::console::CONSOLE_CLIENT_ID))
            .await?;
        Ok(asked && person.second_factor_at.is_none())
    }

    /// The token every form of the console and the portal carries: bound to the browser's
    /// session, so only a page holding the session cookie can make it.
    pub fn page_form_token(&self, session_cookie: &str) -> String {
        self.inner
            .sign_in
            .form_tokens
            .bind(&format!("page:{session_cookie}"))
    }
}

async fn session_person(tx: &mut dyn Tx, digest: String) -> Result<Option<SessionPerson>> {
    tx.session_person(&digest).await
}
