//! The user APIs (OneAccess's 用户类接口): native and server-side sign-in without a browser.
//! `login` checks the password (the same check and lock as the login page) and begins a
//! session token, or hands out a state token when a step is left (`steps`: a password
//! change; `mfa`: the SMS code of the MFA policy, and recovery by code); `signature` keeps each application's RSA key and reads the `X-signature` of
//! session calls (`calls`: logout, profile, a new id_token); `tickets` trades a session
//! token for one-time SSO tickets, server to server. Who may sign in comes from
//! `crate::sign_in`, as for every protocol.

mod calls;
mod login;
mod mfa;
mod signature;
mod steps;
mod tickets;

pub use login::LoginAnswer;
pub use tickets::{TicketRequest, TicketUser};

use crate::Service;
use roster_domain::application::{Application, ApplicationId};
use roster_domain::user::User;
use roster_domain::user_api::{ErrorStyle, Refusal};
use roster_domain::{Error, Result};
use serde::Serialize;
use std::net::IpAddr;
use std::time::Duration;

/// Tunables of the user APIs.
#[derive(Debug, Clone)]
pub struct UserApiSettings {
    /// How refusals are worded: OneAccess's codes or Bamboo Cloud's.
    pub error_style: ErrorStyle,
    /// A session token's lifetime (the login's `expire`).
    pub session_ttl: Duration,
    /// An id_token's lifetime.
    pub id_token_ttl: Duration,
    /// How far an `X-signature`'s timestamp may be from the server's time, either way.
    pub signature_window: Duration,
    /// An SSO ticket's lifetime.
    pub ticket_ttl: Duration,
    /// How long a state token waits for its step.
    pub state_token_ttl: Duration,
}

impl Default for UserApiSettings {
    fn default() -> Self {
        Self {
            error_style: ErrorStyle::OneAccess,
            // The reference's example login answers `"expire": 604800`.
            session_ttl: Duration::from_secs(7 * 86_400),
            // "默认2小时有效" (two hours by default).
            id_token_ttl: Duration::from_secs(2 * 3600),
            signature_window: Duration::from_secs(300),
            // Bamboo Cloud's example answers `"expire": 300`.
            ticket_ttl: Duration::from_secs(300),
            state_token_ttl: Duration::from_secs(600),
        }
    }
}

/// The common headers of a user-API call, as received (only their presence is checked).
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a> {
    pub client_id: Option<&'a str>,
    pub device_fingerprint: Option<&'a str>,
    pub operating_sys_version: Option<&'a str>,
    pub agent: Option<&'a str>,
    pub source: IpAddr,
}

/// A checked call: the application of `X-client-id` and the calling device.
pub(crate) struct Caller {
    pub app: Application,
    pub device_fingerprint: String,
    pub source: IpAddr,
}

/// What the user APIs keep in memory on each node: each application's opened private key
/// (a key never changes once made, so nothing has to be heard to keep it).
pub(crate) struct UserApiState {
    keys: moka::sync::Cache<
        ApplicationId,
        std::sync::Arc<openssl::pkey::PKey<openssl::pkey::Private>>,
    >,
}

impl UserApiState {
    pub(crate) fn new() -> Self {
        Self {
            keys: moka::sync::Cache::builder().max_capacity(10_000).build(),
        }
    }
}

/// The user object of the user APIs' id_token (`api`, a JSON string) and of a redeemed
/// ticket, named as the reference names them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiUser {
    pub id: String,
    pub user_name: String,
    pub name: String,
    pub mobile: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl ApiUser {
    pub fn of(user: &User) -> Self {
        Self {
            id: user.id.as_str().to_owned(),
            user_name: user.user_name.clone(),
            name: user.name.clone(),
            mobile: user.mobile.clone(),
            email: user.email.clone(),
        }
    }
}

impl Service {
    /// The server's time (`GET /api/v2/sdk/server-date`), in milliseconds since the epoch.
    pub fn server_time(&self) -> roster_domain::time::Millis {
        self.now()
    }

    pub(crate) fn user_api_settings(&self) -> &UserApiSettings {
        &self.inner.settings.user_api
    }

    /// The refusal, worded in the configured style.
    pub(crate) fn refuse(&self, refusal: Refusal) -> Error {
        refusal.error(self.user_api_settings().error_style)
    }

    /// Checks the common headers and reads the `X-client-id`'s application.
    pub(crate) async fn user_api_caller(&self, headers: &Headers<'_>) -> Result<Caller> {
        for (name, value) in [
            ("X-device-fingerprint", headers.device_fingerprint),
            ("X-operating-sys-version", headers.operating_sys_version),
            ("X-agent", headers.agent),
        ] {
            if present(value).is_none() {
                return Err(self.refuse(Refusal::DeviceIncomplete(name)));
            }
        }
        let client_id = present(headers.client_id)
            .ok_or_else(|| self.refuse(Refusal::Required("X-client-id")))?;
        let app = self
            .application_by_client_id(client_id)
            .await?
            .ok_or_else(|| self.refuse(Refusal::UnknownClient))?;
        if app.disabled {
            return Err(self.refuse(Refusal::ApplicationDisabled));
        }
        Ok(Caller {
            app,
            device_fingerprint: present(headers.device_fingerprint)
                .unwrap_or_default()
                .chars()
                .take(MAX_HEADER_CHARS)
                .collect(),
            source: headers.source,
        })
    }

    /// Signs the user APIs' id_token for `user` in `app`: RS256 with the active key, the
    /// user object as the JSON string `api` (as real clients read it).
    pub(crate) async fn user_api_id_token(
        &self,
        app: &Application,
        user: &User,
        issuer: &str,
    ) -> Result<String> {
        let now = self.now();
        let iat = now.div_euclid(1000);
        let api = serde_json::to_string(&ApiUser::of(user))
            .map_err(|e| Error::internal(format!("the id_token's user: {e}")))?;
        let claims = IdTokenClaims {
            iss: issuer.to_owned(),
            aud: app.client_id.clone(),
            sub: user.id.as_str().to_owned(),
            iat,
            // Two minutes back, for clients whose clocks run behind.
            nbf: iat - 120,
            exp: iat + seconds(self.user_api_settings().id_token_ttl),
            jti: roster_domain::secret::generate_client_id(),
            api,
        };
        self.sign_id_token(roster_domain::sso::IdTokenAlg::RS256, claims)
            .await
    }
}

/// The claims of the user APIs' id_token.
#[derive(Debug, Serialize)]
struct IdTokenClaims {
    iss: String,
    aud: String,
    sub: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: String,
    api: String,
}

/// The value, unless absent or blank.
pub(super) fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// Longest header value kept (a device fingerprint).
const MAX_HEADER_CHARS: usize = 256;

fn seconds(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
