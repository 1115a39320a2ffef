//! Concurrent requests that compete: exactly one wins, the rest get the documented error, and
//! nothing is left half-done.

use crate::support::*;
use serde_json::json;

#[on_each_store]
async fn concurrent_duplicate_users(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    // Same user_name, different mobiles.
    let calls = (0..30).map(|i| {
        server.post(
            &token,
            "/users",
            json!({"user_name": "same", "mobile": format!("1390000{i:04}")}),
        )
    });
    let answers = futures::future::join_all(calls).await;
    assert_eq!(
        answers.iter().filter(|a| a.0 == 201).count(),
        1,
        "{answers:?}"
    );
    answers
        .iter()
        .filter(|a| a.0 != 201)
        .for_each(|a| assert_error(a, 400, "USER.0002"));
    // Same mobile, different names.
    let calls = (0..30).map(|i| {
        server.post(
            &token,
            "/users",
            json!({"user_name": format!("m{i}"), "mobile": "13800000000"}),
        )
    });
    let answers = futures::future::join_all(calls).await;
    assert_eq!(
        answers.iter().filter(|a| a.0 == 201).count(),
        1,
        "{answers:?}"
    );
    answers
        .iter()
        .filter(|a| a.0 != 201)
        .for_each(|a| assert_error(a, 400, "USER.0003"));
    assert_eq!(server.db.scalar("SELECT COUNT(*) FROM users").await, 2);
    assert_eq!(
        server
            .db
            .scalar("SELECT COUNT(*) FROM audit_log WHERE operation = 'CreateUser'")
            .await,
        2
    );
}

#[on_each_store]
async fn update_and_delete_race(backend: Backend) {
    let mut server = Server::start(backend).await;
    let token = server.admin().await;
    let app = server.app_id().await;
    let (_, role) = server
        .post(
            &token,
            &format!("/applications/{app}/role"),
            json!({"code": "r"}),
        )
        .await;
    let role = role["role_id"].as_str().unwrap().to_owned();
    for round in 0..5 {
        let user = server.create_user(&format!("u{round}")).await;
        let account = server.authorize(&user, &app).await;
        server
            .post(
                &token,
                &format!("/applications/{app}/role-member"),
                json!({"role_id": role, "account_Ids": [account]}),
            )
            .await;
        let path = format!("/applications/{app}/accounts/{account}");
        let updates = (0..10).map(|i| {
            server.put(
                &token,
                &path,
                json!({"name": format!("n{i}"), "disabled": i % 2 == 0}),
            )
        });
        let deletes = (0..3).map(|_| server.delete(&token, &path));
        let (updated, deleted) = futures::future::join(
            futures::future::join_all(updates),
            futures::future::join_all(deletes),
        )
        .await;
        for a in &updated {
            assert!(
                a.0 == 200 || a.1["error_code"] == "APP_ACCOUNT.0001",
                "{a:?}"
            );
        }
        assert_eq!(
            deleted.iter().filter(|a| a.0 == 204).count(),
            1,
            "{deleted:?}"
        );
        deleted
            .iter()
            .filter(|a| a.0 != 204)
            .for_each(|a| assert_error(a, 400, "APP_ACCOUNT.0001"));
        assert_error(&server.get(&token, &path).await, 400, "APP_ACCOUNT.0001");
    }
    assert_eq!(
        server.db.scalar("SELECT COUNT(*) FROM app_accounts").await,
        0
    );
    assert_eq!(
        server
            .db
            .scalar("SELECT COUNT(*) FROM app_role_members")
            .await,
        0,
        "no grant outlives its account"
    );
}

/// Creates that name an entity racing its deletion: each side answers its documented code
/// (never 500), and a delete that succeeded left nothing naming the deleted entity.
mod creates_racing_deletes {
    use crate::support::*;
    use serde_json::json;

    fn code(answer: &(u16, serde_json::Value)) -> String {
        match answer.0 {
            200..=299 => answer.0.to_string(),
            _ => answer.1["error_code"]
                .as_str()
                .unwrap_or("no error_code")
                .to_owned(),
        }
    }

