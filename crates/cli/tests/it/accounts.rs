//! The three core account operations, `ShowAppAccountById` and `ListAppAccountsByUserId`.

use crate::support::*;
use serde_json::{json, Value};

const GHOST: &str = "20210621095931341-4CB3-122995DE2";

fn authorize_path(user_id: &str, app_id: &str) -> String {
    format!("/users/{user_id}/applications/{app_id}/accounts")
}

fn account_path(app_id: &str, account_id: &str) -> String {
    format!("/applications/{app_id}/accounts/{account_id}")
}

fn basic_path(app_id: &str) -> String {
    format!("/applications/{app_id}/accounts/basic-account")
}

#[on_each_store]
async fn authorize_defaults_to_the_user_name(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.create_app(&["app_all"]).await;
    let user = server.create_user("zhangsan").await;
    let (status, body) = server
        .post(
            &token,
            &authorize_path(&user, &app.application_id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1);
    assert!(is_id(&body["account_id"]));
    let account_id = body["account_id"].as_str().unwrap();

    let (status, account) = server
        .get(&token, &account_path(&app.application_id, account_id))
        .await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["id"], account_id);
    assert_eq!(account["account_name"], "zhangsan");
    assert_eq!(account["account_type"], "BASIC_ACCOUNT");
    assert_eq!(account["disabled"], false);
    let mut keys: Vec<_> = account.as_object().unwrap().keys().cloned().collect();
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

    // Null and an empty name also mean "the user's name"; a given name is kept.
    let other_app = server.create_app(&["app_all"]).await;
    let (status, _) = server
        .post(
            &token,
            &authorize_path(&user, &other_app.application_id),
            json!({"account_name": null}),
        )
        .await;
    assert_eq!(status, 200);
    let lisi = server.create_user("lisi").await;
    let (status, body) = server
        .post(
            &token,
            &authorize_path(&lisi, &app.application_id),
            json!({"account_name": "Test01"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, account) = server
        .get(
            &token,
            &account_path(&app.application_id, body["account_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(account["account_name"], "Test01");
    // No body at all is an empty body.
    let wang = server.create_user("wang").await;
    let res = server
        .http
        .post(server.url(&authorize_path(&wang, &app.application_id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read(res).await.0, 200);
}

#[on_each_store]
async fn authorize_errors_in_order(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.create_app(&["app_all"]).await;
    let user = server.create_user("zhangsan").await;
    let other = server.create_user("lisi").await;
    let app_id = app.application_id.as_str();
    let (ghost_ghost, user_ghost) = (authorize_path(GHOST, GHOST), authorize_path(&user, GHOST));
    // Unknown user before unknown application.
    let unknown: [Refusal; 2] = [
        ("POST", &ghost_ghost, json!({}), 400, "USER.0001"),
        ("POST", &user_ghost, json!({}), 400, "APP.0001"),
    ];
    server.assert_refusals(&token, &unknown).await;
    let (to_user, to_other) = (
        authorize_path(&user, app_id),
        authorize_path(&other, app_id),
    );
    assert_eq!(server.post(&token, &to_user, json!({})).await.0, 200);
    let to_ghost = authorize_path(GHOST, app_id);
    #[rustfmt::skip]
    let cases: [Refusal; 6] = [
        // The same user again: the account exists, whatever name is asked for.
        ("POST", &to_user, json!({}), 400, "APP.ACC.0029"),
        ("POST", &to_user, json!({"account_name": "fresh"}), 400, "APP.ACC.0029"),
        // Another user, a taken name.
        ("POST", &to_other, json!({"account_name": "zhangsan"}), 400, "APP.ACC.0013"),
        // Unknown user still comes before a duplicate.
        ("POST", &to_ghost, json!({"account_name": "zhangsan"}), 400, "USER.0001"),
        // Bad bodies.
        ("POST", &to_other, json!({"account_name": 7}), 400, "PARAM.0001"),
        ("POST", &to_other, json!({"account_name": " padded "}), 400, "PARAM.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    assert_eq!(
        server.db.scalar("SELECT COUNT(*) FROM app_accounts").await,
        1
    );
}

#[on_each_store]
async fn disabled_application_takes_no_accounts(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.create_app(&["app_all"]).await;
    let user = server.create_user("zhangsan").await;
    let disable = format!(
        "{}/roster/v1/applications/{}/disable",
        server.base, app.application_id
    );
    let res = server
        .http
        .put(&disable)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("POST", &authorize_path(&user, &app.application_id), json!({}), 400, "APP.0003"),
        ("POST", &basic_path(&app.application_id), json!({"user_id": user}), 400, "APP.0003"),
    ];
    server.assert_refusals(&token, &cases).await;
    // Unknown ids still come first.
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("POST", &authorize_path(GHOST, &app.application_id), json!({}), 400, "USER.0001"),
        ("POST", &basic_path(&app.application_id), json!({"user_id": GHOST}), 400, "USER.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    assert_eq!(
        server.db.scalar("SELECT COUNT(*) FROM app_accounts").await,
        0
    );
    let enable = disable.replace("/disable", "/enable");
    assert_eq!(
        server
            .http
            .put(&enable)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        server
            .post(
                &token,
                &authorize_path(&user, &app.application_id),
                json!({})
            )
            .await
            .0,
        200
    );
}

#[on_each_store]
async fn basic_account_keeps_every_field(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.create_app(&["app_all"]).await;
    let user = server.create_user("zhangsan").await;
    let (status, org) = server
        .post(
            &token,
            &format!("/applications/{}/organizations", app.application_id),
            json!({"org_code": "10000", "name": "HQ"}),
        )
        .await;
    assert_eq!(status, 201, "{org}");
    let extension =
        json!({"dept": "R&D", "level": 7, "flags": [true, false], "deep": {"a": {"b": "c"}}});
    let (status, body) = server
        .post(
            &token,
            &basic_path(&app.application_id),
            json!({
                "user_id": user,
                "name": "Zhang San",
                "org_code": "10000",
                "password": "s3cret-Account-pw",
                "disabled": true,
                "extension": extension,
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let account_id = body["account_id"].as_str().unwrap().to_owned();
    let (_, account) = server
        .get(&token, &account_path(&app.application_id, &account_id))
        .await;
    assert_eq!(account["account_name"], "zhangsan");
    assert_eq!(account["name"], "Zhang San");
    assert_eq!(account["disabled"], true);
    assert_eq!(
        account["org_id"], org["org_id"],
        "org_code resolves to the application organization"
    );
    assert_eq!(account["extension"], extension);
    let (status, list) = server.get(&token, &format!("/users/{user}/accounts")).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["accounts"][0]["id"], account_id.as_str());
    assert_eq!(
        list["accounts"][0]["application_id"],
        app.application_id.as_str()
    );
    assert_eq!(list["accounts"][0]["account_type"], "BASIC_ACCOUNT");
    assert_eq!(list["accounts"][0]["extension"], extension);
    for text in [account.to_string(), list.to_string()] {
        assert!(
            !text.contains("s3cret-Account-pw"),
            "password echoed: {text}"
        );
        assert!(!text.contains("password"), "password field present: {text}");
    }
}

#[on_each_store]
async fn basic_account_errors(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.create_app(&["app_all"]).await;
    let user = server.create_user("zhangsan").await;
    let other = server.create_user("lisi").await;
    assert_error(
        &server
            .post(&token, &basic_path(&app.application_id), json!({}))
            .await,
        400,
        "PARAM.0001",
    );
    // The application in the path before the user in the body.
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("POST", &basic_path(GHOST), json!({"user_id": GHOST}), 400, "APP.0001"),
        ("POST", &basic_path(&app.application_id), json!({"user_id": GHOST}), 400, "USER.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    assert_eq!(
        server
            .post(
                &token,
                &basic_path(&app.application_id),
                json!({"user_id": user, "account_name": "shared"})
            )
            .await
            .0,
        201
    );
    #[rustfmt::skip]
    let cases: [Refusal; 5] = [
        ("POST", &basic_path(&app.application_id), json!({"user_id": user}), 400, "APP.ACC.0029"),
        ("POST", &basic_path(&app.application_id), json!({"user_id": other, "account_name": "shared"}), 400, "APP.ACC.0013"),
        ("POST", &basic_path(&app.application_id), json!({"user_id": other, "disabled": "yes"}), 400, "PARAM.0001"),
        ("POST", &basic_path(&app.application_id), json!({"user_id": other, "extension": "flat"}), 400, "PARAM.0001"),
        ("POST", &basic_path(&app.application_id), json!({"user_id": other, "org_code": "nowhere"}), 400, "APP_ORG.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    assert_eq!(
        server.db.scalar("SELECT COUNT(*) FROM app_accounts").await,
        1
    );
}

#[on_each_store]
async fn update_changes_only_what_is_given(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.create_app(&["app_all"]).await;
    let user = server.create_user("zhangsan").await;
    let other = server.create_user("lisi").await;
    let (_, body) = server
        .post(
            &token,
            &basic_path(&app.application_id),
            json!({"user_id": user, "name": "Zhang", "extension": {"k": "v"}}),
        )
        .await;
    let id = body["account_id"].as_str().unwrap().to_owned();
    server
        .post(
            &token,
            &authorize_path(&other, &app.application_id),
            json!({}),
        )
        .await;
    let path = account_path(&app.application_id, &id);
    let (_, before) = server.get(&token, &path).await;

    let (status, body) = server.put(&token, &path, json!({"disabled": true})).await;
    assert_eq!((status, &body), (200, &json!({"account_id": id})));
    let (_, after) = server.get(&token, &path).await;
    let mut expected = before.clone();
    expected["disabled"] = Value::Bool(true);
    assert_eq!(after, expected, "only disabled changed");

    let (status, _) = server.put(&token, &path, json!({"name": "Zhang San", "account_name": "zs", "password": "new-Secret-99", "extension": {"k2": 2}})).await;
    assert_eq!(status, 200);
    let (_, after) = server.get(&token, &path).await;
    assert_eq!(after["account_name"], "zs");
    assert_eq!(after["name"], "Zhang San");
    assert_eq!(after["disabled"], true);
    assert_eq!(
        after["extension"],
        json!({"k2": 2}),
        "extension is replaced as a whole"
    );
    assert!(!after.to_string().contains("new-Secret-99"));
    // An empty update changes nothing; renaming to its own name is no conflict.
    assert_eq!(server.put(&token, &path, json!({})).await.0, 200);
    assert_eq!(
        server
            .put(&token, &path, json!({"account_name": "zs"}))
            .await
            .0,
        200
    );
    assert_eq!(server.get(&token, &path).await.1, after);

    #[rustfmt::skip]
    let cases: [Refusal; 4] = [
        ("PUT", &path, json!({"account_name": "lisi"}), 400, "APP.ACC.0013"),
        ("PUT", &account_path(GHOST, &id), json!({}), 400, "APP.0001"),
        ("PUT", &account_path(&app.application_id, GHOST), json!({}), 400, "APP_ACCOUNT.0001"),
        ("PUT", &path, json!({"disabled": 1}), 400, "PARAM.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    assert_eq!(
        server.get(&token, &path).await.1,
        after,
        "failed updates wrote nothing"
    );
}

#[on_each_store]
async fn show_errors(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.create_app(&["app_all"]).await;
    let other_app = server.create_app(&["app_all"]).await;
    let user = server.create_user("zhangsan").await;
    let (_, body) = server
        .post(
            &token,
            &authorize_path(&user, &app.application_id),
            json!({}),
        )
        .await;
    let id = body["account_id"].as_str().unwrap();
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("GET", &account_path(GHOST, id), Value::Null, 400, "APP.0001"),
        ("GET", &account_path(&app.application_id, GHOST), Value::Null, 400, "APP_ACCOUNT.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    // An account is found only under its own application.
    assert_error(
        &server
            .get(&token, &account_path(&other_app.application_id, id))
            .await,
        400,
        "APP_ACCOUNT.0001",
    );
}

#[on_each_store]
async fn concurrent_authorize_makes_one_account(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.create_app(&["app_all"]).await;
    let user = server.create_user("zhangsan").await;
    let path = authorize_path(&user, &app.application_id);
    let calls = (0..50).map(|i| {
        let body = if i % 2 == 0 {
            json!({})
        } else {
            json!({"account_name": format!("name{i}")})
        };
        server.post(&token, &path, body)
    });
    let answers = futures::future::join_all(calls).await;
    let ok = answers.iter().filter(|a| a.0 == 200).count();
    assert_eq!(ok, 1, "{answers:?}");
    for answer in answers.iter().filter(|a| a.0 != 200) {
        assert_error(answer, 400, "APP.ACC.0029");
    }
    assert_eq!(
        server.db.scalar("SELECT COUNT(*) FROM app_accounts").await,
        1
    );
}

#[on_each_store]
async fn concurrent_names_make_one_account(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.create_app(&["app_all"]).await;
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(server.create_user(&format!("user{i}")).await);
    }
    let paths: Vec<_> = users
        .iter()
        .map(|u| authorize_path(u, &app.application_id))
        .collect();
    let calls = paths
        .iter()
        .map(|p| server.post(&token, p, json!({"account_name": "same"})));
    let answers = futures::future::join_all(calls).await;
    assert_eq!(
        answers.iter().filter(|a| a.0 == 200).count(),
        1,
        "{answers:?}"
    );
    for answer in answers.iter().filter(|a| a.0 != 200) {
        assert_error(answer, 400, "APP.ACC.0013");
    }
}

#[on_each_store]
async fn every_write_is_audited(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.create_app(&["app_all"]).await;
    let user = server.create_user("zhangsan").await;
    let (_, body) = server
        .post(
            &token,
            &authorize_path(&user, &app.application_id),
            json!({}),
        )
        .await;
    let id = body["account_id"].as_str().unwrap().to_owned();
    server
        .put(
            &token,
            &account_path(&app.application_id, &id),
            json!({"name": "n"}),
        )
        .await;
    // A failed write leaves no audit record.
    server
        .post(
            &token,
            &authorize_path(&user, &app.application_id),
            json!({}),
        )
        .await;
    let db = &server.db;
    let count = |op: &str, target: &str| {
        format!(
        "SELECT COUNT(*) FROM audit_log WHERE operation = '{op}' AND target_id = '{target}' AND actor = '{ADMIN_ID}'"
    )
    };
    assert_eq!(db.scalar(&count("CreateUser", &user)).await, 1);
    assert_eq!(db.scalar(&count("CreateAppAccountForUser", &id)).await, 1);
    assert_eq!(db.scalar(&count("UpdateAppAccount", &id)).await, 1);
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE target_id = '{}' AND actor = 'roster-cli'",
            app.application_id
        ))
        .await,
        1
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_log WHERE operation LIKE '%AppAccount%'")
            .await,
        2
    );
}
