//! Roster's use cases. Each write is one store transaction that checks the invariants,
//! makes the change and writes its audit record; nothing is half-done.

mod accounts;
mod app_orgs;
mod applications;
mod auth;
mod cas;
mod console;
mod counted_store;
mod fixtures;
mod id_tokens;
mod import;
mod keys;
mod logout;
mod lookups;
mod maintenance;
mod messages;
mod oauth;
mod organizations;
mod password;
mod password_policy;
mod portal;
mod roles;
mod saml;
mod second_factor;
mod secrets;
mod sign_in;
mod sso;
mod tenant_policy;
mod test_mode;
mod throttle;
mod transfer;
mod use_case;
mod user_api;
mod users;

pub use accounts::AccountDetails;
pub use console::{Dashboard, UserBrowse, UserCursor, SEARCH_LIMIT};
pub use portal::{Tile, TileStart};
pub use roles::MemberChange;
pub use saml::{
    idp_entity_id, read_sp_metadata, Inbound, InboundMessage, SamlLogout, SamlLogoutRequest,
    SamlPost, SamlSso, SamlSsoRequest, SpMetadata, METADATA_PATH, SLO_PATH, SSO_PATH,
};

pub use applications::NewCredentials;
pub use auth::{Caller, IssuedToken};
pub use cas::{CasLogin, CasLoginRequest, CasValidation, ValidateRequest};
pub use fixtures::FixturesApplied;
pub use id_tokens::IdTokenHint;
pub use import::ImportLine;
pub use keys::FirstSigningKey;
pub use messages::{MessagesSettings, Sender};
pub use oauth::{
    Authorize, AuthorizeRequest, Claims, Introspection, OAuthClient, OAuthToken, TokenKind,
    TokenRequest, Untrusted, UserInfo,
};
pub use password::Argon2Settings;
pub use roster_store::WriteGate;
pub use secrets::SecretKey;
pub use sign_in::{
    CodeAtLogin, Login, Logout, NewSession, PasswordChangeAtLogin, Person, Redirect, SignInOutcome,
    SignInSettings, SignedOut,
};
pub use test_mode::ClockState;
pub use transfer::{ApplicationSso, Record, RoleMember};
pub use user_api::{
    ApiUser, Headers as UserApiHeaders, LoginAnswer, TicketRequest, TicketUser, UserApiSettings,
};

use roster_domain::time::{Clock, Millis, SystemClock};
use roster_store::prelude::*;
use roster_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Tunables of the use cases, from configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Lifetime of an access token (`expires_in`).
    pub token_ttl: Duration,
    /// How long a node trusts what it learned about a token without asking the database:
    /// the bound on how late a disabled application's tokens are refused by other nodes.
    pub token_cache_ttl: Duration,
    /// Most tokens a node remembers.
    pub token_cache_capacity: u64,
    pub argon2: Argon2Settings,
    /// What happens to a deleted user's application accounts.
    pub on_user_delete: UserDeletePolicy,
    /// Seals application-account passwords; without it they cannot be stored.
    pub secret_key: Option<SecretKey>,
    /// Token requests allowed per second for one client id (bursts of twice that); 0: no limit.
    pub token_rate_per_client: u32,
    /// Token requests allowed per second from one source address; 0: no limit.
    pub token_rate_per_address: u32,
    /// How long audit records are kept; `None`: for ever.
    pub audit_retention: Option<Duration>,
    /// Sessions, codes and the lock after wrong passwords.
    pub sign_in: SignInSettings,
    /// The user APIs (/api/v2/sdk/*).
    pub user_api: UserApiSettings,
    /// The password policy until one is set over HTTP (which then holds on every node).
    pub password_policy: roster_domain::password_policy::PasswordPolicy,
    /// The MFA policy until one is set over HTTP.
    pub mfa_policy: roster_domain::second_factor::MfaPolicy,
    /// Where messages (SMS codes) go.
    pub messages: MessagesSettings,
    /// A CAS service ticket's lifetime.
    pub cas_ticket_ttl: Duration,
    /// `roster serve --test-mode`: the clock can be moved and the control API answers.
    pub test_mode: bool,
}

/// Audit records are kept this long by default.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u64 = 400;

/// The reference's "delete system user" setting: by default a deleted user's accounts are
/// deleted; kept, they become orphan accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserDeletePolicy {
    #[default]
    DeleteAccounts,
    OrphanAccounts,
}

impl Settings {
    /// Checks what [`Service::new`] would refuse (e.g. Argon2 costs below the floor), so that a
    /// server can refuse before it creates anything.
    pub fn check(&self) -> roster_domain::Result<()> {
        password::Hasher::new(&self.argon2).map(|_| ())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(1800),
            token_cache_ttl: Duration::from_secs(5),
            token_cache_capacity: 100_000,
            argon2: Argon2Settings::default(),
            on_user_delete: UserDeletePolicy::default(),
            secret_key: None,
            token_rate_per_client: 100,
            token_rate_per_address: 200,
            audit_retention: Some(Duration::from_secs(DEFAULT_AUDIT_RETENTION_DAYS * 86_400)),
            sign_in: SignInSettings::default(),
            user_api: UserApiSettings::default(),
            password_policy: Default::default(),
            mfa_policy: Default::default(),
            messages: MessagesSettings::default(),
            cas_ticket_ttl: Duration::from_millis(
                roster_domain::cas::DEFAULT_TICKET_TTL_MS.unsigned_abs(),
            ),
            test_mode: false,
        }
    }
}

