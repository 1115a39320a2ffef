//! Request extractors, the one way handlers read what a request sends: a JSON body, path
//! ids, a query, a form. Their failures are never axum's plain-text rejections: each route
//! family answers in its own body ([`Refusal`]): the management API's catalog body, OAuth's
//! `{error, error_description}`, or a page for people.

use crate::error::ApiError;
use crate::oauth_error::OAuthError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use roster_domain::{Error, ErrorKind};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// How a family of routes answers a request it cannot read.
pub trait Refusal: axum::response::IntoResponse + Sized {
    /// The answer to `parts`' request, which was refused for `error`.
    fn refuse(parts: &Parts, error: Error) -> Self;
}

/// The management API (`/api/v2/tenant/…`, `/roster/v1/…`): the catalog body.
impl Refusal for ApiError {
    fn refuse(_: &Parts, error: Error) -> Self {
        error.into()
    }
}

/// The OAuth endpoints (`/api/v1/oauth2/…`): `{error, error_description}`.
impl Refusal for OAuthError {
    fn refuse(_: &Parts, error: Error) -> Self {
        error.into()
    }
}

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
/// absent, as the reference's examples send it. A query that cannot be read is refused as
/// `R`'s family answers.
pub struct Query<T, R = ApiError>(pub T, pub PhantomData<R>);

impl<T, R, S> FromRequestParts<S> for Query<T, R>
where
    T: DeserializeOwned + Send,
    R: Refusal,
    S: Send + Sync,
{
    type Rejection = R;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(|q| Self(q, PhantomData))
            .map_err(|e| {
                R::refuse(
                    parts,
                    Error::invalid(format!("The query is not valid: {e}")),
                )
            })
    }
}

/// A form body (`application/x-www-form-urlencoded`); refused as `R`'s family answers.
pub struct Form<T, R = ApiError>(pub T, pub PhantomData<R>);

impl<T, R, S> FromRequest<S> for Form<T, R>
where
    T: DeserializeOwned,
    R: Refusal,
    S: Send + Sync,
{
    type Rejection = R;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let req = Request::from_parts(parts.clone(), body);
        match read_form(req, state).await {
            Ok(fields) => Ok(Self(fields, PhantomData)),
            Err(e) => Err(R::refuse(&parts, e)),
        }
    }
}

/// Reads a form body. The one rule for forms: a body must be form-encoded, which a request
/// says in its `Content-Type` or by saying nothing (some clients send none); any other type is
/// refused with `415`. An empty body is a form without fields.
pub async fn read_form<T: DeserializeOwned, S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<T, Error> {
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("").to_ascii_lowercase());
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|r| body_error(r.status(), r.body_text()).0)?;
    if let Some(declared) = declared {
        let essence = declared.split(';').next().unwrap_or("").trim();
        if essence != "application/x-www-form-urlencoded" && !bytes.is_empty() {
            return Err(Error::with_detail(
                ErrorKind::UnsupportedMediaType,
                format!("Send the parameters as application/x-www-form-urlencoded, not {essence}."),
            ));
        }
    }
    serde_urlencoded::from_bytes(&bytes).map_err(|e| {
        Error::with_detail(
            ErrorKind::MalformedBody,
            format!("The form is not valid: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    struct Fields {
        a: Option<String>,
    }

    async fn form(content_type: Option<&str>, body: &'static str) -> Result<Fields, Error> {
        let mut req = Request::builder().method("POST").uri("/x");
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        read_form(req.body(Body::from(body)).unwrap(), &()).await
    }

    #[tokio::test]
    async fn one_content_type_rule_for_every_form() {
        let a = |v: &str| Fields {
            a: Some(v.to_owned()),
        };
        let form_type = Some("application/x-www-form-urlencoded");
        let cases: [(Option<&str>, &str, Result<Fields, ErrorKind>); 7] = [
            (form_type, "a=1", Ok(a("1"))),
            (
                Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
                "a=2",
                Ok(a("2")),
            ),
            // Saying nothing is taken as a form (some clients send no Content-Type).
            (None, "a=3", Ok(a("3"))),
            (None, "", Ok(Fields::default())),
            // Another type is refused, unless there is nothing to read.
            (
                Some("application/json"),
                "{\"a\":1}",
                Err(ErrorKind::UnsupportedMediaType),
            ),
            (Some("application/json"), "", Ok(Fields::default())),
            (form_type, "a=1&a=2", Err(ErrorKind::MalformedBody)),
        ];
        for (content_type, body, expected) in cases {
            let got = form(content_type, body).await.map_err(|e| e.kind());
            assert_eq!(got, expected, "{content_type:?} {body:?}");
        }
    }

    #[tokio::test]
    async fn each_family_refuses_in_its_own_body() {
        use axum::response::IntoResponse;
        let parts = Request::new(()).into_parts().0;
        let refused = || Error::with_detail(ErrorKind::MalformedBody, "The form is not valid.");
        let catalog = ApiError::refuse(&parts, refused()).into_response();
        let oauth = OAuthError::refuse(&parts, refused()).into_response();
        let read = |r: axum::response::Response| async move {
            let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        };
        assert!(read(catalog).await.get("error_code").is_some());
        assert_eq!(read(oauth).await["error"], "invalid_request");
    }
}
