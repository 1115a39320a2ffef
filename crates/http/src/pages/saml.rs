//! SAML's page: the form that carries a message to a service provider (HTTP-POST binding,
//! bindings §3.5.4), sent by a script allowed by its nonce, or by the visible button when
//! scripts are off.

use super::{html, render, Lang};
use askama::Template;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use roster_service::SamlPost;

#[derive(Template)]
#[template(path = "saml/post.html")]
struct AutoPost<'a> {
    lang: Lang,
    title: &'a str,
    explain: &'a str,
    button: &'a str,
    url: &'a str,
    field: &'a str,
    value: &'a str,
    relay_state: Option<&'a str>,
    nonce: &'a str,
}

/// The page posting `post`.
pub fn auto_post(lang: Lang, post: &SamlPost) -> Response {
    let (title, explain, button) = match lang {
        Lang::En => (
            "Signing you in",
            "Your browser is taking you on to the application. If nothing happens, press \
             Continue.",
            "Continue",
        ),
        Lang::Zh => (
            "正在登录",
            "浏览器正在将您转到应用。如果页面没有跳转，请点击“继续”。",
            "继续",
        ),
    };
    let nonce = roster_domain::secret::generate();
    let body = render(&AutoPost {
        lang,
        title,
        explain,
        button,
        url: &post.url,
        field: post.field,
        value: &post.value,
        relay_state: post.relay_state.as_deref(),
        nonce: &nonce,
    });
    let mut response = html(StatusCode::OK, body);
    let policy = format!(
        "default-src 'none'; style-src 'self'; script-src 'nonce-{nonce}'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert("content-security-policy", value);
    }
    response
}
