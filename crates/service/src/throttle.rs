//! What keeps the token endpoint from being flooded: rate limits that a guesser cannot turn
//! against the client it guesses at, and refused attempts counted in memory and audited as one
//! record per client id, address and reason per interval (not one row per attempt).

use crate::Settings;
use roster_domain::application::MAX_CLIENT_ID_CHARS;
use roster_domain::audit::AuditRecord;
use roster_domain::time::{now_millis, Millis};
use roster_domain::{ErrorKind, Result};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

type KeyedLimiter<K> = governor::DefaultKeyedRateLimiter<K>;

/// The refusal of a request over `limit`, counted for `/metrics`.
fn limited(limit: &'static str) -> roster_domain::Error {
    metrics::counter!("roster_rate_limited_total", "limit" => limit).increment(1);
    ErrorKind::TooManyTokenRequests.into()
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_second: u32) -> Option<KeyedLimiter<K>> {
    let rate = std::num::NonZeroU32::new(per_second)?;
    let burst = std::num::NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(rate);
    Some(governor::RateLimiter::keyed(
        governor::Quota::per_second(rate).allow_burst(burst),
    ))
}

/// Forgets a limiter's idle keys (the keyed maps stay bounded).
fn forget_idle<K: std::hash::Hash + Eq + Clone>(limiter: &Option<KeyedLimiter<K>>) {
    if let Some(l) = limiter {
        l.retain_recent();
        l.shrink_to_fit();
    }
}

/// Token request limits. Every attempt counts against its source address and against its
/// (client id, address) pair; only issued tokens count against the client id alone, so
/// attempts from elsewhere without the secret leave the client's own budget whole. The keyed
/// maps are bounded by forgetting idle keys (`forget_idle`, run with the token purge).
pub(crate) struct TokenLimits {
    per_address: Option<KeyedLimiter<IpAddr>>,
    per_client_address: Option<KeyedLimiter<(String, Option<IpAddr>)>>,
    issued_per_client: Option<KeyedLimiter<String>>,
}

impl TokenLimits {
    pub fn new(settings: &Settings) -> Self {
        Self {
            per_address: limiter(settings.token_rate_per_address),
            per_client_address: limiter(settings.token_rate_per_client),
            issued_per_client: limiter(settings.token_rate_per_client),
        }
    }

    /// Before anything is looked up: the address's and the (client id, address)'s budgets.
    pub fn check_attempt(&self, client_id: &str, source: Option<IpAddr>) -> Result<()> {
        if let (Some(l), Some(ip)) = (&self.per_address, source) {
            l.check_key(&ip).map_err(|_| limited("address"))?;
        }
        if let Some(l) = &self.per_client_address {
            // Over-long ids are refused unread; they key nothing.
            if client_id.len() <= MAX_CLIENT_ID_CHARS {
                l.check_key(&(client_id.to_owned(), source))
                    .map_err(|_| limited("client_address"))?;
            }
        }
        Ok(())
    }

    /// After the credentials proved right: the client's budget of issued tokens.
    pub fn check_issue(&self, client_id: &str) -> Result<()> {
        match &self.issued_per_client {
            Some(l) => l
                .check_key(&client_id.to_owned())
                .map_err(|_| limited("client")),
            None => Ok(()),
        }
    }

    pub fn forget_idle(&self) {
        forget_idle(&self.per_address);
        forget_idle(&self.per_client_address);
        forget_idle(&self.issued_per_client);
    }
}

/// The limits of signing in: password checks (the login page, the password grant) per
/// source address, and authorization requests per session (each writes a code), both at the
/// configured rate.
pub(crate) struct SignInLimits {
    per_address: Option<KeyedLimiter<IpAddr>>,
    per_session: Option<KeyedLimiter<String>>,
}

impl SignInLimits {
    pub fn new(per_second: u32) -> Self {
        Self {
            per_address: limiter(per_second),
            per_session: limiter(per_second),
        }
    }

    pub fn check(&self, source: IpAddr) -> Result<()> {
        match &self.per_address {
            Some(l) => l.check_key(&source).map_err(|_| {
                metrics::counter!("roster_rate_limited_total", "limit" => "sign_in_address")
                    .increment(1);
                ErrorKind::TooManySignIns.into()
            }),
            None => Ok(()),
        }
    }

    /// An authorization request of the session stored under `digest`.
    pub fn check_session(&self, digest: &str) -> Result<()> {
        match &self.per_session {
            Some(l) => l.check_key(&digest.to_owned()).map_err(|_| {
                metrics::counter!("roster_rate_limited_total", "limit" => "sign_in_session")
                    .increment(1);
                ErrorKind::TooManySignIns.into()
            }),
            None => Ok(()),
        }
    }

