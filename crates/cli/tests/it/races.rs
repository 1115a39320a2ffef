//! Concurrent requests that compete: exactly one wins, the rest get the documented error, and
//! nothing is left half-done.

use crate::support::*;
use serde_json::json;

on_each_store! {
    async fn concurrent_duplicate_users(backend: Backend) {
        let mut server = Server::start(backend).await;
        let token = server.admin().await;
        // Same user_name, different mobiles.
        let calls = (0..30).map(|i| server.post(&token, "/users", json!({"user_name": "same", "mobile": format!("1390000{i:04}")})));
        let answers = futures::future::join_all(calls).await;
        assert_eq!(answers.iter().filter(|a| a.0 == 201).count(), 1, "{answers:?}");
        answers.iter().filter(|a| a.0 != 201).for_each(|a| assert_error(a, 400, "USER.0002"));
        // Same mobile, different names.
        let calls = (0..30).map(|i| server.post(&token, "/users", json!({"user_name": format!("m{i}"), "mobile": "13800000000"})));
        let answers = futures::future::join_all(calls).await;
        assert_eq!(answers.iter().filter(|a| a.0 == 201).count(), 1, "{answers:?}");
        answers.iter().filter(|a| a.0 != 201).for_each(|a| assert_error(a, 400, "USER.0003"));
        assert_eq!(server.db.scalar("SELECT COUNT(*) FROM users").await, 2);
        assert_eq!(server.db.scalar("SELECT COUNT(*) FROM audit_log WHERE operation = 'CreateUser'").await, 2);
    }

    async fn update_and_delete_race(backend: Backend) {
        let mut server = Server::start(backend).await;
        let token = server.admin().await;
        let app = server.app_id().await;
        let (_, role) = server.post(&token, &format!("/applications/{app}/role"), json!({"code": "r"})).await;
        let role = role["role_id"].as_str().unwrap().to_owned();
        for round in 0..5 {
            let user = server.create_user(&format!("u{round}")).await;
            let account = server.authorize(&user, &app).await;
            server.post(&token, &format!("/applications/{app}/role-member"), json!({"role_id": role, "account_Ids": [account]})).await;
            let path = format!("/applications/{app}/accounts/{account}");
            let updates = (0..10).map(|i| server.put(&token, &path, json!({"name": format!("n{i}"), "disabled": i % 2 == 0})));
            let deletes = (0..3).map(|_| server.delete(&token, &path));
            let (updated, deleted) = futures::future::join(futures::future::join_all(updates), futures::future::join_all(deletes)).await;
            for a in &updated {
                assert!(a.0 == 200 || a.1["error_code"] == "APP_ACCOUNT.0001", "{a:?}");
            }
            assert_eq!(deleted.iter().filter(|a| a.0 == 204).count(), 1, "{deleted:?}");
            deleted.iter().filter(|a| a.0 != 204).for_each(|a| assert_error(a, 400, "APP_ACCOUNT.0001"));
            assert_error(&server.get(&token, &path).await, 400, "APP_ACCOUNT.0001");
        }
        assert_eq!(server.db.scalar("SELECT COUNT(*) FROM app_accounts").await, 0);
        assert_eq!(server.db.scalar("SELECT COUNT(*) FROM app_role_members").await, 0, "no grant outlives its account");
    }
}
