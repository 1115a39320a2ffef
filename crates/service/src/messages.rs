//! Messages Roster sends people (SMS codes). Roster reaches no carrier: a sender takes each
//! message. `log` keeps it in the store, to be read back with `roster messages list` or
//! `GET /roster/v1/messages` (a development mailbox, what test suites read codes from);
//! `webhook` posts it as JSON to the organization's own gateway, signed with HMAC-SHA256,
//! and retries with backoff, recording each attempt. A message is stored in the transaction
//! that made its code; delivery follows the commit, so nothing is sent for a change undone.

use crate::use_case::Cx;
use crate::{Caller, Service};
use hmac::{Hmac, Mac};
use roster_domain::message::{Message, MessageStatus, SenderKind};
use roster_domain::permission::Access;
use roster_domain::second_factor::{code_key, CodePurpose};
use roster_domain::time::Millis;
use roster_domain::{Error, Result};
use roster_store::prelude::*;
use sha2::Sha256;
use std::net::IpAddr;
use std::time::Duration;

/// Where messages go.
#[derive(Clone, Default)]
pub enum Sender {
    /// Kept in the store.
    #[default]
    Log,
    /// Posted to `url`, the body signed with `secret`.
    Webhook { url: url::Url, secret: String },
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Log => f.write_str("Log"),
            Self::Webhook { url, .. } => write!(f, "Webhook({url}, secret ***)"),
        }
    }
}

/// Where messages go, and how long they are kept.
#[derive(Debug, Clone)]
pub struct MessagesSettings {
    pub sender: Sender,
    /// Messages older than this are deleted with the expired tokens.
    pub keep: Duration,
}

impl Default for MessagesSettings {
    fn default() -> Self {
        Self {
            sender: Sender::Log,
            keep: Duration::from_secs(7 * 86_400),
        }
    }
}

/// The header that carries the body's signature: `sha256=` and the hex HMAC-SHA256 of the
/// body under the webhook's secret.
pub const SIGNATURE_HEADER: &str = "X-Roster-Signature";
/// How long one delivery attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a node holds a message it is delivering before another node may try it.
const LEASE_MS: Millis = 60_000;
/// Messages one pass of the deliverer takes.
const BATCH: i64 = 50;
/// Most messages one listing shows.
const MAX_LISTED: i64 = 1000;

/// What the senders keep in memory: the webhook's client, and a wake-up for the deliverer.
pub(crate) struct MessagesState {
    client: Option<reqwest::Client>,
    wake: tokio::sync::Notify,
}

impl MessagesState {
    pub(crate) fn new(settings: &MessagesSettings) -> Result<Self> {
        let client = match settings.sender {
            Sender::Log => None,
            Sender::Webhook { .. } => Some(
                reqwest::Client::builder()
                    .timeout(ATTEMPT_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| Error::internal(format!("the webhook's HTTP client: {e}")))?,
            ),
        };
        Ok(Self {
            client,
            wake: tokio::sync::Notify::new(),
        })
    }
}

/// The webhook's JSON body.
#[derive(serde::Serialize)]
struct WebhookBody<'a> {
    id: &'a str,
    channel: &'a str,
    to: &'a str,
    purpose: &'a str,
    text: &'a str,
    created_at: Millis,
    attempt: i64,
}

impl Service {
    /// `GET /roster/v1/messages`: the newest messages first, to one number if given.
    pub async fn list_messages(
        &self,
        caller: &Caller,
        mobile: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Vec<Message>> {
        caller.require(Access::AdminRead)?;
        self.messages(mobile, limit).await
    }

    /// The newest messages first (`roster messages list`).
    pub async fn messages(&self, mobile: Option<&str>, limit: Option<i64>) -> Result<Vec<Message>> {
        let limit = limit.unwrap_or(100);
        if !(1..=MAX_LISTED).contains(&limit) {
            return Err(Error::invalid(format!(
                "limit must be between 1 and {MAX_LISTED}."
            )));
        }
        let key = match mobile.map(str::trim).filter(|m| !m.is_empty()) {
            Some(m) => {
                Some(code_key(m).ok_or_else(|| Error::invalid("mobile is not a phone number."))?)
            }
            None => None,
        };
        self.read(read_messages, (key, limit)).await
    }

    /// A message to `to` from the configured sender, to be stored with its code.
    pub(crate) fn compose(
        &self,
        to: &str,
        purpose: CodePurpose,
        text: String,
        source: IpAddr,
    ) -> Message {
        let now = self.now();
        let (sender, status, next_attempt_at) = match self.inner.settings.messages.sender {
            Sender::Log => (SenderKind::Log, MessageStatus::Kept, None),
            Sender::Webhook { .. } => (SenderKind::Webhook, MessageStatus::Pending, Some(now)),
        };
        Message {
            id: roster_domain::id::new_id(now),
            created_at: now,
            channel: "sms".to_owned(),
            to: to.to_owned(),
            purpose: purpose.as_str().to_owned(),
            text,
            sender,
            requested_from: source.to_string(),
            status,
            attempts: 0,
            next_attempt_at,
            last_error: None,
            delivered_at: None,
        }
    }

    /// After the commit that stored `message`: the log sender writes it to the log; the
    /// webhook's deliverer is woken.
    pub(crate) fn message_stored(&self, message: &Message) {
        match message.sender {
            SenderKind::Log => tracing::info!(
                to = %message.to,
                purpose = %message.purpose,
                text = %message.text,
                "message kept by the log sender"
            ),
            SenderKind::Webhook => self.inner.messages.wake.notify_one(),
        }
    }

    /// Whether messages are posted to a webhook (and so need the deliverer running).
    pub fn delivers_messages(&self) -> bool {
        self.inner.messages.client.is_some()
    }

    /// Waits until a message is stored on this node, or `at_most`.
    pub async fn wait_for_messages(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.inner.messages.wake.notified()).await;
    }

