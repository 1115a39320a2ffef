//! The web console (`/console`): pages for the people who run the directory. Each handler
//! reads the form or query, checks the form's token, calls the service as the person (their
//! console role decides, in the service) and shows a page: after a change, the page it was
//! made on, saying so (or what went wrong).

use crate::extract::{Form, Query};
use crate::pages::console::{self as page, AccountLine, AppLine, Bar, SessionLine, UserLine};
use crate::pages::{app_html, render, when, Frame, Lang};
use crate::person::{describe, message_page, status_of, SignedIn};
use crate::routes::sign_in::{redirect, PageRefused};
use crate::Site;
use axum::extract::{Path, State};
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
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

/// Users a page of the list shows.
const PAGE_SIZE: i64 = 50;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .route("/console", get(dashboard))
        .route(
            "/console/",
            get(|| async { redirect(StatusCode::SEE_OTHER, "/console") }),
        )
        .route("/console/users", get(users))
        .route("/console/users/new", get(new_user_page).post(create_user))
        .route("/console/users/{id}", get(user_page).post(update_user))
        .route("/console/users/{id}/{action}", post(user_action))
        .route("/console/users/{id}/sessions/{which}", post(end_sessions))
        .route("/console/organizations", get(organizations))
        .route("/console/applications", get(applications))
        .route("/console/applications/new", post(create_application))
        .route("/console/applications/{id}", get(application_page))
        .route(
            "/console/applications/{id}/{action}",
            post(application_action),
        )
        .route(
            "/console/applications/{id}/accounts/organization",
            post(grant_to_organization),
        )
        .route("/console/audit", get(audit))
        .route("/console/audit.csv", get(audit_csv))
        .route("/console/keys", get(keys))
        .route("/console/keys/rotate", post(rotate_key))
        .route("/console/policies", get(policies))
        .route("/console/policies/{which}", post(set_policy))
        .route("/console/messages", get(messages))
        .route("/console/people", get(people))
        .route("/console/people/{action}", post(people_action))
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

/// The fields every console form carries.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Token {
    csrf_token: Option<String>,
}

// ---------------------------------------------------------------- dashboard

async fn dashboard(State(service): State<Service>, signed: SignedIn) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    show_dashboard(&service, &console, None, None).await
}

async fn show_dashboard(
    service: &Service,
    console: &Console,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let caller = &console.signed.person.caller;
    let board = match service.dashboard(caller).await {
        Ok(board) => board,
        Err(e) => return console.refused(service, &e).await,
    };
    let top = board
        .hours
        .iter()
        .map(|(_, ok, refused)| (*ok).max(*refused))
        .max()
        .unwrap_or(0)
        .max(1);
    let height = |n: i64| n * page::CHART_HEIGHT / top;
    let bars = board
        .hours
        .iter()
        .zip(0..)
        .map(|((at, ok, refused), i)| Bar {
            x: i * 20,
            ok_y: page::CHART_HEIGHT - height(*ok),
            ok_h: height(*ok),
            refused_y: page::CHART_HEIGHT - height(*refused),
            refused_h: height(*refused),
            hour: when(*at).get(11..16).unwrap_or_default().to_owned(),
            ok: *ok,
            refused: *refused,
        })
        .collect();
    let frame = console.frame(service, "/console", notice, error).await;
    app_html(
        StatusCode::OK,
        render(&page::Dashboard {
            frame,
            users: board.users,
            applications: board.applications,
            locked: board.locked.iter().map(UserLine::of).collect(),
            sign_ins: board.hours.iter().map(|h| h.1).sum(),
            refused: board.hours.iter().map(|h| h.2).sum(),
            bars,
            may_unlock: console.may(Access::UserSupport),
        }),
    )
}

// ---------------------------------------------------------------- users

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UsersQuery {
    q: Option<String>,
    /// The users after this id (the next page).
    after: Option<String>,
    /// The users before this id (the previous page).
    before: Option<String>,
}

