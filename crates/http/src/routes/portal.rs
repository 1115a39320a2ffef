//! The user portal (`/portal`, and `/` sends people there): the applications a signed-in
//! person may open, as tiles that begin a sign-in to each; their profile, password and
//! sessions. Also the pages' language switch (`/language`).

use crate::cookies::{set_cookie, LANG_COOKIE};
use crate::extract::{Form, Query};
use crate::pages::console::SessionLine;
use crate::pages::portal::{self as page, TileLine};
use crate::pages::{app_html, render, when, Frame, Lang};
use crate::person::{describe, status_of, SignedIn};
use crate::routes::sign_in::{redirect, PageRefused};
use crate::Site;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Extension;
use roster_domain::user_api::ProfileUpdate;
use roster_service::{Service, TileStart};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .route(
            "/",
            get(|| async { redirect(StatusCode::SEE_OTHER, "/portal") }),
        )
        .route("/portal", get(home))
        .route("/portal/profile", get(profile).post(update_profile))
        .route("/portal/password", get(password).post(change_password))
        .route("/portal/sessions", get(sessions))
        .route(
            "/portal/sessions/end-others",
            axum::routing::post(end_others),
        )
        .route("/language", get(switch_language))
}

async fn frame(
    service: &Service,
    signed: &SignedIn,
    current: &str,
    notice: Option<String>,
    error: Option<String>,
) -> Frame {
    let nav = page::nav(signed.lang, signed.person.role.is_some(), current);
    signed.frame(service, nav, notice, error).await
}

fn text(signed: &SignedIn, en: &'static str, zh: &'static str) -> Option<String> {
    Some(signed.lang.t(en, zh).to_owned())
}

/// Where a tile's link goes: each begins a sign-in at the application, which the session
/// answers without a password.
fn tile_href(site: &Site, start: &TileStart) -> String {
    let query = |pairs: &[(&str, &str)]| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            s.append_pair(k, v);
        }
        s.finish()
    };
    match start {
        TileStart::InitiateLogin(uri) => {
            let separator = if uri.contains('?') { '&' } else { '?' };
            format!("{uri}{separator}{}", query(&[("iss", &site.issuer)]))
        }
        TileStart::Authorize { client_id } => format!(
            "/api/v1/oauth2/authorize?{}",
            query(&[("response_type", "code"), ("client_id", client_id)])
        ),
        TileStart::CasService(service) => {
            format!("/api/v1/cas/login?{}", query(&[("service", service)]))
        }
        TileStart::SamlSp(entity_id) => {
            format!(
                "{}?{}",
                roster_service::SSO_PATH,
                query(&[("sp", entity_id)])
            )
        }
    }
}

async fn home(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    signed: SignedIn,
) -> Response {
    let (tiles, error) = match service.portal_tiles(&signed.person).await {
        Ok(tiles) => (tiles, None),
        Err(e) => (Vec::new(), Some(describe(signed.lang, &e))),
    };
    let tiles = tiles
        .into_iter()
        .map(|t| TileLine {
            href: tile_href(&site, &t.start),
            name: t.name,
        })
        .collect();
    let name = signed.person.user.name.clone();
    let frame = frame(&service, &signed, "/portal", None, error).await;
    app_html(StatusCode::OK, render(&page::Home { frame, name, tiles }))
}

async fn profile(State(service): State<Service>, signed: SignedIn) -> Response {
    show_profile(&service, &signed, None, None, StatusCode::OK).await
}

