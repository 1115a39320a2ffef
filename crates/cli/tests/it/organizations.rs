//! The tenant's organization tree.

use crate::support::*;
use serde_json::{json, Value};

const GHOST: &str = "20210621095931341-4CB3-122995DE2";

async fn create(server: &mut Server, body: Value) -> String {
    let token = server.admin().await;
    let (status, body) = server.post(&token, "/organizations", body).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1);
    body["org_id"].as_str().unwrap().to_owned()
}

#[on_each_store]
async fn create_show_and_rules(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let hq = create(&mut server, json!({"code": "1000000", "name": "总部"})).await;
    let (status, org) = server.get(&token, &format!("/organizations/{hq}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        org,
        json!({"org_id": hq, "org_code": "1000000", "name": "总部", "parent_id": null, "category": "department"})
    );
    let rd = create(
        &mut server,
        json!({"code": "RD_1", "name": "R&D Team", "parent_id": hq, "category": "group"}),
    )
    .await;
    let (_, org) = server.get(&token, &format!("/organizations/{rd}")).await;
    assert_eq!(
        (org["parent_id"].as_str(), org["category"].as_str()),
        (Some(hq.as_str()), Some("group"))
    );

    let orgs = "/organizations";
    #[rustfmt::skip]
    let cases: [Refusal; 8] = [
        ("POST", orgs, json!({"name": "x"}), 400, "ORG.0010"),
        ("POST", orgs, json!({"code": "x"}), 400, "ORG.0011"),
        ("POST", orgs, json!({"code": "1000000", "name": "other"}), 400, "ORG.0012"),
        ("POST", orgs, json!({"code": "a b", "name": "x"}), 400, "ORG.0014"),
        ("POST", orgs, json!({"code": "ok", "name": "a/b"}), 400, "ORG.0015"),
        ("POST", orgs, json!({"code": "ok", "name": "x", "parent_id": GHOST}), 400, "ORG.0002"),
        // Names are unique among siblings only.
        ("POST", orgs, json!({"code": "dup", "name": "R&D Team", "parent_id": hq}), 400, "ORG.0005"),
        ("POST", orgs, json!({"code": "dup", "name": "总部"}), 400, "ORG.0005"),
    ];
    server.assert_refusals(&token, &cases).await;
    let post = |body: Value| server.post(&token, "/organizations", body);
    assert_eq!(
        post(json!({"code": "dup", "name": "R&D Team", "parent_id": rd}))
            .await
            .0,
        201
    );
    assert_error(
        &server.get(&token, &format!("/organizations/{GHOST}")).await,
        400,
        "ORG.0001",
    );
}

#[on_each_store]
async fn update_moves_without_cycles(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let a = create(&mut server, json!({"code": "A", "name": "A"})).await;
    let a1 = create(
        &mut server,
        json!({"code": "A1", "name": "A1", "parent_id": a}),
    )
    .await;
    let a11 = create(
        &mut server,
        json!({"code": "A11", "name": "A11", "parent_id": a1}),
    )
    .await;
    let b = create(&mut server, json!({"code": "B", "name": "B"})).await;
    let path = |id: &str| format!("/organizations/{id}");
    let (status, body) = server
        .put(
            &token,
            &path(&a1),
            json!({"name": "A-one", "code": "", "parent_id": null}),
        )
        .await;
    assert_eq!((status, &body), (200, &json!({"org_id": a1})));
    let (_, org) = server.get(&token, &path(&a1)).await;
    assert_eq!(
        (
            org["name"].as_str(),
            org["org_code"].as_str(),
            org["parent_id"].as_str()
        ),
        (Some("A-one"), Some("A1"), Some(a.as_str()))
    );
    let (to_a, ghost) = (path(&a), path(GHOST));
    #[rustfmt::skip]
    let cases: [Refusal; 5] = [
        ("PUT", &to_a, json!({"parent_id": a11}), 400, "ORG.0006"),
        ("PUT", &to_a, json!({"parent_id": a}), 400, "ORG.0006"),
        ("PUT", &to_a, json!({"parent_id": GHOST}), 400, "ORG.0002"),
        ("PUT", &to_a, json!({"code": "B"}), 400, "ORG.0012"),
        ("PUT", &ghost, json!({"name": "x"}), 400, "ORG.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
    assert_eq!(
        server
            .put(&token, &path(&a1), json!({"parent_id": b}))
            .await
            .0,
        200
    );
    assert_eq!(
        server.get(&token, &path(&a1)).await.1["parent_id"],
        b.as_str()
    );
}

#[on_each_store]
async fn delete_only_empty_leaves(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let hq = create(&mut server, json!({"code": "HQ", "name": "HQ"})).await;
    let rd = create(
        &mut server,
        json!({"code": "RD", "name": "RD", "parent_id": hq}),
    )
    .await;
    // A user without org_code lands in the first top-level organization.
    let home = server.create_user("zhangsan").await;
    let (_, user) = server.get(&token, &format!("/users/{home}")).await;
    assert_eq!(user["org_id"], hq.as_str());
    assert_eq!(
        user["user_org_relation_list"],
        json!([{"org_id": hq, "relation_type": "0"}])
    );
    let (_, body) = server
        .post(
            &token,
            "/users",
            json!({"user_name": "lisi", "mobile": "13900000000", "org_code": "RD"}),
        )
        .await;
    let member = body["user_id"].as_str().unwrap().to_owned();
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("DELETE", &format!("/organizations/{hq}"), Value::Null, 400, "ORG.0003"),
        ("DELETE", &format!("/organizations/{rd}"), Value::Null, 400, "ORG.0004"),
    ];
    server.assert_refusals(&token, &cases).await;
    assert_eq!(
        server.delete(&token, &format!("/users/{member}")).await.0,
        204
    );
    let (status, body) = server.delete(&token, &format!("/organizations/{rd}")).await;
    assert_eq!((status, body), (204, Value::Null));
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("GET", &format!("/organizations/{rd}"), Value::Null, 400, "ORG.0001"),
        ("DELETE", &format!("/organizations/{rd}"), Value::Null, 400, "ORG.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
}

#[on_each_store]
async fn list_scopes(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let a = create(&mut server, json!({"code": "A", "name": "A"})).await;
    let a1 = create(
        &mut server,
        json!({"code": "A1", "name": "A1", "parent_id": a}),
    )
    .await;
    let a2 = create(
        &mut server,
        json!({"code": "A2", "name": "A2", "parent_id": a}),
    )
    .await;
    let a11 = create(
        &mut server,
        json!({"code": "A11", "name": "A11", "parent_id": a1}),
    )
    .await;
    let b = create(&mut server, json!({"code": "B", "name": "B"})).await;
    let ids = |body: &Value| -> Vec<String> {
        body["organizations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["org_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let cases: Vec<(String, Vec<&String>)> = vec![
        ("offset=0&limit=100".to_owned(), vec![&a, &b]),
        (
            "org_id=&all_child=true&offset=0&limit=100".to_owned(),
            vec![&a, &a1, &a2, &a11, &b],
        ),
        (format!("org_id={a}&offset=0&limit=100"), vec![&a, &a1, &a2]),
        (
            format!("org_id={a}&all_child=true&offset=0&limit=100"),
            vec![&a, &a1, &a2, &a11],
        ),
        (
            format!("org_id={a1}&all_child=false&offset=0&limit=100"),
            vec![&a1, &a11],
        ),
        (
            format!("org_id={b}&all_child=true&offset=0&limit=100"),
            vec![&b],
        ),
    ];
    for (query, expected) in cases {
        let (status, body) = server.get(&token, &format!("/organizations?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        let mut expected: Vec<String> = expected.into_iter().cloned().collect();
        expected.sort();
        assert_eq!(ids(&body), expected, "{query}");
        assert_eq!(body["total"], expected.len(), "{query}");
    }
    let (_, body) = server
        .get(&token, "/organizations?all_child=true&offset=1&limit=2")
        .await;
    assert_eq!((body["total"].as_i64(), ids(&body).len()), (Some(5), 2));
    #[rustfmt::skip]
    let cases: [Refusal; 2] = [
        ("GET", &format!("/organizations?org_id={GHOST}"), Value::Null, 400, "ORG.0001"),
        ("GET", "/organizations?all_child=maybe", Value::Null, 400, "PARAM.0001"),
    ];
    server.assert_refusals(&token, &cases).await;
}
