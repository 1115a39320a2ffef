//! The console's pages (`/console`), in `templates/console/`, each inside the frame
//! (`templates/frame.html`). What a page offers follows what the person may do; what they
//! may do is checked again by the service when they do it.

use super::{Frame, Lang, NavItem};
use askama::Template;
use roster_domain::console::ConsoleRole;
use roster_domain::permission::Access;

/// The console's navigation for `role`, `current` marked.
pub fn nav(lang: Lang, role: ConsoleRole, current: &str) -> Vec<NavItem> {
    let items: [(&'static str, &'static str, &'static str, Access); 9] = [
        ("/console", "Dashboard", "概览", Access::UserRead),
        ("/console/users", "Users", "用户", Access::UserRead),
        (
            "/console/organizations",
            "Organizations",
            "组织",
            Access::OrgRead,
        ),
        (
            "/console/applications",
            "Applications",
            "应用",
            Access::AppRead,
        ),
        ("/console/audit", "Audit log", "审计日志", Access::AdminRead),
        (
            "/console/keys",
            "Signing keys",
            "签名密钥",
            Access::AdminRead,
        ),
        ("/console/policies", "Policies", "策略", Access::AdminRead),
        ("/console/messages", "Messages", "消息", Access::AdminRead),
        (
            "/console/people",
            "Console people",
            "控制台人员",
            Access::AdminRead,
        ),
    ];
    let mut nav: Vec<NavItem> = items
        .into_iter()
        .filter(|(_, _, _, access)| role.grants(*access))
        .map(|(href, en, zh, _)| NavItem {
            href,
            label: lang.t(en, zh),
            current: href == current,
        })
        .collect();
    nav.push(NavItem {
        href: "/portal",
        label: lang.t("My applications", "我的应用"),
        current: false,
    });
    nav
}

/// A user as a row of a list.
pub struct UserLine {
    pub id: String,
    pub user_name: String,
    pub name: String,
    pub mobile: String,
    pub email: String,
    pub disabled: bool,
    pub locked: bool,
}

impl UserLine {
    pub fn of(user: &roster_domain::user::User) -> Self {
        Self {
            id: user.id.as_str().to_owned(),
            user_name: user.user_name.clone(),
            name: user.name.clone(),
            mobile: user.mobile.clone(),
            email: user.email.clone().unwrap_or_default(),
            disabled: user.disabled,
            locked: user.locked,
        }
    }
}

/// One bar pair of the dashboard's chart (SVG coordinates).
pub struct Bar {
    pub x: i64,
    pub ok_y: i64,
    pub ok_h: i64,
    pub refused_y: i64,
    pub refused_h: i64,
    pub hour: String,
    pub ok: i64,
    pub refused: i64,
}

/// The chart's height in SVG units.
pub const CHART_HEIGHT: i64 = 120;

#[derive(Template)]
#[template(path = "console/dashboard.html")]
pub struct Dashboard {
    pub frame: Frame,
    pub users: i64,
    pub applications: Option<i64>,
    pub locked: Vec<UserLine>,
    pub bars: Vec<Bar>,
    pub sign_ins: i64,
    pub refused: i64,
    pub may_unlock: bool,
}

#[derive(Template)]
#[template(path = "console/users.html")]
pub struct Users {
    pub frame: Frame,
    pub query: String,
    pub users: Vec<UserLine>,
    /// Every user, when the list is a page of them all (not a search).
    pub total: Option<i64>,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub may_create: bool,
}

#[derive(Template)]
#[template(path = "console/user_new.html")]
pub struct NewUser {
    pub frame: Frame,
    pub user_name: String,
    pub name: String,
    pub mobile: String,
    pub email: String,
}

/// An account, for the user's page and the application's.
pub struct AccountLine {
    pub id: String,
    pub application: String,
    pub account_name: String,
    pub disabled: bool,
}

/// A session, for the pages that list them.
pub struct SessionLine {
    pub id: String,
    pub signed_in: String,
    pub last_seen: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "console/user.html")]
