//! What a browser goes through to sign in to an application: `GET /api/v1/oauth2/authorize`
//! (OneAccess `IssueOAuthAuthCode`, `IssueOIDCAuthCode`, `IssueOIDCImplicitAuthCode`), the
//! login page (`/login`, a Roster page) and global logout (`GET /api/v1/logout`,
//! `SingleLogout`). The session is a cookie naming a store-held session, so every node
//! knows it.

use crate::client_address::ClientAddress;
use crate::extract::{Form, Query, Refusal};
use crate::oauth_error::{cannot_continue, cannot_continue_saying, OAuthErrorBody};
use crate::pages::sign_in::{
    self as sign_in_page, ChangePasswordForm, CodeForm, LoginForm, Notice, Text,
};
use crate::pages::{html, render, Lang};
use crate::Site;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use roster_domain::secret;
use roster_domain::ErrorKind;
use roster_service::{
    Authorize, AuthorizeRequest, CodeAtLogin, Login, Logout, PasswordChangeAtLogin, Redirect,
    Service, SignInOutcome, SignedOut,
};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(authorize, authorize_form))
        .routes(routes!(login_page, login))
        .routes(routes!(change_password))
        .routes(routes!(verify_code))
        .routes(routes!(logout, logout_confirmed))
}

pub(crate) use crate::cookies::{cookie, set_cookie, SESSION_COOKIE};
/// The cookie holding the login form's CSRF token (double submit: the form must carry the
/// same value, which another site can neither read nor set).
const CSRF_COOKIE: &str = "roster_csrf";
/// Where the login page may send the browser back to: an authorization request only.
const RETURN_PREFIX: &str = "/api/v1/oauth2/authorize?";
/// The CAS login, the login page's other way back.
pub const CAS_LOGIN_PATH: &str = "/api/v1/cas/login";

pub(crate) fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `headers` as if the caller had asked for HTML (the login form's answers are all pages).
pub(crate) fn html_only(headers: &HeaderMap) -> HeaderMap {
    let mut headers = headers.clone();
    headers.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
    headers
}

/// How the sign-in routes refuse a request they cannot read: a page for browsers, OAuth's
/// error body for programs, as every other answer of theirs.
pub struct Refused(Response);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        self.0
    }
}

impl Refusal for Refused {
    fn refuse(parts: &Parts, error: roster_domain::Error) -> Self {
        Self(refusal(&parts.headers, &error))
    }
}

/// How the login page refuses a request it cannot read: always with a page (the form is
/// for people).
pub struct PageRefused(Response);

impl IntoResponse for PageRefused {
    fn into_response(self) -> Response {
        self.0
    }
}

impl Refusal for PageRefused {
    fn refuse(parts: &Parts, error: roster_domain::Error) -> Self {
        Self(refusal(&html_only(&parts.headers), &error))
    }
}

fn refusal(headers: &HeaderMap, error: &roster_domain::Error) -> Response {
    let status = StatusCode::from_u16(error.kind().status()).unwrap_or(StatusCode::BAD_REQUEST);
    cannot_continue(headers, status, "invalid_request", &error.client_message())
}

pub(crate) fn server_error(headers: &HeaderMap, err: &roster_domain::Error) -> Response {
    tracing::error!(
        code = err.kind().code(),
        detail = err.detail().unwrap_or_default(),
        "sign-in failed"
    );
    let (status, error) = if err.kind() == roster_domain::ErrorKind::Unavailable {
        (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
    } else if err.is_server_side() {
        (StatusCode::INTERNAL_SERVER_ERROR, "server_error")
    } else {
        (StatusCode::BAD_REQUEST, "invalid_request")
    };
    cannot_continue(headers, status, error, &err.client_message())
}

/// The parameters of an authorization request (in the query, or a form for POST).
#[derive(Debug, Default, Deserialize, Serialize, IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct AuthorizeQuery {
    /// `code` (authorization code flow); `id_token`, `id_token token` or `token` (implicit
    /// flow, when the application turned it on).
    response_type: Option<String>,
    /// The application's client id.
    client_id: Option<String>,
    /// A registered redirect URI (or one its registered origin admits); default: the first
    /// registered.
    redirect_uri: Option<String>,
    /// `get_user_info` (OAuth 2.0) or `openid` (OpenID Connect), the default by protocol.
    scope: Option<String>,
    /// Sent back unchanged.
    state: Option<String>,
    /// Put into the id_token.
    nonce: Option<String>,
    /// PKCE (RFC 7636), beyond the reference: the `S256` challenge.
    code_challenge: Option<String>,
    /// `S256` (`plain` is refused).
    code_challenge_method: Option<String>,
    /// OpenID Connect's `prompt`: `none` answers `error=login_required` rather than showing
    /// the login page; `login` asks for the password again; other values are ignored.
    prompt: Option<String>,
    /// `query` (default of the code flow) or `fragment` (the implicit flow's only mode).
    response_mode: Option<String>,
    /// OpenID Connect's `max_age`: seconds since the password was typed, at most.
    max_age: Option<String>,
    /// Roster's own, set by the login page's way back when the password was asked again:
    /// the time (ms) it must have been typed after.
    auth_after: Option<String>,
}

