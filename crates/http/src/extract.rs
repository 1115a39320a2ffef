//! Request extractors whose failures are catalog errors, never axum's plain-text rejections.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use roster_domain::{Error, ErrorKind};
use serde::de::DeserializeOwned;

fn body_error(status: StatusCode, detail: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ErrorKind::BodyTooLarge.into()
    } else {
        Error::with_detail(ErrorKind::MalformedBody, detail).into()
    }
}

/// A JSON object body. An empty body reads as `{}` (every field absent), since several
/// interfaces take a body whose fields are all optional.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("").to_ascii_lowercase());
        if let Some(ct) = &content_type {
            let essence = ct.split(';').next().unwrap_or("").trim();
            if !(essence == "application/json" || essence.ends_with("+json")) {
                return Err(Error::with_detail(
                    ErrorKind::UnsupportedMediaType,
                    format!("Send the body as application/json, not {essence}."),
                )
                .into());
            }
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| body_error(r.status(), r.body_text()))?;
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            None => return Ok(Self(T::default())),
            Some(b'{') => {}
            Some(_) => {
                // Valid JSON of another kind is a wrong parameter; anything else is malformed.
                return Err(
                    match serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
                        Ok(_) => Error::with_detail(
                            ErrorKind::InvalidParameter,
                            "The body must be a JSON object.",
                        ),
                        Err(e) => Error::with_detail(ErrorKind::MalformedBody, e.to_string()),
                    }
                    .into(),
                );
            }
        }
        serde_json::from_slice(&bytes).map(Self).map_err(|e| {
            let kind = if e.is_data() {
                ErrorKind::InvalidParameter
            } else {
                ErrorKind::MalformedBody
            };
            Error::with_detail(kind, e.to_string()).into()
        })
    }
}

/// The named path parameters, as strings.
pub struct PathIds<T>(pub T);

impl<T, S> FromRequestParts<S> for PathIds<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|r| Error::invalid(r.body_text()).into())
    }
}

/// Query parameters. Every field is read as text so that an empty value (`org_id=`) reads as
/// absent, as the reference's examples send it.
pub struct QueryParams<T>(pub T);

impl<T, S> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|r| Error::invalid(r.body_text()).into())
    }
}
