//! Roster extension: an application's sign-in settings (OAuth 2.0 / OpenID Connect), for
//! callers with the `all` permission. The reference sets these in its admin console.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody, ErrorResponses};
use crate::extract::{JsonBody, PathIds};
use crate::params::AppPath;
use axum::extract::State;
use axum::Json;
use roster_domain::sso::{SsoFields, SsoSettings};
use roster_service::Service;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(show, put))
        .routes(routes!(put_sp_metadata))
}

/// The application's sign-in settings (`APP.0006` until some are set).
#[utoipa::path(
    get,
    path = "/roster/v1/applications/{application_id}/sso",
    operation_id = "ShowApplicationSso",
    tag = "roster extension: applications",
    params(AppPath),
    responses(
        (status = 200, description = "Success.", body = SsoSettings),
        (status = 404, description = "APP.0006: no sign-in settings are set.", body = ErrorBody),
        ErrorResponses
    ),
    security(("bearer" = []))
)]
async fn show(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
) -> Result<Json<SsoSettings>, ApiError> {
    Ok(Json(service.show_sso(&caller, path.application_id).await?))
}

/// Sets the application's sign-in settings, all at once: absent fields take the defaults
/// (authorization code only, 7,200 s access tokens, no refresh tokens, RS256).
#[utoipa::path(
    put,
    path = "/roster/v1/applications/{application_id}/sso",
    operation_id = "UpdateApplicationSso",
    tag = "roster extension: applications",
    params(AppPath),
    request_body = SsoFields,
    responses((status = 200, description = "Success: the settings now in force.", body = SsoSettings), ErrorResponses),
    security(("bearer" = []))
)]
async fn put(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    JsonBody(fields): JsonBody<SsoFields>,
) -> Result<Json<SsoSettings>, ApiError> {
    Ok(Json(
        service
            .set_sso(&caller, path.application_id, fields)
            .await?,
    ))
}

/// Makes the application a SAML application of the service provider whose metadata is the
/// body (an `md:EntityDescriptor`): its entity ID, HTTP-POST ACS URLs (the default first),
/// signing certificate, logout services and Name ID format; its claims and other SAML
/// choices stay. Answers the settings now in force.
#[utoipa::path(
    put,
    path = "/roster/v1/applications/{application_id}/saml-metadata",
    operation_id = "UpdateApplicationSamlMetadata",
    tag = "roster extension: applications",
    params(AppPath),
    request_body(content = String, description = "The SP's SAML metadata.", content_type = "application/samlmetadata+xml"),
    responses((status = 200, description = "Success: the settings now in force.", body = SsoSettings), ErrorResponses),
    security(("bearer" = []))
)]
async fn put_sp_metadata(
    State(service): State<Service>,
    Authenticated(caller): Authenticated,
    PathIds(path): PathIds<AppPath>,
    body: axum::body::Bytes,
) -> Result<Json<SsoSettings>, ApiError> {
    let xml = std::str::from_utf8(&body).map_err(|_| {
        ApiError::from(roster_domain::Error::invalid(
            "the body is not UTF-8 text: send the SP's metadata XML.",
        ))
    })?;
    Ok(Json(
        service
            .set_sso_from_sp_metadata(&caller, path.application_id, xml)
            .await?,
    ))
}
