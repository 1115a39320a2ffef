//! Access credentials: issuing tokens to applications and recognizing them on every request.
//!
//! Tokens are 64 hex characters, their issue time then 208 random bits; the database keeps
//! only their key (that time and their SHA-256, [`secret::token_key`]). A node remembers
//! recent answers in a bounded cache for `token_cache_ttl`, so checking a token is usually no
//! database round trip, and a change made on another node (application disabled) is seen
//! within that time. A token is remembered at its first use, not at its issue: most clients
//! use a token many times, and one read then costs less than caching every token issued
//! (a cache insert costs more than that read when tokens are issued by the thousand).

use crate::lookups::application_by_client_id;
use crate::use_case::Cx;
use crate::{Inner, Service, Settings};
use moka::sync::Cache;
use roster_domain::application::{AccessToken, Application, ApplicationId, MAX_CLIENT_ID_CHARS};
use roster_domain::audit::SYSTEM_ACTOR;
use roster_domain::permission::{Access, Permissions};
use roster_domain::time::Millis;
use roster_domain::{secret, Error, ErrorKind, Result};
use roster_store::prelude::*;
use std::net::IpAddr;

/// Longest bearer token looked at; anything longer cannot be one of ours.
const MAX_TOKEN_CHARS: usize = 512;

/// The application behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub application_id: ApplicationId,
    /// Who acts, as audited: the application's client id, `roster-cli`, or a person in the
    /// console (`console:USER_NAME`).
    pub client_id: String,
    pub permissions: Permissions,
    /// A person in the console: their role, not `permissions`, says what they may do.
    pub console_role: Option<roster_domain::console::ConsoleRole>,
}

impl Caller {
    /// The operator at the command line, who holds the database itself: every permission,
    /// audited as `roster-cli`.
    pub fn operator() -> Self {
        Self {
            application_id: ApplicationId::new(""),
            client_id: roster_domain::audit::CLI_ACTOR.to_owned(),
            permissions: Permissions::new(vec![roster_domain::permission::Permission::All]),
            console_role: None,
        }
    }

    /// 403 unless the caller's permissions grant `access`.
    pub fn require(&self, access: Access) -> Result<()> {
        let allowed = match self.console_role {
            Some(role) => role.grants(access),
            None => self.permissions.allows(access),
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::PermissionDenied))
        }
    }
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
    pub scope: String,
}

#[derive(Clone)]
struct Known {
    caller: Caller,
    expires_at: Millis,
    /// The changes heard from other nodes when it was read: any since, and it is stale.
    heard: u64,
}

/// What this node remembers about tokens. `epoch` counts the changes to applications made on
/// this node: an answer read from the database before such a change is not remembered after
/// it, so a change takes effect at once on the node that made it.
pub(crate) struct TokenCache {
    known: Cache<String, Known>,
    epoch: std::sync::atomic::AtomicU64,
    hits: metrics::Counter,
    misses: metrics::Counter,
}

