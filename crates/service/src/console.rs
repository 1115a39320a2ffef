//! The web console's use cases: who holds a console role, the dashboard, finding users, and
//! what the helpdesk does for a user who cannot sign in (unlock, end sessions). Everything
//! else the console does is the API's own use cases, called with the person as the caller,
//! so a page is refused by the same permission check as the API.

use crate::lookups::existing_user;
use crate::use_case::Cx;
use crate::{Caller, Service};
use roster_domain::console::{ConsoleRole, MAX_TENANT_NAME_CHARS};
use roster_domain::page::PageRequest;
use roster_domain::permission::Access;
use roster_domain::sign_in::SsoSession;
use roster_domain::time::Millis;
use roster_domain::user::{login_mobile_key, user_name_key, User, UserId};
use roster_domain::{validate, Error, ErrorKind, Result};
use roster_store::prelude::*;

/// Most users a search answers, and most sessions or people a page lists.
pub const SEARCH_LIMIT: i64 = 20;
const LIST_LIMIT: i64 = 200;
/// The audit operations the dashboard counts per hour.
const SIGN_IN: &str = "SignIn";
const SIGN_IN_REFUSED: &str = "SignInRefused";
const HOUR_MS: Millis = 3_600_000;

/// What the dashboard shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub users: i64,
    pub applications: Option<i64>,
    pub locked: Vec<User>,
    /// The last 24 hours, oldest first: (hour start, sign-ins, refused sign-ins).
    pub hours: Vec<(Millis, i64, i64)>,
}

/// Where a page of the user list starts.
#[derive(Debug, Clone, Default)]
pub struct UserCursor {
    /// The users after this id.
    pub after: Option<String>,
    /// The users just before this id.
    pub before: Option<String>,
}

/// A page of the user list, in id (creation) order.
#[derive(Debug, Clone)]
pub struct UserBrowse {
    pub users: Vec<User>,
    /// Every user, however many pages.
    pub total: i64,
    /// Whether there are users before the first and after the last shown.
    pub has_previous: bool,
    pub has_next: bool,
}

impl Service {
    /// A page of `size` users, from where `cursor` says: fast anywhere in a list of millions
    /// (keyset paging; the total comes from the list's page marks).
    pub async fn browse_users(
        &self,
        caller: &Caller,
        cursor: UserCursor,
        size: i64,
    ) -> Result<UserBrowse> {
        caller.require(Access::UserRead)?;
        let size = size.clamp(1, roster_domain::page::MAX_LIMIT);
        let id = |v: Option<String>| v.filter(|v| !v.is_empty() && v.len() <= 64);
        let cursor = UserCursor {
            after: id(cursor.after),
            before: id(cursor.before),
        };
        self.read(browse, (cursor, size)).await
    }

    /// Gives the user named `user_name` a console role (`roster admin grant`, or an admin in
    /// the console).
    pub async fn grant_console_role(
        &self,
        caller: &Caller,
        user_name: &str,
        role: ConsoleRole,
    ) -> Result<User> {
        caller.require(Access::Admin)?;
        let user_name = validate::required("user_name", Some(user_name.to_owned()), 255)?;
        self.write(&caller.client_id, grant, (user_name, role))
            .await
    }

    /// Takes a user's console role away and ends what they signed in with, so that no page
    /// they hold open acts with it.
    pub async fn revoke_console_role(&self, caller: &Caller, user_name: &str) -> Result<User> {
        caller.require(Access::Admin)?;
        let user_name = validate::required("user_name", Some(user_name.to_owned()), 255)?;
        self.write(&caller.client_id, revoke, user_name).await
    }

    /// Everyone holding a console role.
    pub async fn console_people(&self, caller: &Caller) -> Result<Vec<(User, ConsoleRole)>> {
        caller.require(Access::AdminRead)?;
        self.read(people, ()).await
    }

    /// The dashboard: counts, locked users, sign-ins and refusals per hour over a day.
    pub async fn dashboard(&self, caller: &Caller) -> Result<Dashboard> {
        caller.require(Access::UserRead)?;
        self.flush_counted_audits().await?;
        let may_see_apps = caller.require(Access::AppRead).is_ok();
        self.read(dashboard, (self.now(), may_see_apps)).await
    }

    /// Users whose user name, mobile or email begins with `text` (at most [`SEARCH_LIMIT`]).
    pub async fn search_users(&self, caller: &Caller, text: &str) -> Result<Vec<User>> {
        caller.require(Access::UserRead)?;
        let text = text.trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        if text.chars().count() > 255 {
            return Err(Error::invalid(
                "The search text has at most 255 characters.",
            ));
        }
        self.read(search, text.to_owned()).await
    }

