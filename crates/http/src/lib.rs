//! Roster's HTTP API. Routers here only parse, authenticate, call the service and shape the
//! response; every error leaves as `{"error_code", "error_msg"}` with the catalog's status.

mod auth;
mod client_address;
mod client_auth;
mod error;
mod extract;
mod metrics;
mod oauth_error;
mod params;
mod request_log;
mod routes;
mod server;
mod sign_in_page;
mod views;
mod wire;

pub use client_address::TrustedProxies;
pub use error::ApiError;
pub use metrics::MetricsSettings;
pub use server::{raise_open_file_limit, ConnectionLimits};
/// What the application extension answers, for the CLI to print the very same documents.
pub use views::{ApplicationIdView, ApplicationList, ApplicationView, AuditList, CredentialsView};

use axum::extract::DefaultBodyLimit;
use axum::Router;
use roster_service::Service;
use std::time::Duration;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

/// Limits applied to every request.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Longest path and query accepted.
    pub max_uri_bytes: usize,
    /// Most bytes of header names and values accepted.
    pub max_header_bytes: usize,
    pub connections: ConnectionLimits,
    /// `GET /metrics`, when set.
    pub metrics: Option<MetricsSettings>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// The URL users and applications reach Roster at (`https://sso.example.com`): the
    /// id_tokens' issuer, the links of the discovery document, and whether cookies are
    /// `Secure`. Unset: `http://` and the address listened on.
    pub public_url: Option<String>,
}

/// Where Roster is reached, for the sign-in routes.
#[derive(Debug, Clone)]
pub struct Site {
    /// Without a trailing slash.
    pub public_url: String,
    /// The `iss` of id_tokens: the public URL.
    pub issuer: String,
    pub secure_cookies: bool,
}

impl Site {
    fn new(public_url: &str) -> Self {
        let public_url = public_url.trim_end_matches('/').to_owned();
        Self {
            secure_cookies: public_url.starts_with("https://"),
            issuer: public_url.clone(),
            public_url,
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 16 * 1024,
            connections: ConnectionLimits::default(),
            metrics: None,
            trusted_proxies: TrustedProxies::default(),
            public_url: None,
        }
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Roster",
        description = "A self-hosted identity directory that speaks the OneAccess management API. \
            Paths under /api/v2/tenant follow the OneAccess reference; /roster and /health are \
            Roster extensions.",
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
            // The token endpoint's client_secret_basic (or form fields, client_secret_post).
            components.add_security_scheme(
                "client_basic",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
            );
        }
    }
}

/// The OpenAPI document, built from the same annotated handlers the router serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    let (_, api) = utoipa_axum::router::OpenApiRouter::<Service>::with_openapi(ApiDoc::openapi())
        .merge(routes::router())
        .split_for_parts();
    api
}

/// The whole API as one router, with its OpenAPI document at `/openapi.json`.
pub fn router(service: Service, settings: &HttpSettings) -> Router {
    use utoipa::OpenApi;
    let (routes, api) = utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::router())
        .split_for_parts();
    let operations = std::sync::Arc::new(metrics::Operations::from_openapi(&api));
    metrics::record_build_info();
    let document = std::sync::Arc::new(api);
    let routes = match settings.metrics.clone() {
        Some(scrape) => {
            let state = (service.clone(), std::sync::Arc::new(scrape));
            routes.route(
                "/metrics",
                axum::routing::get(move |headers: axum::http::HeaderMap| {
                    metrics::scrape(axum::extract::State(state.clone()), headers)
                }),
            )
        }
        None => routes,
    };
    routes
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let document = document.clone();
                async move { axum::Json(document.as_ref().clone()) }
            }),
        )
        .route_layer(axum::middleware::from_fn(request_log::note_route))
        .layer(axum::Extension(Site::new(
            settings.public_url.as_deref().unwrap_or("http://localhost"),
        )))
        .fallback(|| async { ApiError::from(roster_domain::ErrorKind::RouteNotFound) })
        .with_state(service)
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            settings.request_timeout,
            time_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            (settings.max_uri_bytes, settings.max_header_bytes),
            limit_request_head,
        ))
        .layer(axum::middleware::map_response(error::ensure_error_body))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(axum::middleware::from_fn_with_state(
            operations,
            request_log::log_request,
        ))
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(settings.trusted_proxies.clone()),
            client_address::note,
        ))
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId))
}

/// Request ids as random (version 4) UUIDs, drawn from the thread's generator: tower-http's own
/// asks the kernel for each one, a system call per request.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
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
        axum::http::HeaderValue::from_str(&text)
            .ok()
            .map(RequestId::new)
    }
}

/// The span every request's log lines carry: method, path, and the query string except on
/// credential endpoints, where a client may have put a secret in it (it is refused there, but
/// the line is written first). Headers are never logged: `Authorization` holds credentials.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
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
        request_id = request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    )
}

/// Endpoints that take client credentials or sign-in secrets.
fn is_credential_endpoint(path: &str) -> bool {
    path.ends_with("/token") || path.starts_with("/api/v1/") || path.starts_with("/api/v2/sdk/")
}

/// Answers `408` to a request that runs out of time, but only while none of its writes has
/// started: "timed out" then means "nothing was written". A request whose write began is
/// waited for and answered as usual (the database bounds how long a write takes).
async fn time_limit(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let gate = roster_service::WriteGate::default();
    let run = gate.clone().scope(next.run(request));
    tokio::pin!(run);
    tokio::select! {
        response = &mut run => response,
        () = tokio::time::sleep(limit) => {
            if gate.cancel() {
                ApiError::from(roster_domain::ErrorKind::RequestTimeout).into_response()
            } else {
                run.await
            }
        }
    }
}

/// Refuses requests whose path and query, or headers, are larger than configured.
async fn limit_request_head(
    axum::extract::State((max_uri, max_headers)): axum::extract::State<(usize, usize)>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri_len > max_uri {
        return ApiError::from(roster_domain::ErrorKind::UriTooLong).into_response();
    }
    let header_len: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_len > max_headers {
        return ApiError::from(roster_domain::ErrorKind::HeadersTooLarge).into_response();
    }
    next.run(request).await
}

/// Serves the API on `listener` until `shutdown` completes, then lets requests in flight
/// finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Service,
    settings: &HttpSettings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut settings = settings.clone();
    if settings.public_url.is_none() {
        let address = listener.local_addr()?;
        let host = match address.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        settings.public_url = Some(format!("http://{host}:{}", address.port()));
    }
    server::serve(
        listener,
        router(service, &settings),
        settings.connections.clone(),
        shutdown,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::RandomRequestId;
    use tower_http::request_id::MakeRequestId;

    #[test]
    fn request_ids_are_version_4_uuids() {
        let request = axum::http::Request::new(());
        for _ in 0..100 {
            let id = RandomRequestId
                .make_request_id(&request)
                .and_then(|id| id.header_value().to_str().ok().map(str::to_owned))
                .unwrap_or_default();
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