impl AuthorizeQuery {
    /// The request as the service reads it.
    fn request(&self) -> AuthorizeRequest {
        AuthorizeRequest {
            response_type: self.response_type.clone(),
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            scope: self.scope.clone(),
            state: self.state.clone(),
            nonce: self.nonce.clone(),
            code_challenge: self.code_challenge.clone(),
            code_challenge_method: self.code_challenge_method.clone(),
            prompt: self.prompt.clone(),
            response_mode: self.response_mode.clone(),
            max_age: self.max_age.clone(),
            auth_after: self.auth_after.clone(),
        }
    }

    /// The way back from the login page: this request as a query (whether it came as one
    /// or as a form), with `auth_after` when the password is asked for again.
    fn return_to(mut self, auth_after: Option<i64>) -> String {
        if let Some(after) = auth_after {
            self.auth_after = Some(after.to_string());
        }
        let query = serde_urlencoded::to_string(&self).unwrap_or_default();
        format!("{RETURN_PREFIX}{query}")
    }
}

/// Signs the browser's user in to an application: with a session, back to the application's
/// redirect URI with a code (or, implicit flow, tokens in the fragment); without one, to the
/// login page first. An unknown client or unregistered redirect URI gets an error page and is
/// never redirected; other refusals go back to the application as `error=...`.
#[utoipa::path(
    get,
    path = "/api/v1/oauth2/authorize",
    operation_id = "IssueOAuthAuthCode",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    params(AuthorizeQuery),
    responses(
        (status = 302, description = "To the application (code, tokens or error), or to the login page."),
        (status = 400, description = "Unknown client or redirect URI: nothing to redirect to (a page for browsers, else JSON).", content((OAuthErrorBody = "application/json"), ("text/html"))),
        (status = 500, description = "Internal error.", content((OAuthErrorBody = "application/json"), ("text/html"))),
        (status = 503, description = "The database cannot be reached.", content((OAuthErrorBody = "application/json"), ("text/html")))
    )
)]
async fn authorize(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    Query(query, _): Query<AuthorizeQuery, Refused>,
) -> Response {
    authorization(&service, &site, source, &headers, query).await
}

/// The authorization request as a form (OpenID Connect Core §3.1.2.1): answered as the query
/// form is.
#[utoipa::path(
    post,
    path = "/api/v1/oauth2/authorize",
    operation_id = "IssueOAuthAuthCodeByForm",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    request_body(content = AuthorizeQuery, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "To the application (code, tokens or error), or to the login page."),
        (status = 400, description = "Unknown client or redirect URI: nothing to redirect to (a page for browsers, else JSON).", content((OAuthErrorBody = "application/json"), ("text/html"))),
        (status = 413, description = "The form is too large.", content((OAuthErrorBody = "application/json"), ("text/html"))),
        (status = 415, description = "The body is not form-encoded.", content((OAuthErrorBody = "application/json"), ("text/html"))),
        (status = 500, description = "Internal error.", content((OAuthErrorBody = "application/json"), ("text/html"))),
        (status = 503, description = "The database cannot be reached.", content((OAuthErrorBody = "application/json"), ("text/html")))
    )
)]
async fn authorize_form(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    Form(query, _): Form<AuthorizeQuery, Refused>,
) -> Response {
    authorization(&service, &site, source, &headers, query).await
}

