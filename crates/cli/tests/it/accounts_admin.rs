//! The rest of application-account management: list, enable, disable, delete.

use crate::support::*;
use serde_json::{json, Value};

const GHOST: &str = "20210621095931341-4CB3-122995DE2";

#[on_each_store]
async fn list_enable_disable_delete(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.app_id().await;
    let mut accounts = Vec::new();
    for i in 0..12 {
        let user = server.create_user(&format!("user{i:02}")).await;
        accounts.push((user.clone(), server.authorize(&user, &app).await));
    }
    let base = format!("/applications/{app}/accounts");
    let (status, page) = server
        .get(&token, &format!("{base}?offset=0&limit=10"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 12);
    let items = page["accounts"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    let mut keys: Vec<_> = items[0].as_object().unwrap().keys().cloned().collect();
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
            "org_id",
            "roles"
        ]
    );
    let (_, second) = server
        .get(&token, &format!("{base}?offset=1&limit=10"))
        .await;
    assert_eq!(second["accounts"].as_array().unwrap().len(), 2);
    let (_, basic) = server
        .get(
            &token,
            &format!("{base}?account_type=BASIC_ACCOUNT&offset=0&limit=100"),
        )
        .await;
    assert_eq!(basic["total"], 12);
    let (_, orphans) = server
        .get(
            &token,
            &format!("{base}?account_type=ORPHAN_ACCOUNT&offset=0&limit=100"),
        )
        .await;
    assert_eq!(
        (
            orphans["total"].as_i64(),
            orphans["accounts"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("GET", &format!("{base}?account_type=ADMIN"), Value::Null, 400, "PARAM.0001"),
        ("GET", &format!("/applications/{GHOST}/accounts"), Value::Null, 400, "APP.0001"),
    ];
    server.assert_refusals(&token, &cases).await;

    let (user, account) = accounts[0].clone();
    let one = format!("{base}/{account}");
    let (status, body) = server
        .put(&token, &format!("{one}/disable"), json!({}))
        .await;
    assert_eq!((status, body), (200, json!({"account_id": account})));
    assert_eq!(server.get(&token, &one).await.1["disabled"], true);
    assert_eq!(
        server
            .put(&token, &format!("{one}/enable"), json!({}))
            .await
            .0,
        200
    );
    assert_eq!(server.get(&token, &one).await.1["disabled"], false);
    assert_error(
        &server
            .put(&token, &format!("{base}/{GHOST}/enable"), json!({}))
            .await,
        400,
        "APP_ACCOUNT.0001",
    );

    let (status, body) = server.delete(&token, &one).await;
    assert_eq!((status, body), (204, Value::Null));
    assert_error(&server.get(&token, &one).await, 400, "APP_ACCOUNT.0001");
    assert_error(&server.delete(&token, &one).await, 400, "APP_ACCOUNT.0001");
    assert_eq!(
        server
            .get(&token, &format!("/users/{user}/accounts"))
            .await
            .1["total"],
        0
    );
    assert_eq!(
        server
            .get(&token, &format!("{base}?offset=0&limit=10"))
            .await
            .1["total"],
        11
    );
    // The user can be authorized again: the uniqueness it held is released.
    server.authorize(&user, &app).await;
}