pub struct User {
    pub frame: Frame,
    pub user: UserLine,
    pub first_name: String,
    pub last_name: String,
    pub org_id: String,
    pub created: String,
    pub accounts: Option<Vec<AccountLine>>,
    pub sessions: Vec<SessionLine>,
    pub may_edit: bool,
    pub may_support: bool,
}

/// An organization in the tree, in depth-first order: its depth gives its indent.
pub struct OrgLine {
    pub name: String,
    pub code: String,
    pub depth: usize,
}

#[derive(Template)]
#[template(path = "console/organizations.html")]
pub struct Organizations {
    pub frame: Frame,
    pub roots: Vec<OrgLine>,
    pub more: bool,
}

/// An application as a row of the list.
pub struct AppLine {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub protocol: String,
    pub disabled: bool,
}

#[derive(Template)]
#[template(path = "console/applications.html")]
pub struct Applications {
    pub frame: Frame,
    pub apps: Vec<AppLine>,
    pub may_create: bool,
}

/// The sign-in settings as the form shows them.
#[derive(Default)]
pub struct SignInForm {
    pub protocol: String,
    pub redirect_uris: String,
    pub logout_urls: String,
    pub initiate_login_uri: String,
    /// Each grant and whether the application may use it.
    pub grants: Vec<(&'static str, bool)>,
    pub access_token_ttl_secs: String,
    pub refresh_token_ttl_secs: String,
    pub id_token_alg: String,
    pub backchannel_logout_uri: String,
    /// The claim mappings, as the API's JSON.
    pub claims: String,
    /// The SAML settings, as the API's JSON (`saml`).
    pub saml: String,
}

#[derive(Template)]
#[template(path = "console/application.html")]
pub struct Application {
    pub frame: Frame,
    pub app: AppLine,
    pub permissions: Vec<(&'static str, bool)>,
    pub sign_in: SignInForm,
    pub accounts: Vec<AccountLine>,
    pub roles: Vec<(String, String)>,
    /// The new client secret, shown once after a rotation.
    pub new_secret: Option<String>,
    pub may_change: bool,
    pub may_grant: bool,
}

/// An audit record as a row.
pub struct AuditLine {
    pub at: String,
    pub actor: String,
    pub operation: String,
    pub target: String,
    pub count: i64,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
pub struct Audit {
    pub frame: Frame,
    pub actor: String,
    pub operation: String,
    pub target: String,
    pub from: String,
    pub to: String,
    pub lines: Vec<AuditLine>,
    pub csv_href: String,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub total: i64,
}

/// A signing key as a row.
pub struct KeyLine {
    pub kid: String,
    pub created: String,
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "console/keys.html")]
pub struct Keys {
    pub frame: Frame,
    pub keys: Vec<KeyLine>,
    pub may_rotate: bool,
}

#[derive(Template)]
#[template(path = "console/people.html")]
pub struct People {
    pub frame: Frame,
    pub people: Vec<(String, String, &'static str)>,
    pub tenant: String,
    pub may_change: bool,
}

/// A page that only says something (refused, not found).
#[derive(Template)]
#[template(path = "console/message.html")]
pub struct Message {
    pub frame: Frame,
    pub title: &'static str,
    pub text: String,
}

#[derive(Template)]
#[template(path = "console/policies.html")]
pub struct Policies {
    pub frame: Frame,
    /// The password policy and the MFA policy in force, as the API's JSON (pretty).
    pub password: String,
    pub mfa: String,
    pub may_change: bool,
}

/// A message of the outbox, as a row.
pub struct MessageLine {
    pub at: String,
    pub to: String,
    pub purpose: String,
    pub sender: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: String,
}

#[derive(Template)]
#[template(path = "console/messages.html")]
pub struct Messages {
    pub frame: Frame,
    pub messages: Vec<MessageLine>,
}
