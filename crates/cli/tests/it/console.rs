//! The web console and the portal over HTTP, as a browser without scripts uses them: people
//! with console roles sign in through the login page; what each role may do is enforced on
//! every form; forms need their token and never come from another site; revoking a role ends
//! the session; the portal lists the applications a user holds an account in.

use crate::sign_in::{fixture, hidden, Browser, Fixture, Hop, PASSWORD, REDIRECT};
use crate::support::*;
use serde_json::json;

/// Gives `user_name` a console role through `roster admin grant`.
pub async fn grant(server: &Server, user_name: &str, role: &str) {
    let (ok, out, err) = roster(&[
        "admin",
        "grant",
        "--database",
        &server.db.url,
        user_name,
        "--role",
        role,
    ])
    .await;
    assert!(ok, "{err}");
    assert_eq!(out, json!({"user_name": user_name, "role": role}));
}

/// A person with a password (and an account in an OIDC application, unused here).
pub async fn person(server: &mut Server) -> Fixture {
    fixture(server, json!({})).await
}

/// A browser signed in at the login page, sent there by `path` and back to it.
pub async fn signed_in_at(server: &Server, user_name: &str, path: &str) -> (Browser, Hop) {
    let browser = Browser::new(server);
    let first = browser.get(path).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let login = first.location.unwrap();
    assert!(login.starts_with("/login?return_to="), "{login}");
    let page = browser.get(&login).await;
    let back = browser.submit(&page.body, user_name, PASSWORD).await;
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(back.location.as_deref(), Some(path));
    let landed = browser.get(path).await;
    (browser, landed)
}

/// Posts a form of the console or the portal, with the page's token unless `token` says
/// otherwise.
pub async fn post_form(
    browser: &Browser,
    path: &str,
    token: Option<&str>,
    fields: &[(&str, &str)],
) -> Hop {
    let mut form: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    if let Some(token) = token {
        form.push(("csrf_token".to_owned(), token.to_owned()));
    }
    let res = browser
        .http
        .post(format!("{}{path}", browser.base))
        .header("accept", "text/html")
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    Hop {
        status,
        location,
        body: res.text().await.unwrap(),
    }
}

