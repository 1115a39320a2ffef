//! The web console (`/console`): pages for the people who run the directory. Each handler
//! reads the form or query, checks the form's token, calls the service as the person (their
//! console role decides, in the service) and shows a page: after a change, the page it was
//! made on, saying so (or what went wrong).

use crate::extract::Query;
use crate::extract::{read_form, Refusal};
use crate::pages::console::{self as page, AccountLine, AppLine, Bar, SessionLine, UserLine};
use crate::pages::{app_html, render, when, Frame, Lang};
use crate::person::{describe, message_page, status_of, SignedIn};
use crate::routes::sign_in::{redirect, PageRefused};
use crate::Site;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Extension;
use roster_domain::application::ApplicationId;
use roster_domain::audit::AuditFilter;
use roster_domain::console::ConsoleRole;
use roster_domain::page::PageRequest;
use roster_domain::permission::{Access, Permission};
use roster_domain::sso::SsoFields;
use roster_domain::user::{PasswordFields, UserFields, UserId};
use roster_domain::Error;
use roster_service::Service;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

mod applications;
mod audit;
mod dashboard;
mod keys;
mod messages;
mod organizations;
mod people;
mod policies;
mod users;

/// Users a page of the list shows.
const PAGE_SIZE: i64 = 50;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .route("/console", get(dashboard::dashboard))
        .route(
            "/console/",
            get(|| async { redirect(StatusCode::SEE_OTHER, "/console") }),
        )
        .route("/console/users", get(users::users))
        .route(
            "/console/users/new",
            get(users::new_user_page).post(users::create_user),
        )
        .route(
            "/console/users/{id}",
            get(users::user_page).post(users::update_user),
        )
        .route("/console/users/{id}/{action}", post(users::user_action))
        .route(
            "/console/users/{id}/sessions/{which}",
            post(users::end_sessions),
        )
        .route("/console/organizations", get(organizations::organizations))
        .route("/console/applications", get(applications::applications))
        .route(
            "/console/applications/new",
            post(applications::create_application),
        )
        .route(
            "/console/applications/{id}",
            get(applications::application_page),
        )
        .route(
            "/console/applications/{id}/{action}",
            post(applications::application_action),
        )
        .route(
            "/console/applications/{id}/accounts/organization",
            post(applications::grant_to_organization),
        )
        .route("/console/audit", get(audit::audit))
        .route("/console/audit.csv", get(audit::audit_csv))
        .route("/console/keys", get(keys::keys))
        .route("/console/keys/rotate", post(keys::rotate_key))
        .route("/console/policies", get(policies::policies))
        .route("/console/policies/{which}", post(policies::set_policy))
        .route("/console/messages", get(messages::messages))
        .route("/console/people", get(people::people))
        .route("/console/people/{action}", post(people::people_action))
}

/// A person allowed into the console: holding a role. Anyone else signed in is told so.
struct Console {
    signed: SignedIn,
    role: ConsoleRole,
}

impl Console {
    fn may(&self, access: Access) -> bool {
        self.role.grants(access)
    }

    fn lang(&self) -> Lang {
        self.signed.lang
    }

    fn t(&self, en: &'static str, zh: &'static str) -> &'static str {
        self.signed.lang.t(en, zh)
    }

    async fn frame(
        &self,
        service: &Service,
        current: &str,
        notice: Option<String>,
        error: Option<String>,
    ) -> Frame {
        let nav = page::nav(self.lang(), self.role, current);
        self.signed.frame(service, nav, notice, error).await
    }

    /// A page saying why what was asked cannot be shown.
    async fn refused(&self, service: &Service, error: &Error) -> Response {
        let frame = self.frame(service, "", None, None).await;
        let title = self.t("Not possible", "无法完成");
        message_page(frame, status_of(error), title, describe(self.lang(), error))
    }
}

impl FromRequestParts<Service> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, service: &Service) -> Result<Self, Response> {
        let signed = SignedIn::from_request_parts(parts, service).await?;
        console(service, signed).await
    }
}

/// A form posted to the console: by a person who may use it, with the token of their own
/// pages, from this site (else the page saying the form expired); its fields as `T`.
struct Posted<T>(Console, T);

impl<T: DeserializeOwned> FromRequest<Service> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, service: &Service) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let console = Console::from_request_parts(&mut parts, service).await?;
        let refuse = |e| PageRefused::refuse(&parts, e).into_response();
        let req = Request::from_parts(parts.clone(), body);
        let pairs: Vec<(String, String)> = read_form(req, service).await.map_err(refuse)?;
        let token = pairs
            .iter()
            .find(|(name, _)| name == "csrf_token")
            .map(|(_, value)| value.as_str());
        if !console.signed.form_ok(service, token) {
            return Err(form_expired(service, &console).await);
        }
        let fields = serde_urlencoded::to_string(&pairs)
            .ok()
            .and_then(|text| serde_urlencoded::from_str(&text).ok())
            .ok_or_else(|| refuse(Error::invalid("The form's fields are not valid.")))?;
        Ok(Self(console, fields))
    }
}

/// The person, if they may use the console; else the page or redirect that says otherwise.
async fn console(service: &Service, signed: SignedIn) -> Result<Console, Response> {
    match service.console_needs_second_factor(&signed.person).await {
        // Signed in again, with the code: the login page, and back here.
        Ok(true) => return Err(signed.to_login()),
        Ok(false) => {}
        Err(e) => {
            return Err(crate::routes::sign_in::server_error(
                &crate::routes::sign_in::html_only(&signed.headers),
                &e,
            ))
        }
    }
    match signed.person.role {
        Some(role) => Ok(Console { signed, role }),
        None => {
            let nav = crate::pages::portal::nav(signed.lang, false, "");
            let frame = signed.frame(service, nav, None, None).await;
            let lang = signed.lang;
            Err(message_page(
                frame,
                StatusCode::FORBIDDEN,
                lang.t("No console role", "没有控制台角色"),
                lang.t(
                    "You hold no console role. An administrator can grant one.",
                    "您没有控制台角色，请联系管理员授予。",
                )
                .to_owned(),
            ))
        }
    }
}

/// What a form says happened, as the notice of the page shown next.
fn done(console: &Console, en: &'static str, zh: &'static str) -> Option<String> {
    Some(console.t(en, zh).to_owned())
}

/// A form with no fields but its token (a button).
#[derive(Debug, Default, Deserialize)]
struct Button {}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DoneQuery {
    done: Option<String>,
}

async fn form_expired(service: &Service, console: &Console) -> Response {
    let frame = console.frame(service, "", None, None).await;
    message_page(
        frame,
        StatusCode::FORBIDDEN,
        console.t("The form expired", "表单已过期"),
        console
            .t(
                "The form expired or did not come from this site. Open the page again and retry.",
                "表单已过期或并非来自本站，请重新打开页面后重试。",
            )
            .to_owned(),
    )
}

async fn not_found(service: &Service, console: &Console) -> Response {
    let frame = console.frame(service, "", None, None).await;
    message_page(
        frame,
        StatusCode::NOT_FOUND,
        console.t("Not found", "未找到"),
        console
            .t("There is no such page.", "没有这个页面。")
            .to_owned(),
    )
}
