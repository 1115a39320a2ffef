//! SAML 2.0 at `/api/v1/saml2/idp/*` (OneAccess's 基于SAML2.0的应用认证集成): the metadata,
//! and sign-in by HTTP-Redirect and HTTP-POST at one address, answered by the page that
//! posts a signed `Response` to the application. The browser's other pages are the sign-in
//! pages.

use crate::client_address::ClientAddress;
use crate::extract::{Form, Query};
use crate::pages::sign_in::{self as sign_in_page, Text};
use crate::pages::{html, saml as saml_page, Lang};
use crate::routes::sign_in::set_cookie;
use crate::routes::sign_in::{
    cookie, html_only, redirect, server_error, PageRefused, SESSION_COOKIE,
};
use crate::Site;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use roster_service::{
    Inbound, InboundMessage, SamlLogout, SamlLogoutRequest, SamlSso, SamlSsoRequest, Service,
    SSO_PATH,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(metadata))
        .routes(routes!(sso_redirect, sso_post))
        .routes(routes!(slo_redirect, slo_post))
}

/// `ShowIdpMetadata`: the IdP's SAML metadata, as a file to hand to the service provider.
#[utoipa::path(
    get,
    path = "/api/v1/saml2/idp/metadata",
    operation_id = "ShowIdpMetadata",
    tag = "sign-in (SAML)",
    responses(
        (status = 200, description = "The IdP's EntityDescriptor (its entity ID is this URL).", content_type = "application/samlmetadata+xml"),
        (status = 500, description = "Internal error.", content_type = "text/html"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/html")
    )
)]
async fn metadata(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    headers: HeaderMap,
) -> Response {
    match service.saml_metadata(&site.public_url).await {
        Ok(xml) => {
            let mut response = xml.into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/samlmetadata+xml"),
            );
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"roster-idp-metadata.xml\""),
            );
            // Short: a rotated key is published here before service providers must use it.
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            response
        }
        Err(e) => server_error(&html_only(&headers), &e),
    }
}

/// The sign-in address's query (HTTP-Redirect binding, IdP-initiated sign-in, and the way
/// back from the login page).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct SsoQuery {
    /// IdP-initiated: the application's SP Entity ID.
    sp: Option<String>,
    /// An AuthnRequest: DEFLATE, then base64 (HTTP-Redirect binding).
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    /// Given back to the service provider with the response.
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
    /// The query signature's algorithm (signed requests). Documented here; the signature
    /// check reads the raw query it covers.
    #[serde(rename = "SigAlg")]
    #[allow(dead_code)]
    sig_alg: Option<String>,
    /// The query signature (signed requests).
    #[serde(rename = "Signature")]
    #[allow(dead_code)]
    signature: Option<String>,
    /// Roster's own: a request back from the login page.
    resume: Option<String>,
}

/// `IdP-initiatedSSO` (with `sp`), and SP-initiated sign-in by HTTP-Redirect (with
/// `SAMLRequest`): signed in, a page that posts the SAML Response to the application's
/// Assertion Consumer Service; else the login page first. A request that cannot be trusted
/// (unknown service provider, ACS not registered, bad signature, replayed) gets an error page.
#[utoipa::path(
    get,
    path = "/api/v1/saml2/idp/sso",
    operation_id = "IdP-initiatedSSO",
    tag = "sign-in (SAML)",
    params(SsoQuery),
    responses(
        (status = 200, description = "The page that posts the SAMLResponse to the ACS.", content_type = "text/html"),
        (status = 302, description = "To the login page, then back."),
        (status = 400, description = "A request that cannot be trusted: a page saying why.", content_type = "text/html"),
        (status = 500, description = "Internal error.", content_type = "text/html"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/html")
    )
)]
async fn sso_redirect(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Query(query, _): Query<SsoQuery, PageRefused>,
) -> Response {
    let request = SamlSsoRequest {
        message: query.saml_request.map(|value| InboundMessage {
            binding: Inbound::Redirect,
            value,
            raw_query: raw,
        }),
        sp: query.sp,
        relay_state: query.relay_state,
        resume: query.resume,
        session_withheld: false,
    };
    sso(&service, &site, source, &headers, request, false).await
}

/// The sign-in address's form (HTTP-POST binding).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SsoForm {
    /// An AuthnRequest, base64 (signed, if at all, inside).
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// SP-initiated sign-in by HTTP-POST: as the GET, the request in the form.
#[utoipa::path(
    post,
    path = "/api/v1/saml2/idp/sso",
    operation_id = "SamlSsoPost",
    tag = "sign-in (SAML)",
    request_body(content = SsoForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The page that posts the SAMLResponse to the ACS.", content_type = "text/html"),
        (status = 303, description = "On as a GET (where the browser sends its session), then the login page if need be."),
        (status = 400, description = "A request that cannot be trusted: a page saying why.", content_type = "text/html"),
        (status = 415, description = "The body is not form-encoded.", content_type = "text/html"),
        (status = 500, description = "Internal error.", content_type = "text/html"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/html")
    )
)]
async fn sso_post(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    Form(form, _): Form<SsoForm, PageRefused>,
) -> Response {
    let request = SamlSsoRequest {
        message: form.saml_request.map(|value| InboundMessage {
            binding: Inbound::Post,
            value,
            raw_query: None,
        }),
        sp: None,
        relay_state: form.relay_state,
        resume: None,
        session_withheld: true,
    };
    sso(&service, &site, source, &headers, request, true).await
}