    /// Lifts a user's lock after wrong passwords.
    pub async fn unlock_user(&self, caller: &Caller, user_id: UserId) -> Result<()> {
        caller.require(Access::UserSupport)?;
        self.write(&caller.client_id, unlock, user_id).await
    }

    /// A user's browser sessions, the last used first.
    pub async fn user_sessions(&self, caller: &Caller, user_id: UserId) -> Result<Vec<SsoSession>> {
        caller.require(Access::UserRead)?;
        self.read(sessions, user_id).await
    }

    /// Ends one of a user's sessions, with the logout its applications are sent.
    pub async fn end_user_session(
        &self,
        caller: &Caller,
        user_id: UserId,
        session_digest: &str,
        issuer: &str,
    ) -> Result<()> {
        caller.require(Access::UserSupport)?;
        self.end_session_of(&caller.client_id, user_id, session_digest, issuer)
            .await
    }

    /// Ends everything a user signed in with, on every node: sessions, codes and tokens.
    pub async fn end_user_sessions(&self, caller: &Caller, user_id: UserId) -> Result<()> {
        caller.require(Access::UserSupport)?;
        self.write(&caller.client_id, end_all, user_id).await
    }

    /// The session of `user_id` with `digest` ended (if it is theirs), as a logout ends it.
    pub(crate) async fn end_session_of(
        &self,
        actor: &str,
        user_id: UserId,
        digest: &str,
        issuer: &str,
    ) -> Result<()> {
        let told = self.session_logout(digest, issuer, None).await?;
        self.write(actor, end_one, (user_id, digest.to_owned(), told))
            .await?;
        self.logout_stored();
        Ok(())
    }

    /// The tenant's name, for the pages (none: "Roster"); kept in memory as the policies are
    /// (until a change is heard, or 10 s where none can be).
    pub async fn tenant_name(&self) -> Result<Option<String>> {
        let now = self.now();
        let heard = roster_store::Store::changes_heard(self.inner.store.as_ref());
        if let Some(name) = self.inner.tenant_name.get(now, heard) {
            return Ok(name.as_ref().clone());
        }
        let name = self.read(read_tenant_name, ()).await?;
        self.inner
            .tenant_name
            .put(now, heard, std::sync::Arc::new(name.clone()));
        Ok(name)
    }

    /// Names the tenant (shown on the login page and the portal).
    pub async fn set_tenant_name(&self, caller: &Caller, name: &str) -> Result<()> {
        caller.require(Access::Admin)?;
        let name = validate::required("name", Some(name.trim().to_owned()), MAX_TENANT_NAME_CHARS)?;
        self.write(&caller.client_id, put_tenant_name, name).await?;
        self.inner.tenant_name.clear();
        Ok(())
    }
}

async fn user_named(tx: &mut dyn Tx, user_name: &str) -> Result<User> {
    tx.user_by_name(user_name).await?.ok_or_else(|| {
        Error::with_detail(
            ErrorKind::UserNotFound,
            format!("No user is named '{user_name}'."),
        )
    })
}

async fn grant(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (user_name, role): (String, ConsoleRole),
) -> Result<User> {
    let user = user_named(tx, &user_name).await?;
    tx.put_console_role(&user.id, role, cx.now).await?;
    cx.audit(grant_operation(role), "user", &user.id);
    Ok(user)
}

fn grant_operation(role: ConsoleRole) -> &'static str {
    match role {
        ConsoleRole::Admin => "GrantConsoleAdmin",
        ConsoleRole::Helpdesk => "GrantConsoleHelpdesk",
        ConsoleRole::Auditor => "GrantConsoleAuditor",
    }
}

async fn revoke(tx: &mut dyn Tx, cx: &mut Cx, user_name: String) -> Result<User> {
    let user = user_named(tx, &user_name).await?;
    if !tx.delete_console_role(&user.id).await? {
        return Err(Error::invalid(format!(
            "{} holds no console role.",
            user.user_name
        )));
    }
    tx.end_sign_ins(&user.id, None, cx.now).await?;
    cx.audit("RevokeConsoleRole", "user", &user.id);
    Ok(user)
}

async fn people(tx: &mut dyn Tx, (): ()) -> Result<Vec<(User, ConsoleRole)>> {
    tx.console_people(LIST_LIMIT).await
}

