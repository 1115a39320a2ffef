//! Test mode's request-side state (a Roster extension, `roster serve --test-mode`): the fault
//! rules a suite set, applied to matched routes before their handler, and the journal of the
//! last requests, written by the envelope as each is answered. Neither exists outside test
//! mode. The control routes (`/roster/v1/test/…`) are neither faulted nor journaled: a suite
//! sees only what its code under test sent.

use crate::metrics::Operations;
use crate::request_log::{AnsweredCode, RequestInfo};
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use roster_domain::test_mode::{FaultAction, FaultRule, MAX_FAULTS};
use roster_domain::{Error, ErrorKind};
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// The control API's own paths.
pub(crate) const CONTROL_PREFIX: &str = "/roster/v1/test/";
/// Every answer of a server in test mode carries it.
pub(crate) const TEST_MODE_HEADER: &str = "x-roster-test-mode";
/// Requests the journal keeps (the oldest leave first).
pub(crate) const JOURNAL_CAPACITY: usize = 1000;
/// Request bodies are journaled up to this size (larger: noted, not kept).
const MAX_JOURNALED_BODY: usize = 16 * 1024;

/// A server's test-mode state.
#[derive(Default)]
pub(crate) struct TestMode {
    faults: Mutex<Faults>,
    journal: Mutex<VecDeque<JournalEntry>>,
}

#[derive(Default)]
struct Faults {
    next_id: u64,
    rules: Vec<SetFault>,
}

/// A rule as set, with what it has done.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SetFault {
    pub id: u64,
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Requests the rule applied to.
    pub matched: u64,
    /// Of those, the ones it hit (the rest passed by its probability or after its count).
    pub hits: u64,
}

/// One request as the server received and answered it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct JournalEntry {
    /// The server's clock (moved by time travel), `yyyy-MM-dd HH:mm:ss.SSS` UTC.
    pub time: String,
    pub method: String,
    pub path: String,
    /// The query string, secrets redacted.
    pub query: Option<String>,
    /// The OpenAPI operation id, if the route is an API operation.
    pub operation: Option<String>,
    /// The client id the request authenticated as (or tried, at the token endpoint).
    pub caller: Option<String>,
    /// `null` when a fault closed the connection without an answer.
    pub status: Option<u16>,
    /// The catalog's `error_code` (or OAuth's `error`) of an error answer.
    pub error_code: Option<String>,
    pub request_id: String,
    /// The request body: JSON or form fields as JSON, secrets redacted; other text as sent.
    pub body: Option<Value>,
    /// A fault rule that hit the request, by id.
    pub fault: Option<u64>,
}

/// Marks an answer a fault turned into a closed connection.
#[derive(Debug, Clone, Copy)]
struct Closed;

/// A journaled request's body and query, read before the handler.
#[derive(Debug, Clone, Default)]
pub(crate) struct Seen {
    query: Option<String>,
    body: Option<Value>,
    fault: Arc<std::sync::OnceLock<u64>>,
}

impl TestMode {
    pub(crate) fn add_fault(&self, rule: FaultRule) -> Result<SetFault, Error> {
        let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        if faults.rules.len() >= MAX_FAULTS {
            return Err(Error::invalid(format!(
                "at most {MAX_FAULTS} fault rules at once: clear some first."
            )));
        }
        faults.next_id += 1;
        let set = SetFault {
            id: faults.next_id,
            rule,
            matched: 0,
            hits: 0,
        };
        faults.rules.push(set.clone());
        Ok(set)
    }

    pub(crate) fn faults(&self) -> Vec<SetFault> {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .rules
            .clone()
    }

    /// Clears one rule (`Some(id)`: whether it existed) or all.
    pub(crate) fn clear_faults(&self, id: Option<u64>) -> bool {
        let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        match id {
            None => {
                faults.rules.clear();
                true
            }
            Some(id) => {
                let before = faults.rules.len();
                faults.rules.retain(|f| f.id != id);
                faults.rules.len() < before
            }
        }
    }