    /// One pass of the webhook's deliverer: every message due an attempt is posted once
    /// (taken first, so that no other node posts it at the same time) and the outcome
    /// recorded: delivered on a 2xx answer, else retried after a backoff that doubles from a
    /// second, given up after [`MAX_ATTEMPTS`]. Says how many attempts were made.
    pub async fn deliver_due_messages(&self) -> Result<usize> {
        let (Some(client), Sender::Webhook { url, secret }) = (
            self.inner.messages.client.as_ref(),
            &self.inner.settings.messages.sender,
        ) else {
            return Ok(0);
        };
        let due = self.read(read_due, (self.now(), BATCH)).await?;
        let mut attempts = 0;
        for message in due {
            let lease_until = self.now().saturating_add(LEASE_MS);
            let claimed = self
                .write(
                    roster_domain::audit::SYSTEM_ACTOR,
                    claim,
                    (message.clone(), lease_until),
                )
                .await?;
            if !claimed {
                continue;
            }
            attempts += 1;
            let outcome = post(client, url, secret, &message).await;
            let recorded = after_attempt(message, outcome, self.now());
            if recorded.status == MessageStatus::Failed {
                tracing::warn!(
                    id = %recorded.id,
                    error = recorded.last_error.as_deref().unwrap_or_default(),
                    "gave up delivering a message"
                );
            }
            self.write(roster_domain::audit::SYSTEM_ACTOR, record, recorded)
                .await?;
        }
        Ok(attempts)
    }
}

/// Posts one message; the error says why it was not delivered.
async fn post(
    client: &reqwest::Client,
    url: &url::Url,
    secret: &str,
    message: &Message,
) -> std::result::Result<(), String> {
    let body = serde_json::to_vec(&WebhookBody {
        id: &message.id,
        channel: &message.channel,
        to: &message.to,
        purpose: &message.purpose,
        text: &message.text,
        created_at: message.created_at,
        attempt: message.attempts + 1,
    })
    .map_err(|e| format!("the body: {e}"))?;
    let signature = sign(secret, &body);
    let answer = client
        .post(url.clone())
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, format!("sha256={signature}"))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {status}"))
    }
}

/// The hex HMAC-SHA256 of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // A key of any length is accepted by HMAC.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The message after an attempt ended with `outcome` at `now`.
fn after_attempt(
    mut message: Message,
    outcome: std::result::Result<(), String>,
    now: Millis,
) -> Message {
    let state = roster_domain::message::after_attempt(message.attempts, outcome, now);
    message.status = state.status;
    message.attempts = state.attempts;
    message.next_attempt_at = state.next_attempt_at;
    message.last_error = state.last_error;
    message.delivered_at = state.delivered_at;
    message
}

async fn read_messages(
    tx: &mut dyn Tx,
    (key, limit): (Option<String>, i64),
) -> Result<Vec<Message>> {
    tx.messages(key.as_deref(), limit).await
}

async fn read_due(tx: &mut dyn Tx, (now, limit): (Millis, i64)) -> Result<Vec<Message>> {
    tx.due_messages(now, limit).await
}

async fn claim(tx: &mut dyn Tx, _cx: &mut Cx, (message, until): (Message, Millis)) -> Result<bool> {
    tx.claim_message(&message, until).await
}

async fn record(tx: &mut dyn Tx, _cx: &mut Cx, message: Message) -> Result<()> {
    tx.record_delivery(&message).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_domain::message::{retry_after_ms, MAX_ATTEMPTS};

    fn pending() -> Message {
        Message {
            id: "m".into(),
            created_at: 0,
            channel: "sms".into(),
            to: "13800000000".into(),
            purpose: "second_factor".into(),
            text: "t".into(),
            sender: SenderKind::Webhook,
            requested_from: "127.0.0.1".into(),
            status: MessageStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(0),
            last_error: None,
            delivered_at: None,
        }
    }

    #[test]
    fn failed_attempts_back_off_then_give_up() {
        let mut m = pending();
        for n in 1..MAX_ATTEMPTS {
            m = after_attempt(m, Err("503".into()), 1000);
            assert_eq!(m.status, MessageStatus::Pending);
            assert_eq!(m.next_attempt_at, Some(1000 + retry_after_ms(n)));
        }
        m = after_attempt(m, Err("503".into()), 1000);
        assert_eq!(
            (m.status, m.attempts),
            (MessageStatus::Failed, MAX_ATTEMPTS)
        );
        assert_eq!(m.last_error.as_deref(), Some("503"));
    }

    #[test]
    fn a_delivery_is_recorded() {
        let m = after_attempt(pending(), Ok(()), 5);
        assert_eq!(m.status, MessageStatus::Delivered);
        assert_eq!((m.attempts, m.delivered_at), (1, Some(5)));
    }

    #[test]
    fn the_signature_is_the_hex_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
