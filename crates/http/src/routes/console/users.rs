//! Users: the list and its search, creating one, a user's page and what is done to a user.

use super::*;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct UsersQuery {
    q: Option<String>,
    /// The users after this id (the next page).
    after: Option<String>,
    /// The users before this id (the previous page).
    before: Option<String>,
}

pub(super) async fn users(
    State(service): State<Service>,
    console: Console,
    Query(query, _): Query<UsersQuery, PageRefused>,
) -> Response {
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
pub(super) struct NewUserFields {
    user_name: String,
    name: String,
    mobile: String,
    email: String,
    password: String,
}

pub(super) async fn new_user_page(State(service): State<Service>, console: Console) -> Response {
    show_new_user(
        &service,
        &console,
        NewUserFields::default(),
        None,
        StatusCode::OK,
    )
    .await
}

pub(super) async fn show_new_user(
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

pub(super) async fn create_user(
    State(service): State<Service>,
    Posted(console, fields): Posted<NewUserFields>,
) -> Response {
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

/// The notice of a change made on the page before (Post/Redirect/Get), by its name.
pub(super) fn notice_of(console: &Console, done: Option<&str>) -> Option<String> {
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
    super::done(console, en, zh)
}

pub(super) async fn user_page(
    State(service): State<Service>,
    console: Console,
    Path(id): Path<String>,
    Query(query, _): Query<DoneQuery, PageRefused>,
) -> Response {
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

pub(super) async fn show_user(
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
pub(super) struct UserEdit {
    name: Option<String>,
    mobile: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    new_password: Option<String>,
    session: Option<String>,
}

pub(super) async fn update_user(
    State(service): State<Service>,
    Path(id): Path<String>,
    Posted(console, fields): Posted<UserEdit>,
) -> Response {
    let user_id = UserId::new(id);
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
pub(super) fn after(user_id: &UserId, done: &str) -> Response {
    redirect(
        StatusCode::SEE_OTHER,
        &format!("/console/users/{}?done={done}", user_id.as_str()),
    )
}

pub(super) async fn user_action(
    State(service): State<Service>,
    Path((id, action)): Path<(String, String)>,
    Posted(console, fields): Posted<UserEdit>,
) -> Response {
    let user_id = UserId::new(id);
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

pub(super) async fn end_sessions(
    State(service): State<Service>,
    Extension(site): Extension<Site>,
    Path((id, which)): Path<(String, String)>,
    Posted(console, fields): Posted<UserEdit>,
) -> Response {
    let user_id = UserId::new(id);
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
