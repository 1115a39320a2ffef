//! Who may sign in to an application, as the store holds them now.

use roster_domain::application::{Application, ApplicationId};
use roster_domain::sign_in::{SignInLock, SignInsEnded, Since, SsoSession, Standing};
use roster_domain::sso::{ClaimSource, Principal, SsoSettings};
use roster_domain::time::Millis;
use roster_domain::user::UserId;
use roster_domain::Result;
use roster_store::prelude::*;

/// Who is signing in, as the store holds them now, and why they may not (if they may not).
pub(crate) struct Candidate {
    pub principal: Option<Principal>,
    pub lock: SignInLock,
    pub ended: SignInsEnded,
}

impl Candidate {
    /// The principal if the user may sign in to `app` at `now` with a credential from
    /// `since`, else why not.
    pub(crate) fn admit(
        self,
        app: &Application,
        now: Millis,
        since: Since,
    ) -> Result<Principal, &'static str> {
        let Some(p) = self.principal else {
            return Err("The user holds no account in this application.");
        };
        if self.ended.void(since, p.account.created_at) {
            Err("The sign-in was ended by a change of the user or their account.")
        } else if app.disabled {
            Err("The application is disabled.")
        } else if p.user.disabled {
            Err("The user is disabled.")
        } else if self.lock.remaining(now).is_some() {
            Err("The user is locked.")
        } else if p.account.disabled {
            Err("The user's account in this application is disabled.")
        } else {
            Ok(p)
        }
    }
}

/// Reads the user and their lock, their account in the application, and (`with_roles`) the
/// codes of the account's roles, which only a `roles` claim needs.
pub(crate) async fn candidate(
    tx: &mut dyn Tx,
    application_id: &ApplicationId,
    user_id: &UserId,
    with_roles: bool,
) -> Result<Candidate> {
    let Some(standing) = tx.sign_in_candidate(application_id, user_id).await? else {
        return Ok(Candidate {
            principal: None,
            lock: SignInLock::default(),
            ended: SignInsEnded::default(),
        });
    };
    let Standing {
        user,
        lock,
        account,
        ended,
    } = standing;
    let Some(account) = account else {
        return Ok(Candidate {
            principal: None,
            lock,
            ended,
        });
    };
    let role_codes = if with_roles {
        tx.roles_of_accounts(std::slice::from_ref(&account.id))
            .await?
            .into_iter()
            .map(|(_, role)| role.code)
            .collect()
    } else {
        Vec::new()
    };
    Ok(Candidate {
        principal: Some(Principal {
            user,
            account,
            role_codes,
        }),
        lock,
        ended,
    })
}

/// [`candidate`] as a read use case of its own.
pub(crate) async fn read_candidate(
    tx: &mut dyn Tx,
    (application_id, user_id, with_roles): (ApplicationId, UserId, bool),
) -> Result<Candidate> {
    candidate(tx, &application_id, &user_id, with_roles).await
}

/// The browser's session (by its cookie's digest) and who its user is to the application
/// (`with_roles`: the account's role codes too), read together.
pub(crate) async fn session_and_candidate(
    tx: &mut dyn Tx,
    (digest, app_id, with_roles): (String, ApplicationId, bool),
) -> Result<(Option<SsoSession>, Option<Candidate>)> {
    let Some(session) = tx.session(&digest).await? else {
        return Ok((None, None));
    };
    let found = candidate(tx, &app_id, &session.user_id, with_roles).await?;
    Ok((Some(session), Some(found)))
}

/// Whether the claims of `settings` need the account's roles read.
pub(crate) fn needs_roles(settings: &SsoSettings) -> bool {
    settings
        .claims
        .iter()
        .any(|c| c.source == ClaimSource::Roles)
}
