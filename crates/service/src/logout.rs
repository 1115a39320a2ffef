//! One logout for everything: when a browser session ends by logout, each application it
//! signed in to is told — a CAS service by a back-channel `logoutRequest`, an OpenID Connect
//! application that registered a `backchannel_logout_uri` by a signed `logout_token` (OpenID
//! Connect Back-Channel Logout 1.0), a SAML service provider with a SOAP SingleLogoutService
//! by a signed `LogoutRequest` (SAML bindings §3.2) — and the OAuth grants it began end. The messages go
//! through an outbox in the store, written in the logout's transaction: delivered after it,
//! by one node, retried with backoff (1 s, doubling, 8 attempts), surviving a restart, each
//! outcome audited. A slow application never slows the logout.

use crate::use_case::Cx;
use crate::Service;
use roster_domain::application::Application;
use roster_domain::logout::{
    cas_logout_form, oidc_logout_form, LogoutDelivery, Participant, ParticipantKind,
    BACKCHANNEL_LOGOUT_EVENT, FORM, SOAP,
};
use roster_domain::message::{after_attempt, MessageStatus};
use roster_domain::sso::SsoSettings;
use roster_domain::time::Millis;
use roster_domain::user::User;
use roster_domain::{Error, Result};
use roster_store::prelude::*;
use std::collections::BTreeSet;
use std::time::Duration;

/// How long one delivery attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a node holds a delivery it is attempting before another node may.
const LEASE_MS: Millis = 60_000;
/// Deliveries one pass takes.
const BATCH: i64 = 50;
/// A logout token's lifetime (it is for immediate delivery).
const LOGOUT_TOKEN_SECS: i64 = 120;
/// Done deliveries are kept this long (visible in the audit log for longer).
const KEEP_MS: Millis = 7 * 86_400_000;

/// The deliverer's HTTP client and wake-up.
pub(crate) struct LogoutState {
    client: reqwest::Client,
    wake: tokio::sync::Notify,
}

impl LogoutState {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(ATTEMPT_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Error::internal(format!("the logout HTTP client: {e}")))?,
            wake: tokio::sync::Notify::new(),
        })
    }
}

/// What a session's logout does beyond ending the session.
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionLogout {
    pub sid: String,
    /// The OAuth grants the session began: their tokens end.
    pub grants: Vec<String>,
    /// The messages to the applications.
    pub deliveries: Vec<LogoutDelivery>,
}

/// The logout token's claims (Back-Channel Logout 1.0 §2.4): no `nonce`.
#[derive(serde::Serialize)]
struct LogoutTokenClaims {
    iss: String,
    aud: String,
    sub: String,
    sid: String,
    iat: i64,
    exp: i64,
    jti: String,
    events: serde_json::Value,
}

impl Service {
    /// What the logout of the session with cookie digest `digest` sends and ends (read, and
    /// the logout tokens signed, before the logout's transaction).
    /// `initiated_by`, the application that asked for the logout itself, is not told of it.
    pub(crate) async fn session_logout(
        &self,
        digest: &str,
        issuer: &str,
        initiated_by: Option<&roster_domain::application::ApplicationId>,
    ) -> Result<SessionLogout> {
        let sid = roster_domain::sign_in::sid_of(digest);
        let found = self.read(participants, sid.clone()).await?;
        let now = self.now();
        let mut logout = SessionLogout {
            sid: sid.clone(),
            ..SessionLogout::default()
        };
        let mut told = BTreeSet::new();
        for (p, app, settings, user) in found {
            let asked = initiated_by == Some(&app.id);
            match p.kind {
                ParticipantKind::Oidc => {
                    logout.grants.push(p.reference.clone());
                    let Some(uri) = settings.and_then(|s| s.backchannel_logout_uri) else {
                        continue;
                    };
                    if asked {
                        continue;
                    }
                    // One token per application, however many grants it holds.
                    if !told.insert(app.id.clone()) {
                        continue;
                    }
                    let claims = LogoutTokenClaims {
                        iss: issuer.to_owned(),
                        aud: app.client_id.clone(),
                        sub: p.user_id.as_str().to_owned(),
                        sid: sid.clone(),
                        iat: now.div_euclid(1000),
                        exp: now.div_euclid(1000) + LOGOUT_TOKEN_SECS,
                        jti: roster_domain::secret::generate_client_id(),
                        events: serde_json::json!({ BACKCHANNEL_LOGOUT_EVENT: {} }),
                    };
                    let alg = roster_domain::sso::IdTokenAlg::RS256;
                    let token = self.sign_jwt(alg, Some("logout+jwt"), claims).await?;
                    let body = oidc_logout_form(&token);
                    logout.deliveries.push(delivery(&app, uri, body, FORM, now));
                }
                ParticipantKind::Cas if asked => {}
                ParticipantKind::Cas => {
                    let user_name = user.map(|u| u.user_name).unwrap_or_default();
                    let id = format!("LR-{}", roster_domain::secret::generate_client_id());
                    let body = cas_logout_form(&p.reference, &user_name, &id, now);
                    logout
                        .deliveries
                        .push(delivery(&app, p.url.clone(), body, FORM, now));
                }
                ParticipantKind::Saml if asked => {}
                ParticipantKind::Saml => {
                    // One LogoutRequest per application and NameID.
                    if !told.insert(app.id.clone()) {
                        continue;
                    }
                    let Some(saml) = settings.and_then(|s| s.saml) else {
                        continue;
                    };
                    let Some(url) = saml.soap_logout_url.clone() else {
                        continue;
                    };
                    let body = self
                        .saml_soap_logout_request(&saml, &url, &p.reference, &sid, issuer)
                        .await?;
                    logout.deliveries.push(delivery(&app, url, body, SOAP, now));
                }
            }
        }
        Ok(logout)
    }

