//! The token side of OneAccess's Application Integration APIs (`/api/v1/oauth2/*`), answering
//! OAuth's `{error, error_description}`: the token endpoint (authorization code with PKCE,
//! refresh token, password and client credentials grants, each as the application's sign-in
//! settings allow), userinfo, introspection, Spring's `check_token`, revocation, the key set
//! id_tokens are checked against, and OpenID discovery (docs/sso.md). The browser side
//! (authorize, the login page, logout) is `routes/sign_in.rs`.

use crate::client_address::ClientAddress;
use crate::client_auth::{client_credentials, ClientCredentials};
use crate::extract::{read_form, Form, Query};
use crate::oauth_error::{OAuthError, OAuthErrorBody, OAuthErrorResponses};
use crate::Site;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Extension;
use axum::Json;
use roster_domain::signing::PublicJwk;
use roster_domain::{Error, ErrorKind};
use roster_service::{Introspection, OAuthClient, Service, TokenKind, TokenRequest};
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
        .routes(routes!(userinfo, userinfo_form))
        .routes(routes!(openid_configuration))
        .routes(routes!(openid_configuration_at_root))
}

/// The form fields the sign-in endpoints read (`application/x-www-form-urlencoded`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct SignInForm {
    /// `authorization_code`, `refresh_token`, `password` or `client_credentials` (each only
    /// when the application turned it on).
    grant_type: Option<String>,
    /// With `client_secret`, or an HTTP Basic `Authorization` header instead.
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
    /// The authorization code (`authorization_code`).
    code: Option<String>,
    /// If sent, the redirect URI the code was sent to (`authorization_code`).
    redirect_uri: Option<String>,
    /// The PKCE verifier, when the authorization request had a challenge.
    code_verifier: Option<String>,
    /// The refresh token (`refresh_token`).
    refresh_token: Option<String>,
    /// The user's name, mobile or email, and password (`password`).
    username: Option<String>,
    password: Option<String>,
    /// The token to introspect, check or revoke: an access or a refresh token (a
    /// `token_type_hint` is accepted and not needed).
    token: Option<String>,
}

/// A request to a sign-in endpoint that authenticates its client: the form
/// (`application/x-www-form-urlencoded`; an empty body reads as no fields), the client
/// credentials (a Basic header or the form, never the query) and where it came from.
pub struct SignInRequest {
    form: SignInForm,
    credentials: ClientCredentials,
    source: ClientAddress,
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
        let form: SignInForm = read_form(Request::from_parts(parts.clone(), body), state).await?;
        let credentials = client_credentials(
            &parts.headers,
            parts.uri.query(),
            form.client_id.clone(),
            form.client_secret.clone(),
        )?;
        // The request's log line names the client it claims to be (checked or not).
        if let Some(client_id) = &credentials.client_id {
            crate::request_log::RequestInfo::client(&parts.extensions, client_id);
        }
        Ok(Self {
            form,
            credentials,
            source,
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
    /// Only when the application set a refresh-token lifetime (and not for client
    /// credentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// OpenID Connect applications: the signed id_token.
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

/// Issues tokens (OneAccess `IssueOAuthAccessToken`, `IssueIDToken`, `RenewOAuthToken`,
/// `RenewOIDCToken`): the authorization code, refresh token, password and client credentials
/// grants, each for applications whose sign-in settings turn it on; client authentication by
/// HTTP Basic or form fields.
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
    Extension(site): Extension<Site>,
    request: SignInRequest,
) -> Result<impl IntoResponse, OAuthError> {
    let form = &request.form;
    let fields = TokenRequest {
        grant_type: form.grant_type.as_deref(),
        scope: form.scope.as_deref(),
        code: form.code.as_deref(),
        redirect_uri: form.redirect_uri.as_deref(),
        code_verifier: form.code_verifier.as_deref(),
        refresh_token: form.refresh_token.as_deref(),
        username: form.username.as_deref(),
        password: form.password.as_deref(),
    };
    let issued = service
        .oauth_token(request.client(), &fields, &site.issuer)
        .await?;
    // RFC 6749 §5.1: no cache keeps a token answer, HTTP/1.0's included.
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(SignInTokenView {
            access_token: issued.access_token.unwrap_or_default(),
            token_type: "Bearer",
            expires_in: issued.expires_in,
            scope: issued.scope,
            refresh_token: issued.refresh_token,
            id_token: issued.id_token,
        }),
    ))
}

