//! The cookies Roster's pages set and read: the session, the language chosen, and how one
//! is read from a request and written into an answer.

use crate::Site;
use axum::http::{header, HeaderMap, HeaderValue};

/// The cookie naming the browser's session.
pub const SESSION_COOKIE: &str = "roster_session";
/// The language a person chose with the pages' switch (`en` or `zh`), over the browser's.
pub const LANG_COOKIE: &str = "roster_lang";

/// The value of a cookie of the request.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// A `Set-Cookie` value: never readable by scripts, sent on top-level navigations from other
/// sites but not on their forms or subrequests (`SameSite=Lax`), `Secure` behind HTTPS.
pub(crate) fn set_cookie(
    site: &Site,
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<u64>,
) -> HeaderValue {
    let secure = if site.secure_cookies { "; Secure" } else { "" };
    let age = max_age.map_or_else(String::new, |a| format!("; Max-Age={a}"));
    let text = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax{secure}{age}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}