async fn users(
    State(service): State<Service>,
    signed: SignedIn,
    Query(query, _): Query<UsersQuery, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let caller = &console.signed.person.caller;
    let text = query.q.unwrap_or_default();
    let (lines, total, previous, next) = if text.trim().is_empty() {
        let cursor = roster_service::UserCursor {
            after: query.after,
            before: query.before,
        };
        match service.browse_users(caller, cursor, PAGE_SIZE).await {
            Ok(page) => {
                let id = |u: Option<&roster_domain::user::User>| {
                    u.map(|u| u.id.as_str().to_owned()).unwrap_or_default()
                };
                let previous = page
                    .has_previous
                    .then(|| format!("/console/users?before={}", id(page.users.first())));
                let next = page
                    .has_next
                    .then(|| format!("/console/users?after={}", id(page.users.last())));
                let lines = page.users.iter().map(UserLine::of).collect();
                (lines, Some(page.total), previous, next)
            }
            Err(e) => return console.refused(&service, &e).await,
        }
    } else {
        match service.search_users(caller, &text).await {
            Ok(found) => (found.iter().map(UserLine::of).collect(), None, None, None),
            Err(e) => return console.refused(&service, &e).await,
        }
    };
    let frame = console.frame(&service, "/console/users", None, None).await;
    app_html(
        StatusCode::OK,
        render(&page::Users {
            frame,
            query: text,
            users: lines,
            total,
            previous,
            next,
            may_create: console.may(Access::UserWrite),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NewUserFields {
    csrf_token: Option<String>,
    user_name: String,
    name: String,
    mobile: String,
    email: String,
    password: String,
}

async fn new_user_page(State(service): State<Service>, signed: SignedIn) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    show_new_user(
        &service,
        &console,
        NewUserFields::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn show_new_user(
    service: &Service,
    console: &Console,
    fields: NewUserFields,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let frame = console.frame(service, "/console/users", None, error).await;
    app_html(
        status,
        render(&page::NewUser {
            frame,
            user_name: fields.user_name,
            name: fields.name,
            mobile: fields.mobile,
            email: fields.email,
        }),
    )
}

async fn create_user(
    State(service): State<Service>,
    signed: SignedIn,
    Form(fields, _): Form<NewUserFields, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    if !console
        .signed
        .form_ok(&service, fields.csrf_token.as_deref())
    {
        return form_expired(&service, &console).await;
    }
    let present = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let new = UserFields {
        user_name: present(&fields.user_name),
        name: present(&fields.name),
        mobile: present(&fields.mobile),
        email: present(&fields.email),
        password: present(&fields.password),
        // A password an administrator typed is the user's to replace.
        pwd_must_modify: present(&fields.password).map(|_| true),
        ..UserFields::default()
    };
    match service
        .create_user(&console.signed.person.caller, new)
        .await
    {
        Ok(id) => redirect(
            StatusCode::SEE_OTHER,
            &format!("/console/users/{}?done=created", id.as_str()),
        ),
        Err(e) => {
            let why = describe(console.lang(), &e);
            show_new_user(&service, &console, fields, Some(why), status_of(&e)).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DoneQuery {
    done: Option<String>,
}

/// The notice of a change made on the page before (Post/Redirect/Get), by its name.
fn notice_of(console: &Console, done: Option<&str>) -> Option<String> {
    let (en, zh) = match done? {
        "created" => ("The user was created.", "用户已创建。"),
        "saved" => ("Saved.", "已保存。"),
        "unlocked" => ("The user was unlocked.", "用户已解锁。"),
        "enabled" => ("The user was enabled.", "用户已启用。"),
        "disabled" => ("The user was disabled.", "用户已禁用。"),
        "password" => (
            "The password was set; the user changes it at the next sign-in.",
            "密码已设置，用户下次登录时须修改。",
        ),
        "ended" => ("The session was ended.", "会话已结束。"),
        "ended-all" => (
            "Every session and token of the user was ended.",
            "该用户的所有会话和令牌已结束。",
        ),
        "granted" => ("The account was granted.", "账号已授予。"),
        _ => return None,
    };
    done_text(console, en, zh)
}

fn done_text(console: &Console, en: &'static str, zh: &'static str) -> Option<String> {
    done(console, en, zh)
}

async fn user_page(
    State(service): State<Service>,
    signed: SignedIn,
    Path(id): Path<String>,
    Query(query, _): Query<DoneQuery, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let notice = notice_of(&console, query.done.as_deref());
    show_user(
        &service,
        &console,
        UserId::new(id),
        notice,
        None,
        StatusCode::OK,
    )
    .await
}

async fn show_user(
    service: &Service,
    console: &Console,
    user_id: UserId,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let caller = &console.signed.person.caller;
    let user = match service.show_user(caller, user_id.clone()).await {
        Ok(user) => user,
        Err(e) => return console.refused(service, &e).await,
    };
    let accounts = if console.may(Access::AppRead) {
        let held = service
            .accounts_of_user(caller, user_id.clone())
            .await
            .unwrap_or_default();
        let mut lines = Vec::new();
        for account in held {
            let application = service
                .show_application(caller, account.application_id.clone())
                .await
                .map_or_else(|_| account.application_id.as_str().to_owned(), |a| a.name);
            lines.push(AccountLine {
                id: account.id.as_str().to_owned(),
                application,
                account_name: account.account_name,
                disabled: account.disabled,
            });
        }
        Some(lines)
    } else {
        None
    };
    let sessions = service
        .user_sessions(caller, user_id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|s| SessionLine {
            id: s.digest.clone(),
            signed_in: when(s.auth_time),
            last_seen: when(s.last_seen_at),
            current: false,
        })
        .collect();
    let frame = console
        .frame(service, "/console/users", notice, error)
        .await;
    app_html(
        status,
        render(&page::User {
            frame,
            first_name: user.first_name.clone().unwrap_or_default(),
            last_name: user.last_name.clone().unwrap_or_default(),
            org_id: user.org_id.clone().unwrap_or_default(),
            created: when(user.created_at),
            user: UserLine::of(&user),
            accounts,
            sessions,
            may_edit: console.may(Access::UserWrite),
            may_support: console.may(Access::UserSupport),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserEdit {
    csrf_token: Option<String>,
    name: Option<String>,
    mobile: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    new_password: Option<String>,
    session: Option<String>,
}

async fn update_user(
    State(service): State<Service>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(fields, _): Form<UserEdit, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let user_id = UserId::new(id);
    if !console
        .signed
        .form_ok(&service, fields.csrf_token.as_deref())
    {
        return form_expired(&service, &console).await;
    }
    let changes = UserFields {
        name: fields.name,
        mobile: fields.mobile,
        email: fields.email.filter(|e| !e.is_empty()),
        first_name: fields.first_name,
        last_name: fields.last_name,
        ..UserFields::default()
    };
    let caller = &console.signed.person.caller;
    match service.update_user(caller, user_id.clone(), changes).await {
        Ok(_) => after(&user_id, "saved"),
        Err(e) => {
            let why = Some(describe(console.lang(), &e));
            show_user(&service, &console, user_id, None, why, status_of(&e)).await
        }
    }
}

/// Back to the user's page, saying what was done.
fn after(user_id: &UserId, done: &str) -> Response {
    redirect(
        StatusCode::SEE_OTHER,
        &format!("/console/users/{}?done={done}", user_id.as_str()),
    )
}

async fn user_action(
    State(service): State<Service>,
    signed: SignedIn,
    Path((id, action)): Path<(String, String)>,
    Form(fields, _): Form<UserEdit, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let user_id = UserId::new(id);
    if !console
        .signed
        .form_ok(&service, fields.csrf_token.as_deref())
    {
        return form_expired(&service, &console).await;
    }
    let caller = &console.signed.person.caller;
    let outcome = match action.as_str() {
        "unlock" => service
            .unlock_user(caller, user_id.clone())
            .await
            .map(|_| "unlocked"),
        "enable" => service
            .set_user_disabled(caller, user_id.clone(), false)
            .await
            .map(|_| "enabled"),
        "disable" => service
            .set_user_disabled(caller, user_id.clone(), true)
            .await
            .map(|_| "disabled"),
        "password" => {
            let fields = PasswordFields {
                password: fields.new_password,
                old_password: None,
                pwd_must_modify: Some(true),
            };
            service
                .change_password(caller, user_id.clone(), fields)
                .await
                .map(|_| "password")
        }
        _ => return not_found(&service, &console).await,
    };
    match outcome {
        Ok(done) => after(&user_id, done),
        Err(e) => {
            let why = Some(describe(console.lang(), &e));
            show_user(&service, &console, user_id, None, why, status_of(&e)).await
        }
    }
}

async fn end_sessions(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    signed: SignedIn,
    Path((id, which)): Path<(String, String)>,
    Form(fields, _): Form<UserEdit, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let user_id = UserId::new(id);
    if !console
        .signed
        .form_ok(&service, fields.csrf_token.as_deref())
    {
        return form_expired(&service, &console).await;
    }
    let caller = &console.signed.person.caller;
    let outcome = match which.as_str() {
        "end" => {
            let digest = fields.session.unwrap_or_default();
            service
                .end_user_session(caller, user_id.clone(), &digest, &site.issuer)
                .await
                .map(|()| "ended")
        }
        "end-all" => service
            .end_user_sessions(caller, user_id.clone())
            .await
            .map(|()| "ended-all"),
        _ => return not_found(&service, &console).await,
    };
    match outcome {
        Ok(done) => after(&user_id, done),
        Err(e) => {
            let why = Some(describe(console.lang(), &e));
            show_user(&service, &console, user_id, None, why, status_of(&e)).await
        }
    }
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

// ---------------------------------------------------------------- organizations

async fn organizations(State(service): State<Service>, signed: SignedIn) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let caller = &console.signed.person.caller;
    // The first 500 organizations, shown as their tree.
    let mut all = Vec::new();
    let mut more = false;
    for offset in 0..5 {
        let request = PageRequest { offset, limit: 100 };
        match service
            .list_organizations(caller, None, true, request)
            .await
        {
            Ok(found) => {
                let full = found.items.len() == 100;
                all.extend(found.items);
                more = full && offset == 4;
                if !full {
                    break;
                }
            }
            Err(e) => return console.refused(&service, &e).await,
        }
    }
    let mut lines = Vec::new();
    let ids: std::collections::HashSet<_> = all.iter().map(|o| o.id.clone()).collect();
    let roots = all
        .iter()
        .filter(|o| o.parent_id.as_ref().is_none_or(|p| !ids.contains(p)));
    let mut stack: Vec<(&roster_domain::organization::Organization, usize)> =
        roots.map(|o| (o, 0)).collect();
    stack.reverse();
    while let Some((org, depth)) = stack.pop() {
        lines.push(page::OrgLine {
            name: org.name.clone(),
            code: org.code.clone(),
            depth,
        });
        let mut children: Vec<_> = all
            .iter()
            .filter(|c| c.parent_id.as_ref() == Some(&org.id))
            .map(|c| (c, depth + 1))
            .collect();
        children.reverse();
        stack.extend(children);
    }
    let frame = console
        .frame(&service, "/console/organizations", None, None)
        .await;
    app_html(
        StatusCode::OK,
        render(&page::Organizations {
            frame,
            roots: lines,
            more,
        }),
    )
}

// ---------------------------------------------------------------- applications

async fn applications(State(service): State<Service>, signed: SignedIn) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    show_applications(&service, &console, None, StatusCode::OK).await
}

async fn show_applications(
    service: &Service,
    console: &Console,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let caller = &console.signed.person.caller;
    if let Err(e) = caller.require(Access::AppRead) {
        return console.refused(service, &e).await;
    }
    let mut apps = Vec::new();
    for offset in 0..10 {
        match service
            .list_applications(caller, PageRequest { offset, limit: 100 })
            .await
        {
            Ok(found) => {
                let full = found.items.len() == 100;
                for app in found.items {
                    let protocol = service
                        .show_sso(caller, app.id.clone())
                        .await
                        .map_or_else(|_| "-".to_owned(), |s| protocol_name(&s));
                    apps.push(AppLine {
                        id: app.id.as_str().to_owned(),
                        name: app.name,
                        client_id: app.client_id,
                        protocol,
                        disabled: app.disabled,
                    });
                }
                if !full {
                    break;
                }
            }
            Err(e) => return console.refused(service, &e).await,
        }
    }
    let frame = console
        .frame(service, "/console/applications", None, error)
        .await;
    app_html(
        status,
        render(&page::Applications {
            frame,
            apps,
            may_create: console.may(Access::Admin),
        }),
    )
}

fn protocol_name(settings: &roster_domain::sso::SsoSettings) -> String {
    serde_json::to_value(settings.protocol)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AppForm {
    csrf_token: Option<String>,
    name: Option<String>,
    protocol: Option<String>,
    redirect_uris: Option<String>,
    logout_urls: Option<String>,
    initiate_login_uri: Option<String>,
    sp_entity_id: Option<String>,
    metadata: Option<String>,
    user_name: Option<String>,
    org_code: Option<String>,
}

async fn create_application(
    State(service): State<Service>,
    signed: SignedIn,
    Form(fields, _): Form<AppForm, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    if !console
        .signed
        .form_ok(&service, fields.csrf_token.as_deref())
    {
        return form_expired(&service, &console).await;
    }
    let caller = &console.signed.person.caller;
    match service
        .create_application(caller, fields.name, Vec::new(), None)
        .await
    {
        Ok(created) => {
            // The secret is shown once, on the application's page.
            let frame = console
                .frame(&service, "/console/applications", None, None)
                .await;
            show_application_with(
                &service,
                &console,
                frame,
                created.application_id,
                Some(created.client_secret),
                StatusCode::CREATED,
            )
            .await
        }
        Err(e) => {
            let why = Some(describe(console.lang(), &e));
            show_applications(&service, &console, why, status_of(&e)).await
        }
    }
}

async fn application_page(
    State(service): State<Service>,
    signed: SignedIn,
    Path(id): Path<String>,
    Query(query, _): Query<DoneQuery, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let notice = match query.done.as_deref() {
        Some("saved") => done(&console, "Saved.", "已保存。"),
        Some("granted") => done(&console, "Accounts were granted.", "账号已授予。"),
        Some("revoked") => done(&console, "The account was revoked.", "账号已撤销。"),
        _ => None,
    };
    let frame = console
        .frame(&service, "/console/applications", notice, None)
        .await;
    show_application_with(
        &service,
        &console,
        frame,
        ApplicationId::new(id),
        None,
        StatusCode::OK,
    )
    .await
}

async fn show_application_with(
    service: &Service,
    console: &Console,
    frame: Frame,
    id: ApplicationId,
    new_secret: Option<String>,
    status: StatusCode,
) -> Response {
    let caller = &console.signed.person.caller;
    if let Err(e) = caller.require(Access::AppRead) {
        return console.refused(service, &e).await;
    }
    let app = match service.show_application(caller, id.clone()).await {
        Ok(app) => app,
        Err(e) => return console.refused(service, &e).await,
    };
    let settings = service.show_sso(caller, id.clone()).await.ok();
    let sign_in = match &settings {
        Some(s) => page::SignInForm {
            protocol: protocol_name(s),
            redirect_uris: s.redirect_uris.join("\n"),
            logout_urls: s.logout_urls.join("\n"),
            initiate_login_uri: s.initiate_login_uri.clone().unwrap_or_default(),
            sp_entity_id: s
                .saml
                .as_ref()
                .map(|m| m.entity_id.clone())
                .unwrap_or_default(),
        },
        None => page::SignInForm {
            protocol: "oidc".to_owned(),
            ..Default::default()
        },
    };
    let accounts = service
        .list_accounts(
            caller,
            id.clone(),
            None,
            PageRequest {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .map(|d| AccountLine {
            id: d.account.id.as_str().to_owned(),
            application: String::new(),
            account_name: d.account.account_name,
            disabled: d.account.disabled,
        })
        .collect();
    let roles = service
        .list_roles(
            caller,
            id,
            PageRequest {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.code, r.name.unwrap_or_default()))
        .collect();
    let permissions = Permission::ALL
        .iter()
        .map(|p| {
            (
                p.code(),
                app.permissions.scope().split(' ').any(|c| c == p.code()),
            )
        })
        .collect();
    app_html(
        status,
        render(&page::Application {
            frame,
            app: AppLine {
                id: app.id.as_str().to_owned(),
                name: app.name.clone(),
                client_id: app.client_id.clone(),
                protocol: sign_in.protocol.clone(),
                disabled: app.disabled,
            },
            permissions,
            sign_in,
            accounts,
            roles,
            new_secret,
            may_change: console.may(Access::Admin),
            may_grant: console.may(Access::UserWrite),
        }),
    )
}

/// The lines of a text area, blank ones left out.
fn lines(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn application_action(
    State(service): State<Service>,
    signed: SignedIn,
    Path((id, action)): Path<(String, String)>,
    Form(raw, _): Form<Vec<(String, String)>, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let field = |name: &str| raw.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if !console
        .signed
        .form_ok(&service, field("csrf_token").as_deref())
    {
        return form_expired(&service, &console).await;
    }
    let id = ApplicationId::new(id);
    let caller = &console.signed.person.caller;
    let outcome: Result<Option<String>, Error> = match action.as_str() {
        "secret" => service
            .rotate_client_secret(caller, id.clone())
            .await
            .map(|c| Some(c.client_secret)),
        "permissions" => {
            let codes = raw
                .iter()
                .filter(|(k, _)| k == "permission")
                .map(|(_, v)| v.clone())
                .collect();
            service
                .set_application_permissions(caller, id.clone(), codes)
                .await
                .map(|_| None)
        }
        "sign-in" => {
            let form = AppForm {
                protocol: field("protocol"),
                redirect_uris: field("redirect_uris"),
                logout_urls: field("logout_urls"),
                initiate_login_uri: field("initiate_login_uri"),
                sp_entity_id: field("sp_entity_id"),
                ..AppForm::default()
            };
            set_sign_in(&service, caller, id.clone(), form)
                .await
                .map(|()| None)
        }
        "saml-metadata" => service
            .set_sso_from_sp_metadata(caller, id.clone(), &field("metadata").unwrap_or_default())
            .await
            .map(|_| None),
        "revoke" => {
            let account =
                roster_domain::account::AccountId::new(field("account_id").unwrap_or_default());
            service
                .delete_account(caller, id.clone(), account)
                .await
                .map(|()| None)
        }
        "accounts" => match field("user_name") {
            Some(name) => grant_to_user(&service, caller, id.clone(), &name)
                .await
                .map(|()| None),
            None => Err(Error::invalid("Name the user to grant an account to.")),
        },
        _ => return not_found(&service, &console).await,
    };
    match outcome {
        Ok(None) => {
            let done = if action == "accounts" {
                "granted"
            } else {
                "saved"
            };
            redirect(
                StatusCode::SEE_OTHER,
                &format!("/console/applications/{}?done={done}", id.as_str()),
            )
        }
        Ok(Some(secret)) => {
            let frame = console
                .frame(&service, "/console/applications", None, None)
                .await;
            show_application_with(&service, &console, frame, id, Some(secret), StatusCode::OK).await
        }
        Err(e) => {
            let frame = console
                .frame(
                    &service,
                    "/console/applications",
                    None,
                    Some(describe(console.lang(), &e)),
                )
                .await;
            show_application_with(&service, &console, frame, id, None, status_of(&e)).await
        }
    }
}

/// The sign-in settings form applied over what the application has (the fields the form
/// does not show keep their values).
async fn set_sign_in(
    service: &Service,
    caller: &roster_service::Caller,
    id: ApplicationId,
    form: AppForm,
) -> Result<(), Error> {
    let current = service.show_sso(caller, id.clone()).await.ok();
    let protocol = form.protocol.clone().unwrap_or_else(|| "oidc".to_owned());
    let protocol: roster_domain::sso::Protocol =
        serde_json::from_value(serde_json::Value::String(protocol.clone()))
            .map_err(|_| Error::invalid(format!("Unknown protocol '{protocol}'.")))?;
    let mut fields = match current {
        Some(s) => SsoFields {
            protocol: Some(protocol),
            grants: Some(s.grants),
            access_token_ttl_secs: Some(s.access_token_ttl_secs),
            refresh_token_ttl_secs: s.refresh_token_ttl_secs,
            id_token_alg: Some(s.id_token_alg),
            claims: Some(s.claims),
            backchannel_logout_uri: s.backchannel_logout_uri,
            saml: s.saml,
            ..SsoFields::default()
        },
        None => SsoFields {
            protocol: Some(protocol),
            ..SsoFields::default()
        },
    };
    use roster_domain::sso::Protocol;
    if matches!(protocol, Protocol::Cas | Protocol::Saml) {
        fields.grants = None;
    }
    if protocol != Protocol::Oidc {
        fields.backchannel_logout_uri = None;
    }
    if protocol == Protocol::Saml {
        let entity_id = form.sp_entity_id.clone().unwrap_or_default();
        let mut saml = match fields.saml.take() {
            Some(saml) => saml,
            None => serde_json::from_value(serde_json::json!({ "entity_id": entity_id }))
                .map_err(|e| Error::invalid(format!("saml: {e}")))?,
        };
        if !entity_id.trim().is_empty() {
            saml.entity_id = entity_id.trim().to_owned();
        }
        fields.saml = Some(saml);
    } else {
        fields.saml = None;
    }
    fields.redirect_uris = Some(lines(form.redirect_uris));
    fields.logout_urls = Some(lines(form.logout_urls));
    fields.initiate_login_uri = form.initiate_login_uri.filter(|u| !u.trim().is_empty());
    service.set_sso(caller, id, fields).await.map(|_| ())
}

async fn grant_to_user(
    service: &Service,
    caller: &roster_service::Caller,
    application_id: ApplicationId,
    user_name: &str,
) -> Result<(), Error> {
    // Who may not grant learns nothing of who exists.
    caller.require(Access::UserWrite)?;
    let user = service
        .show_user_by_name(
            caller,
            roster_domain::user::UserNameFields {
                user_name: Some(user_name.trim().to_owned()),
            },
        )
        .await?;
    service
        .authorize_account(caller, user.id, application_id, Default::default())
        .await
        .map(|_| ())
}

async fn grant_to_organization(
    State(service): State<Service>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(fields, _): Form<AppForm, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    if !console
        .signed
        .form_ok(&service, fields.csrf_token.as_deref())
    {
        return form_expired(&service, &console).await;
    }
    let id = ApplicationId::new(id);
    let caller = &console.signed.person.caller;
    let code = fields.org_code.unwrap_or_default();
    match service
        .grant_accounts_to_organization(caller, id.clone(), code)
        .await
    {
        Ok(_) => redirect(
            StatusCode::SEE_OTHER,
            &format!("/console/applications/{}?done=granted", id.as_str()),
        ),
        Err(e) => {
            let frame = console
                .frame(
                    &service,
                    "/console/applications",
                    None,
                    Some(describe(console.lang(), &e)),
                )
                .await;
            show_application_with(&service, &console, frame, id, None, status_of(&e)).await
        }
    }
}

// ---------------------------------------------------------------- audit log

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
struct AuditQuery {
    actor: Option<String>,
    operation: Option<String>,
    target: Option<String>,
    /// `YYYY-MM-DDTHH:MM` (a datetime-local field), UTC.
    from: Option<String>,
    to: Option<String>,
    /// From 1.
    page: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, Error> {
        let text = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let time = |v: &Option<String>, name: &str| -> Result<Option<i64>, Error> {
            match text(v) {
                None => Ok(None),
                Some(t) => {
                    // A datetime-local field sends 2026-12-06T09:30, read as UTC.
                    let full = if t.len() == 16 {
                        format!("{t}:00Z")
                    } else {
                        t.clone()
                    };
                    roster_domain::time::parse(&full).map(Some).ok_or_else(|| {
                        Error::invalid(format!("{name}: a date and time, e.g. 2026-12-06T09:30."))
                    })
                }
            }
        };
        Ok(AuditFilter {
            actor: text(&self.actor),
            operation: text(&self.operation),
            target_id: text(&self.target),
            from: time(&self.from, "from")?,
            to: time(&self.to, "to")?,
        })
    }

    fn query_string(&self, page: Option<i64>) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("actor", &self.actor),
            ("operation", &self.operation),
            ("target", &self.target),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                s.append_pair(name, v);
            }
        }
        if let Some(page) = page {
            s.append_pair("page", &page.to_string());
        }
        s.finish()
    }
}

async fn audit(
    State(service): State<Service>,
    signed: SignedIn,
    Query(query, _): Query<AuditQuery, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let caller = &console.signed.person.caller;
    let number = query.page.unwrap_or(1).max(1);
    let found = match query.filter() {
        Ok(filter) => match PageRequest::new(Some(number - 1), Some(PAGE_SIZE)) {
            Ok(request) => service.list_audit(caller, filter, request).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let (lines, total, error) = match found {
        Ok(page) => (page.items, page.total, None),
        Err(e) if e.kind() == roster_domain::ErrorKind::PermissionDenied => {
            return console.refused(&service, &e).await
        }
        Err(e) => (Vec::new(), 0, Some(describe(console.lang(), &e))),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let link = |n: i64| format!("/console/audit?{}", query.query_string(Some(n)));
    let frame = console.frame(&service, "/console/audit", None, error).await;
    app_html(
        status,
        render(&page::Audit {
            frame,
            actor: query.actor.clone().unwrap_or_default(),
            operation: query.operation.clone().unwrap_or_default(),
            target: query.target.clone().unwrap_or_default(),
            from: query.from.clone().unwrap_or_default(),
            to: query.to.clone().unwrap_or_default(),
            lines: lines
                .into_iter()
                .map(|e| page::AuditLine {
                    at: when(e.at),
                    actor: e.actor,
                    operation: e.operation,
                    target: format!("{} {}", e.target_type, e.target_id),
                    count: e.count,
                })
                .collect(),
            csv_href: format!("/console/audit.csv?{}", query.query_string(None)),
            previous: (number > 1).then(|| link(number - 1)),
            next: (number * PAGE_SIZE < total).then(|| link(number + 1)),
            total,
        }),
    )
}

/// Most records one CSV export holds.
const CSV_LIMIT: i64 = 100_000;

/// The audit log as CSV (RFC 4180), with the page's filters; at most [`CSV_LIMIT`] records,
/// the newest first.
async fn audit_csv(
    State(service): State<Service>,
    signed: SignedIn,
    Query(query, _): Query<AuditQuery, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let caller = &console.signed.person.caller;
    let filter = match query.filter() {
        Ok(f) => f,
        Err(e) => return console.refused(&service, &e).await,
    };
    let mut out = String::from("time,actor,operation,target_type,target_id,count\r\n");
    let mut offset = 0;
    loop {
        let request = PageRequest { offset, limit: 100 };
        let page = match service.list_audit(caller, filter.clone(), request).await {
            Ok(page) => page,
            Err(e) => return console.refused(&service, &e).await,
        };
        for e in &page.items {
            let fields = [
                roster_domain::time::format_millis(e.at),
                e.actor.clone(),
                e.operation.clone(),
                e.target_type.clone(),
                e.target_id.clone(),
                e.count.to_string(),
            ];
            let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
        offset += 1;
        if page.items.len() < 100 || offset * 100 >= CSV_LIMIT {
            break;
        }
    }
    let mut response = (StatusCode::OK, out).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"roster-audit.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A CSV field, quoted when it must be; a leading `=`, `+`, `-` or `@` is kept from being
/// read as a formula by spreadsheets (an actor or target id is text anyone may have chosen).
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

// ---------------------------------------------------------------- keys

async fn keys(State(service): State<Service>, signed: SignedIn) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    show_keys(&service, &console, None, None, StatusCode::OK).await
}

async fn show_keys(
    service: &Service,
    console: &Console,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let caller = &console.signed.person.caller;
    let listed = match service.signing_keys(caller).await {
        Ok(keys) => keys,
        Err(e) => return console.refused(service, &e).await,
    };
    let keys = listed
        .iter()
        .map(|k| page::KeyLine {
            kid: k.kid().to_owned(),
            created: when(k.created_at),
            state: if k.is_active() {
                console.t("Signing", "签名中")
            } else if k.is_staged() {
                console.t("Staged", "已预备")
            } else {
                console.t("Retired", "已停用")
            },
        })
        .collect();
    let frame = console.frame(service, "/console/keys", notice, error).await;
    app_html(
        status,
        render(&page::Keys {
            frame,
            keys,
            may_rotate: console.may(Access::Admin),
        }),
    )
}

async fn rotate_key(
    State(service): State<Service>,
    signed: SignedIn,
    Form(fields, _): Form<Token, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    if !console
        .signed
        .form_ok(&service, fields.csrf_token.as_deref())
    {
        return form_expired(&service, &console).await;
    }
    match service
        .rotate_signing_key(&console.signed.person.caller)
        .await
    {
        Ok(_) => {
            let notice = done(&console, "A new key signs now.", "新密钥已开始签名。");
            show_keys(&service, &console, notice, None, StatusCode::OK).await
        }
        Err(e) => {
            let why = Some(describe(console.lang(), &e));
            show_keys(&service, &console, None, why, status_of(&e)).await
        }
    }
}

// ---------------------------------------------------------------- policies and messages

async fn policies(State(service): State<Service>, signed: SignedIn) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    show_policies(&service, &console, None, None, StatusCode::OK, None).await
}

/// The policies page; `typed` keeps what was typed into a form that was refused.
async fn show_policies(
    service: &Service,
    console: &Console,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
    typed: Option<(&str, String)>,
) -> Response {
    let caller = &console.signed.person.caller;
    let pretty = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_default()
    };
    let password = match service.show_password_policy(caller).await {
        Ok(p) => pretty(serde_json::to_value(p)),
        Err(e) => return console.refused(service, &e).await,
    };
    let mfa = match service.show_mfa_policy(caller).await {
        Ok(p) => pretty(serde_json::to_value(p)),
        Err(e) => return console.refused(service, &e).await,
    };
    let (password, mfa) = match typed {
        Some(("password", text)) => (text, mfa),
        Some((_, text)) => (password, text),
        None => (password, mfa),
    };
    let frame = console
        .frame(service, "/console/policies", notice, error)
        .await;
    app_html(
        status,
        render(&page::Policies {
            frame,
            password,
            mfa,
            may_change: console.may(Access::Admin),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PolicyForm {
    csrf_token: Option<String>,
    policy: String,
}

async fn set_policy(
    State(service): State<Service>,
    signed: SignedIn,
    Path(which): Path<String>,
    Form(form, _): Form<PolicyForm, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    if !console.signed.form_ok(&service, form.csrf_token.as_deref()) {
        return form_expired(&service, &console).await;
    }
    let caller = &console.signed.person.caller;
    let not_json = |e: serde_json::Error| Error::invalid(format!("The policy is not valid: {e}"));
    let outcome = match which.as_str() {
        "password" => match serde_json::from_str(&form.policy) {
            Ok(fields) => service
                .set_password_policy(caller, fields)
                .await
                .map(|_| ()),
            Err(e) => Err(not_json(e)),
        },
        "mfa" => match serde_json::from_str(&form.policy) {
            Ok(fields) => service.set_mfa_policy(caller, fields).await.map(|_| ()),
            Err(e) => Err(not_json(e)),
        },
        _ => return not_found(&service, &console).await,
    };
    match outcome {
        Ok(()) => {
            let notice = done(&console, "Saved.", "已保存。");
            show_policies(&service, &console, notice, None, StatusCode::OK, None).await
        }
        Err(e) => {
            let why = Some(describe(console.lang(), &e));
            let typed = Some((which.as_str(), form.policy));
            show_policies(&service, &console, None, why, status_of(&e), typed).await
        }
    }
}

async fn messages(State(service): State<Service>, signed: SignedIn) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let caller = &console.signed.person.caller;
    let listed = match service.list_messages(caller, None, Some(100)).await {
        Ok(listed) => listed,
        Err(e) => return console.refused(&service, &e).await,
    };
    let word = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let messages = listed
        .into_iter()
        .map(|m| page::MessageLine {
            at: when(m.created_at),
            to: m.to,
            purpose: m.purpose,
            sender: word(serde_json::to_value(m.sender)),
            status: word(serde_json::to_value(m.status)),
            attempts: m.attempts,
            last_error: m.last_error.unwrap_or_default(),
        })
        .collect();
    let frame = console
        .frame(&service, "/console/messages", None, None)
        .await;
    app_html(StatusCode::OK, render(&page::Messages { frame, messages }))
}

// ---------------------------------------------------------------- people

async fn people(State(service): State<Service>, signed: SignedIn) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    show_people(&service, &console, None, None, StatusCode::OK).await
}

async fn show_people(
    service: &Service,
    console: &Console,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let caller = &console.signed.person.caller;
    let listed = match service.console_people(caller).await {
        Ok(people) => people,
        Err(e) => return console.refused(service, &e).await,
    };
    let people = listed
        .into_iter()
        .map(|(user, role)| (user.user_name, user.name, role.code()))
        .collect();
    let tenant = service
        .tenant_name()
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let frame = console
        .frame(service, "/console/people", notice, error)
        .await;
    app_html(
        status,
        render(&page::People {
            frame,
            people,
            tenant,
            may_change: console.may(Access::Admin),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PeopleForm {
    csrf_token: Option<String>,
    user_name: Option<String>,
    role: Option<String>,
    name: Option<String>,
}

async fn people_action(
    State(service): State<Service>,
    signed: SignedIn,
    Path(action): Path<String>,
    Form(fields, _): Form<PeopleForm, PageRefused>,
) -> Response {
    let console = match console(&service, signed).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    if !console
        .signed
        .form_ok(&service, fields.csrf_token.as_deref())
    {
        return form_expired(&service, &console).await;
    }
    let caller = &console.signed.person.caller;
    let user_name = fields.user_name.unwrap_or_default();
    let outcome = match action.as_str() {
        "grant" => match ConsoleRole::parse(fields.role.as_deref().unwrap_or_default()) {
            Ok(role) => service
                .grant_console_role(caller, &user_name, role)
                .await
                .map(|_| ("The role was granted.", "角色已授予。")),
            Err(e) => Err(e),
        },
        "revoke" => service
            .revoke_console_role(caller, &user_name)
            .await
            .map(|_| ("The role was revoked.", "角色已撤销。")),
        "tenant" => service
            .set_tenant_name(caller, fields.name.as_deref().unwrap_or_default())
            .await
            .map(|()| ("Saved.", "已保存。")),
        _ => return not_found(&service, &console).await,
    };
    match outcome {
        Ok((en, zh)) => {
            // Revoking one's own role ends one's own session: the login page is next.
            if service
                .person(Some(&console.signed.cookie))
                .await
                .ok()
                .flatten()
                .is_none()
            {
                return redirect(StatusCode::SEE_OTHER, "/login?signed_out=1");
            }
            show_people(
                &service,
                &console,
                done(&console, en, zh),
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let why = Some(describe(console.lang(), &e));
            show_people(&service, &console, None, why, status_of(&e)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("@x,y"), "\"'@x,y\"");
    }
}
