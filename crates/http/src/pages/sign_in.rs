//! The sign-in pages: the login form, and the page that says why a sign-in cannot go on (or
//! that the user signed out). Templates in `templates/sign_in/`.

use super::Lang;
use askama::Template;

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
    /// After the portal's password change.
    PasswordChanged,
    CannotContinue,
    TooManyAttempts,
    SignOutTitle,
    SignOutQuestion,
    SignOutButton,
    NotSentOn,
    ChangeTitle,
    MustChange,
    NewPassword,
    ConfirmPassword,
    ChangeSubmit,
    ExpiresSoon,
    NotNow,
    CodeTitle,
    CodeSentTo,
    Code,
    CodeSubmit,
    CodeResend,
    CodeResent,
    CodeWrong,
    CodeExpired,
    CodeRequired,
    TooManyCodes,
}

impl Text {
    pub fn get(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Text::Title, Lang::En) => "Sign in",
            (Text::Title, Lang::Zh) => "登录",
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
            (Text::PasswordChanged, Lang::En) => {
                "Your password was changed. Sign in with the new one."
            }
            (Text::PasswordChanged, Lang::Zh) => "密码已修改，请使用新密码登录。",
            (Text::CannotContinue, Lang::En) => "Sign-in cannot continue",
            (Text::CannotContinue, Lang::Zh) => "无法继续登录",
            (Text::TooManyAttempts, Lang::En) => {
                "Too many sign-in attempts from your network address. Wait a moment and try again."
            }
            (Text::TooManyAttempts, Lang::Zh) => "来自您网络地址的登录尝试过多，请稍后再试。",
            (Text::SignOutTitle, Lang::En) => "Sign out",
            (Text::SignOutTitle, Lang::Zh) => "退出登录",
            (Text::SignOutQuestion, Lang::En) => {
                "Another site sent you here to sign out. Sign out of every application?"
            }
            (Text::SignOutQuestion, Lang::Zh) => "其他网站将您带到此处退出登录。是否退出所有应用？",
            (Text::SignOutButton, Lang::En) => "Sign out",
            (Text::SignOutButton, Lang::Zh) => "退出登录",
            (Text::NotSentOn, Lang::En) => {
                "The address to go to next is not a registered logout URL, so you were not sent there."
            }
            (Text::NotSentOn, Lang::Zh) => "要跳转的地址不是已注册的退出地址，因此未跳转。",
            (Text::ChangeTitle, Lang::En) => "Change your password",
            (Text::ChangeTitle, Lang::Zh) => "修改密码",
            (Text::MustChange, Lang::En) => {
                "Your password must be changed before you sign in: choose a new one."
            }
            (Text::MustChange, Lang::Zh) => "登录前必须修改密码，请设置新密码。",
            (Text::NewPassword, Lang::En) => "New password",
            (Text::NewPassword, Lang::Zh) => "新密码",
            (Text::ConfirmPassword, Lang::En) => "New password again",
            (Text::ConfirmPassword, Lang::Zh) => "确认新密码",
            (Text::ChangeSubmit, Lang::En) => "Change and sign in",
            (Text::ChangeSubmit, Lang::Zh) => "修改并登录",
            (Text::ExpiresSoon, Lang::En) => {
                "Your password expires soon: change it now, or sign in without. Days left:"
            }
            (Text::ExpiresSoon, Lang::Zh) => "您的密码即将过期，请立即修改，或暂不修改直接登录。剩余天数：",
            (Text::NotNow, Lang::En) => "Not now",
            (Text::NotNow, Lang::Zh) => "暂不修改",
            (Text::CodeTitle, Lang::En) => "Enter the code",
            (Text::CodeTitle, Lang::Zh) => "输入验证码",
            (Text::CodeSentTo, Lang::En) => "A 6-digit code was sent by SMS to your number",
            (Text::CodeSentTo, Lang::Zh) => "6 位验证码已通过短信发送至您的手机",
            (Text::Code, Lang::En) => "Verification code",
            (Text::Code, Lang::Zh) => "验证码",
            (Text::CodeSubmit, Lang::En) => "Verify and sign in",
            (Text::CodeSubmit, Lang::Zh) => "验证并登录",
            (Text::CodeResend, Lang::En) => "Send a new code",
            (Text::CodeResend, Lang::Zh) => "重新发送验证码",
            (Text::CodeResent, Lang::En) => "A new code was sent.",
            (Text::CodeResent, Lang::Zh) => "新的验证码已发送。",
            (Text::CodeWrong, Lang::En) => "The code is wrong. Tries left:",
            (Text::CodeWrong, Lang::Zh) => "验证码错误。剩余尝试次数：",
            (Text::CodeExpired, Lang::En) => {
                "The code expired, was used or was tried too often: send a new one."
            }
            (Text::CodeExpired, Lang::Zh) => "验证码已过期、已使用或尝试次数过多，请重新发送。",
            (Text::CodeRequired, Lang::En) => "Enter the code.",
            (Text::CodeRequired, Lang::Zh) => "请输入验证码。",
            (Text::TooManyCodes, Lang::En) => "Too many codes were asked for. Seconds to wait:",
            (Text::TooManyCodes, Lang::Zh) => "请求验证码过于频繁。需等待秒数：",
        }
    }
}

