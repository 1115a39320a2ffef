//! Roster extension: the password policy (OneAccess sets it in its admin console), for
//! callers with the `all` permission.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::JsonBody;
use axum::extract::State;
use axum::Json;
use roster_domain::password_policy::{PasswordPolicy, PasswordPolicyFields};
use roster_service::Service;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new().routes(routes!(show, put))
}

/// The password policy in force.
#[utoipa::path(
    get,
    path = "/roster/v1/password-policy",
    operation_id = "ShowPasswordPolicy",
    tag = "roster extension: password policy",
    responses((status = 200, description = "Success.", body = PasswordPolicy), ErrorResponses),
    security(("bearer" = []))
)]
async fn show(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
) -> Result<Json<PasswordPolicy>, ApiError> {
    Ok(Json(service.show_password_policy(&caller).await?))
}

/// Changes the password policy: the fields given change, the others keep their values.
/// Audited (`UpdatePasswordPolicy`); every node holds it from its next password check.
#[utoipa::path(
    put,
    path = "/roster/v1/password-policy",
    operation_id = "UpdatePasswordPolicy",
    tag = "roster extension: password policy",
    request_body = PasswordPolicyFields,
    responses((status = 200, description = "Success: the policy now in force.", body = PasswordPolicy), ErrorResponses),
    security(("bearer" = []))
)]
async fn put(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    JsonBody(fields): JsonBody<PasswordPolicyFields>,
) -> Result<Json<PasswordPolicy>, ApiError> {
    Ok(Json(service.set_password_policy(&caller, fields).await?))
}
