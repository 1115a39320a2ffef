//! The one place where a catalog error becomes an HTTP response.

use crate::oauth_error::Dialect;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_domain::{Error, ErrorKind};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<ErrorKind> for ApiError {
    fn from(kind: ErrorKind) -> Self {
        Self(Error::new(kind))
    }
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable code from the catalog, e.g. `USER.0001`.
    pub error_code: String,
    /// What went wrong, in English.
    pub error_msg: String,
}

/// The error answers every management route may give, for the OpenAPI document.
pub struct ErrorResponses;

impl utoipa::IntoResponses for ErrorResponses {
    fn responses(
    ) -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let answers = [
            (
                "400",
                "Invalid parameter, unknown entity or broken business rule; error_code says which.",
            ),
            (
                "401",
                "Access token missing, malformed, unknown or expired.",
            ),
            (
                "403",
                "The application lacks the API permission this route needs.",
            ),
            ("413", "Request body too large."),
            ("415", "Body of the wrong media type."),
            ("500", "Internal error (details only in the server log)."),
            ("503", "The database cannot be reached."),
        ];
        answers
            .into_iter()
            .map(|(status, description)| {
                let response = ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build();
                (status.to_owned(), response.into())
            })
            .collect()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = self.0;
        if err.is_server_side() {
            tracing::error!(
                code = err.kind().code(),
                detail = err.detail(),
                "request failed"
            );
        }
        let status =
            StatusCode::from_u16(err.kind().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error_code: err.kind().code().to_owned(),
            error_msg: err.client_message(),
        };
        let mut response = (status, axum::Json(body)).into_response();
        response
            .extensions_mut()
            .insert(crate::request_log::AnsweredCode(
                err.kind().code().to_owned(),
            ));
        if err.kind() == ErrorKind::TooManyTokenRequests {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if err.kind() == ErrorKind::Unauthenticated || err.kind() == ErrorKind::TokenExpired {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Gives an error body to error responses produced outside our handlers (unknown route,
/// wrong method, timeout, body limit), so that every error has the same shape.
pub(crate) fn ensure_error_body(response: Response, dialect: &Dialect) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let kind = match status {
        StatusCode::NOT_FOUND => ErrorKind::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorKind::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ErrorKind::RequestTimeout,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::BodyTooLarge,
        StatusCode::URI_TOO_LONG => ErrorKind::UriTooLong,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ErrorKind::HeadersTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorKind::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => ErrorKind::Unauthenticated,
        StatusCode::TOO_MANY_REQUESTS => ErrorKind::TooManyTokenRequests,
        s if s.is_server_error() => ErrorKind::Internal,
        _ => ErrorKind::MalformedBody,
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut replaced = dialect
        .answer(kind)
        .unwrap_or_else(|| ApiError::from(kind).into_response());
    if let Some(allow) = allow {
        replaced.headers_mut().insert(header::ALLOW, allow);
    }
    replaced
}
