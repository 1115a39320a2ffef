//! The pages people see, from compile-time templates (askama, `crates/http/templates/`) that
//! escape every inserted value, in Chinese or English as the browser's `Accept-Language`
//! prefers, styled by one stylesheet (`crates/http/assets/roster.css`). Each protocol's pages
//! live in the module, and the template folder, of its name.

pub mod cas;
pub mod console;
pub mod portal;
pub mod saml;
pub mod sign_in;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Where the stylesheet is served; the version makes a new release's sheet a new URL, so it
/// may be cached for long.
pub const STYLESHEET_PATH: &str = concat!("/assets/roster.css?v=", env!("CARGO_PKG_VERSION"));
const STYLESHEET: &str = include_str!("../../assets/roster.css");

/// `GET /assets/roster.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The languages the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// The language the person chose with the pages' switch, else the supported language the
    /// browser prefers most (RFC 9110 §12.5.4 weights); English when it names neither.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        if let Some(chosen) =
            crate::cookies::cookie(headers, crate::cookies::LANG_COOKIE).and_then(Lang::parse)
        {
            return chosen;
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let mut best: Option<(f32, Lang)> = None;
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// `en` or `zh`, as the switch and its cookie name them.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The other language, as the switch offers it: its code and its own name for itself.
    pub fn other(self) -> (&'static str, &'static str) {
        match self {
            Lang::En => ("zh", "中文"),
            Lang::Zh => ("en", "English"),
        }
    }

    /// The text in this language: every text of Roster's own pages is written in both, side
    /// by side where it is used.
    pub fn t(self, en: &'static str, zh: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

/// A link of a page's navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What every page of the console and the portal shows around its own content: the tenant's
/// name, the navigation, the language switch, who is signed in, and the form token.
#[derive(Debug, Clone)]
pub struct Frame {
    pub lang: Lang,
    pub tenant: String,
    /// The signed-in person's name.
    pub person: String,
    /// The token every form of the page carries.
    pub csrf: String,
    /// The language switch's link (back to this page).
    pub switch_href: String,
    pub nav: Vec<NavItem>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl Frame {
    pub fn t(&self, en: &'static str, zh: &'static str) -> &'static str {
        self.lang.t(en, zh)
    }

    /// The link of the language switch that comes back to `here` (a path of this server).
    pub fn switch_href(lang: Lang, here: &str) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("to", lang.other().0)
            .append_pair("back", here)
            .finish();
        format!("/language?{query}")
    }
}

/// A time as the pages show it: UTC, to the minute.
pub fn when(millis: roster_domain::time::Millis) -> String {
    let text = roster_domain::time::format_millis(millis);
    // 2026-12-06T01:36:19.123Z → 2026-12-06 01:36 UTC
    match (text.get(..10), text.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => text,
    }
}

/// Renders a page; a template that cannot be rendered (a formatting error, which none of
/// ours makes) becomes a plain message rather than a panic.
pub fn render(page: &impl askama::Template) -> String {
    page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a page could not be rendered");
        "The page could not be rendered.".to_owned()
    })
}

/// A page of the console or the portal: as [`html`], and its forms post to this server only.
pub fn app_html(status: StatusCode, body: String) -> Response {
    let mut response = html(status, body);
    response.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}

/// An HTML answer that no cache keeps and no other site frames.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            // No form-action: the form's answer redirects on to the application's site.
            "default-src 'none'; style-src 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(accept: &str) -> Lang {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, accept.parse().unwrap());
        Lang::from_headers(&headers)
    }

    #[test]
    fn the_preferred_supported_language_wins() {
        assert_eq!(lang("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh);
        assert_eq!(lang("en-US,en;q=0.9,zh;q=0.8"), Lang::En);
        assert_eq!(lang("fr, zh;q=0.5"), Lang::Zh);
        assert_eq!(lang("fr"), Lang::En);
        assert_eq!(lang("en;q=0.2, zh-TW;q=0.3"), Lang::Zh);
    }
}
