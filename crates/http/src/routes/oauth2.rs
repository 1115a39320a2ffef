//! The sign-in endpoints of OneAccess's Application Integration APIs (`/api/v1/oauth2/*`).
//! Served so far: the key set that id_token signatures are checked against.

use crate::oauth_error::{OAuthError, OAuthErrorBody};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use roster_domain::signing::PublicJwk;
use roster_service::Service;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new().routes(routes!(keys))
}

/// A JSON Web Key Set (RFC 7517 §5).
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeySet {
    /// The key that signs now first, then keys retired less than a day ago.
    pub keys: Vec<PublicJwk>,
}

/// The public keys id_tokens are signed with (JWKS): the active key first, then the keys it
/// replaced while tokens they signed may still be in use.
#[utoipa::path(
    get,
    path = "/api/v1/oauth2/keys",
    operation_id = "ShowOAuthKeys",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    responses(
        (status = 200, description = "The key set.", body = KeySet),
        (status = 500, description = "Internal error.", body = OAuthErrorBody),
        (status = 503, description = "The database cannot be reached.", body = OAuthErrorBody)
    )
)]
async fn keys(State(service): State<Service>) -> Result<impl IntoResponse, OAuthError> {
    let keys = service.published_keys().await?;
    // Relying parties cache the set; a new kid makes them fetch it again.
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(KeySet { keys }),
    ))
}