async fn show_profile(
    service: &Service,
    signed: &SignedIn,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    // Read again: a change just made shows.
    let user = match service.person(Some(&signed.cookie)).await {
        Ok(Some(person)) => person.user,
        _ => signed.person.user.clone(),
    };
    let frame = frame(service, signed, "/portal/profile", notice, error).await;
    app_html(
        status,
        render(&page::Profile {
            frame,
            user_name: user.user_name,
            mobile: user.mobile,
            email: user.email.unwrap_or_default(),
            name: user.name,
            nick_name: user.attrs.nick_name.clone().unwrap_or_default(),
            first_name: user.first_name.unwrap_or_default(),
            middle_name: user.middle_name.unwrap_or_default(),
            last_name: user.last_name.unwrap_or_default(),
            gender: user.attrs.gender.clone().unwrap_or_default(),
            birthday: user.attrs.birthday.clone().unwrap_or_default(),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProfileForm {
    csrf_token: Option<String>,
    name: Option<String>,
    attr_nick_name: Option<String>,
    first_name: Option<String>,
    middle_name: Option<String>,
    last_name: Option<String>,
    attr_gender: Option<String>,
    attr_birthday: Option<String>,
}

async fn update_profile(
    State(service): State<Service>,
    signed: SignedIn,
    Form(form, _): Form<ProfileForm, PageRefused>,
) -> Response {
    if !signed.form_ok(&service, form.csrf_token.as_deref()) {
        let why = text(
            &signed,
            "The form expired. Please try again.",
            "表单已过期，请重试。",
        );
        return show_profile(&service, &signed, None, why, StatusCode::FORBIDDEN).await;
    }
    let present = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let update = ProfileUpdate {
        name: form.name,
        attr_gender: present(form.attr_gender),
        attr_birthday: present(form.attr_birthday),
        attr_nick_name: form.attr_nick_name,
        first_name: form.first_name,
        middle_name: form.middle_name,
        last_name: form.last_name,
        extension: None,
    };
    let source = signed.source;
    match service
        .update_own_profile(&signed.person, update, source)
        .await
    {
        Ok(()) => {
            let done = text(&signed, "Your profile was saved.", "个人资料已保存。");
            show_profile(&service, &signed, done, None, StatusCode::OK).await
        }
        Err(e) => {
            let why = Some(describe(signed.lang, &e));
            show_profile(&service, &signed, None, why, status_of(&e)).await
        }
    }
}

async fn password(State(service): State<Service>, signed: SignedIn) -> Response {
    let frame = frame(&service, &signed, "/portal/password", None, None).await;
    app_html(StatusCode::OK, render(&page::Password { frame }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    csrf_token: Option<String>,
    old_password: String,
    new_password: String,
    confirm_password: String,
}

async fn change_password(
    State(service): State<Service>,
    signed: SignedIn,
    Form(form, _): Form<PasswordForm, PageRefused>,
) -> Response {
    let refuse = |error: Option<String>, status: StatusCode| {
        let service = service.clone();
        let signed = &signed;
        async move {
            let frame = frame(&service, signed, "/portal/password", None, error).await;
            app_html(status, render(&page::Password { frame }))
        }
    };
    if !signed.form_ok(&service, form.csrf_token.as_deref()) {
        let why = text(
            &signed,
            "The form expired. Please try again.",
            "表单已过期，请重试。",
        );
        return refuse(why, StatusCode::FORBIDDEN).await;
    }
    if form.new_password != form.confirm_password {
        let why = text(
            &signed,
            "The two new passwords differ.",
            "两次输入的新密码不一致。",
        );
        return refuse(why, StatusCode::BAD_REQUEST).await;
    }
    let source = signed.source;
    match service
        .change_own_password(&signed.person, form.old_password, form.new_password, source)
        .await
    {
        // Every sign-in ended with the old password, this one too.
        Ok(()) => redirect(
            StatusCode::SEE_OTHER,
            "/login?password_changed=1&return_to=%2Fportal",
        ),
        Err(e) => refuse(Some(describe(signed.lang, &e)), status_of(&e)).await,
    }
}

async fn sessions(State(service): State<Service>, signed: SignedIn) -> Response {
    show_sessions(&service, &signed, None, None).await
}

async fn show_sessions(
    service: &Service,
    signed: &SignedIn,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let (found, error) = match service.own_sessions(&signed.person).await {
        Ok(found) => (found, error),
        Err(e) => (Vec::new(), Some(describe(signed.lang, &e))),
    };
    let sessions = found
        .into_iter()
        .map(|s| SessionLine {
            current: s.digest == signed.person.session_digest,
            id: String::new(),
            signed_in: when(s.auth_time),
            last_seen: when(s.last_seen_at),
        })
        .collect();
    let frame = frame(service, signed, "/portal/sessions", notice, error).await;
    app_html(StatusCode::OK, render(&page::Sessions { frame, sessions }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Token {
    csrf_token: Option<String>,
}

async fn end_others(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    signed: SignedIn,
    Form(form, _): Form<Token, PageRefused>,
) -> Response {
    if !signed.form_ok(&service, form.csrf_token.as_deref()) {
        let why = text(
            &signed,
            "The form expired. Please try again.",
            "表单已过期，请重试。",
        );
        return show_sessions(&service, &signed, None, why).await;
    }
    let source = signed.source;
    match service
        .end_other_sessions(&signed.person, &site.issuer, source)
        .await
    {
        Ok(_) => {
            let done = text(
                &signed,
                "You were signed out everywhere else.",
                "已退出其他所有会话。",
            );
            show_sessions(&service, &signed, done, None).await
        }
        Err(e) => show_sessions(&service, &signed, None, Some(describe(signed.lang, &e))).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SwitchQuery {
    to: Option<String>,
    back: Option<String>,
}

/// The language switch: remembers the choice (a year) and goes back to the page, a path of
/// this server only.
async fn switch_language(
    Extension(site): Extension<Site>,
    Query(query, _): Query<SwitchQuery, PageRefused>,
) -> Response {
    let lang = query
        .to
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(Lang::En);
    let back = query
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains(['\\', '\r', '\n']))
        .unwrap_or_else(|| "/portal".to_owned());
    let code = match lang {
        Lang::En => "en",
        Lang::Zh => "zh",
    };
    let mut response = redirect(StatusCode::SEE_OTHER, &back);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&site, LANG_COOKIE, code, "/", Some(365 * 86_400)),
    );
    response
}
