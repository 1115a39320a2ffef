//! Test mode (`roster serve --test-mode`, a Roster extension): what a test suite may ask of a
//! stand-in server through `/roster/v1/test/` — snapshots of the whole directory, the clock
//! moved, faults injected, the requests it received. The rules here are pure; the state lives
//! in the service (snapshots, clock) and in the HTTP layer (faults, journal).

use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

/// The snapshot taken at start before the fixtures are applied: what "reset to empty" means.
pub const EMPTY_SNAPSHOT: &str = "empty";
/// The snapshot taken at start once the fixtures are applied: what a reset goes back to.
pub const FIXTURES_SNAPSHOT: &str = "fixtures";

/// Longest snapshot name.
pub const MAX_SNAPSHOT_NAME_CHARS: usize = 48;

/// A snapshot's name: lower-case letters, digits, `-` and `_` (it names a file on SQLite and
/// a schema on PostgreSQL, so nothing there needs quoting or escaping).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SnapshotName(String);

impl SnapshotName {
    pub fn parse(name: &str) -> Result<Self> {
        let ok = (1..=MAX_SNAPSHOT_NAME_CHARS).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(Error::invalid(format!(
                "name must be 1 to {MAX_SNAPSHOT_NAME_CHARS} lower-case letters, digits, '-' or '_'."
            )))
        }
    }

    /// A name a suite may take a snapshot under: not one the server keeps for itself.
    pub fn parse_for_taking(name: &str) -> Result<Self> {
        let parsed = Self::parse(name)?;
        if parsed.is_reserved() {
            return Err(Error::invalid(format!(
                "'{name}' is the server's own snapshot (taken at start); choose another name."
            )));
        }
        Ok(parsed)
    }

    pub fn empty() -> Self {
        Self(EMPTY_SNAPSHOT.to_owned())
    }

    pub fn fixtures() -> Self {
        Self(FIXTURES_SNAPSHOT.to_owned())
    }

    pub fn is_reserved(&self) -> bool {
        self.0 == EMPTY_SNAPSHOT || self.0 == FIXTURES_SNAPSHOT
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SnapshotName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a reset goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResetTo {
    /// As the server started, with its fixtures applied.
    #[default]
    Fixtures,
    /// As the server found its database at start, before the fixtures.
    Empty,
}

impl ResetTo {
    pub fn snapshot(self) -> SnapshotName {
        match self {
            Self::Fixtures => SnapshotName::fixtures(),
            Self::Empty => SnapshotName::empty(),
        }
    }
}

/// How far the clock may be moved at once: ten years.
pub const MAX_TRAVEL_SECS: i64 = 10 * 366 * 86_400;

/// `POST /roster/v1/test/clock`'s body: move forward by a duration, or back to real time.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClockFields {
    /// Seconds to move the clock forward by (added to any move made before).
    pub advance_secs: Option<i64>,
    /// `true`: back to the real time (every move undone).
    pub real_time: Option<bool>,
}

/// What a clock request asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMove {
    /// Forward by this many milliseconds.
    Advance(i64),
    RealTime,
}

impl ClockFields {
    pub fn into_move(self) -> Result<ClockMove> {
        match (self.advance_secs, self.real_time) {
            (Some(_), Some(true)) => {
                Err(Error::invalid("give advance_secs or real_time, not both."))
            }
            (None, Some(true)) => Ok(ClockMove::RealTime),
            (Some(secs), _) if (1..=MAX_TRAVEL_SECS).contains(&secs) => {
                Ok(ClockMove::Advance(secs * 1000))
            }
            (Some(_), _) => Err(Error::invalid(format!(
                "advance_secs must be 1 to {MAX_TRAVEL_SECS} (the clock only moves forward; \
                 real_time: true undoes every move)."
            ))),
            (None, _) => Err(Error::invalid(
                "give advance_secs (seconds forward) or real_time: true.",
            )),
        }
    }
}

/// Most fault rules at once.
pub const MAX_FAULTS: usize = 100;
/// Longest added latency: a minute (longer is a request timeout, which has its own setting).
pub const MAX_LATENCY_MS: u64 = 60_000;

/// `POST /roster/v1/test/faults`'s body: which requests, how often, and what happens to them.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FaultFields {
    /// The OpenAPI operation id the rule applies to (`ListUsers`, `GetToken`…).
    pub operation: Option<String>,
    /// Or a path: requests whose path starts with it (`/api/v2/tenant/users`).
    pub path: Option<String>,
    /// Only requests of this method (`GET`, `POST`…); any, if unset.
    pub method: Option<String>,
    /// The chance each matching request is hit, 0 < p ≤ 1 (default 1).
    pub probability: Option<f64>,
    /// Hit only this many requests, then the rule stays (listed, counted) but hits no more.
    pub count: Option<u64>,
    /// What happens: `latency`, `error`, `expired_token`, `rate_limited` or `close`.
    pub action: Option<FaultKind>,
    /// `latency`: milliseconds added before the request runs (then it runs as usual).
    pub latency_ms: Option<u64>,
    /// `error`: the catalog error answered (`SYSTEM.0001`, `USER.0001`…).
    pub error_code: Option<String>,
    /// `error`: the status (default: the catalog error's own).
    pub status: Option<u16>,
    /// `rate_limited`: the `Retry-After` seconds (default 1).
    pub retry_after_secs: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Latency,
    Error,
    ExpiredToken,
    RateLimited,
    Close,
}