async fn authorization(
    service: &Service,
    site: &Site,
    source: std::net::IpAddr,
    headers: &HeaderMap,
    query: AuthorizeQuery,
) -> Response {
    let answer = service
        .authorize(
            query.request(),
            cookie(headers, SESSION_COOKIE),
            source,
            &site.issuer,
        )
        .await;
    match answer {
        Ok(Authorize::Redirect(url)) => redirect(StatusCode::FOUND, &url),
        Ok(Authorize::SignIn { auth_after }) => {
            let login = format!(
                "/login?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("return_to", &query.return_to(auth_after))
                    .finish()
            );
            redirect(StatusCode::FOUND, &login)
        }
        Ok(Authorize::Untrusted(why)) => cannot_continue_saying(
            headers,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &why.to_string(),
            |lang| sign_in_page::untrusted(lang, &why),
        ),
        Err(e) => server_error(headers, &e),
    }
}

/// The login page's query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginQuery {
    /// The authorization request to go on with after signing in.
    return_to: Option<String>,
    /// Set by logout: the page says the user is signed out.
    signed_out: Option<String>,
    /// Set by the portal's password change: the page says to sign in with the new one.
    password_changed: Option<String>,
}

/// The login form's fields.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct LoginFields {
    /// User name, mobile or email.
    user_name: Option<String>,
    password: Option<String>,
    /// The token the page put in the form.
    csrf_token: Option<String>,
    return_to: Option<String>,
}

/// `return_to` if it is an authorization request, a CAS or SAML login, or a page of the
/// console or the portal, all of this server (never another site).
fn safe_return(return_to: Option<&str>) -> Option<&str> {
    let cas = format!("{CAS_LOGIN_PATH}?");
    let saml = format!("{}?", roster_service::SSO_PATH);
    let page = |r: &str| {
        ["/console", "/portal"].iter().any(|p| {
            r.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
        })
    };
    return_to.filter(|r| {
        (r.starts_with(RETURN_PREFIX) || r.starts_with(&cas) || r.starts_with(&saml) || page(r))
            && !r.contains(['\r', '\n', '\\'])
    })
}

/// The name of the application an authorization request is for, to show on the page.
/// The client id of the application the login page's way back signs in to: the
/// authorization request's `client_id`, or the application that registered a CAS login's
/// `service` (none if it cannot be read: the page works without it).
async fn client_of(service: &Service, return_to: Option<&str>) -> Option<String> {
    let param = |query: &str, name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let return_to = return_to?;
    // The console is a built-in application: the MFA policy may name it.
    if return_to == "/console"
        || return_to.starts_with("/console/")
        || return_to.starts_with("/console?")
    {
        return Some(roster_domain::console::CONSOLE_CLIENT_ID.to_owned());
    }
    if let Some(query) = return_to.strip_prefix(RETURN_PREFIX) {
        return param(query, "client_id");
    }
    if let Some(query) = return_to
        .strip_prefix(roster_service::SSO_PATH)
        .and_then(|q| q.strip_prefix('?'))
    {
        let resume = param(query, "resume")?;
        return service.saml_client_id(&resume).await.ok().flatten();
    }
    let query = return_to.strip_prefix(CAS_LOGIN_PATH)?.strip_prefix('?')?;
    let service_url = param(query, "service")?;
    service.cas_client_id(&service_url).await.ok().flatten()
}

/// The login form, with a fresh CSRF token unless the browser holds one.
async fn login_form(
    service: &Service,
    site: &Site,
    headers: &HeaderMap,
    status: StatusCode,
    return_to: Option<&str>,
    user_name: &str,
    notice: Option<Notice>,
) -> Response {
    // Only a token this server issued is kept; anything else planted there is replaced.
    let held = cookie(headers, CSRF_COOKIE).filter(|t| service.login_form_token_issued(t));
    let token = held.map_or_else(|| service.login_form_token(), str::to_owned);
    let lang = Lang::from_headers(headers);
    let application = match client_of(service, return_to).await {
        // The name if it can be read; the page works without it.
        Some(client_id) => service.application_name(&client_id).await.ok().flatten(),
        None => None,
    };
    let tenant = service.tenant_name().await.ok().flatten();
    let body = render(&LoginForm {
        lang,
        csrf_token: &token,
        return_to,
        application: application.as_deref(),
        user_name,
        notice,
        tenant: tenant.as_deref().unwrap_or("Roster"),
    });
    let mut response = html(status, body);
    if held.is_none() {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(site, CSRF_COOKIE, &token, "/login", None),
        );
    }
    response
}