/// Where userinfo may find the access token besides the `Authorization` header (RFC 6750
/// §2.2, §2.3): a form field of a POST, or the query.
#[derive(Debug, Default, Deserialize, IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct AccessTokenParam {
    /// The access token, when it is not sent as `Authorization: Bearer`.
    access_token: Option<String>,
}

/// The claims of the user an access token was issued for (OneAccess `ShowUser` of the
/// application integration APIs): `id`, `userName`, `name`, `email`, `mobile` and the
/// application's mapped claims. The token as `Authorization: Bearer` or `?access_token=`.
#[utoipa::path(
    get,
    path = "/api/v1/oauth2/userinfo",
    operation_id = "ShowOAuthUser",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    params(AccessTokenParam),
    responses(
        (status = 200, description = "The user's claims.", body = Object),
        (status = 400, description = "The token was sent in more than one way.", body = OAuthErrorBody),
        (status = 401, description = "No token, or not a good one.", body = OAuthErrorBody),
        (status = 500, description = "Internal error.", body = OAuthErrorBody),
        (status = 503, description = "The database cannot be reached.", body = OAuthErrorBody)
    ),
    security(("bearer" = []))
)]
async fn userinfo(
    State(service): State<Service>,
    headers: axum::http::HeaderMap,
    Query(param, _): Query<AccessTokenParam, OAuthError>,
) -> Result<impl IntoResponse, OAuthError> {
    claims(&service, &headers, param).await
}

/// userinfo as a POST (OpenID Connect Core §5.3.1): the token as `Authorization: Bearer` or
/// as the form field `access_token`.
#[utoipa::path(
    post,
    path = "/api/v1/oauth2/userinfo",
    operation_id = "ShowOAuthUserByForm",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    request_body(content = AccessTokenParam, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The user's claims.", body = Object),
        (status = 400, description = "The token was sent in more than one way, or the form is not valid.", body = OAuthErrorBody),
        (status = 413, description = "The form is too large.", body = OAuthErrorBody),
        (status = 415, description = "The body is not form-encoded.", body = OAuthErrorBody),
        (status = 401, description = "No token, or not a good one.", body = OAuthErrorBody),
        (status = 500, description = "Internal error.", body = OAuthErrorBody),
        (status = 503, description = "The database cannot be reached.", body = OAuthErrorBody)
    ),
    security(("bearer" = []))
)]
async fn userinfo_form(
    State(service): State<Service>,
    headers: axum::http::HeaderMap,
    Form(param, _): Form<AccessTokenParam, OAuthError>,
) -> Result<impl IntoResponse, OAuthError> {
    claims(&service, &headers, param).await
}

