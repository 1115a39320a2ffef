//! The web console and the portal over HTTP, as a browser without scripts uses them: people
//! with console roles sign in through the login page; what each role may do is enforced on
//! every form; forms need their token and never come from another site; revoking a role ends
//! the session; the portal lists the applications a user holds an account in.

use crate::sign_in::{fixture, hidden, Browser, Fixture, Hop, PASSWORD};
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
    // No console role: the console says so, and offers nothing.
    let refused = li.get("/console").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("You hold no console role."));
    assert!(!refused.body.contains("/console/users"));
    server.stop().await;
}

/// `text` as a query value (what the pages write, HTML-escaped where needed).
fn url_escaped(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