/// The login page (a Roster page; OneAccess shows its own): user name, mobile or email, and
/// password.
#[utoipa::path(
    get,
    path = "/login",
    operation_id = "ShowLoginPage",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    params(LoginQuery),
    responses(
        (status = 200, description = "The login form.", content_type = "text/html")
    )
)]
async fn login_page(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    headers: HeaderMap,
    Query(query, _): Query<LoginQuery, PageRefused>,
) -> Response {
    let return_to = safe_return(query.return_to.as_deref());
    let lang = Lang::from_headers(&headers);
    let notice = if query.signed_out.is_some() {
        Some(Notice::Info(Text::SignedOut.get(lang).to_owned()))
    } else if query.password_changed.is_some() {
        Some(Notice::Info(Text::PasswordChanged.get(lang).to_owned()))
    } else {
        None
    };
    login_form(
        &service,
        &site,
        &headers,
        StatusCode::OK,
        return_to,
        "",
        notice,
    )
    .await
}

/// Checks the login form: on success a new session (cookie) and on to the authorization
/// request it came from; else the form again, saying why (attempts left, or the lock).
#[utoipa::path(
    post,
    path = "/login",
    operation_id = "SignIn",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    request_body(content = LoginFields, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: on to the authorization request."),
        (status = 200, description = "Signed in, with nothing to go on to.", content_type = "text/html"),
        (status = 401, description = "Wrong name or password, locked or disabled: the form again.", content_type = "text/html"),
        (status = 403, description = "The form's CSRF token is missing or wrong: the form again.", content_type = "text/html"),
        (status = 429, description = "Too many password checks from this address: the form again.", content_type = "text/html"),
        (status = 400, description = "The form is not valid.", content_type = "text/html"),
        (status = 413, description = "The form is too large.", content_type = "text/html"),
        (status = 415, description = "The body is not form-encoded.", content_type = "text/html"),
        (status = 500, description = "Internal error.", content_type = "text/html"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/html")
    )
)]
async fn login(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    Form(fields, _): Form<LoginFields, PageRefused>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let return_to = safe_return(fields.return_to.as_deref());
    let user_name = fields.user_name.as_deref().unwrap_or_default();
    if !form_token_ok(&service, &headers, fields.csrf_token.as_deref()) {
        let error = Some(Notice::Error(Text::FormExpired.get(lang).to_owned()));
        return login_form(
            &service,
            &site,
            &headers,
            StatusCode::FORBIDDEN,
            return_to,
            user_name,
            error,
        )
        .await;
    }
    let client = client_of(&service, return_to).await;
    let outcome = service
        .sign_in(Login {
            login: user_name,
            password: fields.password.as_deref().unwrap_or_default(),
            source,
            previous_session: cookie(&headers, SESSION_COOKIE),
            client_id: client.as_deref(),
        })
        .await;
    let error = match outcome {
        Ok(SignInOutcome::SignedIn(session)) => {
            return signed_in(&service, &site, return_to, &session.cookie)
        }
        Ok(SignInOutcome::WrongPassword { remaining }) => {
            sign_in_page::wrong_password(lang, remaining)
        }
        Ok(SignInOutcome::Locked { unlock_in_secs }) => sign_in_page::locked(lang, unlock_in_secs),
        Ok(SignInOutcome::Disabled) => Text::Disabled.get(lang).to_owned(),
        Ok(SignInOutcome::ChangePassword {
            token,
            expires_in_days,
        }) => {
            let csrf = fields.csrf_token.as_deref().unwrap_or_default();
            let step = ChangeStep {
                token: &token,
                expires_in_days,
            };
            return change_page(lang, StatusCode::OK, csrf, step, return_to, None);
        }
        Ok(SignInOutcome::SecondFactor { token, mobile }) => {
            let csrf = fields.csrf_token.as_deref().unwrap_or_default();
            let page = CodePage {
                lang,
                csrf_token: csrf,
                return_to,
            };
            return page.show(StatusCode::OK, &token, &mobile, None);
        }
        Err(e) if e.kind() == ErrorKind::TooManySignIns => {
            let error = Some(Notice::Error(Text::TooManyAttempts.get(lang).to_owned()));
            let mut page = login_form(
                &service,
                &site,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                return_to,
                user_name,
                error,
            )
            .await;
            page.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return page;
        }
        Err(e) => return server_error(&html_only(&headers), &e),
    };
    login_form(
        &service,
        &site,
        &headers,
        StatusCode::UNAUTHORIZED,
        return_to,
        user_name,
        Some(Notice::Error(error)),
    )
    .await
}