    #[on_each_store]
    async fn users_and_organizations(backend: Backend) {
        let mut server = Server::start(backend).await;
        let token = server.admin().await;
        for round in 0..8 {
            let (_, org) = server
                .post(
                    &token,
                    "/organizations",
                    json!({"code": format!("o{round}"), "name": format!("o{round}")}),
                )
                .await;
            let org = org["org_id"].as_str().unwrap().to_owned();
            let org_path = format!("/organizations/{org}");
            let users = (0..6).map(|i| server.post(&token, "/users", json!({"user_name": format!("u{round}-{i}"), "mobile": format!("139{round:04}{i:04}"), "org_code": format!("o{round}")})));
            let children = (0..6).map(|i| server.post(&token, "/organizations", json!({"code": format!("c{round}-{i}"), "name": format!("c{i}"), "parent_id": org})));
            let delete = server.delete(&token, &org_path);
            let (users, children, deleted) = futures::future::join3(
                futures::future::join_all(users),
                futures::future::join_all(children),
                delete,
            )
            .await;
            let deleted = code(&deleted);
            assert!(
                ["204", "ORG.0004", "ORG.0003"].contains(&deleted.as_str()),
                "delete: {deleted}"
            );
            for u in &users {
                assert!(
                    ["201", "ORG.0001"].contains(&code(u).as_str()),
                    "create user: {u:?}"
                );
            }
            for c in &children {
                assert!(
                    ["201", "ORG.0002"].contains(&code(c).as_str()),
                    "create child: {c:?}"
                );
            }
            if deleted == "204" {
                assert!(
                    users.iter().chain(&children).all(|a| a.0 != 201),
                    "created under a deleted organization"
                );
            }
        }
    }

    #[on_each_store]
    async fn accounts_roles_and_app_organizations(backend: Backend) {
        let mut server = Server::start(backend).await;
        let token = server.admin().await;
        let app = server.app_id().await;
        let mut accounts = Vec::new();
        for i in 0..6 {
            let user = server.create_user(&format!("member{i}")).await;
            accounts.push(server.authorize(&user, &app).await);
        }
        for round in 0..8 {
            let (_, role) = server
                .post(
                    &token,
                    &format!("/applications/{app}/role"),
                    json!({"code": format!("r{round}")}),
                )
                .await;
            let role = role["role_id"].as_str().unwrap().to_owned();
            let (status, app_org) = server
                .post(
                    &token,
                    &format!("/applications/{app}/organizations"),
                    json!({"org_code": format!("g{round}"), "name": format!("g{round}")}),
                )
                .await;
            assert_eq!(status, 201, "{app_org}");
            let app_org = app_org["org_id"].as_str().unwrap().to_owned();
            let member_path = format!("/applications/{app}/role-member");
            let account_paths: Vec<String> = accounts
                .iter()
                .map(|a| format!("/applications/{app}/accounts/{a}"))
                .collect();
            let (role_path, org_path) = (
                format!("/applications/{app}/role/{role}"),
                format!("/applications/{app}/organizations/{app_org}"),
            );
            let grants = accounts.iter().map(|a| {
                server.post(
                    &token,
                    &member_path,
                    json!({"role_id": role, "account_Ids": [a]}),
                )
            });
            let moves = account_paths
                .iter()
                .map(|p| server.put(&token, p, json!({"org_code": format!("g{round}")})));
            let role_gone = server.delete(&token, &role_path);
            let org_gone = server.delete(&token, &org_path);
            let (grants, moves, role_gone, org_gone) = futures::future::join4(
                futures::future::join_all(grants),
                futures::future::join_all(moves),
                role_gone,
                org_gone,
            )
            .await;
            assert_eq!(code(&role_gone), "200", "{role_gone:?}");
            assert!(
                ["204", "APP_ORG.0005"].contains(&code(&org_gone).as_str()),
                "{org_gone:?}"
            );
            for g in &grants {
                let c = code(g);
                assert!(c == "200" || c == "ROLE.0001", "grant: {g:?}");
            }
            for m in &moves {
                assert!(
                    ["200", "APP_ORG.0001"].contains(&code(m).as_str()),
                    "move: {m:?}"
                );
            }
            if code(&org_gone) == "204" {
                assert!(
                    moves.iter().all(|m| m.0 != 200)
                        || server
                            .db
                            .scalar(&format!(
                                "SELECT COUNT(*) FROM app_accounts WHERE org_id = '{app_org}'"
                            ))
                            .await
                            == 0
                );
            }
            // Take the accounts out of the organization again for the next round.
            for a in &accounts {
                server
                    .put(
                        &token,
                        &format!("/applications/{app}/accounts/{a}"),
                        json!({"org_code": "g-none"}),
                    )
                    .await;
            }
        }
    }
}
