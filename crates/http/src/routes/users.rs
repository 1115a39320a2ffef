//! User management: `/api/v2/tenant/users…`.

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{JsonBody, ListQuery, PathIds, QueryParams};
use crate::views::{AccountIdView, AccountList, UserAccountView, UserIdView, UserList, UserView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use roster_domain::account::AuthorizeFields;
use roster_domain::user::{PasswordFields, UserFields, UserNameFields};
use roster_service::Service;
use serde::Deserialize;

pub fn router() -> Router<Service> {
    Router::new()
        .route("/users", post(create_user).get(list_users))
        .route("/users/user-by-username", post(show_user_by_name))
        .route(
            "/users/{user_id}",
            get(show_user).put(update_user).delete(delete_user),
        )
        .route("/users/{user_id}/enable", put(enable_user))
        .route("/users/{user_id}/disable", put(disable_user))
        .route("/users/{user_id}/change-password", put(change_password))
        .route(
            "/users/{user_id}/change-password-verify",
            put(change_password_verified),
        )
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

type IdAnswer = Result<Json<UserIdView>, ApiError>;

fn user_id(user_id: String) -> IdAnswer {
    Ok(Json(UserIdView { user_id }))
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

/// `ListUsers`.
async fn list_users(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<UserList>, ApiError> {
    let page = service
        .list_users(&caller, query.org_id(), query.page()?)
        .await?;
    Ok(Json(UserList {
        total: page.total,
        users: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// `ShowUserById`.
async fn show_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(service.show_user(&caller, path.user_id).await?.into()))
}

/// `ShowUserByUserName` (a POST, as in the reference).
async fn show_user_by_name(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    JsonBody(fields): JsonBody<UserNameFields>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(
        service.show_user_by_name(&caller, fields).await?.into(),
    ))
}

/// `UpdateUser` → 200 `{"user_id"}`.
async fn update_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
    JsonBody(fields): JsonBody<UserFields>,
) -> IdAnswer {
    user_id(service.update_user(&caller, path.user_id, fields).await?)
}

/// `DeleteUser` → 204.
async fn delete_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
) -> Result<StatusCode, ApiError> {
    service.delete_user(&caller, path.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `EnableUser` → 200 `{"user_id"}`.
async fn enable_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
) -> IdAnswer {
    user_id(
        service
            .set_user_disabled(&caller, path.user_id, false)
            .await?,
    )
}

/// `DisableUser` → 200 `{"user_id"}`.
async fn disable_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
) -> IdAnswer {
    user_id(
        service
            .set_user_disabled(&caller, path.user_id, true)
            .await?,
    )
}

/// `UpdateUserPwd` → 200 `{"user_id"}`.
async fn change_password(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
    JsonBody(fields): JsonBody<PasswordFields>,
) -> IdAnswer {
    user_id(
        service
            .change_password(&caller, path.user_id, fields)
            .await?,
    )
}

/// `UpdateUserPwdWithOldPwd` → 200 `{"user_id"}`.
async fn change_password_verified(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
    JsonBody(fields): JsonBody<PasswordFields>,
) -> IdAnswer {
    user_id(
        service
            .change_password_verified(&caller, path.user_id, fields)
            .await?,
    )
}

/// `ListAppAccountsByUserId`.
async fn accounts_of_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
) -> Result<Json<AccountList<UserAccountView>>, ApiError> {
    let accounts = service.accounts_of_user(&caller, path.user_id).await?;
    Ok(Json(AccountList {
        total: accounts.len() as i64,
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
