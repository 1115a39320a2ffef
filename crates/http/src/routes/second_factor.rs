//! Roster extension: the MFA policy — who gives an SMS code after the password (OneAccess
//! sets it in its admin console) — for callers with the `all` permission.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::JsonBody;
use axum::extract::State;
use axum::Json;
use roster_domain::second_factor::{MfaPolicy, MfaPolicyFields};
use roster_service::Service;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new().routes(routes!(show, put))
}

/// The MFA policy in force.
#[utoipa::path(
    get,
    path = "/roster/v1/mfa-policy",
    operation_id = "ShowMfaPolicy",
    tag = "roster extension: MFA policy",
    responses((status = 200, description = "Success.", body = MfaPolicy), ErrorResponses),
    security(("bearer" = []))
)]
async fn show(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
) -> Result<Json<MfaPolicy>, ApiError> {
    Ok(Json(service.show_mfa_policy(&caller).await?))
}

/// Replaces the MFA policy: `off`, `everyone`, or `applications` with the client ids of the
/// applications that ask for a code. Audited (`UpdateMfaPolicy`); every node holds it from
/// its next sign-in.
#[utoipa::path(
    put,
    path = "/roster/v1/mfa-policy",
    operation_id = "UpdateMfaPolicy",
    tag = "roster extension: MFA policy",
    request_body = MfaPolicyFields,
    responses((status = 200, description = "Success: the policy now in force.", body = MfaPolicy), ErrorResponses),
    security(("bearer" = []))
)]
async fn put(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    JsonBody(fields): JsonBody<MfaPolicyFields>,
) -> Result<Json<MfaPolicy>, ApiError> {
    Ok(Json(service.set_mfa_policy(&caller, fields).await?))
}