    /// The first rule that applies to a request and hits it, counted.
    fn fault_for(
        &self,
        method: &str,
        path: &str,
        operation: Option<&str>,
    ) -> Option<(u64, FaultAction)> {
        let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        for set in faults.rules.iter_mut() {
            if !set.rule.applies(method, path, operation) {
                continue;
            }
            set.matched += 1;
            let spent = set.rule.count.is_some_and(|count| set.hits >= count);
            if spent || rand::random::<f64>() >= set.rule.probability {
                continue;
            }
            set.hits += 1;
            return Some((set.id, set.rule.action.clone()));
        }
        None
    }

    /// The journal's entries that match, oldest first, at most `limit` (the newest).
    pub(crate) fn journal(
        &self,
        operation: Option<&str>,
        caller: Option<&str>,
        limit: usize,
    ) -> Vec<JournalEntry> {
        let journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        let mut found: Vec<JournalEntry> = journal
            .iter()
            .rev()
            .filter(|e| operation.is_none_or(|op| e.operation.as_deref() == Some(op)))
            .filter(|e| caller.is_none_or(|c| e.caller.as_deref() == Some(c)))
            .take(limit)
            .cloned()
            .collect();
        found.reverse();
        found
    }

    pub(crate) fn clear_journal(&self) {
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn journal_add(&self, entry: JournalEntry) {
        let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        if journal.len() == JOURNAL_CAPACITY {
            journal.pop_front();
        }
        journal.push_back(entry);
    }

    /// Reads what the journal keeps of a request before it runs: its query and its body (which
    /// is put back for the handler). Control requests and large or streamed bodies are left
    /// as they are.
    pub(crate) async fn read(&self, request: Request) -> (Request, Option<Seen>) {
        if request.uri().path().starts_with(CONTROL_PREFIX) {
            return (request, None);
        }
        let query = request.uri().query().map(redact_query);
        let length = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let kind = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let (request, body) = match length {
            Some(0) | None => (request, None),
            Some(n) if n > MAX_JOURNALED_BODY => (
                request,
                Some(Value::String(format!("[{n} bytes, not kept]"))),
            ),
            Some(_) => {
                let (parts, body) = request.into_parts();
                match axum::body::to_bytes(body, MAX_JOURNALED_BODY).await {
                    Ok(bytes) => {
                        let kept = redact_body(&kind, &bytes);
                        (Request::from_parts(parts, Body::from(bytes)), Some(kept))
                    }
                    // The client sent less or more than it said: the server answers that.
                    Err(_) => (Request::from_parts(parts, Body::empty()), None),
                }
            }
        };
        let seen = Seen {
            query,
            body,
            fault: Arc::default(),
        };
        let mut request = request;
        request.extensions_mut().insert(seen.clone());
        (request, Some(seen))
    }

    /// Journals a request once answered.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write(
        &self,
        operations: &Operations,
        seen: Seen,
        method: &Method,
        path: String,
        info: &RequestInfo,
        response: &Response,
        request_id: &HeaderValue,
        time: String,
    ) {
        let route = info.route();
        let operation = route
            .is_some()
            .then(|| operations.of(method, route).name().to_owned());
        self.journal_add(JournalEntry {
            time,
            method: method.to_string(),
            path,
            query: seen.query,
            operation,
            caller: info.caller().map(str::to_owned),
            status: (response.extensions().get::<Closed>().is_none())
                .then(|| response.status().as_u16()),
            error_code: response
                .extensions()
                .get::<AnsweredCode>()
                .map(|c| c.0.clone()),
            request_id: request_id.to_str().unwrap_or_default().to_owned(),
            body: seen.body,
            fault: seen.fault.get().copied(),
        });
    }
}

