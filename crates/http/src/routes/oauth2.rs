//! The sign-in endpoints of OneAccess's Application Integration APIs (`/api/v1/oauth2/*`).
//! Served so far: the key set that id_token signatures are checked against, and the token
//! endpoint with the client credentials grant, introspection, check_token and revocation of
//! the tokens it issues (docs/sso.md).

use crate::client_address::ClientAddress;
use crate::client_auth::{client_credentials, ClientCredentials};
use crate::oauth_error::{OAuthError, OAuthErrorBody};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Uri};
use axum::response::IntoResponse;
use axum::Json;
use roster_domain::signing::PublicJwk;
use roster_domain::{Error, ErrorKind};
use roster_service::{Introspection, OAuthClient, Service};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(keys))
        .routes(routes!(token))
        .routes(routes!(introspect))
        .routes(routes!(check_token))
        .routes(routes!(revoke))
}

/// The form fields the sign-in endpoints read (`application/x-www-form-urlencoded`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct SignInForm {
    /// `client_credentials` (other grants: see docs/sso.md).
    grant_type: Option<String>,
    /// With `client_secret`, or an HTTP Basic `Authorization` header instead.
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
    /// The token to introspect, check or revoke (a `token_type_hint` is accepted and not
    /// needed: access tokens are the only kind issued yet).
    token: Option<String>,
}

/// The request's form (an empty body reads as no fields), or `invalid_request`.
fn form(headers: &HeaderMap, body: &Bytes) -> Result<SignInForm, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form && !body.is_empty() {
        return Err(Error::with_detail(
            ErrorKind::UnsupportedMediaType,
            "Send the parameters as application/x-www-form-urlencoded.",
        )
        .into());
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|e| Error::with_detail(ErrorKind::MalformedBody, e.to_string()).into())
}

/// The client credentials of a request, from a Basic header or the form (never the query).
fn client<'a>(
    headers: &HeaderMap,
    uri: &Uri,
    form: &SignInForm,
    source: ClientAddress,
    credentials: &'a mut ClientCredentials,
) -> Result<OAuthClient<'a>, OAuthError> {
    *credentials = client_credentials(
        headers,
        uri.query(),
        form.client_id.clone(),
        form.client_secret.clone(),
    )?;
    Ok(OAuthClient {
        client_id: credentials.client_id.as_deref(),
        client_secret: credentials.client_secret.as_deref(),
        source: Some(source.0),
    })
}

/// A successful token answer (RFC 6749 §5.1).
#[derive(Serialize, utoipa::ToSchema)]
pub struct SignInTokenView {
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds the token lives (a number).
    expires_in: u64,
    scope: String,
}

/// Issues an access token (OneAccess `IssueOAuthAccessToken`). Served: the client credentials
/// grant, for applications whose sign-in settings turn it on; client authentication by HTTP
/// Basic or form fields.
#[utoipa::path(
    post,
    path = "/api/v1/oauth2/token",
    operation_id = "IssueOAuthAccessToken",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    request_body(content = SignInForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The token.", body = SignInTokenView),
        (status = 400, description = "invalid_request, unsupported_grant_type or unauthorized_client.", body = OAuthErrorBody),
        (status = 401, description = "invalid_client: Bad client credentials.", body = OAuthErrorBody),
        (status = 429, description = "Too many attempts; retry later.", body = OAuthErrorBody),
        (status = 500, description = "Internal error.", body = OAuthErrorBody),
        (status = 503, description = "The database cannot be reached.", body = OAuthErrorBody)
    ),
    security(("client_basic" = []), ())
)]
async fn token(
    State(service): State<Service>,
    source: ClientAddress,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, OAuthError> {
    let form = form(&headers, &body)?;
    let mut credentials = ClientCredentials::default();
    let client = client(&headers, &uri, &form, source, &mut credentials)?;
    let issued = service
        .oauth_token(client, form.grant_type.as_deref(), form.scope.as_deref())
        .await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(SignInTokenView {
            access_token: issued.access_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            scope: issued.scope,
        }),
    ))
}

/// What introspection answers (RFC 7662 §2.2): `{"active": false}` alone for a token that is
/// unknown, expired, revoked or another client's.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IntrospectionView {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    /// Expiry, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    /// Issue time, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    /// The user's id, for tokens issued for a user.
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
}

impl From<Option<Introspection>> for IntrospectionView {
    fn from(found: Option<Introspection>) -> Self {
        match found {
            Some(t) => Self {
                active: true,
                client_id: Some(t.client_id),
                scope: Some(t.scope),
                token_type: Some("Bearer"),
                exp: Some(t.expires_at),
                iat: Some(t.issued_at),
                sub: t.user_id,
            },
            None => Self {
                active: false,
                client_id: None,
                scope: None,
                token_type: None,
                exp: None,
                iat: None,
                sub: None,
            },
        }
    }
}

