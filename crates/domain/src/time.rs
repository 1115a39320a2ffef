//! Timestamps: stored as milliseconds since the Unix epoch, shown as the reference shows them.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub fn now_millis() -> Millis {
    Utc::now().timestamp_millis()
}

/// Where the use cases read the time: the system clock in a server, a clock a test moves
/// (token expiry, retention) so that no test sleeps.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Millis;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        now_millis()
    }
}

/// A clock that stands still until moved: for tests.
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn at(now: Millis) -> Self {
        Self(std::sync::atomic::AtomicI64::new(now))
    }

    /// Moves the clock on by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(by, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The system's clock, moved forward by what a test asked (`roster serve --test-mode`): time
/// travel for tokens, codes, tickets, locks and retention; back to real time on request.
#[derive(Debug, Default)]
pub struct TravelClock {
    offset: std::sync::atomic::AtomicI64,
}

impl TravelClock {
    /// Moves the clock forward by `millis` more; says how far ahead of real time it now is.
    pub fn advance(&self, millis: i64) -> Millis {
        let before = self
            .offset
            .fetch_add(millis, std::sync::atomic::Ordering::SeqCst);
        before.saturating_add(millis)
    }

    /// Back to the real time.
    pub fn real_time(&self) {
        self.offset.store(0, std::sync::atomic::Ordering::SeqCst);
    }

    /// How far ahead of real time the clock is.
    pub fn offset(&self) -> Millis {
        self.offset.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Clock for TravelClock {
    fn now(&self) -> Millis {
        now_millis().saturating_add(self.offset())
    }
}

/// RFC 3339 in UTC with milliseconds: `2026-12-05T20:00:00.123Z` (CAS 3.0's
/// `authenticationDate`).
pub fn rfc3339(at: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(at)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An RFC 3339 / xs:dateTime instant with its offset (SAML's `IssueInstant`).
pub fn parse_rfc3339(text: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// `yyyy-MM-dd HH:mm:ss.SSS` in UTC, the reference's response format.
pub fn format_millis(at: Millis) -> String {
    // Field by field: every answer formats several times, and a `format` pattern is parsed
    // again at each use.
    let t = DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_millis()
    )
}

/// Reads a time as milliseconds since the epoch, `yyyy-MM-dd HH:mm:ss[.SSS]` (UTC) or
/// RFC 3339.
pub fn parse(text: &str) -> Option<Millis> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Some(ms);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]
        .iter()
        .find_map(|f| {
            chrono::NaiveDateTime::parse_from_str(text, f)
                .ok()
                .or_else(|| {
                    chrono::NaiveDate::parse_from_str(text, f)
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                })
        })
        .map(|t| t.and_utc().timestamp_millis())
}

/// Reads a time as the API writes it, `yyyy-MM-dd HH:mm:ss.SSS` (UTC; the milliseconds may be
/// left off), or as epoch milliseconds: the two forms sync code sends in `updated_at_greater`.
pub fn parse_api_time(text: &str) -> Option<Millis> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok();
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_reference() {
        assert_eq!(format_millis(1_644_483_986_333), "2022-02-10 09:06:26.333");
        assert_eq!(parse("2022-02-10 09:06:26.333"), Some(1_644_483_986_333));
        assert_eq!(parse("2022-02-10T09:06:26.333Z"), Some(1_644_483_986_333));
        assert_eq!(parse("1644483986333"), Some(1_644_483_986_333));
        assert_eq!(parse("2022-02-10"), Some(1_644_451_200_000));
        assert_eq!(parse("yesterday"), None);
    }

    #[test]
    fn api_times_for_sync() {
        assert_eq!(
            parse_api_time("2022-02-10 09:06:26.333"),
            Some(1_644_483_986_333)
        );
        assert_eq!(
            parse_api_time("2022-02-10 09:06:26"),
            Some(1_644_483_986_000)
        );
        assert_eq!(parse_api_time("1644483986333"), Some(1_644_483_986_333));
        for bad in [
            "",
            "-5",
            "2022-02-10",
            "2022-13-10 09:06:26.333",
            "10/02/2022",
            "1e9",
        ] {
            assert_eq!(parse_api_time(bad), None, "{bad}");
        }
    }
}