/// Which requests a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultTarget {
    Operation(String),
    Path(String),
}

/// What a rule does to a request it hits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FaultAction {
    Latency {
        latency_ms: u64,
    },
    /// Answered with this catalog error and status, the handler never run.
    Error {
        #[serde(serialize_with = "code_of")]
        error_code: ErrorKind,
        status: u16,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<u32>,
    },
    /// The connection closed without an answer.
    Close,
}

fn code_of<S: serde::Serializer>(kind: &ErrorKind, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(kind.code())
}

/// A checked rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultRule {
    #[serde(flatten)]
    pub target: FaultTarget,
    pub method: Option<String>,
    pub probability: f64,
    pub count: Option<u64>,
    #[serde(flatten)]
    pub action: FaultAction,
}

impl FaultFields {
    /// The rule these fields describe; `is_operation` says whether an operation id exists.
    pub fn into_rule(self, is_operation: impl Fn(&str) -> bool) -> Result<FaultRule> {
        let target = match (self.operation, self.path) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid("give operation or path, not both."));
            }
            (Some(op), None) if is_operation(&op) => FaultTarget::Operation(op),
            (Some(op), None) => {
                return Err(Error::invalid(format!(
                    "operation '{op}' is not an operation of this server (see /openapi.json)."
                )));
            }
            (None, Some(path)) if path.starts_with('/') && path.len() <= 1024 => {
                FaultTarget::Path(path)
            }
            (None, Some(_)) => {
                return Err(Error::invalid("path must start with '/'."));
            }
            (None, None) => {
                return Err(Error::invalid(
                    "operation (an OpenAPI operation id) or path is required.",
                ));
            }
        };
        let method = match self.method {
            None => None,
            Some(m) => {
                let upper = m.to_ascii_uppercase();
                if !["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
                    .contains(&upper.as_str())
                {
                    return Err(Error::invalid(format!(
                        "method '{m}' is not an HTTP method."
                    )));
                }
                Some(upper)
            }
        };
        let probability = self.probability.unwrap_or(1.0);
        if !(probability > 0.0 && probability <= 1.0) {
            return Err(Error::invalid("probability must be above 0 and at most 1."));
        }
        if self.count == Some(0) {
            return Err(Error::invalid(
                "count must be at least 1 (or left out: no limit).",
            ));
        }
        let Some(kind) = self.action else {
            return Err(Error::invalid(
                "action is required: latency, error, expired_token, rate_limited or close.",
            ));
        };
        let misplaced = |field: &str| {
            Error::invalid(format!("{field} does not go with action {kind:?}.").to_lowercase())
        };
        if kind != FaultKind::Latency && self.latency_ms.is_some() {
            return Err(misplaced("latency_ms"));
        }
        if kind != FaultKind::Error && (self.error_code.is_some() || self.status.is_some()) {
            return Err(misplaced(if self.error_code.is_some() {
                "error_code"
            } else {
                "status"
            }));
        }
        if kind != FaultKind::RateLimited && self.retry_after_secs.is_some() {
            return Err(misplaced("retry_after_secs"));
        }
        let action = match kind {
            FaultKind::Latency => match self.latency_ms {
                Some(ms) if (1..=MAX_LATENCY_MS).contains(&ms) => {
                    FaultAction::Latency { latency_ms: ms }
                }
                _ => {
                    return Err(Error::invalid(format!(
                        "latency_ms must be 1 to {MAX_LATENCY_MS}."
                    )));
                }
            },
            FaultKind::Error => {
                let code = self.error_code.ok_or_else(|| {
                    Error::invalid("error_code is required with action error (e.g. SYSTEM.0001).")
                })?;
                let kind = ErrorKind::from_code(&code).ok_or_else(|| {
                    Error::invalid(format!(
                        "error_code '{code}' is not in the error catalog (docs/api.md)."
                    ))
                })?;
                let status = self.status.unwrap_or(kind.status());
                if !(400..=599).contains(&status) {
                    return Err(Error::invalid("status must be 400 to 599."));
                }
                FaultAction::Error {
                    error_code: kind,
                    status,
                    retry_after_secs: None,
                }
            }
            FaultKind::ExpiredToken => FaultAction::Error {
                error_code: ErrorKind::TokenExpired,
                status: ErrorKind::TokenExpired.status(),
                retry_after_secs: None,
            },
            FaultKind::RateLimited => FaultAction::Error {
                error_code: ErrorKind::TooManyTokenRequests,
                status: 429,
                retry_after_secs: Some(match self.retry_after_secs {
                    None => 1,
                    Some(s) if (1..=3600).contains(&s) => s,
                    Some(_) => {
                        return Err(Error::invalid("retry_after_secs must be 1 to 3600."));
                    }
                }),
            },
            FaultKind::Close => FaultAction::Close,
        };
        Ok(FaultRule {
            target,
            method,
            probability,
            count: self.count,
            action,
        })
    }
}

