//! Application accounts: `/api/v2/tenant/applications/{application_id}/accounts…`.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::{JsonBody, ListQuery, PathIds, QueryParams};
use crate::views::{AccountIdView, AccountList, AccountView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::account::AccountFields;
use roster_service::Service;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(add_basic_account))
        .routes(routes!(update, delete, show))
        .routes(routes!(enable))
        .routes(routes!(disable))
        .routes(routes!(list))
}

#[derive(Deserialize)]
struct AppPath {
    application_id: String,
}

#[derive(Deserialize)]
struct AccountPath {
    application_id: String,
    account_id: String,
}

type IdAnswer = Result<Json<AccountIdView>, ApiError>;

/// Add an application account → 201 `{"account_id"}`.
#[utoipa::path(
    post,
    path = "/applications/{application_id}/accounts/basic-account",
    operation_id = "CreateAppAccount",
    tag = "application accounts",
    params(("application_id" = String, Path, description = "Application id.")),
    request_body = AccountFields,
    responses((status = 201, description = "Success.", body = AccountIdView), ErrorResponses),
    security(("bearer" = []))
)]
async fn add_basic_account(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    JsonBody(fields): JsonBody<AccountFields>,
) -> Result<(StatusCode, Json<AccountIdView>), ApiError> {
    let account_id = service
        .add_basic_account(&caller, path.application_id, fields)
        .await?;
    Ok((StatusCode::CREATED, Json(AccountIdView { account_id })))
}

/// Update an application account → 200 `{"account_id"}`.
#[utoipa::path(
    put,
    path = "/applications/{application_id}/accounts/{account_id}",
    operation_id = "UpdateAppAccount",
    tag = "application accounts",
    params(("application_id" = String, Path, description = "Application id."), ("account_id" = String, Path, description = "Account id.")),
    request_body = AccountFields,
    responses((status = 200, description = "Success.", body = AccountIdView), ErrorResponses),
    security(("bearer" = []))
)]
async fn update(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AccountPath>,
    JsonBody(fields): JsonBody<AccountFields>,
) -> IdAnswer {
    let account_id = service
        .update_account(&caller, path.application_id, path.account_id, fields)
        .await?;
    Ok(Json(AccountIdView { account_id }))
}

/// `EnableAppAccount` → 200 `{"account_id"}`.
#[utoipa::path(
    put,
    path = "/applications/{application_id}/accounts/{account_id}/enable",
    operation_id = "EnableAppAccount",
    tag = "application accounts",
    params(("application_id" = String, Path, description = "Application id."), ("account_id" = String, Path, description = "Account id.")),
    responses((status = 200, description = "Success.", body = AccountIdView), ErrorResponses),
    security(("bearer" = []))
)]
async fn enable(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AccountPath>,
) -> IdAnswer {
    let account_id = service
        .set_account_disabled(&caller, path.application_id, path.account_id, false)
        .await?;
    Ok(Json(AccountIdView { account_id }))
}

/// `DisableAppAccount` → 200 `{"account_id"}`.
#[utoipa::path(
    put,
    path = "/applications/{application_id}/accounts/{account_id}/disable",
    operation_id = "DisableAppAccount",
    tag = "application accounts",
    params(("application_id" = String, Path, description = "Application id."), ("account_id" = String, Path, description = "Account id.")),
    responses((status = 200, description = "Success.", body = AccountIdView), ErrorResponses),
    security(("bearer" = []))
)]
async fn disable(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AccountPath>,
) -> IdAnswer {
    let account_id = service
        .set_account_disabled(&caller, path.application_id, path.account_id, true)
        .await?;
    Ok(Json(AccountIdView { account_id }))
}

/// `DeleteAppAccount` → 204.
#[utoipa::path(
    delete,
    path = "/applications/{application_id}/accounts/{account_id}",
    operation_id = "DeleteAppAccount",
    tag = "application accounts",
    params(("application_id" = String, Path, description = "Application id."), ("account_id" = String, Path, description = "Account id.")),
    responses((status = 204, description = "Success."), ErrorResponses),
    security(("bearer" = []))
)]
async fn delete(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AccountPath>,
) -> Result<StatusCode, ApiError> {
    service
        .delete_account(&caller, path.application_id, path.account_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `ShowAppAccountById`.
#[utoipa::path(
    get,
    path = "/applications/{application_id}/accounts/{account_id}",
    operation_id = "ShowAppAccountById",
    tag = "application accounts",
    params(("application_id" = String, Path, description = "Application id."), ("account_id" = String, Path, description = "Account id.")),
    responses((status = 200, description = "Success.", body = AccountView), ErrorResponses),
    security(("bearer" = []))
)]
async fn show(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AccountPath>,
) -> Result<Json<AccountView>, ApiError> {
    let account = service
        .show_account(&caller, path.application_id, path.account_id)
        .await?;
    Ok(Json(account.into()))
}

/// `ListAppAccounts`.
#[utoipa::path(
    get,
    path = "/applications/{application_id}/accounts",
    operation_id = "ListAppAccounts",
    tag = "application accounts",
    params(("application_id" = String, Path, description = "Application id."), ("account_type" = Option<String>, Query, description = "BASIC_ACCOUNT, ORPHAN_ACCOUNT or PUBLIC_ACCOUNT; empty means all."), ("offset" = Option<i64>, Query, minimum = 0, maximum = 10000000, description = "Page number, from 0."), ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size, 1 to 100 (default 10).")),
    responses((status = 200, description = "Success.", body = AccountList<AccountView>), ErrorResponses),
    security(("bearer" = []))
)]
async fn list(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<AccountList<AccountView>>, ApiError> {
    let page = service
        .list_accounts(
            &caller,
            path.application_id,
            query.account_type()?,
            query.page()?,
        )
        .await?;
    Ok(Json(AccountList::from_page(page)))
}
