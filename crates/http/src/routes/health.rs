//! Liveness (the process answers) and health (the store answers too).

use crate::error::ApiError;
use axum::routing::get;
use axum::{Json, Router};
use roster_service::Service;
use serde_json::{json, Value};

pub fn router() -> Router<Service> {
    Router::new()
        .route("/health", get(health))
        .route("/health/live", get(live))
}

async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn health(
    axum::extract::State(service): axum::extract::State<Service>,
) -> Result<Json<Value>, ApiError> {
    service.check_store().await?;
    Ok(Json(
        json!({ "status": "ok", "store": service.store().backend() }),
    ))
}