async fn claims(
    service: &Service,
    headers: &axum::http::HeaderMap,
    param: AccessTokenParam,
) -> Result<impl IntoResponse, OAuthError> {
    let in_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        })
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty());
    let in_param = param.access_token.as_deref().filter(|t| !t.is_empty());
    let bearer = match (in_header, in_param) {
        (Some(_), Some(_)) => {
            // RFC 6750 §2: one method per request.
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Send the access token one way: the Authorization header or access_token.",
            ));
        }
        (Some(token), None) | (None, Some(token)) => token,
        (None, None) => {
            // Spring Security OAuth's words, as OneAccess answers.
            return Err(OAuthError::unauthorized(
                "unauthorized",
                "Full authentication is required to access this resource",
            ));
        }
    };
    match service.userinfo(bearer).await {
        Ok(claims) => Ok(([(header::CACHE_CONTROL, "no-store")], Json(claims))),
        Err(e) if e.kind() == ErrorKind::Unauthenticated => {
            let shown: String = bearer.chars().take(64).collect();
            Err(OAuthError::unauthorized(
                "invalid_token",
                &format!("Invalid access token: {shown}"),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// The OpenID Provider's metadata (OpenID Connect Discovery 1.0 §3).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProviderMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    end_session_endpoint: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    response_types_supported: [&'static str; 4],
    response_modes_supported: [&'static str; 2],
    grant_types_supported: [&'static str; 5],
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 3],
    scopes_supported: [&'static str; 2],
    token_endpoint_auth_methods_supported: [&'static str; 2],
    code_challenge_methods_supported: [&'static str; 1],
    claims_supported: [&'static str; 14],
    /// OpenID Connect Back-Channel Logout 1.0: a `logout_token` is posted to an
    /// application's `backchannel_logout_uri` when a session it was signed in to logs out.
    backchannel_logout_supported: bool,
    /// The logout token (and the id_token) carry `sid`.
    backchannel_logout_session_supported: bool,
    /// Request objects by reference are not served (OpenID Discovery §3 defaults it to true).
    request_uri_parameter_supported: bool,
}

fn provider_metadata(site: &Site) -> ProviderMetadata {
    let at = |path: &str| format!("{}{path}", site.public_url);
    ProviderMetadata {
        issuer: site.issuer.clone(),
        authorization_endpoint: at("/api/v1/oauth2/authorize"),
        token_endpoint: at("/api/v1/oauth2/token"),
        userinfo_endpoint: at("/api/v1/oauth2/userinfo"),
        jwks_uri: at("/api/v1/oauth2/keys"),
        end_session_endpoint: at("/api/v1/logout"),
        introspection_endpoint: at("/api/v1/oauth2/introspect"),
        revocation_endpoint: at("/api/v1/oauth2/revoke"),
        response_types_supported: ["code", "id_token", "id_token token", "token"],
        response_modes_supported: ["query", "fragment"],
        grant_types_supported: [
            "authorization_code",
            "refresh_token",
            "implicit",
            "password",
            "client_credentials",
        ],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256", "RS384", "RS512"],
        scopes_supported: ["openid", "get_user_info"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
        code_challenge_methods_supported: ["S256"],
        claims_supported: [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "sid",
            "id",
            "userName",
            "name",
            "email",
            "mobile",
        ],
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        request_uri_parameter_supported: false,
    }
}

/// The OpenID Provider's metadata (OneAccess `ShowOIDCMetadata`).
#[utoipa::path(
    get,
    path = "/api/v1/oauth2/.well-known/openid-configuration",
    operation_id = "ShowOIDCMetadata",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    responses((status = 200, description = "The metadata.", body = ProviderMetadata))
)]
async fn openid_configuration(Extension(site): Extension<Site>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(provider_metadata(&site)),
    )
}

/// The same metadata where OpenID Connect Discovery looks for it: `{issuer}/.well-known/…`.
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    operation_id = "ShowOIDCMetadataAtRoot",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    responses((status = 200, description = "The metadata.", body = ProviderMetadata))
)]
async fn openid_configuration_at_root(Extension(site): Extension<Site>) -> impl IntoResponse {
    openid_configuration(Extension(site)).await
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
    /// The user's user name (RFC 7662 `username`), for tokens issued for a user.
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    /// The same, as Spring Security OAuth's `check_token` names it (check_token only).
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
}

impl From<Option<Introspection>> for IntrospectionView {
    fn from(found: Option<Introspection>) -> Self {
        match found {
            Some(t) => Self {
                active: true,
                client_id: Some(t.client_id),
                scope: Some(t.scope),
                // A refresh token is no bearer token: no token_type for it.
                token_type: (t.kind == TokenKind::Access).then_some("Bearer"),
                exp: Some(t.expires_at),
                iat: Some(t.issued_at),
                sub: t.user_id,
                username: t.user_name,
                user_name: None,
            },
            None => Self {
                active: false,
                client_id: None,
                scope: None,
                token_type: None,
                exp: None,
                iat: None,
                sub: None,
                username: None,
                user_name: None,
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
    Query(query, _): Query<CheckTokenQuery, OAuthError>,
    mut request: SignInRequest,
) -> Result<Json<IntrospectionView>, OAuthError> {
    if request.form.token.is_none() {
        request.form.token = query.token;
    }
    match service
        .oauth_introspect(request.client(), request.token()?)
        .await?
    {
        Some(found) => {
            let mut view = IntrospectionView::from(Some(found));
            view.user_name = view.username.take();
            Ok(Json(view))
        }
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
