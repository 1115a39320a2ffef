//! The error body of the sign-in endpoints (`/api/v1/oauth2/*`): OAuth 2.0's
//! `{"error", "error_description"}` (RFC 6749 §5.2), not the management API's
//! `{"error_code", "error_msg"}`, as OneAccess answers them.

use crate::pages::sign_in::{self as sign_in_page, Text};
use crate::pages::{html, Lang};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use roster_domain::{Error, ErrorKind};
use serde::Serialize;

/// The body of every error answer of the sign-in endpoints.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthErrorBody {
    /// An RFC 6749 / 6750 error code, e.g. `invalid_request`.
    pub error: String,
    /// What went wrong, in English.
    pub error_description: String,
}

/// An answer of a sign-in endpoint that is not a success.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub body: OAuthErrorBody,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &str, description: impl Into<String>) -> Self {
        Self {
            status,
            body: OAuthErrorBody {
                error: error.to_owned(),
                error_description: description.into(),
            },
        }
    }
}

impl OAuthError {
    /// A refused bearer token at userinfo (RFC 6750 §3): 401 with `error`.
    pub fn unauthorized(error: &str, description: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, error, description)
    }

    /// RFC 6750's `invalid_token`, as a token check answers an inactive token.
    pub fn invalid_token(description: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_token", description)
    }
}

impl From<Error> for OAuthError {
    /// Every catalog error as the sign-in endpoints answer it, in one place: the protocol's
    /// code, and the text OneAccess (Spring Security OAuth) gives where it is known.
    fn from(err: Error) -> Self {
        let detail = err
            .detail()
            .unwrap_or_else(|| err.kind().message())
            .to_owned();
        match err.kind() {
            ErrorKind::InvalidClient
            | ErrorKind::ApplicationDisabled
            | ErrorKind::ClientIdRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Bad client credentials",
            ),
            ErrorKind::UnsupportedGrantType => {
                Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", detail)
            }
            ErrorKind::InvalidGrant => Self::new(StatusCode::BAD_REQUEST, "invalid_grant", detail),
            ErrorKind::InvalidScope => Self::new(StatusCode::BAD_REQUEST, "invalid_scope", detail),
            ErrorKind::UnauthorizedGrantType => {
                Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", detail)
            }
            ErrorKind::TooManyTokenRequests | ErrorKind::TooManySignIns => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                err.kind().message(),
            ),
            kind if !err.is_server_side() => Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                err.detail()
                    .map_or_else(|| kind.message().to_owned(), str::to_owned),
            ),
            ErrorKind::Unavailable => {
                tracing::error!(
                    code = err.kind().code(),
                    detail = err.detail().unwrap_or_default(),
                    "sign-in request failed"
                );
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    err.kind().message(),
                )
            }
            kind => {
                tracing::error!(
                    code = kind.code(),
                    detail = err.detail().unwrap_or_default(),
                    "sign-in request failed"
                );
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    kind.message(),
                )
            }
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let error = self.body.error.clone();
        let mut response = (self.status, Json(self.body)).into_response();
        response
            .extensions_mut()
            .insert(crate::request_log::AnsweredCode(error.to_string()));
        let headers = response.headers_mut();
        // RFC 6749 §5.2: a failed client authentication names the scheme to use.
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = if error == "invalid_client" {
                HeaderValue::from_static("Basic realm=\"oauth2/client\"")
            } else {
                // RFC 6750 §3: a bearer token was missing or refused.
                HeaderValue::from_str(&format!("Bearer realm=\"oauth2\", error=\"{error}\""))
                    .unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
            };
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// The error answers every sign-in endpoint that authenticates a client may give, for the
/// OpenAPI document.
pub struct OAuthErrorResponses;

impl utoipa::IntoResponses for OAuthErrorResponses {
    fn responses(
    ) -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        [
            (
                "400",
                "invalid_request, invalid_grant, invalid_scope, unsupported_grant_type, \
                 unauthorized_client or invalid_token.",
            ),
            ("401", "invalid_client: Bad client credentials."),
            (
                "429",
                "temporarily_unavailable: too many attempts; retry later.",
            ),
            ("500", "server_error (details only in the server log)."),
            (
                "503",
                "temporarily_unavailable: the database cannot be reached.",
            ),
        ]
        .into_iter()
        .map(|(status, description)| {
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("OAuthErrorBody")))
                        .build(),
                )
                .build();
            (status.to_owned(), response.into())
        })
        .collect()
    }
}

/// Whether the caller reads HTML (a browser) rather than JSON (a program).
pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Why a sign-in cannot go on, as OAuth's error body for programs (`why`, in English) and as
/// a page for browsers, in their language (by the status, where `why` has no translation).
pub(crate) fn cannot_continue(
    headers: &HeaderMap,
    status: StatusCode,
    error: &str,
    why: &str,
) -> Response {
    cannot_continue_saying(headers, status, error, why, |lang| {
        sign_in_page::refused(lang, status.as_u16(), why)
    })
}

/// [`cannot_continue`], the page saying `page_why` in the browser's language.
pub(crate) fn cannot_continue_saying(
    headers: &HeaderMap,
    status: StatusCode,
    error: &str,
    why: &str,
    page_why: impl FnOnce(Lang) -> String,
) -> Response {
    if wants_html(headers) {
        let lang = Lang::from_headers(headers);
        html(
            status,
            sign_in_page::message(lang, Text::CannotContinue, &page_why(lang)),
        )
    } else {
        let body = OAuthErrorBody {
            error: error.to_owned(),
            error_description: why.to_owned(),
        };
        (status, Json(body)).into_response()
    }
}

/// How an error is answered where no handler answers it (an unknown route or method, a
/// timeout, a request over a limit): the sign-in routes as their handlers answer (OAuth's
/// body, or a page for browsers and always on the login page), the rest in the management
/// API's body.
#[derive(Debug, Clone)]
pub(crate) enum Dialect {
    Management,
    /// The two headers an answer is chosen by (kept rather than the whole map: this is made
    /// for every request, and only an error reads it).
    SignIn {
        accept: Option<HeaderValue>,
        language: Option<HeaderValue>,
    },
}

impl Dialect {
    pub(crate) fn of(path: &str, headers: &HeaderMap) -> Self {
        let accept = if path == "/login" {
            Some(HeaderValue::from_static("text/html"))
        } else if path.starts_with("/api/v1/") {
            headers.get(header::ACCEPT).cloned()
        } else {
            return Self::Management;
        };
        Self::SignIn {
            accept,
            language: headers.get(header::ACCEPT_LANGUAGE).cloned(),
        }
    }

    /// The answer for `kind`, or `None` where the management API's is the one.
    pub(crate) fn answer(&self, kind: ErrorKind) -> Option<Response> {
        let Self::SignIn { accept, language } = self else {
            return None;
        };
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(header::ACCEPT, accept.clone());
        }
        if let Some(language) = language {
            headers.insert(header::ACCEPT_LANGUAGE, language.clone());
        }
        let headers = &headers;
        let status = StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let error = match kind {
            ErrorKind::RequestTimeout | ErrorKind::Unavailable => "temporarily_unavailable",
            _ if status.is_server_error() => "server_error",
            _ => "invalid_request",
        };
        Some(cannot_continue(headers, status, error, kind.message()))
    }
}
