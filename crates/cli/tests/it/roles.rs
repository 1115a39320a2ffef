//! Application roles and their members.

use crate::support::*;
use serde_json::{json, Value};

const GHOST: &str = "20210621095931341-4CB3-122995DE2";

#[on_each_store]
async fn role_lifecycle(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.app_id().await;
    let base = format!("/applications/{app}");
    let (status, body) = server
        .post(
            &token,
            &format!("{base}/role"),
            json!({"code": "admin1", "name": "管理员1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let role = body["role_id"].as_str().unwrap().to_owned();
    assert!(is_id(&body["role_id"]));
    let (status, shown) = server.get(&token, &format!("{base}/role/{role}")).await;
    assert_eq!(status, 200);
    let mut keys: Vec<_> = shown.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["code", "createdAt", "id", "name", "updatedAt"]);
    assert_eq!(
        (shown["code"].as_str(), shown["name"].as_str()),
        (Some("admin1"), Some("管理员1"))
    );
    assert_eq!(shown["updatedAt"], Value::Null);
    assert_eq!(shown["createdAt"].as_str().map(str::len), Some(23));

    #[rustfmt::skip]
    let cases: [Refusal; 3] = [
        ("POST", &format!("{base}/role"), json!({"code": "admin1"}), 400, "ROLE.0002"),
        ("POST", &format!("{base}/role"), json!({"name": "x"}), 400, "PARAM.0001"),
        ("POST", &format!("/applications/{GHOST}/role"), json!({"code": "x"}), 400, "APP.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    let (status, body) = server
        .put(
            &token,
            &format!("{base}/role/{role}"),
            json!({"name": "Admins"}),
        )
        .await;
    assert_eq!((status, body), (200, json!({"role_id": role})));
    let (_, shown) = server.get(&token, &format!("{base}/role/{role}")).await;
    assert_eq!(shown["name"], "Admins");
    assert!(shown["updatedAt"].is_string());
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("PUT", &format!("{base}/role/{role}"), json!({}), 400, "PARAM.0001"),
        ("PUT", &format!("{base}/role/{GHOST}"), json!({"name": "x"}), 400, "ROLE.0001"),
    ];
    server.assert_refusals(&token, &cases).await;

    for code in ["r2", "r3"] {
        assert_eq!(
            server
                .post(&token, &format!("{base}/role"), json!({"code": code}))
                .await
                .0,
            200
        );
    }
    let (status, list) = server
        .get(&token, &format!("{base}/role-list?offset=0&limit=10"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            list["total"].as_i64(),
            list["offset"].as_i64(),
            list["limit"].as_i64()
        ),
        (Some(3), Some(0), Some(10))
    );
    assert_eq!(list["roles"].as_array().unwrap().len(), 3);
    let (_, list) = server
        .get(&token, &format!("{base}/role-list?offset=1&limit=2"))
        .await;
    assert_eq!(list["roles"].as_array().unwrap().len(), 1);

    // Another application does not see this role.
    let other = server.app_id().await;
    assert_error(
        &server
            .get(&token, &format!("/applications/{other}/role/{role}"))
            .await,
        400,
        "ROLE.0001",
    );

    let (status, body) = server.delete(&token, &format!("{base}/role/{role}")).await;
    assert_eq!((status, body), (200, Value::Null));
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("GET", &format!("{base}/role/{role}"), Value::Null, 400, "ROLE.0001"),
        ("DELETE", &format!("{base}/role/{role}"), Value::Null, 400, "ROLE.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
}

#[on_each_store]
async fn role_members(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.app_id().await;
    let other_app = server.app_id().await;
    let base = format!("/applications/{app}");
    let (_, body) = server
        .post(
            &token,
            &format!("{base}/role"),
            json!({"code": "admin", "name": "Admin"}),
        )
        .await;
    let role = body["role_id"].as_str().unwrap().to_owned();
    let mut accounts = Vec::new();
    for name in ["a", "b", "c"] {
        let user = server.create_user(name).await;
        accounts.push(server.authorize(&user, &app).await);
    }
    let stranger = {
        let user = server.create_user("d").await;
        server.authorize(&user, &other_app).await
    };
    let (a, b, c) = (&accounts[0], &accounts[1], &accounts[2]);
    let (status, body) = server
        .post(
            &token,
            &format!("{base}/role-member"),
            json!({"role_id": role, "account_Ids": [a, b, GHOST, stranger]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"success_list": [a, b], "fail_list": [GHOST, stranger]})
    );
    // Granting again is no failure.
    let (_, body) = server
        .post(
            &token,
            &format!("{base}/role-member"),
            json!({"role_id": role, "account_Ids": [a]}),
        )
        .await;
    assert_eq!(body, json!({"success_list": [a], "fail_list": []}));

    let (_, shown) = server.get(&token, &format!("{base}/accounts/{a}")).await;
    assert_eq!(
        shown["roles"],
        json!([{"role_id": role, "role_code": "admin", "role_name": "Admin", "privileges": []}])
    );
    // An account holding two roles is shown once, with both, in the order of their ids.
    let (_, body) = server
        .post(&token, &format!("{base}/role"), json!({"code": "audit"}))
        .await;
    let second = body["role_id"].as_str().unwrap().to_owned();
    let (_, body) = server
        .post(
            &token,
            &format!("{base}/role-member"),
            json!({"role_id": second, "account_Ids": [b]}),
        )
        .await;
    assert_eq!(body, json!({"success_list": [b], "fail_list": []}));
    let (status, shown) = server.get(&token, &format!("{base}/accounts/{b}")).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["id"], json!(b));
    let codes: Vec<&str> = shown["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["admin", "audit"]);
    let (status, members) = server
        .get(
            &token,
            &format!("{base}/role-member-list/{role}?offset=0&limit=10"),
        )
        .await;
    assert_eq!(status, 200, "{members}");
    assert_eq!(
        (
            members["total"].as_i64(),
            members["offset"].as_i64(),
            members["limit"].as_i64()
        ),
        (Some(2), Some(0), Some(10))
    );
    // The reference documents limit 10 to 100 for this list.
    let small = server
        .get(
            &token,
            &format!("{base}/role-member-list/{role}?offset=0&limit=9"),
        )
        .await;
    assert_error(&small, 400, "PARAM.0001");
    assert!(
        small.1["error_msg"]
            .as_str()
            .unwrap()
            .contains("from 10 to 100"),
        "{}",
        small.1
    );
    assert_eq!(
        server
            .get(&token, &format!("{base}/role-member-list/{role}?limit=100"))
            .await
            .0,
        200
    );
    let first = &members["role_members"][0];
    let mut keys: Vec<_> = first.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "account_name",
            "account_type",
            "disabled",
            "extension",
            "id",
            "name",
            "org_id"
        ]
    );

    let too_many: Vec<String> = (0..51).map(|_| a.clone()).collect();
    #[rustfmt::skip]
    let cases: [Refusal; 3] = [
        ("POST", &format!("{base}/role-member"), json!({"role_id": role, "account_Ids": too_many}), 400, "PARAM.0001"),
        ("POST", &format!("{base}/role-member"), json!({"role_id": GHOST, "account_Ids": [a]}), 400, "ROLE.0001"),
        ("POST", &format!("{base}/role-member"), json!({"role_id": role, "account_ids": [a]}), 400, "PARAM.0001"),
    ];
    server.assert_refusals(&token, &cases).await;

    let (status, body) = server
        .call(
            "DELETE",
            &token,
            &format!("{base}/role-member"),
            Some(json!({"role_id": role, "account_Ids": [a, c]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"success_list": [a], "fail_list": [c]}));
    assert_eq!(
        server.get(&token, &format!("{base}/accounts/{a}")).await.1["roles"],
        json!([])
    );
    assert_eq!(
        server
            .get(
                &token,
                &format!("{base}/role-member-list/{role}?offset=0&limit=10")
            )
            .await
            .1["total"],
        1
    );

    // Deleting an account or the role takes its grants along.
    assert_eq!(
        server
            .delete(&token, &format!("{base}/accounts/{b}"))
            .await
            .0,
        204
    );
    assert_eq!(
        server
            .get(
                &token,
                &format!("{base}/role-member-list/{role}?offset=0&limit=10")
            )
            .await
            .1["total"],
        0
    );
    server
        .post(
            &token,
            &format!("{base}/role-member"),
            json!({"role_id": role, "account_Ids": [c]}),
        )
        .await;
    assert_eq!(
        server
            .delete(&token, &format!("{base}/role/{role}"))
            .await
            .0,
        200
    );
    assert_eq!(
        server.get(&token, &format!("{base}/accounts/{c}")).await.1["roles"],
        json!([])
    );
}
