//! User management: `/api/v2/tenant/users…`.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::{JsonBody, PathIds, Query};
use crate::params::{Paging, UserAppPath, UserFilter, UserPath};
use crate::views::{AccountIdView, AccountList, UserAccountView, UserIdView, UserList, UserView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::account::AuthorizeFields;
use roster_domain::user::UserId;
use roster_domain::user::{PasswordFields, UserFields, UserNameFields};
use roster_service::Service;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(show_user, update_user, delete_user))
        .routes(routes!(show_user_by_name))
        .routes(routes!(enable_user))
        .routes(routes!(disable_user))
        .routes(routes!(change_password))
        .routes(routes!(change_password_verified))
        .routes(routes!(accounts_of_user))
        .routes(routes!(authorize_account))
}

type IdAnswer = Result<Json<UserIdView>, ApiError>;

fn user_id(user_id: UserId) -> IdAnswer {
    Ok(Json(UserIdView { user_id }))
}

/// `CreateUser` → 201 `{"user_id"}`.
#[utoipa::path(
    post,
    path = "/users",
    operation_id = "CreateUser",
    tag = "users",
    request_body = UserFields,
    responses((status = 201, description = "Success.", body = UserIdView), ErrorResponses),
    security(("bearer" = []))
)]
async fn create_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    JsonBody(fields): JsonBody<UserFields>,
) -> Result<(StatusCode, Json<UserIdView>), ApiError> {
    let user_id = service.create_user(&caller, fields).await?;
    Ok((StatusCode::CREATED, Json(UserIdView { user_id })))
}

/// `ListUsers`.
#[utoipa::path(
    get,
    path = "/users",
    operation_id = "ListUsers",
    tag = "users",
    params(UserFilter, Paging),
    responses((status = 200, description = "Success.", body = UserList), ErrorResponses),
    security(("bearer" = []))
)]
async fn list_users(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    Query(filter, _): Query<UserFilter>,
    Query(paging, _): Query<Paging>,
) -> Result<Json<UserList>, ApiError> {
    let page = service
        .list_users(
            &caller,
            filter.org_id(),
            filter.updated_at_greater()?,
            paging.page()?,
        )
        .await?;
    Ok(Json(UserList {
        total: page.total,
        users: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// `ShowUserById`.
#[utoipa::path(
    get,
    path = "/users/{user_id}",
    operation_id = "ShowUserById",
    tag = "users",
    params(UserPath),
    responses((status = 200, description = "Success.", body = UserView), ErrorResponses),
    security(("bearer" = []))
)]
async fn show_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(service.show_user(&caller, path.user_id).await?.into()))
}

/// `ShowUserByUserName` (a POST, as in the reference).
#[utoipa::path(
    post,
    path = "/users/user-by-username",
    operation_id = "ShowUserByUserName",
    tag = "users",
    request_body = UserNameFields,
    responses((status = 200, description = "Success.", body = UserView), ErrorResponses),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    put,
    path = "/users/{user_id}",
    operation_id = "UpdateUser",
    tag = "users",
    params(UserPath),
    request_body = UserFields,
    responses((status = 200, description = "Success.", body = UserIdView), ErrorResponses),
    security(("bearer" = []))
)]
async fn update_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
    JsonBody(fields): JsonBody<UserFields>,
) -> IdAnswer {
    user_id(service.update_user(&caller, path.user_id, fields).await?)
}

/// `DeleteUser` → 204.
#[utoipa::path(
    delete,
    path = "/users/{user_id}",
    operation_id = "DeleteUser",
    tag = "users",
    params(UserPath),
    responses((status = 204, description = "Success."), ErrorResponses),
    security(("bearer" = []))
)]
async fn delete_user(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<UserPath>,
) -> Result<StatusCode, ApiError> {
    service.delete_user(&caller, path.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `EnableUser` → 200 `{"user_id"}`.
#[utoipa::path(
    put,
    path = "/users/{user_id}/enable",
    operation_id = "EnableUser",
    tag = "users",
    params(UserPath),
    responses((status = 200, description = "Success.", body = UserIdView), ErrorResponses),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    put,
    path = "/users/{user_id}/disable",
    operation_id = "DisableUser",
    tag = "users",
    params(UserPath),
    responses((status = 200, description = "Success.", body = UserIdView), ErrorResponses),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    put,
    path = "/users/{user_id}/change-password",
    operation_id = "UpdateUserPwd",
    tag = "users",
    params(UserPath),
    request_body = PasswordFields,
    responses((status = 200, description = "Success.", body = UserIdView), ErrorResponses),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    put,
    path = "/users/{user_id}/change-password-verify",
    operation_id = "UpdateUserPwdWithOldPwd",
    tag = "users",
    params(UserPath),
    request_body = PasswordFields,
    responses((status = 200, description = "Success.", body = UserIdView), ErrorResponses),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    get,
    path = "/users/{user_id}/accounts",
    operation_id = "ListAppAccountsByUserId",
    tag = "users",
    params(UserPath),
    responses((status = 200, description = "Success.", body = AccountList<UserAccountView>), ErrorResponses),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    post,
    path = "/users/{user_id}/applications/{application_id}/accounts",
    operation_id = "CreateAppAccountForUser",
    tag = "users",
    params(UserAppPath),
    request_body = AuthorizeFields,
    responses((status = 200, description = "Success.", body = AccountIdView), ErrorResponses),
    security(("bearer" = []))
)]
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
