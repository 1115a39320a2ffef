//! The sign-in endpoints of OneAccess's Application Integration APIs (`/api/v1/oauth2/*`).
//! Served so far: the key set that id_token signatures are checked against, and the token
//! endpoint with the client credentials grant, introspection, check_token and revocation of
//! the tokens it issues (docs/sso.md).

use crate::client_address::ClientAddress;
use crate::client_auth::{client_credentials, ClientCredentials};
use crate::oauth_error::{OAuthError, OAuthErrorBody, OAuthErrorResponses};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header;
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

/// A request to a sign-in endpoint that authenticates its client: the form
/// (`application/x-www-form-urlencoded`; an empty body reads as no fields), the client
/// credentials (a Basic header or the form, never the query) and where it came from.
pub struct SignInRequest {
    form: SignInForm,
    credentials: ClientCredentials,
    source: ClientAddress,
    query: Option<String>,
}

impl SignInRequest {
    fn client(&self) -> OAuthClient<'_> {
        OAuthClient {
            client_id: self.credentials.client_id.as_deref(),
            client_secret: self.credentials.client_secret.as_deref(),
            source: Some(self.source.0),
        }
    }

    /// The `token` parameter, required by introspection, check_token and revocation.
    fn token(&self) -> Result<&str, OAuthError> {
        self.form
            .token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::with_detail(
                    ErrorKind::InvalidParameter,
                    "The token parameter is required.",
                )
                .into()
            })
    }
}

impl<S: Send + Sync> FromRequest<S> for SignInRequest {
    type Rejection = OAuthError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let source = ClientAddress::from_request_parts(&mut parts, state)
            .await
            .unwrap_or(ClientAddress(std::net::IpAddr::from([0, 0, 0, 0])));
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        let body = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|r| Error::with_detail(ErrorKind::MalformedBody, r.body_text()))?;
        if !is_form && !body.is_empty() {
            return Err(Error::with_detail(
                ErrorKind::UnsupportedMediaType,
                "Send the parameters as application/x-www-form-urlencoded.",
            )
            .into());
        }
        let form: SignInForm = serde_urlencoded::from_bytes(&body)
            .map_err(|e| Error::with_detail(ErrorKind::MalformedBody, e.to_string()))?;
        let query = parts.uri.query().map(str::to_owned);
        let credentials = client_credentials(
            &parts.headers,
            query.as_deref(),
            form.client_id.clone(),
            form.client_secret.clone(),
        )?;
        Ok(Self {
            form,
            credentials,
            source,
            query,
        })
    }
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
        OAuthErrorResponses
    ),
    security(("client_basic" = []), ())
)]
async fn token(
    State(service): State<Service>,
    request: SignInRequest,
) -> Result<impl IntoResponse, OAuthError> {
    let form = &request.form;
    let issued = service
        .oauth_token(
            request.client(),
            form.grant_type.as_deref(),
            form.scope.as_deref(),
        )
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
        OAuthErrorResponses
    ),
    security(("client_basic" = []), ())
)]
async fn introspect(
    State(service): State<Service>,
    request: SignInRequest,
) -> Result<Json<IntrospectionView>, OAuthError> {
    let found = service
        .oauth_introspect(request.client(), request.token()?)
        .await?;
    Ok(Json(found.into()))
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
        OAuthErrorResponses
    ),
    security(("client_basic" = []), ())
)]
async fn check_token(
    State(service): State<Service>,
    mut request: SignInRequest,
) -> Result<Json<IntrospectionView>, OAuthError> {
    if request.form.token.is_none() {
        let query: CheckTokenQuery =
            serde_urlencoded::from_str(request.query.as_deref().unwrap_or_default())
                .map_err(|e| Error::with_detail(ErrorKind::MalformedBody, e.to_string()))?;
        request.form.token = query.token;
    }
    match service
        .oauth_introspect(request.client(), request.token()?)
        .await?
    {
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
        OAuthErrorResponses
    ),
    security(("client_basic" = []), ())
)]
async fn revoke(
    State(service): State<Service>,
    request: SignInRequest,
) -> Result<Json<serde_json::Value>, OAuthError> {
    service
        .oauth_revoke(request.client(), request.token()?)
        .await?;
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
