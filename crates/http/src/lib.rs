//! Roster's HTTP API. Routers here only parse, authenticate, call the service and shape the
//! response; every error leaves as `{"error_code", "error_msg"}` with the catalog's status.

mod auth;
mod client_address;
mod client_auth;
mod cookies;
mod envelope;
mod error;
mod extract;
mod metrics;
mod oauth_error;
pub mod pages;
mod params;
mod person;
mod request_log;
mod routes;
mod server;
mod test_mode;
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
    let test_mode = service
        .in_test_mode()
        .then(|| std::sync::Arc::new(test_mode::TestMode::default()));
    let journal = test_mode.clone().map(|t| (t, service.clone()));
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
    let routes = routes.route(
        "/openapi.json",
        axum::routing::get(move || {
            let document = document.clone();
            async move { axum::Json(document.as_ref().clone()) }
        }),
    );
    // Outside test mode the control API is not routed at all: its paths are unknown paths.
    let routes = match &test_mode {
        Some(test_mode) => routes
            .merge(routes::test_mode::router(
                test_mode.clone(),
                operations.clone(),
            ))
            .route_layer(axum::middleware::from_fn_with_state(
                (test_mode.clone(), operations.clone()),
                test_mode::inject_faults,
            )),
        None => routes,
    };
    routes
        .route_layer(axum::middleware::from_fn(request_log::note_route))
        .layer(axum::Extension(Site::new(
            settings.public_url.as_deref().unwrap_or("http://localhost"),
        )))
        // Bare: `ensure_error_body` gives it the body of the path's dialect.
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .with_state(service)
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(envelope::Envelope {
                proxies: settings.trusted_proxies.clone(),
                operations,
                max_uri_bytes: settings.max_uri_bytes,
                max_header_bytes: settings.max_header_bytes,
                request_timeout: settings.request_timeout,
                test_mode: journal,
            }),
            envelope::envelope,
        ))
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
