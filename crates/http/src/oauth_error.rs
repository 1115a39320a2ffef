//! The error body of the sign-in endpoints (`/api/v1/oauth2/*`): OAuth 2.0's
//! `{"error", "error_description"}` (RFC 6749 §5.2), not the management API's
//! `{"error_code", "error_msg"}`, as OneAccess answers them.

use axum::http::StatusCode;
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

impl From<Error> for OAuthError {
    /// A failure of the store or of Roster itself (client errors of these endpoints are
    /// built where they happen, with their protocol's code).
    fn from(err: Error) -> Self {
        let (status, error) = if err.kind() == ErrorKind::Unavailable {
            (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
        } else {
            (StatusCode::INTERNAL_SERVER_ERROR, "server_error")
        };
        tracing::error!(
            code = err.kind().code(),
            detail = err.detail().unwrap_or_default(),
            "sign-in request failed"
        );
        Self {
            status,
            body: OAuthErrorBody {
                error: error.to_owned(),
                error_description: err.kind().message().to_owned(),
            },
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
