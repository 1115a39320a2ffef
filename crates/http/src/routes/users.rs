//! User management: `/api/v2/tenant/users…`.

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{JsonBody, PathIds};
use crate::views::{AccountIdView, AccountList, UserAccountView, UserIdView, UserView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use roster_domain::account::AuthorizeFields;
use roster_domain::user::UserFields;
use roster_service::Service;
use serde::Deserialize;

pub fn router() -> Router<Service> {
    Router::new()
        .route("/users", post(create_user))
        .route("/users/{user_id}", get(show_user))
        .route("/users/{user_id}/accounts", get(accounts_of_user))
        .route(
            "/users/{user_id}/applications/{application_id}/accounts",
            post(authorize_account),
        )
}

#[derive(Deserialize)]
struct UserPath {
    user_id: String,
}

#[derive(Deserialize)]
struct UserAppPath {
    user_id: String,
    application_id: String,
}

/// `CreateUser` → 201 `{"user_id"}`.
async fn create_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    JsonBody(fields): JsonBody<UserFields>,
) -> Result<(StatusCode, Json<UserIdView>), ApiError> {
    let user_id = service.create_user(&caller, fields).await?;
    Ok((StatusCode::CREATED, Json(UserIdView { user_id })))
}

/// `ShowUserById`.
async fn show_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(service.show_user(&caller, path.user_id).await?.into()))
}

/// `ListAppAccountsByUserId`.
async fn accounts_of_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
) -> Result<Json<AccountList<UserAccountView>>, ApiError> {
    let accounts = service.accounts_of_user(&caller, path.user_id).await?;
    Ok(Json(AccountList {
        total: accounts.len() as u64,
        accounts: accounts.into_iter().map(Into::into).collect(),
    }))
}

/// `CreateAppAccountForUser` → 200 `{"account_id"}`.
async fn authorize_account(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserAppPath>,
    JsonBody(fields): JsonBody<AuthorizeFields>,
) -> Result<Json<AccountIdView>, ApiError> {
    let account_id = service
        .authorize_account(&caller, path.user_id, path.application_id, fields)
        .await?;
    Ok(Json(AccountIdView { account_id }))
}
