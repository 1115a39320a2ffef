//! The pages a browser sees while signing in: the login form and the page that says why a
//! sign-in cannot go on. Plain server-rendered HTML (no scripts), in Chinese or English as
//! the browser's `Accept-Language` prefers; every text inserted is escaped.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

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

    fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }
}

/// A text of the pages, in both languages.
#[derive(Debug, Clone, Copy)]
pub enum Text {
    Title,
    Heading,
    UserName,
    Password,
    Submit,
    /// For `application`: the name of the application being signed in to.
    SigningInTo,
    FormExpired,
    Disabled,
    SignedOut,
    SignedIn,
    CannotContinue,
    TooManyAttempts,
}

impl Text {
    pub fn get(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Text::Title, Lang::En) => "Sign in - Roster",
            (Text::Title, Lang::Zh) => "登录 - Roster",
            (Text::Heading, Lang::En) => "Sign in",
            (Text::Heading, Lang::Zh) => "登录",
            (Text::UserName, Lang::En) => "User name, mobile or email",
            (Text::UserName, Lang::Zh) => "用户名、手机号或邮箱",
            (Text::Password, Lang::En) => "Password",
            (Text::Password, Lang::Zh) => "密码",
            (Text::Submit, Lang::En) => "Sign in",
            (Text::Submit, Lang::Zh) => "登录",
            (Text::SigningInTo, Lang::En) => "to continue to",
            (Text::SigningInTo, Lang::Zh) => "以继续访问",
            (Text::FormExpired, Lang::En) => {
                "The form expired or did not come from this page. Please sign in again."
            }
            (Text::FormExpired, Lang::Zh) => "表单已过期或并非来自本页面，请重新登录。",
            (Text::Disabled, Lang::En) => "This user is disabled. Ask your administrator.",
            (Text::Disabled, Lang::Zh) => "该用户已被禁用，请联系管理员。",
            (Text::SignedOut, Lang::En) => "You are signed out.",
            (Text::SignedOut, Lang::Zh) => "您已退出登录。",
            (Text::SignedIn, Lang::En) => "You are signed in.",
            (Text::SignedIn, Lang::Zh) => "您已登录。",
            (Text::CannotContinue, Lang::En) => "Sign-in cannot continue",
            (Text::CannotContinue, Lang::Zh) => "无法继续登录",
            (Text::TooManyAttempts, Lang::En) => {
                "Too many sign-in attempts from your network address. Wait a moment and try again."
            }
            (Text::TooManyAttempts, Lang::Zh) => "来自您网络地址的登录尝试过多，请稍后再试。",
        }
    }
}

/// The reference's `LOGIN.0002` text with the attempts left.
pub fn wrong_password(lang: Lang, remaining: u32) -> String {
    match lang {
        Lang::En => format!("Invalid account name or password. Remaining attempts: {remaining}"),
        Lang::Zh => format!("账号名或密码错误。剩余尝试次数：{remaining}"),
    }
}

/// The reference's lockout text, with the time left.
pub fn locked(lang: Lang, unlock_in_secs: u64) -> String {
    let (minutes, seconds) = (unlock_in_secs / 60, unlock_in_secs % 60);
    match lang {
        Lang::En => format!(
            "The user is locked after too many failed sign-ins. It will be unlocked in \
             {minutes} minutes and {seconds} seconds."
        ),
        Lang::Zh => {
            format!("由于多次登录失败,用户已被锁定。它将在 {minutes} 分钟和 {seconds} 秒内解锁")
        }
    }
}

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}\
main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:.5rem;\
box-shadow:0 1px 4px rgba(0,0,0,.15)}h1{font-size:1.5rem;margin-top:0}\
label{display:block;margin:1rem 0 .25rem}input{width:100%;box-sizing:border-box;\
padding:.5rem;font-size:1rem}button{margin-top:1.5rem;width:100%;padding:.6rem;\
font-size:1rem;background:#1f5fbf;color:#fff;border:0;border-radius:.25rem}\
button:focus,input:focus{outline:3px solid #f0a500;outline-offset:1px}\
.error{color:#a40000;background:#fdecea;padding:.5rem;border-radius:.25rem}";

fn page(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>\n",
        lang = lang.code(),
        title = escape(title),
    )
}

/// What the login form shows.
pub struct LoginForm<'a> {
    pub lang: Lang,
    pub csrf_token: &'a str,
    pub return_to: Option<&'a str>,
    pub application: Option<&'a str>,
    pub user_name: &'a str,
    pub error: Option<String>,
}

impl LoginForm<'_> {
    pub fn render(&self) -> String {
        let lang = self.lang;
        let error = self.error.as_deref().map_or_else(String::new, |e| {
            format!(
                "<p id=\"error\" class=\"error\" role=\"alert\">{}</p>",
                escape(e)
            )
        });
        let invalid = if self.error.is_some() {
            " aria-invalid=\"true\" aria-describedby=\"error\""
        } else {
            ""
        };
        let to = self.application.map_or_else(String::new, |name| {
            format!(
                "<p>{} <strong>{}</strong></p>",
                Text::SigningInTo.get(lang),
                escape(name)
            )
        });
        let return_to = self.return_to.map_or_else(String::new, |r| {
            format!(
                "<input type=\"hidden\" name=\"return_to\" value=\"{}\">",
                escape(r)
            )
        });
        let body = format!(
            "<h1>{heading}</h1>{to}{error}\
             <form method=\"post\" action=\"/login\">\
             <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">{return_to}\
             <label for=\"user_name\">{user_label}</label>\
             <input id=\"user_name\" name=\"user_name\" type=\"text\" autocomplete=\"username\" \
             required{focus_name} value=\"{user_name}\"{invalid}>\
             <label for=\"password\">{password_label}</label>\
             <input id=\"password\" name=\"password\" type=\"password\" \
             autocomplete=\"current-password\" required{focus_password}{invalid}>\
             <button type=\"submit\">{submit}</button></form>",
            heading = Text::Heading.get(lang),
            // The field to type into first: the password once the name is known.
            focus_name = if self.user_name.is_empty() {
                " autofocus"
            } else {
                ""
            },
            focus_password = if self.user_name.is_empty() {
                ""
            } else {
                " autofocus"
            },
            csrf = escape(self.csrf_token),
            user_label = Text::UserName.get(lang),
            user_name = escape(self.user_name),
            password_label = Text::Password.get(lang),
            submit = Text::Submit.get(lang),
        );
        page(lang, Text::Title.get(lang), &body)
    }
}

/// A page with one message (why sign-in cannot continue, or that the user signed out).
pub fn message(lang: Lang, heading: Text, message: &str) -> String {
    let body = format!(
        "<h1>{}</h1><p role=\"alert\">{}</p>",
        heading.get(lang),
        escape(message)
    );
    page(lang, heading.get(lang), &body)
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
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
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

    #[test]
    fn inserted_text_is_escaped() {
        let html = LoginForm {
            lang: Lang::En,
            csrf_token: "t",
            return_to: Some("/x?a=1&b=\"><script>"),
            application: Some("<b>app</b>"),
            user_name: "\"onfocus=",
            error: None,
        }
        .render();
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<b>app"));
        assert!(html.contains("&quot;onfocus="));
    }
}
