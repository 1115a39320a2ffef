//! `ShowAuthToken`: `POST /api/v2/tenant/token`.

use crate::client_address::ClientAddress;
use crate::client_auth::client_credentials;
use crate::error::ApiError;
use crate::extract::{Form, Query};
use crate::views::TokenView;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::Json;
use roster_service::Service;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new().routes(routes!(issue))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Client credentials come as form fields or in an HTTP Basic header (RFC 6749 §2.3.1), never
/// in the query string; `grant_type` may also come in the query (some clients send it there).
#[utoipa::path(
    post,
    path = "/token",
    tag = "access credential",
    operation_id = "ShowAuthToken",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A bearer token.", body = TokenView),
        (status = 400, description = "Wrong grant type, client id missing, invalid client credentials, credentials in the query string, or Basic and form credentials that disagree.", body = crate::error::ErrorBody),
        (status = 415, description = "Body not form-encoded.", body = crate::error::ErrorBody),
        (status = 429, description = "Too many token requests from this client id or address.", body = crate::error::ErrorBody),
    ),
    security(("client_basic" = []), ())
)]
async fn issue(
    State(service): State<Service>,
    ClientAddress(client): ClientAddress,
    uri: Uri,
    headers: HeaderMap,
    info: Option<axum::Extension<std::sync::Arc<crate::request_log::RequestInfo>>>,
    Query(query, _): Query<TokenRequest>,
    Form(form, _): Form<TokenRequest>,
) -> Result<Json<TokenView>, ApiError> {
    // The query is read for `grant_type` only; `client_credentials` refuses credentials there.
    let credentials =
        client_credentials(&headers, uri.query(), form.client_id, form.client_secret)?;
    if let (Some(axum::Extension(info)), Some(client_id)) = (&info, &credentials.client_id) {
        info.set_client(client_id);
    }
    let issued = service
        .issue_token(
            form.grant_type.or(query.grant_type).as_deref(),
            credentials.client_id.as_deref(),
            credentials.client_secret.as_deref(),
            Some(client),
        )
        .await?;
    Ok(Json(TokenView {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: issued.scope,
        id_token: None,
    }))
}
