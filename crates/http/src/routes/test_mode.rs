//! The test-mode control API (a Roster extension): `/roster/v1/test/…`, routed only when the
//! server runs with `--test-mode`, every call asking for the `all` permission. Not API
//! operations of the OneAccess tree: no place in the OpenAPI document (a server outside test
//! mode has none of it); docs/testing-with-roster.md is their reference.

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathIds, Query};
use crate::metrics::Operations;
use crate::test_mode::{TestMode, JOURNAL_CAPACITY};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use roster_domain::test_mode::{ClockFields, FaultFields, ResetTo};
use roster_domain::time::format_millis;
use roster_domain::{Error, ErrorKind};
use roster_service::{ClockState, Service};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

pub(crate) fn router(test_mode: Arc<TestMode>, operations: Arc<Operations>) -> Router<Service> {
    Router::new()
        .route("/roster/v1/test/reset", post(reset))
        .route("/roster/v1/test/snapshots", get(snapshots))
        .route(
            "/roster/v1/test/snapshots/{name}",
            post(take_snapshot).delete(delete_snapshot),
        )
        .route(
            "/roster/v1/test/snapshots/{name}/restore",
            post(restore_snapshot),
        )
        .route("/roster/v1/test/clock", get(clock).post(move_clock))
        .route(
            "/roster/v1/test/faults",
            get(faults).post(add_fault).delete(clear_faults),
        )
        .route(
            "/roster/v1/test/faults/{id}",
            axum::routing::delete(clear_fault),
        )
        .route(
            "/roster/v1/test/requests",
            get(journal).delete(clear_journal),
        )
        .layer(Extension(test_mode))
        .layer(Extension(operations))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetFields {
    to: Option<ResetTo>,
}

/// `POST /roster/v1/test/reset` `{"to": "fixtures" | "empty"}`: the whole directory back as
/// the server started. Tokens, sessions and codes issued since are gone with it.
async fn reset(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    JsonBody(fields): JsonBody<ResetFields>,
) -> Result<Json<Value>, ApiError> {
    let to = fields.to.unwrap_or_default();
    service.reset(&caller, to).await?;
    Ok(Json(json!({ "reset_to": to })))
}

async fn snapshots(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let names = service.snapshots(&caller).await?;
    Ok(Json(json!({ "snapshots": names })))
}

#[derive(Debug, Deserialize)]
struct NamePath {
    name: String,
}

async fn take_snapshot(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<NamePath>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = service.take_snapshot(&caller, &path.name).await?;
    Ok((StatusCode::CREATED, Json(json!({ "snapshot": name }))))
}

async fn delete_snapshot(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<NamePath>,
) -> Result<Json<Value>, ApiError> {
    service.delete_snapshot(&caller, &path.name).await?;
    Ok(Json(json!({ "deleted": path.name })))
}

async fn restore_snapshot(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<NamePath>,
) -> Result<Json<Value>, ApiError> {
    service.restore_snapshot(&caller, &path.name).await?;
    Ok(Json(json!({ "restored": path.name })))
}

fn clock_view(state: ClockState) -> Json<Value> {
    Json(json!({
        "now": format_millis(state.now),
        "now_ms": state.now,
        "offset_secs": state.offset_ms / 1000,
    }))
}

async fn clock(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Value>, ApiError> {
    Ok(clock_view(service.clock_state(&caller)?))
}

/// `POST /roster/v1/test/clock` `{"advance_secs": N}` or `{"real_time": true}`.
async fn move_clock(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    JsonBody(fields): JsonBody<ClockFields>,
) -> Result<Json<Value>, ApiError> {
    Ok(clock_view(service.move_clock(&caller, fields)?))
}

async fn faults(
    State(service): State<Service>,
    Extension(test_mode): Extension<Arc<TestMode>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Value>, ApiError> {
    service.require_test_control(&caller)?;
    Ok(Json(json!({ "faults": test_mode.faults() })))
}

async fn add_fault(
    State(service): State<Service>,
    Extension(test_mode): Extension<Arc<TestMode>>,
    Extension(operations): Extension<Arc<Operations>>,
    Authenticated(caller): Authenticated,
    JsonBody(fields): JsonBody<FaultFields>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    service.require_test_control(&caller)?;
    let rule = fields.into_rule(|op| operations.has(op))?;
    let set = test_mode.add_fault(rule)?;
    Ok((StatusCode::CREATED, Json(json!(set))))
}

async fn clear_faults(
    State(service): State<Service>,
    Extension(test_mode): Extension<Arc<TestMode>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Value>, ApiError> {
    service.require_test_control(&caller)?;
    test_mode.clear_faults(None);
    Ok(Json(json!({ "faults": [] })))
}

#[derive(Debug, Deserialize)]
struct FaultPath {
    id: u64,
}

async fn clear_fault(
    State(service): State<Service>,
    Extension(test_mode): Extension<Arc<TestMode>>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<FaultPath>,
) -> Result<Json<Value>, ApiError> {
    service.require_test_control(&caller)?;
    if !test_mode.clear_faults(Some(path.id)) {
        return Err(Error::with_detail(
            ErrorKind::InvalidParameter,
            format!("no fault rule {} is set.", path.id),
        )
        .into());
    }
    Ok(Json(json!({ "cleared": path.id })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalQuery {
    operation: Option<String>,
    caller: Option<String>,
    limit: Option<usize>,
}

/// `GET /roster/v1/test/requests?operation=ListUsers&caller=my-app&limit=N`: the last
/// requests (oldest first), bodies with secrets redacted.
async fn journal(
    State(service): State<Service>,
    Extension(test_mode): Extension<Arc<TestMode>>,
    Authenticated(caller): Authenticated,
    Query(query, _): Query<JournalQuery>,
) -> Result<Json<Value>, ApiError> {
    service.require_test_control(&caller)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=JOURNAL_CAPACITY).contains(&limit) {
        return Err(Error::invalid(format!("limit must be 1 to {JOURNAL_CAPACITY}.")).into());
    }
    let entries = test_mode.journal(query.operation.as_deref(), query.caller.as_deref(), limit);
    Ok(Json(json!({ "requests": entries })))
}

async fn clear_journal(
    State(service): State<Service>,
    Extension(test_mode): Extension<Arc<TestMode>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Value>, ApiError> {
    service.require_test_control(&caller)?;
    test_mode.clear_journal();
    Ok(Json(json!({ "requests": [] })))
}
