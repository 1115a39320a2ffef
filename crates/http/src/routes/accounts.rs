//! Application accounts: `/api/v2/tenant/applications/{application_id}/accounts…`.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::{JsonBody, PathIds, Query};
use crate::params::{AccountFilter, AccountPath, AppPath, Paging};
use crate::views::{AccountIdView, AccountList, AccountView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::account::AccountFields;
use roster_service::Service;
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

type IdAnswer = Result<Json<AccountIdView>, ApiError>;

/// Add an application account → 201 `{"account_id"}`.
#[utoipa::path(
    post,
    path = "/applications/{application_id}/accounts/basic-account",
    operation_id = "CreateAppAccount",
    tag = "application accounts",
    params(AppPath),
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
    params(AccountPath),
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
    params(AccountPath),
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
    params(AccountPath),
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
    params(AccountPath),
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
    params(AccountPath),
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
    params(AppPath, AccountFilter, Paging),
    responses((status = 200, description = "Success.", body = AccountList<AccountView>), ErrorResponses),
    security(("bearer" = []))
)]
async fn list(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    Query(filter, _): Query<AccountFilter>,
    Query(paging, _): Query<Paging>,
) -> Result<Json<AccountList<AccountView>>, ApiError> {
    let page = service
        .list_accounts(
            &caller,
            path.application_id,
            filter.account_type()?,
            paging.page()?,
        )
        .await?;
    Ok(Json(AccountList::from_page(page)))
}