    pub fn forget_idle(&self) {
        forget_idle(&self.per_address);
        forget_idle(&self.per_session);
    }
}

/// Audit records summed until the next flush: one record per operation, actor, reason and
/// target per interval, with its count (when the first came, how many), so that a request
/// repeated adds a count, not a row. Beyond [`MAX_KEYS`] keys, new ones are counted together
/// per address (actor `*@address`, target `*`), so memory stays bounded under random input.
/// Sign-in events and refused token requests are summed this way.
#[derive(Default)]
pub(crate) struct SummedAudit(Mutex<HashMap<EventKey, (Millis, i64)>>);

type EventKey = (&'static str, String, &'static str, String);

impl SummedAudit {
    pub fn count(&self, record: AuditRecord) {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut key = (
            record.operation,
            record.actor,
            record.target_type,
            record.target_id,
        );
        if counts.len() >= MAX_KEYS && !counts.contains_key(&key) {
            key.1 = match key.1.rsplit_once('@') {
                Some((_, address)) => format!("*@{address}"),
                None => "*".to_owned(),
            };
            key.3 = "*".to_owned();
        }
        counts.entry(key).or_insert((record.at, 0)).1 += record.count;
    }

    /// The summed records, emptied.
    pub fn take(&self) -> Vec<AuditRecord> {
        let counts = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        counts
            .into_iter()
            .map(
                |((operation, actor, target_type, target_id), (at, count))| AuditRecord {
                    at,
                    actor,
                    operation,
                    target_type,
                    target_id,
                    count,
                },
            )
            .collect()
    }
}

/// Most distinct keys summed between two flushes.
const MAX_KEYS: usize = 10_000;
/// Longest client id kept in a record.
const MAX_CLIENT_CHARS: usize = 128;

/// Refused token requests since the last flush, summed per client id, address and reason.
#[derive(Default)]
pub(crate) struct RefusedTokens(SummedAudit);

impl RefusedTokens {
    /// Counts a refusal of `client` (none: a client id no application has, counted with the
    /// address's other unknown ids under `*`, so that random ids add no rows): actor
    /// `client@address`, operation `TokenRefused`, the reason's code as target type, the client
    /// id as target.
    pub fn count(&self, client: Option<&str>, source: Option<IpAddr>, why: ErrorKind) {
        let client: String = client
            .unwrap_or("*")
            .chars()
            .take(MAX_CLIENT_CHARS)
            .collect();
        self.0.count(AuditRecord {
            at: now_millis(),
            actor: match source {
                Some(ip) => format!("{client}@{ip}"),
                None => client.clone(),
            },
            operation: "TokenRefused",
            target_type: why.code(),
            target_id: client,
            count: 1,
        });
    }

    pub fn take(&self) -> Vec<AuditRecord> {
        self.0.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_counted_per_client_address_and_reason() {
        let refused = RefusedTokens::default();
        let ip: Option<IpAddr> = Some("127.0.0.2".parse().unwrap());
        for _ in 0..5 {
            refused.count(Some("app"), ip, ErrorKind::InvalidClient);
        }
        refused.count(Some("app"), None, ErrorKind::InvalidClient);
        refused.count(Some("app"), ip, ErrorKind::ApplicationDisabled);
        let mut records = refused.take();
        records.sort_by_key(|r| (r.actor.clone(), r.target_type));
        let summary: Vec<_> = records
            .iter()
            .map(|r| (r.actor.as_str(), r.target_type, r.count))
            .collect();
        assert_eq!(
            summary,
            [
                ("app", "TOKEN.0002", 1),
                ("app@127.0.0.2", "APP.0003", 1),
                ("app@127.0.0.2", "TOKEN.0002", 5)
            ]
        );
        assert!(refused.take().is_empty(), "taken once");
        // Ids no application has: one record per address, whatever they were.
        for _ in 0..50 {
            refused.count(None, ip, ErrorKind::InvalidClient);
        }
        let records = refused.take();
        assert_eq!(records.len(), 1);
        assert_eq!(
            (records[0].actor.as_str(), records[0].count),
            ("*@127.0.0.2", 50)
        );
    }

    #[test]
    fn memory_stays_bounded_under_random_client_ids() {
        let refused = RefusedTokens::default();
        let ip: Option<IpAddr> = Some("127.0.0.3".parse().unwrap());
        for n in 0..(MAX_KEYS + 500) {
            refused.count(Some(&format!("guess-{n}")), ip, ErrorKind::InvalidClient);
        }
        let records = refused.take();
        assert_eq!(records.len(), MAX_KEYS + 1);
        let pooled = records.iter().find(|r| r.target_id == "*").map(|r| r.count);
        assert_eq!(pooled, Some(500));
    }
}
