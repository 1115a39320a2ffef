//! Application roles: `/api/v2/tenant/applications/{application_id}/role…`. Paths, status
//! codes and field names follow the reference exactly, odd ones included (singular `role`,
//! `role-list`, DELETE with a body, `account_Ids`).

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::{JsonBody, PathIds, Query};
use crate::params::{AppPath, MemberPaging, Paging, RolePath};
use crate::views::{MemberChangeView, RoleIdView, RoleList, RoleMemberList, RoleView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::role::{RoleFields, RoleMemberFields};
use roster_service::Service;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(update, delete, show))
        .routes(routes!(list))
        .routes(routes!(members))
        .routes(routes!(grant, revoke))
}

/// `CreateAppRole` → 200 (not 201) `{"role_id"}`.
#[utoipa::path(
    post,
    path = "/applications/{application_id}/role",
    operation_id = "CreateAppRole",
    tag = "application roles",
    params(AppPath),
    request_body = RoleFields,
    responses((status = 200, description = "Success.", body = RoleIdView), ErrorResponses),
    security(("bearer" = []))
)]
async fn create(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    JsonBody(fields): JsonBody<RoleFields>,
) -> Result<Json<RoleIdView>, ApiError> {
    let role_id = service
        .create_role(&caller, path.application_id, fields)
        .await?;
    Ok(Json(RoleIdView {
        role_id: role_id.into_string(),
    }))
}

/// `UpdateAppRole` → 200 `{"role_id"}`.
#[utoipa::path(
    put,
    path = "/applications/{application_id}/role/{role_id}",
    operation_id = "UpdateAppRole",
    tag = "application roles",
    params(RolePath),
    request_body = RoleFields,
    responses((status = 200, description = "Success.", body = RoleIdView), ErrorResponses),
    security(("bearer" = []))
)]
async fn update(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<RolePath>,
    JsonBody(fields): JsonBody<RoleFields>,
) -> Result<Json<RoleIdView>, ApiError> {
    let role_id = service
        .update_role(&caller, path.application_id, path.role_id, fields)
        .await?;
    Ok(Json(RoleIdView {
        role_id: role_id.into_string(),
    }))
}

/// `DeleteAppRole` → 200 with no body.
#[utoipa::path(
    delete,
    path = "/applications/{application_id}/role/{role_id}",
    operation_id = "DeleteAppRole",
    tag = "application roles",
    params(RolePath),
    responses((status = 200, description = "Success."), ErrorResponses),
    security(("bearer" = []))
)]
async fn delete(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<RolePath>,
) -> Result<StatusCode, ApiError> {
    service
        .delete_role(&caller, path.application_id, path.role_id)
        .await?;
    Ok(StatusCode::OK)
}

/// `ShowAppRoleById`.
#[utoipa::path(
    get,
    path = "/applications/{application_id}/role/{role_id}",
    operation_id = "ShowAppRoleById",
    tag = "application roles",
    params(RolePath),
    responses((status = 200, description = "Success.", body = RoleView), ErrorResponses),
    security(("bearer" = []))
)]
async fn show(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<RolePath>,
) -> Result<Json<RoleView>, ApiError> {
    let role = service
        .show_role(&caller, path.application_id, path.role_id)
        .await?;
    Ok(Json(role.into()))
}

/// `ListAppRoles` (echoes `offset` and `limit`).
#[utoipa::path(
    get,
    path = "/applications/{application_id}/role-list",
    operation_id = "ListAppRoles",
    tag = "application roles",
    params(AppPath, Paging),
    responses((status = 200, description = "Success.", body = RoleList), ErrorResponses),
    security(("bearer" = []))
)]
async fn list(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    Query(paging, _): Query<Paging>,
) -> Result<Json<RoleList>, ApiError> {
    let request = paging.page()?;
    let page = service
        .list_roles(&caller, path.application_id, request)
        .await?;
    Ok(Json(RoleList {
        total: page.total,
        offset: request.offset,
        limit: request.limit,
        roles: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// `ListAppRoleMembers`: the application accounts holding the role.
#[utoipa::path(
    get,
    path = "/applications/{application_id}/role-member-list/{role_id}",
    operation_id = "ListAppRoleMembers",
    tag = "application roles",
    params(RolePath, MemberPaging),
    responses((status = 200, description = "Success.", body = RoleMemberList), ErrorResponses),
    security(("bearer" = []))
)]
async fn members(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<RolePath>,
    Query(paging, _): Query<MemberPaging>,
) -> Result<Json<RoleMemberList>, ApiError> {
    // The one list whose page size the reference bounds below: 10 to 100.
    let request = paging.page()?;
    let page = service
        .list_role_members(&caller, path.application_id, path.role_id, request)
        .await?;
    Ok(Json(RoleMemberList {
        total: page.total,
        offset: request.offset,
        limit: request.limit,
        role_members: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// `CreateAppRoleMember` → 200 `{"success_list", "fail_list"}`.
#[utoipa::path(
    post,
    path = "/applications/{application_id}/role-member",
    operation_id = "CreateAppRoleMember",
    tag = "application roles",
    params(AppPath),
    request_body = RoleMemberFields,
    responses((status = 200, description = "Success.", body = MemberChangeView), ErrorResponses),
    security(("bearer" = []))
)]
async fn grant(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    JsonBody(fields): JsonBody<RoleMemberFields>,
) -> Result<Json<MemberChangeView>, ApiError> {
    let change = service
        .change_role_members(&caller, path.application_id, fields, true)
        .await?;
    Ok(Json(change.into()))
}

/// `DeleteAppRoleMember` (a DELETE with a JSON body) → 200 `{"success_list", "fail_list"}`.
#[utoipa::path(
    delete,
    path = "/applications/{application_id}/role-member",
    operation_id = "DeleteAppRoleMember",
    tag = "application roles",
    params(AppPath),
    request_body = RoleMemberFields,
    responses((status = 200, description = "Success.", body = MemberChangeView), ErrorResponses),
    security(("bearer" = []))
)]
async fn revoke(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    JsonBody(fields): JsonBody<RoleMemberFields>,
) -> Result<Json<MemberChangeView>, ApiError> {
    let change = service
        .change_role_members(&caller, path.application_id, fields, false)
        .await?;
    Ok(Json(change.into()))
}
