//! Organization management: `/api/v2/tenant/organizations…`.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::{JsonBody, PathIds, Query};
use crate::params::{OrgFilter, OrgPath, Paging};
use crate::views::{OrgIdView, OrgList, OrgView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::organization::{OrgFields, OrganizationId};
use roster_service::Service;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(update, delete, show))
}

/// `CreateOrganization` → 201 `{"org_id"}`.
#[utoipa::path(
    post,
    path = "/organizations",
    operation_id = "CreateOrganization",
    tag = "organizations",
    request_body = OrgFields,
    responses((status = 201, description = "Success.", body = OrgIdView), ErrorResponses),
    security(("bearer" = []))
)]
async fn create(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    JsonBody(fields): JsonBody<OrgFields>,
) -> Result<(StatusCode, Json<OrgIdView>), ApiError> {
    let org_id = service.create_organization(&caller, fields).await?;
    Ok((
        StatusCode::CREATED,
        Json(OrgIdView {
            org_id: org_id.into_string(),
        }),
    ))
}

/// `UpdateOrganization` → 200 `{"org_id"}`.
#[utoipa::path(
    put,
    path = "/organizations/{org_id}",
    operation_id = "UpdateOrganization",
    tag = "organizations",
    params(OrgPath),
    request_body = OrgFields,
    responses((status = 200, description = "Success.", body = OrgIdView), ErrorResponses),
    security(("bearer" = []))
)]
async fn update(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<OrgPath>,
    JsonBody(fields): JsonBody<OrgFields>,
) -> Result<Json<OrgIdView>, ApiError> {
    let org_id = service
        .update_organization(&caller, path.org_id, fields)
        .await?;
    Ok(Json(OrgIdView {
        org_id: org_id.into_string(),
    }))
}

/// `DeleteOrganization` → 204.
#[utoipa::path(
    delete,
    path = "/organizations/{org_id}",
    operation_id = "DeleteOrganization",
    tag = "organizations",
    params(OrgPath),
    responses((status = 204, description = "Success."), ErrorResponses),
    security(("bearer" = []))
)]
async fn delete(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<OrgPath>,
) -> Result<StatusCode, ApiError> {
    service.delete_organization(&caller, path.org_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `ShowOrganizationById`.
#[utoipa::path(
    get,
    path = "/organizations/{org_id}",
    operation_id = "ShowOrganizationById",
    tag = "organizations",
    params(OrgPath),
    responses((status = 200, description = "Success.", body = OrgView), ErrorResponses),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    get,
    path = "/organizations",
    operation_id = "ListOrganizations",
    tag = "organizations",
    params(OrgFilter, Paging),
    responses((status = 200, description = "Success.", body = OrgList<OrgView>), ErrorResponses),
    security(("bearer" = []))
)]
async fn list(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    Query(filter, _): Query<OrgFilter>,
    Query(paging, _): Query<Paging>,
) -> Result<Json<OrgList<OrgView>>, ApiError> {
    let page = service
        .list_organizations(
            &caller,
            filter.org_id().map(OrganizationId::new),
            filter.all_child()?,
            paging.page()?,
        )
        .await?;
    Ok(Json(OrgList::from_page(page)))
}
