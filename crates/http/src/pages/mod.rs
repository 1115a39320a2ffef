//! The pages people see, from compile-time templates (askama, `crates/http/templates/`) that
//! escape every inserted value, in Chinese or English as the browser's `Accept-Language`
//! prefers, styled by one stylesheet (`crates/http/assets/roster.css`). Each protocol's pages
//! live in the module, and the template folder, of its name.

pub mod cas;
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
    /// The supported language the browser prefers most (RFC 9110 §12.5.4 weights); English
    /// when it names neither.
    pub fn from_headers(headers: &HeaderMap) -> Self {
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
}

/// Renders a page; a template that cannot be rendered (a formatting error, which none of
/// ours makes) becomes a plain message rather than a panic.
pub fn render(page: &impl askama::Template) -> String {
    page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a page could not be rendered");
        "The page could not be rendered.".to_owned()
    })
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
