//! The password policy (`GET|PUT /roster/v1/password-policy`): enforced alike by every path
//! that sets a password, each broken rule named; its lock and expiry on the user APIs.

use crate::support::*;
use serde_json::{json, Value};

const POLICY: &str = "/roster/v1/password-policy";

async fn set_policy(server: &mut Server, fields: Value) -> Value {
    let admin = server.admin().await;
    let (status, body) = server.put(&admin, POLICY, fields).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn sdk_login(
    server: &Server,
    client_id: &str,
    user: &str,
    password: &str,
) -> reqwest::RequestBuilder {
    server
        .http
        .post(server.url("/api/v2/sdk/login"))
        .header("X-client-id", client_id)
        .header("X-device-fingerprint", "fp")
        .header("X-operating-sys-version", "Android 10")
        .header("X-agent", "test")
        .json(&json!({"user_name": user, "password": password}))
}

#[on_each_store]
async fn every_path_that_sets_a_password_keeps_the_policy(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = server.admin().await;
    // The configuration's policy until one is set (the tests' lock: 5, for 30 minutes).
    let (status, shown) = server.get(&admin, POLICY).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["min_length"], 8);
    assert_eq!(shown["max_failed_sign_ins"], 5);
    let policy = set_policy(
        &mut server,
        json!({"min_length": 10, "char_classes": 3, "history": 2}),
    )
    .await;
    assert_eq!(
        (
            policy["min_length"].as_u64(),
            policy["lock_minutes"].as_u64()
        ),
        (Some(10), Some(30))
    );
    // Out of range, or unknown fields: refused, nothing changed.
    let (status, body) = server.put(&admin, POLICY, json!({"history": 99})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error_msg"].as_str().unwrap().contains("history"),
        "{body}"
    );
    assert_eq!(
        server.put(&admin, POLICY, json!({"minimum": 3})).await.0,
        400
    );
    assert_eq!(server.get(&admin, POLICY).await.1["history"], 2);
    // Only `all` may read or change it.
    let reader = server.create_app(&["user_all"]).await;
    let token = server
        .token_for(&reader.client_id, &reader.client_secret)
        .await;
    assert_error(&server.get(&token, POLICY).await, 403, "TOKEN.0005");
    // CreateUser: each broken rule named.
    let create = |password: &str| json!({"user_name": format!("u{:x}", rand::random::<u32>()), "mobile": mobile_for(&format!("{:x}", rand::random::<u32>())), "password": password, "pwd_must_modify": false});
    let (status, body) = server.post(&admin, "/users", create("short1A!")).await;
    assert_eq!(status, 400);
    assert!(
        body["error_msg"].as_str().unwrap().contains("min_length"),
        "{body}"
    );
    let (status, body) = server
        .post(&admin, "/users", create("lowercase-only"))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error_msg"].as_str().unwrap().contains("char_classes"),
        "{body}"
    );
    let (status, body) = server
        .post(&admin, "/users", create("Good-password-1"))
        .await;
    assert_eq!(status, 201, "{body}");
    let user_id = body["user_id"].as_str().unwrap().to_owned();
    // UpdateUserPwd: the rules, and the history (the current password counts).
    let set = format!("/users/{user_id}/change-password");
    let (status, body) = server
        .put(&admin, &set, json!({"password": "weakpassword"}))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = server
        .put(&admin, &set, json!({"password": "Good-password-1"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error_msg"].as_str().unwrap().contains("history"),
        "{body}"
    );
    assert_eq!(
        server
            .put(&admin, &set, json!({"password": "Good-password-2"}))
            .await
            .0,
        200
    );
    // UpdateUserPwdWithOldPwd: the last two are remembered, the third back is free again.
    let verified = format!("/users/{user_id}/change-password-verify");
    let change = |old: &str, new: &str| json!({"old_password": old, "password": new});
    let (status, body) = server
        .put(
            &admin,
            &verified,
            change("Good-password-2", "Good-password-1"),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error_msg"].as_str().unwrap().contains("history"),
        "{body}"
    );
    assert_eq!(
        server
            .put(
                &admin,
                &verified,
                change("Good-password-2", "Good-password-3")
            )
            .await
            .0,
        200
    );
    assert_eq!(
        server
            .put(
                &admin,
                &verified,
                change("Good-password-3", "Good-password-1")
            )
            .await
            .0,
        200
    );
    // Audited.
    let (_, audit) = server
        .get(&admin, "/roster/v1/audit?offset=0&limit=100")
        .await;
    assert!(
        audit["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["operation"] == "UpdatePasswordPolicy"),
        "{audit}"
    );
}

/// The user APIs under the policy: its lock threshold, and a password about to expire.
#[on_each_store]
async fn the_user_apis_lock_and_warn_by_the_policy(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = server.admin().await;
    set_policy(
        &mut server,
        json!({"max_failed_sign_ins": 2, "expire_days": 5, "warn_days": 7}),
    )
    .await;
    let name = format!("u{:x}", rand::random::<u32>());
    let body = json!({"user_name": name, "mobile": mobile_for(&name), "password": "Good-password-1", "pwd_must_modify": false});
    let (_, created) = server.post(&admin, "/users", body).await;
    let user_id = created["user_id"].as_str().unwrap().to_owned();
    let app = server.create_app(&["user_read"]).await;
    server.authorize(&user_id, &app.application_id).await;
    // A password that expires within the warning days: PASSWORD_WARN, and skipping goes on.
    let (status, answer) = read(
        sdk_login(&server, &app.client_id, &name, "Good-password-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("PASSWORD_WARN")),
        "{answer}"
    );
    let state = answer["state_token"].as_str().unwrap();
    let res = server
        .http
        .get(server.url("/api/v2/sdk/pwd/skip-update"))
        .header("X-client-id", &app.client_id)
        .header("X-device-fingerprint", "fp")
        .header("X-operating-sys-version", "Android 10")
        .header("X-agent", "test")
        .header("X-state-token", state)
        .send()
        .await
        .unwrap();
    let (status, skipped) = read(res).await;
    assert_eq!(
        (status, skipped["status"].as_str()),
        (200, Some("SUCCESS")),
        "{skipped}"
    );
    // Two wrong passwords lock, as the policy says.
    let (_, first) = read(
        sdk_login(&server, &app.client_id, &name, "wrong-password")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        first["error_msg"]
            .as_str()
            .unwrap()
            .contains("Remaining attempts: 1."),
        "{first}"
    );
    let second = read(
        sdk_login(&server, &app.client_id, &name, "wrong-password")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&second, 400, "LOGIN.0001");
}

/// The login page asks for a new password when it must be changed, holds it to the policy,
/// and then signs in and goes on; the page's token is good for one change.
#[on_each_store]
async fn the_login_page_asks_for_a_password_that_must_be_changed(backend: Backend) {
    use crate::sign_in::{alert, fixture, Browser, PASSWORD, REDIRECT};
    let mut server = Server::start(backend).await;
    set_policy(&mut server, json!({"char_classes": 3})).await;
    let f = fixture(&mut server, json!({})).await;
    let admin = server.admin().await;
    let path = format!("/users/{}", f.user_id);
    assert_eq!(
        server
            .put(&admin, &path, json!({"pwd_must_modify": true}))
            .await
            .0,
        200
    );
    let authorize = format!(
        "/api/v1/oauth2/authorize?response_type=code&scope=openid&client_id={}&redirect_uri={REDIRECT}",
        f.app.client_id
    );
    let browser = Browser::new(&server);
    let hop = browser.get(&authorize).await;
    let login_page = browser.get(hop.location.as_deref().unwrap()).await.body;
    let asked = browser.submit(&login_page, &f.user_name, PASSWORD).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(
        asked.body.contains("name=\"change_token\""),
        "{}",
        asked.body
    );
    // Not signed in yet: the authorization request still goes to the login page.
    let hop = browser.get(&authorize).await;
    assert!(
        hop.location.as_deref().unwrap().starts_with("/login"),
        "{:?}",
        hop.location
    );
    let differ = browser
        .change_password(&asked.body, "New-horse-10", "New-horse-11")
        .await;
    assert_eq!(differ.status, 400);
    assert!(
        alert(&differ.body).unwrap().contains("differ"),
        "{}",
        differ.body
    );
    let weak = browser
        .change_password(&asked.body, "lowercaseonly", "lowercaseonly")
        .await;
    assert_eq!(weak.status, 400);
    assert!(
        alert(&weak.body).unwrap().contains("char_classes"),
        "{}",
        weak.body
    );
    let done = browser
        .change_password(&asked.body, "New-horse-10", "New-horse-10")
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    // Signed in: the authorization request answers with a code.
    let hop = browser.get(done.location.as_deref().unwrap()).await;
    assert!(
        hop.location.as_deref().unwrap().starts_with(REDIRECT),
        "{:?}",
        hop.location
    );
    let (_, shown) = server.get(&admin, &path).await;
    assert_eq!(shown["pwd_must_modify"], false);
    // The token was for one change.
    let again = browser
        .change_password(&asked.body, "Newer-horse-11", "Newer-horse-11")
        .await;
    assert_eq!(again.status, 401, "{}", again.body);
    // The new password signs in without a step.
    let fresh = Browser::new(&server);
    let page = fresh.get("/login").await.body;
    assert_eq!(
        fresh
            .submit(&page, &f.user_name, "New-horse-10")
            .await
            .status,
        303
    );
}

/// A password about to expire: the login page offers the change and lets it wait ("Not
/// now"), until the password must be changed.
#[on_each_store]
async fn the_login_page_warns_before_a_password_expires(backend: Backend) {
    use crate::sign_in::{alert, fixture, hidden, Browser, PASSWORD, REDIRECT};
    let mut server = Server::start(backend).await;
    // A day to live, warned a week ahead: every password is about to expire.
    set_policy(&mut server, json!({"expire_days": 1, "warn_days": 7})).await;
    let f = fixture(&mut server, json!({})).await;
    let authorize = format!(
        "/api/v1/oauth2/authorize?response_type=code&scope=openid&client_id={}&redirect_uri={REDIRECT}",
        f.app.client_id
    );
    let browser = Browser::new(&server);
    let skip = |page: String| {
        let form: Vec<(String, String)> =
            ["csrf_token", "change_token", "expires_in_days", "return_to"]
                .iter()
                .filter_map(|n| hidden(&page, n).map(|v| ((*n).to_owned(), v)))
                .chain([("skip".to_owned(), "1".to_owned())])
                .collect();
        let request = browser
            .http
            .post(format!("{}/login/password", browser.base))
            .form(&form);
        async move { request.send().await.unwrap() }
    };
    let hop = browser.get(&authorize).await;
    let login_page = browser.get(hop.location.as_deref().unwrap()).await.body;
    let warned = browser.submit(&login_page, &f.user_name, PASSWORD).await;
    assert_eq!(warned.status, 200, "{}", warned.body);
    assert!(warned.body.contains("Days left: 1"), "{}", warned.body);
    assert!(warned.body.contains("name=\"skip\""), "{}", warned.body);
    // Marked for a change meanwhile: "Not now" no longer signs in.
    let admin = server.admin().await;
    let path = format!("/users/{}", f.user_id);
    let mark = |must: bool| server.put(&admin, &path, json!({"pwd_must_modify": must}));
    assert_eq!(mark(true).await.0, 200);
    let refused = skip(warned.body.clone()).await;
    assert_eq!(refused.status(), 400);
    let refused = refused.text().await.unwrap();
    assert!(
        alert(&refused).unwrap().contains("must be changed now"),
        "{refused}"
    );
    assert_eq!(mark(false).await.0, 200);
    let skipped = skip(warned.body).await;
    assert_eq!(skipped.status(), 303);
    let back = skipped.headers()["location"].to_str().unwrap().to_owned();
    let hop = browser.get(&back).await;
    assert!(
        hop.location.as_deref().unwrap().starts_with(REDIRECT),
        "{:?}",
        hop.location
    );
}

/// The password grant does not sign in a user whose password must be changed.
#[on_each_store]
async fn the_password_grant_refuses_a_password_that_must_be_changed(backend: Backend) {
    use crate::sign_in::{client_post, creds, fixture, PASSWORD};
    let mut server = Server::start(backend).await;
    let f = fixture(
        &mut server,
        json!({"grants": ["authorization_code", "password"]}),
    )
    .await;
    let grant = [
        ("grant_type", "password"),
        ("username", f.user_name.as_str()),
        ("password", PASSWORD),
        ("scope", "openid"),
    ];
    let (status, _) = client_post(&server, "/api/v1/oauth2/token", creds(&f.app), &grant).await;
    assert_eq!(status, 200);
    let admin = server.admin().await;
    let path = format!("/users/{}", f.user_id);
    assert_eq!(
        server
            .put(&admin, &path, json!({"pwd_must_modify": true}))
            .await
            .0,
        200
    );
    let (status, body) = client_post(&server, "/api/v1/oauth2/token", creds(&f.app), &grant).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("must be changed"),
        "{body}"
    );
}
