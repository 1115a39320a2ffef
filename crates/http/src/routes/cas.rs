//! CAS 1.0 / 2.0 / 3.0 at `/api/v1/cas/*` (OneAccess's 基于CAS的应用认证集成): the login that
//! sends a signed-in browser back with a service ticket, the three validations (plain text,
//! XML, and with `format=JSON` JSON), and logout. The browser's pages are the sign-in pages.

use crate::client_address::ClientAddress;
use crate::extract::Query;
use crate::pages::cas::{self as cas_page, ProxyFailure, ServiceResponse};
use crate::pages::sign_in::{self as sign_in_page, Text};
use crate::pages::{html, render, Lang};
use crate::routes::sign_in::{cookie, redirect, server_error, set_cookie, Refused, SESSION_COOKIE};
use crate::Site;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use roster_domain::cas::CasFailure;
use roster_service::{CasLogin, CasLoginRequest, CasValidation, Logout, Service, ValidateRequest};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The login's path, as the login page's way back names it.
const LOGIN_PATH: &str = crate::routes::sign_in::CAS_LOGIN_PATH;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(validate))
        .routes(routes!(service_validate))
        .routes(routes!(proxy_validate))
        .routes(routes!(p3_service_validate))
        .routes(routes!(p3_proxy_validate))
        .routes(routes!(proxy))
        .routes(routes!(logout))
}

/// `GET /api/v1/cas/login`'s query.
#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct LoginQuery {
    /// The service URL the ticket goes to: one a CAS application registered.
    service: Option<String>,
    /// `true`: the password again, even with a session.
    renew: Option<String>,
    /// `true`: back to the service without a ticket rather than show the login page.
    gateway: Option<String>,
    /// Roster's own, set by the login page's way back: the password was typed after this
    /// time (ms).
    auth_after: Option<String>,
}

fn is_true(v: Option<&str>) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `AuthorizeCASLogin`: with a session whose user may sign in to the service's application,
/// back to the service with `ticket=ST-…`; else the login page first (or, `gateway=true`,
/// back without a ticket). An unknown service gets an error page, never a redirect.
#[utoipa::path(
    get,
    path = "/api/v1/cas/login",
    operation_id = "AuthorizeCASLogin",
    tag = "sign-in (CAS)",
    params(LoginQuery),
    responses(
        (status = 302, description = "To the service with a ticket (or without, for gateway), or to the login page."),
        (status = 400, description = "No service, or one no CAS application registered: a page.", content_type = "text/html"),
        (status = 403, description = "The user may not sign in to the application: a page.", content_type = "text/html"),
        (status = 500, description = "Internal error.", content_type = "text/html"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/html")
    )
)]
async fn login(
    State(service): State<Service>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    Query(query, _): Query<LoginQuery, Refused>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let request = CasLoginRequest {
        service: query.service.clone(),
        renew: is_true(query.renew.as_deref()),
        gateway: is_true(query.gateway.as_deref()),
        auth_after: query.auth_after.as_deref().and_then(|t| t.parse().ok()),
    };
    let page = |status, why: &str| {
        html(
            status,
            sign_in_page::message(
                lang,
                Text::CannotContinue,
                &cas_page::login_refused(lang, why),
            ),
        )
    };
    match service
        .cas_login(request, cookie(&headers, SESSION_COOKIE), source)
        .await
    {
        Ok(CasLogin::Redirect(url)) => redirect(StatusCode::FOUND, &url),
        Ok(CasLogin::SignIn { auth_after }) => {
            let mut back = query;
            back.auth_after = Some(auth_after.to_string());
            let return_to = format!(
                "{LOGIN_PATH}?{}",
                serde_urlencoded::to_string(&back).unwrap_or_default()
            );
            let login = format!(
                "/login?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("return_to", &return_to)
                    .finish()
            );
            redirect(StatusCode::FOUND, &login)
        }
        Ok(CasLogin::Untrusted(why)) => page(StatusCode::BAD_REQUEST, why),
        Ok(CasLogin::Refused(why)) => page(StatusCode::FORBIDDEN, why),
        Err(e) => server_error(&crate::routes::sign_in::html_only(&headers), &e),
    }
}

/// The validations' query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ValidateQuery {
    /// The service URL the ticket was issued for.
    service: Option<String>,
    /// The ticket (`ST-…`).
    ticket: Option<String>,
    /// `true`: only a ticket from a login that asked for the password passes.
    renew: Option<String>,
    /// `XML` (default) or `JSON` (not for CAS 1.0's `validate`).
    format: Option<String>,
    /// A proxy callback: Roster issues no proxy-granting tickets, so none is called (the
    /// validation answers without `proxyGrantingTicket`).
    #[serde(rename = "pgtUrl")]
    pgt_url: Option<String>,
}