/// On matched routes in test mode: the first fault rule that hits the request acts on it.
pub(crate) async fn inject_faults(
    State((test_mode, operations)): State<(Arc<TestMode>, Arc<Operations>)>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path.starts_with(CONTROL_PREFIX) {
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let method = request.method().clone();
    let operation = route.map(|r| operations.of(&method, Some(r)).name());
    let Some((id, action)) = test_mode.fault_for(method.as_str(), path, operation) else {
        return next.run(request).await;
    };
    if let Some(seen) = request.extensions().get::<Seen>() {
        let _ = seen.fault.set(id);
    }
    match action {
        FaultAction::Latency { latency_ms } => {
            tokio::time::sleep(std::time::Duration::from_millis(latency_ms)).await;
            next.run(request).await
        }
        FaultAction::Error {
            error_code,
            status,
            retry_after_secs,
        } => {
            // Not through `ApiError`, which logs server-side errors as the server's own.
            let body = crate::error::ErrorBody {
                error_code: error_code.code().to_owned(),
                error_msg: format!("{} (test-mode fault {id})", error_code.message()),
            };
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = (status, axum::Json(body)).into_response();
            response
                .extensions_mut()
                .insert(AnsweredCode(error_code.code().to_owned()));
            if let Some(secs) = retry_after_secs {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            if error_code == ErrorKind::TokenExpired {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            tracing::debug!(fault = id, code = error_code.code(), "fault injected");
            response
        }
        FaultAction::Close => {
            // A body that fails before its first byte: the server drops the connection.
            let failing = futures::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "test-mode fault: connection closed",
                ))
            });
            let mut response = Response::new(Body::from_stream(failing));
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response.extensions_mut().insert(Closed);
            response
        }
    }
}

/// Whether a field holds a secret the journal must not keep.
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "pwd",
        "private",
        "credential",
        "assertion",
    ]
    .iter()
    .any(|s| name.contains(s))
        || matches!(
            name.as_str(),
            "code" | "sms_code" | "verify_code" | "otp" | "ticket" | "code_verifier"
        )
}

const REDACTED: &str = "[redacted]";

fn redact_json(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                if is_secret(name) && !field.is_null() {
                    *field = Value::String(REDACTED.to_owned());
                } else {
                    redact_json(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

fn redact_pairs(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| {
            let v = if is_secret(&k) { REDACTED.into() } else { v };
            (k.into_owned(), v.into_owned())
        })
        .collect()
}

fn redact_query(query: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(redact_pairs(query))
        .finish()
}

fn redact_body(content_type: &str, bytes: &[u8]) -> Value {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let text = String::from_utf8_lossy(bytes);
        let fields: serde_json::Map<String, Value> = redact_pairs(&text)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        return Value::Object(fields);
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut json) => {
            redact_json(&mut json);
            json
        }
        // Not JSON (XML of SAML, a broken body): kept as text unless it may hold a secret.
        Err(_) => match std::str::from_utf8(bytes) {
            Ok(text) if !is_secret(text) => Value::String(text.to_owned()),
            _ => Value::String(format!("[{} bytes]", bytes.len())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_journal() {
        let body = redact_body(
            "application/json",
            br#"{"user_name":"ann","password":"Secret-1","org_code":"hq","nested":[{"client_secret":"s"}]}"#,
        );
        assert_eq!(body["user_name"], "ann");
        assert_eq!(body["org_code"], "hq");
        assert_eq!(body["password"], REDACTED);
        assert_eq!(body["nested"][0]["client_secret"], REDACTED);
        let form = redact_body(
            "application/x-www-form-urlencoded",
            b"grant_type=authorization_code&code=abc&client_id=app&code_verifier=v",
        );
        assert_eq!(form["grant_type"], "authorization_code");
        assert_eq!(form["client_id"], "app");
        assert_eq!(form["code"], REDACTED);
        assert_eq!(form["code_verifier"], REDACTED);
        assert_eq!(
            redact_query("access_token=t&offset=0"),
            "access_token=%5Bredacted%5D&offset=0"
        );
    }
}