/// Whether a login form (or the change page) came with its token: a double submit of a token
/// the server issued (a value planted in the cookie by another site is not one), and never
/// a form posted from another site.
fn form_token_ok(service: &Service, headers: &HeaderMap, sent: Option<&str>) -> bool {
    let double_submit = match (cookie(headers, CSRF_COOKIE), sent) {
        (Some(held), Some(sent)) => {
            service.login_form_token_issued(held) && secret::constant_time_eq(held, sent)
        }
        _ => false,
    };
    double_submit && !sent_by_another_site(headers)
}

/// The password change a login asks for: its token, and the days left when it may be put off.
#[derive(Clone, Copy)]
struct ChangeStep<'a> {
    token: &'a str,
    expires_in_days: Option<i64>,
}

/// The page asking for a new password (the login form's CSRF cookie still holds).
fn change_page(
    lang: Lang,
    status: StatusCode,
    csrf_token: &str,
    step: ChangeStep<'_>,
    return_to: Option<&str>,
    error: Option<&str>,
) -> Response {
    html(
        status,
        render(&ChangePasswordForm {
            lang,
            csrf_token,
            change_token: step.token,
            expires_in_days: step.expires_in_days,
            return_to,
            error,
        }),
    )
}

/// The change page's fields.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ChangeFields {
    new_password: Option<String>,
    confirm_password: Option<String>,
    /// The token the login gave for the change.
    change_token: Option<String>,
    /// Days until the password expires, when the change may be put off (shown again on the
    /// page; whether it may is decided again).
    expires_in_days: Option<i64>,
    /// Present: sign in without the change ("Not now"; only before the password expires).
    skip: Option<String>,
    csrf_token: Option<String>,
    return_to: Option<String>,
}

/// A password that must be changed before signing in (`pwd_must_modify`, or older than the
/// password policy allows): sets the new one, checked against the policy, and signs in.
#[utoipa::path(
    post,
    path = "/login/password",
    operation_id = "ChangePasswordAtSignIn",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    request_body(content = ChangeFields, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Changed and signed in: on to the authorization request."),
        (status = 200, description = "Changed and signed in, with nothing to go on to.", content_type = "text/html"),
        (status = 400, description = "The new password breaks the policy, or the two differ: the page again, saying which.", content_type = "text/html"),
        (status = 401, description = "The change took too long or was made already: the login form.", content_type = "text/html"),
        (status = 403, description = "The form's CSRF token is missing or wrong: the login form.", content_type = "text/html"),
        (status = 413, description = "The form is too large.", content_type = "text/html"),
        (status = 415, description = "The body is not form-encoded.", content_type = "text/html"),
        (status = 500, description = "Internal error.", content_type = "text/html"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/html")
    )
)]
async fn change_password(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    Form(fields, _): Form<ChangeFields, PageRefused>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let return_to = safe_return(fields.return_to.as_deref());
    let csrf = fields.csrf_token.as_deref().unwrap_or_default();
    let csrf_ok = form_token_ok(&service, &headers, fields.csrf_token.as_deref());
    let to_login = |status, text: &str| {
        let notice = Some(Notice::Error(text.to_owned()));
        login_form(&service, &site, &headers, status, return_to, "", notice)
    };
    if !csrf_ok {
        return to_login(StatusCode::FORBIDDEN, Text::FormExpired.get(lang)).await;
    }
    let token = fields.change_token.as_deref().unwrap_or_default();
    let step = ChangeStep {
        token,
        expires_in_days: fields.expires_in_days,
    };
    let previous = cookie(&headers, SESSION_COOKIE);
    let outcome = match fields.skip {
        Some(_) => {
            service
                .sign_in_without_password_change(token, source, previous)
                .await
        }
        None => {
            service
                .sign_in_with_new_password(PasswordChangeAtLogin {
                    change_token: token,
                    new_password: fields.new_password.as_deref().unwrap_or_default(),
                    confirm_password: fields.confirm_password.as_deref().unwrap_or_default(),
                    source,
                    previous_session: previous,
                })
                .await
        }
    };
    match outcome {
        Ok(session) => signed_in(&service, &site, return_to, &session.cookie),
        Err(e) if e.kind() == ErrorKind::InvalidParameter => {
            let why = e.detail().unwrap_or_default();
            change_page(
                lang,
                StatusCode::BAD_REQUEST,
                csrf,
                step,
                return_to,
                Some(why),
            )
        }
        Err(e) if e.kind() == ErrorKind::StateTokenInvalid => {
            to_login(StatusCode::UNAUTHORIZED, e.detail().unwrap_or_default()).await
        }
        Err(e) => server_error(&html_only(&headers), &e),
    }
}

