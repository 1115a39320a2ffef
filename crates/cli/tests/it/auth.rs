//! Authentication (401) and permissions (403) on every management route.

use crate::support::*;
use serde_json::json;

const SOME_ID: &str = "20210621095931341-4CB3-122995DE2";

/// Every management route: method, path, body, and the permission codes that grant it.
fn routes() -> Vec<(
    &'static str,
    String,
    Option<serde_json::Value>,
    &'static [&'static str],
)> {
    vec![
        (
            "POST",
            "/users".into(),
            Some(json!({"user_name": "x", "mobile": "123"})),
            &["all", "user_all"],
        ),
        (
            "GET",
            format!("/users/{SOME_ID}"),
            None,
            &["all", "user_all", "user_read"],
        ),
        (
            "GET",
            format!("/users/{SOME_ID}/accounts"),
            None,
            &["all", "user_all", "user_read"],
        ),
        (
            "POST",
            format!("/users/{SOME_ID}/applications/{SOME_ID}/accounts"),
            Some(json!({})),
            &["all", "user_all"],
        ),
        (
            "POST",
            format!("/applications/{SOME_ID}/accounts/basic-account"),
            Some(json!({"user_id": SOME_ID})),
            &["all", "app_all"],
        ),
        (
            "PUT",
            format!("/applications/{SOME_ID}/accounts/{SOME_ID}"),
            Some(json!({})),
            &["all", "app_all"],
        ),
        (
            "GET",
            format!("/applications/{SOME_ID}/accounts/{SOME_ID}"),
            None,
            &["all", "app_all", "app_read"],
        ),
    ]
}

on_each_store! {
    async fn refuses_missing_garbled_and_unknown_tokens(backend: Backend) {
        let server = Server::start(backend).await;
        for (method, path, body, _) in routes() {
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let mut no_header = server.http.request(m.clone(), server.url(&path));
            let mut garbled = server.http.request(m.clone(), server.url(&path)).header("Authorization", "Basic abc");
            let mut empty = server.http.request(m.clone(), server.url(&path)).header("Authorization", "Bearer ");
            let mut forged = server.http.request(m, server.url(&path)).bearer_auth("0".repeat(64));
            if let Some(b) = &body {
                no_header = no_header.json(b);
                garbled = garbled.json(b);
                empty = empty.json(b);
                forged = forged.json(b);
            }
            for req in [no_header, garbled, empty, forged] {
                let res = req.send().await.unwrap();
                assert_eq!(res.headers().get("www-authenticate").map(|v| v.to_str().unwrap()), Some("Bearer"));
                assert_error(&read(res).await, 401, "TOKEN.0003");
            }
        }
    }

    async fn each_route_needs_its_permission(backend: Backend) {
        let server = Server::start(backend).await;
        for code in ["user_all", "user_read", "app_all", "app_read", "org_all"] {
            let app = server.create_app(&[code]).await;
            let token = server.token_for(&app.client_id, &app.client_secret).await;
            for (method, path, body, grants) in routes() {
                let answer = server.call(method, &token, &path, body).await;
                if grants.contains(&code) {
                    assert_ne!(answer.0, 403, "{code} {method} {path}: {}", answer.1);
                    assert_ne!(answer.0, 401, "{code} {method} {path}: {}", answer.1);
                } else {
                    assert_error(&answer, 403, "TOKEN.0005");
                }
            }
        }
    }
}
