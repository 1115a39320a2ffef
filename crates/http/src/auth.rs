//! The caller behind a request, from its `Authorization: Bearer` header.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use roster_domain::{Error, ErrorKind};
use roster_service::{Caller, Service};

/// An authenticated caller. Which permission a use case needs is checked by the use case.
pub struct Authenticated(pub Caller);

impl FromRequestParts<Service> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, service: &Service) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            Error::with_detail(
                ErrorKind::Unauthenticated,
                "Send Authorization: Bearer {access_token}.",
            )
        })?;
        let value = header.to_str().map_err(|_| {
            Error::with_detail(
                ErrorKind::Unauthenticated,
                "The Authorization header is not text.",
            )
        })?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return Err(Error::with_detail(
                    ErrorKind::Unauthenticated,
                    "The Authorization header must be Bearer {access_token}.",
                )
                .into())
            }
        };
        let caller = service.authenticate(token).await?;
        crate::request_log::RequestInfo::client(&parts.extensions, &caller.client_id);
        Ok(Self(caller))
    }
}