/// The code page, for one browser's form.
struct CodePage<'a> {
    lang: Lang,
    csrf_token: &'a str,
    return_to: Option<&'a str>,
}

impl CodePage<'_> {
    fn show(
        &self,
        status: StatusCode,
        step_token: &str,
        mobile: &str,
        notice: Option<Notice>,
    ) -> Response {
        html(
            status,
            render(&CodeForm {
                lang: self.lang,
                csrf_token: self.csrf_token,
                step_token,
                return_to: self.return_to,
                mobile,
                notice,
            }),
        )
    }
}

/// The code page's fields.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CodeFields {
    /// The code sent by SMS.
    code: Option<String>,
    /// The token the login gave for this step.
    step_token: Option<String>,
    /// The number the code went to, masked (shown again on the page).
    mobile: Option<String>,
    /// Present: send a new code instead.
    resend: Option<String>,
    csrf_token: Option<String>,
    return_to: Option<String>,
}

/// The second factor, when the MFA policy asks for one: the code sent by SMS signs in (or
/// moves on to a password change that is due); `resend` sends a new one (at most one a
/// minute).
#[utoipa::path(
    post,
    path = "/login/code",
    operation_id = "VerifyCodeAtSignIn",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    request_body(content = CodeFields, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: on to the authorization request."),
        (status = 200, description = "Signed in with nothing to go on to; a new code sent; or the password change page.", content_type = "text/html"),
        (status = 400, description = "A wrong, missing or spent code: the page again, saying which.", content_type = "text/html"),
        (status = 401, description = "The step took too long or was done already: the login form.", content_type = "text/html"),
        (status = 403, description = "The form's CSRF token is missing or wrong: the login form.", content_type = "text/html"),
        (status = 429, description = "A new code asked for too soon: the page again.", content_type = "text/html"),
        (status = 413, description = "The form is too large.", content_type = "text/html"),
        (status = 415, description = "The body is not form-encoded.", content_type = "text/html"),
        (status = 500, description = "Internal error.", content_type = "text/html"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/html")
    )
)]
async fn verify_code(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    Form(fields, _): Form<CodeFields, PageRefused>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let return_to = safe_return(fields.return_to.as_deref());
    let to_login = |status, text: &str| {
        let notice = Some(Notice::Error(text.to_owned()));
        login_form(&service, &site, &headers, status, return_to, "", notice)
    };
    if !form_token_ok(&service, &headers, fields.csrf_token.as_deref()) {
        return to_login(StatusCode::FORBIDDEN, Text::FormExpired.get(lang)).await;
    }
    let page = CodePage {
        lang,
        csrf_token: fields.csrf_token.as_deref().unwrap_or_default(),
        return_to,
    };
    let token = fields.step_token.as_deref().unwrap_or_default();
    let mobile: String = fields
        .mobile
        .as_deref()
        .unwrap_or_default()
        .chars()
        .take(32)
        .collect();
    let outcome = match fields.resend {
        Some(_) => service.resend_sign_in_code(token, source).await,
        None => {
            service
                .sign_in_with_code(CodeAtLogin {
                    step_token: token,
                    code: fields.code.as_deref().unwrap_or_default(),
                    source,
                    previous_session: cookie(&headers, SESSION_COOKIE),
                })
                .await
        }
    };
    match outcome {
        Ok(SignInOutcome::SignedIn(session)) => {
            signed_in(&service, &site, return_to, &session.cookie)
        }
        Ok(SignInOutcome::ChangePassword {
            token,
            expires_in_days,
        }) => {
            let step = ChangeStep {
                token: &token,
                expires_in_days,
            };
            change_page(lang, StatusCode::OK, page.csrf_token, step, return_to, None)
        }
        Ok(SignInOutcome::SecondFactor { token, mobile }) => {
            let resent = Some(Notice::Info(Text::CodeResent.get(lang).to_owned()));
            page.show(StatusCode::OK, &token, &mobile, resent)
        }
        Ok(_) => to_login(StatusCode::UNAUTHORIZED, Text::CannotContinue.get(lang)).await,
        Err(e) if e.kind() == ErrorKind::StateTokenInvalid => {
            to_login(StatusCode::UNAUTHORIZED, e.detail().unwrap_or_default()).await
        }
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::VerifyCodeWrong
                    | ErrorKind::VerifyCodeExpired
                    | ErrorKind::VerifyCodeRequired
                    | ErrorKind::TooManyCodes
            ) =>
        {
            let status = StatusCode::from_u16(e.kind().status()).unwrap_or(StatusCode::BAD_REQUEST);
            let why = Some(Notice::Error(sign_in_page::code_refused(lang, &e)));
            page.show(status, token, &mobile, why)
        }
        Err(e) => server_error(&html_only(&headers), &e),
    }
}