/// Says whether a token the calling client holds is active (RFC 7662; Roster answers for the
/// client's own tokens only).
#[utoipa::path(
    post,
    path = "/api/v1/oauth2/introspect",
    operation_id = "IntrospectOAuthToken",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    request_body(content = SignInForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Whether the token is active, and what it is.", body = IntrospectionView),
        (status = 400, description = "invalid_request.", body = OAuthErrorBody),
        (status = 401, description = "invalid_client: Bad client credentials.", body = OAuthErrorBody),
        (status = 429, description = "Too many attempts; retry later.", body = OAuthErrorBody),
        (status = 500, description = "Internal error.", body = OAuthErrorBody),
        (status = 503, description = "The database cannot be reached.", body = OAuthErrorBody)
    ),
    security(("client_basic" = []), ())
)]
async fn introspect(
    State(service): State<Service>,
    source: ClientAddress,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IntrospectionView>, OAuthError> {
    let form = form(&headers, &body)?;
    let mut credentials = ClientCredentials::default();
    let client = client(&headers, &uri, &form, source, &mut credentials)?;
    let token = required_token(form.token.as_deref())?;
    Ok(Json(service.oauth_introspect(client, token).await?.into()))
}

fn required_token(token: Option<&str>) -> Result<&str, OAuthError> {
    token.filter(|t| !t.is_empty()).ok_or_else(|| {
        Error::with_detail(
            ErrorKind::InvalidParameter,
            "The token parameter is required.",
        )
        .into()
    })
}

/// The token query of `check_token` (Spring's `RemoteTokenServices` sends it there).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckTokenQuery {
    /// The token to check (or in the form).
    token: Option<String>,
}

/// Spring Security OAuth's `check_token`, as real integrations call it: the token's details,
/// or `400 invalid_token` ("Token was not recognised") when it is not active.
#[utoipa::path(
    post,
    path = "/api/v1/oauth2/check_token",
    operation_id = "CheckOAuthToken",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    params(CheckTokenQuery),
    request_body(content = SignInForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The token is active.", body = IntrospectionView),
        (status = 400, description = "invalid_token or invalid_request.", body = OAuthErrorBody),
        (status = 401, description = "invalid_client: Bad client credentials.", body = OAuthErrorBody),
        (status = 429, description = "Too many attempts; retry later.", body = OAuthErrorBody),
        (status = 500, description = "Internal error.", body = OAuthErrorBody),
        (status = 503, description = "The database cannot be reached.", body = OAuthErrorBody)
    ),
    security(("client_basic" = []), ())
)]
async fn check_token(
    State(service): State<Service>,
    source: ClientAddress,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IntrospectionView>, OAuthError> {
    let form = form(&headers, &body)?;
    let query: CheckTokenQuery = serde_urlencoded::from_str(uri.query().unwrap_or_default())
        .map_err(|e| {
            OAuthError::from(Error::with_detail(ErrorKind::MalformedBody, e.to_string()))
        })?;
    let mut credentials = ClientCredentials::default();
    let client = client(&headers, &uri, &form, source, &mut credentials)?;
    let token = required_token(form.token.as_deref().or(query.token.as_deref()))?;
    match service.oauth_introspect(client, token).await? {
        Some(found) => Ok(Json(Some(found).into())),
        None => Err(OAuthError::invalid_token("Token was not recognised")),
    }
}

/// Revokes a token the calling client holds (RFC 7009, beyond the reference): 200 whether or
/// not the token was known.
#[utoipa::path(
    post,
    path = "/api/v1/oauth2/revoke",
    operation_id = "RevokeOAuthToken",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    request_body(content = SignInForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or there was nothing to revoke.", body = Object),
        (status = 400, description = "invalid_request.", body = OAuthErrorBody),
        (status = 401, description = "invalid_client: Bad client credentials.", body = OAuthErrorBody),
        (status = 429, description = "Too many attempts; retry later.", body = OAuthErrorBody),
        (status = 500, description = "Internal error.", body = OAuthErrorBody),
        (status = 503, description = "The database cannot be reached.", body = OAuthErrorBody)
    ),
    security(("client_basic" = []), ())
)]
async fn revoke(
    State(service): State<Service>,
    source: ClientAddress,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, OAuthError> {
    let form = form(&headers, &body)?;
    let mut credentials = ClientCredentials::default();
    let client = client(&headers, &uri, &form, source, &mut credentials)?;
    let token = required_token(form.token.as_deref())?;
    service.oauth_revoke(client, token).await?;
    Ok(Json(serde_json::json!({})))
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