async fn sso(
    service: &Service,
    site: &Site,
    source: std::net::IpAddr,
    headers: &HeaderMap,
    request: SamlSsoRequest,
    posted: bool,
) -> Response {
    let lang = Lang::from_headers(headers);
    match service
        .saml_sso(
            request,
            cookie(headers, SESSION_COOKIE),
            source,
            &site.public_url,
        )
        .await
    {
        Ok(SamlSso::Post(post)) => saml_page::auto_post(lang, &post),
        Ok(SamlSso::SignIn { resume }) => {
            let back = format!(
                "{SSO_PATH}?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("resume", &resume)
                    .finish()
            );
            if posted {
                // A cross-site POST carries no SameSite=Lax session cookie: go on as a GET,
                // which does, before deciding whether the user must sign in.
                return redirect(StatusCode::SEE_OTHER, &back);
            }
            let login = format!(
                "/login?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("return_to", &back)
                    .finish()
            );
            redirect(StatusCode::FOUND, &login)
        }
        Ok(SamlSso::Refused(why)) => html(
            StatusCode::BAD_REQUEST,
            sign_in_page::message(
                lang,
                Text::CannotContinue,
                &sign_in_page::reason(lang, &why),
            ),
        ),
        Err(e) => server_error(&html_only(headers), &e),
    }
}

/// The logout address's query (HTTP-Redirect binding).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct SloQuery {
    /// A LogoutRequest: DEFLATE, then base64.
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
    /// The query signature's algorithm (documented; the check reads the raw query).
    #[serde(rename = "SigAlg")]
    #[allow(dead_code)]
    sig_alg: Option<String>,
    /// The query signature (required when the application registered a certificate).
    #[serde(rename = "Signature")]
    #[allow(dead_code)]
    signature: Option<String>,
}

/// SP-initiated single logout by HTTP-Redirect: ends the browser's session (its other
/// applications are told, as `/api/v1/logout` tells them) and answers a signed
/// LogoutResponse at the application's SingleLogoutService.
#[utoipa::path(
    get,
    path = "/api/v1/saml2/idp/slo",
    operation_id = "SamlSingleLogout",
    tag = "sign-in (SAML)",
    params(SloQuery),
    responses(
        (status = 200, description = "Signed out: the page that posts the LogoutResponse.", content_type = "text/html"),
        (status = 302, description = "Signed out: to the SingleLogoutService with the LogoutResponse (HTTP-Redirect), or to the login page."),
        (status = 400, description = "A request that cannot be trusted: a page saying why; nothing ended.", content_type = "text/html"),
        (status = 500, description = "Internal error.", content_type = "text/html"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/html")
    )
)]
async fn slo_redirect(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Query(query, _): Query<SloQuery, PageRefused>,
) -> Response {
    let Some(value) = query.saml_request else {
        return refused(&headers, "SAMLRequest is required: a LogoutRequest.");
    };
    let message = InboundMessage {
        binding: Inbound::Redirect,
        value,
        raw_query: raw,
    };
    slo(
        &service,
        &site,
        source,
        &headers,
        message,
        query.relay_state,
    )
    .await
}

/// SP-initiated single logout by HTTP-POST: as the GET, the request in the form.
#[utoipa::path(
    post,
    path = "/api/v1/saml2/idp/slo",
    operation_id = "SamlSingleLogoutPost",
    tag = "sign-in (SAML)",
    request_body(content = SsoForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Signed out: the page that posts the LogoutResponse.", content_type = "text/html"),
        (status = 302, description = "Signed out: to the SingleLogoutService (HTTP-Redirect), or to the login page."),
        (status = 400, description = "A request that cannot be trusted: a page saying why; nothing ended.", content_type = "text/html"),
        (status = 415, description = "The body is not form-encoded.", content_type = "text/html"),
        (status = 500, description = "Internal error.", content_type = "text/html"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/html")
    )
)]
async fn slo_post(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    Form(form, _): Form<SsoForm, PageRefused>,
) -> Response {
    let Some(value) = form.saml_request else {
        return refused(&headers, "SAMLRequest is required: a LogoutRequest.");
    };
    let message = InboundMessage {
        binding: Inbound::Post,
        value,
        raw_query: None,
    };
    slo(&service, &site, source, &headers, message, form.relay_state).await
}

fn refused(headers: &HeaderMap, why: &str) -> Response {
    let lang = Lang::from_headers(headers);
    html(
        StatusCode::BAD_REQUEST,
        sign_in_page::message(lang, Text::CannotContinue, &sign_in_page::reason(lang, why)),
    )
}

async fn slo(
    service: &Service,
    site: &Site,
    source: std::net::IpAddr,
    headers: &HeaderMap,
    message: InboundMessage,
    relay_state: Option<String>,
) -> Response {
    let lang = Lang::from_headers(headers);
    let request = SamlLogoutRequest {
        message,
        relay_state,
        cookie: cookie(headers, SESSION_COOKIE),
        source,
        public_url: &site.public_url,
        issuer: &site.issuer,
    };
    let mut response = match service.saml_logout(request).await {
        Ok(SamlLogout::Refused(why)) => return refused(headers, &why),
        Ok(SamlLogout::Post(post)) => saml_page::auto_post(lang, &post),
        Ok(SamlLogout::Redirect(url)) => redirect(StatusCode::FOUND, &url),
        Err(e) => return server_error(&html_only(headers), &e),
    };
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(site, SESSION_COOKIE, "", "/", Some(0)),
    );
    response
}