/// What a page says of a request refused before any sign-in step (unreadable, too large, too
/// slow, a server fault): the English words as they are, in Chinese by the status.
pub fn refused(lang: Lang, status: u16, english: &str) -> String {
    match lang {
        Lang::En => english.to_owned(),
        Lang::Zh => match status {
            404 => "找不到该地址。",
            405 => "不支持该请求方法。",
            408 => "请求超时，请重试。",
            413 | 414 | 431 => "请求过大。",
            429 => "请求过多，请稍后再试。",
            500..=599 => "服务暂时不可用，请稍后再试。",
            _ => "请求无效。",
        }
        .to_owned(),
    }
}

/// Why a sign-in to an application cannot go on (a protocol's refusal, written in English by
/// the service), in the page's language: the reasons every protocol shares by their words,
/// anything else by a Chinese sentence of its own rather than the English one.
pub fn reason(lang: Lang, why: &str) -> String {
    if lang == Lang::En {
        return why.to_owned();
    }
    let known = [
        (
            "The user holds no account in this application.",
            "该用户在此应用中没有账号。",
        ),
        (
            "The sign-in was ended by a change of the user or their account.",
            "由于用户或其账号发生变更，登录已结束，请重新登录。",
        ),
        ("The application is disabled.", "该应用已被禁用。"),
        ("The user is disabled.", "该用户已被禁用，请联系管理员。"),
        (
            "The user is locked.",
            "该用户已被锁定，请稍后再试或联系管理员。",
        ),
        (
            "The user's account in this application is disabled.",
            "该用户在此应用中的账号已被禁用。",
        ),
    ];
    known
        .iter()
        .find(|(en, _)| *en == why)
        .map(|(_, zh)| (*zh).to_owned())
        .unwrap_or_else(|| {
            "应用发来的登录请求无效或不被信任，无法继续。请返回应用重试，或联系管理员。".to_owned()
        })
}

/// Why a client or its redirect URI cannot be trusted, in the page's language.
pub fn untrusted(lang: Lang, why: &roster_service::Untrusted) -> String {
    use roster_service::Untrusted as U;
    match (lang, why) {
        (Lang::En, why) => why.to_string(),
        (Lang::Zh, U::NoClientId) => "client_id 参数未指明任何应用。".to_owned(),
        (Lang::Zh, U::UnknownClient(id)) => format!("没有 client_id 为 {id} 的应用。"),
        (Lang::Zh, U::NoSettings(name)) => format!("应用 {name} 未配置登录设置。"),
        (Lang::Zh, U::UnregisteredRedirect(uri)) => {
            format!("无效的回调地址：{uri} 与已注册的地址均不匹配。")
        }
        (Lang::Zh, U::NoRedirectRegistered) => "该应用未注册回调地址。".to_owned(),
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

/// The login form.
#[derive(Template)]
#[template(path = "sign_in/login.html")]
pub struct LoginForm<'a> {
    pub lang: Lang,
    pub csrf_token: &'a str,
    pub return_to: Option<&'a str>,
    /// The name of the application being signed in to.
    pub application: Option<&'a str>,
    pub user_name: &'a str,
    pub notice: Option<Notice>,
    /// The tenant's name (a setting; "Roster" until one is set).
    pub tenant: &'a str,
}

/// What the login form says above its fields.
#[derive(Debug, Clone)]
pub enum Notice {
    Error(String),
    Info(String),
}

impl LoginForm<'_> {
    fn text(&self, text: Text) -> &'static str {
        text.get(self.lang)
    }

    fn error(&self) -> Option<&str> {
        match &self.notice {
            Some(Notice::Error(text)) => Some(text),
            _ => None,
        }
    }

    fn info(&self) -> Option<&str> {
        match &self.notice {
            Some(Notice::Info(text)) => Some(text),
            _ => None,
        }
    }
}

/// The page that asks for a new password before signing in.
#[derive(Template)]
#[template(path = "sign_in/change_password.html")]
pub struct ChangePasswordForm<'a> {
    pub lang: Lang,
    pub csrf_token: &'a str,
    pub change_token: &'a str,
    /// Days until the password expires, when the change may be put off.
    pub expires_in_days: Option<i64>,
    pub return_to: Option<&'a str>,
    /// Why the last new password was refused (the rule it breaks).
    pub error: Option<&'a str>,
}

impl ChangePasswordForm<'_> {
    fn text(&self, text: Text) -> &'static str {
        text.get(self.lang)
    }
}

