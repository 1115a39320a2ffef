//! Roster extension: applications over HTTP.

use crate::support::*;
use serde_json::json;

const APPS: &str = "/roster/v1/applications";

#[on_each_store]
async fn register_list_show(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = server.admin().await;
    let res = server
        .http
        .post(format!("{}{APPS}", server.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "crm", "api_permissions": ["user_read"]}))
        .send()
        .await
        .unwrap();
    let (status, created) = read(res).await;
    assert_eq!(status, 201, "{created}");
    let client_id = created["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    let token = server.token_for(client_id, secret).await;
    assert_eq!(server.get(&token, "/users?offset=0&limit=10").await.0, 200);
    assert_error(
        &server
            .post(&token, "/users", json!({"user_name": "x", "mobile": "123"}))
            .await,
        403,
        "TOKEN.0005",
    );

    let res = server
        .http
        .get(format!("{}{APPS}?offset=0&limit=10", server.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let (status, list) = read(res).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 2, "the bootstrap application and crm");
    assert!(
        !list.to_string().contains(secret),
        "secrets are never listed"
    );
    let id = created["application_id"].as_str().unwrap();
    let res = server
        .http
        .get(format!("{}{APPS}/{id}", server.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let (_, shown) = read(res).await;
    assert_eq!(
        (shown["name"].as_str(), shown["api_permissions"].clone()),
        (Some("crm"), json!(["user_read"]))
    );

    // Only `all` administers applications; unknown codes are refused.
    let res = server
        .http
        .get(format!("{}{APPS}", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(&read(res).await, 403, "TOKEN.0005");
    let res = server
        .http
        .post(format!("{}{APPS}", server.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "x", "api_permissions": ["root"]}))
        .send()
        .await
        .unwrap();
    assert_error(&read(res).await, 400, "PARAM.0001");
}

#[on_each_store]
async fn disable_rotate_and_permissions_take_effect(backend: Backend) {
    let mut server = Server::start(backend).await;
    let admin = server.admin().await;
    let app = server.create_app(&["user_all"]).await;
    let token = server.token_for(&app.client_id, &app.client_secret).await;
    let id = &app.application_id;
    let put = |path: String, body: serde_json::Value| {
        server
            .http
            .put(format!("{}{APPS}/{id}{path}", server.base))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let (status, body) = read(put("/disable".into(), json!({})).await.unwrap()).await;
    assert_eq!((status, body), (200, json!({"application_id": id})));
    assert_error(
        &server.get(&token, "/users?offset=0&limit=10").await,
        401,
        "TOKEN.0003",
    );
    let again = server
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
        ])
        .await;
    assert_error(&again, 400, "APP.0003");
    assert_eq!(
        read(put("/enable".into(), json!({})).await.unwrap())
            .await
            .0,
        200
    );
    let token = server.token_for(&app.client_id, &app.client_secret).await;
    assert_eq!(server.get(&token, "/users?offset=0&limit=10").await.0, 200);

    let res = server
        .http
        .post(format!("{}{APPS}/{id}/secret", server.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let (status, rotated) = read(res).await;
    assert_eq!(status, 200);
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, app.client_secret);
    let old = server
        .token_call(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
        ])
        .await;
    assert_error(&old, 400, "TOKEN.0002");
    assert_error(
        &server.get(&token, "/users?offset=0&limit=10").await,
        401,
        "TOKEN.0003",
    );
    let token = server.token_for(&app.client_id, new_secret).await;

    let (status, shown) = read(
        put(
            "/permissions".into(),
            json!({"api_permissions": ["app_all"]}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(shown["api_permissions"], json!(["app_all"]));
    assert_error(
        &server.get(&token, "/users?offset=0&limit=10").await,
        403,
        "TOKEN.0005",
    );
    assert_error(
        &read(
            put("/permissions".into(), json!({"api_permissions": []}))
                .await
                .unwrap(),
        )
        .await,
        400,
        "PARAM.0001",
    );
    let ghost = "20210621095931341-4CB3-122995DE2";
    let res = server
        .http
        .put(format!("{}{APPS}/{ghost}/disable", server.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_error(&read(res).await, 400, "APP.0001");
}
