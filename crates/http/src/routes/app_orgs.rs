//! Application organizations: `/api/v2/tenant/applications/{application_id}/organizations…`.

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{JsonBody, ListQuery, PathIds, QueryParams};
use crate::views::{AppOrgView, OrgIdView, OrgList};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use roster_domain::organization::AppOrgFields;
use roster_service::Service;
use serde::Deserialize;

pub fn router() -> Router<Service> {
    Router::new()
        .route(
            "/applications/{application_id}/organizations",
            post(create).get(list),
        )
        .route(
            "/applications/{application_id}/organizations/{org_id}",
            get(show).put(update).delete(delete),
        )
}

#[derive(Deserialize)]
struct AppPath {
    application_id: String,
}

#[derive(Deserialize)]
struct AppOrgPath {
    application_id: String,
    org_id: String,
}

/// `CreateAppOrg` → 201 `{"org_id"}`.
async fn create(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    JsonBody(fields): JsonBody<AppOrgFields>,
) -> Result<(StatusCode, Json<OrgIdView>), ApiError> {
    let org_id = service
        .create_app_org(&caller, path.application_id, fields)
        .await?;
    Ok((StatusCode::CREATED, Json(OrgIdView { org_id })))
}

/// `UpdateAppOrg` → 200 `{"org_id"}`.
async fn update(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppOrgPath>,
    JsonBody(fields): JsonBody<AppOrgFields>,
) -> Result<Json<OrgIdView>, ApiError> {
    let org_id = service
        .update_app_org(&caller, path.application_id, path.org_id, fields)
        .await?;
    Ok(Json(OrgIdView { org_id }))
}

/// `DeleteAppOrg` → 204.
async fn delete(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppOrgPath>,
) -> Result<StatusCode, ApiError> {
    service
        .delete_app_org(&caller, path.application_id, path.org_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `ShowAppOrgById`.
async fn show(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppOrgPath>,
) -> Result<Json<AppOrgView>, ApiError> {
    let org = service
        .show_app_org(&caller, path.application_id, path.org_id)
        .await?;
    Ok(Json(org.into()))
}

/// `ListAppOrganizations`.
async fn list(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<OrgList<AppOrgView>>, ApiError> {
    let page = service
        .list_app_orgs(&caller, path.application_id, query.page()?)
        .await?;
    Ok(Json(OrgList::from_page(page)))
}
