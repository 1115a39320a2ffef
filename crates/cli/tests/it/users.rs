//! `CreateUser` and `ShowUserById`, as far as the account operations need them.

use crate::support::*;
use serde_json::json;

#[on_each_store]
async fn create_and_show_with_defaults(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let (status, body) = server
        .post(
            &token,
            "/users",
            json!({
                "user_name": "zhangsan",
                "mobile": "+86-13800000000",
                "password": "Pa55word!secret",
                "email": "zhangsan@example.com",
                "employee_id": "E001",
                "first_name": "San",
                "last_name": "Zhang",
                "attr_birthday": "1990-01-31",
                "attr_city": "Shenzhen",
                "extension": {"level": 3, "tags": ["a", "b"], "nested": {"x": null}},
                "some_future_field": "ignored"
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1);
    assert!(is_id(&body["user_id"]), "{body}");
    let user_id = body["user_id"].as_str().unwrap();

    let (status, user) = server.get(&token, &format!("/users/{user_id}")).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["user_id"], user_id);
    assert_eq!(user["user_name"], "zhangsan");
    assert_eq!(user["name"], "zhangsan", "name defaults to user_name");
    assert_eq!(user["mobile"], "+86-13800000000");
    assert_eq!(user["email"], "zhangsan@example.com");
    assert_eq!(
        user["pwd_must_modify"], true,
        "pwd_must_modify defaults to true"
    );
    assert_eq!(user["disabled"], false);
    assert_eq!(
        user["extension"],
        json!({"level": 3, "tags": ["a", "b"], "nested": {"x": null}})
    );
    let created = user["created_at"].as_str().unwrap();
    assert_eq!(created.len(), "2022-02-10 09:06:26.333".len(), "{created}");
    let text = user.to_string();
    assert!(!text.contains("Pa55word"), "password echoed: {text}");
    assert!(!text.contains("argon2"), "password hash echoed: {text}");
    // Fields the details page does not show are stored all the same; the password only
    // as an Argon2id hash.
    let stored = server
        .db
        .scalar(&format!(
            "SELECT COUNT(*) FROM users WHERE id = '{user_id}' AND employee_id = 'E001' \
             AND first_name = 'San' AND last_name = 'Zhang' AND attr_birthday = '1990-01-31' \
             AND attr_city = 'Shenzhen' AND password_hash LIKE '$argon2id$%'"
        ))
        .await;
    assert_eq!(stored, 1);
    let keys: Vec<_> = user.as_object().unwrap().keys().cloned().collect();
    for key in [
        "user_id",
        "org_id",
        "user_name",
        "name",
        "mobile",
        "email",
        "pwd_must_modify",
        "pwd_change_at",
        "created_at",
        "updated_at",
        "disabled",
        "grade",
        "locked",
        "extension",
        "user_org_relation_list",
    ] {
        assert!(keys.iter().any(|k| k == key), "missing {key}: {user}");
    }
}

#[on_each_store]
async fn user_name_and_mobile_are_unique(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let first = server
        .post(
            &token,
            "/users",
            json!({"user_name": "li", "mobile": "13900000001"}),
        )
        .await;
    assert_eq!(first.0, 201);
    let same_name = server
        .post(
            &token,
            "/users",
            json!({"user_name": "li", "mobile": "13900000002"}),
        )
        .await;
    assert_error(&same_name, 400, "USER.0002");
    let same_mobile = server
        .post(
            &token,
            "/users",
            json!({"user_name": "li2", "mobile": "13900000001"}),
        )
        .await;
    assert_error(&same_mobile, 400, "USER.0003");
    assert_eq!(server.db.scalar("SELECT COUNT(*) FROM users").await, 1);
}

#[on_each_store]
async fn bad_bodies_get_400_and_write_nothing(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let cases = [
        (json!({"mobile": "13900000001"}), "PARAM.0001", "user_name"),
        (json!({"user_name": "wang"}), "PARAM.0001", "mobile"),
        (
            json!({"user_name": "", "mobile": "13900000001"}),
            "PARAM.0001",
            "user_name",
        ),
        (
            json!({"user_name": 5, "mobile": "13900000001"}),
            "PARAM.0001",
            "invalid type",
        ),
        (
            json!({"user_name": "wang", "mobile": "not a phone"}),
            "PARAM.0001",
            "mobile",
        ),
        (
            json!({"user_name": "wang", "mobile": "139", "email": "nope"}),
            "PARAM.0001",
            "email",
        ),
        (
            json!({"user_name": "wang", "mobile": "139", "attr_birthday": "1990-13-01"}),
            "PARAM.0001",
            "attr_birthday",
        ),
        (
            json!({"user_name": "wang", "mobile": "139", "extension": [1, 2]}),
            "PARAM.0001",
            "invalid type",
        ),
        (
            json!({"user_name": "x".repeat(65), "mobile": "139"}),
            "PARAM.0001",
            "user_name",
        ),
        (json!(["user_name"]), "PARAM.0001", "JSON object"),
    ];
    for (body, code, mentions) in cases {
        let answer = server.post(&token, "/users", body.clone()).await;
        assert_error(&answer, 400, code);
        let msg = answer.1["error_msg"].as_str().unwrap();
        assert!(msg.contains(mentions), "{body} → {msg}");
    }
    for raw in ["{\"user_name\":", "not json", "{\"user_name\": \"a\",}"] {
        let res = server
            .http
            .post(server.url("/users"))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_error(&read(res).await, 400, "PARAM.0002");
    }
    let unknown_org = server
        .post(
            &token,
            "/users",
            json!({"user_name": "wang", "mobile": "139", "org_code": "nowhere"}),
        )
        .await;
    assert_error(&unknown_org, 400, "ORG.0001");
    assert_eq!(server.db.scalar("SELECT COUNT(*) FROM users").await, 0);
}

#[on_each_store]
async fn unknown_or_malformed_user_ids(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    for id in [
        "20210621095931341-4CB3-122995DE2",
        "nonsense",
        "%20",
        "x'%20OR%20'1'='1",
    ] {
        assert_error(
            &server.get(&token, &format!("/users/{id}")).await,
            400,
            "USER.0001",
        );
        assert_error(
            &server.get(&token, &format!("/users/{id}/accounts")).await,
            400,
            "USER.0001",
        );
    }
}

/// Look-alike user names and mobiles cannot coexist; mobiles are still shown as given.
mod look_alikes {
    use crate::support::*;
    use serde_json::json;

    #[on_each_store]
    async fn look_alike_names_and_mobiles_are_refused(backend: Backend) {
        let mut server = Server::start(backend).await;
        let token = server.admin().await;
        let (status, body) = server
            .post(
                &token,
                "/users",
                json!({"user_name": "zhangsan", "mobile": "138-0000-0001"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id = body["user_id"].as_str().unwrap().to_owned();
        for name in ["ZhangSan", "ｚｈａｎｇｓａｎ", "ZHANGSAN"] {
            assert_error(
                &server
                    .post(
                        &token,
                        "/users",
                        json!({"user_name": name, "mobile": "13900000009"}),
                    )
                    .await,
                400,
                "USER.0002",
            );
        }
        for name in ["zhang\u{200B}san", "zhang\u{202E}nas", "\u{FEFF}lisi"] {
            let answer = server
                .post(
                    &token,
                    "/users",
                    json!({"user_name": name, "mobile": "13900000009"}),
                )
                .await;
            assert_error(&answer, 400, "PARAM.0001");
            assert!(
                answer.1["error_msg"]
                    .as_str()
                    .unwrap()
                    .contains("invisible"),
                "{}",
                answer.1
            );
        }
        for mobile in ["13800000001", "+13800000001", "1-3800000001"] {
            assert_error(
                &server
                    .post(
                        &token,
                        "/users",
                        json!({"user_name": "lisi", "mobile": mobile}),
                    )
                    .await,
                400,
                "USER.0003",
            );
        }
        // Composed and decomposed accents are one name.
        assert_eq!(
            server
                .post(
                    &token,
                    "/users",
                    json!({"user_name": "José", "mobile": "13900000001"})
                )
                .await
                .0,
            201
        );
        assert_error(
            &server
                .post(
                    &token,
                    "/users",
                    json!({"user_name": "Jose\u{301}", "mobile": "13900000002"}),
                )
                .await,
            400,
            "USER.0002",
        );
        // Shown as given; found by any look-alike of its name.
        let (_, shown) = server.get(&token, &format!("/users/{id}")).await;
        assert_eq!(shown["mobile"], "138-0000-0001");
        let (status, found) = server
            .post(
                &token,
                "/users/user-by-username",
                json!({"user_name": "ZhangSan"}),
            )
            .await;
        assert_eq!(
            (status, found["user_id"].as_str()),
            (200, Some(id.as_str()))
        );
        // Renaming into a look-alike of another user is refused too.
        let (_, other) = server
            .post(
                &token,
                "/users",
                json!({"user_name": "wangwu", "mobile": "13900000003"}),
            )
            .await;
        let other = other["user_id"].as_str().unwrap().to_owned();
        assert_error(
            &server
                .put(
                    &token,
                    &format!("/users/{other}"),
                    json!({"user_name": "ZHANGSAN"}),
                )
                .await,
            400,
            "USER.0002",
        );
        assert_error(
            &server
                .put(
                    &token,
                    &format!("/users/{other}"),
                    json!({"mobile": "+138 0000 0001".replace(' ', "-")}),
                )
                .await,
            400,
            "USER.0003",
        );
        // A user may change the case of its own name.
        assert_eq!(
            server
                .put(
                    &token,
                    &format!("/users/{id}"),
                    json!({"user_name": "ZhangSan"})
                )
                .await
                .0,
            200
        );
    }
}