/// Signed in: the session's cookie, and on to the authorization request (or a page saying so).
fn signed_in(service: &Service, site: &Site, return_to: Option<&str>, cookie: &str) -> Response {
    // With nothing to go on to, the portal: the applications the user may open.
    let mut response = redirect(StatusCode::SEE_OTHER, return_to.unwrap_or("/portal"));
    let lifetime = service.settings().sign_in.session_lifetime.as_secs();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(site, SESSION_COOKIE, cookie, "/", Some(lifetime)),
    );
    response
}

/// The parameters of global logout: OneAccess's, and OpenID Connect RP-Initiated Logout
/// 1.0's.
#[derive(Debug, Default, Deserialize, IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct LogoutQuery {
    /// Where to go afterwards: a logout URL an application registered. Default: the login
    /// page.
    redirect_url: Option<String>,
    /// The application whose logout URLs the address to go to must be among (else, for
    /// `redirect_url`, any application's).
    client_id: Option<String>,
    /// OIDC: where to go afterwards, a logout URL of the application (`client_id` or the
    /// hint's audience), with `state` added.
    post_logout_redirect_uri: Option<String>,
    /// OIDC: an id_token this server issued to the signed-in user; with it, a request from
    /// the user's application ends the session without asking.
    id_token_hint: Option<String>,
    /// OIDC: sent back to `post_logout_redirect_uri`.
    state: Option<String>,
    /// The confirmation form's token (POST only).
    csrf_token: Option<String>,
}

/// Ends the browser's session on every node (OneAccess `SingleLogout`; OpenID Connect
/// RP-Initiated Logout), then goes to the registered logout URL asked for. A browser sent by
/// another site without an `id_token_hint` for its user is asked first (a page whose form
/// posts here).
#[utoipa::path(
    get,
    path = "/api/v1/logout",
    operation_id = "SingleLogout",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    params(LogoutQuery),
    responses(
        (status = 302, description = "Signed out: to the URL asked for, or the login page."),
        (status = 200, description = "Sent by another site: the page asking to confirm.", content_type = "text/html"),
        (status = 400, description = "Signed out, but the URL asked for is no registered logout URL.", content_type = "text/html"),
        (status = 500, description = "Internal error.", content((OAuthErrorBody = "application/json"), ("text/html"))),
        (status = 503, description = "The database cannot be reached.", content((OAuthErrorBody = "application/json"), ("text/html")))
    )
)]
async fn logout(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    Query(query, _): Query<LogoutQuery, Refused>,
) -> Response {
    let ask_first = sent_by_another_site(&headers);
    sign_out(&service, &site, source, &headers, query, ask_first).await
}

