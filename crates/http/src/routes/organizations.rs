//! Organization management: `/api/v2/tenant/organizations…`.

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{JsonBody, ListQuery, PathIds, QueryParams};
use crate::views::{OrgIdView, OrgList, OrgView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use roster_domain::organization::OrgFields;
use roster_service::Service;
use serde::Deserialize;

pub fn router() -> Router<Service> {
    Router::new()
        .route("/organizations", post(create).get(list))
        .route(
            "/organizations/{org_id}",
            get(show).put(update).delete(delete),
        )
}

#[derive(Deserialize)]
struct OrgPath {
    org_id: String,
}

/// `CreateOrganization` → 201 `{"org_id"}`.
async fn create(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    JsonBody(fields): JsonBody<OrgFields>,
) -> Result<(StatusCode, Json<OrgIdView>), ApiError> {
    let org_id = service.create_organization(&caller, fields).await?;
    Ok((StatusCode::CREATED, Json(OrgIdView { org_id })))
}

/// `UpdateOrganization` → 200 `{"org_id"}`.
async fn update(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<OrgPath>,
    JsonBody(fields): JsonBody<OrgFields>,
) -> Result<Json<OrgIdView>, ApiError> {
    let org_id = service
        .update_organization(&caller, path.org_id, fields)
        .await?;
    Ok(Json(OrgIdView { org_id }))
}

/// `DeleteOrganization` → 204.
async fn delete(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<OrgPath>,
) -> Result<StatusCode, ApiError> {
    service.delete_organization(&caller, path.org_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `ShowOrganizationById`.
async fn show(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<OrgPath>,
) -> Result<Json<OrgView>, ApiError> {
    Ok(Json(
        service
            .show_organization(&caller, path.org_id)
            .await?
            .into(),
    ))
}

/// `ListOrganizations`.
async fn list(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<OrgList<OrgView>>, ApiError> {
    let page = service
        .list_organizations(&caller, query.org_id(), query.all_child()?, query.page()?)
        .await?;
    Ok(Json(OrgList::from_page(page)))
}
