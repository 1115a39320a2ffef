//! What every request passes through before and after the router, as one layer: its request
//! id (kept if sent, made if not, and returned), its client address, its debug span, the
//! limits on its head and on its time, an error body for errors made outside the handlers,
//! and its log line and metrics.
//!
//! One layer rather than one per step: each axum `from_fn` layer boxes and clones the service
//! below it on every request, and as eight layers they took more CPU than showing a user
//! (39 against 30 µs per request, measured with them and without).

use crate::client_address::{self, TrustedProxies};
use crate::error::{self, ApiError};
use crate::metrics::Operations;
use crate::oauth_error::Dialect;
use crate::request_log::{self, RequestInfo};
use crate::test_mode::{TestMode, TEST_MODE_HEADER};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use roster_domain::ErrorKind;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The settings of the envelope.
pub(crate) struct Envelope {
    pub proxies: TrustedProxies,
    pub operations: Arc<Operations>,
    pub max_uri_bytes: usize,
    pub max_header_bytes: usize,
    pub request_timeout: Duration,
    /// In test mode: its journal (and the service, for the clock the journal reads).
    pub test_mode: Option<(Arc<TestMode>, roster_service::Service)>,
}

pub(crate) async fn envelope(
    State(envelope): State<Arc<Envelope>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id = request_id(&mut request);
    client_address::note(&envelope.proxies, &mut request);
    let info = Arc::new(RequestInfo::default());
    request.extensions_mut().insert(info.clone());
    let method = request.method().clone();
    let span = request_span(&request, &request_id);
    let dialect = Dialect::of(request.uri().path(), request.headers());
    let (request, seen) = match &envelope.test_mode {
        Some((test_mode, _)) => test_mode.read(request).await,
        None => (request, None),
    };
    let path = seen.as_ref().map(|_| request.uri().path().to_owned());
    envelope.operations.in_flight.increment(1.0);
    let response = match head_too_large(&request, &envelope) {
        Some(kind) => dialect
            .answer(kind)
            .unwrap_or_else(|| ApiError::from(kind).into_response()),
        None => {
            within_time(envelope.request_timeout, next.run(request))
                .instrument(span)
                .await
        }
    };
    let mut response = error::ensure_error_body(response, &dialect);
    envelope.operations.in_flight.decrement(1.0);
    request_log::record(
        &envelope.operations,
        &method,
        &info,
        response.status(),
        started,
        &request_id,
    );
    if let Some((test_mode, service)) = &envelope.test_mode {
        if let (Some(seen), Some(path)) = (seen, path) {
            let time = roster_domain::time::format_millis(service.clock_now());
            test_mode.write(
                &envelope.operations,
                seen,
                &method,
                path,
                &info,
                &response,
                &request_id,
                time,
            );
        }
        response
            .headers_mut()
            .insert(TEST_MODE_HEADER, HeaderValue::from_static("1"));
    }
    response
        .headers_mut()
        .entry(X_REQUEST_ID)
        .or_insert(request_id);
    response
}

/// The request's id: the one the client sent, or a new random (version 4) UUID set on the
/// request, drawn from the thread's generator (not from the kernel, a system call each).
fn request_id(request: &mut Request) -> HeaderValue {
    if let Some(sent) = request.headers().get(X_REQUEST_ID) {
        return sent.clone();
    }
    let id = random_uuid();
    request.headers_mut().insert(X_REQUEST_ID, id.clone());
    id
}

fn random_uuid() -> HeaderValue {
    let bits: u128 = rand::random();
    let uuid = (bits & !(0xf000 << 64) & !(0xc << 60)) | (0x4000 << 64) | (0x8 << 60);
    let text = format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        uuid >> 96,
        (uuid >> 80) & 0xffff,
        (uuid >> 64) & 0xffff,
        (uuid >> 48) & 0xffff,
        uuid & 0xffff_ffff_ffff
    );
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("-"))
}

/// The span every request's log lines carry: method, path, and the query string except on
/// credential endpoints, where a client may have put a secret in it (it is refused there, but
/// the line is written first). Headers are never logged: `Authorization` holds credentials.
fn request_span(request: &Request, request_id: &HeaderValue) -> tracing::Span {
    let path = request.uri().path();
    let query = match request.uri().query() {
        None => "",
        Some(_) if is_credential_endpoint(path) => "?[redacted]",
        Some(q) => q,
    };
    let separator = if query.is_empty() || query.starts_with('?') {
        ""
    } else {
        "?"
    };
    tracing::debug_span!(
        "request",
        method = %request.method(),
        uri = %format_args!("{path}{separator}{query}"),
        request_id = request_id.to_str().unwrap_or_default(),
    )
}

/// Endpoints that take client credentials or sign-in secrets.
fn is_credential_endpoint(path: &str) -> bool {
    path.ends_with("/token") || path.starts_with("/api/v1/") || path.starts_with("/api/v2/sdk/")
}

/// Why a request's path and query, or its headers, are larger than configured, if they are.
fn head_too_large(request: &Request, limits: &Envelope) -> Option<ErrorKind> {
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri_len > limits.max_uri_bytes {
        return Some(ErrorKind::UriTooLong);
    }
    let header_len: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    (header_len > limits.max_header_bytes).then_some(ErrorKind::HeadersTooLarge)
}

/// Answers `408` to a request that runs out of time, but only while none of its writes has
/// started: "timed out" then means "nothing was written". A request whose write began is
/// waited for and answered as usual (the database bounds how long a write takes).
async fn within_time(
    limit: Duration,
    run: impl std::future::Future<Output = Response>,
) -> Response {
    let gate = roster_service::WriteGate::default();
    let run = gate.clone().scope(run);
    tokio::pin!(run);
    tokio::select! {
        response = &mut run => response,
        () = tokio::time::sleep(limit) => {
            if gate.cancel() {
                // Bare: `ensure_error_body` gives it the body of the route's dialect.
                axum::http::StatusCode::REQUEST_TIMEOUT.into_response()
            } else {
                run.await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::random_uuid;

    #[test]
    fn request_ids_are_version_4_uuids() {
        for _ in 0..100 {
            let id = random_uuid().to_str().unwrap_or_default().to_owned();
            let groups: Vec<usize> = id.split('-').map(str::len).collect();
            assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
            assert_eq!(id.chars().nth(14), Some('4'), "{id}");
            assert!(
                matches!(id.chars().nth(19), Some('8' | '9' | 'a' | 'b')),
                "{id}"
            );
        }
    }
}