impl TokenCache {
    pub fn new(settings: &Settings) -> Self {
        Self {
            known: Cache::builder()
                .max_capacity(settings.token_cache_capacity)
                .time_to_live(settings.token_cache_ttl)
                .build(),
            epoch: std::sync::atomic::AtomicU64::new(0),
            hits: metrics::counter!("roster_token_cache_total", "result" => "hit"),
            misses: metrics::counter!("roster_token_cache_total", "result" => "miss"),
        }
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Remembers `known`, unless an application changed since `epoch` (read before the
    /// database was): then the answer may be stale, and the next request asks again.
    fn remember(&self, key: String, known: Known, epoch: u64) {
        self.known.insert(key.clone(), known);
        if self.epoch() != epoch {
            self.known.invalidate(&key);
        }
    }

    /// Forgets everything, after a change to an application (bumping the epoch first, so that
    /// an answer read before the change and remembered after this cannot survive).
    pub(crate) fn forget_all(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.known.invalidate_all();
    }
}

impl Inner {
    fn caller_if_valid(known: &Known, now: Millis) -> Result<Caller> {
        if known.expires_at <= now {
            Err(Error::new(ErrorKind::TokenExpired))
        } else {
            Ok(known.caller.clone())
        }
    }
}

impl Service {
    /// `ShowAuthToken`: exchanges client credentials for an access token. Attempts are limited
    /// per source address and per client id and address; issued tokens per client id (so a
    /// guesser without the secret cannot spend the client's budget). Refusals for bad
    /// credentials are audited, counted per interval.
    pub async fn issue_token(
        &self,
        grant_type: Option<&str>,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        source: Option<IpAddr>,
    ) -> Result<IssuedToken> {
        let client_id = client_id.unwrap_or_default();
        let limits = &self.inner.token_limits;
        limits.check_attempt(client_id, source)?;
        if client_id.len() > MAX_CLIENT_ID_CHARS {
            // No client has such an id; nothing to look up, nothing to key a limit by.
            return Err(self.refuse_client(None, source, ErrorKind::InvalidClient));
        }
        self.issue_token_checked(grant_type, Some(client_id), client_secret, source)
            .await
    }

    /// Refuses a client's credentials: counted for the audit log (under the client id if an
    /// application has it, else with the address's other unknown ids) and for `/metrics`.
    pub(crate) fn refuse_client(
        &self,
        known_client: Option<&str>,
        source: Option<IpAddr>,
        why: ErrorKind,
    ) -> Error {
        self.inner.refusals.count(known_client, source, why);
        metrics::counter!("roster_tokens_refused_total", "reason" => why.code()).increment(1);
        why.into()
    }

    /// Writes what was summed since the last call as audit records with their counts: refused
    /// token requests (one per client id, address and reason) and sign-in events (one per
    /// operation, actor, reason and application). The server calls it every few seconds and
    /// when it stops.
    pub async fn flush_counted_audits(&self) -> Result<()> {
        let mut records = self.inner.refusals.take();
        records.extend(self.sign_in_state().events.take());
        if records.is_empty() {
            return Ok(());
        }
        self.store()
            .append(
                records
                    .into_iter()
                    .map(roster_store::Appended::Audit)
                    .collect(),
            )
            .await
    }

    async fn issue_token_checked(
        &self,
        grant_type: Option<&str>,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        source: Option<IpAddr>,
    ) -> Result<IssuedToken> {
        match grant_type {
            Some("client_credentials") => {}
            Some(other) => {
                return Err(Error::with_detail(
                    ErrorKind::UnsupportedGrantType,
                    format!("grant_type must be client_credentials, not '{other}'."),
                ))
            }
            None => {
                return Err(Error::with_detail(
                    ErrorKind::UnsupportedGrantType,
                    "grant_type is required and must be client_credentials.",
                ))
            }
        }
        let client_id = client_id
            .filter(|c| !c.is_empty())
            .ok_or(ErrorKind::ClientIdRequired)?
            .to_owned();
        let client_secret = client_secret.unwrap_or_default().to_owned();
        let app = self
            .read(application_by_client_id, client_id.clone())
            .await?;
        let known = app.is_some().then_some(client_id.as_str());
        // The same answer for an unknown client and a wrong secret: no client-id probing.
        let Some(app) = app.filter(|a| secret::matches(&client_secret, &a.secret_digest)) else {
            return Err(self.refuse_client(known, source, ErrorKind::InvalidClient));
        };
        if app.disabled {
            return Err(self.refuse_client(known, source, ErrorKind::ApplicationDisabled));
        }
        // Only now, with the secret proved: attempts without it cannot spend this budget.
        self.inner.token_limits.check_issue(&client_id)?;

        let now = self.now();
        let access_token = secret::generate_token(now);
        let ttl = self.settings().token_ttl;
        let scope = app.permissions.scope();
        let token = AccessToken {
            key: secret::token_key(&access_token),
            application_id: app.id,
            scope: scope.clone(),
            expires_at: now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)),
            created_at: now,
            generation: app.token_generation,
        };
        // Nothing to check or undo: the row joins the next commit without a job of its own.
        self.store()
            .append(vec![roster_store::Appended::Token(token)])
            .await?;
        Ok(IssuedToken {
            access_token,
            expires_in: ttl.as_secs(),
            scope,
        })
    }

