//! The person behind a request for a page of the console or the portal: signed in through the
//! login page (a browser session), else sent there to sign in and come back. Their forms
//! carry a token bound to the session and are never accepted from another site.

use crate::cookies::{cookie, SESSION_COOKIE};
use crate::pages::{app_html, render, Frame, Lang, NavItem};
use crate::routes::sign_in::{redirect, server_error};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use roster_domain::{secret, Error, ErrorKind};
use roster_service::{Person, Service};

/// A signed-in person and what their pages need of the request.
pub struct SignedIn {
    pub person: Person,
    /// The session cookie (the form token is bound to it).
    pub cookie: String,
    pub lang: Lang,
    /// The page asked for (path and query), to come back to.
    pub here: String,
    pub headers: HeaderMap,
    /// The client's address (for the audit record of what they change).
    pub source: std::net::IpAddr,
}

impl FromRequestParts<Service> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, service: &Service) -> Result<Self, Response> {
        let lang = Lang::from_headers(&parts.headers);
        let Ok(crate::client_address::ClientAddress(source)) =
            crate::client_address::ClientAddress::from_request_parts(parts, service).await;
        // A form posted without a session comes back to its page, not to the form's address.
        let here = if parts.method == Method::GET {
            parts.uri.path_and_query().map_or("/portal", |p| p.as_str())
        } else {
            parts.uri.path()
        }
        .to_owned();
        let session = cookie(&parts.headers, SESSION_COOKIE);
        match service.person(session).await {
            Ok(Some(person)) => {
                crate::request_log::RequestInfo::client(
                    &parts.extensions,
                    &person.caller.client_id,
                );
                Ok(Self {
                    person,
                    cookie: session.unwrap_or_default().to_owned(),
                    lang,
                    here,
                    headers: parts.headers.clone(),
                    source,
                })
            }
            Ok(None) => Err(to_login(&here)),
            Err(e) => Err(server_error(
                &crate::routes::sign_in::html_only(&parts.headers),
                &e,
            )),
        }
    }
}

/// To the login page, and back to `here` after.
fn to_login(here: &str) -> Response {
    let login = format!(
        "/login?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", here)
            .finish()
    );
    redirect(StatusCode::SEE_OTHER, &login)
}

impl SignedIn {
    /// To the login page, to sign in again and come back to this page.
    pub fn to_login(&self) -> Response {
        to_login(&self.here)
    }

    /// The frame of a page of `nav`, with what happened (a notice) or went wrong (an error).
    pub async fn frame(
        &self,
        service: &Service,
        nav: Vec<NavItem>,
        notice: Option<String>,
        error: Option<String>,
    ) -> Frame {
        let tenant = service
            .tenant_name()
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| "Roster".to_owned());
        let person = if self.person.user.name.is_empty() {
            self.person.user.user_name.clone()
        } else {
            self.person.user.name.clone()
        };
        Frame {
            lang: self.lang,
            tenant,
            person,
            csrf: service.page_form_token(&self.cookie),
            switch_href: Frame::switch_href(self.lang, &self.here),
            nav,
            notice,
            error,
        }
    }

    /// Whether a form came from this person's own page: its token is the one their pages
    /// carry, and no other site sent it (Fetch Metadata; programs send no such header).
    pub fn form_ok(&self, service: &Service, sent: Option<&str>) -> bool {
        let cross_site = self
            .headers
            .get("sec-fetch-site")
            .is_some_and(|v| matches!(v.as_bytes(), b"cross-site" | b"same-site"));
        !cross_site
            && sent.is_some_and(|sent| {
                secret::constant_time_eq(sent, &service.page_form_token(&self.cookie))
            })
    }
}

/// What went wrong, said in the page's language: the catalog's words (and what exactly was
/// wrong) in English; in Chinese, by kind, without the English detail.
pub fn describe(lang: Lang, error: &Error) -> String {
    match lang {
        Lang::En => error.client_message(),
        Lang::Zh => match error.kind() {
            ErrorKind::PermissionDenied => "您没有执行此操作的权限。",
            ErrorKind::InvalidParameter | ErrorKind::MalformedBody => {
                "填写的内容无效，请检查后重试。"
            }
            ErrorKind::WrongPassword => "当前密码不正确。",
            ErrorKind::UserNotFound => "找不到该用户。",
            kind if kind.status() == 404 => "找不到要操作的对象。",
            kind if kind.status() == 409 => "与现有数据冲突（例如名称已被使用）。",
            kind if kind.status() >= 500 => "服务暂时不可用，请稍后再试。",
            _ => "操作未能完成。",
        }
        .to_owned(),
    }
}

/// The status a page answers an error with.
pub fn status_of(error: &Error) -> StatusCode {
    StatusCode::from_u16(error.kind().status()).unwrap_or(StatusCode::BAD_REQUEST)
}

/// A page that says only `text`, inside the frame.
pub fn message_page(
    frame: crate::pages::Frame,
    status: StatusCode,
    title: &'static str,
    text: String,
) -> Response {
    app_html(
        status,
        render(&crate::pages::console::Message { frame, title, text }),
    )
}