impl ValidateQuery {
    fn request(&self) -> ValidateRequest<'_> {
        ValidateRequest {
            ticket: self.ticket.as_deref(),
            service: self.service.as_deref(),
            renew: is_true(self.renew.as_deref()),
        }
    }

    fn json(&self) -> bool {
        self.format
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case("json"))
    }
}

fn with_type(body: String, content_type: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `ValidateServiceCAS10`: `yes\n<user>\n`, or `no\n\n`.
#[utoipa::path(
    get,
    path = "/api/v1/cas/validate",
    operation_id = "ValidateServiceCAS10",
    tag = "sign-in (CAS)",
    params(ValidateQuery),
    responses(
        (status = 200, description = "`yes` and the user name, or `no`.", content_type = "text/plain"),
        (status = 500, description = "Internal error.", content_type = "text/plain"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/plain")
    )
)]
async fn validate(
    State(service): State<Service>,
    Query(query, _): Query<ValidateQuery, Refused>,
) -> Response {
    match service.validate_service_ticket(query.request()).await {
        Ok(Ok(valid)) => with_type(
            format!("yes\n{}\n", valid.user),
            "text/plain; charset=utf-8",
        ),
        Ok(Err(_)) => with_type("no\n\n".to_owned(), "text/plain; charset=utf-8"),
        Err(e) => failed(&e),
    }
}

/// A server-side failure of a validation: the status, and the protocol's `INTERNAL_ERROR`.
fn failed(e: &roster_domain::Error) -> Response {
    tracing::error!(
        code = e.kind().code(),
        detail = e.detail().unwrap_or_default(),
        "CAS validation failed"
    );
    let status =
        StatusCode::from_u16(e.kind().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, "INTERNAL_ERROR").into_response()
}

/// A validation's answer, as XML or JSON, with attributes for CAS 3.0.
async fn service_response(service: &Service, query: &ValidateQuery, attributes: bool) -> Response {
    let outcome = match service.validate_service_ticket(query.request()).await {
        Ok(outcome) => outcome,
        Err(e) => return failed(&e),
    };
    if query.json() {
        return with_type(
            json_answer(&outcome, attributes).to_string(),
            "application/json",
        );
    }
    let (success, code, description) = match &outcome {
        Ok(valid) => (Some(valid), "", String::new()),
        Err(f) => (None, f.code(), f.xml_description()),
    };
    let shown = match (success, attributes) {
        (Some(valid), true) => valid
            .attributes
            .iter()
            .filter(|(name, _)| cas_page::is_xml_name(name))
            .map(|(name, values)| (name.as_str(), values.as_slice()))
            .collect(),
        _ => vec![],
    };
    let body = render(&ServiceResponse {
        success,
        attributes: shown,
        code,
        description: &description,
    });
    with_type(body, "application/xml; charset=utf-8")
}

fn json_answer(outcome: &Result<CasValidation, CasFailure>, attributes: bool) -> Value {
    let inner = match outcome {
        Ok(valid) => {
            let mut success = Map::new();
            success.insert("user".into(), Value::from(valid.user.as_str()));
            if attributes {
                let attrs: Map<String, Value> = valid
                    .attributes
                    .iter()
                    .map(|(name, values)| (name.clone(), Value::from(values.clone())))
                    .collect();
                success.insert("attributes".into(), Value::Object(attrs));
            }
            json!({ "authenticationSuccess": success })
        }
        Err(f) => json!({
            "authenticationFailure": {"code": f.code(), "description": f.json_description()}
        }),
    };
    json!({ "serviceResponse": inner })
}

/// `ValidateServiceCAS20`: the user, as XML (or JSON).
#[utoipa::path(
    get,
    path = "/api/v1/cas/serviceValidate",
    operation_id = "ValidateServiceCAS20",
    tag = "sign-in (CAS)",
    params(ValidateQuery),
    responses(
        (status = 200, description = "`cas:authenticationSuccess` or `cas:authenticationFailure`.", content((String = "application/xml"), (Object = "application/json"))),
        (status = 500, description = "Internal error.", content_type = "text/plain"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/plain")
    )
)]
async fn service_validate(
    State(service): State<Service>,
    Query(query, _): Query<ValidateQuery, Refused>,
) -> Response {
    service_response(&service, &query, false).await
}

/// CAS 2.0's `proxyValidate`: a service ticket is validated as by `serviceValidate`; Roster
/// issues no proxy tickets.
#[utoipa::path(
    get,
    path = "/api/v1/cas/proxyValidate",
    operation_id = "ValidateProxyCAS20",
    tag = "sign-in (CAS)",
    params(ValidateQuery),
    responses(
        (status = 200, description = "`cas:authenticationSuccess` or `cas:authenticationFailure`.", content((String = "application/xml"), (Object = "application/json"))),
        (status = 500, description = "Internal error.", content_type = "text/plain"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/plain")
    )
)]
async fn proxy_validate(
    State(service): State<Service>,
    Query(query, _): Query<ValidateQuery, Refused>,
) -> Response {
    service_response(&service, &query, false).await
}