    /// Recognizes a bearer token: the caller it stands for, or 401.
    pub async fn authenticate(&self, bearer: &str) -> Result<Caller> {
        if bearer.is_empty() || bearer.len() > MAX_TOKEN_CHARS {
            return Err(ErrorKind::Unauthenticated.into());
        }
        let key = secret::token_key(bearer);
        let now = self.now();
        let heard = roster_store::Store::changes_heard(self.inner.store.as_ref());
        if let Some(known) = self.inner.tokens.known.get(&key) {
            if heard == Some(known.heard) {
                self.inner.tokens.hits.increment(1);
                return Inner::caller_if_valid(&known, now);
            }
        }
        self.inner.tokens.misses.increment(1);
        let epoch = self.inner.tokens.epoch();
        let found = self
            .read(token, (key.clone(), secret::digest(bearer)))
            .await?;
        let (token, app) = found.ok_or(ErrorKind::Unauthenticated)?;
        if token.generation != app.token_generation {
            // Issued while the secret was rotated or the application disabled.
            return Err(ErrorKind::Unauthenticated.into());
        }
        // The application's permissions now, not at issue: a permission withdrawn is
        // withdrawn from tokens already out.
        if app.disabled {
            return Err(Error::with_detail(
                ErrorKind::Unauthenticated,
                "The application is disabled.",
            ));
        }
        let known = Known {
            caller: Caller {
                application_id: app.id,
                client_id: app.client_id,
                permissions: app.permissions,
                console_role: None,
            },
            expires_at: token.expires_at,
            heard: heard.unwrap_or_default(),
        };
        let caller = Inner::caller_if_valid(&known, now);
        // Not kept while other nodes' changes cannot be heard.
        if caller.is_ok() && heard.is_some() {
            self.inner.tokens.remember(key, known, epoch);
        }
        caller
    }

    /// Drops every cached token check on this node, after a change to an application.
    pub(crate) fn forget_cached_tokens(&self) {
        self.inner.tokens.forget_all();
    }

    /// Deletes tokens that expired more than `grace` ago (until then an expired token is
    /// still recognized, so its holder learns it expired rather than that it is unknown).
    pub async fn purge_expired_tokens(&self, grace: std::time::Duration) -> Result<u64> {
        self.inner.token_limits.forget_idle();
        self.inner.sign_in.forget_idle();
        let before = self.now() - i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let keep = &self.inner.settings.messages.keep;
        let messages_before = self.now() - i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
        let deliveries_before = self.logout_deliveries_done_before();
        self.write(
            SYSTEM_ACTOR,
            purge_expired,
            (before, messages_before, deliveries_before),
        )
        .await
    }
}

/// The token stored under `key`, or under `key_before_0009`, with its application.
async fn token(
    tx: &mut dyn Tx,
    (key, key_before_0009): (String, String),
) -> Result<Option<(AccessToken, Application)>> {
    tx.token(&key, &key_before_0009).await
}

async fn purge_expired(
    tx: &mut dyn Tx,
    _cx: &mut Cx,
    (before, messages_before, deliveries_before): (Millis, Millis, Millis),
) -> Result<u64> {
    let tenant = tx.delete_tokens_expired_before(before).await?;
    let sign_in = tx.delete_sso_tokens_expired_before(before).await?;
    let sessions = tx.delete_sign_ins_expired_before(before).await?;
    let user_api = tx.delete_user_api_expired_before(before).await?;
    let codes = tx.delete_verify_codes_expired_before(before).await?;
    let cas = tx.delete_cas_expired_before(before).await?;
    let saml = tx.delete_saml_requests_expired_before(before).await?;
    let messages = tx.delete_messages_before(messages_before).await?;
    let logout = tx
        .delete_logout_expired_before(before, deliveries_before)
        .await?;
    Ok(tenant + sign_in + sessions + user_api + codes + cas + saml + messages + logout)
}