    /// After a logout's commit: the deliverer is woken.
    pub(crate) fn logout_stored(&self) {
        self.inner.logout.wake.notify_one();
    }

    /// Waits until a logout is stored on this node, or `at_most`.
    pub async fn wait_for_logouts(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.inner.logout.wake.notified()).await;
    }

    /// One pass of the deliverer: every delivery due is posted once (taken first, so that
    /// no other node posts it at the same time) and its outcome recorded and audited
    /// (`BackchannelLogout`; `BackchannelLogoutFailed` once given up). Says how many attempts
    /// were made.
    pub async fn deliver_due_logouts(&self) -> Result<usize> {
        let due = self.read(read_due, (self.now(), BATCH)).await?;
        let mut attempts = 0;
        for delivery in due {
            let lease_until = self.now().saturating_add(LEASE_MS);
            let claimed = self
                .write(
                    roster_domain::audit::SYSTEM_ACTOR,
                    claim,
                    (delivery.clone(), lease_until),
                )
                .await?;
            if !claimed {
                continue;
            }
            attempts += 1;
            let outcome = post(&self.inner.logout.client, &delivery).await;
            let state = after_attempt(delivery.attempts, outcome, self.now());
            let done = LogoutDelivery {
                status: state.status,
                attempts: state.attempts,
                next_attempt_at: state.next_attempt_at,
                last_error: state.last_error,
                delivered_at: state.delivered_at,
                ..delivery
            };
            self.write(roster_domain::audit::SYSTEM_ACTOR, record, done)
                .await?;
        }
        Ok(attempts)
    }

    /// When finished deliveries stop being kept.
    pub(crate) fn logout_deliveries_done_before(&self) -> Millis {
        self.now().saturating_sub(KEEP_MS)
    }
}

fn delivery(
    app: &Application,
    url: String,
    body: String,
    content_type: &str,
    now: Millis,
) -> LogoutDelivery {
    LogoutDelivery {
        id: roster_domain::id::new_id(now),
        created_at: now,
        application_id: app.id.clone(),
        url,
        body,
        content_type: content_type.to_owned(),
        status: MessageStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(now),
        last_error: None,
        delivered_at: None,
    }
}

/// Posts one delivery; the error says why it was not delivered.
async fn post(
    client: &reqwest::Client,
    delivery: &LogoutDelivery,
) -> std::result::Result<(), String> {
    let mut request = client
        .post(&delivery.url)
        .header("content-type", delivery.content_type.as_str());
    if delivery.content_type == SOAP {
        // SAML bindings §3.2.2.3.
        request = request.header(
            "soapaction",
            "http://www.oasis-open.org/committees/security",
        );
    }
    let answer = request
        .body(delivery.body.clone())
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the application answered {status}"))
    }
}

/// What a logout ends and sends, in the logout's transaction.
pub(crate) async fn apply(tx: &mut dyn Tx, logout: &SessionLogout) -> Result<()> {
    for grant in &logout.grants {
        tx.revoke_grant(grant).await?;
    }
    tx.delete_participants(&logout.sid).await?;
    for delivery in &logout.deliveries {
        tx.insert_logout_delivery(delivery).await?;
    }
    Ok(())
}

type Found = (Participant, Application, Option<SsoSettings>, Option<User>);

async fn participants(tx: &mut dyn Tx, sid: String) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    for p in tx.participants(&sid).await? {
        let Some(app) = tx.application(&p.application_id).await? else {
            continue;
        };
        let settings = tx.sso_settings(&app.id).await?;
        let user = tx.user(&p.user_id).await?;
        found.push((p, app, settings, user));
    }
    Ok(found)
}

async fn read_due(tx: &mut dyn Tx, (now, limit): (Millis, i64)) -> Result<Vec<LogoutDelivery>> {
    tx.due_logout_deliveries(now, limit).await
}

async fn claim(
    tx: &mut dyn Tx,
    _cx: &mut Cx,
    (delivery, until): (LogoutDelivery, Millis),
) -> Result<bool> {
    tx.claim_logout_delivery(&delivery, until).await
}

async fn record(tx: &mut dyn Tx, cx: &mut Cx, delivery: LogoutDelivery) -> Result<()> {
    tx.record_logout_delivery(&delivery).await?;
    match delivery.status {
        MessageStatus::Delivered => {
            cx.audit(
                "BackchannelLogout",
                "application",
                delivery.application_id.as_str(),
            );
        }
        MessageStatus::Failed => {
            cx.audit(
                "BackchannelLogoutFailed",
                "application",
                delivery.application_id.as_str(),
            );
        }
        MessageStatus::Pending | MessageStatus::Kept => {}
    }
    Ok(())
}