#[on_each_store]
async fn an_admin_creates_a_user_and_grants_an_account_who_then_finds_it_in_the_portal(
    backend: Backend,
) {
    let mut server = Server::start(backend).await;
    let admin = person(&mut server).await;
    grant(&server, &admin.user_name, "admin").await;
    let app = fixture(
        &mut server,
        json!({"initiate_login_uri": "https://wiki.example.com/login"}),
    )
    .await;
    let (browser, dashboard) = signed_in_at(&server, &admin.user_name, "/console").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert!(
        dashboard.body.contains("<h1>Dashboard</h1>"),
        "{}",
        dashboard.body
    );
    let token = hidden(&dashboard.body, "csrf_token").unwrap_or_else(|| {
        // The dashboard may have no form: any console page carries the token.
        String::new()
    });
    let page = browser.get("/console/users/new").await;
    let token = if token.is_empty() {
        hidden(&page.body, "csrf_token").unwrap()
    } else {
        token
    };
    let created = post_form(
        &browser,
        "/console/users/new",
        Some(&token),
        &[
            ("user_name", "li.si"),
            ("name", "Li Si"),
            ("mobile", "13900001111"),
            ("email", "li.si@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let user_page = created.location.unwrap();
    assert!(user_page.ends_with("?done=created"), "{user_page}");
    let shown = browser.get(&user_page).await;
    assert!(
        shown.body.contains("The user was created."),
        "{}",
        shown.body
    );

    // The account, granted on the application's page by user name.
    let app_page = format!("/console/applications/{}", app.app.application_id);
    let granted = post_form(
        &browser,
        &format!("{app_page}/accounts"),
        Some(&token),
        &[("user_name", "li.si")],
    )
    .await;
    assert_eq!(granted.status, 303, "{}", granted.body);
    // The audit log names the person who did it.
    let audit = browser
        .get("/console/audit?operation=CreateAppAccountForUser")
        .await;
    // The API's audit list filters by operation too.
    let api = server.admin().await;
    let actor = format!("console:{}", admin.user_name);
    let (_, by_operation) = server
        .get(
            &api,
            &format!("/roster/v1/audit?operation=CreateAppAccountForUser&actor={actor}"),
        )
        .await;
    assert_eq!(by_operation["total"], json!(1), "{by_operation}");
    assert_eq!(
        by_operation["records"][0]["operation"],
        "CreateAppAccountForUser"
    );
    assert!(
        audit.body.contains(&format!("console:{}", admin.user_name)),
        "{}",
        audit.body
    );

    // Li Si signs in: the password an administrator typed is changed first; then, with
    // nowhere else to go, the portal, which shows the application as a tile starting its
    // sign-in (the initiate-login URI, with this server as `iss`).
    let li = Browser::new(&server);
    let login = li.get("/login").await;
    let change = li.submit(&login.body, "li.si", PASSWORD).await;
    assert!(
        change.body.contains("Change your password"),
        "{}",
        change.body
    );
    let signed_in = li
        .change_password(&change.body, "Another-horse-7", "Another-horse-7")
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.location.as_deref(), Some("/portal"));
    let portal = li.get("/portal").await;
    assert_eq!(portal.status, 200, "{}", portal.body);
    let iss = url_escaped(&server.base);
    assert!(
        portal.body.contains(&format!(
            "href=\"https://wiki.example.com/login?iss={iss}\""
        )),
        "{}",
        portal.body
    );
    // An application without an initiate-login URI: its tile is an authorization request,
    // which sends the browser to the application's callback with a code and no `state`, as
    // the OneAccess portal's tile does.
    let plain = fixture(&mut server, json!({})).await;
    let authorized = server
        .authorize(&li_id(&server).await, &plain.app.application_id)
        .await;
    assert!(!authorized.is_empty());
    let portal = li.get("/portal").await;
    let href = format!(
        "href=\"/api/v1/oauth2/authorize?response_type=code&client_id={}\"",
        plain.app.client_id
    );
    let page = crate::sign_in::unescape(&portal.body);
    assert!(page.contains(&href), "{page}");
    let launched = li
        .get(&format!(
            "/api/v1/oauth2/authorize?response_type=code&client_id={}",
            plain.app.client_id
        ))
        .await;
    assert_eq!(launched.status, 302, "{}", launched.body);
    let back = launched.location.unwrap();
    assert!(back.starts_with(&format!("{REDIRECT}?code=")), "{back}");
    assert!(!back.contains("state="), "{back}");
    // No console role: the console says so, and offers nothing.
    let refused = li.get("/console").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("You hold no console role."));
    assert!(!refused.body.contains("/console/users"));
    server.stop().await;
}

/// The id of the user `li.si` the first test creates.
async fn li_id(server: &Server) -> String {
    let token = server.token_for(ADMIN_ID, ADMIN_SECRET).await;
    let (status, user) = server
        .post(
            &token,
            "/users/user-by-username",
            json!({"user_name": "li.si"}),
        )
        .await;
    assert_eq!(status, 200, "{user}");
    user["user_id"].as_str().unwrap().to_owned()
}

/// `text` as a query value (what the pages write, HTML-escaped where needed).
fn url_escaped(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Locks `user_name` with wrong passwords at the login page (five, the default).
async fn lock(server: &Server, user_name: &str) {
    let browser = Browser::new(server);
    for _ in 0..5 {
        let page = browser.get("/login").await;
        browser
            .submit(&page.body, user_name, "wrong password")
            .await;
    }
    let page = browser.get("/login").await;
    let locked = browser.submit(&page.body, user_name, PASSWORD).await;
    assert!(locked.body.contains("locked"), "{}", locked.body);
}

#[on_each_store]
async fn a_helpdesk_person_unlocks_a_user_but_cannot_open_the_applications(backend: Backend) {
    let mut server = Server::start(backend).await;
    let helper = person(&mut server).await;
    grant(&server, &helper.user_name, "helpdesk").await;
    let locked = person(&mut server).await;
    lock(&server, &locked.user_name).await;

    let (browser, dashboard) = signed_in_at(&server, &helper.user_name, "/console").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    // The dashboard lists the locked user; no link to the applications.
    assert!(
        dashboard.body.contains(&locked.user_name),
        "{}",
        dashboard.body
    );
    assert!(!dashboard.body.contains("/console/applications"));
    let token = hidden(&dashboard.body, "csrf_token").unwrap();
    let path = format!("/console/users/{}/unlock", locked.user_id);
    let unlocked = post_form(&browser, &path, Some(&token), &[]).await;
    assert_eq!(unlocked.status, 303, "{}", unlocked.body);
    // The user signs in again.
    let user = Browser::new(&server);
    let page = user.get("/login").await;
    let back = user.submit(&page.body, &locked.user_name, PASSWORD).await;
    assert_eq!(back.status, 303, "{}", back.body);

    // The applications page, its forms and the audit log are refused by the service.
    for path in [
        "/console/applications",
        &format!("/console/applications/{}", locked.app.application_id),
        "/console/audit",
        "/console/keys",
    ] {
        let refused = browser.get(path).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.body);
    }
    let edit = format!("/console/applications/{}/secret", locked.app.application_id);
    let refused = post_form(&browser, &edit, Some(&token), &[]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // Nor may the helpdesk edit a user's profile (only their sign-in troubles).
    let profile = format!("/console/users/{}", locked.user_id);
    let refused = post_form(&browser, &profile, Some(&token), &[("name", "Changed")]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    server.stop().await;
}

#[on_each_store]
async fn an_auditor_reads_everything_and_changes_nothing(backend: Backend) {
    let mut server = Server::start(backend).await;
    let auditor = person(&mut server).await;
    grant(&server, &auditor.user_name, "auditor").await;
    let other = person(&mut server).await;
    let (browser, _) = signed_in_at(&server, &auditor.user_name, "/console").await;
    for path in [
        "/console/users".to_owned(),
        format!("/console/users/{}", other.user_id),
        "/console/applications".to_owned(),
        format!("/console/applications/{}", other.app.application_id),
        "/console/organizations".to_owned(),
        "/console/audit".to_owned(),
        "/console/keys".to_owned(),
        "/console/policies".to_owned(),
        "/console/messages".to_owned(),
        "/console/people".to_owned(),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        // No form that changes anything is offered.
        assert!(
            !page.body.contains("method=\"post\""),
            "{path}: {}",
            page.body
        );
    }
    let token = {
        let page = browser.get("/console/users").await;
        // Every page carries the token in its frame's forms; the auditor's has none, so take
        // it from the portal's profile form.
        let _ = page;
        hidden(&browser.get("/portal/profile").await.body, "csrf_token").unwrap()
    };
    let user = other.user_id.as_str();
    let app = other.app.application_id.as_str();
    for (path, fields) in [
        (format!("/console/users/{user}/disable"), vec![]),
        (format!("/console/users/{user}/unlock"), vec![]),
        (
            format!("/console/users/{user}/password"),
            vec![("new_password", "Whatever-9x")],
        ),
        (format!("/console/users/{user}/sessions/end-all"), vec![]),
        (format!("/console/users/{user}"), vec![("name", "Changed")]),
        (format!("/console/applications/{app}/secret"), vec![]),
        (
            format!("/console/applications/{app}/accounts"),
            vec![("user_name", "x")],
        ),
        (
            "/console/users/new".to_owned(),
            vec![("user_name", "x"), ("name", "x"), ("mobile", "13911112222")],
        ),
        ("/console/keys/rotate".to_owned(), vec![]),
        (
            "/console/policies/password".to_owned(),
            vec![("policy", "{\"min_length\": 20}")],
        ),
        (
            format!("/console/applications/{app}/revoke"),
            vec![("account_id", other.account_id.as_str())],
        ),
        (
            "/console/people/grant".to_owned(),
            vec![("user_name", "x"), ("role", "admin")],
        ),
    ] {
        let refused = post_form(&browser, &path, Some(&token), &fields).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.body);
    }
    // Nothing changed: the user is enabled, the audit log holds no change by the auditor.
    let admin = server.admin().await;
    let (_, shown) = server.get(&admin, &format!("/users/{user}")).await;
    assert_eq!(shown["disabled"], json!(false), "{shown}");
    let actor = format!("console:{}", auditor.user_name);
    let (_, audit) = server
        .get(&admin, &format!("/roster/v1/audit?actor={actor}"))
        .await;
    assert_eq!(audit["total"], json!(0), "{audit}");
    server.stop().await;
}

#[on_each_store]
async fn console_forms_need_their_token_and_never_come_from_another_site(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = person(&mut server).await;
    grant(&server, &admin.user_name, "admin").await;
    let target = person(&mut server).await;
    let (browser, _) = signed_in_at(&server, &admin.user_name, "/console/users/new").await;
    let page = browser.get("/console/users/new").await;
    let token = hidden(&page.body, "csrf_token").unwrap();
    let path = format!("/console/users/{}/disable", target.user_id);
    // No token, a wrong one, another session's: refused.
    for sent in [
        None,
        Some("0123"),
        Some(token.replace(|c: char| c != 'a', "b").as_str()),
    ] {
        let refused = post_form(&browser, &path, sent, &[]).await;
        assert_eq!(refused.status, 403, "{sent:?}: {}", refused.body);
    }
    // The right token from another site's page: refused too.
    let res = browser
        .http
        .post(format!("{}{path}", server.base))
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let admin_token = server.admin().await;
    let (_, shown) = server
        .get(&admin_token, &format!("/users/{}", target.user_id))
        .await;
    assert_eq!(shown["disabled"], json!(false), "{shown}");
    // With it, from this site: done.
    let done = post_form(&browser, &path, Some(&token), &[]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, shown) = server
        .get(&admin_token, &format!("/users/{}", target.user_id))
        .await;
    assert_eq!(shown["disabled"], json!(true), "{shown}");
    server.stop().await;
}

#[on_each_store]
async fn revoking_a_role_ends_the_persons_session(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = person(&mut server).await;
    grant(&server, &admin.user_name, "admin").await;
    let helper = person(&mut server).await;
    grant(&server, &helper.user_name, "helpdesk").await;
    let (helper_browser, page) = signed_in_at(&server, &helper.user_name, "/console").await;
    assert_eq!(page.status, 200);
    let (browser, people) = signed_in_at(&server, &admin.user_name, "/console/people").await;
    assert!(people.body.contains(&helper.user_name), "{}", people.body);
    let token = hidden(&people.body, "csrf_token").unwrap();
    let revoked = post_form(
        &browser,
        "/console/people/revoke",
        Some(&token),
        &[("user_name", &helper.user_name)],
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert!(revoked.body.contains("The role was revoked."));
    // The helper's open console is gone: back to the login page.
    let after = helper_browser.get("/console").await;
    assert_eq!(after.status, 303, "{}", after.body);
    assert!(after.location.unwrap().starts_with("/login?"));
    let (ok, listed, err) = roster(&["admin", "list", "--database", &server.db.url]).await;
    assert!(ok, "{err}");
    let names: Vec<_> = listed["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec![admin.user_name.clone()]);
    // A disabled administrator's console is gone at once, role or not.
    let api = server.admin().await;
    let (status, body) = server
        .put(
            &api,
            &format!("/users/{}/disable", admin.user_id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let after = browser.get("/console/people").await;
    assert_eq!(after.status, 303, "{}", after.body);
    assert!(after.location.unwrap().starts_with("/login?"));
    server.stop().await;
}

#[on_each_store]
async fn users_are_found_by_a_prefix_of_their_name_mobile_or_email(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = person(&mut server).await;
    grant(&server, &admin.user_name, "auditor").await;
    let token = server.admin().await;
    for (name, mobile, email) in [
        ("wang.wu", "13800138000", "ww@corp.example"),
        ("Wang.Liu", "13900139000", "liu@corp.example"),
        ("zhao", "15000150000", "wang.zhao@corp.example"),
    ] {
        let (status, body) = server
            .post(
                &token,
                "/users",
                json!({"user_name": name, "mobile": mobile, "email": email, "name": name}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (browser, _) = signed_in_at(&server, &admin.user_name, "/console/users").await;
    let found = |q: &str| {
        let browser = &browser;
        let q = q.to_owned();
        async move {
            let page = browser
                .get(&format!("/console/users?q={}", url_escaped(&q)))
                .await;
            assert_eq!(page.status, 200, "{}", page.body);
            let mut names: Vec<&str> = ["wang.wu", "Wang.Liu", "zhao"]
                .into_iter()
                .filter(|n| page.body.contains(&format!(">{n}</a>")))
                .collect();
            names.sort_unstable();
            names
        }
    };
    // A user name in any case; an email; a mobile's first digits.
    assert_eq!(found("WANG").await, vec!["Wang.Liu", "wang.wu", "zhao"]);
    assert_eq!(found("wang.w").await, vec!["wang.wu"]);
    assert_eq!(found("liu@").await, vec!["Wang.Liu"]);
    assert_eq!(found("1390").await, vec!["Wang.Liu"]);
    assert_eq!(found("nobody").await, Vec::<&str>::new());
    server.stop().await;
}

#[on_each_store]
async fn pages_speak_one_language_and_the_switch_remembers_it(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = person(&mut server).await;
    grant(&server, &admin.user_name, "admin").await;
    // `/` leads to the portal, which asks to sign in.
    let browser = Browser::new(&server);
    let root = browser.get("/").await;
    assert_eq!(root.location.as_deref(), Some("/portal"));
    let (browser, page) = signed_in_at(&server, &admin.user_name, "/console/users").await;
    assert!(page.body.contains("<html lang=\"en\">"));
    // The switch: Chinese from now on, whatever the browser asks for.
    let switch = browser.get("/language?to=zh&back=%2Fconsole%2Fusers").await;
    assert_eq!(switch.status, 303);
    assert_eq!(switch.location.as_deref(), Some("/console/users"));
    for path in [
        "/console",
        "/console/users",
        "/console/people",
        "/portal",
        "/portal/profile",
    ] {
        let page = browser.get(path).await;
        assert!(page.body.contains("<html lang=\"zh-CN\">"), "{path}");
        // Every word a person reads is Chinese: no English sentence of ours is left.
        for english in [
            "Users",
            "Sign out",
            "Dashboard",
            "Save",
            "Search",
            "Profile",
        ] {
            assert!(
                !page.body.contains(&format!(">{english}<")),
                "{path}: {english}: {}",
                page.body
            );
        }
    }
    // Another site's address is never where the switch goes back to.
    let away = browser.get("/language?to=en&back=//evil.example/").await;
    assert_eq!(away.location.as_deref(), Some("/portal"));
    // The tenant's name, once set, is on the login page.
    let people = browser.get("/console/people").await;
    let token = hidden(&people.body, "csrf_token").unwrap();
    let saved = post_form(
        &browser,
        "/console/people/tenant",
        Some(&token),
        &[("name", "示例公司")],
    )
    .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    let login = Browser::new(&server).get("/login").await;
    assert!(
        login.body.contains("<title>Sign in - 示例公司</title>"),
        "{}",
        login.body
    );
    server.stop().await;
}

#[on_each_store]
async fn the_audit_log_exports_as_csv_with_its_filters(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = person(&mut server).await;
    grant(&server, &admin.user_name, "auditor").await;
    let (browser, _) = signed_in_at(&server, &admin.user_name, "/console/audit").await;
    let res = browser
        .http
        .get(format!(
            "{}/console/audit.csv?operation=CreateUser",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "time,actor,operation,target_type,target_id,count");
    // The two people the test made, and nothing but CreateUser.
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1..].iter().all(|l| l.contains(",CreateUser,user,")),
        "{text}"
    );
    server.stop().await;
}

#[on_each_store]
async fn the_user_list_pages_forward_and_back_with_the_total(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = person(&mut server).await;
    grant(&server, &admin.user_name, "helpdesk").await;
    let token = server.admin().await;
    // The list is in the order of ids, which follow creation but for users made in the same
    // millisecond: the expected order is the ids' own.
    let mut created = vec![(admin.user_id.clone(), admin.user_name.clone())];
    for n in 0..110 {
        let name = format!("paged{n:03}");
        let (status, body) = server
            .post(
                &token,
                "/users",
                json!({"user_name": name, "mobile": mobile_for(&name)}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        created.push((body["user_id"].as_str().unwrap().to_owned(), name));
    }
    created.sort();
    let expected: Vec<String> = created.into_iter().map(|(_, name)| name).collect();
    let (browser, first) = signed_in_at(&server, &admin.user_name, "/console/users").await;
    // 111 users (the helper too), 50 a page, in the order they were created.
    let names = |page: &str| -> Vec<String> {
        page.split("\">")
            .filter_map(|part| part.split("</a>").next())
            .filter(|t| t.starts_with("paged") || t.starts_with('u'))
            .filter(|t| !t.contains('<'))
            .map(str::to_owned)
            .collect()
    };
    assert!(first.body.contains("111 users in all"), "{}", first.body);
    assert!(!first.body.contains("rel=\"prev\""));
    let shown = names(&first.body);
    assert_eq!(shown.len(), 50, "{shown:?}");
    assert_eq!(shown, expected[..50]);
    let next = |page: &str, rel: &str| {
        let marker = "href=\"";
        let at = page.find(&format!("rel=\"{rel}\"")).unwrap();
        let start = page[..at].rfind(marker).unwrap() + marker.len();
        let end = start + page[start..].find('"').unwrap();
        crate::sign_in::unescape(&page[start..end])
    };
    let second = browser.get(&next(&first.body, "next")).await;
    assert_eq!(names(&second.body), expected[50..100]);
    let third = browser.get(&next(&second.body, "next")).await;
    let last = names(&third.body);
    assert_eq!(last, expected[100..]);
    assert!(!third.body.contains("rel=\"next\""));
    // And back: the same second page.
    let back = browser.get(&next(&third.body, "prev")).await;
    assert_eq!(names(&back.body), names(&second.body));
    server.stop().await;
}

#[on_each_store]
async fn an_admin_revokes_an_account_and_edits_the_policies(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = person(&mut server).await;
    grant(&server, &admin.user_name, "admin").await;
    let other = person(&mut server).await;
    let app_page = format!("/console/applications/{}", other.app.application_id);
    let (browser, page) = signed_in_at(&server, &admin.user_name, &app_page).await;
    assert!(page.body.contains(&other.user_name), "{}", page.body);
    let token = hidden(&page.body, "csrf_token").unwrap();
    let revoked = post_form(
        &browser,
        &format!("{app_page}/revoke"),
        Some(&token),
        &[("account_id", &other.account_id)],
    )
    .await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    let api = server.admin().await;
    let (status, _) = server
        .get(
            &api,
            &format!(
                "/applications/{}/accounts/{}",
                other.app.application_id, other.account_id
            ),
        )
        .await;
    assert_ne!(status, 200);

    // The password policy, as JSON: a field changes, the others keep their values.
    let policies = browser.get("/console/policies").await;
    assert_eq!(policies.status, 200, "{}", policies.body);
    let saved = post_form(
        &browser,
        "/console/policies/password",
        Some(&token),
        &[("policy", r#"{"min_length": 12}"#)],
    )
    .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    let (_, policy) = server.get(&api, "/roster/v1/password-policy").await;
    assert_eq!(policy["min_length"], json!(12), "{policy}");
    // What is not JSON, or breaks the policy's rules, is refused; the text typed stays.
    let refused = post_form(
        &browser,
        "/console/policies/password",
        Some(&token),
        &[("policy", r#"{"min_length": "twelve"}"#)],
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("role=\"alert\""), "{}", refused.body);
    assert!(
        refused.body.contains("&quot;twelve&quot;") || refused.body.contains("&#34;twelve&#34;"),
        "{}",
        refused.body
    );
    let messages = browser.get("/console/messages").await;
    assert_eq!(messages.status, 200, "{}", messages.body);
    server.stop().await;
}

#[on_each_store]
async fn the_mfa_policy_can_ask_the_console_for_a_second_factor(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = person(&mut server).await;
    grant(&server, &admin.user_name, "admin").await;
    // Signed in without a code (the portal): the console opens.
    let (browser, portal) = signed_in_at(&server, &admin.user_name, "/portal").await;
    assert_eq!(portal.status, 200);
    assert_eq!(browser.get("/console").await.status, 200);
    // The policy names the console (no registered application is needed for that name).
    let api = server.admin().await;
    let (status, body) = server
        .put(
            &api,
            "/roster/v1/mfa-policy",
            json!({"mode": "applications", "applications": ["roster-console"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The same session no longer opens it: sign in again, with the code.
    let asked = browser.get("/console").await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let login = asked.location.unwrap();
    assert!(login.starts_with("/login?return_to=%2Fconsole"), "{login}");
    let page = browser.get(&login).await;
    let step = browser.submit(&page.body, &admin.user_name, PASSWORD).await;
    assert_eq!(step.status, 200, "{}", step.body);
    assert!(hidden(&step.body, "step_token").is_some(), "{}", step.body);
    let (_, kept) = server
        .get(
            &api,
            &format!(
                "/roster/v1/messages?mobile={}",
                mobile_for(&admin.user_name)
            ),
        )
        .await;
    let text = kept["messages"][0]["text"].as_str().unwrap().to_owned();
    let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
    let mut form: Vec<(String, String)> = ["csrf_token", "step_token", "mobile", "return_to"]
        .iter()
        .filter_map(|n| hidden(&step.body, n).map(|v| ((*n).to_owned(), v)))
        .collect();
    form.push(("code".to_owned(), code));
    let res = browser
        .http
        .post(format!("{}/login/code", browser.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/console");
    let dashboard = browser.get("/console").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    // The portal asks for nothing more.
    assert_eq!(browser.get("/portal").await.status, 200);
    server.stop().await;
}

#[on_each_store]
async fn the_sign_in_settings_form_sets_what_the_api_sets(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = person(&mut server).await;
    grant(&server, &admin.user_name, "admin").await;
    let other = person(&mut server).await;
    let app_page = format!("/console/applications/{}", other.app.application_id);
    let (browser, page) = signed_in_at(&server, &admin.user_name, &app_page).await;
    let token = hidden(&page.body, "csrf_token").unwrap();
    let saved = post_form(
        &browser,
        &format!("{app_page}/sign-in"),
        Some(&token),
        &[
            ("protocol", "oidc"),
            ("redirect_uris", "https://crm.example.com/cb"),
            ("logout_urls", "https://crm.example.com/"),
            ("grant", "authorization_code"),
            ("grant", "password"),
            ("access_token_ttl_secs", "900"),
            ("refresh_token_ttl_secs", "3600"),
            ("id_token_alg", "RS512"),
            ("backchannel_logout_uri", "https://crm.example.com/logout"),
            ("initiate_login_uri", "https://crm.example.com/login"),
            (
                "claims",
                r#"[{"claim": "mail", "source": {"type": "user", "value": "email"}}]"#,
            ),
            ("saml", ""),
        ],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let api = server.admin().await;
    let (_, sso) = server
        .get(
            &api,
            &format!("/roster/v1/applications/{}/sso", other.app.application_id),
        )
        .await;
    assert_eq!(
        sso["grants"],
        json!(["authorization_code", "password"]),
        "{sso}"
    );
    assert_eq!(sso["access_token_ttl_secs"], json!(900));
    assert_eq!(sso["refresh_token_ttl_secs"], json!(3600));
    assert_eq!(sso["id_token_alg"], json!("RS512"));
    assert_eq!(
        sso["initiate_login_uri"],
        json!("https://crm.example.com/login")
    );
    assert_eq!(sso["claims"][0]["claim"], json!("mail"));
    // The page shows them back.
    let shown = browser.get(&app_page).await;
    assert!(shown.body.contains("value=\"900\""), "{}", shown.body);
    // A refusal says which field, and nothing changed.
    let refused = post_form(
        &browser,
        &format!("{app_page}/sign-in"),
        Some(&token),
        &[
            ("protocol", "oidc"),
            ("redirect_uris", "https://crm.example.com/cb"),
            ("claims", "[{\"claim\": \"mail\""),
        ],
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("claims is not valid JSON"),
        "{}",
        refused.body
    );
    let (_, after) = server
        .get(
            &api,
            &format!("/roster/v1/applications/{}/sso", other.app.application_id),
        )
        .await;
    assert_eq!(after, sso);
    server.stop().await;
}
