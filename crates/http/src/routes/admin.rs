//! Roster extension: applications over HTTP, for callers with the `all` permission.
//! Under `/roster/v1`, apart from the OneAccess paths.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::{JsonBody, PathIds, Query};
use crate::params::{AppPath, AuditQuery, Paging};
use crate::views::{
    ApplicationIdView, ApplicationList, ApplicationView, AuditList, CredentialsView,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::permission::Permission;
use roster_domain::sso::SsoFields;
use roster_domain::Result as DomainResult;
use roster_service::Service;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show))
        .routes(routes!(enable))
        .routes(routes!(disable))
        .routes(routes!(rotate))
        .routes(routes!(permissions))
        .routes(routes!(audit))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
struct ApplicationFields {
    name: Option<String>,
    api_permissions: Option<Vec<String>>,
    /// Sign-in settings to register with the application (as `PUT …/sso` takes them).
    sso: Option<SsoFields>,
}

fn parse_codes(codes: Option<Vec<String>>) -> DomainResult<Vec<Permission>> {
    codes
        .unwrap_or_default()
        .iter()
        .map(|c| Permission::parse(c))
        .collect()
}

/// Registers an application → 201 with its credentials (the secret is shown only here).
#[utoipa::path(
    post,
    path = "/roster/v1/applications",
    operation_id = "CreateApplication",
    tag = "roster extension: applications",
    request_body = ApplicationFields,
    responses((status = 201, description = "Success.", body = CredentialsView), ErrorResponses),
    security(("bearer" = []))
)]
async fn create(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    JsonBody(fields): JsonBody<ApplicationFields>,
) -> Result<(StatusCode, Json<CredentialsView>), ApiError> {
    let permissions = parse_codes(fields.api_permissions)?;
    let created = service
        .create_application(&caller, fields.name, permissions, fields.sso)
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(
    get,
    path = "/roster/v1/applications",
    operation_id = "ListApplications",
    tag = "roster extension: applications",
    params(Paging),
    responses((status = 200, description = "Success.", body = ApplicationList), ErrorResponses),
    security(("bearer" = []))
)]
async fn list(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    Query(paging, _): Query<Paging>,
) -> Result<Json<ApplicationList>, ApiError> {
    let page = service.list_applications(&caller, paging.page()?).await?;
    Ok(Json(page.into()))
}

#[utoipa::path(
    get,
    path = "/roster/v1/applications/{application_id}",
    operation_id = "ShowApplication",
    tag = "roster extension: applications",
    params(AppPath),
    responses((status = 200, description = "Success.", body = ApplicationView), ErrorResponses),
    security(("bearer" = []))
)]
async fn show(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
) -> Result<Json<ApplicationView>, ApiError> {
    Ok(Json(
        service
            .show_application(&caller, path.application_id)
            .await?
            .into(),
    ))
}

#[utoipa::path(
    put,
    path = "/roster/v1/applications/{application_id}/enable",
    operation_id = "EnableApplication",
    tag = "roster extension: applications",
    params(AppPath),
    responses((status = 200, description = "Success.", body = ApplicationIdView), ErrorResponses),
    security(("bearer" = []))
)]
async fn enable(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
) -> Result<Json<ApplicationIdView>, ApiError> {
    service
        .set_application_disabled(&caller, path.application_id.clone(), false)
        .await?;
    Ok(Json(ApplicationIdView {
        application_id: path.application_id,
    }))
}

/// Disables an application: its tokens stop working and it can get no new ones.
#[utoipa::path(
    put,
    path = "/roster/v1/applications/{application_id}/disable",
    operation_id = "DisableApplication",
    tag = "roster extension: applications",
    params(AppPath),
    responses((status = 200, description = "Success.", body = ApplicationIdView), ErrorResponses),
    security(("bearer" = []))
)]
async fn disable(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
) -> Result<Json<ApplicationIdView>, ApiError> {
    service
        .set_application_disabled(&caller, path.application_id.clone(), true)
        .await?;
    Ok(Json(ApplicationIdView {
        application_id: path.application_id,
    }))
}

/// Issues a new client secret (shown only here); the old secret and its tokens stop working.
#[utoipa::path(
    post,
    path = "/roster/v1/applications/{application_id}/secret",
    operation_id = "RotateApplicationSecret",
    tag = "roster extension: applications",
    params(AppPath),
    responses((status = 200, description = "Success.", body = CredentialsView), ErrorResponses),
    security(("bearer" = []))
)]
async fn rotate(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
) -> Result<Json<CredentialsView>, ApiError> {
    Ok(Json(
        service
            .rotate_client_secret(&caller, path.application_id)
            .await?
            .into(),
    ))
}

/// Replaces the application's API permissions.
#[utoipa::path(
    put,
    path = "/roster/v1/applications/{application_id}/permissions",
    operation_id = "UpdateApplicationPermissions",
    tag = "roster extension: applications",
    params(AppPath),
    request_body = ApplicationFields,
    responses((status = 200, description = "Success.", body = ApplicationView), ErrorResponses),
    security(("bearer" = []))
)]
async fn permissions(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    JsonBody(fields): JsonBody<ApplicationFields>,
) -> Result<Json<ApplicationView>, ApiError> {
    let app = service
        .set_application_permissions(
            &caller,
            path.application_id,
            fields.api_permissions.unwrap_or_default(),
        )
        .await?;
    Ok(Json(app.into()))
}

/// Audit records, newest first: who (client id) did what (operation, target) when.
#[utoipa::path(
    get,
    path = "/roster/v1/audit",
    operation_id = "ListAuditRecords",
    tag = "roster extension: audit",
    params(AuditQuery, Paging),
    responses((status = 200, description = "Success.", body = AuditList), ErrorResponses),
    security(("bearer" = []))
)]
async fn audit(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    Query(query, _): Query<AuditQuery>,
    Query(paging, _): Query<Paging>,
) -> Result<Json<AuditList>, ApiError> {
    let page = service
        .list_audit(&caller, query.filter()?, paging.page()?)
        .await?;
    Ok(Json(page.into()))
}
