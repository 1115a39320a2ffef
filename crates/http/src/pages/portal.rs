//! The portal's pages (`/portal`), in `templates/portal/`, inside the frame: the
//! applications a person may open, their profile, password and sessions.

use super::console::SessionLine;
use super::{Frame, Lang, NavItem};
use askama::Template;

/// The portal's navigation, `current` marked; a person with a console role also sees it.
pub fn nav(lang: Lang, console: bool, current: &str) -> Vec<NavItem> {
    let mut items = vec![
        ("/portal", lang.t("My applications", "我的应用")),
        ("/portal/profile", lang.t("Profile", "个人资料")),
        ("/portal/password", lang.t("Password", "密码")),
        ("/portal/sessions", lang.t("Sessions", "会话")),
    ];
    if console {
        items.push(("/console", lang.t("Console", "控制台")));
    }
    items
        .into_iter()
        .map(|(href, label)| NavItem {
            href,
            label,
            current: href == current,
        })
        .collect()
}

/// An application's tile: its name and where following it begins the sign-in.
pub struct TileLine {
    pub name: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
pub struct Home {
    pub frame: Frame,
    pub name: String,
    pub tiles: Vec<TileLine>,
}

#[derive(Template)]
#[template(path = "portal/profile.html")]
pub struct Profile {
    pub frame: Frame,
    pub user_name: String,
    pub mobile: String,
    pub email: String,
    pub name: String,
    pub nick_name: String,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    pub gender: String,
    pub birthday: String,
}

#[derive(Template)]
#[template(path = "portal/password.html")]
pub struct Password {
    pub frame: Frame,
}

#[derive(Template)]
#[template(path = "portal/sessions.html")]
pub struct Sessions {
    pub frame: Frame,
    pub sessions: Vec<SessionLine>,
}