impl FaultRule {
    /// Whether the rule applies to a request (before its probability and count).
    pub fn applies(&self, method: &str, path: &str, operation: Option<&str>) -> bool {
        let method_ok = self.method.as_deref().is_none_or(|m| m == method);
        let target_ok = match &self.target {
            FaultTarget::Operation(op) => operation == Some(op.as_str()),
            FaultTarget::Path(prefix) => path.starts_with(prefix.as_str()),
        };
        method_ok && target_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(fields: serde_json::Value) -> Result<FaultRule> {
        serde_json::from_value::<FaultFields>(fields)
            .map_err(|e| Error::invalid(e.to_string()))?
            .into_rule(|op| op == "ListUsers")
    }

    #[test]
    fn snapshot_names_are_plain() {
        assert!(SnapshotName::parse("before-sync_2").is_ok());
        for bad in ["", "Upper", "a b", "../x", "a;drop", &"x".repeat(49)] {
            assert!(SnapshotName::parse(bad).is_err(), "{bad}");
        }
        assert!(SnapshotName::parse_for_taking("fixtures").is_err());
        assert!(SnapshotName::parse_for_taking("empty").is_err());
    }

    #[test]
    fn the_clock_moves_forward_or_back_to_real_time() {
        let fields = |v| serde_json::from_value::<ClockFields>(v).map_err(|e| e.to_string());
        let ok = fields(serde_json::json!({"advance_secs": 7200})).unwrap_or_default();
        assert_eq!(ok.into_move(), Ok(ClockMove::Advance(7_200_000)));
        let back = fields(serde_json::json!({"real_time": true})).unwrap_or_default();
        assert_eq!(back.into_move(), Ok(ClockMove::RealTime));
        for bad in [
            serde_json::json!({"advance_secs": -5}),
            serde_json::json!({"advance_secs": 0}),
            serde_json::json!({}),
            serde_json::json!({"advance_secs": 5, "real_time": true}),
        ] {
            let parsed = fields(bad.clone()).unwrap_or_default();
            assert!(parsed.into_move().is_err(), "{bad}");
        }
    }

    #[test]
    fn fault_rules_are_checked_field_by_field() {
        let error = rule(
            serde_json::json!({"operation": "ListUsers", "action": "error",
            "error_code": "SYSTEM.0001"}),
        );
        assert!(matches!(
            error,
            Ok(FaultRule {
                action: FaultAction::Error { status: 500, .. },
                ..
            })
        ));
        let limited = rule(serde_json::json!({"path": "/api/v2/tenant/token",
            "action": "rate_limited", "retry_after_secs": 7}));
        assert!(matches!(
            limited,
            Ok(FaultRule {
                action: FaultAction::Error {
                    status: 429,
                    retry_after_secs: Some(7),
                    ..
                },
                ..
            })
        ));
        for (bad, says) in [
            (
                serde_json::json!({"operation": "Nope", "action": "close"}),
                "not an operation",
            ),
            (serde_json::json!({"action": "close"}), "is required"),
            (
                serde_json::json!({"path": "/x", "action": "error", "error_code": "NOPE"}),
                "catalog",
            ),
            (
                serde_json::json!({"path": "/x", "action": "latency"}),
                "latency_ms",
            ),
            (
                serde_json::json!({"path": "/x", "action": "close", "latency_ms": 5}),
                "does not go",
            ),
            (
                serde_json::json!({"path": "/x", "action": "close", "probability": 0}),
                "probability",
            ),
            (
                serde_json::json!({"path": "/x", "action": "close", "count": 0}),
                "count",
            ),
            (
                serde_json::json!({"path": "x", "action": "close"}),
                "start with",
            ),
        ] {
            let refused = rule(bad.clone())
                .err()
                .and_then(|e| e.detail().map(str::to_owned));
            assert!(
                refused.as_deref().is_some_and(|d| d.contains(says)),
                "{bad}: {refused:?}"
            );
        }
    }

    #[test]
    fn rules_match_by_operation_or_path_and_method() {
        let by_op = rule(
            serde_json::json!({"operation": "ListUsers", "method": "get",
            "action": "close"}),
        );
        let Ok(by_op) = by_op else {
            unreachable!("a valid rule");
        };
        assert!(by_op.applies("GET", "/api/v2/tenant/users", Some("ListUsers")));
        assert!(!by_op.applies("POST", "/api/v2/tenant/users", Some("ListUsers")));
        assert!(!by_op.applies("GET", "/api/v2/tenant/users", Some("GetUser")));
        let by_path = rule(serde_json::json!({"path": "/api/v2/tenant/users", "action": "close"}));
        let Ok(by_path) = by_path else {
            unreachable!("a valid rule");
        };
        assert!(by_path.applies("DELETE", "/api/v2/tenant/users/x", None));
        assert!(!by_path.applies("GET", "/api/v2/tenant/token", None));
    }
}
