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

/// The paging and filter parameters lists take.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    pub offset: Option<String>,
    pub limit: Option<String>,
    pub org_id: Option<String>,
    pub all_child: Option<String>,
    pub account_type: Option<String>,
    pub actor: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub updated_at_greater: Option<String>,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn integer(name: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    non_empty(v)
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| Error::invalid(format!("{name} must be a whole number.")).into())
        })
        .transpose()
}

impl ListQuery {
    pub fn page(&self) -> Result<roster_domain::page::PageRequest, ApiError> {
        Ok(roster_domain::page::PageRequest::new(
            integer("offset", &self.offset)?,
            integer("limit", &self.limit)?,
        )?)
    }

    pub fn org_id(&self) -> Option<String> {
        non_empty(&self.org_id).map(str::to_owned)
    }

    pub fn all_child(&self) -> Result<bool, ApiError> {
        match non_empty(&self.all_child) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(Error::invalid("all_child must be true or false.").into()),
        }
    }

    /// The audit filter (`actor`, `target_id`, `from`, `to`).
    pub fn audit_filter(&self) -> Result<roster_domain::audit::AuditFilter, ApiError> {
        let time = |name: &str, v: &Option<String>| -> Result<Option<i64>, ApiError> {
            non_empty(v)
                .map(|t| {
                    roster_domain::time::parse(t).ok_or_else(|| {
                        Error::invalid(format!(
                            "{name} is a time: yyyy-MM-dd HH:mm:ss.SSS (UTC), RFC 3339 or epoch milliseconds."
                        ))
                        .into()
                    })
                })
                .transpose()
        };
        Ok(roster_domain::audit::AuditFilter {
            actor: non_empty(&self.actor).map(str::to_owned),
            target_id: non_empty(&self.target_id).map(str::to_owned),
            from: time("from", &self.from)?,
            to: time("to", &self.to)?,
        })
    }

    /// `updated_at_greater`: `yyyy-MM-dd HH:mm:ss.SSS` (UTC), as the API shows times, or epoch
    /// milliseconds.
    pub fn updated_at_greater(&self) -> Result<Option<roster_domain::time::Millis>, ApiError> {
        non_empty(&self.updated_at_greater)
            .map(|t| {
                roster_domain::time::parse_api_time(t).ok_or_else(|| {
                    Error::invalid(format!(
                        "updated_at_greater is a time: yyyy-MM-dd HH:mm:ss.SSS (UTC) or epoch milliseconds, not '{t}'."
                    ))
                    .into()
                })
            })
            .transpose()
    }

    pub fn account_type(&self) -> Result<Option<roster_domain::account::AccountType>, ApiError> {
        Ok(non_empty(&self.account_type)
            .map(roster_domain::account::AccountType::parse)
            .transpose()?)
    }
}
