//! Timestamps: stored as milliseconds since the Unix epoch, shown as the reference shows them.

use chrono::{DateTime, Utc};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub fn now_millis() -> Millis {
    Utc::now().timestamp_millis()
}

/// `yyyy-MM-dd HH:mm:ss.SSS` in UTC, the reference's response format.
pub fn format_millis(at: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(at)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_reference() {
        assert_eq!(format_millis(1_644_483_986_333), "2022-02-10 09:06:26.333");
    }
}