/// The logout confirmation form: with its token (bound to the session), ends the session as
/// `GET /api/v1/logout` does.
#[utoipa::path(
    post,
    path = "/api/v1/logout",
    operation_id = "ConfirmLogout",
    tag = "sign-in (OAuth 2.0 / OpenID Connect)",
    request_body(content = LogoutQuery, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "Signed out: to the URL asked for, or the login page."),
        (status = 200, description = "The form's token is missing or wrong: the page asking again.", content_type = "text/html"),
        (status = 400, description = "Signed out, but the URL asked for is no registered logout URL; or the form is not valid.", content_type = "text/html"),
        (status = 413, description = "The form is too large.", content_type = "text/html"),
        (status = 415, description = "The body is not form-encoded.", content_type = "text/html"),
        (status = 500, description = "Internal error.", content_type = "text/html"),
        (status = 503, description = "The database cannot be reached.", content_type = "text/html")
    )
)]
async fn logout_confirmed(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    Form(form, _): Form<LogoutQuery, PageRefused>,
) -> Response {
    let session = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    // Without its token the form proves nothing: it asks again, whoever posted it.
    let confirmed = !sent_by_another_site(&headers)
        && form.csrf_token.as_deref().is_some_and(|sent| {
            secret::constant_time_eq(sent, &service.logout_form_token(session))
        });
    sign_out(
        &service,
        &site,
        source,
        &html_only(&headers),
        form,
        !confirmed,
    )
    .await
}

async fn sign_out(
    service: &Service,
    site: &Site,
    source: std::net::IpAddr,
    headers: &HeaderMap,
    query: LogoutQuery,
    ask_first: bool,
) -> Response {
    let lang = Lang::from_headers(headers);
    let session = cookie(headers, SESSION_COOKIE);
    let signed_out = service
        .sign_out(Logout {
            cookie: session,
            redirect_url: query.redirect_url.as_deref(),
            post_logout_redirect_uri: query.post_logout_redirect_uri.as_deref(),
            state: query.state.as_deref(),
            client_id: query.client_id.as_deref(),
            id_token_hint: query.id_token_hint.as_deref(),
            issuer: &site.issuer,
            ask_first,
            source,
            initiated_by: None,
        })
        .await;
    let redirect_to = match signed_out {
        Ok(SignedOut::Ended { redirect }) => redirect,
        Ok(SignedOut::Confirm) => {
            let token = service.logout_form_token(session.unwrap_or_default());
            let fields: Vec<(&'static str, &str)> = [
                ("redirect_url", &query.redirect_url),
                ("client_id", &query.client_id),
                ("post_logout_redirect_uri", &query.post_logout_redirect_uri),
                ("state", &query.state),
            ]
            .into_iter()
            .filter_map(|(name, value)| Some((name, value.as_deref()?)))
            .collect();
            let page = render(&sign_in_page::LogoutConfirm {
                lang,
                csrf_token: &token,
                fields,
            });
            return html(StatusCode::OK, page);
        }
        Err(e) => return server_error(headers, &e),
    };
    let mut response = match redirect_to {
        Redirect::None => redirect(StatusCode::FOUND, "/login?signed_out=1"),
        Redirect::To(url) => redirect(StatusCode::FOUND, &url),
        Redirect::Refused => html(
            StatusCode::BAD_REQUEST,
            sign_in_page::message(lang, Text::SignedOut, Text::NotSentOn.get(lang)),
        ),
    };
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(site, SESSION_COOKIE, "", "/", Some(0)),
    );
    response
}

/// Whether a browser came here from another site (Fetch Metadata): a link, a form or a
/// script on a page that is not this server's, a sibling subdomain's included (it can plant
/// cookies). Programs send no such header.
fn sent_by_another_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|v| matches!(v.as_bytes(), b"cross-site" | b"same-site"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_authorization_requests_are_returned_to() {
        assert!(safe_return(Some("/api/v1/oauth2/authorize?client_id=x")).is_some());
        for bad in [
            "https://evil.example/api/v1/oauth2/authorize?x",
            "//evil.example/api/v1/oauth2/authorize?",
            "/api/v1/oauth2/authorizeX",
            "/api/v1/oauth2/authorize?a\r\nLocation: x",
        ] {
            assert!(safe_return(Some(bad)).is_none(), "{bad}");
        }
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; roster_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