/// The use cases, sharing one store. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<counted_store::CountedStore>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    tokens: auth::TokenCache,
    token_limits: throttle::TokenLimits,
    refusals: throttle::RefusedTokens,
    passwords: password::Hasher,
    sealer: Option<secrets::Sealer>,
    /// The key that signs id_tokens, as last read.
    signing_key: id_tokens::KeyCache,
    sign_in: sign_in::SignInState,
    oauth: oauth::OAuthState,
    user_api: user_api::UserApiState,
    /// The password policy as last read.
    password_policy: tenant_policy::PolicyCache<roster_domain::password_policy::PasswordPolicy>,
    /// The MFA policy as last read.
    mfa_policy: tenant_policy::PolicyCache<roster_domain::second_factor::MfaPolicy>,
    /// The tenant's name as last read (every page shows it).
    tenant_name: tenant_policy::PolicyCache<Option<String>>,
    /// The messages sent and how they are delivered.
    messages: messages::MessagesState,
    /// The back-channel logout deliverer.
    logout: logout::LogoutState,
    /// In test mode, the clock (also `clock`) that the control API moves.
    travel: Option<Arc<roster_domain::time::TravelClock>>,
}

impl Service {
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> roster_domain::Result<Self> {
        if settings.test_mode {
            let travel = Arc::new(roster_domain::time::TravelClock::default());
            return Self::build(store, settings, travel.clone(), Some(travel));
        }
        Self::with_clock(store, settings, Arc::new(SystemClock))
    }

    /// A service reading the time from `clock` (tests move a [`ManualClock`]).
    ///
    /// [`ManualClock`]: roster_domain::time::ManualClock
    pub fn with_clock(
        store: Arc<dyn Store>,
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> roster_domain::Result<Self> {
        Self::build(store, settings, clock, None)
    }

    fn build(
        store: Arc<dyn Store>,
        settings: Settings,
        clock: Arc<dyn Clock>,
        travel: Option<Arc<roster_domain::time::TravelClock>>,
    ) -> roster_domain::Result<Self> {
        Ok(Self {
            inner: Arc::new(Inner {
                tokens: auth::TokenCache::new(&settings),
                token_limits: throttle::TokenLimits::new(&settings),
                refusals: Default::default(),
                passwords: password::Hasher::new(&settings.argon2)?,
                sealer: settings.secret_key.as_ref().map(secrets::Sealer::new),
                signing_key: Default::default(),
                sign_in: sign_in::SignInState::new(&settings.sign_in, settings.secret_key.as_ref()),
                oauth: oauth::OAuthState::new(&settings),
                user_api: user_api::UserApiState::new(),
                password_policy: Default::default(),
                mfa_policy: Default::default(),
                tenant_name: Default::default(),
                messages: messages::MessagesState::new(&settings.messages)?,
                logout: logout::LogoutState::new()?,
                store: Arc::new(counted_store::CountedStore::new(store)),
                clock,
                settings,
                travel,
            }),
        })
    }

    /// The time now, by the service's clock.
    pub(crate) fn now(&self) -> Millis {
        self.inner.clock.now()
    }

    /// The service's clock, for use cases that read the time inside a transaction.
    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.inner.clock)
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// Connections of the store's pool, and how many are idle (PostgreSQL), for `/metrics`.
    pub fn pool_state(&self) -> Option<(u32, usize)> {
        self.store().pool_state()
    }

    /// The store's kind (`sqlite`, `postgres`), for `/health`.
    pub fn backend(&self) -> &'static str {
        self.store().backend()
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Seals a secret for storage (application-account passwords).
    fn seal(&self, plaintext: Option<String>) -> roster_domain::Result<Option<String>> {
        match (plaintext, &self.inner.sealer) {
            (None, _) => Ok(None),
            (Some(p), Some(sealer)) => sealer.seal(&p).map(Some),
            (Some(_), None) => Err(roster_domain::Error::internal(
                "no secret key is configured to seal account passwords",
            )),
        }
    }

    /// Whether the store answers reads, and takes writes, for `/health`. After a write failed
    /// for want of the database (a full disk), a probe write tells whether writes work again.
    pub async fn check_store(&self) -> roster_domain::Result<()> {
        // A probe answers within its own deadline, however long the database keeps it waiting
        // (a frozen server holds a connection far longer than a prober waits).
        match tokio::time::timeout(HEALTH_DEADLINE, self.check_store_now()).await {
            Ok(checked) => checked,
            Err(_) => Err(roster_domain::Error::with_detail(
                roster_domain::ErrorKind::Unavailable,
                format!(
                    "the database did not answer within {} ms",
                    HEALTH_DEADLINE.as_millis()
                ),
            )),
        }
    }

    async fn check_store_now(&self) -> roster_domain::Result<()> {
        self.store().ping().await?;
        if let Some(failure) = self.store().last_write_failure() {
            let probe = self
                .write(roster_domain::audit::SYSTEM_ACTOR, probe_write, ())
                .await;
            if let Err(e) = probe {
                return Err(roster_domain::Error::with_detail(
                    roster_domain::ErrorKind::WritesFailing,
                    format!(
                        "{failure}; probe: {}",
                        e.detail().unwrap_or(e.kind().message())
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// How long `/health` waits for the database.
const HEALTH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// A write that changes nothing anyone reads: whether writes work again.
async fn probe_write(tx: &mut dyn Tx, cx: &mut use_case::Cx, (): ()) -> roster_domain::Result<()> {
    tx.probe_write(cx.now).await
}
