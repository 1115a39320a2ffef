//! Application accounts: `/api/v2/tenant/applications/{application_id}/accounts…`.

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{JsonBody, ListQuery, PathIds, QueryParams};
use crate::views::{AccountIdView, AccountList, AccountView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use roster_domain::account::AccountFields;
use roster_service::Service;
use serde::Deserialize;

pub fn router() -> Router<Service> {
    Router::new()
        .route("/applications/{application_id}/accounts", get(list))
        .route(
            "/applications/{application_id}/accounts/basic-account",
            post(add_basic_account),
        )
        .route(
            "/applications/{application_id}/accounts/{account_id}",
            get(show).put(update).delete(delete),
        )
        .route(
            "/applications/{application_id}/accounts/{account_id}/enable",
            put(enable),
        )
        .route(
            "/applications/{application_id}/accounts/{account_id}/disable",
            put(disable),
        )
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
