//! One log line per request, at `info`: method, route template (never the raw path, which
//! holds ids, nor the query, which may hold secrets), status, duration, request id and the
//! client id the request authenticated as. Headers are never logged.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// What an error answer says its code is (the catalog's `error_code`, OAuth's `error`), set
/// on the response by the error bodies for what records requests (test mode's journal).
#[derive(Debug, Clone)]
pub(crate) struct AnsweredCode(pub String);

/// What the layers inside learn about a request, for its log line.
#[derive(Debug, Default)]
pub(crate) struct RequestInfo {
    route: OnceLock<MatchedPath>,
    client_id: OnceLock<String>,
}

impl RequestInfo {
    /// Records the client id a request authenticated as (bearer token), or tried (token
    /// endpoint). Client ids are not secrets.
    pub(crate) fn client(extensions: &axum::http::Extensions, client_id: &str) {
        if let Some(info) = extensions.get::<Arc<RequestInfo>>() {
            info.set_client(client_id);
        }
    }

    pub(crate) fn set_client(&self, client_id: &str) {
        let _ = self.client_id.set(client_id.chars().take(128).collect());
    }

    /// The route template the request matched.
    pub(crate) fn route(&self) -> Option<&str> {
        self.route.get().map(MatchedPath::as_str)
    }

    /// The client id the request authenticated as, or tried.
    pub(crate) fn caller(&self) -> Option<&str> {
        self.client_id.get().map(String::as_str)
    }
}

/// Writes the line of a request answered with `status`, and counts it in the metrics by
/// operation and status. The line's fields are gathered only if it is written.
pub(crate) fn record(
    operations: &crate::metrics::Operations,
    method: &Method,
    info: &RequestInfo,
    status: StatusCode,
    started: Instant,
    request_id: &HeaderValue,
) {
    let route = info.route.get().map(MatchedPath::as_str);
    let seconds = started.elapsed().as_secs_f64();
    operations
        .of(method, route)
        .record(status.as_u16(), seconds);
    tracing::info!(
        target: "roster::request",
        method = %method,
        route = route.unwrap_or("(no route)"),
        status = status.as_u16(),
        // To the microsecond, as a number a person reads (not `0.06726700000000001`).
        duration_ms = (seconds * 1_000_000.0).round() / 1000.0,
        request_id = request_id.to_str().unwrap_or_default(),
        client_id = info.client_id.get().map_or("", String::as_str),
        "request"
    );
}

/// On matched routes only: notes the route template for the log line.
pub(crate) async fn note_route(request: Request, next: Next) -> Response {
    if let (Some(info), Some(path)) = (
        request.extensions().get::<Arc<RequestInfo>>(),
        request.extensions().get::<MatchedPath>(),
    ) {
        let _ = info.route.set(path.clone());
    }
    next.run(request).await
}
