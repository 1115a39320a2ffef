//! Application organizations: `/api/v2/tenant/applications/{application_id}/organizations…`.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::{JsonBody, ListQuery, PathIds, QueryParams};
use crate::views::{AppOrgView, OrgIdView, OrgList};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::organization::AppOrgFields;
use roster_service::Service;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(update, delete, show))
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
#[utoipa::path(
    post,
    path = "/applications/{application_id}/organizations",
    operation_id = "CreateAppOrg",
    tag = "application organizations",
    params(("application_id" = String, Path, description = "Application id.")),
    request_body = AppOrgFields,
    responses((status = 201, description = "Success.", body = OrgIdView), ErrorResponses),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    put,
    path = "/applications/{application_id}/organizations/{org_id}",
    operation_id = "UpdateAppOrg",
    tag = "application organizations",
    params(("application_id" = String, Path, description = "Application id."), ("org_id" = String, Path, description = "Org id.")),
    request_body = AppOrgFields,
    responses((status = 200, description = "Success.", body = OrgIdView), ErrorResponses),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    delete,
    path = "/applications/{application_id}/organizations/{org_id}",
    operation_id = "DeleteAppOrg",
    tag = "application organizations",
    params(("application_id" = String, Path, description = "Application id."), ("org_id" = String, Path, description = "Org id.")),
    responses((status = 204, description = "Success."), ErrorResponses),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    get,
    path = "/applications/{application_id}/organizations/{org_id}",
    operation_id = "ShowAppOrgById",
    tag = "application organizations",
    params(("application_id" = String, Path, description = "Application id."), ("org_id" = String, Path, description = "Org id.")),
    responses((status = 200, description = "Success.", body = AppOrgView), ErrorResponses),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    get,
    path = "/applications/{application_id}/organizations",
    operation_id = "ListAppOrganizations",
    tag = "application organizations",
    params(("application_id" = String, Path, description = "Application id."), ("offset" = Option<i64>, Query, minimum = 0, maximum = 10000000, description = "Page number, from 0."), ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size, 1 to 100 (default 10).")),
    responses((status = 200, description = "Success.", body = OrgList<AppOrgView>), ErrorResponses),
    security(("bearer" = []))
)]
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
