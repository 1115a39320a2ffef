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

/// The operation id of each (method, route template), from the OpenAPI document.
#[derive(Debug, Default)]
pub(crate) struct Operations(HashMap<(Method, String), String>);

impl Operations {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let mut map = HashMap::new();
        for (path, item) in &api.paths.paths {
            let methods = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::DELETE, &item.delete),
            ];
            for (method, operation) in methods {
                if let Some(id) = operation.as_ref().and_then(|o| o.operation_id.clone()) {
                    map.insert((method, path.clone()), id);
                }
            }
        }
        Self(map)
    }

    /// The operation a request was, for labels: its operation id, or a fixed word.
    pub fn name(&self, method: &Method, route: Option<&str>) -> String {
        match route {
            None => "unmatched".to_owned(),
            Some(route) => self
                .0
                .get(&(method.clone(), route.to_owned()))
                .cloned()
                .unwrap_or_else(|| route.trim_start_matches('/').replace('/', "_")),
        }
    }
}

pub(crate) fn record_build_info() {
    metrics::gauge!("roster_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
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
