//! The rest of user management: update, delete, enable, disable, passwords, by name, list.

use crate::support::*;
use serde_json::json;

const GHOST: &str = "20210621095931341-4CB3-122995DE2";

#[on_each_store]
async fn update_changes_only_what_is_given(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let (_, body) = server
        .post(&token, "/users", json!({"user_name": "zhangsan", "mobile": "13800000001", "email": "z@example.com", "extension": {"a": 1}}))
        .await;
    let id = body["user_id"].as_str().unwrap().to_owned();
    server.create_user("lisi").await;
    let path = format!("/users/{id}");
    let (_, before) = server.get(&token, &path).await;
    let (status, body) = server
        .put(&token, &path, json!({"name": "Zhang San"}))
        .await;
    assert_eq!((status, &body), (200, &json!({"user_id": id})));
    let (_, after) = server.get(&token, &path).await;
    assert_eq!(after["name"], "Zhang San");
    for key in [
        "user_name",
        "mobile",
        "email",
        "extension",
        "pwd_must_modify",
        "created_at",
    ] {
        assert_eq!(after[key], before[key], "{key} changed");
    }
    assert_ne!(after["updated_at"], before["updated_at"]);
    let (status, _) = server.put(&token, &path, json!({"user_name": "zs", "mobile": "13800000009", "extension": {"b": 2}, "pwd_must_modify": false})).await;
    assert_eq!(status, 200);
    let (_, after) = server.get(&token, &path).await;
    assert_eq!(
        (after["user_name"].as_str(), after["mobile"].as_str()),
        (Some("zs"), Some("13800000009"))
    );
    assert_eq!(after["extension"], json!({"b": 2}));
    assert_eq!(after["pwd_must_modify"], false);
    let ghost = format!("/users/{GHOST}");
    #[rustfmt::skip]
    let cases: [Refusal; 5] = [
        ("PUT", &path, json!({"user_name": "lisi"}), 400, "USER.0002"),
        ("PUT", &path, json!({"mobile": mobile_for("lisi")}), 400, "USER.0003"),
        ("PUT", &path, json!({"org_code": "nowhere"}), 400, "ORG.0001"),
        ("PUT", &path, json!({"email": "bad"}), 400, "PARAM.0001"),
        ("PUT", &ghost, json!({"name": "x"}), 400, "USER.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    assert_eq!(
        server.get(&token, &path).await.1["user_name"],
        "zs",
        "failed updates wrote nothing"
    );
}

#[on_each_store]
async fn delete_user_deletes_its_accounts_by_default(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.app_id().await;
    let user = server.create_user("zhangsan").await;
    let account = server.authorize(&user, &app).await;
    let (status, body) = server.delete(&token, &format!("/users/{user}")).await;
    assert_eq!((status, body), (204, serde_json::Value::Null));
    #[rustfmt::skip]
    let cases: [Refusal; 3] = [
        ("GET", &format!("/users/{user}"), serde_json::Value::Null, 400, "USER.0001"),
        ("GET", &format!("/applications/{app}/accounts/{account}"), serde_json::Value::Null, 400, "APP_ACCOUNT.0001"),
        ("DELETE", &format!("/users/{user}"), serde_json::Value::Null, 400, "USER.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    // The name and mobile are free again.
    server.create_user("zhangsan").await;
}

#[on_each_store]
async fn delete_user_can_keep_orphan_accounts(backend: Backend) {
    let mut server = Server::start_with(
        backend,
        Options {
            args: &["--on-user-delete", "orphan"],
            ..Default::default()
        },
    )
    .await;
    let token = server.admin().await;
    let app = server.app_id().await;
    let user = server.create_user("zhangsan").await;
    let account = server.authorize(&user, &app).await;
    assert_eq!(
        server.delete(&token, &format!("/users/{user}")).await.0,
        204
    );
    let (status, shown) = server
        .get(&token, &format!("/applications/{app}/accounts/{account}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(shown["account_type"], "ORPHAN_ACCOUNT");
    assert_eq!(shown["account_name"], "zhangsan");
    let (_, list) = server
        .get(
            &token,
            &format!("/applications/{app}/accounts?account_type=ORPHAN_ACCOUNT&offset=0&limit=10"),
        )
        .await;
    assert_eq!(list["total"], 1);
    // A new user of the same name can be authorized once the orphan is renamed.
    let again = server.create_user("zhangsan").await;
    assert_error(
        &server
            .post(
                &token,
                &format!("/users/{again}/applications/{app}/accounts"),
                json!({}),
            )
            .await,
        400,
        "APP.ACC.0013",
    );
}

#[on_each_store]
async fn disabling_a_user_disables_its_accounts(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let (app1, app2) = (server.app_id().await, server.app_id().await);
    let user = server.create_user("zhangsan").await;
    let a1 = server.authorize(&user, &app1).await;
    let a2 = server.authorize(&user, &app2).await;
    assert_eq!(
        server
            .put(
                &token,
                &format!("/applications/{app2}/accounts/{a2}/disable"),
                json!({})
            )
            .await
            .0,
        200
    );
    let (status, body) = server
        .put(&token, &format!("/users/{user}/disable"), json!({}))
        .await;
    assert_eq!((status, body), (200, json!({"user_id": user})));
    assert_eq!(
        server.get(&token, &format!("/users/{user}")).await.1["disabled"],
        true
    );
    let disabled = |app: &str, acc: &str| format!("/applications/{app}/accounts/{acc}");
    assert_eq!(
        server.get(&token, &disabled(&app1, &a1)).await.1["disabled"],
        true
    );
    assert_eq!(
        server.get(&token, &disabled(&app2, &a2)).await.1["disabled"],
        true
    );
    // Disabling twice is harmless.
    assert_eq!(
        server
            .put(&token, &format!("/users/{user}/disable"), json!({}))
            .await
            .0,
        200
    );
    assert_eq!(
        server
            .put(&token, &format!("/users/{user}/enable"), json!({}))
            .await
            .0,
        200
    );
    assert_eq!(
        server.get(&token, &format!("/users/{user}")).await.1["disabled"],
        false
    );
    assert_eq!(
        server.get(&token, &disabled(&app1, &a1)).await.1["disabled"],
        false,
        "back with its user"
    );
    assert_eq!(
        server.get(&token, &disabled(&app2, &a2)).await.1["disabled"],
        true,
        "disabled on its own"
    );
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("PUT", &format!("/users/{GHOST}/enable"), json!({}), 400, "USER.0001"),
        ("PUT", &format!("/users/{GHOST}/disable"), json!({}), 400, "USER.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
}

#[on_each_store]
async fn passwords(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let (_, body) = server
        .post(
            &token,
            "/users",
            json!({"user_name": "zhangsan", "mobile": "13800000001", "password": "Old-pass-1"}),
        )
        .await;
    let id = body["user_id"].as_str().unwrap().to_owned();
    let verify = format!("/users/{id}/change-password-verify");
    let new = "New-pass-2";
    #[rustfmt::skip]
    let cases: [Refusal; 3] = [
        ("PUT", &verify, json!({"old_password": "wrong", "password": new}), 400, "USER.0004"),
        ("PUT", &verify, json!({"password": new}), 400, "PARAM.0001"),
        ("PUT", &verify, json!({"old_password": "Old-pass-1"}), 400, "PARAM.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    let (status, body) = server
        .put(
            &token,
            &verify,
            json!({"old_password": "Old-pass-1", "password": "New-pass-2"}),
        )
        .await;
    assert_eq!((status, body), (200, json!({"user_id": id})));
    assert_error(
        &server
            .put(
                &token,
                &verify,
                json!({"old_password": "Old-pass-1", "password": "Another-5"}),
            )
            .await,
        400,
        "USER.0004",
    );
    // Too short or too long, whoever asks.
    for bad in ["x", "1234567", &"p".repeat(129)] {
        let answer = server
            .put(
                &token,
                &format!("/users/{id}/change-password"),
                json!({"password": bad}),
            )
            .await;
        assert_error(&answer, 400, "PARAM.0001");
        assert!(
            answer.1["error_msg"]
                .as_str()
                .unwrap()
                .contains("8 to 128 characters"),
            "{}",
            answer.1
        );
    }
    assert_error(
        &server
            .post(
                &token,
                "/users",
                json!({"user_name": "short", "mobile": "13800000077", "password": "1234567"}),
            )
            .await,
        400,
        "PARAM.0001",
    );
    let admin_set = format!("/users/{id}/change-password");
    let (status, _) = server
        .put(
            &token,
            &admin_set,
            json!({"password": "Third-pass-3", "pwd_must_modify": false}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, user) = server.get(&token, &format!("/users/{id}")).await;
    assert_eq!(user["pwd_must_modify"], false);
    assert!(user["pwd_change_at"].is_string());
    assert_eq!(
        server
            .put(
                &token,
                &verify,
                json!({"old_password": "Third-pass-3", "password": "Fourth-4"})
            )
            .await
            .0,
        200
    );
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("PUT", &admin_set, json!({}), 400, "PARAM.0001"),
        ("PUT", &format!("/users/{GHOST}/change-password"), json!({"password": "Ghost-pass-1"}), 400, "USER.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    // A user without a password has no original password to verify.
    let other = server.create_user("lisi").await;
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("PUT", &format!("/users/{other}/change-password-verify"), json!({"old_password": "", "password": "Guess-pass-1"}), 400, "PARAM.0001"),
        ("PUT", &format!("/users/{other}/change-password-verify"), json!({"old_password": "guess", "password": "Guess-pass-1"}), 400, "USER.0004"),
    ];
    server.assert_refusals(&token, &cases).await;
}

#[on_each_store]
async fn show_by_username(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let id = server.create_user("zhangsan").await;
    let (status, user) = server
        .post(
            &token,
            "/users/user-by-username",
            json!({"user_name": "zhangsan"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(user["user_id"], id.as_str());
    assert_eq!(user, server.get(&token, &format!("/users/{id}")).await.1);
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("POST", "/users/user-by-username", json!({"user_name": "nobody"}), 400, "USER.0001"),
        ("POST", "/users/user-by-username", json!({}), 400, "PARAM.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
}

#[on_each_store]
async fn list_users_by_page_and_organization(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let (_, body) = server
        .post(&token, "/organizations", json!({"code": "A", "name": "A"}))
        .await;
    let org_a = body["org_id"].as_str().unwrap().to_owned();
    let (_, body) = server
        .post(&token, "/organizations", json!({"code": "B", "name": "B"}))
        .await;
    let org_b = body["org_id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for i in 0..25 {
        let org = if i < 5 { "B" } else { "A" };
        let (status, body) = server
            .post(&token, "/users", json!({"user_name": format!("u{i:02}"), "mobile": format!("1380000{i:04}"), "org_code": org}))
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["user_id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    for page in 0..3 {
        let (status, body) = server
            .get(&token, &format!("/users?offset={page}&limit=10"))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["total"], 25);
        let users = body["users"].as_array().unwrap();
        assert_eq!(users.len(), if page < 2 { 10 } else { 5 });
        assert!(users[0].get("user_org_relation_list").is_none());
        seen.extend(
            users
                .iter()
                .map(|u| u["user_id"].as_str().unwrap().to_owned()),
        );
    }
    ids.sort();
    assert_eq!(
        seen, ids,
        "pages are disjoint, ordered and cover every user"
    );
    let (_, body) = server
        .get(&token, &format!("/users?org_id={org_b}&offset=0&limit=100"))
        .await;
    assert_eq!(body["total"], 5);
    assert!(body["users"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["org_id"] == org_b.as_str()));
    let (_, body) = server
        .get(&token, &format!("/users?org_id={org_a}&offset=1&limit=10"))
        .await;
    assert_eq!(
        (
            body["total"].as_i64(),
            body["users"].as_array().map(Vec::len)
        ),
        (Some(20), Some(10))
    );
    let (_, body) = server.get(&token, "/users?org_id=&offset=0&limit=10").await;
    assert_eq!(
        body["total"], 25,
        "an empty org_id means every organization"
    );
    let (_, body) = server.get(&token, "/users?offset=9&limit=10").await;
    assert_eq!(
        (
            body["total"].as_i64(),
            body["users"].as_array().map(Vec::len)
        ),
        (Some(25), Some(0))
    );
    for bad in [
        "offset=-1",
        "limit=0",
        "limit=101",
        "offset=abc",
        "limit=1.5",
    ] {
        assert_error(
            &server.get(&token, &format!("/users?{bad}")).await,
            400,
            "PARAM.0001",
        );
    }
    assert_error(
        &server.get(&token, &format!("/users?org_id={GHOST}")).await,
        400,
        "ORG.0001",
    );
}

/// `user_org_relation_list`: the home organization ("0") and secondary ones ("1").
mod org_relations {
    use crate::support::*;
    use serde_json::{json, Value};

    async fn org(server: &Server, token: &str, code: &str) -> String {
        let (status, body) = server
            .post(token, "/organizations", json!({"code": code, "name": code}))
            .await;
        assert_eq!(status, 201, "{body}");
        body["org_id"].as_str().unwrap().to_owned()
    }

    fn relations(user: &Value) -> Vec<(String, String)> {
        user["user_org_relation_list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["org_id"].as_str().unwrap().to_owned(),
                    r["relation_type"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    #[on_each_store]
    async fn secondary_relations_round_trip(backend: Backend) {
        let mut server = Server::start(backend).await;
        let token = server.admin().await;
        let (h, a, b) = (
            org(&server, &token, "H").await,
            org(&server, &token, "A").await,
            org(&server, &token, "B").await,
        );
        let (status, body) = server
            .post(
                &token,
                "/users",
                json!({"user_name": "zhangsan", "mobile": "13800000001", "org_code": "H",
                "user_org_relation_list": [{"org_id": a, "relation_type": "1"}]}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id = body["user_id"].as_str().unwrap().to_owned();
        let path = format!("/users/{id}");
        let (_, shown) = server.get(&token, &path).await;
        assert_eq!(
            relations(&shown),
            [(h.clone(), "0".into()), (a.clone(), "1".into())]
        );
        let (_, by_name) = server
            .post(
                &token,
                "/users/user-by-username",
                json!({"user_name": "zhangsan"}),
            )
            .await;
        assert_eq!(by_name, shown);

        // UpdateUser: a list without the home organization is refused, and changes nothing.
        let refused = server.put(&token, &path, json!({"name": "x", "user_org_relation_list": [{"org_id": b, "relation_type": "1"}]})).await;
        assert_error(&refused, 400, "PARAM.0001");
        assert!(
            refused.1["error_msg"]
                .as_str()
                .unwrap()
                .contains("home organization"),
            "{}",
            refused.1
        );
        assert_eq!(server.get(&token, &path).await.1, shown);
        // "0" names only the home organization; every named organization must exist.
        assert_error(&server.put(&token, &path, json!({"user_org_relation_list": [{"org_id": h, "relation_type": "0"}, {"org_id": b, "relation_type": "0"}]})).await, 400, "PARAM.0001");
        assert_error(&server.put(&token, &path, json!({"user_org_relation_list": [{"org_id": h}, {"org_id": "20210621095931341-4CB3-122995DE2"}]})).await, 400, "ORG.0001");
        assert_error(
            &server
                .put(
                    &token,
                    &path,
                    json!({"user_org_relation_list": [{"org": h}]}),
                )
                .await,
            400,
            "PARAM.0001",
        );

        let (status, _) = server.put(&token, &path, json!({"user_org_relation_list": [{"org_id": h, "relation_type": "0"}, {"org_id": b, "relation_type": "1"}]})).await;
        assert_eq!(status, 200);
        assert_eq!(
            relations(&server.get(&token, &path).await.1),
            [(h.clone(), "0".into()), (b.clone(), "1".into())]
        );

        // An organization with a secondary member still has users.
        assert_error(
            &server.delete(&token, &format!("/organizations/{b}")).await,
            400,
            "ORG.0004",
        );
        assert_eq!(
            server
                .delete(&token, &format!("/organizations/{a}"))
                .await
                .0,
            204
        );

        // Moving home to a secondary organization: it is the home now, and only that.
        assert_eq!(
            server.put(&token, &path, json!({"org_code": "B"})).await.0,
            200
        );
        assert_eq!(
            relations(&server.get(&token, &path).await.1),
            [(b.clone(), "0".into())]
        );

        // A deleted user's relations go with it.
        assert_eq!(
            server
                .put(
                    &token,
                    &path,
                    json!({"user_org_relation_list": [{"org_id": b}, {"org_id": h}]})
                )
                .await
                .0,
            200
        );
        assert_eq!(
            relations(&server.get(&token, &path).await.1),
            [(b.clone(), "0".into()), (h.clone(), "1".into())]
        );
        assert_eq!(server.delete(&token, &path).await.0, 204);
        assert_eq!(
            server
                .db
                .scalar("SELECT COUNT(*) FROM user_org_relations")
                .await,
            0
        );
        assert_eq!(
            server
                .delete(&token, &format!("/organizations/{h}"))
                .await
                .0,
            204
        );
    }
}
