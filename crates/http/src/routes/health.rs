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

/// The process and its store answer (Roster extension).
#[utoipa::path(get, path = "/health",
    operation_id = "ShowHealth", tag = "roster extension: health",
    responses((status = 200, description = "The store answers.", body = Object),
        (status = 503, description = "The store does not answer.", body = crate::error::ErrorBody)))]
async fn health(
    axum::extract::State(service): axum::extract::State<Service>,
) -> Result<Json<Value>, ApiError> {
    service.check_store().await?;
    Ok(Json(
        json!({ "status": "ok", "store": service.store().backend() }),
    ))
}
