//! Each application's organization tree.

use crate::support::*;
use serde_json::{json, Value};

const GHOST: &str = "20210621095931341-4CB3-122995DE2";

#[on_each_store]
async fn create_show_update_delete(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.app_id().await;
    let other_app = server.app_id().await;
    let base = format!("/applications/{app}/organizations");
    let (status, body) = server
        .post(
            &token,
            &base,
            json!({"org_code": "10000", "name": "总部", "parent_id": ""}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let root = body["org_id"].as_str().unwrap().to_owned();
    let (status, body) = server
        .post(
            &token,
            &base,
            json!({"org_code": "10001", "name": "开发组", "parent_id": root}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let child = body["org_id"].as_str().unwrap().to_owned();
    let (status, shown) = server.get(&token, &format!("{base}/{root}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        shown,
        json!({"org_id": root, "org_code": "10000", "name": "总部", "parent_id": null})
    );
    assert_eq!(
        server.get(&token, &format!("{base}/{child}")).await.1["parent_id"],
        root.as_str()
    );

    #[rustfmt::skip]
    let cases: [Refusal; 4] = [
        ("POST", &base, json!({"org_code": "10000", "name": "again"}), 400, "APP_ORG.0003"),
        ("POST", &base, json!({"org_code": "x", "name": "x", "parent_id": GHOST}), 400, "APP_ORG.0004"),
        ("POST", &base, json!({"name": "x"}), 400, "PARAM.0001"),
        ("POST", &format!("/applications/{GHOST}/organizations"), json!({"org_code": "x", "name": "x"}), 400, "APP.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    // Codes are unique per application; another application's organization is unknown here.
    let other_base = format!("/applications/{other_app}/organizations");
    assert_eq!(
        server
            .post(
                &token,
                &other_base,
                json!({"org_code": "10000", "name": "HQ"})
            )
            .await
            .0,
        201
    );
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("GET", &format!("{other_base}/{root}"), Value::Null, 400, "APP_ORG.0001"),
        ("POST", &other_base, json!({"org_code": "y", "name": "y", "parent_id": root}), 400, "APP_ORG.0004"),
    ];
    server.assert_refusals(&token, &cases).await;

    let (status, body) = server
        .put(
            &token,
            &format!("{base}/{child}"),
            json!({"name": "Dev", "org_code": "ignored"}),
        )
        .await;
    assert_eq!((status, body), (200, json!({"org_id": child})));
    let (_, shown) = server.get(&token, &format!("{base}/{child}")).await;
    assert_eq!(
        (shown["name"].as_str(), shown["org_code"].as_str()),
        (Some("Dev"), Some("10001"))
    );
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("PUT", &format!("{base}/{root}"), json!({"parent_id": child}), 400, "APP_ORG.0006"),
        ("PUT", &format!("{base}/{GHOST}"), json!({"name": "x"}), 400, "APP_ORG.0001"),
    ];
    server.assert_refusals(&token, &cases).await;

    let (status, list) = server
        .get(&token, &format!("{base}?offset=0&limit=100"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 2);
    assert_eq!(list["organizations"].as_array().unwrap().len(), 2);

    // An organization with children or accounts stays.
    let user = server.create_user("zhangsan").await;
    let (status, _) = server
        .post(
            &token,
            &format!("/applications/{app}/accounts/basic-account"),
            json!({"user_id": user, "org_code": "10001"}),
        )
        .await;
    assert_eq!(status, 201);
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("DELETE", &format!("{base}/{root}"), Value::Null, 400, "APP_ORG.0002"),
        ("DELETE", &format!("{base}/{child}"), Value::Null, 400, "APP_ORG.0005"),
    ];
    server.assert_refusals(&token, &cases).await;
    let (_, accounts) = server
        .get(
            &token,
            &format!("/applications/{app}/accounts?offset=0&limit=10"),
        )
        .await;
    let account = accounts["accounts"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(accounts["accounts"][0]["org_id"], child.as_str());
    assert_eq!(
        server
            .delete(&token, &format!("/applications/{app}/accounts/{account}"))
            .await
            .0,
        204
    );
    let (status, body) = server.delete(&token, &format!("{base}/{child}")).await;
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(
        server.delete(&token, &format!("{base}/{root}")).await.0,
        204
    );
    assert_eq!(
        server
            .get(&token, &format!("{base}?offset=0&limit=10"))
            .await
            .1["total"],
        0
    );
}
