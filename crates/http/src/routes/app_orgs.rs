//! Application organizations: `/api/v2/tenant/applications/{application_id}/organizations…`.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::{JsonBody, PathIds, Query};
use crate::params::{AppOrgPath, AppPath, Paging};
use crate::views::{AppOrgView, OrgIdView, OrgList};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::organization::AppOrgFields;
use roster_service::Service;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(update, delete, show))
}

/// `CreateAppOrg` → 201 `{"org_id"}`.
#[utoipa::path(
    post,
    path = "/applications/{application_id}/organizations",
    operation_id = "CreateAppOrg",
    tag = "application organizations",
    params(AppPath),
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
    Ok((
        StatusCode::CREATED,
        Json(OrgIdView {
            org_id: org_id.into_string(),
        }),
    ))
}

/// `UpdateAppOrg` → 200 `{"org_id"}`.
#[utoipa::path(
    put,
    path = "/applications/{application_id}/organizations/{org_id}",
    operation_id = "UpdateAppOrg",
    tag = "application organizations",
    params(AppOrgPath),
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
    Ok(Json(OrgIdView {
        org_id: org_id.into_string(),
    }))
}

/// `DeleteAppOrg` → 204.
#[utoipa::path(
    delete,
    path = "/applications/{application_id}/organizations/{org_id}",
    operation_id = "DeleteAppOrg",
    tag = "application organizations",
    params(AppOrgPath),
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
    params(AppOrgPath),
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
    params(AppPath, Paging),
    responses((status = 200, description = "Success.", body = OrgList<AppOrgView>), ErrorResponses),
    security(("bearer" = []))
)]
async fn list(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    Query(paging, _): Query<Paging>,
) -> Result<Json<OrgList<AppOrgView>>, ApiError> {
    let page = service
        .list_app_orgs(&caller, path.application_id, paging.page()?)
        .await?;
    Ok(Json(OrgList::from_page(page)))
}
