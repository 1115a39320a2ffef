//! `GET /metrics`: the Prometheus text format, on the main listener (one port to open and
//! route; protect it with a bearer token, or keep it behind the proxy). Labels are bounded:
//! operations are the OpenAPI operation ids, statuses the HTTP codes; never ids or input.

use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::PrometheusHandle;
use roster_domain::ErrorKind;
use roster_service::Service;
use std::collections::HashMap;
use std::sync::Arc;

/// What `/metrics` needs: the recorder's handle and, if set, the token it asks for.
#[derive(Clone)]
pub struct MetricsSettings {
    pub handle: PrometheusHandle,
    pub token: Option<String>,
}

impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The metrics of one operation, registered once: looking a labelled metric up in the
/// registry on every request would cost more than the request's own work on fast routes.
#[derive(Debug)]
pub(crate) struct OperationMetrics {
    name: String,
    duration: metrics::Histogram,
    by_status: std::sync::RwLock<HashMap<u16, metrics::Counter>>,
}

impl OperationMetrics {
    fn new(name: String) -> Self {
        Self {
            duration: metrics::histogram!("roster_request_duration_seconds", "operation" => name.clone()),
            by_status: Default::default(),
            name,
        }
    }

    /// The operation id (`ListUsers`), or `unmatched`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn record(&self, status: u16, seconds: f64) {
        self.duration.record(seconds);
        let known = self
            .by_status
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&status)
            .cloned();
        let counter = known.unwrap_or_else(|| {
            let counter = metrics::counter!("roster_requests_total", "operation" => self.name.clone(), "status" => status.to_string());
            self.by_status
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(status, counter.clone());
            counter
        });
        counter.increment(1);
    }
}

/// The metrics of each operation by route template and method, from the OpenAPI document.
#[derive(Debug)]
pub(crate) struct Operations {
    by_route: HashMap<String, Vec<(Method, Arc<OperationMetrics>)>>,
    unmatched: Arc<OperationMetrics>,
    pub in_flight: metrics::Gauge,
}

impl Operations {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let mut by_route: HashMap<String, Vec<(Method, Arc<OperationMetrics>)>> = HashMap::new();
        for (path, item) in &api.paths.paths {
            let methods = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::DELETE, &item.delete),
            ];
            for (method, operation) in methods {
                if let Some(id) = operation.as_ref().and_then(|o| o.operation_id.clone()) {
                    let metrics = Arc::new(OperationMetrics::new(id));
                    by_route
                        .entry(path.clone())
                        .or_default()
                        .push((method, metrics));
                }
            }
        }
        for route in ["/openapi.json", "/metrics"] {
            let name = route.trim_start_matches('/').replace('.', "_");
            by_route
                .entry(route.to_owned())
                .or_default()
                .push((Method::GET, Arc::new(OperationMetrics::new(name))));
        }
        Self {
            by_route,
            unmatched: Arc::new(OperationMetrics::new("unmatched".to_owned())),
            in_flight: metrics::gauge!("roster_requests_in_flight"),
        }
    }

    /// Whether `operation` is an operation id of this server.
    pub fn has(&self, operation: &str) -> bool {
        self.by_route
            .values()
            .flatten()
            .any(|(_, metrics)| metrics.name == operation)
    }

    /// The metrics of the operation a request was (`unmatched` for no route or method).
    pub fn of(&self, method: &Method, route: Option<&str>) -> &OperationMetrics {
        route
            .and_then(|r| self.by_route.get(r))
            .and_then(|ms| ms.iter().find(|(m, _)| m == method))
            .map_or(&self.unmatched, |(_, metrics)| metrics)
    }
}

pub(crate) fn record_build_info() {
    metrics::gauge!("roster_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    describe();
    PROCESS.describe();
}

/// The process's own metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
/// `process_open_fds`, `process_threads`, …), read at each scrape.
static PROCESS: std::sync::LazyLock<metrics_process::Collector> =
    std::sync::LazyLock::new(metrics_process::Collector::default);

/// Each metric's HELP line.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_gauge!(
        "roster_build_info",
        "The running version (label version), always 1."
    );
    describe_counter!(
        "roster_requests_total",
        "Requests answered, by operation and status."
    );
    describe_histogram!(
        "roster_request_duration_seconds",
        Unit::Seconds,
        "How long requests took, by operation."
    );
    describe_gauge!("roster_requests_in_flight", "Requests being answered now.");
    describe_gauge!(
        "roster_db_pool_connections",
        "PostgreSQL pool connections, by state (idle, in_use)."
    );
    describe_histogram!(
        "roster_group_commit_batch_size",
        "Writes committed together in one SQLite group commit."
    );
    describe_histogram!(
        "roster_group_commit_seconds",
        Unit::Seconds,
        "How long a SQLite group commit took."
    );
    describe_gauge!(
        "roster_write_queue_depth",
        "Writes waiting for the SQLite writer."
    );
    describe_counter!(
        "roster_token_cache_total",
        "Token checks answered from this node's cache (hit) or the database (miss)."
    );
    describe_counter!(
        "roster_tokens_refused_total",
        "Token requests refused for their client credentials, by reason."
    );
    describe_counter!(
        "roster_rate_limited_total",
        "Requests refused by a rate limit, by limit."
    );
    describe_counter!(
        "roster_password_checks_total",
        "Password hashes compared when signing in, by result (right, wrong)."
    );
    describe_counter!(
        "roster_sign_ins_total",
        "Sign-ins: sessions begun on the login page, codes and tokens issued to applications."
    );
    describe_counter!(
        "roster_sign_ins_refused_total",
        "Sign-ins refused, by reason (LOGIN.0001 locked, LOGIN.0002 wrong password, LOGIN.0003 may not sign in)."
    );
    describe_counter!(
        "roster_sign_in_locks_total",
        "Users locked after too many wrong passwords."
    );
}

pub(crate) async fn scrape(
    State((service, settings)): State<(Service, Arc<MetricsSettings>)>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = &settings.token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let matches = sent.is_some_and(|sent| {
            use subtle::ConstantTimeEq;
            bool::from(sent.as_bytes().ct_eq(token.as_bytes()))
        });
        if !matches {
            return crate::ApiError::from(ErrorKind::Unauthenticated).into_response();
        }
    }
    PROCESS.collect();
    if let Some((size, idle)) = service.pool_state() {
        let idle = f64::from(u32::try_from(idle).unwrap_or(u32::MAX));
        metrics::gauge!("roster_db_pool_connections", "state" => "idle").set(idle);
        metrics::gauge!("roster_db_pool_connections", "state" => "in_use")
            .set((f64::from(size) - idle).max(0.0));
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        settings.handle.render(),
    )
        .into_response()
}