/// The page that asks for the code sent by SMS (the second factor).
#[derive(Template)]
#[template(path = "sign_in/second_factor.html")]
pub struct CodeForm<'a> {
    pub lang: Lang,
    pub csrf_token: &'a str,
    pub step_token: &'a str,
    pub return_to: Option<&'a str>,
    /// The number the code went to, masked.
    pub mobile: &'a str,
    pub notice: Option<Notice>,
}

impl CodeForm<'_> {
    fn text(&self, text: Text) -> &'static str {
        text.get(self.lang)
    }

    fn error(&self) -> Option<&str> {
        match &self.notice {
            Some(Notice::Error(e)) => Some(e),
            _ => None,
        }
    }
}

/// Why a code was refused, in the page's language.
pub fn code_refused(lang: Lang, error: &roster_domain::Error) -> String {
    use roster_domain::ErrorKind as K;
    let number: String = error
        .detail()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    match error.kind() {
        K::VerifyCodeWrong => format!("{} {number}", Text::CodeWrong.get(lang)),
        K::TooManyCodes => format!("{} {number}", Text::TooManyCodes.get(lang)),
        K::VerifyCodeRequired => Text::CodeRequired.get(lang).to_owned(),
        _ => Text::CodeExpired.get(lang).to_owned(),
    }
}

/// A page with one message (why sign-in cannot continue, or that the user signed out).
#[derive(Template)]
#[template(path = "sign_in/message.html")]
pub struct Message<'a> {
    pub lang: Lang,
    pub heading: Text,
    pub message: &'a str,
    /// A way on from the page: where, and its words.
    pub link: Option<(&'a str, Text)>,
}

impl Message<'_> {
    fn text(&self, text: Text) -> &'static str {
        text.get(self.lang)
    }
}

/// The page of one message.
pub fn message(lang: Lang, heading: Text, message: &str) -> String {
    super::render(&Message {
        lang,
        heading,
        message,
        link: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_reasons_are_said_in_the_pages_language_only() {
        assert_eq!(
            reason(Lang::En, "The user is disabled."),
            "The user is disabled."
        );
        assert_eq!(
            reason(Lang::Zh, "The user is disabled."),
            "该用户已被禁用，请联系管理员。"
        );
        // Anything else: a Chinese sentence, never the English one.
        let other = reason(
            Lang::Zh,
            "The AuthnRequest's Destination is not this server.",
        );
        assert!(!other.chars().any(|c| c.is_ascii_alphabetic()), "{other}");
    }

    #[test]
    fn inserted_text_is_escaped() {
        let html = super::super::render(&LoginForm {
            lang: Lang::En,
            csrf_token: "t",
            return_to: Some("/x?a=1&b=\"><script>"),
            application: Some("<b>app</b>"),
            user_name: "\"onfocus=",
            notice: Some(Notice::Error("<i>no</i>".into())),
            tenant: "<Acme>",
        });
        let info = super::super::render(&LoginForm {
            lang: Lang::En,
            csrf_token: "t",
            return_to: None,
            application: None,
            user_name: "",
            notice: Some(Notice::Info("<u>info</u>".into())),
            tenant: "Roster",
        });
        assert!(!info.contains("<u>info"), "{info}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<Acme>"), "{html}");
        assert!(!html.contains("<b>app"), "{html}");
        assert!(!html.contains("<i>no"), "{html}");
        assert!(
            html.contains("&#34;onfocus=") || html.contains("&quot;onfocus="),
            "{html}"
        );
        let page = message(Lang::Zh, Text::CannotContinue, "<a href=x>");
        assert!(!page.contains("<a href"), "{page}");
        assert!(page.contains("无法继续登录"), "{page}");
        assert!(page.contains("lang=\"zh-CN\""), "{page}");
    }

    #[test]
    fn the_password_is_asked_first_once_the_name_is_known() {
        let form = |user_name| LoginForm {
            lang: Lang::En,
            csrf_token: "t",
            return_to: None,
            application: None,
            user_name,
            notice: None,
            tenant: "Roster",
        };
        let fresh = super::super::render(&form(""));
        assert!(
            fresh.contains("autocomplete=\"username\" required autofocus"),
            "{fresh}"
        );
        let again = super::super::render(&form("ann"));
        assert!(
            again.contains("current-password\" required autofocus"),
            "{again}"
        );
        assert!(!again.contains("aria-invalid"), "{again}");
    }
}

/// The page asking a user sent by another site whether to sign out.
#[derive(Template)]
#[template(path = "sign_in/logout.html")]
pub struct LogoutConfirm<'a> {
    pub lang: Lang,
    pub csrf_token: &'a str,
    /// The logout request's parameters, carried to the confirmation.
    pub fields: Vec<(&'static str, &'a str)>,
}

impl LogoutConfirm<'_> {
    fn text(&self, text: Text) -> &'static str {
        text.get(self.lang)
    }
}