/// `ValidateServiceCAS30`: the user and their attributes, as XML (or JSON).
#[utoipa::path(
    get,
    path = "/api/v1/cas/p3/serviceValidate",
    operation_id = "ValidateServiceCAS30",
    tag = "sign-in (CAS)",
    params(ValidateQuery),
    responses(
        (status = 200, description = "`cas:authenticationSuccess` with `cas:attributes`, or `cas:authenticationFailure`.", content((String = "application/xml"), (Object = "application/json"))),
        (status = 500, description = "Internal error.", content_type = "text/plain"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/plain")
    )
)]
async fn p3_service_validate(
    State(service): State<Service>,
    Query(query, _): Query<ValidateQuery, Refused>,
) -> Response {
    service_response(&service, &query, true).await
}

/// CAS 3.0's `p3/proxyValidate`: as `p3/serviceValidate` for a service ticket.
#[utoipa::path(
    get,
    path = "/api/v1/cas/p3/proxyValidate",
    operation_id = "ValidateProxyCAS30",
    tag = "sign-in (CAS)",
    params(ValidateQuery),
    responses(
        (status = 200, description = "`cas:authenticationSuccess` with `cas:attributes`, or `cas:authenticationFailure`.", content((String = "application/xml"), (Object = "application/json"))),
        (status = 500, description = "Internal error.", content_type = "text/plain"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/plain")
    )
)]
async fn p3_proxy_validate(
    State(service): State<Service>,
    Query(query, _): Query<ValidateQuery, Refused>,
) -> Response {
    service_response(&service, &query, true).await
}

/// `/proxy`'s query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ProxyQuery {
    /// A proxy-granting ticket.
    pgt: Option<String>,
    #[serde(rename = "targetService")]
    target_service: Option<String>,
}

/// CAS 2.0's `proxy`: Roster issues no proxy-granting tickets, so every request fails with
/// the protocol's `cas:proxyFailure`.
#[utoipa::path(
    get,
    path = "/api/v1/cas/proxy",
    operation_id = "ProxyCAS20",
    tag = "sign-in (CAS)",
    params(ProxyQuery),
    responses((status = 200, description = "`cas:proxyFailure`.", content_type = "application/xml"))
)]
async fn proxy(Query(query, _): Query<ProxyQuery, Refused>) -> Response {
    let (code, description) = match (&query.pgt, &query.target_service) {
        (Some(_), Some(_)) => (
            "INVALID_TICKET",
            "Roster issues no proxy-granting tickets: the pgt is not one of its.",
        ),
        _ => ("INVALID_REQUEST", "pgt and targetService are required."),
    };
    with_type(
        render(&ProxyFailure { code, description }),
        "application/xml; charset=utf-8",
    )
}

/// `CancelCASLogin`'s query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct LogoutQuery {
    /// Where to go afterwards: a service URL a CAS application registered (else the login
    /// page).
    service: Option<String>,
    /// CAS 2.0's name for `service` (python-cas and other 2.0 clients send it).
    url: Option<String>,
}

/// `CancelCASLogin`: ends the browser's session (at once, as Apereo CAS does), then to
/// `service` when a CAS application registered it, else to the login page.
#[utoipa::path(
    get,
    path = "/api/v1/cas/logout",
    operation_id = "CancelCASLogin",
    tag = "sign-in (CAS)",
    params(LogoutQuery),
    responses(
        (status = 302, description = "Signed out: to the service, or the login page."),
        (status = 500, description = "Internal error.", content_type = "text/html"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/html")
    )
)]
async fn logout(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    Query(query, _): Query<LogoutQuery, Refused>,
) -> Response {
    let html_headers = crate::routes::sign_in::html_only(&headers);
    let ended = service
        .sign_out(Logout {
            cookie: cookie(&headers, SESSION_COOKIE),
            redirect_url: None,
            post_logout_redirect_uri: None,
            state: None,
            client_id: None,
            id_token_hint: None,
            issuer: &site.issuer,
            ask_first: false,
            source,
            initiated_by: None,
        })
        .await;
    if let Err(e) = ended {
        return server_error(&html_headers, &e);
    }
    let asked = query.service.as_deref().or(query.url.as_deref());
    let target = match service.cas_logout_target(asked).await {
        Ok(target) => target,
        Err(e) => return server_error(&html_headers, &e),
    };
    let mut response = redirect(
        StatusCode::FOUND,
        target.as_deref().unwrap_or("/login?signed_out=1"),
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&site, SESSION_COOKIE, "", "/", Some(0)),
    );
    response
}
