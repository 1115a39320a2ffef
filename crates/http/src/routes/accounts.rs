//! Application accounts: `/api/v2/tenant/applications/{application_id}/accounts…`.

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathIds};
use crate::views::{AccountIdView, AccountView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use roster_domain::account::AccountFields;
use roster_service::Service;
use serde::Deserialize;

pub fn router() -> Router<Service> {
    Router::new()
        .route(
            "/applications/{application_id}/accounts/basic-account",
            post(add_basic_account),
        )
        .route(
            "/applications/{application_id}/accounts/{account_id}",
            get(show_account).put(update_account),
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
async fn update_account(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AccountPath>,
    JsonBody(fields): JsonBody<AccountFields>,
) -> Result<Json<AccountIdView>, ApiError> {
    let account_id = service
        .update_account(&caller, path.application_id, path.account_id, fields)
        .await?;
    Ok(Json(AccountIdView { account_id }))
}

/// `ShowAppAccountById`.
async fn show_account(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AccountPath>,
) -> Result<Json<AccountView>, ApiError> {
    let account = service
        .show_account(&caller, path.application_id, path.account_id)
        .await?;
    Ok(Json(account.into()))
}
