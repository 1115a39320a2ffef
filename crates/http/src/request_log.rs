//! One log line per request, at `info`: method, route template (never the raw path, which
//! holds ids, nor the query, which may hold secrets), status, duration, request id and the
//! client id the request authenticated as. Headers are never logged.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

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
}

/// Outermost (inside the request id): writes the line when the answer is ready, and counts
/// the request in the metrics by operation and status.
pub(crate) async fn log_request(
    axum::extract::State(operations): axum::extract::State<Arc<crate::metrics::Operations>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let info = Arc::new(RequestInfo::default());
    request.extensions_mut().insert(info.clone());
    let method = request.method().clone();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    operations.in_flight.increment(1.0);
    let response = next.run(request).await;
    operations.in_flight.decrement(1.0);
    let route = info.route.get().map(MatchedPath::as_str);
    let status = response.status().as_u16();
    operations
        .of(&method, route)
        .record(status, started.elapsed().as_secs_f64());
    tracing::info!(
        target: "roster::request",
        method = %method,
        route = route.unwrap_or("(no route)"),
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        request_id = %request_id,
        client_id = info.client_id.get().map_or("", String::as_str),
        "request"
    );
    response
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
