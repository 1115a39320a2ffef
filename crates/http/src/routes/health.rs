//! Liveness (the process answers) and health (the store answers too).

use crate::error::ApiError;
use axum::Json;
use roster_service::Service;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(live))
}

/// The process answers (Roster extension).
#[utoipa::path(get, path = "/health/live",
    operation_id = "ShowLiveness", tag = "roster extension: health",
    responses((status = 200, description = "The process is up.", body = Object)))]
async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The process answers, its store answers reads and takes writes (Roster extension): 200
/// `{"status": "ok", "version", "store", "read": "ok", "write": "ok"}`; 503 `SYSTEM.0002` when
/// the store cannot be read, `SYSTEM.0003` when it is read but writes fail (a full disk).
#[utoipa::path(get, path = "/health",
    operation_id = "ShowHealth", tag = "roster extension: health",
    responses((status = 200, description = "The store answers.", body = Object),
        (status = 503, description = "The store does not answer.", body = crate::error::ErrorBody)))]
async fn health(
    axum::extract::State(service): axum::extract::State<Service>,
) -> Result<Json<Value>, ApiError> {
    service.check_store().await?;
    let mut health = json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "store": service.backend(),
        "read": "ok",
        "write": "ok",
    });
    if service.in_test_mode() {
        // Whoever reads it learns this is a stand-in whose clock and data tests move.
        if let Some(fields) = health.as_object_mut() {
            fields.insert("test_mode".to_owned(), json!(true));
        }
    }
    Ok(Json(health))
}