async fn dashboard(tx: &mut dyn Tx, (now, with_apps): (Millis, bool)) -> Result<Dashboard> {
    let first = PageRequest {
        offset: 0,
        limit: 1,
    };
    let users = tx.list_users(None, first).await?.total;
    let applications = if with_apps {
        Some(tx.list_applications(first).await?.total)
    } else {
        None
    };
    let locked = tx.locked_users(now, SEARCH_LIMIT).await?;
    let this_hour = now / HOUR_MS;
    let since = (this_hour - 23) * HOUR_MS;
    let counts = tx
        .audit_counts_per_hour(&[SIGN_IN, SIGN_IN_REFUSED], since)
        .await?;
    let hours = (this_hour - 23..=this_hour)
        .map(|hour| {
            let count = |operation: &str| {
                counts
                    .iter()
                    .filter(|(h, op, _)| *h == hour && op == operation)
                    .map(|(_, _, n)| n)
                    .sum::<i64>()
            };
            (hour * HOUR_MS, count(SIGN_IN), count(SIGN_IN_REFUSED))
        })
        .collect();
    Ok(Dashboard {
        users,
        applications,
        locked,
        hours,
    })
}

async fn browse(tx: &mut dyn Tx, (cursor, size): (UserCursor, i64)) -> Result<UserBrowse> {
    // One more than shown: whether the list goes on in the direction read.
    let mut users = tx
        .users_from(cursor.after.as_deref(), cursor.before.as_deref(), size + 1)
        .await?;
    let more = users.len() > usize::try_from(size).unwrap_or(0);
    let (has_previous, has_next) = if cursor.before.is_some() {
        if more {
            users.remove(0);
        }
        (more, true)
    } else {
        users.truncate(usize::try_from(size).unwrap_or(0));
        (cursor.after.is_some(), more)
    };
    Ok(UserBrowse {
        users,
        total: tx.user_count().await?,
        has_previous,
        has_next,
    })
}

async fn search(tx: &mut dyn Tx, text: String) -> Result<Vec<User>> {
    let name = user_name_key(&text);
    let mobile = login_mobile_key(&text).or_else(|| {
        // A few digits already narrow a mobile (the login's rule wants five).
        text.chars()
            .all(|c| c.is_ascii_digit())
            .then(|| text.clone())
    });
    let email = text.to_lowercase();
    tx.users_by_prefix(Some(&name), mobile.as_deref(), Some(&email), SEARCH_LIMIT)
        .await
}

async fn unlock(tx: &mut dyn Tx, cx: &mut Cx, user_id: UserId) -> Result<()> {
    let user = existing_user(tx, &user_id).await?;
    tx.set_sign_in_lock(&user.id, Default::default(), cx.now)
        .await?;
    cx.audit("UnlockUser", "user", &user.id);
    Ok(())
}

async fn sessions(tx: &mut dyn Tx, user_id: UserId) -> Result<Vec<SsoSession>> {
    existing_user(tx, &user_id).await?;
    tx.sessions_of_user(&user_id, LIST_LIMIT).await
}

async fn end_one(
    tx: &mut dyn Tx,
    cx: &mut Cx,
    (user_id, digest, told): (UserId, String, crate::logout::SessionLogout),
) -> Result<()> {
    let found = tx.session(&digest).await?;
    if found.as_ref().is_none_or(|s| s.user_id != user_id) {
        return Err(Error::with_detail(
            ErrorKind::InvalidParameter,
            "The session has ended already.",
        ));
    }
    tx.delete_session(&digest).await?;
    crate::logout::apply(tx, &told).await?;
    cx.audit("EndSession", "user", &user_id);
    Ok(())
}

async fn end_all(tx: &mut dyn Tx, cx: &mut Cx, user_id: UserId) -> Result<()> {
    let user = existing_user(tx, &user_id).await?;
    tx.end_sign_ins(&user.id, None, cx.now).await?;
    cx.audit("EndSessions", "user", &user.id);
    Ok(())
}

async fn read_tenant_name(tx: &mut dyn Tx, (): ()) -> Result<Option<String>> {
    tx.tenant_name().await
}

async fn put_tenant_name(tx: &mut dyn Tx, cx: &mut Cx, name: String) -> Result<()> {
    tx.put_tenant_name(&name, cx.now).await?;
    // Every node shows the new name at its next page.
    tx.announce_change().await?;
    cx.audit("UpdateTenantName", "tenant", "");
    Ok(())
}
