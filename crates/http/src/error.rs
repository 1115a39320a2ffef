//! The one place where a catalog error becomes an HTTP response.

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

#[derive(Serialize)]
struct ErrorBody<'a> {
    error_code: &'a str,
    error_msg: String,
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
            error_code: err.kind().code(),
            error_msg: err.client_message(),
        };
        let mut response = (status, axum::Json(body)).into_response();
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
pub(crate) async fn ensure_error_body(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let kind = match status {
        StatusCode::NOT_FOUND => ErrorKind::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorKind::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ErrorKind::RequestTimeout,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::BodyTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorKind::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => ErrorKind::Unauthenticated,
        s if s.is_server_error() => ErrorKind::Internal,
        _ => ErrorKind::MalformedBody,
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut replaced = ApiError::from(kind).into_response();
    if let Some(allow) = allow {
        replaced.headers_mut().insert(header::ALLOW, allow);
    }
    replaced
}
